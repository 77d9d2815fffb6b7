"""Replays learning algorithms on logged feedback and scores their final policies with off-policy estimators.

Learners are replayed in the sense of Li, Chu, Langford and Wang (WSDM 2011): the learner picks an action for
each logged context in turn, and only the rounds where its pick equals the logged action count: it learns from
them and they make its replayed reward. On logs from a non-uniform policy a matching round is kept with
probability p_min / p (rejection sampling, Dudik, Erhan, Langford and Li, UAI 2012), which makes the kept
rounds look as if they were logged uniformly at random, so the learner's history is distributed as in a live run.
When the smallest propensity is tiny (a Bernoulli Thompson sampling log's 4.5e-05), rejection sampling keeps almost
nothing; importance-weighted replay (method "weighted") keeps every matching round instead, and its replayed reward
is the self-normalised average of the rewards weighted by w = 1 / (K p), clipped at `clip`. Its bias is stated, not
hidden: clipping moves a self-normalised average by at most (clipped share of the weight mass) x (reward range),
which widens its intervals; and the learner learns from the matching rows in the logging policy's proportions,
not its own (rejection sampling has neither bias, at the cost of the rows it discards).

Between two kept rounds the learner's state does not change, so its picks for the next stretch of rows are made
at once: the state is broadcast over the stretch (one row per logged context), and the first kept row's copy of
whatever `select` wrote becomes the learner's state. The policies are the simulator's, unchanged; a composed
candidate's adapters are the simulator's wrappers, whose states hold their base's state (`inner`), broadcast and
kept the same way, layer by layer.

The log is split in time: learners learn on its earlier part (the learning rows) and their final policies
(exploration off: the arm each would commit to, or the action with the best predicted reward for the context) are
scored on the later part only (the held-out rows), with IPS, self-normalised IPS, the direct method and doubly
robust estimates, so a policy is never scored on the rows it learned from. The reward model of DM and DR is
fitted on every row, cross-fitted on two folds, so no row is scored by a model that saw it.

Intervals: for binary rewards the rates (replayed and logging rewards) get Wilson score intervals and their
difference Newcombe's, which hold on rare events; the block bootstrap serves the estimates that are sums over many
weighted rows (IPS, SNIPS, DM, DR, and every estimate of continuous rewards), widened for binary rewards to at
least Wilson's interval at the weights' effective sample size (see estimators.py).
"""

from __future__ import annotations

import copy
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
from numba.core.errors import TypingError

from banditmap.executor import Engine
from banditmap.ope.estimators import BLOCKS, BlockSums, RewardModel, block_of, policy_terms
from banditmap.ope.logs import Chunk, LogInfo, LogStore
from banditmap.ope.results import ESS_WARNING, MIN_KEPT, CandidateResult, ReplayResult, verdict
from banditmap.sim.compiled import threads
from banditmap.sim.kernels import rng as kernel_rng
from banditmap.sim.policies import Feedback, Policy, State
from banditmap.sim.problem import Problem
from banditmap.sim.runner import Progress, RunSpec

__all__ = ["ESS_WARNING", "MIN_KEPT", "CandidateResult", "ReplayResult", "evaluate", "verdict"]

Array = np.ndarray
CHECKPOINTS = 200
MAX_SCORE_ROWS = 4096  # rows scored at once by a frozen final policy
SCORE_BYTES = 2 ** 26  # memory for a frozen policy's state broadcast over those rows (when it must be copied)
HOLDOUT = 0.5  # share of the log, at its end, on which final policies are scored
CLIP = 10.0  # importance-weighted replay: largest weight, in units of uniform play (w = 1 / (K p))
METHODS = ("auto", "rejection", "weighted")


def streams(seed: int, candidate_id: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 3, zlib.crc32(candidate_id.encode())])))


@dataclass
class Layout:
    """Which attributes of a state hold one row per repetition (`per_rep`, grown when `select` is seen to write
    more), and the layouts of the states it holds by attribute (a wrapper's base state, `inner`)."""

    per_rep: set[str]
    nested: dict[str, Layout]
    problems: tuple[str, ...] | None = None  # attributes holding a Problem, found on the first view

    def row_bytes(self, state: State) -> int:
        """Bytes of one repetition's rows of the state, its nested states included."""
        own = sum(value.nbytes for name in self.per_rep
                  if isinstance(value := getattr(state, name, None), np.ndarray))
        return own + sum(layout.row_bytes(getattr(state, name)) for name, layout in self.nested.items())


def compiled_walk(policy: Any) -> tuple[str, Any] | None:
    """The compiled walk over logged rows (sim/kernels/walks.py) of a K-armed or linear kernel policy whose select
    and update are its kernels' and nothing more ("arms" or "linear", the walk); None for any other policy (one
    with an adapter around it, or with decisions in NumPy), which the general walk serves."""
    from banditmap.sim.kernels import walks
    from banditmap.sim.policies.contextual import LinearKernel
    from banditmap.sim.policies.mab import Kernel, UniformRandom
    kind = type(policy)
    if isinstance(policy, Kernel) and kind.select is Kernel.select and kind.update in (Kernel.update,
                                                                                       UniformRandom.update):
        return "arms", walks.walk_arms(policy.choose, policy.learn)
    if isinstance(policy, LinearKernel) and kind.select is LinearKernel.select and kind.update is LinearKernel.update:
        return "linear", walks.walk_linear(policy.choose, policy.learn)
    return None


def writes_in_select(policy: Any) -> bool:
    """Whether a policy, or a base it wraps, says that its select writes into its state."""
    while policy is not None:
        if getattr(policy, "writes_in_select", False):
            return True
        policy = getattr(policy, "base", None)
    return False


class Learner:
    """One candidate being replayed: its state (one repetition), and what it has earned so far."""

    def __init__(self, candidate: RunSpec, info: LogInfo, seed: int, stream: str | None = None) -> None:
        self.candidate = candidate
        self.policy = candidate.policy
        self.contextual = "contextual" in self.policy.kinds
        kind = "contextual" if self.contextual else "arms"
        problem = Problem(kind=kind, reward="binary" if info.binary else "continuous", n_arms=info.n_actions,
                          n_features=info.features, slate_size=1, rounds=max(1, int(info.rows * _keep_rate(info))),
                          reps=1, dynamics="stationary", delay="immediate", mean_delay=1, batch_size=1,
                          constraint="none", objective="cumulative")
        self.stream = candidate.id if stream is None else stream  # whose random numbers it draws
        self.state = self.policy.init(problem, streams(seed, self.stream))
        self.layout = _per_rep_fields(self.policy, problem)
        # True when select writes into its state (said by the policy or one it wraps, or seen): views won't do
        self.copying = writes_in_select(self.policy)
        self.kept = 0
        self.matched = 0  # rows where its pick equalled the logged action, kept or not
        self.expected_kept = 0.0  # sum of the acceptance probabilities of those rows
        self.selections = 0
        self.unsupported = 0
        self.gap = float(info.n_actions)  # rows per kept round, running estimate
        self.last = -1  # the last kept row
        self.created: dict[str, Array] = {}  # the broadcast views handed to the last `select`, by dotted path
        self.views: dict[str, State] = {}  # the nested state views handed to it, by dotted path
        self.wide: dict[str, tuple[Array, Array]] = {}  # by dotted path: a state array and a long broadcast of it
        self.seconds = 0.0
        self.walk = compiled_walk(self.policy)

    def walk_chunk(self, start: int, contexts: Array, rows: tuple[Array, ...]) -> Array:
        """The compiled walk (sim/kernels/walks.py) over a chunk's rows from row `start` of the log (contexts, and
        actions, rewards, coins, acceptance probabilities and the actions the log supports, as the walks take
        them): the rows kept, the learner's state and tallies brought up to date, the same as the general walk
        (Replay._replay_learner) leaves them."""
        assert self.walk is not None
        kind, walk = self.walk
        s, params = self.state, self.policy.params()
        kept, tallies = np.empty(len(rows[0]), dtype=np.int64), np.zeros(4)
        if kind == "arms":
            n_kept, s.t = walk(params, s.counts, s.sums, s.means, s.scratch, s.draws, s.t, s.horizon, start, *rows,
                               self.copying, kept, tallies)
        else:
            n_kept = walk(params, s.inverse, s.target, s.theta, s.scratch, s.draws, start, contexts, *rows, kept,
                          tallies)
            s.t += n_kept
        self.selections += int(tallies[0])
        self.matched += int(tallies[1])
        self.expected_kept += float(tallies[2])
        self.unsupported += int(tallies[3])
        self.kept += n_kept
        if n_kept:
            self.last = start + int(kept[n_kept - 1])
        return kept[:n_kept]

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
                if self.copying:
                    wide = np.broadcast_to(value, (m,) + value.shape[1:]).copy()
                else:
                    wide = self._broadcast(path + name, value, m)
                    self.created[path + name] = wide
                setattr(view, name, wide)
        for name, inner in layout.nested.items():
            nested = self._view(getattr(state, name), inner, m, f"{path}{name}.", positions)
            self.views[path + name] = nested
            setattr(view, name, nested)
        if layout.problems is None:
            layout.problems = tuple(name for name, value in vars(state).items() if isinstance(value, Problem))
        for name in layout.problems:  # kept to start a base afresh: it must make m rows too
            setattr(view, name, replace(getattr(state, name), reps=m))
        view.R = m
        view.aux = None
        return view

    def _broadcast(self, key: str, value: Array, m: int) -> Array:
        """A read-only view of `value` repeated over m rows: the first m rows of a longer broadcast kept while the
        state holds the same array (in-place updates show through it), since making one costs more than a pick."""
        kept = self.wide.get(key)
        if kept is None or kept[0] is not value or len(kept[1]) < m:
            kept = (value, np.broadcast_to(value, (max(m, MAX_SCORE_ROWS),) + value.shape[1:]))
            self.wide[key] = kept
        return kept[1][:m]

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


def replay_method(info: LogInfo, method: str) -> str:
    """The method a replay uses: "uniform" on uniform logs; for "auto", importance weighting when some propensity is
    under 1% of uniform play (rejection sampling would keep almost nothing) or the propensities are estimated (whose
    smallest is the model's least reliable figure, and would set rejection sampling's rate), rejection sampling
    otherwise."""
    if info.uniform:
        return "uniform"
    if method == "auto":
        return "weighted" if info.near_zero > 0 or info.estimated else "rejection"
    return method


def method_name(method: str, clip: float) -> str:
    return {"uniform": "replay", "rejection": "rejection-sampling replay"}.get(
        method, f"importance-weighted replay (weights 1 / (K p) clipped at {clip:g})")


def _keep_rate(info: LogInfo) -> float:
    """Expected share of rows a learner keeps: 1 / actions on uniform logs, less after rejection sampling."""
    return info.min_propensity if not info.uniform else 1.0 / info.n_actions


def learning_rows(rows: int, holdout: float) -> int:
    """Rows learners learn on: the log but its last `holdout` share (at least one row held out when it has two)."""
    if rows < 2:
        return rows
    return int(min(max(round(rows * (1 - holdout)), 1), rows - 1))


def _head(chunk: Chunk, n: int) -> Chunk:
    return Chunk(chunk.start, chunk.actions[:n], chunk.rewards[:n], chunk.propensities[:n], chunk.contexts[:n],
                 None if chunk.positions is None else chunk.positions[:n],
                 None if chunk.slates is None else chunk.slates[:n])


def _tail(chunk: Chunk, n: int) -> Chunk:
    return Chunk(chunk.start + n, chunk.actions[n:], chunk.rewards[n:], chunk.propensities[n:], chunk.contexts[n:],
                 None if chunk.positions is None else chunk.positions[n:],
                 None if chunk.slates is None else chunk.slates[n:])


class Replay:
    """The passes' shared state: learners, reward model, block sums and checkpoints. Learners learn on rows
    [0, split); final policies are scored on rows [split, rows). The passes' `shared` part (the reward model, the
    logging policy's sums and curve) and their learners' part can be made apart, by different processes: each
    learner's figures depend on the log, the seed and its stream id only (`streams`: the candidates' ids unless
    given, as a sweep gives every setting the algorithm's, for common random numbers)."""

    def __init__(self, info: LogInfo, candidates: Sequence[RunSpec], seed: int, holdout: float = HOLDOUT,
                 method: str = "rejection", clip: float = CLIP, streams: Sequence[str] | None = None) -> None:
        self.info, self.seed, self.clip = info, seed, clip
        self.method = replay_method(info, method)
        self.split = learning_rows(info.rows, holdout)
        ids = [c.id for c in candidates] if streams is None else list(streams)
        self.learners = [Learner(c, info, seed, stream) for c, stream in zip(candidates, ids, strict=True)]
        self.blocks = min(BLOCKS, info.rows)
        names = ("reward", "rows", "heldout_reward", "heldout_rows") + tuple(
            f"{c.id}:{k}" for c in candidates for k in ("kept_reward", "kept", "kept_squared", "kept_raw"))
        self.sums = BlockSums(self.blocks, names)
        rewards_low, rewards_high = (0.0, 1.0) if info.binary else (-np.inf, np.inf)
        self.model = RewardModel(info.n_actions, info.features, info.mean_reward, rewards_low, rewards_high)
        self.coins = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 5])))
        self.checkpoints = np.unique(np.linspace(1, self.split, min(self.split, CHECKPOINTS)).round().astype(int))
        self.curves = np.full((len(candidates), len(self.checkpoints)), np.nan)
        self.logging_curve = np.zeros(len(self.checkpoints))
        self.earned = np.zeros(len(candidates))
        self.weight_sums = np.zeros(len(candidates))  # kept rounds, or their weights under importance weighting
        self.reward_total = 0.0  # the logging policy's reward over the learning rows read so far
        self.reward_range = (np.inf, -np.inf)  # the smallest and largest logged reward
        self.supported = np.array(info.counts) > 0
        self.n_positions = len(info.positions) if info.position_col is not None and len(info.positions) > 1 else 0

    # --- pass 2: replay on the learning rows, and the reward model on all ---------------------------------------

    def read_chunk(self, chunk: Chunk, shared: bool = True) -> None:
        """One chunk of pass 2: the learners replayed on its learning rows, and when `shared` the reward model and
        the logging policy's sums too."""
        n = len(chunk)
        rows = np.arange(chunk.start, chunk.start + n)
        learning = int(np.clip(self.split - chunk.start, 0, n))
        if shared:
            self.model.add(rows, chunk.actions, chunk.rewards, chunk.contexts)
            if n:
                self.reward_range = (min(self.reward_range[0], float(chunk.rewards.min())),
                                     max(self.reward_range[1], float(chunk.rewards.max())))
            held = _tail(chunk, learning)
            if len(held):
                block = block_of(np.arange(held.start, held.start + len(held)), self.info.rows, self.blocks)
                self.sums.add("heldout_reward", block, held.rewards)
                self.sums.add("heldout_rows", block)
        if learning:
            self.replay_chunk(_head(chunk, learning), shared)

    def replay_chunk(self, chunk: Chunk, shared: bool = True) -> None:
        n = len(chunk)
        rows = np.arange(chunk.start, chunk.start + n)
        block = block_of(rows, self.info.rows, self.blocks)
        if shared:
            self.sums.add("reward", block, chunk.rewards)
            self.sums.add("rows", block)
            cumulative = self.reward_total + np.cumsum(chunk.rewards)
            at = (self.checkpoints > chunk.start) & (self.checkpoints <= chunk.start + n)
            self.logging_curve[at] = cumulative[self.checkpoints[at] - 1 - chunk.start] / self.checkpoints[at]
            if n:
                self.reward_total = float(cumulative[-1])
        raw = 1.0 / (self.info.n_actions * chunk.propensities)  # importance weights against uniform play
        weights = np.minimum(raw, self.clip) if self.method == "weighted" else np.ones(n)
        if self.method == "rejection":
            accept = np.minimum(self.info.min_propensity / chunk.propensities, 1.0)
            coins = self.coins.random(n) < accept  # drawn by whoever reads the chunk: every learner sees the same
        else:
            accept, coins = np.ones(n), np.ones(n, dtype=bool)
        kept = self._walk_compiled(chunk, coins, accept)
        for index, learner in enumerate(self.learners):
            started = time.perf_counter()
            kept_rows = kept[index] if learner.walk is not None else self._replay_learner(learner, chunk, coins, accept)
            kept_block, w = block[kept_rows], weights[kept_rows]
            key = learner.candidate.id
            self.sums.add(f"{key}:kept_reward", kept_block, w * chunk.rewards[kept_rows])
            self.sums.add(f"{key}:kept", kept_block, w)
            self.sums.add(f"{key}:kept_squared", kept_block, w * w)
            self.sums.add(f"{key}:kept_raw", kept_block, raw[kept_rows] if self.method == "weighted" else w)
            self._checkpoint(index, rows[kept_rows], chunk.rewards[kept_rows], w, chunk.start, n)
            learner.seconds += time.perf_counter() - started

    def _walk_compiled(self, chunk: Chunk, coins: Array, accept: Array) -> dict[int, Array]:
        """The learners with a compiled walk walked over the chunk, in threads (their walks release the GIL): the
        rows each kept, by the learner's index."""
        walking = [(index, learner) for index, learner in enumerate(self.learners) if learner.walk is not None]
        if not walking:
            return {}
        contexts = np.ascontiguousarray(chunk.contexts, dtype=np.float64)
        rows = (chunk.actions, np.asarray(chunk.rewards, dtype=np.float64), coins,
                np.asarray(accept, dtype=np.float64), self.supported)

        def walk(learner: Learner) -> Array:
            started = time.perf_counter()
            kept = learner.walk_chunk(chunk.start, contexts, rows)
            learner.seconds += time.perf_counter() - started
            return kept

        if len(walking) <= 1 or threads() <= 1:
            return {index: walk(learner) for index, learner in walking}
        with ThreadPoolExecutor(min(threads(), len(walking))) as pool:
            done = {index: pool.submit(walk, learner) for index, learner in walking}
            return {index: future.result() for index, future in done.items()}

    def _replay_learner(self, learner: Learner, chunk: Chunk, coins: Array, accept: Array) -> Array:
        """Walk the chunk, returning the indices of the rows the learner kept; `coins` says which rows rejection
        sampling accepts, `accept` with which probability."""
        kept: list[int] = []
        i, n = 0, len(chunk)
        while i < n:
            m = int(min(n - i, max(4, min(2048, 2 * learner.gap))))
            contexts = chunk.contexts[i:i + m]
            view, picks = learner.pick(m, contexts, chunk.start + i)
            learner.selections += m
            same = picks == chunk.actions[i:i + m]
            match = same & coins[i:i + m]
            if not match.any():
                learner.unsupported += int((~self.supported[picks]).sum())
                learner.matched += int(same.sum())
                learner.expected_kept += float(accept[i:i + m][same].sum())
                i += m
                continue
            j = int(np.argmax(match))
            learner.selections -= m - j - 1
            learner.unsupported += int((~self.supported[picks[:j]]).sum())
            learner.matched += int(same[:j + 1].sum())
            learner.expected_kept += float(accept[i:i + j + 1][same[:j + 1]].sum())
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

    def _checkpoint(self, index: int, kept_rows: Array, kept_rewards: Array, weights: Array, start: int,
                    n: int) -> None:
        """Running replayed reward (weighted under importance weighting) at the checkpoints in this chunk."""
        before = self.weight_sums[index]
        earned_before = self.earned[index]
        self.earned[index] += (weights * kept_rewards).sum()
        self.weight_sums[index] += weights.sum()
        at = np.flatnonzero((self.checkpoints > start) & (self.checkpoints <= start + n))
        if not len(at):
            return
        upto = np.searchsorted(kept_rows, self.checkpoints[at] - 1, side="right")  # kept rows before each point
        sums = earned_before + np.r_[0.0, np.cumsum(weights * kept_rewards)][upto]
        counts = before + np.r_[0.0, np.cumsum(weights)][upto]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.curves[index, at] = np.where(counts > 0, sums / counts, np.nan)

    # --- pass 3: score the final policies on the held-out rows -------------------------------------------------

    def score_chunk(self, chunk: Chunk, scores: BlockSums, max_weight: dict[str, float], shared: bool = True) -> None:
        """One chunk of pass 3: the learners' final policies scored on its held-out rows, and when `shared` the
        per-position sums of the logging policy too."""
        chunk = _tail(chunk, int(np.clip(self.split - chunk.start, 0, len(chunk))))
        n = len(chunk)
        if not n:
            return
        rows = np.arange(chunk.start, chunk.start + n)
        block = block_of(rows, self.info.rows, self.blocks)
        predicted = self.model.predict(rows, chunk.contexts) if self.learners else np.zeros((0, self.info.n_actions))
        where = chunk.positions if chunk.positions is not None else np.zeros(n, dtype=np.int64)
        for learner in self.learners:
            chosen = self._frozen_choices(learner, chunk)
            terms = policy_terms(chosen, chunk.actions, chunk.rewards, chunk.propensities, predicted)
            key = learner.candidate.id
            for name in ("ips", "weight", "dm", "dr"):
                scores.add(f"{key}:{name}", block, getattr(terms, name))
            scores.add(f"{key}:weight_squared", block, terms.weight ** 2)
            scores.add(f"{key}:matched", block, (terms.weight > 0).astype(float))
            scores.add(f"{key}:unsupported", block, (~self.supported[chosen]).astype(float))
            max_weight[key] = max(max_weight[key], float(terms.weight.max()))
            for k in range(self.n_positions):
                at = where == k
                scores.add(f"{key}:ips@{k}", block, terms.ips * at)
                scores.add(f"{key}:w@{k}", block, terms.weight * at)
                scores.add(f"{key}:w2@{k}", block, terms.weight ** 2 * at)
        for k in range(self.n_positions if shared else 0):
            at = where == k
            scores.add(f"rows@{k}", block, at.astype(float))
            scores.add(f"uniform@{k}", block, at * chunk.rewards / (self.info.n_actions * chunk.propensities))

    def _frozen_choices(self, learner: Learner, chunk: Chunk) -> Array:
        per_row = learner.layout.row_bytes(learner.state)
        step = MAX_SCORE_ROWS if not learner.copying else max(1, min(MAX_SCORE_ROWS, SCORE_BYTES // max(per_row, 1)))
        out = np.empty(len(chunk), dtype=np.int64)
        for i in range(0, len(chunk), step):
            _, picks = learner.pick(min(step, len(chunk) - i), chunk.contexts[i:i + step], chunk.start + i, final=True)
            out[i:i + step] = picks
        return out


SCORES = ("ips", "weight", "weight_squared", "dm", "dr", "matched", "unsupported")


def evaluate(store: LogStore, candidates: Sequence[RunSpec], seed: int = 0,
             progress: Progress | None = None, skipped: Sequence[tuple[str, str]] = (),
             holdout: float = HOLDOUT, method: str = "rejection", clip: float = CLIP, engine: Engine | None = None,
             streams: Sequence[str] | None = None) -> ReplayResult:
    """Replay every candidate on the log's learning rows, then score its final policy on the held-out rows (the
    last `holdout` share of the log); returns everything the report needs. On non-uniform logs `method` chooses
    rejection sampling or importance weighting (clipped at `clip`), or "auto" (see replay_method). With an
    `engine`, every learner is a task of the executor (ope/tasks.py), with the same results; without, or with one
    local job (which reads the log once instead of once per learner: faster on few cores), or on slate logs (whose
    scorer reads every learner at once), all learn in one pass in this process. `streams`: the learners' random
    stream ids (default their ids)."""
    info = store.info
    if engine is not None and info.slate is None and not (engine.kind == "local" and engine.jobs == 1):
        from banditmap.ope.tasks import evaluate_apart
        return evaluate_apart(store, candidates, seed, progress, skipped, holdout, method, clip, engine, streams)
    replay = Replay(info, candidates, seed, holdout, method, clip, streams)
    for chunk in store.chunks():
        replay.read_chunk(chunk)
        if progress is not None:
            progress("replay", chunk.start + len(chunk), info.rows)
    replay.model.fit()
    by_position = tuple(f"{name}@{k}" for k in range(replay.n_positions) for name in ("rows", "uniform")) + tuple(
        f"{c.id}:{name}@{k}" for c in candidates for k in range(replay.n_positions) for name in ("ips", "w", "w2"))
    scores = BlockSums(replay.blocks, tuple(f"{c.id}:{k}" for c in candidates for k in SCORES) + by_position)
    max_weight = {c.id: 0.0 for c in candidates}
    from banditmap.ope import slates  # slate logs: PI over the held-out slates, in the same pass
    slate_scorer = slates.Scorer(replay) if info.slate is not None else None
    for index, chunk in enumerate(store.chunks()):
        replay.score_chunk(chunk, scores, max_weight)
        if slate_scorer is not None:
            slate_scorer.add(chunk, last=index == store.n_chunks - 1)
        if progress is not None:
            progress("score", chunk.start + len(chunk), info.rows)
    from banditmap.ope.summary import summarise  # it reads a Replay: imported here, not at the top
    result = summarise(replay, scores, max_weight, tuple(skipped))
    return result if slate_scorer is None else slate_scorer.finish(result)
