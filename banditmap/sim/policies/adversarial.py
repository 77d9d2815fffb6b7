"""Exponential weights with guarantees that hold with high probability, the kind reductions that feed their base
constructed rewards rely on: EXP3.P (Auer, Cesa-Bianchi, Freund and Schapire 2002) and EXP3-IX (Neu 2015), their
kernels in sim/kernels/policies.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import ADVERSARIAL, WIDEST, Array, Domain, argmax_random, hyperparameter, register
from banditmap.sim.policies.mab import Kernel, KernelStats
from banditmap.sim.problem import Problem

TUNED = "0 sets it from K and the horizon as the analysis does"
WEIGHT_BLOCK = 8  # arms per block of EXP3-IX's weights (sim/kernels/policies.py's BLOCK)


@register("exp3-p")
@dataclass(frozen=True)
class EXP3P(Kernel):
    """EXP3.P: p = (1 - gamma) w / sum w + gamma / K; after each play every arm's weight grows by
    exp(gamma / (3K) (x_hat + alpha / (p sqrt(K T)))), x_hat the importance-weighted reward of the arm played,
    0 for the others. The theorem's values: alpha = 2 sqrt(ln(K T / delta)), gamma = min(3/5,
    2 sqrt(3 K ln K / (5 T))). Its kernels (sim/kernels/policies.py) keep the log weights in the scratch row, and
    every arm's probability at the decision travels with its feedback (a note of K columns)."""

    offers: ClassVar[frozenset[str]] = frozenset({ADVERSARIAL})
    choose: ClassVar[str] = "choose_exp3_p"
    learn: ClassVar[str] = "learn_exp3_p"
    gamma: float = hyperparameter(0.0, Domain(0.0, 1.0, why=TUNED))
    alpha: float = hyperparameter(0.0, Domain(0.0, WIDEST, why=TUNED))
    delta: float = hyperparameter(0.05, Domain(0.0, 1.0, low_open=True, high_open=True))

    def tuned(self, K: int, T: int) -> tuple[float, float]:
        gamma = self.gamma or min(0.6, 2 * math.sqrt(3 * K * math.log(K) / (5 * T)))
        alpha = self.alpha or 2 * math.sqrt(math.log(K * T) - math.log(self.delta))  # K T / delta overflows near 0
        return gamma, alpha

    def width(self, problem: Problem) -> int:
        """The note (every arm's probability), gamma, gamma / (3K) and alpha / sqrt(K T), then the K log weights."""
        return 3 * problem.n_arms + 4

    def start(self, problem: Problem) -> Array:
        """The tuned constants, and the paper's first log weight alpha gamma / 3 sqrt(T / K) for every arm (only
        differences matter, but it sets the rounding); -K in the note's first column asks for a note of K columns."""
        K, T = problem.n_arms, max(problem.rounds, 1)
        gamma, alpha = self.tuned(K, T)
        row = np.zeros(self.width(problem))
        row[K + 1] = -K
        row[2 * K + 1:2 * K + 4] = gamma, gamma / (3 * K), alpha / math.sqrt(K * T)
        row[2 * K + 4:] = alpha * gamma / 3 * math.sqrt(T / K)
        return row

    def recommend(self, state: KernelStats) -> Array:
        return argmax_random(state.scratch[:, 2 * state.K + 4:], state.rng)


@register("exp3-ix")
@dataclass(frozen=True)
class EXP3IX(Kernel):
    """EXP3-IX: arms drawn from the normalised weights exp(-eta L), L the cumulative loss estimates; the loss
    1 - r of the arm played enters as (1 - r) / (p + gamma), an optimistic bias (implicit exploration) that keeps
    the estimates' variance in check without mixing in uniform play. Neu's tuning: eta = sqrt(2 ln K / (K T)),
    gamma = eta / 2. Its kernels (sim/kernels/policies.py) keep the log weights in the scratch row, and the
    probability of the arm played travels with its feedback."""

    offers: ClassVar[frozenset[str]] = frozenset({ADVERSARIAL})
    choose: ClassVar[str] = "choose_exp3_ix"
    learn: ClassVar[str] = "learn_exp3_ix"
    eta: float = hyperparameter(0.0, Domain(0.0, WIDEST, why=TUNED))
    gamma: float = hyperparameter(0.0, Domain(0.0, WIDEST, why=TUNED))

    def width(self, problem: Problem) -> int:
        """The note, eta and gamma as tuned, then the K log weights and the running sums of the weights over blocks
        of WEIGHT_BLOCK arms."""
        return 2 * problem.n_arms + 4 + -(-problem.n_arms // WEIGHT_BLOCK)

    def recommend(self, state: KernelStats) -> Array:
        return argmax_random(state.scratch[:, state.K + 4:2 * state.K + 4], state.rng)
