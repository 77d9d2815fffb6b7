"""Conservative exploration on the contextual worlds races compiled with the loop's numbers: Conservative LinUCB
(kernels/linear.py) and the conservative adapter's templates (kernels/wrappers.py) around LinUCB, D-LinUCB and
SW-LinUCB give exactly the numbers of the step-by-step loop, where the adapter calls the same kernels one round at a
time, whatever the number of threads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from banditmap.sim import compiled
from banditmap.sim.adapters import build_wrapper
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import wrappers
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

CONSERVATIVE = ["conservative-linucb", "linucb+conservative", "d-linucb+conservative", "sw-linucb+conservative"]
PROBLEMS = {
    "safety": {"context": "linear", "n_features": 4, "n_actions": 4, "constraints": "safety"},
    "drifting-delayed": {"context": "linear", "n_features": 3, "n_actions": 3, "environment": "drifting",
                         "feedback_delay": "delayed", "reward_type": "continuous", "constraints": "safety"},
    "nonlinear-abrupt-batched": {"context": "nonlinear", "n_features": 3, "n_actions": 4, "environment": "abrupt",
                                 "feedback_delay": "batched"},
}
FIGURES = ("regret", "final_regret", "last_reward", "optimal", "below_baseline")


def entrant(name: str) -> RunSpec:
    base, _, wrapper = name.partition("+")
    policy = build(base, {}, base)
    return RunSpec(name, name, build_wrapper(wrapper, policy, {}, wrapper) if wrapper else policy)


def looped(problem: Any, rng: np.random.Generator) -> Any:
    """The problem's own world, given as if it were a test's, so that the runner takes the step-by-step loop."""
    return make_environment(problem, rng)


@pytest.mark.parametrize("problem_name", sorted(PROBLEMS))
@pytest.mark.parametrize("simulator", CONSERVATIVE)
def test_conservative_races_give_the_loops_numbers_exactly(simulator: str, problem_name: str) -> None:
    problem = problem_from_answers(PROBLEMS[problem_name], rounds=300, reps=3)
    spec = entrant(simulator)
    assert compiled.covers(spec.policy, problem)
    fast, slow = run(spec, problem, 5), run(spec, problem, 5, environment=looped)
    for name in FIGURES:
        a, b = getattr(fast, name), getattr(slow, name)
        assert (a is None and b is None) or np.array_equal(a, b), name


@pytest.mark.parametrize("simulator", ["conservative-linucb", "d-linucb+conservative"])
def test_a_conservative_race_gives_the_same_numbers_in_one_thread_or_several(simulator: str,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    problem = problem_from_answers(PROBLEMS["safety"], rounds=200, reps=5)
    runs = []
    for count in (1, 3):
        monkeypatch.setattr(compiled, "threads", lambda count=count: count)
        runs.append(run(entrant(simulator), problem, 5))
    for name in FIGURES:
        assert np.array_equal(getattr(runs[0], name), getattr(runs[1], name)), name


def test_the_compiled_form_wraps_the_bases_bounds_and_keeps_a_margin_column() -> None:
    problem = problem_from_answers(PROBLEMS["safety"], rounds=10, reps=2)
    form = compiled.linear_form(entrant("linucb+conservative").policy, problem)
    assert form is not None and not form.moving and (form.l2, form.window) == (1.0, 0)
    assert form.kernels.choose == "conservative_linear_choose<choose_linucb|learn_ridge>"
    assert form.kernels.params.tolist() == [1.0, 1.0, 0.1]  # LinUCB's l2 and alpha, then the adapter's alpha
    assert form.kernels.start.tolist() == [0.0] * 9 + [10.0]  # margin, 4 lower and 4 upper bounds, the count
    moving = compiled.linear_form(entrant("sw-linucb+conservative").policy, problem)
    assert moving is not None and moving.moving and moving.window == 10  # the window, held to the rounds
    assert moving.kernels.learn == "conservative_moving_learn<choose_swlinucb|learn_swlinucb>"
    assert moving.kernels.start.tolist() == [0.0, 2.0]  # the moving race hands its own room for the bounds


def test_the_check_by_hand() -> None:
    """alpha 0.1: slack = margin + L_J - 0.9 U_0; the margin grows by L_J - 0.9 U_0 for the base's play, by
    0.1 L_0 for the default's; lower bounds held at 0 or more (0 when unknown)."""
    margin = np.array([0.0, 0.2, 0.0, 1.0, 0.5])
    lower = np.array([[0.3, 0.6], [0.3, -0.4], [-1.0, -np.inf], [0.5, 0.2], [-np.inf, 0.5]])
    upper = np.array([[0.5, 0.9], [0.5, 0.7], [0.8, 0.9], [1.0, 0.3], [np.inf, 0.6]])
    wanted = np.array([1, 1, 1, 0, 1])
    # 0.6 - 0.45 = 0.15: arm 1; 0.2 + 0 - 0.45 < 0: default, + 0.03; 0 + 0 - 0.72 < 0: default, + 0;
    # the default wanted: + 0.05; an unknown default (upper bound inf): refused, + 0
    assert wrappers.conservative_steps(0.1, margin, lower, upper, wanted).tolist() == [1, 0, 0, 0, 0]
    assert margin.tolist() == pytest.approx([0.15, 0.23, 0.0, 1.05, 0.5], abs=1e-15)
    # exactly zero slack is safe
    assert wrappers.conservative_check(0.5, np.array([0.0]), 0, np.array([0.0, 0.25]), np.array([0.5, 1.0]), 1) == 1
