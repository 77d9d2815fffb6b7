"""Compiled kernels of the linear UCB policies for parameters that move (policies/forgetting.py), one ridge
regression per arm: D-LinUCB (Russac, Vernade & Cappe 2019) discounts every arm's statistics every round,
SW-LinUCB (Cheung, Simchi-Levi & Zhu 2019) keeps the last W observations; and the whole race of such a policy on
the contextual worlds of linear.py.

Their state, per repetition r (first axis R) and arm k: gram (R, K, d, d) V, squared (R, K, d, d) V~ (D-LinUCB),
target (R, K, d) b; what each arm's decisions reuse until its statistics change: basis (R, K, d, d), inner
(R, K, d, d), coef (R, K, 3, d) (D-LinUCB's with the arm last in each repetition's row: across) and since (R, K) (negative when the arm's statistics changed since they were
made: -1, or LEARNT - t, t the decision count they last changed at); clock (R,) (D-LinUCB: the decision count the sums are discounted to; SW-LinUCB: the window's slot written next)
and the window's held_arm (R, W) (-1 for an empty slot), held_x (R, W, d) and held_reward (R, W); and a scratch row
per repetition for what an adapter's template (kernels/wrappers.py) keeps (the policies themselves keep none).

The saving that keeps D-LinUCB exact: between two observations of an arm its V only ever becomes
g^n V + (1 - g^n) l2 I, which has V's eigenvectors, so one orthogonal reduction V = Q T Q^T (T tridiagonal, made
again only when the arm learns) solves V_t x = y for every later t in O(d^2): Q^T y, a tridiagonal solve of
(g^n T + (1 - g^n) l2 I), and V~ seen in Q's basis, M = Q^T V~ Q (kept as its Cholesky factor), gives the width.
At the decision right after its learning (n = 0; with feedback at once the arm just played, which mostly plays
again) V_t is V itself: one Cholesky solve (d^3 / 6) serves, and the reduction (about 4 d^3 with M) waits until a
decision needs it. SW-LinUCB's V changes only when an observation enters or leaves the window: its inverse, made
through its Cholesky factor, is kept until then, and a decision costs one product by it per arm."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, linear
from banditmap.sim.kernels.arms import bind, consider_step

NORM = 1.0  # S, the bound on a parameter's norm in the confidence width (the contexts here have norm about 1)
NOISE = 0.5  # sigma: rewards in [0, 1] are 1/2-sub-Gaussian
STALE = -1  # `since` of an arm whose reused factors no longer match its statistics
LEARNT = -2  # `since` of an arm whose statistics changed after t decisions, its factors stale: LEARNT - t


@jit
def start(R: int, K: int, d: int, W: int, l2: float) -> tuple[np.ndarray, ...]:
    """The state before any observation, in the kernels' order: gram and squared l2 I, target zeros, the reused
    factors (stale), clock 0 and an empty window of W slots."""
    gram = np.zeros((R, K, d, d))
    for r in range(R):
        for k in range(K):
            for i in range(d):
                gram[r, k, i, i] = l2
    return (gram, gram.copy(), np.zeros((R, K, d)), np.zeros((R, K, d, d)), np.zeros((R, K, d, d)),
            np.zeros((R, K, 3, d)), np.full((R, K), STALE, np.int64), np.zeros(R, np.int64),
            np.full((R, W), -1, np.int64), np.zeros((R, W, d)), np.zeros((R, W)))


@jit
def tridiagonalise(gram: np.ndarray, basis: np.ndarray, diag: np.ndarray, off: np.ndarray) -> None:
    """gram (d, d) symmetric = Q T Q^T by Householder reflections (Golub & Van Loan, 8.3.1): Q (d, d) into
    `basis`, T's diagonal into `diag` (d,) and its subdiagonal into off[:d - 1] (off[d - 1] = 0)."""
    d = gram.shape[0]
    A = gram.copy()
    v = np.empty(d)
    p = np.empty(d)
    for i in range(d):
        for j in range(d):
            basis[i, j] = 1.0 if i == j else 0.0
    for k in range(d - 2):
        m = k + 1
        tail = 0.0
        for i in range(m + 1, d):
            tail += A[i, k] * A[i, k]
        if tail == 0.0:  # the column is already tridiagonal: the reflection would be the identity
            continue
        alpha = math.sqrt(tail + A[m, k] * A[m, k])
        if A[m, k] > 0.0:
            alpha = -alpha  # v = a - alpha e1 without cancellation
        vv = 0.0
        for i in range(m, d):
            v[i] = A[i, k]
        v[m] -= alpha
        for i in range(m, d):
            vv += v[i] * v[i]
        scale = 2.0 / vv
        for i in range(m, d):
            p[i] = 0.0
        for j in range(m, d):  # p = (2 / vv) A v, read by rows of the symmetric A
            for i in range(m, d):
                p[i] += A[j, i] * v[j]
        vp = 0.0
        for i in range(m, d):
            p[i] *= scale
            vp += v[i] * p[i]
        half = vp / vv
        for i in range(m, d):  # w = p - (v.p / vv) v; A <- A - v w^T - w v^T (= H A H)
            p[i] -= half * v[i]
        for i in range(m, d):
            for j in range(m, d):
                A[i, j] -= v[i] * p[j] + p[i] * v[j]
        A[m, k] = A[k, m] = alpha
        for i in range(m + 1, d):
            A[i, k] = A[k, i] = 0.0
        for i in range(d):  # Q <- Q H: the rows' sums (Q v)_i side by side (each in the order of j), into p
            p[i] = 0.0
        for j in range(m, d):
            vj = v[j]
            for i in range(d):
                p[i] += basis[i, j] * vj
        for i in range(d):
            total = p[i] * scale
            for j in range(m, d):
                basis[i, j] -= total * v[j]
    for i in range(d):
        diag[i] = A[i, i]
        off[i] = A[i + 1, i] if i + 1 < d else 0.0


@jit
def rotate(basis: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """out = Q^T x for Q (d, d) in `basis` (rows of Q read in order)."""
    d = x.shape[0]
    for j in range(d):
        out[j] = 0.0
    for i in range(d):
        for j in range(d):
            out[j] += basis[i, j] * x[i]


@jit
def discounted_factors(gram: np.ndarray, squared: np.ndarray, target: np.ndarray, basis: np.ndarray,
                       inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray, r: int,
                       k: int) -> None:
    """Arm k's reused factors from its sums as of clock[r]: V = Q T Q^T (Q, the diagonal and subdiagonal of T),
    C, the lower Cholesky factor of M = Q^T V~ Q (V~ >= l2 I: positive definite), so that a decision's
    z^T M z = ||C^T z||^2 costs a triangle, d^2 / 2, and Q^T b; laid out arm by arm in the last index (across),
    as estimates_dlinucb reads every arm's at once."""
    d = target.shape[2]
    Q, C, coefs = across(basis, inner, coef, r, d)
    work = np.zeros((3, d, d))
    Qk, SQ, M = work[0], work[1], work[2]  # Q, then V~ Q, then Q^T (V~ Q)
    vectors = np.empty((3, d))
    diag, off, rotated = vectors[0], vectors[1], vectors[2]
    tridiagonalise(gram[r, k], Qk, diag, off)
    rotate(Qk, target[r, k], rotated)
    for i in range(d):
        for m in range(d):
            s = squared[r, k, i, m]
            for j in range(d):
                SQ[i, j] += s * Qk[m, j]
    for m in range(d):
        for i in range(d):
            q = Qk[m, i]
            for j in range(d):
                M[i, j] += q * SQ[m, j]
    linear.factorise(M, SQ)  # C into the lower triangle of SQ, done with
    for i in range(d):
        coefs[0, i, k], coefs[1, i, k], coefs[2, i, k] = diag[i], off[i], rotated[i]
        for j in range(d):
            Q[i, j, k] = Qk[i, j]
        for j in range(i + 1):
            C[i, j, k] = SQ[i, j]
    since[r, k] = clock[r]


@jit
def across(basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, r: int,
           d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repetition r's D-LinUCB factors with the arm last, views of its rows of basis, inner and coef: Q (d, d, K)
    (Q_k[i, j] at [i, j, k]), C (d, d, K) and (3, d, K) T's diagonal, its subdiagonal and Q^T b, so that the sums
    of every arm run side by side along memory (each arm's in its own order: the same numbers as arm by arm)."""
    K = coef.shape[1]
    return basis[r].reshape((d, d, K)), inner[r].reshape((d, d, K)), coef[r].reshape((3, d, K))


@jit
def undiscounted(gram: np.ndarray, squared: np.ndarray, target: np.ndarray, r: int, k: int, x: np.ndarray,
                 factor: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Arm k's estimate u.b and width sqrt(u^T V~ u), u = V^-1 x, from its sums as they are (discounted to this
    decision), through V's Cholesky factor (`factor` (d, d) and `u` (d,) scratch): O(d^3 / 6), where the
    reduction and M cost about 4 d^3, for the arm that learnt just before this decision (with feedback at once,
    the one just played) and is decided on once before it may learn again."""
    d = x.shape[0]
    linear.factorise(gram[r, k], factor)
    linear.cholesky_solve(factor, x, u)
    estimate, quad = 0.0, 0.0
    for i in range(d):  # V~ u row by row, symmetric: its rows are its columns
        ui = u[i]
        estimate += ui * target[r, k, i]
        row = 0.0
        for j in range(d):
            row += squared[r, k, i, j] * u[j]
        quad += ui * row
    return estimate, math.sqrt(max(quad, 0.0))


@jit
def estimates_dlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                      basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                      held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray, r: int, t: int,
                      x: np.ndarray, mean: np.ndarray, width: np.ndarray) -> None:
    """params: lambda, delta, alpha, gamma. Every arm's estimate x^T theta_t and width sqrt(x^T V_t^-1 V~_t
    V_t^-1 x) (K,) at decision t, from its sums discounted to t: n = t - since rounds after its factors,
    V_t = Q (g^n T + (1 - g^n) l2 I) Q^T, b_t = g^n b, V~_t = g^2n V~ + (1 - g^2n) l2 I; so with y = Q^T x and
    z = (g^n T + (1 - g^n) l2 I)^-1 y, the estimate is g^n z.(Q^T b) and the width's square
    g^2n z^T M z + (1 - g^2n) l2 z.z. Factors of arms that learnt since are made again first, except at the
    decision count t the arm learnt at (since = LEARNT - t: its sums are discounted to t), where its sums are
    solved as they are (undiscounted) and its factors wait for a later decision (it may learn again before: with
    feedback at once the arm just played mostly does). The tridiagonal
    systems are solved by Thomas's algorithm (elimination without pivoting, stable on these positive definite
    systems), every arm's in step: its divisions, a chain within one arm, run side by side across the arms, as do
    the rotation, the triangle and the sums (the factors laid out with the arm last: across)."""
    l2, gamma = params[0], params[3]
    K, d = target.shape[1], x.shape[0]
    Q, C, coefs = across(basis, inner, coef, r, d)
    work = np.empty((6 * d + 6, K))  # scratch in one allocation, every arm's in a column
    Y, Z, low, below, ratio, MZ = work[:d], work[d:2 * d], work[2 * d:3 * d], work[3 * d:4 * d], work[4 * d:5 * d], \
        work[5 * d:6 * d]
    keeps, keeps2, denom, estimate, norm, shift = work[6 * d], work[6 * d + 1], work[6 * d + 2], work[6 * d + 3], \
        work[6 * d + 4], work[6 * d + 5]
    y = np.empty(d)
    factor = np.empty((d, d))
    last, keep, keep2 = -1.0, 1.0, 1.0
    for k in range(K):
        if since[r, k] == LEARNT - t:  # it learnt at this decision count: solved from its sums as they are,
            mean[k], width[k] = undiscounted(gram, squared, target, r, k, x, factor, y)  # the reduction left
            keeps[k], shift[k] = 0.0, 1.0  # a system of its own (I z = y) below, whose answer is not read
            continue
        if since[r, k] < 0:
            discounted_factors(gram, squared, target, basis, inner, coef, since, clock, r, k)
        n = float(t - since[r, k])
        if n != last:  # arms whose factors were made together share their discounts: one power for all
            keep, keep2, last = gamma ** n, gamma ** (2.0 * n), n
        keeps[k], keeps2[k], shift[k] = keep, keep2, (1.0 - keep) * l2
    for i in range(d):
        for k in range(K):
            low[i, k] = keeps[k] * coefs[0, i, k] + shift[k]  # the diagonal of g^n T + (1 - g^n) l2 I
            below[i, k] = keeps[k] * coefs[1, i, k]  # its subdiagonal
    for j in range(d):  # y = Q^T x, every arm's (rotate's sums)
        for k in range(K):
            Y[j, k] = 0.0
    for i in range(d):
        xi = x[i]
        for j in range(d):
            for k in range(K):
                Y[j, k] += Q[i, j, k] * xi
    for k in range(K):
        denom[k] = low[0, k]
        Z[0, k] = Y[0, k] / denom[k]
    for i in range(1, d):
        for k in range(K):
            ratio[i - 1, k] = below[i - 1, k] / denom[k]
            denom[k] = low[i, k] - below[i - 1, k] * ratio[i - 1, k]
            Z[i, k] = (Y[i, k] - below[i - 1, k] * Z[i - 1, k]) / denom[k]
    for i in range(d - 2, -1, -1):
        for k in range(K):
            Z[i, k] -= ratio[i, k] * Z[i + 1, k]
    quad = shift  # read for the last time above
    for k in range(K):
        estimate[k], norm[k], quad[k] = 0.0, 0.0, 0.0
        for j in range(d):
            MZ[j, k] = 0.0
    for i in range(d):  # C^T z by C's rows, with the sums over z's entries in the same pass (in its order)
        for k in range(K):
            zi = Z[i, k]
            estimate[k] += zi * coefs[2, i, k]
            norm[k] += zi * zi
        for j in range(i + 1):
            for k in range(K):
                MZ[j, k] += C[i, j, k] * Z[i, k]
    for i in range(d):
        for k in range(K):
            quad[k] += MZ[i, k] * MZ[i, k]
    for k in range(K):
        if since[r, k] < 0:  # solved directly above
            continue
        mean[k] = keeps[k] * estimate[k]
        width[k] = math.sqrt(max(keeps2[k] * quad[k] + (1.0 - keeps2[k]) * l2 * norm[k], 0.0))


@jit
def beta_dlinucb(params: np.ndarray, d: int, t: int) -> float:
    """D-LinUCB's beta_t = sqrt(l2) S + sigma sqrt(2 ln(1/delta) + d ln(1 + (1 - g^2t) / (d l2 (1 - g^2))))."""
    l2, delta, gamma = params[0], params[1], params[3]
    g2 = gamma * gamma
    grown = (1.0 - g2 ** float(t)) / (d * l2 * (1.0 - g2))
    return math.sqrt(l2) * NORM + NOISE * math.sqrt(2.0 * math.log(1.0 / delta) + d * math.log1p(grown))


@jit
def optimistic(mean: np.ndarray, width: np.ndarray, spread: float, draws: np.ndarray, r: int) -> int:
    """The arm of the largest estimate + width x spread (K,), ties at random (arms.consider)."""
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for k in range(mean.shape[0]):
        best, pick, ties, state = consider_step(mean[k] + width[k] * spread, k, best, pick, ties, state)
    draws[r] = state
    return pick


@jit
def choose_dlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                   basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                   held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray,
                   scratch: np.ndarray, draws: np.ndarray, r: int,
                   t: int, x: np.ndarray, mean: np.ndarray, width: np.ndarray) -> int:
    """The largest estimate + alpha beta_t width (mean and width (K,) left as computed), ties at random."""
    estimates_dlinucb(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                      held_reward, r, t, x, mean, width)
    return optimistic(mean, width, params[2] * beta_dlinucb(params, x.shape[0], t), draws, r)


@jit
def widen(lower: np.ndarray, upper: np.ndarray, spread: float) -> None:
    """Estimates (in `lower`) and widths (in `upper`) (K,) into the bounds estimate -+ width x spread: the upper
    one is the score the choose kernels maximise (the same sums)."""
    for k in range(lower.shape[0]):
        mean, width = lower[k], upper[k] * spread
        lower[k] = mean - width
        upper[k] = mean + width


@jit
def bounds_dlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                   basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                   held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray, r: int, t: int, x: np.ndarray,
                   lower: np.ndarray, upper: np.ndarray) -> None:
    """D-LinUCB's confidence bounds (K,) of decision t: estimate -+ alpha beta_t width."""
    estimates_dlinucb(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                      held_reward, r, t, x, lower, upper)
    widen(lower, upper, params[2] * beta_dlinucb(params, x.shape[0], t))


@jit
def learn_dlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                  basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                  held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray,
                  scratch: np.ndarray, r: int, t: int, arm: int,
                  x: np.ndarray, reward: float) -> None:
    """D-LinUCB's learning of (x, reward) after t decisions: repetition r's sums are first discounted from
    clock[r] to t (V <- g^n V + (1 - g^n) l2 I, V~ with g^2n, b <- g^n b: the arms' reused factors stay right),
    then x x^T joins arm's V and V~ and reward x its b (its sums are solved as they are at decision t, its
    factors made again at a later one)."""
    l2, gamma = params[0], params[3]
    K, d = gram.shape[1], gram.shape[2]
    if clock[r] != t:
        steps = float(t - clock[r])
        keep, keep2 = gamma ** steps, gamma ** (2.0 * steps)
        for k in range(K):
            for i in range(d):
                for j in range(d):
                    gram[r, k, i, j] *= keep
                    squared[r, k, i, j] *= keep2
                gram[r, k, i, i] += (1.0 - keep) * l2
                squared[r, k, i, i] += (1.0 - keep2) * l2
                target[r, k, i] *= keep
        clock[r] = t
    for i in range(d):
        for j in range(d):
            gram[r, arm, i, j] += x[i] * x[j]
            squared[r, arm, i, j] += x[i] * x[j]
        target[r, arm, i] += reward * x[i]
    since[r, arm] = LEARNT - t


@jit
def window_factors(gram: np.ndarray, target: np.ndarray, basis: np.ndarray, inner: np.ndarray, coef: np.ndarray,
                   since: np.ndarray, r: int, k: int, t: int) -> None:
    """Arm k's reused factors of its window's V = L L^T: L (basis), theta = V^-1 b (coef[0]) and V^-1 itself
    (inner), column by column through L (symmetric: its columns are its rows)."""
    d = target.shape[2]
    L = basis[r, k]
    linear.factorise(gram[r, k], L)
    linear.cholesky_solve(L, target[r, k], coef[r, k, 0])
    linear.cholesky_inverse(L, inner[r, k], np.empty((d, d)))
    since[r, k] = t


@jit
def estimates_swlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                       basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                       held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray, r: int, t: int,
                       x: np.ndarray, mean: np.ndarray, width: np.ndarray) -> None:
    """params: lambda, delta, alpha, window. Every arm's estimate x^T theta and width sqrt(x^T V^-1 x) (K,) from
    its window's ridge regression, through V^-1 and theta made again (window_factors) only for arms whose window
    changed; at the decision count its window changed at (since = LEARNT - t) an arm is solved through V's Cholesky
    factor alone (d^3 / 6 where V^-1 costs about d^3 more), its factors made at a later decision (with feedback at
    once the arm just played, whose window mostly changes again first)."""
    d = x.shape[0]
    work = np.empty((d + 1, d))
    u, factor = work[0], work[1:]
    for k in range(target.shape[1]):
        if since[r, k] == LEARNT - t:
            linear.factorise(gram[r, k], factor)
            linear.cholesky_solve(factor, x, u)
            estimate, quad = 0.0, 0.0
            for i in range(d):
                estimate += u[i] * target[r, k, i]
                quad += x[i] * u[i]
            mean[k] = estimate
            width[k] = math.sqrt(max(quad, 0.0))
            continue
        if since[r, k] < 0:
            window_factors(gram, target, basis, inner, coef, since, r, k, t)
        for i in range(d):  # u = V^-1 x as linear.inverse_times makes it, the estimate summed in the same pass
            u[i] = 0.0
        estimate = 0.0
        for j in range(d):
            xj = x[j]
            estimate += xj * coef[r, k, 0, j]
            for i in range(d):
                u[i] += inner[r, k, j, i] * xj
        quad = 0.0
        for i in range(d):
            quad += x[i] * u[i]
        mean[k] = estimate
        width[k] = math.sqrt(max(quad, 0.0))


@jit
def beta_swlinucb(params: np.ndarray, d: int, t: int) -> float:
    """SW-LinUCB's beta = sqrt(l2) S + sigma sqrt(d ln((1 + window / l2) / delta))."""
    l2, delta, window = params[0], params[1], params[3]
    return math.sqrt(l2) * NORM + NOISE * math.sqrt(d * (math.log1p(window / l2) - math.log(delta)))


@jit
def choose_swlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                    basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                    held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray,
                    scratch: np.ndarray, draws: np.ndarray, r: int,
                    t: int, x: np.ndarray, mean: np.ndarray, width: np.ndarray) -> int:
    """The largest estimate + alpha beta width (mean and width (K,) left as computed), ties at random."""
    estimates_swlinucb(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                       held_reward, r, t, x, mean, width)
    return optimistic(mean, width, params[2] * beta_swlinucb(params, x.shape[0], t), draws, r)


@jit
def bounds_swlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                    basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                    held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray, r: int, t: int,
                    x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
    """SW-LinUCB's confidence bounds (K,) of decision t: estimate -+ alpha beta width."""
    estimates_swlinucb(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                       held_reward, r, t, x, lower, upper)
    widen(lower, upper, params[2] * beta_swlinucb(params, x.shape[0], t))


@jit
def learn_swlinucb(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                   basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                   held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray,
                   scratch: np.ndarray, r: int, t: int, arm: int,
                   x: np.ndarray, reward: float) -> None:
    """SW-LinUCB's learning of (x, reward): into the window's slot clock[r], whose observation (the oldest, once
    the window is full) first leaves its arm's V and b; both arms are solved through V's Cholesky factor at decision
    t, their factors made again at a later one."""
    d = x.shape[0]
    slot = clock[r]
    old = held_arm[r, slot]
    if old >= 0:
        for i in range(d):
            for j in range(d):
                gram[r, old, i, j] -= held_x[r, slot, i] * held_x[r, slot, j]
            target[r, old, i] -= held_reward[r, slot] * held_x[r, slot, i]
        since[r, old] = LEARNT - t
    for i in range(d):
        for j in range(d):
            gram[r, arm, i, j] += x[i] * x[j]
        target[r, arm, i] += reward * x[i]
        held_x[r, slot, i] = x[i]
    since[r, arm] = LEARNT - t
    held_arm[r, slot] = arm
    held_reward[r, slot] = reward
    clock[r] = (slot + 1) % held_arm.shape[1]


@jit
def step_largest(scores: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Every repetition's arm with the largest score (R, K), ties at random as the choose kernels break them: the
    decision of bounds already computed for it (an adapter asked for them first)."""
    actions = np.empty(scores.shape[0], np.int64)
    for r in range(scores.shape[0]):
        best, pick, ties, state = -np.inf, -1, 0, draws[r]
        for k in range(scores.shape[1]):
            best, pick, ties, state = consider_step(scores[r, k], k, best, pick, ties, state)
        draws[r] = state
        actions[r] = pick
    return actions


def choose(*args: Any) -> int:  # pragma: no cover - replaced in each binding by the policy's own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own learn
    raise NotImplementedError


def estimate(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own estimates
    raise NotImplementedError


def step_choose_template(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                         basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray,
                         clock: np.ndarray, held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, t: int, contexts: np.ndarray, mean: np.ndarray,
                         width: np.ndarray) -> np.ndarray:
    actions = np.empty(target.shape[0], np.int64)
    for r in range(target.shape[0]):
        actions[r] = choose(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                            held_reward, scratch, draws, r, t, contexts[r], mean[r], width[r])
    return actions


def step_estimates_template(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                            basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray,
                            clock: np.ndarray, held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray,
                            t: int, contexts: np.ndarray, mean: np.ndarray, width: np.ndarray) -> None:
    for r in range(target.shape[0]):
        estimate(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x, held_reward, r,
                 t, contexts[r], mean[r], width[r])


def step_learn_template(params: np.ndarray, gram: np.ndarray, squared: np.ndarray, target: np.ndarray,
                        basis: np.ndarray, inner: np.ndarray, coef: np.ndarray, since: np.ndarray, clock: np.ndarray,
                        held_arm: np.ndarray, held_x: np.ndarray, held_reward: np.ndarray, scratch: np.ndarray,
                        t: int, reps: np.ndarray, arms: np.ndarray, contexts: np.ndarray, rewards: np.ndarray) -> None:
    for i in range(reps.shape[0]):
        learn(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x, held_reward, scratch,
              reps[i], t, arms[i], contexts[i], rewards[i])


def kernel(name: str) -> Any:
    """A moving policy's kernel by name: here, or an adapter's template bound to a base's kernels
    (`conservative_moving_choose<choose_dlinucb|learn_dlinucb>`, kernels/wrappers.py)."""
    if "<" in name:
        from banditmap.sim.kernels import wrappers
        return wrappers.linear_composite(name)
    return globals()[name]


@functools.cache
def make_steps(name: str) -> tuple[Any, Any, Any, Any]:
    """A moving policy's (`dlinucb` or `swlinucb`) decisions for all repetitions after t decisions (contexts
    (R, d); mean and width (R, K) left as computed), its estimates alone, its bounds alone (into mean and width
    (R, K): lower and upper), and its learning from a batch of observations (reps, arms, contexts (N, d),
    rewards, learnt in their order) after t decisions."""
    kernels = globals()
    return (bind(step_choose_template, f"moving_step_choose_{name}", choose=kernels[f"choose_{name}"],
                 namespace=kernels),
            bind(step_estimates_template, f"moving_step_estimates_{name}", estimate=kernels[f"estimates_{name}"],
                 namespace=kernels),
            bind(step_estimates_template, f"moving_step_bounds_{name}", estimate=kernels[f"bounds_{name}"],
                 namespace=kernels),
            bind(step_learn_template, f"moving_step_learn_{name}", learn=kernels[f"learn_{name}"],
                 namespace=kernels))


def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, world: np.ndarray,
         saved: np.ndarray, K: int, d: int, H: int, l2: float, W: int, row: np.ndarray, T: int, reward: int,
         dynamics: int, feedback: int, mean_delay: float, batch: int, safety: bool, alpha: float, points: np.ndarray,
         curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray, below: np.ndarray) -> None:
    """One moving policy's whole race on the linear (H = 0) or non-linear contextual world (linear.race's world,
    streams and order of draws, recorded or drawn here), its regressions regularised by l2, its window W
    observations long (0: none), its scratch rows from `row`."""
    R = env.shape[0]
    theta_true, crossed_theta, layer, crossed_layer, bias, hidden, mu, recent = linear.world_arrays(R, K, d, H)
    gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x, held_reward = start(R, K, d, W, l2)
    scratch = np.empty((R, row.shape[0]))
    mean, width = np.empty(K), np.empty(K)
    tail_start = T - max(1, T // 10)
    for r in range(R):
        linear.copy_row(row, scratch[r])
        if world.shape[1] == 0:  # a world drawn here, not read from a record (linear.meet)
            linear.draw_repetition(theta_true, layer, bias, crossed_layer, crossed_theta, env, r)
        x = np.empty(d)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, arm, reward, context
        queue_arm = np.empty(16, np.int64)
        queue_reward = np.empty(16)
        queue_x = np.empty((16, d))
        queued, soonest = 0, linear.LATER
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            top = linear.meet(world, theta_true, bias, crossed_layer, crossed_theta, mu, recent, env, r, t, T,
                              dynamics, x, hidden, reward)
            arm = choose(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                         held_reward, scratch, draws, r, t, x, mean, width)
            value = mu[r, arm]
            arms.account(books, value, top, mu[r, arms.SAFETY_DEFAULT], t, tail_start, safety, alpha)
            if dynamics == arms.ADVERSARIAL:
                recent[r, arm] += 1.0
            observed = linear.observe(value, world, saved, env, r, t, reward)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                      held_reward, scratch, r, t + 1, arm, x, observed)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_arm, queue_reward = arms.grow(queue_at), arms.grow(queue_arm), arms.grow(queue_reward)
                queue_x = linear.grow_rows(queue_x)
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_arm[queued] = arm
            queue_reward[queued] = observed
            linear.copy_row(x, queue_x[queued])
            queued += 1
            soonest = min(soonest, queue_at[queued - 1])
            if soonest > t + 1:  # nothing arrives yet: the queue stays as it is
                continue
            kept, soonest = 0, linear.LATER
            for i in range(queued):  # what is visible at t + 1 is learnt in the queue's order, the rest kept in order
                if queue_at[i] <= t + 1:
                    learn(params, gram, squared, target, basis, inner, coef, since, clock, held_arm, held_x,
                          held_reward, scratch, r, t + 1, queue_arm[i], queue_x[i], queue_reward[i])
                    continue
                if kept < i:
                    queue_at[kept], queue_arm[kept], queue_reward[kept] = queue_at[i], queue_arm[i], queue_reward[i]
                    linear.copy_row(queue_x[i], queue_x[kept])
                soonest = min(soonest, queue_at[kept])
                kept += 1
            queued = kept
        arms.settle(books, r, T, tail_start, final, tail, optimal, below)


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """A moving policy's (`choose_dlinucb` and `learn_dlinucb`, or SW-LinUCB's, or an adapter's templates around
    them) whole race as one compiled function (compiled once, then cached on disk)."""
    return bind(race, arms.named("moving_race", choose_name, learn_name), nogil=True, choose=kernel(choose_name),
                learn=kernel(learn_name), namespace=globals())
