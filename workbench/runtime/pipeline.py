"""Compile a logical plan into operators wired as a streamz graph.

Each plan node becomes one operator inside one streamz node; batches, not
single events, travel along the graph. Table scans are the entry points: the
replay hands each chunk read from a table to every scan of that table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd
from streamz import Stream

from workbench.errors import QueryRuntimeError, WorkbenchError
from workbench.events.batch import Batch
from workbench.events.types import TypeKind
from workbench.runtime import kernels
from workbench.runtime.calc import CalcOperator
from workbench.runtime.group_aggregate import GroupAggregateOperator
from workbench.runtime.interval_join import IntervalJoinOperator
from workbench.runtime.lateral import LateralJoinOperator
from workbench.runtime.lookup_join import LookupJoinOperator
from workbench.runtime.match_recognize import MatchRecognizeOperator
from workbench.runtime.operator import Operator
from workbench.runtime.over_aggregate import OverAggregateOperator
from workbench.runtime.regular_join import RegularJoinOperator
from workbench.runtime.results import ResultCollector
from workbench.runtime.scan import ScanOperator
from workbench.runtime.session_window import SessionWindowOperator
from workbench.runtime.temporal_join import TemporalJoinOperator
from workbench.runtime.union import UnionOperator
from workbench.runtime.unnest import UnnestOperator
from workbench.runtime.window_aggregate import WindowAggregateOperator
from workbench.runtime.window_join import WindowJoinOperator
from workbench.runtime.window_rank import WindowRankOperator
from workbench.runtime.window_table import WindowTableOperator
from workbench.sql import plan as p
from workbench.sql.aggregates import UserAggregateDef

logger = logging.getLogger(__name__)


class OperatorNode(Stream):  # type: ignore[misc]
    """A streamz node that runs one operator on every batch it receives."""

    def __init__(self, upstreams: list[Stream], operator: Operator, query: str) -> None:
        self.operator = operator
        self.query = query
        super().__init__(upstreams=upstreams, stream_name=operator.name)

    def update(self, x: Batch, who: Stream | None = None, metadata: Any = None) -> list[Any]:
        port = next((index for index, upstream in enumerate(self.upstreams) if upstream is who), 0)
        try:
            outputs = self.operator.on_batch(x, port)
        except QueryRuntimeError as error:
            raise error.located(self.query, self.operator.name) from error
        except WorkbenchError:
            raise
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            raise QueryRuntimeError(
                message, query=self.query, operator=self.operator.name
            ) from error
        results: list[Any] = []
        for output in outputs:
            results.extend(self._emit(output) or [])
        return results


@dataclass
class Entry:
    """A scan: where the rows of one table enter a query's graph."""

    feed: str
    operator: ScanOperator
    stream: Stream


@dataclass
class Pipeline:
    """The running graph of one query: operators, entries, and its result."""

    name: str
    plan: p.PlanNode
    collector: ResultCollector
    operators: list[Operator] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    nodes: list[Stream] = field(default_factory=list)
    error: WorkbenchError | None = None
    ended_feeds: set[str] = field(default_factory=set)

    @property
    def feeds(self) -> set[str]:
        return {entry.feed for entry in self.entries}

    @property
    def finished(self) -> bool:
        return self.collector.finished or self.error is not None

    def deliver(self, feed: str, frame: pd.DataFrame) -> WorkbenchError | None:
        """Push one chunk of a table's rows through every scan of that table.

        Returns the error that stopped the query, if it failed now or before.
        """
        if self.error is not None:
            return self.error
        for entry in self.entries:
            if entry.feed == feed and self.error is None:
                self._run(entry, partial(entry.operator.ingest, frame))
        return self.error

    def end(self, feed: str) -> WorkbenchError | None:
        """Signal that a table has no more rows: its watermark jumps to the end."""
        if self.error is not None or feed in self.ended_feeds:
            return self.error
        self.ended_feeds.add(feed)
        for entry in self.entries:
            if entry.feed == feed and self.error is None:
                self._run(entry, entry.operator.finish)
        return self.error

    def advance(self, feed: str, event_time_ns: int) -> WorkbenchError | None:
        """Move the watermark of a quiet live table as if an event of ``event_time_ns`` had come.

        Returns the error that stopped the query, if any.
        """
        if self.error is not None or feed in self.ended_feeds:
            return self.error
        for entry in self.entries:
            if entry.feed == feed and self.error is None:
                batch = entry.operator.advance(event_time_ns)
                if batch is not None:
                    self._run(entry, partial(_same, batch))
        return self.error

    def snapshot(self) -> dict[str, Any]:
        """Return the state of every operator, by operator name, as plain picklable data."""
        return {operator.name: operator.snapshot() for operator in self.operators}

    def restore(self, state: dict[str, Any]) -> None:
        """Load operator states taken by :meth:`snapshot` from a pipeline of the same plan."""
        for operator in self.operators:
            operator.restore(state[operator.name])

    def _run(self, entry: Entry, make_batch: Callable[[], Batch]) -> None:
        try:
            entry.stream.emit(make_batch())
        except WorkbenchError as error:
            # The caller receives the error from deliver() or end(), and the job
            # that runs the query logs it once, so it is only debug output here.
            self.error = error
            logger.debug("query %s failed: %s", self.name, error)


class Compiler:
    """Build the operators of a plan, naming each one after its kind and position."""

    def __init__(
        self,
        query: str,
        *,
        time_zone: str = "UTC",
        user_aggregates: dict[str, UserAggregateDef] | None = None,
        feed_of: Callable[[p.PlanNode], str],
        max_partial_matches: int = 100_000,
    ) -> None:
        self.query = query
        self.max_partial_matches = max_partial_matches
        self.time_zone = time_zone
        self.user_aggregates = user_aggregates or {}
        self.feed_of = feed_of
        self.counter = 0
        self.pipeline: Pipeline | None = None

    def compile(self, plan: p.PlanNode, collector: ResultCollector) -> Pipeline:
        kernels.compile_all()
        pipeline = Pipeline(self.query, plan, collector)
        self.pipeline = pipeline
        root = self._build(plan)
        sink = root.sink(collector.process)
        pipeline.nodes.append(sink)
        return pipeline

    def _name(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}-{self.counter}"

    def _build(self, node: p.PlanNode) -> Stream:
        assert self.pipeline is not None
        if isinstance(node, (p.Scan, p.Values)):
            return self._entry(node)
        upstreams = [self._build(child) for child in node.inputs()]
        operator = self._operator(node)
        if isinstance(operator, CalcOperator):
            _fold_renames(operator, upstreams)
        stream = OperatorNode(upstreams, operator, self.query)
        self.pipeline.operators.append(operator)
        self.pipeline.nodes.append(stream)
        return stream

    def _entry(self, node: p.Scan | p.Values) -> Stream:
        assert self.pipeline is not None
        scan_node = (
            node
            if isinstance(node, p.Scan)
            else p.Scan(schema=node.schema, table=node.source_name, physical=node.schema)
        )
        operator = ScanOperator(self._name("scan"), scan_node, self.time_zone)
        stream = Stream(stream_name=operator.name)
        self.pipeline.entries.append(Entry(self.feed_of(node), operator, stream))
        self.pipeline.operators.append(operator)
        self.pipeline.nodes.append(stream)
        return stream

    def _zone(self, node: p.PlanNode) -> str | None:
        """Return the time zone windows align to: the session's for TIMESTAMP_LTZ time."""
        column = node.schema.find("window_time")
        if column is not None and column.type.kind is TypeKind.TIMESTAMP_LTZ:
            return self.time_zone
        return None

    def _operator(self, node: p.PlanNode) -> Operator:
        aggregates = self.user_aggregates
        if isinstance(node, p.Calc):
            return CalcOperator(self._name("calc"), node, self.time_zone)
        if isinstance(node, p.WindowAggregate):
            if node.window is not None and node.window.kind == "SESSION":
                return SessionWindowOperator(
                    self._name("session-aggregate"),
                    node,
                    node.input.schema,
                    aggregates,
                    self._zone(node),
                )
            return WindowAggregateOperator(
                self._name("window-aggregate"),
                node,
                node.input.schema,
                aggregates,
                self._zone(node),
            )
        if isinstance(node, p.WindowTableFunction):
            if node.window.kind == "SESSION":
                return SessionWindowOperator(
                    self._name("session-window"), node, node.input.schema, zone=self._zone(node)
                )
            return WindowTableOperator(
                self._name("window"), node, node.input.schema, self._zone(node)
            )
        if isinstance(node, p.GroupAggregate):
            return GroupAggregateOperator(
                self._name("group-aggregate"), node, node.input.schema, aggregates
            )
        if isinstance(node, p.WindowRank):
            return WindowRankOperator(
                self._name("window-rank"), node, node.input.schema, self._zone(node)
            )
        if isinstance(node, p.OverAggregate):
            return OverAggregateOperator(self._name("over-aggregate"), node, node.input.schema)
        if isinstance(node, p.Union):
            return UnionOperator(self._name("union"), node)
        if isinstance(node, p.IntervalJoin):
            return IntervalJoinOperator(self._name("interval-join"), node, self.time_zone)
        if isinstance(node, p.LookupJoin):
            return LookupJoinOperator(self._name("lookup-join"), node, self.time_zone)
        if isinstance(node, p.TemporalJoin):
            return TemporalJoinOperator(self._name("temporal-join"), node, self.time_zone)
        if isinstance(node, p.RegularJoin):
            return RegularJoinOperator(self._name("join"), node, self.time_zone)
        if isinstance(node, p.Unnest):
            return UnnestOperator(self._name("unnest"), node, self.time_zone)
        if isinstance(node, p.LateralJoin):
            return LateralJoinOperator(self._name("lateral"), node, self.time_zone)
        if isinstance(node, p.WindowJoin):
            return WindowJoinOperator(
                self._name("window-join"), node, self.time_zone, self._zone(node)
            )
        if isinstance(node, p.MatchRecognize):
            return MatchRecognizeOperator(
                self._name("match-recognize"),
                node,
                node.input.schema,
                self.time_zone,
                self.max_partial_matches,
            )
        raise QueryRuntimeError(
            f"no operator for plan step {type(node).__name__}", query=self.query
        )


def _same(batch: Batch) -> Batch:
    return batch


def _fold_renames(calc: CalcOperator, upstreams: list[Stream]) -> None:
    """Let a window aggregate emit a renaming projection's columns itself.

    The aggregate then builds its output frame once, in the projection's names
    and order, and the projection passes it through.
    """
    if calc.renames is None or calc.node.predicate is not None or len(upstreams) != 1:
        return
    upstream = upstreams[0]
    if not isinstance(upstream, OperatorNode):
        return
    aggregate = upstream.operator
    if isinstance(aggregate, WindowAggregateOperator):
        aggregate.project_output(calc.output_schema, list(calc.renames.values()))
        calc.passthrough = True
