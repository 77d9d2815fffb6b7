"""`replay --check`: the lint of a log before any estimate. Each finding on a log whose defect is known: duplicate
decision ids, propensities that do not match the actions' frequencies, actions never logged, too few rows for the
effect asked, and the exit status (0 can answer, 1 cannot, 2 malformed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from banditmap.cli.app import app
from banditmap.ope import check, synthetic
from banditmap.ope.estimators import rows_needed

DATA = Path(__file__).resolve().parent / "data"


def log(tmp_path: Path, rows: int = 4000, kind: str = "uniform", never: tuple[int, ...] = (),
        name: str = "log.csv") -> Path:
    env = synthetic.make_environment(4, 2, True, np.random.default_rng(3))
    path = tmp_path / name
    synthetic.write_csv(path, env, synthetic.LoggingPolicy(kind, never=never), rows, seed=1)
    return path


def edit(path: Path, column: int, change: object) -> Path:
    """The log with one column's cells rewritten by `change(line number, cell)`."""
    lines = path.read_text().splitlines()
    out = [lines[0]]
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        cells[column] = change(number, cells[column])  # type: ignore[operator]  # a callable, typed loosely here
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n")
    return path


def statuses(result: check.LogCheck) -> dict[str, str]:
    worst: dict[str, str] = {}
    order = {check.OK: 0, check.WARN: 1, check.FAIL: 2}
    for f in result.findings:
        if order[f.status] >= order[worst.get(f.topic, check.OK)]:
            worst[f.topic] = f.status
    return worst


def test_a_clean_uniform_log_can_answer_a_large_effect_and_not_a_small_one(tmp_path: Path) -> None:
    path = log(tmp_path)
    big = check.check_file(path, effect=1.0)
    assert big.answerable and set(statuses(big).values()) == {check.OK}
    rate = big.info.mean_reward
    assert big.power.needed == pytest.approx(rows_needed(rate, 2 * rate))
    assert big.power.replay_rows == pytest.approx(2000 / 4) and big.power.final_rows == pytest.approx(2000 / 4)
    assert np.allclose(big.weight_means, np.array(big.info.counts) / 1000)  # uniform: n_a / (n / K)
    small = check.check_file(path, effect=0.05)
    assert not small.answerable and statuses(small)["power"] == check.FAIL
    assert small.power.log_rows_needed == pytest.approx(small.power.needed * 4 / 0.5)


def test_duplicate_decision_ids_name_their_lines(tmp_path: Path) -> None:
    path = edit(log(tmp_path, 300), 0, lambda number, cell: cell)  # unchanged, then an id column in front
    lines = path.read_text().splitlines()
    ids = [str(i) for i in range(len(lines) - 1)]
    ids[57] = ids[12]  # line 59 repeats the id of line 14
    ids[200] = ids[12]
    path.write_text("\n".join(["decision_id," + lines[0]] + [f"{i},{line}" for i, line in zip(ids, lines[1:])]))
    result = check.check_file(path, effect=5.0)
    assert result.id_col == "decision_id" and result.duplicates == 2 and not result.answerable
    text = next(f.text for f in result.findings if f.topic == "decision ids")
    assert f"first at {path}:59 (already at {path}:14)" in text


def test_propensities_that_do_not_match_the_actions_frequencies_fail(tmp_path: Path) -> None:
    """Halved propensities (say, per slate of two instead of per position): every action seems logged twice as
    often as its propensities say."""
    path = edit(log(tmp_path), 2, lambda number, cell: f"{float(cell) / 2:.8g}")
    result = check.check_file(path, effect=1.0)
    assert statuses(result)["propensities"] == check.FAIL and not result.answerable
    assert np.allclose(result.weight_means, 2 * np.array(result.info.counts) / 1000)


def test_softmax_logs_are_consistent_and_an_action_never_played_is_a_warning(tmp_path: Path) -> None:
    result = check.check_file(log(tmp_path, 6000, "softmax", never=(2,)), n_actions=4, effect=3.0)
    found = statuses(result)  # the profile's n_actions says there are four; the log holds three
    assert found["propensities"] == check.OK  # the never-played action is not tested: it has no rows
    assert found["support"] == check.WARN and result.info.counts[2] == 0
    assert "1 of 4 actions never logged (2)" in " ".join(f.text for f in result.findings)
    assert all(abs(m - 1) < 5 * e + 0.1 for m, e, c in zip(result.weight_means, result.weight_errors,
                                                          result.info.counts) if c)


def test_the_command_exits_0_1_and_2(runner: CliRunner, tmp_path: Path) -> None:
    path = log(tmp_path)
    can = runner.invoke(app, ["replay", "--check", str(path), "--effect", "1", "--format", "json"])
    assert can.exit_code == 0, can.output
    data = json.loads(can.output)
    assert data["schema"] == "banditmap.logcheck/1" and data["answerable"] is True
    assert [f["topic"] for f in data["findings"]] == ["columns", "decision ids", "reward", "propensities", "support",
                                                      "power"]
    cannot = runner.invoke(app, ["replay", "--check", str(path)])
    assert cannot.exit_code == 1 and "This log cannot answer the question (power; exit status 1)." in cannot.output
    bad = edit(log(tmp_path, 50, name="bad.csv"), 2, lambda number, cell: "1.5" if number == 9 else cell)
    refused = runner.invoke(app, ["replay", "--check", str(bad)])
    assert refused.exit_code == 2
    assert f"{bad}:9: propensity_score: expected a propensity in (0, 1], got 1.5" in refused.output


def test_the_open_bandit_dataset_layout_is_checked_with_its_unnamed_index(runner: CliRunner) -> None:
    result = runner.invoke(app, ["replay", "--check", str(DATA / "obd_layout.csv"), "--format", "json"])
    assert result.exit_code == 1, result.output  # 3,000 rows cannot tell a 10% difference
    data = json.loads(result.output)
    assert data["log"]["id_column"] == "" and data["log"]["duplicate_ids"] == 0
    assert data["power"]["rows_needed"] == pytest.approx(15145, abs=1)
