"""`catalog validate`: checks catalog folders and single YAML files against the schema and the vocabulary."""

from __future__ import annotations

from pathlib import Path

from banditmap import catalog as catalog_mod
from banditmap.errors import BanditmapError
from banditmap.sim.bench import check_adapter_simulator, check_catalog_simulators, check_simulator
from banditmap.yamlio import load_file


def validate_paths(paths: list[Path], extra_dirs: list[Path]) -> list[str]:
    """One line per checked path; the first problem raises a BanditmapError naming file, line and field."""
    base = catalog_mod.load_catalog(extra_dirs)
    check_simulators(base)
    if not paths:
        return [f"ok: {src}" for src in base.sources] + [
            f"{len(base.algorithms)} algorithms, {len(base.adapters)} adapters, {len(base.usecases)} use cases, "
            f"{len(base.traits)} traits"]
    lines = []
    for path in paths:
        if path.is_dir():
            merged = catalog_mod.load_dirs([catalog_mod.builtin_dir(), *extra_dirs, path])
            check_simulators(merged)
            own = sum(1 for a in merged.algorithms if a.source.startswith(str(path)))
            adapters = sum(1 for a in merged.adapters if a.source.startswith(str(path)))
            lines.append(f"ok: {path} ({own} algorithms" + (f", {adapters} adapters)" if adapters else ")"))
        else:
            lines.append(f"ok: {path} ({validate_file(path, base)})")
    return lines


def check_simulators(catalog: catalog_mod.Catalog) -> None:
    """Every `simulator` an algorithm or adapter names must be a registered policy or wrapper."""
    check_catalog_simulators(catalog)


def validate_file(path: Path, base: catalog_mod.Catalog) -> str:
    if path.name == "traits.yaml":
        groups, traits, rules = catalog_mod.load_traits(load_file(path))
        return f"{len(traits)} traits, {len(rules)} rules"
    doc = load_file(path)
    if isinstance(doc.data, dict) and "algorithms" in doc.data:
        found = catalog_mod.load_algorithms([path], base.traits, base.capabilities)
        for algorithm in found:
            check_simulator(algorithm)
        return f"{len(found)} algorithms"
    if isinstance(doc.data, dict) and "adapters" in doc.data:
        adapters = catalog_mod.load_adapters([path], base.traits, base.capabilities)
        catalog_mod.check_requirements(adapters, base.algorithms)
        for adapter in adapters:
            check_adapter_simulator(adapter)
        return f"{len(adapters)} adapters"
    if isinstance(doc.data, dict) and "profile" in doc.data:
        catalog_mod.load_usecase(doc, base.traits, base.rules)
        return "use case"
    raise BanditmapError("not a catalog file: expected traits.yaml, a mapping with algorithms: or adapters:, or a "
                         "use case with profile:", source=str(path))
