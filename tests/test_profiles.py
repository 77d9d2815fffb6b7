from __future__ import annotations

from pathlib import Path

import pytest

from banditmap.errors import BanditmapError
from banditmap.model import Catalog
from banditmap.profiles import check_assignments, parse_assignment, read_profile


def _check(catalog: Catalog, **answers: object) -> dict:
    return check_assignments([(k, str(v)) for k, v in answers.items()], catalog.traits, catalog.rules)


def test_numbers_and_choices_are_parsed(catalog: Catalog) -> None:
    got = _check(catalog, action_space="many", n_actions="1e5", multi_objective="no", horizon="1_000")
    assert got == {"action_space": "many", "n_actions": 100000, "multi_objective": "no", "horizon": 1000}


@pytest.mark.parametrize("answers, needle", [
    ({"reward_type": "clicks"}, "'clicks' is not a value of reward_type; expected one of binary, continuous"),
    ({"colour": "red"}, "colour: unknown trait; expected one of formulation, reward_type"),
    ({"n_actions": "lots"}, "expected a number for n_actions, got 'lots'"),
    ({"n_actions": "-3"}, "expected n_actions between 1 and 1e+09, got -3"),
    ({"n_actions": "2.5"}, "expected a whole number for n_actions"),
    ({"n_actions": "nan"}, "expected a number for n_actions"),
    ({"action_space": "few", "n_actions": "100000"}, "n_actions=100000 contradicts action_space=few"),
    ({"action_structure": "ranking", "slate_size": "10", "n_actions": "5"},
     "slate_size=10 contradicts action_structure=ranking"),
    ({"context": "none", "n_features": "10"}, "n_features=10 contradicts context=none"),
    ({"action_space": "continuous", "action_structure": "ranking"},
     "action_structure=ranking contradicts action_space=continuous"),
    ({"feedback": "pairwise", "reward_type": "continuous"}, "reward_type=continuous contradicts feedback=pairwise"),
])
def test_bad_answers_are_refused(catalog: Catalog, answers: dict, needle: str) -> None:
    with pytest.raises(BanditmapError) as info:
        _check(catalog, **answers)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["novalue", "=x", "trait=", ""])
def test_bad_assignment(text: str) -> None:
    with pytest.raises(BanditmapError, match="expected trait=value"):
        parse_assignment(text)


def test_profile_file_flat_or_nested(tmp_path: Path, catalog: Catalog) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text("reward_type: binary\ncontext: linear\nn_features: 12\n")
    nested = tmp_path / "nested.yaml"
    nested.write_text("name: Shop\nprofile:\n  reward_type: binary\n  context: linear\n  n_features: 12\n")
    assert read_profile(flat, catalog.traits, catalog.rules).answers == \
        read_profile(nested, catalog.traits, catalog.rules).answers
    assert read_profile(nested, catalog.traits, catalog.rules).name == "Shop"


def test_profile_error_names_file_line_and_field(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("profile:\n  reward_type: binary\n  action_space: few\n  n_actions: 100000\n")
    with pytest.raises(BanditmapError) as info:
        read_profile(path, catalog.traits, catalog.rules)
    assert str(info.value).startswith(f"{path}:4: profile.n_actions: n_actions=100000 contradicts action_space=few")


@pytest.mark.parametrize("text, needle", [
    ("", "the file is empty"),
    ("- a\n- b\n", "expected a mapping of trait: value"),
    ("profile: {}\nextra: 1\n", "extra: unknown field"),
])
def test_profile_file_shape(tmp_path: Path, catalog: Catalog, text: str, needle: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(BanditmapError, match=needle):
        read_profile(path, catalog.traits, catalog.rules)


def test_missing_profile_file(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(BanditmapError, match="file not found"):
        read_profile(tmp_path / "missing.yaml", catalog.traits, catalog.rules)
