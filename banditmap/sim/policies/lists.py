"""Policies that show a list of k items: cascade ranking and semi-bandit slates, with per-item statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.problem import Problem
from banditmap.sim.policies.base import (NARROWEST, WIDTH, Array, Domain, Feedback, Policy, hyperparameter,
                                         register, scatter_add, tie_broken, top_k)
from banditmap.sim.policies.mab import ArmStats, arm_stats, kl_index, ucb_index


@dataclass(frozen=True)
class ItemPolicy(Policy[ArmStats]):
    """Keeps per-item counts and clicks; subclasses choose the index and how feedback maps to items."""

    def init(self, problem: Problem, rng: np.random.Generator) -> ArmStats:
        return arm_stats(problem, rng)

    def index(self, s: ArmStats) -> Array:
        raise NotImplementedError

    def select(self, s: ArmStats, context: Array | None) -> Array:
        scores = np.where(s.counts == 0, np.inf, self.index(s))
        return top_k(scores, s.k, s.rng)


@dataclass(frozen=True)
class UCBItems(ItemPolicy):
    """Items scored by UCB1's index, whatever feedback they learn from."""

    alpha: float = hyperparameter(1.5, WIDTH)

    def index(self, s: ArmStats) -> Array:
        return ucb_index(s, self.alpha)


@dataclass(frozen=True)
class CascadePolicy(ItemPolicy):
    """Learns from the click position: items above the click were examined and skipped, the clicked item
    counts as a success, items below it were not examined (Kveton et al. 2015)."""

    kinds: ClassVar[frozenset[str]] = frozenset({"cascade"})

    def update(self, s: ArmStats, feedback: Feedback) -> None:
        lists, clicks = feedback.actions, feedback.observed.astype(np.int64)
        positions = np.arange(lists.shape[1])[None, :]
        examined = positions <= clicks[:, None]
        clicked = positions == clicks[:, None]
        reps = np.broadcast_to(feedback.reps[:, None], lists.shape)
        seen = (reps[examined], lists[examined])
        scatter_add(s.counts, seen, 1.0, feedback.unique)
        scatter_add(s.sums, (reps[clicked], lists[clicked]), 1.0, feedback.unique)
        s.means[seen] = s.sums[seen] / s.counts[seen]
        s.touch(seen)


@register("cascade-ucb")
@dataclass(frozen=True)
class CascadeUCB(UCBItems, CascadePolicy):
    """CascadeUCB1 (Kveton et al. 2015): the k items of highest UCB1 index, learning from the items examined down to
    the click."""


@register("cascade-klucb")
@dataclass(frozen=True)
class CascadeKLUCB(CascadePolicy):
    """CascadeKL-UCB (Kveton et al. 2015) in its simplest form: items scored by a KL upper confidence bound with
    exploration log t."""

    def index(self, s: ArmStats) -> Array:
        return kl_index(s, np.log)


@dataclass(frozen=True)
class SlatePolicy(ItemPolicy):
    """Semi-bandit feedback: every shown item's reward is observed."""

    kinds: ClassVar[frozenset[str]] = frozenset({"slate"})

    def update(self, s: ArmStats, feedback: Feedback) -> None:
        reps = np.broadcast_to(feedback.reps[:, None], feedback.actions.shape)
        scatter_add(s.counts, (reps, feedback.actions), 1.0, feedback.unique)
        scatter_add(s.sums, (reps, feedback.actions), feedback.observed, feedback.unique)
        s.means = s.sums / np.maximum(s.counts, 1)


@register("cucb")
@dataclass(frozen=True)
class CombinatorialUCB(UCBItems, SlatePolicy):
    """CUCB (Chen, Wang and Yuan 2013) with the top-k oracle: the k items of highest UCB1 index, learning from every
    item shown (semi-bandit feedback)."""


@register("pbm-ucb")
@dataclass(frozen=True)
class PositionBasedUCB(SlatePolicy):
    """PBM-UCB (Lagree, Vernade & Cappe, NeurIPS 2016) shows the k items of highest index
    S/N~ + sqrt(N delta_t / (2 N~^2)), delta_t = (1 + epsilon) log t, where S counts an item's clicks, N its displays
    and N~ its displays weighted by the examination probability of the position each was in. Here every position has
    the same probability `examination`, so N~ = examination x N; the simulated slate examines every position, which
    its default 1 says, and the index is then S/N + sqrt(delta_t / (2N)). The position bias the method corrects for
    is not simulated, so this races its special case."""

    epsilon: float = hyperparameter(0.0, WIDTH)
    examination: float = hyperparameter(1.0, Domain(NARROWEST, 1.0, why="a position never examined teaches nothing"))

    def index(self, s: ArmStats) -> Array:
        t = np.maximum(s.counts.sum(axis=1, keepdims=True) / s.k, 2.0)
        shown = np.maximum(s.counts, 1)
        weighted = self.examination * shown
        index: Array = (s.sums / weighted
                        + np.sqrt(shown * (1 + self.epsilon) * np.log(t) / (2 * weighted ** 2)))
        return index


@register("cts")
@dataclass(frozen=True)
class CombinatorialThompson(SlatePolicy):
    def select(self, s: ArmStats, context: Array | None) -> Array:
        draws = s.beta(1 + s.sums, 1 + np.maximum(s.counts - s.sums, 0))
        return top_k(draws, s.k, s.rng)


@register("uniform-random-list")
@dataclass(frozen=True)
class UniformList(ItemPolicy):
    """The baseline for lists: k distinct items at random."""

    kinds: ClassVar[frozenset[str]] = frozenset({"cascade", "slate"})

    def select(self, state: ArmStats, context: Array | None) -> Array:
        return top_k(state.rng.random((state.R, state.K)), state.k, state.rng)

    def update(self, state: ArmStats, feedback: Feedback) -> None:
        return None


@register("ranked-ucb")
@dataclass(frozen=True)
class RankedUCB(Policy[ArmStats]):
    """One UCB1 per position, each rewarded by clicks at its own position, items kept distinct down the list
    (ranked bandits, Radlinski et al. 2008). It ignores that a click hides the positions below it; kept as the
    reference that cascade-aware learning must beat."""

    kinds: ClassVar[frozenset[str]] = frozenset({"cascade"})
    alpha: float = hyperparameter(1.5, WIDTH)

    def init(self, problem: Problem, rng: np.random.Generator) -> ArmStats:
        R, K, k = problem.reps, problem.n_arms, problem.slate_size  # statistics per position: (R, k, K)
        return ArmStats(rng, R, K, k, problem.rounds, counts=np.zeros((R, k, K)), sums=np.zeros((R, k, K)),
                        means=np.zeros((R, k, K)), jitter=rng.random((R, k, K)) * 1e-9)

    def select(self, s: ArmStats, context: Array | None) -> Array:
        t = np.maximum(s.counts.sum(axis=2, keepdims=True), 2)
        scores = s.means + np.sqrt(self.alpha * np.log(t) / np.maximum(s.counts, 1))
        scores = tie_broken(np.where(s.counts == 0, np.inf, scores), s.rng)
        rows = np.arange(s.R)
        chosen = np.zeros((s.R, s.k), dtype=np.int64)
        for position in range(s.k):
            pick = np.argmax(scores[:, position], axis=1)
            chosen[:, position] = pick
            for below in range(position + 1, s.k):  # an item appears once in the list
                scores[rows, below, pick] = -np.inf
        return chosen

    def update(self, s: ArmStats, feedback: Feedback) -> None:
        n, k = feedback.actions.shape
        positions = np.broadcast_to(np.arange(k)[None, :], (n, k))
        reps = np.broadcast_to(feedback.reps[:, None], (n, k))
        clicked = (positions == feedback.observed.astype(np.int64)[:, None]).astype(float)
        index = (reps, positions, feedback.actions)
        scatter_add(s.counts, index, 1.0, feedback.unique)
        scatter_add(s.sums, index, clicked, feedback.unique)
        s.means[index] = s.sums[index] / s.counts[index]
