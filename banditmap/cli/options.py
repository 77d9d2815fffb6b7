"""What the commands share: option types, turning user errors into one line, and the parse steps every command
takes (the format, the catalog, the problem, output files) before its one core call."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional, ParamSpec, TypeVar

import typer

from banditmap.errors import BanditmapError, shown
from banditmap.files import Outputs, check_destination
from banditmap.render import plotting
from banditmap.render.report import FORMATS

if TYPE_CHECKING:
    from banditmap.executor import Engine
    from banditmap.model import Algorithm, Catalog, Profile
    from banditmap.render.report import Report

P = ParamSpec("P")
R = TypeVar("R")

CatalogDirs = Annotated[Optional[list[Path]], typer.Option(
    "--catalog", metavar="DIR", help="Extra catalog folder (algorithms/, usecases/); repeatable, merged by id, "
    "later wins. Also read from $BANDITMAP_CATALOG.")]
ProfileFile = Annotated[Optional[Path], typer.Option("--profile", "-p", metavar="FILE",
                                                     help="A profile YAML file (as written by `ask --save`).")]
UseCaseName = Annotated[Optional[str], typer.Option("--usecase", "-u", metavar="NAME",
                                                    help="A shipped use case; see `banditmap usecases`.")]
Sets = Annotated[Optional[list[str]], typer.Option("--set", "-s", metavar="TRAIT=VALUE",
                                                   help="Set one trait; repeatable, applied last, later wins.")]
Format = Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="table, json, csv or markdown.")]
Params = Annotated[Optional[list[str]], typer.Option("--param", metavar="ID.NAME=VALUE",
                                                   help="Set a hyperparameter; repeatable.")]
OutFile = Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="Also write the JSON here.")]
Force = Annotated[bool, typer.Option("--force", help="Replace files that exist already (never done unasked).")]
NoTimings = Annotated[bool, typer.Option("--no-timings", help="Leave wall-clock figures out, so two runs with "
                                         "one seed give the same output byte for byte.")]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=0, max=64, help="Parallel processes (0 = one per core); "
                                   "with --engine dask, the workers of a cluster started here.")]
EngineKind = Annotated[str, typer.Option("--engine", metavar="local|dask",
                                         help="Where runs go: local processes, or a Dask cluster (needs the "
                                              "optional dask extra). Results are the same on either.")]
Scheduler = Annotated[Optional[str], typer.Option("--scheduler", metavar="tcp://HOST:PORT",
                                                  help="The Dask scheduler for --engine dask (default: "
                                                       "$BANDITMAP_DASK_SCHEDULER, else a cluster started here).")]


def engine(kind: str, jobs: int, scheduler: str | None) -> Engine:
    """The executor's engine that --engine, --jobs and --scheduler describe, checked."""
    from banditmap.executor import engine_from_options
    return engine_from_options(kind, jobs, scheduler)


def examples(*commands: str) -> str:
    """A command's epilog: its example command lines (the docs test checks that every command has one)."""
    return ("Example:  " if len(commands) == 1 else "Examples:  ") + "  |  ".join(commands)


def algorithms_option(verb: str) -> Any:
    return typer.Option("--algorithms", "-a", metavar="ID,ID,...", help=f"{verb} these instead of the shortlist.")


def top_option(help_text: str = "How many to list (0 = all).", low: int = 0, high: int | None = None) -> Any:
    return typer.Option("--top", "-n", min=low, max=high, help=help_text)


def seed_option(what: str) -> Any:
    return typer.Option("--seed", min=0, help=f"Seed of {what}.")


def plot_option(what: str) -> Any:
    return typer.Option("--plot", metavar="FILE", help=f"Write {what} to a .png or .svg.")


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Print a user error as one line on stderr and exit with status 2; anything else is a bug and raises."""
    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except BanditmapError as exc:
            typer.echo(f"banditmap: error: {exc.render()}", err=True)
            raise typer.Exit(2) from None
    return wrapper


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if fmt not in allowed:
        raise BanditmapError(f"expected one of {', '.join(allowed)}, got {shown(fmt)}", field="--format")
    return fmt


def load(dirs: list[Path] | None) -> Catalog:
    from banditmap.catalog.loading import load_catalog
    return load_catalog(dirs or [])


def the_problem(catalog: Catalog, profile: Path | None, usecase: str | None, sets: list[str] | None,
                required: str | None = None) -> Profile:
    """The profile the options describe; a `required` command (named) refuses to guess one."""
    if required and not (profile or usecase or sets):
        raise BanditmapError("say what the problem is: --profile FILE, --usecase NAME or --set trait=value "
                             "(or run `banditmap ask`)", field=required)
    from banditmap.recommend.profile import build_profile
    return build_profile(catalog, usecase, profile, sets or [])


def find_algorithm(catalog: Catalog, algorithm_id: str) -> Algorithm:
    """The entry an ID argument names, or an error suggesting close ids."""
    found = catalog.algorithm(algorithm_id)
    if found is None:
        import difflib
        close = difflib.get_close_matches(algorithm_id, [a.id for a in catalog.algorithms], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `banditmap catalog list`"
        raise BanditmapError(f"unknown algorithm id{hint}", field=algorithm_id)
    return found


def comma_list(text: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated option value."""
    return [item.strip() for item in text.split(",") if item.strip()]


def requested(algorithms: str | None) -> list[str] | None:
    """The ids of --algorithms, or None (run the shortlist) when it is not given or empty."""
    return comma_list(algorithms) if algorithms else None


def prepare_run(fmt: str, out: Path | None, plot: Path | None, force: bool, dirs: list[Path] | None) -> Catalog:
    """Before a long run: the format, the --out and --plot destinations (and matplotlib for a plot), then the
    catalog."""
    check_format(fmt)
    if out is not None:
        check_destination(out, "--out", force=force)
    if plot is not None:
        check_destination(plot, "--plot", force=force, suffixes=(".png", ".svg"))
        plotting.require("--plot")
        if out is not None and out.resolve() == plot.resolve():
            raise BanditmapError("--out and --plot name the same file", source=str(out), field="--plot")
    return load(dirs)


def finish_run(report: Report, fmt: str, out: Path | None, plot: Path | None,
               draw: Callable[[Path], object]) -> None:
    """Print the report, then write --out (its JSON) and --plot (the picture `draw` makes), all or none."""
    from banditmap.render.report import print_report, to_json
    print_report(report, fmt)
    with Outputs() as outputs:
        if out is not None:
            outputs.add_text(out, to_json(report.data))
        if plot is not None:
            outputs.add(plot, draw)
