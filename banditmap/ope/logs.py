"""Reads logged bandit feedback (CSV, or Parquet with pyarrow: a file or a dataset folder) in chunks: checks every value, maps action labels
to indices, and keeps the parsed chunks in a temporary folder, so every later pass reads arrays with memory
bounded by one chunk, whatever the length of the file. The file formats themselves (columns, CSV lines and
quoting, Parquet types) are read by banditmap.ope.logfiles.

A bad value is refused with one BanditmapError naming the file, the place and the column: in a CSV file the
physical line a row starts on (the header is line 1; a quoted field may span lines), in a Parquet table the row,
counting from 1. Limits, and why:
- rewards within +-MAX_REWARD: larger ones make sums over a long log and their bootstrap lose all precision;
- propensities of at least MIN_PROPENSITY: a smaller one gives an importance weight over 1 / MIN_PROPENSITY, which
  lets one row outweigh any log and leaves every estimate meaningless;
- numeric context values within +-MAX_CONTEXT: standardising squares them, and larger squares overflow;
- used values of at most MAX_FIELD characters and lines of at most MAX_LINE characters, so a corrupt file cannot
  exhaust memory;
- UTF-8 text without NUL characters; labels (actions, positions, categories) without control characters.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from banditmap.errors import BanditmapError, shown
from banditmap.ope.logfiles import CONTROL, Place, Reader, Resolved, reader_for
from banditmap.ope.slatelogs import SlateFacts, SlateReader
# Re-exported: callers name the columns and the reader's limits through this module.
from banditmap.ope.logfiles import MAX_FIELD as MAX_FIELD, MAX_LINE as MAX_LINE, Columns as Columns

Array = np.ndarray

CHUNK_ROWS = 65_536
MAX_CATEGORIES = 50  # a categorical feature keeps its 49 first-seen values; the rest share one "other" column
MAX_FEATURES = 32  # encoded contexts wider than this are reduced by a seeded random projection
NEAR_ZERO = 0.01  # a propensity under 1% of uniform play (1 / actions) counts as near zero
MAX_REWARD = 1e12
MIN_PROPENSITY = 1e-12
MAX_CONTEXT = 1e100


@dataclass(frozen=True)
class LogInfo:
    """What the first pass learned about a log."""

    path: str
    rows: int
    actions: tuple[str, ...]  # action labels in index order
    counts: tuple[int, ...]  # logged rows per action
    action_col: str
    reward_col: str
    propensity_col: str | None  # None when the log has no propensity column
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
    estimated: bool = False  # propensities estimated by a cross-fitted multinomial logistic model, not logged
    thin_share: float = 0.0  # with estimated propensities: share of rows where some action's is under NEAR_ZERO / K
    slate_col: str | None = None  # slate logs: the slate id column (one row per slot)
    slate: SlateFacts | None = None  # slate logs: slots per slate, slates, how the slots were filled

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
    positions: Array | None = None  # (n,) int64 indices into LogInfo.positions, when the log has two or more
    slates: Array | None = None  # (n,) int64 slate numbers, in log order, for slate logs

    def __len__(self) -> int:
        return len(self.actions)



class Labels:
    """First-seen codes for labels met chunk by chunk, reordered (numerically when they are numbers) at the end.
    Each new label is checked once, when it is first met: not empty, no control characters, and for actions and
    positions (`missing_words`) not a word for a missing value."""

    def __init__(self, what: str, limit: int | None = None, missing_words: bool = False) -> None:
        self.codes: dict[str, int] = {}
        self.what, self.limit, self.missing_words = what, limit, missing_words

    def encode(self, values: Array, place: Place, column: str) -> Array:
        uniques, inverse = np.unique(values, return_inverse=True)
        inverse = inverse.reshape(-1)
        mapped = np.empty(len(uniques), dtype=np.int64)
        for i, label in enumerate(uniques.tolist()):
            key = label_text(label)
            code = self.codes.get(key)
            if code is None:
                problem = self._problem(key)
                if problem:
                    raise place.refuse(int(np.argmax(inverse == i)), f"expected {self.what}, got {problem}", column)
                if self.limit is not None and len(self.codes) >= self.limit - 1:
                    code = self.limit - 1  # "other"
                else:
                    code = self.codes[key] = len(self.codes)
            mapped[i] = code
        return mapped[inverse]

    def _problem(self, key: str) -> str:
        if not key:
            return "an empty field"
        if CONTROL.search(key):
            return f"{shown(key)}, which holds control characters"
        if self.missing_words and _is_number(key) and not math.isfinite(float(key)):
            return f"{shown(key)}, a missing value"
        return ""

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
    """A plain number: ASCII, as Python reads it, without the digit-group underscores Python also accepts."""
    if not text.isascii() or "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ChunkFiles:
    """The parsed chunks of one log as any process reads them: the folder they are kept in (on a file system this
    process shares), their number and the encoding that turns them into learner-ready arrays. Small and picklable,
    so a task sent to a worker carries it instead of the rows; the worker reads one chunk at a time."""

    info: LogInfo
    folder: str
    n_chunks: int
    action_map: Array
    position_map: Array
    mean: Array
    scale: Array
    categories: tuple[int, ...]  # one-hot width of each categorical column
    projection: Array | None = None

    def chunks(self) -> Iterator[Chunk]:
        if not Path(self.folder).is_dir():
            raise BanditmapError(f"the parsed log is kept in {self.folder} on the machine that runs banditmap, and "
                                 "this worker cannot read it: run the workers there, or set TMPDIR to a folder they "
                                 "share", source=self.info.path, field="--scheduler")
        for i in range(self.n_chunks):
            with np.load(Path(self.folder) / f"{i}.npz") as part:
                yield self.encode({k: part[k] for k in part.files})

    def encode(self, part: Mapping[str, Array]) -> Chunk:
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
        positions = (self.position_map[part["positions"]]
                     if self.info.position_col is not None and len(self.info.positions) > 1 else None)
        return Chunk(int(part["start"]), self.action_map[part["actions"]], part["rewards"], part["propensities"],
                     contexts, positions, part["slates"] if "slates" in part else None)


@dataclass
class LogStore:
    """The parsed chunks of one log on disk, in a folder removed on close, and what reads them (`files`: the
    encoding that turns them into learner-ready arrays, small enough to hand to a worker process)."""

    files: ChunkFiles
    folder: tempfile.TemporaryDirectory[str]
    _closed: bool = field(default=False, repr=False)

    @property
    def info(self) -> LogInfo:
        return self.files.info

    @property
    def n_chunks(self) -> int:
        return self.files.n_chunks

    def chunks(self) -> Iterator[Chunk]:
        return self.files.chunks()

    def close(self) -> None:
        if not self._closed:
            self.folder.cleanup()
            self._closed = True

    def __enter__(self) -> "LogStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_logs(path: Path, columns: Columns = Columns(), n_actions: int | None = None,
              chunk_rows: int = CHUNK_ROWS, seed: int = 0, estimate_propensities: bool = False) -> LogStore:
    """Parse and check a whole log once. `n_actions` (from a profile) makes actions integers in [0, n_actions).
    Without a propensity column, or with `estimate_propensities`, the propensities are estimated
    (banditmap.ope.propensity) and the logged ones, if any, are not used."""
    if not path.exists():
        raise BanditmapError("no such file", source=str(path))
    if not path.is_file() and not path.is_dir():
        raise BanditmapError("is not a regular file; expected a CSV or Parquet file of logged decisions",
                             source=str(path))
    reader = reader_for(path)
    folder = tempfile.TemporaryDirectory(prefix="banditmap-replay-")
    try:
        store = _first_pass(path, reader, columns, n_actions, chunk_rows, folder, seed, estimate_propensities)
        if store.info.propensity_col is None or estimate_propensities:
            store = estimated(store)
        return store
    except OSError as exc:
        folder.cleanup()
        raise BanditmapError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    except BaseException:
        folder.cleanup()
        raise


# --- the first pass -------------------------------------------------------------------------------------------

def numbers(values: Array, place: Place, column: str, what: str = "a number", bound: float = math.inf,
            why: str = "") -> Array:
    """Values as floats; a non-number, NaN, infinity or a value beyond +-bound (refused for `why`) is reported with
    its row."""
    out, bad = _floats(values)
    if bad >= 0:
        text = str(values[bad]).strip()
        raise place.refuse(bad, f"expected {what}, got {shown(text) if text else 'an empty field'}", column)
    outside = ~(np.abs(out) <= bound)  # NaN too
    if outside.any():
        offset = int(np.argmax(outside))
        value = float(out[offset])
        if math.isfinite(value) and math.isfinite(bound):
            raise place.refuse(offset, f"expected {what} between {-bound:g} and {bound:g}, got {value!r}: {why}",
                               column)
        raise place.refuse(offset, f"expected {what}, got {value!r}", column)
    return out


def _floats(values: Array) -> tuple[Array, int]:
    """Values as floats, and the offset of the first that is not a plain number (-1 when all are)."""
    if values.dtype.kind in "fiub":
        return values.astype(np.float64), -1
    texts = np.ascontiguousarray(values.astype(str))
    if len(texts):  # non-ASCII digits and digit-group underscores, which NumPy would read, are not plain numbers
        codes = texts.view(np.uint32).reshape(len(texts), -1)
        strange = ((codes > 127) | (codes == ord("_"))).any(axis=1)
        if strange.any():
            return np.zeros(0), int(np.argmax(strange))
    try:
        return texts.astype(np.float64), -1
    except ValueError:
        return np.zeros(0), next((i for i, text in enumerate(texts.tolist()) if not _is_number(text)), 0)


class _Accumulator:
    """Running totals of the first pass; context means and spreads are combined chunk by chunk (Chan, Golub and
    LeVeque 1983), which neither cancels nor overflows."""

    def __init__(self, numeric: int) -> None:
        self.rows = 0
        self.mean = np.zeros(numeric)
        self.m2 = np.zeros(numeric)  # sum of squared deviations from the mean
        self.min_propensity = np.inf
        self.max_propensity = -np.inf
        self.reward_sum = 0.0
        self.binary = True
        self.action_counts: dict[int, int] = {}

    def add(self, part: Mapping[str, Array], codes: Array) -> None:
        n = len(codes)
        table = part["numeric"]
        if table.shape[1]:
            mean = table.mean(axis=0)
            delta = mean - self.mean
            self.mean = self.mean + delta * (n / (self.rows + n))
            self.m2 = self.m2 + ((table - mean) ** 2).sum(axis=0) + delta ** 2 * (self.rows * n / (self.rows + n))
        self.rows += n
        self.min_propensity = min(self.min_propensity, float(part["propensities"].min()))
        self.max_propensity = max(self.max_propensity, float(part["propensities"].max()))
        self.reward_sum += float(part["rewards"].sum())
        self.binary = self.binary and bool(np.isin(part["rewards"], (0.0, 1.0)).all())
        for code, count in zip(*np.unique(codes, return_counts=True), strict=True):
            self.action_counts[int(code)] = self.action_counts.get(int(code), 0) + int(count)

    @property
    def scale(self) -> Array:
        scale = np.sqrt(self.m2 / self.rows)
        return np.where(scale > 1e-12, scale, 1.0)


def _first_pass(path: Path, reader: Reader, columns: Columns, n_actions: int | None, chunk_rows: int,
                folder: tempfile.TemporaryDirectory[str], seed: int, set_aside: bool = False) -> LogStore:
    source = str(path)
    hint: set[str] = set()  # columns seen to hold only numbers: the CSV reader parses those chunks faster
    resolved, batches = reader(path, columns, chunk_rows, hint)
    # the first chunk is read as if the reward, propensity and context columns held numbers (a chunk where one
    # does not is read as text, as before), and decides which context columns do
    numbers = [resolved.reward, *([resolved.propensity] if resolved.propensity else [])]
    hint.update([*numbers, *resolved.context])
    logged_propensity = resolved.propensity
    if set_aside:  # the logged propensities are doubted: not read, so not checked either
        resolved.propensity = None
    actions = Labels("an action label", missing_words=True)
    positions = Labels("a position", missing_words=True)
    categorical: list[str] = []
    numeric: list[str] = list(resolved.context)
    category_labels: list[Labels] = []
    acc: _Accumulator | None = None
    n_chunks = 0
    slates = _slate_reader(source, resolved)
    try:
        for place, data in batches:
            if acc is None:  # the first chunk decides which context columns are numbers
                numeric = [c for c in resolved.context if _floats(data[c])[1] < 0]
                categorical = [c for c in resolved.context if c not in numeric]
                category_labels = [Labels("a value", MAX_CATEGORIES) for _ in categorical]
                acc = _Accumulator(len(numeric))
                hint.clear()
                hint.update([*numbers, *numeric])
            part = _check_chunk(data, resolved, numeric, place, n_actions)
            codes = actions.encode(part["labels"], place, resolved.action)
            stored = {
                "start": np.array(acc.rows),
                "actions": codes,
                "rewards": part["rewards"],
                "propensities": part["propensities"],
                "positions": (positions.encode(data[resolved.position], place, resolved.position) if resolved.position
                              else np.zeros(0, np.int64)),
                "numeric": part["numeric"],
                "categorical": (np.stack([lab.encode(data[c], place, c)
                                          for lab, c in zip(category_labels, categorical, strict=True)], axis=1)
                                if categorical else np.zeros((len(codes), 0), np.int64)),
            }
            if slates is not None and resolved.slate is not None:
                stored["slates"] = slates.add(place, data[resolved.slate], stored["positions"], codes,
                                              part["propensities"])
            _save(Path(folder.name) / f"{n_chunks}.npz", stored)
            n_chunks += 1
            acc.add(part, codes)
    finally:  # a refused chunk leaves the reader's file open until the generator is collected: close it now
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    if acc is None or acc.rows == 0:
        raise BanditmapError("no logged decisions after the header; expected one row per decision", source=source)
    labels, action_map = _action_order(actions, n_actions)
    counts = np.zeros(len(labels), dtype=np.int64)
    for code, count in acc.action_counts.items():
        counts[action_map[code]] += count
    threshold = NEAR_ZERO / len(labels)
    near_zero = _near_zero_share(folder, n_chunks, threshold) / acc.rows
    position_labels, position_map = positions.order() if resolved.position else ((), np.zeros(1, np.int64))
    widths = tuple(len(lab.codes) + (1 if lab.limit and len(lab.codes) >= lab.limit - 1 else 0)
                   for lab in category_labels)
    raw_width = len(numeric) + sum(widths) + (len(position_labels) if len(position_labels) > 1 else 0)
    projection = None
    if 1 + raw_width > MAX_FEATURES:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
        projection = rng.standard_normal((raw_width, MAX_FEATURES - 1)) / np.sqrt(MAX_FEATURES - 1)
    info = LogInfo(
        path=source, rows=acc.rows, actions=labels, counts=tuple(int(c) for c in counts),
        action_col=resolved.action, reward_col=resolved.reward, propensity_col=logged_propensity,
        position_col=resolved.position, numeric=tuple(numeric), categorical=tuple(categorical),
        positions=position_labels, features=1 + (min(raw_width, MAX_FEATURES - 1)),
        projected=projection is not None, min_propensity=acc.min_propensity, near_zero=near_zero,
        uniform=acc.max_propensity - acc.min_propensity <= 1e-9 * acc.max_propensity,
        mean_reward=acc.reward_sum / acc.rows, binary=acc.binary)
    if slates is not None:
        info = replace(info, slate_col=resolved.slate, slate=slates.finish(
            len(position_labels), len(labels), None if resolved.propensity is None else acc.min_propensity,
            info.uniform))
    return LogStore(ChunkFiles(info, folder.name, n_chunks, action_map, position_map, acc.mean, acc.scale, widths,
                               projection), folder)


def _slate_reader(source: str, resolved: Resolved) -> SlateReader | None:
    """The slate id column's reader for slate logs, which need a position column too."""
    if resolved.slate is None:
        return None
    if resolved.position is None:
        raise BanditmapError(f"a slate log (slate id column {shown(resolved.slate)}) needs a position column: one row "
                             "per slot; name it with --position-col", source=source, field="--slate-col")
    return SlateReader(source, resolved.slate, resolved.position, resolved.propensity)


def estimated(store: LogStore) -> LogStore:
    """The store with its propensities replaced by a cross-fitted multinomial logistic model's (each chunk file
    rewritten), and its LogInfo's propensity figures recomputed."""
    from banditmap.ope import propensity
    info = store.info
    wanted = [propensity.sample_rows(info.rows, f) for f in range(propensity.FOLDS)]
    picked: list[list[tuple[Array, Array]]] = [[] for _ in wanted]
    for chunk in store.chunks():
        rows = np.arange(chunk.start, chunk.start + len(chunk))
        for f, sample in enumerate(wanted):
            keep = np.isin(rows, sample, assume_unique=True)
            picked[f].append((chunk.contexts[keep], chunk.actions[keep]))
    model = propensity.fit([(np.concatenate([x for x, _ in p]), np.concatenate([a for _, a in p])) for p in picked],
                           info.n_actions)
    low, high, near, thin = np.inf, -np.inf, 0, 0
    threshold = NEAR_ZERO / info.n_actions
    for i in range(store.n_chunks):
        file = Path(store.folder.name) / f"{i}.npz"
        with np.load(file) as saved:
            part = {k: saved[k] for k in saved.files}
        chunk = store.files.encode(part)
        rows = np.arange(chunk.start, chunk.start + len(chunk))
        probs = model.probabilities(rows, chunk.contexts)
        part["propensities"] = np.maximum(probs[np.arange(len(rows)), chunk.actions], propensity.FLOOR)
        thin += int((probs.min(axis=1) < threshold).sum())
        _save(file, part)
        low, high = min(low, float(part["propensities"].min())), max(high, float(part["propensities"].max()))
        near += int((part["propensities"] < threshold).sum())
    store.files = replace(store.files, info=replace(info, min_propensity=low, near_zero=near / info.rows,
                                                    estimated=True, uniform=high - low <= 1e-9 * high,
                                                    thin_share=thin / info.rows))
    return store


def _save(path: Path, arrays: Mapping[str, Array]) -> None:
    try:
        named: dict[str, Any] = dict(arrays)  # numpy's stub would check an array named allow_pickle as a bool
        np.savez(path, **named)
    except OSError as exc:
        raise BanditmapError(f"cannot keep the parsed log in the temporary folder ({exc.strerror or exc}); set "
                             "TMPDIR to a folder with room", source=str(path.parent)) from None


def _check_chunk(data: Mapping[str, Array], resolved: Resolved, numeric: list[str], place: Place,
                 n_actions: int | None) -> dict[str, Array]:
    rewards = numbers(data[resolved.reward], place, resolved.reward, bound=MAX_REWARD,
                      why="sums of larger rewards over a long log lose all precision; rescale them")
    if resolved.propensity is None:  # estimated after the first pass
        return {"rewards": rewards, "propensities": np.ones(len(rewards)),
                "labels": _labels(data, resolved, place, n_actions),
                "numeric": _numeric(data, numeric, place, len(rewards))}
    propensities = numbers(data[resolved.propensity], place, resolved.propensity, "a propensity in (0, 1]")
    bad = (propensities <= 0) | (propensities > 1)
    if bad.any():
        offset = int(np.argmax(bad))
        raise place.refuse(offset, f"expected a propensity in (0, 1], got {float(propensities[offset])!r}",
                           resolved.propensity)
    tiny = propensities < MIN_PROPENSITY
    if tiny.any():
        offset = int(np.argmax(tiny))
        raise place.refuse(offset, f"expected a propensity of at least {MIN_PROPENSITY:g}, got "
                                   f"{float(propensities[offset])!r}: its importance weight would let one row "
                                   "outweigh the whole log", resolved.propensity)
    return {"rewards": rewards, "propensities": propensities, "labels": _labels(data, resolved, place, n_actions),
            "numeric": _numeric(data, numeric, place, len(rewards))}


def _labels(data: Mapping[str, Array], resolved: Resolved, place: Place, n_actions: int | None) -> Array:
    labels = _action_labels(data[resolved.action], place, resolved.action)
    if n_actions is not None:
        _check_action_set(labels, n_actions, place, resolved.action)
    return labels


def _numeric(data: Mapping[str, Array], numeric: list[str], place: Place, n: int) -> Array:
    if not numeric:
        return np.zeros((n, 0))
    return np.stack([numbers(data[c], place, c, bound=MAX_CONTEXT, why="standardising would overflow; rescale the "
                             "column") for c in numeric], axis=1)


def _action_labels(values: Array, place: Place, column: str) -> Array:
    """Action labels as text: a float 3.0 is the action "3"; NaN or infinity is a missing action, refused."""
    if values.dtype.kind != "f":
        return np.char.strip(values.astype(str))
    finite = np.isfinite(values)
    if not finite.all():
        offset = int(np.argmax(~finite))
        raise place.refuse(offset, f"expected an action label, got {float(values[offset])!r}, a missing value",
                           column)
    return np.array([label_text(v) for v in values.tolist()])


def _check_action_set(labels: Array, n_actions: int, place: Place, column: str) -> None:
    def known(label: str) -> bool:
        return label.isascii() and label.isdigit() and int(label) < n_actions

    if all(known(u) for u in np.unique(labels).tolist()):
        return
    for offset, label in enumerate(labels.tolist()):
        if not known(label):
            raise place.refuse(offset, f"expected an action id from 0 to {n_actions - 1} (the profile's "
                                       f"n_actions), got {shown(label)}", column)


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
