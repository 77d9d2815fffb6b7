"""Off-policy estimators on a six-row log computed by hand: the cross-fitted ridge reward model, IPS, SNIPS, DM
and DR terms and their ratios, block sums, the bootstrap's replicates and percentile interval, the overlap test at
its boundary and the effective sample size; with closed forms checked by hypothesis."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from banditmap.ope.estimators import (BLOCKS, BOOTSTRAP, FOLDS, UNKNOWN, Z80, Z95, BlockSums, Estimate, Resampler,
                                      RewardModel, block_of, effective_sample_size, hull, interval, newcombe,
                                      policy_terms, rows_needed, rows_needed_normal, wilson)

# The log: rows 0..5 (fold = row parity), intercept-only contexts, mean reward 0.5.
ROWS = np.arange(6)
LOGGED = np.array([0, 1, 0, 1, 0, 0])
REWARDS = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
PROPENSITIES = np.array([0.5, 0.5, 0.25, 0.5, 0.5, 0.8])
CONTEXTS = np.ones((6, 1))
CHOSEN = np.array([0, 0, 0, 1, 1, 0])  # the evaluated policy: matches the log on rows 0, 2, 3 and 5
# Fold 0 (rows 0, 2, 4) logged action 0 three times, rewards 1, 0, 1: centred sum 0.5, ridge 0.5 / (3 + 1) = 0.125.
# Fold 1 (rows 1, 3, 5) logged action 1 twice (centred sum 0: 0) and action 0 once (-0.5 / (1 + 1) = -0.25).
# A row is scored by the other fold's model: even rows by fold 1, odd rows by fold 0.
EVEN = [0.5 - 0.25, 0.5 + 0.0]  # predicted reward of actions 0 and 1 on rows 0, 2, 4
ODD = [0.5 + 0.125, 0.5 + 0.0]  # on rows 1, 3, 5
PREDICTED = np.array([EVEN, ODD, EVEN, ODD, EVEN, ODD])


def fitted(low: float = -np.inf, high: float = np.inf, **kwargs: float) -> RewardModel:
    model = RewardModel(2, 1, 0.5, low, high, **kwargs)
    model.add(ROWS, LOGGED, REWARDS, CONTEXTS)
    model.fit()
    return model


def test_the_reward_model_of_a_row_is_the_other_folds_ridge_regression() -> None:
    model = fitted()
    assert FOLDS == 2
    assert model.gram[:, :, 0, 0].tolist() == [[3.0, 0.0], [1.0, 2.0]]
    assert model.target[:, :, 0].tolist() == [[0.5, 0.0], [-0.5, 0.0]]
    assert model.theta is not None and model.theta[:, :, 0].tolist() == [[0.125, 0.0], [-0.25, 0.0]]
    assert model.predict(ROWS, CONTEXTS).tolist() == PREDICTED.tolist()
    assert model.predict(np.array([7, 10]), np.ones((2, 1))).tolist() == [ODD, EVEN]  # rows past the log too


def test_the_ridge_term_shrinks_and_its_strength_is_l2() -> None:
    strong = fitted(l2=3.0)
    assert strong.theta is not None and strong.theta[:, :, 0].tolist() == [[0.5 / 6, 0.0], [-0.5 / 4, 0.0]]
    assert RewardModel(2, 1, 0.5, 0.0, 1.0).l2 == 1.0


def test_predictions_are_clipped_to_the_reward_range() -> None:
    model = fitted(low=0.3, high=0.6)
    assert model.predict(ROWS[:2], CONTEXTS[:2]).tolist() == [[0.3, 0.5], [0.6, 0.5]]


def test_streamed_chunks_add_up_to_the_whole_log() -> None:
    model = RewardModel(2, 1, 0.5, -np.inf, np.inf)
    model.add(ROWS[:4], LOGGED[:4], REWARDS[:4], CONTEXTS[:4])
    model.add(ROWS[4:], LOGGED[4:], REWARDS[4:], CONTEXTS[4:])
    model.fit()
    assert model.predict(ROWS, CONTEXTS).tolist() == PREDICTED.tolist()
    with pytest.raises(AssertionError, match=r"^fit\(\) first$"):
        RewardModel(2, 1, 0.5, 0.0, 1.0).predict(ROWS, CONTEXTS)


@settings(max_examples=40, deadline=None)
@given(st.integers(4, 30).flatmap(lambda n: st.tuples(
    hnp.arrays(np.float64, (n, 2), elements=st.floats(-3, 3)),
    hnp.arrays(np.int64, n, elements=st.integers(0, 2)),
    hnp.arrays(np.float64, n, elements=st.floats(0, 1)))), st.floats(0.1, 5))
def test_the_model_is_the_closed_form_ridge_fit_on_the_other_fold(data: tuple, l2: float) -> None:
    x, actions, rewards = data
    rows = np.arange(len(x))
    offset = float(rewards.mean())
    model = RewardModel(3, 2, offset, -np.inf, np.inf, l2=l2)
    model.add(rows, actions, rewards, x)
    model.fit()
    predicted = model.predict(rows, x)
    for fold in range(2):
        scored = rows % 2 != fold  # rows the model of `fold` predicts
        for a in range(3):
            train = (rows % 2 == fold) & (actions == a)
            theta = np.linalg.solve(x[train].T @ x[train] + l2 * np.eye(2), x[train].T @ (rewards[train] - offset))
            assert np.allclose(predicted[scored, a], x[scored] @ theta + offset)


def test_ips_snips_dm_and_dr_on_the_six_row_log() -> None:
    terms = policy_terms(CHOSEN, LOGGED, REWARDS, PROPENSITIES, fitted().predict(ROWS, CONTEXTS))
    assert terms.weight.tolist() == [2.0, 0.0, 4.0, 2.0, 0.0, 1.25]
    assert terms.ips.tolist() == [2.0, 0.0, 0.0, 2.0, 0.0, 0.0]
    assert terms.dm.tolist() == [0.25, 0.625, 0.25, 0.5, 0.5, 0.625]
    # dr = dm + w (r - predicted reward of the logged action)
    assert terms.dr.tolist() == [1.75, 0.625, -0.75, 1.5, 0.5, 0.625 + 1.25 * (0.0 - 0.625)]
    one = np.ones(6)
    boot = Resampler.make(6, seed=0, replicates=50)
    assert boot.ratio(terms.ips, one)[0].value == pytest.approx(4 / 6)  # IPS
    assert boot.ratio(terms.ips, terms.weight)[0].value == pytest.approx(4 / 9.25)  # SNIPS
    assert boot.ratio(terms.dm, one)[0].value == pytest.approx(2.75 / 6)  # DM
    assert boot.ratio(terms.dr, one)[0].value == pytest.approx(3.46875 / 6)  # DR
    assert effective_sample_size(terms.weight.sum(), (terms.weight ** 2).sum()) == pytest.approx(9.25 ** 2 / 25.5625)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 20).flatmap(lambda n: st.tuples(
    hnp.arrays(np.int64, n, elements=st.integers(0, 3)), hnp.arrays(np.int64, n, elements=st.integers(0, 3)),
    hnp.arrays(np.float64, n, elements=st.floats(0, 1)), hnp.arrays(np.float64, n, elements=st.floats(0.05, 1)),
    hnp.arrays(np.float64, (n, 4), elements=st.floats(0, 1)))))
def test_terms_follow_their_definitions(data: tuple) -> None:
    chosen, logged, rewards, propensities, predicted = data
    terms = policy_terms(chosen, logged, rewards, propensities, predicted)
    rows = np.arange(len(chosen))
    weight = np.where(chosen == logged, 1 / propensities, 0.0)
    assert np.allclose(terms.weight, weight) and np.allclose(terms.ips, weight * rewards)
    assert np.allclose(terms.dm, predicted[rows, chosen])
    assert np.allclose(terms.dr, predicted[rows, chosen] + weight * (rewards - predicted[rows, logged]))
    zero = policy_terms(chosen, logged, rewards, propensities, np.zeros_like(predicted))
    assert np.allclose(zero.dr, zero.ips)  # a reward model that knows nothing leaves DR equal to IPS


def test_blocks_are_contiguous_equal_stretches() -> None:
    assert block_of(ROWS, 6, 3).tolist() == [0, 0, 1, 1, 2, 2]
    assert block_of(ROWS, 6, 4).tolist() == [0, 0, 1, 2, 2, 3]
    assert block_of(np.array([0, 5, 9]), 10, 500).tolist() == [0, 250, 450]
    assert block_of(np.array([0, 1, 2]), 0, 3).tolist() == [0, 2, 2]  # an empty log's rows stay in range
    assert block_of(np.array([12]), 6, 3).tolist() == [2]
    assert (BLOCKS, BOOTSTRAP) == (500, 1000)


def test_block_sums_add_values_or_count_rows() -> None:
    sums = BlockSums(3, ("reward", "rows"))
    block = block_of(ROWS, 6, 3)
    sums.add("reward", block, REWARDS)
    sums.add("rows", block)
    sums.add("rows", np.array([2]))
    assert sums.sums["reward"].tolist() == [1.0, 1.0, 1.0] and sums.sums["rows"].tolist() == [2.0, 2.0, 3.0]
    assert sums.total("reward") == 3.0 and sums.total("rows") == 7.0


def test_the_bootstrap_resamples_blocks_with_replacement_from_its_seed() -> None:
    boot = Resampler.make(4, seed=7, replicates=200)
    assert boot.counts.shape == (200, 4) and boot.counts.dtype == np.float64
    assert np.all(boot.counts.sum(axis=1) == 4) and boot.counts.min() == 0 and boot.counts.max() > 1
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, 11])))
    assert boot.counts.tolist() == rng.multinomial(4, [0.25] * 4, size=200).tolist()
    assert Resampler.make(4, seed=7).counts.shape == (1000, 4)
    # every block equally likely: mean multiplicity 1 per block, within 5 standard errors (seed 3, 1000 draws)
    means = Resampler.make(10, seed=3).counts.mean(axis=0)
    assert np.all(np.abs(means - 1.0) < 5 * np.sqrt(0.9 / 1000))


def test_the_multiplicities_of_one_seed_are_drawn_once_and_cannot_be_written() -> None:
    """A replay's summary and its slates' estimates share one draw; shared, it is read-only."""
    boot = Resampler.make(4, seed=7, replicates=200)
    assert Resampler.make(4, seed=7, replicates=200).counts is boot.counts
    assert Resampler.make(4, seed=8, replicates=200).counts.tolist() != boot.counts.tolist()
    with pytest.raises(ValueError, match="read-only"):
        boot.counts[0, 0] = 9.0


def test_replicates_are_ratios_of_resampled_sums() -> None:
    counts = [[1, 1, 1], [3, 0, 0], [0, 0, 3], [0, 3, 0], [0, 0, 0]]
    boot = Resampler(np.array(counts, dtype=float))
    numerator, denominator = np.array([1.0, 1.0, 2.0]), np.array([2.0, 0.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a replicate dividing by zero is expected, not warned about
        draws = boot.replicates(numerator, denominator)
        estimate, same = boot.ratio(numerator, denominator)
    assert draws[:4].tolist() == [1.0, 0.5, 1.0, np.inf] and np.isnan(draws[4])
    assert estimate.value == 1.0 and np.array_equal(same, draws, equal_nan=True)
    assert (estimate.low, estimate.high) == tuple(np.percentile([1.0, 0.5, 1.0], [2.5, 97.5]))  # finite ones
    empty, _ = boot.ratio(numerator, np.zeros(3))
    assert np.isnan(empty.value) and np.isnan(empty.low) and np.isnan(empty.high)
    small, _ = Resampler(np.ones((2, 1))).ratio(np.array([0.25]), np.array([0.5]))  # a denominator under 1 is fine
    assert small.value == 0.5


def test_the_interval_is_the_central_95_percent_of_finite_replicates() -> None:
    assert interval(0.5, np.arange(101.0)) == Estimate(0.5, 2.5, 97.5)
    half = np.array([1.0, np.nan, 3.0, np.inf])  # two of four finite: enough
    assert interval(2.0, half) == Estimate(2.0, 1.05, 2.95)
    assert interval(2.0, np.append(half, np.nan)) == Estimate(2.0, 1.05, 2.95)  # two of five: half, rounded down
    too_few = interval(2.0, np.array([1.0, np.nan, np.inf, np.nan]))  # one of four: not enough
    assert too_few.value == 2.0 and np.isnan(too_few.low) and np.isnan(too_few.high)
    unknown = interval(float("nan"), np.arange(10.0))
    assert np.isnan(unknown.value) and np.isnan(unknown.low) and not unknown.known
    assert interval(2.0, np.array([2.0])).known


def test_overlap_includes_touching_intervals() -> None:
    a = Estimate(0.5, 0.4, 0.6)
    assert a.overlaps(Estimate(0.7, 0.6, 0.8)) and Estimate(0.7, 0.6, 0.8).overlaps(a)
    assert a.overlaps(Estimate(0.3, 0.2, 0.4)) and Estimate(0.3, 0.2, 0.4).overlaps(a)
    assert not a.overlaps(Estimate(0.7, 0.61, 0.8)) and not Estimate(0.7, 0.61, 0.8).overlaps(a)
    assert not a.overlaps(Estimate(0.3, 0.2, 0.39)) and not Estimate(0.3, 0.2, 0.39).overlaps(a)
    assert a.overlaps(Estimate(0.5, 0.0, 1.0)) and a.known and not UNKNOWN.known
    assert all(np.isnan([UNKNOWN.value, UNKNOWN.low, UNKNOWN.high]))


def test_effective_sample_size() -> None:
    assert effective_sample_size(4.0, 4.0) == 4.0  # four rows of weight 1
    assert effective_sample_size(4.0, 8.0) == 2.0  # two rows of weight 2
    assert effective_sample_size(0.0, 0.0) == 0.0
    assert effective_sample_size(0.5, 0.25) == 1.0  # one row of weight one half


# --- score intervals for click rates, their difference, and the rows a test needs ----------------------------------

def test_wilson_interval_by_hand() -> None:
    # 8 of 20: the textbook Wilson interval 0.2188 to 0.6134 (z = 1.96)
    estimate = wilson(8, 20)
    assert estimate.value == 0.4 and estimate.low == pytest.approx(0.21881, abs=1e-5)
    assert estimate.high == pytest.approx(0.61342, abs=1e-5)
    z, n, p = Z95, 20, 0.4
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (estimate.low, estimate.high) == pytest.approx((centre - half, centre + half), rel=1e-12)
    one = wilson(1, 1)  # one row is enough for an interval: (1 / (1 + z^2), 1)
    assert one.value == 1.0 and one.low == pytest.approx(1 / (1 + z * z), rel=1e-12) and one.high == 1.0
    assert wilson(0, 5).low == 0.0 and wilson(0, 5).high == pytest.approx(z * z / (5 + z * z), rel=1e-12)
    for empty in (wilson(0, 0), wilson(1, -2)):
        assert np.isnan(empty.value) and np.isnan(empty.low) and np.isnan(empty.high)


def test_wilson_of_a_weighted_count_above_n_reports_it_and_clips_the_interval() -> None:
    estimate = wilson(12, 10)  # weighted successes over an effective sample size
    assert estimate.value == pytest.approx(1.2) and estimate.high == pytest.approx(1.0)
    assert estimate.low == pytest.approx(wilson(10, 10).low, rel=1e-12)  # the rate clipped to 1


def test_newcombe_difference_by_hand() -> None:
    # Newcombe (1998), example (a): 56/70 - 48/80 = 0.2, method 10: 0.0524 to 0.3339
    first, second = wilson(56, 70), wilson(48, 80)
    difference = newcombe(first, second)
    assert difference.value == pytest.approx(0.2) and difference.low == pytest.approx(0.0524, abs=1e-4)
    assert difference.high == pytest.approx(0.3339, abs=1e-4)
    assert difference.low == pytest.approx(0.2 - np.hypot(0.8 - first.low, second.high - 0.6), rel=1e-12)
    assert difference.high == pytest.approx(0.2 + np.hypot(first.high - 0.8, 0.6 - second.low), rel=1e-12)
    reverse = newcombe(second, first)
    assert (reverse.value, reverse.low, reverse.high) == pytest.approx((-0.2, -difference.high, -difference.low))
    no_interval = Estimate(0.5, float("nan"), float("nan"))
    for a, b in ((UNKNOWN, second), (first, UNKNOWN), (no_interval, second), (first, no_interval)):
        assert np.isnan(newcombe(a, b).value)


def test_rows_needed_by_fleiss() -> None:
    # 10% against 20%, two-sided 5%, 80% power: 199 rows per group (the textbook figure, without correction)
    assert rows_needed(0.1, 0.2) == pytest.approx(198.963, abs=1e-3) and rows_needed(0.2, 0.1) == rows_needed(0.1, 0.2)
    p1, p2 = 0.5, 0.62
    mean = (p1 + p2) / 2
    root = Z95 * np.sqrt(2 * mean * (1 - mean)) + Z80 * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    assert rows_needed(p1, p2) == pytest.approx(root ** 2 / 0.12 ** 2, rel=1e-12)
    assert rows_needed(0.3, 0.3) == float("inf")
    assert (Z95, Z80) == pytest.approx((1.959964, 0.841621), abs=1e-6)


def test_rows_needed_from_a_measured_interval() -> None:
    # an interval of half-width 1.96 se on 1000 rows; a gain of (z95 + z80) se needs exactly those 1000 rows
    se = 0.01
    gain = Estimate((Z95 + Z80) * se, (Z95 + Z80) * se - Z95 * se, (Z95 + Z80) * se + Z95 * se)
    assert rows_needed_normal(gain, 1000) == pytest.approx(1000, rel=1e-12)
    smaller = Estimate(-gain.value / 2, -gain.value / 2 - Z95 * se, -gain.value / 2 + Z95 * se)
    assert rows_needed_normal(smaller, 1000) == pytest.approx(4000, rel=1e-12)  # half the gain: four times the rows
    wide = Estimate(0.5, -1.5, 2.5)  # se = 4 / 3.92 > 1
    assert rows_needed_normal(wide, 10) == pytest.approx(10 * ((Z95 + Z80) * (4 / (2 * Z95)) / 0.5) ** 2)
    for hopeless in (Estimate(0.0, -0.1, 0.1), Estimate(0.2, 0.2, 0.2), UNKNOWN, Estimate(0.2, float("nan"), 0.3)):
        assert rows_needed_normal(hopeless, 1000) == float("inf")


def test_hull_holds_both_intervals_around_the_first_value() -> None:
    a, b = Estimate(0.5, 0.4, 0.6), Estimate(0.7, 0.3, 0.55)
    assert hull(a, b) == Estimate(0.5, 0.3, 0.6) and hull(b, a) == Estimate(0.7, 0.3, 0.6)
    assert hull(a, UNKNOWN) == a
    assert hull(Estimate(0.5, float("nan"), float("nan")), b) == Estimate(0.5, 0.3, 0.55)


def test_the_estimators_sums_merge_across_partitions() -> None:
    rng = np.random.default_rng(0)
    rows = np.arange(1000)
    actions, rewards, contexts = rng.integers(0, 3, 1000), rng.random(1000), rng.standard_normal((1000, 2))
    whole, parts = RewardModel(3, 2, 0.5, 0, 1), [RewardModel(3, 2, 0.5, 0, 1) for _ in range(2)]
    whole.add(rows, actions, rewards, contexts)
    sums, halves = BlockSums(10, ("r",)), [BlockSums(10, ("r",)) for _ in range(2)]
    sums.add("r", block_of(rows, 1000, 10), rewards)
    for part, half, pick in zip(parts, halves, (rows < 400, rows >= 400)):
        part.add(rows[pick], actions[pick], rewards[pick], contexts[pick])
        half.add("r", block_of(rows[pick], 1000, 10), rewards[pick])
    parts[0].merge(parts[1])
    halves[0].merge(halves[1])
    assert np.allclose(parts[0].gram, whole.gram) and np.allclose(parts[0].target, whole.target)
    assert np.allclose(halves[0].sums["r"], sums.sums["r"])
