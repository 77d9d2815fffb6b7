"""Quick-benchmark speed: `banditmap bench` on every shipped use case, and raw throughput against MABWiser.

Targets on a 2-core machine: each default `bench --usecase` under 2 s once its kernels are compiled (banditmap run
from a venv holding it and its dependencies only, .venv-plain, made on first use); throughput (rounds x
repetitions / wall seconds) for 10 Bernoulli arms, 10,000 rounds, 100 repetitions (epsilon-greedy, UCB1, Thompson
sampling) and LinUCB with 20 arms and 10 features, compared with MABWiser's predict/partial_fit loop when mabwiser is
installed (pip install mabwiser, in the benchmark's own environment; it is not a dependency of banditmap); UCB1
against a hand-written single-policy kernel per core (decisions per CPU-second, the issue's measure, which the other
work on a shared machine moves less than wall time); and how much two threads gain over one, for a plain loop and
for the race (the race can gain no more than the machine gives).
Run: python benchmarks/simulator.py [--skip-usecases] [--mabwiser-decisions 3000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from banditmap.catalog.loading import load_catalog
from banditmap.sim.environments import sigmoid
from banditmap.sim.policies import build
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec, run


ROOT = Path(__file__).resolve().parent.parent
PLAIN = ROOT / ".venv-plain"  # banditmap and its own dependencies only


def plain_cmd() -> list[str]:
    """`banditmap` as `pip install banditmap` leaves it: a venv of its own (made here once, the source installed
    editable, so it runs this checkout) with banditmap's dependencies only. Not this benchmark's environment:
    MABWiser brings SciPy, and numba imports scipy.linalg when SciPy is present (its BLAS check when it loads its
    NumPy support), about 0.2 s of start-up banditmap does not ask for."""
    exe = PLAIN / "bin" / "banditmap"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PLAIN)], check=True)
        subprocess.run([str(PLAIN / "bin" / "python"), "-m", "pip", "install", "--quiet", "-e", str(ROOT)],
                       check=True, capture_output=True)
    return [str(exe)]


AGAIN = 3  # runs after the first (whose kernels are compiled by then): their median is shown, as one run moves by
# a few tenths of a second from one to the next on this machine


def usecase_times() -> None:
    """Each use case raced twice with a kernel cache that starts empty: the first run compiles what it needs
    (and what no earlier use case compiled), the second finds it all cached, as every later run does."""
    import os
    import tempfile
    command = plain_cmd()
    print("banditmap bench --usecase NAME (defaults: 5 algorithms + baseline, 10,000 rounds, 50 repetitions), "
          f"installed with its dependencies only ({PLAIN.name})")
    print(f"  {'use case':24s} {'first run':>10s} {'again':>8s}  (again: median of {AGAIN} runs)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, BANDITMAP_KERNEL_CACHE=cache)
        # as installed: Python keeps the modules' bytecode (pip compiles it at install), so a run does not parse
        # every module again, which PYTHONDONTWRITEBYTECODE (set on some machines) would make it do
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for usecase in load_catalog().usecases:
            times = []
            for _ in range(1 + AGAIN):
                start = time.perf_counter()
                proc = subprocess.run([*command, "bench", "--usecase", usecase.id, "--format", "json"],
                                      capture_output=True, text=True, env=env)
                times.append(time.perf_counter() - start)
            times = [times[0], float(np.median(times[1:]))]
            status = "ok" if proc.returncode == 0 else proc.stderr.strip().split(": ", 2)[-1][:70]
            flag = ""
            if proc.returncode == 0:
                flag = (" (targets: first < 30 s, again < 2 s)" if times[0] < 30 and times[1] < 2
                        else " (OVER a target: first < 30 s, again < 2 s)")
            print(f"  {usecase.id:24s} {times[0]:8.2f} s {times[1]:6.2f} s  {status}{flag}")
            if proc.returncode == 0 and times[1] >= 2:
                print(f"  {'':24s} slowest: {slowest(json.loads(proc.stdout))}")


VIEWS = {"combination": "pages-as-arms", "assortment": "assortment-as-slate"}  # as recommend/race.py views them


def slowest(result: dict) -> str:  # type: ignore[type-arg]
    """The candidates of a raced use case that took longest, with their seconds and whether they raced compiled
    (a policy with kernels on a problem the whole-race kernel covers) or in the step-by-step loop."""
    from banditmap.sim import compiled
    from banditmap.sim.problem import Problem
    problem = Problem(**{**result["problem"], "notes": tuple(result["problem"]["notes"])})
    decisions = problem.rounds * problem.reps
    spent = sorted(result["timing"]["us_per_decision"].items(), key=lambda item: -item[1])[:3]
    parts = []
    for algorithm, us in spent:
        try:
            policy = compose_policy(algorithm)
            how = "compiled" if compiled.covers(policy, problem) else "loop"
            view = VIEWS.get(problem.kind)
            if how == "loop" and view and compiled.covers(compose_policy(f"{algorithm}+{view}"), problem):
                how = f"compiled, through {view}"  # a nearest candidate the race runs through a view
        except Exception:  # an id this benchmark cannot rebuild: say so rather than guess
            how = "?"
        parts.append(f"{algorithm} {us * decisions / 1e6:.2f} s ({how})")
    return ", ".join(parts)


def compose_policy(algorithm: str) -> object:
    """A candidate's policy from its id (`base+adapter+...`, default hyperparameters)."""
    from banditmap.sim.adapters import build_wrapper
    base, *adapters = algorithm.split("+")
    policy = build(base, {}, base)
    for adapter in adapters:
        policy = build_wrapper(adapter, policy, {}, adapter)
    return policy


FIXED_MEANS = np.linspace(0.05, 0.3, 10)  # the same 10 Bernoulli arms for both libraries when comparing regret


def fixed_arms(problem, rng):  # type: ignore[no-untyped-def]
    """The race's own K-armed world with fixed arms (given as a world, the run takes the step-by-step loop, whose
    numbers are the compiled race's exactly: tests/test_compiled.py)."""
    from banditmap.sim.environments import CompiledArms
    env = CompiledArms(problem, rng)
    env.set_logits(np.broadcast_to(np.log(FIXED_MEANS / (1 - FIXED_MEANS)), (problem.reps, 10)))
    return env


def hand_written_rate(rounds: int, reps: int) -> tuple[float, float]:
    """Decisions per second of UCB1 written by hand as one numba kernel for this one policy (Bernoulli arms, no
    checkpoints, no options), in wall time (numba's parallel loop over the cores) and per CPU-second: the ceiling a
    general race is measured against."""
    import math

    from numba import njit, prange

    @njit(parallel=True)
    def race(means: np.ndarray, T: int, seed: int, out: np.ndarray) -> None:
        R, K = means.shape
        for r in prange(R):
            state = np.uint64(seed * 1000003 + r + 1)
            n, s = np.zeros(K), np.zeros(K)
            best, regret = means[r].max(), 0.0
            for t in range(T):
                arm, top = 0, -1.0
                for k in range(K):
                    v = np.inf if n[k] == 0 else s[k] / n[k] + math.sqrt(2.0 * math.log(max(t, 2)) / n[k])
                    if v > top:
                        arm, top = k, v
                state += np.uint64(0x9E3779B97F4A7C15)
                z = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
                z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
                u = float((z ^ (z >> np.uint64(31))) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                n[arm] += 1.0
                s[arm] += 1.0 if u < means[r, arm] else 0.0
                regret += best - means[r, arm]
            out[r] = regret

    means = np.random.default_rng(0).uniform(0.05, 0.3, (reps, 10))
    out = np.zeros(reps)
    race(means, 10, 0, out)  # compile
    cpu, start = time.process_time(), time.perf_counter()
    race(means, rounds, 0, out)
    return rounds * reps / (time.perf_counter() - start), rounds * reps / (time.process_time() - cpu)


def two_threads() -> tuple[float, float]:
    """How much faster two threads are than one on this machine, for a plain numba loop released from the GIL
    (SplitMix64 words into a square root and a division, nothing shared) and for the race's UCB1: the race's
    figure can be no better than the machine's (on a virtual machine two vCPUs may share one physical core, and
    other work on the machine takes its share)."""
    import math
    import threading

    from numba import get_num_threads, njit, set_num_threads

    @njit(nogil=True)
    def spin(n: int, seed: int) -> float:
        state, total = np.uint64(seed), 0.0
        for _ in range(n):
            state += np.uint64(0x9E3779B97F4A7C15)
            z = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            u = float((z ^ (z >> np.uint64(31))) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
            total += math.sqrt(u + 1.0) / (1.0 + u)
        return total

    def plain(threads: int) -> float:
        workers = [threading.Thread(target=spin, args=(20_000_000, i)) for i in range(threads)]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return threads / (time.perf_counter() - start)

    spin(10, 0)
    machine = plain(2) / plain(1)
    cores = get_num_threads()
    set_num_threads(1)
    one = ours("ucb1", {"n_actions": 10}, 10_000, 100)[0]
    set_num_threads(min(2, cores))
    race = ours("ucb1", {"n_actions": 10}, 10_000, 100)[0] / one
    set_num_threads(cores)
    return machine, race


def ours(simulator: str, answers: dict, rounds: int, reps: int, fixed: bool = False) -> tuple[float, float, float]:
    """The race's decisions per second (wall, its threads over the repetitions), per CPU-second (the whole run's
    CPU time, a little more than the race's) and mean final regret."""
    problem = problem_from_answers(answers, rounds=rounds, reps=reps)
    spec = RunSpec(simulator, simulator, build(simulator, {}, simulator))
    cpu = time.process_time()
    result = run(spec, problem, seed=1, environment=fixed_arms) if fixed else run(spec, problem, seed=1)
    cpu = time.process_time() - cpu
    return rounds * reps / result.seconds, rounds * reps / cpu, float(result.final_regret.mean())


def mabwiser_rate(policy: str, decisions: int, rounds_for_regret: int, reps_for_regret: int,
                  contextual: bool = False,
                  before: tuple[list[float], float] | None = None) -> tuple[list[float], float] | None:
    """Decisions per second of MABWiser's one-at-a-time loop (appended to the rates measured `before`), and its
    mean regret on a few short runs (measured once)."""
    try:
        from mabwiser.mab import MAB, LearningPolicy
    except ImportError:
        return None
    policies = {"epsilon-greedy": lambda: LearningPolicy.EpsilonGreedy(epsilon=0.1),
                "ucb1": lambda: LearningPolicy.UCB1(alpha=1.0),  # its bonus is alpha * sqrt(2 ln t / n), as ours with alpha=2
                "thompson-beta": lambda: LearningPolicy.ThompsonSampling(),
                "linucb": lambda: LearningPolicy.LinUCB(alpha=1.0, l2_lambda=1.0)}
    K, d = (20, 10) if contextual else (10, 0)

    def one_run(rounds: int, seed: int) -> tuple[float, float]:
        local = np.random.default_rng(seed)
        arms = list(range(K))
        if contextual:
            theta = local.normal(0, 1, (K, d))
            mab = MAB(arms, policies[policy](), seed=seed)
            x0 = local.normal(0, 1 / np.sqrt(d), (K, d))  # one warm-up observation per arm
            mab.fit(arms, [float(local.random() < sigmoid(-1.5 + 1.5 * theta[a] @ x0[a])) for a in arms], contexts=x0)
        else:
            means = FIXED_MEANS
            mab = MAB(arms, policies[policy](), seed=seed)
            mab.fit(arms, [float(local.random() < means[a]) for a in arms])  # one warm-up observation per arm
        regret = 0.0
        start = time.perf_counter()
        for _ in range(rounds):
            if contextual:
                x = local.normal(0, 1 / np.sqrt(d), (1, d))
                p = sigmoid(-1.5 + 1.5 * (theta @ x[0]))
                arm = mab.predict(x)
                mab.partial_fit([arm], [float(local.random() < p[arm])], contexts=x)
            else:
                p = means
                arm = mab.predict()
                mab.partial_fit([arm], [float(local.random() < p[arm])])
            regret += p.max() - p[arm]
        return rounds / (time.perf_counter() - start), regret

    rate, _ = one_run(decisions, 99)
    if before is not None:
        return [*before[0], rate], before[1]
    regrets = [one_run(rounds_for_regret, seed)[1] for seed in range(reps_for_regret)]
    return [rate], float(np.mean(regrets))


TIMES = 3  # each throughput measured this many times, banditmap's and MABWiser's in turn; medians shown


def throughput(mabwiser_decisions: int) -> None:
    print(f"\nThroughput (rounds x repetitions / wall seconds, median of {TIMES} runs each side, in turn; banditmap's "
          "per CPU-second too), one process")
    cases = [("epsilon-greedy", {"n_actions": 10}, False), ("ucb1", {"n_actions": 10}, False),
             ("thompson-beta", {"n_actions": 10}, False),
             ("linucb", {"context": "linear", "n_features": 10, "n_actions": 20}, True)]
    for simulator, answers, contextual in cases:
        rates, cpu_rates = [], []
        theirs = None
        for _ in range(TIMES):  # the two measured in turn, each's median taken: a busy moment hits both sides
            rate, cpu_rate, _ = ours(simulator, answers, 10_000, 100)
            rates.append(rate)
            cpu_rates.append(cpu_rate)
            theirs = mabwiser_rate(simulator, mabwiser_decisions, 2_000, 10, contextual, theirs)
        rate = float(np.median(rates))
        short_regret = ours(simulator, answers, 2_000, 20, fixed=not contextual)[2]
        line = f"  {simulator:15s} banditmap {rate:12,.0f}/s ({float(np.median(cpu_rates)):11,.0f}/CPU-s)"
        if theirs is None:
            line += "   MABWiser not installed (pip install mabwiser to compare)"
        else:
            their_rate, their_regret = float(np.median(theirs[0])), theirs[1]
            line += (f"   MABWiser {their_rate:8,.0f}/s   ratio {rate / their_rate:6.0f}x"
                     f"   regret after 2,000 rounds: banditmap {short_regret:6.1f}, MABWiser {their_regret:6.1f}")
        print(line)
    ours_rate, ours_cpu, _ = ours("ucb1", {"n_actions": 10}, 10_000, 100)
    hand, hand_cpu = hand_written_rate(10_000, 100)  # measured once: the rates shown are the ones the ratios divide
    print(f"  ucb1 hand-written single-policy kernel {hand:12,.0f}/s ({hand_cpu:11,.0f}/CPU-s); the race's "
          f"{ours_rate:,.0f}/s ({ours_cpu:,.0f}/CPU-s) is {hand / ours_rate:.1f}x slower in wall time, "
          f"{hand_cpu / ours_cpu:.1f}x per core (target: within 3x per core)")
    machine, race = two_threads()
    print(f"  two threads against one: a plain numba loop {machine:.2f}x, the race's UCB1 {race:.2f}x (the race "
          "can do no better than the machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-usecases", action="store_true")
    parser.add_argument("--mabwiser-decisions", type=int, default=3000)
    args = parser.parse_args()
    if not args.skip_usecases:
        usecase_times()
    throughput(args.mabwiser_decisions)


if __name__ == "__main__":
    main()
