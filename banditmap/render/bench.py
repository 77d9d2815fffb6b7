"""A race as a report (summary table, regret curves drawn in text, the verdict, notes, its JSON shape) and as a plot."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from banditmap.errors import BanditmapError
from banditmap.render import plotting
from banditmap.render.report import Report, from_rows
from banditmap.sim.bench import BASELINES, BenchResult

BENCH_SCHEMA = "banditmap.bench/3"  # 3: "exact" and "misses" per algorithm
MARKS = "ox+*#@%&=~"


TIMED = ("us_per_decision",)  # the wall-clock fields of an AlgorithmResult


def bench_dict(result: BenchResult, timings: bool = True) -> dict[str, Any]:
    """The result as plain data. Everything but "timing" is a function of the seed and the inputs; wall-clock
    figures sit under "timing" only, and only when `timings` is on, so two runs compare byte for byte without."""
    out: dict[str, Any] = {
        "schema": BENCH_SCHEMA,
        "seed": result.seed,
        "problem": dataclasses.asdict(result.problem),
        "environment": dict(result.environment),
        "rounds": list(result.rounds),
        "verdict": result.verdict,
        "notes": list(result.notes),
        "skipped": [{"id": i, "reason": why} for i, why in result.skipped],
        "algorithms": [{**{k: v for k, v in dataclasses.asdict(r).items()
                           if not k.startswith("curve") and k not in TIMED},
                        "exact": None if baseline(r.id) else r.id not in result.misses,
                        "misses": list(result.misses.get(r.id, ())),
                        "curve": list(r.curve), "curve_low": list(r.curve_low), "curve_high": list(r.curve_high)}
                       for r in result.results],
    }
    if timings:
        out["timing"] = {"about": "wall-clock time on this machine; differs from run to run",
                         "us_per_decision": {r.id: r.us_per_decision for r in result.results}}
    return out


def interval(value: float, half_width: float | None, digits: int, sign: str = "") -> str:
    """"mean +/- half-width", with n/a where there is no interval (a single repetition)."""
    spread = "n/a" if half_width is None else f"{half_width:.{digits}f}"
    return f"{value:{sign}.{digits}f} +/- {spread}"


def bench_rows(result: BenchResult, timings: bool = True) -> tuple[list[str], list[list[str]]]:
    best_arm = result.problem.objective == "best_arm" and result.results[0].identified is not None
    header = ["rank", "id", "regret (95% CI)", "reward/round, last 10%", "optimal", "us/decision", "vs best"]
    if best_arm:
        header.insert(5, "best arm found")
    safety = result.results[0].below_baseline is not None
    if safety:
        header.insert(5, "under baseline")
    marked = bool(result.misses)
    if marked:
        header.insert(2, "answers handled")
    rows = []
    for i, r in enumerate(result.results, 1):
        vs = "best" if i == 1 else (interval(r.gap_to_best, r.gap_ci, 1, "+") + (" (tie)" if r.tied_with_best else ""))
        row = [str(i), r.id, interval(r.regret, r.regret_ci, 1), interval(r.last_reward, r.last_reward_ci, 4),
               f"{100 * r.optimal_share:.1f}%", f"{r.us_per_decision:.2f}", vs]
        if best_arm:
            row.insert(5, f"{100 * (r.identified or 0):.0f}%")
        if safety:
            row.insert(5, f"{100 * (r.below_baseline or 0):.1f}%")
        if marked:
            row.insert(2, handled(result, r.id))
        rows.append(row)
    if not timings:
        column = header.index("us/decision")
        header.pop(column)
        for row in rows:
            row.pop(column)
    return header, rows


def baseline(candidate_id: str) -> bool:
    return candidate_id in BASELINES.values()


def handled(result: BenchResult, candidate_id: str) -> str:
    """"all", "nearest: misses trait=value" for a nearest candidate, or "baseline"."""
    if baseline(candidate_id):
        return "baseline"
    if candidate_id not in result.misses:
        return "all"
    return "nearest: misses " + ", ".join(result.misses[candidate_id])


def text_curves(result: BenchResult, width: int = 64, height: int = 14) -> str:
    """Mean cumulative regret against rounds, one mark per algorithm, drawn with plain characters."""
    top = max(max(r.curve) for r in result.results)
    bottom = min(0.0, min(min(r.curve) for r in result.results))  # regret against a budget LP can dip below 0
    span = (top - bottom) or 1.0
    rounds = result.rounds
    grid = [[" "] * width for _ in range(height)]
    for n, r in enumerate(result.results):
        mark = MARKS[n % len(MARKS)]
        for col in range(width):
            at = min(len(rounds) - 1, round(col * (len(rounds) - 1) / max(width - 1, 1)))
            row = height - 1 - min(height - 1, max(0, int((r.curve[at] - bottom) / span * (height - 1) + 0.5)))
            grid[row][col] = mark
    label_width = max(len(f"{top:.0f}"), len(f"{bottom:.0f}"))
    lines = []
    for i, cells in enumerate(grid):
        value = bottom + span * (height - 1 - i) / (height - 1)
        label = f"{value:.0f}".rjust(label_width) if i in (0, height // 2, height - 1) else " " * label_width
        lines.append(f"{label} |{''.join(cells)}")
    lines.append(" " * label_width + " +" + "-" * width)
    lines.append(" " * label_width + f"  1{' ' * (width - len(str(rounds[-1])) - 1)}{rounds[-1]}  rounds")
    legend = "   ".join(f"{MARKS[n % len(MARKS)]} {r.id}" for n, r in enumerate(result.results))
    return "Cumulative regret (mean over repetitions)\n" + "\n".join(lines) + "\n" + legend + "\n"


def bench_report(result: BenchResult, timings: bool = True) -> Report:
    """The race as a report; with `timings` off no wall-clock figure appears, so the output depends on the seed
    and the inputs alone."""
    header, rows = bench_rows(result, timings)
    notes = (list(result.problem.notes) + list(result.notes)
             + [f"{i} not raced: {why}" for i, why in result.skipped])
    return from_rows(result.problem.describe(), header, rows, bench_dict(result, timings),
                     extras="\n" + text_curves(result), verdict=result.verdict, notes=tuple(notes))


def check_plot_path(path: Path) -> None:
    """Refuse a plot file name we cannot write before spending time on the race."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise BanditmapError("expected a .png or .svg file name", field="--plot", source=str(path))


def plot(result: BenchResult, path: Path) -> None:
    """Mean cumulative regret with 95% bands, to PNG or SVG (needs the optional matplotlib)."""
    check_plot_path(path)
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for r in result.results:
        ax.plot(result.rounds, r.curve, label=r.name)
        ax.fill_between(result.rounds, r.curve_low, r.curve_high, alpha=0.2)
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative regret")
    ax.set_title(result.problem.describe(), fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plotting.save(plt, fig, path)

