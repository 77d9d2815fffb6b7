"""Policies for rewards that move: a sliding window, or exponential discounting of the statistics (their kernels
in sim/kernels/policies.py); the ring of slots that the sliding-window adapter keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypedDict

import numpy as np

from banditmap.sim.policies.base import RATE, WIDTH, Array, State, hyperparameter, register, whole
from banditmap.sim.policies.mab import BOTH, Kernel, KernelStats, around
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


@register("sw-ucb")
@dataclass(frozen=True)
class SlidingWindowUCB(Kernel):
    """UCB on the last `window` observations of each repetition (Garivier and Moulines 2011); its counts and sums
    cover the window, whose observations its kernel keeps in a ring (sim/kernels/policies.py)."""

    offers: ClassVar[frozenset[str]] = BOTH
    choose: ClassVar[str] = "choose_sliding_window_ucb"
    learn: ClassVar[str] = "learn_sliding_window"
    window: int = hyperparameter(1000, whole(1, 10_000_000))
    c: float = hyperparameter(0.6, WIDTH)

    def width(self, problem: Problem) -> int:
        """The cursor and, for each slot of the window (no longer than the run), its arm and reward."""
        return problem.n_arms + 3 + 2 * min(self.window, problem.rounds)

    def bonus(self, s: KernelStats) -> Array:
        horizon = np.minimum(s.counts.sum(axis=1, keepdims=True), self.window)
        bonus: Array = np.sqrt(self.c * np.log(np.maximum(horizon, 2)) / np.maximum(s.counts, 1))
        return bonus

    def bounds(self, s: KernelStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.bonus(s))


@dataclass(frozen=True)
class Discounted(Kernel):
    """Shared part: every decision multiplies all counts and sums by gamma before new rewards are added (so the
    statistics it offers are discounted counts and sums)."""

    gamma: float = hyperparameter(0.99, RATE)


@register("discounted-ucb")
@dataclass(frozen=True)
class DiscountedUCB(Discounted):
    """Discounted UCB (Kocsis & Szepesvari 2006, analysed by Garivier & Moulines 2011): the discounted mean
    + 2 sqrt(c log n / N), N an arm's discounted count and n their sum (the padding for rewards in [0, 1])."""

    offers: ClassVar[frozenset[str]] = BOTH
    choose: ClassVar[str] = "choose_discounted_ucb"
    c: float = hyperparameter(0.6, WIDTH)

    def bonus(self, s: KernelStats) -> Array:
        total = np.maximum(s.counts.sum(axis=1, keepdims=True), 2)
        bonus: Array = 2 * np.sqrt(self.c * np.log(total) / np.maximum(s.counts, 1e-9))  # rewards in [0, 1]
        return bonus

    def bounds(self, s: KernelStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.bonus(s), s.sums / np.maximum(s.counts, 1e-9))


@register("discounted-ts")
@dataclass(frozen=True)
class DiscountedThompson(Discounted):
    """Beta posterior with discounted success and failure counts (Raj and Kalyani 2017); a reward in [0, 1] counts
    as a success with that probability."""

    choose: ClassVar[str] = "choose_discounted_ts"
    learn: ClassVar[str] = "learn_bernoulli_trial"
