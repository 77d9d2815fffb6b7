"""Compositions: a base algorithm wrapped by adapters (reductions) until it handles every answer of a profile.

An adapter lifts a base that handles `lift.base` of a trait to also handle `lift.gives`, may restrict the values
of other traits the composition handles, requires capabilities of what it wraps, and keeps some of them. The
search finds, per base, the shortest chain (at most MAX_ADAPTERS, no adapter twice, so it always ends) that
handles every answer, preferring the smallest total penalty, then adapter ids: pure and deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, permutations
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


def candidate_chains(base: Algorithm, gaps: tuple[tuple[str, str], ...], adapters: Iterable[Adapter],
                     max_adapters: int = MAX_ADAPTERS) -> list[tuple[tuple[Adapter, ...], Composed]]:
    """Every chain of at most `max_adapters` distinct adapters that can wrap `base` and lifts all of `gaps`, in
    the order a profile should try them: fewest adapters, least penalty, then ids. Whether a chain suits a
    profile then depends only on the values its adapters restrict (see `best_chain`)."""
    useful = [a for a in adapters if any(t in a.lifts and v in a.lifts[t].gives for t, v in gaps)]
    covers = [frozenset(i for i, (t, v) in enumerate(gaps) if t in a.lifts and v in a.lifts[t].gives)
              for a in useful]
    if frozenset().union(*covers) != frozenset(range(len(gaps))):
        return []  # some answer no adapter lifts
    found: list[tuple[tuple[Adapter, ...], Composed]] = []
    for length in range(1, min(max_adapters, len(useful)) + 1):
        for chosen in combinations(range(len(useful)), length):
            if len(frozenset().union(*(covers[i] for i in chosen))) < len(gaps):
                continue  # these adapters together leave an answer unlifted
            for chain in permutations([useful[i] for i in chosen]):
                composed = wrap(base, chain)
                if composed is not None and all(v in composed.handles.get(t, ()) for t, v in gaps):
                    found.append((chain, composed))
    found.sort(key=lambda item: (len(item[0]), sum(a.penalty for a in item[0]), [a.id for a in item[0]]))
    return found


def best_chain(base: Algorithm, answers: Mapping[str, Answer], catalog: Catalog,
               candidates: list[tuple[tuple[Adapter, ...], Composed]] | None = None,
               gaps: tuple[tuple[str, str], ...] | None = None) -> tuple[Adapter, ...] | None:
    """The shortest valid chain of adapters making `base` handle every answer: () when it does alone, None when
    no chain of at most MAX_ADAPTERS does. Among chains of one length: least penalty, then ids. The base's
    `gaps` (from `missing`) and its `candidates` (from `candidate_chains` for them) may be given when known."""
    gaps = tuple(missing(base.handles, answers, catalog.traits)) if gaps is None else gaps
    if not gaps:
        return ()
    for chain, composed in candidate_chains(base, gaps, catalog.adapters) if candidates is None else candidates:
        if all(str(v) in composed.handles.get(t, ()) for t, v in answers.items() if isinstance(v, str)):
            return chain
    return None


def parse_composite(text: str, catalog: Catalog) -> tuple[Algorithm | None, tuple[Adapter | None, ...]]:
    """`ucb1+sliding-window+delay-queue` -> the base and its adapters, innermost first (None where unknown)."""
    first, *rest = text.split("+")
    return catalog.algorithm(first.strip()), tuple(catalog.adapter(r.strip()) for r in rest)
