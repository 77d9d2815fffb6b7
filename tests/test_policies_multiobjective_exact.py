"""The multi-objective policies of banditmap.sim.policies.multiobjective checked by hand (Drugan and Nowe 2013):
Pareto dominance, Pareto UCB1's optimistic vectors mean + sqrt(2 ln(t (D K)^(1/4)) / n) and its uniform play
among the non-dominated arms, the weightings of linear scalarised UCB1, each weighting's own UCB1 and what it
learns. Random draws are checked by replaying a copy of the state's generator."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.multiobjective import (
    MULTI,
    ParetoUCB,
    ScalarizedUCB,
    VectorStats,
    non_dominated,
    simplex,
)
from banditmap.sim.problem import Problem

from stubs import close, small_problem


def problem(arms: int = 3, reps: int = 1, objectives: int = 2) -> Problem:
    return small_problem("multi", n_arms=arms, reps=reps, objectives=objectives)


def test_registry_kinds_and_hyperparameters() -> None:
    assert REGISTRY["pareto-ucb"] is ParetoUCB and REGISTRY["scalarized-ucb"] is ScalarizedUCB
    assert MULTI == frozenset({"multi"}) and ParetoUCB.kinds == MULTI and ScalarizedUCB.kinds == MULTI
    assert ScalarizedUCB().weights == 11 and ScalarizedUCB(weights=16).weights == 16
    with pytest.raises(BanditmapError, match="ScalarizedUCB.weights"):
        ScalarizedUCB(weights=17)


# --- Pareto dominance ---------------------------------------------------------------------------------------------

def test_non_dominated_keeps_the_pareto_front() -> None:
    vectors = np.array([[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.4, 0.4]],
                        [[1.0, 1.0], [1.0, 1.0], [1.0, 0.5], [0.2, 2.0]],
                        [[0.5, 0.5], [0.5, 0.6], [0.6, 0.5], [0.6, 0.6]]])
    # row 0: (0.4, 0.4) is below (0.5, 0.5); row 1: equal vectors do not dominate each other, (1, 0.5) is below
    # (1, 1); row 2: (0.6, 0.6) dominates every other
    assert non_dominated(vectors).tolist() == [[True, True, True, False], [True, True, False, True],
                                               [False, False, False, True]]


# --- Pareto UCB ---------------------------------------------------------------------------------------------------

def test_pareto_ucb_init() -> None:
    s = ParetoUCB().init(problem(arms=3, reps=2, objectives=2), np.random.default_rng(0))
    assert isinstance(s, VectorStats)
    assert s.counts.shape == (2, 3) and s.sums.shape == (2, 3, 2) and not s.counts.any() and not s.sums.any()
    assert (s.R, s.K, s.k, s.horizon) == (2, 3, 1, 100) and s.weights is None and s.chosen is None


def radius(n: float, t: float, D: int = 2, K: int = 3) -> float:
    return math.sqrt(2 * math.log(t * (D * K) ** 0.25) / n)


def pareto_state(t: int, third: float, reps: int = 1, seed: int = 0) -> VectorStats:
    """Arms 0 and 1 played 100 times, means (0.9, 0.1) and (0.1, 0.9); arm 2 played 25 times, mean (third, third)."""
    s = ParetoUCB().init(problem(arms=3, reps=reps), np.random.default_rng(seed))
    s.counts[:] = [100, 100, 25]
    s.sums[:] = [[90, 10], [10, 90], [25 * third, 25 * third]]
    s.t = t
    return s


@pytest.mark.parametrize(("t", "log_t"), [(10, 10), (0, 2), (1, 2), (2, 2), (3, 3)])
def test_pareto_ucb_plays_an_arm_whose_optimistic_vector_dominates(t: int, log_t: int) -> None:
    # arm 2 dominates arms 0 and 1 exactly when third + r(25) >= 0.9 + r(100)
    edge = 0.9 + radius(100, log_t) - radius(25, log_t)
    s = pareto_state(t, edge + 1e-6, reps=10)
    assert ParetoUCB().select(s, None).tolist() == [2] * 10
    s = pareto_state(t, edge - 1e-6, reps=40, seed=1)
    replay = copy.deepcopy(s.rng)
    chosen = ParetoUCB().select(s, None)
    assert chosen.tolist() == np.argmax(replay.random((40, 3)), axis=1).tolist()  # all three on the front
    assert set(chosen.tolist()) == {0, 1, 2}


def test_pareto_ucb_plays_untried_arms_and_chooses_among_the_front() -> None:
    s = ParetoUCB().init(problem(arms=4, reps=30), np.random.default_rng(2))
    s.counts[:] = [0, 10, 10, 0]  # two untried arms: infinite in every objective
    s.sums[:] = [[0, 0], [9, 9], [9, 9], [0, 0]]
    s.t = 20
    replay = copy.deepcopy(s.rng)
    chosen = ParetoUCB().select(s, None)
    noise = replay.random((30, 4))
    assert chosen.tolist() == np.where(noise[:, 0] > noise[:, 3], 0, 3).tolist()
    assert set(chosen.tolist()) == {0, 3}


def test_pareto_ucb_untried_arms_dominate_whatever_the_others_bounds() -> None:
    # t = 20, K = 2, D = 2: r(n) = sqrt(2 ln(20 sqrt(2)) / n); an arm played twice with mean (1, 1) reaches
    # 1 + r(2) = 2.83, above the r(1) = 2.59 an untried arm would have as a finite bound: untried means infinite
    s = ParetoUCB().init(problem(arms=2, reps=5), np.random.default_rng(0))
    s.counts[:] = [0, 2]
    s.sums[:] = [[0, 0], [2, 2]]
    s.t = 20
    assert 1 + radius(2, 20, K=2) > radius(1, 20, K=2)
    assert ParetoUCB().select(s, None).tolist() == [0] * 5


def test_pareto_ucb_mean_and_radius_of_an_arm_played_once() -> None:
    # arm 0 played once, mean (0.5, 0.5): 0.5 + r(1) = 3.08 dominates arm 1's 1 + r(2) = 2.83 (mean (1, 1))
    s = ParetoUCB().init(problem(arms=2, reps=5), np.random.default_rng(0))
    s.counts[:] = [1, 2]
    s.sums[:] = [[0.5, 0.5], [2, 2]]
    s.t = 20
    assert 0.5 + radius(1, 20, K=2) > 1 + radius(2, 20, K=2) > 0.25 + radius(2, 20, K=2)
    assert ParetoUCB().select(s, None).tolist() == [0] * 5


def test_pareto_ucb_update_adds_counts_and_reward_vectors() -> None:
    policy = ParetoUCB()
    s = policy.init(problem(arms=2, reps=2), np.random.default_rng(0))
    policy.update(s, Feedback(np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([[1.0, 0.0], [0.5, 1.0],
                                                                                  [0.0, 0.25]]), None))
    assert s.counts.tolist() == [[0, 2], [1, 0]]
    assert s.sums.tolist() == [[[0, 0], [1.5, 1.0]], [[0, 0.25], [0, 0]]]


def test_pareto_ucb_recommends_among_the_front_of_means() -> None:
    s = ParetoUCB().init(problem(arms=3, reps=30), np.random.default_rng(3))
    s.counts[:] = [4, 1, 2]
    s.sums[:] = [[2.0, 2.0], [0.6, 0.6], [0.4, 1.8]]  # means (0.5, 0.5), (0.6, 0.6), (0.2, 0.9): arm 0 dominated
    replay = copy.deepcopy(s.rng)
    chosen = ParetoUCB().recommend(s)
    noise = replay.random((30, 3))
    assert chosen.tolist() == np.where(noise[:, 1] > noise[:, 2], 1, 2).tolist()
    s.counts[:] = 0  # unplayed arms have mean 0: all on the front
    s.sums[:] = 0
    assert set(ParetoUCB().recommend(s).tolist()) == {0, 1, 2}


# --- scalarised UCB -----------------------------------------------------------------------------------------------

def test_simplex_weightings() -> None:
    assert close(simplex(1, 3), [[1 / 3] * 3])
    assert close(simplex(3, 2), [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    assert close(simplex(5, 2), [[0, 1], [0.25, 0.75], [0.5, 0.5], [0.75, 0.25], [1, 0]])
    spread = simplex(4, 3)
    assert close(spread, np.random.default_rng(0).dirichlet(np.ones(3), 4))  # a fixed spread: seed 0
    assert close(spread.sum(axis=1), [1.0] * 4) and (spread > 0).all()


def test_scalarized_ucb_init() -> None:
    s = ScalarizedUCB(weights=3).init(problem(arms=4, reps=2), np.random.default_rng(0))
    assert s.counts.shape == (2, 3, 4) and s.sums.shape == (2, 3, 4)
    assert not s.counts.any() and not s.sums.any()
    assert s.weights is not None and close(s.weights, [[0, 1], [0.5, 0.5], [1, 0]])
    assert (s.R, s.K, s.k, s.horizon) == (2, 4, 1, 100)


def test_scalarized_ucb_draws_a_weighting_and_follows_its_ucb1() -> None:
    policy = ScalarizedUCB(weights=4)
    s = policy.init(problem(arms=3, reps=60), np.random.default_rng(4))
    t = 225
    b100, b25 = math.sqrt(2 * math.log(t) / 100), math.sqrt(2 * math.log(t) / 25)
    edge = 0.9 + b100 - b25  # the mean of arm 1 (25 plays) at which its index meets arm 0's (0.9, 100 plays)
    s.counts[:] = [[10, 10, 0], [10, 10, 10], [100, 25, 100], [100, 25, 100]]
    s.sums[:] = [[9, 1, 0], [9, 1, 1], [90, 25 * (edge + 1e-6), 10], [90, 25 * (edge - 1e-6), 10]]
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    weighting = np.minimum((replay.random(60) * 4).astype(int), 3)
    # weighting 0: arm 2 untried; 1: arm 0 (0.9 against 0.1 at the same counts); 2: arm 1 just above the edge;
    # 3: arm 0 with arm 1 just below it
    assert chosen.tolist() == [[2, 0, 1, 0][w] for w in weighting]
    assert s.chosen is not None and s.chosen.tolist() == weighting.tolist()
    assert s.aux is not None and s.aux.tolist() == weighting.tolist()
    assert set(weighting.tolist()) == {0, 1, 2, 3}


def test_scalarized_ucb_bonus_shrinks_with_plays() -> None:
    policy = ScalarizedUCB(weights=1)
    s = policy.init(problem(arms=2, reps=1), np.random.default_rng(0))
    # one play each (t = 2): arm 1's mean 0.2 below arm 0's 0.3 with the same bonus
    s.counts[:] = [[[1, 1]]]
    s.sums[:] = [[[0.3, 0.2]]]
    assert policy.select(s, None).tolist() == [0]
    # one play of arm 0, four of arm 1 (t = 5): 0.1 + sqrt(2 ln 5) beats 0.9 + sqrt(2 ln 5 / 4)
    s.counts[:] = [[[1, 4]]]
    s.sums[:] = [[[0.1, 3.6]]]
    assert 0.1 + math.sqrt(2 * math.log(5)) > 0.9 + math.sqrt(2 * math.log(5) / 4)
    assert policy.select(s, None).tolist() == [0]


def test_scalarized_ucb_index_of_an_arm_played_once() -> None:
    policy = ScalarizedUCB(weights=1)
    s = policy.init(problem(arms=2, reps=1), np.random.default_rng(0))
    b1, b4 = math.sqrt(2 * math.log(5)), math.sqrt(2 * math.log(5) / 4)
    mean = 0.9 + b4 - b1 + 0.002  # arm 0 (one play) just above arm 1 (four plays, mean 0.9); half of it below
    s.counts[:] = [[[1, 4]]]
    s.sums[:] = [[[mean, 3.6]]]
    assert mean / 2 + b1 < 0.9 + b4
    assert policy.select(s, None).tolist() == [0]


def test_scalarized_ucb_plays_an_untried_arm_first() -> None:
    policy = ScalarizedUCB(weights=1)
    s = policy.init(problem(arms=2, reps=1), np.random.default_rng(0))
    s.counts[:] = [[[1, 0]]]
    s.sums[:] = [[[0.5, 0]]]  # 0.5 + sqrt(2 ln 2) would beat an untried arm's finite 0 + sqrt(2 ln 2)
    assert policy.select(s, None).tolist() == [1]


def test_scalarized_ucb_update_learns_the_weighted_sum_for_the_weighting_used() -> None:
    policy = ScalarizedUCB(weights=3)
    s = policy.init(problem(arms=2, reps=2), np.random.default_rng(0))
    observed = np.array([[1.0, 0.0], [0.2, 0.6], [0.4, 0.8]])
    policy.update(s, Feedback(np.array([0, 0, 1]), np.array([1, 1, 0]), observed, None, aux=np.array([1, 2, 0])))
    expected_counts = np.zeros((2, 3, 2))
    expected_sums = np.zeros((2, 3, 2))
    expected_counts[0, 1, 1], expected_sums[0, 1, 1] = 1, 0.5 * 1.0 + 0.5 * 0.0
    expected_counts[0, 2, 1], expected_sums[0, 2, 1] = 1, 1.0 * 0.2 + 0.0 * 0.6
    expected_counts[1, 0, 0], expected_sums[1, 0, 0] = 1, 0.0 * 0.4 + 1.0 * 0.8
    assert close(s.counts, expected_counts) and close(s.sums, expected_sums)
    policy.update(s, Feedback(np.array([0, 0]), np.array([1, 1]), observed[:2], None, aux=np.array([1, 1])))
    assert s.counts[0, 1, 1] == 3 and s.sums[0, 1, 1] == pytest.approx(0.5 + 0.5 + 0.4)
