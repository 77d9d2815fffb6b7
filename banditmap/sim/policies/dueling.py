"""Dueling policies: show two options, learn only which one won (interleaved comparisons of rankers, pairwise
preference tests). State is the win matrix W (R, K, K): W[r, i, j] counts the duels option i won against j.
Decisions and learning are compiled kernels (sim/kernels/dueling.py), one implementation for the compiled race,
the step-by-step loop (adapters around a policy, a test's own world) and replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (WIDEST, WIDTH, Array, Domain, Feedback, Policy, State, argmax_random,
                                         hyperparameter, register)
from banditmap.sim.problem import Problem

DUELING = frozenset({"dueling"})


@dataclass(kw_only=True)
class Duels(State):
    wins: Array  # (R, K, K) W[r, i, j]: duels option i won against j
    draws: Array  # (R,) uint64: one random stream per repetition
    scratch: Array  # (R, S) the kernels' own (RUCB's hypothesised best option in column 0, -1 for none)


@dataclass(frozen=True)
class DuelingPolicy(Policy[Duels]):
    """A dueling policy whose decisions and learning are compiled kernels; they read the hyperparameters in the
    order the fields are declared."""

    kinds: ClassVar[frozenset[str]] = DUELING
    choose: ClassVar[str] = "choose_uniform_pair"  # names of the kernels in sim/kernels/dueling.py
    learn: ClassVar[str] = "learn_wins"

    def width(self, problem: Problem) -> int:
        """Columns of the kernels' scratch row: RUCB's hypothesised best option, then a flag per option."""
        return 1 + problem.n_arms

    def start(self, problem: Problem) -> Array:
        """A repetition's scratch row before the first round: no hypothesised best option (-1), the rest 0."""
        row = np.zeros(self.width(problem))
        row[0] = -1.0
        return row

    def init(self, problem: Problem, rng: np.random.Generator) -> Duels:
        R, K = problem.reps, problem.n_arms
        draws = states_from(rng, R)  # first, so that the compiled race draws the same streams
        return Duels(rng, R, K, 2, problem.rounds, wins=np.zeros((R, K, K)), draws=draws,
                     scratch=np.tile(self.start(problem), (R, 1)))

    def select(self, s: Duels, context: Array | None) -> Array:
        from banditmap.sim.kernels import dueling
        choose, _ = dueling.make_steps(self.choose, self.learn)
        actions: Array = choose(self.params(), s.wins, s.scratch, s.draws, s.t, s.horizon)
        return actions

    def update(self, s: Duels, feedback: Feedback) -> None:
        from banditmap.sim.kernels import dueling
        _, learn = dueling.make_steps(self.choose, self.learn)
        learn(self.params(), s.wins, s.scratch, s.draws, feedback.reps.astype(np.int64),
              np.asarray(feedback.actions, dtype=np.int64).reshape(-1, 2),
              np.asarray(feedback.observed, dtype=np.float64))

    def recommend(self, s: Duels) -> Array:
        """The empirical Copeland winner: an option that beats the most others by its estimate W_ij / N_ij > 1/2
        (1/2 for options that never met), ties at random."""
        n = s.wins + s.wins.transpose(0, 2, 1)
        p = np.where(n > 0, s.wins / np.maximum(n, 1), 0.5)
        return argmax_random((p > 0.5).sum(axis=2) * 1.0, s.rng)

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
    the option with the highest optimistic preference over it (kernels/dueling.py's choose_rucb)."""

    choose: ClassVar[str] = "choose_rucb"
    alpha: float = hyperparameter(0.51, Domain(0.5, WIDEST, low_open=True, why="the analysis needs more than 1/2"))


@register("double-ts")
@dataclass(frozen=True)
class DoubleThompson(DuelingPolicy):
    """Double Thompson sampling (Wu and Liu 2016): the first option maximises the Copeland score of a posterior
    sample among the options with the best optimistic Copeland score; the second maximises a fresh sample of
    the preference over the first, among options not yet known to lose to it (kernels/dueling.py's
    choose_double_ts; the scratch row keeps each option's two Copeland scores and each win count's Gamma
    constant)."""

    choose: ClassVar[str] = "choose_double_ts"
    learn: ClassVar[str] = "learn_double_ts"
    alpha: float = hyperparameter(0.5, WIDTH)

    def width(self, problem: Problem) -> int:
        K = problem.n_arms
        return 1 + 2 * K + K * K


@register("uniform-random-pair")
@dataclass(frozen=True)
class UniformPair(DuelingPolicy):
    """The baseline for duels: two distinct options at random."""
