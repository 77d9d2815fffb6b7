"""Reads CSV and Parquet log files in chunks: finds the columns, refuses a malformed file where it goes wrong."""

from __future__ import annotations

import bisect
import csv
import fnmatch
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from banditmap.errors import BanditmapError, shown

Array = np.ndarray

# Defaults accept the Open Bandit Dataset's columns first, then the names of Open Bandit Pipeline's synthetic
# feedback dictionaries (action, reward, pscore, position, context).
DEFAULT_ACTION = ("item_id", "action")
DEFAULT_REWARD = ("click", "reward", "conversion")
DEFAULT_PROPENSITY = ("propensity_score", "pscore_item_position", "pscore", "propensity")
DEFAULT_POSITION = ("position",)
DEFAULT_SLATE = ("slate_id",)  # as Open Bandit Pipeline names it in slate feedback (one row per slot)
DEFAULT_CONTEXT = ("user_feature_*", "user-item_affinity_*", "context_*")
MAX_FIELD = 200  # characters in a used value
MAX_LINE = 1 << 20  # characters in a CSV line


@dataclass(frozen=True)
class Columns:
    """Column names as the user gave them; None means: look for the defaults."""

    action: str | None = None
    reward: str | None = None
    propensity: str | None = None
    position: str | None = None
    context: tuple[str, ...] | None = None  # names or glob patterns
    slate: str | None = None  # the slate (decision) id of slate logs: one row per slot


@dataclass(frozen=True)
class Place:
    """Where the rows of a chunk are in the file: the physical line each starts on in a CSV file (header = line 1),
    or its row in a Parquet table (counting from 1)."""

    source: str
    numbers: Array  # (n,) int64, one per row of the chunk
    unit: str = "line"  # or "row"

    def refuse(self, offset: int, message: str, column: str | None = None) -> BanditmapError:
        number = int(self.numbers[offset])
        if self.unit == "row":
            return BanditmapError(f"row {number}: {message}", source=self.source, field=column)
        return BanditmapError(message, source=self.source, line=number, field=column)


CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # control characters, bidi overrides


@dataclass
class Resolved:
    """The columns a log is read by, one name per role, and the context columns."""

    action: str
    reward: str
    propensity: str | None  # None: the log has none, they are estimated
    position: str | None
    context: tuple[str, ...]
    slate: str | None = None

    @property
    def names(self) -> list[str]:
        return [self.action, self.reward] + ([self.propensity] if self.propensity else []) + (
            [self.position] if self.position else []) + ([self.slate] if self.slate else []) + list(self.context)


ROLES = (("action", "--action-col"), ("reward", "--reward-col"), ("propensity", "--propensity-col"),
         ("position", "--position-col"), ("slate", "--slate-col"))


def resolve(header: Sequence[str], columns: Columns, source: str) -> Resolved:
    """Find the columns to use, by the user's names or the defaults; one clear error for a missing column, a column
    given two roles, or a column name that appears twice."""
    present = list(header)

    def one(given: str | None, defaults: tuple[str, ...], option: str, required: bool = True) -> str | None:
        if given is not None:
            if given not in present:
                raise BanditmapError(f"no column {shown(given)}; the file has: {_listing(present)}", source=source,
                                     field=option)
            return given
        for name in defaults:
            if name in present:
                return name
        if not required:
            return None
        raise BanditmapError(f"no column named {' or '.join(repr(d) for d in defaults)}; the file has: "
                             f"{_listing(present)}; name yours with {option}", source=source, field=option)

    found = {"action": one(columns.action, DEFAULT_ACTION, "--action-col"),
             "reward": one(columns.reward, DEFAULT_REWARD, "--reward-col"),
             "propensity": one(columns.propensity, DEFAULT_PROPENSITY, "--propensity-col", required=False),
             "position": one(columns.position, DEFAULT_POSITION, "--position-col", required=False),
             "slate": one(columns.slate, DEFAULT_SLATE, "--slate-col", required=False)}
    _one_role_each(found, source)
    taken = set(found.values())
    context = _context_columns(present, columns.context, taken, found, source)
    action, reward = found["action"], found["reward"]
    assert action and reward
    resolved = Resolved(action, reward, found["propensity"], found["position"], tuple(context), found["slate"])
    for name in resolved.names:
        if present.count(name) > 1:
            raise BanditmapError(f"the file has {present.count(name)} columns named {shown(name)}; expected one",
                                 source=source, field=name)
        if CONTROL.search(name):
            raise BanditmapError(f"the column name {shown(name)} holds control characters; expected plain text",
                                 source=source)
    return resolved


def _one_role_each(found: Mapping[str, str | None], source: str) -> None:
    """The same column may not be, say, both the action and the reward."""
    seen: dict[str, tuple[str, str]] = {}
    for role, option in ROLES:
        name = found[role]
        if name is None:
            continue
        if name in seen:
            first_role, first_option = seen[name]
            raise BanditmapError(f"{first_option} and {option} both name the column {shown(name)}; the {first_role} "
                                 f"and the {role} need a column each", source=source, field=option)
        seen[name] = (role, option)


def _context_columns(present: list[str], patterns: tuple[str, ...] | None, taken: set[str | None],
                     found: Mapping[str, str | None], source: str) -> list[str]:
    """Columns matching the context patterns, other than the action, reward, propensity and position columns. A
    pattern the user gave must match a column of its own; naming a role column as context is refused."""
    explicit = patterns is not None
    context: list[str] = []
    for pattern in patterns if patterns is not None else DEFAULT_CONTEXT:
        matches = [c for c in present if fnmatch.fnmatchcase(c, pattern)]
        free = [c for c in matches if c not in taken and c not in context]
        if explicit and not free:
            roles = [f"the {role} column ({option})" for role, option in ROLES if found[role] in matches]
            if roles:
                raise BanditmapError(f"{shown(pattern)} names {' and '.join(roles)}; a column has one role",
                                     source=source, field="--context-cols")
            if not matches:
                raise BanditmapError(f"no column matches {shown(pattern)}; the file has: {_listing(present)}",
                                     source=source, field="--context-cols")
        context += free
    return context


def _listing(names: Sequence[str], limit: int = 120) -> str:
    """Column names for a message, cut to about `limit` characters."""
    listed: list[str] = []
    for name in names:
        if listed and sum(len(n) + 2 for n in listed) + len(shown(name, 30)) > limit:
            return ", ".join(listed) + f" and {len(names) - len(listed)} more"
        listed.append(shown(name, 30))
    return ", ".join(listed)


# --- readers: each yields (where the rows are, {column: values}) per chunk -----------------------------------

Batch = tuple[Place, dict[str, Array]]
Reader = Callable[[Path, Columns, int, set[str]], tuple[Resolved, Iterator[Batch]]]


class _Lines:
    """The physical lines of a text file, read with their numbers and checked: UTF-8, no NUL characters, at most
    MAX_LINE characters (so no corrupt file can make one line exhaust memory)."""

    _BAD = re.compile("[\x00\udc80-\udcff]")  # NUL, or a byte that is not UTF-8 (kept by surrogateescape)

    def __init__(self, path: Path) -> None:
        self.source = str(path)
        self.handle: IO[str] = open(path, encoding="utf-8", errors="surrogateescape", newline="")
        self.next = 1  # number of the next line

    def take(self, n: int) -> list[str]:
        read = self.handle.readline
        lines = list(itertools.islice(iter(lambda: read(MAX_LINE + 1), ""), n))
        self._check(lines)
        self.next += len(lines)
        return lines

    def more(self) -> Iterator[str]:
        """Further lines one by one, for a quoted field that runs past the end of a chunk."""
        while lines := self.take(1):
            yield lines[0]

    def _check(self, lines: list[str]) -> None:
        text = "".join(lines)
        bad = self._BAD.search(text)
        if bad:
            ends = list(itertools.accumulate(map(len, lines)))
            line = self.next + bisect.bisect_right(ends, bad.start())
            char = bad.group()
            if char == "\x00":
                raise BanditmapError("a NUL character: not a text table; expected a CSV file", source=self.source,
                                     line=line)
            raise BanditmapError(f"byte 0x{ord(char) - 0xDC00:02x} is not UTF-8; expected a CSV file in UTF-8 "
                                 "(re-save it as UTF-8)", source=self.source, line=line)
        if max(map(len, lines), default=0) > MAX_LINE:
            offset = next(i for i, line in enumerate(lines) if len(line) > MAX_LINE)
            raise BanditmapError(f"longer than {MAX_LINE:,} characters; expected one decision per line",
                                 source=self.source, line=self.next + offset)

    def close(self) -> None:
        self.handle.close()


def _csv_batches(path: Path, wanted: Columns, chunk_rows: int, numeric_hint: set[str]
                 ) -> tuple[Resolved, Iterator[Batch]]:
    source = str(path)
    lines = _Lines(path)
    try:
        taken = lines.take(1)
        if not taken:
            raise BanditmapError("the file is empty; expected a header row and logged decisions", source=source)
        first = taken[0].removeprefix("\ufeff")  # a byte order mark, as some spreadsheets write
        if not first.strip():
            raise BanditmapError("a blank line; expected a header row naming the columns", source=source, line=1)
        try:
            header = [h.strip() for h in next(csv.reader([first], strict=True))]
        except csv.Error as exc:
            raise BanditmapError(f"the header is not a CSV row ({exc})", source=source, line=1) from None
        if len(header) < 3:
            raise BanditmapError(f"the header has {len(header)} column(s); expected a comma-separated table with "
                                 "at least an action, a reward and a propensity column", source=source, line=1)
        resolved = resolve(header, wanted, source)
    except BaseException:
        lines.close()
        raise
    index = {name: header.index(name) for name in resolved.names}
    return resolved, _csv_chunks(lines, len(header), index, chunk_rows, numeric_hint)


def _csv_chunks(lines: _Lines, width: int, index: dict[str, int], chunk_rows: int,
                numeric_hint: set[str]) -> Iterator[Batch]:
    try:
        while True:
            start = lines.next
            chunk = lines.take(chunk_rows)
            if not chunk:
                return
            fast = _fast_parse(chunk, width, index, numeric_hint, start, lines.source)
            yield fast if fast is not None else _csv_parse(chunk, start, lines, width, index)
    finally:
        lines.close()


def _fast_parse(chunk: list[str], width: int, index: dict[str, int], numeric_hint: set[str], start: int,
                source: str) -> Batch | None:
    """A chunk without quotes whose every line has the header's number of fields, its number columns read by
    NumPy's C parser; None for any other chunk (or any value NumPy will not read), which then goes through the csv
    module, which also finds the bad row for the message."""
    if not numeric_hint or any(line.count(",") != width - 1 or '"' in line for line in chunk):
        return None
    place = Place(source, np.arange(start, start + len(chunk)))
    names = [n for n in index if n in numeric_hint]
    data: dict[str, Array] = {}
    if names:
        try:
            table = np.loadtxt(chunk, delimiter=",", usecols=[index[n] for n in names], dtype=np.float64, ndmin=2,
                               comments=None)
        except ValueError:
            return None
        if table.shape != (len(chunk), len(names)):
            return None
        data = {n: table[:, j] for j, n in enumerate(names)}
    for name in index:
        if name not in data:
            i = index[name]
            data[name] = _texts([line.split(",", i + 1)[i].strip() for line in chunk], place, name)
    return place, data


def _csv_parse(chunk: list[str], start: int, lines: _Lines, width: int, index: dict[str, int]) -> Batch:
    """Rows by the csv module (strict quoting), each numbered by the line it starts on; a quoted field that runs
    past the chunk's last line takes the lines it needs from the file."""
    reader = csv.reader(itertools.chain(chunk, lines.more()), strict=True)
    starts: list[int] = []
    rows: list[list[str]] = []
    while reader.line_num < len(chunk):
        at = start + reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise BanditmapError(_csv_problem(str(exc)), source=lines.source, line=at) from None
        if len(row) != width:
            raise BanditmapError(f"has {len(row)} fields, the header has {width}; expected a comma-separated "
                                 "table with one decision per line", source=lines.source, line=at)
        starts.append(at)
        rows.append(row)
    place = Place(lines.source, np.array(starts, dtype=np.int64))
    return place, {name: _texts([row[i] for row in rows], place, name) for name, i in index.items()}


def _csv_problem(message: str) -> str:
    if "unexpected end of data" in message:
        return "a quoted field starting on this line is never closed; expected a closing '\"'"
    if "field larger than field limit" in message:
        return f"a field longer than {csv.field_size_limit():,} characters (an unclosed quote?); expected short values"
    return f"not a valid CSV row ({message})"


def _texts(values: list[str], place: Place, column: str) -> Array:
    """Cell texts as a NumPy array, refusing a cell too long to be a number or a label (NumPy pads every text to
    the longest, so one huge cell would take memory for all)."""
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    if len(lengths) and lengths.max() > MAX_FIELD:
        offset = int(np.argmax(lengths > MAX_FIELD))
        raise place.refuse(offset, f"a value of {lengths[offset]:,} characters, {shown(values[offset], 20)}; "
                                   f"expected a number or a label of at most {MAX_FIELD} characters", column)
    return np.array(values, dtype=str)


def _parquet_batches(path: Path, wanted: Columns, chunk_rows: int, numeric_hint: set[str]
                     ) -> tuple[Resolved, Iterator[Batch]]:
    source = str(path)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BanditmapError("reading Parquet needs pyarrow: pip install 'banditmap[parquet]'",
                             source=source) from None
    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise BanditmapError(f"not a Parquet table ({shown(exc, 120)}); expected a Parquet or CSV file",
                             source=source) from None
    schema = handle.schema_arrow
    resolved = resolve(schema.names, wanted, source)
    for name in resolved.names:
        _check_parquet_type(schema.field(name).type, source, name)

    chunks = handle.iter_batches(batch_size=chunk_rows, columns=resolved.names)
    return resolved, _arrow_batches(chunks, source, resolved.names)


def _arrow_batches(chunks: Iterator[Any], source: str, names: Sequence[str]) -> Iterator[Batch]:
    """A Parquet file's record batches as (place, values by column), its rows numbered from 1 and empty batches
    skipped; a damaged file is found as it is read, and named with the last row read before it."""
    row = 1
    while True:
        try:
            batch = next(chunks, None)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise BanditmapError(f"cannot read the table after row {row - 1} ({shown(exc, 120)})",
                                 source=source) from None
        if batch is None:
            return
        if not batch.num_rows:
            continue
        place = Place(source, np.arange(row, row + batch.num_rows), "row")
        yield place, {name: _parquet_values(batch.column(name), place, name) for name in names}
        row += batch.num_rows


def _check_parquet_type(kind: Any, source: str, name: str) -> None:
    """One number or one text per cell: lists, structs, maps, binary and temporal columns are refused."""
    import pyarrow as pa
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    plain = (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
             or pa.types.is_decimal(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)
             or pa.types.is_null(kind))  # a column of nulls only: refused at its first row
    if not plain:
        raise BanditmapError(f"holds {shown(kind, 40)} values; expected one number or text per row (integers, "
                             "floats, booleans, decimals or strings)", source=source, field=name)


def _parquet_values(column: Any, place: Place, name: str) -> Array:
    """A Parquet column as NumPy numbers or texts; a null (missing value) is refused with its row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if column.null_count:
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        raise place.refuse(int(np.argmax(nulls)), "expected a value, got null (a missing value)", name)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        lengths = pc.utf8_length(column).to_numpy(zero_copy_only=False)
        if len(lengths) and lengths.max() > MAX_FIELD:
            offset = int(np.argmax(lengths > MAX_FIELD))
            raise place.refuse(offset, f"a value of {lengths[offset]:,} characters; expected a number or a label "
                                       f"of at most {MAX_FIELD} characters", name)
    values: Array = column.to_numpy(zero_copy_only=False)  # pyarrow is untyped
    return values if values.dtype.kind in "fiub" else values.astype(str)


def parquet_files(folder: Path) -> list[Path]:
    """The data files of a Parquet dataset folder as Spark and Dask write them (part-00000-....parquet, possibly
    in key=value sub-folders), in path order, which is taken as time order; files whose name starts with "_" or
    "." (_SUCCESS, _metadata, .crc checksums) are not data."""
    def data(p: Path) -> bool:
        parts = p.relative_to(folder).parts
        return p.is_file() and not any(part.startswith(("_", ".")) for part in parts)
    return sorted(p for p in folder.rglob("*") if data(p))


def _dataset_batches(path: Path, wanted: Columns, chunk_rows: int, numeric_hint: set[str]
                     ) -> tuple[Resolved, Iterator[Batch]]:
    """A folder of Parquet files read lazily, file by file and batch by batch (pyarrow.dataset): one chunk in
    memory at a time. Every file must hold the columns the first one resolved to, with plain types; a bad value is
    reported as `FILE: row N`, counting rows within that file."""
    source = str(path)
    try:
        import pyarrow.dataset as ds
    except ImportError:
        raise BanditmapError("reading a Parquet dataset needs pyarrow: pip install 'banditmap[parquet]'",
                             source=source) from None
    files = parquet_files(path)
    if not files:
        raise BanditmapError("a folder without data files; expected a CSV or Parquet file, or a folder of Parquet "
                             "files (as Spark or Dask write them)", source=source)
    try:
        dataset = ds.dataset([str(f) for f in files], format="parquet")
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise BanditmapError(f"not a Parquet dataset ({shown(exc, 120)}); expected a folder of Parquet files",
                             source=source) from None
    fragments = list(dataset.get_fragments())
    resolved = resolve(fragments[0].physical_schema.names, wanted, str(files[0]))

    def batches() -> Iterator[Batch]:
        for fragment, file in zip(fragments, files, strict=True):
            name = str(file)
            schema = fragment.physical_schema
            for column in resolved.names:
                if column not in schema.names:
                    raise BanditmapError(f"no column {shown(column)}, which {files[0].name} has; expected every file "
                                         "of the dataset to hold the same columns", source=name, field=column)
                _check_parquet_type(schema.field(column).type, name, column)
            try:
                parts = fragment.to_batches(columns=resolved.names, batch_size=chunk_rows, use_threads=False)
            except Exception as exc:
                raise BanditmapError(f"cannot read the table ({shown(exc, 120)})", source=name) from None
            yield from _arrow_batches(iter(parts), name, resolved.names)
    return resolved, batches()


def reader_for(path: Path) -> Reader:
    """The reader for a path: a folder of Parquet files, a Parquet file by its suffix (.parquet, .pq), CSV
    otherwise."""
    if path.is_dir():
        return _dataset_batches
    return _parquet_batches if path.suffix.lower() in (".parquet", ".pq") else _csv_batches
