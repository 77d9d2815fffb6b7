"""The K-armed policies of banditmap.sim.policies.mab checked against their papers: each index or posterior is
written out by hand here from the paper's formula, on tiny states (a few arms with given counts and sums), and the
policy must choose, bound or update exactly as the formula says. Random draws are checked by replaying a copy of
the state's generator; exploration shares by their frequency over many seeded repetitions (counts stated)."""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.typing import ArrayLike

from banditmap.sim.kernels import rng as streams
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.mab import (
    EXP3,
    EXP3S,
    KLUCB,
    MOSS,
    REFRESH,
    UCB1,
    ArmStats,
    CountingPolicy,
    EpsilonGreedy,
    KernelStats,
    RobustUCB,
    Softmax,
    ThompsonBeta,
    ThompsonGaussian,
    TopTwoThompson,
    UniformRandom,
    add_observations,
    arm_stats,
    around,
    kl_index,
    ucb_index,
    ucb_width,
    untried_first,
)
from banditmap.sim.policies.bestarm import SuccessiveElimination
from banditmap.sim.problem import problem_from_answers

Policyish = Any


def state(policy: Policyish, counts: ArrayLike, sums: ArrayLike, horizon: int = 100, seed: int = 0) -> Any:
    """The policy's fresh state for len(counts) repetitions, its statistics set to the given counts and sums."""
    c, s = np.atleast_2d(np.asarray(counts, float)), np.atleast_2d(np.asarray(sums, float))
    problem = problem_from_answers({"n_actions": c.shape[1]}, rounds=horizon, reps=c.shape[0])
    st_ = policy.init(problem, np.random.default_rng(seed))
    st_.counts[:], st_.sums[:] = c, s
    st_.means[:] = np.where(c > 0, s / np.maximum(c, 1), 0.0)
    return st_


def feedback(reps: list[int], actions: list[int], observed: list[float], unique: bool = False, aux: Any = None
             ) -> Feedback:
    return Feedback(np.array(reps), np.array(actions), np.array(observed, float), None, aux=aux, unique=unique)


def plays_a_best(chosen: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> bool:
    """Every repetition's choice is one of its best scores, unplayed arms first (a policy breaking ties at random
    may take any of them)."""
    top = np.where(counts == 0, np.inf, scores)
    return bool(np.all(top[np.arange(len(chosen)), chosen] == top.max(axis=1)))


def kl(p: float, q: float) -> float:
    """Bernoulli KL divergence kl(p, q), 0 log 0 = 0."""
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out


def kl_bound(p: float, budget: float, tolerance: float = 1e-12) -> float:
    """max{q >= p : kl(p, q) <= budget}, by bisection to `tolerance`."""
    low, high = p, 1.0
    while high - low > tolerance:
        mid = (low + high) / 2
        low, high = (mid, high) if kl(p, mid) <= budget else (low, mid)
    return low


# random tiny states: 1-3 repetitions of 2-4 arms, counts 0-40, means in [0, 1]
@st.composite
def tiny_states(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    reps, arms = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    counts = np.array(draw(st.lists(st.integers(0, 40), min_size=reps * arms, max_size=reps * arms)), float)
    means = np.array(draw(st.lists(st.floats(0, 1), min_size=reps * arms, max_size=reps * arms)))
    horizon = draw(st.integers(1, 400))
    return counts.reshape(reps, arms), (counts * means).reshape(reps, arms), horizon


def separated(scores: np.ndarray, counts: np.ndarray) -> bool:
    """The best tried arm beats the next by more than rounding (and the jitter), or an arm is untried."""
    top = np.sort(np.where(counts == 0, np.inf, scores), axis=1)
    with np.errstate(invalid="ignore"):  # inf - inf when two arms are untried
        return bool(np.all((top[:, -1] == np.inf) | (top[:, -1] - top[:, -2] > 1e-6)))


# --- shared plumbing -------------------------------------------------------------------------------------------

def test_arm_stats_start_empty_with_a_tiny_fixed_jitter() -> None:
    problem = problem_from_answers({"n_actions": 3}, rounds=50, reps=2)
    s: ArmStats = arm_stats(problem, np.random.default_rng(4))
    assert type(s) is ArmStats and (s.R, s.K, s.k, s.horizon) == (2, 3, 3, 50)
    assert s.counts.tolist() == s.sums.tolist() == s.means.tolist() == [[0.0] * 3] * 2
    assert np.all((0 <= s.jitter) & (s.jitter < 1e-9)) and len(set(s.jitter.ravel())) == 6
    wide = arm_stats(problem, np.random.default_rng(4), KernelStats, n_arms=5, draws=np.ones(2, np.uint64),
                     scratch=np.full((2, 7), 3.0))
    assert type(wide) is KernelStats and wide.K == 5 and wide.counts.shape == wide.jitter.shape == (2, 5)
    assert (wide.scratch == 3.0).all() and s.index is s.index_t is s.dirty is None
    s.touch((np.array([0]), np.array([1])))  # no cached index yet: nothing to mark
    assert s.dirty is None


def test_add_observations_counts_sums_means_and_marks_entries() -> None:
    s = state(CountingPolicy(), [[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]])  # per-arm NumPy statistics
    s.dirty = np.zeros((2, 3), bool)
    add_observations(s, feedback([0, 1, 0, 0], [2, 0, 2, 1], [1.0, 0.25, 0.5, 0.0]))  # repetition 0 plays arm 2 twice
    assert s.counts.tolist() == [[0, 1, 2], [1, 0, 0]]
    assert s.sums.tolist() == [[0, 0, 1.5], [0.25, 0, 0]] and s.means.tolist() == [[0, 0, 0.75], [0.25, 0, 0]]
    assert s.dirty.tolist() == [[False, True, True], [True, False, False]]
    add_observations(s, feedback([1], [0], [9.0], unique=True), rewards=np.array([0.75]))  # rewards replace observed
    assert s.counts[1, 0] == 2 and s.sums[1, 0] == 1.0 and s.means[1, 0] == 0.5


def test_ucb_width_and_index_by_hand() -> None:
    # Auer, Cesa-Bianchi and Fischer (2002), UCB1: mean + sqrt(2 ln t / n_j), t the plays so far
    s = state(UCB1(), [[1, 3, 0]], [[1.0, 1.5, 0.0]])
    t = 4
    assert ucb_width(s, 2.0)[0].tolist() == pytest.approx([math.sqrt(2 * math.log(t) / n) for n in (1, 3, 1)])
    assert ucb_index(s, 0.5)[0].tolist() == pytest.approx([1.0 + math.sqrt(0.5 * math.log(t)),
                                                          0.5 + math.sqrt(0.5 * math.log(t) / 3),
                                                          math.sqrt(0.5 * math.log(t))])
    one = state(UCB1(), [[1, 0, 0]], [[1.0, 0, 0]])  # t = 1: log 1 = 0 would give no width; t is held at 2
    assert ucb_width(one, 2.0)[0].tolist() == pytest.approx([math.sqrt(2 * math.log(2))] * 3)


def test_untried_first_and_around() -> None:
    s = state(UCB1(), [[2, 0, 1]], [[1.0, 0, 0.25]])
    assert untried_first(s, np.array([[0.5, 0.1, 0.7]])).tolist() == [[0.5, math.inf, 0.7]]
    low, high = around(s, np.array([[0.1, 0.2, 0.3]]))
    np.testing.assert_allclose(low, [[0.4, -math.inf, -0.05]])
    np.testing.assert_allclose(high, [[0.6, math.inf, 0.55]])
    low, high = around(s, np.array([[0.1, 0.2, 0.3]]), means=np.array([[1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(low, [[0.9, -math.inf, 0.7]])
    np.testing.assert_allclose(high, [[1.1, math.inf, 1.3]])


# --- UCB1 ----------------------------------------------------------------------------------------------------------

@given(tiny_states(), st.sampled_from([0.0, 0.5, 2.0, 3.0]))
def test_ucb1_plays_the_highest_index(drawn: tuple[np.ndarray, np.ndarray, int], alpha: float) -> None:
    counts, sums, horizon = drawn
    s = state(UCB1(alpha=alpha), counts, sums, horizon)
    t = np.maximum(counts.sum(axis=1, keepdims=True), 2)
    index = s.means + np.sqrt(alpha * np.log(t) / np.maximum(counts, 1))
    assume(separated(index, counts))
    assert plays_a_best(UCB1(alpha=alpha).select(s, None), index, counts)


def test_ucb1_tries_every_arm_first_and_bounds_by_hand() -> None:
    policy = UCB1()
    s = state(policy, [[5, 0, 5], [5, 5, 5]], [[5, 0, 0], [0, 0, 5]])
    assert policy.select(s, None).tolist() == [1, 2]
    low, high = policy.bounds(s, None)
    w, v = math.sqrt(2 * math.log(10) / 5), math.sqrt(2 * math.log(15) / 5)  # t = 10 and 15
    np.testing.assert_allclose(low, [[1 - w, -math.inf, -w], [-v, -v, 1 - v]])
    np.testing.assert_allclose(high, [[1 + w, math.inf, w], [v, v, 1 + v]])


@pytest.mark.parametrize("policy", [UCB1(), EpsilonGreedy(epsilon=0.0), KLUCB(), MOSS()],
                         ids=lambda p: type(p).__name__)
def test_ties_are_broken_afresh_at_random_every_round_and_seeded(policy: Policyish) -> None:
    """3,000 decisions on three tied arms take each about a third of the time (a tie broken once per run would
    always go to the same arm); the same seed gives the same choices."""
    s = state(policy, [[4, 4, 4]], [[2, 2, 2]], seed=1)
    picks = [int(policy.select(s, None)[0]) for _ in range(3000)]
    assert np.bincount(picks, minlength=3) / 3000 == pytest.approx([1 / 3] * 3, abs=0.04)
    again = state(policy, [[4, 4, 4]], [[2, 2, 2]], seed=1)
    assert [int(policy.select(again, None)[0]) for _ in range(3000)] == picks


# --- KL-UCB ------------------------------------------------------------------------------------------------------

def test_kl_ucb_exploration_budget_by_hand() -> None:
    # Garivier and Cappe (2011): max{q : N_a kl(mean, q) <= log t + c log log t}
    t = np.array([2.0, 3.0, 100.0])
    assert KLUCB().exploration(t).tolist() == pytest.approx(np.log(t).tolist())
    assert KLUCB(c=3.0).exploration(t).tolist() == pytest.approx(
        [math.log(2), math.log(3) + 3 * math.log(math.log(3)), math.log(100) + 3 * math.log(math.log(100))])
    # log 2 < 1: the log log term is held at 0 so that the budget never falls below log t
    assert KLUCB(c=3.0).exploration(np.array([2.0]))[0] == pytest.approx(math.log(2))


def test_kl_ucb_index_solves_the_budget_and_plays_its_best() -> None:
    policy = KLUCB(c=1.0)
    counts, sums = [[10, 4, 30], [20, 20, 20]], [[5, 3, 18], [8, 10, 12]]
    s = state(policy, counts, sums)
    index = policy.select(s, None)  # computes and caches the index in scratch[:, :K], its t in scratch[:, K]
    assert s.scratch[:, 3].tolist() == [44.0, 60.0]
    for r in range(2):
        t = sum(counts[r])
        budget = math.log(t) + math.log(max(math.log(t), 1))
        exact = [kl_bound(sums[r][a] / counts[r][a], budget / counts[r][a]) for a in range(3)]
        assert s.scratch[r, :3].tolist() == pytest.approx(exact, abs=1e-2)
        assert index[r] == int(np.argmax(exact))
    low, high = policy.bounds(s, None)
    assert high[0].tolist() == pytest.approx(s.scratch[0, :3].tolist(), abs=1e-9)
    for a in range(3):  # the lower bound by symmetry: min{q : kl(mean, q) <= budget}
        p, budget = sums[1][a] / 20, (math.log(60) + math.log(math.log(60))) / 20
        assert low[1, a] == pytest.approx(1 - kl_bound(1 - p, budget), abs=1e-2)
        assert kl(p, low[1, a]) == pytest.approx(budget, abs=2e-2) and low[1, a] < p


def test_kl_ucb_bounds_clip_the_means_and_leave_untried_arms_open() -> None:
    policy = KLUCB()
    s = state(policy, [[4, 0, 4]], [[6.0, 0, -2.0]])  # rewards outside [0, 1]: means 1.5 and -0.5
    low, high = policy.bounds(s, None)
    assert low[0, 1] == -math.inf and high[0, 1] == math.inf
    assert high[0, 0] == pytest.approx(1.0, abs=1e-6) and low[0, 2] == pytest.approx(0.0, abs=1e-6)
    assert 0.5 < low[0, 0] < 1 and 0 < high[0, 2] < 0.5
    assert policy.select(s, None)[0] == 1
    s = state(policy, [[1, 0, 0]], [[0.5, 0, 0]])  # t = 1 is held at 2, and an arm seen once has bounds
    low, high = policy.bounds(s, None)
    assert high[0, 0] == pytest.approx(kl_bound(0.5, math.log(2)), abs=1e-2)
    assert low[0, 0] == pytest.approx(1 - kl_bound(0.5, math.log(2)), abs=1e-2)


def test_kl_index_is_recomputed_where_statistics_change_and_everywhere_when_t_grows() -> None:
    """KL-UCB's compiled index is cached in the state's scratch: an arm is recomputed when its statistics change
    (update or an adapter's touch), every arm when t has grown by REFRESH since the last full pass."""
    from banditmap.sim.kernels.arms import kl_upper
    policy = KLUCB()
    s = state(policy, [[20, 20, 20, 0]], [[10, 8, 4, 0]])
    policy.select(s, None)
    first = s.scratch[0].copy()
    assert first[4] == 60.0 and first[:3].tolist() == [kl_upper(m, math.log(60) / 20) for m in (0.5, 0.4, 0.2)]
    policy.update(s, feedback([0], [1], [1.0], unique=True))  # t = 61 < 60 * 1.05: only arm 1 is recomputed
    assert s.scratch[0, 1] == -1.0
    policy.select(s, None)
    assert s.scratch[0, 4] == 60.0 and s.scratch[0, 0] == first[0] and s.scratch[0, 2] == first[2]
    assert s.scratch[0, 1] == kl_upper(9 / 21, math.log(60) / 21)  # with the t of the last full pass
    policy.update(s, feedback([0], [3], [0.0], unique=True))  # t = 62: arm 3's first observation
    policy.select(s, None)
    assert s.scratch[0, 3] == kl_upper(0.0, math.log(60) / 1) and s.scratch[0, 4] == 60.0
    policy.update(s, feedback([0], [2], [0.0], unique=True))  # t = 63 = 60 * REFRESH: not yet
    policy.select(s, None)
    assert s.scratch[0, 4] == 60.0 and 60 * REFRESH == 63
    policy.update(s, feedback([0], [2], [0.0], unique=True))  # t = 64 > 63: every entry with the new t
    policy.select(s, None)
    assert s.scratch[0].tolist() == [kl_upper(10 / 20, math.log(64) / 20), kl_upper(9 / 21, math.log(64) / 21),
                                     kl_upper(4 / 22, math.log(64) / 22), kl_upper(0.0, math.log(64) / 1), 64.0]
    s.touch((np.array([0]), np.array([2])))  # an adapter rewrote arm 2's statistics
    assert s.scratch[0, 2] == -1.0 and s.scratch[0, 4] == 64.0


def test_kl_index_holds_t_at_2_in_the_first_rounds() -> None:
    policy = KLUCB()
    s = state(policy, [[1, 1, 0]], [[1.0, 0.0, 0.0]])  # t = 2; with one observation t = 1 would give log 1 = 0
    expected = [kl_upper_bound_of(1.0, math.log(2)), kl_upper_bound_of(0.0, math.log(2)),
                kl_upper_bound_of(0.0, math.log(2))]
    assert kl_index(s, policy.exploration)[0].tolist() == pytest.approx(expected, abs=1e-12)
    s = state(policy, [[1, 0, 0]], [[0.5, 0.0, 0.0]])
    assert kl_index(s, policy.exploration)[0, 0] == pytest.approx(kl_upper_bound_of(0.5, math.log(2)), abs=1e-12)


def kl_upper_bound_of(mean: float, budget: float) -> float:
    from banditmap.sim.policies.base import kl_upper_bound
    return float(kl_upper_bound(np.array([mean]), np.array([budget]))[0])


# --- MOSS ----------------------------------------------------------------------------------------------------------

@given(tiny_states())
def test_moss_plays_the_highest_index(drawn: tuple[np.ndarray, np.ndarray, int]) -> None:
    # Audibert and Bubeck (2009): mean + sqrt(max(log(T / (K n)), 0) / n), T the horizon
    counts, sums, horizon = drawn
    s = state(MOSS(), counts, sums, horizon)
    K, n = counts.shape[1], np.maximum(counts, 1)
    index = s.means + np.sqrt(np.maximum(np.log(max(horizon, 2) / (K * n)), 0) / n)
    assume(separated(index, counts))
    assert plays_a_best(MOSS().select(s, None), index, counts)


def test_moss_by_hand() -> None:
    # horizon 120, 3 arms: T / K = 40; arm 0 (n = 10) has bonus sqrt(log 4 / 10) = 0.372, arm 2 (n = 40) none
    s = state(MOSS(), [[10, 50, 40]], [[2.0, 30.0, 30.0]], horizon=120)
    assert MOSS().select(s, None)[0] == 2  # 0.75 against 0.2 + 0.372 and 0.6
    s = state(MOSS(), [[10, 50, 40]], [[4.0, 30.0, 30.0]], horizon=120)
    assert MOSS().select(s, None)[0] == 0  # 0.4 + 0.372 = 0.772 > 0.75
    # horizon 1 counts as 2: with 2 arms log(2 / (2 n)) <= 0, no bonus; a horizon of 3 would give arm 0 one
    s = state(MOSS(), [[1, 2]], [[0.3, 1.0]], horizon=1)
    assert MOSS().select(s, None)[0] == 1
    s = state(MOSS(), [[1, 2]], [[0.3, 1.0]], horizon=3)
    assert MOSS().select(s, None)[0] == 0  # 0.3 + sqrt(log 1.5) = 0.937 > 0.5


# --- Thompson sampling ---------------------------------------------------------------------------------------------

def test_beta_posterior_counts_failures_as_n_minus_s() -> None:
    # Agrawal and Goyal (2012): arm i is drawn from Beta(S_i + 1, F_i + 1), F_i = n_i - S_i (priors alpha0, beta0)
    policy = ThompsonBeta(alpha0=2.0, beta0=0.5)
    s = state(policy, [[10, 4, 0], [3, 3, 3]], [[7, 1, 0], [0, 3, 1]], seed=5)
    replay = s.draws.copy()  # the kernel's streams, one per repetition
    for _ in range(20):
        expected = [int(np.argmax([streams.beta(replay, r, 2.0 + s.sums[r, a], 0.5 + s.counts[r, a] - s.sums[r, a])
                                   for a in range(3)])) for r in range(2)]
        assert policy.select(s, None).tolist() == expected


def test_beta_updates_turn_a_reward_into_a_bernoulli_trial() -> None:
    policy = ThompsonBeta()
    s = state(policy, [[0, 0], [0, 0]], [[0, 0], [0, 0]], seed=2)
    replay = s.draws.copy()
    observed = [1.0, 0.0, 0.3, 2.0, -1.0]
    policy.update(s, feedback([0, 0, 1, 1, 1], [1, 1, 0, 0, 1], observed))
    trials = (np.array([streams.uniform(replay, r) for r in [0, 0, 1, 1, 1]]) < np.clip(observed, 0, 1)).astype(float)
    assert trials[0] == 1 and trials[1] == 0 and trials[3] == 1 and trials[4] == 0  # exact for 0/1, clipped beyond
    assert s.counts.tolist() == [[0, 2], [2, 1]]
    assert s.sums.tolist() == [[0, 1], [trials[2] + 1, 0]]


def test_beta_posterior_concentrates_on_the_observed_rate() -> None:
    """4,000 seeded repetitions (seed 3): an arm 30 of 40 against 10 of 40 wins the draw almost always, and an arm
    never played against the uniform prior half the time."""
    policy = ThompsonBeta()
    s = state(policy, [[40, 40]] * 4000, [[30, 10]] * 4000, seed=3)
    assert (policy.select(s, None) == 0).mean() > 0.99
    s = state(policy, [[0, 0]] * 4000, [[0, 0]] * 4000, seed=3)
    assert 0.46 < (policy.select(s, None) == 0).mean() < 0.54


def test_gaussian_posterior_by_hand() -> None:
    # the conjugate normal model (Russo et al. 2018, section 3): precision 1/v0 + n/v, mean (m0/v0 + S/v) / precision
    policy = ThompsonGaussian(prior_mean=1.0, prior_var=4.0, noise_var=0.5)
    s = state(policy, [[2, 0, 5]], [[3.0, 0.0, -1.0]], seed=8)
    replay = s.draws.copy()
    precision = np.array([1 / 4 + 2 / 0.5, 1 / 4, 1 / 4 + 5 / 0.5])
    mean = (1.0 / 4 + np.array([3.0, 0.0, -1.0]) / 0.5) / precision
    for _ in range(20):
        expected = np.argmax(mean + np.array([streams.normal(replay, 0) for _ in range(3)]) / np.sqrt(precision))
        assert policy.select(s, None).tolist() == [expected]


def test_top_two_thompson_challenger_shares() -> None:
    """4,000 seeded repetitions (seed 6): an arm that wins every draw is played with probability beta, the rest goes
    to the second best (every fresh sample names the leader, so the second best of the last draw); sums outside
    [0, counts] are clipped into the posterior."""
    policy = TopTwoThompson(beta=0.7, resamples=2)
    s = state(policy, [[400, 400, 400]] * 4000, [[400, 200, 0]] * 4000, seed=6)
    picks = policy.select(s, None)
    assert 0.67 < (picks == 0).mean() < 0.73 and 0.27 < (picks == 1).mean() < 0.33 and (picks == 2).sum() == 0
    s = state(policy, [[400, 400, 400]] * 4000, [[-50, 450, 200]] * 4000, seed=6)  # clipped: 0 and 400 successes
    picks = policy.select(s, None)
    assert 0.67 < (picks == 1).mean() < 0.73 and 0.27 < (picks == 2).mean() < 0.33


# --- epsilon-greedy, softmax, uniform ------------------------------------------------------------------------------

def test_epsilon_greedy_plays_the_best_mean_and_tries_unplayed_arms_first() -> None:
    policy = EpsilonGreedy(epsilon=0.0)
    s = state(policy, [[5, 5, 5], [5, 0, 5]], [[1, 4, 2], [5, 0, 5]])
    assert policy.select(s, None).tolist() == [1, 1]


def test_epsilon_greedy_explores_uniformly_with_probability_epsilon() -> None:
    """20,000 seeded repetitions (seed 9): the best arm takes 1 - epsilon + epsilon / K, every other epsilon / K;
    the draws replay from a copy of the generator."""
    policy = EpsilonGreedy(epsilon=0.3)
    s = state(policy, [[5, 5, 5, 5]] * 20_000, [[1, 4, 2, 0]] * 20_000, seed=9)
    replay = s.draws.copy()
    picks = policy.select(s, None)
    share = np.bincount(picks, minlength=4) / 20_000
    assert share == pytest.approx([0.075, 0.775, 0.075, 0.075], abs=0.01)
    expected = [streams.below(replay, r, 4) if streams.uniform(replay, r) < 0.3 else 1 for r in range(20_000)]
    assert picks.tolist() == expected
    assert (EpsilonGreedy(epsilon=1.0).select(s, None) != 1).mean() == pytest.approx(0.75, abs=0.01)


def test_softmax_plays_by_boltzmann_weights() -> None:
    """20,000 seeded repetitions (seed 12): arm a with probability exp(mean_a / tau) / sum_b exp(mean_b / tau)
    (Vermorel and Mohri 2005); unplayed arms first."""
    policy = Softmax(tau=0.25)
    s = state(policy, [[4, 4, 4]] * 20_000, [[0.4, 2.0, 1.2]] * 20_000, seed=12)
    weights = np.exp(np.array([0.1, 0.5, 0.3]) / 0.25)
    share = np.bincount(policy.select(s, None), minlength=3) / 20_000
    assert share == pytest.approx(weights / weights.sum(), abs=0.01)
    s = state(policy, [[4, 0, 4]], [[4, 0, 4]])
    assert policy.select(s, None).tolist() == [1]


def test_uniform_random_ignores_what_it_saw() -> None:
    """20,000 seeded repetitions (seed 13): each of 4 arms a quarter of the time, exploit included."""
    policy = UniformRandom()
    s = state(policy, [[5, 5, 5, 5]] * 20_000, [[5, 0, 0, 0]] * 20_000, seed=13)
    for picks in (policy.select(s, None), policy.exploit(s, None)):
        assert np.bincount(picks, minlength=4) / 20_000 == pytest.approx([0.25] * 4, abs=0.01)
    policy.update(s, feedback([0], [1], [1.0], unique=True))
    assert s.counts[0].tolist() == [5, 6, 5, 5] and s.means[0, 1] == pytest.approx(1 / 6)
    policy.update(s, Feedback(np.array([0]), np.array([1]), np.array([[1.0, 0.0]]), None, unique=True))
    assert s.counts[0].tolist() == [5, 6, 5, 5]  # a reward vector (several objectives) is not averaged into one


def test_counting_policies_recommend_the_best_mean_with_random_ties() -> None:
    policy = UCB1()
    s = state(policy, [[3, 3, 3], [3, 3, 3]], [[1, 3, 2], [2, 2, 0]], seed=1)
    assert id(policy.statistics(s)) == id(s)  # the state itself, which a wrapper may rewrite
    assert policy.recommend(s)[0] == 1
    tied = {int(policy.recommend(s)[1]) for _ in range(50)}
    assert tied == {0, 1}
    policy.update(s, feedback([1], [2], [3.0], unique=True))
    assert s.means[1].tolist() == [2 / 3, 2 / 3, 0.75]


# --- robust UCB ----------------------------------------------------------------------------------------------------

def test_robust_ucb_width_and_truncation_by_hand() -> None:
    # Bubeck, Cesa-Bianchi and Lugosi (2013), truncated mean: the s-th sample is kept when
    # |X_s| <= (u s / log(1/delta))^(1/(1+eps)); index mean + 4 u^(1/(1+eps)) (log(1/delta) / n)^(eps/(1+eps))
    policy = RobustUCB(moment_bound=2.0, epsilon=0.5)
    s = state(policy, [[0, 0, 0]], [[0, 0, 0]], horizon=50)
    log_inv_delta = 2 * math.log(50)  # delta = 1/T^2
    cut = [(2.0 * k / log_inv_delta) ** (1 / 1.5) for k in (1, 2, 3)]  # 0.46, 0.73, 0.96
    policy.update(s, feedback([0, 0, 0], [1, 1, 1], [0.4, 0.8, -0.8]))  # the 2nd sample is over its cut
    assert 0.4 < cut[0] and cut[1] < 0.8 < cut[2]
    assert s.counts.tolist() == [[0, 3, 0]] and s.sums[0, 1] == pytest.approx(-0.4) and s.means[0, 1] == (
        pytest.approx(-0.4 / 3))
    policy.update(s, feedback([0], [0], [0.47], unique=True))  # just over the first cut: dropped
    assert s.counts[0, 0] == 1 and s.sums[0, 0] == 0.0
    width = [4 * 2.0 ** (1 / 1.5) * (log_inv_delta / n) ** (0.5 / 1.5) for n in (1, 3, 1)]
    assert policy.confidence(s)[0].tolist() == pytest.approx(width)
    low, high = policy.bounds(s, None)
    np.testing.assert_allclose(high[0], [width[0], -0.4 / 3 + width[1], math.inf])
    np.testing.assert_allclose(low[0], [-width[0], -0.4 / 3 - width[1], -math.inf])
    assert policy.select(s, None)[0] == 2  # untried
    s.counts[0, 2], s.sums[0, 2], s.means[0, 2] = 3, 0.6, 0.2  # 0.2 + width(3) against -0.13 + width(3), width(1)
    assert policy.select(s, None)[0] == 0 and width[0] > 0.2 + width[1]


def test_robust_ucb_plays_the_highest_index_and_truncates_with_horizon_1_as_2() -> None:
    policy = RobustUCB()
    s = state(policy, [[1, 4, 9]], [[0.0, 2.0, 8.0]], horizon=1)
    assert s.scratch[0, 5:].tolist() == [2 * math.log(2), 0.0, 0.0, 0.0, 5.0]  # log(1/delta), samples seen, width
    s.scratch[0, 6:9] = [1, 4, 9]  # the samples seen so far, as the counts say
    log_inv_delta = 2 * math.log(2)
    index = [m + 4 * (log_inv_delta / n) ** 0.5 for m, n in ((0.0, 1), (0.5, 4), (8 / 9, 9))]
    assert policy.confidence(s)[0].tolist() == pytest.approx([i - m for i, m in zip(index, (0.0, 0.5, 8 / 9))])
    assert policy.select(s, None)[0] == int(np.argmax(index)) == 0
    policy.update(s, feedback([0], [1], [1.7], unique=True))  # 5th sample: cut (5 / log 4)^(1/2) = 1.9 (1.5 for T=3)
    assert s.sums[0, 1] == pytest.approx(3.7)
    cut = (1.0 * 6.0 / (2 * np.log(2))) ** (1 / 2)  # the 6th sample's cut, computed as the update does
    policy.update(s, feedback([0], [1], [-cut], unique=True))  # a sample on the cut is kept (|X| <= cut)
    assert s.sums[0, 1] == pytest.approx(3.7 - cut)


# --- EXP3 and EXP3-S -----------------------------------------------------------------------------------------------

def exp3_state(policy: Policyish, log_w: list[list[float]], rounds: int = 10) -> Any:
    """A state of EXP3's kernels with the given log weights: their columns K + 2 onwards of the scratch row."""
    problem = problem_from_answers({"n_actions": len(log_w[0])}, rounds=rounds, reps=len(log_w))
    s: Any = policy.init(problem, np.random.default_rng(3))
    assert s.scratch.shape == (len(log_w), 2 * s.K + 2) and not s.scratch.any()  # equal weights at first
    s.scratch[:, s.K + 2:] = log_w
    return s


def test_exp3_probabilities_draw_and_update_by_hand() -> None:
    # Auer, Cesa-Bianchi, Freund and Schapire (2002), Exp3: p_i = (1 - gamma) w_i / sum_j w_j + gamma / K;
    # the played arm's weight is multiplied by exp(gamma x / (p_i K))
    policy = EXP3(gamma=0.2)
    s = exp3_state(policy, np.log([[1.0, 2.0, 5.0], [3.0, 3.0, 3.0]]).tolist())
    actions = policy.select(s, None)
    probs = 0.8 * np.array([[1, 2, 5], [3, 3, 3]]) / np.array([[8], [9]]) + 0.2 / 3
    assert s.aux.tolist() == pytest.approx(probs[[0, 1], actions].tolist())  # the note: the arm's probability
    before = s.scratch[:, 5:].copy()
    policy.update(s, feedback([0, 1], [2, 0], [0.5, 3.0], unique=True, aux=np.array([0.5, 0.25])))
    step = before.copy()
    step[0, 2] += 0.2 * (0.5 / 0.5) / 3
    step[1, 0] += 0.2 * (1.0 / 0.25) / 3  # a reward is clipped into [0, 1]
    np.testing.assert_allclose(s.scratch[:, 5:], step)
    assert policy.recommend(s).tolist() == [2, 0]
    policy.update(s, feedback([1, 1], [1, 1], [1.0, 1.0], aux=np.array([0.5, 0.5])))  # twice in one update
    assert s.scratch[1, 6] == pytest.approx(math.log(3) + 2 * 0.2 * 2 / 3)
    policy.update(s, feedback([1], [1], [-4.0], unique=True, aux=np.array([0.5])))  # clipped to 0: no change
    assert s.scratch[1, 6] == pytest.approx(math.log(3) + 2 * 0.2 * 2 / 3)


def test_exp3_draws_every_arm_by_its_probability() -> None:
    """20,000 seeded repetitions (seed 3), including the last arm and arms of tiny weight."""
    policy = EXP3(gamma=0.1)
    s = exp3_state(policy, [np.log([1.0, 6.0, 3.0]).tolist()] * 20_000)
    chosen = policy.select(s, None)
    probs = 0.9 * np.array([0.1, 0.6, 0.3]) + 0.1 / 3
    assert np.bincount(chosen, minlength=3) / 20_000 == pytest.approx(probs, abs=0.01)
    assert s.aux == pytest.approx(probs[chosen])


def test_exp3s_shares_weight_after_each_update() -> None:
    # Exp3.S (Auer et al. 2002): w_i <- w_i exp(gamma x_hat_i / K) + (e alpha / K) sum_j w_j, here summed over the
    # weights after the exponential step, and only in repetitions that received feedback
    policy = EXP3S(gamma=0.3, alpha=0.05)
    s = exp3_state(policy, np.log([[1.0, 2.0, 4.0], [1.0, 1.0, 1.0]]).tolist())
    policy.update(s, feedback([0], [0], [1.0], unique=True, aux=np.array([0.5])))
    w = np.array([1.0 * math.exp(0.3 * 2 / 3), 2.0, 4.0])
    shared = w + math.e * 0.05 / 3 * w.sum()
    log_w = s.scratch[:, 5:]
    assert (log_w[0] - log_w[0].max()).tolist() == pytest.approx(np.log(shared / shared.max()).tolist())
    assert log_w[1].tolist() == [0.0, 0.0, 0.0]
    # both repetitions at once: each shares its own total
    log_w[:] = np.log([[1.0, 2.0, 4.0], [10.0, 20.0, 30.0]])
    policy.update(s, feedback([0, 1], [0, 2], [1.0, 0.5], unique=True, aux=np.array([0.5, 0.25])))
    for r, w in enumerate([np.array([math.exp(0.3 * 2 / 3), 2.0, 4.0]),
                           np.array([10.0, 20.0, 30.0 * math.exp(0.3 * 2 / 3)])]):
        shared = w + math.e * 0.05 / 3 * w.sum()
        np.testing.assert_allclose(log_w[r] - log_w[r].max(), np.log(shared / shared.max()))


@pytest.mark.parametrize("policy", [EXP3(gamma=0.2), EXP3S(gamma=0.2, alpha=0.01)], ids=["EXP3", "EXP3S"])
def test_exp3_weights_far_from_zero_stay_finite(policy: Policyish) -> None:
    # probabilities depend on the weights' ratios only: they are computed from log-weights shifted per repetition
    s = exp3_state(policy, [[800.0, 801.0, 799.0], [-800.0, -801.0, -799.0]] * 10_000)
    ratios = np.array([[1.0, math.e, 1 / math.e], [1.0, 1 / math.e, math.e]])
    probs = 0.8 * ratios / ratios.sum(axis=1, keepdims=True) + 0.2 / 3
    chosen = policy.select(s, None)
    assert s.aux == pytest.approx(np.tile(probs, (10_000, 1))[np.arange(20_000), chosen])
    policy.update(s, feedback([0, 1], [0, 0], [0.0, 0.0], unique=True, aux=np.array([0.5, 0.5])))
    assert np.isfinite(s.scratch).all() and np.isfinite(s.aux).all()
    assert policy.recommend(s)[:2].tolist() == [1, 2]


# --- successive elimination ----------------------------------------------------------------------------------------

def active(s: KernelStats) -> list[list[bool]]:
    """Which arms survive, per repetition: the kernel keeps 1 in scratch[:, K + 2 + k] while arm k does."""
    return (s.scratch[:, s.K + 2:] > 0).tolist()


def test_successive_elimination_radius_plays_and_eliminates_by_hand() -> None:
    # Even-Dar, Mannor and Mansour (2002): drop an arm whose upper bound falls below the best lower bound; here
    # the Hoeffding radius sqrt(log(4 K n^2 / delta) / (2 n)) of rewards in [0, 1], a union bound over arms and n
    policy = SuccessiveElimination(delta=0.1)
    s = state(policy, [[0, 0, 0]], [[0, 0, 0]])
    assert active(s) == [[True, True, True]]
    # its scratch row: the cache, column K and the note unused (0), then 1 for each surviving arm
    assert policy.start(problem_from_answers({"n_actions": 4}, rounds=9, reps=1)).tolist() == [0.0] * 6 + [1.0] * 4
    def radius(n: int) -> float:
        return math.sqrt(math.log(4 * 3 * n * n / 0.1) / (2 * n))

    s = state(policy, [[200, 200, 199]], [[190.0, 20.0, 129.0]])
    assert policy.radius(s)[0].tolist() == pytest.approx([radius(200), radius(200), radius(199)])
    assert policy.select(s, None)[0] == 2  # round-robin: the least played active arm
    policy.update(s, feedback([0], [2], [1.0], unique=True))
    # arm 1: 0.1 + r(200) < 0.95 - r(200) < 0.65 + r(200)
    assert 0.1 + radius(200) < 0.95 - radius(200) < 0.65 + radius(200)
    assert active(s) == [[True, False, True]]
    assert {int(policy.select(s, None)[0]) for _ in range(40)} == {0, 2}  # 200 plays each: ties at random
    assert policy.recommend(s)[0] == 0
    s.means[0, 1] = 5.0  # an eliminated arm stays out of the recommendation whatever its mean
    assert policy.recommend(s)[0] == 0
    low, high = policy.bounds(s, None)
    assert high[0, 0] == pytest.approx(0.95 + radius(200)) and low[0, 2] == pytest.approx(0.65 - radius(200))
    policy.update(s, feedback([0], [0], [1.0], unique=True))  # nor does it raise the best lower bound
    assert active(s) == [[True, False, True]]


def test_successive_elimination_keeps_unplayed_arms_and_an_arm_on_the_edge() -> None:
    policy = SuccessiveElimination(delta=0.5)
    s = state(policy, [[0, 0]], [[0, 0]])
    policy.update(s, feedback([0], [0], [1.0], unique=True))  # arm 1 unplayed: an infinite radius keeps it
    assert active(s) == [[True, True]]
    # arm 1's upper bound equal to arm 0's lower bound, to the last bit: kept (only a bound strictly below goes)
    s = state(policy, [[50, 50, 49]], [[0.0, 0.0, 0.0]])
    r = float(policy.radius(s)[0, 0])
    top = next(m for m in np.linspace(0.8, 0.9, 1000) if (m - r) - r + r == m - r)
    s.means[0, :2] = top, (top - r) - r
    policy.update(s, feedback([0], [2], [0.0], unique=True))
    assert active(s) == [[True, True, False]]


def test_successive_elimination_bounds_and_eliminations_per_repetition() -> None:
    policy = SuccessiveElimination(delta=0.1)

    def radius(n: int) -> float:
        return math.sqrt(math.log(4 * 3 * n * n / 0.1) / (2 * n))

    s = state(policy, [[1, 300, 300], [300, 300, 1]], [[-5.0, 30.0, 270.0], [135.0, 150.0, 0.0]])
    low, high = policy.bounds(s, None)
    assert high[0, 0] == pytest.approx(-5.0 + radius(1)) and low[1, 2] == pytest.approx(-radius(1))
    # repetition 0: arm 0 (seen once, mean -5) and arm 1 (0.1) fall below arm 2's lower bound 0.9 - r(300);
    # repetition 1: nothing is that far apart, though repetition 0's best lower bound would drop its arms 0 and 2
    policy.update(s, feedback([0, 1], [2, 1], [0.9, 0.5], unique=True))
    assert -5.0 + radius(1) < 0.9 - radius(301) and 0.1 + radius(300) < 0.9 - radius(301)
    assert active(s) == [[False, False, True], [True, True, True]]
    assert policy.recommend(s).tolist()[0] == 2
    s.means[1] = [0.2, 0.4, 0.3]
    assert policy.recommend(s).tolist()[1] == 1


def test_successive_elimination_keeps_an_unplayed_arm_whatever_the_others_show() -> None:
    policy = SuccessiveElimination(delta=0.1)
    s = state(policy, [[500, 0]], [[2500.0, 0.0]])  # rewards of 5: the best lower bound is far above 1
    policy.update(s, feedback([0], [0], [5.0], unique=True))
    assert active(s) == [[True, True]]


# --- seeded determinism ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", [EpsilonGreedy(), Softmax(tau=1.0), ThompsonBeta(), ThompsonGaussian(),
                                    TopTwoThompson(), EXP3(), EXP3S(), UniformRandom()], ids=lambda p: type(p).__name__)
def test_the_same_seed_gives_the_same_choices(policy: Policyish) -> None:
    problem = problem_from_answers({"n_actions": 4}, rounds=20, reps=5)
    runs = []
    for seed in (21, 21, 22):
        s: Any = policy.init(problem, np.random.default_rng(seed))
        rewards = np.random.default_rng(0).random((15, 5)) < 0.5  # the same rewards for every run
        picks = []
        for r in rewards:
            a = policy.select(s, None)
            picks.append(a.tolist())
            policy.update(s, Feedback(np.arange(5), a, r.astype(float), None, aux=s.aux, unique=True))
        runs.append(picks)
    assert runs[0] == runs[1] != runs[2]


# --- the NumPy KL index (cascade KL-UCB's) and the kernel policies' plumbing ------------------------------------

def test_numpy_kl_index_is_recomputed_where_statistics_change_and_everywhere_when_t_grows() -> None:
    """kl_index (the item policies' KL-UCB) caches its index: an entry is recomputed when its statistics change,
    every entry of every repetition when some repetition's t has grown by more than REFRESH since the last full
    pass. Two repetitions with different t (60 and 30), so that t is counted per repetition."""
    problem = problem_from_answers({"n_actions": 4}, rounds=100, reps=2)
    s = arm_stats(problem, np.random.default_rng(0))
    s.counts[:] = [[20, 20, 20, 0], [10, 10, 10, 0]]
    s.sums[:] = [[10, 8, 4, 0], [1, 2, 3, 0]]
    s.means[:] = s.sums / np.maximum(s.counts, 1)
    first = kl_index(s, np.log).copy()
    assert s.index_t is not None and s.dirty is not None
    assert s.index_t.tolist() == [[60.0], [30.0]] and s.dirty.dtype == bool and not s.dirty.any()
    np.testing.assert_allclose(first, [
        [kl_upper_bound_of(m, math.log(60) / 20) for m in (0.5, 0.4, 0.2)] + [kl_upper_bound_of(0.0, math.log(60))],
        [kl_upper_bound_of(m, math.log(30) / 10) for m in (0.1, 0.2, 0.3)] + [kl_upper_bound_of(0.0, math.log(30))]],
        rtol=0, atol=1e-12)
    add_observations(s, feedback([0], [1], [1.0], unique=True))  # t = 61 < 60 * 1.05: only (0, 1) is recomputed
    assert s.dirty.tolist() == [[False, True, False, False], [False] * 4]
    second = kl_index(s, np.log)
    assert not s.dirty.any() and s.index_t.tolist() == [[60.0], [30.0]]
    changed = first.copy()
    changed[0, 1] = kl_upper_bound_of(9 / 21, math.log(60) / 21)  # with the t of the last full pass
    np.testing.assert_allclose(second, changed, rtol=0, atol=1e-12)
    assert second[0, 0] == first[0, 0] and second[1].tolist() == first[1].tolist()
    add_observations(s, feedback([1], [3], [0.0], unique=True))  # repetition 1's t = 31: its arm 3 only
    third = kl_index(s, np.log)
    assert third[1, 3] == pytest.approx(kl_upper_bound_of(0.0, math.log(30)), abs=1e-12)
    assert s.index_t.tolist() == [[60.0], [30.0]]
    add_observations(s, feedback([1], [3], [1.0], unique=True))  # t = 32 > 30 * REFRESH: every entry anew
    fourth = kl_index(s, np.log)
    assert s.index_t.tolist() == [[61.0], [32.0]] and not s.dirty.any()
    assert fourth[0, 1] == pytest.approx(kl_upper_bound_of(9 / 21, math.log(61) / 21), abs=1e-12)
    assert fourth[1, 3] == pytest.approx(kl_upper_bound_of(0.5, math.log(32) / 2), abs=1e-12)
    assert kl_index(s, np.log) is fourth  # nothing changed: the cache is returned as it is


def test_numpy_kl_index_waits_until_t_exceeds_refresh_times_the_last_pass() -> None:
    problem = problem_from_answers({"n_actions": 2}, rounds=100, reps=1)
    s = arm_stats(problem, np.random.default_rng(0))
    s.counts[:], s.sums[:] = [[30, 30]], [[15, 6]]
    s.means[:] = s.sums / s.counts
    kl_index(s, np.log)
    add_observations(s, feedback([0, 0, 0], [0, 0, 0], [1.0, 1.0, 1.0]))  # t = 63 = 60 * REFRESH: not yet
    index = kl_index(s, np.log)
    assert s.index_t is not None and s.index_t.tolist() == [[60.0]] and 60 * REFRESH == 63
    assert index[0, 0] == pytest.approx(kl_upper_bound_of(18 / 33, math.log(60) / 33), abs=1e-12)


@dataclass(frozen=True)
class MeansOnly(CountingPolicy):
    """The counting policies' shared plumbing alone."""


def test_the_shared_counting_update_adds_the_observations() -> None:
    policy = MeansOnly()
    s = state(policy, [[1, 0, 0]], [[0.5, 0, 0]])
    policy.update(s, feedback([0, 0], [2, 2], [1.0, 0.0]))
    assert s.counts.tolist() == [[1, 0, 2]] and s.sums.tolist() == [[0.5, 0, 1.0]]
    assert s.means.tolist() == [[0.5, 0, 0.5]]


def test_a_kernel_state_has_one_scratch_column_per_arm_and_one_for_t() -> None:
    s = state(KLUCB(), [[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]])
    assert s.scratch.shape == (2, 4) and s.draws.shape == (2,) and s.draws.dtype == np.uint64
    s.scratch[:] = 0.5
    s.touch((np.array([1]), np.array([2])))  # the last arm: its cached index goes stale, the cached t stays
    assert s.scratch.tolist() == [[0.5] * 4, [0.5, 0.5, -1.0, 0.5]]


def test_a_kernel_policy_learns_from_actions_of_any_integer_or_float_dtype() -> None:
    """Feedback may carry actions as floats (a log's column) and rewards as integers: the kernels get int64 arms
    and float64 rewards."""
    policy = UCB1()
    s = state(policy, [[0, 0, 0]], [[0, 0, 0]])
    policy.update(s, Feedback(np.array([0, 0]), np.array([2.0, 1.0]), np.array([1, 0]), None, unique=False))
    assert s.counts.tolist() == [[0, 1, 1]] and s.sums.tolist() == [[0, 0, 1]] and s.means.tolist() == [[0, 0, 1]]


def test_a_kernel_policy_notes_its_decisions_only_when_its_row_has_room_past_k() -> None:
    """A scratch row of K + 2 columns has a note column (K + 1): select hands it back as aux and update puts the
    notes it receives there before learning. A row of K + 1 columns (KL-UCB) has none: notes handed to it are
    ignored, never written past its row (where the next repetition's cached index begins)."""
    from dataclasses import dataclass as frozen_dataclass

    from banditmap.sim.policies.base import SHARE, hyperparameter
    from banditmap.sim.policies.mab import Kernel

    @frozen_dataclass(frozen=True)
    class Noting(Kernel):
        choose = "choose_epsilon_greedy"  # a class attribute, as Kernel's ClassVar
        epsilon: float = hyperparameter(0.0, SHARE)  # greedy: the best mean

        def width(self, problem: Any) -> int:
            return problem.n_arms + 2

    s = state(Noting(), [[1, 2, 3], [3, 2, 1]], [[1, 1, 1], [1, 1, 1]])
    s.scratch[:, 4] = [0.25, 0.5]
    assert Noting().select(s, None).tolist() == [0, 2] and s.aux.tolist() == [0.25, 0.5]
    Noting().update(s, feedback([1, 0], [1, 2], [1.0, 0.0], unique=True, aux=np.array([0.75, 0.125])))
    assert s.scratch[:, 4].tolist() == [0.125, 0.75] and s.counts.tolist() == [[1, 2, 4], [3, 3, 1]]
    policy = KLUCB()
    kl = state(policy, [[4, 4, 4], [4, 4, 4]], [[1, 2, 3], [3, 2, 1]])
    assert kl.scratch.shape == (2, 4)
    policy.select(kl, None)  # caches every index
    cached = kl.scratch.copy()
    assert kl.aux is None and (cached[:, :3] > 0).all()
    policy.update(kl, feedback([0], [0], [1.0], unique=True, aux=np.array([9.0])))
    assert kl.scratch[1].tolist() == cached[1].tolist() and kl.scratch[0, 0] == -1.0  # its own arm's is stale


def test_thompson_beta_keeps_each_arms_gamma_constants_in_a_row_of_2k_plus_2() -> None:
    """Its row: the successes' Gamma constants of the K arms (:K), the race's columns K and K + 1, then the
    failures' constants (K + 2 on); a decision fills both for every arm, the last arm's in the row's last column."""
    policy = ThompsonBeta()
    s = state(policy, [[3, 1, 2], [0, 4, 1]], [[1, 1, 0], [0, 2, 1]])
    assert s.scratch.shape == (2, 2 * 3 + 2)
    s.scratch[:] = 0.0
    policy.select(s, None)
    assert (s.scratch[:, :3] != 0).all() and (s.scratch[:, 5:] != 0).all()
