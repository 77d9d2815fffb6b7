"""The compiled assortment race: the MNL world (Agrawal, Avadhanula, Goyal and Zeevi's MNL-bandit), the oracle that
picks the revenue-maximising assortment, the epoch policies' decisions and learning, and the loop over every round
of every repetition, in machine code, run by threads over blocks of repetitions (compiled.by_repetitions).

Items have preference weights v (R, N) in [0.05, 1] and known revenues (R, N); an offer is at most `size` items
(-1 pads) and the customer buys item i with probability v_i / (1 + sum of the offer's weights), or leaves. The
environment, the delays and the policy draw from their own stream per repetition, as on K arms (arms.py): each
repetition's numbers depend on the seed, the policy and the repetition only, and every policy meets the same
worlds and the same customers (common random numbers).

An epoch policy is a pair of compiled functions for one repetition r over its epoch statistics: `epochs` (R, N),
the finished epochs that offered each item, `purchases` (R, N), that item's purchases in them, `bought` (R, N),
its purchases in the running epoch, `finished` (R,), the epochs finished, and `fresh` (R,) bool, whether the next
round starts an epoch. `choose(params, epochs, purchases, finished, fresh, revenue, offered, draws, r)` writes the
round's offer in offered[r] (size,), `params` the policy's hyperparameters as a float64 array; `learn(epochs,
purchases, bought, finished, fresh, r, shown, choice)` learns that `shown` (size,) sold `choice` (an item, or -1:
the customer left and the epoch ends).
Ties between items are broken uniformly at random each time an offer is chosen (a random key per item).

A slate policy of lists.py viewed through adapters/views.py's AssortmentAsSlate races here too (`slate_race`): its
slate is the offer, and each offered item is rewarded with its revenue when it is the one bought."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, rng
from banditmap.sim.kernels.arms import bind
from banditmap.sim.kernels.lists import borrowing

ITERATIONS = 30  # bisection steps of the oracle on the optimal revenue: 2**-30 of the dearest item's revenue
LOWEST, HIGHEST = 0.05, 1.0  # the range of the items' preference weights (the no-purchase weight is 1)
OPTIMAL = 1e-9  # an offer within this of the best revenue counts as a best one (the oracle bisects to ~1e-9)


# --- the oracle -----------------------------------------------------------------------------------------------

@jit
def ahead(gain: float, key: float, other_gain: float, other_key: float) -> bool:
    """Whether an item of this gain and tie key ranks before another: a larger gain, or an equal one and a larger
    key."""
    return gain > other_gain or (gain == other_gain and key > other_key)


@jit
def pass_down(a: float, b: float, c: float, d: float, g: float) -> tuple[float, float, float, float]:
    """Four kept gains a >= b >= c >= d after offering them g: each keeps the larger and passes the smaller down,
    by max and min, with no branch to mispredict."""
    a, g = max(a, g), min(a, g)
    b, g = max(b, g), min(b, g)
    c, g = max(c, g), min(c, g)
    return a, b, c, max(d, g)


@jit
def few_gains(weights: np.ndarray, revenue: np.ndarray, z: float, size: int, alive: np.ndarray, m: int,
              gains: np.ndarray) -> tuple[float, float]:
    """Over the items alive[:m] (weights and revenue (N,)), each one's gain max(0, v_i (r_i - z)) written to
    gains[:m]; returns the sum of the `size` (at most 4) largest, largest first from 0 (as best_row's general loop
    sums its kept gains), and the size-th largest. The gains pass down four kept ones (pass_down), where the general
    loop's insertion mispredicts on most gains it keeps: 60% of that loop's time (30 items, offers of 3)."""
    a = b = c = d = 0.0
    for j in range(m):
        k = alive[j]
        gains[j] = max(0.0, weights[k] * (revenue[k] - z))  # only gains above 0
        a, b, c, d = pass_down(a, b, c, d, gains[j])
    total = 0.0 + a
    if size > 1:
        total += b
    if size > 2:
        total += c
    if size > 3:
        total += d
    return total, (a if size == 1 else b if size == 2 else c if size == 3 else d)


@jit
def few_revenue(weights: np.ndarray, revenue: np.ndarray, iterations: int, size: int) -> float:
    """best_row's bisection for offers of at most 4 items: the low end of the bracket on the optimal revenue after
    `iterations` halvings, each step comparing z with the sum of the `size` largest gains at z (few_gains) over the
    items that can still be among them. With weights of at least 0, a gain max(0, v_i (r_i - z)) never grows with
    z, to the last bit (rounding is monotone), nor so does the size-th largest gain: an item whose gain at the
    bracket's low end is below the size-th largest gain at its high end is below the size-th largest anywhere in
    this bracket and in every later one (they nest), so it is dropped, and every sum is the one over all items.
    Most items go within a few steps (30 items, offers of 3: about 160 gains in all instead of 900), which halves
    the oracle's time (a negative weight, whose gain grows with z, keeps them all)."""
    K = weights.shape[0]
    alive = np.arange(K)
    at_low = np.full(K, np.inf)  # each living item's gain at the bracket's low end (inf: not computed there yet)
    gains = np.empty(K)
    drops = True
    for k in range(K):
        drops = drops and weights[k] >= 0.0
    low, high = 0.0, revenue.max()
    floor = 0.0  # the size-th largest gain at the high end: at first every gain there is 0
    m = K
    for _ in range(iterations):
        z = (low + high) / 2.0
        total, last = few_gains(weights, revenue, z, size, alive, m, gains)
        if total > z:
            low = z
            for j in range(m):
                at_low[j] = gains[j]
        else:
            high = z
            floor = last
        if drops and m > size:  # (with `size` items left, every one counts: none is dropped)
            kept = 0
            for j in range(m):
                if not at_low[j] < floor:
                    alive[kept], at_low[kept] = alive[j], at_low[j]
                    kept += 1
            m = kept
    return low


@jit
def many_revenue(weights: np.ndarray, revenue: np.ndarray, iterations: int, size: int) -> float:
    """best_row's bisection for offers of more than 4 items: the `size` largest gains kept in decreasing order by
    insertion, summed (np.sum) and compared with z."""
    top = np.zeros(size)  # the largest gains so far, in decreasing order
    low, high = 0.0, revenue.max()
    for _ in range(iterations):
        z = (low + high) / 2.0
        top[:] = 0.0  # only positive gains count
        for k in range(weights.shape[0]):
            g = weights[k] * (revenue[k] - z)
            if g > top[size - 1]:
                j = size - 1
                while j > 0 and top[j - 1] < g:
                    top[j] = top[j - 1]
                    j -= 1
                top[j] = g
        if top.sum() > z:
            low = z
        else:
            high = z
    return low


@jit
def best_row(weights: np.ndarray, revenue: np.ndarray, iterations: int, keys: np.ndarray,
             chosen: np.ndarray) -> None:
    """The best set of at most len(chosen) items for weights and revenue (N,), written to chosen (-1 pads), by
    bisection on the optimal revenue z: the fixed point of z = max_{|S| <= size} sum_S v_i (r_i - z), whose
    right-hand side for a given z is the sum of the `size` largest positive v_i (r_i - z) (Rusmevichientong, Shen
    and Shmoys 2010; few_revenue, many_revenue). Items of equal gain v_i (r_i - z) rank by their keys (N,), larger
    first; the first item is always offered, so no set is empty."""
    K = weights.shape[0]
    size = min(chosen.shape[0], K)
    if size <= 4:
        low = few_revenue(weights, revenue, iterations, size)
    else:
        low = many_revenue(weights, revenue, iterations, size)
    gains = np.full(size, -np.inf)  # an empty place: every item ranks before it
    ranks = np.zeros(size)
    chosen[:] = -1
    for k in range(K):  # the `size` best items at z = low, by (gain, key), best first
        g = weights[k] * (revenue[k] - low)
        if not ahead(g, keys[k], gains[size - 1], ranks[size - 1]):
            continue
        j = size - 1
        while j > 0 and ahead(g, keys[k], gains[j - 1], ranks[j - 1]):
            gains[j], ranks[j], chosen[j] = gains[j - 1], ranks[j - 1], chosen[j - 1]
            j -= 1
        gains[j], ranks[j], chosen[j] = g, keys[k], k
    for j in range(1, size):  # after the first, only the items that gain
        if gains[j] <= 0.0:
            chosen[j] = -1


@jit
def best_sets(weights: np.ndarray, revenue: np.ndarray, size: int, iterations: int) -> np.ndarray:
    """Each row's best set (M, size) of item indices, -1 padding, for weights and revenue (M, N) (best_row; equal
    gains go to the lower index): what oracles.best_assortment returns."""
    M, K = weights.shape
    chosen = np.empty((M, size), np.int64)
    keys = np.zeros(K)  # equal keys: of equal gains, the one seen first (the lower index) ranks first
    for m in range(M):
        best_row(weights[m], revenue[m], iterations, keys, chosen[m])
    return chosen


@borrowing
def offer_revenue(v: np.ndarray, revenue: np.ndarray, r: int, shown: np.ndarray) -> float:
    """The expected revenue sum_S v_i r_i / (1 + sum_S v_i) of offering `shown` (size,) (-1 pads) to repetition r's
    customers (v, revenue (R, N))."""
    earned, total = 0.0, 1.0
    for j in range(shown.shape[0]):
        item = shown[j]
        if item >= 0:
            earned += v[r, item] * revenue[r, item]
            total += v[r, item]
    return earned / total


# --- the world ------------------------------------------------------------------------------------------------

@borrowing
def draw_world(v: np.ndarray, env: np.ndarray, r: int) -> None:
    """Repetition r's preference weights (N,), uniform in [0.05, 1]: no item is as likely as leaving."""
    for k in range(v.shape[1]):
        v[r, k] = LOWEST + (HIGHEST - LOWEST) * rng.uniform(env, r)


@jit
def best_revenue(v: np.ndarray, revenue: np.ndarray, r: int, chosen: np.ndarray) -> float:
    """Repetition r's best offer (written to chosen (size,)) and its expected revenue."""
    # int(): an int as best_rows hands it; the constant is a type of its own to numba (one more compile of best_row)
    best_row(v[r], revenue[r], int(ITERATIONS), np.zeros(v.shape[1]), chosen)
    return offer_revenue(v, revenue, r, chosen)


@borrowing
def purchase(v: np.ndarray, env: np.ndarray, r: int, shown: np.ndarray) -> int:
    """The item a customer of repetition r buys from `shown` (size,) under the MNL model, or -1 (leaves): one
    uniform draw u, the first offered item whose running sum of weights exceeds u (1 + sum_S v_i)."""
    total = 1.0
    for j in range(shown.shape[0]):
        if shown[j] >= 0:
            total += v[r, shown[j]]
    draw = rng.uniform(env, r) * total
    running = 0.0
    for j in range(shown.shape[0]):
        item = shown[j]
        if item >= 0:
            running += v[r, item]
            if draw < running:
                return int(item)
    return -1


@jit
def draw_worlds(v: np.ndarray, revenue: np.ndarray, env: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Every repetition's weights (R, N), its best offer (R, size) and that offer's revenue (R,)."""
    best = np.empty(v.shape[0])
    for r in range(v.shape[0]):
        draw_world(v, env, r)
        best[r] = best_revenue(v, revenue, r, chosen[r])
    return best


@jit
def world_step(v: np.ndarray, revenue: np.ndarray, env: np.ndarray, offers: np.ndarray, value: np.ndarray,
               observed: np.ndarray) -> None:
    """One round for every repetition: the expected revenue of each offer (R, size) (value (R,)) and the item bought
    or -1 (observed (R,), as floats)."""
    for r in range(v.shape[0]):
        value[r] = offer_revenue(v, revenue, r, offers[r])
        observed[r] = float(purchase(v, env, r, offers[r]))


# --- the epoch policies ---------------------------------------------------------------------------------------

@jit
def offer(weights: np.ndarray, revenue: np.ndarray, offered: np.ndarray, draws: np.ndarray, r: int) -> None:
    """Repetition r's offer for the given weights (N,): the best set under them, ties at random (a uniform key per
    item from the policy's stream)."""
    keys = np.empty(weights.shape[0])
    state = draws[r]  # held in a local: the same draws without a store and a load of draws[r] around each
    for k in range(keys.shape[0]):
        keys[k], state = rng.uniform_step(state)
    draws[r] = state
    best_row(weights, revenue[r], int(ITERATIONS), keys, offered[r])  # an int (best_revenue says why)


@borrowing
def learn_epochs(epochs: np.ndarray, purchases: np.ndarray, bought: np.ndarray, finished: np.ndarray,
                 fresh: np.ndarray, r: int, shown: np.ndarray, choice: int) -> None:
    """A purchase counts in the running epoch; a customer who leaves ends it: every item of `shown` (the offer the
    customer saw) has one more epoch, the epoch's purchases join the totals, and the next round starts an epoch.
    The purchases of item i in an epoch that offered it are geometric with mean v_i (Agrawal et al. 2019)."""
    if choice >= 0:
        bought[r, choice] += 1.0
        return
    for j in range(shown.shape[0]):
        if shown[j] >= 0:
            epochs[r, shown[j]] += 1.0
    for k in range(epochs.shape[1]):
        purchases[r, k] += bought[r, k]
        bought[r, k] = 0.0
    finished[r] += 1.0
    fresh[r] = True


@borrowing
def weights_mnl_ucb(params: np.ndarray, epochs: np.ndarray, purchases: np.ndarray, finished: np.ndarray, r: int,
                    out: np.ndarray) -> None:
    """params: scale. Optimistic weights (N,) v + scale (sqrt(48 v log(sqrt(N) l + 1) / n) + 48 log(sqrt(N) l + 1) /
    n) after l finished epochs, n of them offering the item and v its mean purchases per epoch, capped at 1 (the
    no-purchase weight the model assumes no item exceeds); 1 for an item never offered (Agrawal et al. 2019, with
    l + 1 so the first epoch's log is positive)."""
    N = epochs.shape[1]
    log = math.log(math.sqrt(N) * (finished[r] + 1.0) + 1.0)
    for k in range(N):
        n = epochs[r, k]
        if n == 0.0:
            out[k] = 1.0
            continue
        v = purchases[r, k] / n
        out[k] = min(v + params[0] * (math.sqrt(48.0 * v * log / n) + 48.0 * log / n), 1.0)


@borrowing
def weights_mnl_ts(epochs: np.ndarray, purchases: np.ndarray, draws: np.ndarray, r: int, out: np.ndarray) -> None:
    """Sampled weights (N,): a draw p of each item's Beta(n + 1, purchases + 1), the posterior of 1 / (1 + v) under
    a uniform prior (an epoch's purchases are geometric with that success probability), gives 1 / p - 1, p at
    least 1e-9 (Agrawal et al. 2017). The stream's state is held in a local (rng.beta_step): the same draws."""
    state = draws[r]
    for k in range(epochs.shape[1]):
        p, state = rng.beta_step(state, epochs[r, k] + 1.0, purchases[r, k] + 1.0)
        out[k] = 1.0 / max(p, 1e-9) - 1.0
    draws[r] = state


@jit
def choose_mnl_ucb(params: np.ndarray, epochs: np.ndarray, purchases: np.ndarray, finished: np.ndarray,
                   fresh: np.ndarray, revenue: np.ndarray, offered: np.ndarray, draws: np.ndarray, r: int) -> None:
    """MNL-UCB: an epoch starts with the best offer under the optimistic weights (weights_mnl_ucb), and keeps it."""
    if fresh[r]:
        weights = np.empty(epochs.shape[1])
        weights_mnl_ucb(params, epochs, purchases, finished, r, weights)
        offer(weights, revenue, offered, draws, r)
        fresh[r] = False


@jit
def choose_mnl_ts(params: np.ndarray, epochs: np.ndarray, purchases: np.ndarray, finished: np.ndarray,
                  fresh: np.ndarray, revenue: np.ndarray, offered: np.ndarray, draws: np.ndarray, r: int) -> None:
    """MNL Thompson sampling: an epoch starts with the best offer under sampled weights (weights_mnl_ts), and keeps
    it."""
    if fresh[r]:
        weights = np.empty(epochs.shape[1])
        weights_mnl_ts(epochs, purchases, draws, r, weights)
        offer(weights, revenue, offered, draws, r)
        fresh[r] = False


@jit
def choose_uniform_assortment(params: np.ndarray, epochs: np.ndarray, purchases: np.ndarray, finished: np.ndarray,
                              fresh: np.ndarray, revenue: np.ndarray, offered: np.ndarray, draws: np.ndarray,
                              r: int) -> None:
    """The baseline: `size` distinct items uniformly at random every round (the first steps of a Fisher-Yates
    shuffle of the items; -1 pads an offer longer than the items)."""
    N = epochs.shape[1]
    order = np.arange(N)
    for j in range(offered.shape[1]):
        if j >= N:
            offered[r, j] = -1
            continue
        pick = j + rng.below(draws, r, N - j)
        order[j], order[pick] = order[pick], order[j]
        offered[r, j] = order[j]


# --- the race -------------------------------------------------------------------------------------------------

@jit
def account(books: np.ndarray, value: float, top: float, t: int, tail_start: int) -> None:
    """Round t's share of a repetition's totals (books, as arms.BOOKS): regret, a best offer or not (within
    OPTIMAL of the best revenue), the revenue of the last 10% of rounds."""
    books[0] += top - value
    if value >= top - OPTIMAL:
        books[1] += 1.0
    if t >= tail_start:
        books[2] += value


def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, K: int, size: int,
         revenue: np.ndarray, T: int, feedback: int, mean_delay: float, batch: int, points: np.ndarray,
         curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray, below: np.ndarray) -> None:
    """One epoch policy's whole race over R = len(env) repetitions of the MNL world (K items, offers of at most
    `size`, revenue (R, K)): env, delays and draws are the streams (R,) of the world, the feedback delays and the
    policy. Fills the regret curve at `points` (1-based rounds) (R, P), the final regret, the mean expected
    revenue over the last 10% of rounds and the share of rounds with a best offer (R,) each (`below` is left:
    the world has no baseline). Each step draws from the streams in the step-by-step loop's order (the world,
    then the policy's decision, the customer, the delay), so both give the same numbers."""
    R = env.shape[0]
    v = np.empty((R, K))
    epochs = np.zeros((R, K))
    purchases = np.zeros((R, K))
    bought = np.zeros((R, K))
    finished = np.zeros(R)
    fresh = np.full(R, True)
    offered = np.empty((R, size), np.int64)  # written by every decision before it is read
    best = np.empty((R, size), np.int64)
    tail_start = T - max(1, T // 10)
    for r in range(R):
        draw_world(v, env, r)
        top = best_revenue(v, revenue, r, best[r])
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, item bought, offer
        queue_choice = np.empty(16, np.int64)
        queue_offer = np.empty((16, size), np.int64)
        queued = 0
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            choose(params, epochs, purchases, finished, fresh, revenue, offered, draws, r)
            value = offer_revenue(v, revenue, r, offered[r])
            choice = purchase(v, env, r, offered[r])
            account(books, value, top, t, tail_start)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(epochs, purchases, bought, finished, fresh, r, offered[r], choice)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_choice = arms.grow(queue_at), arms.grow(queue_choice)
                queue_offer = np.concatenate((queue_offer, np.empty_like(queue_offer)))
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_choice[queued] = choice
            for j in range(size):  # element by element: an array assigned to a row compiles numba's shape check
                queue_offer[queued, j] = offered[r, j]
            queued += 1
            i = arms.due(queue_at, queued, t + 1)
            while i >= 0:  # deliver what is visible at round t + 1, in the order it was queued
                learn(epochs, purchases, bought, finished, fresh, r, queue_offer[i], queue_choice[i])
                for j in range(i, queued - 1):
                    queue_at[j], queue_choice[j] = queue_at[j + 1], queue_choice[j + 1]
                    for c in range(size):
                        queue_offer[j, c] = queue_offer[j + 1, c]
                queued -= 1
                i = arms.due(queue_at, queued, t + 1)
        arms.settle(books, r, T, tail_start, final, tail, optimal, below)


# --- a slate policy offering its slate (adapters/views.py's AssortmentAsSlate) -----------------------------------

@borrowing
def credit(revenue: np.ndarray, r: int, items: np.ndarray, choice: int, observed: np.ndarray) -> None:
    """What each item of a slate offered as an assortment gave (observed (k,)): its revenue when it is the one
    bought, 0 otherwise (substitution ignored, as AssortmentAsSlate does)."""
    for p in range(items.shape[0]):
        observed[p] = revenue[r, items[p]] if items[p] == choice else 0.0


def slate_race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, K: int, k: int,
               revenue: np.ndarray, start: np.ndarray, columns: int, T: int, feedback: int, mean_delay: float,
               batch: int, points: np.ndarray, curve: np.ndarray, final: np.ndarray, tail: np.ndarray,
               optimal: np.ndarray, below: np.ndarray) -> None:
    """A slate policy's whole race on the MNL world (K items, revenue (R, K)), each slate of k items (lists.py's
    choose and learn) offered as the assortment and each offered item rewarded by `credit`: the streams, `start`
    and `columns` as lists.race takes them, the books filled as `race` fills them. Each step draws from the
    streams in the step-by-step loop's order (the world, the policy's slate, the customer, the delay, the policy's
    learning), so both give the same numbers."""
    R = env.shape[0]
    v = np.empty((R, K))
    counts = np.zeros((R, columns))
    sums = np.zeros((R, columns))
    means = np.zeros((R, columns))
    scratch = np.empty((R, start.shape[0]))
    best = np.empty((R, k), np.int64)
    tail_start = T - max(1, T // 10)
    for r in range(R):
        for j in range(start.shape[0]):
            scratch[r, j] = start[j]
        draw_world(v, env, r)
        top = best_revenue(v, revenue, r, best[r])
        items = np.empty(k, np.int64)
        board = np.empty((2, k))
        observed = np.empty(k)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, slate, what it gave
        queue_items = np.empty((16, k), np.int64)
        queue_observed = np.empty((16, k))
        queued = 0
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            choose(params, counts, sums, means, scratch, draws, r, t, T, items, board)
            value = offer_revenue(v, revenue, r, items)
            choice = purchase(v, env, r, items)
            account(books, value, top, t, tail_start)
            column = arms.checkpoint(books, points, curve, r, t, column)
            credit(revenue, r, items, choice, observed)
            if feedback == arms.IMMEDIATE:
                learn(params, counts, sums, means, scratch, draws, r, items, observed)
                continue
            if queued == queue_at.shape[0]:
                queue_at = arms.grow(queue_at)
                queue_items = np.concatenate((queue_items, np.empty_like(queue_items)))
                queue_observed = np.concatenate((queue_observed, np.empty_like(queue_observed)))
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            for p in range(k):
                queue_items[queued, p], queue_observed[queued, p] = items[p], observed[p]
            queued += 1
            i = arms.due(queue_at, queued, t + 1)
            while i >= 0:  # deliver what is visible at round t + 1, in the order it was queued
                learn(params, counts, sums, means, scratch, draws, r, queue_items[i], queue_observed[i])
                queued = arms.drop(queue_at, queue_items, queue_observed, i, queued)
                i = arms.due(queue_at, queued, t + 1)
        arms.settle(books, r, T, tail_start, final, tail, optimal, below)


# --- the same steps for all repetitions at once (the step-by-step loop of runner.py) ----------------------------

def step_choose_template(params: np.ndarray, epochs: np.ndarray, purchases: np.ndarray, finished: np.ndarray,
                         fresh: np.ndarray, revenue: np.ndarray, offered: np.ndarray, draws: np.ndarray) -> None:
    for r in range(epochs.shape[0]):
        choose(params, epochs, purchases, finished, fresh, revenue, offered, draws, r)


def step_learn_template(epochs: np.ndarray, purchases: np.ndarray, bought: np.ndarray, finished: np.ndarray,
                        fresh: np.ndarray, reps: np.ndarray, offers: np.ndarray, choices: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(epochs, purchases, bought, finished, fresh, reps[i], offers[i], choices[i])


def choose(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own learn
    raise NotImplementedError


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """An epoch policy's offers for all repetitions (written to offered (R, size)), and its learning from a batch of
    observations (reps (M,), the offers seen (M, size), the items bought or -1 (M,), learnt in their order)."""
    kernels = globals()
    return (bind(step_choose_template, f"assortment_step_{choose_name}", choose=kernels[choose_name],
                 namespace=kernels),
            bind(step_learn_template, f"assortment_step_{learn_name}", learn=kernels[learn_name], namespace=kernels))


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """An epoch policy's whole race as one compiled function (compiled once, then cached on disk), for any block of
    repetitions: run in threads over blocks (compiled.by_repetitions), it gives the numbers of one call over all."""
    kernels = globals()
    return bind(race, f"assortment_race_{choose_name}_{learn_name}", nogil=True, choose=kernels[choose_name],
                learn=kernels[learn_name], namespace=kernels)


@functools.cache
def make_slate_race(choose_name: str, learn_name: str) -> Any:
    """A slate policy's whole race on the MNL world (slate_race bound to its kernels in lists.py), compiled once
    and then cached on disk, for any block of repetitions."""
    from banditmap.sim.kernels import lists
    return bind(slate_race, f"assortment_slate_race_{choose_name}_{learn_name}", nogil=True,
                choose=getattr(lists, choose_name), learn=getattr(lists, learn_name), namespace=globals())
