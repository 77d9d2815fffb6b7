"""`replay --sweep`: every setting of one algorithm replayed on the user's log (recommend/replaysweep.py), the
sensitivity table and its JSON (render/replaysweep.py), refusals of bad sweeps as one line, and the same figures
whatever the number of local workers (the Dask cluster's: tests/test_executor.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from banditmap.cli.app import app

GOLDEN = Path(__file__).parent / "golden"
SWEEP = ["--sweep", "epsilon-greedy.epsilon=0.02:0.5:3:log"]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A contextual log of 4,000 uniformly logged decisions."""
    path = tmp_path_factory.mktemp("sweep") / "logs.csv"
    made = invoke("make-logs", str(path), "--set", "n_actions=4", "--set", "context=linear", "--set",
                  "n_features=3", "--set", "reward_type=binary", "--rows", "4000",
                  "--seed", "2")
    assert made.exit_code == 0, made.output
    return path


def sweep_json(logs: Path, *extra: str) -> dict[str, Any]:
    done = invoke("replay", str(logs), "--set", "n_actions=4", *SWEEP, "--seed", "5", "--no-timings",
                  "--format", "json", *extra)
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def test_every_setting_is_replayed_in_the_grids_order_with_the_best_and_those_tied_with_it(logs: Path) -> None:
    data = sweep_json(logs)
    assert data["schema"] == "banditmap.replaysweep/1"
    assert data["algorithm"]["id"] == "epsilon-greedy" and data["parameters"] == ["epsilon"]
    assert [s["label"] for s in data["settings"]] == ["epsilon=0.02", "epsilon=0.1", "epsilon=0.5"]
    evaluable = [s for s in data["settings"] if s["evaluable"]]
    assert evaluable, data["verdict"]
    best = max(evaluable, key=lambda s: s["replayed"]["value"])
    assert data["best"] == best["label"] and best["label"] in data["flat"]
    for s in evaluable:  # tied: its interval overlaps the best's
        low, high = s["replayed"]["low"], s["replayed"]["high"]
        overlaps = low <= best["replayed"]["high"] and best["replayed"]["low"] <= high
        assert s["tied_with_best"] == overlaps == (s["label"] in data["flat"])
        assert s["replayed"]["low"] <= s["replayed"]["value"] <= s["replayed"]["high"]
    assert data["split"]["learning_rows"] == 2000  # final policies scored on the held-out half only
    assert any(line.startswith("Best setting of Epsilon-greedy") for line in data["verdict"])
    assert "timing" not in data


def test_the_table_shows_every_setting_and_the_verdict(logs: Path) -> None:
    done = invoke("replay", str(logs), "--set", "n_actions=4", *SWEEP, "--no-timings")
    assert done.exit_code == 0, done.output
    for label in ("epsilon=0.02", "epsilon=0.1", "epsilon=0.5", "logging policy", "held-out DR"):
        assert label in done.output
    assert "Best setting of Epsilon-greedy" in done.output


def test_the_same_figures_with_one_or_two_local_workers(logs: Path) -> None:
    assert sweep_json(logs, "--jobs", "1") == sweep_json(logs, "--jobs", "2")


def test_settings_that_cannot_be_evaluated_are_shown_as_such_never_with_a_number(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    assert invoke("make-logs", str(short), "--set", "n_actions=10", "--rows", "300").exit_code == 0
    done = invoke("replay", str(short), "--set", "n_actions=10", *SWEEP, "--no-timings", "--format", "json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["best"] is None and data["flat"] == []
    for s in data["settings"]:
        assert not s["evaluable"] and s["problem"] and s["replayed"] is None and s["curve"] is None
    assert any("No setting of Epsilon-greedy can be evaluated" in line for line in data["verdict"])
    assert any(line.startswith("Cannot be evaluated on this log: epsilon=0.02: ") for line in data["verdict"])
    table = invoke("replay", str(short), "--set", "n_actions=10", *SWEEP, "--no-timings")
    assert table.output.count("cannot be evaluated") >= 3


@pytest.mark.parametrize(("sweep", "expected"), [
    ("epsilon-greedy", "--sweep: expected ALGO.PARAM=V1,V2,... or ALGO.PARAM=lo:hi:n[:log]"),
    ("epsilon-greedy.epsilon=0.1:0.5", "--sweep epsilon-greedy.epsilon: expected lo:hi:n or lo:hi:n:log"),
    ("epsilon-greedy.epsilon=0.1,,0.2", "--sweep epsilon-greedy.epsilon: expected values separated by commas"),
    ("epsilon-greedy.epsilon=-1,0.2", "--sweep epsilon-greedy.epsilon:"),
    ("epsilon-greedy.epsilon=0:1:3:log", "--sweep epsilon-greedy.epsilon: a log range needs lo and hi above 0"),
    ("no-such-algo.x=1,2", "--sweep no-such-algo.x:"),
])
def test_a_bad_sweep_is_one_line_and_exit_2(logs: Path, sweep: str, expected: str) -> None:
    done = invoke("replay", str(logs), "--set", "n_actions=4", "--sweep", sweep)
    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.output
    assert "Traceback" not in done.output


def test_a_sweep_names_its_algorithm_so_algorithms_is_refused(logs: Path) -> None:
    done = invoke("replay", str(logs), *SWEEP, "--algorithms", "ucb1")
    assert done.exit_code == 2 and "--sweep: a sweep replays the settings of the algorithm it names" in done.output


def test_an_algorithm_replay_cannot_replay_is_refused_naming_the_sweep(logs: Path) -> None:
    done = invoke("replay", str(logs), "--sweep", "cascade-linucb.alpha=0.5,1")
    assert done.exit_code == 2 and done.output.count("\n") == 1, done.output
    assert "--sweep cascade-linucb.alpha:" in done.output


def test_the_plot_is_written(logs: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    picture = tmp_path / "sweep.png"
    done = invoke("replay", str(logs), "--set", "n_actions=4", *SWEEP, "--plot", str(picture))
    assert done.exit_code == 0, done.output
    assert picture.stat().st_size > 1000


def test_a_small_sweep_is_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON of one small sweep (uniform log of 3,000 decisions, three epsilons); regenerate deliberately with
    UPDATE_GOLDEN=1."""
    monkeypatch.chdir(tmp_path)
    assert invoke("make-logs", "logs.csv", "--usecase", "homepage-banner", "--rows", "3000").exit_code == 0
    done = invoke("replay", "logs.csv", "--usecase", "homepage-banner", "--sweep", "epsilon-greedy.epsilon=0.05,0.2,0.6",
                  "--no-timings", "--format", "json")
    assert done.exit_code == 0, done.output
    path = GOLDEN / "replay-sweep-epsilon.json"
    if os.environ.get("UPDATE_GOLDEN") and not os.environ.get("CI"):
        path.write_text(done.output)
    assert done.output == path.read_text(), "replay-sweep-epsilon.json changed; if deliberate, rerun with UPDATE_GOLDEN=1"
