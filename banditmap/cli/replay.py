"""`replay` evaluates the shortlist on the user's logs; `make-logs` writes logs from a known synthetic world."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from banditmap.cli.options import (CatalogDirs, EngineKind, Force, Format, NoTimings, OutFile, Params,
                                   ProfileFile, Scheduler, Sets, UseCaseName, algorithms_option, comma_list, engine,
                                   examples, finish_run, friendly, load, plot_option, prepare_run, requested,
                                   seed_option, the_problem, top_option)
from banditmap.files import check_destination

app = typer.Typer()

ReplayJobs = Annotated[int, typer.Option("--jobs", "-j", min=0, max=64, help="Parallel processes, one learner each "
                                         "(0 = one per core; default 1: every learner in one pass over the log in "
                                         "this process, the fastest on a few cores); with --engine dask, the workers "
                                         "of a cluster started here.")]
Sweeps = Annotated[Optional[list[str]], typer.Option(
    "--sweep", metavar="ALGO.PARAM=VALUES", help="Replay one algorithm's settings instead of the shortlist: "
    "V1,V2,..., lo:hi:n (linear) or lo:hi:n:log; repeat for a grid.")]


def column_option(name: str, what: str, default: str) -> Any:
    return typer.Option(f"--{name}-col", metavar="NAME", help=f"{what} (default: {default}).")


@app.command(epilog=examples("banditmap replay logs.csv --usecase homepage-banner",
                             "banditmap replay --check logs.csv --effect 0.1",
                             "banditmap replay open_bandit/random/all/all.csv --algorithms linucb,lin-ts "
                             "--format json --out replay.json",
                             "banditmap replay logs.csv --usecase homepage-banner "
                             "--sweep epsilon-greedy.epsilon=0.01:0.5:8:log --jobs 0"))
@friendly
def replay(
    logs_path: Annotated[Path, typer.Argument(metavar="LOGS", help="CSV or Parquet file of logged decisions, or a folder of Parquet files.")],
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    algorithms: Annotated[Optional[str], algorithms_option("Replay")] = None,
    top: Annotated[int, top_option("How many shortlisted algorithms to replay.", 1, 50)] = 5,
    action_col: Annotated[Optional[str], column_option("action", "Action column", "item_id or action")] = None,
    reward_col: Annotated[Optional[str], column_option("reward", "Reward column",
                                                       "click, reward or conversion")] = None,
    propensity_col: Annotated[Optional[str], column_option("propensity", "Logging propensity column",
                                                           "propensity_score, pscore or propensity")] = None,
    position_col: Annotated[Optional[str], column_option("position", "Position column of ranking logs",
                                                         "position, if present")] = None,
    slate_col: Annotated[Optional[str], column_option("slate", "Slate id column of slate logs (one row per slot; "
                                                      "slates are scored by the pseudoinverse estimator)",
                                                      "slate_id, if present")] = None,
    context_cols: Annotated[Optional[str], typer.Option(
        "--context-cols", metavar="PATTERN,...",
        help="Context columns, names or globs (default: user_feature_*, user-item_affinity_*, context_*).")] = None,
    seed: Annotated[int, seed_option("the learners and the bootstrap")] = 0,
    holdout: Annotated[float, typer.Option(
        "--holdout", min=0.05, max=0.95, metavar="SHARE",
        help="Share of the log, at its end, on which final policies are scored; learners learn on the rest.")] = 0.5,
    replay_method: Annotated[str, typer.Option(
        "--replay-method", metavar="METHOD",
        help="On non-uniform logs: rejection (sampling at the smallest propensity), weighted (importance-weighted, "
        "clipped), or auto: weighted when some propensity is under 1% of uniform play.")] = "auto",
    clip: Annotated[float, typer.Option(
        "--clip", min=1.0, max=1e6, metavar="W",
        help="Largest importance weight of weighted replay, in units of uniform play (1 / (K p)).")] = 10.0,
    estimate_propensities: Annotated[bool, typer.Option(
        "--estimate-propensities", help="Estimate the propensities from the logged actions and contexts (a "
        "cross-fitted multinomial logistic model) instead of reading them; done anyway when the log has none."
    )] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Only lint the log (types, ranges, duplicate ids, propensities, support, power) and say "
        "whether it can answer the question: exit 0 when it can, 1 when it cannot.")] = False,
    effect: Annotated[float, typer.Option(
        "--effect", min=0.001, max=10.0, metavar="SHARE",
        help="With --check: the difference to tell, relative to the logging policy's reward.")] = 0.1,
    id_col: Annotated[Optional[str], column_option("id", "With --check: decision id column",
                                                   "decision_id, id or the unnamed index, if present")] = None,
    param: Params = None,
    jobs: ReplayJobs = 1, engine_kind: EngineKind = "local", scheduler: Scheduler = None,
    sweep: Sweeps = None,
    plot: Annotated[Optional[Path], plot_option("replayed reward over the log")] = None,
    out: OutFile = None, force: Force = False, no_timings: NoTimings = False, fmt: Format = "table",
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Evaluate the shortlist on your own logs: replayed reward, off-policy estimates, diagnostics, a verdict."""
    from banditmap.ope.logs import Columns
    from banditmap.recommend.replay import replay_file
    from banditmap.render.progress import ProgressBars
    from banditmap.render.replay import plot as draw
    from banditmap.render.replay import replay_report
    where = engine(engine_kind, jobs, scheduler)
    if sweep and (algorithms or check):
        from banditmap.errors import BanditmapError
        raise BanditmapError("a sweep replays the settings of the algorithm it names; leave out "
                             + ("--algorithms" if algorithms else "--check"), field="--sweep")
    catalog = prepare_run(fmt, out, plot, force, catalog_dirs)
    chosen_profile = the_problem(catalog, profile, usecase, set_)
    patterns = tuple(comma_list(context_cols)) if context_cols is not None else None
    columns = Columns(action_col, reward_col, propensity_col, position_col, patterns, slate_col)
    if replay_method not in ("auto", "rejection", "weighted"):
        from banditmap.errors import BanditmapError, shown
        raise BanditmapError(f"expected auto, rejection or weighted, got {shown(replay_method)}",
                             field="--replay-method")
    if check:
        _check(logs_path, columns, chosen_profile.answers.get("n_actions"), effect, holdout, id_col, plot, fmt, out,
               estimate_propensities)
        return
    labels = {"replay": "replaying learners", "score": "scoring final policies"}
    if sweep:
        from banditmap.recommend.replaysweep import sweep_file
        from banditmap.render import replaysweep as sweep_render
        with ProgressBars(labels=labels) as bars:
            swept = sweep_file(catalog, chosen_profile, logs_path, columns, sweep, param or [], seed, bars,
                               holdout=holdout, method=replay_method, clip=clip,
                               estimate_propensities=estimate_propensities, engine=where)
        finish_run(sweep_render.replay_sweep_report(swept, timings=not no_timings), fmt, out, plot,
                   lambda tmp: sweep_render.replay_plot(swept, tmp))
        return
    with ProgressBars(labels=labels) as bars:
        result = replay_file(catalog, chosen_profile, logs_path, columns, requested(algorithms), top, param or [],
                             seed, bars, holdout=holdout, method=replay_method, clip=clip,
                             estimate_propensities=estimate_propensities, engine=where)
    finish_run(replay_report(result, timings=not no_timings), fmt, out, plot, lambda tmp: draw(result, tmp))


def _check(path: Path, columns: Any, n_actions: Any, effect: float, holdout: float, id_col: str | None,
           plot: Path | None, fmt: str, out: Path | None, estimate: bool) -> None:
    """`replay --check`: the lint's report, then exit 0 when the log can answer the question, 1 when it cannot."""
    from banditmap.errors import BanditmapError
    from banditmap.ope.check import check_file
    from banditmap.render.logcheck import check_report
    if plot is not None:
        raise BanditmapError("--check draws nothing; leave out --plot", field="--plot")
    result = check_file(path, columns, int(n_actions) if n_actions is not None else None, effect, holdout, id_col,
                        estimate=estimate)
    finish_run(check_report(result), fmt, out, None, lambda tmp: None)
    raise typer.Exit(0 if result.answerable else 1)


@app.command(name="make-logs", epilog=examples("banditmap make-logs logs.csv --usecase homepage-banner "
                                               "--rows 100000 --logging softmax"))
@friendly
def make_logs(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="CSV (.csv) or Parquet (.parquet, .pq) file to write.")],
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    rows: Annotated[int, typer.Option("--rows", min=1, max=100_000_000, help="Logged decisions.")] = 100_000,
    logging: Annotated[str, typer.Option("--logging", metavar="POLICY",
                                         help="uniform, or softmax (favours good actions).")] = "uniform",
    positions: Annotated[int, typer.Option("--positions", min=0, max=100,
                                           help="Add a position column with this many positions.")] = 0,
    slate: Annotated[int, typer.Option("--slate", min=0, max=100, metavar="L",
                                       help="Write slates of L slots, one row per slot (slate_id, position), with an "
                                       "additive slate reward.")] = 0,
    seed: Annotated[int, seed_option("the environment and the log")] = 0,
    force: Force = False,
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Write logged feedback from a known synthetic environment shaped like your use case (to try `replay`)."""
    from banditmap.ope import synthetic
    check_destination(path, "FILE", force=force, suffixes=(".csv", ".parquet", ".pq"))
    answers = the_problem(load(catalog_dirs), profile, usecase, set_).answers
    env = synthetic.make_logs(path, answers, logging, rows, seed, positions, slate)
    what = f"slates of {slate} slots, one row per slot" if slate else "logged decisions"
    typer.echo(f"wrote {rows:,} {what} ({env.n_actions} actions, {env.n_features} features, {logging} "
               f"logging) to {path}", err=True)
