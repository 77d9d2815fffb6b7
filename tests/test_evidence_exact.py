"""What the ranking takes from the evidence, computed by hand on classes built in the test: each problem kind's
signature and words, each trait that decides a class (and the sizes that do not), 8 / ratio points to two decimals,
the class median (odd and even counts, none at all, kept per class object), and every word of a reason and a note."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from banditmap.errors import BanditmapError
from banditmap.model import Answer, Catalog, Evidence, EvidenceClass, Standing
from banditmap.recommend import evidence as ev
from banditmap.recommend.evidence import (
    CLASS_TRAITS,
    EVIDENCE_WEIGHT,
    NO_EVIDENCE,
    _class_of,
    class_of,
    describe,
    evidence_class,
    judge,
    neutral,
    note,
    points_for,
    points_of,
    signature,
)
from banditmap.sim.problem import problem_from_answers
from tests.stubs import small_problem

ARMS = "arms/binary/stationary/immediate/none/cumulative"


def standing(candidate: str, ratio: float, problems: int = 12, within: float = 0.25, rank: float = 1.5) -> Standing:
    return Standing(candidate, problems, ratio, within, rank, ratio, ratio)


def klass(ratios: Mapping[str, float], key: str = ARMS, problems: int = 12) -> EvidenceClass:
    return EvidenceClass(key, "arms problems, binary reward", {}, problems,
                         {c: standing(c, r, problems) for c, r in ratios.items()})


def catalog_with(classes: Mapping[str, EvidenceClass] | None) -> Catalog:
    evidence = None if classes is None else Evidence("test", {}, dict(classes))
    return Catalog((), (), (), (), (), evidence=evidence)


# --- classes --------------------------------------------------------------------------------------------------

def test_a_signature_lists_six_fields_and_the_model_second_for_contextual_problems() -> None:
    assert signature(small_problem("arms", model="nonlinear")) == ARMS  # the model is not read outside contextual
    assert signature(small_problem("contextual", model="nonlinear", reward="continuous", dynamics="abrupt",
                                   delay="delayed", constraint="safety", objective="best_arm")) == (
        "contextual/nonlinear/continuous/abrupt/delayed/safety/best_arm")
    assert signature(small_problem("contextual")) == "contextual/linear/binary/stationary/immediate/none/cumulative"


def test_a_class_in_words_names_the_model_constraint_and_objective_only_when_they_count() -> None:
    assert describe(small_problem("arms", model="nonlinear")) == (
        "arms problems, binary reward, stationary, immediate feedback")
    assert describe(small_problem("contextual", model="nonlinear", reward="continuous", dynamics="abrupt",
                                  delay="delayed", constraint="safety", objective="best_arm")) == (
        "contextual problems, continuous reward, nonlinear model, abrupt, delayed feedback, safety constraint, "
        "best-arm identification")
    assert describe(small_problem("budget", constraint="budget", delay="batched")) == (
        "budget problems, binary reward, stationary, batched feedback, budget constraint")


@pytest.mark.parametrize("answers, key", [
    ({}, ARMS),
    ({"feedback": "pairwise"}, "dueling/binary/stationary/immediate/none/cumulative"),
    ({"action_space": "continuous"}, "pricing/binary/stationary/immediate/none/cumulative"),
    ({"action_structure": "ranking"}, "cascade/binary/stationary/immediate/none/cumulative"),
    ({"constraints": "budget"}, "budget/binary/stationary/immediate/budget/cumulative"),
    ({"context": "nonlinear"}, "contextual/nonlinear/binary/stationary/immediate/none/cumulative"),
    ({"multi_objective": "yes"}, "multi/binary/stationary/immediate/none/cumulative"),
    ({"reward_type": "continuous"}, "arms/continuous/stationary/immediate/none/cumulative"),
    ({"environment": "abrupt"}, "arms/binary/abrupt/immediate/none/cumulative"),
    ({"feedback_delay": "delayed"}, "arms/binary/stationary/delayed/none/cumulative"),
    ({"feedback_delay": "delayed", "delay_bound": "indefinite"},
     "arms/binary/stationary/delayed-censored/none/cumulative"),
    ({"feedback_delay": "delayed", "delay_bound": "bounded"}, "arms/binary/stationary/delayed/none/cumulative"),
    ({"objective": "best_arm"}, "arms/binary/stationary/immediate/none/best_arm"),
])
def test_each_class_trait_decides_the_class(answers: dict[str, Answer], key: str) -> None:
    assert class_of(answers) == key


def test_the_class_traits_are_the_eleven_a_signature_reads() -> None:
    assert CLASS_TRAITS == ("feedback", "action_space", "action_structure", "constraints", "context",
                            "multi_objective", "reward_type", "environment", "feedback_delay", "delay_bound",
                            "objective")


def test_sizes_never_change_a_class_even_those_a_race_would_refuse() -> None:
    # one action, a list as long as the actions, a horizon of 3 rounds: a race refuses or scales them, a class not
    assert class_of({"n_actions": 1, "horizon": 3, "environment": "abrupt"}) == (
        "arms/binary/abrupt/immediate/none/cumulative")
    assert class_of({"action_structure": "ranking", "n_actions": 3, "slate_size": 3}) == (
        "cascade/binary/stationary/immediate/none/cumulative")
    with pytest.raises(BanditmapError):
        problem_from_answers({"action_structure": "ranking", "n_actions": 3, "slate_size": 3})


def test_a_problem_no_race_could_build_has_no_class() -> None:
    assert _class_of((("n_actions", 1),)) is None
    assert _class_of((("action_structure", "ranking"), ("n_actions", 3), ("slate_size", 3))) is None
    assert _class_of((("environment", "drifting"),)) == "arms/binary/drifting/immediate/none/cumulative"


# --- the ranking's share --------------------------------------------------------------------------------------

def test_points_are_eight_over_the_ratio_to_two_decimals() -> None:
    assert EVIDENCE_WEIGHT == 8.0
    assert points_of(standing("a", 1.0)) == 8.0
    assert points_of(standing("a", 2.0)) == 4.0
    assert points_of(standing("a", 3.0)) == 2.67  # 2.666...
    assert points_of(standing("a", 7.0)) == 1.14  # 1.142857...
    assert points_of(standing("a", 1.6)) == 5.0


def test_the_neutral_point_is_the_class_median() -> None:
    assert neutral(klass({"a": 1.0, "b": 3.0, "c": 7.0})) == 2.67  # 8, 2.67, 1.14
    assert neutral(klass({"a": 1.0, "b": 2.0, "c": 4.0, "d": 8.0})) == 3.0  # 8, 4, 2, 1: (4 + 2) / 2
    assert neutral(klass({"a": 1.0, "b": 9.0})) == 4.45  # (8 + 0.89) / 2 = 4.445, stored as 4.44500000000000028
    assert neutral(klass({"a": 2.0})) == 4.0
    assert neutral(klass({})) == 0.0


def test_the_neutral_point_is_kept_per_class_object() -> None:
    cls = klass({"a": 1.0, "b": 2.0, "c": 4.0})
    assert neutral(cls) == 4.0
    assert ev._NEUTRAL[id(cls)] == (cls, 4.0)
    ev._NEUTRAL[id(cls)] = (cls, 99.0)  # a value kept for this very object is taken as it is
    assert neutral(cls) == 99.0
    other = klass({"a": 2.0})
    ev._NEUTRAL[id(cls)] = (other, 99.0)  # another object under the same id (a class freed, its id reused)
    assert neutral(cls) == 4.0
    assert ev._NEUTRAL[id(cls)] == (cls, 4.0)
    zero = klass({})
    ev._NEUTRAL[id(zero)] = (zero, 0.0)  # a kept 0.0 is a value, not a miss
    assert neutral(zero) == 0.0


def test_the_points_for_a_candidate_raced_or_not() -> None:
    cls = klass({"a": 1.0, "b": 2.0, "c": 8.0})
    assert points_for("a", cls) == 8.0
    assert points_for("c", cls) == 1.0
    assert points_for("z", cls) == 4.0  # the median of 8, 4, 1


def test_a_judged_candidate_that_raced() -> None:
    cls = EvidenceClass(ARMS, "words", {}, 12, {"a": Standing("a", 12, 2.345, 0.6, 2.25, 2.0, 3.0),
                                                 "b": standing("b", 1.0), "c": standing("c", 3.0)})
    judged = judge("a", cls)
    assert judged.points == 3.41  # 8 / 2.345 = 3.4115...
    assert judged.standing is cls.standings["a"]
    assert (judged.reason.trait, judged.reason.value, judged.reason.points) == ("evidence", ARMS, 3.41)
    assert judged.reason.text == (
        "evidence: regret 2.3x the best's in 12 simulated problems like yours (geometric mean), within 10% of it "
        "in 60%, mean rank 2.2 of 3: +3.41")
    best = judge("b", cls)
    assert best.points == 8.0 and best.reason.text.endswith("mean rank 1.5 of 3: +8")
    assert "regret 1x the best's" in best.reason.text and "within 10% of it in 25%" in best.reason.text


def test_a_judged_candidate_that_did_not_race() -> None:
    cls = klass({"a": 1.0, "b": 3.0})  # 8 and 2.67: median 5.335, stored just under, so 5.33
    judged = judge("z", cls)
    assert judged.points == 5.33 and judged.standing is None
    assert (judged.reason.trait, judged.reason.value, judged.reason.points) == ("evidence", ARMS, 5.33)
    assert judged.reason.text == "evidence: not raced in the simulated problems like yours, so their median: +5.33"


def test_the_evidence_class_of_a_profile() -> None:
    cls = klass({"a": 1.0})
    catalog = catalog_with({ARMS: cls})
    assert evidence_class(catalog, {"n_actions": 5}) is cls
    assert evidence_class(catalog, {"environment": "abrupt"}) is None  # a class the evidence did not race
    assert evidence_class(catalog_with(None), {"n_actions": 5}) is None


def test_the_note_on_the_order() -> None:
    cls = EvidenceClass("k/e/y", "some words", {}, 36, {})
    assert note(catalog_with(None), {}, cls) == (
        "Order: trait fit plus up to 8 points of evidence from 36 simulated problems like yours (some words: "
        "banditmap evidence show --class k/e/y).")
    assert note(catalog_with(None), {}, None) == NO_EVIDENCE
    assert NO_EVIDENCE == (
        "Order: trait fit only; this catalog carries no evidence (banditmap evidence build makes it).")
    assert note(catalog_with({}), {"environment": "abrupt"}, None) == (
        "Order: trait fit only; the evidence has no simulated problems like yours "
        "(arms/binary/abrupt/immediate/none/cumulative) yet.")


def test_the_note_without_a_class_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "class_of", lambda answers: None)  # a profile no race could be built for
    assert note(catalog_with({}), {}, None) == (
        "Order: trait fit only; the evidence has no simulated problems like yours yet.")
