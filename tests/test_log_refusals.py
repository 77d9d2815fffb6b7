"""Refusals of the log reader and writer: every bad log gets one line naming the file, the line (or Parquet row)
and the column, never a traceback, a warning or a wrong number; generated logs are written atomically; a replay
with one seed is the same byte for byte apart from its timings."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banditmap.errors import BanditmapError
from banditmap.ope import logfiles, logs, replay, synthetic
from banditmap.sim.policies import build
from banditmap.sim.runner import RunSpec


def environment(n_actions: int = 4, n_features: int = 2, binary: bool = True) -> synthetic.LogEnvironment:
    return synthetic.make_environment(n_actions, n_features, binary, np.random.default_rng(0))


# --- writing generated logs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["log.parquet", "log.PQ"])
def test_write_log_writes_parquet_holding_what_the_csv_holds(tmp_path: Path, name: str) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    env = environment(4, 3, binary=False)
    policy = synthetic.LoggingPolicy("softmax")
    synthetic.write_log(tmp_path / "log.csv", env, policy, 1200, seed=5, positions=2)
    synthetic.write_log(tmp_path / name, env, policy, 1200, seed=5, positions=2)
    assert (tmp_path / name).read_bytes()[:4] == b"PAR1"
    assert pq.read_schema(tmp_path / name).names == (tmp_path / "log.csv").read_text().splitlines()[0].split(",")
    with logs.read_logs(tmp_path / "log.csv", chunk_rows=500) as text, \
            logs.read_logs(tmp_path / name, chunk_rows=500) as table:
        for a, b in zip(text.chunks(), table.chunks(), strict=True):
            for field in ("actions", "rewards", "propensities", "contexts"):
                assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["log.csv", name])  # no temporary file left


def test_write_log_refuses_other_suffixes_and_writes_nothing(tmp_path: Path) -> None:
    for name in ("log.txt", "log", "log.csv.gz"):
        with pytest.raises(BanditmapError) as info:
            synthetic.write_log(tmp_path / name, environment(), synthetic.LoggingPolicy(), 10, seed=0)
        assert info.value.field == "FILE" and ".csv, .parquet or .pq" in info.value.render()
    assert list(tmp_path.iterdir()) == []


def test_write_log_without_pyarrow_is_one_line_and_writes_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(BanditmapError) as info:
        synthetic.write_log(tmp_path / "log.parquet", environment(), synthetic.LoggingPolicy(), 10, seed=0)
    assert "needs pyarrow" in info.value.render() and "\n" not in info.value.render()
    assert list(tmp_path.iterdir()) == []


def test_write_log_leaves_nothing_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = itertools.count()

    def failing(*args: object, **kwargs: object) -> synthetic.Log:
        if next(calls) == 1:
            raise KeyboardInterrupt
        return original(*args, **kwargs)  # type: ignore[arg-type]  # passes the real arguments through

    original = synthetic.generate
    monkeypatch.setattr(synthetic, "generate", failing)
    target = tmp_path / "log.csv"
    target.write_text("keep me\n")
    with pytest.raises(KeyboardInterrupt):
        synthetic.write_log(target, environment(), synthetic.LoggingPolicy(), synthetic.WRITE_ROWS + 10, seed=0)
    assert target.read_text() == "keep me\n"
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]


# --- reproducible output ----------------------------------------------------------------------------------------

def run_replay(path: Path, clock_step: float, monkeypatch: pytest.MonkeyPatch) -> replay.ReplayResult:
    """A replay whose clock runs at `clock_step` seconds per reading, so two runs have different timings."""
    ticks = itertools.count()
    monkeypatch.setattr(replay.time, "perf_counter", lambda: next(ticks) * clock_step)
    with logs.read_logs(path) as store:
        return replay.evaluate(store, [RunSpec(i, i, build(i, {}, i)) for i in ("ucb1", "linucb")], seed=3)


def test_one_seed_gives_the_same_output_byte_for_byte_apart_from_timings(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from banditmap.render.replay import replay_dict, replay_report
    from banditmap.render.report import print_report
    path = tmp_path / "log.csv"
    synthetic.write_log(path, environment(3, 2), synthetic.LoggingPolicy("softmax"), 3000, seed=1)
    first, second = run_replay(path, 1.0, monkeypatch), run_replay(path, 7.0, monkeypatch)
    for fmt in ("table", "json", "csv", "markdown"):
        texts = []
        for result in (first, second):
            out = io.StringIO()
            print_report(replay_report(result, timings=False), fmt, out)
            texts.append(out.getvalue())
        assert texts[0] == texts[1], fmt
    timed = [replay_dict(r) for r in (first, second)]
    assert timed[0]["timing"] != timed[1]["timing"]  # the clocks differ, and only there
    assert set(timed[0]["timing"]["replay_seconds"]) == {"ucb1", "linucb"}
    assert {k: v for k, v in timed[0].items() if k != "timing"} == {k: v for k, v in timed[1].items() if k != "timing"}
    assert "timing" not in replay_dict(first, timings=False)
    assert "seconds" not in json.dumps(replay_dict(first, timings=False))


# --- the CSV reader: every row of every chunk is checked, at its physical line ---------------------------------

HEADER = "item_id,click,propensity_score\n"


def read(path: Path, chunk_rows: int = logs.CHUNK_ROWS, **columns: str) -> logs.LogInfo:
    with logs.read_logs(path, logs.Columns(**columns), chunk_rows=chunk_rows) as store:
        return store.info


def refusal(path: Path, chunk_rows: int = logs.CHUNK_ROWS, **columns: str) -> BanditmapError:
    with pytest.raises(BanditmapError) as info:
        read(path, chunk_rows, **columns)
    text = info.value.render()
    assert str(path) in text and "\n" not in text and len(text) < 300, text
    return info.value


def rows(n: int, start: int = 0) -> str:
    return "".join(f"{(start + i) % 3},{(start + i) % 2},0.5\n" for i in range(n))


@pytest.mark.parametrize("bad_row, fields", [("7,1,0.5,8,9\n", 5), ("7,1\n", 2), ("\n", 0), ("7,1,0.5,\n", 4)])
@pytest.mark.parametrize("chunk_rows", [1, 7, 10, 64])
def test_every_row_of_every_chunk_has_the_headers_field_count(tmp_path: Path, bad_row: str, fields: int,
                                                             chunk_rows: int) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(40) + bad_row + rows(25))
    error = refusal(path, chunk_rows)
    assert error.line == 42 and f"has {fields} fields, the header has 3" in error.message  # header, 40 rows, it


def test_a_wide_row_past_the_default_chunk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(70_000) + "1,0,0.5,7,8\n" + rows(10))
    error = refusal(path)
    assert error.line == 70_002 and "has 5 fields, the header has 3" in error.message


def test_clean_numeric_chunks_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No chunk of a log of numbers goes through the csv module, the first one (which decides which columns hold
    numbers) included; a first chunk with a text context column does, and the chunks after it do not, with that
    column read as a category."""
    slow: list[int] = []
    original = logfiles._csv_parse

    def counted(*args: object) -> logfiles.Batch:
        slow.append(args[1])
        return original(*args)  # type: ignore[arg-type]  # the real arguments, passed through

    monkeypatch.setattr(logfiles, "_csv_parse", counted)
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(1000))
    assert read(path, chunk_rows=100).rows == 1000
    assert slow == []
    path.write_text(HEADER.replace("\n", ",size,price\n") + "".join(
        f"{i % 3},{i % 2},0.5,{'SML'[i % 3]},{i / 10}\n" for i in range(1000)))
    with logs.read_logs(path, logs.Columns(context=("size", "price")), chunk_rows=100) as store:
        info = store.info
    assert info.rows == 1000 and info.numeric == ("price",) and info.categorical == ("size",)
    assert slow == [2]


def test_a_quoted_newline_is_one_record_and_later_lines_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    header = "item_id,click,propensity_score,note\n"
    body = '1,0,0.5,"two\nlines"\n' + "2,1,0.5,x\n" + '0,0,0.5,"and\nthree\nlines"\n' + "1,1,0.5,y\n"
    path.write_text(header + body)
    for chunk_rows in (1, 2, 3, 100):
        info = read(path, chunk_rows)
        assert info.rows == 4 and info.counts == (1, 2, 1)
    path.write_text(header + body + "2,x,0.5,z\n")
    for chunk_rows in (1, 2, 3, 100):
        assert refusal(path, chunk_rows).line == 9  # 1 header, records on lines 2-3, 4, 5-7, 8, then 9


def test_a_quoted_newline_in_a_label_is_refused_at_the_line_its_record_starts(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(3) + '"4\n5",1,0.5\n' + rows(3))
    for chunk_rows in (1, 2, 4, 100):
        error = refusal(path, chunk_rows)
        assert error.line == 5 and error.field == "item_id" and "control characters" in error.message


@pytest.mark.parametrize("text, problem", [('1,"0,0.5\n', "never closed"), ('1,"0"x,0.5\n', "not a valid CSV row")])
def test_broken_quoting_is_refused_at_its_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(4) + text + rows(3))
    for chunk_rows in (1, 3, 100):
        error = refusal(path, chunk_rows)
        assert error.line == 6 and problem in error.message


@pytest.mark.parametrize("line", [1, 2, 9, 40])
@pytest.mark.parametrize("byte", [b"\xe9", b"\xff", b"\x00"])
def test_a_bad_byte_is_refused_with_its_line(tmp_path: Path, line: int, byte: bytes) -> None:
    lines = (HEADER + rows(50)).encode().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1][:1] + byte + lines[line - 1][1:]
    path = tmp_path / "log.csv"
    path.write_bytes(b"".join(lines))
    for chunk_rows in (4, 100):
        error = refusal(path, chunk_rows)
        assert error.line == line
        assert ("NUL" if byte == b"\x00" else f"byte 0x{byte[0]:02x} is not UTF-8") in error.message


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + rows(30)).replace("\n", "\r\n").encode())
    assert read(path, chunk_rows=7).rows == 30


@pytest.mark.parametrize("value, problem", [
    ("1e308", "between -1e+12 and 1e+12"), ("-1e13", "between -1e+12 and 1e+12"), ("9e999", "got inf"), ("1" * 400, ""),
    ("nan", "got nan"), ("١", "got '١'"), ("1_0", "got '1_0'"), ("", "got an empty field"),
    ("x" * 100_000, "a value of 100,000 characters"),
])
def test_rewards_that_are_not_plain_bounded_numbers_are_refused(tmp_path: Path, value: str, problem: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(12) + f"1,{value},0.5\n" + rows(12))
    for chunk_rows in (5, 100):
        error = refusal(path, chunk_rows)
        assert error.line == 14 and error.field == "click" and problem in error.message


@pytest.mark.parametrize("value", ["1e-300", "1e-13", "0", "-0.5", "1.5"])
def test_propensities_outside_the_floor_and_one_are_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(12) + f"1,1,{value}\n")
    for chunk_rows in (5, 100):
        error = refusal(path, chunk_rows)
        assert error.line == 14 and error.field == "propensity_score"
    assert "at least 1e-12" in error.message or "(0, 1]" in error.message


@pytest.mark.parametrize("value", ["1e300", "-1e101", "inf", "nan"])
def test_context_values_too_large_to_standardise_are_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text("item_id,click,propensity_score,context_0\n" + "".join(f"{i % 2},1,0.5,{i}\n" for i in range(9))
                    + f"1,0,0.5,{value}\n")
    for chunk_rows in (3, 100):
        error = refusal(path, chunk_rows)
        assert error.line == 11 and error.field == "context_0"


@pytest.mark.parametrize("label", ["\x1b[31mred", "a\x07b", "\u202eevil", "nan", "-inf", "", " ", "x" * 201])
def test_action_labels_that_are_missing_or_hold_control_characters_are_refused(tmp_path: Path, label: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(6) + f"{label},1,0.5\n" + rows(6))
    for chunk_rows in (4, 100):
        error = refusal(path, chunk_rows)
        assert error.line == 8 and error.field == "item_id"


def test_a_non_ascii_digit_is_no_action_id(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(6) + "²,1,0.5\n")
    with pytest.raises(BanditmapError) as info:
        logs.read_logs(path, n_actions=3)
    assert info.value.line == 8 and "expected an action id from 0 to 2" in info.value.message


def test_a_refused_log_is_closed_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal closes the file it read, whoever still holds the error (and so the reader) afterwards."""
    closed: list[str] = []
    close = logfiles._Lines.close

    def counted(lines: logfiles._Lines) -> None:
        closed.append(lines.source)
        close(lines)

    monkeypatch.setattr(logfiles._Lines, "close", counted)
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(6) + "²,1,0.5\n")
    with pytest.raises(BanditmapError) as info:  # info keeps the traceback, and the frames that hold the reader
        logs.read_logs(path, n_actions=3)
    assert info.value.line == 8 and closed == [str(path)]


def test_an_overlong_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(3) + "1,1,0.5," + "9" * (logs.MAX_LINE + 10) + "\n")
    error = refusal(path)
    assert error.line == 5 and "longer than" in error.message


# --- columns: one role each -------------------------------------------------------------------------------------

@pytest.mark.parametrize("columns, options", [
    ({"action": "click", "reward": "click"}, "--action-col and --reward-col"),
    ({"action": "propensity_score", "propensity": "propensity_score"}, "--action-col and --propensity-col"),
    ({"reward": "item_id"}, "--action-col and --reward-col"),  # the action column found by default
    ({"propensity": "click"}, "--reward-col and --propensity-col"),
    ({"position": "item_id"}, "--action-col and --position-col"),
])
def test_a_column_given_two_roles_is_refused_naming_both_options(tmp_path: Path, columns: dict[str, str],
                                                                 options: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(5))
    error = refusal(path, **columns)
    assert options in error.message and "line" not in error.render().split(":")[1]


def test_a_context_column_named_as_a_role_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("item_id,click,propensity_score,context_0\n" + "1,0,0.5,3\n")
    with pytest.raises(BanditmapError) as info:
        logs.read_logs(path, logs.Columns(context=("click",)))
    assert info.value.field == "--context-cols" and "the reward column (--reward-col)" in info.value.message
    with logs.read_logs(path, logs.Columns(context=("*",))) as store:  # a glob leaves the role columns out
        assert store.info.numeric == ("context_0",)


def test_a_column_name_used_twice_in_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("item_id,click,propensity_score,click\n1,0,0.5,1\n")
    assert "2 columns named 'click'" in refusal(path).message


# --- the Parquet reader -----------------------------------------------------------------------------------------

def parquet(path: Path, **columns: object) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = {"action": [1, 2, 0, 1, 2], "reward": [1.0, 0.0, 1.0, 0.0, 1.0], "pscore": [0.5] * 5,
             "context_0": [0.1, 0.2, 0.3, 0.4, 0.5]}
    table.update(columns)
    pq.write_table(pa.table(table), path)
    return path


@pytest.mark.parametrize("column", ["action", "reward", "pscore", "context_0"])
@pytest.mark.parametrize("chunk_rows", [2, 100])
def test_a_parquet_null_is_refused_with_its_row(tmp_path: Path, column: str, chunk_rows: int) -> None:
    values = {"action": [1, 2, 0, None, 2], "reward": [1.0, 0.0, 1.0, None, 1.0], "pscore": [0.5, 0.5, 0.5, None, 0.5],
              "context_0": [0.1, 0.2, 0.3, None, 0.5]}[column]
    path = parquet(tmp_path / "log.parquet", **{column: values})
    error = refusal(path, chunk_rows)
    assert error.field == column and error.message.startswith("row 4: ") and "null" in error.message


def test_a_parquet_null_text_action_is_refused(tmp_path: Path) -> None:
    path = parquet(tmp_path / "log.parquet", action=["a", "b", None, "a", "b"])
    assert refusal(path).message.startswith("row 3: ")


@pytest.mark.parametrize("values, where", [
    ([1.0, float("nan"), 0.0, 1.0, 2.0], "row 2: "), ([1.0, 2.0, 0.0, 1.0, float("inf")], "row 5: "),
    (["a", "b", "", "a", "b"], "row 3: "), (["a", "\x1b[2J", "b", "a", "b"], "row 2: "),
])
def test_a_missing_or_unprintable_parquet_action_is_refused(tmp_path: Path, values: list[object],
                                                           where: str) -> None:
    error = refusal(parquet(tmp_path / "log.parquet", action=values))
    assert error.field == "action" and error.message.startswith(where)


@pytest.mark.parametrize("column, values", [
    ("action", [[1], [2], [0], [1], [2]]),
    ("context_0", [{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}, {"a": 5}]),
    ("reward", [[1.0, 2.0], [], [0.0], [1.0], [1.0]]),
])
def test_list_and_struct_parquet_cells_are_refused_naming_the_column(tmp_path: Path, column: str,
                                                                     values: list[object]) -> None:
    error = refusal(parquet(tmp_path / "log.parquet", **{column: values}))
    assert error.field == column and "expected one number or text per row" in error.message


def test_parquet_huge_rewards_and_tiny_propensities_are_refused(tmp_path: Path) -> None:
    assert refusal(parquet(tmp_path / "a.parquet", reward=[1.0, -1e308, 0.0, 1.0, 1.0])).message.startswith("row 2")
    assert refusal(parquet(tmp_path / "b.parquet", pscore=[0.5, 0.5, 1e-300, 0.5, 0.5])).message.startswith("row 3")


def test_parquet_dictionary_and_integer_columns_are_read(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    labels = pa.array(["x", "y", "x", "z", "y"]).dictionary_encode()
    path = parquet(tmp_path / "log.parquet", action=labels, reward=[1, 0, 1, 0, 1], context_1=labels)
    info = read(path)
    assert info.actions == ("x", "y", "z") and info.categorical == ("context_1",) and info.binary


# --- the command ------------------------------------------------------------------------------------------------

def replay_fails(path: Path, tmp_path: Path, *args: str) -> str:
    """Run `banditmap replay`: exit status 2, one line on stderr, no traceback, and --out not written."""
    from banditmap.cli.app import main
    out = tmp_path / "out.json"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        main(["replay", str(path), "--algorithms", "ucb1", "--out", str(out), *args])
    text = err.getvalue()
    assert exit_info.value.code == 2, text
    assert text.startswith("banditmap: error: ") and text.count("\n") == 1 and "Traceback" not in text, text
    assert not out.exists()
    return text


def test_the_replay_command_refuses_bad_logs_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + rows(70) + "1,0,0.5,7,8\n")
    assert f"{path}:72: has 5 fields" in replay_fails(path, tmp_path)
    path.write_bytes((HEADER + rows(5)).encode() + b"1,\xe9,0.5\n")
    assert f"{path}:7: byte 0xe9 is not UTF-8" in replay_fails(path, tmp_path)
    path.write_text(HEADER + rows(5) + "1,1e308,0.5\n")
    assert f"{path}:7: click: expected a number between" in replay_fails(path, tmp_path)
    path.write_text(HEADER + rows(5) + "1,1,1e-300\n")
    assert f"{path}:7: propensity_score: expected a propensity of at least 1e-12" in replay_fails(path, tmp_path)
    path.write_text(HEADER + rows(5))
    assert "--action-col and --reward-col both name the column 'click'" in replay_fails(
        path, tmp_path, "--action-col", "click", "--reward-col", "click")
    text = replay_fails(path, tmp_path, "--reward-col", "x" * 5_000_000)
    assert len(text) < 300


def test_the_replay_command_refuses_bad_parquet_with_one_line(tmp_path: Path) -> None:
    path = parquet(tmp_path / "log.parquet", action=[1, None, 2, 1, 0])
    assert f"{path}: action: row 2: expected a value, got null" in replay_fails(path, tmp_path)
    path = parquet(tmp_path / "list.parquet", action=[[1], [2], [0], [1], [2]])
    assert f"{path}: action: holds" in replay_fails(path, tmp_path)


# --- no warnings, no overflow: extreme values that are accepted give finite answers ---------------------------

def extreme_log(path: Path, n: int = 3000) -> Path:
    """Continuous rewards at +-MAX_REWARD, propensities at the floor, context values at +-MAX_CONTEXT."""
    rng = np.random.default_rng(0)
    lines = ["item_id,reward,propensity_score,context_0,context_1"]
    for i in range(n):
        reward = float(rng.choice([-logs.MAX_REWARD, logs.MAX_REWARD, 0.0]))
        propensity = logs.MIN_PROPENSITY if i % 97 == 0 else 1 / 3
        context = rng.choice([-logs.MAX_CONTEXT, logs.MAX_CONTEXT, 0.0, 1.0], 2)
        lines.append(f"{i % 3},{reward!r},{propensity!r},{float(context[0])!r},{float(context[1])!r}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("algorithms", ["ucb1,thompson-gaussian,exp3", "linucb,lin-ts,eps-greedy-oracle"])
def test_extreme_accepted_values_give_finite_json_and_no_runtime_warning(tmp_path: Path, algorithms: str) -> None:
    from banditmap.render.replay import replay_dict
    path = extreme_log(tmp_path / "log.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with logs.read_logs(path) as store:
            assert np.isfinite(store.files.mean).all() and np.isfinite(store.files.scale).all()
            for chunk in store.chunks():
                assert np.isfinite(chunk.contexts).all()
            result = replay.evaluate(store, [RunSpec(i, i, build(i, {}, i)) for i in algorithms.split(",")], seed=0)
        data = json.dumps(replay_dict(result), allow_nan=False)  # would raise on NaN or infinity
    assert "earned nan" not in data
    assert np.isfinite(result.logging.value)
    for r in result.results:
        assert np.isfinite(r.max_weight) and np.isfinite(r.ess)
        # an unevaluable learner (here: rejection sampling at p_min = 1e-12 keeps no row) shows no estimate at all
        assert all(np.isfinite(e.value) == r.evaluable for e in r.final.values())


# --- generated bad logs -----------------------------------------------------------------------------------------

CSV_COLUMNS = ("item_id", "click", "propensity_score", "position", "context_0", "context_1", "note")
NUMERIC = {"click", "propensity_score", "context_0"}
LABELS = {"item_id", "position"}
# (text, outcome) per kind of column: "refuse" must be refused, "accept" must be read, "maybe" may go either way
BAD_NUMBERS = [("abc", "refuse"), ("", "refuse"), ("nan", "refuse"), ("inf", "refuse"), ("-inf", "refuse"),
               ("1e400", "refuse"), ("1e308", "refuse"), ("١", "refuse"), ("1_0", "refuse"), ("0x10", "refuse"),
               ("\x1b[31m", "refuse"), ("1" * 400, "refuse"), ('"1\n2"', "refuse")]
BAD_PROPENSITIES = [("0", "refuse"), ("-0.5", "refuse"), ("1.5", "refuse"), ("1e-300", "refuse"),
                    ("1e-12", "accept"), ("1", "accept")]
BAD_LABELS = [("", "refuse"), ("\x1b[31m", "refuse"), ("a\x07b", "refuse"), ("nan", "refuse"), ("x" * 300, "refuse"),
              ('"a\nb"', "refuse"), ('"a,b"', "accept"), ("é", "accept"), ("\u202e", "refuse")]
BAD_NOTES = [("\x1b[31m", "accept"), ('"a\nb"', "accept"), ('"a,b"', "accept"), ("x" * 300, "accept"),
             ("", "accept"), ('"a""b"', "accept")]
ROW_DAMAGE = ["extra field", "missing field", "blank line", "latin-1 byte", "NUL", "unclosed quote"]  # all refused


def cell_damage(column: str) -> list[tuple[str, str]]:
    if column == "propensity_score":
        return BAD_NUMBERS + BAD_PROPENSITIES
    if column == "context_0":  # a non-number in the first chunk makes the column categorical, where all is fine
        return [(t, "maybe") for t, _ in BAD_NUMBERS]
    if column == "context_1":  # "nan" is a category, unless the first chunk has only numbers there
        return [(t, "maybe" if t == "nan" else outcome) for t, outcome in BAD_LABELS]
    if column in NUMERIC:
        return BAD_NUMBERS
    return BAD_LABELS if column in LABELS else BAD_NOTES


@st.composite
def damaged_csv(draw: st.DrawFn) -> tuple[bytes, set[int], bool, int]:
    """A small log with a few damaged cells or rows: its bytes, the lines a must-refuse damage is on, whether some
    damage may or may not be refused, and a chunk size."""
    n = draw(st.integers(1, 25))
    cells = [[str(i % 3), str(i % 2), "0.5", str(i % 2 + 1), f"{(i * 37 % 11) / 7:.3f}", "abc"[i % 3], "ok"]
             for i in range(n)]
    outcomes: dict[tuple[int, int], str] = {}  # (row, column) -> the outcome of the cell's last damage
    row_damage: dict[int, set[str]] = {}
    for _ in range(draw(st.integers(0, 3))):
        row = draw(st.integers(0, n - 1))
        if draw(st.booleans()):
            column = draw(st.sampled_from(range(len(CSV_COLUMNS))))
            cells[row][column], outcomes[row, column] = draw(st.sampled_from(cell_damage(CSV_COLUMNS[column])))
        else:
            row_damage.setdefault(row, set()).add(draw(st.sampled_from(ROW_DAMAGE)))
    lines: list[bytes] = [(",".join(CSV_COLUMNS) + "\n").encode()]
    refused: set[int] = set()
    line = 2
    for index, row in enumerate(cells):
        kinds = row_damage.get(index, set())
        if "blank line" in kinds:
            lines.append(b"\n")
            refused.add(line)
            line += 1
        text = ",".join(row) + "\n"
        if "extra field" in kinds:  # two, so that a missing one as well still leaves one too many
            text = text[:-1] + ",7,8\n"
        if "missing field" in kinds:
            text = text[:text.rindex(",")] + "\n"
        if "unclosed quote" in kinds:
            text = '"' + text
        encoded = text.encode()
        if "latin-1 byte" in kinds:
            encoded = b"\xe9" + encoded
        if "NUL" in kinds:
            encoded = b"\x00" + encoded
        row_outcomes = [o for (r, _), o in outcomes.items() if r == index]
        if "refuse" in row_outcomes or kinds - {"blank line"}:
            refused.add(line)
        lines.append(encoded)
        line += text.count("\n")
    maybe = "maybe" in outcomes.values()
    return b"".join(lines), refused, maybe, draw(st.integers(1, 8))


FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def check_outcome(path: Path, chunk_rows: int, columns: logs.Columns = logs.Columns()) -> BanditmapError | None:
    """Read a log: either every value is finite and in range, or one BanditmapError that is one short line naming
    the file (and the line it gives is in the file)."""
    try:
        with logs.read_logs(path, columns, chunk_rows=chunk_rows) as store:
            info = store.info
            assert np.isfinite([info.mean_reward, info.min_propensity, info.near_zero]).all()
            assert np.isfinite(store.files.mean).all() and np.isfinite(store.files.scale).all()
            for chunk in store.chunks():
                assert (np.abs(chunk.rewards) <= logs.MAX_REWARD).all()
                assert ((chunk.propensities >= logs.MIN_PROPENSITY) & (chunk.propensities <= 1)).all()
                assert np.isfinite(chunk.contexts).all()
            assert all(label and label.isprintable() for label in info.actions)
        return None
    except BanditmapError as error:
        text = error.render()
        assert text.startswith(str(path)) and "\n" not in text and len(text) < 300 + len(str(path)), text
        return error


@FAST
@given(damaged_csv())
def test_generated_bad_csv_logs_are_read_correctly_or_refused_at_the_right_line(
        case: tuple[bytes, set[int], bool, int]) -> None:
    data, refused, maybe, chunk_rows = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_bytes(data)
        error = check_outcome(path, chunk_rows)
    if refused:
        assert error is not None, (data, refused)
        if len(refused) == 1 and not maybe:
            assert error.line == min(refused), (error.render(), data)
        assert error.line is None or 1 <= error.line <= data.count(b"\n") + 1
    elif not maybe:
        assert error is None, error.render()


ROLE_OPTIONS = st.sampled_from([None, "item_id", "click", "propensity_score", "position", "context_0", "note"])


@FAST
@given(action=ROLE_OPTIONS, reward=ROLE_OPTIONS, propensity=ROLE_OPTIONS, position=ROLE_OPTIONS,
       context=st.sampled_from([None, ("context_*",), ("click",), ("*",), ("item_id", "context_0"), ("nothing",)]))
def test_generated_column_choices_give_one_role_per_column(action: str | None, reward: str | None,
                                                          propensity: str | None, position: str | None,
                                                          context: tuple[str, ...] | None) -> None:
    columns = logs.Columns(action, reward, propensity, position, context)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_text(",".join(CSV_COLUMNS) + "\n" + "".join(f"{i % 3},{i % 2},0.5,1,0.{i},a,n\n" for i in range(9)))
        error = check_outcome(path, 4, columns)
        if error is None:
            with logs.read_logs(path, columns) as store:
                info = store.info
                roles = [info.action_col, info.reward_col, info.propensity_col, info.position_col]
                used = [r for r in roles if r] + list(info.numeric) + list(info.categorical)
                assert len(used) == len(set(used))
        else:
            assert error.field is not None and error.field.startswith("--") or error.line is not None


@st.composite
def damaged_parquet(draw: st.DrawFn) -> tuple[dict[str, list[object]], list[int]]:
    """A small Parquet table with a few damaged cells, and the rows (from 1) a must-refuse damage is in."""
    n = draw(st.integers(1, 20))
    table: dict[str, list[object]] = {
        "action": [i % 3 for i in range(n)] if draw(st.booleans()) else ["abc"[i % 3] for i in range(n)],
        "reward": [float(i % 2) for i in range(n)], "pscore": [0.5] * n,
        "context_0": [i / 10 for i in range(n)], "context_1": ["xyz"[i % 3] for i in range(n)]}
    outcomes: dict[tuple[int, str], str] = {}  # (row, column) -> the outcome of the cell's last damage
    for _ in range(draw(st.integers(0, 3))):
        row, column = draw(st.integers(0, n - 1)), draw(st.sampled_from(sorted(table)))
        options: list[tuple[object, str]] = [(None, "refuse")]
        if column in ("reward", "pscore", "context_0"):
            options += [(float("nan"), "refuse"), (float("inf"), "refuse"), (-1e308, "refuse")]
        if column == "pscore":
            options += [(0.0, "refuse"), (1e-300, "refuse"), (1.5, "refuse"), (1e-12, "accept")]
        if column == "reward":
            options += [(1e12, "accept")]
        if column in ("action", "context_1") and isinstance(table[column][0], str):
            options += [("", "refuse"), ("\x1b[0m", "refuse"), ("x" * 300, "refuse"), ("é", "accept")]
        table[column][row], outcomes[row, column] = draw(st.sampled_from(options))
    return table, sorted({row + 1 for (row, _), outcome in outcomes.items() if outcome == "refuse"})


@FAST
@given(damaged_parquet(), st.integers(1, 8), st.sampled_from([None, "list", "struct"]))
def test_generated_bad_parquet_logs_are_read_correctly_or_refused_at_the_right_row(
        case: tuple[dict[str, list[object]], list[int]], chunk_rows: int, nested: str | None) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table, refused = case
    if nested == "list":
        table["context_0"] = [[v] for v in table["context_0"]]
    elif nested == "struct":
        table["reward"] = [{"v": v} for v in table["reward"]]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.parquet"
        pq.write_table(pa.table(table), path)
        error = check_outcome(path, chunk_rows)
    if nested:
        assert error is not None and error.field == ("context_0" if nested == "list" else "reward")
        return
    if refused:
        assert error is not None
        if len(refused) == 1:
            assert error.message.startswith(f"row {refused[0]}: "), error.render()
    else:
        assert error is None, error.render()


TOKENS = st.sampled_from(["0", "1", "0.5", "2", "-1", "1e-12", "nan", "", ",", '"', "\n", "\r", "\x00", "\x1b",
                          "é", "١", "_", "1e999", " ", "a"])


@FAST
@given(st.lists(st.lists(st.one_of(TOKENS, st.text(max_size=6)), min_size=1, max_size=6).map(",".join),
                max_size=12), st.sampled_from(["utf-8", "latin-1"]), st.integers(1, 5))
def test_generated_garbage_is_read_or_refused_with_one_line(body: list[str], encoding: str,
                                                            chunk_rows: int) -> None:
    """Anything after a valid header: finite values or one BanditmapError, never another exception."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        text = "item_id,click,propensity_score,context_0,context_1\n" + "\n".join(body)
        path.write_bytes(text.encode(encoding, errors="replace"))
        error = check_outcome(path, chunk_rows)
    lines = len(io.StringIO(text, newline="").readlines())  # as the reader counts them: \n, \r or \r\n
    assert error is None or error.line is None or 1 <= error.line <= lines
