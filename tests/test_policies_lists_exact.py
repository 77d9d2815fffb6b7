"""The list policies of banditmap.sim.policies.lists checked by hand: CascadeUCB1 and CascadeKL-UCB learn from the
items examined down to the click (Kveton et al. 2015), CUCB and CTS from every item shown, PBM-UCB's index
S/N~ + sqrt(N (1 + epsilon) log t / (2 N~^2)) (Lagree et al. 2016), and ranked UCB's one UCB1 per position with the
items kept distinct down the list (Radlinski et al. 2008), each on a few items with given counts and clicks, through
the policies' select and update (their compiled kernels, sim/kernels/lists.py, are checked one by one in
test_kernels_lists_exact.py). Random draws are checked by replaying the state's compiled streams."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.lists import (
    CascadeKLUCB,
    CascadeUCB,
    CombinatorialThompson,
    CombinatorialUCB,
    ListKernel,
    PositionBasedUCB,
    RankedUCB,
    UniformList,
)
from banditmap.sim.problem import Problem

from stubs import small_problem
from test_kernels_exact import Stream


def problem(kind: str = "slate", arms: int = 4, k: int = 2, reps: int = 1, rounds: int = 100) -> Problem:
    return small_problem(kind, n_arms=arms, n_features=1, slate_size=k, rounds=rounds, reps=reps)


def with_stats(policy, counts, sums, kind: str = "slate", k: int = 2, seed: int = 0):  # type: ignore[no-untyped-def]
    c, s = np.atleast_2d(np.asarray(counts, float)), np.atleast_2d(np.asarray(sums, float))
    st = policy.init(problem(kind, arms=c.shape[1], k=k, reps=c.shape[0]), np.random.default_rng(seed))
    st.counts[:], st.sums[:] = c, s
    st.means[:] = np.where(c > 0, s / np.maximum(c, 1), 0.0)
    return st


def lists(reps: list[int], actions: list[list[int]], observed: list, unique: bool = False) -> Feedback:  # type: ignore[type-arg]
    obs = np.array(observed)
    return Feedback(np.array(reps), np.array(actions), obs.astype(float), None, unique=unique)


def ranked(scores: list[float], k: int) -> list[int]:
    """The k items of largest score, best first (the scores distinct)."""
    return [int(i) for i in np.argsort(-np.asarray(scores), kind="stable")[:k]]


# --- declarations -------------------------------------------------------------------------------------------------

def test_registry_kinds_and_defaults() -> None:
    assert (REGISTRY["cascade-ucb"], REGISTRY["cascade-klucb"], REGISTRY["cucb"], REGISTRY["pbm-ucb"], REGISTRY["cts"],
            REGISTRY["uniform-random-list"], REGISTRY["ranked-ucb"]) == (
        CascadeUCB, CascadeKLUCB, CombinatorialUCB, PositionBasedUCB, CombinatorialThompson, UniformList, RankedUCB)
    for cls in (CascadeUCB, CascadeKLUCB, RankedUCB):
        assert cls.kinds == frozenset({"cascade"}) and issubclass(cls, ListKernel)
    for cls in (CombinatorialUCB, PositionBasedUCB, CombinatorialThompson):
        assert cls.kinds == frozenset({"slate"}) and issubclass(cls, ListKernel)
    assert UniformList.kinds == frozenset({"cascade", "slate"})
    assert CascadeUCB().alpha == 1.5 and CombinatorialUCB().alpha == 1.5 and RankedUCB().alpha == 1.5
    assert (PositionBasedUCB().epsilon, PositionBasedUCB().examination) == (0.0, 1.0)
    assert PositionBasedUCB(epsilon=0.5, examination=0.25).params().tolist() == [0.5, 0.25]  # the kernels' order
    assert CascadeKLUCB().params().tolist() == [] and UniformList().params().tolist() == []
    with pytest.raises(BanditmapError, match=r"from 1e-06 to 1 \(a position never examined teaches nothing\)"):
        PositionBasedUCB(examination=0.0)
    with pytest.raises(BanditmapError, match="PositionBasedUCB.epsilon"):
        PositionBasedUCB(epsilon=-0.5)
    with pytest.raises(BanditmapError, match="RankedUCB.alpha"):
        RankedUCB(alpha=-1.0)
    with pytest.raises(BanditmapError, match="CascadeUCB.alpha"):
        CascadeUCB(alpha=-1.0)


def test_their_kernels() -> None:
    kernels = {cls: (cls.choose, cls.learn) for cls in (CascadeUCB, CascadeKLUCB, CombinatorialUCB,
                                                        PositionBasedUCB, CombinatorialThompson, UniformList,
                                                        RankedUCB)}
    assert kernels == {
        CascadeUCB: ("choose_ucb_items", "learn_cascade"), CascadeKLUCB: ("choose_kl_ucb_items", "learn_cascade"),
        CombinatorialUCB: ("choose_ucb_items", "learn_slate"), PositionBasedUCB: ("choose_pbm_ucb", "learn_slate"),
        CombinatorialThompson: ("choose_cts", "learn_slate"), UniformList: ("choose_uniform_list", "learn_nothing"),
        RankedUCB: ("choose_ranked_ucb", "learn_ranked")}


def test_item_policies_start_with_empty_statistics_of_their_list_length() -> None:
    for policy in (CascadeUCB(), CascadeKLUCB(), CombinatorialUCB(), PositionBasedUCB(), CombinatorialThompson(),
                   UniformList()):
        p = problem(arms=5, k=3, reps=2, rounds=9)
        s = policy.init(p, np.random.default_rng(0))
        assert (s.R, s.K, s.k, s.horizon, s.t) == (2, 5, 3, 9, 0)
        assert s.counts.shape == s.sums.shape == s.means.shape == (2, 5) and policy.columns(p) == 5
        assert not s.counts.any() and not s.sums.any() and not s.means.any() and not s.scratch.any()
        assert s.scratch.shape == (2, 11 if isinstance(policy, (CombinatorialThompson, PositionBasedUCB)) else 6)
        # the streams are the generator's first two 64-bit outputs, as the compiled race draws them
        assert s.draws.tolist() == np.random.default_rng(0).integers(0, 2**64 - 1, 2, np.uint64, endpoint=True).tolist()


# --- UCB on items -------------------------------------------------------------------------------------------------

def test_ucb_items_index_and_list_by_hand() -> None:
    """counts 4, 1, 0, 2 and sums 3, 0, 0, 2: t = 7, index mean + sqrt(1.5 ln 7 / n); the untried item first, then
    item 3 (1 + sqrt(1.5 ln 7 / 2) = 2.21), item 1 (sqrt(1.5 ln 7) = 1.71), item 0 (0.75 + sqrt(1.5 ln 7 / 4) =
    1.60)."""
    for policy in (CombinatorialUCB(), CascadeUCB()):
        s = with_stats(policy, [[4, 1, 0, 2]], [[3, 0, 0, 2]], k=3)
        assert policy.select(s, None).tolist() == [[2, 3, 1]]
    s = with_stats(CombinatorialUCB(alpha=0.1), [[4, 1, 0, 2]], [[3, 0, 0, 2]], k=3)
    # alpha 0.1: 1 + 0.31, 0.75 + 0.22, 0 + 0.44: item 3, then item 0, then item 1
    assert CombinatorialUCB(alpha=0.1).select(s, None).tolist() == [[2, 3, 0]]
    # item 1 passes item 0 when x = sqrt(alpha ln 7) > 0.75 + x / 2, i.e. alpha > 2.25 / ln 7 = 1.156: at alpha 1.1
    # 1.463 against 1.481, at alpha 1.2 1.528 against 1.514
    for alpha, third in ((1.1, 0), (1.2, 1)):
        s = with_stats(CombinatorialUCB(alpha=alpha), [[4, 1, 0, 2]], [[3, 0, 0, 2]], k=3)
        assert CombinatorialUCB(alpha=alpha).select(s, None).tolist() == [[2, 3, third]]


def test_untried_items_come_first_and_equal_indices_tie_at_random() -> None:
    """Two untried items among four fill the first two places. Equal finite indices are shuffled: over 200
    repetitions each of two tied items leads (the chance one never does is 2^-199)."""
    counts = np.tile([1.0, 0.0, 5.0, 0.0], (200, 1))
    sums = np.tile([1.0, 0.0, 1.0, 0.0], (200, 1))
    s = with_stats(CombinatorialUCB(), counts, sums, k=3)
    chosen = CombinatorialUCB().select(s, None)
    assert {tuple(pair) for pair in chosen[:, :2].tolist()} == {(1, 3), (3, 1)}
    assert (chosen[:, 2] == 0).all()  # 1 + sqrt(1.5 ln 6) beats 0.2 + sqrt(1.5 ln 6 / 5)
    s = with_stats(CombinatorialUCB(), np.tile([3.0, 3.0, 3.0], (200, 1)), np.tile([1.0, 0.0, 1.0], (200, 1)), k=1)
    assert set(CombinatorialUCB().select(s, None)[:, 0].tolist()) == {0, 2}


# --- cascade feedback ---------------------------------------------------------------------------------------------

def test_cascade_learns_from_the_items_examined_down_to_the_click() -> None:
    policy = CascadeUCB()
    s = with_stats(policy, [[2, 0, 0, 3], [0, 0, 0, 0]], [[1, 0, 0, 1], [0, 0, 0, 0]], kind="cascade", k=3)
    s.means[0, 2] = 0.7  # an item never examined keeps whatever its mean was
    # repetition 0: list 3, 1, 0 clicked at position 1 (3 skipped, 1 clicked, 0 unseen), then list 1, 2, 3 clicked at
    # the top; repetition 1: list 0, 1, 2 without a click (position 3): all examined, none clicked
    policy.update(s, lists([0, 1, 0], [[3, 1, 0], [0, 1, 2], [1, 2, 3]], [1, 3, 0]))
    assert s.counts.tolist() == [[2, 2, 0, 4], [1, 1, 1, 0]]
    assert s.sums.tolist() == [[1, 2, 0, 1], [0, 0, 0, 0]]
    assert s.means.tolist() == [[0.5, 1.0, 0.7, 0.25], [0.0, 0.0, 0.0, 0.0]]


def test_cascade_with_unique_feedback_and_a_click_at_the_bottom() -> None:
    policy = CascadeUCB()
    s = with_stats(policy, [[1, 1, 1, 1], [1, 1, 1, 1]], [[1, 0, 0, 0], [0, 0, 0, 1]], kind="cascade", k=2)
    policy.update(s, lists([0, 1], [[2, 0], [3, 1]], [1, 0], unique=True))
    assert s.counts.tolist() == [[2, 1, 2, 1], [1, 1, 1, 2]]
    assert s.sums.tolist() == [[2, 0, 0, 0], [0, 0, 0, 2]]
    assert s.means.tolist() == [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]


def kl(p: float, q: float) -> float:
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def kl_root(mean: float, budget: float) -> float:
    """The q > mean solving kl(mean, q) = budget, by bisection."""
    low, high = mean, 1 - 1e-12
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (low, mid) if kl(mean, mid) > budget else (mid, high)
    return low


def test_cascade_kl_ucb_marks_the_examined_items_for_its_cached_index() -> None:
    policy = CascadeKLUCB()
    s = with_stats(policy, [[2, 2, 2, 2]], [[1, 0, 0, 2]], kind="cascade", k=2)
    assert policy.select(s, None).tolist() == [[3, 0]]
    first = s.scratch[0].copy()
    # t = 8: the index solves kl(mean, q) = ln 8 / 2; item 3 (mean 1) is at 1, item 0 (mean 0.5) above 0.5
    assert first[4] == 8.0 and first[3] == pytest.approx(1.0, abs=1e-6) and first[1] == first[2]
    assert first[0] == pytest.approx(kl_root(0.5, math.log(8) / 2), abs=1e-3)
    policy.update(s, lists([0], [[1, 2]], [2]))  # no click: items 1 and 2 examined, their indices stale
    assert s.scratch[0].tolist() == [first[0], -1.0, -1.0, first[3], 8.0]
    assert policy.select(s, None).tolist() == [[3, 0]]
    # t = 10 is within 5% of 8? no: every index is computed afresh at t = 10
    assert s.scratch[0, 4] == 10.0 and s.scratch[0, 0] == pytest.approx(kl_root(0.5, math.log(10) / 2), abs=1e-3)


def test_cascade_kl_ucb_explores_with_log_t() -> None:
    """One item at mean 0.5 over 4 observations, t = 8: the index is the q > 0.5 solving kl(0.5, q) = ln 8 / 4
    (exploration log t), found here by bisection; the policy's solver is within 1e-3 of it."""
    policy = CascadeKLUCB()
    s = with_stats(policy, [[4, 4]], [[2, 4]], kind="cascade", k=1)
    assert policy.select(s, None).tolist() == [[1]]
    low = kl_root(0.5, math.log(8) / 4)
    assert s.scratch[0, 0] == pytest.approx(low, abs=1e-3) and abs(low - 0.9) < 0.01


# --- semi-bandit slates -------------------------------------------------------------------------------------------

def test_slate_learns_every_shown_item() -> None:
    policy = CombinatorialUCB()
    s = with_stats(policy, [[1, 0, 0, 0], [0, 0, 0, 0]], [[1, 0, 0, 0], [0, 0, 0, 0]])
    s.means[1, 0] = 0.9  # an item not shown keeps its mean
    policy.update(s, lists([0, 0, 1], [[0, 1], [0, 2], [3, 1]], [[1.0, 0.5], [0.25, 0.0], [0.0, 1.0]]))
    assert s.counts.tolist() == [[3, 1, 1, 0], [0, 1, 0, 1]]
    assert s.sums.tolist() == [[2.25, 0.5, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]
    assert s.means.tolist() == [[0.75, 0.5, 0.0, 0.0], [0.9, 1.0, 0.0, 0.0]]
    policy.update(s, lists([1], [[1, 2]], [[0.5, 0.5]], unique=True))
    assert s.counts.tolist() == [[3, 1, 1, 0], [0, 2, 1, 1]]
    assert s.sums[1].tolist() == [0.0, 1.5, 0.5, 0.0] and s.means[1].tolist() == [0.9, 0.75, 0.5, 0.0]


def pbm(counts: list[float], sums: list[float], k: int, epsilon: float, examination: float) -> list[float]:
    """PBM-UCB's index S/N~ + sqrt(N (1 + epsilon) log t / (2 N~^2)), N~ = examination x N, t = max(sum N / k, 2);
    infinite for an item never shown."""
    t = max(sum(counts) / k, 2.0)
    return [math.inf if n == 0 else w / (examination * n) + math.sqrt(n * (1 + epsilon) * math.log(t)
                                                                      / (2 * (examination * n) ** 2))
            for n, w in zip(counts, sums)]


def test_pbm_ucb_index_by_hand() -> None:
    """examination 0.5, epsilon 0.5, lists of 2. Repetition 0: counts 4, 2, 0, 3 and sums 2, 1, 0, 0, t = 9 / 2;
    repetition 1: counts 1, 1, 0, 2, t = max(4 / 2, 2) = 2. Lists of 3 rank the untried item first."""
    policy = PositionBasedUCB(epsilon=0.5, examination=0.5)
    counts, sums = [[4, 2, 0, 3], [1, 1, 0, 2]], [[2, 1, 0, 0], [1, 0, 0, 2]]
    s = with_stats(policy, counts, sums, k=3)
    want = [ranked(pbm(c, w, 3, 0.5, 0.5), 3) for c, w in zip(counts, sums)]
    # repetition 0: 1 + sqrt(1.5 ln 3 / 2) = 1.908 for item 0, 2 + sqrt(3 ln 3) = 3.81 for item 1, sqrt(ln 3) for
    # item 3; repetition 1: 2 + sqrt(3 ln 2) = 3.44, sqrt(3 ln 2) = 1.44, 2 + sqrt(1.5 ln 2) = 3.02
    assert want == [[2, 1, 0], [2, 0, 3]]
    assert policy.select(s, None).tolist() == want


def test_pbm_ucb_with_every_position_examined_is_mean_plus_sqrt_log_t_over_2n() -> None:
    policy = PositionBasedUCB()
    s = with_stats(policy, [[5, 3, 2, 2]], [[4, 1, 2, 0]], k=3)  # t = 12 / 3 = 4
    index = [0.8 + math.sqrt(math.log(4) / 10), 1 / 3 + math.sqrt(math.log(4) / 6), 1 + math.sqrt(math.log(4) / 4),
             math.sqrt(math.log(4) / 4)]
    assert index == pytest.approx(pbm([5, 3, 2, 2], [4, 1, 2, 0], 3, 0.0, 1.0), rel=1e-14)
    assert policy.select(s, None).tolist() == [[2, 0, 1]] == [ranked(index, 3)]
    # widths times sqrt(1 + epsilon): at epsilon 16, item 3 (2.43) passes items 0 (2.33) and 1 (2.32); at epsilon
    # 20, item 1 (2.54) passes item 0 (2.51) as well
    for epsilon, want in ((16.0, [2, 3, 0]), (20.0, [2, 3, 1])):
        s = with_stats(PositionBasedUCB(epsilon=epsilon), [[5, 3, 2, 2]], [[4, 1, 2, 0]], k=3)
        assert ranked(pbm([5, 3, 2, 2], [4, 1, 2, 0], 3, epsilon, 1.0), 3) == want
        assert PositionBasedUCB(epsilon=epsilon).select(s, None).tolist() == [want]


def test_cts_ranks_beta_draws_of_one_plus_clicks_and_one_plus_misses() -> None:
    counts = [[10, 3, 0, 4, 4], [2, 2, 7, 0, 1]]
    sums = [[9, 3, 0, 1, 0], [1, 0, 7, 0, 0.5]]
    a = np.array([[10, 4, 1, 2, 1], [2, 1, 8, 1, 1.5]], float)
    b = np.array([[2, 1, 1, 4, 5], [2, 3, 1, 1, 1.5]], float)
    policy = CombinatorialThompson()
    for seed in range(6):
        s = with_stats(policy, counts, sums, k=3, seed=seed)
        streams = [Stream(state) for state in s.draws]
        draws = np.array([[streams[r].beta(a[r, i], b[r, i]) for i in range(5)] for r in range(2)])
        gaps = np.diff(np.sort(draws, axis=1), axis=1)
        assert gaps.min() > 1e-6
        assert policy.select(s, None).tolist() == np.argsort(-draws, axis=1)[:, :3].tolist()
        assert [int(x) for x in s.draws] == [stream.state for stream in streams]


def test_uniform_list_is_distinct_items_at_random_and_learns_nothing() -> None:
    s = UniformList().init(problem("cascade", arms=6, k=3, reps=4), np.random.default_rng(11))
    want = []
    for state in s.draws:
        ref, row = Stream(state), list[int]()
        while len(row) < 3:  # a uniform item at each position, drawn again while it is already in the list
            item = ref.below(6)
            row += [] if item in row else [item]
        want.append(row)
    chosen = UniformList().select(s, None)
    assert chosen.tolist() == want and chosen.dtype == np.int64
    before = (s.counts.copy(), s.sums.copy(), s.means.copy(), s.scratch.copy())
    assert UniformList().update(s, lists([0], [[0, 1, 2]], [0])) is None
    assert all(np.array_equal(a, b) for a, b in zip(before, (s.counts, s.sums, s.means, s.scratch)))


# --- ranked bandits -----------------------------------------------------------------------------------------------

def test_ranked_ucb_keeps_statistics_per_position() -> None:
    p = problem("cascade", arms=4, k=2, reps=3, rounds=7)
    s = RankedUCB().init(p, np.random.default_rng(4))
    assert (s.R, s.K, s.k, s.horizon, s.t) == (3, 4, 2, 7, 0) and RankedUCB().columns(p) == 8
    for a in (s.counts, s.sums, s.means):
        assert a.shape == (3, 2, 4) and not a.any()
    assert s.scratch.shape == (3, 5) and not s.scratch.any()


def ranked_state(counts, sums, seed: int = 0):  # type: ignore[no-untyped-def]
    c, s_ = np.asarray(counts, float), np.asarray(sums, float)
    s = RankedUCB().init(problem("cascade", arms=c.shape[2], k=c.shape[1], reps=c.shape[0]),
                         np.random.default_rng(seed))
    s.counts[:], s.sums[:] = c, s_
    s.means[:] = np.where(c > 0, s_ / np.maximum(c, 1), 0.0)
    return s


def test_ranked_ucb_plays_each_position_best_item_not_already_above() -> None:
    """Position 0: counts 4, 2, 1, 1, sums 3, 1, 0, 1, t = 8: indices 0.75 + sqrt(1.5 ln 8 / 4) = 1.63,
    0.5 + 1.25 = 1.75, 1.77 and 2.77: item 3. Position 1: each item once, means 0.2, 0, 0, 0.9 (t = 4): item 3 again
    best, but already shown above, so item 0."""
    s = ranked_state([[[4, 2, 1, 1], [1, 1, 1, 1]]], [[[3, 1, 0, 1], [0.2, 0, 0, 0.9]]])
    assert RankedUCB().select(s, None).tolist() == [[3, 0]]
    # alpha 0: the means alone (position 0: 0.75, 0.5, 0, 1)
    assert RankedUCB(alpha=0.0).select(s, None).tolist() == [[3, 0]]
    s.sums[0, 0, 3] = 0.5
    s.means[0, 0, 3] = 0.5  # position 0: 0.75, 0.5, 0, 0.5 with alpha 0: item 0; position 1: then item 3
    assert RankedUCB(alpha=0.0).select(s, None).tolist() == [[0, 3]]


def test_ranked_ucb_width_uses_the_position_count_and_the_item_count() -> None:
    """Both positions: item 0 once without a click, item 1 clicked once in 2, item 2 once in 8 (t = 11): indices
    0 + sqrt(1.5 ln 11) = 1.90 > 0.5 + sqrt(1.5 ln 11 / 2) = 1.84 > 0.125 + sqrt(1.5 ln 11 / 8) = 0.80, so item 0
    first, then item 1."""
    w = 1.5 * math.log(11)
    assert math.sqrt(w) > 0.5 + math.sqrt(w / 2) > 0.125 + math.sqrt(w / 8)
    s = ranked_state([[[1, 2, 8], [1, 2, 8]]], [[[0, 1, 1], [0, 1, 1]]])
    assert RankedUCB().select(s, None).tolist() == [[0, 1]]
    # alpha 0.05: widths shrink to 0.35, 0.24, 0.12: 0.35 < 0.74 > 0.25: item 1 first, then item 0 (0.35 > 0.25)
    assert RankedUCB(alpha=0.05).select(s, None).tolist() == [[1, 0]]


def test_ranked_ucb_tries_untried_items_first_with_fresh_random_ties() -> None:
    """Equal indices (every item once at position 0, unclicked; twice at position 1, once clicked) are broken at
    random, afresh every round: over 300 repetitions every item leads somewhere, and a second call differs."""
    counts = np.tile([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]], (300, 1, 1))
    s = ranked_state(counts, np.tile([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], (300, 1, 1)))
    chosen = RankedUCB().select(s, None)
    assert (chosen[:, 0] != chosen[:, 1]).all()
    assert set(chosen[:, 0].tolist()) == {0, 1, 2} and set(chosen[:, 1].tolist()) == {0, 1, 2}
    again = RankedUCB().select(s, None)
    assert (again != chosen).any()  # drawn afresh each round
    s = ranked_state(np.zeros((4, 2, 3)), np.zeros((4, 2, 3)))
    untried = RankedUCB().select(s, None)  # inf at every item: distinct items still
    assert (untried[:, 0] != untried[:, 1]).all()
    # an untried item at position 1 only: position 0 picks by index, position 1 the untried one
    s = ranked_state([[[2, 2, 2], [2, 0, 2]]], [[[2, 0, 0], [2, 0, 0]]])
    assert RankedUCB().select(s, None).tolist() == [[0, 1]]


def test_ranked_ucb_counts_each_position_and_credits_the_click_only() -> None:
    s = ranked_state(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)))
    s.counts[1, 2, 0], s.sums[1, 2, 0], s.means[1, 2, 0] = 3.0, 1.0, 1 / 3
    # repetition 0 twice: list 2, 0, 1 clicked at position 1, list 0, 2, 1 without a click; repetition 1: list 1, 2, 0
    # clicked at the bottom
    RankedUCB().update(s, lists([0, 1, 0], [[2, 0, 1], [1, 2, 0], [0, 2, 1]], [1, 2, 3]))
    assert s.counts[0].tolist() == [[1, 0, 1], [1, 0, 1], [0, 2, 0]]
    assert s.sums[0].tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 0]]
    assert s.means[0].tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 0]]
    assert s.counts[1].tolist() == [[0, 1, 0], [0, 0, 1], [4, 0, 0]]
    assert s.sums[1].tolist() == [[0, 0, 0], [0, 0, 0], [2, 0, 0]]
    assert s.means[1].tolist() == [[0, 0, 0], [0, 0, 0], [0.5, 0, 0]]
    RankedUCB().update(s, lists([1], [[0, 1, 2]], [0], unique=True))
    assert s.counts[1].tolist() == [[1, 1, 0], [0, 1, 1], [4, 0, 1]]
    assert s.sums[1, 0].tolist() == [1, 0, 0] and s.means[1, 0].tolist() == [1, 0, 0]


def test_ranked_ucb_list_is_whole_item_numbers() -> None:
    s = ranked_state([[[4, 2, 1, 1], [1, 1, 1, 1]]], [[[3, 1, 0, 1], [0.2, 0, 0, 0.9]]])
    chosen = RankedUCB().select(s, None)
    assert chosen.dtype == np.int64 and chosen.shape == (1, 2)


def test_ranked_ucb_t_counts_the_observations_at_each_position() -> None:
    """alpha 0.1. Position 0: items seen 1, 100 and 1 times (t = 102), item 1 clicked 70 times: 0.7 +
    sqrt(0.1 ln 102 / 100) = 0.77 beats sqrt(0.1 ln 102) = 0.68 for the items seen once. Position 1: 5000 views each,
    item 2 clicked half the time. Had t counted every position (15102), the items seen once would score 0.98."""
    s = ranked_state([[[1, 100, 1], [5000, 5000, 5000]]], [[[0, 70, 0], [0, 0, 2500]]])
    assert math.sqrt(0.1 * math.log(15102)) > 0.7 + math.sqrt(0.1 * math.log(15102) / 100)
    for _ in range(5):
        assert RankedUCB(alpha=0.1).select(s, None).tolist() == [[1, 2]]


def test_ranked_ucb_untried_item_beats_any_index() -> None:
    """alpha 0: position 1 has item 1 untried, item 2 at mean 0.5; item 0 is taken at position 0."""
    s = ranked_state([[[2, 1, 2], [2, 0, 2]]], [[[2, 0, 0], [2, 0, 1]]])
    for _ in range(5):
        assert RankedUCB(alpha=0.0).select(s, None).tolist() == [[0, 1]]
