"""`replay --check` computed by hand on logs of a few rows written in the test: each action's mean importance
weight and its standard error, the reward's variance, the power arithmetic (binary and continuous, the target
capped at 1, the holdout's split), every threshold at equality (5 standard errors, 5 reward events, one action
left), the first pair of duplicate decision ids in file order, where a row is (CSV line, Parquet row, dataset row),
and every word of each finding."""

from __future__ import annotations

import locale
import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from banditmap.errors import BanditmapError
from banditmap.ope import check
from banditmap.ope.check import FAIL, OK, WARN, Finding, Power
from banditmap.ope.logfiles import Columns
from banditmap.ope.logs import LogInfo, read_logs

Z95 = 1.959963984540054
Z80 = 0.8416212335729143
ZZ = (Z95 + Z80) ** 2


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def parquet(path: Path, **columns: list[Any]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def info(**fields: Any) -> LogInfo:
    base: dict[str, Any] = {
        "path": "log.csv", "rows": 4, "actions": ("a", "b"), "counts": (2, 2), "action_col": "action",
        "reward_col": "reward", "propensity_col": "propensity", "position_col": None, "numeric": (),
        "categorical": (), "positions": (), "features": 1, "projected": False, "min_propensity": 0.5,
        "near_zero": 0.0, "uniform": True, "mean_reward": 0.5, "binary": True}
    return LogInfo(**{**base, **fields})


def texts(result: check.LogCheck, topic: str) -> list[tuple[str, str]]:
    return [(f.status, f.text) for f in result.findings if f.topic == topic]


def binary_needed(p1: float, p2: float) -> float:
    """Fleiss, Levin and Paik eq. 4.14 without continuity correction, written out here."""
    pbar = (p1 + p2) / 2
    root = Z95 * math.sqrt(2 * pbar * (1 - pbar)) + Z80 * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return root ** 2 / (p1 - p2) ** 2


CONSISTENT = ("ok", ("consistent with the logged actions' frequencies on every action (mean of 1{A = a} / p within 5 "
                    "standard errors of 1)"))

# --- a whole log, read and linted -----------------------------------------------------------------------------

# a: propensities 0.5 and 0.25, rewards 1 and 0; b: propensities 0.5 and 0.5, rewards 3 and 0
MIXED = "action,reward,propensity\na,1,0.5\na,0,0.25\nb,3,0.5\nb,0,0.5\n"


@pytest.mark.parametrize("chunk_rows", [1, 2, 4])
def test_weights_errors_events_variance_and_power_of_a_small_continuous_log(tmp_path: Path, chunk_rows: int) -> None:
    result = check.check_file(write(tmp_path, MIXED), chunk_rows=chunk_rows)
    # weights 1 / p: a 2 + 4 = 6, b 2 + 2 = 4, over 4 rows; squares a 4 + 16 = 20, b 4 + 4 = 8
    assert result.weight_means == (1.5, 1.0)
    assert result.weight_errors == (math.sqrt((20 / 4 - 1.5 ** 2) / 4), math.sqrt((8 / 4 - 1.0) / 4))
    assert result.events == (1.0, 3.0)
    assert result.id_col is None and result.duplicates == 0
    power = result.power
    # mean reward 1, variance (1 + 9) / 4 - 1 = 1.5; 1 / p^2 over the log: (4 + 16 + 4 + 4) / 4 = 7
    assert (power.effect, power.rate, power.target) == (0.1, 1.0, 1.1)
    assert power.needed == pytest.approx(2 * ZZ * 1.5 / 0.1 ** 2, rel=1e-12)
    assert power.replay_rows == 2 * 0.25  # 2 learning rows, kept at the smallest propensity
    assert power.final_rows == pytest.approx(2 * 2 / 7, rel=1e-12)  # 2 held-out rows at an ESS of K / 7 each
    assert power.log_rows_needed == pytest.approx(power.needed * 7, rel=1e-12)  # per row: max(0.125, 1 / 7)
    assert not power.enough and not result.answerable
    assert [(f.status, f.topic) for f in result.findings] == [
        (OK, "columns"), (OK, "decision ids"), (OK, "reward"), (OK, "propensities"), (OK, "support"), (FAIL, "power")]
    assert [f.text for f in result.findings] == [
        ("4 rows: action 'action' (2 actions), reward 'reward' (continuous), propensity 'propensity'; "
        "no context columns"),
        "no decision id column (--id-col): duplicates not checked",
        "mean 1, standard deviation 1.225",
        CONSISTENT[1],
        "every action logged, 2 to 2 rows each",
        ("telling the logging policy's 1 from 1.1 (+10%) at 95% confidence with 80% power needs about 2,355 effective "
        "rows per policy; this log gives a replayed learner about 0 and a final policy's held-out IPS about 1: a log "
        "of about 16,483 rows would be needed")]


def test_the_store_lint_takes_half_for_learning_and_no_ids_by_default(tmp_path: Path) -> None:
    with read_logs(write(tmp_path, MIXED)) as store:
        result = check.check_store(store, 0.5)
    assert result.power.replay_rows == 0.5 and result.power.effect == 0.5
    assert result.power.final_rows == pytest.approx(4 / 7, rel=1e-12)
    assert result.id_col is None and result.duplicates == 0
    assert texts(result, "decision ids") == [(OK, "no decision id column (--id-col): duplicates not checked")]


def test_the_holdout_effect_and_actions_asked_for_reach_the_lint(tmp_path: Path) -> None:
    path = write(tmp_path, "action,reward,propensity\n0,1,0.5\n1,0,0.5\n0,0,0.5\n1,1,0.5\n")
    result = check.check_file(path, n_actions=3, effect=0.5, holdout=0.25)
    assert result.info.actions == ("0", "1", "2")
    assert result.weight_means == (1.0, 1.0, 0.0) and result.events == (1.0, 1.0, 0.0)
    assert result.weight_errors == (0.5, 0.5, 0.0)  # sqrt((8 / 4 - 1) / 4)
    power = result.power
    assert power.target == 0.75 and power.needed == pytest.approx(binary_needed(0.5, 0.75), rel=1e-12)
    assert power.replay_rows == 3 / 3  # 3 learning rows, uniform: kept at 1 / 3
    assert power.final_rows == 1 * 3 / 4  # 1 held-out row; 1 / p^2 = 4 on every row
    assert power.log_rows_needed == pytest.approx(power.needed / max(0.75 / 3, 0.25 * 0.75), rel=1e-12)
    assert texts(result, "support")[0] == (
        WARN, "1 of 3 actions never logged (2): no policy that plays them can be evaluated")


def test_estimated_propensities_are_said_first(tmp_path: Path) -> None:
    path = write(tmp_path, "action,reward,propensity,context_x\n" + "".join(
        f"{'ab'[i % 2]},{(i // 2) % 2},0.5,{i % 4 + 1}\n" for i in range(8)))
    assert not check.check_file(path).info.estimated
    result = check.check_file(path, estimate=True)
    assert result.info.estimated
    assert texts(result, "propensities")[0][0] == WARN
    assert texts(result, "propensities")[0][1].startswith("ESTIMATED, NOT LOGGED: a cross-fitted multinomial")


# --- decision ids ---------------------------------------------------------------------------------------------

ROWS = "a,1,0.5\nb,0,0.5\na,0,0.5\nb,1,0.5\na,1,0.5\n"


@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_the_first_repeated_id_in_file_order_and_where_it_was_first(tmp_path: Path, chunk_rows: int) -> None:
    # lines 2..6 hold z, y, y, z, z: three repeats; the first (line 4) repeats line 3, though z sorts after y
    ids = ["z", "y", "y", "z", "z"]
    body = "".join(f"{i},{row}\n" for i, row in zip(ids, ROWS.splitlines()))
    path = write(tmp_path, "decision_id,action,reward,propensity\n" + body)
    result = check.check_file(path, chunk_rows=chunk_rows, effect=9.0)
    assert result.id_col == "decision_id" and result.duplicates == 3 and not result.answerable
    assert texts(result, "decision ids") == [(FAIL, (
        f"3 rows repeat a decision id of 'decision_id', first at {path}:4 (already at {path}:3): those decisions "
        "would count twice; drop the repeats"))]


def test_unique_ids_and_the_unnamed_index_column(tmp_path: Path) -> None:
    path = write(tmp_path, ",action,reward,propensity\n" + "".join(
        f"{i},{row}\n" for i, row in enumerate(ROWS.splitlines())))
    result = check.check_file(path)
    assert result.id_col == "" and result.duplicates == 0
    assert texts(result, "decision ids") == [(OK, "every decision id in the unnamed index column is unique")]
    path = write(tmp_path, ",action,reward,propensity\n" + "".join(
        f"{i // 2},{row}\n" for i, row in enumerate(ROWS.splitlines())))
    assert texts(check.check_file(path), "decision ids")[0][1].startswith(
        "2 rows repeat a decision id of the unnamed index column, first at ")


def test_which_column_holds_the_ids(tmp_path: Path) -> None:
    rows = ROWS.splitlines()
    # id before decision_id in the header: decision_id is still the one taken (the defaults' order)
    both = write(tmp_path, "id,action,reward,propensity,decision_id\n" + "".join(
        f"{n % 2},{row},{n}\n" for n, row in enumerate(rows)))
    assert check.check_file(both).id_col == "decision_id" and check.check_file(both).duplicates == 0
    # a default id name that another role takes is not an id column
    taken = write(tmp_path, "decision_id,id,reward,propensity\n" + "".join(
        f"{row.split(',')[0]},{n},{row.split(',', 1)[1]}\n" for n, row in enumerate(rows)), "taken.csv")
    result = check.check_file(taken, Columns(action="decision_id"))
    assert result.id_col == "id" and result.duplicates == 0 and result.info.actions == ("a", "b")
    # an id column named by the user, not among the defaults
    named = write(tmp_path, "session,action,reward,propensity\n" + "".join(
        f"{n // 3},{row}\n" for n, row in enumerate(rows)), "named.csv")
    assert check.check_file(named).id_col is None
    result = check.check_file(named, id_col="session")
    assert result.id_col == "session" and result.duplicates == 3
    assert f"first at {named}:3 (already at {named}:2)" in texts(result, "decision ids")[0][1]


def test_ids_beside_columns_named_by_the_user(tmp_path: Path) -> None:
    path = write(tmp_path, "decision_id,arm,y,ps,slot\n1,a,1,0.5,1\n2,b,0,0.5,2\n2,a,1,0.5,1\n3,b,0,0.5,2\n")
    result = check.check_file(path, Columns(action="arm", reward="y", propensity="ps", position="slot"))
    assert result.duplicates == 1 and f"first at {path}:4 (already at {path}:3)" in texts(result, "decision ids")[0][1]


def test_a_header_with_a_byte_order_mark_or_spaces_still_names_the_ids(tmp_path: Path) -> None:
    marked = tmp_path / "marked.csv"
    marked.write_bytes("\ufeffdecision_id,action,reward,propensity\n1,a,1,0.5\n1,b,0,0.5\n".encode())
    assert (check.check_file(marked).id_col, check.check_file(marked).duplicates) == ("decision_id", 1)
    spaced = write(tmp_path, " decision_id ,action,reward,propensity\n1,a,1,0.5\n1,b,0,0.5\n", "spaced.csv")
    assert (check.check_file(spaced).id_col, check.check_file(spaced).duplicates) == ("decision_id", 1)


def test_ids_in_parquet_files_and_datasets_are_rows(tmp_path: Path) -> None:
    common: dict[str, list[Any]] = {"action": ["a", "b", "a", "b"], "reward": [1, 0, 0, 1], "propensity": [0.5] * 4}
    for name in ("log.parquet", "LOG.PQ"):
        path = parquet(tmp_path / name, decision_id=[1.0, 2.0, 1.0, 3.0], **common)
        assert texts(check.check_file(path), "decision ids") == [(FAIL, (
            "1 row repeats a decision id of 'decision_id', first at row 3 (already at row 1): those decisions would "
            "count twice; drop the repeats"))]
    folder = tmp_path / "dataset"
    folder.mkdir()
    parquet(folder / "part-0.parquet", decision_id=["p", "q"], action=["a", "b"], reward=[1, 0], propensity=[.5, .5])
    parquet(folder / "part-1.parquet", decision_id=["r", "q"], action=["a", "b"], reward=[0, 1], propensity=[.5, .5])
    for chunk_rows in (1, 2):
        result = check.check_file(folder, chunk_rows=chunk_rows)
        assert result.id_col == "decision_id" and result.duplicates == 1
        assert "first at row 4 of the dataset (already at row 2 of the dataset)" in texts(result, "decision ids")[0][1]


def test_id_texts_strip_spaces_and_read_whole_numbers_as_integers(tmp_path: Path) -> None:
    common: dict[str, list[Any]] = {"action": ["a", "b", "a"], "reward": [1, 0, 0], "propensity": [0.5] * 3}
    spaced = parquet(tmp_path / "spaced.parquet", decision_id=["x", " x ", "y"], **common)
    assert check.check_file(spaced).duplicates == 1
    zeros = parquet(tmp_path / "zeros.parquet", decision_id=[0.0, -0.0, 1.5], **common)
    assert check.check_file(zeros).duplicates == 1  # -0.0 is the id 0, as 0.0 is


@pytest.mark.parametrize("ids, message", [
    ([1.0, 2.0, float("nan"), float("inf")], "row 3: expected a decision id, got a missing value"),
    ([1.0, float("inf"), 2.0, 3.0], "row 2: expected a decision id, got a missing value"),
    (["x", "y", "  ", ""], "row 3: expected a decision id, got an empty field"),
])
def test_a_missing_or_empty_id_is_refused_at_its_row(tmp_path: Path, ids: list[Any], message: str) -> None:
    path = parquet(tmp_path / "log.parquet", decision_id=ids, action=["a", "b", "a", "b"], reward=[1, 0, 0, 1],
                   propensity=[0.5] * 4)
    with pytest.raises(BanditmapError) as caught:
        check.check_file(path)
    assert caught.value.render() == f"{path}: decision_id: {message}"


def test_an_empty_id_field_in_a_csv_file_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "decision_id,action,reward,propensity\n7,a,1,0.5\n8,b,0,0.5\n,a,1,0.5\n")
    with pytest.raises(BanditmapError) as caught:
        check.check_file(path)
    assert caught.value.render() == f"{path}:4: decision_id: expected a decision id, got an empty field"


def test_duplicates_count_rows_after_the_first_and_name_the_earliest_repeat() -> None:
    assert check._duplicates(None) == (0, None)
    assert check._duplicates((np.array(["a", "b"]), np.array([2, 3]))) == (0, None)
    assert check._duplicates((np.array([], dtype=str), np.array([], dtype=np.int64))) == (0, None)
    # b a b a: rows 2 (b) and 3 (a) repeat; the earliest is row 2, whose id was first at row 0
    assert check._duplicates((np.array(["b", "a", "b", "a"]), np.array([10, 11, 12, 13]))) == (2, (10, 12))
    # one id on 3,000 rows: a sort that is not stable would put a later row first among equals
    same = np.array(["7"] * 3000)
    assert check._duplicates((same, np.arange(2, 3002))) == (2999, (2, 3))
    mixed = np.array([str(i % 3) for i in range(3000)])  # 0 1 2 0 1 2 ...: row 3 first repeats row 0
    assert check._duplicates((mixed, np.arange(3000) * 10)) == (2997, (0, 30))


def test_where_a_row_is(tmp_path: Path) -> None:
    assert check._at(str(tmp_path), 7) == "row 7 of the dataset"
    assert check._at("x.parquet", 7) == "row 7" and check._at("X.PARQUET", 8) == "row 8"
    assert check._at("x.pq", 9) == "row 9" and check._at("X.Pq", 9) == "row 9"
    assert check._at("dir/log.csv", 12) == "dir/log.csv:12"


def test_the_id_finding_in_words() -> None:
    assert check._id_finding(None, 0, None, "log.csv") == Finding(
        OK, "decision ids", "no decision id column (--id-col): duplicates not checked")
    assert check._id_finding("", 0, None, "log.csv") == Finding(
        OK, "decision ids", "every decision id in the unnamed index column is unique")
    assert check._id_finding("sid", 0, None, "log.csv") == Finding(
        OK, "decision ids", "every decision id in 'sid' is unique")
    assert check._id_finding("sid", 1234, (5, 17), "log.csv") == Finding(
        FAIL, "decision ids", "1,234 rows repeat a decision id of 'sid', first at log.csv:17 (already at log.csv:5): "
                              "those decisions would count twice; drop the repeats")


# --- columns and reward ---------------------------------------------------------------------------------------

def test_the_columns_in_words() -> None:
    assert check._columns(info(rows=12345, binary=True)) == Finding(
        OK, "columns", "12,345 rows: action 'action' (2 actions), reward 'reward' (binary), propensity "
                       "'propensity'; no context columns")
    assert check._columns(info(propensity_col=None, binary=False, features=2, numeric=("x",))).text == (
        "4 rows: action 'action' (2 actions), reward 'reward' (continuous), propensity none; 1 numeric and 0 "
        "categorical context columns (1 features)")
    assert check._columns(info(features=9, numeric=("x", "y"), categorical=("c",), projected=True, position_col="pos",
                               positions=("1", "2", "3"))).text == (
        "4 rows: action 'action' (2 actions), reward 'reward' (binary), propensity 'propensity', position 'pos' "
        "(3 positions); 2 numeric and 1 categorical context columns (8 features, randomly projected)")


def test_the_columns_of_a_log_with_context_and_positions(tmp_path: Path) -> None:
    path = write(tmp_path, "action,reward,propensity,context_x,context_c,position\n"
                           "a,1,0.5,1.5,u,1\nb,0,0.5,2,v,2\na,0,0.5,3,w,1\nb,1,0.5,1,u,2\n")
    # intercept, one number, three categories, two positions: 7 features, 6 beside the intercept
    assert texts(check.check_file(path), "columns") == [(OK, (
        "4 rows: action 'action' (2 actions), reward 'reward' (binary), propensity 'propensity', position "
        "'position' (2 positions); 1 numeric and 1 categorical context columns (6 features)"))]


def test_the_reward_in_words() -> None:
    assert check._reward(info(mean_reward=0.25), 0.0) == Finding(
        FAIL, "reward", "every reward is 0.25: no policy can be told from another")
    assert check._reward(info(mean_reward=0.123456), 1e-300) == Finding(OK, "reward", "click rate 0.1235")
    assert check._reward(info(mean_reward=2.5, binary=False), 2.25) == Finding(
        OK, "reward", "mean 2.5, standard deviation 1.5")


def test_a_constant_reward_fails(tmp_path: Path) -> None:
    path = write(tmp_path, "action,reward,propensity\na,2,0.5\nb,2,0.5\na,2,0.5\n")
    result = check.check_file(path, effect=1.0)
    assert texts(result, "reward") == [(FAIL, "every reward is 2: no policy can be told from another")]
    assert not result.answerable


# --- propensities ---------------------------------------------------------------------------------------------

def lint(means: list[float], errors: list[float], **fields: Any) -> list[tuple[str, str]]:
    labels = tuple("abcdefgh"[:len(means)])
    fields = {"actions": labels, "counts": (5,) * len(means), **fields}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by a zero standard error, even in a branch not taken
        found = check._propensities(info(**fields), np.array(means), np.array(errors))
    assert all(f.topic == "propensities" for f in found)
    return [(f.status, f.text) for f in found]


def high(action: str, mean: str, error: str, off: int, logged: int) -> tuple[str, str]:
    return (FAIL, (f"they do not match the logged actions' frequencies: action {action} was logged {mean[:-1]} times "
                  f"as often as its propensities say (mean of 1{{A = a}} / p {mean} ± {error}, 1 when they match) on "
                  f"{off} of {logged} actions; are they another policy's, or per slate instead of per position? Fix "
                  "them, or drop the column to have them estimated (--estimate-propensities)"))


def test_five_standard_errors_exactly_is_consistent() -> None:
    assert lint([1.5, 1.0], [0.1, 0.1]) == [CONSISTENT]  # z = 0.5 / 0.1 = 5
    assert lint([1.5, 1.0], [0.0999, 0.1]) == [high("a", "1.500", "0.100", 1, 2)]
    assert lint([0.5, 1.0], [0.1, 0.1]) == [CONSISTENT]


def test_small_departures_are_consistent_however_many_errors_away() -> None:
    assert lint([1.05, 0.95], [0.001, 0.001]) == [CONSISTENT]  # 50 standard errors, but within 0.1 of one
    assert lint([1.15, 1.0], [0.001, 0.1]) == [high("a", "1.150", "0.001", 1, 2)]


def test_a_zero_standard_error_is_no_evidence() -> None:
    assert lint([2.0, 1.0], [0.0, 0.0]) == [CONSISTENT]


def test_the_highest_flagged_action_is_named_and_unlogged_ones_never_count() -> None:
    # a: far but uncertain (z = 2); b, c: flagged; d: never logged, so never flagged
    found = lint([3.0, 1.6, 2.0, 9.0], [1.0, 0.1, 0.1, 0.1], counts=(5, 5, 5, 0))
    assert found == [high("c", "2.000", "0.100", 2, 3)]
    assert lint([1.6, 9.0], [0.1, 0.1], counts=(5, 0)) == [high("a", "1.600", "0.100", 1, 1)]


def test_the_lowest_flagged_action_is_named() -> None:
    found = lint([0.5, 0.4, 1.0, 0.3, 0.1], [0.05, 0.05, 0.05, 1.0, 0.05], counts=(5, 5, 5, 5, 0))
    assert found == [(WARN, ("2 actions are logged less often than their propensities say (action b: mean of "
                            "1{A = a} / p 0.400 ± 0.050): either the propensities are too large, or the logging "
                            "policy never plays them in some contexts (no support there)"))]


def test_high_and_low_are_both_said_after_the_estimated_warning() -> None:
    found = lint([1.6, 0.4], [0.1, 0.1], estimated=True)
    assert [status for status, _ in found] == [WARN, FAIL, WARN]
    assert found[0][1] == ("ESTIMATED, NOT LOGGED: a cross-fitted multinomial logistic model of the action given the "
                           "context; their consistency with the actions' frequencies holds by construction and "
                           "proves nothing")
    assert found[1] == high("a", "1.600", "0.100", 1, 2)
    assert found[2][1].startswith("1 action is logged less often than their propensities say (action b: mean of "
                                  "1{A = a} / p 0.400 ± 0.100)")
    assert lint([1.0, 1.0], [0.1, 0.1], estimated=True) == [found[0]]  # no "consistent": it would prove nothing


def test_near_zero_propensities_and_what_rejection_sampling_keeps() -> None:
    assert lint([1.0, 1.0], [0.1, 0.1], near_zero=0.0123, min_propensity=0.000456, uniform=False) == [
        CONSISTENT, (WARN, ("1.23% of rows have a propensity under 1% of uniform play (smallest 0.000456): "
                           "rejection-sampling replay would keep 0.000456 of matching rows; importance-weighted "
                           "replay (clipped) uses them"))]
    found = lint([1.0] * 4, [0.1] * 4, near_zero=0.5, min_propensity=0.001, uniform=True)
    assert found[1][1].startswith("50.00% of rows have a propensity under 1% of uniform play (smallest 0.001): "
                                  "rejection-sampling replay would keep 0.25 of matching rows")
    assert lint([1.0, 1.0], [0.1, 0.1], near_zero=0.0) == [CONSISTENT]


def test_halved_propensities_fail_in_a_log(tmp_path: Path) -> None:
    # a: 150 rows at propensity 0.25 (logged as if 4 actions), b: 150 rows at 0.5; 300 rows
    path = write(tmp_path, "action,reward,propensity\n" + "a,1,0.25\nb,0,0.5\n" * 150)
    result = check.check_file(path)
    # a: weight 4 on each of its rows: mean 150 * 4 / 300 = 2, error sqrt((16 / 2 - 4) / 300) = 0.115: z = 8.7
    assert result.weight_means == (2.0, 1.0)
    assert result.weight_errors == pytest.approx((math.sqrt(4 / 300), math.sqrt(1 / 300)), rel=1e-12)
    assert texts(result, "propensities") == [high("a", "2.000", "0.115", 1, 2)]


# --- support --------------------------------------------------------------------------------------------------

def support(counts: tuple[int, ...], events: Sequence[float], binary: bool = True) -> list[tuple[str, str]]:
    labels = tuple("abcdefghijk"[:len(counts)])
    found = check._support(info(actions=labels, counts=counts, binary=binary), np.array(events, float))
    assert all(f.topic == "support" for f in found)
    return [(f.status, f.text) for f in found]


def test_one_action_logged_is_nothing_to_compare() -> None:
    assert support((5, 0, 0), [5, 0, 0]) == [(FAIL, "only 1 action logged: there is nothing to compare")]
    assert support((7,), [5]) == [(FAIL, "only 1 action logged: there is nothing to compare")]
    assert support((5, 5, 0), [5, 5, 0]) == [
        (WARN, "1 of 3 actions never logged (c): no policy that plays them can be evaluated")]


def test_five_reward_events_are_enough() -> None:
    assert support((9, 9), [5, 5]) == [(OK, "every action logged, 9 to 9 rows each")]
    assert support((9, 8, 0), [4, 5, 0]) == [
        (WARN, "1 of 3 actions never logged (c): no policy that plays them can be evaluated"),
        (WARN, "1 logged action has fewer than 5 reward events (a): their rewards are barely estimable")]


def test_no_reward_event_at_all_fails_once() -> None:
    assert support((3, 4), [0, 0]) == [(FAIL, "no reward event in the whole log: every policy scores 0")]


def test_continuous_rewards_need_no_events() -> None:
    assert support((1000, 2500, 1200), [0, 0, 0], binary=False) == [
        (OK, "every action logged, 1,000 to 2,500 rows each")]


def test_long_lists_of_actions_are_cut_to_five() -> None:
    assert support((5, 5, 0, 0, 0, 0, 0, 0, 0), [5, 5] + [0] * 7) == [
        (WARN, "7 of 9 actions never logged (c, d, e, f, g and 2 more): no policy that plays them can be evaluated")]
    assert support((1, 2, 3, 4, 3, 2, 5), [1, 2, 3, 4, 4, 4, 5])[0] == (
        WARN, ("6 logged actions have fewer than 5 reward events (a, b, c, d, e and 1 more): their rewards are barely "
              "estimable"))
    assert check._few(["a", "b", "c", "d", "e"]) == "a, b, c, d, e"
    assert check._few(["a", "b", "c", "d"]) == "a, b, c, d"
    assert check._few(["a", "b", "c"], limit=2) == "a, b and 1 more"
    assert check._few([]) == ""


# --- power ----------------------------------------------------------------------------------------------------

def power(effect: float = 0.1, holdout: float = 0.5, variance: float = 0.25, inverse_sq: float = 4.0,
          **fields: Any) -> Power:
    return check._power(info(**fields), effect, holdout, variance, inverse_sq)


def test_power_of_a_binary_reward() -> None:
    got = power(rows=10, mean_reward=0.5)
    assert (got.effect, got.rate, got.target) == (0.1, 0.5, 0.55)
    assert got.needed == pytest.approx(binary_needed(0.5, 0.55), rel=1e-12)
    assert got.needed == pytest.approx(1564.6720527749, rel=1e-12)
    assert (got.replay_rows, got.final_rows) == (5 * 0.5, 5 * 0.5)  # uniform over 2: keep 1 / 2, ESS 2 / 4
    assert got.log_rows_needed == pytest.approx(got.needed / 0.25, rel=1e-12)


def test_a_target_above_one_is_capped_at_one_and_a_rate_of_zero_or_one_has_no_power() -> None:
    got = power(effect=0.5, mean_reward=0.75)
    assert got.target == 1.125 and got.needed == pytest.approx(binary_needed(0.75, 1.0), rel=1e-12)
    assert math.isinf(power(mean_reward=0.0).needed) and math.isinf(power(mean_reward=1.0).needed)
    assert power(mean_reward=1e-9).needed == pytest.approx(binary_needed(1e-9, 1.1e-9), rel=1e-9)


def test_power_of_a_continuous_reward() -> None:
    assert power(effect=0.25, variance=3.0, mean_reward=2.0, binary=False).needed == pytest.approx(
        2 * ZZ * 3.0 / 0.5 ** 2, rel=1e-12)
    assert power(effect=0.25, variance=3.0, mean_reward=-2.0, binary=False).needed == pytest.approx(
        2 * ZZ * 3.0 / 0.5 ** 2, rel=1e-12)  # a negative mean: the difference is still 0.5
    # a mean of 0: the effect is taken relative to the standard deviation, 0.5 x 2 = 1
    assert power(effect=0.5, variance=4.0, mean_reward=0.0, binary=False).needed == pytest.approx(8 * ZZ, rel=1e-12)
    assert math.isinf(power(effect=0.5, variance=0.0, mean_reward=0.0, binary=False).needed)
    assert math.isinf(power(effect=0.0, variance=4.0, mean_reward=2.0, binary=False).needed)


def test_the_rows_each_kind_of_evaluation_gets() -> None:
    # 10 rows, 30% held out: 7 learning rows kept at p_min 0.2; 3 held-out rows at an ESS of 4 / 25 each
    got = power(holdout=0.3, inverse_sq=25.0, rows=10, actions=("a", "b", "c", "d"), counts=(3, 3, 2, 2),
                uniform=False, min_propensity=0.2)
    assert got.replay_rows == pytest.approx(7 * 0.2, rel=1e-12)
    assert got.final_rows == pytest.approx(3 * 4 / 25, rel=1e-12)
    assert got.log_rows_needed == pytest.approx(got.needed / (0.7 * 0.2), rel=1e-12)
    # the held-out side gives more per row: 0.5 x 4 / 5 = 0.4 against 0.5 x 0.2
    other = power(holdout=0.5, inverse_sq=5.0, rows=10, actions=("a", "b", "c", "d"), counts=(3, 3, 2, 2),
                  uniform=False, min_propensity=0.2)
    assert (other.replay_rows, other.final_rows) == (1.0, 4.0)
    assert other.log_rows_needed == pytest.approx(other.needed / 0.4, rel=1e-12)
    odd = power(rows=5)  # half of 5 rows: round(2.5) = 2 learning, 3 held out
    assert (odd.replay_rows, odd.final_rows) == (1.0, 1.5)


def test_enough_rows_at_equality() -> None:
    base = Power(0.1, 0.5, 0.55, 100.0, 100.0, 3.0, 1.0)
    assert base.enough
    assert not replace(base, replay_rows=99.99).enough
    assert replace(base, replay_rows=3.0, final_rows=100.0).enough
    assert not replace(base, replay_rows=3.0, final_rows=99.99).enough


def test_the_power_finding_in_words() -> None:
    ok = Power(0.25, 0.5, 0.625, 1234.4, 1500.6, 99.2, 5000.0)
    assert check._power_finding(info(), ok) == Finding(OK, "power", (
        "telling the logging policy's 0.5 from 0.625 (+25%) at 95% confidence with 80% power needs about 1,234 "
        "effective rows per policy; this log gives a replayed learner about 1,501 and a final policy's held-out IPS "
        "about 99"))
    short = Power(-0.1, 0.123456, 0.1111104, 12345.6, 10.0, 20.0, 123456.7)
    assert check._power_finding(info(), short) == Finding(FAIL, "power", (
        "telling the logging policy's 0.1235 from 0.1111 (-10%) at 95% confidence with 80% power needs about 12,346 "
        "effective rows per policy; this log gives a replayed learner about 10 and a final policy's held-out IPS "
        "about 20: a log of about 123,457 rows would be needed"))
    never = Power(0.1, 1.0, 1.1, float("inf"), 10.0, 20.0, float("inf"))
    assert check._power_finding(info(), never) == Finding(FAIL, "power", "no log length tells a reward of 1 from 1.1")


def test_a_log_with_enough_rows_can_answer(tmp_path: Path) -> None:
    # 40 rows, click rate 0.5, effect +90%: 0.5 against 0.95 needs binary_needed(0.5, 0.95) = 14.6 rows per policy;
    # uniform over 2 actions: 20 learning rows kept at 1 / 2 give 10, 20 held-out rows at an ESS of 1 / 2 give 10
    path = write(tmp_path, "action,reward,propensity\n" + "a,1,0.5\nb,0,0.5\na,0,0.5\nb,1,0.5\n" * 10)
    result = check.check_file(path, effect=0.9)
    assert result.power.needed == pytest.approx(binary_needed(0.5, 0.95), rel=1e-12)
    assert (result.power.replay_rows, result.power.final_rows) == (10.0, 10.0)
    assert not result.power.enough
    result = check.check_file(path, effect=0.9, holdout=0.2)  # 32 learning rows: 16 for a replayed learner
    assert result.power.replay_rows == 16.0 and result.power.enough and result.answerable
    assert texts(result, "power")[0][0] == OK


# --- what the first run left standing -------------------------------------------------------------------------

def test_a_continuous_log_off_one_has_its_variance(tmp_path: Path) -> None:
    # rewards 1, 3, 1, 3: mean 2, mean square 5, variance 5 - 4 = 1
    path = write(tmp_path, "action,reward,propensity\na,1,0.5\nb,3,0.5\na,1,0.5\nb,3,0.5\n")
    result = check.check_file(path, effect=0.5)
    assert texts(result, "reward") == [(OK, "mean 2, standard deviation 1")]
    assert result.power.needed == pytest.approx(2 * ZZ * 1.0 / 1.0 ** 2, rel=1e-12)  # 0.5 x 2 = 1 apart


def test_a_rate_of_one_has_no_power_even_to_tell_a_lower_one() -> None:
    assert math.isinf(power(effect=-0.1, mean_reward=1.0).needed)
    assert math.isinf(power(effect=-0.1, mean_reward=0.0).needed)
    assert power(effect=-0.5, mean_reward=0.5).needed == pytest.approx(binary_needed(0.5, 0.25), rel=1e-12)


def test_an_action_logged_once_is_tested_and_counted() -> None:
    assert lint([1.6, 1.0], [0.1, 0.1], counts=(1, 5)) == [high("a", "1.600", "0.100", 1, 2)]
    assert lint([1.0, 1.6], [0.1, 0.1], counts=(0, 1))[0][1].endswith(
        "on 1 of 1 actions; are they another policy's, or per slate instead of per position? Fix them, or drop the "
        "column to have them estimated (--estimate-propensities)")


def test_a_zero_standard_error_is_no_evidence_however_far_the_mean() -> None:
    # an action logged on every row at one propensity: its weight never varies, so there is no error to measure
    assert lint([7.0, 1.0], [0.0, 0.1]) == [CONSISTENT]


def test_a_single_reward_event_is_rare_not_absent() -> None:
    assert support((3, 4), [1, 0]) == [
        (WARN, "2 logged actions have fewer than 5 reward events (a, b): their rewards are barely estimable")]


def test_a_dataset_of_one_file_and_a_dataset_with_an_empty_file(tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    parquet(one / "part-0.parquet", decision_id=[1.0, 1.0], action=["a", "b"], reward=[1, 0], propensity=[.5, .5])
    result = check.check_file(one)
    assert result.id_col == "decision_id" and result.duplicates == 1
    assert "first at row 2 of the dataset (already at row 1 of the dataset)" in texts(result, "decision ids")[0][1]
    gap = tmp_path / "gap"
    gap.mkdir()
    pq.write_table(pa.table({"decision_id": pa.array([], pa.float64()), "action": pa.array([], pa.string()),
                             "reward": pa.array([], pa.int64()), "propensity": pa.array([], pa.float64())}),
                   gap / "part-0.parquet")
    parquet(gap / "part-1.parquet", decision_id=[1.0, 2.0, 1.0], action=["a", "b", "a"], reward=[1, 0, 1],
            propensity=[.5, .5, .5])
    for chunk_rows in (1, 100):
        result = check.check_file(gap, chunk_rows=chunk_rows)
        assert result.duplicates == 1 and result.info.rows == 3
        assert "first at row 3 of the dataset (already at row 1 of the dataset)" in texts(result, "decision ids")[0][1]


def test_ids_in_a_column_with_another_roles_default_name(tmp_path: Path) -> None:
    """The user names a role's column (ps, slot) and takes the column with that role's default name as the ids."""
    path = write(tmp_path, "action,reward,ps,propensity\na,1,0.5,0\nb,0,0.5,1\na,1,0.5,0\n")
    result = check.check_file(path, Columns(propensity="ps"), id_col="propensity")
    assert (result.id_col, result.duplicates) == ("propensity", 1)
    assert f"first at {path}:4 (already at {path}:2)" in texts(result, "decision ids")[0][1]
    path = write(tmp_path, "action,reward,propensity,slot,position\na,1,0.5,1,10\nb,0,0.5,2,11\na,0,0.5,1,12\n"
                           "b,1,0.5,2,10\n", "slots.csv")
    result = check.check_file(path, Columns(position="slot"), id_col="position")
    assert (result.id_col, result.duplicates) == ("position", 1)
    assert f"first at {path}:5 (already at {path}:2)" in texts(result, "decision ids")[0][1]


def test_the_header_is_read_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """Column names outside ASCII, read under an ASCII locale (as on a system whose default encoding is not
    UTF-8): the id column is still found beside the action column the user named."""
    path = tmp_path / "log.csv"
    path.write_bytes("decision_id,ação,reward,propensity\n1,a,1,0.5\n1,b,0,0.5\n".encode())
    before = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        result = check.check_file(path, Columns(action="ação"))
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert (result.id_col, result.duplicates, result.info.action_col) == ("decision_id", 1, "ação")
