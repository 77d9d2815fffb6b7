"""Sweep speed: `banditmap bench --usecase NAME --sweep ALGO.PARAM=lo:hi:8[:log]`, one hyperparameter over 8
settings at the use case's defaults (10,000 rounds, 50 repetitions), timed end to end as a user runs it.

Target on a 2-core machine: under 30 s for each. A compiled policy (epsilon-greedy) races its settings one after
another in this process, each on every core; a step-by-step one (sliding-window UCB) in one process per core.
Run: python benchmarks/sweep.py [--engine dask] (also prints the load, since the machine may be shared)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TARGET = 30.0
SWEEPS = [("homepage-banner", "epsilon-greedy.epsilon=0.01:0.5:8:log"),
          ("seasonal-promotion", "sw-ucb.window=100:10000:8:log")]


def banditmap_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("banditmap")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "banditmap"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="local", choices=["local", "dask"])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; engine: {args.engine}")
    print(f"  {'use case':20s} {'sweep':40s} {'seconds':>8s}  best setting")
    failed = False
    for usecase, sweep in SWEEPS:
        start = time.perf_counter()
        proc = subprocess.run([*banditmap_cmd(), "bench", "--usecase", usecase, "--sweep", sweep, "--engine",
                               args.engine, "--format", "json"], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"  {usecase:20s} {sweep:40s} failed: {proc.stderr.strip()[-200:]}")
            failed = True
            continue
        data = json.loads(proc.stdout)
        flag = "" if seconds < TARGET else f"  OVER the {TARGET:.0f} s target"
        print(f"  {usecase:20s} {sweep:40s} {seconds:8.1f}  {data['best']} (flat: {len(data['flat'])} of "
              f"{len(data['settings'])}){flag}")
        failed |= seconds >= TARGET
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
