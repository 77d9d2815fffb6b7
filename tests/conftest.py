from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from banditmap.catalog.loading import builtin_dir, load_catalog
from banditmap.model import Catalog
from banditmap.sim import ahead

ROOT = Path(__file__).resolve().parent.parent

# No per-example deadline: the first example of a test may compile a kernel or meet a busy machine (two cores shared
# by the suite's workers), and a timing is not what these tests check. Built on whatever profile is already loaded
# (the mutation run's, which also fixes the examples drawn).
settings.register_profile("banditmap", parent=settings.default, deadline=None)
settings.load_profile("banditmap")


# No helper process compiling races ahead (sim/ahead.py) in the suite: its two workers already keep both cores busy,
# and a helper for each new race of the CLI tests would only add processes. tests/test_ahead.py turns it back on.
os.environ[ahead.ENV] = "0"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def user_catalog(tmp_path: Path) -> Path:
    """An empty user catalog folder with algorithms/ and usecases/."""
    root = tmp_path / "mycat"
    (root / "algorithms").mkdir(parents=True)
    (root / "usecases").mkdir()
    return root


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the built-in catalog, for breaking it on purpose."""
    target = tmp_path / "catalog"
    shutil.copytree(builtin_dir(), target)
    return target


@pytest.fixture(autouse=True)
def no_env_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BANDITMAP_CATALOG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
