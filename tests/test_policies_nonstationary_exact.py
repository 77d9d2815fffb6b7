"""The non-stationary policies of banditmap.sim.policies.nonstationary checked by hand: the ring of window slots
(written in turn, the oldest observation leaving), sliding-window UCB's bonus sqrt(c log min(n, window) / N_a)
(Garivier & Moulines 2011) and discounted UCB's 2 sqrt(c log n / N_a) over discounted counts, with the confidence
bounds they offer, on a few arms with given (discounted) counts and sums."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies.base import ARM_STATISTICS, CONFIDENCE_BOUNDS, REGISTRY
from banditmap.sim.policies.nonstationary import (
    Discounted,
    DiscountedThompson,
    DiscountedUCB,
    Ring,
    SlidingWindowUCB,
    empty_ring,
)
from banditmap.sim.problem import Problem

from stubs import small_problem


def problem(arms: int = 3, reps: int = 1, rounds: int = 100) -> Problem:
    return small_problem("arms", n_arms=arms, n_features=1, rounds=rounds, reps=reps, dynamics="abrupt")


def with_stats(policy, counts, sums):  # type: ignore[no-untyped-def]
    c, s_ = np.atleast_2d(np.asarray(counts, float)), np.atleast_2d(np.asarray(sums, float))
    s = policy.init(problem(arms=c.shape[1], reps=c.shape[0]), np.random.default_rng(0))
    s.counts[:], s.sums[:] = c, s_
    s.means[:] = np.where(c > 0, s_ / np.maximum(c, 1e-300), 0.0)
    return s


# --- declarations -------------------------------------------------------------------------------------------------

def test_registry_kernels_offers_and_defaults() -> None:
    assert (REGISTRY["sw-ucb"], REGISTRY["discounted-ucb"], REGISTRY["discounted-ts"]) == (
        SlidingWindowUCB, DiscountedUCB, DiscountedThompson)
    both = frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS})
    assert SlidingWindowUCB.offers == both and DiscountedUCB.offers == both
    assert DiscountedThompson.offers == frozenset({ARM_STATISTICS})
    for cls in (SlidingWindowUCB, DiscountedUCB, DiscountedThompson):
        assert cls.kinds == frozenset({"arms"})
    assert (SlidingWindowUCB.choose, SlidingWindowUCB.learn) == ("choose_sliding_window_ucb", "learn_sliding_window")
    assert (DiscountedUCB.choose, DiscountedUCB.learn) == ("choose_discounted_ucb", "learn_counts")
    assert (DiscountedThompson.choose, DiscountedThompson.learn) == ("choose_discounted_ts", "learn_bernoulli_trial")
    assert (SlidingWindowUCB().window, SlidingWindowUCB().c) == (1000, 0.6)
    assert (DiscountedUCB().gamma, DiscountedUCB().c, DiscountedThompson().gamma) == (0.99, 0.6, 0.99)
    assert SlidingWindowUCB(window=50, c=2.0).params().tolist() == [50.0, 2.0]
    assert DiscountedUCB(gamma=0.9, c=0.5).params().tolist() == [0.9, 0.5]
    assert issubclass(DiscountedUCB, Discounted) and issubclass(DiscountedThompson, Discounted)
    for bad in ({"gamma": 0.0}, {"gamma": 1.5}):
        with pytest.raises(BanditmapError, match="DiscountedUCB.gamma"):
            DiscountedUCB(**bad)
    assert DiscountedUCB(gamma=1.0).gamma == 1.0
    with pytest.raises(BanditmapError, match=r"a whole number from 1 to 1e\+07"):
        SlidingWindowUCB(window=0)


# --- the ring -----------------------------------------------------------------------------------------------------

def test_empty_ring_holds_the_window_or_the_run() -> None:
    ring = empty_ring(problem(reps=2, rounds=100), 3)
    assert ring["filled"].dtype == bool and ring["filled"].shape == (2, 3) and not ring["filled"].any()
    assert ring["cursor"].dtype == np.int64 and ring["cursor"].tolist() == [0, 0]
    assert empty_ring(problem(reps=1, rounds=5), 1000)["filled"].shape == (1, 5)


def test_ring_turns_write_slots_in_order_and_say_which_held_one() -> None:
    ring = Ring(np.random.default_rng(0), 3, 2, **empty_ring(problem(reps=3, rounds=100), 3))
    turns = []
    for reps in ([0, 1], [0], [0, 2], [0], [1, 0]):
        slot, old = ring.turn(np.array(reps))
        turns.append((slot.tolist(), old.tolist()))
    assert turns == [([0, 0], [False, False]), ([1], [False]), ([2, 0], [False, False]), ([0], [True]),
                     ([1, 1], [False, True])]
    assert ring.cursor.tolist() == [2, 2, 1]
    assert ring.filled.tolist() == [[True, True, True], [True, True, False], [True, False, False]]


# --- sliding-window UCB -------------------------------------------------------------------------------------------

def test_sliding_window_scratch_row_holds_the_cursor_and_the_window() -> None:
    assert SlidingWindowUCB(window=10).width(problem(arms=4, rounds=100)) == 4 + 3 + 20
    assert SlidingWindowUCB(window=1000).width(problem(arms=4, rounds=30)) == 4 + 3 + 60
    s = SlidingWindowUCB(window=10).init(problem(arms=4, reps=2), np.random.default_rng(0))
    assert s.scratch.shape == (2, 27) and not s.scratch.any()


def test_sliding_window_bonus_by_hand() -> None:
    """c = 0.5, window 6. Repetition 0: counts 3, 2, 0 in the window (n = 5): sqrt(0.5 ln 5 / N), an arm never seen
    in the window as if seen once; repetition 1: 4 + 4 + 2 = 10 observations counted, capped at the window, 6;
    repetition 2: a single observation, log 2."""
    policy = SlidingWindowUCB(window=6, c=0.5)
    s = with_stats(policy, [[3, 2, 0], [4, 4, 2], [1, 0, 0]], [[1, 2, 0], [2, 1, 1], [1, 0, 0]])
    bonus = policy.bonus(s)
    assert bonus[0].tolist() == pytest.approx([math.sqrt(0.5 * math.log(5) / n) for n in (3, 2, 1)], rel=1e-14)
    assert bonus[1].tolist() == pytest.approx([math.sqrt(0.5 * math.log(6) / n) for n in (4, 4, 2)], rel=1e-14)
    assert bonus[2].tolist() == pytest.approx([math.sqrt(0.5 * math.log(2))] * 3, rel=1e-14)
    low, high = policy.bounds(s, None)
    b = math.sqrt(0.5 * math.log(5) / 3), math.sqrt(0.5 * math.log(5) / 2)
    assert low[0].tolist() == pytest.approx([1 / 3 - b[0], 1 - b[1], -math.inf], rel=1e-14)
    assert high[0].tolist() == pytest.approx([1 / 3 + b[0], 1 + b[1], math.inf], rel=1e-14)
    assert high[2, 1:].tolist() == [math.inf, math.inf] and low[2, 0] == pytest.approx(1 - math.sqrt(0.5 * math.log(2)))


# --- discounted UCB -----------------------------------------------------------------------------------------------

def test_discounted_ucb_bonus_and_bounds_over_fractional_counts() -> None:
    """c = 0.6. Discounted counts 2.5, 0.5, 0 (n = 3) and sums 2, 0.25, 0: bonus 2 sqrt(0.6 ln 3 / N), means
    0.8 and 0.5 (a count below one is not rounded up); the arm never seen has no bounds."""
    policy = DiscountedUCB(c=0.6)
    s = with_stats(policy, [[2.5, 0.5, 0.0]], [[2.0, 0.25, 0.0]])
    s.means[:] = 0.0  # the bounds read the discounted sums and counts, not the stored means
    bonus = policy.bonus(s)
    assert bonus[0, :2].tolist() == pytest.approx([2 * math.sqrt(0.6 * math.log(3) / n) for n in (2.5, 0.5)],
                                                  rel=1e-14)
    assert bonus[0, 2] == pytest.approx(2 * math.sqrt(0.6 * math.log(3) / 1e-9), rel=1e-14)
    low, high = policy.bounds(s, None)
    assert high[0].tolist() == pytest.approx([0.8 + bonus[0, 0], 0.5 + bonus[0, 1], math.inf], rel=1e-14)
    assert low[0].tolist() == pytest.approx([0.8 - bonus[0, 0], 0.5 - bonus[0, 1], -math.inf], rel=1e-14)


def test_discounted_ucb_total_is_floored_at_two() -> None:
    """Counts 0.75 and 0.25 (n = 1): log 2, not log 1 = 0. A count of 1e-12 is tried: mean sums / 1e-9."""
    policy = DiscountedUCB(c=1.0)
    s = with_stats(policy, [[0.75, 0.25, 1e-12]], [[0.5, 0.25, 1e-12]])
    assert policy.bonus(s)[0].tolist() == pytest.approx(
        [2 * math.sqrt(math.log(2) / n) for n in (0.75, 0.25, 1e-9)], rel=1e-14)
    low, high = policy.bounds(s, None)
    assert high[0, 2] == pytest.approx(1e-3 + 2 * math.sqrt(math.log(2) / 1e-9), rel=1e-14)
    assert low[0, :2].tolist() == pytest.approx([2 / 3 - 2 * math.sqrt(math.log(2) / 0.75),
                                                 1 - 2 * math.sqrt(math.log(2) / 0.25)], rel=1e-14)
    s = with_stats(policy, [[30.0, 10.0]], [[3.0, 5.0]])  # n = 40
    assert policy.bonus(s)[0].tolist() == pytest.approx(
        [2 * math.sqrt(math.log(40) / 30), 2 * math.sqrt(math.log(40) / 10)], rel=1e-14)
    assert policy.bounds(s, None)[1][0].tolist() == pytest.approx(
        [0.1 + 2 * math.sqrt(math.log(40) / 30), 0.5 + 2 * math.sqrt(math.log(40) / 10)], rel=1e-14)


def test_discounted_policies_keep_the_default_scratch_row() -> None:
    for policy in (DiscountedUCB(), DiscountedThompson()):
        assert policy.width(problem(arms=5)) == 6


def test_discounted_ucb_total_is_each_repetition_own() -> None:
    """Two repetitions of two arms: discounted counts 3 + 1 (n = 4) and 10 + 10 (n = 20), each its own log n."""
    policy = DiscountedUCB(c=0.6)
    s = with_stats(policy, [[3.0, 1.0], [10.0, 10.0]], [[1.5, 1.0], [2.0, 8.0]])
    bonus = policy.bonus(s)
    assert bonus[0].tolist() == pytest.approx([2 * math.sqrt(0.6 * math.log(4) / n) for n in (3, 1)], rel=1e-14)
    assert bonus[1].tolist() == pytest.approx([2 * math.sqrt(0.6 * math.log(20) / 10)] * 2, rel=1e-14)
