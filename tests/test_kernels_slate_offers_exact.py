"""Exact checks of a slate policy offering its slates on the MNL world (adapters/views.py's AssortmentAsSlate,
sim/kernels/assortment.py's slate_race): each offered item's reward by hand, and the compiled race of the slate
kernels (policies/lists.py) equal to the step-by-step loop's, with any feedback, whatever the number of threads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from banditmap.sim import compiled
from banditmap.sim.adapters.views import AssortmentAsSlate, PagesAsArms
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import assortment as kernels
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

SHOPS = {
    "continuous": {"action_structure": "assortment", "n_actions": 8, "slate_size": 3, "reward_type": "continuous"},
    "binary-delayed": {"action_structure": "assortment", "n_actions": 6, "slate_size": 2,
                       "feedback_delay": "delayed"},
    "batched": {"action_structure": "assortment", "n_actions": 5, "slate_size": 2, "reward_type": "continuous",
                "feedback_delay": "batched"},
}


def looped(problem: Any, rng: np.random.Generator) -> Any:
    """The problem's own world, given as if it were a test's, so that the runner takes the step-by-step loop."""
    return make_environment(problem, rng)


def offered(simulator: str) -> RunSpec:
    return RunSpec(simulator, simulator, AssortmentAsSlate(build(simulator, {}, simulator)))


def test_the_item_bought_earns_its_revenue_and_every_other_item_offered_nothing() -> None:
    revenue = np.array([[9.0, 9.0, 9.0, 9.0], [0.2, 0.4, 0.6, 0.8]])
    observed = np.full(3, 7.0)
    kernels.credit(revenue, 1, np.array([3, 0, 2]), 0, observed)
    assert observed.tolist() == [0.0, 0.2, 0.0]
    kernels.credit(revenue, 1, np.array([3, 0, 2]), -1, observed)  # the customer left
    assert observed.tolist() == [0.0, 0.0, 0.0]
    kernels.credit(revenue, 1, np.array([1, 2, 3]), 3, observed)
    assert observed.tolist() == [0.0, 0.0, 0.8]


@pytest.mark.parametrize("shop", sorted(SHOPS))
@pytest.mark.parametrize("simulator", ["cts", "pbm-ucb", "cucb", "uniform-random-list"])
def test_the_offers_race_gives_the_loops_numbers_exactly(simulator: str, shop: str) -> None:
    problem = problem_from_answers(SHOPS[shop], rounds=300, reps=4)
    spec = offered(simulator)
    assert compiled.covers(spec.policy, problem)
    fast, slow = run(spec, problem, 3), run(spec, problem, 3, environment=looped)
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.below_baseline is None and slow.below_baseline is None
    assert fast.final_regret.min() > 0.0  # substitution ignored: the slates are rarely the best assortment


def test_the_offers_race_is_the_same_in_one_thread_or_several(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = problem_from_answers(SHOPS["continuous"], rounds=200, reps=5)
    runs = []
    for count in (1, 3):
        monkeypatch.setattr(compiled, "threads", lambda count=count: count)
        runs.append(run(offered("cts"), problem, 4))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(runs[0], name), getattr(runs[1], name)), name


def test_only_slate_kernels_offered_as_assortments_race_compiled() -> None:
    problem = problem_from_answers(SHOPS["continuous"], rounds=20, reps=2)
    assert compiled.offers_slates(offered("cucb").policy)
    assert not compiled.offers_slates(build("cucb", {}, "x"))  # a slate policy, not offering assortments
    assert not compiled.offers_slates(PagesAsArms(build("ucb1", {}, "x")))
    assert compiled.covers(build("mnl-ucb", {}, "x"), problem)  # the epoch policies still race compiled
    best_arm = problem_from_answers({**SHOPS["continuous"], "objective": "best_arm"}, rounds=20, reps=2)
    assert not compiled.covers(offered("cucb").policy, best_arm)
