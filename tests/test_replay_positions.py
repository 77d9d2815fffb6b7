"""Position-aware replay on ranking logs whose click model is known: clicks follow the position-based model
(examination theta_k times attraction gamma_a), positions are assigned at random. The examination ratios are
recovered, each position's IPS covers theta_k gamma_a, and the pooled top-position value covers gamma_a."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from banditmap.ope import logs
from banditmap.ope.replay import ReplayResult, evaluate
from banditmap.render.replay import by_position, replay_dict
from banditmap.sim.runner import RunSpec
from stubs import Zero

Array = np.ndarray
THETA = np.array([1.0, 0.6, 0.3])  # examination of positions 1, 2, 3
GAMMA = np.array([0.3, 0.2, 0.1])  # attraction of actions 0, 1, 2


def ranking_log(path: Path, rows: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    actions, positions = rng.integers(0, 3, rows), rng.integers(0, 3, rows)
    clicks = rng.random(rows) < THETA[positions] * GAMMA[actions]
    path.write_text("item_id,click,propensity_score,position\n" + "".join(
        f"{a},{int(c)},0.3333333333,{p + 1}\n" for a, c, p in zip(actions, clicks, positions)))
    return path


def run(path: Path, seed: int) -> ReplayResult:
    with logs.read_logs(path, seed=seed) as store:
        return evaluate(store, [RunSpec("zero", "zero", Zero())], seed)


def test_the_position_based_model_is_recovered(tmp_path: Path) -> None:
    result = run(ranking_log(tmp_path / "log.csv", 20_000, 0), 0)
    assert np.abs(np.array(result.examination) - THETA).max() < 0.15
    (r,) = result.results
    assert r.positions is not None
    for k, e in enumerate(r.positions.per_position):
        assert e.low <= THETA[k] * GAMMA[0] <= e.high, (k, e)
    assert r.positions.top.low <= GAMMA[0] <= r.positions.top.high
    data = replay_dict(result, timings=False)
    assert list(data["log"]["examination"]) == ["1", "2", "3"] and data["log"]["examination"]["1"] == 1.0
    assert set(data["candidates"][0]["positions"]["ips"]) == {"1", "2", "3"}
    assert by_position(result).startswith("Position-aware (held-out rows)")


# Seeds: 6 logs of 6,000 rows; the pooled top-position value's 95% interval covers gamma_0 in all 6 (a correct
# interval misses more than 1 of 6 with probability 0.03), and the plain IPS at position 3 (theta 0.3) is far below
# it: pooling is what position-awareness buys.
def test_the_pooled_top_value_covers_the_truth_across_seeds(tmp_path: Path) -> None:
    covered = 0
    for seed in range(6):
        result = run(ranking_log(tmp_path / f"log-{seed}.csv", 6000, seed), seed)
        top = result.results[0].positions
        assert top is not None and top.per_position[2].high < GAMMA[0]
        covered += top.top.low <= GAMMA[0] <= top.top.high
    assert covered >= 5, covered


def test_logs_without_positions_have_no_position_figures(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    path.write_text("item_id,click,propensity_score\n" + "".join(f"{i % 3},{int(i % 5 == 0)},0.3333333333\n"
                                                                 for i in range(600)))
    result = run(path, 0)
    assert result.examination == () and result.results[0].positions is None and by_position(result) == ""
    assert replay_dict(result)["log"]["examination"] is None
