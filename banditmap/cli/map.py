"""`map`: the decision map as a tree in the terminal or a picture, with the user's path marked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from banditmap.cli.options import (CatalogDirs, Force, ProfileFile, Sets, UseCaseName, check_format, examples,
                                   friendly, load, the_problem)
from banditmap.errors import BanditmapError
from banditmap.files import check_destination
from banditmap.render import plotting

app = typer.Typer()


@app.command(name="map", epilog=examples("banditmap map", "banditmap map --usecase search-ranking",
                                         "banditmap map --format svg map.svg"))
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
    from banditmap.render.mapdraw import MAP_FORMATS, draw_map
    check_format(fmt, MAP_FORMATS)
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
        result = shortlist(the_problem(catalog, profile, usecase, set_), catalog)
    draw_map(decision_map(catalog, result), fmt, path, sources)
    if path is not None:
        typer.echo(f"wrote the map to {path}", err=True)
