"""Off-policy estimators over streamed chunks: a cross-fitted reward model for the direct method, per-row terms
of IPS, self-normalised IPS, DM and doubly robust estimates, block sums, and a seeded block bootstrap.

Every estimate is a ratio of sums over rows. The rows are cut into contiguous blocks of time; keeping per-block
sums is all the memory the estimators need, and resampling blocks (not rows) keeps the intervals honest when
rewards drift or cluster in time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
BLOCKS = 500  # contiguous blocks of rows resampled by the bootstrap (fewer for tiny logs)
BOOTSTRAP = 1000  # bootstrap replicates
FOLDS = 2  # the reward model of a row is fitted on the other fold (rows of the other parity)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95% bootstrap interval; nan when nothing could be estimated."""

    value: float
    low: float
    high: float

    @property
    def known(self) -> bool:
        return bool(np.isfinite(self.value))

    def overlaps(self, other: "Estimate") -> bool:
        return self.low <= other.high and other.low <= self.high


UNKNOWN = Estimate(float("nan"), float("nan"), float("nan"))


def block_of(rows: Array, total: int, blocks: int) -> Array:
    """The bootstrap block of each row index: contiguous, equally long stretches of the log."""
    block: Array = np.minimum(rows * blocks // max(total, 1), blocks - 1)
    return block


class RewardModel:
    """Ridge regression of the reward on the context, one per action and fold, fitted from streamed sums.

    Each row's prediction comes from the model fitted on the other fold (cross-fitting), so the direct method
    and the doubly robust estimate never score a row with a model that has seen it. The regression is on the
    reward minus the log's mean reward, so rarely logged actions shrink towards the mean, not towards zero.
    """

    def __init__(self, n_actions: int, n_features: int, mean_reward: float, low: float, high: float,
                 l2: float = 1.0) -> None:
        self.K, self.d = n_actions, n_features
        self.offset, self.low, self.high, self.l2 = mean_reward, low, high, l2
        self.gram = np.zeros((FOLDS, n_actions, n_features, n_features))
        self.target = np.zeros((FOLDS, n_actions, n_features))
        self.theta: Array | None = None

    def add(self, rows: Array, actions: Array, rewards: Array, contexts: Array) -> None:
        fold = rows % FOLDS
        centred = rewards - self.offset
        for f in range(FOLDS):
            for a in np.unique(actions[fold == f]):
                pick = (fold == f) & (actions == a)
                x = contexts[pick]
                self.gram[f, a] += x.T @ x
                self.target[f, a] += x.T @ centred[pick]

    def merge(self, other: "RewardModel") -> None:
        """Add the sums another model gathered on other rows (another partition of the same log)."""
        self.gram += other.gram
        self.target += other.target

    def fit(self) -> None:
        eye = np.eye(self.d) * self.l2
        self.theta = np.linalg.solve(self.gram + eye, self.target[..., None])[..., 0]  # (FOLDS, K, d)

    def predict(self, rows: Array, contexts: Array) -> Array:
        """(n, K) predicted reward of every action for every row, from the other fold's model."""
        assert self.theta is not None, "fit() first"
        out = np.empty((len(rows), self.K))
        other = (rows + 1) % FOLDS
        for f in range(FOLDS):
            pick = other == f
            out[pick] = contexts[pick] @ self.theta[f].T
        return np.clip(out + self.offset, self.low, self.high)


@dataclass(frozen=True)
class PolicyTerms:
    """Per-row terms of the estimators for a policy that chose `chosen` on the logged contexts."""

    ips: Array  # w * r, w = 1[chosen == logged] / propensity
    weight: Array  # w
    dm: Array  # predicted reward of the chosen action
    dr: Array  # dm + w * (r - predicted reward of the logged action)


def policy_terms(chosen: Array, logged: Array, rewards: Array, propensities: Array, predicted: Array) -> PolicyTerms:
    """Terms for a policy's sampled choices: unbiased for a randomised policy too, since the choice is a fresh
    draw given the context."""
    rows = np.arange(len(chosen))
    weight = (chosen == logged) / propensities
    dm = predicted[rows, chosen]
    return PolicyTerms(weight * rewards, weight, dm, dm + weight * (rewards - predicted[rows, logged]))


class BlockSums:
    """Named per-block sums, the only state the bootstrap needs."""

    def __init__(self, blocks: int, names: tuple[str, ...]) -> None:
        self.sums = {name: np.zeros(blocks) for name in names}

    def add(self, name: str, block: Array, values: Array | None = None) -> None:
        """Add values (or 1 per row when None) to the blocks the rows fall in."""
        target = self.sums[name]
        target += np.bincount(block, weights=values, minlength=len(target))

    def total(self, name: str) -> float:
        return float(self.sums[name].sum())

    def merge(self, other: "BlockSums") -> None:
        """Add the sums gathered on other rows (another partition of the same log, with the same blocks)."""
        for name, values in other.sums.items():
            self.sums[name] += values


@dataclass(frozen=True)
class Resampler:
    """Block multiplicities of every bootstrap replicate, shared by all estimates so differences are paired."""

    counts: Array  # (BOOTSTRAP, blocks)

    @classmethod
    def make(cls, blocks: int, seed: int, replicates: int = BOOTSTRAP) -> "Resampler":
        """The multiplicities drawn from (seed, blocks): a replay's summary and its slates' (ope/slates.py) share
        one draw, kept read-only (about 50 ms for 1,000 replicates of BLOCKS = 500 blocks)."""
        return cls(_multiplicities(blocks, seed, replicates))

    def replicates(self, numerator: Array, denominator: Array) -> Array:
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios: Array = (self.counts @ numerator) / (self.counts @ denominator)
        return ratios

    def ratio(self, numerator: Array, denominator: Array) -> tuple[Estimate, Array]:
        """The ratio of totals with its percentile interval, and the replicates (for paired differences)."""
        den = float(denominator.sum())
        value = float(numerator.sum()) / den if den > 0 else float("nan")
        draws = self.replicates(numerator, denominator)
        return interval(value, draws), draws


def _draw_multiplicities(blocks: int, seed: int, replicates: int) -> Array:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 11])))
    counts = rng.multinomial(blocks, np.full(blocks, 1.0 / blocks), size=replicates).astype(np.float64)
    counts.flags.writeable = False
    return counts


# kept apart from the draw, which stays undecorated for the mutation run (tools/mutation.py: mutmut leaves decorated
# functions alone)
_multiplicities = functools.lru_cache(maxsize=4)(_draw_multiplicities)


def interval(value: float, draws: Array) -> Estimate:
    finite = draws[np.isfinite(draws)]
    if not np.isfinite(value) or len(finite) < len(draws) // 2:
        return Estimate(value, float("nan"), float("nan"))
    low, high = np.percentile(finite, [2.5, 97.5])
    return Estimate(value, float(low), float(high))


def effective_sample_size(weight_sum: float, weight_square_sum: float) -> float:
    """Kish's effective sample size of importance weights, (sum w)^2 / sum w^2."""
    return weight_sum ** 2 / weight_square_sum if weight_square_sum > 0 else 0.0


# --- intervals for rates ----------------------------------------------------------------------------------------
# The block bootstrap is valid for means of many rows that are not dominated by a few: continuous rewards, and
# binary rewards with enough ones and zeros among the rows that carry weight. On rare events it collapses (no
# click resampled is still no click: 0 +/- 0), so for binary rewards a rate's interval is Wilson's score interval
# (it never has zero width and holds its level down to a handful of events), and an importance-weighted estimate's
# interval is widened to at least Wilson's interval at its effective sample size (Korn and Graubard, Survey
# Methodology 1998, who use the effective sample size in exact binomial intervals of weighted rare-event rates).

Z95 = 1.959963984540054  # two-sided 95%
Z80 = 0.8416212335729143  # one-sided 80% power
RELATIVE_EFFECT = 0.1  # the difference to plan for when the observed one is zero: 10% of the logging rate


def wilson(successes: float, n: float, z: float = Z95) -> Estimate:
    """Wilson's score interval for a binomial proportion (Wilson, JASA 1927); unknown without rows. `n` may be an
    effective sample size and `successes` a weighted count."""
    if n <= 0:
        return UNKNOWN
    p = min(max(successes / n, 0.0), 1.0)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Estimate(successes / n, float(max(centre - half, 0.0)), float(min(centre + half, 1.0)))


def newcombe(first: Estimate, second: Estimate) -> Estimate:
    """The difference of two proportions, first minus second, with Newcombe's hybrid score interval built from
    their Wilson intervals (Newcombe, Statistics in Medicine 1998, method 10). For two independent samples; when
    the second rows hold the first (a learner's kept rows are rows of the log), their correlation is positive and
    the interval is conservative."""
    if not (first.known and second.known and np.isfinite(first.low) and np.isfinite(second.low)):
        return UNKNOWN
    d = first.value - second.value
    low = d - np.hypot(first.value - first.low, second.high - second.value)
    high = d + np.hypot(first.high - first.value, second.value - second.low)
    return Estimate(d, float(low), float(high))


def rows_needed(rate: float, other: float) -> float:
    """Rows per group to tell proportions `rate` and `other` apart with a two-sided 5% test and 80% power:
    n = [z_{a/2} sqrt(2 pbar qbar) + z_b sqrt(p1 q1 + p2 q2)]^2 / (p1 - p2)^2 (Fleiss, Levin and Paik,
    Statistical Methods for Rates and Proportions, 3rd ed. 2003, eq. 4.14, without continuity correction);
    infinity when the two are equal."""
    if rate == other:
        return float("inf")
    mean = (rate + other) / 2
    root = Z95 * np.sqrt(2 * mean * (1 - mean)) + Z80 * np.sqrt(rate * (1 - rate) + other * (1 - other))
    return float(root ** 2 / (rate - other) ** 2)


def rows_needed_normal(gain: Estimate, n: float) -> float:
    """Rows to make a difference of `gain.value` significant at 5% with 80% power, from an interval measured on
    `n` rows (its half-width shrinks as 1 / sqrt(rows)): the normal-approximation analogue of rows_needed."""
    se = (gain.high - gain.low) / (2 * Z95)
    if not (np.isfinite(se) and se > 0 and gain.value):
        return float("inf")
    return float(n * ((Z95 + Z80) * se / abs(gain.value)) ** 2)


def hull(first: Estimate, second: Estimate) -> Estimate:
    """The first estimate with the smallest interval holding both intervals."""
    if not np.isfinite(second.low):
        return first
    if not np.isfinite(first.low):
        return Estimate(first.value, second.low, second.high)
    return Estimate(first.value, min(first.low, second.low), max(first.high, second.high))
