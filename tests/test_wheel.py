"""The installed wheel carries the catalog and works outside the source tree, as a new user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("banditmap-*.whl"))
    env_dir = tmp_path / "env"
    # a fresh venv without a pip of its own, the wheel and its dependencies installed into it by this pip; nothing
    # byte-compiled ahead (Python compiles what the commands import)
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
                    str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    exe = env_dir / "bin" / "banditmap"

    def banditmap(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=work)

    validated = banditmap("catalog", "validate")
    assert validated.returncode == 0, validated.stderr
    assert "_catalog" in validated.stdout  # the packaged copy, not the source tree
    shortlist = banditmap("recommend", "--usecase", "search-ranking", "--format", "json")
    assert shortlist.returncode == 0, shortlist.stderr
    assert json.loads(shortlist.stdout)["shortlist"][0]["id"] == "cascade-klucb"
    assert banditmap("usecases").returncode == 0
