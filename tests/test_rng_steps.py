"""The samplers on a stream's state held in a local (rng.*_step) and the Thompson sampling choice built on them:
the same draws as the samplers on states[r], the Gamma squeeze a valid bound (so the draws are Marsaglia &
Tsang's), and choose_thompson_beta the argmax of the Beta draws it made before, drawn in the same order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banditmap.sim.kernels import arms, rng


def marsaglia_tsang(states: np.ndarray, d: float, c: float) -> float:
    """Their Gamma(d + 1/3) draw as published, with their squeeze 1 - 0.0331 x^4, in plain Python."""
    while True:
        x, u = rng.normal_and_uniform(states, 0)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        if u < 1.0 - 0.0331 * x * x * x * x or math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v


@pytest.mark.parametrize("shape", [1.0, 1.7, 4.0, 30.0, 2500.0])
def test_gamma_draws_are_those_of_marsaglia_and_tsangs_published_test(shape):
    """The tighter squeeze only shortcuts the exact test: the same values from the same words, state for state."""
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    ours, theirs = rng.stream_seeds(5, 1, 1), rng.stream_seeds(5, 1, 1)
    for _ in range(20_000):
        assert rng.gamma_from(ours, 0, d, c) == marsaglia_tsang(theirs, d, c)
        assert ours[0] == theirs[0]


def test_the_squeeze_is_below_the_acceptance_probability():
    """1 - c^2 x^4 / (12 min(1, 1 + c x)) <= exp(x^2 / 2 + d (1 - v + log v)) for shapes from 1 (d = 2/3) to 1e6
    and every x with 1 + c x > 0, on a grid dense near x = -1/c where the bound's factor min(1, 1 + c x) acts."""
    for d in [2.0 / 3.0, 0.8, 1.5, 5.0, 40.0, 1e3, 1e6]:
        c = 1.0 / math.sqrt(9.0 * d)
        z = np.r_[-1.0 + np.geomspace(1e-6, 1.0, 2000), np.linspace(0.0, 6.0, 4000)[1:]]
        x = z / c
        v = (1.0 + z) ** 3
        h = 0.5 * x * x + d * (1.0 - v + np.log(v))
        squeeze = 1.0 - c * c * x**4 / (12.0 * np.minimum(1.0, 1.0 + z))
        assert (squeeze <= np.exp(h) * (1.0 + 1e-12)).all()


@pytest.mark.parametrize("d,share", [(1.0, 0.0445), (10.0, 0.0031)])
def test_the_squeeze_leaves_few_draws_to_the_logarithms(d, share):
    """The share of draws it sends to the logarithms (measured on 2e6 NumPy normals; about 1 / (36 d) for large d,
    against about 8% for 1 - 0.0331 x^4 whatever d), within 4 standard errors of 1e5 draws."""
    states = rng.stream_seeds(2, 1, 1)
    n = 100_000
    c = 1.0 / math.sqrt(9.0 * d)
    failed = 0
    for _ in range(n):
        x, u = rng.normal_and_uniform(states, 0)
        failed += (1.0 - u) * min(1.0 + c * x, 1.0) * 12.0 <= (c * x * x) ** 2
    assert abs(failed / n - share) < 4 * math.sqrt(share * (1 - share) / n)


def test_the_step_samplers_draw_what_the_samplers_on_states_draw():
    states = rng.stream_seeds(9, 4, 2)
    state = states[1]
    for _ in range(2000):
        value, state = rng.uniform_step(np.uint64(state))  # a state comes back to Python as an int
        assert value == rng.uniform(states, 1)
        x, u, state = rng.normal_and_uniform_step(np.uint64(state))
        assert (x, u) == rng.normal_and_uniform(states, 1)
        value, state = rng.beta_step(np.uint64(state), 0.4, 3.0)
        assert value == rng.beta(states, 1, 0.4, 3.0)
        value, state = rng.beta_step(np.uint64(state), 2.5, 7.0)  # both constants made first: the same draw
        x = rng.gamma(states, 1, 2.5)
        assert value == x / (x + rng.gamma(states, 1, 7.0))
        assert state == states[1]


def test_kept_constants_give_the_beta_draws_made_without_them():
    """kept_beta_parts_step makes each Gamma's c = 1 / sqrt(9 d) once (kept[r, i] stale: 0 or less) and draws with
    it afterwards: the same X, X + Y and state as beta_parts_step, whose constants are made at every draw, for
    shapes at 1 and above, with fresh and with kept constants."""
    kept = np.zeros((2, 6))
    state = theirs = np.uint64(rng.stream_seeds(4, 2, 2)[1])
    for a, b in [(1.0, 1.0), (1.0, 4.5), (2.25, 1.0), (7.0, 30.0), (130.5, 2.0)]:
        kept[1, 2] = kept[1, 5] = 0.0  # stale: made at the first draw, then kept
        for _ in range(300):
            x, total, state = rng.kept_beta_parts_step(np.uint64(state), a, b, kept, 1, 2, 5)
            y, whole, theirs = rng.beta_parts_step(np.uint64(theirs), a, b)
            assert (x, total, state) == (y, whole, theirs)
        made = (1.0 / math.sqrt(9.0 * (a - 1.0 / 3.0)), 1.0 / math.sqrt(9.0 * (b - 1.0 / 3.0)))
        assert (kept[1, 2], kept[1, 5]) == made
        assert kept[0].tolist() == [0.0] * 6 and kept[1, [0, 1, 3, 4]].tolist() == [0.0] * 4


def test_ties_are_broken_as_consider_breaks_them():
    """consider_step picks the arm and draws the uniforms consider does, with many ties among scores 0..3."""
    scores = np.random.default_rng(3).integers(0, 4, (3000, 6)).astype(float)
    scores[:5, :] = 2.0  # all tied
    scores[5:10, :] = -np.inf
    states = rng.stream_seeds(4, 2, 1)
    state = states[0]
    for row in scores:
        best, pick, ties = -np.inf, -1, 0
        best_s, pick_s, ties_s = -np.inf, -1, 0
        for k, score in enumerate(row):
            best, pick, ties = arms.consider(score, k, best, pick, ties, states, 0)
            best_s, pick_s, ties_s, state = arms.consider_step(score, k, best_s, pick_s, ties_s, np.uint64(state))
            assert (best, pick, ties) == (best_s, pick_s, ties_s)
        assert state == states[0]


def reference_choice(params, counts, sums, scratch, draws, r):  # type: ignore[no-untyped-def]
    """Thompson sampling's choice as it was written on states[r]: kept-constant Beta draws where both shapes are at
    least 1, else plain ones, arm by arm, each followed by its step of the argmax."""
    K = counts.shape[1]
    best, pick, ties = -np.inf, -1, 0
    for k in range(K):
        a, b = params[0] + sums[r, k], params[1] + counts[r, k] - sums[r, k]
        if a >= 1.0 and b >= 1.0:
            score = rng.kept_beta(draws, r, a, b, scratch, k, K + 2 + k)
        else:
            score = rng.beta(draws, r, a, b)
        best, pick, ties = arms.consider(score, k, best, pick, ties, draws, r)
    return pick


@pytest.mark.parametrize("prior", [(1.0, 1.0), (0.5, 2.0)])
def test_thompson_sampling_chooses_as_it_did_on_states(prior):
    """Picks, the streams' states after each choice and the kept constants equal those of the reference, over
    random posteriors (a few arms never played, some with stale constants)."""
    local = np.random.default_rng(8)
    R, K = 6, 7
    params = np.array(prior)
    counts = np.floor(local.exponential(30.0, (R, K)))
    sums = np.floor(counts * local.uniform(0, 1, (R, K)))
    ours, theirs = rng.stream_seeds(3, 2, R), rng.stream_seeds(3, 2, R)
    kept_ours, kept_theirs = np.zeros((R, 2 * K + 2)), np.zeros((R, 2 * K + 2))
    for t in range(300):
        r = t % R
        pick = arms.choose_thompson_beta(params, counts, sums, sums, kept_ours, ours, r, t, 300)
        assert pick == reference_choice(params, counts, sums, kept_theirs, theirs, r)
        assert (ours == theirs).all() and (kept_ours == kept_theirs).all()
        counts[r, pick] += 1.0  # the played arm's constants go stale, as learn_thompson_beta marks them
        kept_ours[r, pick] = kept_theirs[r, pick] = -1.0


def test_gaussian_thompson_sampling_chooses_as_it_did_on_states():
    """Its choice and stream equal those of the argmax of rng.normal draws on states[r], arm by arm."""
    local = np.random.default_rng(6)
    R, K = 4, 5
    params = np.array([0.5, 2.0, 0.25])
    counts = np.floor(local.exponential(10.0, (R, K)))
    sums = counts * local.uniform(0, 1, (R, K))
    ours, theirs = rng.stream_seeds(7, 2, R), rng.stream_seeds(7, 2, R)
    for t in range(200):
        r = t % R
        best, pick, ties = -np.inf, -1, 0
        for k in range(K):
            precision = 1.0 / params[1] + counts[r, k] / params[2]
            centre = (params[0] / params[1] + sums[r, k] / params[2]) / precision
            score = centre + rng.normal(theirs, r) / math.sqrt(precision)
            best, pick, ties = arms.consider(score, k, best, pick, ties, theirs, r)
        assert arms.choose_thompson_gaussian(params, counts, sums, sums, sums, ours, r, t, 200) == pick
        assert (ours == theirs).all()
        counts[r, pick] += 1.0
