"""Compiling races ahead: on a first run, while this process races the candidates one after another (compiling each
race's kernels as it meets them, one core at a time), a helper process compiles the last candidates' races into the
disk cache, so this process loads them instead of compiling them itself: two cores compile at once. Measured from
an empty kernel cache (CPU seconds, this process + the helper): ranker-interleaving 39.9 alone, 22.3 + 29.0 with
it; coupon-targeting 49.5 alone, 35.2 + 22.6 with it (the two compile some shared kernels twice: numba's own
helpers and the worlds' kernels that both processes meet before either saved them).

Only a cold cache starts a helper: a marker per race (a digest of the candidate's policy and the problem, in the
kernel cache folder) says it was compiled and saved once; a run whose races all have markers, a cache folder that
cannot be written, a single core or `--jobs 1` start none, and so cost one file check per race. The helper only
fills the cache: every race is still run here, on the kernels numba loads from disk (the same machine code), so the
numbers are the ones a run without it gives. Whatever happens to the helper (it fails, is killed, is slow), this
process races every candidate: at worst it compiles a race itself, as it would without a helper."""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ENV = "BANDITMAP_COMPILE_AHEAD"  # "0": never start a helper
FREE, HERE, HELPER, CACHED = 0, 1, 2, 3  # a race's state: not started, taken here, taken by the helper, compiled
WAIT = 600.0  # seconds this process waits at most for a race the helper took (then it compiles the race itself)

_only_compiling = False  # set in the helper: a race stops once its kernels are compiled (compiled.race_in_blocks)


class Compiled(Exception):
    """Raised in the helper by a race whose kernels are compiled and saved: the race itself is not run."""


def only_compiling() -> bool:
    return _only_compiling


def folder() -> Path:
    """Where the markers are kept: beside the compiled kernels they speak of (a new kernel version, a new folder)."""
    from banditmap.sim.kernels import cache_dir
    return cache_dir() / "ahead"


def marker(folder: Path, key: str) -> Path:
    return folder / f"{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}.done"


def writable(folder: Path) -> bool:
    """Whether markers (and so compiled kernels) can be saved in `folder`; it is created if missing."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


def mark(folder: Path, key: str) -> None:
    """Best effort: a marker that cannot be written only means a later run starts a helper again."""
    with contextlib.suppress(OSError):
        marker(folder, key).touch()


class Ahead:
    """Races 0..n-1 shared by this process, which takes them from the first on (`claim`), and a helper process
    that compiles them from the last on, until the two meet; each race is taken by one of the two only."""

    def __init__(self, work: Callable[[Any], object], items: Sequence[Any], folder: Path, keys: Sequence[str]) -> None:
        context = multiprocessing.get_context("spawn")  # a fork of a process holding numba's threads is unsafe
        self.states = context.Array("i", len(items))
        self.folder, self.keys = folder, list(keys)
        self.process = context.Process(target=_helper, args=(work, list(items), self.states, str(folder), self.keys),
                                       daemon=True, name="banditmap-compile-ahead")
        self.process.start()

    def claim(self, index: int) -> None:
        """Take race `index` for this process; if the helper took it, wait until it is compiled (or the helper is
        gone, or WAIT seconds passed: then this process compiles it as it would without a helper)."""
        with self.states.get_lock():
            if self.states[index] == FREE:
                self.states[index] = HERE
                return
        deadline = time.monotonic() + WAIT
        while self.states[index] != CACHED and self.process.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        """Stop the helper if it is still running (it has nothing left to do once every race is claimed)."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)


def start(work: Callable[[Any], object], items: Sequence[Any], keys: Sequence[str], folder: Path,
          jobs: int) -> Ahead | None:
    """A helper compiling these races ahead, or None when it would not help: fewer than 2 races not compiled yet
    (no marker), one job, or a cache folder that cannot be written."""
    if jobs < 2 or len(items) < 2 or os.environ.get(ENV) == "0":
        return None
    if sum(not marker(folder, key).exists() for key in keys) < 2 or not writable(folder):
        return None
    try:
        return Ahead(work, items, folder, keys)
    except Exception:  # noqa: BLE001 - no process can be started here (or a race cannot be sent to one): race alone
        return None


def _helper(work: Callable[[Any], object], items: list[Any], states: Any, folder: str, keys: list[str]) -> None:
    """The helper process: compiles races from the last on, until it meets one this process took. Silent: a race
    that fails to compile here fails again, with its message, where it is run."""
    global _only_compiling
    _only_compiling = True
    import warnings
    warnings.simplefilter("ignore")
    for index in reversed(range(len(items))):
        with states.get_lock():
            if states[index] != FREE:
                return
            states[index] = HELPER
        try:
            work(items[index])
        except Compiled:
            mark(Path(folder), keys[index])
        except BaseException:  # noqa: BLE001, S110 - the race is run, and any failure reported, by the main process
            pass
        states[index] = CACHED
