"""Exact checks of ranked bandits compiled around a K-armed kernel policy (sim/kernels/wrappers.py's ranked
template, raced in the cascade world of sim/kernels/lists.py): each position's stream derived from its repetition's,
the list of the positions' picks with a pick already shown above replaced by draws from the repetition's own
stream, the first click rewarding only the position whose pick it was, each instance playing its base's kernels on
its block of the row, and the whole race against the step-by-step loop of the adapter for the same seed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.adapters import build_wrapper
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import arms, lists, rng, wrappers
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

UCB1 = "ranked_choose<choose_ucb1|learn_counts>", "ranked_learn<choose_ucb1|learn_counts>"


def test_each_positions_stream_is_derived_from_its_repetitions_alone() -> None:
    own = states(3)
    streams = wrappers.position_streams(own, 2)
    assert streams.shape == (9,) and streams[:3].tolist() == own.tolist()
    for r in range(3):
        derived = rng.split(own[r], np.arange(2))
        assert [int(streams[3 + r]), int(streams[6 + r])] == [int(x) for x in derived]
    assert wrappers.position_streams(own[1:2], 2).tolist() == streams[[1, 4, 7]].tolist()  # not on R
    assert len({int(x) for x in streams}) == 9


def test_the_row_holds_a_block_per_position_then_the_picks_then_the_blocks_width() -> None:
    assert wrappers.ranked_row(np.array([0.5, 0.25, 0.0]), 2).tolist() == [0.5, 0.25, 0.0] * 2 + [0, 0] + [3.0]


def ucb_block(means: list[float], n: float = 10.0) -> tuple[list[float], list[float], list[float]]:
    """A position's counts, sums and means: every item seen n times, so UCB1 plays the largest mean."""
    return [n] * len(means), [n * m for m in means], means


def test_positions_pick_by_their_own_statistics_and_a_pick_shown_above_is_replaced() -> None:
    """UCB1 per position on 4 items, lists of 3: positions 0 and 1 both pick item 2, position 2 picks item 0.
    Position 1's pick is replaced by uniform draws of the 4 items from the repetition's stream until one is not
    item 2; position 2 keeps its pick unless the replacement took it. No tie: the positions' streams stay."""
    K, k, R = 4, 3, 2
    choose = lists.kernel(UCB1[0])
    assert choose is wrappers.composite(UCB1[0]) and lists.kernel("learn_cascade") is lists.learn_cascade
    blocks = [ucb_block([0.1, 0.2, 0.5, 0.3]), ucb_block([0.1, 0.2, 0.6, 0.3]), ucb_block([0.7, 0.1, 0.2, 0.3])]
    counts, sums, means = (np.zeros((R, k * K)) for _ in range(3))
    for p, (c, s, m) in enumerate(blocks):
        counts[1, p * K:(p + 1) * K], sums[1, p * K:(p + 1) * K], means[1, p * K:(p + 1) * K] = c, s, m
    scratch = np.tile(wrappers.ranked_row(np.zeros(K + 1), k), (R, 1))
    B = K + 1
    for seed in range(6):  # replacements that do and do not take position 2's pick
        draws = wrappers.position_streams(states(R, seed), k)
        before = draws.copy()
        items, board = np.full(k, -7, np.int64), np.full((2, k), np.nan)
        choose(np.array([2.0]), counts, sums, means, scratch, draws, 1, 5, 100, items, board)
        own = Stream(before[1])
        want = [2]
        for pick in (2, 0):
            item = pick
            while item in want:
                item = own.below(K)
            want.append(item)
        assert items.tolist() == want and scratch[1, k * B:k * B + k].tolist() == [2, 2, 0]
        assert int(draws[1]) == own.state and [int(x) for x in draws[[3, 5, 7]]] == [int(x) for x in before[[3, 5, 7]]]
        assert draws[[0, 2, 4, 6]].tolist() == before[[0, 2, 4, 6]].tolist()  # repetition 0's are untouched


def test_the_first_click_rewards_only_the_position_whose_pick_it_was() -> None:
    """Picks 2, 2, 0 shown as 2, 3, 0 (position 1's replaced): a click at position 1 rewards nobody (its item is
    not position 1's pick, which learns 0 for item 2), a click at position 2 rewards position 2's pick (item 0), no
    click rewards nobody. Every position learns its own pick, in its own columns."""
    K, k, R = 4, 3, 1
    learn = lists.kernel(UCB1[1])
    scratch = np.tile(wrappers.ranked_row(np.zeros(K + 1), k), (R, 1))
    scratch[0, 3 * 5:3 * 5 + 3] = [2, 2, 0]
    counts, sums, means = (np.zeros((R, k * K)) for _ in range(3))
    draws = wrappers.position_streams(states(R), k)
    items = np.array([2, 3, 0])
    for observed in ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]):
        learn(np.array([2.0]), counts, sums, means, scratch, draws, 0, items, np.array(observed))
    assert counts[0].tolist() == [0, 0, 3, 0] + [0, 0, 3, 0] + [3, 0, 0, 0]
    assert sums[0].tolist() == [0] * 8 + [1, 0, 0, 0] and means[0, 8] == 1 / 3


@pytest.mark.parametrize("base", ["thompson-beta", "exp3-ix", "kl-ucb+sliding-window"])
def test_each_position_is_its_base_on_its_block_of_the_row_and_its_stream(base: str) -> None:
    """Ranked bandits around Thompson sampling (draws when it learns), EXP3-IX (a note on each decision, learnt
    with it) and KL-UCB in a sliding window (an adapter's columns ending the base's row), 40 rounds on 5 items,
    lists of 3: the template plays and learns as k copies of the base's kernels would, each on its own columns of
    the statistics, block of the row and stream, the replacements drawn from the repetition's stream."""
    K, k, T = 5, 3, 40
    problem = problem_from_answers({"action_structure": "ranking", "action_space": "many", "n_actions": K,
                                    "slate_size": k}, rounds=T, reps=1)
    names = base.split("+")
    policy = build(names[0], {}, "x")
    for adapter in names[1:]:
        policy = build_wrapper(adapter, policy, {"window": 6}, "x")
    policy = build_wrapper("ranked-bandits", policy, {}, "x")
    form = compiled.ranked_form(policy, problem)
    inner = compiled.kernel_form(policy.base, policy.positions_problem(problem))
    assert form is not None and inner is not None and form.params.tolist() == inner.params.tolist()
    choose, learn = lists.kernel(form.choose), lists.kernel(form.learn)
    base_choose, base_learn = arms.kernel(inner.choose), arms.kernel(inner.learn)
    counts, sums, means = (np.zeros((1, k * K)) for _ in range(3))
    row = form.start[None, :].copy()
    B = inner.start.shape[0]
    draws = wrappers.position_streams(states(1), k)
    stats = [[np.zeros((1, K)) for _ in range(3)] for _ in range(k)]
    rows = [inner.start[None, :].copy() for _ in range(k)]
    streams = [draws[1 + p:2 + p].copy() for p in range(k)]
    own, world = draws[:1].copy(), Stream(states(1, 8)[0])
    items, board = np.empty(k, np.int64), np.empty((2, k))
    for t in range(T):
        choose(form.params, counts, sums, means, row, draws, 0, t, T, items, board)
        picks = [base_choose(inner.params, *stats[p], rows[p], streams[p], 0, t, T) for p in range(k)]
        shown = np.empty(k, np.int64)
        for p in range(k):
            shown[p] = wrappers.distinct_item(shown, p, picks[p], K, own, 0)
        assert items.tolist() == shown.tolist() and row[0, k * B:k * B + k].tolist() == picks
        click = next((p for p in range(k) if world.uniform() < 0.3), k)
        observed = np.array([1.0 if p == click else 0.0 for p in range(k)])
        learn(form.params, counts, sums, means, row, draws, 0, items, observed)
        for p in range(k):
            base_learn(inner.params, *stats[p], rows[p], streams[p], 0, picks[p],
                       1.0 if p == click and shown[p] == picks[p] else 0.0)
    for p in range(k):
        for mine, theirs in zip((counts, sums, means), stats[p]):
            assert mine[0, p * K:(p + 1) * K].tolist() == theirs[0].tolist()
        assert row[0, p * B:(p + 1) * B].tolist() == rows[p][0].tolist()
    assert [int(x) for x in draws] == [int(own[0])] + [int(s[0]) for s in streams]
    assert counts.sum() == k * (6 if "window" in base else T) and 0 < sums.sum() < T  # a window keeps 6


CASCADE = {"action_structure": "ranking", "action_space": "many", "n_actions": 7, "slate_size": 3}
BASES = ["exp3-ix", "exp3-p", "thompson-beta", "kl-ucb", "epsilon-greedy+delay-queue"]  # exp3-p: a note of K columns


def ranked(base: str) -> object:
    names = base.split("+")
    policy = build(names[0], {}, "x")
    for adapter in names[1:]:
        policy = build_wrapper(adapter, policy, {}, "x")
    return build_wrapper("ranked-bandits", policy, {}, "x")


@pytest.mark.parametrize("base", BASES)
def test_the_race_gives_the_step_by_step_loops_numbers(base: str) -> None:
    """Ranked bandits around each base, same seed: the whole race and the adapter in the loop (runner.py with the
    same world given as a test's) give the same numbers; a repetition's numbers do not depend on how many there
    are."""
    problem = problem_from_answers(CASCADE, rounds=80, reps=3)
    spec = RunSpec(base, base, ranked(base))  # type: ignore[arg-type]
    assert compiled.covers(spec.policy, problem)
    fast = run(spec, problem, 4)
    slow = run(spec, problem, 4, environment=lambda p, g: make_environment(p, g))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    one = run(spec, dataclasses.replace(problem, reps=1), 4)
    assert one.final_regret.tolist() == fast.final_regret[:1].tolist() and len(set(fast.final_regret)) == 3


def test_which_ranked_races_run_compiled() -> None:
    cascade = problem_from_answers(CASCADE, rounds=10, reps=2)
    assert compiled.covers(ranked("exp3-ix"), cascade)
    late = dataclasses.replace(cascade, delay="delayed")  # the list race carries no picks with late feedback
    assert not compiled.covers(ranked("exp3-ix"), late) and compiled.ranked_form(ranked("exp3-ix"), late) is None
    assert not compiled.covers(ranked("conservative-ucb"), cascade)  # a base without kernels: the loop
    slate = dataclasses.replace(cascade, kind="slate")
    assert not compiled.covers(ranked("exp3-ix"), slate)
    form = compiled.ranked_form(ranked("ucb1"), cascade)
    assert form is not None and (form.choose, form.learn) == UCB1 and form.start.tolist() == [0.0] * 27 + [8.0]
