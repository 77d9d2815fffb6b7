"""Policies for several reward metrics at once (Drugan and Nowe 2013): the Pareto front of optimistic vectors,
or UCB1 on random linear scalarisations. Observations are (N, D) reward vectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import Array, Feedback, Policy, State, argmax_random, hyperparameter, register, whole
from banditmap.sim.problem import Problem

MULTI = frozenset({"multi"})


@dataclass(kw_only=True)
class VectorStats(State):
    counts: Array  # (R, K) plays per arm (Pareto UCB), or (R, S, K) per weighting
    sums: Array  # (R, K, D) summed reward vectors, or (R, S, K) scalarised sums
    weights: Array | None = None  # (S, D) the scalarisations
    chosen: Array | None = None  # (R,) the weighting used in the last decision


def non_dominated(vectors: Array) -> Array:
    """(R, K) bool: arms whose vector (R, K, D) no other arm's vector dominates (>= everywhere, > somewhere)."""
    a, b = vectors[:, :, None, :], vectors[:, None, :, :]  # a: the arm tested, b: a possible dominator
    dominated: Array = np.any(np.all(b >= a, axis=3) & np.any(b > a, axis=3), axis=2)
    return ~dominated


@register("pareto-ucb")
@dataclass(frozen=True)
class ParetoUCB(Policy[VectorStats]):
    """Pareto UCB1: a UCB vector per arm, mean + sqrt(2 ln(t (D K)^(1/4)) / n) in every objective; play uniformly
    at random among the arms whose optimistic vectors are not Pareto-dominated."""

    kinds: ClassVar[frozenset[str]] = MULTI

    def init(self, problem: Problem, rng: np.random.Generator) -> VectorStats:
        R, K = problem.reps, problem.n_arms
        return VectorStats(rng, R, K, 1, problem.rounds, counts=np.zeros((R, K)),
                           sums=np.zeros((R, K, problem.objectives)))

    def select(self, s: VectorStats, context: Array | None) -> Array:
        D = s.sums.shape[2]
        n = np.maximum(s.counts, 1)[:, :, None]
        t = max(s.t, 2)
        upper = s.sums / n + np.sqrt(2 * np.log(t * (D * s.K) ** 0.25) / n)
        upper = np.where(s.counts[:, :, None] == 0, np.inf, upper)
        return argmax_random(np.where(non_dominated(upper), 1.0, 0.0), s.rng)

    def update(self, s: VectorStats, feedback: Feedback) -> None:
        np.add.at(s.counts, (feedback.reps, feedback.actions), 1.0)
        np.add.at(s.sums, (feedback.reps, feedback.actions), feedback.observed)

    def recommend(self, s: VectorStats) -> Array:
        means = s.sums / np.maximum(s.counts, 1)[:, :, None]
        return argmax_random(np.where(non_dominated(means), 1.0, 0.0), s.rng)


@register("scalarized-ucb")
@dataclass(frozen=True)
class ScalarizedUCB(Policy[VectorStats]):
    """Linear scalarised UCB1: `weights` weight vectors spread evenly over the simplex, one UCB1 per weighting on
    the weighted sum of the objectives; each round one weighting is drawn at random and its UCB1 decides (its
    statistics learn from the decisions it made)."""

    kinds: ClassVar[frozenset[str]] = MULTI
    weights: int = hyperparameter(11, whole(1, 16, "each weighting keeps statistics of every arm"))

    def init(self, problem: Problem, rng: np.random.Generator) -> VectorStats:
        R, K, D = problem.reps, problem.n_arms, problem.objectives
        return VectorStats(rng, R, K, 1, problem.rounds, counts=np.zeros((R, self.weights, K)),
                           sums=np.zeros((R, self.weights, K)), weights=simplex(self.weights, D))

    def select(self, s: VectorStats, context: Array | None) -> Array:
        rows = np.arange(s.R)
        s.chosen = np.minimum((s.rng.random(s.R) * self.weights).astype(np.int64), self.weights - 1)
        counts, sums = s.counts[rows, s.chosen], s.sums[rows, s.chosen]  # (R, K)
        t = np.maximum(counts.sum(axis=1, keepdims=True), 2)
        index = sums / np.maximum(counts, 1) + np.sqrt(2 * np.log(t) / np.maximum(counts, 1))
        s.aux = s.chosen
        return argmax_random(np.where(counts == 0, np.inf, index), s.rng)

    def update(self, s: VectorStats, feedback: Feedback) -> None:
        assert s.weights is not None and feedback.aux is not None
        scalar = np.einsum("nd,nd->n", feedback.observed, s.weights[feedback.aux])
        np.add.at(s.counts, (feedback.reps, feedback.aux, feedback.actions), 1.0)
        np.add.at(s.sums, (feedback.reps, feedback.aux, feedback.actions), scalar)


def simplex(count: int, dimensions: int) -> Array:
    """`count` weight vectors on the simplex: evenly spaced for two objectives, a fixed quasi-random spread beyond."""
    if count == 1:
        return np.full((1, dimensions), 1.0 / dimensions)
    if dimensions == 2:
        w = np.linspace(0, 1, count)
        return np.stack([w, 1 - w], axis=1)
    points = np.random.default_rng(0).dirichlet(np.ones(dimensions), count)
    return points
