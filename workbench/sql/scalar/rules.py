"""Compile rules for each sqlglot construct: one function per node class, and dispatch tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from workbench.errors import UnsupportedError
from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.expr import Call, Expr, Literal
from workbench.sql.functions.base import MonthInterval
from workbench.sql.functions.literals import (
    LiteralError,
    interval_literal,
    number_literal,
    time_literal,
)
from workbench.sql.parser import node_position
from workbench.sql.scalar.nodes import (
    BARE_FUNCTIONS,
    BINARY_OPERATORS,
    COMPARISONS,
    TYPED_LITERAL,
    arguments,
    normalize_unit,
)
from workbench.sql.sqltypes import to_data_type

if TYPE_CHECKING:
    from workbench.sql.scalar.compiler import ScalarCompiler

# Names, literals and field access ------------------------------------------------


def paren(compiler: ScalarCompiler, node: exp.Paren) -> Expr:
    return compiler.compile_node(node.this)


def column(compiler: ScalarCompiler, node: exp.Column) -> Expr:
    identifier = node.this
    if isinstance(identifier, exp.Star):
        raise UnsupportedError(
            "* is not a value here", sql=compiler.script, position=compiler.position(node)
        )
    bare = isinstance(identifier, exp.Identifier) and not identifier.quoted and not node.table
    if bare and identifier.name.upper() in BARE_FUNCTIONS:
        return compiler.call(identifier.name.upper(), [], node)
    return compiler.resolve_column(node)


def dot(compiler: ScalarCompiler, node: exp.Dot) -> Expr:
    operand = compiler.compile_node(node.this)
    return compiler.call("FIELD", [operand], node, [node.this], {"field": node.expression.name})


def bracket(compiler: ScalarCompiler, node: exp.Bracket) -> Expr:
    container = node.this
    if (
        isinstance(container, exp.Column)
        and not container.table
        and isinstance(container.this, exp.Identifier)
        and not container.this.quoted
        and container.name.upper() == "MAP"
    ):
        return collection(compiler, "MAP", node, list(node.expressions))
    if len(node.expressions) != 1:
        raise UnsupportedError(
            "a subscript takes one index",
            sql=compiler.script,
            position=compiler.position(node),
            hint="write tags[1] for an array element or attributes['key'] for a map value",
        )
    return compiler.function("ITEM", node, [container, node.expressions[0]])


def literal(compiler: ScalarCompiler, node: exp.Literal) -> Expr:
    if node.is_string:
        return Literal(value=node.this, type=t.STRING)
    value, type = number_literal(node.this)
    return Literal(value=value, type=type)


def null(compiler: ScalarCompiler, node: exp.Null) -> Expr:
    return Literal(value=None, type=t.NULL)


def boolean(compiler: ScalarCompiler, node: exp.Boolean) -> Expr:
    return Literal(value=bool(node.this), type=t.BOOLEAN)


def negate(compiler: ScalarCompiler, node: exp.Neg) -> Expr:
    inner = node.this
    if isinstance(inner, exp.Literal) and not inner.is_string:
        value, type = number_literal(inner.this)
        if type.kind is TypeKind.BIGINT and value == 2**31:
            type = t.INT
        return Literal(value=-value, type=type)
    return compiler.function("-", node, [inner])


# Operators -----------------------------------------------------------------------


def binary(compiler: ScalarCompiler, node: exp.Binary) -> Expr:
    nodes = [node.this, node.expression]
    return compiler.function(BINARY_OPERATORS[type(node)], node, nodes)


def comparison(compiler: ScalarCompiler, node: exp.Binary) -> Expr:
    nodes = [node.this, node.expression]
    args = compiler.unify([compiler.compile_node(item) for item in nodes], nodes)
    return compiler.call(COMPARISONS[type(node)], args, node, nodes)


def logic(compiler: ScalarCompiler, node: exp.Connector) -> Expr:
    return compiler.function(
        "AND" if isinstance(node, exp.And) else "OR", node, [node.this, node.expression]
    )


def not_call(compiler: ScalarCompiler, node: exp.Not) -> Expr:
    inner = node.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if isinstance(inner, exp.Is):
        return is_test(compiler, inner, negate=True, outer=node)
    return compiler.function("NOT", node, [node.this])


def is_test(
    compiler: ScalarCompiler, node: exp.Is, negate: bool = False, outer: exp.Expr | None = None
) -> Expr:
    target = node.expression
    if isinstance(target, exp.Null):
        name = "IS NULL"
    elif isinstance(target, exp.Boolean):
        name = "IS TRUE" if target.this else "IS FALSE"
    else:
        raise UnsupportedError(
            f"unsupported IS test {compiler.text(node)!r}",
            sql=compiler.script,
            position=compiler.position(node),
            hint="write IS [NOT] NULL, IS [NOT] TRUE, IS [NOT] FALSE or IS [NOT] DISTINCT FROM",
        )
    if negate != bool(node.args.get("negate")):
        name = name.replace("IS ", "IS NOT ", 1)
    return compiler.function(name, outer or node, [node.this])


def in_list(compiler: ScalarCompiler, node: exp.In) -> Expr:
    if node.args.get("query") is not None or node.args.get("unnest") is not None:
        raise UnsupportedError(
            "IN with a subquery is not supported in this expression",
            sql=compiler.script,
            position=compiler.position(node),
            hint="list the values, as in x IN (1, 2, 3), or use a join",
        )
    nodes = [node.this, *node.expressions]
    args = compiler.unify([compiler.compile_node(item) for item in nodes], nodes)
    return compiler.call("IN", args, node, nodes)


def between(compiler: ScalarCompiler, node: exp.Between) -> Expr:
    nodes = [node.this, node.args["low"], node.args["high"]]
    args = compiler.unify([compiler.compile_node(item) for item in nodes], nodes)
    return compiler.call(
        "BETWEEN", args, node, nodes, {"symmetric": bool(node.args.get("symmetric"))}
    )


def like(
    compiler: ScalarCompiler,
    node: exp.Expr,
    escape: exp.Expr | None = None,
    outer: exp.Expr | None = None,
) -> Expr:
    name = "LIKE" if isinstance(node, exp.Like) else "SIMILAR TO"
    nodes = [node.this, node.expression, *([escape] if escape is not None else [])]
    call = compiler.function(name, outer or node, nodes)
    if node.args.get("negate"):
        return compiler.call("NOT", [call], outer or node)
    return call


def escape(compiler: ScalarCompiler, node: exp.Escape) -> Expr:
    if isinstance(node.this, (exp.Like, exp.SimilarTo)):
        return like(compiler, node.this, node.expression, node)
    raise UnsupportedError(
        "ESCAPE follows LIKE or SIMILAR TO", sql=compiler.script, position=compiler.position(node)
    )


def ilike(compiler: ScalarCompiler, node: exp.ILike) -> Expr:
    raise UnsupportedError(
        "ILIKE is not Flink SQL",
        sql=compiler.script,
        position=compiler.position(node),
        hint="compare lower-case text: LOWER(x) LIKE 'abc%'",
    )


# CAST and literals with a type ----------------------------------------------------


def cast(compiler: ScalarCompiler, node: exp.Cast) -> Expr:
    target = to_data_type(node.args["to"], compiler.script)
    value = node.this
    name = "TRY_CAST" if isinstance(node, exp.TryCast) else "CAST"
    if (
        name == "CAST"
        and isinstance(value, exp.Literal)
        and value.is_string
        and is_typed_literal(compiler, value)
    ):
        return typed_literal(compiler, value.this, target, node)
    operand = compiler.compile_node(value)
    if isinstance(operand, Literal) and operand.value is None:
        return Literal(value=None, type=target.with_nullable(True))
    return compiler.call(name, [operand], node, [value], {"type": target})


def is_typed_literal(compiler: ScalarCompiler, value: exp.Literal) -> bool:
    position = node_position(compiler.script, value)
    if position is None:
        return False
    return TYPED_LITERAL.search(compiler.script[: position.start]) is not None


def typed_literal(compiler: ScalarCompiler, text: str, target: DataType, node: exp.Expr) -> Expr:
    kind = TypeKind.TIMESTAMP if target.kind is TypeKind.TIMESTAMP_LTZ else target.kind
    try:
        value, type = time_literal(text, kind)
    except LiteralError as error:
        raise compiler.invalid_literal(error, node) from None
    if target.kind is TypeKind.TIMESTAMP_LTZ:
        # The wall-clock text means a time in the session time zone, known when the query runs.
        ltz = t.timestamp_ltz(type.precision if type.precision is not None else 0)
        return Call(
            function="CAST",
            args=(Literal(value=text, type=t.STRING),),
            options=(("type", ltz),),
            type=ltz,
        )
    return Literal(value=value, type=type)


def interval(compiler: ScalarCompiler, node: exp.Interval) -> Expr:
    value = node.this
    negative = isinstance(value, exp.Neg)
    if negative:
        value = value.this
    unit = node.args.get("unit")
    if not isinstance(value, exp.Literal):
        raise UnsupportedError(
            "an interval needs a constant length, such as INTERVAL '5' MINUTE",
            sql=compiler.script,
            position=compiler.position(node),
            hint="for a computed length multiply: n * INTERVAL '1' MINUTE",
        )
    text = ("-" if negative else "") + str(value.this)
    if isinstance(unit, exp.IntervalSpan):
        start, end = normalize_unit(unit.this.name), normalize_unit(unit.expression.name)
    elif unit is not None:
        start, end = normalize_unit(unit.name), None
    else:
        parts = text.split()
        if len(parts) != 2:
            raise compiler.invalid_literal(
                LiteralError(f"invalid interval {text!r}: name a unit"), node
            )
        text, start, end = parts[0], normalize_unit(parts[1]), None
    try:
        length = interval_literal(text, start, end)
    except LiteralError as error:
        raise compiler.invalid_literal(error, node) from None
    literal = Literal(value=length, type=t.INTERVAL)
    if isinstance(length, MonthInterval):
        compiler.month_literals[id(literal)] = node
    return literal


# Conditional expressions ----------------------------------------------------------


def case(compiler: ScalarCompiler, node: exp.Case) -> Expr:
    operand_node = node.this
    operand = compiler.compile_node(operand_node) if operand_node is not None else None
    args: list[Expr] = []
    nodes: list[exp.Expr] = []
    results: list[int] = []
    for branch in node.args.get("ifs") or []:
        when, then = branch.this, branch.args["true"]
        if operand is not None and operand_node is not None:
            pair = compiler.unify([operand, compiler.compile_node(when)], [operand_node, when])
            condition: Expr = compiler.call("=", pair, branch, [operand_node, when])
        else:
            condition = compiler.compile_node(when)
        args += [condition, compiler.compile_node(then)]
        nodes += [when, then]
        results.append(len(args) - 1)
    default = node.args.get("default")
    if default is not None:
        args.append(compiler.compile_node(default))
        nodes.append(default)
        results.append(len(args) - 1)
    call = compiler.call("CASE", args, node, nodes, {"has_else": default is not None})
    return coerce_args(compiler, call, results, nodes)


def if_call(compiler: ScalarCompiler, node: exp.Expr, arg_nodes: list[exp.Expr]) -> Expr:
    call = compiler.function("IF", node, arg_nodes)
    return coerce_args(compiler, call, [1, 2], arg_nodes)


def if_node(compiler: ScalarCompiler, node: exp.If) -> Expr:
    return if_call(
        compiler, node, [node.this, node.args["true"], node.args.get("false") or exp.Null()]
    )


def coalesce(
    compiler: ScalarCompiler, node: exp.Expr, arg_nodes: list[exp.Expr], name: str = "COALESCE"
) -> Expr:
    args = compiler.unify([compiler.compile_node(item) for item in arg_nodes], arg_nodes)
    call = compiler.call(name, args, node, arg_nodes)
    return coerce_args(compiler, call, range(len(args)), arg_nodes)


def coalesce_node(compiler: ScalarCompiler, node: exp.Coalesce) -> Expr:
    return coalesce(compiler, node, arguments(node, ("this", "expressions")))


def nullif(compiler: ScalarCompiler, node: exp.Nullif) -> Expr:
    nodes = [node.this, node.expression]
    args = compiler.unify([compiler.compile_node(item) for item in nodes], nodes)
    return compiler.call("NULLIF", args, node, nodes)


def extreme(compiler: ScalarCompiler, node: exp.Expr) -> Expr:
    name = "GREATEST" if isinstance(node, exp.Greatest) else "LEAST"
    return coalesce(compiler, node, arguments(node, ("this", "expressions")), name)


def coerce_args(
    compiler: ScalarCompiler, call: Call, positions: Sequence[int], nodes: Sequence[exp.Expr]
) -> Call:
    args = list(call.args)
    for position in positions:
        args[position] = compiler.coerce(
            args[position], call.type, nodes[position] if position < len(nodes) else None
        )
    return Call(function=call.function, args=tuple(args), options=call.options, type=call.type)


def collection(
    compiler: ScalarCompiler, name: str, node: exp.Expr, arg_nodes: list[exp.Expr]
) -> Expr:
    call = compiler.function(name, node, arg_nodes)
    args = list(call.args)
    if name == "ARRAY":
        assert call.type.element is not None
        args = [compiler.coerce(arg, call.type.element) for arg in args]
    else:
        assert call.type.key is not None and call.type.value is not None
        args = [
            compiler.coerce(arg, call.type.key if i % 2 == 0 else call.type.value)
            for i, arg in enumerate(args)
        ]
    return Call(function=name, args=tuple(args), options=call.options, type=call.type)


def array(compiler: ScalarCompiler, node: exp.Array) -> Expr:
    return collection(compiler, "ARRAY", node, list(node.expressions))


# Time ----------------------------------------------------------------------------


def extract(compiler: ScalarCompiler, node: exp.Extract) -> Expr:
    unit = normalize_unit(node.this.name)
    value = node.expression
    return compiler.call("EXTRACT", [compiler.compile_node(value)], node, [value], {"unit": unit})


def floor_ceil(compiler: ScalarCompiler, node: exp.Expr) -> Expr:
    name = "FLOOR" if isinstance(node, exp.Floor) else "CEIL"
    to = node.args.get("to")
    if to is not None:
        return compiler.call(
            name,
            [compiler.compile_node(node.this)],
            node,
            [node.this],
            {"unit": normalize_unit(to.name)},
        )
    if node.args.get("decimals") is not None:
        raise UnsupportedError(
            f"{name} takes one number", sql=compiler.script, position=compiler.position(node)
        )
    return compiler.function(name, node, [node.this])


def unit_function(compiler: ScalarCompiler, node: exp.Expr, arg_nodes: list[exp.Expr]) -> Expr:
    name = node.name.upper()
    if not arg_nodes or not isinstance(arg_nodes[0], (exp.Var, exp.Column)):
        raise UnsupportedError(
            f"{name} needs a time unit first",
            sql=compiler.script,
            position=compiler.position(node),
            hint=f"{name}(MINUTE, ...)",
        )
    unit = normalize_unit(arg_nodes[0].name)
    values = arg_nodes[1:]
    return compiler.call(
        name, [compiler.compile_node(item) for item in values], node, values, {"unit": unit}
    )


# Other calls ---------------------------------------------------------------------


def anonymous(compiler: ScalarCompiler, node: exp.Anonymous) -> Expr:
    return compiler.named_function(node.name.upper(), node, list(node.expressions))


def rounding(compiler: ScalarCompiler, node: exp.Expr) -> Expr:
    name = "ROUND" if isinstance(node, exp.Round) else "TRUNCATE"
    arg_nodes = arguments(node, ("this", "decimals"))
    options: dict[str, Any] = {}
    if len(arg_nodes) > 1:
        places = compiler.compile_node(arg_nodes[1])
        if isinstance(places, Literal) and isinstance(places.value, int):
            options["places"] = places.value
    return compiler.call(
        name, [compiler.compile_node(item) for item in arg_nodes], node, arg_nodes, options
    )


def trim(compiler: ScalarCompiler, node: exp.Trim) -> Expr:
    side = str(node.args.get("position") or "BOTH").upper()
    arg_nodes = arguments(node, ("this", "expression"))
    name = (
        {"LEADING": "LTRIM", "TRAILING": "RTRIM"}.get(side, "TRIM")
        if is_function_form(compiler, node)
        else "TRIM"
    )
    args = [compiler.compile_node(item) for item in arg_nodes]
    return compiler.call(name, args, node, arg_nodes, {"side": side})


def is_function_form(compiler: ScalarCompiler, node: exp.Expr) -> bool:
    position = node_position(compiler.script, node)
    return position is not None and compiler.script[
        position.start : position.start + 5
    ].upper() in ("LTRIM", "RTRIM")


def pad(compiler: ScalarCompiler, node: exp.Pad) -> Expr:
    name = "LPAD" if node.args.get("is_left") else "RPAD"
    return compiler.function(name, node, arguments(node, ("this", "expression", "fill_pattern")))


def log(compiler: ScalarCompiler, node: exp.Log) -> Expr:
    base, value = node.this, node.expression
    if value is None:
        return compiler.function("LN", node, [base])
    if isinstance(base, exp.Literal) and base.this in ("10", "2"):
        return compiler.function("LOG10" if base.this == "10" else "LOG2", node, [value])
    return compiler.function("LOG", node, [base, value])


def atan(compiler: ScalarCompiler, node: exp.Atan) -> Expr:
    if node.expression is not None:
        return compiler.function("ATAN2", node, [node.this, node.expression])
    return compiler.function("ATAN", node, [node.this])


def json_value(compiler: ScalarCompiler, node: exp.JSONValue) -> Expr:
    arg_nodes: list[exp.Expr] = [node.this, node.args["path"]]
    options: dict[str, Any] = {}
    returning = node.args.get("returning")
    if isinstance(returning, exp.DataType):
        options["returning"] = to_data_type(returning, compiler.script)
    condition = node.args.get("on_condition")
    for which in ("empty", "error"):
        behaviour = condition.args.get(which) if isinstance(condition, exp.OnCondition) else None
        if behaviour is None:
            continue
        if isinstance(behaviour, str):
            options[f"on_{which}"] = behaviour.split()[0].upper()
        else:
            options[f"on_{which}"] = "DEFAULT"
            arg_nodes.append(behaviour)
    args = [compiler.compile_node(item) for item in arg_nodes]
    call = compiler.call("JSON_VALUE", args, node, arg_nodes, options)
    return coerce_args(compiler, call, range(2, len(args)), arg_nodes)


def window(compiler: ScalarCompiler, node: exp.Window) -> Expr:
    raise UnsupportedError(
        "an OVER window is not allowed here",
        sql=compiler.script,
        position=compiler.position(node),
        hint="OVER aggregations belong in the SELECT list",
    )


def subquery(compiler: ScalarCompiler, node: exp.Expr) -> Expr:
    raise UnsupportedError(
        "subqueries are not supported in expressions",
        sql=compiler.script,
        position=compiler.position(node),
        hint="join the other table instead",
    )


def row(compiler: ScalarCompiler, node: exp.Expr, arg_nodes: list[exp.Expr]) -> Expr:
    return compiler.function("ROW", node, arg_nodes)


def coalesce_named(compiler: ScalarCompiler, node: exp.Expr, arg_nodes: list[exp.Expr]) -> Expr:
    return coalesce(compiler, node, arg_nodes, node.name.upper())


HANDLERS: dict[type[exp.Expr], Callable[[ScalarCompiler, Any], Expr]] = {
    exp.Paren: paren,
    exp.Column: column,
    exp.Dot: dot,
    exp.Bracket: bracket,
    exp.Literal: literal,
    exp.Null: null,
    exp.Boolean: boolean,
    exp.Neg: negate,
    **{klass: binary for klass in BINARY_OPERATORS},
    **{klass: comparison for klass in COMPARISONS},
    exp.And: logic,
    exp.Or: logic,
    exp.Not: not_call,
    exp.Is: is_test,
    exp.In: in_list,
    exp.Between: between,
    exp.Like: like,
    exp.SimilarTo: like,
    exp.Escape: escape,
    exp.ILike: ilike,
    exp.Cast: cast,
    exp.Case: case,
    exp.If: if_node,
    exp.Coalesce: coalesce_node,
    exp.Nullif: nullif,
    exp.Greatest: extreme,
    exp.Least: extreme,
    exp.Array: array,
    exp.Interval: interval,
    exp.Extract: extract,
    exp.Floor: floor_ceil,
    exp.Ceil: floor_ceil,
    exp.Anonymous: anonymous,
    exp.Round: rounding,
    exp.Trunc: rounding,
    exp.Trim: trim,
    exp.Pad: pad,
    exp.Log: log,
    exp.Atan: atan,
    exp.JSONValue: json_value,
    exp.Window: window,
    exp.Subquery: subquery,
    exp.Select: subquery,
    exp.Exists: subquery,
}

#: Calls by name (kept as plain calls by the dialect) that need more than typing their arguments.
NAMED: dict[str, Callable[[ScalarCompiler, exp.Expr, list[exp.Expr]], Expr]] = {
    "TIMESTAMPADD": unit_function,
    "TIMESTAMPDIFF": unit_function,
    "IF": if_call,
    "ROW": row,
    "COALESCE": coalesce_named,
    "IFNULL": coalesce_named,
    "NVL": coalesce_named,
}
