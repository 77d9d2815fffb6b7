"""Conservative exploration around any base with confidence bounds: the base's choice is played only while a
pessimistic estimate of the reward earned stays above (1 - alpha) of what the default action (arm 0, today's
policy in the simulator) would have earned (Wu, Shariff, Lattimore and Szepesvari 2016; Kazerouni et al. 2017)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.adapters.base import Inner, Wrapped, Wrapper, register_adapter
from banditmap.sim.policies.base import ARM_STATISTICS, CONFIDENCE_BOUNDS, SHARE, Array, hyperparameter
from banditmap.sim.problem import DEFAULT_ARM, Problem


@dataclass(kw_only=True)
class Budget(Wrapped[Inner]):
    plays: Array  # (R, K) decisions actually played, per arm
    margin: Array  # (R,) pessimistic margin over the budget (with contexts)


@register_adapter("conservative")
@dataclass(frozen=True)
class Conservative(Wrapper[Budget[Inner], Inner]):
    """Without contexts, Conservative UCB's check (Wu et al. 2016, unknown default reward): the base's choice J is
    played when sum_{i != 0} n_i L_i + L_J + (n_0 - (1 - alpha)(t + 1)) B_0 >= 0, with n_i the plays so far, L the
    base's lower bounds (at least 0: rewards are non-negative) and B_0 the default's upper bound while its
    coefficient is negative, its lower bound otherwise. With contexts, the same budget is kept over the bounds each
    play had when it was made (a margin that grows by L_J - (1 - alpha) U_0 for the base's plays and by alpha L_0
    for the default's): valid for any base with confidence bounds, looser than Kazerouni et al.'s check over the
    linear model's confidence set. With contexts the check is kernels/wrappers.py's conservative_check, which the
    compiled race composes around LinUCB, D-LinUCB and SW-LinUCB's bounds kernels (compiled.linear_form)."""

    needs: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS})
    keeps: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS})
    alpha: float = hyperparameter(0.1, SHARE)

    @classmethod
    def lift(cls, base_kinds: frozenset[str]) -> frozenset[str]:
        return base_kinds & frozenset({"arms", "contextual"})

    def init(self, problem: Problem, rng: np.random.Generator) -> Budget[Inner]:
        R = problem.reps
        return Budget(rng, R, problem.n_arms, problem.slate_size, problem.rounds, inner=self.base.init(problem, rng),
                      plays=np.zeros((R, problem.n_arms)), margin=np.zeros(R))

    def select(self, s: Budget[Inner], context: Array | None) -> Array:
        lower, upper = self.bounds(s, context)  # the bounds of this decision, asked before the base counts it
        wanted = super().select(s, context)
        rows = np.arange(s.R)
        if context is not None:  # compiled: kernels/wrappers.py's conservative_check, which the race calls too
            from banditmap.sim.kernels.wrappers import conservative_steps
            choice: Array = conservative_steps(float(self.alpha), s.margin, np.asarray(lower, dtype=np.float64),
                                               np.asarray(upper, dtype=np.float64),
                                               np.asarray(wanted, dtype=np.int64))
            s.plays[rows, choice] += 1
            return choice
        lower = np.where(np.isfinite(lower), np.maximum(lower, 0.0), 0.0)
        t = s.plays.sum(axis=1)
        others = (np.delete(s.plays, DEFAULT_ARM, axis=1) * np.delete(lower, DEFAULT_ARM, axis=1)).sum(axis=1)
        coefficient = s.plays[:, DEFAULT_ARM] - (1 - self.alpha) * (t + 1)
        default = np.where(coefficient < 0, upper[:, DEFAULT_ARM], lower[:, DEFAULT_ARM])
        with np.errstate(invalid="ignore"):  # an unknown default: -inf x ... is refused below
            slack = others + lower[rows, wanted] + coefficient * default
        safe = np.isfinite(slack) & (slack >= 0)
        choice = np.where((wanted == DEFAULT_ARM) | safe, wanted, DEFAULT_ARM)
        s.plays[rows, choice] += 1
        return choice
