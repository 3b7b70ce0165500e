import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.sqlite_sink import SQLiteSink, affinity


def fetch(path: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_sqlite_creates_table(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "db" / "results.sqlite"
    sink = SQLiteSink("out", path, "alerts")
    sink.open(schema)
    sink.write(rows)
    sink.close()
    declared = {row[1]: row[2] for row in fetch(path, "PRAGMA table_info(alerts)")}
    assert declared["ts"] == "TEXT"
    assert declared["id"] == "INTEGER"
    assert declared["ok"] == "INTEGER"
    assert declared["price"] == "REAL"
    assert declared["user"] == "TEXT"


def test_sqlite_values(tmp_path: Path, schema: Schema, rows: pd.DataFrame) -> None:
    path = tmp_path / "results.sqlite"
    sink = SQLiteSink("out", path, "alerts")
    sink.open(schema)
    sink.write(rows)
    sink.close()
    first, second = fetch(path, "SELECT ts, lt, id, ok, d, tm, user, tags FROM alerts")
    assert first[:6] == (
        "2020-01-01 10:00:00.123",
        "2020-01-01 10:00:00.500Z",
        1,
        1,
        "2020-01-02",
        "10:30:00",
    )
    assert json.loads(str(first[6])) == {"age": 30, "seen": "2020-01-01 00:00:01.000"}
    assert json.loads(str(first[7])) == ["x", "y"]
    assert second == (None,) * 8
    assert fetch(path, "SELECT datetime(ts) FROM alerts LIMIT 1") == [("2020-01-01 10:00:00",)]


def test_sqlite_incompatible_table(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE alerts (id TEXT)")
    connection.close()
    sink = SQLiteSink("out", path, "alerts")
    with pytest.raises(SinkError, match="column 'id' is TEXT, expected INTEGER; column 'n'"):
        sink.open(Schema.of([("id", t.BIGINT), ("n", t.DOUBLE)]))


def test_sqlite_same_affinity_accepted(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE alerts (id INT CHECK (id < 10), name VARCHAR(20), x FLOAT)")
    connection.close()
    sink = SQLiteSink("out", path, "alerts")
    sink.open(Schema.of([("id", t.BIGINT), ("name", t.STRING), ("x", t.DOUBLE)]))
    sink.write(pd.DataFrame({"id": pd.array([3], dtype="Int64"), "name": ["a"], "x": [1.5]}))
    sink.close()
    assert fetch(path, "SELECT id, name, x FROM alerts") == [(3, "a", 1.5)]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INT", "INTEGER"),
        ("BIGINT", "INTEGER"),
        ("VARCHAR(20)", "TEXT"),
        ("CLOB", "TEXT"),
        ("", "BLOB"),
        ("DOUBLE PRECISION", "REAL"),
        ("DECIMAL(10,5)", "NUMERIC"),
    ],
)
def test_sqlite_affinity_rules(declared: str, expected: str) -> None:
    assert affinity(declared) == expected


def test_sqlite_failed_write_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE alerts (id INTEGER NOT NULL)")
    connection.close()
    sink = SQLiteSink("out", path, "alerts")
    sink.open(Schema.of([("id", t.BIGINT)]))
    with pytest.raises(SinkError, match="sink 'out': write failed: IntegrityError"):
        sink.write(pd.DataFrame({"id": pd.array([1, None], dtype="Int64")}))
    sink.write(pd.DataFrame({"id": pd.array([3], dtype="Int64")}))
    sink.close()
    assert fetch(path, "SELECT id FROM alerts") == [(3,)]
