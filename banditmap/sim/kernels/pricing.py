"""The compiled race on pricing problems: the market (a logistic demand curve per repetition), the continuous-price
policies' decisions and learning, and the loop over every round of every repetition, in machine code, run by
threads over blocks of repetitions.

As in arms.py, the market, the feedback delays and the policy each draw from their own stream per repetition
(rng.py), so every policy meets the same demand curves and purchase draws, a repetition's numbers depend on
(seed, policy, repetition) only, and the step-by-step loop of runner.py (`draw_markets`, `market_step`,
`make_steps`) gives the whole race's numbers.

A policy keeps, per repetition r, rows of statistics over its grid of G prices, `stats` (R, S, G), and a matrix
`cov` (R, M, M) (GP-UCB's posterior covariance, M = G; M = 0 for the others). It is a pair of compiled functions:
`choose(params, prices, stats, cov, draws, r, t, horizon) -> (cell, price)`, the grid cell played (-1 for a price
off the grid) and its price, and `learn(params, prices, stats, cov, draws, r, cell, reward)`, `params` its
hyperparameters as a float64 array in the order its fields are declared, `prices` (G,) its grid. Ties are broken
uniformly at random every round (arms.consider)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, rng
from banditmap.sim.kernels.arms import bind, consider_step

LOW, HIGH = 0.1, 1.0  # problem.PRICE_RANGE (kernels import nothing above them)
FINE = 2001  # the best price is searched on this many evenly spaced prices
OPTIMAL = 0.995  # a round counts as optimal when it earns at least this share of the best expected revenue
COUNTS, SUMS, MEANS = 0, 1, 2  # the rows of a grid policy's statistics
COVERED, ACTIVE = 3, 4  # zooming's too: how many active prices cover each price, and which are active (1) or not (0)
MEAN, COLUMN = 0, 1  # GP-UCB's rows: the posterior mean, and room for the covariance column of an update


# --- the market -----------------------------------------------------------------------------------------------

@jit
def buy(slope: float, pivot: float, price: float) -> float:
    """The probability that a visitor buys at `price`: a logistic demand curve, one half at the pivot price."""
    return arms.sigmoid(slope * (pivot - price))


@jit
def draw_market(slope: np.ndarray, pivot: np.ndarray, best: np.ndarray, best_price: np.ndarray, env: np.ndarray,
                r: int) -> None:
    """Repetition r's demand curve: slope uniform in [4, 10], pivot uniform in [0.3, 0.7]; the best expected
    revenue price x buy(price) over the price range, and its price (found on FINE evenly spaced prices, so a coarse
    grid pays for its coarseness in regret)."""
    slope[r] = 4.0 + 6.0 * rng.uniform(env, r)
    pivot[r] = 0.3 + 0.4 * rng.uniform(env, r)
    best[r], best_price[r] = -np.inf, LOW
    for i in range(FINE):
        price = LOW + (HIGH - LOW) * i / (FINE - 1)
        revenue = price * buy(slope[r], pivot[r], price)
        if revenue > best[r]:
            best[r], best_price[r] = revenue, price


@jit
def sell(slope: np.ndarray, pivot: np.ndarray, env: np.ndarray, r: int, price: float) -> tuple[float, float]:
    """One visitor offered `price` (clipped to the range): the expected revenue, and the revenue drawn (the price
    if the visitor buys, else 0; one uniform draw whatever the price, so the draws stay common to every policy)."""
    price = min(max(price, LOW), HIGH)
    chance = buy(slope[r], pivot[r], price)
    bought = rng.uniform(env, r) < chance
    return price * chance, price if bought else 0.0


@jit
def draw_markets(slope: np.ndarray, pivot: np.ndarray, best: np.ndarray, best_price: np.ndarray,
                 env: np.ndarray) -> None:
    """Every repetition's demand curve (draw_market)."""
    for r in range(env.shape[0]):
        draw_market(slope, pivot, best, best_price, env, r)


@jit
def market_step(slope: np.ndarray, pivot: np.ndarray, env: np.ndarray, offered: np.ndarray, value: np.ndarray,
                observed: np.ndarray) -> None:
    """One round for every repetition: the expected revenue of each price offered (R,) and the revenue drawn."""
    for r in range(env.shape[0]):
        value[r], observed[r] = sell(slope, pivot, env, r, offered[r])


# --- decisions and learning -------------------------------------------------------------------------------------

@jit
def choose_uniform_price(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray,
                         draws: np.ndarray, r: int, t: int, horizon: int) -> tuple[int, float]:
    """The baseline: a uniformly random price in the range, off any grid."""
    return -1, LOW + (HIGH - LOW) * rng.uniform(draws, r)


@jit
def learn_nothing(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray, draws: np.ndarray,
                  r: int, cell: int, reward: float) -> None:
    return None


@jit
def learn_cell(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray, draws: np.ndarray,
               r: int, cell: int, reward: float) -> None:
    """The revenue counts for the grid cell played: its count, sum and mean."""
    stats[r, COUNTS, cell] += 1.0
    stats[r, SUMS, cell] += reward
    stats[r, MEANS, cell] = stats[r, SUMS, cell] / stats[r, COUNTS, cell]


@jit
def choose_grid_ucb(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray,
                    draws: np.ndarray, r: int, t: int, horizon: int) -> tuple[int, float]:
    """params: grid, alpha. UCB1 on the grid's revenues (Kleinberg & Leighton 2003): an untried price first, then
    a largest mean + sqrt(alpha log t / n), t the observations so far (at least 2)."""
    G = prices.shape[0]
    seen = 0.0
    for k in range(G):
        seen += stats[r, COUNTS, k]
    width = params[1] * math.log(max(seen, 2.0))
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(G):
        n = stats[r, COUNTS, k]
        score = np.inf if n == 0.0 else stats[r, MEANS, k] + math.sqrt(width / n)
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick, prices[pick]


@jit
def gp_prior(prices: np.ndarray, lengthscale: float) -> np.ndarray:
    """The prior covariance (G, G) of the revenue on the grid: a squared-exponential kernel of signal variance 1/4
    (revenue in [0, 1]) and length scale `lengthscale` x the price range."""
    G = prices.shape[0]
    prior = np.empty((G, G))
    for i in range(G):
        for j in range(G):
            gap = (prices[i] - prices[j]) / ((HIGH - LOW) * lengthscale)
            prior[i, j] = 0.25 * math.exp(-0.5 * gap * gap)
    return prior


@jit
def choose_gp_ucb(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray, draws: np.ndarray,
                  r: int, t: int, horizon: int) -> tuple[int, float]:
    """params: beta, lengthscale, noise, grid. GP-UCB (Srinivas, Krause, Kakade & Seeger, ICML 2010): a price of
    highest posterior mean + beta x posterior standard deviation (a variance below 0 by rounding counts as 0)."""
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(prices.shape[0]):
        score = stats[r, MEAN, k] + params[0] * math.sqrt(max(cov[r, k, k], 0.0))
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick, prices[pick]


@jit
def learn_gp(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray, draws: np.ndarray,
             r: int, cell: int, reward: float) -> None:
    """The exact Gaussian-process posterior after observing `reward` at grid cell c with noise variance s^2, a
    rank-one step of the grid's posterior: gain g = Sigma[:, c] / (Sigma[c, c] + s^2), mean += g (reward -
    mean[c]), Sigma -= g Sigma[c, :], O(G^2) per observation.

    Why the grid's covariance and not a Cholesky factor of the observed points' kernel matrix: every observation
    falls on one of G grid cells, so the posterior is that of at most G distinct points, and a factor of the
    observations would grow with the rounds (O(n^2) per update, n up to T >> G); kept per cell (a factor of
    K_VV + s^2 diag(1 / n_c) over the visited cells V) an update changes a diagonal entry, which refreshes the
    factor in O(|V|^2) but then needs O(G |V|) solves for the grid's means and variances every round: no cheaper
    than the rank-one step when |V| nears G, as it does within the first few dozen rounds. Measured on the
    dynamic-pricing race (G = 50, 10,000 rounds x 50 repetitions, 2 busy cores): 1.3 us a decision with its
    update, against 0.4 us for UCB on a grid of 20 prices; the whole race about 0.7 s."""
    G = prices.shape[0]
    column = stats[r, COLUMN]  # the covariance of every price with the one observed (Sigma is symmetric: its row)
    for i in range(G):
        column[i] = cov[r, cell, i]
    shrink = 1.0 / (column[cell] + params[2] * params[2])
    surprise = (reward - stats[r, MEAN, cell]) * shrink
    for i in range(G):
        stats[r, MEAN, i] += column[i] * surprise
        gain = column[i] * shrink
        for j in range(G):
            cov[r, i, j] -= gain * column[j]


@jit
def cover(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, r: int, horizon: int) -> int:
    """Zooming's covering (params: lipschitz, points): an active price x (stats[r, ACTIVE, x] = 1) has confidence
    radius r(x) = sqrt(2 ln T / (n(x) + 1)) after n(x) plays and covers the grid cells within
    r(x) / lipschitz of it (1e-9 of a cell's slack against rounding). Fills stats[r, COVERED] with how many active
    prices cover each grid cell and returns how many cells none covers."""
    K = prices.shape[0]
    step = (HIGH - LOW) / max(K - 1, 1)
    log_term = 2.0 * math.log(max(horizon, 2))
    covered = stats[r, COVERED]
    covered[:] = 0.0
    for k in range(K):
        if stats[r, ACTIVE, k] == 0.0:
            continue
        reach = math.sqrt(log_term / (stats[r, COUNTS, k] + 1.0)) / params[0] / step  # in grid cells
        low = max(int(math.ceil(k - reach - 1e-9)), 0)  # the first cell covered, and the first beyond
        high = int(math.floor(k + reach + 1e-9)) + 1
        covered[low] += 1.0
        if high < K:
            covered[high] -= 1.0
    uncovered = 0
    running = 0.0
    for k in range(K):
        running += covered[k]
        covered[k] = running
        if running < 0.5:
            uncovered += 1
    return uncovered


@jit
def choose_zooming(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray, draws: np.ndarray,
                   r: int, t: int, horizon: int) -> tuple[int, float]:
    """params: lipschitz, points. The zooming algorithm (Kleinberg, Slivkins & Upfal, STOC 2008) in its
    known-horizon form, on `points` evenly spaced prices standing in for the continuum: when some price is covered
    by no active one (cover), one such price, uniformly at random, is activated and played; otherwise an active
    price of highest index mean + 2 r(x)."""
    uncovered = cover(params, prices, stats, r, horizon)
    K = prices.shape[0]
    if uncovered > 0:
        chosen = rng.below(draws, r, uncovered)
        for k in range(K):
            if stats[r, COVERED, k] < 0.5:
                if chosen == 0:
                    stats[r, ACTIVE, k] = 1.0
                    return k, prices[k]
                chosen -= 1
    log_term = 2.0 * math.log(max(horizon, 2))
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(K):
        if stats[r, ACTIVE, k] != 0.0:
            score = stats[r, MEANS, k] + 2.0 * math.sqrt(log_term / (stats[r, COUNTS, k] + 1.0))
            best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick, prices[pick]


# --- the race -------------------------------------------------------------------------------------------------

@jit
def account(books: np.ndarray, value: float, top: float, t: int, tail_start: int) -> None:
    """Round t's share of a repetition's totals (arms.BOOKS): regret, an optimal round (at least OPTIMAL of the
    best expected revenue) or not, and the revenue of the last 10% of rounds."""
    books[0] += top - value
    if value >= top * OPTIMAL:
        books[1] += 1.0
    if t >= tail_start:
        books[2] += value


def choose(*args: Any) -> tuple[int, float]:  # pragma: no cover - replaced in each binding by the policy's own
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own learn
    raise NotImplementedError


def race(params: np.ndarray, prices: np.ndarray, start: np.ndarray, start_cov: np.ndarray, env: np.ndarray,
         delays: np.ndarray, draws: np.ndarray, T: int, feedback: int, mean_delay: float, batch: int,
         points: np.ndarray, curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray,
         stats: np.ndarray, cov: np.ndarray) -> None:
    """One pricing policy's whole race over R = len(env) repetitions, as arms.race on K arms: env, delays and
    draws are the streams (R,) of the market, the feedback delays and the policy (advanced in place). Fills the
    regret curve at `points` (1-based rounds) (R, P), the final regret, the mean expected revenue over the last
    10% of rounds and the share of optimal rounds (R,) each; `start` (S, G) and `start_cov` (M, M) are the
    policy's statistics before round 0, which stats (R, S, G) and cov (R, M, M) hold after the last round.
    Every step draws from the streams in the order of the step-by-step loop (`draw_markets`, the policy's step
    choose, `market_step`, its step learn), so both give the same numbers."""
    R = env.shape[0]
    slope, pivot, best, best_price = np.empty(R), np.empty(R), np.empty(R), np.empty(R)
    tail_start = T - max(1, T // 10)
    for r in range(R):
        stats[r] = start
        cov[r] = start_cov
        draw_market(slope, pivot, best, best_price, env, r)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, cell, revenue
        queue_cell = np.empty(16, np.int64)
        queue_reward = np.empty(16)
        queued = 0
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            cell, price = choose(params, prices, stats, cov, draws, r, t, T)
            value, observed = sell(slope, pivot, env, r, price)
            account(books, value, best[r], t, tail_start)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(params, prices, stats, cov, draws, r, cell, observed)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_cell, queue_reward = arms.grow(queue_at), arms.grow(queue_cell), arms.grow(queue_reward)
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_cell[queued] = cell
            queue_reward[queued] = observed
            queued += 1
            i = arms.due(queue_at, queued, t + 1)
            while i >= 0:  # deliver what is visible at round t + 1, in the order it was queued
                learn(params, prices, stats, cov, draws, r, queue_cell[i], queue_reward[i])
                queued = arms.drop(queue_at, queue_cell, queue_reward, i, queued)
                i = arms.due(queue_at, queued, t + 1)
        final[r] = books[0]
        optimal[r] = books[1] / T
        tail[r] = books[2] / (T - tail_start)


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """A pricing policy's whole race as one compiled function (compiled once, then cached on disk), for any block
    of repetitions (compiled.by_repetitions runs blocks in threads)."""
    kernels = globals()
    return bind(race, f"pricing_race_{choose_name}_{learn_name}", nogil=True, choose=kernels[choose_name],
                learn=kernels[learn_name], namespace=kernels)


# --- the same steps for all repetitions at once (the step-by-step loop of runner.py) ----------------------------

def step_choose_template(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray,
                         draws: np.ndarray, t: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    cells = np.empty(draws.shape[0], np.int64)
    offered = np.empty(draws.shape[0])
    for r in range(draws.shape[0]):
        cells[r], offered[r] = choose(params, prices, stats, cov, draws, r, t, horizon)
    return cells, offered


def step_learn_template(params: np.ndarray, prices: np.ndarray, stats: np.ndarray, cov: np.ndarray,
                        draws: np.ndarray, reps: np.ndarray, cells: np.ndarray, rewards: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(params, prices, stats, cov, draws, reps[i], cells[i], rewards[i])


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """A pricing policy's decisions for all repetitions (the cells (R,) and prices (R,) played), and its learning
    from a batch of observations (flat arrays reps, cells, rewards, learnt in their order)."""
    kernels = globals()
    return (bind(step_choose_template, f"pricing_step_{choose_name}", choose=kernels[choose_name],
                 namespace=kernels),
            bind(step_learn_template, f"pricing_step_{learn_name}", learn=kernels[learn_name], namespace=kernels))
