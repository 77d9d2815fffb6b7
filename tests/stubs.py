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
