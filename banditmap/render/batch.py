"""Streams a batch's results as they come: one JSON line, or one CSV row, per case and rank; errors on stderr."""

from __future__ import annotations

import sys
from typing import Any, Iterable, Sequence, TextIO

from banditmap.recommend.batch import BATCH_COLUMNS, CaseResult, result_rows
from banditmap.render.report import json_line, to_csv

LIST_JOINERS = {"components": " + "}  # how a list-valued column reads in one CSV cell (default "; ")


def print_batch(results: Iterable[CaseResult], as_csv: bool, file: TextIO | None = None,
                errors: TextIO | None = None) -> int:
    """Print each case's rows as soon as it is ranked (CSV with a header, or JSON lines), and each invalid case
    on `errors` too (standard error by default); returns how many cases failed."""
    out, err = file or sys.stdout, errors or sys.stderr
    failed = 0
    if as_csv:
        out.write(to_csv(BATCH_COLUMNS, []))
    for item in results:
        if item.error:
            failed += 1
            err.write(f"banditmap: error: {item.error}\n")
            err.flush()
        out.write(batch_lines(result_rows(item), BATCH_COLUMNS, as_csv))
    return failed


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
