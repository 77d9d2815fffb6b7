"""Policies for tests that need a learner whose value is known in closed form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from banditmap.sim.policies import Feedback, Policy, State
from banditmap.sim.problem import Problem

Array = np.ndarray


@dataclass(frozen=True)
class Zero(Policy[Any]):
    """Plays action 0 always: its true value is action 0's reward."""

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return State(rng=rng, R=problem.reps, K=problem.n_arms)

    def select(self, state: State, context: Array | None) -> Array:
        return np.zeros(state.R, dtype=np.int64)

    def update(self, state: State, feedback: Feedback) -> None:
        pass

    def exploit(self, state: State, context: Array | None) -> Array:
        return np.zeros(state.R, dtype=np.int64)


def small_problem(kind: str = "arms", **fields: Any) -> Problem:
    """A small simulated problem for exact tests: one repetition of 100 rounds, 3 actions, binary and immediate
    rewards, stationary, no constraint; `fields` overrides any of Problem's fields."""
    base: dict[str, Any] = dict(kind=kind, reward="binary", n_arms=3, n_features=0, slate_size=1, rounds=100, reps=1,
                                dynamics="stationary", delay="immediate", mean_delay=1, batch_size=1, constraint="none",
                                objective="cumulative")
    return Problem(**{**base, **fields})


def close(actual: Any, expected: Any, rtol: float = 1e-12) -> bool:
    """actual equals expected elementwise to rtol (and 1e-15 absolute, for values near 0); a failure says where."""
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol, atol=1e-15)
    return True
