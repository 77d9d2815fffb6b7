"""Simulated policies; importing this package fills the registry."""

from banditmap.sim.policies import (assortment, budget, contextual, dueling, lists, mab,  # noqa: F401
                                    nonstationary, pricing)
from banditmap.sim.policies.base import REGISTRY, Feedback, Policy, State, build

__all__ = ["REGISTRY", "Feedback", "Policy", "State", "build"]
