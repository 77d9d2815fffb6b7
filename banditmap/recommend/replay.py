"""Which algorithms to replay: those named, or the recommender's shortlist for the profile (or for a profile
read off the log itself), keeping those whose simulator makes single-action decisions; a composition is kept when
its base does and no adapter around it turns a decision into a list, a pair or several rewards."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from banditmap.executor import Engine
from banditmap.model import Answer, Catalog, Profile
from banditmap.ope import logs, replay
from banditmap.ope.logs import LogInfo
from banditmap.recommend.candidates import BASELINE_NAME, Usable, parse_params, pick, simulator_kinds, specs
from banditmap.sim.adapters import ADAPTERS, chain_kinds
from banditmap.sim.policies import REGISTRY
from banditmap.sim.runner import Progress, RunSpec

REPLAYABLE = frozenset({"arms", "contextual"})  # one action per logged decision, scalar rewards
BASELINE = ("uniform-random", BASELINE_NAME)


def profile_from_log(info: LogInfo) -> dict[str, Answer]:
    """What a log says about the problem: the reward type, the number of actions, whether there is context."""
    return {"reward_type": "binary" if info.binary else "continuous",
            "n_actions": info.n_actions, "action_space": "few" if info.n_actions <= 50 else "many",
            "context": "linear" if info.has_context else "none", "logged_data": "available",
            "action_structure": "single"}


# what an adapter makes of a single-action learner, by the problem kind it lifts it to
MADE = {"cascade": "plays a ranked list", "slate": "plays a slate", "dueling": "plays a pair of actions to compare",
        "multi": "learns from several rewards per decision"}


def why_not(simulator: str) -> str | None:
    """Why a policy id, or a composed `policy+adapter+...`, cannot be replayed on single-action logs, or None."""
    if simulator_kinds(simulator) & REPLAYABLE:
        return None
    base, *adapters = simulator.split("+")
    if not REGISTRY[base].kinds & REPLAYABLE:
        whose = f"the {base} simulator's" if adapters else "its"
        return f"{whose} decisions are lists, pairs, prices or budgets; replay evaluates single-action decisions"
    chain = [ADAPTERS[a] for a in adapters]
    lost = next(i for i in range(len(chain)) if not chain_kinds(REGISTRY[base], chain[:i + 1]) & REPLAYABLE)
    adapter = chain[lost]
    made = adapter.lift(chain_kinds(REGISTRY[base], chain[:lost])) or adapter.lift(frozenset({"arms"}))
    if made <= REPLAYABLE:
        return f"the {adapters[lost]} simulator wraps only bases that ignore the context"
    what = " or ".join(MADE.get(kind, f"plays {kind} decisions") for kind in sorted(made - REPLAYABLE))
    return f"its {adapters[lost]} adapter {what}; replay evaluates one action and one reward per logged decision"


USABLE = Usable(why_not, "no implementation to replay yet",
                "none of the shortlisted algorithms can be replayed on single-action logs", "replay",
                compositions=True)


def choose(catalog: Catalog, profile: Profile, requested: Sequence[str] | None, top: int,
           params: Sequence[str] = ()) -> tuple[list[RunSpec], list[tuple[str, str]]]:
    """Candidates to replay (configured with the catalog's defaults and --param), and those left out, with why.
    The uniform random policy is always among them, as the reference."""
    chosen, skipped = pick(catalog, profile, requested, top, USABLE)
    if not any(c[0] == BASELINE[0] for c in chosen):
        chosen.append(BASELINE + (BASELINE[0],))
    return specs(catalog, chosen, parse_params(list(params))), skipped


def merged_answers(base: Mapping[str, Any], info: LogInfo) -> dict[str, Any]:
    """The user's answers, completed by what the log says where they are silent."""
    answers = profile_from_log(info)
    answers.update(base)
    return answers


def replay_file(catalog: Catalog, profile: Profile, path: Path, columns: logs.Columns,
                requested: Sequence[str] | None = None, top: int = 5, params: Sequence[str] = (), seed: int = 0,
                progress: Progress | None = None, chunk_rows: int = logs.CHUNK_ROWS,
                holdout: float = replay.HOLDOUT, method: str = "auto",
                clip: float = replay.CLIP, estimate_propensities: bool = False,
                engine: Engine | None = None) -> replay.ReplayResult:
    """Evaluate the profile's shortlist (or the requested algorithms) on a log of single-action decisions.

    A profile that gives `n_actions` fixes the action set: the log's actions must be ids 0..n_actions-1. Traits the
    profile leaves open are read off the log (reward type, number of actions, whether there is context). Learners
    learn on the log but its last `holdout` share, on which their final policies are scored; on non-uniform logs
    `method` is rejection sampling, importance weighting clipped at `clip`, or "auto" (weighting when propensities
    near zero would leave rejection sampling almost nothing). With an `engine`, each learner is a task of the
    executor (the same results whatever the engine); without, all learn in one pass in this process."""
    n_actions = profile.answers.get("n_actions")
    if requested:  # named algorithms are checked before a long read, so a typo is reported at once
        chosen, skipped = choose(catalog, profile, requested, top, params)
    with logs.read_logs(path, columns, int(n_actions) if n_actions is not None else None, chunk_rows, seed,
                        estimate_propensities) as store:
        if not requested:
            answers = merged_answers(profile.answers, store.info)
            chosen, skipped = choose(catalog, Profile(answers, profile.name, profile.source), None, top,
                                               params)
        return replay.evaluate(store, chosen, seed, progress, skipped, holdout, method, clip, engine)
