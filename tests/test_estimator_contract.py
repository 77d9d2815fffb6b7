"""The estimators' contract: on logs drawn from a known logging policy, every estimator of a target policy's value
(IPS, self-normalised IPS, the direct method, doubly robust) is unbiased (its mean over seeds within 4 standard
errors of the true value) and its 95% block-bootstrap interval covers the true value at its stated rate (at least
86 of 100 seeds: for a correct 95% interval that fails with probability about 1e-4). A new estimator is added to
ESTIMATORS and inherits both checks.

The world: contexts x = (1, z), z uniform in [0, 1]; three actions with Bernoulli rewards of mean theta_a . x (so
the ridge reward model is well specified); the logging policy plays action a with a known probability that depends
on z; the target policy plays action 2 when z > 0.5, else action 0. Seeds 0..99, 2000 rows each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from banditmap.ope.estimators import (BLOCKS, BlockSums, Estimate, Resampler, RewardModel, block_of,
                                      policy_terms)

THETA = np.array([[0.3, 0.2], [0.5, -0.2], [0.1, 0.6]])  # mean reward of action a: THETA[a] . (1, z)
SEEDS, ROWS = 100, 2000
# the true value: E[0.3 + 0.2 z | z <= 0.5] / 2 + E[0.1 + 0.6 z | z > 0.5] / 2 = (0.35 + 0.55) / 2
TRUE_VALUE = 0.45


def logging_probabilities(z: np.ndarray) -> np.ndarray:
    """(n, 3): the logging policy favours action 1, more so for large z; every action at least 10%."""
    p1 = 0.4 + 0.4 * z
    return np.stack([(1 - p1) / 2, p1, (1 - p1) / 2], axis=1)


def target(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0.5, 2, 0)


def estimates(seed: int) -> dict[str, Estimate]:
    """Every estimator's estimate of the target policy's value from one seeded log, as replay computes them."""
    draws = np.random.default_rng(seed)
    z = draws.random(ROWS)
    contexts = np.stack([np.ones(ROWS), z], axis=1)
    probabilities = logging_probabilities(z)
    logged = (draws.random(ROWS)[:, None] > probabilities.cumsum(axis=1)).sum(axis=1)
    rewards = (draws.random(ROWS) < (contexts @ THETA.T)[np.arange(ROWS), logged]).astype(float)
    rows = np.arange(ROWS)
    model = RewardModel(3, 2, float(rewards.mean()), 0.0, 1.0)
    model.add(rows, logged, rewards, contexts)
    model.fit()
    terms = policy_terms(target(z), logged, rewards, probabilities[rows, logged], model.predict(rows, contexts))
    blocks = min(BLOCKS, ROWS)
    sums = BlockSums(blocks, ("rows", "ips", "weight", "dm", "dr"))
    block = block_of(rows, ROWS, blocks)
    sums.add("rows", block)
    for name in ("ips", "weight", "dm", "dr"):
        sums.add(name, block, getattr(terms, name))
    boot = Resampler.make(blocks, seed, replicates=400)
    return {name: estimator(boot, sums.sums) for name, estimator in ESTIMATORS.items()}


Estimator = Callable[[Resampler, dict[str, np.ndarray]], Estimate]
ESTIMATORS: dict[str, Estimator] = {
    "ips": lambda boot, s: boot.ratio(s["ips"], s["rows"])[0],
    "snips": lambda boot, s: boot.ratio(s["ips"], s["weight"])[0],
    "dm": lambda boot, s: boot.ratio(s["dm"], s["rows"])[0],
    "dr": lambda boot, s: boot.ratio(s["dr"], s["rows"])[0],
}


def test_the_true_value_by_simulation() -> None:
    z = np.random.default_rng(99).random(1_000_000)
    means = (np.stack([np.ones_like(z), z], axis=1) @ THETA.T)[np.arange(len(z)), target(z)]
    assert abs(means.mean() - TRUE_VALUE) < 1e-3


@pytest.fixture(scope="module")
def runs() -> list[dict[str, Estimate]]:
    return [estimates(seed) for seed in range(SEEDS)]


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_estimator_is_unbiased(name: str, runs: list[dict[str, Estimate]]) -> None:
    values = np.array([run[name].value for run in runs])
    assert abs(values.mean() - TRUE_VALUE) < 4 * values.std(ddof=1) / np.sqrt(SEEDS), name


# The direct method's interval resamples the blocks of its predictions with the reward model held fixed, so it
# leaves out the model's own estimation error, which is most of the estimate's spread: here it covers the true
# value in 14 of 100 logs. Strict, so that this test fails (and the mark must go) once the interval is honest.
DM_INTERVAL = pytest.mark.xfail(strict=True, reason="the direct method's bootstrap holds the reward model fixed")


@pytest.mark.parametrize("name", [pytest.param(n, marks=DM_INTERVAL) if n == "dm" else n for n in sorted(ESTIMATORS)])
def test_every_estimators_interval_covers_at_its_rate(name: str, runs: list[dict[str, Estimate]]) -> None:
    covered = sum(run[name].low <= TRUE_VALUE <= run[name].high for run in runs)
    assert covered >= 86, f"{name}: the 95% interval covered the true value in {covered} of {SEEDS} logs"
    widths = np.array([run[name].high - run[name].low for run in runs])
    assert np.all(widths > 0) and widths.mean() < 0.2  # an interval, not the whole range


def test_the_logging_policy_is_what_the_contract_says() -> None:
    """The checks above mean something only if the logs follow the stated policy: its action shares, and the
    weights' mean of 1 (importance sampling's identity) for the target policy."""
    draws = np.random.default_rng(0)
    z = draws.random(200_000)
    probabilities = logging_probabilities(z)
    logged = (draws.random(len(z))[:, None] > probabilities.cumsum(axis=1)).sum(axis=1)
    shares = np.bincount(logged, minlength=3) / len(z)
    assert np.allclose(shares, probabilities.mean(axis=0), atol=4e-3)
    weights = (target(z) == logged) / probabilities[np.arange(len(z)), logged]
    assert abs(weights.mean() - 1.0) < 0.02
