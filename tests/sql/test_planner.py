"""Planning SQL into plans: DDL, nested data, views, CTEs, VALUES, legacy windows, INSERT, EXPLAIN."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with, stamp
from workbench import Session
from workbench.errors import (
    TypeMismatchError,
    UnknownColumnError,
    UnknownTableError,
    UnsupportedError,
    ValidationError,
)
from workbench.events import types as t
from workbench.results import QueryResult, TableResult

EVENTS = pd.DataFrame({"ts": at(1, 2, 12, 14, 40), "k": list("aabab"), "v": [1, 2, 3, 4, 5]})


def file_session(tmp_path: Path, name: str, text: str) -> Session:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return Session(progress=False, base_dir=tmp_path)


# DDL: computed columns and event time from text ------------------------------------------------

TEXT_TIME = """CREATE TABLE readings (
  ts_text STRING,
  v INT,
  ts AS TO_TIMESTAMP(ts_text),
  doubled AS v * 2,
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'readings.csv', 'format' = 'csv')"""
READINGS = (
    "ts_text,v\n2024-01-01 00:00:01,1\n2024-01-01 00:00:05,2\nnot a time,3\n2024-01-01 00:00:12,4\n"
)


def test_computed_event_time_from_text(tmp_path: Path) -> None:
    session = file_session(tmp_path, "readings.csv", READINGS)
    session.sql(TEXT_TIME)

    frame = query(
        session,
        "SELECT window_start, COUNT(*) AS n, SUM(doubled) AS total FROM TABLE(TUMBLE("
        "TABLE readings, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
    ).to_pandas()

    assert records(frame) == [(stamp(0), 2, 6), (stamp(10), 1, 8)]


def test_unparsable_event_time_rejected(tmp_path: Path) -> None:
    session = file_session(tmp_path, "readings.csv", READINGS)
    session.sql(TEXT_TIME)
    result = query(session, "SELECT v FROM readings")

    rejected = result.rejected_rows()

    assert result.to_pandas()["v"].tolist() == [1, 2, 4]
    assert rejected["reason"].tolist() == ["NULL event time in column 'ts'"]
    assert "not a time" in rejected["raw"].iloc[0]


def test_computed_columns_typed(tmp_path: Path) -> None:
    session = file_session(tmp_path, "readings.csv", READINGS)
    session.sql(TEXT_TIME)

    described = session.describe("readings").to_pandas().set_index("name")

    assert described.loc["ts", "type"] == "TIMESTAMP(3)"
    assert described.loc["ts", "time_attribute"] == "ROWTIME"
    assert described.loc["ts", "watermark"] == "ts - INTERVAL '1' SECOND"
    assert described.loc["doubled", "type"] == "INT"


def test_watermark_plan_text(tmp_path: Path) -> None:
    session = file_session(tmp_path, "readings.csv", READINGS)
    session.sql(TEXT_TIME)

    text = session.explain("SELECT v FROM readings")

    assert (
        "Scan(table=[readings], fields=[ts_text, v, ts, doubled], "
        "watermark=[ts - INTERVAL '1' SECOND])" in text
    )


def test_watermark_needs_timestamp() -> None:
    with pytest.raises(ValidationError, match="TIMESTAMP or TIMESTAMP_LTZ") as info:
        Session(progress=False).sql(
            "CREATE TABLE t (a STRING, WATERMARK FOR a AS a) "
            "WITH ('connector' = 'filesystem', 'path' = 't.csv', 'format' = 'csv')"
        )

    assert info.value.hint is not None
    assert "TO_TIMESTAMP(a)" in info.value.hint


def test_watermark_must_subtract_constant() -> None:
    with pytest.raises(UnsupportedError, match="minus a constant interval"):
        Session(progress=False).sql(
            "CREATE TABLE t (ts TIMESTAMP(3), WATERMARK FOR ts AS ts + INTERVAL '1' SECOND) "
            "WITH ('connector' = 'filesystem', 'path' = 't.csv', 'format' = 'csv')"
        )


def test_create_table_if_not_exists() -> None:
    session = Session(progress=False)
    ddl = "CREATE TABLE t (a INT) WITH ('connector' = 'blackhole')"
    session.sql(ddl)

    with pytest.raises(ValidationError, match="already exists"):
        session.sql(ddl)
    result = session.sql(ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))

    assert str(result) == "table 't' already exists"


# Nested ROW, ARRAY and MAP columns from JSON lines ---------------------------------------------

NESTED = """CREATE TABLE events (
  ts TIMESTAMP(3),
  payload ROW<`user` ROW<name STRING, age INT>>,
  tags ARRAY<STRING>,
  attrs MAP<STRING, STRING>,
  WATERMARK FOR ts AS ts
) WITH ('connector' = 'filesystem', 'path' = 'events.jsonl', 'format' = 'json')"""


def nested_session(tmp_path: Path) -> Session:
    lines = [
        {
            "ts": "2024-01-01 00:00:01",
            "payload": {"user": {"name": "ann", "age": 30}},
            "tags": ["x", "y"],
            "attrs": {"k": "v1"},
        },
        {
            "ts": "2024-01-01 00:00:02",
            "payload": {"user": {"name": "bob", "age": None}},
            "tags": [],
            "attrs": {"j": "w"},
        },
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    session = file_session(tmp_path, "events.jsonl", text)
    session.sql(NESTED)
    return session


def test_nested_field_access(tmp_path: Path) -> None:
    session = nested_session(tmp_path)

    frame = query(
        session,
        "SELECT payload.`user`.name AS name, payload.`user`.age + 1 AS next_age, "
        "tags[1] AS first_tag, attrs['k'] AS k FROM events",
    ).to_pandas()

    assert records(frame) == [("ann", 31, "x", "v1"), ("bob", None, None, None)]


def test_nested_access_with_table_qualifier(tmp_path: Path) -> None:
    session = nested_session(tmp_path)

    frame = query(session, "SELECT e.payload.`user`.name FROM events AS e").to_pandas()

    assert list(frame.columns) == ["name"]
    assert frame["name"].tolist() == ["ann", "bob"]


def test_nested_types_described(tmp_path: Path) -> None:
    described = nested_session(tmp_path).describe("events").to_pandas().set_index("name")

    assert described.loc["payload", "type"] == "ROW<`user` ROW<`name` STRING, `age` INT>>"
    assert described.loc["tags", "type"] == "ARRAY<STRING>"
    assert described.loc["attrs", "type"] == "MAP<STRING, STRING>"


def test_unknown_nested_field_lists_fields(tmp_path: Path) -> None:
    session = nested_session(tmp_path)

    with pytest.raises(UnknownColumnError, match="field 'nam' not found") as info:
        session.sql("SELECT payload.`user`.nam FROM events")

    assert info.value.hint == "fields: name, age"


def test_group_by_map_value(tmp_path: Path) -> None:
    session = nested_session(tmp_path)

    frame = query(
        session, "SELECT attrs['k'] AS k, COUNT(*) AS n FROM events GROUP BY attrs['k']"
    ).to_pandas()

    assert sorted(records(frame), key=repr) == sorted([("v1", 1), (None, 1)], key=repr)


def test_group_by_nested_field(tmp_path: Path) -> None:
    session = nested_session(tmp_path)

    frame = query(
        session,
        "SELECT payload.`user`.name, COUNT(*) AS n FROM events GROUP BY payload.`user`.name",
    ).to_pandas()

    assert sorted(records(frame)) == [("ann", 1), ("bob", 1)]


# Views, CTEs, subqueries, VALUES ---------------------------------------------------------------


def test_with_clause() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "WITH big AS (SELECT k, v FROM events WHERE v >= 3), "
        "doubled AS (SELECT k, v * 2 AS w FROM big) SELECT * FROM doubled",
    ).to_pandas()

    assert records(frame) == [("b", 6), ("a", 8), ("b", 10)]


def test_with_clause_not_kept_in_catalog() -> None:
    session = session_with({"events": EVENTS})
    session.sql("WITH big AS (SELECT v FROM events) SELECT * FROM big")

    with pytest.raises(UnknownTableError):
        session.sql("SELECT * FROM big")


def test_with_column_names() -> None:
    session = session_with({"events": EVENTS})

    frame = query(session, "WITH big (key) AS (SELECT k FROM events) SELECT key FROM big")

    assert frame.to_pandas()["key"].tolist() == ["a", "a", "b", "a", "b"]


def test_subquery_in_from() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT s.k, s.total FROM (SELECT k, SUM(v) AS total FROM events GROUP BY k) AS s "
        "WHERE s.total > 7",
    ).to_pandas()

    assert records(frame) == [("b", 8)]


def test_subquery_column_aliases() -> None:
    session = session_with({"events": EVENTS})

    frame = query(session, "SELECT x FROM (SELECT k, v FROM events) AS s(y, x) WHERE y = 'b'")

    assert frame.to_pandas()["x"].tolist() == [3, 5]


def test_values_with_names() -> None:
    frame = query(
        Session(progress=False),
        "SELECT n * 2 AS twice, name FROM (VALUES (1, 'x'), (2, 'y'), (NULL, 'z')) AS v(n, name)",
    ).to_pandas()

    assert records(frame) == [(2, "x"), (4, "y"), (None, "z")]


def test_values_default_names() -> None:
    result = query(Session(progress=False), "VALUES (1, 'a'), (2, 'b')")

    assert list(result.to_pandas().columns) == ["col1", "col2"]


def test_values_common_type() -> None:
    result = query(Session(progress=False), "SELECT * FROM (VALUES (1), (2.5)) AS v(x)")

    assert result.schema.find("x").type.plain() == t.DOUBLE  # type: ignore[union-attr]
    assert result.to_pandas()["x"].tolist() == [1.0, 2.5]


def test_select_without_from() -> None:
    frame = query(Session(progress=False), "SELECT 1 + 1 AS two, 'x' AS s").to_pandas()

    assert records(frame) == [(2, "x")]


def test_values_aggregate() -> None:
    frame = query(
        Session(progress=False),
        "SELECT k, SUM(n) AS total FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) AS v(k, n) "
        "GROUP BY k",
    ).to_pandas()

    assert sorted(records(frame)) == [("a", 4), ("b", 2)]


# Window functions: legacy GROUP BY form and named arguments ------------------------------------


def test_legacy_tumble() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, "
        "TUMBLE_END(ts, INTERVAL '10' SECOND) AS we, "
        "TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS rt, SUM(v) AS total "
        "FROM events GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)",
    ).to_pandas()

    assert records(frame) == [
        (stamp(0), stamp(10), stamp(9.999), 3),
        (stamp(10), stamp(20), stamp(19.999), 7),
        (stamp(40), stamp(50), stamp(49.999), 5),
    ]


def test_legacy_tumble_with_key() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT k, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, COUNT(*) AS n "
        "FROM events GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND)",
    ).to_pandas()

    assert sorted(records(frame)) == [
        ("a", stamp(0), 2),
        ("a", stamp(10), 1),
        ("b", stamp(10), 1),
        ("b", stamp(40), 1),
    ]


def test_legacy_hop() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT HOP_START(ts, INTERVAL '10' SECOND, INTERVAL '20' SECOND) AS ws, COUNT(*) AS n "
        "FROM events GROUP BY HOP(ts, INTERVAL '10' SECOND, INTERVAL '20' SECOND)",
    ).to_pandas()

    assert records(frame) == [
        (stamp(-10), 2),
        (stamp(0), 4),
        (stamp(10), 2),
        (stamp(30), 1),
        (stamp(40), 1),
    ]


def test_legacy_auxiliary_needs_matching_window() -> None:
    session = session_with({"events": EVENTS})

    with pytest.raises(ValidationError, match=r"HOP_START needs GROUP BY HOP\(...\)"):
        session.sql(
            "SELECT HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) AS s "
            "FROM events GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)"
        )


def test_legacy_session() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT k, SESSION_START(ts, INTERVAL '5' SECOND) AS ss, COUNT(*) AS n "
        "FROM events GROUP BY k, SESSION(ts, INTERVAL '5' SECOND)",
    ).to_pandas()

    assert sorted(records(frame)) == [
        ("a", stamp(1), 2),
        ("a", stamp(14), 1),
        ("b", stamp(12), 1),
        ("b", stamp(40), 1),
    ]


def test_named_window_parameters() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(DATA => TABLE events, "
        "TIMECOL => DESCRIPTOR(ts), SIZE => INTERVAL '10' SECOND)) "
        "GROUP BY window_start, window_end",
    ).to_pandas()

    assert records(frame) == [(stamp(0), 2), (stamp(10), 2), (stamp(40), 1)]


def test_named_parameter_unknown_name() -> None:
    session = session_with({"events": EVENTS})

    with pytest.raises(ValidationError, match="TUMBLE has no parameter SLIDE") as info:
        session.sql(
            "SELECT * FROM TABLE(TUMBLE(DATA => TABLE events, TIMECOL => DESCRIPTOR(ts), "
            "SLIDE => INTERVAL '10' SECOND))"
        )

    assert info.value.hint == "TUMBLE takes SIZE, OFFSET"


def test_only_session_takes_partition() -> None:
    session = session_with({"events": EVENTS})

    with pytest.raises(ValidationError, match="only SESSION takes PARTITION BY"):
        session.sql(
            "SELECT * FROM TABLE(TUMBLE(TABLE events PARTITION BY k, DESCRIPTOR(ts), "
            "INTERVAL '10' SECOND))"
        )


# PROCTIME ---------------------------------------------------------------------------------------


def test_proctime_column(tmp_path: Path) -> None:
    session = file_session(tmp_path, "clicks.csv", "url\n/a\n/b\n")
    session.sql(
        "CREATE TABLE clicks (url STRING, pt AS PROCTIME()) "
        "WITH ('connector' = 'filesystem', 'path' = 'clicks.csv', 'format' = 'csv')"
    )
    before = pd.Timestamp.now(tz="UTC")

    frame = query(session, "SELECT url, pt FROM clicks").to_pandas()
    described = session.describe("clicks").to_pandas().set_index("name")

    assert described.loc["pt", "type"] == "TIMESTAMP_LTZ(3)"
    assert described.loc["pt", "time_attribute"] == "PROCTIME"
    assert frame["url"].tolist() == ["/a", "/b"]
    assert (frame["pt"] >= before - pd.Timedelta(seconds=1)).all()
    assert (frame["pt"] <= pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=1)).all()


def test_proctime_window_never_late(tmp_path: Path) -> None:
    session = file_session(tmp_path, "clicks.csv", "url\n/a\n/b\n/c\n")
    session.sql(
        "CREATE TABLE clicks (url STRING, pt AS PROCTIME()) "
        "WITH ('connector' = 'filesystem', 'path' = 'clicks.csv', 'format' = 'csv')"
    )
    result = query(
        session,
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(pt), "
        "INTERVAL '1' DAY)) GROUP BY window_start, window_end",
    )

    frame = result.to_pandas()

    assert int(frame["n"].sum()) == 3
    assert len(result.late_rows()) == 0


# Output names ---------------------------------------------------------------------------------


def test_unaliased_expression_named_by_text() -> None:
    frame = query(
        session_with({"events": EVENTS}), "SELECT v + 1, SUM(v) FROM events GROUP BY v + 1"
    )

    assert list(frame.to_pandas().columns) == ["v + 1", "SUM(v)"]


def test_unaliased_over_named_by_text() -> None:
    frame = query(session_with({"events": EVENTS}), "SELECT SUM(v) OVER (ORDER BY ts) FROM events")

    assert list(frame.to_pandas().columns) == ["SUM(v) OVER (ORDER BY ts)"]


def test_unaliased_listagg_named_by_text() -> None:
    frame = query(
        session_with({"events": EVENTS}),
        "SELECT LISTAGG(k), LISTAGG(k, ';'), COUNT(*) FROM events",
    )

    assert list(frame.to_pandas().columns) == ["LISTAGG(k)", "LISTAGG(k, ';')", "COUNT(*)"]


def test_unaliased_listagg_over_named_by_text() -> None:
    frame = query(
        session_with({"events": EVENTS}), "SELECT LISTAGG(k) OVER (ORDER BY ts) FROM events"
    )

    assert list(frame.to_pandas().columns) == ["LISTAGG(k) OVER (ORDER BY ts)"]


# INSERT INTO ------------------------------------------------------------------------------------

CSV_EVENTS = "ts,v\n2024-01-01 00:00:01,1\n2024-01-01 00:00:02,2\n"
CSV_TABLE = (
    "CREATE TABLE {name} (ts TIMESTAMP(3), v BIGINT, WATERMARK FOR ts AS ts) "
    "WITH ('connector' = 'filesystem', 'path' = 'events.csv', 'format' = 'csv')"
)


def test_insert_reading_its_sink_rejected(tmp_path: Path) -> None:
    session = file_session(tmp_path, "events.csv", CSV_EVENTS)
    session.sql(CSV_TABLE.format(name="ev"))

    with pytest.raises(ValidationError, match="INSERT INTO 'ev' also reads 'ev'") as info:
        session.sql("INSERT INTO ev\nSELECT * FROM ev WHERE v > 1")

    assert info.value.line == 2
    assert info.value.offending_text == "ev"
    assert info.value.hint is not None
    assert (tmp_path / "events.csv").read_text(encoding="utf-8") == CSV_EVENTS


def test_insert_reading_its_sink_through_view_rejected(tmp_path: Path) -> None:
    session = file_session(tmp_path, "events.csv", CSV_EVENTS)
    session.sql(CSV_TABLE.format(name="ev"))
    session.sql("CREATE VIEW big AS SELECT * FROM ev WHERE v > 1")

    with pytest.raises(ValidationError, match="through view 'big'") as info:
        session.sql("INSERT INTO ev SELECT * FROM big")

    assert info.value.offending_text == "big"
    assert (tmp_path / "events.csv").read_text(encoding="utf-8") == CSV_EVENTS


def test_insert_into_table_sharing_path_rejected(tmp_path: Path) -> None:
    session = file_session(tmp_path, "events.csv", CSV_EVENTS)
    session.sql(CSV_TABLE.format(name="ev") + ";" + CSV_TABLE.format(name="copy"))

    with pytest.raises(ValidationError, match=r"writes to 'events\.csv'"):
        session.sql("INSERT INTO copy SELECT * FROM ev")

    assert (tmp_path / "events.csv").read_text(encoding="utf-8") == CSV_EVENTS


def test_insert_column_list_and_casts(tmp_path: Path) -> None:
    session = session_with({"events": EVENTS})
    session.base_dir = tmp_path
    session.sql(
        "CREATE TABLE out_rows (total DOUBLE, key STRING, n BIGINT) "
        "WITH ('connector' = 'filesystem', 'path' = 'out.csv', 'format' = 'csv')"
    )

    result = session.sql(
        "INSERT INTO out_rows (key, n, total) SELECT k, CAST(v AS INT), CAST(v AS INT) FROM events"
    )
    written = pd.read_csv(tmp_path / "out.csv")

    assert isinstance(result, QueryResult)
    assert result.error is None
    assert list(written.columns) == ["total", "key", "n"]
    assert records(written) == [
        (1.0, "a", 1),
        (2.0, "a", 2),
        (3.0, "b", 3),
        (4.0, "a", 4),
        (5.0, "b", 5),
    ]
    assert "CAST" in result.explain()


def test_insert_plan_shape() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE TABLE sink (v BIGINT) WITH ('connector' = 'blackhole')")

    lines = session.explain("INSERT INTO sink SELECT v FROM events WHERE v > 1").splitlines()

    assert lines[0] == "Sink(table=[sink])"
    assert all(line.lstrip().startswith("+- ") for line in lines[1:])
    assert lines[-1].strip() == "+- Scan(table=[events], fields=[ts, k, v], watermark=[ts])"


def test_insert_wrong_column_count() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE TABLE sink (a BIGINT, b STRING) WITH ('connector' = 'blackhole')")

    with pytest.raises(TypeMismatchError, match="produces 1 columns but 'sink' takes 2") as info:
        session.sql("INSERT INTO sink SELECT v FROM events")

    assert info.value.hint == "sink columns: a BIGINT, b STRING"


def test_insert_unknown_column_in_list() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE TABLE sink (a BIGINT) WITH ('connector' = 'blackhole')")

    with pytest.raises(ValidationError, match="column 'b' is not a column of 'sink'"):
        session.sql("INSERT INTO sink (b) SELECT v FROM events")


def test_insert_into_view_rejected() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    with pytest.raises(UnknownTableError, match="is a view"):
        session.sql("INSERT INTO big SELECT v FROM events")


def test_insert_updating_query_rejected(tmp_path: Path) -> None:
    session = session_with({"events": EVENTS})
    session.base_dir = tmp_path
    session.sql(
        "CREATE TABLE sink (k STRING, n BIGINT) "
        "WITH ('connector' = 'filesystem', 'path' = 'out.csv', 'format' = 'csv')"
    )

    with pytest.raises(ValidationError, match="only takes appended rows") as info:
        session.sql("INSERT INTO sink SELECT k, COUNT(*) FROM events GROUP BY k")

    assert info.value.hint is not None


def test_insert_order_by_rejected() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE TABLE sink (v BIGINT) WITH ('connector' = 'blackhole')")

    with pytest.raises(UnsupportedError, match="ORDER BY and LIMIT"):
        session.sql("INSERT INTO sink SELECT v FROM events ORDER BY v")


def test_insert_timestamp_into_int_rejected() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE TABLE sink (n INT) WITH ('connector' = 'blackhole')")

    with pytest.raises(TypeMismatchError):
        session.sql("INSERT INTO sink SELECT ts FROM events")


def test_insert_string_into_bigint_rejected() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE TABLE sink (n BIGINT) WITH ('connector' = 'blackhole')")

    with pytest.raises(TypeMismatchError):
        session.sql("INSERT INTO sink SELECT k FROM events")


def test_insert_partial_column_list(tmp_path: Path) -> None:
    session = session_with({"events": EVENTS})
    session.base_dir = tmp_path
    session.sql(
        "CREATE TABLE sink (a BIGINT, b STRING, c DOUBLE) "
        "WITH ('connector' = 'filesystem', 'path' = 'out.csv', 'format' = 'csv')"
    )

    session.sql("INSERT INTO sink (c, a) SELECT v, v FROM events WHERE v = 1")
    written = pd.read_csv(tmp_path / "out.csv")

    assert records(written) == [(1, None, 1.0)]


# EXPLAIN -----------------------------------------------------------------------------------------


def test_explain_statement_result() -> None:
    session = session_with({"events": EVENTS})

    result = session.sql("EXPLAIN SELECT k FROM events WHERE v > 1")

    assert isinstance(result, TableResult)
    assert list(result.to_pandas().columns) == ["plan"]
    assert str(result) == result.to_pandas()["plan"].iloc[0]


def test_explain_indents_children() -> None:
    text = session_with({"events": EVENTS}).explain(
        "EXPLAIN SELECT k, COUNT(*) AS n FROM events WHERE v > 1 GROUP BY k"
    )

    lines = text.splitlines()
    steps = [line.strip().removeprefix("+- ").split("(")[0] for line in lines]
    depths = [(len(line) - len(line.lstrip(" +-"))) // 3 for line in lines]

    assert steps == ["Calc", "GroupAggregate", "Calc", "Calc", "Scan"]
    assert depths == [0, 1, 2, 3, 4]
    assert lines[0] == "Calc(select=[k, $agg0 AS n])"
    assert lines[1] == (
        "+- GroupAggregate(groupBy=[k], select=[COUNT(*) AS $agg0], changelog=[+I, -U, +U])"
    )
    assert lines[3].endswith("+- Calc(select=[ts, k, v], where=[(v > 1)])")
    assert lines[4] == "         +- Scan(table=[events], fields=[ts, k, v], watermark=[ts])"


def test_explain_presentation_on_top() -> None:
    text = session_with({"events": EVENTS}).explain(
        "SELECT k, v FROM events ORDER BY v DESC LIMIT 2"
    )

    assert text.splitlines()[0] == "Presentation(orderBy=[v DESC], limit=[2])"
    assert text.splitlines()[1].startswith("+- ")


def test_explain_window_aggregate_fuses_tvf() -> None:
    text = session_with({"events": EVENTS}).explain(
        "SELECT window_start, COUNT(*) AS n FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), "
        "INTERVAL '5' SECOND, INTERVAL '10' SECOND)) GROUP BY window_start, window_end"
    )

    assert "WindowAggregate(window=[HOP(time_col=[ts], slide=[5 s], size=[10 s])]" in text
    assert "WindowTableFunction" not in text


def test_explain_of_ddl_rejected() -> None:
    with pytest.raises(ValidationError, match="EXPLAIN works on SELECT and INSERT INTO"):
        Session(progress=False).sql("EXPLAIN CREATE VIEW v AS SELECT 1 AS one")


def test_order_by_position_and_alias() -> None:
    session = session_with({"events": EVENTS})

    by_position = query(session, "SELECT k, v AS value FROM events ORDER BY 2 DESC LIMIT 2")
    by_alias = query(session, "SELECT k, v AS value FROM events ORDER BY value DESC LIMIT 2")

    assert records(by_position.to_pandas()) == [("b", 5), ("a", 4)]
    assert records(by_alias.to_pandas()) == records(by_position.to_pandas())


def test_explain_names_nested_fields(tmp_path: Path) -> None:
    session = nested_session(tmp_path)

    text = session.explain("SELECT payload.`user`.name AS n, payload.`user`.age AS a FROM events")
    match = re.fullmatch(r"Calc\(select=\[(.*) AS n, (.*) AS a\]\)", text.splitlines()[0])

    assert match is not None
    assert match.group(1) != match.group(2)
    assert "name" in match.group(1)
