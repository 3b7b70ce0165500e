"""Rolling part files of the CSV, JSON lines and Parquet sinks."""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench import Session
from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.files import CsvSink
from workbench.sinks.registry import open_sink, validate_sink_options
from workbench.sinks.rolling import RollingFileSink, parse_file_size, parse_rollover_interval

SCHEMA = Schema.of([("id", t.BIGINT), ("name", t.STRING)])


def rows(start: int, count: int) -> pd.DataFrame:
    ids = list(range(start, start + count))
    return pd.DataFrame({"id": pd.array(ids, dtype="Int64"), "name": [f"n{i:04d}" for i in ids]})


def test_file_size_units() -> None:
    assert parse_file_size("4096") == 4096
    assert parse_file_size("1 kb") == 1024
    assert parse_file_size("128MB") == 128 * 1024 * 1024
    with pytest.raises(SinkError, match=r"'sink\.rolling-policy\.file-size'"):
        parse_file_size("ten")
    with pytest.raises(SinkError, match="positive size"):
        parse_file_size("0")


def test_rollover_interval_units() -> None:
    assert parse_rollover_interval("30 min") == 30 * 60 * 10**9
    assert parse_rollover_interval("500") == 500 * 10**6
    with pytest.raises(SinkError, match=r"'sink\.rolling-policy\.rollover-interval'"):
        parse_rollover_interval("soon")


def test_rolls_by_size(tmp_path: Path) -> None:
    options = {
        "connector": "filesystem",
        "format": "csv",
        "path": str(tmp_path / "out"),
        "sink.rolling-policy.file-size": "100b",
    }
    sink = open_sink("out", options, SCHEMA)
    for start in range(0, 40, 10):
        sink.write(rows(start, 10))
    sink.close()
    files = sorted((tmp_path / "out").iterdir())
    assert [path.name.startswith("part-") for path in files] == [True] * 4
    read = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    assert read["id"].tolist() == list(range(40))


def test_rolls_by_processing_time(tmp_path: Path) -> None:
    now = [0]
    sink = RollingFileSink(
        "out",
        tmp_path,
        "csv",
        lambda path: CsvSink("out", path),
        rollover_ns=1_000,
        clock=lambda: now[0],
    )
    sink.open(SCHEMA)
    sink.write(rows(0, 2))
    now[0] = 999
    sink.write(rows(2, 2))
    now[0] = 1_000
    sink.write(rows(4, 2))
    assert len(sink.finished_files) == 1
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] != []
    sink.close()
    assert [pd.read_csv(path)["id"].tolist() for path in sink.finished_files] == [
        [0, 1, 2, 3],
        [4, 5],
    ]
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_parquet_parts_are_complete(tmp_path: Path) -> None:
    options = {
        "connector": "parquet",
        "path": str(tmp_path),
        "sink.rolling-policy.file-size": "1 b",
    }
    sink = open_sink("out", options, SCHEMA)
    sink.write(rows(0, 3))
    sink.write(rows(3, 3))
    sink.close()
    files = sorted(tmp_path.glob("part-*.parquet"))
    assert len(files) == 2
    assert [pq.read_table(path).column("id").to_pylist() for path in files] == [
        [0, 1, 2],
        [3, 4, 5],
    ]


def test_overwrite_removes_old_parts_append_keeps(tmp_path: Path) -> None:
    options = {"connector": "json", "path": str(tmp_path), "sink.rolling-policy.file-size": "1 mb"}
    for _ in range(2):
        sink = open_sink("out", options, SCHEMA)
        sink.write(rows(0, 1))
        sink.close()
    assert len(list(tmp_path.glob("part-*.jsonl"))) == 1
    sink = open_sink("out", {**options, "sink.mode": "append"}, SCHEMA)
    sink.write(rows(1, 1))
    sink.close()
    assert len(list(tmp_path.glob("part-*.jsonl"))) == 2


def test_empty_run_writes_no_part(tmp_path: Path) -> None:
    options = {"connector": "csv", "path": str(tmp_path), "sink.rolling-policy.file-size": "1 mb"}
    open_sink("out", options, SCHEMA).close()
    assert list(tmp_path.iterdir()) == []


def test_path_that_is_a_file_rejected(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("")
    options = {"connector": "csv", "path": str(target), "sink.rolling-policy.file-size": "1 mb"}
    with pytest.raises(SinkError, match="set 'path' to a directory"):
        open_sink("out", options, SCHEMA)


def test_invalid_size_option_rejected() -> None:
    with pytest.raises(SinkError, match="invalid value 'big'"):
        validate_sink_options(
            {"connector": "csv", "path": "x", "sink.rolling-policy.file-size": "big"}
        )


def test_insert_into_rolling_directory(tmp_path: Path) -> None:
    work = Session(progress=False)
    frame = pd.DataFrame({"id": range(100), "ts": pd.to_datetime(range(100), unit="s")})
    work.from_pandas("ev", frame, rowtime="ts")
    work.sql(
        f"""
        SET 'workbench.replay.batch-rows' = '10';
        CREATE TABLE out (id BIGINT) WITH ('connector' = 'filesystem', 'format' = 'csv',
          'path' = '{tmp_path / "parts"}', 'sink.rolling-policy.file-size' = '64b');
        """
    )
    result = work.sql("INSERT INTO out SELECT id FROM ev")
    assert result.error is None
    files = sorted((tmp_path / "parts").glob("part-*.csv"))
    assert len(files) > 1
    read = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    assert read["id"].tolist() == list(range(100))
