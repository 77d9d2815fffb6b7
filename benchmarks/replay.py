"""Replay speed and memory: `banditmap replay` of 5 algorithms (plus the uniform baseline) over a generated log.

Target on a 2-core machine: 1,000,000 rows, 20 actions, 10 context features, under 60 s with peak memory under
1 GiB. The log is written first by `banditmap make-logs` (not timed); the replay runs as its own process, whose
wall time and peak resident memory are printed.
Run: python benchmarks/replay.py [--rows 1000000] [--algorithms linucb,lin-ts,eps-greedy-oracle,ucb1,thompson-beta]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def banditmap_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("banditmap")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "banditmap"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--actions", type=int, default=20)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--logging", default="uniform")
    parser.add_argument("--algorithms", default="linucb,lin-ts,eps-greedy-oracle,ucb1,thompson-beta")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "logs.csv"
        profile = ["--set", f"n_actions={args.actions}", "--set", "context=linear",
                   "--set", f"n_features={args.features}", "--set", "reward_type=binary"]
        started = time.perf_counter()
        subprocess.run(banditmap_cmd() + ["make-logs", str(log), "--rows", str(args.rows), "--logging", args.logging,
                                          *profile], check=True, stderr=subprocess.DEVNULL)
        made = time.perf_counter() - started
        made_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        made_cpu = made_usage.ru_utime + made_usage.ru_stime
        size = log.stat().st_size
        started = time.perf_counter()
        done = subprocess.run(banditmap_cmd() + ["replay", str(log), "--algorithms", args.algorithms,
                                                 "--format", "json"], check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # make-logs and replay, both finished
    peak = children.ru_maxrss / 1024  # KiB -> MiB (Linux)
    cpu = children.ru_utime + children.ru_stime - made_cpu  # replay's CPU time: steadier than wall time under load
    data = json.loads(done.stdout)
    print(f"log: {args.rows:,} rows, {args.actions} actions, {args.features} features, {args.logging} logging, "
          f"{size / 2**20:.0f} MiB of CSV (written in {made:.1f} s)")
    print(f"replay of {len(data['candidates'])} policies ({args.algorithms} + uniform baseline): {seconds:.1f} s wall, "
          f"{args.rows / seconds:,.0f} rows/s, {cpu:.1f} s CPU, peak memory {peak:.0f} MiB")
    for c in data["candidates"]:
        replayed = "-" if c["replayed"] is None else f"{c['replayed']['value']:.4f}"
        final = c["final_policy"] and c["final_policy"]["dr"]["value"]
        print(f"  {c['id']:<20} {c['replayed_rounds']:>7,} replayed rounds  "
              f"{data['timing']['replay_seconds'][c['id']]:6.1f} s replaying  replayed {replayed}  "
              f"final DR {'-' if final is None else f'{final:.4f}'}")
    print("targets: under 60 s and 1 GiB (replay),", "met" if seconds < 60 and peak < 1024 else "NOT met",
          "| under 20 s (the compiled race's),", "met" if seconds < 20 else "NOT met")


if __name__ == "__main__":
    main()
