"""Scores a catalog against a profile: hard rule-outs with every reason, soft points per trait, a ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

from banditmap.model import (Adapter, Algorithm, Answer, Bound, Catalog, EvidenceClass, Match, Profile, Reason,
                             Shortlist, Standing, Trait, composite_id)
from banditmap.recommend.compose import Composed, best_chain, candidate_chains, wrap
from banditmap.recommend.evidence import evidence_class, judge, note, points_for

HANDLED = 1.0
PREFERRED = 3.0
SUITED = 1.0
UNSUITED = -2.0
MATURITY = {"production": 1.0, "studied": 0.5, "research": 0.0}


NEAREST = 5  # nearest candidates shown when nothing handles every answer


def shortlist(profile: Profile, catalog: Catalog, top: int | None = None, compose: bool = True) -> Shortlist:
    """Rank every algorithm, and (with `compose`) every base lifted by adapters to handle all answers, for
    `profile`; an exact entry ranks above a composition of equal score, then ids break ties. When nothing
    handles every answer, the nearest candidates (fewest missed answers) are ranked instead, with exact=False."""
    unanswered = tuple(t.id for t in catalog.traits if t.id not in profile.answers
                       and all(c.holds(profile.answers) for c in t.ask_if))
    advice = catalog.exit(profile.answers)
    if advice:  # the map entry says this is not a bandit problem: say what to do instead, rank nothing
        return Shortlist(profile, (), (), (), 0, exact=False, advice=advice)
    evidence = evidence_class(catalog, profile.answers)
    matches = [score(algorithm, profile, catalog.traits, evidence) for algorithm in catalog.algorithms]
    kept = [m for m in matches if m.kept]
    if compose:
        for m in matches:
            chain = None if m.kept else best_chain(m.algorithm, profile.answers, catalog)
            if chain:
                kept.append(score_composed(m.algorithm, chain, profile, catalog.traits, evidence))
    kept.sort(key=order)
    lifted = {m.algorithm.id for m in kept}
    excluded = sorted((m for m in matches if m.algorithm.id not in lifted),
                      key=lambda m: (len(m.ruled_out), m.algorithm.id))
    if not kept:
        near = sorted(excluded, key=lambda m: (catalog.partial_misses(profile.answers, m.algorithm.handles),
                                               -partial_score(m), m.algorithm.id))
        near = near[:top or NEAREST]
        return Shortlist(profile, tuple(near), tuple(excluded), unanswered, 0, exact=False,
                         frontier=catalog.frontier(profile.answers))
    return Shortlist(profile, tuple(kept[:top] if top else kept), tuple(excluded), unanswered, len(kept),
                     evidence=evidence, evidence_note=note(catalog, profile.answers, evidence))


def order(match: Match) -> tuple[float, bool, str]:
    """Best score first; at equal score an entry alone before a composition; then ids."""
    return (-match.score, match.composed, match.id)


def partial_score(match: Match) -> float:
    """The points a ruled-out candidate earns on the answers it does handle (to order nearest candidates)."""
    return sum(r.points for r in match.reasons)


def score(algorithm: Algorithm, profile: Profile, traits: tuple[Trait, ...],
          evidence: EvidenceClass | None = None) -> Match:
    """Hard rule-outs, points per answer and for maturity, and, for a kept entry whose profile's class has
    evidence, the evidence's points (recommend/evidence.py)."""
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
    standing = weigh_evidence(algorithm.id, evidence, reasons) if not ruled_out else None
    total = sum(r.points for r in reasons) if not ruled_out else 0.0
    return Match(algorithm, total, tuple(reasons), tuple(ruled_out), standing=standing)


def score_composed(base: Algorithm, chain: tuple[Adapter, ...], profile: Profile,
                   traits: tuple[Trait, ...], evidence: EvidenceClass | None = None) -> Match:
    """Score a composition like an entry: the base's points where it handles an answer, HANDLED for each answer
    an adapter lifts (naming the adapter and its paper), minus each adapter's penalty."""
    composed = wrap(base, chain)
    assert composed is not None
    reasons: list[Reason] = []
    for trait in traits:
        value = profile.answers.get(trait.id)
        if value is None:
            continue
        if not trait.is_choice:
            if trait.id in base.suits:
                reasons.append(suitability(trait.id, value, base.suits[trait.id]))
        elif str(value) in base.handles.get(trait.id, ()):
            reasons.append(fit(base, trait, str(value)))
        else:
            adapter = composed.lifted[trait.id]
            cited = f" ({adapter.references[0].short()})" if adapter.references else ""
            reasons.append(Reason(trait.id, value, HANDLED, f"+ {adapter.name}{cited} for {trait.id}={value}"))
    reasons.append(Reason("maturity", base.maturity, MATURITY[base.maturity], f"maturity: {base.maturity}"))
    for adapter in chain:
        reasons.append(Reason("adapter", adapter.id, -adapter.penalty,
                              f"wrapped by {adapter.name}: -{adapter.penalty:g} (a reduction, not a method built "
                              "for the whole problem)"))
    standing = weigh_evidence(composite_id(base, chain), evidence, reasons)
    return Match(base, sum(r.points for r in reasons), tuple(reasons), (), chain, standing)


def weigh_evidence(candidate: str, evidence: EvidenceClass | None, reasons: list[Reason]) -> Standing | None:
    """Add the evidence's reason (and points) for a kept candidate to `reasons`; its standing, if it raced."""
    if evidence is None:
        return None
    judged = judge(candidate, evidence)
    reasons.append(judged.reason)
    return judged.standing


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
    points = suited_points(number, bound)
    if points == SUITED:
        return Reason(trait_id, value, SUITED, f"{trait_id}={number:g} is in the range it suits")
    if bound.maximum is not None and number > bound.maximum:
        return Reason(trait_id, value, UNSUITED, f"{trait_id}={number:g} is above the {bound.maximum:g} it suits")
    return Reason(trait_id, value, UNSUITED, f"{trait_id}={number:g} is below the {bound.minimum:g} it needs")


def suited_points(number: float, bound: Bound) -> float:
    """SUITED inside the range an algorithm suits, UNSUITED outside it."""
    if (bound.maximum is not None and number > bound.maximum) or (bound.minimum is not None and number < bound.minimum):
        return UNSUITED
    return SUITED


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
    catalog: Catalog | None = None  # for compositions
    chains: dict[tuple[int, tuple[tuple[str, str], ...]], list[tuple[tuple[Adapter, ...], Composed]]] = field(
        default_factory=dict, compare=False, repr=False)  # candidate chains found so far, by base and gaps

    def chain(self, i: int, answers: Mapping[str, Answer],
              gaps: tuple[tuple[str, str], ...]) -> tuple[Adapter, ...] | None:
        """The best chain for base i: its candidate chains for these gaps are found once and remembered; the
        first whose restrictions keep every answer wins."""
        assert self.catalog is not None
        if any(gap not in self.lifted_values for gap in gaps):
            return None  # an answer no adapter lifts: no composition, without searching
        key = (i, gaps)
        if key not in self.chains:
            self.chains[key] = candidate_chains(self.algorithms[i], gaps, self.adapters)
        return best_chain(self.algorithms[i], answers, self.catalog, self.chains[key], gaps)

    @cached_property
    def partly(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """Frontier answers, and the values of their trait that meet part of them."""
        assert self.catalog is not None
        return {(t.id, c.id): c.partly for t in self.catalog.choice_traits for c in t.choices if c.partly}

    @cached_property
    def partly_handled(self) -> dict[tuple[str, str], int]:
        """For each frontier answer, bit i set when algorithm i handles a value that meets part of it."""
        out: dict[tuple[str, str], int] = {}
        for (trait_id, value), parts in self.partly.items():
            mask = 0
            for part in parts:
                mask |= self.handled.get((trait_id, part), 0)
            out[(trait_id, value)] = mask
        return out

    @cached_property
    def trait_order(self) -> dict[str, int]:
        assert self.catalog is not None
        return {t.id: i for i, t in enumerate(self.catalog.traits)}

    @cached_property
    def adapter_traits(self) -> tuple[str, ...]:
        return tuple(sorted({t for a in self.adapters for t in (*a.lifts, *a.restricts)}))

    @cached_property
    def lifted_values(self) -> frozenset[tuple[str, str]]:
        return frozenset((t, v) for a in self.adapters for t, lift in a.lifts.items() for v in lift.gives)

    @property
    def adapters(self) -> tuple[Adapter, ...]:
        return self.catalog.adapters if self.catalog is not None else ()


@dataclass(frozen=True)
class Ranked:
    """One row of a fast ranking: a candidate (an entry or a composition) and its score; `missed` names the
    answers a nearest candidate does not handle."""

    algorithm: Algorithm
    score: float
    adapters: tuple[Adapter, ...] = ()
    missed: tuple[str, ...] = ()

    @cached_property
    def id(self) -> str:
        return composite_id(self.algorithm, self.adapters)


def missed_halves(masks: list[tuple[tuple[str, str], int]], table: ScoreTable) -> list[int]:
    """How much each algorithm misses of the answers (`masks`: each answer with the algorithms handling it), in
    half answers: 2 per answer, 1 for a frontier answer part of which it handles; bit-sliced: bit i of entry j is
    bit j of algorithm i's count, so one answer is added for every algorithm at once."""
    levels: list[int] = []

    def add(level: int, bits: int) -> None:
        while bits:
            while len(levels) <= level:
                levels.append(0)
            levels[level], bits = levels[level] ^ bits, levels[level] & bits
            level += 1

    for key, mask in masks:
        missed = table.everyone & ~mask
        half = table.partly_handled.get(key, 0) & missed
        add(0, half)
        add(1, missed & ~half)
    return levels


def missed_weights(masks: list[tuple[tuple[str, str], int]], table: ScoreTable) -> list[float]:
    """How much each algorithm misses: 1 per answer, a half for a frontier answer part of which it handles."""
    levels = missed_halves(masks, table)
    return [sum((level >> i & 1) << j for j, level in enumerate(levels)) / 2 for i in range(len(table.algorithms))]


def nearest(masks: list[tuple[tuple[str, str], int]], table: ScoreTable, totals: list[float],
            count: int) -> list[int]:
    """The `count` algorithms that miss least (missed_weights), then of highest score, then by id."""
    levels = missed_halves(masks, table)
    chosen: list[int] = []
    for halves in range(1 << len(levels)):
        group = table.everyone
        for j, level in enumerate(levels):
            group &= level if halves >> j & 1 else ~level
        members = [i for i in range(len(table.algorithms)) if group >> i & 1]
        chosen += sorted(members, key=lambda i: (-totals[i], table.algorithms[i].id))
        if len(chosen) >= count:
            break
    return chosen[:count]


def missed_answers(masks: list[tuple[tuple[str, str], int]], among: int, n: int) -> list[list[tuple[str, str]]]:
    """For each algorithm whose bit is set in `among`, the answers it does not handle, in the order of `masks`
    (one set bit of each mask's complement at a time)."""
    gaps: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    for key, mask in masks:
        missed = among & ~mask
        while missed:
            low = missed & -missed
            gaps[low.bit_length() - 1].append(key)
            missed ^= low
    return gaps


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
    return ScoreTable(algorithms, handled, points, suits, base, (1 << len(algorithms)) - 1, catalog)


def rank(answers: Mapping[str, Answer], table: ScoreTable, top: int | None = None,
         compose: bool = True) -> tuple[list[Ranked], bool]:
    """The ranking of `shortlist` without reasons: kept entries and compositions with their scores, best first,
    and True; or, when nothing handles every answer, the nearest candidates and False."""
    kept = table.everyone
    rows = [table.base]
    masks: list[tuple[tuple[str, str], int]] = []
    for key in answers.items():
        mask = table.handled.get(key)  # type: ignore[arg-type]  # number answers are not keys
        if mask is not None:
            kept &= mask
            rows.append(table.points[key])  # type: ignore[index]  # as above: number answers are not keys
            masks.append(((key[0], str(key[1])), mask))
    totals = [sum(column) for column in zip(*rows, strict=True)]
    for trait_id, i, bound in table.suits:
        value = answers.get(trait_id)
        if value is not None and not isinstance(value, str):
            totals[i] += suited_points(float(value), bound)
    evidence = evidence_class(table.catalog, answers) if table.catalog is not None else None
    found = [Ranked(a, totals[i]) for i, a in enumerate(table.algorithms) if kept >> i & 1]
    masks.sort(key=lambda item: table.trait_order[item[0][0]])  # gaps in the vocabulary's order, so chains
    # found for one profile serve the next, and nearest candidates name their misses as `shortlist` does
    composable = 0
    if compose and table.adapters:  # bases that miss only answers some adapter lifts
        composable = table.everyone & ~kept
        for key, mask in masks:
            if key not in table.lifted_values:
                composable &= mask
    gaps = missed_answers(masks, composable, len(table.algorithms))
    for i, a in enumerate(table.algorithms):
        if composable >> i & 1:
            chain = table.chain(i, answers, tuple(gaps[i]))
            if chain:
                found.append(Ranked(a, totals[i] + HANDLED * len(gaps[i]) - sum(c.penalty for c in chain), chain))
    if evidence is not None:
        found = [Ranked(r.algorithm, r.score + points_for(r.id, evidence), r.adapters) for r in found]
    if found:
        ordered = sorted(found, key=lambda r: (-r.score, bool(r.adapters), r.id))
        return (ordered[:top] if top else ordered), True
    closest = nearest(masks, table, totals, top or NEAREST)
    gaps = missed_answers(masks, sum(1 << i for i in closest), len(table.algorithms))
    return [Ranked(table.algorithms[i], totals[i], (), tuple(f"{t}={v}" for t, v in gaps[i]))
            for i in closest], False
