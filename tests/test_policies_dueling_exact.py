"""The dueling policies of banditmap.sim.policies.dueling checked by hand through their Python classes: the win
matrix's bookkeeping, the empirical Copeland winner, Relative UCB's candidates, champion and challenger (Zoghi et
al. 2014), double Thompson sampling's two draws (Wu and Liu 2016) and the uniform pair, on three or four options
with given wins. Their decisions are compiled kernels (tests/test_kernels_dueling_exact.py checks those one by
one): random draws are checked by replaying a copy of each repetition's stream, ties in the Copeland winner by
replaying the state's generator."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from test_kernels_dueling_exact import reference_double_ts, reservoir
from test_kernels_exact import Stream, divide_by_zero_raises  # noqa: F401 (an autouse fixture)

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

from stubs import small_problem


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


def streams(s: Duels) -> list[Stream]:
    """Each repetition's stream, replayed from a copy of its state."""
    return [Stream(x) for x in s.draws]


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


def test_init_makes_an_empty_win_matrix_no_champion_and_a_stream_per_repetition() -> None:
    s = RUCB().init(problem(arms=3, reps=2, rounds=50), np.random.default_rng(0))
    assert s.wins.shape == (2, 3, 3) and not s.wins.any()
    assert s.scratch.tolist() == [[-1, 0, 0, 0]] * 2  # no hypothesised best option, no candidate flags yet
    assert (s.R, s.K, s.k, s.horizon, s.t) == (2, 3, 2, 50, 0)
    assert s.draws.dtype == np.uint64 and s.draws.tolist() == np.random.default_rng(0).integers(
        0, 2**64 - 1, 2, dtype=np.uint64, endpoint=True).tolist()
    # double TS keeps two Copeland scores per option and a Gamma constant per entry of the win matrix
    assert DoubleThompson().init(problem(arms=3), np.random.default_rng(0)).scratch.shape == (1, 1 + 2 * 3 + 9)


def test_double_thompson_update_marks_the_duels_gamma_constants_stale() -> None:
    policy = DoubleThompson()
    s = policy.init(problem(arms=3, reps=2), np.random.default_rng(0))
    s.scratch[:, 7:] = 0.25  # the kept constants of the 3 x 3 win counts
    policy.update(s, Feedback(np.array([1]), np.array([[2, 0]]), np.array([1.0]), None))
    assert s.wins[1, 2, 0] == 1.0 and s.wins.sum() == 1.0
    stale = s.scratch[:, 7:].reshape(2, 3, 3)
    assert stale[1, 2, 0] == stale[1, 0, 2] == -1.0 and (stale == -1.0).sum() == 2


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


# --- the empirical Copeland winner -------------------------------------------------------------------------------

def test_recommend_is_the_empirical_copeland_winner() -> None:
    policy = RUCB()
    # 1 beats 2, ties with 0 (one win each); 0 and 2 never met: only 1 beats another option
    s = duels(policy, [{(1, 2): 4, (1, 0): 1, (0, 1): 1}] * 20)
    assert policy.recommend(s).tolist() == [1] * 20
    assert policy.exploit(s, None).tolist() == [[1, 1]] * 20


def test_recommend_counts_a_win_where_the_estimate_is_above_half() -> None:
    policy = RUCB()
    # 1 beat 0 three times in four (0's estimate 1/4, 1's 3/4); 2 met neither: 1 alone beats another option
    s = duels(policy, [{(0, 1): 1, (1, 0): 3}] * 20)
    assert policy.recommend(s).tolist() == [1] * 20


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
    s.scratch[:, 0] = [-1, -1, 1, 2, 2, 0, 0, 2, 2, 2]
    ref = streams(s)
    chosen = policy.select(s, None)

    def among(r: int, options: list[int]) -> int:
        return options[ref[r].below(len(options))]

    def kept(r: int, champion: int, others: list[int]) -> int:
        return champion if ref[r].uniform() < 0.5 else among(r, others)

    champion = [
        among(0, [0, 1, 2]),
        0,
        kept(2, 1, [0, 2]),
        ref[3].below(3),
        among(4, [0, 1]),
        0,
        kept(6, 0, [2]),
        2, 2, 2,  # kept without a coin: there is no other candidate
    ]
    # the challenger has the highest upper bound on beating the champion (its own is 1/2), ties at random
    challenger = [
        reservoir([0.5 if j == champion[0] else 1.0 for j in range(3)], ref[0]),
        0,  # the others' bounds on beating 0 are 0.15
        reservoir([0.5 if j == champion[2] else 1.0 for j in range(3)], ref[2]),
        (champion[3] + 2) % 3,  # the one that beats the champion in the cycle
        1 if champion[4] == 0 else reservoir([1.0, 1.0, 0.5], ref[4]),  # 2's bound on beating 0 is 0.15
        0,
        2 if champion[6] == 0 else reservoir([1.0, 1.0, 0.5], ref[6]),  # beating 0: 1 at 0.15, 2 at 1
        # the others' bounds on beating 2 are 0.15, a tie between them (a draw) below 2's own 1/2
        *[reservoir([0.15, 0.15, 0.5], ref[r]) for r in (7, 8, 9)],
    ]
    assert chosen[:, 0].tolist() == champion
    assert chosen[:, 1].tolist() == challenger
    assert [int(x) for x in s.draws] == [x.state for x in ref]
    # the hypothesised best is kept while a candidate, set when a lone candidate, forgotten otherwise
    assert s.scratch[:, 0].tolist() == [-1, 0, 1, -1, -1, 0, 0, 2, 2, 2]


def test_rucb_keeps_its_champion_half_the_time() -> None:
    policy = RUCB()
    for champion, others in ((1, [0, 2]), (0, [1, 2])):
        s = duels(policy, [{}] * 60, seed=1)
        s.scratch[:, 0] = champion
        ref = streams(s)
        chosen = policy.select(s, None)
        expected = [champion if ref[r].uniform() < 0.5 else others[ref[r].below(2)] for r in range(60)]
        assert chosen[:, 0].tolist() == expected
        assert 15 < sum(c == champion for c in expected) < 45
        assert s.scratch[:, 0].tolist() == [champion] * 60


def test_rucb_challenger_uses_the_column_of_the_champion() -> None:
    policy = RUCB()
    # 0 the lone candidate (beats 1 and 2 for sure); 2 beat 1 twice in two duels: upper[2, 1] > upper[1, 2]
    s = duels(policy, [{(0, 1): DECISIVE, (0, 2): DECISIVE, (1, 2): 0.0, (2, 1): 2.0}], seed=2)
    s.scratch[:, 0] = 0
    # the column of 0: P[j beats 0] bounded by 0.15 for j = 1, 2 and 1/2 for 0 itself (its row holds 1.15)
    assert policy.select(s, None).tolist() == [[0, 0]]


def test_rucb_width_takes_log_t_from_t_2_on() -> None:
    """1 beat 0 once in one duel: u_01 = sqrt(alpha log t) with t held at 2 below 2, so 0 is a candidate (u_01 >=
    1/2) from alpha log t >= 1/4 on: alpha 0.51 is enough at t = 2 (0.35), and 0 is then drawn as often as 1."""
    policy = RUCB(alpha=0.51)
    for t in (0, 1, 2):
        s = duels(policy, [{(1, 0): 1}] * 40, arms=2, t=t)
        ref = streams(s)
        chosen = policy.select(s, None)
        assert chosen[:, 0].tolist() == [[0, 1][ref[r].below(2)] for r in range(40)]
    assert math.sqrt(0.51 * math.log(2)) > 0.5 > math.sqrt(0.36 * math.log(2))


# --- double Thompson sampling -------------------------------------------------------------------------------------

def check_double_ts(policy: DoubleThompson, s: Duels) -> np.ndarray:
    """The policy's pairs (R, 2), each checked against the reference written from the kernel's docstring."""
    ref = streams(s)
    spread = policy.alpha * math.log(max(s.t, 2))
    chosen = policy.select(s, None)
    for r in range(s.R):
        assert tuple(chosen[r]) == reference_double_ts(s.wins[r], ref[r], spread), r
        assert int(s.draws[r]) == ref[r].state
    return chosen


def test_double_thompson_first_among_plausible_second_among_not_beaten() -> None:
    policy = DoubleThompson()
    rows = [
        {(0, 1): 2, (1, 0): 3, (0, 2): DECISIVE},  # A: 2 loses to 0 for sure: Copeland upper 1, not plausible
        {(0, 1): DECISIVE, (1, 2): DECISIVE, (2, 0): DECISIVE},  # B: a cycle: every option plausible
    ] * 15
    s = duels(policy, rows)
    chosen = check_double_ts(policy, s)
    assert set(chosen[0::2, 0].tolist()) == {0, 1}  # A: 2 is never first
    # B: the second is never known to beat the first: against 0 it is not 2, against 1 not 0, against 2 not 1
    assert all(second != (first + 2) % 3 for first, second in chosen[1::2].tolist())
    assert set(chosen[1::2, 0].tolist()) == {0, 1, 2}


def test_double_thompson_plausible_options_have_the_most_upper_bounds_above_half() -> None:
    policy = DoubleThompson(alpha=0.0)  # the bounds are the estimates
    # 0 and 1 even (1/2, not above), 0 beat 2; 1 and 2 never met: every option has one upper bound above 1/2
    s = duels(policy, [{(0, 1): 1, (1, 0): 1, (0, 2): 1}] * 30)
    chosen = check_double_ts(policy, s)
    assert set(chosen[:, 0].tolist()) == {0, 1, 2}
    assert s.scratch[0, 1:4].tolist() == [1.0, 1.0, 1.0]


def test_double_thompson_first_ties_broken_at_random() -> None:
    policy = DoubleThompson()
    s = duels(policy, [{}] * 30)  # nothing known: every option plausible, every sample Beta(1, 1)
    chosen = check_double_ts(policy, s)
    assert set(chosen[:, 0].tolist()) == {0, 1, 2}


# --- the uniform pair ---------------------------------------------------------------------------------------------

def test_uniform_pair_draws_two_distinct_options() -> None:
    policy = UniformPair()
    s = policy.init(problem(arms=4, reps=200), np.random.default_rng(5))
    ref = streams(s)
    chosen = policy.select(s, None)
    first = [ref[r].below(4) for r in range(200)]
    assert chosen[:, 0].tolist() == first
    assert chosen[:, 1].tolist() == [(f + 1 + ref[r].below(3)) % 4 for r, f in enumerate(first)]
    assert (chosen[:, 0] != chosen[:, 1]).all() and chosen.dtype == np.int64
    assert set(chosen[:, 1].tolist()) == {0, 1, 2, 3}
