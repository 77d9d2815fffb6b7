"""Simulated policies; importing this package fills the registry."""

from banditmap.sim.policies import (adversarial, assortment, bestarm, budget, combination, contextual,  # noqa: F401
                                    delayed, dueling, forgetting, lists, mab, multiobjective, nonstationary,
                                    pricing, safe)
from banditmap.sim.policies.base import REGISTRY, Feedback, Policy, State, build

__all__ = ["REGISTRY", "Feedback", "Policy", "State", "build"]
