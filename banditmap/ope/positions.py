"""Position-aware estimates for ranking logs (a position column): per-position IPS of a final policy, and its value
at the top position under the position-based click model, pooling every position's rows.

The position-based model (the examination hypothesis compared by Craswell, Zoeter, Taylor and Ramsey, WSDM 2008;
used for off-policy evaluation by Li, Abbasi-Yadkori, Kveton, Muthukrishnan, Vinay and Wen, "Offline evaluation
of ranking policies with click models", KDD 2018) says a click at
position k happens with probability theta_k x gamma(a, x): the position is examined, and the item attracts. Then
for any policy pi its per-position value is V_k(pi) = theta_k G(pi), so the examination ratios theta_k / theta_1
are the ratios of any one policy's per-position IPS values; banditmap takes the uniformly random policy's (every
row counts, with weight 1 / (K p)), whose estimate uses every row. The top-position value of pi pooled over all
positions is then sum_k (theta_1 / theta_k) S_k / n, S_k the IPS sum of pi's rows at position k.

Slates (several items per decision, one reward for the whole list, a slate id column) are scored by the
pseudoinverse estimator of Swaminathan, Krishnamurthy, Agarwal, Dudík, Langford, Jose and Zitouni (NeurIPS 2017),
in slates.py.

Every figure is a ratio of per-block sums (see estimators.py), so the bootstrap resamples them all together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from banditmap.ope.estimators import Estimate, Resampler, hull, interval, wilson

Array = np.ndarray


@dataclass(frozen=True)
class PositionEstimates:
    """A final policy's per-position IPS (position labels in log order) and its pooled top-position value."""

    per_position: tuple[Estimate, ...]
    top: Estimate  # value at the first position, under the position-based model, pooling every position


def examination(boot: Resampler, uniform: list[Array], rows: list[Array]) -> tuple[tuple[float, ...], Array]:
    """theta_k / theta_1 per position from the uniform policy's per-position IPS (uniform[k]: its block sums of
    r / (K p), rows[k]: the rows at position k), and its bootstrap replicates (BOOTSTRAP, positions)."""
    values = np.array([u.sum() / max(n.sum(), 1) for u, n in zip(uniform, rows, strict=True)])
    draws = np.stack([boot.replicates(u, n) for u, n in zip(uniform, rows, strict=True)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = values / values[0] if values[0] > 0 else np.full(len(values), np.nan)
        ratio_draws = draws / draws[:, :1]
    return tuple(float(r) for r in ratio), ratio_draws


def estimates(boot: Resampler, ips: list[Array], rows: list[Array], ratio: tuple[float, ...],
              ratio_draws: Array, ess: list[float] | None = None) -> PositionEstimates:
    """Per-position IPS of a policy from its per-position block sums of w r (ips[k]) and the rows at each position
    (rows[k]), and its top-position value under the position-based model. With `ess` (binary rewards: the
    effective sample size of its weights at each position) each per-position interval is at least Wilson's there,
    as for the pooled estimates (rare clicks)."""
    per_position = tuple(boot.ratio(s, n)[0] for s, n in zip(ips, rows, strict=True))
    if ess is not None:
        per_position = tuple(hull(e, wilson(min(max(e.value, 0.0), 1.0) * n, n)) if e.known else e
                             for e, n in zip(per_position, ess, strict=True))
    total = sum(n.sum() for n in rows)
    if not (total > 0 and all(np.isfinite(ratio)) and all(r > 0 for r in ratio)):
        return PositionEstimates(per_position, Estimate(float("nan"), float("nan"), float("nan")))
    value = float(sum(s.sum() / r for s, r in zip(ips, ratio, strict=True)) / total)
    counts = boot.counts
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = sum((counts @ s) / ratio_draws[:, k] for k, s in enumerate(ips)) / (counts @ sum(rows))
    return PositionEstimates(per_position, interval(value, np.asarray(draws)))
