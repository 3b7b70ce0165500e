"""The logical plan: a tree of relational steps with typed output schemas.

The planner builds these nodes from SQL; the runtime compiles each node into
one physical operator. Nodes are frozen and hold only names, types and
compiled expressions, so a plan pickles and prints (EXPLAIN) the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.events.schema import Schema
from workbench.events.time import format_duration
from workbench.events.types import DataType
from workbench.sql.expr import Expr
from workbench.sql.match import MatchExpression, MatchSpec, Ordering

WindowKind = Literal["TUMBLE", "HOP", "CUMULATE", "SESSION"]


@dataclass(frozen=True)
class WindowSpec:
    """A window assignment: kind, time column and sizes in nanoseconds.

    ``precision_ns`` is one unit of the time column's precision (1 ms for
    TIMESTAMP(3)). A window [start, end) has ``window_time = end - precision``
    and fires once the watermark reaches ``window_time``, as in Flink.
    """

    kind: WindowKind
    time_column: str
    size_ns: int = 0
    slide_ns: int = 0
    step_ns: int = 0
    offset_ns: int = 0
    gap_ns: int = 0
    partition_keys: tuple[str, ...] = ()
    precision_ns: int = 1_000_000
    #: Windows over a PROCTIME column fire by the wall clock; no row is late.
    processing_time: bool = False

    def describe(self) -> str:
        if self.kind == "TUMBLE":
            text = f"TUMBLE(time_col=[{self.time_column}], size=[{format_duration(self.size_ns)}]"
        elif self.kind == "HOP":
            text = (
                f"HOP(time_col=[{self.time_column}], slide=[{format_duration(self.slide_ns)}], "
                f"size=[{format_duration(self.size_ns)}]"
            )
        elif self.kind == "CUMULATE":
            text = (
                f"CUMULATE(time_col=[{self.time_column}], step=[{format_duration(self.step_ns)}], "
                f"max_size=[{format_duration(self.size_ns)}]"
            )
        else:
            keys = (
                f"partition_keys=[{', '.join(self.partition_keys)}], "
                if self.partition_keys
                else ""
            )
            text = (
                f"SESSION(time_col=[{self.time_column}], {keys}gap=[{format_duration(self.gap_ns)}]"
            )
        if self.offset_ns:
            text += f", offset=[{format_duration(self.offset_ns)}]"
        if self.processing_time:
            text += ", processing_time=[true]"
        return text + ")"


@dataclass(frozen=True)
class AggCall:
    """One aggregate of an aggregation step, reading columns of the step's input."""

    function: str
    args: tuple[str, ...]
    output: str
    type: DataType
    distinct: bool = False
    filter: str | None = None
    #: Literal arguments after the column arguments (a percentile, a separator).
    constants: tuple[Any, ...] = ()

    def describe(self) -> str:
        inner = ", ".join(self.args) if self.args else "*"
        if self.distinct:
            inner = "DISTINCT " + inner
        if self.constants:
            inner += ", " + ", ".join(repr(value) for value in self.constants)
        text = f"{self.function}({inner})"
        if self.filter:
            text += f" FILTER (WHERE {self.filter})"
        return f"{text} AS {self.output}"


@dataclass(frozen=True)
class PlanNode:
    schema: Schema

    def inputs(self) -> tuple[PlanNode, ...]:
        return ()

    def label(self) -> str:
        return type(self).__name__

    def explain(self, indent: int = 0) -> str:
        """Render this subtree as indented text, one step per line (EXPLAIN's format)."""
        prefix = "" if indent == 0 else "   " * (indent - 1) + "+- "
        lines = [prefix + self.label()]
        lines.extend(child.explain(indent + 1) for child in self.inputs())
        return "\n".join(lines)

    @property
    def updating(self) -> bool:
        """Whether this step emits updates (a changelog) rather than only inserts."""
        return any(child.updating for child in self.inputs())


@dataclass(frozen=True)
class WatermarkSpec:
    """Bounded out-of-orderness: the watermark is max(event time) - delay."""

    column: str
    delay_ns: int
    text: str


@dataclass(frozen=True)
class Scan(PlanNode):
    """Read a catalog table. ``computed`` columns are evaluated on read."""

    table: str
    physical: Schema = field(default_factory=lambda: Schema(()))
    computed: tuple[tuple[str, Expr], ...] = ()
    watermark: WatermarkSpec | None = None
    proctime: str | None = None

    def label(self) -> str:
        text = f"Scan(table=[{self.table}], fields=[{', '.join(self.schema.names)}]"
        if self.watermark:
            text += f", watermark=[{self.watermark.text}]"
        return text + ")"


@dataclass(frozen=True)
class Values(PlanNode):
    """An inline VALUES table: a bounded input without event time."""

    rows: tuple[tuple[Any, ...], ...]
    source_name: str = "values"

    def label(self) -> str:
        return f"Values(rows=[{len(self.rows)}], fields=[{', '.join(self.schema.names)}])"


@dataclass(frozen=True)
class Calc(PlanNode):
    """Filter, then project: vectorized over each batch."""

    input: PlanNode
    projections: tuple[tuple[str, Expr], ...]
    predicate: Expr | None = None

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        select = ", ".join(
            name if str(expr) == name else f"{expr} AS {name}" for name, expr in self.projections
        )
        where = f", where=[{self.predicate}]" if self.predicate is not None else ""
        return f"Calc(select=[{select}]{where})"


@dataclass(frozen=True)
class WindowTableFunction(PlanNode):
    """A window TVF on its own: each row once per window it belongs to."""

    input: PlanNode
    window: WindowSpec

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return f"WindowTableFunction(window=[{self.window.describe()}])"


@dataclass(frozen=True)
class WindowAggregate(PlanNode):
    """Aggregation per window and key, emitted once when the window fires.

    With ``window`` set, the step assigns windows itself from the time column.
    With ``window`` None, the input already carries ``window_start`` and
    ``window_end`` columns (a cascade of windowed queries).
    """

    input: PlanNode
    window: WindowSpec | None
    keys: tuple[str, ...]
    aggregates: tuple[AggCall, ...]
    grouping_sets: tuple[tuple[str, ...], ...] | None = None
    window_start_column: str = "window_start"
    window_end_column: str = "window_end"
    precision_ns: int = 1_000_000

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        window = (
            self.window.describe()
            if self.window
            else f"[{self.window_start_column}, {self.window_end_column})"
        )
        sets = ""
        if self.grouping_sets is not None:
            sets = (
                ", grouping_sets=["
                + ", ".join("(" + ", ".join(s) + ")" for s in self.grouping_sets)
                + "]"
            )
        aggs = ", ".join(call.describe() for call in self.aggregates)
        return f"WindowAggregate(window=[{window}], groupBy=[{', '.join(self.keys)}]{sets}, select=[{aggs}])"


@dataclass(frozen=True)
class GroupAggregate(PlanNode):
    """Aggregation without windows: emits an updated row per changed group."""

    input: PlanNode
    keys: tuple[str, ...]
    aggregates: tuple[AggCall, ...]
    grouping_sets: tuple[tuple[str, ...], ...] | None = None

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    @property
    def updating(self) -> bool:
        return True

    def label(self) -> str:
        aggs = ", ".join(call.describe() for call in self.aggregates)
        sets = ""
        if self.grouping_sets is not None:
            sets = (
                ", grouping_sets=["
                + ", ".join("(" + ", ".join(s) + ")" for s in self.grouping_sets)
                + "]"
            )
        return f"GroupAggregate(groupBy=[{', '.join(self.keys)}]{sets}, select=[{aggs}], changelog=[+I, -U, +U])"


@dataclass(frozen=True)
class SortKey:
    column: str
    ascending: bool = True
    nulls_first: bool = False

    def describe(self) -> str:
        return f"{self.column} {'ASC' if self.ascending else 'DESC'}"


@dataclass(frozen=True)
class WindowRank(PlanNode):
    """Window Top-N: rank rows per window (and partition), keep ranks in [min_rank, max_rank].

    With ``window`` set, rows are assigned to windows here (Top-N directly on
    a window TVF); otherwise the input has window_start/window_end columns.
    """

    input: PlanNode
    window: WindowSpec | None
    partition_keys: tuple[str, ...]
    order: tuple[SortKey, ...]
    function: str
    rank_column: str | None
    max_rank: int | None
    min_rank: int = 1
    window_start_column: str = "window_start"
    window_end_column: str = "window_end"
    precision_ns: int = 1_000_000

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        window = (
            self.window.describe()
            if self.window
            else f"[{self.window_start_column}, {self.window_end_column})"
        )
        order = ", ".join(key.describe() for key in self.order)
        limit = f"rankRange=[{self.min_rank}, {self.max_rank}]"
        column = f", rankColumn=[{self.rank_column}]" if self.rank_column else ""
        return (
            f"WindowRank(window=[{window}], {self.function}, partitionBy=[{', '.join(self.partition_keys)}], "
            f"orderBy=[{order}], {limit}{column})"
        )


@dataclass(frozen=True)
class OverFrame:
    """An OVER frame ending at the current row: ROWS n PRECEDING or RANGE interval PRECEDING."""

    kind: Literal["ROWS", "RANGE"]
    #: Rows (ROWS) or nanoseconds (RANGE) before the current row; None means UNBOUNDED.
    preceding: int | None

    def describe(self) -> str:
        if self.preceding is None:
            amount = "UNBOUNDED"
        elif self.kind == "RANGE":
            amount = format_duration(self.preceding)
        else:
            amount = str(self.preceding)
        return f"{self.kind} BETWEEN {amount} PRECEDING AND CURRENT ROW"


@dataclass(frozen=True)
class OverAggregate(PlanNode):
    """OVER aggregations ordered by event time: each row with aggregates over its frame."""

    input: PlanNode
    partition_keys: tuple[str, ...]
    time_column: str
    frame: OverFrame
    aggregates: tuple[AggCall, ...]

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        aggs = ", ".join(call.describe() for call in self.aggregates)
        return (
            f"OverAggregate(partitionBy=[{', '.join(self.partition_keys)}], orderBy=[{self.time_column}], "
            f"{self.frame.describe()}, select=[{aggs}])"
        )


@dataclass(frozen=True)
class Union(PlanNode):
    """UNION ALL: the rows of every input, with the smallest of their watermarks."""

    branches: tuple[PlanNode, ...]

    def inputs(self) -> tuple[PlanNode, ...]:
        return self.branches

    def label(self) -> str:
        return f"Union(all=[true], inputs=[{len(self.branches)}])"


JoinKind = Literal["INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI"]

_JOIN_TYPES = {
    "INNER": "InnerJoin",
    "LEFT": "LeftOuterJoin",
    "RIGHT": "RightOuterJoin",
    "FULL": "FullOuterJoin",
    "SEMI": "LeftSemiJoin",
    "ANTI": "LeftAntiJoin",
}


@dataclass(frozen=True)
class Join(PlanNode):
    """The parts every two-input join shares.

    The output has the left input's columns, then the right input's columns
    under ``right_names`` (renamed where a name is taken, as Flink does:
    ``tag`` becomes ``tag0``); SEMI and ANTI joins output the left columns
    only. ``left_keys[i] = right_keys[i]`` are the equality conditions, each
    evaluated on its own input; ``condition`` is the rest of the ON clause,
    evaluated on the output columns of a candidate pair.
    """

    left: PlanNode
    right: PlanNode
    kind: JoinKind
    left_keys: tuple[Expr, ...]
    right_keys: tuple[Expr, ...]
    condition: Expr | None
    right_names: tuple[str, ...]

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.left, self.right)

    def _common(self) -> list[str]:
        parts = [f"joinType=[{_JOIN_TYPES[self.kind]}]"]
        if self.left_keys:
            pairs = ", ".join(
                f"{left} = {right}"
                for left, right in zip(self.left_keys, self.right_keys, strict=True)
            )
            parts.append(f"equiKeys=[{pairs}]")
        if self.condition is not None:
            parts.append(f"where=[{self.condition}]")
        return parts


@dataclass(frozen=True)
class IntervalBounds:
    """An event-time interval join's condition: lower <= left_time - right_time <= upper.

    Bounds are inclusive nanoseconds; the planner turns a strict comparison
    into an inclusive one by moving the bound one nanosecond inwards.
    """

    left_time: str
    right_time: str
    lower_ns: int
    upper_ns: int

    def describe(self) -> str:
        return (
            f"leftTime=[{self.left_time}], rightTime=[{self.right_time}], "
            f"leftLowerBound=[{_signed_duration(self.lower_ns)}], "
            f"leftUpperBound=[{_signed_duration(self.upper_ns)}]"
        )


@dataclass(frozen=True)
class IntervalJoin(Join):
    """A time-bounded join of two append-only inputs on their event-time attributes."""

    bounds: IntervalBounds

    def label(self) -> str:
        parts = self._common()
        parts.insert(1, f"windowBounds=[{self.bounds.describe()}]")
        return "IntervalJoin(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class WindowJoin(Join):
    """A join of two window TVF results on equal window_start and window_end.

    ``left_window`` and ``right_window`` name each input's (start, end)
    columns. Rows are buffered per window and joined once the watermark passes
    the window's end, so only final results are emitted, as in Flink.
    """

    left_window: tuple[str, str]
    right_window: tuple[str, str]
    window: WindowSpec
    precision_ns: int = 1_000_000
    #: NOT IN: a left row passes only when every partner's key is known and differs.
    null_aware: bool = False

    def label(self) -> str:
        parts = self._common()
        parts.insert(0, f"window=[{self.window.describe()}]")
        if self.null_aware:
            parts.append("nullAware=[true]")
        return "WindowJoin(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class RegularJoin(Join):
    """An equi-join without time bounds, keeping each row for ``ttl_ns`` of processing time.

    An inner join emits inserts only. An outer join emits a NULL-padded row
    at once and retracts it (``-D``) when the row's first partner arrives,
    so its result is an updating stream, as in Flink.
    """

    ttl_ns: int

    @property
    def updating(self) -> bool:
        return self.kind != "INNER" or super().updating

    def label(self) -> str:
        parts = self._common()
        parts.append(f"stateTtl=[{format_duration(self.ttl_ns)}]")
        return "Join(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class TemporalJoin(Join):
    """An event-time temporal join: each left row joins the right row valid at its time.

    The right input is a versioned table: rows keyed by the table's primary
    key, each valid from its ``right_time`` until the next row of the same
    key. A left row waits until the join watermark reaches its ``left_time``
    and then joins the latest version at or before that time, as Flink's
    ``FOR SYSTEM_TIME AS OF`` on an event-time attribute does.
    """

    left_time: str
    right_time: str

    def label(self) -> str:
        parts = self._common()
        parts.insert(1, f"leftTime=[{self.left_time}], versionTime=[{self.right_time}]")
        return "TemporalJoin(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class LookupCache:
    """A lookup join's cache of looked-up keys (Flink's 'lookup.partial-cache.*' options).

    ``max_rows`` 0 disables the cache. Durations are nanoseconds, 0 for none.
    """

    max_rows: int = 0
    expire_after_write_ns: int = 0
    expire_after_access_ns: int = 0
    cache_missing_key: bool = True

    def describe(self) -> str:
        if self.max_rows == 0:
            return "NONE"
        parts = [f"maxRows={self.max_rows}"]
        if self.expire_after_write_ns:
            parts.append(f"expireAfterWrite={format_duration(self.expire_after_write_ns)}")
        if self.expire_after_access_ns:
            parts.append(f"expireAfterAccess={format_duration(self.expire_after_access_ns)}")
        return "PARTIAL(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class LookupJoin(PlanNode):
    """A processing-time lookup join: each input row looks up a DuckDB or SQLite table.

    ``left_keys[i]`` (on the input) equals column ``lookup_columns[i]`` of
    the table. The output has the input's columns, then the table's columns
    under ``right_names``; ``condition`` is the rest of the ON clause.
    """

    input: PlanNode
    kind: JoinKind
    table: str
    connector: str
    path: str
    table_name: str
    table_schema: Schema
    left_keys: tuple[Expr, ...]
    lookup_columns: tuple[str, ...]
    right_names: tuple[str, ...]
    condition: Expr | None
    cache: LookupCache

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        keys = ", ".join(
            f"{left} = {right}"
            for left, right in zip(self.left_keys, self.lookup_columns, strict=True)
        )
        text = (
            f"LookupJoin(table=[{self.table}], connector=[{self.connector}], "
            f"joinType=[{_JOIN_TYPES[self.kind]}], lookup=[{keys}]"
        )
        if self.condition is not None:
            text += f", where=[{self.condition}]"
        return text + f", cache=[{self.cache.describe()}])"


@dataclass(frozen=True)
class Unnest(PlanNode):
    """CROSS JOIN UNNEST: each input row once per element of an array or entry of a map.

    ``columns`` names the element's output columns: one for a scalar
    element, one per field of a ROW element, and key and value for a map
    entry. ``ordinality`` names the 1-based position column of WITH
    ORDINALITY. With ``outer`` (LEFT JOIN ... ON TRUE) a row whose array is
    empty or NULL comes out once, with NULL elements.
    """

    input: PlanNode
    expression: Expr
    columns: tuple[str, ...]
    ordinality: str | None = None
    outer: bool = False

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        join = "LeftOuterJoin" if self.outer else "InnerJoin"
        text = f"Unnest(expr=[{self.expression}], joinType=[{join}], columns=[{', '.join(self.columns)}]"
        if self.ordinality is not None:
            text += f", ordinality=[{self.ordinality}]"
        return text + ")"


@dataclass(frozen=True)
class LateralSource:
    """The rows a lateral join generates for one input row.

    ``kind`` is 'function' (a user table function ``function`` called with
    ``args``), 'unnest' (the elements of ``args[0]``, with a 1-based
    position column last when ``ordinality``) or 'values' (one row per
    entry of ``rows``). ``columns`` and ``types`` describe the generated
    columns. Every expression reads the input row's columns.
    """

    kind: Literal["function", "unnest", "values"]
    columns: tuple[str, ...]
    types: tuple[DataType, ...]
    function: str = ""
    args: tuple[Expr, ...] = ()
    rows: tuple[tuple[Expr, ...], ...] = ()
    ordinality: bool = False

    def describe(self) -> str:
        if self.kind == "function":
            return f"{self.function}({', '.join(str(arg) for arg in self.args)})"
        if self.kind == "unnest":
            return f"UNNEST({self.args[0]})" + (" WITH ORDINALITY" if self.ordinality else "")
        rows = ", ".join("(" + ", ".join(str(item) for item in row) + ")" for row in self.rows)
        return f"VALUES {rows}"


@dataclass(frozen=True)
class LateralJoin(PlanNode):
    """A lateral join (Flink's Correlate): each input row with the rows generated for it.

    The generated rows get ``source.columns`` next to the input's columns.
    ``condition`` (a lateral subquery's WHERE) keeps some of them, and
    ``outputs`` computes the appended columns from the input and generated
    columns. With ``outer`` (LEFT JOIN ... ON TRUE) an input row without a
    generated row that passes comes out once, its appended columns NULL.
    """

    input: PlanNode
    source: LateralSource
    outputs: tuple[tuple[str, Expr], ...]
    condition: Expr | None = None
    outer: bool = False

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        join = "LeftOuterJoin" if self.outer else "InnerJoin"
        generated = ", ".join(self.source.columns)
        text = f"Correlate(invocation=[{self.source.describe()}], columns=[{generated}]"
        if self.condition is not None:
            text += f", where=[{self.condition}]"
        selected = ", ".join(
            name if str(expression) == name else f"{expression} AS {name}"
            for name, expression in self.outputs
        )
        return text + f", select=[{selected}], joinType=[{join}])"


def _signed_duration(ns: int) -> str:
    if ns == 0:
        return "0 s"
    return "-" + format_duration(-ns) if ns < 0 else format_duration(ns)


@dataclass(frozen=True)
class MatchRecognize(PlanNode):
    """Row pattern recognition per partition, over rows in ``order``.

    ``columns`` lists the output: ``("input", name)`` passes an input column
    through (partition columns, and every input column with ALL ROWS PER
    MATCH), ``("measure", name)`` is the measure of that name.
    """

    input: PlanNode
    partition_keys: tuple[str, ...]
    order: tuple[SortKey, ...]
    ordering: Ordering
    #: The event-time (or processing-time) column the order starts with, if any.
    time_column: str | None
    measures: tuple[tuple[str, MatchExpression], ...]
    spec: MatchSpec
    columns: tuple[tuple[str, str, str], ...]

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        spec = self.spec
        parts = []
        if self.partition_keys:
            parts.append(f"partitionBy=[{', '.join(self.partition_keys)}]")
        if self.order:
            parts.append(f"orderBy=[{', '.join(key.describe() for key in self.order)}]")
        if self.measures:
            measures = ", ".join(
                f"{expression.describe()} AS {name}" for name, expression in self.measures
            )
            parts.append(f"measures=[{measures}]")
        rows = {
            "ONE": "ONE ROW PER MATCH",
            "ALL_SHOW_EMPTY": "ALL ROWS PER MATCH SHOW EMPTY MATCHES",
            "ALL_OMIT_EMPTY": "ALL ROWS PER MATCH OMIT EMPTY MATCHES",
            "ALL_WITH_UNMATCHED": "ALL ROWS PER MATCH WITH UNMATCHED ROWS",
        }[spec.rows_per_match]
        parts.append(f"rowsPerMatch=[{rows}]")
        parts.append(f"after=[SKIP {spec.skip.describe()}]")
        parts.append(f"pattern=[{spec.pattern}]")
        if spec.within_ns is not None:
            within = format_duration(spec.within_ns)
            parts.append(f"within=[{within}{', EMIT TIMEOUTS' if spec.emit_timeouts else ''}]")
        if spec.subsets:
            subsets = ", ".join(
                f"{name} = ({', '.join(members)})" for name, members in spec.subsets
            )
            parts.append(f"subset=[{subsets}]")
        if spec.define:
            define = ", ".join(
                f"{name} AS {condition.describe()}" for name, condition in spec.define
            )
            parts.append(f"define=[{define}]")
        return "MatchRecognize(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class Presentation:
    """ORDER BY and LIMIT of a top-level query, applied to the final result."""

    order: tuple[SortKey, ...] = ()
    limit: int | None = None
    offset: int = 0

    def describe(self) -> str:
        parts = []
        if self.order:
            parts.append("orderBy=[" + ", ".join(key.describe() for key in self.order) + "]")
        if self.limit is not None:
            parts.append(f"limit=[{self.limit}]")
        if self.offset:
            parts.append(f"offset=[{self.offset}]")
        return "Presentation(" + ", ".join(parts) + ")"


def walk(node: PlanNode) -> list[PlanNode]:
    """Return every node of a plan, parents before children."""
    nodes = [node]
    for child in node.inputs():
        nodes.extend(walk(child))
    return nodes
