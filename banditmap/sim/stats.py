"""Summaries of a race: means with 95% confidence intervals, paired comparisons with the best, a verdict."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def mean_ci(values: np.ndarray) -> tuple[float, float | None]:
    """Mean and the half-width of its normal-approximation 95% confidence interval over repetitions; None for
    the half-width when one repetition gives no spread to estimate it from."""
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, None
    return mean, float(Z95 * values.std(ddof=1) / math.sqrt(n))


def curve_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean curve and its pointwise 95% band, from (R, P) curves."""
    mean = curves.mean(axis=0)
    if curves.shape[0] < 2:
        return mean, mean, mean
    half = Z95 * curves.std(axis=0, ddof=1) / math.sqrt(curves.shape[0])
    return mean, mean - half, mean + half


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float | None]:
    """Mean and 95% half-width of a - b over repetitions that shared their environment draws."""
    return mean_ci(a - b)
