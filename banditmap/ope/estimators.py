"""Off-policy estimators over streamed chunks: a cross-fitted reward model for the direct method, per-row terms
of IPS, self-normalised IPS, DM and doubly robust estimates, block sums, and a seeded block bootstrap.

Every estimate is a ratio of sums over rows. The rows are cut into contiguous blocks of time; keeping per-block
sums is all the memory the estimators need, and resampling blocks (not rows) keeps the intervals honest when
rewards drift or cluster in time.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Resampler:
    """Block multiplicities of every bootstrap replicate, shared by all estimates so differences are paired."""

    counts: Array  # (BOOTSTRAP, blocks)

    @classmethod
    def make(cls, blocks: int, seed: int, replicates: int = BOOTSTRAP) -> "Resampler":
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 11])))
        return cls(rng.multinomial(blocks, np.full(blocks, 1.0 / blocks), size=replicates).astype(np.float64))

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


def interval(value: float, draws: Array) -> Estimate:
    finite = draws[np.isfinite(draws)]
    if not np.isfinite(value) or len(finite) < len(draws) // 2:
        return Estimate(value, float("nan"), float("nan"))
    low, high = np.percentile(finite, [2.5, 97.5])
    return Estimate(value, float(low), float(high))


def effective_sample_size(weight_sum: float, weight_square_sum: float) -> float:
    """Kish's effective sample size of importance weights, (sum w)^2 / sum w^2."""
    return weight_sum ** 2 / weight_square_sum if weight_square_sum > 0 else 0.0
