"""`catalog validate`: checks catalog folders and single YAML files against the schema and the vocabulary."""

from __future__ import annotations

from pathlib import Path

from banditmap.catalog import loading as catalog_mod
from banditmap.catalog.yamlio import load_file
from banditmap.errors import BanditmapError, shown
from banditmap.model import Adapter, Algorithm, Catalog
from banditmap.sim import known_simulators
from banditmap.sim.adapters import ADAPTERS
from banditmap.sim.policies import REGISTRY


def validate_paths(paths: list[Path], extra_dirs: list[Path]) -> list[str]:
    """One line per checked path; the first problem raises a BanditmapError naming file, line and field."""
    base = catalog_mod.load_catalog(extra_dirs)
    check_catalog_simulators(base)
    if not paths:
        return [f"ok: {src}" for src in base.sources] + [
            f"{len(base.algorithms)} algorithms, {len(base.adapters)} adapters, {len(base.usecases)} use cases, "
            f"{len(base.traits)} traits"]
    lines = []
    for path in paths:
        if path.is_dir():
            merged = catalog_mod.load_dirs([catalog_mod.builtin_dir(), *extra_dirs, path])
            check_catalog_simulators(merged)
            own = sum(1 for a in merged.algorithms if a.source.startswith(str(path)))
            adapters = sum(1 for a in merged.adapters if a.source.startswith(str(path)))
            lines.append(f"ok: {path} ({own} algorithms" + (f", {adapters} adapters)" if adapters else ")"))
        else:
            lines.append(f"ok: {path} ({validate_file(path, base)})")
    return lines


def validate_file(path: Path, base: Catalog) -> str:
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


def check_simulator(algorithm: Algorithm) -> None:
    """Refuse a catalog entry whose `simulator` names no registered policy (a user catalog's typo)."""
    if algorithm.simulator and algorithm.simulator not in REGISTRY:
        raise BanditmapError(f"algorithm {shown(algorithm.id)} names simulator {shown(algorithm.simulator)}, which "
                             f"does not exist; expected one of {', '.join(known_simulators())}",
                             source=algorithm.source or None, field="simulator")


def check_adapter_simulator(adapter: Adapter) -> None:
    """Refuse an adapter entry whose `simulator` names no registered wrapper."""
    if adapter.simulator and adapter.simulator not in ADAPTERS:
        raise BanditmapError(f"adapter {shown(adapter.id)} names simulator {shown(adapter.simulator)}, which does "
                             f"not exist; expected one of {', '.join(known_simulators(adapters=True))}",
                             source=adapter.source or None, field="simulator")


def check_catalog_simulators(catalog: Catalog) -> None:
    """Every `simulator` an algorithm or adapter entry names must be registered."""
    for algorithm in catalog.algorithms:
        check_simulator(algorithm)
    for adapter in catalog.adapters:
        check_adapter_simulator(adapter)
