"""%%cep cells and %cep commands on live tables, driven through the controller with a real Session."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live.support import WINDOW_SQL, expected_results, known_events, sort_frame, wait_until
from workbench import Session
from workbench.notebook.arguments import CellOptions
from workbench.notebook.controller import NotebookSession
from workbench.notebook.views import LiveView
from workbench.results import QueryResult

SCHEMA = {"ts": "TIMESTAMP(3)", "host": "STRING", "outcome": "STRING", "bytes": "BIGINT"}


@pytest.fixture
def notebook() -> Iterator[tuple[NotebookSession, queue.Queue[dict[str, object] | None]]]:
    """Return a controller whose session has live table 'ev' fed from a queue."""
    feed: queue.Queue[dict[str, object] | None] = queue.Queue()

    def items() -> Iterator[dict[str, object]]:
        while (item := feed.get()) is not None:
            yield item

    session = Session(progress=False)
    session.from_iterable("ev", items(), SCHEMA, rowtime="ts", watermark_delay="2 s")
    controller = NotebookSession(session)
    yield controller, feed
    feed.put(None)
    controller.close()


def cell(controller: NotebookSession, sql: str, name: str, cell_id: str | None = None) -> LiveView:
    shown = controller.run_cell(sql, CellOptions(name=name), {}, cell_id)
    assert isinstance(shown, LiveView)
    return shown


def received(controller: NotebookSession) -> int:
    assert controller.live_run is not None
    return int(controller.live_run.source_metrics()["rows"].sum())


def test_live_cell_starts_in_background(
    notebook: tuple[NotebookSession, queue.Queue[dict[str, object] | None]],
) -> None:
    controller, feed = notebook

    view = cell(controller, "SELECT host, bytes FROM ev", "hosts")
    for event in known_events(30):
        feed.put(event)
    wait_until(lambda: received(controller) == 30, what="the events")
    controller.pacer.flush()

    assert view.result.status == "running"
    assert view.result.live_run is controller.live_run
    assert "started on the live feed in the background" in view.message
    assert "30 rows out" in view.status_text()
    assert "backlog ev 0 waiting, 0 dropped" in view.status_text()
    assert "30 rows out" in view.status.value
    queries = controller.queries().set_index("name")
    assert queries.loc["hosts", "status"] == "running"
    assert queries.loc["hosts", "rows_out"] == 30
    status = controller.status().text
    assert "live run running · queries hosts" in status
    assert "backlog" in status


def test_cells_join_replace_and_drop(
    notebook: tuple[NotebookSession, queue.Queue[dict[str, object] | None]], tmp_path: Path
) -> None:
    controller, feed = notebook
    events = known_events()
    windows = cell(controller, WINDOW_SQL.format(table="ev"), "windows").result
    for event in events[:200]:
        feed.put(event)
    wait_until(lambda: received(controller) == 200, what="the first events")

    joined = cell(controller, "SELECT host FROM ev", "extra", "cell-1")
    first = joined.result
    for event in events[200:300]:
        feed.put(event)
    wait_until(lambda: received(controller) == 300, what="the second events")
    same = cell(controller, "SELECT  host FROM ev", "extra", "cell-1")
    changed = cell(controller, "SELECT host, bytes FROM ev", "extra", "cell-1")
    for event in events[300:400]:
        feed.put(event)
    wait_until(lambda: received(controller) == 400, what="the third events")
    stopped = controller.stop("extra")
    for event in events[400:]:
        feed.put(event)
    wait_until(lambda: received(controller) == len(events), what="every event")
    dropped = controller.drop("windows")

    assert "joined the running live feed" in joined.message
    assert first.live_run is None
    assert "state kept" in same.message
    assert len(same.result.to_pandas()) == 100
    assert "state discarded" in changed.message
    assert "stopped query extra" in stopped.text
    assert changed.result.status == "stopped"
    assert len(changed.result.to_pandas()) == 100
    assert "dropped query windows" in dropped.text
    assert "windows" not in controller.session.queries
    assert windows.status == "stopped"
    assert controller.live_run is not None
    # The untouched query saw every event: its rows are those of a file replay so far.
    expected, _ = expected_results(tmp_path, events)
    emitted = sort_frame(windows.to_pandas())
    assert len(emitted) > 0
    assert len(emitted) <= len(expected)
    merged = emitted.merge(expected, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_untouched_live_query_equals_file_replay(
    notebook: tuple[NotebookSession, queue.Queue[dict[str, object] | None]], tmp_path: Path
) -> None:
    controller, feed = notebook
    events = known_events()
    windows = cell(controller, WINDOW_SQL.format(table="ev"), "windows").result
    for event in events[:300]:
        feed.put(event)
    cell(controller, "SELECT host FROM ev", "extra", "cell-1")
    cell(controller, "SELECT host, outcome FROM ev", "extra", "cell-1")
    for event in events[300:]:
        feed.put(event)
    controller.drop("extra")
    feed.put(None)

    run = windows.live_run
    assert run is not None
    assert run.wait(30)
    expected, _ = expected_results(tmp_path, events)
    assert windows.status == "finished"
    assert sort_frame(windows.to_pandas()).equals(sort_frame(expected))


def test_views_refresh_from_live_run_until_closed(
    notebook: tuple[NotebookSession, queue.Queue[dict[str, object] | None]],
) -> None:
    controller, feed = notebook
    controller.refresh_rate = 50.0

    async def drive() -> dict[str, Any]:
        view = cell(controller, "SELECT host, bytes FROM ev", "hosts")
        before = controller.pacer.refreshes
        for event in known_events(20):
            feed.put(event)
        deadline = time.monotonic() + 30
        while "20 rows out" not in view.status.value and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        shown = view.status.value
        refreshes = controller.pacer.refreshes - before
        view.close()
        for event in known_events(40)[20:]:
            feed.put(event)
        result = view.result
        while received(controller) < 40 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        return {
            "shown": shown,
            "refreshes": refreshes,
            "after": view.status.value,
            "result": result,
        }

    outcome = asyncio.run(drive())

    assert "20 rows out" in outcome["shown"]
    assert outcome["refreshes"] >= 1
    assert outcome["after"] == outcome["shown"]
    result = outcome["result"]
    assert isinstance(result, QueryResult)
    assert result.collector is not None
    assert result.collector.rows == 40
