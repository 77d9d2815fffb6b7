"""LUCB1 of banditmap.sim.policies.bestarm checked by hand (Kalyanakrishnan, Tewari, Auer & Stone 2012): the
radius beta(u, t) = sqrt(ln(k1 K t^4 / delta) / (2u)) with k1 = 5/4 and t the rounds of two samples, the first
sample of every arm, the leader and the challenger with the highest upper bound, the stopping rule
L(h) > U(l) - epsilon checked as a round begins, and the arm named once it fires; on three arms with given
counts and means."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies.base import ARM_STATISTICS, CONFIDENCE_BOUNDS, REGISTRY
from banditmap.sim.policies.bestarm import K1, LUCB
from banditmap.sim.policies.mab import KernelStats
from banditmap.sim.problem import Problem

from stubs import close, small_problem


def problem(arms: int = 3, reps: int = 1) -> Problem:
    return small_problem("arms", n_arms=arms, reps=reps, objective="best_arm")


def pairs(policy: LUCB, counts: Any, means: Any, seed: int = 0) -> KernelStats:
    c = np.atleast_2d(np.asarray(counts, float))
    s = policy.init(problem(c.shape[1], c.shape[0]), np.random.default_rng(seed))
    s.counts[:] = c
    s.means[:] = np.atleast_2d(np.asarray(means, float))
    s.sums[:] = s.counts * s.means
    return s


def challenger(s: KernelStats) -> Any:
    """The arm to sample after the leader, per repetition (-1: none): the kernel keeps it in scratch[:, K + 2]."""
    return s.scratch[:, s.K + 2].astype(np.int64)


def stopped(s: KernelStats) -> Any:
    return s.scratch[:, s.K + 3] > 0  # 1 once the stopping rule fired


def leader(s: KernelStats) -> Any:
    return s.scratch[:, s.K + 4].astype(np.int64)  # the arm named then


def beta(u: float, t: float, K: int = 3, delta: float = 0.05) -> float:
    return math.sqrt(math.log(1.25 * K * t ** 4 / delta) / (2 * u))


def test_registry_offers_and_hyperparameters() -> None:
    assert REGISTRY["lucb"] is LUCB and K1 == 1.25
    assert LUCB.offers == frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS})
    assert (LUCB().delta, LUCB().epsilon) == (0.05, 0.0)
    assert LUCB(epsilon=1.0).epsilon == 1.0
    with pytest.raises(BanditmapError, match="LUCB.delta"):
        LUCB(delta=1.0)
    with pytest.raises(BanditmapError, match=r"LUCB.epsilon"):
        LUCB(epsilon=1.5)


def test_init_has_no_pair_no_stop_and_leader_zero() -> None:
    s = LUCB().init(problem(arms=3, reps=2), np.random.default_rng(0))
    assert s.scratch.shape == (2, 8) and challenger(s).tolist() == [-1, -1]
    assert stopped(s).tolist() == [False, False] and leader(s).tolist() == [0, 0]
    assert s.counts.shape == (2, 3) and not s.counts.any()


def test_radius_counts_rounds_of_two_samples() -> None:
    policy = LUCB(delta=0.1)
    s = pairs(policy, [[4, 4, 8], [0, 1, 0], [0, 0, 0]], [[0.5] * 3] * 3)
    # row 0: 16 samples, t = 8; row 1: 1 sample, t counts as 1; an unsampled arm's u counts as 1
    assert close(policy.radius(s), [[beta(4, 8, delta=0.1), beta(4, 8, delta=0.1), beta(8, 8, delta=0.1)],
                                    [beta(1, 1, delta=0.1)] * 3, [beta(1, 1, delta=0.1)] * 3])


def test_radius_at_a_tiny_delta_does_not_overflow() -> None:
    policy = LUCB(delta=1e-320)
    s = pairs(policy, [[2, 2, 2]], [[0.5] * 3])
    expected = math.sqrt((math.log(3.75) + 4 * math.log(3) - math.log(1e-320)) / 4)
    assert close(policy.radius(s), [[expected] * 3])


def test_bounds_are_the_means_plus_minus_the_radius() -> None:
    policy = LUCB()
    s = pairs(policy, [[0, 2, 4]], [[0.0, 0.5, 0.25]])
    lower, upper = policy.bounds(s, None)
    r2, r4 = beta(2, 3), beta(4, 3)
    assert close(lower, [[-np.inf, 0.5 - r2, 0.25 - r4]]) and close(upper, [[np.inf, 0.5 + r2, 0.25 + r4]])


def test_select_walks_through_exploration_pairs_and_stopping() -> None:
    policy = LUCB()
    s = pairs(policy, [[2, 0, 0], [10, 100, 5], [10, 10, 10], [10_000] * 3, [10, 10, 10], [0, 10, 10]],
              [[0.5, 0, 0], [0.6, 0.55, 0.3], [0.2, 0.6, 0.5], [0.9, 0.5, 0.2], [0.6, 0.5, 0.2], [0, 0.5, 0.6]])
    s.scratch[:, 5] = [-1, -1, 0, -1, -1, 1]
    s.scratch[4, 6:8] = 1, 2
    chosen = policy.select(s, None)
    # row 0: arms 1 and 2 not sampled yet: one of them at random
    # row 1: a round begins: leader 0 (mean 0.6); challenger 2, whose upper bound 0.3 + beta(5, 57.5) beats
    #   arm 1's 0.55 + beta(100, 57.5); 0.6 - beta(10, 57.5) is far below: no stop, the leader first
    # row 2: mid-pair: the challenger noted last time (arm 0)
    # row 3: leader 0: 0.9 - beta(10^4, 1.5 10^4) > 0.5 + beta(10^4, 1.5 10^4): the rule fires, arm 0 named
    # row 4: stopped before: the named arm 2
    # row 5: arm 0 not sampled yet overrides the pair
    assert 0.3 + beta(5, 57.5) > 0.55 + beta(100, 57.5) and 0.9 - beta(1e4, 1.5e4) > 0.5 + beta(1e4, 1.5e4)
    assert chosen[0] in (1, 2) and chosen.tolist()[1:] == [0, 0, 0, 2, 0]
    assert challenger(s).tolist() == [-1, 2, -1, -1, -1, -1]
    assert stopped(s).tolist() == [False, False, False, True, True, False]
    assert leader(s).tolist() == [0, 0, 0, 0, 2, 0]
    # the next decision: row 1 samples its challenger, row 3 keeps to its named arm
    s.counts[1, 0] += 1
    assert policy.select(s, None).tolist()[1:5] == [2, 1, 0, 2]
    assert challenger(s).tolist()[1:4] == [-1, 2, -1]


def test_stopping_rule_allows_epsilon() -> None:
    counts, means = [[10_000] * 3], [[0.55, 0.5, 0.2]]
    r = beta(1e4, 1.5e4)
    assert 0.55 - r < 0.5 + r and 0.55 - r > 0.5 + r - 0.05
    s = pairs(LUCB(), counts, means)
    assert LUCB().select(s, None).tolist() == [0] and not stopped(s)[0] and challenger(s)[0] == 1
    s = pairs(LUCB(epsilon=0.05), counts, means)
    chosen = LUCB(epsilon=0.05).select(s, None)
    assert chosen.tolist() == [0] and stopped(s)[0] and challenger(s)[0] == -1 and leader(s)[0] == 0


def test_stopping_rule_names_a_leader_other_than_arm_zero() -> None:
    s = pairs(LUCB(), [[10_000] * 3], [[0.2, 0.5, 0.9]])
    assert LUCB().select(s, None).tolist() == [2]
    assert stopped(s).tolist() == [True] and leader(s).tolist() == [2]
    s.counts[:] = 1  # whatever it learns later, it plays and recommends the named arm
    s.means[:] = [[1.0, 0.0, 0.0]]
    assert LUCB().select(s, None).tolist() == [2]
    assert LUCB().recommend(s).tolist() == [2]


def test_recommend_is_the_empirical_best_until_stopped() -> None:
    s = pairs(LUCB(), [[5, 5, 5], [5, 5, 5]], [[0.1, 0.7, 0.3], [0.1, 0.7, 0.3]])
    s.scratch[1, 6:8] = 1, 2
    named = LUCB().recommend(s)
    assert named.tolist() == [1, 2] and named.dtype == np.int64
    # five arms: the stopped flag in column K + 3 and the named arm in K + 4, arm 0 named too
    s = pairs(LUCB(), [[5] * 5] * 3, [[0.1, 0.7, 0.3, 0.2, 0.0]] * 3)
    s.scratch[0, 8:10] = 1, 0  # stopped, arm 0 named although arm 1 leads now
    s.scratch[1, 8:10] = 0, 3  # not stopped: whatever the named column holds, the empirical best
    s.scratch[2, 8:10] = 1, 4
    assert LUCB().recommend(s).tolist() == [0, 1, 4]


def test_stopping_rule_is_strict() -> None:
    s = pairs(LUCB(), [[10_000] * 3], [[0.55, 0.5, 0.2]])
    lower, upper = LUCB().bounds(s, None)
    gap = float(upper[0, 1] - lower[0, 0])  # exact (Sterbenz): the leader's lower bound is U(1) - gap exactly
    assert upper[0, 1] - gap == lower[0, 0]
    s = pairs(LUCB(epsilon=gap), [[10_000] * 3], [[0.55, 0.5, 0.2]])
    LUCB(epsilon=gap).select(s, None)
    assert not stopped(s)[0]  # L(h) = U(l) - epsilon does not stop
    wider = gap + 1e-12
    s = pairs(LUCB(epsilon=wider), [[10_000] * 3], [[0.55, 0.5, 0.2]])
    LUCB(epsilon=wider).select(s, None)
    assert stopped(s)[0]


def test_leader_ties_are_broken_afresh_at_each_decision() -> None:
    policy = LUCB()
    # means tied between arms 0 and 1: the leader is either, drawn afresh at each decision, and the challenger the
    # other (arm 2's upper bound is lower); recommend draws its own
    s = pairs(policy, [[10, 10, 10]] * 40, [[0.5, 0.5, 0.2]] * 40, seed=6)
    firsts = policy.select(s, None)
    assert set(firsts.tolist()) == {0, 1}
    assert challenger(s).tolist() == (1 - firsts).tolist()
    s.scratch[:, 5] = -1
    seconds = policy.select(s, None)
    assert set(seconds.tolist()) == {0, 1} and (firsts != seconds).any() and (firsts == seconds).any()
    named = [policy.recommend(s) for _ in range(2)]
    assert set(named[0].tolist()) == {0, 1} and (named[0] != named[1]).any()


def test_challenger_and_first_sample_ties_are_broken_afresh() -> None:
    policy = LUCB()
    # arm 0 leads; arms 1 and 2 have the same upper bound: the challenger is either, drawn afresh
    s = pairs(policy, [[10, 10, 10]] * 40, [[0.9, 0.3, 0.3]] * 40, seed=8)
    assert policy.select(s, None).tolist() == [0] * 40
    first = challenger(s).copy()
    assert set(first.tolist()) == {1, 2}
    s.scratch[:, 5] = -1
    policy.select(s, None)
    assert set(challenger(s).tolist()) == {1, 2} and (challenger(s) != first).any()
    # arms 1 and 2 not sampled yet: either, drawn afresh
    s = pairs(policy, [[3, 0, 0]] * 40, [[0.5, 0, 0]] * 40, seed=9)
    picks = [policy.select(s, None) for _ in range(2)]
    assert set(picks[0].tolist()) == {1, 2} and (picks[0] != picks[1]).any()
