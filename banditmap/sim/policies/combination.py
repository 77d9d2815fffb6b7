"""Policies that pick one value per page component (multivariate page optimisation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import Array, Feedback, Memoryless, Policy, State, hyperparameter, register, whole
from banditmap.sim.problem import Problem, component_pairs

COMBINATION = frozenset({"combination"})
EXHAUSTIVE = 256  # with at most this many pages, every page is scored: the exact argmax the climbs approximate


@dataclass(kw_only=True)
class Probit(State):
    D: int = 0  # components
    pairs: Array  # (P, 2) pairs of components
    mean: Array  # (R, F) posterior means of the feature weights
    var: Array  # (R, F) posterior variances
    draws: Array  # (R,) uint64: one random stream per repetition
    table: Array  # (M, D + P) the active features of every page when there are few enough to score them all, else
    # (0, D + P): hill climbs


@register("mvt-ts")
@dataclass(frozen=True)
class MultivariateThompson(Policy[Probit]):
    """Thompson sampling on a Bayesian linear probit model of main effects and pairwise interactions, with a
    factorised Gaussian posterior updated in closed form (Graepel et al. 2010), and a hill-climbing search for
    the best page under each posterior draw (Hill et al. 2017): `climbs` random starts, each improved one
    component at a time, the best final page played. Decides and learns through compiled kernels
    (sim/kernels/combination.py), in the whole race and, one round at a time, in the step-by-step loop."""

    kinds: ClassVar[frozenset[str]] = COMBINATION
    climbs: int = hyperparameter(10, whole(1, 100, "each climb scores every value of every component"))

    def init(self, problem: Problem, rng: np.random.Generator) -> Probit:
        V, D = problem.n_arms, problem.slate_size
        draws = states_from(rng, problem.reps)  # as the compiled race draws its streams
        pairs = component_pairs(D)
        size = D * V + len(pairs) * V * V
        return Probit(rng, problem.reps, V, D, problem.rounds, D=D, pairs=pairs, mean=np.zeros((problem.reps, size)),
                      var=np.ones((problem.reps, size)), draws=draws, table=table(V, D))

    def select(self, s: Probit, context: Array | None) -> Array:
        from banditmap.sim.kernels import combination
        pages: Array = combination.step_choose_mvt_ts(self.params(), s.mean, s.var, s.table, s.K, s.D, s.draws)
        return pages

    def update(self, s: Probit, feedback: Feedback) -> None:
        from banditmap.sim.kernels import combination
        combination.step_learn_mvt_ts(s.mean, s.var, s.draws, np.asarray(feedback.reps, dtype=np.int64),
                                      np.ascontiguousarray(feedback.actions, dtype=np.int64),
                                      np.asarray(feedback.observed, dtype=np.float64), s.K)

    def recommend(self, s: Probit) -> Array:
        from banditmap.sim.kernels import combination
        pages: Array = combination.best_pages(s.mean, s.table, s.K, s.D, self.climbs, s.draws)
        return pages


def table(V: int, D: int) -> Array:
    """The active features of every page (V ** D, D + P) when they are at most EXHAUSTIVE, else none (0, D + P)."""
    from banditmap.sim.kernels import combination
    if V ** D <= EXHAUSTIVE:
        every: Array = combination.page_table(V, D)
        return every
    return np.empty((0, D + D * (D - 1) // 2), dtype=np.int64)


@register("uniform-random-combination")
@dataclass(frozen=True)
class UniformCombination(Memoryless):
    """The baseline for pages: every page equally likely (so every component's value at random), one uniform draw
    of a page number a decision from the repetition's compiled stream, as the uniform K-armed kernel draws an arm
    over the pages (sim/kernels/combination.py's uniform_pages): the compiled race runs it so (compiled.pages_form)
    with the same numbers."""

    kinds: ClassVar[frozenset[str]] = COMBINATION

    def select(self, state: State, context: Array | None) -> Array:
        from banditmap.sim.kernels import combination
        pages: Array = combination.uniform_pages(state.kernel_streams(), state.K, state.k)
        return pages
