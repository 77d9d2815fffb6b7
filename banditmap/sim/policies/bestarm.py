"""Fixed-confidence best-arm identification by confidence bounds: LUCB."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import Array, Domain, argmax_random, hyperparameter, register, tie_broken
from banditmap.sim.policies.mab import BOTH, ArmStats, Counting, arm_stats, around
from banditmap.sim.problem import Problem

K1 = 5 / 4  # the constant in LUCB1's exploration rate


@dataclass(kw_only=True)
class Pairs(ArmStats):
    challenger: Array  # (R,) the arm to sample after the leader, -1 when the next decision starts a new pair
    stopped: Array  # (R,) bool: the stopping rule has fired; the repetition commits to `leader`
    leader: Array  # (R,) the arm named when the rule fired


@register("lucb")
@dataclass(frozen=True)
class LUCB(Counting[Pairs]):
    """LUCB1 (Kalyanakrishnan, Tewari, Auer & Stone, ICML 2012) for the single best arm (m = 1): after one sample
    of every arm, each round samples the empirical best arm h (the leader) and, among the others, the one with the
    highest upper bound l (the challenger); it stops once the leader's lower bound clears the challenger's upper
    bound less epsilon, L(h) > U(l) - epsilon, and names h. Bounds are Hoeffding's, mean +/- beta(u, t) with
    beta(u, t) = sqrt(ln(k1 K t^4 / delta) / (2u)) for an arm sampled u times in round t, k1 = 5/4.

    One decision here is one sample, so a round's pair takes two decisions: the leader, then the challenger. Ties
    (between leaders, challengers, arms not sampled yet) are broken at random afresh at each decision.
    After stopping it plays the arm it named until the run ends (a test is over; its traffic goes to the answer)."""

    offers: ClassVar[frozenset[str]] = BOTH
    delta: float = hyperparameter(0.05, Domain(0.0, 1.0, low_open=True, high_open=True))
    epsilon: float = hyperparameter(0.0, Domain(0.0, 1.0, why="rewards lie in [0, 1]"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Pairs:
        R = problem.reps
        return arm_stats(problem, rng, Pairs, challenger=np.full(R, -1, dtype=np.int64),
                         stopped=np.zeros(R, dtype=bool), leader=np.zeros(R, dtype=np.int64))

    def radius(self, s: ArmStats) -> Array:
        """beta(u, t) for every arm (R, K); t counts rounds, two samples each, from the first."""
        u = np.maximum(s.counts, 1)
        t = np.maximum(s.counts.sum(axis=1, keepdims=True) / 2, 1.0)
        # ln(k1 K t^4) - ln(delta), not ln(k1 K t^4 / delta): dividing overflows near delta = 0
        radius: Array = np.sqrt((np.log(K1 * s.K) + 4 * np.log(t) - math.log(self.delta)) / (2 * u))
        return radius

    def bounds(self, s: ArmStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.radius(s))

    def select(self, s: Pairs, context: Array | None) -> Array:
        rows = np.arange(s.R)
        lower, upper = self.bounds(s, context)
        leader = argmax_random(s.means, s.rng)
        others = tie_broken(upper, s.rng)
        others[rows, leader] = -np.inf
        challenger = np.argmax(others, axis=1)
        exploring = (s.counts == 0).any(axis=1)
        starting = (s.challenger < 0) & ~exploring & ~s.stopped  # the rule is checked as a round begins
        fires = starting & (lower[rows, leader] > upper[rows, challenger] - self.epsilon)
        s.leader[fires] = leader[fires]
        s.stopped |= fires
        starting &= ~fires
        choice = np.where(starting, leader, s.challenger)
        choice = np.where(exploring, argmax_random((s.counts == 0) * 1.0, s.rng), choice)
        choice = np.where(s.stopped, s.leader, choice)
        s.challenger = np.where(starting, challenger, -1)
        return choice

    def recommend(self, s: Pairs) -> Array:
        best: Array = np.where(s.stopped, s.leader, argmax_random(s.means, s.rng))
        return best
