from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.duckdb_sink import DuckDBSink
from workbench.sinks.files import CsvSink, JsonLinesSink, ParquetSink
from workbench.sinks.memory import BlackholeSink, MemorySink, PrintSink
from workbench.sinks.registry import known_sink_connectors, open_sink, validate_sink_options
from workbench.sinks.sqlite_sink import SQLiteSink

SCHEMA = Schema.of([("id", t.BIGINT)])


def test_known_sink_connectors() -> None:
    assert known_sink_connectors() == [
        "blackhole",
        "csv",
        "duckdb",
        "filesystem",
        "http",
        "json",
        "kafka",
        "memory",
        "mqtt",
        "parquet",
        "print",
        "redis-stream",
        "sqlite",
        "websocket",
    ]


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({"connector": "filesystem", "format": "csv", "path": "o/a.csv"}, CsvSink),
        ({"connector": "json", "path": "o/a.jsonl", "sink.mode": "append"}, JsonLinesSink),
        ({"connector": "parquet", "path": "o/a.parquet"}, ParquetSink),
        ({"connector": "duckdb", "path": "o/a.duckdb", "table-name": "t"}, DuckDBSink),
        ({"connector": "sqlite", "path": "o/a.sqlite", "table-name": "t"}, SQLiteSink),
        ({"connector": "print", "print-identifier": "x"}, PrintSink),
        ({"connector": "blackhole"}, BlackholeSink),
        ({"connector": "memory"}, MemorySink),
    ],
)
def test_open_sink_kind(tmp_path: Path, options: dict[str, str], kind: type) -> None:
    sink = open_sink("out", options, SCHEMA, base_dir=tmp_path)
    assert isinstance(sink, kind)
    sink.write(pd.DataFrame({"id": pd.array([1], dtype="Int64")}))
    sink.close()
    assert sink.rows_written == 1


def test_open_sink_relative_to_base_dir(tmp_path: Path) -> None:
    sink = open_sink(
        "out", {"connector": "csv", "path": "nested/out.csv"}, SCHEMA, base_dir=tmp_path
    )
    sink.close()
    assert (tmp_path / "nested" / "out.csv").read_text() == "id\n"


def test_open_sink_csv_options(tmp_path: Path) -> None:
    options = {
        "connector": "csv",
        "path": "a.csv",
        "csv.field-delimiter": "\\t",
        "csv.header": "false",
        "csv.null-literal": "-",
    }
    sink = open_sink(
        "out", options, Schema.of([("a", t.BIGINT), ("b", t.BIGINT)]), base_dir=tmp_path
    )
    sink.write(
        pd.DataFrame({"a": pd.array([1], dtype="Int64"), "b": pd.array([None], dtype="Int64")})
    )
    sink.close()
    assert (tmp_path / "a.csv").read_text() == "1\t-\n"


def test_unknown_connector() -> None:
    with pytest.raises(SinkError) as info:
        validate_sink_options({"connector": "duckbd"})
    assert str(info.value).startswith(
        "unknown sink connector 'duckbd' (did you mean 'duckdb'?); known connectors: blackhole,"
    )


def test_unknown_option_suggests() -> None:
    with pytest.raises(SinkError, match=r"unknown option 'tablename' .*did you mean 'table-name'"):
        validate_sink_options({"connector": "duckdb", "path": "x", "tablename": "t"})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "missing option 'connector'"),
        (
            {"connector": "duckdb", "path": "x"},
            "missing option 'table-name' for sink connector 'duckdb'",
        ),
        ({"connector": "csv"}, "missing option 'path' for sink connector 'csv'"),
        ({"connector": "filesystem", "path": "x"}, "missing option 'format'"),
        ({"connector": "csv", "path": "x", "sink.mode": "merge"}, "use 'overwrite' or 'append'"),
        ({"connector": "parquet", "path": "x", "sink.mode": "upsert"}, "invalid value 'upsert'"),
        ({"connector": "csv", "path": "x", "csv.header": "maybe"}, "use 'true' or 'false'"),
        ({"connector": "print", "standard-error": "1"}, "use 'true' or 'false'"),
        ({"connector": "csv", "path": "x", "csv.field-delimiter": "ab"}, "use one character"),
        ({"connector": "memory", "path": "x"}, "unknown option 'path' for sink connector 'memory'"),
    ],
)
def test_invalid_sink_options(options: dict[str, str], message: str) -> None:
    with pytest.raises(SinkError, match=message):
        validate_sink_options(options)
