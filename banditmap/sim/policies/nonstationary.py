"""Policies for rewards that move: a sliding window, or exponential discounting of the statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import (ARM_STATISTICS, RATE, WIDTH, Array, Feedback, Policy, State, Statistics,
                                         argmax_random, hyperparameter, register, scatter_add, whole)
from banditmap.sim.policies.mab import ARMS, BOTH, ArmStats, arm_stats, around
from banditmap.sim.problem import Problem


@dataclass
class Window(ArmStats):
    ring_arm: Array = None  # type: ignore[assignment]
    ring_reward: Array = None  # type: ignore[assignment]
    filled: Array = None  # type: ignore[assignment]
    cursor: Array = None  # type: ignore[assignment]


@register("sw-ucb")
@dataclass(frozen=True)
class SlidingWindowUCB(Policy):
    """UCB on the last `window` observations of each repetition (Garivier and Moulines 2011)."""

    kinds: ClassVar[frozenset[str]] = ARMS
    offers: ClassVar[frozenset[str]] = BOTH
    window: int = hyperparameter(1000, whole(1, 10_000_000))
    c: float = hyperparameter(0.6, WIDTH)

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        R, w = problem.reps, min(self.window, problem.rounds)  # a run never holds more observations than rounds
        return arm_stats(problem, rng, Window, ring_arm=np.zeros((R, w), dtype=np.int64), ring_reward=np.zeros((R, w)),
                         filled=np.zeros((R, w), dtype=bool), cursor=np.zeros(R, dtype=np.int64))

    def bonus(self, s: ArmStats) -> Array:
        horizon = np.minimum(s.counts.sum(axis=1, keepdims=True), self.window)
        return np.sqrt(self.c * np.log(np.maximum(horizon, 2)) / np.maximum(s.counts, 1))

    def select(self, state: State, context: Array | None) -> Array:
        s: Window = state  # type: ignore[assignment]
        return argmax_random(np.where(s.counts < 0.5, np.inf, s.means + self.bonus(s)), s.rng)

    def statistics(self, state: State) -> Statistics:
        return state  # type: ignore[return-value]  # a Window, whose counts and sums cover the window

    def bounds(self, state: State, context: Array | None) -> tuple[Array, Array]:
        s: ArmStats = state  # type: ignore[assignment]
        return around(s, self.bonus(s))

    def update(self, state: State, feedback: Feedback) -> None:
        s: Window = state  # type: ignore[assignment]
        for layer in feedback.layers():
            reps, arms, rewards = feedback.reps[layer], feedback.actions[layer], feedback.observed[layer]
            slot = s.cursor[reps]
            old = s.filled[reps, slot]
            old_arm, old_reward = s.ring_arm[reps, slot], s.ring_reward[reps, slot]
            s.counts[reps[old], old_arm[old]] -= 1
            s.sums[reps[old], old_arm[old]] -= old_reward[old]
            s.ring_arm[reps, slot], s.ring_reward[reps, slot], s.filled[reps, slot] = arms, rewards, True
            s.counts[reps, arms] += 1
            s.sums[reps, arms] += rewards
            s.cursor[reps] = (slot + 1) % s.ring_arm.shape[1]
        rows = np.unique(feedback.reps)  # only these repetitions' statistics changed
        s.means[rows] = s.sums[rows] / np.maximum(s.counts[rows], 1)

    def recommend(self, state: State) -> Array:
        return argmax_random(state.means, state.rng)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Discounted(Policy):
    """Shared part: every decision multiplies all counts and sums by gamma before new rewards are added."""

    kinds: ClassVar[frozenset[str]] = ARMS
    offers: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS})
    gamma: float = hyperparameter(0.99, RATE)

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return arm_stats(problem, rng)

    def statistics(self, state: State) -> Statistics:
        return state  # type: ignore[return-value]  # discounted counts and sums

    def discount(self, s: ArmStats) -> None:
        s.counts *= self.gamma
        s.sums *= self.gamma
        # means are unchanged by discounting both sums and counts

    def update(self, state: State, feedback: Feedback) -> None:
        s: ArmStats = state  # type: ignore[assignment]
        index = (feedback.reps, feedback.actions)
        scatter_add(s.counts, index, 1.0, feedback.unique)
        scatter_add(s.sums, index, self.observed(s, feedback), feedback.unique)
        s.means[index] = s.sums[index] / s.counts[index]

    def observed(self, s: ArmStats, feedback: Feedback) -> Array:
        return feedback.observed

    def recommend(self, state: State) -> Array:
        return argmax_random(state.means, state.rng)  # type: ignore[attr-defined]


@register("discounted-ucb")
@dataclass(frozen=True)
class DiscountedUCB(Discounted):
    offers: ClassVar[frozenset[str]] = BOTH
    c: float = hyperparameter(0.6, WIDTH)

    def bonus(self, s: ArmStats) -> Array:
        total = np.maximum(s.counts.sum(axis=1, keepdims=True), 2)
        return 2 * np.sqrt(self.c * np.log(total) / np.maximum(s.counts, 1e-9))  # rewards in [0, 1]

    def select(self, state: State, context: Array | None) -> Array:
        s: ArmStats = state  # type: ignore[assignment]
        self.discount(s)
        means = s.sums / np.maximum(s.counts, 1e-9)
        return argmax_random(np.where(s.counts < 1e-6, np.inf, means + self.bonus(s)), s.rng)

    def bounds(self, state: State, context: Array | None) -> tuple[Array, Array]:
        s: ArmStats = state  # type: ignore[assignment]
        return around(s, self.bonus(s), s.sums / np.maximum(s.counts, 1e-9))


@register("discounted-ts")
@dataclass(frozen=True)
class DiscountedThompson(Discounted):
    """Beta posterior with discounted success and failure counts (Raj and Kalyani 2017)."""

    def select(self, state: State, context: Array | None) -> Array:
        s: ArmStats = state  # type: ignore[assignment]
        self.discount(s)
        return np.argmax(s.rng.beta(1 + s.sums, 1 + np.maximum(s.counts - s.sums, 0)), axis=1)

    def observed(self, s: ArmStats, feedback: Feedback) -> Array:
        rewards = np.clip(feedback.observed, 0.0, 1.0)
        return (s.rng.random(rewards.shape) < rewards).astype(float)
