"""Does the ranking agree with the race? For every shipped use case, `bench` with default settings (the top 5
simulated candidates of the shortlist, 10,000 rounds at most, 50 repetitions, seed 0) against the recommended
order of the same candidates (when fewer than 3 exact candidates can race, the nearest ones top the race up,
after the exact ones in the recommended order): whether the recommender's first is in the race's top 2, and the
Kendall rank correlation (tau-b) between the two orders. Printed with the catalog's evidence (the shipped file)
and without it (trait fit alone), so the evidence's effect is measured side by side on the same races.

Each figure is given twice. "Strict" takes the race's order of mean regrets as it falls, so two candidates whose
regrets the race cannot tell apart still count as ordered by their noise. "Resolved" orders two candidates only
where the race does: where the paired 95% interval of their difference (over the race's repetitions, which share
their draws) excludes 0, and counts the pair as tied otherwise: the recommender's first is in the top 2 when at
most one candidate beats it with that confidence, and tau-b takes the race's ties as ties (Kendall's tau-b for
tied ranks; a race that separates no pair has no order to agree with and is left out of the mean).

    python benchmarks/evidence.py [USECASE ...]
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from banditmap.catalog.loading import load_catalog  # noqa: E402
from banditmap.errors import BanditmapError  # noqa: E402
from banditmap.model import Catalog, Profile  # noqa: E402
from banditmap.recommend.race import RaceRequest, choose_lineup, race_profile  # noqa: E402
from banditmap.sim import stats  # noqa: E402
from banditmap.sim.bench import BASELINES  # noqa: E402
from banditmap.sim.problem import problem_from_answers  # noqa: E402


def kendall_tau_b(first: list[str], second: list[str]) -> float:
    """Kendall's tau-b between two orders of the same items (no ties within an order)."""
    where = {item: i for i, item in enumerate(second)}
    concordant = discordant = 0
    for i in range(len(first)):
        for j in range(i + 1, len(first)):
            if where[first[i]] < where[first[j]]:
                concordant += 1
            else:
                discordant += 1
    pairs = concordant + discordant
    return (concordant - discordant) / pairs if pairs else 1.0


def separated(values: dict[str, np.ndarray]) -> dict[tuple[str, str], int]:
    """For every ordered pair (a, b): -1 when a's regret is lower than b's with 95% confidence (paired over the
    repetitions), 1 when higher, 0 when the race cannot tell them apart."""
    out = {}
    for a in values:
        for b in values:
            if a != b:
                gap, half = stats.paired_difference(values[a], values[b])
                out[a, b] = 0 if half is None or abs(gap) <= half else (-1 if gap < 0 else 1)
    return out


def resolved_tau(first: list[str], verdicts: dict[tuple[str, str], int]) -> float:
    """Kendall's tau-b between an order without ties and the race's order with its ties (pairs it cannot
    separate); nan when it separates no pair."""
    concordant = discordant = tied = 0
    for i in range(len(first)):
        for j in range(i + 1, len(first)):
            verdict = verdicts[first[i], first[j]]
            tied += verdict == 0
            concordant += verdict == -1
            discordant += verdict == 1
    pairs = concordant + discordant + tied
    if pairs == tied:
        return float("nan")
    return (concordant - discordant) / math.sqrt(pairs * (pairs - tied))


def recommended_order(catalog: Catalog, answers: dict[str, object], raced: list[str]) -> list[str]:
    """The raced candidates in the order this catalog's shortlist puts them."""
    problem = problem_from_answers(answers)  # type: ignore[arg-type]
    lineup = choose_lineup(catalog, Profile(answers), problem, None, 100, False)  # type: ignore[arg-type]
    order = [c[0] for c in lineup.chosen]
    return sorted(raced, key=lambda c: order.index(c) if c in order else len(order))


@dataclass(frozen=True)
class Agreement:
    """How one recommended order agrees with one race: strictly and as far as the race resolves it."""

    top2: bool
    tau: float
    resolved_top2: bool
    resolved_tau: float

    @classmethod
    def of(cls, order: list[str], race: list[str], verdicts: dict[tuple[str, str], int]) -> Agreement:
        beaten_by = sum(verdicts[other, order[0]] == -1 for other in race if other != order[0])
        return cls(order[0] in race[:2], kendall_tau_b(order, race), beaten_by <= 1, resolved_tau(order, verdicts))


def main(names: list[str]) -> None:
    catalog = load_catalog()
    plain = dataclasses.replace(catalog, evidence=None)
    if catalog.evidence is None:
        print("the catalog carries no evidence: run `make evidence` first")
    cases = [u for u in catalog.usecases if not names or u.id in names]
    print(f"{len(cases)} use cases, bench defaults (top 5 simulated candidates, <= 10,000 rounds, 50 repetitions)")
    print(f"{'':<26} {'':>5} {'':>5} {'':>4}  {'with evidence':^31}   {'trait fit alone':^31}")
    print(f"{'use case':<26} {'raced':>5} {'exact':>5} {'near':>4}  {'top 2':>6} {'tau':>6} {'res.top 2':>10} "
          f"{'res.tau':>7}   {'top 2':>6} {'tau':>6} {'res.top 2':>10} {'res.tau':>7}  seconds")
    rows: list[tuple[int, int, Agreement, Agreement]] = []
    for case in cases:
        started = time.perf_counter()
        try:
            result = race_profile(catalog, Profile(case.answers, case.id), RaceRequest())
        except BanditmapError as exc:
            print(f"{case.id:<26} {0:>5}  not raced: {exc.message}")
            continue
        baseline = BASELINES.get(result.problem.kind)
        race = [r.id for r in result.results if r.id != baseline]
        verdicts = separated({c: np.asarray(result.measured[c]) for c in race})
        with_ev = Agreement.of(recommended_order(catalog, dict(case.answers), race), race, verdicts)
        without = Agreement.of(recommended_order(plain, dict(case.answers), race), race, verdicts)
        near = sum(r in result.misses for r in race)
        rows.append((len(race), near, with_ev, without))
        cells = "   ".join(f"{str(a.top2):>6} {a.tau:>6.2f} {str(a.resolved_top2):>10} {a.resolved_tau:>7.2f}"
                           for a in (with_ev, without))
        print(f"{case.id:<26} {len(race):>5} {len(race) - near:>5} {near:>4}  {cells}  "
              f"{time.perf_counter() - started:7.1f}")
    several = [r for r in rows if r[0] >= 3]
    for label, which in (("with evidence", 2), ("trait fit alone", 3)):
        chosen = [r[which] for r in rows]
        among = [r[which] for r in several]
        taus = [a.resolved_tau for a in among if not math.isnan(a.resolved_tau)]
        print(f"{label:<16}: first candidate in the race's top 2 for {sum(a.top2 for a in chosen)} of {len(rows)} "
              f"use cases strictly, {sum(a.resolved_top2 for a in chosen)} as far as the race resolves; mean "
              f"Kendall tau-b {sum(a.tau for a in among) / max(len(among), 1):.2f} strictly, "
              f"{sum(taus) / max(len(taus), 1):.2f} with the race's ties (over the {len(among)} use cases racing at "
              f"least 3 candidates{left_out(len(among) - len(taus))})")
    print(f"use cases racing at least 3 candidates: {len(several)} of {len(rows)} "
          f"({'every one' if len(several) == len(rows) == len(cases) else 'not every one'}); with 3 or more exact "
          f"candidates: {sum(r[0] - r[1] >= 3 for r in rows)}; nearest candidates raced in "
          f"{sum(r[1] > 0 for r in rows)}")


def left_out(count: int) -> str:
    return f"; {count} whose race separates no pair left out" if count else ""


if __name__ == "__main__":
    main(sys.argv[1:])
