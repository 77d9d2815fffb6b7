"""The evidence: the grid as data (checked like any catalog file), the build (the standings' arithmetic, resuming,
identical whatever the engine), and what the ranking takes from it (8 / ratio points, the class median for a
candidate not raced, the same in batch as in a shortlist)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from banditmap.catalog.evidence import evidence_dict, load_evidence, load_grid
from banditmap.catalog.loading import load_catalog
from banditmap.cli.app import main
from banditmap.errors import BanditmapError
from banditmap.executor import Engine
from banditmap.model import Catalog, Evidence, EvidenceClass, Profile, Standing
from banditmap.recommend import build as building
from banditmap.recommend.build import Cell, Outcome, Plan, build, partial_path, plan, standings
from banditmap.recommend.evidence import EVIDENCE_WEIGHT, class_of, judge, neutral
from banditmap.recommend.matching import rank, score_table, shortlist
from banditmap.sim.problem import problem_from_answers

SMALL = """\
version: 1
rounds: 200
instances: 3
sizes: [{n_actions: 4}]
families:
  - name: single items
    base: {action_space: few, action_structure: single, context: none}
    vary:
      environment: [adversarial]
  - name: rankings
    base: {action_space: many, action_structure: ranking, context: none, slate_size: 3}
    sizes: [{n_actions: 20}, {n_actions: 24}]
"""
RACED = SMALL.replace("rounds: 200", "rounds: 100").replace(
    "base: {action_space: few, action_structure: single, context: none}\n    vary:\n      environment: [adversarial]",
    "base: {action_space: few, action_structure: single, context: none, environment: adversarial}")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def grid_at(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the grid -------------------------------------------------------------------------------------------------

def test_a_grid_lists_each_family_base_then_each_varied_value(catalog, tmp_path):
    grid = load_grid(grid_at(tmp_path), catalog)
    assert [dict(c.answers).get("environment") for c in grid.classes] == [None, "adversarial", None]
    assert [len(c.sizes) for c in grid.classes] == [1, 1, 2]
    assert (grid.rounds, grid.instances) == (200, 3)
    assert [c.line for c in grid.classes] == [7, 9, 11]


def test_crossed_values_give_every_combination(catalog, tmp_path):
    text = SMALL.replace("    vary:\n      environment: [adversarial]\n",
                         "    cross:\n      environment: [stationary, abrupt]\n      reward_type: [binary, continuous]\n")
    grid = load_grid(grid_at(tmp_path, text), catalog)
    combos = [(c.answers.get("environment"), c.answers.get("reward_type")) for c in grid.classes[:4]]
    assert combos == [("stationary", "binary"), ("stationary", "continuous"), ("abrupt", "binary"),
                      ("abrupt", "continuous")]


@pytest.mark.parametrize("change, expected", [
    (("rounds: 200", "rounds: 5"), "grid.yaml:2: rounds: expected a whole number from 100 to 100,000, got '5'"),
    (("environment: [adversarial]", "environment: [stormy]"), "grid.yaml:9: environment: 'stormy'"),
    (("vary:", "varies:"), "grid.yaml:9: families[0].varies: unknown field"),
    (("{n_actions: 20}, {n_actions: 24}", "{n_actions: 5}"),
     "grid.yaml:11: families[1].base: this class's answers are inconsistent: n_actions=5 contradicts action_space=many"),
    (("sizes: [{n_actions: 4}]", "sizes: [{reward_type: binary}]"), "grid.yaml:4: sizes[0].reward_type: expected a number trait"),
])
def test_a_bad_grid_is_one_line_naming_file_line_and_field(catalog, tmp_path, change, expected):
    with pytest.raises(BanditmapError) as caught:
        load_grid(grid_at(tmp_path, SMALL.replace(*change)), catalog)
    assert expected in caught.value.render().replace(str(tmp_path) + "/", "")


# --- the standings' arithmetic --------------------------------------------------------------------------------

def test_standings_compare_each_instance_with_its_best(catalog, tmp_path):
    grid = load_grid(grid_at(tmp_path), catalog)
    problem = problem_from_answers({"n_actions": 4}, 200, 2)
    the_plan = Plan(grid, {"k": ("words", {})}, (Cell("k", 0, problem, 1), Cell("k", 1, problem, 2)), (), ())
    outcomes = [Outcome(0, "a", (9.0, 1.0)), Outcome(0, "b", (19.0, 0.0)),  # a: ratios 1, 2; b: 2, 1
                Outcome(1, "a", (3.0, 3.0)), Outcome(1, "b", (3.0, 7.0)),  # a: 1, 1; b: 1 (a tie), 2
                Outcome(1, "c", (0.0, 0.0))]  # c did not race cell 0: left out, not counted as best
    got = standings(the_plan, outcomes)["k"]
    assert set(got.standings) == {"a", "b"} and got.problems == 4
    a, b = got.standings["a"], got.standings["b"]
    assert a.ratio == pytest.approx(math.exp(math.log(2) / 4), abs=1e-4)
    assert b.ratio == pytest.approx(math.exp(2 * math.log(2) / 4), abs=1e-4)
    assert (a.within, b.within) == (0.75, 0.5)
    assert (a.rank, b.rank) == (1.375, 1.625)  # ranks 1, 2, 1.5 (tied), 1 and 2, 1, 1.5, 2
    assert (a.ratio_low, a.ratio_high) == (1.0, 1.25)


def test_a_negative_best_regret_raises_every_regret_before_the_ratio() -> None:
    """A budget world's benchmark is an expected value, which a policy can beat by chance: its regret is then
    negative, and the ratios are taken after raising every regret by it (the best stays 1, the order stays)."""
    from banditmap.recommend.build import relative
    ratio = relative(np.array([[-3.0, 4.0], [1.0, 0.0], [-1.0, 9.0]]))
    assert ratio[:, 0].tolist() == [1.0, 5.0, 3.0] and ratio[:, 1].tolist() == [5.0, 1.0, 10.0]
    assert np.isfinite(np.log(ratio)).all()


def test_a_candidate_refused_on_one_size_has_no_standing(catalog, tmp_path):
    grid = load_grid(grid_at(tmp_path), catalog)
    problem = problem_from_answers({"n_actions": 4}, 200, 2)
    the_plan = Plan(grid, {"k": ("words", {})}, (Cell("k", 0, problem, 1),), (), ())
    got = standings(the_plan, [Outcome(0, "a", (1.0, 2.0)), Outcome(0, "b", refused="too big")])
    assert set(got["k"].standings) == {"a"}


# --- the build ------------------------------------------------------------------------------------------------

def test_the_build_races_every_class_candidate_on_shared_problems_and_resumes(catalog, tmp_path):
    grid = load_grid(grid_at(tmp_path, RACED), catalog)
    the_plan = plan(catalog, grid)
    keys = list(the_plan.classes)
    assert keys == ["arms/binary/adversarial/immediate/none/cumulative",
                    "cascade/binary/stationary/immediate/none/cumulative"]
    assert len(plan(catalog, load_grid(grid_at(tmp_path), catalog)).classes) == 3  # with the stationary base
    cascade = {t.candidate for t in the_plan.tasks if the_plan.cells[t.cell].key == keys[1]}
    assert {"cascade-klucb", "cascade-ucb", "uniform-random-list"} <= cascade
    seeds = {(the_plan.cells[t.cell].key, the_plan.cells[t.cell].size): t.seed for t in the_plan.tasks}
    assert len(set(seeds.values())) == len(seeds)  # one seed per class and size, shared by its candidates

    fresh = build(catalog, grid, tmp_path / "fresh.json", Engine(jobs=1))
    assert fresh.resumed == 0 and fresh.tasks == len(the_plan.tasks)
    assert not partial_path(tmp_path / "fresh.json").exists()
    written = (tmp_path / "fresh.json").read_text()
    loaded = load_evidence(tmp_path / "fresh.json")
    assert set(loaded.classes) == set(keys)
    assert evidence_dict(loaded) == json.loads(written)

    # an interrupted build: half the races were written, the last line cut short by the kill
    out = tmp_path / "resumed.json"
    lines = partial_lines(catalog, grid, the_plan)
    half = len(the_plan.tasks) // 2
    partial_path(out).write_text("\n".join(lines[:half + 1]) + "\n" + lines[half + 1][:20], encoding="utf-8")
    resumed = build(catalog, grid, out, Engine(jobs=1))
    assert resumed.resumed == half
    assert out.read_text() == written  # the same file as a build that was never interrupted


def partial_lines(catalog, grid, the_plan):
    rows = [building.race_task(t) for t in the_plan.tasks]
    return [json.dumps(building.resume_header(grid))] + [building.outcome_line(o).rstrip("\n") for o in rows]


def test_a_file_in_the_way_of_the_resume_log_is_never_overwritten(catalog, tmp_path):
    out = tmp_path / "e.json"
    partial_path(out).write_text("my notes\n", encoding="utf-8")
    with pytest.raises(BanditmapError, match="not an interrupted evidence build"):
        build(catalog, load_grid(grid_at(tmp_path), catalog), out, Engine(jobs=1))
    assert partial_path(out).read_text() == "my notes\n"


def test_a_dask_cluster_builds_the_same_file(catalog, tmp_path):
    pytest.importorskip("distributed")
    grid = load_grid(grid_at(tmp_path, RACED), catalog)
    local = build(catalog, grid, tmp_path / "local.json", Engine(jobs=1))
    dask = build(catalog, grid, tmp_path / "dask.json", Engine("dask", jobs=2))
    assert dask.tasks == local.tasks
    assert (tmp_path / "dask.json").read_bytes() == (tmp_path / "local.json").read_bytes()


# --- what the ranking takes from it ---------------------------------------------------------------------------

def with_evidence(catalog: Catalog, standings_: dict[str, float], key: str) -> Catalog:
    rows = {c: Standing(c, 40, r, 0.5, 2.0, r, r) for c, r in standings_.items()}
    evidence = Evidence("test", {}, {key: EvidenceClass(key, "words", {}, 40, rows)})
    return Catalog(catalog.groups, catalog.traits, catalog.rules, catalog.algorithms, catalog.usecases,
                   catalog.sources, catalog.adapters, catalog.capabilities, evidence)


ANSWERS = {"environment": "abrupt", "n_actions": 5, "action_space": "few"}


def test_the_ranking_adds_eight_over_the_ratio_and_the_median_for_candidates_not_raced(catalog):
    key = class_of(ANSWERS)
    assert key == "arms/binary/abrupt/immediate/none/cumulative"
    plain = shortlist(Profile(ANSWERS), dataclasses.replace(catalog, evidence=None))
    ratios = {"sw-ucb": 1.0, "discounted-ts": 4.0, "exp3-s": 2.0, "ucb1+discounting": 2.0}
    judged = shortlist(Profile(ANSWERS), with_evidence(catalog, ratios, key))
    before = {m.id: m.score for m in plain.ranked}
    after = {m.id: m for m in judged.ranked}
    assert after["sw-ucb"].score == pytest.approx(before["sw-ucb"] + EVIDENCE_WEIGHT)
    assert after["discounted-ts"].score == pytest.approx(before["discounted-ts"] + 2.0)
    assert after["exp3-s"].score == pytest.approx(before["exp3-s"] + 4.0)
    assert after["ucb1+discounting"].score == pytest.approx(before["ucb1+discounting"] + 4.0)  # compositions too
    assert after["ucb1+discounting"].standing.ratio == 2.0
    not_raced = next(m for m in judged.ranked if m.id not in ratios)
    assert not_raced.score == pytest.approx(before[not_raced.id] + 4.0)  # the median of 8, 4, 4 and 2
    assert not_raced.standing is None and after["sw-ucb"].standing.ratio == 1.0
    assert next(r.text for r in after["sw-ucb"].reasons if r.trait == "evidence") == (
        "evidence: regret 1x the best's in 40 simulated problems like yours (geometric mean), within 10% of it in "
        "50%, mean rank 2.0 of 4: +8")
    assert judged.ranked[0].id == "sw-ucb"
    assert judged.evidence is not None and judged.evidence.key == key and plain.evidence is None
    assert judged.evidence_note == ("Order: trait fit plus up to 8 points of evidence from 40 simulated problems "
                                    "like yours (words: banditmap evidence show --class " + key + ").")
    assert plain.evidence_note.startswith("Order: trait fit only")


def test_batch_ranks_with_the_same_evidence_points_as_the_shortlist(catalog):
    key = class_of(ANSWERS)
    judged_catalog = with_evidence(catalog, {"sw-ucb": 1.0, "discounted-ts": 4.0, "exp3-s": 2.0,
                                             "ucb1+discounting": 2.0}, key)
    full = shortlist(Profile(ANSWERS), judged_catalog)
    fast, exact = rank(ANSWERS, score_table(judged_catalog))
    assert exact
    assert [(r.id, round(r.score, 9)) for r in fast] == [(m.id, round(m.score, 9)) for m in full.ranked]


def test_the_class_median_and_a_reason_for_a_candidate_not_raced():
    cls = EvidenceClass("k", "words", {}, 10, {c: Standing(c, 10, r, 0, 1, r, r)
                                               for c, r in {"a": 1.0, "b": 2.0}.items()})
    assert neutral(cls) == 6.0
    judged = judge("c", cls)
    assert judged.points == 6.0 and judged.standing is None
    assert judged.reason.text == "evidence: not raced in the simulated problems like yours, so their median: +6"


def test_the_shipped_evidence_was_built_from_the_shipped_grid(catalog):
    # a grid edited without rebuilding (make evidence) fails here
    from banditmap.catalog.evidence import grid_file
    from banditmap.catalog.loading import builtin_dir
    grid = load_grid(grid_file(builtin_dir()), catalog)
    assert catalog.evidence is not None
    assert catalog.evidence.provenance["grid_digest"] == grid.digest
    assert (catalog.evidence.provenance["rounds"], catalog.evidence.provenance["instances"]) == (grid.rounds,
                                                                                                grid.instances)
    the_plan = plan(catalog, grid)
    assert set(catalog.evidence.classes) == set(the_plan.classes)
    for cls in catalog.evidence.classes.values():
        assert {s.problems for s in cls.standings.values()} == {cls.problems}
        assert sum(s.within for s in cls.standings.values()) >= 1 - 1e-9  # each problem's best is within 10%
        assert sum(s.rank for s in cls.standings.values()) == pytest.approx(
            len(cls.standings) * (len(cls.standings) + 1) / 2, abs=0.01)  # ranks 1..n on each problem


# --- the commands ---------------------------------------------------------------------------------------------

def test_show_names_an_unknown_class_and_build_never_overwrites(tmp_path, capsys):
    with pytest.raises(SystemExit) as code:
        main(["evidence", "show", "--class", "arms/binary/stationary/immediate/none/cumulativ"])
    assert code.value.code == 2
    assert "did you mean arms/binary/stationary/immediate/none/cumulative" in capsys.readouterr().err
    (tmp_path / "e.json").write_text("{}", encoding="utf-8")
    with pytest.raises(SystemExit) as code:
        main(["evidence", "build", "--grid", str(grid_at(tmp_path)), "--out", str(tmp_path / "e.json")])
    assert code.value.code == 2
    assert "exists already" in capsys.readouterr().err
    assert (tmp_path / "e.json").read_text() == "{}"


def test_a_malformed_evidence_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "banditmap.evidence/1", "provenance": {}, "classes": {
        "k": {"description": "d", "answers": {}, "problems": 3, "candidates": {"a": {"problems": 3, "ratio": 0.5,
              "within": 1, "rank": 1, "ratio_low": 1, "ratio_high": 1}}}}}), encoding="utf-8")
    with pytest.raises(SystemExit) as code:
        main(["evidence", "show", "--evidence", str(bad)])
    assert code.value.code == 2
    assert capsys.readouterr().err.strip().endswith(
        "bad.json: classes.k.candidates.a: expected ratio >= 1, within between 0 and 1, rank >= 1")


def test_a_profiles_class_reads_only_the_choices_that_make_its_problem(catalog):
    # sizes never change a class; the reduced key gives the class of the problem a race would build
    from banditmap.recommend.evidence import signature
    for case in catalog.usecases:
        assert class_of(case.answers) == signature(problem_from_answers(case.answers)), case.id
    assert class_of({**ANSWERS, "n_actions": 1}) == class_of(ANSWERS)  # too few actions to race, same class
    assert class_of({"action_structure": "ranking"}) == "cascade/binary/stationary/immediate/none/cumulative"
