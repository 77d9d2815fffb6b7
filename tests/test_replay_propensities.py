"""Estimated propensities for logs without them: the multinomial logistic model recovers a known logging policy,
each row is predicted by the other fold's model, a log without a propensity column is replayed with the estimate
said loudly, and a logging policy that leaves actions unplayed in some contexts (poor overlap) leaves final
policies to the direct method alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from banditmap.cli.app import app
from banditmap.ope import check, logs, propensity, synthetic


def test_the_model_recovers_a_known_softmax_logging_policy() -> None:
    """Contexts (n, 3) with an intercept; actions drawn from softmax(x W) with known W (3 x 4)."""
    rng = np.random.default_rng(4)
    x = np.hstack([np.ones((20_000, 1)), rng.standard_normal((20_000, 2))])
    truth = np.array([[0.5, 0.0, -0.5, 0.0], [1.0, -1.0, 0.0, 0.0], [0.0, 0.5, 0.5, -1.0]])
    truth -= truth.mean(axis=1, keepdims=True)  # the model's parametrisation: centred over the actions
    probs = propensity.softmax(x @ truth)
    actions = (rng.random((20_000, 1)) > probs.cumsum(axis=1)).sum(axis=1)
    fitted = propensity.fit_fold(x, actions, 4)
    assert np.allclose(fitted.sum(axis=1), 0, atol=1e-9)
    assert np.abs(fitted - truth).max() < 0.06
    assert np.abs(propensity.softmax(x @ fitted) - probs).max() < 0.03  # 0.022 at this seed


def test_each_row_is_predicted_by_the_other_folds_model() -> None:
    weights = np.zeros((2, 1, 2))
    weights[0, 0] = [np.log(3), 0.0]  # fold 0's model: action 0 three times as likely
    model = propensity.PropensityModel(weights)
    p = model.propensities(np.array([0, 1, 2, 3]), np.ones((4, 1)), np.zeros(4, dtype=np.int64))
    assert np.allclose(p, [0.5, 0.75, 0.5, 0.75])  # even rows by fold 1's model, odd rows by fold 0's


def test_sample_rows_are_evenly_spaced_and_of_one_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(propensity, "MAX_FIT_ROWS", 3)
    assert propensity.sample_rows(20, 1).tolist() == [1, 9, 19]
    assert propensity.sample_rows(5, 0).tolist() == [0, 2, 4]


def write(tmp_path: Path, logging: synthetic.LoggingPolicy, rows: int = 6000) -> tuple[Path, Path]:
    """A generated log and the same log without its propensity column."""
    env = synthetic.make_environment(4, 3, True, np.random.default_rng(2))
    full = tmp_path / "full.csv"
    synthetic.write_csv(full, env, logging, rows, seed=3)
    bare = tmp_path / "bare.csv"
    bare.write_text("".join(",".join(c for j, c in enumerate(line.split(",")) if j != 2) + "\n"
                            for line in full.read_text().splitlines()))
    return full, bare


def test_a_log_without_propensities_is_replayed_with_estimated_ones_said_loudly(tmp_path: Path,
                                                                             runner: CliRunner) -> None:
    full, bare = write(tmp_path, synthetic.LoggingPolicy("softmax"))
    with logs.read_logs(full) as logged, logs.read_logs(bare) as guessed:
        assert guessed.info.estimated and guessed.info.propensity_col is None and not logged.info.estimated
        true = np.concatenate([c.propensities for c in logged.chunks()])
        estimate = np.concatenate([c.propensities for c in guessed.chunks()])
    assert np.corrcoef(np.log(true), np.log(estimate))[0, 1] > 0.95
    assert abs(np.median(estimate / true) - 1) < 0.05  # 0.034: the logging policy's floor is not logistic
    result = runner.invoke(app, ["replay", str(bare), "--algorithms", "ucb1", "--format", "json", "--no-timings"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["log"]["propensities_estimated"] is True and data["log"]["columns"]["propensity"] is None
    assert data["method"].startswith("importance-weighted replay")  # auto: the estimate's tails set no rate
    assert data["warnings"][0].startswith("PROPENSITIES ESTIMATED, NOT LOGGED: the log has no propensity column")
    table = runner.invoke(app, ["replay", str(full), "--algorithms", "ucb1", "--estimate-propensities"])
    assert "PROPENSITIES ESTIMATED" in table.output and "the logged 'propensity_score' was set aside" in table.output
    linted = check.check_file(bare, effect=1.0)
    assert [f.status for f in linted.findings if f.topic == "propensities"][0] == check.WARN


def test_poor_overlap_leaves_final_policies_to_the_direct_method(tmp_path: Path, runner: CliRunner) -> None:
    """A logging policy that all but never plays actions 2 and 3 where the first feature is well above zero, nor 0
    and 1 where it is well below: p(a | x) proportional to exp(+-6 x_0)."""
    env = synthetic.make_environment(4, 3, True, np.random.default_rng(2))
    rng = np.random.default_rng(8)
    contexts = env.contexts(6000, rng)
    probs = propensity.softmax(6 * contexts[:, :1] * np.array([[1.0, 1.0, -1.0, -1.0]]))
    actions = (rng.random((6000, 1)) > probs.cumsum(axis=1)).sum(axis=1)
    rewards = env.draw(env.expected(contexts)[np.arange(6000), actions], rng)
    path = tmp_path / "thin.csv"
    path.write_text("action,reward,context_0,context_1,context_2\n" + "".join(
        f"{a},{int(r)},{x[0]:.5f},{x[1]:.5f},{x[2]:.5f}\n" for a, r, x in zip(actions, rewards, contexts)))
    with logs.read_logs(path) as store:
        assert store.info.thin_share > propensity.POOR_OVERLAP
    result = runner.invoke(app, ["replay", str(path), "--algorithms", "linucb", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for c in data["candidates"]:
        final = c["final_policy"]
        assert final["ips"]["value"] is None and final["dr"]["value"] is None and final["snips"]["value"] is None
        assert final["dm"]["value"] is not None or not c["evaluable"]
    assert any(w.startswith("poor overlap: in ") for w in data["warnings"])


def test_doubted_propensities_are_set_aside_unread(tmp_path: Path) -> None:
    """With --estimate-propensities the logged column is not read: a value that would be refused (0) is no bar."""
    full, _ = write(tmp_path, synthetic.LoggingPolicy("uniform"), rows=400)
    lines = full.read_text().splitlines()
    cells = lines[5].split(",")
    cells[2] = "0"
    lines[5] = ",".join(cells)
    full.write_text("\n".join(lines) + "\n")
    with pytest.raises(logs.BanditmapError, match="expected a propensity in"):
        logs.read_logs(full)
    with logs.read_logs(full, estimate_propensities=True) as store:
        assert store.info.estimated and store.info.propensity_col == "propensity_score"
        assert all((c.propensities > 0).all() for c in store.chunks())
