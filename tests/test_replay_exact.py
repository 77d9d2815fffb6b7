"""Replay's passes worked out by hand on a few rows: the final policies' per-row terms summed into their blocks (IPS,
weights, DM, DR, matches, unsupported picks, per-position sums, the logging policy's per-position rows and uniform
weights), the frozen policies' picks made in steps that fit the memory for copies, the broadcast kept while the
state holds the same array, and evaluate's plumbing: which process replays, what the scorer and the summary get,
progress, and the defaults."""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import numpy as np
import pytest
from stubs import close

from banditmap.executor import Engine
from banditmap.ope import replay as replay_module
from banditmap.ope import slates, summary, tasks
from banditmap.ope.estimators import BlockSums
from banditmap.ope.logs import Chunk, LogInfo
from banditmap.ope.replay import Learner, Replay, evaluate
from banditmap.ope.slatelogs import SlateFacts
from banditmap.sim.kernels import rng as kernel_rng
from banditmap.sim.policies import Feedback, Policy, State
from banditmap.sim.problem import Problem
from banditmap.sim.runner import RunSpec

Array = np.ndarray


def log_info(**fields: Any) -> LogInfo:
    """Eight rows, three actions (the third never logged), two positions, contexts (1, c); not uniform."""
    base = LogInfo(
        path="log.csv", rows=8, actions=("a", "b", "c"), counts=(4, 4, 0), action_col="action", reward_col="reward",
        propensity_col="propensity", position_col="position", numeric=("c",), categorical=(), positions=("p0", "p1"),
        features=2, projected=False, min_propensity=0.25, near_zero=0.0, uniform=False, mean_reward=0.5,
        binary=False)
    return replace(base, **fields)


@dataclass(kw_only=True)
class Marked(State):
    marks: Array  # (R, WIDTH): one row per repetition, so a copying learner's copies cost WIDTH * itemsize a row


@dataclass(frozen=True)
class ByContext(Policy[Any]):
    """Contextual: its final policy picks the action in the context's second entry; while learning, action 0."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    WIDTH: ClassVar[int] = 3
    DTYPE: ClassVar[type] = np.float64

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return Marked(rng=rng, R=problem.reps, K=problem.n_arms,
                      marks=np.zeros((problem.reps, self.WIDTH), dtype=self.DTYPE))

    def select(self, state: State, context: Array | None) -> Array:
        return np.zeros(state.R, dtype=np.int64)

    def update(self, state: State, feedback: Feedback) -> None:
        pass

    def exploit(self, state: State, context: Array | None) -> Array:
        assert context is not None and len(context) == state.R
        return np.asarray(context[:, 1], dtype=np.int64)


@dataclass(frozen=True)
class Narrow(ByContext):
    """One byte a repetition."""

    WIDTH = 1
    DTYPE = np.bool_


@dataclass(frozen=True)
class One(Policy[Any]):
    """Not contextual: learns nothing, plays action 2 while learning, and action 1 once frozen."""

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return State(rng=rng, R=problem.reps, K=problem.n_arms)

    def select(self, state: State, context: Array | None) -> Array:
        return np.full(state.R, 2, dtype=np.int64)

    def update(self, state: State, feedback: Feedback) -> None:
        pass

    def exploit(self, state: State, context: Array | None) -> Array:
        assert context is None
        return np.ones(state.R, dtype=np.int64)


CTX = RunSpec("ctx", "by context", ByContext())
ONE = RunSpec("one", "one", One())

# Rows 0..7; learners learn on rows 0..3 (split 4), final policies are scored on rows 4..7; one block a row.
# Row:          0    1    2    3    4     5    6    7
ACTIONS = np.array([0, 1, 0, 1, 0, 1, 1, 0])
REWARDS = np.array([9.0, 9.0, 9.0, 9.0, 2.0, 3.0, 5.0, 1.0])
PROPENSITIES = np.array([0.5, 0.5, 0.5, 0.5, 0.25, 1.0, 1.0, 0.5])
C = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 2.0, 1.0, 1.0])  # ctx's final pick: 0 (w 4), 2 (unsupported), 1 (w 1), 1
POSITIONS = np.array([0, 1, 0, 1, 0, 1, 1, 0])
# The reward model, set by hand: fold f's coefficients theta[f][action] on (1, c), plus the mean reward 0.5; row i
# is predicted by fold (i + 1) % 2: rows 5 and 7 by fold 0 (c, 1, 2), rows 4 and 6 by fold 1 (3, 2c, 1 + c).
THETA = np.array([[[0.0, 1.0], [1.0, 0.0], [2.0, 0.0]], [[3.0, 0.0], [0.0, 2.0], [1.0, 1.0]]])
# predicted (+0.5): row 4 (c 0) [3.5, 0.5, 1.5]; row 5 (c 2) [2.5, 1.5, 2.5]; row 6 (c 1) [3.5, 2.5, 2.5];
# row 7 (c 1) [1.5, 1.5, 2.5]


def chunk(start: int, stop: int, positions: bool = True) -> Chunk:
    part = slice(start, stop)
    return Chunk(start, ACTIONS[part], REWARDS[part], PROPENSITIES[part], np.column_stack([np.ones(8), C])[part],
                 POSITIONS[part] if positions else None)


def fitted(candidates: list[RunSpec], **fields: Any) -> Replay:
    out = Replay(log_info(**fields), candidates, seed=0)
    out.model.theta = THETA.copy()
    return out


def score_names(candidates: list[RunSpec], positions: int = 2) -> tuple[str, ...]:
    return tuple(f"{c.id}:{k}" for c in candidates for k in ("ips", "weight", "weight_squared", "dm", "dr", "matched",
                                                              "unsupported")) + tuple(
        f"{c.id}:{k}@{p}" for c in candidates for p in range(positions) for k in ("ips", "w", "w2")) + tuple(
        f"{k}@{p}" for p in range(positions) for k in ("rows", "uniform"))


def held(sums: BlockSums, name: str) -> list[float]:
    """A sum's blocks: the first four (the learning rows) must be empty; the held-out rows 4..7 are returned."""
    values = sums.sums[name]
    assert values[:4].tolist() == [0.0] * 4, name
    return list(values[4:])


# What ctx's final policy earns on rows 4..7 (picks 0, 2, 1, 1 against logged 0, 1, 1, 0):
CTX_TERMS = {
    "ips": [8.0, 0.0, 5.0, 0.0],  # w r: 4 x 2, 0, 1 x 5, 0
    "weight": [4.0, 0.0, 1.0, 0.0],
    "weight_squared": [16.0, 0.0, 1.0, 0.0],
    "dm": [3.5, 2.5, 2.5, 1.5],  # the predicted reward of its pick
    "dr": [-2.5, 2.5, 5.0, 1.5],  # dm + w (r - predicted reward of the logged action): 3.5 + 4 (2 - 3.5), ...
    "matched": [1.0, 0.0, 1.0, 0.0],  # row 6 matches with a weight of exactly 1 (propensity 1)
    "unsupported": [0.0, 1.0, 0.0, 0.0],  # action 2 is never logged
    "ips@0": [8.0, 0.0, 0.0, 0.0], "ips@1": [0.0, 0.0, 5.0, 0.0],
    "w@0": [4.0, 0.0, 0.0, 0.0], "w@1": [0.0, 0.0, 1.0, 0.0],
    "w2@0": [16.0, 0.0, 0.0, 0.0], "w2@1": [0.0, 0.0, 1.0, 0.0],
}
# one's final policy picks 1 everywhere: it matches rows 5 and 6 (propensity 1)
ONE_TERMS = {
    "ips": [0.0, 3.0, 5.0, 0.0], "weight": [0.0, 1.0, 1.0, 0.0], "weight_squared": [0.0, 1.0, 1.0, 0.0],
    "dm": [0.5, 1.5, 2.5, 1.5], "dr": [0.5, 3.0, 5.0, 1.5], "matched": [0.0, 1.0, 1.0, 0.0],
    "unsupported": [0.0] * 4,
    "ips@0": [0.0] * 4, "ips@1": [0.0, 3.0, 5.0, 0.0], "w@0": [0.0] * 4, "w@1": [0.0, 1.0, 1.0, 0.0],
    "w2@0": [0.0] * 4, "w2@1": [0.0, 1.0, 1.0, 0.0],
}
# the logging policy: rows at each position, and r / (K p) there (K = 3): 2 / 0.75, 3 / 3, 5 / 3, 1 / 1.5
LOGGING = {"rows@0": [1.0, 0.0, 0.0, 1.0], "rows@1": [0.0, 1.0, 1.0, 0.0],
           "uniform@0": [8 / 3, 0.0, 0.0, 2 / 3], "uniform@1": [0.0, 1.0, 5 / 3, 0.0]}


def check_terms(sums: BlockSums, key: str, terms: dict[str, list[float]]) -> None:
    for name, expected in terms.items():
        assert close(held(sums, f"{key}:{name}"), expected), name


def test_final_policies_are_scored_on_the_held_out_rows_of_a_chunk_by_hand() -> None:
    replay = fitted([CTX, ONE])
    assert replay.split == 4 and replay.blocks == 8 and replay.n_positions == 2
    scores = BlockSums(8, score_names([CTX, ONE]))
    max_weight = {"ctx": 0.0, "one": 7.0}
    replay.score_chunk(chunk(2, 8), scores, max_weight)  # rows 2 and 3 are learning rows: not scored
    check_terms(scores, "ctx", CTX_TERMS)
    check_terms(scores, "one", ONE_TERMS)
    for name, expected in LOGGING.items():  # `shared` by default
        assert close(held(scores, name), expected), name
    assert max_weight == {"ctx": 4.0, "one": 7.0}  # the largest weight so far


def test_chunks_before_across_and_after_the_split_add_up_to_the_same_sums() -> None:
    replay = fitted([CTX, ONE])
    scores = BlockSums(8, score_names([CTX, ONE]))
    max_weight = {"ctx": 0.0, "one": 0.0}
    for start, stop in ((0, 3), (3, 5), (5, 6), (6, 6), (6, 8)):
        replay.score_chunk(chunk(start, stop), scores, max_weight, shared=True)
    check_terms(scores, "ctx", CTX_TERMS)
    check_terms(scores, "one", ONE_TERMS)
    for name, expected in LOGGING.items():
        assert close(held(scores, name), expected), name
    assert max_weight == {"ctx": 4.0, "one": 1.0}


def test_a_learners_own_pass_leaves_the_logging_policys_position_sums_alone() -> None:
    replay = fitted([CTX])
    scores = BlockSums(8, score_names([CTX]))
    replay.score_chunk(chunk(0, 8), scores, {"ctx": 0.0}, shared=False)
    check_terms(scores, "ctx", CTX_TERMS)
    for name in LOGGING:
        assert scores.total(name) == 0.0, name


def test_without_learners_only_the_logging_policys_sums_and_no_reward_model() -> None:
    replay = Replay(log_info(), [], seed=0)  # the reward model is never fitted: not needed
    scores = BlockSums(8, score_names([]))
    replay.score_chunk(chunk(0, 8), scores, {})
    for name, expected in LOGGING.items():
        assert close(held(scores, name), expected), name


def test_rows_without_positions_count_as_the_first_position() -> None:
    replay = fitted([ONE])
    scores = BlockSums(8, score_names([ONE]))
    replay.score_chunk(chunk(0, 8, positions=False), scores, {"one": 0.0})
    assert close(held(scores, "one:ips@0"), ONE_TERMS["ips"]) and close(held(scores, "one:w@0"), ONE_TERMS["weight"])
    assert close(held(scores, "one:w2@0"), ONE_TERMS["weight_squared"])
    assert scores.total("one:ips@1") == scores.total("one:w@1") == scores.total("one:w2@1") == 0.0
    assert close(held(scores, "rows@0"), [1.0] * 4) and scores.total("rows@1") == 0.0
    assert close(held(scores, "uniform@0"), [8 / 3, 1.0, 5 / 3, 2 / 3]) and scores.total("uniform@1") == 0.0


def test_a_log_with_one_position_keeps_no_per_position_sums() -> None:
    replay = fitted([CTX], positions=("p0",))
    assert replay.n_positions == 0
    scores = BlockSums(8, score_names([CTX], positions=0))  # a per-position sum would be a missing name
    replay.score_chunk(chunk(0, 8), scores, {"ctx": 0.0})
    assert close(held(scores, "ctx:ips"), CTX_TERMS["ips"])


# --- the frozen policies' picks ----------------------------------------------------------------------------------

def calls_of_pick(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[float], int, bool]]:
    calls: list[tuple[int, list[float], int, bool]] = []
    original = Learner.pick

    def pick(self: Learner, m: int, contexts: Array | None, first: int, final: bool = False) -> tuple[State, Array]:
        calls.append((m, [] if contexts is None else list(contexts[:, 1]), first, final))
        return original(self, m, contexts, first, final)

    monkeypatch.setattr(Learner, "pick", pick)
    return calls


FIVE = Chunk(10, np.zeros(5, dtype=np.int64), np.zeros(5), np.full(5, 0.5),
             np.column_stack([np.ones(5), [2.0, 0.0, 1.0, 1.0, 2.0]]))


@pytest.mark.parametrize("copying, budget, steps", [
    (False, 60, ((4, 10), (1, 14))),  # views: MAX_SCORE_ROWS rows at once
    (True, 60, ((2, 10), (2, 12), (1, 14))),  # copies of 24 bytes a row: 60 // 24 = 2 rows at once
    (True, 1000, ((4, 10), (1, 14))),  # 41 rows would fit: at most MAX_SCORE_ROWS
    (True, 20, ((1, 10), (1, 11), (1, 12), (1, 13), (1, 14))),  # not even one row fits: still one at a time
])
def test_frozen_picks_are_made_in_steps_that_fit_the_memory_for_copies(
        monkeypatch: pytest.MonkeyPatch, copying: bool, budget: int, steps: tuple[tuple[int, int], ...]) -> None:
    monkeypatch.setattr(replay_module, "MAX_SCORE_ROWS", 4)
    monkeypatch.setattr(replay_module, "SCORE_BYTES", budget)
    replay = Replay(log_info(), [CTX], seed=0)
    (learner,) = replay.learners
    assert learner.layout.row_bytes(learner.state) == 24
    learner.copying = copying
    calls = calls_of_pick(monkeypatch)
    out = replay._frozen_choices(learner, FIVE)
    assert out.dtype == np.int64 and out.tolist() == [2, 0, 1, 1, 2]  # exploit's picks, not select's (all 0)
    contexts = [2.0, 0.0, 1.0, 1.0, 2.0]
    assert calls == [(m, contexts[first - 10:first - 10 + m], first, True) for m, first in steps]


def test_a_state_of_one_byte_a_row_is_copied_as_many_rows_as_the_budget_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay_module, "MAX_SCORE_ROWS", 4)
    monkeypatch.setattr(replay_module, "SCORE_BYTES", 3)
    replay = Replay(log_info(), [RunSpec("narrow", "narrow", Narrow())], seed=0)
    (learner,) = replay.learners
    assert learner.layout.row_bytes(learner.state) == 1
    learner.copying = True
    calls = calls_of_pick(monkeypatch)
    assert replay._frozen_choices(learner, FIVE).tolist() == [2, 0, 1, 1, 2]
    assert [(m, first) for m, _, first, _ in calls] == [(3, 10), (2, 13)]


def test_a_non_contextual_final_policy_gets_no_contexts() -> None:
    replay = Replay(log_info(), [ONE], seed=0)
    assert replay._frozen_choices(replay.learners[0], FIVE).tolist() == [1] * 5
    assert replay._frozen_choices(replay.learners[0], replace(FIVE, actions=np.zeros(0, dtype=np.int64),
                                                              contexts=np.zeros((0, 2)))).tolist() == []


# --- the broadcast kept while the state holds the same array -----------------------------------------------------

def test_a_broadcast_is_kept_while_the_state_holds_the_same_array_and_made_anew_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay_module, "MAX_SCORE_ROWS", 4)
    learner = Learner(CTX, log_info(), seed=0)
    value = np.array([[1.0, 2.0]])
    first = learner._broadcast("marks", value, 3)
    assert first.shape == (3, 2) and first.tolist() == [[1.0, 2.0]] * 3 and not first.flags.writeable
    kept = learner.wide["marks"]
    assert kept[0] is value and kept[1].shape == (4, 2)  # at least MAX_SCORE_ROWS rows
    value[0, 1] = 5.0  # an in-place update shows through
    assert learner._broadcast("marks", value, 4).tolist() == [[1.0, 5.0]] * 4
    assert learner.wide["marks"] is kept  # the same array, rows enough: kept
    other = np.array([[7.0, 8.0]])
    assert learner._broadcast("marks", other, 2).tolist() == [[7.0, 8.0]] * 2  # another array: made anew
    assert learner.wide["marks"][0] is other and learner.wide["marks"][1].shape == (4, 2)
    again = learner.wide["marks"]
    long = learner._broadcast("marks", other, 6)  # more rows than kept: longer
    assert long.shape == (6, 2) and learner.wide["marks"] is not again and learner.wide["marks"][1].shape == (6, 2)
    assert learner._broadcast("other", value, 1).tolist() == [[1.0, 5.0]]  # kept by key
    assert learner.wide["marks"][0] is other


# --- evaluate: which process replays, and what the summary and the slate scorer get -------------------------------

class Store:
    """A parsed log as evaluate reads it: its facts and its chunks, here rows [0, 3), [3, 5) and [5, 8)."""

    def __init__(self, info: LogInfo, cuts: tuple[int, ...] = (0, 3, 5, 8)) -> None:
        self.info = info
        self.cuts = cuts
        self.n_chunks = len(cuts) - 1

    def chunks(self) -> list[Chunk]:
        return [chunk(a, b) for a, b in zip(self.cuts[:-1], self.cuts[1:])]


@dataclass
class Summarised:
    replay: Replay
    scores: BlockSums
    max_weight: dict[str, float]
    skipped: Any


def summaries(monkeypatch: pytest.MonkeyPatch) -> list[Summarised]:
    made: list[Summarised] = []

    def summarise(replay: Replay, scores: BlockSums, max_weight: dict[str, float], skipped: Any) -> Any:
        made.append(Summarised(replay, scores, max_weight, skipped))
        return SimpleNamespace(summary=len(made))

    monkeypatch.setattr(summary, "summarise", summarise)
    return made


def apart(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []

    def evaluate_apart(*args: Any) -> Any:
        sent.append(args)
        return "apart"

    monkeypatch.setattr(tasks, "evaluate_apart", evaluate_apart)
    return sent


def test_evaluate_hands_the_summary_the_replay_its_block_sums_and_largest_weights(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made = summaries(monkeypatch)
    progress: list[tuple[str, int, int]] = []
    store = Store(log_info())
    result = evaluate(cast(Any, store), [CTX, ONE], 3, lambda *a: progress.append(a), [("x", "why")], holdout=0.25,
                      method="weighted", clip=2.5, streams=["s1", "s2"])
    assert result == SimpleNamespace(summary=1)
    (done,) = made
    replay = done.replay
    assert replay.info is store.info and replay.seed == 3 and replay.clip == 2.5 and replay.method == "weighted"
    assert replay.split == 6  # 8 rows, a quarter held out
    assert [(le.candidate, le.stream) for le in replay.learners] == [(CTX, "s1"), (ONE, "s2")]
    assert replay.model.theta is not None  # fitted before scoring
    assert done.skipped == (("x", "why"),)
    assert sorted(done.scores.sums) == sorted(score_names([CTX, ONE]))
    assert all(len(v) == 8 for v in done.scores.sums.values())
    # rows 6 and 7 held out: rows at each position, and every chunk's held-out rows scored
    assert done.scores.sums["rows@0"].tolist() == [0.0] * 7 + [1.0]
    assert done.scores.sums["rows@1"].tolist() == [0.0] * 6 + [1.0, 0.0]
    assert done.scores.sums["one:matched"].tolist() == [0.0] * 6 + [1.0, 0.0]
    assert done.max_weight == {"ctx": 1.0, "one": 1.0}
    assert progress == [("replay", 3, 8), ("replay", 5, 8), ("replay", 8, 8),
                        ("score", 3, 8), ("score", 5, 8), ("score", 8, 8)]


def test_a_policy_that_matches_no_held_out_row_has_a_largest_weight_of_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    made = summaries(monkeypatch)
    evaluate(cast(Any, Store(log_info())), [ONE], holdout=0.125)  # row 7 only, logged 0; one picks 1
    assert made[0].max_weight == {"one": 0.0} and made[0].skipped == ()


def test_evaluate_defaults_to_seed_0_rejection_sampling_and_half_the_log_held_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made = summaries(monkeypatch)
    evaluate(cast(Any, Store(log_info())), [ONE])
    replay = made[0].replay
    assert replay.seed == 0 and replay.method == "rejection" and replay.split == 4 and replay.clip == 10.0
    assert replay.learners[0].stream == "one"
    evaluate(cast(Any, Store(log_info(uniform=True))), [ONE])
    assert made[1].replay.method == "uniform"


@pytest.mark.parametrize("engine", [Engine("local", 2), Engine("local", 0), Engine("dask", 1)])
def test_an_engine_with_more_than_this_process_replays_apart(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    made, sent = summaries(monkeypatch), apart(monkeypatch)
    store = Store(log_info())
    progress = print
    out: Any = evaluate(cast(Any, store), [CTX], 4, progress, [("x", "y")], 0.3, "auto", 2.0, engine, ["s"])
    assert out == "apart" and made == []
    assert sent == [(store, [CTX], 4, progress, [("x", "y")], 0.3, "auto", 2.0, engine, ["s"])]


@pytest.mark.parametrize("engine", [None, Engine("local", 1)])
def test_no_engine_or_one_local_job_replays_in_this_process(monkeypatch: pytest.MonkeyPatch,
                                                            engine: Engine | None) -> None:
    made, sent = summaries(monkeypatch), apart(monkeypatch)
    assert evaluate(cast(Any, Store(log_info())), [CTX], engine=engine) == SimpleNamespace(summary=1)
    assert sent == [] and len(made) == 1


class Scorer:
    """slates.Scorer's stand-in: what it was made with, the chunks it was given and the result it finished."""

    log: ClassVar[list[Any]] = []

    def __init__(self, replay: Replay) -> None:
        Scorer.log.append(("made", replay))

    def add(self, chunk: Chunk, last: bool) -> None:
        Scorer.log.append(("add", chunk.start, len(chunk), last))

    def finish(self, result: Any) -> Any:
        Scorer.log.append(("finish", result))
        return "with slates"


SLATE = SlateFacts(size=2, slates=4, repeats=False, form="uniform", items=3)


def test_slate_logs_are_scored_in_this_process_by_the_slate_scorer_as_chunks_come(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made, sent = summaries(monkeypatch), apart(monkeypatch)
    monkeypatch.setattr(slates, "Scorer", Scorer)
    Scorer.log = []
    out: Any = evaluate(cast(Any, Store(log_info(slate=SLATE, slate_col="slate"))), [CTX], engine=Engine("local", 2))
    assert sent == [] and out == "with slates"
    assert Scorer.log == [("made", made[0].replay), ("add", 0, 3, False), ("add", 3, 2, False), ("add", 5, 3, True),
                          ("finish", SimpleNamespace(summary=1))]


def test_other_logs_have_no_slate_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    summaries(monkeypatch)
    monkeypatch.setattr(slates, "Scorer", Scorer)
    Scorer.log = []
    assert evaluate(cast(Any, Store(log_info())), [CTX]) == SimpleNamespace(summary=1)
    assert Scorer.log == []


# --- the small parts: cuts of a chunk, the split, the method, the layout of a state ------------------------------

def test_a_chunks_head_and_tail_cut_every_column_and_keep_its_place() -> None:
    whole = Chunk(7, np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.2, 0.3]),
                  np.array([[1.0, 4.0], [1.0, 5.0], [1.0, 6.0]]), np.array([1, 0, 1]), np.array([9, 9, 10]))
    head, tail = replay_module._head(whole, 2), replay_module._tail(whole, 2)
    assert head.start == 7 and tail.start == 9
    assert head.actions.tolist() == [0, 1] and tail.actions.tolist() == [2]
    assert head.rewards.tolist() == [1.0, 2.0] and tail.rewards.tolist() == [3.0]
    assert head.propensities.tolist() == [0.1, 0.2] and tail.propensities.tolist() == [0.3]
    assert head.contexts.tolist() == [[1.0, 4.0], [1.0, 5.0]] and tail.contexts.tolist() == [[1.0, 6.0]]
    assert head.positions is not None and head.positions.tolist() == [1, 0]
    assert tail.positions is not None and tail.positions.tolist() == [1]
    assert head.slates is not None and head.slates.tolist() == [9, 9]
    assert tail.slates is not None and tail.slates.tolist() == [10]
    bare = replace(whole, positions=None, slates=None)
    for part in (replay_module._head(bare, 1), replay_module._tail(bare, 1)):
        assert part.positions is None and part.slates is None


@pytest.mark.parametrize("rows, holdout, learning", [
    (0, 0.5, 0), (1, 0.5, 1),  # too short to hold a row out
    (2, 0.5, 1), (2, 0.0, 1), (2, 1.0, 1),  # one row each way
    (3, 0.5, 2), (8, 0.25, 6), (10, 0.0, 9), (10, 0.99, 1), (10, 1.0, 1)])
def test_learning_rows_leave_at_least_one_row_each_way(rows: int, holdout: float, learning: int) -> None:
    assert replay_module.learning_rows(rows, holdout) == learning


def test_the_keep_rate_is_one_in_k_on_uniform_logs_and_the_smallest_propensity_otherwise() -> None:
    # a uniform log's propensity may be under 1 / K (some actions never logged): the rate is still 1 / K
    assert replay_module._keep_rate(log_info(uniform=True, actions=("a", "b", "c", "d"), min_propensity=0.2)) == 0.25
    assert replay_module._keep_rate(log_info(min_propensity=0.1)) == 0.1


def test_a_learners_random_stream_is_the_seed_a_3_and_its_ids_checksum() -> None:
    ours = replay_module.streams(7, "ucb")
    spec = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, 3, zlib.crc32(b"ucb")])))
    assert ours.random(3).tolist() == spec.random(3).tolist()
    assert replay_module.streams(7, "ucb").random() != replay_module.streams(7, "ts").random()


def test_method_names() -> None:
    assert replay_module.method_name("uniform", 10.0) == "replay"
    assert replay_module.method_name("rejection", 10.0) == "rejection-sampling replay"
    assert replay_module.method_name("weighted", 2.5) == "importance-weighted replay (weights 1 / (K p) clipped at 2.5)"


@pytest.mark.parametrize("fields, method, chosen", [
    ({"uniform": True, "near_zero": 0.5}, "auto", "uniform"), ({"uniform": True}, "weighted", "uniform"),
    ({}, "auto", "rejection"), ({"near_zero": 0.5}, "auto", "weighted"), ({"near_zero": 1.0}, "auto", "weighted"),
    ({"estimated": True}, "auto", "weighted"), ({"near_zero": 0.5}, "rejection", "rejection"),
    ({}, "weighted", "weighted")])
def test_the_replay_method(fields: dict[str, Any], method: str, chosen: str) -> None:
    assert replay_module.replay_method(log_info(**fields), method) == chosen


@dataclass(kw_only=True)
class Holder(State):
    arms: Array  # (K,): not one row per repetition
    wide: Array  # (R, 3)
    inner: State | None = None


def test_the_layout_of_a_state_and_the_bytes_of_one_repetition() -> None:
    rng = np.random.default_rng(0)

    def holder(reps: int, inner: State | None) -> Holder:
        return Holder(rng=rng, R=reps, K=3, arms=np.zeros(3), wide=np.zeros((reps, 3)), inner=inner)

    def base(reps: int) -> Marked:
        return Marked(rng=rng, R=reps, K=3, marks=np.zeros((reps, 2), dtype=np.int32))

    layout = replay_module._layout(holder(2, base(2)), holder(3, base(3)))
    assert layout.per_rep == {"wide"} and set(layout.nested) == {"inner"}  # arms has K = 3 rows either way
    assert layout.nested["inner"].per_rep == {"marks"} and layout.nested["inner"].nested == {}
    one = holder(1, base(1))
    assert layout.row_bytes(one) == 3 * 8 + 2 * 4
    # a state held by the two-repetition state only is not nested
    assert replay_module._layout(holder(2, base(2)), holder(3, None)).nested == {}


@dataclass(frozen=True)
class Drawing(ByContext):
    """Draws from its generator when made: the layout is read off states made with the same generator each time."""

    draws: ClassVar[list[float]] = []

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        Drawing.draws.append(float(rng.random()))
        return super().init(problem, rng)


def test_the_layout_is_read_off_states_of_two_and_three_repetitions_made_with_a_fixed_generator() -> None:
    Drawing.draws = []
    learner = Learner(RunSpec("drawing", "drawing", Drawing()), log_info(), seed=0)
    first = float(np.random.default_rng(0).random())
    assert Drawing.draws[1:] == [first, first]  # after the learner's own state: reps 2, then 3
    assert learner.layout.per_rep == {"marks"}


# --- a learner's views of its state, its picks, and what it keeps of a picking row ------------------------------

@dataclass(kw_only=True)
class Streamed(State):
    marks: Array  # (R, 2)
    draws: Array  # (R,) uint64: one random stream per repetition


@dataclass(frozen=True)
class Writer(Policy[Any]):
    """Writes row r's number into its marks when it picks (as policies that note their picks do); plays action 1,
    or action 2 once frozen. RAISE: what its select raises instead, when its marks cannot be written."""

    RAISE: ClassVar[str] = ""

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return Streamed(rng=rng, R=problem.reps, K=problem.n_arms, marks=np.zeros((problem.reps, 2)),
                        draws=np.arange(problem.reps, dtype=np.uint64) + np.uint64(11))

    def select(self, state: State, context: Array | None) -> Array:
        assert isinstance(state, Streamed)
        if self.RAISE and not state.marks.flags.writeable:
            raise ValueError(self.RAISE)
        state.marks[:, 0] += np.arange(state.R)
        return np.ones(state.R, dtype=np.int64)

    def update(self, state: State, feedback: Feedback) -> None:
        pass

    def exploit(self, state: State, context: Array | None) -> Array:
        return np.full(state.R, 2, dtype=np.int64)


@dataclass(frozen=True)
class Reader(Writer):
    """Reads its state only."""

    def select(self, state: State, context: Array | None) -> Array:
        return np.ones(state.R, dtype=np.int64)


@dataclass(frozen=True)
class Numba(Writer):
    RAISE = "Cannot modify readonly array of type array(float64, 2d, A)"


@dataclass(frozen=True)
class Broken(Writer):
    RAISE = "operands could not be broadcast together"


def test_a_view_gives_each_row_the_random_stream_of_its_place_in_the_log() -> None:
    learner = Learner(RunSpec("reader", "reader", Reader()), log_info(), seed=0)
    view = learner.view(3, 5)
    assert isinstance(view, Streamed) and view.R == 3 and view.aux is None
    assert view.draws.tolist() == kernel_rng.split(np.uint64(11), np.array([5, 6, 7])).tolist()
    assert view.marks.shape == (3, 2) and not view.marks.flags.writeable
    assert learner.state.R == 1 and learner.state.draws.tolist() == [11]  # the state itself is left as it was


def test_a_learner_picks_by_select_unless_frozen_and_keeps_arrays_select_did_not_write() -> None:
    learner = Learner(RunSpec("reader", "reader", Reader()), log_info(), seed=0)
    before = learner.state.marks
    view, picks = learner.pick(3, None, 0)
    assert picks.tolist() == [1, 1, 1] and learner.pick(2, None, 0, final=True)[1].tolist() == [2, 2]
    view, picks = learner.pick(3, None, 0)
    learner.commit(view, 2)
    assert learner.state.marks is before and not learner.copying  # read through a view: nothing to copy back


def test_a_learner_whose_select_writes_gets_copies_and_keeps_the_picking_rows_copy() -> None:
    learner = Learner(RunSpec("writer", "writer", Writer()), log_info(), seed=0)
    view, picks = learner.pick(3, None, 4)
    assert learner.copying and picks.tolist() == [1, 1, 1]
    learner.commit(view, 2)
    assert isinstance(learner.state, Streamed) and learner.state.marks.tolist() == [[2.0, 0.0]]
    # the random stream goes on from the picking row's: row 2 of a view from row 4 of the log
    assert learner.state.draws.tolist() == kernel_rng.split(np.uint64(11), np.array([6])).tolist()


def test_a_compiled_kernels_readonly_error_also_switches_to_copies() -> None:
    learner = Learner(RunSpec("numba", "numba", Numba()), log_info(), seed=0)
    assert learner.pick(2, None, 0)[1].tolist() == [1, 1] and learner.copying


def test_other_errors_of_select_are_raised_and_change_nothing() -> None:
    learner = Learner(RunSpec("broken", "broken", Broken()), log_info(), seed=0)
    with pytest.raises(ValueError, match="could not be broadcast"):
        learner.pick(2, None, 0)
    assert not learner.copying


# --- pass 2: a chunk's learning rows replayed, and the reward model and the logging policy's sums ----------------

def test_a_chunk_across_the_split_feeds_the_model_and_sums_and_replays_its_learning_rows_only() -> None:
    replay = Replay(log_info(), [ONE], seed=0)  # split 4; one plays 2 while learning, never logged: keeps nothing
    replay.read_chunk(chunk(2, 8))  # `shared` by default
    (learner,) = replay.learners
    assert learner.selections == 2 and learner.kept == 0  # rows 2 and 3
    assert replay.reward_range == (1.0, 9.0)
    assert replay.sums.sums["reward"].tolist() == [0, 0, 9, 9, 0, 0, 0, 0]
    assert replay.sums.sums["rows"].tolist() == [0, 0, 1, 1, 0, 0, 0, 0]
    assert replay.sums.sums["heldout_reward"].tolist() == [0, 0, 0, 0, 2, 3, 5, 1]
    assert replay.sums.sums["heldout_rows"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    # the model's sums, fold row % 2, on x = (1, c) and r - 0.5: action 0 in fold 0 is rows 2 and 4 (c 0, r 9 and
    # 2), action 1 in fold 1 rows 3 and 5 (c 1 and 2, r 9 and 3)
    assert replay.model.gram[0, 0].tolist() == [[2, 0], [0, 0]] and replay.model.target[0, 0].tolist() == [10, 0]
    assert replay.model.gram[1, 1].tolist() == [[2, 3], [3, 5]] and replay.model.target[1, 1].tolist() == [11, 13.5]
    assert replay.model.gram.sum() == 2 + 2 + 3 + 3 + 5 + (1 + 1 + 1 + 1) + (1 + 1 + 1 + 1)  # rows 6 and 7 too
    replay.read_chunk(chunk(0, 2))  # before the split: learning rows only
    assert replay.reward_range == (1.0, 9.0) and learner.selections == 4
    assert replay.sums.sums["reward"].tolist() == [9, 9, 9, 9, 0, 0, 0, 0]
    assert replay.sums.total("heldout_rows") == 4


def test_a_chunk_after_the_split_is_held_out_whole() -> None:
    replay = Replay(log_info(), [ONE], seed=0)
    replay.read_chunk(chunk(5, 8), shared=True)
    assert replay.learners[0].selections == 0 and replay.sums.total("rows") == 0
    assert replay.sums.sums["heldout_reward"].tolist() == [0, 0, 0, 0, 0, 3, 5, 1]
    assert replay.reward_range == (1.0, 5.0)


def test_a_learners_own_pass_replays_without_the_shared_sums() -> None:
    replay = Replay(log_info(), [ONE], seed=0)
    replay.read_chunk(chunk(2, 8), shared=False)
    assert replay.learners[0].selections == 2
    assert replay.reward_range == (np.inf, -np.inf) and replay.reward_total == 0.0
    for name in ("reward", "rows", "heldout_reward", "heldout_rows"):
        assert replay.sums.total(name) == 0.0, name
    assert not replay.model.gram.any() and not replay.model.target.any()


# --- what a learner and a replay start from ----------------------------------------------------------------------

@dataclass(frozen=True)
class Told(ByContext):
    """Notes the problems it is made for."""

    problems: ClassVar[list[Problem]] = []

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        Told.problems.append(problem)
        return super().init(problem, rng)


@dataclass(frozen=True)
class ToldArms(Told):
    kinds: ClassVar[frozenset[str]] = frozenset({"arms"})


@pytest.mark.parametrize("policy, fields, kind, reward, rounds", [
    (Told(), {}, "contextual", "continuous", 2),  # 8 rows x a keep rate of 0.25
    (ToldArms(), {"binary": True, "min_propensity": 0.1}, "arms", "binary", 1),  # 0.8 rounds: at least one
    (ToldArms(), {"rows": 80, "min_propensity": 0.1}, "arms", "continuous", 8)])
def test_a_learner_is_made_for_one_repetition_of_the_logs_problem(policy: Told, fields: dict[str, Any], kind: str,
                                                                   reward: str, rounds: int) -> None:
    Told.problems = []
    learner = Learner(RunSpec("told", "told", policy), log_info(**fields), seed=4, stream="shared")
    assert Told.problems[0] == Problem(
        kind=kind, reward=reward, n_arms=3, n_features=2, slate_size=1, rounds=rounds, reps=1, dynamics="stationary",
        delay="immediate", mean_delay=1, batch_size=1, constraint="none", objective="cumulative")
    assert [p.reps for p in Told.problems] == [1, 2, 3]  # the state, then the layout's two
    assert learner.contextual == (kind == "contextual") and learner.stream == "shared"
    assert learner.state.rng.random() == replay_module.streams(4, "shared").random()
    assert learner.copying is False and learner.gap == 3.0 and learner.last == -1
    assert (learner.kept, learner.matched, learner.selections, learner.unsupported) == (0, 0, 0, 0)
    assert learner.expected_kept == 0.0 and learner.seconds == 0.0
    assert learner.created == {} and learner.views == {} and learner.wide == {}


def test_a_learner_draws_from_its_own_ids_stream_unless_given_one() -> None:
    learner = Learner(CTX, log_info(), seed=4)
    assert learner.stream == "ctx" and learner.state.rng.random() == replay_module.streams(4, "ctx").random()


def test_what_a_replay_starts_from() -> None:
    replay = Replay(log_info(counts=(1, 4, 0)), [CTX, ONE], seed=6)
    assert replay.method == "rejection" and replay.clip == 10.0 and replay.seed == 6
    assert [le.stream for le in replay.learners] == ["ctx", "one"]
    assert replay.checkpoints.tolist() == [1, 2, 3, 4] and replay.curves.shape == (2, 4)
    assert np.isnan(replay.curves).all() and replay.logging_curve.tolist() == [0.0] * 4
    assert replay.earned.tolist() == [0.0, 0.0] and replay.weight_sums.tolist() == [0.0, 0.0]
    assert replay.reward_total == 0.0 and replay.reward_range == (np.inf, -np.inf)
    assert replay.supported.tolist() == [True, True, False]  # an action logged once is supported
    assert replay.coins.random() == np.random.Generator(np.random.PCG64(np.random.SeedSequence([6, 5]))).random()
    assert (replay.model.low, replay.model.high, replay.model.offset) == (-np.inf, np.inf, 0.5)
    binary = Replay(log_info(binary=True), [], seed=0)
    assert (binary.model.low, binary.model.high) == (0.0, 1.0)


def test_a_replay_needs_a_stream_for_each_candidate() -> None:
    with pytest.raises(ValueError):
        Replay(log_info(), [CTX, ONE], seed=0, streams=["only one"])


@pytest.mark.parametrize("rows, checkpoints", [
    (200, list(range(1, 101))),  # split 100: every learning row
    (1000, [int(v) for v in np.linspace(1, 500, 200).round()])])  # split 500: 200 points from the first row
def test_checkpoints_are_every_learning_row_up_to_200_points(rows: int, checkpoints: list[int]) -> None:
    assert Replay(log_info(rows=rows), [], seed=0).checkpoints.tolist() == checkpoints
    assert checkpoints[0] == 1 and checkpoints[-1] == rows // 2 and len(checkpoints) == min(rows // 2, 200)


# --- pass 2 by hand: which rows a learner keeps, their weights, its curve ------------------------------------------

def learning_chunk(start: int, stop: int, propensities: tuple[float, ...]) -> Chunk:
    """Rows 0..3 of a learning stretch: actions 0, 1, 0, 0, rewards 1, 0, 3, 2."""
    part = slice(start, stop)
    return Chunk(start, np.array([0, 1, 0, 0])[part], np.array([1.0, 0.0, 3.0, 2.0])[part],
                 np.array(propensities)[part], np.column_stack([np.ones(4), np.zeros(4)])[part])


@dataclass(frozen=True)
class PlaysZero(Reader):
    """Plays action 0 while learning; counts the rounds it learns from in its state."""

    def select(self, state: State, context: Array | None) -> Array:
        return np.zeros(state.R, dtype=np.int64)


PLAYS_ZERO = RunSpec("zero", "zero", PlaysZero())


@pytest.mark.parametrize("cuts", [((0, 4),), ((0, 2), (2, 4)), ((0, 1), (1, 3), (3, 4))])
def test_weighted_replay_keeps_every_matching_row_with_its_clipped_weight(cuts: tuple[tuple[int, int], ...]) -> None:
    # K = 3: raw weights 1 / (3 p) = 2/3, 4/3, 10/3, 1; clipped at 2: 2/3, 4/3, 2, 1
    propensities = (0.5, 0.25, 0.1, 1 / 3)
    replay = Replay(log_info(), [ONE, PLAYS_ZERO], seed=0, method="weighted", clip=2.0)
    assert replay.checkpoints.tolist() == [1, 2, 3, 4]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for a checkpoint before the first kept row
        for start, stop in cuts:
            replay.replay_chunk(learning_chunk(start, stop, propensities))
    zero = replay.learners[1]
    assert (zero.kept, zero.matched, zero.selections, zero.unsupported, zero.last) == (3, 3, 4, 0, 3)
    assert zero.expected_kept == 3.0 and zero.state.t == 3
    assert close(replay.sums.sums["zero:kept_reward"][:4], [2 / 3, 0.0, 6.0, 2.0])
    assert close(replay.sums.sums["zero:kept"][:4], [2 / 3, 0.0, 2.0, 1.0])
    assert close(replay.sums.sums["zero:kept_squared"][:4], [4 / 9, 0.0, 4.0, 1.0])
    assert close(replay.sums.sums["zero:kept_raw"][:4], [2 / 3, 0.0, 10 / 3, 1.0])  # unclipped
    assert close(replay.earned, [0.0, 26 / 3]) and close(replay.weight_sums, [0.0, 11 / 3])
    # the running weighted mean after rows 0, 1, 2, 3
    assert close(replay.curves[1], [1.0, 1.0, (2 / 3 + 6) / (2 / 3 + 2), (26 / 3) / (11 / 3)])
    assert np.isnan(replay.curves[0]).all()  # one plays 2: it keeps nothing
    one = replay.learners[0]
    assert (one.kept, one.matched, one.selections, one.unsupported) == (0, 0, 4, 4)  # action 2: never logged
    assert replay.logging_curve.tolist() == [1.0, 0.5, 4 / 3, 1.5] and replay.reward_total == 6.0
    assert replay.sums.sums["reward"][:4].tolist() == [1.0, 0.0, 3.0, 2.0]
    assert replay.sums.sums["rows"][:4].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert zero.seconds > 0.0 and one.seconds > 0.0


def test_a_learners_stretches_grow_with_the_rows_between_its_kept_rounds() -> None:
    replay = Replay(log_info(), [PLAYS_ZERO], seed=0, method="weighted")
    replay.replay_chunk(learning_chunk(0, 4, (0.5, 0.25, 0.1, 1 / 3)))
    # gap 3; after row 0: 3 + (0 + 1 - 3) / 20; after row 2: + (2 - 2.9) / 20; after row 3: + (1 - 2.855) / 20
    assert close(replay.learners[0].gap, 2.855 + (1 - 2.855) * 0.05)


def test_rejection_sampling_keeps_a_matching_row_with_probability_p_min_over_p() -> None:
    # p_min 0.001: rows 0 and 2 (p 0.001) are accepted surely, rows 1 and 3 (p 0.9) with probability 1 / 900
    propensities = (0.001, 0.9, 0.001, 0.9)
    coins = np.random.Generator(np.random.PCG64(np.random.SeedSequence([0, 5]))).random(4)
    assert coins[1] > 0.002 and coins[3] > 0.002  # this seed's draws reject rows 1 and 3
    replay = Replay(log_info(min_propensity=0.001), [PLAYS_ZERO], seed=0, method="rejection")
    chunk4 = learning_chunk(0, 4, propensities)
    chunk4.actions = np.zeros(4, dtype=np.int64)  # every row matches
    replay.replay_chunk(chunk4)
    (zero,) = replay.learners
    assert (zero.kept, zero.matched, zero.selections) == (2, 4, 4)
    assert close(zero.expected_kept, 2 + 2 / 900)
    assert replay.sums.sums["zero:kept"][:4].tolist() == [1.0, 0.0, 1.0, 0.0]  # weights 1
    assert replay.sums.sums["zero:kept_raw"][:4].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert replay.sums.sums["zero:kept_squared"][:4].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert replay.sums.sums["zero:kept_reward"][:4].tolist() == [1.0, 0.0, 3.0, 0.0]
    assert close(replay.curves[0], [1.0, 1.0, 2.0, 2.0])
    assert replay.coins.random() == np.random.Generator(np.random.PCG64(np.random.SeedSequence([0, 5]))).random(5)[4]


def test_replay_on_a_uniform_log_keeps_every_matching_row_with_weight_one() -> None:
    replay = Replay(log_info(uniform=True, min_propensity=1 / 3), [PLAYS_ZERO], seed=0, method="rejection")
    first = replay.coins.bit_generator.state
    replay.replay_chunk(learning_chunk(0, 4, (1 / 3,) * 4))
    assert replay.coins.bit_generator.state == first  # no coins drawn
    (zero,) = replay.learners
    assert (zero.kept, zero.matched, zero.expected_kept) == (3, 3, 3.0)
    assert replay.sums.sums["zero:kept"][:4].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert replay.sums.sums["zero:kept_raw"][:4].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert close(replay.curves[0], [1.0, 1.0, 2.0, 2.0])


def test_a_learners_own_pass_keeps_its_own_sums_only() -> None:
    replay = Replay(log_info(), [PLAYS_ZERO], seed=0, method="weighted")
    replay.replay_chunk(learning_chunk(0, 4, (0.5, 0.25, 0.1, 1 / 3)), shared=False)
    assert replay.learners[0].kept == 3 and replay.sums.total("zero:kept") > 0
    assert replay.sums.total("reward") == replay.sums.total("rows") == replay.reward_total == 0.0
    assert replay.logging_curve.tolist() == [0.0] * 4


@dataclass(frozen=True)
class Script(Policy[Any]):
    """Contextual: plays the action in its context's second entry, notes 100 + the row's place in the view as aux;
    its selects (rows, contexts, the first row's random stream) and updates are noted."""

    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})
    selects: ClassVar[list[tuple[int, list[float], int]]] = []
    updates: ClassVar[list[Feedback]] = []
    states: ClassVar[list[State]] = []

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return Streamed(rng=rng, R=problem.reps, K=problem.n_arms, marks=np.zeros((problem.reps, 2)),
                        draws=np.arange(problem.reps, dtype=np.uint64) + np.uint64(11))

    def select(self, state: State, context: Array | None) -> Array:
        assert isinstance(state, Streamed) and context is not None and len(context) == state.R
        Script.selects.append((state.R, list(context[:, 1]), int(state.draws[0])))
        state.aux = np.arange(state.R) + 100.0
        return np.asarray(context[:, 1], dtype=np.int64)

    def update(self, state: State, feedback: Feedback) -> None:
        Script.updates.append(feedback)
        Script.states.append(state)


SCRIPT = RunSpec("script", "script", Script())
# Ten learning rows: the learner plays 2 (never logged), 1 or 0; the logged action is 0 but at row 8
PLAYS = [2.0, 1.0, 2.0, 1.0, 1.0, 1.0, 2.0, 0.0, 2.0, 0.0]
TEN = Chunk(20, np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), np.arange(10.0) / 10, np.full(10, 0.5),
            np.column_stack([np.ones(10), PLAYS]))


def test_a_learner_picks_stretch_by_stretch_and_learns_from_the_first_match_of_each() -> None:
    Script.selects, Script.updates, Script.states = [], [], []
    replay = Replay(log_info(rows=40), [SCRIPT], seed=0, method="weighted")
    replay.replay_chunk(TEN)
    (learner,) = replay.learners
    # gap 3: a stretch of 6 rows (20..25) without a match; then 4 rows (26..29) matching at 27; gap 3 + (27 + 1 -
    # 3) / 20 = 4.25: 8 rows, cut at the chunk's end (28, 29), matching at 29
    after_27 = kernel_rng.split(np.uint64(11), np.array([27]))[0]
    assert Script.selects == [(6, PLAYS[:6], int(kernel_rng.split(np.uint64(11), np.array([20]))[0])),
                              (4, PLAYS[6:], int(kernel_rng.split(np.uint64(11), np.array([26]))[0])),
                              (2, PLAYS[8:], int(kernel_rng.split(after_27, np.array([28]))[0]))]
    assert (learner.kept, learner.matched, learner.selections, learner.last) == (2, 2, 10, 29)
    assert learner.unsupported == 4  # rows 20, 22, 26 and 28 play action 2
    first, second = Script.updates
    for feedback, row, aux in ((first, 7, 101.0), (second, 9, 101.0)):
        assert feedback.reps.dtype == np.int64 and feedback.reps.tolist() == [0]
        assert feedback.actions.tolist() == [0] and feedback.observed.tolist() == [row / 10]
        assert feedback.contexts is not None and feedback.contexts.tolist() == [[1.0, 0.0]]
        assert feedback.aux is not None and feedback.aux.tolist() == [aux] and feedback.unique is True
    assert close(learner.gap, 4.25 + (29 - 27 - 4.25) * 0.05)
    assert Script.states[0] is learner.state and Script.states[1] is learner.state  # it learns in its own state


def test_a_learners_seconds_add_up_over_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([10.0, 11.0, 20.0, 23.0])
    monkeypatch.setattr(replay_module, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    replay = Replay(log_info(), [PLAYS_ZERO], seed=0, method="weighted")
    replay.replay_chunk(learning_chunk(0, 2, (0.5,) * 4))
    replay.replay_chunk(learning_chunk(2, 4, (0.5,) * 4))
    assert replay.learners[0].seconds == 1.0 + 3.0


def test_a_learner_that_notes_nothing_hands_no_aux_and_gets_no_contexts() -> None:
    replay = Replay(log_info(), [PLAYS_ZERO], seed=0, method="weighted")
    seen: list[Feedback] = []
    replay.learners[0].policy = cast(Any, SimpleNamespace(
        select=PlaysZero().select, update=lambda state, feedback: seen.append(feedback)))
    replay.replay_chunk(learning_chunk(0, 4, (0.5, 0.25, 0.1, 1 / 3)))
    assert len(seen) == 3 and all(f.aux is None and f.contexts is None for f in seen)


@pytest.mark.parametrize("actions, stretches", [
    (2, [4, 4, 2]),  # 2 x gap 2 is 4: at least 4 rows
    (1100, [2048, 52])])  # 2 x gap 1100: at most 2048 rows
def test_a_stretch_is_twice_the_gap_between_kept_rows_from_4_to_2048(actions: int, stretches: list[int]) -> None:
    sizes: list[int] = []
    labels = tuple(str(a) for a in range(actions))
    replay = Replay(log_info(actions=labels, counts=(1,) * actions), [ONE], seed=0, method="weighted")

    def select(state: State, context: Array | None) -> Array:
        sizes.append(state.R)
        return np.ones(state.R, dtype=np.int64)

    replay.learners[0].policy = cast(Any, SimpleNamespace(select=select, update=None))
    n = sum(stretches)
    replay.replay_chunk(Chunk(0, np.zeros(n, dtype=np.int64), np.zeros(n), np.full(n, 0.5), np.ones((n, 2))))
    assert sizes == stretches and replay.learners[0].selections == n


# --- a wrapper's state: the base's state inside, broadcast and kept layer by layer -------------------------------

@dataclass(kw_only=True)
class Outer(State):
    inner: State  # the base's state
    base_problem: Problem  # kept to start the base afresh
    seen: Array  # (R,)
    note: str = ""


@dataclass(frozen=True)
class Wrapper(Policy[Any]):
    """Around Writer: makes it pick (writing its marks), notes a word, swaps in a generator of its own; RESTART starts
    the base afresh (its second marks column 50 + the row) before it picks."""

    RESTART: ClassVar[bool] = False

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return Outer(rng=rng, R=problem.reps, K=problem.n_arms, inner=Writer().init(problem, rng), base_problem=problem,
                     seen=np.zeros(problem.reps))

    def select(self, state: State, context: Array | None) -> Array:
        assert isinstance(state, Outer) and state.base_problem.reps == state.R == state.inner.R
        if self.RESTART:
            fresh = Writer().init(state.base_problem, np.random.default_rng(1))
            assert isinstance(fresh, Streamed)
            fresh.marks[:, 1] = np.arange(state.R) + 50.0
            state.inner = fresh
        state.note = "picked"
        state.rng = np.random.default_rng(99)
        return Writer().select(state.inner, context)

    def update(self, state: State, feedback: Feedback) -> None:
        pass


@dataclass(frozen=True)
class Restarting(Wrapper):
    RESTART = True


def test_a_wrappers_view_holds_a_view_of_its_bases_state_and_a_problem_of_as_many_rows() -> None:
    learner = Learner(RunSpec("wrapper", "wrapper", Wrapper()), log_info(), seed=0)
    assert learner.layout.per_rep == {"seen"} and set(learner.layout.nested) == {"inner"}
    assert learner.layout.nested["inner"].per_rep == {"marks", "draws"}
    view = learner.view(3, 5)
    assert isinstance(view, Outer) and isinstance(view.inner, Streamed)
    assert view.R == view.inner.R == 3 and view.base_problem.reps == 3 and learner.layout.problems == ("base_problem",)
    assert view.inner is learner.views["inner"] and view.inner.marks.shape == (3, 2)
    assert learner.created["inner.marks"] is view.inner.marks and learner.created["seen"] is view.seen
    assert view.inner.draws.tolist() == kernel_rng.split(np.uint64(11), np.array([5, 6, 7])).tolist()
    assert isinstance(learner.state, Outer) and learner.state.base_problem.reps == 1 and learner.state.R == 1


def test_a_wrapper_keeps_the_picking_rows_copy_layer_by_layer() -> None:
    learner = Learner(RunSpec("wrapper", "wrapper", Wrapper()), log_info(), seed=0)
    state = learner.state
    assert isinstance(state, Outer)
    inner, rng, seen = state.inner, state.rng, state.seen
    view, picks = learner.pick(3, None, 5)
    assert learner.copying and picks.tolist() == [1, 1, 1]
    learner.commit(view, 1)
    assert learner.state is state and state.inner is inner  # the same states, updated in place
    assert isinstance(inner, Streamed) and inner.marks.tolist() == [[1.0, 0.0]] and inner.R == 1
    assert inner.draws.tolist() == kernel_rng.split(np.uint64(11), np.array([6])).tolist()
    assert state.R == 1 and state.rng is rng and state.note == "picked" and state.base_problem.reps == 1
    assert state.seen.tolist() == [0.0] and state.seen is not seen  # copied: the row's copy kept


def test_a_base_started_afresh_during_select_is_kept_cut_to_the_picking_row() -> None:
    learner = Learner(RunSpec("restarting", "restarting", Restarting()), log_info(), seed=0)
    state = learner.state
    assert isinstance(state, Outer)
    old = state.inner
    view, _ = learner.pick(3, None, 5)
    learner.commit(view, 2)
    fresh = state.inner
    assert fresh is not old and isinstance(fresh, Streamed) and fresh.R == 1
    assert fresh.marks.tolist() == [[2.0, 52.0]] and fresh.draws.tolist() == [13]


@dataclass(frozen=True)
class Forgetful(Wrapper):
    """Notes an array of its own in its base's state in its first round; starts the base afresh in its second."""

    def select(self, state: State, context: Array | None) -> Array:
        assert isinstance(state, Outer)
        if state.t == 0:
            vars(state.inner)["extra"] = np.arange(state.R) + 7.0
        elif state.t == 1:
            state.inner = Writer().init(state.base_problem, np.random.default_rng(1))
        return np.ones(state.R, dtype=np.int64)


def test_an_array_a_base_state_no_longer_holds_is_left_out_of_its_views() -> None:
    learner = Learner(RunSpec("forgetful", "forgetful", Forgetful()), log_info(), seed=0)
    state = learner.state
    assert isinstance(state, Outer)
    for first, row in ((0, 1), (2, 0)):
        view, _ = learner.pick(2, None, first)
        learner.commit(view, row)
        state.t += 1
        if first == 0:
            assert vars(state.inner)["extra"].tolist() == [8.0]
    assert "extra" in learner.layout.nested["inner"].per_rep and "extra" not in vars(state.inner)
    view, picks = learner.pick(2, None, 4)
    assert isinstance(view, Outer) and picks.tolist() == [1, 1] and "extra" not in vars(view.inner)


def test_rejection_sampling_keeps_a_row_only_when_its_draw_is_under_the_acceptance_probability() -> None:
    draw = float(np.random.Generator(np.random.PCG64(np.random.SeedSequence([0, 5]))).random())
    # p_min equal to the first coin's draw, and a row logged with propensity 1: accepted with probability `draw`,
    # and this draw is not under it
    replay = Replay(log_info(min_propensity=draw), [PLAYS_ZERO], seed=0, method="rejection")
    one_row = Chunk(0, np.zeros(1, dtype=np.int64), np.ones(1), np.ones(1), np.ones((1, 2)))
    replay.replay_chunk(one_row)
    (zero,) = replay.learners
    assert (zero.kept, zero.matched) == (0, 1) and zero.expected_kept == draw
