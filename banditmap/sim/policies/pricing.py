"""Policies for a continuous price: a grid of candidate prices explored with UCB, and the random baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.environments import Pricing
from banditmap.sim.policies.base import Array, Feedback, Policy, State, register
from banditmap.sim.policies.mab import ArmStats, add_observations
from banditmap.sim.problem import Problem

PRICING = frozenset({"pricing"})


@dataclass
class Grid(ArmStats):
    prices: Array = None  # type: ignore[assignment]


@register("discretized-ucb-pricing")
@dataclass(frozen=True)
class DiscretisedUCB(Policy):
    """UCB1 on the revenue of `grid` evenly spaced prices (Kleinberg and Leighton 2003)."""

    kinds: ClassVar[frozenset[str]] = PRICING
    grid: int = 20
    alpha: float = 2.0

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        R, K = problem.reps, self.grid
        return Grid(rng, R, K, 1, problem.rounds, counts=np.zeros((R, K)), sums=np.zeros((R, K)),
                    means=np.zeros((R, K)), jitter=rng.random((R, K)) * 1e-9,
                    prices=np.linspace(Pricing.LOW, Pricing.HIGH, K))

    def select(self, state: State, context: Array | None) -> Array:
        s: Grid = state  # type: ignore[assignment]
        t = np.maximum(s.counts.sum(axis=1, keepdims=True), 1.0)
        bonus = np.sqrt(self.alpha * np.log(t) / np.maximum(s.counts, 1))
        index = np.argmax(np.where(s.counts == 0, np.inf, s.means + bonus) + s.jitter, axis=1)
        s.aux = index  # the grid cell, returned with the feedback
        return s.prices[index]

    def update(self, state: State, feedback: Feedback) -> None:
        assert feedback.aux is not None
        add_observations(state, Feedback(feedback.reps, feedback.aux, feedback.observed, None,
                                         unique=feedback.unique))  # type: ignore[arg-type]

    def recommend(self, state: State) -> Array:
        s: Grid = state  # type: ignore[assignment]
        return s.prices[np.argmax(s.means + s.jitter, axis=1)]


@register("uniform-random-price")
@dataclass(frozen=True)
class UniformPrice(Policy):
    """The baseline for pricing: a uniformly random price in the allowed range."""

    kinds: ClassVar[frozenset[str]] = PRICING

    def select(self, state: State, context: Array | None) -> Array:
        return Pricing.LOW + (Pricing.HIGH - Pricing.LOW) * state.rng.random(state.R)

    def update(self, state: State, feedback: Feedback) -> None:
        return None
