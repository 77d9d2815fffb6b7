"""The quick-benchmark: synthetic problems shaped like a profile, vectorised policies, and the race between them."""

from __future__ import annotations


def known_simulators() -> tuple[str, ...]:
    """The simulator ids a catalog entry may name, sorted. Importing this package runs nothing heavy; the policy
    registry (and NumPy) is loaded on the first call."""
    from banditmap.sim.policies import REGISTRY
    return tuple(sorted(REGISTRY))
