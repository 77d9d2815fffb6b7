"""Adapter simulators: generic wrappers that run a composed candidate (a base policy and the catalog's adapters
around it) in the race; importing this package fills the adapter registry."""

from banditmap.sim.adapters import delays, instances, safety, statistics, views  # noqa: F401
from banditmap.sim.adapters.base import (ADAPTERS, Wrapper, build_wrapper, chain_gap, chain_kinds,
                                         register_adapter)

__all__ = ["ADAPTERS", "Wrapper", "build_wrapper", "chain_gap", "chain_kinds", "register_adapter"]
