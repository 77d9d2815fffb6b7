"""The evidence as reports: its classes, one class's candidates, and what a build did."""

from __future__ import annotations

from typing import Any

from banditmap.catalog.evidence import evidence_dict
from banditmap.model import Evidence, EvidenceClass, Standing
from banditmap.recommend.build import BuildResult
from banditmap.recommend.evidence import points_of
from banditmap.render.report import Report, from_rows

EVIDENCE_SHOW_SCHEMA = "banditmap.evidence-show/1"


def classes_report(evidence: Evidence) -> Report:
    """One row per class: its problems, its candidates and the one with the lowest regret ratio."""
    header = ["class", "problems", "candidates", "best (ratio)", "runner-up (ratio)"]
    rows = []
    for key, cls in sorted(evidence.classes.items()):
        best = [f"{s.candidate} ({s.ratio:.2f})" for s in by_ratio(cls)[:2]] + ["", ""]
        rows.append([key, str(cls.problems), str(len(cls.standings)), best[0], best[1]])
    return from_rows(f"Evidence: {len(evidence.classes)} classes of simulated problems ({evidence.source})", header,
                     rows, {"schema": EVIDENCE_SHOW_SCHEMA, **evidence_dict(evidence)},
                     notes=provenance_notes(evidence))


def class_report(evidence: Evidence, cls: EvidenceClass) -> Report:
    """A class's candidates, lowest regret ratio first, with the points the ranking gives them."""
    header = ["rank", "candidate", "ratio (geo. mean)", "ratio quartiles", "within 10% of best", "mean rank",
              "points"]
    rows = [[str(i), s.candidate, f"{s.ratio:.3f}", f"{s.ratio_low:.2f} - {s.ratio_high:.2f}", f"{s.within:.0%}",
             f"{s.rank:.1f}", f"{points_of(s):g}"] for i, s in enumerate(by_ratio(cls), 1)]
    data: dict[str, Any] = {"schema": EVIDENCE_SHOW_SCHEMA, "provenance": dict(evidence.provenance),
                            "class": cls.key, **evidence_dict(evidence)["classes"][cls.key]}
    return from_rows(f"{cls.key}: {cls.description}; {cls.problems} problems per candidate", header, rows, data,
                     footer="ratio: (regret + 1) / (best regret + 1) on the same problem; 1 = always the best. "
                            "Points: what the ranking adds (8 / ratio).",
                     notes=provenance_notes(evidence))


def by_ratio(cls: EvidenceClass) -> list[Standing]:
    """A class's candidates, lowest regret ratio first, ids breaking ties."""
    return sorted(cls.standings.values(), key=lambda s: (s.ratio, s.candidate))


def provenance_notes(evidence: Evidence) -> tuple[str, ...]:
    p = evidence.provenance
    return (f"built by banditmap {p.get('banditmap')} from {p.get('grid')} (digest {p.get('grid_digest')}), "
            f"{p.get('rounds')} rounds, {p.get('instances')} instances per class and size",)


def build_report(result: BuildResult) -> Report:
    """The classes written (as `evidence show` lists them), how long it took, and what could not race."""
    shown = classes_report(result.evidence)
    line = (f"{result.tasks} races ({result.resumed} taken from an interrupted build) in {result.seconds:.1f} s, "
            f"{result.races_per_second:.2f} races/s; {len(result.evidence.classes)} classes written to {result.out}")
    warnings = tuple(result.notes) + tuple(f"{c}: {cand} could not race: {why}" for c, cand, why in result.refused)
    data = {"schema": "banditmap.evidence-build/1", "races": result.tasks, "resumed": result.resumed,
            "seconds": round(result.seconds, 2), "out": str(result.out), "classes": len(result.evidence.classes),
            "left_out": list(warnings)}
    return Report(shown.title, shown.header, shown.rows, data, verdict=line, notes=shown.notes, warnings=warnings)
