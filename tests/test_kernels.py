"""The compiled race's building blocks: random streams that depend on (stream, repetition) only, samplers whose
moments match their distributions, and a race whose numbers do not depend on how many repetitions or threads run
it. Statistical checks state their sample sizes; each tolerance is at least 4 standard errors, so a correct sampler
fails one with probability below 1e-4."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from banditmap.sim.kernels import arms, rng

N = 200_000  # draws per moment check


def draws(sampler, *args, n: int = N, seed: int = 7) -> np.ndarray:  # type: ignore[no-untyped-def]
    states = rng.stream_seeds(seed, 3, 1)
    return np.array([sampler(states, 0, *args) for _ in range(n)])


def test_a_stream_depends_on_its_seed_salt_and_repetition_only():
    few, many = rng.stream_seeds(11, 5, 3), rng.stream_seeds(11, 5, 40)
    assert (few == many[:3]).all()
    assert len(set(many.tolist())) == 40
    assert (rng.stream_seeds(11, 6, 3) != few).all() and (rng.stream_seeds(12, 5, 3) != few).all()
    a, b = few.copy(), many[:3].copy()
    assert [rng.uniform(a, 2) for _ in range(5)] == [rng.uniform(b, 2) for _ in range(5)]


def test_uniform_draws_cover_the_unit_interval_evenly():
    u = draws(rng.uniform)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / N)
    counts = np.bincount((u * 10).astype(int), minlength=10)
    chi2 = ((counts - N / 10) ** 2 / (N / 10)).sum()
    assert chi2 < 33.7  # the 0.9999 quantile of chi-square with 9 degrees of freedom


def test_below_gives_every_integer_equally_often():
    k = draws(rng.below, 7)
    counts = np.bincount(k, minlength=7)
    assert k.min() == 0 and k.max() == 6
    assert ((counts - N / 7) ** 2 / (N / 7)).sum() < 27.9  # 0.9999 quantile, 6 degrees of freedom


def test_normal_draws_have_mean_0_variance_1():
    x = draws(rng.normal)
    assert abs(x.mean()) < 4 / math.sqrt(N)
    assert abs(x.var() - 1.0) < 4 * math.sqrt(2 / N)
    assert abs((np.abs(x) < 1.959964).mean() - 0.95) < 4 * math.sqrt(0.95 * 0.05 / N)


def test_normal_draws_follow_the_normal_distribution_into_the_tails():
    """The ziggurat's layers, edges and tail: counts in 24 bins from -4 to 4 (and beyond) against the normal's
    probabilities, chi-square at its 0.9999 quantile (25 bins, 24 degrees of freedom: 54.1)."""
    x = draws(rng.normal, n=400_000, seed=3)
    edges = np.r_[-np.inf, np.linspace(-4, 4, 24), np.inf]
    cdf = np.array([0.5 * (1 + math.erf(e / math.sqrt(2))) if np.isfinite(e) else float(e > 0) for e in edges])
    expected = np.diff(cdf) * len(x)
    observed = np.histogram(x, edges)[0]
    assert ((observed - expected) ** 2 / expected).sum() < 54.1
    tail = (np.abs(x) > 3.5).mean()  # 4.65e-4: the part drawn from the tail beyond 3.44
    assert abs(tail - 4.653e-4) < 4 * math.sqrt(4.653e-4 / len(x))


@pytest.mark.parametrize("shape", [0.3, 1.0, 2.5, 40.0])
def test_gamma_draws_have_the_gamma_mean_and_variance(shape):
    x = draws(rng.gamma, shape)
    assert x.min() > 0
    assert abs(x.mean() - shape) < 4 * math.sqrt(shape / N)
    assert abs(x.var() / shape - 1.0) < 0.05 if shape >= 1 else abs(x.var() / shape - 1.0) < 0.1


@pytest.mark.parametrize("a,b", [(1.0, 1.0), (0.5, 0.5), (3.0, 17.0), (120.0, 30.0)])
def test_beta_draws_have_the_beta_mean_and_variance(a, b):
    x = draws(rng.beta, a, b)
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert 0 <= x.min() and x.max() <= 1
    assert abs(x.mean() - mean) < 4 * math.sqrt(var / N)
    assert abs(x.var() / var - 1.0) < 0.05


def test_geometric_draws_count_trials_to_the_first_success():
    x = draws(rng.geometric, 0.2)
    assert x.min() == 1
    assert abs(x.mean() - 5.0) < 4 * math.sqrt(0.8 / 0.04 / N)
    assert draws(rng.geometric, 1.0, n=10).tolist() == [1] * 10


def test_ties_are_broken_uniformly_at_random_every_time():
    scores = np.array([0.5, 0.9, 0.2, 0.9, 0.9])
    states = rng.stream_seeds(1, 2, 1)
    picks = np.array([arms.argmax(scores, states, 0) for _ in range(30_000)])
    counts = np.bincount(picks, minlength=5)
    assert counts[0] == counts[2] == 0
    assert all(abs(c / 30_000 - 1 / 3) < 0.015 for c in counts[[1, 3, 4]])


def test_an_argmax_without_ties_draws_nothing():
    states = rng.stream_seeds(1, 2, 1)
    before = states.copy()
    assert arms.argmax(np.array([0.1, 0.7, 0.3]), states, 0) == 1
    assert (states == before).all()


def test_kl_upper_is_the_largest_mean_within_the_kl_budget():
    for mean, budget in [(0.1, 0.05), (0.5, 0.2), (0.9, 0.01), (0.0, 0.3)]:
        q = arms.kl_upper(mean, budget)
        exact_low, exact_high = mean, 1.0
        for _ in range(100):
            middle = (exact_low + exact_high) / 2
            exact_low, exact_high = (exact_low, middle) if kl(mean, middle) > budget else (middle, exact_high)
        assert abs(q - exact_low) < 1e-3


def kl(p: float, q: float) -> float:
    p, q = min(max(p, 1e-12), 1 - 1e-12), min(max(q, 1e-12), 1 - 1e-12)
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def race(choose: str, learn: str, params: list[float], R: int = 6, T: int = 400, reward: int = arms.BINARY,
         dynamics: int = arms.STATIONARY, feedback: int = arms.IMMEDIATE,
         safety: bool = False) -> tuple[np.ndarray, ...]:
    K = 5
    points = np.array([1, T // 2, T], dtype=np.int64)
    out = (np.zeros((R, 3)), np.zeros(R), np.zeros(R), np.zeros(R), np.zeros(R))
    arms.make_race(choose, learn)(np.array(params, dtype=np.float64), rng.stream_seeds(1, 0, R),
                                  rng.stream_seeds(1, 1, R), rng.stream_seeds(1, 2, R), K, np.zeros(K + 1), T, reward,
                                  dynamics, feedback, 5.0, 20, 0, safety, 0.1, points, *out,
                                  *(np.zeros((R, K)) for _ in range(3)), np.zeros((R, K + 1)), np.zeros((R, K)))
    return out


POLICIES = [("choose_uniform", "learn_counts", []), ("choose_epsilon_greedy", "learn_counts", [0.1]),
            ("choose_softmax", "learn_counts", [0.1]), ("choose_ucb1", "learn_counts", [2.0]),
            ("choose_kl_ucb", "learn_kl_ucb", [0.0]), ("choose_moss", "learn_counts", []),
            ("choose_thompson_beta", "learn_bernoulli_trial", [1.0, 1.0]),
            ("choose_thompson_gaussian", "learn_counts", [0.0, 1.0, 1.0])]


@pytest.mark.parametrize("choose,learn,params", POLICIES, ids=[p[0][7:] for p in POLICIES])
def test_a_repetition_gives_the_same_numbers_whatever_runs_beside_it(choose, learn, params):
    """Repetition r's results depend on the seed and r only: not on the number of repetitions nor of threads."""
    alone = race(choose, learn, params, R=3)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        many = race(choose, learn, params, R=8)
    finally:
        numba.set_num_threads(previous)
    for a, b in zip(alone, many):
        assert np.array_equal(a, b[:3])
    assert np.array_equal(race(choose, learn, params, R=3)[0], alone[0])


@pytest.mark.parametrize("dynamics", [arms.STATIONARY, arms.DRIFTING, arms.ABRUPT, arms.ADVERSARIAL])
@pytest.mark.parametrize("feedback", [arms.IMMEDIATE, arms.DELAYED, arms.BATCHED])
def test_every_dynamics_and_feedback_runs_with_sound_results(dynamics, feedback):
    curve, final, tail, optimal, below = race("choose_ucb1", "learn_counts", [2.0], dynamics=dynamics,
                                              feedback=feedback, reward=arms.CONTINUOUS, safety=True)
    assert np.array_equal(curve[:, -1], final)
    assert (np.diff(curve, axis=1) >= -1e-12).all()  # cumulative regret never falls
    assert ((0 <= optimal) & (optimal <= 1) & (0 <= below) & (below <= 1)).all()
    assert ((0.0 <= tail) & (tail <= 1.0)).all()


def test_learning_policies_beat_uniform_play():
    uniform = race("choose_uniform", "learn_counts", [], R=20, T=3000)[1].mean()
    for choose, learn, params in POLICIES[1:]:
        assert race(choose, learn, params, R=20, T=3000)[1].mean() < 0.75 * uniform, choose
