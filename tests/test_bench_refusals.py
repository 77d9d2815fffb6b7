"""Refusals of the simulator race: hyperparameters outside their domain, unknown simulators, duplicate or empty
algorithm lists, degenerate problem sizes. Each is one line on stderr with status 2, or a run that works and says
what it did; no traceback, no NumPy warning, strict JSON; one seed gives the same bytes without timings."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from banditmap.catalog.loading import builtin_dir
from banditmap.cli.app import app
from banditmap.errors import BanditmapError
from banditmap.model import Catalog
from banditmap.recommend.candidates import parse_params, specs
from banditmap.render.bench import bench_dict, bench_report
from banditmap.render.report import print_report
from banditmap.sim import known_simulators
from banditmap.sim.bench import race
from banditmap.sim.policies import REGISTRY, build
from banditmap.sim.policies.base import Domain, Policy, domains, hyperparameter, register
from banditmap.sim.problem import Problem, problem_from_answers
from banditmap.sim.runner import RunSpec, run

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # a NumPy warning fails the test that leaks it
SMALL = ["--rounds", "60", "--reps", "3", "--jobs", "1"]
FAST = settings(max_examples=150, deadline=4000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
runner = CliRunner()

# a problem each kind of policy can race on
KIND_ANSWERS: dict[str, dict[str, Any]] = {
    "arms": {}, "contextual": {"context": "linear"}, "budget": {"constraints": "budget"},
    "multi": {"multi_objective": "yes"}, "cascade": {"action_structure": "ranking"},
    "slate": {"action_structure": "slate"}, "pricing": {"action_space": "continuous"},
    "dueling": {"feedback": "pairwise"}, "assortment": {"action_structure": "assortment"},
    "combination": {"action_structure": "combination"}}


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback fails the test with it
    return result


def refusal(result: Any, *needles: str) -> str:
    """The single error line of a refused run, which contains every needle."""
    assert result.exit_code == 2, (result.exit_code, result.output[-400:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("banditmap: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def outside(domain: Domain) -> list[float]:
    """Values just past each end of a domain, and a fraction where whole numbers are needed."""
    values = [domain.low if domain.low_open else domain.low - max(1.0, abs(domain.low)),
              domain.high if domain.high_open else domain.high * 10 + 1]
    if domain.whole:
        values.append(domain.low + 0.5)
    return values


def edges(domain: Domain) -> list[float]:
    """Values at (or, for an open end, just inside) each end of a domain."""
    low = domain.low + (1 if domain.whole else 1e-9) if domain.low_open else domain.low
    high = domain.high - (1 if domain.whole else 1e-9) if domain.high_open else domain.high
    return [low, high]


# --- every hyperparameter of every policy has a domain ----------------------------------------------------------

@pytest.mark.parametrize("simulator", sorted(REGISTRY))
def test_every_hyperparameter_has_a_domain_holding_its_default_and_refusing_what_is_outside(simulator: str) -> None:
    cls = REGISTRY[simulator]
    for f in dataclasses.fields(cls):
        domain = domains(cls)[f.name]
        assert isinstance(domain, Domain), (simulator, f.name)
        assert math.isfinite(domain.low) and math.isfinite(domain.high), (simulator, f.name)
        assert f.default in domain, (simulator, f.name, f.default)
        assert domain.whole == (f.type in (int, "int")), (simulator, f.name)
        for value in edges(domain):
            assert getattr(build(simulator, {f.name: str(value)}, simulator), f.name) == value
        for bad in [*outside(domain), "nan", "inf", "-inf", "1e400", "²", "١", "", "fast", True, None]:
            with pytest.raises(BanditmapError) as caught:
                build(simulator, {f.name: bad}, f"--param {simulator}")
            line = caught.value.render()
            assert f"--param {simulator}.{f.name}: expected a" in line and "\n" not in line, line
        with pytest.raises(BanditmapError):
            cls(**{f.name: outside(domain)[0]})  # a policy made directly checks itself too


def test_a_policy_cannot_be_registered_without_domains() -> None:
    with pytest.raises(TypeError, match="no domain"):
        @register("forgetful-policy")
        @dataclasses.dataclass(frozen=True)
        class Forgetful(Policy):
            alpha: float = 1.0
    assert "forgetful-policy" not in REGISTRY
    with pytest.raises(TypeError, match="outside its domain"):
        hyperparameter(2.0, Domain(0.0, 1.0))


@pytest.mark.parametrize("simulator", sorted(REGISTRY))
def test_values_at_the_ends_of_every_domain_race_without_warnings(simulator: str) -> None:
    cls = REGISTRY[simulator]
    kind = sorted(cls.kinds)[0]
    problem = problem_from_answers({**KIND_ANSWERS[kind], "reward_type": "heavy_tailed"}, rounds=120, reps=2)
    settings_ = [{}] + [{name: value} for name, domain in domains(cls).items() for value in edges(domain)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for params in settings_:
            result = run(RunSpec(simulator, simulator, cls(**params)), problem, seed=1)
            assert np.isfinite(result.final_regret).all(), (simulator, params)


@pytest.mark.parametrize("param, needle", [
    ("thompson-beta.alpha0=0", "--param thompson-beta.alpha0: expected a number from 1e-06 to 1e+06"),
    ("thompson-gaussian.prior_var=0", "--param thompson-gaussian.prior_var: expected a number from 1e-06"),
    ("thompson-gaussian.noise_var=0", "--param thompson-gaussian.noise_var: expected a number from 1e-06"),
    ("sw-ucb.window=-5", "--param sw-ucb.window: expected a whole number from 1 to"),
    ("sw-ucb.window=2.5", "--param sw-ucb.window: expected a whole number"),
    ("epsilon-greedy.epsilon=1.5", "--param epsilon-greedy.epsilon: expected a number from 0 to 1, got '1.5'"),
    ("discounted-ucb.gamma=0", "--param discounted-ucb.gamma: expected a number > 0 and <= 1"),
    ("discounted-ts.gamma=1.01", "--param discounted-ts.gamma: expected a number > 0 and <= 1"),
    ("ucb1.alpha=1e308", "--param ucb1.alpha: expected a number from 0 to 1e+06 (wider bounds only overflow)"),
    ("ucb1.alpha=nan", "--param ucb1.alpha: expected a number"),
    ("ucb1.alpha=inf", "--param ucb1.alpha: expected a number"),
    ("ucb1.alpha=²", "--param ucb1.alpha: expected a number from 0 to 1e+06 (wider bounds only overflow), got '²'"),
    ("ucb1.alpha=" + "9" * 500, "got '99999"),
    ("ucb1.beta=2", "--param ucb1.beta: unknown hyperparameter 'beta'; expected one of alpha"),
    ("moss.alpha=2", "--param moss.alpha: unknown hyperparameter 'alpha'; it has none"),
    ("kl-ucb.c=1", "--param kl-ucb.c: names an algorithm that is not in this race"),
    ("ucb1.alpha=", "--param: expected id.name=value"),
    (".alpha=1", "--param: expected id.name=value"),
])
def test_a_bad_param_is_one_line_naming_the_option_and_the_domain(param: str, needle: str) -> None:
    algorithm = param.partition(".")[0] or "ucb1"
    if algorithm == "kl-ucb":
        algorithm = "ucb1"
    line = refusal(invoke("bench", "--set", "n_actions=4", "-a", algorithm, *SMALL, "--param", param), needle)
    assert len(line) < 400, line  # a huge value is cut, not echoed whole


def test_edges_of_the_domains_are_accepted_through_the_cli() -> None:
    result = invoke("bench", "--set", "n_actions=4", "-a", "ucb1,thompson-gaussian", *SMALL, "--format", "json",
                    "--param", "ucb1.alpha=1e6", "--param", "thompson-gaussian.prior_mean=-1e6",
                    "--param", "thompson-gaussian.noise_var=1e-6")
    assert result.exit_code == 0, result.output
    params = {a["id"]: a["params"] for a in strict_json(result.stdout)["algorithms"]}
    assert params["ucb1"]["alpha"] == 1e6 and params["thompson-gaussian"]["prior_mean"] == -1e6


def test_a_bad_default_in_a_user_catalog_names_its_file(user_catalog: Path) -> None:
    entry = builtin_entry("ucb1")
    entry["hyperparameters"][0]["default"] = -1
    path = write_entry(user_catalog, entry)
    refusal(invoke("bench", "--catalog", str(user_catalog), "--set", "n_actions=4", "-a", "ucb1", *SMALL),
            str(path), "hyperparameters.alpha: expected a number from 0 to 1e+06", "got '-1'")


# --- simulators a catalog names -------------------------------------------------------------------------------

def builtin_entry(algorithm_id: str) -> dict[str, Any]:
    for path in sorted((builtin_dir() / "algorithms").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["algorithms"]:
            if entry["id"] == algorithm_id:
                return dict(entry)
    raise AssertionError(algorithm_id)


def write_entry(user_catalog: Path, entry: dict[str, Any]) -> Path:
    path = user_catalog / "algorithms" / "mine.yaml"
    path.write_text(yaml.safe_dump({"algorithms": [entry]}, sort_keys=False), encoding="utf-8")
    return path


def test_a_user_catalog_naming_an_unknown_simulator_is_one_line(user_catalog: Path) -> None:
    entry = builtin_entry("ucb1")
    entry.update(id="house-ucb", name="House UCB", simulator="ucb-9000")
    path = write_entry(user_catalog, entry)
    line = refusal(invoke("bench", "--catalog", str(user_catalog), "--set", "n_actions=4", "-a", "house-ucb",
                          *SMALL), str(path), "simulator: algorithm 'house-ucb' names simulator 'ucb-9000'",
                   "expected one of ", "thompson-beta", "ucb1")
    assert line.count(",") >= len(REGISTRY) - 1  # every known simulator is listed
    # the shortlist meets it too (the entry replaces the built-in ucb1, which the use case shortlists)
    entry.update(id="ucb1")
    write_entry(user_catalog, entry)
    refusal(invoke("bench", "--catalog", str(user_catalog), "--usecase", "homepage-banner", "--top", "50", *SMALL),
            "simulator: algorithm 'ucb1' names simulator 'ucb-9000'")


def test_replay_picks_through_the_same_check(catalog: Catalog) -> None:
    from banditmap.model import Profile
    from banditmap.recommend import replay as shortlist
    broken = dataclasses.replace(catalog.algorithm("ucb1"), simulator="nope")
    patched = dataclasses.replace(catalog, algorithms=tuple(broken if a.id == "ucb1" else a
                                                            for a in catalog.algorithms))
    with pytest.raises(BanditmapError, match="names simulator 'nope'") as caught:
        shortlist.choose(patched, Profile({"n_actions": 5}), ["ucb1"], 5)
    assert caught.value.field == "simulator" and caught.value.source == broken.source


def test_known_simulators_is_the_registry_and_importing_the_package_is_light() -> None:
    assert known_simulators() == tuple(sorted(REGISTRY))
    code = "import sys, banditmap.sim; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- which algorithms race --------------------------------------------------------------------------------------

@pytest.mark.parametrize("algorithms, needle", [
    ("ucb1,ucb1", "--algorithms: 'ucb1' is named twice"),
    ("ucb1,thompson-beta,ucb1", "--algorithms: 'ucb1' is named twice"),
    (",", "--algorithms: expected at least one algorithm id"),
    ("ucb9", "ucb9: unknown algorithm id"),
])
def test_bad_algorithm_lists_are_one_line(algorithms: str, needle: str) -> None:
    refusal(invoke("bench", "--set", "n_actions=4", "-a", algorithms, *SMALL), needle)


# --- problem sizes ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sets, needle", [
    (["n_actions=1"], "n_actions: a race needs at least 2 actions, got 1"),
    (["n_actions=1", "action_structure=combination"], "a race needs at least 2 actions"),
    (["n_actions=1", "action_space=continuous"], "a race needs at least 2 actions"),
    (["action_structure=slate", "n_actions=5", "slate_size=5"],
     "slate_size: a list of 5 items out of 5 actions leaves nothing to choose"),
    (["action_structure=ranking", "n_actions=3", "slate_size=9"], "slate_size"),  # the profile rules refuse it
    (["action_structure=slate", "n_actions=2"], "n_actions: a list of at least 2 items out of 2 actions"),
])
def test_degenerate_sizes_are_one_line(sets: list[str], needle: str) -> None:
    args = [part for s in sets for part in ("--set", s)]
    refusal(invoke("bench", *args, *SMALL), needle)


@pytest.mark.parametrize("answers, expect, note", [
    ({"action_structure": "ranking", "n_actions": 3}, {"slate_size": 2}, "lists of 3 items (the default) cut to 2"),
    ({"action_structure": "assortment", "n_actions": 5, "slate_size": 1}, {"slate_size": 1}, None),
    ({"action_structure": "combination", "action_space": "many", "slate_size": 1}, {"slate_size": 2},
     "1 page component simulated as 2"),
    ({"context": "linear", "n_features": 100000}, {"n_features": 16}, "100000 features scaled down to 16"),
    ({"n_actions": 10, "horizon": 1}, {"rounds": 1}, "1 round cannot try each of the 10 actions once"),
])
def test_degenerate_sizes_that_race_say_what_they_race(answers: dict[str, Any], expect: dict[str, int],
                                                       note: str | None) -> None:
    problem = problem_from_answers(answers, reps=2)
    assert {k: getattr(problem, k) for k in expect} == expect
    assert (note is None and problem.notes == ()) or any(note in n for n in problem.notes if note), problem.notes
    result = race([RunSpec(s, s, REGISTRY[s]()) for s in sorted(REGISTRY) if problem.kind in REGISTRY[s].kinds],
                  dataclasses.replace(problem, rounds=min(problem.rounds, 50)), seed=0)
    assert all(math.isfinite(r.regret) for r in result.results)


def test_a_one_round_race_works_in_every_format() -> None:
    for fmt in ("json", "table", "csv", "markdown"):
        result = invoke("bench", "--set", "horizon=1", "--set", "n_actions=3", "--reps", "2", "--jobs", "1",
                        "--format", fmt)
        assert result.exit_code == 0, result.output
        assert "inf" not in result.stdout.lower() and "nan" not in result.stdout.lower()


# --- one repetition: no interval ----------------------------------------------------------------------------------

def one_rep() -> Any:
    problem = problem_from_answers({"n_actions": 4}, rounds=80, reps=1)
    return race([RunSpec(s, s, REGISTRY[s]()) for s in ("ucb1", "thompson-beta", "uniform-random")], problem, 0)


def rendered(result: Any, fmt: str, timings: bool = True) -> str:
    out = io.StringIO()
    print_report(bench_report(result, timings=timings), fmt, out)
    return out.getvalue()


def test_one_repetition_shows_no_interval_and_says_why() -> None:
    result = one_rep()
    assert all(r.regret_ci is None and r.gap_ci is None and not r.tied_with_best for r in result.results)
    for fmt in ("table", "csv", "markdown"):
        text = rendered(result, fmt)
        assert "n/a" in text and "inf" not in text.lower() and "nan" not in text.lower(), fmt
    for fmt in ("table", "markdown"):
        assert "at least 2 repetitions are needed" in rendered(result, fmt), fmt
    data = strict_json(rendered(result, "json"))
    assert all(a["regret_ci"] is None and a["gap_ci"] is None for a in data["algorithms"])
    assert any("at least 2 repetitions are needed" in n for n in data["notes"])
    assert "one repetition" in data["verdict"] and "95% confidence" not in data["verdict"]
    cli = invoke("bench", "--set", "n_actions=4", "--rounds", "60", "--reps", "1", "--jobs", "1", "--format", "json")
    assert cli.exit_code == 0 and any("at least 2" in n for n in strict_json(cli.stdout)["notes"])


# --- timings ------------------------------------------------------------------------------------------------------

def small_race(jobs: int) -> Any:
    problem = problem_from_answers({"n_actions": 5}, rounds=150, reps=4)
    chosen = [(s, s, s) for s in ("ucb1", "thompson-beta", "exp3", "uniform-random")]
    from banditmap.catalog.loading import load_catalog
    return race(specs(load_catalog(), chosen, {}), problem, seed=11, jobs=jobs)


def test_without_timings_one_seed_gives_the_same_bytes_in_every_format_whatever_the_jobs() -> None:
    serial, again, parallel = small_race(1), small_race(1), small_race(2)
    for fmt in ("json", "table", "csv", "markdown"):
        text = rendered(serial, fmt, timings=False)
        assert text == rendered(again, fmt, timings=False) == rendered(parallel, fmt, timings=False), fmt
        assert "us/decision" not in text and "us_per_decision" not in text and "timing" not in text, fmt
    assert "timing" not in bench_dict(serial, timings=False)


def test_timings_sit_under_one_key_apart_from_the_results() -> None:
    result = small_race(1)
    data = strict_json(rendered(result, "json"))
    assert set(data["timing"]["us_per_decision"]) == {r.id for r in result.results}
    assert all("us_per_decision" not in a for a in data["algorithms"])
    without = bench_dict(result, timings=False)
    assert {k: v for k, v in data.items() if k != "timing"} == json.loads(json.dumps(without))
    assert "us/decision" in rendered(result, "table") and "us/decision" in rendered(result, "csv")


def test_no_timings_through_the_cli_gives_the_same_bytes_twice() -> None:
    args = ["bench", "--set", "n_actions=4", *SMALL, "--format", "json", "--seed", "3", "--no-timings"]
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout and "timing" not in strict_json(first.stdout)


# --- generated bad input ----------------------------------------------------------------------------------------

IDS = sorted(REGISTRY)
ARMS = [s for s in IDS if "arms" in REGISTRY[s].kinds]  # what races on the small problem below
TUNABLE = [s for s in ARMS if dataclasses.fields(REGISTRY[s])]
NAMES = sorted({f.name for cls in REGISTRY.values() for f in dataclasses.fields(cls)})
VALUES = st.one_of(
    st.sampled_from(["", " ", "0", "-0", "-1", "1", "0.5", "2", "1e6", "1000001", "1e-6", "1e-7", "1e308", "-1e308",
                     "nan", "-nan", "inf", "Infinity", "²", "١٢", "½", "1_0", "0x10", "1e", "10" * 300, "\x1b[31m",
                     "é", "3.0", "1/2", "true", "None"]),
    st.floats(min_value=-3, max_value=3).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=8))
OWN = st.sampled_from(TUNABLE).flatmap(lambda i: st.tuples(
    st.just(i), st.sampled_from([f.name for f in dataclasses.fields(REGISTRY[i])]), VALUES))
PARAMS = st.lists(st.one_of(
    OWN.map(lambda p: f"{p[0]}.{p[1]}={p[2]}"),
    OWN.map(lambda p: f"{p[0]}.{p[1]}={p[2]}"),
    st.builds(lambda i, n, v: f"{i}.{n}={v}", st.sampled_from(IDS), st.sampled_from(NAMES), VALUES),
    st.builds(lambda i, n, v: f"{i}.{n}={v}", st.text(max_size=6), st.text(max_size=6), VALUES),
    st.text(max_size=12)), max_size=3)


def arms_problem() -> Problem:
    return problem_from_answers({"n_actions": 3}, rounds=30, reps=2)


@FAST
@given(items=PARAMS)
def test_generated_params_build_and_race_or_are_one_line(catalog: Catalog, items: list[str]) -> None:
    chosen = [(s, s, s) for s in ARMS]
    try:
        configured = specs(catalog, chosen, parse_params(items))
    except BanditmapError as exc:
        line = exc.render()
        assert "\n" not in line and len(line) < 2200, line
        return
    race(configured, arms_problem(), seed=0)


def own_params(algorithms: list[str]) -> st.SearchStrategy[str]:
    """--param items naming one of the raced algorithms and one of its own hyperparameters, any value."""
    named = [(a, f.name) for a in algorithms if a in REGISTRY for f in dataclasses.fields(REGISTRY[a])]
    if not named:
        return PARAMS.map(lambda items: items[0] if items else "ucb1.alpha=1")
    return st.builds(lambda p, v: f"{p[0]}.{p[1]}={v}", st.sampled_from(named), VALUES)


@FAST
@given(data=st.data(), algorithms=st.lists(st.one_of(st.sampled_from(TUNABLE), st.sampled_from(
           IDS + ["ucb9", "", " ", "neural-ucb", "UCB1", "ucb1 ", "\x1b[2J"])), max_size=4),
       rounds=st.integers(1, 40), reps=st.integers(1, 3), fmt=st.sampled_from(["json", "table", "csv", "markdown"]))
def test_generated_bench_runs_succeed_or_are_one_line(data: st.DataObject, algorithms: list[str], rounds: int,
                                                      reps: int, fmt: str) -> None:
    items = data.draw(st.lists(st.one_of(own_params(algorithms), PARAMS.map(lambda i: i[0] if i else "")),
                               max_size=3))
    args = ["bench", "--set", "n_actions=3", "--rounds", str(rounds), "--reps", str(reps), "--jobs", "1",
            "--format", fmt]
    if algorithms:
        args += ["-a", ",".join(algorithms)]
    for item in items:
        args += ["--param", item]
    result = invoke(*args)
    if result.exit_code == 0:
        assert "Traceback" not in result.stderr
        if fmt == "json":
            strict_json(result.stdout)
        else:
            assert "inf" not in result.stdout.lower().replace("info", "")
    else:
        refusal(result)
