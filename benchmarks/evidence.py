"""Does the ranking agree with the race? For every shipped use case, `bench` with default settings (the top 5
simulated candidates of the shortlist, 10,000 rounds at most, 50 repetitions, seed 0) against the recommended
order of the same candidates (when fewer than 3 exact candidates can race, the nearest ones top the race up,
after the exact ones in the recommended order): whether the recommender's first is in the race's top 2, and the
Kendall rank correlation (tau-b) between the two orders. Printed with the catalog's evidence (the shipped file)
and without it (trait fit alone), so the evidence's effect is measured side by side on the same races.

    python benchmarks/evidence.py [USECASE ...]
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from banditmap.catalog.loading import load_catalog  # noqa: E402
from banditmap.errors import BanditmapError  # noqa: E402
from banditmap.model import Catalog, Profile  # noqa: E402
from banditmap.recommend.race import RaceRequest, choose_lineup, race_profile  # noqa: E402
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


def recommended_order(catalog: Catalog, answers: dict[str, object], raced: list[str]) -> list[str]:
    """The raced candidates in the order this catalog's shortlist puts them."""
    problem = problem_from_answers(answers)  # type: ignore[arg-type]
    lineup = choose_lineup(catalog, Profile(answers), problem, None, 100, False)  # type: ignore[arg-type]
    order = [c[0] for c in lineup.chosen]
    return sorted(raced, key=lambda c: order.index(c) if c in order else len(order))


def main(names: list[str]) -> None:
    catalog = load_catalog()
    plain = dataclasses.replace(catalog, evidence=None)
    if catalog.evidence is None:
        print("the catalog carries no evidence: run `make evidence` first")
    cases = [u for u in catalog.usecases if not names or u.id in names]
    print(f"{len(cases)} use cases, bench defaults (top 5 simulated candidates, <= 10,000 rounds, 50 repetitions)")
    print(f"{'use case':<26} {'raced':>5} {'exact':>5} {'near':>4}  {'first in top 2':>14} {'tau':>6}   "
          f"{'without evidence: top 2':>22} {'tau':>6}  seconds")
    rows = []
    for case in cases:
        started = time.perf_counter()
        try:
            result = race_profile(catalog, Profile(case.answers, case.id), RaceRequest())
        except BanditmapError as exc:
            print(f"{case.id:<26} {0:>5}  not raced: {exc.message}")
            rows.append((0, False, float("nan"), False, float("nan"), 0))
            continue
        baseline = BASELINES.get(result.problem.kind)
        race = [r.id for r in result.results if r.id != baseline]
        with_ev = recommended_order(catalog, dict(case.answers), race)
        without = recommended_order(plain, dict(case.answers), race)
        near = sum(r in result.misses for r in race)
        row = (len(race), with_ev[0] in race[:2], kendall_tau_b(with_ev, race), without[0] in race[:2],
               kendall_tau_b(without, race), near)
        rows.append(row)
        print(f"{case.id:<26} {row[0]:>5} {row[0] - near:>5} {near:>4}  {str(row[1]):>14} {row[2]:>6.2f}   "
              f"{str(row[3]):>22} {row[4]:>6.2f}  "
              f"{time.perf_counter() - started:7.1f}")
    several = [r for r in rows if r[0] >= 3]
    for label, top, tau in (("with evidence", 1, 2), ("trait fit alone", 3, 4)):
        hits = sum(r[top] for r in rows)
        mean_tau = sum(r[tau] for r in several) / len(several) if several else float("nan")
        print(f"{label:<16}: first candidate in the race's top 2 for {hits} of {len(rows)} use cases; mean Kendall "
              f"tau-b {mean_tau:.2f} over the {len(several)} use cases racing at least 3 candidates")
    print(f"use cases racing at least 3 candidates: {len(several)} of {len(rows)} "
          f"({'every one' if len(several) == len(rows) else 'not every one'}); with 3 or more exact candidates: "
          f"{sum(r[0] - r[5] >= 3 for r in rows)}; nearest candidates raced in {sum(r[5] > 0 for r in rows)}")


if __name__ == "__main__":
    main(sys.argv[1:])
