"""Planning ``CROSS JOIN UNNEST`` and ``LEFT JOIN UNNEST ... ON TRUE``."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.events.types import TypeKind
from workbench.sql.expr import Expr
from workbench.sql.plan import PlanNode, Unnest
from workbench.sql.planner.context import PlanContext
from workbench.sql.planner.scope import Scope, ScopeColumn, unique_names


def _plain(expression: Expr) -> Expr:
    if expression.type.time_attribute is None:
        return expression
    return replace(expression, type=expression.type.plain())


def plan_unnest(
    ctx: PlanContext, left: PlanNode, left_scope: Scope, join: exp.Join, node: exp.Unnest
) -> tuple[PlanNode, Scope]:
    """Plan ``CROSS JOIN UNNEST(x)`` or ``LEFT JOIN UNNEST(x) ON TRUE`` over the rows so far."""
    side = (join.side or "").upper()
    on = join.args.get("on")
    if side not in ("", "LEFT") or (join.kind or "").upper() in ("SEMI", "ANTI"):
        raise ctx.unsupported(
            f"{side or join.kind} JOIN UNNEST is not supported",
            join,
            hint="use CROSS JOIN UNNEST(...) or LEFT JOIN UNNEST(...) ON TRUE",
        )
    outer = side == "LEFT"
    if on is not None and not (isinstance(on, exp.Boolean) and on.this is True):
        raise ctx.unsupported(
            "a join with UNNEST takes ON TRUE only",
            on,
            hint="filter the unnested rows in WHERE",
        )
    if outer and on is None:
        raise ctx.invalid("LEFT JOIN UNNEST needs ON TRUE", join)
    if len(node.expressions) != 1:
        raise ctx.unsupported("UNNEST takes one array or map", node)
    expression = ctx.compile(node.expressions[0], left_scope)
    element = expression.type
    if element.kind is TypeKind.ARRAY and element.element is not None:
        item = element.element
        if item.kind is TypeKind.ROW:
            defaults = [f.name for f in item.fields]
            types = [f.type for f in item.fields]
        else:
            defaults, types = ["f0"], [item]
    elif element.kind is TypeKind.MAP and element.key is not None and element.value is not None:
        defaults, types = ["key", "value"], [element.key, element.value]
    else:
        raise ctx.invalid(
            f"UNNEST needs an ARRAY or a MAP, not {element.plain().sql()}",
            node.expressions[0],
        )
    alias = node.args.get("alias")
    names = [column.name for column in alias.columns] if alias is not None else []
    offset = node.args.get("offset")
    ordinality: str | None = None
    if offset is not None and offset is not False:
        ordinality = offset.name if isinstance(offset, exp.Identifier) else None
        if ordinality is None:
            ordinality = names.pop() if len(names) == len(defaults) + 1 else "ordinality"
    if names and len(names) != len(defaults):
        raise ctx.invalid(
            f"{len(names)} column names given for {len(defaults)} UNNEST columns",
            alias,
            hint=f"name them as in AS t ({', '.join(defaults)})",
        )
    names = names or defaults
    wanted = [*names, *([ordinality] if ordinality else [])]
    unique = unique_names([*left.schema.names, *wanted])[len(left.schema.names) :]
    kinds = [kind.plain().with_nullable(True) for kind in types]
    if ordinality:
        kinds.append(t.INT.with_nullable(outer))
    columns = [Column(c.name, c.type) for c in left.schema.columns]
    columns.extend(Column(name, kind) for name, kind in zip(unique, kinds, strict=True))
    plan = Unnest(
        schema=Schema(tuple(columns)),
        input=left,
        expression=_plain(expression),
        columns=tuple(unique[: len(names)]),
        ordinality=unique[-1] if ordinality else None,
        outer=outer,
    )
    qualifier = alias.name if alias is not None and alias.name else None
    scope = Scope(
        [*left_scope.columns]
        + [
            ScopeColumn(name, internal, kind, qualifier)
            for name, internal, kind in zip(wanted, unique, kinds, strict=True)
        ]
    )
    return plan, scope
