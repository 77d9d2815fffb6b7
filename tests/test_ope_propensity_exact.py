"""Estimated propensities computed by hand: the softmax (and its shift that keeps large scores finite), each row
predicted by the other fold's coefficients, the floor on a logged action's probability, Böhning's fit started at
the actions' smoothed frequencies and its first steps on an intercept-only model of two actions, where it stops
(the relative change of the penalised log-likelihood against the tolerance), the penalised score equations at the
optimum, one model per fold, and the rows of a fold it is fitted on.

Intercept-only, two actions, counts c0 and c1 of n rows: the start is w = (b, -b), b = ln((c0 + 1/2) / (c1 + 1/2))
/ 2, so p0 = (c0 + 1/2) / (n + 1); the gradient of the penalised negative log-likelihood at w is g (1, -1),
g = n p0 - c0 + 2 l2 b, and the bound is X'X + 4 l2 = n + 4 l2, so one step gives b' = b - 2 g / (n + 4 l2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stubs import close

from banditmap.ope import propensity
from banditmap.ope.propensity import (
    FLOOR,
    PropensityModel,
    fit,
    fit_fold,
    sample_rows,
    softmax,
)

Array = np.ndarray
LN3 = math.log(3.0)


# --- softmax ----------------------------------------------------------------------------------------------------

def test_softmax_by_hand() -> None:
    scores = np.array([[0.0, LN3], [math.log(2.0), 0.0], [1.0, 1.0]])
    close(softmax(scores), [[0.25, 0.75], [2 / 3, 1 / 3], [0.5, 0.5]])


def test_softmax_of_three_actions_and_a_row_that_is_not_square() -> None:
    scores = np.array([[0.0, math.log(2.0), math.log(5.0)], [2.0, 2.0, 2.0 + LN3]])
    close(softmax(scores), [[1 / 8, 2 / 8, 5 / 8], [0.2, 0.2, 0.6]])


def test_softmax_stays_finite_on_large_and_very_negative_scores() -> None:
    scores = np.array([[1000.0, 1000.0 - LN3], [-1000.0, -1000.0 + LN3]])
    out = softmax(scores)
    close(out, [[0.75, 0.25], [0.25, 0.75]])


# --- predicting each row with the other fold's model -----------------------------------------------------------

# Fold 0's model: scores (0, ln 3) plus (ln 2, 0) per unit of the second feature; fold 1's: action 0 three times as
# likely, whatever the second feature.
WEIGHTS = np.array([[[0.0, LN3], [math.log(2.0), 0.0]],
                    [[LN3, 0.0], [0.0, 0.0]]])
CONTEXTS = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0], [1.0, 2.0]])
ROWS = np.array([0, 1, 2, 3, 7])


def test_each_row_is_predicted_by_the_other_folds_model() -> None:
    probs = PropensityModel(WEIGHTS).probabilities(ROWS, CONTEXTS)
    # even rows (0, 2) by fold 1: (3/4, 1/4); odd rows by fold 0: row 1 (0, ln 3) -> (1/4, 3/4); row 3 (ln 2, ln 3)
    # -> (2/5, 3/5); row 7 (2 ln 2, ln 3) -> (4/7, 3/7)
    assert probs.shape == (5, 2)
    close(probs, [[0.75, 0.25], [0.25, 0.75], [0.75, 0.25], [0.4, 0.6], [4 / 7, 3 / 7]])


def test_propensities_pick_each_rows_logged_action() -> None:
    p = PropensityModel(WEIGHTS).propensities(ROWS, CONTEXTS, np.array([1, 0, 0, 1, 1]))
    close(p, [0.25, 0.25, 0.75, 0.6, 3 / 7])


def test_a_propensity_is_never_below_the_floor() -> None:
    weights = np.zeros((2, 1, 2))
    weights[:, 0, 0] = 30.0  # action 1's probability e^-30 (about 9e-14) in both folds
    p = PropensityModel(weights).propensities(np.array([0, 1]), np.ones((2, 1)), np.array([1, 0]))
    assert p[0] == FLOOR == 1e-6
    close(p[1], 1 / (1 + math.exp(-30.0)))


def test_no_rows_no_propensities() -> None:
    p = PropensityModel(WEIGHTS).propensities(np.zeros(0, dtype=np.int64), np.zeros((0, 2)),
                                              np.zeros(0, dtype=np.int64))
    assert p.shape == (0,)


# --- the fit ----------------------------------------------------------------------------------------------------

def start(c0: int, c1: int) -> float:
    return 0.5 * math.log((c0 + 0.5) / (c1 + 0.5))


def step(b: float, c0: int, c1: int, l2: float = 1.0) -> float:
    n = c0 + c1
    p0 = 1 / (1 + math.exp(-2 * b))
    return b - 2 * (n * p0 - c0 + 2 * l2 * b) / (n + 4 * l2)


def loss(b: float, c0: int, c1: int, l2: float = 1.0) -> float:
    p0 = 1 / (1 + math.exp(-2 * b))
    return -(c0 * math.log(p0) + c1 * math.log(1 - p0)) + l2 * 2 * b * b


X4 = np.ones((4, 1))
A4 = np.array([0, 0, 0, 1])  # c0 = 3, c1 = 1


def test_the_fit_starts_at_the_actions_smoothed_frequencies_centred(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(propensity, "ITERATIONS", 0)
    w = fit_fold(X4, A4, 2)
    b = 0.5 * math.log(7 / 3)  # ln(3.5 / 1.5) / 2
    close(w, [[b, -b]])
    # three actions, one never logged: ln(c + 1/2) centred; a second feature starts at zero
    w = fit_fold(np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5]]), np.array([0, 0, 1]), 3)
    logs = np.log([2.5, 1.5, 0.5])
    close(w, [logs - logs.mean(), [0.0, 0.0, 0.0]])


def test_the_start_of_a_single_row_over_more_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(propensity, "ITERATIONS", 0)
    w = fit_fold(np.ones((1, 1)), np.array([2]), 3)
    logs = np.log([0.5, 0.5, 1.5])
    close(w, [logs - logs.mean()])


def test_one_step_of_boehnings_bound_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(propensity, "ITERATIONS", 1)
    b = start(3, 1)
    one = step(b, 3, 1)
    assert one == pytest.approx(b / 2 + 0.05, rel=1e-14)  # b - 2 (2.8 - 3 + 2 b) / 8
    close(fit_fold(X4, A4, 2), [[one, -one]])


def test_two_steps_and_the_penalty_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(propensity, "ITERATIONS", 2)
    b = start(3, 1)
    close(fit_fold(X4, A4, 2), [[step(step(b, 3, 1), 3, 1), -step(step(b, 3, 1), 3, 1)]])
    half = step(step(b, 3, 1, 0.5), 3, 1, 0.5)
    close(fit_fold(X4, A4, 2, l2=0.5), [[half, -half]])


def test_a_second_feature_moves_with_its_own_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Orthogonal features (1, +-1): X'X = 4 I, the bound 8 I. The start has p0 = 0.7 on every row and 0 on the
    second feature, whose gradient for action 0 is sum_i x_i (p0 - y_i0) over rows (+1, y 1), (-1, y 1), (+1, y 1),
    (-1, y 0): -0.3 + 0.3 - 0.3 - 0.7 = -1, so it moves to 2 / 8 = 0.25 (and -0.25 for action 1)."""
    monkeypatch.setattr(propensity, "ITERATIONS", 1)
    x = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, -1.0]])
    actions = np.array([0, 0, 0, 1])
    b = start(3, 1)
    second = -2 * (-0.3 + 0.3 - 0.3 - 0.7) / 8
    assert second == 0.25
    close(fit_fold(x, actions, 2), [[step(b, 3, 1), -step(b, 3, 1)], [second, -second]])


def test_the_fit_stops_when_the_loss_changes_by_at_most_the_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loss is computed before each step: iteration 2 compares the loss at the first step's weights with the
    start's. At a tolerance just above their relative change it stops there, returning the first step; just below,
    it takes a second step."""
    b = start(3, 1)
    one, two = step(b, 3, 1), step(step(b, 3, 1), 3, 1)
    change = abs(loss(b, 3, 1) - loss(one, 3, 1)) / max(abs(loss(one, 3, 1)), 1.0)
    monkeypatch.setattr(propensity, "ITERATIONS", 2)
    monkeypatch.setattr(propensity, "TOLERANCE", change * (1 + 1e-6))
    close(fit_fold(X4, A4, 2), [[one, -one]])
    monkeypatch.setattr(propensity, "TOLERANCE", change * (1 - 1e-6))
    close(fit_fold(X4, A4, 2), [[two, -two]])


def test_the_tolerance_is_relative_to_a_loss_below_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many rows of one action under a small penalty: the loss is below 1, so the change is compared with the
    tolerance itself (times 1), not times the loss."""
    c0, c1, l2 = 200, 0, 1e-3
    x, actions = np.ones((200, 1)), np.zeros(200, dtype=np.int64)
    b = start(c0, c1)
    one, two = step(b, c0, c1, l2), step(step(b, c0, c1, l2), c0, c1, l2)
    assert loss(one, c0, c1, l2) < 1.0
    change = abs(loss(b, c0, c1, l2) - loss(one, c0, c1, l2))
    monkeypatch.setattr(propensity, "ITERATIONS", 2)
    monkeypatch.setattr(propensity, "TOLERANCE", change * (1 + 1e-6))
    close(fit_fold(x, actions, 2, l2=l2), [[one, -one]])
    monkeypatch.setattr(propensity, "TOLERANCE", change * (1 - 1e-6))
    close(fit_fold(x, actions, 2, l2=l2), [[two, -two]])


def test_an_unchanged_loss_stops_the_fit_at_zero_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    """One action only: every probability is 1 and the weights 0, so the loss stays 0 and the second loss ends the
    fit (a change of 0 is at most a tolerance of 0)."""
    calls = []

    def counted(scores: Array) -> Array:
        calls.append(1)
        return softmax(scores)

    monkeypatch.setattr(propensity, "TOLERANCE", 0.0)
    monkeypatch.setattr(propensity, "softmax", counted)
    w = fit_fold(np.ones((3, 1)), np.zeros(3, dtype=np.int64), 1)
    close(w, [[0.0]])
    assert len(calls) == 2


def test_the_default_fit_solves_the_penalised_score_equations() -> None:
    """At the optimum X'(P - Y) + 2 l2 W = 0; the weights stay centred over the actions."""
    x = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, -1.0], [1.0, 2.0], [1.0, 0.5], [1.0, -0.5], [1.0, 1.5]])
    actions = np.array([0, 1, 2, 1, 0, 2, 1])
    w = fit_fold(x, actions, 3)
    assert w.shape == (2, 3)
    close(w.sum(axis=1), [0.0, 0.0])
    onehot = np.eye(3)[actions]
    probs = np.exp(x @ w) / np.exp(x @ w).sum(axis=1, keepdims=True)
    assert np.abs(x.T @ (probs - onehot) + 2 * w).max() < 1e-3
    # the penalty in units of rows: a larger one pulls every coefficient towards 0
    w4 = fit_fold(x, actions, 3, l2=4.0)
    assert np.abs(x.T @ (np.exp(x @ w4) / np.exp(x @ w4).sum(axis=1, keepdims=True) - onehot) + 8 * w4).max() < 1e-3
    assert np.abs(w4).max() < np.abs(w).max()


def test_the_intercept_only_optimum_balances_frequency_and_penalty() -> None:
    """Two actions, 3 and 1 of 4 rows: the optimum b solves 4 sigmoid(2 b) - 3 + 2 b = 0."""
    w = fit_fold(X4, A4, 2)
    b = float(w[0, 0])
    assert w[0, 1] == pytest.approx(-b, abs=1e-12)
    assert abs(4 / (1 + math.exp(-2 * b)) - 3 + 2 * b) < 1e-3
    assert 0.2 < b < 0.3


def test_one_model_per_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(propensity, "ITERATIONS", 0)
    model = fit([(X4, A4), (np.ones((2, 1)), np.array([1, 1]))], 2)
    assert model.weights.shape == (2, 1, 2)
    b, c = start(3, 1), start(0, 2)
    close(model.weights, [[[b, -b]], [[c, -c]]])


# --- the rows a fold is fitted on -------------------------------------------------------------------------------

def test_every_row_of_a_fold_when_there_are_few() -> None:
    assert sample_rows(5, 0).tolist() == [0, 2, 4]
    assert sample_rows(6, 1).tolist() == [1, 3, 5]
    assert sample_rows(1, 1).tolist() == []


def test_evenly_spaced_rows_of_a_long_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(propensity, "MAX_FIT_ROWS", 4)
    # fold 0 of 18 rows: 0, 2, ..., 16 (9 rows); positions 0, 8/3, 16/3, 8 rounded: 0, 3, 5, 8
    out = sample_rows(18, 0)
    assert out.tolist() == [0, 6, 10, 16] and out.dtype == np.int64
    # fold 1 of 8 rows: 1, 3, 5, 7 -- exactly the limit, all kept
    assert sample_rows(8, 1).tolist() == [1, 3, 5, 7]
    monkeypatch.setattr(propensity, "MAX_FIT_ROWS", 3)
    assert sample_rows(20, 1).tolist() == [1, 9, 19]  # positions 0, 4.5 (to even: 4), 9
