"""Running queries: open their inputs and sinks, replay the inputs, collect results.

Several queries run in one replay: each table is read once and its rows go
to every query that reads it. A query that fails (a bad input file, an
operator error, a sink that rejects a write) stops alone; the others go on.

Queries can be added, replaced and dropped while a replay is under way
(:meth:`Replay.add`, :meth:`Replay.replace`, :meth:`Replay.drop`). An added
query starts at the current position of the replay, as a Flink job started
on a running topic reads from the current offset: it sees the rows
delivered after it joined and none of the rows before. A table that the
replay did not read yet is read from its first row.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.errors import (
    QueryRuntimeError,
    SinkError,
    SourceError,
    ValidationError,
    WorkbenchError,
)
from workbench.runtime.early_fire import EarlyFire
from workbench.runtime.pipeline import Compiler, Pipeline
from workbench.runtime.results import ResultCollector
from workbench.runtime.session_window import SessionWindowOperator
from workbench.runtime.window_aggregate import WindowAggregateOperator
from workbench.sinks import open_sink
from workbench.sources import (
    DataFrameReader,
    Feed,
    Reader,
    ReplayClock,
    ReplayStatus,
    open_reader,
)
from workbench.sql import plan as p
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.catalog import Catalog, TableDef
from workbench.sql.planner import shared_storage

if TYPE_CHECKING:
    from workbench.results import QueryResult
    from workbench.settings import Settings

logger = logging.getLogger(__name__)

#: Marks log records of errors that are also kept on a query's result (and
#: raised when its rows are read), so a caller that reports those errors
#: itself can filter the records out.
STORED_ON_RESULT = {"stored_on_result": True}


@dataclass
class Job:
    """The queries of one replay and the inputs they share.

    :meth:`prepare` compiles the queries and opens inputs and sinks; the
    replay clock (``clock``) then drives them: :meth:`run` to the end, or step
    by step, paused and resumed through the clock. :meth:`restart` replays
    from the beginning with fresh operator state.
    """

    catalog: Catalog
    settings: Settings
    base_dir: Path
    user_aggregates: dict[str, UserAggregateDef]
    plans: dict[str, p.PlanNode]
    readers: dict[str, Reader] = field(default_factory=dict)
    failed_feeds: dict[str, WorkbenchError] = field(default_factory=dict)
    sinks: list[Any] = field(default_factory=list)
    clock: ReplayClock | None = None
    results: list[QueryResult] = field(default_factory=list)
    live: list[tuple[QueryResult, Pipeline]] = field(default_factory=list)
    closed: bool = False
    mode: str = "max"
    speed: float = 1.0
    #: Called with no arguments after every delivery and end of a feed (live views).
    listeners: list[Callable[[], None]] = field(default_factory=list)
    #: Called with the feed name and each frame delivered on it, before the queries see it.
    row_listeners: list[Callable[[str, pd.DataFrame], None]] = field(default_factory=list)
    #: The sink each INSERT INTO query writes to, by query name.
    query_sinks: dict[str, Any] = field(default_factory=dict)

    def run(
        self,
        results: list[QueryResult],
        *,
        mode: str = "max",
        speed: float = 1.0,
        progress: bool | None = None,
    ) -> None:
        """Run ``results`` to the end of their inputs."""
        self.prepare(results, mode=mode, speed=speed, progress=progress)
        if self.clock is not None:
            self.clock.run()
        self.finish()

    def prepare(
        self,
        results: list[QueryResult],
        *,
        mode: str = "max",
        speed: float = 1.0,
        progress: bool | None = None,
    ) -> None:
        self.results = list(results)
        self.mode = mode
        self.speed = speed
        feeds = self._build()
        if feeds:
            self.clock = self._new_clock(feeds, mode, speed, progress)

    def _new_clock(
        self, feeds: list[Feed], mode: str, speed: float, progress: bool | None
    ) -> ReplayClock:
        return ReplayClock(
            feeds,
            self._deliver,
            self._end,
            mode=mode,  # type: ignore[arg-type]
            speed=speed,
            batch_rows=self.settings.batch_rows,
            progress=progress,
            fail=self._fail_feed,
        )

    def _build(self) -> list[Feed]:
        pipelines: list[tuple[QueryResult, Pipeline]] = []
        values: dict[str, p.Values] = {}
        read = self._tables_read(self.results)
        for result in self.results:
            result.error = None
            result.status = "planned"
            conflict = self._sink_read_by_others(result, read)
            if conflict is not None:
                self._fail(result, conflict)
                continue
            pipeline = self._compile(result, values)
            if pipeline is not None:
                pipelines.append((result, pipeline))
        feeds = self._open_feeds(
            {feed for _, pipeline in pipelines for feed in pipeline.feeds}, values
        )
        for result, pipeline in pipelines:
            result.readers = [
                self.readers[feed] for feed in sorted(pipeline.feeds) if feed in self.readers
            ]
            for feed in pipeline.feeds:
                if feed in self.failed_feeds:
                    self._fail(result, self.failed_feeds[feed])
        self.live = [(result, pipeline) for result, pipeline in pipelines if result.error is None]
        for result, _ in self.live:
            result.status = "running"
        return feeds

    def _deliver(self, feed: str, frame: pd.DataFrame) -> None:
        for row_listener in list(self.row_listeners):
            row_listener(feed, frame)
        for result, pipeline in list(self.live):
            if feed in pipeline.feeds and result.error is None:
                error = pipeline.deliver(feed, frame)
                if error is not None:
                    self._fail(result, error)
        self._notify()

    def _end(self, feed: str) -> None:
        for result, pipeline in list(self.live):
            if feed in pipeline.feeds and result.error is None:
                error = pipeline.end(feed)
                if error is not None:
                    self._fail(result, error)
        self._notify()

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()

    def _fail_feed(self, feed: str, error: WorkbenchError) -> None:
        """Fail the queries that read ``feed`` after its reader failed."""
        for result, pipeline in self.live:
            if feed in pipeline.feeds:
                self._fail(result, error)

    def finish(self) -> None:
        """Mark the queries finished and close the sinks (once)."""
        if self.closed:
            return
        self.closed = True
        for result, pipeline in self.live:
            if result.error is None and (pipeline.finished or not pipeline.feeds):
                result.status = "finished"
        for sink in self.sinks:
            try:
                sink.close()
            except WorkbenchError as error:
                logger.error("closing sink %s failed: %s", getattr(sink, "name", "?"), error)

    def restart(self) -> None:
        """Start over: fresh operator state, empty results, every input from its start."""
        for sink in self.sinks:
            try:
                sink.close()
            except WorkbenchError as error:
                logger.error("closing sink %s failed: %s", getattr(sink, "name", "?"), error)
        self.sinks.clear()
        self.query_sinks.clear()
        self.readers.clear()
        self.failed_feeds.clear()
        self.closed = False
        clock = self.clock
        if clock is not None:
            # A run_async loop of the old clock returns instead of delivering
            # old rows into the new pipelines.
            clock.restart()
            self.mode, self.speed = clock.mode, clock.speed
        feeds = self._build()
        # The clock keeps its mode and speed; its feeds restart from the start.
        self.clock = (
            self._new_clock(feeds, self.mode, self.speed, False)
            if feeds or clock is not None
            else None
        )

    # Dynamic queries ----------------------------------------------------------------

    @property
    def ended(self) -> bool:
        """Whether every input has ended (or the job has finished)."""
        return self.closed or (self.clock is not None and self.clock.state == "ended")

    def add(self, result: QueryResult) -> None:
        """Add a planned query at the current position of the replay.

        The query sees the rows delivered from now on. Raises ValidationError
        when the replay has ended, when a query of that name is part of it, or
        when the query and an INSERT INTO of the replay would read and write
        the same table.
        """
        if self.ended:
            raise ValidationError(
                f"cannot add query {result.name!r}: the replay has ended",
                hint="start a new replay for it",
            )
        values: dict[str, p.Values] = {}
        pipeline = self._admit(result, values, job_kind="replay")
        if pipeline is None:
            return
        if not self._join_feeds(result, pipeline, values):
            return
        self.live.append((result, pipeline))
        result.status = "running"
        ended = set(self.clock.status().ended) if self.clock is not None else set()
        for feed in sorted(pipeline.feeds & ended):
            error = pipeline.end(feed)
            if error is not None:
                self._fail(result, error)
        if result.error is None and pipeline.finished:
            result.status = "finished"

    def _admit(
        self, result: QueryResult, values: dict[str, p.Values], *, job_kind: str
    ) -> Pipeline | None:
        """Register a query added to the running job and compile it.

        Returns None when the query failed, and ``result.error`` then contains the error.
        Raises ValidationError when a query of that name is part of the job
        or the query has no plan. ``job_kind`` names the job in that message.
        """
        if any(other.name == result.name for other in self.results):
            raise ValidationError(
                f"query {result.name!r} is already part of the {job_kind}",
                hint="replace it, or drop it first",
            )
        if result.plan is None:
            raise ValidationError(f"query {result.name!r} has no plan to run")
        self.plans[result.name] = result.plan
        result.error = None
        result.status = "planned"
        self.results.append(result)
        read = self._tables_read(self.results)
        conflict = self._sink_read_by_others(result, read) or self._reads_sink_of_others(result)
        if conflict is not None:
            self._fail(result, conflict)
            return None
        return self._compile(result, values)

    def replace(self, name: str, result: QueryResult) -> bool:
        """Put ``result`` in the place of query ``name``; return whether its state was kept.

        When the new plan equals the old one (the text changed only in
        whitespace, comments, ORDER BY or LIMIT of the display), the running
        operators, their state and the rows emitted so far move to the new
        result. Otherwise the old query is dropped and the new one starts at
        the current position with empty state.
        """
        old = self._find(name)
        if result.name != name:
            raise ValidationError(
                f"cannot replace query {name!r} with a query named {result.name!r}",
                hint="plan the new query under the same name",
            )
        entry = next(((r, pl) for r, pl in self.live if r is old), None)
        if entry is not None and old.error is None and old.plan == result.plan:
            _, pipeline = entry
            result.pipeline = pipeline
            result.collector = old.collector
            result.readers = old.readers
            result.status = old.status
            result.error = None
            self.live[self.live.index(entry)] = (result, pipeline)
            self.results[self.results.index(old)] = result
            self.plans[name] = pipeline.plan
            old.status = "stopped"
            return True
        self.drop(name)
        self.add(result)
        return False

    def drop(self, name: str) -> QueryResult:
        """Remove query ``name`` from the replay; the other queries go on undisturbed.

        The result keeps the rows emitted so far, with status 'stopped'
        (unless it had finished or failed). An INSERT INTO's sink is closed.
        """
        result = self._find(name)
        self.results.remove(result)
        self.live = [(r, pipeline) for r, pipeline in self.live if r is not result]
        self.plans.pop(name, None)
        sink = self.query_sinks.pop(name, None)
        if sink is not None:
            self.sinks.remove(sink)
            try:
                sink.close()
            except WorkbenchError as error:
                logger.error("closing sink %s failed: %s", getattr(sink, "name", "?"), error)
        if result.status in ("planned", "running"):
            result.status = "stopped"
        # NOTE: the replay goes on reading a table that no remaining query reads.
        return result

    def _find(self, name: str) -> QueryResult:
        for result in self.results:
            if result.name == name:
                return result
        known = ", ".join(repr(result.name) for result in self.results) or "none"
        raise ValidationError(
            f"query {name!r} is not part of the replay", hint=f"queries of the replay: {known}"
        )

    def _tables_read(self, results: list[QueryResult]) -> list[str]:
        return sorted(
            {
                node.table
                for result in results
                for node in p.walk(self.plans[result.name])
                if isinstance(node, p.Scan)
            }
        )

    def _reads_sink_of_others(self, result: QueryResult) -> WorkbenchError | None:
        """Return the error of a new query that reads a table an INSERT of the replay writes."""
        read = self._tables_read([result])
        for other in self.results:
            if other is result or other.sink is None or other.status not in ("running",):
                continue
            sink = self.catalog.lookup(other.sink)
            if isinstance(sink, TableDef) and shared_storage(self.catalog, sink, read):
                return ValidationError(
                    f"query {result.name!r} reads {sink.name!r}, which INSERT INTO query "
                    f"{other.name!r} of the same replay writes",
                    hint="run the query after the replay that writes the table has ended",
                )
        return None

    def _join_feeds(
        self, result: QueryResult, pipeline: Pipeline, values: dict[str, p.Values]
    ) -> bool:
        """Open the inputs of an added query that the replay does not read yet.

        Returns False when one of them cannot be read, and the query has failed.
        """
        missing = {feed for feed in pipeline.feeds if feed not in self.readers}
        missing -= set(self.failed_feeds)
        feeds = self._open_feeds(missing, values)
        if feeds and self.clock is None:
            self.clock = self._new_clock(feeds, self.mode, self.speed, False)
        elif self.clock is not None:
            for feed in feeds:
                self.clock.add_feed(feed)
        result.readers = [
            self.readers[feed] for feed in sorted(pipeline.feeds) if feed in self.readers
        ]
        for name in pipeline.feeds:
            if name in self.failed_feeds:
                self._fail(result, self.failed_feeds[name])
                return False
        return True

    # Building ------------------------------------------------------------------------

    def _compile(self, result: QueryResult, values: dict[str, p.Values]) -> Pipeline | None:
        plan = self.plans[result.name]
        feed_of = partial(_feed_name, result.name)
        for node in p.walk(plan):
            if isinstance(node, p.Values):
                values[feed_of(node)] = node
        writers: list[Callable[[pd.DataFrame], None]] = []
        # A 'memory' sink keeps the rows on the result; other sinks only receive them.
        keep = result.sink is None or self._sink_connector(result) == "memory"
        if result.sink is not None and not keep:
            sink = self._open_sink(result)
            if sink is None:
                return None
            writers.append(_guarded(sink, result))
        collector = ResultCollector(
            result.schema, updating=result.updating, writers=writers, keep=keep
        )
        compiler = Compiler(
            result.name,
            time_zone=self.settings.time_zone,
            user_aggregates=self.user_aggregates,
            feed_of=feed_of,
            max_partial_matches=self.settings.max_partial_matches,
        )
        pipeline = compiler.compile(plan, collector)
        early = self.settings.early_fire
        if early is not None:
            for operator in pipeline.operators:
                if isinstance(operator, WindowAggregateOperator | SessionWindowOperator):
                    operator.early = EarlyFire(*early)
        result.pipeline = pipeline
        result.collector = collector
        return pipeline

    def _sink_read_by_others(self, result: QueryResult, read: list[str]) -> WorkbenchError | None:
        """Return the error of an INSERT whose sink another query of this replay reads.

        Opening the sink would truncate what that query is reading, so the
        INSERT fails before its sink opens.
        """
        sink = self.catalog.lookup(result.sink) if result.sink is not None else None
        if not isinstance(sink, TableDef):
            return None
        name = shared_storage(self.catalog, sink, read)
        if name is None:
            return None
        return ValidationError(
            f"INSERT INTO {sink.name!r} would overwrite {name!r}, which another query "
            "of the same replay reads",
            hint="run the INSERT INTO and the queries that read its table separately",
        )

    def _sink_connector(self, result: QueryResult) -> str | None:
        table = self.catalog.lookup(result.sink) if result.sink is not None else None
        return table.options.get("connector") if isinstance(table, TableDef) else None

    def _open_sink(self, result: QueryResult) -> Any:
        assert result.sink is not None
        table = self.catalog.lookup(result.sink)
        assert isinstance(table, TableDef)
        try:
            sink = open_sink(
                table.name,
                table.options,
                table.physical,
                base_dir=self.base_dir,
                primary_key=table.primary_key,
            )
            sink.open(table.physical)
        except WorkbenchError as error:
            self._fail(result, error)
            return None
        self.sinks.append(sink)
        self.query_sinks[result.name] = sink
        return sink

    def _open_feeds(self, names: set[str], values: dict[str, p.Values]) -> list[Feed]:
        feeds: list[Feed] = []
        for name in sorted(names):
            try:
                reader, time_column = self._reader(name, values)
            except SourceError as error:
                self.failed_feeds[name] = error
                logger.error("cannot read %s: %s", name, error, extra=STORED_ON_RESULT)
                continue
            self.readers[name] = reader
            feeds.append(Feed(name, reader, time_column))
        return feeds

    def _reader(self, name: str, values: dict[str, p.Values]) -> tuple[Reader, str | None]:
        chunk_rows = self.settings.batch_rows
        if name in values:
            node = values[name]
            frame = pd.DataFrame(list(node.rows), columns=node.schema.names)
            return DataFrameReader(name, frame, node.schema, chunk_rows), None
        table = self.catalog.lookup(name)
        if not isinstance(table, TableDef):
            raise SourceError(f"table {name!r} was dropped while a query still reads it")
        time_column = None
        if table.watermark is not None and table.physical.find(table.watermark.column) is not None:
            time_column = table.watermark.column
        reader: Reader
        if table.frame is not None:
            reader = DataFrameReader(name, table.frame, table.physical, chunk_rows, positions=True)
            return reader, time_column
        reader = open_reader(
            table.name,
            table.options,
            table.physical,
            chunk_rows=chunk_rows,
            base_dir=self.base_dir,
            positions=True,
        )
        return reader, time_column

    def _fail(self, result: QueryResult, error: WorkbenchError) -> None:
        if result.error is None:
            result.error = error
            result.status = "failed"
            logger.error("query %s failed: %s", result.name, error, extra=STORED_ON_RESULT)
        if result.pipeline is not None and result.pipeline.error is None:
            result.pipeline.error = error


class Replay:
    """Control over a running replay: step through it, pause, resume, restart, change speed.

    Query results read while a replay is under way show the rows emitted so far.
    """

    def __init__(self, job: Job) -> None:
        self.job = job

    @property
    def results(self) -> list[QueryResult]:
        return list(self.job.results)

    def _clock(self) -> ReplayClock | None:
        return self.job.clock

    def _settle(self) -> None:
        clock = self._clock()
        if clock is None or clock.state == "ended":
            self.job.finish()

    def step(self, rows: int = 1) -> int:
        """Deliver the next ``rows`` input rows in event-time order; return how many moved."""
        clock = self._clock()
        delivered = clock.step(rows) if clock is not None else 0
        self._settle()
        return delivered

    def run(self) -> None:
        """Deliver until every input has ended (or :meth:`pause` is called from a callback)."""
        clock = self._clock()
        if clock is not None:
            if clock.mode == "step":
                clock.mode = "max"
            clock.run()
        self._settle()

    async def run_async(self) -> None:
        """Deliver on the running asyncio loop, yielding between batches."""
        clock = self._clock()
        if clock is not None:
            if clock.mode == "step":
                clock.mode = "max"
            await clock.run_async()
        self._settle()

    def pause(self) -> None:
        clock = self._clock()
        if clock is not None:
            clock.pause()

    def resume(self) -> None:
        clock = self._clock()
        if clock is not None:
            clock.resume()
        self._settle()

    def restart(self) -> None:
        """Replay from the beginning: results are cleared and operator state starts empty."""
        self.job.restart()

    def set_speed(self, speed: float) -> None:
        """Pace the replay at ``speed`` times real time (event time per wall-clock time)."""
        check_speed(speed)
        clock = self._clock()
        if clock is not None:
            clock.mode = "realtime"
            clock.set_speed(speed)

    def set_mode(self, mode: str) -> None:
        """Switch between 'max', 'realtime' (at the current speed) and 'step'."""
        if mode not in ("max", "realtime", "step"):
            raise ValidationError(f"invalid replay mode {mode!r}: use 'step', 'max' or 'realtime'")
        self.job.mode = mode
        clock = self._clock()
        if clock is not None:
            clock.mode = mode  # type: ignore[assignment]

    def status(self) -> ReplayStatus | None:
        clock = self._clock()
        return clock.status() if clock is not None else None

    @property
    def ended(self) -> bool:
        """Whether every input has been replayed to its end."""
        clock = self._clock()
        return self.job.closed or clock is None or clock.state == "ended"

    # Dynamic queries ----------------------------------------------------------------

    def add(self, result: QueryResult) -> None:
        """Add a planned query (a result of ``Session.sql``) at the current position.

        It sees the rows delivered from now on, not the rows before. A table
        that the replay did not read yet is read from its first row.
        """
        self.job.add(result)

    def replace(self, name: str, result: QueryResult) -> bool:
        """Replace query ``name`` with ``result``, planned under the same name.

        Returns True when the plans are equal and the running state (and the
        rows emitted so far) were kept, False when the old query was dropped
        and the new one starts at the current position with empty state.
        """
        return self.job.replace(name, result)

    def drop(self, name: str) -> QueryResult:
        """Remove query ``name``; its result keeps the rows emitted so far."""
        return self.job.drop(name)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every delivery of rows and every end of an input."""
        self.job.listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        if listener in self.job.listeners:
            self.job.listeners.remove(listener)


def check_speed(speed: float) -> None:
    """Raise ValidationError unless ``speed`` is a finite factor of real time above 0."""
    if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
        raise ValidationError(
            f"invalid replay speed {speed!r}: use a finite number above 0 (1 = real time)"
        )


def _feed_name(query: str, node: p.PlanNode) -> str:
    """Return the feed of an input: the table, or the query's own inline VALUES rows.

    Every query numbers its VALUES lists from 1, so their feed names carry
    the query name to keep the lists of different queries apart.
    """
    if isinstance(node, p.Scan):
        return node.table
    if isinstance(node, p.Values):
        return f"{query}:{node.source_name}"
    raise TypeError(f"{type(node).__name__} is not an input")


def _guarded(sink: Any, result: QueryResult) -> Callable[[pd.DataFrame], None]:
    """Return a writer that turns a sink failure into the query's error, naming the query."""

    def write(frame: pd.DataFrame) -> None:
        try:
            sink.write(frame)
        except SinkError as error:
            raise SinkError(f"query {result.name!r}: {error}") from error
        except Exception as error:
            raise QueryRuntimeError(
                f"writing to sink {result.sink!r} failed: {error}", query=result.name
            ) from error

    return write
