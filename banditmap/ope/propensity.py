"""Estimated propensities for logs that lack them (or whose logged ones are doubted): a multinomial logistic model
of the logged action given the context, cross-fitted on two folds (rows of each parity), so no row's propensity
comes from a model that saw it.

The model is fitted by Böhning's bound (Böhning, Annals of the Institute of Statistical Mathematics 1992): the
Hessian of the multinomial log-likelihood is bounded by 1/2 (I - 11'/K) (x) X'X / n, a fixed matrix, so each step
is one solve with X'X and the iterations increase the penalised likelihood monotonically; plain NumPy, no scipy.
At most MAX_FIT_ROWS rows per fold are used (an evenly spaced sample), so a long log costs one more pass to
predict, not a long fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray
FOLDS = 2
MAX_FIT_ROWS = 50_000  # rows per fold the model is fitted on
ITERATIONS = 200
TOLERANCE = 1e-7  # relative change of the penalised log-likelihood that ends the fit
L2 = 1.0  # ridge penalty on the coefficients (the intercept too), in units of rows
FLOOR = 1e-6  # estimated propensities are kept at least this, so no weight is infinite
POOR_OVERLAP = 0.05  # more than this share of rows under NEAR_ZERO / K: overlap is poor, fall back to DM


@dataclass(frozen=True)
class PropensityModel:
    """Coefficients of each fold's model: weights[f] is (d, K); a row of fold f is predicted by the other fold's."""

    weights: Array  # (FOLDS, d, K)

    def probabilities(self, rows: Array, contexts: Array) -> Array:
        """(n, K) estimated probabilities of every action for rows (their indices in the log) and contexts (n, d)."""
        out = np.empty((len(rows), self.weights.shape[2]))
        other = (rows + 1) % FOLDS
        for f in range(FOLDS):
            pick = other == f
            out[pick] = softmax(contexts[pick] @ self.weights[f])
        return out

    def propensities(self, rows: Array, contexts: Array, actions: Array) -> Array:
        """(n,) the estimated probability of each row's logged action, at least FLOOR."""
        probs = self.probabilities(rows, contexts)
        out: Array = np.maximum(probs[np.arange(len(actions)), actions], FLOOR)
        return out


def softmax(scores: Array) -> Array:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    out: Array = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def fit_fold(contexts: Array, actions: Array, n_actions: int, l2: float = L2) -> Array:
    """(d, K) coefficients of a multinomial logistic regression of actions (n,) on contexts (n, d) with a ridge
    penalty, by Böhning's bound: W <- W - 2 (X'X + 4 l2 I)^-1 G, G the gradient of the penalised negative
    log-likelihood (W and G stay centred over the actions, so the projection in the bound changes nothing)."""
    n, d = contexts.shape
    onehot = np.zeros((n, n_actions))
    onehot[np.arange(n), actions] = 1.0
    weights = np.zeros((d, n_actions))
    counts = onehot.sum(axis=0)
    weights[0] = np.log((counts + 0.5) / (n + 0.5 * n_actions))  # start at the actions' frequencies (intercept)
    weights[0] -= weights[0].mean()
    bound = np.linalg.cholesky(contexts.T @ contexts + 4 * l2 * np.eye(d))
    last = np.inf
    for _ in range(ITERATIONS):
        probs = softmax(contexts @ weights)
        loss = -float(np.log(np.maximum(probs[np.arange(n), actions], 1e-300)).sum()) + l2 * float((weights ** 2).sum())
        if abs(last - loss) <= TOLERANCE * max(abs(loss), 1.0):
            break
        last = loss
        gradient = contexts.T @ (probs - onehot) + 2 * l2 * weights
        step = np.linalg.solve(bound.T, np.linalg.solve(bound, gradient))
        weights = weights - 2 * step
    return weights


def fit(samples: list[tuple[Array, Array]], n_actions: int) -> PropensityModel:
    """One model per fold from (contexts, actions) of that fold's rows."""
    return PropensityModel(np.stack([fit_fold(x, a, n_actions) for x, a in samples]))


def sample_rows(rows: int, fold: int) -> Array:
    """Indices of the rows of `fold` (of the log's `rows`) the model is fitted on: all, or MAX_FIT_ROWS evenly
    spaced ones."""
    mine = np.arange(fold, rows, FOLDS)
    if len(mine) <= MAX_FIT_ROWS:
        return mine
    return mine[np.linspace(0, len(mine) - 1, MAX_FIT_ROWS).round().astype(np.int64)]
