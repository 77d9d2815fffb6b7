"""Re-run the README's console examples and write their real output back, and make the trait and use-case
tables anew from the catalog, so no example shows what the tool no longer prints. A block is refreshed when it holds a single `$ banditmap ...` command (without pipes or
redirections); a block cut with `...` keeps its length. Other blocks are left for hand editing.

    python tools/refresh_readme.py           # rewrite README.md in place
    python tools/refresh_readme.py --check   # exit 1 if an example is stale (what tests/test_docs.py runs)
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
WIDTH = "160"  # the terminal width the tables in the README were drawn for


def refreshable(lines: list[str]) -> str | None:
    """The command of a block that can be re-run as it is, or None."""
    commands = [ln for ln in lines if ln.startswith("$ ")]
    if len(commands) != 1 or not lines[0].startswith("$ banditmap ") or any(c in lines[0] for c in "|<>;&"):
        return None
    if any(word in lines[0] for word in ("--plot", "--out", "--format svg", "--format png", " make-logs",
                                         "replay ", "bench ")):
        return None  # writes files or takes minutes: refreshed by hand
    return lines[0][2:]


def run(command: str) -> tuple[str, int]:
    argv = shlex.split(command)
    env = dict(os.environ, COLUMNS=WIDTH, NO_COLOR="1", BANDITMAP_NO_CACHE="1", TERM="dumb")
    env.pop("BANDITMAP_CATALOG", None)
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-m", "banditmap", *argv[1:]], capture_output=True, text=True,
                              env={**env, "PYTHONPATH": str(ROOT)}, cwd=cwd, timeout=120)
    text = proc.stdout + proc.stderr
    return "\n".join(line.rstrip() for line in text.splitlines()), proc.returncode


def refresh(readme: str) -> str:
    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        lines = body.rstrip("\n").split("\n")
        command = refreshable(lines)
        if command is None:
            return match.group(0)
        output, status = run(command)
        out_lines = output.split("\n") if output else []
        old_output = lines[1:]
        if old_output and old_output[-1] == "...":
            keep = max(len(old_output) - 1, 1)
            out_lines = out_lines[:keep] + (["..."] if len(out_lines) > keep else [])
        if status != 0:
            out_lines.append(f"exit status {status}")
        return "```console\n" + "\n".join([lines[0], *out_lines]) + "\n```"
    return BLOCK.sub(replace, readme)


def tables(readme: str) -> str:
    """The trait vocabulary and use-case tables, made anew from the catalog."""
    sys.path.insert(0, str(ROOT))
    from banditmap.catalog.loading import load_catalog
    from banditmap.render.catalog import trait_rows
    from banditmap.render.report import to_markdown
    catalog = load_catalog()
    traits = to_markdown(*trait_rows(catalog)).splitlines()  # as `banditmap catalog traits --format markdown`
    usecases = to_markdown(["id", "name"], [[u.id, u.name] for u in catalog.usecases]).splitlines()
    for header, rows in ((traits[0], traits), (usecases[0], usecases)):
        start = readme.index(header)
        end = start
        while end < len(readme) and readme[end:].startswith("|"):
            end = readme.index("\n", end) + 1
        readme = readme[:start] + "\n".join(rows) + "\n" + readme[end:]
    return readme


def main() -> int:
    path = ROOT / "README.md"
    before = path.read_text(encoding="utf-8")
    after = refresh(tables(before))
    if "--check" in sys.argv[1:]:
        if after != before:
            print("README examples are stale; run: python tools/refresh_readme.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(after, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
