"""Planning one SELECT block: FROM, WHERE, GROUP BY/HAVING, OVER, the select list, DISTINCT."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from workbench.events.schema import Column, Schema
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.plan import Calc, GroupAggregate, PlanNode, Values
from workbench.sql.planner.aggregates import aggregate_name, find_aggregates
from workbench.sql.planner.context import PlanContext, Special, output_name
from workbench.sql.planner.grouping import plan_grouping
from workbench.sql.planner.joins import plan_joins, plan_subquery_joins
from workbench.sql.planner.match import plan_match_recognize
from workbench.sql.planner.over import apply_rank_filter, over_windows, plan_over
from workbench.sql.planner.planned import Planned
from workbench.sql.planner.relations import plan_relation
from workbench.sql.planner.scope import Scope, ScopeColumn, unique_names


def plan_select(ctx: PlanContext, select: exp.Select) -> Planned:
    _reject_unsupported(ctx, select)
    from_clause = select.args.get("from_") or select.args.get("from")
    where = select.args.get("where")
    where_condition = where.this if where is not None else None
    if from_clause is not None:
        node, scope = plan_relation(ctx, from_clause.this)
        joins = select.args.get("joins")
        if joins:
            node, scope, where_condition = plan_joins(ctx, node, scope, joins, where_condition)
        match = select.args.get("match")
        if match is not None:
            node, scope = plan_match_recognize(ctx, node, scope, match)
        node, scope, where_condition = plan_subquery_joins(ctx, node, scope, where_condition)
    else:
        node = Values(schema=Schema(()), rows=((),), source_name=ctx.next_values_name())
        scope = Scope()

    node, condition = apply_rank_filter(ctx, node, scope, where_condition)
    if condition is not None:
        predicate = ctx.compile(condition, scope, _no_aggregates(ctx, "WHERE"))
        ctx.require_boolean(predicate, condition, "WHERE")
        node = Calc(
            schema=node.schema, input=node, projections=_identity(node.schema), predicate=predicate
        )

    having = select.args.get("having")
    aggregate_nodes = find_aggregates(
        ctx, [*select.expressions, *([having.this] if having is not None else [])]
    )
    windows = over_windows(select)
    special: Special = _no_aggregates(ctx, "this SELECT")
    if select.args.get("group") is not None or aggregate_nodes or having is not None:
        # A ranking may order by aggregates of this SELECT: RANK() OVER (... ORDER BY SUM(x)).
        for window in windows:
            parts = [*(window.args.get("partition_by") or [])]
            order = window.args.get("order")
            parts.extend(item.this for item in (order.expressions if order is not None else []))
            aggregate_nodes.extend(find_aggregates(ctx, parts))
        grouped = plan_grouping(ctx, node, scope, select, aggregate_nodes)
        node, scope, special = grouped.node, grouped.scope, grouped.special
        if having is not None:
            predicate = ctx.compile(having.this, scope, special)
            ctx.require_boolean(predicate, having.this, "HAVING")
            node = Calc(
                schema=node.schema,
                input=node,
                projections=_identity(node.schema),
                predicate=predicate,
            )
        if windows:
            # OVER windows apply to the aggregated rows.
            over = plan_over(ctx, node, scope, select, windows, special=special)
            node, scope, special = over.node, over.scope, _first_of(over.special, special)
    elif windows:
        over = plan_over(ctx, node, scope, select, windows)
        node, scope, special = over.node, over.scope, over.special

    node, out_scope = _project(ctx, node, scope, select.expressions, special)
    if select.args.get("distinct"):
        keys = tuple(column.name for column in node.schema.columns)
        node = GroupAggregate(
            schema=node.schema.without_time_attributes(), input=node, keys=keys, aggregates=()
        )
        out_scope = Scope(
            [ScopeColumn(c.name, c.internal, c.type.plain()) for c in out_scope.columns]
        )
    return Planned(node, out_scope)


def _reject_unsupported(ctx: PlanContext, select: exp.Select) -> None:
    for key in ("laterals", "qualify", "connect", "prewhere"):
        value = select.args.get(key)
        if value:
            node = value[0] if isinstance(value, list) else value
            raise ctx.unsupported(f"{key.upper()} is not supported", node)


def _no_aggregates(ctx: PlanContext, clause: str) -> Special:
    def special(node: exp.Expr) -> Expr | None:
        if aggregate_name(ctx, node) is not None:
            raise ctx.invalid(
                f"aggregate {node.sql()} is not allowed in {clause}",
                node,
                hint="aggregates belong in the select list or HAVING of a query with GROUP BY",
            )
        if isinstance(node, exp.Window):
            raise ctx.invalid(f"OVER windows are not allowed in {clause}", node)
        return None

    return special


def _first_of(first: Special, second: Special) -> Special:
    """Return a resolver that asks ``first``, then ``second``."""

    def special(node: exp.Expr) -> Expr | None:
        found = first(node)
        return found if found is not None else second(node)

    return special


def _identity(schema: Schema) -> tuple[tuple[str, Expr], ...]:
    return tuple((c.name, ColumnRef(name=c.name, type=c.type)) for c in schema.columns)


def _project(
    ctx: PlanContext, node: PlanNode, scope: Scope, items: list[exp.Expr], special: Special
) -> tuple[PlanNode, Scope]:
    names: list[str] = []
    expressions: list[Expr] = []
    qualifiers: list[str | None] = []
    for item in items:
        star_qualifier = _star(item)
        if star_qualifier is not False:
            expanded = [
                c
                for c in scope.columns
                if not c.internal.startswith("$")
                and (star_qualifier is None or c.qualifier == star_qualifier)
            ]
            if star_qualifier is not None and not expanded:
                raise ctx.invalid(f"no input is named {star_qualifier!r}", item)
            for column in expanded:
                names.append(column.name)
                expressions.append(ColumnRef(name=column.internal, type=column.type))
                qualifiers.append(column.qualifier)
            continue
        target = item.this if isinstance(item, exp.Alias) else item
        expression = ctx.compile(target, scope, special)
        if not isinstance(expression, ColumnRef):
            expression = _plain(expression)
        names.append(output_name(item, ctx.script))
        expressions.append(expression)
        qualifiers.append(None)
    names = unique_names(names)
    projections = tuple(zip(names, expressions, strict=True))
    schema = Schema(tuple(Column(name, expr.type) for name, expr in projections))
    identity = [c.name for c in node.schema.columns] == names and all(
        isinstance(e, ColumnRef) and e.name == n for n, e in projections
    )
    result = node if identity else Calc(schema=schema, input=node, projections=projections)
    out_scope = Scope(
        [
            ScopeColumn(n, n, e.type, q)
            for n, e, q in zip(names, expressions, qualifiers, strict=True)
        ]
    )
    return result, out_scope


def _star(item: exp.Expr) -> str | bool | None:
    """Return False if the item is not a star, None for ``*``, or the qualifier of ``t.*``."""
    if isinstance(item, exp.Star):
        return None
    if isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
        return item.table or None
    return False


def _plain(expression: Expr) -> Expr:
    """Drop a time-attribute marker from a computed value (only bare columns keep it)."""
    if expression.type.time_attribute is None:
        return expression
    return replace(expression, type=expression.type.plain())
