"""Retained rows of a table, queried ad hoc with DuckDB.

A table with the option ``'retain' = '1000 rows'`` keeps its last 1000
delivered rows, and one with ``'retain' = '10 minutes'`` keeps the rows whose
event time is within 10 minutes of the latest event time delivered so far.
:meth:`workbench.Session.adhoc` runs a one-off SELECT over them, as Esper's
named windows and ksqlDB's pull queries do.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from workbench.errors import SourceError, UnknownTableError, ValidationError
from workbench.events.schema import Schema
from workbench.events.time import parse_duration
from workbench.sinks.arrow_types import arrow_table
from workbench.sql.catalog import Catalog, TableDef

RETAIN_OPTION = "retain"
_ROWS = re.compile(r"^\s*(\d+)\s*rows?\s*$", re.IGNORECASE)
_RETAIN_HINT = "add 'retain' = '1000 rows' or 'retain' = '10 minutes' to the table's WITH options"


@dataclass(frozen=True)
class RetainBound:
    """The bound of a retaining table: a row count or an event-time span in nanoseconds."""

    rows: int | None = None
    span_ns: int | None = None


def parse_retain(text: str) -> RetainBound:
    """Parse the 'retain' option, such as '1000 rows' or '10 minutes'. Raises SourceError."""
    rows = _ROWS.match(text)
    if rows is not None:
        count = int(rows.group(1))
        if count < 1:
            raise SourceError(f"invalid value {text!r} for option 'retain': keep at least 1 row")
        return RetainBound(rows=count)
    try:
        span = parse_duration(text)
    except ValueError:
        raise SourceError(
            f"invalid value {text!r} for option 'retain': use a row count such as "
            "'1000 rows' or an event-time span such as '10 minutes'"
        ) from None
    if span <= 0:
        raise SourceError(f"invalid value {text!r} for option 'retain': the span must be above 0")
    return RetainBound(span_ns=span)


def check_retain(table: TableDef) -> None:
    """Raise SourceError unless the table's 'retain' option is valid for its columns."""
    text = table.options.get(RETAIN_OPTION)
    if text is None:
        return
    bound = parse_retain(text)
    if bound.span_ns is not None and table.watermark is None:
        raise SourceError(
            f"option 'retain' = {text!r} keeps rows by event time, but table "
            f"{table.name!r} has no WATERMARK: declare one, or retain a row count such as '1000 rows'"
        )


class RetainedRows:
    """The rows of one table within its bound, as the delivered frames.

    Appending evicts the rows beyond the bound, so memory stays bounded. A
    time bound is relative to the latest event time delivered, not to the
    watermark, so the retained rows do not depend on the watermark delay.
    """

    def __init__(self, table: str, bound: RetainBound, schema: Schema, time_column: str | None):
        self.table = table
        self.bound = bound
        self.schema = schema
        self.time_column = time_column
        self.latest_ns: int | None = None
        self._frames: deque[pd.DataFrame] = deque()
        self._rows = 0
        self._lock = threading.Lock()

    def append(self, frame: pd.DataFrame) -> None:
        """Add a delivered frame and evict the rows that fall outside the bound."""
        if frame.empty:
            return
        frame = frame[[name for name in self.schema.names if name in frame.columns]]
        with self._lock:
            if self.bound.rows is not None:
                self._append_rows(frame, self.bound.rows)
            else:
                self._append_span(frame)

    def _append_rows(self, frame: pd.DataFrame, limit: int) -> None:
        self._frames.append(frame)
        self._rows += len(frame)
        while self._rows - len(self._frames[0]) >= limit:
            self._rows -= len(self._frames.popleft())
        if self._rows > limit:
            self._frames[0] = self._frames[0].iloc[self._rows - limit :]
            self._rows = limit

    def _append_span(self, frame: pd.DataFrame) -> None:
        times = _nanoseconds(frame[self.time_column])
        if times.notna().any():
            newest = int(times.max())
            self.latest_ns = newest if self.latest_ns is None else max(self.latest_ns, newest)
        self._frames.append(frame)
        cutoff = self._cutoff()
        kept: deque[pd.DataFrame] = deque()
        for part in self._frames:
            part_times = _nanoseconds(part[self.time_column])
            if (part_times > cutoff).all():
                kept.append(part)
            elif (part_times > cutoff).any():
                kept.append(part[(part_times > cutoff).to_numpy()])
        self._frames = kept
        self._rows = sum(len(part) for part in kept)

    def _cutoff(self) -> int:
        assert self.bound.span_ns is not None
        if self.latest_ns is None:
            return -(2**63)
        return self.latest_ns - self.bound.span_ns

    def frame(self) -> pd.DataFrame:
        """Return the retained rows, oldest delivery first, in one frame."""
        with self._lock:
            parts = list(self._frames)
        if not parts:
            return pd.DataFrame({name: pd.Series([], dtype=object) for name in self.schema.names})
        return pd.concat(parts, ignore_index=True)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self._rows = 0
            self.latest_ns = None


def _nanoseconds(values: pd.Series) -> pd.Series:
    """Return event times as nanoseconds since the epoch (NaN for null)."""
    # pandas 3 keeps the unit a datetime was made with (us, ms), so convert to ns first.
    times = pd.to_datetime(values, utc=True).dt.as_unit("ns")
    result = times.astype("int64").astype("float64")
    result[times.isna().to_numpy()] = float("nan")
    return result


class Retention:
    """The retained rows of a session's retaining tables, fed by every run of the session.

    NOTE: a restarted replay delivers its rows again, and they are kept beside
    the earlier copies until the bound evicts them.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.tables: dict[str, RetainedRows] = {}

    def deliver(self, feed: str, frame: pd.DataFrame) -> None:
        """Keep the rows of a delivered frame if its feed is a retaining table."""
        retained = self._retained(feed)
        if retained is not None:
            retained.append(frame)

    def _retained(self, name: str) -> RetainedRows | None:
        table = self.catalog.lookup(name)
        if not isinstance(table, TableDef) or RETAIN_OPTION not in table.options:
            return None
        retained = self.tables.get(table.name)
        if retained is None or retained.schema != table.physical:
            time_column = table.watermark.column if table.watermark is not None else None
            bound = parse_retain(table.options[RETAIN_OPTION])
            retained = RetainedRows(table.name, bound, table.physical, time_column)
            self.tables[table.name] = retained
        return retained

    def query(self, sql: str) -> pd.DataFrame:
        """Run one SELECT over the retained rows of the tables it names, in DuckDB."""
        try:
            node = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.ParseError as error:
            raise ValidationError(f"invalid ad hoc query: {error}", sql=sql) from None
        if not isinstance(node, exp.Query):
            raise ValidationError(
                "an ad hoc query must be a SELECT", sql=sql, hint="write SELECT ... FROM <table>"
            )
        ctes = {cte.alias_or_name.lower() for cte in node.find_all(exp.CTE)}
        connection = duckdb.connect()
        try:
            for table_node in node.find_all(exp.Table):
                if not table_node.name:
                    raise ValidationError(
                        "an ad hoc query reads tables that retain rows, not table functions "
                        f"such as {table_node.sql(dialect='duckdb')!r}",
                        sql=sql,
                        hint="name a table that has the 'retain' option in FROM",
                    )
            for name in sorted({table.name for table in node.find_all(exp.Table)}):
                if name.lower() in ctes:
                    continue
                self._register(connection, name, sql)
            return connection.execute(sql).df()
        except duckdb.Error as error:
            raise ValidationError(f"ad hoc query failed in DuckDB: {error}", sql=sql) from None
        finally:
            connection.close()

    def _register(self, connection: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
        table = self.catalog.lookup(name)
        if table is None:
            raise UnknownTableError(
                f"table {name!r} not found", sql=sql, hint=self.catalog.suggestion(name)
            )
        if not isinstance(table, TableDef):
            raise ValidationError(
                f"{name!r} is a view, and an ad hoc query reads only tables that retain rows",
                sql=sql,
                hint="write the view's query over the retaining table in the ad hoc query "
                "(WITH name AS (...) works)",
            )
        if RETAIN_OPTION not in table.options:
            raise ValidationError(
                f"table {name!r} retains no rows, so an ad hoc query cannot read it",
                sql=sql,
                hint=_RETAIN_HINT,
            )
        retained = self._retained(name)
        assert retained is not None
        # Arrow keeps the SQL types: ROW columns become DuckDB STRUCTs.
        connection.register(name, arrow_table(retained.frame(), table.physical))
