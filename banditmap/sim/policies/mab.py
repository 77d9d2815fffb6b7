"""Stochastic and adversarial K-armed policies: one arm per decision, statistics per arm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, TypeVar, overload

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (ARM_STATISTICS, CONFIDENCE_BOUNDS, RATE, SCALE, SHARE, WIDEST, WIDTH, Array,
                                         Domain, Feedback, Policy, State, Statistics, argmax_random,
                                         hyperparameter, kl_upper_bound, register, scatter_add, whole)
from banditmap.sim.problem import Problem

ARMS = frozenset({"arms"})


@dataclass(kw_only=True)
class ArmStats(State):
    counts: Array  # (R, K) observations per arm
    sums: Array  # (R, K) their rewards
    means: Array  # (R, K) sums / counts, kept up to date by add_observations
    jitter: Array  # (R, K) fixed tiny noise that breaks ties at random
    index: Array | None = None  # cached KL index (see kl_index)
    index_t: Array | None = None  # the decision count the cached index was computed for, (R, 1)
    dirty: Array | None = None  # entries whose statistics changed since the index was computed

    def touch(self, index: tuple[Array, ...]) -> None:
        if self.dirty is not None:
            self.dirty[index] = True


A = TypeVar("A", bound=ArmStats)


@overload
def arm_stats(problem: Problem, rng: np.random.Generator) -> ArmStats: ...
@overload
def arm_stats(problem: Problem, rng: np.random.Generator, cls: type[A], n_arms: int | None = None,
              **extra: Any) -> A: ...


def arm_stats(problem: Problem, rng: np.random.Generator, cls: type[ArmStats] = ArmStats,
              n_arms: int | None = None, **extra: Any) -> ArmStats:
    """Fresh per-arm statistics for R repetitions (of class `cls`, with its `extra` arrays)."""
    R, K = problem.reps, n_arms or problem.n_arms
    return cls(rng, R, K, problem.slate_size, problem.rounds, counts=np.zeros((R, K)),
                sums=np.zeros((R, K)), means=np.zeros((R, K)), jitter=rng.random((R, K)) * 1e-9, **extra)


def ucb_width(s: ArmStats, alpha: float) -> Array:
    """sqrt(alpha log t / n), t the observations so far."""
    t = np.maximum(s.counts.sum(axis=1, keepdims=True), 2.0)
    width: Array = np.sqrt(alpha * np.log(t) / np.maximum(s.counts, 1))
    return width


def ucb_index(s: ArmStats, alpha: float) -> Array:
    """mean + sqrt(alpha log t / n), t the observations so far (UCB1 is alpha = 2)."""
    index: Array = s.means + ucb_width(s, alpha)
    return index


def add_observations(state: ArmStats, feedback: Feedback, rewards: Array | None = None) -> None:
    values = feedback.observed if rewards is None else rewards
    flat = feedback.reps * state.K + feedback.actions  # indices into the raveled (R, K) arrays: fewer numpy calls
    counts, sums, means = state.counts.reshape(-1), state.sums.reshape(-1), state.means.reshape(-1)
    scatter_add(counts, (flat,), 1.0, feedback.unique)
    scatter_add(sums, (flat,), values, feedback.unique)
    means[flat] = sums[flat] / counts[flat]
    state.touch((feedback.reps, feedback.actions))


REFRESH = 1.05


def kl_index(s: ArmStats, exploration: Callable[[Array], Array]) -> Array:
    """KL upper confidence bounds, kl(mean, q) <= exploration(t) / n, cached between decisions.

    Recomputing every entry at every decision dominates the run time on large item sets, so an entry is
    recomputed when its statistics change, and all entries when some repetition's decision count t has grown
    by 5% since the last full pass: the exploration term then uses a t at most 5% short (log t at most 0.05
    short), which leaves the algorithm's behaviour and guarantees intact.
    """
    t = np.maximum(s.counts.sum(axis=1, keepdims=True), 2.0)
    if s.index is None or s.index_t is None or s.dirty is None or bool((t > s.index_t * REFRESH).any()):
        s.index = kl_upper_bound(s.means, exploration(t) / np.maximum(s.counts, 1))
        s.index_t = t
        s.dirty = np.zeros(s.counts.shape, dtype=bool)
    else:
        rows, cols = np.nonzero(s.dirty)
        if len(rows):
            budget = exploration(s.index_t[rows, 0]) / np.maximum(s.counts[rows, cols], 1)
            s.index[rows, cols] = kl_upper_bound(s.means[rows, cols], budget)
            s.dirty[rows, cols] = False
    return s.index


def untried_first(state: ArmStats, scores: Array) -> Array:
    """Scores where every arm not yet observed comes first (an infinite index)."""
    return np.where(state.counts == 0, np.inf, scores)


def around(s: ArmStats, width: Array, means: Array | None = None) -> tuple[Array, Array]:
    """Confidence bounds mean -/+ width (R, K); -inf and inf for an arm not yet observed."""
    centre = s.means if means is None else means
    tried = s.counts > 0
    return np.where(tried, centre - width, -np.inf), np.where(tried, centre + width, np.inf)


BOTH = frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS})


@dataclass(frozen=True)
class Counting(Policy[A]):
    """Shared plumbing of policies whose state (of type A) is per-arm counts, sums and means."""

    kinds: ClassVar[frozenset[str]] = ARMS
    offers: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS})

    def statistics(self, state: A) -> Statistics:
        return state

    def update(self, state: A, feedback: Feedback) -> None:
        add_observations(state, feedback)

    def recommend(self, state: A) -> Array:
        return argmax_random(state.means, state.rng)


@dataclass(frozen=True)
class CountingPolicy(Counting[ArmStats]):
    """A policy whose state is per-arm statistics and nothing more."""

    def init(self, problem: Problem, rng: np.random.Generator) -> ArmStats:
        return arm_stats(problem, rng)


@dataclass(kw_only=True)
class KernelStats(ArmStats):
    """Per-arm statistics of a policy that decides with compiled kernels (sim/kernels/arms.py)."""

    draws: Array  # (R,) uint64: one random stream per repetition
    scratch: Array  # (R, W) the kernel's own (KL-UCB's cached indices; W = the policy's width)
    notes: int = 0  # the columns of its note on each decision from K + 1 (kernels/arms.py's note_columns)

    def touch(self, index: tuple[Array, ...]) -> None:
        self.scratch[:, :self.K][index] = -1.0  # an index cached from the old statistics is stale (indices are > 0)


@dataclass(frozen=True)
class Kernel(Counting[KernelStats]):
    """A counting policy whose decisions and learning are compiled kernels, one implementation for the compiled
    race, the step-by-step loop (adapters around it, other problem kinds) and replay. The kernels read the
    hyperparameters in the order the fields are declared."""

    choose: ClassVar[str] = "choose_uniform"  # names of the kernels in sim/kernels/arms.py or policies.py
    learn: ClassVar[str] = "learn_counts"
    writes_in_select: ClassVar[bool] = True  # most choose kernels keep values or a note in the scratch row

    def width(self, problem: Problem) -> int:
        """Columns of the kernels' scratch row as the default `start` makes it: a per-arm cache and one more, and
        what the policy keeps besides (a row wider than K + 1 gives a note on each decision, which comes back with
        its observation as aux; see `start` for a note of several columns)."""
        return problem.n_arms + 1

    def start(self, problem: Problem) -> Array:
        """A repetition's scratch row (width(problem),) before the first round: zeros, or facts of the problem a
        policy's kernels read (e.g. the delay distribution); -N in column K + 1 asks for a note of N columns
        (kernels/arms.py's note_columns)."""
        return np.zeros(self.width(problem))

    def init(self, problem: Problem, rng: np.random.Generator) -> KernelStats:
        from banditmap.sim.kernels.arms import note_columns
        draws = states_from(rng, problem.reps)  # first, so that the compiled race draws the same streams
        start = self.start(problem)
        scratch = np.tile(start, (problem.reps, 1))
        return arm_stats(problem, rng, KernelStats, draws=draws, scratch=scratch,
                         notes=int(note_columns(start, problem.n_arms)))

    def select(self, s: KernelStats, context: Array | None) -> Array:
        from banditmap.sim.kernels import arms
        choose, _ = arms.make_steps(self.choose, self.learn)
        actions: Array = choose(self.params(), s.counts, s.sums, s.means, s.scratch, s.draws, s.t, s.horizon)
        if s.notes == 1:
            s.aux = s.scratch[:, s.K + 1].copy()  # each decision's note, returned with its feedback
        elif s.notes:
            s.aux = s.scratch[:, s.K + 1:s.K + 1 + s.notes].copy()  # (R, notes): a note of several columns
        return actions

    def update(self, s: KernelStats, feedback: Feedback) -> None:
        from banditmap.sim.kernels import arms
        _, learn = arms.make_steps(self.choose, self.learn)
        noted = s.notes > 0 and feedback.aux is not None
        notes = np.ascontiguousarray(feedback.aux, dtype=np.float64).reshape(-1) if noted else np.empty(0)
        learn(self.params(), s.counts, s.sums, s.means, s.scratch, s.draws, feedback.reps.astype(np.int64),
              np.asarray(feedback.actions, dtype=np.int64), np.asarray(feedback.observed, dtype=np.float64), notes)


@register("uniform-random")
@dataclass(frozen=True)
class UniformRandom(Kernel):
    """The baseline: every arm equally likely, whatever has been seen."""

    writes_in_select: ClassVar[bool] = False  # its choose kernel only reads the scratch row
    kinds: ClassVar[frozenset[str]] = ARMS | {"contextual", "budget", "multi"}

    def exploit(self, state: KernelStats, context: Array | None) -> Array:
        return self.select(state, context)  # the baseline stays uniform: the reference every policy is held to

    def update(self, state: KernelStats, feedback: Feedback) -> None:
        if feedback.observed.ndim == 1:  # reward vectors (several objectives) are not averaged into one
            super().update(state, feedback)


@register("epsilon-greedy")
@dataclass(frozen=True)
class EpsilonGreedy(Kernel):
    writes_in_select: ClassVar[bool] = False  # its choose kernel only reads the scratch row
    choose: ClassVar[str] = "choose_epsilon_greedy"
    epsilon: float = hyperparameter(0.1, SHARE)


@register("softmax")
@dataclass(frozen=True)
class Softmax(Kernel):
    writes_in_select: ClassVar[bool] = False  # its choose kernel only reads the scratch row
    choose: ClassVar[str] = "choose_softmax"
    tau: float = hyperparameter(0.1, SCALE)


@register("ucb1")
@dataclass(frozen=True)
class UCB1(Kernel):
    """UCB1 (Auer, Cesa-Bianchi & Fischer 2002): each arm's mean + sqrt(alpha log t / n), every arm once first;
    the paper's index is alpha = 2."""

    writes_in_select: ClassVar[bool] = False  # its choose kernel only reads the scratch row
    offers: ClassVar[frozenset[str]] = BOTH
    choose: ClassVar[str] = "choose_ucb1"
    alpha: float = hyperparameter(2.0, WIDTH)

    def bounds(self, s: KernelStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, ucb_width(s, self.alpha))


@register("kl-ucb")
@dataclass(frozen=True)
class KLUCB(Kernel):
    offers: ClassVar[frozenset[str]] = BOTH
    choose: ClassVar[str] = "choose_kl_ucb"
    learn: ClassVar[str] = "learn_kl_ucb"
    c: float = hyperparameter(0.0, WIDTH)

    def exploration(self, t: Array) -> Array:
        """log t + c log log t (Garivier and Cappe 2011), the log log term held at 0 while log t < 1 so that the
        budget never goes negative in the first rounds."""
        exploration: Array = np.log(t) + self.c * np.log(np.maximum(np.log(t), 1.0))
        return exploration

    def bounds(self, s: KernelStats, context: Array | None) -> tuple[Array, Array]:
        """The KL upper bound, and the lower one by symmetry: kl(p, q) = kl(1 - p, 1 - q)."""
        t = np.maximum(s.counts.sum(axis=1, keepdims=True), 2.0)
        budget = self.exploration(t) / np.maximum(s.counts, 1)
        means = np.clip(s.means, 0.0, 1.0)
        tried = s.counts > 0
        return (np.where(tried, 1 - kl_upper_bound(1 - means, budget), -np.inf),
                np.where(tried, kl_upper_bound(means, budget), np.inf))


@register("moss")
@dataclass(frozen=True)
class MOSS(Kernel):
    """Audibert and Bubeck (2009): mean + sqrt(max(log(n / (K T_a)), 0) / T_a), n the horizon; an arm played more
    than n / K times has no bonus left."""

    choose: ClassVar[str] = "choose_moss"
    learn: ClassVar[str] = "learn_moss"

    def width(self, problem: Problem) -> int:
        """Each arm's index kept (K + 2 on) with its flag (:K), until the arm's statistics change."""
        return 2 * problem.n_arms + 2


@register("thompson-beta")
@dataclass(frozen=True)
class ThompsonBeta(Kernel):
    """Beta-Bernoulli posterior per arm; a reward in [0, 1] counts as a success with that probability."""

    choose: ClassVar[str] = "choose_thompson_beta"
    learn: ClassVar[str] = "learn_thompson_beta"
    alpha0: float = hyperparameter(1.0, SCALE)
    beta0: float = hyperparameter(1.0, SCALE)

    def width(self, problem: Problem) -> int:
        """Each arm's Gamma constants for its successes (:K) and failures (K + 2 on), kept between draws."""
        return 2 * problem.n_arms + 2


@register("thompson-gaussian")
@dataclass(frozen=True)
class ThompsonGaussian(Kernel):
    writes_in_select: ClassVar[bool] = False  # its choose kernel only reads the scratch row
    choose: ClassVar[str] = "choose_thompson_gaussian"
    prior_mean: float = hyperparameter(0.0, Domain(-WIDEST, WIDEST))
    prior_var: float = hyperparameter(1.0, SCALE)
    noise_var: float = hyperparameter(1.0, SCALE)


@register("robust-ucb")
@dataclass(frozen=True)
class RobustUCB(Kernel):
    """Truncated-mean UCB (Bubeck, Cesa-Bianchi and Lugosi 2013): the s-th sample of an arm is dropped when it
    exceeds (u s / log(1/delta))^(1/(1+epsilon)), with delta = 1/T^2 fixed from the horizon. Its kernels are the
    robust-mean adapter's (sim/kernels/wrappers.py) around plain counting, so the estimator is written once."""

    offers: ClassVar[frozenset[str]] = BOTH
    choose: ClassVar[str] = "robust_choose<choose_uniform|learn_counts>"
    learn: ClassVar[str] = "robust_learn<choose_uniform|learn_counts>"
    moment_bound: float = hyperparameter(1.0, SCALE)
    epsilon: float = hyperparameter(1.0, RATE)

    def start(self, problem: Problem) -> Array:
        """Plain counting's row, then the truncated means' columns (wrappers.robust_region)."""
        from banditmap.sim.kernels.wrappers import composed_row, robust_region
        K = problem.n_arms
        return composed_row(np.zeros(K + 1), K, robust_region(K, problem.rounds))

    def confidence(self, s: ArmStats) -> Array:
        """The estimator's confidence width 4 u^(1/(1+e)) (log(1/delta) / n)^(e/(1+e)) (R, K)."""
        log_inv_delta = 2 * np.log(max(s.horizon, 2))
        e = self.epsilon
        n = np.maximum(s.counts, 1)
        width: Array = 4 * self.moment_bound ** (1 / (1 + e)) * (log_inv_delta / n) ** (e / (1 + e))
        return width

    def bounds(self, s: KernelStats, context: Array | None) -> tuple[Array, Array]:
        return around(s, self.confidence(s))


@register("exp3")
@dataclass(frozen=True)
class EXP3(Kernel):
    """Exponential weights with importance-weighted reward estimates (rewards in [0, 1]; Auer, Cesa-Bianchi,
    Freund and Schapire 2002). Its kernels (sim/kernels/policies.py) keep the log weights in the scratch row, and
    the probability of the arm played travels with its feedback."""

    offers: ClassVar[frozenset[str]] = frozenset()  # it decides from its weights, not from its counts
    choose: ClassVar[str] = "choose_exp3"
    learn: ClassVar[str] = "learn_exp3"
    gamma: float = hyperparameter(0.1, RATE)

    def width(self, problem: Problem) -> int:
        """The note, then the K log weights."""
        return 2 * problem.n_arms + 2

    def recommend(self, state: KernelStats) -> Array:
        return argmax_random(state.scratch[:, state.K + 2:], state.rng)


@register("exp3-s")
@dataclass(frozen=True)
class EXP3S(EXP3):
    """EXP3 with weight sharing: each update mixes alpha/K of the total weight into every arm (tracks switches)."""

    learn: ClassVar[str] = "learn_exp3_s"
    alpha: float = hyperparameter(0.001, SHARE)


@register("top-two-ts")
@dataclass(frozen=True)
class TopTwoThompson(Kernel):
    """With probability beta play the posterior sample's best arm, otherwise the best arm of a fresh sample that
    differs from it (up to `resamples` fresh samples, then the second best of the last one); a reward in [0, 1]
    counts as a success with that probability. Its kernel is in sim/kernels/policies.py."""

    choose: ClassVar[str] = "choose_top_two_ts"
    learn: ClassVar[str] = "learn_bernoulli_trial"
    beta: float = hyperparameter(0.5, SHARE)
    resamples: int = hyperparameter(10, whole(1, 30, "each is a posterior draw of every arm"))
