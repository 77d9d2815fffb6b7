"""Compiled kernels of the linear contextual policies: one ridge regression per arm (disjoint models, Li et al.
2010), kept as the inverse A^-1 (R, K, d, d) of l2 I + sum x x^T, the target b (R, K, d) = sum r x and the estimate
theta (R, K, d) = A^-1 b, updated by the Sherman-Morrison formula, and a scratch row per repetition (R, W) for what
a policy or an adapter's template (kernels/wrappers.py) keeps besides; decisions for one repetition r with context
x (d,), ties broken uniformly at random (arms.consider)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, rng
from banditmap.sim.kernels.arms import bind, consider, consider_step


@jit
def inverse_times(inverse: np.ndarray, r: int, k: int, x: np.ndarray, out: np.ndarray) -> None:
    """out = A^-1 x for arm k's inverse, symmetric (Sherman-Morrison steps keep it so exactly), read by rows: the
    sum of x_j times row j, each entry's terms added in the order of a row-by-x product (the same numbers), in
    a loop the compiler turns into vector instructions."""
    d = x.shape[0]
    for i in range(d):
        out[i] = 0.0
    for j in range(d):
        xj = x[j]
        for i in range(d):
            out[i] += inverse[r, k, j, i] * xj


@jit
def mean_and_width(inverse: np.ndarray, theta: np.ndarray, r: int, k: int, x: np.ndarray,
                   ax: np.ndarray) -> tuple[float, float]:
    """Arm k's predicted reward x^T theta and the width sqrt(x^T A^-1 x) of its confidence ellipsoid (`ax` (d,)
    scratch: A^-1 x as inverse_times makes it, the estimate summed in the same pass over x, which nearly halves a
    decision's time on 20 arms of 16 features; LLVM inlines it where it is called, for every arm in turn)."""
    d = x.shape[0]
    for i in range(d):
        ax[i] = 0.0
    mean = 0.0
    for j in range(d):
        xj = x[j]
        mean += theta[r, k, j] * xj
        for i in range(d):
            ax[i] += inverse[r, k, j, i] * xj
    quad = 0.0
    for i in range(d):
        quad += x[i] * ax[i]
    return mean, math.sqrt(max(quad, 0.0))


@jit
def choose_linucb(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                  scratch: np.ndarray, draws: np.ndarray, r: int, x: np.ndarray) -> int:
    """params: l2, alpha. The largest x^T theta + alpha sqrt(x^T A^-1 x) (LinUCB, Li et al. 2010)."""
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    ax = np.empty(x.shape[0])
    for k in range(theta.shape[1]):
        mean, width = mean_and_width(inverse, theta, r, k, x, ax)
        best, pick, ties, state = consider_step(mean + params[1] * width, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def choose_lin_ts(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                  scratch: np.ndarray, draws: np.ndarray, r: int, x: np.ndarray) -> int:
    """params: l2, v. The largest draw of x^T theta from N(x^T theta_hat, v^2 x^T A^-1 x), the distribution of
    x^T theta under the arm's Gaussian posterior (linear Thompson sampling, Agrawal & Goyal 2013)."""
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    ax = np.empty(x.shape[0])
    for k in range(theta.shape[1]):
        mean, width = mean_and_width(inverse, theta, r, k, x, ax)
        z, _, state = rng.normal_and_uniform_step(state)  # rng.normal's draw
        best, pick, ties, state = consider_step(mean + params[1] * width * z, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def choose_eps_greedy(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                      scratch: np.ndarray, draws: np.ndarray, r: int, x: np.ndarray) -> int:
    """params: l2, epsilon. With probability epsilon an arm drawn uniformly, else the largest x^T theta (the
    epsilon-greedy regression oracle)."""
    K = theta.shape[1]
    if rng.uniform(draws, r) < params[1]:
        return rng.below(draws, r, K)
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(K):
        mean = 0.0
        for i in range(x.shape[0]):
            mean += theta[r, k, i] * x[i]
        best, pick, ties, state = consider_step(mean, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def ucb_bounds(scale: float, inverse: np.ndarray, theta: np.ndarray, r: int, x: np.ndarray, lower: np.ndarray,
               upper: np.ndarray) -> None:
    """Every arm's x^T theta -+ scale sqrt(x^T A^-1 x) into lower and upper (K,): the upper bound is the score
    choose_linucb maximises (the same sums), so its largest is LinUCB's choice."""
    ax = np.empty(x.shape[0])
    for k in range(theta.shape[1]):
        mean, width = mean_and_width(inverse, theta, r, k, x, ax)
        lower[k] = mean - scale * width
        upper[k] = mean + scale * width


@jit
def bounds_linucb(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                  scratch: np.ndarray, draws: np.ndarray, r: int, x: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray) -> None:
    """params: l2, alpha. LinUCB's confidence bounds x^T theta -+ alpha sqrt(x^T A^-1 x) (K,) of this decision."""
    ucb_bounds(params[1], inverse, theta, r, x, lower, upper)


@jit
def step_bounds(scale: float, inverse: np.ndarray, theta: np.ndarray, contexts: np.ndarray) -> tuple[np.ndarray,
                                                                                                       np.ndarray]:
    """ucb_bounds for every repetition (contexts (R, d)): lower and upper (R, K)."""
    R, K = theta.shape[0], theta.shape[1]
    lower, upper = np.empty((R, K)), np.empty((R, K))
    for r in range(R):
        ucb_bounds(scale, inverse, theta, r, contexts[r], lower[r], upper[r])
    return lower, upper


@jit
def spread_of(inverse: np.ndarray, r: int, k: int, z: np.ndarray, az: np.ndarray) -> float:
    """||z||_{A_k^-1} = sqrt(z^T A_k^-1 z), held at 0 below (`az` (d,) scratch)."""
    inverse_times(inverse, r, k, z, az)
    quad = 0.0
    for i in range(z.shape[0]):
        quad += z[i] * az[i]
    return math.sqrt(max(quad, 0.0))


@jit
def choose_conservative_linucb(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                               scratch: np.ndarray, draws: np.ndarray, r: int, x: np.ndarray) -> int:
    """params: l2, alpha. Conservative LinUCB (Kazerouni, Ghavamzadeh, Abbasi-Yadkori & Van Roy 2017) on per-arm
    ridge models, the scratch row holding the sum of the contexts each arm was played in (K x d, arm by arm) and
    the sum of every context so far (d): LinUCB's arm J (width 1) is played when a lower bound of what the other
    arms' plays earned, sum_{k != 0} (z_k^T theta_k - ||z_k||_{A_k^-1}), plus J's lower bound now, plus the
    pessimistic baseline term c^T theta_0 - ||c||_{A_0^-1}, c = (the baseline's contexts) - (1 - alpha)(every
    context, this one too), is at least 0; else the baseline arm 0. The context joins the sums."""
    K, d = theta.shape[1], x.shape[0]
    alpha = params[1]
    row = scratch[r]
    ax = np.empty(d)
    best, pick, ties, floor = -np.inf, -1, 0, 0.0
    for k in range(K):
        mean, width = mean_and_width(inverse, theta, r, k, x, ax)
        best, chosen, ties = consider(mean + width, k, best, pick, ties, draws, r)
        if chosen != pick:
            pick, floor = chosen, mean - width
    seen = row[K * d:K * d + d]
    for i in range(d):
        seen[i] += x[i]
    earned = 0.0
    for k in range(1, K):
        z = row[k * d:(k + 1) * d]
        gained = 0.0
        for i in range(d):
            gained += z[i] * theta[r, k, i]
        earned += gained - spread_of(inverse, r, k, z, ax)
    c = np.empty(d)
    for i in range(d):
        c[i] = row[i] - (1.0 - alpha) * seen[i]
    baseline = 0.0
    for i in range(d):
        baseline += c[i] * theta[r, 0, i]
    baseline -= spread_of(inverse, r, 0, c, ax)
    choice = pick if pick == 0 or earned + floor + baseline >= 0.0 else 0
    for i in range(d):
        row[choice * d + i] += x[i]
    return choice


@jit
def learn_ridge(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, x: np.ndarray, reward: float) -> None:
    """Add (x, reward) to arm's regression: A^-1 <- A^-1 - (A^-1 x)(A^-1 x)^T / (1 + x^T A^-1 x), b += r x,
    theta = A^-1 b."""
    d = x.shape[0]
    ax = np.empty(d)
    inverse_times(inverse, r, arm, x, ax)
    shrink = 0.0
    for i in range(d):
        shrink += x[i] * ax[i]
    shrink = 1.0 / (1.0 + shrink)
    for i in range(d):
        target[r, arm, i] += reward * x[i]
        for j in range(d):
            inverse[r, arm, i, j] -= ax[i] * ax[j] * shrink
    inverse_times(inverse, r, arm, target[r, arm], theta[r, arm])


@jit
def learn_logistic(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                   scratch: np.ndarray, draws: np.ndarray, r: int, arm: int, x: np.ndarray, reward: float) -> None:
    """One online Newton step of arm's logistic regression on (x, reward clipped to [0, 1]): p = sigmoid(x^T
    theta) (its argument clipped to +-500), the inverse Hessian H^-1 <- (H + w x x^T)^-1 with w = max(p (1 - p),
    1e-6) by the Sherman-Morrison formula, then theta += H^-1 x (reward - p) with the new H^-1 (`target` unused)."""
    d = x.shape[0]
    score = 0.0
    for i in range(d):
        score += theta[r, arm, i] * x[i]
    p = 1.0 / (1.0 + math.exp(-min(max(score, -500.0), 500.0)))
    weight = max(p * (1.0 - p), 1e-6)
    ax = np.empty(d)
    inverse_times(inverse, r, arm, x, ax)
    quad = 0.0
    for i in range(d):
        quad += x[i] * ax[i]
    shrink = weight / (1.0 + weight * quad)
    for i in range(d):
        for j in range(d):
            inverse[r, arm, i, j] -= ax[i] * ax[j] * shrink
    residual = min(max(reward, 0.0), 1.0) - p
    inverse_times(inverse, r, arm, x, ax)
    for i in range(d):
        theta[r, arm, i] += ax[i] * residual


@jit
def cholesky_solve(factor: np.ndarray, rhs: np.ndarray, out: np.ndarray) -> None:
    """out = M^-1 rhs for M = L L^T, L the lower triangle of `factor` (forward then back substitution)."""
    d = rhs.shape[0]
    for i in range(d):
        total = rhs[i]
        for j in range(i):
            total -= factor[i, j] * out[j]
        out[i] = total / factor[i, i]
    for i in range(d - 1, -1, -1):
        total = out[i]
        for j in range(i + 1, d):
            total -= factor[j, i] * out[j]
        out[i] = total / factor[i, i]


@jit
def cholesky_inverse(factor: np.ndarray, out: np.ndarray, columns: np.ndarray) -> None:
    """out[c] = M^-1 e_c for every c, as cholesky_solve gives each (the same operations on each entry, in the same
    order), the d systems solved side by side: entry i of every column at once (`columns` (d, d) scratch, column c
    in its second index), which keeps the processor busy where one system's substitutions wait on each other."""
    d = factor.shape[0]
    for i in range(d):
        for c in range(d):
            columns[i, c] = 1.0 if i == c else 0.0
        for j in range(i):
            f = factor[i, j]
            for c in range(d):
                columns[i, c] -= f * columns[j, c]
        for c in range(d):
            columns[i, c] /= factor[i, i]
    for i in range(d - 1, -1, -1):
        for j in range(i + 1, d):
            f = factor[j, i]
            for c in range(d):
                columns[i, c] -= f * columns[j, c]
        for c in range(d):
            columns[i, c] /= factor[i, i]
    for c in range(d):
        for i in range(d):
            out[c, i] = columns[i, c]


@jit
def factorise(gram: np.ndarray, factor: np.ndarray) -> None:
    """The lower Cholesky factor of gram, row by row (a gram is l2 I plus a sum of outer products: symmetric
    positive definite)."""
    d = gram.shape[0]
    for i in range(d):
        for j in range(i + 1):
            total = gram[i, j]
            for m in range(j):
                total -= factor[i, m] * factor[j, m]
            factor[i, j] = math.sqrt(max(total, 1e-300)) if i == j else total / factor[j, j]


def choose(*args: Any) -> int:  # pragma: no cover - replaced in each binding by the policy's own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own learn
    raise NotImplementedError


def step_choose_template(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    actions = np.empty(theta.shape[0], np.int64)
    for r in range(theta.shape[0]):
        actions[r] = choose(params, inverse, target, theta, scratch, draws, r, contexts[r])
    return actions


def step_learn_template(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                        scratch: np.ndarray, draws: np.ndarray, reps: np.ndarray, arms: np.ndarray,
                        contexts: np.ndarray, rewards: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(params, inverse, target, theta, scratch, draws, reps[i], arms[i], contexts[i], rewards[i])


def kernel(name: str) -> Any:
    """A linear policy's kernel by name: here, or an adapter's template bound to a base's kernels
    (`conservative_linear_choose<choose_linucb|learn_ridge>`, kernels/wrappers.py)."""
    if "<" in name:
        from banditmap.sim.kernels import wrappers
        return wrappers.linear_composite(name)
    return globals()[name]


@functools.cache
def make_steps(choose_name: str, learn_name: str) -> tuple[Any, Any]:
    """A linear policy's decisions for all repetitions (contexts (R, d)), and its learning from a batch of
    observations (reps, arms, contexts (N, d), rewards, learnt in their order)."""
    kernels = globals()
    return (bind(step_choose_template, arms.named("linear_step", choose_name), choose=kernel(choose_name),
                 namespace=kernels),
            bind(step_learn_template, arms.named("linear_step", learn_name), learn=kernel(learn_name),
                 namespace=kernels))


# --- the linear contextual world and the whole race of a linear policy ---------------------------------------

DRIFT_EVERY = 10  # the world's parameters drift in steps every this many rounds (drawing them is costly)
LATER = 1 << 62  # an arrival round after any race's end: the soonest arrival of an empty feedback queue


@jit
def copy_row(source: np.ndarray, out: np.ndarray) -> None:
    """out[:] = source (n,) element by element: the races' copies of a row (a whole-row assignment compiles
    numba's shape check and its message into every race)."""
    for i in range(source.shape[0]):
        out[i] = source[i]


@jit
def grow_rows(queue: np.ndarray) -> np.ndarray:
    """A queue of rows (N, d) with room for as many again (its rows first)."""
    wider = np.empty((2 * queue.shape[0], queue.shape[1]))
    for i in range(queue.shape[0]):
        copy_row(queue[i], wider[i])
    return wider


@jit
def draw_world(theta: np.ndarray, env: np.ndarray, r: int) -> None:
    """Repetition r's arms: parameters theta (K, d) with independent N(0, 1) entries."""
    for k in range(theta.shape[1]):
        for i in range(theta.shape[2]):
            theta[r, k, i] = rng.normal(env, r)


@jit
def draw_network(theta: np.ndarray, layer: np.ndarray, bias: np.ndarray, env: np.ndarray, r: int) -> None:
    """Repetition r's non-linear world (model nonlinear), a one-hidden-layer network: a first layer shared by the
    arms, W (H, d) with N(0, 1.5^2) entries and b (H,) with N(0, 0.5^2) ones, then per-arm weights theta (K, H)
    with N(0, 4 / H) entries on the hidden units tanh(W x + b); drawn in that order."""
    H, d = layer.shape[1], layer.shape[2]
    for j in range(H):
        for i in range(d):
            layer[r, j, i] = 1.5 * rng.normal(env, r)
    for j in range(H):
        bias[r, j] = 0.5 * rng.normal(env, r)
    scale = 2.0 / math.sqrt(H)
    for k in range(theta.shape[1]):
        for j in range(H):
            theta[r, k, j] = scale * rng.normal(env, r)


@jit
def hidden_units(weights: np.ndarray, bias: np.ndarray, x: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """tanh(W x + b) (H,) into `hidden`, from W^T (d, H) (W's transposed view, or a copy laid out that way, which
    the races keep so that every unit's sum runs along memory) and b (H,): every unit's sum at once, each in the
    order b_j + W_j0 x_0 + W_j1 x_1 + ..."""
    H = weights.shape[1]
    for j in range(H):
        hidden[j] = bias[j]
    for i in range(x.shape[0]):
        xi = x[i]
        for j in range(H):
            hidden[j] += weights[i, j] * xi
    for j in range(H):
        hidden[j] = math.tanh(hidden[j])
    return hidden


@jit
def features(layer: np.ndarray, bias: np.ndarray, r: int, x: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """What the arms' parameters weigh in context x: x itself in the linear world (no hidden layer, H = 0), else
    the hidden units tanh(W x + b) (H,), written into `hidden`."""
    if layer.shape[1] == 0:
        return x
    return hidden_units(layer[r].T, bias[r], x, hidden)


@jit
def draw_context(x: np.ndarray, env: np.ndarray, r: int) -> None:
    """The round's context (d,): N(0, 1/d) features, the first held at 1/sqrt(d) (an intercept)."""
    d = x.shape[0]
    scale = 1.0 / math.sqrt(d)
    for i in range(d):
        x[i] = rng.normal(env, r) * scale
    x[0] = scale


@jit
def move_world(theta: np.ndarray, recent: np.ndarray, env: np.ndarray, r: int, t: int, T: int,
               dynamics: int) -> bool:
    """The parameters before round t's reward: a random walk in steps every DRIFT_EVERY rounds, a rotation of the
    arms at a quarter, half and three quarters of the run, or the arm played most in the last window trading its
    parameters with another arm. Whether they moved."""
    K, d = theta.shape[1], theta.shape[2]
    if dynamics == arms.DRIFTING and t % DRIFT_EVERY == 0:
        scale = math.sqrt(DRIFT_EVERY / T)
        for k in range(K):
            for i in range(d):
                theta[r, k, i] += scale * rng.normal(env, r)
        return True
    if dynamics == arms.ABRUPT and (t == int(T * 0.25) or t == int(T * 0.5) or t == int(T * 0.75)):
        shift = 1 + rng.below(env, r, K - 1)
        rotated = np.empty((K, d))
        for k in range(K):  # element by element: a whole-row copy compiles numba's shape check and its message
            for i in range(d):
                rotated[k, i] = theta[r, (k + shift) % K, i]
        for k in range(K):
            for i in range(d):
                theta[r, k, i] = rotated[k, i]
        return True
    if dynamics == arms.ADVERSARIAL and t > 0 and t % max(50, T // 20) == 0:
        favourite = 0  # the first arm played most, as np.argmax finds it
        for k in range(1, K):
            if recent[r, k] > recent[r, favourite]:
                favourite = k
        other = (favourite + 1 + rng.below(env, r, K - 1)) % K
        for i in range(d):
            theta[r, favourite, i], theta[r, other, i] = theta[r, other, i], theta[r, favourite, i]
        for k in range(K):
            recent[r, k] = 0.0
        return True
    return False


@jit
def rewards_of(weights: np.ndarray, mu: np.ndarray, x: np.ndarray, reward: int) -> float:
    """Every arm's expected reward (K,) into `mu` given the features x of the context (features()), from the arms'
    parameters transposed, theta^T (n, K) (a view, or the races' copy laid out that way): sigmoid(-1.5 + 1.5
    theta.x) for clicks, 0.5 + 0.3 theta.x otherwise, every arm's theta.x summed in the order of its features;
    returns the best."""
    K = weights.shape[1]
    for k in range(K):
        mu[k] = 0.0
    for i in range(x.shape[0]):
        xi = x[i]
        for k in range(K):
            mu[k] += weights[i, k] * xi
    top = -np.inf
    for k in range(K):
        score = mu[k]
        mu[k] = arms.sigmoid(-1.5 + 1.5 * score) if reward == arms.BINARY else 0.5 + 0.3 * score
        top = max(top, mu[k])
    return top


@jit
def expected_rewards(theta: np.ndarray, mu: np.ndarray, r: int, x: np.ndarray, reward: int) -> float:
    """Every arm's expected reward mu[r] (K,) given the features x of the context (rewards_of); returns the best."""
    return rewards_of(theta[r].T, mu[r], x, reward)


@jit
def cross(weights: np.ndarray, r: int, out: np.ndarray) -> None:
    """out[r] = weights[r]^T: repetition r's parameters laid out for the races' sums (rewards_of, hidden_units)."""
    for a in range(weights.shape[1]):
        for b in range(weights.shape[2]):
            out[r, b, a] = weights[r, a, b]


@jit
def pay(crossed_layer: np.ndarray, bias: np.ndarray, crossed_theta: np.ndarray, mu: np.ndarray, r: int,
        x: np.ndarray, hidden: np.ndarray, reward: int) -> float:
    """The races' expected rewards mu[r] of context x and the best (features() then expected_rewards(), from the
    crossed copies of the hidden layer (R, d, H) and the arms' parameters (R, n, K))."""
    seen = x if crossed_layer.shape[2] == 0 else hidden_units(crossed_layer[r], bias[r], x, hidden)
    return rewards_of(crossed_theta[r], mu[r], seen, reward)


@jit
def draw_repetition(theta: np.ndarray, layer: np.ndarray, bias: np.ndarray, crossed_layer: np.ndarray,
                    crossed_theta: np.ndarray, env: np.ndarray, r: int) -> None:
    """A race's repetition r: its non-linear world (a hidden layer `layer` (R, H, d) with units) or its linear one,
    and their crossed copies (cross)."""
    if layer.shape[1] > 0:
        draw_network(theta, layer, bias, env, r)
        cross(layer, r, crossed_layer)
    else:
        draw_world(theta, env, r)
    cross(theta, r, crossed_theta)


@jit
def move_and_pay(theta: np.ndarray, bias: np.ndarray, crossed_layer: np.ndarray, crossed_theta: np.ndarray,
                 mu: np.ndarray, recent: np.ndarray, env: np.ndarray, r: int, t: int, T: int, dynamics: int,
                 x: np.ndarray, hidden: np.ndarray, reward: int) -> float:
    """A race's round t after the decision: the world's move (its parameters crossed again when they moved), then
    every arm's expected reward mu[r] of context x (pay); returns the best."""
    if dynamics != arms.STATIONARY and move_world(theta, recent, env, r, t, T, dynamics):
        cross(theta, r, crossed_theta)
    return pay(crossed_layer, bias, crossed_theta, mu, r, x, hidden, reward)


@jit
def meet(world: np.ndarray, theta: np.ndarray, bias: np.ndarray, crossed_layer: np.ndarray,
         crossed_theta: np.ndarray, mu: np.ndarray, recent: np.ndarray, env: np.ndarray, r: int, t: int, T: int,
         dynamics: int, x: np.ndarray, hidden: np.ndarray, reward: int) -> float:
    """A race's round t of repetition r, before the decision (which draws nothing from the world's stream and reads
    none of it): the context into x (d,) and every arm's expected reward into mu[r] (K,) after the world's move;
    returns the best. Read from the recorded world (R, T, d + K + 1) (record_world) when it holds rounds, else
    drawn and moved here (move_and_pay), as for a world that answers the plays."""
    if world.shape[1] == 0:
        draw_context(x, env, r)
        return move_and_pay(theta, bias, crossed_layer, crossed_theta, mu, recent, env, r, t, T, dynamics, x,
                            hidden, reward)
    d, K = x.shape[0], mu.shape[1]
    row = world[r, t]
    for i in range(d):
        x[i] = row[i]
    for k in range(K):
        mu[r, k] = row[d + k]
    top: float = row[d + K]
    return top


@jit
def world_arrays(R: int, K: int, d: int, H: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                         np.ndarray, np.ndarray, np.ndarray]:
    """The arrays a contextual world of R repetitions is drawn into (draw_repetition, move_and_pay): the arms'
    parameters (R, K, n) and their crossed copy (R, n, K), n the hidden units H or else the d features; the hidden
    layer (R, H, d), its crossed copy (R, d, H) and its bias (R, H); a row of hidden units (H,); every arm's
    expected reward (R, K); and the plays counted for the adversarial world (R, K), at zero."""
    n = H if H > 0 else d
    return (np.empty((R, K, n)), np.empty((R, n, K)), np.empty((R, H, d)), np.empty((R, d, H)), np.empty((R, H)),
            np.empty(H), np.empty((R, K)), np.zeros((R, K)))


@jit
def observe(value: float, world: np.ndarray, saved: np.ndarray, env: np.ndarray, r: int, t: int,
            reward: int) -> float:
    """The reward of a play worth `value` in round t (arms.draw_reward): from the world's stream, or, in a recorded
    world, from the stream's state it recorded before that draw (saved (R, T)), which stays as it is."""
    if world.shape[1] == 0:
        return arms.draw_reward(value, env, r, reward)
    return arms.draw_reward_step(value, saved[r, t], reward)[0]


@jit(nogil=True)
def record_world(env: np.ndarray, K: int, d: int, H: int, T: int, reward: int, dynamics: int, world: np.ndarray,
                 saved: np.ndarray) -> None:
    """Every repetition's world (streams env (R,)) over T rounds as a race meets it (draw_repetition, then per
    round the context, the move and the pay, and the reward's draw), for the races of several policies to read
    rather than each drawing it again (common random numbers: unless the world answers the plays, as the
    adversarial one does, it does not depend on them): round t's context, every arm's expected reward and the
    best into world[r, t] (d + K + 1,), and the stream's state before the reward's draw into saved[r, t] (the
    stream then moves on as arms.draw_reward moves it, which draws as much whatever the play's value)."""
    R = env.shape[0]
    theta, crossed_theta, layer, crossed_layer, bias, hidden, mu, recent = world_arrays(R, K, d, H)
    x = np.empty(d)
    for r in range(R):
        draw_repetition(theta, layer, bias, crossed_layer, crossed_theta, env, r)
        for t in range(T):
            draw_context(x, env, r)
            top = move_and_pay(theta, bias, crossed_layer, crossed_theta, mu, recent, env, r, t, T, dynamics, x,
                               hidden, reward)
            row = world[r, t]
            for i in range(d):
                row[i] = x[i]
            for k in range(K):
                row[d + k] = mu[r, k]
            row[d + K] = top
            saved[r, t] = env[r]
            arms.draw_reward(0.0, env, r, reward)


@jit
def draw_worlds(theta: np.ndarray, env: np.ndarray) -> None:
    for r in range(theta.shape[0]):
        draw_world(theta, env, r)


@jit
def draw_networks(theta: np.ndarray, layer: np.ndarray, bias: np.ndarray, env: np.ndarray) -> None:
    for r in range(theta.shape[0]):
        draw_network(theta, layer, bias, env, r)


@jit
def draw_contexts(env: np.ndarray, d: int) -> np.ndarray:
    out = np.empty((env.shape[0], d))
    for r in range(env.shape[0]):
        draw_context(out[r], env, r)
    return out


@jit
def world_step(theta: np.ndarray, layer: np.ndarray, bias: np.ndarray, mu: np.ndarray, top: np.ndarray,
               recent: np.ndarray, env: np.ndarray, t: int, T: int, reward: int, dynamics: int, contexts: np.ndarray,
               actions: np.ndarray, value: np.ndarray, observed: np.ndarray) -> None:
    """Round t for every repetition, after its context was drawn and its action chosen (a linear world when the
    hidden layer `layer` (R, H, d) has no units, else the non-linear one)."""
    hidden = np.empty(layer.shape[1])
    for r in range(theta.shape[0]):
        if dynamics != arms.STATIONARY:
            move_world(theta, recent, env, r, t, T, dynamics)
        top[r] = expected_rewards(theta, mu, r, features(layer, bias, r, contexts[r], hidden), reward)
        arm = actions[r]
        value[r] = mu[r, arm]
        if dynamics == arms.ADVERSARIAL:
            recent[r, arm] += 1.0
        observed[r] = arms.draw_reward(value[r], env, r, reward)


def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, world: np.ndarray,
         saved: np.ndarray, K: int, d: int, H: int, l2: float, start: np.ndarray, T: int, reward: int, dynamics: int,
         feedback: int, mean_delay: float, batch: int, safety: bool, alpha: float, points: np.ndarray,
         curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray, below: np.ndarray) -> None:
    """One linear policy's whole race on the linear contextual world (H = 0) or the non-linear one with H hidden
    units, as arms.race on K arms (same streams, same order of draws as the step-by-step loop: a context, the
    move, the reward; the decision draws from its own stream), its scratch rows from `start`; the world read from
    a record (world (R, T, d + K + 1) and saved (R, T), record_world) or, with no rounds recorded, drawn here
    (meet, observe)."""
    R = env.shape[0]
    theta_true, crossed_theta, layer, crossed_layer, bias, hidden, mu, recent = world_arrays(R, K, d, H)
    inverse = np.zeros((R, K, d, d))
    target = np.zeros((R, K, d))
    theta = np.zeros((R, K, d))
    scratch = np.empty((R, start.shape[0]))
    tail_start = T - max(1, T // 10)
    for r in range(R):
        copy_row(start, scratch[r])
        for k in range(K):
            for i in range(d):
                inverse[r, k, i, i] = 1.0 / l2
        if world.shape[1] == 0:  # a world drawn here, not read from a record (meet)
            draw_repetition(theta_true, layer, bias, crossed_layer, crossed_theta, env, r)
        x = np.empty(d)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, arm, reward, context
        queue_arm = np.empty(16, np.int64)
        queue_reward = np.empty(16)
        queue_x = np.empty((16, d))
        queued, soonest = 0, LATER
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            top = meet(world, theta_true, bias, crossed_layer, crossed_theta, mu, recent, env, r, t, T, dynamics, x,
                       hidden, reward)
            arm = choose(params, inverse, target, theta, scratch, draws, r, x)
            value = mu[r, arm]
            arms.account(books, value, top, mu[r, arms.SAFETY_DEFAULT], t, tail_start, safety, alpha)
            if dynamics == arms.ADVERSARIAL:
                recent[r, arm] += 1.0
            observed = observe(value, world, saved, env, r, t, reward)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(params, inverse, target, theta, scratch, draws, r, arm, x, observed)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_arm, queue_reward = arms.grow(queue_at), arms.grow(queue_arm), arms.grow(queue_reward)
                queue_x = grow_rows(queue_x)
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_arm[queued] = arm
            queue_reward[queued] = observed
            copy_row(x, queue_x[queued])
            queued += 1
            soonest = min(soonest, queue_at[queued - 1])
            if soonest > t + 1:  # nothing arrives yet: the queue stays as it is
                continue
            kept, soonest = 0, LATER
            for i in range(queued):  # what is visible at t + 1 is learnt in the queue's order, the rest kept in order
                if queue_at[i] <= t + 1:
                    learn(params, inverse, target, theta, scratch, draws, r, queue_arm[i], queue_x[i], queue_reward[i])
                    continue
                if kept < i:
                    queue_at[kept], queue_arm[kept], queue_reward[kept] = queue_at[i], queue_arm[i], queue_reward[i]
                    copy_row(queue_x[i], queue_x[kept])
                soonest = min(soonest, queue_at[kept])
                kept += 1
            queued = kept
        arms.settle(books, r, T, tail_start, final, tail, optimal, below)


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """A linear policy's whole race as one compiled function (compiled once, then cached on disk)."""
    return bind(race, arms.named("linear_race", choose_name, learn_name), nogil=True, choose=kernel(choose_name),
                learn=kernel(learn_name), namespace=globals())


def counting_race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, world: np.ndarray,
                  saved: np.ndarray, K: int, d: int, H: int, start: np.ndarray, T: int, reward: int, dynamics: int,
                  feedback: int, mean_delay: float, batch: int, safety: bool, alpha: float, points: np.ndarray,
                  curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray,
                  below: np.ndarray) -> None:
    """A counting policy's (arms.race's kernels on counts, sums and means (R, K) and a scratch row, from `start`)
    whole race on the linear (H = 0) or non-linear contextual world, which it plays without reading the
    contexts (e.g. the uniform baseline): race's world (recorded or drawn here), streams and order of draws, the
    policy's note on a decision travelling with its observation as in arms.race."""
    R = env.shape[0]
    theta_true, crossed_theta, layer, crossed_layer, bias, hidden, mu, recent = world_arrays(R, K, d, H)
    counts, sums, means = np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K))
    scratch = np.empty((R, start.shape[0]))
    noted = start.shape[0] > K + 1
    tail_start = T - max(1, T // 10)
    for r in range(R):
        copy_row(start, scratch[r])
        if world.shape[1] == 0:  # a world drawn here, not read from a record (meet)
            draw_repetition(theta_true, layer, bias, crossed_layer, crossed_theta, env, r)
        x = np.empty(d)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, arm, reward, note
        queue_arm = np.empty(16, np.int64)
        queue_reward = np.empty(16)
        queue_note = np.empty(16)
        queued, soonest = 0, LATER
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            top = meet(world, theta_true, bias, crossed_layer, crossed_theta, mu, recent, env, r, t, T, dynamics, x,
                       hidden, reward)
            arm = choose(params, counts, sums, means, scratch, draws, r, t, T)
            value = mu[r, arm]
            arms.account(books, value, top, mu[r, arms.SAFETY_DEFAULT], t, tail_start, safety, alpha)
            if dynamics == arms.ADVERSARIAL:
                recent[r, arm] += 1.0
            observed = observe(value, world, saved, env, r, t, reward)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(params, counts, sums, means, scratch, draws, r, arm, observed)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_arm, queue_reward = arms.grow(queue_at), arms.grow(queue_arm), arms.grow(queue_reward)
                queue_note = arms.grow(queue_note)
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_arm[queued] = arm
            queue_reward[queued] = observed
            if noted:
                queue_note[queued] = scratch[r, K + 1]
            queued += 1
            soonest = min(soonest, queue_at[queued - 1])
            if soonest > t + 1:  # nothing arrives yet: the queue stays as it is
                continue
            kept, soonest = 0, LATER
            for i in range(queued):  # what is visible at t + 1 is learnt in the queue's order, the rest kept in order
                if queue_at[i] <= t + 1:
                    if noted:
                        scratch[r, K + 1] = queue_note[i]
                    learn(params, counts, sums, means, scratch, draws, r, queue_arm[i], queue_reward[i])
                    continue
                if kept < i:
                    queue_at[kept], queue_arm[kept], queue_reward[kept] = queue_at[i], queue_arm[i], queue_reward[i]
                    queue_note[kept] = queue_note[i]
                soonest = min(soonest, queue_at[kept])
                kept += 1
            queued = kept
        arms.settle(books, r, T, tail_start, final, tail, optimal, below)


@functools.cache
def make_counting_race(choose_name: str, learn_name: str) -> Any:
    """A counting policy's (arms.kernel names, compositions too) whole race on the contextual world as one
    compiled function (compiled once, then cached on disk)."""
    return bind(counting_race, arms.named("contextual_race", choose_name, learn_name), nogil=True,
                choose=arms.kernel(choose_name), learn=arms.kernel(learn_name), namespace=globals())
