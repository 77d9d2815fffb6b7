"""Which candidates a race or a replay runs, and their configured policies: the named ones (catalog entries,
baselines, or compositions `base+adapter+...`, each checked) or the first usable ones of the profile's shortlist,
with the catalog's defaults and the user's --param values.

A chosen candidate is (id, name, simulator), the simulator a policy id or, for a composition, the policy's and
its adapters' simulator ids joined by "+" (innermost adapter first), as in the candidate's id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from banditmap.catalog.validate import check_adapter_simulator, check_simulator
from banditmap.errors import BanditmapError, shown
from banditmap.model import Adapter, Algorithm, Catalog, Match, Profile, composite_id, composite_name
from banditmap.recommend.compose import parse_composite, wrap
from banditmap.sim.adapters import ADAPTERS, build_wrapper, chain_gap, chain_kinds
from banditmap.sim.policies import REGISTRY, Policy, build
from banditmap.sim.policies.base import domains
from banditmap.sim.runner import RunSpec

Chosen = tuple[str, str, str]
BASELINE_NAME = "Uniform random (baseline)"


@dataclass(frozen=True)
class Usable:
    """What a command can run, and the words it uses for what it cannot."""

    why_not: Callable[[str], str | None]  # why a simulator cannot be used here; None when it can
    no_simulator: str  # e.g. "no simulator yet"
    none_left: str  # the error when no shortlisted algorithm is usable
    command: str
    compositions: bool = False  # whether `why_not` also judges composed simulators (`policy+adapter+...`)
    # for a candidate (nearest, or named) whose simulator cannot run here: a view that lets it, as (simulator with
    # the view, how it runs), or None (sim/adapters/views.py)
    view: Callable[[str], tuple[str, str] | None] = lambda simulator: None


@dataclass(frozen=True)
class Lineup:
    """The candidates chosen, the shortlisted ones left out with why, and for each nearest candidate chosen (one
    that does not handle every answer) the answers it misses, as `trait=value`."""

    chosen: tuple[Chosen, ...]
    skipped: tuple[tuple[str, str], ...]
    misses: Mapping[str, tuple[str, ...]]


def pick(catalog: Catalog, profile: Profile, requested: Sequence[str] | None, top: int,
         usable: Usable) -> tuple[list[Chosen], list[tuple[str, str]]]:
    """(id, name, simulator) for the named candidates (each checked) or the first `top` usable ones of the
    profile's shortlist, and (id, reason) for shortlisted candidates left out. Baselines pass by their id."""
    lineup = line_up(catalog, profile, requested, top, usable)
    return list(lineup.chosen), list(lineup.skipped)


def line_up(catalog: Catalog, profile: Profile, requested: Sequence[str] | None, top: int, usable: Usable,
            least: int = 0) -> Lineup:
    """As `pick`; and when fewer than `least` exact candidates are usable (none at all when nothing handles every
    answer), the nearest usable candidates (fewest missed answers first, the shortlist's order) fill the lineup
    up to `top`, each with the answers it misses. The named candidates are taken as they are."""
    from banditmap.recommend.matching import shortlist
    if requested is not None:
        if not requested:
            raise BanditmapError("expected at least one algorithm id", field="--algorithms")
        for candidate_id in requested:
            if requested.count(candidate_id) > 1:
                raise BanditmapError(f"{shown(candidate_id)} is named twice; an algorithm raced against itself "
                                     "tells nothing", field="--algorithms")
        return Lineup(tuple(named(catalog, candidate_id, usable) for candidate_id in requested), (), {})
    result = shortlist(profile, catalog)
    chosen: list[Chosen] = []
    skipped: list[tuple[str, str]] = []
    for match in result.ranked:
        if len(chosen) >= top:
            break
        check_simulator(match.algorithm)
        for adapter in match.adapters:
            check_adapter_simulator(adapter)
        if not result.exact:
            if not least:
                skipped.append((match.id, f"a nearest candidate only: it misses {', '.join(misses(match))}"))
            continue
        reason = why_not_shortlisted(match, usable)
        if reason:
            skipped.append((match.id, reason))
        else:
            chosen.append((match.id, match.name, simulator_of(match.algorithm, match.adapters)))
    missed: dict[str, tuple[str, ...]] = {}
    if len(chosen) < least:
        shortlisted = {m.id for m in result.ranked}
        for match in nearest(catalog, profile, result.excluded):
            if len(chosen) >= top:
                break
            check_simulator(match.algorithm)
            reason = why_not_shortlisted(match, usable)
            seen = None if reason is None or not match.algorithm.simulator else usable.view(
                simulator_of(match.algorithm, match.adapters))
            if reason is None:
                chosen.append((match.id, match.name, simulator_of(match.algorithm, match.adapters)))
                missed[match.id] = misses(match)
            elif seen is not None:
                chosen.append((match.id, f"{match.name}, {seen[1]}", seen[0]))
                missed[match.id] = misses(match)
            elif match.id in shortlisted:
                skipped.append((match.id, f"a nearest candidate (it misses {', '.join(misses(match))}): {reason}"))
    if not chosen:
        raise BanditmapError(usable.none_left + "; name some with --algorithms", field=usable.command)
    return Lineup(tuple(chosen), tuple(skipped), missed)


def nearest(catalog: Catalog, profile: Profile, excluded: Sequence[Match]) -> list[Match]:
    """Candidates that miss some answer, nearest first: the order of the shortlist's nearest candidates (fewest
    missed answers, a partly handled one counting half; then the points earned on the answers handled; then ids)."""
    from banditmap.recommend.matching import partial_score
    return sorted(excluded, key=lambda m: (catalog.partial_misses(profile.answers, m.algorithm.handles),
                                           -partial_score(m), m.algorithm.id))


def misses(match: Match) -> tuple[str, ...]:
    """The answers a candidate does not handle, as `trait=value`."""
    return tuple(f"{r.trait}={r.value}" for r in match.ruled_out)


def simulator_of(base: Algorithm, adapters: Sequence[Adapter]) -> str:
    return "+".join([str(base.simulator), *(str(a.simulator) for a in adapters)])


def why_not_shortlisted(match: Match, usable: Usable) -> str | None:
    """Why a shortlisted candidate cannot run here, or None."""
    if not match.composed:
        simulator = match.algorithm.simulator
        return usable.why_not(simulator) if simulator else usable.no_simulator
    if not usable.compositions:
        return f"a composition: {usable.command} does not run adapters yet"
    chain: list[Algorithm | Adapter] = [match.algorithm, *match.adapters]
    missing = [c.id for c in chain if not c.simulator]
    if missing:
        return f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} {usable.no_simulator}"
    return (chain_gap(REGISTRY[str(match.algorithm.simulator)], [ADAPTERS[str(a.simulator)] for a in match.adapters])
            or usable.why_not(simulator_of(match.algorithm, match.adapters)))


def named(catalog: Catalog, candidate_id: str, usable: Usable) -> Chosen:
    """A candidate named with --algorithms, checked: a baseline, a catalog entry, or a composition."""
    if candidate_id in REGISTRY and candidate_id.startswith("uniform-random"):
        entry = (candidate_id, BASELINE_NAME, candidate_id)
    elif "+" in candidate_id:
        entry = named_composition(catalog, candidate_id, usable)
    else:
        algorithm = catalog.algorithm(candidate_id)
        if algorithm is None:
            raise BanditmapError("unknown algorithm id; see `banditmap catalog list`", field=candidate_id)
        check_simulator(algorithm)
        if not algorithm.simulator:
            raise BanditmapError(f"has {usable.no_simulator}; see `banditmap catalog list` for those that do",
                                 field=candidate_id)
        entry = (algorithm.id, algorithm.name, algorithm.simulator)
    reason = usable.why_not(entry[2])
    if reason:
        seen = usable.view(entry[2])
        if seen is None:
            raise BanditmapError(reason, field=candidate_id)
        return entry[0], f"{entry[1]}, {seen[1]}", seen[0]
    return entry


def named_composition(catalog: Catalog, text: str, usable: Usable) -> Chosen:
    """`base+adapter+...` checked part by part; every refusal is one line on --algorithms."""
    def refuse(message: str) -> BanditmapError:
        return BanditmapError(f"{shown(text)}: {message}", field="--algorithms")

    first, *rest = [part.strip() for part in text.split("+")]
    base, found = parse_composite(text, catalog)
    if base is None:
        raise refuse(f"unknown base algorithm {shown(first)}; see `banditmap catalog list`")
    adapters: list[Adapter] = []
    for name, adapter in zip(rest, found):
        if adapter is None:
            known = ", ".join(a.id for a in catalog.adapters) or "none"
            raise refuse(f"unknown adapter {shown(name)}; expected one of {known}")
        if adapter in adapters:
            raise refuse(f"adapter {shown(adapter.id)} is named twice; an adapter wraps a base once")
        adapters.append(adapter)
    for i, adapter in enumerate(adapters):
        if wrap(base, adapters[:i + 1]) is None:
            raise refuse(cannot_wrap(base, adapters[:i], adapter))
    if not usable.compositions:
        raise refuse(f"a composition; {usable.command} does not run adapters yet")
    check_simulator(base)
    for adapter in adapters:
        check_adapter_simulator(adapter)
    chain: list[Algorithm | Adapter] = [base, *adapters]
    missing = [c.id for c in chain if not c.simulator]
    if missing:
        raise refuse(f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} {usable.no_simulator}")
    gap = chain_gap(REGISTRY[str(base.simulator)], [ADAPTERS[str(a.simulator)] for a in adapters])
    if gap:
        raise refuse(gap)
    return composite_id(base, adapters), composite_name(base, adapters), simulator_of(base, adapters)


def cannot_wrap(base: Algorithm, inside: Sequence[Adapter], adapter: Adapter) -> str:
    """Why `adapter` cannot wrap `base` already wrapped by `inside`: a capability it requires, or a trait value
    its lift starts from, that the inner composition lacks."""
    inner = wrap(base, inside)
    assert inner is not None
    name = composite_id(base, inside)
    lacking = sorted(set(adapter.requires) - inner.provides)
    if lacking:
        return (f"adapter {shown(adapter.id)} requires {', '.join(lacking)}, which {name} does not provide "
                f"(it provides {', '.join(sorted(inner.provides))})")
    for trait, lift in adapter.lifts.items():
        current = inner.handles.get(trait, ())
        if not set(lift.base) <= set(current):
            return (f"adapter {shown(adapter.id)} wraps only what handles {trait}={'/'.join(lift.base)}; {name} "
                    f"handles {trait}={'/'.join(current) or 'nothing'}")
    return f"adapter {shown(adapter.id)} cannot wrap {name}"


def simulator_kinds(simulator: str) -> frozenset[str]:
    """The problem kinds a policy id, or a composed `policy+adapter+...`, runs on."""
    base, *adapters = simulator.split("+")
    return chain_kinds(REGISTRY[base], [ADAPTERS[a] for a in adapters])


MAX_KEY = 100  # characters of `id.name`; longer is no id of ours, and is not echoed whole in an error


def parse_params(items: Sequence[str]) -> dict[str, dict[str, str]]:
    """`id.name=value` options, as typed after --param (values are checked when the policies are built). For a
    composition, `id.component.name` names one component's hyperparameter (`id.name` when only one has it)."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        algorithm_id, dot, name = key.strip().rpartition(".")
        if (not sep or not dot or not algorithm_id.strip() or not name.strip() or not value.strip()
                or len(key) > MAX_KEY):
            raise BanditmapError(f"expected id.name=value, got {shown(item)}", field="--param")
        out.setdefault(algorithm_id.strip(), {})[name.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Component:
    """One part of a candidate: its catalog id, simulator, catalog defaults and the file they come from."""

    id: str
    simulator: str
    defaults: Mapping[str, Any]
    source: str | None
    adapter: bool


def components(catalog: Catalog, chosen: Chosen) -> list[Component]:
    candidate_id, _, simulator = chosen
    ids, simulators = candidate_id.split("+"), simulator.split("+")
    parts = []
    for i, part_simulator in enumerate(simulators):
        part_id = ids[i] if i < len(ids) else part_simulator  # a view the race runs it through (sim/adapters/views)
        entry = catalog.algorithm(part_id) if i == 0 else None
        defaults = {h.name: h.default for h in entry.hyperparameters if h.default is not None} if entry else {}
        parts.append(Component(part_id, part_simulator, defaults, (entry.source or None) if entry else None, i > 0))
    return parts


def specs(catalog: Catalog, chosen: list[Chosen], overrides: Mapping[str, Mapping[str, str]]) -> list[RunSpec]:
    """Policies configured with the catalog's defaults, then the user's --param values, each checked against its
    domain; a bad default names the catalog file, a bad --param value the option. A composition's policy is its
    base wrapped by each adapter in turn; its parameters are shown as `component.name`."""
    parts = {c[0]: components(catalog, c) for c in chosen}
    routed = route(overrides, parts)
    out = []
    for candidate_id, name, _ in chosen:
        own = routed.get(candidate_id, {})
        if len(parts[candidate_id]) == 1:
            policy = configure(parts[candidate_id][0], own.get("", {}), f"--param {candidate_id}")
            out.append(RunSpec(candidate_id, name, policy))
            continue
        composed: Policy[Any] | None = None
        params: dict[str, Any] = {}
        for part in parts[candidate_id]:
            where = f"--param {candidate_id}.{part.id}"
            composed = configure(part, own.get(part.id, {}), where, composed)
            prefix = f"{part.id}." if "+" in candidate_id else ""  # a lone entry run through a view: its own names
            params.update({prefix + n: getattr(composed, n) for n in domains(type(composed))})
        assert composed is not None
        out.append(RunSpec(candidate_id, name, composed, params))
    return out


def configure(part: Component, values: Mapping[str, str], where: str,
              inner: Policy[Any] | None = None) -> Policy[Any]:
    if inner is not None:
        return build_wrapper(part.simulator, inner, dict(values), where)
    policy = build(part.simulator, dict(part.defaults), "hyperparameters", part.source)
    if values:
        policy = build(part.simulator, {**part.defaults, **values}, where)
    return policy


def route(overrides: Mapping[str, Mapping[str, str]],
          parts: Mapping[str, list[Component]]) -> dict[str, dict[str, dict[str, str]]]:
    """--param values by candidate and component ("" for a lone entry): `id.name`, or `id.component.name` for
    a composition, where `id.name` also does when exactly one component has that hyperparameter."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for key, values in overrides.items():
        head, _, tail = key.rpartition(".")
        if key in parts:
            candidate, component = key, ""
        elif head in parts and len(parts[head]) > 1 and tail in [p.id for p in parts[head]]:
            candidate, component = head, tail
        else:
            raise BanditmapError(f"names an algorithm that is not in this race ({', '.join(parts)})",
                                 field=f"--param {key}.{next(iter(values))}")
        for name, value in values.items():
            target = component if component or len(parts[candidate]) == 1 else owner(candidate, parts[candidate],
                                                                                     name)
            out.setdefault(candidate, {}).setdefault(target, {})[name] = value
    return out


def owner(candidate: str, parts: list[Component], name: str) -> str:
    """The one component of a composition that has hyperparameter `name`."""
    def names(part: Component) -> list[str]:
        return list(domains(ADAPTERS[part.simulator] if part.adapter else REGISTRY[part.simulator]))

    having = [p.id for p in parts if name in names(p)]
    if len(having) == 1:
        return having[0]
    every = ", ".join(f"{p.id}.{n}" for p in parts for n in names(p)) or "none"
    if not having:
        raise BanditmapError(f"unknown hyperparameter {shown(name)}; expected one of {every}",
                             field=f"--param {candidate}.{name}")
    raise BanditmapError(f"{', '.join(having)} each have {shown(name)}; name one as "
                         f"{candidate}.{having[0]}.{name}", field=f"--param {candidate}.{name}")
