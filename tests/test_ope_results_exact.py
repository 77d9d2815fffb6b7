"""What a replay may say, checked word for word on hand-made findings: why a learner cannot be evaluated (each
reason at its threshold, with the rows a longer log would need worked out by hand), the warnings on an evaluable
learner's figures and on the log, and the verdict against the logging policy (better / cannot tell / worse, with
the rows a test would need), for single actions and for slates."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from banditmap.ope.estimators import UNKNOWN, Estimate
from banditmap.ope.logs import LogInfo
from banditmap.ope.results import (ESS_WARNING, ESTIMATOR_NAMES, MIN_KEPT, MIN_MATCHED, CandidateResult, Learned,
                                   ReplayResult, _planned, _rows, few, log_warnings, poor_overlap, problem,
                                   slate_verdict, verdict, warnings)
from banditmap.ope.slates import SlatePolicy, SlateResults

NAN = float("nan")
E = Estimate
FIX_LOGGING = "log with a policy that tries every action now and then"


def log_info(rows: int = 10_000, counts: tuple[int, ...] = (5000, 5000), uniform: bool = True,
             min_propensity: float = 0.5, near_zero: float = 0.0, projected: bool = False, features: int = 1,
             estimated: bool = False, thin_share: float = 0.0, propensity_col: str | None = "p") -> LogInfo:
    return LogInfo(path="x.csv", rows=rows, actions=tuple(str(i) for i in range(len(counts))), counts=counts,
                   action_col="a", reward_col="r", propensity_col=propensity_col, position_col=None, numeric=(),
                   categorical=(), positions=(), features=features, projected=projected,
                   min_propensity=min_propensity, near_zero=near_zero, uniform=uniform, mean_reward=0.5, binary=True,
                   estimated=estimated, thin_share=thin_share)


def finals(ips: Estimate = E(0.5, 0.4, 0.6), snips: Estimate = E(0.5, 0.4, 0.6), dm: Estimate = E(0.5, NAN, NAN),
           dr: Estimate = E(0.5, 0.4, 0.6)) -> dict[str, Estimate]:
    return {"ips": ips, "snips": snips, "dm": dm, "dr": dr}


def cand(name: str = "X", gain: Estimate = E(0.0, -0.01, 0.01), final: dict[str, Estimate] | None = None,
         ess: float = 10_000.0, unsupported: float = 0.0, **fields: object) -> CandidateResult:
    result = CandidateResult(id=name.lower(), name=name, contextual=False, kept=500, selections=5000,
                             replayed=E(0.5, 0.45, 0.55), replayed_gain=gain, final=final or finals(),
                             final_gain=gain, ess=ess, max_weight=2.0, unsupported=unsupported, stalled=0.0, curve=(),
                             seconds=0.1)
    return replace(result, **fields)  # type: ignore[arg-type]


# --- the constants and the records' defaults ---------------------------------------------------------------------

def test_constants() -> None:
    assert (MIN_KEPT, MIN_MATCHED, ESS_WARNING) == (100, 10, 0.01)
    assert ESTIMATOR_NAMES == (("ips", "IPS"), ("snips", "SNIPS"), ("dm", "DM"), ("dr", "DR"))


def test_records_defaults_and_properties() -> None:
    c = cand()
    assert c.evaluable and (c.problem, c.warnings, c.matched, c.remedy, c.final_problem) == ("", (), 0, "", "")
    assert c.rows_needed == float("inf") and np.isnan(c.effect) and np.isnan(c.replayed_ess)
    assert (c.clipped_share, c.bias_bound, c.positions) == (0.0, 0.0, None)
    assert not replace(c, problem="x").evaluable
    r = ReplayResult(log_info(rows=9000), "replay", 3, E(0.5, 0.4, 0.6), (), (), ())
    assert r.heldout_rows == 9000 and replace(r, learning_rows=2500).heldout_rows == 6500
    assert (r.skipped, r.warnings, r.learning_rows, r.examination, r.slates) == ((), (), 0, (), None)
    assert not r.logging_heldout.known and np.isnan(r.logging_heldout.low) and np.isnan(r.logging_heldout.high)
    assert Learned(1, 2, 3.0, 4).ess == float("inf")


# --- why a learner cannot be evaluated -----------------------------------------------------------------------------

def test_a_learner_stuck_on_actions_the_logs_lack_comes_first_with_the_missing_actions_named() -> None:
    log = log_info(counts=(0, 5, 0, 7, 0, 0, 0, 0))  # actions 0, 2, 4, 5, 6, 7 never logged
    stuck = ("it keeps choosing actions the logs never contain (actions 0, 2, 4, 5, 6 and 1 more); the logging "
             "policy never tried them, so no log can say what they earn", FIX_LOGGING)
    assert problem(Learned(99, 99, 0.0, 1000), log, 0.9, 0.51) == stuck  # before the unsupported share
    assert problem(Learned(0, 0, 0.0, 1000), log, 0.0, 1.0) == stuck
    # at stalled = 0.5, or with 100 rounds kept, it is not stuck
    assert problem(Learned(99, 99, 0.0, 1000), log, 0.0, 0.5)[0].startswith("only 99 of the 1000")
    assert problem(Learned(100, 100, 0.0, 1000), log, 0.0, 1.0) == ("", "")


def test_a_final_policy_that_picks_unlogged_actions_in_more_than_five_percent_of_rows() -> None:
    log = log_info(counts=(3, 0, 4, 0))
    assert problem(Learned(500, 500, 0.0, 1000), log, 0.25, 0.0) == (
        "its final policy chooses actions the logs never contain (actions 1, 3) in 25% of rows; their rewards "
        "cannot be estimated from these logs", FIX_LOGGING)
    assert problem(Learned(500, 500, 0.0, 1000), log, 0.0501, 0.0)[0].endswith(
        "(actions 1, 3) in 5% of rows; their rewards cannot be estimated from these logs")
    assert problem(Learned(500, 500, 0.0, 1000), log, 0.05, 0.0) == ("", "")
    # it comes before the importance weights' effective size
    assert problem(Learned(500, 500, 0.0, 1000, ess=3.0), log, 0.06, 0.0)[0].startswith("its final policy")


def test_weights_too_light_after_importance_weighted_replay() -> None:
    light = ("importance-weighted replay kept all 100 matching rounds, but their weights leave an effective 99 (at "
             "least 100 needed): a few rows with tiny propensities carry most of the weight",
             "clip the weights harder (--clip, more bias, stated), or log with a more exploratory policy")
    assert problem(Learned(100, 100, 100.0, 1000, ess=99.4), log_info(uniform=False), 0.0, 0.0) == light
    assert problem(Learned(100, 100, 100.0, 1000, ess=100.0), log_info(uniform=False), 0.0, 0.0) == ("", "")
    # under 100 kept rounds it is the kept rounds that are short, whatever the weights
    assert problem(Learned(99, 99, 99.0, 1000, ess=5.0), log_info(), 0.0, 0.0)[0] == (
        "only 99 of the 1000 learning rows matched its choices, 99 kept (at least 100 needed)")


def test_rejection_sampling_that_kept_too_few_of_enough_matching_rows() -> None:
    """kept 30 of 100 matching rows, 30 expected: a keep rate of 30%, and 100 x 2000 / 30 = 6,666.7 rows to keep
    100."""
    log = log_info(uniform=False, min_propensity=0.02)
    assert problem(Learned(30, 100, 30.0, 2000), log, 0.0, 0.0) == (
        "rejection sampling kept 30 of the 100 learning rows that matched its choices (at least 100 needed): a "
        "matching row is kept with probability p_min / p, and the smallest logged propensity, p_min = 0.02, makes "
        "that about 30.00% here",
        "importance-weighted replay (--replay-method weighted), log with a policy whose propensities stay well "
        "above 0.02 (more exploratory logging), drop the rows with tiny propensities, or use a log of about 6,667 "
        "learning rows")
    nothing = problem(Learned(0, 150, 0.0, 2000), log, 0.0, 0.0)  # nothing expected: no log length would do
    assert "makes that about 0.00% here" in nothing[0]
    assert nothing[1].endswith("or use a log of about an unbounded number of learning rows")
    # 99 matching rows: too few matched at all; 100 x 2000 / 99 = 2,020.2
    assert problem(Learned(30, 99, 30.0, 2000), log, 0.0, 0.0) == (
        "only 99 of the 2000 learning rows matched its choices, 30 kept (at least 100 needed)",
        "use a longer log (about 2,020 learning rows) or a more exploratory logging policy")


def test_too_few_matching_rows() -> None:
    # uniform logs: the matching rows are short even with 100 of them (100 x 2000 / 100)
    assert problem(Learned(30, 100, 30.0, 2000), log_info(), 0.0, 0.0) == (
        "only 100 of the 2000 learning rows matched its choices, 30 kept (at least 100 needed)",
        "use a longer log (about 2,000 learning rows) or a more exploratory logging policy")
    # no row matched: as if one had (100 x 2000 / 1)
    assert problem(Learned(0, 0, 0.0, 2000), log_info(), 0.0, 0.0) == (
        "only 0 of the 2000 learning rows matched its choices, 0 kept (at least 100 needed)",
        "use a longer log (about 200,000 learning rows) or a more exploratory logging policy")
    assert problem(Learned(0, 3, 0.0, 2000), log_info(uniform=False), 0.0, 0.0)[1] == (
        "use a longer log (about 66,667 learning rows) or a more exploratory logging policy")


def test_rows_are_written_with_thousands_until_they_are_unbounded() -> None:
    assert _rows(0.0) == "0" and _rows(1234.5) == "1,234" and _rows(1235.5) == "1,236"
    assert _rows(999_999_999_999_999.0) == "999,999,999,999,999"
    assert _rows(1e15) == _rows(float("inf")) == _rows(NAN) == "an unbounded number of"


def test_few() -> None:
    assert few([]) == "actions "
    assert few(list("abcde")) == "actions a, b, c, d, e"
    assert few(list("abcdef")) == "actions a, b, c, d, e and 1 more"
    assert few(list("abcd"), limit=3) == "actions a, b, c and 1 more"
    assert few(list("abc"), limit=3) == "actions a, b, c"


# --- warnings on an evaluable learner ------------------------------------------------------------------------------

def warned(c: CandidateResult, heldout: int = 10_000, reward_range: tuple[float, float] = (0.0, 1.0)) -> tuple[str, ...]:
    return warnings(c, log_info(), heldout, reward_range)


DISAGREE = ("the final policy's IPS ({:.4f}) and DR ({:.4f}) estimates disagree beyond their intervals: the "
            "importance weights may be too heavy; DR is the safer read")
DM_OUTSIDE = ("the direct method's estimate ({:.4f}) lies outside DR's interval ({:.4f} to {:.4f}): the reward model "
              "is off on the held-out rows (DR corrects it); DM has no interval of its own")


def test_every_warning_in_order() -> None:
    final = finals(ips=E(1.5, 1.2, 1.8), snips=E(0.3, 0.2, 0.4), dm=E(-0.25, NAN, NAN), dr=E(0.5, 0.4, 0.6))
    c = cand(final=final, ess=119.6, unsupported=0.02, clipped_share=0.125, bias_bound=0.0625)
    assert warned(c, heldout=12_000) == (
        DISAGREE.format(1.5, 0.5),
        DM_OUTSIDE.format(-0.25, 0.4, 0.6),
        "clipping removed 12.5% of its replay's weight mass: its replayed reward may be off by up to 0.0625 for "
        "that alone (its intervals are widened by that much)",
        "estimates outside the rewards' range [0, 1]: IPS (1.5), DM (-0.25); they rest on few or heavy weights and "
        "should not be read as values",
        "the final policy picks actions the logs never contain in 2.0% of rows; those rewards are invisible to IPS "
        "and DR",
        "effective sample size of the final policy's weights is 120 of 12000 held-out rows: its IPS and DR "
        "estimates rest on few rows")
    unscored = replace(c, final_problem="only 3 of the 200 held-out rows match")
    assert warned(unscored, heldout=12_000)[0] == "its final policy is not scored: only 3 of the 200 held-out rows match"
    assert warned(unscored, heldout=12_000)[1:] == warned(c, heldout=12_000)[:-1]  # no effective size warning
    assert warned(cand()) == ()


def test_the_effective_sample_size_warning_at_its_threshold() -> None:
    """Under max(100, 1% of the held-out rows)."""
    assert warned(cand(ess=119.99), heldout=12_000) == (
        "effective sample size of the final policy's weights is 120 of 12000 held-out rows: its IPS and DR "
        "estimates rest on few rows",)
    assert warned(cand(ess=120.0), heldout=12_000) == ()
    assert len(warned(cand(ess=99.99), heldout=200)) == 1 and warned(cand(ess=100.0), heldout=200) == ()
    assert len(warned(cand(ess=100.5), heldout=10_100)) == 1 and warned(cand(ess=101.0), heldout=10_100) == ()


def test_ips_and_dr_disagree_only_when_both_are_known_with_intervals() -> None:
    apart = finals(ips=E(0.1, 0.05, 0.15), dr=E(0.5, 0.4, 0.6))
    assert warned(cand(final=apart)) == (DISAGREE.format(0.1, 0.5),)
    assert warned(cand(final=dict(apart, ips=E(NAN, 0.05, 0.15)))) == ()
    assert warned(cand(final=dict(apart, ips=E(0.1, NAN, 0.15)))) == ()
    assert warned(cand(final=dict(apart, dr=E(NAN, 0.4, 0.6), dm=E(0.1, NAN, NAN)))) == ()
    assert warned(cand(final=dict(apart, dr=E(0.5, NAN, 0.6)))) == ()
    assert warned(cand(final=dict(apart, ips=E(0.1, 0.05, NAN)))) == ()  # an interval without an upper end
    assert warned(cand(final=dict(apart, dr=E(0.5, 0.4, NAN)))) == ()
    assert warned(cand(final=dict(apart, dr=E(0.5, 0.15, 0.6)))) == ()  # touching
    assert warned(cand(final=dict(apart, ips=E(0.7, 0.6, 0.8)))) == ()  # touching from above
    assert warned(cand(final=dict(apart, ips=E(0.7, 0.61, 0.8)))) == (DISAGREE.format(0.7, 0.5),)


def test_dm_outside_drs_interval() -> None:
    assert warned(cand(final=finals(dm=E(0.4, NAN, NAN)))) == ()  # on its ends
    assert warned(cand(final=finals(dm=E(0.6, NAN, NAN)))) == ()
    assert warned(cand(final=finals(dm=E(0.3999, NAN, NAN)))) == (DM_OUTSIDE.format(0.3999, 0.4, 0.6),)
    assert warned(cand(final=finals(dm=E(0.6001, NAN, NAN)))) == (DM_OUTSIDE.format(0.6001, 0.4, 0.6),)
    assert warned(cand(final=finals(dm=E(NAN, NAN, NAN)))) == ()
    assert warned(cand(final=finals(dm=E(0.9, NAN, NAN), dr=E(0.5, NAN, 0.6)))) == ()
    assert warned(cand(final=finals(dm=E(0.9, NAN, NAN), dr=E(NAN, 0.4, 0.6)))) == ()
    assert warned(cand(final=finals(dm=E(0.9, NAN, NAN), dr=E(0.5, 0.4, NAN)))) == ()


def test_estimates_outside_the_rewards_range() -> None:
    assert warned(cand(), reward_range=(-1.0, 0.5)) == ()  # on the upper end
    assert warned(cand(), reward_range=(0.5, 2.5)) == ()  # on the lower end
    outside = finals(ips=E(2.75, 2.0, 3.0), snips=E(NAN, NAN, NAN), dm=E(-1.5, NAN, NAN), dr=E(2.5, -2.0, 3.0))
    assert warned(cand(final=outside), reward_range=(-1.0, 2.5)) == (
        "estimates outside the rewards' range [-1, 2.5]: IPS (2.75), DM (-1.5); they rest on few or heavy weights "
        "and should not be read as values",)
    below = finals(ips=E(0.5, 0.4, 0.6), snips=E(-0.123456, -0.2, 0.0), dr=E(0.5, 0.4, 0.6))
    assert warned(cand(final=below)) == ("estimates outside the rewards' range [0, 1]: SNIPS (-0.1235); they rest on "
                                         "few or heavy weights and should not be read as values",)


def test_clipping_and_unsupported_shares() -> None:
    assert warned(cand(clipped_share=0.001, bias_bound=0.002)) == (
        "clipping removed 0.1% of its replay's weight mass: its replayed reward may be off by up to 0.0020 for that "
        "alone (its intervals are widened by that much)",)
    assert warned(cand(unsupported=0.05)) == ("the final policy picks actions the logs never contain in 5.0% of rows; "
                                              "those rewards are invisible to IPS and DR",)
    assert warned(cand(unsupported=0.0501)) == () and warned(cand(unsupported=0.0)) == ()
    assert len(warned(cand(unsupported=1e-9))) == 1


# --- the log's warnings ------------------------------------------------------------------------------------------

ESTIMATED = ("PROPENSITIES ESTIMATED, NOT LOGGED: {}; they come from a multinomial logistic model of the logged "
             "action given the context, cross-fitted on two folds. Every importance-weighted figure (replay, IPS, "
             "SNIPS, DR) is only as right as that model: a logging policy that used anything the context columns do "
             "not hold makes them wrong")
WEIGHTED = ("importance-weighted replay: learners keep every matching row, so they learn from rows in the logging "
            "policy's proportions, not in their own (a bias no interval shows); the replayed reward weights rows by "
            "1 / (K p), clipped, and each interval is widened by the most clipping can shift it")


def test_poor_overlap_needs_estimated_propensities_and_more_than_five_percent_thin() -> None:
    assert poor_overlap(log_info(estimated=True, thin_share=0.0501))
    assert not poor_overlap(log_info(estimated=True, thin_share=0.05))
    assert not poor_overlap(log_info(estimated=False, thin_share=0.9))


def test_log_warnings_in_order() -> None:
    every = log_info(estimated=True, thin_share=0.125, propensity_col=None, near_zero=0.0123, counts=(3, 0, 5, 0),
                     projected=True, features=5)
    assert log_warnings(every, weighted=True) == (
        ESTIMATED.format("the log has no propensity column"),
        "poor overlap: in 12.5% of rows some action has an estimated propensity under 1% of uniform play, so final "
        "policies are scored by the direct method (DM) alone, without IPS, SNIPS or DR; DM is only as right as its "
        "reward model",
        "1.23% of rows have a propensity under 1% of uniform play: their importance weights are huge, and "
        "rejection-sampling replay keeps few rows",
        WEIGHTED,
        "the logging policy never played actions 1, 3: no policy that needs them can be evaluated",
        "the context was reduced to 4 features by a random projection")
    assert log_warnings(every) == log_warnings(every, weighted=True)[:3] + log_warnings(every, weighted=True)[4:]
    assert log_warnings(log_info(estimated=True, propensity_col="prob")) == (
        ESTIMATED.format("the logged 'prob' was set aside (--estimate-propensities)"),)
    assert log_warnings(log_info(), weighted=True) == (WEIGHTED,)
    assert log_warnings(log_info(near_zero=1e-6)) == (
        "0.00% of rows have a propensity under 1% of uniform play: their importance weights are huge, and "
        "rejection-sampling replay keeps few rows",)
    assert log_warnings(log_info(thin_share=0.5)) == ()  # logged propensities: overlap is not judged


def test_log_warnings_refuse_counts_that_do_not_match_the_actions() -> None:
    mismatched = replace(log_info(counts=(5, 0)), actions=("0", "1", "2"))
    with pytest.raises(ValueError):
        log_warnings(mismatched)


# --- the verdict -------------------------------------------------------------------------------------------------

def replay_result(*candidates: CandidateResult, held: Estimate = UNKNOWN,
                  slates: SlateResults | None = None) -> ReplayResult:
    return ReplayResult(log_info(rows=20_000), "replay", 0, E(0.5, 0.45, 0.55), candidates, (), (),
                        learning_rows=12_345, logging_heldout=held, slates=slates)


def test_planned_rows() -> None:
    observed = cand(gain=E(0.02, -0.01, 0.05), rows_needed=12_345.5, effect=0.02)
    assert _planned(observed) == ("telling a difference of this size at 95% confidence with 80% power needs about "
                                  "12,346 learning rows")
    relative = replace(observed, replayed_gain=E(0.0, -0.1, 0.1), effect=0.05)
    assert _planned(relative) == ("telling a difference of 10% of the logging policy's reward (+0.05) at 95% "
                                  "confidence with 80% power needs about 12,346 learning rows")
    assert _planned(replace(observed, rows_needed=float("inf"))) == "no log length would tell"
    assert _planned(replace(observed, rows_needed=NAN)) == "no log length would tell"


def test_the_verdicts_first_line_with_and_without_the_held_out_rate() -> None:
    assert verdict(replay_result()) == ("The logging policy earned 0.5000 per decision on the 12,345 learning rows "
                                        "(0.4500 to 0.5500, 95%).",)
    assert verdict(replay_result(held=E(0.61234, 0.6, 0.62))) == (
        "The logging policy earned 0.5000 per decision on the 12,345 learning rows (0.4500 to 0.5500, 95%) and "
        "0.6123 on the 7,655 held-out rows.",)


def test_the_verdict_groups_learners_in_their_order() -> None:
    lines = verdict(replay_result(
        cand("W", E(-0.1, -0.2, -1e-9)), cand("B2", E(0.2, 1e-9, 0.3)),
        cand("T", E(0.0, -0.1, 0.1), rows_needed=5e3, effect=0.05),
        cand("Gone", E(0.1, NAN, NAN), problem="it cannot", remedy="log more"),
        cand("Short", E(0.1, NAN, 0.2)), cand("B1", E(0.1, 0.05, 0.15))))
    assert lines[1:] == (
        "Beat the logging policy with 95% confidence while learning: B2 (+0.2000, +0.0000 to +0.3000); B1 (+0.1000, "
        "+0.0500 to +0.1500).",
        "Cannot tell from the logging policy: T (+0.0000, -0.1000 to +0.1000; telling a difference of 10% of the "
        "logging policy's reward (+0.05) at 95% confidence with 80% power needs about 5,000 learning rows).",
        "Earned less than the logging policy with 95% confidence while learning: W (-0.1000, -0.2000 to -0.0000).",
        "Cannot be evaluated on these logs: Gone: it cannot; to fix: log more; Short: too few replayed rounds for an "
        "interval.")
    assert verdict(replay_result(cand("W1", E(-0.1, -0.2, -0.05)), cand("W2", E(-0.3, -0.4, -0.2))))[1:] == (
        "Earned less than the logging policy with 95% confidence while learning: W1 (-0.1000, -0.2000 to -0.0500); "
        "W2 (-0.3000, -0.4000 to -0.2000).",)
    assert verdict(replay_result(cand("T", E(0.0, 0.0, 0.0))))[1:] == (
        "Cannot tell from the logging policy: T (+0.0000, +0.0000 to +0.0000; no log length would tell).",)


# --- slates ------------------------------------------------------------------------------------------------------

def slate(name: str, gain: Estimate) -> SlatePolicy:
    return SlatePolicy(name.lower(), name, E(1.0, 0.9, 1.1), gain, 100.0, 0.0)


def slate_results(*policies: SlatePolicy) -> SlateResults:
    return SlateResults(size=3, items=10, slates=1234, form="ranked", logging=E(1.0, 0.9, 1.1), policies=policies)


def test_the_slate_verdict_groups_better_cannot_tell_worse() -> None:
    results = slate_results(slate("W", E(-0.2, -0.3, -0.1)), slate("B", E(0.2, 0.1, 0.3)), slate("U", UNKNOWN),
                            slate("T", E(0.0, -0.1, 0.1)), slate("N", E(0.3, NAN, NAN)), slate("B2", E(0.1, 0.0001, 0.2)))
    line = ("Slates (PI on the 1,234 held-out slates, reward per slate, assuming it is a sum of per-slot "
            "contributions): better than the logging policy with 95% confidence: B (+0.2000, +0.1000 to +0.3000); "
            "B2 (+0.1000, +0.0001 to +0.2000); cannot tell from the logging policy: T (+0.0000, -0.1000 to +0.1000); "
            "worse than the logging policy with 95% confidence: W (-0.2000, -0.3000 to -0.1000).")
    assert slate_verdict(results) == (line,)
    assert verdict(replay_result(slates=results)) == verdict(replay_result()) + (line,)
    assert slate_verdict(slate_results(slate("T", E(0.0, -0.1, 0.1)))) == (
        "Slates (PI on the 1,234 held-out slates, reward per slate, assuming it is a sum of per-slot "
        "contributions): cannot tell from the logging policy: T (+0.0000, -0.1000 to +0.1000).",)
    assert slate_verdict(slate_results(slate("W", E(-0.2, -0.3, -0.1))))[0].endswith(
        "contributions): worse than the logging policy with 95% confidence: W (-0.2000, -0.3000 to -0.1000).")


def test_no_slate_verdict_without_scored_slate_policies() -> None:
    assert slate_verdict(None) == () and slate_verdict(slate_results()) == ()
    assert slate_verdict(slate_results(slate("U", UNKNOWN), slate("N", E(0.3, NAN, NAN)))) == ()


@pytest.mark.parametrize("low, high, group", [(1e-12, 0.1, "better"), (-0.1, -1e-12, "worse"),
                                              (0.0, 0.1, "cannot tell"), (-0.1, 0.0, "cannot tell")])
def test_the_slate_groups_at_zero(low: float, high: float, group: str) -> None:
    words = {"better": "better than the logging policy with 95% confidence",
             "worse": "worse than the logging policy with 95% confidence",
             "cannot tell": "cannot tell from the logging policy"}
    assert f"contributions): {words[group]}: S (" in slate_verdict(slate_results(slate("S", E(0.0, low, high))))[0]
