"""Compiling races ahead (sim/ahead.py): a helper process and this one share a first run's races from both ends,
each race taken by one only; a warm cache, one job or a cache folder that cannot be written start no helper; and a
race with a helper gives the numbers of a race without one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from banditmap.sim import ahead, bench
from banditmap.sim.policies import REGISTRY
from banditmap.sim.problem import problem_from_answers
from banditmap.sim.runner import RunSpec


def slow_work(item: tuple[str, int]) -> None:
    """The helper's stand-in for compiling a race: it leaves a file naming the race, then says it is compiled."""
    folder, index = item
    time.sleep(0.3)
    (Path(folder) / f"helper-{index}").touch()
    raise ahead.Compiled


def test_the_helper_takes_races_from_the_last_until_it_meets_this_process(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ahead.ENV, raising=False)  # the suite turns helpers off (conftest.py)
    n = 6
    keys = [f"race {i}" for i in range(n)]
    helper = ahead.start(slow_work, [(str(tmp_path), i) for i in range(n)], keys, tmp_path / "ahead", jobs=2)
    assert helper is not None
    deadline = time.monotonic() + 120
    while helper.states[n - 1] == ahead.FREE and time.monotonic() < deadline:  # let the helper start
        time.sleep(0.05)
    mine = []
    for i in range(n):
        before = helper.states[i]
        helper.claim(i)
        if before == ahead.FREE and helper.states[i] == ahead.HERE:
            mine.append(i)
            time.sleep(0.3)  # this process races it
        else:  # the helper took it: claim returned once it was compiled
            assert helper.states[i] == ahead.CACHED
        ahead.mark(tmp_path / "ahead", keys[i])  # as bench.race_here marks each race it ran
    helper.close()
    theirs = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("helper-*"))
    assert theirs and sorted(mine + theirs) == list(range(n))  # each race taken once: a prefix here, the rest there
    assert mine == list(range(len(mine))) and theirs == list(range(len(mine), n))
    assert all(ahead.marker(tmp_path / "ahead", key).exists() for key in keys)
    assert not helper.process.is_alive()


def test_a_warm_cache_one_job_or_an_unwritable_folder_start_no_helper(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    items, keys = [1, 2, 3], ["a", "b", "c"]
    assert ahead.start(slow_work, items, keys, tmp_path / "m", jobs=1) is None
    monkeypatch.setenv(ahead.ENV, "0")
    assert ahead.start(slow_work, items, keys, tmp_path / "m", jobs=2) is None
    monkeypatch.delenv(ahead.ENV)
    (tmp_path / "file").write_text("not a folder")
    assert ahead.start(slow_work, items, keys, tmp_path / "file" / "m", jobs=2) is None  # cannot be created
    (tmp_path / "m").mkdir()
    ahead.mark(tmp_path / "m", "a")
    ahead.mark(tmp_path / "m", "b")
    assert ahead.start(slow_work, items, keys, tmp_path / "m", jobs=2) is None  # one race left to compile
    assert ahead.start(slow_work, items[:1], keys[:1], tmp_path / "n", jobs=2) is None  # one race: nothing to share


def race(problem: Any, jobs: int) -> Any:
    specs = [RunSpec(s, s, REGISTRY[s]()) for s in ("ucb1", "thompson-beta", "epsilon-greedy", "uniform-random")]
    return bench.race(specs, problem, 3, jobs=jobs)


def test_a_race_with_a_helper_gives_the_numbers_of_a_race_without(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ahead.ENV, raising=False)  # the suite turns helpers off (conftest.py)
    problem = problem_from_answers({"n_actions": 4}, rounds=300, reps=3)
    alone = race(problem, jobs=1)
    monkeypatch.setattr(ahead, "folder", lambda: tmp_path / "ahead")
    started = []
    real_start = ahead.start

    def start(*args: Any, **kwargs: Any) -> Any:
        helper = real_start(*args, **kwargs)
        started.append(helper)
        return helper

    monkeypatch.setattr(ahead, "start", start)
    helped = race(problem, jobs=2)
    assert started[0] is not None and len(list((tmp_path / "ahead").glob("*.done"))) == 4
    for a, b in zip(alone.results, helped.results):
        assert (a.id, a.regret, a.curve, a.optimal_share) == (b.id, b.regret, b.curve, b.optimal_share)
    assert np.array_equal(np.array([alone.measured[k] for k in sorted(alone.measured)]),
                          np.array([helped.measured[k] for k in sorted(helped.measured)]))
    race(problem, jobs=2)
    assert started[1] is None  # every race has its marker now: no helper
