"""Planning a query: SELECT blocks, UNION ALL, CTEs, and the top-level ORDER BY/LIMIT."""

from __future__ import annotations

from sqlglot import exp

from workbench.errors import TypeMismatchError
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, common_type
from workbench.sql.catalog import ViewDef
from workbench.sql.expr import Call, ColumnRef, Expr
from workbench.sql.parser import node_position
from workbench.sql.plan import Calc, GroupAggregate, PlanNode, Presentation, SortKey, Union
from workbench.sql.planner import relations
from workbench.sql.planner.context import PlanContext
from workbench.sql.planner.planned import Planned
from workbench.sql.planner.scope import Scope, ScopeColumn
from workbench.sql.planner.select import plan_select


def plan_query(ctx: PlanContext, node: exp.Expr, *, top_level: bool) -> Planned:
    with_clause = node.args.get("with_") or node.args.get("with")
    if with_clause is not None:
        _register_ctes(ctx, with_clause)
    if isinstance(node, exp.Select):
        planned = plan_select(ctx, node)
    elif isinstance(node, exp.Union):
        planned = _plan_union(ctx, node)
    elif isinstance(node, exp.Subquery):
        planned = plan_query(ctx, node.this, top_level=top_level)
    elif isinstance(node, (exp.Intersect, exp.Except)):
        raise ctx.unsupported(
            f"{type(node).__name__.upper()} is not supported in streaming queries", node
        )
    elif isinstance(node, exp.Values):
        plan, scope = relations.plan_relation(ctx, node)
        planned = Planned(plan, scope)
    else:
        raise ctx.unsupported(f"cannot run {type(node).__name__} as a query", node)
    order = node.args.get("order") if not isinstance(node, exp.Subquery) else None
    limit = node.args.get("limit")
    offset = node.args.get("offset")
    if order is not None or limit is not None or offset is not None:
        if not top_level:
            raise ctx.unsupported(
                "ORDER BY and LIMIT apply only to the outermost query",
                order or limit or offset,
                hint="for the top N rows per window, rank with ROW_NUMBER() OVER (PARTITION BY window_start, window_end ...)",
            )
        planned.presentation = _presentation(ctx, planned, order, limit, offset)
    return planned


def _register_ctes(ctx: PlanContext, with_clause: exp.Expr) -> None:
    for cte in with_clause.expressions:
        name = cte.alias
        columns = (
            tuple(c.name for c in cte.args["alias"].columns) if cte.args["alias"].columns else ()
        )
        # A CTE is planned like a view that exists for this statement only.
        planned = plan_query(ctx, cte.this, top_level=False)
        schema = Schema(tuple(Column(c.name, c.type) for c in planned.scope.columns))
        ctx.catalog.add(
            ViewDef(name, cte.this, ctx.script, cte.sql(), schema, columns), replace=True
        )
        ctx.ctes.append(name)


def _plan_union(ctx: PlanContext, node: exp.Union) -> Planned:
    left = plan_query(ctx, node.left, top_level=False)
    right = plan_query(ctx, node.right, top_level=False)
    branches = _flatten(left) + _flatten(right)
    width = len(branches[0].scope.columns)
    for branch, branch_node in zip(branches[1:], [node.right] * (len(branches) - 1), strict=True):
        if len(branch.scope.columns) != width:
            raise ctx.invalid(
                f"UNION inputs have {width} and {len(branch.scope.columns)} columns", branch_node
            )
    types: list[DataType] = []
    for index in range(width):
        current: DataType | None = branches[0].scope.columns[index].type
        for branch in branches[1:]:
            other = branch.scope.columns[index].type
            merged = common_type(current, other) if current is not None else None
            if merged is None:
                raise TypeMismatchError(
                    f"UNION column {index + 1} has types {current.sql() if current else '?'} and {other.sql()}",
                    sql=ctx.script,
                    position=node_position(ctx.script, node),
                    hint="CAST one side so both have the same type",
                )
            keep_attribute = (
                current is not None
                and current.time_attribute is not None
                and current.time_attribute == other.time_attribute
            )
            current = merged.with_time_attribute(
                current.time_attribute if keep_attribute and current else None
            )
        assert current is not None
        types.append(current)
    names = branches[0].names
    aligned = [_cast_branch(branch, names, types) for branch in branches]
    schema = Schema(tuple(Column(name, kind) for name, kind in zip(names, types, strict=True)))
    union: PlanNode = Union(schema=schema, branches=tuple(aligned))
    scope = Scope([ScopeColumn(name, name, kind) for name, kind in zip(names, types, strict=True)])
    if node.args.get("distinct"):
        union = GroupAggregate(
            schema=schema.without_time_attributes(), input=union, keys=tuple(names), aggregates=()
        )
        scope = Scope([ScopeColumn(c.name, c.internal, c.type.plain()) for c in scope.columns])
    return Planned(union, scope)


def _flatten(planned: Planned) -> list[Planned]:
    if isinstance(planned.node, Union) and planned.presentation is None:
        return [Planned(branch, Scope.of(branch.schema, None)) for branch in planned.node.branches]
    return [planned]


def _cast_branch(branch: Planned, names: list[str], types: list[DataType]) -> PlanNode:
    projections: list[tuple[str, Expr]] = []
    identity = True
    for name, kind, column in zip(names, types, branch.scope.columns, strict=True):
        source: Expr = ColumnRef(name=column.internal, type=column.type)
        if column.type.plain().with_nullable(True) != kind.plain().with_nullable(True):
            source = Call(
                function="CAST",
                args=(source,),
                options=(("type", kind.plain()),),
                type=kind.plain(),
            )
            identity = False
        if name != column.internal:
            identity = False
        projections.append((name, source))
    if identity and [c.name for c in branch.node.schema.columns] == names:
        return branch.node
    schema = Schema(tuple(Column(name, kind) for name, kind in zip(names, types, strict=True)))
    return Calc(schema=schema, input=branch.node, projections=tuple(projections))


def _presentation(
    ctx: PlanContext,
    planned: Planned,
    order: exp.Expr | None,
    limit: exp.Expr | None,
    offset: exp.Expr | None,
) -> Presentation:
    keys: list[SortKey] = []
    for item in order.expressions if order is not None else []:
        target = item.this
        column = _output_column(ctx, planned, target)
        ascending = not item.args.get("desc")
        nulls_first = bool(item.args.get("nulls_first"))
        keys.append(SortKey(column, ascending, nulls_first))
    count = None
    if limit is not None:
        value = ctx.constant(limit.expression if isinstance(limit, exp.Limit) else limit)
        if not isinstance(value, int) or value < 0:
            raise ctx.invalid("LIMIT needs a non-negative integer", limit)
        count = value
    skip = 0
    if offset is not None:
        value = ctx.constant(offset.expression if isinstance(offset, exp.Offset) else offset)
        if not isinstance(value, int) or value < 0:
            raise ctx.invalid("OFFSET needs a non-negative integer", offset)
        skip = value
    return Presentation(tuple(keys), count, skip)


def _output_column(ctx: PlanContext, planned: Planned, target: exp.Expr) -> str:
    """Return the output column an ORDER BY item means: a name, an alias or a position."""
    if isinstance(target, exp.Literal) and not target.is_string:
        position = int(target.this)
        if not 1 <= position <= len(planned.scope.columns):
            raise ctx.invalid(f"ORDER BY position {position} is not in the select list", target)
        return planned.scope.columns[position - 1].internal
    if isinstance(target, exp.Column):
        found = planned.scope.find(target.name)
        if len(found) == 1:
            return found[0].internal
    text = target.sql()
    for column in planned.scope.columns:
        if column.name == text:
            return column.internal
    raise ctx.unsupported(
        f"ORDER BY {text!r}: order by a column of the result",
        target,
        hint="select the expression with an alias and order by the alias",
    )
