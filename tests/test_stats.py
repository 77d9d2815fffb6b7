"""The statistics behind the race's verdicts (banditmap.sim.stats): Student-t quantiles, intervals, paired
differences and bands, checked on cases computed by hand, by properties with a closed form, and by their coverage
over seeded samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from banditmap.sim.stats import (
    T95_1,
    Z95,
    curve_band,
    mean_ci,
    paired_difference,
    t95,
    t_within,
)

# Two-sided 95% critical values of Student's t (Abramowitz and Stegun 1964, table 26.10, the 0.975 quantile)
TABLE = {3: 3.182446, 4: 2.776445, 5: 2.570582, 6: 2.446912, 7: 2.364624, 8: 2.306004, 9: 2.262157,
         10: 2.228139, 20: 2.085963, 30: 2.042272, 60: 2.000298, 120: 1.979930, 1000: 1.962339}


# --- the t distribution ----------------------------------------------------------------------------------------

def by_hand(t: float, df: int) -> float:
    """P(|T| <= t) written out for df = 1..6 (A&S 26.7.3-4 with the series spelled out), theta = atan(t/sqrt(df))."""
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    return {1: 2 * theta / math.pi,
            2: t / math.sqrt(2 + t * t),  # sin(atan(t / sqrt 2))
            3: 2 / math.pi * (theta + s * c),
            4: s * (1 + c ** 2 / 2),
            5: 2 / math.pi * (theta + s * c * (1 + 2 / 3 * c ** 2)),
            6: s * (1 + c ** 2 / 2 + 3 / 8 * c ** 4)}[df]


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("t", [0.3, 1.0, 2.5, 12.0])
def test_t_within_is_the_closed_form(df: int, t: float) -> None:
    assert t_within(t, df) == pytest.approx(by_hand(t, df), abs=1e-14)
    assert type(t_within(t, df)) is float


@given(st.integers(1, 400), st.floats(0.0, 6.0))
def test_t_within_is_a_probability_rising_with_t(df: int, t: float) -> None:
    p = t_within(t, df)
    assert 0.0 <= p <= 1.0 + 1e-12
    assert t_within(t + 0.5, df) > p
    assert t_within(t, df + 1) >= p - 1e-12  # heavier tails with fewer degrees of freedom


def test_t_within_tends_to_the_normal() -> None:
    normal = math.erf(Z95 / math.sqrt(2))  # P(|Z| <= Z95) = 0.95
    assert t_within(Z95, 100_000) == pytest.approx(normal, abs=3e-6) == pytest.approx(0.95, abs=3e-6)
    assert t_within(0.0, 7) == 0.0


def test_t95_by_hand_and_from_the_table() -> None:
    assert t95(1) == pytest.approx(math.tan(0.475 * math.pi), abs=1e-10) == pytest.approx(T95_1, abs=1e-10)
    assert t95(2) == pytest.approx(math.sqrt(2 * 0.95 ** 2 / (1 - 0.95 ** 2)), abs=1e-10)  # t / sqrt(2 + t^2) = .95
    for df, value in TABLE.items():
        assert t95(df) == pytest.approx(value, abs=1e-6), df
    assert t95(99_999) == pytest.approx(Z95 + (Z95 ** 3 + Z95) / (4 * 99_999), abs=1e-9)  # A&S 26.7.5, first term


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6, 7, 12, 49, 50, 999])
def test_t95_solves_its_equation(df: int) -> None:
    assert t_within(t95(df), df) == pytest.approx(0.95, abs=1e-11)
    assert Z95 < t95(df + 1) < t95(df) <= T95_1 + 1e-9


# --- intervals ---------------------------------------------------------------------------------------------------

def test_mean_ci_by_hand() -> None:
    # 1, 2, 3, 4: mean 2.5, sample variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3, half-width t95(3) sd / sqrt(4)
    mean, half = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5 and half == pytest.approx(3.182446305 * math.sqrt(5 / 3) / 2, abs=1e-8)
    assert half == pytest.approx(2.0542604, abs=1e-6)
    assert type(mean) is float and type(half) is float
    # two values: sd |x - y| / sqrt 2, over sqrt 2: half-width t95(1) |x - y| / 2
    mean, half = mean_ci(np.array([3.0, 7.0]))
    assert mean == 5.0 and half == pytest.approx(T95_1 * 2, abs=1e-9)


def test_one_repetition_gives_no_interval() -> None:
    assert mean_ci(np.array([7.5])) == (7.5, None)
    assert paired_difference(np.array([3.0]), np.array([1.25])) == (1.75, None)
    mean, low, high = curve_band(np.array([[1.0, 2.0, 4.0]]))
    assert mean.tolist() == low.tolist() == high.tolist() == [1.0, 2.0, 4.0]


def test_no_spread_gives_a_zero_width() -> None:
    mean, half = mean_ci(np.full(5, 0.3))
    assert mean == pytest.approx(0.3) and half == 0.0
    assert paired_difference(np.array([5.0, 6.0, 7.0]), np.array([4.0, 5.0, 6.0])) == (1.0, 0.0)


def test_a_non_finite_value_spreads_to_the_interval() -> None:
    with np.errstate(invalid="ignore"):  # inf - inf in the spread
        mean, half = mean_ci(np.array([1.0, math.inf, 2.0]))
    assert mean == math.inf and half is not None and math.isnan(half)
    mean, half = mean_ci(np.array([1.0, math.nan]))
    assert math.isnan(mean) and half is not None and math.isnan(half)


def test_paired_difference_by_hand_is_narrower_than_the_two_intervals() -> None:
    # differences 2, 3, 1: mean 2, sd 1, half-width t95(2) / sqrt 3
    a, b = np.array([3.0, 5.0, 4.0]), np.array([1.0, 2.0, 3.0])
    gap, half = paired_difference(a, b)
    assert gap == 2.0 and half == pytest.approx(4.302652730 / math.sqrt(3), abs=1e-8)
    # repetitions that share their draws move together: pairing removes what they share
    shared = np.array([10.0, 20.0, 30.0, 40.0])
    gap, half = paired_difference(shared + np.array([1.0, 1.5, 1.0, 1.5]), shared)
    assert gap == 1.25 and half == pytest.approx(t95(3) * math.sqrt(1 / 12) / 2, abs=1e-9)
    assert half < mean_ci(shared)[1]  # type: ignore[operator]
    gap, half = paired_difference(b, a)
    assert gap == -2.0 and half == pytest.approx(4.302652730 / math.sqrt(3), abs=1e-8)


def test_curve_band_by_hand() -> None:
    # 3 repetitions x 2 points; column 0: 1, 2, 3 (sd 1), column 1: 0, 0, 6 (mean 2, sd sqrt 12)
    curves = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 6.0]])
    mean, low, high = curve_band(curves)
    half = 4.302652730 * np.array([1.0, math.sqrt(12)]) / math.sqrt(3)
    assert mean.tolist() == [2.0, 2.0]
    np.testing.assert_allclose(low, mean - half, atol=1e-8)
    np.testing.assert_allclose(high, mean + half, atol=1e-8)


# --- properties with a closed form ---------------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)
samples = st.lists(finite, min_size=2, max_size=40).map(np.array)


@given(samples, finite, st.floats(0.01, 100.0))
def test_intervals_move_with_a_shift_and_scale_with_a_factor(values: np.ndarray, shift: float, factor: float) -> None:
    mean, half = mean_ci(values)
    moved, moved_half = mean_ci(values * -factor + shift)
    assert moved == pytest.approx(-factor * mean + shift, rel=1e-9, abs=1e-6)
    assert half is not None and moved_half == pytest.approx(factor * half, rel=1e-6, abs=1e-6)


@given(finite, finite)
def test_two_values_have_the_half_width_t95_1_spread_over_two(x: float, y: float) -> None:
    mean, half = mean_ci(np.array([x, y]))
    assert mean == pytest.approx((x + y) / 2) and half == pytest.approx(T95_1 * abs(x - y) / 2, rel=1e-9, abs=1e-9)


@given(st.integers(2, 30).flatmap(lambda n: st.tuples(*[st.tuples(finite, finite)] * n)))
def test_paired_difference_is_the_interval_of_the_differences(pairs: tuple[tuple[float, float], ...]) -> None:
    a, b = np.array(pairs).T
    assert paired_difference(a, b) == mean_ci(a - b)
    gap, half = paired_difference(a, b)
    back, back_half = paired_difference(b, a)
    assert back == pytest.approx(-gap) and back_half == pytest.approx(half)


@given(st.integers(2, 12), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_curve_band_is_mean_ci_point_by_point(reps: int, points: int, seed: int) -> None:
    curves = np.random.default_rng(seed).normal(3.0, 2.0, (reps, points))
    mean, low, high = curve_band(curves)
    for p in range(points):
        m, half = mean_ci(curves[:, p])
        assert half is not None
        assert mean[p] == pytest.approx(m) and low[p] == pytest.approx(m - half) and high[p] == pytest.approx(m + half)


# --- coverage -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 5, 30])
def test_the_interval_covers_the_true_mean_95_times_in_100(n: int) -> None:
    """2,000 seeded normal samples of n values (seed 18 + n): the interval covers the true mean in 93-97% of them
    (four standard errors of a 95% rate over 2,000 draws either side). A normal quantile in place of t95 covers
    70% of samples of 2 and 88% of samples of 5."""
    rng = np.random.default_rng(18 + n)
    covered = 0
    for sample in rng.normal(4.0, 3.0, (2000, n)):
        mean, half = mean_ci(sample)
        assert half is not None
        covered += abs(mean - 4.0) <= half
    assert 0.93 <= covered / 2000 <= 0.97


def test_the_paired_difference_covers_the_true_gap() -> None:
    """2,000 seeded pairs of 4 repetitions (seed 7) sharing a repetition effect: the paired interval covers the true
    gap 0.5 in 93-97% of them."""
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(2000):
        shared = rng.normal(0.0, 10.0, 4)
        gap, half = paired_difference(shared + 0.5 + rng.normal(0.0, 1.0, 4), shared + rng.normal(0.0, 1.0, 4))
        assert half is not None
        covered += abs(gap - 0.5) <= half
    assert 0.93 <= covered / 2000 <= 0.97
