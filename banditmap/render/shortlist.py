"""A shortlist as a report: ranked candidates with the reasons, what was ruled out, and its JSON shape."""

from __future__ import annotations

from typing import Any

from banditmap.model import EvidenceClass, Match, Reason, Shortlist, Standing
from banditmap.render.report import Report, from_rows

SHORTLIST_SCHEMA = "banditmap.shortlist/3"


def shortlist_report(result: Shortlist, explain: bool = False) -> Report:
    """With `explain`, the table also lists what was ruled out and why."""
    header, rows = shortlist_rows(result, explain)
    return from_rows(shortlist_title(result), header, rows, shortlist_dict(result), message=result.advice,
                     footer=shortlist_footer(result))


# --- plain data (what JSON prints) ----------------------------------------------------------------------------

def reason_dict(reason: Reason) -> dict[str, Any]:
    return {"trait": reason.trait, "value": reason.value, "points": reason.points, "text": reason.text}


def match_dict(match: Match, rank: int | None, nearest: bool = False) -> dict[str, Any]:
    """A candidate: an entry or a composition (`components`, base first, then adapters innermost first). A kept
    one has its score and reasons; a nearest one (`nearest`) its partial score and the answers it `missed`."""
    a = match.algorithm
    out: dict[str, Any] = {"rank": rank, "id": match.id, "name": match.name, "family": a.family,
                           "maturity": a.maturity, "components": components(match)}
    if match.kept:
        out["score"] = round(match.score, 2)  # points have two decimals; their float sum may not
        out["reasons"] = [reason_dict(r) for r in match.reasons]
        out["evidence"] = standing_dict(match.standing)
    elif nearest:
        out["score"] = round(sum(r.points for r in match.reasons), 2)
        out["reasons"] = [reason_dict(r) for r in match.reasons]
        out["missed"] = [reason_dict(r) for r in match.ruled_out]
    else:
        out["ruled_out"] = [reason_dict(r) for r in match.ruled_out]
    out["simulator"] = a.simulator
    return out


def standing_dict(standing: Standing | None) -> dict[str, Any] | None:
    """How a candidate fared in the simulated problems of the profile's class (None: not raced there)."""
    if standing is None:
        return None
    return {"problems": standing.problems, "ratio": standing.ratio, "within_10_percent": standing.within,
            "mean_rank": standing.rank, "ratio_quartiles": [standing.ratio_low, standing.ratio_high]}


def evidence_dict(evidence: EvidenceClass | None, note: str) -> dict[str, Any]:
    return {"class": evidence.key if evidence else None, "description": evidence.description if evidence else None,
            "problems": evidence.problems if evidence else 0, "candidates": len(evidence.standings) if evidence else 0,
            "note": note or None}


def components(match: Match) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"kind": "algorithm", "id": match.algorithm.id, "name": match.algorithm.name}]
    for adapter in match.adapters:
        parts.append({"kind": "adapter", "id": adapter.id, "name": adapter.name,
                      "references": [r.short() for r in adapter.references],
                      "lifts": {t: list(lift.gives) for t, lift in adapter.lifts.items()}})
    return parts


def shortlist_dict(result: Shortlist) -> dict[str, Any]:
    return {
        "schema": SHORTLIST_SCHEMA,
        "profile": {"name": result.profile.name, "source": result.profile.source,
                    "answers": dict(result.profile.answers)},
        "unanswered": list(result.unanswered),
        "exact": result.exact,
        "advice": result.advice or None,
        "frontier": result.frontier or None,
        "kept_total": result.kept_total,
        "evidence": evidence_dict(result.evidence, result.evidence_note),
        "shortlist": [match_dict(m, i, nearest=not result.exact) for i, m in enumerate(result.ranked, 1)],
        "ruled_out": [match_dict(m, None) for m in result.excluded],
    }


# --- the table ------------------------------------------------------------------------------------------------

def shortlist_rows(result: Shortlist, explain: bool) -> tuple[list[str], list[list[str]]]:
    header = ["rank", "id", "name", "score", "maturity", "why"]
    if result.exact:
        rows = [[str(i), m.id, m.name, f"{m.score:g}", m.algorithm.maturity, why_kept(m)]
                for i, m in enumerate(result.ranked, 1)]
    else:
        rows = [[f"~{i}", m.id, m.name, f"{sum(r.points for r in m.reasons):g}", m.algorithm.maturity,
                 "misses " + ", ".join(f"{r.trait}={r.value}" for r in m.ruled_out) + "; " + why_kept(m)]
                for i, m in enumerate(result.ranked, 1)]
    if explain:
        rows += [["-", m.algorithm.id, m.algorithm.name, "ruled out", m.algorithm.maturity,
                  "; ".join(r.text for r in m.ruled_out)] for m in result.excluded]
    return header, rows


def why_kept(match: Match) -> str:
    """What sets the algorithm apart (what it is built for, number fits), then how many answers it merely handles."""
    special = [r.text for r in match.reasons if r.trait not in ("maturity", "adapter") and r.points != 1]
    special += [r.text for r in match.reasons
                if r.trait not in ("maturity", "adapter") and r.points == 1 and not r.text.startswith("handles ")]
    handled = sum(1 for r in match.reasons if r.text.startswith("handles "))
    if handled:
        plural = "answer" if handled == 1 else "answers"
        special.append(f"handles your other {handled} {plural}" if special else f"handles all {handled} {plural}")
    return "; ".join(special)


def shortlist_title(result: Shortlist) -> str:
    name = result.profile.name or "your profile"
    if result.advice:
        return f"A bandit is not the right formulation for {name}"
    if not result.exact:
        return (f"No candidate handles every answer of {name}: the {len(result.ranked)} nearest, fewest missed "
                "answers first")
    shown = f"top {len(result.ranked)} of " if len(result.ranked) < result.kept_total else ""
    return f"Shortlist for {name}: {shown}{result.kept_total} kept, {len(result.excluded)} ruled out"


def shortlist_footer(result: Shortlist) -> str:
    lines = [f"No known method: {result.frontier}"] if result.frontier else []
    if result.unanswered:
        lines.append("Unanswered (ruled nothing out): " + ", ".join(result.unanswered))
    if result.evidence_note:
        lines.append(result.evidence_note)
    return "\n".join(lines)
