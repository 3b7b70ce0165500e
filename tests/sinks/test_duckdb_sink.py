from pathlib import Path

import duckdb
import pandas as pd
import pytest

from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.duckdb_sink import DuckDBSink, duckdb_type


def fetch(path: Path, sql: str) -> list[tuple[object, ...]]:
    connection = duckdb.connect(str(path))
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_duckdb_types(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "db" / "results.duckdb"
    sink = DuckDBSink("out", path, "alerts")
    sink.open(schema)
    sink.write(rows)
    sink.close()
    columns = fetch(path, "SELECT column_name, data_type FROM information_schema.columns")
    described = {str(name): str(kind) for name, kind in columns}
    assert described == {
        "ts": "TIMESTAMP",
        "lt": "TIMESTAMP WITH TIME ZONE",
        "id": "BIGINT",
        "small": "SMALLINT",
        "x": "DOUBLE",
        "name": "VARCHAR",
        "ok": "BOOLEAN",
        "d": "DATE",
        "tm": "TIME",
        "price": "DECIMAL(10,2)",
        "user": "STRUCT(age INTEGER, seen TIMESTAMP)",
        "tags": "VARCHAR[]",
        "attrs": "MAP(VARCHAR, DOUBLE)",
    }


def test_duckdb_values(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "results.duckdb"
    sink = DuckDBSink("out", path, "alerts")
    sink.open(schema)
    sink.write(rows)
    sink.close()
    values = fetch(
        path,
        "SELECT CAST(ts AS VARCHAR), id, name, CAST(price AS VARCHAR), user.age, tags, attrs "
        "FROM alerts ORDER BY id NULLS LAST",
    )
    assert values[0] == ("2020-01-01 10:00:00.123", 1, 'a,"b"', "12.35", 30, ["x", "y"], {"k": 1.5})
    assert values[1] == (None, None, None, None, None, None, None)


def test_duckdb_appends_across_opens(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "results.duckdb"
    for _ in range(2):
        sink = DuckDBSink("out", path, "alerts")
        sink.open(schema)
        sink.write(rows)
        sink.close()
    assert fetch(path, "SELECT count(*) FROM alerts") == [(4,)]


def test_duckdb_incompatible_table(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute("CREATE TABLE alerts (id VARCHAR, other INTEGER)")
    connection.close()
    schema = Schema.of([("id", t.BIGINT), ("score", t.DOUBLE)])
    sink = DuckDBSink("out", path, "alerts")
    with pytest.raises(SinkError) as info:
        sink.open(schema)
    assert str(info.value) == (
        f"sink 'out': table 'alerts' in {path} has incompatible columns: "
        "column 'id' is VARCHAR, expected BIGINT; column 'score' (DOUBLE) is missing. "
        "Drop the table or use another 'table-name'"
    )


def test_duckdb_existing_compatible_table(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute("CREATE TABLE Alerts (ID BIGINT, note VARCHAR)")
    connection.close()
    sink = DuckDBSink("out", path, "alerts")
    sink.open(Schema.of([("id", t.BIGINT)]))
    sink.write(pd.DataFrame({"id": pd.array([9], dtype="Int64")}))
    sink.close()
    assert fetch(path, "SELECT * FROM alerts") == [(9, None)]


def test_duckdb_failed_write_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "results.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute("CREATE TABLE alerts (id BIGINT NOT NULL)")
    connection.close()
    sink = DuckDBSink("out", path, "alerts")
    sink.open(Schema.of([("id", t.BIGINT)]))
    sink.write(pd.DataFrame({"id": pd.array([1], dtype="Int64")}))
    with pytest.raises(SinkError, match="sink 'out': write failed: ConstraintException"):
        sink.write(pd.DataFrame({"id": pd.array([2, None], dtype="Int64")}))
    sink.close()
    assert fetch(path, "SELECT id FROM alerts") == [(1,)]
    assert sink.rows_written == 1


def test_duckdb_type_names() -> None:
    assert duckdb_type(t.timestamp(9)) == "TIMESTAMP_NS"
    assert duckdb_type(t.row([("a b", t.INT)])) == 'STRUCT("a b" INTEGER)'
    assert duckdb_type(t.array(t.map_of(t.STRING, t.BIGINT))) == "MAP(VARCHAR, BIGINT)[]"
