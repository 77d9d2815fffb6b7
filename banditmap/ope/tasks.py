"""Replay's learners as tasks of the one executor (banditmap.executor): this process makes the passes' shared part
(the reward model, fitted on every row, and the logging policy's sums), then each task replays one learner on the
learning rows and scores its final policy on the held-out rows, reading the parsed log chunk by chunk from the
folder the first pass left it in (a task carries that folder's name and the encoding, never the rows). A learner's
figures depend on the log, the seed and its stream id only, so they are the same whatever the engine, the number of
workers and the order tasks finish in."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from banditmap.executor import Engine, fan_out
from banditmap.ope.estimators import BlockSums, RewardModel
from banditmap.ope.logs import ChunkFiles, LogStore
from banditmap.ope.replay import SCORES, Learner, Replay
from banditmap.ope.results import ReplayResult
from banditmap.sim.runner import Progress, RunSpec

Array = np.ndarray


@dataclass(frozen=True)
class LearnerTask:
    """One learner to replay and score: the log's chunks, the candidate and its random stream's id, the replay's
    settings, and the reward model fitted on every row (for DM and DR)."""

    log: ChunkFiles
    candidate: RunSpec
    stream: str
    seed: int
    holdout: float
    method: str
    clip: float
    model: RewardModel


@dataclass(frozen=True)
class LearnerOutcome:
    """What a task found for its learner: its block sums of pass 2 and 3, its curve and its counts."""

    sums: dict[str, Array]
    scores: dict[str, Array]
    max_weight: float
    curve: Array  # running replayed reward at the checkpoints
    earned: float
    weight_sum: float
    kept: int
    matched: int
    expected_kept: float
    selections: int
    unsupported: int
    seconds: float  # wall-clock: differs from run to run


def score_names(keys: Sequence[str], n_positions: int) -> tuple[str, ...]:
    """The held-out score sums of the learners named by `keys`."""
    return tuple(f"{key}:{k}" for key in keys for k in SCORES) + tuple(
        f"{key}:{name}@{k}" for key in keys for k in range(n_positions) for name in ("ips", "w", "w2"))


def shared_score_names(n_positions: int) -> tuple[str, ...]:
    return tuple(f"{name}@{k}" for k in range(n_positions) for name in ("rows", "uniform"))


def replay_learner(task: LearnerTask) -> LearnerOutcome:
    """Replay one learner on the learning rows and score its final policy on the held-out rows (module level, so
    worker processes find it)."""
    started = time.perf_counter()
    replay = Replay(task.log.info, [task.candidate], task.seed, task.holdout, task.method, task.clip, [task.stream])
    replay.model = task.model
    for chunk in task.log.chunks():
        replay.read_chunk(chunk, shared=False)
    key = task.candidate.id
    scores = BlockSums(replay.blocks, score_names([key], replay.n_positions))
    max_weight = {key: 0.0}
    for chunk in task.log.chunks():
        replay.score_chunk(chunk, scores, max_weight, shared=False)
    learner = replay.learners[0]
    return LearnerOutcome(
        {name: values for name, values in replay.sums.sums.items() if name.startswith(f"{key}:")}, scores.sums,
        max_weight[key], replay.curves[0], float(replay.earned[0]), float(replay.weight_sums[0]), learner.kept,
        learner.matched, learner.expected_kept, learner.selections, learner.unsupported,
        time.perf_counter() - started)


def evaluate_apart(store: LogStore, candidates: Sequence[RunSpec], seed: int, progress: Progress | None,
                   skipped: Sequence[tuple[str, str]], holdout: float, method: str, clip: float, engine: Engine,
                   streams: Sequence[str] | None = None) -> ReplayResult:
    """As replay.evaluate, with every learner a task of the executor (slate logs excepted: their PI scorer reads
    every learner at once, so replay.evaluate keeps them in this process)."""
    info = store.info
    replay = Replay(info, candidates, seed, holdout, method, clip, streams)
    learners, replay.learners = replay.learners, []
    for chunk in store.chunks():  # the shared part: reward model and the logging policy's sums
        replay.read_chunk(chunk)
    replay.model.fit()
    scores = BlockSums(replay.blocks, score_names([c.id for c in candidates], replay.n_positions)
                       + shared_score_names(replay.n_positions))
    for chunk in store.chunks():
        replay.score_chunk(chunk, scores, {})
    replay.learners = learners
    files = store.files
    tasks = [LearnerTask(files, c, stream, seed, holdout, method, clip, replay.model)
             for c, stream in zip(candidates, [learner.stream for learner in learners], strict=True)]
    done = 0

    def arrived(index: int, outcome: LearnerOutcome) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("replay", done, len(tasks))

    outcomes = fan_out(replay_learner, tasks, engine, arrived, name=lambda t: f"replay of {t.candidate.id}")
    max_weight = {}
    for index, (learner, outcome) in enumerate(zip(learners, outcomes, strict=True)):
        _merge(replay, scores, index, learner, outcome)
        max_weight[learner.candidate.id] = outcome.max_weight
    from banditmap.ope.summary import summarise
    return summarise(replay, scores, max_weight, tuple(skipped))


def _merge(replay: Replay, scores: BlockSums, index: int, learner: Learner, outcome: LearnerOutcome) -> None:
    for name, values in outcome.sums.items():
        replay.sums.sums[name] = values
    for name, values in outcome.scores.items():
        scores.sums[name] = values
    replay.curves[index] = outcome.curve
    replay.earned[index], replay.weight_sums[index] = outcome.earned, outcome.weight_sum
    learner.kept, learner.matched, learner.expected_kept = outcome.kept, outcome.matched, outcome.expected_kept
    learner.selections, learner.unsupported, learner.seconds = outcome.selections, outcome.unsupported, \
        outcome.seconds
