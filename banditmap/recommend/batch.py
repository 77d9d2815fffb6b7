"""Recommendations for many profiles at once: reads YAML lists, JSON lines or CSV; a bad case never stops the rest."""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from banditmap.catalog.yamlio import MAX_BATCH_BYTES, decode, has_control, load_text, read_text
from banditmap.errors import BanditmapError, one_line, shown
from banditmap.model import Catalog, Profile
from banditmap.recommend.matching import Ranked, ScoreTable, rank, score_table
from banditmap.recommend.profile import build_profile

CASE_KEYS = ("id", "name", "usecase", "profile")


@dataclass(frozen=True)
class Case:
    """One raw case as read, before validation: where it came from and its fields."""

    label: str
    line: int | None
    data: Any


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    ranked: tuple[Ranked, ...]
    error: str | None
    exact: bool = True  # False: nothing handles every answer, `ranked` holds the nearest candidates
    advice: str = ""  # an answer left the map: not a bandit problem, and what to do instead


def sniff(text: str, name: str) -> str:
    """The batch format, from the file's extension or, for standard input, from its first characters."""
    lower = name.lower()
    for ext, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl"), (".csv", "csv"),
                     (".yaml", "yaml"), (".yml", "yaml")):
        if lower.endswith(ext):
            return fmt
    head = text.lstrip()
    if head.startswith("{"):
        return "jsonl"
    first = head.split("\n", 1)[0]
    return "csv" if "," in first and ":" not in first else "yaml"


def read_cases(text: str, source: str) -> Iterator[Case]:
    """The cases of a batch, each with the line it starts on; a case id met twice becomes that case's error."""
    fmt = sniff(text, source)
    cases = _jsonl_cases(text) if fmt == "jsonl" else _csv_cases(text, source) if fmt == "csv" else \
        _yaml_cases(text, source)
    first_line: dict[str, int | None] = {}
    for case in cases:
        if isinstance(case.data, dict) and case.data.get("id") not in (None, ""):
            if case.label in first_line:
                seen = first_line[case.label]
                yield Case(case.label, case.line, BanditmapError(
                    f"case id {shown(case.label)} appears twice" + (f" (first on line {seen})" if seen else "")
                    + "; expected every case to have its own id", field="id"))
                continue
            first_line[case.label] = case.line
        yield case


def _jsonl_cases(text: str) -> Iterator[Case]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Case(f"line {number}", number, BanditmapError(f"not valid JSON: {exc.msg}"))
            continue
        except RecursionError:
            yield Case(f"line {number}", number, BanditmapError("nested too deeply; expected a flat JSON object "
                                                                "of trait: value"))
            continue
        yield Case(_label(data, f"line {number}"), number, _plain_text(data))


def _csv_cases(text: str, source: str) -> Iterator[Case]:
    """CSV rows as cases, each numbered by the physical line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BanditmapError(f"not a CSV table: {exc}", source=source, line=reader.line_num or 1) from None
    if not header or "id" not in header:
        raise BanditmapError("expected a header row with an id column and one column per trait", source=source,
                             line=1)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            yield Case(f"row {start}", start, BanditmapError(f"not a CSV row: {exc}"))
            return
        if cells is None:
            return
        if not cells:
            continue  # a blank line
        row = dict(zip(header, cells))
        data: Any = {k: v for k, v in row.items() if v != ""}
        if len(cells) > len(header):
            data = BanditmapError(f"{len(cells)} cells, more than the header's {len(header)} columns")
        yield Case(_label(row, f"row {start}"), start, _plain_text(data))


def _plain_text(data: Any) -> Any:
    """A case whose text holds control characters (terminal escapes) becomes an error, as in YAML files."""
    if isinstance(data, dict) and any(isinstance(v, str) and has_control(v) for v in [*data, *data.values()]):
        return BanditmapError("control characters (such as terminal escapes) are not allowed in text")
    return data


def _yaml_cases(text: str, source: str) -> Iterator[Case]:
    doc = load_text(text, source)
    if not isinstance(doc.data, list):
        raise doc.error((), "expected a list of cases, each with an id and trait answers")
    for i, data in enumerate(doc.data):
        yield Case(_label(data, f"item {i + 1}"), doc.line_of((i,)), data)


def _label(data: Any, fallback: str) -> str:
    if isinstance(data, dict) and data.get("id") not in (None, "") and not isinstance(data["id"], (dict, list)):
        return one_line(str(data["id"]))[:200]
    return fallback


def run_case(case: Case, catalog: Catalog, table: ScoreTable, source: str, top: int | None,
             compose: bool = True) -> CaseResult:
    """Validate and match one case; a BanditmapError becomes this case's error, naming its id and field."""
    try:
        profile = case_profile(case, catalog, source)
    except BanditmapError as exc:
        where = f"{source}" + (f":{exc.line or case.line}" if (exc.line or case.line) else "")
        field = f"{exc.field}: " if exc.field else ""
        return CaseResult(case.label, (), f"{where}: case {case.label}: {field}{exc.message}")
    advice = catalog.exit(profile.answers)
    if advice:
        return CaseResult(case.label, (), None, False, advice)
    ranked, exact = rank(profile.answers, table, top, compose)
    return CaseResult(case.label, tuple(ranked), None, exact, "" if exact else catalog.frontier(profile.answers))


def case_profile(case: Case, catalog: Catalog, source: str) -> Profile:
    """A case's use case, then its answers under `profile:`, then its other fields as answers."""
    if isinstance(case.data, BanditmapError):
        raise case.data
    data = case.data
    if not isinstance(data, dict):
        raise BanditmapError("expected a mapping with an id and trait answers")
    if data.get("id") in (None, ""):
        raise BanditmapError("every case needs an id", field="id")
    nested = data.get("profile")
    if nested is not None and not isinstance(nested, dict):
        raise BanditmapError("expected a mapping of trait: value", field="profile")
    answers = {**(nested or {}), **{k: v for k, v in data.items() if k not in CASE_KEYS}}
    usecase = str(data["usecase"]) if data.get("usecase") else None
    return build_profile(catalog, usecase, answers=answers, name=str(data.get("name") or data["id"]), source=source)


def read_batch(batch: str) -> tuple[str, str]:
    """The text of a batch file, or of standard input for `-`, within MAX_BATCH_BYTES, and its name in messages."""
    if batch != "-":
        return read_text(Path(batch), MAX_BATCH_BYTES), batch
    raw = sys.stdin.buffer.read(MAX_BATCH_BYTES + 1)
    if len(raw) > MAX_BATCH_BYTES:
        raise BanditmapError(f"more than {MAX_BATCH_BYTES // 2**20} MiB on standard input; split the batch",
                             source="<stdin>")
    return decode(raw, "<stdin>"), "<stdin>"


def recommend_batch(batch: str, catalog: Catalog, top: int | None, compose: bool = True) -> Iterator[CaseResult]:
    """Read the batch now (a file that cannot be read fails before anything is printed), then rank its cases one
    by one as they are asked for."""
    text, source = read_batch(batch)
    return run_batch(text, source, catalog, top, compose)


def run_batch(text: str, source: str, catalog: Catalog, top: int | None,
              compose: bool = True) -> Iterator[CaseResult]:
    table = score_table(catalog)
    for case in read_cases(text, source):
        yield run_case(case, catalog, table, source, top, compose)


def result_rows(item: CaseResult) -> list[dict[str, Any]]:
    """One row per case and rank (or one error row), as printed in JSON lines and CSV. `id` is the candidate
    (`ucb1+sliding-window` for a composition), `components` its parts, base first; `exact` is false for the
    nearest candidates of a case nothing handles whole, and `missed` names the answers each one misses; `advice`
    says what to do instead when an answer leaves the map (not a bandit problem)."""
    if item.error is not None or (item.advice and not item.ranked):
        return [{"case": item.case_id, "rank": None, "id": None, "name": None, "score": None,
                 "exact": None if item.error else False, "components": None, "missed": None,
                 "advice": item.advice or None, "error": item.error}]
    return [{"case": item.case_id, "rank": position, "id": r.id,
             "name": " + ".join([r.algorithm.name, *(a.name for a in r.adapters)]), "score": round(r.score, 2),
             "exact": item.exact, "components": [r.algorithm.id, *(a.id for a in r.adapters)],
             "missed": list(r.missed), "advice": item.advice or None, "error": None}
            for position, r in enumerate(item.ranked, 1)]


BATCH_COLUMNS = ("case", "rank", "id", "name", "score", "exact", "components", "missed", "advice", "error")
