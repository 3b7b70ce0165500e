"""Retained rows of tables ('retain' option) and ad hoc queries over them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench import Session
from workbench.errors import ValidationError
from workbench.events.schema import Column, Schema
from workbench.results import QueryResult
from workbench.retain import RetainBound, RetainedRows, parse_retain
from workbench.sql.sqltypes import parse_type

ROWS = 100


def write_events(directory: Path) -> Path:
    """Write 100 events one second apart, with a nested ROW column as JSON."""
    start = pd.Timestamp("2024-01-01 00:00:00")
    lines = [
        f'{{"ts": "{(start + pd.Timedelta(seconds=i)).isoformat()}", "n": {i}, '
        f'"host": "h{i % 3}", "req": {{"path": "/p{i}", "code": {200 + i % 2}}}}}'
        for i in range(ROWS)
    ]
    path = directory / "events.json"
    path.write_text("\n".join(lines) + "\n")
    return path


def events_session(directory: Path, retain: str | None) -> Session:
    write_events(directory)
    session = Session(base_dir=directory, progress=False)
    session.sql("SET 'workbench.replay.batch-rows' = '10'")
    option = f", 'retain' = '{retain}'" if retain is not None else ""
    session.sql(
        "CREATE TABLE events (ts TIMESTAMP(3), n INT, host STRING, "
        "req ROW<path STRING, code INT>, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) "
        f"WITH ('connector' = 'filesystem', 'path' = 'events.json', 'format' = 'json'{option})"
    )
    return session


def count_query(session: Session) -> QueryResult:
    result = session.sql("SELECT COUNT(*) AS c FROM events")
    assert isinstance(result, QueryResult)
    return result


def test_parse_retain_rows_and_span() -> None:
    assert parse_retain("1000 rows") == RetainBound(rows=1000)
    assert parse_retain("1 row") == RetainBound(rows=1)
    assert parse_retain("10 minutes") == RetainBound(span_ns=600 * 10**9)


@pytest.mark.parametrize("text", ["0 rows", "-5 s", "0 s", "many", "10 parsecs"])
def test_parse_retain_invalid(text: str) -> None:
    with pytest.raises(Exception, match="option 'retain'"):
        parse_retain(text)


def test_rows_bound_keeps_last_rows(tmp_path: Path) -> None:
    session = events_session(tmp_path, "25 rows")
    session.run([count_query(session)])

    frame = session.adhoc("SELECT n FROM events ORDER BY n")

    assert list(frame["n"]) == list(range(ROWS - 25, ROWS))


def test_time_bound_keeps_recent_rows(tmp_path: Path) -> None:
    session = events_session(tmp_path, "10 s")
    session.run([count_query(session)])

    frame = session.adhoc("SELECT MIN(n) AS first, MAX(n) AS last, COUNT(*) AS c FROM events")

    # The latest event time is second 99, so seconds 90 to 99 are within 10 s.
    assert frame["last"][0] == ROWS - 1
    assert frame["first"][0] == ROWS - 10
    assert frame["c"][0] == 10


def test_query_mid_replay(tmp_path: Path) -> None:
    session = events_session(tmp_path, "1000 rows")
    replay = session.replay([count_query(session)])

    replay.step(30)
    first = session.adhoc("SELECT COUNT(*) AS c, MAX(n) AS last FROM events")
    replay.step(30)
    second = session.adhoc("SELECT COUNT(*) AS c, MAX(n) AS last FROM events")
    replay.run()
    last = session.adhoc("SELECT COUNT(*) AS c FROM events")

    assert 0 < first["c"][0] < second["c"][0]
    assert first["last"][0] == first["c"][0] - 1
    assert second["last"][0] == second["c"][0] - 1
    assert last["c"][0] == ROWS


def test_sql_adhoc_keyword(tmp_path: Path) -> None:
    session = events_session(tmp_path, "25 rows")
    session.run([count_query(session)])

    frame = session.sql("SELECT COUNT(*) AS c FROM events", adhoc=True)

    assert isinstance(frame, pd.DataFrame)
    assert frame["c"][0] == 25


def test_nested_row_is_struct(tmp_path: Path) -> None:
    session = events_session(tmp_path, "5 rows")
    session.run([count_query(session)])

    frame = session.adhoc("SELECT req.path AS path, req.code AS code FROM events WHERE n = 99")

    assert frame["path"][0] == "/p99"
    assert frame["code"][0] == 201


def test_before_any_delivery_is_empty(tmp_path: Path) -> None:
    session = events_session(tmp_path, "5 rows")

    frame = session.adhoc("SELECT COUNT(*) AS c FROM events")

    assert frame["c"][0] == 0


def test_table_without_retain_rejected(tmp_path: Path) -> None:
    session = events_session(tmp_path, None)
    session.run([count_query(session)])

    with pytest.raises(ValidationError, match="retains no rows") as raised:
        session.adhoc("SELECT * FROM events")

    assert "'retain'" in str(raised.value.hint)


def test_unknown_table_rejected(tmp_path: Path) -> None:
    session = events_session(tmp_path, "5 rows")

    with pytest.raises(ValidationError, match="not found"):
        session.adhoc("SELECT * FROM missing")


def test_non_select_rejected(tmp_path: Path) -> None:
    session = events_session(tmp_path, "5 rows")

    with pytest.raises(ValidationError, match="must be a SELECT"):
        session.adhoc("DELETE FROM events")


def test_invalid_retain_option_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="option 'retain'"):
        events_session(tmp_path, "lots")


def test_time_bound_needs_watermark(tmp_path: Path) -> None:
    write_events(tmp_path)
    session = Session(base_dir=tmp_path, progress=False)

    with pytest.raises(ValidationError, match="no WATERMARK"):
        session.sql(
            "CREATE TABLE events (ts TIMESTAMP(3), n INT) WITH ('connector' = 'filesystem', "
            "'path' = 'events.json', 'format' = 'json', 'retain' = '1 minute')"
        )


def test_live_connector_accepts_retain() -> None:
    session = Session(progress=False)

    session.sql(
        "CREATE TABLE lines (line STRING) WITH ('connector' = 'tcp', 'port' = '0', "
        "'format' = 'raw', 'retain' = '100 rows')"
    )

    assert session.catalog.lookup("lines") is not None


def rows_schema() -> Schema:
    return Schema((Column("ts", parse_type("TIMESTAMP(3)")), Column("n", parse_type("INT"))))


def batch(seconds: list[int]) -> pd.DataFrame:
    start = pd.Timestamp("2024-01-01")
    return pd.DataFrame({"ts": [start + pd.Timedelta(seconds=s) for s in seconds], "n": seconds})


def test_rows_eviction_bounds_memory() -> None:
    retained = RetainedRows("t", RetainBound(rows=5), rows_schema(), "ts")

    for start in range(0, 100, 3):
        retained.append(batch([start, start + 1, start + 2]))

    assert retained._rows == 5
    assert len(retained._frames) <= 3
    assert list(retained.frame()["n"]) == [97, 98, 99, 100, 101]


def test_span_eviction_out_of_order() -> None:
    retained = RetainedRows("t", RetainBound(span_ns=10 * 10**9), rows_schema(), "ts")

    retained.append(batch([0, 5, 9]))
    retained.append(batch([20, 3, 15]))

    # The latest event time is 20 s, so rows after 10 s stay, late rows too.
    assert sorted(retained.frame()["n"]) == [15, 20]
    assert retained._rows == 2


def test_cep_adhoc_magic(tmp_path: Path) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    import workbench.notebook

    shell = InteractiveShell.instance()
    if "workbench" not in shell.extension_manager.loaded:
        shell.extension_manager.load_extension("workbench")
    session = events_session(tmp_path, "3 rows")
    session.run([count_query(session)])
    workbench.notebook.use_session(session)
    try:
        outcome = shell.run_cell("%%cep --adhoc -o recent\nSELECT n FROM events ORDER BY n")
    finally:
        workbench.notebook.controller().close()

    assert outcome.error_in_exec is None
    assert list(outcome.result["n"]) == [97, 98, 99]
    assert list(shell.user_ns["recent"]["n"]) == [97, 98, 99]


def test_cep_adhoc_rejects_name() -> None:
    from workbench.notebook.arguments import ArgumentError, parse_cell_line

    assert parse_cell_line("--adhoc").adhoc
    with pytest.raises(ArgumentError, match="--adhoc"):
        parse_cell_line("recent --adhoc")


def test_view_rejected_with_reason(tmp_path: Path) -> None:
    session = events_session(tmp_path, "25 rows")
    session.sql("CREATE VIEW recent AS SELECT n FROM events")

    with pytest.raises(ValidationError, match="is a view"):
        session.adhoc("SELECT * FROM recent")


def test_table_function_rejected(tmp_path: Path) -> None:
    session = events_session(tmp_path, "25 rows")

    with pytest.raises(ValidationError, match="not table functions"):
        session.adhoc("SELECT * FROM read_csv('events.csv')")
