"""Turns shortlists, catalogs and comparisons into rich tables, JSON, CSV and Markdown; reads, never computes."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from typing import Any, Iterable, Sequence, TextIO

from banditmap.model import Algorithm, Catalog, Match, Reason, Shortlist

FORMATS = ("table", "json", "csv", "markdown")
SHORTLIST_SCHEMA = "banditmap.shortlist/2"
COMPARE_SCHEMA = "banditmap.compare/1"
CATALOG_SCHEMA = "banditmap.catalog/1"


# --- plain data (what JSON prints, and what the other formats are built from) --------------------------------

def reason_dict(reason: Reason) -> dict[str, Any]:
    return {"trait": reason.trait, "value": reason.value, "points": reason.points, "text": reason.text}


def match_dict(match: Match, rank: int | None, nearest: bool = False) -> dict[str, Any]:
    """A candidate: an entry or a composition (`components`, base first, then adapters innermost first). A kept
    one has its score and reasons; a nearest one (`nearest`) its partial score and the answers it `missed`."""
    a = match.algorithm
    out: dict[str, Any] = {"rank": rank, "id": match.id, "name": match.name, "family": a.family,
                           "maturity": a.maturity, "components": components(match)}
    if match.kept:
        out["score"] = match.score
        out["reasons"] = [reason_dict(r) for r in match.reasons]
    elif nearest:
        out["score"] = sum(r.points for r in match.reasons)
        out["reasons"] = [reason_dict(r) for r in match.reasons]
        out["missed"] = [reason_dict(r) for r in match.ruled_out]
    else:
        out["ruled_out"] = [reason_dict(r) for r in match.ruled_out]
    out["simulator"] = a.simulator
    return out


def components(match: Match) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"kind": "algorithm", "id": match.algorithm.id, "name": match.algorithm.name}]
    for adapter in match.adapters:
        parts.append({"kind": "adapter", "id": adapter.id, "name": adapter.name,
                      "references": [r.short() for r in adapter.references],
                      "lifts": {t: list(lift.gives) for t, lift in adapter.lifts.items()}})
    return parts


def shortlist_dict(result: Shortlist) -> dict[str, Any]:
    return {
        "schema": SHORTLIST_SCHEMA,
        "profile": {"name": result.profile.name, "source": result.profile.source,
                    "answers": dict(result.profile.answers)},
        "unanswered": list(result.unanswered),
        "exact": result.exact,
        "advice": result.advice or None,
        "frontier": result.frontier or None,
        "kept_total": result.kept_total,
        "shortlist": [match_dict(m, i, nearest=not result.exact) for i, m in enumerate(result.ranked, 1)],
        "ruled_out": [match_dict(m, None) for m in result.excluded],
    }


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


def strict(data: Any) -> tuple[Any, list[str]]:
    """`data` with every non-finite number (NaN, infinity) replaced by null, and the paths where that happened:
    JSON has no such numbers, and a reader must not take a missing value for a measured one."""
    nulled: list[str] = []

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            nulled.append(path or "(top)")
            return None
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    return walk(data, ""), nulled


def to_json(data: Any) -> str:
    """Strict JSON (RFC 8259): non-finite numbers become null, and a top-level mapping gets a note naming them."""
    clean, nulled = strict(data)
    if nulled and isinstance(clean, dict):
        shown = ", ".join(nulled[:10]) + (f" and {len(nulled) - 10} more" if len(nulled) > 10 else "")
        clean["notes"] = list(clean.get("notes") or []) + [
            f"{len(nulled)} value(s) could not be computed (not a finite number) and are null: {shown}"]
    return json.dumps(clean, indent=2, ensure_ascii=not utf8_output(), allow_nan=False) + "\n"


def json_line(data: Any) -> str:
    """One strict JSON line (non-finite numbers as null)."""
    return json.dumps(strict(data)[0], ensure_ascii=not utf8_output(), allow_nan=False) + "\n"


def utf8_output() -> bool:
    """Whether standard output takes any character; if not, JSON escapes non-ASCII text and stays valid."""
    return (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("-", "") == "utf8"


# --- tables shared by csv, markdown and the terminal ----------------------------------------------------------

def shortlist_rows(result: Shortlist, explain: bool) -> tuple[list[str], list[list[str]]]:
    header = ["rank", "id", "name", "score", "maturity", "why"]
    if result.exact:
        rows = [[str(i), m.id, m.name, f"{m.score:g}", m.algorithm.maturity, why_kept(m)]
                for i, m in enumerate(result.ranked, 1)]
    else:
        rows = [[f"~{i}", m.id, m.name, f"{sum(r.points for r in m.reasons):g}", m.algorithm.maturity,
                 "misses " + ", ".join(f"{r.trait}={r.value}" for r in m.ruled_out) + "; " + why_kept(m)]
                for i, m in enumerate(result.ranked, 1)]
    if explain:
        rows += [["-", m.algorithm.id, m.algorithm.name, "ruled out", m.algorithm.maturity,
                  "; ".join(r.text for r in m.ruled_out)] for m in result.excluded]
    return header, rows


def why_kept(match: Match) -> str:
    """What sets the algorithm apart (what it is built for, number fits), then how many answers it merely handles."""
    special = [r.text for r in match.reasons if r.trait not in ("maturity", "adapter") and r.points != 1]
    special += [r.text for r in match.reasons
                if r.trait not in ("maturity", "adapter") and r.points == 1 and not r.text.startswith("handles ")]
    handled = sum(1 for r in match.reasons if r.text.startswith("handles "))
    if handled:
        plural = "answer" if handled == 1 else "answers"
        special.append(f"handles your other {handled} {plural}" if special else f"handles all {handled} {plural}")
    return "; ".join(special)


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


def catalog_rows(algorithms: Iterable[Algorithm]) -> tuple[list[str], list[list[str]]]:
    header = ["id", "name", "family", "maturity", "simulator"]
    return header, [[a.id, a.name, a.family, a.maturity, a.simulator or "-"] for a in algorithms]


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def to_markdown(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- terminal -------------------------------------------------------------------------------------------------

def console(file: TextIO | None = None) -> Any:
    """A rich console: colour in a terminal, plain text when piped or when NO_COLOR is set."""
    from rich.console import Console
    out = file or sys.stdout
    terminal = out.isatty()
    return Console(file=out, no_color=bool(os.environ.get("NO_COLOR")) or not terminal,
                   highlight=False, width=None if terminal else 160, soft_wrap=False)


def rich_table(title: str, header: Sequence[str], rows: Iterable[Sequence[str]], plain: bool) -> Any:
    from rich import box
    from rich.table import Table
    table = Table(title=title, box=box.ASCII if plain else box.ROUNDED, show_lines=False, title_justify="left")
    for i, name in enumerate(header):
        table.add_column(name, overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    return table


def print_table(title: str, header: Sequence[str], rows: Iterable[Sequence[str]], file: TextIO | None = None,
                footer: str | None = None) -> None:
    con = console(file)
    plain = not con.is_terminal
    con.print(rich_table(title, header, rows, plain))
    if footer:
        con.print(footer)


def shortlist_title(result: Shortlist) -> str:
    name = result.profile.name or "your profile"
    if result.advice:
        return f"A bandit is not the right formulation for {name}"
    if not result.exact:
        return (f"No candidate handles every answer of {name}: the {len(result.ranked)} nearest, fewest missed "
                "answers first")
    shown = f"top {len(result.ranked)} of " if len(result.ranked) < result.kept_total else ""
    return f"Shortlist for {name}: {shown}{result.kept_total} kept, {len(result.excluded)} ruled out"


def shortlist_footer(result: Shortlist) -> str:
    lines = [f"No known method: {result.frontier}"] if result.frontier else []
    if result.unanswered:
        lines.append("Unanswered (ruled nothing out): " + ", ".join(result.unanswered))
    return "\n".join(lines)


def emit(text: str, file: TextIO | None = None) -> None:
    (file or sys.stdout).write(text)


def render_shortlist(result: Shortlist, fmt: str, explain: bool, file: TextIO | None = None) -> None:
    if fmt == "json":
        emit(to_json(shortlist_dict(result)), file)
        return
    if result.advice and fmt != "csv":
        text = f"{shortlist_title(result)}\n\n{result.advice}\n"
        emit(f"**{shortlist_title(result)}**\n\n{result.advice}\n" if fmt == "markdown" else text, file)
        return
    header, rows = shortlist_rows(result, explain)
    if fmt == "csv":
        emit(to_csv(header, rows), file)
    elif fmt == "markdown":
        emit(f"**{shortlist_title(result)}**\n\n" + to_markdown(header, rows), file)
    else:
        print_table(shortlist_title(result), header, rows, file, shortlist_footer(result) or None)


def print_map(root: Any, file: TextIO | None = None, sources: bool = False) -> None:
    """Draw a MapNode tree; the user's branches and shortlisted algorithms in bold green, ruled out struck.

    With `sources`, each decision point and branch says where it comes from (paper, book or extension)."""
    from rich.tree import Tree
    con = console(file)

    def label(node: Any) -> str:
        from rich.markup import escape
        text = escape(node.label)
        if node.kind == "algorithm":
            if node.selected:
                return f"[bold green]{text} (shortlisted)[/]"
            if node.ruled_out:
                return f"[dim]{text} (ruled out)[/]"
            return f"[cyan]{text}[/]"
        if node.kind == "value" and node.selected:
            return f"[bold green]{text}  <- you[/]"
        if node.kind in ("root", "group"):
            return f"[bold]{text}[/]"
        if node.kind == "note":
            return f"[dim]{text}[/]"
        return text

    def labelled(node: Any) -> str:
        if sources and node.source and node.kind in ("group", "trait", "value"):
            from rich.markup import escape
            return f"{label(node)}\n[dim]source: {escape(node.source)}[/]"
        return label(node)

    def grow(tree: Any, node: Any) -> None:
        for child in node.children:
            grow(tree.add(labelled(child)), child)

    tree = Tree(label(root), guide_style="dim")
    grow(tree, root)
    con.print(tree)


def trait_dict(trait: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": trait.id, "group": trait.group, "kind": trait.kind, "question": trait.question,
                           "help": trait.help}
    if trait.is_choice:
        out["values"] = [{"id": c.id, "meaning": c.meaning} for c in trait.choices]
    else:
        out.update({"min": trait.minimum, "max": trait.maximum, "integer": trait.integer})
    out["default"] = trait.default
    out["ask_if"] = {c.trait: list(c.values) for c in trait.ask_if}
    return out


def trait_rows(catalog: Catalog) -> tuple[list[str], list[list[str]]]:
    header = ["trait", "group", "values", "default", "question"]
    rows = []
    for t in catalog.traits:
        values = (", ".join(t.values) if t.is_choice else
                  f"number {t.minimum:g}..{t.maximum:g}" if t.minimum is not None and t.maximum is not None
                  else "number")
        rows.append([t.id, t.group, values, "-" if t.default is None else str(t.default), t.question])
    return header, rows


def batch_header(columns: Sequence[str], as_csv: bool) -> str:
    return to_csv(columns, []) if as_csv else ""


LIST_JOINERS = {"components": " + "}  # how a list-valued column reads in one CSV cell (default "; ")


def csv_cell(column: str, value: Any) -> Any:
    """A JSON value as one CSV cell: lists joined, booleans as true/false, null as empty."""
    if isinstance(value, list):
        return LIST_JOINERS.get(column, "; ").join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def batch_lines(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_csv: bool) -> str:
    """Batch rows as CSV lines (no header) or JSON lines."""
    if as_csv:
        return to_csv(columns, [[csv_cell(c, r[c]) for c in columns] for r in rows]).split("\n", 1)[1]
    return "".join(json_line(r) for r in rows)


def render_listing(fmt: str, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], data: Any,
                   file: TextIO | None = None) -> None:
    """One listing in any format: `data` as JSON, or the rows as CSV, Markdown or a terminal table."""
    if fmt == "json":
        emit(to_json(data), file)
    elif fmt == "csv":
        emit(to_csv(header, rows), file)
    elif fmt == "markdown":
        emit(to_markdown(header, rows), file)
    else:
        print_table(title, header, rows, file)


STATS_SCHEMA = "banditmap.stats/1"


def coverage_dict(c: Any) -> dict[str, Any]:
    return {"schema": STATS_SCHEMA, "algorithms": c.algorithms, "usecases": c.usecases,
            "simulated": list(c.simulated), "implemented": list(c.implemented),
            "production": list(c.production), "maturity": dict(c.maturity),
            "families": dict(c.families),
            "preferences": list(c.preferences),
            "branches": [{"trait": b.trait, "value": b.value, "source": b.source, "specialists": list(b.specialists),
                          "handlers": b.handlers, "usecases": list(b.usecases), "exit": b.exit}
                         for b in c.branches]}


def coverage_rows(c: Any) -> tuple[list[str], list[list[str]]]:
    """One row per branch of the map: how many entries are built for it, handle it, and which use cases take it."""
    header = ["decision point", "branch", "built for it", "handle it", "use cases"]
    rows = [[b.trait, b.value, str(len(b.specialists)), str(b.handlers), str(len(b.usecases))] for b in c.branches]
    return header, rows


def coverage_summary(c: Any) -> str:
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
