from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from banditmap.catalog.loading import load_catalog
from banditmap.model import Catalog, Profile
from banditmap.recommend.matching import shortlist

CATALOG = load_catalog()


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    """Any subset of choice traits answered with any of their values (consistency rules are not needed here)."""
    answers = {}
    for trait in CATALOG.choice_traits:
        if draw(st.booleans()):
            answers[trait.id] = draw(st.sampled_from([c.id for c in trait.choices if not c.exit]))
    return Profile(answers)


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_no_shortlisted_candidate_violates_a_hard_constraint(profile: Profile) -> None:
    from banditmap.recommend.compose import wrap
    result = shortlist(profile, CATALOG)
    for match in result.ranked:
        composed = wrap(match.algorithm, match.adapters)
        assert composed is not None
        missed = {t for t, v in profile.answers.items() if v not in composed.handles[t]}
        if result.exact:
            assert not missed and not match.ruled_out
        else:  # a nearest candidate names exactly the answers it misses
            assert missed and {r.trait for r in match.ruled_out} == missed


@settings(max_examples=200, deadline=None)
@given(profiles())
def test_every_algorithm_is_either_kept_or_ruled_out_with_every_reason(profile: Profile) -> None:
    result = shortlist(profile, CATALOG, top=None)
    if result.exact:
        assert len({m.algorithm.id for m in result.ranked}) == len(result.ranked)  # one candidate per base
        assert len(result.ranked) + len(result.excluded) == len(CATALOG.algorithms)
    else:
        assert len(result.excluded) == len(CATALOG.algorithms)
    for match in result.excluded:
        violated = {t for t, v in profile.answers.items() if v not in match.algorithm.handles[t]}
        assert {r.trait for r in match.ruled_out} == violated


@settings(max_examples=200, deadline=None)
@given(profiles(), st.sampled_from([t.id for t in CATALOG.choice_traits]))
def test_unanswering_a_trait_never_shrinks_the_shortlist(profile: Profile, trait_id: str) -> None:
    fewer = Profile({k: v for k, v in profile.answers.items() if k != trait_id})
    full, less = shortlist(profile, CATALOG), shortlist(fewer, CATALOG)
    if full.exact:
        assert less.exact
        assert {m.algorithm.id for m in full.ranked} <= {m.algorithm.id for m in less.ranked}
        exact_full = {m.id for m in full.ranked if not m.composed}
        assert exact_full <= {m.id for m in less.ranked if not m.composed}


@settings(max_examples=100, deadline=None)
@given(profiles())
def test_ranking_is_deterministic_and_sorted(profile: Profile) -> None:
    first, second = shortlist(profile, CATALOG), shortlist(profile, CATALOG)
    assert [m.id for m in first.ranked] == [m.id for m in second.ranked]
    if first.exact:
        keys = [(-m.score, m.composed, m.id) for m in first.ranked]
        assert keys == sorted(keys)


def test_empty_profile_keeps_everything(catalog: Catalog) -> None:
    result = shortlist(Profile({}), catalog)
    assert len(result.ranked) == len(catalog.algorithms) and not result.excluded


def test_preferred_value_outranks_merely_handled(catalog: Catalog) -> None:
    result = shortlist(Profile({"action_structure": "ranking", "feedback": "reward"}), catalog)
    assert result.ranked[0].algorithm.handles["action_structure"] == ("ranking",) or \
        "ranking" in result.ranked[0].algorithm.prefers["action_structure"]


def test_number_outside_suited_range_costs_points(catalog: Catalog) -> None:
    small = shortlist(Profile({"action_space": "many", "n_actions": 50}), catalog)
    large = shortlist(Profile({"action_space": "many", "n_actions": 5000}), catalog)
    score = {m.algorithm.id: m.score for m in small.ranked}
    score_large = {m.algorithm.id: m.score for m in large.ranked}
    assert score_large["toprank"] < score["toprank"]  # suits at most 1000 items
    assert score_large["sequential-halving"] == score["sequential-halving"]  # states no range


def test_top_limits_the_list(catalog: Catalog) -> None:
    assert len(shortlist(Profile({}), catalog, top=3).ranked) == 3


def test_use_cases_reach_the_right_branch(catalog: Catalog) -> None:
    expect = {
        "search-ranking": "ranking", "checkout-assortment": "assortment", "page-layout": "combination",
    }
    for usecase_id, structure in expect.items():
        top = shortlist(Profile(catalog.usecase(usecase_id).answers), catalog).ranked[0]
        assert structure in top.algorithm.prefers["action_structure"], usecase_id
    best_arm = shortlist(Profile(catalog.usecase("page-variant-test").answers), catalog).ranked[0]
    assert "best_arm" in best_arm.algorithm.prefers["objective"]
    pricing = shortlist(Profile(catalog.usecase("dynamic-pricing").answers), catalog).ranked[0]
    assert "continuous" in pricing.algorithm.prefers["action_space"]
    from banditmap.recommend.compose import wrap
    budget = shortlist(Profile(catalog.usecase("ad-budget").answers), catalog).ranked
    assert all("budget" in wrap(m.algorithm, m.adapters).handles["constraints"] for m in budget)  # type: ignore[union-attr]
    assert "budget" in budget[0].algorithm.handles["constraints"]  # an entry built for budgets comes first


@settings(max_examples=300, deadline=None)
@given(profiles(), st.sampled_from([None, 3]), st.sampled_from([None, 5, 60, 5000]))
def test_fast_ranking_agrees_with_the_explained_shortlist(profile: Profile, top: int | None,
                                                         n_actions: int | None) -> None:
    from banditmap.recommend.matching import rank, score_table
    answers = dict(profile.answers)
    if n_actions is not None:
        answers["n_actions"] = n_actions
    full = shortlist(Profile(answers), CATALOG, top)
    fast, exact = rank(answers, score_table(CATALOG), top)
    assert exact == full.exact
    if exact:
        assert [(m.id, m.score) for m in full.ranked] == [(r.id, r.score) for r in fast]
    else:
        assert [(m.id, sum(r.points for r in m.reasons)) for m in full.ranked] == [(r.id, r.score) for r in fast]
        assert [[f"{r.trait}={r.value}" for r in m.ruled_out] for m in full.ranked] == [list(r.missed) for r in fast]


def test_an_answer_that_leaves_the_map_gives_advice_not_a_shortlist(catalog: Catalog) -> None:
    exits = [(t.id, c.id, c.exit) for t in catalog.choice_traits for c in t.choices if c.exit]
    assert {v for _, v, _ in exits} >= {"full_information", "long_term"}  # Liu & Li 2021, section 2
    for trait_id, value, advice in exits:
        result = shortlist(Profile({trait_id: value, "reward_type": "binary"}), catalog)
        assert result.advice == advice and not result.ranked and not result.exact
    bandit = shortlist(Profile({"formulation": "bandit"}), catalog)
    assert bandit.exact and not bandit.advice and len(bandit.ranked) == len(catalog.algorithms)


def test_an_answer_no_known_method_handles_says_so_and_ranks_the_partial_handlers_first(catalog: Catalog) -> None:
    from banditmap.recommend.matching import rank, score_table
    answers = {"constraints": "budget_and_safety", "n_actions": 5, "action_space": "few"}
    result = shortlist(Profile(answers), catalog)
    assert not result.exact and "budget and a safety baseline" in result.frontier
    assert all({"budget", "safety"} & set(m.algorithm.handles["constraints"]) for m in result.ranked)
    fast, exact = rank(answers, score_table(catalog))
    assert not exact and [r.id for r in fast] == [m.id for m in result.ranked]
