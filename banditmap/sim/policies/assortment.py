"""Assortment policies under the multinomial-logit choice model (the MNL-bandit).

Both learn in epochs (Agrawal, Avadhanula, Goyal and Zeevi): one assortment is offered until a customer leaves
without buying. The number of purchases of item i in an epoch that offered it is geometric with mean v_i, an
unbiased observation of its preference weight, so after n epochs with i on offer the mean of those counts
estimates v_i without knowing the other items' weights. Revenues are known (the prices); weights are learnt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from banditmap.sim import oracles
from banditmap.sim.policies.base import WIDTH, Array, Feedback, Policy, State, hyperparameter, register
from banditmap.sim.problem import Problem, item_revenues

ASSORTMENT = frozenset({"assortment"})


@dataclass(kw_only=True)
class Epochs(State):
    revenue: Array  # (R, N) known revenue of each item
    offered: Array  # (R, k) the assortment of the running epoch, -1 pads
    fresh: Array  # (R,) bool: choose a new assortment before the next round
    bought: Array  # (R, N) purchases in the running epoch
    epochs: Array  # (R, N) finished epochs in which each item was offered
    purchases: Array  # (R, N) purchases of each item in those epochs
    finished: Array  # (R,) finished epochs


@dataclass(frozen=True)
class EpochPolicy(Policy[Epochs]):
    kinds: ClassVar[frozenset[str]] = ASSORTMENT

    def init(self, problem: Problem, rng: np.random.Generator) -> Epochs:
        R, N, k = problem.reps, problem.n_arms, problem.slate_size
        zeros = np.zeros((R, N))
        return Epochs(rng, R, N, k, problem.rounds, revenue=np.broadcast_to(item_revenues(problem), (R, N)),
                      offered=np.full((R, k), -1), fresh=np.ones(R, dtype=bool), bought=zeros.copy(),
                      epochs=zeros.copy(), purchases=zeros.copy(), finished=np.zeros(R))

    def weights(self, s: Epochs, rows: Array) -> Array:
        """Preference weights to optimise with, for the given repetitions."""
        raise NotImplementedError

    def select(self, s: Epochs, context: Array | None) -> Array:
        rows = np.flatnonzero(s.fresh)
        if len(rows):
            weights = self.weights(s, rows) + s.rng.random((len(rows), s.K)) * 1e-9
            s.offered[rows], _ = oracles.best_assortment(weights, s.revenue[rows], s.k)
            s.fresh[rows] = False
        return s.offered.copy()

    def update(self, s: Epochs, feedback: Feedback) -> None:
        for layer in feedback.layers():  # an epoch's end must be seen after its purchases
            reps, offered = feedback.reps[layer], feedback.actions[layer]
            choice = feedback.observed[layer].astype(np.int64)
            bought = choice >= 0
            s.bought[reps[bought], choice[bought]] += 1
            left = ~bought
            if left.any():
                reps, offered = reps[left], offered[left]
                shown = offered >= 0
                rows = np.broadcast_to(reps[:, None], offered.shape)
                s.epochs[rows[shown], offered[shown]] += 1
                s.purchases[reps] += s.bought[reps]
                s.bought[reps] = 0
                s.finished[reps] += 1
                s.fresh[reps] = True

    def recommend(self, s: Epochs) -> Array:
        estimate = s.purchases / np.maximum(s.epochs, 1)
        return oracles.best_assortment(estimate, s.revenue, s.k)[0]


@register("mnl-ucb")
@dataclass(frozen=True)
class MNLUCB(EpochPolicy):
    """Optimistic weights v + sqrt(48 v log(sqrt(N) l + 1) / n) + 48 log(sqrt(N) l + 1) / n after l epochs, n of
    them offering the item (Agrawal et al. 2019), capped at 1, the no-purchase weight the model assumes no item
    exceeds. `scale` multiplies both terms (1 is the paper's constants, which explore for a long time)."""

    scale: float = hyperparameter(1.0, WIDTH)

    def weights(self, s: Epochs, rows: Array) -> Array:
        n = s.epochs[rows]
        v = s.purchases[rows] / np.maximum(n, 1)
        log = np.log(np.sqrt(s.K) * (s.finished[rows, None] + 1) + 1)
        bonus = self.scale * (np.sqrt(48 * v * log / np.maximum(n, 1)) + 48 * log / np.maximum(n, 1))
        return np.where(n == 0, 1.0, np.minimum(v + bonus, 1.0))


@register("mnl-ts")
@dataclass(frozen=True)
class MNLThompson(EpochPolicy):
    """Thompson sampling with Beta posteriors (Agrawal et al. 2017): the purchases of item i in an epoch are
    geometric with success probability 1 / (1 + v_i), so with a uniform prior that probability has the posterior
    Beta(n + 1, purchases + 1) after n epochs; a draw p gives the weight 1 / p - 1."""

    def weights(self, s: Epochs, rows: Array) -> Array:
        p = s.beta(s.epochs[rows] + 1, s.purchases[rows] + 1, rows)
        weights: Array = 1.0 / np.maximum(p, 1e-9) - 1.0
        return weights


@register("uniform-random-assortment")
@dataclass(frozen=True)
class UniformAssortment(EpochPolicy):
    """The baseline for assortments: k distinct items at random every round."""

    def select(self, s: Epochs, context: Array | None) -> Array:
        return np.argsort(s.rng.random((s.R, s.K)), axis=1)[:, : s.k]
