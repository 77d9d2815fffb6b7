"""Policies built for feedback that arrives late: a queue-based reduction around UCB1 (its kernels in
sim/kernels/policies.py), and a UCB that knows the delay distribution and does not mistake a conversion still on
its way for a failure; the per-arm queues the delay-queue adapter keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypedDict

import numpy as np

from banditmap.sim.policies.base import WIDTH, Array, Feedback, State, argmax_random, hyperparameter, register, whole
from banditmap.sim.policies.mab import ArmStats, Counting, Kernel, arm_stats, untried_first
from banditmap.sim.problem import Problem


@dataclass(kw_only=True)
class ArmQueues(State):
    """Per repetition and arm, a FIFO of rewards that arrived but were not handed over to the learner."""

    buffer: Array  # (R, K, capacity) each queue a ring, grown when one is full
    head: Array  # (R, K) the slot of each queue's oldest reward
    size: Array  # (R, K) rewards queued

    def push(self, reps: Array, arms: Array, rewards: Array) -> None:
        """Queue rewards; each repetition appears at most once in a call."""
        if (self.size[reps, arms] >= self.buffer.shape[2]).any():
            self._grow()
        capacity = self.buffer.shape[2]
        self.buffer[reps, arms, (self.head[reps, arms] + self.size[reps, arms]) % capacity] = rewards
        self.size[reps, arms] += 1

    def pop(self, reps: Array, arms: Array) -> Array:
        rewards: Array = self.buffer[reps, arms, self.head[reps, arms]]
        self.head[reps, arms] = (self.head[reps, arms] + 1) % self.buffer.shape[2]
        self.size[reps, arms] -= 1
        return rewards

    def _grow(self) -> None:
        R, K, capacity = self.buffer.shape
        order = (self.head[:, :, None] + np.arange(capacity)) % capacity  # unroll every ring to start at 0
        unrolled = np.take_along_axis(self.buffer, order, axis=2)
        self.buffer = np.concatenate([unrolled, np.zeros((R, K, capacity))], axis=2)
        self.head[:] = 0


class QueueArrays(TypedDict):
    buffer: Array
    head: Array
    size: Array


def empty_queues(R: int, K: int) -> QueueArrays:
    """The arrays of ArmQueues for R repetitions and K arms, every queue empty."""
    return {"buffer": np.zeros((R, K, 16)), "head": np.zeros((R, K), dtype=np.int64),
            "size": np.zeros((R, K), dtype=np.int64)}


QUEUE_SLOTS = 2048  # rewards Q-PAQ's kernel holds back at once, over all arms, before handing them over at once


@register("delayed-ucb")
@dataclass(frozen=True)
class QueuedUCB(Kernel):
    """Q-PAQ (Joulani, Gyorgy and Szepesvari 2013) around UCB1: the base algorithm always sees one reward per
    decision it made, taken in order from a queue of rewards already arrived for the arm it asks for. While the
    queue of its arm is empty the decision is played for real, and its reward joins the queue when it arrives.
    The base thus runs as if feedback were immediate, on a slightly older sample. Its kernels keep the queues in
    the scratch row (sim/kernels/policies.py), at most QUEUE_SLOTS rewards (or one per round) at once: beyond
    that the base learns a reward as it arrives."""

    choose: ClassVar[str] = "choose_queued_ucb"
    learn: ClassVar[str] = "learn_queued"
    alpha: float = hyperparameter(2.0, WIDTH)

    def width(self, problem: Problem) -> int:
        """Each arm's first and last slot, the free list and the slots used, then each slot's reward and next."""
        return 3 * problem.n_arms + 4 + 2 * min(QUEUE_SLOTS, max(problem.rounds, 1))


@dataclass(kw_only=True)
class Conversions(ArmStats):
    q: float = 0.0  # the probability that a conversion is still on its way one more round: 1 - 1 / mean delay
    window: int = 1
    recent: Array  # (R, window) ring of the last plays
    in_window: Array  # (R, K) plays at most `window` rounds old
    decay: Array  # (R, K) sum of q ** age over those plays
    old: Array  # (R, K) older plays
    conversions: Array  # (R, K) conversions that arrived within the window


@register("delayed-conversions-ucb")
@dataclass(frozen=True)
class DelayedConversionsUCB(Counting[Conversions]):
    """The windowed estimator of Vernade, Cappe and Perchet (2017) with a UCB on it. Only conversions are ever
    seen (a failure is never reported), late by a delay with a known (here geometric) distribution, and those
    later than `window` rounds are discarded. A play s rounds ago has been revealed with probability
    tau(min(s, window)), so conversions / sum of tau over plays estimates the conversion rate without the
    downward bias of counting pending conversions as failures; the bonus is Hoeffding's on that sum."""

    offers: ClassVar[frozenset[str]] = frozenset()  # its counts are plays and its means are re-weighted estimates
    window: int = hyperparameter(1000, whole(1, 10_000_000))

    def init(self, problem: Problem, rng: np.random.Generator) -> Conversions:
        R, K = problem.reps, problem.n_arms
        q = 1.0 - 1.0 / problem.mean_delay if problem.delay == "delayed" else 0.0
        zeros = np.zeros((R, K))
        return arm_stats(problem, rng, Conversions, q=q, window=self.window,
                         recent=np.full((R, min(self.window, problem.rounds)), -1, dtype=np.int64),
                         in_window=zeros.copy(),
                         decay=zeros.copy(), old=zeros.copy(), conversions=zeros.copy())

    def select(self, s: Conversions, context: Array | None) -> Array:
        rows = np.arange(s.R)
        plays = s.in_window + s.old
        revealed = s.old * (1 - s.q ** s.window) + s.in_window - s.decay  # expected share of plays revealed
        rate = s.conversions / np.maximum(revealed, 1e-9)
        t = max(s.t, 2)
        bonus = np.sqrt(2 * plays * np.log(t)) / np.maximum(revealed, 1e-9)
        scores = np.minimum(rate, 1.0) + bonus
        choice = argmax_random(untried_first(s, scores), s.rng)
        s.counts[rows, choice] += 1  # plays, counted when made: conversions may never come
        s.means[rows, choice] = s.conversions[rows, choice] / s.counts[rows, choice]
        # age every play by one round, let the play `window` rounds ago leave the window, and add this one
        s.decay *= s.q
        slot = s.t % s.recent.shape[1]  # the ring is no longer than the run: a window past it never fills
        leaving = s.recent[:, slot]
        gone = np.flatnonzero(leaving >= 0)
        s.in_window[gone, leaving[gone]] -= 1
        s.decay[gone, leaving[gone]] -= s.q ** (s.window + 1)
        s.old[gone, leaving[gone]] += 1
        np.maximum(s.decay, 0.0, out=s.decay)
        s.recent[:, slot] = choice
        s.in_window[rows, choice] += 1
        s.decay[rows, choice] += s.q
        s.aux = np.full(s.R, s.t)  # the round of the play, returned with its feedback
        return choice

    def update(self, s: Conversions, feedback: Feedback) -> None:
        assert feedback.aux is not None
        converted = (feedback.observed > 0) & (s.t - feedback.aux <= s.window)
        index = (feedback.reps[converted], feedback.actions[converted])
        np.add.at(s.conversions, index, 1.0)
        s.sums = s.conversions
        s.means[index] = s.conversions[index] / s.counts[index]  # played, so counted: at least 1
