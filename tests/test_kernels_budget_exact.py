"""The budget world and policies of sim/kernels/budget.py checked by hand: the budget LP against scipy's linprog
over many random, degenerate and infeasible LPs; the world's rounds (acting while the budget lasts, the null
action, common draws, the LP's support); the confidence radius sqrt(gamma mean / n) + gamma / n of Badanidiyuru et
al. and Agrawal and Devanur and the bounds built from it; the budget left per round left; the null action once the
budget is gone; the bookkeeping of rewards, costs and spend; UCB-BwK's LP on the bounds, PrimalDualBwK's
multiplicative resource prices and Thompson sampling's LP on Beta draws, each replayed on a copy of the policy's
stream; and the compiled race, which gives the step-by-step loop's numbers exactly."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from stubs import close, small_problem

from banditmap.errors import BanditmapError
from banditmap.sim import compiled, oracles
from banditmap.sim.environments import Budgeted
from banditmap.sim.kernels import arms, budget, rng
from banditmap.sim.policies import Feedback, build
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.budget import (
    BUDGET,
    BudgetPolicy,
    PrimalDualBwK,
    Spending,
    ThompsonBudget,
    UCBBwK,
)
from banditmap.sim.problem import Problem, problem_from_answers
from banditmap.sim.runner import RunSpec, run


def problem(arms_: int = 3, reps: int = 1, rounds: int = 10, rate: float = 0.5, **fields: Any) -> Problem:
    return small_problem("budget", n_arms=arms_, rounds=rounds, reps=reps, constraint="budget", budget_rate=rate,
                         **fields)


def spending(policy: BudgetPolicy, counts: Any, sums: Any, cost_sums: Any, rounds: int = 10, rate: float = 0.5,
             seed: int = 0) -> Spending:
    c = np.atleast_2d(np.asarray(counts, float))
    s = policy.init(problem(c.shape[1], c.shape[0], rounds, rate), np.random.default_rng(seed))
    s.counts[:], s.sums[:] = c, np.atleast_2d(np.asarray(sums, float))
    s.means[:] = np.where(c > 0, s.sums / np.maximum(c, 1), 0.0)
    s.cost_sums[:] = np.atleast_2d(np.asarray(cost_sums, float))
    return s


def lp(reward: Any, cost: Any, rate: float) -> np.ndarray:
    out = np.empty(4)
    budget.budget_lp(np.asarray(reward, float), np.asarray(cost, float), rate, out)
    return out


# --- the LP -------------------------------------------------------------------------------------------------------

def test_the_lp_on_hand_made_cases() -> None:
    # arm 0 pays best but costs 1, arm 1 is cheap: a quarter on arm 0 spends exactly 0.4 and earns 0.35
    assert close(lp([0.5, 0.3, 0.1], [1.0, 0.2, 0.0], 0.4), [0.35, 1, 0, 0.25])
    # an affordable best arm is played alone
    assert lp([0.5, 0.3], [0.3, 0.9], 0.4).tolist() == [0.5, 0, 0, 0.0]
    # nothing affordable: the null action (index 2) mixed with the better value per cost, 0.4 / 0.8 of arm 1
    assert close(lp([0.5, 0.6], [1.0, 0.8], 0.4), [0.3, 2, 1, 0.5])
    # rate 0: only the null action; a negative rate: infeasible (value -inf)
    assert lp([0.5, 0.6], [1.0, 0.8], 0.0).tolist() == [0.0, 2, 2, 0.0]
    assert lp([0.5, 0.6], [1.0, 0.8], -0.1)[0] == -np.inf
    # a tie between a single arm and a pair keeps the single arm; between two singles, the first
    assert lp([0.5, 0.5], [0.4, 0.4], 0.4).tolist() == [0.5, 0, 0, 0.0]


def scipy_value(reward: np.ndarray, cost: np.ndarray, rate: float) -> float:
    """The LP by the HiGHS solver: max r.p s.t. c.p <= rate, sum p <= 1 (the null action takes the rest), p >= 0."""
    optimize = pytest.importorskip("scipy.optimize")
    K = len(reward)
    result = optimize.linprog(-reward, A_ub=np.vstack([cost, np.ones(K)]), b_ub=[rate, 1.0], bounds=[(0, None)] * K,
                              method="highs")
    return -float(result.fun) if result.status == 0 else -np.inf if result.status == 2 else np.nan


def test_the_lp_matches_linprog_on_random_degenerate_and_infeasible_lps() -> None:
    generator = np.random.default_rng(17)
    cases = 0
    for trial in range(1500):
        K = int(generator.integers(1, 9))
        reward, cost = generator.random(K), generator.random(K)
        rate = float(generator.random())
        kind = trial % 6
        if kind == 1:  # degenerate: costs and rewards on a coarse grid (ties), some costs exactly the rate
            reward, cost = generator.integers(0, 4, K) / 4, generator.integers(0, 5, K) / 4
            rate = float(generator.integers(0, 5)) / 4
        elif kind == 2:  # every arm above the rate
            cost = rate + 0.01 + generator.random(K)
        elif kind == 3:  # every arm affordable
            cost = rate * generator.random(K)
        elif kind == 4:  # negative rewards (the null action wins) or a zero rate
            reward, rate = reward - 0.7, float(rate * (trial % 2))
        elif kind == 5:  # infeasible: a negative rate
            rate = -0.05 - rate
        out = lp(reward, cost, rate)
        expected = scipy_value(reward, cost, rate)
        if expected == -np.inf:
            assert out[0] == -np.inf, (reward, cost, rate)
            continue
        cases += 1
        assert abs(out[0] - expected) < 1e-9, (reward, cost, rate, out, expected)
        # the solution is a feasible mix of at most two actions (index K: the null one) that earns its value
        low, high, p = int(out[1]), int(out[2]), out[3]
        r, c = np.r_[reward, 0.0], np.r_[cost, 0.0]
        assert 0.0 <= p <= 1.0 and (p > 0.0 or low == high)
        assert (1 - p) * c[low] + p * c[high] <= rate + 1e-12
        assert abs((1 - p) * r[low] + p * r[high] - out[0]) < 1e-12
    assert cases > 1200


def test_oracles_budget_mix_is_the_kernel_row_by_row() -> None:
    generator = np.random.default_rng(5)
    reward, cost, rate = generator.random((30, 5)), generator.random((30, 5)), generator.random(30)
    mix = oracles.budget_mix(reward, cost, rate)
    for r in range(30):
        assert [mix.value[r], mix.low[r], mix.high[r], mix.p_high[r]] == lp(reward[r], cost[r], rate[r]).tolist()
    assert mix.low.dtype == np.int64 and mix.high.dtype == np.int64
    scalar = oracles.budget_mix(reward, cost, 0.3)
    assert scalar.value.tolist() == [lp(reward[r], cost[r], 0.3)[0] for r in range(30)]


# --- the world ----------------------------------------------------------------------------------------------------

def test_a_world_draws_arms_as_on_k_arms_then_costs_then_solves_the_lp() -> None:
    p = problem(arms_=4, reps=3, rounds=100, rate=0.25)
    world = Budgeted(p, np.random.default_rng(2))
    states = rng.states_from(np.random.default_rng(2), 3)
    logits, mu = np.empty((3, 4)), np.empty((3, 4))
    for r in range(3):
        arms.draw_instance(logits, states, r, arms.BINARY, False)
        arms.expected(logits, mu, r, arms.BINARY)
        costs = [0.1 + 0.9 * rng.uniform(states, r) for _ in range(4)]
        assert world.mu[r].tolist() == mu[r].tolist() and world.cost_means[r].tolist() == costs
        assert world.lp[r].tolist() == lp(mu[r], costs, 0.25).tolist()
    assert world.budget == 25.0 and world.spent.tolist() == [0.0] * 3 and world.states.tolist() == states.tolist()
    assert world.parameters()["lp_value_per_round"] == round(world.lp[0, 0], 4)


def test_a_world_round_acts_while_the_budget_lasts_and_draws_a_reward_and_a_cost_every_round() -> None:
    p = problem(arms_=2, reps=4, rounds=4, rate=0.5)  # budget 2
    world = Budgeted(p, np.random.default_rng(0))
    world.set_arms(np.array([[0.3, 0.9]] * 4), np.array([[0.5, 1.0]] * 4))
    # arm 0 alone earns 0.3; arm 1 (cost 1) half the time, the null action (2) otherwise, 0.45: the LP's mix
    assert world.lp.tolist() == [[0.45, 2, 1, 0.5]] * 4
    world.spent[:] = [0.0, 0.0, 2.0, 1.5]  # repetition 2's budget is gone
    replay = world.states.copy()
    u = [[rng.uniform(replay, r) for _ in range(2)] for r in range(4)]  # the reward's uniform, then the cost's
    outcome = world.step(0, np.array([1, 2, 1, 0]), None)
    # 0 plays arm 1; 1 the null action; 2 cannot act; 3 plays arm 0 (outside the LP's support)
    assert outcome.value.tolist() == [0.9, 0.0, 0.0, 0.3]
    assert outcome.observation.tolist() == [float(u[0][0] < 0.9), 0.0, 0.0, float(u[3][0] < 0.3)]
    assert outcome.cost is not None
    assert outcome.cost.tolist() == [1.0, 0.0, 0.0, float(u[3][1] < 0.5)]
    assert world.spent.tolist() == [1.0, 0.0, 2.0, 1.5 + float(u[3][1] < 0.5)]
    assert outcome.optimal.tolist() == [True, True, False, False] and outcome.best.tolist() == [0.45] * 4
    assert world.states.tolist() == replay.tolist()  # two draws each, acting or not


def test_a_world_never_overspends() -> None:
    p = problem(arms_=3, reps=10, rounds=2000, rate=0.25)
    world = Budgeted(p, np.random.default_rng(1))
    for t in range(p.rounds):
        world.step(t, np.zeros(p.reps, dtype=np.int64), None)  # always the same arm
    # costs are 0 or 1 and a repetition acts only while under its (whole) budget: it stops at the budget exactly
    assert np.all(world.spent <= p.budget) and (world.spent == p.budget).sum() >= 5


# --- declarations and state ---------------------------------------------------------------------------------------

def test_registry_kinds_and_hyperparameters() -> None:
    assert (REGISTRY["ucb-bwk"], REGISTRY["bwk-primal-dual"], REGISTRY["ts-pricing-inventory"]) == (
        UCBBwK, PrimalDualBwK, ThompsonBudget)
    assert BUDGET == frozenset({"budget"})
    for cls, choose in ((UCBBwK, "choose_ucb_bwk"), (PrimalDualBwK, "choose_primal_dual"),
                        (ThompsonBudget, "choose_thompson_budget")):
        assert cls.kinds == frozenset({"budget"}) and cls.choose == choose and cls.learn == "learn_budget"
    assert UCBBwK().alpha == 1.0 and PrimalDualBwK().eta == 0.1
    assert UCBBwK(alpha=0.0).alpha == 0.0 and PrimalDualBwK(eta=1.0).eta == 1.0
    assert UCBBwK(alpha=0.5).params().tolist() == [0.5] and ThompsonBudget().params().tolist() == []
    with pytest.raises(BanditmapError, match="PrimalDualBwK.eta"):
        PrimalDualBwK(eta=0.0)
    with pytest.raises(BanditmapError, match="UCBBwK.alpha"):
        UCBBwK(alpha=-0.1)


def test_init_holds_zero_costs_and_spend_the_run_budget_and_equal_prices() -> None:
    s = UCBBwK().init(problem(arms_=3, reps=2, rounds=10, rate=0.5), np.random.default_rng(0))
    assert isinstance(s, Spending)
    assert s.scratch.tolist() == [[0, 0, 0, 0, 5.0, 1.0, 1.0]] * 2
    assert s.cost_sums.shape == (2, 3) and s.spent.shape == (2,) and s.budget.tolist() == [5.0, 5.0]
    assert s.prices.tolist() == [[1.0, 1.0]] * 2
    assert (s.R, s.K, s.horizon, s.t) == (2, 3, 10, 0)
    assert s.draws.tolist() == rng.states_from(np.random.default_rng(0), 2).tolist()
    # Thompson sampling keeps four Gamma constants per arm besides, stale (0) until drawn
    t = ThompsonBudget().init(problem(arms_=3, reps=2, rounds=10, rate=0.5), np.random.default_rng(0))
    assert t.scratch.tolist() == [[0, 0, 0, 0, 5.0, 1.0, 1.0] + [0.0] * 12] * 2


# --- the radius and the bounds ------------------------------------------------------------------------------------

def test_radius_is_sqrt_gamma_mean_over_n_plus_gamma_over_n() -> None:
    # 0.25 / 4: sqrt(1/16) + 1/4; 0.25 / 16: 1/8 + 1/16; 0.36 / 1: 0.6 + 1; negative mean: 0 + 1/4; n = 0 as 1
    cases = [(0.25, 4.0), (0.25, 16.0), (0.36, 1.0), (-0.5, 4.0), (0.5, 0.0)]
    assert [budget.radius(m, n, 1.0) for m, n in cases] == pytest.approx(
        [0.5, 0.1875, 1.6, 0.25, math.sqrt(0.5) + 1.0], rel=1e-15)
    # gamma = 0.25: sqrt(0.25 * 0.64 / 4) + 0.25 / 4 = 0.2 + 0.0625
    assert budget.radius(0.64, 4.0, 0.25) == pytest.approx(0.2625, rel=1e-15)


def bounds(s: Spending, gamma: float, r: int = 0) -> tuple[list[float], list[float]]:
    upper, lower = np.empty(s.K), np.empty(s.K)
    budget.bounds(s.counts, s.means, s.scratch, r, gamma, upper, lower)
    return upper.tolist(), lower.tolist()


def test_bounds_are_optimistic_for_rewards_and_costs_and_clipped() -> None:
    # arm 0 untried; arm 1: 4 plays, mean 0.25, cost 0.64; arm 2: 1 play, mean 0.36, cost 1; arm 3: 16 plays,
    # mean 1, cost 0
    s = spending(UCBBwK(), [[0, 4, 1, 16]], [[0, 1.0, 0.36, 16]], [[0, 2.56, 1.0, 0]])
    upper, lower = bounds(s, 0.25)
    # radius(m, n, 0.25) = sqrt(0.25 m / n) + 0.25 / n
    assert close(upper, [1.0, 0.25 + 0.125 + 0.0625, 0.36 + 0.3 + 0.25, 1.0])
    assert close(lower, [0.0, 0.64 - 0.2 - 0.0625, 1.0 - 0.5 - 0.25, 0.0])
    # untried arms are 1 and 0 whatever gamma; a tried one: 0.5 + sqrt(0.01 * 0.5 / 100) + 0.0001 and
    # 0.1 - sqrt(0.01 * 0.1 / 100) - 0.0001
    s = spending(UCBBwK(), [[0, 100]], [[0, 50]], [[0, 10]])
    upper, lower = bounds(s, 0.01)
    assert close(upper, [1.0, 0.5 + math.sqrt(5e-5) + 1e-4]) and close(lower, [0.0, 0.1 - math.sqrt(1e-5) - 1e-4])


def test_rate_is_budget_left_per_round_left() -> None:
    s = spending(UCBBwK(), [[0, 0]] * 3, [[0, 0]] * 3, [[0, 0]] * 3, rounds=10, rate=1.0)  # budget 10
    s.spent[:] = [4.0, 12.0, 10.0]
    assert [budget.rate(s.scratch, r, 2, 7, 10) for r in range(3)] == [2.0, 0.0, 0.0]  # 6 / 3, none, none
    assert [budget.rate(s.scratch, r, 2, 9, 10) for r in range(3)] == [6.0, 0.0, 0.0]  # one round left
    assert [budget.rate(s.scratch, r, 2, 10, 10) for r in range(3)] == [6.0, 0.0, 0.0]  # none left: as if one


def test_decide_plays_the_null_action_once_the_budget_is_spent() -> None:
    s = spending(UCBBwK(), [[0, 0]] * 3, [[0, 0]] * 3, [[0, 0]] * 3, rounds=10, rate=1.0)
    s.spent[:] = [9.99, 10.0, 11.0]
    assert [budget.decide(s.scratch, r, 2, c) for r, c in enumerate([1, 0, 1])] == [1, 2, 2]


# --- learning -----------------------------------------------------------------------------------------------------

def test_update_adds_rewards_and_costs_of_real_arms_and_all_spend() -> None:
    policy = UCBBwK()
    s = policy.init(problem(arms_=2, reps=2), np.random.default_rng(0))
    # repetition 0 plays arm 1 twice and arm 0 once; repetition 1 plays the null action (2), then arm 1
    feedback = Feedback(np.array([0, 0, 1, 0, 1]), np.array([1, 1, 2, 0, 1]), np.array([1.0, 0.0, 0.0, 1.0, 1.0]),
                        None, costs=np.array([0.5, 0.25, 0.0, 0.125, 0.75]))
    policy.update(s, feedback)
    assert s.counts.tolist() == [[1, 2], [0, 1]]
    assert s.sums.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    assert s.means.tolist() == [[1.0, 0.5], [0.0, 1.0]]
    assert s.cost_sums.tolist() == [[0.125, 0.75], [0.0, 0.75]]
    assert s.spent.tolist() == [0.875, 0.75]


def test_thompson_learning_makes_the_arms_kept_gamma_constants_stale() -> None:
    policy = ThompsonBudget()
    s = policy.init(problem(arms_=2, reps=1), np.random.default_rng(0))
    s.scratch[0, 6:] = np.arange(1.0, 9.0)  # reward a, b and cost a, b constants of arms 0 and 1
    policy.update(s, Feedback(np.array([0]), np.array([1]), np.array([1.0]), None, costs=np.array([1.0])))
    assert s.scratch[0, 6:].tolist() == [1.0, 0.0, 3.0, 0.0, 5.0, 0.0, 7.0, 0.0]
    policy.update(s, Feedback(np.array([0]), np.array([2]), np.array([0.0]), None, costs=np.array([0.0])))
    assert s.scratch[0, 6:].tolist() == [1.0, 0.0, 3.0, 0.0, 5.0, 0.0, 7.0, 0.0]  # the null action: no arm's


def test_recommend_takes_the_best_reward_per_cost_with_costs_floored_at_a_thousandth() -> None:
    policy = UCBBwK()
    # row 0: arm 0 mean 0.6 cost 0.5 (1.2); arm 1 mean 0.0015 cost 0 (0.0015 / 0.001 = 1.5); arm 2 untried (0)
    # row 1: arm 0 mean 0.6 cost 0.2 (3.0) beats arm 1 (1.5)
    s = spending(policy, [[1, 2, 0], [1, 2, 0]], [[0.6, 0.003, 0], [0.6, 0.003, 0]], [[0.5, 0, 0], [0.2, 0, 0]])
    assert policy.recommend(s).tolist() == [1, 0]
    # the cost rate is the cost sum over the plays: arm 0 (2 plays, mean 0.6, cost rate 0.25: 2.4) beats arm 1
    # (1 play, 0.5 / 0.5 = 1.0)
    s = spending(policy, [[2, 1]], [[1.2, 0.5]], [[0.5, 0.5]])
    assert policy.recommend(s).tolist() == [0]


# --- UCB-BwK ------------------------------------------------------------------------------------------------------

def test_ucb_bwk_solves_the_lp_on_bounds_with_gamma_alpha_log_k_horizon() -> None:
    policy = UCBBwK(alpha=0.5)
    # 2 repetitions, 3 arms, 40 rounds, budget 20; many plays so the bounds are close to the means
    s = spending(policy, [[10000] * 3] * 2, [[6000, 9000, 1000]] * 2, [[2000, 8000, 9000]] * 2, rounds=40, rate=0.5)
    s.spent[:] = [4.0, 20.0]
    s.t = 8
    replay = s.draws.copy()
    chosen = policy.select(s, None)
    upper, lower = bounds(s, 0.5 * math.log(3 * 40))
    expected = []
    for r, rate in ((0, 16.0 / 32), (1, 0.0)):
        noisy = [u + rng.uniform(replay, r) * 1e-9 for u in upper]
        solution = lp(noisy, lower, rate)
        expected.append(int(solution[2]) if rng.uniform(replay, r) < solution[3] else int(solution[1]))
        if r == 0:  # arm 0 (cheap) mixed with arm 1 (above the rate 0.5)
            assert (solution[1], solution[2]) == (0, 1) and 0 < solution[3] < 1
    assert expected[1] == 3  # row 1 is out of budget: the LP at rate 0 plays the null action too
    assert chosen.tolist() == [expected[0], 3] and s.draws.tolist() == replay.tolist()


def test_ucb_bwk_plays_an_affordable_arm_it_is_sure_of() -> None:
    policy = UCBBwK(alpha=0.0)  # no exploration: the bounds are the means
    s = spending(policy, [[10, 10, 10]], [[3, 9, 5]], [[1, 9, 4]], rounds=10, rate=0.5)
    # rate 0.5 (budget 5 over 10 rounds); means and costs: arm 0 (0.3, 0.1), arm 1 (0.9, 0.9), arm 2 (0.5, 0.4).
    # Arm 2 alone earns 0.5; arm 0 mixed with arm 1 at p = (0.5 - 0.1) / 0.8 = 0.5 earns 0.3 + 0.5 * 0.6 = 0.6;
    # arm 2 with arm 1 at p = 0.1 / 0.5 = 0.2 earns 0.5 + 0.2 * 0.4 = 0.58: the mix (0, 1) at p = 0.5
    replay = s.draws.copy()
    chosen = policy.select(s, None)
    for _ in range(3):
        rng.uniform(replay, 0)  # the tie noise
    assert chosen.tolist() == [1 if rng.uniform(replay, 0) < 0.5 else 0]


# --- PrimalDualBwK ------------------------------------------------------------------------------------------------

def test_primal_dual_prices_start_equal_and_grow_with_lower_bound_spend() -> None:
    policy = PrimalDualBwK(eta=0.5)
    # arm 0 untried (upper 1, lower 0); arm 1: 10^6 plays, mean 0.1, cost 0.5
    s = spending(policy, [[0, 10**6]] * 2, [[0, 10**5]] * 2, [[0, 5 * 10**5]] * 2, rounds=10, rate=0.5)  # budget 5
    s.spent[:] = [0.0, 5.0]
    replay = s.draws.copy()
    chosen = policy.select(s, None)
    gamma = math.log(2 * 10)
    lower = 0.5 - (math.sqrt(gamma * 0.5 / 10**6) + gamma / 10**6)
    # time cost 5 / 10 = 0.5; priced = lower + 0.5: arm 0 scores 1 / 0.5 = 2, arm 1 about 0.1 / 1: arm 0; row 1
    # chose it too, but its budget is spent: the null action 2
    assert chosen.tolist() == [0, 2]
    row = np.array([1.5 ** 0.0, 1.5 ** 0.5])  # arm 0's lower bound is 0: the budget's price stays
    assert close(s.prices, [(row / row.sum()).tolist()] * 2)
    for r in range(2):  # two noise draws each, nothing else
        rng.uniform(replay, r), rng.uniform(replay, r)
    assert s.draws.tolist() == replay.tolist()
    # a second decision: the prices are those of the first; arm 1 chosen now grows the budget's price by its
    # lower bound
    s.counts[:, 0], s.sums[:, 0], s.means[:, 0], s.cost_sums[:, 0] = 10**6, 0.0, 0.0, 0.0
    before = s.prices.copy()
    assert policy.select(s, None).tolist() == [1, 2]
    row = before[0] * np.array([1.5 ** lower, 1.5 ** 0.5])
    assert close(s.prices[0], (row / row.sum()).tolist())


def test_primal_dual_prices_weigh_lower_cost_and_time() -> None:
    policy = PrimalDualBwK(eta=0.25)
    # two arms with 10^6 plays: means 0.9 and 0.6, costs 0.5 and 0
    s = spending(policy, [[10**6] * 2] * 2, [[9 * 10**5, 6 * 10**5]] * 2, [[5 * 10**5, 0]] * 2, rounds=10, rate=0.5)
    gamma = math.log(2 * 10)
    upper = [min(m + math.sqrt(gamma * m / 10**6) + gamma / 10**6, 1.0) for m in (0.9, 0.6)]
    lower = [max(c - math.sqrt(gamma * c / 10**6) - gamma / 10**6, 0.0) for c in (0.5, 0.0)]
    s.prices[:] = [[0.2, 0.8], [0.8, 0.2]]
    # row 0: priced = 0.2 lower + 0.4 = [~0.5, 0.4] -> [~1.8, ~1.5]: arm 0
    # row 1: priced = 0.8 lower + 0.1 = [~0.5, 0.1] -> [~1.8, ~6.0]: arm 1
    assert policy.select(s, None).tolist() == [0, 1]
    assert upper[0] / (0.2 * lower[0] + 0.4) > upper[1] / 0.4
    row0 = np.array([0.2 * 1.25 ** lower[0], 0.8 * 1.25 ** 0.5])
    row1 = np.array([0.8 * 1.25 ** 0.0, 0.2 * 1.25 ** 0.5])
    assert close(s.prices, [(row0 / row0.sum()).tolist(), (row1 / row1.sum()).tolist()])


def test_primal_dual_time_cost_of_a_one_round_run_is_the_budget() -> None:
    policy = PrimalDualBwK(eta=1.0)
    s = spending(policy, [[0, 0]], [[0, 0]], [[0, 0]], rounds=1, rate=3.0)  # budget 3, time cost 3
    policy.select(s, None)
    assert close(s.prices, [[1 / 9, 8 / 9]])  # [1, 2 ** 3] normalised


def test_primal_dual_breaks_ties_at_random() -> None:
    policy = PrimalDualBwK()
    s = spending(policy, [[0, 0]] * 400, [[0, 0]] * 400, [[0, 0]] * 400, rounds=10, rate=0.5)
    replay = s.draws.copy()
    chosen = policy.select(s, None)
    noise = [[rng.uniform(replay, r) for _ in range(2)] for r in range(400)]
    assert chosen.tolist() == np.argmax(noise, axis=1).tolist()
    assert 150 < int(chosen.sum()) < 250


# --- Thompson sampling with an LP ---------------------------------------------------------------------------------

def test_thompson_budget_draws_beta_posteriors_and_solves_the_lp_on_them() -> None:
    policy = ThompsonBudget()
    # sums beyond the counts and below 0 are clipped into [0, counts]; costs beyond the counts leave b = 1
    s = spending(policy, [[4, 2, 3]] * 2, [[5, -1, 1]] * 2, [[1, 3, 0]] * 2, rounds=10, rate=0.5)
    s.spent[:] = [1.0, 5.0]
    s.t = 2
    replay = s.draws.copy()
    chosen = policy.select(s, None)
    for r, rate in ((0, 4.0 / 8), (1, 0.0)):
        # float shapes, as the policy's kernel passes them (int ones would compile a second beta for this test)
        reward = [rng.beta(replay, r, float(a), float(b)) for a, b in ((5, 1), (1, 3), (2, 3))]
        cost = [rng.beta(replay, r, float(a), float(b)) for a, b in ((2, 4), (4, 1), (1, 4))]
        solution = lp(reward, cost, rate)
        pick = int(solution[2]) if rng.uniform(replay, r) < solution[3] else int(solution[1])
        assert chosen[r] == (pick if r == 0 else 3)
    assert s.draws.tolist() == replay.tolist()
    # the Gamma constants kept: 1 / sqrt(9 (shape - 1/3)) of each shape, in the order reward a, b, cost a, b
    shapes = [5, 1, 2, 1, 3, 3, 2, 4, 1, 4, 1, 4]
    assert close(s.scratch[0, 7:], [1 / math.sqrt(9 * (a - 1 / 3)) for a in shapes])


def test_thompson_budget_draws_the_same_with_constants_kept_or_not() -> None:
    policy = ThompsonBudget()
    s = spending(policy, [[7, 2, 3]], [[5, 1, 1]], [[1, 2, 0]], rounds=50, rate=0.2)
    first = [int(policy.select(s, None)[0]) for _ in range(20)]  # kept after the first draw
    s = spending(policy, [[7, 2, 3]], [[5, 1, 1]], [[1, 2, 0]], rounds=50, rate=0.2)
    again = []
    for _ in range(20):
        s.scratch[:, 7:] = 0.0  # stale every time: made afresh
        again.append(int(policy.select(s, None)[0]))
    assert first == again and len(set(first)) > 1


# --- the race -----------------------------------------------------------------------------------------------------

POLICIES = ["ts-pricing-inventory", "ucb-bwk", "bwk-primal-dual", "uniform-random"]


def looped(problem: Problem, generator: np.random.Generator) -> Budgeted:
    """The budget world, given as if it were a test's, so that the runner takes the step-by-step loop."""
    return Budgeted(problem, generator)


@pytest.mark.parametrize("reward", ["binary", "continuous"])
@pytest.mark.parametrize("simulator", POLICIES)
def test_the_compiled_race_gives_the_loops_numbers_exactly(simulator: str, reward: str) -> None:
    answers = {"constraints": "budget", "n_actions": 5, "reward_type": reward}
    p = problem_from_answers(answers, rounds=400, reps=4)
    spec = RunSpec(simulator, simulator, build(simulator, {}, simulator))
    assert compiled.covers(spec.policy, p)
    fast, slow = run(spec, p, 3), run(spec, p, 3, environment=looped)
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.below_baseline is None and slow.below_baseline is None
    assert fast.final_regret.shape == (4,) and np.all(fast.optimal <= 1.0)


def test_a_repetitions_numbers_do_not_depend_on_the_others() -> None:
    spec = RunSpec("ts-pricing-inventory", "ts", build("ts-pricing-inventory", {}, "ts"))
    answers = {"constraints": "budget", "n_actions": 4}
    five = run(spec, problem_from_answers(answers, rounds=300, reps=5), 1)
    two = run(spec, problem_from_answers(answers, rounds=300, reps=2), 1)
    assert np.array_equal(five.regret[:2], two.regret) and np.array_equal(five.optimal[:2], two.optimal)


def test_the_race_covers_budget_policies_and_kernel_baselines_with_feedback_at_once() -> None:
    from banditmap.sim.adapters import build_wrapper
    p = problem_from_answers({"constraints": "budget", "n_actions": 4}, rounds=50, reps=2)
    for simulator in POLICIES:
        policy = build(simulator, {}, simulator)
        assert compiled.covers(policy, p)
        late = problem_from_answers({"constraints": "budget", "n_actions": 4, "feedback_delay": "delayed"},
                                    rounds=50, reps=2)
        assert not compiled.covers(policy, late)
    queued = build_wrapper("delay-queue", build("ucb-bwk", {}, "ucb-bwk"), {}, "delay-queue")
    assert not compiled.covers(queued, p)
    assert not compiled.covers(build("ucb-bwk", {}, "x"), problem_from_answers({"n_actions": 4}, rounds=50, reps=2))
