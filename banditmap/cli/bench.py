"""`bench`: race the shortlist (or sweep one algorithm's hyperparameters) on a synthetic problem shaped like the
use case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from banditmap.cli.options import (CatalogDirs, EngineKind, Force, Format, Jobs, NoTimings, OutFile, Params,
                                   ProfileFile, Scheduler, Sets, UseCaseName, algorithms_option, engine, examples,
                                   finish_run, friendly, plot_option, prepare_run, requested, seed_option,
                                   the_problem, top_option)
from banditmap.errors import BanditmapError

app = typer.Typer()

Sweeps = Annotated[Optional[list[str]], typer.Option(
    "--sweep", metavar="ALGO.PARAM=VALUES", help="Race one algorithm's settings instead of the shortlist: "
    "V1,V2,..., lo:hi:n (linear) or lo:hi:n:log; repeat for a grid.")]


@app.command(epilog=examples("banditmap bench --usecase homepage-banner",
                             "banditmap bench --usecase search-ranking --reps 100 --plot regret.png",
                             "banditmap bench --set n_actions=20 --algorithms ucb1,thompson-beta "
                             "--param ucb1.alpha=1 --format json --out run.json",
                             "banditmap bench --usecase homepage-banner --sweep epsilon-greedy.epsilon=0.01:0.5:8:log",
                             "banditmap bench --usecase homepage-banner --engine dask --scheduler tcp://10.0.0.5:8786"))
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
    jobs: Jobs = 0, engine_kind: EngineKind = "local", scheduler: Scheduler = None,
    param: Params = None, sweep: Sweeps = None,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline",
                                           help="Also race uniform random play.")] = True,
    plot: Annotated[Optional[Path], plot_option("regret curves (with --sweep: regret per setting)")] = None,
    out: OutFile = None, force: Force = False, no_timings: NoTimings = False, fmt: Format = "table",
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Race the shortlist on a synthetic problem shaped like your use case: regret, confidence, a verdict."""
    from banditmap.render.progress import ProgressBars
    where = engine(engine_kind, jobs, scheduler)
    if sweep and algorithms:
        raise BanditmapError("a sweep races the settings of the algorithm it names; leave out --algorithms",
                             field="--sweep")
    catalog = prepare_run(fmt, out, plot, force, catalog_dirs)
    chosen_profile = the_problem(catalog, profile, usecase, set_, required="bench")
    if sweep:
        from banditmap.recommend.sweep import SweepRequest, sweep_profile
        from banditmap.render import sweep as sweep_render
        swept = sweep_profile(catalog, chosen_profile, SweepRequest(sweep, rounds, reps, param or [], seed, where),
                              lambda labels, rounds: ProgressBars(labels, rounds, overall="all settings"))
        finish_run(sweep_render.sweep_report(swept, timings=not no_timings), fmt, out, plot,
                   lambda tmp: sweep_render.plot(swept, tmp))
        return
    from banditmap.recommend.race import RaceRequest, race_profile
    from banditmap.render.bench import bench_report
    from banditmap.render.bench import plot as draw
    request = RaceRequest(requested(algorithms), top, rounds, reps, baseline, param or [], seed, where)
    result = race_profile(catalog, chosen_profile, request,
                          lambda ids, rounds: ProgressBars(ids, rounds, overall="all algorithms"))
    finish_run(bench_report(result, timings=not no_timings), fmt, out, plot, lambda tmp: draw(result, tmp))
