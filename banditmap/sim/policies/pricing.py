"""Policies for a continuous price: a grid of candidate prices explored with UCB or with a Gaussian process
(GP-UCB), prices activated where they are needed (zooming), and the random baseline. Their decisions and learning
are compiled kernels (sim/kernels/pricing.py), one implementation for the compiled race and the step-by-step loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (CONFIDENCE_BOUNDS, SCALE, WIDTH, Array, Domain, Feedback, Policy, State,
                                         hyperparameter, register, tie_broken, whole)
from banditmap.sim.problem import PRICE_RANGE, Problem

PRICING = frozenset({"pricing"})
COUNTS, SUMS, MEANS, COVERED, ACTIVE = 0, 1, 2, 3, 4  # rows of a grid policy's statistics (kernels/pricing.py)
MEAN = 0  # GP-UCB's row of posterior means


@dataclass(kw_only=True)
class Priced(State):
    """A pricing policy's state, as its kernels read it (K is the grid's size G)."""

    prices: Array  # (G,) the candidate prices, the same for every repetition
    stats: Array  # (R, S, G) the policy's rows of statistics over the grid (COUNTS, SUMS, MEANS, ... or MEAN)
    cov: Array  # (R, M, M) GP-UCB's posterior covariance on the grid (M = G); (R, 0, 0) for the others
    draws: Array  # (R,) uint64: one random stream per repetition

    @property
    def counts(self) -> Array:
        """(R, G) observations per price (a view)."""
        return self.stats[:, COUNTS]

    @property
    def sums(self) -> Array:
        return self.stats[:, SUMS]

    @property
    def means(self) -> Array:
        return self.stats[:, MEANS]

    @property
    def active(self) -> Array:
        """(R, G) zooming's active prices: 1.0, else 0.0 (a view)."""
        return self.stats[:, ACTIVE]

    @property
    def mean(self) -> Array:
        """(R, G) GP-UCB's posterior mean revenue at each price (a view)."""
        return self.stats[:, MEAN]


def best_cells(s: State, scores: Array) -> Array:
    """Each repetition's grid cell of highest score (R,), ties broken at random."""
    cells: Array = np.argmax(tie_broken(scores, s.rng), axis=1)
    return cells


def best_price(s: State, prices: Array, scores: Array) -> Array:
    """Each repetition's price of highest score (R,), the one it would name as best (ties broken at random)."""
    price: Array = prices[best_cells(s, scores)]
    return price


@dataclass(frozen=True)
class PriceKernel(Policy[Priced]):
    """A pricing policy whose decisions are compiled kernels (`choose`, `learn` in sim/kernels/pricing.py) over
    `rows` rows of statistics on its grid; the kernels read the hyperparameters in the order they are declared.
    Each decision returns its grid cell with its feedback (aux; -1 for a price off the grid)."""

    kinds: ClassVar[frozenset[str]] = PRICING
    choose: ClassVar[str] = "choose_uniform_price"
    learn: ClassVar[str] = "learn_nothing"
    rows: ClassVar[int] = 0

    def prices(self) -> Array:
        """The grid (G,) of candidate prices."""
        return np.zeros(0)

    def start(self, prices: Array) -> tuple[Array, Array]:
        """A repetition's statistics (S, G) and matrix (M, M) before the first round."""
        return np.zeros((self.rows, prices.shape[0])), np.zeros((0, 0))

    def init(self, problem: Problem, rng: np.random.Generator) -> Priced:
        draws = states_from(rng, problem.reps)  # first, so that the compiled race draws the same streams
        prices = self.prices()
        stats, cov = self.start(prices)
        R = problem.reps
        return Priced(rng, R, prices.shape[0] or problem.n_arms, problem.slate_size, problem.rounds, prices=prices,
                      stats=np.tile(stats, (R, 1, 1)), cov=np.tile(cov, (R, 1, 1)), draws=draws)

    def select(self, s: Priced, context: Array | None) -> Array:
        from banditmap.sim.kernels import pricing
        choose, _ = pricing.make_steps(self.choose, self.learn)
        cells, offered = choose(self.params(), s.prices, s.stats, s.cov, s.draws, s.t, s.horizon)
        s.aux = cells
        played: Array = offered
        return played

    def update(self, s: Priced, feedback: Feedback) -> None:
        """The observations, each for the grid cell it was played at (returned as aux, maybe as floats), in order."""
        from banditmap.sim.kernels import pricing
        assert feedback.aux is not None
        _, learn = pricing.make_steps(self.choose, self.learn)
        learn(self.params(), s.prices, s.stats, s.cov, s.draws, feedback.reps.astype(np.int64),
              np.asarray(feedback.aux).astype(np.int64), np.asarray(feedback.observed, dtype=np.float64))


def grid(points: int) -> Array:
    prices: Array = np.linspace(*PRICE_RANGE, points)
    return prices


@register("discretized-ucb-pricing")
@dataclass(frozen=True)
class DiscretisedUCB(PriceKernel):
    """UCB1 on the revenue of `grid` evenly spaced prices (Kleinberg and Leighton 2003): an untried price first,
    then a largest mean + sqrt(alpha log t / n), t the observations so far."""

    choose: ClassVar[str] = "choose_grid_ucb"
    learn: ClassVar[str] = "learn_cell"
    rows: ClassVar[int] = 3
    grid: int = hyperparameter(20, whole(2, 1000, "a race of a few thousand rounds cannot try more prices"))
    alpha: float = hyperparameter(2.0, WIDTH)

    def prices(self) -> Array:
        return grid(self.grid)

    def recommend(self, s: Priced) -> Array:
        return best_price(s, s.prices, s.means)


@register("gp-ucb")
@dataclass(frozen=True)
class GPUCB(PriceKernel):
    """GP-UCB (Srinivas, Krause, Kakade & Seeger, ICML 2010) on `grid` evenly spaced prices, a finite set of
    candidates: the revenue is modelled as a Gaussian process with a squared-exponential kernel (signal variance
    1/4, for revenue in [0, 1]; length scale `lengthscale` x the price range) and Gaussian noise of standard
    deviation `noise`; each decision plays the price of highest posterior mean + beta x posterior standard deviation,
    and each observation updates the posterior exactly (a rank-one step of the grid's covariance: see
    kernels/pricing.py's learn_gp for why)."""

    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    choose: ClassVar[str] = "choose_gp_ucb"
    learn: ClassVar[str] = "learn_gp"
    rows: ClassVar[int] = 2  # the mean, and room for an update's covariance column
    beta: float = hyperparameter(2.0, WIDTH)
    lengthscale: float = hyperparameter(0.1, Domain(0.001, 10.0, why="a share of the price range"))
    noise: float = hyperparameter(0.5, SCALE)
    grid: int = hyperparameter(50, whole(2, 500, "the posterior covariance holds grid^2 numbers per repetition"))

    def prices(self) -> Array:
        return grid(self.grid)

    def start(self, prices: Array) -> tuple[Array, Array]:
        from banditmap.sim.kernels import pricing
        prior: Array = pricing.gp_prior(prices, float(self.lengthscale))
        return np.zeros((self.rows, prices.shape[0])), prior

    def bounds(self, s: Priced, context: Array | None) -> tuple[Array, Array]:
        """Posterior mean -/+ beta x standard deviation (R, G) of each grid price's revenue."""
        spread = self.beta * np.sqrt(np.maximum(np.diagonal(s.cov, axis1=1, axis2=2), 0.0))
        return s.mean - spread, s.mean + spread

    def recommend(self, s: Priced) -> Array:
        return best_price(s, s.prices, s.mean)


@register("zooming")
@dataclass(frozen=True)
class Zooming(PriceKernel):
    """The zooming algorithm (Kleinberg, Slivkins & Upfal, STOC 2008) for a revenue that is `lipschitz`-Lipschitz
    in the price, in its known-horizon form: an active price x has confidence radius r(x) = sqrt(2 ln T / (n(x) + 1))
    after n(x) plays and covers the prices within r(x) / lipschitz of it; when some price is covered by no active
    one, one such price (at random) is activated and played, otherwise the active price of highest index
    mean + 2 r(x) is. The continuum is stood in for by `points` evenly spaced prices, activated one at a time."""

    choose: ClassVar[str] = "choose_zooming"
    learn: ClassVar[str] = "learn_cell"
    rows: ClassVar[int] = 5
    lipschitz: float = hyperparameter(1.0, SCALE)
    points: int = hyperparameter(200, whole(2, 10_000, "a grid finer than the race's rounds is never covered"))

    def prices(self) -> Array:
        return grid(self.points)

    def uncovered(self, s: Priced) -> Array:
        """(R, G) bool: the prices no active price covers (kernels/pricing.py's cover)."""
        from banditmap.sim.kernels import pricing
        for r in range(s.R):
            pricing.cover(self.params(), s.prices, s.stats, r, s.horizon)
        uncovered: Array = s.stats[:, COVERED] < 0.5
        return uncovered

    def recommend(self, s: Priced) -> Array:
        return best_price(s, s.prices, np.where(s.active > 0.0, s.means, -np.inf))


@register("uniform-random-price")
@dataclass(frozen=True)
class UniformPrice(PriceKernel):
    """The baseline for pricing: a uniformly random price in the allowed range."""
