"""Refusals of the log reader and writer: every bad log gets one line naming the file, the line (or Parquet row)
and the column, never a traceback, a warning or a wrong number; generated logs are written atomically; a replay
with one seed is the same byte for byte apart from its timings."""

from __future__ import annotations

import io
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.ope import logs, replay, synthetic
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
    from banditmap.replayrender import render_replay, replay_dict
    path = tmp_path / "log.csv"
    synthetic.write_log(path, environment(3, 2), synthetic.LoggingPolicy("softmax"), 3000, seed=1)
    first, second = run_replay(path, 1.0, monkeypatch), run_replay(path, 7.0, monkeypatch)
    for fmt in ("table", "json", "csv", "markdown"):
        texts = []
        for result in (first, second):
            out = io.StringIO()
            render_replay(result, fmt, out, timings=False)
            texts.append(out.getvalue())
        assert texts[0] == texts[1], fmt
    timed = [replay_dict(r) for r in (first, second)]
    assert timed[0]["timing"] != timed[1]["timing"]  # the clocks differ, and only there
    assert set(timed[0]["timing"]["replay_seconds"]) == {"ucb1", "linucb"}
    assert {k: v for k, v in timed[0].items() if k != "timing"} == {k: v for k, v in timed[1].items() if k != "timing"}
    assert "timing" not in replay_dict(first, timings=False)
    assert "seconds" not in json.dumps(replay_dict(first, timings=False))
