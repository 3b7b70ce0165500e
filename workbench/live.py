"""Running queries on live feeds: a background thread drives the sources and the queries.

A query that reads a live table has no end to run to. :class:`LiveRun`
starts its sources on an asyncio event loop in a thread of its own, runs
the queries on every micro-batch there, and leaves the caller's thread
free: ``QueryResult.to_pandas()`` then returns the rows emitted so far, and
:meth:`LiveRun.stop` ends the run. Bounded tables that a live query also
reads (a file, a DataFrame, inline VALUES) are read to their end first.

Stopping follows Flink's ``stop``: without ``drain`` the open windows and
partial matches are discarded (the rows already emitted stay), and with
``drain`` every live input ends as a bounded one does, so every open window
fires before the run ends.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.errors import SourceError, ValidationError, WorkbenchError
from workbench.runner import STORED_ON_RESULT, Job
from workbench.runtime.pipeline import Pipeline
from workbench.sources import Feed
from workbench.sources.live import LiveClock, LiveFeed, LiveSource, open_live_source
from workbench.sql import plan as p
from workbench.sql.catalog import TableDef

if TYPE_CHECKING:
    from workbench.results import QueryResult

logger = logging.getLogger(__name__)

#: Seconds start() waits for the sources to bind their sockets.
START_TIMEOUT = 30.0


@dataclass
class LiveJob(Job):
    """A job whose live tables are opened as live sources instead of readers.

    ``objects`` contains the Python iterables of tables registered with
    ``Session.from_iterable``, by table name.
    """

    objects: dict[str, Any] = field(default_factory=dict)
    live_feeds: list[LiveFeed] = field(default_factory=list)

    def _open_feeds(self, names: set[str], values: dict[str, p.Values]) -> list[Feed]:
        live = {name for name in names if _is_live(self.catalog.lookup(name))}
        feeds = super()._open_feeds(names - live, values)
        for name in sorted(live):
            table = self.catalog.lookup(name)
            assert isinstance(table, TableDef)
            try:
                source = open_live_source(
                    name,
                    table.options,
                    table.physical,
                    idle_timeout_default=self.settings.get("table.exec.source.idle-timeout"),
                    objects=self.objects,
                )
            except SourceError as error:
                self.failed_feeds[name] = error
                logger.error("cannot read %s: %s", name, error, extra=STORED_ON_RESULT)
                continue
            self.readers[name] = source
            time_column = None
            if table.watermark is not None and table.physical.find(table.watermark.column):
                time_column = table.watermark.column
            self.live_feeds.append(LiveFeed(name, source, time_column))
        return feeds

    def _compile(self, result: QueryResult, values: dict[str, p.Values]) -> Pipeline | None:
        pipeline = super()._compile(result, values)
        if pipeline is not None:
            pipeline.collector.max_rows = int(self.settings["workbench.live.max-result-rows"])
        return pipeline

    def advance(self, feed: str, event_time_ns: int) -> None:
        """Move the watermark of a quiet feed in every query that reads it."""
        for result, pipeline in list(self.live):
            if feed in pipeline.feeds and result.error is None:
                error = pipeline.advance(feed, event_time_ns)
                if error is not None:
                    self._fail(result, error)


def _is_live(entry: object) -> bool:
    return isinstance(entry, TableDef) and entry.frame is None and not entry.bounded


# TODO: let a query join or leave a running live run (Replay.add and Replay.drop
# do this for replays); today queries that share live sources start together.
class LiveRun:
    """Queries running on live feeds in a background thread, until stopped or their inputs end.

    Every access to the queries' state from another thread must hold
    ``lock``. ``QueryResult`` methods take it themselves.
    """

    def __init__(self, job: LiveJob, results: list[QueryResult]) -> None:
        self.job = job
        self.results = list(results)
        self.lock = threading.RLock()
        self.clock: LiveClock | None = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._ready = threading.Event()
        self._stop_requested = False
        self._drain = False

    # Control --------------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> LiveRun:
        """Start the sources and queries in a background thread; return once the sources listen."""
        if self._thread is not None:
            return self
        with self.lock:
            self.job.prepare(self.results, mode="max", progress=False)
            for result in self.results:
                result.live_run = self
        self.clock = LiveClock(
            self.job.live_feeds,
            self._deliver,
            self._end,
            advance=self._advance,
            fail=self._fail,
        )
        self._thread = threading.Thread(target=self._main, name="workbench live run", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            message = f"the live sources did not start within {timeout:g} s"
            raise SourceError(message)
        for source in self.sources():
            if source.address is not None:
                logger.info("%s: listening on %s:%d", source.name, *source.address)
        return self

    def stop(self, *, drain: bool = False, timeout: float = 30.0) -> None:
        """Stop receiving, process what was received, and end the run.

        With ``drain`` every live input then ends, so open windows fire and
        pending matches complete as at the end of a file. Without it, state
        that has not produced rows yet is discarded.
        """
        if self._thread is None or self._done.is_set():
            return
        # NOTE: live runs take no checkpoints, so window and pattern state that a
        # stop without drain (or a crash) discards cannot be restored later.
        self._stop_requested = True
        self._drain = drain
        if self.clock is not None:
            self.clock.stop(drain=drain)
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("the live run did not stop within %g s", timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every input has ended (or the run was stopped); return whether it has."""
        return self._done.wait(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    # Information ----------------------------------------------------------------------

    def sources(self) -> list[LiveSource]:
        return [feed.source for feed in self.job.live_feeds]

    def address(self, table: str) -> tuple[str, int]:
        """Return the host and port a server source of ``table`` listens on."""
        for source in self.sources():
            if source.name == table and source.address is not None:
                return source.address
        known = ", ".join(source.name for source in self.sources() if source.address) or "none"
        raise ValidationError(
            f"table {table!r} has no listening source in this run",
            hint=f"tables with a listening source: {known}",
        )

    def connections(self) -> pd.DataFrame:
        """Return one row per peer of every source: messages, bytes, rejected, dropped, rates."""
        with self.lock:
            frames = [source.connection_table() for source in self.sources()]
        frames = [frame for frame in frames if len(frame)]
        if not frames:
            return self.sources()[0].connection_table() if self.sources() else pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def source_metrics(self) -> pd.DataFrame:
        """Return one row per live source: received, rejected, dropped, backlog, reconnections, gaps."""
        rows = []
        with self.lock:
            for source in self.sources():
                source.refresh()
                counters = source.stats
                rows.append(
                    {
                        "source": source.name,
                        "connector": source.spec.name,
                        "messages": counters.messages,
                        "rows": counters.rows_read,
                        "rejected": counters.rows_rejected,
                        "dropped": counters.dropped,
                        "dropped_by_kernel": counters.dropped_by_kernel,
                        "bytes": counters.bytes_read,
                        "batches": counters.chunks,
                        "backlog": source.backlog,
                        "backlog_peak": counters.backlog_peak,
                        "backlog_max": source.options.backlog_max_rows,
                        "acknowledged": counters.acknowledged,
                        "connections": counters.connections,
                        "connections_open": counters.connections_open,
                        "connections_refused": counters.connections_refused,
                        "reconnect_attempts": counters.reconnect_attempts,
                        "gaps": counters.gaps,
                        "gap_seconds": source.gap_seconds_now(),
                    }
                )
        return pd.DataFrame(rows)

    def gaps(self) -> pd.DataFrame:
        """Return the times client sources had no connection to their server."""
        with self.lock:
            rows = [gap for source in self.sources() for gap in source.gap_log]
        return pd.DataFrame(rows, columns=["source", "start", "end", "seconds", "reason"])

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock while reading the queries' state from another thread."""
        with self.lock:
            yield

    # The background thread -----------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # keep the thread's failure for the caller
            self.error = error
            logger.exception("the live run failed")
            with self.lock:
                for result in self.results:
                    if result.status == "running":
                        self.job._fail(
                            result,
                            SourceError(f"the live run failed: {type(error).__name__}: {error}"),
                        )
        finally:
            self._ready.set()
            with self.lock:
                self.job.finish()
                for result in self.results:
                    if result.status == "running":
                        result.status = "stopped"
            self._done.set()

    async def _serve(self) -> None:
        with self.lock:
            replay = self.job.clock
            if replay is not None:
                # Bounded inputs of live queries are read to their end first.
                replay.run()
        assert self.clock is not None
        clock_task = asyncio.create_task(self.clock.run())
        await asyncio.to_thread(self.clock.started.wait)
        self._ready.set()
        await clock_task

    def _deliver(self, feed: str, frame: pd.DataFrame) -> None:
        with self.lock:
            self.job._deliver(feed, frame)

    def _end(self, feed: str) -> None:
        with self.lock:
            self.job._end(feed)

    def _advance(self, feed: str, event_time_ns: int) -> None:
        with self.lock:
            self.job.advance(feed, event_time_ns)

    def _fail(self, feed: str, error: WorkbenchError) -> None:
        with self.lock:
            self.job._fail_feed(feed, error)
