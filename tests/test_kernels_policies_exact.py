"""Exact checks of the compiled policies beyond counting ones (sim/kernels/policies.py): every decision against its
paper's formula on a tiny state, with the random draws replayed from the repetition's stream (test_kernels_exact's
Stream), and every scratch row's bookkeeping step by step. A draw the boundary of a decision needs (a uniform of
exactly 0.5, or the largest one, 1 - 2^-53) comes from a stream state found by inverting SplitMix64. Small enough to
run as plain Python (NUMBA_DISABLE_JIT=1), as the mutation run does (tools/mutation.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from test_kernels_exact import GOLDEN, M, Stream, divide_by_zero_raises, states  # noqa: F401 (an autouse fixture)

from banditmap.sim.kernels import policies as kernels


def unshift(y: int, k: int) -> int:
    """The inverse of x ^ (x >> k) on 64-bit words."""
    x = y
    for _ in range(64 // k + 1):
        x = y ^ (x >> k)
    return x


def unmix(z: int) -> int:
    """The inverse of SplitMix64's output function."""
    z = unshift(z, 31)
    z = z * pow(0x94D049BB133111EB, -1, M) % M
    z = unshift(z, 27)
    z = z * pow(0xBF58476D1CE4E5B9, -1, M) % M
    return unshift(z, 30)


def state_drawing(u: float, before: int = 0) -> int:
    """A stream state whose uniform draw after `before` other 64-bit words is exactly u (a multiple of 2^-53)."""
    word = int(u * 2**53) << 11
    assert word >> 11 == u * 2**53
    return (unmix(word) - (before + 1) * GOLDEN) % M


def reservoir(scores: Sequence[float], ref: Stream) -> int:
    """arms.consider's argmax: the first arm taken without a draw, then a draw u per tie, the k-th tied arm taken
    when u k < 1."""
    best, pick, ties = -math.inf, -1, 0
    for k, score in enumerate(scores):
        if pick < 0 or score > best:
            best, pick, ties = score, k, 1
        elif score == best:
            ties += 1
            if ref.uniform() * ties < 1:
                pick = k
    return pick


def rows(*values: Sequence[float], R: int = 2, r: int = 1) -> list[np.ndarray]:
    """Statistics (R, K) holding `values` on repetition r and other numbers on the other repetitions."""
    out = []
    for v in values:
        a = np.tile(np.asarray(v, float) * 3 + 1, (R, 1))
        a[r] = v
        out.append(a)
    return out


# --- discounting -------------------------------------------------------------------------------------------------

def discounted_ucb(counts: Sequence[float], sums: Sequence[float], gamma: float, c: float) -> list[float]:
    """Garivier & Moulines (2011): counts and sums times gamma, then mean + 2 sqrt(c log n / n_a), n the discounted
    total (at least 2), an arm of discounted count below 1e-6 first."""
    n = [x * gamma for x in counts]
    w = [x * gamma for x in sums]
    log_total = math.log(max(sum(n), 2.0))
    return [math.inf if n_a < 1e-6 else w_a / max(n_a, 1e-9) + 2.0 * math.sqrt(c * log_total / max(n_a, 1e-9))
            for n_a, w_a in zip(n, w)]


def test_discounted_ucb() -> None:
    s = states(2)
    kept = s.copy()
    counts, sums = rows([4.0, 2.0, 0.0], [2.0, 1.5, 0.0])
    other = (counts[0].copy(), sums[0].copy())
    # the untried arm first; every count and sum of repetition 1 halved, repetition 0's untouched
    assert kernels.choose_discounted_ucb(np.array([0.5, 0.6]), counts, sums, counts * 0, np.zeros((2, 4)), s, 1, 0,
                                         9) == 2
    assert counts[1].tolist() == [2.0, 1.0, 0.0] and sums[1].tolist() == [1.0, 0.75, 0.0]
    assert counts[0].tolist() == other[0].tolist() and sums[0].tolist() == other[1].tolist()
    assert s.tolist() == kept.tolist()  # no tie, no draw

    def pick(counts_: Sequence[float], sums_: Sequence[float], gamma: float, c: float, r: int = 1) -> int:
        n, w = rows(counts_, sums_, r=r)
        return kernels.choose_discounted_ucb(np.array([gamma, c]), n, w, n * 0, np.zeros((2, 5)), s, r, 0, 50)

    # n = 0.9 + 1.8 = 2.7 after discounting by 0.9 (log 2.7, not log 3): arm 0 0.5 + 2 sqrt(c log 2.7 / 0.9),
    # arm 1 0.75 + 2 sqrt(c log 2.7 / 1.8); they cross at sqrt(c) = 0.25 / (2 sqrt(log 2.7) (1/sqrt(0.9) -
    # 1/sqrt(1.8)))
    cross = (0.25 / (2 * math.sqrt(math.log(2.7)) * (1 / math.sqrt(0.9) - 1 / math.sqrt(1.8)))) ** 2
    assert pick([1.0, 2.0], [0.5, 1.5], 0.9, cross * 0.999) == 1
    assert pick([1.0, 2.0], [0.5, 1.5], 0.9, cross * 1.001) == 0
    # a total below 2 is held at 2: counts 0.5 and 0.25 (below 1: divided by themselves, not by 1)
    cross = (0.3 / (2 * math.sqrt(math.log(2.0)) * (1 / math.sqrt(0.25) - 1 / math.sqrt(0.5)))) ** 2
    assert pick([0.5, 0.25], [0.45, 0.15], 1.0, cross * 0.999) == 0
    assert pick([0.5, 0.25], [0.45, 0.15], 1.0, cross * 1.001) == 1
    # a count of exactly 1e-6 is not untried: its index is finite, and the count-0 arm is taken without a tie
    assert pick([1e-6, 3.0, 0.0], [0.0, 1.0, 0.0], 1.0, 0.5) == 2 and s.tolist() == kept.tolist()
    # ties (two untried arms, then two equal arms) broken by repetition 1's stream, repetition 0's untouched
    for counts_, sums_ in (([2.0, 0.0, 0.0], [1.0, 0.0, 0.0]), ([2.0, 3.0, 3.0], [1.0, 2.4, 2.4])):
        ref = Stream(s[1])
        want = reservoir(discounted_ucb(counts_, sums_, 0.8, 0.5), ref)
        assert pick(counts_, sums_, 0.8, 0.5) == want and int(s[1]) == ref.state and s[0] == kept[0]
    # an arm 0 scoring -inf is still the first candidate, taken without a draw
    ref = Stream(s[1])
    assert pick([1.0, 1.0], [-math.inf, 0.5], 0.5, 0.5) == 1 and int(s[1]) == ref.state
    # random statistics (fractional counts too): the formula's argmax
    draws = np.random.default_rng(4)
    for _ in range(150):
        counts_ = (draws.integers(0, 4, 3) * draws.choice([0.3, 1.0], 3)).tolist()
        sums_ = (draws.random(3) * np.array(counts_)).tolist()
        gamma, c = float(draws.choice([0.5, 0.9, 1.0])), float(draws.choice([0.05, 0.5, 2.0]))
        ref = Stream(s[1])
        assert pick(counts_, sums_, gamma, c) == reservoir(discounted_ucb(counts_, sums_, gamma, c), ref)
        assert int(s[1]) == ref.state


def test_discounted_thompson_sampling() -> None:
    # Raj & Kalyani (2017): counts and sums times gamma, then a largest draw of Beta(1 + successes, 1 + failures),
    # failures = discounted count - discounted successes, clipped at 0
    s = states(3)
    for counts_, sums_ in (([4.0, 10.0, 0.0], [3.0, 4.0, 0.0]), ([1.0, 2.0, 3.0], [2.0, 0.5, 3.0])):
        for r in range(3):
            counts, sums = rows(counts_, sums_, R=3, r=r)
            others = [(counts[o].copy(), sums[o].copy()) for o in range(3) if o != r]
            before = s.copy()
            ref = Stream(s[r])
            gamma = 0.5
            n, w = [x * gamma for x in counts_], [x * gamma for x in sums_]
            scores = [ref.beta(1.0 + w_a, 1.0 + max(n_a - w_a, 0.0)) for n_a, w_a in zip(n, w)]
            want = reservoir(scores, ref)
            got = kernels.choose_discounted_ts(np.array([gamma]), counts, sums, counts * 0, np.zeros((3, 4)), s, r,
                                               0, 9)
            assert got == want and int(s[r]) == ref.state
            assert counts[r].tolist() == n and sums[r].tolist() == w
            assert [(counts[o].tolist(), sums[o].tolist()) for o in range(3) if o != r] == [
                (a.tolist(), b.tolist()) for a, b in others]
            assert [int(x) for i, x in enumerate(s) if i != r] == [int(x) for i, x in enumerate(before) if i != r]


# --- the sliding window -----------------------------------------------------------------------------------------

def sliding_window_ucb(counts: Sequence[float], means: Sequence[float], window: float, c: float) -> list[float]:
    """Garivier & Moulines (2011): mean + sqrt(c log min(n, window) / n_a), n the observations in the window (the
    log at least log 2), an arm absent from the window first."""
    log_n = math.log(max(min(sum(counts), window), 2.0))
    return [math.inf if n < 0.5 else m + math.sqrt(c * log_n / max(n, 1.0)) for n, m in zip(counts, means)]


def test_sliding_window_ucb() -> None:
    s = states(2)
    kept = s.copy()

    def pick(counts_: Sequence[float], means_: Sequence[float], window: float, c: float) -> int:
        n, m = rows(counts_, means_)
        return kernels.choose_sliding_window_ucb(np.array([window, c]), n, n * 0, m, np.zeros((2, 9)), s, 1, 3, 50)

    # an arm absent from the window first; a count of 0.5 (a discounting adapter around the window halves its
    # counts) is present, its bonus over max(n, 1) = 1: no tie with the absent arm
    assert pick([2.0, 0.0, 1.0], [0.9, 0.0, 0.1], 5.0, 0.6) == 1
    assert pick([0.5, 2.0, 0.0], [0.1, 0.5, 0.0], 5.0, 0.6) == 2
    # n = 4 observations, window 3: log 3; arm 0 (1 observation) 0.2 + sqrt(c log 3), arm 1 (3) 0.8 +
    # sqrt(c log 3 / 3): they cross at sqrt(c) = 0.6 / (sqrt(log 3) (1 - 1/sqrt(3)))
    cross = (0.6 / (math.sqrt(math.log(3.0)) * (1 - 1 / math.sqrt(3.0)))) ** 2
    assert pick([1.0, 3.0], [0.2, 0.8], 3.0, cross * 0.999) == 1
    assert pick([1.0, 3.0], [0.2, 0.8], 3.0, cross * 1.001) == 0
    # the window longer than the observations: log 4
    cross = (0.6 / (math.sqrt(math.log(4.0)) * (1 - 1 / math.sqrt(3.0)))) ** 2
    assert pick([1.0, 3.0], [0.2, 0.8], 100.0, cross * 0.999) == 1
    assert pick([1.0, 3.0], [0.2, 0.8], 100.0, cross * 1.001) == 0
    # a window of 1 (or 2): the log held at log 2
    cross = (0.6 / (math.sqrt(math.log(2.0)) * (1 - 1 / math.sqrt(3.0)))) ** 2
    assert pick([1.0, 3.0], [0.2, 0.8], 1.0, cross * 0.999) == 1
    assert pick([1.0, 3.0], [0.2, 0.8], 1.0, cross * 1.001) == 0
    assert s.tolist() == kept.tolist()  # no ties, no draws
    # ties (untried arms; equal arms) broken by repetition 1's stream only
    for counts_, means_ in (([0.0, 2.0, 0.0], [0.0, 0.5, 0.0]), ([2.0, 1.0, 2.0], [0.5, 0.1, 0.5])):
        ref = Stream(s[1])
        want = reservoir(sliding_window_ucb(counts_, means_, 4.0, 0.5), ref)
        assert pick(counts_, means_, 4.0, 0.5) == want and int(s[1]) == ref.state and s[0] == kept[0]
    ref = Stream(s[1])  # arm 0 scoring -inf is still the first candidate, taken without a draw
    assert pick([1.0, 1.0], [-math.inf, 0.5], 4.0, 0.5) == 1 and int(s[1]) == ref.state
    draws = np.random.default_rng(6)
    for _ in range(150):
        counts_ = draws.integers(0, 4, 3).astype(float).tolist()
        means_ = draws.random(3).round(2).tolist()
        window, c = float(draws.choice([1.0, 2.0, 3.0, 5.0, 50.0])), float(draws.choice([0.1, 0.6, 2.0]))
        ref = Stream(s[1])
        assert pick(counts_, means_, window, c) == reservoir(sliding_window_ucb(counts_, means_, window, c), ref)
        assert int(s[1]) == ref.state

    # learning: a window of 3 observations in a ring; each new one takes the oldest slot (the cursor at K + 2, then
    # 3 slots of the arm + 1, then 3 of the reward) and the one it held leaves its arm's count, sum and mean
    K, W = 2, 3
    counts, sums, means = np.zeros((2, K)), np.zeros((2, K)), np.zeros((2, K))
    ring = np.zeros((2, K + 3 + 2 * W))
    ring[:, :K + 2] = [7.0, 8.0, 9.0, 6.0]  # other columns, left alone
    seen: list[tuple[int, float]] = []
    for arm, reward in ((0, 0.5), (0, 0.25), (0, 0.75), (1, 1.0), (1, 0.125), (0, 0.5), (1, 0.25), (0, 1.0),
                        (1, 0.5)):
        kernels.learn_sliding_window(np.array([3.0, 0.6]), counts, sums, means, ring, s, 1, arm, reward)
        seen.append((arm, reward))
        window = seen[-W:]
        want_counts = [sum(a == k for a, _ in window) for k in range(K)]
        want_sums = [sum(x for a, x in window if a == k) for k in range(K)]
        assert counts[1].tolist() == want_counts and sums[1].tolist() == want_sums
        assert means[1].tolist() == [w / max(n, 1) for w, n in zip(want_sums, want_counts)]
        n = len(seen)
        slots = [seen[i] if i < n else None for i in range(W)]  # slot i holds observation i, i + 3, i + 6, ...
        for i in range(W, n):
            slots[i % W] = seen[i]
        assert ring[1, K + 2] == n % W
        assert ring[1, K + 3:].tolist() == [0.0 if x is None else x[0] + 1.0 for x in slots] + [
            0.0 if x is None else x[1] for x in slots]
    assert ring[1, :K + 2].tolist() == [7.0, 8.0, 9.0, 6.0]
    assert counts[0].tolist() == [0.0, 0.0] and ring[0].tolist() == [7.0, 8.0, 9.0, 6.0] + [0.0] * 7


# --- exponential weights -----------------------------------------------------------------------------------------

def test_weights_total() -> None:
    # the largest log weight of the K from `start`, and sum exp(w - largest)
    scratch = np.array([[1.0, 2.0, 3.0, 4.0], [9.0, 5.0, 0.5, -1.0]])
    top, total = kernels.weights_total(scratch, 1, 1, 3)
    assert (top, total) == (5.0, pytest.approx(1 + math.exp(-4.5) + math.exp(-6.0), rel=1e-15))
    row = np.array([[9.0, 0.0, math.log(2.0), math.log(5.0), 30.0]])
    assert kernels.weights_total(row, 0, 1, 3) == (math.log(5.0), pytest.approx(8 / 5, rel=1e-15))


def exp3_chances(log_weights: Sequence[float], gamma: float) -> list[float]:
    """Auer, Cesa-Bianchi, Freund & Schapire (2002): (1 - gamma) w_k / sum w + gamma / K."""
    w = [math.exp(x) for x in log_weights]
    return [(1 - gamma) * x / sum(w) + gamma / len(w) for x in w]


def test_exp3_and_exp3_s() -> None:
    K = 3
    s = states(2)
    counts, sums, means = np.zeros((2, K)), np.zeros((2, K)), np.zeros((2, K))
    scratch = np.zeros((2, 2 * K + 2))
    log_weights = [0.3, math.log(3.0), -1.0]
    scratch[:, :K + 2] = [4.0, 5.0, 6.0, 7.0, 8.0]  # the cache, column K and the note: not weights
    scratch[1, K + 2:] = log_weights
    scratch[0, K + 2:] = [5.0, -5.0, 0.0]
    chances = exp3_chances(log_weights, 0.2)
    seen = set()
    for _ in range(40):
        ref = Stream(s[1])
        u, cumulative, want = ref.uniform(), 0.0, K - 1
        for k in range(K):  # the first arm whose cumulative chance passes a uniform draw
            cumulative += chances[k]
            if cumulative > u:
                want = k
                break
        arm = kernels.choose_exp3(np.array([0.2]), counts, sums, means, scratch, s, 1, 0, 9)
        assert arm == want and int(s[1]) == ref.state
        assert scratch[1, K + 1] == pytest.approx(chances[arm], rel=1e-14)  # the note: its chance
        seen.add(arm)
    assert seen == {0, 1, 2} and scratch[1, K + 2:].tolist() == log_weights
    assert scratch[0].tolist() == [4.0, 5.0, 6.0, 7.0, 8.0, 5.0, -5.0, 0.0]
    # K = 2 equal weights, gamma 0: a uniform of exactly 0.5 does not pass arm 0's 0.5, so arm 1
    two = np.zeros((1, 6))
    s1 = np.array([state_drawing(0.5)], dtype=np.uint64)
    assert kernels.choose_exp3(np.array([0.0]), np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)), two, s1, 0, 0,
                               9) == 1 and two[0, 3] == 0.5
    # K = 7 equal weights: the chances 1/7 add up to 1 - 2^-52 in floating point, below the largest uniform
    # (1 - 2^-53): no arm passes it, so the last arm, with its chance 1/7
    seven = np.zeros((1, 16))
    s1 = np.array([state_drawing(1 - 2**-53)], dtype=np.uint64)
    z = np.zeros((1, 7))
    assert kernels.choose_exp3(np.array([0.0]), z, z, z, seven, s1, 0, 0, 9) == 6 and seven[0, 8] == 1 / 7

    # learning: the arm played gains gamma x / K in log weight, x = clip(r, 0, 1) / p, p the note
    scratch[1, K + 2:] = log_weights
    want = list(log_weights)
    for arm, reward, p in ((1, 0.25, 0.5), (2, 1.5, 0.25), (0, -0.5, 0.125), (0, 0.5, 0.125)):
        scratch[1, K + 1] = p
        kernels.learn_exp3(np.array([0.2]), counts, sums, means, scratch, s, 1, arm, reward)
        want[arm] += 0.2 * min(max(reward, 0.0), 1.0) / p / K  # a reward of 1.5 counts as 1, -0.5 as 0
        assert scratch[1, K + 2:].tolist() == pytest.approx(want, rel=1e-15)
    # the counts are kept too (the reward as it came)
    assert counts.tolist() == [[0, 0, 0], [2, 1, 1]] and sums.tolist() == [[0, 0, 0], [0.0, 0.25, 1.5]]
    assert means[1].tolist() == [0.0, 0.25, 1.5] and scratch[0].tolist() == [4.0, 5.0, 6.0, 7.0, 8.0, 5.0, -5.0, 0.0]

    # EXP3-S: EXP3's step, then every weight w_i becomes w_i + (e alpha / K) sum_j w_j (Auer et al. 2002), kept
    # as logs relative to the largest weight after the step
    for arm, reward, p in ((1, 0.75, 0.5), (2, 2.0, 0.25), (0, 0.0, 0.2)):
        scratch[1, K + 1] = p
        step = scratch[1, K + 2:].tolist()
        step[arm] += 0.3 * min(max(reward, 0.0), 1.0) / p / K
        top = max(step)
        w = [math.exp(x - top) for x in step]
        shared = math.e * 0.05 / K * sum(w)
        kernels.learn_exp3_s(np.array([0.3, 0.05]), counts, sums, means, scratch, s, 1, arm, reward)
        assert scratch[1, K + 2:].tolist() == pytest.approx([math.log(x + shared) for x in w], rel=1e-13, abs=1e-15)
    assert counts[1].tolist() == [3, 2, 2] and sums[1].tolist() == [0.0, 1.0, 3.5]
    assert scratch[1, :K + 2].tolist() == [4.0, 5.0, 6.0, 7.0, 0.2]
    assert scratch[0].tolist() == [4.0, 5.0, 6.0, 7.0, 8.0, 5.0, -5.0, 0.0]
    # a share that lifts an arm left far behind: weights 1 and e^-50, alpha 0.01, K = 2: the lagging arm's
    # weight becomes about e 0.01 / 2 of the total
    lag = np.array([[0.0, 0.0, 0.0, 0.5, 0.0, -50.0]])
    z = np.zeros((1, 2))
    kernels.learn_exp3_s(np.array([0.1, 0.01]), z, z.copy(), z.copy(), lag, s, 0, 0, 0.0)
    shared = math.e * 0.01 / 2 * (1 + math.exp(-50.0))
    assert lag[0, 4:].tolist() == pytest.approx([math.log(1 + shared), math.log(math.exp(-50.0) + shared)],
                                                rel=1e-14)


def test_exp3_ix() -> None:
    K = 3
    s = states(2)
    counts, sums, means = np.zeros((2, K)), np.zeros((2, K)), np.zeros((2, K))
    scratch = np.zeros((2, 2 * K + 5))  # the kept weights (columns :K) never computed: zeros; one block
    log_weights = [0.3, math.log(3.0), -0.5]
    scratch[1, K + 4:2 * K + 4] = log_weights
    scratch[0, K + 4:2 * K + 4] = [5.0, -5.0, 0.0]
    w = [math.exp(x) for x in log_weights]
    seen = set()
    for _ in range(40):
        ref = Stream(s[1])
        target, want = ref.uniform() * sum(w), K - 1
        for k in range(K):  # an arm with probability w_k / sum w: the first whose cumulative weight passes u sum w
            if sum(w[:k + 1]) > target:
                want = k
                break
        arm = kernels.choose_exp3_ix(np.array([0.4, 0.05]), counts, sums, means, scratch, s, 1, 0, 100)
        assert arm == want and int(s[1]) == ref.state
        # the note: its probability; eta and gamma as given
        assert scratch[1, K + 1:K + 4].tolist() == pytest.approx([w[arm] / sum(w), 0.4, 0.05], rel=1e-14)
        seen.add(arm)
        # the weights kept: exp(log weight - top), top the largest log weight (column K)
        assert scratch[1, :K + 1].tolist() == pytest.approx([x / 3.0 for x in w] + [math.log(3.0)], rel=1e-15)
        assert scratch[1, 2 * K + 4] == sum(scratch[1, :K])  # the block's running sum (a short block: in order)
    assert seen == {0, 1, 2}
    assert scratch[0].tolist() == [0.0] * 7 + [5.0, -5.0, 0.0, 0.0]
    # the kept weights decide as they are while all are positive and their sum is at least 1e-150 ...
    kept = scratch.copy()
    kept[1, :K] = [1e-300, 1e-300, 1.0]
    assert kernels.choose_exp3_ix(np.array([0.4, 0.05]), counts, sums, means, kept, s, 1, 0, 100) == 2
    assert kept[1, K + 1] == 1.0 / (1.0 + 2e-300)
    # ... and are computed afresh from the log weights when one is not positive (-1: marked stale by an adapter)
    # or their sum has underflowed below 1e-150
    for cache in ([-1.0, 5.0, 5.0], [0.0, 5.0, 5.0], [1e-151, 1e-200, 1e-160]):
        stale = scratch.copy()
        stale[1, :K + 1] = cache + [9.0]
        kernels.choose_exp3_ix(np.array([0.4, 0.05]), counts, sums, means, stale, s, 1, 0, 100)
        assert stale[1, :K + 1].tolist() == pytest.approx([x / 3.0 for x in w] + [math.log(3.0)], rel=1e-15)
    # two equal weights: a uniform of exactly 0.5 (target 1.0) does not pass arm 0's weight 1, so arm 1
    two = np.zeros((1, 9))
    s1 = np.array([state_drawing(0.5)], dtype=np.uint64)
    z = np.zeros((1, 2))
    assert kernels.choose_exp3_ix(np.array([0.4, 0.05]), z, z, z, two, s1, 0, 0, 9) == 1 and two[0, 3] == 0.5
    # Neu's tuning when a parameter is 0: eta = sqrt(2 ln K / (K T)), gamma = eta / 2; each on its own
    tuned = np.zeros((2, 2 * K + 5))
    for params, horizon, eta, gamma in (([0.0, 0.0], 100, math.sqrt(2 * math.log(3) / 300), None),
                                        ([0.0, 0.0], 1, math.sqrt(2 * math.log(3) / 3), None),
                                        ([0.0, 0.0], 0, math.sqrt(2 * math.log(3) / 3), None),  # T at least 1
                                        ([0.0, 0.2], 50, math.sqrt(2 * math.log(3) / 150), 0.2),
                                        ([0.3, 0.0], 50, 0.3, 0.15)):
        kernels.choose_exp3_ix(np.array(params), counts, sums, means, tuned, s, 1, 0, horizon)
        assert tuned[1, K + 2:K + 4].tolist() == pytest.approx([eta, eta / 2 if gamma is None else gamma], rel=1e-14)

    # learning (Neu 2015): the loss 1 - clip(r, 0, 1) enters the arm's log weight as -eta loss / (p + gamma)
    scratch[1, K + 2:K + 4] = [0.4, 0.05]
    want = scratch[1, K + 4:2 * K + 4].tolist()
    for arm, reward, p in ((1, 0.25, 0.5), (2, 1.5, 0.25), (0, -0.5, 0.125), (0, 0.75, 0.5)):
        scratch[1, K + 1] = p
        kernels.learn_exp3_ix(np.array([0.4, 0.05]), counts, sums, means, scratch, s, 1, arm, reward)
        want[arm] -= 0.4 * (1 - min(max(reward, 0.0), 1.0)) / (p + 0.05)  # 1.5 counts as 1 (no loss), -0.5 as 0
        assert scratch[1, K + 4:2 * K + 4].tolist() == pytest.approx(want, rel=1e-15)
        # the arm's kept weight follows its log weight, against the same top
        assert scratch[1, :K + 1].tolist() == pytest.approx([math.exp(x - math.log(3.0)) for x in want]
                                                            + [math.log(3.0)], rel=1e-14)
    assert counts.tolist() == [[0, 0, 0], [2, 1, 1]] and sums[1].tolist() == [0.25, 0.25, 1.5]
    assert means[1].tolist() == [0.125, 0.25, 1.5]
    assert scratch[0].tolist() == [0.0] * 7 + [5.0, -5.0, 0.0, 0.0]
    # a kept weight not positive stays so (the next decision computes them all afresh)
    scratch[1, :K] = [-1.0, 0.0, 0.5]
    scratch[1, K + 1] = 0.5
    for arm in range(K):
        kernels.learn_exp3_ix(np.array([0.4, 0.05]), counts, sums, means, scratch, s, 1, arm, 0.0)
    assert scratch[1, :2].tolist() == [-1.0, 0.0]
    assert scratch[1, 2] == pytest.approx(math.exp(scratch[1, K + 6] - math.log(3.0)), rel=1e-14)


# --- top-two Thompson sampling -----------------------------------------------------------------------------------

def test_posterior_sample_and_top_two_thompson_sampling() -> None:
    # one draw of Beta(1 + successes, 1 + failures) per arm (both clipped at 0): the best arm, and the best but
    # the leader
    counts, sums = np.array([[5.0, 2.0, 4.0], [3.0, 0.0, 1.0]]), np.array([[1.0, 3.0, 2.0], [-1.0, 0.0, 0.5]])
    s = states(2)
    for r in range(2):
        for leader in (-1, 0, 1, 2):
            ref = Stream(s[r])
            x = [ref.beta(1 + max(w, 0.0), 1 + max(n - w, 0.0)) for n, w in zip(counts[r], sums[r])]
            runner_up = int(np.argmax([v if k != leader else -1 for k, v in enumerate(x)]))
            assert kernels.posterior_sample(counts, sums, s, r, leader) == (int(np.argmax(x)), runner_up)
            assert int(s[r]) == ref.state
    # one arm, which leads: no runner-up (-1)
    assert kernels.posterior_sample(np.ones((1, 1)), np.ones((1, 1)), s, 0, 0) == (0, -1)

    # Russo (2016): the leader with probability beta ...
    K = 3
    counts, sums = np.array([[6.0, 6.0, 6.0]]), np.array([[3.0, 2.0, 4.0]])

    def replay(state: int, beta: float, resamples: int) -> tuple[int, int]:
        """The arm the policy plays, and the stream's state after its draws."""
        ref = Stream(state)

        def sample() -> list[float]:
            return [ref.beta(1 + w, 1 + n - w) for n, w in zip(counts[0], sums[0])]

        leader = int(np.argmax(sample()))
        if ref.uniform() < beta:
            arm = leader
        else:
            arm = leader
            for _ in range(resamples):  # ... else the best of a fresh sample that differs, up to `resamples` ...
                x = sample()
                if int(np.argmax(x)) != leader:
                    arm = int(np.argmax(x))
                    break
                arm = int(np.argmax([v if k != leader else -1 for k, v in enumerate(x)]))  # ... then the runner-up
        return arm, ref.state

    def play(state: int, beta: float, resamples: int) -> int:
        s1 = np.array([state], dtype=np.uint64)
        arm = kernels.choose_top_two_ts(np.array([beta, float(resamples)]), counts, sums, counts * 0,
                                        np.zeros((1, K + 1)), s1, 0, 0, 9)
        want, after = replay(state, beta, resamples)
        assert arm == want and int(s1[0]) == after
        return arm

    outcomes = set()
    for state in states(60, seed=5):
        for beta, resamples in ((0.5, 3), (0.0, 1), (0.0, 0)):
            outcomes.add((beta, resamples, play(int(state), beta, resamples)))
    assert {arm for _, _, arm in outcomes} == {0, 1, 2}
    # no resamples: the leader whatever the coin
    for state in states(10, seed=6):
        ref = Stream(int(state))
        assert play(int(state), 0.0, 0) == int(np.argmax([ref.beta(1 + w, 1 + n - w) for n, w in
                                                          zip(counts[0], sums[0])]))
    # a coin of exactly beta = 0.5 is not below it: a challenger is sought (found by replaying the leader's draws,
    # which take 2K words when none is rejected)
    for before in range(2 * K, 2 * K + 4):
        state = state_drawing(0.5, before)
        ref = Stream(state)
        leader = int(np.argmax([ref.beta(1 + w, 1 + n - w) for n, w in zip(counts[0], sums[0])]))
        if (ref.state - state) % M == before * GOLDEN % M:
            break
    assert ref.uniform() == 0.5
    arm = play(state, 0.5, 5)
    assert arm != leader


# --- delayed conversions -----------------------------------------------------------------------------------------

def poisson_divergence(p: float, q: float) -> float:
    return q - p + (p * math.log(p / q) if p > 0 else 0.0)


def poisson_bound(p: float, budget: float) -> float:
    """The largest q in [p, 1] with d_Pois(p, q) <= budget, by 200 halvings (d increases in q above p)."""
    if p >= 1.0 or poisson_divergence(p, 1.0) <= budget:
        return 1.0
    low, high = p, 1.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if poisson_divergence(p, middle) <= budget else (low, middle)
    return low

class Conversions:
    """Vernade, Cappe & Perchet (2017) by their definitions: every play (round, arm), the conversions counted."""

    def __init__(self, K: int, window: int, q: float) -> None:
        self.K, self.window, self.q = K, window, q
        self.plays: list[tuple[int, int]] = []
        self.sums = [0.0] * K

    def scores(self, t: int, kl: bool = False) -> list[float]:
        """min(rate, 1) + sqrt(2 n log t) / revealed, revealed = sum over the arm's plays of tau(min(age, window)),
        tau(a) = 1 - q^a the chance a conversion a rounds old has arrived, rate = conversions / revealed; an arm
        never played first. With kl, the KL-UCB index instead: the largest q in [rate, 1] with
        revealed d_Pois(rate, q) <= log t (poisson_bound)."""
        out = []
        for k in range(self.K):
            ages = [t - s for s, a in self.plays if a == k]
            if not ages:
                out.append(math.inf)
                continue
            revealed = max(sum(1 - self.q ** min(age, self.window) for age in ages), 1e-9)
            if kl:
                out.append(poisson_bound(self.sums[k] / revealed, math.log(max(t, 2)) / revealed))
            else:
                out.append(min(self.sums[k] / revealed, 1.0)
                           + math.sqrt(2 * len(ages) * math.log(max(t, 2))) / revealed)
        return out

    def books(self, t: int) -> list[float]:
        """The row after the decision of round t: per arm the plays within the window (the last `window` rounds,
        this one included), the sum of q^age over them (age 1 next round), and the older plays."""
        inside = [[t + 1 - s for s, a in self.plays if a == k and t - s < self.window] for k in range(self.K)]
        older = [sum(1 for s, a in self.plays if a == k and t - s >= self.window) for k in range(self.K)]
        return [float(len(x)) for x in inside] + [sum(self.q ** age for age in x) for x in inside] + older


def test_delayed_conversions_ucb() -> None:
    K, window, q = 3, 3, 0.5
    params = np.array([float(window), 0.0])  # kl 0: the UCB index
    s = states(2)
    kept = int(s[0])
    counts, sums, means = np.zeros((2, K)), np.zeros((2, K)), np.zeros((2, K))
    scratch = np.zeros((2, 4 * K + 6 + window))
    scratch[:, :K + 1] = [4.0, 5.0, 6.0, 7.0]  # the cache and column K: not the policy's
    scratch[:, K + 3:K + 6] = q, q**window, q ** (window + 1)  # as the policy's start row sets them
    book = Conversions(K, window, q)
    pending: list[tuple[int, int, int]] = []  # (arrival, round played, arm)
    lags = np.random.default_rng(2)
    picks = []
    for t in range(14):
        ref = Stream(s[1])
        want = reservoir(book.scores(t), ref)
        arm = kernels.choose_delayed_conversions(params, counts, sums, means, scratch, s, 1, t, 100)
        assert arm == want and int(s[1]) == ref.state and int(s[0]) == kept
        picks.append(arm)
        book.plays.append((t, arm))
        # the play counted when made; its round is the note, and t + 1 decisions have been made
        assert counts[1].tolist() == [sum(a == k for _, a in book.plays) for k in range(K)]
        assert means[1, arm] == sums[1, arm] / counts[1, arm]
        assert scratch[1, K + 1:K + 3].tolist() == [t, t + 1.0]
        assert scratch[1, K + 6:4 * K + 6].tolist() == pytest.approx(book.books(t), rel=1e-12, abs=1e-15)
        # a ring of the last `window` plays' arm + 1
        assert scratch[1, 4 * K + 6:].tolist() == [float(book.plays[i][1] + 1) if i >= 0 else 0.0
                                                   for i in [t - (t - j) % window for j in range(window)]]
        # conversions: arm 2 converts after 1 round, arm 1 after 0 to 5, arm 0 never
        if arm == 2 or (arm == 1 and t % 2 == 0):
            pending.append((t + (1 if arm == 2 else int(lags.integers(0, 6))), t, arm))
        for arrival, played, converted in [x for x in pending if x[0] <= t]:
            pending.remove((arrival, played, converted))
            scratch[1, K + 1] = played  # the note travels with the feedback
            kernels.learn_conversions(params, counts, sums, means, scratch, s, 1, converted, 1.0)
            if t + 1 - played <= window:  # counted if at most `window` rounds before the decisions made
                book.sums[converted] += 1.0
            assert sums[1].tolist() == book.sums and means[1, converted] == sums[1, converted] / counts[1, converted]
    assert set(picks) == {0, 1, 2} and scratch[1, :K + 1].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert counts[0].tolist() == [0.0] * K and scratch[0, K + 6:].tolist() == [0.0] * (3 * K + window)

    # the conversion window, by hand: 10 decisions made, a play of round 7 counts (10 - 7 = 3 = window) ...
    counts, sums, means = np.array([[0.0, 4.0], [9.0, 9.0]]), np.zeros((2, 2)), np.zeros((2, 2))
    row = np.zeros((2, 4 * 2 + 6 + window))
    row[0, 2 + 1:2 + 3] = 7.0, 10.0
    kernels.learn_conversions(params, counts, sums, means, row, s, 0, 1, 1.0)
    assert sums.tolist() == [[0.0, 1.0], [0.0, 0.0]] and means[0].tolist() == [0.0, 0.25]
    kernels.learn_conversions(params, counts, sums, means, row, s, 0, 1, 0.5)  # any reward above 0 is one
    assert sums[0].tolist() == [0.0, 2.0] and means[0].tolist() == [0.0, 0.5]
    kernels.learn_conversions(params, counts, sums, means, row, s, 0, 1, 0.0)  # no conversion
    row[0, 2 + 1] = 6.0  # ... a play of round 6 does not (4 rounds before)
    kernels.learn_conversions(params, counts, sums, means, row, s, 0, 1, 1.0)
    assert sums.tolist() == [[0.0, 2.0], [0.0, 0.0]] and means[0].tolist() == [0.0, 0.5]

    # the index by hand, at t = 5, q = 0.5, window 3: arm 0 played at rounds 0, 1 (old: tau = 1 - q^3 = 7/8 each)
    # and 4 (age 1: 1/2), 2 conversions: revealed 2.25, 2 / 2.25 + sqrt(2 * 3 log 5) / 2.25; arm 1 played at
    # rounds 2 and 3 (ages 3, 2: 7/8 + 3/4), 1 conversion: 1 / 1.625 + sqrt(2 * 2 log 5) / 1.625
    counts, sums, means = np.array([[3.0, 2.0]]), np.array([[2.0, 1.0]]), np.zeros((1, 2))
    row = np.zeros((1, 4 * 2 + 6 + window))
    row[0, 2 + 3:2 + 6] = q, q**window, q ** (window + 1)
    row[0, 8:14] = [1.0, 2.0, 0.5, 0.25 + 0.125, 2.0, 0.0]  # in the window, their sum of q^age, older plays
    row[0, 14:] = [2.0, 1.0, 2.0]  # slot 5 % 3 = 2 holds round 2's play (arm 1), which now leaves the window
    a = 2 / 2.25 + math.sqrt(6 * math.log(5)) / 2.25
    b = 1 / 1.625 + math.sqrt(4 * math.log(5)) / 1.625
    assert a > b
    s1 = states(1)
    assert kernels.choose_delayed_conversions(params, counts, sums, means, row, s1, 0, 5, 100) == 0
    # round 2's play left (its q^4 taken off the halved sum), round 5's arm 0 play entered with q
    assert row[0, 8:14].tolist() == [2.0, 1.0, 0.25 + 0.5, 0.125 + 0.0625 - 0.0625, 2.0, 1.0]
    assert row[0, 14:].tolist() == [2.0, 1.0, 1.0] and counts[0].tolist() == [4.0, 2.0] and means[0, 0] == 0.5
    # at t = 2 (log t = log 2): arm 0 played at round 0 (revealed 1 - q^2 = 3/4) with x conversions, arm 1 at
    # round 1 (1 - q = 1/2) with none: x / 0.75 + sqrt(2 log 2) / 0.75 against sqrt(2 log 2) / 0.5, equal at
    # x = 0.5 sqrt(2 log 2)
    cross = 0.5 * math.sqrt(2 * math.log(2.0))
    for x, want in ((cross * 0.99999, 1), (cross * 1.00001, 0)):
        row = np.zeros((1, 4 * 2 + 6 + window))
        row[0, 2 + 3:2 + 6] = q, q**window, q ** (window + 1)
        row[0, 8:14] = [1.0, 1.0, 0.25, 0.5, 0.0, 0.0]
        row[0, 14:] = [1.0, 2.0, 0.0]
        assert kernels.choose_delayed_conversions(params, np.array([[1.0, 1.0]]), np.array([[x, 0.0]]),
                                                  np.zeros((1, 2)), row, s1, 0, 2, 100) == want
    # arm 0 scoring -inf is still the first candidate, taken without a draw; an arm never played comes first
    before = int(s1[0])
    minus = np.array([[-math.inf, 0.0, 0.0]])
    assert kernels.choose_delayed_conversions(params, np.array([[1.0, 1.0, 0.0]]), minus, np.zeros((1, 3)),
                                              np.zeros((1, 4 * 3 + 6 + window)), s1, 0, 1, 100) == 2
    assert int(s1[0]) == before


def test_poisson_upper_is_the_largest_rate_within_the_poisson_divergence_budget() -> None:
    # by hand: from rate 0 the divergence is q itself; rate 1 and above (a window's estimate can pass 1) give 1;
    # a budget of 0 leaves the rate; d(0.2, 1) = 0.8 + 0.2 log 0.2 = 0.4781 fits a budget of 0.48, not 0.47
    assert kernels.poisson_upper(0.0, 0.25) == 0.25 and kernels.poisson_upper(0.0, 2.0) == 1.0
    assert kernels.poisson_upper(1.0, 0.1) == 1.0 and kernels.poisson_upper(1.3, 0.1) == 1.0
    assert kernels.poisson_upper(0.3, 0.0) == 0.3
    assert kernels.poisson_upper(0.2, 0.48) == 1.0 and kernels.poisson_upper(0.2, 0.47) < 1.0
    draws = np.random.default_rng(5)
    for p, budget in zip(draws.uniform(0, 1, 300) ** 2, 10 ** draws.uniform(-7, 0, 300)):
        q = kernels.poisson_upper(p, budget)
        assert q == pytest.approx(poisson_bound(p, budget), rel=1e-10, abs=1e-14)
        # and between the bounds its caller prunes with
        assert min(p + math.sqrt(2 * p * budget), 1.0) - 1e-12 <= q <= p + budget + math.sqrt(2 * p * budget + budget**2)


def test_delayed_conversions_kl_ucb_plays_the_largest_kl_index_and_keeps_the_same_books() -> None:
    K, window, q = 3, 3, 0.5
    params = np.array([float(window), 1.0])  # kl 1: the KL-UCB index
    s = states(2)
    counts, sums, means = np.zeros((2, K)), np.zeros((2, K)), np.zeros((2, K))
    scratch = np.zeros((2, 4 * K + 6 + window))
    scratch[:, K + 3:K + 6] = q, q**window, q ** (window + 1)
    book = Conversions(K, window, q)
    lags = np.random.default_rng(2)
    pending: list[tuple[int, int, int]] = []
    picks = []
    for t in range(40):
        ref = Stream(s[1])
        want = reservoir(book.scores(t, kl=True), ref)
        arm = kernels.choose_delayed_conversions(params, counts, sums, means, scratch, s, 1, t, 100)
        assert arm == want and int(s[1]) == ref.state
        picks.append(arm)
        book.plays.append((t, arm))
        assert scratch[1, K + 6:4 * K + 6].tolist() == pytest.approx(book.books(t), rel=1e-12, abs=1e-15)
        if arm == 2 or (arm == 1 and t % 2 == 0):
            pending.append((t + (1 if arm == 2 else int(lags.integers(0, 6))), t, arm))
        for arrival, played, converted in [x for x in pending if x[0] <= t]:
            pending.remove((arrival, played, converted))
            scratch[1, K + 1] = played
            kernels.learn_conversions(params, counts, sums, means, scratch, s, 1, converted, 1.0)
            if t + 1 - played <= window:
                book.sums[converted] += 1.0
    assert set(picks) == {0, 1, 2} and picks[-10:].count(2) >= 5  # arm 2 always converts, and soon

    # by hand at t = 150, window 3, q = 1/2, no play within the window: arm 0 played 100 times (revealed 100 x 7/8
    # = 87.5) with 20 conversions, index 0.43059 (rate 0.2286, budget log 150 / 87.5 = 0.0573); arm 1 played 50
    # times (revealed 43.75) with 6 conversions, index 0.39768, with 7, 0.43430: the fewer plays win with 7
    for converted, want in ((6.0, 0), (7.0, 1)):
        row = np.zeros((1, 4 * 2 + 6 + window))
        row[0, 2 + 3:2 + 6] = q, q**window, q ** (window + 1)
        row[0, 12:14] = [100.0, 50.0]
        assert poisson_bound(20 / 87.5, math.log(150) / 87.5) == pytest.approx(0.43059, abs=1e-5)
        assert poisson_bound(converted / 43.75, math.log(150) / 43.75) == pytest.approx(
            0.39768 if want == 0 else 0.43430, abs=1e-5)
        assert kernels.choose_delayed_conversions(params, np.array([[100.0, 50.0]]), np.array([[20.0, converted]]),
                                                     np.zeros((1, 2)), row, states(1), 0, 150, 1000) == want
