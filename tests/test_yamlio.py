from __future__ import annotations

import pytest

from banditmap.catalog.yamlio import format_path, load_text
from banditmap.errors import BanditmapError


def test_lines_are_recorded_for_nested_values() -> None:
    doc = load_text("a: 1\nb:\n  - x\n  - {c: 2}\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": 2}]}
    assert doc.line_of(("b", 1, "c")) == 4
    assert doc.line_of(("b", 7)) == 3  # falls back to the nearest ancestor


def test_yes_and_no_stay_words() -> None:
    assert load_text("x: no\ny: yes\nz: true\n", "f").data == {"x": "no", "y": "yes", "z": True}


@pytest.mark.parametrize("text, expected", [
    ("a: [1,\n", "f.yaml:2: malformed YAML"),
    ("a: 1\na: 2\n", "f.yaml:2: a: key 'a' appears twice"),
    ("a: !!python/object/apply:os.system [ls]\n", "f.yaml:1: unsupported YAML value"),
    ("? [a, b]\n: 1\n", "f.yaml:1: mapping keys must be plain words"),
])
def test_bad_yaml_is_one_line_naming_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(BanditmapError) as info:
        load_text(text, "f.yaml")
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_format_path() -> None:
    assert format_path(("algorithms", 0, "handles", "context")) == "algorithms[0].handles.context"
