"""Recommender speed: one `recommend --format json` call, and `recommend --batch` over 10,000 profiles.

Targets on a 2-core machine: a single recommendation under 300 ms wall (start-up included), the batch under 5 s.
Run: python benchmarks/recommender.py [--runs 15] [--cases 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from banditmap.catalog.loading import load_catalog
from banditmap.catalog.profiles import first_violation


def banditmap_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("banditmap")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "banditmap"]


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def random_profiles(n: int, seed: int) -> list[dict[str, object]]:
    """Consistent random profiles: each trait answered with probability 0.7, rule-breaking draws redrawn."""
    catalog = load_catalog()
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    while len(out) < n:
        answers: dict[str, object] = {}
        for trait in catalog.traits:
            if rng.random() > 0.7:
                continue
            if trait.is_choice:
                answers[trait.id] = rng.choice([c.id for c in trait.choices if not c.exit])  # bandit problems
            elif trait.id == "n_actions":
                answers[trait.id] = rng.choice([3, 8, 40, 500, 20000])
            elif trait.id == "slate_size":
                answers[trait.id] = rng.choice([2, 3, 5])
            elif trait.id == "n_features":
                answers[trait.id] = rng.choice([5, 20, 128])
            else:
                answers[trait.id] = rng.choice([1000, 100000, 10000000])
        if first_violation(answers, catalog.rules) is None:
            out.append({"id": f"case-{len(out)}", **answers})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cases", type=int, default=10000)
    args = parser.parse_args()
    cmd = banditmap_cmd()

    single = [*cmd, "recommend", "--usecase", "homepage-banner", "--format", "json"]
    wall(single)  # warm the catalog cache and the OS file cache
    times = sorted(wall(single) for _ in range(args.runs))
    print(f"recommend --usecase homepage-banner --format json: median {statistics.median(times) * 1000:.0f} ms, "
          f"best {times[0] * 1000:.0f} ms, worst {times[-1] * 1000:.0f} ms over {args.runs} runs "
          f"(target < 300 ms)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        path.write_text("".join(json.dumps(p) + "\n" for p in random_profiles(args.cases, seed=7)))
        batch = [*cmd, "recommend", "--batch", str(path), "--top", "5"]
        seconds = min(wall(batch) for _ in range(3))
        print(f"recommend --batch with {args.cases} profiles: {seconds:.2f} s "
              f"({args.cases / seconds:,.0f} profiles/s; target < 5 s)")


if __name__ == "__main__":
    main()
