"""Compositions: a base algorithm wrapped by adapters (reductions) until it handles every answer of a profile.

An adapter lifts a base that handles `lift.base` of a trait to also handle `lift.gives`, may restrict the values
of other traits the composition handles, requires capabilities of what it wraps, and keeps some of them. The
search finds, per base, the shortest chain (at most MAX_ADAPTERS, no adapter twice, so it always ends) that
handles every answer, preferring the smallest total penalty, then adapter ids: pure and deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations
from typing import Iterable, Mapping

from banditmap.model import Adapter, Algorithm, Answer, Catalog, Trait

MAX_ADAPTERS = 3


@dataclass(frozen=True)
class Composed:
    """What a chain of adapters around a base handles and still is."""

    handles: Mapping[str, tuple[str, ...]]
    provides: frozenset[str]
    lifted: Mapping[str, Adapter]  # trait -> the adapter whose lift made the composition handle the answer


def wrap(base: Algorithm, chain: Iterable[Adapter]) -> Composed | None:
    """Apply adapters innermost first; None when one of them cannot wrap what it is given."""
    handles = {t: tuple(v) for t, v in base.handles.items()}
    provides = frozenset(base.provides)
    lifted: dict[str, Adapter] = {}
    for adapter in chain:
        if not set(adapter.requires) <= provides:
            return None
        for trait_id, lift in adapter.lifts.items():
            current = handles.get(trait_id, ())
            if not set(lift.base) <= set(current):
                return None
            handles[trait_id] = current + tuple(v for v in lift.gives if v not in current)
            lifted[trait_id] = adapter
        for trait_id, allowed in adapter.restricts.items():
            handles[trait_id] = tuple(v for v in handles.get(trait_id, ()) if v in allowed)
        provides = frozenset({"policy", *adapter.keeps}) & provides
    return Composed(handles, provides, lifted)


def missing(handles: Mapping[str, tuple[str, ...]], answers: Mapping[str, Answer],
            traits: Iterable[Trait]) -> list[tuple[str, str]]:
    """The (trait, value) answers of choice traits that `handles` does not cover."""
    return [(t.id, str(answers[t.id])) for t in traits
            if t.is_choice and t.id in answers and str(answers[t.id]) not in handles.get(t.id, ())]


def best_chain(base: Algorithm, answers: Mapping[str, Answer], catalog: Catalog,
               max_adapters: int = MAX_ADAPTERS) -> tuple[Adapter, ...] | None:
    """The shortest valid chain of adapters making `base` handle every answer: () when it does alone, None when
    no chain of at most `max_adapters` does. Among chains of one length: least penalty, then ids."""
    gaps = missing(base.handles, answers, catalog.traits)
    if not gaps:
        return ()
    useful = [a for a in catalog.adapters
              if any(t in a.lifts and v in a.lifts[t].gives for t, v in gaps)]
    if not all(any(t in a.lifts and v in a.lifts[t].gives for a in useful) for t, v in gaps):
        return None  # some answer no adapter can lift
    for length in range(1, min(max_adapters, len(useful)) + 1):
        found = [chain for chain in permutations(useful, length) if _handles_all(base, chain, answers, catalog)]
        if found:
            return min(found, key=lambda c: (sum(a.penalty for a in c), [a.id for a in c]))
    return None


def _handles_all(base: Algorithm, chain: tuple[Adapter, ...], answers: Mapping[str, Answer],
                 catalog: Catalog) -> bool:
    composed = wrap(base, chain)
    return composed is not None and not missing(composed.handles, answers, catalog.traits)


def parse_composite(text: str, catalog: Catalog) -> tuple[Algorithm | None, tuple[Adapter | None, ...]]:
    """`ucb1+sliding-window+delay-queue` -> the base and its adapters, innermost first (None where unknown)."""
    first, *rest = text.split("+")
    return catalog.algorithm(first.strip()), tuple(catalog.adapter(r.strip()) for r in rest)
