"""Planning GROUP BY: window aggregation, grouping sets, and updating aggregation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from sqlglot import exp

from workbench.errors import ValidationError
from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TimeAttribute, window_bound_type
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.plan import (
    AggCall,
    Calc,
    GroupAggregate,
    PlanNode,
    WindowAggregate,
    WindowSpec,
    WindowTableFunction,
)
from workbench.sql.planner.aggregates import (
    AggregateSource,
    aggregate_name,
    check_type,
    constant_arguments,
    describe_call,
)
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


@dataclass
class _GroupBy:
    """The items of a GROUP BY, sorted by role."""

    keys: list[exp.Expr]
    sets: list[exp.Expr]
    legacy: exp.Expr | None
    window_columns: set[str]


@dataclass
class _Input:
    """What the aggregation reads: its input plan and the window it assigns, if any."""

    base: PlanNode
    spec: WindowSpec | None
    windowed: bool


def plan_grouping(
    ctx: PlanContext,
    node: PlanNode,
    scope: Scope,
    select: exp.Select,
    aggregate_nodes: list[exp.Expr],
) -> Grouped:
    if node.updating:
        raise ctx.unsupported(
            "aggregating the updating result of an aggregation without windows is not supported",
            select.args.get("group") or select,
            hint="aggregate per window (TUMBLE, HOP, CUMULATE, SESSION) in the inner query",
        )
    group_by = _classify(ctx, scope, select)
    source = _aggregation_input(ctx, node, scope, group_by)
    builder = _Builder()
    # Every input column passes through, so that late rows keep all their values.
    for passed in source.base.schema.columns:
        builder.add(ColumnRef(name=passed.name, type=passed.type), "c")
    no_aggregates = _reject_aggregates(ctx)
    keys = []
    for item in group_by.keys:
        expression = ctx.compile(item, scope, no_aggregates)
        visible = None
        if isinstance(item, exp.Column):
            found, path = scope.resolve(item, ctx.script)
            # A nested field (payload.user.name) is an expression key, matched by its text.
            visible = found if not path else None
        keys.append(_Key(builder.add(expression, "k"), expression, item, visible))
    key_sets = _grouping_sets(ctx, group_by.sets, scope, builder, no_aggregates)
    sources = _unique_sources(ctx, aggregate_nodes)
    calls = _aggregate_calls(ctx, sources, scope, builder, no_aggregates)

    spec = source.spec
    if spec is not None and group_by.legacy is not None and spec.kind == "SESSION":
        # A legacy SESSION window has a session per group key.
        spec = replace(spec, partition_keys=tuple(key.name for key in keys))
    if spec is not None:
        if spec.kind == "SESSION":
            _check_session_keys(ctx, spec, keys, key_sets, select)
        builder.add(_time_ref(source.base, spec.time_column), "t")
    elif source.windowed:
        for name in ("window_start", "window_end"):
            bound = scope.find(name)[0]
            builder.add(ColumnRef(name=bound.internal, type=bound.type), "w")

    pre_schema = Schema(tuple(Column(name, e.type) for name, e in builder.projections.items()))
    pre = Calc(schema=pre_schema, input=source.base, projections=tuple(builder.projections.items()))
    key_names = list(
        dict.fromkeys([key.name for key in keys] + [n for names in key_sets or [] for n in names])
    )
    grouping_sets = None
    if key_sets is not None:
        grouping_sets = tuple(tuple(key.name for key in keys) + names for names in key_sets)
    key_columns = _key_columns(pre_schema, key_names, grouping_sets)
    agg_columns = [Column(call.output, call.type) for call in calls]
    aggregate: PlanNode
    if source.windowed:
        aggregate = _window_aggregate(
            scope,
            pre,
            spec=spec,
            key_columns=key_columns,
            agg_columns=agg_columns,
            calls=calls,
            grouping_sets=grouping_sets,
        )
    else:
        aggregate = GroupAggregate(
            schema=Schema(tuple(key_columns + agg_columns)),
            input=pre,
            keys=tuple(key_names),
            aggregates=tuple(calls),
            grouping_sets=grouping_sets,
        )
    post_scope = _post_scope(keys, key_sets, scope, aggregate.schema, windowed=source.windowed)
    special = _post_special(
        ctx, sources, calls, keys, scope=scope, post_scope=post_scope, legacy=group_by.legacy
    )
    return Grouped(aggregate, post_scope, special)


def _classify(ctx: PlanContext, scope: Scope, select: exp.Select) -> _GroupBy:
    group = select.args.get("group")
    items: list[exp.Expr] = list(group.expressions) if group is not None else []
    sets: list[exp.Expr] = [
        item for item in items if isinstance(item, (exp.Rollup, exp.Cube, exp.GroupingSets))
    ]
    plain = [item for item in items if item not in sets]
    legacy = [item for item in plain if _legacy_kind(item) is not None]
    plain = [item for item in plain if _legacy_kind(item) is None]
    windows = {item: _window_column(scope, item) for item in plain}
    window_columns = {name for name in windows.values() if name is not None}
    if len(legacy) > 1 or (legacy and window_columns):
        raise ctx.invalid("GROUP BY may hold one window function", legacy[-1])
    keys = [item for item in plain if windows[item] is None]
    return _GroupBy(keys, sets, legacy[0] if legacy else None, window_columns)


def _aggregation_input(
    ctx: PlanContext, node: PlanNode, scope: Scope, group_by: _GroupBy
) -> _Input:
    """Decide how windows are assigned: by this step (from a TVF or legacy window) or upstream."""
    if group_by.legacy is not None:
        return _Input(node, _legacy_spec(ctx, group_by.legacy, scope), windowed=True)
    windowed = {"window_start", "window_end"} <= group_by.window_columns
    tvf, pushed_filter = _window_source(node)
    if not windowed or tvf is None or _reads_window_columns(pushed_filter):
        # Without a TVF right below, rows already carry window_start and window_end.
        return _Input(node, None, windowed)
    base = tvf.input
    if pushed_filter is not None:
        # The WHERE reads no window column, so it can run before windows are assigned.
        projections = tuple(
            (c.name, ColumnRef(name=c.name, type=c.type)) for c in base.schema.columns
        )
        base = Calc(
            schema=base.schema, input=base, projections=projections, predicate=pushed_filter
        )
    return _Input(base, tvf.window, windowed=True)


def _key_columns(
    pre_schema: Schema, key_names: list[str], grouping_sets: tuple[tuple[str, ...], ...] | None
) -> list[Column]:
    """Return the key columns of the output; a key missing from some grouping set is nullable."""
    columns = []
    for name in key_names:
        column = pre_schema.find(name)
        assert column is not None
        kind = column.type.plain()
        if grouping_sets is not None and any(name not in keys for keys in grouping_sets):
            kind = kind.with_nullable(True)
        columns.append(Column(name, kind))
    return columns


def _window_aggregate(
    scope: Scope,
    pre: Calc,
    *,
    spec: WindowSpec | None,
    key_columns: list[Column],
    agg_columns: list[Column],
    calls: list[AggCall],
    grouping_sets: tuple[tuple[str, ...], ...] | None,
) -> WindowAggregate:
    time_type = _window_time_type(pre.schema, spec, scope)
    bound = window_bound_type(time_type)
    window_columns = [
        Column("window_start", bound),
        Column("window_end", bound),
        Column("window_time", time_type.with_time_attribute(TimeAttribute.ROWTIME)),
    ]
    start_column = "window_start" if spec is not None else scope.find("window_start")[0].internal
    end_column = "window_end" if spec is not None else scope.find("window_end")[0].internal
    return WindowAggregate(
        schema=Schema(tuple(key_columns + window_columns + agg_columns)),
        input=pre,
        window=spec,
        keys=tuple(column.name for column in key_columns),
        aggregates=tuple(calls),
        grouping_sets=grouping_sets,
        window_start_column=start_column,
        window_end_column=end_column,
        precision_ns=bound.precision_ns,
    )


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


def _window_column(scope: Scope, item: exp.Expr) -> str | None:
    if not isinstance(item, exp.Column) or item.name not in WINDOW_COLUMNS:
        return None
    found = scope.find(item.name, item.table or None)
    if len(found) == 1 and found[0].internal in WINDOW_COLUMNS:
        return found[0].internal
    return None


def _window_time_type(pre_schema: Schema, spec: WindowSpec | None, scope: Scope) -> DataType:
    """Return the type of the aggregation's window_time: the type of the time it windows."""
    if spec is not None:
        column = pre_schema.find(spec.time_column)
        assert column is not None
        return column.type.plain().with_nullable(False)
    found = scope.find("window_time")
    if found:
        return found[0].type.plain().with_nullable(False)
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
    return window_spec(ctx, kind, params, item, time_column=found.internal, time_type=found.type)


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
    """Return each distinct aggregate call once (the same text means the same aggregate)."""
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
        constants = constant_arguments(ctx, source)
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
                type=result_type,
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
    *,
    windowed: bool,
) -> Scope:
    """Return the columns visible after aggregation: grouped columns and window bounds."""
    columns: list[ScopeColumn] = []
    for key in keys:
        if key.column is not None:
            found = schema.find(key.name)
            assert found is not None
            columns.append(ScopeColumn(key.column.name, key.name, found.type, key.column.qualifier))
    set_keys = {name for names in key_sets or [] for name in names}
    for column in scope.columns:
        if column.internal in set_keys and not any(c.internal == column.internal for c in columns):
            found = schema.find(column.internal)
            if found is not None:
                columns.append(
                    ScopeColumn(column.name, column.internal, found.type, column.qualifier)
                )
    if windowed:
        qualifier = next((c.qualifier for c in scope.columns if c.internal == "window_start"), None)
        for name in WINDOW_COLUMNS:
            found = schema.find(name)
            assert found is not None
            columns.append(ScopeColumn(name, name, found.type, qualifier))
    return Scope(columns)


def _post_special(
    ctx: PlanContext,
    sources: list[AggregateSource],
    calls: list[AggCall],
    keys: list[_Key],
    *,
    scope: Scope,
    post_scope: Scope,
    legacy: exp.Expr | None,
) -> Special:
    """Return the resolver for the select list and HAVING over the aggregation's output."""
    by_text = {source.node.sql(): call for source, call in zip(sources, calls, strict=True)}
    key_by_text = {key.node.sql(): key for key in keys if key.column is None}
    legacy_kind = _legacy_kind(legacy) if legacy is not None else None

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

    return special
