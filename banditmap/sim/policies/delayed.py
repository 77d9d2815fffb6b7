"""Policies built for feedback that arrives late: a queue-based reduction around UCB1 (its kernels in
sim/kernels/policies.py), and a UCB that knows the delay distribution and does not mistake a conversion still on
its way for a failure; the per-arm queues the delay-queue adapter keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypedDict

import numpy as np

from banditmap.sim.policies.base import WIDTH, Array, State, hyperparameter, register, whole
from banditmap.sim.policies.mab import Kernel, KernelStats
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


QUEUE_SLOTS = 2048  # rewards a compiled delay queue holds back at once, over all arms, before handing them over at once


@register("delayed-ucb")
@dataclass(frozen=True)
class QueuedUCB(Kernel):
    """Q-PAQ (Joulani, Gyorgy and Szepesvari 2013) around UCB1: the base algorithm always sees one reward per
    decision it made, taken in order from a queue of rewards already arrived for the arm it asks for. While the
    queue of its arm is empty the decision is played for real, and its reward joins the queue when it arrives.
    The base thus runs as if feedback were immediate, on a slightly older sample. Its kernels are the delay-queue
    adapter's compiled around UCB1's (sim/kernels/wrappers.py), the queues in the scratch row, at most
    QUEUE_SLOTS rewards (or one per round) at once: beyond that the base learns a reward as it arrives."""

    choose: ClassVar[str] = "queue_choose<choose_ucb1|learn_counts>"
    learn: ClassVar[str] = "queue_learn<choose_ucb1|learn_counts>"
    alpha: float = hyperparameter(2.0, WIDTH)

    def start(self, problem: Problem) -> Array:
        """UCB1's row, then the queues' columns (wrappers.queue_region)."""
        from banditmap.sim.kernels.wrappers import composed_row, queue_region
        K = problem.n_arms
        return composed_row(np.zeros(K + 1), K, queue_region(K, min(QUEUE_SLOTS, max(problem.rounds, 1))))


@register("delayed-conversions-ucb")
@dataclass(frozen=True)
class DelayedConversionsUCB(Kernel):
    """The windowed estimator of Vernade, Cappe and Perchet (2017) with a UCB on it. Only conversions are ever
    seen (a failure is never reported), late by a delay with a known (here geometric) distribution, and those
    later than `window` rounds are discarded. A play s rounds ago has been revealed with probability
    tau(min(s, window)), so conversions / sum of tau over plays estimates the conversion rate without the
    downward bias of counting pending conversions as failures. The index on it is the paper's KL-UCB one (kl=1,
    which the paper advises when conversion rates are low: a Poisson divergence bound, the revealed plays being
    Bernoulli trials with different success probabilities) or its UCB one (kl=0, a Hoeffding bonus). Its counts
    are plays, its sums the conversions in time; its kernels (sim/kernels/policies.py) keep the rest in the
    scratch row (`conversion_books` reads it), and the round of each play travels with its feedback."""

    offers: ClassVar[frozenset[str]] = frozenset()  # its counts are plays and its means are re-weighted estimates
    takes_conversions: ClassVar[bool] = True
    choose: ClassVar[str] = "choose_delayed_conversions"
    learn: ClassVar[str] = "learn_conversions"
    window: int = hyperparameter(1000, whole(1, 10_000_000))
    kl: int = hyperparameter(1, whole(0, 1, "1: the KL-UCB index, 0: the UCB one"))

    def width(self, problem: Problem) -> int:
        """The decisions made, q and two of its powers, the plays in the window, their decay and the older plays
        per arm, and a ring of the last plays (no longer than the run)."""
        return 4 * problem.n_arms + 6 + min(self.window, problem.rounds)

    def start(self, problem: Problem) -> Array:
        """q, the probability that a conversion is still on its way one more round (1 - 1 / mean delay; 0 when
        feedback is not delayed), and q^window and q^(window + 1)."""
        row = super().start(problem)
        K = problem.n_arms
        q = 1.0 - 1.0 / problem.mean_delay if problem.delay == "delayed" else 0.0
        row[K + 3:K + 6] = q, q ** self.window, q ** (self.window + 1)
        return row



def conversion_books(s: KernelStats) -> dict[str, Array]:
    """What the conversions kernels keep in a state's scratch: q (R,), and per arm (R, K) the plays within the
    window, the sum of q^age over them, and the older plays."""
    K = s.K
    return {"q": s.scratch[:, K + 3], "q_window": s.scratch[:, K + 4], "in_window": s.scratch[:, K + 6:2 * K + 6],
            "decay": s.scratch[:, 2 * K + 6:3 * K + 6], "old": s.scratch[:, 3 * K + 6:4 * K + 6]}
