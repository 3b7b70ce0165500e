"""The catalog and its statements: views, DROP, SHOW and DESCRIBE."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with
from workbench import Session
from workbench.errors import UnknownColumnError, UnknownTableError, ValidationError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.results import StatementResult, TableResult
from workbench.sql.catalog import Catalog, TableDef, ViewDef

EVENTS = pd.DataFrame({"ts": at(1, 2, 3), "k": ["a", "a", "b"], "v": [1, 2, 3]})
CSV_TABLE = """CREATE TABLE clicks (
  ts TIMESTAMP(3),
  url STRING,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'clicks.csv', 'format' = 'csv')"""


def table(name: str) -> TableDef:
    schema = Schema.of([("a", t.INT)])
    return TableDef(name=name, physical=schema, schema=schema)


# The catalog on its own ---------------------------------------------------------------------


def test_lookup_exact_then_ignoring_case() -> None:
    catalog = Catalog()
    catalog.add(table("Bids"))

    assert catalog.lookup("Bids") is not None
    assert catalog.lookup("bids") is not None
    assert catalog.lookup("asks") is None


def test_add_existing_raises_unless_replace() -> None:
    catalog = Catalog()
    catalog.add(table("bids"))

    with pytest.raises(KeyError):
        catalog.add(table("BIDS"))
    catalog.add(table("BIDS"), replace=True)

    assert catalog.names() == ["BIDS"]


def test_drop_returns_entry() -> None:
    catalog = Catalog()
    catalog.add(table("bids"))

    dropped = catalog.drop("BIDS")

    assert dropped is not None
    assert dropped.name == "bids"
    assert catalog.drop("bids") is None


def test_tables_and_views_apart() -> None:
    catalog = Catalog()
    catalog.add(table("bids"))
    catalog.add(ViewDef("cheap", query=None, script="", text="", schema=Schema(())))  # type: ignore[arg-type]

    assert [entry.name for entry in catalog.tables()] == ["bids"]
    assert [entry.name for entry in catalog.views()] == ["cheap"]


def test_suggestion_close_name() -> None:
    catalog = Catalog()
    catalog.add(table("bids"))

    assert catalog.suggestion("bidz") == "did you mean 'bids'?"


def test_suggestion_lists_known_names() -> None:
    catalog = Catalog()
    catalog.add(table("bids"))
    catalog.add(table("asks"))

    assert catalog.suggestion("zzz") == "known tables and views: asks, bids"


def test_suggestion_empty_catalog() -> None:
    hint = Catalog().suggestion("bids")

    assert hint is not None
    assert "CREATE TABLE" in hint


# Views -------------------------------------------------------------------------------------


def test_view_with_column_list() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big (key, value) AS SELECT k, v FROM events WHERE v > 1")

    frame = query(session, "SELECT key, value FROM big").to_pandas()

    assert records(frame) == [("a", 2), ("b", 3)]


def test_view_column_list_hides_old_names() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big (key, value) AS SELECT k, v FROM events")

    with pytest.raises(UnknownColumnError):
        session.sql("SELECT k FROM big")


def test_view_column_list_wrong_length() -> None:
    session = session_with({"events": EVENTS})

    with pytest.raises(ValidationError, match="1 column names given for 2 columns"):
        session.sql("CREATE VIEW big (key) AS SELECT k, v FROM events")


def test_create_existing_view_raises() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    with pytest.raises(ValidationError, match="already exists") as info:
        session.sql("CREATE VIEW big AS SELECT k FROM events")

    assert info.value.hint is not None
    assert "CREATE OR REPLACE VIEW big" in info.value.hint


def test_create_view_if_not_exists_keeps_old() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    result = session.sql("CREATE VIEW IF NOT EXISTS big AS SELECT k FROM events")

    assert isinstance(result, StatementResult)
    assert list(query(session, "SELECT * FROM big").to_pandas().columns) == ["v"]


def test_create_or_replace_view() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    session.sql("CREATE OR REPLACE VIEW big AS SELECT k, v * 10 AS ten FROM events")
    frame = query(session, "SELECT * FROM big").to_pandas()

    assert records(frame) == [("a", 10), ("a", 20), ("b", 30)]


def test_view_reads_current_table() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW all_rows AS SELECT v FROM events")
    session.from_pandas("events", EVENTS.iloc[:1], rowtime="ts")

    frame = query(session, "SELECT * FROM all_rows").to_pandas()

    assert records(frame) == [(1,)]


def test_view_over_view() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW first_step AS SELECT k, v FROM events WHERE v > 1")
    session.sql("CREATE VIEW second_step AS SELECT k, SUM(v) AS total FROM first_step GROUP BY k")

    frame = query(session, "SELECT * FROM second_step").to_pandas()

    assert sorted(records(frame)) == [("a", 2), ("b", 3)]


def test_replace_view_reading_itself() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW steps AS SELECT v FROM events")
    try:
        session.sql("CREATE OR REPLACE VIEW steps AS SELECT v + 1 AS v FROM steps")
    except ValidationError:
        return

    frame = query(session, "SELECT * FROM steps").to_pandas()

    assert records(frame) == [(2,), (3,), (4,)]


def test_from_pandas_over_view_rejected() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    with pytest.raises(ValidationError, match="is a view"):
        session.from_pandas("big", EVENTS)


# DROP ----------------------------------------------------------------------------------------


def test_drop_table() -> None:
    session = session_with({"events": EVENTS})

    session.sql("DROP TABLE events")

    assert session.catalog.lookup("events") is None


def test_drop_view() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    session.sql("DROP VIEW big")

    assert session.catalog.lookup("big") is None
    assert session.catalog.lookup("events") is not None


def test_drop_if_exists_missing() -> None:
    result = Session(progress=False).sql("DROP TABLE IF EXISTS nothing")

    assert isinstance(result, StatementResult)


def test_drop_missing_raises() -> None:
    with pytest.raises(UnknownTableError):
        session_with({"events": EVENTS}).sql("DROP TABLE eventz")


def test_drop_table_on_view_raises() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    with pytest.raises(ValidationError, match="DROP VIEW"):
        session.sql("DROP TABLE big")


def test_drop_view_on_table_raises() -> None:
    with pytest.raises(ValidationError, match="DROP TABLE"):
        session_with({"events": EVENTS}).sql("DROP VIEW events")


# SHOW and DESCRIBE --------------------------------------------------------------------------


def shown(session: Session, statement: str) -> pd.DataFrame:
    result = session.sql(statement)
    assert isinstance(result, TableResult)
    return result.to_pandas()


def test_show_tables_and_views() -> None:
    session = session_with({"events": EVENTS})
    session.sql(CSV_TABLE)
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    assert shown(session, "SHOW TABLES")["table name"].tolist() == ["events", "clicks"]
    assert shown(session, "SHOW VIEWS")["view name"].tolist() == ["big"]


def test_show_functions_lists_builtins_and_user() -> None:
    session = Session(progress=False)
    session.register_function("shout", lambda s: s.str.upper(), "STRING")

    names = shown(session, "SHOW FUNCTIONS")["function name"].tolist()

    assert "SHOUT" in names
    assert "TUMBLE_START" not in names
    assert {"COUNT", "LISTAGG", "APPROX_PERCENTILE", "UPPER", "TO_TIMESTAMP"} <= set(names)
    assert names == sorted(names)


def test_show_create_table_returns_ddl() -> None:
    session = Session(progress=False)
    session.sql(CSV_TABLE)

    result = session.sql("SHOW CREATE TABLE clicks")

    assert isinstance(result, TableResult)
    assert str(result) == CSV_TABLE


def test_show_create_view_returns_text() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v FROM events")

    assert str(session.sql("SHOW CREATE VIEW big")) == "CREATE VIEW big AS SELECT v FROM events"


def test_show_create_unknown() -> None:
    with pytest.raises(UnknownTableError):
        Session(progress=False).sql("SHOW CREATE TABLE nothing")


def test_describe_columns_and_watermark() -> None:
    session = Session(progress=False)
    session.sql(CSV_TABLE)

    frame = shown(session, "DESCRIBE clicks").set_index("name")

    assert frame.loc["ts", "type"] == "TIMESTAMP(3)"
    assert frame.loc["ts", "time_attribute"] == "ROWTIME"
    assert frame.loc["ts", "watermark"] == "ts - INTERVAL '5' SECOND"
    assert frame.loc["url", "type"] == "STRING"
    assert pd.isna(frame.loc["url", "watermark"])


def test_describe_view_has_no_watermark() -> None:
    session = session_with({"events": EVENTS})
    session.sql("CREATE VIEW big AS SELECT v, ts FROM events")

    frame = shown(session, "DESCRIBE big").set_index("name")

    assert frame.loc["ts", "time_attribute"] == "ROWTIME"
    assert frame["watermark"].isna().all()


def test_describe_from_pandas_delay() -> None:
    session = session_with({"events": EVENTS}, delay="2 s")

    frame = shown(session, "DESC events").set_index("name")

    assert frame.loc["ts", "watermark"] == "ts - INTERVAL '2' SECOND"
    assert frame.loc["v", "type"] == "BIGINT"


def test_describe_unknown_table() -> None:
    with pytest.raises(UnknownTableError) as info:
        session_with({"events": EVENTS}).sql("DESCRIBE evnts")

    assert info.value.hint == "did you mean 'events'?"
