"""Which algorithms to replay: those named, or the recommender's shortlist for the profile (or for a profile
read off the log itself), keeping those whose simulator makes single-action decisions."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from banditmap.model import Answer, Catalog, Profile
from banditmap.ope.logs import LogInfo
from banditmap.sim.bench import BASELINE_NAME, Usable, parse_params, pick, specs
from banditmap.sim.runner import RunSpec
from banditmap.sim.policies import REGISTRY

REPLAYABLE = frozenset({"arms", "contextual"})  # one action per logged decision, scalar rewards
BASELINE = ("uniform-random", BASELINE_NAME)


def profile_from_log(info: LogInfo) -> dict[str, Answer]:
    """What a log says about the problem: the reward type, the number of actions, whether there is context."""
    return {"reward_type": "binary" if info.binary else "continuous",
            "n_actions": info.n_actions, "action_space": "few" if info.n_actions <= 50 else "many",
            "context": "linear" if info.has_context else "none", "logged_data": "available",
            "action_structure": "single"}


def why_not(simulator: str) -> str | None:
    if REGISTRY[simulator].kinds & REPLAYABLE:
        return None
    return "its decisions are lists, pairs, prices or budgets; replay evaluates single-action decisions"


USABLE = Usable(why_not, "no implementation to replay yet",
                "none of the shortlisted algorithms can be replayed on single-action logs", "replay")


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
