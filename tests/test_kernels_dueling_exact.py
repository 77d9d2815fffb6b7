"""Exact checks of the dueling kernels (sim/kernels/dueling.py): the world's utilities and duels replayed from
their streams, the preference bounds W_ij / N_ij +- sqrt(alpha log t / N_ij) and Relative UCB's candidates,
champion and challenger computed by hand on a small win matrix, double Thompson sampling's candidate sets and
draws (only pairs above the diagonal, only pairs with a plausible option) replayed, the sparring template around
K-armed kernels, and the whole race: by hand for a few rounds, the same per repetition whatever the number of
repetitions, and the same as the step-by-step loop for the same seed. Small enough to run as plain Python
(NUMBA_DISABLE_JIT=1), as the mutation run does (tools/mutation.py)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from test_kernels_exact import Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim import compiled
from banditmap.sim.adapters import build_wrapper
from banditmap.sim.environments import Dueling, make_environment
from banditmap.sim.kernels import arms, dueling, rng
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

SPREAD = 0.51 * math.log(100)  # RUCB's default alpha after 100 decisions


def wins_of(table: dict[tuple[int, int], float], K: int, R: int = 2, r: int = 1) -> np.ndarray:
    """A win matrix (R, K, K) whose repetition r holds the table; the other repetitions hold noise a kernel must
    not read."""
    wins = np.random.default_rng(0).integers(0, 9, (R, K, K)).astype(float)
    wins[r] = 0.0
    for (i, j), count in table.items():
        wins[r, i, j] = count
    return wins


def reservoir(scores: list[float], ref: Stream) -> int:
    """A best entry, ties broken as arms.consider does (the k-th tied entry takes the pick when u * k < 1)."""
    best, pick, ties = -math.inf, -1, 0
    for k, score in enumerate(scores):
        if score > best or pick < 0:
            best, pick, ties = score, k, 1
        elif score == best:
            ties += 1
            if ref.uniform() * ties < 1:
                pick = k
    return pick


# --- the world ---------------------------------------------------------------------------------------------------

def test_utilities_duels_and_values_replayed() -> None:
    R, K = 3, 4
    env = states(R, 1)
    u = np.empty((R, K))
    top = dueling.draw_worlds(u, env)
    refs = [Stream(states(R, 1)[r]) for r in range(R)]
    for r in range(R):
        want = [refs[r].beta(2.0, 2.0) for _ in range(K)]
        assert u[r].tolist() == pytest.approx(want, rel=1e-12) and top[r] == u[r].max()
    actions = np.array([[0, 1], [2, 2], [3, 1]])
    values, observed = np.empty(R), np.empty(R)
    dueling.world_step(u, env, actions, values, observed)
    for r, (i, j) in enumerate(actions.tolist()):
        assert values[r] == (u[r, i] + u[r, j]) / 2
        assert observed[r] == (1.0 if refs[r].uniform() < (1 + u[r, i] - u[r, j]) / 2 else 0.0)
        assert int(env[r]) == refs[r].state
    # the first option wins with probability (1 + u_first - u_second) / 2: certain at a gap of 1, never at -1
    fixed = np.array([[1.0, 0.0]])
    assert dueling.duel(fixed, states(1), 0, 0, 1) == 1.0 and dueling.duel(fixed, states(1), 0, 1, 0) == 0.0


def test_the_environment_of_the_loop_steps_the_same_world() -> None:
    problem = problem_from_answers({"feedback": "pairwise", "n_actions": 3}, rounds=10, reps=2)
    env = Dueling(problem, np.random.default_rng(4))
    u = np.empty((2, 3))
    streams = rng.states_from(np.random.default_rng(4), 2)
    top = dueling.draw_worlds(u, streams)
    assert env.u.tolist() == u.tolist() and env.best.tolist() == top.tolist()
    outcome = env.step(0, np.array([[0, 1], [2, 2]]), None)
    values, observed = np.empty(2), np.empty(2)
    dueling.world_step(u, streams, np.array([[0, 1], [2, 2]]), values, observed)
    assert outcome.observation.tolist() == observed.tolist() and outcome.value.tolist() == values.tolist()
    assert outcome.optimal.tolist() == (values >= top - 1e-12).tolist()
    assert env.parameters() == {"utilities": np.round(u[0], 4).tolist()}


# --- preferences and learning ------------------------------------------------------------------------------------

def test_preferences_and_their_bounds_by_hand() -> None:
    wins = wins_of({(0, 1): 3, (1, 0): 1, (1, 2): 2}, 3)
    spread = math.log(4)  # alpha 1 after 4 decisions
    w4, w2 = math.sqrt(math.log(4) / 4), math.sqrt(math.log(4) / 2)
    assert dueling.preference(wins, 1, 0, 1, spread) == (0.75, 0.75 + w4, 0.75 - w4)
    assert dueling.preference(wins, 1, 1, 0, spread) == (0.25, 0.25 + w4, 0.25 - w4)
    assert dueling.preference(wins, 1, 1, 2, spread) == (1.0, 1.0 + w2, 1.0 - w2)
    assert dueling.preference(wins, 1, 2, 1, spread) == (0.0, w2, -w2)
    assert dueling.preference(wins, 1, 0, 2, spread) == (0.5, 1.0, 0.0)  # never met
    wins[1, 2, 2] = 7.0  # the diagonal is 1/2 whatever it holds
    assert dueling.preference(wins, 1, 2, 2, spread) == (0.5, 0.5, 0.5)


@pytest.mark.parametrize(("t", "log_t"), [(0, math.log(2)), (1, math.log(2)), (2, math.log(2)), (3, math.log(3))])
def test_the_width_takes_log_t_from_t_2_on(t: int, log_t: float) -> None:
    assert dueling.spread_at(0.7, t) == 0.7 * log_t


def test_a_duel_counts_for_its_winner_and_an_option_against_itself_teaches_nothing() -> None:
    wins, scratch = np.zeros((2, 3, 3)), np.zeros((2, 1 + 2 * 3 + 9))
    scratch[:, 7:] = 0.25  # kept Gamma constants
    for first, second, won in ((0, 1, 1.0), (0, 1, 0.0), (2, 0, 1.0), (1, 1, 1.0)):
        dueling.learn_wins(np.zeros(0), wins, scratch, states(2), 1, first, second, won)
    dueling.learn_double_ts(np.zeros(1), wins, scratch, states(2), 1, 2, 1, 0.25)  # a shared win
    want = np.zeros((3, 3))
    want[0, 1] = want[1, 0] = want[2, 0] = 1.0
    want[2, 1], want[1, 2] = 0.25, 0.75
    assert wins[1].tolist() == want.tolist() and not wins[0].any()
    stale = [7 + 2 * 3 + 1, 7 + 1 * 3 + 2]  # entries (2, 1) and (1, 2): learn_wins keeps the constants
    assert [i for i in range(7, 16) if scratch[1, i] != 0.25] == sorted(stale)
    assert scratch[1, stale].tolist() == [-1.0, -1.0] and (scratch[0] == np.r_[np.zeros(7), np.full(9, 0.25)]).all()


# --- the uniform pair --------------------------------------------------------------------------------------------

def test_the_uniform_pair_draws_two_distinct_options() -> None:
    s = states(50)
    seen = set()
    for r in range(50):
        ref = Stream(s[r])
        first = ref.below(4)
        pair = dueling.choose_uniform_pair(np.zeros(0), np.zeros((50, 4, 4)), np.zeros((50, 5)), s, r, 0, 9)
        assert pair == (first, (first + 1 + ref.below(3)) % 4) and int(s[r]) == ref.state
        seen.add(pair)
    assert all(i != j for i, j in seen) and len(seen) == 12  # every ordered pair of distinct options


# --- Relative UCB ------------------------------------------------------------------------------------------------

# t = 100, alpha 0.51: spread 2.3486. 0 beat 1 ten times in ten duels: u_10 = 0 + sqrt(2.3486 / 10) = 0.4846 < 1/2,
# so 1 is no candidate; 2 beat 0 three times in four: u_02 = 0.25 + sqrt(2.3486 / 4) = 1.0163, u_20 = 1.5163;
# 1 and 2 never met (bounds 1). Candidates: 0 and 2. Challenger of 0: 2 (1.5163 against 0.4846 and 1/2); of 2:
# 0 (1.0163 against 1 and 1/2).
RUCB_WINS = {(0, 1): 10, (2, 0): 3, (0, 2): 1}


def test_rucb_bounds_on_a_small_win_matrix_by_hand() -> None:
    wins = wins_of(RUCB_WINS, 3)
    assert SPREAD == pytest.approx(2.348637, abs=1e-6)
    assert dueling.preference(wins, 1, 1, 0, SPREAD)[1] == pytest.approx(0.484627, abs=1e-6)
    assert dueling.preference(wins, 1, 0, 2, SPREAD)[1] == pytest.approx(1.016263, abs=1e-6)
    assert dueling.preference(wins, 1, 2, 0, SPREAD)[1] == pytest.approx(1.516263, abs=1e-6)


def rucb(wins: np.ndarray, kept: float, s: np.ndarray, r: int = 1, t: int = 100) -> tuple[tuple[int, int], np.ndarray]:
    scratch = np.full((wins.shape[0], 1 + wins.shape[1]), 9.0)
    scratch[r, 0] = kept
    pair = dueling.choose_rucb(np.array([0.51]), wins, scratch, s, r, t, 1000)
    return pair, scratch[r]


def test_rucb_draws_its_champion_among_the_candidates_and_the_challenger_by_the_bounds() -> None:
    wins = wins_of(RUCB_WINS, 3)
    for seed in range(12):
        s = states(2, seed)
        ref = Stream(s[1])
        champion = [0, 2][ref.below(2)]  # no hypothesised best option: uniform among the candidates
        pair, row = rucb(wins, -1.0, s)
        assert pair == (champion, 2 if champion == 0 else 0) and int(s[1]) == ref.state
        assert row.tolist() == [-1.0, 1.0, 0.0, 1.0]  # B stays unset; the candidate flags
        s = states(2, seed)
        ref = Stream(s[1])
        stay = ref.uniform() < 0.5  # B = 2 is a candidate: kept with probability 1/2 ...
        champion = 2 if stay else [0][ref.below(1)]  # ... else one of the other candidates
        pair, row = rucb(wins, 2.0, s)
        assert pair == (champion, 2 if champion == 0 else 0) and int(s[1]) == ref.state and row[0] == 2.0
        s = states(2, seed)
        ref = Stream(s[1])
        champion = [0, 2][ref.below(2)]  # B = 1 is no candidate: forgotten, the champion among all candidates
        pair, row = rucb(wins, 1.0, s)
        assert pair[0] == champion and row[0] == -1.0 and int(s[1]) == ref.state


def test_rucb_with_one_candidate_or_none() -> None:
    lone = wins_of({(0, 1): 10, (0, 2): 10}, 3)  # u_10 = u_20 = 0.4846: 0 alone
    s = states(2)
    pair, row = rucb(lone, -1.0, s)
    # the lone candidate is champion and B, no draw; its challenger: 1 and 2 at 0.4846 tie with each other, under
    # 0's own 1/2
    assert pair == (0, 0) and row.tolist() == [0.0, 1.0, 0.0, 0.0] and s.tolist() == states(2).tolist()
    cycle = wins_of({(0, 1): 10, (1, 2): 10, (2, 0): 10}, 3)  # each option loses for sure to another: none
    for seed in range(6):
        s = states(2, seed)
        ref = Stream(s[1])
        champion = ref.below(3)  # any option
        pair, row = rucb(cycle, 1.0, s)
        assert pair == (champion, (champion + 2) % 3)  # the option that beats it in the cycle
        assert row.tolist() == [-1.0, 0.0, 0.0, 0.0] and int(s[1]) == ref.state


def test_rucb_breaks_challenger_ties_at_random() -> None:
    wins = wins_of({}, 3)  # nothing known: every bound 1 off the diagonal
    seen = set()
    for seed in range(20):
        s = states(2, seed)
        ref = Stream(s[1])
        stay = ref.uniform() < 0.5
        champion = 1 if stay else [0, 2][ref.below(2)]
        challenger = reservoir([0.5 if j == champion else 1.0 for j in range(3)], ref)
        assert rucb(wins, 1.0, s)[0] == (champion, challenger) and int(s[1]) == ref.state
        seen.add((champion, challenger))
    assert {c for c, _ in seen} == {0, 1, 2} and all(c != d for c, d in seen)


# --- double Thompson sampling ------------------------------------------------------------------------------------

def double_ts(wins: np.ndarray, s: np.ndarray, alpha: float = 0.51, r: int = 1,
              scratch: np.ndarray | None = None) -> tuple[tuple[int, int], np.ndarray]:
    K = wins.shape[1]
    scratch = np.zeros((wins.shape[0], 1 + 2 * K + K * K)) if scratch is None else scratch
    pair = dueling.choose_double_ts(np.array([alpha]), wins, scratch, s, r, 100, 1000)
    return pair, scratch


def reference_double_ts(W: np.ndarray, ref: Stream, spread: float, sample: list[int] | None = None) -> tuple[int, int]:
    """Double TS from its docstring, on one repetition's wins (K, K), replaying its draws; `sample` receives each
    option's Copeland score in the posterior sample."""
    K = W.shape[0]

    def bounds(i: int, j: int) -> tuple[float, float]:
        n = W[i, j] + W[j, i]
        if i == j:
            return 0.5, 0.5
        if n == 0:
            return 1.0, 0.0
        return W[i, j] / n + math.sqrt(spread / n), W[i, j] / n - math.sqrt(spread / n)

    optimistic = [sum(bounds(i, j)[0] > 0.5 for j in range(K)) for i in range(K)]
    plausible = [o == max(optimistic) for o in optimistic]
    sampled = [0] * K
    for i in range(K):
        for j in range(i + 1, K):
            if plausible[i] or plausible[j]:
                theta = ref.beta(W[i, j] + 1, W[j, i] + 1)
                sampled[i] += theta > 0.5
                sampled[j] += theta < 0.5
    if sample is not None:
        sample[:] = sampled
    first = reservoir([sampled[i] if plausible[i] else -math.inf for i in range(K)], ref)
    draws = []
    for j in range(K):
        if bounds(j, first)[1] <= 0.5:
            draws.append(0.5 if j == first else ref.beta(W[j, first] + 1, W[first, j] + 1))
        else:
            draws.append(-math.inf)
    return first, reservoir(draws, ref)


def test_double_ts_plausible_options_by_hand() -> None:
    """0 beat 1 and 3 ten times in ten duels: u_10 = u_30 = 0.4846, every other bound 1 (never met) or above 1/2.
    Optimistic Copeland scores 3, 2, 3, 2: the first option is 0 or 2, decided by the sample; the pair (1, 3),
    neither plausible, is not drawn."""
    wins = wins_of({(0, 1): 10, (0, 3): 10}, 4)
    firsts = set()
    for seed in range(30):
        s = states(2, seed)
        ref = Stream(s[1])
        pair, scratch = double_ts(wins, s)
        sample: list[int] = []
        assert pair == reference_double_ts(wins[1], ref, SPREAD, sample) and int(s[1]) == ref.state
        assert scratch[1, 1:5].tolist() == [3.0, 2.0, 3.0, 2.0]  # the optimistic Copeland scores
        assert scratch[1, 5:9].tolist() == sample  # and the sample's, after them
        assert pair[0] in (0, 2)
        firsts.add(pair[0])
        # c = 1 / sqrt(9 (W_ij + 2/3)) kept for every entry drawn: not (1, 3) nor (3, 1)
        c = scratch[1, 9:].reshape(4, 4)
        drawn = {(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)}
        for i in range(4):
            for j in range(4):
                if (i, j) in drawn or (j, i) in drawn:
                    assert c[i, j] == 1 / math.sqrt(9 * (wins[1, i, j] + 1 - 1 / 3))
                elif i != j and {i, j} == {1, 3}:
                    assert c[i, j] == 0.0
    assert firsts == {0, 2}


def test_double_ts_second_option_not_known_to_beat_the_first() -> None:
    """Sure wins (ten in ten: bounds 0.4846 and 0.5154) of 2 over 0, 1 over 2, 3 over 2, 0 over 1, 0 over 3 and 3
    over 1: optimistic Copeland scores 2, 1, 1, 2, so the first option is 0 or 3. Against 0, 2 is never the second
    option (l_20 > 1/2); against 3, 0 never is (l_03 > 1/2); the first itself may be, at 1/2."""
    wins = wins_of({(2, 0): 10, (1, 2): 10, (3, 2): 10, (0, 1): 10, (0, 3): 10, (3, 1): 10}, 4)
    seconds: dict[int, set[int]] = {0: set(), 3: set()}
    for seed in range(40):
        s = states(2, seed)
        ref = Stream(s[1])
        pair, scratch = double_ts(wins, s)
        assert pair == reference_double_ts(wins[1], ref, SPREAD) and int(s[1]) == ref.state
        assert scratch[1, 1:5].tolist() == [2.0, 1.0, 1.0, 2.0]
        seconds[pair[0]].add(pair[1])
    assert seconds[0] and seconds[3] and 2 not in seconds[0] and 0 not in seconds[3]


def test_double_ts_first_ties_and_exact_halves() -> None:
    """alpha 0: the bounds are the estimates. Every pair even (one win each way): no bound above 1/2, every option
    plausible with score 0; the sample's Copeland scores decide, ties at random, every option drawn."""
    wins = wins_of({(i, j): 1 for i in range(3) for j in range(3) if i != j}, 3)
    firsts = set()
    for seed in range(30):
        s = states(2, seed)
        ref = Stream(s[1])
        pair, scratch = double_ts(wins, s, alpha=0.0)
        assert pair == reference_double_ts(wins[1], ref, 0.0) and int(s[1]) == ref.state
        assert scratch[1, 1:4].tolist() == [0.0, 0.0, 0.0]
        firsts.add(pair[0])
    assert firsts == {0, 1, 2}


def test_double_ts_keeps_its_gamma_constants_until_the_wins_change() -> None:
    wins = wins_of({(0, 1): 4, (1, 0): 2}, 3)
    s = states(2)
    _, scratch = double_ts(wins, s)
    c = scratch[1, 7:].reshape(3, 3).copy()
    assert c[0, 1] == 1 / math.sqrt(9 * (5 - 1 / 3)) and c[1, 0] == 1 / math.sqrt(9 * (3 - 1 / 3))
    scratch[1, 7 + 1] = 0.25  # a kept constant is used as it is ...
    marked = scratch.copy()
    double_ts(wins, s, scratch=scratch)
    assert scratch[1, 7 + 1] == 0.25
    dueling.learn_double_ts(np.zeros(1), wins, scratch, s, 1, 1, 0, 1.0)  # ... until the duel of 1 and 0 is learnt
    assert scratch[1, 7 + 1] == -1.0 == scratch[1, 7 + 3] and scratch[1, 7 + 2] == marked[1, 7 + 2]
    double_ts(wins, s, scratch=scratch)
    assert scratch[1, 7 + 1] == 1 / math.sqrt(9 * (5 - 1 / 3)) and scratch[1, 7 + 3] == 1 / math.sqrt(9 * (4 - 1 / 3))


# --- sparring ----------------------------------------------------------------------------------------------------

def test_kernels_by_name() -> None:
    assert dueling.kernel("choose_rucb") is dueling.choose_rucb and dueling.kernel("learn_wins") is dueling.learn_wins
    name = "sparring_learn<choose_ucb1|learn_counts>"
    assert dueling.kernel(name) is dueling.composite(name)


def test_sparring_plays_two_instances_of_the_base_each_in_its_block_and_stream() -> None:
    K = 3
    row = dueling.sparring_row(np.array([0.5, 0.5, 0.5, 0.25]), K)
    assert row.tolist() == [0] * 9 + [0.5, 0.5, 0.5, 0.25] + [0] * 9 + [0.5, 0.5, 0.5, 0.25] + [13.0]
    streams = dueling.partner_streams(states(2))
    assert streams[:2].tolist() == states(2).tolist()
    assert [int(x) for x in streams[2:]] == [int(rng.split(x, np.zeros(1, np.int64))[0]) for x in states(2)]
    name = "sparring_choose<choose_ucb1|learn_counts>"
    choose, learn = dueling.kernel(name), dueling.kernel(name.replace("choose<", "learn<"))
    scratch = np.tile(dueling.sparring_row(np.zeros(K + 1), K), (2, 1))
    left, right = scratch[:, 0:13], scratch[:, 13:26]
    left[1, 0:9] = [2, 2, 2, 1, 0.5, 2, 0.5, 0.25, 1.0]  # counts, sums, means: arm 2 best
    right[1, 0:9] = [2, 2, 2, 2, 1, 0.5, 1.0, 0.5, 0.25]  # arm 0 best
    s = streams.copy()
    assert choose(np.array([0.0]), np.zeros((2, K, K)), scratch, s, 1, 6, 10) == (2, 0)
    assert s.tolist() == streams.tolist()  # no tie, no draw
    learn(np.array([0.0]), np.zeros((2, K, K)), scratch, s, 1, 2, 0, 1.0)  # left's option won
    assert left[1, 0:9].tolist() == [2, 2, 3, 1, 0.5, 3, 0.5, 0.25, 1.0]
    assert right[1, 0:9].tolist() == [3, 2, 2, 2, 1, 0.5, 2 / 3, 0.5, 0.25]
    assert not scratch[0, :-1].any()
    # ties: the left instance draws from stream r, the right one from stream R + r
    fresh = np.tile(dueling.sparring_row(np.zeros(K + 1), K), (2, 1))
    s = streams.copy()
    left_ref, right_ref = Stream(streams[1]), Stream(streams[3])
    want = (reservoir([math.inf] * 3, left_ref), reservoir([math.inf] * 3, right_ref))
    assert choose(np.array([2.0]), np.zeros((2, K, K)), fresh, s, 1, 0, 10) == want
    assert (int(s[1]), int(s[3])) == (left_ref.state, right_ref.state) and s[0] == streams[0]


@pytest.mark.parametrize(("adapter", "params"), [("sliding-window", {"window": 5}), ("delay-queue", {})])
def test_each_sparring_instance_is_its_base_on_a_block_of_the_row(adapter: str, params: dict[str, int]) -> None:
    """Sparring around a composition (KL-UCB in a sliding window of 5, or behind a delay queue: their own columns
    end the base's row) plays and learns as two copies of the composition's kernels would, each on its block of the
    row and its stream."""
    K = 3
    problem = problem_from_answers({"feedback": "pairwise", "n_actions": K}, rounds=50, reps=1)
    policy = build_wrapper("sparring", build_wrapper(adapter, build("kl-ucb", {}, "x"), params, "x"), {}, "x")
    form = compiled.dueling_form(policy, problem)
    inner = compiled.kernel_form(policy.base, problem)
    assert form is not None and inner is not None
    choose, learn = dueling.kernel(form.choose), dueling.kernel(form.learn)
    base_choose, base_learn = arms.kernel(inner.choose), arms.kernel(inner.learn)
    row = np.tile(form.start, (1, 1))
    B = int(row[0, -1])
    draws = dueling.partner_streams(states(1))
    blocks = [np.zeros((1, 3 * K)) for _ in range(2)]
    rows = [np.tile(inner.start, (1, 1)) for _ in range(2)]
    streams = [draws[:1].copy(), draws[1:].copy()]
    world = Stream(states(1, 8)[0])
    for t in range(30):
        pair = choose(form.params, np.zeros((1, K, K)), row, draws, 0, t, 50)
        want = tuple(base_choose(inner.params, b[:, :K], b[:, K:2 * K], b[:, 2 * K:], w, s, 0, t, 50)
                     for b, w, s in zip(blocks, rows, streams))
        assert pair == want
        won = 1.0 if world.uniform() < 0.6 else 0.0
        learn(form.params, np.zeros((1, K, K)), row, draws, 0, pair[0], pair[1], won)
        for b, w, s, arm, reward in zip(blocks, rows, streams, pair, (won, 1.0 - won)):
            base_learn(inner.params, b[:, :K], b[:, K:2 * K], b[:, 2 * K:], w, s, 0, arm, reward)
    for i in range(2):
        assert row[0, i * B:i * B + 3 * K].tolist() == blocks[i][0].tolist()
        assert row[0, i * B + 3 * K:(i + 1) * B].tolist() == rows[i][0].tolist()
    assert [int(x) for x in draws] == [int(streams[0][0]), int(streams[1][0])]


def test_sparring_hands_the_horizon_to_its_base() -> None:
    """MOSS around sparring: mean + sqrt(max(log(n / (K T_a)), 0) / T_a) with n the horizon. Left: arm 0 (mean 0.5,
    2 plays) against arm 1 (0.6, 8 plays); with n = 24 only arm 0 has a bonus (log 4 / 2: 0.5 + 0.83), with n = 6
    none has (0.5 against 0.6). Right: the same arms swapped."""
    K = 3
    choose = dueling.kernel("sparring_choose<choose_moss|learn_counts>")
    scratch = np.tile(dueling.sparring_row(np.zeros(K + 1), K), (1, 1))
    scratch[0, 0:9] = [2, 8, 30, 1.0, 4.8, 0.0, 0.5, 0.6, 0.0]
    scratch[0, 13:22] = [8, 2, 30, 4.8, 1.0, 0.0, 0.6, 0.5, 0.0]
    draws = dueling.partner_streams(states(1))
    assert choose(np.zeros(0), np.zeros((1, K, K)), scratch, draws, 0, 0, 24) == (0, 1)
    assert choose(np.zeros(0), np.zeros((1, K, K)), scratch, draws, 0, 0, 6) == (1, 0)


def test_sparring_hands_each_instance_its_own_means() -> None:
    """Greedy play (epsilon 0) around sparring reads each instance's K means (and K counts) only: left best 1,
    right best 0."""
    K = 3
    choose = dueling.kernel("sparring_choose<choose_epsilon_greedy|learn_counts>")
    scratch = np.tile(dueling.sparring_row(np.zeros(K + 1), K), (1, 1))
    scratch[0, 0:9] = [1, 1, 1, 0.2, 0.9, 0.1, 0.2, 0.9, 0.1]
    scratch[0, 13:22] = [1, 1, 1, 0.7, 0.1, 0.2, 0.7, 0.1, 0.2]
    scratch[0, 9:13] = scratch[0, 22:26] = 5.0  # the base's own row, after the means
    assert choose(np.array([0.0]), np.zeros((1, K, K)), scratch, dueling.partner_streams(states(1)), 0, 0, 9) == (
        1, 0)


# --- which races run compiled ------------------------------------------------------------------------------------

def test_which_dueling_races_run_compiled() -> None:
    duels = problem_from_answers({"feedback": "pairwise", "n_actions": 4}, rounds=50, reps=2)
    delayed = dataclasses.replace(duels, delay="delayed")
    for policy in ("rucb", "double-ts", "uniform-random-pair"):
        assert compiled.covers(build(policy, {}, "x"), duels) and compiled.covers(build(policy, {}, "x"), delayed)
    assert not compiled.covers(build("rucb", {}, "x"), problem_from_answers({"n_actions": 4}, rounds=50, reps=2))
    sparring = build_wrapper("sparring", build("kl-ucb", {}, "x"), {}, "x")
    form = compiled.dueling_form(sparring, duels)
    assert form is not None and form.choose == "sparring_choose<choose_kl_ucb|learn_kl_ucb>"
    assert form.learn == "sparring_learn<choose_kl_ucb|learn_kl_ucb>" and form.params.tolist() == [0.0]
    assert compiled.covers(sparring, delayed)
    window = build_wrapper("sparring", build_wrapper("sliding-window", build("ucb1", {}, "x"), {}, "x"), {}, "x")
    assert compiled.covers(window, duels)
    assert not compiled.covers(build_wrapper("sparring", build("conservative-ucb", {}, "x"), {}, "x"), duels)
    for base in ("exp3-ix", "exp3-p"):  # its decisions carry a note (exp3-p's of K columns)
        noted = build_wrapper("sparring", build(base, {}, "x"), {}, "x")
        assert compiled.covers(noted, duels) and not compiled.covers(noted, delayed)


# --- the race ----------------------------------------------------------------------------------------------------

def race(choose: str, learn: str, params: list[float], start: np.ndarray, R: int, K: int, T: int,
         feedback: int = arms.IMMEDIATE, draws: np.ndarray | None = None, batch: int = 2) -> tuple[np.ndarray, ...]:
    points = np.arange(1, T + 1)
    curve, final, tail, optimal = np.zeros((R, T)), np.zeros(R), np.zeros(R), np.zeros(R)
    wins, scratch, u = np.zeros((R, K, K)), np.zeros((R, start.shape[0])), np.zeros((R, K))
    dueling.make_race(choose, learn)(np.array(params), states(R, 1), states(R, 2),
                                     states(R, 3) if draws is None else draws, K, start, T, feedback, 3.0, batch,
                                     points, curve, final, tail, optimal, wins, scratch, u)
    return curve, final, tail, optimal, wins, scratch, u


@pytest.mark.parametrize("T", [4, 25])
def test_a_race_of_the_uniform_pair_by_hand(T: int) -> None:
    """The utilities, the pairs, the winners and the books (regret best - mean utility of the pair, the mean value
    of the last T // 10 rounds (at least one) as the tail, rounds on a best pair: none, the pair being distinct)
    replayed from the streams."""
    R, K = 3, 3
    curve, final, tail, optimal, wins, scratch, u = race("choose_uniform_pair", "learn_wins", [], np.full(4, -1.0),
                                                         R, K, T)
    for r in range(R):
        env, draws = Stream(states(R, 1)[r]), Stream(states(R, 3)[r])
        mu = [env.beta(2.0, 2.0) for _ in range(K)]
        W = np.zeros((K, K))
        regret, want, values = 0.0, [], []
        for _ in range(T):
            i = draws.below(K)
            j = (i + 1 + draws.below(K - 1)) % K
            regret += max(mu) - (mu[i] + mu[j]) / 2
            want.append(regret)
            values.append((mu[i] + mu[j]) / 2)
            won = 1.0 if env.uniform() < (1 + mu[i] - mu[j]) / 2 else 0.0
            W[i, j] += won
            W[j, i] += 1 - won
        assert u[r].tolist() == pytest.approx(mu, rel=1e-12) and wins[r].tolist() == W.tolist()
        assert scratch[r].tolist() == [-1.0] * 4
        assert curve[r].tolist() == pytest.approx(want, rel=1e-12) and final[r] == pytest.approx(regret, rel=1e-12)
        last = values[-max(1, T // 10):]
        assert tail[r] == pytest.approx(sum(last) / len(last), rel=1e-12) and optimal[r] == 0.0
    assert W.sum() == T


def test_a_late_duel_is_learnt_once_when_it_arrives() -> None:
    """The uniform pair shows two distinct options each round, so the wins learnt count the duels delivered: under
    geometric delays (mean 3) those of round t arrive at t + delay and are learnt if that is at most T; in batches
    of 2 rounds, all but the last round's when T is odd. The world is the same as with immediate feedback."""
    R, K, start = 2, 3, np.full(4, -1.0)
    immediate = race("choose_uniform_pair", "learn_wins", [], start, R, K, 30)
    late = race("choose_uniform_pair", "learn_wins", [], start, R, K, 30, arms.DELAYED)
    for r in range(R):
        delays = Stream(states(R, 2)[r])
        arrivals = [t + 1 + math.floor(math.log(1 - delays.uniform()) / math.log1p(-1 / 3)) for t in range(30)]
        assert late[4][r].sum() == sum(a <= 30 for a in arrivals) < 30
    assert late[6].tolist() == immediate[6].tolist() and late[1].tolist() == immediate[1].tolist()
    batched = race("choose_uniform_pair", "learn_wins", [], start, R, K, 29, arms.BATCHED)
    assert batched[4].sum(axis=(1, 2)).tolist() == [28.0] * R
    # batches of 20: up to 20 duels wait at once (the queue grows past its first 16 slots); those of rounds 40-44
    # would arrive at 60
    long = race("choose_uniform_pair", "learn_wins", [], start, R, K, 45, arms.BATCHED, batch=20)
    every = race("choose_uniform_pair", "learn_wins", [], start, R, K, 40, arms.IMMEDIATE)
    assert long[4].tolist() == every[4].tolist()


def test_a_repetition_races_the_same_whatever_the_number_of_repetitions() -> None:
    start = np.zeros(1 + 2 * 4 + 16)
    small = race("choose_double_ts", "learn_double_ts", [0.5], start, 2, 4, 60)
    large = race("choose_double_ts", "learn_double_ts", [0.5], start, 5, 4, 60)
    for a, b in zip(small, large):
        assert a.tolist() == b[:2].tolist()


@pytest.mark.parametrize("delay", ["immediate", "delayed", "batched"])
@pytest.mark.parametrize("subject", ["rucb", "double-ts", "uniform-random-pair", "thompson-beta+sparring",
                                     "kl-ucb+sparring", "moss+sparring", "thompson-beta+discounting+sparring",
                                     "exp3-p+sparring"])
def test_the_race_gives_the_step_by_step_loops_numbers(subject: str, delay: str) -> None:
    problem = problem_from_answers({"feedback": "pairwise", "n_actions": 4, "feedback_delay": delay}, rounds=150,
                                   reps=3)
    problem = dataclasses.replace(problem, mean_delay=5, batch_size=7)
    base, *adapters = subject.split("+")
    policy: Any = build(base, {}, "x")
    for adapter in adapters:
        policy = build_wrapper(adapter, policy, {"gamma": 0.95} if adapter == "discounting" else {}, "x")
    spec = RunSpec(subject, subject, policy)
    if compiled.covers(policy, problem):
        fast = run(spec, problem, 6)
    else:  # thompson-beta's and moss's rows are wider than K + 1 (so a composition's, as they keep values
        # between rounds): under delays they race in the loop
        assert subject.startswith(("thompson-beta", "moss", "exp3-p")) and delay != "immediate"
        return
    slow = run(spec, problem, 6, environment=lambda p, g: make_environment(p, g))
    assert fast.rounds == slow.rounds and fast.below_baseline is None is slow.below_baseline
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.identified is None and fast.final_regret.min() > 0
