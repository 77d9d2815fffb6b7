"""Reads logged bandit feedback (CSV, or Parquet with pyarrow) in chunks: checks every value, maps action labels
to indices, and keeps the parsed chunks in a temporary folder, so every later pass reads arrays with memory
bounded by one chunk, whatever the length of the file."""

from __future__ import annotations

import csv
import fnmatch
import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, Sequence

import numpy as np

from banditmap.errors import BanditmapError

Array = np.ndarray

# Defaults accept the Open Bandit Dataset's columns first, then the names of Open Bandit Pipeline's synthetic
# feedback dictionaries (action, reward, pscore, position, context).
DEFAULT_ACTION = ("item_id", "action")
DEFAULT_REWARD = ("click", "reward", "conversion")
DEFAULT_PROPENSITY = ("propensity_score", "pscore", "propensity")
DEFAULT_POSITION = ("position",)
DEFAULT_CONTEXT = ("user_feature_*", "user-item_affinity_*", "context_*")
CHUNK_ROWS = 65_536
MAX_CATEGORIES = 50  # a categorical feature keeps its 49 first-seen values; the rest share one "other" column
MAX_FEATURES = 32  # encoded contexts wider than this are reduced by a seeded random projection
NEAR_ZERO = 0.01  # a propensity under 1% of uniform play (1 / actions) counts as near zero


@dataclass(frozen=True)
class Columns:
    """Column names as the user gave them; None means: look for the defaults."""

    action: str | None = None
    reward: str | None = None
    propensity: str | None = None
    position: str | None = None
    context: tuple[str, ...] | None = None  # names or glob patterns


@dataclass(frozen=True)
class LogInfo:
    """What the first pass learned about a log."""

    path: str
    rows: int
    actions: tuple[str, ...]  # action labels in index order
    counts: tuple[int, ...]  # logged rows per action
    action_col: str
    reward_col: str
    propensity_col: str
    position_col: str | None
    numeric: tuple[str, ...]  # numeric context columns
    categorical: tuple[str, ...]  # categorical context columns (one-hot encoded)
    positions: tuple[str, ...]  # position labels, empty without a position column
    features: int  # width of the encoded context given to learners, intercept included (1 without context)
    projected: bool  # the encoded context was reduced by a random projection
    min_propensity: float
    near_zero: float  # share of rows whose propensity is under NEAR_ZERO / actions
    uniform: bool  # every row has the same propensity: a uniformly random logging policy
    mean_reward: float
    binary: bool  # every reward is 0 or 1

    @property
    def n_actions(self) -> int:
        return len(self.actions)

    @property
    def has_context(self) -> bool:
        return self.features > 1


@dataclass
class Chunk:
    """Rows [start, start + n) of a log, with contexts encoded for learners and reward models."""

    start: int
    actions: Array  # (n,) int64 indices into LogInfo.actions
    rewards: Array  # (n,)
    propensities: Array  # (n,)
    contexts: Array  # (n, d): intercept, standardised numbers, one-hot categories and positions

    def __len__(self) -> int:
        return len(self.actions)


class Labels:
    """First-seen codes for labels met chunk by chunk, reordered (numerically when they are numbers) at the end."""

    def __init__(self, limit: int | None = None) -> None:
        self.codes: dict[str, int] = {}
        self.limit = limit

    def encode(self, values: Array) -> Array:
        uniques, inverse = np.unique(values, return_inverse=True)
        mapped = np.empty(len(uniques), dtype=np.int64)
        for i, label in enumerate(uniques.tolist()):
            key = label_text(label)
            code = self.codes.get(key)
            if code is None:
                if self.limit is not None and len(self.codes) >= self.limit - 1:
                    code = self.limit - 1  # "other"
                else:
                    code = self.codes[key] = len(self.codes)
            mapped[i] = code
        return mapped[inverse.reshape(-1)]

    def order(self) -> tuple[tuple[str, ...], Array]:
        """Labels sorted (as numbers when all are), and the map from first-seen code to sorted index."""
        labels = list(self.codes)
        numeric = all(_is_number(x) for x in labels)
        ranked = sorted(labels, key=float) if numeric else sorted(labels)
        remap = np.empty(max(len(labels), 1), dtype=np.int64)
        for index, label in enumerate(ranked):
            remap[self.codes[label]] = index
        return tuple(ranked), remap


def label_text(value: Any) -> str:
    """A label as text: 3.0 and "3" are the same action."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class LogStore:
    """The parsed chunks of one log on disk, and the encoding that turns them into learner-ready arrays."""

    info: LogInfo
    folder: tempfile.TemporaryDirectory[str]
    n_chunks: int
    action_map: Array
    position_map: Array
    mean: Array
    scale: Array
    categories: tuple[int, ...]  # one-hot width of each categorical column
    projection: Array | None = None
    _closed: bool = field(default=False, repr=False)

    def chunks(self) -> Iterator[Chunk]:
        for i in range(self.n_chunks):
            with np.load(Path(self.folder.name) / f"{i}.npz") as part:
                yield self._encode({k: part[k] for k in part.files})

    def _encode(self, part: Mapping[str, Array]) -> Chunk:
        n = len(part["actions"])
        blocks = [np.ones((n, 1))]
        if part["numeric"].shape[1]:
            blocks.append((part["numeric"] - self.mean) / self.scale)
        for j, width in enumerate(self.categories):
            blocks.append(np.eye(width)[part["categorical"][:, j]])
        if self.info.position_col is not None and len(self.info.positions) > 1:
            blocks.append(np.eye(len(self.info.positions))[self.position_map[part["positions"]]])
        contexts = np.hstack(blocks)
        if self.projection is not None:
            contexts = np.hstack([contexts[:, :1], contexts[:, 1:] @ self.projection])
        return Chunk(int(part["start"]), self.action_map[part["actions"]], part["rewards"], part["propensities"],
                     contexts)

    def close(self) -> None:
        if not self._closed:
            self.folder.cleanup()
            self._closed = True

    def __enter__(self) -> "LogStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_logs(path: Path, columns: Columns = Columns(), n_actions: int | None = None,
              chunk_rows: int = CHUNK_ROWS, seed: int = 0) -> LogStore:
    """Parse and check a whole log once. `n_actions` (from a profile) makes actions integers in [0, n_actions)."""
    if not path.exists():
        raise BanditmapError("no such file", source=str(path))
    if path.is_dir():
        raise BanditmapError("is a folder; expected a CSV or Parquet file of logged decisions", source=str(path))
    reader = _parquet_batches if path.suffix.lower() in (".parquet", ".pq") else _csv_batches
    folder = tempfile.TemporaryDirectory(prefix="banditmap-replay-")
    try:
        return _first_pass(path, reader, columns, n_actions, chunk_rows, folder, seed)
    except BaseException:
        folder.cleanup()
        raise


@dataclass
class _Resolved:
    action: str
    reward: str
    propensity: str
    position: str | None
    context: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [self.action, self.reward, self.propensity] + ([self.position] if self.position else []) + list(
            self.context)


def resolve(header: Sequence[str], columns: Columns, source: str) -> _Resolved:
    """Find the columns to use, by the user's names or the defaults; one clear error for a missing one."""
    present = list(header)

    def one(given: str | None, defaults: tuple[str, ...], option: str, required: bool = True) -> str | None:
        if given is not None:
            if given not in present:
                raise BanditmapError(f"no column {given!r}; the file has: {_listing(present)}", source=source,
                                     field=option)
            return given
        for name in defaults:
            if name in present:
                return name
        if not required:
            return None
        raise BanditmapError(f"no column named {' or '.join(repr(d) for d in defaults)}; the file has: "
                             f"{_listing(present)}; name yours with {option}", source=source, field=option)

    action = one(columns.action, DEFAULT_ACTION, "--action-col")
    reward = one(columns.reward, DEFAULT_REWARD, "--reward-col")
    propensity = one(columns.propensity, DEFAULT_PROPENSITY, "--propensity-col")
    position = one(columns.position, DEFAULT_POSITION, "--position-col", required=False)
    taken = {action, reward, propensity, position}
    patterns = columns.context if columns.context is not None else DEFAULT_CONTEXT
    context: list[str] = []
    for pattern in patterns:
        matched = [c for c in present if fnmatch.fnmatchcase(c, pattern) and c not in taken and c not in context]
        if not matched and columns.context is not None:
            raise BanditmapError(f"no column matches {pattern!r}; the file has: {_listing(present)}", source=source,
                                 field="--context-cols")
        context += matched
    assert action and reward and propensity
    return _Resolved(action, reward, propensity, position, tuple(context))


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# --- readers: each yields (first line number, {column: values}) per chunk ------------------------------------

Batch = tuple[int, dict[str, Array]]


def _csv_batches(path: Path, wanted: Columns, chunk_rows: int, numeric_hint: set[str]
                 ) -> tuple[_Resolved, Iterator[Batch]]:
    handle = open(path, encoding="utf-8", newline="")
    try:
        first = handle.readline()
    except UnicodeDecodeError:
        handle.close()
        raise BanditmapError("not a text table; expected a CSV file with a header row", source=str(path)) from None
    if not first.strip():
        handle.close()
        raise BanditmapError("the file is empty; expected a header row and logged decisions", source=str(path))
    header = [h.strip() for h in next(csv.reader([first]))]
    if len(header) < 3:
        handle.close()
        raise BanditmapError(f"the header has {len(header)} column(s); expected a comma-separated table with at "
                             "least an action, a reward and a propensity column", source=str(path))
    resolved = resolve(header, wanted, str(path))
    index = {name: header.index(name) for name in resolved.names}
    return resolved, _csv_chunks(handle, path, header, index, chunk_rows, numeric_hint)


def _csv_chunks(handle: IO[str], path: Path, header: list[str], index: dict[str, int], chunk_rows: int,
                numeric_hint: set[str]) -> Iterator[Batch]:
    line = 2
    with handle:
        while True:
            try:
                lines = list(itertools.islice(handle, chunk_rows))
            except UnicodeDecodeError:
                raise BanditmapError("not a text table; expected a CSV file", source=str(path), line=line) from None
            if not lines:
                return
            yield line, _parse_lines(lines, path, header, index, line, numeric_hint)
            line += len(lines)


def _parse_lines(lines: list[str], path: Path, header: list[str], index: dict[str, int], line: int,
                 numeric_hint: set[str]) -> dict[str, Array]:
    """Numbers-only chunks go through NumPy's C parser; anything else (or any error) through the csv module,
    which also finds the first bad row for the message."""
    if numeric_hint and set(index) <= numeric_hint and all(ln.strip() for ln in lines):
        try:
            names = list(index)
            table = np.loadtxt(lines, delimiter=",", usecols=[index[n] for n in names], dtype=np.float64, ndmin=2,
                               quotechar='"')
            if table.shape == (len(lines), len(names)):
                return {n: table[:, j] for j, n in enumerate(names)}
        except ValueError:
            pass
    rows = list(csv.reader(lines))
    for offset, row in enumerate(rows):
        if len(row) != len(header):
            raise BanditmapError(f"has {len(row)} fields, the header has {len(header)}; expected a comma-separated "
                                 "table with one decision per line", source=str(path), line=line + offset)
    by_column = list(zip(*rows, strict=True))
    return {name: np.array(by_column[i], dtype=str) for name, i in index.items()}


def _parquet_batches(path: Path, wanted: Columns, chunk_rows: int, numeric_hint: set[str]
                     ) -> tuple[_Resolved, Iterator[Batch]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BanditmapError("reading Parquet needs pyarrow: pip install 'banditmap[parquet]'",
                             source=str(path)) from None
    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise BanditmapError(f"not a Parquet table ({exc}); expected a Parquet or CSV file", source=str(path)) \
            from None
    resolved = resolve(handle.schema_arrow.names, wanted, str(path))

    def batches() -> Iterator[Batch]:
        line = 1
        for batch in handle.iter_batches(batch_size=chunk_rows, columns=resolved.names):
            data = {name: batch.column(name).to_numpy(zero_copy_only=False) for name in resolved.names}
            yield line, {k: (v if v.dtype.kind in "fiub" else v.astype(str)) for k, v in data.items()}
            line += batch.num_rows
    return resolved, batches()


# --- the first pass -------------------------------------------------------------------------------------------

def numbers(values: Array, source: str, column: str, line: int, expected: str = "a number") -> Array:
    """Values as floats; a non-number, NaN or infinity is reported with its row."""
    if values.dtype.kind in "fiub":
        out = values.astype(np.float64)
    else:
        try:
            out = values.astype(np.float64)
        except ValueError:
            for offset, text in enumerate(values.tolist()):
                if not _is_number(text):
                    raise BanditmapError(f"expected {expected}, got {text!r}", source=source, line=line + offset,
                                         field=column) from None
            raise
    bad = ~np.isfinite(out)
    if bad.any():
        offset = int(np.argmax(bad))
        raise BanditmapError(f"expected {expected}, got {float(out[offset])!r}", source=source, line=line + offset,
                             field=column)
    return out


class _Accumulator:
    """Running totals of the first pass."""

    def __init__(self, numeric: int) -> None:
        self.rows = 0
        self.sum = np.zeros(numeric)
        self.sumsq = np.zeros(numeric)
        self.min_propensity = np.inf
        self.max_propensity = -np.inf
        self.reward_sum = 0.0
        self.binary = True
        self.action_counts: dict[int, int] = {}


def _first_pass(path: Path, reader: Any, columns: Columns, n_actions: int | None, chunk_rows: int,
                folder: tempfile.TemporaryDirectory[str], seed: int) -> LogStore:
    source = str(path)
    hint: set[str] = set()  # columns seen to hold only numbers: the CSV reader parses those chunks faster
    resolved, batches = reader(path, columns, chunk_rows, hint)
    actions, positions = Labels(), Labels()
    categorical: list[str] = []
    numeric: list[str] = list(resolved.context)
    category_labels: list[Labels] = []
    acc: _Accumulator | None = None
    n_chunks = 0
    for line, data in batches:
        if acc is None:  # the first chunk decides which context columns are numbers
            numeric = [c for c in resolved.context if _all_numbers(data[c])]
            categorical = [c for c in resolved.context if c not in numeric]
            category_labels = [Labels(MAX_CATEGORIES) for _ in categorical]
            acc = _Accumulator(len(numeric))
            hint.update(n for n in resolved.names if n not in categorical and _all_numbers(data[n]))
        part = _check_chunk(data, resolved, numeric, categorical, source, line, n_actions)
        codes = actions.encode(part["labels"])
        stored = {
            "start": np.array(acc.rows),
            "actions": codes,
            "rewards": part["rewards"],
            "propensities": part["propensities"],
            "positions": positions.encode(data[resolved.position]) if resolved.position else np.zeros(0, np.int64),
            "numeric": part["numeric"],
            "categorical": (np.stack([lab.encode(data[c]) for lab, c in zip(category_labels, categorical, strict=True)], axis=1)
                            if categorical else np.zeros((len(codes), 0), np.int64)),
        }
        np.savez(Path(folder.name) / f"{n_chunks}.npz", **stored)
        n_chunks += 1
        acc.rows += len(codes)
        acc.sum += part["numeric"].sum(axis=0)
        acc.sumsq += (part["numeric"] ** 2).sum(axis=0)
        acc.min_propensity = min(acc.min_propensity, float(part["propensities"].min()))
        acc.max_propensity = max(acc.max_propensity, float(part["propensities"].max()))
        acc.reward_sum += float(part["rewards"].sum())
        acc.binary = acc.binary and bool(np.isin(part["rewards"], (0.0, 1.0)).all())
        for code, count in zip(*np.unique(codes, return_counts=True), strict=True):
            acc.action_counts[int(code)] = acc.action_counts.get(int(code), 0) + int(count)
    if acc is None or acc.rows == 0:
        raise BanditmapError("no logged decisions after the header; expected one row per decision", source=source)
    labels, action_map = _action_order(actions, n_actions)
    counts = np.zeros(len(labels), dtype=np.int64)
    for code, count in acc.action_counts.items():
        counts[action_map[code]] += count
    threshold = NEAR_ZERO / len(labels)
    near_zero = _near_zero_share(folder, n_chunks, threshold) / acc.rows
    position_labels, position_map = positions.order() if resolved.position else ((), np.zeros(1, np.int64))
    mean = acc.sum / acc.rows
    scale = np.sqrt(np.maximum(acc.sumsq / acc.rows - mean ** 2, 0.0))
    scale = np.where(scale > 1e-12, scale, 1.0)
    widths = tuple(len(lab.codes) + (1 if lab.limit and len(lab.codes) >= lab.limit - 1 else 0)
                   for lab in category_labels)
    raw_width = len(numeric) + sum(widths) + (len(position_labels) if len(position_labels) > 1 else 0)
    projection = None
    if 1 + raw_width > MAX_FEATURES:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
        projection = rng.standard_normal((raw_width, MAX_FEATURES - 1)) / np.sqrt(MAX_FEATURES - 1)
    info = LogInfo(
        path=source, rows=acc.rows, actions=labels, counts=tuple(int(c) for c in counts),
        action_col=resolved.action, reward_col=resolved.reward, propensity_col=resolved.propensity,
        position_col=resolved.position, numeric=tuple(numeric), categorical=tuple(categorical),
        positions=position_labels, features=1 + (min(raw_width, MAX_FEATURES - 1)),
        projected=projection is not None, min_propensity=acc.min_propensity, near_zero=near_zero,
        uniform=acc.max_propensity - acc.min_propensity <= 1e-9 * acc.max_propensity,
        mean_reward=acc.reward_sum / acc.rows, binary=acc.binary)
    return LogStore(info, folder, n_chunks, action_map, position_map, mean, scale, widths, projection)


def _all_numbers(values: Array) -> bool:
    if values.dtype.kind in "fiub":
        return True
    try:
        values.astype(np.float64)
    except ValueError:
        return False
    return True


def _check_chunk(data: Mapping[str, Array], resolved: _Resolved, numeric: list[str], categorical: list[str],
                 source: str, line: int, n_actions: int | None) -> dict[str, Array]:
    rewards = numbers(data[resolved.reward], source, resolved.reward, line)
    propensities = numbers(data[resolved.propensity], source, resolved.propensity, line,
                           "a propensity in (0, 1]")
    bad = (propensities <= 0) | (propensities > 1)
    if bad.any():
        offset = int(np.argmax(bad))
        raise BanditmapError(f"expected a propensity in (0, 1], got {float(propensities[offset])!r}", source=source,
                             line=line + offset, field=resolved.propensity)
    raw_actions = data[resolved.action]
    labels = np.array([label_text(v) for v in raw_actions.tolist()]) if raw_actions.dtype.kind == "f" \
        else raw_actions.astype(str)
    if n_actions is not None:
        _check_action_set(labels, n_actions, source, resolved.action, line)
    missing = np.char.str_len(labels) == 0
    if missing.any():
        offset = int(np.argmax(missing))
        raise BanditmapError("expected an action label, got an empty field", source=source, line=line + offset,
                             field=resolved.action)
    table = (np.stack([numbers(data[c], source, c, line) for c in numeric], axis=1) if numeric
             else np.zeros((len(rewards), 0)))
    for c in categorical:
        empty = np.char.str_len(data[c].astype(str)) == 0
        if empty.any():
            offset = int(np.argmax(empty))
            raise BanditmapError("expected a value, got an empty field", source=source, line=line + offset, field=c)
    return {"rewards": rewards, "propensities": propensities, "labels": labels, "numeric": table}


def _check_action_set(labels: Array, n_actions: int, source: str, column: str, line: int) -> None:
    uniques = np.unique(labels).tolist()
    if all(u.isdigit() and int(u) < n_actions for u in uniques):
        return
    for offset, label in enumerate(labels.tolist()):
        if not (label.isdigit() and int(label) < n_actions):
            raise BanditmapError(f"expected an action id from 0 to {n_actions - 1} (the profile's n_actions), "
                                 f"got {label!r}", source=source, line=line + offset, field=column)


def _action_order(actions: Labels, n_actions: int | None) -> tuple[tuple[str, ...], Array]:
    if n_actions is None:
        return actions.order()
    remap = np.empty(max(len(actions.codes), 1), dtype=np.int64)
    for label, code in actions.codes.items():
        remap[code] = int(label)
    return tuple(str(i) for i in range(n_actions)), remap


def _near_zero_share(folder: tempfile.TemporaryDirectory[str], n_chunks: int, threshold: float) -> int:
    count = 0
    for i in range(n_chunks):
        with np.load(Path(folder.name) / f"{i}.npz") as part:
            count += int((part["propensities"] < threshold).sum())
    return count
