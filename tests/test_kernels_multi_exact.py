"""Exact checks of the multi-objective race (sim/kernels/multi.py) and of scalarization compiled around a K-armed
kernel policy (sim/kernels/wrappers.py's scalar template): the world's means and rewards replayed from its stream,
the Pareto gaps by hand, the weighted sum handed to the base, a short uniform race replayed round by round, late
feedback delivered in one pass as the loop delivers it, and the whole race against the step-by-step loop of the
adapter for the same seed."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.adapters import build_wrapper
from banditmap.sim.environments import make_environment, pareto_gaps
from banditmap.sim.kernels import arms, multi, wrappers
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run


def test_the_means_are_uniform_in_the_range_arm_by_arm_objective_by_objective() -> None:
    mu, gaps = np.zeros((2, 3, 2)), np.zeros((2, 3))
    env = states(2)
    multi.draw_worlds(mu, gaps, env)
    for r in range(2):
        stream = Stream(states(2)[r])
        assert mu[r].ravel().tolist() == [0.1 + 0.8 * stream.uniform() for _ in range(6)]
        assert int(env[r]) == stream.state
    assert gaps.tolist() == pareto_gaps(mu).tolist()


def test_pareto_gaps_by_hand() -> None:
    """Arms (0.9, 0.1), (0.1, 0.9), (0.5, 0.5) are on the front; (0.4, 0.3) needs +0.1 in both to escape (0.5, 0.5);
    (0.2, 0.05) needs +0.3 against (0.5, 0.5) (its lift against (0.9, 0.1) is only 0.05)."""
    mu = np.array([[[0.9, 0.1], [0.1, 0.9], [0.5, 0.5], [0.4, 0.3], [0.2, 0.05]]])
    gaps = np.full((1, 5), np.nan)
    multi.pareto_gaps(mu, gaps, 0)
    assert gaps[0].tolist() == pytest.approx([0, 0, 0, 0.1, 0.3], abs=1e-15) and gaps[0, :3].tolist() == [0, 0, 0]


def test_rewards_are_one_draw_per_objective_whatever_the_arm() -> None:
    mu = np.array([[[0.2, 0.7], [0.6, 0.4]]])
    for reward in (arms.BINARY, arms.CONTINUOUS):
        env, observed = states(1, 5), np.empty(2)
        stream = Stream(states(1, 5)[0])
        multi.draw_rewards(mu, env, 0, 1, reward, observed)
        if reward == arms.BINARY:
            want = [1.0 if stream.uniform() < m else 0.0 for m in (0.6, 0.4)]
        else:
            want = [m + 0.1 * stream.normal() for m in (0.6, 0.4)]
        assert observed.tolist() == want and int(env[0]) == stream.state
    assert multi.value_of(mu, 0, 0) == (0.2 + 0.7) / 2
    certain, observed = np.array([[[1.0, 0.0]]]), np.full(2, np.nan)  # a sure success and a sure failure: 1 and 0
    multi.draw_rewards(certain, states(1, 5), 0, 0, arms.BINARY, observed)
    assert observed.tolist() == [1.0, 0.0]


def test_scalarization_hands_the_base_its_parameters_and_the_weighted_sum() -> None:
    """UCB1 (alpha 0.5) on 0.3 r_1 + 0.7 r_2: the template's params are the base's, the weights, then D."""
    assert wrappers.weighted_sum(np.array([0.3, 0.7]), np.array([1.0, 0.5])) == 0.3 * 1.0 + 0.7 * 0.5
    assert wrappers.weighted_sums(np.array([[0.3, 0.7], [1.0, 0.0]]), np.array([[1.0, 0.5], [0.2, 9.0]])).tolist() == [
        0.3 + 0.7 * 0.5, 0.2]
    choose = arms.kernel("scalar_choose<choose_ucb1|learn_counts>")
    learn = arms.kernel("scalar_learn<choose_ucb1|learn_counts>")
    params = np.array([0.5, 0.3, 0.7, 2.0])
    counts, sums = np.array([[4.0, 1.0]]), np.array([[2.0, 0.4]])
    means, scratch, draws = sums / counts, np.zeros((1, 3)), states(1)
    # alpha 0.5: 0.5 + sqrt(0.5 log 5 / 4) = 0.95 against 0.4 + sqrt(0.5 log 5 / 1) = 1.30; with alpha 0 the
    # means alone: 0.5 against 0.4
    assert choose(params, counts, sums, means, scratch, draws, 0, 5, 10) == 1
    assert choose(np.array([0.0, 0.3, 0.7, 2.0]), counts, sums, means, scratch, draws, 0, 5, 10) == 0
    learn(params, counts, sums, means, scratch, draws, 0, 1, np.array([1.0, 0.5]))
    assert counts.tolist() == [[4.0, 2.0]] and sums[0, 1] == 0.4 + (0.3 * 1.0 + 0.7 * 0.5)


def race(choose_name: str, learn_name: str, params: list[float], R: int, K: int, D: int, T: int,
         feedback: int = arms.IMMEDIATE, width: int = 0) -> tuple[np.ndarray, ...]:
    points = np.arange(1, T + 1)
    out = (np.full((R, T), np.nan), np.full(R, np.nan), np.full(R, np.nan), np.full(R, np.nan))
    multi.make_race(choose_name, learn_name)(np.array(params, float), states(R, 1), states(R, 2), states(R, 3), K, D,
                                             np.zeros(width or K + 1), T, arms.CONTINUOUS, feedback, 2.0, 3, points,
                                             *out)
    return out


def test_a_short_uniform_race_replayed_round_by_round() -> None:
    """Uniform play of 3 arms with 2 objectives, 10 rounds: the world's means, each round's arm, its Pareto gap as
    regret, its mean value, two reward draws a round, the tail (the last round) and the rounds on the front."""
    R, K, D, T = 2, 3, 2, 10
    curve, final, tail, optimal = race("choose_uniform", "learn_nothing", [], R, K, D, T)
    for r in range(R):
        env, draws = Stream(states(R, 1)[r]), Stream(states(R, 3)[r])
        mu = np.array([[0.1 + 0.8 * env.uniform() for _ in range(D)] for _ in range(K)])
        gaps = pareto_gaps(mu[None])[0]
        regret, want, front = 0.0, [], 0
        for _ in range(T):
            arm = draws.below(K)
            value = (mu[arm, 0] + mu[arm, 1]) / 2
            regret += (value + gaps[arm]) - value
            front += gaps[arm] == 0.0
            want.append(regret)
            env.normal(), env.normal()
        assert curve[r].tolist() == want and final[r] == want[-1]
        assert tail[r] == value and optimal[r] == front / T
    assert 0.0 < optimal.min() < 1.0 and final.max() > 0.0  # an arm off the front in repetition 0


def test_late_feedback_is_delivered_in_one_pass_in_the_order_it_was_queued() -> None:
    """Batches of 3 rounds (every third round delivers three observations at once) and geometric delays (mean 2):
    the race's one-pass delivery learns what a queue delivering entry by entry learns (the loop's order), UCB1's
    numbers the same as those of the step-by-step kernels fed in that order."""
    R, K, D, T = 2, 3, 2, 40
    for feedback in (arms.BATCHED, arms.DELAYED):
        params = [2.0, 0.5, 0.5, 2.0]
        curve = race("scalar_choose<choose_ucb1|learn_counts>", "scalar_learn<choose_ucb1|learn_counts>", params, R,
                     K, D, T, feedback)[0]
        env, delays, draws = states(R, 1), states(R, 2), states(R, 3)
        mu, gaps = np.empty((R, K, D)), np.empty((R, K))
        multi.draw_worlds(mu, gaps, env)
        choose, learn = arms.make_steps("choose_ucb1", "learn_counts")
        counts, sums, means, scratch = np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K + 1))
        queue: list[tuple[int, int, int, float]] = []
        regret = np.zeros(R)
        for t in range(T):
            actions = choose(np.array([2.0]), counts, sums, means, scratch, draws, t, T)
            value, observed = np.empty(R), np.empty((R, D))
            multi.world_step(mu, env, actions, arms.CONTINUOUS, value, observed)
            regret += (value + gaps[np.arange(R), actions]) - value
            assert curve[:, t].tolist() == regret.tolist()
            arrival = (arms.delays_of(delays, t, 2.0) if feedback == arms.DELAYED
                       else np.full(R, (t // 3 + 1) * 3))
            queue += [(int(arrival[r]), r, int(actions[r]), 0.5 * observed[r, 0] + 0.5 * observed[r, 1])
                      for r in range(R)]
            due = [entry for entry in queue if entry[0] <= t + 1]
            queue = [entry for entry in queue if entry[0] > t + 1]
            if due:
                learn(np.array([2.0]), counts, sums, means, scratch, draws, np.array([e[1] for e in due]),
                      np.array([e[2] for e in due]), np.array([e[3] for e in due]), np.empty(0))


BASES = ["exp3", "thompson-beta", "thompson-gaussian", "ucb1+delay-queue", "epsilon-greedy+sliding-window"]


def scalarized(base: str, **params: Any) -> Any:
    names = base.split("+")
    policy = build(names[0], {}, "x")
    for adapter in names[1:]:
        policy = build_wrapper(adapter, policy, {}, "x")
    return build_wrapper("scalarization", policy, params, "x")


@pytest.mark.parametrize("feedback", ["immediate", "delayed", "batched"])
def test_the_race_gives_the_step_by_step_loops_numbers(feedback: str) -> None:
    """Scalarization around each base (EXP3 notes each decision's probability; the delay queue and the window add
    their columns to the base's row) and the uniform baseline, same seed: the whole race and the loop (runner.py
    with the same world given as a test's) give the same numbers; delays of 6 rounds on average, batches of 16
    rounds (as many as the queue holds at first) and of 25 (past which it grows)."""
    answers = {"multi_objective": "yes", "n_actions": 4, "reward_type": "continuous", "feedback_delay": feedback}
    problem = problem_from_answers(answers, rounds=70, reps=2)
    problem = dataclasses.replace(problem, mean_delay=6, batch_size=16)
    for name in [*BASES, "uniform-random"]:
        policy = build(name, {}, "x") if name == "uniform-random" else scalarized(name, weight=0.3)
        spec = RunSpec(name, name, policy)
        assert compiled.covers(policy, problem), name
        for case in (problem, dataclasses.replace(problem, batch_size=25)) if feedback == "batched" else (problem,):
            fast = run(spec, case, 4)
            slow = run(spec, case, 4, environment=lambda p, g: make_environment(p, g))
            for field in ("regret", "final_regret", "last_reward", "optimal"):
                assert np.array_equal(getattr(fast, field), getattr(slow, field)), (name, field)
            assert fast.below_baseline is None and fast.identified is None


def test_a_repetitions_numbers_do_not_depend_on_how_many_there_are() -> None:
    problem = problem_from_answers({"multi_objective": "yes", "n_actions": 4}, rounds=60, reps=3)
    spec = RunSpec("ts", "ts", scalarized("thompson-beta"))
    many, one = run(spec, problem, 2), run(spec, dataclasses.replace(problem, reps=1), 2)
    assert one.final_regret.tolist() == many.final_regret[:1].tolist() and len(set(many.final_regret)) == 3


def test_which_multi_objective_races_run_compiled() -> None:
    problem = problem_from_answers({"multi_objective": "yes", "n_actions": 4}, rounds=10, reps=2)
    assert compiled.covers(scalarized("exp3"), problem)
    assert not compiled.covers(scalarized("exp3", vectors=2), problem)  # several instances: the loop
    assert not compiled.covers(scalarized("conservative-ucb"), problem)  # a base without kernels: the loop
    # EXP3.P notes every arm's probability on a decision (K columns), which the race carries at once, not late
    assert compiled.covers(scalarized("exp3-p"), problem)
    assert not compiled.covers(scalarized("exp3-p"), dataclasses.replace(problem, delay="delayed"))
    assert compiled.covers(scalarized("exp3"), dataclasses.replace(problem, delay="delayed"))
    assert not compiled.covers(build("pareto-ucb", {}, "x"), problem)
    assert not compiled.covers(scalarized("exp3"), dataclasses.replace(problem, objective="best_arm"))
    form = compiled.multi_form(scalarized("ucb1", weight=0.2), dataclasses.replace(problem, objectives=3))
    assert form is not None and form.params.tolist() == [2.0, 0.2, 0.4, 0.4, 3.0]
    assert (form.choose, form.learn) == ("scalar_choose<choose_ucb1|learn_counts>",
                                         "scalar_learn<choose_ucb1|learn_counts>")
    assert compiled.multi_form(scalarized("ucb1"), dataclasses.replace(problem, kind="arms")) is None
