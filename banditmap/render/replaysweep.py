"""A replay sweep as a report (the sensitivity table: replayed reward with its interval per setting, the held-out
DR of its final policy, the best setting and those tied with it; settings that cannot be evaluated shown as such;
its JSON shape) and as a plot (drawn as bench's sweep plot is, render/sweep.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from banditmap.recommend.replaysweep import ReplaySweep
from banditmap.render.replay import _cell, _number, estimate_dict, title
from banditmap.render.replay import warnings as replay_warnings
from banditmap.render.report import Report, from_rows
from banditmap.render.sweep import BAR, draw

REPLAY_SWEEP_SCHEMA = "banditmap.replaysweep/1"
NOT_EVALUABLE = "cannot be evaluated"


def replay_sweep_dict(swept: ReplaySweep, timings: bool = True) -> dict[str, Any]:
    """The sweep as plain data. Everything but "timing" is a function of the seed and the inputs; a setting that
    cannot be evaluated has its reason and no figures (null)."""
    result, info = swept.replay, swept.replay.info
    best = swept.best
    out: dict[str, Any] = {
        "schema": REPLAY_SWEEP_SCHEMA,
        "seed": result.seed,
        "method": result.method,
        "log": {"path": info.path, "rows": info.rows, "actions": info.n_actions, "features": info.features,
                "uniform_logging": info.uniform, "binary_reward": info.binary,
                "propensities_estimated": info.estimated},
        "split": {"learning_rows": result.learning_rows, "heldout_rows": result.heldout_rows},
        "algorithm": {"id": swept.algorithm, "name": swept.name},
        "parameters": list(swept.parameters),
        "fixed": dict(swept.fixed),
        "logging_policy": estimate_dict(result.logging),
        "logging_policy_heldout": estimate_dict(result.logging_heldout),
        "best": None if best is None else best.label,
        "flat": [s.label for s in swept.flat],
        "settings": [{
            "label": s.label, "values": dict(s.values), "evaluable": s.evaluable,
            "problem": s.result.problem or ("" if s.evaluable else "too few replayed rounds for an interval"),
            "remedy": s.result.remedy, "replayed_rounds": s.result.kept, "matched_rows": s.result.matched,
            "replayed": estimate_dict(s.result.replayed) if s.evaluable else None,
            "replayed_gain": estimate_dict(s.result.replayed_gain) if s.evaluable else None,
            "final_policy_dr": estimate_dict(s.result.final["dr"]) if s.result.final["dr"].known else None,
            "final_policy_problem": s.result.problem or s.result.final_problem,
            "tied_with_best": s.tied, "warnings": list(s.result.warnings),
            "curve": [_number(v) for v in s.result.curve] if s.evaluable else None,
        } for s in swept.settings],
        "checkpoints": list(result.checkpoints),
        "logging_curve": [_number(v) for v in result.logging_curve],
        "warnings": list(result.warnings),
        "verdict": list(swept.verdict),
    }
    if timings:
        out["timing"] = {"about": "wall-clock time on this machine; differs from run to run",
                         "seconds": {s.label: round(s.result.seconds, 3) for s in swept.settings}}
    return out


def replay_sweep_rows(swept: ReplaySweep) -> tuple[list[str], list[list[str]]]:
    header = ["setting", "replayed reward (95% CI)", "bar", "vs logging", "held-out DR (95% CI)", "rounds",
              "vs best"]
    best = swept.best
    top = max([s.result.replayed.value for s in swept.settings if s.evaluable] + [0.0]) or 1.0
    rows = [["logging policy", _cell(swept.replay.logging), "", "", _cell(swept.replay.logging_heldout),
             str(swept.replay.learning_rows), ""]]
    for s in swept.settings:
        r = s.result
        if not s.evaluable:  # nothing shown that cannot be trusted: the verdict says why
            rows.append([s.label, NOT_EVALUABLE, "", "-", "-", str(r.kept), "-"])
            continue
        vs = "best" if s is best else "tied (intervals overlap)" if s.tied else "below"
        bar = "#" * max(0, round(BAR * r.replayed.value / top)) if top > 0 else ""
        rows.append([s.label, _cell(r.replayed), bar, _cell(r.replayed_gain, "+"), _cell(r.final["dr"]),
                     str(r.kept), vs])
    return header, rows


def replay_sweep_report(swept: ReplaySweep, timings: bool = True) -> Report:
    """The sweep as a report: one row per setting in the grid's order, after the logging policy's."""
    header, rows = replay_sweep_rows(swept)
    fixed = ", ".join(f"{name}={value:g}" for name, value in swept.fixed.items())
    heading = (f"Replay sweep of {swept.name} ({swept.algorithm}" + (f"; fixed: {fixed}" if fixed else "")
               + ") on " + title(swept.replay))
    return from_rows(heading, header, rows, replay_sweep_dict(swept, timings), verdict="\n".join(swept.verdict),
                     warnings=tuple(replay_warnings(swept.replay)))


def replay_plot(swept: ReplaySweep, path: Path) -> None:
    """Replayed reward with its 95% interval per evaluable setting (those that cannot be evaluated are left out
    and named in the title), to PNG or SVG."""
    best = swept.best
    points = [(s.label, s.values, s.result.replayed.value, s.result.replayed.value - s.result.replayed.low,
               s.result.replayed.high - s.result.replayed.value,
               "tab:green" if s is best else "tab:blue" if s.tied else "tab:gray")
              for s in swept.settings if s.evaluable]
    left_out = [s.label for s in swept.settings if not s.evaluable]
    heading = f"{swept.name}: green best, blue tied with it (intervals overlap), gray below"
    if left_out:
        heading += f"\nnot evaluable on this log, not drawn: {'; '.join(left_out)}"
    draw(path, swept.parameters, points, f"replayed reward per decision ({swept.replay.learning_rows:,} learning rows)",
         heading)
