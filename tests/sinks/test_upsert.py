"""Upsert by primary key in the DuckDB and SQLite sinks, and the net changes of a batch."""

import sqlite3
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.base import BaseSink
from workbench.sinks.changelog import net_changes, split_changelog
from workbench.sinks.duckdb_sink import DuckDBSink
from workbench.sinks.sqlite_sink import SQLiteSink

SCHEMA = Schema.of([("host", t.STRING), ("minute", t.timestamp(3)), ("n", t.BIGINT)])
KEY = ("host", "minute")


def changes(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """Return changelog rows (op, host, minute, n) as the result collector writes them."""
    frame = pd.DataFrame(rows, columns=["op", "host", "minute", "n"])
    return pd.DataFrame(
        {
            "host": frame["host"].astype(object),
            "minute": pd.to_datetime(frame["minute"], format="ISO8601").astype("datetime64[ms]"),
            "n": frame["n"].astype("Int64"),
            "op": frame["op"].astype(object),
        }
    )


def read_duckdb(path: Path) -> list[tuple[object, ...]]:
    connection = duckdb.connect(str(path))
    try:
        return connection.execute("SELECT host, minute, n FROM stats ORDER BY ALL").fetchall()
    finally:
        connection.close()


def read_sqlite(path: Path) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT host, minute, n FROM stats ORDER BY 1, 2").fetchall()
    finally:
        connection.close()


def open_sink(kind: str, path: Path) -> BaseSink:
    sink: BaseSink
    if kind == "duckdb":
        sink = DuckDBSink("out", path, "stats", primary_key=KEY)
    else:
        sink = SQLiteSink("out", path, "stats", primary_key=KEY)
    sink.open(SCHEMA)
    return sink


def read(kind: str, path: Path) -> list[tuple[object, ...]]:
    rows = read_duckdb(path) if kind == "duckdb" else read_sqlite(path)
    return [(host, str(minute)[:19], n) for host, minute, n in rows]


def test_net_changes_last_change_wins() -> None:
    batch = changes(
        [
            ("+I", "a", "2020-01-01 10:00", 1),
            ("-U", "a", "2020-01-01 10:00", 1),
            ("+U", "a", "2020-01-01 10:00", 2),
            ("+I", "b", "2020-01-01 10:00", 1),
            ("-D", "b", "2020-01-01 10:00", 1),
            ("-D", "c", "2020-01-01 10:00", 7),
        ]
    )
    rows, kinds = split_changelog(batch, SCHEMA.names)
    upserts, deletes = net_changes(rows, kinds, KEY)
    assert upserts[["host", "n"]].values.tolist() == [["a", 2]]
    assert deletes["host"].tolist() == ["b", "c"]
    assert list(deletes.columns) == list(KEY)


def test_net_changes_without_kinds_upserts_all() -> None:
    rows = changes([("+I", "a", "2020-01-01", 1), ("+I", "a", "2020-01-01", 5)]).drop(columns="op")
    upserts, deletes = net_changes(rows, None, KEY)
    assert upserts["n"].tolist() == [5]
    assert deletes.empty


def test_split_changelog_keeps_sink_column_named_op() -> None:
    frame = pd.DataFrame({"op": ["x"], "n": [1]})
    rows, kinds = split_changelog(frame, ["op", "n"])
    assert kinds is None
    assert list(rows.columns) == ["op", "n"]


def test_split_changelog_rejects_unknown_kind() -> None:
    with pytest.raises(SinkError, match=r"unknown row kinds \*X"):
        split_changelog(pd.DataFrame({"n": [1], "op": ["*X"]}), ["n"])


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_upsert_applies_updates_and_deletes(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"stats.{kind}"
    sink = open_sink(kind, path)
    sink.write(
        changes(
            [
                ("+I", "a", "2020-01-01 10:00", 1),
                ("+I", "b", "2020-01-01 10:00", 1),
                ("+I", "b", "2020-01-01 10:01", 4),
            ]
        )
    )
    sink.write(
        changes(
            [
                ("-U", "a", "2020-01-01 10:00", 1),
                ("+U", "a", "2020-01-01 10:00", 3),
                ("-D", "b", "2020-01-01 10:00", 1),
            ]
        )
    )
    sink.close()
    assert read(kind, path) == [
        ("a", "2020-01-01 10:00:00", 3),
        ("b", "2020-01-01 10:01:00", 4),
    ]
    assert sink.rows_written == 6


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_upsert_creates_primary_key(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"stats.{kind}"
    open_sink(kind, path).close()
    if kind == "duckdb":
        connection = duckdb.connect(str(path))
        constraints = connection.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        connection.close()
        assert constraints == [(["host", "minute"],)]
    else:
        connection = sqlite3.connect(path)
        info = connection.execute("PRAGMA table_info(stats)").fetchall()
        connection.close()
        assert {row[1]: row[5] for row in info} == {"host": 1, "minute": 2, "n": 0}


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_upsert_into_table_without_constraint(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"stats.{kind}"
    create = "CREATE TABLE stats (host VARCHAR, minute TIMESTAMP, n BIGINT)"
    if kind == "duckdb":
        connection = duckdb.connect(str(path))
        connection.execute(create)
        connection.execute("INSERT INTO stats VALUES ('a', '2020-01-01 10:00', 9)")
    else:
        connection = sqlite3.connect(path)
        connection.execute(
            create.replace("VARCHAR", "TEXT")
            .replace("TIMESTAMP", "TEXT")
            .replace("BIGINT", "INTEGER")
        )
        connection.execute("INSERT INTO stats VALUES ('a', '2020-01-01 10:00:00.000', 9)")
        connection.commit()
    connection.close()
    sink = open_sink(kind, path)
    sink.write(changes([("+I", "a", "2020-01-01 10:00", 1), ("+I", "c", "2020-01-01", 2)]))
    sink.close()
    assert read(kind, path) == [("a", "2020-01-01 10:00:00", 1), ("c", "2020-01-01 00:00:00", 2)]


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_failed_upsert_rolls_back_batch(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"stats.{kind}"
    create = "CREATE TABLE stats (host VARCHAR, minute TIMESTAMP, n BIGINT CHECK (n < 10), PRIMARY KEY (host, minute))"
    if kind == "duckdb":
        connection = duckdb.connect(str(path))
        connection.execute(create)
    else:
        connection = sqlite3.connect(path)
        connection.execute(
            create.replace("VARCHAR", "TEXT")
            .replace("TIMESTAMP", "TEXT")
            .replace("BIGINT", "INTEGER")
        )
    connection.close()
    sink = open_sink(kind, path)
    sink.write(changes([("+I", "a", "2020-01-01", 1), ("+I", "b", "2020-01-01", 2)]))
    batch = changes(
        [
            ("-D", "a", "2020-01-01", 1),
            ("-U", "b", "2020-01-01", 2),
            ("+U", "b", "2020-01-01", 50),
        ]
    )
    with pytest.raises(SinkError, match="sink 'out': write failed"):
        sink.write(batch)
    sink.close()
    assert read(kind, path) == [("a", "2020-01-01 00:00:00", 1), ("b", "2020-01-01 00:00:00", 2)]
    assert sink.rows_written == 2


def test_net_changes_null_keys_are_one_key() -> None:
    rows = pd.DataFrame({"host": [None, None], "minute": [pd.NaT, pd.NaT], "n": [1, 2]})
    upserts, _ = net_changes(rows, np.array(["+I", "+I"], dtype=object), KEY)
    assert upserts["n"].tolist() == [2]
