"""Summaries of a race: means with 95% confidence intervals, paired comparisons with the best, a verdict."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054  # the normal quantile t95 tends to as the repetitions grow
T95_1 = 12.706204736174705  # t95(1) = tan(0.475 pi), the largest of them


def t_within(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with df >= 1 (whole) degrees of freedom, in closed form (Abramowitz and Stegun
    1964, 26.7.3 for odd df, 26.7.4 for even df), theta = atan(t / sqrt(df)):
    odd:  (2 / pi) (theta + sin cos (1 + 2/3 cos^2 + (2 4)/(3 5) cos^4 + ... + (2 4 .. df-3)/(3 5 .. df-2) cos^(df-3))),
          2 theta / pi for df = 1;
    even: sin (1 + 1/2 cos^2 + (1 3)/(2 4) cos^4 + ... + (1 3 .. df-3)/(2 4 .. df-2) cos^(df-2))."""
    theta = math.atan(t / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    j = np.arange(1.0, df // 2)  # the series' terms after its leading 1: (df - 3) / 2 (odd df), (df - 2) / 2 (even)
    if df % 2:
        series = 1 + np.cumprod(2 * j / (2 * j + 1) * cos2).sum()
        tail = 0.0 if df == 1 else math.sin(theta) * math.cos(theta) * series
        return float(2 / math.pi * (theta + tail))
    return float(math.sin(theta) * (1 + np.cumprod((2 * j - 1) / (2 * j) * cos2).sum()))


def t95(df: int) -> float:
    """The two-sided 95% critical value of Student's t with df degrees of freedom, P(|T| <= t95) = 0.95, by
    bisection on t_within between its limits Z95 (df -> infinity) and T95_1 (df = 1)."""
    low, high = Z95, T95_1
    while high - low > 1e-12:
        middle = (low + high) / 2
        if t_within(middle, df) < 0.95:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def mean_ci(values: np.ndarray) -> tuple[float, float | None]:
    """Mean and the half-width of its Student-t 95% confidence interval over n repetitions (n - 1 degrees of
    freedom: a normal quantile would claim 95% for what holds 70% of the time with 2 repetitions, 88% with 5);
    None for the half-width when one repetition gives no spread to estimate it from."""
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, None
    return mean, float(t95(n - 1) * values.std(ddof=1) / math.sqrt(n))


def curve_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean curve and its pointwise 95% band (Student t, as mean_ci), from (R, P) curves."""
    mean = curves.mean(axis=0)
    if curves.shape[0] < 2:
        return mean, mean, mean
    half = t95(curves.shape[0] - 1) * curves.std(axis=0, ddof=1) / math.sqrt(curves.shape[0])
    return mean, mean - half, mean + half


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float | None]:
    """Mean and 95% half-width of a - b over repetitions that shared their environment draws."""
    return mean_ci(a - b)
