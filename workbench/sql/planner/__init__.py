"""The query planner: SQL statements to logical plans.

Entry points: :func:`plan_query_statement` for SELECT, :func:`plan_insert`
for INSERT INTO, and the DDL helpers in :mod:`workbench.sql.planner.ddl`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from workbench.errors import (
    TypeMismatchError,
    UnknownTableError,
    UnsupportedError,
    ValidationError,
)
from workbench.events.schema import Column, Schema
from workbench.events.types import can_cast_implicitly
from workbench.sql.catalog import Catalog, TableDef, ViewDef
from workbench.sql.expr import Call, ColumnRef, Expr, Literal
from workbench.sql.parser import node_position
from workbench.sql.plan import Calc, PlanNode, Presentation, Scan, walk
from workbench.sql.planner.context import PlanContext
from workbench.sql.planner.planned import Planned
from workbench.sql.planner.query import plan_query


@dataclass
class PlannedInsert:
    node: PlanNode
    sink: TableDef


def plan_query_statement(ctx: PlanContext, node: exp.Expr) -> Planned:
    """Plan a top-level query and check that it is complete."""
    try:
        planned = plan_query(ctx, node, top_level=True)
    finally:
        _drop_ctes(ctx)
    _check_ranks(ctx)
    return planned


def plan_insert(ctx: PlanContext, node: exp.Insert) -> PlannedInsert:
    target = node.this
    columns: list[str] | None = None
    if isinstance(target, exp.Schema):
        columns = [part.name for part in target.expressions]
        target = target.this
    name = target.name
    entry = ctx.catalog.lookup(name)
    if not isinstance(entry, TableDef):
        raise UnknownTableError(
            f"sink table {name!r} not found"
            if entry is None
            else f"{name!r} is a view; INSERT INTO needs a table",
            sql=ctx.script,
            position=node_position(ctx.script, target),
            hint=ctx.catalog.suggestion(name) if entry is None else None,
        )
    planned = plan_query_statement(ctx, node.expression)
    _check_not_reading_sink(ctx, entry, planned.node, node.expression)
    if planned.presentation is not None and (
        planned.presentation.order or planned.presentation.limit is not None
    ):
        raise UnsupportedError(
            "ORDER BY and LIMIT have no meaning when writing to a table",
            sql=ctx.script,
            position=node_position(ctx.script, node.expression),
        )
    sink_columns = list(entry.physical.columns)
    if columns is not None:
        sink_columns = []
        for column_name in columns:
            found = entry.physical.find(column_name)
            if found is None:
                raise ctx.invalid(f"column {column_name!r} is not a column of {name!r}", target)
            sink_columns.append(found)
    produced = planned.scope.columns
    if len(produced) != len(sink_columns):
        raise TypeMismatchError(
            f"the query produces {len(produced)} columns but {name!r} takes {len(sink_columns)}",
            sql=ctx.script,
            position=node_position(ctx.script, node.expression),
            hint="sink columns: " + ", ".join(f"{c.name} {c.type.sql()}" for c in sink_columns),
        )
    written: dict[str, Expr] = {}
    for target_column, source in zip(sink_columns, produced, strict=True):
        expression: Expr = ColumnRef(name=source.internal, type=source.type)
        wanted = target_column.type.plain()
        if source.type.plain().with_nullable(True) != wanted.with_nullable(True):
            # As in Flink, INSERT converts only where no value can change meaning
            # (widening numbers, longer strings); anything else needs an explicit CAST.
            if not can_cast_implicitly(source.type, wanted):
                raise TypeMismatchError(
                    f"cannot write {source.type.plain().sql()} column {source.name!r} into "
                    f"{wanted.sql()} column {target_column.name!r} of {name!r}",
                    sql=ctx.script,
                    position=node_position(ctx.script, node.expression),
                    hint=f"CAST({source.name} AS {wanted.sql()}) in the query, if that conversion is meant",
                )
            expression = Call(
                function="CAST", args=(expression,), options=(("type", wanted),), type=wanted
            )
        written[target_column.name] = expression
    projections: list[tuple[str, Expr]] = []
    for column in entry.physical.columns:
        if column.name in written:
            projections.append((column.name, written[column.name]))
            continue
        # A sink column missing from the INSERT column list receives NULL.
        if not column.type.nullable:
            raise TypeMismatchError(
                f"column {column.name!r} of {name!r} is NOT NULL but the INSERT column list leaves it out",
                sql=ctx.script,
                position=node_position(ctx.script, target),
            )
        projections.append((column.name, Literal(value=None, type=column.type.plain())))
    schema = Schema(tuple(Column(name_, expr.type.plain()) for name_, expr in projections))
    plan = Calc(schema=schema, input=planned.node, projections=tuple(projections))
    return PlannedInsert(plan, entry)


def _check_not_reading_sink(
    ctx: PlanContext, sink: TableDef, plan: PlanNode, query: exp.Expr
) -> None:
    """Reject an INSERT whose query reads its own sink, directly, through views or by path.

    A file sink truncates its file when it opens, before the replay reads it,
    so such an INSERT would destroy its input.
    """
    scanned = sorted({node.table for node in walk(plan) if isinstance(node, Scan)})
    name = shared_storage(ctx.catalog, sink, scanned)
    if name is None:
        return
    if name == sink.name:
        message = f"INSERT INTO {sink.name!r} also reads {sink.name!r}"
    else:
        message = (
            f"INSERT INTO {sink.name!r} writes to {sink.options['path']!r}, "
            f"which the query reads through table {name!r}"
        )
    reference = _reference_reading(ctx, name, query)
    if reference is not None and reference.name != name:
        message += f" (through view {reference.name!r})"
    raise ValidationError(
        message + ": the sink would overwrite the input while it is read",
        sql=ctx.script,
        position=node_position(ctx.script, reference if reference is not None else query),
        hint="INSERT INTO a table with another 'path' than the tables the query reads",
    )


def shared_storage(catalog: Catalog, sink: TableDef, tables: Iterable[str]) -> str | None:
    """Return the first of ``tables`` that is ``sink`` or reads the file it writes, if any."""
    sink_path = _file_path(sink)
    for name in tables:
        if name == sink.name:
            return name
        table = catalog.lookup(name)
        if sink_path is not None and isinstance(table, TableDef) and _file_path(table) == sink_path:
            return name
    return None


def _file_path(table: TableDef) -> str | None:
    path = table.options.get("path")
    if path is None or table.frame is not None:
        return None
    return os.path.normpath(path)


def _reference_reading(ctx: PlanContext, table: str, query: exp.Expr) -> exp.Table | None:
    """Return the first table reference in ``query`` that reads ``table``, maybe through views."""

    def reads(name: str, seen: frozenset[str]) -> bool:
        entry = ctx.catalog.lookup(name)
        if isinstance(entry, TableDef):
            return entry.name == table
        if not isinstance(entry, ViewDef) or entry.name in seen:
            return False
        return any(
            reads(inner.name, seen | {entry.name}) for inner in entry.query.find_all(exp.Table)
        )

    for reference in query.find_all(exp.Table):
        if reads(reference.name, frozenset()):
            return reference
    return None


def _drop_ctes(ctx: PlanContext) -> None:
    for name in ctx.ctes:
        ctx.catalog.drop(name)
    ctx.ctes.clear()


def _check_ranks(ctx: PlanContext) -> None:
    if not ctx.pending_ranks:
        return
    node = next(iter(ctx.pending_ranks.values()))
    ctx.pending_ranks.clear()
    raise UnsupportedError(
        "a ranking over windows needs a filter on the rank in an outer query",
        sql=ctx.script,
        position=node_position(ctx.script, node),
        hint="SELECT * FROM (SELECT ..., ROW_NUMBER() OVER (...) AS rn FROM ...) WHERE rn <= 3",
    )


def explain(planned: Planned | PlannedInsert) -> str:
    """Return the plan as indented text, as EXPLAIN prints it."""
    if isinstance(planned, PlannedInsert):
        return f"Sink(table=[{planned.sink.name}])\n" + planned.node.explain(1)
    text = planned.node.explain()
    if planned.presentation is not None:
        text = planned.presentation.describe() + "\n" + planned.node.explain(1)
    return text


__all__ = [
    "PlanContext",
    "Planned",
    "PlannedInsert",
    "Presentation",
    "explain",
    "plan_insert",
    "plan_query_statement",
    "shared_storage",
]
