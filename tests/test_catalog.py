from __future__ import annotations

import re
from pathlib import Path

import pytest

from banditmap.catalog.loading import load_catalog, load_dirs
from banditmap.errors import BanditmapError
from banditmap.model import Catalog

KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def test_catalog_has_enough_algorithms_and_use_cases(catalog: Catalog) -> None:
    assert len(catalog.algorithms) >= 50
    assert len(catalog.usecases) >= 15


def test_every_value_of_every_trait_is_handled(catalog: Catalog) -> None:
    for trait in catalog.choice_traits:
        for value in (c.id for c in trait.choices if not c.exit and not c.frontier):  # exits and frontiers: none
            handlers = [a.id for a in catalog.algorithms if value in a.handles[trait.id]]
            assert handlers, f"no algorithm handles {trait.id}={value}"


def test_every_algorithm_states_every_trait(catalog: Catalog) -> None:
    ids = {t.id for t in catalog.choice_traits}
    for algorithm in catalog.algorithms:
        assert set(algorithm.handles) == ids, algorithm.id
        for trait_id, values in algorithm.prefers.items():
            assert set(values) <= set(algorithm.handles[trait_id]), algorithm.id


def test_ids_and_references_are_well_formed(catalog: Catalog) -> None:
    assert len({a.id for a in catalog.algorithms}) == len(catalog.algorithms)
    for algorithm in catalog.algorithms:
        assert KEBAB.match(algorithm.id)
        for ref in algorithm.references:
            assert ref.authors and 1900 <= ref.year <= 2030 and ref.title and ref.venue
            assert all(re.match(r"^[A-Z][\w.'-]*( [\w.'-]+)+$", name) for name in ref.authors), ref.authors
            assert ref.doi or ref.arxiv or ref.url
            if ref.doi:
                assert re.match(r"^10\.\d{4,9}/\S+$", ref.doi)
                assert ref.link == f"https://doi.org/{ref.doi}"
            if ref.arxiv:
                assert re.match(r"^\d{4}\.\d{4,5}$", ref.arxiv)
                # new-style arXiv ids start with the year and month of submission: never after publication + 1
                assert 2007 <= 2000 + int(ref.arxiv[:2]) <= ref.year + 1 and 1 <= int(ref.arxiv[2:4]) <= 12
            if not (ref.doi or ref.arxiv):
                assert re.match(r"^https://[a-z0-9.-]+\.[a-z]{2,}/\S+$", ref.url or ""), ref.url
            assert ref.link.startswith("https://")
            # the venue names the conference with its year, or the journal with its volume
            assert re.search(r"\b(19|20)\d\d\)$|\d+(\(\d+([-/]\d+)?\))?$|arXiv preprint", ref.venue), ref.venue


def test_no_two_entries_are_identical_in_every_trait(catalog: Catalog) -> None:
    seen: dict[tuple, str] = {}
    for a in catalog.algorithms:
        key = (tuple(sorted(a.handles.items())), tuple(sorted(a.prefers.items())), tuple(sorted(a.suits.items())))
        assert key not in seen, f"{a.id} and {seen[key]} say the same thing"
        seen[key] = a.id


def test_every_use_case_gets_a_shortlist(catalog: Catalog) -> None:
    from banditmap.model import Profile
    from banditmap.recommend.matching import shortlist
    for usecase in catalog.usecases:
        assert shortlist(Profile(usecase.answers), catalog).ranked, usecase.id


def _entry_file(catalog_copy: Path) -> Path:
    return catalog_copy / "algorithms" / "stochastic.yaml"


def _error(dirs: list[Path]) -> str:
    with pytest.raises(BanditmapError) as info:
        load_dirs(dirs)
    return str(info.value)


def test_missing_field_names_file_line_and_field(catalog_copy: Path) -> None:
    path = _entry_file(catalog_copy)
    text = path.read_text()
    path.write_text(text.replace("    maturity: production\n", "", 1))
    message = _error([catalog_copy])
    assert re.match(rf"^{re.escape(str(path))}:\d+: algorithms\[0\]\.maturity: required field is missing$", message)


def test_unknown_trait_value_in_handles(catalog_copy: Path) -> None:
    path = _entry_file(catalog_copy)
    path.write_text(path.read_text().replace("context: [none]", "context: [nonee]", 1))
    message = _error([catalog_copy])
    assert "handles.context" in message and "nonee" in message and "linear" in message


def test_unknown_trait_in_handles(catalog_copy: Path) -> None:
    path = _entry_file(catalog_copy)
    path.write_text(path.read_text().replace("      feedback: [reward]\n", "      feedbak: [reward]\n", 1))
    message = _error([catalog_copy])
    assert "handles.feedbak: unknown field" in message


def test_prefers_must_be_handled(catalog_copy: Path) -> None:
    path = _entry_file(catalog_copy)
    path.write_text(path.read_text().replace("      feedback_delay: [batched]\n",
                                             "      feedback_delay: [batched]\n      context: [linear]\n", 1))
    assert "prefers linear but handles only none" in _error([catalog_copy])


def test_duplicate_id_in_one_folder(catalog_copy: Path) -> None:
    path = _entry_file(catalog_copy)
    path.write_text(path.read_text().replace("id: softmax", "id: epsilon-greedy", 1))
    assert "duplicate algorithm id 'epsilon-greedy'" in _error([catalog_copy])


def test_malformed_yaml_in_catalog(catalog_copy: Path) -> None:
    (catalog_copy / "algorithms" / "broken.yaml").write_text("algorithms:\n  - id: [unclosed\n")
    assert "broken.yaml:" in _error([catalog_copy]) and "malformed YAML" in _error([catalog_copy])


def test_bad_trait_vocabulary(catalog_copy: Path) -> None:
    path = catalog_copy / "traits.yaml"
    path.write_text(path.read_text().replace("    default: binary\n", "    default: clicks\n", 1))
    assert "traits[1].default: expected one of binary" in _error([catalog_copy])


def test_missing_catalog_folder(tmp_path: Path) -> None:
    assert "catalog folder not found" in _error([tmp_path / "nope"])


USER_ENTRY = """
algorithms:
  - id: {id}
    name: {name}
    family: in-house
    summary: Our own tuned Thompson sampling.
    maturity: production
    handles:
      reward_type: any
      feedback_delay: any
      objective: any
      multi_objective: any
      constraints: any
      action_space: any
      action_structure: any
      arm_churn: any
      context: any
      environment: any
      feedback: any
      logged_data: any
    references:
      - {{authors: [A. Author], year: 2020, title: Internal note, venue: Internal, arxiv: "2001.00001"}}
    hyperparameters: []
    cost: {{decision: "O(K)", memory: "O(K)"}}
    implementations: none known
    caveats: []
    simulator: null
"""


def test_user_catalog_adds_and_overrides_by_id(user_catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (user_catalog / "algorithms" / "mine.yaml").write_text(
        USER_ENTRY.format(id="house-ts", name="House TS") + USER_ENTRY.format(id="ucb1", name="Our UCB1")
        .replace("algorithms:\n", ""))
    merged = load_catalog([user_catalog])
    assert merged.algorithm("house-ts") is not None
    assert merged.algorithm("ucb1").name == "Our UCB1"
    monkeypatch.setenv("BANDITMAP_CATALOG", str(user_catalog))
    assert load_catalog().algorithm("house-ts") is not None


def test_every_branch_of_the_map_has_two_entries_and_a_use_case(catalog: Catalog) -> None:
    from banditmap.recommend.coverage import coverage
    stats = coverage(catalog)
    assert stats.thin_branches == ()
    assert [f"{b.trait}={b.value}" for b in stats.branches if not b.usecases and not b.exit and not b.frontier] == []
    frontiers = [b for b in stats.branches if b.frontier]
    assert all(b.handlers == 0 for b in frontiers)  # a frontier that some entry handles is no frontier
    assert set(stats.simulated) == {a.id for a in catalog.algorithms if a.simulator}


def test_every_decision_point_and_branch_says_where_it_comes_from(catalog: Catalog) -> None:
    assert all(g.source for g in catalog.groups)
    for trait in catalog.traits:
        assert trait.source, trait.id
        for choice in trait.choices:
            assert choice.source, f"{trait.id}={choice.id}"
            # a branch either comes from the paper's map or says it extends it, and where from
            assert "Liu & Li 2021" in choice.source or "Lattimore & Szepesvari" in choice.source \
                or choice.source.startswith("banditmap extension"), f"{trait.id}={choice.id}"


def test_cost_is_big_o_per_decision_and_memory_and_maturity_is_backed(catalog: Catalog) -> None:
    for algorithm in catalog.algorithms:
        assert re.search(r"O\(.+\)", algorithm.cost.decision), algorithm.id
        assert re.search(r"O\(.+\)", algorithm.cost.memory), algorithm.id
        if algorithm.maturity == "production":  # battle-tested: running code someone can use, or a documented deployment
            documented = {"mvt-ts"}  # Hill et al. (2017) report it live on Amazon pages; no public library
            assert algorithm.implementations or algorithm.id in documented, algorithm.id


def test_implementations_name_a_checked_version_and_grade(catalog: Catalog) -> None:
    for algorithm in catalog.algorithms:
        for impl in algorithm.implementations:
            assert re.match(r"^\d+(\.\d+)+$", impl.version), (algorithm.id, impl)
            assert impl.grade in ("production", "reference")
            if impl.library == "Vowpal Wabbit":
                assert impl.name.startswith("--"), impl.name
            else:
                assert re.match(r"^[A-Za-z_]\w*(\.\w+)+(\(.*\))?$", impl.name), impl.name


def test_every_use_case_says_where_it_comes_from_and_why_its_traits(catalog: Catalog) -> None:
    for usecase in catalog.usecases:
        assert len(usecase.description.split()) >= 50, usecase.id  # a paragraph, not a title


def test_every_question_rules_something_out_or_is_presented_as_a_preference(catalog: Catalog) -> None:
    from banditmap.cli.questionnaire import question_text
    from banditmap.recommend.coverage import coverage, preferences
    ranking_only = preferences(catalog)
    assert ranking_only == set(coverage(catalog).preferences)
    for trait in catalog.choice_traits:
        filters = any(c.exit or any(c.id not in a.handles[trait.id] for a in catalog.algorithms)
                      for c in trait.choices)
        assert filters != (trait.id in ranking_only), trait.id
        text = question_text(trait, 1, 1, "g", trait.id in ranking_only)
        assert ("a preference" in text) == (trait.id in ranking_only)
    assert ranking_only <= {"logged_data", "slate_effects", "action_features"}  # preferences by design


def test_every_source_in_the_paper_names_its_section(catalog: Catalog) -> None:
    """Each decision point and branch taken from Liu & Li 2021 says where in the paper (a section, and for the
    reward map of section 3 the figure's node where the branch is one of its leaves)."""
    sources = [g.source for g in catalog.groups] + [t.source for t in catalog.traits] + \
        [c.source for t in catalog.traits for c in t.choices]
    for source in sources:
        if "Liu & Li 2021" in source:
            assert re.search(r"sections? \d", source), source
    leaves = {("reward_type", "binary"): 1, ("reward_type", "continuous"): 2, ("multi_objective", "yes"): 3,
              ("constraints", "budget"): 4, ("delay_bound", "bounded"): 5, ("delay_bound", "indefinite"): 6,
              ("environment", "adversarial"): 7, ("feedback", "pairwise"): 8, ("reward_granularity", "whole"): 9,
              ("reward_granularity", "per_item"): 10}
    for (trait_id, value), node in leaves.items():
        trait = catalog.trait(trait_id)
        assert trait is not None
        choice = next(c for c in trait.choices if c.id == value)
        assert f"Figure 1 node {node}" in choice.source, f"{trait_id}={value}"
