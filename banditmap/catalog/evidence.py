"""The evidence a catalog carries: the grid of problem classes to race (YAML, data not code) and the evidence file
a build writes (versioned JSON), both read and checked here."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from banditmap.catalog.profiles import check_answers
from banditmap.catalog.yamlio import Document, PathKey, load_file
from banditmap.errors import BanditmapError, shown
from banditmap.model import Answer, Catalog, Evidence, EvidenceClass, Standing

EVIDENCE_SCHEMA = "banditmap.evidence/1"
GRID_KEYS = ("version", "rounds", "instances", "sizes", "families")
FAMILY_KEYS = ("name", "base", "vary", "cross", "sizes")
ROUNDS = (100, 100_000)
INSTANCES = (2, 1000)


def evidence_file(folder: Path) -> Path:
    return folder / "evidence" / "evidence.json"


def grid_file(folder: Path) -> Path:
    return folder / "evidence" / "grid.yaml"


# --- the grid -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridClass:
    """One class to race: a family's base answers with one varied answer (or one combination of crossed ones),
    at each of the family's sizes."""

    family: str
    answers: Mapping[str, Answer]
    sizes: tuple[Mapping[str, Answer], ...]
    line: int | None  # where the class's values were written


@dataclass(frozen=True)
class Grid:
    source: str
    rounds: int
    instances: int  # random problem instances per class and size (a race's repetitions)
    classes: tuple[GridClass, ...]
    digest: str  # of the file's content: a resumed build must use the same grid


def load_grid(path: Path, catalog: Catalog) -> Grid:
    doc = load_file(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "expected a mapping with " + ", ".join(GRID_KEYS))
    for key in data:
        if key not in GRID_KEYS:
            raise doc.error((key,), "unknown field; expected one of " + ", ".join(GRID_KEYS))
    for key in GRID_KEYS:
        if key not in data:
            raise doc.error((), f"missing field {key!r}")
    if data["version"] != 1:
        raise doc.error(("version",), f"expected 1, got {shown(data['version'])}")
    rounds = _integer(doc, ("rounds",), *ROUNDS)
    instances = _integer(doc, ("instances",), *INSTANCES)
    default_sizes = _sizes(doc, ("sizes",), catalog)
    families = data["families"]
    if not isinstance(families, list) or not families:
        raise doc.error(("families",), "expected a non-empty list of families (name, base, vary or cross)")
    classes: list[GridClass] = []
    for i, family in enumerate(families):
        classes += _family(doc, ("families", i), family, default_sizes, catalog)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Grid(str(path), rounds, instances, tuple(classes), digest)


def _integer(doc: Document, path: PathKey, low: int, high: int) -> int:
    value = doc.at(path)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise doc.error(path, f"expected a whole number from {low:,} to {high:,}, got {shown(value)}")
    return value


def _sizes(doc: Document, path: PathKey, catalog: Catalog) -> tuple[Mapping[str, Answer], ...]:
    raw = doc.at(path)
    if not isinstance(raw, list) or not raw:
        raise doc.error(path, "expected a non-empty list of sizes, e.g. [{n_actions: 5}, {n_actions: 20}]")
    numbers = {t.id for t in catalog.traits if not t.is_choice}
    out = []
    for i, size in enumerate(raw):
        if not isinstance(size, dict):
            raise doc.error(path + (i,), "expected a mapping of number traits, e.g. {n_actions: 5}")
        for key in size:
            if key not in numbers:
                raise doc.error(path + (i, key), "expected a number trait (" + ", ".join(sorted(numbers)) + ")")
        out.append(check_answers(doc, path + (i,), catalog.traits, ()))
    return tuple(out)


def _family(doc: Document, path: PathKey, raw: Any, default_sizes: tuple[Mapping[str, Answer], ...],
            catalog: Catalog) -> list[GridClass]:
    if not isinstance(raw, dict):
        raise doc.error(path, "expected a mapping with name, base and vary or cross")
    for key in raw:
        if key not in FAMILY_KEYS:
            raise doc.error(path + (key,), "unknown field; expected one of " + ", ".join(FAMILY_KEYS))
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise doc.error(path + ("name",), "expected the family's name")
    base = check_answers(doc, path + ("base",), catalog.traits, ()) if raw.get("base") is not None else {}
    sizes = _sizes(doc, path + ("sizes",), catalog) if "sizes" in raw else default_sizes
    combos: list[tuple[dict[str, Answer], PathKey]] = [({}, path + ("base",))]
    for key in ("vary", "cross"):
        axes = raw.get(key)
        if axes is None:
            continue
        if not isinstance(axes, dict) or not axes:
            raise doc.error(path + (key,), "expected a mapping of trait: [values]")
        for trait_id, values in axes.items():
            if not isinstance(values, list) or not values:
                raise doc.error(path + (key, trait_id), "expected a non-empty list of values")
            for j, value in enumerate(values):  # each value alone must be a valid answer
                check_answers(Document(doc.source, {trait_id: value}, {(): doc.line_of(path + (key, trait_id, j))
                                                                       or 0}), (), catalog.traits, ())
        if key == "vary":  # one trait at a time from the base
            combos += [({t: v}, path + (key, t, j)) for t, vs in axes.items() for j, v in enumerate(vs)]
        else:  # every combination, on top of what vary gave
            product = [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
            combos = [({**c, **p}, where) for c, where in combos for p in product]
    classes = []
    for extra, where in combos:
        answers = {**base, **extra}
        for size in sizes:
            merged = {**answers, **size}
            try:
                check_answers(Document(doc.source, merged, {}), (), catalog.traits, catalog.rules)
            except BanditmapError as exc:
                raise doc.error(where, f"this class's answers are inconsistent: {exc.message}") from None
        classes.append(GridClass(name.strip(), answers, sizes, doc.line_of(where)))
    return classes


# --- the evidence file ----------------------------------------------------------------------------------------

def load_evidence(path: Path) -> Evidence:
    """Read an evidence file; anything malformed is refused with the file and the field."""
    source = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BanditmapError(f"cannot read the evidence file: {exc}", source=source) from None
    except json.JSONDecodeError as exc:
        raise BanditmapError(f"not JSON: {exc.msg}", source=source, line=exc.lineno) from None

    def fail(field: str, expected: str) -> BanditmapError:
        return BanditmapError(f"expected {expected}", source=source, field=field)

    if not isinstance(data, dict) or data.get("schema") != EVIDENCE_SCHEMA:
        raise fail("schema", f"an evidence file of schema {EVIDENCE_SCHEMA!r} (written by banditmap evidence build)")
    provenance = data.get("provenance")
    classes = data.get("classes")
    if not isinstance(provenance, dict):
        raise fail("provenance", "a mapping")
    if not isinstance(classes, dict):
        raise fail("classes", "a mapping of class key: class")
    out: dict[str, EvidenceClass] = {}
    for key, raw in classes.items():
        where = f"classes.{key}"
        if not isinstance(raw, dict) or not isinstance(raw.get("candidates"), dict):
            raise fail(where, "a mapping with description, answers, problems and candidates")
        standings = {}
        for candidate, row in raw["candidates"].items():
            standings[candidate] = _standing(candidate, row, f"{where}.candidates.{candidate}", fail)
        description, answers, problems = raw.get("description"), raw.get("answers"), raw.get("problems")
        if not isinstance(description, str):
            raise fail(f"{where}.description", "text")
        if not isinstance(answers, dict):
            raise fail(f"{where}.answers", "a mapping of trait: value")
        if not isinstance(problems, int) or problems < 1:
            raise fail(f"{where}.problems", "a positive whole number")
        out[key] = EvidenceClass(key, description, answers, problems, standings)
    return Evidence(source, provenance, out)


def _standing(candidate: str, row: Any, where: str, fail: Any) -> Standing:
    fields = ("problems", "ratio", "within", "rank", "ratio_low", "ratio_high")
    if not isinstance(row, dict):
        raise fail(where, "a mapping with " + ", ".join(fields))
    for name in fields:
        value = row.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise fail(f"{where}.{name}", "a finite number")
    if row["ratio"] < 1 or not 0 <= row["within"] <= 1 or row["rank"] < 1:
        raise fail(where, "ratio >= 1, within between 0 and 1, rank >= 1")
    return Standing(candidate, int(row["problems"]), float(row["ratio"]), float(row["within"]), float(row["rank"]),
                    float(row["ratio_low"]), float(row["ratio_high"]))


def evidence_dict(evidence: Evidence) -> dict[str, Any]:
    """The file's JSON shape (what load_evidence reads back)."""
    return {
        "schema": EVIDENCE_SCHEMA,
        "provenance": dict(evidence.provenance),
        "classes": {key: {
            "description": c.description, "answers": dict(c.answers), "problems": c.problems,
            "candidates": {s.candidate: {"problems": s.problems, "ratio": s.ratio, "within": s.within,
                                         "rank": s.rank, "ratio_low": s.ratio_low, "ratio_high": s.ratio_high}
                           for s in c.standings.values()}}
            for key, c in evidence.classes.items()},
    }
