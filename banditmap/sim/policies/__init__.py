"""Simulated policies; importing this package fills the registry."""

from banditmap.sim.policies import contextual, lists, mab, nonstationary, pricing  # noqa: F401
from banditmap.sim.policies.base import REGISTRY, Feedback, Policy, State, build

__all__ = ["REGISTRY", "Feedback", "Policy", "State", "build"]
