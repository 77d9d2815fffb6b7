"""Policies for bandits with knapsacks: every arm earns and spends, and a budget must last the whole run.

All three keep per-arm reward and cost statistics and their own spend, and play the null action (index K) once
their budget is gone. They differ in how they turn estimates into a decision: an optimistic LP (UCB-BwK),
multiplicatively updated resource prices (primal-dual), or an LP on a posterior sample (Thompson sampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim import oracles
from banditmap.sim.policies.base import (RATE, WIDTH, Array, Feedback, Policy, hyperparameter, register,
                                         scatter_add, tie_noise)
from banditmap.sim.policies.mab import ArmStats, add_observations, arm_stats
from banditmap.sim.problem import Problem

BUDGET = frozenset({"budget"})


@dataclass(kw_only=True)
class Spending(ArmStats):
    cost_sums: Array  # (R, K) costs of each arm's plays
    spent: Array  # (R,) budget spent
    budget: float = 0.0  # the budget of each repetition
    prices: Array | None = None  # (R, 2) resource prices of the primal-dual policy: budget, time


def radius(mean: Array, n: Array, gamma: float) -> Array:
    """The confidence radius of Badanidiyuru et al. and Agrawal and Devanur: sqrt(gamma mean / n) + gamma / n,
    narrow for rare events such as clicks, where a Hoeffding radius would be needlessly wide."""
    n = np.maximum(n, 1)
    radius: Array = np.sqrt(gamma * np.maximum(mean, 0) / n) + gamma / n
    return radius


@dataclass(frozen=True)
class BudgetPolicy(Policy[Spending]):
    kinds: ClassVar[frozenset[str]] = BUDGET

    def init(self, problem: Problem, rng: np.random.Generator) -> Spending:
        return arm_stats(problem, rng, Spending, cost_sums=np.zeros((problem.reps, problem.n_arms)),
                         spent=np.zeros(problem.reps), budget=problem.budget)

    def rate_bounds(self, s: Spending, gamma: float) -> tuple[Array, Array]:
        """Upper bounds on the reward rates and lower bounds on the cost rates (1 and 0 for untried arms)."""
        cost = s.cost_sums / np.maximum(s.counts, 1)
        upper = np.where(s.counts == 0, 1.0, np.minimum(s.means + radius(s.means, s.counts, gamma), 1.0))
        lower = np.where(s.counts == 0, 0.0, np.maximum(cost - radius(cost, s.counts, gamma), 0.0))
        return upper, lower

    def rate(self, s: Spending) -> Array:
        """Budget left per round left: spending at this rate uses the budget up exactly at the horizon."""
        return np.maximum(s.budget - s.spent, 0.0) / max(s.horizon - s.t, 1)

    def decide(self, s: Spending, chosen: Array) -> Array:
        return np.where(s.spent < s.budget, chosen, s.K)  # out of budget: the null action

    def update(self, s: Spending, feedback: Feedback) -> None:
        assert feedback.costs is not None
        acted = feedback.actions < s.K
        part = Feedback(feedback.reps[acted], feedback.actions[acted], feedback.observed[acted], None,
                        unique=feedback.unique)
        add_observations(s, part)
        scatter_add(s.cost_sums, (part.reps, part.actions), feedback.costs[acted], feedback.unique)
        scatter_add(s.spent, (feedback.reps,), feedback.costs, feedback.unique)

    def recommend(self, s: Spending) -> Array:
        best: Array = np.argmax(s.means / np.maximum(s.cost_sums / np.maximum(s.counts, 1), 1e-3), axis=1)
        return best


@register("ucb-bwk")
@dataclass(frozen=True)
class UCBBwK(BudgetPolicy):
    """Solves the budget LP with upper bounds on rewards and lower bounds on costs and plays a draw from its
    solution (Agrawal and Devanur 2014), at the rate of budget left per round left."""

    alpha: float = hyperparameter(1.0, WIDTH)

    def select(self, s: Spending, context: Array | None) -> Array:
        upper, lower = self.rate_bounds(s, self.alpha * np.log(s.K * s.horizon))
        mix = oracles.budget_mix(upper + tie_noise(s.rng, upper.shape), lower, self.rate(s))
        return self.decide(s, mix.draw(s.rng))


@register("bwk-primal-dual")
@dataclass(frozen=True)
class PrimalDualBwK(BudgetPolicy):
    """PrimalDualBwK (Badanidiyuru, Kleinberg and Slivkins 2013): two resources, the budget and time (every round
    spends budget / horizon of it); a price per resource grows multiplicatively with the (lower-bound) spend of
    each decision, and the arm with the best upper-bound reward per priced lower-bound cost is played."""

    eta: float = hyperparameter(0.1, RATE)

    def select(self, s: Spending, context: Array | None) -> Array:
        if s.prices is None:
            s.prices = np.ones((s.R, 2))
        upper, lower = self.rate_bounds(s, np.log(s.K * s.horizon))
        time_cost = s.budget / max(s.horizon, 1)
        priced = lower * s.prices[:, :1] + time_cost * s.prices[:, 1:]
        chosen = np.argmax(upper / priced + tie_noise(s.rng, upper.shape), axis=1)
        rows = np.arange(s.R)
        s.prices[:, 0] *= (1 + self.eta) ** lower[rows, chosen]
        s.prices[:, 1] *= (1 + self.eta) ** time_cost
        s.prices /= s.prices.sum(axis=1, keepdims=True)  # only the ratio of the prices matters
        return self.decide(s, chosen)


@register("ts-pricing-inventory")
@dataclass(frozen=True)
class ThompsonBudget(BudgetPolicy):
    """Thompson sampling with an LP (Ferreira, Simchi-Levi and Wang 2018, the variant that re-solves with the
    inventory left): draw each arm's reward and cost rates from Beta posteriors, solve the budget LP on the draw
    at the rate of budget left per round left, and play a draw from its solution. The arms are the candidate
    prices (or campaigns); a unit of inventory is one unit of cost."""

    def select(self, s: Spending, context: Array | None) -> Array:
        sums = np.clip(s.sums, 0, s.counts)
        reward = s.beta(1 + sums, 1 + s.counts - sums)
        cost = s.beta(1 + s.cost_sums, 1 + np.maximum(s.counts - s.cost_sums, 0))
        return self.decide(s, oracles.budget_mix(reward, cost, self.rate(s)).draw(s.rng))
