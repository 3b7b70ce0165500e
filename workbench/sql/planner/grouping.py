"""Planning GROUP BY: window aggregation, grouping sets, and updating aggregation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from sqlglot import exp

from workbench.errors import ValidationError
from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TimeAttribute
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.parser import node_position
from workbench.sql.plan import (
    AggCall,
    Calc,
    GroupAggregate,
    PlanNode,
    WindowAggregate,
    WindowSpec,
    WindowTableFunction,
)
from workbench.sql.planner.aggregates import AggregateSource, check_type, describe_call
from workbench.sql.planner.context import PlanContext, Special
from workbench.sql.planner.relations import WINDOW_COLUMNS, window_spec
from workbench.sql.planner.scope import Scope, ScopeColumn

LEGACY_WINDOWS = {"TUMBLE": ("SIZE",), "HOP": ("SLIDE", "SIZE"), "SESSION": ("GAP",)}
LEGACY_AUXILIARY = {
    "_START": "window_start",
    "_END": "window_end",
    "_ROWTIME": "window_time",
    "_PROCTIME": "window_time",
}


@dataclass
class Grouped:
    """An aggregation step and how the rest of the SELECT refers to its output."""

    node: PlanNode
    scope: Scope
    special: Special


@dataclass
class _Key:
    name: str
    expr: Expr
    node: exp.Expr
    column: ScopeColumn | None = None


@dataclass
class _Builder:
    """The pre-aggregation projection being assembled."""

    projections: dict[str, Expr] = field(default_factory=dict)

    def add(self, expression: Expr, prefix: str) -> str:
        if isinstance(expression, ColumnRef):
            self.projections.setdefault(expression.name, expression)
            return expression.name
        for name, existing in self.projections.items():
            if existing == expression:
                return name
        name = f"${prefix}{sum(1 for n in self.projections if n.startswith('$' + prefix))}"
        self.projections[name] = expression
        return name


def plan_grouping(
    ctx: PlanContext,
    node: PlanNode,
    scope: Scope,
    select: exp.Select,
    aggregate_nodes: list[exp.Expr],
) -> Grouped:
    group = select.args.get("group")
    items: list[exp.Expr] = list(group.expressions) if group is not None else []
    plain: list[exp.Expr] = []
    set_items: list[exp.Expr] = []
    for item in items:
        (set_items if isinstance(item, (exp.Rollup, exp.Cube, exp.GroupingSets)) else plain).append(
            item
        )
    legacy = [item for item in plain if _legacy_kind(item) is not None]
    plain = [item for item in plain if _legacy_kind(item) is None]
    window_items = [item for item in plain if _window_column(scope, item, ctx) is not None]
    window_names = {_window_column(scope, item, ctx) for item in window_items}
    key_items = [item for item in plain if item not in window_items]

    builder = _Builder()
    tvf, pushed_filter = _window_source(node)
    windowed = bool(legacy) or {"window_start", "window_end"} <= window_names
    spec: WindowSpec | None = None
    base = node
    if legacy:
        if len(legacy) > 1 or window_items:
            raise ctx.invalid("GROUP BY may hold one window function", legacy[-1])
        spec = _legacy_spec(ctx, legacy[0], scope)
    elif windowed and tvf is not None and not _reads_window_columns(pushed_filter):
        spec = tvf.window
        base = (
            tvf.input
            if pushed_filter is None
            else Calc(
                schema=tvf.input.schema,
                input=tvf.input,
                projections=tuple(
                    (c.name, ColumnRef(name=c.name, type=c.type)) for c in tvf.input.schema.columns
                ),
                predicate=pushed_filter,
            )
        )

    no_aggregates = _reject_aggregates(ctx)
    keys = [
        _Key(
            builder.add(ctx.compile(item, scope, no_aggregates), "k"),
            ctx.compile(item, scope, no_aggregates),
            item,
        )
        for item in key_items
    ]
    for key in keys:
        if isinstance(key.node, exp.Column):
            key.column = scope.resolve(key.node, ctx.script)[0]
    key_sets = _grouping_sets(ctx, set_items, scope, builder, no_aggregates)

    sources = _unique_sources(ctx, aggregate_nodes)
    calls = _aggregate_calls(ctx, sources, scope, builder, no_aggregates)

    if spec is not None and legacy and spec.kind == "SESSION":
        spec = replace(spec, partition_keys=tuple(key.name for key in keys))
    if spec is not None:
        if spec.kind == "SESSION":
            _check_session_keys(ctx, spec, keys, key_sets, select)
        builder.add(_time_ref(base, spec.time_column), "t")
    elif windowed:
        for name in ("window_start", "window_end"):
            column = scope.find(name)[0]
            builder.add(ColumnRef(name=column.internal, type=column.type), "w")

    pre_schema = Schema(
        tuple(Column(name, expr.type) for name, expr in builder.projections.items())
    )
    pre = Calc(schema=pre_schema, input=base, projections=tuple(builder.projections.items()))
    all_key_names = list(
        dict.fromkeys(
            [key.name for key in keys] + [name for names in key_sets or [] for name in names]
        )
    )
    grouping_sets = None
    if key_sets is not None:
        base_keys = tuple(key.name for key in keys)
        grouping_sets = tuple(base_keys + names for names in key_sets)
    nullable_keys = set()
    if grouping_sets is not None:
        nullable_keys = {
            name for name in all_key_names if any(name not in s for s in grouping_sets)
        }
    key_columns = [
        Column(
            name,
            pre_schema.find(name).type.plain().with_nullable(True)
            if name in nullable_keys
            else pre_schema.find(name).type.plain(),
        )  # type: ignore[union-attr]
        for name in all_key_names
    ]
    agg_columns = [Column(call.output, call.type) for call in calls]

    aggregate: PlanNode
    if windowed:
        bound = _window_bound_type(pre_schema, spec)
        window_columns = [
            Column("window_start", bound),
            Column("window_end", bound),
            Column("window_time", bound.with_time_attribute(TimeAttribute.ROWTIME)),
        ]
        schema = Schema(tuple(key_columns + window_columns + agg_columns))
        start_column = scope.find("window_start")[0].internal if spec is None else "window_start"
        end_column = scope.find("window_end")[0].internal if spec is None else "window_end"
        end_type = pre_schema.find(end_column).type if spec is None else bound  # type: ignore[union-attr]
        aggregate = WindowAggregate(
            schema=schema,
            input=pre,
            window=spec,
            keys=tuple(all_key_names),
            aggregates=tuple(calls),
            grouping_sets=grouping_sets,
            window_start_column=start_column,
            window_end_column=end_column,
            precision_ns=end_type.precision_ns,
        )
    else:
        schema = Schema(tuple(key_columns + agg_columns))
        aggregate = GroupAggregate(
            schema=schema,
            input=pre,
            keys=tuple(all_key_names),
            aggregates=tuple(calls),
            grouping_sets=grouping_sets,
        )

    post_scope = _post_scope(keys, key_sets, scope, schema, windowed, tvf)
    special = _post_special(
        ctx, sources, calls, keys, builder, scope, post_scope, legacy, key_items
    )
    return Grouped(aggregate, post_scope, special)


# Window detection ------------------------------------------------------------------------


def _window_source(node: PlanNode) -> tuple[WindowTableFunction | None, Expr | None]:
    """Return the window TVF directly under the aggregation, and a WHERE between them."""
    if isinstance(node, WindowTableFunction):
        return node, None
    if isinstance(node, Calc) and isinstance(node.input, WindowTableFunction):
        identity = all(isinstance(e, ColumnRef) and e.name == n for n, e in node.projections)
        if identity and len(node.projections) == len(node.input.schema.columns):
            return node.input, node.predicate
    return None, None


def _reads_window_columns(predicate: Expr | None) -> bool:
    return predicate is not None and bool(predicate.columns() & set(WINDOW_COLUMNS))


def _window_column(scope: Scope, item: exp.Expr, ctx: PlanContext) -> str | None:
    if not isinstance(item, exp.Column) or item.name not in WINDOW_COLUMNS:
        return None
    found = scope.find(item.name, item.table or None)
    if len(found) == 1 and found[0].internal in WINDOW_COLUMNS:
        return found[0].internal
    return None


def _window_bound_type(pre_schema: Schema, spec: WindowSpec | None) -> DataType:
    if spec is not None:
        column = pre_schema.find(spec.time_column)
        assert column is not None
        return column.type.plain().with_nullable(False)
    column = pre_schema.find("window_end")
    return column.type.plain().with_nullable(False) if column else t.timestamp(3)


def _time_ref(node: PlanNode, name: str) -> ColumnRef:
    column = node.schema.find(name)
    assert column is not None
    return ColumnRef(name=column.name, type=column.type)


def _legacy_kind(item: exp.Expr) -> str | None:
    if isinstance(item, exp.Anonymous) and str(item.this).upper() in LEGACY_WINDOWS:
        return str(item.this).upper()
    return None


def _legacy_spec(ctx: PlanContext, item: exp.Expr, scope: Scope) -> WindowSpec:
    kind = _legacy_kind(item)
    assert kind is not None
    args = list(item.expressions)
    names = LEGACY_WINDOWS[kind]
    if len(args) != len(names) + 1 or not isinstance(args[0], exp.Column):
        usage = f"{kind}(time_column, {', '.join(n.lower() for n in names)})"
        raise ctx.invalid(
            f"{kind} in GROUP BY takes a time column and {len(names)} interval(s)", item, hint=usage
        )
    found, _ = scope.resolve(args[0], ctx.script)
    if found.type.time_attribute is None:
        raise ctx.invalid(
            f"{kind} needs a time attribute, but column {found.name!r} is a plain {found.type.plain().sql()}",
            args[0],
        )
    params = dict(zip(names, args[1:], strict=True))
    return window_spec(ctx, kind, params, item, found.internal, found.type)


def _check_session_keys(
    ctx: PlanContext,
    spec: WindowSpec,
    keys: list[_Key],
    key_sets: list[tuple[str, ...]] | None,
    select: exp.Select,
) -> None:
    # NOTE: session aggregation groups by exactly the session's partition keys;
    # grouping by other columns inside a session is not supported yet.
    if key_sets is not None:
        raise ctx.unsupported(
            "GROUPING SETS with SESSION windows are not supported", select.args.get("group")
        )
    if set(spec.partition_keys) != {key.name for key in keys}:
        raise ctx.unsupported(
            "a SESSION window aggregation must group by exactly the session's PARTITION BY columns",
            select.args.get("group"),
            hint="SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL ...) ... GROUP BY k, window_start, window_end",
        )


# Keys and aggregates -----------------------------------------------------------------------


def _reject_aggregates(ctx: PlanContext) -> Special:
    from workbench.sql.planner.aggregates import aggregate_name

    def special(node: exp.Expr) -> Expr | None:
        if aggregate_name(ctx, node) is not None:
            raise ctx.invalid(
                "an aggregate cannot be used here (it would be nested in another aggregate or in GROUP BY)",
                node,
            )
        return None

    return special


def _grouping_sets(
    ctx: PlanContext, items: list[exp.Expr], scope: Scope, builder: _Builder, special: Special
) -> list[tuple[str, ...]] | None:
    if not items:
        return None
    if len(items) > 1:
        raise ctx.unsupported("GROUP BY may hold one GROUPING SETS, ROLLUP or CUBE", items[1])
    item = items[0]

    def names(nodes: list[exp.Expr]) -> tuple[str, ...]:
        return tuple(builder.add(ctx.compile(node, scope, special), "k") for node in nodes)

    if isinstance(item, exp.Rollup):
        columns = names(list(item.expressions))
        return [columns[:size] for size in range(len(columns), -1, -1)]
    if isinstance(item, exp.Cube):
        columns = names(list(item.expressions))
        return [
            combination
            for size in range(len(columns), -1, -1)
            for combination in itertools.combinations(columns, size)
        ]
    sets: list[tuple[str, ...]] = []
    for entry in item.expressions:
        if isinstance(entry, exp.Tuple):
            sets.append(names(list(entry.expressions)))
        elif isinstance(entry, exp.Paren):
            sets.append(names([entry.this]))
        else:
            sets.append(names([entry]))
    return sets


def _unique_sources(ctx: PlanContext, nodes: list[exp.Expr]) -> list[AggregateSource]:
    seen: dict[str, AggregateSource] = {}
    for node in nodes:
        seen.setdefault(node.sql(), describe_call(ctx, node))
    return list(seen.values())


def _aggregate_calls(
    ctx: PlanContext,
    sources: list[AggregateSource],
    scope: Scope,
    builder: _Builder,
    special: Special,
) -> list[AggCall]:
    calls: list[AggCall] = []
    for index, source in enumerate(sources):
        arg_exprs = [ctx.compile(arg, scope, special) for arg in source.args]
        constants = [ctx.constant(node) for node in source.constants]
        result_type = check_type(ctx, source, arg_exprs, constants)
        filter_name = None
        if source.filter is not None:
            condition = ctx.compile(source.filter, scope, special)
            ctx.require_boolean(condition, source.filter, "FILTER")
            filter_name = builder.add(condition, "f")
        calls.append(
            AggCall(
                function=source.function,
                args=tuple(builder.add(arg, "a") for arg in arg_exprs),
                output=f"$agg{index}",
                type=result_type,  # type: ignore[arg-type]
                distinct=source.distinct,
                filter=filter_name,
                constants=tuple(constants),
            )
        )
    return calls


# After the aggregation ---------------------------------------------------------------------


def _post_scope(
    keys: list[_Key],
    key_sets: list[tuple[str, ...]] | None,
    scope: Scope,
    schema: Schema,
    windowed: bool,
    tvf: WindowTableFunction | None,
) -> Scope:
    columns: list[ScopeColumn] = []
    for key in keys:
        if key.column is not None:
            found = schema.find(key.name)
            assert found is not None
            columns.append(ScopeColumn(key.column.name, key.name, found.type, key.column.qualifier))
    for column in scope.columns:
        if any(column.internal == name for names in key_sets or [] for name in names):
            found = schema.find(column.internal)
            if found is not None and not any(c.internal == column.internal for c in columns):
                columns.append(
                    ScopeColumn(column.name, column.internal, found.type, column.qualifier)
                )
    if windowed:
        qualifier = None
        for column in scope.columns:
            if column.internal == "window_start":
                qualifier = column.qualifier
        for name in WINDOW_COLUMNS:
            found = schema.find(name)
            assert found is not None
            columns.append(ScopeColumn(name, name, found.type, qualifier))
    del tvf
    return Scope(columns)


def _post_special(
    ctx: PlanContext,
    sources: list[AggregateSource],
    calls: list[AggCall],
    keys: list[_Key],
    builder: _Builder,
    scope: Scope,
    post_scope: Scope,
    legacy: list[exp.Expr],
    key_items: list[exp.Expr],
) -> Special:
    by_text = {source.node.sql(): call for source, call in zip(sources, calls, strict=True)}
    key_by_text = {key.node.sql(): key for key in keys if key.column is None}
    legacy_kind = _legacy_kind(legacy[0]) if legacy else None

    def special(node: exp.Expr) -> Expr | None:
        text = node.sql()
        call = by_text.get(text)
        if call is not None:
            return ColumnRef(name=call.output, type=call.type)
        key = key_by_text.get(text)
        if key is not None:
            return ColumnRef(name=key.name, type=key.expr.type)
        if isinstance(node, exp.Anonymous):
            name = str(node.this).upper()
            for suffix, column in LEGACY_AUXILIARY.items():
                if name.endswith(suffix) and name[: -len(suffix)] in LEGACY_WINDOWS:
                    if legacy_kind != name[: -len(suffix)]:
                        raise ctx.invalid(
                            f"{name} needs GROUP BY {name[: -len(suffix)]}(...)", node
                        )
                    found = post_scope.find(column)[0]
                    return ColumnRef(name=found.internal, type=found.type)
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            parts = [part.name for part in node.parts]
            try:
                post_scope.resolve(node, ctx.script)
            except ValidationError:
                try:
                    scope.resolve(node, ctx.script)
                except ValidationError:
                    return None
                raise ctx.invalid(
                    f"column {'.'.join(parts)!r} must appear in GROUP BY or inside an aggregate function",
                    node,
                ) from None
        return None

    del builder, key_items
    return special


def position_text(ctx: PlanContext, node: exp.Expr) -> str:
    position = node_position(ctx.script, node)
    return ctx.script[position.start : position.end] if position else node.sql()
