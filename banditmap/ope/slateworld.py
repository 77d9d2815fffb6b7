"""Slate logs from a known world (make-logs --slate L): each decision shows L items in L slots, one row per slot.

A slot's expected reward is examination(j) x g(x, a): position j is looked at with probability 1 / (j + 1) and
item a attracts as in the single-action world (synthetic.LogEnvironment), so the slate's expected reward is the
sum of per-slot contributions: the linearity the pseudoinverse estimator assumes holds exactly, and the value of
any slate policy is known. Clicks (binary worlds) are drawn per slot. Logging is "uniform" (a uniformly random
slate of distinct items: each slot's propensity is 1 / items) or "softmax" (each slot drawn independently from the
softmax logging policy's distribution for the context, so an item may fill two slots; the propensity is that
slot's probability of its item). Columns: slate_id, item_id, position (from 1), click or reward, propensity_score,
user_feature_*.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from banditmap.files import write_via
from banditmap.ope.synthetic import (LOG_SUFFIXES, WRITE_ROWS, Cells, LogEnvironment, LoggingPolicy, _write_csv,
                                     _write_parquet)

Array = np.ndarray
SlateChooser = Callable[[Array], Array]  # contexts (n, d) -> slates (n, L) of item indices


@dataclass(frozen=True)
class SlateWorld:
    env: LogEnvironment  # the items' attraction g(x, a)
    examination: Array  # (L,) probability that each slot is looked at

    @classmethod
    def around(cls, env: LogEnvironment, slots: int) -> "SlateWorld":
        return cls(env, 1.0 / np.arange(1, slots + 1))

    @property
    def slots(self) -> int:
        return len(self.examination)

    def expected(self, contexts: Array) -> Array:
        """(n, L, m) expected reward of item a in slot j for each context."""
        out: Array = self.examination[None, :, None] * self.env.expected(contexts)[:, None, :]
        return out


@dataclass(frozen=True)
class SlateLog:
    """A generated slate log in memory (for tests)."""

    contexts: Array  # (n, d)
    items: Array  # (n, L)
    rewards: Array  # (n, L) per slot
    propensities: Array  # (n, L) each slot's probability of its item
    expected: Array  # (n, L, m)


def generate(world: SlateWorld, logging: LoggingPolicy, n: int, rng: np.random.Generator) -> SlateLog:
    env, slots = world.env, world.slots
    contexts = env.contexts(n, rng)
    if logging.kind == "uniform":
        items = np.argsort(rng.random((n, env.n_actions)), axis=1)[:, :slots]
        propensities = np.full((n, slots), 1.0 / env.n_actions)
    else:
        probs = logging.probabilities(env, contexts, rng)
        cumulative = probs.cumsum(axis=1)
        draws = rng.random((n, slots, 1))
        items = np.minimum((draws > cumulative[:, None, :]).sum(axis=2), env.n_actions - 1)
        propensities = np.take_along_axis(probs, items, axis=1)
    expected = world.expected(contexts)
    means = np.take_along_axis(expected, items[:, :, None], axis=2)[:, :, 0]
    return SlateLog(contexts, items, env.draw(means, rng), propensities, expected)


def value(world: SlateWorld, choose: SlateChooser, n: int, rng: np.random.Generator) -> float:
    """The true expected reward per slate of a deterministic slate policy, by Monte Carlo over fresh contexts."""
    contexts = world.env.contexts(n, rng)
    chosen = choose(contexts)
    expected = world.expected(contexts)
    return float(np.take_along_axis(expected, chosen[:, :, None], axis=2).sum(axis=(1, 2)).mean())


def marginal_value(world: SlateWorld, marginals: Callable[[Array], Array], n: int, rng: np.random.Generator) -> float:
    """The true expected reward per slate of any slate policy given by its slot-item marginals (n, L, m) per
    context (linearity makes them enough)."""
    contexts = world.env.contexts(n, rng)
    return float((marginals(contexts) * world.expected(contexts)).sum(axis=(1, 2)).mean())


def write_slate_log(path: Path, world: SlateWorld, logging: LoggingPolicy, slates: int, seed: int) -> None:
    """Write `slates` slates (L rows each) as CSV or Parquet by the suffix, atomically (see synthetic.write_log)."""
    env = world.env
    header = ["slate_id", "item_id", "position", "click" if env.binary else "reward", "propensity_score"] + [
        f"user_feature_{j}" for j in range(env.n_features)]
    chunks = _chunks(world, logging, slates, seed)
    if path.suffix.lower() == ".csv" or path.suffix.lower() not in LOG_SUFFIXES:
        write_via(path, lambda tmp: _write_csv(tmp, header, chunks))
    else:
        write_via(path, lambda tmp: _write_parquet(tmp, header, chunks, set()))


def _chunks(world: SlateWorld, logging: LoggingPolicy, slates: int, seed: int) -> Iterator[Cells]:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 10])))
    step = max(1, WRITE_ROWS // world.slots)
    for start in range(0, slates, step):
        log = generate(world, logging, min(step, slates - start), rng)
        yield _cells(log, start, world.env.binary)


def _cells(log: SlateLog, start: int, binary: bool) -> Cells:
    n, slots = log.items.shape
    rewards = log.rewards.reshape(-1)
    columns: Cells = [np.repeat(np.arange(start, start + n), slots).astype(str).tolist(),
                      log.items.reshape(-1).astype(str).tolist(),
                      np.tile(np.arange(1, slots + 1), n).astype(str).tolist(),
                      rewards.astype(int).astype(str).tolist() if binary else [f"{r:.6g}" for r in rewards],
                      [f"{p:.8g}" for p in log.propensities.reshape(-1)]]
    contexts = np.repeat(log.contexts, slots, axis=0)
    for j in range(contexts.shape[1]):
        columns.append([f"{v:.5f}" for v in contexts[:, j]])
    return columns
