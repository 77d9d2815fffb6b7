"""Replays learning algorithms on logged feedback and scores their final policies with off-policy estimators.

Learners are replayed in the sense of Li, Chu, Langford and Wang (WSDM 2011): the learner picks an action for
each logged context in turn, and only the rounds where its pick equals the logged action count: it learns from
them and they make its replayed reward. On logs from a non-uniform policy a matching round is kept with
probability p_min / p (rejection sampling, Dudik, Erhan, Langford and Li, UAI 2012), which makes the kept
rounds look as if they were logged uniformly at random, so the learner's history is distributed as in a live run.

Between two kept rounds the learner's state does not change, so its picks for the next stretch of rows are made
at once: the state is broadcast over the stretch (one row per logged context), and the first kept row's copy of
whatever `select` wrote becomes the learner's state. The policies are the simulator's, unchanged; a composed
candidate's adapters are the simulator's wrappers, whose states hold their base's state (`inner`), broadcast and
kept the same way, layer by layer.

After the log, each learner's final policy (exploration off: the arm it would commit to, or the action with the
best predicted reward for the context) is scored on every row with IPS, self-normalised IPS, the direct method
and doubly robust estimates.
"""

from __future__ import annotations

import copy
import time
import zlib
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
from numba.core.errors import TypingError

from banditmap.ope.estimators import (BLOCKS, UNKNOWN, BlockSums, Estimate, Resampler, RewardModel, block_of,
                                      effective_sample_size, interval, policy_terms)
from banditmap.ope.logs import Chunk, LogInfo, LogStore
from banditmap.sim.kernels import rng as kernel_rng
from banditmap.sim.policies import Feedback, Policy, State
from banditmap.sim.problem import Problem
from banditmap.sim.runner import Progress, RunSpec

Array = np.ndarray
MIN_KEPT = 100  # fewer kept rounds than this and a learner's replayed reward says nothing
CHECKPOINTS = 200
MAX_SCORE_ROWS = 4096  # rows scored at once by a frozen final policy
SCORE_BYTES = 2 ** 26  # memory for a frozen policy's state broadcast over those rows (when it must be copied)
ESS_WARNING = 0.01  # an effective sample size under 1% of the rows makes an estimate fragile


@dataclass(frozen=True)
class CandidateResult:
    id: str
    name: str
    contextual: bool  # whether the learner saw the context
    kept: int  # rounds the learner was evaluated on
    selections: int  # rows the learner picked an action for
    replayed: Estimate  # reward per decision while learning
    replayed_gain: Estimate  # replayed minus the logging policy's reward, paired bootstrap
    final: dict[str, Estimate]  # ips, snips, dm, dr of the learner's final policy
    final_gain: Estimate  # dr minus the logging policy's reward, paired bootstrap
    ess: float  # effective sample size of the final policy's importance weights
    max_weight: float
    unsupported: float  # share of rows where the final policy picks an action the logs never contain
    stalled: float  # share of the learner's picks that were actions the logs never contain
    curve: tuple[float, ...]  # running replayed reward at the checkpoints
    seconds: float
    problem: str = ""  # why it cannot be evaluated; empty when it can
    warnings: tuple[str, ...] = ()

    @property
    def evaluable(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class ReplayResult:
    info: LogInfo
    method: str  # "replay" (uniform logs) or "rejection-sampling replay"
    seed: int
    logging: Estimate  # the logging policy's own reward per decision
    results: tuple[CandidateResult, ...]  # best replayed reward first, unevaluable last
    checkpoints: tuple[int, ...]  # log rows at which the curves are sampled
    logging_curve: tuple[float, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()


def streams(seed: int, candidate_id: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 3, zlib.crc32(candidate_id.encode())])))


@dataclass
class Layout:
    """Which attributes of a state hold one row per repetition (`per_rep`, grown when `select` is seen to write
    more), and the layouts of the states it holds by attribute (a wrapper's base state, `inner`)."""

    per_rep: set[str]
    nested: dict[str, Layout]

    def row_bytes(self, state: State) -> int:
        """Bytes of one repetition's rows of the state, its nested states included."""
        own = sum(value.nbytes for name in self.per_rep
                  if isinstance(value := getattr(state, name, None), np.ndarray))
        return own + sum(layout.row_bytes(getattr(state, name)) for name, layout in self.nested.items())


class Learner:
    """One candidate being replayed: its state (one repetition), and what it has earned so far."""

    def __init__(self, candidate: RunSpec, info: LogInfo, seed: int) -> None:
        self.candidate = candidate
        self.policy = candidate.policy
        self.contextual = "contextual" in self.policy.kinds
        kind = "contextual" if self.contextual else "arms"
        problem = Problem(kind=kind, reward="binary" if info.binary else "continuous", n_arms=info.n_actions,
                          n_features=info.features, slate_size=1, rounds=max(1, int(info.rows * _keep_rate(info))),
                          reps=1, dynamics="stationary", delay="immediate", mean_delay=1, batch_size=1,
                          constraint="none", objective="cumulative")
        self.state = self.policy.init(problem, streams(seed, candidate.id))
        self.layout = _per_rep_fields(self.policy, problem)
        self.copying = False  # True once select was seen to write into its state: broadcast views won't do
        self.kept = 0
        self.selections = 0
        self.unsupported = 0
        self.gap = float(info.n_actions)  # rows per kept round, running estimate
        self.last = -1  # the last kept row
        self.created: dict[str, Array] = {}  # the broadcast views handed to the last `select`, by dotted path
        self.views: dict[str, State] = {}  # the nested state views handed to it, by dotted path
        self.seconds = 0.0

    def view(self, m: int, first: int) -> State:
        """The state broadcast over m rows (read-only views, or copies for policies that write in select); random
        streams get one of their own per row, derived from the row's place in the log (`first` is the first's),
        so that how the log is cut into stretches and chunks changes nothing."""
        self.created, self.views = {}, {}
        return self._view(self.state, self.layout, m, "", np.arange(first, first + m, dtype=np.int64))

    def _view(self, state: State, layout: Layout, m: int, path: str, positions: Array) -> State:
        view = copy.copy(state)
        for name in layout.per_rep:
            value = getattr(state, name, None)
            if isinstance(value, np.ndarray) and value.dtype == np.uint64 and value.ndim == 1:
                setattr(view, name, kernel_rng.split(value[0], positions))  # random streams: one per row
            elif isinstance(value, np.ndarray):
                wide = np.broadcast_to(value, (m,) + value.shape[1:])
                if self.copying:
                    wide = wide.copy()
                else:
                    self.created[path + name] = wide
                setattr(view, name, wide)
        for name, inner in layout.nested.items():
            nested = self._view(getattr(state, name), inner, m, f"{path}{name}.", positions)
            self.views[path + name] = nested
            setattr(view, name, nested)
        for name, value in vars(state).items():
            if isinstance(value, Problem):  # kept to start a base afresh: it must make m rows too
                setattr(view, name, replace(value, reps=m))
        view.R = m
        view.aux = None
        return view

    def pick(self, m: int, contexts: Array | None, first: int, final: bool = False) -> tuple[State, Array]:
        """Picks for m rows from the current state, the first at row `first` of the log; `final` asks for the
        policy with exploration off."""
        choose = self.policy.exploit if final else self.policy.select
        while True:
            view = self.view(m, first)
            try:
                return view, np.asarray(choose(view, contexts if self.contextual else None))
            except (ValueError, TypingError) as exc:  # NumPy, or a compiled kernel, writing into a view
                if self.copying or ("read-only" not in str(exc) and "readonly" not in str(exc)):
                    raise
                self.copying = True

    def commit(self, view: State, row: int) -> None:
        """Make the picking row's copy of the state the learner's state."""
        self._commit(self.state, view, self.layout, row, "")

    def _commit(self, state: State, view: State, layout: Layout, row: int, path: str) -> None:
        for name, value in vars(view).items():
            if name in ("R", "rng") or isinstance(value, Problem):  # the state keeps its own problem
                continue
            if name in layout.nested:
                handed = self.views.get(path + name)
                if handed is not None and value is handed:
                    self._commit(getattr(state, name), handed, layout.nested[name], row, f"{path}{name}.")
                else:  # select made a new one (a restart): the row's copy of it
                    setattr(state, name, _one_row(value, view.R, row))
            elif isinstance(value, np.ndarray) and value.ndim and value.shape[0] == view.R:
                layout.per_rep.add(name)
                if value is not self.created.get(path + name):  # written by select (or a copy): keep the row's
                    setattr(state, name, np.array(value[row:row + 1]))
            elif name not in layout.per_rep:
                setattr(state, name, value)


def _one_row(state: State, reps: int, row: int) -> State:
    """A state made during `select` for `reps` rows, cut to the given row (its nested states too)."""
    out = copy.copy(state)
    for name, value in vars(state).items():
        if isinstance(value, State):
            setattr(out, name, _one_row(value, reps, row))
        elif isinstance(value, Problem):
            setattr(out, name, replace(value, reps=1))
        elif isinstance(value, np.ndarray) and value.ndim and value.shape[0] == reps:
            setattr(out, name, np.array(value[row:row + 1]))
    out.R = 1
    return out


def _per_rep_fields(policy: Policy[Any], problem: Problem) -> Layout:
    """Array attributes with one row per repetition: those whose first axis follows the number of repetitions;
    for a wrapper, the same for the states it holds."""
    return _layout(policy.init(replace(problem, reps=2), np.random.default_rng(0)),
                   policy.init(replace(problem, reps=3), np.random.default_rng(0)))


def _layout(two: State, three: State) -> Layout:
    other = vars(three)
    per_rep = {name for name, value in vars(two).items()
               if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == 2
               and isinstance(other.get(name), np.ndarray) and other[name].shape[0] == 3}
    nested = {name: _layout(value, other[name]) for name, value in vars(two).items()
              if isinstance(value, State) and isinstance(other.get(name), State)}
    return Layout(per_rep, nested)


def _keep_rate(info: LogInfo) -> float:
    """Expected share of rows a learner keeps: 1 / actions on uniform logs, less after rejection sampling."""
    return info.min_propensity if not info.uniform else 1.0 / info.n_actions


class Replay:
    """The three passes' shared state: learners, reward model, block sums and checkpoints."""

    def __init__(self, info: LogInfo, candidates: Sequence[RunSpec], seed: int) -> None:
        self.info, self.seed = info, seed
        self.learners = [Learner(c, info, seed) for c in candidates]
        self.blocks = min(BLOCKS, info.rows)
        names = ("reward", "rows") + tuple(f"{c.id}:{k}" for c in candidates for k in ("kept_reward", "kept"))
        self.sums = BlockSums(self.blocks, names)
        rewards_low, rewards_high = (0.0, 1.0) if info.binary else (-np.inf, np.inf)
        self.model = RewardModel(info.n_actions, info.features, info.mean_reward, rewards_low, rewards_high)
        self.coins = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 5])))
        self.checkpoints = np.unique(np.linspace(1, info.rows, min(info.rows, CHECKPOINTS)).round().astype(int))
        self.curves = np.full((len(candidates), len(self.checkpoints)), np.nan)
        self.logging_curve = np.zeros(len(self.checkpoints))
        self.earned = np.zeros(len(candidates))
        self.reward_total = 0.0  # the logging policy's reward over the rows read so far
        self.supported = np.array(info.counts) > 0

    # --- pass 2: replay ---------------------------------------------------------------------------------------

    def replay_chunk(self, chunk: Chunk) -> None:
        n = len(chunk)
        rows = np.arange(chunk.start, chunk.start + n)
        block = block_of(rows, self.info.rows, self.blocks)
        self.sums.add("reward", block, chunk.rewards)
        self.sums.add("rows", block)
        self.model.add(rows, chunk.actions, chunk.rewards, chunk.contexts)
        accept = np.ones(n, dtype=bool) if self.info.uniform else \
            self.coins.random(n) < self.info.min_propensity / chunk.propensities
        for index, learner in enumerate(self.learners):
            started = time.perf_counter()
            kept_rows = self._replay_learner(learner, chunk, accept)
            kept_block = block[kept_rows]
            self.sums.add(f"{learner.candidate.id}:kept_reward", kept_block, chunk.rewards[kept_rows])
            self.sums.add(f"{learner.candidate.id}:kept", kept_block)
            self._checkpoint(index, rows[kept_rows], chunk.rewards[kept_rows], chunk.start, n)
            learner.seconds += time.perf_counter() - started
        cumulative = self.reward_total + np.cumsum(chunk.rewards)
        at = (self.checkpoints > chunk.start) & (self.checkpoints <= chunk.start + n)
        self.logging_curve[at] = cumulative[self.checkpoints[at] - 1 - chunk.start] / self.checkpoints[at]
        if n:
            self.reward_total = float(cumulative[-1])

    def _replay_learner(self, learner: Learner, chunk: Chunk, accept: Array) -> Array:
        """Walk the chunk, returning the indices of the rows the learner kept."""
        kept: list[int] = []
        i, n = 0, len(chunk)
        while i < n:
            m = int(min(n - i, max(4, min(2048, 2 * learner.gap))))
            contexts = chunk.contexts[i:i + m]
            view, picks = learner.pick(m, contexts, chunk.start + i)
            learner.selections += m
            match = (picks == chunk.actions[i:i + m]) & accept[i:i + m]
            if not match.any():
                learner.unsupported += int((~self.supported[picks]).sum())
                i += m
                continue
            j = int(np.argmax(match))
            learner.selections -= m - j - 1
            learner.unsupported += int((~self.supported[picks[:j]]).sum())
            learner.commit(view, j)
            learner.state.t += 1
            row = i + j
            aux = None if view.aux is None else np.asarray(view.aux)[j:j + 1]
            learner.policy.update(learner.state, Feedback(
                np.zeros(1, dtype=np.int64), chunk.actions[row:row + 1], chunk.rewards[row:row + 1],
                chunk.contexts[row:row + 1] if learner.contextual else None, aux, unique=True))
            kept.append(row)
            learner.kept += 1
            learner.gap += (chunk.start + row - learner.last - learner.gap) * 0.05
            learner.last = chunk.start + row
            i = row + 1
        return np.array(kept, dtype=np.int64)

    def _checkpoint(self, index: int, kept_rows: Array, kept_rewards: Array, start: int, n: int) -> None:
        """Running replayed reward at the checkpoints that fall in this chunk."""
        learner = self.learners[index]
        before = learner.kept - len(kept_rows)
        earned_before = self.earned[index]
        self.earned[index] += kept_rewards.sum()
        at = np.flatnonzero((self.checkpoints > start) & (self.checkpoints <= start + n))
        if not len(at):
            return
        upto = np.searchsorted(kept_rows, self.checkpoints[at] - 1, side="right")  # kept rows before each point
        sums = earned_before + np.r_[0.0, np.cumsum(kept_rewards)][upto]
        counts = before + upto
        with np.errstate(invalid="ignore", divide="ignore"):
            self.curves[index, at] = np.where(counts > 0, sums / counts, np.nan)

    # --- pass 3: score the final policies --------------------------------------------------------------------

    def score_chunk(self, chunk: Chunk, scores: BlockSums, max_weight: dict[str, float]) -> None:
        n = len(chunk)
        rows = np.arange(chunk.start, chunk.start + n)
        block = block_of(rows, self.info.rows, self.blocks)
        predicted = self.model.predict(rows, chunk.contexts)
        for learner in self.learners:
            chosen = self._frozen_choices(learner, chunk)
            terms = policy_terms(chosen, chunk.actions, chunk.rewards, chunk.propensities, predicted)
            key = learner.candidate.id
            for name in ("ips", "weight", "dm", "dr"):
                scores.add(f"{key}:{name}", block, getattr(terms, name))
            scores.add(f"{key}:weight_squared", block, terms.weight ** 2)
            scores.add(f"{key}:unsupported", block, (~self.supported[chosen]).astype(float))
            max_weight[key] = max(max_weight[key], float(terms.weight.max()))

    def _frozen_choices(self, learner: Learner, chunk: Chunk) -> Array:
        per_row = learner.layout.row_bytes(learner.state)
        step = MAX_SCORE_ROWS if not learner.copying else max(1, min(MAX_SCORE_ROWS, SCORE_BYTES // max(per_row, 1)))
        out = np.empty(len(chunk), dtype=np.int64)
        for i in range(0, len(chunk), step):
            _, picks = learner.pick(min(step, len(chunk) - i), chunk.contexts[i:i + step], chunk.start + i, final=True)
            out[i:i + step] = picks
        return out


def evaluate(store: LogStore, candidates: Sequence[RunSpec], seed: int = 0,
             progress: Progress | None = None, skipped: Sequence[tuple[str, str]] = ()) -> ReplayResult:
    """Replay every candidate on the log, then score its final policy; returns everything the report needs."""
    info = store.info
    replay = Replay(info, candidates, seed)
    for chunk in store.chunks():
        replay.replay_chunk(chunk)
        if progress is not None:
            progress("replay", chunk.start + len(chunk), info.rows)
    replay.model.fit()
    names = tuple(f"{c.id}:{k}" for c in candidates
                  for k in ("ips", "weight", "weight_squared", "dm", "dr", "unsupported"))
    scores = BlockSums(replay.blocks, names)
    max_weight = {c.id: 0.0 for c in candidates}
    for chunk in store.chunks():
        replay.score_chunk(chunk, scores, max_weight)
        if progress is not None:
            progress("score", chunk.start + len(chunk), info.rows)
    return summarise(replay, scores, max_weight, tuple(skipped))


def summarise(replay: Replay, scores: BlockSums, max_weight: dict[str, float],
              skipped: tuple[tuple[str, str], ...]) -> ReplayResult:
    info, sums = replay.info, replay.sums.sums
    boot = Resampler.make(replay.blocks, replay.seed)
    logging, logging_draws = boot.ratio(sums["reward"], sums["rows"])
    rows = sums["rows"]
    results = []
    for index, learner in enumerate(replay.learners):
        key = learner.candidate.id
        replayed, replayed_draws = boot.ratio(sums[f"{key}:kept_reward"], sums[f"{key}:kept"])
        final = {}
        drafts = {}
        for name in ("ips", "dm", "dr"):
            final[name], drafts[name] = boot.ratio(scores.sums[f"{key}:{name}"], rows)
        final["snips"], _ = boot.ratio(scores.sums[f"{key}:ips"], scores.sums[f"{key}:weight"])
        weight_sum = scores.total(f"{key}:weight")
        ess = effective_sample_size(weight_sum, scores.total(f"{key}:weight_squared"))
        unsupported = scores.total(f"{key}:unsupported") / info.rows
        stalled = learner.unsupported / max(learner.selections, 1)
        problem = _problem(learner, info, unsupported, stalled)
        result = CandidateResult(
            id=key, name=learner.candidate.name, contextual=learner.contextual, kept=learner.kept,
            selections=learner.selections, replayed=replayed if learner.kept else UNKNOWN,
            replayed_gain=interval(replayed.value - logging.value, replayed_draws - logging_draws)
            if learner.kept else UNKNOWN,
            final=final, final_gain=interval(final["dr"].value - logging.value, drafts["dr"] - logging_draws),
            ess=ess, max_weight=max_weight[key], unsupported=unsupported, stalled=stalled,
            curve=tuple(float(v) for v in replay.curves[index]), seconds=learner.seconds, problem=problem)
        results.append(replace(result, warnings=_warnings(result, info)))
    results.sort(key=lambda r: (not r.evaluable, -(r.replayed.value if r.replayed.known else -np.inf)))
    return ReplayResult(info, "replay" if info.uniform else "rejection-sampling replay", replay.seed, logging,
                        tuple(results), tuple(int(c) for c in replay.checkpoints),
                        tuple(float(v) for v in replay.logging_curve), skipped, _log_warnings(info))


def _problem(learner: Learner, info: LogInfo, unsupported: float, stalled: float) -> str:
    never = [info.actions[a] for a in np.flatnonzero(np.array(info.counts) == 0)]
    if learner.kept < MIN_KEPT and stalled > 0.5:
        return (f"it keeps choosing actions the logs never contain ({_few(never)}); the logging policy never "
                "tried them, so no log can say what they earn")
    if unsupported > 0.05:
        return (f"its final policy chooses actions the logs never contain ({_few(never)}) in "
                f"{unsupported:.0%} of rows; their rewards cannot be estimated from these logs")
    if learner.kept < MIN_KEPT:
        return (f"only {learner.kept} logged rounds matched its choices (at least {MIN_KEPT} needed); "
                "a longer log or a more exploratory logging policy is needed")
    return ""


def _few(labels: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(labels[:limit])
    return "actions " + shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _warnings(result: CandidateResult, info: LogInfo) -> tuple[str, ...]:
    out = []
    final = result.final
    pairs = [("IPS", "ips"), ("DM", "dm"), ("DR", "dr")]
    apart = []
    for i, (name_a, a) in enumerate(pairs):
        for name_b, b in pairs[i + 1:]:
            ea, eb = final[a], final[b]
            if ea.known and eb.known and np.isfinite(ea.low) and np.isfinite(eb.low) and not ea.overlaps(eb):
                apart.append(f"{name_a} ({ea.value:.4f}) and {name_b} ({eb.value:.4f})")
    if apart:
        out.append("the final policy's estimates disagree beyond their intervals: " + "; ".join(apart)
                   + ". The reward model may be biased (DM) or the weights too heavy (IPS); DR is the safer read")
    if 0 < result.unsupported <= 0.05:
        out.append(f"the final policy picks actions the logs never contain in {result.unsupported:.1%} of rows; "
                   "those rewards are invisible to IPS and DR")
    if result.ess < max(100.0, ESS_WARNING * info.rows):
        out.append(f"effective sample size of the final policy's weights is {result.ess:.0f} of {info.rows} rows: "
                   "its IPS and DR estimates rest on few rows")
    return tuple(out)


def _log_warnings(info: LogInfo) -> tuple[str, ...]:
    out = []
    if info.near_zero > 0:
        out.append(f"{info.near_zero:.2%} of rows have a propensity under 1% of uniform play: their importance "
                   "weights are huge, and rejection-sampling replay keeps few rows")
    never = [a for a, c in zip(info.actions, info.counts, strict=True) if c == 0]
    if never:
        out.append(f"the logging policy never played {_few(never)}: no policy that needs them can be evaluated")
    if info.projected:
        out.append(f"the context was reduced to {info.features} features by a random projection")
    return tuple(out)


def verdict(result: ReplayResult) -> tuple[str, ...]:
    """Plain words: who beats the logging policy with confidence, who cannot be told apart, who cannot be judged."""
    base = result.logging
    lines = [f"The logging policy earned {base.value:.4f} per decision ({base.low:.4f} to {base.high:.4f}, 95%)."]
    better, tied, worse, unknown = [], [], [], []
    for r in result.results:
        if not r.evaluable:
            unknown.append(f"{r.name}: {r.problem}")
        elif not np.isfinite(r.replayed_gain.low):
            unknown.append(f"{r.name}: too few replayed rounds for an interval")
        elif r.replayed_gain.low > 0:
            better.append(f"{r.name} (+{r.replayed_gain.value:.4f}, {r.replayed_gain.low:+.4f} to "
                          f"{r.replayed_gain.high:+.4f})")
        elif r.replayed_gain.high < 0:
            worse.append(r.name)
        else:
            tied.append(r.name)
    if better:
        lines.append("Beat the logging policy with 95% confidence while learning: " + "; ".join(better) + ".")
    if tied:
        lines.append("Cannot be told apart from the logging policy: " + ", ".join(tied) + ".")
    if worse:
        lines.append("Earned less than the logging policy while learning: " + ", ".join(worse) + ".")
    if unknown:
        lines.append("Cannot be evaluated on these logs: " + "; ".join(unknown) + ".")
    return tuple(lines)
