"""D-LinUCB and SW-LinUCB (banditmap.sim.policies.forgetting) checked against their papers' definitions: the
statistics an update leaves are compared with the weighted sums the papers define (lambda I plus gamma^(t - s)
x x^T over the observations, or the plain sum over the last `window` of them), and the bounds with x^T theta plus or
minus alpha * beta_t * width written out from the formulas, on a few hand-made observations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.kernels import moving
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import CONFIDENCE_BOUNDS, REGISTRY
from banditmap.sim.policies.forgetting import DLinUCB, SWLinUCB
from banditmap.sim.problem import Problem

from stubs import small_problem


def problem(arms: int = 2, features: int = 2, reps: int = 2, rounds: int = 50) -> Problem:
    return small_problem("contextual", reward="continuous", n_arms=arms, n_features=features, rounds=rounds, reps=reps,
                         dynamics="abrupt")


def feedback(reps: list[int], actions: list[int], rewards: list[float], xs: list[list[float]],
             unique: bool = False) -> Feedback:
    return Feedback(np.array(reps), np.array(actions), np.array(rewards, float), np.array(xs, float), unique=unique)


def weighted(obs: list[tuple[int, int, list[float], float]], t: int, lam: float, gamma: float, K: int, d: int,
             power: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The paper's V (power 1) or V~ (power 2) and b at decision t: lambda I + sum gamma^(power (t - s)) x x^T and
    sum gamma^(t - s) r x over one repetition's observations (s, arm, x, r)."""
    V = np.array([np.eye(d) * lam for _ in range(K)])
    b = np.zeros((K, d))
    for s, arm, x, r in obs:
        v = np.array(x, float)
        V[arm] += gamma ** (power * (t - s)) * np.outer(v, v)
        b[arm] += gamma ** (t - s) * r * v
    return V, b


# --- the policies' declarations -----------------------------------------------------------------------------------

def test_registered_contextual_policies_offering_bounds_with_their_defaults() -> None:
    assert REGISTRY["d-linucb"] is DLinUCB and REGISTRY["sw-linucb"] is SWLinUCB
    for cls in (DLinUCB, SWLinUCB):
        assert cls.kinds == frozenset({"contextual"})
        assert cls.offers == frozenset({CONFIDENCE_BOUNDS})
    d = DLinUCB()
    assert (d.lambda_reg, d.delta, d.alpha, d.gamma) == (0.1, 0.01, 1.0, 0.999)
    assert SWLinUCB().window == 1000
    assert list(DLinUCB(lambda_reg=0.5, delta=0.1, alpha=2.0, gamma=0.9).params()) == [0.5, 0.1, 2.0, 0.9]


@pytest.mark.parametrize("field, value", [("gamma", 0.0), ("gamma", 1.0), ("delta", 0.0), ("delta", 1.0),
                                          ("lambda_reg", 0.0), ("alpha", -0.1)])
def test_d_linucb_refuses_values_outside_its_domains(field: str, value: float) -> None:
    with pytest.raises(BanditmapError, match=f"DLinUCB.{field}"):
        DLinUCB(**{field: value})


def test_the_domains_say_why_they_end() -> None:
    with pytest.raises(BanditmapError, match=r"a number > 0 and < 1 \(1 never forgets: that is LinUCB\)"):
        DLinUCB(gamma=1.0)
    with pytest.raises(BanditmapError, match=r"a whole number from 1 to 100000 \(the window's observations are kept"):
        SWLinUCB(window=0)
    for bad in (100_001, 2.5):
        with pytest.raises(BanditmapError):
            SWLinUCB(window=bad)
    assert SWLinUCB(window=100_000).window == 100_000 and SWLinUCB(window=1).window == 1
    assert DLinUCB(gamma=1e-9, delta=1 - 1e-9, alpha=0.0).alpha == 0.0


# --- the estimates (compiled: sim/kernels/moving.py) ------------------------------------------------------------

def test_estimates_give_the_ridge_mean_and_width_of_every_arm() -> None:
    """V and b set by hand (d = 2): SW-LinUCB's width sqrt(x^T V^-1 x), D-LinUCB's sqrt(u^T V~ u) with u = V^-1 x,
    and D-LinUCB's statistics discounted on the fly from the decision they were discounted to."""
    x = np.array([[1.0, 3.0]])
    for policy in (SWLinUCB(lambda_reg=2.0), DLinUCB(lambda_reg=2.0, gamma=0.5)):
        s = policy.init(problem(arms=2, features=2, reps=1), np.random.default_rng(0))
        s.gram[0, 0] = [[2.0, 0.0], [0.0, 4.0]]
        s.gram[0, 1] = [[2.0, 1.0], [1.0, 1.0]]  # inverse [[1, -1], [-1, 2]]
        s.target[0, 0] = [1.0, 2.0]
        s.target[0, 1] = [1.0, 1.0]
        # theta (0.5, 0.5) and (0, 1); V^-1 x = (0.5, 0.75) and (-2, 5)
        if isinstance(policy, SWLinUCB):
            mean, width = policy.estimates(s, x)
            assert width[0].tolist() == pytest.approx([math.sqrt(2.75), math.sqrt(13.0)], rel=1e-14)
        else:
            s.squared[0] = [np.eye(2), np.diag([1.0, 2.0])]  # u^T V~ u: 0.25 + 0.5625, and 4 + 2 * 25
            mean, width = policy.estimates(s, x)
            assert width[0].tolist() == pytest.approx([math.sqrt(0.8125), math.sqrt(54.0)], rel=1e-14)
        assert mean[0].tolist() == pytest.approx([2.0, 3.0], rel=1e-14)
    # one decision later, discounted by one half towards l2 = 2: arm 0's V = diag(1, 2) + I, b = (0.5, 1):
    # theta (0.25, 1/3), V^-1 x = (0.5, 1); V~ discounted by a quarter: 0.25 I + 0.75 * 2 I
    s.t = 1
    mean, width = policy.estimates(s, x)
    assert mean[0, 0] == pytest.approx(1.25, rel=1e-14)
    assert width[0, 0] == pytest.approx(math.sqrt(1.75 * 1.25), rel=1e-14)


def full_system(policy: DLinUCB | SWLinUCB, d: int, seed: int) -> tuple[object, np.random.Generator]:
    rng = np.random.default_rng(seed)
    s = policy.init(problem(arms=3, features=d, reps=2), rng)
    for r in range(2):
        for k in range(3):
            a = rng.normal(size=(d + 2, d))
            s.gram[r, k] = a.T @ a + 0.3 * np.eye(d)
            s.target[r, k] = rng.normal(size=d)
            if isinstance(policy, DLinUCB):
                a = rng.normal(size=(d + 1, d))
                s.squared[r, k] = a.T @ a + np.eye(d)
    return s, rng


@pytest.mark.parametrize("d", [1, 2, 3, 6])
def test_estimates_solve_a_full_system_as_linear_algebra_does(d: int) -> None:
    """Correlated features: D-LinUCB's reduction to tridiagonal form (reused over later decisions, the statistics
    discounted from repetition 1's last update at decision 2) and SW-LinUCB's Cholesky factors agree with numpy's
    solves on x^T theta, sqrt(u^T V~ u) and sqrt(x^T u), u = V^-1 x."""
    lam, gamma = 0.3, 0.8
    s, rng = full_system(DLinUCB(lambda_reg=lam, gamma=gamma), d, 7)
    s.discounted_to[1] = 2
    tridiagonal = np.diag(np.arange(1.0, d + 1)) + np.diag(np.full(d - 1, 0.5), 1) + np.diag(np.full(d - 1, 0.5), -1)
    s.gram[0, 2] = tridiagonal  # no reflection to make: its basis stays the identity
    for t in (2, 5, 9):
        s.t = t
        x = rng.normal(size=(2, d))
        mean, width = DLinUCB(lambda_reg=lam, gamma=gamma).estimates(s, x)
        assert (s.since == [[0] * 3, [2] * 3]).all()  # the factors of every arm, made at the first decision
        Q, _, coefs = moving.across(s.basis, s.inner, s.coef, 0, d)  # each arm last
        assert np.array_equal(Q[:, :, 2], np.eye(d)) and np.array_equal(coefs[0, :, 2], np.arange(1.0, d + 1))
        for r in range(2):
            keep = gamma ** (t - s.discounted_to[r])
            for k in range(3):
                V = keep * s.gram[r, k] + (1 - keep) * lam * np.eye(d)
                V2 = keep ** 2 * s.squared[r, k] + (1 - keep ** 2) * lam * np.eye(d)
                u = np.linalg.solve(V, x[r])
                assert mean[r, k] == pytest.approx(x[r] @ np.linalg.solve(V, keep * s.target[r, k]), rel=1e-11)
                assert width[r, k] == pytest.approx(math.sqrt(u @ V2 @ u), rel=1e-11)
    s, rng = full_system(SWLinUCB(lambda_reg=lam), d, 8)
    x = rng.normal(size=(2, d))
    mean, width = SWLinUCB(lambda_reg=lam).estimates(s, x)
    for r in range(2):
        for k in range(3):
            u = np.linalg.solve(s.gram[r, k], x[r])
            assert mean[r, k] == pytest.approx(x[r] @ np.linalg.solve(s.gram[r, k], s.target[r, k]), rel=1e-12)
            assert width[r, k] == pytest.approx(math.sqrt(x[r] @ u), rel=1e-12)


# --- D-LinUCB -----------------------------------------------------------------------------------------------------

def test_d_linucb_starts_from_the_ridge_alone() -> None:
    s = DLinUCB(lambda_reg=0.25).init(problem(arms=3, features=2, reps=2, rounds=7), np.random.default_rng(0))
    assert (s.R, s.K, s.k, s.horizon, s.t) == (2, 3, 1, 7, 0)
    assert s.gram.shape == s.squared.shape == (2, 3, 2, 2)
    assert np.array_equal(s.gram, np.broadcast_to(np.eye(2) * 0.25, (2, 3, 2, 2)))
    assert np.array_equal(s.squared, s.gram) and s.squared is not s.gram
    assert np.array_equal(s.target, np.zeros((2, 3, 2)))
    assert s.discounted_to.dtype == np.int64 and s.discounted_to.tolist() == [0, 0]
    s.gram[0, 0, 0, 0] = 9.0  # each arm's matrices are its own
    assert s.gram[1, 2, 0, 0] == 0.25 and s.squared[0, 0, 0, 0] == 0.25


def test_d_linucb_beta_by_hand() -> None:
    policy = DLinUCB(lambda_reg=0.5, delta=0.1, gamma=0.9)
    s = policy.init(problem(features=2), np.random.default_rng(0))
    # t = 0: nothing grown, beta = sqrt(lambda) S + sigma sqrt(2 ln(1/delta))
    assert policy.beta(s) == pytest.approx(math.sqrt(0.5) + 0.5 * math.sqrt(2 * math.log(10)), rel=1e-14)
    s.t = 3
    grown = (1 - 0.81 ** 3) / (2 * 0.5 * (1 - 0.81))  # (1 - gamma^(2t)) / (d lambda (1 - gamma^2))
    expected = math.sqrt(0.5) * 1.0 + 0.5 * math.sqrt(2 * math.log(10) + 2 * math.log(1 + grown))
    assert policy.beta(s) == pytest.approx(expected, rel=1e-14)
    s1 = DLinUCB(lambda_reg=2.0, delta=0.5, gamma=0.5).init(problem(features=1), np.random.default_rng(0))
    s1.t = 2
    grown = (1 - 0.25 ** 2) / (1 * 2.0 * 0.75)
    expected = math.sqrt(2.0) + 0.5 * math.sqrt(2 * math.log(2) + math.log(1 + grown))
    assert DLinUCB(lambda_reg=2.0, delta=0.5, gamma=0.5).beta(s1) == pytest.approx(expected, rel=1e-14)


def test_d_linucb_updates_discount_each_repetition_to_its_own_arrival() -> None:
    lam, gamma = 0.5, 0.8
    policy = DLinUCB(lambda_reg=lam, gamma=gamma)
    s = policy.init(problem(arms=2, features=2, reps=3), np.random.default_rng(0))
    history: dict[int, list[tuple[int, int, list[float], float]]] = {0: [], 1: [], 2: []}
    steps = [
        (0, feedback([0], [1], [1.0], [[1.0, 0.0]], unique=True)),
        (2, feedback([0, 1], [1, 0], [0.5, 0.25], [[0.6, 0.8], [1.0, 1.0]], unique=True)),
        # two observations of repetition 0 and arm 0 in one batch (delayed feedback): both count
        (5, feedback([0, 0, 1], [0, 0, 1], [1.0, 0.75, 0.1], [[0.0, 1.0], [0.5, -1.0], [-1.0, 2.0]])),
    ]
    untouched = s.gram[2].copy()
    for t, fb in steps:
        s.t = t
        policy.update(s, fb)
        for rep, arm, x, r in zip(fb.reps, fb.actions, fb.contexts, fb.observed):
            history[int(rep)].append((t, int(arm), list(x), float(r)))
        for rep in {int(r) for r in fb.reps}:
            V, b = weighted(history[rep], t, lam, gamma, 2, 2)
            V2, _ = weighted(history[rep], t, lam, gamma, 2, 2, power=2)
            np.testing.assert_allclose(s.gram[rep], V, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(s.squared[rep], V2, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(s.target[rep], b, rtol=1e-13, atol=1e-15)
            assert s.discounted_to[rep] == t
    assert s.discounted_to.tolist() == [5, 5, 0]
    assert np.array_equal(s.gram[2], untouched)  # a repetition without feedback is not discounted


def test_d_linucb_batch_with_three_observations_of_one_arm() -> None:
    policy = DLinUCB(lambda_reg=1.0, gamma=0.5)
    s = policy.init(problem(arms=2, features=1, reps=1), np.random.default_rng(0))
    policy.update(s, feedback([0, 0, 0], [1, 1, 1], [1.0, 0.5, 0.25], [[1.0], [2.0], [3.0]]))
    assert s.gram[0, 1, 0, 0] == 1.0 + 1 + 4 + 9 and s.squared[0, 1, 0, 0] == 15.0
    assert s.target[0, 1, 0] == 1.0 + 1.0 + 0.75
    assert s.gram[0, 0, 0, 0] == 1.0 and s.target[0, 0, 0] == 0.0
    s.t = 2
    policy.update(s, feedback([0], [0], [1.0], [[2.0]], unique=True))
    # arm 1: V = 0.25 * 15 + 0.75 * 1, V~ = 0.0625 * 15 + 0.9375, b = 0.25 * 2.75; arm 0: 1 + 4, b = 2
    assert s.gram[0, 1, 0, 0] == pytest.approx(4.5, rel=1e-15)
    assert s.squared[0, 1, 0, 0] == pytest.approx(1.875, rel=1e-15)
    assert s.target[0, 1, 0] == pytest.approx(0.6875, rel=1e-15)
    assert (s.gram[0, 0, 0, 0], s.squared[0, 0, 0, 0], s.target[0, 0, 0]) == (5.0, 5.0, 2.0)


def test_d_linucb_bounds_discount_a_copy_up_to_now() -> None:
    lam, gamma, delta, alpha = 0.5, 0.8, 0.1, 0.7
    policy = DLinUCB(lambda_reg=lam, gamma=gamma, delta=delta, alpha=alpha)
    s = policy.init(problem(arms=2, features=2, reps=2), np.random.default_rng(0))
    obs = {0: [(0, 1, [1.0, 0.0], 1.0), (1, 0, [0.6, 0.8], 0.5), (1, 1, [0.0, 1.0], 0.2)],
           1: [(0, 0, [1.0, 1.0], 0.9)]}
    for t in (0, 1):
        s.t = t
        for rep in (0, 1):
            here = [o for o in obs[rep] if o[0] == t]
            if here:
                policy.update(s, feedback([rep] * len(here), [o[1] for o in here], [o[3] for o in here],
                                          [o[2] for o in here]))
    s.t = 4
    before = (s.gram.copy(), s.squared.copy(), s.target.copy(), s.discounted_to.copy())
    x = np.array([[0.3, 0.9], [1.0, -0.5]])
    low, high = policy.bounds(s, x)
    g2 = gamma ** 2
    beta = math.sqrt(lam) + 0.5 * math.sqrt(2 * math.log(1 / delta)
                                            + 2 * math.log(1 + (1 - g2 ** 4) / (2 * lam * (1 - g2))))
    for rep in (0, 1):
        V, b = weighted(obs[rep], 4, lam, gamma, 2, 2)
        V2, _ = weighted(obs[rep], 4, lam, gamma, 2, 2, power=2)
        for arm in (0, 1):
            inv = np.linalg.inv(V[arm])
            mean = x[rep] @ inv @ b[arm]
            width = alpha * beta * math.sqrt(x[rep] @ inv @ V2[arm] @ inv @ x[rep])
            assert low[rep, arm] == pytest.approx(mean - width, rel=1e-12)
            assert high[rep, arm] == pytest.approx(mean + width, rel=1e-12)
    for kept, now in zip(before, (s.gram, s.squared, s.target, s.discounted_to)):
        assert np.array_equal(kept, now)  # bounds discount a copy
    assert s.t == 4
    chosen = policy.select(s, x)
    assert chosen.tolist() == np.argmax(high, axis=1).tolist()


def test_d_linucb_selects_the_upper_bound_and_exploits_the_mean() -> None:
    """One arm well known at a middling mean, one seen once at a high reward: optimism picks the unknown arm
    where exploitation (the discounted ridge estimate) picks the known one, whose mean the discount leaves higher."""
    policy = DLinUCB(lambda_reg=1.0, gamma=0.5, alpha=1.0, delta=0.5)
    s = policy.init(problem(arms=2, features=1, reps=1), np.random.default_rng(3))
    policy.update(s, feedback([0] * 5, [0] * 5, [0.6] * 5, [[1.0]] * 5))
    s.t = 1
    policy.update(s, feedback([0], [1], [1.0], [[1.0]], unique=True))
    s.t = 2
    # at t = 2, before the next observation: arm 0 V = 0.25 * 6 + 0.75 = 2.25, b = 0.75, V~ = 6/16 + 15/16 = 21/16
    policy.update(s, feedback([0], [0], [1.0], [[1.0]], unique=True))
    # arm 0 at t=2: V = 3.25, b = 1.75, mean 7/13; V~ = 21/16 + 1 = 37/16
    # arm 1 at t=2: V = 1.5, b = 0.5, mean 1/3; V~ = 0.25 * 2 + 0.75 = 1.25
    low, high = policy.bounds(s, np.array([[1.0]]))
    grown = (1 - 0.25 ** 2) / (1 * 1.0 * 0.75)
    beta = 1.0 + 0.5 * math.sqrt(2 * math.log(2) + math.log(1 + grown))
    w0, w1 = beta * math.sqrt(37 / 16) / 3.25, beta * math.sqrt(1.25) / 1.5
    assert low[0].tolist() == pytest.approx([7 / 13 - w0, 1 / 3 - w1], rel=1e-12)
    assert high[0].tolist() == pytest.approx([7 / 13 + w0, 1 / 3 + w1], rel=1e-12)
    assert 1 / 3 + w1 > 7 / 13 + w0
    assert policy.select(s, np.array([[1.0]])).tolist() == [1]
    assert policy.exploit(s, np.array([[1.0]])).tolist() == [0]
    s.t = 30  # thirty rounds later the estimates have faded to nothing but the ridge: arm 0's is still the higher
    assert policy.exploit(s, np.array([[1.0]])).tolist() == [0]


def test_d_linucb_exploit_reads_the_discounted_estimate() -> None:
    """Arm 0 was seen long ago with a high reward, arm 1 recently with a lower one: undiscounted, arm 0's ridge
    estimate is higher; discounted up to now, arm 1's is."""
    policy = DLinUCB(lambda_reg=1.0, gamma=0.5)
    s = policy.init(problem(arms=2, features=1, reps=1, rounds=20), np.random.default_rng(0))
    policy.update(s, feedback([0] * 4, [0] * 4, [1.0] * 4, [[1.0]] * 4))  # arm 0: V = 5, b = 4, mean 0.8
    s.t = 3
    policy.update(s, feedback([0], [1], [0.7], [[1.0]], unique=True))  # arm 1: V = 2, b = 0.7, mean 0.35
    # at t = 3 arm 0 is V = 1/8 * 5 + 7/8 = 1.5, b = 0.5: mean 1/3 < 0.35
    assert policy.exploit(s, np.array([[1.0]])).tolist() == [1]
    s.t = 4  # arm 0: V = 1.25, b = 0.25, mean 0.2; arm 1: V = 1.5, b = 0.35, mean 0.2333
    assert policy.exploit(s, np.array([[1.0]])).tolist() == [1]


# --- SW-LinUCB ----------------------------------------------------------------------------------------------------

def test_sw_linucb_window_is_cut_to_the_run() -> None:
    s = SWLinUCB(window=3, lambda_reg=0.2).init(problem(arms=2, features=2, reps=2, rounds=50),
                                                np.random.default_rng(0))
    assert (s.R, s.K, s.k, s.horizon) == (2, 2, 1, 50)
    assert s.arms.shape == (2, 3) and s.arms.dtype == np.int64 and (s.arms == -1).all()
    assert s.xs.shape == (2, 3, 2) and not s.xs.any()
    assert s.rewards.shape == (2, 3) and not s.rewards.any()
    assert s.cursor.dtype == np.int64 and s.cursor.tolist() == [0, 0]
    assert np.array_equal(s.gram, np.broadcast_to(np.eye(2) * 0.2, (2, 2, 2, 2)))
    assert np.array_equal(s.target, np.zeros((2, 2, 2)))
    short = SWLinUCB(window=100).init(problem(arms=2, features=2, reps=1, rounds=5), np.random.default_rng(0))
    assert short.arms.shape == (1, 5) and short.xs.shape == (1, 5, 2) and short.rewards.shape == (1, 5)


def test_sw_linucb_beta_by_hand() -> None:
    policy = SWLinUCB(lambda_reg=0.5, delta=0.1, window=4)
    s = policy.init(problem(features=2), np.random.default_rng(0))
    # sqrt(lambda) S + sigma sqrt(d ln((1 + window / lambda) / delta))
    expected = math.sqrt(0.5) * 1.0 + 0.5 * math.sqrt(2 * math.log((1 + 4 / 0.5) / 0.1))
    assert policy.beta(s) == pytest.approx(expected, rel=1e-14)
    s.t = 40  # no dependence on time
    assert policy.beta(s) == pytest.approx(expected, rel=1e-14)
    s3 = SWLinUCB(lambda_reg=2.0, delta=0.5, window=6).init(problem(features=3), np.random.default_rng(0))
    assert SWLinUCB(lambda_reg=2.0, delta=0.5, window=6).beta(s3) == pytest.approx(
        math.sqrt(2.0) + 0.5 * math.sqrt(3 * math.log(4 / 0.5)), rel=1e-14)


def sw_expected(obs: list[tuple[int, list[float], float]], window: int, lam: float, K: int, d: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """lambda I + sum x x^T and sum r x over the last `window` observations (arm, x, r) of one repetition."""
    V = np.array([np.eye(d) * lam for _ in range(K)])
    b = np.zeros((K, d))
    for arm, x, r in obs[-window:]:
        v = np.array(x, float)
        V[arm] += np.outer(v, v)
        b[arm] += r * v
    return V, b


@pytest.mark.parametrize("W", [2, 3])
def test_sw_linucb_keeps_the_last_window_observations(W: int) -> None:
    lam = 0.5
    policy = SWLinUCB(lambda_reg=lam, window=W)
    s = policy.init(problem(arms=2, features=2, reps=2), np.random.default_rng(0))
    history: dict[int, list[tuple[int, list[float], float]]] = {0: [], 1: []}
    batches = [
        feedback([0], [1], [1.0], [[1.0, 0.0]], unique=True),
        feedback([0, 1], [0, 1], [0.5, 0.25], [[0.6, 0.8], [1.0, 1.0]], unique=True),
        feedback([0], [0], [0.3], [[0.0, 1.0]], unique=True),  # the first observation (arm 1) leaves
        # three of repetition 0 and one of 1 in a batch: taken in order, so only the last two of 0 stay
        feedback([0, 1, 0, 0], [1, 0, 0, 1], [0.9, 0.4, 0.1, 0.8], [[2.0, 1.0], [-1.0, 0.5], [1.0, 1.0], [0.5, 0.5]]),
    ]
    for fb in batches:
        policy.update(s, fb)
        for rep, arm, x, r in zip(fb.reps, fb.actions, fb.contexts, fb.observed):
            history[int(rep)].append((int(arm), list(x), float(r)))
        for rep in (0, 1):
            V, b = sw_expected(history[rep], W, lam, 2, 2)
            np.testing.assert_allclose(s.gram[rep], V, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(s.target[rep], b, rtol=1e-12, atol=1e-14)
            assert s.cursor[rep] == len(history[rep]) % W
            kept = history[rep][-W:]
            for i, (arm, x, r) in enumerate(kept):
                slot = (len(history[rep]) - len(kept) + i) % W
                assert s.arms[rep, slot] == arm and s.rewards[rep, slot] == r
                assert s.xs[rep, slot].tolist() == x
    assert s.arms.tolist() == ([[0, 1], [1, 0]] if W == 2 else [[1, 0, 1], [1, 0, -1]])


def test_sw_linucb_window_of_one_replaces_each_observation() -> None:
    policy = SWLinUCB(lambda_reg=1.0, window=1)
    s = policy.init(problem(arms=2, features=1, reps=1), np.random.default_rng(0))
    policy.update(s, feedback([0], [0], [0.5], [[2.0]], unique=True))
    assert (s.gram[0, :, 0, 0].tolist(), s.target[0, :, 0].tolist()) == ([5.0, 1.0], [1.0, 0.0])
    policy.update(s, feedback([0], [0], [0.25], [[3.0]], unique=True))
    assert (s.gram[0, :, 0, 0].tolist(), s.target[0, :, 0].tolist()) == ([10.0, 1.0], [0.75, 0.0])
    policy.update(s, feedback([0], [1], [1.0], [[1.0]], unique=True))
    assert (s.gram[0, :, 0, 0].tolist(), s.target[0, :, 0].tolist()) == ([1.0, 2.0], [0.0, 1.0])
    assert s.cursor.tolist() == [0] and s.arms.tolist() == [[1]]


def test_sw_linucb_bounds_by_hand() -> None:
    """d = 1, lambda = 1, window 3: arm 0 seen twice at x = 1 (rewards 1 and 0.5), arm 1 once at x = 2 (reward 1).
    V = 3 and 5, theta = 0.5 and 0.4; at x = 1 the means are 0.5 and 0.4, widths alpha beta sqrt(1/3), sqrt(1/5)."""
    alpha, delta = 0.5, 0.2
    policy = SWLinUCB(lambda_reg=1.0, window=3, alpha=alpha, delta=delta)
    s = policy.init(problem(arms=2, features=1, reps=1), np.random.default_rng(0))
    policy.update(s, feedback([0, 0, 0], [0, 0, 1], [1.0, 0.5, 1.0], [[1.0], [1.0], [2.0]]))
    beta = 1.0 + 0.5 * math.sqrt(math.log(1 + 3) - math.log(0.2))
    low, high = policy.bounds(s, np.array([[1.0]]))
    w0, w1 = alpha * beta * math.sqrt(1 / 3), alpha * beta * math.sqrt(1 / 5)
    assert low[0].tolist() == pytest.approx([0.5 - w0, 0.4 - w1], rel=1e-13)
    assert high[0].tolist() == pytest.approx([0.5 + w0, 0.4 + w1], rel=1e-13)
    assert policy.select(s, np.array([[1.0]])).tolist() == [0]
    low, high = policy.bounds(s, np.array([[-2.0]]))  # x = -2: means -1 and -0.8, widths sqrt(4/3), sqrt(4/5)
    w0, w1 = alpha * beta * math.sqrt(4 / 3), alpha * beta * math.sqrt(4 / 5)
    assert high[0].tolist() == pytest.approx([-1 + w0, -0.8 + w1], rel=1e-13)
    assert low[0].tolist() == pytest.approx([-1 - w0, -0.8 - w1], rel=1e-13)
    assert policy.exploit(s, np.array([[-2.0]])).tolist() == [1]
    assert policy.exploit(s, np.array([[1.0]])).tolist() == [0]


def test_sw_linucb_optimism_and_exploitation_part() -> None:
    """Arm 0 seen 8 times at 0.5, arm 1 once at 0.45: exploitation plays arm 0, optimism the wider arm 1."""
    policy = SWLinUCB(lambda_reg=0.01, window=20)
    s = policy.init(problem(arms=2, features=1, reps=1), np.random.default_rng(0))
    policy.update(s, feedback([0] * 9, [0] * 8 + [1], [0.5] * 8 + [0.45], [[1.0]] * 9))
    x = np.array([[1.0]])
    low, high = policy.bounds(s, x)
    assert high[0, 1] > high[0, 0] and low[0, 1] < low[0, 0]
    assert policy.select(s, x).tolist() == [1]
    assert policy.exploit(s, x).tolist() == [0]


def test_ties_go_either_way() -> None:
    """With nothing learnt every arm's bounds are equal: each repetition picks one at random, and over 64
    repetitions each of the three arms is picked (the chance one is never picked is below 3 (2/3)^64 < 1e-10)."""
    for policy in (DLinUCB(), SWLinUCB()):
        s = policy.init(problem(arms=3, features=2, reps=64), np.random.default_rng(5))
        x = np.tile([0.6, 0.8], (64, 1))
        low, high = policy.bounds(s, x)
        assert np.all(high == high[:, :1]) and np.all(low == -high)
        assert set(policy.select(s, x).tolist()) == {0, 1, 2}
        assert set(policy.exploit(s, x).tolist()) == {0, 1, 2}


def fresh_estimates(policy: DLinUCB | SWLinUCB, s: object, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The estimates of a copy of the state whose every factor is made afresh."""
    import copy
    again = copy.deepcopy(s)
    again.since[:] = -1  # type: ignore[attr-defined]
    return policy.estimates(again, x)  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", [DLinUCB(gamma=0.9, lambda_reg=0.5), SWLinUCB(window=3, lambda_reg=0.5)],
                         ids=["d-linucb", "sw-linucb"])
def test_kept_factors_are_made_again_whenever_an_arm_changes(policy: DLinUCB | SWLinUCB) -> None:
    """Each arm's factors are kept between rounds: after every update (observations arriving and, in the window,
    leaving, one arm or several) the estimates equal those made from fresh factors (up to rounding),
    and only the arms whose sums changed are marked stale (D-LinUCB's discounting of every arm marks none)."""
    s = policy.init(problem(arms=3, features=2, reps=2), np.random.default_rng(0))
    rng = np.random.default_rng(5)
    x = np.array([[0.3, -1.0], [1.2, 0.4]])
    for t in range(8):
        s.t = t
        policy.bounds(s, x)
        assert (s.since >= 0).all()
        arms = [t % 3, (2 * t) % 3]
        policy.update(s, feedback([0, 1], arms, rng.random(2).tolist(), rng.normal(size=(2, 2)).tolist(),
                                  unique=True))
        assert s.since[0, arms[0]] < 0 and s.since[1, arms[1]] < 0
        if isinstance(policy, DLinUCB):
            assert (s.since >= 0).sum() == 4
        kept = policy.estimates(s, x)
        fresh = fresh_estimates(policy, s, x)
        # the arms that changed at this decision count solved through V's Cholesky factor alone (their factors
        # left stale, made at a later decision), the others from their kept factors (D-LinUCB: of sums
        # discounted to another decision), the copy's from factors made now: the same numbers up to rounding
        assert s.since[0, arms[0]] == s.since[1, arms[1]] == moving.LEARNT - t
        if isinstance(policy, DLinUCB):
            assert (s.since >= 0).sum() == 4
        np.testing.assert_allclose(kept[0], fresh[0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(kept[1], fresh[1], rtol=1e-12, atol=1e-15)
    s.t = 8
    policy.bounds(s, x)
    assert (s.since >= 0).all()
    if isinstance(policy, SWLinUCB):
        s.t = 8
        # repetition 1 played arms 0, 2, 1, 0, 2, 1, 0, 2 in slots 0, 1, 2, 0, ...: slot 2 holds round 5's arm 1,
        # which leaves as arm 2 arrives
        policy.update(s, feedback([1], [2], [1.0], [[1.0, 1.0]], unique=True))
        assert (s.since[1] < 0).tolist() == [False, True, True]
        assert (s.since[0] >= 0).all()


def test_sw_linucb_keeps_factors_with_a_single_repetition() -> None:
    policy = SWLinUCB(window=2)
    s = policy.init(problem(arms=2, features=2, reps=1), np.random.default_rng(0))
    assert s.since.tolist() == [[-1, -1]]
    policy.bounds(s, np.array([[1.0, 0.5]]))
    assert s.since.tolist() == [[0, 0]]
    assert np.allclose(s.basis[0, 1], np.sqrt(0.1) * np.eye(2))  # the ridge alone: sqrt(lambda) I


@pytest.mark.parametrize("policy", [DLinUCB(gamma=0.9), SWLinUCB(window=3)], ids=["d-linucb", "sw-linucb"])
def test_bounds_are_computed_once_per_decision_until_an_update(policy: DLinUCB | SWLinUCB,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter asking for the bounds of the decision its base just made (conservative exploration) gets the
    ones the decision computed: the same numbers, without solving every arm's regression again; a new decision,
    another context or an update computes them afresh, and a caller changing what it got changes nothing kept."""
    s = policy.init(problem(), np.random.default_rng(0))
    policy.update(s, feedback([0, 1], [0, 1], [1.0, 0.5], [[1.0, 0.0], [0.0, 1.0]]))
    s.t = 3
    calls = []
    solve = type(policy).fresh_bounds

    def counted(self: object, state: object, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(context)
        return solve(self, state, context)  # type: ignore[arg-type]

    monkeypatch.setattr(type(policy), "fresh_bounds", counted)
    x = np.array([[0.6, 0.8], [1.0, 0.0]])
    lower, upper = policy.bounds(s, x)
    want = (lower.copy(), upper.copy())
    lower[:] = 7.0  # the caller's copy
    again = policy.bounds(s, x)
    assert len(calls) == 1 and np.array_equal(again[0], want[0]) and np.array_equal(again[1], want[1])
    assert policy.select(s, x).tolist() == np.argmax(want[1], axis=1).tolist() and len(calls) == 1
    policy.bounds(s, x.copy())  # another context (even with equal values): afresh
    assert len(calls) == 2
    s.t = 4  # the next decision: afresh (D-LinUCB's discounting moves on)
    later = policy.bounds(s, x)
    assert len(calls) == 3
    if isinstance(policy, DLinUCB):
        assert not np.array_equal(later[1], want[1])
    policy.update(s, feedback([0], [0], [0.0], [[0.6, 0.8]]))
    updated = policy.bounds(s, x)
    assert len(calls) == 4 and updated[1][0, 0] < later[1][0, 0]


@pytest.mark.parametrize("policy", [DLinUCB(gamma=0.9), SWLinUCB(window=3)], ids=["d-linucb", "sw-linucb"])
def test_a_decision_after_its_bounds_is_the_decision_without_them(policy: DLinUCB | SWLinUCB) -> None:
    """Conservative exploration asks for the bounds before its base decides: the base then picks the largest upper
    bound it computed, with the choose kernel's tie-breaking and draws (ties everywhere before any observation)."""
    import copy
    for learnt in (False, True):
        s = policy.init(problem(arms=3, reps=32), np.random.default_rng(2))
        if learnt:
            policy.update(s, feedback([0, 1, 1], [0, 1, 2], [1.0, 0.5, 0.2], [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]))
            s.t = 2
        other = copy.deepcopy(s)
        x = np.tile([0.6, 0.8], (32, 1))
        policy.bounds(s, x)
        chosen = policy.select(s, x)
        assert chosen.tolist() == policy.select(other, x).tolist()
        assert s.draws.tolist() == other.draws.tolist() and (learnt or len(set(chosen.tolist())) == 3)
