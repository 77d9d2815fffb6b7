"""Simulated policies; importing this package fills the registry."""

from banditmap.sim.policies import (adversarial, assortment, budget, combination, contextual, delayed,  # noqa: F401
                                    dueling, lists, mab, multiobjective, nonstationary, pricing,
                                    safe)
from banditmap.sim.policies.base import REGISTRY, Feedback, Policy, State, build

__all__ = ["REGISTRY", "Feedback", "Policy", "State", "build"]
