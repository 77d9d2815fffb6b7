"""The exponential-weights policies of banditmap.sim.policies.adversarial checked by hand: drawing an arm from
unnormalised rows, EXP3.P's tuning gamma = min(3/5, 2 sqrt(3 K ln K / (5 T))) and alpha = 2 sqrt(ln(K T / delta)),
its starting weights, its mixed distribution (1 - gamma) w / sum w + gamma / K and its weight steps
gamma / (3K) (x_hat + alpha / (p sqrt(K T))) (Auer et al. 2002), and EXP3-IX's scratch layout (Neu 2015).
Random draws are checked by replaying a copy of the state's generator."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.kernels.policies import BLOCK, choose_exp3_ix
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.adversarial import EXP3IX, EXP3P, TUNED, WEIGHT_BLOCK, Weights, draw
from banditmap.sim.policies.base import ADVERSARIAL, REGISTRY
from banditmap.sim.problem import Problem

from stubs import close, small_problem
from test_kernels_exact import Stream


def problem(arms: int = 3, reps: int = 1, rounds: int = 100) -> Problem:
    return small_problem("arms", n_arms=arms, rounds=rounds, reps=reps, dynamics="adversarial")


def weights(R: int, K: int, seed: int = 0) -> Weights:
    return Weights(np.random.default_rng(seed), R, K, log_w=np.zeros((R, K)), probs=np.full((R, K), 1.0 / K))


def test_registry_offers_and_hyperparameters() -> None:
    assert REGISTRY["exp3-p"] is EXP3P and REGISTRY["exp3-ix"] is EXP3IX
    assert EXP3P.offers == frozenset({ADVERSARIAL}) and EXP3IX.offers == frozenset({ADVERSARIAL})
    assert EXP3P.kinds == frozenset({"arms"}) and EXP3IX.kinds == frozenset({"arms"})
    assert (EXP3P().gamma, EXP3P().alpha, EXP3P().delta) == (0.0, 0.0, 0.05)
    assert (EXP3IX().eta, EXP3IX().gamma) == (0.0, 0.0)
    assert (EXP3IX.choose, EXP3IX.learn) == ("choose_exp3_ix", "learn_exp3_ix")
    assert TUNED == "0 sets it from K and the horizon as the analysis does"
    with pytest.raises(BanditmapError, match="EXP3P.delta"):
        EXP3P(delta=1.0)
    with pytest.raises(BanditmapError, match="EXP3P.gamma"):
        EXP3P(gamma=1.5)


# --- drawing ------------------------------------------------------------------------------------------------------

def test_draw_picks_by_the_cumulative_weights_of_each_row() -> None:
    s = weights(200, 3, seed=1)
    probs = np.array([[1.0, 1.0, 2.0]] * 100 + [[0.0, 3.0, 1.0]] * 100)
    replay = copy.deepcopy(s.rng)
    chosen = draw(s, probs)
    u = replay.random((200, 1))[:, 0]
    expected = [(0 if x < 0.25 else 1 if x < 0.5 else 2) for x in u[:100]]
    expected += [(1 if x < 0.75 else 2) for x in u[100:]]
    assert chosen.tolist() == expected


def test_draw_never_picks_a_weightless_arm() -> None:
    s = weights(50, 3, seed=2)
    assert draw(s, np.array([[0.0, 0.0, 5.0]] * 50)).tolist() == [2] * 50
    assert draw(s, np.array([[0.0, 0.2, 0.0]] * 50)).tolist() == [1] * 50
    assert draw(s, np.array([[0.7, 0.0, 0.0]] * 50)).tolist() == [0] * 50


# --- EXP3.P -------------------------------------------------------------------------------------------------------

def test_tuned_follows_the_theorem_unless_set() -> None:
    gamma, alpha = EXP3P().tuned(4, 100)
    assert gamma == pytest.approx(2 * math.sqrt(3 * 4 * math.log(4) / 500))
    assert alpha == pytest.approx(2 * math.sqrt(math.log(400 / 0.05)))
    assert EXP3P().tuned(4, 1)[0] == 0.6  # capped at 3/5
    assert EXP3P(delta=0.5).tuned(2, 10)[1] == pytest.approx(2 * math.sqrt(math.log(40)))
    assert EXP3P(gamma=0.3, alpha=1.5).tuned(4, 100) == (0.3, 1.5)


def test_init_starts_every_arm_at_the_same_weight() -> None:
    policy = EXP3P(gamma=0.3, alpha=1.5)
    s = policy.init(problem(arms=4, reps=2, rounds=100), np.random.default_rng(0))
    start = 1.5 * 0.3 / 3 * math.sqrt(100 / 4)
    assert close(s.log_w, [[start] * 4] * 2)
    assert close(s.probs, [[0.25] * 4] * 2)
    assert (s.R, s.K, s.k, s.horizon, s.t) == (2, 4, 1, 100, 0)
    s = policy.init(problem(arms=4, reps=1, rounds=0), np.random.default_rng(0))
    assert close(s.log_w, [[1.5 * 0.3 / 3 * math.sqrt(1 / 4)] * 4])  # T counts at least one round


def test_select_mixes_normalised_weights_with_uniform_play() -> None:
    policy = EXP3P(gamma=0.2, alpha=1.0)
    s = policy.init(problem(arms=3, reps=2, rounds=10), np.random.default_rng(3))
    # row 1's log weights are large: only their differences matter, and each row is scaled by its own largest
    s.log_w[:] = [[0.0, math.log(2), math.log(5)], [1000.0, 1000.0, 1000.0 + math.log(3)]]
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    row0 = [0.8 * w / 8 + 0.2 / 3 for w in (1, 2, 5)]
    row1 = [0.8 * w / 5 + 0.2 / 3 for w in (1, 1, 3)]
    assert close(s.probs, [row0, row1])
    assert s.aux is not None and close(s.aux, [row0, row1])
    s.aux[0, 0] = 9.0
    assert s.probs[0, 0] != 9.0  # a copy
    u = replay.random((2, 1))[:, 0]
    cumulative = [np.cumsum(row0), np.cumsum(row1)]
    assert chosen.tolist() == [int((cumulative[r] < u[r] * cumulative[r][-1]).sum()) for r in range(2)]


def test_select_uses_the_tuned_gamma() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=2, reps=1, rounds=3), np.random.default_rng(0))
    s.log_w[:] = [[0.0, -1000.0]]
    gamma = min(0.6, 2 * math.sqrt(3 * 2 * math.log(2) / 15))
    policy.select(s, None)
    assert close(s.probs, [[1 - gamma + gamma / 2, gamma / 2]])


def test_update_steps_every_arms_weight_by_its_bonus_and_the_played_arms_estimate() -> None:
    policy = EXP3P(gamma=0.3, alpha=0.5)
    s = policy.init(problem(arms=2, reps=2, rounds=8), np.random.default_rng(0))  # sqrt(K T) = 4
    s.log_w[:] = 0.0
    aux = np.array([[0.25, 0.75], [0.5, 0.5], [0.5, 0.5]])
    # repetition 0 played arm 0 (reward 1, estimate 1 / 0.25 = 4); repetition 1 played arm 1 twice, rewards
    # 1.5 (clipped to 1: estimate 2) and -1 (clipped to 0)
    policy.update(s, Feedback(np.array([0, 1, 1]), np.array([0, 1, 1]), np.array([1.0, 1.5, -1.0]), None, aux=aux))
    step = 0.3 / 6
    row0 = [step * (4 + 0.5 / (0.25 * 4)), step * (0.5 / (0.75 * 4))]
    row1 = [2 * step * (0.5 / (0.5 * 4)), step * (2 + 0.5 / 2) + step * (0.5 / 2)]
    assert close(s.log_w, [row0, row1])


def test_update_with_a_horizon_of_zero_takes_one_round() -> None:
    policy = EXP3P(gamma=0.3, alpha=0.5)
    s = policy.init(problem(arms=4, reps=1, rounds=0), np.random.default_rng(0))  # sqrt(K T) = 2
    s.log_w[:] = 0.0
    policy.update(s, Feedback(np.array([0]), np.array([3]), np.array([0.5]), None, aux=np.array([[0.25] * 4])))
    step = 0.3 / 12
    assert close(s.log_w, [[step * 0.5 / 0.5] * 3 + [step * (2 + 0.5 / 0.5)]])


def test_update_tunes_gamma_and_alpha_from_the_horizon() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=2, reps=1, rounds=50), np.random.default_rng(0))
    s.log_w[:] = 0.0
    gamma, alpha = policy.tuned(2, 50)
    policy.update(s, Feedback(np.array([0]), np.array([0]), np.array([1.0]), None, aux=np.array([[0.5, 0.5]])))
    bonus = alpha / (0.5 * math.sqrt(100))
    assert close(s.log_w, [[gamma / 6 * (2 + bonus), gamma / 6 * bonus]])


def test_update_of_a_one_round_run_tunes_for_one_round() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=2, reps=1, rounds=1), np.random.default_rng(0))
    s.log_w[:] = 0.0
    gamma, alpha = 0.6, 2 * math.sqrt(math.log(2 / 0.05))  # K T = 2
    policy.update(s, Feedback(np.array([0]), np.array([1]), np.array([0.0]), None, aux=np.array([[0.5, 0.5]])))
    bonus = alpha / (0.5 * math.sqrt(2))
    assert close(s.log_w, [[gamma / 6 * bonus, gamma / 6 * bonus]])


def test_recommend_is_the_heaviest_arm() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=3, reps=2), np.random.default_rng(0))
    s.log_w[:] = [[0.1, 0.5, 0.2], [3.0, 1.0, 2.0]]
    assert policy.recommend(s).tolist() == [1, 0]
    assert policy.exploit(s, None).tolist() == [1, 0]


# --- EXP3-IX ------------------------------------------------------------------------------------------------------

def test_exp3_ix_scratch_and_recommendation() -> None:
    policy = EXP3IX()
    assert policy.width(problem(arms=3)) == 11 and policy.width(problem(arms=16)) == 38
    assert policy.width(problem(arms=17)) == 41 and WEIGHT_BLOCK == BLOCK == 8
    s = policy.init(problem(arms=3, reps=2), np.random.default_rng(0))
    assert s.scratch.shape == (2, 11)
    s.scratch[:, 7:10] = [[0.1, 0.9, 0.3], [2.0, -1.0, 0.0]]
    s.scratch[:, :7] = 5.0  # the cache, the note, eta and gamma: not weights
    s.scratch[:, 10:] = 9.0  # the running sums of the weights: not log weights
    assert policy.recommend(s).tolist() == [1, 0]


@pytest.mark.parametrize("state", [1, 7, 12345, 2 ** 40, 99, 13, 23])
@pytest.mark.parametrize("weights", [[0.5, 0.25, 1.0, 0.25], [0.25, 0.5, 0.125, 0.125, 1.0, 0.5, 0.25, 0.25, 0.5, 0.5]])
def test_exp3_ix_draws_the_first_arm_whose_running_sum_exceeds_a_uniform_share(state: int,
                                                                              weights: list[float]) -> None:
    K = len(weights)  # 4: one short block; 10: a full block of 8, then one of 2 (sums exact in binary; states 13
    # and 23 draw arms 8 and 9, in the second block)
    scratch = np.zeros((1, 2 * K + 4 + -(-K // 8)))
    scratch[0, :K] = weights  # kept weights, all positive: used as they are
    draws = np.array([state], np.uint64)
    arm = choose_exp3_ix(np.array([0.1, 0.05]), np.zeros((1, K)), np.zeros((1, K)), np.zeros((1, K)), scratch,
                         draws, 0, 0, 100)
    running = np.cumsum(weights).tolist()
    target = Stream(state).uniform() * running[-1]
    assert scratch[0, 2 * K + 4:].tolist() == ([running[-1]] if K == 4 else [running[7], running[9]])
    assert arm == [c > target for c in running].index(True)
    assert scratch[0, K + 1:K + 4].tolist() == [weights[arm] / running[-1], 0.1, 0.05]
