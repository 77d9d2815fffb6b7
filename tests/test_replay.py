"""Replay and off-policy estimates on logs generated from a known environment, where every true value is known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from banditmap.cli.app import app
from banditmap.ope import estimators, logs, replay, results, synthetic
from banditmap.ope.estimators import Resampler, RewardModel, block_of, policy_terms
from banditmap.sim.policies import Feedback, Policy, build
from banditmap.sim.runner import RunSpec

DATA = Path(__file__).resolve().parent / "data"


def environment(n_actions: int = 5, n_features: int = 3, seed: int = 0) -> synthetic.LogEnvironment:
    return synthetic.make_environment(n_actions, n_features, True, np.random.default_rng(seed))


def write(tmp_path: Path, env: synthetic.LogEnvironment, rows: int, seed: int = 0, kind: str = "uniform",
          never: tuple[int, ...] = (), name: str = "log.csv") -> Path:
    path = tmp_path / name
    synthetic.write_csv(path, env, synthetic.LoggingPolicy(kind, never=never), rows, seed)
    return path


def candidates(*ids: str) -> list[RunSpec]:
    return [RunSpec(i, i, build(i, {}, i)) for i in ids]


# --- estimators -------------------------------------------------------------------------------------------------

def fixed_policy(env: synthetic.LogEnvironment, contexts: np.ndarray) -> np.ndarray:
    """A deterministic policy that is good but not optimal: the best action of a distorted model."""
    distorted = env.bias[::-1] * 0.3 + contexts @ env.theta.T
    return distorted.argmax(axis=1)


@pytest.mark.parametrize("kind", ["uniform", "softmax"])
def test_ips_and_dr_are_unbiased_within_their_intervals_across_seeds(kind: str) -> None:
    env = environment(6, 3)
    truth = synthetic.policy_value(env, lambda x: fixed_policy(env, x), 400_000, np.random.default_rng(99))
    covered = {"ips": 0, "dr": 0, "snips": 0}
    errors = {"ips": [], "dr": []}
    seeds = range(20)
    for seed in seeds:
        log = synthetic.generate(env, synthetic.LoggingPolicy(kind), 4000, np.random.default_rng(seed))
        x = np.hstack([np.ones((len(log.actions), 1)), log.contexts])
        rows = np.arange(len(x))
        model = RewardModel(env.n_actions, x.shape[1], float(log.rewards.mean()), 0.0, 1.0)
        model.add(rows, log.actions, log.rewards, x)
        model.fit()
        terms = policy_terms(fixed_policy(env, log.contexts), log.actions, log.rewards, log.propensities,
                             model.predict(rows, x))
        block = block_of(rows, len(rows), 200)
        sums = {name: np.bincount(block, getattr(terms, name), 200) for name in ("ips", "weight", "dr")}
        count = np.bincount(block, minlength=200).astype(float)
        boot = Resampler.make(200, seed)
        estimates = {"ips": boot.ratio(sums["ips"], count)[0], "dr": boot.ratio(sums["dr"], count)[0],
                     "snips": boot.ratio(sums["ips"], sums["weight"])[0]}
        for name, e in estimates.items():
            covered[name] += e.low <= truth <= e.high
        for name in errors:
            errors[name].append(estimates[name].value - truth)
    for name in ("ips", "dr"):
        assert covered[name] >= 16, (name, covered, truth)  # 95% intervals: 19 of 20 expected, 16 a safe floor
        # unbiased: the mean error over 20 seeds is small next to one estimate's spread
        assert abs(np.mean(errors[name])) < 2.5 * np.std(errors[name]) / np.sqrt(len(seeds)) + 1e-3
    assert covered["snips"] >= 16


def test_dr_has_lower_variance_than_ips_with_a_good_reward_model() -> None:
    env = synthetic.make_environment(6, 3, False, np.random.default_rng(1))  # linear rewards: the model is right
    ips, dr = [], []
    for seed in range(15):
        log = synthetic.generate(env, synthetic.LoggingPolicy("uniform"), 3000, np.random.default_rng(seed))
        x = np.hstack([np.ones((len(log.actions), 1)), log.contexts])
        rows = np.arange(len(x))
        model = RewardModel(env.n_actions, x.shape[1], float(log.rewards.mean()), -np.inf, np.inf)
        model.add(rows, log.actions, log.rewards, x)
        model.fit()
        terms = policy_terms(fixed_policy(env, log.contexts), log.actions, log.rewards, log.propensities,
                             model.predict(rows, x))
        ips.append(terms.ips.mean())
        dr.append(terms.dr.mean())
    assert np.std(dr) < 0.6 * np.std(ips)


def test_reward_model_is_cross_fitted() -> None:
    """A row's prediction must come from the model of the other fold: changing the row's own reward changes
    nothing in its own prediction."""
    rng = np.random.default_rng(0)
    x = np.hstack([np.ones((200, 1)), rng.standard_normal((200, 2))])
    actions = rng.integers(0, 3, 200)
    rewards = rng.random(200)
    rows = np.arange(200)

    def predicted(r: np.ndarray) -> np.ndarray:
        model = RewardModel(3, 3, 0.5, -np.inf, np.inf)
        model.add(rows, actions, r, x)
        model.fit()
        return model.predict(rows, x)

    changed = rewards.copy()
    changed[10] += 5.0
    before, after = predicted(rewards), predicted(changed)
    assert np.allclose(before[10], after[10])
    assert not np.allclose(before[11], after[11])  # the other fold does see it


def test_bootstrap_is_seeded_and_paired() -> None:
    a, b = Resampler.make(50, 3), Resampler.make(50, 3)
    assert np.array_equal(a.counts, b.counts)
    assert not np.array_equal(a.counts, Resampler.make(50, 4).counts)
    assert np.all(a.counts.sum(axis=1) == 50)


def test_disagreeing_estimators_raise_a_warning() -> None:
    e = estimators.Estimate
    info = logs.LogInfo("x.csv", 10_000, ("0", "1"), (5000, 5000), "a", "r", "p", None, (), (), (), 1, False, 0.5,
                        0.0, True, 0.1, True)
    result = replay.CandidateResult(
        "x", "X", False, 500, 5000, e(0.1, 0.09, 0.11), e(0.0, -0.01, 0.01),
        {"ips": e(0.10, 0.09, 0.11), "snips": e(0.1, 0.09, 0.11), "dm": e(0.20, 0.19, 0.21), "dr": e(0.1, 0.09, 0.11)},
        e(0.0, -0.01, 0.01), 5000.0, 2.0, 0.0, 0.0, (), 0.1)
    warnings = results.warnings(result, info, 5000, (0.0, 1.0))
    assert any("the direct method's estimate (0.2000) lies outside DR's interval (0.0900 to 0.1100)" in w
               for w in warnings)
    assert not any("IPS (0.1000) and DR" in w for w in warnings)


# --- replay of learners ------------------------------------------------------------------------------------------

def online_reward(env: synthetic.LogEnvironment, policy_id: str | Policy, rounds: int, reps: int,
                  seed: int) -> float:
    """The learner's true expected reward per decision over a live run of `rounds` decisions (a policy id, or a
    policy already built, such as a composition)."""
    from banditmap.sim.problem import Problem
    policy = build(policy_id, {}, policy_id) if isinstance(policy_id, str) else policy_id
    contextual = "contextual" in policy.kinds
    problem = Problem("contextual" if contextual else "arms", "binary", env.n_actions, env.n_features + 1, 1,
                      rounds, reps, "stationary", "immediate", 1, 1, "none", "cumulative")
    rng = np.random.default_rng(seed)
    state = policy.init(problem, rng)
    total = 0.0
    everyone = np.arange(reps)
    for _ in range(rounds):
        x = env.contexts(reps, rng)
        encoded = np.hstack([np.ones((reps, 1)), x])
        state.aux = None
        chosen = policy.select(state, encoded if contextual else None)
        state.t += 1
        means = env.expected(x)[everyone, chosen]
        total += means.sum()
        policy.update(state, Feedback(everyone, chosen, env.draw(means, rng), encoded if contextual else None,
                                      state.aux, unique=True))
    return total / (rounds * reps)


@pytest.mark.parametrize("kind", ["uniform", "softmax"])
def test_replay_recovers_each_learners_online_reward(tmp_path: Path, kind: str) -> None:
    env = environment(5, 3, seed=4)
    rows = 40_000 if kind == "uniform" else 100_000
    path = write(tmp_path, env, rows, seed=1, kind=kind)
    ids = ("ucb1", "thompson-beta", "linucb")
    with logs.read_logs(path) as store:
        result = replay.evaluate(store, candidates(*ids), seed=0)
    assert result.method == ("replay" if kind == "uniform" else "rejection-sampling replay")
    by_id = {r.id: r for r in result.results}
    inside = 0
    for policy_id in ids:
        r = by_id[policy_id]
        assert r.evaluable and r.kept > 1500  # learned on the first half of the log
        truth = online_reward(env, policy_id, r.kept, 30, seed=5)
        half = (r.replayed.high - r.replayed.low) / 2
        inside += r.replayed.low <= truth <= r.replayed.high
        assert abs(r.replayed.value - truth) <= 1.5 * half, (policy_id, r.replayed, truth)
    assert inside >= 2
    # learning pays: every learner earns more than random play would, and LinUCB uses the context
    uniform = float(np.mean(env.expected(env.contexts(100_000, np.random.default_rng(0)))))
    assert min(by_id[i].replayed.value for i in ids) > uniform + 0.01
    assert by_id["linucb"].contextual and not by_id["ucb1"].contextual


def test_kept_rounds_are_about_one_in_k_on_uniform_logs(tmp_path: Path) -> None:
    env = environment(4, 0)
    path = write(tmp_path, env, 20_000)
    with logs.read_logs(path) as store:
        result = replay.evaluate(store, candidates("uniform-random"), seed=0)
    r = result.results[0]
    assert result.learning_rows == 10_000 and 2150 < r.kept < 2850  # a quarter of the learning rows
    assert r.max_weight == pytest.approx(4.0)
    assert 2150 < r.ess < 2850  # weights 0 or 4 on the held-out rows: (sum w)^2 / sum w^2 = number of matches


def test_chunk_size_does_not_change_a_deterministic_learner(tmp_path: Path) -> None:
    env = environment(5, 2)
    path = write(tmp_path, env, 12_000)
    results = []
    for chunk in (777, logs.CHUNK_ROWS):
        with logs.read_logs(path, chunk_rows=chunk) as store:
            results.append(replay.evaluate(store, candidates("ucb1"), seed=0).results[0])
    assert results[0].kept == results[1].kept
    assert results[0].replayed.value == results[1].replayed.value
    assert results[0].final["dr"].value == pytest.approx(results[1].final["dr"].value, abs=1e-9)


def test_an_action_the_logging_policy_never_played_makes_policies_that_need_it_unevaluable(tmp_path: Path) -> None:
    env = environment(5, 0)
    path = write(tmp_path, env, 20_000, never=(2,))
    with logs.read_logs(path, n_actions=5) as store:
        assert store.info.counts[2] == 0
        result = replay.evaluate(store, candidates("ucb1", "epsilon-greedy"), seed=0)
    by_id = {r.id: r for r in result.results}
    assert not by_id["ucb1"].evaluable  # UCB1 tries every arm first, and action 2 never comes back
    assert "never contain" in by_id["ucb1"].problem and "actions 2" in by_id["ucb1"].problem
    assert any("never played actions 2" in w for w in result.warnings)
    assert "Cannot be evaluated on these logs: UCB1" in " ".join(replay.verdict(result)).replace(
        by_id["ucb1"].name, "UCB1")


# --- the command ------------------------------------------------------------------------------------------------

def test_replay_command_on_generated_logs(runner: CliRunner, tmp_path: Path) -> None:
    logs_file = tmp_path / "logs.csv"
    made = runner.invoke(app, ["make-logs", str(logs_file), "--usecase", "homepage-banner", "--rows", "20000"])
    assert made.exit_code == 0, made.output
    out_file = tmp_path / "replay.json"
    result = runner.invoke(app, ["replay", str(logs_file), "--usecase", "homepage-banner", "--top", "3",
                                 "--format", "json", "--out", str(out_file)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == json.loads(out_file.read_text())
    assert data["schema"] == "banditmap.replay/4" and data["log"]["rows"] == 20000
    assert len(data["candidates"]) == 4  # three shortlisted and the uniform baseline
    # schema 2: wall-clock seconds sit under the top-level "timing", not in each candidate
    assert set(data["timing"]["replay_seconds"]) == {c["id"] for c in data["candidates"]}
    assert not any("seconds" in c for c in data["candidates"])
    assert data["log"]["columns"] == {"action": "item_id", "reward": "click", "propensity": "propensity_score",
                                      "position": None, "slate": None, "numeric": [], "categorical": []}
    for c in data["candidates"]:
        assert c["replayed_rounds"] > 1000 and set(c["final_policy"]) == {"ips", "snips", "dm", "dr"}
        assert len(data["curves"][c["id"]]) == len(data["checkpoints"])
    assert data["verdict"][0].startswith("The logging policy earned")
    table = runner.invoke(app, ["replay", str(logs_file), "--usecase", "homepage-banner", "--top", "2"])
    assert table.exit_code == 0 and "replayed reward" in table.output and "logging policy" in table.output
    for fmt, marker in (("csv", "algorithm,rounds,"), ("markdown", "| algorithm |")):
        other = runner.invoke(app, ["replay", str(logs_file), "--usecase", "homepage-banner", "--top", "1",
                                    "--format", fmt])
        assert other.exit_code == 0 and marker in other.output


def test_replay_reads_the_open_bandit_dataset_layout_with_default_columns(runner: CliRunner) -> None:
    """tests/data/obd_layout.csv was written by banditmap.ope.synthetic.write_csv(obd_layout=True): the dataset's
    column names, unnamed index, timestamps, hashed categorical user features and numeric affinities."""
    result = runner.invoke(app, ["replay", str(DATA / "obd_layout.csv"), "--algorithms", "linucb,thompson-beta",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    columns = data["log"]["columns"]
    assert columns["action"] == "item_id" and columns["reward"] == "click"
    assert columns["propensity"] == "propensity_score" and columns["position"] == "position"
    assert columns["categorical"] == ["user_feature_0", "user_feature_1"]
    assert columns["numeric"] == [f"user-item_affinity_{i}" for i in range(4)]
    assert data["log"]["actions"] == [str(i) for i in range(10)]
    linucb = next(c for c in data["candidates"] if c["id"] == "linucb")
    assert linucb["contextual"] and linucb["replayed_rounds"] > 150


def test_replay_without_a_profile_reads_the_problem_off_the_log(runner: CliRunner, tmp_path: Path) -> None:
    env = environment(4, 3)
    path = write(tmp_path, env, 8000)
    result = runner.invoke(app, ["replay", str(path), "--top", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    ids = [c["id"] for c in json.loads(result.output)["candidates"]]
    assert "uniform-random" in ids and len(ids) == 3
    assert any(i in ids for i in ("linucb", "lin-ts", "eps-greedy-oracle", "logistic-ts"))  # context: linear


def test_plot_is_written(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = write(tmp_path, environment(3, 0), 3000)
    plot = tmp_path / "replay.png"
    result = runner.invoke(app, ["replay", str(path), "--algorithms", "ucb1", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert plot.stat().st_size > 1000


# --- bad input ----------------------------------------------------------------------------------------------------

def bad(runner: CliRunner, path: Path, *args: str) -> str:
    import contextlib
    import io

    from banditmap.cli.app import main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        main(["replay", str(path), "--algorithms", "ucb1", *args])
    assert exit_info.value.code == 2
    text = err.getvalue()
    assert text.count("\n") == 1 and "Traceback" not in text, text
    return text


HEADER = "item_id,click,propensity_score\n"


@pytest.mark.parametrize("body, expected", [
    ("", "the file is empty"),
    (HEADER, "no logged decisions"),
    ("item_id,click\n1,0\n", "header has 2 column(s)"),
    ("a,b,c\n1,0,0.5\n", "no column named 'item_id' or 'action'"),
    (HEADER + "1,0,0.5\n2,abc,0.5\n", ":3: click: expected a number, got 'abc'"),
    (HEADER + "1,0,0.5\n2,1,0\n", ":3: propensity_score: expected a propensity in (0, 1], got 0.0"),
    (HEADER + "1,0,1.5\n", ":2: propensity_score: expected a propensity in (0, 1], got 1.5"),
    (HEADER + "1,0,nan\n", ":2: propensity_score: expected a propensity in (0, 1]"),
    (HEADER + "1,0,0.5\n2,1\n", ":3: has 2 fields, the header has 3"),
    (HEADER + ",1,0.5\n", ":2: item_id: expected an action label"),
])
def test_bad_logs_get_one_line_naming_file_row_and_column(runner: CliRunner, tmp_path: Path, body: str,
                                                         expected: str) -> None:
    path = tmp_path / "logs.csv"
    path.write_text(body)
    out_file = tmp_path / "out.json"
    text = bad(runner, path, "--out", str(out_file))
    assert str(path) in text and expected in text, text
    assert not out_file.exists()


def test_other_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    assert "no such file" in bad(runner, tmp_path / "missing.csv")
    binary = tmp_path / "logs.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    assert "not a text table" in bad(runner, binary)
    good = write(tmp_path, environment(6, 2), 500)
    assert "expected an action id from 0 to 2 (the profile's n_actions), got '3'" in bad(
        runner, good, "--set", "n_actions=3")
    assert "--reward-col: no column 'revenue'" in bad(runner, good, "--reward-col", "revenue")
    assert "--context-cols: no column matches 'age_*'" in bad(runner, good, "--context-cols", "age_*")
    assert "--plot" in bad(runner, good, "--plot", str(tmp_path / "x.gif"))
    parquet = tmp_path / "logs.parquet"
    parquet.write_text("not parquet")
    text = bad(runner, parquet)
    assert "pyarrow" in text or "not a Parquet table" in text


def test_bad_algorithm_choices(runner: CliRunner, tmp_path: Path) -> None:
    good = write(tmp_path, environment(3, 0), 300)
    result = runner.invoke(app, ["replay", str(good), "--algorithms", "no-such-thing"])
    assert result.exit_code == 2 and "unknown algorithm id" in result.output
    result = runner.invoke(app, ["replay", str(good), "--algorithms", "cascade-ucb"])
    assert result.exit_code == 2 and "single-action decisions" in result.output


def test_parquet_logs_when_pyarrow_is_installed(runner: CliRunner, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    env = environment(3, 2)
    log = synthetic.generate(env, synthetic.LoggingPolicy("uniform"), 3000, np.random.default_rng(0))
    table = pa.table({"action": log.actions, "reward": log.rewards, "pscore": log.propensities,
                      "context_0": log.contexts[:, 0], "context_1": log.contexts[:, 1]})
    path = tmp_path / "logs.parquet"
    pq.write_table(table, path)
    result = runner.invoke(app, ["replay", str(path), "--algorithms", "linucb", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["log"]["columns"]["numeric"] == ["context_0", "context_1"] and data["log"]["rows"] == 3000


def test_kernel_policies_and_their_wrappers_are_scored_on_copies_from_the_start() -> None:
    """A kernel policy's select writes into its scratch row (kept values, a note): given read-only views, numba
    tries to compile the kernel for them and fails, in every run, so replay starts on copies; a policy that
    writes nothing starts on views."""
    from banditmap.sim.adapters import build_wrapper
    ts = build("thompson-beta", {}, "x")
    assert replay.writes_in_select(ts) and replay.writes_in_select(build_wrapper("delay-queue", ts, {}, "x"))
    assert not replay.writes_in_select(build("linucb", {}, "x")) and not replay.writes_in_select(build("ucb1", {}, "x"))
