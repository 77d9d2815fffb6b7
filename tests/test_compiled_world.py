"""The contextual races read the world every candidate meets from one recording (compiled.contextual_world,
kernels/linear.py's record_world): the same numbers as races that draw it themselves, recorded once for the
candidates raced one after another, and not recorded where the world answers the plays or would be too large."""

from __future__ import annotations

import numpy as np
import pytest

from banditmap.sim import compiled
from banditmap.sim.adapters import build_wrapper
from banditmap.sim.kernels import arms, linear, rng
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

NONLINEAR = {"context": "nonlinear", "n_features": 4, "n_actions": 5, "environment": "drifting",
             "feedback_delay": "batched"}
FIGURES = ("regret", "final_regret", "last_reward", "optimal", "below_baseline")


def entrant(name: str) -> RunSpec:
    base, _, wrapper = name.partition("+")
    policy = build(base, {}, base)
    return RunSpec(name, name, build_wrapper(wrapper, policy, {}, wrapper) if wrapper else policy)


@pytest.mark.parametrize("simulator,answers", [
    ("lin-ts", NONLINEAR), ("d-linucb", NONLINEAR), ("uniform-random", NONLINEAR),
    ("linucb+conservative", {"context": "linear", "n_features": 3, "n_actions": 4, "constraints": "safety"})])
def test_a_recorded_world_gives_the_numbers_of_a_world_drawn_in_the_race(simulator: str, answers: dict[str, str],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    problem = problem_from_answers(answers, rounds=250, reps=3)
    spec = entrant(simulator)
    compiled.recorded_world.cache_clear()
    recorded = run(spec, problem, 7)
    assert compiled.recorded_world.cache_info().misses == 1
    monkeypatch.setattr(compiled, "WORLD_BYTES", 0)  # too large to record: each race draws its world
    compiled.recorded_world.cache_clear()
    drawn = run(spec, problem, 7)
    assert compiled.recorded_world.cache_info().misses == 0
    for name in FIGURES:
        a, b = getattr(recorded, name), getattr(drawn, name)
        assert (a is None and b is None) or np.array_equal(a, b), name


def test_the_candidates_of_a_race_read_one_recording() -> None:
    problem = problem_from_answers(NONLINEAR, rounds=40, reps=2)
    compiled.recorded_world.cache_clear()
    for name in ("lin-ts", "d-linucb", "uniform-random"):
        run(entrant(name), problem, 3)
    assert (compiled.recorded_world.cache_info().misses, compiled.recorded_world.cache_info().hits) == (1, 2)
    run(entrant("lin-ts"), problem, 4)  # another seed, another world
    assert compiled.recorded_world.cache_info().misses == 2


def test_a_world_answering_the_plays_is_drawn_in_each_race() -> None:
    problem = problem_from_answers({**NONLINEAR, "environment": "adversarial"}, rounds=40, reps=2)
    world, saved = compiled.contextual_world(problem, rng.stream_seeds(1, 0, 2))
    assert world.shape == (2, 0, 0) and saved.shape == (2, 0)


def test_a_record_holds_each_rounds_context_expected_rewards_best_and_the_state_before_the_reward() -> None:
    """Round by round, the record is what the race's own draws give: the context (draw_context), every arm's
    expected reward after the move and the best (move_and_pay), and the stream's state just before the reward's
    draw, after which the stream goes on as arms.draw_reward leaves it."""
    R, K, d, H, T = 2, 3, 4, 5, 25
    world, saved = np.empty((R, T, d + K + 1)), np.empty((R, T), np.uint64)
    linear.record_world(rng.stream_seeds(9, 1, R), K, d, H, T, arms.BINARY, arms.DRIFTING, world, saved)
    env = rng.stream_seeds(9, 1, R)
    theta, crossed_theta = np.empty((R, K, H)), np.empty((R, H, K))
    layer, crossed_layer, bias = np.empty((R, H, d)), np.empty((R, d, H)), np.empty((R, H))
    mu, x = np.empty((R, K)), np.empty(d)
    for r in range(R):
        linear.draw_repetition(theta, layer, bias, crossed_layer, crossed_theta, env, r)
        for t in range(T):
            linear.draw_context(x, env, r)
            top = linear.move_and_pay(theta, bias, crossed_layer, crossed_theta, mu, np.zeros((R, K)), env, r, t, T,
                                      arms.DRIFTING, x, np.empty(H), arms.BINARY)
            assert world[r, t].tolist() == [*x, *mu[r], top] and top == max(mu[r])
            assert saved[r, t] == env[r]
            u = rng.uniform(env, r)  # the reward's draw: a uniform against the play's value
            assert arms.draw_reward_step(u + 1e-9, saved[r, t], arms.BINARY)[0] == 1.0
            assert arms.draw_reward_step(u, saved[r, t], arms.BINARY)[0] == 0.0
