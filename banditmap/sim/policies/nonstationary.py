"""Policies for rewards that move: a sliding window, or exponential discounting of the statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypedDict

import numpy as np

from banditmap.sim.policies.base import (RATE, WIDTH, Array, Feedback, State, argmax_random, hyperparameter, register,
                                         scatter_add, whole)
from banditmap.sim.policies.mab import BOTH, ArmStats, Counting, CountingPolicy, arm_stats, around
from banditmap.sim.problem import Problem


@dataclass(kw_only=True)
class Ring(State):
    """Slots for the last W observations of each repetition, written in turn; a subclass adds what each holds."""

    filled: Array  # (R, W) bool: the slot holds an observation
    cursor: Array  # (R,) the slot written next

    def turn(self, reps: Array) -> tuple[Array, Array]:
        """The slot each repetition (at most once in `reps`) writes now, and whether it held an observation, which
        leaves the window; the slot counts as filled and the cursor moves on."""
        slot = self.cursor[reps]
        old = self.filled[reps, slot]
        self.filled[reps, slot] = True
        self.cursor[reps] = (slot + 1) % self.filled.shape[1]
        return slot, old


class RingArrays(TypedDict):
    filled: Array
    cursor: Array


def empty_ring(problem: Problem, window: int) -> RingArrays:
    """Ring slots for `window` observations, or for the whole run when it is shorter (it holds no more)."""
    R, W = problem.reps, min(window, problem.rounds)
    return {"filled": np.zeros((R, W), dtype=bool), "cursor": np.zeros(R, dtype=np.int64)}


@dataclass(kw_only=True)
class Window(ArmStats, Ring):
    ring_arm: Array  # (R, W) the arm of each observation in the window
    ring_reward: Array  # (R, W) its reward


@register("sw-ucb")
@dataclass(frozen=True)
class SlidingWindowUCB(Counting[Window]):
    """UCB on the last `window` observations of each repetition (Garivier and Moulines 2011); its counts and sums
    cover the window."""

    offers: ClassVar[frozenset[str]] = BOTH
    window: int = hyperparameter(1000, whole(1, 10_000_000))
    c: float = hyperparameter(0.6, WIDTH)

    def init(self, problem: Problem, rng: np.random.Generator) -> Window:
        ring = empty_ring(problem, self.window)
        shape = ring["filled"].shape
        return arm_stats(problem, rng, Window, ring_arm=np.zeros(shape, dtype=np.int64), ring_reward=np.zeros(shape),
                         **ring)

    def bonus(self, s: ArmStats) -> Array:
        horizon = np.minimum(s.counts.sum(axis=1, keepdims=True), self.window)
        bonus: Array = np.sqrt(self.c * np.log(np.maximum(horizon, 2)) / np.maximum(s.counts, 1))
        return bonus

    def select(self, s: Window, context: Array | None) -> Array:
        return argmax_random(np.where(s.counts < 0.5, np.inf, s.means + self.bonus(s)), s.rng)

    def bounds(self, s: ArmStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.bonus(s))

    def update(self, s: Window, feedback: Feedback) -> None:
        for layer in feedback.layers():
            reps, arms, rewards = feedback.reps[layer], feedback.actions[layer], feedback.observed[layer]
            slot, old = s.turn(reps)
            old_arm, old_reward = s.ring_arm[reps, slot], s.ring_reward[reps, slot]
            s.counts[reps[old], old_arm[old]] -= 1
            s.sums[reps[old], old_arm[old]] -= old_reward[old]
            s.ring_arm[reps, slot], s.ring_reward[reps, slot] = arms, rewards
            s.counts[reps, arms] += 1
            s.sums[reps, arms] += rewards
        rows = np.unique(feedback.reps)  # only these repetitions' statistics changed
        s.means[rows] = s.sums[rows] / np.maximum(s.counts[rows], 1)


@dataclass(frozen=True)
class Discounted(CountingPolicy):
    """Shared part: every decision multiplies all counts and sums by gamma before new rewards are added (so the
    statistics it offers are discounted counts and sums)."""

    gamma: float = hyperparameter(0.99, RATE)

    def discount(self, s: ArmStats) -> None:
        s.counts *= self.gamma
        s.sums *= self.gamma
        # means are unchanged by discounting both sums and counts

    def update(self, s: ArmStats, feedback: Feedback) -> None:
        index = (feedback.reps, feedback.actions)
        scatter_add(s.counts, index, 1.0, feedback.unique)
        scatter_add(s.sums, index, self.observed(s, feedback), feedback.unique)
        s.means[index] = s.sums[index] / s.counts[index]

    def observed(self, s: ArmStats, feedback: Feedback) -> Array:
        return feedback.observed


@register("discounted-ucb")
@dataclass(frozen=True)
class DiscountedUCB(Discounted):
    offers: ClassVar[frozenset[str]] = BOTH
    c: float = hyperparameter(0.6, WIDTH)

    def bonus(self, s: ArmStats) -> Array:
        total = np.maximum(s.counts.sum(axis=1, keepdims=True), 2)
        bonus: Array = 2 * np.sqrt(self.c * np.log(total) / np.maximum(s.counts, 1e-9))  # rewards in [0, 1]
        return bonus

    def select(self, s: ArmStats, context: Array | None) -> Array:
        self.discount(s)
        means = s.sums / np.maximum(s.counts, 1e-9)
        return argmax_random(np.where(s.counts < 1e-6, np.inf, means + self.bonus(s)), s.rng)

    def bounds(self, s: ArmStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.bonus(s), s.sums / np.maximum(s.counts, 1e-9))


@register("discounted-ts")
@dataclass(frozen=True)
class DiscountedThompson(Discounted):
    """Beta posterior with discounted success and failure counts (Raj and Kalyani 2017)."""

    def select(self, s: ArmStats, context: Array | None) -> Array:
        self.discount(s)
        choice: Array = np.argmax(s.rng.beta(1 + s.sums, 1 + np.maximum(s.counts - s.sums, 0)), axis=1)
        return choice

    def observed(self, s: ArmStats, feedback: Feedback) -> Array:
        rewards = np.clip(feedback.observed, 0.0, 1.0)
        observed: Array = (s.rng.random(rewards.shape) < rewards).astype(float)
        return observed
