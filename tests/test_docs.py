"""The README shows what the tool prints and documents every command and option, and every command's help has an
example that parses (as sqlite-utils's tests/test_docs.py does for its CLI reference)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import typer.main

from banditmap.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group: Any = None, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(`catalog list`, the click command) for every command the app has, sub-commands included."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


COMMANDS = dict(commands())


def sections(command: str) -> str:
    """The README's sections whose heading names `banditmap <command>` (its first word), and the "Commands"
    introduction, which documents the options every command shares (--format, --catalog)."""
    parts = re.split(r"^#{2,3} ", README, flags=re.M)[1:]
    return "".join(p for p in parts if p.startswith("Commands\n") or f"`banditmap {command.split()[0]}" in
                   p.split("\n", 1)[0])


def long_names(param: Any) -> list[str]:
    return [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]


def test_readme_examples_and_tables_are_current() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "refresh_readme.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr + " (run: python tools/refresh_readme.py)"


def test_the_commands_are_the_ones_documented() -> None:
    assert set(COMMANDS) == {"recommend", "compare", "map", "usecases", "ask", "bench", "replay", "make-logs",
                             "catalog list", "catalog show", "catalog traits", "catalog stats", "catalog validate",
                             "catalog schema", "evidence build", "evidence show"}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"banditmap {name}" in README or f"`{name}" in README, f"the README says nothing of {name}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_in_its_commands_readme_section(name: str) -> None:
    text = sections(name)
    missing = ["/".join(long_names(p)) for p in COMMANDS[name].params if p.param_type_name == "option"
               and not any(re.search(re.escape(o) + r"(?![\w-])", text) for o in long_names(p))]
    assert not missing, f"the README's section on {name} does not mention {', '.join(missing)}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_option_and_argument_has_help(name: str) -> None:
    command = COMMANDS[name]
    assert command.help, f"{name} has no help"
    silent = [p.name for p in command.params if not getattr(p, "help", None)]
    assert not silent, f"{name}: no help for {', '.join(silent)}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_commands_help_has_examples_that_parse(name: str) -> None:
    """Each example in the epilog runs this command, with options and arguments it takes."""
    command = COMMANDS[name]
    assert command.epilog and command.epilog.startswith(("Example:  ", "Examples:  ")), f"{name}: no example"
    for example in command.epilog.split(":  ", 1)[1].split("  |  "):
        words = shlex.split(example.rsplit("| ", 1)[-1])
        words = words[:words.index(">")] if ">" in words else words
        assert words[:1 + len(name.split())] == ["banditmap", *name.split()], f"{name}: {example}"
        command.make_context(name, words[1 + len(name.split()):])  # raises on an unknown option or a bad value


def test_help_shows_the_examples() -> None:
    from typer.testing import CliRunner
    result = CliRunner().invoke(app, ["catalog", "show", "--help"])
    assert result.exit_code == 0 and "Example:  banditmap catalog show linucb" in result.output


def test_the_catalog_counts_the_readme_quotes_are_current() -> None:
    """The hand-kept `catalog validate` and `catalog stats` example (its paths differ by machine, so it is not
    re-run) quotes the shipped catalog's counts."""
    from banditmap.catalog.loading import load_catalog
    catalog = load_catalog()
    counts = (f"{len(catalog.algorithms)} algorithms, {len(catalog.adapters)} adapters, {len(catalog.usecases)} use "
              f"cases, {len(catalog.traits)} traits")
    assert counts in README, f"README should say: {counts}"
    assert f"\n{len(catalog.algorithms)} algorithms (" in README and f"{len(catalog.usecases)} use cases;" in README
