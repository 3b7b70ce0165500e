"""The result of fuzzing a rule: the stream found, the rules, their outputs, as text, HTML, SQL or CSV."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.events.types import INTEGER_KINDS, DataType, TypeKind
from workbench.results import QueryResult
from workbench.sql.catalog import TableDef

if TYPE_CHECKING:
    from workbench.testing.fuzz.options import FuzzOptions


@dataclass
class RuleRun:
    """One rule run over one set of input streams: its output rows, or the error it failed with.

    ``engine_failed`` is True when the error is a defect of the engine (reading
    the stream or running an operator raised), not a failure of the rule.
    """

    sql: str
    inputs: dict[str, pd.DataFrame]
    output: pd.DataFrame | None
    error: str | None
    late: int = 0
    rejected: int = 0
    result: QueryResult | None = None
    engine_failed: bool = False


@dataclass
class FuzzResult:
    """What a fuzzing run found.

    ``found`` is True when the search met its goal: the rule fired ('fire'),
    the property failed ('property') or the rules differed ('compare'). Then
    ``stream`` holds the shrunk input rows of each table in arrival order,
    and ``runs`` each rule's run over them. ``examples`` counts the streams
    tried, shrinking steps included. ``violations`` are the output rows that
    break a SQL property. ``engine_error`` is the message of an engine
    failure that stopped the search. Then ``found`` is False and ``stream``
    holds the shrunk stream on which the engine failed.
    """

    mode: str
    rules: tuple[str, ...]
    found: bool
    runs: tuple[RuleRun, ...]
    examples: int
    options: FuzzOptions
    holds: str | Callable[..., bool] | None = None
    given: str | None = None
    tables: dict[str, TableDef] = field(default_factory=dict)
    violations: pd.DataFrame | None = None
    engine_error: str | None = None

    # Data -------------------------------------------------------------------------------

    @property
    def stream(self) -> dict[str, pd.DataFrame]:
        """Return the input rows found, by table, in arrival order (empty when nothing was found)."""
        return dict(self.runs[0].inputs) if self.runs else {}

    @property
    def outputs(self) -> list[pd.DataFrame | None]:
        """Return each rule's output rows on the stream found (None for a rule that failed)."""
        return [run.output for run in self.runs]

    @property
    def query_results(self) -> list[QueryResult | None]:
        """Return each rule's finished QueryResult on the stream found, for views such as timelines."""
        return [run.result for run in self.runs]

    def timeline(self, rule: int = 0) -> Any:
        """Return the match timeline of a MATCH_RECOGNIZE rule on the stream found, a Jupyter widget.

        ``rule`` is 0 for the rule and 1 for the other rule of 'compare'. A rule
        that measures ``MATCH_TIMELINE()`` shows each row of a match coloured by
        its pattern variable.
        """
        # The views load Bokeh and ipywidgets, which fuzzing needs only for this chart.
        from workbench.viz.matches import MatchTimeline  # noqa: PLC0415

        if not self.runs:
            raise ValueError("nothing was found, so there is no stream to draw")
        result = self.runs[rule].result
        if result is None:
            raise ValueError(f"the rule did not run: {self.runs[rule].error}")
        return MatchTimeline(result)

    @property
    def rows(self) -> int:
        """Return the number of input rows found, over all tables."""
        return sum(len(frame) for frame in self.stream.values())

    @property
    def passed(self) -> bool:
        """Return whether the rule passed the check: it fired, the property held, the rules agreed.

        A search stopped by an engine failure never passes.
        """
        if self.engine_error is not None:
            return False
        return self.found if self.mode == "fire" else not self.found

    def summary(self) -> str:
        """Return one sentence on what the search found."""
        tried = f"{self.examples} stream{'s' if self.examples != 1 else ''} tried"
        size = f"{self.rows} row{'s' if self.rows != 1 else ''}"
        limit = f"at most {self.options.max_rows} rows per table"
        if self.engine_error is not None:
            return (
                f"The engine failed on this stream of {size} ({tried}), so the search "
                f"stopped without a result about the rule: {self.engine_error}. This is a "
                "workbench defect: report it with the stream below."
            )
        if self.mode == "fire":
            if self.found:
                return f"The rule fires on this stream of {size} ({tried})."
            return (
                f"No stream of {limit} made the rule fire ({tried}); widen the value ranges "
                "or the time span, or raise max_examples."
            )
        if self.mode == "property":
            if not self.found:
                return f"The property held on every stream of {limit} ({tried})."
            error = self.runs[0].error
            if error is not None:
                return f"The rule failed on this stream of {size} ({tried}): {error}"
            return f"The property fails on this stream of {size} ({tried})."
        if not self.found:
            return f"The two rules emitted the same rows on every stream of {limit} ({tried})."
        return f"The two rules differ on this stream of {size} ({tried})."

    # Copyable forms ---------------------------------------------------------------------

    def _table_name(self, table: str | None) -> str:
        if table is not None:
            if table not in self.stream:
                raise KeyError(f"no stream for table {table!r}: tables are {sorted(self.stream)}")
            return table
        if not self.stream:
            raise ValueError("nothing was found, so there is no stream to write")
        return next(iter(self.stream))

    def values_sql(self, table: str | None = None) -> str:
        """Return the stream of ``table`` (default: the first) as a SELECT over inline VALUES.

        Event time does not carry over: VALUES rows have no watermark, so
        paste them where the rows themselves matter, or load :meth:`to_csv`
        with the table's own DDL to replay them.
        """
        name = self._table_name(table)
        frame = self.stream[name]
        schema = self.tables[name].physical
        if len(frame) == 0:
            return f"-- {name}: no rows"
        lines = []
        for record in frame.itertuples(index=False, name=None):
            values = [
                sql_literal(value, column.type)
                for value, column in zip(record, schema.columns, strict=True)
            ]
            lines.append("    (" + ", ".join(values) + ")")
        columns = ", ".join(schema.names)
        return "SELECT * FROM (VALUES\n" + ",\n".join(lines) + f"\n) AS {name}({columns})"

    def to_csv(self, table: str | None = None) -> str:
        """Return the stream of ``table`` (default: the first) as CSV text, with a header line.

        Times are written as ``YYYY-MM-DD HH:MM:SS.fff``, which the CSV reader
        parses, so the file replays through the table's DDL with 'format' = 'csv'.
        """
        name = self._table_name(table)
        frame = self.stream[name].copy()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].map(_time_text)
        text: str = frame.to_csv(index=False, lineterminator="\n")
        return text

    # Display ----------------------------------------------------------------------------

    def _labels(self) -> list[str]:
        return ["rule"] if len(self.rules) == 1 else ["rule A", "rule B"]

    def __str__(self) -> str:
        parts = [self.summary()]
        for name, frame in self.stream.items():
            parts.append(f"\n{name} ({_count(len(frame))}, in arrival order):")
            parts.append(_frame_text(frame))
        for label, sql, index in zip(
            self._labels(), self.rules, range(len(self.rules)), strict=True
        ):
            parts.append(f"\n{label}:\n{sql.strip()}")
            if index < len(self.runs):
                parts.append(_run_text(self.runs[index]))
        if self.given:
            parts.append(f"\ngiven: {self.given}")
        if self.holds is not None:
            parts.append(f"property: {_describe(self.holds)}")
        if self.violations is not None and len(self.violations):
            parts.append(f"\noutput rows that break it:\n{_frame_text(self.violations)}")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self.summary())}</b></p>"]
        for name, frame in self.stream.items():
            parts.append(
                f"<p>{html.escape(name)} ({_count(len(frame))}, in arrival order)</p>"
                + _frame_html(frame)
            )
        for label, sql, index in zip(
            self._labels(), self.rules, range(len(self.rules)), strict=True
        ):
            parts.append(f"<p>{label}</p><pre>{html.escape(sql.strip())}</pre>")
            if index < len(self.runs):
                run = self.runs[index]
                if run.error is not None:
                    parts.append(f"<p>failed: {html.escape(run.error)}</p>")
                elif run.output is not None:
                    parts.append(
                        f"<p>output ({_count(len(run.output))})</p>" + _frame_html(run.output)
                    )
        if self.given:
            parts.append(f"<p>given: <code>{html.escape(self.given)}</code></p>")
        if self.holds is not None:
            parts.append(f"<p>property: <code>{html.escape(_describe(self.holds))}</code></p>")
        if self.violations is not None and len(self.violations):
            parts.append("<p>output rows that break it</p>" + _frame_html(self.violations))
        # NOTE: this HTML has no match timeline, because the chart is a live
        # widget; timeline() returns it for a notebook cell to display.
        return "\n".join(parts)


def _count(rows: int) -> str:
    return f"{rows} row{'s' if rows != 1 else ''}"


def _describe(holds: str | Callable[..., bool]) -> str:
    if isinstance(holds, str):
        return holds
    return getattr(holds, "__qualname__", repr(holds))


def _run_text(run: RuleRun) -> str:
    if run.error is not None:
        return f"failed: {run.error}"
    if run.output is None:
        return "(not run)"
    extra = []
    if run.late:
        extra.append(f"{run.late} late")
    if run.rejected:
        extra.append(f"{run.rejected} rejected")
    note = f"; {', '.join(extra)}" if extra else ""
    return f"output ({_count(len(run.output))}{note}):\n{_frame_text(run.output)}"


def _frame_text(frame: pd.DataFrame) -> str:
    if len(frame) == 0:
        return "(no rows)"
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        return frame.to_string(index=False)


def _frame_html(frame: pd.DataFrame) -> str:
    if len(frame) == 0:
        return "<p>(no rows)</p>"
    return frame.to_html(index=False, na_rep="NULL")


def _time_text(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    moment = pd.Timestamp(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


# SQL literals ---------------------------------------------------------------------------


def sql_literal(value: Any, kind: DataType) -> str:
    """Return ``value`` of SQL type ``kind`` as SQL text that evaluates to it."""
    if _is_null(value):
        return f"CAST(NULL AS {kind.with_time_attribute(None).sql()})"
    if kind.kind == TypeKind.BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind.kind in INTEGER_KINDS:
        text = str(int(value))
        return text if kind.kind == TypeKind.INT else f"CAST({text} AS {kind.sql()})"
    if kind.is_numeric:
        return f"CAST({float(value)!r} AS {kind.sql()})"
    if kind.is_string:
        return _quoted(str(value))
    if kind.kind == TypeKind.TIMESTAMP:
        return f"TIMESTAMP '{_time_text(value)}'"
    if kind.kind == TypeKind.TIMESTAMP_LTZ:
        moment = pd.Timestamp(value).tz_convert("UTC").tz_localize(None)
        return f"CAST(TIMESTAMP '{_time_text(moment)}' AS {kind.with_time_attribute(None).sql()})"
    if kind.kind == TypeKind.DATE:
        return f"DATE '{pd.Timestamp(value).strftime('%Y-%m-%d')}'"
    if kind.kind == TypeKind.TIME:
        seconds = int(pd.Timedelta(value).total_seconds())
        return f"TIME '{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'"
    if kind.kind == TypeKind.INTERVAL:
        return f"INTERVAL '{int(pd.Timedelta(value) / pd.Timedelta(milliseconds=1))}' MILLISECOND"
    if kind.kind == TypeKind.ROW and isinstance(value, Mapping):
        items = [sql_literal(value.get(item.name), item.type) for item in kind.fields]
        return "ROW(" + ", ".join(items) + ")"
    if kind.kind == TypeKind.ARRAY and kind.element is not None and len(value) > 0:
        return "ARRAY[" + ", ".join(sql_literal(item, kind.element) for item in value) + "]"
    if kind.kind == TypeKind.MAP and kind.key is not None and kind.value is not None and value:
        pairs = [
            f"{sql_literal(key, kind.key)}, {sql_literal(item, kind.value)}"
            for key, item in value.items()
        ]
        return "MAP[" + ", ".join(pairs) + "]"
    # NOTE: empty arrays and maps and BINARY values have no literal the dialect
    # parses; to_csv() or the DataFrames in FuzzResult.stream keep them.
    raise ValueError(f"cannot write {value!r} of type {kind.sql()} as a SQL literal")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)
