"""The package's folders are layers, and imports run one way: from the command line down to the model.

    cli -> render -> recommend -> catalog -> ope -> sim -> base (model, errors, files, executor)

A module may import from its own layer and from any layer below it, never from one above. The engines (sim, ope)
know nothing of the catalog or the recommender: they run what they are given. Lazy imports inside functions count
too, because they run all the same."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "banditmap"
LAYERS = ("base", "sim", "ope", "catalog", "recommend", "render", "cli")
BASE = {"banditmap", "banditmap.model", "banditmap.errors", "banditmap.files", "banditmap.executor"}


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module == "banditmap.__main__":
        return "cli"
    part = module.split(".")[1]
    assert part in LAYERS, f"{module} is in no layer: put it in one of the folders {LAYERS[1:]} or in the base"
    return part


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every banditmap module the file imports, wherever the import statement sits."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "banditmap"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "banditmap":
            for alias in node.names:  # `from banditmap.render import bench` imports the module banditmap.render.bench
                sub = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / Path(*sub.split("."))).with_suffix(".py").exists() or (
                    PACKAGE.parent / Path(*sub.split("."))).is_dir()
                found.append((node.lineno, sub if is_module else node.module))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_run_one_way(path):
    own = LAYERS.index(layer(module_name(path)))
    wrong = [f"line {line}: imports {name} ({layer(name)})" for line, name in imported(path)
             if LAYERS.index(layer(name)) > own]
    assert not wrong, f"{module_name(path)} ({LAYERS[own]}) reaches up a layer: " + "; ".join(wrong)


def test_every_folder_is_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS[1:])
    loose = {module_name(p) for p in PACKAGE.glob("*.py")} - BASE - {"banditmap.__main__"}
    assert not loose, f"modules outside the layers' folders: {sorted(loose)}"


def test_the_check_catches_a_wrong_import(tmp_path):
    """The rule is not vacuous: an engine importing the recommender is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from banditmap.recommend.matching import shortlist\n")
    assert imported(bad) == [(2, "banditmap.recommend.matching")]
    assert LAYERS.index(layer("banditmap.recommend.matching")) > LAYERS.index(layer("banditmap.sim.bench"))


@pytest.mark.parametrize("path", sorted((PACKAGE / "sim" / "policies").glob("*.py")) + sorted(
    (PACKAGE / "sim" / "adapters").glob("*.py")), ids=lambda p: p.name)
def test_policies_learn_the_problem_from_its_description_not_from_the_world(path):
    """A policy knows what the problem description says (sim/problem.py), never the simulated environment."""
    assert not [name for _, name in imported(path) if name == "banditmap.sim.environments"]
