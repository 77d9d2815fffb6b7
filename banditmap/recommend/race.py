"""Which candidates race on a profile's problem: the named ones or the first of its shortlist whose simulator runs
on that problem kind (topped up with the nearest candidates, marked, when fewer than three exact ones can race),
and the problem kind's uniform random baseline."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Callable, Sequence

from banditmap.executor import Engine
from banditmap.model import Catalog, Profile
from banditmap.recommend.candidates import (BASELINE_NAME, Chosen, Lineup, Usable, line_up, parse_params,
                                           simulator_kinds, specs)
from banditmap.sim import bench
from banditmap.sim.adapters import views
from banditmap.sim.bench import BASELINES, BenchResult
from banditmap.sim.problem import Problem, problem_from_answers
from banditmap.sim.runner import Progress

LEAST_EXACT = 3  # fewer exact candidates than this that can race, and the nearest ones top the race up


@dataclass(frozen=True)
class RaceRequest:
    """What a race of a profile's candidates is asked for: which (named, or the first `top` of the shortlist),
    how long and how often, with which hyperparameters (`id.name=value`), seed and engine (local processes or a
    Dask cluster)."""

    requested: Sequence[str] | None = None
    top: int = 5
    rounds: int | None = None  # None: the profile's horizon, at most 10,000
    reps: int = 50
    baseline: bool = True
    params: Sequence[str] = ()
    seed: int = 0
    engine: Engine = field(default_factory=Engine)
    least: int = LEAST_EXACT  # top up with nearest candidates below this many exact ones (0: never)


def race_profile(catalog: Catalog, profile: Profile, request: RaceRequest,
                 progress: Callable[[list[str], int], AbstractContextManager[Progress]] | None = None) -> BenchResult:
    """The race for a profile as one call: its problem, its candidates configured, the race. `progress` makes
    the progress report once the candidates' ids and the rounds are known (e.g. progress bars)."""
    problem = problem_from_answers(profile.answers, request.rounds, request.reps)
    lineup = choose_lineup(catalog, profile, problem, request.requested, request.top, request.baseline, request.least)
    entrants = specs(catalog, list(lineup.chosen), parse_params(list(request.params)))
    if progress is None:
        return bench.race(entrants, problem, request.seed, progress=None, skipped=lineup.skipped,
                          engine=request.engine, misses=lineup.misses)
    with progress([s.id for s in entrants], problem.rounds) as report:
        return bench.race(entrants, problem, request.seed, progress=report, skipped=lineup.skipped,
                          engine=request.engine, misses=lineup.misses)


def choose(catalog: Catalog, profile: Profile, problem: Problem, requested: Sequence[str] | None, top: int,
           baseline: bool) -> tuple[list[Chosen], list[tuple[str, str]]]:
    """(candidate id, name, simulator) to race, and (id, reason) for shortlisted candidates left out. Compositions
    race like entries: their simulator is the base's wrapped by each adapter's. Exact candidates only."""
    lineup = choose_lineup(catalog, profile, problem, requested, top, baseline, least=0)
    return list(lineup.chosen), list(lineup.skipped)


def choose_lineup(catalog: Catalog, profile: Profile, problem: Problem, requested: Sequence[str] | None, top: int,
                  baseline: bool, least: int = LEAST_EXACT) -> Lineup:
    """As `choose`, topped up with the nearest candidates whose simulator runs on the problem when fewer than
    `least` exact ones can race (up to `top`), each with the answers it misses."""
    def why_not(simulator: str) -> str | None:
        kinds = simulator_kinds(simulator)
        if problem.kind in kinds:
            return None
        where = f" (it runs on {' and '.join(sorted(kinds))} problems)" if kinds else ""
        return f"its simulator does not run on {problem.kind} problems{where}"

    def view(simulator: str) -> tuple[str, str] | None:
        kinds = simulator_kinds(simulator)
        if problem.kind == "combination" and "arms" in kinds and views.pages(problem) <= views.MAX_PAGES:
            return f"{simulator}+pages-as-arms", "each page as one arm"
        if problem.kind == "assortment" and "slate" in kinds:
            return f"{simulator}+assortment-as-slate", "the assortment offered as a slate"
        return None

    lineup = line_up(catalog, profile, requested, top, Usable(
        why_not, "no simulator yet", "none of the shortlisted algorithms has a simulator for this problem yet",
        "bench", compositions=True, view=view), least)
    chosen = list(lineup.chosen)
    if baseline and problem.kind in BASELINES and not any(c[2] == BASELINES[problem.kind] for c in chosen):
        chosen.append((BASELINES[problem.kind], BASELINE_NAME, BASELINES[problem.kind]))
    return Lineup(tuple(chosen), lineup.skipped, lineup.misses)
