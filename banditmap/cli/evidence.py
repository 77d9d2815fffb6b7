"""`evidence`: race every simulated candidate over the grid of problem classes (build), and read the result (show)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from banditmap.cli.options import CatalogDirs, Force, Format, check_format, examples, friendly, load

app = typer.Typer(no_args_is_help=True, help="Evidence for the ranking: races over a grid of problem classes.")

EvidenceFile = Annotated[Optional[Path], typer.Option(
    "--evidence", metavar="FILE", help="An evidence file (default: the active catalog's).")]


@app.command("build", epilog=examples("banditmap evidence build --out evidence.json",
                                      "banditmap evidence build --engine dask --scheduler tcp://10.0.0.5:8786 "
                                      "--out evidence.json"))
@friendly
def evidence_build(
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="Where to write the evidence file.")]
        = Path("evidence.json"),
    grid: Annotated[Optional[Path], typer.Option("--grid", metavar="FILE", help="The grid of problem classes "
                                                 "(default: the active catalog's evidence/grid.yaml).")] = None,
    engine: Annotated[str, typer.Option("--engine", metavar="ENGINE", help="local (processes on this machine) "
                                        "or dask (a Dask cluster).")] = "local",
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", metavar="ADDRESS", help="A Dask scheduler, "
                                                     "tcp://HOST:PORT (default: $BANDITMAP_DASK_SCHEDULER, else a "
                                                     "local cluster).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, max=256, help="Processes or Dask workers (0 = one "
                                      "per core).")] = 0,
    restart: Annotated[bool, typer.Option("--restart", help="Start afresh instead of resuming an interrupted "
                                          "build of the same grid.")] = False,
    force: Force = False, fmt: Format = "table", catalog_dirs: CatalogDirs = None,
) -> None:
    """Race every simulated candidate of every class in the grid on the same random problems, and write the
    evidence the ranking uses. An interrupted build resumes where it stopped."""
    from banditmap.catalog.evidence import grid_file, load_grid
    from banditmap.executor import engine_from_options
    from banditmap.files import check_destination
    from banditmap.recommend.build import build
    from banditmap.render.evidence import build_report
    from banditmap.render.progress import ProgressBars
    from banditmap.render.report import print_report
    check_format(fmt)
    chosen_engine = engine_from_options(engine, jobs, scheduler)
    check_destination(out, "--out", force=force, suffixes=(".json",))
    catalog = load(catalog_dirs)
    if grid is None:
        from banditmap.catalog.loading import catalog_dirs as active_dirs
        found = [grid_file(d) for d in active_dirs(catalog_dirs or []) if grid_file(d).is_file()]
        if not found:
            from banditmap.errors import BanditmapError
            raise BanditmapError("no evidence/grid.yaml in the active catalog; name one with --grid", field="--grid")
        grid = found[-1]
    the_grid = load_grid(grid, catalog)
    with ProgressBars(labels={"races": "evidence build"}) as bars:
        result = build(catalog, the_grid, out, chosen_engine, resume=not restart,
                       progress=lambda done, total: bars("races", done, total))
    print_report(build_report(result), fmt)


@app.command("show", epilog=examples("banditmap evidence show",
                                     "banditmap evidence show --class arms/binary/stationary/delayed/none/cumulative"))
@friendly
def evidence_show(
    class_key: Annotated[Optional[str], typer.Option("--class", metavar="KEY", help="One class's candidates "
                                                     "(default: every class).")] = None,
    evidence: EvidenceFile = None, fmt: Format = "table", catalog_dirs: CatalogDirs = None,
) -> None:
    """What the evidence says: its classes, or one class's candidates with the points the ranking gives them."""
    from banditmap.errors import BanditmapError
    from banditmap.render.evidence import class_report, classes_report
    from banditmap.render.report import print_report
    check_format(fmt)
    if evidence is not None:
        from banditmap.catalog.evidence import load_evidence
        found = load_evidence(evidence)
    else:
        loaded = load(catalog_dirs).evidence
        if loaded is None:
            raise BanditmapError("the active catalog carries no evidence; build it with `banditmap evidence build` "
                                 "or name a file with --evidence", field="evidence")
        found = loaded
    if class_key is None:
        print_report(classes_report(found), fmt)
        return
    cls = found.classes.get(class_key)
    if cls is None:
        import difflib
        close = difflib.get_close_matches(class_key, list(found.classes), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `banditmap evidence show`"
        raise BanditmapError(f"no such class in {found.source}{hint}", field="--class")
    print_report(class_report(found, cls), fmt)
