"""The catalog as reports: listings, one entry, side-by-side comparisons, the traits, use cases, coverage, schemas."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from banditmap.model import Algorithm, Catalog, Trait, UseCase
from banditmap.recommend.coverage import Coverage
from banditmap.render.report import Report, from_rows

COMPARE_SCHEMA = "banditmap.compare/1"
CATALOG_SCHEMA = "banditmap.catalog/1"
STATS_SCHEMA = "banditmap.stats/1"


def listing_report(algorithms: Sequence[Algorithm]) -> Report:
    """`catalog list`: one row per algorithm."""
    header, rows = catalog_rows(algorithms)
    data = {"schema": CATALOG_SCHEMA, "algorithms": [algorithm_dict(a) for a in algorithms]}
    return from_rows(f"{len(algorithms)} algorithms", header, rows, data, markdown_title=False)


def algorithm_report(algorithm: Algorithm, catalog: Catalog) -> Report:
    """`catalog show`: every field of one entry, one per row."""
    _, rows = compare_rows([algorithm], catalog)
    rows.insert(3, ["summary", algorithm.summary])
    return from_rows(f"{algorithm.name} ({algorithm.id})", ["field", "value"], rows, algorithm_dict(algorithm),
                     markdown_title=False)


def compare_report(algorithms: Sequence[Algorithm], catalog: Catalog) -> Report:
    """`compare`: one column per algorithm."""
    header, rows = compare_rows(algorithms, catalog)
    data = {"schema": COMPARE_SCHEMA, "algorithms": [algorithm_dict(a) for a in algorithms]}
    return from_rows("Comparison (* = built for this value)", header, rows, data, markdown_title=False)


def traits_report(catalog: Catalog) -> Report:
    header, rows = trait_rows(catalog)
    return from_rows("Traits", header, rows, [trait_dict(t) for t in catalog.traits], markdown_title=False)


def usecases_report(usecases: Sequence[UseCase]) -> Report:
    rows = [[u.id, u.name, u.description] for u in usecases]
    return from_rows("Use cases", ["id", "name", "description"], rows, [usecase_dict(u) for u in usecases],
                     markdown_title=False)


def coverage_report(stats: Coverage) -> Report:
    """`catalog stats`: one row per branch; the terminal adds a summary in words."""
    header, rows = coverage_rows(stats)
    return from_rows("Coverage of the map", header, rows, coverage_dict(stats), markdown_title=False,
                     extras=coverage_summary(stats) + "\n")


def schema_report(kind: str, schema: Any) -> Report:
    """`catalog schema`: a JSON Schema, printed as JSON only."""
    return Report(f"JSON Schema for {kind} files", data=schema)


# --- plain data (what JSON prints) ----------------------------------------------------------------------------

def algorithm_dict(a: Algorithm) -> dict[str, Any]:
    return {
        "id": a.id, "name": a.name, "family": a.family, "maturity": a.maturity, "summary": a.summary,
        "handles": {t: list(v) for t, v in a.handles.items()},
        "prefers": {t: list(v) for t, v in a.prefers.items()},
        "suits": {t: {k: v for k, v in (("min", b.minimum), ("max", b.maximum)) if v is not None}
                  for t, b in a.suits.items()},
        "references": [{"authors": list(r.authors), "year": r.year, "title": r.title, "venue": r.venue,
                        **({"doi": r.doi} if r.doi else {}), **({"arxiv": r.arxiv} if r.arxiv else {}),
                        **({"url": r.url} if r.url else {}), "link": r.link}
                       for r in a.references],
        "hyperparameters": [{"name": h.name, "default": h.default, "meaning": h.meaning}
                            for h in a.hyperparameters],
        "cost": {"decision": a.cost.decision, "memory": a.cost.memory},
        "implementations": [{"library": i.library, "name": i.name, "version": i.version, "grade": i.grade}
                            for i in a.implementations],
        "caveats": list(a.caveats),
        "simulator": a.simulator,
        **({"why": dict(a.why)} if a.why else {}),
    }


def usecase_dict(u: UseCase) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "description": u.description, "profile": dict(u.answers)}


def trait_dict(trait: Trait) -> dict[str, Any]:
    out: dict[str, Any] = {"id": trait.id, "group": trait.group, "kind": trait.kind, "question": trait.question,
                           "help": trait.help}
    if trait.is_choice:
        out["values"] = [{"id": c.id, "meaning": c.meaning} for c in trait.choices]
    else:
        out.update({"min": trait.minimum, "max": trait.maximum, "integer": trait.integer})
    out["default"] = trait.default
    out["ask_if"] = {c.trait: list(c.values) for c in trait.ask_if}
    return out


def coverage_dict(c: Coverage) -> dict[str, Any]:
    return {"schema": STATS_SCHEMA, "algorithms": c.algorithms, "usecases": c.usecases,
            "simulated": list(c.simulated), "implemented": list(c.implemented),
            "production": list(c.production), "maturity": dict(c.maturity),
            "families": dict(c.families),
            "preferences": list(c.preferences),
            "branches": [{"trait": b.trait, "value": b.value, "source": b.source, "specialists": list(b.specialists),
                          "handlers": b.handlers, "usecases": list(b.usecases), "exit": b.exit}
                         for b in c.branches]}


# --- tables ---------------------------------------------------------------------------------------------------

def catalog_rows(algorithms: Iterable[Algorithm]) -> tuple[list[str], list[list[str]]]:
    header = ["id", "name", "family", "maturity", "simulator"]
    return header, [[a.id, a.name, a.family, a.maturity, a.simulator or "-"] for a in algorithms]


def compare_rows(algorithms: Sequence[Algorithm], catalog: Catalog) -> tuple[list[str], list[list[str]]]:
    header = ["", *(a.id for a in algorithms)]
    rows: list[list[str]] = [
        ["name", *(a.name for a in algorithms)],
        ["family", *(a.family for a in algorithms)],
        ["maturity", *(a.maturity for a in algorithms)],
    ]
    for trait in catalog.choice_traits:
        rows.append([trait.id, *(_handled(a, trait.id) for a in algorithms)])
    rows += [
        ["cost per decision", *(a.cost.decision for a in algorithms)],
        ["memory", *(a.cost.memory for a in algorithms)],
        ["hyperparameters", *("; ".join(f"{h.name}={h.default}" for h in a.hyperparameters) or "-"
                              for a in algorithms)],
        ["references", *("; ".join(r.cite() for r in a.references) for a in algorithms)],
        ["implementations", *("; ".join(i.describe() for i in a.implementations) or "none known"
                              for a in algorithms)],
        ["caveats", *(" ".join(a.caveats) or "-" for a in algorithms)],
        ["why", *(" ".join(f"{t}: {text}" for t, text in a.why.items()) or "-" for a in algorithms)],
        ["simulator", *(a.simulator or "-" for a in algorithms)],
    ]
    return header, rows


def _handled(a: Algorithm, trait_id: str) -> str:
    preferred = set(a.prefers.get(trait_id, ()))
    return ", ".join(f"{v}*" if v in preferred else v for v in a.handles.get(trait_id, ()))


def trait_rows(catalog: Catalog) -> tuple[list[str], list[list[str]]]:
    header = ["trait", "group", "values", "default", "question"]
    rows = []
    for t in catalog.traits:
        values = (", ".join(t.values) if t.is_choice else
                  f"number {t.minimum:g}..{t.maximum:g}" if t.minimum is not None and t.maximum is not None
                  else "number")
        rows.append([t.id, t.group, values, "-" if t.default is None else str(t.default), t.question])
    return header, rows


def coverage_rows(c: Coverage) -> tuple[list[str], list[list[str]]]:
    """One row per branch of the map: how many entries are built for it, handle it, and which use cases take it."""
    header = ["decision point", "branch", "built for it", "handle it", "use cases"]
    rows = [[b.trait, b.value, str(len(b.specialists)), str(b.handlers), str(len(b.usecases))] for b in c.branches]
    return header, rows


def coverage_summary(c: Coverage) -> str:
    maturity = ", ".join(f"{n} {m}" for m, n in c.maturity)
    thin = c.thin_branches
    line = (f"{c.algorithms} algorithms ({maturity}), {c.usecases} use cases; {len(c.simulated)} with a simulator, "
            f"{len(c.implemented)} with an implementation named, {len(c.production)} of them production-grade.")
    if thin:
        line += " Branches with fewer than two entries: " + ", ".join(f"{b.trait}={b.value}" for b in thin) + "."
    if c.preferences:
        line += (" Decision points that rule nothing out (asked as preferences, to rank): "
                 + ", ".join(c.preferences) + ".")
    else:
        line += " Every decision point rules out some entry for some answer."
    return line
