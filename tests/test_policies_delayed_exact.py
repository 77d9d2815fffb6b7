"""The delayed-feedback policies of banditmap.sim.policies.delayed checked by hand: the per-arm reward queues
(FIFO rings that grow when full, unrolled to start at slot 0), the scratch rows the compiled kernels start from
(Q-PAQ around UCB1: UCB1's row then the queue's columns; the conversions estimator of Vernade et al. 2017: q, q^w
and q^(w + 1) with q = 1 - 1 / mean delay) and where conversion_books finds the conversions kernels' books."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.delayed import (
    QUEUE_SLOTS,
    ArmQueues,
    DelayedConversionsUCB,
    QueuedUCB,
    conversion_books,
    empty_queues,
)
from banditmap.sim.problem import Problem

from stubs import small_problem


def problem(arms: int = 3, rounds: int = 5, delay: str = "delayed", mean_delay: int = 4, reps: int = 1) -> Problem:
    return small_problem("arms", n_arms=arms, rounds=rounds, reps=reps, delay=delay, mean_delay=mean_delay)


def queues(R: int = 2, K: int = 2) -> ArmQueues:
    return ArmQueues(np.random.default_rng(0), R, K, **empty_queues(R, K))


def push(q: ArmQueues, reps: list[int], arms: list[int], rewards: list[float]) -> None:
    q.push(np.array(reps), np.array(arms), np.array(rewards, float))


def pop(q: ArmQueues, reps: list[int], arms: list[int]) -> list[float]:
    out: list[float] = q.pop(np.array(reps), np.array(arms)).tolist()
    return out


# --- declarations -------------------------------------------------------------------------------------------------

def test_registry_and_hyperparameters() -> None:
    assert REGISTRY["delayed-ucb"] is QueuedUCB and REGISTRY["delayed-conversions-ucb"] is DelayedConversionsUCB
    assert QueuedUCB().alpha == 2.0 and DelayedConversionsUCB().window == 1000 and DelayedConversionsUCB().kl == 1
    assert QueuedUCB.choose == "queue_choose<choose_ucb1|learn_counts>"
    assert QueuedUCB.learn == "queue_learn<choose_ucb1|learn_counts>"
    assert (DelayedConversionsUCB.choose, DelayedConversionsUCB.learn) == ("choose_delayed_conversions",
                                                                         "learn_conversions")
    assert DelayedConversionsUCB.offers == frozenset()
    assert QUEUE_SLOTS == 2048
    with pytest.raises(BanditmapError, match="DelayedConversionsUCB.window"):
        DelayedConversionsUCB(window=0)


# --- the queues ---------------------------------------------------------------------------------------------------

def test_empty_queues_hold_sixteen_slots_and_integer_heads_and_sizes() -> None:
    arrays = empty_queues(2, 3)
    assert arrays["buffer"].shape == (2, 3, 16) and not arrays["buffer"].any()
    assert arrays["head"].shape == (2, 3) and arrays["head"].dtype == np.int64 and not arrays["head"].any()
    assert arrays["size"].shape == (2, 3) and arrays["size"].dtype == np.int64 and not arrays["size"].any()
    assert arrays["buffer"].dtype == np.float64


def test_queues_hand_rewards_back_first_in_first_out_per_repetition_and_arm() -> None:
    q = queues()
    push(q, [0, 1], [1, 1], [0.5, 0.25])
    push(q, [0, 1], [1, 0], [0.75, 1.0])
    push(q, [0], [0], [2.0])
    assert q.size.tolist() == [[1, 2], [1, 1]]
    assert pop(q, [0, 1], [1, 1]) == [0.5, 0.25]
    assert q.head.tolist() == [[0, 1], [0, 1]] and q.size.tolist() == [[1, 1], [1, 0]]
    assert pop(q, [0, 1], [1, 0]) == [0.75, 1.0]
    assert pop(q, [0], [0]) == [2.0]
    assert q.size.tolist() == [[0, 0], [0, 0]]
    assert q.head.tolist() == [[1, 2], [1, 1]]


def test_a_ring_wraps_around_its_sixteen_slots() -> None:
    q = queues(1, 1)
    for value in range(16):
        push(q, [0], [0], [value])
    assert [pop(q, [0], [0])[0] for _ in range(10)] == list(range(10))
    for value in range(16, 26):  # 6 queued + 10 = 16: full, no growth
        push(q, [0], [0], [value])
    assert q.buffer.shape == (1, 1, 16)
    assert q.head.tolist() == [[10]] and q.size.tolist() == [[16]]
    assert [pop(q, [0], [0])[0] for _ in range(16)] == list(range(10, 26))
    assert q.head.tolist() == [[10]]  # 26 pops: 26 mod 16


def test_a_full_queue_grows_and_is_unrolled_to_start_at_slot_zero() -> None:
    q = queues()
    for value in range(1, 17):
        push(q, [0], [1], [value])  # (0, 1) holds 1..16: full
    for value in range(101, 106):
        push(q, [1], [0], [value])  # (1, 0) holds 101..105
    assert pop(q, [0, 1], [1, 0]) == [1.0, 101.0]
    assert pop(q, [0, 1], [1, 0]) == [2.0, 102.0]
    assert pop(q, [0], [1]) == [3.0]  # (0, 1): head 3, 13 queued; (1, 0): head 2, 3 queued
    for value in range(17, 20):
        push(q, [0], [1], [value])  # 16 queued, the ring wrapped round to slots 0..2
    assert q.buffer.shape == (2, 2, 16)
    push(q, [0, 1], [1, 0], [20.0, 106.0])  # (0, 1) is full: every queue is unrolled into 32 slots
    assert q.buffer.shape == (2, 2, 32)
    assert q.head.tolist() == [[0, 0], [0, 0]]
    assert q.size.tolist() == [[0, 17], [4, 0]]
    assert q.buffer[0, 1].tolist() == list(range(4, 21)) + [0.0] * 15
    # (1, 0) from its head 2: 103..105, the empty slots 5..15, then the popped 101 and 102 (slots 0, 1: stale)
    assert q.buffer[1, 0].tolist() == [103.0, 104.0, 105.0, 106.0] + [0.0] * 10 + [101.0, 102.0] + [0.0] * 16
    assert not q.buffer[0, 0].any() and not q.buffer[1, 1].any()
    assert [pop(q, [0], [1])[0] for _ in range(17)] == list(range(4, 21))
    assert [pop(q, [1], [0])[0] for _ in range(4)] == [103.0, 104.0, 105.0, 106.0]


def test_a_queue_grows_only_when_full() -> None:
    q = queues(1, 1)
    for value in range(15):
        push(q, [0], [0], [value])
    push(q, [0], [0], [15])
    assert q.buffer.shape == (1, 1, 16)  # 16 queued fit in 16 slots
    push(q, [0], [0], [16])
    assert q.buffer.shape == (1, 1, 32)
    assert [pop(q, [0], [0])[0] for _ in range(17)] == list(range(17))


# --- Q-PAQ around UCB1 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rounds", "slots"), [(5, 5), (0, 1), (1, 1), (5000, 2048)])
def test_queued_ucb_row_is_ucb1s_then_the_queues(rounds: int, slots: int) -> None:
    row = QueuedUCB().start(problem(arms=3, rounds=rounds))
    # UCB1's row (K + 1 zeros) with one more column, then the queue region: 2K + 2 + 2 slots + 1 columns, its last
    # holding its length
    region = 2 * 3 + 2 + 2 * slots + 1
    assert row.shape == (5 + region,)
    assert row[-1] == region
    assert not row[:-1].any()


def test_queued_ucb_state_tiles_the_row() -> None:
    s = QueuedUCB().init(problem(arms=2, rounds=3, reps=2), np.random.default_rng(0))
    region = 2 * 2 + 2 + 2 * 3 + 1
    assert s.scratch.shape == (2, 4 + region)
    assert s.scratch[:, -1].tolist() == [region, region]


# --- the conversions estimator ------------------------------------------------------------------------------------

def test_conversions_width_counts_the_books_and_a_ring_no_longer_than_the_run() -> None:
    assert DelayedConversionsUCB(window=3).width(problem(arms=2, rounds=5)) == 4 * 2 + 6 + 3
    assert DelayedConversionsUCB(window=30).width(problem(arms=2, rounds=5)) == 4 * 2 + 6 + 5


def test_conversions_row_holds_q_and_its_window_powers() -> None:
    row = DelayedConversionsUCB(window=3).start(problem(arms=2, rounds=5, mean_delay=4))
    expected = [0.0] * 17
    expected[5:8] = [0.75, 0.75 ** 3, 0.75 ** 4]  # q = 1 - 1/4
    assert row.tolist() == expected


def test_conversions_row_without_delay_has_q_zero() -> None:
    row = DelayedConversionsUCB(window=3).start(problem(arms=2, rounds=5, delay="immediate", mean_delay=4))
    assert row.tolist() == [0.0] * 17
    row = DelayedConversionsUCB(window=2).start(problem(arms=1, rounds=5, delay="batched", mean_delay=2))
    assert row.tolist() == [0.0] * 12


def test_conversion_books_reads_the_scratch_columns() -> None:
    K = 2
    scratch = np.arange(2 * 20, dtype=float).reshape(2, 20)
    books: dict[str, Any] = conversion_books(SimpleNamespace(K=K, scratch=scratch))  # type: ignore[arg-type]
    assert sorted(books) == ["decay", "in_window", "old", "q", "q_window"]
    assert books["q"].tolist() == [5.0, 25.0]
    assert books["q_window"].tolist() == [6.0, 26.0]
    assert books["in_window"].tolist() == [[8.0, 9.0], [28.0, 29.0]]
    assert books["decay"].tolist() == [[10.0, 11.0], [30.0, 31.0]]
    assert books["old"].tolist() == [[12.0, 13.0], [32.0, 33.0]]
