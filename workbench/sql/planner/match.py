"""Planning MATCH_RECOGNIZE: partitioning, ordering, the pattern, DEFINE and MEASURES."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from workbench.errors import ValidationError
from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TimeAttribute, TypeKind
from workbench.sql.aggregates import AggregateTypeError, infer_aggregate_type
from workbench.sql.dialect import MatchSemantics
from workbench.sql.expr import Call, ColumnRef, Expr
from workbench.sql.match import (
    CLASSIFIER_COLUMN,
    MATCH_NUMBER_COLUMN,
    MatchAggregate,
    MatchExpression,
    MatchFunction,
    MatchSpec,
    Navigation,
    Ordering,
    RowsPerMatch,
    SkipMode,
    SkipTo,
    Slot,
    slot_ref,
)
from workbench.sql.parser import span
from workbench.sql.pattern import (
    Exclusion,
    PatternNode,
    PatternSyntaxError,
    Permute,
    Variable,
    parse_pattern,
)
from workbench.sql.plan import MatchRecognize, PlanNode, SortKey
from workbench.sql.planner.aggregates import aggregate_name, describe_call
from workbench.sql.planner.context import PlanContext
from workbench.sql.planner.scope import Scope, ScopeColumn
from workbench.sql.scalar import ScalarCompiler

#: Functions of the match as a whole, and where they may appear.
_MATCH_FUNCTIONS = {
    "MATCH_NUMBER",
    "MATCH_ROWTIME",
    "MATCH_PROCTIME",
    "MATCH_TIMED_OUT",
    "MATCH_TIMELINE",
}

TIMELINE_TYPE = t.array(
    t.row([("variable", t.STRING), ("position", t.BIGINT), ("rowtime", t.timestamp(3))])
)

_NAVIGATION_HINT = (
    "navigation reads one row: FIRST(A.x, n) and LAST(A.x, n) count rows mapped to A, "
    "PREV(x, n) and NEXT(x, n) move n rows in the partition"
)


def plan_match_recognize(
    ctx: PlanContext, node: PlanNode, scope: Scope, match: exp.MatchRecognize
) -> tuple[PlanNode, Scope]:
    """Return the MatchRecognize step over ``node`` and the columns it makes visible."""
    if node.updating:
        raise ctx.unsupported(
            "MATCH_RECOGNIZE needs an input of inserted rows, not an updating result",
            match,
            hint="match over the rows before GROUP BY, or aggregate per window first",
        )
    visible = [column for column in scope.columns if not column.internal.startswith("$")]
    partition = [_plain_column(ctx, scope, item, "PARTITION BY") for item in _partition(match)]
    order, ordering, time_column = _ordering(ctx, scope, match)

    pattern_node = match.args.get("pattern")
    if pattern_node is None:
        raise ctx.invalid("MATCH_RECOGNIZE needs a PATTERN", match)
    pattern, names = _pattern(ctx, pattern_node)
    variables = _Variables(names, _subsets(ctx, match, names))
    _check_exclusions(ctx, match, pattern, pattern_node)

    rows_per_match = _rows_per_match(match)
    if rows_per_match == "ALL_WITH_UNMATCHED" and any(
        isinstance(part, Exclusion) for part in pattern.walk()
    ):
        raise ctx.invalid(
            "pattern exclusion {- -} cannot be combined with WITH UNMATCHED ROWS",
            pattern_node,
            hint="an excluded row would be neither in a match nor unmatched",
        )
    skip = _skip(ctx, match, variables)

    within_ns: int | None = None
    within = match.args.get("within")
    if within is not None:
        if ordering != "event_time":
            raise ctx.invalid(
                "WITHIN needs rows ordered by an event-time column",
                within,
                hint="order the rows by the table's WATERMARK column: ORDER BY ts",
            )
        within_ns = ctx.interval_ns(within.this, "WITHIN")
        if within_ns <= 0:
            raise ctx.invalid("WITHIN needs a positive interval", within)
    emit_timeouts = bool(match.args.get("emit_timeouts"))
    if emit_timeouts and within_ns is None:
        raise ctx.invalid("EMIT TIMEOUTS needs a WITHIN interval", match)

    time_type = _time_type(scope, time_column)
    define = _define(ctx, scope, match, variables, time_type)
    measures = _measures(
        ctx, scope, match=match, variables=variables, time_type=time_type, ordering=ordering
    )

    spec = MatchSpec(
        pattern=pattern,
        pattern_text=str(pattern_node.name),
        variables=tuple(names),
        subsets=variables.subset_items(),
        define=tuple(define),
        skip=skip,
        rows_per_match=rows_per_match,
        within_ns=within_ns,
        emit_timeouts=emit_timeouts,
        precision_ns=time_type.precision_ns if time_type is not None else 1_000_000,
    )
    columns, out_scope, schema = _output(
        ctx,
        match,
        visible=visible,
        partition=partition,
        order=order,
        measures=measures,
        rows_per_match=rows_per_match,
        ordering=ordering,
    )
    plan = MatchRecognize(
        schema=schema,
        input=node,
        partition_keys=tuple(column.internal for column in partition),
        order=tuple(order),
        ordering=ordering,
        time_column=time_column,
        measures=tuple(measures),
        spec=spec,
        columns=tuple(columns),
    )
    return plan, out_scope


# Clauses ------------------------------------------------------------------------------


def _partition(match: exp.MatchRecognize) -> list[exp.Expr]:
    return list(match.args.get("partition_by") or [])


def _plain_column(ctx: PlanContext, scope: Scope, item: exp.Expr, clause: str) -> ScopeColumn:
    if not isinstance(item, exp.Column) or isinstance(item.this, exp.Star):
        raise ctx.unsupported(
            f"{clause} in MATCH_RECOGNIZE takes column names",
            item,
            hint="compute the expression in a subquery and refer to its column",
        )
    found, path = scope.resolve(item, ctx.script)
    if path:
        raise ctx.unsupported(
            f"{clause} in MATCH_RECOGNIZE takes column names, not fields of a ROW",
            item,
            hint="select the field in a subquery and refer to its column",
        )
    return found


def _ordering(
    ctx: PlanContext, scope: Scope, match: exp.MatchRecognize
) -> tuple[list[SortKey], Ordering, str | None]:
    order = match.args.get("order")
    items = list(order.expressions) if order is not None else []
    keys: list[SortKey] = []
    for item in items:
        column = _plain_column(ctx, scope, item.this, "ORDER BY")
        keys.append(
            SortKey(
                column.internal,
                ascending=not item.args.get("desc"),
                nulls_first=bool(item.args.get("nulls_first")),
            )
        )
    if not keys:
        return keys, "arrival", None
    first = scope_column(scope, keys[0].column)
    attribute = first.type.time_attribute
    if attribute is None:
        # NOTE: rows ordered by a plain column are sorted once the input has
        # ended, so this ordering needs a bounded input (a file, a DataFrame).
        return keys, "buffered", None
    if not keys[0].ascending:
        raise ctx.invalid(
            f"MATCH_RECOGNIZE must order by the time column {first.name} ascending",
            items[0],
            hint=f"write ORDER BY {first.name} (ASC), then any further columns",
        )
    if attribute is TimeAttribute.PROCTIME:
        return keys, "arrival", first.internal
    return keys, "event_time", first.internal


def scope_column(scope: Scope, internal: str) -> ScopeColumn:
    return next(column for column in scope.columns if column.internal == internal)


def _time_type(scope: Scope, time_column: str | None) -> DataType | None:
    if time_column is None:
        return None
    return scope_column(scope, time_column).type


def _pattern(ctx: PlanContext, node: exp.Expr) -> tuple[PatternNode, list[str]]:
    text = str(node.name)
    offset = int(node.meta.get("start", 0)) if node.meta else 0
    try:
        pattern = parse_pattern(text)
    except PatternSyntaxError as error:
        raise ValidationError(
            error.message,
            sql=ctx.script,
            position=span(ctx.script, offset + error.start, offset + error.end),
            hint=error.hint,
        ) from None
    pattern = _expand_permutes(pattern)
    names: dict[str, str] = {}
    for part in pattern.walk():
        if isinstance(part, Variable):
            canonical = names.setdefault(part.name.upper(), part.name)
            if canonical != part.name:
                raise ValidationError(
                    f"pattern variable {part.name!r} is also written {canonical!r}",
                    sql=ctx.script,
                    position=span(ctx.script, offset + part.start, offset + part.end),
                    hint="write each pattern variable the same way everywhere",
                )
    return pattern, list(names.values())


def _expand_permutes(node: PatternNode) -> PatternNode:
    """Return the pattern with every PERMUTE replaced by its alternation."""
    if isinstance(node, Permute):
        node = node.expanded()
    fields = dict(node.__dict__)
    changed = False
    for key, value in fields.items():
        if isinstance(value, PatternNode):
            fields[key] = _expand_permutes(value)
            changed = True
        elif isinstance(value, tuple) and value and isinstance(value[0], PatternNode):
            fields[key] = tuple(_expand_permutes(item) for item in value)
            changed = True
    return type(node)(**fields) if changed else node


def _check_exclusions(
    ctx: PlanContext, match: exp.MatchRecognize, pattern: PatternNode, node: exp.Expr
) -> None:
    del match
    offset = int(node.meta.get("start", 0)) if node.meta else 0
    for part in pattern.walk():
        if isinstance(part, Exclusion) and any(
            isinstance(inner, Exclusion) for inner in part.inner.walk()
        ):
            raise ValidationError(
                "pattern exclusions cannot be nested",
                sql=ctx.script,
                position=span(ctx.script, offset + part.start, offset + part.end),
            )


@dataclass
class _Variables:
    """The primary pattern variables and the SUBSET (union) variables, by upper-case name."""

    primary: list[str]
    subsets: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_upper = {name.upper(): name for name in self.primary}

    def lookup(self, name: str) -> tuple[str, ...] | None:
        """Return the primary variables ``name`` stands for, or None if it is no variable."""
        upper = name.upper()
        if upper in self.by_upper:
            return (self.by_upper[upper],)
        if upper in self.subsets:
            return self.subsets[upper][1]
        return None

    def canonical(self, name: str) -> str:
        upper = name.upper()
        if upper in self.by_upper:
            return self.by_upper[upper]
        return self.subsets[upper][0]

    def subset_items(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple(self.subsets.values())


def _subsets(
    ctx: PlanContext, match: exp.MatchRecognize, names: list[str]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    primary = {name.upper(): name for name in names}
    subsets: dict[str, tuple[str, tuple[str, ...]]] = {}
    for item in match.args.get("subsets") or []:
        name = item.this.name
        if name.upper() in primary:
            raise ctx.invalid(
                f"SUBSET {name} has the name of a pattern variable",
                item,
                hint="give the union variable a name of its own",
            )
        if name.upper() in subsets:
            raise ctx.invalid(f"SUBSET {name} is defined twice", item)
        members: list[str] = []
        for member in item.expressions:
            canonical = primary.get(member.name.upper())
            if canonical is None:
                raise ctx.invalid(
                    f"SUBSET {name} names {member.name!r}, which is not a variable of the PATTERN",
                    member,
                    hint="variables: " + ", ".join(names),
                )
            if canonical not in members:
                members.append(canonical)
        subsets[name.upper()] = (name, tuple(members))
    return subsets


def _rows_per_match(match: exp.MatchRecognize) -> RowsPerMatch:
    rows = match.args.get("rows")
    text = str(rows.name).upper() if rows is not None else "ONE ROW PER MATCH"
    if text.startswith("ONE"):
        return "ONE"
    if text.endswith("OMIT EMPTY MATCHES"):
        return "ALL_OMIT_EMPTY"
    if text.endswith("WITH UNMATCHED ROWS"):
        return "ALL_WITH_UNMATCHED"
    return "ALL_SHOW_EMPTY"


def _skip(ctx: PlanContext, match: exp.MatchRecognize, variables: _Variables) -> SkipTo:
    after = match.args.get("after")
    if after is None:
        return SkipTo()
    words = str(after.name).split()
    text = " ".join(words[3:]).upper()
    if text == "PAST LAST ROW":
        return SkipTo("PAST_LAST_ROW")
    if text == "TO NEXT ROW":
        return SkipTo("TO_NEXT_ROW")
    direction, target = words[4].upper(), words[5]
    members = variables.lookup(target)
    if members is None:
        raise ctx.invalid(
            f"AFTER MATCH SKIP TO {target}: {target!r} is not a pattern variable",
            after,
            hint="variables: " + ", ".join(variables.primary),
        )
    mode: SkipMode = "TO_FIRST" if direction == "FIRST" else "TO_LAST"
    return SkipTo(mode, members, variables.canonical(target))


def _define(
    ctx: PlanContext,
    scope: Scope,
    match: exp.MatchRecognize,
    variables: _Variables,
    time_type: DataType | None,
) -> list[tuple[str, MatchExpression]]:
    define: list[tuple[str, MatchExpression]] = []
    seen: set[str] = set()
    for item in match.args.get("define") or []:
        name = item.alias
        members = variables.lookup(name)
        if members is None or name.upper() not in variables.by_upper:
            raise ctx.invalid(
                f"DEFINE {name}: {name!r} is not a variable of the PATTERN",
                item,
                hint="variables: " + ", ".join(variables.primary),
            )
        canonical = variables.canonical(name)
        if canonical in seen:
            raise ctx.invalid(f"DEFINE {name} appears twice", item)
        seen.add(canonical)
        compiler = _MatchCompiler(ctx, scope, variables, time_type, define_variable=canonical)
        condition = compiler.compile(item.this)
        ctx.require_boolean(condition.expr, item.this, f"DEFINE {name}")
        define.append((canonical, condition))
    return define


def _measures(
    ctx: PlanContext,
    scope: Scope,
    *,
    match: exp.MatchRecognize,
    variables: _Variables,
    time_type: DataType | None,
    ordering: Ordering,
) -> list[tuple[str, MatchExpression]]:
    measures: list[tuple[str, MatchExpression]] = []
    for item in match.args.get("measures") or []:
        node = item.this
        if not isinstance(node, exp.Alias):
            raise ctx.invalid(
                "each measure needs a name",
                node,
                hint=f"write it as {node.sql()} AS name",
            )
        compiler = _MatchCompiler(ctx, scope, variables, time_type, define_variable=None)
        expression = compiler.compile(node.this)
        if ordering != "event_time" and any(
            isinstance(slot, MatchFunction) and slot.name in ("MATCH_ROWTIME", "MATCH_TIMED_OUT")
            for _, slot in expression.slots
        ):
            raise ctx.invalid(
                "MATCH_ROWTIME() and MATCH_TIMED_OUT() need rows ordered by an event-time column",
                node.this,
            )
        measures.append((node.alias, expression))
    return measures


def _output(
    ctx: PlanContext,
    match: exp.MatchRecognize,
    *,
    visible: list[ScopeColumn],
    partition: list[ScopeColumn],
    order: list[SortKey],
    measures: list[tuple[str, MatchExpression]],
    rows_per_match: RowsPerMatch,
    ordering: Ordering,
) -> tuple[list[tuple[str, str, str]], Scope, Schema]:
    entries: list[tuple[str, str, str, DataType]] = []
    for column in partition:
        entries.append((column.name, "input", column.internal, column.type.plain()))
    if rows_per_match != "ONE":
        listed = {column.internal for column in partition}
        by_internal = {column.internal: column for column in visible}
        for key in order:
            column = by_internal[key.column]
            if column.internal not in listed:
                entries.append((column.name, "input", column.internal, column.type))
                listed.add(column.internal)
    for name, expression in measures:
        kind = expression.type
        is_rowtime = any(
            isinstance(slot, MatchFunction) and slot.name == "MATCH_ROWTIME"
            for _, slot in expression.slots
        ) and isinstance(expression.expr, ColumnRef)
        if is_rowtime and rows_per_match == "ONE" and ordering == "event_time":
            kind = kind.with_time_attribute(TimeAttribute.ROWTIME)
        entries.append((name, "measure", name, kind))
    if rows_per_match != "ONE":
        for column in visible:
            if column.internal not in listed:
                entries.append((column.name, "input", column.internal, column.type))
    seen: set[str] = set()
    for name, _, _, _ in entries:
        if name.lower() in seen:
            raise ctx.invalid(
                f"MATCH_RECOGNIZE would output two columns named {name!r}",
                match,
                hint="rename the measure: a measure may not repeat a partition or input column",
            )
        seen.add(name.lower())
    rowtimes = [entry for entry in entries if entry[3].time_attribute is TimeAttribute.ROWTIME]
    schema_columns = []
    for name, _, _, declared in entries:
        kind = declared
        if kind.time_attribute is TimeAttribute.ROWTIME and rowtimes and rowtimes[0][0] != name:
            kind = kind.plain()
        if kind.time_attribute is TimeAttribute.PROCTIME:
            kind = kind.plain()
        schema_columns.append(Column(name, kind))
    alias = match.args.get("alias")
    qualifier = alias.name if alias is not None and alias.name else None
    schema = Schema(tuple(schema_columns))
    columns = [(name, kind, source) for name, kind, source, _ in entries]
    return columns, Scope.of(schema, qualifier), schema


# Expressions --------------------------------------------------------------------------


class _MatchCompiler:
    """Compile one MEASURES or DEFINE expression into an expression over slots."""

    def __init__(
        self,
        ctx: PlanContext,
        scope: Scope,
        variables: _Variables,
        time_type: DataType | None,
        *,
        define_variable: str | None,
    ) -> None:
        self.ctx = ctx
        self.scope = scope
        self.variables = variables
        self.time_type = time_type
        self.define_variable = define_variable
        self.slots: list[tuple[str, Slot]] = []
        self.running = True

    @property
    def in_define(self) -> bool:
        return self.define_variable is not None

    def compile(self, node: exp.Expr) -> MatchExpression:
        compiler = ScalarCompiler(
            self.ctx.script, self.ctx.functions, self._unexpected_column, self._special
        )
        expr = compiler.compile(node)
        return MatchExpression(expr, tuple(self.slots))

    def _unexpected_column(self, column: exp.Column) -> Expr:
        return self._navigation_of(column, "LAST", 0, 0, column)

    def _add(self, slot: Slot) -> ColumnRef:
        for name, existing in self.slots:
            if existing == slot:
                return slot_ref(name, slot)
        name = f"$slot{len(self.slots)}"
        self.slots.append((name, slot))
        return slot_ref(name, slot)

    def _special(self, node: exp.Expr) -> Expr | None:
        if isinstance(node, MatchSemantics):
            return self._semantics(node)
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                raise self.ctx.invalid(
                    f"{node.sql()} can only be counted: COUNT({node.sql()})", node
                )
            return self._navigation_of(node, "LAST", 0, 0, node)
        if isinstance(node, (exp.First, exp.Last)):
            logical = "FIRST" if isinstance(node, exp.First) else "LAST"
            offset = self._offset(node.expression, node, default=0)
            return self._navigation_of(node.this, logical, offset, 0, node)
        if isinstance(node, exp.Anonymous):
            name = str(node.this).upper()
            if name in ("PREV", "NEXT"):
                return self._physical(node, name)
            if name == "CLASSIFIER":
                return self._classifier(node)
            if name in _MATCH_FUNCTIONS:
                return self._match_function(node, name)
            if name in ("FIRST", "LAST"):
                args = node.expressions
                offset = self._offset(args[1] if len(args) > 1 else None, node, default=0)
                return self._navigation_of(args[0], name, offset, 0, node)
        if aggregate_name(self.ctx, node) is not None:
            return self._aggregate(node)
        if isinstance(node, exp.Window):
            raise self.ctx.unsupported("OVER windows are not allowed in MATCH_RECOGNIZE", node)
        if isinstance(node, (exp.Subquery, exp.Select)):
            raise self.ctx.unsupported("subqueries are not allowed in MATCH_RECOGNIZE", node)
        return None

    def _semantics(self, node: MatchSemantics) -> Expr:
        kind = str(node.args["kind"])
        if kind == "FINAL" and self.in_define:
            raise self.ctx.invalid(
                "FINAL is not allowed in DEFINE",
                node,
                hint="a condition sees the match only up to the row it tests: drop FINAL",
            )
        inner = node.this
        allowed = (
            isinstance(inner, (exp.First, exp.Last, exp.Column))
            or aggregate_name(self.ctx, inner) is not None
            or (
                isinstance(inner, exp.Anonymous)
                and str(inner.this).upper() in ("PREV", "NEXT", "CLASSIFIER", "FIRST", "LAST")
            )
        )
        if not allowed:
            raise self.ctx.invalid(
                f"{kind} applies to FIRST, LAST, PREV, NEXT, CLASSIFIER() and aggregates",
                node,
            )
        previous = self.running
        self.running = kind == "RUNNING"
        try:
            special = self._special(inner)
            assert special is not None
            return special
        finally:
            self.running = previous

    def _offset(self, node: exp.Expr | None, call: exp.Expr, *, default: int) -> int:
        if node is None:
            return default
        value = self.ctx.constant(node)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.ctx.invalid(
                "a navigation offset must be a non-negative whole number",
                node,
                hint=_NAVIGATION_HINT,
            )
        del call
        return value

    def _physical(self, node: exp.Anonymous, name: str) -> Expr:
        args = list(node.expressions)
        if not args or len(args) > 2:
            raise self.ctx.invalid(f"{name} takes a value and an optional offset", node)
        offset = self._offset(args[1] if len(args) > 1 else None, node, default=1)
        signed = -offset if name == "PREV" else offset
        target = args[0]
        running = self.running
        if isinstance(target, MatchSemantics):
            if str(target.args["kind"]) == "FINAL" and self.in_define:
                raise self.ctx.invalid("FINAL is not allowed in DEFINE", target)
            running = str(target.args["kind"]) == "RUNNING"
            target = target.this
        logical, logical_offset = "LAST", 0
        if isinstance(target, (exp.First, exp.Last)):
            logical = "FIRST" if isinstance(target, exp.First) else "LAST"
            logical_offset = self._offset(target.expression, target, default=0)
            target = target.this
        elif isinstance(target, exp.Anonymous) and str(target.this).upper() in ("PREV", "NEXT"):
            raise self.ctx.invalid(
                f"{str(target.this).upper()} cannot be nested in {name}",
                target,
                hint=_NAVIGATION_HINT,
            )
        previous = self.running
        self.running = running
        try:
            return self._navigation_of(target, logical, logical_offset, signed, node)
        finally:
            self.running = previous

    def _navigation_of(
        self,
        target: exp.Expr,
        logical: str,
        logical_offset: int,
        physical_offset: int,
        node: exp.Expr,
    ) -> Expr:
        inner, scope = self._inner(target, node)
        slot = Navigation(
            variables=scope,
            logical="FIRST" if logical == "FIRST" else "LAST",
            logical_offset=logical_offset,
            physical_offset=physical_offset,
            running=self.running,
            expr=inner,
            type=inner.type.plain().with_nullable(True),
        )
        return self._add(slot)

    def _classifier(self, node: exp.Anonymous) -> Expr:
        args = list(node.expressions)
        if len(args) > 1:
            raise self.ctx.invalid("CLASSIFIER takes at most one pattern variable", node)
        scope: tuple[str, ...] | None = None
        if args:
            scope = self._variable_argument(args[0], "CLASSIFIER")
        slot = Navigation(
            variables=scope,
            logical="LAST",
            logical_offset=0,
            physical_offset=0,
            running=self.running,
            expr=ColumnRef(name=CLASSIFIER_COLUMN, type=t.STRING),
            type=t.STRING,
        )
        return self._add(slot)

    def _variable_argument(self, node: exp.Expr, function: str) -> tuple[str, ...]:
        if isinstance(node, exp.Column) and not node.table:
            members = self.variables.lookup(node.name)
            if members is not None:
                return members
        raise self.ctx.invalid(
            f"{function} takes a pattern variable",
            node,
            hint="variables: " + ", ".join(self.variables.primary),
        )

    def _match_function(self, node: exp.Anonymous, name: str) -> Expr:
        if node.expressions:
            raise self.ctx.invalid(f"{name}() takes no arguments", node)
        if self.in_define:
            raise self.ctx.invalid(
                f"{name}() is not allowed in DEFINE",
                node,
                hint="use it in MEASURES",
            )
        if name == "MATCH_NUMBER":
            kind: DataType = t.BIGINT.with_nullable(False)
        elif name == "MATCH_ROWTIME":
            base = self.time_type.plain() if self.time_type is not None else t.timestamp(3)
            kind = base.with_nullable(True)
        elif name == "MATCH_PROCTIME":
            kind = t.timestamp_ltz(3)
        elif name == "MATCH_TIMED_OUT":
            kind = t.BOOLEAN.with_nullable(False)
        else:
            kind = TIMELINE_TYPE
        return self._add(MatchFunction(name, kind))  # type: ignore[arg-type]

    def _aggregate(self, node: exp.Expr) -> Expr:
        source = describe_call(self.ctx, node)
        if source.filter is not None:
            raise self.ctx.unsupported(
                "FILTER is not supported on aggregates in MATCH_RECOGNIZE",
                node,
                hint="aggregate over a pattern variable instead, as in SUM(A.x)",
            )
        if source.function in self.ctx.user_aggregates:
            raise self.ctx.unsupported(
                f"user-defined aggregate {source.function} is not supported in MATCH_RECOGNIZE",
                node,
            )
        call = node.this if isinstance(node, exp.Filter) else node
        scope: tuple[str, ...] | None = None
        args: list[Expr] = []
        star = (
            call.this
            if isinstance(call.this, exp.Column) and isinstance(call.this.this, exp.Star)
            else None
        )
        if star is not None:
            if source.function != "COUNT":
                raise self.ctx.invalid(f"{source.function}({star.sql()}) is not allowed", node)
            scope = self._variable_argument(exp.column(star.table), "COUNT")
        else:
            scopes: list[tuple[str, ...] | None] = []
            for arg in source.args:
                inner, arg_scope = self._inner(arg, node)
                args.append(inner)
                scopes.append(arg_scope)
            named = {s for s in scopes if s is not None}
            if len(named) > 1:
                raise self.ctx.invalid(
                    f"the arguments of {source.function} refer to different pattern variables",
                    node,
                    hint="aggregate one variable at a time, as in SUM(A.x) + SUM(B.x)",
                )
            scope = next(iter(named)) if named else None
        constants = [self.ctx.constant(item) for item in source.constants]
        try:
            kind = infer_aggregate_type(source.function, [arg.type for arg in args], constants)
        except AggregateTypeError as error:
            raise self.ctx.invalid(str(error), node) from None
        slot = MatchAggregate(
            function=source.function,
            variables=scope,
            args=tuple(args),
            running=self.running,
            type=kind,
            distinct=source.distinct,
            constants=tuple(constants),
        )
        return self._add(slot)

    def _inner(self, node: exp.Expr, call: exp.Expr) -> tuple[Expr, tuple[str, ...] | None]:
        """Compile a navigation or aggregate argument over the input's columns."""
        scopes: list[tuple[tuple[str, ...] | None, exp.Expr]] = []

        def column(item: exp.Column) -> Expr:
            scope, expr = self._input_column(item)
            scopes.append((scope, item))
            return expr

        def special(item: exp.Expr) -> Expr | None:
            if isinstance(item, exp.Column):
                if isinstance(item.this, exp.Star):
                    raise self.ctx.invalid(f"{item.sql()} can only be counted", item)
                return column(item)
            if isinstance(item, exp.Anonymous):
                name = str(item.this).upper()
                if name == "CLASSIFIER" and not item.expressions:
                    return ColumnRef(name=CLASSIFIER_COLUMN, type=t.STRING)
                if name == "MATCH_NUMBER" and not item.expressions:
                    if self.in_define:
                        raise self.ctx.invalid("MATCH_NUMBER() is not allowed in DEFINE", item)
                    return ColumnRef(name=MATCH_NUMBER_COLUMN, type=t.BIGINT)
                if name in ("PREV", "NEXT", "FIRST", "LAST", "CLASSIFIER", *_MATCH_FUNCTIONS):
                    raise self._nested(item, call)
            if isinstance(item, (exp.First, exp.Last, MatchSemantics)):
                raise self._nested(item, call)
            if aggregate_name(self.ctx, item) is not None:
                raise self._nested(item, call)
            if isinstance(item, exp.Window):
                raise self.ctx.unsupported("OVER windows are not allowed in MATCH_RECOGNIZE", item)
            if isinstance(item, (exp.Subquery, exp.Select)):
                raise self.ctx.unsupported("subqueries are not allowed in MATCH_RECOGNIZE", item)
            return None

        compiler = ScalarCompiler(self.ctx.script, self.ctx.functions, column, special)
        expr = compiler.compile(node)
        named = {scope for scope, _ in scopes if scope is not None}
        if len(named) > 1:
            raise self.ctx.invalid(
                "all columns inside one navigation or aggregate must use the same pattern variable",
                call,
                hint="navigate each variable on its own, as in LAST(A.x) - LAST(B.x)",
            )
        return expr, (next(iter(named)) if named else None)

    def _nested(self, item: exp.Expr, call: exp.Expr) -> ValidationError:
        del call
        return self.ctx.invalid(
            f"{item.sql()} cannot be used inside another navigation or aggregate",
            item,
            hint=_NAVIGATION_HINT,
        )

    def _input_column(self, item: exp.Column) -> tuple[tuple[str, ...] | None, Expr]:
        """Resolve a column written in MATCH_RECOGNIZE: its variable, then the input column."""
        parts = [part.name for part in item.parts]
        scope: tuple[str, ...] | None = None
        if len(parts) >= 2:
            members = self.variables.lookup(parts[0])
            if members is not None:
                scope = members
                parts = parts[1:]
            elif parts[0] in self.scope.qualifiers or parts[0].lower() in {
                q.lower() for q in self.scope.qualifiers
            }:
                parts = parts[1:]
            elif not self.scope.find(parts[0]):
                raise self.ctx.invalid(
                    f"{parts[0]!r} is not a pattern variable",
                    item,
                    hint="variables: " + ", ".join(self.variables.primary),
                )
        found = self.scope.find(parts[0])
        visible = [c for c in found if not c.internal.startswith("$")]
        if not visible:
            raise self.scope.unknown(parts, item, self.ctx.script)
        if len(visible) > 1:
            raise self.ctx.invalid(f"column {parts[0]!r} is ambiguous", item)
        found_column = visible[0]
        expression: Expr = ColumnRef(name=found_column.internal, type=found_column.type.plain())
        for name in parts[1:]:
            field_type = (
                expression.type.field_type(name) if expression.type.kind is TypeKind.ROW else None
            )
            if field_type is None:
                raise self.ctx.invalid(
                    f"field {name!r} not found in {expression.type.plain().sql()}", item
                )
            expression = Call(
                function="FIELD", args=(expression,), options=(("field", name),), type=field_type
            )
        return scope, expression
