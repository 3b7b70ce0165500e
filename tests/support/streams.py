"""Small event tables for engine tests: timestamps written as seconds, and sessions over them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench import QueryResult, Session
from workbench.events.batch import Batch
from workbench.events.time import MIN_WATERMARK
from workbench.runtime.pipeline import Compiler, Pipeline
from workbench.runtime.results import ResultCollector
from workbench.sql import plan as p
from workbench.sql.parser import parse_script
from workbench.sql.planner import PlanContext, plan_query_statement

#: The instant that test timestamps count from.
BASE = pd.Timestamp("2024-01-01 00:00:00")


def stamp(seconds: float) -> pd.Timestamp:
    """Return the timestamp ``seconds`` after BASE."""
    return BASE + pd.Timedelta(round(seconds * 1_000_000_000), unit="ns")


def at(*seconds: float) -> pd.Series:
    """Return a datetime64[ns] column of timestamps, each given in seconds after BASE."""
    return pd.Series([stamp(value) for value in seconds], dtype="datetime64[ns]")


def ns(seconds: float) -> int:
    """Return the int64 nanoseconds of ``stamp(seconds)``, the unit of watermarks."""
    return int(stamp(seconds).value)


def session_with(
    tables: dict[str, pd.DataFrame],
    *,
    rowtime: str | None = "ts",
    delay: str | None = None,
    batch_rows: int | None = None,
) -> Session:
    """Return a session with each frame registered as a table (event time in ``rowtime``)."""
    settings = {"workbench.replay.batch-rows": str(batch_rows)} if batch_rows else None
    session = Session(progress=False, settings=settings)
    for name, frame in tables.items():
        has_time = rowtime is not None and rowtime in frame.columns
        session.from_pandas(
            name,
            frame,
            rowtime=rowtime if has_time else None,
            watermark_delay=delay if has_time else None,
        )
    return session


def query(session: Session, sql: str) -> QueryResult:
    """Plan ``sql`` (its last statement must be a query) and return its result."""
    result = session.sql(sql)
    assert isinstance(result, QueryResult)
    return result


def compile_pipeline(session: Session, sql: str, name: str = "query-1") -> Pipeline:
    """Plan one SELECT against the session's catalog and compile it, without a replay.

    The caller feeds each table with ``pipeline.deliver(table, frame)`` and ends it with
    ``pipeline.end(table)``, so a test decides exactly which rows arrive when.
    """
    statement = parse_script(sql)[-1]
    assert statement.node is not None
    context = PlanContext(
        session.catalog,
        statement.script,
        session.functions,
        session.user_aggregates,
        session.settings.time_zone,
    )
    planned = plan_query_statement(context, statement.node)
    collector = ResultCollector(planned.node.schema, updating=planned.node.updating)
    compiler = Compiler(
        name,
        time_zone=session.settings.time_zone,
        user_aggregates=session.user_aggregates,
        feed_of=_table_of,
    )
    return compiler.compile(planned.node, collector)


def _table_of(node: p.PlanNode) -> str:
    assert isinstance(node, p.Scan)
    return node.table


def records(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[tuple[object, ...]]:
    """Return rows as tuples of plain Python values, with every NULL as None."""
    selected = frame if columns is None else frame[list(columns)]
    rows = []
    for row in selected.itertuples(index=False, name=None):
        rows.append(tuple(None if _is_null(value) else _plain(value) for value in row))
    return rows


def batch(
    frame: pd.DataFrame,
    row_watermarks: Sequence[int] | None = None,
    *,
    watermark: int | None = None,
    final: bool = False,
) -> Batch:
    """Return a batch of ``frame`` for driving an operator directly.

    Row watermarks default to MIN_WATERMARK (no watermark yet), and the batch's end
    watermark to the watermark of its last row.
    """
    marks = np.asarray(
        row_watermarks if row_watermarks is not None else [MIN_WATERMARK] * len(frame),
        dtype=np.int64,
    )
    end = watermark
    if end is None:
        end = int(marks[-1]) if len(marks) else MIN_WATERMARK
    return Batch(frame.reset_index(drop=True), marks, end, ingest_ns=1, final=final)


def _is_null(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, list):
        return [None if _is_null(item) else _plain(item) for item in value]
    return value
