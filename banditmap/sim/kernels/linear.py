"""Compiled kernels of the linear contextual policies: one ridge regression per arm (disjoint models, Li et al.
2010), kept as the inverse A^-1 (R, K, d, d) of l2 I + sum x x^T, the target b (R, K, d) = sum r x and the estimate
theta (R, K, d) = A^-1 b, updated by the Sherman-Morrison formula; decisions for one repetition r with context x
(d,), ties broken uniformly at random (arms.consider)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numba import njit

from banditmap.sim.kernels import rng
from banditmap.sim.kernels.arms import bind, consider


@njit(cache=True)
def mean_and_width(inverse: np.ndarray, theta: np.ndarray, r: int, k: int, x: np.ndarray) -> tuple[float, float]:
    """Arm k's predicted reward x^T theta and the width sqrt(x^T A^-1 x) of its confidence ellipsoid."""
    d = x.shape[0]
    mean = 0.0
    quad = 0.0
    for i in range(d):
        mean += theta[r, k, i] * x[i]
        row = 0.0
        for j in range(d):
            row += inverse[r, k, i, j] * x[j]
        quad += x[i] * row
    return mean, math.sqrt(max(quad, 0.0))


@njit(cache=True)
def choose_linucb(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                  draws: np.ndarray, r: int, x: np.ndarray) -> int:
    """params: l2, alpha. The largest x^T theta + alpha sqrt(x^T A^-1 x) (LinUCB, Li et al. 2010)."""
    best, pick, ties = -np.inf, -1, 0
    for k in range(theta.shape[1]):
        mean, width = mean_and_width(inverse, theta, r, k, x)
        best, pick, ties = consider(mean + params[1] * width, k, best, pick, ties, draws, r)
    return pick


@njit(cache=True)
def choose_lin_ts(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                  draws: np.ndarray, r: int, x: np.ndarray) -> int:
    """params: l2, v. The largest draw of x^T theta from N(x^T theta_hat, v^2 x^T A^-1 x), the distribution of
    x^T theta under the arm's Gaussian posterior (linear Thompson sampling, Agrawal & Goyal 2013)."""
    best, pick, ties = -np.inf, -1, 0
    for k in range(theta.shape[1]):
        mean, width = mean_and_width(inverse, theta, r, k, x)
        best, pick, ties = consider(mean + params[1] * width * rng.normal(draws, r), k, best, pick, ties, draws, r)
    return pick


@njit(cache=True)
def learn_ridge(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray, draws: np.ndarray,
                r: int, arm: int, x: np.ndarray, reward: float) -> None:
    """Add (x, reward) to arm's regression: A^-1 <- A^-1 - (A^-1 x)(A^-1 x)^T / (1 + x^T A^-1 x), b += r x,
    theta = A^-1 b."""
    d = x.shape[0]
    ax = np.empty(d)
    for i in range(d):
        total = 0.0
        for j in range(d):
            total += inverse[r, arm, i, j] * x[j]
        ax[i] = total
    shrink = 0.0
    for i in range(d):
        shrink += x[i] * ax[i]
    shrink = 1.0 / (1.0 + shrink)
    for i in range(d):
        target[r, arm, i] += reward * x[i]
        for j in range(d):
            inverse[r, arm, i, j] -= ax[i] * ax[j] * shrink
    for i in range(d):
        total = 0.0
        for j in range(d):
            total += inverse[r, arm, i, j] * target[r, arm, j]
        theta[r, arm, i] = total


def choose(*args: Any) -> int:  # pragma: no cover - replaced in each binding by the policy's own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own learn
    raise NotImplementedError


def step_choose_template(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                         draws: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    actions = np.empty(theta.shape[0], np.int64)
    for r in range(theta.shape[0]):
        actions[r] = choose(params, inverse, target, theta, draws, r, contexts[r])
    return actions


def step_learn_template(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                        draws: np.ndarray, reps: np.ndarray, arms: np.ndarray, contexts: np.ndarray,
                        rewards: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(params, inverse, target, theta, draws, reps[i], arms[i], contexts[i], rewards[i])


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """A linear policy's decisions for all repetitions (contexts (R, d)), and its learning from a batch of
    observations (reps, arms, contexts (N, d), rewards, learnt in their order)."""
    kernels = globals()
    return (bind(step_choose_template, f"linear_step_{choose_name}", choose=kernels[choose_name],
                 namespace=kernels),
            bind(step_learn_template, f"linear_step_{learn_name}", learn=kernels[learn_name], namespace=kernels))
