"""The bad-input suite: generated garbage for every reader (profiles, --set, batches, user catalogs, replies to
ask) and every writer. Each run ends within seconds with its documented status; a refusal is one line on
stderr naming the file (and line, where there is one); no traceback; JSON output is strict; nothing is written."""

from __future__ import annotations

import json
import math
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from banditmap.catalog.loading import builtin_dir
from banditmap.cli.app import app

FAST = settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture],
                derandomize=True)
runner = CliRunner()

TRAITS = ["reward_type", "feedback_delay", "objective", "constraints", "action_space", "n_actions",
          "action_structure", "slate_size", "context", "n_features", "environment", "horizon", "logged_data"]
NASTY_TEXT = st.sampled_from(["", " ", "few", "many", "binary", "²", "١٢", "1e308", "-1", "nan", "inf", "1_000",
                              "9" * 400, "\x1b[31mred", "a\x00b", "é", "\u202eevil", "x" * 5000, "yes", "no", "0x10"])
NASTY_VALUE = st.one_of(
    NASTY_TEXT, st.integers(min_value=-(10**400), max_value=10**400), st.floats(allow_nan=True),
    st.booleans(), st.none(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                   st.integers(), max_size=2))
YAML_ALPHABET = string.ascii_letters + string.digits + " :-[]{}&*!|>#'\",\n\t\x01\x1b²é"


def invoke(args: list[str], stdin: str | bytes | None = None) -> Any:
    result = runner.invoke(app, args, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the suite fails with it
    return result


def refusal(result: Any, *places: str) -> str:
    """The one error line of a refused run, which names each of `places`."""
    assert result.exit_code == 2, (result.exit_code, result.output[-500:])
    errors = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("banditmap: error: ") and len(errors[0]) < 2200, errors[0][:300]
    for place in places:
        assert place in errors[0], (place, errors[0])
    return errors[0]


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def ok_or_refused(result: Any, *places: str) -> None:
    if result.exit_code == 0:
        return
    refusal(result, *places)


# --- profiles ---------------------------------------------------------------------------------------------------

@FAST
@given(answers=st.dictionaries(st.sampled_from(TRAITS + ["unknown_trait", "name"]), NASTY_VALUE, max_size=5),
       nested=st.booleans())
def test_generated_profiles_are_accepted_or_refused_in_one_line(tmp_path: Path, answers: dict[str, Any],
                                                                nested: bool) -> None:
    path = tmp_path / "profile.yaml"
    body: Any = {"profile": answers} if nested else answers
    path.write_text(yaml.safe_dump(body, allow_unicode=True) if body else "")
    result = invoke(["recommend", "--profile", str(path), "--format", "json"])
    ok_or_refused(result, str(path))
    if result.exit_code == 0:
        strict_json(result.stdout)


@FAST
@given(text=st.text(alphabet=YAML_ALPHABET, max_size=200))
def test_generated_yaml_text_is_accepted_or_refused_in_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    ok_or_refused(invoke(["recommend", "--profile", str(path), "--format", "json"]), str(path))


@FAST
@given(raw=st.binary(max_size=120))
def test_generated_bytes_as_a_profile(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(raw)
    ok_or_refused(invoke(["recommend", "--profile", str(path), "--format", "json"]), str(path))


def alias_bomb(levels: int) -> str:
    text = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels + 1):
        text += f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    return text


@pytest.mark.parametrize("text, message", [
    (alias_bomb(9), "expands to more than"),
    ("a: &a [*a]\n", "nested more than"),
    ("[" * 5000 + "]" * 5000 + "\n", "nest"),
    ("n_actions: " + "9" * 400 + "\n", "too large"),
    ("n_actions: " + "9" * 5000 + "\n", "unsupported YAML value"),
    ("n_actions: 5\nname: \x01x\n", "U+0001"),
    ('name: "a\\e[31mred"\nn_actions: 5\n', "control characters"),
    ("n_actions: ²\n", "expected a number"),
])
def test_hostile_yaml_ends_quickly_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    for args in (["recommend", "--profile", str(path)], ["ask", "--resume", str(path)]):
        assert message in refusal(invoke(args, stdin=""), str(path))


def test_hostile_yaml_in_a_user_catalog(user_catalog: Path) -> None:
    (user_catalog / "algorithms" / "bomb.yaml").write_text(alias_bomb(9))
    line = refusal(invoke(["recommend", "--catalog", str(user_catalog), "--usecase", "homepage-banner"]))
    assert "bomb.yaml" in line and "expands to more than" in line


def test_a_huge_bad_value_is_not_echoed_whole(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("reward_type: " + "x" * 15_000 + "\n")
    assert len(refusal(invoke(["recommend", "--profile", str(path)]), str(path))) < 400
    assert len(refusal(invoke(["recommend", "--set", "reward_type=" + "y" * 100_000]), "--set")) < 400


def test_latin1_byte_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"reward_type: binary\nname: caf\xe9\n")
    assert "byte 0xe9" in refusal(invoke(["recommend", "--profile", str(path)]), f"{path}:2")


# --- --set ------------------------------------------------------------------------------------------------------

@FAST
@given(trait=st.sampled_from(TRAITS + ["", "nope", "n_actions "]), value=NASTY_TEXT)
def test_generated_set_values(trait: str, value: str) -> None:
    result = invoke(["recommend", "--set", f"{trait}={value}", "--format", "json"])
    ok_or_refused(result, "--set")
    if result.exit_code == 0:
        strict_json(result.stdout)


# --- batches ----------------------------------------------------------------------------------------------------

def batch_lines_are_sound(result: Any) -> None:
    assert result.exit_code in (0, 1, 2), result.output
    for line in result.stderr.splitlines():
        assert line.startswith("banditmap: error: "), line
    if result.exit_code == 2:
        refusal(result)
        return
    for line in result.stdout.splitlines():
        strict_json(line)


@FAST
@given(cases=st.lists(st.dictionaries(st.sampled_from(TRAITS + ["id", "usecase", "profile"]), NASTY_VALUE,
                                      max_size=4), max_size=4))
def test_generated_json_lines_batches(cases: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(c, default=str) + "\n" for c in cases)
    batch_lines_are_sound(invoke(["recommend", "--batch", "-", "--top", "2"], stdin=text))


@FAST
@given(text=st.text(alphabet=string.ascii_letters + string.digits + ',"\n\r\x00é²{}[]:', max_size=200))
def test_generated_csv_and_text_batches(text: str) -> None:
    batch_lines_are_sound(invoke(["recommend", "--batch", "-", "--top", "1"], stdin="id,n_actions\n" + text))
    batch_lines_are_sound(invoke(["recommend", "--batch", "-", "--top", "1"], stdin=text))


def test_deep_json_and_duplicate_ids_are_case_errors() -> None:
    deep = '{"id": "deep", "n_actions": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    twice = '{"id": "a", "n_actions": 5}\n{"id": "a", "n_actions": 6}\n'
    result = invoke(["recommend", "--batch", "-", "--top", "1"], stdin=deep + twice)
    assert result.exit_code == 1
    rows = [strict_json(line) for line in result.stdout.splitlines()]
    assert "nested too deeply" in rows[0]["error"]
    assert rows[1]["error"] is None and "appears twice (first on line 2)" in rows[2]["error"]


def test_csv_batch_lines_count_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text('id,name,n_actions\na,"two\nlines",5\nb,ok,abc\n')
    result = invoke(["recommend", "--batch", str(path)])
    assert f"{path}:4: case b: n_actions" in result.stderr


def test_a_non_utf8_batch_on_standard_input_names_the_line() -> None:
    result = invoke(["recommend", "--batch", "-"], stdin=b"id,n_actions\na,5\nb\xff,6\n")
    assert "byte 0xff" in refusal(result, "<stdin>:3")


# --- user catalogs ----------------------------------------------------------------------------------------------

def first_algorithm() -> tuple[str, dict[str, Any]]:
    path = sorted((builtin_dir() / "algorithms").glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text())
    return path.name, data


@FAST
@given(key=st.sampled_from(["id", "name", "family", "summary", "maturity", "handles", "prefers", "suits",
                            "references", "hyperparameters", "cost", "implementations", "caveats", "simulator",
                            "why"]),
       value=NASTY_VALUE, delete=st.booleans())
def test_generated_broken_catalog_entries(tmp_path: Path, key: str, value: Any, delete: bool) -> None:
    name, data = first_algorithm()
    entry = dict(data["algorithms"][0])
    entry["id"] = "my-algo"
    if delete:
        entry.pop(key, None)
    else:
        entry[key] = value
    folder = tmp_path / "cat"
    (folder / "algorithms").mkdir(parents=True, exist_ok=True)
    target = folder / "algorithms" / name
    target.write_text(yaml.safe_dump({**data, "algorithms": [entry]}, allow_unicode=True))
    ok_or_refused(invoke(["catalog", "validate", str(folder)]), str(target))
    ok_or_refused(invoke(["recommend", "--catalog", str(folder), "--usecase", "homepage-banner"]), str(target))


# --- replies to ask ---------------------------------------------------------------------------------------------

@FAST
@given(replies=st.lists(st.sampled_from(["", "?", "-", "1", "99", "²", "0", "9" * 5000, "few", "\x1b[2J", "é",
                                         "-1", "1e308", "nan"]), max_size=25))
def test_generated_replies_to_ask(tmp_path: Path, replies: list[str]) -> None:
    target = tmp_path / "out" / "p.yaml"
    target.parent.mkdir(exist_ok=True)
    for leftover in target.parent.iterdir():
        leftover.unlink()
    result = invoke(["ask", "--save", str(target)], stdin="".join(r + "\n" for r in replies))
    assert result.exit_code in (0, 1, 2), result.output[-500:]
    assert "Traceback" not in result.output


# --- writers ----------------------------------------------------------------------------------------------------

WRITERS = [
    ["bench", "--set", "n_actions=3", "--rounds", "50", "--reps", "2", "-a", "ucb1", "--no-baseline", "--out"],
    ["map", "--format", "svg"],
    ["make-logs", "--set", "n_actions=3", "--rows", "20"],
]


@pytest.mark.parametrize("command", WRITERS, ids=["bench --out", "map", "make-logs"])
@pytest.mark.parametrize("problem", ["folder", "missing folder", "exists"])
def test_every_writer_checks_its_destination_first(tmp_path: Path, command: list[str], problem: str) -> None:
    suffix = ".csv" if command[0] == "make-logs" else ".svg" if command[0] == "map" else ".json"
    (tmp_path / "folder").mkdir()
    existing = tmp_path / f"existing{suffix}"
    existing.write_text("keep me")
    target = {"folder": tmp_path / "folder", "missing folder": tmp_path / "nope" / f"x{suffix}",
              "exists": existing}[problem]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    refusal(invoke(command + [str(target)]), str(target))
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert existing.read_text() == "keep me"
    if problem == "exists":
        assert invoke(command + [str(target), "--force"]).exit_code == 0
        assert existing.read_text() != "keep me"


def test_nothing_is_written_when_the_command_fails_after_its_work(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    for plot in (tmp_path / "nope" / "p.png", tmp_path / "p.txt", tmp_path):
        result = invoke(["bench", "--set", "n_actions=3", "--rounds", "50", "--reps", "2", "-a", "ucb1",
                         "--out", str(out), "--plot", str(plot)])
        refusal(result, "--plot")
        assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def test_json_output_has_no_infinity_or_nan() -> None:
    result = invoke(["bench", "--set", "n_actions=3", "--rounds", "30", "--reps", "1", "-a", "ucb1",
                     "--format", "json"])
    assert result.exit_code == 0, result.output
    data = strict_json(result.stdout)

    def finite(value: Any) -> None:
        if isinstance(value, float):
            assert math.isfinite(value)
        elif isinstance(value, dict):
            for v in value.values():
                finite(v)
        elif isinstance(value, list):
            for v in value:
                finite(v)
    finite(data)


def test_terminal_escapes_in_a_user_catalog_are_refused_by_validate(tmp_path: Path) -> None:
    name, data = first_algorithm()
    entry = {**data["algorithms"][0], "id": "my-algo", "name": "Evil \x1b[2J\x1b[31mred"}
    folder = tmp_path / "cat"
    (folder / "algorithms").mkdir(parents=True)
    target = folder / "algorithms" / name
    target.write_text(yaml.safe_dump({**data, "algorithms": [entry]}, allow_unicode=True))
    line = refusal(invoke(["catalog", "validate", str(folder)]), str(target))
    assert "control characters" in line and "\x1b" not in line


def test_a_user_entry_naming_no_simulator_is_one_line(tmp_path: Path) -> None:
    name, data = first_algorithm()
    entry = {**data["algorithms"][0], "id": "my-algo", "simulator": "no-such-policy"}
    folder = tmp_path / "cat"
    (folder / "algorithms").mkdir(parents=True)
    target = folder / "algorithms" / name
    target.write_text(yaml.safe_dump({"algorithms": [entry]}))
    for args in (["catalog", "validate", str(folder)], ["catalog", "validate", str(target)],
                 ["bench", "--catalog", str(folder), "--set", "n_actions=3", "-a", "my-algo", "--rounds", "20"]):
        line = refusal(invoke(args), str(target), "simulator")
        assert "no-such-policy" in line and "does not exist" in line


def test_replay_writes_nothing_when_it_fails_after_its_work(tmp_path: Path) -> None:
    logs = tmp_path / "logs.csv"
    assert invoke(["make-logs", str(logs), "--set", "n_actions=3", "--rows", "300"]).exit_code == 0
    out = tmp_path / "replay.json"
    for plot in (tmp_path / "nope" / "p.png", tmp_path / "p.gif", tmp_path):
        result = invoke(["replay", str(logs), "-a", "ucb1", "--out", str(out), "--plot", str(plot)])
        refusal(result, "--plot")
        assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["logs.csv"]


@pytest.mark.parametrize("args", [["usecases"], ["recommend", "--usecase", "homepage-banner", "--format", "json"],
                                  ["map", "--sources"], ["catalog", "show", "ucb1"]])
def test_an_ascii_only_stream_gets_escapes_not_a_traceback(tmp_path: Path, args: list[str]) -> None:
    import os
    import subprocess
    import sys
    profile = tmp_path / "p.yaml"
    profile.write_text("name: Café ☕ shop\nprofile:\n  n_actions: 5\n", encoding="utf-8")
    extra = ["--profile", str(profile)] if args[0] == "recommend" else []
    env = dict(os.environ, PYTHONIOENCODING="ascii", PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.run([sys.executable, "-m", "banditmap", *args, *extra], capture_output=True, env=env,
                          timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr[-500:]
    proc.stdout.decode("ascii")  # nothing but ASCII reached the stream
    if "json" in args:
        assert json.loads(proc.stdout)["profile"]["name"].endswith("Café ☕ shop")  # escaped, still valid JSON


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import os
    target = tmp_path / "map.svg"
    assert invoke(["map", "--format", "svg", str(target)]).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # as any new file, not a private temporary file
    target.chmod(0o640)
    assert invoke(["map", "--format", "svg", str(target), "--force"]).exit_code == 0
    assert target.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its permissions
