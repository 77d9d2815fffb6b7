"""Random streams inside kernels: one 64-bit SplitMix64 state per stream, and the samplers the race needs.

A stream is named by (seed, salt, repetition) only, so a repetition draws the same numbers whatever the number of
repetitions, threads or processes around it: `stream_seeds` gives the starting states (R,), and each sampler takes
the states array and the repetition's index, advancing that entry alone. A kernel drawing many values in a row (a
Thompson sampling choice: two Gamma draws an arm) uses the *_step forms instead, which take a state held in a local
and return it advanced with the draw: the same draws, without a store and a load of states[r] around each.
SplitMix64 is the generator of Java's SplittableRandom (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014)."""

from __future__ import annotations

import math

import numpy as np

from banditmap.sim.kernels import jit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
UNIT = 1.0 / 9007199254740992.0  # 2 ** -53


@jit
def mix(z: np.uint64) -> np.uint64:
    """SplitMix64's output function (a bijection of 64-bit words)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@jit
def stream_seeds(seed: int, salt: int, reps: int) -> np.ndarray:
    """Starting states (reps,) uint64 of the streams (seed, salt, 0), (seed, salt, 1), ..."""
    out = np.empty(reps, np.uint64)
    base = mix(mix(np.uint64(seed) + GOLDEN) ^ (np.uint64(salt) * GOLDEN))
    for r in range(reps):
        out[r] = mix(base + np.uint64(r + 1) * GOLDEN)
    return out


@jit
def uniform(states: np.ndarray, r: int) -> float:
    """A uniform draw in [0, 1) from repetition r's stream (53 random bits)."""
    states[r] += GOLDEN
    return float(mix(states[r]) >> np.uint64(11)) * UNIT


@jit
def below(states: np.ndarray, r: int, n: int) -> int:
    """A uniform integer in 0..n-1."""
    return min(int(uniform(states, r) * n), n - 1)


def _ziggurat_tables(layers: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marsaglia & Tsang's tables for the normal's ziggurat ("The Ziggurat Method for Generating Random
    Variables", J. Stat. Software 5(8), 2000, with their constants for 128 layers): for layer i, the bound k[i]
    under which a 32-bit draw is accepted at once, its scale w[i] and the density f[i] at the layer's edge."""
    m1 = 2147483648.0
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    k, w, f = np.zeros(layers, np.int64), np.zeros(layers), np.zeros(layers)
    q = vn / math.exp(-0.5 * dn * dn)
    k[0], k[1] = int(dn / q * m1), 0
    w[0], w[layers - 1] = q / m1, dn / m1
    f[0], f[layers - 1] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(layers - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = int(dn / tn * m1)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / m1
    return k, w, f


ZIG_K, ZIG_W, ZIG_F = _ziggurat_tables()
ZIG_R = 3.442619855899  # where the tail begins


@jit
def bits(states: np.ndarray, r: int) -> np.uint64:
    states[r] += GOLDEN
    return mix(states[r])


SPARE = 1.0 / 33554432.0  # 2 ** -25: the unit of the 25 bits a ziggurat word leaves unused


@jit
def uniform_step(state: np.uint64) -> tuple[float, np.uint64]:
    """`uniform` on a stream's state held in a local: the draw and the advanced state. A kernel drawing many values
    in a row loads the state once, draws with the *_step samplers and stores it back once, the same draws without
    a store and a load of states[r] around each (a dependency through memory that numba leaves in the loop)."""
    state += GOLDEN
    return float(mix(state) >> np.uint64(11)) * UNIT, state


@jit(forceinline=True)
def normal_and_uniform_step(state: np.uint64) -> tuple[float, float, np.uint64]:
    """A standard normal draw by the ziggurat (Marsaglia & Tsang 2000), the layer from the low 7 bits of a 64-bit
    word and the signed 32-bit value from its high half (so the two are independent, the flaw Doornik 2005 found
    in the original's shared bits); about 99% of draws take one word and a comparison. With it, a uniform in
    (0, 1) from bits 7 to 31 of the accepted word, which the ziggurat leaves unused, so independent of the draw
    (25 bits: enough for an acceptance test); and the advanced state (see uniform_step)."""
    while True:
        state += GOLDEN
        word = mix(state)
        layer = int(word & np.uint64(127))
        value = np.int64(np.int32(np.uint32(word >> np.uint64(32))))
        spare = (float((word >> np.uint64(7)) & np.uint64(0x1FFFFFF)) + 0.5) * SPARE
        x = float(value * ZIG_W[layer])
        if abs(value) < ZIG_K[layer]:
            return x, spare, state
        if layer == 0:  # the tail beyond ZIG_R (Marsaglia 1964)
            while True:
                u, state = uniform_step(state)
                x = -math.log(1.0 - u) / ZIG_R
                u, state = uniform_step(state)
                y = -math.log(1.0 - u)
                if y + y >= x * x:
                    break
            return (ZIG_R + x if value > 0 else -ZIG_R - x), spare, state
        u, state = uniform_step(state)
        if ZIG_F[layer] + u * (ZIG_F[layer - 1] - ZIG_F[layer]) < math.exp(-0.5 * x * x):
            return x, spare, state


@jit
def normal_and_uniform(states: np.ndarray, r: int) -> tuple[float, float]:
    """normal_and_uniform_step on repetition r's stream."""
    x, u, state = normal_and_uniform_step(states[r])
    states[r] = state
    return x, u


@jit
def normal(states: np.ndarray, r: int) -> float:
    """A standard normal draw by the ziggurat (see normal_and_uniform_step)."""
    return normal_and_uniform(states, r)[0]


@jit(forceinline=True)
def gamma_from_step(state: np.uint64, d: float, c: float) -> tuple[float, np.uint64]:
    """A Gamma(d + 1/3, 1) draw (shape at least 1) by Marsaglia & Tsang's method ("A simple method for generating
    gamma variables", ACM TOMS 26(3), 2000) given their d and c = 1 / sqrt(9 d), which a caller drawing often
    from the same shape may keep; and the advanced state. The acceptance test's uniform comes with the normal draw
    from the same word (normal_and_uniform_step), so a draw usually takes one 64-bit word.
    Their test accepts x when log u < h = x^2 / 2 + d (1 - v + log v), v = (1 + z)^3, z = c x. Before its two
    logarithms comes a squeeze tighter than their 1 - 0.0331 x^4 (which sends about 8% of draws to the logarithms
    whatever d): h = 3 d R(z), R(z) = log(1 + z) - z + z^2 / 2 - z^3 / 3 = -integral_0^z t^3 / (1 + t) dt >=
    -z^4 / (4 min(1, 1 + z)), so exp(h) >= 1 + h >= 1 - c^2 x^4 / (12 min(1, 1 + z)) (using 9 d c^2 = 1), and
    u below that bound is accepted at once. Any valid squeeze accepts exactly the draws the test accepts, so the
    draws are theirs; this one leaves 4.5% of them to the logarithms at d = 1, about 1 / (36 d) for large d."""
    while True:
        x, u, state = normal_and_uniform_step(state)
        w = 1.0 + c * x
        if w <= 0.0:
            continue
        v = w * w * w
        q = c * x * x
        if (1.0 - u) * min(w, 1.0) * 12.0 > q * q or math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v, state


@jit
def gamma_from(states: np.ndarray, r: int, d: float, c: float) -> float:
    """gamma_from_step on repetition r's stream."""
    value, state = gamma_from_step(states[r], d, c)
    states[r] = state
    return value


@jit(forceinline=True)
def gamma_step(state: np.uint64, shape: float) -> tuple[float, np.uint64]:
    """A Gamma(shape, 1) draw (gamma_from_step), with Marsaglia & Tsang's boost U^(1/a) for shapes below 1; and
    the advanced state."""
    boost = 1.0
    if shape < 1.0:
        u, state = uniform_step(state)
        boost = (1.0 - u) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    value, state = gamma_from_step(state, d, 1.0 / math.sqrt(9.0 * d))
    return value * boost, state


@jit
def gamma(states: np.ndarray, r: int, shape: float) -> float:
    """A Gamma(shape, 1) draw (gamma_step) from repetition r's stream."""
    value, state = gamma_step(states[r], shape)
    states[r] = state
    return value


@jit(forceinline=True)
def kept_beta_parts_step(state: np.uint64, a: float, b: float, kept: np.ndarray, r: int, i: int,
                         j: int) -> tuple[float, float, np.uint64]:
    """A Beta(a, b) draw, a and b at least 1, as X and X + Y of two Gamma draws whose constants c = 1 / sqrt(9 d)
    are kept in kept[r, i] and kept[r, j] (made here when kept[r, i] is 0 or less: stale), so a sampler drawing
    from the same shapes round after round skips a square root and a division per Gamma; and the advanced state.
    The draw is X / (X + Y) (kept_beta_step), a division a caller may skip (ratio_below)."""
    if kept[r, i] <= 0.0:
        kept[r, i] = 1.0 / math.sqrt(9.0 * (a - 1.0 / 3.0))
        kept[r, j] = 1.0 / math.sqrt(9.0 * (b - 1.0 / 3.0))
    x, state = gamma_from_step(state, a - 1.0 / 3.0, kept[r, i])
    y, state = gamma_from_step(state, b - 1.0 / 3.0, kept[r, j])
    return x, x + y, state


@jit(forceinline=True)
def kept_beta_step(state: np.uint64, a: float, b: float, kept: np.ndarray, r: int, i: int,
                   j: int) -> tuple[float, np.uint64]:
    """The Beta(a, b) draw X / (X + Y) of kept_beta_parts_step; and the advanced state."""
    x, total, state = kept_beta_parts_step(state, a, b, kept, r, i, j)
    return x / total, state


BELOW = 1.0 - 1e-15  # see ratio_below


@jit
def ratio_below(x: float, total: float, best: float) -> bool:
    """Whether x / total (x >= 0, total > 0: a Beta draw's parts) surely rounds below best, without the division:
    x < BELOW best total in floating point (each product within half an ulp, in the normal range) puts the exact
    quotient under best (1 - 6e-16), below the double before best, and rounding is monotone. An argmax may pass
    over such a draw (it neither wins nor ties) and save a division."""
    return x < BELOW * best * total


@jit
def kept_beta(states: np.ndarray, r: int, a: float, b: float, kept: np.ndarray, i: int, j: int) -> float:
    """kept_beta_step on repetition r's stream."""
    value, state = kept_beta_step(states[r], a, b, kept, r, i, j)
    states[r] = state
    return value


@jit(forceinline=True)
def beta_step(state: np.uint64, a: float, b: float) -> tuple[float, np.uint64]:
    """A Beta(a, b) draw as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b); and the advanced state. With both shapes at
    least 1, both Gammas' constants are made before either draw (gamma_step's values, its draws): the two square
    roots and divisions then overlap, about 8% faster."""
    x, total, state = beta_parts_step(state, a, b)
    return x / total, state


@jit(forceinline=True)
def beta_parts_step(state: np.uint64, a: float, b: float) -> tuple[float, float, np.uint64]:
    """beta_step's X and X + Y, whose quotient is its draw (a division a caller may skip: ratio_below); and the
    advanced state."""
    if a >= 1.0 and b >= 1.0:
        d, e = a - 1.0 / 3.0, b - 1.0 / 3.0
        c, f = 1.0 / math.sqrt(9.0 * d), 1.0 / math.sqrt(9.0 * e)
        x, state = gamma_from_step(state, d, c)
        y, state = gamma_from_step(state, e, f)
    else:
        x, state = gamma_step(state, a)
        y, state = gamma_step(state, b)
    return x, x + y, state


@jit
def beta(states: np.ndarray, r: int, a: float, b: float) -> float:
    """A Beta(a, b) draw (beta_step) from repetition r's stream."""
    value, state = beta_step(states[r], a, b)
    states[r] = state
    return value


@jit
def beta_rows(states: np.ndarray, reps: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Beta(a[i, j], b[i, j]) draws (N, M), row i's from repetition reps[i]'s stream."""
    out = np.empty(a.shape)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = beta(states, reps[i], a[i, j], b[i, j])
    return out


@jit
def geometric(states: np.ndarray, r: int, p: float) -> int:
    """The number of trials up to the first success, each succeeding with probability p (support 1, 2, ...)."""
    if p >= 1.0:
        return 1
    return 1 + int(math.floor(math.log(1.0 - uniform(states, r)) / math.log1p(-p)))


def states_from(generator: np.random.Generator, reps: int) -> np.ndarray:
    """Starting states (reps,) uint64 of one stream per repetition, drawn from a NumPy generator: the r-th state
    is the generator's r-th 64-bit output, so it does not depend on how many repetitions there are."""
    return generator.integers(0, 2**64 - 1, reps, dtype=np.uint64, endpoint=True)


@jit
def split(state: np.uint64, positions: np.ndarray) -> np.ndarray:
    """Streams (n,) derived from one stream's state, one per position (n,) int64: the same position always gives
    the same stream, different positions different ones (for one repetition's state handed to several
    independent decisions, as replay does with the rows of a log)."""
    out = np.empty(positions.shape[0], np.uint64)
    start = mix(state)
    for i in range(positions.shape[0]):
        out[i] = mix(start + np.uint64(positions[i] + 1) * GOLDEN)
    return out
