"""What Session.sql returns: query results, tables of information, and messages."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from workbench.errors import ValidationError, WorkbenchError
from workbench.events.rejected import RejectedRows, concat_rejected
from workbench.events.schema import Schema
from workbench.runtime.lookup_join import LookupJoinOperator
from workbench.runtime.match.automaton import Automaton
from workbench.runtime.match_recognize import MatchRecognizeOperator, pattern_automaton
from workbench.runtime.operator import Operator
from workbench.runtime.pipeline import Pipeline
from workbench.runtime.results import OP_COLUMN, ResultCollector
from workbench.sql.plan import (
    MatchRecognize,
    OverAggregate,
    PlanNode,
    Presentation,
    SortKey,
    WindowAggregate,
    WindowRank,
    WindowTableFunction,
    walk,
)

if TYPE_CHECKING:
    from workbench.live import LiveRun
    from workbench.sources import Reader

#: 'stopped' is a query dropped from its replay before its inputs ended; it
#: keeps the rows emitted until then.
Status = Literal["planned", "running", "finished", "failed", "stopped"]


@dataclass
class StatementResult:
    """The outcome of a statement without rows (CREATE, DROP, SET)."""

    message: str

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        return f"<div class='workbench-message'>{escape(self.message)}</div>"


@dataclass
class FailedStatement:
    """A statement of a script that could not be parsed or planned, and its error.

    ``line`` is the line of the script where the statement starts.
    """

    error: WorkbenchError
    line: int | None = None

    def __str__(self) -> str:
        return self.error.render()

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.error.render(html=True)


@dataclass
class TableResult:
    """Rows of information (SHOW, DESCRIBE, EXPLAIN) as a DataFrame.

    ``title`` is the statement that produced them, for display.
    """

    frame: pd.DataFrame
    text: str | None = None
    title: str | None = None

    def to_pandas(self) -> pd.DataFrame:
        return self.frame.copy()

    def __str__(self) -> str:
        return self.text if self.text is not None else self.frame.to_string(index=False)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        if self.text is not None:
            return f"<pre>{escape(self.text)}</pre>"
        return self.frame.to_html(index=False)


@dataclass
class QueryResult:
    """A continuous query: its plan, and once run, its rows, side outputs and counters.

    ``to_pandas()`` replays the query's bounded inputs to their end (once) and
    returns every output row; for an updating query (an aggregate without
    windows) it returns the final state, as a batch query would, and
    ``changelog()`` returns the updates.

    A query that reads a live table (``unbounded`` names them) has no end:
    :meth:`start` runs it in the background, ``to_pandas()`` then returns the
    rows emitted so far, and :meth:`stop` ends it.
    """

    name: str
    sql: str
    schema: Schema
    explain_text: str
    updating: bool
    presentation: Presentation | None
    runner: Callable[[list[QueryResult]], None]
    status: Status = "planned"
    error: WorkbenchError | None = None
    pipeline: Pipeline | None = None
    collector: ResultCollector | None = None
    readers: list[Reader] = field(default_factory=list)
    sink: str | None = None
    plan: PlanNode | None = None
    #: The live tables the query reads, which never end.
    unbounded: tuple[str, ...] = ()
    #: The run that drives the query while it reads live tables.
    live_run: LiveRun | None = None

    # Running -------------------------------------------------------------------------

    def run(self) -> QueryResult:
        """Replay the inputs to their end unless that already happened; return self."""
        if self.status in ("planned",):
            self.runner([self])
        return self

    def start(self) -> QueryResult:
        """Start a query on live tables in the background; return self.

        Read the rows emitted so far with :meth:`to_pandas` and end the query
        with :meth:`stop`. A query on recorded inputs runs to their end.
        """
        return self.run()

    def stop(self, *, drain: bool = False) -> QueryResult:
        """Stop a query on live tables (and the other queries started with it); return self.

        Messages already received are processed first. With ``drain`` the
        live inputs then end as a file does, so open windows fire and pending
        matches complete; without it that state is discarded.
        """
        if self.live_run is not None:
            self.live_run.stop(drain=drain)
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the live inputs end (a Python iterable, a pipe) or the query stops.

        Returns whether the query stopped within ``timeout`` seconds.
        """
        if self.live_run is None:
            self.run()
            return True
        return self.live_run.wait(timeout)

    def _reading(self) -> AbstractContextManager[object]:
        """Hold the live run's lock while the query's state is read from another thread."""
        return self.live_run.reading() if self.live_run is not None else nullcontext()

    def _finished(self) -> ResultCollector:
        if self.status == "planned" and self.unbounded:
            tables = ", ".join(repr(name) for name in self.unbounded)
            raise ValidationError(
                f"query {self.name!r} reads the live table {tables}, which has no end, "
                "so it cannot run to completion",
                hint="start it with result.start() (or Session.start()), read the rows so far "
                "with to_pandas(), and end it with result.stop()",
            )
        self.run()
        if self.error is not None:
            raise self.error
        assert self.collector is not None
        return self.collector

    # Outputs -------------------------------------------------------------------------

    def to_pandas(self, *, provisional: bool = False) -> pd.DataFrame:
        """Return the result rows (the final state for an updating query).

        With ``provisional``, the early results of windows
        ('table.exec.emit.early-fire.*') are included too: every row in the
        order it was emitted, with column ``provisional`` True for the early
        ones. ORDER BY and LIMIT of the query are not applied then.

        While a query on live tables runs, these are the rows so far (at
        most 'workbench.live.max-result-rows', the newest).
        """
        collector = self._finished()
        with self._reading():
            if provisional:
                return collector.with_provisional()
            frame = collector.to_pandas()
        return _present(frame, self.presentation)

    def changelog(self) -> pd.DataFrame:
        """Return every emitted row with its change kind in column 'op' (+I, -U, +U, -D)."""
        collector = self._finished()
        with self._reading():
            frame = collector.output()
        if OP_COLUMN not in frame.columns:
            frame = frame.assign(**{OP_COLUMN: "+I"})
        return frame

    def late_rows(self) -> pd.DataFrame:
        """Return the rows that arrived after their windows had fired, with the watermark then."""
        self.run()
        if self.pipeline is None:
            return pd.DataFrame()
        with self._reading():
            frames = [frame for operator in self.pipeline.operators for frame in operator.late_rows]
        if not frames:
            return self._empty_late_rows()
        return pd.concat(frames, ignore_index=True)

    def _empty_late_rows(self) -> pd.DataFrame:
        """Return no rows, with the columns late rows of this query would have."""
        columns: dict[str, pd.Series] = {}
        steps = (
            [node for node in walk(self.plan) if isinstance(node, _LATE_STEPS)] if self.plan else []
        )
        # Operators run from the input up, and late rows are concatenated in that order.
        for node in reversed(steps):
            for name, column in node.inputs()[0].schema.empty_frame().items():
                if not str(name).startswith(("$", "__")):
                    columns.setdefault(str(name), column)
        columns["late_watermark"] = pd.Series([], dtype="datetime64[ns]")
        columns["late_operator"] = pd.Series([], dtype=str)
        columns["late_reason"] = pd.Series([], dtype=str)
        return pd.DataFrame(columns)

    def rejected_rows(self) -> pd.DataFrame:
        """Return malformed or unplaceable input records with their source position and reason."""
        self.run()
        with self._reading():
            parts: list[RejectedRows] = [reader.rejected for reader in self.readers]
            if self.pipeline is not None:
                parts.extend(operator.rejected for operator in self.pipeline.operators)
            return concat_rejected(parts)

    def metrics(self) -> pd.DataFrame:
        """Return one row of counters per operator, latencies in milliseconds.

        ``cast_failures`` counts the values an operator's CAST could not
        convert and replaced with NULL. ``cache_hits``, ``cache_misses`` and
        ``lookups`` count the keys a lookup join served from its cache, the
        keys it read from the table and the queries it sent; they are NULL
        for every other operator.
        """
        self.run()
        with self._reading():
            return self._metrics()

    def _metrics(self) -> pd.DataFrame:
        rows: list[dict[str, Any]] = []
        for reader in self.readers:
            counters = reader.counters
            rows.append(
                {
                    "operator": f"source:{reader.name}",
                    "rows_in": counters.rows_read + counters.rows_rejected,
                    "rows_out": counters.rows_read,
                    "late": 0,
                    "rejected": counters.rows_rejected,
                    "cast_failures": 0,
                    "batches": counters.chunks,
                    "busy_ms": None,
                    "latency_p50_ms": None,
                    "latency_p95_ms": None,
                    "latency_p99_ms": None,
                    **LOOKUP_COUNTERS_ABSENT,
                }
            )
        if self.pipeline is not None:
            for operator in self.pipeline.operators:
                metrics = operator.metrics
                p50, p95, p99 = metrics.latency_percentiles()
                rows.append(
                    {
                        "operator": operator.name,
                        "rows_in": metrics.rows_in,
                        "rows_out": metrics.rows_out,
                        "late": metrics.late,
                        "rejected": metrics.rejected,
                        "cast_failures": metrics.cast_failures,
                        "batches": metrics.batches_in,
                        "busy_ms": metrics.busy_ns / 1e6,
                        "latency_p50_ms": p50,
                        "latency_p95_ms": p95,
                        "latency_p99_ms": p99,
                        **_lookup_counters(operator),
                    }
                )
        frame = pd.DataFrame(rows, columns=METRICS_COLUMNS)
        return frame.astype({name: "Int64" for name in LOOKUP_COUNTERS_ABSENT})

    def source_metrics(self) -> pd.DataFrame:
        """Return the counters of the live sources the query reads, backlog included.

        One row per source; empty for a query on recorded inputs. See
        :meth:`LiveRun.source_metrics <workbench.live.LiveRun.source_metrics>`.
        """
        if self.live_run is None:
            return pd.DataFrame()
        frame = self.live_run.source_metrics()
        if len(frame) == 0:
            return frame
        return frame[frame["source"].isin(self.unbounded)].reset_index(drop=True)

    def connections(self) -> pd.DataFrame:
        """Return one row per peer of the live sources the query reads, with rates."""
        if self.live_run is None:
            return pd.DataFrame()
        frame = self.live_run.connections()
        if len(frame) == 0:
            return frame
        return frame[frame["source"].isin(self.unbounded)].reset_index(drop=True)

    def explain(self) -> str:
        return self.explain_text

    # Pattern matching ----------------------------------------------------------------

    def automaton(self) -> Automaton:
        """Return the automaton of the query's MATCH_RECOGNIZE pattern.

        While the query runs (a paused replay), the states that open partial
        matches are in are highlighted.
        """
        if self.pipeline is not None:
            for operator in self.pipeline.operators:
                if isinstance(operator, MatchRecognizeOperator):
                    return operator.automaton()
        if self.plan is not None:
            found = pattern_automaton(self.plan)
            if found is not None:
                return found
        raise ValidationError(f"query {self.name} has no MATCH_RECOGNIZE", sql=self.sql)

    def partial_matches(self) -> pd.DataFrame:
        """Return the partial matches open now, one row each, per partition in preferment order.

        Before the query runs, and after its inputs have ended, there are none.
        """
        frames = []
        if self.pipeline is not None:
            for operator in self.pipeline.operators:
                if isinstance(operator, MatchRecognizeOperator):
                    frames.append(operator.partial_matches())
        if not frames:
            return pd.DataFrame(
                columns=["start_row", "start_time", "rows", "variables", "state", "waiting_for"]
            )
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    # Display -------------------------------------------------------------------------

    def __repr__(self) -> str:
        columns = ", ".join(f"{c.name} {c.type.sql()}" for c in self.schema.columns)
        state = self.status if self.error is None else f"failed: {self.error}"
        return f"<QueryResult {self.name} [{state}] ({columns})>"

    def _repr_html_(self) -> str:
        if self.status == "planned":
            self.run()
        if self.error is not None:
            return self.error.render(html=True)
        return self.to_pandas()._repr_html_()  # type: ignore[operator]


#: Columns of ``QueryResult.metrics()``, in order.
METRICS_COLUMNS = [
    "operator",
    "rows_in",
    "rows_out",
    "late",
    "rejected",
    "cast_failures",
    "batches",
    "busy_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "cache_hits",
    "cache_misses",
    "lookups",
]
#: The lookup counters of an operator that is not a lookup join.
LOOKUP_COUNTERS_ABSENT: dict[str, int | None] = {
    "cache_hits": None,
    "cache_misses": None,
    "lookups": None,
}


def _lookup_counters(operator: Operator) -> dict[str, int | None]:
    if not isinstance(operator, LookupJoinOperator):
        return LOOKUP_COUNTERS_ABSENT
    return {
        "cache_hits": operator.cache_hits,
        "cache_misses": operator.cache_misses,
        "lookups": operator.lookups,
    }


#: Plan steps whose operators keep the rows that arrive late for them.
_LATE_STEPS = (WindowAggregate, WindowTableFunction, WindowRank, OverAggregate, MatchRecognize)


def _present(frame: pd.DataFrame, presentation: Presentation | None) -> pd.DataFrame:
    if presentation is None:
        return frame
    if presentation.order:
        frame = _sort(frame, presentation.order)
    end = None if presentation.limit is None else presentation.offset + presentation.limit
    return frame.iloc[presentation.offset : end].reset_index(drop=True)


def _sort(frame: pd.DataFrame, keys: tuple[SortKey, ...]) -> pd.DataFrame:
    working = frame.copy()
    by: list[str] = []
    ascending: list[bool] = []
    for index, key in enumerate(keys):
        nulls = working[key.column].isna().to_numpy()
        flag = f"__null{index}"
        working[flag] = ~nulls if key.nulls_first else nulls
        by.extend([flag, key.column])
        ascending.extend([True, key.ascending])
    ordered = working.sort_values(by=by, ascending=ascending, kind="stable")
    return ordered[frame.columns].reset_index(drop=True)
