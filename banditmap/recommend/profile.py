"""Profiles from what the user gave (a use case, a profile file, trait=value pairs, a batch case's answers), and
the catalog entries that handle some answers: the one place where a command's problem description is built."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from banditmap.catalog.profiles import check_assignments, parse_assignment, read_profile
from banditmap.errors import BanditmapError
from banditmap.model import Algorithm, Catalog, Profile, UseCase
from banditmap.recommend.matching import rule_out


def build_profile(catalog: Catalog, usecase: str | None = None, path: Path | None = None,
                  sets: Sequence[str] = (), answers: Mapping[str, Any] | None = None, name: str | None = None,
                  source: str | None = None) -> Profile:
    """The use case's answers, then the profile file's, then `answers`, then the `trait=value` pairs of `sets`;
    later layers win, and the whole is checked against the traits and their consistency rules.

    `source` names the document the answers come from (a batch file); errors then name its fields (`usecase`)
    where they would otherwise name the options (`--usecase`, `--set`). `name` overrides the profile's name,
    which otherwise lists its layers."""
    merged: dict[str, Any] = {}
    names: list[str] = []
    origin = source or ""
    if usecase:
        found = find_usecase(catalog, usecase, in_document=source is not None)
        merged.update(found.answers)
        names.append(found.id)
        origin = source or f"usecase:{found.id}"
    if path:
        read = read_profile(path, catalog.traits, catalog.rules)
        merged.update(read.answers)
        names.append(read.name)
        origin = read.source
    merged.update(answers or {})
    pairs = [parse_assignment(s) for s in sets]
    if pairs:
        names.append(" ".join(f"{t}={v}" for t, v in pairs))
    checked = check_assignments(pairs, catalog.traits, catalog.rules, merged,
                                source="--set" if pairs else (origin or "--set"))
    return Profile(checked, " + ".join(names) if name is None else name, origin)


def find_usecase(catalog: Catalog, usecase: str, in_document: bool = False) -> UseCase:
    """The use case named, or an error naming the option (`--usecase`) or, `in_document`, the field (`usecase`)."""
    found = catalog.usecase(usecase)
    if found is None:
        known = "unknown use case; expected one of " + ", ".join(u.id for u in catalog.usecases)
        if in_document:
            raise BanditmapError(known, field="usecase")
        raise BanditmapError(known, source="--usecase", field=usecase)
    return found


def algorithms_handling(catalog: Catalog, where: Sequence[str]) -> tuple[Algorithm, ...]:
    """The entries that handle every `trait=value` of `where` (checked against the traits, not the rules, so any
    branch can be listed); a number trait filters nothing."""
    filters = check_assignments([parse_assignment(w) for w in where], catalog.traits, (), source="--where")
    choices = [(t, str(filters[t.id])) for t in catalog.choice_traits if t.id in filters]
    return tuple(a for a in catalog.algorithms if all(rule_out(a, t, v) is None for t, v in choices))
