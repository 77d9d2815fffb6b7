"""A sweep: one algorithm raced under each of several hyperparameter settings on one problem, with common random
numbers, and how sensitive its regret is to them (the best setting, and how flat the optimum is). Which settings to
race is the caller's choice (recommend/sweep.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from banditmap.executor import Engine
from banditmap.sim import stats
from banditmap.sim.bench import NO_INTERVAL, run_all
from banditmap.sim.environments import make_environment
from banditmap.sim.problem import Problem
from banditmap.sim.runner import Run, RunSpec, streams

Value = float | int


@dataclass(frozen=True)
class Setting:
    """One point of the grid: the swept hyperparameters' values (in the grid's order) and the policy they make.
    Every setting's spec has the algorithm's id, so all draw the same random numbers."""

    values: tuple[tuple[str, Value], ...]
    spec: RunSpec

    @property
    def label(self) -> str:
        return ", ".join(f"{name}={value:g}" for name, value in self.values)


@dataclass(frozen=True)
class SettingResult:
    values: Mapping[str, Value]
    label: str
    regret: float
    regret_ci: float | None  # half-width of the 95% interval; None with a single repetition
    last_reward: float
    last_reward_ci: float | None
    optimal_share: float
    gap_to_best: float  # mean paired difference of final regret with the best setting
    gap_ci: float | None
    near_best: bool  # the best itself, or its paired 95% interval with the best includes 0
    curve: tuple[float, ...]
    curve_low: tuple[float, ...]
    curve_high: tuple[float, ...]
    seconds: float  # wall-clock: differs from run to run, unlike everything else here


@dataclass(frozen=True)
class SweepResult:
    problem: Problem
    seed: int
    algorithm: str
    name: str
    parameters: tuple[str, ...]
    rounds: tuple[int, ...]
    settings: tuple[SettingResult, ...]  # in the grid's order
    fixed: Mapping[str, Value]  # the algorithm's other hyperparameters, the same in every setting
    environment: Mapping[str, Any]

    @property
    def best(self) -> SettingResult:
        return min(self.settings, key=lambda s: s.regret)

    @property
    def flat(self) -> tuple[SettingResult, ...]:
        """The settings statistically indistinguishable from the best (the best among them)."""
        return tuple(s for s in self.settings if s.near_best)

    @property
    def notes(self) -> tuple[str, ...]:
        return (NO_INTERVAL,) if self.problem.reps < 2 else ()

    @property
    def verdict(self) -> str:
        best = self.best
        spread = "one repetition" if best.regret_ci is None else f"+/- {best.regret_ci:.1f}"
        line = (f"Best setting of {self.name}: {best.label} (regret {best.regret:.1f} {spread} after "
                f"{self.problem.rounds} rounds, {self.problem.reps} repetitions).")
        if best.regret_ci is None:
            return line + " One repetition gives no interval, so how flat the optimum is cannot be told."
        others = [s.label for s in self.flat if s is not best]
        if len(self.settings) == 1:
            return line + " It is the only setting: there is nothing to compare it with."
        if not others:
            return line + " The optimum is sharp: every other setting is worse with 95% confidence (paired)."
        return (line + f" The optimum is flat: {len(others) + 1} of {len(self.settings)} settings are "
                "statistically indistinguishable from it (paired 95% interval includes 0): " + "; ".join(others)
                + ".")


def sweep(settings: Sequence[Setting], problem: Problem, seed: int, engine: Engine,
          progress: Callable[[str, int, int], None] | None = None,
          fixed: Mapping[str, Value] | None = None) -> SweepResult:
    """Race every setting (all with the same seed and id, so with common random numbers) and summarise."""
    labels = [s.label for s in settings]
    runs = run_all([s.spec for s in settings], problem, seed, engine, progress, labels)
    env_rng, _, _ = streams(seed, "")
    environment = make_environment(problem, env_rng).parameters()
    return summarise(settings, runs, problem, seed, dict(fixed or {}), environment)


def summarise(settings: Sequence[Setting], runs: Sequence[Run], problem: Problem, seed: int,
              fixed: Mapping[str, Value], environment: Mapping[str, Any]) -> SweepResult:
    best = min(range(len(runs)), key=lambda i: float(runs[i].final_regret.mean()))
    results = []
    for i, (setting, r) in enumerate(zip(settings, runs)):
        regret, regret_ci = stats.mean_ci(r.final_regret)
        last, last_ci = stats.mean_ci(r.last_reward)
        gap, gap_ci = stats.paired_difference(r.final_regret, runs[best].final_regret)
        mean, low, high = stats.curve_band(r.regret)
        near = i == best or (gap_ci is not None and gap - gap_ci <= 0)
        results.append(SettingResult(
            values=dict(setting.values), label=setting.label, regret=regret, regret_ci=regret_ci,
            last_reward=last, last_reward_ci=last_ci, optimal_share=float(r.optimal.mean()), gap_to_best=gap,
            gap_ci=gap_ci, near_best=near, curve=tuple(np.round(mean, 4).tolist()),
            curve_low=tuple(np.round(low, 4).tolist()), curve_high=tuple(np.round(high, 4).tolist()),
            seconds=r.seconds))
    spec = settings[0].spec
    return SweepResult(problem, seed, spec.id, spec.name, tuple(name for name, _ in settings[0].values),
                       runs[0].rounds, tuple(results), fixed, environment)
