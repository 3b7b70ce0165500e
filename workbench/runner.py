"""Running queries: open their inputs and sinks, replay the inputs, collect results.

Several queries run in one replay: each table is read once and its rows go
to every query that reads it. A query that fails (a bad input file, an
operator error, a sink that rejects a write) stops alone; the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.errors import QueryRuntimeError, SinkError, SourceError, WorkbenchError
from workbench.runtime.pipeline import Compiler, Pipeline
from workbench.runtime.results import ResultCollector
from workbench.sinks import open_sink
from workbench.sources import DataFrameReader, Feed, Reader, ReplayClock, open_reader
from workbench.sql import plan as p
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.catalog import Catalog, TableDef

if TYPE_CHECKING:
    from workbench.results import QueryResult
    from workbench.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Job:
    """The queries of one replay and the inputs they share."""

    catalog: Catalog
    settings: Settings
    base_dir: Path
    user_aggregates: dict[str, UserAggregateDef]
    plans: dict[str, p.PlanNode]
    readers: dict[str, Reader] = field(default_factory=dict)
    failed_feeds: dict[str, WorkbenchError] = field(default_factory=dict)
    sinks: list[Any] = field(default_factory=list)
    clock: ReplayClock | None = None

    def run(
        self,
        results: list[QueryResult],
        *,
        mode: str = "max",
        speed: float = 1.0,
        progress: bool | None = None,
    ) -> None:
        pipelines: list[tuple[QueryResult, Pipeline]] = []
        values: dict[str, p.Values] = {}
        for result in results:
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
        live = [(result, pipeline) for result, pipeline in pipelines if result.error is None]
        for result, _ in live:
            result.status = "running"

        def deliver(feed: str, frame: pd.DataFrame) -> None:
            for result, pipeline in live:
                if feed in pipeline.feeds and result.error is None:
                    error = pipeline.deliver(feed, frame)
                    if error is not None:
                        self._fail(result, error)

        def end(feed: str) -> None:
            for result, pipeline in live:
                if feed in pipeline.feeds and result.error is None:
                    error = pipeline.end(feed)
                    if error is not None:
                        self._fail(result, error)

        if feeds:
            self.clock = ReplayClock(
                feeds,
                deliver,
                end,
                mode=mode,  # type: ignore[arg-type]
                speed=speed,
                batch_rows=self.settings.batch_rows,
                progress=progress,
            )
            self.clock.run()
        for result, _ in live:
            if result.error is None:
                result.status = "finished"
        for sink in self.sinks:
            try:
                sink.close()
            except WorkbenchError as error:
                logger.error("closing sink %s failed: %s", getattr(sink, "name", "?"), error)

    # Building ------------------------------------------------------------------------

    def _compile(self, result: QueryResult, values: dict[str, p.Values]) -> Pipeline | None:
        plan = self.plans[result.name]
        for node in p.walk(plan):
            if isinstance(node, p.Values):
                values[node.source_name] = node
        writers: list[Callable[[pd.DataFrame], None]] = []
        if result.sink is not None:
            sink = self._open_sink(result)
            if sink is None:
                return None
            writers.append(_guarded(sink, result))
        collector = ResultCollector(
            result.schema, updating=result.updating, writers=writers, keep=result.sink is None
        )
        compiler = Compiler(
            result.name,
            time_zone=self.settings.time_zone,
            user_aggregates=self.user_aggregates,
            feed_of=_feed_name,
        )
        pipeline = compiler.compile(plan, collector)
        result.pipeline = pipeline
        result.collector = collector
        return pipeline

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
                logger.error("cannot read %s: %s", name, error)
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
        if table.frame is not None:
            return DataFrameReader(name, table.frame, table.physical, chunk_rows), time_column
        reader = open_reader(
            table.name, table.options, table.physical, chunk_rows=chunk_rows, base_dir=self.base_dir
        )
        return reader, time_column

    def _fail(self, result: QueryResult, error: WorkbenchError) -> None:
        if result.error is None:
            result.error = error
            result.status = "failed"
            logger.error("query %s failed: %s", result.name, error)
        if result.pipeline is not None and result.pipeline.error is None:
            result.pipeline.error = error


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
