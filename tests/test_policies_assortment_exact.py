"""The assortment policies of banditmap.sim.policies.assortment checked by hand: the epochs of Agrawal, Avadhanula,
Goyal and Zeevi (one assortment until a customer leaves; the purchases of each item in the epochs that offered it),
MNL-UCB's optimistic weights v + sqrt(48 v log(sqrt(N) l + 1) / n) + 48 log(sqrt(N) l + 1) / n capped at 1,
Thompson sampling's weights 1 / p - 1 from Beta(n + 1, purchases + 1) draws, and the uniform baseline, through
the policies' classes: their decisions and learning are compiled kernels (sim/kernels/assortment.py, checked
formula by formula in tests/test_kernels_assortment_exact.py), so these tests check what each class gives its
kernels and keeps. `recommend` still asks oracles.best_assortment, which is replaced by a recorder there. Random
draws are checked by replaying the repetition's stream."""

from __future__ import annotations

import numpy as np
import pytest
from stubs import close, small_problem
from test_kernels_exact import Stream

from banditmap.errors import BanditmapError
from banditmap.sim import oracles
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.assortment import ASSORTMENT, MNLUCB, MNLThompson, UniformAssortment
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.problem import Problem


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
    assert s.offered.dtype == np.int64 and s.offered.tolist() == [[-1, -1]] * 2
    assert s.draws.dtype == np.uint64 and s.draws.tolist() == np.random.default_rng(0).integers(
        0, 2**64 - 1, 2, dtype=np.uint64, endpoint=True).tolist()  # the first draws of the generator: the streams
    assert s.fresh.dtype == bool and s.fresh.tolist() == [True, True]
    for name in ("bought", "epochs", "purchases"):
        assert getattr(s, name).shape == (2, 4) and not getattr(s, name).any()
    assert s.finished.tolist() == [0.0, 0.0]
    s.bought[0, 0] = 1
    assert not s.epochs.any() and not s.purchases.any()  # separate arrays
    priced = MNLUCB().init(problem(items=5, k=2, reps=2, reward="continuous"), np.random.default_rng(0))
    assert close(priced.revenue, [[0.2, 0.4, 0.6, 0.8, 1.0]] * 2)


# --- epochs -------------------------------------------------------------------------------------------------------

def test_an_epoch_keeps_its_assortment_until_a_customer_leaves() -> None:
    """select offers a new assortment to the repetitions whose epoch ended, keeps the others' (drawing nothing for
    them), and returns a copy; update ends a repetition's epoch when its customer leaves."""
    policy = MNLUCB()
    s = policy.init(problem(items=4, k=2, reps=3), np.random.default_rng(1))
    refs = [Stream(d) for d in s.draws]
    first = policy.select(s, None)
    for r in range(3):  # every weight 1 and every revenue 1: the two items of largest random key
        keys = [refs[r].uniform() for _ in range(4)]
        assert first[r].tolist() == sorted(range(4), key=lambda i: -keys[i])[:2]
    assert s.fresh.tolist() == [False] * 3 and s.draws.tolist() == [ref.state for ref in refs]
    first[0, 0] = 9  # a copy
    assert s.offered[0, 0] != 9
    shown = s.offered.copy()
    policy.update(s, Feedback(np.arange(3), shown, np.array([shown[0, 0], -1.0, shown[2, 1]]), None, unique=True))
    assert s.fresh.tolist() == [False, True, False]
    again = policy.select(s, None)
    assert again[[0, 2]].tolist() == shown[[0, 2]].tolist()
    assert s.draws[[0, 2]].tolist() == [refs[0].state, refs[2].state] and s.draws[1] != refs[1].state


def test_mnl_ucb_gives_its_scale_to_the_kernel() -> None:
    """One item offered, revenues 0.2, 0.6, 1, mean purchases per epoch 0.9, 0.5, 0.1 after 10 epochs each: the
    estimates alone (scale 0) earn most with item 1 (0.3 / 1.5 against 0.18 / 1.9 and 0.1 / 1.1); the paper's
    constants (scale 1) cap every weight at 1, and item 2 earns most (1 / 2)."""
    for scale, best in ((0.0, 1), (0.001, 1), (1.0, 2)):
        policy = MNLUCB(scale=scale)
        s = policy.init(problem(items=3, k=1, reps=1, reward="continuous"), np.random.default_rng(0))
        s.epochs[:] = 10
        s.purchases[:] = [[9, 5, 1]]
        s.finished[:] = 10
        assert policy.params().tolist() == [scale]
        assert policy.select(s, None).tolist() == [[best]]


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


# --- MNL Thompson sampling ----------------------------------------------------------------------------------------

def test_mnl_thompson_weights_are_one_over_a_beta_draw_minus_one() -> None:
    """After a million epochs with 0, 1 and 3 purchases per epoch, Beta(n + 1, purchases + 1) draws are close to
    1 / (1 + v) = 1, 1/2, 1/4, so the weights 1 / p - 1 are close to 0, 1 and 3: revenues equal, the best offers
    rank the items 2, 1, 0 (read as p itself, the order would be reversed)."""
    policy = MNLThompson()
    s = policy.init(problem(items=3, k=2, reps=2), np.random.default_rng(0))
    s.epochs[:] = 10**6
    s.purchases[:] = [[0, 10**6, 3 * 10**6], [0, 0, 0]]
    other = s.draws[1]
    assert policy.params().tolist() == []
    assert policy.select(s, None)[0].tolist() == [2, 1]
    assert s.draws[1] != other  # row 1 chose too, from its own stream (weights all near 0: any pair)
    s.fresh[:] = [True, False]
    kept = s.offered[1].copy()
    assert policy.select(s, None)[0].tolist() == [2, 1] and s.offered[1].tolist() == kept.tolist()


# --- the uniform baseline -----------------------------------------------------------------------------------------

def test_uniform_assortment_shuffles_every_round() -> None:
    """k distinct items every round, the first k steps of a Fisher-Yates shuffle on the repetition's stream, epoch
    or not."""
    policy = UniformAssortment()
    s = policy.init(problem(items=5, k=3, reps=4), np.random.default_rng(2))
    refs = [Stream(d) for d in s.draws]
    for _ in range(3):
        shown = policy.select(s, None)
        for r, ref in enumerate(refs):
            order = list(range(5))
            for j in range(3):
                pick = j + ref.below(5 - j)
                order[j], order[pick] = order[pick], order[j]
            assert shown[r].tolist() == order[:3]
    assert all(len(set(row)) == 3 for row in shown.tolist())
