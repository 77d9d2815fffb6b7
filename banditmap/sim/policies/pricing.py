"""Policies for a continuous price: a grid of candidate prices explored with UCB or with a Gaussian process
(GP-UCB), prices activated where they are needed (zooming), and the random baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import (CONFIDENCE_BOUNDS, SCALE, WIDTH, Array, Domain, Feedback, Memoryless, Policy,
                                         State, hyperparameter, register, tie_broken, whole)
from banditmap.sim.policies.mab import ArmStats, add_observations, arm_stats, ucb_index, untried_first
from banditmap.sim.problem import PRICE_RANGE, Problem

PRICING = frozenset({"pricing"})


@dataclass(kw_only=True)
class Grid(ArmStats):
    """Per-arm statistics of the grid's prices (K is the grid's size)."""

    prices: Array  # (K,) the candidate prices, the same for every repetition


def best_cells(s: State, scores: Array) -> Array:
    """Each repetition's grid cell of highest score (R,), ties broken at random."""
    cells: Array = np.argmax(tie_broken(scores, s.rng), axis=1)
    return cells


def played(s: State, prices: Array, cells: Array) -> Array:
    """The prices of the grid cells played; each cell is returned with its feedback (aux)."""
    s.aux = cells
    price: Array = prices[cells]
    return price


def best_price(s: State, prices: Array, scores: Array) -> Array:
    """Each repetition's price of highest score (R,), the one it would name as best (ties broken at random)."""
    price: Array = prices[best_cells(s, scores)]
    return price


def learn_cells(state: ArmStats, feedback: Feedback) -> None:
    """Each observation counts for the grid cell it was played at (returned as aux), not for its price."""
    assert feedback.aux is not None
    add_observations(state, Feedback(feedback.reps, feedback.aux, feedback.observed, None, unique=feedback.unique))


@register("discretized-ucb-pricing")
@dataclass(frozen=True)
class DiscretisedUCB(Policy[Grid]):
    """UCB1 on the revenue of `grid` evenly spaced prices (Kleinberg and Leighton 2003)."""

    kinds: ClassVar[frozenset[str]] = PRICING
    grid: int = hyperparameter(20, whole(2, 1000, "a race of a few thousand rounds cannot try more prices"))
    alpha: float = hyperparameter(2.0, WIDTH)

    def init(self, problem: Problem, rng: np.random.Generator) -> Grid:
        return arm_stats(problem, rng, Grid, self.grid, prices=np.linspace(*PRICE_RANGE, self.grid))

    def select(self, s: Grid, context: Array | None) -> Array:
        return played(s, s.prices, best_cells(s, untried_first(s, ucb_index(s, self.alpha))))

    def update(self, state: Grid, feedback: Feedback) -> None:
        learn_cells(state, feedback)

    def recommend(self, s: Grid) -> Array:
        return best_price(s, s.prices, s.means)


@dataclass(kw_only=True)
class Posterior(State):
    """A Gaussian-process posterior on the grid's prices."""

    prices: Array  # (G,) the candidate prices, the same for every repetition
    mean: Array  # (R, G) posterior mean revenue at each price
    cov: Array  # (R, G, G) posterior covariance


@register("gp-ucb")
@dataclass(frozen=True)
class GPUCB(Policy[Posterior]):
    """GP-UCB (Srinivas, Krause, Kakade & Seeger, ICML 2010) on `grid` evenly spaced prices, a finite set of
    candidates: the revenue is modelled as a Gaussian process with a squared-exponential kernel (signal variance
    1/4, for revenue in [0, 1]; length scale `lengthscale` x the price range) and Gaussian noise of standard
    deviation `noise`; each decision plays the price of highest posterior mean + beta x posterior standard deviation,
    and each observation updates the posterior exactly (a rank-one step of the grid's covariance)."""

    kinds: ClassVar[frozenset[str]] = PRICING
    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    beta: float = hyperparameter(2.0, WIDTH)
    lengthscale: float = hyperparameter(0.1, Domain(0.001, 10.0, why="a share of the price range"))
    noise: float = hyperparameter(0.5, SCALE)
    grid: int = hyperparameter(50, whole(2, 500, "the posterior covariance holds grid^2 numbers per repetition"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Posterior:
        low, high = PRICE_RANGE
        prices = np.linspace(low, high, self.grid)
        gap = (prices[:, None] - prices[None, :]) / ((high - low) * self.lengthscale)
        prior = 0.25 * np.exp(-0.5 * gap ** 2)
        R = problem.reps
        return Posterior(rng, R, self.grid, problem.slate_size, problem.rounds, prices=prices,
                         mean=np.zeros((R, self.grid)), cov=np.broadcast_to(prior, (R, self.grid, self.grid)).copy())

    def bounds(self, s: Posterior, context: Array | None) -> tuple[Array, Array]:
        """Posterior mean -/+ beta x standard deviation (R, G) of each grid price's revenue."""
        spread = self.beta * np.sqrt(np.maximum(np.diagonal(s.cov, axis1=1, axis2=2), 0.0))
        return s.mean - spread, s.mean + spread

    def select(self, s: Posterior, context: Array | None) -> Array:
        return played(s, s.prices, best_cells(s, self.bounds(s, context)[1]))

    def update(self, s: Posterior, feedback: Feedback) -> None:
        assert feedback.aux is not None
        cells = np.asarray(feedback.aux, dtype=np.int64)
        for layer in feedback.layers():
            reps, cell, y = feedback.reps[layer], cells[layer], feedback.observed[layer]
            column = s.cov[reps, :, cell]  # (n, G) covariance of every price with the one observed
            gain = column / (column[np.arange(len(reps)), cell] + self.noise ** 2)[:, None]
            s.mean[reps] += gain * (y - s.mean[reps, cell])[:, None]
            s.cov[reps] -= gain[:, :, None] * column[:, None, :]

    def recommend(self, s: Posterior) -> Array:
        return best_price(s, s.prices, s.mean)


@dataclass(kw_only=True)
class Zoom(ArmStats):
    """Per-price statistics of a fine grid standing in for the continuum (K is its size), and which are active."""

    prices: Array  # (K,) the candidate prices, the same for every repetition
    active: Array  # (R, K) bool: the price has been activated


@register("zooming")
@dataclass(frozen=True)
class Zooming(Policy[Zoom]):
    """The zooming algorithm (Kleinberg, Slivkins & Upfal, STOC 2008) for a revenue that is `lipschitz`-Lipschitz
    in the price, in its known-horizon form: an active price x has confidence radius r(x) = sqrt(2 ln T / (n(x) + 1))
    after n(x) plays and covers the prices within r(x) / lipschitz of it; when some price is covered by no active
    one, one such price (at random) is activated and played, otherwise the active price of highest index
    mean + 2 r(x) is. The continuum is stood in for by `points` evenly spaced prices, activated one at a time."""

    kinds: ClassVar[frozenset[str]] = PRICING
    lipschitz: float = hyperparameter(1.0, SCALE)
    points: int = hyperparameter(200, whole(2, 10_000, "a grid finer than the race's rounds is never covered"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Zoom:
        return arm_stats(problem, rng, Zoom, self.points, prices=np.linspace(*PRICE_RANGE, self.points),
                         active=np.zeros((problem.reps, self.points), dtype=bool))

    def radius(self, s: Zoom) -> Array:
        radius: Array = np.sqrt(2 * np.log(max(s.horizon, 2)) / (s.counts + 1))
        return radius

    def uncovered(self, s: Zoom) -> Array:
        """(R, K) bool: the prices no active price covers, from each active price's interval of grid cells."""
        step = (PRICE_RANGE[1] - PRICE_RANGE[0]) / max(s.K - 1, 1)
        reach = self.radius(s) / self.lipschitz / step  # in grid cells
        reps, cells = np.nonzero(s.active)
        lo = np.clip(np.ceil(cells - reach[reps, cells] - 1e-9), 0, s.K).astype(np.int64)
        hi = np.clip(np.floor(cells + reach[reps, cells] + 1e-9) + 1, 0, s.K).astype(np.int64)
        marks = np.zeros((s.R, s.K + 1))
        np.add.at(marks, (reps, lo), 1.0)
        np.add.at(marks, (reps, hi), -1.0)
        uncovered: Array = np.cumsum(marks, axis=1)[:, :s.K] < 0.5
        return uncovered

    def select(self, s: Zoom, context: Array | None) -> Array:
        uncovered = self.uncovered(s)
        fresh = np.argmax(uncovered + s.rng.random(uncovered.shape) * 0.5, axis=1)  # a random uncovered price
        best = best_cells(s, np.where(s.active, s.means + 2 * self.radius(s), -np.inf))
        activating = uncovered.any(axis=1)
        s.active[np.arange(s.R)[activating], fresh[activating]] = True
        return played(s, s.prices, np.where(activating, fresh, best))

    def update(self, state: Zoom, feedback: Feedback) -> None:
        learn_cells(state, feedback)

    def recommend(self, s: Zoom) -> Array:
        return best_price(s, s.prices, np.where(s.active, s.means, -np.inf))


@register("uniform-random-price")
@dataclass(frozen=True)
class UniformPrice(Memoryless):
    """The baseline for pricing: a uniformly random price in the allowed range."""

    kinds: ClassVar[frozenset[str]] = PRICING

    def select(self, state: State, context: Array | None) -> Array:
        return PRICE_RANGE[0] + (PRICE_RANGE[1] - PRICE_RANGE[0]) * state.rng.random(state.R)
