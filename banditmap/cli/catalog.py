"""`catalog`: browse the algorithm catalog (list, show, traits, stats) and check it (validate, schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from banditmap.cli.options import CatalogDirs, Format, check_format, examples, find_algorithm, friendly, load

app = typer.Typer(no_args_is_help=True, help="Browse and check the algorithm catalog.")


@app.command("list", epilog=examples("banditmap catalog list --where action_structure=ranking"))
@friendly
def catalog_list(where: Annotated[Optional[list[str]], typer.Option(
                     "--where", "-w", metavar="TRAIT=VALUE", help="Only algorithms handling this; repeatable.")] = None,
                 fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """List the algorithms in the catalog."""
    from banditmap.recommend.profile import algorithms_handling
    from banditmap.render.catalog import listing_report
    from banditmap.render.report import print_report
    check_format(fmt)
    print_report(listing_report(algorithms_handling(load(catalog_dirs), where or [])), fmt)


@app.command("show", epilog=examples("banditmap catalog show linucb"))
@friendly
def catalog_show(algorithm_id: Annotated[str, typer.Argument(metavar="ID", help="An algorithm id; see `banditmap "
                                                                                "catalog list`.")],
                 fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """Everything the catalog says about one algorithm."""
    from banditmap.render.catalog import algorithm_report
    from banditmap.render.report import print_report
    check_format(fmt)
    catalog = load(catalog_dirs)
    print_report(algorithm_report(find_algorithm(catalog, algorithm_id), catalog), fmt)


@app.command("traits", epilog=examples("banditmap catalog traits --format markdown"))
@friendly
def catalog_traits(fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """The trait vocabulary: every decision point, its values and what they mean."""
    from banditmap.render.catalog import traits_report
    from banditmap.render.report import print_report
    check_format(fmt)
    print_report(traits_report(load(catalog_dirs)), fmt)


@app.command("stats", epilog=examples("banditmap catalog stats --format markdown"))
@friendly
def catalog_stats(fmt: Format = "table", catalog_dirs: CatalogDirs = None) -> None:
    """Coverage of the map: entries per branch, entries with a simulator or a production implementation."""
    from banditmap.recommend.coverage import coverage
    from banditmap.render.catalog import coverage_report
    from banditmap.render.report import print_report
    check_format(fmt)
    print_report(coverage_report(coverage(load(catalog_dirs))), fmt)


@app.command("validate", epilog=examples("banditmap catalog validate",
                                         "banditmap catalog validate my-catalog/ my-algo.yaml"))
@friendly
def catalog_validate(paths: Annotated[Optional[list[Path]], typer.Argument(
                         metavar="[PATH]...", help="Catalog folders or YAML files; default: the active catalog.")] = None,
                     catalog_dirs: CatalogDirs = None) -> None:
    """Check catalog files against the schema and the trait vocabulary."""
    from banditmap.catalog.validate import validate_paths
    for line in validate_paths(paths or [], catalog_dirs or []):
        typer.echo(line)


@app.command("schema",
             epilog=examples("banditmap catalog schema --kind algorithms > algorithms.schema.json"))
@friendly
def catalog_schema(kind: Annotated[str, typer.Option("--kind", "-k", help="algorithms, adapters, traits, usecase "
                                                     "or profile.")] = "algorithms",
                   catalog_dirs: CatalogDirs = None) -> None:
    """Print a JSON Schema for catalog files, so editors can check YAML as you type."""
    from banditmap.catalog.loading import file_schema
    from banditmap.render.catalog import schema_report
    from banditmap.render.report import print_report
    print_report(schema_report(kind, file_schema(load(catalog_dirs), kind)), "json")
