"""Policies for a continuous price: a grid of candidate prices explored with UCB, and the random baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import (WIDTH, Array, Feedback, Memoryless, Policy, State, hyperparameter, register,
                                         tie_noise, whole)
from banditmap.sim.policies.mab import ArmStats, add_observations, arm_stats, ucb_index, untried_first
from banditmap.sim.problem import PRICE_RANGE, Problem

PRICING = frozenset({"pricing"})


@dataclass(kw_only=True)
class Grid(ArmStats):
    """Per-arm statistics of the grid's prices (K is the grid's size)."""

    prices: Array  # (K,) the candidate prices, the same for every repetition


@register("discretized-ucb-pricing")
@dataclass(frozen=True)
class DiscretisedUCB(Policy[Grid]):
    """UCB1 on the revenue of `grid` evenly spaced prices (Kleinberg and Leighton 2003)."""

    kinds: ClassVar[frozenset[str]] = PRICING
    grid: int = hyperparameter(20, whole(2, 1000, "a race of a few thousand rounds cannot try more prices"))
    alpha: float = hyperparameter(2.0, WIDTH)

    def init(self, problem: Problem, rng: np.random.Generator) -> Grid:
        return arm_stats(problem, rng, Grid, self.grid, prices=np.linspace(*PRICE_RANGE, self.grid))

    def select(self, s: Grid, context: Array | None) -> Array:
        index: Array = np.argmax(untried_first(s, ucb_index(s, self.alpha)) + tie_noise(s.rng, s.means.shape),
                                 axis=1)
        s.aux = index  # the grid cell, returned with the feedback
        price: Array = s.prices[index]
        return price

    def update(self, state: Grid, feedback: Feedback) -> None:
        assert feedback.aux is not None
        add_observations(state, Feedback(feedback.reps, feedback.aux, feedback.observed, None,
                                         unique=feedback.unique))

    def recommend(self, s: Grid) -> Array:
        price: Array = s.prices[np.argmax(s.means + tie_noise(s.rng, s.means.shape), axis=1)]
        return price


@register("uniform-random-price")
@dataclass(frozen=True)
class UniformPrice(Memoryless):
    """The baseline for pricing: a uniformly random price in the allowed range."""

    kinds: ClassVar[frozenset[str]] = PRICING

    def select(self, state: State, context: Array | None) -> Array:
        return PRICE_RANGE[0] + (PRICE_RANGE[1] - PRICE_RANGE[0]) * state.rng.random(state.R)
