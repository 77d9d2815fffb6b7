"""The linear contextual policies of banditmap.sim.policies.contextual checked by hand: the ridge state, the
Sherman-Morrison step against a direct inverse, the confidence width sqrt(x^T A^-1 x), LinUCB's bounds and choice
(Li et al. 2010), epsilon-greedy on a ridge oracle and logistic Thompson sampling's online Newton step with its
Laplace posterior, on a few arms and features. Random draws are checked by replaying a copy of the generator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banditmap.sim.kernels.rng import states_from
from test_kernels_exact import Stream
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import CONFIDENCE_BOUNDS, REGISTRY, REGRESSION_ORACLE
from banditmap.sim.policies.contextual import (
    NO_STREAMS,
    EpsilonGreedyOracle,
    KernelRidge,
    LinearThompson,
    LinUCB,
    LogisticThompson,
    Ridge,
    greedy,
    ridge_state,
    ucb_bounds,
)
from banditmap.sim.problem import Problem

from stubs import small_problem


def problem(arms: int = 3, features: int = 2, reps: int = 2, rounds: int = 40) -> Problem:
    return small_problem("contextual", n_arms=arms, n_features=features, rounds=rounds, reps=reps)


def feedback(reps: list[int], arms: list[int], rewards: list[float], xs: list[list[float]],
             unique: bool = False) -> Feedback:
    return Feedback(np.array(reps), np.array(arms), np.array(rewards, float), np.array(xs, float), unique=unique)


def ridge(obs: list[tuple[int, list[float], float]], l2: float, K: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """A^-1 = (l2 I + sum x x^T)^-1 and theta = A^-1 sum r x per arm, from one repetition's observations."""
    A = np.array([np.eye(d) * l2 for _ in range(K)])
    b = np.zeros((K, d))
    for arm, x, r in obs:
        v = np.array(x, float)
        A[arm] += np.outer(v, v)
        b[arm] += r * v
    inverse = np.linalg.inv(A)
    return inverse, np.einsum("kij,kj->ki", inverse, b)


# --- declarations -------------------------------------------------------------------------------------------------

def test_registry_kinds_offers_and_defaults() -> None:
    assert (REGISTRY["linucb"], REGISTRY["lin-ts"], REGISTRY["eps-greedy-oracle"], REGISTRY["logistic-ts"]) == (
        LinUCB, LinearThompson, EpsilonGreedyOracle, LogisticThompson)
    for cls in (LinUCB, LinearThompson, EpsilonGreedyOracle, LogisticThompson):
        assert cls.kinds == frozenset({"contextual"})
    assert LinUCB.offers == frozenset({CONFIDENCE_BOUNDS})
    assert EpsilonGreedyOracle.offers == frozenset({REGRESSION_ORACLE})
    assert LinearThompson.offers == frozenset() and LogisticThompson.offers == frozenset()
    assert (LinUCB().l2, LinUCB().alpha, LinearThompson().v) == (1.0, 1.0, 1.0)
    assert (EpsilonGreedyOracle().l2, EpsilonGreedyOracle().epsilon) == (1.0, 0.05)
    assert (LogisticThompson().prior_var, LogisticThompson().scale) == (1.0, 1.0)
    assert LinUCB(l2=0.5, alpha=2.0).params().tolist() == [0.5, 2.0]
    assert LinUCB.choose == "choose_linucb" and LinearThompson.choose == "choose_lin_ts"
    assert NO_STREAMS.dtype == np.uint64 and NO_STREAMS.shape == (0,)


# --- the shared arithmetic ----------------------------------------------------------------------------------------

def test_ridge_state_starts_at_the_prior() -> None:
    s = ridge_state(problem(arms=3, features=2, reps=2, rounds=9), np.random.default_rng(0), 0.5)
    assert isinstance(s, Ridge) and (s.R, s.K, s.k, s.horizon, s.t) == (2, 3, 1, 9, 0)
    assert np.array_equal(s.inverse, np.broadcast_to(np.eye(2) * 2.0, (2, 3, 2, 2)))
    assert s.target.shape == s.theta.shape == (2, 3, 2) and not s.target.any() and not s.theta.any()
    s.inverse[0, 0, 0, 0] = 9.0  # every arm's matrix is its own
    assert s.inverse[1, 2, 0, 0] == 2.0 and s.inverse[0, 1, 0, 0] == 2.0


def test_ucb_bounds_by_hand() -> None:
    s = ridge_state(problem(arms=2, features=2, reps=1), np.random.default_rng(0), 1.0)
    s.theta[0] = [[0.5, -1.0], [2.0, 0.0]]
    s.inverse[0, 0] = [[2.0, 0.5], [0.5, 1.0]]
    s.inverse[0, 1] = [[0.25, 0.0], [0.0, -4.0]]  # x^T A^-1 x < 0: rounding, read as 0
    # means -1.5 and 2; arm 0: x^T A^-1 x = 2 + 2 * 0.5 * 2 + 4 = 8
    lower, upper = ucb_bounds(s, np.array([[1.0, 2.0]]), 0.5)
    assert lower.tolist() == [[-1.5 - 0.5 * math.sqrt(8.0), 2.0]]
    assert upper.tolist() == [[-1.5 + 0.5 * math.sqrt(8.0), 2.0]]


def test_greedy_plays_the_best_prediction_with_random_ties() -> None:
    s = ridge_state(problem(arms=3, features=2, reps=3), np.random.default_rng(4), 1.0)
    s.theta[:] = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    x = np.array([[1.0, 0.0], [0.2, 0.9], [1.0, 1.0]])  # third: all three tie at 1
    noise = np.random.default_rng(4).random((3, 3))
    assert greedy(s, x).tolist() == [0, 1, int(np.argmax(noise[2]))]
    many = ridge_state(problem(arms=3, features=2, reps=300), np.random.default_rng(0), 1.0)
    assert set(greedy(many, np.ones((300, 2))).tolist()) == {0, 1, 2}


# --- the compiled ridge regressions -------------------------------------------------------------------------------

def test_linear_kernel_state_has_one_stream_per_repetition() -> None:
    s = LinUCB(l2=0.5).init(problem(arms=3, features=2, reps=4, rounds=7), np.random.default_rng(5))
    assert isinstance(s, KernelRidge) and (s.R, s.K, s.k, s.horizon) == (4, 3, 1, 7)
    ref = np.random.default_rng(5)
    assert s.draws.tolist() == states_from(ref, 4).tolist()
    assert s.rng.random() == ref.random()  # the generator continues after the streams were made from it
    assert np.array_equal(s.inverse, np.broadcast_to(np.eye(2) * 2.0, (4, 3, 2, 2)))
    assert not s.target.any() and not s.theta.any()


def test_update_is_the_ridge_regression_of_each_arm() -> None:
    l2 = 0.5
    for policy in (LinUCB(l2=l2), EpsilonGreedyOracle(l2=l2)):
        s = policy.init(problem(arms=3, features=2, reps=2), np.random.default_rng(0))
        batches = [feedback([0, 1], [2, 0], [1.0, 0.5], [[1.0, 0.0], [0.6, 0.8]], unique=True),
                   feedback([0, 0, 1], [2, 1, 0], [0.0, 1.0, 0.25], [[0.5, 0.5], [1.0, -1.0], [1.0, 1.0]])]
        history: dict[int, list[tuple[int, list[float], float]]] = {0: [], 1: []}
        for fb in batches:
            policy.update(s, fb)
            for rep, arm, x, r in zip(fb.reps, fb.actions, fb.contexts, fb.observed):
                history[int(rep)].append((int(arm), list(x), float(r)))
            for rep in (0, 1):
                inverse, theta = ridge(history[rep], l2, 3, 2)
                np.testing.assert_allclose(s.inverse[rep], inverse, rtol=1e-12, atol=1e-15)
                np.testing.assert_allclose(s.theta[rep], theta, rtol=1e-12, atol=1e-15)
        assert s.target[0].tolist() == [[0, 0], [1.0, -1.0], [1.0, 0.0]]


def test_update_reads_arms_logged_as_floats() -> None:
    """Arms and rewards read from a log may come as floats (and lists): arm 1.0 is arm 1."""
    policy = LinUCB(l2=1.0)
    s = policy.init(problem(arms=2, features=1, reps=1), np.random.default_rng(0))
    policy.update(s, Feedback(np.array([0]), np.array([1.0]), np.array([1.0]), np.array([[2.0]]), unique=True))
    assert s.inverse[0, :, 0, 0].tolist() == pytest.approx([1.0, 0.2], rel=1e-15)
    assert s.theta[0, :, 0].tolist() == pytest.approx([0.0, 0.4], rel=1e-15)


def test_linucb_bounds_and_choice_by_hand() -> None:
    """d = 1, l2 = 1: arm 0 seen at x = 1 with rewards 1, 1, 1 (A = 4, theta = 0.75), arm 1 once at 0.5
    (A = 2, theta = 0.25), arm 2 never (theta 0, A = 1). At x = 1: widths 1/2, sqrt(1/2), 1."""
    for alpha, best in ((1.0, 0), (0.2, 0), (2.0, 2)):
        policy = LinUCB(l2=1.0, alpha=alpha)
        s = policy.init(problem(arms=3, features=1, reps=1), np.random.default_rng(0))
        policy.update(s, feedback([0, 0, 0, 0], [0, 0, 0, 1], [1.0, 1.0, 1.0, 0.5], [[1.0]] * 4))
        low, high = policy.bounds(s, np.array([[1.0]]))
        widths = [0.5, math.sqrt(0.5), 1.0]
        assert low[0].tolist() == pytest.approx([m - alpha * w for m, w in zip([0.75, 0.25, 0.0], widths)], rel=1e-14)
        assert high[0].tolist() == pytest.approx([m + alpha * w for m, w in zip([0.75, 0.25, 0.0], widths)],
                                                 rel=1e-14)
        # upper bounds: alpha 1: 1.25, 0.96, 1; alpha 0.2: 0.85, 0.39, 0.2; alpha 2: 1.75, 1.66, 2
        assert policy.select(s, np.array([[1.0]])).tolist() == [best]
        assert policy.exploit(s, np.array([[1.0]])).tolist() == [0]


def test_linear_thompson_without_spread_plays_the_estimate() -> None:
    policy = LinearThompson(l2=1.0, v=0.0)
    s = policy.init(problem(arms=3, features=1, reps=2), np.random.default_rng(0))
    policy.update(s, feedback([0, 0, 1], [1, 2, 0], [1.0, 0.5, 0.0], [[1.0], [1.0], [-1.0]]))
    # repetition 0: thetas 0, 0.5 and 0.25
    assert policy.select(s, np.array([[1.0], [1.0]]))[0] == 1
    many = LinearThompson(l2=1.0, v=1.0)
    s = many.init(problem(arms=2, features=1, reps=200), np.random.default_rng(0))
    assert set(many.select(s, np.ones((200, 1))).tolist()) == {0, 1}  # equal posteriors: either arm


# --- epsilon-greedy on a ridge oracle -----------------------------------------------------------------------------

def test_epsilon_greedy_oracle_explores_below_epsilon_with_random_arms() -> None:
    """Each repetition's stream draws u; below epsilon it plays a uniform random arm (a second draw), otherwise the
    greedy arm (no tie: no draw). epsilon is set to one repetition's u exactly: u < epsilon fails there."""
    R, K = 8, 3
    s = EpsilonGreedyOracle().init(problem(arms=K, features=1, reps=R), np.random.default_rng(7))
    refs = [Stream(state) for state in s.draws]
    u = [ref.uniform() for ref in refs]
    epsilon = float(np.sort(u)[3])
    want = [ref.below(K) if v < epsilon else 1 for ref, v in zip(refs, u)]
    s.theta[:, :, 0] = [0.1, 0.9, 0.3]  # greedy: arm 1 at x = 1
    chosen = EpsilonGreedyOracle(epsilon=epsilon).select(s, np.ones((R, 1)))
    assert chosen.tolist() == want and s.draws.tolist() == [ref.state for ref in refs]
    assert sum(v < epsilon for v in u) == 3 and sum(v == epsilon for v in u) == 1
    assert any(w != 1 for w, v in zip(want, u) if v < epsilon)
    assert EpsilonGreedyOracle(epsilon=epsilon).exploit(s, np.ones((R, 1))).tolist() == [1] * R


def test_epsilon_greedy_oracle_exploits_the_largest_prediction_theta_x() -> None:
    """At epsilon 0 every repetition plays the arm of the largest x^T theta, summed over all the features (random
    parameters and contexts: no ties, and no single feature decides)."""
    R, K, d = 60, 4, 3
    s = EpsilonGreedyOracle(epsilon=0.0).init(problem(arms=K, features=d, reps=R), np.random.default_rng(2))
    rng = np.random.default_rng(3)
    s.theta[:] = rng.normal(size=(R, K, d))
    contexts = rng.normal(size=(R, d))
    want = np.argmax(np.einsum("rkd,rd->rk", s.theta, contexts), axis=1)
    assert EpsilonGreedyOracle(epsilon=0.0).select(s, contexts).tolist() == want.tolist()
    assert len(set(want.tolist())) == K


def test_epsilon_greedy_oracle_extremes() -> None:
    R = 400
    s = EpsilonGreedyOracle(epsilon=0.0).init(problem(arms=4, features=1, reps=R), np.random.default_rng(1))
    s.theta[:, :, 0] = [0.1, 0.2, 0.9, 0.3]
    assert EpsilonGreedyOracle(epsilon=0.0).select(s, np.ones((R, 1))).tolist() == [2] * R
    chosen = EpsilonGreedyOracle(epsilon=1.0).select(s, np.ones((R, 1)))
    assert set(chosen.tolist()) == {0, 1, 2, 3}


# --- logistic Thompson sampling -----------------------------------------------------------------------------------

def test_logistic_thompson_starts_at_its_prior() -> None:
    s = LogisticThompson(prior_var=4.0).init(problem(arms=2, features=2, reps=1), np.random.default_rng(0))
    assert np.array_equal(s.inverse, np.broadcast_to(np.eye(2) * 4.0, (1, 2, 2, 2)))
    assert not s.theta.any() and not s.target.any()


def test_logistic_thompson_online_newton_steps_by_hand() -> None:
    """d = 1, prior variance 1, arm 1 sees x = 2 twice in one batch, rewards 1 then 1.7 (clipped to 1):
    step 1: p = 1/2, H^-1 = 1 / (1 + 0.25 * 4) = 1/2, theta = 0 + 1/2 * 2 * (1 - 1/2) = 1/2;
    step 2: p = sigmoid(1), H^-1 = 1 / (2 + p (1 - p) 4), theta = 1/2 + H^-1 2 (1 - p)."""
    policy = LogisticThompson()
    s = policy.init(problem(arms=2, features=1, reps=2), np.random.default_rng(0))
    policy.update(s, feedback([0, 0, 1], [1, 1, 0], [1.0, 1.7, -0.5], [[2.0], [2.0], [1.0]]))
    p = 1 / (1 + math.exp(-1))
    h = 1 / (2 + p * (1 - p) * 4)
    assert s.inverse[0, 1, 0, 0] == pytest.approx(h, rel=1e-14)
    assert s.theta[0, 1, 0] == pytest.approx(0.5 + h * 2 * (1 - p), rel=1e-14)
    assert s.inverse[0, 0, 0, 0] == 1.0 and s.theta[0, 0, 0] == 0.0
    # repetition 1, reward -0.5 clipped to 0: p = 1/2, H^-1 = 1 / 1.25, theta = -0.8 * 0.5
    assert s.inverse[1, 0, 0, 0] == pytest.approx(0.8, rel=1e-14)
    assert s.theta[1, 0, 0] == pytest.approx(-0.4, rel=1e-14)
    assert not s.target.any()


def test_logistic_thompson_curvature_is_floored() -> None:
    """At theta = 40, x = 1: p (1 - p) is about 4e-18, floored at 1e-6: H^-1 = 1 / (1 + 1e-6)."""
    policy = LogisticThompson()
    s = policy.init(problem(arms=1, features=1, reps=1), np.random.default_rng(0))
    s.theta[0, 0, 0] = 40.0
    policy.update(s, feedback([0], [0], [1.0], [[1.0]], unique=True))
    assert s.inverse[0, 0, 0, 0] == pytest.approx(1 / (1 + 1e-6), rel=1e-14)
    p = 1 / (1 + math.exp(-40))
    assert s.theta[0, 0, 0] == pytest.approx(40 + (1 - p) / (1 + 1e-6), rel=1e-15)


def test_logistic_thompson_samples_mean_plus_scale_width_normal() -> None:
    """Linear Thompson sampling's draw on the logistic posterior: per arm, in order, x^T theta + scale *
    sqrt(x^T H^-1 x) * z with z a normal from the repetition's stream."""
    R, K = 6, 3
    policy = LogisticThompson(scale=0.7)
    s = policy.init(problem(arms=K, features=2, reps=R), np.random.default_rng(3))
    s.theta[:] = [[0.2, 0.1], [0.0, 0.4], [-0.3, 0.5]]
    s.inverse[:, 0] = np.diag([0.5, 2.0])
    x = np.tile([1.0, 0.5], (R, 1))
    mean = np.array([0.25, 0.2, -0.05])
    width = np.array([math.sqrt(0.5 + 0.5), math.sqrt(1.25), math.sqrt(1.25)])
    refs = [Stream(state) for state in s.draws]
    z = np.array([[ref.normal() for _ in range(K)] for ref in refs])
    want = np.argmax(mean + 0.7 * width * z, axis=1)
    assert policy.select(s, x).tolist() == want.tolist() and len(set(want.tolist())) > 1
    s.theta[:, 2] = [5.0, 5.0]
    assert policy.exploit(s, x).tolist() == [2] * R
    assert LogisticThompson(scale=0.0).select(s, x).tolist() == [2] * R
