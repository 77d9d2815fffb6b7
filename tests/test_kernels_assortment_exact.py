"""Exact checks of the assortment kernels (sim/kernels/assortment.py): the oracle against hand-computed and
enumerated best sets, the MNL world's weights, revenues and customers replayed from their streams, the epochs
(one offer until a customer leaves) and the epoch statistics, MNL-UCB's optimistic weights and MNL Thompson
sampling's Beta draws on tiny hand-computed states, the uniform baseline's shuffle, and the whole race checked
round by round against a reference written here from the kernels' docstrings, reproducible whatever the number of
repetitions and equal to the step-by-step loop's. Small enough to run as plain Python (NUMBA_DISABLE_JIT=1), as
the mutation run does (tools/mutation.py)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import arms
from banditmap.sim.kernels import assortment as kernels
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

POLICIES = {"mnl-ucb": "choose_mnl_ucb", "mnl-ts": "choose_mnl_ts",
            "uniform-random-assortment": "choose_uniform_assortment"}


def row(weights: list[float], revenue: list[float], keys: list[float], size: int) -> list[int]:
    chosen = np.full(size, 7, np.int64)  # overwritten, pads included
    # float arrays whatever the literals, as the race passes them: one compiled oracle for every case here
    kernels.best_row(np.array(weights, dtype=float), np.array(revenue, dtype=float), 30, np.array(keys, dtype=float),
                     chosen)
    return [int(i) for i in chosen]


def earned(v: Any, revenue: Any, shown: Any) -> float:
    """sum_S v_i r_i / (1 + sum_S v_i), pads (-1) left out."""
    items = [i for i in shown if i >= 0]
    return float(sum(v[i] * revenue[i] for i in items) / (1 + sum(v[i] for i in items)))


def enumerated(v: Any, revenue: Any, size: int) -> float:
    """The best expected revenue over every set of 1 to `size` items."""
    return max(earned(v, revenue, s) for n in range(1, size + 1) for s in itertools.combinations(range(len(v)), n))


def ranked(weights: Any, revenue: Any, keys: Any, size: int) -> list[int]:
    """The oracle's answer from its docstring: the optimal revenue z by enumeration, then the `size` items of
    largest (v_i (r_i - z), key), best first, those after the first only with a positive gain; -1 pads."""
    z = enumerated(weights, revenue, min(size, len(weights)))
    order = sorted(range(len(weights)), key=lambda i: (weights[i] * (revenue[i] - z), keys[i]), reverse=True)
    out = [i for n, i in enumerate(order[:size]) if n == 0 or weights[i] * (revenue[i] - z) > 0]
    return out + [-1] * (size - len(out))


# --- the oracle --------------------------------------------------------------------------------------------------

def test_the_oracle_by_hand() -> None:
    # revenues 1: the `size` largest weights, equal ones ranked by their keys
    assert row([0.3, 0.8, 0.8, 0.1], [1, 1, 1, 1], [0, 1, 2, 3], 2) == [2, 1]
    assert row([0.3, 0.8, 0.8, 0.1], [1, 1, 1, 1], [0, 5, -1, 0], 2) == [1, 2]
    assert row([0.3, 0.8, 0.8, 0.1], [1, 1, 1, 1], [9, 5, -1, 0], 3) == [1, 2, 0]
    # {0}: 1 / 2 = 0.5 beats {0, 1}: 1.1 / 3, so the cheap item, whose gain 1 (0.1 - 0.5) < 0, is left out
    assert row([1.0, 1.0], [1.0, 0.1], [0, 0], 2) == [0, -1]
    # {0, 1, 2}: 1.18 / 2.7 beats {0, 2} and {0, 1} (0.4), {0} (1/3); by gain at z = 0.437: 0.28, 0.093, 0.063
    assert row([0.5, 1.0, 0.2], [1.0, 0.5, 0.9], [0, 0, 0], 3) == [0, 2, 1]
    assert row([0.5, 1.0, 0.2], [1.0, 0.5, 0.9], [0, 0, 0], 1) == [0]
    # item 1 earns exactly the optimal revenue 1 / 2: offered or not, the revenue is 1 / 2; the bisection ends
    # just below it, where item 1 gains
    assert row([1.0, 0.4], [1.0, 0.5], [0, 0], 2) == [0, 1]
    # nothing earns: only the first item (by key) is offered; a set longer than the items is padded
    assert row([0.5, 0.7], [0.0, 0.0], [1, 3], 2) == [1, -1]
    assert row([0.5, 0.7], [1.0, 1.0], [0, 0], 3) == [1, 0, -1]


@pytest.mark.parametrize("seed, items, sizes, cases", [(7, (2, 7), (1, 4), 150), (8, (4, 9), (4, 7), 60)])
def test_the_oracle_finds_the_enumerated_best_set(seed: int, items: tuple[int, int], sizes: tuple[int, int],
                                                  cases: int) -> None:
    """Small offers, and offers of 4 and more: up to 4 keep their gains in four numbers (few_gains), longer ones
    go through the general insertion loop; both find the enumerated best set."""
    generator = np.random.default_rng(seed)
    for _ in range(cases):
        N, size = int(generator.integers(*items)), int(generator.integers(*sizes))
        v, revenue, keys = generator.uniform(0.05, 1.0, N), generator.uniform(0.1, 1.0, N), generator.random(N)
        got = row(list(v), list(revenue), list(keys), size)
        assert got == ranked(v, revenue, keys, size)
        assert earned(v, revenue, got) == pytest.approx(enumerated(v, revenue, min(size, N)), abs=1e-9)


def test_few_gains_sums_the_largest_positive_gains_largest_first() -> None:
    """The sum the bisection compares with z, to the last bit: the `size` largest gains above 0 of the items alive,
    added largest first to 0 (as the general loop sums its kept gains), with equal gains, zero weights and items
    whose revenue is at most z (no gain) among them; and the size-th largest gain (0 when fewer gain), each alive
    item's gain written in its place."""
    generator = np.random.default_rng(9)
    for _ in range(300):
        N, size = int(generator.integers(1, 12)), int(generator.integers(1, 5))
        weights = np.round(generator.uniform(0.0, 1.0, N), 1)
        revenue = np.round(generator.uniform(0.0, 1.0, N), 1)
        z = float(np.round(generator.uniform(0.0, 1.0), 1))
        gains = sorted((float(w * (r - z)) for w, r in zip(weights, revenue) if w * (r - z) > 0.0), reverse=True)
        want = 0.0
        for g in gains[:size]:
            want += g
        alive = generator.permutation(N)  # any order, and only the items alive
        written = np.full(N, -1.0)
        assert kernels.few_gains(weights, revenue, z, size, alive, N, written) == (want, (gains + [0.0] * 4)[size - 1])
        assert written.tolist() == [max(0.0, float(weights[k] * (revenue[k] - z))) for k in alive]
        m = int(generator.integers(0, N + 1))
        some = sorted((float(weights[k] * (revenue[k] - z)) for k in alive[:m]), reverse=True)
        want = 0.0
        for g in [g for g in some if g > 0.0][:size]:
            want += g
        assert kernels.few_gains(weights, revenue, z, size, alive, m, written)[0] == want


@pytest.mark.parametrize("seed, items, negative", [(11, (1, 12), 0.0), (12, (1, 12), 0.3), (13, (20, 40), 0.0)])
def test_the_bisection_drops_only_items_that_cannot_count(seed: int, items: tuple[int, int], negative: float) -> None:
    """few_revenue's low end is, to the last bit, that of a bisection summing every item's gain at every step: an
    item it drops could not have been among the `size` largest gains (equal gains, zero weights and, where some
    weights are negative, nothing dropped)."""
    generator = np.random.default_rng(seed)
    every_sum = 0
    for _ in range(200):
        N, size = int(generator.integers(*items)), int(generator.integers(1, 5))
        weights = np.round(generator.uniform(-negative, 1.0, N), 1)
        revenue = np.round(generator.uniform(0.0, 1.0, N), 1)
        iterations = int(generator.integers(1, 40))
        low, high, every = 0.0, float(revenue.max()), np.arange(N)
        for _ in range(iterations):
            z = (low + high) / 2.0
            total, _ = kernels.few_gains(weights, revenue, z, size, every, N, np.empty(N))
            low, high = (z, high) if total > z else (low, z)
            every_sum += 1
        assert kernels.few_revenue(weights, revenue, iterations, size) == low
    assert every_sum > 1000


def test_best_sets_ranks_equal_gains_by_index() -> None:
    weights = np.array([[1.0, 1.0, 1.0, 0.5], [0.2, 0.9, 0.9, 0.9]])
    revenue = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.1]])
    chosen = kernels.best_sets(weights, revenue, 2, 30)
    assert chosen.dtype == np.int64 and chosen.tolist() == [[0, 1], [1, 2]]
    assert kernels.best_sets(weights, revenue, 1, 30).tolist() == [[0], [1]]


# --- the world ---------------------------------------------------------------------------------------------------

def test_offer_revenue_by_hand() -> None:
    v = np.array([[9.0, 9.0, 9.0], [0.5, 1.0, 0.2]])
    revenue = np.array([[9.0, 9.0, 9.0], [1.0, 0.5, 0.9]])
    assert kernels.offer_revenue(v, revenue, 1, np.array([0, 2, -1])) == pytest.approx(0.68 / 1.7, rel=1e-15)
    assert kernels.offer_revenue(v, revenue, 1, np.array([-1, 1])) == 0.25
    assert kernels.offer_revenue(v, revenue, 1, np.array([-1, -1])) == 0.0


def test_the_world_draws_weights_and_knows_its_best_offer() -> None:
    env = states(3, 1)
    refs = [Stream(s) for s in env]
    v, revenue = np.zeros((3, 5)), np.tile(np.linspace(0.2, 1.0, 5), (3, 1))
    chosen = np.full((3, 2), 9, np.int64)
    best = kernels.draw_worlds(v, revenue, env, chosen)
    for r, ref in enumerate(refs):
        assert v[r].tolist() == [0.05 + 0.95 * ref.uniform() for _ in range(5)]
        assert best[r] == pytest.approx(enumerated(v[r], revenue[r], 2), abs=1e-9)
        assert best[r] == earned(v[r], revenue[r], chosen[r])
    assert env.tolist() == [ref.state for ref in refs]


def test_a_customer_buys_by_the_mnl_model() -> None:
    """One uniform u per customer: the first offered item whose running sum of weights exceeds u (1 + sum_S v_i),
    else none (-1); pads are skipped."""
    env = states(2, 4)
    refs = [Stream(s) for s in env]
    v = np.array([[0.5, 9.0, 1.0, 0.25], [1.0, 1.0, 1.0, 1.0]])
    shown = np.array([2, -1, 0, 3])
    seen = set()
    for _ in range(60):
        got = kernels.purchase(v, env, 0, shown)
        draw = refs[0].uniform() * 2.75
        want = 2 if draw < 1.0 else 0 if draw < 1.5 else 3 if draw < 1.75 else -1
        assert got == want
        seen.add(got)
    assert seen == {2, 0, 3, -1} and env[1] == states(2, 4)[1]  # every outcome; the other stream untouched
    edge = states(1, 0)  # a draw exactly on the running sum is past it: a weight made so that u (1 + v) = v
    u = Stream(edge[0]).uniform()
    w = np.array([[u / (1 - u)]])
    assert u * (1.0 + w[0, 0]) == w[0, 0] and kernels.purchase(w, edge, 0, np.array([0])) == -1


def test_world_step_values_and_purchases() -> None:
    env = states(2, 5)
    refs = [Stream(s) for s in env]
    v = np.array([[0.5, 1.0, 0.2], [0.9, 0.1, 0.3]])
    revenue = np.array([[1.0, 0.5, 0.9], [1.0, 1.0, 1.0]])
    offers = np.array([[0, 2], [1, -1]])
    value, observed = np.zeros(2), np.zeros(2)
    kernels.world_step(v, revenue, env, offers, value, observed)
    assert value.tolist() == [pytest.approx(0.68 / 1.7, rel=1e-15), pytest.approx(0.1 / 1.1, rel=1e-15)]
    draws = [refs[0].uniform() * 1.7, refs[1].uniform() * 1.1]
    assert observed.tolist() == [0.0 if draws[0] < 0.5 else 2.0 if draws[0] < 0.7 else -1.0,
                                 1.0 if draws[1] < 0.1 else -1.0]


# --- the epoch policies ------------------------------------------------------------------------------------------

def epoch_state(R: int, N: int) -> tuple[np.ndarray, ...]:
    """A fresh state: epochs, purchases, bought (R, N), finished (R,), fresh (R,) bool."""
    return np.zeros((R, N)), np.zeros((R, N)), np.zeros((R, N)), np.zeros(R), np.ones(R, np.bool_)


def test_an_epoch_counts_purchases_until_a_customer_leaves() -> None:
    epochs, purchases, bought, finished, fresh = epoch_state(3, 4)
    fresh[:] = False

    def learn(r: int, shown: list[int], choice: int) -> None:
        kernels.learn_epochs(epochs, purchases, bought, finished, fresh, r, np.array(shown), choice)

    # repetition 0: item 2 bought twice, then the customer leaves (the epoch offered 2, 0 and a pad);
    # repetition 1: item 1 bought, the epoch goes on; repetition 2 leaves at once (offered 3, 1, 0)
    for r, shown, choice in [(0, [2, 0, -1], 2), (0, [2, 0, -1], 2), (1, [1, 3, -1], 1), (0, [2, 0, -1], -1),
                             (2, [3, 1, 0], -1)]:
        learn(r, shown, choice)
    assert epochs.tolist() == [[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 0, 1]]
    assert purchases.tolist() == [[0, 0, 2, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert bought.tolist() == [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    assert finished.tolist() == [1, 0, 1] and fresh.tolist() == [True, False, True]
    learn(0, [0, 3, -1], 0)  # a second epoch of repetition 0: item 0 bought, then a leave; purchases add up
    learn(0, [0, 3, -1], -1)
    assert epochs[0].tolist() == [2, 0, 1, 1] and purchases[0].tolist() == [1, 0, 2, 0]
    assert finished.tolist() == [2, 0, 1]


def test_mnl_ucb_weights_are_optimistic_and_capped_at_one() -> None:
    epochs, purchases, _, finished, _ = epoch_state(2, 4)
    epochs[1] = [0, 4, 1, 16]
    purchases[1] = [0, 2, 0.5, 8]  # v = 0, 1/2, 1/2, 1/2
    finished[:] = [0, 3]
    log = math.log(2 * (3 + 1) + 1)  # sqrt(N) (l + 1) + 1 with N = 4 items, l = 3 epochs

    def weights(r: int, scale: float) -> list[float]:
        out = np.zeros(4)
        kernels.weights_mnl_ucb(np.array([scale]), epochs, purchases, finished, r, out)
        return out.tolist()

    def bonus(v: float, n: int) -> float:
        return 0.001 * (math.sqrt(48 * v * log / n) + 48 * log / n)

    assert weights(1, 0.001) == pytest.approx([1.0, 0.5 + bonus(0.5, 4), 0.5 + bonus(0.5, 1), 0.5 + bonus(0.5, 16)],
                                              rel=1e-14)
    assert weights(1, 0.0) == [1.0, 0.5, 0.5, 0.5]  # scale 0: the estimates, an item never offered at 1
    epochs[0] = [2, 1, 0, 0]
    purchases[0] = [2, 0, 0, 0]  # v = 1: capped at 1; v = 0 after one epoch: only the second term
    assert weights(0, 0.001) == pytest.approx([1.0, 0.001 * 48 * math.log(2 * 1 + 1), 1.0, 1.0], rel=1e-14)
    assert weights(0, 1.0) == [1.0, 1.0, 1.0, 1.0]


def test_mnl_thompson_weights_from_beta_draws() -> None:
    epochs, purchases, *_ = epoch_state(2, 3)
    epochs[1] = [2, 0, 5]
    purchases[1] = [1, 0, 7]
    s = states(2)
    ref = Stream(s[1])
    out = np.zeros(3)
    kernels.weights_mnl_ts(epochs, purchases, s, 1, out)
    p = [ref.beta(3, 2), ref.beta(1, 1), ref.beta(6, 8)]  # Beta(n + 1, purchases + 1)
    assert out.tolist() == pytest.approx([1 / x - 1 for x in p], rel=1e-13)
    assert s[1] == ref.state and s[0] == states(2)[0]
    purchases[1] = [1e12, 0, 0]  # p about 1e-12: held at 1e-9
    kernels.weights_mnl_ts(epochs, purchases, s, 1, out)
    assert out[0] == 1.0 / 1e-9 - 1.0


def test_an_epoch_keeps_its_offer_and_a_new_one_breaks_ties_at_random() -> None:
    """A fresh repetition gets the best offer under its weights, ties ranked by a uniform key per item from its
    stream; until its epoch ends it keeps that offer and draws nothing."""
    epochs, purchases, _, finished, fresh = epoch_state(2, 4)
    revenue = np.ones((2, 4))
    offered = np.full((2, 2), -1, np.int64)
    s = states(2)
    ref = Stream(s[0])
    fresh[1] = False
    offered[1] = [3, 2]
    kernels.choose_mnl_ucb(np.array([1.0]), epochs, purchases, finished, fresh, revenue, offered, s, 0)
    keys = [ref.uniform() for _ in range(4)]  # every weight 1 (no epoch yet), every revenue 1: a four-way tie
    assert offered[0].tolist() == sorted(range(4), key=lambda i: -keys[i])[:2] and fresh.tolist() == [False, False]
    assert s[0] == ref.state
    before = offered.copy()
    for r in (0, 1):
        kernels.choose_mnl_ucb(np.array([1.0]), epochs, purchases, finished, fresh, revenue, offered, s, r)
        kernels.choose_mnl_ts(np.zeros(0), epochs, purchases, finished, fresh, revenue, offered, s, r)
    assert offered.tolist() == before.tolist() and s[0] == ref.state and s[1] == states(2)[1]


def test_mnl_thompson_offers_the_best_set_under_its_draws() -> None:
    epochs, purchases, _, finished, fresh = epoch_state(1, 4)
    epochs[0], purchases[0] = [3, 1, 2, 0], [1, 2, 0, 0]
    revenue = np.array([[0.2, 0.5, 0.8, 1.0]])
    offered = np.full((1, 3), -1, np.int64)
    for seed in range(11, 16):
        s = states(1, seed)
        ref = Stream(s[0])
        fresh[0] = True
        kernels.choose_mnl_ts(np.zeros(0), epochs, purchases, finished, fresh, revenue, offered, s, 0)
        weights = [1 / max(ref.beta(epochs[0, k] + 1, purchases[0, k] + 1), 1e-9) - 1 for k in range(4)]
        keys = [ref.uniform() for _ in range(4)]
        assert offered[0].tolist() == ranked(weights, revenue[0], keys, 3) and s[0] == ref.state


def test_the_uniform_baseline_shuffles_every_round() -> None:
    """The first `size` steps of a Fisher-Yates shuffle: position j takes an item from j to N - 1 at random."""
    epochs, purchases, _, finished, fresh = epoch_state(2, 5)
    offered = np.full((2, 3), -1, np.int64)
    s = states(2)
    ref = Stream(s[1])
    picked = set()
    for _ in range(20):
        kernels.choose_uniform_assortment(np.zeros(0), epochs, purchases, finished, fresh, np.ones((2, 5)), offered,
                                          s, 1)
        order = list(range(5))
        for j in range(3):
            pick = j + ref.below(5 - j)
            order[j], order[pick] = order[pick], order[j]
        assert offered[1].tolist() == order[:3] and offered[0].tolist() == [-1, -1, -1]
        picked |= set(order[:3])
    assert picked == set(range(5)) and fresh.tolist() == [True, True]
    longer = np.full((1, 4), 9, np.int64)  # an offer longer than the items: the shuffle, then pads
    s = states(1)
    ref = Stream(s[0])
    kernels.choose_uniform_assortment(np.zeros(0), *epoch_state(1, 2)[:2], np.zeros(1), np.ones(1, np.bool_),
                                      np.ones((1, 2)), longer, s, 0)
    first = ref.below(2)
    assert longer.tolist() == [[first, 1 - first, -1, -1]]


# --- the whole race ----------------------------------------------------------------------------------------------

def reference(choose: str, params: list[float], R: int, N: int, size: int, T: int, revenue: list[float],
              feedback: int, mean_delay: float = 3.0, batch: int = 4) -> list[list[Any]]:
    """Each repetition's curve, final regret, tail revenue and share of rounds with a best offer, from the
    docstrings: the weights, then per round the offer (a uniform shuffle, or a new best set under the policy's
    weights when an epoch starts), the customer, and the learning (now, after a geometric delay, or at the end
    of the batch, delivered in the order queued)."""
    out = []
    for r in range(R):
        env, delays, draws = (Stream(states(R, salt)[r]) for salt in (1, 2, 3))
        v = [0.05 + 0.95 * env.uniform() for _ in range(N)]
        top = enumerated(v, revenue, size)
        epochs, purchases, bought, finished = [0.0] * N, [0.0] * N, [0.0] * N, 0
        fresh, offered = True, [-1] * size
        queue: list[tuple[int, list[int], int]] = []
        regret = tail = 0.0
        curve, best = [], 0
        for t in range(T):
            if choose == "choose_uniform_assortment":
                order = list(range(N))
                for j in range(size):
                    pick = j + draws.below(N - j)
                    order[j], order[pick] = order[pick], order[j]
                offered = order[:size]
            elif fresh:
                if choose == "choose_mnl_ucb":
                    log = math.log(math.sqrt(N) * (finished + 1) + 1)
                    weights = [1.0 if n == 0 else min(b / n + params[0] * (math.sqrt(48 * (b / n) * log / n)
                                                                          + 48 * log / n), 1.0)
                               for n, b in zip(epochs, purchases)]
                else:
                    weights = [1 / max(draws.beta(n + 1, b + 1), 1e-9) - 1 for n, b in zip(epochs, purchases)]
                keys = [draws.uniform() for _ in range(N)]
                offered, fresh = ranked(weights, revenue, keys, size), False
            value = earned(v, revenue, offered)
            regret += top - value
            best += value >= top - 1e-9
            if t >= T - max(1, T // 10):
                tail += value
            curve.append(regret)
            u, running, choice = env.uniform() * (1 + sum(v[i] for i in offered if i >= 0)), 0.0, -1
            for i in offered:
                if i >= 0:
                    running += v[i]
                    if u < running:
                        choice = i
                        break
            if feedback == arms.DELAYED:
                w = 0.0 if mean_delay == 1 else delays.uniform()
                at = t + 1 + (0 if mean_delay == 1 else math.floor(math.log(1 - w) / math.log1p(-1 / mean_delay)))
            else:
                at = t if feedback == arms.IMMEDIATE else (t // batch + 1) * batch
            queue.append((at, list(offered), choice))
            for _, shown, item in [entry for entry in queue if entry[0] <= t + 1]:
                if item >= 0:
                    bought[item] += 1
                    continue
                for i in shown:
                    if i >= 0:
                        epochs[i] += 1
                purchases = [p + b for p, b in zip(purchases, bought)]
                bought, finished, fresh = [0.0] * N, finished + 1, True
            queue = [entry for entry in queue if entry[0] > t + 1]
        out.append([curve, regret, tail / max(1, T // 10), best / T])
    return out


def assortment_race(choose: str, params: list[float], R: int, N: int, size: int, T: int, revenue: list[float],
                    feedback: int, mean_delay: float = 3.0, batch: int = 4) -> list[list[Any]]:
    """The compiled race's figures per repetition, in the reference's layout; the curve at every round."""
    points = np.arange(1, T + 1)
    curve, final, tail, optimal, below = np.zeros((R, T)), np.zeros(R), np.zeros(R), np.zeros(R), np.zeros(R)
    kernels.make_race(choose, "learn_epochs")(
        np.array(params), states(R, 1), states(R, 2), states(R, 3), N, size, np.tile(revenue, (R, 1)), T, feedback,
        mean_delay, batch, points, curve, final, tail, optimal, below)
    assert not below.any()
    return [[curve[r].tolist(), final[r], tail[r], optimal[r]] for r in range(R)]


def same(got: list[list[Any]], want: list[list[Any]]) -> None:
    for g, w in zip(got, want, strict=True):
        assert g[0] == pytest.approx(w[0], abs=1e-8) and g[1] == pytest.approx(w[1], abs=1e-8)
        assert g[2] == pytest.approx(w[2], abs=1e-9) and g[3] == w[3]


def test_the_books_of_a_round() -> None:
    """Regret, a best offer (within OPTIMAL of the best revenue, that bound included) and, from tail_start on, the
    revenue earned."""
    books = np.zeros(arms.BOOKS)
    kernels.account(books, 0.5, 0.75, 3, 4)
    assert books.tolist() == [0.25, 0, 0, 0, 0, 0]
    kernels.account(books, 0.75 - kernels.OPTIMAL, 0.75, 4, 4)  # the bound itself counts as a best offer
    assert books[1:].tolist() == [1, 0.75 - kernels.OPTIMAL, 0, 0, 0]
    kernels.account(books, 0.75 - 2 * kernels.OPTIMAL, 0.75, 5, 4)
    assert books[1] == 1 and books[0] == pytest.approx(0.25 + 3 * kernels.OPTIMAL, abs=1e-15)


PARAMS = {"choose_mnl_ucb": [0.05], "choose_mnl_ts": [], "choose_uniform_assortment": []}


@pytest.mark.parametrize("choose", sorted(PARAMS))
def test_a_race_by_hand(choose: str) -> None:
    """Each policy on 4 items offered 2 at a time, 30 rounds, revenues spread or all 1 (ties between weights):
    the reference's offers, customers, epochs and books, round by round."""
    for revenue in ([0.2, 0.5, 0.8, 1.0], [1.0, 1.0, 1.0, 1.0]):
        got = assortment_race(choose, PARAMS[choose], 3, 4, 2, 30, revenue, arms.IMMEDIATE)
        same(got, reference(choose, PARAMS[choose], 3, 4, 2, 30, revenue, arms.IMMEDIATE))
        if choose == "choose_mnl_ts":  # some rounds offer a best set, some do not
            assert any(0 < g[3] < 1 for g in got)
    short = assortment_race(choose, PARAMS[choose], 2, 4, 2, 12, [0.2, 0.5, 0.8, 1.0], arms.IMMEDIATE)
    same(short, reference(choose, PARAMS[choose], 2, 4, 2, 12, [0.2, 0.5, 0.8, 1.0], arms.IMMEDIATE))  # tail: 1 round


@pytest.mark.parametrize("feedback,mean_delay,batch", [(arms.DELAYED, 3.0, 4), (arms.DELAYED, 1.0, 4),
                                                       (arms.BATCHED, 3.0, 20), (arms.BATCHED, 3.0, 16)])
def test_a_race_with_late_feedback_by_hand(feedback: int, mean_delay: float, batch: int) -> None:
    """Customers seen after geometric delays (mean 3, or 1: the next round) or at the end of batches of 20 rounds
    (the queue, 16 long at first, grows) or of 16 (it is full when they arrive); each learnt with the offer it saw,
    in the order queued, so an epoch goes on until its leave is seen."""
    for choose in ("choose_mnl_ucb", "choose_mnl_ts"):
        revenue = [0.3, 0.6, 0.9]
        got = assortment_race(choose, PARAMS[choose], 2, 3, 2, 45, revenue, feedback, mean_delay, batch)
        same(got, reference(choose, PARAMS[choose], 2, 3, 2, 45, revenue, feedback, mean_delay, batch))


def test_a_repetitions_numbers_do_not_depend_on_how_many_there_are() -> None:
    for choose in sorted(PARAMS):
        many = assortment_race(choose, PARAMS[choose], 5, 5, 2, 40, [0.2, 0.4, 0.6, 0.8, 1.0], arms.IMMEDIATE)
        few = assortment_race(choose, PARAMS[choose], 2, 5, 2, 40, [0.2, 0.4, 0.6, 0.8, 1.0], arms.IMMEDIATE)
        assert many[:2] == few and many[0] != many[1]


@pytest.mark.parametrize("delay", ["immediate", "delayed"])
@pytest.mark.parametrize("simulator", sorted(POLICIES))
def test_the_compiled_race_gives_the_loops_numbers(simulator: str, delay: str) -> None:
    """The loop (the policy's step kernels, the world's) and the whole-race kernel: the same numbers."""
    problem = problem_from_answers({"action_structure": "assortment", "n_actions": 5, "slate_size": 2,
                                    "reward_type": "continuous", "feedback_delay": delay}, rounds=120, reps=3)
    problem = dataclasses.replace(problem, mean_delay=2)
    spec = RunSpec(simulator, simulator, build(simulator, {}, simulator))
    assert compiled.covers(spec.policy, problem)
    fast = run(spec, problem, 3)
    slow = run(spec, problem, 3, environment=lambda p, g: make_environment(p, g))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.below_baseline is None and slow.below_baseline is None and fast.final_regret.max() > 0


def test_what_the_assortment_race_covers() -> None:
    shop = problem_from_answers({"action_structure": "assortment", "n_actions": 5, "slate_size": 2}, rounds=50,
                                reps=2)
    assert compiled.covers(build("mnl-ts", {}, "x"), shop)
    assert not compiled.covers(build("mnl-ts", {}, "x"), dataclasses.replace(shop, objective="best_arm"))
    assert not compiled.covers(build("mnl-ts", {}, "x"), dataclasses.replace(shop, constraint="budget"))
    assert not compiled.covers(build("ucb1", {}, "x"), shop)
    assert not compiled.covers(build("mnl-ts", {}, "x"), problem_from_answers({"n_actions": 4}, rounds=50, reps=2))
