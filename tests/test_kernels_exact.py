"""Exact checks of the compiled race's kernels (sim/kernels/rng.py, arms.py) and of the choice of compiled races
(sim/compiled.py): every random draw is replayed from a SplitMix64 stream written out here from its definition,
every index and posterior from its paper's formula on a tiny state, and a 3-round race step by step. Small enough
to run as plain Python (NUMBA_DISABLE_JIT=1), as the mutation run does (tools/mutation.py)."""

from __future__ import annotations

import dataclasses
import math
import threading
from typing import Any

import numpy as np
import pytest
from test_mab_indices import kl, kl_bound

from banditmap.sim import compiled
from banditmap.sim.environments import make_environment
from banditmap.sim.kernels import arms, rng
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run

M = 2**64


@pytest.fixture(autouse=True)
def divide_by_zero_raises():  # type: ignore[no-untyped-def]
    """Run as plain Python, the kernels divide NumPy scalars, which give inf on a division by zero where the
    compiled kernels raise ZeroDivisionError: make them raise here too."""
    with np.errstate(divide="raise"):
        yield
GOLDEN = 0x9E3779B97F4A7C15


def mix(z: int) -> int:
    """SplitMix64's output function (Steele, Lea & Flood 2014), on Python integers."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % M
    return z ^ (z >> 31)


class Stream:
    """One repetition's stream, replayed from its state: the draws the kernels must make, by their definitions."""

    def __init__(self, state: Any) -> None:
        self.state = int(state)
        self.paths: set[str] = set()  # which branches of the samplers were taken
        self.spare = 0.0  # the uniform the last normal draw's word carries

    def bits(self) -> int:
        self.state = (self.state + GOLDEN) % M
        return mix(self.state)

    def uniform(self) -> float:
        return (self.bits() >> 11) * 2.0**-53

    def below(self, n: int) -> int:
        return min(int(self.uniform() * n), n - 1)

    def normal(self) -> float:
        """Marsaglia & Tsang's ziggurat, the layer from the low 7 bits, the signed value from the high 32."""
        while True:
            word = self.bits()
            layer, value = word & 127, (word >> 32) - (1 << 32 if word >> 63 else 0)
            x = value * float(rng.ZIG_W[layer])
            self.spare = (((word >> 7) & 0x1FFFFFF) + 0.5) * 2.0**-25  # the accepted word's unused bits 7..31
            if abs(value) < rng.ZIG_K[layer]:
                self.paths.add("normal: box")
                return x
            if layer == 0:
                while True:
                    x = -math.log(1.0 - self.uniform()) / rng.ZIG_R
                    y = -math.log(1.0 - self.uniform())
                    if 2 * y >= x * x:
                        break
                self.paths.add("normal: tail")
                return rng.ZIG_R + x if value > 0 else -rng.ZIG_R - x
            f = rng.ZIG_F
            if f[layer] + self.uniform() * (f[layer - 1] - f[layer]) < math.exp(-x * x / 2):
                self.paths.add("normal: wedge")
                return x
            self.paths.add("normal: rejected")

    def gamma(self, shape: float) -> float:
        """Marsaglia & Tsang (2000): d = a - 1/3, c = 1/sqrt(9d), v = (1 + c x)^3, boosted by U^(1/a) below 1; the
        acceptance test's uniform from bits 7..31 of the normal's word."""
        boost = 1.0
        if shape < 1:
            boost = (1.0 - self.uniform()) ** (1 / shape)
            shape += 1
        d = shape - 1 / 3
        c = 1 / math.sqrt(9 * d)
        while True:
            x = self.normal()
            v = 1 + c * x
            if v <= 0:
                self.paths.add("gamma: v <= 0")
                continue
            v = v**3
            u = self.spare  # the uniform of the normal's word
            if u < 1 - 0.0331 * x**4:
                self.paths.add("gamma: squeeze")
                return d * v * boost
            if math.log(u) < x * x / 2 + d * (1 - v + math.log(v)):
                self.paths.add("gamma: log test")
                return d * v * boost
            self.paths.add("gamma: rejected")

    def beta(self, a: float, b: float) -> float:
        x = self.gamma(a)
        return x / (x + self.gamma(b))


def states(n: int, seed: int = 3) -> np.ndarray:
    return rng.stream_seeds(seed, 9, n)


# --- random streams and samplers (rng.py) ------------------------------------------------------------------------

def test_mix_is_splitmix64() -> None:
    # SplitMix64 seeded with 1234567: its published first outputs
    assert [int(rng.mix(np.uint64((1234567 + k * GOLDEN) % M))) for k in (1, 2, 3)] == [
        6457827717110365317, 3203168211198807973, 9817491932198370423]
    for z in (0, 1, 2**63 + 12345, M - 1, 0x0123456789ABCDEF):
        assert int(rng.mix(np.uint64(z))) == mix(z)


def test_stream_seeds_by_hand() -> None:
    for seed, salt in [(5, 7), (0, 0), (2**40 + 3, 11)]:
        base = mix(mix((seed + GOLDEN) % M) ^ (salt * GOLDEN % M))
        assert rng.stream_seeds(seed, salt, 3).tolist() == [mix((base + (r + 1) * GOLDEN) % M) for r in range(3)]


def test_uniform_advances_its_own_repetition_by_the_golden_gamma_and_takes_53_bits() -> None:
    s = states(3)
    before = s.copy()
    u = rng.uniform(s, 1)
    assert u == (mix((int(before[1]) + GOLDEN) % M) >> 11) * 2.0**-53
    assert int(s[1]) == (int(before[1]) + GOLDEN) % M and s[0] == before[0] and s[2] == before[2]
    assert int(rng.bits(s, 2)) == mix((int(before[2]) + GOLDEN) % M)


def test_below_and_geometric_replayed() -> None:
    s = states(4)
    for r in range(4):
        ref = Stream(s[r])
        for n in (1, 2, 7):
            assert rng.below(s, r, n) == ref.below(n)
        for p in (0.2, 0.9):
            u = ref.uniform()
            assert rng.geometric(s, r, p) == 1 + math.floor(math.log(1 - u) / math.log1p(-p))
        assert int(s[r]) == ref.state
        assert rng.geometric(s, r, 1.0) == 1 and int(s[r]) == ref.state  # certain success: no draw


def test_ziggurat_tables_are_marsaglia_and_tsangs() -> None:
    """128 layers of equal area v = 9.91256303526217e-3 under the normal density (unnormalised), the base layer
    holding the tail beyond r = 3.442619855899; k[i] = floor(2^31 x_{i-1} / x_i), w[i] = x_i / 2^31."""
    k, w, f = rng._ziggurat_tables()  # computed here, not only at import: a mutation run then sees a changed table
    assert k.tolist() == rng.ZIG_K.tolist() and w.tolist() == rng.ZIG_W.tolist() and f.tolist() == rng.ZIG_F.tolist()
    assert k.dtype == np.int64 and w.dtype == f.dtype == np.float64
    r, v, m1 = 3.442619855899, 9.91256303526217e-3, 2.0**31
    assert rng.ZIG_R == r and len(k) == len(w) == len(f) == 128
    x = w * m1  # the layers' right edges
    assert x[127] == pytest.approx(r, rel=1e-15) and f[0] == 1.0 and f[127] == math.exp(-r * r / 2)
    q = v / math.exp(-r * r / 2)
    assert w[0] == q / m1 and k[0] == int(r / q * m1) and k[1] == 0
    for i in range(1, 127):
        assert f[i] == pytest.approx(math.exp(-x[i] ** 2 / 2), rel=1e-14)
        assert x[i + 1] * (f[i] - f[i + 1]) == pytest.approx(v, rel=1e-9)  # each layer's area
        assert k[i + 1] == int(x[i] / x[i + 1] * m1)
    assert 0 < x[1] < 0.3 and np.all(np.diff(x[1:]) > 0)


def test_normal_gamma_and_beta_draws_replayed_through_every_branch() -> None:
    s = states(40)
    seen: set[str] = set()
    for r in range(40):
        ref = Stream(s[r])
        for _ in range(25):
            assert rng.normal(s, r) == pytest.approx(ref.normal(), rel=1e-13, abs=1e-15)
        for shape in (0.3, 1.0, 2.5):
            assert rng.gamma(s, r, shape) == pytest.approx(ref.gamma(shape), rel=1e-12)
        assert rng.beta(s, r, 0.5, 3.0) == pytest.approx(ref.beta(0.5, 3.0), rel=1e-12)
        assert int(s[r]) == ref.state
        seen |= ref.paths
    assert {"normal: box", "normal: wedge", "normal: rejected", "gamma: squeeze", "gamma: log test"} <= seen


def test_each_normal_hands_back_the_spare_uniform_its_word_carries() -> None:
    """bits 7..31 of the accepted word, as (k + 0.5) 2^-25: strictly inside (0, 1), exact."""
    s = states(20, seed=5)
    for r in range(20):
        ref = Stream(s[r])
        for _ in range(10):
            x, spare = rng.normal_and_uniform(s, r)
            assert x == pytest.approx(ref.normal(), rel=1e-13, abs=1e-15) and spare == ref.spare
            assert 0.0 < spare < 1.0


def test_beta_rows_draw_each_row_from_its_own_repetitions_stream() -> None:
    """Row i's draws come from stream reps[i], in column order: replayed one by one."""
    s = states(4, seed=6)
    replays = {r: Stream(s[r]) for r in (1, 3)}
    a, b = np.array([[1.0, 2.5, 0.4], [3.0, 0.7, 1.0]]), np.array([[2.0, 1.0, 0.9], [1.5, 4.0, 1.0]])
    out = rng.beta_rows(s, np.array([3, 1]), a, b)
    expected = [[replays[r].beta(a[i, j], b[i, j]) for j in range(3)] for i, r in enumerate((3, 1))]
    assert out.shape == (2, 3) and np.allclose(out, expected, rtol=1e-12, atol=0)
    assert int(s[0]) == int(states(4, seed=6)[0]) and int(s[2]) == int(states(4, seed=6)[2])  # untouched


def test_normal_tail_and_gamma_rejection_replayed() -> None:
    """The rare branches: the normal's tail beyond r (the base layer, 1 word in 128 that is not accepted at
    once), and a gamma proposal with v <= 0 (x below -1/c: likely at a small shape, d = 0.72)."""
    s = states(300, seed=8)
    seen: set[str] = set()
    for r in range(300):
        ref = Stream(s[r])
        for _ in range(30):
            assert rng.gamma(s, r, 0.05) == pytest.approx(ref.gamma(0.05), rel=1e-12)
        seen |= ref.paths
    assert {"gamma: v <= 0", "normal: tail"} <= seen


def test_normal_draws_replayed_in_both_tails() -> None:
    """20000 draws: the ziggurat's tail beyond r = 3.44 (about 6 draws in 10000) on both sides."""
    s = states(50, seed=12)
    tails = set()
    for r in range(50):
        ref = Stream(s[r])
        for _ in range(400):
            x = rng.normal(s, r)
            assert x == pytest.approx(ref.normal(), rel=1e-13, abs=1e-15)
            if abs(x) > rng.ZIG_R:
                tails.add(x > 0)
                assert "normal: tail" in ref.paths
    assert tails == {False, True}


def test_states_from_take_the_generators_raw_64_bit_outputs_and_split_by_position() -> None:
    raw = np.random.PCG64(np.random.SeedSequence(5)).random_raw(4)
    assert rng.states_from(np.random.Generator(np.random.PCG64(np.random.SeedSequence(5))), 4).tolist() == raw.tolist()
    state = rng.stream_seeds(1, 1, 1)[0]
    start = mix(int(state))
    assert rng.split(state, np.array([0, 5, 2], dtype=np.int64)).tolist() == [
        mix((start + (p + 1) * GOLDEN) % M) for p in (0, 5, 2)]


# --- the environment (arms.py) -----------------------------------------------------------------------------------

def test_sigmoid_and_expected_rewards() -> None:
    assert arms.sigmoid(0.0) == 0.5 and arms.sigmoid(2.0) == 1 / (1 + math.exp(-2.0))
    logits = np.array([[0.0, 2.0, -1.0], [0.3, 0.7, 0.5]])
    mu = np.zeros((2, 3))
    assert arms.expected(logits, mu, 0, arms.BINARY) == arms.sigmoid(2.0)
    assert mu[0].tolist() == [0.5, arms.sigmoid(2.0), arms.sigmoid(-1.0)] and mu[1].tolist() == [0, 0, 0]
    assert arms.expected(logits, mu, 1, arms.CONTINUOUS) == 0.7 and mu[1].tolist() == [0.3, 0.7, 0.5]


@pytest.mark.parametrize("safety", [False, True])
def test_instances_drawn_by_hand(safety: bool) -> None:
    K, env = 5, states(2)
    for reward in (arms.BINARY, arms.CONTINUOUS, arms.HEAVY):
        refs = [Stream(e) for e in env]
        logits = np.zeros((2, K))
        arms.draw_instance(logits, env, 1, reward, safety)
        ref = refs[1]
        want = [(-2 + 0.6 * ref.normal()) if reward == arms.BINARY else 0.2 + 0.6 * ref.uniform() for _ in range(K)]
        if safety:  # the default arm 0 trades places with the 70th percentile arm (the third of five)
            third = int(np.argsort(want)[2])
            want[0], want[third] = want[third], want[0]
        assert logits[1].tolist() == pytest.approx(want, rel=1e-13) and logits[0].tolist() == [0.0] * K
        assert env[0] == refs[0].state and env[1] == ref.state


def test_draw_instances_and_environment_step_of_the_loop() -> None:
    env, R, K = states(2), 2, 3
    refs = [Stream(e) for e in env]
    logits, mu = np.zeros((R, K)), np.zeros((R, K))
    top = arms.draw_instances(logits, mu, env, arms.BINARY, False)
    want = [[-2 + 0.6 * ref.normal() for _ in range(K)] for ref in refs]
    np.testing.assert_allclose(logits, want, rtol=1e-13)
    assert mu.tolist() == [[arms.sigmoid(x) for x in row] for row in logits.tolist()]
    assert top.tolist() == [max(m) for m in mu.tolist()]
    logits[:] = [[-1.0, 0.5, 0.0], [0.3, 0.0, -0.2]]
    mu[:] = [[arms.sigmoid(x) for x in row] for row in logits.tolist()]
    recent = np.zeros((R, K))
    value, observed = np.zeros(R), np.zeros(R)
    arms.environment_step(logits, mu, top, recent, env, 3, 4, arms.BINARY, arms.DRIFTING, np.array([0, 1]), value,
                          observed)
    walked = [[x + 1.5 / 2 * ref.normal() for x in row] for row, ref in zip([[-1.0, 0.5, 0.0], [0.3, 0.0, -0.2]], refs)]
    np.testing.assert_allclose(logits, walked, rtol=1e-13)
    assert mu.tolist() == [[arms.sigmoid(x) for x in row] for row in logits.tolist()]
    assert top.tolist() == [max(m) for m in mu.tolist()] and value.tolist() == [mu[0, 0], mu[1, 1]]
    assert observed.tolist() == [1.0 if ref.uniform() < v else 0.0 for ref, v in zip(refs, value)]
    arms.environment_step(logits, mu, top, recent, env, 3, 4, arms.BINARY, arms.ADVERSARIAL, np.array([2, 1]), value,
                          observed)
    assert recent.tolist() == [[0, 0, 1], [0, 1, 0]]
    [ref.uniform() for ref in refs]
    logits[:] = [[0.2, 0.6, 0.4], [0.5, 0.3, 0.1]]
    mu[:] = logits
    top = mu.max(axis=1)
    arms.environment_step(logits, mu, top, np.zeros((R, K)), env, 0, 10, arms.CONTINUOUS, arms.STATIONARY,
                          np.array([2, 0]), value, observed)
    assert value.tolist() == [mu[0, 2], mu[1, 0]]
    assert observed.tolist() == pytest.approx([value[r] + 0.1 * refs[r].normal() for r in range(R)], rel=1e-13)


def test_rewards_drawn_by_hand() -> None:
    env = states(1)
    ref = Stream(env[0])
    for mean in (0.3, 0.7, 0.05, 0.95):
        assert arms.draw_reward(mean, env, 0, arms.BINARY) == (1.0 if ref.uniform() < mean else 0.0)
    assert arms.draw_reward(0.4, env, 0, arms.CONTINUOUS) == pytest.approx(0.4 + 0.1 * ref.normal(), rel=1e-13)
    assert arms.draw_reward(0.4, env, 0, arms.HEAVY) == pytest.approx(0.4 * math.exp(-0.5 + ref.normal()), rel=1e-13)
    assert env[0] == ref.state


def test_drifting_arms_walk_and_continuous_means_stay_in_0_1() -> None:
    env = states(2)
    ref = Stream(env[1])
    logits = np.array([[0.0, 0.0, 0.0], [0.02, 0.98, 0.5]])
    arms.move(logits, np.zeros((2, 3)), env, 1, 5, 4, arms.CONTINUOUS, arms.DRIFTING)
    want = [min(max(m + 0.3 / 2 * ref.normal(), 0.0), 1.0) for m in (0.02, 0.98, 0.5)]
    assert logits[1].tolist() == pytest.approx(want, rel=1e-13) and logits[0].tolist() == [0.0] * 3
    arms.move(logits, np.zeros((2, 3)), env, 1, 5, 4, arms.BINARY, arms.DRIFTING)
    assert logits[1].tolist() == pytest.approx([m + 1.5 / 2 * ref.normal() for m in want], rel=1e-13)
    assert env[1] == ref.state
    for _ in range(5):  # the clipped walk reaches both ends on this stream
        arms.move(logits, np.zeros((2, 3)), env, 1, 5, 4, arms.CONTINUOUS, arms.DRIFTING)
        assert 0.0 <= logits[1].min() and logits[1].max() <= 1.0
    still = logits.copy()
    arms.move(logits, np.zeros((2, 3)), env, 1, 5, 4, arms.CONTINUOUS, arms.STATIONARY)
    assert logits.tolist() == still.tolist()


def test_abrupt_changes_rotate_the_arms_at_a_quarter_half_and_three_quarters() -> None:
    env = states(1)
    ref = Stream(env[0])
    logits = np.array([[0.1, 0.2, 0.3, 0.4]])
    for t in range(12):  # T = 12: rotations at rounds 3, 6 and 9
        before = logits[0].tolist()
        arms.move(logits, np.zeros((1, 4)), env, 0, t, 12, arms.CONTINUOUS, arms.ABRUPT)
        if t in (3, 6, 9):
            shift = 1 + ref.below(3)
            assert logits[0].tolist() == [before[(k + shift) % 4] for k in range(4)]
        else:
            assert logits[0].tolist() == before
    assert env[0] == ref.state


def test_an_adversary_swaps_the_favourite_arm_with_the_worst_every_twentieth_of_the_run() -> None:
    env = states(1)
    logits = np.array([[0.5, 0.9, 0.1, 0.3]])
    recent = np.array([[1.0, 2.0, 0.0, 5.0]])
    for t in (0, 50, 99):  # T = 2000: every 100 rounds (at least every 50)
        arms.move(logits, recent, env, 0, t, 2000, arms.CONTINUOUS, arms.ADVERSARIAL)
    assert logits[0].tolist() == [0.5, 0.9, 0.1, 0.3] and recent[0].tolist() == [1.0, 2.0, 0.0, 5.0]
    arms.move(logits, recent, env, 0, 200, 2000, arms.CONTINUOUS, arms.ADVERSARIAL)
    assert logits[0].tolist() == [0.5, 0.9, 0.3, 0.1] and recent[0].tolist() == [0.0] * 4
    recent[0, 1] = 3.0
    arms.move(logits, recent, env, 0, 50, 400, arms.CONTINUOUS, arms.ADVERSARIAL)  # T // 20 = 20: every 50
    assert logits[0].tolist() == [0.5, 0.1, 0.3, 0.9]
    recent[0, 0] = 1.0
    arms.move(logits, recent, env, 0, 201, 2010, arms.CONTINUOUS, arms.ADVERSARIAL)  # every 100 (2010 // 20) rounds
    assert logits[0].tolist() == [0.5, 0.1, 0.3, 0.9]
    arms.move(logits, recent, env, 0, 200, 2010, arms.CONTINUOUS, arms.ADVERSARIAL)
    assert logits[0].tolist() == [0.1, 0.5, 0.3, 0.9]
    assert env[0] == states(1)[0]  # no draws


def test_delays_are_geometric_with_the_mean_delay() -> None:
    delays = states(3)
    refs = [Stream(d) for d in delays]
    got = arms.delays_of(delays, 7, 4.0)
    assert got.dtype == np.int64
    assert got.tolist() == [7 + 1 + math.floor(math.log(1 - ref.uniform()) / math.log1p(-0.25)) for ref in refs]
    assert arms.delays_of(delays, 7, 1.0).tolist() == [8, 8, 8]


# --- decisions ---------------------------------------------------------------------------------------------------

def test_ties_are_broken_by_reservoir_sampling_with_one_draw_per_tie() -> None:
    s = states(30)
    for r in range(30):
        ref = Stream(s[r])
        # arm 0, then arms 2 and 3 tie with it: the k-th of the tied arms replaces the pick when u * k < 1
        pick = 0
        for k, arm in ((2, 2), (3, 3)):
            if ref.uniform() * k < 1:
                pick = arm
        assert arms.argmax(np.array([0.9, 0.5, 0.9, 0.9]), s, r) == pick
        # a better score after a tie starts afresh: one draw for the tie, none after
        assert arms.argmax(np.array([0.5, 0.5, 0.7]), s, r) == 2
        ref.uniform()
        # every score -inf: the first arm is taken, then the others tie with it
        pick = 0
        for k, arm in ((2, 1),):
            if ref.uniform() * k < 1:
                pick = arm
        assert arms.argmax(np.array([-np.inf, -np.inf]), s, r) == pick
        assert arms.argmax(np.array([0.1, 0.7, 0.3]), s, r) == 1  # no tie, no draw
        assert int(s[r]) == ref.state


def test_greedy_tries_untried_arms_first_then_a_best_mean() -> None:
    s = states(1)
    counts, means = np.array([[3.0, 0.0, 2.0]]), np.array([[0.9, 0.0, 0.4]])
    assert arms.greedy(means, counts, s, 0) == 1
    counts[0, 1] = 1.0
    assert arms.greedy(means, counts, s, 0) == 0
    assert s[0] == states(1)[0]


def test_counts_learnt_and_t_held_at_2() -> None:
    counts, sums, means = np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3))
    for arm, reward in ((1, 1.0), (1, 0.5), (2, 0.25)):
        arms.learn_counts(np.zeros(0), counts, sums, means, np.zeros((2, 4)), states(2), 1, arm, reward)
    assert counts.tolist() == [[0, 0, 0], [0, 2, 1]] and sums.tolist() == [[0, 0, 0], [0, 1.5, 0.25]]
    assert means.tolist() == [[0, 0, 0], [0, 0.75, 0.25]]
    assert arms.observations(counts, 0) == 2.0 and arms.observations(counts, 1) == 3.0
    counts[1] = [0, 1, 0]
    assert arms.observations(counts, 1) == 2.0


def choose(kernel: str, params: list[float], counts: Any, sums: Any, s: np.ndarray, r: int = 0,
           horizon: int = 100, scratch: Any = None) -> int:
    counts, sums = np.asarray(counts, float).reshape(-1), np.asarray(sums, float).reshape(-1)
    c = np.tile(counts * 3 + 1, (len(s), 1))  # the other repetitions hold other statistics
    m = np.tile(sums, (len(s), 1))
    c[r], m[r] = counts, sums
    means = np.where(c > 0, m / np.maximum(c, 1), 0.0)
    scratch = np.zeros((c.shape[0], c.shape[1] + 1)) if scratch is None else scratch
    function = getattr(arms, kernel)
    return int(function(np.array(params, float), c, m, means, scratch, s, r, 0, horizon))


def test_uniform_epsilon_greedy_and_softmax_replayed() -> None:
    s = states(40)
    counts, sums = [[4, 4, 4, 0]], [[1, 3, 2, 0]]
    played, tried = [[4, 4, 4, 4]], [[1, 3, 2, 2]]
    for r in range(40):
        ref = Stream(s[r])
        assert choose("choose_uniform", [], counts, sums, s, r) == ref.below(4)
        assert choose("choose_epsilon_greedy", [0.3], played, tried, s, r) == (
            ref.below(4) if ref.uniform() < 0.3 else 1)
        assert choose("choose_epsilon_greedy", [0.3], counts, sums, s, r) == (
            ref.below(4) if ref.uniform() < 0.3 else 3)
        gumbel = [-math.log(-math.log(1 - ref.uniform() * (1 - 1e-16))) for _ in range(4)]
        scores = [m / 4 / 0.5 + g for m, g in zip([1, 3, 2, 2], gumbel)]
        assert choose("choose_softmax", [0.5], played, tried, s, r) == int(np.argmax(scores))
        [ref.uniform() for _ in range(4)]
        assert choose("choose_softmax", [0.5], counts, sums, s, r) == 3  # the untried arm, every draw made
        assert int(s[r]) == ref.state


def ucb1(counts: list[float], sums: list[float], alpha: float) -> int:
    t = max(sum(counts), 2)
    return int(np.argmax([math.inf if n == 0 else s / n + math.sqrt(alpha * math.log(t) / n)
                          for n, s in zip(counts, sums)]))


def test_ucb1_plays_the_largest_mean_plus_sqrt_alpha_log_t_over_n() -> None:
    # t = 17: arm 0 0.6 + sqrt(2 log 17 / 10) = 1.353, arm 1 0.3 + sqrt(2 log 17 / 2) = 1.983, arm 2 1.565
    s = states(1)
    assert choose("choose_ucb1", [2.0], [10, 2, 5], [6.0, 0.6, 2.5], s) == 1
    assert choose("choose_ucb1", [0.02], [10, 2, 5], [6.0, 0.6, 2.5], s) == 0  # narrow: the best mean
    assert choose("choose_ucb1", [2.0], [1, 0], [1.0, 0.0], s) == 1  # an untried arm first
    draws = np.random.default_rng(5)
    two = states(2)
    for _ in range(60):  # on repetition 1 of 2, whose t is its own
        counts = draws.integers(1, 30, 4).astype(float).tolist()
        sums = (draws.random(4) * counts).tolist()
        alpha = float(draws.choice([0.5, 2.0, 4.0]))
        assert choose("choose_ucb1", [alpha], counts, sums, two, r=1) == ucb1(counts, sums, alpha)
    assert choose("choose_ucb1", [2.0], [1, 0], [0.0, 0.0], s) == 1 and choose("choose_ucb1", [2.0], [1], [0.4], s) == 0
    assert s[0] == states(1)[0]  # no ties, no draws


def kl_upper(mean: float, budget: float) -> float:
    """The docstring's procedure: six halvings of [p, min(p + sqrt(budget / 2), 1 - 1e-9)], then two Newton steps
    on kl(p, q) - budget from the upper end, each kept inside the last bracket."""
    eps = 1e-9
    p = min(max(mean, eps), 1 - eps)
    low, high = p, min(p + math.sqrt(budget / 2), 1 - eps)
    for _ in range(6):
        middle = (low + high) / 2
        low, high = (low, middle) if kl(p, middle) > budget else (middle, high)
    q = high
    for _ in range(2):
        q = min(max(q - (kl(p, q) - budget) / max((q - p) / (q * (1 - q)), eps), low), high)
    return q


@pytest.mark.parametrize("mean,budget", [(0.1, 0.05), (0.5, 0.2), (0.9, 0.01), (0.0, 0.3), (0.3, 0.02),
                                         (1.0, 0.1), (0.95, 2.0), (0.2, 1e-4)])
def test_kl_upper_follows_its_procedure_and_is_within_1e_3_of_the_bound(mean: float, budget: float) -> None:
    q = arms.kl_upper(mean, budget)
    assert q == pytest.approx(kl_upper(mean, budget), rel=1e-12, abs=1e-15)
    if budget <= 0.2:
        assert abs(q - kl_bound(min(max(mean, 1e-9), 1 - 1e-9), budget, 1e-13)) < 1e-3
    assert mean - 1e-9 <= q <= 1 - 1e-9


def test_kl_ucb_caches_indices_recomputes_changed_arms_and_all_when_t_grows() -> None:
    s = states(2)
    counts, sums = np.array([[20.0, 20, 20, 0], [5, 5, 0, 0]]), np.array([[10.0, 8, 4, 0], [1, 2, 0, 0]])
    means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    scratch = np.zeros((2, 5))
    c = [1.0]

    def budget(t: float) -> float:
        return math.log(t) + math.log(max(math.log(t), 1.0))

    arm = arms.choose_kl_ucb(np.array(c), counts, sums, means, scratch, s, 0, 0, 100)
    first = [kl_upper(m, budget(60) / 20) for m in (0.5, 0.4, 0.2)]
    assert scratch[0].tolist() == pytest.approx(first + [0.0, 60.0], rel=1e-12) and arm == 3
    assert scratch[1].tolist() == [0.0] * 5
    counts[0, 3], sums[0, 3], means[0, 3] = 1, 0.0, 0.0  # t = 61 < 60 * 1.05: only the changed arm anew
    arms.learn_kl_ucb(np.array(c), counts, sums, means, scratch, s, 0, 1, 1.0)  # arm 1: 9 of 21; t = 62
    assert scratch[0, 1] == -1.0 and counts[0, 1] == 21
    scratch[0, 3] = -1.0
    arm = arms.choose_kl_ucb(np.array(c), counts, sums, means, scratch, s, 0, 0, 100)
    assert scratch[0].tolist() == pytest.approx(
        [first[0], kl_upper(9 / 21, budget(60) / 21), first[2], kl_upper(0.0, budget(60)), 60.0], rel=1e-12)
    assert arm == int(np.argmax(scratch[0, :4]))
    counts[0, 2] += 1  # t = 63 = 60 * REFRESH: not yet (the other arms' cached indices stay)
    scratch[0, 0] = 0.25
    arms.choose_kl_ucb(np.array(c), counts, sums, means, scratch, s, 0, 0, 100)
    assert scratch[0, 4] == 60.0 and scratch[0, 0] == 0.25 and arms.REFRESH == 1.05
    counts[0, 2] += 1  # t = 64: every index with log 64
    arms.choose_kl_ucb(np.array(c), counts, sums, means, scratch, s, 0, 0, 100)
    assert scratch[0].tolist() == pytest.approx([kl_upper(m, budget(64) / n) for m, n in
                                                 zip(means[0], counts[0])] + [64.0], rel=1e-12)
    # repetition 1, t = 10, c = 0: the log log term is held at 0 while log t < 1 only
    arms.choose_kl_ucb(np.array([0.0]), counts, sums, means, scratch, s, 1, 0, 100)
    assert scratch[1, :2].tolist() == pytest.approx([kl_upper(0.2, math.log(10) / 5),
                                                     kl_upper(0.4, math.log(10) / 5)], rel=1e-12)
    low = np.zeros((1, 4))
    arms.choose_kl_ucb(np.array([5.0]), np.array([[1.0, 1, 0]]), np.zeros((1, 3)), np.zeros((1, 3)), low, s, 0, 0, 9)
    assert low[0].tolist() == pytest.approx([kl_upper(0.0, math.log(2)), kl_upper(0.0, math.log(2)), 0, 2.0])


@pytest.mark.parametrize("kernel,params", [("choose_ucb1", [2.0]), ("choose_moss", []), ("choose_kl_ucb", [0.0]),
                                           ("choose_epsilon_greedy", [0.0]), ("choose_softmax", [1.0])])
def test_index_policies_break_ties_at_random_on_their_own_stream(kernel: str, params: list[float]) -> None:
    """Arms 0 and 2 tie (the same statistics, or both untried); the tie is broken by repetition 1's stream."""
    for counts, sums in (([3, 30, 3], [1.5, 0.3, 1.5]), ([0, 2, 0], [0.0, 1.0, 0.0])):
        if kernel == "choose_softmax" and counts[0]:
            continue  # Gumbel noise: tried arms never tie
        picks = set()
        for seed in range(12):
            s = states(2, seed)
            ref = Stream(s[1])
            if kernel == "choose_epsilon_greedy":
                ref.uniform()
            if kernel == "choose_softmax":
                [ref.uniform() for _ in range(3)]
            pick = choose(kernel, params, counts, sums, s, r=1, horizon=200)
            assert pick == (2 if ref.uniform() * 2 < 1 else 0) and s[1] == ref.state and s[0] == states(2, seed)[0]
            picks.add(pick)
        assert picks == {0, 2}


def test_moss_by_hand() -> None:
    # horizon 120, 3 arms: n / K = 40; arm 0 (n = 10): 0.2 + sqrt(log 4 / 10) = 0.572; arm 1 (n = 50): 0.6, no
    # bonus; arm 2 (n = 20): 0.5 + sqrt(log 2 / 20) = 0.686
    s = states(1)
    assert choose("choose_moss", [], [10, 50, 20], [2.0, 30.0, 10.0], s, horizon=120) == 2
    assert choose("choose_moss", [], [10, 50, 20], [2.0, 30.0, 10.0], s, horizon=30) == 1  # no bonus left
    assert choose("choose_moss", [], [10, 50, 38], [2.0, 30.0, 19.0], s, horizon=120) == 1  # 0.5 + 0.037
    assert choose("choose_moss", [], [10, 50, 0], [2.0, 30.0, 0.0], s, horizon=120) == 2
    assert choose("choose_moss", [], [1, 2], [0.5, 1.2], s, horizon=1) == 1  # horizon held at 2: no bonus
    assert choose("choose_moss", [], [1, 2], [0.3, 1.0], s, horizon=4) == 0  # 0.3 + sqrt(log 2) against 0.5


def test_moss_keeps_an_index_until_its_arm_learns() -> None:
    # the state of test_moss_by_hand (horizon 120) with a scratch of 2K + 2 columns: the indices 0.572, 0.6 and
    # 0.686 are kept in columns K + 2 on, flagged 1 in columns :K
    s = states(1)
    scratch = np.zeros((1, 2 * 3 + 2))
    counts, sums = np.array([[10.0, 50.0, 20.0]]), np.array([[2.0, 30.0, 10.0]])
    means = sums / counts
    assert arms.choose_moss(np.zeros(0), counts, sums, means, scratch, s, 0, 0, 120) == 2
    kept = [0.2 + math.sqrt(math.log(4) / 10), 0.6, 0.5 + math.sqrt(math.log(2) / 20)]
    assert scratch[0, :3].tolist() == [1.0, 1.0, 1.0] and scratch[0, 5:].tolist() == pytest.approx(kept, abs=1e-15)
    # a kept index is used as it stands: statistics rewritten without learning (which a rewrite must flag) change
    # nothing ...
    means[0, 0] = 0.9
    assert arms.choose_moss(np.zeros(0), counts, sums, means, scratch, s, 0, 0, 120) == 2
    # ... arm 0 learning flags its index stale (-1): worked out again from its statistics, 18 / 11 +
    # sqrt(log(120 / 33) / 11) = 1.98, now the largest
    sums[0, 0] = 17.0
    arms.learn_moss(np.zeros(0), counts, sums, means, scratch, s, 0, 0, 1.0)
    assert counts[0].tolist() == [11.0, 50.0, 20.0] and sums[0, 0] == 18.0 and scratch[0, 0] == -1.0
    assert arms.choose_moss(np.zeros(0), counts, sums, means, scratch, s, 0, 0, 120) == 0
    assert scratch[0, 5] == pytest.approx(18.0 / 11.0 + math.sqrt(math.log(120 / 33) / 11), abs=1e-15)
    assert scratch[0, 0] == 1.0 and scratch[0, 6:].tolist() == pytest.approx(kept[1:], abs=1e-15)
    assert s[0] == states(1)[0]


def test_thompson_beta_and_gaussian_replayed() -> None:
    s = states(20)
    counts, sums = [[4, 10, 0]], [[3, 4, 0]]
    for r in range(20):
        ref = Stream(s[r])
        # Beta(alpha0 + successes, beta0 + failures): failures are n - s
        draws = [ref.beta(2.0 + w, 0.5 + n - w) for n, w in zip([4, 10, 0], [3, 4, 0])]
        assert choose("choose_thompson_beta", [2.0, 0.5], counts, sums, s, r) == int(np.argmax(draws))
        # precision 1/prior_var + n/noise_var, centre (prior_mean/prior_var + sum/noise_var) / precision
        draws = []
        for n, w in zip([4, 10, 0], [3, 4, 0]):
            precision = 1 / 0.5 + n / 2.0
            draws.append((0.2 / 0.5 + w / 2.0) / precision + ref.normal() / math.sqrt(precision))
        assert choose("choose_thompson_gaussian", [0.2, 0.5, 2.0], counts, sums, s, r) == int(np.argmax(draws))
        assert int(s[r]) == ref.state
    s = states(60)
    picks = set()
    for r in range(60):  # close arms, one untried: the prior's variance decides often
        ref = Stream(s[r])
        draws = []
        for n, w in zip([2, 0, 1], [0.5, 0.0, 0.1]):
            precision = 1 / 0.5 + n / 2.0
            draws.append((0.2 / 0.5 + w / 2.0) / precision + ref.normal() / math.sqrt(precision))
        pick = choose("choose_thompson_gaussian", [0.2, 0.5, 2.0], [2, 0, 1], [0.5, 0.0, 0.1], s, r)
        assert pick == int(np.argmax(draws))
        picks.add(pick)
    assert picks == {0, 1, 2}


def test_thompson_beta_keeps_each_arms_gamma_constants_until_its_counts_change() -> None:
    # with 2K + 2 scratch columns the draws are the uncached ones (same stream), c = 1 / sqrt(9 d) kept per arm
    s, plain = states(30), states(30)
    counts, sums = np.array([[4.0, 10, 0]] * 30), np.array([[3.0, 4, 0]] * 30)
    means = np.zeros((30, 3))
    kept = np.zeros((30, 8))
    for r in range(30):
        ref = Stream(plain[r])
        draws = [ref.beta(2.0 + w, 0.5 + n - w) for n, w in zip([4, 10, 0], [3, 4, 0])]
        arm = arms.choose_thompson_beta(np.array([2.0, 0.5]), counts, sums, means, kept, s, r, 0, 10)
        assert arm == int(np.argmax(draws)) and int(s[r]) == ref.state
    c = lambda shape: 1 / math.sqrt(9 * (shape - 1 / 3))  # noqa: E731
    # arm 2's failure shape 0.5 is below 1: drawn without constants (boosted), none kept
    assert kept[0].tolist() == [c(5.0), c(6.0), 0.0, 0.0, 0.0, c(1.5), c(6.5), 0.0]
    kept[0, 0] = 0.25  # a kept constant is used as it is ...
    before = int(s[0])
    arms.choose_thompson_beta(np.array([2.0, 0.5]), counts, sums, means, kept, s, 0, 0, 10)
    assert kept[0, 0] == 0.25 and int(s[0]) != before
    arms.learn_thompson_beta(np.array([2.0, 0.5]), counts, sums, means, kept, s, 0, 0, 1.0)  # ... until it learns
    assert kept[0, 0] == -1.0 and kept[0, 1] == c(6.0)
    arms.choose_thompson_beta(np.array([2.0, 0.5]), counts, sums, means, kept, s, 0, 0, 10)
    assert kept[0, 0] == pytest.approx(c(2.0 + sums[0, 0])) and kept[0, 5] == pytest.approx(c(0.5 + 5 - sums[0, 0]))


def test_forgetting_queued_and_weighted_kernels_by_hand() -> None:
    from banditmap.sim.kernels import policies as kernels
    from banditmap.sim.kernels import wrappers
    s = states(1)
    counts, sums, means = np.array([[4.0, 2.0, 0.0]]), np.array([[2.0, 1.5, 0.0]]), np.zeros((1, 3))
    # discounting: counts and sums times gamma, then the untried arm (count below 1e-6) first
    assert kernels.choose_discounted_ucb(np.array([0.5, 0.6]), counts, sums, means, np.zeros((1, 4)), s, 0, 0, 9) == 2
    assert counts.tolist() == [[2.0, 1.0, 0.0]] and sums.tolist() == [[1.0, 0.75, 0.0]]
    counts[0, 2], sums[0, 2] = 1.0, 0.1  # mean + 2 sqrt(c log n / n_a), n = 4 counts, discounted by 0.5 first
    bonus = lambda n: 2 * math.sqrt(0.6 * math.log(2.0) / n)  # noqa: E731
    scores = [0.5 + bonus(1.0), 0.75 + bonus(0.5), 0.1 + bonus(0.5)]
    pick = kernels.choose_discounted_ucb(np.array([0.5, 0.6]), counts, sums, means, np.zeros((1, 4)), s, 0, 0, 9)
    assert pick == int(np.argmax(scores))
    # a window of 2 observations: the third pushes out the first
    counts, sums, means = np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2))
    ring = np.zeros((1, 2 + 3 + 4))
    for arm, reward in ((0, 1.0), (1, 0.5), (1, 0.25)):
        kernels.learn_sliding_window(np.array([2.0, 0.6]), counts, sums, means, ring, s, 0, arm, reward)
    assert counts.tolist() == [[0.0, 2.0]] and sums.tolist() == [[0.0, 0.75]] and means.tolist() == [[0.0, 0.375]]
    assert ring[0, 4:].tolist() == [1.0, 2.0, 2.0, 0.25, 0.5]  # the cursor, the slots' arms + 1, their rewards
    assert kernels.choose_sliding_window_ucb(np.array([2.0, 0.6]), counts, sums, means, ring, s, 0, 3, 9) == 0
    # Q-PAQ: rewards wait in their arm's queue, oldest first, and are handed to UCB1 when it asks for the arm
    K = 2
    counts, sums, means = np.array([[1000.0, 1.0]]), np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]])
    queues = np.concatenate([np.zeros(K + 2), wrappers.queue_region(K, 3)])[None, :]
    choose_queued, learn_queued = (arms.kernel(f"queue_{part}<choose_ucb1|learn_counts>")
                                   for part in ("choose", "learn"))
    for reward in (0.0, 1.0, 0.5, 0.25):  # the fourth finds the 3 slots taken: learnt at once
        learn_queued(np.array([2.0]), counts, sums, means, queues, s, 0, 1, reward)
    assert counts.tolist() == [[1000.0, 2.0]] and sums.tolist() == [[0.0, 1.25]]
    arm = choose_queued(np.array([2.0]), counts, sums, means, queues, s, 0, 0, 9)
    assert arm == 1 and counts.tolist() == [[1000.0, 5.0]] and sums.tolist() == [[0.0, 2.75]]  # three handed over
    assert queues[0, K + 2:3 * K + 4].tolist() == [0.0, 0.0, 0.0, 0.0, 3.0, 3.0]  # empty; slot 3 freed last
    # EXP3-IX: an arm by its weight; its probability is the note; the loss (1 - r) / (p + gamma) times eta
    weights = np.zeros((1, 2 * K + 4 + 1))  # as the policy makes it: log weights, then one block's running sum
    weights[0, K + 4:2 * K + 4] = [0.0, math.log(3.0)]
    ref = Stream(s[0])
    expected = 0 if ref.uniform() * 4.0 < 1.0 else 1
    arm = kernels.choose_exp3_ix(np.array([0.5, 0.1]), counts, sums, means, weights, s, 0, 0, 100)
    assert arm == expected and weights[0, K + 1] == pytest.approx([0.25, 0.75][arm])
    assert weights[0, K + 2:K + 4].tolist() == [0.5, 0.1]
    kernels.learn_exp3_ix(np.array([0.5, 0.1]), counts, sums, means, weights, s, 0, arm, 0.2)
    assert weights[0, K + 4 + arm] == pytest.approx([0.0, math.log(3.0)][arm] - 0.5 * 0.8 / ([0.25, 0.75][arm] + 0.1))
    tuned = np.zeros((1, 2 * K + 4 + 1))
    kernels.choose_exp3_ix(np.array([0.0, 0.0]), counts, sums, means, tuned, s, 0, 0, 100)
    eta = math.sqrt(2 * math.log(2) / (2 * 100))
    assert tuned[0, K + 2:K + 4].tolist() == pytest.approx([eta, eta / 2], rel=1e-12)


def test_top_two_thompson_by_replaying_its_draws() -> None:
    # Russo (2016): with probability beta the posterior sample's best arm, else the best of a fresh sample that
    # differs (here up to 4 fresh samples, then the best but the leader of the last one); Beta(1 + s, 1 + f)
    from banditmap.sim.kernels import policies as kernels
    counts = np.array([[10.0, 10, 10], [50, 2, 2], [8, 8, 0]])
    sums = np.array([[9.0, 5, 1], [49, 0, 0], [8, 4, 0]])
    s = states(3)
    replays = [Stream(x) for x in s]
    for _ in range(30):
        expected = []
        for r, ref in enumerate(replays):
            def sample(ref: Stream = ref, r: int = r) -> np.ndarray:
                return np.array([ref.beta(1 + sums[r, k], 1 + counts[r, k] - sums[r, k]) for k in range(3)])
            leader = int(np.argmax(sample()))
            if ref.uniform() < 0.3:
                expected.append(leader)
                continue
            for _ in range(4):
                draw = sample()
                if int(np.argmax(draw)) != leader:
                    expected.append(int(np.argmax(draw)))
                    break
            else:
                draw[leader] = -np.inf
                expected.append(int(np.argmax(draw)))
        chosen = [kernels.choose_top_two_ts(np.array([0.3, 4.0]), counts, sums, counts * 0, np.zeros((3, 4)), s, r,
                                            0, 100) for r in range(3)]
        assert chosen == expected


def test_a_reward_counts_as_a_success_with_its_probability() -> None:
    s = states(2)
    ref = Stream(s[1])
    counts, sums, means = np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2))
    successes = 0.0
    for reward in (0.3, 0.7, 0.5, 0.1, 0.9, 1.5, -0.5):
        successes += 1.0 if ref.uniform() < min(max(reward, 0.0), 1.0) else 0.0
        arms.learn_bernoulli_trial(np.zeros(2), counts, sums, means, np.zeros((2, 3)), s, 1, 1, reward)
        assert sums[1, 1] == successes and means[1, 1] == successes / counts[1, 1]
    assert counts[1].tolist() == [0, 7] and 0 < successes < 7 and int(s[1]) == ref.state


# --- the race ----------------------------------------------------------------------------------------------------

def race(choose_name: str, learn_name: str, params: list[float], R: int, K: int, T: int, reward: int,
         safety: bool, feedback: int = arms.IMMEDIATE, dynamics: int = arms.STATIONARY,
         points: Any = None, censoring: int = 0) -> tuple[np.ndarray, ...]:
    points = np.arange(1, T + 1) if points is None else np.asarray(points)
    out = (np.zeros((R, len(points))), np.zeros(R), np.zeros(R), np.zeros(R), np.zeros(R))
    counts, sums, means, scratch, mu = (np.full((R, K), np.nan), np.full((R, K), np.nan), np.full((R, K), np.nan),
                                        np.full((R, K + 1), np.nan), np.full((R, K), np.nan))
    arms.make_race(choose_name, learn_name)(np.array(params, float), states(R, 1), states(R, 2), states(R, 3), K,
                                             np.zeros(K + 1), T, reward, dynamics, feedback, 2.0, 2, censoring,
                                             safety, 0.1,
                                             points.astype(np.int64), *out, counts, sums, means, scratch, mu)
    # the statistics after the last round: every observation learnt (all of them when feedback is immediate)
    assert (counts.sum(axis=1) == T).all() if feedback == arms.IMMEDIATE else (counts.sum(axis=1) <= T).all()
    np.testing.assert_allclose(means, np.where(counts > 0, sums / np.maximum(counts, 1), 0.0))
    assert np.isfinite(scratch).all() and np.isfinite(mu).all()
    return out


def test_a_3_round_race_by_hand() -> None:
    """Greedy play (epsilon 0) on 3 continuous arms with the safety constraint, 3 rounds: the instance, the choices
    (the untried arms first, ties at random, then the best mean), the rewards, and the accounting (regret, the
    last 10% of rounds, rounds on a best arm, rounds whose running reward is under 0.9 of the default arm's)."""
    R, K, T = 8, 3, 3
    curve, final, tail, optimal, below = race("choose_epsilon_greedy", "learn_counts", [0.0], R, K, T,
                                              arms.CONTINUOUS, True)
    for r in range(R):
        env, draws = Stream(states(R, 1)[r]), Stream(states(R, 3)[r])
        mu = [0.2 + 0.6 * env.uniform() for _ in range(K)]
        middle = int(np.argsort(mu)[1])  # int(0.7 * (K - 1)) = 1: the median arm becomes the default arm 0
        mu[0], mu[middle] = mu[middle], mu[0]
        counts, sums = [0] * K, [0.0] * K
        regret = earned = baseline = 0.0
        want_curve, on_best, under = [], 0, 0
        for t in range(T):
            draws.uniform()  # epsilon's draw
            scores = [math.inf if n == 0 else w / n for n, w in zip(counts, sums)]
            arm, ties = 0, 1
            for k in range(1, K):  # reservoir ties, as by hand above
                if scores[k] > scores[arm]:
                    arm, ties = k, 1
                elif scores[k] == scores[arm]:
                    ties += 1
                    if draws.uniform() * ties < 1:
                        arm = k
            regret += max(mu) - mu[arm]
            on_best += mu[arm] == max(mu)
            earned, baseline = earned + mu[arm], baseline + mu[0]
            under += earned < 0.9 * baseline
            counts[arm] += 1
            sums[arm] += mu[arm] + 0.1 * env.normal()
            want_curve.append(regret)
        assert curve[r].tolist() == pytest.approx(want_curve, rel=1e-12)
        assert final[r] == pytest.approx(regret, rel=1e-12) and optimal[r] == on_best / T
        assert tail[r] == pytest.approx(mu[arm], rel=1e-12)  # the last 10% of 3 rounds: the last round
        assert below[r] == under / T
    assert 0 < optimal.min() < 1 and below.max() > 0  # the run reaches both branches of each count


def test_a_censored_race_reports_conversions_only_or_each_play_within_its_window() -> None:
    """The compiled race on delayed binary rewards where conversions may never come (arms.censor): a policy taking
    conversions as they come learns only successes; one with an attribution window of W rounds hears of every
    play whose window closed before the last round, and of no play twice."""
    R, K, T, W = 6, 4, 300, 12
    counts, sums, means, scratch, mu = (np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K + 1)),
                                        np.zeros((R, K)))
    out = (np.zeros((R, 1)), np.zeros(R), np.zeros(R), np.zeros(R), np.zeros(R))
    for censoring in (-1, W):
        arms.make_race("choose_uniform", "learn_counts")(
            np.zeros(0), states(R, 1), states(R, 2), states(R, 3), K, np.zeros(K + 1), T, arms.BINARY,
            arms.STATIONARY, arms.DELAYED, 4.0, 1, censoring, False, 0.1, np.array([T]), *out, counts, sums, means,
            scratch, mu)
        heard = counts.sum(axis=1)
        if censoring < 0:
            assert (sums == counts).all() and (heard > 0).all() and (heard < T / 2).all()  # conversions, a few %
        else:
            assert ((T - W <= heard) & (heard <= T)).all() and (sums < counts).all()


def test_tail_and_curve_points_of_a_longer_race() -> None:
    """T = 25: the tail is the last 2 rounds (T // 10); the curve is kept at the given points only."""
    full = race("choose_uniform", "learn_counts", [], 2, 4, 25, arms.BINARY, False)
    some = race("choose_uniform", "learn_counts", [], 2, 4, 25, arms.BINARY, False, points=[1, 10, 25])
    assert some[0].tolist() == full[0][:, [0, 9, 24]].tolist() and some[1].tolist() == full[1].tolist()
    early = race("choose_uniform", "learn_counts", [], 2, 4, 25, arms.BINARY, False, points=[1, 10])
    assert early[0].tolist() == full[0][:, [0, 9]].tolist() and early[1].tolist() == full[1].tolist()
    assert full[1].tolist() == full[0][:, -1].tolist() and full[4].tolist() == [0.0, 0.0]
    for r in range(2):
        env, draws = Stream(states(2, 1)[r]), Stream(states(2, 3)[r])
        mu = [1 / (1 + math.exp(2 - 0.6 * env.normal())) for _ in range(4)]
        values = []
        for _ in range(25):
            values.append(mu[draws.below(4)])
            env.uniform()  # the reward's draw
        assert full[2][r] == pytest.approx(sum(values[-2:]) / 2, rel=1e-12)
        assert full[3][r] == sum(v == max(mu) for v in values) / 25


@pytest.mark.parametrize("setting", ["delayed", "batched", "drifting", "abrupt", "adversarial"])
def test_the_race_gives_the_step_by_step_loops_numbers(setting: str) -> None:
    answers: dict[str, Any] = {"n_actions": 3, "reward_type": "continuous"}
    answers.update({"delayed": {"feedback_delay": "delayed"}, "batched": {"feedback_delay": "batched"},
                    "drifting": {"environment": "drifting"}, "abrupt": {"environment": "abrupt"},
                    "adversarial": {"environment": "adversarial", "constraints": "safety"}}[setting])
    problem = problem_from_answers(answers, rounds=120, reps=2)
    # delays of 6 rounds on average, batches of 25 rounds: up to 25 observations wait at once (the queue grows)
    problem = dataclasses.replace(problem, mean_delay=6, batch_size=25)
    if setting == "drifting":
        problem = dataclasses.replace(problem, reward="binary")
    for policy in ("epsilon-greedy", "kl-ucb", "moss", "thompson-beta"):
        spec = RunSpec(policy, policy, build(policy, {"epsilon": 0.0} if policy == "epsilon-greedy" else {}, policy))
        assert compiled.covers(spec.policy, problem)
        fast = run(spec, problem, 4)
        slow = run(spec, problem, 4, environment=lambda p, g: make_environment(p, g))
        assert fast.rounds == slow.rounds and 0 <= fast.seconds < 60
        for name in ("regret", "final_regret", "last_reward", "optimal", "below_baseline"):
            a, b = getattr(fast, name), getattr(slow, name)
            assert (a is None and b is None) or np.array_equal(a, b), (policy, name)
        assert (fast.below_baseline is not None) == (setting == "adversarial")
    if setting == "batched":  # batches of one round: each observation arrives before the next decision
        problem = dataclasses.replace(problem, batch_size=1)
        spec = RunSpec("ucb1", "ucb1", build("ucb1", {}, "ucb1"))
        assert run(spec, problem, 4).final_regret.tolist() == run(spec, dataclasses.replace(
            problem, delay="immediate"), 4).final_regret.tolist()


def test_the_step_by_step_kernels_choose_and_learn_for_every_repetition() -> None:
    step_choose, step_learn = arms.make_steps("choose_ucb1", "learn_counts")
    counts, sums = np.array([[1.0, 3, 0], [2, 2, 2]]), np.array([[1.0, 1, 0], [0, 2, 1]])
    means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    actions = step_choose(np.array([2.0]), counts, sums, means, np.zeros((2, 4)), states(2), 0, 10)
    assert actions.dtype == np.int64 and actions.tolist() == [2, ucb1([2, 2, 2], [0, 2, 1], 2.0)]
    step_learn(np.zeros(1), counts, sums, means, np.zeros((2, 4)), states(2), np.array([1, 0, 1]), np.array([0, 2, 0]),
               np.array([1.0, 0.5, 0.0]), np.empty(0))
    assert counts.tolist() == [[1, 3, 1], [4, 2, 2]] and sums.tolist() == [[1, 1, 0.5], [1, 2, 1]]


def test_which_races_run_compiled() -> None:
    from banditmap.sim.adapters import build_wrapper
    arms_problem = problem_from_answers({"n_actions": 4}, rounds=50, reps=2)
    safety = problem_from_answers({"n_actions": 4, "constraints": "safety"}, rounds=50, reps=2)
    budget = problem_from_answers({"n_actions": 4, "constraints": "budget"}, rounds=50, reps=2)
    best_arm = problem_from_answers({"n_actions": 4, "objective": "best_arm"}, rounds=50, reps=2)
    contextual = problem_from_answers({"n_actions": 4, "context": "linear", "n_features": 3}, rounds=50, reps=2)
    nonlinear = problem_from_answers({"n_actions": 4, "context": "nonlinear", "n_features": 3}, rounds=50, reps=2)
    linucb = build("linucb", {}, "x")
    assert compiled.covers(linucb, contextual) and compiled.covers(linucb, nonlinear)
    for policy in ("lin-ts", "eps-greedy-oracle", "logistic-ts"):
        assert compiled.covers(build(policy, {}, "x"), nonlinear)
    assert not compiled.covers(linucb, arms_problem)
    assert compiled.covers(build("ucb1", {}, "x"), contextual)  # counting policies play without the contexts
    assert not compiled.covers(build("conservative-ucb", {}, "x"), contextual)
    assert not compiled.covers(build_wrapper("sliding-window", linucb, {}, "x"), contextual)
    ucb = build("ucb1", {}, "x")
    assert compiled.covers(ucb, arms_problem) and compiled.covers(ucb, safety)
    assert compiled.covers(ucb, budget) and compiled.covers(ucb, best_arm)  # plain kernels race the budget world
    assert compiled.covers(build("uniform-random", {}, "x"), contextual)  # a counting policy ignores contexts
    assert not compiled.covers(build("conservative-ucb", {}, "x"), arms_problem)
    window = build_wrapper("sliding-window", ucb, {}, "x")
    assert compiled.covers(window, arms_problem) and compiled.covers(build_wrapper("delay-queue", window, {}, "x"),
                                                                     arms_problem)
    assert not compiled.covers(build_wrapper("conservative", ucb, {}, "x"), safety)
    assert not compiled.covers(build_wrapper("delay-queue", build("conservative-ucb", {}, "x"), {}, "x"), arms_problem)
    assert compiled.covers(build_wrapper("best-arm-from-counts", window, {}, "x"), best_arm)
    no_kernels = build_wrapper("best-arm-from-counts", build("conservative-ucb", {}, "x"), {}, "x")
    assert not compiled.covers(no_kernels, best_arm)


@pytest.mark.parametrize("chain", [("ucb1",), ("top-two-ts",), ("exp3",), ("kl-ucb", "best-arm-from-counts"),
                                   ("thompson-beta", "discounting", "delay-queue", "best-arm-from-counts")])
def test_a_compiled_best_arm_race_names_the_arm_the_policy_would(chain: tuple[str, ...]) -> None:
    """On a best-arm problem the compiled race leaves the policy's statistics as they are after the last round,
    and the policy's own `recommend` names its arm from them: the same decisions, statistics and named arms as
    the step-by-step loop (whose ties in the naming are broken by another stream)."""
    from banditmap.sim.adapters import build_wrapper
    problem = problem_from_answers({"n_actions": 5, "objective": "best_arm"}, rounds=400, reps=6)
    policy = build(chain[0], {}, "x")
    for adapter in chain[1:]:
        policy = build_wrapper(adapter, policy, {}, "x")
    spec = RunSpec("+".join(chain), "best arm", policy)
    assert compiled.covers(policy, problem)
    fast = run(spec, problem, 2)
    slow = run(spec, problem, 2, environment=lambda p, g: make_environment(p, g))
    np.testing.assert_array_equal(fast.regret, slow.regret)
    assert fast.identified is not None and slow.identified is not None and fast.simple_regret is not None
    assert fast.identified.tolist() == slow.identified.tolist()
    assert fast.simple_regret.tolist() == pytest.approx(np.asarray(slow.simple_regret).tolist())


@pytest.mark.parametrize("chain,answers", [  # each template nested in another (a chain compiles one race each)
    (("thompson-beta", "discounting", "delay-queue"), {"feedback_delay": "delayed", "environment": "abrupt"}),
    (("exp3-ix", "delay-queue"), {"feedback_delay": "delayed"}),  # its note (a probability) passes through
    (("epsilon-greedy", "sliding-window", "delay-queue"), {"feedback_delay": "batched", "environment": "abrupt"}),
    (("ucb1", "robust-mean"), {"reward_type": "heavy_tailed"}),  # its index's ties: the base's streams
    (("uniform-random", "sliding-window", "robust-mean"), {"reward_type": "heavy_tailed", "environment": "abrupt"}),
])
def test_a_compiled_composition_gives_the_step_by_step_loops_numbers(chain: tuple[str, ...],
                                                                     answers: dict[str, str]) -> None:
    """The adapters' kernels (sim/kernels/wrappers.py) around a base's kernels make the same decisions as the
    Python wrappers around the same base in the step-by-step loop, nested too, with notes (EXP3-IX's
    probability) travelling through them; truncated means break their index's ties with the innermost base's
    streams, as their template does."""
    from banditmap.sim.adapters import build_wrapper
    problem = problem_from_answers({"n_actions": 4, **answers}, rounds=300, reps=3)
    policy = build(chain[0], {}, "x")
    for adapter in chain[1:]:
        policy = build_wrapper(adapter, policy, {"window": 40} if adapter == "sliding-window" else {}, "x")
    spec = RunSpec("+".join(chain), "composition", policy)
    assert compiled.covers(policy, problem)
    fast = run(spec, problem, 3)
    slow = run(spec, problem, 3, environment=lambda p, g: make_environment(p, g))
    np.testing.assert_allclose(fast.regret, slow.regret, rtol=1e-9, atol=1e-9)
    assert fast.final_regret.tolist() == pytest.approx(slow.final_regret.tolist())


@pytest.mark.parametrize("policy,params", [("linucb", {"l2": 2.0}), ("lin-ts", {})])
def test_the_linear_race_gives_the_step_by_step_loops_numbers(policy: str, params: dict[str, float]) -> None:
    """The linear contextual world's compiled race takes the features and the ridge's l2 (2 here, not the
    default) after K, and learns by the ridge."""
    problem = problem_from_answers({"n_actions": 3, "context": "linear", "n_features": 2}, rounds=40, reps=2)
    spec = RunSpec(policy, policy, build(policy, params, policy))
    assert compiled.covers(spec.policy, problem)
    fast = run(spec, problem, 5)
    slow = run(spec, problem, 5, environment=lambda p, g: make_environment(p, g))
    assert fast.rounds == slow.rounds and 0 <= fast.seconds < 60 and fast.below_baseline is None
    for name in ("regret", "final_regret", "last_reward", "optimal"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), (policy, name)


def test_by_repetitions_runs_each_repetition_once_in_contiguous_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """One block per thread (numba's count), contiguous, covering every repetition once; one call when a thread
    is all there is."""
    seen: list[slice] = []
    monkeypatch.setattr(compiled, "threads", lambda: 3)
    compiled.by_repetitions(seen.append, 7)
    assert sorted((s.start, s.stop) for s in seen) == [(0, 2), (2, 4), (4, 7)]
    seen.clear()
    monkeypatch.setattr(compiled, "threads", lambda: 8)  # more threads than repetitions: one each
    compiled.by_repetitions(seen.append, 3)
    assert sorted((s.start, s.stop) for s in seen) == [(0, 1), (1, 2), (2, 3)]
    seen.clear()
    monkeypatch.setattr(compiled, "threads", lambda: 1)
    callers: list[threading.Thread] = []
    compiled.by_repetitions(lambda rows: (seen.append(rows), callers.append(threading.current_thread())), 7)
    assert seen == [slice(0, 7)] and callers == [threading.current_thread()]  # one block: no pool
    monkeypatch.setattr(compiled, "threads", lambda: 2)
    seen.clear()
    callers.clear()
    compiled.by_repetitions(lambda rows: (seen.append(rows), callers.append(threading.current_thread())), 5)
    assert sorted((s.start, s.stop) for s in seen) == [(0, 2), (2, 5)]
    assert threading.current_thread() not in callers  # blocks run in the pool's threads
    monkeypatch.undo()
    import numba
    assert compiled.threads() == numba.get_num_threads() >= 1
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)  # one numba thread: one block
    assert compiled.threads() == 1
    monkeypatch.setattr(numba, "get_num_threads", lambda: 0)
    assert compiled.threads() == 1
