"""The executor (banditmap/executor.py): results in task order, on_result for each as it finishes, a failed task
named with what finished before it handed on, and the same numbers on local processes and on a real Dask cluster
(a LocalCluster of two worker processes, started once for this module). The command line is imported only where
it is used: worker processes import this module to find the tasks' functions, and start faster without it."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Iterator

import pytest

from banditmap import executor
from banditmap.errors import BanditmapError
from banditmap.executor import Engine, TaskFailed, engine_from_options, fan_out

RACE = ["bench", "--usecase", "homepage-banner", "--rounds", "300", "--reps", "6", "--seed", "11", "--no-timings",
        "--format", "json"]
RACED = ["--algorithms", "thompson-beta,exp3-p+restarts"]  # a compiled kernel and a step-by-step composition


def invoke(*args: str) -> Any:
    from typer.testing import CliRunner

    from banditmap.cli.app import app
    return CliRunner().invoke(app, list(args))


def square(x: int) -> int:
    return x * x


def fail_at_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


def die_at_three(x: int) -> int:
    if x == 3:
        os._exit(1)  # as a worker killed from outside, or out of memory
    return x


def nap(x: int) -> int:
    time.sleep(x)
    return x


def refuse_two(x: int) -> int:
    if x == 2:
        raise BanditmapError("expected a number below 2", field="x")
    return x


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    import dask
    no_retries = dask.config.set({"distributed.scheduler.allowed-failures": 0})  # a killed worker's task fails
    with no_retries, distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                              dashboard_address=None) as local:
        yield local.scheduler_address


@pytest.mark.parametrize("jobs", [1, 2])
def test_results_come_in_task_order_and_each_is_handed_on_once(jobs: int) -> None:
    seen: list[tuple[int, int]] = []
    assert fan_out(square, [5, -1, 3, 0, 7], Engine(jobs=jobs), lambda i, r: seen.append((i, r))) == [25, 1, 9, 0, 49]
    assert sorted(seen) == [(0, 25), (1, 1), (2, 9), (3, 0), (4, 49)]
    if jobs == 1:
        assert seen == [(0, 25), (1, 1), (2, 9), (3, 0), (4, 49)]  # in this process: one after another


def test_no_tasks_no_results() -> None:
    assert fan_out(square, [], Engine(jobs=2)) == []


def test_a_failed_task_is_named_after_those_before_it_were_handed_on() -> None:
    seen: list[int] = []
    with pytest.raises(TaskFailed, match=r"^task 4 of 6 \(3\) failed: ValueError: three is not allowed$") as caught:
        fan_out(fail_at_three, range(6), Engine(jobs=1), lambda i, r: seen.append(i))
    assert seen == [0, 1, 2] and caught.value.index == 3
    assert isinstance(caught.value.__cause__, ValueError)


def test_in_processes_a_failed_task_is_named_and_the_others_finished_are_handed_on() -> None:
    seen: dict[int, int] = {}
    with pytest.raises(TaskFailed, match=r"^task 4 of 6 \(3\) failed: ValueError: three is not allowed$"):
        fan_out(fail_at_three, list(range(6)), Engine(jobs=2), seen.__setitem__)
    assert 3 not in seen and all(seen[i] == i * i for i in seen)
    assert {0, 1, 2} <= set(seen)  # two workers, in order of submission: 0-2 started before 3 failed


def test_a_killed_local_worker_is_one_line_and_what_finished_is_kept() -> None:
    seen: dict[int, int] = {}
    with pytest.raises(BanditmapError, match=r"^--engine: a worker process died \(killed, or out of memory\) with "
                                             r"task \d of 5 \(\d\) unfinished; the \d results finished before"):
        fan_out(die_at_three, list(range(5)), Engine(jobs=2), seen.__setitem__)
    assert 3 not in seen and all(seen[i] == i for i in seen)  # the pool ends the other worker's task too


def test_when_handing_on_fails_the_workers_are_ended_at_once() -> None:
    """Writing a result failed (a full disk, Ctrl-C): the error comes out as it is, without waiting 30 s for the
    task still running."""
    def full_disk(index: int, result: int) -> None:
        raise OSError("No space left on device")

    start = time.perf_counter()
    with pytest.raises(OSError, match="No space left on device"):
        fan_out(nap, [0, 30], Engine(jobs=2), full_disk)
    assert time.perf_counter() - start < 10


def test_a_user_error_in_a_task_is_raised_as_it_is() -> None:
    with pytest.raises(BanditmapError, match=r"^x: expected a number below 2$"):
        fan_out(refuse_two, [0, 1, 2, 3], Engine(jobs=2))


def test_a_task_can_be_named() -> None:
    with pytest.raises(TaskFailed, match=r"^task 2 of 2 \(the third\) failed"):
        fan_out(fail_at_three, [1, 3], Engine(jobs=1), name=lambda x: "the third" if x == 3 else "other")


def test_engine_options_are_checked() -> None:
    assert engine_from_options("dask", 3, "tcp://127.0.0.1:8786") == Engine("dask", 3, "tcp://127.0.0.1:8786")
    with pytest.raises(BanditmapError, match=r"^--engine: expected one of local, dask, got 'spark'$"):
        engine_from_options("spark")
    with pytest.raises(BanditmapError, match=r"^--scheduler: a scheduler is only used by the dask engine"):
        engine_from_options("local", 0, "tcp://127.0.0.1:8786")


def test_without_dask_the_dask_engine_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(BanditmapError, match=r"pip install 'banditmap\[dask\]'$"):
        fan_out(square, [1], Engine("dask", scheduler="tcp://127.0.0.1:1"))


def test_an_unreachable_scheduler_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(executor, "CONNECT_SECONDS", 0.2)
    result = invoke(*RACE, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert result.output.startswith("banditmap: error: --scheduler: cannot reach the Dask scheduler at "
                                    "'tcp://127.0.0.1:9' within 0.2 s")
    assert len(result.output.strip().splitlines()) == 1


def test_a_scheduler_without_workers_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(executor, "WORKERS_SECONDS", 0.2)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as empty:
        with pytest.raises(BanditmapError, match=r"^--scheduler: the Dask scheduler at '.*' has no workers \(waited "
                                                 r"0.2 s\); start some with `dask worker "):
            fan_out(square, [1], Engine("dask", scheduler=empty.scheduler_address))


def test_on_dask_results_come_in_order_and_a_failure_is_named(cluster: str) -> None:
    seen: dict[int, int] = {}
    engine = Engine("dask", scheduler=cluster)
    assert fan_out(square, [4, 2, 9], engine, seen.__setitem__) == [16, 4, 81] and seen == {0: 16, 1: 4, 2: 81}
    with pytest.raises(TaskFailed, match=r"^task 4 of 5 \(3\) failed: ValueError: three is not allowed$"):
        fan_out(fail_at_three, range(5), engine)
    with pytest.raises(BanditmapError, match=r"^x: expected a number below 2$"):
        fan_out(refuse_two, [2], engine)


def test_the_scheduler_also_comes_from_the_environment(cluster: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANDITMAP_DASK_SCHEDULER", cluster)
    assert fan_out(square, [3], Engine("dask")) == [9]


def test_a_race_on_dask_is_bit_identical_to_the_local_run(cluster: str) -> None:
    """A compiled kernel, a step-by-step composition and the baseline all go to the cluster. (Local processes
    against this process: tests/test_bench_cli.py.)"""
    from banditmap.sim import compiled
    from banditmap.sim.adapters import build_wrapper
    from banditmap.sim.policies import REGISTRY
    from banditmap.sim.problem import problem_from_answers
    problem = problem_from_answers({"n_actions": 6}, rounds=300, reps=6)
    wrapped = build_wrapper("restarts", REGISTRY["exp3-p"](), {}, "test")
    assert compiled.covers(REGISTRY["thompson-beta"](), problem) and not compiled.covers(wrapped, problem)
    local = invoke(*RACE, *RACED, "--jobs", "1")
    dask = invoke(*RACE, *RACED, "--engine", "dask", "--scheduler", cluster)
    assert local.exit_code == 0 and dask.exit_code == 0, local.output + dask.output
    assert dask.output == local.output
    assert [a["id"] for a in json.loads(local.output)["algorithms"]] == ["thompson-beta", "exp3-p+restarts",
                                                                         "uniform-random"]


def test_a_sweep_on_dask_is_bit_identical_to_the_local_run(cluster: str) -> None:
    sweep = [*RACE, "--sweep", "epsilon-greedy.epsilon=0.05,0.2,0.6", "--sweep", "epsilon-greedy.epsilon=0.05"]
    refused = invoke(*sweep)  # the same hyperparameter twice
    assert refused.exit_code == 2 and "is swept twice" in refused.output
    local = invoke(*sweep[:-2], "--jobs", "1")
    dask = invoke(*sweep[:-2], "--engine", "dask", "--scheduler", cluster)
    assert local.exit_code == 0 and dask.exit_code == 0, local.output + dask.output
    assert dask.output == local.output
    assert [s["label"] for s in json.loads(local.output)["settings"]] == ["epsilon=0.05", "epsilon=0.2", "epsilon=0.6"]


def test_a_replay_and_its_sweep_on_dask_are_bit_identical_to_the_local_runs(cluster: str, tmp_path: Any) -> None:
    """Each learner a task: one pass in this process (--jobs 1), two local processes and the cluster's two workers
    print the same JSON, for a replay of three learners (importance-weighted, on a non-uniform log) and a sweep."""
    logs = str(tmp_path / "logs.csv")
    made = invoke("make-logs", logs, "--set", "n_actions=4", "--set", "context=linear", "--set", "n_features=3",
                  "--set", "reward_type=binary", "--rows", "3000", "--logging", "softmax", "--seed", "4")
    assert made.exit_code == 0, made.output
    common = ["replay", logs, "--set", "n_actions=4", "--replay-method", "weighted", "--seed", "3", "--no-timings",
              "--format", "json"]
    for what in (["--algorithms", "linucb,epsilon-greedy,thompson-beta"],
                 ["--sweep", "epsilon-greedy.epsilon=0.05,0.3"]):
        one = invoke(*common, *what, "--jobs", "1")
        two = invoke(*common, *what, "--jobs", "2")
        dask = invoke(*common, *what, "--engine", "dask", "--scheduler", cluster)
        assert one.exit_code == two.exit_code == dask.exit_code == 0, one.output + two.output + dask.output
        assert one.output == two.output == dask.output
    assert [s["label"] for s in json.loads(one.output)["settings"]] == ["epsilon=0.05", "epsilon=0.3"]


def test_a_task_that_kills_its_dask_worker_is_named(cluster: str) -> None:
    """The cluster allows no retries, so the first death is final (the last test on the cluster: its nanny
    restarts the worker meanwhile). The scheduler may have given the dying worker another task too (task 3 here),
    and which of the two it reports lost first varies from run to run: the message names the one reported and
    does not say which of them killed the worker."""
    seen: dict[int, int] = {}
    with pytest.raises(BanditmapError, match=r"^--scheduler: task (4 of 4 \(3\)|3 of 4 \(2\)) was lost: the worker "
                                             r"it was on died \(killed, or out of memory, while running it or "
                                             r"another task given to the same worker\)"):
        fan_out(die_at_three, [0, 1, 2, 3], Engine("dask", scheduler=cluster), seen.__setitem__)
    assert seen == {0: 0, 1: 1, 2: 2} or set(seen) < {0, 1, 2}


def test_workers_without_banditmap_are_told_to_install_it() -> None:
    pytest.importorskip("distributed")
    missing = ModuleNotFoundError("No module named 'banditmap'", name="banditmap")
    failure = executor._dask_failure(1, missing, lambda i: f"task {i + 1} of 2 (x)", 1)
    assert isinstance(failure, BanditmapError)
    assert failure.render() == ("--scheduler: the Dask workers cannot import banditmap for task 2 of 2 (x): install "
                                "banditmap (this version) where the workers run")
    other = executor._dask_failure(0, ModuleNotFoundError("No module named 'scipy'", name="scipy"), str, 0)
    assert isinstance(other, TaskFailed)
