"""Lints a log before any estimate (`replay --check`): can it answer "is a policy better than the logging policy by
a given effect?" at all?

Types and ranges are checked by the reader (a bad value is one BanditmapError). Then, over the parsed chunks:
- duplicate decision ids (a log joined or exported twice counts some decisions twice);
- whether the propensities are those of the policy that chose the logged actions: for every action a played with
  a positive probability in every context, E[1{A = a} / p] = 1 (the importance weight of "always play a" has
  mean one), so a mean that differs from one by many standard errors means propensities that do not match the
  actions' frequencies (another policy's, per-slate instead of per-position, or rounded);
- per-action support: actions never logged, or logged with no reward event;
- power: the rows a two-sided 5% test with 80% power needs to tell the logging policy's reward from one `effect`
  higher (relative), set against the rows this log gives a replayed learner (about rows / actions, or rows x
  p_min under rejection sampling) and a final policy's held-out IPS (its effective sample size).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import numpy as np

from banditmap.errors import shown
from banditmap.ope.estimators import Z80, Z95, rows_needed
from banditmap.ope.logfiles import Columns, Place, reader_for, resolve
from banditmap.ope.logs import CHUNK_ROWS, LogInfo, LogStore, label_text, read_logs

Array = np.ndarray
DEFAULT_IDS = ("decision_id", "id", "")  # the last: the unnamed index column pandas writes (as in the dataset's CSV)
CONSISTENCY_Z = 5.0  # standard errors by which an action's mean importance weight may stray from one
CONSISTENCY_SLACK = 0.1  # ... and by at least this much, so huge logs do not flag rounding
MIN_EVENTS = 5  # reward events an action needs before its reward can be estimated at all
OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Finding:
    status: str  # OK, WARN or FAIL (FAIL: the log cannot answer)
    topic: str
    text: str


@dataclass(frozen=True)
class Power:
    """Rows needed to tell the logging policy's reward from one `effect` (relative) higher, and what the log gives."""

    effect: float
    rate: float  # the logging policy's mean reward
    target: float  # rate x (1 + effect)
    needed: float  # effective rows per group for a two-sided 5% test with 80% power
    replay_rows: float  # rows a replayed learner is evaluated on (learning rows x keep rate)
    final_rows: float  # effective sample size of a final policy's weights on the held-out rows
    log_rows_needed: float  # log length at which the better of the two reaches `needed`

    @property
    def enough(self) -> bool:
        return max(self.replay_rows, self.final_rows) >= self.needed


@dataclass(frozen=True)
class LogCheck:
    info: LogInfo
    findings: tuple[Finding, ...]
    weight_means: tuple[float, ...]  # per action: mean of 1{A = a} / p over the log (1 when consistent)
    weight_errors: tuple[float, ...]  # their standard errors
    events: tuple[float, ...]  # per action: sum of rewards (reward events for clicks)
    power: Power
    id_col: str | None
    duplicates: int

    @property
    def answerable(self) -> bool:
        return not any(f.status == FAIL for f in self.findings)


def check_file(path: Path, columns: Columns = Columns(), n_actions: int | None = None, effect: float = 0.1,
               holdout: float = 0.5, id_col: str | None = None, chunk_rows: int = CHUNK_ROWS,
               estimate: bool = False) -> LogCheck:
    """Read and lint a log; a malformed one raises BanditmapError (file:line: field: expected). Without a
    propensity column, or with `estimate`, the propensities are estimated and said to be."""
    with read_logs(path, columns, n_actions, chunk_rows, estimate_propensities=estimate) as store:
        ids, found_id = _ids(path, columns, id_col, chunk_rows)
        return check_store(store, effect, holdout, ids, found_id)


def check_store(store: LogStore, effect: float, holdout: float = 0.5,
                ids: tuple[Array, Array] | None = None, id_col: str | None = None) -> LogCheck:
    """The lint of a parsed log; `ids` are its decision ids and the line (or row) of each."""
    info = store.info
    K = info.n_actions
    weight, weight_sq, events = np.zeros(K), np.zeros(K), np.zeros(K)
    squares, inverse_sq = 0.0, 0.0
    for chunk in store.chunks():
        inv = 1.0 / chunk.propensities
        weight += np.bincount(chunk.actions, inv, K)
        weight_sq += np.bincount(chunk.actions, inv ** 2, K)
        events += np.bincount(chunk.actions, chunk.rewards, K)
        squares += float((chunk.rewards ** 2).sum())
        inverse_sq += float((inv ** 2).sum())
    n = info.rows
    means = weight / n
    errors = np.sqrt(np.maximum(weight_sq / n - means ** 2, 0.0) / n)
    variance = max(squares / n - info.mean_reward ** 2, 0.0)
    power = _power(info, effect, holdout, variance, inverse_sq / n)
    duplicates, first = _duplicates(ids)
    findings = [_columns(info), _id_finding(id_col, duplicates, first, info.path), _reward(info, variance),
                *_propensities(info, means, errors), *_support(info, events), _power_finding(info, power)]
    return LogCheck(info, tuple(findings), tuple(means.tolist()), tuple(errors.tolist()), tuple(events.tolist()),
                    power, id_col, duplicates)


# --- the findings ----------------------------------------------------------------------------------------------

def _columns(info: LogInfo) -> Finding:
    context = (f"{len(info.numeric)} numeric and {len(info.categorical)} categorical context columns "
               f"({info.features - 1} features{', randomly projected' if info.projected else ''})"
               if info.has_context else "no context columns")
    position = f", position {shown(info.position_col)} ({len(info.positions)} positions)" if info.position_col else ""
    return Finding(OK, "columns", f"{info.rows:,} rows: action {shown(info.action_col)} ({info.n_actions} actions), "
                                  f"reward {shown(info.reward_col)} ({'binary' if info.binary else 'continuous'}), "
                                  f"propensity {shown(info.propensity_col) if info.propensity_col else 'none'}"
                                  f"{position}; {context}")


def _id_finding(id_col: str | None, duplicates: int, first: tuple[int, int] | None, source: str) -> Finding:
    if id_col is None:
        return Finding(OK, "decision ids", "no decision id column (--id-col): duplicates not checked")
    column = shown(id_col) if id_col else "the unnamed index column"
    if not duplicates:
        return Finding(OK, "decision ids", f"every decision id in {column} is unique")
    assert first is not None
    repeat = _count(duplicates, "row repeats", "rows repeat")
    return Finding(FAIL, "decision ids", f"{repeat} a decision id of {column}, first at "
                                         f"{_at(source, first[1])} (already at {_at(source, first[0])}): those "
                                         "decisions would count twice; drop the repeats")


def _at(source: str, number: int) -> str:
    """Where a row is: the line of a CSV file, the row of a Parquet table."""
    if Path(source).is_dir():
        return f"row {number} of the dataset"
    return f"row {number}" if source.lower().endswith((".parquet", ".pq")) else f"{source}:{number}"


def _reward(info: LogInfo, variance: float) -> Finding:
    if variance <= 0:
        return Finding(FAIL, "reward", f"every reward is {info.mean_reward:g}: no policy can be told from another")
    what = f"click rate {info.mean_reward:.4g}" if info.binary else \
        f"mean {info.mean_reward:.4g}, standard deviation {np.sqrt(variance):.4g}"
    return Finding(OK, "reward", what)


def _propensities(info: LogInfo, means: Array, errors: Array) -> list[Finding]:
    out = []
    logged = np.array(info.counts) > 0
    z = np.where(errors > 0, (means - 1) / np.where(errors > 0, errors, 1), 0.0)
    off = logged & (np.abs(z) > CONSISTENCY_Z) & (np.abs(means - 1) > CONSISTENCY_SLACK)
    high, low = off & (means > 1), off & (means < 1)
    if high.any():
        a = int(np.argmax(np.where(high, means, -np.inf)))
        out.append(Finding(FAIL, "propensities", f"they do not match the logged actions' frequencies: action "
                                                 f"{info.actions[a]} was logged {means[a]:.2f} times as often as its "
                                                 f"propensities say (mean of 1{{A = a}} / p {means[a]:.3f} ± "
                                                 f"{errors[a]:.3f}, 1 when they match) on {int(high.sum())} of "
                                                 f"{int(logged.sum())} actions; are they another policy's, or per "
                                                 "slate instead of per position? Fix them, or drop the column to "
                                                 "have them estimated (--estimate-propensities)"))
    if low.any():
        a = int(np.argmin(np.where(low, means, np.inf)))
        actions = _count(int(low.sum()), "action is", "actions are")
        out.append(Finding(WARN, "propensities", f"{actions} logged less often than their "
                                                 f"propensities say (action {info.actions[a]}: mean of 1{{A = a}} / p "
                                                 f"{means[a]:.3f} ± {errors[a]:.3f}): either the propensities are too "
                                                 "large, or the logging policy never plays them in some contexts (no "
                                                 "support there)"))
    keep = 1.0 / info.n_actions if info.uniform else info.min_propensity
    if info.estimated:
        out.insert(0, Finding(WARN, "propensities", "ESTIMATED, NOT LOGGED: a cross-fitted multinomial logistic model "
                                                    "of the action given the context; their consistency with the "
                                                    "actions' frequencies holds by construction and proves nothing"))
    if not out:
        out.append(Finding(OK, "propensities", f"consistent with the logged actions' frequencies on every action "
                                               f"(mean of 1{{A = a}} / p within {CONSISTENCY_Z:g} standard errors of "
                                               "1)"))
    if info.near_zero > 0:
        out.append(Finding(WARN, "propensities", f"{info.near_zero:.2%} of rows have a propensity under 1% of uniform "
                                                 f"play (smallest {info.min_propensity:.3g}): rejection-sampling "
                                                 f"replay would keep {keep:.3g} of matching rows; importance-weighted "
                                                 "replay (clipped) uses them"))
    return out


def _support(info: LogInfo, events: Array) -> list[Finding]:
    counts = np.array(info.counts)
    never = [info.actions[a] for a in np.flatnonzero(counts == 0)]
    out = []
    if len(never) >= info.n_actions - 1:
        out.append(Finding(FAIL, "support", f"only {info.n_actions - len(never)} action logged: there is nothing to "
                                            "compare"))
    elif never:
        out.append(Finding(WARN, "support", f"{len(never)} of {info.n_actions} actions never logged "
                                            f"({_few(never)}): no policy that plays them can be evaluated"))
    if info.binary:
        if events.sum() == 0:
            out.append(Finding(FAIL, "support", "no reward event in the whole log: every policy scores 0"))
        rare = [info.actions[a] for a in np.flatnonzero((counts > 0) & (events < MIN_EVENTS))]
        if rare and events.sum() > 0:
            logged = _count(len(rare), "logged action has", "logged actions have")
            out.append(Finding(WARN, "support", f"{logged} fewer than {MIN_EVENTS} reward "
                                                f"events ({_few(rare)}): their rewards are barely estimable"))
    if not out:
        out.append(Finding(OK, "support", f"every action logged, {counts.min():,} to {counts.max():,} rows each"))
    return out


def _power(info: LogInfo, effect: float, holdout: float, variance: float, inverse_sq: float) -> Power:
    rate = info.mean_reward
    target = rate * (1 + effect)
    if info.binary:
        needed = rows_needed(rate, min(target, 1.0)) if 0 < rate < 1 else float("inf")
    else:
        delta = abs(effect * rate) if rate else effect * np.sqrt(variance)
        needed = 2 * (Z95 + Z80) ** 2 * variance / delta ** 2 if delta > 0 else float("inf")
    keep = 1.0 / info.n_actions if info.uniform else info.min_propensity
    share = info.n_actions / inverse_sq  # ESS per row of "always play one action" (1 / K under uniform logging)
    learning = round(info.rows * (1 - holdout))
    replay_rows, final_rows = learning * keep, (info.rows - learning) * share
    per_row = max((1 - holdout) * keep, holdout * share)
    return Power(effect, rate, target, needed, replay_rows, final_rows, needed / per_row)


def _power_finding(info: LogInfo, power: Power) -> Finding:
    if not np.isfinite(power.needed):
        return Finding(FAIL, "power", f"no log length tells a reward of {power.rate:.4g} from {power.target:.4g}")
    text = (f"telling the logging policy's {power.rate:.4g} from {power.target:.4g} ({power.effect:+.0%}) at 95% "
            f"confidence with 80% power needs about {power.needed:,.0f} effective rows per policy; this log gives a "
            f"replayed learner about {power.replay_rows:,.0f} and a final policy's held-out IPS about "
            f"{power.final_rows:,.0f}")
    if power.enough:
        return Finding(OK, "power", text)
    return Finding(FAIL, "power", text + f": a log of about {power.log_rows_needed:,.0f} rows would be needed")


def _count(n: int, one: str, many: str) -> str:
    """`n` with its noun and verb in the singular or the plural ("1 action is", "2 actions are")."""
    return f"{n:,} {one if n == 1 else many}"


def _few(labels: list[str], limit: int = 5) -> str:
    return ", ".join(labels[:limit]) + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


# --- decision ids -----------------------------------------------------------------------------------------------

def _ids(path: Path, columns: Columns, id_col: str | None, chunk_rows: int) -> tuple[tuple[Array, Array] | None,
                                                                                      str | None]:
    """Every decision id as text with the line (or Parquet row) it is on; None when the log has no id column."""
    reader = reader_for(path)
    if id_col is None:
        found = _id_column(path, columns)
        if found is None:
            return None, None
        id_col = found
    wanted = Columns(columns.action, columns.reward, columns.propensity, columns.position, (id_col,))
    _, batches = reader(path, wanted, chunk_rows, set())
    values, places = [], []
    read = 0
    for place, data in batches:
        values.append(_id_texts(data[id_col], place, id_col))
        # a dataset's rows are numbered within each file: count them across the dataset instead
        places.append(np.arange(read + 1, read + 1 + len(place.numbers)) if path.is_dir() else place.numbers)
        read += len(place.numbers)
    return (np.concatenate(values), np.concatenate(places)), id_col


def _id_column(path: Path, columns: Columns) -> str | None:
    """The first of DEFAULT_IDS the file has that no other role takes."""
    header = _header(path)
    taken = set(resolve(header, columns, str(path)).names)
    return next((name for name in DEFAULT_IDS if name in header and name not in taken), None)


def _header(path: Path) -> list[str]:
    if path.is_dir():
        from banditmap.ope.logfiles import parquet_files
        path = parquet_files(path)[0]  # the reader has checked there is one
    if path.suffix.lower() in (".parquet", ".pq") or path.is_dir():
        import pyarrow.parquet as pq
        return list(pq.read_schema(path).names)
    import csv
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        return [h.strip() for h in next(csv.reader([handle.readline().removeprefix("\ufeff")]), [])]


def _id_texts(values: Array, place: Place, column: str) -> Array:
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise place.refuse(int(np.argmax(~np.isfinite(values))), "expected a decision id, got a missing value", column)
    texts = np.array([label_text(v) for v in values.tolist()]) if values.dtype.kind == "f" else values.astype(str)
    empty = np.char.str_len(np.char.strip(texts)) == 0 if len(texts) else np.zeros(0, bool)
    if empty.any():
        raise place.refuse(int(np.argmax(empty)), "expected a decision id, got an empty field", column)
    return np.char.strip(texts)


def _duplicates(ids: tuple[Array, Array] | None) -> tuple[int, tuple[int, int] | None]:
    """Rows whose id an earlier row has, and (the first such row's place, the place of the id's first row)."""
    if ids is None:
        return 0, None
    values, places = ids
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    repeat = np.zeros(len(values), dtype=bool)
    repeat[1:] = ordered[1:] == ordered[:-1]
    if not repeat.any():
        return 0, None
    second = order[repeat]
    at = int(second.min())
    first = int(order[np.searchsorted(ordered, values[at])])
    return int(repeat.sum()), (int(places[first]), int(places[at]))

