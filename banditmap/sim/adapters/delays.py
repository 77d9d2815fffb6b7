"""The delay queue: QPM-D (Joulani, Gyorgy and Szepesvari 2013), any base run under delayed feedback as if its
feedback were immediate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.adapters.base import Inner, Wrapped, Wrapper, register_adapter
from banditmap.sim.policies.base import ARM_STATISTICS, CONFIDENCE_BOUNDS, Array, Feedback, State
from banditmap.sim.policies.delayed import QUEUE_SLOTS, ArmQueues, empty_queues
from banditmap.sim.problem import Problem


@dataclass(kw_only=True)
class Queued(Wrapped[Inner], ArmQueues):
    """The base's state and, per repetition and arm, the rewards that arrived but were not yet shown to it."""


@register_adapter("delay-queue")
@dataclass(frozen=True)
class DelayQueue(Wrapper[Queued[Inner], Inner]):
    """QPM-D: rewards are queued per arm as they arrive, and the base never sees them directly. When the base asks
    for an arm whose queue holds a reward, the oldest one is handed to it as the outcome of that request and the
    base is asked again; only an arm with an empty queue is played for real. Every reward is handed over once, in
    order, so the base's history is one it could have had without delays: its own guarantee applies, and the
    delay adds regret only through the rewards outstanding at a time.

    The base is asked for all repetitions at once, so a repetition that has its answer may be asked again while
    another still consumes its queue; that extra answer is discarded, and what asking changed in that
    repetition's rows of the base's state (a discount, a play counted when made) is undone (its draws and the
    decision count remain)."""

    keeps: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS})
    kernels: ClassVar[str | None] = "queue"

    def region(self, problem: Problem) -> Array:
        from banditmap.sim.kernels.wrappers import queue_region
        return queue_region(problem.n_arms, min(QUEUE_SLOTS, max(problem.rounds, 1)))

    def init(self, problem: Problem, rng: np.random.Generator) -> Queued[Inner]:
        return Queued(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds,
                      inner=self.base.init(problem, rng), **empty_queues(problem.reps, problem.n_arms))

    def select(self, s: Queued[Inner], context: Array | None) -> Array:
        rows = np.arange(s.R)
        played = np.zeros(s.R, dtype=np.int64)
        deciding = np.ones(s.R, dtype=bool)
        while True:
            answered = ~deciding
            kept = rows_of(s.inner, answered) if answered.any() else []
            choice = self.ask(s, context)
            for owner, name, rows_kept in kept:
                getattr(owner, name)[np.tile(answered, owner.R // s.R)] = rows_kept
            served = deciding & (s.size[rows, choice] > 0)
            done = deciding & ~served
            played[done] = choice[done]
            deciding = served
            if not served.any():
                s.aux = None  # the reward of the real play goes to the queue, not to the base
                return played
            waiting = np.flatnonzero(served)
            arms = choice[waiting]
            aux = None if s.inner.aux is None else np.asarray(s.inner.aux)[waiting]
            self.base.update(s.inner, Feedback(waiting, arms, s.pop(waiting, arms), None, aux, unique=True))

    def update(self, s: Queued[Inner], feedback: Feedback) -> None:
        for layer in feedback.layers():
            s.push(feedback.reps[layer], feedback.actions[layer], feedback.observed[layer])


def rows_of(state: State, reps: Array) -> list[tuple[State, str, Array]]:
    """A copy of some repetitions' rows (reps: a mask (R,)) of every per-repetition array of a state and of the
    states nested in it, with where each came from; a nested state of n x R repetitions holds n rows of each."""
    kept: list[tuple[State, str, Array]] = []
    for name, value in vars(state).items():
        if isinstance(value, State):
            kept += rows_of(value, reps)
        elif name != "aux" and isinstance(value, np.ndarray) and value.ndim and value.shape[0] == state.R:
            kept.append((state, name, value[np.tile(reps, state.R // len(reps))].copy()))
    return kept
