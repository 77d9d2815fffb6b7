"""The compiled race of the list policies: the cascade and slate worlds, the per-item policies that show k of K
items (cascade ranking and semi-bandit slates), and the loop over every round of every repetition, in machine code
and run by threads over blocks of repetitions, as arms.py does for one arm per decision.

The worlds: each item has an attraction w ~ Beta(1, 12) (most items rarely clicked). In the cascade (Craswell et
al. 2008; Kveton et al. 2015) the customer scans the list from the top and clicks the first attractive item; a list
is worth its click probability 1 - prod(1 - w). On a slate every shown item is clicked on its own (semi-bandit
feedback); a slate is worth its expected clicks, sum w. Every round draws one uniform per position, whatever the
list, so the draws stay common to every policy.

A list policy is a pair of compiled functions over per-item counts, sums and means (R, C), C = K columns (or k x K
for statistics per position), each for one repetition r: `choose(params, counts, sums, means, scratch, draws, r, t,
horizon, items, board)` writes the k items of the list into items (k,) (board (2, k) is its working space), and
`learn(params, counts, sums, means, scratch, draws, r, items, observed)` learns from a list and what each of its
positions gave, observed (k,): on a slate each item's reward, in the cascade 1 at the clicked position and 0
elsewhere (all 0: no click). `scratch` (R, W) is the policy's own, W >= K + 1 (columns :K a per-item cache that
learning marks stale with -1; column K its own). Ties are broken uniformly at random every round, untried items
first in random order (`offer`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from banditmap.sim.kernels import arms, jit, rng
from banditmap.sim.kernels.arms import bind, consider_step

CASCADE, SLATE = 0, 1  # the worlds
WORLDS = {"cascade": CASCADE, "slate": SLATE}
Function = TypeVar("Function", bound=Callable[..., Any])


def borrowing(function: Function) -> Function:
    """A kernel that only reads and writes the arrays it is given, compiled without numba's reference counting
    (its `_nrt` option off): numba otherwise counts a reference to each array argument on entry and drops it on
    every way out, two atomic operations each, which it fails to pair off in a loop with branches, so they stayed
    in every round (a third of CascadeUCB1's race, K = 200). Such a kernel cannot allocate (numba refuses to
    compile one that does); what it computes is unchanged."""
    compiled: Function = jit(function, _nrt=False)
    return compiled


# --- the worlds -------------------------------------------------------------------------------------------------

@jit
def draw_attractions(w: np.ndarray, env: np.ndarray, r: int) -> None:
    """Repetition r's items (K,): attractions Beta(1, 12), drawn in item order from the world's stream."""
    for i in range(w.shape[1]):
        w[r, i] = rng.beta(env, r, 1.0, 12.0)


@borrowing
def list_value(w: np.ndarray, r: int, items: np.ndarray, world: int) -> float:
    """What a list is worth in expectation: its click probability 1 - prod(1 - w) in the cascade, its expected
    clicks sum w on a slate (factors and terms in the list's order)."""
    if world == CASCADE:
        missed = 1.0
        for p in range(items.shape[0]):
            missed *= 1.0 - w[r, items[p]]
        return 1.0 - missed
    total = 0.0
    for p in range(items.shape[0]):
        total += w[r, items[p]]
    return total


@jit
def best_value(w: np.ndarray, r: int, k: int, world: int) -> float:
    """The value of the best list: the k most attractive items (in either world, in any order)."""
    order = np.argsort(-w[r])
    return list_value(w, r, order[:k], world)


@borrowing
def draw_clicks(w: np.ndarray, env: np.ndarray, r: int, items: np.ndarray, world: int,
                observed: np.ndarray) -> None:
    """One uniform per position: on a slate each item is clicked when its uniform is below its attraction; in the
    cascade the first such position is the click (1 there, 0 at every other position)."""
    clicked = False
    for p in range(items.shape[0]):
        hit = rng.uniform(env, r) < w[r, items[p]]
        if world == SLATE:
            observed[p] = 1.0 if hit else 0.0
        else:
            observed[p] = 1.0 if hit and not clicked else 0.0
            clicked = clicked or hit


@jit
def draw_worlds(w: np.ndarray, env: np.ndarray, k: int, world: int) -> np.ndarray:
    """Every repetition's attractions (R, K), and its best list's value (R,)."""
    top = np.empty(w.shape[0])
    for r in range(w.shape[0]):
        draw_attractions(w, env, r)
        top[r] = best_value(w, r, k, world)
    return top


@jit
def world_step(w: np.ndarray, env: np.ndarray, lists: np.ndarray, world: int, value: np.ndarray,
               observed: np.ndarray) -> None:
    """A round for every repetition: each list's value (R,) and what each of its positions gave (R, k)."""
    for r in range(w.shape[0]):
        value[r] = list_value(w, r, lists[r], world)
        draw_clicks(w, env, r, lists[r], world, observed[r])


# --- ranking the items ------------------------------------------------------------------------------------------

@jit
def ranks_above(score: float, key: float, board: np.ndarray, slot: int, draws: np.ndarray,
                r: int) -> tuple[bool, float]:
    """Whether (score, key) ranks above the board's slot, and the key (a tie draws the keys it lacks, -1 meaning
    not drawn yet: the new item's first, then the slot's)."""
    if score != board[0, slot]:
        return score > board[0, slot], key
    if key < 0.0:
        key = rng.uniform(draws, r)
    if board[1, slot] < 0.0:
        board[1, slot] = rng.uniform(draws, r)
    return key > board[1, slot], key


@jit
def offer(score: float, item: int, items: np.ndarray, board: np.ndarray, filled: int, draws: np.ndarray,
          r: int) -> tuple[int, float]:
    """Offer an item to the list being built, items[:filled] best first with their scores board[0] and tie keys
    board[1]: it takes its place if it ranks among the k best. Returns the new length and the floor, the score an
    item must reach to be offered next (the last item's once the list is full, else -inf), which the caller checks
    first: most items, once the list is full, take that one comparison. Items are ranked by score, then by a key
    drawn uniformly the first time the item ties (lazily, so a round without ties draws nothing): tied items, an
    untried item's infinite scores among them, come in uniformly random order. A score compared with a different
    one is ranked by the comparison alone, and only an equal one goes through ranks_above (the same order and draws
    as calling it at every step, with about a third of the time per offer when nothing ties)."""
    k = items.shape[0]
    key = -1.0
    if filled == k:
        last = board[0, k - 1]
        if not score >= last:  # below (or not a number): not offered, as ranks_above would say
            return filled, last
        if score == last:
            above, key = ranks_above(score, key, board, k - 1, draws, r)
            if not above:
                return filled, last
        slot = k - 1
    else:
        slot = filled
        filled += 1
    while slot > 0:
        higher = board[0, slot - 1]
        if not score >= higher:
            break
        if score == higher:
            above, key = ranks_above(score, key, board, slot - 1, draws, r)
            if not above:
                break
        items[slot] = items[slot - 1]
        board[0, slot] = higher
        board[1, slot] = board[1, slot - 1]
        slot -= 1
    items[slot] = item
    board[0, slot] = score
    board[1, slot] = key
    return filled, board[0, k - 1] if filled == k else -np.inf


@jit
def whole_sum(counts: np.ndarray, r: int, start: int, stop: int) -> float:
    """counts[r, start:stop] summed, for counts that are whole numbers (below 2 ** 53, so every order of addition
    gives the same sum exactly): four running sums, so the additions do not each wait for the one before."""
    a = b = c = d = 0.0
    i = start
    while i + 4 <= stop:
        a += counts[r, i]
        b += counts[r, i + 1]
        c += counts[r, i + 2]
        d += counts[r, i + 3]
        i += 4
    while i < stop:
        a += counts[r, i]
        i += 1
    return (a + b) + (c + d)


@borrowing
def observations(counts: np.ndarray, r: int) -> float:
    """t of the confidence widths: the items' observations so far, at least 2 (so log t > 0)."""
    return max(whole_sum(counts, r, 0, counts.shape[1]), 2.0)


# --- decisions ----------------------------------------------------------------------------------------------------

@borrowing
def choose_uniform_list(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                        scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int, items: np.ndarray,
                        board: np.ndarray) -> None:
    """k distinct items uniformly at random, in random order: each position a uniform item, drawn again while it is
    one of the positions above (k < K)."""
    K = counts.shape[1]
    for p in range(items.shape[0]):
        repeated = True
        while repeated:
            items[p] = rng.below(draws, r, K)
            repeated = False
            for q in range(p):
                repeated = repeated or items[q] == items[p]


@borrowing
def choose_ucb_items(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                     scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int, items: np.ndarray,
                     board: np.ndarray) -> None:
    """params: alpha. Untried items first, then the k largest mean + sqrt(alpha log t / n), t the items'
    observations so far (UCB1's index, alpha = 2 in Auer et al. 2002; CascadeUCB1 and CUCB with the top-k oracle),
    computed as mean + sqrt(alpha log t) / sqrt(n) with each item's 1 / sqrt(n) kept in scratch[r, i] until its
    statistics change (0 or -1: stale), so that an item's index takes a multiplication, not a division and a root."""
    root = math.sqrt(params[0] * math.log(observations(counts, r)))
    filled, floor = 0, -np.inf
    for i in range(counts.shape[1]):
        n = counts[r, i]
        if n == 0.0:
            score = np.inf
        else:
            if scratch[r, i] <= 0.0:
                scratch[r, i] = 1.0 / math.sqrt(n)
            score = means[r, i] + root * scratch[r, i]
        if score >= floor:
            filled, floor = offer(score, i, items, board, filled, draws, r)


@jit
def pinsker_ceiling(mean: float, budget: float) -> float:
    """Where arms.kl_upper(mean, budget) starts its bracket, Pinsker's bound mean + sqrt(budget / 2) (below 1), by
    the same operations: the index it returns never exceeds this, so an item whose ceiling is below the list's
    floor cannot enter the list, and its index need not be computed."""
    eps = 1e-9
    p = min(max(mean, eps), 1.0 - eps)
    return min(max(p + math.sqrt(budget / 2.0), p), 1.0 - eps)


@borrowing
def choose_kl_ucb_items(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                        scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int, items: np.ndarray,
                        board: np.ndarray) -> None:
    """Untried items first, then the k largest q with n kl(mean, q) <= log t (CascadeKL-UCB, Kveton et al. 2015,
    exploration log t). scratch[r, :K] caches the indices, computed at t = scratch[r, K]; all are recomputed once t
    has grown by 5% (arms.REFRESH), an item whose statistics changed (-1) at once. An item whose index is not
    cached is first held to its ceiling (pinsker_ceiling): below the floor of the list being built, it could not
    enter it, and its ceiling c is cached instead of the index, as -c (in (-1, 0): an index is above 0), until the
    floor reaches it. The lists are those of computing every index (only items that would not be offered skip)."""
    K = counts.shape[1]
    now = observations(counts, r)
    stale = now > scratch[r, K] * arms.REFRESH
    if stale:
        scratch[r, K] = now
    exploration = math.log(scratch[r, K])
    filled, floor = 0, -np.inf
    for i in range(K):
        n = counts[r, i]
        if n == 0.0:
            score = np.inf
        else:
            kept = -1.0 if stale else scratch[r, i]
            if kept > 0.0:
                score = kept
            else:
                ceiling = -kept if -1.0 < kept < 0.0 else pinsker_ceiling(means[r, i], exploration / n)
                if ceiling < floor:
                    scratch[r, i] = -ceiling
                    continue
                score = arms.kl_upper(means[r, i], exploration / n)
                scratch[r, i] = score
        if score >= floor:
            filled, floor = offer(score, i, items, board, filled, draws, r)


@borrowing
def choose_pbm_ucb(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                   draws: np.ndarray, r: int, t: int, horizon: int, items: np.ndarray, board: np.ndarray) -> None:
    """params: epsilon, examination. Untried items first, then the k largest S/N~ + sqrt(N delta_t / (2 N~^2)),
    delta_t = (1 + epsilon) log t, t = the displays so far / k (at least 2), N~ = examination x N (PBM-UCB, Lagree,
    Vernade & Cappe 2016, every position examined with the same probability). The index is computed as
    S/N~ + sqrt(delta_t) / (examination sqrt(2N)), each item's S/N~ and 1 / (examination sqrt(2N)) kept in
    scratch[r, i] and scratch[r, K + 1 + i] until its statistics change (scratch[r, i] -1: stale)."""
    K, k = counts.shape[1], items.shape[0]
    root = math.sqrt((1.0 + params[0]) * math.log(max(whole_sum(counts, r, 0, K) / k, 2.0)))
    filled, floor = 0, -np.inf
    for i in range(K):
        n = counts[r, i]
        if n == 0.0:
            score = np.inf
        else:
            if scratch[r, i] < 0.0 or scratch[r, K + 1 + i] == 0.0:
                scratch[r, i] = sums[r, i] / (params[1] * n)
                scratch[r, K + 1 + i] = 1.0 / (params[1] * math.sqrt(2.0 * n))
            score = scratch[r, i] + root * scratch[r, K + 1 + i]
        if score >= floor:
            filled, floor = offer(score, i, items, board, filled, draws, r)


@borrowing
def choose_cts(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
               draws: np.ndarray, r: int, t: int, horizon: int, items: np.ndarray, board: np.ndarray) -> None:
    """The k largest draws from each item's Beta(1 + clicks, 1 + max(shown - clicks, 0)) (combinatorial Thompson
    sampling, Wang & Chen 2018), as X / (X + Y) of two Gamma draws. Each item's c = 1 / sqrt(9 d) of both Gamma
    shapes (at least 1) is kept until its statistics change (scratch[r, i] and scratch[r, K + 1 + i]; 0 or -1:
    stale), as arms.choose_thompson_beta keeps them. The stream's state stays in a local between offers (offer
    draws tie keys from the stream), and a draw that surely rounds below the floor is not divided out
    (rng.ratio_below): the same draws and lists."""
    K = counts.shape[1]
    filled, floor = 0, -np.inf
    state = draws[r]
    for i in range(K):
        a, b = 1.0 + sums[r, i], 1.0 + max(counts[r, i] - sums[r, i], 0.0)
        if a >= 1.0:
            x, total, state = rng.kept_beta_parts_step(state, a, b, scratch, r, i, K + 1 + i)
        else:
            x, total, state = rng.beta_parts_step(state, a, b)
        if rng.ratio_below(x, total, floor):
            continue
        score = x / total
        if score >= floor:
            draws[r] = state
            filled, floor = offer(score, i, items, board, filled, draws, r)
            state = draws[r]
    draws[r] = state


@borrowing
def choose_ranked_ucb(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                      scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int, items: np.ndarray,
                      board: np.ndarray) -> None:
    """params: alpha. Statistics per position (columns p K to (p + 1) K position p's): position by position, an
    item not already above with the largest mean + sqrt(alpha log t_p / n), t_p position p's observations (at least
    2), untried items first, ties at random (ranked bandits with UCB1, Radlinski et al. 2008). scratch[r, i] holds
    the number of the decision that last took item i (counted in scratch[r, K]), so an item is taken once."""
    k = items.shape[0]
    K = counts.shape[1] // k
    scratch[r, K] += 1.0
    stamp = scratch[r, K]
    for p in range(k):
        base = p * K
        width = params[0] * math.log(max(whole_sum(counts, r, base, base + K), 2.0))
        best, pick, ties, state = -np.inf, -1, 0, draws[r]
        for i in range(K):
            if scratch[r, i] == stamp:
                continue
            n = counts[r, base + i]
            score = np.inf if n == 0.0 else means[r, base + i] + math.sqrt(width / n)
            best, pick, ties, state = consider_step(score, i, best, pick, ties, state)
        draws[r] = state
        items[p] = pick
        scratch[r, pick] = stamp


# --- learning -----------------------------------------------------------------------------------------------------

@borrowing
def learn_nothing(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, items: np.ndarray, observed: np.ndarray) -> None:
    return None


@jit
def add(counts: np.ndarray, sums: np.ndarray, means: np.ndarray, r: int, column: int, reward: float) -> None:
    counts[r, column] += 1.0
    sums[r, column] += reward
    means[r, column] = sums[r, column] / counts[r, column]


@borrowing
def learn_cascade(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, items: np.ndarray, observed: np.ndarray) -> None:
    """The cascade's rule (Kveton et al. 2015): the items above the click were examined and skipped (an observation
    of 0), the clicked item counts a success, the items below it were not examined (nothing learnt); without a click
    every item was examined and skipped. Each item learnt is marked stale in the cache (scratch[r, item] = -1)."""
    for p in range(items.shape[0]):
        clicked = observed[p] > 0.0
        add(counts, sums, means, r, items[p], 1.0 if clicked else 0.0)
        scratch[r, items[p]] = -1.0
        if clicked:
            break


@borrowing
def learn_slate(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                draws: np.ndarray, r: int, items: np.ndarray, observed: np.ndarray) -> None:
    """Semi-bandit feedback: every shown item's reward is observed, as it is. Each item learnt is marked stale in
    the cache (scratch[r, item] = -1)."""
    for p in range(items.shape[0]):
        add(counts, sums, means, r, items[p], observed[p])
        scratch[r, items[p]] = -1.0


@borrowing
def learn_ranked(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, items: np.ndarray, observed: np.ndarray) -> None:
    """Statistics per position: every position counts its item's display, rewarded with what that position gave
    (the click, or 0), below the click too (ranked bandits ignore that a click hides the positions below it)."""
    k = items.shape[0]
    K = counts.shape[1] // k
    for p in range(k):
        add(counts, sums, means, r, p * K + items[p], observed[p])


# --- the race -------------------------------------------------------------------------------------------------------

def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, K: int, k: int,
         start: np.ndarray, columns: int, world: int, T: int, feedback: int, mean_delay: float, batch: int,
         points: np.ndarray, curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray) -> None:
    """One list policy's whole race over R = len(env) repetitions on the cascade or slate world of K items, lists
    of k: env, delays and draws are the streams (R,) of the world, the feedback delays and the policy (advanced in
    place); `start` is the policy's scratch row (W,) before round 0, `columns` the width of its statistics (K, or
    k x K per position). Fills the regret curve at `points` (1-based rounds) (R, P), the final regret, the mean
    expected reward over the last 10% of rounds and the share of rounds with a best list (R,) each. Every step
    draws from the streams in the order of the step-by-step loop (`draw_worlds`, the policy's `step_choose`,
    `world_step`, `step_learn`), so both give the same numbers."""
    R = env.shape[0]
    w = np.empty((R, K))
    counts = np.zeros((R, columns))
    sums = np.zeros((R, columns))
    means = np.zeros((R, columns))
    scratch = np.empty((R, start.shape[0]))
    tail_start = T - max(1, T // 10)
    for r in range(R):
        scratch[r] = start
        draw_attractions(w, env, r)
        top = best_value(w, r, k, world)
        items = np.empty(k, np.int64)
        board = np.empty((2, k))
        observed = np.empty(k)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, list, what it gave
        queue_items = np.empty((16, k), np.int64)
        queue_observed = np.empty((16, k))
        queued = 0
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            choose(params, counts, sums, means, scratch, draws, r, t, T, items, board)
            value = list_value(w, r, items, world)
            arms.account(books, value, top, 0.0, t, tail_start, False, 0.0)
            draw_clicks(w, env, r, items, world, observed)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(params, counts, sums, means, scratch, draws, r, items, observed)
                continue
            if queued == queue_at.shape[0]:
                queue_at = arms.grow(queue_at)
                queue_items = np.concatenate((queue_items, np.empty_like(queue_items)))
                queue_observed = np.concatenate((queue_observed, np.empty_like(queue_observed)))
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_items[queued] = items
            queue_observed[queued] = observed
            queued += 1
            i = arms.due(queue_at, queued, t + 1)
            while i >= 0:  # deliver what is visible at round t + 1, in the order it was queued
                learn(params, counts, sums, means, scratch, draws, r, queue_items[i], queue_observed[i])
                queued = arms.drop(queue_at, queue_items, queue_observed, i, queued)
                i = arms.due(queue_at, queued, t + 1)
        final[r] = books[0]
        optimal[r] = books[1] / T
        tail[r] = books[2] / (T - tail_start)


# --- the same steps for all repetitions at once (the step-by-step loop of runner.py) --------------------------------

def step_choose_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, t: int, horizon: int, k: int) -> np.ndarray:
    lists = np.empty((counts.shape[0], k), np.int64)
    board = np.empty((2, k))
    for r in range(counts.shape[0]):
        choose(params, counts, sums, means, scratch, draws, r, t, horizon, lists[r], board)
    return lists


def step_learn_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                        scratch: np.ndarray, draws: np.ndarray, reps: np.ndarray, lists: np.ndarray,
                        observed: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(params, counts, sums, means, scratch, draws, reps[i], lists[i], observed[i])


def choose(*args: Any) -> None:  # pragma: no cover - replaced in each policy's race by its own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each policy's race by its own learn
    raise NotImplementedError


def kernel(name: str) -> Any:
    """A list policy's kernel by name, or an adapter's template bound to a K-armed base's kernels
    (`ranked_choose<choose_exp3_ix|learn_exp3_ix>`, kernels/wrappers.py)."""
    if "<" in name:
        from banditmap.sim.kernels import wrappers
        return wrappers.composite(name)
    return globals()[name]


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """The whole race of one list policy as one compiled function (compiled once, then cached on disk), for any
    block of repetitions (compiled.by_repetitions runs blocks in threads)."""
    return bind(race, arms.named("list_race", choose_name, learn_name), nogil=True, choose=kernel(choose_name),
                learn=kernel(learn_name), namespace=globals())


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """One list policy's lists for all repetitions (R, k), and its learning from a batch of observations (reps (N,),
    lists (N, k), observed (N, k), learnt in their order)."""
    return (bind(step_choose_template, arms.named("list_step", choose_name), choose=kernel(choose_name),
                 namespace=globals()),
            bind(step_learn_template, arms.named("list_step", learn_name), learn=kernel(learn_name),
                 namespace=globals()))
