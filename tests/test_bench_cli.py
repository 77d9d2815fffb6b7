from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banditmap.cli.app import app

SMALL = ["--rounds", "400", "--reps", "8", "--jobs", "1"]


def bench(runner: CliRunner, *args: str):
    return runner.invoke(app, ["bench", *args])


def test_bench_table_has_ranking_curve_and_verdict(runner: CliRunner) -> None:
    result = bench(runner, "--usecase", "homepage-banner", *SMALL)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "regret (95% CI)" in out and "uniform-random" in out
    assert "Cumulative regret (mean over repetitions)" in out
    assert "has the lowest regret" in out
    assert "\x1b[" not in out  # plain when piped; no progress bars on a non-terminal


def test_bench_json_is_complete_and_reproducible(runner: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "run.json"
    first = bench(runner, "--usecase", "search-ranking", *SMALL, "--format", "json", "--seed", "5",
                  "--out", str(out_file))
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["schema"] == "banditmap.bench/3" and data["seed"] == 5
    assert data["problem"]["kind"] == "cascade" and data["environment"]["list_length"] == 10
    for algorithm in data["algorithms"]:
        assert len(algorithm["curve"]) == len(data["rounds"]) == len(algorithm["curve_high"])
        assert algorithm["params"] is not None
    assert json.loads(out_file.read_text()) == data
    again = json.loads(bench(runner, "--usecase", "search-ranking", *SMALL, "--format", "json",
                             "--seed", "5").output)
    strip = lambda d: [{k: v for k, v in a.items() if k != "us_per_decision"} for a in d["algorithms"]]  # noqa: E731
    assert strip(again) == strip(data)


def test_bench_named_algorithms_params_and_formats(runner: CliRunner) -> None:
    result = bench(runner, "--set", "n_actions=5", "--algorithms", "ucb1,thompson-beta", "--param", "ucb1.alpha=0.5",
                   "--no-baseline", *SMALL, "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("rank,id,regret") and len(lines) == 3
    data = json.loads(bench(runner, "--set", "n_actions=5", "--algorithms", "ucb1", "--param", "ucb1.alpha=0.5",
                            *SMALL, "--format", "json").output)
    assert data["algorithms"][0]["params"]["alpha"] == 0.5 or data["algorithms"][1]["params"]["alpha"] == 0.5
    md = bench(runner, "--usecase", "campaign-winner", *SMALL, "--format", "markdown").output
    assert "best arm found" in md and "| rank |" in md


def test_nearest_candidates_top_up_a_race_and_are_marked_everywhere(runner: CliRunner) -> None:
    """homepage-carousel has no exact candidate: its race is the nearest candidates whose simulator runs on slates,
    each marked with the answer it misses in the table, CSV, Markdown and JSON, and in the notes."""
    data = json.loads(bench(runner, "--usecase", "homepage-carousel", *SMALL, "--format", "json").output)
    candidates = [a for a in data["algorithms"] if a["exact"] is not None]
    assert candidates and all(not a["exact"] and a["misses"] for a in candidates)
    assert all("arm_churn=dynamic" in a["misses"] for a in candidates)
    assert [a["exact"] for a in data["algorithms"] if a["id"] == "uniform-random-list"] == [None]
    assert any("nearest candidates raced" in note and "in this simulation" in note for note in data["notes"])
    csv_lines = bench(runner, "--usecase", "homepage-carousel", *SMALL, "--format", "csv").output.splitlines()
    assert csv_lines[0].startswith("rank,id,answers handled,") and "nearest: misses arm_churn=dynamic" in csv_lines[1]
    md = bench(runner, "--usecase", "homepage-carousel", *SMALL, "--format", "markdown").output
    assert "| answers handled |" in md and "(a nearest candidate: it misses arm_churn=dynamic)" in md


def test_exact_candidates_come_first_and_named_ones_are_never_marked(runner: CliRunner) -> None:
    """email-campaign has one exact candidate that races: it keeps its place before the nearest ones; a race of
    named algorithms is what was named, unmarked, and a use case with 3 exact candidates is not topped up."""
    from banditmap.catalog.loading import load_catalog
    from banditmap.model import Profile
    from banditmap.recommend.race import choose_lineup
    from banditmap.sim.problem import problem_from_answers
    catalog = load_catalog()
    case = next(u for u in catalog.usecases if u.id == "email-campaign")
    problem = problem_from_answers(dict(case.answers), 400, 8)
    lineup = choose_lineup(catalog, Profile(case.answers), problem, None, 5, True)
    ids = [c[0] for c in lineup.chosen]
    assert ids[0] == "delayed-conversions-ucb" and "delayed-conversions-ucb" not in lineup.misses
    assert len(ids) == 6 and set(ids[1:5]) == set(lineup.misses) and ids[5] == "uniform-random"
    exact_only = choose_lineup(catalog, Profile(case.answers), problem, None, 5, True, least=0)
    assert [c[0] for c in exact_only.chosen] == ["delayed-conversions-ucb", "uniform-random"] and not exact_only.misses
    named = json.loads(bench(runner, "--usecase", "email-campaign", "--algorithms", "ucb1,thompson-beta", *SMALL,
                             "--format", "json").output)
    assert all(a["misses"] == [] for a in named["algorithms"]) and not any("nearest" in n for n in named["notes"])
    banner = choose_lineup(catalog, Profile(next(u for u in catalog.usecases if u.id == "homepage-banner").answers),
                           problem, None, 5, True)
    assert not banner.misses


@pytest.mark.parametrize("args, needle", [
    (["--set", "n_actions=5", "--algorithms", "ucb9"], "ucb9: unknown algorithm id"),
    (["--set", "n_actions=5", "--algorithms", "neural-ucb"], "neural-ucb: has no simulator yet"),
    (["--set", "n_actions=5", "--algorithms", "linucb"], "linucb: its simulator does not run on arms problems"),
    (["--set", "n_actions=5", "--algorithms", "ucb1", "--param", "ucb1.beta=2"], "ucb1.beta: unknown hyperparameter"),
    (["--set", "n_actions=5", "--algorithms", "ucb1", "--param", "ucb1.alpha=fast"], "ucb1.alpha: expected a number"),
    (["--set", "n_actions=5", "--algorithms", "ucb1", "--param", "alpha=1"], "--param: expected id.name=value"),
    (["--set", "n_actions=5", "--algorithms", "ucb1", "--param", "kl-ucb.c=1"], "not in this race"),
    (["--set", "n_actions=5", "--rounds", "10000000", "--reps", "100000"], "would need about"),
    (["--rounds", "10"], "say what the problem is"),
    (["--usecase", "homepage-banner", "--plot", "out.pdf", *SMALL], "ending in .png or .svg"),
    (["--set", "n_actions=5", "--engine", "spark"], "--engine: expected one of local, dask, got 'spark'"),
    (["--set", "n_actions=5", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler: a scheduler is only used by "
                                                                      "the dask engine"),
])
def test_bench_bad_input_is_one_line(runner: CliRunner, args: list[str], needle: str) -> None:
    result = bench(runner, *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.output


def test_plot_needs_matplotlib_or_writes_the_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "regret.png"
    result = bench(runner, "--usecase", "homepage-banner", *SMALL, "--plot", str(target))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert result.exit_code == 2 and "plots need matplotlib" in result.output
    else:
        assert result.exit_code == 0 and target.stat().st_size > 1000


@pytest.mark.parametrize("argv, needle", [
    (["--rounds", "0"], "Invalid value for '--rounds'"),
    (["--reps", "many"], "Invalid value for '--reps'"),
])
def test_bench_usage_errors_are_one_line(argv: list[str], needle: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "banditmap", "bench", "--usecase", "homepage-banner", *argv],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_runs_in_local_processes_report_progress_as_they_go_and_match_this_process() -> None:
    """Two step-by-step policies (no compiled kernel: EXP3.P with restarts and conservative UCB) fan out to 2
    spawned processes: the same numbers as in this process, and each one's progress relayed round by round, then
    done."""
    from banditmap.executor import Engine
    from banditmap.sim.adapters import build_wrapper
    from banditmap.sim.bench import run_all
    from banditmap.sim.policies import REGISTRY
    from banditmap.sim.problem import problem_from_answers
    from banditmap.sim.runner import RunSpec
    problem = problem_from_answers({"n_actions": 4, "constraints": "safety"}, rounds=300, reps=3)
    restarts = build_wrapper("restarts", REGISTRY["exp3-p"](), {}, "x")
    entrants = [RunSpec("exp3-p+restarts", "exp3-p+restarts", restarts),
                RunSpec("conservative-ucb", "conservative-ucb", REGISTRY["conservative-ucb"]())]
    from banditmap.sim import compiled
    assert not any(compiled.covers(s.policy, problem) for s in entrants), "pick policies without a kernel"
    heard: list[tuple[str, int, int]] = []
    pooled = run_all(entrants, problem, 5, Engine(jobs=2), lambda *message: heard.append(message), ["a", "b"])
    here = run_all(entrants, problem, 5, Engine(jobs=1))
    for one, other in zip(pooled, here):
        assert one.id == other.id and (one.regret == other.regret).all()
    for label in ("a", "b"):
        mine = [done for name, done, total in heard if name == label and total == 300]
        assert mine[-1] == 300 and any(done < 300 for done in mine), heard


def test_a_best_arm_race_ranks_by_the_arm_each_names_not_by_what_it_earned_while_testing() -> None:
    """Two tests of 100 rounds: `a` earns more while testing (lower cumulative regret) but names a worse arm in
    two of three repetitions; `b` explores more and names the best arm every time. The race ranks `b` first, by
    simple regret x rounds (what the evidence compares too), and its verdict says so."""
    import numpy as np

    from banditmap.sim.bench import measured, summarise
    from banditmap.sim.policies import build
    from banditmap.sim.problem import problem_from_answers
    from banditmap.sim.runner import Run, RunSpec

    problem = problem_from_answers({"n_actions": 3, "objective": "best_arm"}, rounds=100, reps=3)

    def test_run(name: str, regret: list[float], simple: list[float]) -> Run:
        final = np.array(regret)
        return Run(name, name, (100,), final[:, None], final, np.zeros(3), np.zeros(3), 0.1,
                   np.array(simple) == 0.0, np.array(simple))

    a, b = test_run("a", [5.0, 6.0, 7.0], [0.0, 0.2, 0.1]), test_run("b", [20.0, 21.0, 25.0], [0.0, 0.0, 0.0])
    assert measured(a, problem).tolist() == [0.0, 20.0, 10.0] and measured(b, problem).tolist() == [0.0] * 3
    specs = [RunSpec(n, n, build("ucb1", {}, n)) for n in ("a", "b")]
    result = summarise([a, b], specs, problem, 0, {})
    assert [r.id for r in result.results] == ["b", "a"]
    assert result.results[1].gap_to_best == pytest.approx(10.0) and result.results[0].identified == 1.0
    assert result.verdict.startswith("b names the best arm most reliably: in 100% of 3 repetitions after 100 "
                                     "rounds, simple regret 0.0000")
    assert result.results[1].tied_with_best  # differences 0, 20, 10: three repetitions cannot tell them apart
    assert result.verdict.endswith("(paired 95% interval of the difference includes 0): a.")
    cumulative = problem_from_answers({"n_actions": 3}, rounds=100, reps=3)
    assert [r.id for r in summarise([a, b], specs, cumulative, 0, {}).results] == ["a", "b"]


def test_a_race_simulates_conversions_that_may_never_come(runner: CliRunner) -> None:
    """email-campaign's conversions may never come (delay_bound=indefinite): its nearest candidates miss exactly
    that answer, and the race simulates it (a play that does not convert is never reported; the others learn
    through an attribution window), so it measures what missing it costs, and says how."""
    data = json.loads(bench(runner, "--usecase", "email-campaign", *SMALL, "--format", "json").output)
    assert any("delay_bound=indefinite" in a["misses"] for a in data["algorithms"])
    assert data["problem"]["censored"] is True
    problem_notes = data["problem"]["notes"]
    assert any("never reported" in n and "attribution window" in n for n in problem_notes), problem_notes
    immediate = json.loads(bench(runner, "--usecase", "homepage-banner", *SMALL, "--format", "json").output)
    assert immediate["problem"]["censored"] is False
    assert not any("never come" in n for n in immediate["problem"]["notes"])
