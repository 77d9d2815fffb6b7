"""The README shows what the tool prints: its examples re-run and its tables remade from the catalog match."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_examples_and_tables_are_current() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "refresh_readme.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr + " (run: python tools/refresh_readme.py)"


def test_every_command_has_help_with_an_example() -> None:
    from typer.testing import CliRunner

    from banditmap.cli.app import app
    runner = CliRunner()
    commands = ["recommend", "compare", "map", "usecases", "ask", "bench", "replay", "make-logs",
                "catalog list", "catalog show", "catalog traits", "catalog stats", "catalog validate",
                "catalog schema"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in commands:
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0 and "Example" in result.output, command
        assert f"banditmap {command}" in readme or f"`{command}" in readme, f"the README says nothing of {command}"
