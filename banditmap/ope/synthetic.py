"""Logged feedback from a known environment: contexts, a logging policy with recorded propensities, rewards.

The true value of any policy on such a log is known, which is what the estimator tests and the examples need.
Columns follow the Open Bandit Dataset (item_id, click, propensity_score, user_feature_*); with `positions`, a
position column too, and with `obd_layout` also its unnamed index and timestamp columns and categorical user
features, as in the dataset's CSV files. `write_log` writes CSV or Parquet, chosen by the file name's suffix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from banditmap.errors import BanditmapError, shown
from banditmap.files import write_via

Array = np.ndarray
LOGGING = ("uniform", "softmax")
WRITE_ROWS = 50_000
MAX_ACTIONS = 1000
Chooser = Callable[[Array], Array]  # contexts (n, d) -> chosen actions (n,)


@dataclass(frozen=True)
class LogEnvironment:
    """K actions; action a's expected reward for context x is sigmoid(bias_a + x . theta_a) for binary rewards,
    bias_a + x . theta_a for continuous ones (observed with unit-variance Gaussian noise)."""

    theta: Array  # (K, d)
    bias: Array  # (K,)
    binary: bool

    @property
    def n_actions(self) -> int:
        return len(self.bias)

    @property
    def n_features(self) -> int:
        return int(self.theta.shape[1])

    def contexts(self, n: int, rng: np.random.Generator) -> Array:
        return rng.standard_normal((n, self.n_features))

    def expected(self, contexts: Array) -> Array:
        score: Array = self.bias + contexts @ self.theta.T
        return 1.0 / (1.0 + np.exp(-score)) if self.binary else score

    def draw(self, means: Array, rng: np.random.Generator) -> Array:
        if self.binary:
            return (rng.random(means.shape) < means).astype(float)
        return means + rng.standard_normal(means.shape)


def make_environment(n_actions: int, n_features: int, binary: bool, rng: np.random.Generator) -> LogEnvironment:
    """Click rates around 5-15% (binary) with contexts that move them, as on a product page."""
    theta = rng.normal(0.0, 0.6 / np.sqrt(max(n_features, 1)), (n_actions, n_features))
    bias = rng.normal(-2.3, 0.5, n_actions) if binary else rng.normal(1.0, 0.5, n_actions)
    return LogEnvironment(theta, bias, binary)


def environment_for(answers: Mapping[str, Any], seed: int) -> LogEnvironment:
    """An environment shaped like a profile: its number of actions, its reward type, its features if it has any."""
    from banditmap.sim.problem import problem_from_answers
    problem = problem_from_answers(answers, reps=1)
    features = problem.n_features if answers.get("context") in ("linear", "nonlinear") else 0
    n_actions = int(answers.get("n_actions", problem.n_arms))
    if n_actions > MAX_ACTIONS:
        raise BanditmapError(f"expected at most {MAX_ACTIONS} actions for a generated log, got {n_actions}",
                             field="n_actions")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 8])))
    return make_environment(n_actions, features, problem.reward == "binary", rng)


@dataclass(frozen=True)
class LoggingPolicy:
    """How the logged actions were chosen: uniformly, or by a softmax over a noisy copy of the true scores
    (a production policy that already favours good actions). Actions in `never` are never played."""

    kind: str = "uniform"
    temperature: float = 0.5
    never: tuple[int, ...] = ()
    noise: float = 0.5

    def probabilities(self, env: LogEnvironment, contexts: Array, rng: np.random.Generator) -> Array:
        n, K = len(contexts), env.n_actions
        if self.kind == "uniform":
            logits = np.zeros((n, K))
        else:
            score = env.bias + contexts @ env.theta.T + rng.normal(0, self.noise, (1, K))
            logits = score / self.temperature
        if self.never:
            logits[:, list(self.never)] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        probs = weights / weights.sum(axis=1, keepdims=True)
        floor = 0.2 / K  # every allowed action keeps a fifth of its uniform share: the policy still explores
        allowed = np.isfinite(logits)
        probs = np.where(allowed, np.maximum(probs, floor), 0.0)
        normalised: Array = probs / probs.sum(axis=1, keepdims=True)
        return normalised


@dataclass(frozen=True)
class Log:
    """A generated log in memory (for tests): what was shown, earned and recorded."""

    contexts: Array
    actions: Array
    rewards: Array
    propensities: Array
    positions: Array | None
    expected: Array  # (n, K) true expected rewards


def generate(env: LogEnvironment, logging: LoggingPolicy, rows: int, rng: np.random.Generator,
             positions: int = 0) -> Log:
    contexts = env.contexts(rows, rng)
    probs = logging.probabilities(env, contexts, rng)
    cumulative = probs.cumsum(axis=1)
    actions = np.minimum((rng.random((rows, 1)) > cumulative).sum(axis=1), env.n_actions - 1)
    expected = env.expected(contexts)
    rewards = env.draw(expected[np.arange(rows), actions], rng)
    pos = rng.integers(0, positions, rows) if positions else None
    return Log(contexts, actions, rewards, probs[np.arange(rows), actions], pos, expected)


LOG_SUFFIXES = (".csv", ".parquet", ".pq")
Cells = list[list[str]]  # one list of cell texts per column


def write_log(path: Path, env: LogEnvironment, logging: LoggingPolicy, rows: int, seed: int,
              positions: int = 0, obd_layout: bool = False) -> None:
    """Write a generated log as CSV (.csv) or Parquet (.parquet, .pq), chunk by chunk, to a temporary file beside
    `path` that is renamed into place: an interruption or an error leaves nothing behind. Both formats hold the
    same values (Parquet stores the numbers the CSV text reads as), so a replay gives the same answer on either."""
    suffix = path.suffix.lower()
    if suffix not in LOG_SUFFIXES:
        raise BanditmapError(f"expected a file name ending in .csv, .parquet or .pq, got {shown(path.name)}",
                             source=str(path), field="FILE")
    if suffix == ".csv":
        write_csv(path, env, logging, rows, seed, positions, obd_layout)
        return
    try:
        import pyarrow  # noqa: F401  (checked before any work)
    except ImportError:
        raise BanditmapError("writing Parquet needs pyarrow: pip install 'banditmap[parquet]' (or write a .csv file)",
                             source=str(path), field="FILE") from None
    header = _header(env, positions, obd_layout)
    chunks = _chunks(env, logging, rows, seed, positions, obd_layout)
    text = {"timestamp", "user_feature_0", "user_feature_1"} if obd_layout else set()  # the dataset's text columns
    write_via(path, lambda tmp: _write_parquet(tmp, header, chunks, text))


def write_csv(path: Path, env: LogEnvironment, logging: LoggingPolicy, rows: int, seed: int,
              positions: int = 0, obd_layout: bool = False) -> None:
    """Write a generated log as CSV whatever the file name's suffix, atomically (see write_log)."""
    header = _header(env, positions, obd_layout)
    chunks = _chunks(env, logging, rows, seed, positions, obd_layout)
    write_via(path, lambda tmp: _write_csv(tmp, header, chunks))


def _header(env: LogEnvironment, positions: int, obd_layout: bool) -> list[str]:
    d = env.n_features
    header = ["item_id", "click" if env.binary else "reward", "propensity_score"] + (["position"] if positions else [])
    if obd_layout:
        return ["", "timestamp"] + header + [f"user_feature_{j}" for j in range(min(d, 2))] + \
            [f"user-item_affinity_{j}" for j in range(max(d - 2, 0))]
    return header + [f"user_feature_{j}" for j in range(d)]


def _chunks(env: LogEnvironment, logging: LoggingPolicy, rows: int, seed: int, positions: int,
            obd_layout: bool) -> Iterator[Cells]:
    """The log's cells, WRITE_ROWS rows at a time, drawn from one seeded generator whatever the file format."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 9])))
    for start in range(0, rows, WRITE_ROWS):
        log = generate(env, logging, min(WRITE_ROWS, rows - start), rng, positions)
        yield _cells(log, start, env.binary, obd_layout)


def _write_csv(tmp: Path, header: list[str], chunks: Iterator[Cells]) -> None:
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(header) + "\n")
        for columns in chunks:
            out.write("".join(",".join(row) + "\n" for row in zip(*columns, strict=True)))


WHOLE_COLUMNS = ("", "item_id", "click", "position", "slate_id")  # integers; other numbers are floats


def _write_parquet(tmp: Path, header: list[str], chunks: Iterator[Cells], text: set[str]) -> None:
    """One row group per chunk; columns typed as the CSV text reads: integers, floats, and the `text` columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    writer = None
    try:
        for columns in chunks:
            table = pa.table({name: _typed(name, cells, name in text)
                              for name, cells in zip(header, columns, strict=True)})
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _typed(name: str, cells: list[str], text: bool) -> Array:
    if text:
        return np.array(cells, dtype=object)
    return np.array(cells, dtype=np.int64 if name in WHOLE_COLUMNS else np.float64)


def _cells(log: Log, start: int, binary: bool, obd_layout: bool) -> Cells:
    n = len(log.actions)
    columns: Cells = []
    if obd_layout:
        columns.append([str(start + i) for i in range(n)])
        columns.append([f"2019-11-24 00:{(start + i) // 60 % 60:02d}:{(start + i) % 60:02d}+00:00" for i in range(n)])
    columns.append(log.actions.astype(str).tolist())
    columns.append(log.rewards.astype(int).astype(str).tolist() if binary else [f"{r:.6g}" for r in log.rewards])
    columns.append([f"{p:.8g}" for p in log.propensities])
    if log.positions is not None:
        columns.append((log.positions + 1).astype(str).tolist())
    x = log.contexts
    first = 0
    if obd_layout:  # the dataset's user features are hashed categories: bin the first two features into six
        for j in range(min(x.shape[1], 2)):
            bins = np.digitize(x[:, j], [-1.0, -0.4, 0.0, 0.4, 1.0])
            columns.append([f"{b:032x}"[-12:] + f"c{j}" for b in (bins * 7919 + j)])
        first = min(x.shape[1], 2)
    for j in range(first, x.shape[1]):
        columns.append([f"{v:.5f}" for v in x[:, j]])
    return columns


def policy_value(env: LogEnvironment, choose: Chooser, rows: int, rng: np.random.Generator) -> float:
    """The true expected reward per decision of a fixed policy, by Monte Carlo over fresh contexts."""
    contexts = env.contexts(rows, rng)
    chosen = choose(contexts)
    return float(env.expected(contexts)[np.arange(rows), chosen].mean())


def make_logs(path: Path, answers: Mapping[str, Any], logging: str, rows: int, seed: int,
              positions: int = 0, slate: int = 0) -> LogEnvironment:
    """`make-logs` as one call: a log of `rows` decisions from an environment shaped like the answers, chosen by
    the named logging policy (LOGGING), written to `path`; returns the environment (its sizes are reported). With
    `slate` L, each decision is a slate of L slots written as L rows (see slatelogs.write_slate_log)."""
    if logging not in LOGGING:
        raise BanditmapError(f"expected one of {', '.join(LOGGING)}, got {shown(logging)}", field="--logging")
    if positions and slate:
        raise BanditmapError("a slate log has its own position column; give --slate or --positions, not both",
                             field="--slate")
    env = environment_for(answers, seed)
    if slate:
        from banditmap.ope import slateworld
        if slate > env.n_actions:
            raise BanditmapError(f"expected at most {env.n_actions} slots (the use case's actions), got {slate}",
                                 field="--slate")
        slateworld.write_slate_log(path, slateworld.SlateWorld.around(env, slate), LoggingPolicy(logging), rows,
                                   seed)
        return env
    write_log(path, env, LoggingPolicy(logging), rows, seed, positions)
    return env
