"""Replay on small logs whose every number is worked out by hand: which rounds a learner keeps (on uniform logs,
and after rejection sampling with the log's own coins), its replayed reward and curve, its final policy's IPS,
SNIPS, DM and DR values on binary and continuous rewards, weights and effective sample size, the gains over the
logging policy with their paired intervals; then the problems, warnings and the beat / tie / lose verdict at
each boundary."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from banditmap.ope import logs, replay
from banditmap.ope.estimators import UNKNOWN, Estimate, Resampler, hull, interval, newcombe, wilson
from banditmap.ope.logs import LogInfo
from banditmap.ope.replay import MIN_KEPT, CandidateResult, ReplayResult, _keep_rate, evaluate, verdict
from banditmap.ope.results import Learned, few, log_warnings, problem, warnings
from banditmap.sim.policies import Feedback, Policy, State
from banditmap.sim.problem import Problem
from banditmap.sim.runner import RunSpec

Array = np.ndarray

# The log: a four-row pattern repeated 100 times (400 rows, one bootstrap block per row), two actions; learners
# learn on the first 200 rows, final policies are scored on the last 200 (the default holdout, a half).
PATTERN_ACTIONS = (0, 0, 1, 1)
PATTERN_REWARDS = (1.0, 0.0, 1.0, 1.0)  # binary; logging policy's mean reward 3/4
CONTINUOUS_REWARDS = (3.0, 0.0, 5.0, 5.0)  # mean 13/4
REPEATS = 100
ROWS = 4 * REPEATS


@dataclass
class Counted(State):
    pulls: Array | None = None  # (R,) rounds learned from
    selects: Array | None = None  # (R,) written by select when COUNT is set
    last: Array | None = None  # (R,) the last pick, set by select when NOTE is set


@dataclass(frozen=True)
class Fixed(Policy):
    """Learns nothing: selects PLAYS while replayed, FINAL once frozen (the same unless told otherwise)."""

    PLAYS: ClassVar[int] = 0
    FINAL: ClassVar[int | None] = None
    COUNT: ClassVar[bool] = False
    NOTE: ClassVar[bool] = False

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return Counted(rng, problem.reps, problem.n_arms, pulls=np.zeros(problem.reps, dtype=int),
                       selects=np.zeros(problem.reps, dtype=int))

    def select(self, state: State, context: Array | None) -> Array:
        assert isinstance(state, Counted) and state.selects is not None
        assert context is None if "contextual" not in self.kinds else context.shape == (state.R, 1)
        if self.COUNT:
            state.selects += 1  # writes into its state: the replay must hand it copies
        picks = np.full(state.R, self.PLAYS)
        if self.NOTE:
            state.last = picks.copy()
        return picks

    def update(self, state: State, feedback: Feedback) -> None:
        assert isinstance(state, Counted) and state.pulls is not None
        np.add.at(state.pulls, feedback.reps, 1)

    def exploit(self, state: State, context: Array | None) -> Array:
        return np.full(state.R, self.PLAYS if self.FINAL is None else self.FINAL)


@dataclass(frozen=True)
class Zero(Fixed):
    pass


@dataclass(frozen=True)
class One(Fixed):
    PLAYS = 1


@dataclass(frozen=True)
class ZeroThenOne(Fixed):
    FINAL = 1


@dataclass(frozen=True)
class Counting(Fixed):
    COUNT = True
    NOTE = True


@dataclass(frozen=True)
class ContextualZero(Fixed):
    kinds = frozenset({"contextual"})


@dataclass(frozen=True)
class Absent(Fixed):
    """Plays an action the log never contains."""

    PLAYS = 2


def spec(cls: type[Fixed]) -> RunSpec:
    return RunSpec(cls.__name__.lower(), cls.__name__, cls())


def write_log(tmp_path: Path, rewards: tuple[float, ...] = PATTERN_REWARDS,
              propensities: tuple[float, ...] = (0.5, 0.5, 0.5, 0.5)) -> Path:
    path = tmp_path / "log.csv"
    lines = ["action,reward,propensity"] + [f"{a},{r:g},{p:g}" for _ in range(REPEATS)
                                             for a, r, p in zip(PATTERN_ACTIONS, rewards, propensities)]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(path: Path, *classes: type[Fixed], chunk_rows: int = logs.CHUNK_ROWS, n_actions: int | None = None,
        seed: int = 0) -> ReplayResult:
    with logs.read_logs(path, n_actions=n_actions, chunk_rows=chunk_rows) as store:
        return evaluate(store, [spec(c) for c in classes], seed)


def by_id(result: ReplayResult) -> dict[str, CandidateResult]:
    return {r.id: r for r in result.results}


# Cross-fitted reward model on this log (intercept only, ridge 1, offset 3/4): even rows are scored by the model
# of odd rows (action 0 always 0, action 1 always 1) and odd rows by that of even rows (both actions always 1).
C = REPEATS * (1 - 0.75) / (REPEATS + 1)  # REPEATS rewards of 1, centred, shrunk by the ridge
D = REPEATS * (0 - 0.75) / (REPEATS + 1)
HELD = ROWS // 2


def test_a_learner_keeps_the_rounds_where_it_matches_the_log(tmp_path: Path) -> None:
    result = run(write_log(tmp_path), Zero, One, ZeroThenOne)
    assert result.method == "replay" and result.seed == 0 and result.skipped == () and result.warnings == ()
    assert result.logging.value == 0.75
    zero, one, zero_then_one = (by_id(result)[i] for i in ("zero", "one", "zerothenone"))
    assert (zero.kept, zero.selections, zero.replayed.value) == (100, 200, 0.5)  # rows 0 and 1 of each pattern
    assert (one.kept, one.selections, one.replayed.value) == (100, 200, 1.0)
    assert zero.evaluable and zero.problem == "" and not zero.contextual
    assert (zero.unsupported, zero.stalled) == (0.0, 0.0)
    assert [r.id for r in result.results] == ["one", "zero", "zerothenone"]  # best replayed reward first
    assert zero.replayed_gain.value == pytest.approx(-0.25) and one.replayed_gain.value == pytest.approx(0.25)
    assert zero_then_one.replayed.value == 0.5


def test_the_final_policy_is_scored_by_ips_snips_dm_and_dr(tmp_path: Path) -> None:
    result = run(write_log(tmp_path), Zero, ZeroThenOne)
    zero, one = by_id(result)["zero"], by_id(result)["zerothenone"]
    assert zero.final["ips"].value == pytest.approx(0.5)  # weight 2 on the 100 rows logged with action 0
    assert zero.final["snips"].value == pytest.approx(0.5)
    assert zero.final["dm"].value == pytest.approx(0.75 + (C + D) / 2)
    assert zero.final["dr"].value == pytest.approx(0.5)
    assert zero.final_gain.value == pytest.approx(0.5 - 0.75)
    assert one.final["ips"].value == pytest.approx(1.0) and one.final["snips"].value == pytest.approx(1.0)
    assert one.final["dm"].value == pytest.approx(0.75 + C) and one.final["dr"].value == pytest.approx(1.0)
    assert one.final_gain.value == pytest.approx(0.25)
    assert zero.max_weight == 2.0 and zero.ess == pytest.approx(200 ** 2 / (100 * 4))
    assert zero.warnings == ()  # effective sample size 100: not under the 100 rows that warrant a warning
    for r in (zero, one):
        for name in ("ips", "snips", "dr"):
            assert r.final[name].low - 1e-12 <= r.final[name].value <= r.final[name].high + 1e-12, (r.id, name)
        assert np.isnan(r.final["dm"].low) and np.isnan(r.final["dm"].high)  # DM has no interval


def test_binary_rates_get_score_intervals_and_the_final_gain_is_paired_over_the_same_draws(tmp_path: Path) -> None:
    result = run(write_log(tmp_path), One, seed=4)
    one = result.results[0]
    assert result.logging == wilson(150, 200) and result.logging_heldout == wilson(150, 200)
    assert one.replayed == wilson(100, 100) and one.replayed_gain == newcombe(wilson(100, 100), wilson(150, 200))
    rewards = np.tile(PATTERN_REWARDS, REPEATS)
    kept = np.tile([0.0, 0.0, 1.0, 1.0], REPEATS)
    held = np.arange(ROWS) >= HELD
    boot = Resampler.make(ROWS, 4)  # one block per row
    _, logging_draws = boot.ratio(rewards * held, held.astype(float))
    predicted = 0.75 + C  # the model's prediction for action 1 on every row
    dr, dr_draws = boot.ratio((predicted + 2 * kept * (rewards - predicted)) * held, held.astype(float))
    assert one.final_gain.value == pytest.approx(dr.value - 0.75)
    paired = interval(0.25, dr_draws - logging_draws)
    assert one.final_gain.low <= paired.low and one.final_gain.high >= paired.high  # at least the paired interval
    assert one.final_gain == hull(paired, newcombe(one.final["dr"], result.logging_heldout))
    assert one.final_gain != run(write_log(tmp_path), One, seed=5).results[0].final_gain  # the seed draws it


def test_curves_follow_the_running_means_whatever_the_chunks(tmp_path: Path) -> None:
    path = write_log(tmp_path)
    whole, chunked = run(path, Zero), run(path, Zero, chunk_rows=7)
    assert whole.checkpoints == tuple(range(1, HELD + 1))  # the learning rows
    assert whole.logging_curve[:5] == (1.0, 0.5, 2 / 3, 0.75, 0.8)
    assert whole.results[0].curve[:6] == (1.0, 0.5, 0.5, 0.5, 2 / 3, 0.5)  # kept: rows 0, 1, 4, 5, ...
    assert whole.results[0].curve[-1] == 0.5 and whole.logging_curve[-1] == 0.75
    assert chunked.checkpoints == whole.checkpoints and chunked.logging_curve == pytest.approx(whole.logging_curve)
    assert chunked.results[0].curve == pytest.approx(whole.results[0].curve)
    assert (chunked.results[0].kept, chunked.results[0].selections) == (100, 200)
    one = run(path, One, chunk_rows=7).results[0]
    assert np.isnan(one.curve[0]) and np.isnan(one.curve[1]) and one.curve[2] == 1.0  # nothing kept before row 2


def test_a_policy_that_writes_into_its_state_keeps_the_picking_rows_copy(tmp_path: Path) -> None:
    path = write_log(tmp_path)
    with logs.read_logs(path) as store:
        rerun = replay.Replay(store.info, [spec(Counting)], 0)
        for chunk in store.chunks():
            rerun.read_chunk(chunk)
    learner = rerun.learners[0]
    assert learner.copying and learner.kept == 100
    assert learner.state.selects.tolist() == [100] and learner.state.pulls.tolist() == [100]  # type: ignore
    assert learner.state.last.tolist() == [0] and "last" in learner.layout.per_rep  # type: ignore
    assert learner.state.R == 1


def test_a_contextual_learner_is_given_the_context(tmp_path: Path) -> None:
    result = run(write_log(tmp_path), ContextualZero, Zero)
    assert by_id(result)["contextualzero"].contextual and not by_id(result)["zero"].contextual
    assert by_id(result)["contextualzero"].replayed == by_id(result)["zero"].replayed


def test_rejection_sampling_keeps_a_matching_row_with_probability_p_min_over_p(tmp_path: Path) -> None:
    path = write_log(tmp_path, propensities=(0.8, 0.8, 0.2, 0.2))  # action 0 logged 4 times as often
    result = run(path, Zero, One, seed=3)
    assert result.method == "rejection-sampling replay"
    coins = np.random.Generator(np.random.PCG64(np.random.SeedSequence([3, 5]))).random(HELD)  # learning rows
    actions = np.tile(PATTERN_ACTIONS, REPEATS)[:HELD]
    rewards = np.tile(PATTERN_REWARDS, REPEATS)[:HELD]
    zero_kept = (actions == 0) & (coins < 0.25)
    zero, one = by_id(result)["zero"], by_id(result)["one"]
    assert zero.kept == zero_kept.sum() and 10 < zero.kept < 45  # about a quarter of 100
    assert rewards[zero_kept].mean() > 0 and not zero.replayed.known  # too few rounds to show
    assert one.kept == 100 and one.replayed.value == 1.0  # the rarest action's rows are always kept
    assert zero.max_weight == 1.25 and one.max_weight == 5.0
    assert one.final["ips"].value == pytest.approx(100 * 5.0 / HELD)
    assert one.warnings == ("estimates outside the rewards' range [0, 1]: IPS (2.5), DR (1.004); they rest on few or heavy "
                            "weights and should not be read as values",)
    assert not zero.evaluable and zero.matched == 100  # fewer than 100 kept rounds: nothing shown
    assert not any(e.known for e in zero.final.values()) and not zero.replayed.known
    assert zero.problem.startswith(f"rejection sampling kept {zero.kept} of the 100 learning rows that matched its "
                                   "choices (at least 100 needed)")
    assert "p_min = 0.2, makes that about 25.00% here" in zero.problem


def test_continuous_rewards_are_not_clipped_to_zero_and_one(tmp_path: Path) -> None:
    result = run(write_log(tmp_path, rewards=CONTINUOUS_REWARDS), Zero)
    zero = result.results[0]
    assert not result.info.binary and result.logging.value == 3.25
    assert zero.replayed.value == 1.5 and zero.final["ips"].value == pytest.approx(1.5)
    theta_even, theta_odd = (REPEATS * (r - 3.25) / (REPEATS + 1) for r in (3, 0))  # action 0's ridge fit on each fold
    assert zero.final["dm"].value == pytest.approx(3.25 + (theta_even + theta_odd) / 2)
    assert zero.final["dr"].value == pytest.approx(1.5)


def test_a_learner_stuck_on_an_action_the_log_never_contains(tmp_path: Path) -> None:
    result = run(write_log(tmp_path), Absent, Zero, n_actions=3)
    absent = by_id(result)["absent"]
    assert result.info.counts == (200, 200, 0)
    assert (absent.kept, absent.selections, absent.stalled, absent.unsupported) == (0, 200, 1.0, 1.0)
    assert absent.replayed == UNKNOWN or np.isnan(absent.replayed.value)
    assert not absent.replayed_gain.known
    assert absent.problem == ("it keeps choosing actions the logs never contain (actions 2); the logging policy "
                              "never tried them, so no log can say what they earn")
    assert [r.id for r in result.results] == ["zero", "absent"]  # unevaluable last
    assert result.warnings == ("the logging policy never played actions 2: no policy that needs them can be "
                               "evaluated",)
    assert absent.max_weight == 0.0 and absent.ess == 0.0
    assert absent.warnings == () and not any(e.known for e in absent.final.values())  # nothing shown


def test_unevaluable_learners_come_last_those_without_a_replayed_reward_after_the_others(tmp_path: Path) -> None:
    path = write_log(tmp_path, propensities=(0.8, 0.8, 0.2, 0.2))
    result = run(path, Absent, Zero, One, n_actions=3, seed=3)
    assert [(r.id, r.evaluable) for r in result.results] == [("one", True), ("zero", False), ("absent", False)]


def test_progress_is_reported_per_chunk_and_seed_zero_is_the_default(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    with logs.read_logs(write_log(tmp_path), chunk_rows=64) as store:
        result = evaluate(store, [spec(Zero)], progress=lambda *step: seen.append(step))
    steps = [*range(64, ROWS, 64), ROWS]
    assert seen == [("replay", n, ROWS) for n in steps] + [("score", n, ROWS) for n in steps]
    assert result.seed == 0 and result.results[0].final_gain == run(write_log(tmp_path), Zero).results[0].final_gain


def test_a_learner_that_writes_into_its_state_is_scored_from_copies(tmp_path: Path) -> None:
    counting, zero = (run(write_log(tmp_path), Counting, Zero).results[i] for i in (0, 1))
    assert counting.kept == zero.kept and repr(counting.final) == repr(zero.final)  # (DM's interval is nan)
    assert counting.final_gain == zero.final_gain


# --- problems, warnings and verdicts, at their boundaries ---------------------------------------------------------

def info(rows: int = 10_000, counts: tuple[int, ...] = (5000, 5000), uniform: bool = True, near_zero: float = 0.0,
         projected: bool = False, min_propensity: float = 0.5) -> LogInfo:
    actions = tuple(str(i) for i in range(len(counts)))
    return LogInfo("x.csv", rows, actions, counts, "a", "r", "p", None, (), (), (), 1, projected, min_propensity,
                   near_zero, uniform, 0.1, True)


def candidate(name: str = "X", gain: Estimate = Estimate(0.0, -0.01, 0.01), problem: str = "", ess: float = 5000.0,
              unsupported: float = 0.0, final: dict[str, Estimate] | None = None) -> CandidateResult:
    same = Estimate(0.1, 0.09, 0.11)
    return CandidateResult(name.lower(), name, False, 500, 5000, same, gain,
                           final or {"ips": same, "snips": same, "dm": same, "dr": same}, gain, ess, 2.0,
                           unsupported, 0.0, (), 0.1, problem)


def test_keep_rate() -> None:
    assert _keep_rate(info(counts=(1, 1, 1, 1))) == 0.25
    assert _keep_rate(info(uniform=False, min_propensity=0.1)) == 0.1


def learned(kept: int, matched: int | None = None, expected: float = 0.0, rows: int = 1000) -> Learned:
    return Learned(kept, kept if matched is None else matched, expected, rows)


@pytest.mark.parametrize("kept, unsupported, stalled, start", [
    (MIN_KEPT - 1, 0.0, 0.51, "it keeps choosing actions the logs never contain (actions 1)"),
    (MIN_KEPT - 1, 0.0, 0.5, "only 99 of the 1000 learning rows matched its choices, 99 kept (at least 100 needed)"),
    (MIN_KEPT, 0.0, 0.9, ""),
    (MIN_KEPT, 0.051, 0.0, "its final policy chooses actions the logs never contain (actions 1) in 5% of rows"),
    (MIN_KEPT - 1, 0.06, 0.0, "its final policy chooses actions the logs never contain (actions 1) in 6% of rows"),
    (MIN_KEPT, 0.05, 0.0, ""),
])
def test_problem_thresholds(kept: int, unsupported: float, stalled: float, start: str) -> None:
    why, remedy = problem(learned(kept), info(counts=(10, 0)), unsupported, stalled)
    assert why.startswith(start) and bool(why) == bool(start) == bool(remedy)
    assert MIN_KEPT == 100


def test_problem_messages_in_full() -> None:
    assert problem(learned(99), info(), 0.0, 0.0) == (
        "only 99 of the 1000 learning rows matched its choices, 99 kept (at least 100 needed)",
        "use a longer log (about 1,010 learning rows) or a more exploratory logging policy")
    assert problem(learned(100), info(counts=(1, 0)), 0.25, 0.0) == (
        "its final policy chooses actions the logs never contain (actions 1) in 25% of rows; their rewards "
        "cannot be estimated from these logs", "log with a policy that tries every action now and then")
    rejected = problem(learned(3, 800, 4.0), info(uniform=False, min_propensity=4.5e-05), 0.0, 0.0)
    assert rejected == (
        "rejection sampling kept 3 of the 800 learning rows that matched its choices (at least 100 needed): a "
        "matching row is kept with probability p_min / p, and the smallest logged propensity, p_min = 4.5e-05, "
        "makes that about 0.50% here",
        "importance-weighted replay (--replay-method weighted), log with a policy whose propensities stay well "
        "above 4.5e-05 (more exploratory logging), drop the rows with tiny propensities, or use a log of about "
        "25,000 learning rows")
    # on uniform logs, or when few rows matched at all, it is the matching that is short
    assert problem(learned(3, 99, 4.0), info(uniform=False), 0.0, 0.0)[0].startswith("only 99 of the 1000")


def test_few_names_five_labels_and_counts_the_rest() -> None:
    assert few(["a"]) == "actions a"
    assert few(list("abcde")) == "actions a, b, c, d, e"
    assert few(list("abcdefg")) == "actions a, b, c, d, e and 2 more"
    assert few(list("abc"), limit=2) == "actions a, b and 1 more"


def _warnings(result: CandidateResult, log: LogInfo) -> tuple[str, ...]:
    return warnings(result, log, log.rows, (0.0, 1.0))


def test_warnings_at_their_thresholds() -> None:
    assert _warnings(candidate(ess=200.0), info(rows=20_000)) == ()
    low_ess = _warnings(candidate(ess=199.4), info(rows=20_000))
    assert low_ess == ("effective sample size of the final policy's weights is 199 of 20000 held-out rows: its IPS "
                       "and DR estimates rest on few rows",)
    assert _warnings(candidate(ess=99.0), info(rows=200))[0].startswith("effective sample size")
    assert _warnings(candidate(ess=100.0), info(rows=200)) == ()
    assert _warnings(candidate(unsupported=0.05), info()) == (
        "the final policy picks actions the logs never contain in 5.0% of rows; those rewards are invisible to "
        "IPS and DR",)
    assert _warnings(candidate(unsupported=0.051), info()) == ()  # that is a problem, not a warning
    assert _warnings(candidate(unsupported=0.0), info()) == ()
    unscored = replace(candidate(ess=0.0), final_problem="only 3 of the 200 held-out rows match")
    assert _warnings(unscored, info()) == ("its final policy is not scored: only 3 of the 200 held-out rows match",)


def test_estimates_disagree_only_beyond_touching_intervals() -> None:
    e = Estimate
    nan = float("nan")
    touching = {"ips": e(0.10, 0.09, 0.11), "snips": e(0.1, 0.0, 1.0), "dm": e(0.11, nan, nan),
                "dr": e(0.11, 0.11, 0.11)}
    assert _warnings(candidate(final=touching), info()) == ()
    apart = dict(touching, dr=e(0.2, 0.19, 0.21))
    assert _warnings(candidate(final=apart), info()) == (
        "the final policy's IPS (0.1000) and DR (0.2000) estimates disagree beyond their intervals: the importance "
        "weights may be too heavy; DR is the safer read",
        "the direct method's estimate (0.1100) lies outside DR's interval (0.1900 to 0.2100): the reward model is "
        "off on the held-out rows (DR corrects it); DM has no interval of its own")
    no_interval = dict(apart, dr=e(0.2, nan, nan))
    assert _warnings(candidate(final=no_interval), info()) == ()
    unknown = dict(apart, dr=UNKNOWN, ips=e(0.5, 0.49, 0.51))
    assert _warnings(candidate(final=unknown), info()) == ()


def test_log_warnings() -> None:
    assert log_warnings(info()) == ()
    assert log_warnings(info(near_zero=0.0123, counts=(3, 0, 0), projected=True)) == (
        "1.23% of rows have a propensity under 1% of uniform play: their importance weights are huge, and "
        "rejection-sampling replay keeps few rows",
        "the logging policy never played actions 1, 2: no policy that needs them can be evaluated",
        "the context was reduced to 0 features by a random projection")  # (the intercept is not a feature)


def result_of(*candidates: CandidateResult) -> ReplayResult:
    return ReplayResult(info(), "replay", 0, Estimate(0.5, 0.45, 0.55), tuple(candidates), (), (),
                        learning_rows=5000, logging_heldout=Estimate(0.52, 0.47, 0.57))


def test_the_verdict_is_significant_or_cannot_tell_with_the_rows_a_test_needs() -> None:
    lines = verdict(result_of(
        candidate("Better", Estimate(0.1, 0.001, 0.2)), candidate("TouchesLow", Estimate(0.1, 0.0, 0.2)),
        candidate("TouchesHigh", Estimate(-0.1, -0.2, 0.0)), candidate("Worse", Estimate(-0.1, -0.2, -0.001)),
        replace(candidate("Spread", Estimate(0.0, -0.2, 0.2)), rows_needed=12345.4, effect=0.05),
        candidate("Short", Estimate(0.1, float("nan"), float("nan"))),
        replace(candidate("Broken", problem="it cannot"), remedy="log more")))
    assert lines == (
        "The logging policy earned 0.5000 per decision on the 5,000 learning rows (0.4500 to 0.5500, 95%) and "
        "0.5200 on the 5,000 held-out rows.",
        "Beat the logging policy with 95% confidence while learning: Better (+0.1000, +0.0010 to +0.2000).",
        "Cannot tell from the logging policy: TouchesLow (+0.1000, +0.0000 to +0.2000; no log length would tell); "
        "TouchesHigh (-0.1000, -0.2000 to +0.0000; no log length would tell); Spread (+0.0000, -0.2000 to "
        "+0.2000; telling a difference of 10% of the logging policy's reward (+0.05) at 95% confidence with 80% "
        "power needs about 12,345 learning rows).",
        "Earned less than the logging policy with 95% confidence while learning: Worse (-0.1000, -0.2000 to "
        "-0.0010).",
        "Cannot be evaluated on these logs: Short: too few replayed rounds for an interval; Broken: it cannot; "
        "to fix: log more.")


def test_the_verdict_says_only_what_applies() -> None:
    first = ("The logging policy earned 0.5000 per decision on the 5,000 learning rows (0.4500 to 0.5500, 95%) and "
             "0.5200 on the 5,000 held-out rows.")
    assert verdict(result_of()) == (first,)
    two = verdict(result_of(candidate("A", Estimate(0.2, 0.1, 0.3)), candidate("B", Estimate(0.3, 0.2, 0.4))))
    assert two[1:] == ("Beat the logging policy with 95% confidence while learning: A (+0.2000, +0.1000 to "
                       "+0.3000); B (+0.3000, +0.2000 to +0.4000).",)
    worse = verdict(result_of(candidate("A", Estimate(-0.2, -0.3, -0.1))))
    assert worse[1:] == ("Earned less than the logging policy with 95% confidence while learning: A (-0.2000, "
                         "-0.3000 to -0.1000).",)
    observed = verdict(result_of(replace(candidate("A", Estimate(0.01, -0.1, 0.12)), rows_needed=99.6,
                                         effect=0.01)))
    assert observed[1].endswith("telling a difference of this size at 95% confidence with 80% power needs about "
                                "100 learning rows).")


def test_the_verdict_on_a_replayed_log(tmp_path: Path) -> None:
    result = run(write_log(tmp_path), One, Zero)
    one, zero = by_id(result)["one"], by_id(result)["zero"]
    assert one.replayed_gain.low > 0 > zero.replayed_gain.high  # 0.25 above and below, 100 rounds each
    gain, loss = one.replayed_gain, zero.replayed_gain
    assert verdict(result)[1:] == (
        f"Beat the logging policy with 95% confidence while learning: One (+0.2500, {gain.low:+.4f} to "
        f"{gain.high:+.4f}).", "Earned less than the logging policy with 95% confidence while learning: Zero "
        f"(-0.2500, {loss.low:+.4f} to {loss.high:+.4f}).")
    assert verdict(replace(result, results=(replace(one, problem="x", remedy="y"),)))[1:] == (
        "Cannot be evaluated on these logs: One: x; to fix: y.",)


# --- the learner's problem, its random stream and its state's rows --------------------------------------------------

@dataclass(frozen=True)
class Recording(Fixed):
    """Keeps the problem it was made for in its state."""

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        state = super().init(problem, rng)
        state.problem = problem  # type: ignore[attr-defined]  # read back by the test
        return state


@dataclass(frozen=True)
class ContextualRecording(Recording):
    kinds = frozenset({"contextual"})


def problem_of(path: Path, cls: type[Fixed]) -> Problem:
    with logs.read_logs(path) as store:
        return replay.Replay(store.info, [spec(cls)], 0).learners[0].state.problem  # type: ignore[attr-defined]


def test_a_learner_is_made_for_the_log_it_replays(tmp_path: Path) -> None:
    arms = Problem("arms", "binary", 2, 1, 1, ROWS // 2, 1, "stationary", "immediate", 1, 1, "none", "cumulative")
    assert problem_of(write_log(tmp_path), Recording) == arms  # it keeps about one row in two
    assert problem_of(write_log(tmp_path), ContextualRecording) == replace(arms, kind="contextual")
    assert problem_of(write_log(tmp_path, rewards=CONTINUOUS_REWARDS), Recording) == replace(arms, reward="continuous")
    rejection = write_log(tmp_path, propensities=(0.8, 0.8, 0.2, 0.2))
    assert problem_of(rejection, Recording) == replace(arms, rounds=int(ROWS * 0.2))  # p_min of the rows kept
    one_row = tmp_path / "one.csv"
    one_row.write_text("action,reward,propensity\n0,1,0.5\n")
    assert problem_of(one_row, Recording).rounds == 1


def test_a_learners_random_stream_comes_from_the_seed_and_its_id() -> None:
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, 3, zlib.crc32(b"ucb1")])))
    assert replay.streams(7, "ucb1").random(3).tolist() == expected.random(3).tolist()


def test_a_one_row_log_counts_its_one_selection(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("action,reward,propensity\n0,1,0.5\n")
    absent = run(path, Absent, n_actions=3).results[0]
    assert (absent.selections, absent.stalled, absent.kept) == (1, 1.0, 0)


def test_one_row_of_a_state_made_during_select() -> None:
    rng = np.random.default_rng(0)
    made = Problem("arms", "binary", 2, 1, 1, 10, 3, "stationary", "immediate", 1, 1, "none", "cumulative")
    inner = Counted(rng, 3, 2, pulls=np.array([1, 2, 3]))
    inner.problem = made  # type: ignore[attr-defined]
    outer = Counted(rng, 3, 2, pulls=np.array([4, 5, 6]), selects=np.arange(6).reshape(3, 2), last=np.array([9, 9]))
    outer.inner = inner  # type: ignore[attr-defined]
    cut = replay._one_row(outer, 3, 1)
    assert cut.R == 1 and cut.pulls.tolist() == [5] and cut.selects.tolist() == [[2, 3]]  # type: ignore
    assert cut.last is outer.last  # type: ignore[attr-defined]  # not one row per repetition: kept whole
    cut_inner = cut.inner  # type: ignore[attr-defined]
    assert cut_inner.R == 1 and cut_inner.pulls.tolist() == [2] and cut_inner.problem == replace(made, reps=1)
    assert outer.R == 3 and outer.pulls.tolist() == [4, 5, 6] and inner.R == 3  # the state cut from is unchanged


def test_row_bytes_of_a_state_and_the_states_it_holds() -> None:
    rng = np.random.default_rng(0)
    inner = Counted(rng, 1, 2, pulls=np.zeros(1), selects=np.zeros((1, 4)))
    outer = Counted(rng, 1, 2, pulls=np.zeros((1, 3)))
    outer.inner = inner  # type: ignore[attr-defined]
    layout = replay.Layout({"pulls", "missing"}, {"inner": replay.Layout({"pulls", "selects"}, {})})
    assert layout.row_bytes(outer) == 3 * 8 + (1 + 4) * 8


def test_importance_weighted_replay_keeps_every_matching_row_and_weighs_it(tmp_path: Path) -> None:
    """Action 0 logged with propensity 0.8 (weight 1 / (2 x 0.8) = 0.625), action 1 with 0.2 (weight 2.5, clipped
    at 2): every matching learning row is kept, the replayed reward is the weighted mean, and clipping's share of
    the weight mass bounds its bias, which widens the intervals."""
    path = write_log(tmp_path, propensities=(0.8, 0.8, 0.2, 0.2))
    with logs.read_logs(path) as store:
        result = evaluate(store, [spec(Zero), spec(One)], 0, method="weighted", clip=2.0)
    assert result.method == "importance-weighted replay (weights 1 / (K p) clipped at 2)"
    zero, one = by_id(result)["zero"], by_id(result)["one"]
    assert zero.kept == zero.matched == 100 and one.kept == one.matched == 100
    assert zero.replayed.value == 0.5 and zero.clipped_share == 0 and zero.bias_bound == 0
    assert zero.replayed_ess == pytest.approx(100)  # equal weights
    assert one.replayed.value == 1.0 and one.clipped_share == pytest.approx(0.2) and one.bias_bound == pytest.approx(0.2)
    assert one.replayed.low <= 0.8 and one.replayed.high >= 1.2  # widened by the bound on both sides
    assert zero.curve[-1] == pytest.approx(0.5) and one.curve[-1] == pytest.approx(1.0)
    assert any(w.startswith("clipping removed 20.0% of its replay's weight mass") for w in one.warnings)
    rejection = run(path, Zero, One, seed=3)
    assert rejection.method == "rejection-sampling replay" and by_id(rejection)["zero"].kept < 100


def test_the_replay_method_auto_weighs_only_when_rejection_would_keep_almost_nothing() -> None:
    from banditmap.ope.replay import replay_method
    assert replay_method(info(counts=(1, 1)), "weighted") == "uniform"  # uniform logs: plain replay
    skewed = info(uniform=False, min_propensity=0.2)
    assert replay_method(skewed, "auto") == "rejection" and replay_method(skewed, "weighted") == "weighted"
    assert replay_method(replace(skewed, near_zero=0.001), "auto") == "weighted"
    assert replay_method(replace(skewed, estimated=True), "auto") == "weighted"
    assert replay_method(replace(skewed, near_zero=0.001), "rejection") == "rejection"


def test_weights_that_leave_too_few_effective_rounds_are_a_stated_reason() -> None:
    assert problem(Learned(200, 200, 200.0, 1000, ess=99.6), info(uniform=False), 0.0, 0.0) == (
        "importance-weighted replay kept all 200 matching rounds, but their weights leave an effective 100 (at least "
        "100 needed): a few rows with tiny propensities carry most of the weight",
        "clip the weights harder (--clip, more bias, stated), or log with a more exploratory policy")
    assert problem(Learned(200, 200, 200.0, 1000, ess=100.0), info(uniform=False), 0.0, 0.0) == ("", "")
