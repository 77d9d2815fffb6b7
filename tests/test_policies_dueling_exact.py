"""The dueling policies of banditmap.sim.policies.dueling checked by hand: the win matrix's bookkeeping, the
preference estimates and their bounds W_ij / N_ij +- sqrt(alpha log t / N_ij), the empirical Copeland winner,
Relative UCB's candidates, champion and challenger (Zoghi et al. 2014), double Thompson sampling's two draws
(Wu and Liu 2016) and the uniform pair, on three or four options with given wins. Random draws are checked by
replaying a copy of the state's generator; Beta draws are replaced by given ones."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.dueling import (
    DUELING,
    RUCB,
    DoubleThompson,
    DuelingPolicy,
    Duels,
    UniformPair,
)
from banditmap.sim.problem import Problem

from stubs import close, small_problem


def problem(arms: int = 3, reps: int = 1, rounds: int = 100) -> Problem:
    return small_problem("dueling", n_arms=arms, slate_size=2, rounds=rounds, reps=reps)


def duels(policy: DuelingPolicy, wins: Sequence[Mapping[tuple[int, int], float]], arms: int = 3, t: int = 100,
          seed: int = 0) -> Duels:
    """A state whose repetition r has wins[r][(i, j)] duels of i won against j, after t decisions."""
    s = policy.init(problem(arms, len(wins)), np.random.default_rng(seed))
    for r, table in enumerate(wins):
        for (i, j), count in table.items():
            s.wins[r, i, j] = count
    s.t = t
    return s


# --- declarations, state and learning -----------------------------------------------------------------------------

def test_registry_kinds_and_hyperparameters() -> None:
    assert (REGISTRY["rucb"], REGISTRY["double-ts"], REGISTRY["uniform-random-pair"]) == (
        RUCB, DoubleThompson, UniformPair)
    assert DUELING == frozenset({"dueling"})
    for cls in (RUCB, DoubleThompson, UniformPair):
        assert cls.kinds == frozenset({"dueling"})
    assert RUCB().alpha == 0.51 and DoubleThompson().alpha == 0.5
    with pytest.raises(BanditmapError, match=r"RUCB.alpha"):
        RUCB(alpha=0.5)
    with pytest.raises(BanditmapError, match=r"> 0.5 and <= 1e\+06 \(the analysis needs more than 1/2\)"):
        RUCB(alpha=0.5)
    assert RUCB(alpha=0.5000001).alpha == 0.5000001
    assert DoubleThompson(alpha=0.0).alpha == 0.0


def test_init_makes_an_empty_win_matrix_and_no_champion() -> None:
    s = RUCB().init(problem(arms=3, reps=2, rounds=50), np.random.default_rng(0))
    assert s.wins.shape == (2, 3, 3) and not s.wins.any()
    assert s.champion.tolist() == [-1, -1]
    assert (s.R, s.K, s.k, s.horizon, s.t) == (2, 3, 2, 50, 0)


def test_update_counts_each_duel_for_its_winner_and_skips_self_duels() -> None:
    policy = RUCB()
    s = policy.init(problem(arms=3, reps=2), np.random.default_rng(0))
    feedback = Feedback(np.array([0, 0, 0, 1, 1]), np.array([[0, 1], [0, 1], [2, 0], [1, 1], [2, 1]]),
                        np.array([1.0, 0.0, 1.0, 1.0, 0.25]), None)
    policy.update(s, feedback)
    expected = np.zeros((2, 3, 3))
    expected[0, 0, 1], expected[0, 1, 0] = 1.0, 1.0  # one duel each way
    expected[0, 2, 0] = 1.0  # 2 beat 0
    expected[1, 2, 1], expected[1, 1, 2] = 0.25, 0.75  # a shared win
    assert s.wins.tolist() == expected.tolist()


# --- preferences --------------------------------------------------------------------------------------------------

def test_preferences_and_their_bounds() -> None:
    policy = RUCB()
    s = duels(policy, [{(0, 1): 3, (1, 0): 1, (1, 2): 2, (2, 2): 7}], t=4)
    p, upper, lower = policy.preferences(s, 1.0)
    w4, w2 = math.sqrt(math.log(4) / 4), math.sqrt(math.log(4) / 2)
    assert close(p, [[[0.5, 0.75, 0.5], [0.25, 0.5, 1.0], [0.5, 0.0, 0.5]]])
    assert close(upper, [[[0.5, 0.75 + w4, 1.0], [0.25 + w4, 0.5, 1.0 + w2], [1.0, w2, 0.5]]])
    assert close(lower, [[[0.5, 0.75 - w4, 0.0], [0.25 - w4, 0.5, 1.0 - w2], [0.0, -w2, 0.5]]])


@pytest.mark.parametrize(("t", "log_t"), [(0, math.log(2)), (1, math.log(2)), (2, math.log(2)), (3, math.log(3))])
def test_preferences_take_log_t_from_t_2_on(t: int, log_t: float) -> None:
    policy = RUCB()
    s = duels(policy, [{(0, 1): 1}], arms=2, t=t)
    _, upper, lower = policy.preferences(s, 2.0)
    width = math.sqrt(2.0 * log_t)
    assert close(upper, [[[0.5, 1 + width], [width, 0.5]]])
    assert close(lower, [[[0.5, 1 - width], [-width, 0.5]]])


def test_recommend_is_the_empirical_copeland_winner() -> None:
    policy = RUCB()
    # 1 beats 2, ties with 0 (one win each); 0 and 2 never met: only 1 beats another option
    s = duels(policy, [{(1, 2): 4, (1, 0): 1, (0, 1): 1}] * 20)
    assert policy.recommend(s).tolist() == [1] * 20
    assert policy.exploit(s, None).tolist() == [[1, 1]] * 20


def test_recommend_breaks_copeland_ties_at_random() -> None:
    policy = RUCB()
    s = duels(policy, [{(0, 2): 1, (1, 2): 1}] * 4)  # 0 and 1 each beat 2 only
    replay = copy.deepcopy(s.rng)
    noise = replay.random((4, 3))
    assert policy.recommend(s).tolist() == [0 if row[0] > row[1] else 1 for row in noise]


# --- RUCB ---------------------------------------------------------------------------------------------------------

DECISIVE = 100  # duels won to no loss: with alpha 0.51 and t = 100 the loser's upper bound is 0.15 < 1/2


def test_rucb_champions_and_challengers() -> None:
    policy = RUCB()
    rows = [
        {},  # 0: nothing known, no champion: every option a candidate
        {(0, 1): DECISIVE, (0, 2): DECISIVE},  # 1: 0 the lone candidate
        {},  # 2: champion 1 kept, others remain
        {(0, 1): DECISIVE, (1, 2): DECISIVE, (2, 0): DECISIVE},  # 3: a cycle: no candidate
        {(0, 2): DECISIVE},  # 4: champion 2 is no candidate any more
        {(0, 1): DECISIVE, (0, 2): DECISIVE},  # 5: 0 the lone candidate and champion already
        {(0, 1): DECISIVE},  # 6: champion 0 kept, 2 is the other candidate
        *[{(2, 0): DECISIVE, (2, 1): DECISIVE}] * 3,  # 7-9: 2 the lone candidate and champion already
    ]
    s = duels(policy, rows, seed=4)
    s.champion[:] = [-1, -1, 1, 2, 2, 0, 0, 2, 2, 2]
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    n_other, n_any, u, arm, n_challenge = (replay.random((10, 3)), replay.random((10, 3)), replay.random(10),
                                           replay.random(10), replay.random((10, 3)))

    def best(row: np.ndarray, among: list[int]) -> int:
        return max(among, key=lambda i: row[i])

    champion = [
        best(n_any[0], [0, 1, 2]),
        0,
        1 if u[2] < 0.5 else best(n_other[2], [0, 2]),
        min(int(arm[3] * 3), 2),
        best(n_any[4], [0, 1]),
        0,
        0 if u[6] < 0.5 else 2,
        2, 2, 2,  # kept whatever the coin says: there is no other candidate
    ]
    # the challenger has the highest upper bound on beating the champion (its own is 1/2)
    challenger = [
        best(n_challenge[0], [i for i in range(3) if i != champion[0]]),
        0,  # the others' bounds on beating 0 are 0.15
        best(n_challenge[2], [i for i in range(3) if i != champion[2]]),
        (champion[3] + 2) % 3,  # the one that beats the champion in the cycle
        1 if champion[4] == 0 else best(n_challenge[4], [0, 2]),  # 2's bound on beating 0 is 0.15
        0,
        2 if champion[6] == 0 else best(n_challenge[6], [0, 1]),  # beating 0: 1 at 0.15, 2 at 1; beating 2: all
        2, 2, 2,  # the others' bounds on beating 2 are 0.15
    ]
    assert chosen[:, 0].tolist() == champion
    assert chosen[:, 1].tolist() == challenger
    # the hypothesised best is kept while a candidate, set when a lone candidate, forgotten otherwise
    assert s.champion.tolist() == [-1, 0, 1, -1, -1, 0, 0, 2, 2, 2]
    assert not (u[7:] < 0.5).all()  # the seed flips the coin against staying in one of them at least


def test_rucb_keeps_its_champion_half_the_time() -> None:
    policy = RUCB()
    s = duels(policy, [{}] * 60, seed=1)
    s.champion[:] = 1
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    n_other, _, u = replay.random((60, 3)), replay.random((60, 3)), replay.random(60)
    expected = [1 if u[r] < 0.5 else (0 if n_other[r, 0] > n_other[r, 2] else 2) for r in range(60)]
    assert chosen[:, 0].tolist() == expected
    assert 15 < sum(c == 1 for c in expected) < 45
    assert s.champion.tolist() == [1] * 60
    # a champion 0 is kept too, and the other candidates are 1 and 2
    s = duels(policy, [{}] * 60, seed=1)
    s.champion[:] = 0
    chosen = policy.select(s, None)
    expected = [0 if u[r] < 0.5 else (1 if n_other[r, 1] > n_other[r, 2] else 2) for r in range(60)]
    assert chosen[:, 0].tolist() == expected
    assert s.champion.tolist() == [0] * 60


def test_rucb_challenger_uses_the_column_of_the_champion() -> None:
    policy = RUCB()
    # 0 the lone candidate (beats 1 and 2 for sure); 2 beat 1 twice in two duels: upper[2, 1] > upper[1, 2]
    s = duels(policy, [{(0, 1): DECISIVE, (0, 2): DECISIVE, (1, 2): 0.0, (2, 1): 2.0}], seed=2)
    s.champion[:] = 0
    # the column of 0: P[j beats 0] bounded by 0.15 for j = 1, 2 and 1/2 for 0 itself (its row holds 1.15)
    assert policy.select(s, None).tolist() == [[0, 0]]


# --- double Thompson sampling -------------------------------------------------------------------------------------

def test_double_thompson_sample_mirrors_the_upper_triangle() -> None:
    policy = DoubleThompson()
    s = duels(policy, [{(0, 1): 2, (2, 0): 1}], arms=3)
    asked: list[tuple[Any, Any]] = []

    def beta(a: np.ndarray, b: np.ndarray, reps: Any = None) -> np.ndarray:
        asked.append((np.asarray(a).tolist(), np.asarray(b).tolist()))
        return np.array([[[0.9, 0.1, 0.2], [0.3, 0.8, 0.4], [0.7, 0.6, 0.05]]])

    s.beta = beta  # type: ignore[method-assign]
    theta = policy._sample(s)
    assert asked == [([[[1, 3, 1], [1, 1, 1], [2, 1, 1]]], [[[1, 1, 2], [3, 1, 1], [1, 1, 1]]])]
    assert close(theta, [[[0.5, 0.1, 0.2], [0.9, 0.5, 0.4], [0.8, 0.6, 0.5]]])


def test_double_thompson_first_among_plausible_second_among_not_beaten() -> None:
    policy = DoubleThompson()
    rows = [
        {(0, 1): 2, (1, 0): 3, (0, 2): DECISIVE},  # A: 2 loses to 0 for sure: Copeland upper 1, not plausible
        {(0, 1): DECISIVE, (1, 2): DECISIVE, (2, 0): DECISIVE},  # B: a cycle: every option plausible
        {(0, 1): DECISIVE, (1, 2): DECISIVE, (2, 0): DECISIVE},  # C: the same cycle
    ]
    s = duels(policy, rows)
    draws = iter([
        # theta above the diagonal: A: 1 beats 0 (0.3), 2 beats 0 (0.2) and 1 (0.4): Copeland 0, 1, 2 -> first 1
        # B: 0 beats 1 (0.9) and 2 (0.8), 1 and 2 even (0.5): Copeland 2, 0, 0 -> first 0
        # C: 1 beats 0 (0.1) and 2 (0.8): first 1
        np.array([[[0.0, 0.3, 0.2], [0.0, 0.0, 0.4], [0.0, 0.0, 0.0]],
                  [[0.0, 0.9, 0.8], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]],
                  [[0.0, 0.1, 0.5], [0.0, 0.0, 0.8], [0.0, 0.0, 0.0]]]),
        # P[j beats first]: A: [0.7, -, 0.6] -> 0; B: [-, 0.3, 0.9], but 2 beats 0 for sure: 0 against itself (1/2)
        # C: [0.95, -, 0.2], but 0 beats 1 for sure: 1 against itself
        np.array([[0.7, 0.9, 0.6], [0.1, 0.3, 0.9], [0.95, 0.3, 0.2]]),
    ])
    asked: list[tuple[Any, Any]] = []

    def beta(a: np.ndarray, b: np.ndarray, reps: Any = None) -> np.ndarray:
        asked.append((np.asarray(a).tolist(), np.asarray(b).tolist()))
        return next(draws).copy()

    s.beta = beta  # type: ignore[method-assign]
    assert policy.select(s, None).tolist() == [[1, 0], [0, 0], [1, 1]]
    # the second draw: Beta(W[j, first] + 1, W[first, j] + 1)
    assert asked[1] == ([[3, 1, 1], [1, 1, 101], [101, 1, 1]], [[4, 1, 1], [1, 101, 1], [1, 1, 101]])


def test_double_thompson_plausible_options_have_the_most_upper_bounds_above_half() -> None:
    policy = DoubleThompson(alpha=0.0)  # the bounds are the estimates
    # 0 and 1 even (1/2, not above), 0 beat 2; 1 and 2 never met: every option has one upper bound above 1/2
    s = duels(policy, [{(0, 1): 1, (1, 0): 1, (0, 2): 1}])
    draws = iter([np.array([[[0.0, 0.6, 0.1], [0.0, 0.0, 0.1], [0.0, 0.0, 0.0]]]),  # 2 beats 0 and 1: first 2
                  np.array([[0.2, 0.3, 0.4]])])
    s.beta = lambda a, b, reps=None: next(draws).copy()  # type: ignore[method-assign]
    # second: 0 is known to beat 2 (lower bound 1), 1 draws 0.3, 2 against itself 1/2
    assert policy.select(s, None).tolist() == [[2, 2]]


def test_double_thompson_first_by_the_sample_copeland_score_above_half() -> None:
    policy = DoubleThompson()
    s = duels(policy, [{}] * 20, arms=4)
    # 0 even with everyone (1/2 is not a win); 1 beats 2, 2 beats 3, 3 beats 1: 1, 2 and 3 score one each
    draw = np.array([[0.0, 0.5, 0.5, 0.5], [0.0, 0.0, 0.8, 0.2], [0.0, 0.0, 0.0, 0.8], [0.0] * 4])
    draws = iter([np.broadcast_to(draw, (20, 4, 4)).copy(), np.full((20, 4), 0.5)])
    s.beta = lambda a, b, reps=None: next(draws).copy()  # type: ignore[method-assign]
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    noise = replay.random((20, 4))
    assert chosen[:, 0].tolist() == (1 + np.argmax(noise[:, 1:], axis=1)).tolist()


def test_double_thompson_first_ties_broken_by_noise() -> None:
    policy = DoubleThompson()
    s = duels(policy, [{}] * 30)
    ones = iter([np.full((30, 3, 3), 0.5), np.full((30, 3), 0.5)])
    s.beta = lambda a, b, reps=None: next(ones).copy()  # type: ignore[method-assign]
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    first_noise, second_noise = replay.random((30, 3)), replay.random((30, 3))
    first = np.argmax(first_noise, axis=1)
    assert chosen[:, 0].tolist() == first.tolist()
    assert chosen[:, 1].tolist() == np.argmax(second_noise, axis=1).tolist()
    assert set(first.tolist()) == {0, 1, 2}


# --- the uniform pair ---------------------------------------------------------------------------------------------

def test_uniform_pair_draws_two_distinct_options() -> None:
    policy = UniformPair()
    s = policy.init(problem(arms=4, reps=200), np.random.default_rng(5))
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    first = np.minimum((replay.random(200) * 4).astype(int), 3)
    shift = np.minimum((replay.random(200) * 3).astype(int), 2)
    assert chosen[:, 0].tolist() == first.tolist()
    assert chosen[:, 1].tolist() == ((first + 1 + shift) % 4).tolist()
    assert (chosen[:, 0] != chosen[:, 1]).all()
    assert set(chosen[:, 1].tolist()) == {0, 1, 2, 3}
