"""The replay as one call: read the log, choose the candidates, evaluate them."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from banditmap.model import Catalog, Profile
from banditmap.ope import logs, replay, shortlist


def replay_file(catalog: Catalog, profile: Profile, path: Path, columns: logs.Columns,
                requested: Sequence[str] | None = None, top: int = 5, params: Sequence[str] = (), seed: int = 0,
                progress: replay.Progress | None = None, chunk_rows: int = logs.CHUNK_ROWS) -> replay.ReplayResult:
    """Evaluate the profile's shortlist (or the requested algorithms) on a log of single-action decisions.

    A profile that gives `n_actions` fixes the action set: the log's actions must be ids 0..n_actions-1. Traits the
    profile leaves open are read off the log (reward type, number of actions, whether there is context)."""
    n_actions = profile.answers.get("n_actions")
    if requested:  # named algorithms are checked before a long read, so a typo is reported at once
        chosen, skipped = shortlist.choose(catalog, profile, requested, top, params)
    with logs.read_logs(path, columns, int(n_actions) if n_actions is not None else None, chunk_rows, seed) as store:
        if not requested:
            answers = shortlist.merged_answers(profile.answers, store.info)
            chosen, skipped = shortlist.choose(catalog, Profile(answers, profile.name, profile.source), None, top,
                                               params)
        return replay.evaluate(store, chosen, seed, progress, skipped)
