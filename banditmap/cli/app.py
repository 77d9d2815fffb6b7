"""The command line: parses options, calls one core function, hands the result to a renderer."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, TypeVar

import typer

from banditmap import __version__
from banditmap.errors import BanditmapError, shown
from banditmap.files import Outputs, check_destination, write_atomic, write_via
from banditmap.render import plotting

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="banditmap", no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode="rich",
    help="Pick a bandit algorithm for an e-commerce problem: answer a few questions about the reward, the "
         "actions, the features and the environment, and get a ranked shortlist with the reasons.",
)
catalog_app = typer.Typer(no_args_is_help=True, help="Browse and check the algorithm catalog.")
app.add_typer(catalog_app, name="catalog")

CatalogDirs = Annotated[Optional[list[Path]], typer.Option(
    "--catalog", metavar="DIR", help="Extra catalog folder (algorithms/, usecases/); repeatable, merged by id, "
    "later wins. Also read from $BANDITMAP_CATALOG.")]
ProfileFile = Annotated[Optional[Path], typer.Option("--profile", "-p", metavar="FILE",
                                                     help="A profile YAML file (as written by `ask --save`).")]
UseCaseName = Annotated[Optional[str], typer.Option("--usecase", "-u", metavar="NAME",
                                                    help="A shipped use case; see `banditmap usecases`.")]
Sets = Annotated[Optional[list[str]], typer.Option("--set", "-s", metavar="TRAIT=VALUE",
                                                   help="Set one trait; repeatable, applied last, later wins.")]
Format = Annotated[str, typer.Option("--format", "-f", metavar="FORMAT",
                                     help="table, json, csv or markdown.")]
Params = Annotated[Optional[list[str]], typer.Option("--param", metavar="ID.NAME=VALUE",
                                                   help="Set a hyperparameter; repeatable.")]
OutFile = Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Also write the JSON here.")]
Force = Annotated[bool, typer.Option("--force", help="Replace files that exist already (never done unasked).")]
NoTimings = Annotated[bool, typer.Option("--no-timings", help="Leave wall-clock figures out, so two runs with "
                                         "one seed give the same output byte for byte.")]


def friendly(command: F) -> F:
    """Print a user error as one line on stderr and exit with status 2; anything else is a bug and raises."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BanditmapError as exc:
            typer.echo(f"banditmap: error: {exc.render()}", err=True)
            raise typer.Exit(2) from None
    return wrapper  # type: ignore[return-value]


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"banditmap {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                              help="Show the version and exit.")] = False) -> None:
    """banditmap: a map of bandit algorithms for e-commerce."""


def check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json", "csv", "markdown")) -> str:
    if fmt not in allowed:
        raise BanditmapError(f"expected one of {', '.join(allowed)}, got {shown(fmt)}", field="--format")
    return fmt


def check_outputs(out: Path | None, plot: Path | None, force: bool) -> None:
    """Refuse unwritable --out and --plot destinations (and a plot without matplotlib) before any work."""
    if out is not None:
        check_destination(out, "--out", force=force)
    if plot is not None:
        check_destination(plot, "--plot", force=force, suffixes=(".png", ".svg"))
        plotting.require("--plot")
        if out is not None and out.resolve() == plot.resolve():
            raise BanditmapError("--out and --plot name the same file", source=str(out), field="--plot")


def write_outputs(out: Path | None, json_text: Callable[[], str], plot: Path | None,
                  draw: Callable[[Path], object]) -> None:
    """Write --out (the JSON) and --plot (the picture) all or none, after the command's work succeeded."""
    with Outputs() as outputs:
        if out is not None:
            outputs.add_text(out, json_text())
        if plot is not None:
            outputs.add(plot, draw)


def comma_list(text: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated option value."""
    return [item.strip() for item in text.split(",") if item.strip()]


def load(dirs: list[Path] | None) -> Any:
    from banditmap.catalog.loading import load_catalog
    return load_catalog(dirs or [])


def build_profile(catalog: Any, profile: Path | None, usecase: str | None, sets: list[str] | None,
                  required: str | None = None) -> Any:
    """Use case, then profile file, then --set pairs; later layers win. A `required` command refuses none."""
    if required and not (profile or usecase or sets):
        raise BanditmapError("say what the problem is: --profile FILE, --usecase NAME or --set trait=value "
                             "(or run `banditmap ask`)", field=required)
    from banditmap.catalog.profiles import check_assignments, parse_assignment, read_profile
    from banditmap.model import Profile
    answers: dict[str, Any] = {}
    names: list[str] = []
    source = ""
    if usecase:
        found = catalog.usecase(usecase)
        if found is None:
            raise BanditmapError("unknown use case; expected one of " + ", ".join(u.id for u in catalog.usecases),
                                 source="--usecase", field=usecase)
        answers.update(found.answers)
        names.append(found.id)
        source = f"usecase:{found.id}"
    if profile:
        read = read_profile(profile, catalog.traits, catalog.rules)
        answers.update(read.answers)
        names.append(read.name)
        source = read.source
    pairs = [parse_assignment(s) for s in sets or []]
    if pairs:
        names.append(" ".join(f"{t}={v}" for t, v in pairs))
    checked = check_assignments(pairs, catalog.traits, catalog.rules, answers,
                                source="--set" if pairs else (source or "--set"))
    return Profile(checked, " + ".join(names), source)


@app.command(epilog="Examples:  banditmap recommend --usecase homepage-banner  |  "
                    "banditmap recommend -p my.yaml --set environment=drifting --explain  |  "
                    "banditmap recommend --batch cases.csv --format csv")
@friendly
def recommend(
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    top: Annotated[int, typer.Option("--top", "-n", min=0, help="How many to list (0 = all).")] = 10,
    explain: Annotated[bool, typer.Option("--explain", "-e", help="Also list what was ruled out and why.")] = False,
    fmt: Format = "table",
    batch: Annotated[Optional[str], typer.Option("--batch", metavar="FILE",
                                                 help="Many cases: YAML list, JSON lines or CSV; - for stdin. "
                                                      "Prints JSON lines (or CSV with --format csv).")] = None,
    no_compose: Annotated[bool, typer.Option("--no-compose", help="Only catalog entries, no base algorithm "
                                             "wrapped by adapters.")] = False,
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Rank the catalog's algorithms, and algorithms composed with adapters, for a use case, with the reasons."""
    check_format(fmt)
    catalog = load(catalog_dirs)
    if batch is not None:
        if profile or usecase or set_:
            raise BanditmapError("--batch cannot be combined with --profile, --usecase or --set", field="--batch")
        raise typer.Exit(run_batch(catalog, batch, fmt, top or None, not no_compose))
    from banditmap.recommend.matching import shortlist
    from banditmap.render.output import render_shortlist
    chosen = build_profile(catalog, profile, usecase, set_, required="recommend")
    result = shortlist(chosen, catalog, top or None, compose=not no_compose)
    render_shortlist(result, fmt, explain)
    if not result.exact and not result.advice:
        typer.echo("banditmap: warning: no algorithm or composition handles every answer; these are the nearest "
                   "candidates, each with the answers it misses", err=True)


def run_batch(catalog: Any, batch: str, fmt: str, top: int | None, compose: bool = True) -> int:
    """Stream one output row per case and rank; invalid cases go to stderr too. Status 1 if any case failed."""
    from banditmap.catalog.yamlio import MAX_BATCH_BYTES, decode, read_text
    from banditmap.recommend import batch as batch_mod
    from banditmap.render.output import batch_header, batch_lines
    if fmt not in ("table", "json", "csv"):
        raise BanditmapError("batch output is JSON lines (json) or csv", field="--format")
    as_csv = fmt == "csv"
    source = "<stdin>" if batch == "-" else batch
    if batch == "-":
        raw = sys.stdin.buffer.read(MAX_BATCH_BYTES + 1)
        if len(raw) > MAX_BATCH_BYTES:
            raise BanditmapError(f"more than {MAX_BATCH_BYTES // 2**20} MiB on standard input; split the batch",
                                 source=source)
        text = decode(raw, source)
    else:
        text = read_text(Path(batch), MAX_BATCH_BYTES)
    failed = 0
    sys.stdout.write(batch_header(batch_mod.BATCH_COLUMNS, as_csv))
    for item in batch_mod.run_batch(text, source, catalog, top, compose):
        if item.error:
            failed += 1
            typer.echo(f"banditmap: error: {item.error}", err=True)
        sys.stdout.write(batch_lines(batch_mod.result_rows(item), batch_mod.BATCH_COLUMNS, as_csv))
    return 1 if failed else 0


@app.command(epilog="Example:  banditmap compare ucb1 thompson-beta kl-ucb --format markdown")
@friendly
def compare(ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Algorithm ids to compare.")],
            fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """Show algorithms side by side: traits handled (* = built for), cost, hyperparameters, references."""
    from banditmap.render import output as render
    check_format(fmt)
    catalog = load(catalog_dirs)
    algorithms = [find_algorithm(catalog, i) for i in ids]
    header, rows = render.compare_rows(algorithms, catalog)
    data = {"schema": render.COMPARE_SCHEMA, "algorithms": [render.algorithm_dict(a) for a in algorithms]}
    render.render_listing(fmt, "Comparison (* = built for this value)", header, rows, data)


def find_algorithm(catalog: Any, algorithm_id: str) -> Any:
    found = catalog.algorithm(algorithm_id)
    if found is None:
        import difflib
        close = difflib.get_close_matches(algorithm_id, [a.id for a in catalog.algorithms], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `banditmap catalog list`"
        raise BanditmapError(f"unknown algorithm id{hint}", field=algorithm_id)
    return found


@app.command(name="map", epilog="Examples:  banditmap map  |  banditmap map --usecase search-ranking  |  "
                                "banditmap map --format svg map.svg")
@friendly
def map_(path: Annotated[Optional[Path], typer.Argument(metavar="[FILE]",
                                                        help="Picture to write (with --format svg or png).")] = None,
         profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
         fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT",
                                          help="text (the terminal), svg or png.")] = "text",
         sources: Annotated[bool, typer.Option("--sources", help="Say where each decision point and branch comes "
                                               "from (text format; pictures show it as hover text).")] = False,
         force: Force = False, catalog_dirs: CatalogDirs = None) -> None:
    """Draw the decision map as a tree, with the algorithms built for each branch; a profile marks your path."""
    from banditmap.recommend.mapview import decision_map
    from banditmap.recommend.matching import shortlist
    check_format(fmt, ("text", "svg", "png"))
    if fmt != "text" and path is None:
        raise BanditmapError(f"name the file to write, e.g. banditmap map --format {fmt} map.{fmt}", field="FILE")
    if fmt == "text" and path is not None:
        raise BanditmapError("a file is written with --format svg or png; text goes to the terminal", field="FILE")
    if path is not None:
        check_destination(path, "FILE", force=force, suffixes=(f".{fmt}",))
    if fmt == "png":
        plotting.require("--format")
    catalog = load(catalog_dirs)
    result = None
    if profile or usecase or set_:
        result = shortlist(build_profile(catalog, profile, usecase, set_), catalog)
    root = decision_map(catalog, result)
    if fmt == "text":
        from banditmap.render.output import print_map
        print_map(root, sources=sources)
        return
    from banditmap.render import mapdraw
    assert path is not None
    if fmt == "svg":
        write_atomic(path, mapdraw.to_svg(root))
    else:
        write_via(path, lambda tmp: mapdraw.to_png(root, tmp))
    typer.echo(f"wrote the map to {path}", err=True)


@app.command(epilog="Example:  banditmap usecases --format markdown")
@friendly
def usecases(fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """List the shipped e-commerce use cases, usable with --usecase."""
    from banditmap.render import output as render
    check_format(fmt)
    catalog = load(catalog_dirs)
    data = [{"id": u.id, "name": u.name, "description": u.description, "profile": dict(u.answers)}
            for u in catalog.usecases]
    rows = [[u.id, u.name, u.description] for u in catalog.usecases]
    render.render_listing(fmt, "Use cases", ["id", "name", "description"], rows, data)


@app.command(epilog="Examples:  banditmap ask --save my-shop.yaml  |  banditmap ask --resume "
                    "my-shop.yaml.partial.yaml  |  printf '1\\n\\n' | banditmap ask")
@friendly
def ask(save: Annotated[Optional[Path], typer.Option("--save", metavar="FILE",
                                                     help="Where to write the profile.")] = None,
        resume: Annotated[Optional[Path], typer.Option("--resume", metavar="FILE",
                                                       help="Continue an interrupted questionnaire.")] = None,
        top: Annotated[int, typer.Option("--top", "-n", min=0, help="How many to list (0 = all).")] = 5,
        force: Annotated[bool, typer.Option("--force", help="Replace the --save file if it exists, and start over "
                                            "although unfinished answers are kept for it.")] = False,
        catalog_dirs: CatalogDirs = None) -> None:
    """Answer the decision points one by one (? shows help), then see your shortlist."""
    from banditmap.cli.questionnaire import run_questionnaire
    raise typer.Exit(run_questionnaire(load(catalog_dirs), save, resume, top or None, force))


@app.command(epilog="Examples:  banditmap bench --usecase homepage-banner  |  banditmap bench --usecase "
                    "search-ranking --reps 100 --plot regret.png  |  banditmap bench --set n_actions=20 --algorithms "
                    "ucb1,thompson-beta --param ucb1.alpha=1 --format json --out run.json")
@friendly
def bench(
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    algorithms: Annotated[Optional[str], typer.Option("--algorithms", "-a", metavar="ID,ID,...",
                                                      help="Race these instead of the shortlist.")] = None,
    top: Annotated[int, typer.Option("--top", "-n", min=1, max=50,
                                     help="How many shortlisted algorithms to race.")] = 5,
    rounds: Annotated[Optional[int], typer.Option("--rounds", min=1, max=10_000_000,
                                                  help="Decisions per repetition (default: the profile's "
                                                       "horizon, at most 10,000).")] = None,
    reps: Annotated[int, typer.Option("--reps", min=1, max=100_000, help="Independent repetitions.")] = 50,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of every random stream.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, max=64,
                                      help="Parallel processes (0 = one per core).")] = 0,
    param: Params = None,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline",
                                           help="Also race uniform random play.")] = True,
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE",
                                                 help="Write regret curves to a .png or .svg.")] = None,
    out: OutFile = None,
    force: Force = False,
    no_timings: NoTimings = False,
    fmt: Format = "table",
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Race the shortlist on a synthetic problem shaped like your use case: regret, confidence, a verdict."""
    from banditmap.recommend import candidates, race
    from banditmap.render import bench as benchrender
    from banditmap.sim import bench as bench_mod
    from banditmap.sim.problem import problem_from_answers
    check_format(fmt)
    check_outputs(out, plot, force)
    catalog = load(catalog_dirs)
    chosen_profile = build_profile(catalog, profile, usecase, set_, required="bench")
    problem = problem_from_answers(chosen_profile.answers, rounds, reps)
    requested = comma_list(algorithms) if algorithms else None
    chosen, skipped = race.choose(catalog, chosen_profile, problem, requested, top, baseline)
    specs = candidates.specs(catalog, chosen, candidates.parse_params(param or []))
    with benchrender.ProgressBars([(s.id, s.name) for s in specs], problem.rounds) as bars:
        result = bench_mod.race(specs, problem, seed, jobs, bars, skipped)
    benchrender.render_bench(result, fmt, timings=not no_timings)
    write_outputs(out, lambda: benchrender.to_json(benchrender.bench_dict(result, timings=not no_timings)),
                  plot, lambda tmp: benchrender.plot(result, tmp))


@app.command(epilog="Examples:  banditmap replay logs.csv --usecase homepage-banner  |  banditmap replay "
                    "open_bandit/random/all/all.csv --algorithms linucb,lin-ts --format json --out replay.json")
@friendly
def replay(
    logs_path: Annotated[Path, typer.Argument(metavar="LOGS", help="CSV (or Parquet) of logged decisions.")],
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    algorithms: Annotated[Optional[str], typer.Option("--algorithms", "-a", metavar="ID,ID,...",
                                                      help="Replay these instead of the shortlist.")] = None,
    top: Annotated[int, typer.Option("--top", "-n", min=1, max=50,
                                     help="How many shortlisted algorithms to replay.")] = 5,
    action_col: Annotated[Optional[str], typer.Option("--action-col", metavar="NAME",
                                                      help="Action column (default: item_id or action).")] = None,
    reward_col: Annotated[Optional[str], typer.Option("--reward-col", metavar="NAME",
                                                      help="Reward column (default: click, reward or "
                                                           "conversion).")] = None,
    propensity_col: Annotated[Optional[str], typer.Option(
        "--propensity-col", metavar="NAME",
        help="Logging propensity column (default: propensity_score, pscore or propensity).")] = None,
    position_col: Annotated[Optional[str], typer.Option("--position-col", metavar="NAME",
                                                        help="Position column of ranking logs (default: "
                                                             "position, if present).")] = None,
    context_cols: Annotated[Optional[str], typer.Option(
        "--context-cols", metavar="PATTERN,...",
        help="Context columns, names or globs (default: user_feature_*, user-item_affinity_*, context_*).")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the learners and the bootstrap.")] = 0,
    param: Params = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE",
                                                 help="Write replayed reward over the log to a .png or .svg.")] = None,
    out: OutFile = None,
    force: Force = False,
    no_timings: NoTimings = False,
    fmt: Format = "table",
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Evaluate the shortlist on your own logs: replayed reward, off-policy estimates, diagnostics, a verdict."""
    from banditmap.ope.logs import Columns
    from banditmap.recommend.replay import replay_file
    from banditmap.render import replay as replayrender
    check_format(fmt)
    check_outputs(out, plot, force)
    catalog = load(catalog_dirs)
    chosen_profile = build_profile(catalog, profile, usecase, set_)
    patterns = tuple(comma_list(context_cols)) if context_cols is not None else None
    columns = Columns(action_col, reward_col, propensity_col, position_col, patterns)
    requested = comma_list(algorithms) if algorithms else None
    with replayrender.ProgressBar() as bar:
        result = replay_file(catalog, chosen_profile, logs_path, columns, requested, top, param or [], seed, bar)
    replayrender.render_replay(result, fmt, timings=not no_timings)
    write_outputs(out, lambda: replayrender.to_json(replayrender.replay_dict(result, timings=not no_timings)),
                  plot, lambda tmp: replayrender.plot(result, tmp))


@app.command(name="make-logs", epilog="Example:  banditmap make-logs logs.csv --usecase homepage-banner "
                                      "--rows 100000 --logging softmax")
@friendly
def make_logs(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="CSV (.csv) or Parquet (.parquet, .pq) file to write.")],
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    rows: Annotated[int, typer.Option("--rows", min=1, max=100_000_000, help="Logged decisions.")] = 100_000,
    logging: Annotated[str, typer.Option("--logging", metavar="POLICY",
                                         help="uniform, or softmax (favours good actions).")] = "uniform",
    positions: Annotated[int, typer.Option("--positions", min=0, max=100,
                                           help="Add a position column with this many positions.")] = 0,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the environment and the log.")] = 0,
    force: Force = False,
    catalog_dirs: CatalogDirs = None,
) -> None:
    """Write logged feedback from a known synthetic environment shaped like your use case (to try `replay`)."""
    from banditmap.ope import synthetic
    if logging not in synthetic.LOGGING:
        raise BanditmapError(f"expected one of {', '.join(synthetic.LOGGING)}, got {shown(logging)}", field="--logging")
    check_destination(path, "FILE", force=force, suffixes=(".csv", ".parquet", ".pq"))
    catalog = load(catalog_dirs)
    env = synthetic.environment_for(build_profile(catalog, profile, usecase, set_).answers, seed)
    synthetic.write_log(path, env, synthetic.LoggingPolicy(logging), rows, seed, positions)
    typer.echo(f"wrote {rows:,} logged decisions ({env.n_actions} actions, {env.n_features} features, {logging} "
               f"logging) to {path}", err=True)


# --- catalog subcommands --------------------------------------------------------------------------------------

@catalog_app.command("list", epilog="Example:  banditmap catalog list --where action_structure=ranking")
@friendly
def catalog_list(where: Annotated[Optional[list[str]], typer.Option(
                     "--where", "-w", metavar="TRAIT=VALUE", help="Only algorithms handling this; repeatable.")] = None,
                 fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """List the algorithms in the catalog."""
    from banditmap.catalog.profiles import check_assignments, parse_assignment
    from banditmap.recommend.matching import rule_out
    from banditmap.render import output as render
    check_format(fmt)
    catalog = load(catalog_dirs)
    filters = check_assignments([parse_assignment(w) for w in where or []], catalog.traits, (), source="--where")
    chosen = [a for a in catalog.algorithms
              if all(not catalog.trait(t).is_choice or rule_out(a, catalog.trait(t), str(v)) is None
                     for t, v in filters.items())]
    header, rows = render.catalog_rows(chosen)
    data = {"schema": render.CATALOG_SCHEMA, "algorithms": [render.algorithm_dict(a) for a in chosen]}
    render.render_listing(fmt, f"{len(chosen)} algorithms", header, rows, data)


@catalog_app.command("show", epilog="Example:  banditmap catalog show linucb")
@friendly
def catalog_show(algorithm_id: Annotated[str, typer.Argument(metavar="ID")], fmt: Format = "table",
                 catalog_dirs: CatalogDirs = None) -> None:
    """Everything the catalog says about one algorithm."""
    from banditmap.render import output as render
    check_format(fmt)
    catalog = load(catalog_dirs)
    algorithm = find_algorithm(catalog, algorithm_id)
    _, rows = render.compare_rows([algorithm], catalog)
    rows.insert(3, ["summary", algorithm.summary])
    render.render_listing(fmt, f"{algorithm.name} ({algorithm.id})", ["field", "value"], rows,
                          render.algorithm_dict(algorithm))


@catalog_app.command("traits", epilog="Example:  banditmap catalog traits --format markdown")
@friendly
def catalog_traits(fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """The trait vocabulary: every decision point, its values and what they mean."""
    from banditmap.render import output as render
    check_format(fmt)
    catalog = load(catalog_dirs)
    header, rows = render.trait_rows(catalog)
    render.render_listing(fmt, "Traits", header, rows, [render.trait_dict(t) for t in catalog.traits])


@catalog_app.command("stats", epilog="Example:  banditmap catalog stats --format markdown")
@friendly
def catalog_stats(fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """Coverage of the map: entries per branch, entries with a simulator or a production implementation."""
    from banditmap.recommend.coverage import coverage
    from banditmap.render import output as render
    check_format(fmt)
    stats = coverage(load(catalog_dirs))
    header, rows = render.coverage_rows(stats)
    render.render_listing(fmt, "Coverage of the map", header, rows, render.coverage_dict(stats))
    if fmt == "table":
        render.emit(render.coverage_summary(stats) + "\n")


@catalog_app.command("validate", epilog="Examples:  banditmap catalog validate  |  "
                                        "banditmap catalog validate my-catalog/ my-algo.yaml")
@friendly
def catalog_validate(paths: Annotated[Optional[list[Path]], typer.Argument(
                         metavar="[PATH]...", help="Catalog folders or YAML files; default: the active catalog.")] = None,
                     catalog_dirs: CatalogDirs = None) -> None:
    """Check catalog files against the schema and the trait vocabulary."""
    from banditmap.catalog.validate import validate_paths
    for line in validate_paths(paths or [], catalog_dirs or []):
        typer.echo(line)


@catalog_app.command("schema", epilog="Example:  banditmap catalog schema --kind algorithms > algorithms.schema.json")
@friendly
def catalog_schema(kind: Annotated[str, typer.Option("--kind", "-k",
                                                     help="algorithms, adapters, traits, usecase or profile.")] = "algorithms",
                   catalog_dirs: CatalogDirs = None) -> None:
    """Print a JSON Schema for catalog files, so editors can check YAML as you type."""
    from banditmap.catalog import loading as catalog_mod
    from banditmap.catalog.schema import TRAITS_SCHEMA
    from banditmap.render.output import emit, to_json
    catalog = load(catalog_dirs)
    schemas = {"algorithms": lambda: catalog_mod.algorithm_schema(catalog.traits, catalog.capabilities),
               "adapters": lambda: catalog_mod.adapter_schema(catalog.traits, catalog.capabilities),
               "traits": lambda: TRAITS_SCHEMA,
               "usecase": lambda: catalog_mod.usecase_schema(catalog.traits),
               "profile": lambda: catalog_mod.answers_schema(catalog.traits)}
    if kind not in schemas:
        raise BanditmapError(f"expected one of {', '.join(schemas)}, got {shown(kind)}", field="--kind")
    emit(to_json(schemas[kind]()))


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors become one line on stderr with status 2, never a traceback."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe that cannot show some character (an ASCII locale) gets an escape, not a crash.
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(errors="backslashreplace")
    try:
        code = app(args=argv, prog_name="banditmap", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("banditmap: interrupted", err=True)
        sys.exit(130)
    except BanditmapError as exc:
        typer.echo(f"banditmap: error: {exc.render()}", err=True)
        sys.exit(2)
    except Exception as exc:
        # Typer's usage errors (unknown option, bad number...) carry exit code 2 and a formatted message.
        if getattr(exc, "exit_code", None) != 2 or not hasattr(exc, "format_message"):
            raise
        ctx = getattr(exc, "ctx", None)
        where = f" ({ctx.command_path})" if ctx is not None else ""
        typer.echo(f"banditmap: error{where}: {exc.format_message()}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
