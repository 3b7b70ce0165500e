"""Planning joins in the FROM clause: interval joins and window joins.

The ON condition (or, for ``FROM a, b``, the WHERE conjuncts that read both
inputs) is split into conjuncts. An equality between an expression of each
input is a key. Comparisons between the two inputs' event-time attributes
bound an interval join, and equalities of both inputs' window_start and
window_end make a window join. Every other conjunct is evaluated on each
candidate pair.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TypedDict

from sqlglot import exp

from workbench.errors import UnknownColumnError
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TimeAttribute, common_type
from workbench.sql.expr import Call, ColumnRef, Expr
from workbench.sql.plan import (
    Calc,
    IntervalBounds,
    IntervalJoin,
    JoinKind,
    PlanNode,
    RegularJoin,
    WindowAggregate,
    WindowJoin,
    WindowSpec,
    WindowTableFunction,
)
from workbench.sql.planner.context import PlanContext
from workbench.sql.planner.join_inputs import combine_inputs
from workbench.sql.planner.lateral import plan_lateral
from workbench.sql.planner.lookup import plan_lookup_join
from workbench.sql.planner.relations import plan_relation
from workbench.sql.planner.scope import Scope, ScopeColumn
from workbench.sql.planner.unnest import plan_unnest

SUPPORTED_JOINS = (
    "interval joins (ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '5' SECOND AND b.ts), "
    "and window joins of two window TVFs (ON a.window_start = b.window_start "
    "AND a.window_end = b.window_end)"
)

_LEFT, _RIGHT = "left", "right"


@dataclass
class _Condition:
    """An ON condition taken apart."""

    left_keys: list[Expr] = field(default_factory=list)
    right_keys: list[Expr] = field(default_factory=list)
    key_nodes: list[exp.Expr] = field(default_factory=list)
    #: (left column, right column) per window bound equality, by bound name.
    window_bounds: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: (left time, right time) -> [tightest lower bound, tightest upper bound] in ns.
    time_bounds: dict[tuple[str, str], list[int | None]] = field(default_factory=dict)
    time_nodes: list[exp.Expr] = field(default_factory=list)
    residual: list[exp.Expr] = field(default_factory=list)


class _JoinFields(TypedDict):
    """The fields of ``plan.Join`` that every two-input join node takes."""

    schema: Schema
    left: PlanNode
    right: PlanNode
    kind: JoinKind
    left_keys: tuple[Expr, ...]
    right_keys: tuple[Expr, ...]
    condition: Expr | None
    right_names: tuple[str, ...]


@dataclass(frozen=True)
class _JoinParts:
    """The inputs of one join and its ON condition taken apart."""

    kind: JoinKind
    left: PlanNode
    right: PlanNode
    right_names: tuple[str, ...]
    condition: _Condition
    #: The other ON conjuncts (neither keys nor bounds), compiled, checked on each candidate pair.
    residual: Expr | None

    def fields(self, *, keep_times: bool) -> _JoinFields:
        """Return the ``plan.Join`` fields. Output columns keep time attributes only if ``keep_times``."""
        return _JoinFields(
            schema=_join_schema(
                self.left, self.right, self.right_names, self.kind, keep_times=keep_times
            ),
            left=self.left,
            right=self.right,
            kind=self.kind,
            left_keys=tuple(self.condition.left_keys),
            right_keys=tuple(self.condition.right_keys),
            condition=self.residual,
            right_names=self.right_names,
        )


def plan_joins(
    ctx: PlanContext,
    node: PlanNode,
    scope: Scope,
    joins: list[exp.Join],
    where: exp.Expr | None,
) -> tuple[PlanNode, Scope, exp.Expr | None]:
    """Plan each join of a FROM clause onto ``node``; return the remaining WHERE condition."""
    for join in joins:
        node, scope, where = _plan_join(ctx, node, scope, join, where)
    return node, scope, where


def _plan_join(
    ctx: PlanContext, left: PlanNode, left_scope: Scope, join: exp.Join, where: exp.Expr | None
) -> tuple[PlanNode, Scope, exp.Expr | None]:
    target = join.this
    if isinstance(target, exp.Unnest):
        plan, scope = plan_unnest(ctx, left, left_scope, join, target)
        return plan, scope, where
    if isinstance(target, exp.Lateral):
        plan, scope = plan_lateral(ctx, left, left_scope, join, target)
        return plan, scope, where
    if isinstance(target, exp.Table) and target.args.get("version") is not None:
        on = join.args.get("on")
        plan, scope = plan_lookup_join(
            ctx,
            left,
            left_scope,
            join,
            kind=_join_kind(ctx, join),
            conjuncts=_conjuncts(on) if on is not None else [],
        )
        return plan, scope, where
    if join.args.get("using"):
        raise ctx.unsupported(
            "JOIN ... USING is not supported",
            join,
            hint="write the equality in ON, such as ON a.id = b.id",
        )
    kind = _join_kind(ctx, join)
    right, right_scope = plan_relation(ctx, target)
    on = join.args.get("on")
    conjuncts: list[exp.Expr] = _conjuncts(on) if on is not None else []
    from_where = on is None and kind == "INNER" and where is not None
    if from_where:
        # FROM a, b WHERE ...: the WHERE conjuncts that read both inputs join them.
        assert where is not None
        combined, _, left_internal, right_internal = combine_inputs(
            left, left_scope, right, right_scope
        )
        conjuncts, kept = _split_where(ctx, where, combined, left_internal, right_internal)
        where = _and_all(kept)
    plan, scope = _build_join(
        ctx,
        join,
        kind,
        left=left,
        left_scope=left_scope,
        right=right,
        right_scope=right_scope,
        conjuncts=conjuncts,
    )
    return plan, scope, where


def plan_subquery_joins(
    ctx: PlanContext, node: PlanNode, scope: Scope, where: exp.Expr | None
) -> tuple[PlanNode, Scope, exp.Expr | None]:
    """Plan WHERE conjuncts ``[NOT] EXISTS (...)`` and ``x [NOT] IN (SELECT ...)`` as joins.

    Each becomes a SEMI (or, negated, ANTI) join of the rows so far with the
    subquery's input; the subquery's WHERE is the join condition.
    """
    if where is None:
        return node, scope, where
    kept: list[exp.Expr] = []
    for conjunct in _conjuncts(where):
        negated = isinstance(conjunct, exp.Not)
        inner = _unparen(conjunct.this) if negated else conjunct
        if isinstance(inner, exp.Exists) or (
            isinstance(inner, exp.In) and inner.args.get("query") is not None
        ):
            node, scope = _subquery_join(ctx, node, scope, inner, "ANTI" if negated else "SEMI")
        else:
            if conjunct.find(exp.Exists) is not None or any(
                isinstance(found, exp.In) and found.args.get("query") is not None
                for found in conjunct.find_all(exp.In)
            ):
                raise ctx.unsupported(
                    "a subquery is supported only as a whole WHERE conjunct: "
                    "[NOT] EXISTS (...) or x [NOT] IN (SELECT ...)",
                    conjunct,
                )
            kept.append(conjunct)
    return node, scope, _and_all(kept)


def _subquery_join(
    ctx: PlanContext, left: PlanNode, left_scope: Scope, node: exp.Expr, kind: JoinKind
) -> tuple[PlanNode, Scope]:
    query = node.this if isinstance(node, exp.Exists) else node.args["query"]
    while isinstance(query, exp.Subquery):
        query = query.this
    if not isinstance(query, exp.Select):
        raise ctx.unsupported("the subquery of a semi or anti join must be a SELECT", node)
    for clause in ("joins", "group", "having", "order", "limit", "distinct", "with_"):
        if query.args.get(clause):
            raise ctx.unsupported(
                f"a semi or anti join subquery with {clause.upper().rstrip('_')} is not supported",
                query.args[clause] if not isinstance(query.args[clause], list) else query,
            )
    from_clause = query.args.get("from_") or query.args.get("from")
    if from_clause is None:
        raise ctx.invalid("the subquery needs a FROM clause", query)
    right, right_scope = plan_relation(ctx, from_clause.this)
    where = query.args.get("where")
    conjuncts = _conjuncts(where.this) if where is not None else []
    extra: list[tuple[Expr, Expr, exp.Expr]] = []
    if isinstance(node, exp.In):
        if len(query.expressions) != 1:
            raise ctx.invalid("the subquery of IN must select one column", query)
        outer = ctx.compile(node.this, left_scope)
        inner = ctx.compile(query.expressions[0].unalias(), right_scope)
        extra.append((outer, inner, node))
    planned, scope = _build_join(
        ctx,
        node,
        kind,
        left=left,
        left_scope=left_scope,
        right=right,
        right_scope=right_scope,
        conjuncts=conjuncts,
        extra_keys=extra,
    )
    if isinstance(node, exp.In) and kind == "ANTI" and isinstance(planned, WindowJoin):
        # NOT IN compares with every partner: a NULL on either side makes the
        # comparison unknown, so the row does not pass, as in standard SQL.
        planned = dataclasses.replace(planned, null_aware=True)
    return planned, scope


def _build_join(
    ctx: PlanContext,
    node: exp.Expr,
    kind: JoinKind,
    *,
    left: PlanNode,
    left_scope: Scope,
    right: PlanNode,
    right_scope: Scope,
    conjuncts: list[exp.Expr],
    extra_keys: list[tuple[Expr, Expr, exp.Expr]] | None = None,
) -> tuple[PlanNode, Scope]:
    if left.updating or right.updating:
        raise ctx.unsupported(
            "a join cannot read the updating result of an aggregation without windows",
            node,
            hint="aggregate in windows (TUMBLE, HOP, CUMULATE) before the join",
        )
    combined, right_names, left_internal, right_internal = combine_inputs(
        left, left_scope, right, right_scope
    )
    renamed = dict(zip(right.schema.names, right_names, strict=True))
    condition = _Condition()
    for outer, inner, source in extra_keys or []:
        kind_type = common_type(outer.type.plain(), inner.type.plain())
        if kind_type is None:
            raise ctx.invalid(
                f"cannot compare {outer.type.plain().sql()} with {inner.type.plain().sql()}",
                source,
                hint="CAST one side so both have the same type",
            )
        condition.left_keys.append(_cast(_plain(outer), kind_type))
        condition.right_keys.append(_cast(_plain(inner), kind_type))
        condition.key_nodes.append(source)
    for conjunct in conjuncts:
        _classify(
            ctx,
            conjunct,
            combined=combined,
            left_internal=left_internal,
            right_internal=right_internal,
            renamed=renamed,
            condition=condition,
        )

    if condition.time_bounds and not _bounded(condition) and ctx.state_ttl_ns > 0:
        # Half-bounded times make a regular join, whose ON clause checks the comparison.
        condition.residual.extend(condition.time_nodes)
        condition.time_bounds.clear()
    residual = None
    if condition.residual:
        residual = ctx.compile(_and_all(condition.residual), combined)  # type: ignore[arg-type]
        ctx.require_boolean(residual, condition.residual[0], "ON")

    parts = _JoinParts(kind, left, right, right_names, condition, residual)
    plan: PlanNode
    if condition.window_bounds:
        plan = _window_join(ctx, node, parts, renamed=renamed)
    elif kind in ("SEMI", "ANTI"):
        raise ctx.unsupported(
            "semi and anti joins ([NOT] EXISTS, [NOT] IN with a subquery) run only as window joins",
            node,
            hint="window both inputs and correlate on l.window_start = r.window_start "
            "AND l.window_end = r.window_end",
        )
    elif condition.time_bounds:
        plan = _interval_join(ctx, node, parts)
    else:
        plan = _regular_join(ctx, node, parts)
    return plan, _output_scope(combined, plan, left_internal)


def _bounded(condition: _Condition) -> bool:
    return all(None not in bounds for bounds in condition.time_bounds.values())


def _regular_join(ctx: PlanContext, node: exp.Expr, parts: _JoinParts) -> RegularJoin:
    if not parts.condition.left_keys:
        raise ctx.unsupported(
            "a join needs an equality between the two inputs: "
            "a cross join would pair every row with every other row",
            node,
            hint=f"supported: {SUPPORTED_JOINS}, and equi-joins with 'table.exec.state.ttl' set",
        )
    if ctx.state_ttl_ns <= 0:
        raise ctx.unsupported(
            "a join without time bounds keeps every row of both inputs in state forever",
            node,
            hint="SET 'table.exec.state.ttl' = '1 h'; to keep rows for an hour (in processing "
            f"time), or bound the join in time. Supported: {SUPPORTED_JOINS}",
        )
    return RegularJoin(**parts.fields(keep_times=False), ttl_ns=ctx.state_ttl_ns)


def _join_kind(ctx: PlanContext, join: exp.Join) -> JoinKind:
    side = (join.side or "").upper()
    kind = (join.kind or "").upper()
    if kind in ("SEMI", "ANTI"):
        raise ctx.unsupported(
            f"{kind} JOIN is not SQL that Flink runs",
            join,
            hint="write a semi join as WHERE x IN (SELECT ...) or EXISTS (SELECT ...)",
        )
    if kind == "CROSS" and join.args.get("on") is not None:
        raise ctx.invalid("CROSS JOIN takes no ON condition", join)
    if side in ("LEFT", "RIGHT", "FULL"):
        if join.args.get("on") is None:
            raise ctx.invalid(f"{side} JOIN needs an ON condition", join)
        return side  # type: ignore[return-value]
    return "INNER"


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _and_all(nodes: list[exp.Expr]) -> exp.Expr | None:
    if not nodes:
        return None
    result = nodes[0]
    for node in nodes[1:]:
        result = exp.And(this=result, expression=node)
    return result


def _split_where(
    ctx: PlanContext,
    where: exp.Expr,
    combined: Scope,
    left_internal: set[str],
    right_internal: set[str],
) -> tuple[list[exp.Expr], list[exp.Expr]]:
    """Return (conjuncts that read both inputs and nothing else, the other conjuncts)."""
    joining: list[exp.Expr] = []
    kept: list[exp.Expr] = []
    for conjunct in _conjuncts(where):
        sides = _sides(ctx, conjunct, combined, left_internal, right_internal)
        if sides == {_LEFT, _RIGHT}:
            joining.append(conjunct)
        else:
            kept.append(conjunct)
    return joining, kept


def _sides(
    ctx: PlanContext,
    node: exp.Expr,
    scope: Scope,
    left_internal: set[str],
    right_internal: set[str],
) -> set[str] | None:
    """Return which inputs ``node`` reads, or None when it reads a column of neither."""
    sides: set[str] = set()
    for column in node.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            return None
        try:
            found, _ = scope.resolve(column, ctx.script)
        except UnknownColumnError:
            return None
        if found.internal in left_internal:
            sides.add(_LEFT)
        elif found.internal in right_internal:
            sides.add(_RIGHT)
    if node.find(exp.Subquery, exp.Exists) is not None:
        return None
    return sides


def _classify(
    ctx: PlanContext,
    conjunct: exp.Expr,
    *,
    combined: Scope,
    left_internal: set[str],
    right_internal: set[str],
    renamed: dict[str, str],
    condition: _Condition,
) -> None:
    if isinstance(conjunct, exp.EQ):
        a_sides = _sides(ctx, conjunct.this, combined, left_internal, right_internal)
        b_sides = _sides(ctx, conjunct.expression, combined, left_internal, right_internal)
        pairs = {(frozenset(a_sides or ()), frozenset(b_sides or ()))}
        if pairs & {
            (frozenset({_LEFT}), frozenset({_RIGHT})),
            (frozenset({_RIGHT}), frozenset({_LEFT})),
        }:
            left_node, right_node = (
                (conjunct.this, conjunct.expression)
                if a_sides == {_LEFT}
                else (conjunct.expression, conjunct.this)
            )
            left_expr = ctx.compile(left_node, combined)
            right_expr = ctx.compile(right_node, combined)
            reverse = {new: old for old, new in renamed.items()}
            if _window_equality(left_expr, right_expr, reverse, condition):
                return
            if _time_attribute(left_expr) and _time_attribute(right_expr):
                bounds = condition.time_bounds.setdefault(
                    (_column(left_expr), _column(right_expr)), [None, None]
                )
                _tighten(bounds, 0, 0)
                condition.time_nodes.append(conjunct)
                return
            kind = common_type(left_expr.type.plain(), right_expr.type.plain())
            if kind is None:
                raise ctx.invalid(
                    f"cannot compare {left_expr.type.plain().sql()} with "
                    f"{right_expr.type.plain().sql()} in a join key",
                    conjunct,
                    hint="CAST one side so both have the same type",
                )
            condition.left_keys.append(_cast(_plain(left_expr), kind))
            condition.right_keys.append(_cast(_rename(_plain(right_expr), reverse), kind))
            condition.key_nodes.append(conjunct)
            return
    if _time_bound(ctx, conjunct, combined, left_internal, condition):
        condition.time_nodes.append(conjunct)
        return
    condition.residual.append(conjunct)


def _window_equality(
    left: Expr, right: Expr, reverse: dict[str, str], condition: _Condition
) -> bool:
    if not (isinstance(left, ColumnRef) and isinstance(right, ColumnRef)):
        return False
    for bound in ("window_start", "window_end"):
        if left.name == bound and reverse.get(right.name, right.name) == bound:
            condition.window_bounds[bound] = (left.name, right.name)
            return True
    return False


def _time_attribute(expression: Expr) -> bool:
    return (
        isinstance(expression, ColumnRef)
        and expression.type.time_attribute is TimeAttribute.ROWTIME
    )


def _column(expression: Expr) -> str:
    assert isinstance(expression, ColumnRef)
    return expression.name


def _plain(expression: Expr) -> Expr:
    if expression.type.time_attribute is None:
        return expression
    if isinstance(expression, ColumnRef):
        return ColumnRef(name=expression.name, type=expression.type.plain())
    return expression


def _cast(expression: Expr, kind: DataType) -> Expr:
    if expression.type.plain().with_nullable(True) == kind.with_nullable(True):
        return expression
    return Call(function="CAST", args=(expression,), options=(("type", kind),), type=kind)


def _rename(expression: Expr, names: dict[str, str]) -> Expr:
    """Return ``expression`` reading the right input's own column names."""
    if isinstance(expression, ColumnRef):
        return ColumnRef(name=names.get(expression.name, expression.name), type=expression.type)
    if isinstance(expression, Call):
        return Call(
            function=expression.function,
            args=tuple(_rename(arg, names) for arg in expression.args),
            options=expression.options,
            type=expression.type,
        )
    return expression


def _tighten(bounds: list[int | None], lower: int | None, upper: int | None) -> None:
    if lower is not None:
        bounds[0] = lower if bounds[0] is None else max(bounds[0], lower)
    if upper is not None:
        bounds[1] = upper if bounds[1] is None else min(bounds[1], upper)


def _time_bound(
    ctx: PlanContext,
    node: exp.Expr,
    combined: Scope,
    left_internal: set[str],
    condition: _Condition,
) -> bool:
    """Record ``node`` as a bound on left time - right time if it is one; return whether it was."""
    if isinstance(node, exp.Between) and not node.args.get("symmetric"):
        low = exp.GTE(this=node.this, expression=node.args["low"])
        high = exp.LTE(this=node.this, expression=node.args["high"])
        parsed = [_comparison(ctx, part, combined, left_internal) for part in (low, high)]
        if any(item is None for item in parsed):
            return False
        for item in parsed:
            assert item is not None
            _record(condition, *item)
        return True
    parsed_one = _comparison(ctx, node, combined, left_internal)
    if parsed_one is None:
        return False
    _record(condition, *parsed_one)
    return True


def _record(
    condition: _Condition, columns: tuple[str, str], lower: int | None, upper: int | None
) -> None:
    bounds = condition.time_bounds.setdefault(columns, [None, None])
    _tighten(bounds, lower, upper)


_FLIP: dict[type[exp.Binary], type[exp.Binary]] = {
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
}


def _comparison(
    ctx: PlanContext, node: exp.Expr, combined: Scope, left_internal: set[str]
) -> tuple[tuple[str, str], int | None, int | None] | None:
    """Read ``a.t + x op b.t + y`` as a bound on a.t - b.t: ((left, right), lower, upper)."""
    if type(node) not in _FLIP:
        return None
    first = _time_term(ctx, node.this, combined)
    second = _time_term(ctx, node.expression, combined)
    if first is None or second is None:
        return None
    first_left = first[0] in left_internal
    second_left = second[0] in left_internal
    if first_left == second_left:
        return None
    operator: type[exp.Binary] = type(node)  # type: ignore[assignment]
    if not first_left:
        first, second = second, first
        operator = _FLIP[operator]
    # left + a op right + b  <=>  left - right op b - a
    value = second[1] - first[1]
    columns = (first[0], second[0])
    if operator is exp.GTE:
        return columns, value, None
    if operator is exp.GT:
        return columns, value + 1, None
    if operator is exp.LTE:
        return columns, None, value
    return columns, None, value - 1


def _time_term(ctx: PlanContext, node: exp.Expr, combined: Scope) -> tuple[str, int] | None:
    """Read ``t``, ``t + interval`` or ``t - interval`` for an event-time attribute t."""
    while isinstance(node, exp.Paren):
        node = node.this
    offset = 0
    if isinstance(node, (exp.Add, exp.Sub)):
        column_node, interval_node = node.this, node.expression
        if isinstance(node, exp.Add) and not isinstance(_unparen(column_node), exp.Column):
            column_node, interval_node = interval_node, column_node
        if interval_node.find(exp.Column) is not None:
            return None
        try:
            amount = ctx.interval_ns(interval_node, "an interval join bound")
        except Exception:
            return None
        offset = amount if isinstance(node, exp.Add) else -amount
        node = _unparen(column_node)
    if not isinstance(node, exp.Column):
        return None
    try:
        found, path = combined.resolve(node, ctx.script)
    except UnknownColumnError:
        return None
    if path or found.type.time_attribute is not TimeAttribute.ROWTIME:
        return None
    return found.internal, offset


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _interval_join(ctx: PlanContext, join: exp.Expr, parts: _JoinParts) -> IntervalJoin:
    condition = parts.condition
    if len(condition.time_bounds) > 1:
        raise ctx.unsupported(
            "an interval join compares one time attribute of each input",
            condition.time_nodes[-1],
            hint="bound the same pair of columns, such as a.ts BETWEEN b.ts - INTERVAL '1' MINUTE AND b.ts",
        )
    (left_time, right_time), (lower, upper) = next(iter(condition.time_bounds.items()))
    if lower is None or upper is None:
        missing = "upper" if upper is None else "lower"
        raise ctx.unsupported(
            f"the time condition of this join has no {missing} bound, "
            "so its state would grow without limit",
            condition.time_nodes[0],
            hint="bound both sides, such as a.ts BETWEEN b.ts - INTERVAL '10' MINUTE AND b.ts",
        )
    reverse = dict(zip(parts.right_names, parts.right.schema.names, strict=True))
    bounds = IntervalBounds(left_time, reverse[right_time], lower, upper)
    del join
    return IntervalJoin(**parts.fields(keep_times=True), bounds=bounds)


def _window_join(
    ctx: PlanContext, join: exp.Expr, parts: _JoinParts, *, renamed: dict[str, str]
) -> WindowJoin:
    condition = parts.condition
    bounds = condition.window_bounds
    if set(bounds) != {"window_start", "window_end"}:
        missing = "window_end" if "window_end" not in bounds else "window_start"
        raise ctx.unsupported(
            f"a window join needs equal {missing} columns as well",
            join,
            hint="join on a.window_start = b.window_start AND a.window_end = b.window_end",
        )
    reverse = {new: old for old, new in renamed.items()}
    left_window = (bounds["window_start"][0], bounds["window_end"][0])
    right_window = (reverse[bounds["window_start"][1]], reverse[bounds["window_end"][1]])
    left_spec = _window_origin(parts.left, left_window[0])
    right_spec = _window_origin(parts.right, right_window[0])
    if left_spec is None or right_spec is None:
        raise ctx.unsupported(
            "a window join reads the window_start and window_end of a window TVF on each input",
            join,
            hint="join two TABLE(TUMBLE(...)), HOP or CUMULATE results on their window bounds",
        )
    for spec in (left_spec, right_spec):
        if spec.kind == "SESSION":
            raise ctx.unsupported("a window join over SESSION windows is not supported", join)
        if spec.processing_time:
            raise ctx.unsupported(
                "a window join over processing-time windows is not supported", join
            )
    if not _same_windows(left_spec, right_spec):
        raise ctx.unsupported(
            f"both inputs of a window join need the same windows, not "
            f"{left_spec.describe()} and {right_spec.describe()}",
            join,
        )
    if condition.time_bounds:
        # Time comparisons in a window join are plain conditions on the pair.
        raise ctx.unsupported(
            "a window join cannot also bound the inputs' event times",
            condition.time_nodes[0],
            hint="drop the time comparison: rows of one window already lie close in time",
        )
    return WindowJoin(
        **parts.fields(keep_times=True),
        left_window=left_window,
        right_window=right_window,
        window=left_spec,
        precision_ns=left_spec.precision_ns,
    )


def _same_windows(left: WindowSpec, right: WindowSpec) -> bool:
    return (left.kind, left.size_ns, left.slide_ns, left.step_ns, left.offset_ns) == (
        right.kind,
        right.size_ns,
        right.slide_ns,
        right.step_ns,
        right.offset_ns,
    )


def _window_origin(node: PlanNode, column: str) -> WindowSpec | None:
    """Return the windows a window_start column comes from, following projections."""
    if isinstance(node, WindowTableFunction):
        return node.window if column == "window_start" else None
    if isinstance(node, WindowAggregate):
        return node.window if column == node.window_start_column else None
    if isinstance(node, WindowJoin):
        if column == node.left_window[0]:
            return node.window
        return None
    if isinstance(node, Calc):
        for name, expression in node.projections:
            if name == column and isinstance(expression, ColumnRef):
                return _window_origin(node.input, expression.name)
    return None


def _join_schema(
    left: PlanNode,
    right: PlanNode,
    right_names: tuple[str, ...],
    kind: JoinKind,
    *,
    keep_times: bool,
) -> Schema:
    """Return the output columns: the padded side's columns become nullable.

    A side that an outer join pads with NULLs loses its time attributes,
    because a NULL cannot place a row in event time.
    """
    left_padded = kind in ("RIGHT", "FULL")
    right_padded = kind in ("LEFT", "FULL")
    columns = [
        Column(c.name, _output_type(c.type, left_padded, keep_times)) for c in left.schema.columns
    ]
    if kind in ("SEMI", "ANTI"):
        return Schema(tuple(columns))
    columns.extend(
        Column(name, _output_type(c.type, right_padded, keep_times))
        for name, c in zip(right_names, right.schema.columns, strict=True)
    )
    return Schema(tuple(columns))


def _output_type(kind: DataType, padded: bool, keep_times: bool) -> DataType:
    if padded:
        kind = kind.plain().with_nullable(True)
    if not keep_times:
        kind = kind.plain()
    return kind


def _output_scope(combined: Scope, plan: PlanNode, left_internal: set[str]) -> Scope:
    columns = []
    for column in combined.columns:
        semi = isinstance(plan, (IntervalJoin, WindowJoin)) and plan.kind in ("SEMI", "ANTI")
        if semi and column.internal not in left_internal:
            continue
        found = plan.schema.find(column.internal)
        kind = found.type if found is not None else column.type
        columns.append(ScopeColumn(column.name, column.internal, kind, column.qualifier))
    return Scope(columns)
