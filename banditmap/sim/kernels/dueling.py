"""The compiled race on dueling problems: the world (options with utilities, duels won by a linear Bradley-Terry
model), the dueling policies' decisions (Relative UCB, double Thompson sampling, the uniform pair) and the loop
over every round of every repetition, in machine code, and run by threads over blocks of repetitions.

A dueling policy's statistics are the win matrix W (R, K, K), W[r, i, j] the duels option i won against j, and a
scratch row (R, S) of its own (column 0 RUCB's hypothesised best option; after it what the policy keeps, as
wide as it asks). A policy is a pair of compiled functions, each for one repetition r:
`choose(params, wins, scratch, draws, r, t, horizon) -> (first, second)` and `learn(params, wins, scratch, draws, r,
first, second, won)`, won = 1 when the first option won. The world, the feedback delays and the policy draw from
their own stream per repetition (rng.py), as on K arms (arms.py), and the step-by-step loop of runner.py calls the
same kernels one round at a time (`world_step`, `make_steps`), so both give the same numbers. Ties are broken
uniformly at random every round (arms.consider)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, rng
from banditmap.sim.kernels.arms import bind, consider, consider_step

CHAMPION = 0  # the scratch column of RUCB's hypothesised best option (-1: none)


# --- the world --------------------------------------------------------------------------------------------------

@jit
def draw_utilities(u: np.ndarray, env: np.ndarray, r: int) -> float:
    """Repetition r's options: utilities u (K,) from Beta(2, 2), most near the middle of [0, 1]; returns the best."""
    top = -np.inf
    for k in range(u.shape[1]):
        u[r, k] = rng.beta(env, r, 2.0, 2.0)
        top = max(top, u[r, k])
    return top


@jit
def duel(u: np.ndarray, env: np.ndarray, r: int, first: int, second: int) -> float:
    """1 when the first option wins, which it does with probability (1 + u_first - u_second) / 2 (a linear
    Bradley-Terry model: the best option is a Condorcet winner); one uniform draw whatever the pair."""
    return 1.0 if rng.uniform(env, r) < (1.0 + u[r, first] - u[r, second]) / 2.0 else 0.0


@jit
def value(u: np.ndarray, r: int, first: int, second: int) -> float:
    """The value of a pair, the mean utility of its options: with the best utility as the optimum, regret is the
    dueling regret of Yue et al. (2012), eps(best, i) + eps(best, j) with eps(b, i) = P(b beats i) - 1/2."""
    mean: float = (u[r, first] + u[r, second]) / 2.0
    return mean


@jit
def draw_worlds(u: np.ndarray, env: np.ndarray) -> np.ndarray:
    """Every repetition's utilities (R, K) and the best of them (R,)."""
    top = np.empty(u.shape[0])
    for r in range(u.shape[0]):
        top[r] = draw_utilities(u, env, r)
    return top


@jit
def world_step(u: np.ndarray, env: np.ndarray, actions: np.ndarray, values: np.ndarray,
               observed: np.ndarray) -> None:
    """One round for every repetition: the value of each pair shown (actions (R, 2)) and who won (R,) each."""
    for r in range(u.shape[0]):
        values[r] = value(u, r, actions[r, 0], actions[r, 1])
        observed[r] = duel(u, env, r, actions[r, 0], actions[r, 1])


# --- preferences ------------------------------------------------------------------------------------------------

@jit
def preference(wins: np.ndarray, r: int, i: int, j: int, spread: float) -> tuple[float, float, float]:
    """The estimate of P[i beats j], W_ij / N_ij with N_ij = W_ij + W_ji, and its upper and lower confidence
    bounds, the estimate +- sqrt(spread / N_ij) with spread = alpha log t (Zoghi et al. 2014); 1/2, 1 and 0
    while i and j never met, and 1/2 for all three on the diagonal."""
    if i == j:
        return 0.5, 0.5, 0.5
    n = wins[r, i, j] + wins[r, j, i]
    if n <= 0.0:
        return 0.5, 1.0, 0.0
    p = wins[r, i, j] / n
    width = math.sqrt(spread / n)
    return p, p + width, p - width


@jit
def spread_at(alpha: float, t: int) -> float:
    """alpha log t of the confidence widths, t the decisions made so far, at least 2 (so log t > 0)."""
    return alpha * math.log(max(t, 2))


@jit
def learn_wins(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, first: int,
               second: int, won: float) -> None:
    """The duel counts for its winner: W[first, second] += won, W[second, first] += 1 - won (a shared win splits);
    an option against itself teaches nothing."""
    if first != second:
        wins[r, first, second] += won
        wins[r, second, first] += 1.0 - won


# --- the uniform pair -------------------------------------------------------------------------------------------

@jit
def choose_uniform_pair(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, t: int,
                        horizon: int) -> tuple[int, int]:
    """Two distinct options uniformly at random: the first of K, the second of the K - 1 others."""
    K = wins.shape[1]
    first = rng.below(draws, r, K)
    return first, (first + 1 + rng.below(draws, r, K - 1)) % K


# --- Relative UCB -----------------------------------------------------------------------------------------------
# Scratch: the hypothesised best option B (column 0, -1: none), then whether each option is a candidate (K).

@jit
def choose_rucb(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, t: int,
                horizon: int) -> tuple[int, int]:
    """params: alpha. Relative UCB (Zoghi et al. 2014, Algorithm 1): the candidates C are the options whose upper
    bound on beating every other is at least 1/2. With none, the champion is any option at random and B is
    forgotten; with one, it is the champion and B; otherwise B, when still a candidate, is kept as champion with
    probability 1/2, else the champion is drawn uniformly from the other candidates (from all of them when B is
    no candidate, which forgets B). The challenger has the highest upper bound on beating the champion (the
    champion's own is 1/2), ties at random."""
    K = wins.shape[1]
    spread = spread_at(params[0], t)
    count = 0
    lone = -1
    for i in range(K):
        candidate = 1.0
        for j in range(K):
            if preference(wins, r, i, j, spread)[1] < 0.5:
                candidate = 0.0
                break
        scratch[r, 1 + i] = candidate
        if candidate > 0.0:
            count += 1
            lone = i
    kept = int(scratch[r, CHAMPION])
    keep = kept >= 0 and scratch[r, 1 + kept] > 0.0
    if count == 0:
        champion, kept = rng.below(draws, r, K), -1
    elif count == 1:
        champion, kept = lone, lone
    elif keep and rng.uniform(draws, r) < 0.5:
        champion = kept
    else:
        if not keep:
            kept = -1
        nth = rng.below(draws, r, count - 1 if keep else count)
        champion = -1
        for i in range(K):
            if scratch[r, 1 + i] > 0.0 and i != kept:
                if nth == 0:
                    champion = i
                    break
                nth -= 1
    scratch[r, CHAMPION] = kept
    best, challenger, ties, state = -np.inf, -1, 0, draws[r]
    for j in range(K):
        best, challenger, ties, state = consider_step(preference(wins, r, j, champion, spread)[1], j, best,
                                                      challenger, ties, state)
    draws[r] = state
    return champion, challenger


# --- double Thompson sampling -----------------------------------------------------------------------------------
# Scratch: column 0 unused, then each option's optimistic Copeland score (K), its Copeland score in the posterior
# sample (K), then each entry W_ij's Gamma constant c = 1 / sqrt(9 (W_ij + 2/3)) (K x K, row-major; 0 or -1: stale).

@jit
def gamma_of(wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, i: int, j: int) -> float:
    """A Gamma(W_ij + 1) draw (Marsaglia & Tsang), its constant c kept in the scratch row until W_ij changes."""
    K = wins.shape[1]
    column = 1 + 2 * K + i * K + j
    d = wins[r, i, j] + 1.0 - 1.0 / 3.0
    if scratch[r, column] <= 0.0:
        scratch[r, column] = 1.0 / math.sqrt(9.0 * d)
    return rng.gamma_from(draws, r, d, scratch[r, column])


@jit
def preference_draw(wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, i: int, j: int) -> float:
    """A posterior draw of P[i beats j] from Beta(W_ij + 1, W_ji + 1), as X / (X + Y) of two Gamma draws."""
    x = gamma_of(wins, scratch, draws, r, i, j)
    return x / (x + gamma_of(wins, scratch, draws, r, j, i))


@jit
def choose_double_ts(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, t: int,
                     horizon: int) -> tuple[int, int]:
    """params: alpha. Double Thompson sampling (Wu & Liu 2016, Algorithm 1). The first option: among the options
    with the most upper bounds u_ij > 1/2 (the optimistic Copeland score), one with the most wins theta_ij > 1/2
    in a posterior sample, theta_ij ~ Beta(W_ij + 1, W_ji + 1) drawn for i < j only and theta_ji = 1 - theta_ij
    (pairs of two options out of the running are not drawn: they score nothing that counts). The second: among
    the options j whose lower bound l_j,first is at most 1/2, one with the largest fresh draw of P[j beats first]
    from Beta(W_j,first + 1, W_first,j + 1), the first itself at 1/2. Ties at random."""
    K = wins.shape[1]
    spread = spread_at(params[0], t)
    optimistic, sampled = 1, 1 + K
    top = -1.0
    for i in range(K):
        score = 0.0
        for j in range(K):
            if preference(wins, r, i, j, spread)[1] > 0.5:
                score += 1.0
        scratch[r, optimistic + i] = score
        scratch[r, sampled + i] = 0.0
        top = max(top, score)
    for i in range(K):
        for j in range(i + 1, K):
            if scratch[r, optimistic + i] == top or scratch[r, optimistic + j] == top:
                theta = preference_draw(wins, scratch, draws, r, i, j)
                if theta > 0.5:
                    scratch[r, sampled + i] += 1.0
                elif theta < 0.5:
                    scratch[r, sampled + j] += 1.0
    best, first, ties, state = -np.inf, -1, 0, draws[r]
    for i in range(K):
        if scratch[r, optimistic + i] == top:
            best, first, ties, state = consider_step(scratch[r, sampled + i], i, best, first, ties, state)
    draws[r] = state
    best, second, ties = -np.inf, -1, 0
    for j in range(K):
        if preference(wins, r, j, first, spread)[2] <= 0.5:
            theta = 0.5 if j == first else preference_draw(wins, scratch, draws, r, j, first)
            best, second, ties = consider(theta, j, best, second, ties, draws, r)
    return first, second


@jit
def learn_double_ts(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, first: int,
                    second: int, won: float) -> None:
    """The duel counts for its winner (learn_wins); the two entries' kept Gamma constants are stale."""
    learn_wins(params, wins, scratch, draws, r, first, second, won)
    K = wins.shape[1]
    scratch[r, 1 + 2 * K + first * K + second] = -1.0
    scratch[r, 1 + 2 * K + second * K + first] = -1.0


# --- sparring around a K-armed policy's kernels -------------------------------------------------------------
# Sparring (Ailon, Karnin & Joachims 2014): a left and a right instance of a K-armed base each choose an option. The
# scratch row holds two blocks of B columns, the left instance's then the right one's, each the base's counts,
# sums and means (K each) and its own scratch row (B - 3K), then B. The left instance draws from the policy's
# stream of repetition r, draws[r], the right one from draws[R + r] (`partner_streams`), so that the step-by-step
# loop's wrapper, whose base keeps the right instances as repetitions R..2R-1, makes the same draws.

def base_choose(*args: Any) -> int:  # pragma: no cover - bound to the base's choose in each composite
    raise NotImplementedError


def base_learn(*args: Any) -> None:  # pragma: no cover - bound to the base's learn in each composite
    raise NotImplementedError


@jit
def partner_streams(draws: np.ndarray) -> np.ndarray:
    """The policy's streams (R,) followed by one more per repetition (R,), derived from that repetition's alone
    (rng.split), for the right sparring instance: (2R,)."""
    R = draws.shape[0]
    out = np.empty(2 * R, np.uint64)
    first = np.zeros(1, np.int64)
    for r in range(R):
        out[r] = draws[r]
        out[R + r] = rng.split(draws[r], first)[0]
    return out


def sparring_choose(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, t: int,
                    horizon: int) -> tuple[int, int]:
    """The left instance's choice, then the right one's, each from its block of the scratch row."""
    K, R = wins.shape[1], wins.shape[0]
    B = int(scratch[r, scratch.shape[1] - 1])
    left = base_choose(params, scratch[:, 0:K], scratch[:, K:2 * K], scratch[:, 2 * K:3 * K], scratch[:, 3 * K:B],
                       draws, r, t, horizon)
    right = base_choose(params, scratch[:, B:B + K], scratch[:, B + K:B + 2 * K], scratch[:, B + 2 * K:B + 3 * K],
                        scratch[:, B + 3 * K:2 * B], draws[R:], r, t, horizon)
    return left, right


def sparring_learn(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, first: int,
                   second: int, won: float) -> None:
    """The left instance learns reward `won` for its option, then the right one 1 - won for its own."""
    K, R = wins.shape[1], wins.shape[0]
    B = int(scratch[r, scratch.shape[1] - 1])
    base_learn(params, scratch[:, 0:K], scratch[:, K:2 * K], scratch[:, 2 * K:3 * K], scratch[:, 3 * K:B], draws, r,
               first, won)
    base_learn(params, scratch[:, B:B + K], scratch[:, B + K:B + 2 * K], scratch[:, B + 2 * K:B + 3 * K],
               scratch[:, B + 3 * K:2 * B], draws[R:], r, second, 1.0 - won)


def sparring_row(base: np.ndarray, K: int) -> np.ndarray:
    """The sparring scratch row before the first round from the base's (W,): two blocks of 3K zeros (counts, sums,
    means) and the base's row, then the width of a block."""
    block = np.concatenate([np.zeros(3 * K), base])
    return np.concatenate([block, block, [float(block.shape[0])]])


TEMPLATES = {"sparring_choose": sparring_choose, "sparring_learn": sparring_learn}


@functools.cache
def composite(name: str) -> Any:
    """The compiled kernel of a composite name (`sparring_choose<choose_ucb1|learn_counts>`), its base's kernels
    resolved by name (arms.kernel, so the base may be a composition of its own)."""
    from banditmap.sim.kernels import wrappers
    template, choose_name, learn_name = wrappers.split(name)
    return bind(TEMPLATES[template], wrappers.symbol(name), namespace=globals(),
                base_choose=arms.kernel(choose_name), base_learn=arms.kernel(learn_name))


# --- the race ---------------------------------------------------------------------------------------------------

def choose(*args: Any) -> tuple[int, int]:  # pragma: no cover - replaced in each binding by the policy's choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's learn
    raise NotImplementedError


def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, K: int, start: np.ndarray,
         T: int, feedback: int, mean_delay: float, batch: int, points: np.ndarray, curve: np.ndarray,
         final: np.ndarray, tail: np.ndarray, optimal: np.ndarray, wins: np.ndarray, scratch: np.ndarray,
         utilities: np.ndarray) -> None:
    """One dueling policy's whole race over R = len(env) repetitions, as arms.race on K arms: the streams (R,) of
    the world, the feedback delays and the policy (advanced in place), the policy's scratch row (S,) before round
    0; fills the regret curve at `points` (R, P), the final regret, the mean value over the last 10% of rounds
    and the share of rounds showing a best pair (R,) each, and leaves the win matrices (R, K, K), the scratch
    rows (R, S) and the utilities (R, K) as they are after the last round. Every step draws from the streams in
    the order of the step-by-step loop (`draw_worlds`, the policy's choice, `world_step`, the delay)."""
    R = env.shape[0]
    tail_start = T - max(1, T // 10)
    for r in range(R):
        for j in range(start.shape[0]):
            scratch[r, j] = start[j]
        wins[r] = 0.0
        top = draw_utilities(utilities, env, r)
        queue_at = np.empty(16, np.int64)  # duels not yet delivered: arrival round, first * K + second, winner
        queue_pair = np.empty(16, np.int64)
        queue_won = np.empty(16)
        queued = 0
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            first, second = choose(params, wins, scratch, draws, r, t, T)
            arms.account(books, value(utilities, r, first, second), top, 0.0, t, tail_start, False, 0.0)
            won = duel(utilities, env, r, first, second)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(params, wins, scratch, draws, r, first, second, won)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_pair, queue_won = arms.grow(queue_at), arms.grow(queue_pair), arms.grow(queue_won)
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_pair[queued] = first * K + second
            queue_won[queued] = won
            queued += 1
            i = arms.due(queue_at, queued, t + 1)
            while i >= 0:  # deliver what is visible at round t + 1, in the order it was queued
                learn(params, wins, scratch, draws, r, queue_pair[i] // K, queue_pair[i] % K, queue_won[i])
                queued = arms.drop(queue_at, queue_pair, queue_won, i, queued)
                i = arms.due(queue_at, queued, t + 1)
        final[r] = books[0]
        optimal[r] = books[1] / T
        tail[r] = books[2] / (T - tail_start)


def step_choose_template(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray, t: int,
                         horizon: int) -> np.ndarray:
    actions = np.empty((wins.shape[0], 2), np.int64)
    for r in range(wins.shape[0]):
        actions[r, 0], actions[r, 1] = choose(params, wins, scratch, draws, r, t, horizon)
    return actions


def step_learn_template(params: np.ndarray, wins: np.ndarray, scratch: np.ndarray, draws: np.ndarray,
                        reps: np.ndarray, actions: np.ndarray, won: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(params, wins, scratch, draws, reps[i], actions[i, 0], actions[i, 1], won[i])


def kernel(name: str) -> Any:
    """A dueling policy's kernel by name, or sparring's template bound to a K-armed base's kernels."""
    return composite(name) if "<" in name else globals()[name]


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """A dueling policy's whole race as one compiled function (compiled once, then cached on disk), for any block
    of repetitions (compiled.by_repetitions; sparring's streams are the block's, then their partners')."""
    return bind(race, arms.named("dueling_race", choose_name, learn_name), nogil=True, namespace=globals(),
                choose=kernel(choose_name), learn=kernel(learn_name))


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """A dueling policy's decisions for all repetitions (R, 2), and its learning from a batch of duels (flat
    arrays reps (N,), actions (N, 2), won (N,), learnt in their order)."""
    return (bind(step_choose_template, arms.named("dueling_step", choose_name), namespace=globals(),
                 choose=kernel(choose_name)),
            bind(step_learn_template, arms.named("dueling_step", learn_name), namespace=globals(),
                 learn=kernel(learn_name)))
