"""Reads and checks use-case profiles: files, `--set trait=value` options, and their consistency rules."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from banditmap.catalog.yamlio import Document, PathKey, load_file
from banditmap.errors import BanditmapError, shown
from banditmap.model import Answer, Bound, Profile, Rule, Trait

PROFILE_KEYS = ("id", "name", "description", "profile", "left_unanswered")


def answers_in(doc: Document) -> PathKey:
    """Where the answers sit in a profile file: under `profile:` (as in use cases) or at the top level."""
    if not isinstance(doc.data, dict):
        raise doc.error((), f"expected a mapping of trait: value, got {type(doc.data).__name__}"
                        if doc.data is not None else "the file is empty; expected a mapping of trait: value")
    if "profile" in doc.data:
        for key in doc.data:
            if key not in PROFILE_KEYS:
                raise doc.error((key,), "unknown field; expected one of " + ", ".join(PROFILE_KEYS))
        return ("profile",)
    return ()


def read_profile(path: Path, traits: tuple[Trait, ...], rules: tuple[Rule, ...]) -> Profile:
    doc = load_file(path)
    where = answers_in(doc)
    answers = check_answers(doc, where, traits, rules)
    name = doc.data.get("name", "") if where else ""
    return Profile(answers, str(name or path.stem), str(path))


def parse_assignment(text: str) -> tuple[str, str]:
    """`trait=value` -> (trait, value), as typed after --set."""
    trait, sep, value = text.partition("=")
    if not sep or not trait.strip() or not value.strip():
        raise BanditmapError(f"expected trait=value, got {shown(text)}", source="--set")
    return trait.strip(), value.strip()


def check_assignments(pairs: Iterable[tuple[str, str]], traits: tuple[Trait, ...],
                      rules: tuple[Rule, ...], base: Mapping[str, Answer] | None = None,
                      source: str = "--set") -> dict[str, Answer]:
    """Apply `--set` pairs (later wins) on top of `base` answers and check the result."""
    merged: dict[str, Any] = dict(base or {})
    for trait, value in pairs:
        merged[trait] = value
    return check_answers(Document(source, merged, {}), (), traits, rules)


def check_answers(doc: Document, where: PathKey, traits: tuple[Trait, ...],
                  rules: tuple[Rule, ...]) -> dict[str, Answer]:
    """Validate the answers found at `where` in `doc`: known traits, allowed values, ranges, then rules."""
    raw = doc.at(where)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise doc.error(where, "expected a mapping of trait: value")
    by_id = {t.id: t for t in traits}
    answers: dict[str, Answer] = {}
    for key, value in raw.items():
        path = where + (key,)
        trait = by_id.get(key)
        if trait is None:
            raise doc.error(path, "unknown trait; expected one of " + ", ".join(by_id))
        if value is None or value == "":
            continue  # left blank: unanswered
        answers[key] = parse_value(trait, value, lambda msg, p=path: doc.error(p, msg))
    violation = first_violation(answers, rules)
    if violation is not None:
        trait_id, message = violation
        raise doc.error(where + (trait_id,), message)
    return answers


def parse_value(trait: Trait, value: Any, fail: Any) -> Answer:
    """One answer, as read from a file or typed: a choice id or a number within the trait's range."""
    if trait.is_choice:
        text = str(value).strip() if not isinstance(value, bool) else str(value).lower()
        if text not in trait.values:
            raise fail(f"{shown(value)} is not a value of {trait.id}; expected one of {', '.join(trait.values)}")
        return text
    number = _number(value)
    if number is None or math.isnan(number):
        raise fail(f"expected a number for {trait.id}, got {shown(value)}")
    low = trait.minimum if trait.minimum is not None else -math.inf
    high = trait.maximum if trait.maximum is not None else math.inf
    if math.isinf(number):
        raise fail(f"expected {trait.id} between {low:g} and {high:g}, got a number too large to use")
    if trait.integer:
        if not float(number).is_integer():
            raise fail(f"expected a whole number for {trait.id}, got {shown(value)}")
        number = int(number)
    if not low <= number <= high:
        raise fail(f"expected {trait.id} between {low:g} and {high:g}, got {number:g}")
    return number


def _number(value: Any) -> float | None:
    """A number as written in a file or typed: ASCII digits only (a superscript or another script's digits is
    not a number here), NaN and infinities kept so the caller can say what is wrong; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**18 else (math.inf if value > 0 else -math.inf)
    if isinstance(value, float):
        return value
    text = str(value).replace("_", "").strip()
    if not text.isascii() or len(text) > 400:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def first_violation(answers: Mapping[str, Answer], rules: tuple[Rule, ...]) -> tuple[str, str] | None:
    """The first (trait, message) where answers contradict a consistency rule, or None."""
    for rule in rules:
        if not all(cond.holds(answers) for cond in rule.when):
            continue
        given = ", ".join(f"{c.trait}={answers[c.trait]}" for c in rule.when)
        for trait_id, allowed in rule.choices.items():
            value = answers.get(trait_id)
            if value is not None and value not in allowed:
                return trait_id, (f"{trait_id}={value} contradicts {given}: {rule.why} "
                                  f"(expected {' or '.join(allowed)})")
        for trait_id, bound in rule.bounds.items():
            problem = _bound_problem(answers, trait_id, bound)
            if problem:
                return trait_id, f"{trait_id}={answers[trait_id]:g} contradicts {given}: {rule.why} ({problem})"
    return None


def _bound_problem(answers: Mapping[str, Answer], trait_id: str, bound: Bound) -> str | None:
    value = answers.get(trait_id)
    if not isinstance(value, (int, float)):
        return None
    if bound.minimum is not None and value < bound.minimum:
        return f"expected {trait_id} >= {bound.minimum:g}"
    if bound.maximum is not None and value > bound.maximum:
        return f"expected {trait_id} <= {bound.maximum:g}"
    other = answers.get(bound.at_most) if bound.at_most else None
    if isinstance(other, (int, float)) and value > other:
        return f"expected {trait_id} <= {bound.at_most} ({other:g})"
    return None


