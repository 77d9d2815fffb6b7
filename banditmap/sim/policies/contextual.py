"""Linear contextual policies with one ridge regression per arm (disjoint models)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (CONFIDENCE_BOUNDS, REGRESSION_ORACLE, SCALE, SHARE, WIDTH, Array, Feedback,
                                         Policy, State, argmax_random, hyperparameter, register)
from banditmap.sim.problem import Problem


@dataclass(kw_only=True)
class Ridge(State):
    inverse: Array  # (R, K, d, d), the inverse of l2*I + sum x x^T
    target: Array  # (R, K, d), sum of reward * x
    theta: Array  # (R, K, d), the ridge estimate inverse @ target


@dataclass(kw_only=True)
class KernelRidge(Ridge):
    """A ridge state whose policy decides with compiled kernels (sim/kernels/linear.py)."""

    draws: Array  # (R,) uint64: one random stream per repetition
    scratch: Array = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))  # (R, W) what else it keeps


NO_STREAMS = np.zeros(0, dtype=np.uint64)  # what the ridge update kernel is given when it draws nothing


def ridge_state(problem: Problem, rng: np.random.Generator, l2: float) -> Ridge:
    R, K, d = problem.reps, problem.n_arms, problem.n_features
    inverse = np.broadcast_to(np.eye(d) / l2, (R, K, d, d)).copy()
    return Ridge(rng, R, K, problem.slate_size, problem.rounds, inverse=inverse, target=np.zeros((R, K, d)),
                 theta=np.zeros((R, K, d)))


def ucb_bounds(s: Ridge, x: Array, scale: float) -> tuple[Array, Array]:
    """Every arm's x^T theta -+ scale sqrt(x^T A^-1 x) (R, K) each (compiled: kernels/linear.py's ucb_bounds, the
    upper bound the score LinUCB's kernel maximises)."""
    from banditmap.sim.kernels import linear
    bounds: tuple[Array, Array] = linear.step_bounds(float(scale), s.inverse, s.theta,
                                                     np.asarray(x, dtype=np.float64))
    return bounds


def greedy(state: Ridge, context: Array | None) -> Array:
    """The arm with the best predicted reward for the context, no exploration."""
    assert context is not None
    return argmax_random(np.einsum("rki,ri->rk", state.theta, context), state.rng)


@dataclass(frozen=True)
class LinearKernel(Policy[KernelRidge]):
    """A policy on per-arm regressions (inverse, target, theta) whose decisions and learning are compiled kernels
    (sim/kernels/linear.py), named here; they read the policy's hyperparameters in their declared order."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    choose: ClassVar[str] = "choose_linucb"
    learn: ClassVar[str] = "learn_ridge"

    def ridge(self) -> float:
        """The regularisation of every arm's regression before any observation: its inverse starts at I / ridge."""
        raise NotImplementedError

    def start(self, problem: Problem) -> Array:
        """Its scratch row before the first round (what it keeps besides the regressions): none by default."""
        return np.zeros(0)

    def init(self, problem: Problem, rng: np.random.Generator) -> KernelRidge:
        draws = states_from(rng, problem.reps)
        base = ridge_state(problem, rng, self.ridge())
        return KernelRidge(rng, base.R, base.K, base.k, base.horizon, inverse=base.inverse, target=base.target,
                           theta=base.theta, draws=draws, scratch=np.tile(self.start(problem), (problem.reps, 1)))

    def exploit(self, state: KernelRidge, context: Array | None) -> Array:
        return greedy(state, context)

    def select(self, s: KernelRidge, context: Array | None) -> Array:
        assert context is not None
        from banditmap.sim.kernels import linear
        choose, _ = linear.make_steps(self.choose, self.learn)
        actions: Array = choose(self.params(), s.inverse, s.target, s.theta, s.scratch, s.draws,
                                np.asarray(context, dtype=np.float64))
        return actions

    def update(self, s: KernelRidge, feedback: Feedback) -> None:
        """The learn kernel on each observation, in the feedback's order."""
        assert feedback.contexts is not None
        from banditmap.sim.kernels import linear
        _, learn = linear.make_steps(self.choose, self.learn)
        learn(self.params(), s.inverse, s.target, s.theta, s.scratch, s.draws, feedback.reps.astype(np.int64),
              np.asarray(feedback.actions, dtype=np.int64), np.asarray(feedback.contexts, dtype=np.float64),
              np.asarray(feedback.observed, dtype=np.float64))


@dataclass(frozen=True)
class RidgeKernel(LinearKernel):
    """A linear kernel policy on ridge regressions regularised by l2 (its first hyperparameter)."""

    l2: float = hyperparameter(1.0, SCALE)

    def ridge(self) -> float:
        return self.l2


@register("linucb")
@dataclass(frozen=True)
class LinUCB(RidgeKernel):
    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    alpha: float = hyperparameter(1.0, WIDTH)

    def bounds(self, state: KernelRidge, context: Array | None) -> tuple[Array, Array]:
        assert context is not None
        return ucb_bounds(state, context, self.alpha)


@register("lin-ts")
@dataclass(frozen=True)
class LinearThompson(RidgeKernel):
    """Samples each arm's predicted reward x^T theta from N(x^T theta_hat, v^2 x^T A^-1 x), which is exactly the
    distribution of x^T theta for theta drawn from the arm's Gaussian posterior."""

    choose: ClassVar[str] = "choose_lin_ts"
    v: float = hyperparameter(1.0, WIDTH)


@register("eps-greedy-oracle")
@dataclass(frozen=True)
class EpsilonGreedyOracle(RidgeKernel):
    """The greedy action of a ridge-regression reward model, or with probability epsilon a random action: the
    simplest regression-oracle method (the oracle here is per-arm ridge regression)."""

    offers: ClassVar[frozenset[str]] = frozenset({REGRESSION_ORACLE})
    choose: ClassVar[str] = "choose_eps_greedy"
    epsilon: float = hyperparameter(0.05, SHARE)


@register("logistic-ts")
@dataclass(frozen=True)
class LogisticThompson(LinearKernel):
    """Thompson sampling on per-arm logistic regressions with a Laplace (Gaussian) posterior: the MAP estimate
    is tracked by one online Newton step per observation, theta += H^-1 x (r - sigmoid(x^T theta)), with the
    Hessian H = I / prior_var + sum p (1 - p) x x^T kept inverted by rank-one updates. Each decision samples
    x^T theta from the posterior, its spread inflated by `scale` (Kveton et al. 2020 study that inflation): linear
    Thompson sampling's draw on the logistic regression (kernels linear.choose_lin_ts, linear.learn_logistic)."""

    choose: ClassVar[str] = "choose_lin_ts"
    learn: ClassVar[str] = "learn_logistic"
    prior_var: float = hyperparameter(1.0, SCALE)
    scale: float = hyperparameter(1.0, WIDTH)

    def ridge(self) -> float:
        return 1.0 / self.prior_var
