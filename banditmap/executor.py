"""The one executor every fan-out goes through: local processes (embedded, no set-up) or a Dask cluster.

`fan_out(fn, tasks, engine)` runs fn(task) for every task and returns the results in task order, whatever the
engine, the number of workers and the order they finish in. A task carries its own seed, so results are identical
everywhere. Each result is handed to `on_result` in this process as soon as it arrives, so a caller can write it at
once: when a task fails, the results finished before it are not lost."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence, TypeVar

from banditmap.errors import BanditmapError, one_line, shown

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_VARIABLE = "BANDITMAP_DASK_SCHEDULER"
INSTALL_DASK = "pip install 'banditmap[dask]'"
CONNECT_SECONDS: float = 10  # how long to try reaching a Dask scheduler before saying it cannot be reached
WORKERS_SECONDS: float = 30  # how long to wait for a reached scheduler's first worker
ENGINES = ("local", "dask")
NAME_LIMIT = 120  # characters of a task's name in an error


@dataclass(frozen=True)
class Engine:
    """Where tasks run: `local` processes (jobs: 0 one per core, 1 in this process with no pool) or a `dask`
    cluster (scheduler "tcp://host:port"; None: $BANDITMAP_DASK_SCHEDULER, else a LocalCluster of `jobs` worker
    processes, one per core when 0)."""

    kind: Literal["local", "dask"] = "local"
    jobs: int = 0
    scheduler: str | None = None


class TaskFailed(RuntimeError):
    """A task raised something other than a user error (a bug): the message names the task, the cause is chained."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def engine_from_options(kind: str, jobs: int = 0, scheduler: str | None = None) -> Engine:
    """The engine that command-line options describe, or a one-line error naming the bad option."""
    if kind not in ENGINES:
        raise BanditmapError(f"expected one of {', '.join(ENGINES)}, got {shown(kind)}", field="--engine")
    if scheduler is not None and kind != "dask":
        raise BanditmapError("a scheduler is only used by the dask engine: add --engine dask",
                             field="--scheduler")
    if scheduler is not None and not scheduler.strip():
        raise BanditmapError("expected a scheduler address such as tcp://HOST:PORT, got an empty one",
                             field="--scheduler")
    return Engine("dask" if kind == "dask" else "local", jobs, scheduler)


def fan_out(fn: Callable[[T], R], tasks: Sequence[T], engine: Engine,
            on_result: Callable[[int, R], None] | None = None, *,
            name: Callable[[T], str] | None = None) -> list[R]:
    """fn(task) for every task; results in task order. fn is a module-level function and tasks and results are
    picklable. on_result(index, result) is called in this process as each finishes (to write it at once or show
    progress). A task's seed comes from the task, never from the worker, so results are identical whatever the
    engine and the number of workers. `name(task)` says which task failed in an error (default: its repr).

    A task raising BanditmapError (the user's mistake) re-raises it as it is; anything else raises TaskFailed
    naming the task, after the results finished before it were handed to on_result. A worker lost (killed, out of
    memory) is a one-line BanditmapError naming the task."""
    tasks = list(tasks)
    report = on_result if on_result is not None else _ignore
    label = _labeller(tasks, name)
    if not tasks:
        return []
    if engine.kind == "dask":
        return _on_dask(fn, tasks, engine, report, label)
    jobs = engine.jobs or os.cpu_count() or 1
    if jobs <= 1 or len(tasks) <= 1:
        return _in_process(fn, tasks, report, label)
    return _in_processes(fn, tasks, min(jobs, len(tasks)), report, label)


def _ignore(index: int, result: object) -> None:
    pass


def _labeller(tasks: list[T], name: Callable[[T], str] | None) -> Callable[[int], str]:
    def label(index: int) -> str:
        what = one_line(name(tasks[index]) if name is not None else repr(tasks[index]))
        what = what if len(what) <= NAME_LIMIT else what[:NAME_LIMIT] + "..."
        return f"task {index + 1} of {len(tasks)} ({what})"
    return label


def _failure(index: int, exc: BaseException, label: Callable[[int], str]) -> Exception:
    """What to raise when task `index` raised `exc`: the user's error as it is, a bug as TaskFailed naming it."""
    if isinstance(exc, BanditmapError):
        return exc
    return TaskFailed(f"{label(index)} failed: {type(exc).__name__}: {exc}", index)


def _chained(failure: Exception, cause: BaseException) -> Exception:
    """`failure`, caused by `cause` unless it is the same error."""
    if failure is not cause:
        failure.__cause__ = cause
    return failure


def _in_process(fn: Callable[[T], R], tasks: list[T], report: Callable[[int, R], None],
                label: Callable[[int], str]) -> list[R]:
    results = []
    for index, task in enumerate(tasks):
        try:
            result = fn(task)
        except Exception as exc:
            raise _chained(_failure(index, exc, label), exc)
        report(index, result)
        results.append(result)
    return results


def _in_processes(fn: Callable[[T], R], tasks: list[T], workers: int, report: Callable[[int, R], None],
                  label: Callable[[int], str]) -> list[R]:
    """Fresh ("spawn") processes: a forked copy of a process whose compiled race holds OpenMP threads is unsafe.
    When a task fails, tasks not yet started are cancelled and those running are let finish and handed on; when
    this process is interrupted (Ctrl-C) or on_result raises, the workers are ended at once."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    results: dict[int, R] = {}
    failure: tuple[int, BaseException] | None = None
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        index_of: dict[Future[R], int] = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        pending = set(index_of)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=index_of.__getitem__):
                    if future.cancelled():
                        continue
                    index, exc = index_of[future], future.exception()
                    if exc is not None:
                        if failure is None:
                            failure = (index, exc)
                            for other in pending:
                                other.cancel()
                        continue
                    results[index] = future.result()
                    report(index, results[index])
        except BaseException:
            for future in pending:
                future.cancel()
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()  # shutdown() would wait for the running tasks to finish
            raise
    if failure is not None:
        index, exc = failure
        if isinstance(exc, BrokenProcessPool):
            raise BanditmapError(f"a worker process died (killed, or out of memory) with {label(index)} unfinished; "
                                 f"the {len(results)} results finished before were handed on", field="--engine")
        raise _chained(_failure(index, exc, label), exc)
    return [results[i] for i in range(len(tasks))]


def _on_dask(fn: Callable[[T], R], tasks: list[T], engine: Engine, report: Callable[[int, R], None],
             label: Callable[[int], str]) -> list[R]:
    """Every task as one future on a dask.distributed cluster, gathered as they complete."""
    try:
        from distributed import Client, as_completed
        from distributed.client import FutureCancelledError
    except ImportError:
        raise BanditmapError(f"the dask engine needs dask.distributed, which is not installed: {INSTALL_DASK}",
                             field="--engine") from None
    with _client(Client, engine) as client:
        futures = [client.submit(fn, task, pure=False) for task in tasks]
        index_of = {future.key: i for i, future in enumerate(futures)}
        results: dict[int, R] = {}
        try:
            for future in as_completed(futures, loop=client.loop):
                index = index_of[future.key]
                if future.status == "error":
                    client.cancel([f for f in futures if not f.done()])
                    exc = future.exception()
                    raise _chained(_dask_failure(index, exc, label, len(results)), exc)
                try:
                    results[index] = future.result()
                except FutureCancelledError:
                    raise BanditmapError(f"{label(index)} was cancelled on the cluster", field="--scheduler"
                                         ) from None
                report(index, results[index])
        except BaseException:
            client.cancel([f for f in futures if not f.done()])
            raise
    return [results[i] for i in range(len(tasks))]


def _dask_failure(index: int, exc: BaseException, label: Callable[[int], str], finished: int) -> Exception:
    from distributed import KilledWorker
    if isinstance(exc, KilledWorker):
        return BanditmapError(f"{label(index)} was lost: the worker it was on died (killed, or out of memory, while "
                              f"running it or another task given to the same worker); the {finished} results "
                              "finished before were handed on", field="--scheduler")
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == "banditmap":
        return BanditmapError(f"the Dask workers cannot import {exc.name} for {label(index)}: install banditmap "
                              "(this version) where the workers run", field="--scheduler")
    return _failure(index, exc, label)


class _client:
    """A Client on the engine's scheduler (or on a LocalCluster started for this fan-out), closed afterwards;
    a scheduler that cannot be reached is a one-line error."""

    def __init__(self, client_type: Any, engine: Engine) -> None:
        self.client_type, self.engine = client_type, engine
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> Any:
        address = self.engine.scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
        if address is None:
            from distributed import LocalCluster
            self.cluster = LocalCluster(n_workers=self.engine.jobs or os.cpu_count() or 1, threads_per_worker=1,
                                        processes=True, dashboard_address=None)
            address = self.cluster
        where = "--scheduler" if self.engine.scheduler else f"${SCHEDULER_VARIABLE}"
        try:
            self.client = self.client_type(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            self._close()
            raise BanditmapError(f"cannot reach the Dask scheduler at {shown(address)} within {CONNECT_SECONDS} s "
                                 f"({type(exc).__name__}); start one with `dask scheduler` and workers with "
                                 "`dask worker tcp://HOST:PORT`", field=where) from None
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            self._close()
            raise BanditmapError(f"the Dask scheduler at {shown(address)} has no workers (waited "
                                 f"{WORKERS_SECONDS} s); start some with `dask worker {address}`",
                                 field=where) from None
        return self.client

    def __exit__(self, *exc: object) -> None:
        self._close()

    def _close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
