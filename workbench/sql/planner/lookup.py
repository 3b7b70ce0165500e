"""Planning lookup joins: ``JOIN dim FOR SYSTEM_TIME AS OF s.proc_time ON s.k = dim.k``.

The right side is a catalog table of the ``duckdb`` or ``sqlite``
connector, read by key for each input row at processing time, as Flink's
lookup join reads a JDBC table.
"""

from __future__ import annotations

from sqlglot import exp

from workbench.errors import UnknownTableError
from workbench.events.schema import Column, Schema
from workbench.events.time import parse_duration
from workbench.events.types import TimeAttribute, common_type
from workbench.sql.catalog import Entry, TableDef
from workbench.sql.expr import Call, ColumnRef, Expr
from workbench.sql.parser import node_position
from workbench.sql.plan import JoinKind, LookupCache, LookupJoin, PlanNode, TemporalJoin
from workbench.sql.planner.context import PlanContext
from workbench.sql.planner.join_inputs import combine_inputs
from workbench.sql.planner.relations import build_scan
from workbench.sql.planner.scope import Scope, ScopeColumn, unique_names

LOOKUP_CONNECTORS = ("duckdb", "sqlite")


def plan_lookup_join(
    ctx: PlanContext,
    left: PlanNode,
    left_scope: Scope,
    join: exp.Join,
    *,
    kind: JoinKind,
    conjuncts: list[exp.Expr],
) -> tuple[PlanNode, Scope]:
    """Plan a join with ``FOR SYSTEM_TIME AS OF`` on its right table."""
    target = join.this
    version = target.args["version"]
    as_of = ctx.compile(version.expression, left_scope)
    attribute = as_of.type.time_attribute if isinstance(as_of, ColumnRef) else None
    if attribute is TimeAttribute.ROWTIME:
        assert isinstance(as_of, ColumnRef)
        return _temporal_join(
            ctx, left, left_scope, join, kind=kind, conjuncts=conjuncts, left_time=as_of.name
        )
    table = _lookup_table(ctx, target)
    if attribute is not TimeAttribute.PROCTIME:
        raise ctx.invalid(
            "FOR SYSTEM_TIME AS OF takes a processing-time attribute of the left input",
            version.expression,
            hint="declare proc_time AS PROCTIME() in the left table",
        )
    if kind not in ("INNER", "LEFT"):
        raise ctx.unsupported(
            f"a lookup join is INNER or LEFT, not {kind}", join, hint="use JOIN or LEFT JOIN"
        )
    alias = target.alias or table.name
    right_scope = Scope.of(table.schema.without_time_attributes(), alias)
    right_names = tuple(
        unique_names([*left.schema.names, *table.schema.names])[len(left.schema.names) :]
    )
    renamed = dict(zip(table.schema.names, right_names, strict=True))
    combined = Scope(
        [*left_scope.columns]
        + [
            ScopeColumn(c.name, renamed[c.internal], c.type, c.qualifier)
            for c in right_scope.columns
        ]
    )
    keys, columns, residual = _split_conjuncts(
        ctx,
        conjuncts,
        combined=combined,
        left_scope=left_scope,
        left_names=set(left.schema.names),
        reverse={new: old for old, new in renamed.items()},
    )
    if not keys:
        raise ctx.invalid(
            "a lookup join needs an equality between an input expression and a table column",
            join,
            hint=f"join ON s.key = {alias}.key",
        )
    condition = _residual_condition(ctx, residual, combined)
    output = [Column(c.name, c.type) for c in left.schema.columns]
    output.extend(
        Column(name, c.type.plain().with_nullable(True))
        for name, c in zip(right_names, table.schema.columns, strict=True)
    )
    plan = LookupJoin(
        schema=Schema(tuple(output)),
        input=left,
        kind=kind,
        table=table.name,
        connector=table.connector,
        path=table.options["path"],
        table_name=table.options.get("table-name", table.name),
        table_schema=table.schema.without_time_attributes(),
        left_keys=tuple(keys),
        lookup_columns=tuple(columns),
        right_names=right_names,
        condition=condition,
        cache=_cache(ctx, table, target),
    )
    return plan, _output_scope(plan, left_scope, combined)


def _temporal_join(
    ctx: PlanContext,
    left: PlanNode,
    left_scope: Scope,
    join: exp.Join,
    *,
    kind: JoinKind,
    conjuncts: list[exp.Expr],
    left_time: str,
) -> tuple[PlanNode, Scope]:
    """Plan ``JOIN versioned FOR SYSTEM_TIME AS OF l.rowtime`` against a versioned table."""
    target = join.this
    entry = _catalog_entry(ctx, target)
    if not isinstance(entry, TableDef) or not entry.primary_key or entry.watermark is None:
        raise ctx.unsupported(
            f"{target.name!r} is not a versioned table: an event-time temporal join needs a "
            "table with a PRIMARY KEY and a WATERMARK",
            target,
            hint="declare PRIMARY KEY (k) NOT ENFORCED and WATERMARK FOR ts AS ts in its "
            "CREATE TABLE, or look a database table up at processing time",
        )
    if kind not in ("INNER", "LEFT"):
        raise ctx.unsupported(
            f"a temporal join is INNER or LEFT, not {kind}", join, hint="use JOIN or LEFT JOIN"
        )
    right = build_scan(ctx, entry)
    right_scope = Scope.of(right.schema, target.alias or entry.name)
    combined, right_names, left_names, _ = combine_inputs(left, left_scope, right, right_scope)
    renamed = dict(zip(right.schema.names, right_names, strict=True))
    keys, columns, residual = _split_conjuncts(
        ctx,
        conjuncts,
        combined=combined,
        left_scope=left_scope,
        left_names=left_names,
        reverse={new: old for old, new in renamed.items()},
    )
    missing = [column for column in entry.primary_key if column not in columns]
    if missing:
        raise ctx.invalid(
            f"a temporal join must equate the primary key of {entry.name!r}; "
            f"missing: {', '.join(missing)}",
            join,
            hint=f"join ON s.key = {target.alias or entry.name}.{missing[0]}",
        )
    condition = _residual_condition(ctx, residual, combined)
    output = [Column(c.name, c.type) for c in left.schema.columns]
    output.extend(
        Column(name, c.type.plain().with_nullable(True) if kind == "LEFT" else c.type.plain())
        for name, c in zip(right_names, right.schema.columns, strict=True)
    )
    assert entry.watermark is not None
    plan = TemporalJoin(
        schema=Schema(tuple(output)),
        left=left,
        right=right,
        kind=kind,
        left_keys=tuple(keys),
        right_keys=tuple(
            ColumnRef(name=column, type=right.schema.find(column).type.plain())  # type: ignore[union-attr]
            for column in columns
        ),
        condition=condition,
        right_names=right_names,
        left_time=left_time,
        right_time=entry.watermark.column,
    )
    return plan, _output_scope(plan, left_scope, combined)


def _split_conjuncts(
    ctx: PlanContext,
    conjuncts: list[exp.Expr],
    *,
    combined: Scope,
    left_scope: Scope,
    left_names: set[str],
    reverse: dict[str, str],
) -> tuple[list[Expr], list[str], list[exp.Expr]]:
    """Split ON conjuncts into key expressions, their table columns and the other conjuncts."""
    keys: list[Expr] = []
    columns: list[str] = []
    residual: list[exp.Expr] = []
    for conjunct in conjuncts:
        pair = _key(
            ctx,
            conjunct,
            combined=combined,
            left_scope=left_scope,
            left_names=left_names,
            reverse=reverse,
        )
        if pair is None:
            residual.append(conjunct)
            continue
        keys.append(pair[0])
        columns.append(pair[1])
    return keys, columns, residual


def _residual_condition(ctx: PlanContext, residual: list[exp.Expr], combined: Scope) -> Expr | None:
    """Compile the AND of the conjuncts that are not keys, or return None if there are none."""
    if not residual:
        return None
    condition_node = residual[0]
    for item in residual[1:]:
        condition_node = exp.And(this=condition_node, expression=item)
    condition = ctx.compile(condition_node, combined)
    ctx.require_boolean(condition, residual[0], "ON")
    return condition


def _output_scope(plan: PlanNode, left_scope: Scope, combined: Scope) -> Scope:
    """Return the scope after the join, with the right columns typed as ``plan`` outputs them."""
    return Scope(
        [*left_scope.columns]
        + [
            ScopeColumn(c.name, c.internal, plan.schema.find(c.internal).type, c.qualifier)  # type: ignore[union-attr]
            for c in combined.columns[len(left_scope.columns) :]
        ]
    )


def _catalog_entry(ctx: PlanContext, target: exp.Table) -> Entry:
    entry = ctx.catalog.lookup(target.name)
    if entry is None:
        raise UnknownTableError(
            f"table {target.name!r} not found",
            sql=ctx.script,
            position=node_position(ctx.script, target),
            hint=ctx.catalog.suggestion(target.name),
        )
    return entry


def _lookup_table(ctx: PlanContext, target: exp.Table) -> TableDef:
    entry = _catalog_entry(ctx, target)
    if not isinstance(entry, TableDef) or entry.connector not in LOOKUP_CONNECTORS:
        raise ctx.unsupported(
            f"{target.name!r} cannot be looked up: lookup joins read tables of the "
            f"{' or '.join(LOOKUP_CONNECTORS)} connector",
            target,
            hint="CREATE TABLE dim (...) WITH ('connector' = 'duckdb', 'path' = 'dims.duckdb', "
            "'table-name' = 'dim')",
        )
    if "path" not in entry.options:
        raise ctx.invalid(f"table {entry.name!r} has no 'path' option", target)
    return entry


def _key(
    ctx: PlanContext,
    conjunct: exp.Expr,
    *,
    combined: Scope,
    left_scope: Scope,
    left_names: set[str],
    reverse: dict[str, str],
) -> tuple[Expr, str] | None:
    """Return (input expression, table column) if ``conjunct`` equates them."""
    if not isinstance(conjunct, exp.EQ):
        return None
    for table_side, input_side in (
        (conjunct.expression, conjunct.this),
        (conjunct.this, conjunct.expression),
    ):
        if not isinstance(table_side, exp.Column):
            continue
        found, path = combined.resolve(table_side, ctx.script)
        if path or found.internal in left_names:
            continue
        columns = [column for column in input_side.find_all(exp.Column)]
        if not columns or any(
            combined.resolve(column, ctx.script)[0].internal not in left_names for column in columns
        ):
            continue
        value = ctx.compile(input_side, left_scope)
        kind = common_type(value.type.plain(), found.type.plain())
        if kind is None:
            raise ctx.invalid(
                f"cannot compare {value.type.plain().sql()} with {found.type.plain().sql()}",
                conjunct,
                hint="CAST the input side to the column's type",
            )
        if value.type.plain().with_nullable(True) != found.type.plain().with_nullable(True):
            target = found.type.plain()
            value = Call(function="CAST", args=(value,), options=(("type", target),), type=target)
        elif value.type.time_attribute is not None and isinstance(value, ColumnRef):
            value = ColumnRef(name=value.name, type=value.type.plain())
        return value, reverse[found.internal]
    return None


def _cache(ctx: PlanContext, table: TableDef, node: exp.Expr) -> LookupCache:
    """Read Flink's lookup cache options of a table."""
    options = table.options
    mode = options.get("lookup.cache", "NONE").upper()
    if mode == "NONE":
        return LookupCache()
    if mode != "PARTIAL":
        raise ctx.invalid(
            f"invalid 'lookup.cache' {options['lookup.cache']!r} of table {table.name!r}",
            node,
            hint="use 'NONE' or 'PARTIAL'",
        )
    try:
        rows = int(options.get("lookup.partial-cache.max-rows", "10000"))
        write = _duration(options.get("lookup.partial-cache.expire-after-write", "0"))
        access = _duration(options.get("lookup.partial-cache.expire-after-access", "0"))
    except ValueError as error:
        raise ctx.invalid(
            f"invalid lookup cache option of table {table.name!r}: {error}", node
        ) from None
    if rows <= 0:
        raise ctx.invalid("'lookup.partial-cache.max-rows' must be positive", node)
    missing = options.get("lookup.partial-cache.cache-missing-key", "true").lower() != "false"
    return LookupCache(rows, write, access, missing)


def _duration(text: str) -> int:
    """Return a Flink duration in nanoseconds; a bare number counts milliseconds."""
    text = text.strip()
    return parse_duration(f"{text} ms" if text.isdigit() else text)
