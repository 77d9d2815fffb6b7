from __future__ import annotations

import math
from pathlib import Path

import pytest

from banditmap.catalog.profiles import (_number, check_answers, check_assignments, first_violation, parse_assignment,
                                        parse_value, read_profile)
from banditmap.catalog.yamlio import Document
from banditmap.errors import BanditmapError
from banditmap.model import Bound, Catalog, Choice, Condition, Profile, Rule, Trait


def _check(catalog: Catalog, **answers: object) -> dict:
    return check_assignments([(k, str(v)) for k, v in answers.items()], catalog.traits, catalog.rules)


def test_numbers_and_choices_are_parsed(catalog: Catalog) -> None:
    got = _check(catalog, action_space="many", n_actions="1e5", multi_objective="no", horizon="1_000")
    assert got == {"action_space": "many", "n_actions": 100000, "multi_objective": "no", "horizon": 1000}


@pytest.mark.parametrize("answers, needle", [
    ({"reward_type": "clicks"}, "'clicks' is not a value of reward_type; expected one of binary, continuous"),
    ({"colour": "red"}, "colour: unknown trait; expected one of formulation, reward_type"),
    ({"n_actions": "lots"}, "expected a number for n_actions, got 'lots'"),
    ({"n_actions": "-3"}, "expected n_actions between 1 and 1e+09, got -3"),
    ({"n_actions": "2.5"}, "expected a whole number for n_actions"),
    ({"n_actions": "nan"}, "expected a number for n_actions"),
    ({"action_space": "few", "n_actions": "100000"}, "n_actions=100000 contradicts action_space=few"),
    ({"action_structure": "ranking", "slate_size": "10", "n_actions": "5"},
     "slate_size=10 contradicts action_structure=ranking"),
    ({"context": "none", "n_features": "10"}, "n_features=10 contradicts context=none"),
    ({"action_space": "continuous", "action_structure": "ranking"},
     "action_structure=ranking contradicts action_space=continuous"),
    ({"feedback": "pairwise", "reward_type": "continuous"}, "reward_type=continuous contradicts feedback=pairwise"),
])
def test_bad_answers_are_refused(catalog: Catalog, answers: dict, needle: str) -> None:
    with pytest.raises(BanditmapError) as info:
        _check(catalog, **answers)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["novalue", "=x", "trait=", ""])
def test_bad_assignment(text: str) -> None:
    with pytest.raises(BanditmapError, match="expected trait=value"):
        parse_assignment(text)


def test_profile_file_flat_or_nested(tmp_path: Path, catalog: Catalog) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text("reward_type: binary\ncontext: linear\nn_features: 12\n")
    nested = tmp_path / "nested.yaml"
    nested.write_text("name: Shop\nprofile:\n  reward_type: binary\n  context: linear\n  n_features: 12\n")
    assert read_profile(flat, catalog.traits, catalog.rules).answers == \
        read_profile(nested, catalog.traits, catalog.rules).answers
    assert read_profile(nested, catalog.traits, catalog.rules).name == "Shop"


def test_profile_error_names_file_line_and_field(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("profile:\n  reward_type: binary\n  action_space: few\n  n_actions: 100000\n")
    with pytest.raises(BanditmapError) as info:
        read_profile(path, catalog.traits, catalog.rules)
    assert str(info.value).startswith(f"{path}:4: profile.n_actions: n_actions=100000 contradicts action_space=few")


@pytest.mark.parametrize("text, needle", [
    ("", "the file is empty"),
    ("- a\n- b\n", "expected a mapping of trait: value"),
    ("profile: {}\nextra: 1\n", "extra: unknown field"),
])
def test_profile_file_shape(tmp_path: Path, catalog: Catalog, text: str, needle: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(BanditmapError, match=needle):
        read_profile(path, catalog.traits, catalog.rules)


def test_missing_profile_file(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(BanditmapError, match="file not found"):
        read_profile(tmp_path / "missing.yaml", catalog.traits, catalog.rules)


# --- exact answers and messages on traits and rules built in the test ---------------------------------------------

COLOUR = Trait("colour", "g", "choice", "?", "", (Choice("red", ""), Choice("true", ""), Choice("false", "")))
SIZE = Trait("size", "g", "number", "?", "", minimum=1, maximum=10, integer=True)
RATE = Trait("rate", "g", "number", "?", "", minimum=0.5)
LIMIT = Trait("limit", "g", "number", "?", "")
TRAITS = (COLOUR, SIZE, RATE, LIMIT)
RULES = (Rule((Condition("colour", ("red",)),), {}, {"size": Bound(2, 8, at_most="limit")}, "red needs room"),
         Rule((Condition("colour", ("true",)), Condition("size", (5,))), {"rate": ()}, {}, "never"),
         Rule((Condition("colour", ("false",)),), {"colour": ("red", "true")}, {}, "false is not allowed"))


def refused(**answers: object) -> str:
    with pytest.raises(BanditmapError) as info:
        check_answers(Document("p.yaml", dict(answers), {}), (), TRAITS, RULES)
    return str(info.value)


def test_values_are_parsed_to_choice_ids_and_numbers() -> None:
    def fail(message: str) -> BanditmapError:
        return BanditmapError(message)
    assert parse_value(COLOUR, " red ", fail) == "red"
    assert parse_value(COLOUR, True, fail) == "true" and parse_value(COLOUR, False, fail) == "false"  # yes / no
    assert parse_value(SIZE, "1", fail) == 1 and parse_value(SIZE, 10.0, fail) == 10  # both ends allowed
    assert type(parse_value(SIZE, 10.0, fail)) is int
    assert parse_value(RATE, "0.5", fail) == 0.5 and parse_value(RATE, 1e300, fail) == 1e300
    assert parse_value(LIMIT, -1e300, fail) == -1e300


@pytest.mark.parametrize("answers, message", [
    ({"size": 0}, "p.yaml: size: expected size between 1 and 10, got 0"),
    ({"size": 11}, "p.yaml: size: expected size between 1 and 10, got 11"),
    ({"size": "10.5"}, "p.yaml: size: expected a whole number for size, got '10.5'"),
    ({"rate": 0.49}, "p.yaml: rate: expected rate between 0.5 and inf, got 0.49"),
    ({"rate": "inf"}, "p.yaml: rate: expected rate between 0.5 and inf, got a number too large to use"),
    ({"limit": "-1e999"}, "p.yaml: limit: expected limit between -inf and inf, got a number too large to use"),
    ({"limit": True}, "p.yaml: limit: expected a number for limit, got 'True'"),
    ({"colour": "blue"}, "p.yaml: colour: 'blue' is not a value of colour; expected one of red, true, false"),
    ({"colour": "red", "size": 1}, "p.yaml: size: size=1 contradicts colour=red: red needs room (expected size >= 2)"),
    ({"colour": "red", "size": 9}, "p.yaml: size: size=9 contradicts colour=red: red needs room (expected size <= 8)"),
    ({"colour": "red", "size": 6, "limit": 5.5},
     "p.yaml: size: size=6 contradicts colour=red: red needs room (expected size <= limit (5.5))"),
    ({"colour": "true", "size": 5, "rate": 1},
     "p.yaml: rate: rate=1 contradicts colour=true, size=5: never (expected )"),
    ({"colour": "false"},
     "p.yaml: colour: colour=false contradicts colour=false: false is not allowed (expected red or true)"),
    ({"shade": "x"}, "p.yaml: shade: unknown trait; expected one of colour, size, rate, limit"),
])
def test_answers_are_refused_with_the_exact_message(answers: dict, message: str) -> None:
    assert refused(**answers) == message


def test_rules_hold_at_their_bounds_and_only_when_every_condition_does() -> None:
    doc = Document("p.yaml", {"colour": "red", "size": 8, "limit": 8}, {})
    assert check_answers(doc, (), TRAITS, RULES) == {"colour": "red", "size": 8, "limit": 8}
    assert check_answers(Document("p", {"colour": "red", "size": 2}, {}), (), TRAITS, RULES)["size"] == 2
    assert check_answers(Document("p", {"colour": "true", "size": 4, "rate": 1}, {}), (), TRAITS, RULES)["rate"] == 1
    assert check_answers(Document("p", {"colour": "true", "size": 5}, {}), (), TRAITS, RULES) == {
        "colour": "true", "size": 5}  # the rule's trait left unanswered breaks nothing
    assert check_answers(Document("p", {"size": 1, "limit": 0}, {}), (), TRAITS, RULES) == {"size": 1, "limit": 0}
    assert first_violation({"colour": "red", "size": 9, "limit": 1}, RULES) == (
        "size", "size=9 contradicts colour=red: red needs room (expected size <= 8)")
    assert first_violation({"colour": "red"}, RULES) is None


def test_blank_answers_are_unanswered_and_an_empty_profile_is_allowed() -> None:
    doc = Document("p.yaml", {"profile": {"colour": "", "size": None, "rate": 2}}, {})
    assert check_answers(doc, ("profile",), TRAITS, RULES) == {"rate": 2}
    assert check_answers(Document("p.yaml", {"profile": None}, {}), ("profile",), TRAITS, RULES) == {}
    with pytest.raises(BanditmapError) as info:
        check_answers(Document("p.yaml", {"profile": ["red"]}, {("profile",): 3}), ("profile",), TRAITS, RULES)
    assert str(info.value) == "p.yaml:3: profile: expected a mapping of trait: value"


def test_numbers_as_written_in_a_file_or_typed() -> None:
    assert _number(True) is None and _number(None) is None and _number("") is None
    assert _number(10**18 - 1) == 10**18 - 1
    assert _number(10**18) == math.inf and _number(-10**18) == -math.inf and _number(-(10**18) + 1) == -(10**18) + 1
    assert _number(2.5) == 2.5 and _number(" 1_000 ") == 1000 and type(_number("1e3")) is int
    assert _number("1__000") == 1000 and _number("1000_") == 1000  # underscores anywhere, as a reader may type
    assert _number("²") is None and _number("١") is None  # another script's digits are not numbers here
    assert _number("1" * 400) == float("1" * 400)  # 400 characters are read, 401 are not
    assert _number("1" * 401) is None and _number("12abc") is None
    assert type(_number(str(2**53 - 1))) is int and type(_number(str(2**53))) is float
    assert type(_number(str(-(2**53 - 1)))) is int and _number("-2.0") == -2 and type(_number("-2.0")) is int
    assert math.isnan(_number("nan"))  # type: ignore[arg-type]  # kept so the caller can say what is wrong


def test_assignments_are_split_at_the_first_equals_sign() -> None:
    assert parse_assignment(" colour = red ") == ("colour", "red")
    assert parse_assignment("limit=a=b") == ("limit", "a=b")
    with pytest.raises(BanditmapError) as info:
        parse_assignment("colour")
    assert str(info.value) == "--set: expected trait=value, got 'colour'"


def test_later_assignments_win_over_earlier_ones_and_the_base() -> None:
    base = {"colour": "red", "size": 4}
    assert check_assignments([("size", "5"), ("size", "6")], TRAITS, RULES, base) == {"colour": "red", "size": 6}
    assert base == {"colour": "red", "size": 4}
    with pytest.raises(BanditmapError) as info:
        check_assignments([("size", "0")], TRAITS, RULES, source="--batch")
    assert str(info.value) == "--batch: size: expected size between 1 and 10, got 0"
    with pytest.raises(BanditmapError) as info:
        check_assignments([("size", "0")], TRAITS, RULES)
    assert str(info.value).startswith("--set: size: ")


def test_profile_files_name_their_source_and_fall_back_to_the_file_name(tmp_path: Path) -> None:
    nested = tmp_path / "shop.yaml"
    nested.write_text("id: shop\nname: The shop\nprofile:\n  colour: red\n  size: 3\n")
    assert read_profile(nested, TRAITS, RULES) == Profile({"colour": "red", "size": 3}, "The shop", str(nested))
    unnamed = tmp_path / "unnamed.yaml"
    unnamed.write_text("name:\nprofile:\n  size: 3\n")
    assert read_profile(unnamed, TRAITS, RULES) == Profile({"size": 3}, "unnamed", str(unnamed))
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("profile:\n  size: 3\n")
    assert read_profile(nameless, TRAITS, RULES).name == "nameless"
    flat = tmp_path / "flat.yaml"
    flat.write_text("size: 3\nname: 4\n")  # a trait may be called name: in a flat file it is an answer
    name = Trait("name", "g", "number", "?", "")
    assert read_profile(flat, TRAITS + (name,), RULES) == Profile({"size": 3, "name": 4}, "flat", str(flat))
    for text, message in (("[1, 2]\n", ":1: expected a mapping of trait: value, got list"),
                          ("", ": the file is empty; expected a mapping of trait: value"),
                          ("profile: {}\ncolour: red\n", ":2: colour: unknown field; expected one of id, name, "
                                                          "description, profile, left_unanswered")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(BanditmapError) as info:
            read_profile(bad, TRAITS, RULES)
        assert str(info.value) == f"{bad}{message}"
