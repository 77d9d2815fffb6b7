"""Check every `implementations` entry of the catalog against the library version it names.

    python tools/check_implementations.py [CATALOG_DIR ...]

For a Python library the named version is downloaded from PyPI (no install, no dependencies) and the dotted name is
resolved in its source without importing it: modules, classes, nested classes, functions and the names a package
re-exports. For Vowpal Wabbit the options are given to a `vowpalwabbit.Workspace` of the installed version, which
must be the one named (`pip install vowpalwabbit==VERSION`). Prints one line per implementation and exits 1 if any
name does not exist in its version. Needs network access to the package index; it is not part of the test suite.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from banditmap.catalog.loading import builtin_dir, load_dirs
from banditmap.model import Implementation

# catalog library name -> (distribution on PyPI, top-level package)
PYTHON_LIBRARIES = {
    "MABWiser": ("mabwiser", "mabwiser"),
    "Open Bandit Pipeline": ("obp", "obp"),
    "PyXAB": ("PyXAB", "PyXAB"),
    "SMPyBandits": ("SMPyBandits", "SMPyBandits"),
    "contextualbandits": ("contextualbandits", "contextualbandits"),
}


def fetch(distribution: str, version: str, cache: Path) -> Path:
    """The unpacked source of one release: the folder holding its top-level package."""
    target = cache / f"{distribution}-{version}"
    if not target.exists():
        download = cache / "download"
        download.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--ignore-requires-python",
                        "--dest", str(download), f"{distribution}=={version}"], check=True)
        archive = max((p for p in download.iterdir() if p.name.lower().startswith(distribution.lower())
                       and f"-{version}" in p.name), key=lambda p: p.stat().st_mtime)
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as z:
                z.extractall(target)
        else:
            with tarfile.open(archive) as t:
                t.extractall(target, filter="data")
            (inner,) = [p for p in target.iterdir() if p.is_dir()]
            inner.rename(target.with_suffix(".tmp"))
            target.rmdir()
            target.with_suffix(".tmp").rename(target)
    return target


def _module_file(root: Path, parts: list[str]) -> Path | None:
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _lookup(root: Path, module: list[str], attrs: list[str], depth: int = 0) -> bool:
    """Whether the class or function `attrs` can be reached inside the module `module` (following re-exports);
    a path that ends at a module names nothing to run."""
    if not attrs or depth > 10:
        return False
    path = _module_file(root, module)
    if path is None:
        return False
    if path.name == "__init__.py" and _module_file(root, module + attrs[:1]) \
            and _lookup(root, module + attrs[:1], attrs[1:], depth + 1):  # inside a submodule
        return True
    body = ast.parse(path.read_text(encoding="utf-8", errors="replace")).body
    name, rest = attrs[0], attrs[1:]
    for node in body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return _lookup_in_class(node, rest)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return not rest
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return not rest
    package = module if path.name == "__init__.py" else module[:-1]
    for node in body:
        if isinstance(node, ast.ImportFrom):
            source = (package[:len(package) - node.level + 1] if node.level else []) + \
                (node.module.split(".") if node.module else [])
            for alias in node.names:
                if alias.name == "*" or (alias.asname or alias.name) == name:
                    original = name if alias.name == "*" else alias.name
                    if _lookup(root, source, [original, *rest], depth + 1):
                        return True
    return False


def _lookup_in_class(node: ast.ClassDef, attrs: list[str]) -> bool:
    if not attrs:
        return True
    for child in node.body:
        if isinstance(child, ast.ClassDef) and child.name == attrs[0]:
            return _lookup_in_class(child, attrs[1:])
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.name == attrs[0]:
            return len(attrs) == 1
    return False


def check_python(impl: Implementation, cache: Path) -> str | None:
    distribution, package = PYTHON_LIBRARIES[impl.library]
    try:
        root = fetch(distribution, impl.version, cache)
    except (subprocess.CalledProcessError, ValueError) as exc:
        return f"cannot fetch {distribution}=={impl.version}: {exc}"
    parts = impl.name.split("(")[0].strip().split(".")  # a call shows how to build it; check what is called
    if parts[0] != package:
        return f"expected a dotted name starting with {package}"
    if not _module_file(root, parts[:1]):
        return f"no package {parts[0]} in {distribution} {impl.version}"
    return None if resolves(root, parts) else f"no class or function of that name in {distribution} {impl.version}"


def resolves(root: Path, parts: list[str]) -> bool:
    """Whether `parts` (a dotted name) names a class or function in the source tree under `root`."""
    modules = [split for split in range(len(parts) - 1, 0, -1) if _module_file(root, parts[:split])]
    return any(_lookup(root, parts[:split], parts[split:]) for split in modules)


def check_vowpal_wabbit(impl: Implementation) -> str | None:
    try:
        import vowpalwabbit
    except ImportError:
        return f"skipped: pip install vowpalwabbit=={impl.version} to check it"
    installed = getattr(vowpalwabbit, "__version__", "?")
    if installed != impl.version:
        return f"skipped: vowpalwabbit {installed} installed, {impl.version} named"
    try:
        vowpalwabbit.Workspace(impl.name + " --quiet").finish()
    except Exception as exc:  # the library raises plain exceptions for unknown options
        return f"rejected by vowpalwabbit {installed}: {str(exc).splitlines()[0]}"
    return None


def main(argv: list[str]) -> int:
    catalog = load_dirs([Path(a) for a in argv] or [builtin_dir()])
    failed = skipped = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for algorithm in catalog.algorithms:
            for impl in algorithm.implementations:
                if impl.library == "Vowpal Wabbit":
                    problem = check_vowpal_wabbit(impl)
                elif impl.library in PYTHON_LIBRARIES:
                    problem = check_python(impl, cache)
                else:
                    problem = f"skipped: no checker for {impl.library}"
                checked += 1
                status = "ok" if problem is None else ("skip" if problem.startswith("skipped") else "FAIL")
                failed += status == "FAIL"
                skipped += status == "skip"
                print(f"{status:4}  {algorithm.id:24}  {impl.describe()}" + (f"  ({problem})" if problem else ""))
    print(f"{checked} implementations: {checked - failed - skipped} found, {failed} not found, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
