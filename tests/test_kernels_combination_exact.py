"""Exact checks of the combination world's kernels (sim/kernels/combination.py) and the K-armed race on it with each
page one arm: the feature layout and a page's worth computed by hand, the weights and rewards replayed from their
streams, the best page against an enumeration written here with problem.active_features, and the compiled race of
K-armed policies viewed through PagesAsArms equal to the step-by-step loop's, whatever the number of threads."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.adapters.views import PagesAsArms
from banditmap.sim.environments import Combination, make_environment
from banditmap.sim.kernels import arms
from banditmap.sim.kernels import combination as kernels
from banditmap.sim.policies import build
from banditmap.sim.problem import active_features, component_pairs, problem_from_answers
from banditmap.sim.runner import RunSpec, run


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_the_page_model_has_main_effects_then_one_block_per_pair() -> None:
    assert kernels.features(4, 3) == 4 * 3 + 6 * 9 and kernels.features(2, 5) == 10 + 25
    assert kernels.reward_kind("binary") == arms.BINARY
    assert kernels.reward_kind("continuous") == kernels.reward_kind("heavy_tailed") == arms.CONTINUOUS
    # three components of two values: main effects 0..5, then pairs (0, 1) at 6, (0, 2) at 10, (1, 2) at 14
    weights = np.zeros((2, kernels.features(3, 2)))
    weights[1, [1, 2, 5]] = [0.5, -0.25, 1.0]  # component 0 = 1, component 1 = 0, component 2 = 1
    weights[1, 6 + 1 * 2 + 0] = 0.75  # pair (0, 1) at values (1, 0)
    weights[1, 10 + 1 * 2 + 1] = -2.0  # pair (0, 2) at values (1, 1)
    weights[1, 14 + 0 * 2 + 1] = 0.125  # pair (1, 2) at values (0, 1)
    page = np.array([1, 0, 1])
    score = -2.0 + 0.5 - 0.25 + 1.0 + 0.75 - 2.0 + 0.125
    assert kernels.page_value(weights, 1, page, 2, arms.BINARY) == sigmoid(score)
    assert kernels.page_value(weights, 1, page, 2, arms.CONTINUOUS) == 0.5 + 0.2 * (score + 2.0)
    assert kernels.page_value(weights, 0, page, 2, arms.BINARY) == sigmoid(-2.0)
    assert kernels.page_value(weights, 1, np.array([0, 1, 1]), 2, arms.CONTINUOUS) == 0.5 + 0.2 * 1.0


def test_weights_are_drawn_in_feature_order_and_the_best_page_by_enumeration() -> None:
    D, V, R = 3, 3, 4
    env = states(R, seed=11)
    replay = [Stream(s) for s in env]
    weights = np.empty((R, kernels.features(D, V)))
    best_page = np.empty((R, D), np.int64)
    best = kernels.draw_worlds(weights, env, V, arms.BINARY, best_page)
    pages = np.array([[a, b, c] for a in range(V) for b in range(V) for c in range(V)])
    on = active_features(pages, V, component_pairs(D))
    for r in range(R):
        scale = [0.4] * (D * V) + [0.25] * (weights.shape[1] - D * V)
        assert weights[r].tolist() == [s * replay[r].normal() for s in scale]
        values = [kernels.page_value(weights, r, page, V, arms.BINARY) for page in pages]
        assert values == pytest.approx([sigmoid(-2.0 + weights[r, f].sum()) for f in on], abs=1e-15)
        assert best[r] == max(values) and best_page[r].tolist() == pages[int(np.argmax(values))].tolist()
        assert int(env[r]) == replay[r].state  # the weights' draws alone
    mu = np.empty((R, V ** D))
    kernels.page_values(weights, V, D, arms.BINARY, mu)
    assert mu[2].tolist() == [kernels.page_value(weights, 2, page, V, arms.BINARY) for page in pages]
    assert mu.max(axis=1).tolist() == best.tolist()


def test_a_round_gives_each_page_s_worth_and_a_reward_drawn_from_the_world_s_stream() -> None:
    weights = np.zeros((3, kernels.features(2, 2)))
    weights[:, 1] = [1.0, 2.0, 3.0]  # component 0 at value 1
    env = states(3, seed=5)
    replay = [Stream(s) for s in env]
    pages = np.array([[1, 0], [0, 0], [1, 1]])
    value, observed = np.empty(3), np.empty(3)
    kernels.world_step(weights, env, pages, 2, arms.CONTINUOUS, value, observed)
    assert value.tolist() == [0.5 + 0.2 * 1.0, 0.5, 0.5 + 0.2 * 3.0]
    assert observed.tolist() == [value[r] + 0.1 * replay[r].normal() for r in range(3)]
    kernels.world_step(weights, env, pages, 2, arms.BINARY, value, observed)
    assert value.tolist() == [sigmoid(-1.0), sigmoid(-2.0), sigmoid(1.0)]
    assert observed.tolist() == [1.0 if replay[r].uniform() < value[r] else 0.0 for r in range(3)]


def test_the_python_world_steps_through_the_kernels() -> None:
    problem = problem_from_answers({"action_structure": "combination", "n_actions": 9, "slate_size": 2,
                                    "reward_type": "continuous"}, rounds=10, reps=3)
    world = Combination(problem, np.random.default_rng(2))
    assert (world.D, world.V, world.base, world.weights.shape) == (2, 3, 0.0, (3, 15))
    pages = np.array([[0, 1], [2, 2], [1, 0]])
    worth = [kernels.page_value(world.weights, r, pages[r], 3, arms.CONTINUOUS) for r in range(3)]
    assert world.expected(pages).tolist() == worth
    assert world.expected(np.repeat(pages, 2, axis=0)).tolist() == [worth[0], worth[0], worth[1], worth[1],
                                                                     worth[2], worth[2]]
    replay = [Stream(s) for s in world.states]
    outcome = world.step(0, pages, None)
    assert outcome.value.tolist() == worth and outcome.best is world.best
    assert outcome.observation.tolist() == [worth[r] + 0.1 * replay[r].normal() for r in range(3)]
    assert outcome.optimal.tolist() == [worth[r] >= world.best[r] - 1e-12 for r in range(3)]


# --- the race with each page one arm ----------------------------------------------------------------------------

PAGES = {
    "binary": {"action_structure": "combination", "n_actions": 27, "slate_size": 3},
    "continuous-delayed": {"action_structure": "combination", "n_actions": 16, "slate_size": 2,
                           "reward_type": "continuous", "feedback_delay": "delayed"},
    "batched": {"action_structure": "combination", "n_actions": 9, "slate_size": 2, "feedback_delay": "batched"},
}


def looped(problem: Any, rng: np.random.Generator) -> Any:
    """The problem's own world, given as if it were a test's, so that the runner takes the step-by-step loop."""
    return make_environment(problem, rng)


def viewed(simulator: str) -> RunSpec:
    return RunSpec(simulator, simulator, PagesAsArms(build(simulator, {}, simulator)))


@pytest.mark.parametrize("problem_name", sorted(PAGES))
@pytest.mark.parametrize("simulator", ["thompson-beta", "discounted-ts", "moss", "exp3-ix", "exp3-p", "delayed-ucb"])
def test_the_pages_race_gives_the_loops_numbers_exactly(simulator: str, problem_name: str) -> None:
    problem = problem_from_answers(PAGES[problem_name], rounds=300, reps=4)
    spec = viewed(simulator)
    assert compiled.covers(spec.policy, problem)
    fast, slow = run(spec, problem, 3), run(spec, problem, 3, environment=looped)
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.below_baseline is None and slow.below_baseline is None and fast.identified is None
    assert fast.optimal.max() > 0.0  # the race found best pages


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1",
                    reason="plain-Python kernels (the mutation run's) are bound into their module's globals per call, "
                           "which threads would share")
def test_the_pages_race_is_the_same_in_one_thread_or_several(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = problem_from_answers(PAGES["binary"], rounds=200, reps=5)
    runs = []
    for count in (1, 3):
        monkeypatch.setattr(compiled, "threads", lambda count=count: count)
        runs.append(run(viewed("moss"), problem, 4))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(runs[0], name), getattr(runs[1], name)), name


def test_only_k_armed_kernels_viewed_as_pages_race_compiled_on_combinations() -> None:
    problem = problem_from_answers(PAGES["binary"], rounds=20, reps=2)
    form = compiled.pages_form(viewed("ucb1").policy, problem)
    assert form is not None and form.start.shape == (27 + 1,)  # one arm per page
    assert not compiled.covers(PagesAsArms(build("conservative-ucb", {}, "x")), problem)  # no kernels: the loop
    assert not compiled.covers(build("ucb1", {}, "x"), problem)  # not viewed as pages


# --- multivariate Thompson sampling's own race ------------------------------------------------------------------

CLIMBS = {"action_structure": "combination", "n_actions": 729, "slate_size": 6, "feedback_delay": "batched"}


@pytest.mark.parametrize("answers", [PAGES["binary"], PAGES["continuous-delayed"], CLIMBS],
                         ids=["binary", "continuous-delayed", "climbs-batched"])
def test_the_mvt_race_gives_the_loops_numbers_exactly(answers: dict[str, Any]) -> None:
    problem = problem_from_answers(answers, rounds=300, reps=4)
    spec = RunSpec("mvt-ts", "mvt-ts", build("mvt-ts", {"climbs": 3}, "mvt-ts"))
    assert compiled.covers(spec.policy, problem) and compiled.pages_form(spec.policy, problem) is None
    fast, slow = run(spec, problem, 3), run(spec, problem, 3, environment=looped)
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.below_baseline is None and fast.optimal.max() > 0.0


def test_the_mvt_race_is_the_same_in_one_thread_or_several(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = problem_from_answers(PAGES["binary"], rounds=200, reps=5)
    spec = RunSpec("mvt-ts", "mvt-ts", build("mvt-ts", {}, "mvt-ts"))
    runs = []
    for count in (1, 3):
        monkeypatch.setattr(compiled, "threads", lambda count=count: count)
        runs.append(run(spec, problem, 4))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(runs[0], name), getattr(runs[1], name)), name
