"""Policies for bandits with knapsacks: every arm earns and spends, and a budget must last the whole run.

All three keep per-arm reward and cost statistics and their own spend, and play the null action (index K) once
their budget is gone. They differ in how they turn estimates into a decision: an optimistic LP (UCB-BwK),
multiplicatively updated resource prices (primal-dual), or an LP on a posterior sample (Thompson sampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import (
    RATE,
    WIDTH,
    Array,
    Feedback,
    Policy,
    hyperparameter,
    register,
)
from banditmap.sim.policies.mab import ArmStats, arm_stats
from banditmap.sim.problem import Problem

BUDGET = frozenset({"budget"})


@dataclass(kw_only=True)
class Spending(ArmStats):
    """Per-arm statistics of a budget policy, whose decisions and learning are compiled kernels
    (sim/kernels/budget.py): its scratch row holds the cost sums, the spend, the budget and the resource prices."""

    draws: Array  # (R,) uint64: one random stream per repetition
    scratch: Array  # (R, W): cost sums (:K), spend, budget, price of the budget, price of time, then the policy's

    @property
    def cost_sums(self) -> Array:
        """(R, K) costs of each arm's plays (a view)."""
        view: Array = self.scratch[:, :self.K]
        return view

    @property
    def spent(self) -> Array:
        """(R,) budget spent (a view)."""
        view: Array = self.scratch[:, self.K]
        return view

    @property
    def budget(self) -> Array:
        """(R,) the budget of each repetition (a view)."""
        view: Array = self.scratch[:, self.K + 1]
        return view

    @property
    def prices(self) -> Array:
        """(R, 2) resource prices of the primal-dual policy: budget, time (a view)."""
        view: Array = self.scratch[:, self.K + 2:]
        return view


@dataclass(frozen=True)
class BudgetPolicy(Policy[Spending]):
    """A budget policy deciding with its compiled choose kernel, learning with learn_budget, one implementation
    for the compiled race (sim/kernels/budget.py) and the step-by-step loop. The kernels read the
    hyperparameters in the order the fields are declared."""

    kinds: ClassVar[frozenset[str]] = BUDGET
    choose: ClassVar[str] = "choose_ucb_bwk"
    learn: ClassVar[str] = "learn_budget"

    def start(self, problem: Problem) -> Array:
        """A repetition's scratch row (K + 4,) before the first round: nothing paid or spent, the run's budget,
        both resource prices 1."""
        row: Array = np.r_[np.zeros(problem.n_arms + 1), problem.budget, 1.0, 1.0]
        return row

    def init(self, problem: Problem, rng: np.random.Generator) -> Spending:
        draws = states_from(rng, problem.reps)  # first, so that the compiled race draws the same streams
        scratch = np.tile(self.start(problem), (problem.reps, 1))
        return arm_stats(problem, rng, Spending, draws=draws, scratch=scratch)

    def select(self, s: Spending, context: Array | None) -> Array:
        from banditmap.sim.kernels import budget
        choose, _ = budget.make_steps(self.choose, self.learn)
        actions: Array = choose(self.params(), s.counts, s.sums, s.means, s.scratch, s.draws, s.t, s.horizon)
        return actions

    def update(self, s: Spending, feedback: Feedback) -> None:
        from banditmap.sim.kernels import budget
        assert feedback.costs is not None
        _, learn = budget.make_steps(self.choose, self.learn)
        learn(self.params(), s.counts, s.sums, s.means, s.scratch, s.draws, feedback.reps.astype(np.int64),
              np.asarray(feedback.actions, dtype=np.int64), np.asarray(feedback.observed, dtype=np.float64),
              np.asarray(feedback.costs, dtype=np.float64))

    def recommend(self, s: Spending) -> Array:
        best: Array = np.argmax(s.means / np.maximum(s.cost_sums / np.maximum(s.counts, 1), 1e-3), axis=1)
        return best


@register("ucb-bwk")
@dataclass(frozen=True)
class UCBBwK(BudgetPolicy):
    """Solves the budget LP with upper bounds on rewards and lower bounds on costs and plays a draw from its
    solution (Agrawal and Devanur 2014), at the rate of budget left per round left (kernels/budget.py
    choose_ucb_bwk)."""

    choose: ClassVar[str] = "choose_ucb_bwk"
    alpha: float = hyperparameter(1.0, WIDTH)


@register("bwk-primal-dual")
@dataclass(frozen=True)
class PrimalDualBwK(BudgetPolicy):
    """PrimalDualBwK (Badanidiyuru, Kleinberg and Slivkins 2013): two resources, the budget and time (every round
    spends budget / horizon of it); a price per resource grows multiplicatively with the (lower-bound) spend of
    each decision, and the arm with the best upper-bound reward per priced lower-bound cost is played
    (kernels/budget.py choose_primal_dual)."""

    choose: ClassVar[str] = "choose_primal_dual"
    eta: float = hyperparameter(0.1, RATE)


@register("ts-pricing-inventory")
@dataclass(frozen=True)
class ThompsonBudget(BudgetPolicy):
    """Thompson sampling with an LP (Ferreira, Simchi-Levi and Wang 2018, the variant that re-solves with the
    inventory left): draw each arm's reward and cost rates from Beta posteriors, solve the budget LP on the draw
    at the rate of budget left per round left, and play a draw from its solution (kernels/budget.py
    choose_thompson_budget). The arms are the candidate prices (or campaigns); a unit of inventory is one unit of
    cost."""

    choose: ClassVar[str] = "choose_thompson_budget"

    def start(self, problem: Problem) -> Array:
        """The budget policies' row, then each arm's four kept Gamma constants, stale (0) until first drawn."""
        row: Array = np.r_[super().start(problem), np.zeros(4 * problem.n_arms)]
        return row
