"""Queries that join, are replaced in, and leave a running live run."""

from __future__ import annotations

import queue
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.support import (
    PATTERN_SQL,
    WINDOW_SQL,
    assert_same_results,
    known_events,
    rows_received,
    wait_until,
)
from tests.live.test_tcp import send_lines
from workbench import Session
from workbench.errors import ValidationError
from workbench.results import QueryResult

SCHEMA = {"ts": "TIMESTAMP(3)", "host": "STRING", "outcome": "STRING", "bytes": "BIGINT"}


def queued_table(session: Session) -> queue.Queue[dict[str, object] | None]:
    """Register live table 'ev' fed from a queue; putting None ends it."""
    feed: queue.Queue[dict[str, object] | None] = queue.Queue()

    def items() -> Iterator[dict[str, object]]:
        while (item := feed.get()) is not None:
            yield item

    session.from_iterable("ev", items(), SCHEMA, rowtime="ts", watermark_delay="2 s")
    return feed


def put_all(feed: queue.Queue[dict[str, object] | None], events: list[dict[str, object]]) -> None:
    for event in events:
        feed.put(event)


def plan(session: Session, sql: str, name: str) -> QueryResult:
    result = session.sql(sql, name=name)
    assert isinstance(result, QueryResult)
    return result


def test_added_query_sees_messages_from_now_on(tmp_path: Path) -> None:
    session = Session()
    feed = queued_table(session)
    events = known_events()
    windows = plan(session, WINDOW_SQL.format(table="ev"), "windows")
    matches = plan(session, PATTERN_SQL.format(table="ev"), "matches")
    run = session.start([windows, matches])
    put_all(feed, events[:300])
    wait_until(lambda: rows_received(run, "ev") == 300, what="the first half")

    late = plan(session, "SELECT host, bytes FROM ev", "late")
    run.add(late)
    put_all(feed, events[300:])
    feed.put(None)

    assert run.wait(30)
    assert late.status == "finished"
    assert late.live_run is run
    assert len(late.to_pandas()) == 300
    assert list(late.to_pandas()["bytes"]) == [event["bytes"] for event in events[300:]]
    assert_same_results(tmp_path, events, windows, matches)


def test_replace_and_drop_leave_others_undisturbed(tmp_path: Path) -> None:
    session = Session()
    feed = queued_table(session)
    events = known_events()
    windows = plan(session, WINDOW_SQL.format(table="ev"), "windows")
    matches = plan(session, PATTERN_SQL.format(table="ev"), "matches")
    extra = plan(session, "SELECT host FROM ev", "extra")
    run = session.start([windows, matches, extra])
    put_all(feed, events[:200])
    wait_until(lambda: rows_received(run, "ev") == 200, what="the first events")

    same = plan(session, "SELECT host  FROM ev -- only whitespace and a comment", "extra")
    kept = run.replace("extra", same)
    put_all(feed, events[200:400])
    wait_until(lambda: rows_received(run, "ev") == 400, what="the second events")
    changed = plan(session, "SELECT host, bytes FROM ev", "extra")
    discarded = run.replace("extra", changed)
    put_all(feed, events[400:500])
    wait_until(lambda: rows_received(run, "ev") == 500, what="the third events")
    dropped = run.drop("extra")
    put_all(feed, events[500:])
    feed.put(None)

    assert run.wait(30)
    assert kept is True
    assert extra.status == "stopped"
    assert discarded is False
    assert same.status == "stopped"
    assert len(same.to_pandas()) == 400
    assert dropped is changed
    assert changed.status == "stopped"
    assert len(changed.to_pandas()) == 100
    assert changed.live_run is None
    assert [result.name for result in run.results] == ["windows", "matches"]
    assert_same_results(tmp_path, events, windows, matches)


def test_join_starts_and_drop_stops_tcp_source(tmp_path: Path) -> None:
    session = Session()
    feed = queued_table(session)
    session.sql(
        "CREATE TABLE lines (host STRING, bytes BIGINT) WITH ('connector' = 'tcp', 'port' = '0')"
    )
    events = known_events()
    windows = plan(session, WINDOW_SQL.format(table="ev"), "windows")
    matches = plan(session, PATTERN_SQL.format(table="ev"), "matches")
    run = session.start([windows, matches])
    put_all(feed, events[:300])

    with pytest.raises(ValidationError, match="no listening source"):
        run.address("lines")
    hosts = plan(session, "SELECT host, bytes FROM lines WHERE bytes > 1", "hosts")
    run.add(hosts)
    address = run.address("lines")
    send_lines(address, [b'{"host": "a", "bytes": 5}', b'{"host": "b", "bytes": 1}'])
    wait_until(lambda: len(hosts.to_pandas()) == 1, what="the TCP row")
    run.drop("hosts")

    assert address[0] == "127.0.0.1"
    assert "lines" not in set(run.source_metrics()["source"])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=5).close()
    put_all(feed, events[300:])
    feed.put(None)
    assert run.wait(30)
    assert list(hosts.to_pandas()["host"]) == ["a"]
    assert_same_results(tmp_path, events, windows, matches)


def test_add_rejects_ended_run_and_duplicate_name() -> None:
    session = Session()
    feed = queued_table(session)
    windows = plan(session, WINDOW_SQL.format(table="ev"), "windows")
    run = session.start([windows])

    twin = plan(session, "SELECT * FROM ev", "windows")
    with pytest.raises(ValidationError, match="already part of the live run"):
        run.add(twin)
    feed.put(None)
    assert run.wait(30)
    later = plan(session, "SELECT * FROM ev", "later")
    with pytest.raises(ValidationError, match="the live run is not running"):
        run.add(later)


def test_added_query_reads_bounded_table_from_start() -> None:
    session = Session()
    feed = queued_table(session)
    session.sql("SET 'table.exec.state.ttl' = '1 h'")
    session.sql(
        "CREATE VIEW owners AS "
        "SELECT * FROM (VALUES ('alpha', 'ops'), ('beta', 'dev')) AS t(name, team)"
    )
    windows = plan(session, WINDOW_SQL.format(table="ev"), "windows")
    run = session.start([windows])
    joined = plan(
        session,
        "SELECT e.host, o.team FROM ev AS e JOIN owners AS o ON e.host = o.name",
        "joined",
    )
    run.add(joined)
    put_all(feed, known_events(6))
    feed.put(None)

    assert run.wait(30)
    assert sorted(joined.to_pandas()["team"]) == ["dev", "dev", "ops", "ops"]
