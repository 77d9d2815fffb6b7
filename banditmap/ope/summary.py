"""What a replay's sums say: rates with their intervals (Wilson's for clicks, the block bootstrap otherwise), the
final policies' estimates, importance-weighted replay's widened intervals, the rows a test would need, and each
learner's result with its reason when it cannot be evaluated (replay.py makes the passes that gather the sums)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from banditmap.ope import positions
from banditmap.ope.estimators import (RELATIVE_EFFECT, UNKNOWN, BlockSums, Estimate, Resampler,
                                      effective_sample_size, hull, interval, newcombe, rows_needed,
                                      rows_needed_normal, wilson)
from banditmap.ope.results import (MIN_MATCHED, CandidateResult, Learned, ReplayResult, log_warnings, poor_overlap,
                                   problem, warnings)
from banditmap.ope.replay import Replay, method_name

Array = np.ndarray


def _rate(boot: Resampler, rewards: Array, rows: Array, binary: bool) -> tuple[Estimate, Array]:
    """A reward per decision with its interval (Wilson's for binary rewards), and its bootstrap replicates."""
    estimate, draws = boot.ratio(rewards, rows)
    return (wilson(float(rewards.sum()), float(rows.sum())) if binary else estimate), draws


def _final(boot: Resampler, scores: BlockSums, key: str, rows: Array, binary: bool,
           ess: float) -> tuple[dict[str, Estimate], Array]:
    """IPS, SNIPS, DM and DR of a final policy on the held-out rows, and DR's replicates. For binary rewards the
    weighted estimates' intervals are at least Wilson's at the effective sample size (rare events); DM's value
    comes without an interval."""
    final, draws = {}, {}
    for name in ("ips", "dm", "dr"):
        final[name], draws[name] = boot.ratio(scores.sums[f"{key}:{name}"], rows)
    final["snips"], _ = boot.ratio(scores.sums[f"{key}:ips"], scores.sums[f"{key}:weight"])
    # DM gets no interval: resampling rows around a reward model fitted once leaves out the model's own error
    # (such intervals covered the truth in 4 of 40 seeds on 0.5% click rates); DR's interval is the one to read
    final["dm"] = Estimate(final["dm"].value, float("nan"), float("nan"))
    if binary:
        for name in ("ips", "snips", "dr"):
            e = final[name]
            if e.known:
                final[name] = hull(e, wilson(min(max(e.value, 0.0), 1.0) * ess, ess))
    return final, draws["dr"]


def _power(replayed: Estimate, gain: Estimate, logging: Estimate, kept: int, split: int,
           binary: bool) -> tuple[float, float]:
    """Learning rows a test of the observed difference (or of RELATIVE_EFFECT of the logging policy's reward when
    none was observed) would need at 95% confidence and 80% power, and the difference planned for."""
    if not (replayed.known and gain.known and kept):
        return float("inf"), float("nan")
    effect = gain.value if gain.value else RELATIVE_EFFECT * logging.value
    keep = kept / max(split, 1)  # kept rounds per learning row
    if binary:  # replayed rounds per group, then learning rows that keep that many
        return rows_needed(logging.value, logging.value + effect) / keep, effect
    scaled = Estimate(effect, gain.low - gain.value + effect, gain.high - gain.value + effect)
    return rows_needed_normal(scaled, kept) / keep, effect


def summarise(replay: Replay, scores: BlockSums, max_weight: dict[str, float],
              skipped: tuple[tuple[str, str], ...]) -> ReplayResult:
    info, sums, binary = replay.info, replay.sums.sums, replay.info.binary
    boot = Resampler.make(replay.blocks, replay.seed)
    logging, logging_draws = _rate(boot, sums["reward"], sums["rows"], binary)
    held, held_draws = _rate(boot, sums["heldout_reward"], sums["heldout_rows"], binary)
    heldout_rows = info.rows - replay.split
    reward_range = (0.0, 1.0) if binary else replay.reward_range
    rows_at = [scores.sums[f"rows@{k}"] for k in range(replay.n_positions)]
    ratio, ratio_draws = positions.examination(boot, [scores.sums[f"uniform@{k}"] for k in range(replay.n_positions)],
                                               rows_at) if replay.n_positions else ((), np.zeros((0, 0)))
    results = []
    for index, learner in enumerate(replay.learners):
        key = learner.candidate.id
        replayed, replayed_draws = _rate(boot, sums[f"{key}:kept_reward"], sums[f"{key}:kept"], binary)
        gain = newcombe(replayed, logging) if binary else \
            interval(replayed.value - logging.value, replayed_draws - logging_draws)
        kept_ess = effective_sample_size(replay.sums.total(f"{key}:kept"), replay.sums.total(f"{key}:kept_squared"))
        clipped = 1 - replay.sums.total(f"{key}:kept") / max(replay.sums.total(f"{key}:kept_raw"), 1e-300)
        bound = max(clipped, 0.0) * (reward_range[1] - reward_range[0])
        if replay.method == "weighted":
            replayed, gain = _weighted(boot, replayed, replayed_draws, logging, logging_draws, kept_ess, bound, binary)
        ess = effective_sample_size(scores.total(f"{key}:weight"), scores.total(f"{key}:weight_squared"))
        final, dr_draws = _final(boot, scores, key, sums["heldout_rows"], binary, ess)
        final_gain = interval(final["dr"].value - held.value, dr_draws - held_draws)
        if binary:
            final_gain = hull(final_gain, newcombe(final["dr"], held))
        unsupported = scores.total(f"{key}:unsupported") / max(heldout_rows, 1)
        stalled = learner.unsupported / max(learner.selections, 1)
        why, remedy = problem(Learned(learner.kept, learner.matched, learner.expected_kept, replay.split,
                                      kept_ess if replay.method == "weighted" else float("inf")), info,
                              unsupported, stalled)
        final_problem = _final_problem(scores.total(f"{key}:matched"), heldout_rows)
        if poor_overlap(info):  # estimated propensities too small to weigh by: the direct method alone
            final, final_gain = {**{name: UNKNOWN for name in final}, "dm": final["dm"]}, UNKNOWN
        if why or final_problem:
            final, final_gain = {name: UNKNOWN for name in final}, UNKNOWN
        if why or not learner.kept:
            replayed, gain = UNKNOWN, UNKNOWN
        effective = int(kept_ess) if replay.method == "weighted" else learner.kept
        needed, effect = _power(replayed, gain, logging, effective, replay.split, binary)
        result = CandidateResult(
            id=key, name=learner.candidate.name, contextual=learner.contextual, kept=learner.kept,
            selections=learner.selections, replayed=replayed, replayed_gain=gain, final=final, final_gain=final_gain,
            ess=ess, max_weight=max_weight[key], unsupported=unsupported, stalled=stalled,
            curve=tuple(float(v) for v in replay.curves[index]), seconds=learner.seconds, problem=why,
            matched=learner.matched, remedy=remedy, final_problem=final_problem, rows_needed=needed, effect=effect,
            replayed_ess=kept_ess, clipped_share=max(clipped, 0.0), bias_bound=bound,
            positions=None if (why or final_problem or not replay.n_positions) else positions.estimates(
                boot, [scores.sums[f"{key}:ips@{k}"] for k in range(replay.n_positions)], rows_at, ratio, ratio_draws,
                [effective_sample_size(scores.total(f"{key}:w@{k}"), scores.total(f"{key}:w2@{k}"))
                 for k in range(replay.n_positions)] if binary else None))
        if not why:
            result = replace(result, warnings=warnings(result, info, heldout_rows, reward_range))
        results.append(result)
    results.sort(key=lambda r: (not r.evaluable, -(r.replayed.value if r.replayed.known else -np.inf), -r.kept))
    return ReplayResult(info, method_name(replay.method, replay.clip), replay.seed, logging,
                        tuple(results), tuple(int(c) for c in replay.checkpoints),
                        tuple(float(v) for v in replay.logging_curve), skipped,
                        log_warnings(info, replay.method == "weighted"), replay.split, held, ratio)


def _weighted(boot: Resampler, replayed: Estimate, draws: Array, logging: Estimate, logging_draws: Array,
              ess: float, bound: float, binary: bool) -> tuple[Estimate, Estimate]:
    """An importance-weighted replayed reward and its gain over the logging policy: bootstrap intervals (at least
    Wilson's and Newcombe's at the weights' effective sample size for binary rewards), widened on both sides by the
    bound on the clipping bias."""
    value = replayed.value
    estimate = interval(value, draws)
    gain = interval(value - logging.value, draws - logging_draws)
    if binary and np.isfinite(value):
        estimate = hull(estimate, wilson(min(max(value, 0.0), 1.0) * ess, ess))
        gain = hull(gain, newcombe(estimate, logging))
    return _widen(estimate, bound), _widen(gain, bound)


def _widen(e: Estimate, by: float) -> Estimate:
    return Estimate(e.value, e.low - by, e.high + by) if by > 0 else e


def _final_problem(matched: float, heldout_rows: int) -> str:
    if matched >= MIN_MATCHED:
        return ""
    return (f"only {matched:.0f} of the {heldout_rows} held-out rows match its final policy's choices (at least "
            f"{MIN_MATCHED} needed) to score it")
