"""The compiled race on K-armed problems: the environment, the counting policies' decisions, and the loop over
every round of every repetition, in machine code, and run by threads over blocks of repetitions.

The environment, the feedback delays and the policy each draw from their own stream per repetition (rng.py),
seeded by the runner from the race's seed (and the policy's id), so every policy meets the same instances and the
same reward draws (common random numbers), and a repetition's numbers depend on nothing else: not on the number
of repetitions, threads or processes. The same kernels serve the step-by-step loop of runner.py (for policies
without a whole-race kernel, and for adapters around these ones) and the compiled race, which give the same
numbers.

A policy is a pair of compiled functions over per-arm counts, sums and means (R, K), each for one repetition r:
`choose(params, counts, sums, means, scratch, draws, r, t, horizon) -> arm` and `learn(params, counts, sums, means,
scratch, draws, r, arm, reward)`, `params` its hyperparameters as a float64 array and `scratch` (R, W) its own
working space, W >= K + 1 as the policy asks (columns :K a per-arm cache that a rewrite of the statistics marks
stale with -1, e.g. KL-UCB's indices; column K its own). A policy with W > K + 1 may leave a note on its decision in
column K + 1 (e.g. the chosen arm's probability), or in N columns from K + 1 when its start row holds -N there
(`note_columns`; e.g. every arm's probability): it travels with the observation, late or not, and is put back
there before `learn` reads it. Ties are broken uniformly at random every round (`consider`)."""

from __future__ import annotations

import functools
import math
import types
from typing import Any

import numpy as np

from banditmap.sim.kernels import jit, rng

BINARY, CONTINUOUS, HEAVY = 0, 1, 2  # reward kinds
STATIONARY, DRIFTING, ABRUPT, ADVERSARIAL = 0, 1, 2, 3  # dynamics
IMMEDIATE, DELAYED, BATCHED = 0, 1, 2  # feedback
REWARDS = {"binary": BINARY, "continuous": CONTINUOUS, "heavy_tailed": HEAVY}
DYNAMICS = {"stationary": STATIONARY, "drifting": DRIFTING, "abrupt": ABRUPT, "adversarial": ADVERSARIAL}
FEEDBACK = {"immediate": IMMEDIATE, "delayed": DELAYED, "batched": BATCHED}
SAFETY_DEFAULT = 0  # the arm a safety problem calls today's default


# --- the environment ------------------------------------------------------------------------------------------

@jit
def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@jit
def draw_instance(logits: np.ndarray, env: np.ndarray, r: int, reward: int, safety: bool) -> None:
    """Repetition r's arms: logits N(-2, 0.6) for click rates of a few percent to about 25%, otherwise means
    uniform in [0.2, 0.8]; on a safety problem the default arm is a decent one (70th percentile), not the best."""
    K = logits.shape[1]
    for k in range(K):
        if reward == BINARY:
            logits[r, k] = -2.0 + 0.6 * rng.normal(env, r)
        else:
            logits[r, k] = 0.2 + 0.6 * rng.uniform(env, r)
    if safety:
        order = np.argsort(logits[r])
        pick = order[int(0.7 * (K - 1))]
        logits[r, SAFETY_DEFAULT], logits[r, pick] = logits[r, pick], logits[r, SAFETY_DEFAULT]


@jit
def expected(logits: np.ndarray, mu: np.ndarray, r: int, reward: int) -> float:
    """Fill repetition r's expected rewards from its logits (the means themselves when rewards are not binary);
    returns the best of them."""
    top = -np.inf
    for k in range(logits.shape[1]):
        mu[r, k] = sigmoid(logits[r, k]) if reward == BINARY else logits[r, k]
        top = max(top, mu[r, k])
    return top


@jit
def move(logits: np.ndarray, recent: np.ndarray, env: np.ndarray, r: int, t: int, T: int, reward: int,
         dynamics: int) -> None:
    """The arms' means before round t: a random walk, a rotation of the arms at a quarter, half and three quarters
    of the run, or the arm played most in the last window trading its mean with the worst arm."""
    K = logits.shape[1]
    if dynamics == DRIFTING:
        scale = (1.5 if reward == BINARY else 0.3) / math.sqrt(T)
        for k in range(K):
            logits[r, k] += scale * rng.normal(env, r)
            if reward != BINARY:
                logits[r, k] = min(max(logits[r, k], 0.0), 1.0)
    elif dynamics == ABRUPT and (t == int(T * 0.25) or t == int(T * 0.5) or t == int(T * 0.75)):
        shift = 1 + rng.below(env, r, K - 1)
        rotated = np.empty(K)
        for k in range(K):
            rotated[k] = logits[r, (k + shift) % K]
        logits[r, :] = rotated
    elif dynamics == ADVERSARIAL and t > 0 and t % max(50, T // 20) == 0:
        favourite = int(np.argmax(recent[r]))
        worst = int(np.argmin(logits[r]))
        logits[r, favourite], logits[r, worst] = logits[r, worst], logits[r, favourite]
        recent[r, :] = 0.0


@jit
def draw_reward_step(mean: float, state: np.uint64, reward: int) -> tuple[float, np.uint64]:
    """A reward with the given mean: Bernoulli, Gaussian noise (sd 0.1), or log-normal (sigma 1: rare orders
    several times the average), from a stream's state held in a local; and the advanced state. Each kind draws
    the same number of values whatever the mean, so the draws stay common to every policy. (No array goes in: a
    kernel handed an array takes and drops a reference to it, two atomic operations, on every call.)"""
    if reward == BINARY:
        u, state = rng.uniform_step(state)
        return (1.0 if u < mean else 0.0), state
    x, _, state = rng.normal_and_uniform_step(state)
    if reward == CONTINUOUS:
        return mean + 0.1 * x, state
    return mean * math.exp(-0.5 + x), state


@jit
def draw_reward(mean: float, env: np.ndarray, r: int, reward: int) -> float:
    """draw_reward_step on repetition r's stream."""
    value, env[r] = draw_reward_step(mean, env[r], reward)
    return value


# --- decisions ------------------------------------------------------------------------------------------------

@jit
def consider(score: float, k: int, best: float, pick: int, ties: int, draws: np.ndarray,
             r: int) -> tuple[float, int, int]:
    """One step of an argmax over arms that breaks ties uniformly at random (reservoir sampling: a draw only when
    there is a tie): returns the new (best score, its arm, how many arms share it). In a loop over arms,
    `consider_step` on the stream's state in a local is faster: handed the states array, each step here takes and
    drops a reference to it (two atomic operations an arm)."""
    if score > best or pick < 0:
        return score, k, 1
    if score == best:
        ties += 1
        if rng.uniform(draws, r) * ties < 1.0:
            return best, k, ties
    return best, pick, ties


@jit
def consider_step(score: float, k: int, best: float, pick: int, ties: int,
                  state: np.uint64) -> tuple[float, int, int, np.uint64]:
    """`consider` on a stream's state held in a local (rng.uniform_step): the same choices from the same draws,
    and the advanced state. A new best is taken by selects, not a branch (which arm's draw is the largest so far
    is a coin the processor cannot predict), and only a tie draws."""
    better = score > best or pick < 0
    if score == best and not better:
        ties += 1
        u, state = rng.uniform_step(state)
        if u * ties < 1.0:
            pick = k
    pick = k if better else pick
    ties = 1 if better else ties
    best = score if better else best
    return best, pick, ties, state


@jit
def argmax(scores: np.ndarray, draws: np.ndarray, r: int) -> int:
    """A best entry of scores (K,), ties broken uniformly at random."""
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(scores.shape[0]):
        best, pick, ties, state = consider_step(scores[k], k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def argmax_rows(scores: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """A best entry of each row r of scores (R, K), ties broken as `consider` breaks them with stream r."""
    out = np.empty(scores.shape[0], np.int64)
    for r in range(scores.shape[0]):
        out[r] = argmax(scores[r], draws, r)
    return out


@jit
def greedy(means: np.ndarray, counts: np.ndarray, draws: np.ndarray, r: int) -> int:
    """An untried arm (chosen uniformly among them), else a best mean, ties at random."""
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(means.shape[1]):
        score = np.inf if counts[r, k] == 0.0 else means[r, k]
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def observations(counts: np.ndarray, r: int) -> float:
    """t of the confidence widths: the observations so far, at least 2 (so log t > 0). Summed entry by entry, as
    counts[r].sum() would, without its view of the row (whose reference is taken and dropped on every call)."""
    total = 0.0
    for k in range(counts.shape[1]):
        total += counts[r, k]
    return max(total, 2.0)


@jit
def learn_counts(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    counts[r, arm] += 1.0
    sums[r, arm] += reward
    means[r, arm] = sums[r, arm] / counts[r, arm]


@jit
def choose_uniform(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                   draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    return rng.below(draws, r, counts.shape[1])


@jit
def choose_epsilon_greedy(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                          scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: epsilon. With probability epsilon a uniform arm, otherwise an untried arm or a best mean."""
    if rng.uniform(draws, r) < params[0]:
        return rng.below(draws, r, counts.shape[1])
    return greedy(means, counts, draws, r)


@jit
def choose_softmax(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                   draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: tau. Untried arms first, then an arm with probability proportional to exp(mean / tau) (Gumbel-max)."""
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(counts.shape[1]):
        u, state = rng.uniform_step(state)
        gumbel = -math.log(-math.log(1.0 - u * (1.0 - 1e-16)))
        score = np.inf if counts[r, k] == 0.0 else means[r, k] / params[0] + gumbel
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def choose_ucb1(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: alpha. Untried arms first, then a largest mean + sqrt(alpha log t / n) (UCB1 is alpha = 2; Auer,
    Cesa-Bianchi & Fischer 2002)."""
    width = params[0] * math.log(observations(counts, r))
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(counts.shape[1]):
        n = counts[r, k]
        score = np.inf if n == 0.0 else means[r, k] + math.sqrt(width / n)
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def kl_upper(mean: float, budget: float) -> float:
    """The largest q >= mean with kl(mean, q) <= budget (Bernoulli KL): six halvings of the bracket between the
    mean and Pinsker's bound mean + sqrt(budget / 2), then two Newton steps from its upper end (within 1e-3 of the
    exact bound for budgets up to 0.2). The first step starts from the excess kl - budget at the upper end that a
    halving computed, when one moved it there (the same value: two logarithms of the eighteen fewer)."""
    eps = 1e-9
    p = min(max(mean, eps), 1.0 - eps)
    entropy = p * math.log(p) + (1.0 - p) * math.log(1.0 - p)
    low = p
    high = min(max(p + math.sqrt(budget / 2.0), p), 1.0 - eps)
    known, above = False, 0.0  # whether the excess at high is known, and its value
    for _ in range(6):
        middle = 0.5 * (low + high)
        excess = entropy - p * math.log(middle) - (1.0 - p) * math.log(1.0 - middle) - budget
        if excess > 0.0:
            high, known, above = middle, True, excess
        else:
            low = middle
    q = high
    for _ in range(2):
        slope = max((q - p) / (q * (1.0 - q)), eps)
        if not known:
            above = entropy - p * math.log(q) - (1.0 - p) * math.log(1.0 - q) - budget
        q = min(max(q - above / slope, low), high)
        known = False
    return q


REFRESH = 1.05  # KL-UCB recomputes every index once t has grown by 5% (log t then at most 0.05 short)


@jit
def choose_kl_ucb(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: c. Untried arms first, then a largest q with n kl(mean, q) <= log t + c log log t (Garivier & Cappe
    2011), the log log term held at 0 while log t < 1. scratch[r, :K] caches the indices, computed at t = scratch[r, K];
    an arm whose statistics changed has -1 there (see learn_kl_ucb; an index is a probability above 0)."""
    K = counts.shape[1]
    now = observations(counts, r)
    stale = now > scratch[r, K] * REFRESH
    if stale:
        scratch[r, K] = now
    log_t = math.log(scratch[r, K])
    exploration = log_t + params[0] * math.log(max(log_t, 1.0))
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(K):
        n = counts[r, k]
        if n == 0.0:
            score = np.inf
        else:
            if stale or scratch[r, k] < 0.0:
                scratch[r, k] = kl_upper(means[r, k], exploration / n)
            score = scratch[r, k]
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def learn_kl_ucb(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    learn_counts(params, counts, sums, means, scratch, draws, r, arm, reward)
    scratch[r, arm] = -1.0


@jit
def choose_moss(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """Untried arms first, then a largest mean + sqrt(max(log(n / (K T_a)), 0) / T_a), n the horizon (Audibert &
    Bubeck 2009). An index changes only with its arm's statistics: with a scratch of 2K + 2 columns it is kept in
    scratch[r, K + 2 + k] while scratch[r, k] is above 0 (learn_moss, or any rewrite of the statistics, marks it
    stale with -1), the same index without a logarithm and a square root per arm and round."""
    K = counts.shape[1]
    cached = scratch.shape[1] >= 2 * K + 2
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(K):
        n = counts[r, k]
        if n == 0.0:
            score = np.inf
        elif cached and scratch[r, k] > 0.0:
            score = scratch[r, K + 2 + k]
        else:
            score = means[r, k] + math.sqrt(max(math.log(max(horizon, 2) / (K * n)), 0.0) / n)
            if cached:
                scratch[r, K + 2 + k] = score
                scratch[r, k] = 1.0
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def learn_moss(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
               draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """The observation counted (learn_counts); the arm's kept index is stale."""
    learn_counts(params, counts, sums, means, scratch, draws, r, arm, reward)
    scratch[r, arm] = -1.0


@jit
def choose_thompson_beta(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: alpha0, beta0. A largest draw from each arm's Beta(alpha0 + successes, beta0 + failures) (Thompson
    1933; Agrawal & Goyal 2012), as X / (X + Y) of two Gamma draws. With a scratch of 2K + 2 columns, each arm's
    c = 1 / sqrt(9 d) of both Gamma shapes (at least 1) is kept until its counts change (scratch[r, k] and
    scratch[r, K + 2 + k]; 0 or -1: stale), the same draws without a square root and a division each. A draw is
    divided out only when it may be a best one (rng.ratio_below). The stream's state stays in a local for the 2K
    Gamma draws and the ties (rng.uniform_step)."""
    K = counts.shape[1]
    cached = scratch.shape[1] >= 2 * K + 2
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(K):
        a, b = params[0] + sums[r, k], params[1] + counts[r, k] - sums[r, k]
        if cached and a >= 1.0 and b >= 1.0:
            x, total, state = rng.kept_beta_parts_step(state, a, b, scratch, r, k, K + 2 + k)
        else:
            x, total, state = rng.beta_parts_step(state, a, b)
        if pick >= 0 and rng.ratio_below(x, total, best):
            continue
        best, pick, ties, state = consider_step(x / total, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def learn_bernoulli_trial(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                          scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """A reward in [0, 1] counts as a success with that probability (exact for 0/1 rewards; Agrawal & Goyal 2012)."""
    success = 1.0 if rng.uniform(draws, r) < min(max(reward, 0.0), 1.0) else 0.0
    learn_counts(params, counts, sums, means, scratch, draws, r, arm, success)


@jit
def learn_thompson_beta(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                        scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """A Bernoulli trial (learn_bernoulli_trial); the arm's kept Gamma constants are stale."""
    learn_bernoulli_trial(params, counts, sums, means, scratch, draws, r, arm, reward)
    scratch[r, arm] = -1.0


@jit
def choose_thompson_gaussian(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                             scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: prior mean, prior variance, noise variance. A largest draw from each arm's Gaussian posterior (the
    stream's state in a local for the K draws: rng.normal_and_uniform_step, the draws of rng.normal)."""
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(counts.shape[1]):
        precision = 1.0 / params[1] + counts[r, k] / params[2]
        centre = (params[0] / params[1] + sums[r, k] / params[2]) / precision
        x, _, state = rng.normal_and_uniform_step(state)
        score = centre + x / math.sqrt(precision)
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


# --- the race -------------------------------------------------------------------------------------------------

BOOKS = 6  # a repetition's running totals: regret, rounds with a best arm, tail reward, earned, default's, below


Totals = tuple[float, float, float, float, float, float]  # a repetition's BOOKS running totals, in that order
NO_TOTALS = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@jit
def tally(totals: Totals, value: float, top: float, default: float, t: int, tail_start: int, safety: bool,
          alpha: float) -> Totals:
    """Round t's share of a repetition's totals: regret, a best arm or not, the reward of the last 10% of rounds
    and, on safety problems, whether the running reward fell below (1 - alpha) times the default arm's. The
    K-armed race keeps the totals in locals (they stay in registers across rounds), the other races in an array
    (account)."""
    regret, best_rounds, tail_reward, earned, default_earned, below_rounds = totals
    regret += top - value
    if value >= top - 1e-12:
        best_rounds += 1.0
    if t >= tail_start:
        tail_reward += value
    if safety:
        earned += value
        default_earned += default
        if earned < (1.0 - alpha) * default_earned:
            below_rounds += 1.0
    return regret, best_rounds, tail_reward, earned, default_earned, below_rounds


@jit
def account(books: np.ndarray, value: float, top: float, default: float, t: int, tail_start: int, safety: bool,
            alpha: float) -> None:
    """tally on the totals kept in `books` (BOOKS,)."""
    totals = tally((books[0], books[1], books[2], books[3], books[4], books[5]), value, top, default, t, tail_start,
                   safety, alpha)
    for i in range(BOOKS):
        books[i] = totals[i]


@jit
def checkpoint(books: np.ndarray, points: np.ndarray, curve: np.ndarray, r: int, t: int, column: int) -> int:
    """Record the regret after round t when t + 1 is the next of the curve's points; the next column."""
    if column < points.shape[0] and points[column] == t + 1:
        curve[r, column] = books[0]
        return column + 1
    return column


@jit
def settle_totals(totals: Totals, r: int, T: int, tail_start: int, final: np.ndarray, tail: np.ndarray,
                  optimal: np.ndarray, below: np.ndarray) -> None:
    """Repetition r's results from its totals after T rounds: regret, the share of rounds on a best arm, the mean
    reward of the last 10% of rounds and the share of rounds below the safety level."""
    final[r] = totals[0]
    optimal[r] = totals[1] / T
    tail[r] = totals[2] / (T - tail_start)
    below[r] = totals[5] / T


@jit
def settle(books: np.ndarray, r: int, T: int, tail_start: int, final: np.ndarray, tail: np.ndarray,
           optimal: np.ndarray, below: np.ndarray) -> None:
    """settle_totals on the totals kept in `books` (BOOKS,)."""
    settle_totals((books[0], books[1], books[2], books[3], books[4], books[5]), r, T, tail_start, final, tail,
                  optimal, below)


@jit
def arrival(feedback: int, delays: np.ndarray, r: int, t: int, mean_delay: float, batch: int) -> int:
    """The round at which round t's observation becomes visible: a geometric delay, or the end of its batch."""
    if feedback == DELAYED:
        return t + rng.geometric(delays, r, 1.0 / mean_delay)
    return (t // batch + 1) * batch


@jit
def censor(at: int, t: int, observed: float, window: int) -> tuple[int, float]:
    """What round t's play reports, and when, where conversions may never come (`window` not 0; `at` the round its
    conversion would arrive, `observed` 1 if it converts). window > 0, a policy that counts a play with no
    conversion within `window` rounds as a failure: the conversion when it comes within the window, else a failure
    at the window's end (a later conversion is lost); window < 0, a policy taking conversions as they come: the
    conversion when it comes, and nothing for a play that does not convert (round -1). window 0: as drawn."""
    if window == 0 or (observed > 0.0 and (window < 0 or at - t <= window)):
        return at, observed
    if window < 0:
        return -1, 0.0
    return t + window, 0.0


@jit
def note_columns(start: np.ndarray, K: int) -> int:
    """How many columns from K + 1 a policy's note on a decision takes, by its scratch row before round 0 (W,): none
    in a row K + 1 wide, N where the row holds -N in column K + 1 (its first decision writes over it), else one."""
    if start.shape[0] <= K + 1:
        return 0
    return int(-start[K + 1]) if start[K + 1] < 0.0 else 1


@jit
def grow(queue: np.ndarray) -> np.ndarray:
    """The queue's entries, with room for as many again."""
    return np.concatenate((queue, np.empty_like(queue)))


@jit
def due(queue_at: np.ndarray, queued: int, now: int) -> int:
    """The first queued entry visible at round `now`, or -1."""
    for i in range(queued):
        if queue_at[i] <= now:
            return i
    return -1


@jit
def drop(queue_at: np.ndarray, queue_arm: np.ndarray, queue_reward: np.ndarray, i: int, queued: int) -> int:
    """Remove entry i, keeping the others in order; the new count. Entries may be rows (a list's items and
    clicks, kernels/lists.py), moved element by element over flat views: an array assigned to a row would compile
    numba's shape check, whose message formatting costs about 2 s of a cold start."""
    arm, reward = queue_arm.reshape(queue_arm.size), queue_reward.reshape(queue_reward.size)
    a, b = arm.size // queue_arm.shape[0], reward.size // queue_reward.shape[0]
    for j in range(i, queued - 1):
        queue_at[j] = queue_at[j + 1]
    for j in range(i * a, (queued - 1) * a):
        arm[j] = arm[j + a]
    for j in range(i * b, (queued - 1) * b):
        reward[j] = reward[j + b]
    return queued - 1


def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, K: int, start: np.ndarray,
         T: int, reward: int, dynamics: int, feedback: int, mean_delay: float, batch: int, censoring: int,
         safety: bool, alpha: float, points: np.ndarray, curve: np.ndarray, final: np.ndarray, tail: np.ndarray,
         optimal: np.ndarray, below: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
         scratch: np.ndarray, mu: np.ndarray) -> None:
    """One policy's whole race over R = len(env) repetitions: env, delays and draws are the streams (R,) of the
    environment, the feedback delays and the policy (advanced in place). Fills the regret curve at `points`
    (1-based rounds) (R, P), the final regret, the mean expected reward over the last 10% of rounds, the share
    of rounds with a best arm and, on safety problems, the share of rounds whose running reward fell below
    (1 - alpha) times the default arm's (all (R,)); `start` is the policy's scratch row (W,) before round 0.
    The policy's counts, sums and means (R, K), its scratch (R, W) and the arms' expected rewards (R, K) are left
    as they are after the last round (e.g. for the arm a policy would name as best). `censoring` is the window
    of `censor` (0: every reward arrives, a failure too).
    Every step draws from the streams in the order of the step-by-step loop (`draw_instances`,
    `environment_step`, `step_choose`, `step_learn`), so both give the same numbers."""
    R = env.shape[0]
    logits = np.empty((R, K))
    recent = np.zeros((R, K))
    notes = note_columns(start, K)  # the policy's note on a decision travels with its observation
    tail_start = T - max(1, T // 10)
    P = points.shape[0]
    late = feedback != IMMEDIATE
    # late feedback: each round's play (its arm, report and note, and the next play arriving in the same round),
    # and the first and last play arriving in each round: queued and delivered in O(1) a report (no room needed,
    # and none cleared each repetition, when every report comes at once)
    span = T if late else 0
    play_arm, following = np.empty(span, np.int64), np.empty(span, np.int64)
    play_reward, play_note = np.empty(span), np.empty(span * notes)
    first, last = np.empty(span + 2, np.int64), np.empty(span + 2, np.int64)
    for r in range(R):
        scratch[r] = start
        counts[r] = 0.0
        sums[r] = 0.0
        means[r] = 0.0
        draw_instance(logits, env, r, reward, safety)
        top = expected(logits, mu, r, reward)
        first[:] = -1  # feedback not yet delivered, by the round it arrives at (a list of plays in each)
        last[:] = -1
        # the repetition's running totals in locals (tally), which stay in registers across rounds, and the round
        # whose regret is the curve's next point (`checkpoint`)
        totals = NO_TOTALS
        column = 0
        point = points[0] - 1 if P > 0 else -1
        for t in range(T):
            if dynamics != STATIONARY:
                move(logits, recent, env, r, t, T, reward, dynamics)
                top = expected(logits, mu, r, reward)
            arm = choose(params, counts, sums, means, scratch, draws, r, t, T)
            value = mu[r, arm]
            totals = tally(totals, value, top, mu[r, SAFETY_DEFAULT], t, tail_start, safety, alpha)
            if dynamics == ADVERSARIAL:
                recent[r, arm] += 1.0
            observed, env[r] = draw_reward_step(value, env[r], reward)
            if t == point:
                curve[r, column] = totals[0]
                column += 1
                point = points[column] - 1 if column < P else -1
            if not late:
                learn(params, counts, sums, means, scratch, draws, r, arm, observed)
                continue
            at, observed = censor(arrival(feedback, delays, r, t, mean_delay, batch), t, observed, censoring)
            if 0 <= at <= T:  # a report due after the last round is never learnt
                play_arm[t], play_reward[t], following[t] = arm, observed, -1
                for j in range(notes):
                    play_note[t * notes + j] = scratch[r, K + 1 + j]
                if last[at] < 0:
                    first[at] = t
                else:
                    following[last[at]] = t
                last[at] = t
            i = first[t + 1]  # deliver what arrives at round t + 1 (all that is due: every delay is a round at
            while i >= 0:  # least), in the order it was queued, as the step-by-step loop does
                for j in range(notes):
                    scratch[r, K + 1 + j] = play_note[i * notes + j]
                learn(params, counts, sums, means, scratch, draws, r, play_arm[i], play_reward[i])
                i = following[i]
        settle_totals(totals, r, T, tail_start, final, tail, optimal, below)


# --- the same steps for all repetitions at once (the step-by-step loop of runner.py) ----------------------------

@jit
def draw_instances(logits: np.ndarray, mu: np.ndarray, env: np.ndarray, reward: int, safety: bool) -> np.ndarray:
    """Every repetition's arms (R, K) and their best expected reward (R,)."""
    top = np.empty(logits.shape[0])
    for r in range(logits.shape[0]):
        draw_instance(logits, env, r, reward, safety)
        top[r] = expected(logits, mu, r, reward)
    return top


@jit
def environment_step(logits: np.ndarray, mu: np.ndarray, top: np.ndarray, recent: np.ndarray, env: np.ndarray,
                     t: int, T: int, reward: int, dynamics: int, actions: np.ndarray, value: np.ndarray,
                     observed: np.ndarray) -> None:
    """Round t for every repetition: move the arms, then the expected reward of each chosen arm (value) and the
    reward drawn for it (observed), (R,) each; `top` is kept at the best expected reward."""
    for r in range(logits.shape[0]):
        if dynamics != STATIONARY:
            move(logits, recent, env, r, t, T, reward, dynamics)
            top[r] = expected(logits, mu, r, reward)
        arm = actions[r]
        value[r] = mu[r, arm]
        if dynamics == ADVERSARIAL:
            recent[r, arm] += 1.0
        observed[r] = draw_reward(value[r], env, r, reward)


@jit
def delays_of(delays: np.ndarray, t: int, mean_delay: float) -> np.ndarray:
    """The round at which each repetition's observation of round t arrives (geometric delays with the mean)."""
    out = np.empty(delays.shape[0], np.int64)
    for r in range(delays.shape[0]):
        out[r] = t + rng.geometric(delays, r, 1.0 / mean_delay)
    return out


@jit
def censor_all(at: np.ndarray, t: int, observed: np.ndarray, window: int) -> None:
    """`censor` for every repetition (R,), in place: a report never made gets round -1."""
    for r in range(at.shape[0]):
        at[r], observed[r] = censor(at[r], t, observed[r], window)


def step_choose_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, t: int, horizon: int) -> np.ndarray:
    actions = np.empty(counts.shape[0], np.int64)
    for r in range(counts.shape[0]):
        actions[r] = choose(params, counts, sums, means, scratch, draws, r, t, horizon)
    return actions


def step_learn_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                        scratch: np.ndarray, draws: np.ndarray, reps: np.ndarray, arms: np.ndarray,
                        rewards: np.ndarray, notes: np.ndarray) -> None:
    width = notes.shape[0] // max(reps.shape[0], 1)  # each decision's note, `width` columns (note_columns)
    for i in range(reps.shape[0]):
        for j in range(width):  # the notes (N width,) of the decisions observed, put back where learn reads them
            scratch[reps[i], counts.shape[1] + 1 + j] = notes[i * width + j]
        learn(params, counts, sums, means, scratch, draws, reps[i], arms[i], rewards[i])


def choose(*args: Any) -> int:  # pragma: no cover - replaced in each policy's race by its own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each policy's race by its own learn
    raise NotImplementedError


def bind(template: Any, name: str, nogil: bool = False, namespace: dict[str, Any] | None = None,
         **kernels: Any) -> Any:
    """`template` compiled with its free names (choose, learn) bound to the given kernels, under its own name, so
    numba caches each binding on disk apart (a closure would not do: numba keys a cached closure by the identity
    of what it closes over, which changes in every process); with nogil, it releases the GIL while it runs, so
    threads can run it on blocks of repetitions at once (compiled.by_repetitions)."""
    scope = dict(globals() if namespace is None else namespace, **kernels)  # the template module's names
    function = types.FunctionType(template.__code__, scope, name)
    function.__qualname__ = name
    return jit(function, nogil=nogil)


def kernel(name: str) -> Any:
    """A policy's kernel by name: here, among the other K-armed policies' (kernels/policies.py), or an adapter's
    template bound to a base's kernels (`queue_choose<choose_kl_ucb|learn_kl_ucb>`, kernels/wrappers.py)."""
    if "<" in name:
        from banditmap.sim.kernels import wrappers
        return wrappers.composite(name)
    if name in globals():
        return globals()[name]
    from banditmap.sim.kernels import policies
    return getattr(policies, name)


def named(prefix: str, *names: str) -> str:
    """The name a binding is compiled and cached under: the kernels' names joined, or their digest when one is a
    composite's (not an identifier)."""
    from banditmap.sim.kernels import wrappers
    joined = "_".join((prefix, *names))
    return joined if joined.isidentifier() else wrappers.symbol(f"{prefix}<{'|'.join(names)}>")


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """The whole race of one policy as one compiled function (compiled once, then cached on disk), for any block of
    repetitions: run in threads over blocks (compiled.by_repetitions), it gives the numbers of one call over all
    (each repetition draws from its own streams)."""
    return bind(race, named("race", choose_name, learn_name), nogil=True, choose=kernel(choose_name),
                learn=kernel(learn_name))


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """One policy's decisions for all repetitions, and its learning from a batch of observations (flat arrays
    reps, arms, rewards, learnt in their order)."""
    return (bind(step_choose_template, named("step", choose_name), choose=kernel(choose_name)),
            bind(step_learn_template, named("step", learn_name), learn=kernel(learn_name)))
