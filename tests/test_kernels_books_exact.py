"""Exact checks of the bookkeeping both whole-race kernels share (sim/kernels/arms.py: account, checkpoint,
settle, arrival, grow, due), each on a tiny hand-made case at the edges of its comparisons: an arm exactly
1e-12 below the best, a running reward exactly (1 - alpha) times the default's, a queue's count. Small enough to run
as plain Python (NUMBA_DISABLE_JIT=1), as the mutation run does (tools/mutation.py)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import arms
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run


def test_a_rounds_regret_best_arm_and_tail_reward() -> None:
    books, top, regret = np.zeros(arms.BOOKS), 0.5, 0.0
    for value, t, best, tail in ((top - 1e-12, 3, 1.0, 0.0),  # within 1e-12 of the best: a best arm
                                 (top - 2e-12, 4, 1.0, 0.0),  # 2e-12 below: not; round 4 is before the tail
                                 (0.2, 5, 1.0, 0.2),  # the tail starts at round 5
                                 (0.25, 6, 1.0, 0.45)):
        arms.account(books, value, top, 0.0, t, 5, False, 0.1)
        regret += top - value
        assert books.tolist() == [regret, best, tail, 0.0, 0.0, 0.0]


def test_a_safety_problem_counts_the_rounds_whose_running_reward_is_under_the_budget() -> None:
    books = np.zeros(arms.BOOKS)
    arms.account(books, 0.4, 0.6, 0.4, 0, 10, True, 0.0)  # alpha 0: exactly the default's, not under it
    assert books[3:].tolist() == [0.4, 0.4, 0.0]
    arms.account(books, 0.3, 0.6, 0.4, 1, 10, True, 0.0)  # 0.7 against 0.8: under
    assert books[3:].tolist() == [0.7, 0.8, 1.0]
    arms.account(books, 0.3, 0.6, 0.4, 2, 10, True, 0.5)  # 1.0 against 0.5 x 1.2: not under
    assert books[3:].tolist() == [1.0, 1.2000000000000002, 1.0]
    arms.account(books, 0.0, 0.6, 0.4, 3, 10, True, 0.1)  # 1.0 against 0.9 x 1.6 = 1.44: under
    assert books[3:].tolist() == [1.0, 1.6, 2.0]
    plain = np.zeros(arms.BOOKS)
    arms.account(plain, 0.0, 0.6, 0.4, 3, 10, False, 0.1)  # no safety constraint: nothing counted
    assert plain[3:].tolist() == [0.0, 0.0, 0.0]


def test_the_curve_is_kept_at_its_points_and_the_totals_settled() -> None:
    books = np.array([2.5, 6.0, 1.5, 0.0, 0.0, 3.0])
    points, curve = np.array([1, 4, 9]), np.zeros((2, 3))
    assert arms.checkpoint(books, points, curve, 1, 0, 0) == 1 and curve[1].tolist() == [2.5, 0, 0]
    books[0] = 3.0
    assert arms.checkpoint(books, points, curve, 1, 1, 1) == 1 and curve[1].tolist() == [2.5, 0, 0]
    assert arms.checkpoint(books, points, curve, 1, 3, 1) == 2 and curve[1].tolist() == [2.5, 3.0, 0]
    assert arms.checkpoint(books, points, curve, 1, 8, 2) == 3 and curve[1].tolist() == [2.5, 3.0, 3.0]
    assert arms.checkpoint(books, points, curve, 1, 9, 3) == 3 and curve[0].tolist() == [0, 0, 0]  # past the end
    final, tail, optimal, below = np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)
    arms.settle(books, 1, 12, 9, final, tail, optimal, below)  # T = 12, the tail its last 3 rounds
    assert [final[1], tail[1], optimal[1], below[1]] == [3.0, 0.5, 0.5, 0.25]
    assert [final[0], tail[0], optimal[0], below[0]] == [0.0] * 4


def test_feedback_arrives_after_a_geometric_delay_or_at_the_end_of_its_batch() -> None:
    delays = states(2)
    ref = Stream(delays[1])
    u = ref.uniform()
    assert arms.arrival(arms.DELAYED, delays, 1, 7, 4.0, 5) == 7 + 1 + math.floor(math.log(1 - u) / math.log1p(-0.25))
    assert arms.arrival(arms.DELAYED, delays, 1, 7, 1.0, 5) == 8 and int(delays[1]) == ref.state
    assert [arms.arrival(arms.BATCHED, delays, 1, t, 4.0, 5) for t in (0, 4, 5, 9, 10)] == [5, 5, 10, 10, 15]
    assert int(delays[1]) == ref.state and delays[0] == states(2)[0]


def test_the_queue_grows_and_finds_the_first_visible_entry() -> None:
    """(Dropping an entry from a full queue: test_kernels_linear_exact.py's race with batches of 16 rounds.)"""
    at = np.array([5, 3, 4], dtype=np.int64)
    longer = arms.grow(at)
    assert longer.dtype == np.int64 and len(longer) == 6 and longer[:3].tolist() == [5, 3, 4]
    assert arms.grow(np.array([0.5, 0.25]))[:2].tolist() == [0.5, 0.25]
    assert arms.due(at, 3, 2) == -1 and arms.due(at, 3, 3) == 1 and arms.due(at, 3, 5) == 0
    assert arms.due(at, 1, 4) == -1  # entries past the count are not looked at


@pytest.mark.parametrize("delay", ["delayed", "batched"])
def test_a_noting_policys_race_with_late_feedback_gives_the_step_by_step_loops_numbers(delay: str) -> None:
    """EXP3-IX notes each decision's probability (its scratch column K + 1, a kernel of kernels/policies.py): with
    late feedback the note travels with its observation, in the race's queue (full when a batch of 16 arrives) as
    in the loop's batches, and is put back before learning."""
    answers = {"n_actions": 3, "reward_type": "continuous", "feedback_delay": delay}
    problem = dataclasses.replace(problem_from_answers(answers, rounds=120, reps=2), mean_delay=6, batch_size=16)
    spec = RunSpec("exp3-ix", "exp3-ix", build("exp3-ix", {}, "exp3-ix"))
    assert compiled.covers(spec.policy, problem) and problem.delay == delay
    fast = run(spec, problem, 4)
    slow = run(spec, problem, 4, environment=lambda p, g: make_environment(p, g))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    now = run(spec, dataclasses.replace(problem, delay="immediate"), 4)
    assert fast.final_regret.tolist() != now.final_regret.tolist()  # the feedback was late
