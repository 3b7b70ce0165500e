"""The Session API: results of scripts, INSERT INTO into real databases, Python registration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with, stamp
from workbench import QueryResult, Session
from workbench.errors import QueryError, SourceError, ValidationError, WorkbenchError
from workbench.results import FailedStatement, StatementResult
from workbench.sources.csv_reader import CsvReader

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


def test_execute_script_goes_on_after_failed_statement(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    outcomes = session.execute_script(
        "SELECT COUNT(*) AS n FROM bids;\n\nSELECT prise FROM bids;\nSELECT item FROM bids",
        run_queries=True,
    )

    first, failed, last = outcomes
    assert isinstance(failed, FailedStatement)
    assert failed.line == 3
    assert isinstance(failed.error, QueryError)
    assert failed.error.offending_text == "prise"
    assert isinstance(first, QueryResult)
    assert isinstance(last, QueryResult)
    assert records(first.to_pandas()) == [(3,)]
    assert last.to_pandas()["item"].tolist() == ["a", "b", "a"]


def test_execute_script_keeps_syntax_error_in_place(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    outcomes = session.execute_script("SELEC 1;\nSELECT item FROM bids WHERE price >;\nSET")

    assert [type(outcome).__name__ for outcome in outcomes] == [
        "FailedStatement",
        "FailedStatement",
        "TableResult",
    ]
    assert [outcome.line for outcome in outcomes[:2]] == [1, 2]  # type: ignore[union-attr]


def test_sql_stops_at_failed_statement(tmp_path: Path) -> None:
    session = bids_session(tmp_path)

    with pytest.raises(QueryError, match="column 'prise' not found"):
        session.sql("CREATE VIEW cheap AS SELECT * FROM bids; SELECT prise FROM bids; SET")

    assert session.catalog.lookup("cheap") is not None


def test_insert_overwriting_table_read_in_same_replay(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    session.sql(
        "CREATE TABLE copy (ts TIMESTAMP(3), item STRING, price DOUBLE) "
        "WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv')"
    )

    writer, reader = session.execute(
        "INSERT INTO copy SELECT * FROM (VALUES (TIMESTAMP '2024-01-01 00:00:00', 'x', 1.0));"
        "SELECT item FROM bids",
        run_queries=True,
    )

    assert isinstance(writer, QueryResult)
    assert isinstance(reader, QueryResult)
    assert writer.status == "failed"
    assert "another query of the same replay reads" in str(writer.error)
    assert reader.to_pandas()["item"].tolist() == ["a", "b", "a"]
    assert (tmp_path / "bids.csv").read_text(encoding="utf-8") == BIDS_CSV


def test_reader_failure_stops_only_its_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = bids_session(tmp_path)
    session.from_pandas("frame", pd.DataFrame({"ts": at(1, 2), "v": [1, 2]}), rowtime="ts")

    def broken(self: CsvReader, *arguments: object) -> None:
        raise IndexError("index 1 is out of bounds")

    monkeypatch.setattr(CsvReader, "_parse", broken)
    failed, good = session.execute(
        "SELECT item FROM bids; SELECT SUM(v) AS total FROM frame", run_queries=True
    )

    assert isinstance(failed, QueryResult)
    assert isinstance(good, QueryResult)
    assert failed.status == "failed"
    assert isinstance(failed.error, SourceError)
    assert "reading 'bids' failed: IndexError" in str(failed.error)
    assert records(good.to_pandas()) == [(3,)]


def test_null_event_time_rejected_at_its_line(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    (tmp_path / "bids.csv").write_text(BIDS_CSV + ",c,4.0\n", encoding="utf-8")

    result = query(session, "SELECT item FROM bids")
    result.to_pandas()
    rejected = result.rejected_rows()

    assert rejected["line"].tolist() == [5]
    assert rejected["offset"].isna().all()
    assert rejected["reason"].tolist() == ["NULL event time in column 'ts'"]


def test_null_event_time_rejected_names_file(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.csv").write_text(BIDS_CSV, encoding="utf-8")
    (tmp_path / "logs" / "b.csv").write_text("ts,item,price\n,c,4.0\n", encoding="utf-8")
    session = Session(progress=False, base_dir=tmp_path)
    session.sql(BIDS_TABLE.replace("'bids.csv'", "'logs'"))

    result = query(session, "SELECT item FROM bids")
    result.to_pandas()
    rejected = result.rejected_rows()

    assert rejected["line"].tolist() == [2]
    assert rejected["reason"].tolist() == ["b.csv: NULL event time in column 'ts'"]


def test_null_event_time_rejected_at_frame_offset() -> None:
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2024-01-01 00:00:01", None, "2024-01-01 00:00:03", None]),
            "v": ["1", "x", "3", "4"],
        }
    )
    session = Session(progress=False)
    session.from_pandas("events", frame, rowtime="ts", schema={"v": "INT"})

    result = query(session, "SELECT v FROM events")
    result.to_pandas()
    rejected = result.rejected_rows()

    # Row 1 fails in the reader (its value), row 3 in the scan (its time).
    assert rejected["offset"].tolist() == [1, 3]
    assert rejected["reason"].tolist()[1] == "NULL event time in column 'ts'"


def test_cast_failures_in_metrics() -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1, 2, 3), "v": ["1", "x", "y"]})})

    result = query(session, "SELECT CAST(v AS INT) AS n FROM events")
    frame = result.to_pandas()
    metrics = result.metrics().set_index("operator")

    assert frame["n"].isna().tolist() == [False, True, True]
    assert metrics["cast_failures"].sum() == 2
    assert metrics.loc["source:events", "cast_failures"] == 0


def test_late_rows_empty_keeps_columns() -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1, 2), "k": ["a", "b"]})})

    result = query(
        session,
        "SELECT k, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), "
        "INTERVAL '10' SECOND)) GROUP BY k, window_start, window_end",
    )
    late = result.late_rows()

    assert len(late) == 0
    assert list(late.columns) == ["ts", "k", "late_watermark", "late_operator", "late_reason"]


def test_describe_watermark_none_elsewhere(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    session.sql("CREATE VIEW cheap AS SELECT * FROM bids")

    table = session.describe("bids").to_pandas()["watermark"].tolist()
    view = session.describe("cheap").to_pandas()["watermark"].tolist()

    assert table == ["ts - INTERVAL '1' SECOND", None, None]
    assert view == [None, None, None]


def test_replay_rejects_non_finite_speed(tmp_path: Path) -> None:
    session = bids_session(tmp_path)
    result = query(session, "SELECT item FROM bids")

    for speed in (float("inf"), float("nan"), 0.0):
        with pytest.raises(ValidationError, match="invalid replay speed"):
            session.replay([result], mode="realtime", speed=speed)


def test_operator_failure_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1, 2), "v": [1, 2]})})

    def fail(values: pd.Series) -> pd.Series:
        raise ValueError("no values today")

    session.register_function("fail", fail, "BIGINT")
    result = query(session, "SELECT fail(v) AS w FROM events")

    with pytest.raises(WorkbenchError, match="no values today"):
        result.to_pandas()
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1
    assert getattr(errors[0], "stored_on_result", False)


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
        ({"rowtime": "ts", "watermark_delay": "soon"}, "invalid watermark_delay 'soon'"),
        ({"rowtime": "ts", "watermark_delay": "-5 s"}, "cannot be negative"),
        ({"rowtime": "ts", "watermark_delay": -1}, "cannot be negative"),
        ({"rowtime": "ts", "watermark_delay": float("nan")}, "invalid watermark_delay nan"),
    ],
)
def test_from_pandas_rejects(arguments: dict[str, object], message: str) -> None:
    frame = pd.DataFrame({"ts": at(1), "v": [1]})

    with pytest.raises(ValidationError, match=message):
        Session(progress=False).from_pandas("bad", frame, **arguments)  # type: ignore[arg-type]


def test_from_pandas_needs_a_dataframe() -> None:
    with pytest.raises(ValidationError, match="needs a pandas DataFrame, got list"):
        Session(progress=False).from_pandas("bad", [1, 2])  # type: ignore[arg-type]


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
