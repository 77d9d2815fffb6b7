"""Linear contextual policies with one ridge regression per arm (disjoint models)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (CONFIDENCE_BOUNDS, REGRESSION_ORACLE, SCALE, SHARE, WIDTH, Array, Feedback,
                                         Policy, State, argmax_random, hyperparameter, random_arms,
                                         register)
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


RS = TypeVar("RS", bound=Ridge)
NO_STREAMS = np.zeros(0, dtype=np.uint64)  # what the ridge update kernel is given when it draws nothing


def ridge_state(problem: Problem, rng: np.random.Generator, l2: float) -> Ridge:
    R, K, d = problem.reps, problem.n_arms, problem.n_features
    inverse = np.broadcast_to(np.eye(d) / l2, (R, K, d, d)).copy()
    return Ridge(rng, R, K, problem.slate_size, problem.rounds, inverse=inverse, target=np.zeros((R, K, d)),
                 theta=np.zeros((R, K, d)))


def mean_and_width(s: Ridge, x: Array) -> tuple[Array, Array]:
    """Predicted score of every arm and the width sqrt(x^T A^-1 x) of its confidence ellipsoid."""
    mean = np.einsum("rki,ri->rk", s.theta, x)
    ax = np.matmul(s.inverse, x[:, None, :, None])[..., 0]  # (R, K, d), batched matrix-vector products
    width = np.sqrt(np.maximum(np.einsum("rki,ri->rk", ax, x), 0.0))
    return mean, width


def rank_one_update(inverse: Array, x: Array, weight: Array | float = 1.0) -> Array:
    """(A + w x x^T)^-1 from A^-1 for a batch (n, d, d) of matrices, by the Sherman-Morrison formula."""
    ax = np.einsum("nij,nj->ni", inverse, x)
    shrink = weight / (1.0 + weight * np.einsum("ni,ni->n", x, ax))
    updated: Array = inverse - np.einsum("ni,nj->nij", ax, ax) * shrink[:, None, None]
    return updated


def sigmoid(z: Array) -> Array:
    """1 / (1 + exp(-z)), without overflow where a wide prior lets |z| grow past 700 (exact below 500)."""
    p: Array = 1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))
    return p


def greedy(state: Ridge, context: Array | None) -> Array:
    """The arm with the best predicted reward for the context, no exploration."""
    assert context is not None
    return argmax_random(np.einsum("rki,ri->rk", state.theta, context), state.rng)


@dataclass(frozen=True)
class LinearModel(Policy[RS]):
    """Per-arm ridge regressions (in a state of type RS), regularised by l2, played greedily when exploiting."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    l2: float = hyperparameter(1.0, SCALE)

    def exploit(self, state: RS, context: Array | None) -> Array:
        return greedy(state, context)

    def update(self, s: RS, feedback: Feedback) -> None:
        """One Sherman-Morrison step per observation, in the feedback's order (compiled: sim/kernels/linear.py)."""
        assert feedback.contexts is not None
        from banditmap.sim.kernels import linear
        _, learn = linear.make_steps("choose_linucb", "learn_ridge")
        learn(np.zeros(0), s.inverse, s.target, s.theta, NO_STREAMS, feedback.reps.astype(np.int64),
              np.asarray(feedback.actions, dtype=np.int64), np.asarray(feedback.contexts, dtype=np.float64),
              np.asarray(feedback.observed, dtype=np.float64))


@dataclass(frozen=True)
class LinearKernel(LinearModel[KernelRidge]):
    """A linear policy whose decisions are compiled kernels; they read l2 then the policy's own hyperparameters."""

    choose: ClassVar[str] = "choose_linucb"

    def init(self, problem: Problem, rng: np.random.Generator) -> KernelRidge:
        draws = states_from(rng, problem.reps)
        base = ridge_state(problem, rng, self.l2)
        return KernelRidge(rng, base.R, base.K, base.k, base.horizon, inverse=base.inverse, target=base.target,
                           theta=base.theta, draws=draws)

    def select(self, s: KernelRidge, context: Array | None) -> Array:
        assert context is not None
        from banditmap.sim.kernels import linear
        choose, _ = linear.make_steps(self.choose, "learn_ridge")
        actions: Array = choose(self.params(), s.inverse, s.target, s.theta, s.draws,
                                np.asarray(context, dtype=np.float64))
        return actions


@dataclass(frozen=True)
class LinearPolicy(LinearModel[Ridge]):
    def init(self, problem: Problem, rng: np.random.Generator) -> Ridge:
        return ridge_state(problem, rng, self.l2)


@register("linucb")
@dataclass(frozen=True)
class LinUCB(LinearKernel):
    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    alpha: float = hyperparameter(1.0, WIDTH)

    def bounds(self, state: KernelRidge, context: Array | None) -> tuple[Array, Array]:
        assert context is not None
        mean, width = mean_and_width(state, context)
        return mean - self.alpha * width, mean + self.alpha * width


@register("lin-ts")
@dataclass(frozen=True)
class LinearThompson(LinearKernel):
    """Samples each arm's predicted reward x^T theta from N(x^T theta_hat, v^2 x^T A^-1 x), which is exactly the
    distribution of x^T theta for theta drawn from the arm's Gaussian posterior."""

    choose: ClassVar[str] = "choose_lin_ts"
    v: float = hyperparameter(1.0, WIDTH)


@register("eps-greedy-oracle")
@dataclass(frozen=True)
class EpsilonGreedyOracle(LinearPolicy):
    """The greedy action of a ridge-regression reward model, or with probability epsilon a random action: the
    simplest regression-oracle method (the oracle here is per-arm ridge regression)."""

    offers: ClassVar[frozenset[str]] = frozenset({REGRESSION_ORACLE})
    epsilon: float = hyperparameter(0.05, SHARE)

    def select(self, s: Ridge, context: Array | None) -> Array:
        assert context is not None
        explore = s.rng.random(s.R) < self.epsilon
        return np.where(explore, random_arms(s.rng, s.K, s.R), greedy(s, context))


@register("logistic-ts")
@dataclass(frozen=True)
class LogisticThompson(Policy[Ridge]):
    """Thompson sampling on per-arm logistic regressions with a Laplace (Gaussian) posterior: the MAP estimate
    is tracked by one online Newton step per observation, theta += H^-1 x (r - sigmoid(x^T theta)), with the
    Hessian H = I / prior_var + sum p (1 - p) x x^T kept inverted by rank-one updates. Each decision samples
    x^T theta from the posterior, its spread inflated by `scale` (Kveton et al. 2020 study that inflation)."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    prior_var: float = hyperparameter(1.0, SCALE)
    scale: float = hyperparameter(1.0, WIDTH)

    def init(self, problem: Problem, rng: np.random.Generator) -> Ridge:
        return ridge_state(problem, rng, 1.0 / self.prior_var)

    def exploit(self, state: Ridge, context: Array | None) -> Array:
        return greedy(state, context)

    def select(self, state: Ridge, context: Array | None) -> Array:
        assert context is not None
        mean, width = mean_and_width(state, context)
        choice: Array = np.argmax(mean + self.scale * width * state.rng.standard_normal(mean.shape), axis=1)
        return choice

    def update(self, s: Ridge, feedback: Feedback) -> None:
        assert feedback.contexts is not None
        rewards = np.clip(feedback.observed, 0.0, 1.0)
        for layer in feedback.layers():
            reps, arms = feedback.reps[layer], feedback.actions[layer]
            x, r = feedback.contexts[layer], rewards[layer]
            theta = s.theta[reps, arms]
            p = sigmoid(np.einsum("ni,ni->n", theta, x))
            inv = rank_one_update(s.inverse[reps, arms], x, np.maximum(p * (1 - p), 1e-6))
            s.inverse[reps, arms] = inv
            s.theta[reps, arms] = theta + np.einsum("nij,nj->ni", inv, x) * (r - p)[:, None]
