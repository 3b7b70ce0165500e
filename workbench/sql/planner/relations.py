"""Planning the FROM clause: tables, views, subqueries, VALUES and window TVFs."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

import workbench.sql.planner.query as query_module
from workbench.errors import UnknownTableError
from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TimeAttribute, common_type, window_bound_type
from workbench.sql.catalog import TableDef, ViewDef
from workbench.sql.dialect import WINDOW_PARAMETERS, WindowTVF
from workbench.sql.expr import Expr
from workbench.sql.parser import node_position
from workbench.sql.plan import PlanNode, Scan, Values, WindowSpec, WindowTableFunction
from workbench.sql.planner.context import PlanContext, literal_type
from workbench.sql.planner.scope import Scope, ScopeColumn

WINDOW_COLUMNS = ("window_start", "window_end", "window_time")

_TIME_HINT = (
    "declare the event time in CREATE TABLE with WATERMARK FOR col AS col - INTERVAL '5' SECOND, "
    "or pass rowtime='col' to Session.from_pandas"
)


def plan_relation(ctx: PlanContext, node: exp.Expr) -> tuple[PlanNode, Scope]:
    """Return the plan and visible columns of one FROM item."""
    if isinstance(node, WindowTVF):
        return plan_window_tvf(ctx, node)
    if isinstance(node, exp.Table):
        return _plan_table(ctx, node)
    if isinstance(node, exp.Subquery):
        planned = query_module.plan_query(ctx, node.this, top_level=False)
        alias = node.args.get("alias")
        plan, scope = planned.node, planned.scope
        if alias is not None and alias.columns:
            plan, scope = _rename(ctx, plan, scope, [c.name for c in alias.columns], node)
        return plan, scope.requalify(node.alias or None)
    if isinstance(node, exp.Values):
        return _plan_values(ctx, node)
    if isinstance(node, (exp.Unnest, exp.Lateral)):
        word = "UNNEST" if isinstance(node, exp.Unnest) else "LATERAL"
        raise ctx.unsupported(
            f"{word} needs a table before it in FROM",
            node,
            hint=f"join it to the rows it reads, as in FROM t CROSS JOIN {word} ...",
        )
    raise ctx.unsupported(f"cannot read from {node.sql()!r}", node)


def _plan_table(ctx: PlanContext, node: exp.Table) -> tuple[PlanNode, Scope]:
    if isinstance(node.this, exp.Func) or node.args.get("joins"):
        raise ctx.unsupported(f"cannot read from {node.sql()!r}", node)
    name = node.name
    alias = node.alias or name
    entry = ctx.catalog.lookup(name)
    if entry is None:
        raise UnknownTableError(
            f"table or view {name!r} not found",
            sql=ctx.script,
            position=node_position(ctx.script, node),
            hint=ctx.catalog.suggestion(name),
        )
    if isinstance(entry, ViewDef):
        return _plan_view(ctx, entry, alias, node)
    scan = build_scan(ctx, entry)
    return scan, Scope.of(scan.schema, alias)


def _plan_view(
    ctx: PlanContext, view: ViewDef, alias: str, node: exp.Expr
) -> tuple[PlanNode, Scope]:
    if view.name in ctx.expanding:
        raise ctx.invalid(f"view {view.name!r} refers to itself", node)
    inner = ctx.with_script(view.script)
    inner.expanding = (*ctx.expanding, view.name)
    planned = query_module.plan_query(inner, view.query, top_level=False)
    ctx.values_counter = inner.values_counter
    plan, scope = planned.node, planned.scope
    if view.column_names:
        plan, scope = _rename(ctx, plan, scope, list(view.column_names), node)
    return plan, scope.requalify(alias)


def build_scan(ctx: PlanContext, table: TableDef) -> Scan:
    """Return the scan of a catalog table, with its computed columns compiled."""
    physical_scope = Scope.of(table.physical, table.name)
    table_ctx = ctx.with_script(table.script) if table.script else ctx
    computed: list[tuple[str, Expr]] = []
    for name, expression in table.computed:
        computed.append((name, table_ctx.compile(expression, physical_scope)))
    return Scan(
        schema=table.schema,
        table=table.name,
        physical=table.physical,
        computed=tuple(computed),
        watermark=table.watermark,
        proctime=table.proctime,
    )


def _rename(
    ctx: PlanContext, plan: PlanNode, scope: Scope, names: list[str], node: exp.Expr
) -> tuple[PlanNode, Scope]:
    if len(names) != len(scope.columns):
        raise ctx.invalid(f"{len(names)} column names given for {len(scope.columns)} columns", node)
    columns = [
        ScopeColumn(new, column.internal, column.type, column.qualifier)
        for new, column in zip(names, scope.columns, strict=True)
    ]
    return plan, Scope(columns)


def _plan_values(ctx: PlanContext, node: exp.Values) -> tuple[PlanNode, Scope]:
    rows: list[list[object]] = []
    nested: dict[tuple[int, int], DataType] = {}
    for row_index, row in enumerate(node.expressions):
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        cells: list[object] = []
        for index, item in enumerate(items):
            cells.append(ctx.constant(item))
            if not isinstance(item, exp.Literal):
                # A constructor such as ARRAY['a'] gives a Python list, so its
                # SQL type comes from the compiled expression, not the value.
                compiled = ctx.compile(item, Scope())
                if compiled.type.is_nested:
                    nested[row_index, index] = compiled.type
        rows.append(cells)
    width = len(rows[0]) if rows else 0
    if any(len(row) != width for row in rows):
        raise ctx.invalid("every row of VALUES must have the same number of columns", node)
    alias = node.args.get("alias")
    names = [c.name for c in alias.columns] if alias is not None and alias.columns else []
    if not names:
        names = [f"col{index + 1}" for index in range(width)]
    if len(names) != width:
        raise ctx.invalid(f"{len(names)} column names given for {width} VALUES columns", node)
    types: list[DataType] = []
    for index in range(width):
        kind: DataType | None = t.NULL
        for row_index, row in enumerate(rows):
            value_type = nested.get((row_index, index)) or literal_type(row[index])
            kind = common_type(kind, value_type) if kind is not None else None
        if kind is None:
            raise ctx.invalid(
                f"the values of column {names[index]!r} have incompatible types", node
            )
        types.append(kind if kind.kind.value != "NULL" else t.STRING)
    schema = Schema(tuple(Column(name, kind) for name, kind in zip(names, types, strict=True)))
    values = Values(
        schema=schema, rows=tuple(tuple(row) for row in rows), source_name=ctx.next_values_name()
    )
    qualifier = node.alias or None
    return values, Scope.of(schema, qualifier)


def plan_window_tvf(ctx: PlanContext, node: WindowTVF) -> tuple[PlanNode, Scope]:
    """Plan TUMBLE, HOP, CUMULATE or SESSION over a table, view or subquery."""
    source, scope = plan_relation(ctx, node.this)
    kind = node.kind
    if source.updating:
        raise ctx.unsupported(
            f"{kind} cannot window the updating result of an aggregation without windows", node
        )
    timecol_node = node.args["timecol"]
    found, path = scope.resolve(timecol_node, ctx.script)
    if path:
        raise ctx.invalid("DESCRIPTOR takes a column, not a nested field", timecol_node)
    if found.type.time_attribute is None:
        raise ctx.invalid(
            f"{kind} needs a time attribute, but column {found.name!r} is a plain {found.type.plain().sql()}",
            timecol_node,
            hint=_TIME_HINT,
        )
    spec = window_spec(
        ctx, kind, node.params, node, time_column=found.internal, time_type=found.type
    )
    if kind == "SESSION":
        keys = []
        for key_node in node.args.get("partition_by") or []:
            if not isinstance(key_node, exp.Column):
                raise ctx.unsupported("SESSION partitions by columns only", key_node)
            column, key_path = scope.resolve(key_node, ctx.script)
            if key_path:
                raise ctx.unsupported("SESSION partitions by columns, not nested fields", key_node)
            keys.append(column.internal)
        spec = replace(spec, partition_keys=tuple(keys))
    elif node.args.get("partition_by"):
        raise ctx.invalid(f"only SESSION takes PARTITION BY, not {kind}", node)
    for name in WINDOW_COLUMNS:
        if scope.find(name):
            raise ctx.invalid(f"the input of {kind} already has a column named {name!r}", node)
    columns = [
        ScopeColumn(
            c.name,
            c.internal,
            c.type.plain() if c.internal == found.internal else c.type,
            c.qualifier,
        )
        for c in scope.columns
    ]
    schema_columns = [
        Column(c.name, c.type.plain() if c.name == found.internal else c.type)
        for c in source.schema.columns
    ]
    bound = window_bound_type(found.type)
    attribute = found.type.time_attribute
    window_types = {
        "window_start": bound,
        "window_end": bound,
        "window_time": found.type.plain().with_nullable(False).with_time_attribute(attribute),
    }
    qualifier = node.alias or (scope.columns[0].qualifier if scope.columns else None)
    for name, kind_type in window_types.items():
        schema_columns.append(Column(name, kind_type))
        columns.append(ScopeColumn(name, name, kind_type, qualifier))
    if node.alias:
        columns = [ScopeColumn(c.name, c.internal, c.type, node.alias) for c in columns]
    plan = WindowTableFunction(schema=Schema(tuple(schema_columns)), input=source, window=spec)
    return plan, Scope(columns)


def window_spec(
    ctx: PlanContext,
    kind: str,
    params: dict[str, exp.Expr],
    node: exp.Expr,
    *,
    time_column: str,
    time_type: DataType,
) -> WindowSpec:
    """Validate a window function's interval arguments and return its specification."""
    allowed = WINDOW_PARAMETERS[kind]
    for name, value in params.items():
        if name not in allowed:
            raise ctx.invalid(
                f"{kind} has no parameter {name}", value, hint=f"{kind} takes {', '.join(allowed)}"
            )
    required = {
        "TUMBLE": ("SIZE",),
        "HOP": ("SLIDE", "SIZE"),
        "CUMULATE": ("STEP", "SIZE"),
        "SESSION": ("GAP",),
    }[kind]
    for name in required:
        if name not in params:
            raise ctx.invalid(
                f"{kind} needs a {name} interval", node, hint=f"{kind} takes {', '.join(allowed)}"
            )
    sizes = {name: ctx.interval_ns(value, f"{kind} {name}") for name, value in params.items()}
    for name, size in sizes.items():
        if name != "OFFSET" and size <= 0:
            raise ctx.invalid(f"{kind} {name} must be positive", params[name])
    if kind == "HOP" and sizes["SIZE"] % sizes["SLIDE"] != 0:
        raise ctx.invalid(
            "HOP size must be a whole multiple of its slide",
            params["SIZE"],
            hint="for example SLIDE 5 minutes, SIZE 10 minutes",
        )
    if kind == "CUMULATE" and sizes["SIZE"] % sizes["STEP"] != 0:
        raise ctx.invalid(
            "CUMULATE maximum size must be a whole multiple of its step",
            params["SIZE"],
            hint="for example STEP 2 minutes, SIZE 10 minutes",
        )
    return WindowSpec(
        processing_time=time_type.time_attribute is TimeAttribute.PROCTIME,
        kind=kind,  # type: ignore[arg-type]
        time_column=time_column,
        size_ns=sizes.get("SIZE", 0),
        slide_ns=sizes.get("SLIDE", 0),
        step_ns=sizes.get("STEP", 0),
        offset_ns=sizes.get("OFFSET", 0),
        gap_ns=sizes.get("GAP", 0),
        precision_ns=time_type.precision_ns,
    )
