"""The assortment policies of banditmap.sim.policies.assortment checked by hand: the epochs of Agrawal, Avadhanula,
Goyal and Zeevi (one assortment until a customer leaves; the purchases of each item in the epochs that offered it),
MNL-UCB's optimistic weights v + sqrt(48 v log(sqrt(N) l + 1) / n) + 48 log(sqrt(N) l + 1) / n capped at 1,
Thompson sampling's weights 1 / p - 1 from Beta(n + 1, purchases + 1) draws, and the uniform baseline. The
assortment optimiser (oracles.best_assortment) is replaced by a recorder: the tests check what the policy asks it
and what it does with the answer. Random draws are checked by replaying a copy of the generator."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim import oracles
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.assortment import (
    ASSORTMENT,
    MNLUCB,
    EpochPolicy,
    Epochs,
    MNLThompson,
    UniformAssortment,
)
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.problem import Problem

from stubs import close, small_problem


def problem(items: int = 4, k: int = 2, reps: int = 2, reward: str = "binary") -> Problem:
    return small_problem("assortment", reward=reward, n_arms=items, slate_size=k, rounds=50, reps=reps)


class Optimiser:
    """Stands in for oracles.best_assortment: records its arguments, answers with the given assortments."""

    def __init__(self, answers: list[list[list[int]]]) -> None:
        self.answers = iter(answers)
        self.calls: list[tuple[np.ndarray, np.ndarray, int]] = []

    def __call__(self, weights: np.ndarray, revenue: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append((np.array(weights), np.array(revenue), size))
        chosen = np.array(next(self.answers))
        return chosen, np.zeros(len(chosen))


class Fixed(EpochPolicy):
    """An epoch policy whose weights are given (to check select's plumbing)."""

    def weights(self, s: Epochs, rows: np.ndarray) -> np.ndarray:
        given: np.ndarray = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2]])[rows]
        return given


# --- declarations and state ---------------------------------------------------------------------------------------

def test_registry_kinds_and_hyperparameters() -> None:
    assert (REGISTRY["mnl-ucb"], REGISTRY["mnl-ts"], REGISTRY["uniform-random-assortment"]) == (
        MNLUCB, MNLThompson, UniformAssortment)
    assert ASSORTMENT == frozenset({"assortment"})
    for cls in (MNLUCB, MNLThompson, UniformAssortment):
        assert cls.kinds == frozenset({"assortment"})
    assert MNLUCB().scale == 1.0 and MNLUCB(scale=0.0).scale == 0.0
    with pytest.raises(BanditmapError, match="MNLUCB.scale"):
        MNLUCB(scale=-1.0)


def test_init_starts_fresh_with_no_epochs() -> None:
    s = MNLUCB().init(problem(items=4, k=2, reps=2), np.random.default_rng(0))
    assert (s.R, s.K, s.k, s.horizon) == (2, 4, 2, 50)
    assert s.revenue.tolist() == [[1.0] * 4] * 2
    assert s.offered.tolist() == [[-1, -1]] * 2
    assert s.fresh.dtype == bool and s.fresh.tolist() == [True, True]
    for name in ("bought", "epochs", "purchases"):
        assert getattr(s, name).shape == (2, 4) and not getattr(s, name).any()
    assert s.finished.tolist() == [0.0, 0.0]
    s.bought[0, 0] = 1
    assert not s.epochs.any() and not s.purchases.any()  # separate arrays
    priced = MNLUCB().init(problem(items=5, k=2, reps=2, reward="continuous"), np.random.default_rng(0))
    assert close(priced.revenue, [[0.2, 0.4, 0.6, 0.8, 1.0]] * 2)


# --- epochs -------------------------------------------------------------------------------------------------------

def test_select_optimises_fresh_rows_only_and_keeps_the_epochs_assortment(monkeypatch: pytest.MonkeyPatch) -> None:
    optimiser = Optimiser([[[3, 1], [0, -1]], [[2, 0]]])
    monkeypatch.setattr(oracles, "best_assortment", optimiser)
    policy = Fixed()
    s = policy.init(problem(items=4, k=2, reps=3, reward="continuous"), np.random.default_rng(1))
    s.fresh[:] = [True, False, True]
    s.offered[1] = [2, 3]
    replay = copy.deepcopy(s.rng)
    shown = policy.select(s, None)
    assert shown.tolist() == [[3, 1], [2, 3], [0, -1]]
    (weights, revenue, size), = optimiser.calls
    noise = replay.random((2, 4)) * 1e-9
    assert np.array_equal(weights, np.array([[0.1, 0.2, 0.3, 0.4], [0.9, 1.0, 1.1, 1.2]]) + noise)
    assert close(revenue, [np.linspace(0.2, 1.0, 4)] * 2) and size == 2
    assert s.fresh.tolist() == [False, False, False]
    shown[0, 0] = 9  # a copy
    assert s.offered.tolist() == [[3, 1], [2, 3], [0, -1]]
    # nothing fresh: the same assortments, no optimisation and no draw
    before = copy.deepcopy(s.rng)
    assert policy.select(s, None).tolist() == [[3, 1], [2, 3], [0, -1]]
    assert len(optimiser.calls) == 1 and s.rng.random() == before.random()
    s.fresh[1] = True
    assert policy.select(s, None).tolist() == [[3, 1], [2, 0], [0, -1]]
    assert optimiser.calls[1][0].shape == (1, 4)
    extra = optimiser.calls[1][0] - np.array([[0.5, 0.6, 0.7, 0.8]])  # the weights of row 1 plus the tie noise
    assert ((extra >= 0) & (extra < 1e-9)).all()


def test_select_asks_the_policys_own_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    optimiser = Optimiser([[[0, 2]]])
    monkeypatch.setattr(oracles, "best_assortment", optimiser)
    policy = MNLUCB()
    s = policy.init(problem(items=3, k=2, reps=1), np.random.default_rng(0))
    s.epochs[0] = [1, 0, 0]  # v = 0 after one epoch: the bonus 48 log(sqrt(3) + 1) alone, capped at 1
    assert policy.select(s, None).tolist() == [[0, 2]]
    extra = optimiser.calls[0][0] - 1.0
    assert ((extra >= 0) & (extra < 1e-9)).all()


def test_update_counts_purchases_until_a_customer_leaves() -> None:
    policy = MNLUCB()
    s = policy.init(problem(items=4, k=3, reps=3), np.random.default_rng(0))
    s.fresh[:] = False
    # repetition 0: item 2 bought twice, then the customer leaves (the epoch offered 2, 0 and a pad);
    # repetition 1: item 1 bought, the epoch goes on; repetition 2 leaves at once (offered 3, 1, 0)
    feedback = Feedback(np.array([0, 0, 1, 0, 2]), np.array([[2, 0, -1], [2, 0, -1], [1, 3, -1], [2, 0, -1],
                                                             [3, 1, 0]]),
                        np.array([2.0, 2.0, 1.0, -1.0, -1.0]), None)
    policy.update(s, feedback)
    assert s.epochs.tolist() == [[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 0, 1]]
    assert s.purchases.tolist() == [[0, 0, 2, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert s.bought.tolist() == [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    assert s.finished.tolist() == [1, 0, 1]
    assert s.fresh.tolist() == [True, False, True]
    # a second epoch of repetition 0: item 0 bought, then a leave; purchases add up
    policy.update(s, Feedback(np.array([0, 0]), np.array([[0, 3, -1], [0, 3, -1]]), np.array([0.0, -1.0]), None))
    assert s.epochs[0].tolist() == [2, 0, 1, 1]
    assert s.purchases[0].tolist() == [1, 0, 2, 0]
    assert s.finished.tolist() == [2, 0, 1]


def test_update_with_unique_feedback_buying_and_leaving_in_one_layer() -> None:
    policy = MNLUCB()
    s = policy.init(problem(items=3, k=2, reps=2), np.random.default_rng(0))
    s.fresh[:] = False
    s.bought[1, 2] = 3.0
    policy.update(s, Feedback(np.array([0, 1]), np.array([[0, 1], [2, 1]]), np.array([1.0, -1.0]), None,
                              unique=True))
    assert s.bought.tolist() == [[0, 1, 0], [0, 0, 0]]
    assert s.epochs.tolist() == [[0, 0, 0], [0, 1, 1]]
    assert s.purchases.tolist() == [[0, 0, 0], [0, 0, 3]]
    assert s.finished.tolist() == [0, 1] and s.fresh.tolist() == [False, True]


def test_recommend_optimises_the_mean_purchases_per_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    optimiser = Optimiser([[[1, 2]]])
    monkeypatch.setattr(oracles, "best_assortment", optimiser)
    policy = MNLUCB()
    s = policy.init(problem(items=3, k=2, reps=1), np.random.default_rng(0))
    s.epochs[:] = [[0, 4, 1]]
    s.purchases[:] = [[0, 2, 3]]
    assert policy.recommend(s).tolist() == [[1, 2]]
    (weights, revenue, size), = optimiser.calls
    assert weights.tolist() == [[0.0, 0.5, 3.0]] and revenue.tolist() == [[1.0, 1.0, 1.0]] and size == 2


# --- MNL-UCB ------------------------------------------------------------------------------------------------------

def test_mnl_ucb_weights_are_optimistic_and_capped_at_one() -> None:
    policy = MNLUCB(scale=0.001)
    s = policy.init(problem(items=4, k=2, reps=2), np.random.default_rng(0))
    s.epochs[1] = [0, 4, 1, 16]
    s.purchases[1] = [0, 2, 0.5, 8]  # v = 0, 1/2, 1/2, 1/2
    s.finished[:] = [0, 3]
    log = math.log(2 * (3 + 1) + 1)  # sqrt(N) (l + 1) + 1 with N = 4 items, l = 3 epochs

    def bonus(v: float, n: int) -> float:
        return 0.001 * (math.sqrt(48 * v * log / n) + 48 * log / n)

    assert close(policy.weights(s, np.array([1])), [[1.0, 0.5 + bonus(0.5, 4), 0.5 + bonus(0.5, 1),
                                                     0.5 + bonus(0.5, 16)]])
    s.epochs[0] = [2, 1, 0, 0]
    s.purchases[0] = [2, 0, 0, 0]  # v = 1: capped at 1; v = 0 after one epoch: only the second term
    log0 = math.log(2 * 1 + 1)
    assert close(policy.weights(s, np.array([0])), [[1.0, 0.001 * 48 * log0, 1.0, 1.0]])
    assert policy.weights(s, np.array([0, 1])).shape == (2, 4)


# --- MNL Thompson sampling ----------------------------------------------------------------------------------------

def test_mnl_thompson_weights_from_beta_draws() -> None:
    policy = MNLThompson()
    s = policy.init(problem(items=3, k=2, reps=2), np.random.default_rng(0))
    s.epochs[1] = [2, 0, 5]
    s.purchases[1] = [1, 0, 7]
    asked: list[Any] = []

    def beta(a: np.ndarray, b: np.ndarray, reps: Any = None) -> np.ndarray:
        asked.append((np.asarray(a).tolist(), np.asarray(b).tolist(), np.asarray(reps).tolist()))
        return np.array([[0.25, 0.5, 0.0]])

    s.beta = beta  # type: ignore[method-assign]
    assert close(policy.weights(s, np.array([1])), [[3.0, 1.0, 1e9 - 1.0]])
    assert asked == [([[3, 1, 6]], [[2, 1, 8]], [1])]


def test_mnl_thompson_draws_from_the_rows_streams() -> None:
    policy = MNLThompson()
    s = policy.init(problem(items=3, k=2, reps=2), np.random.default_rng(0))
    s.epochs[:] = 10**6
    s.purchases[:] = [[0, 10**6, 3 * 10**6], [0, 0, 0]]  # weights about 0, 1 and 3
    w = policy.weights(s, np.array([0]))
    assert w.shape == (1, 3)
    assert abs(w[0, 0]) < 0.01 and abs(w[0, 1] - 1) < 0.01 and abs(w[0, 2] - 3) < 0.02


# --- the uniform baseline -----------------------------------------------------------------------------------------

def test_uniform_assortment_takes_the_first_k_of_a_random_order() -> None:
    policy = UniformAssortment()
    s = policy.init(problem(items=5, k=3, reps=4), np.random.default_rng(2))
    replay = copy.deepcopy(s.rng)
    shown = policy.select(s, None)
    assert shown.tolist() == np.argsort(replay.random((4, 5)), axis=1)[:, :3].tolist()
    assert all(len(set(row)) == 3 for row in shown.tolist())
