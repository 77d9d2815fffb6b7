"""Kernels of the K-armed policies beyond the counting ones of arms.py: statistics that forget (a sliding window,
discounting), best-arm identification (top-two Thompson sampling, LUCB, successive elimination) and exponential
weights (EXP3, EXP3-S, EXP3-IX, EXP3.P); the delay queue is the delay-queue adapter's (wrappers.py).

Each is a `choose`/`learn` pair with arms.py's signature, so the same whole-race kernel and step-by-step loop run
them. What a policy keeps besides the per-arm counts, sums and means lives in its scratch row (R, W), after the
columns arms.py reserves (a per-arm cache :K, column K, the note K + 1): the layout of each is given with it, and
its width by the policy's `width` (policies/mab.py's Kernel and the classes built on it)."""

from __future__ import annotations

import math

import numpy as np

from banditmap.sim.kernels import jit, rng
from banditmap.sim.kernels.arms import consider_step, greedy, learn_counts

# --- forgetting -------------------------------------------------------------------------------------------------

@jit
def discount(gamma: float, counts: np.ndarray, sums: np.ndarray, r: int) -> None:
    """Every arm's count and sum times gamma (their means are unchanged)."""
    for k in range(counts.shape[1]):
        counts[r, k] *= gamma
        sums[r, k] *= gamma


@jit
def choose_discounted_ucb(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                          scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: gamma, c. Discount the statistics, then a largest mean + 2 sqrt(c log n / n_a) over discounted
    counts, n their total (at least 2), an arm of count below 1e-6 first (Garivier & Moulines 2011)."""
    discount(params[0], counts, sums, r)
    log_total = math.log(max(counts[r].sum(), 2.0))
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(counts.shape[1]):
        n = counts[r, k]
        if n < 1e-6:
            score = np.inf
        else:
            score = sums[r, k] / max(n, 1e-9) + 2.0 * math.sqrt(params[1] * log_total / max(n, 1e-9))
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def choose_discounted_ts(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: gamma. Discount the statistics, then a largest draw from each arm's Beta(1 + successes,
    1 + failures) over discounted counts (Raj & Kalyani 2017), as X / (X + Y) of two Gamma draws (rng.beta_step's
    draws); learns through arms.learn_bernoulli_trial. Each arm is discounted just before its draw, and its draw
    is divided out only when it may be a best one (rng.ratio_below: the same choices, a division an arm saved).
    The stream's state stays in a local for the draws."""
    gamma = params[0]
    best, pick, ties = -np.inf, -1, 0
    state = draws[r]
    for k in range(counts.shape[1]):
        counts[r, k] *= gamma
        sums[r, k] *= gamma
        x, total, state = rng.beta_parts_step(state, 1.0 + sums[r, k], 1.0 + max(counts[r, k] - sums[r, k], 0.0))
        if pick >= 0 and rng.ratio_below(x, total, best):
            continue
        best, pick, ties, state = consider_step(x / total, k, best, pick, ties, state)
    draws[r] = state
    return pick


# sliding window: scratch[r, K + 2] the slot written next, then W slots of the arm observed + 1 (0: empty), then
# W slots of its reward (W = the window, or the run when it is shorter)

@jit
def choose_sliding_window_ucb(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                              scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: window, c. A largest mean + sqrt(c log min(n, window) / n_a) over the last `window` observations,
    n their number (log at least log 2), an arm absent from them first (Garivier & Moulines 2011)."""
    log_horizon = math.log(max(min(counts[r].sum(), params[0]), 2.0))
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(counts.shape[1]):
        n = counts[r, k]
        score = np.inf if n < 0.5 else means[r, k] + math.sqrt(params[1] * log_horizon / max(n, 1.0))
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def learn_sliding_window(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """The observation takes the oldest slot of the window; the one it held leaves the statistics."""
    K = counts.shape[1]
    start = K + 3
    W = (scratch.shape[1] - start) // 2
    slot = int(scratch[r, K + 2])
    old = int(scratch[r, start + slot]) - 1
    if old >= 0:
        counts[r, old] -= 1.0
        sums[r, old] -= scratch[r, start + W + slot]
        means[r, old] = sums[r, old] / max(counts[r, old], 1.0)
    scratch[r, start + slot] = arm + 1.0
    scratch[r, start + W + slot] = reward
    counts[r, arm] += 1.0
    sums[r, arm] += reward
    means[r, arm] = sums[r, arm] / max(counts[r, arm], 1.0)
    scratch[r, K + 2] = (slot + 1) % W


# --- exponential weights ----------------------------------------------------------------------------------------

@jit
def weights_total(scratch: np.ndarray, r: int, start: int, K: int) -> tuple[float, float]:
    """(the largest of the K log weights from column `start`, the sum of exp(log weight - largest))."""
    top = -np.inf
    for k in range(K):
        top = max(top, scratch[r, start + k])
    total = 0.0
    for k in range(K):
        total += math.exp(scratch[r, start + k] - top)
    return top, total


# EXP3-IX: scratch[r, :K] each arm's exp(log weight - top), top (scratch[r, K]) the largest log weight when they
# were computed; scratch[r, K + 1] the note (the chosen arm's probability), scratch[r, K + 2] and [K + 3] eta and
# gamma as tuned for the run, then the K log weights (up to a constant), then the running sums of the weights over
# blocks of BLOCK arms (ceil(K / BLOCK) of them: the sum of blocks 0 to b in column 2K + 4 + b).

BLOCK = 8  # arms per block of weights: a block's eight are summed as a tree, so its additions need not wait in turn


@jit
def block_sums(scratch: np.ndarray, r: int, K: int) -> tuple[bool, float]:
    """The running sums of the kept weights over their blocks, into the columns after the log weights (a full
    block's eight summed as a tree of pairs, the last, shorter one in arm order): whether every weight is positive
    (else the sums are not used), and the sum of them all (the last running sum)."""
    at = 2 * K + 4
    total = 0.0
    low = np.inf
    full = K // BLOCK
    for b in range(full):
        i = b * BLOCK
        w0, w1, w2, w3 = scratch[r, i], scratch[r, i + 1], scratch[r, i + 2], scratch[r, i + 3]
        w4, w5, w6, w7 = scratch[r, i + 4], scratch[r, i + 5], scratch[r, i + 6], scratch[r, i + 7]
        low = min(low, min(min(min(w0, w1), min(w2, w3)), min(min(w4, w5), min(w6, w7))))
        total += ((w0 + w1) + (w2 + w3)) + ((w4 + w5) + (w6 + w7))
        scratch[r, at + b] = total
    if full * BLOCK < K:
        part = 0.0
        for k in range(full * BLOCK, K):
            low = min(low, scratch[r, k])
            part += scratch[r, k]
        total += part
        scratch[r, at + full] = total
    return low > 0.0, total


@jit
def exp_weights(scratch: np.ndarray, r: int, start: int, K: int) -> float:
    """The sum of the K weights exp(log weight - top) kept in scratch[r, :K], with their running sums over blocks
    (block_sums). They are computed afresh (top the largest log weight then) when one is not positive (a row never
    computed, an entry an adapter marked stale with -1, a weight that underflowed) or their sum has fallen below
    1e-150; otherwise the learner keeps the weight of the arm it updates current, so a decision takes K additions
    instead of K exponentials."""
    fresh, total = block_sums(scratch, r, K)
    if not fresh or total < 1e-150:
        top, _ = weights_total(scratch, r, start, K)
        scratch[r, K] = top
        for k in range(K):
            scratch[r, k] = math.exp(scratch[r, start + k] - top)
        _, total = block_sums(scratch, r, K)
    return total


@jit
def choose_exp3_ix(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                   draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: eta, gamma (0: Neu's tuning, eta = sqrt(2 ln K / (K T)), gamma = eta / 2). An arm drawn with
    probability proportional to exp(log weight): with target a uniform share of the weights' sum, the first block
    whose running sum exceeds it (by bisection, as the running sums only grow), then in it the first arm whose sum
    with those before exceeds it (the block's last if rounding leaves none; the last arm if no block exceeds it);
    its probability is the decision's note."""
    K = counts.shape[1]
    eta = params[0] if params[0] > 0.0 else math.sqrt(2.0 * math.log(K) / (K * max(horizon, 1)))
    scratch[r, K + 2] = eta
    scratch[r, K + 3] = params[1] if params[1] > 0.0 else eta / 2.0
    total = exp_weights(scratch, r, K + 4, K)
    target = rng.uniform(draws, r) * total
    at = 2 * K + 4
    low, high = 0, (K + BLOCK - 1) // BLOCK  # the first running sum above target is in [low, high] (high: none)
    while low < high:
        middle = (low + high) // 2
        if scratch[r, at + middle] > target:
            high = middle
        else:
            low = middle + 1
    arm = K - 1
    if low * BLOCK < K:
        cumulative = scratch[r, at + low - 1] if low > 0 else 0.0
        arm = min(low * BLOCK + BLOCK, K) - 1
        for k in range(low * BLOCK, arm):
            cumulative += scratch[r, k]
            if cumulative > target:
                arm = k
                break
    scratch[r, K + 1] = scratch[r, arm] / total
    return int(arm)


@jit
def learn_exp3_ix(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """The loss 1 - reward (reward clipped into [0, 1]) of the arm played enters its weight as eta (1 - r) / (p +
    gamma), p its probability at the decision (Neu 2015); the counts are kept too."""
    K = counts.shape[1]
    loss = (1.0 - min(max(reward, 0.0), 1.0)) / (scratch[r, K + 1] + scratch[r, K + 3])
    scratch[r, K + 4 + arm] -= scratch[r, K + 2] * loss
    if scratch[r, arm] > 0.0:  # its kept weight follows (a loss only lowers it: top stays an upper bound)
        scratch[r, arm] = math.exp(scratch[r, K + 4 + arm] - scratch[r, K])
    learn_counts(params, counts, sums, means, scratch, draws, r, arm, reward)


# --- best-arm identification ------------------------------------------------------------------------------------

@jit
def posterior_sample(counts: np.ndarray, sums: np.ndarray, draws: np.ndarray, r: int,
                     leader: int) -> tuple[int, int]:
    """One draw from every arm's Beta(1 + successes, 1 + failures) posterior (sums and failures clipped at 0):
    the arm with the largest draw, and the largest apart from `leader`."""
    best, runner_up = -1, -1
    top, second = -np.inf, -np.inf
    state = draws[r]  # in a local for the K draws (rng.beta_step)
    for k in range(counts.shape[1]):
        x, state = rng.beta_step(state, 1.0 + max(sums[r, k], 0.0), 1.0 + max(counts[r, k] - sums[r, k], 0.0))
        if x > top:
            top, best = x, k
        if k != leader and x > second:
            second, runner_up = x, k
    draws[r] = state
    return best, runner_up


@jit
def choose_top_two_ts(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                      scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: beta, resamples. Top-two Thompson sampling (Russo 2016): the best arm of a posterior sample with
    probability beta, otherwise the best arm of a fresh sample that differs from it (up to `resamples` fresh
    samples, then the best but the leader of the last one)."""
    # no arm left out (K, an int as `leader` below: the constant -1 is a type of its own to numba, one more compile)
    leader, _ = posterior_sample(counts, sums, draws, r, counts.shape[1])
    if rng.uniform(draws, r) < params[0]:
        return leader
    challenger = leader
    for _ in range(int(params[1])):
        best, challenger = posterior_sample(counts, sums, draws, r, leader)
        if best != leader:
            return best
    return challenger


K1 = 5.0 / 4.0  # the constant in LUCB1's exploration rate

# LUCB: scratch[r, K + 2] the challenger to sample after the leader (-1: the next decision starts a new pair),
# [K + 3] 1 once the stopping rule has fired, [K + 4] the arm named then.


@jit
def untried(counts: np.ndarray, draws: np.ndarray, r: int) -> int:
    """An arm never observed, chosen uniformly among them, or -1."""
    pick, seen = -1, 0
    for k in range(counts.shape[1]):
        if counts[r, k] == 0.0:
            seen += 1
            if rng.uniform(draws, r) * seen < 1.0:
                pick = k
    return pick


@jit
def choose_lucb(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: delta, epsilon. LUCB1 (Kalyanakrishnan, Tewari, Auer & Stone 2012) for the single best arm, one
    sample per decision: every arm once (an untried one at random), then pairs: the empirical best arm h (the
    leader) and after it, among the others, the arm l of highest upper bound (the challenger). As a pair begins,
    the rule L(h) > U(l) - epsilon stops the test, and the arm named, h, is played to the end. Bounds are
    mean +/- sqrt(ln(k1 K t^4 / delta) / (2u)), u the arm's samples, t the pairs so far (samples / 2, at least 1),
    k1 = 5/4. Ties are broken at random at each decision."""
    K = counts.shape[1]
    if scratch[r, K + 3] > 0.0:
        return int(scratch[r, K + 4])
    pending = int(scratch[r, K + 2])
    scratch[r, K + 2] = -1.0
    first = untried(counts, draws, r)
    if first >= 0:  # (an arm unsampled mid-pair: statistics rewritten by an adapter) first samples come first
        return first
    if pending >= 0:
        return pending
    leader = greedy(means, counts, draws, r)
    pairs = max(counts[r].sum() / 2.0, 1.0)
    # ln(k1 K t^4) - ln(delta), not ln(k1 K t^4 / delta): dividing overflows near delta = 0
    budget = math.log(K1 * K) + 4.0 * math.log(pairs) - math.log(params[0])
    best, challenger, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(K):
        if k != leader:
            upper = means[r, k] + math.sqrt(budget / (2.0 * counts[r, k]))
            best, challenger, ties, state = consider_step(upper, k, best, challenger, ties, state)
    draws[r] = state
    if means[r, leader] - math.sqrt(budget / (2.0 * counts[r, leader])) > best - params[1]:
        scratch[r, K + 3] = 1.0
        scratch[r, K + 4] = leader
        return leader
    scratch[r, K + 2] = challenger
    return leader


# Successive elimination: scratch[r, K + 2 + k] 1 while arm k survives, 0 once eliminated.

@jit
def choose_successive_elimination(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                                  scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: delta. Round-robin over the surviving arms: one of those observed least (ties at random)."""
    K = counts.shape[1]
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(K):
        if scratch[r, K + 2 + k] > 0.0:
            best, pick, ties, state = consider_step(-counts[r, k], k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def elimination_radius(params: np.ndarray, counts: np.ndarray, r: int, k: int) -> float:
    """sqrt(ln(4 K n^2 / delta) / (2n)) for an arm observed n times; infinite before its first observation."""
    n = counts[r, k]
    if n == 0.0:
        return np.inf
    # ln(4 K n^2) - ln(delta), not ln(4 K n^2 / delta): dividing overflows near delta = 0
    return math.sqrt((math.log(4.0 * counts.shape[1] * n * n) - math.log(params[0])) / (2.0 * n))


@jit
def learn_elimination(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                      scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """Count the observation, then eliminate every surviving arm whose upper bound falls below the best lower
    bound among the survivors (Even-Dar, Mannor & Mansour 2002)."""
    learn_counts(params, counts, sums, means, scratch, draws, r, arm, reward)
    K = counts.shape[1]
    lower = -np.inf
    for k in range(K):
        if scratch[r, K + 2 + k] > 0.0:
            lower = max(lower, means[r, k] - elimination_radius(params, counts, r, k))
    for k in range(K):
        if scratch[r, K + 2 + k] > 0.0 and means[r, k] + elimination_radius(params, counts, r, k) < lower:
            scratch[r, K + 2 + k] = 0.0


# EXP3 and EXP3-S: scratch[r, K + 1] the note (the chosen arm's probability), then the K log weights (up to a
# constant).

@jit
def choose_exp3(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: gamma (EXP3-S: then alpha). An arm drawn with probability (1 - gamma) w / sum w + gamma / K (Auer,
    Cesa-Bianchi, Freund & Schapire 2002); its probability is the decision's note."""
    K = counts.shape[1]
    gamma = params[0]
    top, total = weights_total(scratch, r, K + 2, K)
    target = rng.uniform(draws, r)
    cumulative = 0.0
    arm, chance = K - 1, 0.0
    for k in range(K):
        chance = (1.0 - gamma) * math.exp(scratch[r, K + 2 + k] - top) / total + gamma / K
        cumulative += chance
        if cumulative > target:
            arm = k
            break
    scratch[r, K + 1] = chance
    return int(arm)


@jit
def learn_exp3(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
               draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """The arm played gains gamma x / K in log weight, x = r / p its importance-weighted reward (r clipped into
    [0, 1], p its probability at the decision); the counts are kept too."""
    K = counts.shape[1]
    scratch[r, K + 2 + arm] += params[0] * min(max(reward, 0.0), 1.0) / scratch[r, K + 1] / K
    learn_counts(params, counts, sums, means, scratch, draws, r, arm, reward)


@jit
def learn_exp3_s(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """EXP3's step, then weight sharing: every weight w_i becomes w_i + (e alpha / K) sum_j w_j, the sum over the
    weights after the step (Exp3.S, Auer et al. 2002), so an arm left behind can come back after a switch."""
    learn_exp3(params, counts, sums, means, scratch, draws, r, arm, reward)
    K = counts.shape[1]
    top, total = weights_total(scratch, r, K + 2, K)
    shared = math.e * params[1] / K * total
    for k in range(K):
        scratch[r, K + 2 + k] = math.log(math.exp(scratch[r, K + 2 + k] - top) + shared)


# EXP3.P: scratch[r, K + 1:2K + 1] the note, every arm's probability at the decision (the start row holds -K in
# column K + 1 for it: arms.note_columns), [2K + 1] gamma, [2K + 2] gamma / (3K), [2K + 3] alpha / sqrt(K T) as tuned
# for the run, then the K log weights (up to a constant).

@jit
def choose_exp3_p(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """An arm drawn with probability p = (1 - gamma) w / sum w + gamma / K (Auer, Cesa-Bianchi, Freund & Schapire
    2002, EXP3.P): the first whose running sum of p exceeds a uniform draw (the last if rounding leaves none); every
    arm's p is the decision's note, as every arm's update reads its own."""
    K = counts.shape[1]
    gamma = scratch[r, 2 * K + 1]
    top, total = weights_total(scratch, r, 2 * K + 4, K)
    target = rng.uniform(draws, r)
    cumulative = 0.0
    arm = -1
    for k in range(K):
        chance = (1.0 - gamma) * math.exp(scratch[r, 2 * K + 4 + k] - top) / total + gamma / K
        scratch[r, K + 1 + k] = chance
        cumulative += chance
        if arm < 0 and cumulative > target:
            arm = k
    return arm if arm >= 0 else K - 1


@jit
def learn_exp3_p(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                 draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """Every arm's log weight grows by gamma / (3K) (x + alpha / (p sqrt(K T))), p its probability at the decision
    and x = r / p for the arm played (r clipped into [0, 1]), 0 for the others: the bonus keeps the weights' bias
    optimistic enough for a bound that holds with high probability. The counts are kept too."""
    K = counts.shape[1]
    rate, bonus = scratch[r, 2 * K + 2], scratch[r, 2 * K + 3]
    for k in range(K):
        chance = scratch[r, K + 1 + k]
        estimate = min(max(reward, 0.0), 1.0) / chance if k == arm else 0.0
        scratch[r, 2 * K + 4 + k] += rate * (estimate + bonus / chance)
    learn_counts(params, counts, sums, means, scratch, draws, r, arm, reward)


# Delayed conversions: scratch[r, K + 1] the note (the round of the play), [K + 2] the decisions made, [K + 3] q,
# [K + 4] q^window, [K + 5] q^(window + 1) (set by the policy's start row), then per arm the plays within the
# window, the sum of q^age over them and the older plays (K each), then a ring of the last plays' arm + 1 (0:
# none), as long as the window or the run.

@jit
def choose_delayed_conversions(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                               scratch: np.ndarray, draws: np.ndarray, r: int, t: int, horizon: int) -> int:
    """params: window, kl. Vernade, Cappe & Perchet (2017), an arm never played first, then a largest index on
    rate = the conversions in time over revealed = old (1 - q^window) + in window - decay, the plays' expected
    share revealed: with kl 0 (their UCB), min(rate, 1) + sqrt(2 n log t) / revealed, n the arm's plays; with kl 1
    (their KL-UCB), the largest q in [rate, 1] with revealed d_Pois(rate, q) <= log t, d_Pois the Poisson
    divergence (poisson_upper). The play is counted when made, every play ages by a round, and the play `window`
    rounds ago leaves the window."""
    return choose_conversions(counts, sums, means, scratch, draws, r, t, params[1] > 0.5)


@jit
def poisson_upper(rate: float, budget: float) -> float:
    """The largest q in [rate, 1] with d(rate, q) = q - rate + rate log(rate / q) <= budget (Poisson divergence;
    1 when d(rate, 1) is within the budget). Newton's steps from q0 = rate + b + sqrt(2 rate b + b^2), b the
    budget, where d(rate, q0) >= budget (as d(p, q) >= (q - p)^2 / (2 q) for q >= p): d is convex and increasing
    in q above the rate, so the steps fall to the root from above, never past it."""
    p = max(rate, 0.0)
    if p >= 1.0 or budget <= 0.0:
        return min(p, 1.0)
    if 1.0 - p + (p * math.log(p) if p > 0.0 else 0.0) <= budget:
        return 1.0
    q = min(p + budget + math.sqrt(2.0 * p * budget + budget * budget), 1.0)
    for _ in range(60):
        gap = q - p + (p * math.log(p / q) if p > 0.0 else 0.0) - budget
        step = gap / (1.0 - p / q)
        q -= step
        if step <= 1e-12 * q:
            break
    return max(q, p)


@jit
def revealed(scratch: np.ndarray, r: int, k: int, K: int, q_window: float) -> float:
    """Arm k's plays' expected number revealed so far (at least 1e-9): old (1 - q^window) + in window - decay."""
    share: float = scratch[r, 3 * K + 6 + k] * (1.0 - q_window) + scratch[r, K + 6 + k] - scratch[r, 2 * K + 6 + k]
    return max(share, 1e-9)


@jit
def choose_conversions(counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                       draws: np.ndarray, r: int, t: int, kl: bool) -> int:
    """A largest index (UCB, or KL-UCB when kl) on each arm's windowed estimate, then the play's books: counted,
    every play a round older, the play `window` rounds ago out of the window. A KL-UCB index lies between
    rate + sqrt(2 rate b) and rate + b + sqrt(2 rate b + b^2), b the budget (poisson_upper): it is worked out
    only for arms whose upper bound reaches the largest lower bound, as no other arm can have the largest index."""
    K = counts.shape[1]
    q, q_window, q_after = scratch[r, K + 3], scratch[r, K + 4], scratch[r, K + 5]
    in_window, decay, old = K + 6, 2 * K + 6, 3 * K + 6
    ring = 4 * K + 6
    log_t = math.log(max(t, 2))
    floor = -np.inf
    if kl:
        for k in range(K):
            share = revealed(scratch, r, k, K, q_window)
            rate = sums[r, k] / share
            lower = min(rate + math.sqrt(2.0 * rate * log_t / share), 1.0)
            floor = max(floor, np.inf if counts[r, k] == 0.0 else lower)
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(K):
        share = revealed(scratch, r, k, K, q_window)
        score = np.inf
        if counts[r, k] != 0.0:
            rate = sums[r, k] / share
            if kl:
                budget = log_t / share
                if rate + budget + math.sqrt(2.0 * rate * budget + budget * budget) < floor - 1e-12:
                    continue  # (the margin covers rounding in the bounds)
                score = poisson_upper(rate, budget)
            else:
                plays = scratch[r, in_window + k] + scratch[r, old + k]
                score = min(rate, 1.0) + math.sqrt(2.0 * plays * log_t) / share
        best, pick, ties, state = consider_step(score, k, best, pick, ties, state)
    draws[r] = state
    counts[r, pick] += 1.0
    means[r, pick] = sums[r, pick] / counts[r, pick]
    for k in range(K):
        scratch[r, decay + k] *= q
    slot = ring + t % (scratch.shape[1] - ring)
    leaving = int(scratch[r, slot]) - 1
    if leaving >= 0:
        scratch[r, in_window + leaving] -= 1.0
        scratch[r, decay + leaving] -= q_after
        scratch[r, old + leaving] += 1.0
    for k in range(K):
        scratch[r, decay + k] = max(scratch[r, decay + k], 0.0)
    scratch[r, slot] = pick + 1.0
    scratch[r, in_window + pick] += 1.0
    scratch[r, decay + pick] += q
    scratch[r, K + 1] = t
    scratch[r, K + 2] = t + 1.0
    return pick


@jit
def learn_conversions(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                      scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, reward: float) -> None:
    """A conversion (reward > 0) of a play at most `window` rounds before the decisions made so far counts; the
    play itself was counted when made."""
    K = counts.shape[1]
    if reward > 0.0 and scratch[r, K + 2] - scratch[r, K + 1] <= params[0]:
        sums[r, arm] += 1.0
        means[r, arm] = sums[r, arm] / counts[r, arm]
