"""Exact optimisers shared by environments (to know the best action) and policies (to act on their estimates):
the budget linear program of bandits with knapsacks, the best assortment under a multinomial-logit choice model,
and the best combination of a factorised page model. All work on whole (R, ...) arrays at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Mix:
    """The solution of the budget LP for each repetition: play `high` with probability `p_high`, else `low`.

    Index K (one past the last arm) is the null action: skip this round, earn and spend nothing.
    """

    value: Array  # (R,) expected reward per round of the mix
    low: Array  # (R,) int
    high: Array  # (R,) int
    p_high: Array  # (R,)


def budget_mix(reward: Array, cost: Array, rate: Array | float) -> Mix:
    """max sum_a p_a r_a  s.t.  sum_a p_a c_a <= rate,  sum_a p_a = 1,  p >= 0, with a free null action, for
    every row of reward and cost (R, K) at its rate: the compiled LP of sim/kernels/budget.py (budget_lp), which
    the budget world and policies call round by round."""
    from banditmap.sim.kernels.budget import budget_lp_rows
    reward = np.ascontiguousarray(reward, dtype=np.float64)
    # writable (a broadcast view is read-only, a type of its own to numba: a second compile of the LP)
    rates = np.require(np.broadcast_to(np.asarray(rate, dtype=np.float64), reward.shape[:1]),
                       requirements=("C", "W"))
    lp = budget_lp_rows(reward, np.ascontiguousarray(cost, dtype=np.float64), rates)
    return Mix(value=lp[:, 0], low=lp[:, 1].astype(np.int64), high=lp[:, 2].astype(np.int64), p_high=lp[:, 3])


def assortment_revenue(weights: Array, revenue: Array, offered: Array) -> Array:
    """Expected revenue of each row's assortment (R, k) of item indices (-1 pads) under the MNL model with a
    no-purchase weight of 1: sum_S v_i r_i / (1 + sum_S v_i)."""
    rows = np.arange(weights.shape[0])[:, None]
    shown = offered >= 0
    idx = np.where(shown, offered, 0)
    v = np.where(shown, weights[rows, idx], 0.0)
    r = np.where(shown, revenue[rows, idx], 0.0)
    revenue_rate: Array = (v * r).sum(axis=1) / (1.0 + v.sum(axis=1))
    return revenue_rate


def best_assortment(weights: Array, revenue: Array, size: int, iterations: int = 30) -> tuple[Array, Array]:
    """The revenue-maximising assortment of at most `size` items and its revenue, for every row.

    The optimal revenue z is the fixed point of z = max_{|S| <= size} sum_S v_i (r_i - z): for a given z the
    best S is the `size` items with the largest positive v_i (r_i - z), and the right-hand side falls as z
    grows, so bisection on z finds it (Rusmevichientong, Shen and Shmoys 2010).
    """
    from banditmap.sim.kernels.assortment import best_sets
    size = min(size, weights.shape[1])
    chosen = best_sets(np.ascontiguousarray(weights, dtype=np.float64),
                       np.ascontiguousarray(np.broadcast_to(revenue, weights.shape), dtype=np.float64), size,
                       iterations)
    return chosen, assortment_revenue(weights, revenue, chosen)
