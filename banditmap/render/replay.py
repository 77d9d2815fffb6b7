"""A replay as a report (table, verdict, warnings, its JSON shape) and as a plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from banditmap.ope.estimators import Estimate
from banditmap.ope.replay import ReplayResult, verdict
from banditmap.render import plotting
from banditmap.render.report import Report, from_rows
from banditmap.render.slates import by_slate, slate_dict, slate_warnings

REPLAY_SCHEMA = "banditmap.replay/4"
ESTIMATORS = ("ips", "snips", "dm", "dr")


def _number(x: float) -> float | None:
    return None if not math.isfinite(x) else round(x, 6)


def _count(x: float) -> int | None:
    return None if not math.isfinite(x) else int(math.ceil(x))


def estimate_dict(e: Estimate) -> dict[str, float | None]:
    return {"value": _number(e.value), "low": _number(e.low), "high": _number(e.high)}


def replay_dict(result: ReplayResult, timings: bool = True) -> dict[str, Any]:
    """The replay as JSON-ready data. Wall-clock figures are the only part that differs between two runs with one
    seed: they sit apart, under "timing", and `timings=False` leaves them out."""
    info = result.info
    data: dict[str, Any] = {
        "schema": REPLAY_SCHEMA, "seed": result.seed, "method": result.method,
        "log": {"path": info.path, "rows": info.rows, "actions": list(info.actions), "action_counts": list(info.counts),
                "columns": {"action": info.action_col, "reward": info.reward_col, "propensity": info.propensity_col,
                            "position": info.position_col, "slate": info.slate_col, "numeric": list(info.numeric),
                            "categorical": list(info.categorical)},
                "features": info.features, "uniform_logging": info.uniform, "min_propensity": info.min_propensity,
                "near_zero_share": info.near_zero, "binary_reward": info.binary,
                "propensities_estimated": info.estimated,
                "examination": ({p: _number(r) for p, r in zip(info.positions, result.examination, strict=True)}
                                if result.examination else None)},
        "split": {"learning_rows": result.learning_rows, "heldout_rows": result.heldout_rows,
                  "learning": [1, result.learning_rows], "heldout": [result.learning_rows + 1, info.rows]},
        "logging_policy": estimate_dict(result.logging),
        "logging_policy_heldout": estimate_dict(result.logging_heldout),
        "candidates": [{
            "id": r.id, "name": r.name, "evaluable": r.evaluable, "problem": r.problem, "remedy": r.remedy,
            "contextual": r.contextual, "replayed_rounds": r.kept, "matched_rows": r.matched,
            "replayed": estimate_dict(r.replayed), "replayed_gain": estimate_dict(r.replayed_gain),
            "rows_needed": _count(r.rows_needed), "rows_needed_effect": _number(r.effect),
            "replayed_effective_rounds": _number(r.replayed_ess), "clipped_weight_share": _number(r.clipped_share),
            "clipping_bias_bound": _number(r.bias_bound),
            "positions": None if r.positions is None else {
                "ips": {p: estimate_dict(e) for p, e in zip(info.positions, r.positions.per_position, strict=True)},
                "pbm_top": estimate_dict(r.positions.top)},
            "final_policy": {k: estimate_dict(r.final[k]) for k in ESTIMATORS},
            "final_policy_problem": r.problem or r.final_problem,
            "final_gain_dr": estimate_dict(r.final_gain),
            "diagnostics": {"effective_sample_size": _number(r.ess), "max_weight": _number(r.max_weight),
                            "unsupported_share": _number(r.unsupported), "stalled_share": _number(r.stalled)},
            "warnings": list(r.warnings),
        } for r in result.results],
        "checkpoints": list(result.checkpoints),
        "curves": {"logging": [_number(v) for v in result.logging_curve],
                   **{r.id: [_number(v) for v in r.curve] for r in result.results}},
        "skipped": [{"id": i, "reason": why} for i, why in result.skipped],
        "slates": slate_dict(result),
        "warnings": list(result.warnings),
        "verdict": list(verdict(result)),
    }
    if timings:
        data["timing"] = {"replay_seconds": {r.id: round(r.seconds, 3) for r in result.results}}
    return data


def _cell(e: Estimate, sign: str = "") -> str:
    """Value +/- half the 95% interval's width, or both ends when the interval is lopsided (the JSON keeps both)."""
    if not e.known:
        return "-"
    if not math.isfinite(e.low):
        return f"{e.value:{sign}.4f}"
    half = (e.high - e.low) / 2
    if abs(e.low + half - e.value) > 0.1 * half:  # lopsided (a score interval near 0 or 1): both ends
        return f"{e.value:{sign}.4f} ({e.low:{sign}.4f} to {e.high:{sign}.4f})"
    return f"{e.value:{sign}.4f} ±{half:.4f}"


def replay_rows(result: ReplayResult) -> tuple[list[str], list[list[str]]]:
    header = ["algorithm", "rounds", "replayed reward", "vs logging", "held-out DR", "IPS", "SNIPS", "DM",
              "ESS", "max w"]
    rows = [["logging policy", str(result.learning_rows), _cell(result.logging), "", _cell(result.logging_heldout),
             "", "", "", "", ""]]
    for r in result.results:
        if not r.evaluable:  # nothing is shown that cannot be trusted: the verdict says why
            rows.append([f"{r.name} (not evaluable)", str(r.kept)] + ["-"] * 8)
            continue
        scored = not r.final_problem
        rows.append([r.name, str(r.kept), _cell(r.replayed), _cell(r.replayed_gain, "+"), _cell(r.final["dr"]),
                     _short(r.final["ips"]), _short(r.final["snips"]), _short(r.final["dm"]),
                     f"{r.ess:.0f}" if scored else "-", f"{r.max_weight:.1f}" if scored else "-"])
    return header, rows


def _short(e: Estimate) -> str:
    return "-" if not e.known else f"{e.value:.4f}"


def title(result: ReplayResult) -> str:
    info = result.info
    context = f"{info.features - 1} context features" if info.has_context else "no context"
    logging = "uniform logging" if info.uniform else f"non-uniform logging (min propensity {info.min_propensity:.3g})"
    if info.estimated:
        logging += ", PROPENSITIES ESTIMATED"
    split = (f"learning on rows 1-{result.learning_rows:,}, final policies scored on rows "
             f"{result.learning_rows + 1:,}-{info.rows:,} (last {result.heldout_rows / max(info.rows, 1):.0%})")
    return (f"{info.path}: {info.rows:,} rows, {info.n_actions} actions, {context}, {logging}; {result.method}, "
            + split)


def warnings(result: ReplayResult) -> list[str]:
    out = list(result.warnings)
    for r in result.results:
        out += [f"{r.name}: {w}" for w in r.warnings]
    return out + slate_warnings(result.slates)


def skipped(result: ReplayResult) -> list[str]:
    """Algorithms left out, with why: notes, not warnings, since nothing about the log is wrong."""
    return [f"{i} not replayed: {why}" for i, why in result.skipped]


def replay_report(result: ReplayResult, timings: bool = True) -> Report:
    """The replay as a report; the table, CSV and Markdown forms hold no wall-clock figure, JSON holds them under
    "timing" unless `timings` is False."""
    header, rows = replay_rows(result)
    return from_rows(title(result), header, rows, replay_dict(result, timings), verdict="\n".join(verdict(result)),
                     notes=tuple(skipped(result)), warnings=tuple(warnings(result)),
                     extras=by_position(result) + by_slate(result, _cell))


def by_position(result: ReplayResult) -> str:
    """The final policies' held-out IPS at each position, and their value at the first position under the
    position-based click model, pooling every position's rows; empty for logs without positions."""
    if not result.examination:
        return ""
    labels = result.info.positions
    lines = ["Position-aware (held-out rows): IPS of each final policy at each position, and PBM, its value at "
             f"position {labels[0]} under the position-based click model pooling every position "
             "(examination relative to the first: "
             + ", ".join(f"{p}: {r:.2f}" for p, r in zip(labels, result.examination, strict=True)) + ")"]
    for r in result.results:
        if r.positions is not None:
            cells = [f"{p} {_cell(e)}" for p, e in zip(labels, r.positions.per_position, strict=True)]
            lines.append(f"  {r.name}: " + "; ".join(cells) + f"; PBM {_cell(r.positions.top)}")
    return "\n".join(lines) + "\n"


def plot(result: ReplayResult, path: Path) -> None:
    """Running replayed reward per decision along the log, next to the logging policy's (needs matplotlib)."""
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(result.checkpoints, result.logging_curve, color="black", linestyle="--", label="logging policy")
    for r in result.results:
        if r.evaluable:
            ax.plot(result.checkpoints, r.curve, label=r.name)
    ax.set_xlabel("logged decisions read")
    ax.set_ylabel("reward per decision so far (replayed)")
    ax.set_title(title(result), fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plotting.save(plt, fig, path)

