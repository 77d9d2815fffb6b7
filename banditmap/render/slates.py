"""A slate log's PI results in the replay report: the text under the table, and the JSON's "slates" part."""

from __future__ import annotations

import math
from typing import Any

from banditmap.ope.estimators import Estimate
from banditmap.ope.results import ReplayResult
from banditmap.ope.slates import FORMS, SlateResults, standing

WORDS = {"better": "better than the logging policy with 95% confidence",
         "worse": "worse than the logging policy with 95% confidence",
         "cannot tell": "cannot tell from the logging policy"}


def _number(x: float) -> float | None:
    return None if not math.isfinite(x) else round(x, 6)


def _estimate(e: Estimate) -> dict[str, float | None]:
    return {"value": _number(e.value), "low": _number(e.low), "high": _number(e.high)}


def slate_dict(result: ReplayResult) -> dict[str, Any] | None:
    s = result.slates
    if s is None:
        return None
    return {"slots": s.size, "items": s.items, "heldout_slates": s.slates, "logging_form": s.form,
            "estimator": "pseudoinverse", "assumption": s.assumption, "problem": s.problem,
            "logging_policy": _estimate(s.logging),
            "policies": [{"id": p.id, "name": p.name, "value": _estimate(p.value), "vs_logging": _estimate(p.gain),
                          "standing": standing(p), "effective_slates": _number(p.ess),
                          "unsupported_share": _number(p.unsupported), "problem": p.problem} for p in s.policies],
            "warnings": list(s.warnings)}


def by_slate(result: ReplayResult, cell: Any) -> str:
    """The held-out slates' PI values of the final policies, the uniform random slate policy and the logging
    policy, with what PI assumes; empty for logs without slates. `cell` formats an estimate."""
    s = result.slates
    if s is None:
        return ""
    head = (f"Slates (pseudoinverse estimator, held-out slates): {s.slates:,} slates of {s.size} slots over "
            f"{s.items} items, {FORMS[s.form]}; a slate's reward is the sum of its rows' rewards. A learner's final "
            f"policy fills the {s.size} slots with its {s.size} best items by its estimates for the context of the "
            f"slate's first-position row, best first. {s.assumption}.")
    if s.problem:
        return head + f"\n  Not scored: {s.problem}.\n"
    lines = [head, f"  logging policy: {cell(s.logging)} per slate"]
    lines += [f"  {p.name}: not scored: {p.problem}" if p.problem else
              f"  {p.name}: {cell(p.value)} per slate; vs logging {cell(p.gain, '+')}: {WORDS[standing(p)]}"
              if standing(p) else f"  {p.name}: {cell(p.value)} per slate" for p in s.policies]
    return "\n".join(lines) + "\n"


def slate_warnings(slates: SlateResults | None) -> list[str]:
    return [] if slates is None else [f"slates: {w}" for w in slates.warnings]
