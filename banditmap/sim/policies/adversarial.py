"""Exponential weights with guarantees that hold with high probability, the kind reductions that feed their base
constructed rewards rely on: EXP3.P (Auer, Cesa-Bianchi, Freund and Schapire 2002) and EXP3-IX (Neu 2015, its
kernels in sim/kernels/policies.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import (ADVERSARIAL, WIDEST, Array, Domain, Feedback, Policy, State, argmax_random,
                                         hyperparameter, register)
from banditmap.sim.policies.mab import ARMS, Kernel, KernelStats
from banditmap.sim.problem import Problem

TUNED = "0 sets it from K and the horizon as the analysis does"
WEIGHT_BLOCK = 8  # arms per block of EXP3-IX's weights (sim/kernels/policies.py's BLOCK)


@dataclass(kw_only=True)
class Weights(State):
    log_w: Array  # (R, K) log weights, up to a constant per repetition
    probs: Array  # (R, K) the distribution of the last decision


def draw(s: Weights, probs: Array) -> Array:
    """One arm per repetition from the rows of `probs` (R, K)."""
    cumulative = np.cumsum(probs, axis=1)
    pick = s.rng.random((s.R, 1)) * cumulative[:, -1:]
    draw: Array = np.minimum((cumulative < pick).sum(axis=1), s.K - 1)
    return draw


@register("exp3-p")
@dataclass(frozen=True)
class EXP3P(Policy[Weights]):
    """EXP3.P: p = (1 - gamma) w / sum w + gamma / K; after each play every arm's weight grows by
    exp(gamma / (3K) (x_hat + alpha / (p sqrt(K T)))), x_hat the importance-weighted reward of the arm played,
    0 for the others. The theorem's values: alpha = 2 sqrt(ln(K T / delta)), gamma = min(3/5,
    2 sqrt(3 K ln K / (5 T))). Every arm's probability at the decision travels with its feedback."""

    kinds: ClassVar[frozenset[str]] = ARMS
    offers: ClassVar[frozenset[str]] = frozenset({ADVERSARIAL})
    gamma: float = hyperparameter(0.0, Domain(0.0, 1.0, why=TUNED))
    alpha: float = hyperparameter(0.0, Domain(0.0, WIDEST, why=TUNED))
    delta: float = hyperparameter(0.05, Domain(0.0, 1.0, low_open=True, high_open=True))

    def tuned(self, K: int, T: int) -> tuple[float, float]:
        gamma = self.gamma or min(0.6, 2 * math.sqrt(3 * K * math.log(K) / (5 * T)))
        alpha = self.alpha or 2 * math.sqrt(math.log(K * T) - math.log(self.delta))  # K T / delta overflows near 0
        return gamma, alpha

    def init(self, problem: Problem, rng: np.random.Generator) -> Weights:
        R, K, T = problem.reps, problem.n_arms, max(problem.rounds, 1)
        gamma, alpha = self.tuned(K, T)
        start = alpha * gamma / 3 * math.sqrt(T / K)  # the same for every arm: only differences matter
        return Weights(rng, R, K, problem.slate_size, problem.rounds, log_w=np.full((R, K), start),
                       probs=np.full((R, K), 1.0 / K))

    def select(self, s: Weights, context: Array | None) -> Array:
        gamma, _ = self.tuned(s.K, max(s.horizon, 1))
        w = np.exp(s.log_w - s.log_w.max(axis=1, keepdims=True))
        s.probs = (1 - gamma) * w / w.sum(axis=1, keepdims=True) + gamma / s.K
        s.aux = s.probs.copy()  # (R, K): the bonus of every arm needs its probability at the decision
        return draw(s, s.probs)

    def update(self, s: Weights, feedback: Feedback) -> None:
        assert feedback.aux is not None
        gamma, alpha = self.tuned(s.K, max(s.horizon, 1))
        probs = feedback.aux  # (N, K)
        rows = np.arange(len(feedback.reps))
        estimate = np.zeros_like(probs)
        estimate[rows, feedback.actions] = np.clip(feedback.observed, 0.0, 1.0) / probs[rows, feedback.actions]
        step = gamma / (3 * s.K) * (estimate + alpha / (probs * math.sqrt(s.K * max(s.horizon, 1))))
        np.add.at(s.log_w, feedback.reps, step)

    def recommend(self, state: Weights) -> Array:
        return argmax_random(state.log_w, state.rng)


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
