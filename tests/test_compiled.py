"""The compiled race and the step-by-step loop are one implementation: a policy whose decisions are compiled
kernels gives exactly the same run either way, on every kind of K-armed problem, so races that mix compiled and
looped candidates keep their common random numbers."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.policies import REGISTRY, build
from banditmap.sim.policies.mab import Kernel
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

KERNEL_POLICIES = sorted(i for i, cls in REGISTRY.items() if issubclass(cls, Kernel))
PROBLEMS = {
    "stationary": {"n_actions": 6},
    "drifting-delayed": {"n_actions": 6, "environment": "drifting", "feedback_delay": "delayed",
                         "reward_type": "continuous"},
    "abrupt-batched": {"n_actions": 6, "environment": "abrupt", "feedback_delay": "batched"},
    "adversarial-safety": {"n_actions": 6, "environment": "adversarial", "constraints": "safety"},
    "heavy-tailed": {"n_actions": 6, "reward_type": "heavy_tailed"},
    "best-arm": {"n_actions": 6, "objective": "best_arm"},
    "censored": {"n_actions": 6, "feedback_delay": "delayed", "delay_bound": "indefinite"},
}


def looped(problem: Any, rng: np.random.Generator) -> Any:
    """The problem's own world, given as if it were a test's, so that the runner takes the step-by-step loop."""
    return make_environment(problem, rng)


def test_the_kernel_policies_are_the_counting_forgetting_queued_and_weighted_ones():
    assert KERNEL_POLICIES == ["delayed-conversions-ucb", "delayed-ucb", "discounted-ts", "discounted-ucb",
                               "epsilon-greedy", "exp3", "exp3-ix", "exp3-p", "exp3-s", "kl-ucb", "lucb", "moss",
                               "robust-ucb", "softmax", "successive-elimination", "sw-ucb", "thompson-beta",
                               "thompson-gaussian", "top-two-ts", "ucb1", "uniform-random"]


@pytest.mark.parametrize("problem_name", sorted(PROBLEMS))
@pytest.mark.parametrize("simulator", KERNEL_POLICIES)
def test_the_compiled_race_gives_the_loops_numbers_exactly(simulator: str, problem_name: str):
    problem = problem_from_answers(PROBLEMS[problem_name], rounds=600, reps=5)
    spec = RunSpec(simulator, simulator, build(simulator, {}, simulator))
    assert compiled.covers(spec.policy, problem)
    fast, slow = run(spec, problem, 3), run(spec, problem, 3, environment=looped)
    assert fast.rounds == slow.rounds
    for name in ("regret", "final_regret", "last_reward", "optimal", "below_baseline", "identified",
                 "simple_regret"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert (a is None and b is None) or np.array_equal(a, b), name
    assert (fast.identified is not None) == (problem_name == "best-arm")


def test_what_the_compiled_race_does_not_cover_goes_through_the_loop():
    from banditmap.sim.adapters import build_wrapper
    problem = problem_from_answers({"n_actions": 4}, rounds=50, reps=2)
    assert not compiled.covers(build_wrapper("conservative", build("ucb1", {}, "x"), {}, "x"), problem)
    assert not compiled.covers(build("conservative-ucb", {}, "x"), problem)
    contextual = problem_from_answers({"n_actions": 4, "context": "linear", "n_features": 3}, rounds=50, reps=2)
    assert not compiled.covers(build("conservative-ucb", {}, "x"), contextual)
    # EXP3.P's note (every arm's probability) takes K columns, which the contextual race carries only when the
    # feedback comes at once
    assert compiled.covers(build("exp3-p", {}, "x"), contextual)
    late = problem_from_answers({"n_actions": 4, "context": "linear", "n_features": 3, "feedback_delay": "delayed"},
                                rounds=50, reps=2)
    assert not compiled.covers(build("exp3-p", {}, "x"), late)
    assert compiled.covers(build("exp3", {}, "x"), late)
    # conservative exploration races compiled around bases whose bounds kernel gives their choice, not this one
    assert not compiled.covers(build_wrapper("conservative", build("conservative-linucb", {}, "x"), {}, "x"),
                               contextual)


@pytest.mark.parametrize("adapters", [("delay-queue",), ("discounting", "delay-queue")])
def test_exp3_p_composed_carries_its_notes_of_k_columns_through_late_feedback(adapters: tuple[str, ...]):
    """EXP3.P notes every arm's probability on a decision (K columns from K + 1): composed with adapters, under
    delayed feedback, the whole race carries them with each observation as the loop does, and both give the same
    numbers."""
    from banditmap.sim.adapters import build_wrapper
    problem = problem_from_answers(PROBLEMS["drifting-delayed"], rounds=400, reps=3)
    policy = build("exp3-p", {}, "x")
    for adapter in adapters:
        policy = build_wrapper(adapter, policy, {}, "x")
    spec = RunSpec("x", "x", policy)
    assert compiled.covers(policy, problem)
    fast, slow = run(spec, problem, 3), run(spec, problem, 3, environment=looped)
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


CONTEXTUAL = {
    "stationary": {"context": "linear", "n_features": 4, "n_actions": 5},
    "drifting-delayed": {"context": "linear", "n_features": 4, "n_actions": 5, "environment": "drifting",
                         "feedback_delay": "delayed", "reward_type": "continuous"},
    "abrupt-batched-safety": {"context": "linear", "n_features": 3, "n_actions": 4, "environment": "abrupt",
                              "feedback_delay": "batched", "constraints": "safety"},
    "adversarial": {"context": "linear", "n_features": 3, "n_actions": 4, "environment": "adversarial"},
    "nonlinear-drifting-batched": {"context": "nonlinear", "n_features": 4, "n_actions": 5, "environment": "drifting",
                                   "feedback_delay": "batched"},
    "nonlinear-abrupt-safety": {"context": "nonlinear", "n_features": 3, "n_actions": 4, "environment": "abrupt",
                                "constraints": "safety", "reward_type": "continuous"},
    "nonlinear-adversarial": {"context": "nonlinear", "n_features": 3, "n_actions": 4, "environment": "adversarial"},
}


@pytest.mark.parametrize("problem_name", sorted(CONTEXTUAL))
@pytest.mark.parametrize("simulator", ["linucb", "lin-ts", "eps-greedy-oracle", "logistic-ts", "d-linucb", "sw-linucb"])
def test_the_compiled_linear_race_gives_the_loops_numbers(simulator: str, problem_name: str):
    """The linear race and the loop make the same decisions from the same draws; their ridge updates sum in the
    same order, so the runs agree to rounding (1e-9 of the regret)."""
    problem = problem_from_answers(CONTEXTUAL[problem_name], rounds=400, reps=4)
    spec = RunSpec(simulator, simulator, build(simulator, {}, simulator))
    assert compiled.covers(spec.policy, problem)
    fast, slow = run(spec, problem, 5), run(spec, problem, 5, environment=looped)
    for name in ("regret", "final_regret", "last_reward", "optimal", "below_baseline"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert (a is None and b is None) or np.allclose(a, b, rtol=1e-9, atol=1e-9), name


def small_contextual(answers: dict[str, str], rounds: int, batch: int) -> Any:
    """A contextual problem of 3 arms, 2 features and 2 repetitions, late feedback 3 rounds late on average or in
    batches of `batch` rounds (0: the problem's own size)."""
    problem = problem_from_answers({"n_actions": 3, "context": "linear", "n_features": 2, **answers}, rounds=rounds,
                                   reps=2)
    return dataclasses.replace(problem, mean_delay=3, batch_size=batch or problem.batch_size)


def same_runs(spec: RunSpec, problem: Any, seed: int = 4) -> None:
    """The compiled race and the step-by-step loop give the same numbers, the share of rounds below the baseline
    on safety problems only."""
    fast = run(spec, problem, seed)
    slow = run(spec, problem, seed, environment=looped)
    for name in ("regret", "final_regret", "last_reward", "optimal", "below_baseline"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert (a is None and b is None) or np.array_equal(a, b), name
    assert (fast.below_baseline is not None) == (problem.constraint == "safety")


@pytest.mark.parametrize("problem_name", sorted(CONTEXTUAL))
@pytest.mark.parametrize("simulator", ["uniform-random", "thompson-beta", "delayed-ucb", "ucb1+sliding-window"])
def test_counting_policies_race_the_contextual_worlds_compiled_with_the_loops_numbers(simulator: str,
                                                                                      problem_name: str):
    """A counting policy (alone, noting its decisions, or composed) plays the contextual worlds without reading
    the contexts: compiled, it meets the loop's worlds and draws and gives exactly its numbers."""
    from banditmap.sim.adapters import build_wrapper
    problem = problem_from_answers(CONTEXTUAL[problem_name], rounds=300, reps=3)
    base, _, wrapper = simulator.partition("+")
    policy = build(base, {}, base)
    if wrapper:
        policy = build_wrapper(wrapper, policy, {}, wrapper)
    spec = RunSpec(simulator, simulator, policy)
    assert compiled.covers(policy, problem)
    same_runs(spec, problem, seed=5)


def test_the_compiled_contextual_world_tells_the_expected_rewards_of_a_context_before_its_step():
    # a caller may ask for the means under a context without stepping (e.g. a default arm's regret): they are the
    # ones the step then pays out, not the last step's
    problem = problem_from_answers({"context": "linear", "n_actions": 4, "n_features": 3}, rounds=10, reps=5)
    env = make_environment(problem, np.random.default_rng(3))
    for t in range(3):
        x = env.context(t)
        means = env.expected(x).copy()
        outcome = env.step(t, np.zeros(problem.reps, np.int64), x)
        np.testing.assert_allclose(means.max(axis=1), outcome.best)
        np.testing.assert_allclose(means[:, 0], outcome.value)


@pytest.mark.parametrize("simulator", ["thompson-beta", "linucb", "d-linucb"])
def test_a_race_gives_the_same_numbers_in_one_thread_or_several(simulator: str, monkeypatch: pytest.MonkeyPatch):
    answers = {"n_actions": 5} if simulator == "thompson-beta" else CONTEXTUAL["nonlinear-drifting-batched"]
    problem = problem_from_answers(answers, rounds=300, reps=7)
    spec = RunSpec(simulator, simulator, build(simulator, {}, simulator))
    runs = []
    for count in (1, 3):
        monkeypatch.setattr(compiled, "threads", lambda: count)
        runs.append(run(spec, problem, 5))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(runs[0], name), getattr(runs[1], name)), name


def test_every_kernel_divides_as_numpy_does_and_only_the_state_samplers_are_always_inlined():
    """Each kernel's dispatcher, and a race bound from the templates, compiles with numba's "numpy" error model
    (kernels/__init__.py says why): one left with the python model would be slower, and would pass it on to the
    kernels compiled inside it first. None makes a C-callable wrapper (compile time for nothing). Only the
    samplers on a stream state held in a local are always inlined, by LLVM; none asks numba to inline its IR,
    which costs compile time at every call site."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import banditmap.sim.kernels as package
    from banditmap.sim.kernels import arms
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == module.__name__:
                found.append((f"{info.name}.{name}", value.targetoptions))
    assert len(found) > 100
    assert [name for name, options in found if options.get("error_model") != "numpy"] == []
    assert [name for name, options in found if not options.get("no_cfunc_wrapper")] == []
    assert [name for name, options in found if options.get("inline", "never") != "never"] == []
    assert sorted(name for name, options in found if options.get("forceinline")) == [
        "rng.beta_parts_step", "rng.beta_step", "rng.gamma_from_step", "rng.gamma_step", "rng.kept_beta_parts_step",
        "rng.kept_beta_step", "rng.normal_and_uniform_step"]
    race = arms.make_race("choose_ucb1", "learn_counts")
    assert race.targetoptions["error_model"] == "numpy" and race.targetoptions["nogil"]
    assert race.targetoptions["no_cfunc_wrapper"]


LOAD_SCRIPT = """
import sys
from banditmap.sim import kernels
from banditmap.sim.kernels import arms, rng
made = [name for module in (arms, rng) for name, value in vars(module).items()
        if isinstance(getattr(value, "_cache", None), kernels.KernelCache) and value._cache._made]
states = rng.stream_seeds(7, 3, 2)  # allocates its array through numba's runtime
print(made, [rng.gamma(states, 1, 2.5) for _ in range(3)], "numba.typed.typeddict" in sys.modules, sep="|")
"""


def test_a_kernel_loaded_from_the_cache_in_a_new_process_gives_its_numbers_without_numbas_compiler(tmp_path):
    """The first process compiles two kernels (and those they call) into an empty cache; the second loads them
    (KernelCache): no kernel's cache is made at import, the draws are the same, and loading does not set up
    numba's compiler (the typing and lowering registries numba's own load imports, such as typed dictionaries',
    which no kernel uses). As plain Python (NUMBA_DISABLE_JIT, as the mutation runs use them) they draw the same."""
    import ast
    import os
    import subprocess
    import sys

    from banditmap.sim import kernels
    environment = {**os.environ, kernels.CACHE_ENV: str(tmp_path)}
    compiled_, loaded = (subprocess.run([sys.executable, "-c", LOAD_SCRIPT], env=environment, capture_output=True,
                                        text=True, check=True).stdout.strip().split("|") for _ in range(2))
    assert compiled_[0] == loaded[0] == "[]"
    assert compiled_[1] == loaded[1] and len(set(ast.literal_eval(loaded[1]))) == 3
    assert (compiled_[2], loaded[2]) == ("True", "False")
    assert {"rng.stream_seeds", "rng.gamma"} <= {path.name.split("-")[0] for path in tmp_path.rglob("*.nbc")}
    plain = subprocess.run([sys.executable, "-c", LOAD_SCRIPT], env={**environment, "NUMBA_DISABLE_JIT": "1"},
                           capture_output=True, text=True, check=True).stdout.strip().split("|")
    assert plain[:2] == loaded[:2]


@pytest.mark.parametrize("simulator,answers,batch,rounds", [
    ("thompson-beta", {"reward_type": "continuous"}, 0, 105),
    ("exp3", {}, 0, 15),
    ("uniform-random", {"feedback_delay": "delayed"}, 0, 105),
    ("exp3", {"feedback_delay": "delayed", "environment": "drifting"}, 0, 105),
    ("thompson-beta", {"feedback_delay": "batched", "constraints": "safety", "environment": "abrupt"}, 20, 105),
    ("exp3", {"feedback_delay": "batched", "context": "nonlinear", "environment": "adversarial"}, 16, 105),
])
def test_a_counting_policy_races_the_contextual_world_with_the_loops_numbers(simulator: str, answers: dict[str, str],
                                                                            batch: int, rounds: int) -> None:
    """counting_race: a counting policy plays the contexts' world without reading them, with feedback at once, after
    geometric delays, or at the end of batches of 20 rounds (the queue, 16 long at first, grows) or of 16 (full when
    they arrive); EXP3 (gamma 0.6: its probabilities move) notes its pick's probability on each decision, which
    travels with the observation to its learning, the uniform baseline's scratch row holds none; the world is
    recorded, or drawn in the race where it answers the plays (the adversary trades the most played arm's
    parameters every 50 rounds).
    The same numbers as the loop, over 105 rounds (the last 10 the tail) or 15 (the last one). Small enough for the
    plain-Python mutation run of kernels/linear.py (tools/mutation.py), and here beside the larger counting test,
    whose races it shares (but EXP3's): the suite compiles each race once."""
    problem = small_contextual(answers, rounds, batch)
    spec = RunSpec(simulator, simulator, build(simulator, {"gamma": 0.6} if simulator == "exp3" else {}, simulator))
    assert compiled.covers(spec.policy, problem) and compiled.linear_form(spec.policy, problem) is None
    same_runs(spec, problem)


@pytest.mark.parametrize("simulator,answers,batch,rounds", [
    ("d-linucb", {"reward_type": "continuous"}, 0, 105),
    ("sw-linucb", {"environment": "abrupt", "constraints": "safety"}, 0, 15),
    ("d-linucb", {"feedback_delay": "delayed", "environment": "drifting"}, 0, 105),
    ("sw-linucb", {"feedback_delay": "delayed", "context": "nonlinear"}, 0, 105),
    ("d-linucb", {"feedback_delay": "batched", "environment": "adversarial"}, 20, 105),
    ("sw-linucb", {"feedback_delay": "batched", "constraints": "safety"}, 16, 105),
])
def test_the_moving_race_gives_the_loops_numbers(simulator: str, answers: dict[str, str], batch: int,
                                                 rounds: int) -> None:
    """kernels/moving.py's race: D-LinUCB (gamma 0.8: a round's discount tells) and SW-LinUCB (a window of 8, which
    the runs fill and slide) on the linear or non-linear contextual world, with feedback at once, after geometric
    delays, or at the end of batches of 20 rounds (the queue, 16 long at first, grows) or of 16 (full when they
    arrive), each observation learnt with its own context in the order queued; the world recorded, or drawn in the
    race where it answers the plays; a safety baseline watched. The same numbers as the step-by-step loop, over 105
    rounds (a tail of 10) or 15. Small enough for the plain-Python mutation run of kernels/moving.py, and here beside
    the larger linear race test, whose races it shares."""
    problem = small_contextual(answers, rounds, batch)
    settings = {"window": 8} if simulator == "sw-linucb" else {"gamma": 0.8}
    spec = RunSpec(simulator, simulator, build(simulator, settings, simulator))
    regressions = compiled.linear_form(spec.policy, problem)
    assert regressions is not None and regressions.moving
    same_runs(spec, problem)
