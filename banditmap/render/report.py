"""One report shape for every command's result, and the one printer that shows it as a table, JSON, CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

FORMATS = ("table", "json", "csv", "markdown")


@dataclass(frozen=True)
class Report:
    """What a command prints, read from its result: a table (title, header, rows), the same result as JSON-ready
    `data`, and the words around the table. Everything but `data` is text already; the printer only lays it out.

    In the terminal: the title and table, `footer` (rich text under the table), `extras` (plain text written as
    it is, such as curves drawn in characters), then `verdict`, `notes` on one line and `warnings` as a list.
    Markdown has the title in bold (unless `markdown_title` is off), the table, the verdict, notes and warnings.
    A `message` replaces the table in both (the shortlist's advice when no bandit fits). CSV is the table alone,
    JSON the data alone."""

    title: str
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    data: Any = None
    message: str = ""
    footer: str = ""
    extras: str = ""
    verdict: str = ""
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    markdown_title: bool = True


def from_rows(title: str, header: Sequence[str], rows: Iterable[Sequence[str]], data: Any = None,
              **words: Any) -> Report:
    """A Report from lists, as the row builders return them."""
    return Report(title, tuple(header), tuple(tuple(row) for row in rows), data, **words)


def print_report(report: Report, fmt: str = "table", file: TextIO | None = None, width: int | None = None) -> None:
    """Print `report` in one of FORMATS to `file` (standard output by default); `width` fixes the terminal
    table's width (default: the terminal's, or 160 columns when not a terminal)."""
    if fmt == "json":
        emit(to_json(report.data), file)
    elif fmt == "csv":
        emit(to_csv(report.header, report.rows), file)
    elif fmt == "markdown":
        emit(markdown(report), file)
    else:
        print_terminal(report, file, width)


def markdown(report: Report) -> str:
    text = f"**{report.title}**\n\n" if report.markdown_title else ""
    if report.message:
        return text + report.message + "\n"
    text += to_markdown(report.header, report.rows)
    if report.verdict:
        text += f"\n{report.verdict}\n"
    if report.notes:
        text += "\n" + notes_line(report.notes)
    if report.warnings:
        text += "\nWarnings:\n" + "".join(f"- {w}\n" for w in report.warnings)
    return text


def print_terminal(report: Report, file: TextIO | None = None, width: int | None = None) -> None:
    if report.message:
        emit(f"{report.title}\n\n{report.message}\n", file)
        return
    con = console(file, width)
    con.print(rich_table(report.title, report.header, report.rows, plain=not con.is_terminal))
    if report.footer:
        con.print(report.footer)
    text = report.extras
    if report.verdict:
        text += f"\n{report.verdict}\n"
    if report.notes:
        text += notes_line(report.notes)
    if report.warnings:
        text += "Warnings:\n" + "".join(f"  - {w}\n" for w in report.warnings)
    if text:
        emit(text, file)


def notes_line(notes: Sequence[str]) -> str:
    return "Notes: " + "; ".join(notes) + "\n"


# --- the formats ----------------------------------------------------------------------------------------------

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


def emit(text: str, file: TextIO | None = None) -> None:
    (file or sys.stdout).write(text)


# --- the terminal ---------------------------------------------------------------------------------------------

def console(file: TextIO | None = None, width: int | None = None) -> Console:
    """A rich console: colour in a terminal, plain text when piped or when NO_COLOR is set; 160 columns wide
    when not a terminal, unless `width` says otherwise."""
    from rich.console import Console
    out = file or sys.stdout
    terminal = out.isatty()
    return Console(file=out, no_color=bool(os.environ.get("NO_COLOR")) or not terminal,
                   highlight=False, width=width or (None if terminal else 160), soft_wrap=False)


def rich_table(title: str, header: Sequence[str], rows: Iterable[Sequence[str]], plain: bool) -> Table:
    from rich import box
    from rich.table import Table
    table = Table(title=title, box=box.ASCII if plain else box.ROUNDED, show_lines=False, title_justify="left")
    for i, name in enumerate(header):
        table.add_column(name, overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    return table
