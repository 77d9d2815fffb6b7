"""Sweeps (`bench --sweep`, recommend/sweep.py, sim/sweep.py): values read from lists and ranges, the grid's
settings reaching the policies, common random numbers (a setting's numbers are the race's with that --param),
how flat the optimum is, the JSON shape, and one line with exit status 2 for every bad sweep."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from banditmap.catalog.loading import load_catalog
from banditmap.cli.app import app
from banditmap.errors import BanditmapError
from banditmap.recommend.profile import build_profile
from banditmap.recommend.sweep import grid, parse_sweep, range_values
from banditmap.sim.problem import problem_from_answers

SMALL = ["bench", "--set", "n_actions=5", "--rounds", "400", "--reps", "8", "--seed", "4", "--jobs", "1",
         "--no-timings", "--format", "json"]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("text, values", [
    ("0.1, 0.5,2", ["0.1", "0.5", "2"]),
    ("0:1:5", ["0", "0.25", "0.5", "0.75", "1"]),
    ("0.01:1:3:log", ["0.01", "0.1", "1"]),
    ("1:0:3", ["1", "0.5", "0"]),
    ("0.3:0.3:1", ["0.3"]),
    ("1:2:3:log", ["1", "1.414", "2"]),  # 4 significant digits
])
def test_values_from_lists_and_ranges(text: str, values: list[str]) -> None:
    axis = parse_sweep(f"epsilon-greedy.epsilon={text}")
    assert (axis.candidate, axis.name, list(axis.values), axis.ranged) == ("epsilon-greedy", "epsilon", values,
                                                                          ":" in text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.=,:-+0123456789elog \x00\u0660", max_size=40))
def test_any_text_is_read_or_refused_in_one_line(text: str) -> None:
    try:
        axis = parse_sweep(text)
    except BanditmapError as exc:
        assert exc.field is not None and exc.field.startswith("--sweep") and "\n" not in exc.render()
    else:
        assert axis.values and all(value.strip() == value and value for value in axis.values)


def test_a_range_is_at_most_the_largest_grid() -> None:
    assert len(range_values("0:1:1000", "--sweep x.y")) == 1000
    with pytest.raises(BanditmapError, match="at most 1000 settings, got n = 1001"):
        range_values("0:1:1001", "--sweep x.y")


def test_every_setting_of_a_grid_reaches_its_policy_and_whole_numbers_are_rounded() -> None:
    """Two hyperparameters of one algorithm: the first varies slowest, both reach the policy; a log range over a
    whole-number window is rounded (10, 31.62 -> 32, 100)."""
    catalog = load_catalog([])
    profile = build_profile(catalog, None, None, ["n_actions=5"])
    problem = problem_from_answers(profile.answers, 100, 2)
    settings, fixed = grid(catalog, profile, problem, ["sw-ucb.window=10:100:3:log", "sw-ucb.c=0.3,1"], [])
    assert [s.label for s in settings] == ["window=10, c=0.3", "window=10, c=1", "window=32, c=0.3",
                                           "window=32, c=1", "window=100, c=0.3", "window=100, c=1"]
    assert [(s.spec.policy.window, s.spec.policy.c) for s in settings] == [
        (10, 0.3), (10, 1.0), (32, 0.3), (32, 1.0), (100, 0.3), (100, 1.0)]
    assert {s.spec.id for s in settings} == {"sw-ucb"} and fixed == {}  # one id: the same random streams
    settings, fixed = grid(catalog, profile, problem, ["sw-ucb.window=1:3:5"], ["sw-ucb.c=0.8"])
    assert [s.label for s in settings] == ["window=1", "window=2", "window=3"] and fixed == {"c": 0.8}


def test_a_composition_sweeps_a_component_and_names_it_as_a_race_shows_it() -> None:
    catalog = load_catalog([])
    profile = build_profile(catalog, None, None, ["n_actions=5"])
    problem = problem_from_answers(profile.answers, 100, 2)
    settings, fixed = grid(catalog, profile, problem, ["ucb1+sliding-window.alpha=0.5,2"],
                           ["ucb1+sliding-window.window=50"])
    assert [s.label for s in settings] == ["ucb1.alpha=0.5", "ucb1.alpha=2"] and fixed == {"sliding-window.window": 50}
    assert [s.spec.params for s in settings] == [{"ucb1.alpha": 0.5, "sliding-window.window": 50},
                                                 {"ucb1.alpha": 2.0, "sliding-window.window": 50}]


def test_a_setting_has_the_numbers_of_the_race_with_that_param_and_the_flat_optimum_is_the_paired_test() -> None:
    code, out = invoke(*SMALL, "--sweep", "epsilon-greedy.epsilon=0,0.2,1")
    assert code == 0, out
    data = json.loads(out)
    assert data["schema"] == "banditmap.sweep/1" and "timing" not in data
    assert list(data) == ["schema", "seed", "problem", "environment", "algorithm", "parameters", "fixed", "rounds",
                          "verdict", "notes", "best", "flat", "settings"]
    assert list(data["settings"][0]) == ["label", "regret", "regret_ci", "last_reward", "last_reward_ci",
                                         "optimal_share", "gap_to_best", "gap_ci", "near_best", "values", "curve",
                                         "curve_low", "curve_high"]
    assert data["settings"][0]["values"] == {"epsilon": 0.0} and len(data["settings"][0]["curve"]) == len(
        data["rounds"])
    assert data["algorithm"] == {"id": "epsilon-greedy", "name": "Epsilon-greedy"}
    assert data["parameters"] == ["epsilon"] and data["problem"]["reps"] == 8
    settings = {s["label"]: s for s in data["settings"]}
    assert list(settings) == ["epsilon=0", "epsilon=0.2", "epsilon=1"]
    code, out = invoke(*SMALL, "--algorithms", "epsilon-greedy", "--no-baseline", "--param",
                       "epsilon-greedy.epsilon=0.2")
    assert code == 0, out
    raced = json.loads(out)["algorithms"][0]
    for key in ("regret", "regret_ci", "last_reward", "optimal_share", "curve", "curve_high"):
        assert settings["epsilon=0.2"][key] == raced[key], key
    best = min(data["settings"], key=lambda s: s["regret"])
    assert data["best"] == best["label"] and best["gap_to_best"] == 0.0
    for s in data["settings"]:
        assert s["near_best"] == (s is best or s["gap_to_best"] - s["gap_ci"] <= 0), s["label"]
    assert data["flat"] == [s["label"] for s in data["settings"] if s["near_best"]]
    assert "epsilon=1" not in data["flat"]  # uniform play: worse than the best with 95% confidence
    assert settings["epsilon=1"]["regret"] > 2 * best["regret"]


def test_the_table_names_the_best_and_how_flat_the_optimum_is() -> None:
    code, out = invoke(*SMALL[:-2], "--sweep", "epsilon-greedy.epsilon=0.2,1")
    assert code == 0, out
    assert "Sweep of Epsilon-greedy (epsilon-greedy) on arms problem, 5 arms" in out
    assert "Best setting of Epsilon-greedy: epsilon=0.2 (regret" in out
    assert "The optimum is sharp: every other setting is worse with 95% confidence (paired)." in out


@pytest.mark.parametrize("sweep, extra, message", [
    ("nosuch.alpha=1,2", [], "--sweep nosuch.alpha: nosuch: unknown algorithm id"),
    ("epsilon-greedy.nope=1,2", [], "--sweep epsilon-greedy.nope: unknown hyperparameter 'nope'; expected one of "
                                    "epsilon"),
    ("epsilon-greedy.epsilon=0.1,abc", [], "--sweep epsilon-greedy.epsilon: expected a number from 0 to 1, got "
                                           "'abc'"),
    ("epsilon-greedy.epsilon=0.1,2", [], "--sweep epsilon-greedy.epsilon: expected a number from 0 to 1, got '2'"),
    ("sw-ucb.window=0.5,2", [], "--sweep sw-ucb.window: expected a whole number from 1 to 1e+07, got '0.5'"),
    ("epsilon-greedy.epsilon=0:1:0", [], "--sweep epsilon-greedy.epsilon: the range '0:1:0' is empty: n must be at "
                                         "least 1"),
    ("epsilon-greedy.epsilon=0.1,,0.2", [], "--sweep epsilon-greedy.epsilon: expected values separated by commas, "
                                            "got an empty one in '0.1,,0.2'"),
    ("epsilon-greedy.epsilon=0:1:x", [], "--sweep epsilon-greedy.epsilon: expected a whole number of settings n in "
                                         "lo:hi:n, got 'x'"),
    ("epsilon-greedy.epsilon=0:1:3:lin", [], "--sweep epsilon-greedy.epsilon: expected lo:hi:n or lo:hi:n:log, got "
                                             "'0:1:3:lin'"),
    ("epsilon-greedy.epsilon=0:1:3:log", [], "--sweep epsilon-greedy.epsilon: a log range needs lo and hi above 0"),
    ("epsilon-greedy.epsilon=0.1,0.10", [], "--sweep epsilon-greedy.epsilon: the value '0.10' is given twice"),
    ("epsilon-greedy.epsilon", [], "--sweep: expected ALGO.PARAM=V1,V2,... or ALGO.PARAM=lo:hi:n[:log], got "
                                   "'epsilon-greedy.epsilon'"),
    ("epsilon-greedy.epsilon=0.1", ["--sweep", "ucb1.alpha=1"], "--sweep ucb1.alpha: a sweep races one "
                                                                "algorithm's settings, but names both"),
    ("epsilon-greedy.epsilon=0.1", ["--param", "epsilon-greedy.epsilon=0.2"],
     "--sweep epsilon-greedy.epsilon: is both swept and set with --param"),
    ("epsilon-greedy.epsilon=0.1", ["--algorithms", "ucb1"], "--sweep: a sweep races the settings of the algorithm"),
])
def test_a_bad_sweep_is_one_line_and_exit_2(sweep: str, extra: list[str], message: str) -> None:
    code, out = invoke(*SMALL, "--sweep", sweep, *extra)
    assert code == 2, out
    assert out.startswith(f"banditmap: error: {message}"), out
    assert len(out.strip().splitlines()) == 1
