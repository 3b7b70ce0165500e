import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.sinks.files import CsvSink, JsonLinesSink, ParquetSink
from workbench.sources.csv_reader import CsvReader
from workbench.sources.json_reader import JsonLinesReader


def test_csv_sink_header_and_values(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "deep" / "out.csv"
    sink = CsvSink("out", path)
    sink.open(schema)
    sink.write(rows)
    sink.close()
    lines = path.read_text().splitlines()
    assert lines[0] == "ts,lt,id,small,x,name,ok,d,tm,price,user,tags,attrs"
    assert lines[1].startswith('"2020-01-01 10:00:00.123","2020-01-01 10:00:00.500Z",1,7,1.5,')
    assert '"a,""b"""' in lines[1]
    assert lines[2] == ",,,,,,,,,,,,"
    assert sink.rows_written == 2


def test_csv_sink_round_trip(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "out.csv"
    sink = CsvSink("out", path)
    sink.open(schema)
    sink.write(rows)
    sink.close()
    reader = CsvReader("back", [path], schema)
    back = pd.concat(list(reader.chunks()), ignore_index=True)
    assert len(reader.rejected) == 0
    assert back["ts"][0] == rows["ts"][0]
    assert back["lt"][0] == rows["lt"][0]
    assert back["user"][0] == rows["user"][0]
    assert back["tags"][0] == ["x", "y"]
    assert back["name"][0] == 'a,"b"'


def test_csv_sink_append_writes_header_once(
    tmp_path: Path, schema: Schema, rows: pd.DataFrame
) -> None:
    path = tmp_path / "out.csv"
    for _ in range(2):
        sink = CsvSink("out", path, mode="append")
        sink.open(schema)
        sink.write(rows.iloc[:1])
        sink.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("ts,")


def test_csv_sink_overwrite_truncates(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old content\n")
    sink = CsvSink("out", path)
    sink.open(schema)
    sink.close()
    assert path.read_text().splitlines() == ["ts,lt,id,small,x,name,ok,d,tm,price,user,tags,attrs"]


def test_csv_sink_delimiter_and_null_literal(
    tmp_path: Path, schema: Schema, rows: pd.DataFrame
) -> None:
    path = tmp_path / "out.csv"
    sink = CsvSink("out", path, delimiter=";", header=False, null_literal="NULL")
    sink.open(schema.select(["id", "name"]))
    sink.write(rows)
    sink.close()
    assert path.read_text().splitlines() == ['1;"a,""b"""', "NULL;NULL"]


def test_json_sink_lines(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "out.jsonl"
    sink = JsonLinesSink("out", path)
    sink.open(schema)
    sink.write(rows)
    sink.close()
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert first["ts"] == "2020-01-01 10:00:00.123"
    assert first["lt"] == "2020-01-01 10:00:00.500Z"
    assert first["d"] == "2020-01-02"
    assert first["tm"] == "10:30:00"
    assert first["user"] == {"age": 30, "seen": "2020-01-01 00:00:01.000"}
    assert first["tags"] == ["x", "y"]
    assert first["attrs"] == {"k": 1.5}
    assert first["ok"] is True
    assert second == dict.fromkeys(schema.names)


def test_json_sink_round_trip(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "out.jsonl"
    sink = JsonLinesSink("out", path)
    sink.open(schema)
    sink.write(rows)
    sink.close()
    reader = JsonLinesReader("back", [path], schema)
    back = pd.concat(list(reader.chunks()), ignore_index=True)
    assert len(reader.rejected) == 0
    pd.testing.assert_frame_equal(back.drop(columns=["price"]), rows.drop(columns=["price"]))


def test_json_sink_append(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": 0}\n')
    sink = JsonLinesSink("out", path, mode="append")
    sink.open(schema)
    sink.write(rows.iloc[:1])
    sink.close()
    assert len(path.read_text().splitlines()) == 2


def test_parquet_sink_types(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "out" / "a.parquet"
    sink = ParquetSink("out", path)
    sink.open(schema)
    sink.write(rows)
    sink.write(rows.iloc[:1])
    sink.close()
    table = pq.read_table(path)
    assert table.num_rows == 3
    assert table.schema.field("ts").type == pa.timestamp("ms")
    assert table.schema.field("lt").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("user").type == pa.struct(
        [("age", pa.int32()), ("seen", pa.timestamp("ms"))]
    )
    assert table.schema.field("attrs").type == pa.map_(pa.string(), pa.float64())
    first = table.to_pylist()[0]
    assert str(first["price"]) == "12.35"
    assert first["tags"] == ["x", "y"]
    assert first["attrs"] == [("k", 1.5)]


def test_parquet_sink_append_keeps_old_rows(
    tmp_path: Path, schema: Schema, rows: pd.DataFrame
) -> None:
    path = tmp_path / "a.parquet"
    for first in (0, 1):
        sink = ParquetSink("out", path, mode="append")
        sink.open(schema)
        sink.write(rows.iloc[first : first + 1])
        sink.close()
    table = pq.read_table(path)
    assert table.num_rows == 2
    assert table.column("id").to_pylist() == [1, None]
    assert not (tmp_path / ".a.parquet.appending").exists()


def test_parquet_sink_append_leaves_file_until_close(
    tmp_path: Path, schema: Schema, rows: pd.DataFrame
) -> None:
    path = tmp_path / "a.parquet"
    sink = ParquetSink("out", path)
    sink.open(schema)
    sink.write(rows.iloc[:1])
    sink.close()
    appending = ParquetSink("out", path, mode="append")
    appending.open(schema)
    appending.write(rows)
    assert pq.read_table(path).num_rows == 1
    appending.close()
    assert pq.read_table(path).num_rows == 3


def test_parquet_sink_append_other_columns(
    tmp_path: Path, schema: Schema, rows: pd.DataFrame
) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"other": [1]}), path)
    sink = ParquetSink("out", path, mode="append")
    with pytest.raises(SinkError, match=r"cannot append to .*a\.parquet: its columns \(other\)"):
        sink.open(schema)
    assert pq.read_table(path).column_names == ["other"]
    assert not (tmp_path / ".a.parquet.appending").exists()


def test_file_sink_rejects_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match=r"invalid sink\.mode 'merge'"):
        CsvSink("out", tmp_path / "a.csv", mode="merge")  # type: ignore[arg-type]
