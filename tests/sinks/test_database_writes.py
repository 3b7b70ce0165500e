"""INSERT INTO DuckDB and SQLite from a session: upserts of updating queries and failures."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from workbench import Session
from workbench.errors import ValidationError

EVENTS = pd.DataFrame(
    {
        "k": ["a", "b", "a", "c", "a", "b"],
        "v": [1, 2, 3, 4, 5, 6],
        "ts": pd.to_datetime([1, 2, 3, 4, 5, 6], unit="s"),
    }
)


def session() -> Session:
    result = Session(progress=False)
    result.from_pandas("ev", EVENTS, rowtime="ts")
    result.sql("SET 'workbench.replay.batch-rows' = '1'")
    return result


def stats_table(name: str, connector: str, path: Path, key: bool = True) -> str:
    primary = ", PRIMARY KEY (k) NOT ENFORCED" if key else ""
    return (
        f"CREATE TABLE {name} (k STRING, n BIGINT, total BIGINT{primary}) WITH "
        f"('connector' = '{connector}', 'path' = '{path}', 'table-name' = 'stats')"
    )


def fetch(connector: str, path: Path, sql: str) -> list[tuple[object, ...]]:
    if connector == "duckdb":
        connection = duckdb.connect(str(path))
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.parametrize("connector", ["duckdb", "sqlite"])
def test_group_aggregate_upserts_final_state(tmp_path: Path, connector: str) -> None:
    path = tmp_path / f"out.{connector}"
    work = session()
    work.sql(stats_table("out", connector, path))
    result = work.sql("INSERT INTO out SELECT k, COUNT(*), SUM(v) FROM ev GROUP BY k")
    assert result.status == "finished"
    assert result.error is None
    rows = fetch(connector, path, "SELECT k, n, total FROM stats ORDER BY k")
    assert rows == [("a", 3, 9), ("b", 2, 8), ("c", 1, 4)]


@pytest.mark.parametrize("connector", ["duckdb", "sqlite"])
def test_outer_join_deletes_padded_row(tmp_path: Path, connector: str) -> None:
    path = tmp_path / f"out.{connector}"
    work = Session(progress=False)
    work.from_pandas(
        "orders",
        pd.DataFrame({"id": [1, 2], "ts": pd.to_datetime([1, 2], unit="s")}),
        rowtime="ts",
    )
    work.from_pandas(
        "payments",
        pd.DataFrame({"order_id": [1], "paid": [10], "ts": pd.to_datetime([3], unit="s")}),
        rowtime="ts",
    )
    work.sql(
        f"""
        SET 'workbench.replay.batch-rows' = '1';
        SET 'table.exec.state.ttl' = '1 h';
        CREATE TABLE out (id BIGINT, paid BIGINT, PRIMARY KEY (id) NOT ENFORCED)
          WITH ('connector' = '{connector}', 'path' = '{path}', 'table-name' = 'stats');
        """
    )
    result = work.sql(
        "INSERT INTO out SELECT o.id, p.paid FROM orders AS o "
        "LEFT JOIN payments AS p ON o.id = p.order_id"
    )
    assert result.error is None
    assert fetch(connector, path, "SELECT id, paid FROM stats ORDER BY id") == [(1, 10), (2, None)]


@pytest.mark.parametrize("connector", ["duckdb", "sqlite"])
def test_updating_query_into_append_sink_rejected(tmp_path: Path, connector: str) -> None:
    work = session()
    work.sql(stats_table("out", connector, tmp_path / "out.db", key=False))
    with pytest.raises(ValidationError, match="only takes appended rows") as caught:
        work.sql("INSERT INTO out SELECT k, COUNT(*), SUM(v) FROM ev GROUP BY k")
    assert "PRIMARY KEY (...) NOT ENFORCED" in str(caught.value)


def test_updating_query_into_file_sink_rejected(tmp_path: Path) -> None:
    work = session()
    work.sql(
        f"CREATE TABLE out (k STRING, n BIGINT, PRIMARY KEY (k) NOT ENFORCED) "
        f"WITH ('connector' = 'csv', 'path' = '{tmp_path / 'out.csv'}')"
    )
    with pytest.raises(ValidationError, match="only takes appended rows") as caught:
        work.sql("INSERT INTO out SELECT k, COUNT(*) FROM ev GROUP BY k")
    assert "PRIMARY KEY" not in str(caught.value)


def test_append_query_into_keyed_sink_upserts(tmp_path: Path) -> None:
    path = tmp_path / "out.duckdb"
    work = session()
    work.sql(
        f"CREATE TABLE out (k STRING, v BIGINT, PRIMARY KEY (k) NOT ENFORCED) "
        f"WITH ('connector' = 'duckdb', 'path' = '{path}', 'table-name' = 'latest')"
    )
    work.sql("INSERT INTO out SELECT k, v FROM ev")
    assert fetch("duckdb", path, "SELECT k, v FROM latest ORDER BY k") == [
        ("a", 5),
        ("b", 6),
        ("c", 4),
    ]


def test_constraint_violation_fails_only_its_query(tmp_path: Path) -> None:
    bad_path = tmp_path / "bad.duckdb"
    connection = duckdb.connect(str(bad_path))
    connection.execute(
        "CREATE TABLE stats (k VARCHAR PRIMARY KEY, n BIGINT CHECK (n < 3), total BIGINT)"
    )
    connection.close()
    good_path = tmp_path / "good.sqlite"
    work = session()
    results = work.execute(
        f"""
        {stats_table("bad", "duckdb", bad_path)};
        {stats_table("good", "sqlite", good_path)};
        INSERT INTO bad SELECT k, COUNT(*), SUM(v) FROM ev GROUP BY k;
        INSERT INTO good SELECT k, COUNT(*), SUM(v) FROM ev GROUP BY k;
        """,
        name="stats",
    )
    bad, good = work.queries["query-1"], work.queries["stats"]
    assert len(results) == 4
    assert bad.status == "failed"
    assert "query 'query-1': sink 'bad': write failed: ConstraintException" in str(bad.error)
    assert good.status == "finished"
    # The batch that raised 'a' to 3 rolled back, so the table keeps the rows before it.
    assert fetch("duckdb", bad_path, "SELECT k, n FROM stats ORDER BY k") == [
        ("a", 2),
        ("b", 1),
        ("c", 1),
    ]
    assert fetch("sqlite", good_path, "SELECT k, n FROM stats ORDER BY k") == [
        ("a", 3),
        ("b", 2),
        ("c", 1),
    ]


def test_locked_database_fails_only_its_query(tmp_path: Path) -> None:
    locked = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"connection = duckdb.connect({str(locked)!r})\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        work = session()
        work.execute(
            f"""
            {stats_table("held", "duckdb", locked)};
            {stats_table("free", "duckdb", tmp_path / "free.duckdb")};
            INSERT INTO held SELECT k, COUNT(*), SUM(v) FROM ev GROUP BY k;
            INSERT INTO free SELECT k, COUNT(*), SUM(v) FROM ev GROUP BY k;
            """
        )
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    held, free = work.queries["query-1"], work.queries["query-2"]
    assert held.status == "failed"
    assert "sink 'held': open failed" in str(held.error)
    assert "lock" in str(held.error).lower()
    assert free.status == "finished"
    assert fetch("duckdb", tmp_path / "free.duckdb", "SELECT count(*) FROM stats") == [(3,)]
