"""The `banditmap` command: the sub-apps of the other cli modules under one root, and the entry point."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from banditmap import __version__
from banditmap.cli.bench import app as bench_app
from banditmap.cli.catalog import app as catalog_app
from banditmap.cli.evidence import app as evidence_app
from banditmap.cli.map import app as map_app
from banditmap.cli.recommend import app as recommend_app
from banditmap.cli.replay import app as replay_app
from banditmap.errors import BanditmapError

app = typer.Typer(
    name="banditmap", no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode="rich",
    help="Pick a bandit algorithm for an e-commerce problem: answer a few questions about the reward, the "
         "actions, the features and the environment, and get a ranked shortlist with the reasons.",
)
for commands in (recommend_app, map_app, bench_app, replay_app):
    app.add_typer(commands)  # nameless: their commands sit at the top level
app.add_typer(catalog_app, name="catalog")
app.add_typer(evidence_app, name="evidence")


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"banditmap {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                              help="Show the version and exit.")] = False) -> None:
    """banditmap: a map of bandit algorithms for e-commerce."""


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
