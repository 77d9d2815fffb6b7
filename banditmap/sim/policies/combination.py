"""Policies that pick one value per page component (multivariate page optimisation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import (Array, Feedback, Memoryless, Policy, State, hyperparameter, random_arms,
                                         register, whole)
from banditmap.sim.problem import Problem, active_features, component_pairs

COMBINATION = frozenset({"combination"})
NOISE = 1.0  # probit noise scale beta of the Bayesian probit model
PASSES = 3  # coordinate-ascent passes over the components per hill climb
EXHAUSTIVE = 256  # with at most this many pages, every page is scored: the exact argmax the climbs approximate


@dataclass(kw_only=True)
class Probit(State):
    D: int = 0  # components
    pairs: Array  # (P, 2) pairs of components
    mean: Array  # (R, F) posterior means of the feature weights
    var: Array  # (R, F) posterior variances
    pages: Array | None = None  # (M, D) every page, when there are few enough to score them all
    page_features: Array | None = None  # (M, D + P) their active features


def erfc(x: Array) -> Array:
    """Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    ans = t * np.exp(poly)
    value: Array = np.where(x >= 0, ans, 2.0 - ans)
    return value


def probit_moments(t: Array) -> tuple[Array, Array]:
    """v(t) = phi(t) / Phi(t) and w(t) = v(t) (v(t) + t), the moment-matching terms of a probit update."""
    cdf = np.maximum(0.5 * erfc(-t / np.sqrt(2.0)), 1e-300)
    v = np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi) / cdf
    return v, v * (v + t)


@register("mvt-ts")
@dataclass(frozen=True)
class MultivariateThompson(Policy[Probit]):
    """Thompson sampling on a Bayesian linear probit model of main effects and pairwise interactions, with a
    factorised Gaussian posterior updated in closed form (Graepel et al. 2010), and a hill-climbing search for
    the best page under each posterior draw (Hill et al. 2017): `climbs` random starts, each improved one
    component at a time, the best final page played."""

    kinds: ClassVar[frozenset[str]] = COMBINATION
    climbs: int = hyperparameter(10, whole(1, 100, "each climb scores every value of every component"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Probit:
        V, D = problem.n_arms, problem.slate_size
        pairs = component_pairs(D)
        size = D * V + len(pairs) * V * V
        state = Probit(rng, problem.reps, V, D, problem.rounds, D=D, pairs=pairs,
                       mean=np.zeros((problem.reps, size)), var=np.ones((problem.reps, size)))
        if V ** D <= EXHAUSTIVE:
            state.pages = np.array(np.meshgrid(*[np.arange(V)] * D, indexing="ij")).reshape(D, -1).T
            state.page_features = active_features(state.pages, V, pairs)
        return state

    def select(self, s: Probit, context: Array | None) -> Array:
        weights = s.mean + np.sqrt(s.var) * s.rng.standard_normal(s.mean.shape)
        return climb(weights, s, self.climbs)

    def update(self, s: Probit, feedback: Feedback) -> None:
        rewards = np.clip(feedback.observed, 0.0, 1.0)
        clicks = s.rng.random(rewards.shape) < rewards  # exact for 0/1 rewards
        for layer in feedback.layers():
            reps = feedback.reps[layer]
            active = active_features(feedback.actions[layer], s.K, s.pairs)  # (n, D + P)
            y = np.where(clicks[layer], 1.0, -1.0)
            rows = reps[:, None]
            mean, var = s.mean[rows, active], s.var[rows, active]
            total = np.sqrt(NOISE ** 2 + var.sum(axis=1))
            v, w = probit_moments(y * mean.sum(axis=1) / total)
            s.mean[rows, active] = mean + (y * v / total)[:, None] * var
            s.var[rows, active] = var * (1 - (w / total ** 2)[:, None] * var)

    def recommend(self, s: Probit) -> Array:
        return climb(s.mean, s, self.climbs)


def climb(weights: Array, s: Probit, climbs: int) -> Array:
    """Hill climbing on the page score sum_{active features} weights: from `climbs` random pages per repetition,
    set each component in turn to its best value given the others, PASSES times over; return the best page.
    Small page spaces are scored exhaustively instead."""
    R, V, D = s.R, s.K, s.D
    if s.pages is not None and s.page_features is not None:
        scores = weights[:, s.page_features].sum(axis=2)  # (R, M)
        page: Array = s.pages[np.argmax(scores + s.rng.random(scores.shape) * 1e-9, axis=1)]
        return page
    pages = np.minimum((s.rng.random((R, climbs, D)) * V).astype(np.int64), V - 1)
    rows = np.arange(R)[:, None, None]
    values = np.arange(V)
    pair_base = D * V + np.arange(len(s.pairs)) * V * V
    for _ in range(PASSES):
        for d in range(D):
            score = np.broadcast_to(weights[rows[:, :, 0], d * V + values][:, None, :], (R, climbs, V)).copy()
            for p, (a, b) in enumerate(s.pairs):
                if a == d:
                    score += weights[rows, pair_base[p] + values * V + pages[:, :, b:b + 1]]
                elif b == d:
                    score += weights[rows, pair_base[p] + pages[:, :, a:a + 1] * V + values]
            pages[:, :, d] = np.argmax(score, axis=2)
    flat = pages.reshape(R * climbs, D)
    totals = weights[np.repeat(np.arange(R), climbs)[:, None], active_features(flat, V, s.pairs)].sum(axis=1)
    best = totals.reshape(R, climbs).argmax(axis=1)
    chosen: Array = pages[np.arange(R), best]
    return chosen


@register("uniform-random-combination")
@dataclass(frozen=True)
class UniformCombination(Memoryless):
    """The baseline for pages: every component's value at random."""

    kinds: ClassVar[frozenset[str]] = COMBINATION

    def select(self, state: State, context: Array | None) -> Array:
        return random_arms(state.rng, state.K, state.R * state.k).reshape(state.R, state.k)
