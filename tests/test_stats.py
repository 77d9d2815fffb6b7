"""The statistics behind the race's verdicts (banditmap.sim.stats): Student-t quantiles and the coverage of the
intervals built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from banditmap.sim.stats import T95_1, Z95, mean_ci, paired_difference, t95, t_within

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
    assert t_within(Z95, 100_000) == pytest.approx(math.erf(Z95 / math.sqrt(2)), abs=3e-6) == pytest.approx(0.95, abs=3e-6)
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
