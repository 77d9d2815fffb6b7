"""How many complete questionnaires get an answer: random consistent profiles with every choice trait answered
(those the questionnaire asks given earlier answers, the map entry answered "bandit"), ranked as
`recommend --batch` ranks them, with and without compositions. Prints the shares of profiles with an exact entry, a composition, and only nearest candidates."""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from banditmap.catalog.loading import load_catalog  # noqa: E402
from banditmap.catalog.profiles import first_violation  # noqa: E402
from banditmap.model import Catalog  # noqa: E402
from banditmap.recommend.matching import rank, score_table  # noqa: E402

PROFILES = 3000
SKEWED = 0.7  # in the second sample, each trait keeps its default with this probability
SEED = 7


def random_profiles(count: int, seed: int, keep_default: float = 0.0) -> list[dict[str, str]]:
    """Profiles answering, in questionnaire order, every choice trait asked given the earlier answers (each keeps
    its default with probability `keep_default`, else any answer); a profile that contradicts a consistency rule
    is drawn again."""
    catalog = load_catalog()
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    while len(out) < count:
        answers: dict[str, str] = {}
        for trait in catalog.choice_traits:
            if all(c.holds(answers) for c in trait.ask_if):
                keep = trait.default is not None and rng.random() < keep_default
                answers[trait.id] = str(trait.default) if keep else rng.choice(
                    [c.id for c in trait.choices if not c.exit])  # bandit problems only
        if first_violation(answers, catalog.rules) is None:
            out.append(answers)
    return out


def main() -> None:
    catalog = load_catalog()
    profiles = random_profiles(PROFILES, SEED)
    print(f"{PROFILES:,} random consistent profiles, every asked choice trait answered (seed {SEED}); "
          f"{len(catalog.algorithms)} algorithms, {len(catalog.adapters)} adapters")
    for compose in (False, True):
        table = score_table(catalog)
        kinds: Counter[str] = Counter()
        adapters_used: Counter[int] = Counter()
        start = time.perf_counter()
        for answers in profiles:
            ranked, exact = rank(answers, table, None, compose)
            if not exact:
                kinds["nearest only"] += 1
            elif any(not r.adapters for r in ranked):
                kinds["exact entry"] += 1
            else:
                kinds["composition only"] += 1
                adapters_used[min(len(r.adapters) for r in ranked)] += 1
        seconds = time.perf_counter() - start
        answered = kinds["exact entry"] + kinds["composition only"]
        label = "with compositions" if compose else "entries only     "
        print(f"{label}: handles every answer {answered / PROFILES:6.1%} (exact entry {kinds['exact entry']:,}, "
              f"composition only {kinds['composition only']:,}), nearest only {kinds['nearest only']:,}; "
              f"non-empty answer 100%; {seconds:.2f} s")
        if compose and adapters_used:
            print("  shortest composition when no entry fits: "
                  + ", ".join(f"{n} adapter(s) {c:,}" for n, c in sorted(adapters_used.items())))
    print(f"{PROFILES:,} profiles of the same kind where each answer keeps its default with probability "
          f"{SKEWED:g}, closer to real problems, which differ from the plain case in a few traits:")
    by_unusual(catalog, random_profiles(PROFILES, SEED, SKEWED))


def by_unusual(catalog: Catalog, profiles: list[dict[str, str]]) -> None:
    """The share handled (entry or composition) by how many answers differ from the trait's default: how many
    unusual traits the literature covers together."""
    table = score_table(catalog)
    defaults = {t.id: t.default for t in catalog.choice_traits}
    totals: Counter[int] = Counter()
    handled: Counter[int] = Counter()
    for answers in profiles:
        unusual = min(sum(1 for t, v in answers.items() if v != defaults[t]), 6)
        totals[unusual] += 1
        handled[unusual] += rank(answers, table, None, True)[1]
    print(f"  handled (entry or composition) {sum(handled.values()) / len(profiles):.1%}; by answers that differ "
          "from the default: " + ", ".join(
        f"{k}{'+' if k == 6 else ''}: {handled[k] / totals[k]:.0%} of {totals[k]:,}" for k in sorted(totals)))


if __name__ == "__main__":
    main()
