"""The views that let a nearest candidate race on a problem kind it was not built for (sim/adapters/views.py):
each page as one arm, an assortment offered as a slate; and the race's lineup, which runs them for nearest
candidates only and says so in the candidate's name."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pytest

from banditmap.catalog.loading import load_catalog
from banditmap.errors import BanditmapError
from banditmap.model import Profile
from banditmap.recommend.race import RaceRequest, choose_lineup, race_profile
from banditmap.sim.adapters.views import MAX_PAGES, AssortmentAsSlate, PagesAsArms, pages
from banditmap.sim.policies import REGISTRY
from banditmap.sim.policies.base import Array, Feedback, Policy, State
from banditmap.sim.problem import Problem, problem_from_answers


def combination(values: int, components: int, reps: int = 4) -> Any:
    return problem_from_answers({"action_structure": "combination", "n_actions": values ** components,
                                 "slate_size": components}, rounds=50, reps=reps)


def test_each_page_is_the_arm_its_values_spell_in_base_v() -> None:
    problem = combination(3, 2)
    assert (problem.n_arms, problem.slate_size, pages(problem)) == (3, 2, 9)
    view = PagesAsArms(REGISTRY["ucb1"]())
    state = view.init(problem, np.random.default_rng(0))
    assert state.inner.K == 9 and state.inner.k == 1
    assert view.page(state, np.array([0, 1, 5, 8])).tolist() == [[0, 0], [0, 1], [1, 2], [2, 2]]
    # the reward of page (1, 2) is arm 5's, and only repetition 2 learns it
    view.update(state, Feedback(np.array([2]), np.array([[1, 2]]), np.array([1.0]), None, unique=True))
    assert state.inner.counts[2].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0] and state.inner.counts.sum() == 1
    # UCB1 tries every arm once, so nine decisions show every page exactly once per repetition
    fresh = view.init(problem, np.random.default_rng(1))
    seen = []
    for _ in range(9):
        played = view.select(fresh, None)
        seen.append(played)
        arms = played[:, 0] * 3 + played[:, 1]
        view.update(fresh, Feedback(np.arange(4), played, np.zeros(4), None, unique=True))
        assert (fresh.inner.counts[np.arange(4), arms] >= 1).all()
    assert all(len({tuple(p[r]) for p in seen}) == 9 for r in range(4))


def test_the_item_bought_earns_its_revenue_and_the_others_offered_nothing() -> None:
    problem = problem_from_answers({"action_structure": "assortment", "n_actions": 5, "slate_size": 2,
                                    "reward_type": "continuous"}, rounds=20, reps=3)
    view = AssortmentAsSlate(REGISTRY["cucb"]())
    state = view.init(problem, np.random.default_rng(0))
    revenue = np.linspace(0.2, 1.0, 5)  # the continuous reward's item revenues (sim/problem.item_revenues)
    assert np.allclose(state.revenue[1], revenue) and state.revenue.shape == (3, 5)
    offered = np.array([[0, 4], [1, 2], [3, 0]])
    view.update(state, Feedback(np.arange(3), offered, np.array([4, -1, 0]), None, unique=True))
    inner = state.inner
    assert np.allclose(inner.sums[0], [0, 0, 0, 0, 1.0]) and np.allclose(inner.sums[2], [0.2, 0, 0, 0, 0])
    assert inner.sums[1].sum() == 0 and inner.counts.sum() == 6  # every offered item counted once
    assert view.select(state, None).shape == (3, 2)


def test_a_view_runs_only_for_a_nearest_candidate_that_would_not_race_otherwise() -> None:
    catalog = load_catalog()
    layout = next(u for u in catalog.usecases if u.id == "page-layout")
    profile = Profile(layout.answers)
    problem = problem_from_answers(layout.answers, 200, 4)
    lineup = choose_lineup(catalog, profile, problem, None, 5, True)
    exact = [c for c in lineup.chosen if c[0] not in lineup.misses and not c[0].startswith("uniform")]
    viewed = [c for c in lineup.chosen if c[2].endswith("+pages-as-arms")]
    assert exact and all("+" not in c[2] for c in exact)  # the exact candidate races as it is
    assert viewed and all(c[0] in lineup.misses and c[1].endswith(", each page as one arm") for c in viewed)
    assert all("action_structure=combination" in lineup.misses[c[0]] for c in viewed)
    result = race_profile(catalog, profile, RaceRequest(rounds=200, reps=4))
    assert {r.id for r in result.results} >= {c[0] for c in viewed}
    # a page space too large to give every page an arm is left to the candidates built for it
    wide = replace(problem, n_arms=6, slate_size=4)
    assert pages(wide) > MAX_PAGES
    assert not any(c[2].endswith("+pages-as-arms") for c in choose_lineup(catalog, profile, wide, None, 5, True).chosen)


def test_a_named_candidate_races_through_a_view_and_one_without_any_is_refused() -> None:
    catalog = load_catalog()
    layout = next(u for u in catalog.usecases if u.id == "page-layout")
    problem = problem_from_answers(layout.answers, 200, 4)
    lineup = choose_lineup(catalog, Profile(layout.answers), problem, ["mvt-ts", "ucb1"], 5, False)
    assert lineup.chosen == (("mvt-ts", catalog.algorithm("mvt-ts").name, "mvt-ts"),  # type: ignore[union-attr]
                             ("ucb1", "UCB1, each page as one arm", "ucb1+pages-as-arms"))
    with pytest.raises(BanditmapError, match="does not run on combination problems"):
        choose_lineup(catalog, Profile(layout.answers), problem, ["linucb"], 5, False)


@dataclass(kw_only=True)
class Tape(State):
    """The probe's state: the problem it was made for, what it is to play, and every feedback it got."""

    made_for: Problem
    plays: Array  # (R,) arms, or (R, k) slates, to play, exploit and recommend
    got: list[Feedback] = field(default_factory=list)


@dataclass(frozen=True)
class Probe(Policy[Tape]):
    """Plays what its tape says, notes 10 x its play + 1 for each repetition, and keeps every feedback."""

    kinds: ClassVar[frozenset[str]] = frozenset({"arms", "slate"})

    def init(self, problem: Problem, rng: np.random.Generator) -> Tape:
        plays = (np.arange(problem.reps) % problem.n_arms if problem.slate_size == 1
                 else np.tile(np.arange(problem.slate_size), (problem.reps, 1)))
        return Tape(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds, made_for=problem,
                    plays=plays)

    def select(self, s: Tape, context: Array | None) -> Array:
        s.aux = 10.0 * s.plays + 1
        return s.plays

    def update(self, s: Tape, feedback: Feedback) -> None:
        s.got.append(feedback)

    def exploit(self, s: Tape, context: Array | None) -> Array:
        return s.plays[::-1].copy()

    def recommend(self, s: Tape) -> Array:
        return s.plays[::-1].copy()


def test_a_view_runs_on_the_kind_it_stands_in_for_and_hands_its_base_the_problem_it_knows() -> None:
    assert PagesAsArms.lift(frozenset({"arms", "contextual"})) == frozenset({"combination"})
    assert PagesAsArms.lift(frozenset({"slate"})) == frozenset()
    assert AssortmentAsSlate.lift(frozenset({"slate", "cascade"})) == frozenset({"assortment"})
    assert AssortmentAsSlate.lift(frozenset({"arms"})) == frozenset()
    problem = combination(3, 2, reps=4)
    generator = np.random.default_rng(5)
    s = PagesAsArms(Probe()).init(problem, generator)
    inner = s.inner.made_for
    assert (inner.kind, inner.n_arms, inner.slate_size, inner.reps, inner.rounds) == ("arms", 9, 1, 4, 50)
    assert (s.rng, s.R, s.K, s.k, s.horizon) == (generator, 4, 3, 2, 50)
    shop = problem_from_answers({"action_structure": "assortment", "n_actions": 6, "slate_size": 2}, rounds=30, reps=3)
    o = AssortmentAsSlate(Probe()).init(shop, generator)
    made = o.inner.made_for
    assert (made.kind, made.n_arms, made.slate_size, made.reps) == ("slate", 6, 2, 3)
    assert (o.rng, o.R, o.K, o.k, o.horizon) == (generator, 3, 6, 2, 30)


def test_a_view_passes_its_base_notes_and_feedback_through_and_shows_its_answers_in_the_kind_s_terms() -> None:
    view = PagesAsArms(Probe())
    s = view.init(combination(3, 2, reps=4), np.random.default_rng(0))
    played = view.select(s, None)  # arms 0, 1, 2, 3 of 9
    assert played.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0]] and s.aux.tolist() == [1.0, 11.0, 21.0, 31.0]
    assert view.exploit(s, None).tolist() == [[1, 0], [0, 2], [0, 1], [0, 0]]
    assert view.recommend(s).tolist() == [[1, 0], [0, 2], [0, 1], [0, 0]]
    notes = np.array([7.0, 8.0])
    view.update(s, Feedback(np.array([1, 3]), np.array([[2, 1], [1, 0]]), np.array([1.0, 0.0]), None, notes,
                            unique=True))
    got = s.inner.got[-1]
    assert got.actions.tolist() == [7, 3] and got.aux is notes and got.unique and got.contexts is None
    assert got.reps.tolist() == [1, 3] and got.observed.tolist() == [1.0, 0.0]
    view.update(s, Feedback(np.array([1, 1]), np.array([[2, 2], [0, 0]]), np.array([0.0, 1.0]), None, unique=False))
    assert s.inner.got[-1].unique is False and s.inner.got[-1].actions.tolist() == [8, 0]
    shelf = AssortmentAsSlate(Probe())
    o = shelf.init(problem_from_answers({"action_structure": "assortment", "n_actions": 6, "slate_size": 2,
                                         "reward_type": "continuous"}, rounds=30, reps=3), np.random.default_rng(0))
    assert shelf.select(o, None).tolist() == [[0, 1]] * 3 and o.aux.tolist() == [[1.0, 11.0]] * 3
    shelf.update(o, Feedback(np.array([0, 2]), np.array([[0, 5], [3, 4]]), np.array([5.0, -1.0]), None, notes,
                             unique=False))
    got = o.inner.got[-1]
    assert got.aux is notes and got.unique is False and got.actions.tolist() == [[0, 5], [3, 4]]
    assert np.allclose(got.observed, [[0.0, 1.0], [0.0, 0.0]])  # item 5's revenue is 1 (the dearest of six)
    shelf.update(o, Feedback(np.array([1]), np.array([[2, 3]]), np.array([2]), None, unique=True))
    assert o.inner.got[-1].unique is True and np.allclose(o.inner.got[-1].observed, [[0.52, 0.0]])
