"""The race: runs the configured policies it is given on one problem, through the executor (local processes or a
Dask cluster), and summarises who wins, by how much, and how sure we are. Which policies to race is the
recommender's choice (recommend/race.py)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from banditmap.executor import Engine, fan_out
from banditmap.sim import compiled, stats
from banditmap.sim.environments import make_environment
from banditmap.sim.problem import Problem
from banditmap.sim.runner import Run, RunSpec, run, streams

BASELINES = {"arms": "uniform-random", "contextual": "uniform-random", "budget": "uniform-random",
             "multi": "uniform-random",
             "pricing": "uniform-random-price", "cascade": "uniform-random-list", "slate": "uniform-random-list",
             "dueling": "uniform-random-pair", "assortment": "uniform-random-assortment",
             "combination": "uniform-random-combination"}
NO_INTERVAL = ("one repetition gives no confidence interval (at least 2 repetitions are needed to estimate the "
               "spread), so intervals are shown as n/a")


@dataclass(frozen=True)
class AlgorithmResult:
    id: str
    name: str
    params: Mapping[str, Any]
    regret: float
    regret_ci: float | None  # half-width of the 95% interval; None with a single repetition
    last_reward: float
    last_reward_ci: float | None
    optimal_share: float
    us_per_decision: float  # wall-clock: differs from run to run, unlike everything else here
    gap_to_best: float  # mean paired difference with the best of what the race compares (bench.measured)
    gap_ci: float | None
    tied_with_best: bool  # the paired 95% interval of the gap includes zero (False when there is no interval)
    curve: tuple[float, ...]
    curve_low: tuple[float, ...]
    curve_high: tuple[float, ...]
    identified: float | None = None  # share of repetitions that named the best arm (best-arm identification)
    simple_regret: float | None = None
    below_baseline: float | None = None  # share of rounds with running reward under (1 - alpha) x the baseline's


@dataclass(frozen=True)
class BenchResult:
    problem: Problem
    seed: int
    rounds: tuple[int, ...]
    results: tuple[AlgorithmResult, ...]  # best first: lowest mean regret (best-arm: simple regret x rounds)
    environment: Mapping[str, Any]
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    misses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # nearest candidates: the answers missed
    # per candidate, what the race compares (`measured`) in each repetition, for paired comparisons of any two
    measured: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader of the results must know about the race itself (the problem's notes are its own)."""
        notes = [NO_INTERVAL] if self.problem.reps < 2 else []
        nearest = [r for r in self.results if r.id in self.misses]
        if nearest:
            missed = "; ".join(f"{r.id} misses {', '.join(self.misses[r.id])}" for r in nearest)
            notes.append(f"nearest candidates raced, as too few candidates that handle every answer could: "
                         f"{missed}. The race measures what missing that answer costs in this simulation, only as "
                         "far as the simulated problem models it (see the notes above)")
        return tuple(notes)

    def nearest(self, result: AlgorithmResult) -> str:
        """" (a nearest candidate: it misses trait=value)" for a nearest candidate, else ""."""
        if result.id not in self.misses:
            return ""
        return f" (a nearest candidate: it misses {', '.join(self.misses[result.id])})"

    @property
    def verdict(self) -> str:
        best = self.results[0]
        if self.problem.objective == "best_arm" and best.simple_regret is not None:
            return self.test_verdict()
        if best.regret_ci is None:
            return (f"{best.name}{self.nearest(best)} has the lowest regret ({best.regret:.1f} after "
                    f"{self.problem.rounds} rounds, one repetition). One repetition gives no confidence interval, so "
                    "this ranking may be luck: race at least 2 repetitions for a verdict.")
        return self.compared(f"{best.name}{self.nearest(best)} has the lowest regret ({best.regret:.1f} +/- "
                             f"{best.regret_ci:.1f} after {self.problem.rounds} rounds, {self.problem.reps} "
                             "repetitions).", "is worse")

    def compared(self, line: str, worse: str) -> str:
        """The verdict's first sentence, then how the others compare with the leader (paired comparisons)."""
        tied = [r.name + self.nearest(r) for r in self.results[1:] if r.tied_with_best]
        if len(self.results) == 1:
            return line + " It raced alone: there is nothing to compare it with."
        if self.problem.reps < 2:
            return line + " One repetition gives no confidence interval: race at least 2 repetitions for a verdict."
        if tied:
            return (line + " Statistically indistinguishable from it (paired 95% interval of the difference includes "
                    "0): " + ", ".join(tied) + ".")
        return line + f" Every other algorithm {worse} with 95% confidence (paired comparison)."

    def test_verdict(self) -> str:
        """The verdict of a best-arm race: ranked by the arm each names at the end (simple regret), not by what
        it earned while testing."""
        best = self.results[0]
        return self.compared(f"{best.name}{self.nearest(best)} names the best arm most reliably: in "
                             f"{100 * (best.identified or 0):.0f}% of {self.problem.reps} repetitions after "
                             f"{self.problem.rounds} rounds, simple regret {best.simple_regret:.4f} (the expected "
                             "reward given up per round by committing to the arm it names).", "names a worse arm")


def race(specs_: Sequence[RunSpec], problem: Problem, seed: int, jobs: int = 1,
         progress: Callable[[str, int, int], None] | None = None,
         skipped: Sequence[tuple[str, str]] = (), engine: Engine | None = None,
         misses: Mapping[str, tuple[str, ...]] | None = None) -> BenchResult:
    """The race of `specs_` on `problem`, in `jobs` local processes or on `engine` when given; `misses` marks the
    nearest candidates (those that do not handle every answer) with the answers each misses."""
    runs = run_all(specs_, problem, seed, engine or Engine("local", jobs), progress)
    env_rng, _, _ = streams(seed, "")
    environment = make_environment(problem, env_rng).parameters()
    result = summarise(runs, specs_, problem, seed, environment, tuple(skipped))
    return replace(result, misses=dict(misses or {}))


@dataclass(frozen=True)
class RunTask:
    """One run as a task for the executor: it carries its own seed, so it gives the same numbers anywhere. A task
    in a local process may report its progress as (label, done, total) on `queue`."""

    spec: RunSpec
    problem: Problem
    seed: int
    label: str = ""
    queue: Any = None


def run_task(task: RunTask) -> Run:
    queue = task.queue
    if queue is None:
        return run(task.spec, task.problem, task.seed)
    return run(task.spec, task.problem, task.seed, lambda _, done, total: queue.put((task.label, done, total)))


def run_all(specs_: Sequence[RunSpec], problem: Problem, seed: int, engine: Engine,
            progress: Callable[[str, int, int], None] | None = None,
            labels: Sequence[str] | None = None) -> list[Run]:
    """Every spec's run, in order, through the executor; `progress(label, done, total)` hears of each (labels:
    the specs' ids unless given). On a Dask cluster every run is a task, reported as it finishes. Locally,
    compiled races run here, one after another, each on every core through its threads; the others fan out to
    `engine.jobs` processes, started fresh ("spawn") because a forked copy of a process whose compiled race holds
    OpenMP threads is unsafe; all report their progress as they go."""
    names = list(labels) if labels is not None else [spec.id for spec in specs_]
    tasks = [RunTask(spec, problem, seed, names[i]) for i, spec in enumerate(specs_)]
    if engine.kind == "dask":
        def finished(index: int, result: Run) -> None:
            if progress is not None:
                progress(names[index], problem.rounds, problem.rounds)
        return fan_out(run_task, tasks, engine, finished, name=lambda task: task.spec.id)
    jobs = engine.jobs or os.cpu_count() or 1
    loop = [i for i, spec in enumerate(specs_) if not compiled.covers(spec.policy, problem)]
    here = range(len(specs_)) if jobs <= 1 or len(loop) <= 1 else [i for i in range(len(specs_)) if i not in loop]
    runs = race_here(tasks, here, jobs, progress)
    if len(runs) < len(specs_):
        with _Relay(progress) as queue:
            def relayed(n: int, result: Run) -> None:
                if queue is not None:
                    queue.put((names[loop[n]], problem.rounds, problem.rounds))
            pooled = fan_out(run_task, [replace(tasks[i], queue=queue) for i in loop], engine, relayed,
                             name=lambda task: task.spec.id)
        runs.update(zip(loop, pooled))
    return [runs[i] for i in range(len(specs_))]


def race_here(tasks: Sequence[RunTask], here: Sequence[int], jobs: int,
              progress: Callable[[str, int, int], None] | None) -> dict[int, Run]:
    """The runs of tasks[i] for i in `here`, in this process one after another; with 2 jobs or more, a first run
    (races not compiled yet) compiles the last compiled races ahead in a helper process (sim/ahead.py)."""
    from banditmap.sim import ahead
    compiled_here = [i for i in here if compiled.covers(tasks[i].spec.policy, tasks[i].problem)]
    keys = [ahead_key(tasks[i]) for i in compiled_here]
    folder = ahead.folder()
    helper = ahead.start(run_task, [tasks[i] for i in compiled_here], keys, folder, jobs)
    position = {i: n for n, i in enumerate(compiled_here)}
    runs: dict[int, Run] = {}
    try:
        for i in here:
            n = position.get(i)
            if helper is not None and n is not None:
                helper.claim(n)
            task = tasks[i]
            runs[i] = run(task.spec, task.problem, task.seed, _relabelled(progress, task.label))
            if n is not None:
                ahead.mark(folder, keys[n])
    finally:
        if helper is not None:
            helper.close()
    return runs


def ahead_key(task: RunTask) -> str:
    """What decides which kernels a compiled race compiles: the policy (its type and settings) and the problem's
    kinds of world, reward, dynamics, feedback, constraint and objective (not its sizes, which change no kernel's
    argument types: a run on a bigger problem needs no helper once a smaller one compiled its races)."""
    p, policy = task.problem, task.spec.policy
    world = (p.kind, p.reward, p.dynamics, p.delay, p.constraint, p.objective, p.model, p.objectives, p.censored)
    return f"{type(policy).__module__}.{type(policy).__qualname__}:{policy!r}:{world!r}"


def _relabelled(progress: Callable[[str, int, int], None] | None,
                label: str) -> Callable[[str, int, int], None] | None:
    if progress is None:
        return None
    return lambda _, done, total: progress(label, done, total)


class _Relay:
    """A queue that processes report progress on, and a thread here that hands each report to `progress` (the
    only caller of it while the queue is open); no queue without `progress`."""

    def __init__(self, progress: Callable[[str, int, int], None] | None) -> None:
        self.progress = progress
        self.manager: Any = None
        self.queue: Any = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Any:
        if self.progress is None:
            return None
        import multiprocessing
        self.manager = multiprocessing.get_context("spawn").Manager()
        self.queue = self.manager.Queue()
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()
        return self.queue

    def _relay(self) -> None:
        assert self.progress is not None
        while (message := self.queue.get()) is not None:
            self.progress(*message)

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.manager.shutdown()


def measured(run: Run, problem: Problem) -> np.ndarray:
    """What a race compares, per repetition: the final cumulative regret; for best-arm identification, the regret
    of committing to the arm it names for as many rounds as the test took (simple regret x rounds), since a test
    is judged by its answer, not by what it earned while testing."""
    if problem.objective == "best_arm" and run.simple_regret is not None:
        out: np.ndarray = run.simple_regret * problem.rounds
        return out
    return run.final_regret


def summarise(runs: Sequence[Run], specs_: Sequence[RunSpec], problem: Problem, seed: int,
              environment: Mapping[str, Any], skipped: tuple[tuple[str, str], ...] = ()) -> BenchResult:
    """The runs ranked by what the race compares (`measured`), the best first, each with its gap to the best."""
    values = {r.id: measured(r, problem) for r in runs}
    best = min(runs, key=lambda r: (values[r.id].mean(), r.id))
    params = {s.id: dict(s.params) if s.params is not None else dict(vars(s.policy)) for s in specs_}
    results = []
    for r in runs:
        regret, regret_ci = stats.mean_ci(r.final_regret)
        last, last_ci = stats.mean_ci(r.last_reward)
        gap, gap_ci = stats.paired_difference(values[r.id], values[best.id])
        mean, low, high = stats.curve_band(r.regret)
        results.append(AlgorithmResult(
            id=r.id, name=r.name, params=params[r.id], regret=regret, regret_ci=regret_ci, last_reward=last,
            last_reward_ci=last_ci, optimal_share=float(r.optimal.mean()),
            us_per_decision=r.seconds / (problem.rounds * problem.reps) * 1e6,
            gap_to_best=gap, gap_ci=gap_ci, tied_with_best=r is not best and gap_ci is not None and gap - gap_ci <= 0,
            curve=tuple(np.round(mean, 4).tolist()), curve_low=tuple(np.round(low, 4).tolist()),
            curve_high=tuple(np.round(high, 4).tolist()),
            identified=None if r.identified is None else float(r.identified.mean()),
            simple_regret=None if r.simple_regret is None else float(r.simple_regret.mean()),
            below_baseline=None if r.below_baseline is None else float(r.below_baseline.mean())))
    results.sort(key=lambda a: (float(values[a.id].mean()), a.id))
    return BenchResult(problem, seed, runs[0].rounds, tuple(results), environment, skipped,
                       measured={k: tuple(v.tolist()) for k, v in values.items()})
