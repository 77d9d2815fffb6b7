"""The decision map as a tree: groups, decision points, their branches, and the specialists at each branch."""

from __future__ import annotations

from dataclasses import dataclass

from banditmap.model import Catalog, Shortlist


@dataclass(frozen=True)
class MapNode:
    label: str
    kind: str  # root, group, trait, value, algorithm, note
    selected: bool = False  # on the user's path (value) or on the shortlist (algorithm)
    ruled_out: bool = False
    children: tuple["MapNode", ...] = ()
    source: str = ""  # where the decision point or branch comes from (drawn as a hover title in pictures)


def decision_map(catalog: Catalog, result: Shortlist | None = None) -> MapNode:
    """Leaves are the algorithms built for a branch (its `prefers`); with a shortlist, the user's path is marked."""
    kept = {m.algorithm.id for m in result.ranked if not m.composed} if result and result.exact else set()
    out = {m.algorithm.id for m in result.excluded} if result else set()
    answers = result.profile.answers if result else {}
    groups = []
    for group in catalog.groups:
        traits = []
        for trait in (t for t in catalog.choice_traits if t.group == group.id):
            values = []
            for choice in trait.choices:
                specialists = [a for a in catalog.algorithms if choice.id in a.prefers.get(trait.id, ())]
                leaves = tuple(MapNode(a.id, "algorithm", a.id in kept, a.id in out) for a in specialists)
                if choice.exit:
                    leaves = (MapNode(f"not a bandit: {choice.exit}", "note"),)
                elif choice.frontier:
                    leaves = (MapNode(f"no known method: {choice.frontier}", "note"),)
                elif not leaves:
                    handled = sum(choice.id in a.handles[trait.id] for a in catalog.algorithms)
                    leaves = (MapNode(f"no specialist; {handled} algorithms handle it", "note"),)
                values.append(MapNode(f"{choice.id}: {choice.meaning}", "value",
                                      answers.get(trait.id) == choice.id, children=leaves,
                                      source=choice.source or trait.source or group.source))
            traits.append(MapNode(f"{trait.id}: {trait.question}", "trait", trait.id in answers,
                                  children=tuple(values), source=trait.source or group.source))
        groups.append(MapNode(group.title, "group", children=tuple(traits), source=group.source))
    title = "Map of bandits" + (f" for {result.profile.name}" if result and result.profile.name else "")
    return MapNode(title, "root", children=tuple(groups))
