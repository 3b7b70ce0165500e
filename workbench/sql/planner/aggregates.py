"""Recognising aggregate calls in SQL and turning them into AggCall steps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp

from workbench.errors import TypeMismatchError
from workbench.events.types import DataType
from workbench.sql.aggregates import (
    ALIASES,
    BUILTIN_AGGREGATES,
    AggregateTypeError,
    canonical_name,
    infer_aggregate_type,
)
from workbench.sql.expr import Expr
from workbench.sql.parser import node_position
from workbench.sql.planner.context import PlanContext

_CLASS_NAMES: dict[type[exp.Expr], str] = {
    exp.Count: "COUNT",
    exp.Sum: "SUM",
    exp.Avg: "AVG",
    exp.Min: "MIN",
    exp.Max: "MAX",
    exp.Stddev: "STDDEV_SAMP",
    exp.StddevPop: "STDDEV_POP",
    exp.StddevSamp: "STDDEV_SAMP",
    exp.Variance: "VAR_SAMP",
    exp.VariancePop: "VAR_POP",
    exp.ArrayAgg: "ARRAY_AGG",
    exp.LogicalAnd: "BOOL_AND",
    exp.LogicalOr: "BOOL_OR",
    exp.GroupConcat: "LISTAGG",
}

#: Aggregates whose arguments after the first are constants, not columns.
_CONSTANT_ARGUMENTS = {"LISTAGG": 1, "PERCENTILE": 1, "APPROX_PERCENTILE": 1}
#: The rule for the constant arguments of an aggregate, for errors.
_CONSTANT_RULES = {
    "LISTAGG": "the separator of LISTAGG must be a constant string",
    "PERCENTILE": "the percentage of PERCENTILE must be a constant between 0 and 1",
    "APPROX_PERCENTILE": "the percentage of APPROX_PERCENTILE must be a constant between 0 and 1",
}


def aggregate_name(ctx: PlanContext, node: exp.Expr) -> str | None:
    """Return the canonical aggregate name of a call, or None if it is not an aggregate."""
    if isinstance(node, exp.Filter):
        return aggregate_name(ctx, node.this)
    for cls, name in _CLASS_NAMES.items():
        if type(node) is cls:
            return name
    if isinstance(node, exp.Anonymous):
        upper = str(node.this).upper()
        if upper in ctx.user_aggregates:
            return upper
        if upper in BUILTIN_AGGREGATES or upper in ALIASES:
            return canonical_name(upper)
    return None


def find_aggregates(ctx: PlanContext, nodes: list[exp.Expr]) -> list[exp.Expr]:
    """Return the aggregate calls in ``nodes``, outside OVER windows and subqueries."""
    found: list[exp.Expr] = []
    for node in nodes:
        found.extend(_walk_aggregates(ctx, node))
    return found


def _walk_aggregates(ctx: PlanContext, node: exp.Expr) -> Iterator[exp.Expr]:
    if isinstance(node, (exp.Window, exp.Subquery, exp.Select)):
        return
    if aggregate_name(ctx, node) is not None:
        yield node
        return
    for child in node.iter_expressions():
        yield from _walk_aggregates(ctx, child)


@dataclass
class AggregateSource:
    """One aggregate call as written: function, argument nodes and FILTER condition."""

    node: exp.Expr
    function: str
    args: list[exp.Expr]
    distinct: bool
    filter: exp.Expr | None
    constants: list[exp.Expr]


def describe_call(ctx: PlanContext, node: exp.Expr) -> AggregateSource:
    """Take an aggregate call apart into its function, arguments and options."""
    condition = None
    call = node
    if isinstance(node, exp.Filter):
        call = node.this
        where = node.expression
        condition = where.this if isinstance(where, exp.Where) else where
    function = aggregate_name(ctx, call)
    assert function is not None
    args: list[exp.Expr] = []
    if isinstance(call, exp.Anonymous):
        args = list(call.expressions)
    else:
        this = call.this
        if this is not None and not isinstance(this, exp.Star):
            args.append(this)
        args.extend(call.expressions or [])
        separator = call.args.get("separator")
        if separator is not None:
            args.append(separator)
    distinct = False
    if args and isinstance(args[0], exp.Distinct):
        distinct = True
        inner = args[0].expressions
        if len(inner) != 1:
            raise ctx.unsupported(f"{function}(DISTINCT ...) takes one argument", call)
        args = [inner[0], *args[1:]]
    if function == "COUNT" and args and isinstance(args[0], exp.Literal) and not distinct:
        args = []  # COUNT(1) counts rows, like COUNT(*)
    split = _CONSTANT_ARGUMENTS.get(function, len(args))
    return AggregateSource(node, function, args[:split], distinct, condition, args[split:])


def constant_arguments(ctx: PlanContext, source: AggregateSource) -> list[object]:
    """Evaluate the constant arguments of an aggregate (LISTAGG's separator, a percentage)."""
    rule = _CONSTANT_RULES.get(source.function)
    return [ctx.constant(node, rule=rule) for node in source.constants]


def check_type(
    ctx: PlanContext, source: AggregateSource, arg_exprs: list[Expr], constants: list[object]
) -> DataType:
    """Return the aggregate's result type, or raise a positioned type error."""
    if source.function in ctx.user_aggregates:
        definition = ctx.user_aggregates[source.function]
        if len(arg_exprs) != definition.arity:
            raise TypeMismatchError(
                f"{source.function} takes {definition.arity} argument(s), got {len(arg_exprs)}",
                sql=ctx.script,
                position=node_position(ctx.script, source.node),
            )
        return definition.result_type
    try:
        return infer_aggregate_type(source.function, [arg.type for arg in arg_exprs], constants)
    except AggregateTypeError as error:
        raise TypeMismatchError(
            str(error), sql=ctx.script, position=node_position(ctx.script, source.node)
        ) from None
