"""The quick-benchmark: synthetic problems shaped like a profile, vectorised policies, and the race between them."""

from __future__ import annotations


def known_simulators(adapters: bool = False) -> tuple[str, ...]:
    """The simulator ids an algorithm entry may name (an adapter entry with `adapters`), sorted. Importing this
    package runs nothing heavy; the registries (and NumPy) are loaded on the first call."""
    if adapters:
        from banditmap.sim.adapters import ADAPTERS
        return tuple(sorted(ADAPTERS))
    from banditmap.sim.policies import REGISTRY
    return tuple(sorted(REGISTRY))
