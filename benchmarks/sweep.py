"""Sweep speed: `banditmap bench --usecase NAME --sweep ALGO.PARAM=lo:hi:8[:log]`, one hyperparameter over 8
settings at the use case's defaults (10,000 rounds, 50 repetitions), timed end to end as a user runs it.

Target on a 2-core machine: under 30 s for each once its kernels are compiled. Each sweep runs twice with a kernel
cache that starts empty: the first run compiles what it needs (once per installation), the second finds it cached,
as every later run does. Compiled policies race their settings one after another in this process, each on every
core; step-by-step ones in one process per core.
Run: python benchmarks/sweep.py [--engine dask] (also prints the load, since the machine may be shared)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
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
    print(f"  {'use case':20s} {'sweep':40s} {'first run':>9s} {'again':>7s}  best setting")
    failed = False
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, BANDITMAP_KERNEL_CACHE=cache)
        for usecase, sweep in SWEEPS:
            times, proc = [], None
            for _ in range(2):
                start = time.perf_counter()
                proc = subprocess.run([*banditmap_cmd(), "bench", "--usecase", usecase, "--sweep", sweep,
                                       "--engine", args.engine, "--format", "json"], capture_output=True, text=True,
                                      env=env)
                times.append(time.perf_counter() - start)
            assert proc is not None
            if proc.returncode != 0:
                print(f"  {usecase:20s} {sweep:40s} failed: {proc.stderr.strip()[-200:]}")
                failed = True
                continue
            data = json.loads(proc.stdout)
            flag = "" if times[1] < TARGET else f"  OVER the {TARGET:.0f} s target"
            print(f"  {usecase:20s} {sweep:40s} {times[0]:9.1f} {times[1]:7.1f}  {data['best']} (flat: "
                  f"{len(data['flat'])} of {len(data['settings'])}){flag}")
            failed |= times[1] >= TARGET
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
