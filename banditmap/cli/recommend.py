"""The commands that recommend: `recommend` (one profile or a batch), `compare`, `usecases` and `ask`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from banditmap.cli.options import (CatalogDirs, Format, ProfileFile, Sets, UseCaseName, check_format, examples,
                                   find_algorithm, friendly, load, the_problem, top_option)
from banditmap.errors import BanditmapError

app = typer.Typer()


@app.command(epilog=examples("banditmap recommend --usecase homepage-banner",
                             "banditmap recommend -p my.yaml --set environment=drifting --explain",
                             "banditmap recommend --batch cases.csv --format csv"))
@friendly
def recommend(
    profile: ProfileFile = None, usecase: UseCaseName = None, set_: Sets = None,
    top: Annotated[int, top_option()] = 10,
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
        if fmt not in ("table", "json", "csv"):
            raise BanditmapError("batch output is JSON lines (json) or csv", field="--format")
        from banditmap.recommend.batch import recommend_batch
        from banditmap.render.batch import print_batch
        failed = print_batch(recommend_batch(batch, catalog, top or None, not no_compose), as_csv=fmt == "csv")
        raise typer.Exit(1 if failed else 0)
    from banditmap.recommend.matching import shortlist
    from banditmap.render.report import print_report
    from banditmap.render.shortlist import shortlist_report
    result = shortlist(the_problem(catalog, profile, usecase, set_, required="recommend"), catalog, top or None,
                       compose=not no_compose)
    print_report(shortlist_report(result, explain), fmt)
    if not result.exact and not result.advice:
        typer.echo("banditmap: warning: no algorithm or composition handles every answer; these are the nearest "
                   "candidates, each with the answers it misses", err=True)


@app.command(epilog=examples("banditmap compare ucb1 thompson-beta kl-ucb --format markdown"))
@friendly
def compare(ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Algorithm ids to compare.")],
            fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """Show algorithms side by side: traits handled (* = built for), cost, hyperparameters, references."""
    from banditmap.render.catalog import compare_report
    from banditmap.render.report import print_report
    check_format(fmt)
    catalog = load(catalog_dirs)
    print_report(compare_report([find_algorithm(catalog, i) for i in ids], catalog), fmt)


@app.command(epilog=examples("banditmap usecases --format markdown"))
@friendly
def usecases(fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """List the shipped e-commerce use cases, usable with --usecase."""
    from banditmap.render.catalog import usecases_report
    from banditmap.render.report import print_report
    check_format(fmt)
    print_report(usecases_report(load(catalog_dirs).usecases), fmt)


@app.command(epilog=examples("banditmap ask --save my-shop.yaml", "banditmap ask --resume my-shop.yaml.partial.yaml",
                             "printf '1\\n\\n' | banditmap ask"))
@friendly
def ask(save: Annotated[Optional[Path], typer.Option("--save", metavar="FILE",
                                                     help="Where to write the profile.")] = None,
        resume: Annotated[Optional[Path], typer.Option("--resume", metavar="FILE",
                                                       help="Continue an interrupted questionnaire.")] = None,
        top: Annotated[int, top_option()] = 5,
        force: Annotated[bool, typer.Option("--force", help="Replace the --save file if it exists, and start over "
                                            "although unfinished answers are kept for it.")] = False,
        catalog_dirs: CatalogDirs = None) -> None:
    """Answer the decision points one by one (? shows help), then see your shortlist."""
    from banditmap.cli.questionnaire import run_questionnaire
    raise typer.Exit(run_questionnaire(load(catalog_dirs), save, resume, top or None, force))
