"""Replay of composed candidates (a base policy wrapped by the simulator's adapters) on logs generated from a
known environment: the same learner as in a live run, the composite id in the output, and the adapters whose
decisions are not single actions left out with their reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_replay import online_reward
from typer.testing import CliRunner

from banditmap.cli.app import app
from banditmap.model import Catalog, Profile
from banditmap.ope import logs, replay, synthetic
from banditmap.recommend import replay as shortlist
from banditmap.recommend.candidates import why_not_shortlisted
from banditmap.recommend.matching import shortlist as ranked
from banditmap.sim.adapters import build_wrapper
from banditmap.sim.kernels.rng import split
from banditmap.sim.policies import Feedback, Policy, build
from banditmap.sim.runner import RunSpec

COMPOSED = ("ucb1+sliding-window", "ucb1+delay-queue", "linucb+conservative")


Made = tuple[synthetic.LogEnvironment, Path]


def write(tmp_path: Path, rows: int, n_actions: int = 5, n_features: int = 3, seed: int = 4) -> Made:
    """A uniformly logged CSV from a known environment (binary rewards, contexts with `n_features` features)."""
    env = synthetic.make_environment(n_actions, n_features, True, np.random.default_rng(seed))
    path = tmp_path / "log.csv"
    synthetic.write_csv(path, env, synthetic.LoggingPolicy("uniform"), rows, 1)
    return env, path


def composed(candidate_id: str, **params: str) -> RunSpec:
    """`base+adapter+...` from the simulator's defaults, the adapters' hyperparameters given by name."""
    base, *adapters = candidate_id.split("+")
    policy: Policy = build(base, {}, base)
    for adapter in adapters:
        policy = build_wrapper(adapter, policy, dict(params), adapter)
    return RunSpec(candidate_id, candidate_id, policy)


def test_replay_recovers_each_composed_learners_online_reward(tmp_path: Path) -> None:
    """Uniform logs of 30,000 rows (about 3,000 kept rounds each in the first half, where learners learn); the truth is a live run of 30 repetitions
    (seed 5) for as many decisions as were kept. Same margins as for the plain learners in test_replay."""
    env, path = write(tmp_path, 30_000)
    with logs.read_logs(path) as store:
        result = replay.evaluate(store, [composed(i) for i in COMPOSED], seed=0)
    by_id = {r.id: r for r in result.results}
    inside = 0
    for candidate_id in COMPOSED:
        r = by_id[candidate_id]
        assert r.evaluable and r.kept > 2500, (candidate_id, r.kept)
        truth = online_reward(env, composed(candidate_id).policy, r.kept, 30, seed=5)
        half = (r.replayed.high - r.replayed.low) / 2
        inside += r.replayed.low <= truth <= r.replayed.high
        assert abs(r.replayed.value - truth) <= 1.5 * half, (candidate_id, r.replayed, truth)
    assert inside >= 2
    uniform = float(np.mean(env.expected(env.contexts(100_000, np.random.default_rng(0)))))
    assert min(by_id[i].replayed.value for i in COMPOSED) > uniform + 0.01  # learning pays through the wrappers
    assert by_id["linucb+conservative"].contextual and not by_id["ucb1+sliding-window"].contextual


def row_streams(state: Any, row: int) -> None:
    """Give the state's random streams (kernels.rng, in it or in the states it holds) the log row's own, as replay
    does for each row it hands a copy of the state to (banditmap.ope.replay.Learner.view)."""
    for name, value in vars(state).items():
        if isinstance(value, np.ndarray) and value.dtype == np.uint64 and value.ndim == 1:
            setattr(state, name, split(value[0], np.array([row], dtype=np.int64)))
        elif hasattr(value, "__dict__") and hasattr(value, "R"):
            row_streams(value, row)


def one_row_at_a_time(spec: RunSpec, store: logs.LogStore) -> tuple[int, float]:
    """Rejection-free replay done the slow way, as Li et al. (2011) state it: for each logged row, a copy of the
    learner's state picks; on a match that copy becomes the state and learns the row. Kept rows and reward, over
    the rows learners learn on (the log but its held-out end)."""
    learning = replay.learning_rows(store.info.rows, replay.HOLDOUT)
    learner = replay.Learner(spec, store.info, 0)  # only for its freshly made state
    policy, state = spec.policy, learner.state
    kept, earned = 0, 0.0
    for chunk in store.chunks():
        for row in range(max(0, min(len(chunk), learning - chunk.start))):
            trial = copy.deepcopy(state)
            trial.aux = None
            row_streams(trial, chunk.start + row)
            if int(policy.select(trial, None)[0]) != chunk.actions[row]:
                continue
            state = trial
            state.t += 1
            policy.update(state, Feedback(np.zeros(1, dtype=np.int64), chunk.actions[row:row + 1],
                                          chunk.rewards[row:row + 1], None, state.aux, unique=True))
            kept += 1
            earned += float(chunk.rewards[row])
    return kept, earned


@pytest.mark.parametrize("candidate_id, params", [
    ("ucb1+sliding-window", {"window": "60"}),  # the ring wraps many times: the inner counts are taken away
    ("ucb1+delay-queue", {}),  # writes its queues and its base's state during select: replayed on copies
    ("ucb1+discounting", {"gamma": "0.98"}),  # shrinks its base's counts during select
    ("ucb1+conservative", {"alpha": "0.05"}),  # counts its plays during select
])
def test_broadcast_replay_of_a_composition_equals_the_row_by_row_replay(tmp_path: Path, candidate_id: str,
                                                                        params: dict[str, str]) -> None:
    """Replaying a stretch of rows at once (the wrapper's and its base's state broadcast, each row's random streams
    its own, the matching row's copy kept, chunks of 777 rows) must keep exactly the rows and earn exactly the
    reward that one row at a time does."""
    _, path = write(tmp_path, 4000, n_actions=4, n_features=0)
    spec = composed(candidate_id, **params)
    with logs.read_logs(path, chunk_rows=777) as store:
        result = replay.evaluate(store, [spec], seed=0).results
        kept, earned = one_row_at_a_time(composed(candidate_id, **params), store)
    r = next(r for r in result if r.id == candidate_id)
    assert kept > 400
    assert r.kept == kept and r.replayed.value == pytest.approx(earned / kept, abs=1e-12)


def test_restarts_give_the_replayed_learner_a_fresh_base_of_one_repetition(tmp_path: Path) -> None:
    """Rexp3 starts its base afresh every `batch` decisions during `select`, from the problem it keeps: in replay
    that problem makes as many rows as the stretch, and the learner keeps the matching row's fresh base."""
    _, path = write(tmp_path, 4000, n_actions=4, n_features=0)
    spec = composed("exp3-ix+restarts", batch="150")
    with logs.read_logs(path) as store:
        run = replay.Replay(store.info, [spec], 0)
        for chunk in store.chunks():
            run.replay_chunk(chunk)
    learner = run.learners[0]
    inner = learner.state.inner  # type: ignore[attr-defined]
    assert learner.kept > 600
    assert learner.state.problem.reps == 1  # type: ignore[attr-defined]
    assert inner.R == 1 and inner.t == (learner.kept - 1) % 150 + 1  # decisions since its last start
    arrays = [v for v in vars(inner).values() if isinstance(v, np.ndarray) and v.ndim]
    assert arrays and all(v.shape[0] == 1 for v in arrays)


def test_replay_command_runs_named_compositions(runner: CliRunner, tmp_path: Path) -> None:
    _, path = write(tmp_path, 8000, n_actions=4, n_features=2)
    result = runner.invoke(app, ["replay", str(path), "-a", "ucb1+sliding-window,linucb+conservative",
                                 "--param", "ucb1+sliding-window.window=200", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_id = {c["id"]: c for c in data["candidates"]}
    assert set(by_id) == {"ucb1+sliding-window", "linucb+conservative", "uniform-random"}
    assert by_id["ucb1+sliding-window"]["name"] == "UCB1 + Sliding window"
    assert set(data["timing"]["replay_seconds"]) == set(by_id) and set(by_id) <= set(data["curves"])
    for c in by_id.values():
        assert c["replayed_rounds"] > 500 and set(c["final_policy"]) == {"ips", "snips", "dm", "dr"}
    assert by_id["linucb+conservative"]["contextual"]


def test_a_drifting_profile_replays_its_shortlisted_compositions(runner: CliRunner, tmp_path: Path) -> None:
    _, path = write(tmp_path, 3000, n_actions=4, n_features=0)
    result = runner.invoke(app, ["replay", str(path), "--set", "environment=drifting", "--top", "8",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "exp3-ix+restarts" in [c["id"] for c in data["candidates"]]  # Rexp3, for a drifting environment
    assert all(c["replayed_rounds"] > 300 for c in data["candidates"])
    assert data["skipped"] and not any("does not run adapters" in s["reason"] for s in data["skipped"])


@pytest.mark.parametrize("answers, adapter, words", [
    ({"action_structure": "ranking"}, "ranked-bandits", "plays a ranked list"),
    ({"feedback": "pairwise"}, "sparring", "plays a pair of actions to compare"),
    ({"multi_objective": "yes", "reward_type": "binary"}, "scalarization", "learns from several rewards"),
])
def test_compositions_that_do_not_make_single_actions_are_left_out_with_their_reason(
        catalog: Catalog, answers: dict[str, str], adapter: str, words: str) -> None:
    matches = [m for m in ranked(Profile(answers), catalog).ranked if adapter in (a.id for a in m.adapters)]
    assert matches
    reasons = {m.id: why_not_shortlisted(m, shortlist.USABLE) for m in matches}
    for candidate_id, reason in reasons.items():
        base = candidate_id.split("+")[0]
        assert reason and (f"its {adapter} adapter {words}" in reason  # a base that plays single actions
                           or f"the {base} simulator's decisions are lists" in reason  # one that does not
                           or "no implementation to replay yet" in reason), (candidate_id, reason)
    assert any(f"its {adapter} adapter {words}" in str(reason) for reason in reasons.values())


@pytest.mark.parametrize("named, expected", [
    ("exp3-ix+ranked-bandits", "its ranked-bandits adapter plays a ranked list; replay evaluates one action"),
    ("ucb1+sparring", "its sparring adapter plays a pair of actions to compare"),
    ("ucb1+scalarization", "its scalarization adapter learns from several rewards per decision"),
    ("linucb+delay-queue", "the delay-queue simulator wraps only bases that ignore the context"),
    ("ucb1+no-such-adapter", "--algorithms: 'ucb1+no-such-adapter': unknown adapter 'no-such-adapter'"),
    ("no-such-base+sliding-window", "unknown base algorithm 'no-such-base'"),
    ("linucb+sliding-window", "adapter 'sliding-window' requires arm-statistics, which linucb does not provide"),
    ("ucb1+change-detection-restarts", "change-detection-restarts has no implementation to replay yet"),
    ("ucb1+sliding-window+sliding-window", "adapter 'sliding-window' is named twice"),
])
def test_named_compositions_that_cannot_be_replayed_are_refused_in_one_line(tmp_path: Path, named: str,
                                                                            expected: str) -> None:
    import contextlib
    import io

    from banditmap.cli.app import main
    _, path = write(tmp_path, 300, n_actions=3, n_features=0)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        main(["replay", str(path), "--algorithms", named])
    assert exit_info.value.code == 2
    text = err.getvalue()
    assert text.count("\n") == 1 and "Traceback" not in text and expected in text, text
