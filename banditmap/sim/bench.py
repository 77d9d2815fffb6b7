"""The quick-benchmark: picks the algorithms to race for a profile, runs them (in parallel if asked) and
summarises who wins, by how much, and how sure we are."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from banditmap.errors import BanditmapError, shown
from banditmap.model import Algorithm, Catalog, Profile
from banditmap.sim import known_simulators, stats
from banditmap.sim.environments import make_environment
from banditmap.sim.policies import REGISTRY, build
from banditmap.sim.problem import Problem
from banditmap.sim.runner import Run, RunSpec, run, streams

BASELINES = {"arms": "uniform-random", "contextual": "uniform-random", "budget": "uniform-random",
             "multi": "uniform-random",
             "pricing": "uniform-random-price", "cascade": "uniform-random-list", "slate": "uniform-random-list",
             "dueling": "uniform-random-pair", "assortment": "uniform-random-assortment",
             "combination": "uniform-random-combination"}
BASELINE_NAME = "Uniform random (baseline)"
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
    gap_to_best: float  # mean paired difference of final regret with the best algorithm
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
    results: tuple[AlgorithmResult, ...]  # best first (lowest mean regret)
    environment: Mapping[str, Any]
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader of the results must know about the race itself (the problem's notes are its own)."""
        if self.problem.reps < 2:
            return (NO_INTERVAL,)
        return ()

    @property
    def verdict(self) -> str:
        best = self.results[0]
        if best.regret_ci is None:
            return (f"{best.name} has the lowest regret ({best.regret:.1f} after {self.problem.rounds} rounds, one "
                    "repetition). One repetition gives no confidence interval, so this ranking may be luck: race "
                    "at least 2 repetitions for a verdict.")
        line = (f"{best.name} has the lowest regret ({best.regret:.1f} +/- {best.regret_ci:.1f} after "
                f"{self.problem.rounds} rounds, {self.problem.reps} repetitions).")
        tied = [r.name for r in self.results[1:] if r.tied_with_best]
        if len(self.results) == 1:
            line += " It raced alone: there is nothing to compare it with."
        elif tied:
            line += " Statistically indistinguishable from it (paired 95% interval of the difference includes 0): "
            line += ", ".join(tied) + "."
        else:
            line += " Every other algorithm is worse with 95% confidence (paired comparison)."
        return line


@dataclass(frozen=True)
class Usable:
    """What a command can run, and the words it uses for what it cannot."""

    why_not: Callable[[str], str | None]  # why a simulator cannot be used here; None when it can
    no_simulator: str  # e.g. "no simulator yet"
    none_left: str  # the error when no shortlisted algorithm is usable
    command: str


def pick(catalog: Catalog, profile: Profile, requested: Sequence[str] | None, top: int,
         usable: Usable) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(catalog id, name, simulator id) for the named algorithms (each checked) or the first `top` usable ones of
    the profile's shortlist, and (id, reason) for shortlisted algorithms left out. Baselines pass by their id."""
    from banditmap.matching import shortlist
    chosen: list[tuple[str, str, str]] = []
    skipped: list[tuple[str, str]] = []
    if requested is not None:
        if not requested:
            raise BanditmapError("expected at least one algorithm id", field="--algorithms")
        for algorithm_id in requested:
            if requested.count(algorithm_id) > 1:
                raise BanditmapError(f"{shown(algorithm_id)} is named twice; an algorithm raced against itself "
                                     "tells nothing", field="--algorithms")
            if algorithm_id in REGISTRY and algorithm_id.startswith("uniform-random"):
                entry = (algorithm_id, BASELINE_NAME, algorithm_id)
            else:
                algorithm = catalog.algorithm(algorithm_id)
                if algorithm is None:
                    raise BanditmapError("unknown algorithm id; see `banditmap catalog list`", field=algorithm_id)
                check_simulator(algorithm)
                if not algorithm.simulator:
                    raise BanditmapError(f"has {usable.no_simulator}; see `banditmap catalog list` for those that "
                                         "do", field=algorithm_id)
                entry = (algorithm.id, algorithm.name, algorithm.simulator)
            reason = usable.why_not(entry[2])
            if reason:
                raise BanditmapError(reason, field=algorithm_id)
            chosen.append(entry)
        return chosen, skipped
    result = shortlist(profile, catalog)
    for match in result.ranked:
        a = match.algorithm
        if len(chosen) >= top:
            break
        check_simulator(a)
        if not result.exact:
            missed = ", ".join(f"{r.trait}={r.value}" for r in match.ruled_out)
            skipped.append((match.id, f"a nearest candidate only: it misses {missed}"))
            continue
        if match.composed:
            skipped.append((match.id, "a composition: adapters are not simulated yet"))
            continue
        reason = usable.why_not(a.simulator) if a.simulator else usable.no_simulator
        if reason:
            skipped.append((a.id, reason))
        else:
            chosen.append((a.id, a.name, a.simulator))  # type: ignore[arg-type]
    if not chosen:
        raise BanditmapError(usable.none_left + "; name some with --algorithms", field=usable.command)
    return chosen, skipped


def check_simulator(algorithm: Algorithm) -> None:
    """Refuse a catalog entry whose `simulator` names no registered policy (a user catalog's typo)."""
    if algorithm.simulator and algorithm.simulator not in REGISTRY:
        raise BanditmapError(f"algorithm {shown(algorithm.id)} names simulator {shown(algorithm.simulator)}, which "
                             f"does not exist; expected one of {', '.join(known_simulators())}",
                             source=algorithm.source or None, field="simulator")


def choose(catalog: Catalog, profile: Profile, problem: Problem, requested: Sequence[str] | None, top: int,
           baseline: bool) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(catalog id, name, simulator id) to race, and (id, reason) for shortlisted algorithms left out."""
    def why_not(simulator: str) -> str | None:
        runs = problem.kind in REGISTRY[simulator].kinds
        return None if runs else f"its simulator does not run on {problem.kind} problems"

    chosen, skipped = pick(catalog, profile, requested, top, Usable(
        why_not, "no simulator yet", "none of the shortlisted algorithms has a simulator for this problem yet",
        "bench"))
    if baseline and problem.kind in BASELINES and not any(c[2] == BASELINES[problem.kind] for c in chosen):
        chosen.append((BASELINES[problem.kind], BASELINE_NAME, BASELINES[problem.kind]))
    return chosen, skipped


MAX_KEY = 100  # characters of `id.name`; longer is no id of ours, and is not echoed whole in an error


def parse_params(items: Sequence[str]) -> dict[str, dict[str, str]]:
    """`id.name=value` options, as typed after --param (values are checked when the policies are built)."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        algorithm_id, dot, name = key.strip().rpartition(".")
        if (not sep or not dot or not algorithm_id.strip() or not name.strip() or not value.strip()
                or len(key) > MAX_KEY):
            raise BanditmapError(f"expected id.name=value, got {shown(item)}", field="--param")
        out.setdefault(algorithm_id.strip(), {})[name.strip()] = value.strip()
    return out


def specs(catalog: Catalog, chosen: list[tuple[str, str, str]],
          overrides: Mapping[str, Mapping[str, str]]) -> list[RunSpec]:
    """Policies configured with the catalog's defaults, then the user's --param values, each checked against its
    domain; a bad default names the catalog file, a bad --param value the option."""
    ids = [c[0] for c in chosen]
    for algorithm_id, values in overrides.items():
        if algorithm_id not in ids:
            raise BanditmapError(f"names an algorithm that is not in this race ({', '.join(ids)})",
                                 field=f"--param {algorithm_id}.{next(iter(values))}")
    out = []
    for algorithm_id, name, simulator in chosen:
        algorithm = catalog.algorithm(algorithm_id)
        defaults: dict[str, Any] = {}
        if algorithm is not None:
            defaults = {h.name: h.default for h in algorithm.hyperparameters if h.default is not None}
        policy = build(simulator, defaults, "hyperparameters", (algorithm.source or None) if algorithm else None)
        if algorithm_id in overrides:
            policy = build(simulator, {**defaults, **overrides[algorithm_id]}, f"--param {algorithm_id}")
        out.append(RunSpec(algorithm_id, name, policy))
    return out


def race(specs_: Sequence[RunSpec], problem: Problem, seed: int, jobs: int = 1,
         progress: Callable[[str, int, int], None] | None = None,
         skipped: Sequence[tuple[str, str]] = ()) -> BenchResult:
    runs = _run_all(specs_, problem, seed, jobs, progress)
    env_rng, _, _ = streams(seed, "")
    environment = make_environment(problem, env_rng).parameters()
    return summarise(runs, specs_, problem, seed, environment, tuple(skipped))


def _run_all(specs_: Sequence[RunSpec], problem: Problem, seed: int, jobs: int,
             progress: Callable[[str, int, int], None] | None) -> list[Run]:
    if jobs == 0:
        jobs = os.cpu_count() or 1
    if jobs <= 1 or len(specs_) == 1:
        return [run(spec, problem, seed, progress) for spec in specs_]
    import multiprocessing
    manager = multiprocessing.Manager()
    queue = manager.Queue()
    with ProcessPoolExecutor(max_workers=min(jobs, len(specs_), os.cpu_count() or 1)) as pool:
        futures = [pool.submit(_run_reporting, spec, problem, seed, queue) for spec in specs_]
        pending = set(range(len(futures)))
        while pending:
            while not queue.empty():
                message = queue.get()
                if progress is not None:
                    progress(*message)
            pending = {i for i in pending if not futures[i].done()}
            if pending:
                _wait(futures, pending)
        while not queue.empty():
            message = queue.get()
            if progress is not None:
                progress(*message)
        results = [f.result() for f in futures]
    manager.shutdown()
    return results


def _wait(futures: list[Any], pending: set[int]) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait
    wait([futures[i] for i in pending], timeout=0.1, return_when=FIRST_COMPLETED)


def _run_reporting(spec: RunSpec, problem: Problem, seed: int, queue: Any) -> Run:
    return run(spec, problem, seed, lambda *message: queue.put(message))


def summarise(runs: Sequence[Run], specs_: Sequence[RunSpec], problem: Problem, seed: int,
              environment: Mapping[str, Any], skipped: tuple[tuple[str, str], ...] = ()) -> BenchResult:
    best = min(runs, key=lambda r: r.final_regret.mean())
    params = {s.id: {k: v for k, v in vars(s.policy).items()} for s in specs_}
    results = []
    for r in runs:
        regret, regret_ci = stats.mean_ci(r.final_regret)
        last, last_ci = stats.mean_ci(r.last_reward)
        gap, gap_ci = stats.paired_difference(r.final_regret, best.final_regret)
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
    results.sort(key=lambda a: (a.regret, a.id))
    return BenchResult(problem, seed, runs[0].rounds, tuple(results), environment, skipped)
