"""The exponential-weights policies of banditmap.sim.policies.adversarial checked by hand: EXP3.P's tuning
gamma = min(3/5, 2 sqrt(3 K ln K / (5 T))) and alpha = 2 sqrt(ln(K T / delta)), its starting weights, its mixed
distribution (1 - gamma) w / sum w + gamma / K (every arm's probability the decision's note) and its weight steps
gamma / (3K) (x_hat + alpha / (p sqrt(K T))) (Auer et al. 2002), and EXP3-IX's scratch layout (Neu 2015).
Random draws are checked by replaying the kernels' streams (test_kernels_exact.Stream)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.kernels.arms import note_columns
from banditmap.sim.kernels.policies import BLOCK, choose_exp3_ix
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.adversarial import EXP3IX, EXP3P, TUNED, WEIGHT_BLOCK
from banditmap.sim.policies.mab import KernelStats
from banditmap.sim.policies.base import ADVERSARIAL, REGISTRY
from banditmap.sim.problem import Problem

from stubs import close, small_problem
from test_kernels_exact import Stream


def problem(arms: int = 3, reps: int = 1, rounds: int = 100) -> Problem:
    return small_problem("arms", n_arms=arms, rounds=rounds, reps=reps, dynamics="adversarial")


def log_weights(s: KernelStats) -> np.ndarray:
    """EXP3.P's K log weights (R, K), after its note and tuned constants in the scratch row."""
    view: np.ndarray = s.scratch[:, 2 * s.K + 4:]
    return view


def test_registry_offers_and_hyperparameters() -> None:
    assert REGISTRY["exp3-p"] is EXP3P and REGISTRY["exp3-ix"] is EXP3IX
    assert EXP3P.offers == frozenset({ADVERSARIAL}) and EXP3IX.offers == frozenset({ADVERSARIAL})
    assert EXP3P.kinds == frozenset({"arms"}) and EXP3IX.kinds == frozenset({"arms"})
    assert (EXP3P().gamma, EXP3P().alpha, EXP3P().delta) == (0.0, 0.0, 0.05)
    assert (EXP3IX().eta, EXP3IX().gamma) == (0.0, 0.0)
    assert (EXP3IX.choose, EXP3IX.learn) == ("choose_exp3_ix", "learn_exp3_ix")
    assert (EXP3P.choose, EXP3P.learn) == ("choose_exp3_p", "learn_exp3_p")
    assert TUNED == "0 sets it from K and the horizon as the analysis does"
    with pytest.raises(BanditmapError, match="EXP3P.delta"):
        EXP3P(delta=1.0)
    with pytest.raises(BanditmapError, match="EXP3P.gamma"):
        EXP3P(gamma=1.5)


# --- EXP3.P -------------------------------------------------------------------------------------------------------

def test_tuned_follows_the_theorem_unless_set() -> None:
    gamma, alpha = EXP3P().tuned(4, 100)
    assert gamma == pytest.approx(2 * math.sqrt(3 * 4 * math.log(4) / 500))
    assert alpha == pytest.approx(2 * math.sqrt(math.log(400 / 0.05)))
    assert EXP3P().tuned(4, 1)[0] == 0.6  # capped at 3/5
    assert EXP3P(delta=0.5).tuned(2, 10)[1] == pytest.approx(2 * math.sqrt(math.log(40)))
    assert EXP3P(gamma=0.3, alpha=1.5).tuned(4, 100) == (0.3, 1.5)


def test_start_holds_the_tuned_constants_the_first_weights_and_asks_for_a_note_of_k_columns() -> None:
    policy = EXP3P(gamma=0.3, alpha=1.5)
    assert policy.width(problem(arms=4)) == 16
    first = 1.5 * 0.3 / 3 * math.sqrt(100 / 4)
    row = policy.start(problem(arms=4, rounds=100))
    assert close(row, [0.0] * 5 + [-4.0, 0.0, 0.0, 0.0, 0.3, 0.3 / 12, 1.5 / math.sqrt(400)] + [first] * 4)
    assert note_columns(row, 4) == 4 and note_columns(np.zeros(5), 4) == 0 and note_columns(np.zeros(6), 4) == 1
    s = policy.init(problem(arms=4, reps=2, rounds=100), np.random.default_rng(0))
    assert s.notes == 4 and close(s.scratch, [row, row])
    assert (s.R, s.K, s.k, s.horizon, s.t) == (2, 4, 1, 100, 0)
    row = policy.start(problem(arms=4, rounds=0))  # T counts at least one round
    assert close(row[9:], [0.3, 0.3 / 12, 1.5 / 2] + [1.5 * 0.3 / 3 * math.sqrt(1 / 4)] * 4)


def test_select_mixes_normalised_weights_with_uniform_play_and_notes_every_probability() -> None:
    policy = EXP3P(gamma=0.2, alpha=1.0)
    s = policy.init(problem(arms=3, reps=2, rounds=10), np.random.default_rng(3))
    # row 1's log weights are large: only their differences matter, and each row is scaled by its own largest
    log_weights(s)[:] = [[0.0, math.log(2), math.log(5)], [1000.0, 1000.0, 1000.0 + math.log(3)]]
    streams = [Stream(state) for state in s.draws]
    chosen = policy.select(s, None)
    rows = [[0.8 * w / 8 + 0.2 / 3 for w in (1, 2, 5)], [0.8 * w / 5 + 0.2 / 3 for w in (1, 1, 3)]]
    assert s.aux is not None and s.aux.shape == (2, 3) and close(s.aux, rows)
    assert close(s.scratch[:, 4:7], rows)  # the note, in the row
    s.aux[0, 0] = 9.0
    assert s.scratch[0, 4] != 9.0  # a copy
    for r in range(2):  # the first arm whose running sum of probabilities exceeds a uniform draw
        u = streams[r].uniform()
        assert chosen[r] == [c > u for c in np.cumsum(rows[r])].index(True)


def test_select_draws_every_arm_by_its_probability() -> None:
    """20,000 seeded repetitions (seed 3), including the last arm and an arm of tiny weight."""
    policy = EXP3P(gamma=0.1)
    s = policy.init(problem(arms=3, reps=20_000, rounds=10), np.random.default_rng(3))
    log_weights(s)[:] = np.log([1e-9, 6.0, 3.0])
    chosen = policy.select(s, None)
    probs = 0.9 * np.array([1e-9, 6.0, 3.0]) / (9.0 + 1e-9) + 0.1 / 3
    assert np.bincount(chosen, minlength=3) / 20_000 == pytest.approx(probs, abs=0.01)


def test_select_uses_the_tuned_gamma() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=2, reps=1, rounds=3), np.random.default_rng(0))
    log_weights(s)[:] = [[0.0, -1000.0]]
    gamma = min(0.6, 2 * math.sqrt(3 * 2 * math.log(2) / 15))
    policy.select(s, None)
    assert close(s.aux, [[1 - gamma + gamma / 2, gamma / 2]])


def test_update_steps_every_arms_weight_by_its_bonus_and_the_played_arms_estimate() -> None:
    policy = EXP3P(gamma=0.3, alpha=0.5)
    s = policy.init(problem(arms=2, reps=2, rounds=8), np.random.default_rng(0))  # sqrt(K T) = 4
    log_weights(s)[:] = 0.0
    s.scratch[:, 3:5] = 0.9  # the last decision's note: the feedback's own is put back first
    aux = np.array([[0.25, 0.75], [0.5, 0.5], [0.5, 0.5]])
    # repetition 0 played arm 0 (reward 1, estimate 1 / 0.25 = 4); repetition 1 played arm 1 twice, rewards
    # 1.5 (clipped to 1: estimate 2) and -1 (clipped to 0)
    policy.update(s, Feedback(np.array([0, 1, 1]), np.array([0, 1, 1]), np.array([1.0, 1.5, -1.0]), None, aux=aux))
    step = 0.3 / 6
    row0 = [step * (4 + 0.5 / (0.25 * 4)), step * (0.5 / (0.75 * 4))]
    row1 = [2 * step * (0.5 / (0.5 * 4)), step * (2 + 0.5 / 2) + step * (0.5 / 2)]
    assert close(log_weights(s), [row0, row1])
    assert s.counts.tolist() == [[1.0, 0.0], [0.0, 2.0]]  # the counts are kept too


def test_update_with_a_horizon_of_zero_takes_one_round() -> None:
    policy = EXP3P(gamma=0.3, alpha=0.5)
    s = policy.init(problem(arms=4, reps=1, rounds=0), np.random.default_rng(0))  # sqrt(K T) = 2
    log_weights(s)[:] = 0.0
    policy.update(s, Feedback(np.array([0]), np.array([3]), np.array([0.5]), None, aux=np.array([[0.25] * 4])))
    step = 0.3 / 12
    assert close(log_weights(s), [[step * 0.5 / 0.5] * 3 + [step * (2 + 0.5 / 0.5)]])


def test_update_tunes_gamma_and_alpha_from_the_horizon() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=2, reps=1, rounds=50), np.random.default_rng(0))
    log_weights(s)[:] = 0.0
    gamma, alpha = policy.tuned(2, 50)
    policy.update(s, Feedback(np.array([0]), np.array([0]), np.array([1.0]), None, aux=np.array([[0.5, 0.5]])))
    bonus = alpha / (0.5 * math.sqrt(100))
    assert close(log_weights(s), [[gamma / 6 * (2 + bonus), gamma / 6 * bonus]])


def test_update_of_a_one_round_run_tunes_for_one_round() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=2, reps=1, rounds=1), np.random.default_rng(0))
    log_weights(s)[:] = 0.0
    gamma, alpha = 0.6, 2 * math.sqrt(math.log(2 / 0.05))  # K T = 2
    policy.update(s, Feedback(np.array([0]), np.array([1]), np.array([0.0]), None, aux=np.array([[0.5, 0.5]])))
    bonus = alpha / (0.5 * math.sqrt(2))
    assert close(log_weights(s), [[gamma / 6 * bonus, gamma / 6 * bonus]])


def test_a_late_observation_learns_with_its_own_decisions_probabilities() -> None:
    # two decisions, the weights moved between them: each observation steps every arm by the bonus of the
    # probabilities it was decided with, not those of the last decision
    policy = EXP3P(gamma=0.3, alpha=0.5)
    s = policy.init(problem(arms=2, reps=1, rounds=8), np.random.default_rng(0))
    log_weights(s)[:] = [[0.0, math.log(3)]]
    policy.select(s, None)
    early = s.aux
    log_weights(s)[:] = [[0.0, 0.0]]
    policy.select(s, None)
    policy.update(s, Feedback(np.array([0]), np.array([1]), np.array([0.0]), None, aux=early))
    p = [0.7 / 4 + 0.15, 0.7 * 3 / 4 + 0.15]
    assert close(log_weights(s), [[0.05 * 0.5 / (p[0] * 4), 0.05 * 0.5 / (p[1] * 4)]])


def test_recommend_is_the_heaviest_arm() -> None:
    policy = EXP3P()
    s = policy.init(problem(arms=3, reps=2), np.random.default_rng(0))
    log_weights(s)[:] = [[0.1, 0.5, 0.2], [3.0, 1.0, 2.0]]
    s.scratch[:, :10] = 5.0  # the cache, the note and the tuned constants: not weights
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
