"""How well the catalog covers the map: entries per branch, simulators, production implementations, maturity."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from banditmap.model import Catalog


@dataclass(frozen=True)
class Branch:
    """One value of one decision point, and the catalog entries behind it."""

    trait: str
    value: str
    source: str  # where this branch comes from (the paper's map, the textbook or a named extension)
    specialists: tuple[str, ...]  # entries built for this branch (prefers it)
    handlers: int  # entries that handle it at all
    usecases: tuple[str, ...]  # shipped use cases on this branch
    exit: bool = False  # an answer that leaves the map (not a bandit problem): no entry is meant to handle it
    frontier: bool = False  # an answer no known method handles (said so, with what to do meanwhile)


@dataclass(frozen=True)
class Coverage:
    algorithms: int
    usecases: int
    simulated: tuple[str, ...]
    implemented: tuple[str, ...]  # entries with an implementation named (production or reference code)
    production: tuple[str, ...]  # entries with a production-grade implementation
    maturity: tuple[tuple[str, int], ...]
    families: tuple[tuple[str, int], ...]
    branches: tuple[Branch, ...]

    @property
    def preferences(self) -> tuple[str, ...]:
        """Decision points none of whose answers rules out any entry: they rank candidates, never filter them."""
        filtering = {b.trait for b in self.branches if b.handlers < self.algorithms or b.exit}
        return tuple(dict.fromkeys(b.trait for b in self.branches if b.trait not in filtering))

    @property
    def thin_branches(self) -> tuple[Branch, ...]:
        """Branches with fewer than two entries handling them: the map says little there."""
        return tuple(b for b in self.branches if b.handlers < 2 and not b.exit and not b.frontier)


def preferences(catalog: Catalog) -> frozenset[str]:
    """The choice traits whose every answer is handled by every entry (asked to rank, not to rule out)."""
    return frozenset(t.id for t in catalog.choice_traits
                     if all(not c.exit and all(c.id in a.handles[t.id] for a in catalog.algorithms)
                            for c in t.choices))


def coverage(catalog: Catalog) -> Coverage:
    algorithms = catalog.algorithms
    group_sources = {g.id: g.source for g in catalog.groups}
    branches = []
    for trait in catalog.choice_traits:
        for choice in trait.choices:
            branches.append(Branch(
                trait=trait.id, value=choice.id,
                source=choice.source or trait.source or group_sources.get(trait.group, ""),
                specialists=tuple(a.id for a in algorithms if choice.id in a.prefers.get(trait.id, ())),
                handlers=sum(choice.id in a.handles[trait.id] for a in algorithms),
                usecases=tuple(u.id for u in catalog.usecases if u.answers.get(trait.id) == choice.id),
                exit=bool(choice.exit), frontier=bool(choice.frontier)))
    return Coverage(
        algorithms=len(algorithms), usecases=len(catalog.usecases),
        simulated=tuple(a.id for a in algorithms if a.simulator),
        implemented=tuple(a.id for a in algorithms if a.implementations),
        production=tuple(a.id for a in algorithms if any(i.grade == "production" for i in a.implementations)),
        maturity=tuple(sorted(Counter(a.maturity for a in algorithms).items())),
        families=tuple(sorted(Counter(a.family for a in algorithms).items(), key=lambda kv: (-kv[1], kv[0]))),
        branches=tuple(branches))
