"""The compiled pricing race (banditmap.sim.kernels.pricing) checked by hand: the market's demand curves and sales
drawn from their streams, GP-UCB's posterior after two observations against Gaussian-process regression computed
with numpy.linalg, zooming's covering and activation on a small grid, ties broken from the policy's stream, the
race's books, repetitions that do not depend on how many there are, and the loop's numbers equal to the race's."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import arms, pricing
from banditmap.sim.kernels import rng as kernel_rng
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

PRICING_POLICIES = ("uniform-random-price", "discretized-ucb-pricing", "gp-ucb", "zooming")
SMALL = {"gp-ucb": {"grid": 12}, "zooming": {"points": 40}, "discretized-ucb-pricing": {"grid": 8}}


def streams(reps: int, salt: int = 0) -> np.ndarray:
    return kernel_rng.stream_seeds(11, salt, reps)


def next_uniforms(states: np.ndarray, r: int, n: int) -> list[float]:
    """The next n uniforms of stream r, from a copy."""
    copy = states.copy()
    return [kernel_rng.uniform(copy, r) for _ in range(n)]


def sigmoid(x: np.ndarray | float) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x)))


# --- the market -----------------------------------------------------------------------------------------------

def test_a_market_is_a_logistic_demand_curve_from_its_stream_and_its_best_price_on_a_fine_grid() -> None:
    """slope = 4 + 6 u1, pivot = 0.3 + 0.4 u2 from the repetition's stream; the best revenue p sigmoid(slope (pivot
    - p)) over 2,001 prices from 0.1 to 1 and its price."""
    env = streams(3)
    draws = [next_uniforms(env, r, 2) for r in range(3)]
    slope, pivot, best, best_price = (np.empty(3) for _ in range(4))
    pricing.draw_markets(slope, pivot, best, best_price, env)
    fine = np.linspace(0.1, 1.0, 2001)
    for r, (u1, u2) in enumerate(draws):
        assert (slope[r], pivot[r]) == (4.0 + 6.0 * u1, 0.3 + 0.4 * u2)
        revenue = fine * sigmoid(slope[r] * (pivot[r] - fine))
        assert best[r] == pytest.approx(revenue.max(), rel=1e-13)
        assert best_price[r] == pytest.approx(fine[revenue.argmax()], abs=1e-13)
        assert env[r] != streams(3)[r]  # the stream moved on
    assert 4 <= slope.min() and slope.max() <= 10 and 0.3 <= pivot.min() and pivot.max() <= 0.7


def test_a_sale_earns_the_price_with_the_purchase_probability_from_one_uniform() -> None:
    """slope 5, pivot 0.5: at 0.5 half the visitors buy (expected revenue 0.25), at 0.7 sigmoid(-1) of them; prices
    are clipped to [0.1, 1]. Each sale takes exactly one uniform, bought when it is below the probability."""
    slope, pivot = np.array([5.0, 5.0]), np.array([0.5, 0.5])
    env = streams(2, salt=1)
    for price, kept in ((0.5, 0.5), (0.7, 0.7), (3.0, 1.0), (-1.0, 0.1)):
        chance = float(sigmoid(5.0 * (0.5 - kept)))
        u = next_uniforms(env, 1, 2)
        value, paid = pricing.sell(slope, pivot, env, 1, price)
        assert value == pytest.approx(kept * chance, rel=1e-15)
        assert paid == (kept if u[0] < chance else 0.0)
        assert next_uniforms(env, 1, 1)[0] == u[1]
    offered, value, observed = np.array([0.5, 0.2]), np.empty(2), np.empty(2)
    u = [next_uniforms(env, r, 1)[0] for r in range(2)]
    pricing.market_step(slope, pivot, env, offered, value, observed)
    assert value.tolist() == pytest.approx([0.25, 0.2 * float(sigmoid(1.5))], rel=1e-15)
    assert observed.tolist() == [0.5 if u[0] < 0.5 else 0.0, 0.2 if u[1] < float(sigmoid(1.5)) else 0.0]


def test_a_round_is_optimal_within_half_a_percent_of_the_best_revenue() -> None:
    books = np.zeros(arms.BOOKS)
    pricing.account(books, 0.995 * 0.4, 0.4, 3, 5)
    assert books[:3].tolist() == pytest.approx([0.4 * 0.005, 1.0, 0.0], rel=1e-12)
    pricing.account(books, 0.99 * 0.4, 0.4, 5, 5)  # a tail round, not optimal
    assert books[:3].tolist() == pytest.approx([0.4 * 0.015, 1.0, 0.396], rel=1e-12)


# --- GP-UCB -----------------------------------------------------------------------------------------------------

def test_the_gp_prior_is_a_squared_exponential_kernel_on_the_price_range() -> None:
    """0.25 exp(-(p - q)^2 / (2 (0.9 l)^2)): prices 0.325 and 0.775 are 0.45 apart, l = 0.5 of the 0.9 range."""
    prices = np.linspace(0.1, 1.0, 5)
    prior = pricing.gp_prior(prices, 0.5)
    assert prior[1, 3] == pytest.approx(0.25 * math.exp(-0.5), rel=1e-14)
    gap = prices[:, None] - prices[None, :]
    np.testing.assert_allclose(prior, 0.25 * np.exp(-gap ** 2 / (2 * 0.45 ** 2)), rtol=1e-14)


def test_the_gp_posterior_after_two_observations_is_gaussian_process_regression() -> None:
    """y = 0.7 at cell 1 then 0.2 at cell 3, noise 0.2: mean K_gX (K_XX + 0.04 I)^-1 y, covariance K - K_gX (K_XX +
    0.04 I)^-1 K_Xg, by numpy.linalg; after the first, by hand, mean[1] = 0.25 x 0.7 / 0.29. A third at cell 1
    again is GP regression on three points (a repeated price is two noisy looks at one value)."""
    prices = np.linspace(0.1, 1.0, 5)
    params = np.array([2.0, 0.3, 0.2, 5.0])
    K = pricing.gp_prior(prices, 0.3)
    stats, cov = np.zeros((2, 2, 5)), np.stack([K, K])
    pricing.learn_gp(params, prices, stats, cov, streams(2), 1, 1, 0.7)
    assert stats[1, 0, 1] == pytest.approx(0.25 * 0.7 / 0.29, rel=1e-14)
    assert cov[1, 1, 1] == pytest.approx(0.25 - 0.25 ** 2 / 0.29, rel=1e-14)
    pricing.learn_gp(params, prices, stats, cov, streams(2), 1, 3, 0.2)
    for X, y in (([1, 3], [0.7, 0.2]), ([1, 3, 1], [0.7, 0.2, 0.5])):
        if len(X) == 3:
            pricing.learn_gp(params, prices, stats, cov, streams(2), 1, 1, 0.5)
        system = K[np.ix_(X, X)] + 0.04 * np.eye(len(X))
        np.testing.assert_allclose(stats[1, 0], K[:, X] @ np.linalg.solve(system, y), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(cov[1], K - K[:, X] @ np.linalg.solve(system, K[X, :]), rtol=1e-11, atol=1e-15)
    assert not stats[0].any() and np.array_equal(cov[0], K)  # repetition 0 saw nothing


def test_gp_ucb_plays_the_highest_mean_plus_beta_deviations_ties_from_the_stream() -> None:
    """beta 2: means 0.1, 0.3, 0.0 with variances 0.04, 0.01, 0.09 score 0.5, 0.5, 0.6: cell 2. At the prior every
    cell ties; the reservoir keeps cell 1 when the first uniform is below 1/2, then cell 2 when the next is below
    1/3."""
    prices = np.linspace(0.1, 1.0, 3)
    params = np.array([2.0, 0.3, 0.2, 3.0])
    stats, cov = np.zeros((1, 2, 3)), np.zeros((1, 3, 3))
    stats[0, 0] = [0.1, 0.3, 0.0]
    cov[0] = np.diag([0.04, 0.01, 0.09])
    assert pricing.choose_gp_ucb(params, prices, stats, cov, streams(1), 0, 0, 10) == (2, 1.0)
    cov[0] = pricing.gp_prior(prices, 0.3)
    stats[:] = 0.0
    for salt in range(6):
        draws = streams(1, salt)
        u1, u2 = next_uniforms(draws, 0, 2)
        expected = 2 if u2 * 3 < 1 else 1 if u1 * 2 < 1 else 0
        assert pricing.choose_gp_ucb(params, prices, stats, cov, draws, 0, 0, 10) == (expected, prices[expected])


# --- zooming and UCB on a grid ------------------------------------------------------------------------------------

def test_zooming_covers_activates_a_random_uncovered_price_then_plays_the_best_index() -> None:
    """5 prices 0.225 apart, lipschitz 2, horizon 10 (2 ln 10 = 4.61). Price 0 active after 3 plays (mean 0.2):
    radius sqrt(4.61 / 4) = 1.07, 2.38 cells: prices 0 to 2 covered, 3 and 4 not; one of them is activated and
    played (the first when the stream's uniform is below 1/2). With price 4 active and unplayed (radius 2.15, 4.77
    cells) everything is covered twice or once, and the index 0 + 2 x 2.15 of price 4 beats 0.2 + 2 x 1.07."""
    prices = np.linspace(0.1, 1.0, 5)
    params = np.array([2.0, 5.0])
    for salt in range(4):
        stats = np.zeros((1, 5, 5))
        stats[0, pricing.ACTIVE, 0] = 1.0
        stats[0, pricing.COUNTS, 0], stats[0, pricing.SUMS, 0], stats[0, pricing.MEANS, 0] = 3.0, 0.6, 0.2
        draws = streams(1, salt)
        fresh = 3 if next_uniforms(draws, 0, 1)[0] < 0.5 else 4
        assert pricing.cover(params, prices, stats, 0, 10) == 2
        assert stats[0, pricing.COVERED].tolist() == [1, 1, 1, 0, 0]
        assert pricing.choose_zooming(params, prices, stats, np.zeros((1, 0, 0)), draws, 0, 0, 10) == (
            fresh, prices[fresh])
        assert stats[0, pricing.ACTIVE].tolist() == [1, 0, 0, fresh == 3, fresh == 4]
    stats[0, pricing.ACTIVE] = [1, 0, 0, 0, 1]
    before = draws.copy()
    assert pricing.choose_zooming(params, prices, stats, np.zeros((1, 0, 0)), draws, 0, 1, 10) == (4, 1.0)
    assert stats[0, pricing.COVERED].tolist() == [2, 2, 2, 1, 1] and np.array_equal(draws, before)  # no tie, no draw


def test_ucb_on_the_grid_tries_untried_prices_then_the_highest_index() -> None:
    """alpha 2, counts 2, 1, 3 and means 0.1, 0.3, 0.6 (t = 6): 0.1 + sqrt(2 ln 6 / 2) = 1.44, 0.3 + 1.89 = 2.19,
    0.6 + 1.09; an untried price comes first."""
    prices = np.linspace(0.1, 1.0, 3)
    stats = np.zeros((1, 3, 3))
    stats[0, pricing.COUNTS] = [2, 1, 3]
    stats[0, pricing.MEANS] = [0.1, 0.3, 0.6]
    nothing = np.zeros((1, 0, 0))
    assert pricing.choose_grid_ucb(np.array([3.0, 2.0]), prices, stats, nothing, streams(1), 0, 0, 9) == (1, 0.55)
    stats[0, pricing.COUNTS, 2] = 0.0
    assert pricing.choose_grid_ucb(np.array([3.0, 2.0]), prices, stats, nothing, streams(1), 0, 0, 9) == (2, 1.0)
    assert pricing.choose_grid_ucb(np.array([3.0, 0.0]), prices, stats, nothing, streams(1), 0, 0, 9) == (2, 1.0)
    pricing.learn_cell(np.zeros(2), prices, stats, nothing, streams(1), 0, 2, 0.4)
    assert stats[0, :, 2].tolist() == [1.0, 0.4, 0.4]


def test_ucb_on_the_grid_counts_every_observation_in_log_t() -> None:
    """alpha 2, counts 1 and 4 (t = 5): mean m + sqrt(2 ln 5) against 0.5 + sqrt(2 ln 5 / 4), equal at m = 0.5 -
    sqrt(2 ln 5) / 2: a hair above it plays price 0, a hair below price 1 (t of 4, 6 or 2 would move the line)."""
    prices = np.array([0.1, 1.0])
    line = 0.5 - math.sqrt(2 * math.log(5)) / 2
    for shift, cell in ((1e-9, 0), (-1e-9, 1)):
        stats = np.zeros((1, 3, 2))
        stats[0, pricing.COUNTS] = [1, 4]
        stats[0, pricing.MEANS] = [line + shift, 0.5]
        assert pricing.choose_grid_ucb(np.array([2.0, 2.0]), prices, stats, np.zeros((1, 0, 0)), streams(1), 0, 0,
                                       9)[0] == cell


def zoom(active: dict[int, tuple[float, float]], points: int = 5, reps: int = 1, r: int = 0) -> np.ndarray:
    """Zooming's statistics (reps, 5, points) with the given prices of repetition r active: {cell: (plays, mean)}."""
    stats = np.zeros((reps, 5, points))
    for cell, (plays, mean) in active.items():
        stats[r, pricing.ACTIVE, cell] = 1.0
        stats[r, pricing.COUNTS, cell], stats[r, pricing.MEANS, cell] = plays, mean
        stats[r, pricing.SUMS, cell] = plays * mean
    return stats


def test_zooming_activates_the_one_uncovered_price() -> None:
    """5 prices, lipschitz 2, horizon 10: price 0 after 3 plays covers 0 to 2 (2.38 cells), price 4 after 30 plays
    only itself (sqrt(4.61 / 31) / 2 / 0.225 = 0.86 cells): price 3 alone is uncovered, and is activated."""
    prices = np.linspace(0.1, 1.0, 5)
    stats = zoom({0: (3.0, 0.9), 4: (30.0, 0.9)})
    assert pricing.cover(np.array([2.0, 5.0]), prices, stats, 0, 10) == 1
    assert pricing.choose_zooming(np.array([2.0, 5.0]), prices, stats, np.zeros((1, 0, 0)), streams(1), 0, 0,
                                  10) == (3, prices[3])
    assert stats[0, pricing.ACTIVE].tolist() == [1, 0, 0, 1, 1]


def test_zooming_radius_at_horizon_2_is_that_of_ln_2() -> None:
    """Horizon 2 (2 ln 2 = 1.39): price 5 of 11 unplayed, lipschitz 1.3 / 0.18, reaches 1.18 / 7.22 / 0.09 = 1.81
    cells (4 to 6; ln 3 would reach 2.28). Every price covered (lipschitz 0.1), the index of price 1 never played,
    m + 2 sqrt(1.39), equals that of price 3 after 3 plays, 0.5 + sqrt(1.39), at m = 0.5 - sqrt(2 ln 2)."""
    stats = zoom({5: (0.0, 0.0)}, points=11)
    assert pricing.cover(np.array([1.3 / 0.18, 11.0]), np.linspace(0.1, 1.0, 11), stats, 0, 2) == 8
    assert stats[0, pricing.COVERED].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    prices = np.linspace(0.1, 1.0, 5)
    line = 0.5 - math.sqrt(2 * math.log(2))
    for shift, cell in ((1e-9, 1), (-1e-9, 3)):
        stats = zoom({1: (0.0, line + shift), 3: (3.0, 0.5)})
        assert pricing.choose_zooming(np.array([0.1, 5.0]), prices, stats, np.zeros((1, 0, 0)), streams(1), 0, 0,
                                      2) == (cell, prices[cell])


def test_zooming_breaks_a_tie_of_indices_from_the_repetitions_stream() -> None:
    """Prices 1 and 3 of repetition 1 active, each after 2 plays of mean 0.4, everything covered: price 3 when
    repetition 1's next uniform is below 1/2 (the reservoir's second candidate), else price 1."""
    prices = np.linspace(0.1, 1.0, 5)
    for salt in range(6):
        stats, draws = zoom({1: (2.0, 0.4), 3: (2.0, 0.4)}, reps=2, r=1), streams(2, salt)
        expected = 3 if next_uniforms(draws, 1, 1)[0] < 0.5 else 1
        assert pricing.choose_zooming(np.array([0.1, 5.0]), prices, stats, np.zeros((2, 0, 0)), draws, 1, 0,
                                      10)[0] == expected


# --- the race -----------------------------------------------------------------------------------------------------

def problem(delay: str = "immediate", rounds: int = 120, reps: int = 2) -> Any:
    """A pricing problem with delays of 6 rounds on average, or batches of 25 rounds (up to 25 observations wait)."""
    base = problem_from_answers({"action_space": "continuous", "feedback_delay": delay}, rounds=rounds, reps=reps)
    return dataclasses.replace(base, mean_delay=6, batch_size=25)


def spec(policy: str) -> RunSpec:
    return RunSpec(policy, policy, build(policy, SMALL.get(policy, {}), policy))


@pytest.mark.parametrize("delay", ["immediate", "delayed", "batched"])
def test_the_race_gives_the_step_by_step_loops_numbers(delay: str) -> None:
    for policy in PRICING_POLICIES:
        fast = run(spec(policy), problem(delay), 4)
        slow = run(spec(policy), problem(delay), 4, environment=lambda p, g: make_environment(p, g))
        assert fast.rounds == slow.rounds and 0 <= fast.seconds < 60
        for name in ("regret", "final_regret", "last_reward", "optimal"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), (policy, name)
        assert fast.below_baseline is None and slow.below_baseline is None
        assert fast.identified is None and fast.simple_regret is None


def test_the_race_leaves_the_policys_statistics_as_the_step_kernels_do() -> None:
    """The race kernel called directly, and the same rounds stepped by hand with draw_markets, the policy's step
    kernels and market_step: the same books and the same posterior after the last round (GP-UCB, 15 rounds)."""
    policy = build("gp-ucb", {"grid": 6}, "x")
    R, T = 2, 15
    prices, params = policy.prices(), policy.params()
    start, start_cov = policy.start(prices)
    points = np.array([10, 15])
    curve, final, tail, optimal = np.zeros((R, 2)), np.zeros(R), np.zeros(R), np.zeros(R)
    stats, cov = np.zeros((R, 2, 6)), np.zeros((R, 6, 6))
    race = pricing.make_race("choose_gp_ucb", "learn_gp")
    assert race is pricing.make_race("choose_gp_ucb", "learn_gp")
    race(params, prices, start, start_cov, streams(R), streams(R, 1), streams(R, 2), T, arms.IMMEDIATE, 1.0, 1,
         points, curve, final, tail, optimal, stats, cov)
    choose, learn = pricing.make_steps("choose_gp_ucb", "learn_gp")
    env, draws = streams(R), streams(R, 2)
    slope, pivot, best, best_price = (np.empty(R) for _ in range(4))
    pricing.draw_markets(slope, pivot, best, best_price, env)
    mine, my_cov = np.tile(start, (R, 1, 1)), np.tile(start_cov, (R, 1, 1))
    regret, hits, value, observed = np.zeros(R), np.zeros(R), np.empty(R), np.empty(R)
    for t in range(T):
        cells, offered = choose(params, prices, mine, my_cov, draws, t, T)
        assert offered.tolist() == prices[cells].tolist()
        pricing.market_step(slope, pivot, env, offered, value, observed)
        regret += best - value
        hits += value >= 0.995 * best
        learn(params, prices, mine, my_cov, draws, np.arange(R), cells, observed)
        if t == 9:
            assert curve[:, 0].tolist() == regret.tolist()
    assert final.tolist() == regret.tolist() and curve[:, 1].tolist() == regret.tolist()
    assert optimal.tolist() == (hits / T).tolist()
    assert tail.tolist() == value.tolist()  # 15 rounds: the last 10% is the last round
    assert np.array_equal(stats[:, 0], mine[:, 0]) and np.array_equal(cov, my_cov)


def test_a_repetition_is_the_same_whatever_the_number_of_repetitions() -> None:
    for policy in ("zooming", "gp-ucb", "uniform-random-price"):
        few, many = run(spec(policy), problem("delayed", 80, 2), 9), run(spec(policy), problem("delayed", 80, 5), 9)
        assert np.array_equal(few.regret, many.regret[:2]) and np.array_equal(few.optimal, many.optimal[:2])
        assert len(set(many.final_regret.tolist())) == 5  # and each repetition its own


def test_which_pricing_races_run_compiled() -> None:
    """Every pricing policy on the pricing world, whatever constraint the profile names (the world keeps none);
    no K-armed or budget policy there, and no pricing policy elsewhere."""
    prices = problem()
    budget = problem_from_answers({"action_space": "continuous", "constraints": "budget"}, rounds=50, reps=2)
    for policy in PRICING_POLICIES:
        assert compiled.covers(build(policy, {}, "x"), prices) and compiled.covers(build(policy, {}, "x"), budget)
        assert not compiled.covers(build(policy, {}, "x"), problem_from_answers({"n_actions": 4}, rounds=50, reps=2))
    assert not compiled.covers(build("ucb1", {}, "x"), prices)
    assert not compiled.covers(build("ts-pricing-inventory", {}, "x"), prices)
