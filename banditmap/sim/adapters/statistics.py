"""Adapters that rewrite the per-arm statistics a base decides from: a sliding window and discounting for
abrupt changes (Garivier and Moulines 2011), truncated means for heavy tails (Bubeck, Cesa-Bianchi and Lugosi
2013), and the most played arm as a best-arm recommendation (Bubeck, Munos and Stoltz 2009).

Each works on any base offering arm-statistics: counts and sums that grow by one count and one (possibly
transformed) reward per observation. The wrapper lets the base learn as usual, reads what each observation added,
and takes it away again or shrinks it, so whatever the base does with a reward (a Bernoulli draw for Thompson
sampling, a truncation) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.adapters.base import WS, Inner, Passing, Wrapped, Wrapper, layer_feedback, register_adapter
from banditmap.sim.policies.base import (ARM_STATISTICS, CONFIDENCE_BOUNDS, RATE, SCALE, Array, Feedback, State,
                                         Statistics, argmax_random, hyperparameter, whole)
from banditmap.sim.policies.nonstationary import Ring, empty_ring
from banditmap.sim.problem import Problem

STATISTICS = frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS})


def learn_and_measure(wrapper: Wrapper[WS, Inner], state: WS, feedback: Feedback, layer: Array,
                      observed: Array | None = None) -> tuple[Array, Array, Array, Array]:
    """Feed one layer to the base; return its repetitions, arms, and what the base's count and sum of each
    (repetition, arm) grew by."""
    part = layer_feedback(feedback, layer, observed)
    stats = wrapper.statistics(state)
    index = (part.reps, part.actions)
    counts, sums = stats.counts[index].copy(), stats.sums[index].copy()
    wrapper.base.update(state.inner, part)
    stats = wrapper.statistics(state)  # a base may replace its arrays when it learns
    return part.reps, part.actions, stats.counts[index] - counts, stats.sums[index] - sums


def take_away(stats: Statistics, reps: Array, arms: Array, counts: Array, sums: Array) -> None:
    """Remove observations from the statistics (never below zero: a base may itself shrink its counts)."""
    index = (reps, arms)
    np.subtract.at(stats.counts, index, counts)
    np.subtract.at(stats.sums, index, sums)
    empty = stats.counts[index] <= 1e-12
    stats.counts[index] = np.where(empty, 0.0, stats.counts[index])
    stats.sums[index] = np.where(empty, 0.0, stats.sums[index])
    stats.means[index] = stats.sums[index] / np.maximum(stats.counts[index], 1e-12)
    stats.touch(index)


@dataclass(kw_only=True)
class Window(Wrapped[Inner], Ring):
    """The last `window` observations of each repetition in a ring: the arm, and what each added to the base's
    count and sum."""

    arm: Array  # (R, W)
    count: Array  # (R, W)
    total: Array  # (R, W)


@register_adapter("sliding-window")
@dataclass(frozen=True)
class SlidingWindow(Wrapper[Window[Inner], Inner]):
    """Sliding window (Garivier and Moulines 2011): the base's counts and sums cover the last `window`
    observations only. An index built on them (UCB's mean and bonus, whose log t becomes log min(t, W)) follows
    the new means within about W rounds of an abrupt change."""

    needs: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS})
    keeps: ClassVar[frozenset[str]] = STATISTICS
    kernels: ClassVar[str | None] = "window"
    window: int = hyperparameter(1000, whole(1, 10_000_000))

    def region(self, problem: Problem) -> Array:
        from banditmap.sim.kernels.wrappers import window_region
        return window_region(min(self.window, problem.rounds))

    def init(self, problem: Problem, rng: np.random.Generator) -> Window[Inner]:
        inner = self.base.init(problem, rng)
        ring = empty_ring(problem, self.window)
        shape = ring["filled"].shape
        return Window(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds, inner=inner,
                      arm=np.zeros(shape, dtype=np.int64), count=np.zeros(shape), total=np.zeros(shape), **ring)

    def update(self, s: Window[Inner], feedback: Feedback) -> None:
        for layer in feedback.layers():
            reps, arms, counts, sums = learn_and_measure(self, s, feedback, layer)
            slot, old = s.turn(reps)
            leaving = reps[old], slot[old]
            take_away(self.statistics(s), leaving[0], s.arm[leaving], s.count[leaving], s.total[leaving])
            s.arm[reps, slot], s.count[reps, slot], s.total[reps, slot] = arms, counts, sums


@register_adapter("discounting")
@dataclass(frozen=True)
class Discounting(Passing[Inner]):
    """Discounting (Garivier and Moulines 2011): before every decision the base's counts and sums are multiplied
    by gamma, so an observation s rounds old weighs gamma ** s; means are unchanged, the bonus of an index built
    on the counts grows for arms not played lately."""

    needs: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS})
    keeps: ClassVar[frozenset[str]] = STATISTICS
    kernels: ClassVar[str | None] = "discount"
    gamma: float = hyperparameter(0.99, RATE)

    def region(self, problem: Problem) -> Array:
        return np.ones(1)  # nothing of its own but the count

    def select(self, state: Wrapped[Inner], context: Array | None) -> Array:
        stats = self.statistics(state)
        stats.counts *= self.gamma
        stats.sums *= self.gamma
        stats.touch((slice(None), slice(None)))
        return super().select(state, context)


@dataclass(kw_only=True)
class Truncated(Wrapped[Inner]):
    seen: Array  # (R, K) rewards observed per arm, truncated or not


def kernel_streams(state: object) -> Array | None:
    """The random streams (R,) of the innermost base when its decisions are kernels (a KernelStats state under
    any wrappers' states), else None."""
    while state is not None:
        draws = getattr(state, "draws", None)
        if draws is not None:
            return np.asarray(draws)
        state = getattr(state, "inner", None)
    return None


@register_adapter("robust-mean")
@dataclass(frozen=True)
class RobustMean(Wrapper[Truncated[Inner], Inner]):
    """Robust UCB with the truncated empirical mean (Bubeck, Cesa-Bianchi and Lugosi 2013): the s-th reward of an
    arm reaches the base only if |r| <= (u s / log(1/delta))^(1/(1+epsilon)), else as 0, with delta = 1/T^2, so the
    base's means are truncated means; the index replaces the base's bonus by the estimator's confidence width
    4 u^(1/(1+epsilon)) (log(1/delta) / n)^(epsilon/(1+epsilon)). The base contributes its statistics (and how it
    keeps them), not its index: the paper replaces both parts of a UCB index."""

    needs: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS})
    keeps: ClassVar[frozenset[str]] = STATISTICS
    kernels: ClassVar[str | None] = "robust"
    moment_bound: float = hyperparameter(1.0, SCALE)
    epsilon: float = hyperparameter(1.0, RATE)

    def region(self, problem: Problem) -> Array:
        from banditmap.sim.kernels.wrappers import robust_region
        return robust_region(problem.n_arms, problem.rounds)

    def init(self, problem: Problem, rng: np.random.Generator) -> Truncated[Inner]:
        return Truncated(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds,
                         inner=self.base.init(problem, rng), seen=np.zeros((problem.reps, problem.n_arms)))

    def log_inv_delta(self, s: State) -> float:
        return 2 * float(np.log(max(s.horizon, 2)))

    def width(self, s: State, counts: Array) -> Array:
        e = self.epsilon
        width: Array = 4 * self.moment_bound ** (1 / (1 + e)) * (self.log_inv_delta(s) / np.maximum(counts, 1)) ** (
            e / (1 + e))
        return width

    def bounds(self, state: Truncated[Inner], context: Array | None) -> tuple[Array, Array]:
        stats = self.statistics(state)
        width = self.width(state, stats.counts)
        tried = stats.counts > 0
        return (np.where(tried, stats.means - width, -np.inf), np.where(tried, stats.means + width, np.inf))

    def select(self, state: Truncated[Inner], context: Array | None) -> Array:
        _, upper = self.bounds(state, context)
        state.aux = None
        draws = kernel_streams(state)
        if draws is None:
            return argmax_random(upper, state.rng)  # untried arms (an infinite bound) first
        # a base with kernels: ties broken with its streams, as the compiled template breaks them
        from banditmap.sim.kernels.arms import argmax_rows
        chosen: Array = argmax_rows(np.ascontiguousarray(upper, dtype=np.float64), draws)
        return chosen

    def update(self, s: Truncated[Inner], feedback: Feedback) -> None:
        for layer in feedback.layers():
            reps, arms, rewards = feedback.reps[layer], feedback.actions[layer], feedback.observed[layer]
            s.seen[reps, arms] += 1
            threshold = (self.moment_bound * s.seen[reps, arms] / self.log_inv_delta(s)) ** (1 / (1 + self.epsilon))
            kept = np.where(np.abs(rewards) <= threshold, rewards, 0.0)
            self.base.update(s.inner, layer_feedback(feedback, layer, kept))


@register_adapter("best-arm-from-counts")
@dataclass(frozen=True)
class BestArmFromCounts(Passing[Inner]):
    """The base plays as usual; asked for a best arm, the composition names the arm the base observed most
    often (Bubeck, Munos and Stoltz 2009 study this recommendation and bound its simple regret from below)."""

    needs: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS})
    decides_as_base: ClassVar[bool] = True

    def recommend(self, state: Wrapped[Inner]) -> Array:
        return argmax_random(self.statistics(state).counts, state.rng)
