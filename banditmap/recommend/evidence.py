"""Evidence: what the ranking takes from races over a grid of problem classes (recommend/build.py builds them).

A class is a problem signature (what the simulator builds from a profile: kind, model, reward, dynamics, feedback,
constraint, objective). The grid (catalog/evidence/grid.yaml) lists classes by their answers and the sizes to race
each at; a build races, for every class and size, the class's shortlisted candidates that have a simulator on the
same random problem instances (common random numbers: one seed per class and size, from its key, never from the
worker), and keeps per candidate how its final regret compared with the best candidate's on each instance.

The ranking adds EVIDENCE_WEIGHT / ratio points, where ratio is the candidate's geometric mean over the class's
problems of (regret + 1) / (best regret + 1): 8 points for a candidate that was always best, 4 for one whose regret
was twice the best's, 2 for four times. A candidate the class did not race gets the class median, so having no
simulator neither helps nor hurts; a profile whose class has no evidence gets no evidence points at all."""

from __future__ import annotations

import functools
import statistics
from dataclasses import dataclass
from typing import Mapping

from banditmap.errors import BanditmapError
from banditmap.model import Answer, Catalog, EvidenceClass, Reason, Standing
from banditmap.sim.problem import Problem, problem_from_answers

EVIDENCE_WEIGHT = 8.0
NO_EVIDENCE = "Order: trait fit only; this catalog carries no evidence (banditmap evidence build makes it)."


# --- classes --------------------------------------------------------------------------------------------------

def signature(problem: Problem) -> str:
    delay = problem.delay + ("-censored" if problem.censored else "")  # conversions that may never come
    parts = [problem.kind, problem.reward, problem.dynamics, delay, problem.constraint, problem.objective]
    if problem.kind == "contextual":
        parts.insert(1, problem.model)
    return "/".join(parts)


def describe(problem: Problem) -> str:
    """The class in words, without the sizes (they vary inside a class)."""
    words = [f"{problem.kind} problems", f"{problem.reward} reward"]
    if problem.kind == "contextual":
        words.append(f"{problem.model} model")
    words += [problem.dynamics, f"{problem.delay} feedback"]
    if problem.censored:
        words.append("conversions that may never come")
    if problem.constraint != "none":
        words.append(f"{problem.constraint} constraint")
    if problem.objective == "best_arm":
        words.append("best-arm identification")
    return ", ".join(words)


CLASS_TRAITS = ("feedback", "action_space", "action_structure", "constraints", "context", "multi_objective",
                "reward_type", "environment", "feedback_delay", "delay_bound", "objective")  # what a signature reads


def class_of(answers: Mapping[str, Answer]) -> str | None:
    """The class key of a profile's problem, or None when no race could be built for it. Only the choices that
    decide the signature count (sizes never change a class), so a batch of profiles shares a handful of keys."""
    return _class_of(tuple((t, answers[t]) for t in CLASS_TRAITS if t in answers))


@functools.lru_cache(maxsize=4096)
def _class_of(items: tuple[tuple[str, Answer], ...]) -> str | None:
    try:
        return signature(problem_from_answers(dict(items), rounds=1000, reps=2))
    except BanditmapError:
        return None


# --- the ranking's share --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Judged:
    """What the evidence says of one candidate for one profile: its points, its standing if it raced, and why."""

    points: float
    standing: Standing | None
    reason: Reason


def points_of(standing: Standing) -> float:
    return round(EVIDENCE_WEIGHT / standing.ratio, 2)


def neutral(cls: EvidenceClass) -> float:
    """The class median of the evidence points, for candidates the class did not race."""
    known = _NEUTRAL.get(id(cls))
    if known is not None and known[0] is cls:
        return known[1]
    values = [points_of(s) for s in cls.standings.values()]
    value = round(statistics.median(values), 2) if values else 0.0
    _NEUTRAL[id(cls)] = (cls, value)
    return value


_NEUTRAL: dict[int, tuple[EvidenceClass, float]] = {}  # by class object: a batch asks for the same class often


def evidence_class(catalog: Catalog, answers: Mapping[str, Answer]) -> EvidenceClass | None:
    if catalog.evidence is None:
        return None
    key = class_of(answers)
    return catalog.evidence.classes.get(key) if key is not None else None


def points_for(candidate: str, cls: EvidenceClass) -> float:
    """The points `judge` gives, without the words (the batch ranking needs only the number)."""
    standing = cls.standings.get(candidate)
    return neutral(cls) if standing is None else points_of(standing)


def judge(candidate: str, cls: EvidenceClass) -> Judged:
    standing = cls.standings.get(candidate)
    if standing is None:
        points = neutral(cls)
        return Judged(points, None, Reason(
            "evidence", cls.key, points,
            f"evidence: not raced in the simulated problems like yours, so their median: +{points:g}"))
    points = points_of(standing)
    return Judged(points, standing, Reason(
        "evidence", cls.key, points,
        f"evidence: regret {standing.ratio:.2g}x the best's in {standing.problems} simulated problems like yours "
        f"(geometric mean), within 10% of it in {standing.within:.0%}, mean rank {standing.rank:.1f} of "
        f"{len(cls.standings)}: +{points:g}"))


def note(catalog: Catalog, answers: Mapping[str, Answer], cls: EvidenceClass | None) -> str:
    """One line on what the evidence did to the order, or why there was none."""
    if cls is not None:
        return (f"Order: trait fit plus up to {EVIDENCE_WEIGHT:g} points of evidence from {cls.problems} simulated "
                f"problems like yours ({cls.description}: banditmap evidence show --class {cls.key}).")
    if catalog.evidence is None:
        return NO_EVIDENCE
    key = class_of(answers)
    what = f"({key}) " if key else ""
    return f"Order: trait fit only; the evidence has no simulated problems like yours {what}yet."
