"""CREATE TABLE and CREATE VIEW: from DDL to catalog entries."""

from __future__ import annotations

import re

from sqlglot import exp

from workbench.errors import Position, SourceError, UnsupportedError, ValidationError
from workbench.events.schema import Column, Schema
from workbench.events.time import interval_literal
from workbench.events.types import STRING, DataType, TimeAttribute, TypeKind
from workbench.sources.registry import (
    TIME_COLUMN,
    ReaderSchema,
    reader_schema,
    self_describing_connectors,
    validate_source_options,
)
from workbench.sql.catalog import TableDef, ViewDef
from workbench.sql.expr import Call, ColumnRef, Expr, Literal
from workbench.sql.parser import node_position, span
from workbench.sql.plan import WatermarkSpec
from workbench.sql.planner.context import PlanContext, output_name
from workbench.sql.planner.query import plan_query
from workbench.sql.planner.scope import Scope
from workbench.sql.sqltypes import to_data_type


def table_from_ddl(ctx: PlanContext, node: exp.Create, text: str) -> TableDef:
    """Return the catalog entry a CREATE TABLE statement describes."""
    schema_node = node.this
    if node.expression is not None:
        raise ctx.unsupported("CREATE TABLE ... AS SELECT is not supported", node.expression)
    name = schema_node.this.name if isinstance(schema_node, exp.Schema) else schema_node.name
    options, temporary = _options(ctx, node)
    declared: list[tuple[str, DataType | None, exp.Expr | None]] = []
    watermark_node: exp.WatermarkColumnConstraint | None = None
    primary_key: tuple[str, ...] = ()
    items = schema_node.expressions if isinstance(schema_node, exp.Schema) else []
    own = _reader_columns(ctx, node, options, items)
    if own is not None:
        declared.extend((column.name, column.type, None) for column in own.schema)
    for item in items:
        if isinstance(item, exp.ColumnDef):
            declared.append(_column(ctx, item))
        elif isinstance(item, exp.WatermarkColumnConstraint):
            if watermark_node is not None:
                raise ctx.invalid("a table has at most one WATERMARK", item)
            watermark_node = item
        elif isinstance(item, exp.PrimaryKey):
            primary_key = tuple(part.name for part in item.expressions)
        else:
            raise ctx.unsupported(f"unsupported table element {item.sql()!r}", item)
    names = [entry[0] for entry in declared]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ctx.invalid(f"column {sorted(duplicates)[0]!r} is declared twice", schema_node)

    comments = {column.name: column.comment for column in own.schema} if own is not None else {}
    physical = Schema(
        tuple(Column(n, kind, comments.get(n)) for n, kind, expr in declared if kind is not None)
    )
    physical_scope = Scope.of(physical, name)
    computed: list[tuple[str, exp.Expr]] = []
    types: dict[str, DataType] = {c.name: c.type for c in physical.columns}
    proctime = None
    for column_name, kind, expression in declared:
        if expression is None:
            continue
        compiled = ctx.compile(expression, physical_scope)
        computed.append((column_name, expression))
        types[column_name] = compiled.type
        if compiled.type.time_attribute is TimeAttribute.PROCTIME:
            proctime = column_name
        del kind

    watermark = None
    if watermark_node is None and own is not None and own.time_column in types:
        delay = own.watermark_delay_ns
        text = own.time_column
        if delay:
            text += f" - {interval_literal(delay)}"
        watermark = WatermarkSpec(column=own.time_column, delay_ns=delay, text=text)
        types[own.time_column] = types[own.time_column].with_time_attribute(TimeAttribute.ROWTIME)
    if watermark_node is not None:
        watermark = _watermark(
            ctx, watermark_node, Scope.of(Schema(tuple(Column(n, types[n]) for n in names)), name)
        )
        rowtime = types[watermark.column]
        if rowtime.precision is None or rowtime.precision > 3:
            # NOTE: Flink accepts event time only at precision 0 to 3; the
            # workbench narrows a finer column to milliseconds instead of rejecting it.
            rowtime = rowtime.with_precision(3)
        types[watermark.column] = rowtime.with_time_attribute(TimeAttribute.ROWTIME)
    for key in primary_key:
        if key not in types:
            raise ctx.invalid(f"PRIMARY KEY column {key!r} is not a column of {name!r}", node)
    schema = Schema(tuple(Column(n, types[n], comments.get(n)) for n in names))
    return TableDef(
        name=name,
        physical=physical,
        schema=schema,
        options=options,
        computed=computed,
        watermark=watermark,
        proctime=proctime,
        primary_key=primary_key,
        temporary=temporary,
        ddl=text,
        script=ctx.script,
    )


def _reader_columns(
    ctx: PlanContext, node: exp.Create, options: dict[str, str], items: list[exp.Expr]
) -> ReaderSchema | None:
    """Return the reader's own columns when the DDL declares no physical column.

    A table of a self-describing connector (pcap, zeek, syslog, access-log)
    may omit its column list, or list only computed columns and a WATERMARK.
    """
    physical = [item for item in items if isinstance(item, exp.ColumnDef) and item.args.get("kind")]
    if physical:
        return None
    try:
        own = reader_schema(options, ctx.base_dir) if "connector" in options else None
    except SourceError as error:
        try:
            validate_source_options(options, Schema((Column(TIME_COLUMN, STRING),)))
        except SourceError:
            # The option check that follows reports the error at the option.
            return ReaderSchema(Schema(()), "", 0)
        # The options are valid, so the file itself is at fault: missing or unreadable.
        raise ValidationError(
            str(error),
            sql=ctx.script,
            position=option_position(ctx.script, node, "path", value=True),
        ) from None
    if own is None:
        connectors = ", ".join(self_describing_connectors())
        raise ctx.invalid(
            "CREATE TABLE needs a column list",
            node,
            hint="CREATE TABLE t (ts TIMESTAMP(3), ...) WITH (...); only the connectors "
            f"{connectors} know their own columns",
        )
    return own


def _options(ctx: PlanContext, node: exp.Create) -> tuple[dict[str, str], bool]:
    options: dict[str, str] = {}
    temporary = False
    properties = node.args.get("properties")
    for item in properties.expressions if properties is not None else []:
        if isinstance(item, exp.TemporaryProperty):
            temporary = True
            continue
        if isinstance(item, exp.Property):
            key = (
                item.this.name
                if isinstance(item.this, (exp.Literal, exp.Identifier, exp.Var))
                else item.this.sql()
            )
            value = item.args.get("value")
            if not isinstance(value, exp.Literal):
                raise ctx.invalid(
                    f"option {key!r} needs a quoted value, such as '{key}' = '...'", item
                )
            options[key] = str(value.this)
            continue
        raise ctx.unsupported(f"unsupported table property {item.sql()!r}", item)
    return options, temporary


def option_position(
    script: str, node: exp.Create, key: str | None, *, value: bool = False
) -> Position | None:
    """Return the position of a WITH option of CREATE TABLE: its key, or its value.

    Without ``key``, or when the option is absent, the position covers all the
    options (or the table name when there is no WITH clause).
    """
    properties = node.args.get("properties")
    items = (
        [item for item in properties.expressions if isinstance(item, exp.Property)]
        if properties
        else []
    )
    for item in items:
        name = (
            item.this.name if isinstance(item.this, (exp.Literal, exp.Identifier, exp.Var)) else ""
        )
        if key is not None and name == key:
            target = item.args.get("value") if value else item.this
            return node_position(script, target if target is not None else item)
    if properties is not None and items:
        first, last = node_position(script, items[0]), node_position(script, items[-1])
        if first is not None and last is not None:
            return span(script, first.start, last.end)
    schema_node = node.this
    return node_position(script, schema_node.this if isinstance(schema_node, exp.Schema) else node)


def _column(ctx: PlanContext, item: exp.ColumnDef) -> tuple[str, DataType | None, exp.Expr | None]:
    name = item.name
    kind_node = item.args.get("kind")
    computed = None
    nullable = True
    for constraint in item.constraints:
        kind = constraint.kind
        if isinstance(kind, exp.ComputedColumnConstraint):
            computed = kind.this
        elif isinstance(kind, exp.NotNullColumnConstraint):
            nullable = bool(kind.args.get("allow_null"))
        elif isinstance(kind, (exp.CommentColumnConstraint, exp.PrimaryKeyColumnConstraint)):
            continue
        else:
            raise ctx.unsupported(f"unsupported column constraint {constraint.sql()!r}", constraint)
    if computed is not None:
        return name, None, computed
    if kind_node is None:
        raise ctx.invalid(f"column {name!r} needs a type", item)
    try:
        data_type = to_data_type(kind_node, ctx.script)
    except UnsupportedError as error:
        if error.position is not None:
            raise
        # A type name the parser does not know records no position: point at the
        # word after the column name.
        raise UnsupportedError(
            error.message,
            sql=ctx.script,
            position=_type_position(ctx.script, item),
            hint=error.hint,
        ) from None
    return name, data_type.with_nullable(nullable and data_type.nullable), None


def _watermark(
    ctx: PlanContext, node: exp.WatermarkColumnConstraint, scope: Scope
) -> WatermarkSpec:
    column_node = node.this
    found, path = scope.resolve(column_node, ctx.script)
    if path:
        raise ctx.invalid("WATERMARK FOR takes a top-level column", column_node)
    if found.type.kind not in (TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ):
        raise ctx.invalid(
            f"WATERMARK FOR needs a TIMESTAMP or TIMESTAMP_LTZ column, but {found.name!r} is {found.type.plain().sql()}",
            column_node,
            hint=f"declare it as TIMESTAMP(3), or add a computed column: ts AS TO_TIMESTAMP({found.name})",
        )
    expression_node = node.expression
    expression = ctx.compile(expression_node, scope)
    delay = _delay(found.internal, expression)
    if delay is None:
        raise ctx.unsupported(
            "a watermark must be the column itself or the column minus a constant interval",
            expression_node,
            hint=f"WATERMARK FOR {found.name} AS {found.name} - INTERVAL '5' SECOND",
        )
    if delay < 0:
        raise ctx.invalid("the watermark delay cannot be negative", expression_node)
    text = (
        f"{found.name} - {expression_node.expression.sql()}"
        if isinstance(expression_node, exp.Sub)
        else found.name
    )
    return WatermarkSpec(column=found.internal, delay_ns=delay, text=text)


def _delay(column: str, expression: Expr) -> int | None:
    if isinstance(expression, ColumnRef) and expression.name == column:
        return 0
    if isinstance(expression, Call) and expression.function == "-" and len(expression.args) == 2:
        left, right = expression.args
        if isinstance(left, ColumnRef) and left.name == column and isinstance(right, Literal):
            value = right.value
            nanoseconds = getattr(value, "value", None)
            if isinstance(nanoseconds, int):
                return nanoseconds
    return None


def view_from_ddl(ctx: PlanContext, node: exp.Create, text: str) -> ViewDef:
    target = node.this
    columns: tuple[str, ...] = ()
    if isinstance(target, exp.Schema):
        columns = tuple(part.name for part in target.expressions)
        target = target.this
    query = node.expression
    if query is None:
        raise ctx.invalid("CREATE VIEW needs AS SELECT ...", node)
    # A view may not read itself, not even its own earlier definition.
    ctx.expanding = (*ctx.expanding, target.name)
    planned = plan_query(ctx, query, top_level=False)
    if columns and len(columns) != len(planned.scope.columns):
        raise ctx.invalid(
            f"{len(columns)} column names given for {len(planned.scope.columns)} columns", node
        )
    names = list(columns) or planned.names
    if columns:
        _check_unique_names(ctx, list(columns), node.this)
    else:
        _check_unique_names(ctx, _written_names(ctx, query, planned.names), query)
    schema = Schema(
        tuple(Column(n, c.type) for n, c in zip(names, planned.scope.columns, strict=True))
    )
    return ViewDef(
        name=target.name,
        query=query,
        script=ctx.script,
        text=text,
        schema=schema,
        column_names=columns,
    )


def _check_unique_names(ctx: PlanContext, names: list[str], node: exp.Expr) -> None:
    """Reject a view whose columns would share a name, pointing at the second one."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ctx.invalid(
                f"the view has two columns named {name!r}",
                _named_item(ctx, node, name) or node,
                hint="give each column its own name with AS, or list the names: "
                "CREATE VIEW v (a, b) AS ...",
            )
        seen.add(name)


def _written_names(ctx: PlanContext, query: exp.Expr, planned: list[str]) -> list[str]:
    """Return a view's column names as its SELECT list writes them.

    The planner then makes repeated names unique (p, p0), so a repeat shows
    only here. NOTE: a name that only ``*`` brings in keeps its planned name, so a
    repeat between ``*`` and another item (``SELECT a, * FROM t``) is not
    found here.
    """
    select = query if isinstance(query, exp.Select) else query.find(exp.Select)
    if select is None:
        return planned
    items = list(select.expressions)
    stars = [item for item in items if _is_star(item)]
    if len(stars) > 1:
        return planned
    star_width = len(planned) - (len(items) - len(stars))
    written: list[str] = []
    for item in items:
        if _is_star(item):
            written.extend(planned[len(written) : len(written) + star_width])
        else:
            written.append(output_name(item, ctx.script))
    return written if len(written) == len(planned) else planned


def _is_star(item: exp.Expr) -> bool:
    return isinstance(item, exp.Star) or (
        isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
    )


def _named_item(ctx: PlanContext, node: exp.Expr, name: str) -> exp.Expr | None:
    """Return the second select item (or listed column) named ``name``, if it can be found."""
    if isinstance(node, exp.Schema):
        named = [item for item in node.expressions if item.name == name]
    else:
        select = node if isinstance(node, exp.Select) else node.find(exp.Select)
        if select is None:
            return None
        named = [
            item
            for item in select.expressions
            if not _is_star(item) and output_name(item, ctx.script) == name
        ]
    return named[1] if len(named) > 1 else None


def _type_position(script: str, item: exp.ColumnDef) -> Position | None:
    """Return the span of the type written after a column's name."""
    column = node_position(script, item.this)
    if column is None:
        return None
    match = re.compile(r"\s+([^\s,()]+)").match(script, column.end)
    if match is None:
        return column
    return span(script, match.start(1), match.end(1))
