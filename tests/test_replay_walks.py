"""Replay's compiled walks (sim/kernels/walks.py) against its general walk (ope/replay.py, NumPy over stretches of
rows): for kernel policies that only read their state (the uniform baseline), that write kept values or notes into
it while choosing (Thompson sampling's Gamma constants, EXP3-IX's propensity notes, conservative LinUCB's sums of
contexts), K-armed and linear, all drawing random numbers, on a log from a non-uniform policy (rejection sampling's coins) with an action it never
played, cut into chunks that end mid-stretch, every figure of the replay is the same."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from banditmap.ope import logs, replay, synthetic
from banditmap.sim.policies import build
from banditmap.sim.runner import RunSpec

IDS = ("uniform-random", "thompson-beta", "exp3-ix", "lin-ts", "conservative-linucb")


def same(a: Any, b: Any, path: str = "") -> None:
    """a == b, floats to 1e-12 relative (the walks add acceptance probabilities in another order)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        for field in dataclasses.fields(a):
            if field.name != "seconds":
                same(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            same(a[key], b[key], f"{path}[{key}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not (math.isnan(a) and math.isnan(b)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), path
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=path)
    elif not isinstance(a, float):
        assert a == b, path


def test_the_compiled_walks_give_the_general_walks_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = synthetic.make_environment(5, 3, True, np.random.default_rng(2))
    path = tmp_path / "log.csv"
    synthetic.write_csv(path, env, synthetic.LoggingPolicy("softmax", never=(3,)), 9_000, 1)
    specs = [RunSpec(i, i, build(i, {}, i)) for i in IDS]
    assert all(replay.compiled_walk(spec.policy) is not None for spec in specs)
    with logs.read_logs(path, n_actions=5, chunk_rows=1_234) as store:
        compiled = replay.evaluate(store, specs, seed=3)
        monkeypatch.setattr(replay, "compiled_walk", lambda policy: None)
        general = replay.evaluate(store, specs, seed=3)
    assert compiled.method == "rejection-sampling replay"
    assert store.info.counts[3] == 0
    for a, b in zip(compiled.results, general.results, strict=True):
        assert a.kept >= 20 and a.selections > a.kept  # it learned, and picked on rows it did not keep
        same(a, b, a.id)
    stalled = {r.id: r.stalled for r in compiled.results}  # picks of the action the log never shows are counted
    assert all(stalled[i] > 0.1 for i in ("uniform-random", "thompson-beta", "exp3-ix", "lin-ts")), stalled


def test_only_kernel_policies_without_adapters_walk_compiled() -> None:
    from banditmap.sim.adapters import build_wrapper
    assert replay.compiled_walk(build("ucb1", {}, "x"))[0] == "arms"  # type: ignore[index]
    assert replay.compiled_walk(build("linucb", {}, "x"))[0] == "linear"  # type: ignore[index]
    assert replay.compiled_walk(build_wrapper("delay-queue", build("ucb1", {}, "x"), {}, "x")) is None
