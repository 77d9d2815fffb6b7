"""Which candidates race on a profile's problem: the named ones or the first of its shortlist whose simulator runs
on that problem kind, and the problem kind's uniform random baseline."""

from __future__ import annotations

from typing import Sequence

from banditmap.model import Catalog, Profile
from banditmap.recommend.candidates import BASELINE_NAME, Chosen, Usable, pick, simulator_kinds
from banditmap.sim.bench import BASELINES
from banditmap.sim.problem import Problem


def choose(catalog: Catalog, profile: Profile, problem: Problem, requested: Sequence[str] | None, top: int,
           baseline: bool) -> tuple[list[Chosen], list[tuple[str, str]]]:
    """(candidate id, name, simulator) to race, and (id, reason) for shortlisted candidates left out. Compositions
    race like entries: their simulator is the base's wrapped by each adapter's."""
    def why_not(simulator: str) -> str | None:
        kinds = simulator_kinds(simulator)
        if problem.kind in kinds:
            return None
        where = f" (it runs on {' and '.join(sorted(kinds))} problems)" if kinds else ""
        return f"its simulator does not run on {problem.kind} problems{where}"

    chosen, skipped = pick(catalog, profile, requested, top, Usable(
        why_not, "no simulator yet", "none of the shortlisted algorithms has a simulator for this problem yet",
        "bench", compositions=True))
    if baseline and problem.kind in BASELINES and not any(c[2] == BASELINES[problem.kind] for c in chosen):
        chosen.append((BASELINES[problem.kind], BASELINE_NAME, BASELINES[problem.kind]))
    return chosen, skipped
