"""`replay --sweep`: one algorithm's hyperparameter settings (the grid recommend/sweep.py reads from the --sweep
options) replayed on the user's log, each setting a learner of one replay (each a task of the executor), all
drawing the algorithm's random numbers (common random numbers); and what the figures say: the best setting, those
that cannot be told from it, how flat the optimum is. The replay's rules hold: final policies are scored on the
held-out rows only, a setting that cannot be evaluated is shown with why, never with a number, and every interval
is the one replay computes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from banditmap.errors import BanditmapError, shown
from banditmap.executor import Engine
from banditmap.model import Catalog, Profile
from banditmap.ope import logs, replay
from banditmap.ope.results import CandidateResult, ReplayResult, verdict
from banditmap.recommend.candidates import Chosen, pick
from banditmap.recommend.replay import USABLE
from banditmap.recommend.sweep import settings_grid
from banditmap.sim.runner import Progress, RunSpec
from banditmap.sim.sweep import Setting, Value


@dataclass(frozen=True)
class SettingReplay:
    """One setting's replay: its values, and the learner's result (whose id is the setting's label)."""

    label: str
    values: Mapping[str, Value]
    result: CandidateResult
    tied: bool  # the best itself, or its replayed reward's 95% interval overlaps the best's

    @property
    def evaluable(self) -> bool:
        return self.result.evaluable and self.result.replayed.known


@dataclass(frozen=True)
class ReplaySweep:
    algorithm: str
    name: str
    parameters: tuple[str, ...]
    fixed: Mapping[str, Value]  # the algorithm's other hyperparameters, the same in every setting
    settings: tuple[SettingReplay, ...]  # in the grid's order
    replay: ReplayResult  # the replay of every setting, as `replay` reports it

    @property
    def best(self) -> SettingReplay | None:
        """The evaluable setting with the highest replayed reward (the first in the grid's order on a tie)."""
        evaluable = [s for s in self.settings if s.evaluable]
        return max(evaluable, key=lambda s: s.result.replayed.value) if evaluable else None

    @property
    def flat(self) -> tuple[SettingReplay, ...]:
        return tuple(s for s in self.settings if s.tied)

    @property
    def verdict(self) -> tuple[str, ...]:
        lines = [verdict(self.replay)[0]]
        best, n = self.best, len(self.settings)
        unknown = [f"{s.label}: {s.result.problem or 'too few replayed rounds'}"
                   + (f"; to fix: {s.result.remedy}" if s.result.remedy else "")
                   for s in self.settings if not s.evaluable]
        if best is None:
            lines.append(f"No setting of {self.name} can be evaluated on this log, so none can be called best.")
        else:
            r = best.result
            lines.append(f"Best setting of {self.name} on this log: {best.label} (replayed reward "
                         f"{r.replayed.value:.4f}, {r.replayed.low:.4f} to {r.replayed.high:.4f}, 95%, while learning "
                         f"on the {self.replay.learning_rows:,} learning rows).")
            others = [s.label for s in self.flat if s is not best]
            evaluable = sum(s.evaluable for s in self.settings)
            if evaluable == 1:
                lines.append("It is the only setting that can be evaluated: there is nothing to compare it with."
                             if n > 1 else "It is the only setting: there is nothing to compare it with.")
            elif not others:
                lines.append("The optimum is sharp: every other evaluable setting's 95% interval lies wholly below "
                             "the best's.")
            else:
                lines.append(f"The optimum is flat: {len(others) + 1} of {evaluable} evaluable settings cannot be "
                             "told apart on this log (their 95% intervals overlap the best's): " + "; ".join(others)
                             + ".")
        if unknown:
            lines.append("Cannot be evaluated on this log: " + "; ".join(unknown) + ".")
        return tuple(lines)


def replayable(catalog: Catalog, profile: Profile, candidate: str, key: str) -> Chosen:
    """The swept candidate, checked as `replay --algorithms` would check it; a refusal names the --sweep option."""
    try:
        chosen, _ = pick(catalog, profile, [candidate], 1, USABLE)
    except BanditmapError as exc:
        raise BanditmapError(f"{exc.field}: {exc.message}" if exc.field else exc.message,
                             field=f"--sweep {key}") from None
    return chosen[0]


def sweep_file(catalog: Catalog, profile: Profile, path: Path, columns: logs.Columns, sweeps: Sequence[str],
               params: Sequence[str] = (), seed: int = 0, progress: Progress | None = None,
               chunk_rows: int = logs.CHUNK_ROWS, holdout: float = replay.HOLDOUT, method: str = "auto",
               clip: float = replay.CLIP, estimate_propensities: bool = False,
               engine: Engine | None = None) -> ReplaySweep:
    """Replay every setting of the grid the --sweep options span on a log of single-action decisions (the grid is
    checked before the log is read), and say which is best and how flat the optimum is."""
    settings, fixed = settings_grid(catalog, sweeps, params,
                                    lambda candidate, key: replayable(catalog, profile, candidate, key))
    candidates = learners(settings)
    n_actions = profile.answers.get("n_actions")
    with logs.read_logs(path, columns, int(n_actions) if n_actions is not None else None, chunk_rows, seed,
                        estimate_propensities) as store:
        result = replay.evaluate(store, candidates, seed, progress, (), holdout, method, clip, engine,
                                 [s.spec.id for s in settings])
    return summarise(settings, fixed, result)


def learners(settings: Sequence[Setting]) -> list[RunSpec]:
    """One learner per setting, named by the setting's label (two settings printing alike are refused)."""
    seen: dict[str, Setting] = {}
    for setting in settings:
        if setting.label in seen:
            raise BanditmapError(f"two settings both print as {shown(setting.label)}; give values that differ in "
                                 "their first 6 significant digits", field="--sweep")
        seen[setting.label] = setting
    return [RunSpec(s.label, s.spec.name, s.spec.policy, s.spec.params) for s in settings]


def summarise(settings: Sequence[Setting], fixed: Mapping[str, Value], result: ReplayResult) -> ReplaySweep:
    by_label = {r.id: r for r in result.results}
    found = [(s, by_label[s.label]) for s in settings]
    usable = [(s, r) for s, r in found if r.evaluable and r.replayed.known]
    best = max(usable, key=lambda sr: sr[1].replayed.value)[1] if usable else None
    out = tuple(SettingReplay(s.label, dict(s.values), r, best is not None and r.evaluable and r.replayed.known
                              and (r is best or r.replayed.overlaps(best.replayed)))
                for s, r in found)
    spec = settings[0].spec
    return ReplaySweep(spec.id, spec.name, tuple(name for name, _ in settings[0].values), dict(fixed), out, result)
