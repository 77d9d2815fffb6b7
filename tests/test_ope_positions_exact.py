"""Position-aware estimates computed by hand on two blocks and two positions: the examination ratios theta_k /
theta_1 from the uniform policy's per-position IPS and their bootstrap replicates, each position's IPS and its
interval (widened to Wilson's at the effective sample size for clicks), the pooled top-position value and its
replicates, and every case where the pooled value is unknown (no rows, a ratio that is zero, negative or not finite).

The resampler is built from explicit block multiplicities, so every replicate is a hand-computed ratio; with two
replicates a and b (a <= b) the percentile interval is (a + 0.025 (b - a), a + 0.975 (b - a))."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from stubs import close

from banditmap.ope.estimators import Z95, Resampler
from banditmap.ope.positions import PositionEstimates, estimates, examination

Array = np.ndarray
# Replicate 0 takes each block once, replicate 1 takes block 0 twice; replicate 2 (examination only) block 1 twice.
TWO = Resampler(np.array([[1.0, 1.0], [2.0, 0.0]]))
THREE = Resampler(np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 2.0]]))


def percentile(a: float, b: float) -> tuple[float, float]:
    low, high = min(a, b), max(a, b)
    return low + 0.025 * (high - low), low + 0.975 * (high - low)


def wilson_bounds(p: float, n: float) -> tuple[float, float]:
    """Wilson's 95% score interval written out (Wilson 1927)."""
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


# --- examination ratios ------------------------------------------------------------------------------------------

def test_examination_ratios_and_their_replicates_by_hand() -> None:
    # position 1: uniform sums (1, 3) over rows (2, 2): 4 / 4 = 1; position 2: (1, 1) over (2, 2): 2 / 4 = 0.5
    uniform = [np.array([1.0, 3.0]), np.array([1.0, 1.0])]
    rows = [np.array([2.0, 2.0]), np.array([2.0, 2.0])]
    ratio, draws = examination(THREE, uniform, rows)
    assert ratio == (1.0, 0.5) and all(type(r) is float for r in ratio)
    # replicates of position 1: 4/4, 2/4, 6/4; of position 2: 2/4, 2/4, 2/4
    assert draws.shape == (3, 2)
    close(draws, [[1.0, 0.5], [1.0, 1.0], [1.0, 1 / 3]])


def test_examination_divides_by_the_rows_or_one_when_there_is_at_most_one() -> None:
    # one row at position 1 (value 3 / 1), none at position 2 (value 0 / max(0, 1) = 0)
    uniform = [np.array([3.0, 0.0]), np.array([0.0, 0.0])]
    rows = [np.array([1.0, 0.0]), np.array([0.0, 0.0])]
    ratio, _ = examination(TWO, uniform, rows)
    assert ratio == (1.0, 0.0)
    # three positions; position 1 with value 2 (sums 4 over 2 rows), position 3 with one row of sum 1: ratio 1/2
    uniform = [np.array([2.0, 2.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    rows = [np.array([1.0, 1.0]), np.array([2.0, 0.0]), np.array([0.0, 1.0])]
    ratio, draws = examination(TWO, uniform, rows)
    assert ratio == (1.0, 0.25, 0.5)
    assert draws.shape == (2, 3)
    close(draws[0], [1.0, 0.25, 0.5])
    close(draws[1, :2], [1.0, 0.25])
    assert np.isnan(draws[1, 2])  # replicate 1 holds no row of position 3: 0 / 0


def test_examination_is_unknown_when_the_top_position_earns_nothing() -> None:
    uniform = [np.array([0.0, 0.0]), np.array([1.0, 1.0])]
    rows = [np.array([2.0, 2.0]), np.array([2.0, 2.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0 / 0 and x / 0 in the replicates are silenced
        ratio, draws = examination(TWO, uniform, rows)
    assert len(ratio) == 2 and all(math.isnan(r) for r in ratio)
    assert np.isnan(draws[:, 0]).all() and np.isinf(draws[:, 1]).all()


def test_examination_with_a_positive_top_value_below_one() -> None:
    uniform = [np.array([0.25, 0.25]), np.array([0.5, 0.0])]
    rows = [np.array([1.0, 1.0]), np.array([1.0, 1.0])]
    ratio, draws = examination(TWO, uniform, rows)
    assert ratio == (1.0, 1.0)
    close(draws, [[1.0, 1.0], [1.0, 2.0]])


def test_examination_of_a_single_position() -> None:
    ratio, draws = examination(TWO, [np.array([1.0, 2.0])], [np.array([1.0, 1.0])])
    assert ratio == (1.0,)
    close(draws, [[1.0], [1.0]])


# --- per-position IPS and the pooled top-position value ---------------------------------------------------------

IPS = [np.array([1.0, 2.0]), np.array([0.5, 0.5])]
ROWS = [np.array([2.0, 2.0]), np.array([1.0, 3.0])]
RATIO = (1.0, 0.5)
RATIO_DRAWS = np.array([[1.0, 0.5], [1.0, 0.25]])


def test_per_position_ips_and_the_pooled_top_value_by_hand() -> None:
    out = estimates(TWO, IPS, ROWS, RATIO, RATIO_DRAWS)
    assert isinstance(out, PositionEstimates) and len(out.per_position) == 2
    first, second = out.per_position
    # position 1: 3 / 4, replicates 3/4 and 2/4; position 2: 1 / 4, replicates 1/4 and 1/2
    assert first.value == 0.75 and second.value == 0.25
    close([first.low, first.high], percentile(0.75, 0.5))
    close([second.low, second.high], percentile(0.25, 0.5))
    # pooled: (3 / 1 + 1 / 0.5) / 8 rows = 0.625; replicate 0: (3 / 1 + 1 / 0.5) / 8 = 0.625, replicate 1:
    # (2 / 1 + 1 / 0.25) / (2 x 3) = 1
    assert out.top.value == 0.625
    close([out.top.low, out.top.high], percentile(0.625, 1.0))


def test_the_pooled_replicates_use_each_positions_own_ratio_replicates() -> None:
    ratio_draws = np.array([[0.5, 1.0], [2.0, 0.5]])
    out = estimates(TWO, IPS, ROWS, RATIO, ratio_draws)
    assert out.top.value == 0.625  # the point value uses the point ratios
    # replicate 0: (3 / 0.5 + 1 / 1) / 8 = 7 / 8; replicate 1: (2 / 2 + 1 / 0.5) / 6 = 0.5
    close([out.top.low, out.top.high], percentile(0.875, 0.5))


def test_three_positions_pool_every_positions_rows() -> None:
    ips = [np.array([1.0, 1.0]), np.array([1.0, 0.0]), np.array([0.0, 0.5])]
    rows = [np.array([1.0, 1.0]), np.array([2.0, 0.0]), np.array([0.0, 1.0])]
    draws = np.array([[1.0, 0.5, 0.25], [1.0, 0.5, 0.25]])
    out = estimates(TWO, ips, rows, (1.0, 0.5, 0.25), draws)
    assert [e.value for e in out.per_position] == [1.0, 0.5, 0.5]
    # (2 / 1 + 1 / 0.5 + 0.5 / 0.25) / 5 rows = 1.2; replicate 1 (block 0 twice): (2 + 4 + 0) / 6 = 1
    assert out.top.value == 1.2
    close([out.top.low, out.top.high], percentile(1.2, 1.0))


def test_clicks_widen_each_positions_interval_to_wilsons_at_its_effective_size() -> None:
    out = estimates(TWO, IPS, ROWS, RATIO, RATIO_DRAWS, ess=[4.0, 2.0])
    first, second = out.per_position
    assert first.value == 0.75 and second.value == 0.25
    low, high = wilson_bounds(0.75, 4.0)
    assert low < 0.50625 and high > 0.74375  # Wilson's interval holds the bootstrap's (0.50625, 0.74375)
    close([first.low, first.high], [low, high])
    low, high = wilson_bounds(0.25, 2.0)
    close([second.low, second.high], [low, high])
    assert out.top.value == 0.625  # the pooled value is not widened
    close([out.top.low, out.top.high], percentile(0.625, 1.0))


def test_a_weighted_rate_outside_zero_one_is_clipped_before_wilson() -> None:
    # position 1: 6 / 4 = 1.5 (weights above 1): Wilson's interval at p = 1; position 2: -1 / 4 (negative): p = 0
    ips = [np.array([3.0, 3.0]), np.array([-0.5, -0.5])]
    out = estimates(TWO, ips, ROWS, RATIO, RATIO_DRAWS, ess=[3.0, 5.0])
    first, second = out.per_position
    assert first.value == 1.5 and second.value == -0.25
    low, _ = wilson_bounds(1.0, 3.0)
    close([first.low, first.high], [low, 1.5])  # the bootstrap's replicates are 1.5 and 1.5
    _, high = wilson_bounds(0.0, 5.0)
    close([second.low, second.high], [-0.5 + 0.025 * 0.25, high])  # replicates -1/4 and -1/2


def test_a_position_without_rows_stays_unknown_with_clicks() -> None:
    ips = [np.array([1.0, 1.0]), np.array([0.0, 0.0])]
    rows = [np.array([1.0, 1.0]), np.array([0.0, 0.0])]
    out = estimates(TWO, ips, rows, (1.0, 0.5), RATIO_DRAWS, ess=[2.0, 3.0])
    second = out.per_position[1]
    assert math.isnan(second.value) and math.isnan(second.low) and math.isnan(second.high)
    assert out.top.value == 1.0  # (2 / 1 + 0 / 0.5) / 2


def test_the_pooled_value_is_unknown_without_rows() -> None:
    ips = [np.array([1.0, 0.0]), np.array([0.0, 0.0])]
    rows = [np.array([0.0, 0.0]), np.array([0.0, 0.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = estimates(TWO, ips, rows, RATIO, RATIO_DRAWS)
    assert all(math.isnan(x) for x in (out.top.value, out.top.low, out.top.high))


def test_one_row_is_enough_for_a_pooled_value() -> None:
    ips = [np.array([0.0, 0.5]), np.array([0.0, 0.0])]
    rows = [np.array([0.0, 1.0]), np.array([0.0, 0.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # replicate 1 (block 0 twice) has no row: 0 / 0, silenced
        out = estimates(TWO, ips, rows, RATIO, RATIO_DRAWS)
    assert out.top.value == 0.5
    assert out.top.low == out.top.high == 0.5  # one finite replicate of two is enough (len // 2 = 1)


def test_a_zero_negative_or_unknown_ratio_leaves_the_pooled_value_unknown() -> None:
    for ratio in ((1.0, 0.0), (1.0, -0.5), (1.0, float("nan")), (1.0, float("inf")), (0.0, 0.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = estimates(TWO, IPS, ROWS, ratio, RATIO_DRAWS)
        assert math.isnan(out.top.value) and math.isnan(out.top.low) and math.isnan(out.top.high), ratio
        assert out.per_position[0].value == 0.75  # the per-position figures stand


def test_ratios_below_one_are_positive_enough() -> None:
    out = estimates(TWO, IPS, ROWS, (0.5, 0.25), np.array([[0.5, 0.25], [0.5, 0.25]]))
    assert out.top.value == 1.25  # (3 / 0.5 + 1 / 0.25) / 8


def test_a_zero_ratio_replicate_is_silenced() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = estimates(TWO, IPS, ROWS, RATIO, np.array([[1.0, 0.0], [1.0, 0.5]]))
    # replicate 0 is infinite (1 / 0): one finite of two is enough (len // 2 = 1)
    assert out.top.value == 0.625 and out.top.low == out.top.high == 4 / 6


def test_an_infinite_position_sum_has_no_interval_even_with_clicks() -> None:
    """A position whose IPS is not finite (inf) is unknown: Wilson's interval does not widen it into a finite one."""
    ips = [np.array([1.0, 1.0]), np.array([np.inf, 0.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = estimates(TWO, ips, ROWS, RATIO, RATIO_DRAWS, ess=[2.0, 3.0])
    second = out.per_position[1]
    assert second.value == np.inf and math.isnan(second.low) and math.isnan(second.high)


def test_lists_of_different_lengths_are_refused() -> None:
    three_rows = ROWS + [np.array([1.0, 1.0])]
    with pytest.raises(ValueError):
        estimates(TWO, IPS, three_rows, RATIO, RATIO_DRAWS)  # more row lists than IPS lists
    with pytest.raises(ValueError):
        estimates(TWO, IPS, ROWS, RATIO, RATIO_DRAWS, ess=[4.0])  # an effective size missing
    with pytest.raises(ValueError):
        estimates(TWO, IPS, ROWS, (1.0, 0.5, 0.25), RATIO_DRAWS)  # a ratio too many
    with pytest.raises(ValueError):
        examination(TWO, [np.array([1.0, 1.0])], ROWS)
