"""Planning OVER windows: window Top-N (ROW_NUMBER, RANK, DENSE_RANK) and OVER aggregates."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.plan import (
    AggCall,
    Calc,
    OverAggregate,
    OverFrame,
    PlanNode,
    SortKey,
    WindowRank,
    WindowTableFunction,
)
from workbench.sql.planner.aggregates import (
    aggregate_name,
    check_type,
    constant_arguments,
    describe_call,
)
from workbench.sql.planner.context import PlanContext, Special
from workbench.sql.planner.relations import WINDOW_COLUMNS
from workbench.sql.planner.scope import Scope, ScopeColumn

#: Aggregates an OVER window computes (each also with DISTINCT and FILTER).
OVER_FUNCTIONS = frozenset(
    {
        "COUNT",
        "SUM",
        "AVG",
        "MIN",
        "MAX",
        "STDDEV_POP",
        "STDDEV_SAMP",
        "VAR_POP",
        "VAR_SAMP",
        "FIRST_VALUE",
        "LAST_VALUE",
        "LISTAGG",
    }
)

RANK_FUNCTIONS = {exp.RowNumber: "ROW_NUMBER", exp.Rank: "RANK", exp.DenseRank: "DENSE_RANK"}

_TOP_N_HINT = (
    "rank per window: ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ...), "
    "then filter the rank in an outer query"
)


@dataclass
class OverPlan:
    node: PlanNode
    scope: Scope
    special: Special


def over_windows(select: exp.Select) -> list[exp.Window]:
    """Return the OVER windows in the select list (not inside subqueries)."""
    found: list[exp.Window] = []
    for item in select.expressions:
        for node in item.walk():
            if isinstance(node, exp.Window) and not any(
                isinstance(a, exp.Subquery) for a in _ancestors(node, item)
            ):
                found.append(node)
    return found


def _ancestors(node: exp.Expr, stop: exp.Expr) -> list[exp.Expr]:
    parents = []
    current = node.parent
    while current is not None and current is not stop:
        parents.append(current)
        current = current.parent
    return parents


def resolve_named(ctx: PlanContext, window: exp.Window, select: exp.Select) -> exp.Window:
    """Return the window with a named window (OVER w) filled in from the WINDOW clause."""
    alias = window.args.get("alias")
    if alias is None or window.args.get("partition_by") or window.args.get("order"):
        return window
    for named in select.args.get("windows") or []:
        if named.name == alias.name:
            merged = named.copy()
            merged.set("this", window.this.copy())
            return merged
    raise ctx.invalid(f"window {alias.name!r} is not defined in a WINDOW clause", window)


def plan_over(
    ctx: PlanContext,
    node: PlanNode,
    scope: Scope,
    select: exp.Select,
    windows: list[exp.Window],
    *,
    special: Special | None = None,
) -> OverPlan:
    """Plan the OVER windows of a SELECT; ``special`` resolves aggregates of an enclosing GROUP BY."""
    if node.updating:
        raise ctx.unsupported(
            "OVER windows cannot read the updating result of an aggregation without windows",
            windows[0],
        )
    ranking = [w for w in windows if type(w.this) in RANK_FUNCTIONS]
    aggregating = [w for w in windows if type(w.this) not in RANK_FUNCTIONS]
    if ranking and aggregating:
        raise ctx.unsupported("ranking and OVER aggregates cannot share one SELECT", aggregating[0])
    if ranking:
        if len(ranking) > 1:
            raise ctx.unsupported("one ranking function per SELECT", ranking[1])
        window = resolve_named(ctx, ranking[0], select)
        return _plan_rank(ctx, node, scope, window, ranking[0], special=special)
    return _plan_aggregates(ctx, node, scope, select, aggregating, special=special)


# Window Top-N ------------------------------------------------------------------------------


def _plan_rank(
    ctx: PlanContext,
    node: PlanNode,
    scope: Scope,
    window: exp.Window,
    original: exp.Window,
    *,
    special: Special | None,
) -> OverPlan:
    function = RANK_FUNCTIONS[type(window.this)]
    partition_nodes = window.args.get("partition_by") or []
    partition: list[str] = []
    window_keys: set[str] = set()
    for key in partition_nodes:
        if not isinstance(key, exp.Column):
            raise ctx.unsupported("PARTITION BY of a ranking takes columns", key, hint=_TOP_N_HINT)
        column, path = scope.resolve(key, ctx.script)
        if path:
            raise ctx.unsupported("PARTITION BY of a ranking takes columns, not nested fields", key)
        if column.internal in ("window_start", "window_end"):
            window_keys.add(column.internal)
        elif column.internal != "window_time":
            partition.append(column.internal)
    if window_keys != {"window_start", "window_end"}:
        raise ctx.unsupported(
            f"{function}() is supported per window only: its PARTITION BY must include window_start and window_end",
            window,
            hint=_TOP_N_HINT,
        )
    tvf, pushed = _direct_tvf(node)
    base = node if tvf is None else tvf.input
    if tvf is not None and pushed is not None:
        base = Calc(
            schema=tvf.input.schema,
            input=tvf.input,
            projections=_identity(tvf.input.schema),
            predicate=pushed,
        )
    order: list[SortKey] = []
    helpers: dict[str, Expr] = {}
    order_clause = window.args.get("order")
    for item in order_clause.expressions if order_clause is not None else []:
        expression = ctx.compile(item.this, scope, special)
        if isinstance(expression, ColumnRef):
            name = expression.name
        else:
            name = f"$r{len(helpers)}"
            helpers[name] = expression
        order.append(
            SortKey(
                name,
                ascending=not item.args.get("desc"),
                nulls_first=bool(item.args.get("nulls_first")),
            )
        )
    if not order:
        raise ctx.unsupported(f"{function}() needs ORDER BY inside OVER", window, hint=_TOP_N_HINT)
    if helpers:
        if tvf is not None and any(
            expr.columns() & set(WINDOW_COLUMNS) for expr in helpers.values()
        ):
            raise ctx.unsupported(
                "ORDER BY of a ranking on a window TVF cannot use window columns", window
            )
        projections = list(_identity(base.schema)) + list(helpers.items())
        base = Calc(
            schema=Schema(
                tuple(base.schema.columns) + tuple(Column(n, e.type) for n, e in helpers.items())
            ),
            input=base,
            projections=tuple(projections),
        )
    rank_column = f"$rank{len(ctx.pending_ranks)}"
    columns = list(base.schema.columns)
    if tvf is not None:
        columns += [c for c in tvf.schema.columns if c.name in WINDOW_COLUMNS]
    columns.append(Column(rank_column, t.BIGINT.with_nullable(False)))
    end_column = next(c for c in columns if c.name == "window_end")
    rank = WindowRank(
        schema=Schema(tuple(columns)),
        input=base,
        window=tvf.window if tvf is not None else None,
        partition_keys=tuple(partition),
        order=tuple(order),
        function=function,
        rank_column=rank_column,
        max_rank=None,
        precision_ns=end_column.type.precision_ns,
    )
    ctx.pending_ranks[rank_column] = original
    rank_scope = Scope(
        [*scope.columns, ScopeColumn(rank_column, rank_column, t.BIGINT.with_nullable(False))]
    )
    text = original.sql()

    def resolve(found: exp.Expr) -> Expr | None:
        if isinstance(found, exp.Window) and found.sql() == text:
            return ColumnRef(name=rank_column, type=t.BIGINT.with_nullable(False))
        return None

    return OverPlan(rank, rank_scope, resolve)


def _direct_tvf(node: PlanNode) -> tuple[WindowTableFunction | None, Expr | None]:
    if isinstance(node, WindowTableFunction):
        return node, None
    if (
        isinstance(node, Calc)
        and isinstance(node.input, WindowTableFunction)
        and node.predicate is not None
    ):
        identity = all(isinstance(e, ColumnRef) and e.name == n for n, e in node.projections)
        if identity and not (node.predicate.columns() & set(WINDOW_COLUMNS)):
            return node.input, node.predicate
    return None, None


def _identity(schema: Schema) -> tuple[tuple[str, Expr], ...]:
    return tuple((c.name, ColumnRef(name=c.name, type=c.type)) for c in schema.columns)


def apply_rank_filter(
    ctx: PlanContext, node: PlanNode, scope: Scope, where: exp.Expr | None
) -> tuple[PlanNode, exp.Expr | None]:
    """Move conditions on a pending rank column (rank <= N) into the WindowRank below."""
    if where is None or not ctx.pending_ranks:
        return node, where
    sources = _rank_sources(node, set(ctx.pending_ranks))
    if not sources:
        return node, where
    conjuncts = list(where.flatten()) if isinstance(where, exp.And) else [where]
    remaining: list[exp.Expr] = []
    bounds: dict[str, tuple[int, int | None]] = {}
    for conjunct in conjuncts:
        matched = _rank_bound(conjunct, scope, sources)
        if matched is None:
            remaining.append(conjunct)
            continue
        name, low, high = matched
        old_low, old_high = bounds.get(name, (1, None))
        new_high = high if old_high is None else (old_high if high is None else min(old_high, high))
        bounds[name] = (max(old_low, low), new_high)
    for name, (low, high) in bounds.items():
        node = _set_bounds(node, name, low, high)
        ctx.pending_ranks.pop(name, None)
    if not remaining:
        return node, None
    rest = remaining[0]
    for conjunct in remaining[1:]:
        rest = exp.and_(rest, conjunct)
    return node, rest


def _rank_sources(node: PlanNode, pending: set[str]) -> dict[str, str]:
    """Map output columns of ``node`` that pass a pending rank column through unchanged to it."""
    if isinstance(node, WindowRank):
        return {node.rank_column: node.rank_column} if node.rank_column in pending else {}
    if isinstance(node, Calc):
        below = _rank_sources(node.input, pending)
        return {
            name: below[expr.name]
            for name, expr in node.projections
            if isinstance(expr, ColumnRef) and expr.name in below
        }
    return {}


def _rank_bound(
    condition: exp.Expr, scope: Scope, sources: dict[str, str]
) -> tuple[str, int, int | None] | None:
    def rank_name(side: exp.Expr) -> str | None:
        if not isinstance(side, exp.Column):
            return None
        found = scope.find(side.name, side.table or None)
        if len(found) == 1 and found[0].internal in sources:
            return sources[found[0].internal]
        return None

    def number(side: exp.Expr) -> int | None:
        if isinstance(side, exp.Literal) and not side.is_string:
            value = float(side.this)
            return int(value) if value.is_integer() else None
        return None

    if isinstance(condition, exp.Between):
        name = rank_name(condition.this)
        low, high = number(condition.args["low"]), number(condition.args["high"])
        if name and low is not None and high is not None:
            return name, low, high
        return None
    if not isinstance(condition, (exp.LTE, exp.LT, exp.EQ, exp.GTE, exp.GT)):
        return None
    left, right = condition.this, condition.expression
    flipped = False
    if rank_name(left) is None and rank_name(right) is not None:
        left, right, flipped = right, left, True
    name, value = rank_name(left), number(right)
    if name is None or value is None:
        return None
    operator: type[exp.Binary] = type(condition)
    if flipped:
        operator = {
            exp.LTE: exp.GTE,
            exp.LT: exp.GT,
            exp.GTE: exp.LTE,
            exp.GT: exp.LT,
            exp.EQ: exp.EQ,
        }[operator]
    if operator is exp.LTE:
        return name, 1, value
    if operator is exp.LT:
        return name, 1, value - 1
    if operator is exp.EQ:
        return name, value, value
    if operator is exp.GTE:
        return name, value, None
    return name, value + 1, None


def _set_bounds(node: PlanNode, rank_column: str, low: int, high: int | None) -> PlanNode:
    if isinstance(node, WindowRank) and node.rank_column == rank_column:
        return replace(node, min_rank=low, max_rank=high)
    if isinstance(node, Calc):
        return replace(node, input=_set_bounds(node.input, rank_column, low, high))
    return node


# OVER aggregates ---------------------------------------------------------------------------


def _plan_aggregates(
    ctx: PlanContext,
    node: PlanNode,
    scope: Scope,
    select: exp.Select,
    windows: list[exp.Window],
    *,
    special: Special | None,
) -> OverPlan:
    resolved = [resolve_named(ctx, w, select) for w in windows]
    first = resolved[0]
    signature = _signature(first)
    for window, original in zip(resolved[1:], windows[1:], strict=True):
        if _signature(window) != signature:
            raise ctx.unsupported(
                "all OVER aggregates of a SELECT must use the same window", original
            )
    partition = []
    for key in first.args.get("partition_by") or []:
        expression = ctx.compile(key, scope, special)
        if not isinstance(expression, ColumnRef):
            raise ctx.unsupported("OVER PARTITION BY takes columns", key)
        partition.append(expression.name)
    order_clause = first.args.get("order")
    order_items = order_clause.expressions if order_clause is not None else []
    if len(order_items) != 1:
        raise ctx.unsupported(
            "OVER aggregates need ORDER BY on exactly one time attribute",
            first,
            hint="OVER (PARTITION BY k ORDER BY ts ...)",
        )
    time_expr = ctx.compile(order_items[0].this, scope, special)
    if (
        not isinstance(time_expr, ColumnRef)
        or time_expr.type.time_attribute is None
        or order_items[0].args.get("desc")
    ):
        raise ctx.unsupported(
            "OVER aggregates must be ordered by a time attribute, ascending",
            order_items[0],
            hint="ORDER BY the WATERMARK column",
        )
    frame = _frame(ctx, first)
    helpers: dict[str, Expr] = {
        c.name: ColumnRef(name=c.name, type=c.type) for c in node.schema.columns
    }
    calls = []
    outputs: dict[str, tuple[str, object]] = {}
    for index, (window, original) in enumerate(zip(resolved, windows, strict=True)):
        if aggregate_name(ctx, window.this) is None:
            raise ctx.unsupported(f"{window.this.sql()} cannot be used with OVER", original)
        source = describe_call(ctx, window.this)
        if source.function not in OVER_FUNCTIONS:
            raise ctx.unsupported(
                f"{source.function} is not supported in OVER windows",
                original,
                hint="OVER supports " + ", ".join(sorted(OVER_FUNCTIONS)),
            )
        args = [ctx.compile(arg, scope, special) for arg in source.args]
        constants = constant_arguments(ctx, source)
        result_type = check_type(ctx, source, args, constants)
        names = []
        for arg in args:
            if isinstance(arg, ColumnRef):
                names.append(arg.name)
            else:
                name = f"$o{len(helpers)}"
                helpers[name] = arg
                names.append(name)
        filter_name = None
        if source.filter is not None:
            condition = ctx.compile(source.filter, scope, special)
            ctx.require_boolean(condition, source.filter, "FILTER")
            filter_name = f"$o{len(helpers)}"
            helpers[filter_name] = condition
        output = f"$over{index}"
        calls.append(
            AggCall(
                source.function,
                tuple(names),
                output,
                result_type,
                distinct=source.distinct,
                filter=filter_name,
                constants=tuple(constants),
            )
        )
        outputs[original.sql()] = (output, result_type)
    pre_schema = Schema(tuple(Column(n, e.type) for n, e in helpers.items()))
    pre: PlanNode = node
    if len(helpers) != len(node.schema.columns):
        pre = Calc(schema=pre_schema, input=node, projections=tuple(helpers.items()))
    schema = Schema(tuple(pre_schema.columns) + tuple(Column(c.output, c.type) for c in calls))
    over = OverAggregate(
        schema=schema,
        input=pre,
        partition_keys=tuple(partition),
        time_column=time_expr.name,
        frame=frame,
        aggregates=tuple(calls),
    )

    def resolve(found: exp.Expr) -> Expr | None:
        if isinstance(found, exp.Window):
            entry = outputs.get(found.sql())
            if entry is not None:
                return ColumnRef(name=entry[0], type=entry[1])  # type: ignore[arg-type]
        return None

    return OverPlan(over, scope, resolve)


def _signature(window: exp.Window) -> str:
    parts = [window.args.get(key) for key in ("partition_by", "order", "spec")]
    return repr(
        [p.sql() if isinstance(p, exp.Expr) else [x.sql() for x in p] if p else None for p in parts]
    )


def _frame(ctx: PlanContext, window: exp.Window) -> OverFrame:
    spec = window.args.get("spec")
    if spec is None:
        return OverFrame("RANGE", None)
    kind = str(spec.args.get("kind") or "RANGE").upper()
    end = spec.args.get("end")
    if end is not None and str(end).upper() != "CURRENT ROW":
        raise ctx.unsupported("OVER frames must end at CURRENT ROW", spec)
    start = spec.args.get("start")
    if start is None or (isinstance(start, str) and start.upper() == "UNBOUNDED"):
        return OverFrame(kind, None)  # type: ignore[arg-type]
    if isinstance(start, str) and start.upper() == "CURRENT ROW":
        return OverFrame(kind, 0)  # type: ignore[arg-type]
    if str(spec.args.get("start_side") or "").upper() != "PRECEDING":
        raise ctx.unsupported("OVER frames start at some row PRECEDING the current one", spec)
    if kind == "ROWS":
        value = ctx.constant(start)
        if not isinstance(value, int) or value < 0:
            raise ctx.invalid("ROWS frames need a whole number of preceding rows", start)
        return OverFrame("ROWS", value)
    return OverFrame("RANGE", ctx.interval_ns(start, "a RANGE frame"))
