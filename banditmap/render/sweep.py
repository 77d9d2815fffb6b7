"""A sweep as a report (the sensitivity table: regret with its interval per setting, the best, how flat the optimum
is; its JSON shape) and as a plot."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

from banditmap.render import plotting
from banditmap.render.bench import check_plot_path, interval
from banditmap.render.report import Report, from_rows
from banditmap.sim.sweep import SweepResult, Value

SWEEP_SCHEMA = "banditmap.sweep/1"
BAR = 20  # characters of the longest regret bar


def sweep_dict(result: SweepResult, timings: bool = True) -> dict[str, Any]:
    """The sweep as plain data. Everything but "timing" is a function of the seed and the inputs; wall-clock
    figures sit under "timing" only, and only when `timings` is on."""
    out: dict[str, Any] = {
        "schema": SWEEP_SCHEMA,
        "seed": result.seed,
        "problem": dataclasses.asdict(result.problem),
        "environment": dict(result.environment),
        "algorithm": {"id": result.algorithm, "name": result.name},
        "parameters": list(result.parameters),
        "fixed": dict(result.fixed),
        "rounds": list(result.rounds),
        "verdict": result.verdict,
        "notes": list(result.notes),
        "best": result.best.label,
        "flat": [s.label for s in result.flat],
        "settings": [{**{k: v for k, v in dataclasses.asdict(s).items()
                         if not k.startswith("curve") and k not in ("seconds", "values")},
                      "values": dict(s.values), "curve": list(s.curve), "curve_low": list(s.curve_low),
                      "curve_high": list(s.curve_high)}
                     for s in result.settings],
    }
    if timings:
        out["timing"] = {"about": "wall-clock time on this machine; differs from run to run",
                         "seconds": {s.label: s.seconds for s in result.settings}}
    return out


def sweep_rows(result: SweepResult) -> tuple[list[str], list[list[str]]]:
    header = ["setting", "regret (95% CI)", "regret bar", "reward/round, last 10%", "optimal", "vs best"]
    best = result.best
    top = max(max(s.regret for s in result.settings), 0.0) or 1.0
    rows = []
    for s in result.settings:
        if s is best:
            vs = "best"
        else:
            vs = interval(s.gap_to_best, s.gap_ci, 1, "+") + (" (flat)" if s.near_best else "")
        bar = "#" * max(0, round(BAR * s.regret / top))
        rows.append([s.label, interval(s.regret, s.regret_ci, 1), bar, interval(s.last_reward, s.last_reward_ci, 4),
                     f"{100 * s.optimal_share:.1f}%", vs])
    return header, rows


def sweep_report(result: SweepResult, timings: bool = True) -> Report:
    """The sweep as a report: one row per setting in the grid's order. Nothing in the table is wall-clock, so
    `timings` only decides the JSON's "timing"."""
    header, rows = sweep_rows(result)
    fixed = ", ".join(f"{name}={value:g}" for name, value in result.fixed.items())
    title = (f"Sweep of {result.name} ({result.algorithm}"
             + (f"; fixed: {fixed}" if fixed else "") + f") on {result.problem.describe()}")
    return from_rows(title, header, rows, sweep_dict(result, timings), verdict=result.verdict,
                     notes=tuple(result.problem.notes) + result.notes)


def plot(result: SweepResult, path: Path) -> None:
    """Final regret with its 95% interval per setting, to PNG or SVG (needs the optional matplotlib): against
    the value for one swept hyperparameter (a log axis for values spanning 10x or more), as bars for a grid."""
    colours = ["tab:green" if s is result.best else "tab:blue" if s.near_best else "tab:gray"
               for s in result.settings]
    draw(path, result.parameters, [(s.label, s.values, s.regret, s.regret_ci or 0.0, s.regret_ci or 0.0, colour)
                                   for s, colour in zip(result.settings, colours, strict=True)],
         f"cumulative regret after {result.problem.rounds} rounds",
         f"{result.name}: green best, blue indistinguishable from it, gray worse\n{result.problem.describe()}")


Point = tuple[str, Mapping[str, Value], float, float, float, str]  # label, values, y, below, above, colour


def draw(path: Path, parameters: Sequence[str], points: Sequence[Point], measure: str, heading: str) -> None:
    """A sensitivity plot: each setting's figure with its interval (`below` and `above` it), against the value
    for one swept hyperparameter (a log axis for values spanning 10x or more), as bars for a grid."""
    check_plot_path(path)
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    y = [p[2] for p in points]
    errors = [[p[3] for p in points], [p[4] for p in points]]
    colours = [p[5] for p in points]
    if len(parameters) == 1:
        name = parameters[0]
        x = [float(p[1][name]) for p in points]
        ax.errorbar(x, y, yerr=errors, fmt="-", color="silver", ecolor="gray", capsize=3, zorder=1)
        ax.scatter(x, y, c=colours, zorder=2)
        if x and min(x) > 0 and max(x) / min(x) >= 10:
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel(measure)
    else:
        labels = [p[0] for p in points]
        ax.barh(range(len(labels)), y, xerr=errors, color=colours, capsize=3)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(measure)
    ax.set_title(heading, fontsize=8)
    fig.tight_layout()
    plotting.save(plt, fig, path)
