"""Dueling policies: show two options, learn only which one won (interleaved comparisons of rankers, pairwise
preference tests). State is the win matrix W (R, K, K): W[r, i, j] counts the duels option i won against j."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.policies.base import (WIDEST, WIDTH, Array, Domain, Feedback, Policy, State, argmax_random,
                                         hyperparameter, random_arms, register)
from banditmap.sim.problem import Problem

DUELING = frozenset({"dueling"})


@dataclass(kw_only=True)
class Duels(State):
    wins: Array  # (R, K, K) W[r, i, j]: duels option i won against j
    champion: Array  # (R,) RUCB's hypothesised best option, -1 for none


@dataclass(frozen=True)
class DuelingPolicy(Policy[Duels]):
    kinds: ClassVar[frozenset[str]] = DUELING

    def init(self, problem: Problem, rng: np.random.Generator) -> Duels:
        R, K = problem.reps, problem.n_arms
        return Duels(rng, R, K, 2, problem.rounds, wins=np.zeros((R, K, K)), champion=np.full(R, -1))

    def update(self, s: Duels, feedback: Feedback) -> None:
        first, second = feedback.actions[:, 0], feedback.actions[:, 1]
        won = feedback.observed
        real = first != second  # an option against itself teaches nothing
        reps, first, second, won = feedback.reps[real], first[real], second[real], won[real]
        np.add.at(s.wins, (reps, first, second), won)
        np.add.at(s.wins, (reps, second, first), 1.0 - won)

    def preferences(self, s: Duels, alpha: float) -> tuple[Array, Array, Array]:
        """Estimated preference P[i beats j], and its upper and lower confidence bounds (1 where untested, and
        1/2 on the diagonal)."""
        n = s.wins + s.wins.transpose(0, 2, 1)
        seen = n > 0
        p = np.where(seen, s.wins / np.maximum(n, 1), 0.5)
        width = np.sqrt(alpha * np.log(max(s.t, 2)) / np.maximum(n, 1))
        upper = np.where(seen, p + width, 1.0)
        lower = np.where(seen, p - width, 0.0)
        eye = np.eye(s.K, dtype=bool)[None]
        return np.where(eye, 0.5, p), np.where(eye, 0.5, upper), np.where(eye, 0.5, lower)

    def recommend(self, s: Duels) -> Array:
        p, _, _ = self.preferences(s, 0.0)
        return argmax_random((p > 0.5).sum(axis=2) * 1.0, s.rng)  # the empirical Copeland winner

    def exploit(self, state: Duels, context: Array | None) -> Array:
        """The pair shown with exploration off: the recommended option against itself (R, 2), which costs no
        regret when it is the best option."""
        winner = self.recommend(state)
        return np.stack([winner, winner], axis=1)


@register("rucb")
@dataclass(frozen=True)
class RUCB(DuelingPolicy):
    """Relative UCB (Zoghi et al. 2014): candidates are options whose optimistic preference over every other is
    at least 1/2; the champion is drawn from them (the previous champion kept with probability 1/2), and duels
    the option with the highest optimistic preference over it."""

    alpha: float = hyperparameter(0.51, Domain(0.5, WIDEST, low_open=True, why="the analysis needs more than 1/2"))

    def select(self, s: Duels, context: Array | None) -> Array:
        _, upper, _ = self.preferences(s, self.alpha)
        candidate: Array = np.all(upper >= 0.5, axis=2)  # (R, K)
        rows = np.arange(s.R)
        none = ~candidate.any(axis=1)
        keep = (s.champion >= 0) & candidate[rows, np.maximum(s.champion, 0)]
        lone = candidate.sum(axis=1) == 1
        others = candidate.copy()
        others[rows, np.maximum(s.champion, 0)] &= ~keep
        draw_other = argmax_random(np.where(others, 1.0, -np.inf), s.rng)
        draw_any = argmax_random(np.where(candidate, 1.0, -np.inf), s.rng)
        stay = keep & ((s.rng.random(s.R) < 0.5) | ~others.any(axis=1))
        champion = np.where(stay, s.champion, np.where(keep, draw_other, draw_any))
        champion = np.where(none, random_arms(s.rng, s.K, s.R), champion)
        s.champion = np.where(lone, draw_any, np.where(keep, s.champion, -1))  # B: kept while a candidate
        challenger = argmax_random(upper[rows, :, champion], s.rng)  # column champion: P[j beats champion]
        return np.stack([champion, challenger], axis=1)


@register("double-ts")
@dataclass(frozen=True)
class DoubleThompson(DuelingPolicy):
    """Double Thompson sampling (Wu and Liu 2016): the first option maximises the Copeland score of a posterior
    sample among the options with the best optimistic Copeland score; the second maximises a fresh sample of
    the preference over the first, among options not yet known to lose to it."""

    alpha: float = hyperparameter(0.5, WIDTH)

    def select(self, s: Duels, context: Array | None) -> Array:
        _, upper, lower = self.preferences(s, self.alpha)
        rows = np.arange(s.R)
        copeland_upper = (upper > 0.5).sum(axis=2)
        plausible = copeland_upper == copeland_upper.max(axis=1, keepdims=True)
        theta = self._sample(s)
        copeland = (theta > 0.5).sum(axis=2) * 1.0
        first = argmax_random(np.where(plausible, copeland, -np.inf), s.rng)
        second_draw = s.beta(s.wins[rows, :, first] + 1, s.wins[rows, first, :] + 1)  # P[j beats first]
        second_draw[rows, first] = 0.5
        allowed = lower[rows, :, first] <= 0.5
        second = argmax_random(np.where(allowed, second_draw, -np.inf), s.rng)
        return np.stack([first, second], axis=1)

    def _sample(self, s: Duels) -> Array:
        """One posterior draw of the whole preference matrix: Beta draws above the diagonal, mirrored below."""
        draw = s.beta(s.wins + 1, s.wins.transpose(0, 2, 1) + 1)
        upper = np.triu(np.ones((s.K, s.K), dtype=bool), 1)[None]
        theta = np.where(upper, draw, 1 - draw.transpose(0, 2, 1))
        eye = np.eye(s.K, dtype=bool)[None]
        return np.where(eye, 0.5, theta)


@register("uniform-random-pair")
@dataclass(frozen=True)
class UniformPair(DuelingPolicy):
    """The baseline for duels: two distinct options at random."""

    def select(self, state: Duels, context: Array | None) -> Array:
        first = random_arms(state.rng, state.K, state.R)
        second = (first + 1 + random_arms(state.rng, state.K - 1, state.R)) % state.K
        return np.stack([first, second], axis=1)
