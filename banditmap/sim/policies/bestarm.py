"""Fixed-confidence best-arm identification by confidence bounds: LUCB and successive elimination, their
decisions compiled kernels (sim/kernels/policies.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import Array, Domain, argmax_random, hyperparameter, register
from banditmap.sim.policies.mab import BOTH, ArmStats, Kernel, KernelStats, around
from banditmap.sim.problem import Problem

K1 = 5 / 4  # the constant in LUCB1's exploration rate


@register("lucb")
@dataclass(frozen=True)
class LUCB(Kernel):
    """LUCB1 (Kalyanakrishnan, Tewari, Auer & Stone, ICML 2012) for the single best arm (m = 1): after one sample
    of every arm, each round samples the empirical best arm h (the leader) and, among the others, the one with the
    highest upper bound l (the challenger); it stops once the leader's lower bound clears the challenger's upper
    bound less epsilon, L(h) > U(l) - epsilon, and names h. Bounds are Hoeffding's, mean +/- beta(u, t) with
    beta(u, t) = sqrt(ln(k1 K t^4 / delta) / (2u)) for an arm sampled u times in round t, k1 = 5/4.

    One decision here is one sample, so a round's pair takes two decisions: the leader, then the challenger. Ties
    (between leaders, challengers, arms not sampled yet) are broken at random afresh at each decision.
    After stopping it plays the arm it named until the run ends (a test is over; its traffic goes to the answer).
    Its kernel is in sim/kernels/policies.py; the pair under way and the stopping state are in its scratch row."""

    offers: ClassVar[frozenset[str]] = BOTH
    choose: ClassVar[str] = "choose_lucb"
    delta: float = hyperparameter(0.05, Domain(0.0, 1.0, low_open=True, high_open=True))
    epsilon: float = hyperparameter(0.0, Domain(0.0, 1.0, why="rewards lie in [0, 1]"))

    def width(self, problem: Problem) -> int:
        """The note, then the challenger, whether the test stopped, and the arm it named."""
        return problem.n_arms + 5

    def start(self, problem: Problem) -> Array:
        row = super().start(problem)
        row[problem.n_arms + 2] = -1.0  # no pair under way
        return row

    def radius(self, s: ArmStats) -> Array:
        """beta(u, t) for every arm (R, K); t counts rounds, two samples each, from the first."""
        u = np.maximum(s.counts, 1)
        t = np.maximum(s.counts.sum(axis=1, keepdims=True) / 2, 1.0)
        # ln(k1 K t^4) - ln(delta), not ln(k1 K t^4 / delta): dividing overflows near delta = 0
        radius: Array = np.sqrt((np.log(K1 * s.K) + 4 * np.log(t) - math.log(self.delta)) / (2 * u))
        return radius

    def bounds(self, s: KernelStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.radius(s))

    def recommend(self, s: KernelStats) -> Array:
        """The arm named when the rule fired, else a best mean (ties at random)."""
        stopped = s.scratch[:, s.K + 3] > 0
        best: Array = np.where(stopped, s.scratch[:, s.K + 4].astype(np.int64), argmax_random(s.means, s.rng))
        return best


@register("successive-elimination")
@dataclass(frozen=True)
class SuccessiveElimination(Kernel):
    """Round-robin over the surviving arms; an arm goes when its upper bound falls below the best lower bound
    (Even-Dar, Mannor & Mansour 2002), bounds mean +/- sqrt(ln(4 K n^2 / delta) / (2n)). Its kernels are in
    sim/kernels/policies.py; which arms survive is in its scratch row."""

    offers: ClassVar[frozenset[str]] = BOTH
    choose: ClassVar[str] = "choose_successive_elimination"
    learn: ClassVar[str] = "learn_elimination"
    delta: float = hyperparameter(0.05, Domain(0.0, 1.0, low_open=True, high_open=True))

    def width(self, problem: Problem) -> int:
        """The note, then one column per arm: 1 while it survives."""
        return 2 * problem.n_arms + 2

    def start(self, problem: Problem) -> Array:
        row = super().start(problem)
        row[problem.n_arms + 2:] = 1.0
        return row

    def radius(self, s: ArmStats) -> Array:
        n = np.maximum(s.counts, 1)
        # log(4 K n^2) - log(delta), not log(4 K n^2 / delta): dividing overflows near delta = 0
        radius: Array = np.sqrt((np.log(4 * s.K * n ** 2) - np.log(self.delta)) / (2 * n))
        return radius

    def bounds(self, s: KernelStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.radius(s))

    def recommend(self, s: KernelStats) -> Array:
        """A best mean among the surviving arms (ties at random)."""
        return argmax_random(np.where(s.scratch[:, s.K + 2:] > 0, s.means, -np.inf), s.rng)
