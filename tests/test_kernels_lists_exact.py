"""Exact checks of the list kernels (sim/kernels/lists.py): the cascade and slate worlds replayed from their streams,
the ranking of items (ties by keys drawn when first needed), each policy's index by hand on a tiny state, the
cascade's learning rule on a small example, a short race replayed round by round, reproducibility whatever the
number of repetitions, and the whole race against the step-by-step loop for the same seed. Small enough to run as
plain Python (NUMBA_DISABLE_JIT=1), as the mutation run does (tools/mutation.py)."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
import math
from typing import Any

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import arms, lists
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

CASCADE, SLATE = lists.CASCADE, lists.SLATE


def board(k: int) -> tuple[np.ndarray, np.ndarray]:
    """A list's items (k,) and working space (2, k), filled with what a kernel must overwrite."""
    return np.full(k, -7, np.int64), np.full((2, k), np.nan)


def stats(counts: Any, sums: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c, s = np.atleast_2d(np.asarray(counts, float)), np.atleast_2d(np.asarray(sums, float))
    return c, s, np.where(c > 0, s / np.maximum(c, 1), 0.0)


# --- the worlds ---------------------------------------------------------------------------------------------------

def test_attractions_are_beta_1_12_in_item_order_from_the_repetitions_stream() -> None:
    env, w = states(3, 5), np.full((3, 4), np.nan)
    lists.draw_attractions(w, env, 1)
    ref = Stream(states(3, 5)[1])
    assert w[1].tolist() == pytest.approx([ref.beta(1.0, 12.0) for _ in range(4)], rel=1e-14)
    assert int(env[1]) == ref.state
    assert np.isnan(w[[0, 2]]).all() and env[0] == states(3, 5)[0] and env[2] == states(3, 5)[2]
    top = lists.draw_worlds(w, env, 2, CASCADE)
    for r in range(3):
        ref = Stream(states(3, 5)[r])
        if r == 1:
            for _ in range(4):
                ref.beta(1.0, 12.0)
        assert w[r].tolist() == pytest.approx([ref.beta(1.0, 12.0) for _ in range(4)], rel=1e-14)
        a, b = sorted(w[r])[-2:]
        assert top[r] == pytest.approx(1 - (1 - a) * (1 - b), rel=1e-15)
    assert 0 < w.min() and w.max() < 1


def test_list_values_and_the_best_list_by_hand() -> None:
    w = np.array([[0.9, 0.9, 0.9, 0.9], [0.1, 0.5, 0.2, 0.4]])
    pair = np.array([1, 3])
    assert lists.list_value(w, 1, pair, CASCADE) == pytest.approx(1 - 0.5 * 0.6, rel=1e-15)
    assert lists.list_value(w, 1, pair, SLATE) == pytest.approx(0.9, rel=1e-15)
    assert lists.list_value(w, 1, np.array([3, 1]), CASCADE) == lists.list_value(w, 1, pair, CASCADE)
    assert lists.list_value(w, 1, np.array([0, 2, 1]), CASCADE) == pytest.approx(1 - 0.9 * 0.8 * 0.5, rel=1e-15)
    assert lists.list_value(w, 1, np.array([0, 2, 1]), SLATE) == pytest.approx(0.8, rel=1e-15)
    assert lists.best_value(w, 1, 2, CASCADE) == pytest.approx(0.7, rel=1e-15)
    assert lists.best_value(w, 1, 2, SLATE) == pytest.approx(0.9, rel=1e-15)
    assert lists.best_value(w, 1, 3, CASCADE) == pytest.approx(1 - 0.5 * 0.6 * 0.8, rel=1e-15)
    assert lists.best_value(w, 1, 3, SLATE) == pytest.approx(1.1, rel=1e-15)
    assert lists.best_value(w, 1, 1, SLATE) == 0.5 and lists.best_value(w, 0, 1, CASCADE) == 0.9


def test_one_uniform_per_position_and_the_cascade_clicks_the_first_attractive_item() -> None:
    """Attractions 0.6 and 0.3: on a slate each item is clicked when its uniform is below its attraction; the cascade
    sees the same uniforms and keeps only the first click. Every round draws k uniforms, clicks or not."""
    w = np.array([[0.6, 0.3, 0.45]])
    items = np.array([0, 2, 1])
    seen = set()
    for seed in range(40):
        for world in (SLATE, CASCADE):
            env, observed = states(1, seed), np.full(3, np.nan)
            lists.draw_clicks(w, env, 0, items, world, observed)
            ref = Stream(states(1, seed)[0])
            hits = [ref.uniform() < p for p in (0.6, 0.45, 0.3)]
            first = hits.index(True) if any(hits) else 3
            want = [float(h) for h in hits] if world == SLATE else [float(p == first) for p in range(3)]
            assert observed.tolist() == want and int(env[0]) == ref.state
            seen.add((world, sum(hits)))
    assert {(SLATE, n) for n in range(4)} <= seen and (CASCADE, 2) in seen  # several clicks, and none


def test_the_worlds_step_every_repetition() -> None:
    w = np.array([[0.6, 0.3, 0.45], [0.2, 0.7, 0.1]])
    env, chosen = states(2, 8), np.array([[2, 0], [1, 2]])
    value, observed = np.full(2, np.nan), np.full((2, 2), np.nan)
    lists.world_step(w, env, chosen, CASCADE, value, observed)
    assert value.tolist() == pytest.approx([1 - 0.55 * 0.4, 1 - 0.3 * 0.9], rel=1e-15)
    for r, row in enumerate(((0.45, 0.6), (0.7, 0.1))):
        ref = Stream(states(2, 8)[r])
        hits = [ref.uniform() < p for p in row]
        assert observed[r].tolist() == [float(hits[0]), float(hits[1] and not hits[0])] and int(env[r]) == ref.state


# --- ranking the items --------------------------------------------------------------------------------------------

def offered(scores: list[float], k: int, env: np.ndarray, r: int = 0) -> tuple[list[int], np.ndarray, float]:
    items, space = board(k)
    filled, floor = 0, -math.inf
    for i, score in enumerate(scores):
        if score >= floor:
            filled, floor = lists.offer(score, i, items, space, filled, env, r)
    assert filled == min(k, len(scores))
    return items.tolist(), space, floor


def test_distinct_scores_keep_the_k_best_in_order_without_a_draw() -> None:
    env = states(2)
    chosen, space, floor = offered([0.3, 0.9, 0.1, 0.5, 0.7, 0.2], 3, env, 1)
    assert chosen == [1, 4, 3] and space[0].tolist() == [0.9, 0.7, 0.5] and floor == 0.5
    assert space[1].tolist() == [-1.0, -1.0, -1.0]  # no key drawn
    assert env.tolist() == states(2).tolist()
    assert offered([0.3, 0.9], 3, env)[2] == -math.inf  # a list not full yet takes every item
    items, space = board(2)
    assert lists.offer(0.4, 5, items, space, 0, env, 0) == (1, -math.inf)
    assert lists.offer(0.6, 6, items, space, 1, env, 0) == (2, 0.4)
    assert lists.offer(0.1, 7, items, space, 2, env, 0) == (2, 0.4)  # below the floor: nothing moves
    assert lists.offer(0.5, 8, items, space, 2, env, 0) == (2, 0.5) and items.tolist() == [6, 8]
    assert lists.offer(0.9, 9, items, space, 2, env, 0) == (2, 0.6) and items.tolist() == [9, 6]
    assert env.tolist() == states(2).tolist()


def test_a_tie_draws_the_new_items_key_then_the_slots() -> None:
    """Scores 2, 2 in a list of 2: the second item meets the first's slot; its key u1 is drawn, then the slot's
    u2, and it goes above when u1 > u2. A third item of score 2 then meets the last slot with its own key u3."""
    orders = set()
    for seed in range(30):
        env = states(1, seed)
        ref = Stream(states(1, seed)[0])
        u1, u2 = ref.uniform(), ref.uniform()
        chosen, space, floor = offered([2.0, 2.0], 2, env)
        assert chosen == ([1, 0] if u1 > u2 else [0, 1]) and space[1].tolist() == sorted([u1, u2], reverse=True)
        u3 = ref.uniform()
        env = states(1, seed)
        chosen, space, _ = offered([2.0, 2.0, 2.0], 2, env)
        keys = {0: u2, 1: u1, 2: u3}
        after_two = [1, 0] if u1 > u2 else [0, 1]
        if u3 > keys[after_two[1]]:  # it takes the last slot, and may pass the first
            after_two = [2, after_two[0]] if u3 > keys[after_two[0]] else [after_two[0], 2]
        assert chosen == after_two and int(env[0]) == ref.state
        orders.add(tuple(chosen))
    assert len(orders) == 6


def test_untried_items_come_first_in_uniformly_random_order_then_the_best() -> None:
    """Three untried items (infinite scores) among five, lists of 4: over 3,000 repetitions each of the 6 orders
    of the three comes with share 1/6 (standard deviation 0.0068; 0.03 is over 4 of them), the best tried last."""
    R = 3000
    env = states(R, 2)
    counts = Counter()
    for r in range(R):
        chosen, _, _ = offered([math.inf, 0.2, math.inf, 0.7, math.inf], 4, env, r)
        assert chosen[3] == 3
        counts[tuple(chosen[:3])] += 1
    assert set(counts) == set(itertools.permutations([0, 2, 4]))
    assert all(abs(n / R - 1 / 6) < 0.03 for n in counts.values())


# --- decisions ----------------------------------------------------------------------------------------------------

def test_ucb_items_by_hand_and_each_items_root_kept_until_it_learns() -> None:
    """counts 4, 1, 0, 2 and sums 3, 0, 0, 2: t = 7, index mean + sqrt(1.5 ln 7 / n), untried first."""
    counts, sums, means = stats([[9, 9, 9, 9], [4, 1, 0, 2]], [[0, 0, 0, 0], [3, 0, 0, 2]])
    scratch = np.zeros((2, 5))
    items, space = board(3)
    env = states(2)
    lists.choose_ucb_items(np.array([1.5]), counts, sums, means, scratch, env, 1, 0, 10, items, space)
    root = math.sqrt(1.5 * math.log(7))
    assert items.tolist() == [2, 3, 1]
    np.testing.assert_allclose(space[0], [math.inf, 1 + root / math.sqrt(2), root], rtol=1e-15)
    np.testing.assert_allclose(scratch[1], [0.5, 1.0, 0.0, 1 / math.sqrt(2), 0.0], rtol=1e-15)
    assert not scratch[0].any() and env.tolist() == states(2).tolist()  # the other repetition untouched, no tie
    scratch[1, 0] = 2.0  # a kept root is used as it is: 0.75 + 2 root passes every tried item
    lists.choose_ucb_items(np.array([1.5]), counts, sums, means, scratch, env, 1, 0, 10, items, space)
    assert items.tolist() == [2, 0, 3] and space[0, 1] == pytest.approx(0.75 + 2 * root, rel=1e-15)
    scratch[1, 0] = -1.0  # ... until its statistics change
    counts[1] = [1, 1, 1, 1]
    lists.choose_ucb_items(np.array([0.0]), counts, sums, means, scratch, env, 1, 0, 10, items, space)
    assert scratch[1, 0] == 1.0 and items.tolist()[:2] == [3, 0]  # alpha 0: the means 0.75, 0, 0, 1
    assert items[2] in (1, 2) and int(env[1]) != states(2)[1]  # items 1 and 2 tie: keys drawn
    # t is held at 2 below 2 observations (log t > 0)
    assert lists.observations(np.array([[0.0, 1.0]]), 0) == 2.0 and lists.observations(np.array([[3.0, 1.0]]), 0) == 4


def kl_root(mean: float, budget: float) -> float:
    """The q > mean solving kl(mean, q) = budget, by bisection."""
    def kl(p: float, q: float) -> float:
        return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))
    low, high = mean, 1 - 1e-12
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (low, mid) if kl(mean, mid) > budget else (mid, high)
    return low


def test_kl_ucb_items_cache_their_indices_and_refresh_when_t_grows_by_5_percent() -> None:
    counts, sums, means = stats([[4, 2, 2, 0, 12]], [[2, 0, 1, 0, 6]])  # t = 20
    scratch = np.zeros((1, 6))
    items, space = board(3)
    env = states(1)
    lists.choose_kl_ucb_items(np.zeros(0), counts, sums, means, scratch, env, 0, 0, 10, items, space)
    budget = math.log(20)
    # item 4's ceiling 0.5 + sqrt(log 20 / 24) = 0.853 is below the floor, item 0's index 0.94: kept as -ceiling
    want = [arms.kl_upper(0.5, budget / 4), arms.kl_upper(0.0, budget / 2), arms.kl_upper(0.5, budget / 2), 0.0,
            -(0.5 + math.sqrt(budget / 12 / 2.0)), 20.0]
    assert scratch[0].tolist() == want and items.tolist() == [3, 2, 0]
    assert arms.kl_upper(0.5, budget / 12) <= -want[4] < want[0]
    assert want[0] == pytest.approx(kl_root(0.5, budget / 4), abs=1e-3)
    assert space[0, 1:].tolist() == [want[2], want[0]]
    # one more observation of item 1 (t = 21, within 5% of 20): item 1 alone is computed again, with log 20
    lists.learn_cascade(np.zeros(0), counts, sums, means, scratch, env, 0, np.array([1]), np.array([1.0]))
    assert scratch[0, 1] == -1.0
    lists.choose_kl_ucb_items(np.zeros(0), counts, sums, means, scratch, env, 0, 0, 10, items, space)
    assert scratch[0].tolist() == [want[0], arms.kl_upper(1 / 3, budget / 3)] + want[2:]
    # t = 22 > 21 = 1.05 x 20: every index afresh with log 22 (item 4's ceiling too)
    counts[0, 4] += 1
    lists.choose_kl_ucb_items(np.zeros(0), counts, sums, means, scratch, env, 0, 0, 10, items, space)
    budget = math.log(22)
    assert scratch[0].tolist() == [arms.kl_upper(0.5, budget / 4), arms.kl_upper(1 / 3, budget / 3),
                                   arms.kl_upper(0.5, budget / 2), 0.0, -(0.5 + math.sqrt(budget / 13 / 2.0)), 22.0]
    # a kept ceiling above the floor (here none: a list of all five) is replaced by the item's index
    items, space = board(5)
    lists.choose_kl_ucb_items(np.zeros(0), counts, sums, means, scratch, env, 0, 0, 10, items, space)
    assert scratch[0, 4] == arms.kl_upper(0.5, budget / 13) and items[4] == 4


def test_pbm_ucb_by_hand() -> None:
    """epsilon 0.5, examination 0.5, lists of 2, counts 4, 2, 0, 3 and sums 2, 1, 0, 0: t = 9 / 2, the index
    S/N~ + sqrt(N (1 + epsilon) log t / (2 N~^2)) with N~ = 0.5 N; the untried item first."""
    counts, sums, means = stats([[4, 2, 0, 3]], [[2, 1, 0, 0]])
    scratch = np.zeros((1, 9))
    items, space = board(2)
    lists.choose_pbm_ucb(np.array([0.5, 0.5]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    delta = 1.5 * math.log(4.5)

    def index(n: float, s: float) -> float:
        return s / (0.5 * n) + math.sqrt(n * delta / (2 * (0.5 * n) ** 2))

    assert items.tolist() == [2, 1] and space[0, 1] == pytest.approx(index(2, 1), rel=1e-14)
    assert scratch[0, :4].tolist() == pytest.approx([1.0, 1.0, 0.0, 0.0], rel=1e-15)
    assert scratch[0, 5:].tolist() == pytest.approx([1 / (0.5 * math.sqrt(8)), 1 / (0.5 * math.sqrt(4)), 0.0,
                                                     1 / (0.5 * math.sqrt(6))], rel=1e-15)
    items, space = board(4)
    scratch[:] = 0.0
    lists.choose_pbm_ucb(np.array([0.5, 0.5]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    # t = max(9 / 4, 2) = 2.25 with lists of 4
    delta = 1.5 * math.log(2.25)
    assert items.tolist() == [2, 1, 0, 3]
    np.testing.assert_allclose(space[0], [math.inf, index(2, 1), index(4, 2), index(3, 0)], rtol=1e-14)
    scratch[0, 0] = -1.0  # stale: recomputed from the statistics
    sums[0, 0] = 4.0
    lists.choose_pbm_ucb(np.array([0.5, 0.5]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    assert scratch[0, 0] == 2.0 and items.tolist() == [2, 0, 1, 3]
    # the displays are divided by k, held at 2: log t > 0 with few displays
    counts, sums, means = stats([[1, 1, 0]], [[1, 0, 0]])
    items, space = board(2)
    lists.choose_pbm_ucb(np.array([0.0, 1.0]), counts, sums, means, np.zeros((1, 7)), states(1), 0, 0, 10, items, space)
    assert space[0, 1] == pytest.approx(1 + math.sqrt(math.log(2) / 2), rel=1e-15)


def test_cts_ranks_beta_draws_and_keeps_each_items_gamma_constants_until_it_learns() -> None:
    """Beta(1 + clicks, 1 + max(shown - clicks, 0)) for each item in order, from the repetition's stream, the k
    largest first; c = 1 / sqrt(9 d) of both shapes kept per item (a reward above 1 leaves misses at 0)."""
    counts, sums, means = stats([[10, 3, 0, 4, 2]] * 20, [[9, 3, 0, 1, 2.5]] * 20)
    scratch = np.zeros((20, 11))
    env = states(20)
    picks = set()
    for r in range(20):
        ref = Stream(states(20)[r])
        draws = [ref.beta(1 + s, 1 + max(n - s, 0)) for n, s in zip(counts[r], sums[r])]
        items, space = board(3)
        lists.choose_cts(np.zeros(0), counts, sums, means, scratch, env, r, 0, 10, items, space)
        assert items.tolist() == np.argsort(draws)[::-1][:3].tolist() and int(env[r]) == ref.state
        assert space[0].tolist() == pytest.approx(sorted(draws, reverse=True)[:3], rel=1e-14)
        picks.add(items[0])
    assert len(picks) >= 3

    def c(shape: float) -> float:
        return 1 / math.sqrt(9 * (shape - 1 / 3))

    assert scratch[0].tolist() == pytest.approx([c(10), c(4), c(1), c(2), c(3.5), 0.0, c(2), c(1), c(1), c(4), c(1)],
                                                rel=1e-15)
    scratch[0, 0] = 0.25  # a kept constant is used as it is ...
    before = scratch[0].copy()
    lists.choose_cts(np.zeros(0), counts, sums, means, scratch, env, 0, 0, 10, *board(3))
    assert scratch[0].tolist() == before.tolist()
    lists.learn_slate(np.zeros(0), counts, sums, means, scratch, env, 0, np.array([0, 4]), np.array([1.0, 0.0]))
    assert scratch[0, 0] == -1.0 and scratch[0, 4] == -1.0  # ... until the item learns
    lists.choose_cts(np.zeros(0), counts, sums, means, scratch, env, 0, 0, 10, *board(3))
    assert scratch[0, [0, 4, 6, 10]].tolist() == pytest.approx([c(11), c(3.5), c(2), c(1.5)], rel=1e-15)
    sums[1, 1], scratch[1, 1] = -1.5, -1.0  # a negative reward: shape -0.5 + 1 = 0.5 below 1, drawn without constants
    ref = Stream(env[1])
    draws = [ref.beta(1 + s, 1 + max(n - s, 0)) for n, s in zip(counts[1], sums[1])]
    items, space = board(3)
    lists.choose_cts(np.zeros(0), counts, sums, means, scratch, env, 1, 0, 10, items, space)
    assert scratch[1, 1] == -1.0 and int(env[1]) == ref.state  # no constants kept for a shape below 1
    assert items.tolist() == np.argsort(draws)[::-1][:3].tolist()


def test_uniform_lists_are_distinct_items_redrawn_while_repeated() -> None:
    env = states(50)
    seen = set()
    for r in range(50):
        items, space = board(3)
        lists.choose_uniform_list(np.zeros(0), np.zeros((50, 4)), np.zeros((50, 4)), np.zeros((50, 4)),
                                  np.zeros((50, 5)), env, r, 0, 10, items, space)
        ref, want = Stream(states(50)[r]), list[int]()
        while len(want) < 3:
            item = ref.below(4)
            want += [] if item in want else [item]
        assert items.tolist() == want and int(env[r]) == ref.state
        seen.add(tuple(want))
    assert len(seen) >= 12  # of the 24 lists


def test_ranked_ucb_by_hand() -> None:
    """Position 0: counts 4, 2, 1, 1, sums 3, 1, 0, 1, t = 8: indices 0.75 + sqrt(1.5 ln 8 / 4) = 1.63,
    0.5 + 1.25 = 1.75, 1.77 and 2.77: item 3. Position 1: each item once, means 0.2, 0, 0, 0.9 (t = 4): item 3 again
    best, but already above, so item 0. The stamp of the decision marks the items taken."""
    counts, sums, means = stats([[4, 2, 1, 1, 1, 1, 1, 1]], [[3, 1, 0, 1, 0.2, 0, 0, 0.9]])
    scratch = np.zeros((1, 5))
    items, space = board(2)
    lists.choose_ranked_ucb(np.array([1.5]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    assert items.tolist() == [3, 0] and scratch[0].tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    lists.choose_ranked_ucb(np.array([0.0]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    assert items.tolist() == [3, 0] and scratch[0].tolist() == [2.0, 0.0, 0.0, 2.0, 2.0]
    counts[0, 4] = 0.0  # an untried item at position 1 comes first there
    lists.choose_ranked_ucb(np.array([1.5]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    assert items.tolist() == [3, 0]  # item 0 at position 1 is untried: index inf
    counts[0, 4], counts[0, 5] = 1.0, 0.0
    lists.choose_ranked_ucb(np.array([1.5]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    assert items.tolist() == [3, 1]
    # alpha 0.5: position 0 keeps item 3 (1 + 1.02 against 1.26, 1.22 and 1.02); position 1, whose t is its own 3
    # observations, skips item 3 (untried, but above) for item 0 (0.2 + 0.74 against 0.74 twice)
    counts[0, 4:] = [1, 1, 1, 0]
    lists.choose_ranked_ucb(np.array([0.5]), counts, sums, means, scratch, states(1), 0, 0, 10, items, space)
    assert items.tolist() == [3, 0]


@pytest.mark.parametrize("kernel, params", [("choose_ucb_items", [1.5]), ("choose_kl_ucb_items", []),
                                            ("choose_pbm_ucb", [0.0, 1.0]), ("choose_ranked_ucb", [1.5])])
def test_items_tied_at_the_floor_each_take_the_place(kernel: str, params: list[float]) -> None:
    """Three items with the same statistics, lists of 1: the first fills the list, the other two meet its score
    (the floor) and each takes the place with its tie's chance, so over 40 repetitions each of the three comes."""
    R = 40
    counts, sums, means = stats([[2, 2, 2]] * R, [[1, 1, 1]] * R)
    scratch = np.zeros((R, 7))
    env = states(R)
    chosen = []
    for r in range(R):
        items, space = board(1)
        getattr(lists, kernel)(np.array(params), counts, sums, means, scratch, env, r, 0, 10, items, space)
        chosen.append(int(items[0]))
    assert set(chosen) == {0, 1, 2}


def test_ranked_ucb_ts_are_each_positions_observations() -> None:
    """Lists of 1, so one position: item 0 seen once without a click, item 1 clicked 2 times in 4 (t = 5): item 0
    leads when sqrt(alpha ln t) > 1 (0 + x against 0.5 + x / 2): at alpha 0.6 not (0.97), at 0.65 it does (1.05); had t
    been 6 or 4, each would turn. Counts 1 and 1.5 (t = 2.5, below 3): item 0 leads at alpha 7.5 only if
    sqrt(alpha ln t) (1 - 1 / sqrt(1.5)) > 0.5 (alpha ln t > 7.43): not at t = 2.5 (6.87), it would at t = 3."""
    for alpha, want in ((0.6, 1), (0.65, 0)):
        counts, sums, means = stats([[1, 4]], [[0, 2]])
        items, space = board(1)
        lists.choose_ranked_ucb(np.array([alpha]), counts, sums, means, np.zeros((1, 3)), states(1), 0, 0, 10, items,
                                space)
        assert items.tolist() == [want]
    counts, sums, means = stats([[1, 1.5]], [[0, 0.75]])
    items, space = board(1)
    lists.choose_ranked_ucb(np.array([7.5]), counts, sums, means, np.zeros((1, 3)), states(1), 0, 0, 10, items, space)
    assert items.tolist() == [1]


# --- learning -----------------------------------------------------------------------------------------------------

def test_the_cascade_learns_down_to_the_click() -> None:
    """List 3, 1, 0 clicked at position 1: item 3 examined and skipped, item 1 a success, item 0 not examined.
    Then list 0, 2, 3 without a click: all three examined and skipped."""
    counts, sums, means = stats([[2, 0, 0, 3], [5, 5, 5, 5]], [[1, 0, 0, 1], [1, 1, 1, 1]])
    means[0, 2] = 0.7  # an item not examined keeps its mean
    scratch = np.full((2, 5), 0.5)
    lists.learn_cascade(np.zeros(0), counts, sums, means, scratch, states(2), 0, np.array([3, 1, 0]),
                        np.array([0.0, 1.0, 0.0]))
    assert counts[0].tolist() == [2, 1, 0, 4] and sums[0].tolist() == [1, 1, 0, 1]
    assert means[0].tolist() == [0.5, 1.0, 0.7, 0.25] and scratch[0].tolist() == [0.5, -1, 0.5, -1, 0.5]
    lists.learn_cascade(np.zeros(0), counts, sums, means, scratch, states(2), 0, np.array([0, 2, 3]),
                        np.zeros(3))
    assert counts[0].tolist() == [3, 1, 1, 5] and sums[0].tolist() == [1, 1, 0, 1]
    assert means[0].tolist() == [1 / 3, 1.0, 0.0, 0.2] and scratch[0].tolist() == [-1, -1, -1, -1, 0.5]
    lists.learn_cascade(np.zeros(0), counts, sums, means, scratch, states(2), 0, np.array([2, 0, 1]),
                        np.array([1.0, 0.0, 0.0]))  # a click at the top: only that item learns
    assert counts[0].tolist() == [3, 1, 2, 5] and sums[0].tolist() == [1, 1, 1, 1]
    assert counts[1].tolist() == [5, 5, 5, 5] and scratch[1].tolist() == [0.5] * 5


def test_a_slate_learns_every_reward_as_it_is_and_ranked_ucb_per_position() -> None:
    counts, sums, means = stats([[1, 0, 0, 0], [0, 0, 0, 0]], [[1, 0, 0, 0], [0, 0, 0, 0]])
    scratch = np.full((2, 5), 0.5)
    lists.learn_slate(np.zeros(0), counts, sums, means, scratch, states(2), 0, np.array([0, 2]),
                      np.array([0.25, 2.0]))
    assert counts.tolist() == [[2, 0, 1, 0], [0, 0, 0, 0]] and sums[0].tolist() == [1.25, 0, 2.0, 0]
    assert means[0].tolist() == [0.625, 0, 2.0, 0] and scratch[0].tolist() == [-1, 0.5, -1, 0.5, 0.5]
    counts, sums, means = stats(np.zeros((1, 6)), np.zeros((1, 6)))  # 2 positions x 3 items
    lists.learn_ranked(np.array([1.5]), counts, sums, means, scratch, states(2), 0, np.array([2, 0]),
                       np.array([0.0, 1.0]))
    lists.learn_ranked(np.array([1.5]), counts, sums, means, scratch, states(2), 0, np.array([2, 1]),
                       np.array([1.0, 0.0]))  # every position counts, below the click too
    assert counts[0].tolist() == [0, 0, 2, 1, 1, 0] and sums[0].tolist() == [0, 0, 1, 1, 0, 0]
    assert means[0].tolist() == [0, 0, 0.5, 1, 0, 0] and scratch[0].tolist() == [-1, 0.5, -1, 0.5, 0.5]
    before = (counts.copy(), sums.copy(), means.copy(), scratch.copy())
    assert lists.learn_nothing(np.zeros(0), counts, sums, means, scratch, states(2), 0, np.array([0, 1]),
                               np.ones(2)) is None
    assert all(np.array_equal(a, b) for a, b in zip(before, (counts, sums, means, scratch)))


# --- the race -----------------------------------------------------------------------------------------------------

def race(choose_name: str, learn_name: str, params: list[float], R: int, K: int, k: int, T: int, world: int,
         feedback: int = arms.IMMEDIATE, points: Any = None, width: int = 0, columns: int = 0,
         seed: int = 0) -> tuple[np.ndarray, ...]:
    points = np.arange(1, T + 1) if points is None else np.asarray(points)
    out = (np.full((R, len(points)), np.nan), np.full(R, np.nan), np.full(R, np.nan), np.full(R, np.nan))
    lists.make_race(choose_name, learn_name)(np.array(params, float), states(R, seed + 1), states(R, seed + 2),
                                             states(R, seed + 3), K, k, np.zeros(width or K + 1), columns or K,
                                             world, T, feedback, 2.0, 3, points.astype(np.int64), *out)
    return out


@pytest.mark.parametrize("world", [CASCADE, SLATE])
def test_a_short_uniform_race_replayed_round_by_round(world: int) -> None:
    """Uniform lists of 2 of 4 items, 12 rounds: the world's attractions, each round's list, its value against the
    best list's, the clicks' uniforms, the regret curve, the last 10% of rounds (the last one) and the rounds with a
    best list."""
    R, K, k, T = 3, 4, 2, 12
    curve, final, tail, optimal = race("choose_uniform_list", "learn_nothing", [], R, K, k, T, world)
    for r in range(R):
        env, draws = Stream(states(R, 1)[r]), Stream(states(R, 2 + 1)[r])
        w = [env.beta(1.0, 12.0) for _ in range(K)]
        top = sorted(w, reverse=True)[:k]
        best = 1 - (1 - top[0]) * (1 - top[1]) if world == CASCADE else top[0] + top[1]
        regret, want, on_best = 0.0, [], 0
        for _ in range(T):
            chosen: list[int] = []
            while len(chosen) < k:
                item = draws.below(K)
                chosen += [] if item in chosen else [item]
            a, b = w[chosen[0]], w[chosen[1]]
            value = 1 - (1 - a) * (1 - b) if world == CASCADE else a + b
            regret += best - value
            on_best += value >= best - 1e-12
            want.append(regret)
            env.uniform(), env.uniform()  # the clicks
        assert curve[r].tolist() == pytest.approx(want, rel=1e-12, abs=1e-15) and final[r] == curve[r, -1]
        assert tail[r] == pytest.approx(value, rel=1e-15) and optimal[r] == on_best / T
    assert 0 < optimal.max() and optimal.max() < 1


def test_the_race_learns_what_the_kernels_learn_and_keeps_its_curve_at_the_points() -> None:
    """The race of CascadeUCB1 against the same race by the world's and the step kernels round by round (the loop's
    order: the lists, the world's step, learning): the same regret at every round, the same tail."""
    R, K, k, T = 2, 5, 2, 30
    full = race("choose_ucb_items", "learn_cascade", [1.5], R, K, k, T, CASCADE)
    some = race("choose_ucb_items", "learn_cascade", [1.5], R, K, k, T, CASCADE, points=[1, 10, 30])
    assert some[0].tolist() == full[0][:, [0, 9, 29]].tolist() and some[1].tolist() == full[1].tolist()
    env, draws = states(R, 1), states(R, 3)
    w = np.empty((R, K))
    top = lists.draw_worlds(w, env, k, CASCADE)
    choose, learn = lists.make_steps("choose_ucb_items", "learn_cascade")
    counts, sums, means, scratch = np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K + 1))
    regret, values = np.zeros(R), []
    for t in range(T):
        chosen = choose(np.array([1.5]), counts, sums, means, scratch, draws, t, T, k)
        assert chosen.shape == (R, k) and chosen.dtype == np.int64
        value, observed = np.empty(R), np.empty((R, k))
        lists.world_step(w, env, chosen, CASCADE, value, observed)
        regret += top - value
        values.append(value)
        assert full[0][:, t].tolist() == regret.tolist()
        learn(np.array([1.5]), counts, sums, means, scratch, draws, np.arange(R), chosen, observed)
    assert full[2].tolist() == pytest.approx((values[-3] + values[-2] + values[-1]) / 3, rel=1e-15)  # T // 10
    assert full[3].tolist() == (sum(v >= top - 1e-12 for v in values) / T).tolist()
    assert T <= counts.sum(axis=1).min() and counts.sum(axis=1).max() <= T * k and 0 < sums.sum() < counts.sum()


def test_a_repetitions_numbers_do_not_depend_on_how_many_there_are() -> None:
    for choose_name, learn_name, params, width in (("choose_cts", "learn_slate", [], 9),
                                                   ("choose_kl_ucb_items", "learn_cascade", [], 5)):
        world = SLATE if choose_name == "choose_cts" else CASCADE
        few = race(choose_name, learn_name, params, 2, 4, 2, 40, world, width=width)
        many = race(choose_name, learn_name, params, 5, 4, 2, 40, world, width=width)
        for a, b in zip(few, many):
            assert a.tolist() == b[:2].tolist()
        assert many[1][2:].tolist() != many[1][:3].tolist()


PROBLEMS = {
    "cascade": {"action_structure": "ranking", "action_space": "many", "n_actions": 7, "slate_size": 3},
    "slate": {"action_structure": "slate", "action_space": "many", "n_actions": 7, "slate_size": 3},
}
POLICIES = {"cascade": ["cascade-ucb", "cascade-klucb", "ranked-ucb", "uniform-random-list"],
            "slate": ["cucb", "pbm-ucb", "cts", "uniform-random-list"]}


@pytest.mark.parametrize("feedback", ["immediate", "delayed", "batched"])
@pytest.mark.parametrize("kind", ["cascade", "slate"])
def test_the_race_gives_the_step_by_step_loops_numbers(kind: str, feedback: str) -> None:
    """Every list policy, same seed: the whole race and the loop (runner.py with the same worlds given as a test's)
    give the same numbers; late feedback too (delays of 6 rounds on average; batches of 16 rounds, as many as the
    queue holds at first, and of 25, past which it grows)."""
    problem = problem_from_answers({**PROBLEMS[kind], "feedback_delay": feedback}, rounds=90, reps=2)
    problem = dataclasses.replace(problem, mean_delay=6, batch_size=16 if kind == "cascade" else 25)
    for policy in POLICIES[kind]:
        spec = RunSpec(policy, policy, build(policy, {}, policy))
        assert compiled.covers(spec.policy, problem)
        fast = run(spec, problem, 4)
        slow = run(spec, problem, 4, environment=lambda p, g: make_environment(p, g))
        for name in ("regret", "final_regret", "last_reward", "optimal"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), (policy, name)
        assert fast.below_baseline is None and slow.below_baseline is None and fast.identified is None
    if feedback == "batched":  # batches of one round: each observation arrives before the next decision
        name = "cucb" if kind == "slate" else "cascade-ucb"
        spec = RunSpec(name, name, build(name, {}, name))
        one = dataclasses.replace(problem, batch_size=1)
        assert run(spec, one, 4).final_regret.tolist() == run(spec, dataclasses.replace(
            one, delay="immediate"), 4).final_regret.tolist()


def test_which_list_races_run_compiled() -> None:
    from banditmap.sim.adapters import build_wrapper
    cascade = problem_from_answers(PROBLEMS["cascade"], rounds=10, reps=2)
    slate = problem_from_answers(PROBLEMS["slate"], rounds=10, reps=2)
    for policy in POLICIES["cascade"]:
        assert compiled.covers(build(policy, {}, "x"), cascade)
    for policy in POLICIES["slate"]:
        assert compiled.covers(build(policy, {}, "x"), slate)
    assert not compiled.covers(build("cts", {}, "x"), cascade)  # a slate policy on the cascade: not its world
    assert not compiled.covers(build("cascade-ucb", {}, "x"), slate)
    assert compiled.covers(build_wrapper("ranked-bandits", build("exp3-ix", {}, "x"), {}, "x"), cascade)
    assert not compiled.covers(build("ucb1", {}, "x"), cascade)
    safety = dataclasses.replace(slate, constraint="safety", objective="best_arm")  # the slate world ignores both
    assert compiled.covers(build("cts", {}, "x"), safety)
    result = run(RunSpec("cts", "cts", build("cts", {}, "x")), safety, 2)
    assert result.below_baseline is None and result.identified is None and result.simple_regret is None
