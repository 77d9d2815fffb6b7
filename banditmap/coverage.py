"""How well the catalog covers the map: entries per branch, simulators, production implementations, maturity."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from banditmap.model import Algorithm, Catalog

NONE_KNOWN = "none known"


@dataclass(frozen=True)
class Branch:
    """One value of one decision point, and the catalog entries behind it."""

    trait: str
    value: str
    source: str  # where the paper's map has this branch (the trait's source)
    specialists: tuple[str, ...]  # entries built for this branch (prefers it)
    handlers: int  # entries that handle it at all
    usecases: tuple[str, ...]  # shipped use cases on this branch


@dataclass(frozen=True)
class Coverage:
    algorithms: int
    usecases: int
    simulated: tuple[str, ...]
    implemented: tuple[str, ...]  # entries with a named production-grade implementation
    maturity: tuple[tuple[str, int], ...]
    families: tuple[tuple[str, int], ...]
    branches: tuple[Branch, ...]

    @property
    def thin_branches(self) -> tuple[Branch, ...]:
        """Branches with fewer than two entries handling them: the map says little there."""
        return tuple(b for b in self.branches if b.handlers < 2)


def has_implementation(algorithm: Algorithm) -> bool:
    return any(i.library.strip().lower() != NONE_KNOWN for i in algorithm.implementations)


def coverage(catalog: Catalog) -> Coverage:
    algorithms = catalog.algorithms
    group_sources = {g.id: g.source for g in catalog.groups}
    branches = []
    for trait in catalog.choice_traits:
        for choice in trait.choices:
            branches.append(Branch(
                trait=trait.id, value=choice.id, source=trait.source or group_sources.get(trait.group, ""),
                specialists=tuple(a.id for a in algorithms if choice.id in a.prefers.get(trait.id, ())),
                handlers=sum(choice.id in a.handles[trait.id] for a in algorithms),
                usecases=tuple(u.id for u in catalog.usecases if u.answers.get(trait.id) == choice.id)))
    return Coverage(
        algorithms=len(algorithms), usecases=len(catalog.usecases),
        simulated=tuple(a.id for a in algorithms if a.simulator),
        implemented=tuple(a.id for a in algorithms if has_implementation(a)),
        maturity=tuple(sorted(Counter(a.maturity for a in algorithms).items())),
        families=tuple(sorted(Counter(a.family for a in algorithms).items(), key=lambda kv: (-kv[1], kv[0]))),
        branches=tuple(branches))
