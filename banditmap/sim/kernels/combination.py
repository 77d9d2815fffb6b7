"""The combination world in machine code, and the K-armed race on it with each page one arm.

D components with V values each (layout, headline, image, colour); a page is one value per component. Its score is
base + the weights of the features it switches on: one main effect per component, one interaction per pair of
components, laid out as problem.active_features says (a block of V values per component, then a V x V block per
pair in problem.component_pairs' order). A page is worth sigmoid(score) on binary problems (base -2), else
0.5 + 0.2 score (base 0); the best page is found by enumerating all V ** D pages, page m spelling its values in
base V, first component first (adapters/views.py's arm numbers). Each repetition's weights are drawn from its own
world stream, main effects N(0, 0.4^2) and interactions N(0, 0.25^2), and its rewards from the same stream with
arms.draw_reward (Bernoulli, or Gaussian noise of sd 0.1), so the step-by-step loop (environments.Combination)
and the compiled race meet the same pages and draws.

Multivariate Thompson sampling (policies/combination.py) decides and learns here (`choose_mvt_ts`, `learn_mvt_ts`,
over the posterior means and variances (R, F) of the feature weights, from one policy stream per repetition) in its
own whole race (`mvt_race`) and, one round at a time, in the step-by-step loop.

The race of a K-armed policy viewed through PagesAsArms is arms.py's race with the pages as its arms: their
expected rewards (R, V ** D) are computed before it (`page_values`) and handed to it in `mu`, which a stationary
race only reads, so the K-armed race's decisions, delays and accounting serve unchanged."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, rng

MAIN, INTERACTION = 0.4, 0.25  # the standard deviations of the main effects' and the interactions' weights
NOISE = 1.0  # probit noise scale beta of multivariate Thompson sampling's Bayesian probit model
PASSES = 3  # coordinate-ascent passes over the components per hill climb


def reward_kind(reward: str) -> int:
    """The reward kind the world draws: Bernoulli clicks on binary problems, Gaussian noise on any other."""
    return arms.BINARY if reward == "binary" else arms.CONTINUOUS


@jit
def features(D: int, V: int) -> int:
    """The weights of the page model: D x V main effects and V x V interactions per pair of components."""
    return D * V + D * (D - 1) // 2 * V * V


@jit
def draw_weights(weights: np.ndarray, env: np.ndarray, r: int, D: int, V: int) -> None:
    """Repetition r's weights (F,), in feature order from the world's stream."""
    for f in range(weights.shape[1]):
        weights[r, f] = (MAIN if f < D * V else INTERACTION) * rng.normal(env, r)


@jit
def page_value(weights: np.ndarray, r: int, page: np.ndarray, V: int, reward: int) -> float:
    """What page (D,) is worth to repetition r: its score summed in feature order, as a click probability
    (binary) or 0.5 + 0.2 score."""
    D = page.shape[0]
    score = -2.0 if reward == arms.BINARY else 0.0
    for d in range(D):
        score += weights[r, d * V + page[d]]
    block = D * V
    for a in range(D):
        for b in range(a + 1, D):
            score += weights[r, block + page[a] * V + page[b]]
            block += V * V
    return 1.0 / (1.0 + math.exp(-score)) if reward == arms.BINARY else 0.5 + 0.2 * score


@jit
def spell(m: int, V: int, page: np.ndarray) -> None:
    """Page number m as its values (D,) in base V, first component first."""
    for d in range(page.shape[0] - 1, -1, -1):
        page[d] = m % V
        m //= V


@jit
def uniform_pages(draws: np.ndarray, V: int, D: int) -> np.ndarray:
    """Every repetition's page (R, D) uniformly at random: a page number below V ** D from its stream (rng.below,
    the draw of the uniform K-armed kernel with the pages as arms), spelled in base V (spell)."""
    pages = np.empty((draws.shape[0], D), np.int64)
    for r in range(draws.shape[0]):
        spell(rng.below(draws, r, V ** D), V, pages[r])
    return pages


@jit
def draw_world(weights: np.ndarray, env: np.ndarray, r: int, V: int, reward: int, best_page: np.ndarray) -> float:
    """Repetition r's weights (F,), its best page (D,) (the first of equal ones by number) and that page's worth,
    by enumeration."""
    D = best_page.shape[0]
    draw_weights(weights, env, r, D, V)
    best = -np.inf
    page = np.empty(D, np.int64)
    for m in range(V ** D):
        spell(m, V, page)
        value = page_value(weights, r, page, V, reward)
        if value > best:
            best = value
            best_page[:] = page
    return best


@jit
def draw_worlds(weights: np.ndarray, env: np.ndarray, V: int, reward: int, best_page: np.ndarray) -> np.ndarray:
    """Every repetition's weights (R, F), its best page (R, D) and that page's worth (R,) (draw_world)."""
    best = np.empty(best_page.shape[0])
    for r in range(best_page.shape[0]):
        best[r] = draw_world(weights, env, r, V, reward, best_page[r])
    return best


@jit
def page_values(weights: np.ndarray, V: int, D: int, reward: int, mu: np.ndarray) -> None:
    """Every page's worth (R, V ** D), page m in column m."""
    page = np.empty(D, np.int64)
    for r in range(mu.shape[0]):
        for m in range(mu.shape[1]):
            spell(m, V, page)
            mu[r, m] = page_value(weights, r, page, V, reward)


@jit
def world_step(weights: np.ndarray, env: np.ndarray, pages: np.ndarray, V: int, reward: int, value: np.ndarray,
               observed: np.ndarray) -> None:
    """A round for every repetition: each page's worth (value (R,)) and the reward drawn for it (observed (R,))."""
    for r in range(pages.shape[0]):
        value[r] = page_value(weights, r, pages[r], V, reward)
        observed[r] = arms.draw_reward(value[r], env, r, reward)


# --- the K-armed race with each page one arm --------------------------------------------------------------------

@jit
def pages_drawn(logits: np.ndarray, env: np.ndarray, r: int, reward: int, safety: bool) -> None:
    """The race's instance: drawn before it (draw_worlds, page_values), so nothing is drawn here."""


@jit
def best_page_value(logits: np.ndarray, mu: np.ndarray, r: int, reward: int) -> float:
    """The best of repetition r's page values mu (R, K), which are left as they are."""
    top = -np.inf
    for k in range(mu.shape[1]):
        top = max(top, mu[r, k])
    return top


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """The K-armed race (arms.race, same signature) of one policy's kernels on pages whose expected rewards are
    given in `mu` (R, K) (compiled once, then cached on disk); it must be run stationary and without a safety
    baseline, as the combination world has neither."""
    return arms.bind(arms.race, arms.named("pages_race", choose_name, learn_name), nogil=True,
                     choose=arms.kernel(choose_name), learn=arms.kernel(learn_name), draw_instance=pages_drawn,
                     expected=best_page_value)


# --- multivariate Thompson sampling (Hill et al. 2017) ----------------------------------------------------------

@jit
def active(page: np.ndarray, V: int, out: np.ndarray) -> None:
    """The features (D + P,) page (D,) switches on, in feature order: its main effects, then its pairs'."""
    D = page.shape[0]
    for d in range(D):
        out[d] = d * V + page[d]
    block, j = D * V, D
    for a in range(D):
        for b in range(a + 1, D):
            out[j] = block + page[a] * V + page[b]
            block += V * V
            j += 1


@jit
def page_table(V: int, D: int) -> np.ndarray:
    """The active features (V ** D, D + P) of every page, page m in row m."""
    table = np.empty((V ** D, D + D * (D - 1) // 2), np.int64)
    page = np.empty(D, np.int64)
    for m in range(V ** D):
        spell(m, V, page)
        active(page, V, table[m])
    return table


@jit
def erfc(x: float) -> float:
    """Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7)."""
    z = abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    ans = t * math.exp(poly)
    return ans if x >= 0.0 else 2.0 - ans


@jit
def probit_moments(t: float) -> tuple[float, float]:
    """v(t) = phi(t) / Phi(t) and w(t) = v(t) (v(t) + t), the moment-matching terms of a probit update."""
    cdf = max(0.5 * erfc(-t / math.sqrt(2.0)), 1e-300)
    v = math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi) / cdf
    return v, v * (v + t)


@jit
def climb(weights: np.ndarray, V: int, climbs: int, draws: np.ndarray, r: int, page: np.ndarray) -> None:
    """Hill climbing on the page score sum_{active features} weights (F,): from `climbs` random pages (one uniform
    value per component, climb by climb, from repetition r's stream), set each component in turn to its first best
    value given the others, PASSES times over; the first best final page goes to page (D,)."""
    D = page.shape[0]
    pages = np.empty((climbs, D), np.int64)
    for c in range(climbs):
        for d in range(D):
            pages[c, d] = rng.below(draws, r, V)
    for _ in range(PASSES):
        for d in range(D):
            for c in range(climbs):
                top, pick = -np.inf, 0
                for value in range(V):
                    score = weights[d * V + value]
                    block = D * V
                    for a in range(D):
                        for b in range(a + 1, D):
                            if a == d:
                                score += weights[block + value * V + pages[c, b]]
                            elif b == d:
                                score += weights[block + pages[c, a] * V + value]
                            block += V * V
                    if score > top:
                        top, pick = score, value
                pages[c, d] = pick
    on = np.empty(D + D * (D - 1) // 2, np.int64)
    top, best = -np.inf, 0
    for c in range(climbs):
        active(pages[c], V, on)
        total = 0.0
        for f in on:
            total += weights[f]
        if total > top:
            top, best = total, c
    page[:] = pages[best]


@jit
def best_page(weights: np.ndarray, table: np.ndarray, V: int, climbs: int, draws: np.ndarray, r: int,
              page: np.ndarray) -> None:
    """The page (D,) of highest score under weights (F,): with the active features of every page in table (M,
    D + P) (small page spaces), every page scored, ties at random; else the hill climbs (climb). A page scoring
    below the best so far is passed over before `consider_step`, which would neither take it nor draw."""
    if table.shape[0] == 0:
        climb(weights, V, climbs, draws, r, page)
        return
    best, pick, ties, state = -np.inf, -1, 0, draws[r]
    for m in range(table.shape[0]):
        score = 0.0
        for j in range(table.shape[1]):
            score += weights[table[m, j]]
        if score >= best or pick < 0:
            best, pick, ties, state = arms.consider_step(score, m, best, pick, ties, state)
    draws[r] = state
    spell(pick, V, page)


@jit
def choose_mvt_ts(params: np.ndarray, mean: np.ndarray, var: np.ndarray, table: np.ndarray, V: int,
                  draws: np.ndarray, r: int, sample: np.ndarray, page: np.ndarray) -> None:
    """params: climbs. A draw of every feature weight from its Gaussian posterior (mean, var (R, F)) into sample
    (F,), in feature order, then the best page under it (best_page) into page (D,) (Hill et al. 2017). The stream's
    state stays in a local for the F normal draws (rng.normal's draws; handed the states array, each draw would
    store and load it, half the time of the draws)."""
    state = draws[r]
    for f in range(sample.shape[0]):
        x, _, state = rng.normal_and_uniform_step(state)
        sample[f] = mean[r, f] + math.sqrt(var[r, f]) * x
    draws[r] = state
    best_page(sample, table, V, int(params[0]), draws, r, page)


@jit
def learn_mvt_ts(mean: np.ndarray, var: np.ndarray, draws: np.ndarray, r: int, page: np.ndarray, reward: float,
                 V: int, on: np.ndarray) -> None:
    """A reward in [0, 1] is a click with that probability (one uniform; exact for 0/1 rewards); the closed-form
    update of the factorised probit posterior of the page's active features (on (D + P,), Graepel et al. 2010):
    with y = +-1, s = sqrt(NOISE^2 + their variances' sum) and t = y (their means' sum) / s, each mean moves by
    y v(t) / s var and each variance shrinks by 1 - w(t) / s^2 var."""
    y = 1.0 if rng.uniform(draws, r) < min(max(reward, 0.0), 1.0) else -1.0
    active(page, V, on)
    spread, centre = NOISE * NOISE, 0.0
    for f in on:
        spread += var[r, f]
        centre += mean[r, f]
    total = math.sqrt(spread)
    v, w = probit_moments(y * centre / total)
    for f in on:
        mean[r, f] += y * v / total * var[r, f]
        var[r, f] *= 1.0 - w / (total * total) * var[r, f]


@jit
def step_choose_mvt_ts(params: np.ndarray, mean: np.ndarray, var: np.ndarray, table: np.ndarray, V: int, D: int,
                       draws: np.ndarray) -> np.ndarray:
    """Every repetition's page (R, D) (choose_mvt_ts)."""
    pages = np.empty((mean.shape[0], D), np.int64)
    sample = np.empty(mean.shape[1])
    for r in range(mean.shape[0]):
        choose_mvt_ts(params, mean, var, table, V, draws, r, sample, pages[r])
    return pages


@jit
def step_learn_mvt_ts(mean: np.ndarray, var: np.ndarray, draws: np.ndarray, reps: np.ndarray, pages: np.ndarray,
                      rewards: np.ndarray, V: int) -> None:
    """Learn observations (reps (N,), pages (N, D), rewards (N,)) in their order (learn_mvt_ts)."""
    D = pages.shape[1]
    on = np.empty(D + D * (D - 1) // 2, np.int64)
    for i in range(reps.shape[0]):
        learn_mvt_ts(mean, var, draws, reps[i], pages[i], rewards[i], V, on)


@jit
def best_pages(weights: np.ndarray, table: np.ndarray, V: int, D: int, climbs: int, draws: np.ndarray) -> np.ndarray:
    """Every repetition's best page (R, D) under its weights (R, F) (best_page)."""
    pages = np.empty((weights.shape[0], D), np.int64)
    for r in range(weights.shape[0]):
        best_page(weights[r], table, V, climbs, draws, r, pages[r])
    return pages


@jit(nogil=True)
def mvt_race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, V: int, D: int,
             table: np.ndarray, T: int, reward: int, feedback: int, mean_delay: float, batch: int, points: np.ndarray,
             curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray, below: np.ndarray) -> None:
    """Multivariate Thompson sampling's whole race over R = len(env) repetitions of the combination world (D
    components of V values; `table` as best_page takes it): env, delays and draws are the streams (R,) of the
    world, the feedback delays and the policy. Fills the regret curve at `points` (1-based rounds) (R, P), the
    final regret, the mean expected reward over the last 10% of rounds and the share of rounds with a best page
    (R,) each (`below` is left: the world has no baseline). Each step draws from the streams in the step-by-step
    loop's order (the world, the policy's page, the reward, the delay, the policy's learning), so both give the
    same numbers."""
    R, F = env.shape[0], features(D, V)
    weights = np.empty((R, F))
    mean = np.zeros((R, F))
    var = np.ones((R, F))
    tail_start = T - max(1, T // 10)
    for r in range(R):
        top = draw_world(weights, env, r, V, reward, np.empty(D, np.int64))
        sample = np.empty(F)
        page = np.empty(D, np.int64)
        on = np.empty(D + D * (D - 1) // 2, np.int64)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, page, reward
        queue_page = np.empty((16, D), np.int64)
        queue_reward = np.empty(16)
        queued = 0
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            choose_mvt_ts(params, mean, var, table, V, draws, r, sample, page)
            value = page_value(weights, r, page, V, reward)
            arms.account(books, value, top, 0.0, t, tail_start, False, 0.0)
            observed = arms.draw_reward(value, env, r, reward)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn_mvt_ts(mean, var, draws, r, page, observed, V, on)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_reward = arms.grow(queue_at), arms.grow(queue_reward)
                queue_page = np.concatenate((queue_page, np.empty_like(queue_page)))
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_page[queued] = page
            queue_reward[queued] = observed
            queued += 1
            i = arms.due(queue_at, queued, t + 1)
            while i >= 0:  # deliver what is visible at round t + 1, in the order it was queued
                learn_mvt_ts(mean, var, draws, r, queue_page[i], queue_reward[i], V, on)
                queued = arms.drop(queue_at, queue_page, queue_reward, i, queued)
                i = arms.due(queue_at, queued, t + 1)
        arms.settle(books, r, T, tail_start, final, tail, optimal, below)
