"""The evidence build: every simulated candidate of every class in the grid raced on the same random problems,
through the one executor (local processes or Dask), resumable, written as results arrive (recommend/evidence.py
says what a class is and what the ranking takes from the result)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from banditmap import __version__
from banditmap.catalog.evidence import Grid, evidence_dict
from banditmap.errors import BanditmapError
from banditmap.executor import Engine, fan_out
from banditmap.files import write_atomic
from banditmap.model import Answer, Catalog, Evidence, EvidenceClass, Profile, Standing
from banditmap.recommend.evidence import describe, signature
from banditmap.sim.bench import measured
from banditmap.sim.problem import Problem, problem_from_answers
from banditmap.sim.runner import RunSpec, run

WITHIN = 1.1  # "within 10% of the best": (regret + 1) at most 1.1 x (best regret + 1)
MAX_CANDIDATES = 100  # every usable candidate of a class's shortlist races


# --- the build ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One class at one size: every candidate races the same instances (the same seed)."""

    key: str
    size: int
    problem: Problem
    seed: int


@dataclass(frozen=True)
class Task:
    cell: int
    candidate: str
    spec: RunSpec
    problem: Problem
    seed: int


@dataclass(frozen=True)
class Outcome:
    """A finished task: the final regret of each instance, or why it could not race."""

    cell: int
    candidate: str
    regret: tuple[float, ...] = ()
    refused: str = ""


@dataclass(frozen=True)
class Plan:
    grid: Grid
    classes: Mapping[str, tuple[str, Mapping[str, Answer]]]  # key -> (description, answers)
    cells: tuple[Cell, ...]
    tasks: tuple[Task, ...]
    notes: tuple[str, ...]  # grid classes left out: already listed under another class, or nothing to race


def seed_of(key: str, size: Mapping[str, Answer]) -> int:
    text = key + "|" + json.dumps(dict(size), sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def plan(catalog: Catalog, grid: Grid) -> Plan:
    """Every cell and every task of a build: the classes' candidates are their shortlist's usable entries and
    compositions (and the kind's uniform baseline)."""
    from banditmap.recommend.candidates import specs
    from banditmap.recommend.race import choose
    classes: dict[str, tuple[str, Mapping[str, Answer]]] = {}
    cells: list[Cell] = []
    tasks: list[Task] = []
    notes: list[str] = []
    for grid_class in grid.classes:
        first = problem_from_answers({**grid_class.answers, **grid_class.sizes[0]}, grid.rounds, grid.instances)
        key = signature(first)
        where = f"{grid.source}:{grid_class.line}"
        if key in classes:
            notes.append(f"{where}: the same class as an earlier one ({key}), left out")
            continue
        try:
            chosen, _ = choose(catalog, Profile({**grid_class.answers, **grid_class.sizes[0]}), first, None,
                               MAX_CANDIDATES, True)
        except BanditmapError as exc:
            notes.append(f"{where}: {key} left out: {exc.message}")
            continue
        classes[key] = (describe(first), dict(grid_class.answers))
        entrants = specs(catalog, chosen, {})
        for j, size in enumerate(grid_class.sizes):
            problem = problem_from_answers({**grid_class.answers, **size}, grid.rounds, grid.instances)
            cell = Cell(key, j, problem, seed_of(key, size))
            cells.append(cell)
            tasks += [Task(len(cells) - 1, spec.id, spec, problem, cell.seed) for spec in entrants]
    return Plan(grid, classes, tuple(cells), tuple(tasks), tuple(notes))


def race_task(task: Task) -> Outcome:
    """One candidate on one cell's instances (module-level, so any engine can ship it)."""
    try:
        result = run(task.spec, task.problem, task.seed)
    except BanditmapError as exc:
        return Outcome(task.cell, task.candidate, refused=exc.message)
    return Outcome(task.cell, task.candidate, tuple(float(x) for x in measured(result, task.problem)))


def relative(regret: np.ndarray) -> np.ndarray:
    """Each candidate's (regret + 1) / (best regret + 1) on each instance (regret (candidates, instances)); where
    the best regret is negative (a benchmark beaten by chance: the budget worlds' is an expected value), both are
    first raised by it, so the best's ratio stays 1 and the others' stay above."""
    best = regret.min(axis=0)
    shift = np.maximum(-best, 0.0)
    ratio: np.ndarray = (regret + shift + 1.0) / (best + shift + 1.0)
    return ratio


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1 for the lowest; tied values share the mean of the ranks they span (so ids never break a tie)."""
    order = values.argsort(kind="stable")
    ranks = np.empty(values.size)
    ranks[order] = np.arange(1, values.size + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def task_name(task: Task) -> str:
    return f"{task.candidate} on {task.problem.describe()}"


def standings(plan_: Plan, outcomes: Sequence[Outcome]) -> dict[str, EvidenceClass]:
    """Per class, how each candidate that raced every size of it compared with the best on each instance."""
    by_cell: dict[int, dict[str, tuple[float, ...]]] = {}
    refused: set[tuple[str, str]] = set()
    for o in outcomes:
        key = plan_.cells[o.cell].key
        if o.refused:
            refused.add((key, o.candidate))
        else:
            by_cell.setdefault(o.cell, {})[o.candidate] = o.regret
    out: dict[str, EvidenceClass] = {}
    for key, (description, answers) in plan_.classes.items():
        cells = [i for i, c in enumerate(plan_.cells) if c.key == key]
        raced = set.intersection(*(set(by_cell.get(i, {})) for i in cells)) if cells else set()
        candidates = sorted(c for c in raced if (key, c) not in refused)
        if not candidates:
            continue
        ratios, ranks = [], []
        for i in cells:
            regret = np.array([by_cell[i][c] for c in candidates])  # (candidates, instances)
            ratios.append(relative(regret))
            ranks.append(np.apply_along_axis(average_ranks, 0, regret))
        ratio = np.concatenate(ratios, axis=1)
        rank = np.concatenate(ranks, axis=1)
        table = {}
        for n, candidate in enumerate(candidates):
            q = ratio[n]
            table[candidate] = Standing(
                candidate, int(q.size), round(float(np.exp(np.log(q).mean())), 4),
                round(float((q <= WITHIN + 1e-12).mean()), 4), round(float(rank[n].mean()), 3),
                round(float(np.quantile(q, 0.25)), 4), round(float(np.quantile(q, 0.75)), 4))
        out[key] = EvidenceClass(key, description, answers, int(ratio.shape[1]), table)
    return out


# --- running a build: resumable, written as results arrive ----------------------------------------------------

@dataclass(frozen=True)
class BuildResult:
    evidence: Evidence
    out: Path
    tasks: int
    resumed: int  # tasks taken from an interrupted build
    seconds: float
    refused: tuple[tuple[str, str, str], ...]  # (class, candidate, why)
    notes: tuple[str, ...]

    @property
    def races_per_second(self) -> float:
        ran = self.tasks - self.resumed
        return ran / self.seconds if self.seconds > 0 else 0.0


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def resume_header(grid: Grid) -> dict[str, Any]:
    """The first line of a build's partial file: what its races depend on, so a resume never mixes two builds."""
    return {"grid_digest": grid.digest, "banditmap": __version__, "rounds": grid.rounds, "instances": grid.instances}


def outcome_line(outcome: Outcome) -> str:
    """A finished race as one line of the partial file (what _read_partial reads back)."""
    return json.dumps({"cell": outcome.cell, "candidate": outcome.candidate, "regret": list(outcome.regret),
                       "refused": outcome.refused}) + "\n"


def provenance(grid: Grid) -> dict[str, Any]:
    """What the file was built from; nothing that differs between engines or runs (no times, no hosts)."""
    return {"banditmap": __version__, "grid": Path(grid.source).name, "grid_digest": grid.digest,
            "rounds": grid.rounds, "instances": grid.instances,
            "seeds": "per class and size: the first 4 bytes of sha256(class key | size)",
            "regret": ("final cumulative regret of each instance (best-arm identification: simple regret x rounds); "
                       "ratio = (regret + 1) / (best regret + 1), both raised by -best regret "
                       "when the best regret is negative")}


def build(catalog: Catalog, grid: Grid, out: Path, engine: Engine, resume: bool = True,
          progress: Callable[[int, int], None] | None = None) -> BuildResult:
    """Race the grid and write the evidence file to `out`. Finished tasks are appended to `out`.partial as they
    arrive, so an interrupted build resumes where it stopped (same grid, same banditmap version)."""
    started = time.perf_counter()
    the_plan = plan(catalog, grid)
    partial = partial_path(out)
    header = resume_header(grid)
    done = _read_partial(partial, header)  # refuses a file in the way that no build wrote
    if not resume:
        done = {}
    todo = [t for t in the_plan.tasks if (t.cell, t.candidate) not in done]
    resumed = len(the_plan.tasks) - len(todo)
    if not done:
        partial.write_text(json.dumps(header) + "\n", encoding="utf-8")
    total = len(the_plan.tasks)
    if progress is not None:
        progress(resumed, total)
    with partial.open("a", encoding="utf-8") as log:
        def record(index: int, outcome: Outcome) -> None:
            log.write(outcome_line(outcome))
            log.flush()
            done[(outcome.cell, outcome.candidate)] = outcome
            if progress is not None:
                progress(len(done), total)
        fan_out(race_task, todo, engine, record, name=task_name)
    outcomes = [done[(t.cell, t.candidate)] for t in the_plan.tasks]
    evidence = Evidence(str(out), provenance(grid), standings(the_plan, outcomes))
    write_atomic(out, json.dumps(evidence_dict(evidence), indent=1, sort_keys=False) + "\n")
    partial.unlink(missing_ok=True)
    refused = tuple((the_plan.cells[o.cell].key, o.candidate, o.refused) for o in outcomes if o.refused)
    return BuildResult(evidence, out, total, resumed, time.perf_counter() - started, refused, the_plan.notes)


def _read_partial(path: Path, header: Mapping[str, Any]) -> dict[tuple[int, str], Outcome]:
    """Tasks an interrupted build finished, if it was building the same thing; a cut last line is dropped."""
    if not path.exists():
        return {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        first = json.loads(lines[0]) if lines else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        first = None
    if not isinstance(first, dict) or "grid_digest" not in first:
        raise BanditmapError("exists and is not an interrupted evidence build (where a build keeps its finished "
                             "races); it is never overwritten: move it away", source=str(path), field="--out")
    if first != dict(header):
        return {}  # another grid or version: start afresh
    done: dict[tuple[int, str], Outcome] = {}
    for line in lines[1:]:
        try:
            row = json.loads(line)
            outcome = Outcome(int(row["cell"]), str(row["candidate"]), tuple(float(x) for x in row["regret"]),
                              str(row["refused"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        if all(math.isfinite(x) for x in outcome.regret):
            done[(outcome.cell, outcome.candidate)] = outcome
    return done
