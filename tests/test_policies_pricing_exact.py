"""The pricing policies of banditmap.sim.policies.pricing checked by hand: UCB1 on a grid of prices (Kleinberg &
Leighton 2003), GP-UCB's posterior against the closed-form Gaussian-process posterior (Srinivas et al. 2010), the
zooming algorithm's confidence radii and covered intervals (Kleinberg, Slivkins & Upfal 2008), and the random
baseline, as the loop runs them through their compiled kernels (sim/kernels/pricing.py). Random draws (ties, the
uncovered price picked, the random price) are checked by replaying a copy of each repetition's stream."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.kernels import rng as kernel_rng
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import CONFIDENCE_BOUNDS, REGISTRY, State
from banditmap.sim.policies.pricing import (
    GPUCB,
    PRICING,
    DiscretisedUCB,
    Priced,
    UniformPrice,
    Zooming,
    best_cells,
    best_price,
)
from banditmap.sim.problem import Problem

from stubs import small_problem


def problem(reps: int = 1, rounds: int = 100) -> Problem:
    return small_problem("pricing", reward="continuous", n_arms=20, n_features=1, rounds=rounds, reps=reps)


def observed(reps: list[int], cells: list[int], rewards: list[float], prices: list[float] | None = None,
             unique: bool = False) -> Feedback:
    actions = np.array(prices if prices is not None else [0.5] * len(reps))
    return Feedback(np.array(reps), actions, np.array(rewards, float), None, aux=np.array(cells), unique=unique)


def uniforms(s: Priced, r: int, n: int = 1) -> list[float]:
    """The next n uniforms of repetition r's stream, drawn from a copy (the state's stream is left alone)."""
    copy = s.draws.copy()
    return [kernel_rng.uniform(copy, r) for _ in range(n)]


# --- declarations -------------------------------------------------------------------------------------------------

def test_registry_kinds_defaults_and_domains() -> None:
    assert (REGISTRY["discretized-ucb-pricing"], REGISTRY["gp-ucb"], REGISTRY["zooming"],
            REGISTRY["uniform-random-price"]) == (DiscretisedUCB, GPUCB, Zooming, UniformPrice)
    assert PRICING == frozenset({"pricing"})
    for cls in (DiscretisedUCB, GPUCB, Zooming, UniformPrice):
        assert cls.kinds == frozenset({"pricing"})
    assert GPUCB.offers == frozenset({CONFIDENCE_BOUNDS}) and DiscretisedUCB.offers == frozenset()
    assert (DiscretisedUCB().grid, DiscretisedUCB().alpha) == (20, 2.0)
    g = GPUCB()
    assert (g.beta, g.lengthscale, g.noise, g.grid) == (2.0, 0.1, 0.5, 50)
    assert (Zooming().lipschitz, Zooming().points) == (1.0, 200)
    with pytest.raises(BanditmapError, match=r"from 2 to 1000 \(a race of a few thousand rounds cannot try more"):
        DiscretisedUCB(grid=1)
    with pytest.raises(BanditmapError, match=r"from 0.001 to 10 \(a share of the price range\)"):
        GPUCB(lengthscale=0.0)
    with pytest.raises(BanditmapError, match=r"from 2 to 500 \(the posterior covariance holds grid\^2 numbers"):
        GPUCB(grid=501)
    with pytest.raises(BanditmapError, match=r"from 2 to 10000 \(a grid finer than the race's rounds is never"):
        Zooming(points=1)
    with pytest.raises(BanditmapError, match="Zooming.lipschitz"):
        Zooming(lipschitz=0.0)


# --- shared helpers -----------------------------------------------------------------------------------------------

def test_best_cells_takes_the_highest_score_and_breaks_ties_with_fresh_noise() -> None:
    s = State(np.random.default_rng(3), 4, 3)
    scores = np.array([[0.1, 0.3, 0.2], [1.0, 1.0, 1.0], [5.0, 5.0, 0.0], [0.0, -1.0, -1.0]])
    noise = np.random.default_rng(3).random((4, 3))
    expected = [1, int(np.argmax(noise[1])), int(np.argmax(noise[2, :2])), 0]
    assert best_cells(s, scores).tolist() == expected
    ties = State(np.random.default_rng(0), 300, 3)
    assert set(best_cells(ties, np.zeros((300, 3))).tolist()) == {0, 1, 2}


def test_best_price_is_the_price_of_the_best_cell() -> None:
    s = State(np.random.default_rng(0), 3, 4)
    prices = np.array([0.1, 0.4, 0.7, 1.0])
    assert best_price(s, prices, np.array([[0.0, 0.5, 0.2, 0.1], [0.9, 0.0, 0.0, 0.0], [0, 0, 0, 3.0]])).tolist() == [
        0.4, 0.1, 1.0]


def test_an_observation_counts_for_the_cell_played_not_the_price() -> None:
    policy = DiscretisedUCB(grid=3)
    s = policy.init(problem(reps=2), np.random.default_rng(0))
    policy.update(s, observed([0, 1, 0], [2, 0, 2], [0.25, 0.5, 0.75], prices=[0.0, 1.0, 2.0]))
    assert s.counts.tolist() == [[0, 0, 2], [1, 0, 0]]
    assert s.sums.tolist() == [[0, 0, 1.0], [0.5, 0, 0]]
    assert s.means.tolist() == [[0, 0, 0.5], [0.5, 0, 0]]
    policy.update(s, observed([1], [1], [0.2], unique=True))
    assert s.counts[1].tolist() == [1, 1, 0] and s.means[1].tolist() == [0.5, 0.2, 0]


def test_the_state_is_the_kernels_rows_and_the_policy_stream_comes_first() -> None:
    """The stream of each repetition is the first draw of the policy's generator (as the compiled race makes it);
    the statistics are rows of one array per repetition, and GP-UCB's matrix is (G, G), the others' empty."""
    s = Zooming(points=6).init(problem(reps=2), np.random.default_rng(5))
    assert s.draws.tolist() == kernel_rng.states_from(np.random.default_rng(5), 2).tolist()
    assert s.stats.shape == (2, 5, 6) and s.cov.shape == (2, 0, 0) and not s.stats.any()
    assert DiscretisedUCB(grid=4).init(problem(), np.random.default_rng(0)).stats.shape == (1, 3, 4)
    g = GPUCB(grid=4).init(problem(reps=3), np.random.default_rng(0))
    assert g.stats.shape == (3, 2, 4) and g.cov.shape == (3, 4, 4)
    u = UniformPrice().init(problem(reps=3), np.random.default_rng(0))
    assert u.stats.shape == (3, 0, 0) and u.prices.shape == (0,) and (u.R, u.K) == (3, 20)


# --- UCB on a grid ------------------------------------------------------------------------------------------------

def test_discretised_ucb_grid_of_prices() -> None:
    s = DiscretisedUCB(grid=5).init(problem(reps=2, rounds=30), np.random.default_rng(0))
    assert (s.R, s.K, s.k, s.horizon) == (2, 5, 1, 30)
    assert s.prices.tolist() == pytest.approx([0.1, 0.325, 0.55, 0.775, 1.0], abs=1e-15)
    assert s.counts.shape == (2, 5) and not s.counts.any()


def test_discretised_ucb_plays_the_highest_ucb_index_by_hand() -> None:
    """counts 2, 1, 3, 1, 1 and sums 0.2, 0.3, 1.8, 0.5, 0.1 (t = 8): with alpha 2 the indices are
    0.1 + sqrt(2 ln 8 / 2) = 1.54, 0.3 + 2.04, 0.6 + 1.18, 0.5 + 2.04 = 2.54 (highest), 0.1 + 2.04;
    with alpha 0 the best mean, 0.6 at price 0.55."""
    for alpha, cell in ((2.0, 3), (0.0, 2)):
        policy = DiscretisedUCB(grid=5, alpha=alpha)
        s = policy.init(problem(), np.random.default_rng(1))
        s.counts[:] = [2, 1, 3, 1, 1]
        s.sums[:] = [0.2, 0.3, 1.8, 0.5, 0.1]
        s.means[:] = s.sums / s.counts
        price = policy.select(s, None)
        assert price.tolist() == [s.prices[cell]] and s.aux is not None and s.aux.tolist() == [cell]
        assert policy.recommend(s).tolist() == [s.prices[2]]


def test_discretised_ucb_tries_untried_prices_first_and_learns_by_cell() -> None:
    policy = DiscretisedUCB(grid=4)
    s = policy.init(problem(reps=2), np.random.default_rng(1))
    s.counts[:] = [[5, 5, 0, 5], [5, 5, 5, 5]]
    s.sums[:] = [[5, 5, 0, 5], [5, 0, 0, 0]]
    s.means[:] = s.sums / np.maximum(s.counts, 1)
    assert s.aux is None
    assert policy.select(s, None).tolist() == [s.prices[2], s.prices[0]]
    assert s.aux.tolist() == [2, 0]
    policy.update(s, observed([0, 1], [2, 0], [0.4, 0.0], prices=[0.7, 0.1], unique=True))
    assert s.counts.tolist() == [[5, 5, 1, 5], [6, 5, 5, 5]]
    assert s.means[0, 2] == 0.4 and s.means[1, 0] == 5 / 6


# --- GP-UCB -------------------------------------------------------------------------------------------------------

def prior(prices: np.ndarray, lengthscale: float) -> np.ndarray:
    """0.25 exp(-(p - q)^2 / (2 (0.9 lengthscale)^2)): the price range is 0.9 wide."""
    d = prices[:, None] - prices[None, :]
    return 0.25 * np.exp(-d ** 2 / (2 * (0.9 * lengthscale) ** 2))


def test_gp_ucb_prior_on_the_grid_by_hand() -> None:
    s = GPUCB(grid=3, lengthscale=0.5).init(problem(reps=2, rounds=9), np.random.default_rng(0))
    assert (s.R, s.K, s.k, s.horizon) == (2, 3, 1, 9)
    assert s.prices.tolist() == [0.1, 0.55, 1.0]
    # neighbours 0.45 apart are one length scale (0.45) apart: 0.25 e^(-1/2); the ends two: 0.25 e^-2
    a, b = 0.25 * math.exp(-0.5), 0.25 * math.exp(-2.0)
    for r in (0, 1):
        np.testing.assert_allclose(s.cov[r], [[0.25, a, b], [a, 0.25, a], [b, a, 0.25]], rtol=1e-14)
    assert not s.mean.any() and s.mean.shape == (2, 3)
    s.cov[0, 0, 0] = 7.0  # every repetition's covariance is its own
    assert s.cov[1, 0, 0] == 0.25


def test_gp_ucb_bounds_are_mean_plus_minus_beta_standard_deviations() -> None:
    policy = GPUCB(grid=3, beta=1.5)
    s = policy.init(problem(reps=1), np.random.default_rng(0))
    s.mean[:] = [[0.2, 0.5, 0.1]]
    s.cov[0] = np.diag([0.04, 0.01, -1e-12])  # a tiny negative variance from rounding counts as 0
    low, high = policy.bounds(s, None)
    assert low[0].tolist() == pytest.approx([0.2 - 0.3, 0.5 - 0.15, 0.1], abs=1e-15)
    assert high[0].tolist() == pytest.approx([0.2 + 0.3, 0.5 + 0.15, 0.1], abs=1e-15)
    assert policy.select(s, None).tolist() == [0.55] and s.aux.tolist() == [1]
    s.mean[:] = [[0.2, 0.5, 0.9]]
    assert policy.select(s, None).tolist() == [1.0]
    s.mean[:] = [[0.2, 0.3, 0.1]]
    assert policy.select(s, None).tolist() == [0.1]  # 0.5 over 0.45
    assert policy.recommend(s).tolist() == [0.55]


def test_gp_ucb_update_is_the_closed_form_posterior() -> None:
    """Observations y at grid cells X with noise sigma: mean = K_gX (K_XX + sigma^2 I)^-1 y, cov = K - K_gX (K_XX +
    sigma^2 I)^-1 K_Xg. Repetition 0 sees cells 1 then (in one batch) 0 and 1 again; repetition 1 cell 2 once."""
    policy = GPUCB(grid=4, lengthscale=0.4, noise=0.3)
    s = policy.init(problem(reps=3), np.random.default_rng(0))
    K = prior(s.prices, 0.4)
    policy.update(s, observed([0, 1], [1, 2], [0.8, 0.3], unique=True))
    policy.update(s, observed([0, 0], [0, 1], [0.1, 0.6]))
    for rep, X, y in ((0, [1, 0, 1], [0.8, 0.1, 0.6]), (1, [2], [0.3]), (2, [], [])):
        if X:
            A = np.linalg.inv(K[np.ix_(X, X)] + 0.09 * np.eye(len(X)))
            mean, cov = K[:, X] @ A @ np.array(y), K - K[:, X] @ A @ K[X, :]
        else:
            mean, cov = np.zeros(4), K
        np.testing.assert_allclose(s.mean[rep], mean, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(s.cov[rep], cov, rtol=1e-12, atol=1e-15)


def test_gp_ucb_one_observation_by_hand() -> None:
    """Grid 0.1, 0.55, 1.0, length scale 0.5, noise 0.5: y = 0.8 at 0.55 gives gain k(., 0.55) / (0.25 + 0.25),
    mean 1.6 k(., 0.55), variance at 0.55 0.25 - 0.25^2 / 0.5 = 0.125."""
    policy = GPUCB(grid=3, lengthscale=0.5, noise=0.5)
    s = policy.init(problem(), np.random.default_rng(0))
    policy.update(s, observed([0], [1], [0.8], unique=True))
    a = 0.25 * math.exp(-0.5)
    assert s.mean[0].tolist() == pytest.approx([1.6 * a, 0.4, 1.6 * a], rel=1e-14)
    assert s.cov[0, 1, 1] == pytest.approx(0.125, rel=1e-14)
    assert s.cov[0, 0, 0] == pytest.approx(0.25 - a * a / 0.5, rel=1e-14)
    assert s.cov[0, 0, 2] == pytest.approx(0.25 * math.exp(-2) - a * a / 0.5, rel=1e-14)


def test_gp_ucb_ties_at_the_prior_go_anywhere() -> None:
    s = GPUCB(grid=5).init(problem(reps=200), np.random.default_rng(2))
    cells = set(np.round((GPUCB(grid=5).select(s, None) - 0.1) / 0.225).astype(int).tolist())
    assert cells == {0, 1, 2, 3, 4}


# --- zooming ------------------------------------------------------------------------------------------------------

def zoom_state(policy: Zooming, reps: int = 2, rounds: int = 100, seed: int = 0):  # type: ignore[no-untyped-def]
    return policy.init(problem(reps=reps, rounds=rounds), np.random.default_rng(seed))


def test_zooming_starts_inactive_on_its_grid() -> None:
    s = zoom_state(Zooming(points=11), reps=3, rounds=50)
    assert (s.R, s.K, s.k, s.horizon) == (3, 11, 1, 50)
    assert s.prices.tolist() == pytest.approx([0.1 + 0.09 * i for i in range(11)], abs=1e-15)
    assert s.active.shape == (3, 11) and not s.active.any()
    assert s.counts.shape == (3, 11) and not s.counts.any()


def test_zooming_radius_is_sqrt_2_ln_horizon_over_plays_plus_one() -> None:
    """11 prices 0.09 apart, lipschitz 10, price 5 active. Horizon 100 (2 ln 100 = 9.21): never played, its radius
    sqrt(9.21 / 1) / 10 / 0.09 = 3.37 cells covers prices 2 to 8; after 3 plays sqrt(9.21 / 4) = 1.69 cells, 4 to
    6; after 80 plays 0.37 cells, itself only. Horizon 1 counts as 2 (2 ln 2 = 1.39): 1.31 cells unplayed, 4 to
    6; horizon 20 (5.99) after 1 play: sqrt(5.99 / 2) / 0.9 = 1.92 cells, 4 to 6 again, 2 plays 1.57."""
    policy = Zooming(points=11, lipschitz=10.0)

    def covered(plays: float, horizon: int) -> list[int]:
        s = zoom_state(policy, reps=1, rounds=horizon)
        s.active[0, 5], s.counts[0, 5] = 1.0, plays
        return np.flatnonzero(~policy.uncovered(s)[0]).tolist()

    assert covered(0, 100) == list(range(2, 9))
    assert covered(3, 100) == [4, 5, 6]
    assert covered(80, 100) == [5]
    assert covered(0, 1) == [4, 5, 6] and covered(0, 2) == [4, 5, 6]
    assert covered(1, 20) == [4, 5, 6]
    s = zoom_state(policy, reps=1, rounds=100)
    s.active[0, 5] = 1.0
    policy.uncovered(s)
    assert s.stats[0, 3].tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]  # how many active prices cover each


def test_zooming_covers_the_prices_within_radius_over_lipschitz() -> None:
    """11 prices 0.09 apart, horizon 100 (2 ln 100 = 9.21), lipschitz 10. Repetition 0: price 2 active after 3
    plays reaches sqrt(9.21 / 4) / 10 / 0.09 = 1.69 cells (prices 1 to 3), price 8 never played reaches 3.37 cells
    (prices 5 to 10): prices 0 and 4 are uncovered. Repetition 1: nothing active, nothing covered."""
    policy = Zooming(points=11, lipschitz=10.0)
    s = zoom_state(policy)
    s.active[0, [2, 8]] = True
    s.counts[0, 2] = 3
    assert policy.uncovered(s).tolist() == [[True, False, False, False, True, False, False, False, False, False, False],
                                            [True] * 11]


def test_zooming_covers_a_price_exactly_at_the_edge() -> None:
    """A radius of exactly two grid cells (lipschitz = r / (2 step)) covers both prices two cells away, whatever
    the rounding of r / lipschitz / step."""
    s = zoom_state(Zooming(points=11))
    r = math.sqrt(2 * math.log(100))
    policy = Zooming(points=11, lipschitz=r / (2 * 0.09))
    s.active[0, 5] = True
    s.active[1, 0] = True
    assert policy.uncovered(s).tolist() == [[True] * 3 + [False] * 5 + [True] * 3, [False] * 3 + [True] * 8]
    s.active[1, 10] = True
    assert policy.uncovered(s)[1].tolist() == [False] * 3 + [True] * 5 + [False] * 3


def test_zooming_activates_an_uncovered_price_or_plays_the_best_active_index() -> None:
    """Repetition 0 has prices 0 and 4 uncovered (as above): it activates and plays one of them, the one with the
    larger of the uniforms drawn. Repetition 1 is covered (price 3 never played reaches 3.37 cells: 0 to 6; price 8
    played once, sqrt(9.21 / 2) / 0.9 = 2.38 cells: 6 to 10) and plays the active price of highest mean + 2 r:
    price 3 (0 + 2 x 3.03) over price 8 (1 + 2 x 2.15); price 6's mean of 100 counts for nothing, it is inactive."""
    policy = Zooming(points=11, lipschitz=10.0)
    for seed in range(4):
        s = zoom_state(policy, seed=seed)
        s.active[0, [2, 8]] = True
        s.counts[0, 2] = 3
        s.active[1, [3, 8]] = True
        s.counts[1, 8], s.sums[1, 8], s.means[1, 8] = 1, 1.0, 1.0
        s.counts[1, 6], s.sums[1, 6], s.means[1, 6] = 1, 100.0, 100.0
        fresh = 0 if uniforms(s, 0)[0] < 0.5 else 4
        price = policy.select(s, None)
        assert s.aux is not None and s.aux.tolist() == [fresh, 3]
        assert price.tolist() == pytest.approx([0.1 + 0.09 * fresh, 0.37], abs=1e-15)
        assert np.flatnonzero(s.active[0]).tolist() == sorted([2, 8, fresh])
        assert np.flatnonzero(s.active[1]).tolist() == [3, 8]
        assert policy.recommend(s)[1] == pytest.approx(0.82, abs=1e-15)  # active 3 and 8: means 0 and 1


def test_zooming_recommends_the_best_mean_among_active_prices() -> None:
    policy = Zooming(points=5)
    s = zoom_state(policy, reps=1)
    s.active[0, [1, 3]] = True
    s.means[0] = [9.0, 0.2, 9.0, 0.6, 9.0]
    assert policy.recommend(s).tolist() == [0.775]
    policy.update(s, observed([0], [1], [1.0], unique=True))
    assert s.counts[0].tolist() == [0, 1, 0, 0, 0] and s.means[0, 1] == 1.0
    assert policy.recommend(s).tolist() == [0.325]


def test_zooming_first_move_activates_a_random_price() -> None:
    policy = Zooming(points=7)
    s = zoom_state(policy, reps=300)
    cells = np.round((policy.select(s, None) - 0.1) / 0.15).astype(int)
    assert set(cells.tolist()) == set(range(7))
    assert s.active.sum(axis=1).tolist() == [1] * 300
    assert s.active[np.arange(300), cells].all()


# --- the baseline -------------------------------------------------------------------------------------------------

def test_uniform_price_draws_in_the_price_range() -> None:
    s = UniformPrice().init(problem(reps=5), np.random.default_rng(9))
    u = np.array([uniforms(s, r)[0] for r in range(5)])
    assert UniformPrice().select(s, None).tolist() == pytest.approx((0.1 + 0.9 * u).tolist(), abs=1e-15)
    assert s.aux is not None and s.aux.tolist() == [-1] * 5  # off any grid
    UniformPrice().update(s, observed([0, 1], [-1, -1], [0.3, 0.0]))  # learns nothing
    assert s.draws.tolist() != UniformPrice().init(problem(reps=5), np.random.default_rng(9)).draws.tolist()


def test_gp_ucb_reads_cells_noted_as_floats() -> None:
    """The cells come back as aux, which a log or a queue may hold as float64: 1.0 is cell 1."""
    policy = GPUCB(grid=3, lengthscale=0.5, noise=0.5)
    s = policy.init(problem(), np.random.default_rng(0))
    policy.update(s, Feedback(np.array([0]), np.array([0.55]), np.array([0.8]), None, aux=np.array([1.0]),
                              unique=True))
    assert s.mean[0, 1] == pytest.approx(0.4, rel=1e-14) and s.cov[0, 1, 1] == pytest.approx(0.125, rel=1e-14)


def test_zooming_fresh_price_is_a_uniform_pick_among_the_uncovered_ones() -> None:
    """lipschitz 10, 11 prices, horizon 100: price 5 active after 3 plays covers prices 4 to 6 (1.69 cells), so 8
    prices are uncovered: 0 to 3 and 7 to 10. Each of 200 repetitions activates the j-th of them, j = floor(8 u)
    for its stream's next uniform u, and never a covered one."""
    policy = Zooming(points=11, lipschitz=10.0)
    s = zoom_state(policy, reps=200, seed=6)
    s.active[:, 5] = 1.0
    s.counts[:, 5] = 3
    uncovered = [0, 1, 2, 3, 7, 8, 9, 10]
    expected = [uncovered[int(8 * uniforms(s, r)[0])] for r in range(200)]
    chosen = policy.select(s, None)
    assert s.aux is not None and s.aux.tolist() == expected
    assert set(expected) == set(uncovered)
    assert chosen.tolist() == pytest.approx((0.1 + 0.09 * np.array(expected)).tolist(), abs=1e-15)
    assert (s.active.sum(axis=1) == 2).all()


def test_zooming_index_is_mean_plus_twice_the_radius() -> None:
    """lipschitz 1: every active price covers the whole grid. Price 2 (8 plays, mean 0.5) and price 7 (9 plays, mean
    0.63), horizon 100: 0.5 + 2 sqrt(9.21 / 9) = 2.523 < 0.63 + 2 sqrt(9.21 / 10) = 2.549: price 7 is played (with
    3 radii price 2 would be)."""
    policy = Zooming(points=11, lipschitz=1.0)
    for seed in range(4):
        s = zoom_state(policy, reps=1, seed=seed)
        s.active[0, [2, 7]] = True
        s.counts[0, [2, 7]] = [8, 9]
        s.means[0, [2, 7]] = [0.5, 0.63]
        assert not policy.uncovered(s).any()
        assert policy.select(s, None).tolist() == pytest.approx([0.73], abs=1e-15)
        assert s.active.sum() == 2


def test_zooming_on_two_prices_steps_the_whole_range() -> None:
    """Two prices 0.9 apart, lipschitz 4, horizon 100: price 0 never played reaches sqrt(9.21) / 4 / 0.9 = 0.84 of
    the one step to price 1, which stays uncovered."""
    policy = Zooming(points=2, lipschitz=4.0)
    s = zoom_state(policy, reps=1)
    s.active[0, 0] = True
    assert policy.uncovered(s).tolist() == [[False, True]]
    assert Zooming(points=2, lipschitz=3.0).uncovered(s).tolist() == [[False, False]]  # 1.12 steps


def test_zooming_fresh_price_among_two_uncovered_ones() -> None:
    """lipschitz 10: price 2 never played covers prices 0 to 5 (3.37 cells), price 9 after 3 plays 8 to 10 (1.69
    cells): only prices 6 and 7 are uncovered, and each of 300 repetitions activates price 6 when its stream's next
    uniform is below 1/2, else price 7."""
    policy = Zooming(points=11, lipschitz=10.0)
    s = zoom_state(policy, reps=300, seed=2)
    s.active[:, [2, 9]] = 1.0
    s.counts[:, 9] = 3
    expected = [6 if uniforms(s, r)[0] < 0.5 else 7 for r in range(300)]
    policy.select(s, None)
    assert s.aux is not None and s.aux.tolist() == expected and set(expected) == {6, 7}
    assert s.active[:, 6:8].sum(axis=1).tolist() == [1] * 300
