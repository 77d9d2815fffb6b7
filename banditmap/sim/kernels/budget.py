"""Bandits with knapsacks, compiled: the budget LP, the budget world (every arm earns and spends, and a repetition
stops acting once its budget is spent) and the budget policies' decisions, for the whole-race kernel and the
step-by-step loop alike (both call these kernels and give the same numbers).

A budget policy's kernels take the K-armed signature (kernels/arms.py) with the round's cost after the reward:
`learn(params, counts, sums, means, scratch, draws, r, arm, reward, cost)`; its scratch row (W = K + 4) holds the
per-arm cost sums (:K), the spend (K), the run's budget (K + 1) and the primal-dual resource prices of the budget
and of time (K + 2, K + 3), then what a policy keeps besides (Thompson sampling's Gamma constants). Action K is the null action: skip the round, earn and spend nothing."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, rng

VALUE, LOW, HIGH, P_HIGH = 0, 1, 2, 3  # a solution row of the budget LP: play HIGH with probability P_HIGH, else LOW
SPENT, BUDGET, PRICE_BUDGET, PRICE_TIME = 0, 1, 2, 3  # scratch columns after the K per-arm cost sums
WIDTH = 4  # scratch columns past the K cost sums


# --- the budget LP --------------------------------------------------------------------------------------------

@jit
def budget_lp(reward: np.ndarray, cost: np.ndarray, rate: float, out: np.ndarray) -> None:
    """max sum_a p_a r_a  s.t.  sum_a p_a c_a <= rate,  sum_a p_a = 1,  p >= 0, over the K arms of reward and
    cost (K,) and a free null action K (reward and cost 0); the solution into out (4,): value, low, high, p_high.

    Every vertex of this feasible set puts weight on at most two actions: one affordable action alone (cost within
    the rate), or an affordable one i mixed with one above the rate j at p_j = (rate - c_i) / (c_j - c_i), spending
    exactly the rate. All are scored, the first best in the order (i, j) row-major wins, and a pair only when it
    beats every single action; value -inf when nothing is affordable (a negative rate: the LP is infeasible)."""
    K = reward.shape[0]
    single, single_value = 0, -np.inf
    for j in range(K + 1):
        c = cost[j] if j < K else 0.0
        v = (reward[j] if j < K else 0.0) if c <= rate else -np.inf
        if v > single_value:
            single, single_value = j, v
    low, high, pair_p, pair_value = 0, 0, 0.0, -np.inf
    for i in range(K + 1):
        c_i = cost[i] if i < K else 0.0
        if c_i > rate:
            continue
        r_i = reward[i] if i < K else 0.0
        for j in range(K):  # the null action costs nothing: never above the rate
            if cost[j] <= rate:
                continue
            p = (rate - c_i) / (cost[j] - c_i)
            v = r_i + p * (reward[j] - r_i)
            if v > pair_value:
                low, high, pair_p, pair_value = i, j, p, v
    if pair_value > single_value:
        out[VALUE], out[LOW], out[HIGH], out[P_HIGH] = pair_value, low, high, pair_p
    else:
        out[VALUE], out[LOW], out[HIGH], out[P_HIGH] = single_value, single, single, 0.0


@jit
def budget_lp_rows(reward: np.ndarray, cost: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """budget_lp for every row of reward and cost (R, K) at its rate (R,): the solutions (R, 4)."""
    out = np.empty((reward.shape[0], 4))
    for r in range(reward.shape[0]):
        budget_lp(reward[r], cost[r], rate[r], out[r])
    return out


@jit
def play(lp: np.ndarray, draws: np.ndarray, r: int) -> int:
    """An action drawn from the LP's solution (4,): high with probability p_high, else low."""
    return int(lp[HIGH]) if rng.uniform(draws, r) < lp[P_HIGH] else int(lp[LOW])


# --- the world ------------------------------------------------------------------------------------------------

@jit
def draw_world(logits: np.ndarray, mu: np.ndarray, costs: np.ndarray, lp: np.ndarray, env: np.ndarray, r: int,
               reward: int, rate: float) -> None:
    """Repetition r's arms: expected rewards as on K arms (arms.draw_instance), expected costs uniform in
    [0.1, 1], and the budget LP on them at the budget rate (lp[r]: the benchmark every round is held to)."""
    # bool(): a bool as the K-armed world hands it; the constant is a type of its own to numba (one more compile)
    arms.draw_instance(logits, env, r, reward, bool(False))  # noqa: UP018
    arms.expected(logits, mu, r, reward)
    for k in range(mu.shape[1]):
        costs[r, k] = 0.1 + 0.9 * rng.uniform(env, r)
    budget_lp(mu[r], costs[r], rate, lp[r])


@jit
def world_round(mu: np.ndarray, costs: np.ndarray, lp: np.ndarray, spent: np.ndarray, budget: float, env: np.ndarray,
                r: int, reward: int, arm: int) -> tuple[float, float, float, bool]:
    """Repetition r plays `arm`: it acts while its spend is under the budget and the arm is not the null action.
    Returns the expected reward earned (0 when not acting), the reward observed and the cost spent (a Bernoulli
    draw with the arm's expected cost; both 0 when not acting) and whether the action is in the LP's support
    while the budget lasts. A reward and a cost are drawn every round, acting or not, so the draws stay common to
    every policy."""
    K = mu.shape[1]
    active = spent[r] < budget
    acts = active and arm < K
    a = min(arm, K - 1)
    value = mu[r, a] if acts else 0.0
    observed = arms.draw_reward(value, env, r, reward)
    paid = rng.uniform(env, r) < costs[r, a]
    if not acts:
        observed, paid = 0.0, False
    cost = 1.0 if paid else 0.0
    spent[r] += cost
    low, high, p = int(lp[r, LOW]), int(lp[r, HIGH]), lp[r, P_HIGH]
    optimal = active and ((arm == low and p < 1.0) or (arm == high and p > 0.0))
    return value, observed, cost, optimal


@jit
def draw_worlds(logits: np.ndarray, mu: np.ndarray, costs: np.ndarray, lp: np.ndarray, env: np.ndarray, reward: int,
                rate: float) -> None:
    """Every repetition's world (draw_world)."""
    for r in range(mu.shape[0]):
        draw_world(logits, mu, costs, lp, env, r, reward, rate)


@jit
def world_step(mu: np.ndarray, costs: np.ndarray, lp: np.ndarray, spent: np.ndarray, budget: float, env: np.ndarray,
               reward: int, actions: np.ndarray, value: np.ndarray, observed: np.ndarray, cost: np.ndarray,
               optimal: np.ndarray) -> None:
    """A round of every repetition (world_round) into value, observed, cost and optimal (R,)."""
    for r in range(mu.shape[0]):
        value[r], observed[r], cost[r], optimal[r] = world_round(mu, costs, lp, spent, budget, env, r, reward,
                                                                 actions[r])


# --- the budget policies' decisions ---------------------------------------------------------------------------

@jit
def radius(mean: float, n: float, gamma: float) -> float:
    """The confidence radius of Badanidiyuru et al. and Agrawal and Devanur: sqrt(gamma mean / n) + gamma / n,
    narrow for rare events such as clicks, where a Hoeffding radius would be needlessly wide (n at least 1)."""
    n = max(n, 1.0)
    return math.sqrt(gamma * max(mean, 0.0) / n) + gamma / n


@jit
def bounds(counts: np.ndarray, means: np.ndarray, scratch: np.ndarray, r: int, gamma: float, upper: np.ndarray,
           lower: np.ndarray) -> None:
    """Upper bounds on the reward rates and lower bounds on the cost rates (K,) of repetition r (1 and 0 for an
    untried arm), each clipped into [0, 1]."""
    for k in range(counts.shape[1]):
        n = counts[r, k]
        if n == 0.0:
            upper[k], lower[k] = 1.0, 0.0
        else:
            cost = scratch[r, k] / n
            upper[k] = min(means[r, k] + radius(means[r, k], n, gamma), 1.0)
            lower[k] = max(cost - radius(cost, n, gamma), 0.0)


@jit
def rate(scratch: np.ndarray, r: int, K: int, t: int, horizon: int) -> float:
    """Budget left per round left: spending at this rate uses the budget up exactly at the horizon."""
    return float(max(scratch[r, K + BUDGET] - scratch[r, K + SPENT], 0.0) / max(horizon - t, 1))


@jit
def decide(scratch: np.ndarray, r: int, K: int, chosen: int) -> int:
    """The chosen arm while the policy's budget lasts, the null action K once it is spent."""
    return chosen if scratch[r, K + SPENT] < scratch[r, K + BUDGET] else K


@jit
def choose_ucb_bwk(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                   draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: alpha. UCB-BwK (Agrawal and Devanur 2014): the budget LP on upper bounds of the rewards (plus tie
    noise below 1e-9) and lower bounds of the costs, gamma = alpha log(K horizon), at the rate of budget left per
    round left; a draw from its solution."""
    K = counts.shape[1]
    upper, lower, lp = np.empty(K), np.empty(K), np.empty(4)
    bounds(counts, means, scratch, r, params[0] * math.log(K * horizon), upper, lower)
    for k in range(K):
        upper[k] += rng.uniform(draws, r) * 1e-9
    budget_lp(upper, lower, rate(scratch, r, K, t, horizon), lp)
    return decide(scratch, r, K, play(lp, draws, r))


@jit
def choose_primal_dual(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                       scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: eta. PrimalDualBwK (Badanidiyuru, Kleinberg and Slivkins 2013): two resources, the budget and time
    (budget / horizon a round); the arm with the best upper-bound reward per priced lower-bound cost (gamma =
    log(K horizon), tie noise below 1e-9), then each price grows by (1 + eta) to the decision's (lower-bound)
    spend of it, and both are divided by their sum (only their ratio matters)."""
    K = counts.shape[1]
    upper, lower = np.empty(K), np.empty(K)
    bounds(counts, means, scratch, r, math.log(K * horizon), upper, lower)
    time_cost = scratch[r, K + BUDGET] / max(horizon, 1)
    price, price_time = scratch[r, K + PRICE_BUDGET], scratch[r, K + PRICE_TIME]
    chosen, best = 0, -np.inf
    for k in range(K):
        score = upper[k] / (lower[k] * price + time_cost * price_time) + rng.uniform(draws, r) * 1e-9
        if k == 0 or score > best:
            chosen, best = k, score
    price *= (1.0 + params[0]) ** lower[chosen]
    price_time *= (1.0 + params[0]) ** time_cost
    total = price + price_time
    scratch[r, K + PRICE_BUDGET], scratch[r, K + PRICE_TIME] = price / total, price_time / total
    return decide(scratch, r, K, chosen)


@jit
def choose_thompson_budget(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                           scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """Thompson sampling with an LP (Ferreira, Simchi-Levi and Wang 2018, re-solving with the inventory left):
    each arm's reward rate from Beta(1 + successes, 1 + failures) (sums clipped into [0, n]), then each cost rate
    from Beta(1 + cost sum, 1 + max(n - cost sum, 0)); the budget LP on the draws at the rate of budget left per
    round left; a draw from its solution. The Beta draws are rng.kept_beta's (the same draws as rng.beta), their
    Gamma constants kept in scratch columns K + 4 on (4K of them: a width of 5K + 4), stale (0) once the arm's
    counts change (learn_budget)."""
    K = counts.shape[1]
    reward, cost, lp = np.empty(K), np.empty(K), np.empty(4)
    kept = K + WIDTH  # each arm's Gamma constants (reward a, b, then cost a, b), kept until its counts change
    for k in range(K):
        n = counts[r, k]
        won = min(max(sums[r, k], 0.0), n)
        reward[k] = rng.kept_beta(draws, r, 1.0 + won, 1.0 + n - won, scratch, kept + k, kept + K + k)
    for k in range(K):
        n, paid = counts[r, k], scratch[r, k]
        cost[k] = rng.kept_beta(draws, r, 1.0 + paid, 1.0 + max(n - paid, 0.0), scratch, kept + 2 * K + k,
                                kept + 3 * K + k)
    budget_lp(reward, cost, rate(scratch, r, K, t, horizon), lp)
    return decide(scratch, r, K, play(lp, draws, r))


@jit
def learn_budget(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, reward: float, cost: float) -> None:
    """A real arm's reward and cost join its statistics (and its kept Gamma constants, if any, are stale); every
    round's cost joins the spend (the null action's is 0)."""
    K = counts.shape[1]
    if arm < K:
        arms.learn_counts(params, counts, sums, means, scratch, draws, r, arm, reward)
        scratch[r, arm] += cost
        if scratch.shape[1] > K + WIDTH:  # Thompson sampling's kept Gamma constants of the arm are stale
            for column in range(K + WIDTH + arm, K + WIDTH + 4 * K, K):
                scratch[r, column] = 0.0
    scratch[r, K + SPENT] += cost


def learn_without_costs_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                                 scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, reward: float,
                                 cost: float) -> None:
    """A K-armed policy's learn (e.g. the uniform baseline's) in the budget world: the cost is not its concern."""
    base(params, counts, sums, means, scratch, draws, r, arm, reward)


def base(*args: Any) -> None:  # pragma: no cover - replaced in each binding by a K-armed learn
    raise NotImplementedError


# --- the race -------------------------------------------------------------------------------------------------

def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, K: int, start: np.ndarray,
         T: int, reward: int, budget_rate: float, budget: float, points: np.ndarray, curve: np.ndarray,
         final: np.ndarray, tail: np.ndarray, optimal: np.ndarray) -> None:
    """One policy's whole race on the budget world over R = len(env) repetitions, feedback at once (`delays` is
    not drawn from): env and draws are the streams (R,) of the world and the policy, `start` the policy's scratch
    row (W,). Fills the regret against the LP's value at `points` (1-based rounds) (R, P), the final regret, the
    mean expected reward over the last 10% of rounds and the share of rounds in the LP's support (R,) each.
    Every step draws from the streams in the order of the step-by-step loop (`draw_worlds`, `step_choose`,
    `world_step`, `step_learn`), so both give the same numbers."""
    R = env.shape[0]
    logits, mu, costs = np.empty((R, K)), np.empty((R, K)), np.empty((R, K))
    lp, spent = np.empty((R, 4)), np.zeros(R)
    counts, sums, means = np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K))
    scratch = np.empty((R, start.shape[0]))
    tail_start = T - max(1, T // 10)
    for r in range(R):
        scratch[r] = start
        draw_world(logits, mu, costs, lp, env, r, reward, budget_rate)
        regret, hits, late, column = 0.0, 0.0, 0.0, 0
        for t in range(T):
            arm = choose(params, counts, sums, means, scratch, draws, r, t, T)
            value, observed, cost, best = world_round(mu, costs, lp, spent, budget, env, r, reward, arm)
            regret += lp[r, VALUE] - value
            if best:
                hits += 1.0
            if t >= tail_start:
                late += value
            if column < points.shape[0] and points[column] == t + 1:
                curve[r, column] = regret
                column += 1
            learn(params, counts, sums, means, scratch, draws, r, arm, observed, cost)
        final[r], optimal[r], tail[r] = regret, hits / T, late / (T - tail_start)


def step_learn_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                        scratch: np.ndarray, draws: np.ndarray, reps: np.ndarray, actions: np.ndarray,
                        rewards: np.ndarray, costs: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(params, counts, sums, means, scratch, draws, reps[i], actions[i], rewards[i], costs[i])


def choose(*args: Any) -> int:  # pragma: no cover - replaced in each policy's race by its own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each policy's race by its own learn
    raise NotImplementedError


def kernel(name: str) -> Any:
    """A budget policy's kernel by name here, else a K-armed policy's (arms.kernel)."""
    return globals()[name] if name in globals() else arms.kernel(name)


@functools.cache
def spending_learn(learn_name: str) -> Any:
    """The learn kernel the budget race and steps call: a budget policy's own (`learn_budget`), or a K-armed
    policy's learn bound into a kernel that takes the cost and leaves it."""
    if learn_name in globals():
        return globals()[learn_name]
    return arms.bind(learn_without_costs_template, arms.named("costless", learn_name), namespace=globals(),
                     base=arms.kernel(learn_name))


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """One policy's whole race on the budget world, compiled once (then cached on disk), for any block of
    repetitions (each draws from its own streams, so blocks in threads give the numbers of one call)."""
    return arms.bind(race, arms.named("budget_race", choose_name, learn_name), nogil=True, namespace=globals(),
                     choose=kernel(choose_name), learn=spending_learn(learn_name))


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """A budget policy's decisions for all repetitions, and its learning from a batch of observations (flat
    arrays reps, arms, rewards, costs, learnt in their order)."""
    return (arms.bind(arms.step_choose_template, arms.named("budget_step", choose_name),  # a K-armed decision
                      choose=kernel(choose_name)),
            arms.bind(step_learn_template, arms.named("budget_step", learn_name), namespace=globals(),
                      learn=spending_learn(learn_name)))
