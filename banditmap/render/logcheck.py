"""A log's lint (`replay --check`) as a report: one row per finding, the verdict, and its JSON shape."""

from __future__ import annotations

import math
from typing import Any

from banditmap.ope.check import FAIL, LogCheck
from banditmap.render.report import Report, from_rows

CHECK_SCHEMA = "banditmap.logcheck/1"


def _number(x: float) -> float | None:
    return None if not math.isfinite(x) else round(x, 6)


def check_dict(check: LogCheck) -> dict[str, Any]:
    info, power = check.info, check.power
    return {
        "schema": CHECK_SCHEMA, "answerable": check.answerable,
        "log": {"path": info.path, "rows": info.rows, "actions": list(info.actions),
                "action_counts": list(info.counts), "binary_reward": info.binary,
                "mean_reward": _number(info.mean_reward), "propensities_estimated": info.estimated,
                "uniform_logging": info.uniform, "min_propensity": info.min_propensity, "id_column": check.id_col,
                "duplicate_ids": check.duplicates},
        "findings": [{"status": f.status, "topic": f.topic, "text": f.text} for f in check.findings],
        "propensity_consistency": [{"action": a, "mean_weight": _number(m), "standard_error": _number(e),
                                    "reward_sum": _number(r)}
                                   for a, m, e, r in zip(info.actions, check.weight_means, check.weight_errors,
                                                         check.events, strict=True)],
        "power": {"effect": power.effect, "rate": _number(power.rate), "target": _number(power.target),
                  "rows_needed": _number(power.needed), "replay_rows": _number(power.replay_rows),
                  "final_policy_rows": _number(power.final_rows), "log_rows_needed": _number(power.log_rows_needed)},
        "verdict": verdict(check),
    }


def verdict(check: LogCheck) -> str:
    failed = [f.topic for f in check.findings if f.status == FAIL]
    if not failed:
        return (f"This log can answer the question: a difference of {check.power.effect:+.0%} from the logging "
                "policy's reward can be told apart (exit status 0).")
    return f"This log cannot answer the question ({', '.join(dict.fromkeys(failed))}; exit status 1)."


def check_report(check: LogCheck) -> Report:
    rows = [[f.status, f.topic, f.text] for f in check.findings]
    return from_rows(f"{check.info.path}: checked before any estimate", ["status", "check", "finding"], rows,
                     check_dict(check), verdict=verdict(check))
