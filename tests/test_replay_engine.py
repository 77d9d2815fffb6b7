"""Replay's learners as executor tasks (banditmap/ope/tasks.py): each learner replayed and scored in a worker process
that reads the parsed log chunk by chunk gives the same figures as every learner in one pass in this process, on
uniform, non-uniform (rejection and weighted), position and estimated-propensity logs. (A Dask cluster's:
tests/test_executor.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from banditmap.catalog.loading import load_catalog
from banditmap.errors import BanditmapError
from banditmap.executor import Engine
from banditmap.ope import logs
from banditmap.ope.logs import Columns
from banditmap.ope.synthetic import make_logs
from banditmap.recommend.profile import build_profile
from banditmap.recommend.replay import replay_file
from banditmap.render.replay import replay_dict

ALGORITHMS = ["linucb", "epsilon-greedy", "thompson-beta"]
CONTEXT = {"n_actions": 4, "context": "linear", "n_features": 3, "reward_type": "binary"}


def replayed(path: Path, engine: Engine | None, **options: object) -> str:
    catalog = load_catalog([])
    profile = build_profile(catalog, None, None, ["n_actions=4"])
    result = replay_file(catalog, profile, path, Columns(), ALGORITHMS, seed=7, engine=engine, **options)
    return json.dumps(replay_dict(result, timings=False), sort_keys=True)


@pytest.mark.parametrize(("logging", "positions", "options"), [
    ("uniform", 0, {}),
    ("softmax", 0, {"method": "rejection"}),
    ("softmax", 3, {"method": "weighted", "clip": 5.0}),
    ("softmax", 0, {"estimate_propensities": True}),
], ids=["uniform", "rejection", "weighted-positions", "estimated"])
def test_learners_in_worker_processes_give_the_figures_of_one_pass_here(
        tmp_path: Path, logging: str, positions: int, options: dict[str, object]) -> None:
    path = tmp_path / "logs.csv"
    make_logs(path, CONTEXT, logging, 3000, 1, positions)
    one_pass = replayed(path, None, chunk_rows=700, **options)
    in_tasks_here = replayed(path, Engine("local", 1), chunk_rows=700, **options)
    in_processes = replayed(path, Engine("local", 2), chunk_rows=700, **options)
    assert one_pass == in_tasks_here == in_processes
    assert len(json.loads(one_pass)["candidates"]) == 4  # and the uniform baseline


def test_a_worker_that_cannot_read_the_parsed_log_says_so_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "logs.csv"
    make_logs(path, CONTEXT, "uniform", 200, 1)
    with logs.read_logs(path) as store:
        files = store.files
    with pytest.raises(BanditmapError) as raised:  # the folder is gone, as on a worker of another machine
        next(files.chunks())
    assert raised.value.field == "--scheduler" and "cannot read it" in raised.value.render()
    assert "\n" not in raised.value.render()


def test_the_parsed_chunks_read_by_a_worker_are_the_stores(tmp_path: Path) -> None:
    path = tmp_path / "logs.csv"
    make_logs(path, CONTEXT, "softmax", 1000, 1, 2)
    with logs.read_logs(path, chunk_rows=300) as store:
        for here, there in zip(store.chunks(), store.files.chunks(), strict=True):
            assert here.start == there.start and np.array_equal(here.contexts, there.contexts)
            assert np.array_equal(here.actions, there.actions)
