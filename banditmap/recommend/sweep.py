"""A sweep of a profile's problem: the `--sweep ALGO.PARAM=VALUES` options read into a grid of settings of one
algorithm (lists `V1,V2,...`, linear ranges `lo:hi:n`, log ranges `lo:hi:n:log`; several options form a grid), each
checked against the hyperparameter's domain, then raced with common random numbers (sim/sweep.py)."""

from __future__ import annotations

import itertools
import math
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from banditmap.errors import BanditmapError, shown
from banditmap.executor import Engine
from banditmap.model import Catalog, Profile
from banditmap.recommend.candidates import Chosen, parse_params, specs
from banditmap.recommend.race import choose
from banditmap.sim.policies.base import Domain, domains
from banditmap.sim.problem import Problem, problem_from_answers
from banditmap.sim.runner import Progress, RunSpec
from banditmap.sim.sweep import Setting, SweepResult, Value, sweep

MAX_SETTINGS = 1000  # a larger grid is a typo, not a sweep this machine can race
MAX_TEXT = 2000  # characters of one --sweep option


@dataclass(frozen=True)
class Axis:
    """One swept hyperparameter: `key` as typed (`ALGO.PARAM`, `ALGO.COMPONENT.PARAM` in a composition), the
    candidate it belongs to, the values as text, and whether they came from a range (rounded for whole numbers)."""

    key: str
    candidate: str
    values: tuple[str, ...]
    ranged: bool

    @property
    def owner(self) -> str:  # what --param calls the same hyperparameter's owner: `id` or `id.component`
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.key.rpartition(".")[2]

    @property
    def param(self) -> str:  # the hyperparameter as shown: `name`, or `component.name`
        return self.key[len(self.candidate) + 1:]


@dataclass(frozen=True)
class SweepRequest:
    """What a sweep of a profile's problem is asked for: the --sweep options, how long and how often, the
    algorithm's other hyperparameters (`id.name=value`), seed and engine."""

    sweeps: Sequence[str]
    rounds: int | None = None  # None: the profile's horizon, at most 10,000
    reps: int = 50
    params: Sequence[str] = ()
    seed: int = 0
    engine: Engine = field(default_factory=Engine)


def sweep_profile(catalog: Catalog, profile: Profile, request: SweepRequest,
                  progress: Callable[[list[str], int], AbstractContextManager[Progress]] | None = None
                  ) -> SweepResult:
    """The sweep for a profile as one call: its problem, the grid of settings checked and configured, the races."""
    problem = problem_from_answers(profile.answers, request.rounds, request.reps)
    settings, fixed = grid(catalog, profile, problem, request.sweeps, request.params)
    if progress is None:
        return sweep(settings, problem, request.seed, request.engine, None, fixed)
    with progress([s.label for s in settings], problem.rounds) as report:
        return sweep(settings, problem, request.seed, request.engine, report, fixed)


def grid(catalog: Catalog, profile: Profile, problem: Problem, options: Sequence[str],
         params: Sequence[str]) -> tuple[list[Setting], dict[str, Value]]:
    """Every setting of the grid the --sweep options span (the first option varies slowest), and the
    algorithm's hyperparameters that stay fixed."""
    return settings_grid(catalog, options, params,
                         lambda candidate, key: the_algorithm(catalog, profile, problem, candidate, key))


def settings_grid(catalog: Catalog, options: Sequence[str], params: Sequence[str],
                  check: Callable[[str, str], Chosen]) -> tuple[list[Setting], dict[str, Value]]:
    """As `grid`, for any command: `check(candidate, key)` is the swept candidate as that command accepts it (its
    refusal names the --sweep option `key`), e.g. one bench can race or one replay can replay."""
    axes = [parse_sweep(option) for option in options]
    if not axes:
        raise BanditmapError("expected at least one ALGO.PARAM=VALUES", field="--sweep")
    candidate = axes[0].candidate
    for axis in axes:
        if axis.candidate != candidate:
            raise BanditmapError(f"a sweep races one algorithm's settings, but names both {shown(candidate)} and "
                                 f"{shown(axis.candidate)}", field=f"--sweep {axis.key}")
    for first, second in itertools.combinations(axes, 2):
        if first.key == second.key:
            raise BanditmapError("is swept twice; give all its values in one --sweep", field=f"--sweep {first.key}")
    chosen = check(candidate, axes[0].key)
    overrides = parse_params(list(params))
    base = specs(catalog, [chosen], overrides)[0]  # --param values checked on their own, named as --param
    for axis in axes:
        if axis.name in overrides.get(axis.owner, {}):
            raise BanditmapError("is both swept and set with --param; leave one out", field=f"--sweep {axis.key}")
    values = [axis_values(catalog, chosen, overrides, base, axis) for axis in axes]
    keys = [shown_key(base, axis) for axis in axes]
    points = list(itertools.product(*values))
    if len(points) > MAX_SETTINGS:
        raise BanditmapError(f"the grid has {len(points)} settings; at most {MAX_SETTINGS} are raced",
                             field="--sweep")
    settings = []
    for point in points:
        setting = merged(overrides, {})
        for axis, (text, _) in zip(axes, point):
            setting.setdefault(axis.owner, {})[axis.name] = text
        spec = specs(catalog, [chosen], setting)[0]
        settings.append(Setting(tuple((key, value) for key, (_, value) in zip(keys, point)), spec))
    swept = set(keys)
    fixed = {name: value for name, value in shown_params(base).items() if name not in swept}
    return settings, fixed


def parse_sweep(option: str) -> Axis:
    """`ALGO.PARAM=V1,V2,...`, `ALGO.PARAM=lo:hi:n` or `ALGO.PARAM=lo:hi:n:log`, read (not yet checked against
    the hyperparameter's domain)."""
    key, sep, text = option.partition("=")
    key, text = key.strip(), text.strip()
    candidate, dot, param = key.partition(".")
    if not sep or not dot or not candidate.strip() or not param.strip() or not text or len(option) > MAX_TEXT:
        raise BanditmapError(f"expected ALGO.PARAM=V1,V2,... or ALGO.PARAM=lo:hi:n[:log], got {shown(option)}",
                             field="--sweep")
    where = f"--sweep {key}"
    if ":" in text:
        return Axis(key, candidate, tuple(range_values(text, where)), True)
    values = [item.strip() for item in text.split(",")]
    if any(not item for item in values):
        raise BanditmapError(f"expected values separated by commas, got an empty one in {shown(text)}", field=where)
    return Axis(key, candidate, tuple(values), False)


def range_values(text: str, where: str) -> list[str]:
    """The values of `lo:hi:n` (n evenly spaced from lo to hi) or `lo:hi:n:log` (evenly spaced logarithms), as
    text with 4 significant digits."""
    parts = [part.strip() for part in text.split(":")]
    expected = f"expected lo:hi:n or lo:hi:n:log, got {shown(text)}"
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "log"):
        raise BanditmapError(expected, field=where)
    low, high = number(parts[0], where, expected), number(parts[1], where, expected)
    if not parts[2].isascii() or not parts[2].isdigit():
        raise BanditmapError(f"expected a whole number of settings n in lo:hi:n, got {shown(parts[2])}",
                             field=where)
    n = int(parts[2])
    if n < 1:
        raise BanditmapError(f"the range {shown(text)} is empty: n must be at least 1", field=where)
    if n > MAX_SETTINGS:
        raise BanditmapError(f"at most {MAX_SETTINGS} settings, got n = {n}", field=where)
    if len(parts) == 4:
        if low <= 0 or high <= 0:
            raise BanditmapError(f"a log range needs lo and hi above 0, got {shown(text)}", field=where)
        points = np.geomspace(low, high, n)
    else:
        points = np.linspace(low, high, n)
    return [f"{float(point):.4g}" for point in points]


def number(text: str, where: str, expected: str) -> float:
    try:
        value = float(text) if text.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BanditmapError(expected, field=where)
    return value


def the_algorithm(catalog: Catalog, profile: Profile, problem: Problem, candidate: str, key: str) -> Chosen:
    """The swept candidate, checked as --algorithms would check it; a refusal names the --sweep option."""
    try:
        chosen, _ = choose(catalog, profile, problem, [candidate], 1, baseline=False)
    except BanditmapError as exc:
        raise BanditmapError(f"{exc.field}: {exc.message}" if exc.field else exc.message,
                             field=f"--sweep {key}") from None
    return chosen[0]


def axis_values(catalog: Catalog, chosen: Chosen, overrides: Mapping[str, Mapping[str, str]], base: RunSpec,
                axis: Axis) -> list[tuple[str, Value]]:
    """(text, value) of each of the axis's values, each checked against the hyperparameter's domain (a refusal
    names the --sweep option); a range over a whole-number hyperparameter is rounded, repeats dropped."""
    domain = domain_of(base.policy, axis.name)
    texts = list(axis.values)
    if axis.ranged and domain is not None and domain.whole:
        texts = list(dict.fromkeys(str(round(float(text))) for text in texts))
    out: list[tuple[str, Value]] = []
    for text in texts:
        try:
            spec = specs(catalog, [chosen], merged(overrides, {axis.owner: {axis.name: text}}))[0]
        except BanditmapError as exc:
            raise BanditmapError(exc.message, source=exc.source, line=exc.line, field=f"--sweep {axis.key}"
                                 ) from None
        value = value_of(spec, axis)
        if any(value == earlier for _, earlier in out):
            if axis.ranged:
                continue
            raise BanditmapError(f"the value {shown(text)} is given twice", field=f"--sweep {axis.key}")
        out.append((text, value))
    return out


def merged(overrides: Mapping[str, Mapping[str, str]],
           extra: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    out = {owner: dict(values) for owner, values in overrides.items()}
    for owner, values in extra.items():
        out.setdefault(owner, {}).update(values)
    return out


def shown_params(spec: RunSpec) -> dict[str, Value]:
    """A candidate's hyperparameters as a race shows them: `name`, or `component.name` in a composition."""
    source: Mapping[str, Any] = spec.params if spec.params is not None else {
        name: getattr(spec.policy, name) for name in domains(type(spec.policy))}
    return {name: value for name, value in source.items() if isinstance(value, (int, float))}


def shown_key(spec: RunSpec, axis: Axis) -> str:
    """The swept hyperparameter as a race shows it: `name`, or `component.name` in a composition (where `id.name`
    names the one component that has it)."""
    values = shown_params(spec)
    if axis.param in values:
        return axis.param
    return next(key for key in values if key.rpartition(".")[2] == axis.name)


def value_of(spec: RunSpec, axis: Axis) -> Value:
    """The swept hyperparameter's value in a configured candidate."""
    return shown_params(spec)[shown_key(spec, axis)]


def domain_of(policy: Any, name: str) -> Domain | None:
    """The domain of hyperparameter `name` in a policy or, for a composition, in the one layer that has it."""
    found: list[Domain] = []
    layer = policy
    while layer is not None:
        found += [domain for field_name, domain in domains(type(layer)).items() if field_name == name]
        layer = getattr(layer, "base", None) if hasattr(type(layer), "__dataclass_fields__") else None
    return found[0] if len(found) == 1 else None
