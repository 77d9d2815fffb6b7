"""Linear UCB for parameters that move, one ridge regression per arm (disjoint models, as LinUCB here): D-LinUCB
forgets old observations by exponential weights, SW-LinUCB keeps only the last `window` of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (CONFIDENCE_BOUNDS, SCALE, WIDTH, Array, Domain, Feedback, Policy,
                                         State, argmax_random, hyperparameter, register, whole)
from banditmap.sim.problem import Problem

NO_HELD = (np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0, 0)), np.zeros((0, 0)))  # D-LinUCB keeps no window
NO_SQUARES = np.zeros((0, 0, 0, 0))  # SW-LinUCB's width needs no weighted Gram matrix
NO_SCRATCH = np.zeros((0, 0))  # the policies keep nothing besides their statistics (an adapter's template would)


@dataclass(kw_only=True)
class Gram(State):
    """The statistics of a moving policy's regressions and the factors its decisions reuse (sim/kernels/moving.py
    says what each holds)."""

    gram: Array  # (R, K, d, d) the regularised (weighted) Gram matrix V of each arm's regression
    target: Array  # (R, K, d) the (weighted) sum of reward * x
    basis: Array  # (R, K, d, d), inner (R, K, d, d), coef (R, K, 3, d): each arm's reused factors
    inner: Array
    coef: Array
    since: Array  # (R, K) int: when each arm's factors were made, -1 once its statistics changed
    draws: Array  # (R,) uint64: one random stream per repetition (ties)
    # the bounds last computed: (decisions made, the context, lower, upper), until the next update; an adapter that
    # asks for the bounds of the decision its base just made (conservative exploration) gets them without a second
    # solve of every arm's regression
    memo: tuple[int, Array, Array, Array] | None = None

    def kernel_state(self) -> tuple[Array, ...]:
        """The arrays in the order the kernels take them (moving.start's)."""
        raise NotImplementedError


G = TypeVar("G", bound=Gram)


def gram_state(cls: type[G], problem: Problem, rng: np.random.Generator, W: int, l2: float) -> G:
    """A fresh state of type cls, its arrays from moving.start (W window slots), the streams drawn first."""
    from banditmap.sim.kernels import moving
    draws = states_from(rng, problem.reps)
    gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x, held_reward = moving.start(
        problem.reps, problem.n_arms, problem.n_features, W, l2)
    arrays: dict[str, Any] = {"squared": squared, "discounted_to": clock} if W == 0 else {
        "arms": held_arm, "xs": held_x, "rewards": held_reward, "cursor": clock}
    return cls(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds, gram=gram, target=target,
               basis=basis, inner=inner, coef=coef, since=since, draws=draws, **arrays)


@dataclass(frozen=True)
class MovingLinUCB(Policy[G]):
    """An arm's score is x^T theta + alpha * beta_t * width(x): the estimate plus the width of the paper's confidence
    set, beta_t from the paper with S = 1 and sigma = 1/2; alpha scales it (1 keeps the analysed width)."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    lambda_reg: float = hyperparameter(0.1, SCALE)
    delta: float = hyperparameter(0.01, Domain(0.0, 1.0, low_open=True, high_open=True))
    alpha: float = hyperparameter(1.0, WIDTH)

    kernels: ClassVar[str] = ""  # the name of its kernels in sim/kernels/moving.py

    def beta(self, s: G) -> float:
        raise NotImplementedError

    def estimates(self, s: G, context: Array) -> tuple[Array, Array]:
        """Every arm's estimate x^T theta and the width of its confidence set before beta (R, K) each."""
        from banditmap.sim.kernels import moving
        _, estimate, _, _ = moving.make_steps(self.kernels)
        mean, width = np.empty((s.R, s.K)), np.empty((s.R, s.K))
        estimate(self.params(), *s.kernel_state(), s.t, np.asarray(context, dtype=np.float64), mean, width)
        return mean, width

    def remember(self, s: G, context: Array, mean: Array, width: Array) -> None:
        """Keep the bounds of this decision (mean +- alpha beta width, as kernels/moving.py's `widen` makes them)
        for an adapter asking them again."""
        width = width * (self.alpha * self.beta(s))
        s.memo = (s.t, context, mean - width, mean + width)

    def fresh_bounds(self, s: G, context: Array) -> tuple[Array, Array]:
        """Every arm's bounds estimate -+ alpha beta width (R, K) each, from the bounds kernel (the one the
        conservative adapter's compiled template calls)."""
        from banditmap.sim.kernels import moving
        _, _, bounds, _ = moving.make_steps(self.kernels)
        lower, upper = np.empty((s.R, s.K)), np.empty((s.R, s.K))
        bounds(self.params(), *s.kernel_state(), s.t, np.asarray(context, dtype=np.float64), lower, upper)
        return lower, upper

    def bounds(self, s: G, context: Array | None) -> tuple[Array, Array]:
        """This decision's bounds, kept for the decision that follows (it plays the largest upper bound)."""
        assert context is not None
        if s.memo is None or s.memo[0] != s.t or s.memo[1] is not context:
            s.memo = (s.t, context, *self.fresh_bounds(s, context))
        return s.memo[2].copy(), s.memo[3].copy()

    def select(self, s: G, context: Array | None) -> Array:
        """The choose kernel for every repetition (the largest upper bound, ties at random from its stream); the
        largest of the bounds an adapter asked for this decision, when it asked first (the same choice)."""
        assert context is not None
        from banditmap.sim.kernels import moving
        if s.memo is not None and s.memo[0] == s.t and s.memo[1] is context:
            chosen: Array = moving.step_largest(s.memo[3], s.draws)
            return chosen
        choose, _, _, _ = moving.make_steps(self.kernels)
        mean, width = np.empty((s.R, s.K)), np.empty((s.R, s.K))
        actions: Array = choose(self.params(), *s.kernel_state(), NO_SCRATCH, s.draws, s.t,
                                np.asarray(context, dtype=np.float64), mean, width)
        self.remember(s, context, mean, width)
        return actions

    def exploit(self, s: G, context: Array | None) -> Array:
        assert context is not None
        return argmax_random(self.estimates(s, context)[0], s.rng)

    def update(self, s: G, feedback: Feedback) -> None:
        """The learn kernel on each observation, in the feedback's order, after s.t decisions."""
        assert feedback.contexts is not None
        from banditmap.sim.kernels import moving
        _, _, _, learn = moving.make_steps(self.kernels)
        s.memo = None
        learn(self.params(), *s.kernel_state(), NO_SCRATCH, s.t, feedback.reps.astype(np.int64),
              np.asarray(feedback.actions, dtype=np.int64), np.asarray(feedback.contexts, dtype=np.float64),
              np.asarray(feedback.observed, dtype=np.float64))


@dataclass(kw_only=True)
class Discounted(Gram):
    squared: Array  # (R, K, d, d) V~, the Gram matrix with squared weights, for the width
    discounted_to: Array  # (R,) the decision count up to which each repetition's statistics are discounted

    def kernel_state(self) -> tuple[Array, ...]:
        return (self.gram, self.squared, self.target, self.basis, self.inner, self.coef, self.since,
                self.discounted_to, *NO_HELD)


@register("d-linucb")
@dataclass(frozen=True)
class DLinUCB(MovingLinUCB[Discounted]):
    """D-LinUCB (Russac, Vernade & Cappe, NeurIPS 2019), per arm: every round every arm's statistics are discounted,
    V <- gamma V + (1 - gamma) lambda I, V~ <- gamma^2 V~ + (1 - gamma^2) lambda I, b <- gamma b, before the round's
    observation adds x x^T to V and V~ and r x to b; the width is sqrt(x^T V^-1 V~ V^-1 x) and
    beta_t = sqrt(lambda) S + sigma sqrt(2 ln(1/delta) + d ln(1 + (1 - gamma^(2t)) / (d lambda (1 - gamma^2)))).
    Rounds are the run's decisions, so a delayed observation is added with the weight of its arrival. n rounds of
    discounting at once are V <- gamma^n V + (1 - gamma^n) lambda I (and so on), so a repetition's statistics are
    discounted when it next learns, and a decision discounts them on the fly, through each arm's orthogonal
    reduction V = Q T Q^T kept until the arm learns (compiled: sim/kernels/moving.py)."""

    kernels: ClassVar[str] = "dlinucb"
    gamma: float = hyperparameter(0.999, Domain(0.0, 1.0, low_open=True, high_open=True,
                                                why="1 never forgets: that is LinUCB"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Discounted:
        return gram_state(Discounted, problem, rng, 0, self.lambda_reg)

    def beta(self, s: Discounted) -> float:
        from banditmap.sim.kernels import moving
        return float(moving.beta_dlinucb(self.params(), s.target.shape[-1], s.t))


@dataclass(kw_only=True)
class Windowed(Gram):
    arms: Array  # (R, W) the arm of each observation in the window, -1 for an empty slot
    xs: Array  # (R, W, d) its context
    rewards: Array  # (R, W) its reward
    cursor: Array  # (R,) the slot written next (the oldest observation)

    def kernel_state(self) -> tuple[Array, ...]:
        return (self.gram, NO_SQUARES, self.target, self.basis, self.inner, self.coef, self.since, self.cursor,
                self.arms, self.xs, self.rewards)


@register("sw-linucb")
@dataclass(frozen=True)
class SWLinUCB(MovingLinUCB[Windowed]):
    """SW-LinUCB (Cheung, Simchi-Levi & Zhu, AISTATS 2019), per arm: ridge regression on the last `window`
    observations of the repetition (an observation leaves when the window is full and a new one arrives), width
    sqrt(x^T V^-1 x), beta = sqrt(lambda) S + sigma sqrt(d ln((1 + window / lambda) / delta)); each arm's V^-1
    (made through its Cholesky factor) is kept until its window changes (compiled: sim/kernels/moving.py)."""

    kernels: ClassVar[str] = "swlinucb"
    window: int = hyperparameter(1000, whole(1, 100_000, "the window's observations are kept in memory"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Windowed:
        return gram_state(Windowed, problem, rng, min(self.window, problem.rounds), self.lambda_reg)

    def beta(self, s: Windowed) -> float:
        from banditmap.sim.kernels import moving
        return float(moving.beta_swlinucb(self.params(), s.target.shape[-1], s.t))
