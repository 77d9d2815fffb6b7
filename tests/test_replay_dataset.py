"""Parquet datasets (a folder of part files, as Spark and Dask write them) read lazily file by file: the same
chunks, and the same replay, as the single file they were cut from; bad values named by file and row (the
estimators' sums merging across partitions is tested in test_estimators.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from banditmap.cli.app import app
from banditmap.errors import BanditmapError
from banditmap.ope import logs, synthetic

pq = pytest.importorskip("pyarrow.parquet")


def dataset(tmp_path: Path, rows: int = 3000, parts: int = 3) -> tuple[Path, Path]:
    """A generated log as one Parquet file, and cut into `parts` files in a folder with Spark's extras."""
    env = synthetic.make_environment(4, 2, True, np.random.default_rng(1))
    whole = tmp_path / "whole.parquet"
    synthetic.write_log(whole, env, synthetic.LoggingPolicy("softmax"), rows, seed=2, positions=2)
    table = pq.read_table(whole)
    folder = tmp_path / "logs.parquet"
    (folder / "date=2026-01-01").mkdir(parents=True)
    cuts = np.linspace(0, rows, parts + 1).astype(int)
    for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
        pq.write_table(table.slice(a, b - a), folder / "date=2026-01-01" / f"part-{i:05d}-abc.snappy.parquet")
    (folder / "_SUCCESS").write_text("")
    (folder / "date=2026-01-01" / ".part-00000-abc.snappy.parquet.crc").write_bytes(b"\x00crc")
    return whole, folder


def test_a_dataset_folder_reads_as_the_file_it_was_cut_from(tmp_path: Path, runner: CliRunner) -> None:
    whole, folder = dataset(tmp_path)
    with logs.read_logs(whole, chunk_rows=700) as one, logs.read_logs(folder, chunk_rows=700) as many:
        assert many.info.rows == 3000 and many.info.counts == one.info.counts
        a = list(one.chunks())
        b = list(many.chunks())
        assert len(b) == 6  # 700-row batches within each 1,000-row file: 700 + 300, three times
        for field in ("actions", "rewards", "propensities"):
            assert np.array_equal(np.concatenate([getattr(c, field) for c in a]),
                                  np.concatenate([getattr(c, field) for c in b])), field
        # the standardisation's running mean and spread merge chunks of other sizes: equal to rounding
        assert np.allclose(np.concatenate([c.contexts for c in a]), np.concatenate([c.contexts for c in b]),
                           rtol=1e-12, atol=1e-12)
    runs = [json.loads(runner.invoke(app, ["replay", str(p), "--algorithms", "ucb1", "--format", "json",
                                           "--no-timings"]).output) for p in (whole, folder)]
    for data in runs:
        data["log"].pop("path")
    assert runs[0] == runs[1]
    checked = runner.invoke(app, ["replay", "--check", str(folder), "--effect", "2"])
    assert checked.exit_code in (0, 1) and "3,000 rows" in checked.output


def test_a_bad_value_is_named_by_its_file_and_row(tmp_path: Path) -> None:
    _, folder = dataset(tmp_path)
    part = folder / "date=2026-01-01" / "part-00001-abc.snappy.parquet"
    table = pq.read_table(part)
    column = table.column("propensity_score").to_numpy().copy()
    column[41] = 0.0
    pq.write_table(table.set_column(table.schema.get_field_index("propensity_score"), "propensity_score",
                                    [column]), part)
    with pytest.raises(BanditmapError) as info:
        logs.read_logs(folder)
    assert info.value.render() == (f"{part}: propensity_score: row 42: expected a propensity in (0, 1], got 0.0")


def test_a_file_without_a_column_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    _, folder = dataset(tmp_path)
    part = folder / "date=2026-01-01" / "part-00002-abc.snappy.parquet"
    pq.write_table(pq.read_table(part).drop_columns(["click"]), part)
    with pytest.raises(BanditmapError) as info:
        logs.read_logs(folder)
    assert info.value.source == str(part) and "no column 'click'" in info.value.message
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "_SUCCESS").write_text("")
    with pytest.raises(BanditmapError, match="a folder without data files"):
        logs.read_logs(empty)

