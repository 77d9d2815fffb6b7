"""Conservative policies: explore only while a pessimistic estimate of the running reward stays above
(1 - alpha) of what the baseline action (arm 0, today's default) would have earned; otherwise play the baseline.
The baseline's own reward is learnt from its plays, as in the unknown-baseline variants of both papers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import CONFIDENCE_BOUNDS, SHARE, Array, argmax_random, hyperparameter, register
from banditmap.sim.policies.contextual import KernelRidge, RidgeKernel, ucb_bounds
from banditmap.sim.policies.mab import BOTH, ArmStats, CountingPolicy, around, untried_first
from banditmap.sim.problem import Problem


@register("conservative-ucb")
@dataclass(frozen=True)
class ConservativeUCB(CountingPolicy):
    """Conservative UCB (Wu, Shariff, Lattimore and Szepesvari 2016): the UCB1 arm J is played when
    sum_{i != 0} n_i L_i + L_J + (n_0 - (1 - alpha)(t + 1)) B_0 >= 0, with L lower confidence bounds and B_0 the
    baseline's upper bound while its coefficient is negative (its lower bound otherwise)."""

    offers: ClassVar[frozenset[str]] = BOTH
    alpha: float = hyperparameter(0.1, SHARE)

    def width(self, s: ArmStats) -> Array:
        width: Array = np.sqrt(2 * np.log(max(s.t, 1) + 1) / np.maximum(s.counts, 1))
        return width

    def bounds(self, s: ArmStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.width(s))

    def select(self, s: ArmStats, context: Array | None) -> Array:
        t = max(s.t, 1)
        width = self.width(s)
        tried = s.counts > 0
        upper = np.where(tried, s.means + width, np.inf)
        lower = np.where(tried, np.maximum(s.means - width, 0.0), 0.0)
        best = argmax_random(untried_first(s, upper), s.rng)
        rows = np.arange(s.R)
        others = (s.counts[:, 1:] * lower[:, 1:]).sum(axis=1)
        coefficient = s.counts[:, 0] - (1 - self.alpha) * (t + 1)
        baseline = np.where(coefficient < 0, upper[:, 0], lower[:, 0])
        slack = others + lower[rows, best] + coefficient * baseline
        safe = np.where(np.isfinite(slack), slack >= 0, False)
        return np.where((best == 0) | safe, best, 0)


@dataclass(kw_only=True)
class ConservativeRidge(KernelRidge):
    played: Array  # (R, K, d) sum of the contexts each arm was played in (a view of the scratch rows)
    seen: Array  # (R, d) sum of every context so far (a view of the scratch rows)


@register("conservative-linucb")
@dataclass(frozen=True)
class ConservativeLinUCB(RidgeKernel):
    """Conservative LinUCB (Kazerouni, Ghavamzadeh, Abbasi-Yadkori and Van Roy 2017) on per-arm ridge models:
    LinUCB's arm J is played when a lower bound of the reward earned so far plus J's lower bound now stays above
    (1 - alpha) x an upper bound of what the baseline arm would have earned on every context seen so far
    (compiled: kernels/linear.py's choose_conservative_linucb, its sums of contexts in the scratch rows)."""

    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    choose: ClassVar[str] = "choose_conservative_linucb"
    alpha: float = hyperparameter(0.1, SHARE)

    def bounds(self, state: KernelRidge, context: Array | None) -> tuple[Array, Array]:
        assert context is not None
        return ucb_bounds(state, context, 1.0)

    def start(self, problem: Problem) -> Array:
        """The sums of the contexts each arm was played in (K x d, arm by arm), then of every context (d)."""
        return np.zeros((problem.n_arms + 1) * problem.n_features)

    def init(self, problem: Problem, rng: np.random.Generator) -> ConservativeRidge:
        base = super().init(problem, rng)
        R, K, d = problem.reps, problem.n_arms, problem.n_features
        return ConservativeRidge(rng, R, K, base.k, base.horizon, inverse=base.inverse, target=base.target,
                                 theta=base.theta, draws=base.draws, scratch=base.scratch,
                                 played=base.scratch[:, :K * d].reshape(R, K, d), seen=base.scratch[:, K * d:])
