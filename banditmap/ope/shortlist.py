"""Which algorithms to replay: those named, or the recommender's shortlist for the profile (or for a profile
read off the log itself), keeping those whose simulator makes single-action decisions."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from banditmap.errors import BanditmapError
from banditmap.model import Answer, Catalog, Profile
from banditmap.ope.logs import LogInfo
from banditmap.ope.replay import Candidate
from banditmap.sim.bench import parse_params, specs
from banditmap.sim.policies import REGISTRY

REPLAYABLE = frozenset({"arms", "contextual"})  # one action per logged decision, scalar rewards
BASELINE = ("uniform-random", "Uniform random (baseline)")


def profile_from_log(info: LogInfo) -> dict[str, Answer]:
    """What a log says about the problem: the reward type, the number of actions, whether there is context."""
    return {"reward_type": "binary" if info.binary else "continuous",
            "n_actions": info.n_actions, "action_space": "few" if info.n_actions <= 50 else "many",
            "context": "linear" if info.has_context else "none", "logged_data": "available",
            "action_structure": "single"}


def replayable(simulator: str | None) -> bool:
    return bool(simulator) and bool(REGISTRY[simulator].kinds & REPLAYABLE)  # type: ignore[index]


def choose(catalog: Catalog, profile: Profile, requested: Sequence[str] | None, top: int,
           params: Sequence[str] = ()) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Candidates to replay (configured with the catalog's defaults and --param), and those left out, with why."""
    from banditmap.matching import shortlist
    chosen: list[tuple[str, str, str]] = []
    skipped: list[tuple[str, str]] = []
    if requested:
        for algorithm_id in requested:
            if algorithm_id == BASELINE[0]:
                continue
            algorithm = catalog.algorithm(algorithm_id)
            if algorithm is None:
                raise BanditmapError("unknown algorithm id; see `banditmap catalog list`", field=algorithm_id)
            if not algorithm.simulator:
                raise BanditmapError("has no implementation to replay yet; see `banditmap catalog list` for those "
                                     "that do", field=algorithm_id)
            if not replayable(algorithm.simulator):
                raise BanditmapError("chooses lists, pairs, prices or budgets; replay evaluates single-action "
                                     "decisions", field=algorithm_id)
            chosen.append((algorithm.id, algorithm.name, algorithm.simulator))
    else:
        for match in shortlist(profile, catalog).ranked:
            a = match.algorithm
            if len(chosen) >= top:
                break
            if not a.simulator:
                skipped.append((a.id, "no implementation to replay yet"))
            elif not replayable(a.simulator):
                skipped.append((a.id, "its decisions are not single actions, which these logs record"))
            else:
                chosen.append((a.id, a.name, a.simulator))
        if not chosen:
            raise BanditmapError("none of the shortlisted algorithms can be replayed on single-action logs; name "
                                 "some with --algorithms", field="replay")
    chosen.append((BASELINE[0], BASELINE[1], BASELINE[0]))
    runs = specs(catalog, chosen, parse_params(list(params)))
    return [Candidate(r.id, r.name, r.policy) for r in runs], skipped


def merged_answers(base: Mapping[str, Any], info: LogInfo) -> dict[str, Any]:
    """The user's answers, completed by what the log says where they are silent."""
    answers = profile_from_log(info)
    answers.update(base)
    return answers
