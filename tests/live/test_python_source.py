"""Live tables fed from Python iterables and async generators, and idle watermarks."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.live.support import (
    PATTERN_SQL,
    START_MS,
    WINDOW_SQL,
    assert_same_results,
    known_events,
    wait_until,
)
from workbench import Session
from workbench.errors import ValidationError

SCHEMA = {"ts": "TIMESTAMP(3)", "host": "STRING", "outcome": "STRING", "bytes": "BIGINT"}


def plan(session: Session, table: str = "ev") -> tuple[object, object]:
    return (
        session.sql(WINDOW_SQL.format(table=table)),
        session.sql(PATTERN_SQL.format(table=table)),
    )


def test_iterable_matches_file_replay(tmp_path: Path) -> None:
    events = known_events()
    session = Session()
    session.from_iterable("ev", iter(events), SCHEMA, rowtime="ts", watermark_delay="2 s")
    windows, matches = plan(session)

    run = session.start()

    assert run.wait(30)
    assert windows.status == "finished"
    assert matches.status == "finished"
    assert_same_results(tmp_path, events, windows, matches)


def test_async_generator_matches_file_replay(tmp_path: Path) -> None:
    events = known_events()

    async def produce() -> AsyncIterator[dict[str, object]]:
        for index, event in enumerate(events):
            if index % 100 == 0:
                await asyncio.sleep(0.01)
            yield event

    session = Session()
    session.from_iterable("ev", produce(), SCHEMA, rowtime="ts", watermark_delay="2 s")
    windows, matches = plan(session)

    run = session.start([windows, matches])  # type: ignore[list-item]

    assert run.wait(30)
    assert_same_results(tmp_path, events, windows, matches)


def test_iterable_tuples_frames_and_bad_items() -> None:
    rows: list[object] = [
        (pd.Timestamp(START_MS, unit="ms"), "alpha", "failed", 1),
        pd.DataFrame(
            {
                "ts": pd.to_datetime([START_MS + 1_000, START_MS + 2_000], unit="ms"),
                "host": ["beta", "gamma"],
                "outcome": ["failed", "failed"],
                "bytes": [2, 3],
            }
        ),
        "a string",
        (1, 2),
        {"ts": START_MS + 3_000, "host": "alpha", "outcome": "failed", "bytes": "four"},
    ]
    session = Session()
    session.from_iterable("ev", rows, SCHEMA, rowtime="ts")
    query = session.sql("SELECT host, bytes FROM ev")

    query.start()

    assert query.wait(30)
    frame = query.to_pandas()
    rejected = query.rejected_rows()
    assert list(frame["host"]) == ["alpha", "beta", "gamma"]
    assert list(frame["bytes"]) == [1, 2, 3]
    assert len(rejected) == 3
    assert "got str" in rejected["reason"][0]
    assert "got tuple" in rejected["reason"][1]
    assert "column 'bytes'" in rejected["reason"][2]
    assert all(reason.startswith("from python list: ") for reason in rejected["reason"])


def test_iterable_error_fails_query() -> None:
    def broken() -> Iterator[dict[str, object]]:
        yield known_events(1)[0]
        raise RuntimeError("sensor offline")

    session = Session()
    session.from_iterable("ev", broken(), SCHEMA, rowtime="ts")
    query = session.sql("SELECT host FROM ev")

    query.start()

    assert query.wait(30)
    assert query.status == "failed"
    assert "sensor offline" in str(query.error)


def test_idle_timeout_fires_quiet_windows() -> None:
    feed: queue.Queue[dict[str, object] | None] = queue.Queue()

    def items() -> Iterator[dict[str, object]]:
        while (item := feed.get()) is not None:
            yield item

    session = Session()
    session.from_iterable(
        "ev",
        items(),
        SCHEMA,
        rowtime="ts",
        watermark_delay="1 s",
        options={"scan.watermark.idle-timeout": "100 ms"},
    )
    windows, _ = plan(session)
    windows.start()
    # Two seconds of event time: the 10 s window is still open when the feed goes quiet.
    for event in known_events(8):
        feed.put(event)

    wait_until(lambda: len(windows.to_pandas()) == 3, timeout=30, what="the quiet windows")
    feed.put(None)
    windows.wait(30)
    frame = windows.to_pandas()

    assert sorted(frame["host"]) == ["alpha", "beta", "gamma"]
    assert frame["c"].sum() == 8


def test_without_idle_timeout_windows_wait() -> None:
    feed: queue.Queue[dict[str, object] | None] = queue.Queue()

    def items() -> Iterator[dict[str, object]]:
        while (item := feed.get()) is not None:
            yield item

    session = Session()
    session.from_iterable("ev", items(), SCHEMA, rowtime="ts", watermark_delay="1 s")
    windows, _ = plan(session)
    windows.start()
    for event in known_events(8):
        feed.put(event)

    time.sleep(0.5)
    quiet = len(windows.to_pandas())
    feed.put(None)
    windows.wait(30)

    assert quiet == 0
    assert len(windows.to_pandas()) == 3


def test_session_idle_timeout_setting() -> None:
    feed: queue.Queue[dict[str, object] | None] = queue.Queue()

    def items() -> Iterator[dict[str, object]]:
        while (item := feed.get()) is not None:
            yield item

    session = Session(settings={"table.exec.source.idle-timeout": "100 ms"})
    session.from_iterable("ev", items(), SCHEMA, rowtime="ts", watermark_delay="1 s")
    windows, _ = plan(session)
    windows.start()
    for event in known_events(8):
        feed.put(event)

    wait_until(lambda: len(windows.to_pandas()) == 3, timeout=30, what="the quiet windows")
    feed.put(None)
    assert windows.wait(30)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"items": "text", "schema": SCHEMA}, "needs an iterable"),
        ({"items": [], "schema": {}}, "needs a schema"),
        ({"items": [], "schema": SCHEMA, "rowtime": "host"}, "needs a TIMESTAMP column"),
        ({"items": [], "schema": SCHEMA, "watermark_delay": "1 s"}, "needs a rowtime column"),
        (
            {"items": [], "schema": SCHEMA, "options": {"scan.batch.interval": "0 s"}},
            "use a duration above 0",
        ),
    ],
)
def test_from_iterable_invalid_arguments(arguments: dict[str, object], message: str) -> None:
    session = Session()

    with pytest.raises(ValidationError, match=message):
        session.from_iterable("ev", **arguments)  # type: ignore[arg-type]


def test_python_connector_not_from_ddl() -> None:
    session = Session()

    with pytest.raises(ValidationError, match=r"use Session\.from_iterable"):
        session.sql("CREATE TABLE ev (a INT) WITH ('connector' = 'python')")


def test_live_result_keeps_newest_rows() -> None:
    session = Session(settings={"workbench.live.max-result-rows": "100"})
    session.from_iterable("ev", ({"n": index} for index in range(1_000)), {"n": "BIGINT"})
    query = session.sql("SELECT n FROM ev")

    query.start()

    assert query.wait(30)
    frame = query.to_pandas()
    assert len(frame) <= 200
    assert frame["n"].iloc[-1] == 999
    assert query.collector is not None
    assert query.collector.rows == 1_000


def test_live_and_recorded_inputs_together() -> None:
    session = Session()
    session.from_iterable("ev", iter(known_events(30)), SCHEMA, rowtime="ts")
    session.from_pandas("hosts", pd.DataFrame({"host": ["alpha", "omega"], "bytes": [7, 8]}))
    query = session.sql("SELECT host, bytes FROM ev UNION ALL SELECT host, bytes FROM hosts")

    query.start()

    assert query.wait(30)
    frame = query.to_pandas()
    assert len(frame) == 32
    assert "omega" in set(frame["host"])
