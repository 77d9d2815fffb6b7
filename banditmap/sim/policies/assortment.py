"""Assortment policies under the multinomial-logit choice model (the MNL-bandit).

Both learn in epochs (Agrawal, Avadhanula, Goyal and Zeevi): one assortment is offered until a customer leaves
without buying. The number of purchases of item i in an epoch that offered it is geometric with mean v_i, an
unbiased observation of its preference weight, so after n epochs with i on offer the mean of those counts
estimates v_i without knowing the other items' weights. Revenues are known (the prices); weights are learnt.
Their decisions and learning are compiled kernels (sim/kernels/assortment.py), one implementation for the compiled
race, the step-by-step loop (adapters around them) and replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim import oracles
from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies.base import WIDTH, Array, Feedback, Policy, State, hyperparameter, register
from banditmap.sim.problem import Problem, item_revenues

ASSORTMENT = frozenset({"assortment"})


@dataclass(kw_only=True)
class Epochs(State):
    revenue: Array  # (R, N) known revenue of each item
    offered: Array  # (R, k) int64: the assortment of the running epoch, -1 pads
    fresh: Array  # (R,) bool: choose a new assortment before the next round
    bought: Array  # (R, N) purchases in the running epoch
    epochs: Array  # (R, N) finished epochs in which each item was offered
    purchases: Array  # (R, N) purchases of each item in those epochs
    finished: Array  # (R,) finished epochs
    draws: Array  # (R,) uint64: one random stream per repetition


@dataclass(frozen=True)
class EpochPolicy(Policy[Epochs]):
    """An epoch policy whose offers and learning are the kernels named `choose` and `learn` in
    sim/kernels/assortment.py; they read the hyperparameters in the order the fields are declared."""

    kinds: ClassVar[frozenset[str]] = ASSORTMENT
    choose: ClassVar[str] = "choose_uniform_assortment"
    learn: ClassVar[str] = "learn_epochs"

    def init(self, problem: Problem, rng: np.random.Generator) -> Epochs:
        R, N, k = problem.reps, problem.n_arms, problem.slate_size
        draws = states_from(rng, R)  # first, so that the compiled race draws the same streams
        zeros = np.zeros((R, N))
        return Epochs(rng, R, N, k, problem.rounds, revenue=np.tile(item_revenues(problem), (R, 1)),
                      offered=np.full((R, k), -1, dtype=np.int64), fresh=np.ones(R, dtype=bool),
                      bought=zeros.copy(), epochs=zeros.copy(), purchases=zeros.copy(), finished=np.zeros(R),
                      draws=draws)

    def select(self, s: Epochs, context: Array | None) -> Array:
        from banditmap.sim.kernels import assortment
        choose, _ = assortment.make_steps(self.choose, self.learn)
        choose(self.params(), s.epochs, s.purchases, s.finished, s.fresh, s.revenue, s.offered, s.draws)
        return s.offered.copy()

    def update(self, s: Epochs, feedback: Feedback) -> None:
        """Each observation in the feedback's order (a repetition's epoch ends after its purchases are counted)."""
        from banditmap.sim.kernels import assortment
        _, learn = assortment.make_steps(self.choose, self.learn)
        offers = np.ascontiguousarray(feedback.actions, dtype=np.int64)  # (N, k), as select offered them
        learn(s.epochs, s.purchases, s.bought, s.finished, s.fresh, feedback.reps.astype(np.int64), offers,
              np.asarray(feedback.observed, dtype=np.int64))

    def recommend(self, s: Epochs) -> Array:
        estimate = s.purchases / np.maximum(s.epochs, 1)
        return oracles.best_assortment(estimate, s.revenue, s.k)[0]


@register("mnl-ucb")
@dataclass(frozen=True)
class MNLUCB(EpochPolicy):
    """Optimistic weights v + sqrt(48 v log(sqrt(N) l + 1) / n) + 48 log(sqrt(N) l + 1) / n after l epochs, n of
    them offering the item (Agrawal et al. 2019), capped at 1, the no-purchase weight the model assumes no item
    exceeds. `scale` multiplies both terms (1 is the paper's constants, which explore for a long time)."""

    choose: ClassVar[str] = "choose_mnl_ucb"
    scale: float = hyperparameter(1.0, WIDTH)


@register("mnl-ts")
@dataclass(frozen=True)
class MNLThompson(EpochPolicy):
    """Thompson sampling with Beta posteriors (Agrawal et al. 2017): the purchases of item i in an epoch are
    geometric with success probability 1 / (1 + v_i), so with a uniform prior that probability has the posterior
    Beta(n + 1, purchases + 1) after n epochs; a draw p gives the weight 1 / p - 1."""

    choose: ClassVar[str] = "choose_mnl_ts"


@register("uniform-random-assortment")
@dataclass(frozen=True)
class UniformAssortment(EpochPolicy):
    """The baseline for assortments: k distinct items at random every round."""
