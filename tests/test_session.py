"""The Session API: results of scripts, INSERT INTO into real databases, Python registration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with, stamp
from workbench import QueryResult, Session
from workbench.errors import SourceError, ValidationError, WorkbenchError
from workbench.results import StatementResult

BIDS_CSV = (
    "ts,item,price\n"
    "2024-01-01 00:00:01,a,1.5\n"
    "2024-01-01 00:00:03,b,2.0\n"
    "2024-01-01 00:00:12,a,3.0\n"
)
BIDS_TABLE = """CREATE TABLE bids (
  ts TIMESTAMP(3),
  item STRING,
  price DOUBLE,
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv')"""


def bids_session(tmp_path: Path) -> Session:
    (tmp_path / "bids.csv").write_text(BIDS_CSV, encoding="utf-8")
    session = Session(progress=False, base_dir=tmp_path)
    session.sql(BIDS_TABLE)
    return session


# Scripts and their results ---------------------------------------------------------------------


def test_sql_returns_last_result(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    result = session.sql("SELECT item FROM bids; SELECT price FROM bids WHERE price > 2")

    assert isinstance(result, QueryResult)
    assert result.to_pandas()["price"].tolist() == [3.0]


def test_sql_last_statement_ddl(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    result = session.sql("SELECT item FROM bids; CREATE VIEW cheap AS SELECT * FROM bids")

    assert isinstance(result, StatementResult)
    assert str(result) == "created view 'cheap'"


def test_sql_empty_script() -> None:
    assert Session(progress=False).sql("-- nothing to run") is None


def test_execute_returns_every_result(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    results = session.execute(
        "CREATE VIEW cheap AS SELECT * FROM bids WHERE price < 2;\n"
        "SELECT item FROM cheap;\n"
        "SET 'workbench.replay.batch-rows' = '5'"
    )

    assert [type(result).__name__ for result in results] == [
        "StatementResult",
        "QueryResult",
        "StatementResult",
    ]


def test_select_runs_lazily(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    result = query(session, "SELECT item FROM bids")
    planned = result.status
    result.to_pandas()

    assert planned == "planned"
    assert result.status == "finished"


def test_query_named(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    result = session.sql("SELECT item FROM bids", name="items")

    assert isinstance(result, QueryResult)
    assert result.name == "items"
    assert "items" in session.queries


def test_execute_run_queries(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    results = session.execute(
        "SELECT item FROM bids; SELECT COUNT(*) AS n FROM bids", run_queries=True
    )

    assert [result.status for result in results] == ["finished", "finished"]  # type: ignore[union-attr]


def test_failing_query_does_not_stop_other(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    session.sql(
        "CREATE TABLE missing (ts TIMESTAMP(3), item STRING) "
        "WITH ('connector' = 'filesystem', 'path' = 'nope.csv', 'format' = 'csv')"
    )

    failed, good = session.execute(
        "SELECT item FROM missing; SELECT item, price FROM bids", run_queries=True
    )

    assert isinstance(failed, QueryResult)
    assert isinstance(good, QueryResult)
    assert failed.status == "failed"
    assert isinstance(failed.error, SourceError)
    assert "nope.csv" in str(failed.error)
    assert good.status == "finished"
    assert records(good.to_pandas()) == [("a", 1.5), ("b", 2.0), ("a", 3.0)]


def test_failed_query_raises_on_read(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    session.sql(
        "CREATE TABLE missing (item STRING) "
        "WITH ('connector' = 'filesystem', 'path' = 'nope.csv', 'format' = 'csv')"
    )
    result = query(session, "SELECT item FROM missing")

    with pytest.raises(SourceError, match="file not found"):
        result.to_pandas()
    assert "failed" in repr(result)


def test_show_queries(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    session.sql("SELECT item FROM bids", name="items").to_pandas()  # type: ignore[union-attr]

    frame = session.sql("SHOW QUERIES").to_pandas()  # type: ignore[union-attr]

    assert records(frame, ["name", "status"]) == [("items", "finished")]


# INSERT INTO real databases ---------------------------------------------------------------------

SINKS = """CREATE TABLE per_window (item STRING, n BIGINT, total DOUBLE)
  WITH ('connector' = 'duckdb', 'path' = 'out.duckdb', 'table-name' = 'per_window');
CREATE TABLE cheap_bids (price INT, item STRING)
  WITH ('connector' = 'sqlite', 'path' = 'out.sqlite', 'table-name' = 'cheap');
INSERT INTO per_window
  SELECT item, COUNT(*), SUM(price)
  FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
  GROUP BY item, window_start, window_end;
INSERT INTO cheap_bids (item, price) SELECT item, CAST(price AS INT) FROM bids WHERE price < 2.5;
"""


def test_inserts_write_duckdb_and_sqlite(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    results = session.execute(SINKS)
    with duckdb.connect(str(tmp_path / "out.duckdb")) as connection:
        duck_rows = connection.execute("SELECT * FROM per_window ORDER BY ALL").fetchall()
    with sqlite3.connect(tmp_path / "out.sqlite") as connection:
        sqlite_rows = connection.execute("SELECT price, item FROM cheap").fetchall()

    assert [result.status for result in results[2:]] == ["finished", "finished"]  # type: ignore[union-attr]
    assert duck_rows == [("a", 1, 1.5), ("a", 1, 3.0), ("b", 1, 2.0)]
    assert sqlite_rows == [(1, "a"), (2, "b")]


def test_inserts_share_one_replay(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    results = session.execute(SINKS)
    first, second = results[2], results[3]

    assert isinstance(first, QueryResult)
    assert isinstance(second, QueryResult)
    assert first.readers[0] is second.readers[0]
    assert first.readers[0].counters.rows_read == 3


def test_insert_appends_on_second_run(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    session.execute(SINKS)

    session.execute(SINKS.split(";\n", 2)[2])
    with sqlite3.connect(tmp_path / "out.sqlite") as connection:
        count = connection.execute("SELECT COUNT(*) FROM cheap").fetchone()

    assert count == (4,)


def test_sql_raises_failed_insert(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    session.sql(
        "CREATE TABLE missing (ts TIMESTAMP(3), item STRING) "
        "WITH ('connector' = 'filesystem', 'path' = 'nope.csv', 'format' = 'csv');"
        "CREATE TABLE sink (item STRING) "
        "WITH ('connector' = 'sqlite', 'path' = 'out.sqlite', 'table-name' = 'items')"
    )

    with pytest.raises(SourceError):
        session.sql(
            "INSERT INTO sink SELECT item FROM missing; INSERT INTO sink SELECT item FROM bids"
        )
    with sqlite3.connect(tmp_path / "out.sqlite") as connection:
        rows = connection.execute("SELECT item FROM items").fetchall()

    assert rows == [("a",), ("b",), ("a",)]


# Python registration ----------------------------------------------------------------------------


def test_from_pandas_with_rowtime() -> None:
    frame = pd.DataFrame({"ts": at(1, 12, 3), "v": [1, 2, 3]})
    session = Session(progress=False)
    session.from_pandas("events", frame, rowtime="ts", watermark_delay="5 s")

    result = query(
        session,
        "SELECT window_start, SUM(v) AS total FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), "
        "INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
    )

    assert records(result.to_pandas()) == [(stamp(0), 4), (stamp(10), 2)]
    assert session.describe("events").to_pandas()["type"].tolist() == ["TIMESTAMP(3)", "BIGINT"]


def test_from_pandas_without_rowtime() -> None:
    session = Session(progress=False)
    session.from_pandas("plain", pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]}))

    frame = query(session, "SELECT k, SUM(v) AS total FROM plain GROUP BY k").to_pandas()

    assert sorted(records(frame)) == [("a", 4), ("b", 2)]
    assert session.describe("plain").to_pandas()["time_attribute"].isna().all()


def test_from_pandas_window_needs_rowtime() -> None:
    session = Session(progress=False)
    session.from_pandas("plain", pd.DataFrame({"ts": at(1), "v": [1]}))

    with pytest.raises(ValidationError, match="needs a time attribute"):
        session.sql("SELECT * FROM TABLE(TUMBLE(TABLE plain, DESCRIPTOR(ts), INTERVAL '1' SECOND))")


def test_from_pandas_schema_override() -> None:
    session = Session(progress=False)
    session.from_pandas("typed", pd.DataFrame({"v": [1, 2]}), schema={"v": "DOUBLE"})

    assert session.describe("typed").to_pandas()["type"].tolist() == ["DOUBLE"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"rowtime": "missing"}, "not a column of the DataFrame"),
        ({"rowtime": "v"}, "it needs timestamps"),
        ({"watermark_delay": "1 s"}, "needs a rowtime column"),
    ],
)
def test_from_pandas_rejects(arguments: dict[str, str], message: str) -> None:
    frame = pd.DataFrame({"ts": at(1), "v": [1]})

    with pytest.raises(ValidationError, match=message):
        Session(progress=False).from_pandas("bad", frame, **arguments)  # type: ignore[arg-type]


def test_from_pandas_replaces_table() -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1), "v": [1]})})

    session.from_pandas("events", pd.DataFrame({"ts": at(1, 2), "v": [5, 6]}), rowtime="ts")

    assert query(session, "SELECT v FROM events").to_pandas()["v"].tolist() == [5, 6]


def test_register_vectorized_function() -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1, 2), "v": [3, 4]})})
    session.register_function("double_it", lambda values: values * 2, "BIGINT")

    frame = query(session, "SELECT double_it(v) AS d FROM events").to_pandas()

    assert frame["d"].tolist() == [6, 8]


def test_register_row_function() -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1, 2), "k": ["ann", "bob"]})})
    calls: list[str] = []

    def greet(name: str) -> str:
        calls.append(name)
        return f"hi {name}"

    session.register_function("greet", greet, "STRING", vectorized=False)

    frame = query(session, "SELECT GREET(k) AS g FROM events").to_pandas()

    assert frame["g"].tolist() == ["hi ann", "hi bob"]
    assert calls == ["ann", "bob"]


def test_row_function_null_in_null_out() -> None:
    frame = pd.DataFrame({"k": pd.array(["ann", None], dtype="string")})
    session = session_with({"events": frame})
    session.register_function("greet", lambda name: f"hi {name}", "STRING", vectorized=False)

    result = query(session, "SELECT greet(k) AS g FROM events").to_pandas()

    assert records(result) == [("hi ann",), (None,)]


def test_function_result_type_checked() -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1), "v": [3]})})
    session.register_function("double_it", lambda values: values * 2, "BIGINT")

    with pytest.raises(WorkbenchError):
        session.sql("SELECT double_it(v) || 'x' AS s FROM events")


class Spread:
    """Maximum minus minimum of the values seen."""

    def __init__(self) -> None:
        self.low: int | None = None
        self.high: int | None = None

    def accumulate(self, values: list[int]) -> None:
        for value in values:
            self.low = value if self.low is None else min(self.low, value)
            self.high = value if self.high is None else max(self.high, value)

    def merge(self, other: Spread) -> None:
        for value in (other.low, other.high):
            if value is not None:
                self.accumulate([value])

    def result(self) -> int | None:
        return None if self.low is None else self.high - self.low  # type: ignore[operator]


class WeightedSum:
    """Sum of value times weight."""

    def __init__(self) -> None:
        self.total = 0.0

    def accumulate(self, values: list[float], weights: list[float]) -> None:
        self.total += sum(v * w for v, w in zip(values, weights, strict=True))

    def merge(self, other: WeightedSum) -> None:
        self.total += other.total

    def result(self) -> float:
        return self.total


EVENTS = pd.DataFrame({"ts": at(0, 2, 4, 20), "k": ["a", "a", "b", "a"], "v": [5, 1, 9, 7]})


def test_register_aggregate_grouped() -> None:
    session = session_with({"events": EVENTS})
    session.register_aggregate("spread", Spread, "BIGINT")

    frame = query(session, "SELECT k, SPREAD(v) AS s FROM events GROUP BY k").to_pandas()

    assert sorted(records(frame)) == [("a", 6), ("b", 0)]


def test_register_aggregate_merged_in_sessions() -> None:
    frame = pd.DataFrame({"ts": at(0, 10, 5), "k": ["a", "a", "a"], "v": [5, 1, 9]})
    session = session_with({"events": frame}, delay="10 s")
    session.register_aggregate("spread", Spread, "BIGINT")

    result = query(
        session,
        "SELECT window_start, window_end, spread(v) AS s FROM TABLE(SESSION(TABLE events "
        "PARTITION BY k, DESCRIPTOR(ts), INTERVAL '6' SECOND)) GROUP BY k, window_start, window_end",
    ).to_pandas()

    assert records(result) == [(stamp(0), stamp(16), 8)]


def test_register_aggregate_two_arguments() -> None:
    session = session_with({"events": EVENTS})
    session.register_aggregate("weighted", WeightedSum, "DOUBLE", arity=2)

    frame = query(session, "SELECT k, weighted(v, v) AS w FROM events GROUP BY k").to_pandas()

    assert sorted(records(frame)) == [("a", 75.0), ("b", 81.0)]


def test_register_aggregate_arity_checked() -> None:
    from workbench.errors import TypeMismatchError

    session = session_with({"events": EVENTS})
    session.register_aggregate("weighted", WeightedSum, "DOUBLE", arity=2)

    with pytest.raises(TypeMismatchError, match="takes 2 argument"):
        session.sql("SELECT weighted(v) FROM events")


def test_registered_names_shown() -> None:
    session = Session(progress=False)
    session.register_aggregate("spread", Spread, "BIGINT")

    names = session.sql("SHOW FUNCTIONS").to_pandas()["function name"].tolist()  # type: ignore[union-attr]

    assert "SPREAD" in names


def test_tables_listing() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    assert records(session.tables()) == [("events", "table"), ("big", "view")]
