"""Conversions that may never come (a delayed binary reward whose delay is indefinite): a play that does not convert
is never reported. A policy not built for it learns through an attribution window, as it would be deployed; a
delayed-conversions policy takes conversions as they come."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels.arms import censor, censor_all
from banditmap.sim.policies import build
from banditmap.sim.policies.base import Feedback, Policy, State
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

CENSORED = {"n_actions": 4, "feedback_delay": "delayed", "delay_bound": "indefinite"}


@pytest.mark.parametrize(("at", "observed", "window", "expected"), [
    (12, 1.0, 0, (12, 1.0)), (7, 0.0, 0, (7, 0.0)),  # not censored: as drawn
    (12, 1.0, 10, (12, 1.0)), (15, 1.0, 10, (15, 1.0)),  # a conversion within the window, on its last round too
    (16, 1.0, 10, (15, 0.0)),  # one round late: lost, a failure at the window's end
    (7, 0.0, 10, (15, 0.0)),  # no conversion: a failure at the window's end, whenever its draw said
    (900, 1.0, -1, (900, 1.0)),  # as they come: a conversion whenever it comes
    (7, 0.0, -1, (-1, 0.0)),  # and nothing for a play that does not convert
])
def test_what_a_play_reports_and_when(at: int, observed: float, window: int, expected: tuple[int, float]):
    assert censor(at, 5, observed, window) == expected


def test_every_repetitions_play_is_censored_in_place():
    at, observed = np.array([12, 16, 7]), np.array([1.0, 1.0, 0.0])
    censor_all(at, 5, observed, 10)
    assert at.tolist() == [12, 15, 15] and observed.tolist() == [1.0, 0.0, 0.0]


def test_a_problem_with_indefinite_delays_censors_binary_rewards_of_single_items():
    problem = problem_from_answers(CENSORED, rounds=600, reps=2)
    assert problem.censored and problem.mean_delay == 6 and problem.window == 18
    assert any("within 18 rounds" in note and "never reported" in note for note in problem.notes)
    assert "conversions that may never come" in problem.describe()
    for other in ({**CENSORED, "delay_bound": "bounded"}, {**CENSORED, "reward_type": "continuous"},
                  {**CENSORED, "context": "linear"}):
        problem = problem_from_answers(other, rounds=600, reps=2)
        assert not problem.censored
    assert any("every reward, a failure too" in note for note in problem.notes)


def test_a_delayed_conversions_policy_takes_conversions_as_they_come_and_the_others_a_window():
    problem = problem_from_answers(CENSORED, rounds=600, reps=2)
    assert compiled.censoring(build("delayed-conversions-ucb", {}, "x"), problem) == -1
    assert compiled.censoring(build("ucb1", {}, "x"), problem) == 18
    assert compiled.censoring(build("ucb1", {}, "x"), problem_from_answers({**CENSORED, "delay_bound": "bounded"},
                                                                            rounds=600, reps=2)) == 0


@dataclass(frozen=True)
class Recorder(Policy[State]):
    """Plays arm t mod K at round t, notes the round of each play, and records each report: (the round it is
    learnt after, the round of its play, what it says)."""

    seen: ClassVar[list[tuple[int, int, float]]] = []
    takes_conversions: ClassVar[bool] = False

    def init(self, problem: Any, rng: np.random.Generator) -> State:
        return State(rng, problem.reps, problem.n_arms)

    def select(self, state: State, context: Any) -> np.ndarray:
        state.aux = np.full(state.R, float(state.t))
        return np.full(state.R, state.t % state.K)

    def update(self, state: State, feedback: Feedback) -> None:
        assert feedback.aux is not None
        self.seen.extend((state.t, int(a), float(o)) for a, o in zip(feedback.aux, feedback.observed))


@dataclass(frozen=True)
class ConversionRecorder(Recorder):
    seen: ClassVar[list[tuple[int, int, float]]] = []
    takes_conversions: ClassVar[bool] = True


def reports(policy: type[Recorder]) -> list[tuple[int, int, float]]:
    problem = problem_from_answers(CENSORED, rounds=3000, reps=3)
    policy.seen.clear()
    run(RunSpec("recorder", "recorder", policy()), problem, 5, environment=make_environment)
    return list(policy.seen)


def test_a_policy_without_the_model_hears_of_each_play_once_a_failure_exactly_at_the_windows_end():
    seen = reports(Recorder)
    W = problem_from_answers(CENSORED, rounds=3000, reps=3).window
    assert W == 90
    played = {(t, k) for t in range(3000) for k in range(3)}
    # every play whose window closed by the last round is heard of, once per repetition
    assert sum(1 for learnt, play, _ in seen if play + W < 3000) == 3 * (3000 - W)
    failures = [(learnt, play) for learnt, play, said in seen if said == 0.0]
    conversions = [(learnt, play) for learnt, play, said in seen if said == 1.0]
    assert failures and conversions and len(failures) + len(conversions) == len(seen) <= len(played)
    assert all(learnt == play + W for learnt, play in failures)
    assert all(play < learnt <= play + W for learnt, play in conversions)


def test_a_policy_built_for_it_hears_only_of_conversions_some_after_any_window():
    seen = reports(ConversionRecorder)
    assert seen and all(said == 1.0 for _, _, said in seen)
    assert max(learnt - play for learnt, play, _ in seen) > 90
    # the conversions are the same plays' as the windowed policy heard of in time, and more
    in_time = {(play, learnt) for learnt, play, said in reports(Recorder) if said == 1.0}
    assert in_time < {(play, learnt) for learnt, play, _ in seen}
