"""Conservative policies: explore only while a pessimistic estimate of the running reward stays above
(1 - alpha) of what the baseline action (arm 0, today's default) would have earned; otherwise play the baseline.
The baseline's own reward is learnt from its plays, as in the unknown-baseline variants of both papers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import CONFIDENCE_BOUNDS, SHARE, Array, argmax_random, hyperparameter, register
from banditmap.sim.policies.contextual import LinearModel, Ridge, mean_and_width, ridge_state
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
class ConservativeRidge(Ridge):
    played: Array  # (R, K, d) sum of the contexts each arm was played in
    seen: Array  # (R, d) sum of every context so far


@register("conservative-linucb")
@dataclass(frozen=True)
class ConservativeLinUCB(LinearModel[ConservativeRidge]):
    """Conservative LinUCB (Kazerouni, Ghavamzadeh, Abbasi-Yadkori and Van Roy 2017) on per-arm ridge models:
    LinUCB's arm J is played when a lower bound of the reward earned so far plus J's lower bound now stays above
    (1 - alpha) x an upper bound of what the baseline arm would have earned on every context seen so far."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    offers: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    alpha: float = hyperparameter(0.1, SHARE)

    def bounds(self, state: ConservativeRidge, context: Array | None) -> tuple[Array, Array]:
        assert context is not None
        mean, width = mean_and_width(state, context)
        return mean - width, mean + width

    def init(self, problem: Problem, rng: np.random.Generator) -> ConservativeRidge:
        base = ridge_state(problem, rng, self.l2)
        R, K, d = problem.reps, problem.n_arms, problem.n_features
        return ConservativeRidge(rng, R, K, problem.slate_size, problem.rounds, inverse=base.inverse,
                                 target=base.target, theta=base.theta, played=np.zeros((R, K, d)),
                                 seen=np.zeros((R, d)))

    def select(self, s: ConservativeRidge, context: Array | None) -> Array:
        assert context is not None
        mean, width = mean_and_width(s, context)
        best = argmax_random(mean + width, s.rng)
        rows = np.arange(s.R)
        s.seen += context
        # lower bound of what the non-baseline plays earned: per arm, (sum x)^T theta - ||sum x||_{A^-1}
        z = s.played[:, 1:]
        earned = (np.einsum("rki,rki->rk", z, s.theta[:, 1:])
                  - np.sqrt(np.maximum(np.einsum("rki,rkij,rkj->rk", z, s.inverse[:, 1:], z), 0.0))).sum(axis=1)
        # the baseline's plays count on both sides: c = (its contexts) - (1 - alpha)(every context, this one too)
        c = s.played[:, 0] - (1 - self.alpha) * s.seen
        spread = np.sqrt(np.maximum(np.einsum("ri,rij,rj->r", c, s.inverse[:, 0], c), 0.0))
        baseline = np.einsum("ri,ri->r", c, s.theta[:, 0]) - spread  # pessimistic for the constraint
        slack = earned + (mean - width)[rows, best] + baseline
        choice = np.where((best == 0) | (slack >= 0), best, 0)
        s.played[rows, choice] += context
        return choice
