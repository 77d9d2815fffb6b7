"""The budget policies of banditmap.sim.policies.budget checked by hand: the confidence radius
sqrt(gamma mean / n) + gamma / n of Badanidiyuru et al. and Agrawal and Devanur, the optimistic reward and cost
bounds built from it, the budget left per round left, the null action once the budget is gone, the bookkeeping of
rewards, costs and spend, UCB-BwK's LP on the bounds, PrimalDualBwK's multiplicative resource prices and Thompson
sampling's LP on Beta draws. The LP itself (oracles.budget_mix) is spied on: the test checks what the policy gives
it and what the policy does with its answer. Random draws are checked by replaying a copy of the generator."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim import oracles
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.budget import (
    BUDGET,
    BudgetPolicy,
    PrimalDualBwK,
    Spending,
    ThompsonBudget,
    UCBBwK,
    radius,
)
from banditmap.sim.problem import Problem

from stubs import close, small_problem


def problem(arms: int = 3, reps: int = 1, rounds: int = 10, rate: float = 0.5) -> Problem:
    return small_problem("budget", n_arms=arms, rounds=rounds, reps=reps, constraint="budget", budget_rate=rate)


def spending(policy: BudgetPolicy, counts: Any, sums: Any, cost_sums: Any, rounds: int = 10, rate: float = 0.5,
             seed: int = 0) -> Spending:
    c = np.atleast_2d(np.asarray(counts, float))
    s = policy.init(problem(c.shape[1], c.shape[0], rounds, rate), np.random.default_rng(seed))
    s.counts[:], s.sums[:] = c, np.atleast_2d(np.asarray(sums, float))
    s.means[:] = np.where(c > 0, s.sums / np.maximum(c, 1), 0.0)
    s.cost_sums[:] = np.atleast_2d(np.asarray(cost_sums, float))
    return s


# --- declarations -------------------------------------------------------------------------------------------------

def test_registry_kinds_and_hyperparameters() -> None:
    assert (REGISTRY["ucb-bwk"], REGISTRY["bwk-primal-dual"], REGISTRY["ts-pricing-inventory"]) == (
        UCBBwK, PrimalDualBwK, ThompsonBudget)
    assert BUDGET == frozenset({"budget"})
    for cls in (UCBBwK, PrimalDualBwK, ThompsonBudget):
        assert cls.kinds == frozenset({"budget"})
    assert UCBBwK().alpha == 1.0 and PrimalDualBwK().eta == 0.1
    assert UCBBwK(alpha=0.0).alpha == 0.0 and PrimalDualBwK(eta=1.0).eta == 1.0
    with pytest.raises(BanditmapError, match="PrimalDualBwK.eta"):
        PrimalDualBwK(eta=0.0)
    with pytest.raises(BanditmapError, match="UCBBwK.alpha"):
        UCBBwK(alpha=-0.1)


def test_init_holds_zero_costs_and_spend_and_the_run_budget() -> None:
    s = UCBBwK().init(problem(arms=3, reps=2, rounds=10, rate=0.5), np.random.default_rng(0))
    assert isinstance(s, Spending)
    assert s.cost_sums.shape == (2, 3) and not s.cost_sums.any()
    assert s.spent.shape == (2,) and not s.spent.any()
    assert s.budget == 5.0 and s.prices is None
    assert (s.R, s.K, s.horizon, s.t) == (2, 3, 10, 0)
    assert s.counts.shape == (2, 3) and not s.counts.any()


# --- the radius and the bounds ------------------------------------------------------------------------------------

def test_radius_is_sqrt_gamma_mean_over_n_plus_gamma_over_n() -> None:
    mean = np.array([0.25, 0.25, 0.36, -0.5, 0.5])
    n = np.array([4.0, 16.0, 1.0, 4.0, 0.0])
    # 0.25 / 4: sqrt(1/16) + 1/4; 0.25 / 16: 1/8 + 1/16; 0.36 / 1: 0.6 + 1; negative mean: 0 + 1/4; n = 0 as 1
    assert radius(mean, n, 1.0).tolist() == pytest.approx([0.5, 0.1875, 1.6, 0.25, math.sqrt(0.5) + 1.0])
    # gamma = 0.25: sqrt(0.25 * 0.64 / 4) + 0.25 / 4 = 0.2 + 0.0625
    assert radius(np.array([0.64]), np.array([4.0]), 0.25).tolist() == pytest.approx([0.2625])


def test_rate_bounds_are_optimistic_for_rewards_and_costs_and_clipped() -> None:
    policy = UCBBwK()
    # arm 0 untried; arm 1: 4 plays, mean 0.25, cost 0.64; arm 2: 1 play, mean 0.36, cost 1; arm 3: 16 plays,
    # mean 1, cost 0
    s = spending(policy, [[0, 4, 1, 16]], [[0, 1.0, 0.36, 16]], [[0, 2.56, 1.0, 0]])
    upper, lower = policy.rate_bounds(s, 0.25)
    # radius(m, n, 0.25) = sqrt(0.25 m / n) + 0.25 / n
    assert close(upper, [[1.0, 0.25 + 0.125 + 0.0625, 0.36 + 0.3 + 0.25, 1.0]])
    assert close(lower, [[0.0, 0.64 - 0.2 - 0.0625, 1.0 - 0.5 - 0.25, 0.0]])


def test_rate_bounds_of_untried_arms_are_one_and_zero_whatever_gamma() -> None:
    policy = UCBBwK()
    s = spending(policy, [[0, 100]], [[0, 50]], [[0, 10]])
    upper, lower = policy.rate_bounds(s, 0.01)
    # tried arm: 0.5 + sqrt(0.01 * 0.5 / 100) + 0.0001 and 0.1 - sqrt(0.01 * 0.1 / 100) - 0.0001
    assert close(upper, [[1.0, 0.5 + math.sqrt(5e-5) + 1e-4]])
    assert close(lower, [[0.0, 0.1 - math.sqrt(1e-5) - 1e-4]])


def test_rate_is_budget_left_per_round_left() -> None:
    policy = UCBBwK()
    s = spending(policy, [[0, 0]] * 3, [[0, 0]] * 3, [[0, 0]] * 3, rounds=10, rate=1.0)  # budget 10
    s.spent[:] = [4.0, 12.0, 10.0]
    s.t = 7
    assert policy.rate(s).tolist() == pytest.approx([2.0, 0.0, 0.0])  # 6 / 3, nothing left, nothing left
    s.t = 9
    assert policy.rate(s).tolist() == pytest.approx([6.0, 0.0, 0.0])  # one round left
    s.t = 10
    assert policy.rate(s).tolist() == pytest.approx([6.0, 0.0, 0.0])  # none left: as if one


def test_decide_plays_the_null_action_once_the_budget_is_spent() -> None:
    policy = UCBBwK()
    s = spending(policy, [[0, 0]] * 3, [[0, 0]] * 3, [[0, 0]] * 3, rounds=10, rate=1.0)
    s.spent[:] = [9.99, 10.0, 11.0]
    assert policy.decide(s, np.array([1, 0, 1])).tolist() == [1, 2, 2]


# --- learning -----------------------------------------------------------------------------------------------------

def test_update_adds_rewards_and_costs_of_real_arms_and_all_spend() -> None:
    policy = UCBBwK()
    s = policy.init(problem(arms=2, reps=2), np.random.default_rng(0))
    # repetition 0 plays arm 1 twice and arm 0 once; repetition 1 plays the null action (2), then arm 1
    feedback = Feedback(np.array([0, 0, 1, 0, 1]), np.array([1, 1, 2, 0, 1]), np.array([1.0, 0.0, 0.0, 1.0, 1.0]),
                        None, costs=np.array([0.5, 0.25, 0.0, 0.125, 0.75]))
    policy.update(s, feedback)
    assert s.counts.tolist() == [[1, 2], [0, 1]]
    assert s.sums.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    assert s.means.tolist() == [[1.0, 0.5], [0.0, 1.0]]
    assert s.cost_sums.tolist() == [[0.125, 0.75], [0.0, 0.75]]
    assert s.spent.tolist() == [0.875, 0.75]


def test_update_with_unique_feedback() -> None:
    policy = UCBBwK()
    s = policy.init(problem(arms=2, reps=3), np.random.default_rng(0))
    feedback = Feedback(np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([1.0, 0.0, 0.5]), None, unique=True,
                        costs=np.array([0.5, 0.0, 0.25]))
    policy.update(s, feedback)
    assert s.counts.tolist() == [[0, 1], [0, 0], [1, 0]]
    assert s.means.tolist() == [[0, 1.0], [0, 0], [0.5, 0]]
    assert s.cost_sums.tolist() == [[0, 0.5], [0, 0], [0.25, 0]]
    assert s.spent.tolist() == [0.5, 0.0, 0.25]


def test_recommend_takes_the_best_reward_per_cost_with_costs_floored_at_a_thousandth() -> None:
    policy = UCBBwK()
    # row 0: arm 0 mean 0.6 cost 0.5 (1.2); arm 1 mean 0.0015 cost 0 (0.0015 / 0.001 = 1.5); arm 2 untried (0)
    # row 1: arm 0 mean 0.6 cost 0.2 (3.0) beats arm 1 (1.5)
    s = spending(policy, [[1, 2, 0], [1, 2, 0]], [[0.6, 0.003, 0], [0.6, 0.003, 0]], [[0.5, 0, 0], [0.2, 0, 0]])
    assert policy.recommend(s).tolist() == [1, 0]
    # row 0: arm 0 has 2 plays, cost 0.5 each: 0.3 / 0.5 = 0.6 loses to arm 2 (0.4 / 0.5 = 0.8)
    s = spending(policy, [[2, 0, 1]], [[0.6, 0, 0.4]], [[1.0, 0, 0.5]])
    assert policy.recommend(s).tolist() == [2]
    # the cost rate is the cost sum over the plays: arm 0 (2 plays, mean 0.6, cost rate 0.25: 2.4) beats arm 1
    # (1 play, 0.5 / 0.5 = 1.0)
    s = spending(policy, [[2, 1]], [[1.2, 0.5]], [[0.5, 0.5]])
    assert policy.recommend(s).tolist() == [0]


# --- UCB-BwK ------------------------------------------------------------------------------------------------------

class Spy:
    """Records the arguments of oracles.budget_mix and returns its real answer."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __call__(self, reward: np.ndarray, cost: np.ndarray, rate: Any) -> oracles.Mix:
        self.calls.append((reward.copy(), np.array(cost, float), np.asarray(rate, float).copy()))
        return real_mix(reward, cost, rate)


real_mix = oracles.budget_mix


def test_ucb_bwk_solves_the_lp_on_bounds_with_gamma_alpha_log_k_horizon(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy()
    monkeypatch.setattr(oracles, "budget_mix", spy)
    gammas: list[float] = []

    def bounds(self: BudgetPolicy, s: Spending, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        gammas.append(gamma)
        return BudgetPolicy.rate_bounds(self, s, gamma)

    monkeypatch.setattr(UCBBwK, "rate_bounds", bounds)
    policy = UCBBwK(alpha=0.5)
    # 2 repetitions, 3 arms, 40 rounds, budget 20; many plays so the bounds are close to the means
    counts = [[10000, 10000, 10000]] * 2
    s = spending(policy, counts, [[6000, 9000, 1000]] * 2, [[2000, 8000, 9000]] * 2, rounds=40, rate=0.5)
    s.spent[:] = [4.0, 20.0]
    s.t = 8
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    gamma = 0.5 * math.log(3 * 40)
    assert gammas == [pytest.approx(gamma)]
    upper, lower = BudgetPolicy.rate_bounds(policy, s, gamma)
    noise = replay.random((2, 3)) * 1e-9
    (reward, cost, rate), = spy.calls
    assert np.array_equal(reward, upper + noise)
    assert np.array_equal(cost, lower)
    assert rate.tolist() == pytest.approx([16.0 / 32, 0.0])
    # row 0: arm 0 (cheap) mixed with arm 1 (above the rate 0.5); row 1 is out of budget: the null action
    mix = real_mix(reward, cost, rate)
    assert (mix.low[0], mix.high[0]) == (0, 1)
    u = replay.random(2)
    assert chosen.tolist() == [1 if u[0] < mix.p_high[0] else 0, 3]


def test_ucb_bwk_plays_an_affordable_arm_it_is_sure_of() -> None:
    policy = UCBBwK(alpha=0.0)  # no exploration: the bounds are the means
    s = spending(policy, [[10, 10, 10]], [[3, 9, 5]], [[1, 9, 4]], rounds=10, rate=0.5)
    # rate 0.5 (budget 5 over 10 rounds); means and costs: arm 0 (0.3, 0.1), arm 1 (0.9, 0.9), arm 2 (0.5, 0.4).
    # Arm 2 alone earns 0.5; arm 0 mixed with arm 1 at p = (0.5 - 0.1) / 0.8 = 0.5 earns 0.3 + 0.5 * 0.6 = 0.6;
    # arm 2 with arm 1 at p = 0.1 / 0.5 = 0.2 earns 0.5 + 0.2 * 0.4 = 0.58: the mix (0, 1) at p = 0.5
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    replay.random((1, 3))
    assert chosen.tolist() == [1 if replay.random(1)[0] < 0.5 else 0]


# --- PrimalDualBwK ------------------------------------------------------------------------------------------------

def fixed_bounds(monkeypatch: pytest.MonkeyPatch, upper: Any, lower: Any) -> list[float]:
    gammas: list[float] = []

    def bounds(self: BudgetPolicy, s: Spending, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        gammas.append(gamma)
        return np.array(upper, float), np.array(lower, float)

    monkeypatch.setattr(PrimalDualBwK, "rate_bounds", bounds)
    return gammas


def test_primal_dual_prices_start_equal_and_grow_with_lower_bound_spend(monkeypatch: pytest.MonkeyPatch) -> None:
    gammas = fixed_bounds(monkeypatch, [[0.9, 0.6], [0.8, 0.3]], [[0.5, 0.1], [0.2, 0.3]])
    policy = PrimalDualBwK(eta=0.5)
    s = spending(policy, [[0, 0]] * 2, [[0, 0]] * 2, [[0, 0]] * 2, rounds=10, rate=0.5)  # budget 5
    s.spent[:] = [0.0, 5.0]
    chosen = policy.select(s, None)
    assert gammas == [pytest.approx(math.log(2 * 10))]
    # time cost 5 / 10 = 0.5; priced = lower + 0.5: row 0 [1.0, 0.6] -> ratios [0.9, 1.0]: arm 1;
    # row 1 [0.7, 0.8] -> ratios [1.14, 0.375]: arm 0, but its budget is spent: the null action 2
    assert chosen.tolist() == [1, 2]
    assert s.prices is not None
    row0 = np.array([1.5 ** 0.1, 1.5 ** 0.5])
    row1 = np.array([1.5 ** 0.2, 1.5 ** 0.5])
    assert close(s.prices, [(row0 / row0.sum()).tolist(), (row1 / row1.sum()).tolist()])


def test_primal_dual_prices_weigh_lower_cost_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_bounds(monkeypatch, [[0.9, 0.6], [0.9, 0.6]], [[0.5, 0.0], [0.5, 0.0]])
    policy = PrimalDualBwK(eta=0.25)
    s = spending(policy, [[0, 0]] * 2, [[0, 0]] * 2, [[0, 0]] * 2, rounds=10, rate=0.5)
    s.prices = np.array([[0.2, 0.8], [0.8, 0.2]])
    # row 0: priced = 0.2 lower + 0.4 = [0.5, 0.4] -> [1.8, 1.5]: arm 0
    # row 1: priced = 0.8 lower + 0.1 = [0.5, 0.1] -> [1.8, 6.0]: arm 1
    assert policy.select(s, None).tolist() == [0, 1]
    row0 = np.array([0.2 * 1.25 ** 0.5, 0.8 * 1.25 ** 0.5])
    row1 = np.array([0.8 * 1.25 ** 0.0, 0.2 * 1.25 ** 0.5])
    assert close(s.prices, [(row0 / row0.sum()).tolist(), (row1 / row1.sum()).tolist()])


def test_primal_dual_prices_with_three_arms(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_bounds(monkeypatch, [[0.9, 0.6, 0.3]], [[0.5, 0.0, 0.25]])
    policy = PrimalDualBwK(eta=0.25)
    s = spending(policy, [[0, 0, 0]], [[0, 0, 0]], [[0, 0, 0]], rounds=10, rate=0.5)
    s.prices = np.array([[0.2, 0.8]])
    # priced = 0.2 lower + 0.4 = [0.5, 0.4, 0.45] -> [1.8, 1.5, 0.67]: arm 0
    assert policy.select(s, None).tolist() == [0]


def test_primal_dual_decides_from_the_real_bounds() -> None:
    policy = PrimalDualBwK()
    # arm 0 untried: upper 1, lower 0, priced at the time cost 0.5 only: 2; arm 1's mean is 0.1 over 10^6 plays
    s = spending(policy, [[0, 10**6]] * 3, [[0, 10**5]] * 3, [[0, 0]] * 3, rounds=10, rate=0.5)
    assert policy.select(s, None).tolist() == [0, 0, 0]


def test_primal_dual_time_cost_of_a_one_round_run_is_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_bounds(monkeypatch, [[0.5, 0.5]], [[0.0, 0.0]])
    policy = PrimalDualBwK(eta=1.0)
    s = spending(policy, [[0, 0]], [[0, 0]], [[0, 0]], rounds=1, rate=3.0)  # budget 3, time cost 3
    policy.select(s, None)
    assert s.prices is not None
    assert close(s.prices, [[1 / 9, 8 / 9]])  # [1, 2 ** 3] normalised


def test_primal_dual_breaks_ties_at_random(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_bounds(monkeypatch, [[0.5, 0.5]] * 400, [[0.2, 0.2]] * 400)
    policy = PrimalDualBwK()
    s = spending(policy, [[0, 0]] * 400, [[0, 0]] * 400, [[0, 0]] * 400, rounds=10, rate=0.5)
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    assert chosen.tolist() == np.argmax(replay.random((400, 2)), axis=1).tolist()
    assert 150 < int(chosen.sum()) < 250


# --- Thompson sampling with an LP ---------------------------------------------------------------------------------

def test_thompson_budget_draws_beta_posteriors_and_solves_the_lp_on_them(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy()
    monkeypatch.setattr(oracles, "budget_mix", spy)
    policy = ThompsonBudget()
    # sums beyond the counts and below 0 are clipped into [0, counts]; costs beyond the counts leave b = 1
    s = spending(policy, [[4, 2, 3]] * 2, [[5, -1, 1]] * 2, [[1, 3, 0]] * 2, rounds=10, rate=0.5)
    s.spent[:] = [1.0, 5.0]
    s.t = 2
    draws = iter([np.array([[0.6, 0.9, 0.1]] * 2), np.array([[0.2, 0.8, 0.9]] * 2)])
    asked: list[tuple[list[Any], list[Any]]] = []

    def beta(a: np.ndarray, b: np.ndarray, reps: Any = None) -> np.ndarray:
        assert reps is None
        asked.append((np.asarray(a).tolist(), np.asarray(b).tolist()))
        return next(draws)

    s.beta = beta  # type: ignore[method-assign]
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    assert asked == [([[5, 1, 2]] * 2, [[1, 3, 3]] * 2), ([[2, 4, 1]] * 2, [[4, 1, 4]] * 2)]
    (reward, cost, rate), = spy.calls
    assert reward.tolist() == [[0.6, 0.9, 0.1]] * 2 and cost.tolist() == [[0.2, 0.8, 0.9]] * 2
    assert rate.tolist() == pytest.approx([4.0 / 8, 0.0])
    # row 0: arm 0 (0.6 at cost 0.2) mixed with arm 1 (0.9 at 0.8), p = 0.3 / 0.6 = 0.5, value 0.75;
    # row 1 spent its budget: the null action 3
    u = replay.random(2)
    assert chosen.tolist() == [1 if u[0] < 0.5 else 0, 3]


def test_thompson_budget_runs_on_the_compiled_beta_streams() -> None:
    policy = ThompsonBudget()
    s = spending(policy, [[1000, 1000]], [[900, 100]], [[100, 100]], rounds=10, rate=1.0, seed=3)
    # arm 0 earns about 0.9 at cost 0.1, arm 1 about 0.1 at the same cost: the rate (1) affords either
    assert [int(policy.select(s, None)[0]) for _ in range(5)] == [0] * 5
