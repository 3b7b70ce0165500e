"""Planning lateral joins: table functions and lateral derived tables.

``FROM t, LATERAL TABLE(f(t.x)) AS s (a, b)``, ``CROSS JOIN LATERAL TABLE(...)``
and ``LEFT JOIN LATERAL TABLE(...) ON TRUE`` call a user table function per
row, as in Flink. The standard form ``CROSS JOIN LATERAL (SELECT ... FROM
UNNEST(t.arr) AS u (x) WHERE ...)`` is planned when the subquery reads
UNNEST of the outer row's columns, VALUES of them, or nothing (``SELECT
t.a + 1``). Every form becomes one :class:`LateralJoin` step, which keeps
no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlglot import exp

from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TypeKind, common_type
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.plan import LateralJoin, LateralSource, PlanNode, Unnest
from workbench.sql.planner.context import PlanContext, output_name
from workbench.sql.planner.scope import Scope, ScopeColumn, unique_names
from workbench.sql.planner.unnest import plan_unnest

_SUBQUERY_HINT = (
    "a LATERAL subquery may read FROM UNNEST(t.arr) AS u (x) or FROM (VALUES (t.a), (t.b)) AS v (x); "
    "join other tables with a regular, interval, lookup or temporal join"
)

#: Clauses a lateral subquery cannot have, with the words used in messages.
_REJECTED_CLAUSES = {
    "group": "GROUP BY",
    "having": "HAVING",
    "order": "ORDER BY",
    "limit": "LIMIT",
    "offset": "OFFSET",
    "distinct": "DISTINCT",
    "qualify": "QUALIFY",
    "windows": "WINDOW",
    "joins": "a join",
    "laterals": "LATERAL",
    "with_": "WITH",
}


def _plain(expression: Expr) -> Expr:
    if expression.type.time_attribute is None:
        return expression
    return replace(expression, type=expression.type.plain())


def plan_lateral(
    ctx: PlanContext, left: PlanNode, left_scope: Scope, join: exp.Join, node: exp.Lateral
) -> tuple[PlanNode, Scope]:
    """Plan ``[CROSS|LEFT] JOIN LATERAL ...`` (or ``, LATERAL ...``) over the rows so far."""
    outer = _is_outer(ctx, join)
    if node.args.get("view") or node.args.get("cross_apply") is not None:
        raise ctx.unsupported(
            "LATERAL VIEW and APPLY are not Flink SQL",
            node,
            hint="write CROSS JOIN LATERAL TABLE(f(...)) or CROSS JOIN UNNEST(...)",
        )
    body = node.this
    if isinstance(body, exp.Anonymous) and body.name.upper() == "TABLE":
        source, outputs, condition = _plan_function(ctx, left, left_scope, body)
    elif isinstance(body, exp.Subquery):
        source, outputs, condition = _plan_subquery(ctx, left, left_scope, body.this)
    else:
        raise ctx.unsupported(
            f"cannot join LATERAL {body.sql()}",
            node,
            hint="call a table function as LATERAL TABLE(f(t.x)), or " + _SUBQUERY_HINT,
        )
    alias = node.args.get("alias")
    names = [name for name, _ in outputs]
    if alias is not None and alias.columns:
        names = [column.name for column in alias.columns]
        if len(names) != len(outputs):
            raise ctx.invalid(
                f"{len(names)} column names given for {len(outputs)} LATERAL columns",
                alias,
                hint=f"name them as in AS s ({', '.join(name for name, _ in outputs)})",
            )
    qualifier = alias.name if alias is not None and alias.name else None
    return _build(
        left,
        left_scope,
        source,
        outputs,
        names=names,
        condition=condition,
        outer=outer,
        qualifier=qualifier,
    )


def _is_outer(ctx: PlanContext, join: exp.Join) -> bool:
    """Return whether the join is LEFT; reject other sides and ON conditions but TRUE."""
    side = (join.side or "").upper()
    kind = (join.kind or "").upper()
    on = join.args.get("on")
    if side not in ("", "LEFT") or kind in ("SEMI", "ANTI"):
        raise ctx.unsupported(
            f"{side or kind} JOIN LATERAL is not supported",
            join,
            hint="use CROSS JOIN LATERAL ... or LEFT JOIN LATERAL ... ON TRUE",
        )
    if join.args.get("using"):
        raise ctx.unsupported("JOIN LATERAL ... USING is not supported", join)
    if on is not None and not (isinstance(on, exp.Boolean) and on.this is True):
        # Flink accepts only literal TRUE as the condition of a lateral outer join.
        raise ctx.unsupported(
            "a join with LATERAL takes ON TRUE only",
            on,
            hint="filter the generated rows in WHERE, or inside the LATERAL subquery",
        )
    if side == "LEFT" and on is None:
        raise ctx.invalid("LEFT JOIN LATERAL needs ON TRUE", join)
    return side == "LEFT"


def _plan_function(
    ctx: PlanContext, left: PlanNode, left_scope: Scope, body: exp.Anonymous
) -> tuple[LateralSource, list[tuple[str, Expr]], Expr | None]:
    if len(body.expressions) != 1 or not isinstance(body.expressions[0], exp.Anonymous):
        raise ctx.invalid(
            "LATERAL TABLE(...) takes one table function call",
            body,
            hint="write LATERAL TABLE(f(t.x)) AS s (a, b)",
        )
    call = body.expressions[0]
    definition = ctx.functions.table_function(call.name)
    if definition is None:
        known = ctx.functions.table_function_names()
        registered = (
            f"registered table functions: {', '.join(known)}" if known else "none is registered"
        )
        raise ctx.invalid(
            f"table function {call.name!r} not found",
            call,
            hint=f"register it with Session.register_table_function(name, func, returns=...); {registered}",
        )
    problem = definition.accepts(len(call.expressions))
    if problem is not None:
        raise ctx.invalid(
            f"table function {call.name!r} cannot take {len(call.expressions)} argument(s): "
            f"{problem}",
            call,
            hint="pass the arguments the registered Python function takes",
        )
    args = tuple(_plain(ctx.compile(argument, left_scope)) for argument in call.expressions)
    taken = list(left.schema.names)
    source = LateralSource(
        kind="function",
        columns=tuple(unique_names([*taken, *definition.columns])[len(taken) :]),
        types=definition.types,
        function=definition.name,
        args=args,
    )
    return source, _pass_through(source, definition.columns), None


def _plan_subquery(
    ctx: PlanContext, left: PlanNode, left_scope: Scope, query: exp.Expr
) -> tuple[LateralSource, list[tuple[str, Expr]], Expr | None]:
    if isinstance(query, exp.Values):
        source, scope = _values_source(ctx, left, left_scope, query, names=None)
        names = [column.name for column in scope.columns[len(left_scope.columns) :]]
        return source, _pass_through(source, names), None
    if not isinstance(query, exp.Select):
        raise ctx.unsupported(
            f"cannot plan this LATERAL subquery: {type(query).__name__.upper()} is not supported here",
            query,
            hint=_SUBQUERY_HINT,
        )
    for key, words in _REJECTED_CLAUSES.items():
        if query.args.get(key):
            raise ctx.unsupported(
                f"a LATERAL subquery with {words} is not supported",
                query.args[key] if isinstance(query.args[key], exp.Expr) else query,
                hint=_SUBQUERY_HINT,
            )
    for item in query.expressions:
        aggregate = item.find(exp.AggFunc)
        if aggregate is not None:
            raise ctx.unsupported(
                "a LATERAL subquery cannot aggregate",
                aggregate,
                hint="aggregate the joined rows in the outer query, grouped by the outer row's key",
            )
    from_clause = query.args.get("from_")
    if from_clause is None:
        # SELECT t.a + 1 AS b: one generated row per input row.
        source = LateralSource(kind="values", columns=(), types=(), rows=((),))
        scope = left_scope
    else:
        item = from_clause.this
        if isinstance(item, exp.Unnest):
            source, scope = _unnest_source(ctx, left, left_scope, item)
        elif isinstance(item, exp.Values) or (
            isinstance(item, exp.Subquery) and isinstance(item.this, exp.Values)
        ):
            values = item if isinstance(item, exp.Values) else item.this
            alias = item.args.get("alias")
            source, scope = _values_source(ctx, left, left_scope, values, names=alias)
        else:
            raise ctx.unsupported(
                f"a LATERAL subquery cannot read {item.sql()}",
                item,
                hint=_SUBQUERY_HINT,
            )
    condition: Expr | None = None
    where = query.args.get("where")
    if where is not None:
        condition = ctx.compile(where.this, scope)
        if condition.type.kind not in (TypeKind.BOOLEAN, TypeKind.NULL):
            raise ctx.invalid(
                f"WHERE needs a BOOLEAN condition, not {condition.type.plain().sql()}", where.this
            )
    generated = scope.columns[len(left_scope.columns) :]
    outputs: list[tuple[str, Expr]] = []
    for item in query.expressions:
        star = isinstance(item, exp.Star) or (
            isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
        )
        if star:
            outputs.extend(
                (column.name, ColumnRef(type=column.type, name=column.internal))
                for column in generated
            )
            continue
        expression = item.this if isinstance(item, exp.Alias) else item
        outputs.append((output_name(item, ctx.script), ctx.compile(expression, scope)))
    return source, outputs, condition


def _unnest_source(
    ctx: PlanContext, left: PlanNode, left_scope: Scope, node: exp.Unnest
) -> tuple[LateralSource, Scope]:
    """Return the source of ``FROM UNNEST(x)``, naming its columns as CROSS JOIN UNNEST does."""
    plan, scope = plan_unnest(ctx, left, left_scope, exp.Join(this=node), node)
    assert isinstance(plan, Unnest)
    columns = [*plan.columns, *([plan.ordinality] if plan.ordinality else [])]
    types = []
    for name in columns:
        column = plan.schema.find(name)
        assert column is not None
        types.append(column.type)
    source = LateralSource(
        kind="unnest",
        columns=tuple(columns),
        types=tuple(types),
        args=(plan.expression,),
        ordinality=plan.ordinality is not None,
    )
    return source, scope


def _values_source(
    ctx: PlanContext,
    left: PlanNode,
    left_scope: Scope,
    node: exp.Values,
    names: exp.TableAlias | None,
) -> tuple[LateralSource, Scope]:
    """Return the source of VALUES whose items may read the outer row's columns."""
    rows: list[list[Expr]] = []
    for row in node.expressions:
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        rows.append([_plain(ctx.compile(item, left_scope)) for item in items])
    width = len(rows[0]) if rows else 0
    if any(len(row) != width for row in rows):
        raise ctx.invalid("every row of VALUES must have the same number of columns", node)
    alias = names if names is not None else node.args.get("alias")
    column_names = [c.name for c in alias.columns] if alias is not None and alias.columns else []
    if not column_names:
        column_names = [f"col{index + 1}" for index in range(width)]
    if len(column_names) != width:
        raise ctx.invalid(
            f"{len(column_names)} column names given for {width} VALUES columns", alias or node
        )
    types: list[DataType] = []
    for index in range(width):
        kind: DataType | None = t.NULL
        for row in rows:
            kind = common_type(kind, row[index].type) if kind is not None else None
        if kind is None:
            raise ctx.invalid(
                f"the values of column {column_names[index]!r} have incompatible types", node
            )
        types.append(kind if kind.kind is not TypeKind.NULL else t.STRING)
    taken = list(left.schema.names)
    internal = unique_names([*taken, *column_names])[len(taken) :]
    source = LateralSource(
        kind="values",
        columns=tuple(internal),
        types=tuple(kind.with_nullable(True) for kind in types),
        rows=tuple(tuple(row) for row in rows),
    )
    qualifier = alias.name if alias is not None and alias.name else None
    scope = Scope(
        [
            *left_scope.columns,
            *(
                ScopeColumn(name, inner, kind.with_nullable(True), qualifier)
                for name, inner, kind in zip(column_names, internal, types, strict=True)
            ),
        ]
    )
    return source, scope


def _pass_through(source: LateralSource, names: Sequence[str]) -> list[tuple[str, Expr]]:
    """Return the generated columns as the outputs, under ``names``."""
    return [
        (name, ColumnRef(type=kind, name=internal))
        for name, internal, kind in zip(names, source.columns, source.types, strict=True)
    ]


def _build(
    left: PlanNode,
    left_scope: Scope,
    source: LateralSource,
    outputs: list[tuple[str, Expr]],
    *,
    names: list[str],
    condition: Expr | None,
    outer: bool,
    qualifier: str | None,
) -> tuple[PlanNode, Scope]:
    """Return the lateral join step and its scope: the input's columns, then ``names``."""
    left_names = list(left.schema.names)
    internal = unique_names([*left_names, *names])[len(left_names) :]
    # Time attributes of the generated columns become plain, and an outer join
    # makes every appended column nullable.
    kinds = [
        expression.type.plain().with_nullable(expression.type.nullable or outer)
        for _, expression in outputs
    ]
    plan = LateralJoin(
        schema=Schema(
            (
                *left.schema.columns,
                *(Column(name, kind) for name, kind in zip(internal, kinds, strict=True)),
            )
        ),
        input=left,
        source=source,
        outputs=tuple(
            (name, _plain(expression))
            for name, (_, expression) in zip(internal, outputs, strict=True)
        ),
        condition=condition,
        outer=outer,
    )
    scope = Scope(
        [
            *left_scope.columns,
            *(
                ScopeColumn(name, inner, kind, qualifier)
                for name, inner, kind in zip(names, internal, kinds, strict=True)
            ),
        ]
    )
    return plan, scope
