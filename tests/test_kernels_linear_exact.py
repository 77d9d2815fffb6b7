"""Exact checks of the linear contextual kernels (sim/kernels/linear.py): LinUCB's mean and width and linear
Thompson sampling's draws on tiny hand-computed states, the ridge update (Sherman-Morrison) against
np.linalg.inv, the linear world's parameters, contexts, moves and rewards replayed from their streams, and the
whole race checked round by round against a reference written here from the kernels' docstrings. Small enough to
run as plain Python (NUMBA_DISABLE_JIT=1), as the mutation run does (tools/mutation.py)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import arms, linear
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

LINEAR = (np.zeros((2, 0, 2)), np.zeros((2, 0)))  # the linear world's (empty) hidden layer and biases
NONE = np.zeros((3, 0))  # the scratch rows of a policy that keeps nothing besides its regressions


def close(got: Any, want: Any) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def filled(*shape: int, seed: int = 0) -> np.ndarray:
    """Other repetitions' and arms' entries: values a kernel must not read or write."""
    return np.random.default_rng(seed).normal(size=shape)


# --- decisions ---------------------------------------------------------------------------------------------------

def test_mean_and_width_by_hand() -> None:
    inverse, theta = filled(2, 3, 2, 2), filled(2, 3, 2, seed=1)
    inverse[1, 2] = [[2.0, 0.5], [0.5, 1.0]]
    theta[1, 2] = [0.3, -0.2]
    mean, width = linear.mean_and_width(inverse, theta, 1, 2, np.array([1.0, 2.0]), np.empty(2))
    # x^T theta = 0.3 - 0.4; x^T A^-1 x = 1 (2 + 1) + 2 (0.5 + 2) = 8
    assert mean == pytest.approx(-0.1, abs=1e-15) and width == math.sqrt(8.0)
    mean, width = linear.mean_and_width(inverse, theta, 1, 2, np.array([0.0, 0.5]), np.empty(2))
    assert mean == -0.1 and width == 0.5  # x^T A^-1 x = 0.25: not held at 1
    inverse[0, 1] = [[1.0, -3.0], [0.0, 1.0]]  # not positive definite: a negative quadratic form is held at 0
    theta[0, 1] = [0.0, 1.0]
    assert linear.mean_and_width(inverse, theta, 0, 1, np.array([1.0, 1.0]), np.empty(2)) == (1.0, 0.0)
    assert linear.mean_and_width(inverse, theta, 0, 1, np.array([1.0, 0.1]), np.empty(2)) == pytest.approx(
        (0.1, math.sqrt(1 - 0.3 + 0.01)), rel=1e-15)


def ridge(R: int, K: int, d: int, l2: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fresh ridge state: inverse I / l2, target and estimate 0."""
    return np.broadcast_to(np.eye(d) / l2, (R, K, d, d)).copy(), np.zeros((R, K, d)), np.zeros((R, K, d))


def test_linucb_plays_the_largest_mean_plus_alpha_times_the_width() -> None:
    inverse, target, theta = ridge(2, 3, 2)
    theta[1] = [[0.5, 0.0], [0.2, 0.0], [0.0, 0.0]]
    inverse[1] = [0.1 * np.eye(2), 4.0 * np.eye(2), np.eye(2)]
    x = np.array([1.0, 0.0])  # means 0.5, 0.2, 0; widths sqrt(0.1), 2, 1
    s = states(2)

    def pick(l2: float, alpha: float) -> int:
        return int(linear.choose_linucb(np.array([l2, alpha]), inverse, target, theta, NONE, s, 1, x))

    assert pick(5.0, 0.0) == 0  # alpha 0: the best mean (l2 is not the exploration constant)
    assert pick(1e-3, 1.0) == 1  # 0.82, 2.2, 1
    assert pick(1.0, 0.15) == 0  # 0.547, 0.5, 0.15
    assert pick(1.0, 0.2) == 1  # 0.563, 0.6, 0.2
    theta[1, 2] = [1.0, 0.0]
    assert pick(1.0, 0.7) == 2  # 0.72, 1.6, 1.7
    assert s.tolist() == states(2).tolist()  # no tie, no draw
    theta[0] = 9.0  # the other repetition's statistics are not read
    assert pick(1.0, 0.7) == 2


def test_linucb_breaks_ties_at_random_on_its_own_stream() -> None:
    """Every arm of a fresh state scores the same: the tie is broken by reservoir sampling on repetition 1's
    stream (the k-th tied arm takes the pick when u * k < 1); a better arm after the tie starts afresh."""
    picks = set()
    for seed in range(20):
        inverse, target, theta = ridge(2, 3, 2, l2=2.0)
        s = states(2, seed)
        ref = Stream(s[1])
        want = 0
        for k in (1, 2):
            if ref.uniform() * (k + 1) < 1:
                want = k
        pick = linear.choose_linucb(np.array([2.0, 1.0]), inverse, target, theta, NONE, s, 1, np.array([0.6, -0.8]))
        assert pick == want and int(s[1]) == ref.state and s[0] == states(2, seed)[0]
        picks.add(int(pick))
        theta[1, 2] = [0.1, 0.0]  # arms 0 and 1 tie, arm 2 is better: the tie's draw is made, then forgotten
        assert linear.choose_linucb(np.array([2.0, 1.0]), inverse, target, theta, NONE, s, 1, np.array([0.6, -0.8])) == 2
        ref.uniform()
        assert int(s[1]) == ref.state
    assert picks == {0, 1, 2}


def test_linear_thompson_sampling_draws_from_each_arms_posterior_in_turn() -> None:
    """Arm k's score is x^T theta_k + v sqrt(x^T A_k^-1 x) z_k, z_k the stream's next normal, arms in order."""
    inverse, target, theta = ridge(30, 3, 2)
    theta[:] = [[0.3, 0.1], [0.35, -0.2], [0.1, 0.4]]
    inverse[:, 1] = 0.25 * np.eye(2)
    inverse[:, 2] = [[2.0, 0.3], [0.3, 0.5]]
    x = np.array([1.0, 0.5])
    s = states(30)
    picks = set()
    for r in range(30):
        ref = Stream(s[r])
        scores = []
        for k in range(3):
            mean = float(theta[r, k] @ x)
            width = math.sqrt(float(x @ inverse[r, k] @ x))
            scores.append(mean + 0.8 * width * ref.normal())
        pick = linear.choose_lin_ts(np.array([3.0, 0.8]), inverse, target, theta, NONE, s, r, x)
        assert pick == int(np.argmax(scores)) and int(s[r]) == ref.state
        picks.add(int(pick))
    assert picks == {0, 1, 2}
    for r in range(30):  # v = 0: the best mean, and ties broken by uniforms drawn between the normals
        ref = Stream(s[r])
        ref.normal()
        ref.normal()
        want = 1 if ref.uniform() * 2 < 1 else 0
        ref.normal()
        theta[r] = [[0.5, 0.0], [0.5, 0.0], [0.1, 0.0]]
        assert linear.choose_lin_ts(np.array([1.0, 0.0]), inverse, target, theta, NONE, s, r, x) == want
        assert int(s[r]) == ref.state


def test_the_ridge_update_is_sherman_morrison() -> None:
    # d = 1, l2 = 2: A = 2 + x^2 = 6 after x = 2, b = 3 x = 6, theta = 1
    inverse, target, theta = ridge(1, 1, 1, l2=2.0)
    linear.learn_ridge(np.zeros(0), inverse, target, theta, NONE, np.zeros(0, np.uint64), 0, 0, np.array([2.0]), 3.0)
    assert inverse[0, 0, 0, 0] == pytest.approx(1 / 6, rel=1e-15) and target[0, 0, 0] == 6.0
    assert theta[0, 0, 0] == pytest.approx(1.0, rel=1e-15)
    # d = 3: every step against the inverse of l2 I + sum x x^T, for one arm of one repetition
    l2, draws = 2.0, np.random.default_rng(4)
    inverse, target, theta = ridge(2, 3, 3, l2)
    gram, b = l2 * np.eye(3), np.zeros(3)
    for step in range(6):
        x, reward = draws.normal(size=3), float(draws.normal())
        linear.learn_ridge(np.zeros(0), inverse, target, theta, NONE, np.zeros(0, np.uint64), 1, 2, x, reward)
        gram += np.outer(x, x)
        b += reward * x
        np.testing.assert_allclose(inverse[1, 2], np.linalg.inv(gram), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(target[1, 2], b, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(theta[1, 2], np.linalg.solve(gram, b), rtol=1e-11, atol=1e-14)
    fresh = ridge(2, 3, 3, l2)
    for now, before in zip((inverse, target, theta), fresh):
        now[1, 2] = before[1, 2]
        assert now.tolist() == before.tolist()  # no other arm or repetition learnt


def test_the_step_kernels_choose_and_learn_for_every_repetition() -> None:
    step_choose, step_learn = linear.make_steps("choose_linucb", "learn_ridge")
    assert linear.make_steps("choose_linucb", "learn_ridge") == (step_choose, step_learn)
    ts_choose, ts_learn = linear.make_steps("choose_lin_ts", "learn_ridge")
    assert ts_choose.__name__ == "linear_step_choose_lin_ts" and step_choose.__name__ == "linear_step_choose_linucb"
    assert ts_learn.__name__ == step_learn.__name__ == "linear_step_learn_ridge"  # one kernel, cached once
    inverse, target, theta = ridge(3, 2, 2)
    theta[:, 1] = [[0.2, 0.0], [0.0, 0.3], [-0.1, 0.0]]
    contexts = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    actions = step_choose(np.array([1.0, 0.0]), inverse, target, theta, NONE, states(3), contexts)
    assert actions.dtype == np.int64 and actions.tolist() == [1, 1, 0]
    reps, chosen = np.array([2, 0, 2]), np.array([1, 0, 1])
    xs, rewards = np.array([[1.0, 2.0], [0.5, 0.5], [0.0, 1.0]]), np.array([1.0, 0.5, -2.0])
    step_learn(np.zeros(0), inverse, target, theta, NONE, np.zeros(0, np.uint64), reps, chosen, xs, rewards)
    want = ridge(3, 2, 2)
    want[2][:, 1] = [[0.2, 0.0], [0.0, 0.3], [-0.1, 0.0]]
    for i in range(3):  # in the batch's order, repetition 2 twice
        linear.learn_ridge(np.zeros(0), *want, NONE, np.zeros(0, np.uint64), int(reps[i]), int(chosen[i]), xs[i],
                           float(rewards[i]))
    for got, expected in zip((inverse, target, theta), want):
        assert got.tolist() == expected.tolist()
    assert target[2, 1].tolist() == [1.0, 0.0] and target[0, 0].tolist() == [0.25, 0.25]


# --- the linear contextual world --------------------------------------------------------------------------------

def test_worlds_are_drawn_from_the_environments_stream() -> None:
    env = states(3)
    refs = [Stream(e) for e in env]
    theta = np.zeros((3, 2, 4))
    linear.draw_world(theta, env, 1)
    close(theta[1], [[refs[1].normal() for _ in range(4)] for _ in range(2)])
    assert theta[0].tolist() == theta[2].tolist() == [[0.0] * 4] * 2 and int(env[1]) == refs[1].state
    linear.draw_worlds(theta, env)
    want = [[[ref.normal() for _ in range(4)] for _ in range(2)] for ref in refs]
    close(theta, want)
    assert env.tolist() == [ref.state for ref in refs]


def test_contexts_are_normal_with_variance_1_over_d_and_an_intercept() -> None:
    env = states(2)
    refs = [Stream(e) for e in env]
    x = np.zeros(4)
    linear.draw_context(x, env, 1)
    drawn = [refs[1].normal() / 2 for _ in range(4)]  # d = 4: scale 1/2; the first draw is made, then replaced
    assert x.tolist() == pytest.approx([0.5] + drawn[1:], rel=1e-13) and int(env[1]) == refs[1].state
    contexts = linear.draw_contexts(env, 9)
    assert contexts.shape == (2, 9)
    want = [[1 / 3] + [n / 3 for n in [ref.normal() for _ in range(9)][1:]] for ref in refs]
    close(contexts, want)
    assert env.tolist() == [ref.state for ref in refs]


def test_drifting_worlds_walk_every_10_rounds() -> None:
    env = states(2)
    ref = Stream(env[1])
    theta = filled(2, 3, 2)
    start = theta.copy()
    recent = np.zeros((2, 3))
    for t in (1, 5, 9, 11):
        linear.move_world(theta, recent, env, 1, t, 40, arms.DRIFTING)
    assert theta.tolist() == start.tolist() and int(env[1]) == ref.state
    linear.move_world(theta, recent, env, 1, 20, 40, arms.DRIFTING)  # steps of sqrt(10 / 40) = 0.5
    walked = [[v + 0.5 * ref.normal() for v in row] for row in start[1].tolist()]
    close(theta[1], walked)
    assert theta[0].tolist() == start[0].tolist()
    linear.move_world(theta, recent, env, 1, 0, 1000, arms.DRIFTING)  # steps of 0.1
    walked = [[v + 0.1 * ref.normal() for v in row] for row in walked]
    close(theta[1], walked)
    assert int(env[1]) == ref.state
    still = theta.copy()
    linear.move_world(theta, recent, env, 1, 20, 40, arms.STATIONARY)
    assert theta.tolist() == still.tolist() and int(env[1]) == ref.state and recent.tolist() == [[0.0] * 3] * 2


def test_abrupt_worlds_rotate_the_arms_at_a_quarter_half_and_three_quarters() -> None:
    env = states(1)
    ref = Stream(env[0])
    theta = np.array([[[0.1, 1.0], [0.2, 2.0], [0.3, 3.0], [0.4, 4.0]]])
    for t in range(10):  # T = 10: rounds int(2.5) = 2, 5 and int(7.5) = 7
        before = theta[0].tolist()
        linear.move_world(theta, np.zeros((1, 4)), env, 0, t, 10, arms.ABRUPT)
        if t in (2, 5, 7):
            shift = 1 + ref.below(3)
            assert theta[0].tolist() == [before[(k + shift) % 4] for k in range(4)]
        else:
            assert theta[0].tolist() == before
    assert int(env[0]) == ref.state


def test_an_adversary_trades_the_favourite_arms_parameters_with_another_arms() -> None:
    env = states(1)
    ref = Stream(env[0])
    theta = np.array([[[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]]])
    recent = np.array([[1.0, 4.0, 0.0, 2.0]])
    for t, T in ((0, 2000), (50, 2000), (99, 2000), (50, 2010), (30, 400)):  # every 100 or 50 rounds, never at 0
        linear.move_world(theta, recent, env, 0, t, T, arms.ADVERSARIAL)
    assert theta[0, :, 0].tolist() == [0, 1, 2, 3] and recent[0].tolist() == [1, 4, 0, 2] and env[0] == ref.state
    for t, T in ((200, 2000), (50, 400), (200, 2010)):
        favourite = int(np.argmax(recent[0]))
        other = (favourite + 1 + ref.below(3)) % 4
        order = theta[0, :, 0].tolist()
        order[favourite], order[other] = order[other], order[favourite]
        linear.move_world(theta, recent, env, 0, t, T, arms.ADVERSARIAL)
        assert theta[0, :, 0].tolist() == order and theta[0, :, 1].tolist() == [1.0] * 4
        assert recent[0].tolist() == [0.0] * 4 and int(env[0]) == ref.state
        recent[0] = [0.0, 0.0, 3.0, 1.0] if t == 200 else [2.0, 5.0, 5.0, 1.0]  # a tie: the first arm played most


def test_expected_rewards_are_a_logistic_or_linear_function_of_theta_x() -> None:
    theta = np.array([[[1.0, 0.0], [0.5, 2.0], [-1.0, 1.0]], [[9.0, 9.0]] * 3])
    x = np.array([0.5, 0.25])  # theta.x: 0.5, 0.75, -0.25
    mu = np.zeros((2, 3))
    top = linear.expected_rewards(theta, mu, 0, x, arms.BINARY)
    want = [arms.sigmoid(-1.5 + 1.5 * s) for s in (0.5, 0.75, -0.25)]
    assert mu[0].tolist() == pytest.approx(want, rel=1e-15) and top == max(mu[0]) and mu[1].tolist() == [0.0] * 3
    for kind in (arms.CONTINUOUS, arms.HEAVY):
        assert linear.expected_rewards(theta, mu, 0, x, kind) == pytest.approx(0.725, rel=1e-15)
        assert mu[0].tolist() == pytest.approx([0.65, 0.725, 0.425], rel=1e-15)
    theta[0] = -10.0  # every mean below 0: the best of them, not 0
    assert linear.expected_rewards(theta, mu, 0, x, arms.CONTINUOUS) == pytest.approx(0.5 - 0.3 * 7.5, rel=1e-15)


def test_a_world_step_moves_then_pays_the_chosen_arm() -> None:
    env = states(2)
    refs = [Stream(e) for e in env]
    theta = filled(2, 3, 2)
    start = theta.copy()
    mu, top, recent = np.zeros((2, 3)), np.zeros(2), np.zeros((2, 3))
    contexts = np.array([[0.7, 0.2], [0.7, -0.4]])
    value, observed = np.zeros(2), np.zeros(2)
    linear.world_step(theta, *LINEAR, mu, top, recent, env, 10, 40, arms.CONTINUOUS, arms.DRIFTING, contexts,
                      np.array([2, 0]), value, observed)
    for r, ref in enumerate(refs):
        walked = start[r] + 0.5 * np.array([[ref.normal() for _ in range(2)] for _ in range(3)])
        np.testing.assert_allclose(theta[r], walked, rtol=1e-13)
        means = 0.5 + 0.3 * walked @ contexts[r]
        np.testing.assert_allclose(mu[r], means, rtol=1e-13)
        assert top[r] == mu[r].max() and value[r] == mu[r, [2, 0][r]]
        assert observed[r] == pytest.approx(value[r] + 0.1 * ref.normal(), rel=1e-13)
        assert int(env[r]) == ref.state
    assert recent.tolist() == [[0.0] * 3] * 2
    moved = theta.copy()
    linear.world_step(theta, *LINEAR, mu, top, recent, env, 1, 40, arms.BINARY, arms.ADVERSARIAL, contexts,
                      np.array([1, 2]), value, observed)
    assert theta.tolist() == moved.tolist() and recent.tolist() == [[0, 1, 0], [0, 0, 1]]
    assert value.tolist() == [mu[0, 1], mu[1, 2]] and 0.0 < value.min() and value.max() < 1.0
    assert observed.tolist() == [1.0 if ref.uniform() < v else 0.0 for ref, v in zip(refs, value)]
    linear.world_step(theta, *LINEAR, mu, top, recent, env, 10, 40, arms.BINARY, arms.STATIONARY, contexts,
                      np.array([0, 0]), value, observed)
    assert theta.tolist() == moved.tolist() and recent.tolist() == [[0, 1, 0], [0, 0, 1]]
    assert value.tolist() == [mu[0, 0], mu[1, 0]]
    assert observed.tolist() == [1.0 if ref.uniform() < v else 0.0 for ref, v in zip(refs, value)]
    assert env.tolist() == [ref.state for ref in refs]


def test_nonlinear_worlds_are_a_hidden_layer_then_per_arm_weights_from_the_stream() -> None:
    """W (H, d) with N(0, 1.5^2) entries, then b (H,) with N(0, 0.5^2), then theta (K, H) with N(0, 4 / H), all
    from repetition r's stream; the arms weigh tanh(W x + b), and a world step moves theta and pays the chosen arm
    sigmoid(-1.5 + 1.5 theta.tanh(W x + b))."""
    env = states(2)
    refs = [Stream(e) for e in env]
    theta, layer, bias = np.zeros((2, 3, 4)), np.zeros((2, 4, 2)), np.zeros((2, 4))
    linear.draw_networks(theta, layer, bias, env)
    for r, ref in enumerate(refs):
        close(layer[r], [[1.5 * ref.normal() for _ in range(2)] for _ in range(4)])
        close(bias[r], [0.5 * ref.normal() for _ in range(4)])
        close(theta[r], [[ref.normal() for _ in range(4)] for _ in range(3)])  # 2 / sqrt(4) = 1
    assert env.tolist() == [ref.state for ref in refs]
    x = np.array([0.5, -0.25])
    hidden = np.zeros(4)
    got = linear.features(layer, bias, 1, x, hidden)
    close(got, np.tanh(layer[1] @ x + bias[1]))
    assert got is hidden and linear.features(*LINEAR, 1, x, hidden) is x  # no hidden layer: x itself
    start = theta.copy()
    mu, top, recent, value, observed = np.zeros((2, 3)), np.zeros(2), np.zeros((2, 3)), np.zeros(2), np.zeros(2)
    contexts = np.array([[0.5, -0.25], [0.1, 0.9]])
    linear.world_step(theta, layer, bias, mu, top, recent, env, 10, 40, arms.BINARY, arms.DRIFTING, contexts,
                      np.array([2, 1]), value, observed)
    for r, ref in enumerate(refs):
        walked = start[r] + 0.5 * np.array([[ref.normal() for _ in range(4)] for _ in range(3)])
        close(theta[r], walked)
        means = 1 / (1 + np.exp(1.5 - 1.5 * walked @ np.tanh(layer[r] @ contexts[r] + bias[r])))
        np.testing.assert_allclose(mu[r], means, rtol=1e-13)
        assert top[r] == mu[r].max() and value[r] == mu[r, [2, 1][r]]
        assert observed[r] == (1.0 if ref.uniform() < value[r] else 0.0) and int(env[r]) == ref.state


# --- the whole race ----------------------------------------------------------------------------------------------

def reference(choose: str, params: list[float], R: int, K: int, d: int, T: int, reward: int, feedback: int,
              safety: bool, mean_delay: float = 3.0, batch: int = 4, alpha: float = 0.1) -> list[list[Any]]:
    """Each repetition's curve, final regret, tail reward, share of best-arm rounds and share of rounds below the
    baseline, from the docstrings: the world (K x d normals), then per round a context, the decision (LinUCB or
    linear TS on the ridge estimate, ties by reservoir), the reward, and the learning (now, after a geometric
    delay, or at the end of the batch, delivered in the order queued)."""
    l2, out = params[0], []
    for r in range(R):
        env, delays, draws = (Stream(states(R, salt)[r]) for salt in (1, 2, 3))
        world = np.array([[env.normal() for _ in range(d)] for _ in range(K)])
        gram, b = [l2 * np.eye(d) for _ in range(K)], [np.zeros(d) for _ in range(K)]
        queue: list[tuple[int, int, float, np.ndarray]] = []
        regret = earned = baseline = tail = 0.0
        curve, best, under = [], 0, 0
        for t in range(T):
            x = np.array([env.normal() / math.sqrt(d) for _ in range(d)])
            x[0] = 1 / math.sqrt(d)
            pick, top_score, ties = -1, -math.inf, 0
            for k in range(K):
                inverse = np.linalg.inv(gram[k])
                mean, width = float(inverse @ b[k] @ x), math.sqrt(float(x @ inverse @ x))
                score = mean + params[1] * width * (draws.normal() if choose == "choose_lin_ts" else 1.0)
                if pick < 0 or score > top_score:
                    pick, top_score, ties = k, score, 1
                elif score == top_score:
                    ties += 1
                    if draws.uniform() * ties < 1:
                        pick = k
            scores = world @ x
            mu = 1 / (1 + np.exp(1.5 - 1.5 * scores)) if reward == arms.BINARY else 0.5 + 0.3 * scores
            regret += mu.max() - mu[pick]
            best += mu[pick] >= mu.max() - 1e-12
            if t >= T - max(1, T // 10):
                tail += mu[pick]
            earned, baseline = earned + mu[pick], baseline + mu[0]
            under += safety and earned < (1 - alpha) * baseline
            observed = (1.0 if env.uniform() < mu[pick] else 0.0) if reward == arms.BINARY else (
                mu[pick] + 0.1 * env.normal())
            curve.append(regret)
            if feedback == arms.DELAYED:
                u = 0.0 if mean_delay == 1 else delays.uniform()
                at = t + 1 + (0 if mean_delay == 1 else math.floor(math.log(1 - u) / math.log1p(-1 / mean_delay)))
            else:
                at = t if feedback == arms.IMMEDIATE else (t // batch + 1) * batch
            queue.append((at, pick, observed, x))
            for at, arm, value, seen in [entry for entry in queue if entry[0] <= t + 1]:
                gram[arm] += np.outer(seen, seen)
                b[arm] += value * seen
            queue = [entry for entry in queue if entry[0] > t + 1]
        out.append([curve, regret, tail / max(1, T // 10), best / T, under / T])
    return out


def linear_race(choose: str, params: list[float], R: int, K: int, d: int, T: int, reward: int, feedback: int,
                safety: bool, dynamics: int = arms.STATIONARY, mean_delay: float = 3.0,
                batch: int = 4) -> list[list[Any]]:
    """The compiled race's figures per repetition, in the reference's layout; the curve at every round. The race
    runs twice, drawing its world and reading it from a record (linear.record_world), with the same figures."""
    points = np.arange(1, T + 1)
    figures = []
    for recorded in (False, True):
        curve, final, tail, optimal, below = np.zeros((R, T)), np.zeros(R), np.zeros(R), np.zeros(R), np.zeros(R)
        world, saved = np.empty((R, T if recorded else 0, K + d + 1)), np.empty((R, T if recorded else 0), np.uint64)
        if recorded:
            linear.record_world(states(R, 1), K, d, 0, T, reward, dynamics, world, saved)
        linear.make_race(choose, "learn_ridge")(
            np.array(params), states(R, 1), states(R, 2), states(R, 3), world, saved, K, d, 0, params[0],
            np.zeros(0), T, reward, dynamics, feedback, mean_delay, batch, safety, 0.1, points, curve, final, tail,
            optimal, below)
        figures.append([[curve[r].tolist(), final[r], tail[r], optimal[r], below[r]] for r in range(R)])
    assert figures[0] == figures[1]
    return figures[1]


def same(got: list[list[Any]], want: list[list[Any]]) -> None:
    for g, w in zip(got, want, strict=True):
        assert g[0] == pytest.approx(w[0], rel=1e-9, abs=1e-12) and g[1] == pytest.approx(w[1], rel=1e-9, abs=1e-12)
        assert g[2] == pytest.approx(w[2], rel=1e-9) and g[3:] == w[3:]


def test_a_3_round_linear_race_by_hand() -> None:
    """LinUCB (l2 2, alpha 1) on 3 arms with 2 features and the safety constraint, 3 rounds: the world, each
    context, the choices (first a three-way tie broken at random), the rewards and the ridge's learning, and the
    accounting (regret, the last round's reward, rounds on a best arm, rounds under 0.9 of the default arm's)."""
    for reward in (arms.CONTINUOUS, arms.BINARY):
        got = linear_race("choose_linucb", [2.0, 1.0], 8, 3, 2, 3, reward, arms.IMMEDIATE, True)
        same(got, reference("choose_linucb", [2.0, 1.0], 8, 3, 2, 3, reward, arms.IMMEDIATE, True))
        # the run reaches both branches of each count
        assert any(0 < g[3] < 1 for g in got) and any(g[4] == 0 for g in got) and any(g[4] > 0 for g in got)
    got = linear_race("choose_lin_ts", [0.5, 2.0], 8, 3, 2, 3, arms.CONTINUOUS, arms.IMMEDIATE, False)
    same(got, reference("choose_lin_ts", [0.5, 2.0], 8, 3, 2, 3, arms.CONTINUOUS, arms.IMMEDIATE, False))
    assert {g[4] for g in got} == {0.0}


@pytest.mark.parametrize("feedback,mean_delay,batch", [(arms.DELAYED, 3.0, 4), (arms.DELAYED, 1.0, 4),
                                                       (arms.BATCHED, 3.0, 20), (arms.BATCHED, 3.0, 16)])
def test_a_linear_race_with_late_feedback_by_hand(feedback: int, mean_delay: float, batch: int) -> None:
    """Feedback after geometric delays (mean 3, or 1: the next round) or at the end of batches of 20 rounds (the
    queue, 16 long at first, grows) or of 16 (it is full when they arrive); each observation learnt with its own
    context, in the order queued."""
    for choose, params in (("choose_linucb", [1.0, 0.5]), ("choose_lin_ts", [1.0, 0.3])):
        got = linear_race(choose, params, 2, 3, 3, 25, arms.BINARY, feedback, True, mean_delay=mean_delay,
                          batch=batch)
        same(got, reference(choose, params, 2, 3, 3, 25, arms.BINARY, feedback, True, mean_delay, batch))


@pytest.mark.parametrize("dynamics", ["drifting", "abrupt", "adversarial"])
def test_a_moving_linear_race_gives_the_step_by_step_loops_numbers(dynamics: str) -> None:
    """The world moves after the decision and before the reward, in the compiled race as in the loop."""
    problem = problem_from_answers({"n_actions": 3, "context": "linear", "n_features": 2, "environment": dynamics,
                                    "feedback_delay": "delayed"}, rounds=110, reps=2)
    problem = dataclasses.replace(problem, mean_delay=2)
    spec = RunSpec("linucb", "linucb", build("linucb", {}, "linucb"))
    assert compiled.covers(spec.policy, problem) and (problem.dynamics, problem.delay) == (dynamics, "delayed")
    fast = run(spec, problem, 3)
    slow = run(spec, problem, 3, environment=lambda p, g: make_environment(p, g))
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


def test_the_inverse_through_the_cholesky_factor_is_each_columns_solve() -> None:
    """cholesky_inverse solves the d unit systems side by side: each column is exactly cholesky_solve's, and the
    product with the matrix is the identity."""
    for d in (1, 3, 7):
        xs = np.random.default_rng(d).normal(size=(2 * d, d))
        gram = xs.T @ xs + 0.5 * np.eye(d)
        factor = np.zeros((d, d))
        linear.factorise(gram, factor)
        got = np.full((d, d), 9.0)
        linear.cholesky_inverse(factor, got, np.empty((d, d)))
        for c in range(d):
            want = np.empty(d)
            linear.cholesky_solve(factor, np.eye(d)[c], want)
            assert got[c].tolist() == want.tolist()
        np.testing.assert_allclose(got @ gram, np.eye(d), atol=1e-12)
