"""Policies that show a list of k items: cascade ranking and semi-bandit slates, with per-item statistics. Each
decides and learns through compiled kernels (sim/kernels/lists.py), in the whole-race kernel and, one round at a
time, in the step-by-step loop (adapters around them, replay)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (NARROWEST, WIDTH, Array, Domain, Feedback, Policy, State, hyperparameter,
                                         register)
from banditmap.sim.problem import Problem

CASCADE = frozenset({"cascade"})
SLATE = frozenset({"slate"})


@dataclass(kw_only=True)
class ListStats(State):
    """Per-item statistics of a list policy: (R, K), or (R, k, K) for statistics per position."""

    counts: Array  # observations per item (per position and item)
    sums: Array  # their rewards
    means: Array  # sums / counts where counts > 0
    draws: Array  # (R,) uint64: one random stream per repetition
    scratch: Array  # (R, W) the kernels' own (cached indices, Gamma constants; W = the policy's width)


def observed_rows(feedback: Feedback, k: int) -> Array:
    """What each position of each list gave (N, k): the rewards of a slate as they are; in the cascade, whose
    observation is the click position (k: none), 1 at the clicked position and 0 elsewhere."""
    observed = np.asarray(feedback.observed, dtype=np.float64)
    if observed.ndim == 2:
        return np.ascontiguousarray(observed)
    rows: Array = (np.arange(k)[None, :] == observed.astype(np.int64)[:, None]).astype(np.float64)
    return rows


@dataclass(frozen=True)
class ListKernel(Policy[ListStats]):
    """A list policy whose decisions and learning are compiled kernels (sim/kernels/lists.py), one implementation
    for the compiled race and the step-by-step loop. The kernels read the hyperparameters in the order the fields
    are declared."""

    kinds: ClassVar[frozenset[str]] = CASCADE | SLATE
    choose: ClassVar[str] = "choose_uniform_list"
    learn: ClassVar[str] = "learn_nothing"
    per_position: ClassVar[bool] = False  # statistics per position and item (R, k, K), not per item (R, K)

    def columns(self, problem: Problem) -> int:
        """The width of the kernels' statistics: K items, or k positions x K items."""
        return problem.n_arms * (problem.slate_size if self.per_position else 1)

    def width(self, problem: Problem) -> int:
        """Columns of the kernels' scratch row: a per-item cache and one more."""
        return problem.n_arms + 1

    def start(self, problem: Problem) -> Array:
        """A repetition's scratch row (width(problem),) before the first round."""
        return np.zeros(self.width(problem))

    def init(self, problem: Problem, rng: np.random.Generator) -> ListStats:
        R, K, k = problem.reps, problem.n_arms, problem.slate_size
        draws = states_from(rng, R)  # as the compiled race draws its streams
        shape = (R, k, K) if self.per_position else (R, K)
        return ListStats(rng, R, K, k, problem.rounds, counts=np.zeros(shape), sums=np.zeros(shape),
                         means=np.zeros(shape), draws=draws, scratch=np.tile(self.start(problem), (R, 1)))

    def select(self, s: ListStats, context: Array | None) -> Array:
        from banditmap.sim.kernels import lists
        choose, _ = lists.make_steps(self.choose, self.learn)
        flat = (a.reshape(s.R, -1) for a in (s.counts, s.sums, s.means))  # views: the kernels write through
        chosen: Array = choose(self.params(), *flat, s.scratch, s.draws, s.t, s.horizon, s.k)
        return chosen

    def update(self, s: ListStats, feedback: Feedback) -> None:
        from banditmap.sim.kernels import lists
        _, learn = lists.make_steps(self.choose, self.learn)
        flat = (a.reshape(s.R, -1) for a in (s.counts, s.sums, s.means))
        learn(self.params(), *flat, s.scratch, s.draws, np.asarray(feedback.reps, dtype=np.int64),
              np.ascontiguousarray(feedback.actions, dtype=np.int64), observed_rows(feedback, s.k))


@register("cascade-ucb")
@dataclass(frozen=True)
class CascadeUCB(ListKernel):
    """CascadeUCB1 (Kveton et al. 2015): the k items of highest UCB1 index mean + sqrt(alpha log t / n), t the
    items' observations so far, untried items first, learning from the items examined down to the click."""

    kinds: ClassVar[frozenset[str]] = CASCADE
    choose: ClassVar[str] = "choose_ucb_items"
    learn: ClassVar[str] = "learn_cascade"
    alpha: float = hyperparameter(1.5, WIDTH)


@register("cascade-klucb")
@dataclass(frozen=True)
class CascadeKLUCB(ListKernel):
    """CascadeKL-UCB (Kveton et al. 2015) in its simplest form: items scored by a KL upper confidence bound with
    exploration log t, learning from the items examined down to the click; each item's index is kept until its
    statistics change or t has grown by 5%."""

    kinds: ClassVar[frozenset[str]] = CASCADE
    choose: ClassVar[str] = "choose_kl_ucb_items"
    learn: ClassVar[str] = "learn_cascade"


@register("cucb")
@dataclass(frozen=True)
class CombinatorialUCB(ListKernel):
    """CUCB (Chen, Wang and Yuan 2013) with the top-k oracle: the k items of highest UCB1 index, learning from every
    item shown (semi-bandit feedback)."""

    kinds: ClassVar[frozenset[str]] = SLATE
    choose: ClassVar[str] = "choose_ucb_items"
    learn: ClassVar[str] = "learn_slate"
    alpha: float = hyperparameter(1.5, WIDTH)


@register("pbm-ucb")
@dataclass(frozen=True)
class PositionBasedUCB(ListKernel):
    """PBM-UCB (Lagree, Vernade & Cappe, NeurIPS 2016) shows the k items of highest index
    S/N~ + sqrt(N delta_t / (2 N~^2)), delta_t = (1 + epsilon) log t, where S counts an item's clicks, N its displays
    and N~ its displays weighted by the examination probability of the position each was in. Here every position has
    the same probability `examination`, so N~ = examination x N; the simulated slate examines every position, which
    its default 1 says, and the index is then S/N + sqrt(delta_t / (2N)), t the displays so far / k. The position
    bias the method corrects for is not simulated, so this races its special case."""

    kinds: ClassVar[frozenset[str]] = SLATE
    choose: ClassVar[str] = "choose_pbm_ucb"
    learn: ClassVar[str] = "learn_slate"
    epsilon: float = hyperparameter(0.0, WIDTH)
    examination: float = hyperparameter(1.0, Domain(NARROWEST, 1.0, why="a position never examined teaches nothing"))

    def width(self, problem: Problem) -> int:
        """Each item's S/N~ (:K) and 1 / (examination sqrt(2N)) (K + 1 on), kept between decisions."""
        return 2 * problem.n_arms + 1


@register("cts")
@dataclass(frozen=True)
class CombinatorialThompson(ListKernel):
    """Combinatorial Thompson sampling with the top-k oracle (Wang & Chen 2018): the k items of largest draw from
    Beta(1 + clicks, 1 + max(shown - clicks, 0)), learning from every item shown."""

    kinds: ClassVar[frozenset[str]] = SLATE
    choose: ClassVar[str] = "choose_cts"
    learn: ClassVar[str] = "learn_slate"

    def width(self, problem: Problem) -> int:
        """Each item's Gamma constants for its clicks (:K) and misses (K + 1 on), kept between draws."""
        return 2 * problem.n_arms + 1


@register("uniform-random-list")
@dataclass(frozen=True)
class UniformList(ListKernel):
    """The baseline for lists: k distinct items at random."""


@register("ranked-ucb")
@dataclass(frozen=True)
class RankedUCB(ListKernel):
    """One UCB1 per position, each rewarded by clicks at its own position, items kept distinct down the list
    (ranked bandits, Radlinski et al. 2008). It ignores that a click hides the positions below it; kept as the
    reference that cascade-aware learning must beat."""

    kinds: ClassVar[frozenset[str]] = CASCADE
    choose: ClassVar[str] = "choose_ranked_ucb"
    learn: ClassVar[str] = "learn_ranked"
    per_position: ClassVar[bool] = True
    alpha: float = hyperparameter(1.5, WIDTH)
