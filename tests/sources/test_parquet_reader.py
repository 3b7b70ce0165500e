import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources.parquet_reader import ParquetReader, arrow_to_series


def write(tmp_path: Path, table: pa.Table, **kwargs: object) -> Path:
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, **kwargs)
    return path


def read(
    path: Path, schema: Schema, chunk_rows: int = 65_536
) -> tuple[pd.DataFrame, ParquetReader]:
    reader = ParquetReader("pq", [path], schema, chunk_rows=chunk_rows)
    chunks = list(reader.chunks())
    return pd.concat(chunks, ignore_index=True), reader


def test_parquet_nested_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "s": pa.array([{"a": 1, "b": "x"}], pa.struct([("a", pa.int32()), ("b", pa.string())])),
            "l": pa.array([[1, 2]], pa.list_(pa.int64())),
            "m": pa.array([[("k", 1.5)]], pa.map_(pa.string(), pa.float64())),
        }
    )
    schema = Schema.of(
        [
            ("s", t.row([("a", t.INT), ("b", t.STRING)])),
            ("l", t.array(t.BIGINT)),
            ("m", t.map_of(t.STRING, t.DOUBLE)),
        ]
    )
    frame, _ = read(write(tmp_path, table), schema)
    assert frame["s"][0] == {"a": 1, "b": "x"}
    assert frame["l"][0] == [1, 2]
    assert frame["m"][0] == {"k": 1.5}


def test_parquet_scalar_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "ts": pa.array([1_600_000_000_000_000], pa.timestamp("us")),
            "lt": pa.array([1_600_000_000_000], pa.timestamp("ms", tz="UTC")),
            "d": pa.array([dt.date(2020, 1, 2)], pa.date32()),
            "tm": pa.array([dt.time(10, 30)], pa.time64("us")),
            "dec": pa.array([Decimal("1.25")], pa.decimal128(5, 2)),
            "tag": pa.array(["a"]).dictionary_encode(),
            "flag": pa.array([True]),
        }
    )
    schema = Schema.of(
        [
            ("ts", t.timestamp(6)),
            ("lt", t.timestamp_ltz(3)),
            ("d", t.DATE),
            ("tm", t.TIME),
            ("dec", t.decimal(5, 2)),
            ("tag", t.STRING),
            ("flag", t.BOOLEAN),
        ]
    )
    frame, _ = read(write(tmp_path, table), schema)
    assert frame["ts"][0] == pd.Timestamp("2020-09-13 12:26:40")
    assert frame["lt"][0] == pd.Timestamp("2020-09-13 12:26:40", tz="UTC")
    assert frame["d"][0] == pd.Timestamp("2020-01-02")
    assert frame["tm"][0] == pd.Timedelta("10:30:00")
    assert frame["dec"][0] == 1.25
    assert frame["tag"][0] == "a"
    assert bool(frame["flag"][0]) is True


def test_parquet_missing_column_is_null(tmp_path: Path) -> None:
    path = write(tmp_path, pa.table({"id": [1, 2]}))
    frame, _ = read(path, Schema.of([("id", t.BIGINT), ("name", t.STRING)]))
    assert frame["id"].tolist() == [1, 2]
    assert frame["name"].isna().all()


def test_parquet_unconvertible_rows_rejected_with_offset(tmp_path: Path) -> None:
    path = write(tmp_path, pa.table({"v": ["1", "two", "3", "x"]}), row_group_size=2)
    frame, reader = read(path, Schema.of([("v", t.INT)]), chunk_rows=2)
    assert frame["v"].tolist() == [1, 3]
    assert [(row[2], row[3]) for row in reader.rejected.rows] == [
        (1, "column 'v': invalid INT value 'two'"),
        (3, "column 'v': invalid INT value 'x'"),
    ]


def test_parquet_batches_and_position(tmp_path: Path) -> None:
    path = write(tmp_path, pa.table({"id": list(range(100))}), row_group_size=10)
    reader = ParquetReader("pq", [path], Schema.of([("id", t.BIGINT)]), chunk_rows=30)
    sizes = []
    for chunk in reader.chunks():
        sizes.append(len(chunk))
        assert 0 < reader.position() <= path.stat().st_size
    assert max(sizes) <= 30
    assert sum(sizes) == 100
    assert reader.position() == reader.size_hint()


def test_parquet_case_insensitive_column(tmp_path: Path) -> None:
    path = write(tmp_path, pa.table({"UserId": [5]}))
    frame, _ = read(path, Schema.of([("userid", t.BIGINT)]))
    assert frame["userid"].tolist() == [5]


def test_arrow_to_series_uint64_overflow_kept() -> None:
    series = arrow_to_series(pa.array([2**64 - 1], pa.uint64()))
    assert series.tolist() == [2**64 - 1]
