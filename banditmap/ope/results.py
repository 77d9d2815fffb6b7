"""What a replay found, and what may be said of it: each learner's results, why one cannot be evaluated and what
would fix it, the warnings, and the verdict against the logging policy (significant or "cannot tell", with the
rows a test would need)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from banditmap.ope.estimators import RELATIVE_EFFECT, Estimate
from banditmap.ope.logs import LogInfo
from banditmap.ope.positions import PositionEstimates
from banditmap.ope.propensity import POOR_OVERLAP
from banditmap.ope.slates import SlateResults, standing

MIN_KEPT = 100  # fewer kept rounds than this and a learner's replayed reward says nothing
MIN_MATCHED = 10  # fewer held-out rows matching a final policy than this and its estimates say nothing
ESS_WARNING = 0.01  # an effective sample size under 1% of the held-out rows makes an estimate fragile
ESTIMATOR_NAMES = (("ips", "IPS"), ("snips", "SNIPS"), ("dm", "DM"), ("dr", "DR"))


@dataclass(frozen=True)
class CandidateResult:
    id: str
    name: str
    contextual: bool  # whether the learner saw the context
    kept: int  # rounds the learner was evaluated on
    selections: int  # rows the learner picked an action for
    replayed: Estimate  # reward per decision while learning
    replayed_gain: Estimate  # replayed minus the logging policy's reward on the learning rows
    final: dict[str, Estimate]  # ips, snips, dm, dr of the learner's final policy on the held-out rows
    final_gain: Estimate  # dr minus the logging policy's reward on the held-out rows, paired bootstrap
    ess: float  # effective sample size of the final policy's importance weights
    max_weight: float
    unsupported: float  # share of held-out rows where the final policy picks an action the logs never contain
    stalled: float  # share of the learner's picks that were actions the logs never contain
    curve: tuple[float, ...]  # running replayed reward at the checkpoints
    seconds: float
    problem: str = ""  # why it cannot be evaluated; empty when it can
    warnings: tuple[str, ...] = ()
    matched: int = 0  # learning rows where its pick equalled the logged action (kept or not)
    remedy: str = ""  # what would make it evaluable
    final_problem: str = ""  # why its final policy cannot be scored on the held-out rows; empty when it can
    rows_needed: float = float("inf")  # learning rows for a test of `effect` at 95% / 80% power
    effect: float = float("nan")  # the difference that rows_needed is planned for
    replayed_ess: float = float("nan")  # effective sample size of the replayed rounds' weights (= kept unweighted)
    clipped_share: float = 0.0  # share of the replay's importance weight mass removed by clipping
    bias_bound: float = 0.0  # the largest shift clipping can cause in the replayed reward (in its intervals)
    positions: PositionEstimates | None = None  # per-position IPS and the position-based model's top value

    @property
    def evaluable(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class ReplayResult:
    info: LogInfo
    method: str  # "replay" (uniform logs) or "rejection-sampling replay"
    seed: int
    logging: Estimate  # the logging policy's own reward per decision on the learning rows
    results: tuple[CandidateResult, ...]  # best replayed reward first, unevaluable last
    checkpoints: tuple[int, ...]  # log rows at which the curves are sampled
    logging_curve: tuple[float, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    learning_rows: int = 0  # learners learn on rows [0, learning_rows), final policies are scored on the rest
    logging_heldout: Estimate = Estimate(float("nan"), float("nan"), float("nan"))
    examination: tuple[float, ...] = ()  # theta_k / theta_1 per position (position-based model), empty without
    slates: SlateResults | None = None  # slate logs: final policies' slates scored by PI on the held-out slates

    @property
    def heldout_rows(self) -> int:
        return self.info.rows - self.learning_rows


@dataclass(frozen=True)
class Learned:
    """What a replay counted for one learner, as the judging below needs it."""

    kept: int
    matched: int  # learning rows where its pick equalled the logged action
    expected_kept: float  # kept rows expected from the matched ones (sum of p_min / p over them)
    learning_rows: int
    ess: float = float("inf")  # effective sample size of the kept rows' importance weights (weighted replay only)


def problem(learned: Learned, info: LogInfo, unsupported: float, stalled: float) -> tuple[str, str]:
    """Why a learner cannot be evaluated, and what would fix it; ("", "") when it can."""
    never = [info.actions[a] for a in np.flatnonzero(np.array(info.counts) == 0)]
    if learned.kept < MIN_KEPT and stalled > 0.5:
        return (f"it keeps choosing actions the logs never contain ({few(never)}); the logging policy never "
                "tried them, so no log can say what they earn",
                "log with a policy that tries every action now and then")
    if unsupported > 0.05:
        return (f"its final policy chooses actions the logs never contain ({few(never)}) in "
                f"{unsupported:.0%} of rows; their rewards cannot be estimated from these logs",
                "log with a policy that tries every action now and then")
    if learned.kept >= MIN_KEPT and learned.ess < MIN_KEPT:
        return (f"importance-weighted replay kept all {learned.kept} matching rounds, but their weights leave an "
                f"effective {learned.ess:.0f} (at least {MIN_KEPT} needed): a few rows with tiny propensities carry "
                "most of the weight",
                "clip the weights harder (--clip, more bias, stated), or log with a more exploratory policy")
    if learned.kept >= MIN_KEPT:
        return "", ""
    rows = learned.learning_rows
    if not info.uniform and learned.matched >= MIN_KEPT:
        rate = learned.expected_kept / learned.matched
        longer = MIN_KEPT * rows / max(learned.expected_kept, 1e-300)
        return (f"rejection sampling kept {learned.kept} of the {learned.matched} learning rows that matched its "
                f"choices (at least {MIN_KEPT} needed): a matching row is kept with probability p_min / p, and the "
                f"smallest logged propensity, p_min = {info.min_propensity:.2g}, makes that about {rate:.2%} here",
                f"importance-weighted replay (--replay-method weighted), log with a policy whose propensities stay "
                f"well above {info.min_propensity:.2g} (more exploratory logging), drop the rows with tiny "
                f"propensities, or use a log of about {_rows(longer)} learning rows")
    longer = MIN_KEPT * rows / max(learned.matched, 1)
    return (f"only {learned.matched} of the {rows} learning rows matched its choices, {learned.kept} kept "
            f"(at least {MIN_KEPT} needed)",
            f"use a longer log (about {_rows(longer)} learning rows) or a more exploratory logging policy")


def _rows(n: float) -> str:
    return f"{n:,.0f}" if np.isfinite(n) and n < 1e15 else "an unbounded number of"


def few(labels: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(labels[:limit])
    return "actions " + shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def warnings(result: CandidateResult, info: LogInfo, heldout_rows: int,
             reward_range: tuple[float, float]) -> tuple[str, ...]:
    """What a reader of an evaluable learner's figures must know: estimates that disagree or fall outside the
    rewards' range, actions the logs lack, light effective sample sizes."""
    out = []
    final = result.final
    if result.final_problem:
        out.append(f"its final policy is not scored: {result.final_problem}")
    ips, dm, dr = final["ips"], final["dm"], final["dr"]
    if ips.known and dr.known and np.isfinite([ips.low, ips.high, dr.low, dr.high]).all() and not ips.overlaps(dr):
        out.append(f"the final policy's IPS ({ips.value:.4f}) and DR ({dr.value:.4f}) estimates disagree beyond their "
                   "intervals: the importance weights may be too heavy; DR is the safer read")
    if dm.known and dr.known and np.isfinite([dr.low, dr.high]).all() and not dr.low <= dm.value <= dr.high:
        out.append(f"the direct method's estimate ({dm.value:.4f}) lies outside DR's interval ({dr.low:.4f} to "
                   f"{dr.high:.4f}): the reward model is off on the held-out rows (DR corrects it); DM has no "
                   "interval of its own")
    if result.clipped_share > 0:
        out.append(f"clipping removed {result.clipped_share:.1%} of its replay's weight mass: its replayed reward may "
                   f"be off by up to {result.bias_bound:.4f} for that alone (its intervals are widened by that much)")
    low, high = reward_range
    outside = [f"{label} ({final[key].value:.4g})" for key, label in ESTIMATOR_NAMES
               if final[key].known and not low <= final[key].value <= high]
    if outside:
        out.append(f"estimates outside the rewards' range [{low:g}, {high:g}]: " + ", ".join(outside)
                   + "; they rest on few or heavy weights and should not be read as values")
    if 0 < result.unsupported <= 0.05:
        out.append(f"the final policy picks actions the logs never contain in {result.unsupported:.1%} of rows; "
                   "those rewards are invisible to IPS and DR")
    if not result.final_problem and result.ess < max(100.0, ESS_WARNING * heldout_rows):
        out.append(f"effective sample size of the final policy's weights is {result.ess:.0f} of {heldout_rows} "
                   "held-out rows: its IPS and DR estimates rest on few rows")
    return tuple(out)


def poor_overlap(info: LogInfo) -> bool:
    """Estimated propensities: on more than POOR_OVERLAP of the rows some action has an estimated probability under
    1% of uniform play, so a policy that plays it there would be weighed by the model's tails: final policies are
    scored by the direct method alone."""
    return info.estimated and info.thin_share > POOR_OVERLAP


def log_warnings(info: LogInfo, weighted: bool = False) -> tuple[str, ...]:
    out = []
    if info.estimated:
        source = "the log has no propensity column" if info.propensity_col is None else \
            f"the logged {info.propensity_col!r} was set aside (--estimate-propensities)"
        out.append(f"PROPENSITIES ESTIMATED, NOT LOGGED: {source}; they come from a multinomial logistic model of "
                   "the logged action given the context, cross-fitted on two folds. Every importance-weighted figure "
                   "(replay, IPS, SNIPS, DR) is only as right as that model: a logging policy that used anything "
                   "the context columns do not hold makes them wrong")
    if poor_overlap(info):
        out.append(f"poor overlap: in {info.thin_share:.1%} of rows some action has an estimated propensity under "
                   "1% of uniform play, so final policies are scored by the direct method (DM) alone, without IPS, SNIPS or DR; "
                   "DM is only as right as its reward model")
    if info.near_zero > 0:
        out.append(f"{info.near_zero:.2%} of rows have a propensity under 1% of uniform play: their importance "
                   "weights are huge, and rejection-sampling replay keeps few rows")
    if weighted:
        out.append("importance-weighted replay: learners keep every matching row, so they learn from rows in the "
                   "logging policy's proportions, not in their own (a bias no interval shows); the replayed reward "
                   "weights rows by 1 / (K p), clipped, and each interval is widened by the most clipping can shift "
                   "it")
    never = [a for a, c in zip(info.actions, info.counts, strict=True) if c == 0]
    if never:
        out.append(f"the logging policy never played {few(never)}: no policy that needs them can be evaluated")
    if info.projected:
        out.append(f"the context was reduced to {info.features - 1} features by a random projection")
    return tuple(out)


def _planned(r: CandidateResult) -> str:
    if not np.isfinite(r.rows_needed):
        return "no log length would tell"
    what = "a difference of this size" if r.effect == r.replayed_gain.value else \
        f"a difference of {RELATIVE_EFFECT:.0%} of the logging policy's reward ({r.effect:+.4g})"
    return f"telling {what} at 95% confidence with 80% power needs about {r.rows_needed:,.0f} learning rows"


def verdict(result: ReplayResult) -> tuple[str, ...]:
    """Plain words: who beat the logging policy significantly, who cannot be told apart (with the rows a test
    would need), who cannot be evaluated and why."""
    base, held = result.logging, result.logging_heldout
    lines = [f"The logging policy earned {base.value:.4f} per decision on the {result.learning_rows:,} learning rows "
             f"({base.low:.4f} to {base.high:.4f}, 95%)"
             + (f" and {held.value:.4f} on the {result.heldout_rows:,} held-out rows." if held.known else ".")]
    better, tied, worse, unknown = [], [], [], []
    for r in result.results:
        gain = r.replayed_gain
        if not r.evaluable:
            unknown.append(f"{r.name}: {r.problem}; to fix: {r.remedy}")
        elif not np.isfinite(gain.low):
            unknown.append(f"{r.name}: too few replayed rounds for an interval")
        elif gain.low > 0:
            better.append(f"{r.name} ({gain.value:+.4f}, {gain.low:+.4f} to {gain.high:+.4f})")
        elif gain.high < 0:
            worse.append(f"{r.name} ({gain.value:+.4f}, {gain.low:+.4f} to {gain.high:+.4f})")
        else:
            tied.append(f"{r.name} ({gain.value:+.4f}, {gain.low:+.4f} to {gain.high:+.4f}; {_planned(r)})")
    if better:
        lines.append("Beat the logging policy with 95% confidence while learning: " + "; ".join(better) + ".")
    if tied:
        lines.append("Cannot tell from the logging policy: " + "; ".join(tied) + ".")
    if worse:
        lines.append("Earned less than the logging policy with 95% confidence while learning: "
                     + "; ".join(worse) + ".")
    if unknown:
        lines.append("Cannot be evaluated on these logs: " + "; ".join(unknown) + ".")
    return tuple(lines) + slate_verdict(result.slates)


def slate_verdict(slates: SlateResults | None) -> tuple[str, ...]:
    """One line on the slate policies scored by PI: who is better or worse than the logging policy with 95%
    confidence on the held-out slates, and who cannot be told apart."""
    if slates is None or not slates.policies:
        return ()
    groups: dict[str, list[str]] = {"better": [], "cannot tell": [], "worse": []}
    for p in slates.policies:
        if standing(p):
            groups[standing(p)].append(f"{p.name} ({p.gain.value:+.4f}, {p.gain.low:+.4f} to {p.gain.high:+.4f})")
    words = {"better": "better than the logging policy with 95% confidence",
             "cannot tell": "cannot tell from the logging policy",
             "worse": "worse than the logging policy with 95% confidence"}
    parts = [f"{words[k]}: " + "; ".join(v) for k, v in groups.items() if v]
    return (f"Slates (PI on the {slates.slates:,} held-out slates, reward per slate, assuming it is a sum of "
            "per-slot contributions): " + "; ".join(parts) + ".",) if parts else ()
