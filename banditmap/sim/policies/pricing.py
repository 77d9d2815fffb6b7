"""Policies for a continuous price: a grid of candidate prices explored with UCB, and the random baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import WIDTH, Array, Feedback, Policy, State, hyperparameter, register, whole
from banditmap.sim.policies.mab import ArmStats, add_observations, arm_stats, ucb_index, untried_first
from banditmap.sim.problem import PRICE_RANGE, Problem

PRICING = frozenset({"pricing"})


@dataclass
class Grid(ArmStats):
    prices: Array = None  # type: ignore[assignment]


@register("discretized-ucb-pricing")
@dataclass(frozen=True)
class DiscretisedUCB(Policy):
    """UCB1 on the revenue of `grid` evenly spaced prices (Kleinberg and Leighton 2003)."""

    kinds: ClassVar[frozenset[str]] = PRICING
    grid: int = hyperparameter(20, whole(2, 1000, "a race of a few thousand rounds cannot try more prices"))
    alpha: float = hyperparameter(2.0, WIDTH)

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return arm_stats(problem, rng, Grid, self.grid, prices=np.linspace(*PRICE_RANGE, self.grid))

    def select(self, state: State, context: Array | None) -> Array:
        s: Grid = state  # type: ignore[assignment]
        index = np.argmax(untried_first(s, ucb_index(s, self.alpha)) + s.jitter, axis=1)
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
        return PRICE_RANGE[0] + (PRICE_RANGE[1] - PRICE_RANGE[0]) * state.rng.random(state.R)

    def update(self, state: State, feedback: Feedback) -> None:
        return None
