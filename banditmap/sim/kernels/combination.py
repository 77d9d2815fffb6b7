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

The race of a K-armed policy viewed through PagesAsArms is arms.py's race with the pages as its arms: their
expected rewards (R, V ** D) are computed before it (`page_values`) and handed to it in `mu`, which a stationary
race only reads, so the K-armed race's decisions, delays and accounting serve unchanged."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numba import njit

from banditmap.sim.kernels import arms, rng

MAIN, INTERACTION = 0.4, 0.25  # the standard deviations of the main effects' and the interactions' weights


def reward_kind(reward: str) -> int:
    """The reward kind the world draws: Bernoulli clicks on binary problems, Gaussian noise on any other."""
    return arms.BINARY if reward == "binary" else arms.CONTINUOUS


def features(D: int, V: int) -> int:
    """The weights of the page model: D x V main effects and V x V interactions per pair of components."""
    return D * V + D * (D - 1) // 2 * V * V


@njit(cache=True)
def draw_weights(weights: np.ndarray, env: np.ndarray, r: int, D: int, V: int) -> None:
    """Repetition r's weights (F,), in feature order from the world's stream."""
    for f in range(weights.shape[1]):
        weights[r, f] = (MAIN if f < D * V else INTERACTION) * rng.normal(env, r)


@njit(cache=True)
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


@njit(cache=True, inline="always")
def spell(m: int, V: int, page: np.ndarray) -> None:
    """Page number m as its values (D,) in base V, first component first."""
    for d in range(page.shape[0] - 1, -1, -1):
        page[d] = m % V
        m //= V


@njit(cache=True)
def draw_worlds(weights: np.ndarray, env: np.ndarray, V: int, reward: int, best_page: np.ndarray) -> np.ndarray:
    """Every repetition's weights (R, F), its best page (R, D) (the first of equal ones by number) and that page's
    worth (R,), by enumeration."""
    R, D = best_page.shape
    best = np.full(R, -np.inf)
    page = np.empty(D, np.int64)
    for r in range(R):
        draw_weights(weights, env, r, D, V)
        for m in range(V ** D):
            spell(m, V, page)
            value = page_value(weights, r, page, V, reward)
            if value > best[r]:
                best[r] = value
                best_page[r] = page
    return best


@njit(cache=True)
def page_values(weights: np.ndarray, V: int, D: int, reward: int, mu: np.ndarray) -> None:
    """Every page's worth (R, V ** D), page m in column m."""
    page = np.empty(D, np.int64)
    for r in range(mu.shape[0]):
        for m in range(mu.shape[1]):
            spell(m, V, page)
            mu[r, m] = page_value(weights, r, page, V, reward)


@njit(cache=True)
def world_step(weights: np.ndarray, env: np.ndarray, pages: np.ndarray, V: int, reward: int, value: np.ndarray,
               observed: np.ndarray) -> None:
    """A round for every repetition: each page's worth (value (R,)) and the reward drawn for it (observed (R,))."""
    for r in range(pages.shape[0]):
        value[r] = page_value(weights, r, pages[r], V, reward)
        observed[r] = arms.draw_reward(value[r], env, r, reward)


# --- the K-armed race with each page one arm --------------------------------------------------------------------

@njit(cache=True)
def pages_drawn(logits: np.ndarray, env: np.ndarray, r: int, reward: int, safety: bool) -> None:
    """The race's instance: drawn before it (draw_worlds, page_values), so nothing is drawn here."""


@njit(cache=True)
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
