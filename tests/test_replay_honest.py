"""Replay that does not mislead, on generated logs whose every true value is known: intervals that cover the truth
on rare and common binary rewards under uniform and softmax logging, a baseline equal to the logging policy that is
not called better or worse, final policies scored on held-out rows only (an overfitted choice is not scored above
its value on fresh data), "cannot tell" with the rows a test would need, and no figure for what cannot be
evaluated."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from banditmap.ope import logs, replay, results, synthetic
from banditmap.ope.estimators import Z95, Estimate, newcombe, rows_needed, wilson
from banditmap.ope.replay import CandidateResult, ReplayResult, evaluate, verdict
from banditmap.sim.policies import Feedback, Policy, State, build
from banditmap.sim.problem import Problem
from banditmap.sim.runner import RunSpec

Array = np.ndarray
K, D = 3, 2


@dataclass(kw_only=True)
class Tally(State):
    counts: Array  # (R, K) rounds learned from, per action
    sums: Array  # (R, K) rewards earned, per action


@dataclass(frozen=True)
class Arm(Policy[Any]):
    """Plays ARM while learning and once frozen (a policy whose true value is known)."""

    ARM: ClassVar[int] = 0

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        shape = (problem.reps, problem.n_arms)
        return Tally(rng=rng, R=problem.reps, K=problem.n_arms, counts=np.zeros(shape), sums=np.zeros(shape))

    def select(self, state: State, context: Array | None) -> Array:
        return np.full(state.R, self.ARM)

    def update(self, state: State, feedback: Feedback) -> None:
        assert isinstance(state, Tally)
        np.add.at(state.counts, (feedback.reps, feedback.actions), 1)
        np.add.at(state.sums, (feedback.reps, feedback.actions), feedback.observed)

    def exploit(self, state: State, context: Array | None) -> Array:
        return np.full(state.R, self.ARM)


@dataclass(frozen=True)
class Memoriser(Arm):
    """Plays every action in turn while learning; frozen, commits to the action with the best mean it saw. On
    actions that are all alike, that mean is the luckiest: an overfitted choice."""

    def select(self, state: State, context: Array | None) -> Array:
        return np.full(state.R, state.t % state.K)

    def exploit(self, state: State, context: Array | None) -> Array:
        assert isinstance(state, Tally)
        means = np.where(state.counts > 0, state.sums / np.maximum(state.counts, 1), -1.0)
        return np.asarray(means.argmax(axis=1))


def spec(policy: Policy[Any], name: str) -> RunSpec:
    return RunSpec(name, name, policy)


def environment(rate: float, spread: float = 0.3) -> synthetic.LogEnvironment:
    """K actions whose click rates sit around `rate` (action 0 the best), moved a little by the context."""
    rng = np.random.default_rng(7)
    theta = rng.normal(0.0, spread / np.sqrt(D), (K, D))
    base = np.log(rate / (1 - rate))
    return synthetic.LogEnvironment(theta, np.array([base + 0.3, base, base - 0.3])[:K], True)


def truth_of_arms(env: synthetic.LogEnvironment) -> Array:
    """(K,) each action's true click rate over the context's distribution."""
    contexts = env.contexts(400_000, np.random.default_rng(123))
    means: Array = env.expected(contexts).mean(axis=0)
    return means


def run(tmp_path: Path, env: synthetic.LogEnvironment, kind: str, rows: int, seed: int,
        candidates: list[RunSpec]) -> ReplayResult:
    path = tmp_path / f"{kind}-{seed}.csv"
    synthetic.write_csv(path, env, synthetic.LoggingPolicy(kind), rows, seed)
    with logs.read_logs(path, n_actions=K, seed=seed) as store:
        result = evaluate(store, candidates, seed)
    path.unlink()
    return result


# Seeds per setting: 10 by default (the four settings take about 15 s); BANDITMAP_COVERAGE_SEEDS=50 runs the issue's
# 50 (a few minutes). Coverage is counted per estimator over every setting and both policies (80 intervals each by
# default): a correct 95% interval misses more than 10% of 80 with probability about 0.02, and an interval that
# collapses on rare events misses far more (DM's row bootstrap covered 4 of 40 on a click rate of 0.5%).
SEEDS = int(os.environ.get("BANDITMAP_COVERAGE_SEEDS", "10"))
SETTINGS = [("uniform", 0.005, 8_000), ("softmax", 0.005, 8_000), ("uniform", 0.10, 4_000), ("softmax", 0.10, 4_000)]
ESTIMATES = ("replayed", "ips", "snips", "dr")


def test_intervals_cover_the_truth_and_the_logging_policy_is_not_called_better_or_worse(tmp_path: Path) -> None:
    """The Arm policy (action 0) and the uniform baseline on uniform and softmax logs, click rates 0.5% and 10%:
    every interval shown covers the policy's true value in at least 90% of seeds, per estimator over all settings
    (and in at least 75% within any one setting); on uniform logs the baseline, which is the logging policy, is
    called better or worse with confidence in at most 5% of seeds."""
    covered = {name: 0 for name in ESTIMATES}
    shown = {name: 0 for name in ESTIMATES}
    confident = 0
    for kind, rate, rows in SETTINGS:
        env = environment(rate)
        arms = truth_of_arms(env)
        truths = {"arm": arms[0], "uniform-random": arms.mean()}
        candidates = [spec(Arm(), "arm"), RunSpec("uniform-random", "uniform", build("uniform-random", {}, "u"))]
        here = {name: [0, 0] for name in ESTIMATES}
        for seed in range(SEEDS):
            result = run(tmp_path, env, kind, rows, seed, candidates)
            for r in result.results:
                if not r.evaluable:  # (too few rows kept: nothing is shown, as tested below)
                    assert not r.replayed.known and not any(e.known for e in r.final.values())
                    continue
                estimates = {"replayed": r.replayed, **r.final}
                assert not np.isfinite(estimates.pop("dm").low)  # DM is a point read, without an interval
                for name, e in estimates.items():
                    assert e.known and np.isfinite(e.low) and np.isfinite(e.high), (r.id, name, e)
                    hit = e.low <= truths[r.id] <= e.high
                    here[name][0] += hit
                    here[name][1] += 1
                if r.id == "uniform-random" and kind == "uniform":  # the logging policy itself
                    confident += not r.replayed_gain.low <= 0 <= r.replayed_gain.high
        for name, (hits, count) in here.items():
            assert count >= 1.5 * SEEDS and hits >= 0.75 * count, (kind, rate, name, hits, count)
            covered[name] += hits
            shown[name] += count
    for name in ESTIMATES:
        assert covered[name] >= 0.9 * shown[name], (name, covered[name], shown[name])
    assert confident <= 0.05 * SEEDS * 2, confident


def test_an_overfitted_final_policy_is_scored_at_its_value_on_fresh_data(tmp_path: Path) -> None:
    """Ten alike actions: the Memoriser's chosen action is the luckiest of the first half, but on the held-out half
    it earns what any action earns (0.10 on fresh data), and the estimates say so on average over 20 seeds."""
    global K
    saved, K = K, 10
    try:
        env = synthetic.LogEnvironment(np.zeros((K, D)), np.full(K, np.log(0.1 / 0.9)), True)
        estimates: dict[str, list[float]] = {"ips": [], "dr": [], "snips": []}
        for seed in range(20):
            result = run(tmp_path, env, "uniform", 3_000, seed, [spec(Memoriser(), "memo")])
            (r,) = result.results
            for name in estimates:
                estimates[name].append(r.final[name].value)
    finally:
        K = saved
    for name, values in estimates.items():
        mean, se = np.mean(values), np.std(values) / np.sqrt(len(values))
        assert mean < 0.10 + 3 * se + 1e-3, (name, mean, se)  # scored in-sample, it would be about 0.2


def test_a_zero_click_learner_gets_cannot_tell_with_the_rows_a_test_needs(tmp_path: Path) -> None:
    env = synthetic.LogEnvironment(np.zeros((K, D)), np.array([np.log(0.006 / 0.994), -40.0, -40.0]), True)
    result = run(tmp_path, env, "uniform", 2_400, 1, [spec(type("Never", (Arm,), {"ARM": 1})(), "never")])
    (r,) = result.results
    assert r.evaluable and r.replayed.value == 0 and r.kept >= 100
    assert r.replayed.high == pytest.approx(Z95 ** 2 / (r.kept + Z95 ** 2))  # Wilson's, not 0 +/- 0
    assert r.replayed_gain.low < 0 < r.replayed_gain.high
    lines = verdict(result)
    assert any(line.startswith("Cannot tell from the logging policy: never") and "needs about" in line
               for line in lines), lines
    assert not any("Earned less" in line for line in lines)
    logging_rate = result.logging.value
    expected = rows_needed(logging_rate, 0.0) / (r.kept / result.learning_rows)
    assert r.rows_needed == pytest.approx(expected) and f"{r.rows_needed:,.0f}" in " ".join(lines)


def test_a_learner_that_cannot_be_evaluated_shows_no_figure_and_says_why_and_what_would_fix_it(
        tmp_path: Path) -> None:
    """Softmax logs whose smallest propensity is tiny: rows match, rejection sampling discards them."""
    path = tmp_path / "rare.csv"
    lines = ["action,reward,propensity"] + [f"{i % 2},{int(i % 7 == 0)},{0.5 if i else 4.5e-05}"
                                            for i in range(4000)]
    path.write_text("\n".join(lines) + "\n")
    with logs.read_logs(path) as store:
        result = evaluate(store, [spec(Arm(), "arm")], 0)
    (r,) = result.results
    assert not r.evaluable and r.matched > 900 and r.kept < replay.MIN_KEPT
    assert "rejection sampling kept" in r.problem and "p_min = 4.5e-05" in r.problem
    assert "exploratory logging" in r.remedy
    assert not r.replayed.known and not r.replayed_gain.known and not r.final_gain.known
    assert not any(e.known for e in r.final.values())
    from banditmap.render.replay import replay_dict, replay_rows
    data = replay_dict(result, timings=False)
    (candidate,) = data["candidates"]
    assert data["schema"] == "banditmap.replay/4"
    assert all(v is None for e in candidate["final_policy"].values() for v in e.values())
    assert candidate["replayed"]["value"] is None and candidate["final_policy_problem"] == r.problem
    _, rows = replay_rows(result)
    assert rows[1][2:] == ["-"] * 8


def test_estimates_outside_the_rewards_range_are_flagged() -> None:
    same = Estimate(0.1, 0.09, 0.11)
    final = {"ips": Estimate(1.3, 0.2, 2.4), "snips": same, "dm": same, "dr": Estimate(-0.002, -0.01, 0.006)}
    result = CandidateResult("x", "X", False, 500, 5000, same, same, final, same, 5000.0, 2.0, 0.0, 0.0, (), 0.1)
    info = logs.LogInfo("x.csv", 10_000, ("0", "1"), (5000, 5000), "a", "r", "p", None, (), (), (), 1, False, 0.5,
                        0.0, True, 0.1, True)
    text = " ".join(results.warnings(result, info, 5000, (0.0, 1.0)))
    assert "estimates outside the rewards' range [0, 1]: IPS (1.3), DR (-0.002)" in text
    assert "outside" not in " ".join(results.warnings(replace(result, final=dict(final, ips=same, dr=same)), info,
                                                      5000, (0.0, 1.0)))


def test_newcombe_and_wilson_do_not_collapse_on_zero_events() -> None:
    zero = wilson(0, 130)
    assert zero.value == 0 and zero.low == 0 and 0.02 < zero.high < 0.03
    gain = newcombe(zero, wilson(40, 10_000))
    assert gain.low < -0.004 < 0 < gain.high


def test_the_holdout_option_sets_the_split_that_the_output_states(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from banditmap.cli.app import app
    path = tmp_path / "log.csv"
    synthetic.write_csv(path, environment(0.1), synthetic.LoggingPolicy("uniform"), 2_000, 0)
    runner = CliRunner()
    out = runner.invoke(app, ["replay", str(path), "--algorithms", "ucb1", "--holdout", "0.25", "--format", "json",
                              "--no-timings"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["split"] == {"learning_rows": 1500, "heldout_rows": 500, "learning": [1, 1500], "heldout": [1501, 2000]}
    assert "on the 1,500 learning rows" in data["verdict"][0] and "500 held-out rows" in data["verdict"][0]
    table = runner.invoke(app, ["replay", str(path), "--algorithms", "ucb1", "--holdout", "0.25"])
    assert "learning on rows 1-1,500, final policies scored on rows 1,501-2,000 (last 25%)" in " ".join(
        table.output.split())
    refused = runner.invoke(app, ["replay", str(path), "--algorithms", "ucb1", "--holdout", "1"])
    assert refused.exit_code == 2
