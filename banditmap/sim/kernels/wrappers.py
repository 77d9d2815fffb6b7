"""Adapters compiled around any counting kernel: the delay queue (Q-PAQ/QPM-D, Joulani, Gyorgy & Szepesvari 2013),
discounting and a sliding window (Garivier & Moulines 2011) and the truncated mean (Bubeck, Cesa-Bianchi & Lugosi
2013), each a `choose`/`learn` pair with arms.py's signature around a base pair, so a composition such as
`kl-ucb+delay-queue` races in the whole-race kernel like a policy of its own.

A template's free names `base_choose` and `base_learn` are bound to the base's kernels (`composite`, by name, so
each binding is compiled once and cached on disk like the races). The composition's scratch row is the base's
followed by the adapter's own columns, whose last holds their number: the adapter finds its part at the end and
hands the base the row without it (a view), so adapters nest. It hands the base its counts, sums and means as views
too (`counts[:, :K]`, the whole arrays), so that a base's kernels see the layouts that ranked bandits and sparring
(dueling.py) hand them: each mix of contiguous and strided arguments is one more compile of the base (Thompson
sampling's choose, with its samplers inlined, takes seconds), and the suite compiled three of them. Its
hyperparameters follow the base's in `params` and it hands the base the others. A base whose row is K + 1 wide
is given one more column first, so that the race's note column (K + 1) is never the adapter's.

Ranked bandits (Radlinski, Kleinberg & Joachims 2008) are composed the same way around a base's kernels, but as a
list policy of kernels/lists.py (one instance per position of the list, each in its own block of the row), which
races in the cascade world; scalarization (Drugan & Nowe 2013) as a policy of the multi-objective race of
kernels/multi.py, whose learning is handed a reward vector.

The Python wrappers of sim/adapters/ run the same reductions around any policy (and these kernels' bases when a
problem needs the step-by-step loop); sim/compiled.py's `kernel_form`, `ranked_form` and `multi_form` say which
compositions race here."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import numpy as np

from banditmap.sim.kernels import jit, rng
from banditmap.sim.kernels.arms import argmax, consider_step
from banditmap.sim.kernels.lists import borrowing


@jit
def own(scratch: np.ndarray, r: int) -> int:
    """Where the adapter's own columns start in the scratch row (their number is in the row's last column)."""
    width: int = scratch.shape[1]
    return width - int(scratch[r, width - 1])


def base_choose(*args: Any) -> int:  # pragma: no cover - bound to the base's choose in each composite
    raise NotImplementedError


def base_learn(*args: Any) -> None:  # pragma: no cover - bound to the base's learn in each composite
    raise NotImplementedError


# --- the delay queue -----------------------------------------------------------------------------------------
# Own columns from o: each arm's first queued slot + 1 (0: empty) (K), its last (K), the first free slot + 1, the
# slots used so far, then C slots' rewards and C slots' next slot + 1 (0: none), then the count of own columns.

def queue_choose(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """While the base asks for an arm whose queue holds a reward, the oldest one is handed to it as the outcome
    of that request and it is asked again; an arm with an empty queue is played for real."""
    K = counts.shape[1]
    o = own(scratch, r)
    inner = scratch[:, :o]
    heads, tails, free, rewards = o, o + K, o + 2 * K, o + 2 * K + 2
    links = rewards + (scratch.shape[1] - 1 - rewards) // 2
    while True:
        arm = base_choose(params, counts[:, :K], sums[:, :K], means[:, :K], inner, draws, r, t, horizon)
        first = int(scratch[r, heads + arm]) - 1
        if first < 0:
            return arm
        scratch[r, heads + arm] = scratch[r, links + first]
        if scratch[r, heads + arm] == 0.0:
            scratch[r, tails + arm] = 0.0
        scratch[r, links + first] = scratch[r, free]  # the slot joins the free list
        scratch[r, free] = first + 1.0
        base_learn(params, counts[:, :K], sums[:, :K], means[:, :K], inner, draws, r, arm, scratch[r, rewards + first])


def queue_learn(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """The reward joins its arm's queue; when every slot is taken, the base learns it at once instead."""
    K = counts.shape[1]
    o = own(scratch, r)
    tails, free, used, rewards = o + K, o + 2 * K, o + 2 * K + 1, o + 2 * K + 2
    capacity = (scratch.shape[1] - 1 - rewards) // 2
    links = rewards + capacity
    slot = int(scratch[r, free]) - 1
    if slot >= 0:
        scratch[r, free] = scratch[r, links + slot]
    elif scratch[r, used] < capacity:
        slot = int(scratch[r, used])
        scratch[r, used] += 1.0
    else:
        base_learn(params, counts[:, :K], sums[:, :K], means[:, :K], scratch[:, :o], draws, r, arm, reward)
        return
    scratch[r, rewards + slot] = reward
    scratch[r, links + slot] = 0.0
    last = int(scratch[r, tails + arm]) - 1
    if last >= 0:
        scratch[r, links + last] = slot + 1.0
    else:
        scratch[r, o + arm] = slot + 1.0
    scratch[r, tails + arm] = slot + 1.0


def queue_region(K: int, slots: int) -> np.ndarray:
    """The delay queue's own columns before the first round, for `slots` rewards held at once."""
    region = np.zeros(2 * K + 2 + 2 * slots + 1)
    region[-1] = region.shape[0]
    return region


# --- discounting ---------------------------------------------------------------------------------------------
# params: ..., gamma. Own columns: their count only.

def discount_choose(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                    scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """Before every decision the base's counts and sums are multiplied by gamma (their means are unchanged) and
    its per-arm cache is stale; then the base decides."""
    n = params.shape[0] - 1
    gamma = params[n]
    K = counts.shape[1]
    for k in range(K):
        counts[r, k] *= gamma
        sums[r, k] *= gamma
        scratch[r, k] = -1.0
    return base_choose(params[:n], counts[:, :K], sums[:, :K], means[:, :K], scratch[:, :own(scratch, r)], draws, r,
                       t, horizon)


def discount_learn(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                   scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    K = counts.shape[1]
    base_learn(params[:params.shape[0] - 1], counts[:, :K], sums[:, :K], means[:, :K], scratch[:, :own(scratch, r)],
               draws, r, arm, reward)


# --- the sliding window --------------------------------------------------------------------------------------
# params: ..., window. Own columns from o: the slot written next, then W slots of the arm observed + 1 (0: empty),
# W of what the observation added to its count and W to its sum, then the count of own columns.

def window_choose(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    n, K = params.shape[0] - 1, counts.shape[1]
    return base_choose(params[:n], counts[:, :K], sums[:, :K], means[:, :K], scratch[:, :own(scratch, r)], draws, r,
                       t, horizon)


def window_learn(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """The base learns the observation as usual; what it added to the arm's count and sum takes the oldest slot
    of the window, and what the slot held leaves the statistics (never below zero)."""
    o = own(scratch, r)
    W = (scratch.shape[1] - o - 2) // 3
    count, total, K = counts[r, arm], sums[r, arm], counts.shape[1]
    base_learn(params[:params.shape[0] - 1], counts[:, :K], sums[:, :K], means[:, :K], scratch[:, :o], draws, r, arm,
               reward)
    added, gained = counts[r, arm] - count, sums[r, arm] - total
    slot = int(scratch[r, o])
    old = int(scratch[r, o + 1 + slot]) - 1
    if old >= 0:
        counts[r, old] -= scratch[r, o + 1 + W + slot]
        sums[r, old] -= scratch[r, o + 1 + 2 * W + slot]
        if counts[r, old] <= 1e-12:
            counts[r, old], sums[r, old] = 0.0, 0.0
        means[r, old] = sums[r, old] / max(counts[r, old], 1e-12)
        scratch[r, old] = -1.0
    scratch[r, o + 1 + slot] = arm + 1.0
    scratch[r, o + 1 + W + slot] = added
    scratch[r, o + 1 + 2 * W + slot] = gained
    scratch[r, o] = (slot + 1) % W


def window_region(slots: int) -> np.ndarray:
    region = np.zeros(3 * slots + 2)
    region[-1] = region.shape[0]
    return region


# --- truncated means -----------------------------------------------------------------------------------------
# params: ..., moment bound u, epsilon. Own columns from o: log(1/delta) with delta = 1/T^2, then each arm's
# rewards seen (K), then the count of own columns.

def robust_choose(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """A largest truncated mean + 4 u^(1/(1+e)) (log(1/delta) / n)^(e/(1+e)), an untried arm first: the base's
    statistics with the estimator's own confidence width (the base's index is not used)."""
    n = params.shape[0] - 2
    u, e = params[n], params[n + 1]
    log_inv_delta = scratch[r, own(scratch, r)]
    scale = 4.0 * u ** (1.0 / (1.0 + e))
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(counts.shape[1]):
        c = counts[r, k]
        score = np.inf if c <= 0.0 else means[r, k] + scale * (log_inv_delta / max(c, 1.0)) ** (e / (1.0 + e))
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


def robust_learn(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """The s-th reward of an arm reaches the base only if |r| <= (u s / log(1/delta))^(1/(1+e)), else as 0."""
    n = params.shape[0] - 2
    u, e = params[n], params[n + 1]
    o = own(scratch, r)
    scratch[r, o + 1 + arm] += 1.0
    threshold = (u * scratch[r, o + 1 + arm] / scratch[r, o]) ** (1.0 / (1.0 + e))
    kept = reward if abs(reward) <= threshold else 0.0
    K = counts.shape[1]
    base_learn(params[:n], counts[:, :K], sums[:, :K], means[:, :K], scratch[:, :o], draws, r, arm, kept)


def robust_region(K: int, horizon: int) -> np.ndarray:
    region = np.zeros(K + 2)
    region[0] = 2.0 * np.log(max(horizon, 2))
    region[-1] = region.shape[0]
    return region


# --- ranked bandits: a list of k items from k instances of a K-armed base (the list race of kernels/lists.py) ----
# Ranked bandits (Radlinski, Kleinberg & Joachims 2008): position p's instance picks the item for slot p. The list
# race's statistics are per position (columns p K to (p + 1) K: position p's counts, sums and means); the scratch
# row holds k blocks of B columns, position p's the base's scratch row, then each position's pick (k), then B.
# Position p's instance draws from stream (1 + p) R + r of the block's streams (`position_streams`), the
# replacement of a pick already shown above from the repetition's own stream r.

@jit
def position_streams(draws: np.ndarray, k: int) -> np.ndarray:
    """The policy's streams (R,), then position p's (R,) for each of the k positions, each derived from its
    repetition's stream alone (rng.split), so a repetition's draws do not depend on R: ((k + 1) R,)."""
    R = draws.shape[0]
    out = np.empty((k + 1) * R, np.uint64)
    positions = np.arange(k)
    for r in range(R):
        out[r] = draws[r]
        derived = rng.split(draws[r], positions)
        for p in range(k):
            out[(1 + p) * R + r] = derived[p]
    return out


@jit
def distinct_item(items: np.ndarray, p: int, pick: int, K: int, draws: np.ndarray, r: int) -> int:
    """Position p's item: its instance's pick, or, when items[:p] shows it already, uniform draws of any of the
    K items until one is not shown above."""
    item = pick
    above = True
    while above:
        above = False
        for q in range(p):
            above = above or items[q] == item
        if above:
            item = rng.below(draws, r, K)
    return item


@jit
def distinct_lists(wanted: np.ndarray, K: int, draws: np.ndarray) -> np.ndarray:
    """The lists (R, k) of every repetition's picks (R, k), as ranked_choose shows them (distinct_item)."""
    shown = np.empty_like(wanted)
    for r in range(wanted.shape[0]):
        for p in range(wanted.shape[1]):
            shown[r, p] = distinct_item(shown[r], p, wanted[r, p], K, draws, r)
    return shown


def ranked_choose(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, t: int, horizon: int, items: np.ndarray, board: np.ndarray) -> None:
    """Position by position, its instance's pick (kept in the row), shown unless shown above (distinct_item)."""
    k = items.shape[0]
    R, K = counts.shape[0], counts.shape[1] // k
    B = int(scratch[r, scratch.shape[1] - 1])
    for p in range(k):
        a, b = p * K, (p + 1) * K
        pick = base_choose(params, counts[:, a:b], sums[:, a:b], means[:, a:b], scratch[:, p * B:(p + 1) * B],
                           draws[(1 + p) * R:(2 + p) * R], r, t, horizon)
        scratch[r, k * B + p] = pick
        items[p] = distinct_item(items, p, pick, K, draws, r)


def ranked_learn(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, items: np.ndarray, observed: np.ndarray) -> None:
    """Each position's instance learns its pick: reward 1 when the click (the first) is at its position and the
    item shown there is its pick, else 0."""
    k = items.shape[0]
    R, K = counts.shape[0], counts.shape[1] // k
    B = int(scratch[r, scratch.shape[1] - 1])
    for p in range(k):
        a, b = p * K, (p + 1) * K
        pick = int(scratch[r, k * B + p])
        reward = 1.0 if observed[p] > 0.0 and items[p] == pick else 0.0
        base_learn(params, counts[:, a:b], sums[:, a:b], means[:, a:b], scratch[:, p * B:(p + 1) * B],
                   draws[(1 + p) * R:(2 + p) * R], r, pick, reward)


BORROWING = ("ranked_choose", "ranked_learn")  # bound without reference counting (lists.borrowing): each position's
# views of the statistics, the row and the streams otherwise cost two atomic operations each, 10% of the race


def ranked_row(base: np.ndarray, k: int) -> np.ndarray:
    """The ranked-bandits scratch row before the first round from the base's (B,): k copies of it, k picks, B."""
    return np.concatenate([np.tile(base, k), np.zeros(k), [float(base.shape[0])]])


# --- scalarization: a K-armed base learning a weighted sum of several rewards (the race of kernels/multi.py) -------
# Linear scalarization (Drugan & Nowe 2013) with one weight vector. params: the base's, then the D weights, then D.
# The base keeps its own scratch row (and its note column) as it is.

@jit
def weighted_sum(weights: np.ndarray, observed: np.ndarray) -> float:
    """w . r of one decision's rewards (D,), summed in objective order."""
    total = 0.0
    for d in range(observed.shape[0]):
        total += weights[d] * observed[d]
    return total


@jit
def weighted_sums(weights: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """w_i . r_i of N decisions (weights and rewards (N, D)), as scalar_learn computes each (the loop's adapter)."""
    out = np.empty(observed.shape[0])
    for i in range(observed.shape[0]):
        out[i] = weighted_sum(weights[i], observed[i])
    return out


def scalar_choose(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    n = params.shape[0] - 1 - int(params[params.shape[0] - 1])
    return base_choose(params[:n], counts, sums, means, scratch, draws, r, t, horizon)


def scalar_learn(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, observed: np.ndarray) -> None:
    """The base learns the weighted sum of the decision's rewards (D,)."""
    D = int(params[params.shape[0] - 1])
    n = params.shape[0] - 1 - D
    base_learn(params[:n], counts, sums, means, scratch, draws, r, arm, weighted_sum(params[n:n + D], observed))


TEMPLATES = {name: globals()[name] for name in (
    "queue_choose", "queue_learn", "discount_choose", "discount_learn", "window_choose", "window_learn",
    "robust_choose", "robust_learn", "ranked_choose", "ranked_learn", "scalar_choose", "scalar_learn")}


def composed_row(base: np.ndarray, K: int, region: np.ndarray) -> np.ndarray:
    """A composition's scratch row before the first round: the base's (given one more column when it is K + 1
    wide, so that the race's note column K + 1 is never the adapter's), then the adapter's own columns."""
    return np.concatenate([base if base.shape[0] > K + 1 else np.append(base, 0.0), region])


def composite_name(template: str, base_choose_name: str, base_learn_name: str) -> str:
    """The name of a template bound to a base's kernels, e.g. `queue_choose<choose_kl_ucb|learn_kl_ucb>`."""
    return f"{template}<{base_choose_name}|{base_learn_name}>"


def symbol(name: str) -> str:
    """A Python identifier for a kernel's name (a composite's is hashed, so nested ones stay short)."""
    if name.isidentifier():
        return name
    return f"{name[:name.index('<')]}_{hashlib.blake2b(name.encode(), digest_size=8).hexdigest()}"


def split(name: str) -> tuple[str, str, str]:
    """(template, base choose, base learn) of a composite name."""
    template, inner = name[:name.index("<")], name[name.index("<") + 1:-1]
    depth = 0
    for i, char in enumerate(inner):
        depth += (char == "<") - (char == ">")
        if char == "|" and depth == 0:
            return template, inner[:i], inner[i + 1:]
    raise ValueError(f"not a composite kernel name: {name}")


@functools.cache
def composite(name: str) -> Any:
    """The compiled kernel of a composite name, its base's kernels resolved by name (arms.kernel)."""
    from banditmap.sim.kernels import arms
    template, choose_name, learn_name = split(name)
    bound = arms.bind(TEMPLATES[template], symbol(name), namespace=globals(), base_choose=arms.kernel(choose_name),
                      base_learn=arms.kernel(learn_name))
    return borrowing(bound.py_func) if template in BORROWING else bound


# --- conservative exploration around a linear base (the contextual races of kernels/linear.py and moving.py) -----
# With contexts (Conservative in sim/adapters/safety.py; Wu, Shariff, Lattimore & Szepesvari 2016, Kazerouni et al.
# 2017): the budget is kept over the bounds each play had when it was made. params: the base's, then alpha. Own
# columns from o: the margin, then (linear bases) the decision's lower and upper bounds (K each), then the count
# of own columns. The base gives its bounds through `base_bounds` (bounds_* of its module), the upper one the score
# its choose kernel maximises, so the largest upper bound (ties at random, as its choose breaks them) is its choice.

def base_bounds(*args: Any) -> None:  # pragma: no cover - bound to the base's bounds in each composite
    raise NotImplementedError


@jit
def held_lower(bound: float) -> float:
    """A lower bound as the check counts it: at least 0 (rewards are non-negative), 0 when unknown (not finite)."""
    return max(bound, 0.0) if np.isfinite(bound) else 0.0


@jit
def conservative_check(alpha: float, margin: np.ndarray, i: int, lower: np.ndarray, upper: np.ndarray,
                       wanted: int) -> int:
    """The base's choice `wanted` is played when margin[i] + L_J - (1 - alpha) U_0 >= 0 (finite), else the default
    arm 0 (the default itself always is); the margin then grows by L_J - (1 - alpha) U_0 for the base's play, by
    alpha L_0 for the default's (lower bounds held_lower, the bounds (K,) of this decision)."""
    want = held_lower(lower[wanted])
    slack = margin[i] + want - (1.0 - alpha) * upper[0]
    if wanted != 0 and np.isfinite(slack) and slack >= 0.0:
        margin[i] += want - (1.0 - alpha) * upper[0]
        return wanted
    margin[i] += alpha * held_lower(lower[0])
    return 0


@jit
def conservative_steps(alpha: float, margin: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                       wanted: np.ndarray) -> np.ndarray:
    """conservative_check for every repetition r (margin (R,), bounds (R, K), the base's choices (R,))."""
    choices = np.empty(wanted.shape[0], np.int64)
    for r in range(wanted.shape[0]):
        choices[r] = conservative_check(alpha, margin, r, lower[r], upper[r], wanted[r])
    return choices


def conservative_linear_choose(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                               scratch: np.ndarray, draws: np.ndarray, r: int, x: np.ndarray) -> int:
    """The base's bounds of this decision, its choice (the largest upper bound), then the check."""
    n, K, o = params.shape[0] - 1, theta.shape[1], own(scratch, r)
    lower, upper = scratch[r, o + 1:o + 1 + K], scratch[r, o + 1 + K:o + 1 + 2 * K]
    base_bounds(params[:n], inverse, target, theta, scratch[:, :o], draws, r, x, lower, upper)
    return conservative_check(params[n], scratch[r], o, lower, upper, argmax(upper, draws, r))


def conservative_linear_learn(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                              scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, x: np.ndarray,
                              reward: float) -> None:
    base_learn(params[:params.shape[0] - 1], inverse, target, theta, scratch[:, :own(scratch, r)], draws, r, arm, x,
               reward)


def conservative_moving_choose(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                               basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray,
                               clock: np.ndarray, held_arm: np.ndarray, held_x: np.ndarray,
                               held_reward: np.ndarray, scratch: np.ndarray, draws: np.ndarray, r: int, t: int,
                               x: np.ndarray, mean: np.ndarray, width: np.ndarray) -> int:
    """The base's bounds of decision t (into mean and width (K,): lower and upper), its choice, then the check."""
    n, o = params.shape[0] - 1, own(scratch, r)
    base_bounds(params[:n], gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x, held_reward,
                r, t, x, mean, width)
    return conservative_check(params[n], scratch[r], o, mean, width, argmax(width, draws, r))


def conservative_moving_learn(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                              basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray,
                              clock: np.ndarray, held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray,
                              scratch: np.ndarray, r: int, t: int, arm: int, x: np.ndarray, reward: float) -> None:
    base_learn(params[:params.shape[0] - 1], gram, squared, target, basis, inner, coef, since, clock, held_arm,
               held_x, held_reward, scratch[:, :own(scratch, r)], r, t, arm, x, reward)


LINEAR_TEMPLATES = {name: globals()[name] for name in (
    "conservative_linear_choose", "conservative_linear_learn", "conservative_moving_choose",
    "conservative_moving_learn")}


def conservative_region(K: int, linear: bool) -> np.ndarray:
    """The conservative template's own columns before the first round: a zero margin, room for the bounds of a
    decision (linear bases: the moving race hands its own), their count."""
    region = np.zeros(2 + (2 * K if linear else 0))
    region[-1] = region.shape[0]
    return region


@functools.cache
def linear_composite(name: str) -> Any:
    """The compiled kernel of a composite name around a linear base (`conservative_linear_...`: kernels/linear.py)
    or a moving one (`conservative_moving_...`: kernels/moving.py); a base's bounds kernel is named as its choose
    kernel with `bounds_` for `choose_`."""
    from banditmap.sim.kernels import arms, linear, moving
    template, choose_name, learn_name = split(name)
    module: Any = linear if template.startswith("conservative_linear") else moving
    return arms.bind(LINEAR_TEMPLATES[template], symbol(name), namespace=globals(),
                     base_bounds=module.kernel("bounds_" + choose_name.removeprefix("choose_")),
                     base_learn=module.kernel(learn_name))
