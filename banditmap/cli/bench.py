"""`bench`: race the shortlist on a synthetic problem shaped like the use case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from banditmap.cli.options import (CatalogDirs, Force, Format, NoTimings, OutFile, Params, ProfileFile, Sets,
                                   UseCaseName, algorithms_option, examples, finish_run, friendly, plot_option,
                                   prepare_run, requested, seed_option, the_problem, top_option)

app = typer.Typer()


@app.command(epilog=examples("banditmap bench --usecase homepage-banner",
                             "banditmap bench --usecase search-ranking --reps 100 --plot regret.png",
                             "banditmap bench --set n_actions=20 --algorithms ucb1,thompson-beta "
                             "--param ucb1.alpha=1 --format json --out run.json"))
@friendly
def bench(
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    algorithms: Annotated[Optional[str], algorithms_option("Race")] = None,
    top: Annotated[int, top_option("How many shortlisted algorithms to race.", 1, 50)] = 5,
    rounds: Annotated[Optional[int], typer.Option("--rounds", min=1, max=10_000_000,
                                                  help="Decisions per repetition (default: the profile's "
                                                       "horizon, at most 10,000).")] = None,
    reps: Annotated[int, typer.Option("--reps", min=1, max=100_000, help="Independent repetitions.")] = 50,
    seed: Annotated[int, seed_option("every random stream")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, max=64,
                                      help="Parallel processes (0 = one per core).")] = 0,
    param: Params = None,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline",
                                           help="Also race uniform random play.")] = True,
    plot: Annotated[Optional[Path], plot_option("regret curves")] = None,
    out: OutFile = None, force: Force = False, no_timings: NoTimings = False, fmt: Format = "table",
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Race the shortlist on a synthetic problem shaped like your use case: regret, confidence, a verdict."""
    from banditmap.recommend.race import RaceRequest, race_profile
    from banditmap.render.bench import bench_report
    from banditmap.render.bench import plot as draw
    from banditmap.render.progress import ProgressBars
    catalog = prepare_run(fmt, out, plot, force, catalog_dirs)
    chosen_profile = the_problem(catalog, profile, usecase, set_, required="bench")
    request = RaceRequest(requested(algorithms), top, rounds, reps, baseline, param or [], seed, jobs)
    result = race_profile(catalog, chosen_profile, request,
                          lambda ids, rounds: ProgressBars(ids, rounds, overall="all algorithms"))
    finish_run(bench_report(result, timings=not no_timings), fmt, out, plot, lambda tmp: draw(result, tmp))
