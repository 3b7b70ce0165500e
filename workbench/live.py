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
from workbench.sources import Feed, ReplayClock
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

    def join(self, result: QueryResult, ended: set[str], failed: set[str]) -> list[LiveFeed]:
        """Add a planned query to the running job; return the live feeds to start for it.

        The query sees the messages delivered from now on. Live feeds in
        ``ended`` end for it at once, and a feed in ``failed`` fails it. Its
        bounded inputs (files, DataFrames, inline VALUES) are read to their
        end for it alone before it joins, as :meth:`LiveRun.start` reads them
        first for the queries it starts. Raises ValidationError when a query
        of that name is part of the run or the query has no plan.
        """
        values: dict[str, p.Values] = {}
        pipeline = self._admit(result, values, job_kind="live run")
        if pipeline is None:
            return []
        live = {name for name in pipeline.feeds if _is_live(self.catalog.lookup(name))}
        started = len(self.live_feeds)
        self._open_feeds(
            {name for name in live if name not in self.readers} - set(self.failed_feeds), {}
        )
        added = self.live_feeds[started:]
        bounded = self._read_bounded(result, pipeline, pipeline.feeds - live, values)
        result.readers = [
            *(self.readers[name] for name in sorted(live) if name in self.readers),
            *bounded,
        ]
        for name in sorted(live):
            if name in self.failed_feeds:
                self._fail(result, self.failed_feeds[name])
            elif name in failed:
                self._fail(result, SourceError(f"the live source of table {name!r} has failed"))
        if pipeline.error is not None:  # _fail set it: a source or a bounded input failed
            return added
        self.live.append((result, pipeline))
        result.status = "running"
        for name in sorted(live & ended):
            error = pipeline.end(name)
            if error is not None:
                self._fail(result, error)
        if result.error is None and pipeline.finished:
            result.status = "finished"
        return added

    def _read_bounded(
        self, result: QueryResult, pipeline: Pipeline, names: set[str], values: dict[str, p.Values]
    ) -> list[Any]:
        """Replay the bounded inputs of a joining query into its pipeline only; return the readers."""
        feeds: list[Feed] = []
        for name in sorted(names):
            try:
                reader, time_column = self._reader(name, values)
            except SourceError as error:
                self._fail(result, error)
                return []
            feeds.append(Feed(name, reader, time_column))
        if not feeds:
            return []

        def deliver(feed: str, frame: pd.DataFrame) -> None:
            error = pipeline.deliver(feed, frame)
            if error is not None:
                self._fail(result, error)

        def end(feed: str) -> None:
            error = pipeline.end(feed)
            if error is not None:
                self._fail(result, error)

        clock = ReplayClock(
            feeds,
            deliver,
            end,
            mode="max",
            batch_rows=self.settings.batch_rows,
            progress=False,
            fail=lambda _feed, error: self._fail(result, error),
        )
        clock.run()
        return [feed.reader for feed in feeds]

    def unread_feeds(self) -> list[LiveFeed]:
        """Remove the live feeds that no running query reads; return them, to be stopped."""
        read = {feed for _, pipeline in self.live for feed in pipeline.feeds}
        unread = [feed for feed in self.live_feeds if feed.name not in read]
        for feed in unread:
            self.live_feeds.remove(feed)
            self.readers.pop(feed.name, None)
        return unread

    def advance(self, feed: str, event_time_ns: int) -> None:
        """Move the watermark of a quiet feed in every query that reads it."""
        for result, pipeline in list(self.live):
            if feed in pipeline.feeds and result.error is None:
                error = pipeline.advance(feed, event_time_ns)
                if error is not None:
                    self._fail(result, error)


def _is_live(entry: object) -> bool:
    return isinstance(entry, TableDef) and entry.frame is None and not entry.bounded


class LiveRun:
    """Queries running on live feeds in a background thread, until stopped or their inputs end.

    Every access to the queries' state from another thread must hold
    ``lock``. ``QueryResult`` methods take it themselves. Queries can join
    and leave while the run goes on: :meth:`add`, :meth:`replace`, :meth:`drop`.
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
        # Serializes add, replace and drop, which start and stop sources outside ``lock``.
        self._changing = threading.Lock()

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

    # Dynamic queries ----------------------------------------------------------------

    def add(self, result: QueryResult, *, timeout: float = START_TIMEOUT) -> None:
        """Add a planned query (a result of ``Session.sql``) at the current position of the run.

        The query sees the messages delivered from now on, as a Flink job
        started on a running topic reads from the current offset. Live
        sources that the run does not read yet are started, and the call
        returns once they listen. Bounded tables the query reads are read to
        their end for it first. The other queries are not disturbed. Raises
        ValidationError when the run is not running, when a query of that
        name is part of it, or when the query reads no live table.
        """
        with self._changing:
            self._add(result, timeout)

    def replace(self, name: str, result: QueryResult, *, timeout: float = START_TIMEOUT) -> bool:
        """Put ``result`` in the place of query ``name``; return whether its state was kept.

        When the new plan equals the old one (the text changed only in
        whitespace, comments, ORDER BY or LIMIT of the display), the running
        operators, their state and the rows emitted so far move to the new
        result. Otherwise the old query leaves and the new one starts at the
        current position with empty state. Sources both read keep running.
        """
        with self._changing:
            self._check_running(result.name, "replace")
            with self.lock:
                old = self.job._find(name)
                if result.name != name:
                    raise ValidationError(
                        f"cannot replace query {name!r} with a query named {result.name!r}",
                        hint="plan the new query under the same name",
                    )
                if old.status == "running" and old.plan == result.plan:
                    self.job.replace(name, result)
                    self.results[self.results.index(old)] = result
                    result.live_run = self
                    old.live_run = None
                    return True
                self._detach(name)
            try:
                self._add(result, timeout)
            finally:
                self._stop_unread(timeout)
            return False

    def drop(self, name: str, *, timeout: float = START_TIMEOUT) -> QueryResult:
        """Remove query ``name`` from the run; the other queries go on undisturbed.

        The result keeps the rows emitted so far, with status 'stopped'
        (unless it had finished or failed), and an INSERT INTO's sink is
        closed. Live sources that no remaining query reads are stopped after
        the messages they already received are delivered. Dropping the last
        query that reads a live source ends the run.
        """
        with self._changing:
            with self.lock:
                result = self._detach(name)
            if self.running:
                self._stop_unread(timeout)
            return result

    def _add(self, result: QueryResult, timeout: float) -> None:
        self._check_running(result.name, "add")
        if not result.unbounded:
            raise ValidationError(
                f"query {result.name!r} reads no live table, so it cannot join a live run",
                hint="run it with to_pandas(), or in a replay",
            )
        clock = self.clock
        assert clock is not None
        with self.lock:
            states = dict(clock.states)
            ended = {name for name, state in states.items() if state.ended and not state.failed}
            failed = {name for name, state in states.items() if state.failed}
            feeds = self.job.join(result, ended, failed)
            self.results.append(result)
            result.live_run = self
        for feed in feeds:
            clock.add_feed(feed, timeout)
        for source in (feed.source for feed in feeds):
            if source.address is not None:
                logger.info("%s: listening on %s:%d", source.name, *source.address)

    def _detach(self, name: str) -> QueryResult:
        """Remove query ``name`` from the job and the run; the caller must have ``lock``."""
        result = self.job.drop(name)
        if result in self.results:
            self.results.remove(result)
        result.live_run = None
        return result

    def _stop_unread(self, timeout: float) -> None:
        """Stop the live sources that no remaining query reads."""
        with self.lock:
            unread = self.job.unread_feeds()
        if self.clock is None:
            return
        for feed in unread:
            try:
                self.clock.remove_feed(feed.name, timeout)
            except SourceError as error:
                logger.warning("stopping the unread source %s failed: %s", feed.name, error)

    def _check_running(self, name: str, action: str) -> None:
        if not self.running or self._stop_requested:
            raise ValidationError(
                f"cannot {action} query {name!r}: the live run is not running",
                hint="start the query with result.start() or Session.start() instead",
            )

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
