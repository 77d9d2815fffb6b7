"""The conservative policies of banditmap.sim.policies.safe checked by hand: Conservative UCB's constraint
sum_{i != 0} n_i L_i + L_J + (n_0 - (1 - alpha)(t + 1)) B_0 >= 0 (Wu et al. 2016) with UCB1 widths
sqrt(2 log(t + 1) / n), and Conservative LinUCB's (Kazerouni et al. 2017) on per-arm ridge models with given
estimates and inverses, on three arms whose statistics are set by hand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies.base import ARM_STATISTICS, CONFIDENCE_BOUNDS, REGISTRY
from banditmap.sim.policies.safe import (
    ConservativeLinUCB,
    ConservativeRidge,
    ConservativeUCB,
)
from banditmap.sim.problem import Problem

from stubs import close, small_problem


def problem(arms: int = 3, reps: int = 1, kind: str = "arms", features: int = 0) -> Problem:
    return small_problem(kind, n_arms=arms, n_features=features, reps=reps, constraint="safety")


def stats(policy: ConservativeUCB, counts: Any, means: Any, t: int, seed: int = 0) -> Any:
    c = np.atleast_2d(np.asarray(counts, float))
    s = policy.init(problem(c.shape[1], c.shape[0]), np.random.default_rng(seed))
    s.counts[:] = c
    s.means[:] = np.atleast_2d(np.asarray(means, float))
    s.sums[:] = s.counts * s.means
    s.t = t
    return s


def test_registry_offers_and_hyperparameters() -> None:
    assert REGISTRY["conservative-ucb"] is ConservativeUCB and REGISTRY["conservative-linucb"] is ConservativeLinUCB
    assert ConservativeUCB.offers == frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS})
    assert ConservativeLinUCB.offers == frozenset({CONFIDENCE_BOUNDS})
    assert ConservativeLinUCB.kinds == frozenset({"contextual"})
    assert ConservativeUCB().alpha == 0.1 and ConservativeLinUCB().alpha == 0.1 and ConservativeLinUCB().l2 == 1.0
    assert ConservativeUCB(alpha=1.0).alpha == 1.0 and ConservativeUCB(alpha=0.0).alpha == 0.0
    with pytest.raises(BanditmapError, match="ConservativeUCB.alpha"):
        ConservativeUCB(alpha=1.5)
    with pytest.raises(BanditmapError, match="ConservativeLinUCB.alpha"):
        ConservativeLinUCB(alpha=-0.1)


# --- Conservative UCB ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("t", "log"), [(0, math.log(2)), (1, math.log(2)), (3, math.log(4))])
def test_width_is_ucb1s_with_log_t_plus_one(t: int, log: float) -> None:
    policy = ConservativeUCB()
    s = stats(policy, [[0, 1, 8]], [[0, 0.5, 0.25]], t)
    assert close(policy.width(s), [[math.sqrt(2 * log), math.sqrt(2 * log), math.sqrt(2 * log / 8)]])


def test_bounds_are_mean_minus_and_plus_width_infinite_untried() -> None:
    policy = ConservativeUCB()
    s = stats(policy, [[0, 2, 8]], [[0, 0.5, 0.25]], 3)
    lower, upper = policy.bounds(s, None)
    w2, w8 = math.sqrt(2 * math.log(4) / 2), math.sqrt(2 * math.log(4) / 8)
    assert close(lower, [[-np.inf, 0.5 - w2, 0.25 - w8]]) and close(upper, [[np.inf, 0.5 + w2, 0.25 + w8]])


def w(n: float) -> float:
    """The width at t = 9: sqrt(2 log 10 / n)."""
    return math.sqrt(2 * math.log(10) / n)


def test_conservative_ucb_explores_only_while_the_constraint_holds() -> None:
    policy = ConservativeUCB(alpha=0.1)  # (1 - alpha)(t + 1) = 9 at t = 9
    s = stats(policy, [[20, 100, 100], [1, 1, 1], [100, 100, 100], [20, 100, 0], [5, 100, 100]],
              [[0.5, 0.8, 0.3], [0.2, 0.9, 0.1], [0.9, 0.5, 0.5], [0.5, 0.8, 0.0], [0.0, 0.8, 0.3]], 9)
    # row 0: UCB1 picks arm 1 (0.8 + w(100) > 0.5 + w(20)); n_0 - 9 = 11 >= 0, so B_0 is the lower bound:
    #   100 L_1 + 100 L_2 + L_1 + 11 L_0 > 0: arm 1
    row0 = 100 * (0.8 - w(100)) + 100 * (0.3 - w(100)) + (0.8 - w(100)) + 11 * (0.5 - w(20))
    assert row0 > 0 and 0.8 + w(100) > 0.5 + w(20)
    # row 1: arm 1 (0.9 + w(1)); every lower bound is clipped to 0; n_0 - 9 = -8 takes the upper bound
    #   0.2 + w(1): the slack is negative: the baseline
    # row 2: UCB1 picks the baseline itself
    # row 3: the untried arm 2 comes first; its lower bound is 0: 100 L_1 + 11 L_0 > 0: arm 2
    # row 4: arm 1 (the baseline's 0 + w(5) is lower); n_0 - 9 = -4 with B_0 = w(5):
    #   101 L_1 + 100 L_2 - 4 B_0 > 0: arm 1
    row4 = 101 * (0.8 - w(100)) + 100 * (0.3 - w(100)) - 4 * w(5)
    assert row4 > 0 and w(5) < 0.8 + w(100)
    assert policy.select(s, None).tolist() == [1, 0, 0, 2, 1]


def test_conservative_ucb_baseline_bound_decides() -> None:
    policy = ConservativeUCB(alpha=0.1)
    # n_0 - 9 = -4, so B_0 is the baseline's upper bound 0 + w(5) = 0.96, below arm 1's 0.8 + w(100) = 1.01
    # row 0: 100 L_1 + 100 x 0 + L_1 - 4 B_0 = 101 x 0.585 - 3.84 > 0: arm 1
    # row 1: arm 1 played twice: L_1 = max(0.8 - w(2), 0) = 0: the slack is -3.84: the baseline
    s = stats(policy, [[5, 100, 100], [5, 2, 100]], [[0.0, 0.8, 0.0], [0.0, 0.8, 0.0]], 9)
    assert 101 * (0.8 - w(100)) - 4 * w(5) > 0 and 0.8 - w(2) < 0
    assert policy.select(s, None).tolist() == [1, 0]


def test_conservative_ucb_tight_constraints() -> None:
    policy = ConservativeUCB(alpha=0.1)
    s = stats(policy, [[8, 2, 0], [8, 100, 0], [1, 100, 1]], [[0, 0.8, 0], [0, 0.2196, 0], [0, 0.8, 0.1]], 9)
    # row 0: the untried arm 2 first (lower bound 0); n_0 - 9 = -1, B_0 = w(8) = 0.76, arm 1's L = 0: slack -0.76
    # row 1: arm 2 again; 100 L_1 = 100 (0.2196 - w(100)) = 0.50 < w(8): the baseline
    # row 2: arm 2 (0.1 + w(1) beats the baseline's w(1)); 100 L_1 = 58.5 > 8 w(1) = 17.2: arm 2
    assert 0 < 100 * (0.2196 - w(100)) < w(8) and 0.2196 + w(100) < 100 * (0.2196 - w(100))
    assert policy.select(s, None).tolist() == [0, 0, 2]


def test_conservative_ucb_counts_the_best_arms_lower_bound_once_more() -> None:
    policy = ConservativeUCB(alpha=0.1)  # t = 1: (1 - alpha)(t + 1) = 1.8, widths sqrt(2 log 2 / n)
    s = stats(policy, [[1, 4, 100]], [[0, 0.85, 0]], 1)

    def v(n: float) -> float:
        return math.sqrt(2 * math.log(2) / n)

    # arm 1 (0.85 + v(4) > v(1)); n_0 - 1.8 = -0.8 with B_0 = v(1): 4 L_1 + L_1 - 0.8 v(1) > 0 > 3 L_1 - 0.8 v(1)
    low = 0.85 - v(4)
    assert 5 * low > 0.8 * v(1) > 3 * low and 0.85 + v(4) > v(1)
    assert policy.select(s, None).tolist() == [1]


def test_conservative_ucb_plays_at_zero_slack_from_t_one() -> None:
    policy = ConservativeUCB(alpha=0.5)
    # t = 0 counts as 1: (1 - 1/2)(1 + 1) = 1 = n_0, so the baseline's coefficient is 0; the untried arm's lower
    # bound is 0 and so is arm 2's (mean 0): the slack is exactly 0, which the constraint allows
    s = stats(policy, [[1, 0, 1]] * 10, [[0.5, 0.0, 0.0]] * 10, 0)
    assert policy.select(s, None).tolist() == [1] * 10


def test_conservative_ucb_at_alpha_one_explores_freely() -> None:
    policy = ConservativeUCB(alpha=1.0)  # no constraint: n_0 - 0 (t + 1) = n_0 >= 0, the slack n_0 L_0 >= 0
    s = stats(policy, [[3, 0, 0]] * 20, [[0.1, 0, 0]] * 20, 4)
    assert set(policy.select(s, None).tolist()) <= {1, 2}  # an untried arm, never the baseline


# --- Conservative LinUCB ------------------------------------------------------------------------------------------

def ridge(policy: ConservativeLinUCB, reps: int) -> ConservativeRidge:
    return policy.init(problem(3, reps, "contextual", 2), np.random.default_rng(0))


def test_conservative_linucb_init() -> None:
    s = ConservativeLinUCB(l2=2.0).init(problem(3, 2, "contextual", 2), np.random.default_rng(0))
    assert s.played.shape == (2, 3, 2) and not s.played.any()
    assert s.seen.shape == (2, 2) and not s.seen.any()
    assert close(s.inverse, np.broadcast_to(np.eye(2) / 2.0, (2, 3, 2, 2)))
    assert s.target.shape == (2, 3, 2) and not s.target.any() and not s.theta.any()
    assert (s.R, s.K, s.k, s.horizon) == (2, 3, 1, 100)


def test_conservative_linucb_bounds() -> None:
    policy = ConservativeLinUCB()
    s = ridge(policy, 1)
    s.theta[0] = [[0.5, 0.0], [0.9, 0.1], [0.3, 0.0]]
    s.inverse[0] = [np.eye(2) * 0.25, np.eye(2) * 0.04, np.eye(2) * 0.01]
    lower, upper = policy.bounds(s, np.array([[1.0, 0.0]]))
    assert close(lower, [[0.0, 0.7, 0.2]]) and close(upper, [[1.0, 1.1, 0.4]])


def test_conservative_linucb_constraint_on_earned_and_baseline() -> None:
    policy = ConservativeLinUCB(alpha=0.5)
    s = ridge(policy, 3)
    s.theta[:] = [[0.5, 0.0], [0.9, 0.0], [0.3, 0.0]]
    s.inverse[:] = [np.eye(2) * 0.25, np.eye(2) * 0.04, np.eye(2) * 0.01]
    s.seen[:] = [3.0, 0.0]
    # context (1, 0): means 0.5, 0.9, 0.3, widths 0.5, 0.2, 0.1: LinUCB picks arm 1, lower bound 0.7
    # row 0: arms 0, 1 and 2 played in (2, 0), (2, 0), (1, 0): earned 2 x 0.9 - 0.4 + 0.3 - 0.1 = 1.6;
    #   c = (2, 0) - 0.5 (4, 0) = 0: the baseline term is 0; slack 2.3: arm 1
    # row 1: nothing played: c = (-2, 0), spread sqrt(4 x 0.25) = 1, baseline -1 - 1 = -2; slack -1.3: arm 0
    # row 2: arm 1 played in (2, 0): earned 1.4: slack 1.4 + 0.7 - 2 = 0.1: arm 1
    s.played[0] = [[2.0, 0.0], [2.0, 0.0], [1.0, 0.0]]
    s.played[2, 1] = [2.0, 0.0]
    context = np.array([[1.0, 0.0]] * 3)
    assert policy.select(s, context).tolist() == [1, 0, 1]
    assert close(s.seen, [[4.0, 0.0]] * 3)
    assert close(s.played, [[[2, 0], [3, 0], [1, 0]], [[1, 0], [0, 0], [0, 0]], [[0, 0], [3, 0], [0, 0]]])


def test_conservative_linucb_picks_by_upper_bound_and_subtracts_earned_spread() -> None:
    policy = ConservativeLinUCB(alpha=0.5)
    s = ridge(policy, 2)
    s.theta[:] = [[0.5, 0.0], [0.9, 0.0], [0.3, 0.0]]
    s.inverse[:] = [np.eye(2) * 0.25, np.eye(2) * 0.04, np.eye(2) * 0.01]
    s.seen[:] = [3.0, 0.0]
    # row 0: arm 2 is wide (width 0.7, mean 0.5): upper 1.2 beats arm 1's 1.1 though its lower bound is -0.2;
    #   arm 1 played in (5, 0): earned 4.5 - 1 = 3.5; baseline -2: slack 3.5 - 0.2 - 2 = 1.3: arm 2
    # row 1: arm 1 (upper 1.1) played in (1.7, 0): earned 1.53 - 0.34 = 1.19: slack 1.19 + 0.7 - 2 < 0: arm 0
    s.theta[0, 2] = [0.5, 0.0]
    s.inverse[0, 2] = np.eye(2) * 0.49
    s.played[0, 1] = [5.0, 0.0]
    s.played[1, 1] = [1.7, 0.0]
    assert policy.select(s, np.array([[1.0, 0.0]] * 2)).tolist() == [2, 0]


def test_conservative_linucb_plays_at_zero_slack() -> None:
    policy = ConservativeLinUCB(alpha=0.5)
    s = ridge(policy, 1)
    s.theta[0] = [[0.25, 0.2], [0.5, 0.0], [0.0, 0.0]]
    s.inverse[0] = [np.diag([0.25, 0.04]), np.eye(2) * 0.25, np.eye(2) * 0.01]
    s.seen[0] = [3.0, 2.0]
    s.played[0, 0] = [2.0, 1.0]  # half of what is seen after this context: c = 0, the baseline term 0
    # context (1, 0): arm 1's upper bound 1.0 beats the baseline's 0.75; its lower bound 0: slack exactly 0
    assert policy.select(s, np.array([[1.0, 0.0]])).tolist() == [1]


def test_conservative_linucb_adds_each_context_to_its_arms_sum_whole() -> None:
    """The context joins the sum of every context and the played arm's sum, each feature in its own place (the
    baseline arm 0, then another arm: the sums sit side by side in one scratch row)."""
    policy = ConservativeLinUCB(alpha=0.5)
    s = ridge(policy, 2)
    s.theta[:] = [[0.5, 0.0], [0.9, 0.0], [0.3, 0.0]]
    s.inverse[:] = [np.eye(2) * 0.25, np.eye(2) * 0.04, np.eye(2) * 0.01]
    s.seen[:] = [3.0, 1.0]
    s.played[0] = [[2.0, 1.0], [2.0, 0.5], [1.0, 0.0]]  # earned enough: arm 1 (as by hand above, row 0)
    before = s.played.copy()
    context = np.array([[1.0, 0.5], [1.0, 0.5]])  # row 1 has earned nothing: the baseline arm 0
    chosen = policy.select(s, context)
    assert chosen.tolist() == [1, 0]
    want = before.copy()
    want[0, 1] += [1.0, 0.5]
    want[1, 0] += [1.0, 0.5]
    assert close(s.played, want) and close(s.seen, [[4.0, 1.5]] * 2)


def test_conservative_linucb_earned_uses_each_arms_own_estimate_and_spread() -> None:
    policy = ConservativeLinUCB(alpha=0.5)
    s = ridge(policy, 2)
    s.theta[:] = [[0.5, 0.0], [0.9, 0.0], [0.3, 0.4]]
    s.inverse[:] = [np.eye(2) * 0.25, np.eye(2) * 0.04, np.diag([0.01, 0.16])]
    s.seen[:] = [3.0, 0.0]
    # arm 2 played in (0, 2): earned 2 x 0.4 - sqrt(4 x 0.16) = 0; in (1, 0) 0.3 - 0.1 = 0.2
    # row 0: baseline -2, arm 1's lower bound 0.7, earned 0 + arm 1 in (2, 0): 1.4: slack 0.1: arm 1
    # row 1: the same but arm 2 played in (0, 2.5): 1.0 - sqrt(6.25 x 0.16) = 0: slack 0.1 with arm 1 at (2, 0)
    s.played[0, 1], s.played[0, 2] = [2.0, 0.0], [0.0, 2.0]
    s.played[1, 1], s.played[1, 2] = [1.9, 0.0], [0.0, 2.5]  # arm 1 earns 1.71 - 0.38 = 1.33: slack 0.03
    context = np.array([[1.0, 0.0]] * 2)
    assert policy.select(s, context).tolist() == [1, 1]


def test_conservative_linucb_baseline_contexts_count_on_both_sides() -> None:
    policy = ConservativeLinUCB(alpha=0.5)
    s = ridge(policy, 2)
    s.theta[:] = [[0.5, 0.2], [0.9, 0.0], [0.3, 0.0]]
    s.inverse[:] = [np.diag([0.25, 0.04]), np.eye(2) * 0.04, np.eye(2) * 0.01]
    s.seen[:] = [[3.0, 2.0], [3.0, 2.0]]
    # context (1, 0), seen (4, 2) after it: row 0: the baseline played in (3, 1): c = (3, 1) - (2, 1) = (1, 0):
    #   0.5 - sqrt(0.25) = 0: slack 0 + 0.7 + 0 >= 0: arm 1
    # row 1: the baseline played in (1, 1): c = (-1, 0): -0.5 - 0.5 = -1: slack -0.3: the baseline
    s.played[0, 0] = [3.0, 1.0]
    s.played[1, 0] = [1.0, 1.0]
    assert policy.select(s, np.array([[1.0, 0.0]] * 2)).tolist() == [1, 0]
