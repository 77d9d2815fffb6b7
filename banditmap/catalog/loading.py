"""Loads and validates catalog folders (traits, algorithms, use cases) and merges them by id."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar, cast

from banditmap.catalog import schema
from banditmap.catalog.cache import add_files
from banditmap.catalog.evidence import evidence_file, load_evidence
from banditmap.catalog.profiles import check_answers
from banditmap.catalog.yamlio import Document, PathKey, load_file
from banditmap.errors import BanditmapError, shown
from banditmap.model import (Adapter, Algorithm, Bound, Capability, Catalog, Choice, Condition, Cost, Group,
                             Hyperparameter, Implementation, Lift, Reference, Rule, Trait, UseCase)

ENV_VAR = "BANDITMAP_CATALOG"
PACKAGE = Path(__file__).resolve().parent.parent  # the banditmap package
T = TypeVar("T")


def builtin_dir() -> Path:
    """The shipped catalog: inside the installed package, or at the top of a source checkout."""
    packaged = PACKAGE / "_catalog"
    return packaged if packaged.is_dir() else PACKAGE.parent / "catalog"


def catalog_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """The built-in catalog, then folders named in $BANDITMAP_CATALOG, then `extra`; later ones win."""
    from_env = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    return [builtin_dir(), *from_env, *extra]


def load_catalog(extra: Iterable[Path] = ()) -> Catalog:
    return load_dirs(catalog_dirs(extra))


def load_dirs(dirs: list[Path]) -> Catalog:
    """Load and validate the folders, or reuse the validated result cached for exactly these file contents."""
    for d in dirs:
        if not d.is_dir():
            raise BanditmapError("catalog folder not found (expected a folder holding traits.yaml, "
                                 "algorithms/ or usecases/)", source=str(d))
    from banditmap.catalog import cache
    key = cache.fingerprint(catalog_files(dirs))

    def read_or_load() -> Catalog:
        cached = cache.read(key)
        if isinstance(cached, Catalog):
            return cached
        catalog = _load_dirs(dirs)
        cache.write(key, catalog)
        return catalog

    return _remembered(("catalog", key), read_or_load)  # a process that loads it again skips unpickling too


def catalog_files(dirs: list[Path]) -> list[Path]:
    """Every file a catalog is read from, in reading order."""
    out: list[Path] = []
    for d in dirs:
        if (d / "traits.yaml").is_file():
            out.append(d / "traits.yaml")
        out += files(d / "algorithms") + files(d / "adapters") + files(d / "usecases")
        if evidence_file(d).is_file():
            out.append(evidence_file(d))
    return out


def _load_dirs(dirs: list[Path]) -> Catalog:
    for d in dirs:
        if not d.is_dir():
            raise BanditmapError("catalog folder not found (expected a folder holding traits.yaml, "
                                 "algorithms/ or usecases/)", source=str(d))
    traits_file = next((d / "traits.yaml" for d in reversed(dirs) if (d / "traits.yaml").is_file()), None)
    if traits_file is None:
        raise BanditmapError("no traits.yaml in any catalog folder", source=str(dirs[0]))
    traits_key = ("traits", _digest([traits_file]))

    def vocabulary() -> tuple[tuple[Group, ...], tuple[Trait, ...], tuple[Rule, ...], tuple[Capability, ...]]:
        traits_doc = load_file(traits_file)
        return (*load_traits(traits_doc), load_capabilities(traits_doc))

    groups, traits, rules, capabilities = _remembered(traits_key, vocabulary)
    algorithms: dict[str, Algorithm] = {}
    adapters: dict[str, Adapter] = {}
    usecases: dict[str, UseCase] = {}

    def folder(d: Path) -> tuple[dict[str, Algorithm], dict[str, Adapter], dict[str, UseCase]]:
        return (_unique(load_algorithms(files(d / "algorithms"), traits, capabilities), "algorithm"),
                _unique(load_adapters(files(d / "adapters"), traits, capabilities), "adapter"),
                _unique([load_usecase(load_file(f), traits, rules) for f in files(d / "usecases")], "use case"))

    for d in dirs:
        entries = files(d / "algorithms") + files(d / "adapters") + files(d / "usecases")
        found_algorithms, found_adapters, found_usecases = _remembered(
            ("folder", traits_key, _digest(entries)), functools.partial(folder, d))
        algorithms.update(found_algorithms)
        adapters.update(found_adapters)
        usecases.update(found_usecases)
    clash = sorted(set(algorithms) & set(adapters))
    if clash:
        raise BanditmapError(f"id {clash[0]!r} names both an algorithm and an adapter; expected distinct ids",
                             source=adapters[clash[0]].source, field="id")
    check_requirements(adapters.values(), algorithms.values())
    found = [evidence_file(d) for d in dirs if evidence_file(d).is_file()]
    # a later folder's evidence replaces an earlier one's
    evidence = _remembered(("evidence", _digest(found[-1:])), lambda: load_evidence(found[-1])) if found else None
    return Catalog(groups, traits, rules, tuple(sorted(algorithms.values(), key=lambda a: a.id)),
                   tuple(sorted(usecases.values(), key=lambda u: u.id)), tuple(str(d) for d in dirs),
                   tuple(sorted(adapters.values(), key=lambda a: a.id)), capabilities, evidence)


_MEMO: dict[tuple[Any, ...], Any] = {}  # what this process built from files, by their paths and exact bytes
_MEMO_SIZE = 64


def _digest(paths: list[Path]) -> str:
    """A digest of these files' paths and exact bytes (an unreadable file's name only: reading it fails again)."""
    digest = hashlib.blake2b(digest_size=20)
    add_files(digest, paths)
    return digest.hexdigest()


def _remembered(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """`build()`, or what it gave earlier in this process for the same key (paths and bytes of the files it reads):
    a process that loads several catalogs sharing folders (the built-in one beside each user folder) parses and
    checks each folder once. Only successes are kept, so a broken file is refused every time it is loaded; what
    is kept is immutable (frozen dataclasses and tuples) and is never changed by the catalog built from it."""
    if key in _MEMO:
        return cast(T, _MEMO[key])
    value = build()
    while len(_MEMO) >= _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = value
    return value


def files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _unique(entries: list[Any], kind: str) -> dict[str, Any]:
    """Ids must be unique inside one catalog folder (a later folder may override an earlier one)."""
    seen: dict[str, Any] = {}
    for entry in entries:
        if entry.id in seen:
            raise BanditmapError(f"duplicate {kind} id {entry.id!r}, also defined in {seen[entry.id].source}",
                                 source=entry.source, field="id")
        seen[entry.id] = entry
    return seen


# --- traits ---------------------------------------------------------------------------------------------------

def load_traits(doc: Document) -> tuple[tuple[Group, ...], tuple[Trait, ...], tuple[Rule, ...]]:
    schema.check(doc, schema.TRAITS_SCHEMA)
    data = doc.data
    groups = tuple(Group(g["id"], g["title"], g.get("source", "")) for g in data["groups"])
    group_ids = {g.id for g in groups}
    traits: list[Trait] = []
    for i, raw in enumerate(data["traits"]):
        path: PathKey = ("traits", i)
        if raw["id"] in {t.id for t in traits}:
            raise doc.error(path + ("id",), f"duplicate trait id {raw['id']!r}")
        if raw["group"] not in group_ids:
            raise doc.error(path + ("group",), f"unknown group {raw['group']!r}; expected one of "
                            + ", ".join(sorted(group_ids)))
        traits.append(_trait(doc, path, raw))
    by_id = {t.id: t for t in traits}
    for i, t in enumerate(traits):
        for cond in t.ask_if:
            _check_condition(doc, ("traits", i, "ask_if", cond.trait), cond, by_id)
    rules = tuple(_rule(doc, ("rules", i), raw, by_id) for i, raw in enumerate(data.get("rules", [])))
    return groups, tuple(traits), rules


def _trait(doc: Document, path: PathKey, raw: Mapping[str, Any]) -> Trait:
    kind = raw["kind"]
    choices = tuple(Choice(v["id"], v["meaning"], v.get("source", ""), " ".join(v.get("exit", "").split()),
                           " ".join(v.get("frontier", "").split()), tuple(v.get("partly", ())))
                    for v in raw.get("values", []))
    if kind == "choice":
        if not choices:
            raise doc.error(path + ("values",), "a choice trait needs a list of values")
        for key in ("min", "max", "integer"):
            if key in raw:
                raise doc.error(path + (key,), f"{key} applies to number traits only")
        if len({c.id for c in choices}) != len(choices):
            raise doc.error(path + ("values",), "value ids must be unique")
        default = raw.get("default")
        if default is not None and default not in {c.id for c in choices}:
            raise doc.error(path + ("default",), f"expected one of {', '.join(c.id for c in choices)}")
        for c in choices:
            if set(c.partly) - {x.id for x in choices}:
                raise doc.error(path + ("values",), f"{c.id}: partly names a value {raw['id']} does not have")
        if default is not None and any(c.id == default and c.exit for c in choices):
            raise doc.error(path + ("default",), "the default cannot be an answer that leaves the map")
    else:
        if choices:
            raise doc.error(path + ("values",), "a number trait has no values; use min and max")
        default = raw.get("default")
        if default is not None and not isinstance(default, (int, float)):
            raise doc.error(path + ("default",), "expected a number")
    unstated = raw.get("unstated")
    if unstated is not None:
        if kind != "choice":
            raise doc.error(path + ("unstated",), "applies to choice traits only")
        unstated = tuple(c.id for c in choices) if unstated == "any" else tuple(unstated)
        stray = [v for v in unstated if v not in {c.id for c in choices}]
        if stray:
            raise doc.error(path + ("unstated",), f"{stray[0]!r} is not a value of {raw['id']}; expected one of "
                            + ", ".join(c.id for c in choices))
    return Trait(
        id=raw["id"], group=raw["group"], kind=kind, question=raw["question"], help=raw["help"].strip(),
        choices=choices, default=default, ask_if=_conditions(raw.get("ask_if", {})),
        minimum=raw.get("min"), maximum=raw.get("max"), integer=raw.get("integer", False),
        source=raw.get("source", ""), unstated=unstated,
    )


def load_capabilities(doc: Document) -> tuple[Capability, ...]:
    """The capabilities adapters may require of a base (`policy` is always there: every algorithm is one)."""
    found = tuple(Capability(c["id"], c["meaning"]) for c in doc.data.get("capabilities", []))
    if "policy" not in {c.id for c in found}:
        found = (Capability("policy", "chooses one action per decision and learns from its reward"), *found)
    return found


def _conditions(raw: Mapping[str, list[str]]) -> tuple[Condition, ...]:
    return tuple(Condition(trait, tuple(values)) for trait, values in raw.items())


def _check_condition(doc: Document, path: PathKey, cond: Condition, by_id: Mapping[str, Trait]) -> None:
    trait = by_id.get(cond.trait)
    if trait is None or not trait.is_choice:
        raise doc.error(path, f"unknown choice trait {cond.trait!r}")
    for value in cond.values:
        if value not in trait.values:
            raise doc.error(path, f"{value!r} is not a value of {trait.id}; expected one of "
                            + ", ".join(trait.values))


def _rule(doc: Document, path: PathKey, raw: Mapping[str, Any], by_id: Mapping[str, Trait]) -> Rule:
    when = _conditions(raw["when"])
    for cond in when:
        _check_condition(doc, path + ("when", cond.trait), cond, by_id)
    choices: dict[str, tuple[str, ...]] = {}
    bounds: dict[str, Bound] = {}
    for trait_id, req in raw["require"].items():
        where = path + ("require", trait_id)
        trait = by_id.get(trait_id)
        if trait is None:
            raise doc.error(where, f"unknown trait {trait_id!r}")
        if isinstance(req, list):
            _check_condition(doc, where, Condition(trait_id, tuple(req)), by_id)
            choices[trait_id] = tuple(req)
        else:
            if trait.is_choice:
                raise doc.error(where, "a choice trait is required with a list of values")
            at_most = req.get("at_most")
            if at_most is not None and (at_most not in by_id or by_id[at_most].is_choice):
                raise doc.error(where + ("at_most",), f"unknown number trait {at_most!r}")
            bounds[trait_id] = Bound(req.get("min"), req.get("max"), at_most)
    return Rule(when, choices, bounds, raw["why"])


# --- algorithms -----------------------------------------------------------------------------------------------

def algorithm_schema(traits: tuple[Trait, ...], capabilities: tuple[Capability, ...] = ()) -> schema.Schema:
    return schema.algorithm_schema({t.id: t.values for t in traits if t.is_choice},
                                   [t.id for t in traits if not t.is_choice],
                                   [t.id for t in traits if t.is_choice and t.unstated is None],
                                   [c.id for c in capabilities] or ["policy"])


def adapter_schema(traits: tuple[Trait, ...], capabilities: tuple[Capability, ...] = ()) -> schema.Schema:
    return schema.adapter_schema({t.id: t.values for t in traits if t.is_choice},
                                 [c.id for c in capabilities] or ["policy"])


def load_algorithms(paths: list[Path], traits: tuple[Trait, ...],
                    capabilities: tuple[Capability, ...] = ()) -> list[Algorithm]:
    return _entries(paths, algorithm_schema(traits, capabilities), "algorithms",
                    lambda doc, path, raw: _algorithm(doc, path, raw, traits))


def _entries(paths: list[Path], file_schema: schema.Schema, key: str,
             build: Callable[[Document, PathKey, Mapping[str, Any]], T]) -> list[T]:
    """Every entry under `key` in these files, each file checked against its schema first."""
    out: list[T] = []
    for path in paths:
        doc = load_file(path)
        schema.check(doc, file_schema)
        out += [build(doc, (key, i), raw) for i, raw in enumerate(doc.data[key])]
    return out


def _references(raw: Mapping[str, Any]) -> tuple[Reference, ...]:
    return tuple(Reference(tuple(r["authors"]), r["year"], r["title"], r["venue"], r.get("doi"), r.get("arxiv"),
                           r.get("url")) for r in raw["references"])


def _implementations(raw: Mapping[str, Any]) -> tuple[Implementation, ...]:
    if raw["implementations"] == schema.NONE_KNOWN:
        return ()
    return tuple(Implementation(i["library"], i["name"], i["version"], i["grade"]) for i in raw["implementations"])


def _values(raw: Any, trait: Trait) -> tuple[str, ...]:
    return trait.values if raw == "any" else tuple(raw)


def _algorithm(doc: Document, path: PathKey, raw: Mapping[str, Any], traits: tuple[Trait, ...]) -> Algorithm:
    by_id = {t.id: t for t in traits}
    handles = {t.id: t.unstated for t in traits if t.is_choice and t.unstated is not None}
    handles.update({t: _values(v, by_id[t]) for t, v in raw["handles"].items()})
    prefers = {t: _values(v, by_id[t]) for t, v in raw.get("prefers", {}).items()}
    for trait_id, values in prefers.items():
        stray = [v for v in values if v not in handles[trait_id]]
        if stray:
            raise doc.error(path + ("prefers", trait_id),
                            f"prefers {', '.join(stray)} but handles only {', '.join(handles[trait_id])}")
    suits = {t: Bound(b.get("min"), b.get("max"), b.get("at_most")) for t, b in raw.get("suits", {}).items()}
    return Algorithm(
        id=raw["id"], name=raw["name"], family=raw["family"], summary=" ".join(raw["summary"].split()),
        maturity=raw["maturity"], handles=handles, prefers=prefers, suits=suits,
        references=_references(raw),
        hyperparameters=tuple(Hyperparameter(h["name"], h["default"], h["meaning"])
                              for h in raw["hyperparameters"]),
        cost=Cost(raw["cost"]["decision"], raw["cost"]["memory"]),
        implementations=_implementations(raw),
        caveats=tuple(raw["caveats"]), simulator=raw["simulator"], source=f"{doc.source}:{doc.line_of(path)}",
        why={t: " ".join(text.split()) for t, text in raw.get("why", {}).items()},
        provides=tuple(dict.fromkeys(["policy", *raw.get("provides", [])])),
    )


# --- adapters -------------------------------------------------------------------------------------------------

def load_adapters(paths: list[Path], traits: tuple[Trait, ...],
                  capabilities: tuple[Capability, ...] = ()) -> list[Adapter]:
    return _entries(paths, adapter_schema(traits, capabilities), "adapters",
                    lambda doc, path, raw: _adapter(doc, path, raw, traits))


def _adapter(doc: Document, path: PathKey, raw: Mapping[str, Any], traits: tuple[Trait, ...]) -> Adapter:
    by_id = {t.id: t for t in traits}
    lifts = {t: Lift(tuple(v["base"]), tuple(v["gives"])) for t, v in raw["lifts"].items()}
    for trait_id, lift in lifts.items():
        if not lift.adds:
            raise doc.error(path + ("lifts", trait_id, "gives"),
                            "gives nothing the base must not already handle; expected a value outside base")
        if trait_id not in raw["why"]:
            raise doc.error(path + ("why",), f"expected a why for the lifted trait {trait_id}: what the paper shows")
    restricts = {t: _values(v, by_id[t]) for t, v in raw.get("restricts", {}).items()}
    for trait_id in restricts:
        if trait_id in lifts:
            raise doc.error(path + ("restricts", trait_id), "a lifted trait cannot also be restricted")
    return Adapter(
        id=raw["id"], name=raw["name"], summary=" ".join(raw["summary"].split()), lifts=lifts, restricts=restricts,
        requires=tuple(raw["requires"]), keeps=tuple(raw.get("keeps", ())), penalty=float(raw.get("penalty", 2)),
        why={t: " ".join(text.split()) for t, text in raw["why"].items()},
        references=_references(raw),
        cost=Cost(raw["cost"]["decision"], raw["cost"]["memory"]),
        implementations=_implementations(raw),
        caveats=tuple(raw["caveats"]), simulator=raw["simulator"], source=f"{doc.source}:{doc.line_of(path)}",
    )


def check_requirements(adapters: Iterable[Adapter], algorithms: Iterable[Algorithm]) -> None:
    """An adapter whose `requires` no algorithm of the catalog provides could never be used: refuse it."""
    provided = [set(a.provides) for a in algorithms]
    for adapter in adapters:
        if not any(set(adapter.requires) <= p for p in provided):
            file, _, line = adapter.source.rpartition(":")
            raise BanditmapError(f"no algorithm in the catalog provides all of {', '.join(adapter.requires)}; "
                                 "expected capabilities some algorithm lists under provides", source=file,
                                 line=int(line) if line.isdigit() else None, field=f"{adapter.id}.requires")


# --- use cases ------------------------------------------------------------------------------------------------

def usecase_schema(traits: tuple[Trait, ...]) -> schema.Schema:
    return schema.usecase_schema(answers_schema(traits))


def answers_schema(traits: tuple[Trait, ...]) -> schema.Schema:
    return schema.profile_schema({t.id: t.values for t in traits if t.is_choice},
                                 {t.id: (t.minimum, t.maximum) for t in traits if not t.is_choice})


def load_usecase(doc: Document, traits: tuple[Trait, ...], rules: tuple[Rule, ...]) -> UseCase:
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected a mapping with id, name, description and profile")
    schema.check(doc, usecase_schema(traits))
    answers = check_answers(doc, ("profile",), traits, rules)
    return UseCase(doc.data["id"], doc.data["name"], " ".join(doc.data["description"].split()), answers,
                   doc.source)


SCHEMA_KINDS = ("algorithms", "adapters", "traits", "usecase", "profile")


def file_schema(catalog: Catalog, kind: str) -> schema.Schema:
    """The JSON Schema of one kind of catalog file (SCHEMA_KINDS), in this catalog's vocabulary."""
    schemas: dict[str, Callable[[], schema.Schema]] = {
        "algorithms": lambda: algorithm_schema(catalog.traits, catalog.capabilities),
        "adapters": lambda: adapter_schema(catalog.traits, catalog.capabilities),
        "traits": lambda: schema.TRAITS_SCHEMA,
        "usecase": lambda: usecase_schema(catalog.traits),
        "profile": lambda: answers_schema(catalog.traits)}
    if kind not in schemas:
        raise BanditmapError(f"expected one of {', '.join(SCHEMA_KINDS)}, got {shown(kind)}", field="--kind")
    return schemas[kind]()
