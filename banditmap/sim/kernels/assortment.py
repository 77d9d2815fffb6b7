"""The assortment oracle compiled: the revenue-maximising set of at most `size` items under the MNL model, row by
row (sim/oracles.py's best_assortment, which the MNL policies call for every repetition whose epoch ends)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def best_sets(weights: np.ndarray, revenue: np.ndarray, size: int, iterations: int) -> np.ndarray:
    """Each row's best set (N, size) of item indices, -1 padding, by bisection on the optimal revenue z: the
    fixed point of z = max_{|S| <= size} sum_S v_i (r_i - z), whose right-hand side for a given z is the sum of
    the `size` largest positive v_i (r_i - z) (Rusmevichientong, Shen and Shmoys 2010). The first item is always
    offered, so no set is empty."""
    N, K = weights.shape
    chosen = np.full((N, size), -1, np.int64)
    gain = np.empty(K)
    top = np.empty(size)  # the largest gains so far, in decreasing order
    for n in range(N):
        low, high = 0.0, revenue[n].max()
        for _ in range(iterations):
            z = (low + high) / 2.0
            top[:] = 0.0  # only positive gains count
            for k in range(K):
                g = weights[n, k] * (revenue[n, k] - z)
                if g > top[size - 1]:
                    j = size - 1
                    while j > 0 and top[j - 1] < g:
                        top[j] = top[j - 1]
                        j -= 1
                    top[j] = g
            if top.sum() > z:
                low = z
            else:
                high = z
        for k in range(K):
            gain[k] = weights[n, k] * (revenue[n, k] - low)
        order = np.argsort(-gain)[:size]
        for j in range(size):
            if j == 0 or gain[order[j]] > 0.0:
                chosen[n, j] = order[j]
    return chosen
