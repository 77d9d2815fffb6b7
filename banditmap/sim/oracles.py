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

    def support(self, n_arms: int) -> Array:
        """(R, K + 1) bool: the actions the optimal mix plays with positive probability."""
        rows = np.arange(len(self.low))
        out = np.zeros((len(self.low), n_arms + 1), dtype=bool)
        out[rows, self.low] = self.p_high < 1
        out[rows, self.high] |= self.p_high > 0
        return out

    def draw(self, rng: np.random.Generator) -> Array:
        return np.where(rng.random(len(self.low)) < self.p_high, self.high, self.low)


def budget_mix(reward: Array, cost: Array, rate: Array | float) -> Mix:
    """max sum_a p_a r_a  s.t.  sum_a p_a c_a <= rate,  sum_a p_a = 1,  p >= 0, with a free null action.

    A vertex of this LP puts weight on at most two actions: one within the rate and one above it, mixed so that
    the expected cost equals the rate (or a single affordable action). Every such pair is scored at once.
    """
    R, K = reward.shape
    r = np.concatenate([reward, np.zeros((R, 1))], axis=1)
    c = np.concatenate([cost, np.zeros((R, 1))], axis=1)
    rho = np.broadcast_to(np.asarray(rate, dtype=float), (R,))[:, None]
    cheap = c <= rho  # (R, K + 1); the null action is always cheap
    pure = np.where(cheap, r, -np.inf)
    gap = c[:, None, :] - c[:, :, None]  # (R, i, j): c_j - c_i
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (rho[:, :, None] - c[:, :, None]) / gap
    valid = cheap[:, :, None] & ~cheap[:, None, :]
    p = np.where(valid, p, 0.0)
    mixed = np.where(valid, r[:, :, None] + p * (r[:, None, :] - r[:, :, None]), -np.inf)
    flat = mixed.reshape(R, -1)
    pair = flat.argmax(axis=1)
    pair_value = flat[np.arange(R), pair]
    single = pure.argmax(axis=1)
    single_value = pure[np.arange(R), single]
    use_pair = pair_value > single_value
    i, j = pair // (K + 1), pair % (K + 1)
    rows = np.arange(R)
    return Mix(value=np.where(use_pair, pair_value, single_value), low=np.where(use_pair, i, single),
               high=np.where(use_pair, j, single), p_high=np.where(use_pair, p.reshape(R, -1)[rows, pair], 0.0))


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
