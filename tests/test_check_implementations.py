"""The implementation checker resolves dotted names in a library's source the way an import would."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).parent.parent / "tools" / "check_implementations.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("check_implementations", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A package laid out like SMPyBandits and MABWiser: re-exports, a submodule named like its class, nesting."""
    pkg = tmp_path / "lib" / "Policies"
    (pkg / "Posterior").mkdir(parents=True)
    (tmp_path / "lib" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .MOSS import MOSS\nfrom .Posterior import Gauss\nfrom .star import *\n")
    (pkg / "MOSS.py").write_text("class MOSS:\n    pass\n")
    (pkg / "Hidden.py").write_text("class Hidden:\n    pass\n")
    (pkg / "star.py").write_text("def helper():\n    pass\n")
    (pkg / "Posterior" / "__init__.py").write_text("from .Gauss import Gauss\n")
    (pkg / "Posterior" / "Gauss.py").write_text("class Gauss:\n    pass\n")
    (tmp_path / "lib" / "mab.py").write_text(
        "class LearningPolicy:\n    class UCB1:\n        pass\n    def build(self):\n        pass\n")
    return tmp_path


@pytest.mark.parametrize("name", ["lib.Policies.MOSS", "lib.Policies.MOSS.MOSS", "lib.Policies.Gauss",
                                  "lib.Policies.Posterior.Gauss", "lib.Policies.helper", "lib.Policies.Hidden.Hidden",
                                  "lib.mab.LearningPolicy.UCB1", "lib.mab.LearningPolicy"])
def test_names_that_exist_are_found(checker, library: Path, name: str) -> None:
    assert checker.resolves(library, name.split("."))


@pytest.mark.parametrize("name", ["lib.Policies.Hidden",  # a module, not a class
                                  "lib.Policies.KLUCB", "lib.mab.LearningPolicy.Exp3",
                                  "lib.mab.LearningPolicy.build.x", "lib.Policies.Posterior"])
def test_wrong_names_and_bare_modules_are_not(checker, library: Path, name: str) -> None:
    assert not checker.resolves(library, name.split("."))
