"""Importance-weighted replay of learners on non-uniform logs: every matching row kept, weights 1 / (K p) clipped,
the clipping bias bounded and added to the intervals; on skewed generated logs whose truth is known, the
intervals cover it; on a log with a propensity of 4.5e-05 (as the Open Bandit Dataset's Bernoulli-TS sample)
rejection sampling leaves nothing, and "auto" switches to weighting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from banditmap.ope import logs, synthetic
from banditmap.ope.replay import ReplayResult, evaluate
from banditmap.sim.runner import RunSpec
from stubs import Zero

Array = np.ndarray


ZERO = RunSpec("zero", "zero", Zero())


def run(path: Path, method: str, clip: float = 10.0, seed: int = 0) -> ReplayResult:
    with logs.read_logs(path, seed=seed) as store:
        return evaluate(store, [ZERO], seed, method=method, clip=clip)


def test_weighted_replay_weighs_every_matching_row_by_its_clipped_weight(tmp_path: Path) -> None:
    """Two actions; action 0 logged with propensity 0.8 (w = 0.625) or 0.05 (w = 10, clipped to 4); the learning
    rows are the first half."""
    path = tmp_path / "log.csv"
    rows = []
    for i in range(800):
        rare = i % 4 == 0  # a quarter of action 0's rows have a small propensity, and a reward of 1
        rows.append(f"0,{int(rare)},{0.05 if rare else 0.8}" if i % 2 == 0 else f"1,0,{0.95 if i % 4 == 1 else 0.2}")
    path.write_text("action,reward,propensity\n" + "\n".join(rows) + "\n")
    result = run(path, "weighted", clip=4.0)
    (r,) = result.results
    assert result.method == "importance-weighted replay (weights 1 / (K p) clipped at 4)"
    assert r.kept == 200 and r.matched == 200  # every matching learning row kept
    ones, zeros = 100, 100  # learning rows of action 0 with each propensity
    assert r.replayed.value == pytest.approx(ones * 4.0 / (ones * 4.0 + zeros * 0.625))
    assert r.clipped_share == pytest.approx(1 - (ones * 4 + zeros * 0.625) / (ones * 10 + zeros * 0.625))
    assert r.bias_bound == pytest.approx(r.clipped_share)  # binary rewards: range 1
    assert r.replayed.low <= r.replayed.value - r.bias_bound and r.replayed.high >= r.replayed.value + r.bias_bound
    assert r.replayed_ess == pytest.approx((ones * 4 + zeros * 0.625) ** 2 / (ones * 16 + zeros * 0.625 ** 2))
    assert any("clipping removed" in w and f"{r.bias_bound:.4f}" in w for w in r.warnings)
    assert any("logging policy's proportions" in w for w in result.warnings)
    unclipped = run(path, "weighted", clip=1e6).results[0]
    assert unclipped.replayed.value == pytest.approx(ones * 10 / (ones * 10 + zeros * 0.625))
    assert unclipped.clipped_share == 0 and unclipped.bias_bound == 0


def test_a_tiny_propensity_leaves_rejection_sampling_nothing_and_auto_weighs(tmp_path: Path) -> None:
    path = tmp_path / "bts.csv"
    lines = [f"{i % 2},{int(i % 7 == 0)},{0.5 if i else 4.5e-05}" for i in range(4000)]
    path.write_text("action,reward,propensity\n" + "\n".join(lines) + "\n")
    rejected = run(path, "rejection").results[0]
    assert not rejected.evaluable and "--replay-method weighted" in rejected.remedy
    auto = run(path, "auto")
    (r,) = auto.results
    assert auto.method.startswith("importance-weighted replay") and r.evaluable and r.kept == 1000
    truth = np.mean([i % 7 == 0 for i in range(0, 2000, 2)])  # action 0's click rate on the learning rows
    assert r.replayed.low <= truth <= r.replayed.high
    assert r.clipped_share == pytest.approx(1 - (999 * 1 + 10) / (999 * 1 + 1 / (2 * 4.5e-05)))


# Seeds: 12, on softmax logs at temperature 0.2 (weights 1 / (K p) up to 5: the floor of 0.2 / K) of 4,000 rows;
# the learner's true value is action 0's click rate. The intervals cover it in 11 of these 12 seeds (19 of 20 over
# seeds 0-19); without the weights (Wilson's interval of the matching rows' plain mean) 6 of 12 cover it.
SEEDS = 12


def test_weighted_replay_covers_the_truth_on_skewed_generated_logs(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    env = synthetic.LogEnvironment(rng.normal(0, 0.3, (4, 2)), np.array([-1.6, -2.2, -2.4, -2.6]), True)
    truth = float(env.expected(env.contexts(400_000, np.random.default_rng(5)))[:, 0].mean())
    covered = 0
    for seed in range(SEEDS):
        path = tmp_path / f"skewed-{seed}.csv"
        synthetic.write_csv(path, env, synthetic.LoggingPolicy("softmax", temperature=0.2), 4000, seed)
        r = run(path, "weighted", seed=seed).results[0]
        assert r.clipped_share == 0 and r.replayed_ess < r.kept  # skewed weights, none clipped
        covered += r.replayed.low <= truth <= r.replayed.high
    assert covered >= SEEDS - 1, covered
