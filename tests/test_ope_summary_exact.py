"""What a replay's sums say, worked out by hand: rates with Wilson's interval for clicks (published small-count
values) and the percentile bootstrap otherwise (a resampler of three replicates over two blocks, whose ratios and
percentiles are read off), the final policies' estimates and their Wilson floors at the effective sample size,
importance-weighted replay's intervals widened by the clipping bound, and the learning rows a test would need
(Fleiss, Levin and Paik's formula for rates, the normal approximation otherwise)."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from banditmap.ope.estimators import BlockSums, Estimate, Resampler, hull, newcombe, wilson
from banditmap.ope.logs import LogInfo
from banditmap.ope.positions import PositionEstimates
from banditmap.ope.results import CandidateResult, ReplayResult
from banditmap.ope.summary import _final, _final_problem, _power, _rate, _weighted, _widen, summarise

from stubs import close

NAN = float("nan")
INF = float("inf")
E = Estimate
Z95, Z80 = 1.959963984540054, 0.8416212335729143

# Wilson's score intervals at z = 1.959963984540054, worked out in 40-digit decimals (3 of 4: 0.3006 to 0.9544, as
# tabulated by Newcombe 1998)
WILSON_3_4 = (0.3006418425824019, 0.95441273919029945)
WILSON_4_4 = (0.5101091635454027, 1.0)
WILSON_0_4 = (0.0, 0.4898908364545973)
WILSON_4_8 = (0.21521606221387757, 0.78478393778612243)
WILSON_8_16 = (0.27999563610326017, 0.72000436389673983)

# three bootstrap replicates over two blocks: the first block twice, the second twice, each once
BOOT = Resampler(np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))


def same(actual: Estimate, value: float, low: float, high: float) -> bool:
    """actual is (value, low, high), nan where nan is expected."""
    for got, want in zip((actual.value, actual.low, actual.high), (value, low, high), strict=True):
        assert np.isnan(got) if np.isnan(want) else close(got, want), (actual, (value, low, high))
    return True


def percentiles(draws: list[float]) -> tuple[float, float]:
    """2.5th and 97.5th percentiles of three sorted draws, by linear interpolation (positions 0.05 and 1.95)."""
    a, b, c = sorted(draws)
    return a + 0.05 * (b - a), b + 0.95 * (c - b)


# --- rates ---------------------------------------------------------------------------------------------------------

def test_a_rate_is_a_ratio_of_sums_with_a_bootstrap_interval_or_wilsons_for_clicks() -> None:
    rewards, rows = np.array([3.0, 1.0]), np.array([4.0, 4.0])  # 4 of 8; replicates 6/8, 2/8, 4/8
    estimate, draws = _rate(BOOT, rewards, rows, binary=False)
    assert draws.tolist() == [0.75, 0.25, 0.5]
    assert same(estimate, 0.5, *percentiles([0.75, 0.25, 0.5]))  # 0.2625 to 0.7375
    clicks, click_draws = _rate(BOOT, rewards, rows, binary=True)
    assert same(clicks, 0.5, *WILSON_4_8) and click_draws.tolist() == [0.75, 0.25, 0.5]
    three, _ = _rate(BOOT, np.array([3.0, 0.0]), np.array([2.0, 2.0]), binary=True)
    assert same(three, 0.75, *WILSON_3_4)


# --- final policies ------------------------------------------------------------------------------------------------

def scores(ips: float = 1.5, weight: float = 2.0, dm: float = 0.3, dr: float = -0.25) -> BlockSums:
    """Per-block sums of policy "a" on two blocks of one held-out row each, alike in both blocks."""
    sums = BlockSums(2, ("a:ips", "a:weight", "a:dm", "a:dr"))
    for name, value in (("a:ips", ips), ("a:weight", weight), ("a:dm", dm), ("a:dr", dr)):
        sums.sums[name][:] = value
    return sums


def test_final_estimates_ips_snips_dm_dr() -> None:
    """IPS 1.5 per row, weights 2 per row (SNIPS 1.5 / 2), DM 0.3, DR -0.25: every replicate the same."""
    final, draws = _final(BOOT, scores(), "a", np.array([1.0, 1.0]), binary=False, ess=4.0)
    assert same(final["ips"], 1.5, 1.5, 1.5) and same(final["snips"], 0.75, 0.75, 0.75)
    assert same(final["dm"], 0.3, NAN, NAN)  # no interval for the direct method
    assert same(final["dr"], -0.25, -0.25, -0.25) and sorted(final) == ["dm", "dr", "ips", "snips"]
    assert close(draws, [-0.25] * 3)
    halves, _ = _final(BOOT, scores(), "a", np.array([2.0, 2.0]), binary=False, ess=4.0)  # two rows per block
    assert same(halves["ips"], 0.75, 0.75, 0.75) and same(halves["snips"], 0.75, 0.75, 0.75)
    assert same(halves["dr"], -0.125, -0.125, -0.125) and same(halves["dm"], 0.15, NAN, NAN)


def test_binary_final_estimates_are_at_least_wilsons_interval_at_the_effective_sample_size() -> None:
    """At ess = 4: IPS 1.5 counts as 4 of 4 (clipped to 1), SNIPS 0.75 as 3 of 4, DR -0.25 as 0 of 4."""
    final, _ = _final(BOOT, scores(), "a", np.array([1.0, 1.0]), binary=True, ess=4.0)
    assert same(final["ips"], 1.5, WILSON_4_4[0], 1.5)
    assert same(final["snips"], 0.75, *WILSON_3_4)
    assert same(final["dr"], -0.25, -0.25, WILSON_0_4[1])
    assert same(final["dm"], 0.3, NAN, NAN)
    at_eight, _ = _final(BOOT, scores(ips=0.5, weight=1.0, dr=0.5), "a", np.array([1.0, 1.0]), binary=True, ess=8.0)
    assert same(at_eight["ips"], 0.5, *WILSON_4_8) and same(at_eight["snips"], 0.5, *WILSON_4_8)
    assert same(at_eight["dr"], 0.5, *WILSON_4_8)
    none, _ = _final(BOOT, scores(), "a", np.array([1.0, 1.0]), binary=True, ess=0.0)  # no weights: no floor
    assert same(none["snips"], 0.75, 0.75, 0.75)
    unknown, _ = _final(BOOT, scores(), "a", np.array([0.0, 0.0]), binary=True, ess=4.0)  # no held-out rows
    assert same(unknown["ips"], NAN, NAN, NAN) and same(unknown["dr"], NAN, NAN, NAN)


# --- the rows a test would need ------------------------------------------------------------------------------------

def test_rows_a_test_of_the_observed_rate_difference_needs() -> None:
    """Rates 0.5 and 0.6: [z_.025 sqrt(2 x 0.55 x 0.45) + z_.2 sqrt(0.25 + 0.24)]^2 / 0.01 = 387.3385 per group;
    200 kept rounds of 1000 learning rows keep one row in five."""
    needed, effect = _power(E(0.6, 0.5, 0.7), E(0.1, -0.05, 0.25), E(0.5, 0.45, 0.55), 200, 1000, binary=True)
    assert close(needed, 387.33851669903567 * 5) and effect == 0.1
    # no difference observed: plan for 10% of the logging rate, 0.5 against 0.55
    needed, effect = _power(E(0.5, 0.4, 0.6), E(0.0, -0.1, 0.1), E(0.5, 0.45, 0.55), 200, 1000, binary=True)
    assert close(needed, 1564.6720527749528 * 5) and effect == 0.05
    # above a logging rate of 0.75: 0.75 against 0.825 (a difference planned upwards; 0.675 would need 570)
    needed, effect = _power(E(0.75, 0.7, 0.8), E(0.0, -0.1, 0.1), E(0.75, 0.7, 0.8), 200, 1000, binary=True)
    assert close(needed, 465.82766735360786 * 5, rtol=1e-9) and close(effect, 0.075)
    # no learning rows: as if one (every row kept)
    needed, _ = _power(E(0.6, 0.5, 0.7), E(0.1, -0.05, 0.25), E(0.5, 0.45, 0.55), 200, 0, binary=True)
    assert close(needed, 387.33851669903567 / 200)


def test_rows_a_test_of_a_continuous_difference_needs() -> None:
    """An interval 0.02 to 0.18 around 0.1 from 200 rounds: se = 0.16 / (2 z_.025), and
    200 ((z_.025 + z_.2) se / 0.1)^2 = 261.53 rounds, 4 learning rows each."""
    needed, effect = _power(E(1.1, 1.0, 1.2), E(0.1, 0.02, 0.18), E(1.0, 0.9, 1.1), 200, 800, binary=False)
    se = 0.16 / (2 * Z95)
    assert close(needed, 200 * ((Z95 + Z80) * se / 0.1) ** 2 * 4, rtol=1e-9) and close(needed, 261.5299689234073 * 4,
                                                                                         rtol=1e-9)
    assert effect == 0.1
    # no difference observed: plan for 10% of the logging reward, 0.05, with the same interval's width
    needed, effect = _power(E(0.5, 0.4, 0.6), E(0.0, -0.08, 0.08), E(0.5, 0.4, 0.6), 200, 800, binary=False)
    assert close(needed, 1046.1198756936292 * 4, rtol=1e-9) and effect == 0.05
    # an interval of no width tells nothing about the rows needed
    needed, effect = _power(E(0.5, 0.4, 0.6), E(0.1, 0.1, 0.1), E(0.5, 0.4, 0.6), 200, 800, binary=False)
    assert needed == INF and effect == 0.1


def test_no_rows_are_planned_without_a_replayed_reward_a_gain_or_kept_rounds() -> None:
    known = E(0.6, 0.5, 0.7)
    for replayed, gain, kept in ((E(NAN, NAN, NAN), known, 200), (known, E(NAN, NAN, NAN), 200), (known, known, 0)):
        for binary in (True, False):
            needed, effect = _power(replayed, gain, E(0.5, 0.45, 0.55), kept, 1000, binary)
            assert needed == INF and np.isnan(effect)


# --- importance-weighted replay ------------------------------------------------------------------------------------

LOGGING = E(0.3, 0.25, 0.35)


def test_weighted_replay_intervals_widened_by_the_clipping_bound() -> None:
    """Replicates 0.4 and 0.6 (percentiles 0.405 and 0.595), the logging policy's 0.3 in both (gain's 0.105 and
    0.295), widened by 0.05 on both sides."""
    draws, logging_draws = np.array([0.4, 0.6]), np.array([0.3, 0.3])
    estimate, gain = _weighted(BOOT, E(0.5, 0.0, 1.0), draws, LOGGING, logging_draws, 16.0, 0.05, binary=False)
    assert same(estimate, 0.5, 0.355, 0.645) and same(gain, 0.2, 0.055, 0.345)
    estimate, gain = _weighted(BOOT, E(0.5, 0.0, 1.0), draws, LOGGING, logging_draws, 16.0, 0.0, binary=False)
    assert same(estimate, 0.5, 0.405, 0.595) and same(gain, 0.2, 0.105, 0.295)  # no clipping: as measured


def test_weighted_replay_of_clicks_is_at_least_wilson_and_newcombe_at_the_effective_sample_size() -> None:
    """At ess = 16 the replayed 0.5 counts as 8 of 16; the gain's interval is at least Newcombe's from that and the
    logging policy's interval: 0.2 -/+ hypot(0.5 - 0.27999.., 0.35 - 0.3) / hypot(0.72000.. - 0.5, 0.3 - 0.25)."""
    draws, logging_draws = np.array([0.4, 0.6]), np.array([0.3, 0.3])
    estimate, gain = _weighted(BOOT, E(0.5, 0.0, 1.0), draws, LOGGING, logging_draws, 16.0, 0.0, binary=True)
    assert same(estimate, 0.5, *WILSON_8_16)
    low = 0.2 - math.hypot(0.5 - WILSON_8_16[0], 0.05)
    high = 0.2 + math.hypot(WILSON_8_16[1] - 0.5, 0.05)
    assert same(gain, 0.2, low, high)
    widened, widened_gain = _weighted(BOOT, E(0.5, 0.0, 1.0), draws, LOGGING, logging_draws, 16.0, 0.05, binary=True)
    assert same(widened, 0.5, WILSON_8_16[0] - 0.05, WILSON_8_16[1] + 0.05)
    assert same(widened_gain, 0.2, low - 0.05, high + 0.05)
    # a weighted mean above 1 counts as every round a success (4 of 4)
    over, _ = _weighted(BOOT, E(1.25, 0.0, 2.0), np.array([1.25, 1.25]), LOGGING, logging_draws, 4.0, 0.0, True)
    assert same(over, 1.25, WILSON_4_4[0], 1.25)
    # below 0 as none (0 of 4)
    under, _ = _weighted(BOOT, E(-0.25, -1.0, 0.0), np.array([-0.25, -0.25]), LOGGING, logging_draws, 4.0, 0.0, True)
    assert same(under, -0.25, -0.25, WILSON_0_4[1])
    # no replayed value: no interval to floor
    unknown, unknown_gain = _weighted(BOOT, E(NAN, NAN, NAN), draws, LOGGING, logging_draws, 16.0, 0.05, True)
    assert same(unknown, NAN, NAN, NAN) and same(unknown_gain, NAN, NAN, NAN)


def test_widen() -> None:
    assert _widen(E(0.5, 0.4, 0.6), 0.125) == E(0.5, 0.275, 0.725)
    unclipped = E(0.5, 0.4, 0.6)
    assert _widen(unclipped, 0.0) is unclipped  # no bound: the estimate as it is
    assert _widen(E(0.5, 0.4, 0.6), -0.1) == E(0.5, 0.4, 0.6)  # a negative bound narrows nothing


def test_a_final_policy_matching_fewer_than_ten_held_out_rows_is_not_scored() -> None:
    assert _final_problem(10.0, 200) == "" and _final_problem(250.0, 200) == ""
    assert _final_problem(9.4, 200) == ("only 9 of the 200 held-out rows match its final policy's choices (at least "
                                        "10 needed) to score it")
    assert _final_problem(0.0, 0).startswith("only 0 of the 0 held-out rows match")


# --- a whole summary, from the sums of a replay made by hand ------------------------------------------------------
# The replays below are stand-ins holding only what summarise reads: per-block sums (alike in every block, so each
# bootstrap replicate equals the estimate, unless said otherwise), the learners' counts, curves and checkpoints.

def log_info(rows: int = 400, binary: bool = True, counts: tuple[int, ...] = (200, 200), uniform: bool = True,
             estimated: bool = False, thin_share: float = 0.0) -> LogInfo:
    return LogInfo(path="x.csv", rows=rows, actions=tuple(str(i) for i in range(len(counts))), counts=counts,
                   action_col="a", reward_col="r", propensity_col=None if estimated else "p", position_col=None,
                   numeric=(), categorical=(), positions=(), features=1, projected=False,
                   min_propensity=0.5 if uniform else 0.05, near_zero=0.0, uniform=uniform, mean_reward=0.5,
                   binary=binary, estimated=estimated, thin_share=thin_share)


def sums_of(blocks: int, values: dict[str, Any]) -> BlockSums:
    """Block sums named as replay names them: a number is every block's, a list one per block."""
    sums = BlockSums(blocks, tuple(values))
    for name, value in values.items():
        sums.sums[name][:] = value
    return sums


def learner(key: str, kept: int, seconds: float = 1.0, unsupported: int = 0, contextual: bool = False) -> Any:
    return SimpleNamespace(candidate=SimpleNamespace(id=key, name=key.upper()), contextual=contextual, kept=kept,
                           matched=kept, expected_kept=float(kept), unsupported=unsupported, selections=200,
                           seconds=seconds)


def replay_of(info: LogInfo, sums: BlockSums, learners: list[Any], method: str = "uniform", n_positions: int = 0,
              reward_range: tuple[float, float] = (0.0, 1.0), blocks: int = 4, split: int = 200) -> Any:
    curves = np.array([[0.25 * (i + 1), 0.5] for i in range(len(learners))])
    return SimpleNamespace(info=info, sums=sums, blocks=blocks, seed=7, split=split, reward_range=reward_range,
                           n_positions=n_positions, learners=learners, method=method, clip=2.0, curves=curves,
                           checkpoints=np.array([100.0, 200.0]), logging_curve=np.array([0.5, 0.75]))


def by_id(result: ReplayResult) -> dict[str, CandidateResult]:
    return {r.id: r for r in result.results}


ESS_LOW = ("effective sample size of the final policy's weights is {:.0f} of {} held-out rows: its IPS and DR "
           "estimates rest on few rows")
CLIPPED = ("clipping removed 20.0% of its replay's weight mass: its replayed reward may be off by up to {:.4f} for "
           "that alone (its intervals are widened by that much)")


def test_a_summary_of_clicks() -> None:
    """Four blocks of 50 learning rows with 25 clicks (Wilson's 100 of 200) and 50 held-out rows with 20 clicks
    (80 of 200). Learner a kept 30 rows a block with 21 clicks (84 of 120; weights squared 60 a block: an effective
    120^2 / 240 = 60 rounds, which uniform replay does not weigh); its final policy: IPS 15, weights 25 (squares 50:
    an effective 50), DM 16, DR 17 a block of 50 held-out rows; two positions of 30 and 20 held-out rows, the
    uniform policy's IPS 15 and 5 there (examination 1 and 0.5), a's 12 and 4 (weights 10 and 5, squares 20 and 10:
    an effective 20 and 10). Learner y clicks 27 of 30, z keeps no weight at all, c keeps too few rounds."""
    a_sums = dict(kept_reward=21, kept=30, kept_squared=60, kept_raw=30)
    sums = sums_of(4, dict(reward=25, rows=50, heldout_reward=20, heldout_rows=50,
                           **{f"{k}:{n}": v for k in "ac" for n, v in a_sums.items()},
                           **{f"y:{n}": v for n, v in dict(a_sums, kept_reward=27).items()},
                           **{f"z:{n}": 0.0 for n in a_sums}))
    a_scores = {"ips": 15, "weight": 25, "weight_squared": 50, "dm": 16, "dr": 17, "unsupported": 0, "matched": 25,
                "ips@0": 12, "ips@1": 4, "w@0": 10, "w2@0": 20, "w@1": 5, "w2@1": 10}
    scores = sums_of(4, {"rows@0": 30, "rows@1": 20, "uniform@0": 15, "uniform@1": 5,
                         **{f"{k}:{n}": v for k in "aycz" for n, v in a_scores.items()}})
    learners = [learner("c", 99), learner("z", 150), learner("a", 120, seconds=1.5, unsupported=10), learner("y", 120)]
    # the stand-in's range of logged rewards (all clicks) is not read: clicks range over [0, 1], which a's estimates
    # are inside
    replay = replay_of(log_info(), sums, learners, n_positions=2, reward_range=(1.0, 1.0))
    result = summarise(replay, scores, {"a": 4.0, "y": 3.0, "z": 2.0, "c": 1.0}, (("q", "why not"),))
    logging, held = wilson(100, 200), wilson(80, 200)
    assert result.logging == logging and result.logging_heldout == held
    assert (result.method, result.seed, result.learning_rows, result.skipped) == ("replay", 7, 200, (("q", "why not"),))
    assert result.checkpoints == (100, 200) and all(type(c) is int for c in result.checkpoints)
    assert result.logging_curve == (0.5, 0.75) and result.warnings == ()
    assert result.examination == (1.0, 0.5) and result.info == replay.info and result.slates is None
    assert [r.id for r in result.results] == ["y", "a", "z", "c"]  # best replayed reward first, unknown after
    a = by_id(result)["a"]
    assert (a.name, a.contextual, a.kept, a.selections, a.matched, a.seconds) == ("A", False, 120, 200, 120, 1.5)
    assert a.curve == (0.75, 0.5) and a.max_weight == 4.0 and (a.problem, a.remedy, a.final_problem) == ("", "", "")
    assert a.replayed == wilson(84, 120) and a.replayed_gain == newcombe(wilson(84, 120), logging)
    assert close(a.replayed_ess, 60.0) and (a.clipped_share, a.bias_bound) == (0.0, 0.0)
    assert (a.unsupported, a.stalled) == (0.0, 0.05) and close(a.ess, 50.0)
    assert same(a.final["ips"], 0.3, *_bounds(wilson(15, 50))) and same(a.final["snips"], 0.6, *_bounds(wilson(30, 50)))
    assert same(a.final["dr"], 0.34, *_bounds(wilson(17, 50))) and same(a.final["dm"], 0.32, NAN, NAN)
    paired = newcombe(a.final["dr"], held)
    assert same(a.final_gain, 0.34 - 0.4, paired.low, paired.high)
    # a test of 0.5 against 0.7 needs 93.0 rounds a group (Fleiss), and 120 rounds were kept of 200 rows
    assert close(a.rows_needed, 92.998844827545639 / 0.6, rtol=1e-9) and close(a.effect, 0.2)
    assert a.positions == PositionEstimates((hull(E(0.4, 0.4, 0.4), wilson(8, 20)), hull(E(0.2, 0.2, 0.2),
                                                                                         wilson(2, 10))),
                                            E(0.4, 0.4, 0.4))
    assert a.warnings == (ESS_LOW.format(50, 200),)
    y, z, c = (by_id(result)[k] for k in "yzc")
    assert y.replayed == wilson(108, 120) and y.stalled == 0.0
    assert z.evaluable and not z.replayed.known and not z.replayed_gain.known  # nothing kept: no reward to show
    assert z.rows_needed == INF and np.isnan(z.effect)
    assert c.problem == "only 99 of the 200 learning rows matched its choices, 99 kept (at least 100 needed)"
    assert c.remedy == "use a longer log (about 202 learning rows) or a more exploratory logging policy"
    assert not c.replayed.known and not c.replayed_gain.known and not c.final_gain.known and c.positions is None
    assert not any(e.known for e in c.final.values()) and c.warnings == () and c.rows_needed == INF
    assert close(c.ess, 50.0) and c.max_weight == 1.0


def _bounds(e: Estimate) -> tuple[float, float]:
    return e.low, e.high


def test_a_summary_of_continuous_rewards_with_paired_bootstrap_intervals() -> None:
    """Two blocks: the logging policy earns 1.5 and 2.0 a row (1.75 in all), learner a 2.0 and 3.0 on 50 kept rows
    each (2.5): a replicate draws the first block twice, the second twice, or each once, so the intervals run from
    one block's ratio to the other's (1.5 to 2.0, 2.0 to 3.0), and the paired gain's from 0.5 to 1.0. Weights kept
    100 of 125 before clipping: a share of 0.2, a bound of 0.2 x (3 - 1). Final policy: IPS 2.4, SNIPS 3.0, DM 2.6,
    DR 2.5 on 200 held-out rows earning 2.0; positions of 60 and 40 rows, examination 1 and 0.5."""
    a_sums = dict(kept_reward=[100, 150], kept=50, kept_squared=60, kept_raw=62.5)
    sums = sums_of(2, dict(reward=[150, 200], rows=100, heldout_reward=200, heldout_rows=100,
                           **{f"{k}:{n}": v for k in "abc" for n, v in a_sums.items()}))
    a_scores = {"ips": 240, "weight": 80, "weight_squared": 80, "dm": 260, "dr": 250, "unsupported": 0,
                "matched": 20, "ips@0": 150, "ips@1": 40}
    scores = sums_of(2, {"rows@0": 60, "rows@1": 40, "uniform@0": 120, "uniform@1": 40,
                         **{f"{k}:{n}": v for k in "abc" for n, v in a_scores.items()}, "b:matched": 4})
    learners = [learner("a", 100, contextual=True), learner("b", 100), learner("c", 50)]
    replay = replay_of(log_info(binary=False), sums, learners, n_positions=2, reward_range=(1.0, 3.0), blocks=2)
    result = summarise(replay, scores, {"a": 1.0, "b": 1.0, "c": 1.0}, ())
    assert same(result.logging, 1.75, 1.5, 2.0) and same(result.logging_heldout, 2.0, 2.0, 2.0)
    assert result.examination == (1.0, 0.5)
    a, b, c = (by_id(result)[k] for k in "abc")
    assert a.contextual and same(a.replayed, 2.5, 2.0, 3.0) and same(a.replayed_gain, 0.75, 0.5, 1.0)
    assert close(a.clipped_share, 0.2) and close(a.bias_bound, 0.4) and close(a.replayed_ess, 10_000 / 120)
    assert a.problem == ""  # uniform replay: the weights' effective size (83) is not a reason
    assert same(a.final["ips"], 2.4, 2.4, 2.4) and same(a.final["snips"], 3.0, 3.0, 3.0)
    assert same(a.final["dm"], 2.6, NAN, NAN) and same(a.final["dr"], 2.5, 2.5, 2.5)
    assert same(a.final_gain, 0.5, 0.5, 0.5) and close(a.ess, 160.0)
    # 100 kept rounds of 200 rows, an interval 0.5 wide around 0.75: 100 ((z + z') se / 0.75)^2 rounds, 2 rows each
    se = 0.5 / (2 * Z95)
    assert close(a.rows_needed, 100 * ((Z95 + Z80) * se / 0.75) ** 2 * 2) and close(a.effect, 0.75)
    assert a.positions is not None and a.positions.per_position == (E(2.5, 2.5, 2.5), E(1.0, 1.0, 1.0))
    assert same(a.positions.top, 2.3, 2.3, 2.3)  # (300 / 1 + 80 / 0.5) / 200
    assert a.warnings == (
        "the final policy's IPS (2.4000) and DR (2.5000) estimates disagree beyond their intervals: the importance "
        "weights may be too heavy; DR is the safer read",
        "the direct method's estimate (2.6000) lies outside DR's interval (2.5000 to 2.5000): the reward model is off "
        "on the held-out rows (DR corrects it); DM has no interval of its own",
        CLIPPED.format(0.4))
    # b's final policy matches 8 held-out rows: not scored, but its replayed reward stands
    assert b.final_problem == ("only 8 of the 200 held-out rows match its final policy's choices (at least 10 "
                               "needed) to score it")
    assert b.evaluable and same(b.replayed, 2.5, 2.0, 3.0) and b.positions is None and not b.final_gain.known
    assert not any(e.known for e in b.final.values())
    assert b.warnings == ("its final policy is not scored: " + b.final_problem, CLIPPED.format(0.4))
    assert not c.evaluable and c.positions is None and not c.replayed.known and c.final_problem == ""


def test_a_summary_of_importance_weighted_clicks_with_estimated_propensities() -> None:
    """Weighted replay: learner a keeps weights of 40 a block with 24 clicks (0.6), squares 50 (an effective
    160^2 / 200 = 128 rounds), 50 before clipping (a share of 0.2, bound 0.2 on clicks); b's squares are 100 (an
    effective 64: too few). Estimated propensities thin on 10% of the rows: final policies get DM alone."""
    a_sums = dict(kept_reward=24, kept=40, kept_squared=50, kept_raw=50)
    sums = sums_of(4, dict(reward=25, rows=50, heldout_reward=20, heldout_rows=50,
                           **{f"a:{n}": v for n, v in a_sums.items()},
                           **{f"b:{n}": v for n, v in dict(a_sums, kept_squared=100).items()}))
    a_scores = {"ips": 15, "weight": 25, "weight_squared": 50, "dm": 16, "dr": 17, "unsupported": 0, "matched": 25}
    scores = sums_of(4, {f"{k}:{n}": v for k in "ab" for n, v in a_scores.items()})
    info = log_info(uniform=False, estimated=True, thin_share=0.1)
    weighted = replay_of(info, sums, [learner("a", 160), learner("b", 160)], method="weighted", reward_range=(1.0, 1.0))
    result = summarise(weighted, scores, {"a": 2.0, "b": 2.0}, ())  # clipping's bound on clicks: 0.2 x (1 - 0)
    assert result.method == "importance-weighted replay (weights 1 / (K p) clipped at 2)"
    logging = wilson(100, 200)
    assert result.warnings[-1].startswith("importance-weighted replay: learners keep every matching row")
    assert result.warnings[0].startswith("PROPENSITIES ESTIMATED, NOT LOGGED: the log has no propensity column")
    assert result.warnings[1].startswith("poor overlap: in 10.0% of rows") and len(result.warnings) == 3
    a, b = by_id(result)["a"], by_id(result)["b"]
    assert close(a.replayed_ess, 128.0) and close(a.clipped_share, 0.2) and close(a.bias_bound, 0.2)
    floor = hull(E(0.6, 0.6, 0.6), wilson(0.6 * 128, 128))  # at least Wilson's at the effective size
    gain = hull(E(0.1, 0.1, 0.1), newcombe(floor, logging))
    assert same(a.replayed, 0.6, floor.low - 0.2, floor.high + 0.2)
    assert same(a.replayed_gain, 0.1, gain.low - 0.2, gain.high + 0.2)
    # 128 effective rounds of 200 rows: Fleiss's 0.5 against 0.6, 387.3 a group, over 0.64
    assert close(a.rows_needed, 387.33851669903567 / 0.64, rtol=1e-9) and close(a.effect, 0.1)
    assert same(a.final["dm"], 0.32, NAN, NAN) and not a.final_gain.known
    assert not any(a.final[name].known for name in ("ips", "snips", "dr"))
    assert a.warnings == (CLIPPED.format(0.2), ESS_LOW.format(50, 200))
    assert b.problem == ("importance-weighted replay kept all 160 matching rounds, but their weights leave an "
                         "effective 64 (at least 100 needed): a few rows with tiny propensities carry most of the "
                         "weight")
    assert not b.replayed.known and not any(e.known for e in b.final.values())


def test_unsupported_choices_are_a_share_of_the_held_out_rows() -> None:
    """One held-out row, on which the final policy picks the action the log never contains."""
    sums = sums_of(1, dict(reward=100, rows=200, heldout_reward=1, heldout_rows=1, **{"a:kept_reward": 0.1875,
                                                                                      "a:kept": 0.375,
                                                                                      "a:kept_squared": 0.140625,
                                                                                      "a:kept_raw": 0.5}))
    scores = sums_of(1, {"a:ips": 0, "a:weight": 0, "a:weight_squared": 0, "a:dm": 0.5, "a:dr": 0.5,
                         "a:unsupported": 1, "a:matched": 0})
    result = summarise(replay_of(log_info(rows=201, counts=(201, 0)), sums, [learner("a", 100)], blocks=1), scores,
                       {"a": 0.0}, ())
    a = result.results[0]
    assert a.unsupported == 1.0 and a.problem == (
        "its final policy chooses actions the logs never contain (actions 1) in 100% of rows; their rewards cannot "
        "be estimated from these logs")
    # weights of 0.375 kept of 0.5 before clipping (less than one row's worth): a quarter clipped
    assert a.clipped_share == 0.25 and a.bias_bound == 0.25 and a.replayed_ess == 1.0
