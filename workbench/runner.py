"""Running queries: open their inputs and sinks, replay the inputs, collect results.

Several queries run in one replay: each table is read once and its rows go
to every query that reads it. A query that fails (a bad input file, an
operator error, a sink that rejects a write) stops alone; the others go on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
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
from workbench.runtime.pipeline import Compiler, Pipeline
from workbench.runtime.results import ResultCollector
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
        feeds = self._build()
        if feeds:
            self.clock = ReplayClock(
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
        read = sorted(
            {
                node.table
                for result in self.results
                for node in p.walk(self.plans[result.name])
                if isinstance(node, p.Scan)
            }
        )
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
        for result, pipeline in self.live:
            if feed in pipeline.feeds and result.error is None:
                error = pipeline.deliver(feed, frame)
                if error is not None:
                    self._fail(result, error)

    def _end(self, feed: str) -> None:
        for result, pipeline in self.live:
            if feed in pipeline.feeds and result.error is None:
                error = pipeline.end(feed)
                if error is not None:
                    self._fail(result, error)

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
        self.readers.clear()
        self.failed_feeds.clear()
        self.closed = False
        clock = self.clock
        feeds = self._build()
        if clock is not None:
            # The clock keeps its mode and speed; its feeds restart from the start.
            self.clock = ReplayClock(
                feeds,
                self._deliver,
                self._end,
                mode=clock.mode,
                speed=clock.speed,
                batch_rows=self.settings.batch_rows,
                progress=False,
                fail=self._fail_feed,
            )

    # Building ------------------------------------------------------------------------

    def _compile(self, result: QueryResult, values: dict[str, p.Values]) -> Pipeline | None:
        plan = self.plans[result.name]
        for node in p.walk(plan):
            if isinstance(node, p.Values):
                values[node.source_name] = node
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
            feed_of=_feed_name,
            max_partial_matches=self.settings.max_partial_matches,
        )
        pipeline = compiler.compile(plan, collector)
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
            sink = open_sink(table.name, table.options, table.physical, base_dir=self.base_dir)
            sink.open(table.physical)
        except WorkbenchError as error:
            self._fail(result, error)
            return None
        self.sinks.append(sink)
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

    def status(self) -> ReplayStatus | None:
        clock = self._clock()
        return clock.status() if clock is not None else None


def check_speed(speed: float) -> None:
    """Raise ValidationError unless ``speed`` is a finite factor of real time above 0."""
    if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
        raise ValidationError(
            f"invalid replay speed {speed!r}: use a finite number above 0 (1 = real time)"
        )


def _feed_name(node: p.PlanNode) -> str:
    if isinstance(node, p.Scan):
        return node.table
    if isinstance(node, p.Values):
        return node.source_name
    raise TypeError(f"{type(node).__name__} is not an input")


def _guarded(sink: Any, result: QueryResult) -> Callable[[pd.DataFrame], None]:
    """Return a writer that turns a sink failure into the query's error."""

    def write(frame: pd.DataFrame) -> None:
        try:
            sink.write(frame)
        except SinkError:
            raise
        except Exception as error:
            raise QueryRuntimeError(
                f"writing to sink {result.sink!r} failed: {error}", query=result.name
            ) from error

    return write
