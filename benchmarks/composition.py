"""How many complete questionnaires get an answer: random consistent profiles with every choice trait answered
(those the questionnaire asks given earlier answers), ranked as `recommend --batch` ranks them, with and without
compositions. Prints the shares of profiles with an exact entry, a composition, and only nearest candidates."""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from banditmap.catalog import load_catalog  # noqa: E402
from banditmap.matching import rank, score_table  # noqa: E402
from banditmap.profiles import first_violation  # noqa: E402

PROFILES = 3000
SEED = 7


def random_profiles(count: int, seed: int) -> list[dict[str, str]]:
    """Profiles answering, in questionnaire order, every choice trait asked given the earlier answers; a
    profile that contradicts a consistency rule is drawn again."""
    catalog = load_catalog()
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    while len(out) < count:
        answers: dict[str, str] = {}
        for trait in catalog.choice_traits:
            if all(c.holds(answers) for c in trait.ask_if):
                answers[trait.id] = rng.choice(trait.values)
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


if __name__ == "__main__":
    main()
