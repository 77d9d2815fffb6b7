"""Ties between infinite scores (every untried arm's index) are broken uniformly at random each round, as ties
between finite scores are: noise added to an infinity leaves it infinite, and argmax would take the lowest index."""

from __future__ import annotations

import numpy as np
import pytest

from banditmap.sim.policies.base import argmax_random, tie_broken, top_k
from banditmap.sim.policies.lists import CascadeUCB, RankedUCB

from stubs import small_problem


def shares(picks: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(picks.ravel(), minlength=n) / picks.size


def test_untried_arms_are_chosen_uniformly():
    rng = np.random.default_rng(1)
    picks = argmax_random(np.full((4000, 4), np.inf), rng)
    # each share 0.25; its standard deviation over 4,000 draws is 0.0068, so 0.04 is about 6 of them
    assert np.all(np.abs(shares(picks, 4) - 0.25) < 0.04)


def test_an_infinite_score_beats_every_finite_one_and_ties_only_with_infinities():
    rng = np.random.default_rng(2)
    scores = np.tile([np.inf, 1e300, np.inf, -np.inf], (2000, 1))
    picks = argmax_random(scores, rng)
    got = shares(picks, 4)
    assert got[1] == got[3] == 0.0 and abs(got[0] - 0.5) < 0.05
    noisy = tie_broken(np.array([[np.inf, 3.0, np.inf]]), rng)
    assert np.isfinite(noisy).all() and noisy[0, 0] != noisy[0, 2] and min(noisy[0, 0], noisy[0, 2]) > 1e300
    assert abs(noisy[0, 1] - 3.0) <= 1e-9


def test_finite_scores_keep_their_order_and_their_stream():
    scores = np.array([[0.2, 0.5, 0.1]])
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(tie_broken(scores, a), scores + b.random(scores.shape) * 1e-9)


def test_top_k_orders_untried_items_at_random_then_the_best_tried():
    rng = np.random.default_rng(4)
    lists = top_k(np.tile([1.0, np.inf, 0.0, np.inf], (2000, 1)), 3, rng)
    assert set(map(tuple, lists[:, :2].tolist())) == {(1, 3), (3, 1)}
    assert (lists[:, 2] == 0).all()
    assert abs((lists[:, 0] == 1).mean() - 0.5) < 0.05


def test_list_policies_start_with_random_untried_items():
    for policy, kind in ((CascadeUCB(), "cascade"), (RankedUCB(), "slate")):
        problem = small_problem(kind, n_arms=4, slate_size=2, reps=2000)
        state = policy.init(problem, np.random.default_rng(5))
        first = policy.select(state, None)[:, 0]
        assert np.all(np.abs(shares(first, 4) - 0.25) < 0.05), policy


@pytest.mark.parametrize("k", [3, 18])
def test_top_k_never_repeats_a_column_when_few_are_above_minus_infinity(k: int) -> None:
    """Fewer finite scores than k (both the argmax passes, k <= 16, and the partial sort): the finite columns come
    first, best first, then the excluded (-inf) columns, each once, in random order."""
    scores = np.full((1, k + 2), -np.inf)
    scores[0, 1], scores[0, 4] = 0.5, 2.0
    thirds = set()
    for seed in range(40):
        chosen = top_k(scores, k, np.random.default_rng(seed))[0].tolist()
        assert chosen[:2] == [4, 1]
        assert len(set(chosen)) == k and set(chosen) <= set(range(k + 2))
        thirds.add(chosen[2])
    assert len(thirds) >= 3  # the excluded columns' order is drawn afresh


def test_top_k_argmax_passes_take_many_excluded_columns_once_each() -> None:
    """The argmax passes (k <= 16) after the finite columns 0 and 1 are taken: the ten excluded columns are each
    taken once (a taken column, marked -inf, must stay below every excluded one, whatever their random order)."""
    scores = np.full((1, 12), -np.inf)
    scores[0, 0], scores[0, 1] = 1.0, 0.5
    for seed in range(20):
        chosen = top_k(scores, 10, np.random.default_rng(seed))[0].tolist()
        assert chosen[:2] == [0, 1] and len(set(chosen)) == 10
