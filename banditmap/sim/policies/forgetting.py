"""Linear UCB for parameters that move, one ridge regression per arm (disjoint models, as LinUCB here): D-LinUCB
forgets old observations by exponential weights, SW-LinUCB keeps only the last `window` of them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np

from banditmap.sim.policies.base import (CONFIDENCE_BOUNDS, SCALE, WIDTH, Array, Domain, Feedback, Policy,
                                         State, argmax_random, hyperparameter, register, whole)
from banditmap.sim.problem import Problem

NORM = 1.0  # S, the bound on a parameter's norm in the confidence width (the contexts here have norm about 1)
NOISE = 0.5  # sigma: rewards in [0, 1] are 1/2-sub-Gaussian


NO_SQUARES = np.zeros((0, 0, 0, 0))  # the width is sqrt(x^T V^-1 x): no weighted Gram matrix
NO_FACTORS = np.zeros((0, 0, 0, 0))  # each arm's Cholesky factor made afresh
NO_THETAS = np.zeros((0, 0, 0))
NO_STALE = np.zeros((0, 0), dtype=np.bool_)


@dataclass(kw_only=True)
class Gram(State):
    gram: Array  # (R, K, d, d) the regularised (weighted) Gram matrix V of each arm's regression
    target: Array  # (R, K, d) the (weighted) sum of reward * x
    # the bounds last computed: (decisions made, the context, lower, upper), until the next update; an adapter that
    # asks for the bounds of the decision its base just made (conservative exploration) gets them without a second
    # solve of every arm's regression
    memo: tuple[int, Array, Array, Array] | None = None


G = TypeVar("G", bound=Gram)


def estimates(s: Gram, x: Array, keep: Array, keep2: Array, squared: Array, l2: float,
              factors: Array = NO_FACTORS, thetas: Array = NO_THETAS, stale: Array = NO_STALE) -> tuple[Array, Array]:
    """Every arm's estimate x^T theta and width (R, K) from its sums discounted by keep (compiled:
    sim/kernels/linear.py's moving_ridge, through each arm's Cholesky factor: kept in `factors`, with theta in
    `thetas`, and made again where `stale` says, or made afresh)."""
    from banditmap.sim.kernels import linear
    mean, width = np.empty((s.R, s.K)), np.empty((s.R, s.K))
    linear.moving_ridge(s.gram, s.target, squared, np.asarray(keep, dtype=np.float64),
                        np.asarray(keep2, dtype=np.float64), float(l2), np.asarray(x, dtype=np.float64), factors,
                        thetas, stale, mean, width)
    return mean, width




@dataclass(frozen=True)
class MovingLinUCB(Policy[G]):
    """An arm's score is x^T theta + alpha * beta_t * width(x): the estimate plus the width of the paper's confidence
    set, beta_t from the paper with S = 1 and sigma = 1/2; alpha scales it (1 keeps the analysed width)."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    lambda_reg: float = hyperparameter(0.1, SCALE)
    delta: float = hyperparameter(0.01, Domain(0.0, 1.0, low_open=True, high_open=True))
    alpha: float = hyperparameter(1.0, WIDTH)

    def gram(self, problem: Problem) -> tuple[Array, Array]:
        """lambda I (R, K, d, d) and zeros (R, K, d): V and b before any observation."""
        R, K, d = problem.reps, problem.n_arms, problem.n_features
        return np.broadcast_to(np.eye(d) * self.lambda_reg, (R, K, d, d)).copy(), np.zeros((R, K, d))

    def beta(self, s: G) -> float:
        raise NotImplementedError

    def estimates(self, s: G, context: Array) -> tuple[Array, Array]:
        """Every arm's estimate x^T theta and the width of its confidence set before beta (R, K) each."""
        raise NotImplementedError

    def bounds(self, s: G, context: Array | None) -> tuple[Array, Array]:
        assert context is not None
        if s.memo is None or s.memo[0] != s.t or s.memo[1] is not context:
            mean, width = self.estimates(s, context)
            width *= self.alpha * self.beta(s)
            s.memo = (s.t, context, mean - width, mean + width)
        return s.memo[2].copy(), s.memo[3].copy()

    def select(self, s: G, context: Array | None) -> Array:
        return argmax_random(self.bounds(s, context)[1], s.rng)

    def exploit(self, s: G, context: Array | None) -> Array:
        assert context is not None
        return argmax_random(self.estimates(s, context)[0], s.rng)


@dataclass(kw_only=True)
class Discounted(Gram):
    squared: Array  # (R, K, d, d) V~, the Gram matrix with squared weights, for the width
    discounted_to: Array  # (R,) the decision count up to which each repetition's statistics are discounted


@register("d-linucb")
@dataclass(frozen=True)
class DLinUCB(MovingLinUCB[Discounted]):
    """D-LinUCB (Russac, Vernade & Cappe, NeurIPS 2019), per arm: every round every arm's statistics are discounted,
    V <- gamma V + (1 - gamma) lambda I, V~ <- gamma^2 V~ + (1 - gamma^2) lambda I, b <- gamma b, before the round's
    observation adds x x^T to V and V~ and r x to b; the width is sqrt(x^T V^-1 V~ V^-1 x) and
    beta_t = sqrt(lambda) S + sigma sqrt(2 ln(1/delta) + d ln(1 + (1 - gamma^(2t)) / (d lambda (1 - gamma^2)))).
    Rounds are the run's decisions, so a delayed observation is added with the weight of its arrival. n rounds of
    discounting at once are V <- gamma^n V + (1 - gamma^n) lambda I (and so on), so a repetition's statistics are
    discounted when it next learns, and a decision discounts a copy: an update touches its own repetitions only."""

    gamma: float = hyperparameter(0.999, Domain(0.0, 1.0, low_open=True, high_open=True,
                                                why="1 never forgets: that is LinUCB"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Discounted:
        gram, target = self.gram(problem)
        return Discounted(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds, gram=gram,
                          target=target, squared=gram.copy(), discounted_to=np.zeros(problem.reps, dtype=np.int64))

    def estimates(self, s: Discounted, context: Array) -> tuple[Array, Array]:
        """The statistics discounted up to now, on the fly (the state keeps them as of each repetition's last
        update); the width sqrt(x^T V^-1 V~ V^-1 x)."""
        steps = (s.t - s.discounted_to).astype(float)
        return estimates(s, context, self.gamma ** steps, self.gamma ** (2 * steps), s.squared, self.lambda_reg)

    def beta(self, s: Discounted) -> float:
        d = s.target.shape[-1]
        g2 = self.gamma ** 2
        grown = (1 - g2 ** s.t) / (d * self.lambda_reg * (1 - g2))
        return math.sqrt(self.lambda_reg) * NORM + NOISE * math.sqrt(2 * math.log(1 / self.delta)
                                                                     + d * math.log1p(grown))

    def update(self, s: Discounted, feedback: Feedback) -> None:
        assert feedback.contexts is not None
        from banditmap.sim.kernels import linear
        s.memo = None
        linear.learn_discounted(s.gram, s.squared, s.target, s.discounted_to, s.t, self.gamma, self.lambda_reg,
                                feedback.reps.astype(np.int64), np.asarray(feedback.actions, dtype=np.int64),
                                np.asarray(feedback.contexts, dtype=np.float64),
                                np.asarray(feedback.observed, dtype=np.float64))


@dataclass(kw_only=True)
class Windowed(Gram):
    arms: Array  # (R, W) the arm of each observation in the window, -1 for an empty slot
    xs: Array  # (R, W, d) its context
    rewards: Array  # (R, W) its reward
    cursor: Array  # (R,) the slot written next (the oldest observation)
    factors: Array  # (R, K, d, d) the Cholesky factor of each arm's V, kept between rounds
    thetas: Array  # (R, K, d) each arm's estimate V^-1 b, kept with it
    stale: Array  # (R, K) bool: whether V changed since its factor was made


@register("sw-linucb")
@dataclass(frozen=True)
class SWLinUCB(MovingLinUCB[Windowed]):
    """SW-LinUCB (Cheung, Simchi-Levi & Zhu, AISTATS 2019), per arm: ridge regression on the last `window`
    observations of the repetition (an observation leaves when the window is full and a new one arrives), width
    sqrt(x^T V^-1 x), beta = sqrt(lambda) S + sigma sqrt(d ln((1 + window / lambda) / delta))."""

    window: int = hyperparameter(1000, whole(1, 100_000, "the window's observations are kept in memory"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Windowed:
        R, W, d = problem.reps, min(self.window, problem.rounds), problem.n_features
        gram, target = self.gram(problem)
        return Windowed(rng, R, problem.n_arms, problem.slate_size, problem.rounds, gram=gram, target=target,
                        arms=np.full((R, W), -1, dtype=np.int64), xs=np.zeros((R, W, d)), rewards=np.zeros((R, W)),
                        cursor=np.zeros(R, dtype=np.int64), factors=np.zeros_like(gram),
                        thetas=np.zeros_like(target), stale=np.ones((R, problem.n_arms), dtype=np.bool_))

    def beta(self, s: Windowed) -> float:
        d = s.target.shape[-1]
        return (math.sqrt(self.lambda_reg) * NORM
                + NOISE * math.sqrt(d * (math.log1p(self.window / self.lambda_reg) - math.log(self.delta))))

    def estimates(self, s: Windowed, context: Array) -> tuple[Array, Array]:
        """The window's ridge regression; the width sqrt(x^T V^-1 x)."""
        ones = np.ones(s.R)
        return estimates(s, context, ones, ones, NO_SQUARES, self.lambda_reg, s.factors, s.thetas, s.stale)

    def update(self, s: Windowed, feedback: Feedback) -> None:
        assert feedback.contexts is not None
        s.memo = None
        for layer in feedback.layers():
            reps, arms = feedback.reps[layer], feedback.actions[layer]
            x, r = feedback.contexts[layer], feedback.observed[layer]
            slot = s.cursor[reps]
            old_arm = s.arms[reps, slot]
            full = old_arm >= 0
            if full.any():  # the oldest observation leaves the window
                gone, gone_arm, gone_x = reps[full], old_arm[full], s.xs[reps[full], slot[full]]
                s.gram[gone, gone_arm] -= np.einsum("ni,nj->nij", gone_x, gone_x)
                s.stale[gone, gone_arm] = True
                s.target[gone, gone_arm] -= s.rewards[gone, slot[full], None] * gone_x
            s.gram[reps, arms] += np.einsum("ni,nj->nij", x, x)
            s.stale[reps, arms] = True
            s.target[reps, arms] += r[:, None] * x
            s.arms[reps, slot], s.xs[reps, slot], s.rewards[reps, slot] = arms, x, r
            s.cursor[reps] = (slot + 1) % s.arms.shape[1]
