"""Scores a catalog against a profile: hard rule-outs with every reason, soft points per trait, a ranking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from banditmap.model import Algorithm, Answer, Bound, Catalog, Match, Profile, Reason, Shortlist, Trait

HANDLED = 1.0
PREFERRED = 3.0
SUITED = 1.0
UNSUITED = -2.0
MATURITY = {"production": 1.0, "studied": 0.5, "research": 0.0}


def shortlist(profile: Profile, catalog: Catalog, top: int | None = None) -> Shortlist:
    """Rank every algorithm for `profile`; ties are broken by id so the result is deterministic."""
    matches = [score(algorithm, profile, catalog.traits) for algorithm in catalog.algorithms]
    kept = sorted((m for m in matches if m.kept), key=lambda m: (-m.score, m.algorithm.id))
    excluded = sorted((m for m in matches if not m.kept), key=lambda m: (len(m.ruled_out), m.algorithm.id))
    unanswered = tuple(t.id for t in catalog.traits if t.id not in profile.answers
                       and all(c.holds(profile.answers) for c in t.ask_if))
    return Shortlist(profile, tuple(kept[:top] if top else kept), tuple(excluded), unanswered, len(kept))


def score(algorithm: Algorithm, profile: Profile, traits: tuple[Trait, ...]) -> Match:
    reasons: list[Reason] = []
    ruled_out: list[Reason] = []
    for trait in traits:
        value = profile.answers.get(trait.id)
        if value is None:
            continue  # unanswered traits rule nothing out and earn nothing
        if trait.is_choice:
            reason = rule_out(algorithm, trait, str(value))
            (ruled_out if reason else reasons).append(reason or fit(algorithm, trait, str(value)))
        elif trait.id in algorithm.suits:
            reasons.append(suitability(trait.id, value, algorithm.suits[trait.id]))
    reasons.append(Reason("maturity", algorithm.maturity, MATURITY[algorithm.maturity],
                          f"maturity: {algorithm.maturity}"))
    total = sum(r.points for r in reasons) if not ruled_out else 0.0
    return Match(algorithm, total, tuple(reasons), tuple(ruled_out))


def rule_out(algorithm: Algorithm, trait: Trait, value: str) -> Reason | None:
    """A reason the algorithm cannot serve `trait=value`, or None when it handles it."""
    handled = algorithm.handles.get(trait.id, ())
    if value in handled:
        return None
    return Reason(trait.id, value, 0.0,
                  f"does not handle {trait.id}={value} (handles {', '.join(handled) or 'nothing'})")


def fit(algorithm: Algorithm, trait: Trait, value: str) -> Reason:
    if value in algorithm.prefers.get(trait.id, ()):
        return Reason(trait.id, value, PREFERRED, f"built for {trait.id}={value}")
    return Reason(trait.id, value, HANDLED, f"handles {trait.id}={value}")


def suitability(trait_id: str, value: Answer, bound: Bound) -> Reason:
    number = float(value)
    if bound.maximum is not None and number > bound.maximum:
        return Reason(trait_id, value, UNSUITED, f"{trait_id}={number:g} is above the {bound.maximum:g} it suits")
    if bound.minimum is not None and number < bound.minimum:
        return Reason(trait_id, value, UNSUITED, f"{trait_id}={number:g} is below the {bound.minimum:g} it needs")
    return Reason(trait_id, value, SUITED, f"{trait_id}={number:g} is in the range it suits")


@dataclass(frozen=True)
class ScoreTable:
    """The catalog's scoring rules precomputed per trait value, to rank many profiles quickly (batch mode).

    It gives the same scores and order as `shortlist` (a test checks this), without building the reasons.
    """

    algorithms: tuple[Algorithm, ...]
    handled: Mapping[tuple[str, str], int]  # bit i set when algorithm i handles trait=value
    points: Mapping[tuple[str, str], tuple[float, ...]]  # points of each algorithm for trait=value
    suits: tuple[tuple[str, int, Bound], ...]  # (number trait, algorithm index, suited range)
    base: tuple[float, ...]  # maturity points
    everyone: int


def score_table(catalog: Catalog) -> ScoreTable:
    algorithms = catalog.algorithms
    handled: dict[tuple[str, str], int] = {}
    points: dict[tuple[str, str], tuple[float, ...]] = {}
    for trait in catalog.choice_traits:
        for value in trait.values:
            mask = 0
            row = []
            for i, a in enumerate(algorithms):
                ok = value in a.handles.get(trait.id, ())
                mask |= ok << i
                row.append((PREFERRED if value in a.prefers.get(trait.id, ()) else HANDLED) if ok else 0.0)
            handled[(trait.id, value)] = mask
            points[(trait.id, value)] = tuple(row)
    suits = tuple((t, i, b) for i, a in enumerate(algorithms) for t, b in a.suits.items())
    base = tuple(MATURITY[a.maturity] for a in algorithms)
    return ScoreTable(algorithms, handled, points, suits, base, (1 << len(algorithms)) - 1)


def rank(answers: Mapping[str, Answer], table: ScoreTable, top: int | None = None) -> list[tuple[Algorithm, float]]:
    """Kept algorithms with their scores, best first, ties by id: the ranking of `shortlist`, without reasons."""
    kept = table.everyone
    rows = [table.base]
    for key in answers.items():
        mask = table.handled.get(key)  # type: ignore[arg-type]
        if mask is not None:
            kept &= mask
            rows.append(table.points[key])  # type: ignore[index]
    totals = [sum(column) for column in zip(*rows, strict=True)]
    for trait_id, i, bound in table.suits:
        value = answers.get(trait_id)
        if value is not None and not isinstance(value, str):
            totals[i] += suitability(trait_id, value, bound).points
    ranked = sorted(((-totals[i], a.id, a) for i, a in enumerate(table.algorithms) if kept >> i & 1))
    chosen = ranked[:top] if top else ranked
    return [(a, -negative) for negative, _, a in chosen]
