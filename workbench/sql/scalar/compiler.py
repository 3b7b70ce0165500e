"""The scalar compiler: dispatch on node classes, typing through the registry, errors.

Implicit conversions happen only where SQL has them: numeric widening, a
string literal compared with a date or timestamp, an untyped NULL, and
TIMESTAMP values that meet TIMESTAMP_LTZ values.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from workbench.errors import Position, TypeMismatchError, UnsupportedError, ValidationError
from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.expr import Call, Expr, Literal
from workbench.sql.functions import (
    AGGREGATE_NAMES,
    WINDOW_FUNCTION_NAMES,
    ArgumentTypeError,
    FunctionRegistry,
)
from workbench.sql.functions.base import MonthInterval
from workbench.sql.functions.literals import LiteralError, time_literal
from workbench.sql.functions.nested import infer_field
from workbench.sql.parser import node_position
from workbench.sql.scalar.nodes import FUNCTION_NODES, TEMPORAL, TYPED_LITERAL, arguments
from workbench.sql.scalar.rules import HANDLERS, NAMED

#: Names a user can call, as opposed to operators (+, IS NULL) and FIELD/ITEM access.
_CALLABLE_NAME = re.compile(r"(?!FIELD$|ITEM$)[A-Z_][A-Z0-9_]*")

ResolveColumn = Callable[[exp.Column], Expr]
ResolveSpecial = Callable[[exp.Expr], Expr | None]


def field_access(operand: Expr, name: str, registry: FunctionRegistry | None = None) -> Call:
    """Return ``operand.name`` as a FIELD call.

    Raises ArgumentTypeError when ``operand`` is not a ROW or has no such field.
    """
    options = {"field": name}
    if registry is not None:
        type = registry.infer("FIELD", [operand.type], options)
    else:
        type = infer_field([operand.type], options)
    return Call(function="FIELD", args=(operand,), options=(("field", name),), type=type)


class ScalarCompiler:
    """Compile scalar expressions of one script into typed expression trees."""

    def __init__(
        self,
        script: str,
        registry: FunctionRegistry,
        resolve_column: ResolveColumn,
        resolve_special: ResolveSpecial | None = None,
    ) -> None:
        self.script = script
        self.registry = registry
        self.resolve_column = resolve_column
        self.resolve_special = resolve_special
        self.month_literals: dict[int, exp.Expr] = {}

    def compile(self, node: exp.Expr) -> Expr:
        """Return the typed expression for ``node``; raises a positioned QueryError."""
        expr = self.compile_node(node)
        if expr.type.kind is TypeKind.INTERVAL:
            for item in expr.walk():
                if isinstance(item, Literal) and isinstance(item.value, MonthInterval):
                    source = self.month_literals.get(id(item), node)
                    raise UnsupportedError(
                        "a year-month interval can only be added to or subtracted from "
                        "a DATE or TIMESTAMP",
                        sql=self.script,
                        position=self.position(source),
                        hint="use it as ts + INTERVAL '1' MONTH, or TIMESTAMPADD(MONTH, 1, ts)",
                    )
        return expr

    # Dispatch -------------------------------------------------------------------------

    def compile_node(self, node: exp.Expr) -> Expr:
        if self.resolve_special is not None:
            special = self.resolve_special(node)
            if special is not None:
                return special
        for klass in type(node).__mro__:
            handler = HANDLERS.get(klass)
            if handler is not None:
                return handler(self, node)
        mapped = FUNCTION_NODES.get(type(node))
        if mapped is not None:
            name, keys = mapped
            return self.function(name, node, arguments(node, keys))
        if isinstance(node, exp.AggFunc):
            raise self.aggregate_error(
                node.sql_name() if isinstance(node, exp.Func) else node.key, node
            )
        if isinstance(node, exp.Func):
            return self.named_function(
                node.sql_name().upper(), node, arguments(node, tuple(node.arg_types))
            )
        raise UnsupportedError(
            f"unsupported expression {self.text(node)!r}",
            sql=self.script,
            position=self.position(node),
        )

    def call(
        self,
        name: str,
        args: Sequence[Expr],
        node: exp.Expr,
        arg_nodes: Sequence[exp.Expr | None] = (),
        options: dict[str, Any] | None = None,
    ) -> Call:
        """Type a call through the registry; type errors point at the argument at fault."""
        options = options or {}
        try:
            type = self.registry.infer(name, [arg.type for arg in args], options)
        except KeyError:
            raise self.unknown_function(name, node) from None
        except ArgumentTypeError as error:
            raise self.type_error(error, node, arg_nodes) from None
        return Call(function=name, args=tuple(args), options=tuple(options.items()), type=type)

    def function(self, name: str, node: exp.Expr, arg_nodes: Sequence[exp.Expr]) -> Call:
        args = [self.compile_node(arg) for arg in arg_nodes]
        return self.call(name, args, node, arg_nodes)

    def named_function(self, name: str, node: exp.Expr, arg_nodes: Sequence[exp.Expr]) -> Expr:
        if name in AGGREGATE_NAMES or name in WINDOW_FUNCTION_NAMES:
            raise self.aggregate_error(name, node)
        if name not in self.registry:
            raise self.unknown_function(name, node)
        special = NAMED.get(name)
        if special is not None:
            return special(self, node, list(arg_nodes))
        return self.function(name, node, arg_nodes)

    # Errors ---------------------------------------------------------------------------

    def position(self, node: exp.Expr) -> Position | None:
        position = node_position(self.script, node)
        if position is None:
            return None
        start, end = position.start, position.end
        before = self.script[:start].rstrip()
        if isinstance(node, exp.Neg) and before.endswith("-"):
            start = len(before) - 1
        elif isinstance(node, exp.Interval):
            keyword = re.search(r"INTERVAL\s*$", before, re.IGNORECASE)
            start = keyword.start() if keyword else start
            unit = re.match(r"\s*(\w+)(\s+TO\s+\w+)?", self.script[end:], re.IGNORECASE)
            end = end + unit.end() if unit else end
        elif isinstance(node, exp.Cast) and TYPED_LITERAL.search(before):
            match = TYPED_LITERAL.search(before)
            start = match.start() if match else start
        elif isinstance(node, exp.Bracket):
            closing = re.match(r"\s*\]", self.script[end:])
            end = end + closing.end() if closing else end
        line = self.script.count("\n", 0, start) + 1
        column = start - (self.script.rfind("\n", 0, start) + 1) + 1
        return Position(line=line, column=column, start=start, end=end)

    def text(self, node: exp.Expr) -> str:
        position = self.position(node)
        if position is None:
            return node.sql()
        return " ".join(self.script[position.start : position.end].split())

    def type_error(
        self, error: ArgumentTypeError, node: exp.Expr, arg_nodes: Sequence[exp.Expr | None]
    ) -> TypeMismatchError:
        culprit: exp.Expr | None = None
        if error.argument_index is not None and error.argument_index < len(arg_nodes):
            culprit = arg_nodes[error.argument_index]
        hint = error.hint
        if hint is None and error.expected is not None and culprit is not None:
            hint = f"use CAST({self.text(culprit)} AS {error.expected.plain().sql()})"
        return TypeMismatchError(
            f"{error.message} in {self.text(node)!r}",
            sql=self.script,
            position=self.position(culprit if culprit is not None else node),
            hint=hint,
        )

    def unknown_function(self, name: str, node: exp.Expr) -> UnsupportedError:
        candidates = [item for item in self.registry.names() if _CALLABLE_NAME.fullmatch(item)]
        close = difflib.get_close_matches(name.upper(), candidates, n=3, cutoff=0.75)
        hint = (
            f"did you mean {' or '.join(close)}?" if close else "SHOW FUNCTIONS lists the functions"
        )
        return UnsupportedError(
            f"unknown function {name}", sql=self.script, position=self.position(node), hint=hint
        )

    def aggregate_error(self, name: str, node: exp.Expr) -> UnsupportedError:
        name = name.upper()
        if name in WINDOW_FUNCTION_NAMES:
            message = f"window function {name} is not allowed here"
            hint = (
                f"use it with an OVER clause, as in {name}() OVER (PARTITION BY ... ORDER BY ...)"
            )
        else:
            message = f"aggregate function {name} is not allowed here"
            hint = (
                "aggregates belong in the SELECT list or HAVING of a grouped query, "
                "or take an OVER clause"
            )
        return UnsupportedError(message, sql=self.script, position=self.position(node), hint=hint)

    def invalid_literal(self, error: LiteralError, node: exp.Expr) -> ValidationError:
        return ValidationError(
            str(error), sql=self.script, position=self.position(node), hint=error.hint
        )

    # Implicit conversions -------------------------------------------------------------

    def coerce(self, expr: Expr, target: DataType, node: exp.Expr | None = None) -> Expr:
        """Convert ``expr`` where ``target`` values go, if its representation differs."""
        source = expr.type
        if source.kind is target.kind or target.kind is TypeKind.NULL:
            return expr
        if source.kind is TypeKind.NULL:
            return (
                Literal(value=None, type=target.plain().with_nullable(True))
                if isinstance(expr, Literal)
                else expr
            )
        if source.is_numeric and target.is_numeric:
            return expr
        if source.kind is TypeKind.DATE and target.kind is TypeKind.TIMESTAMP:
            return expr
        if (
            isinstance(expr, Literal)
            and source.is_string
            and target.kind in TEMPORAL
            and isinstance(expr.value, str)
        ):
            return self.temporal_literal(expr.value, target, node)
        return Call(function="CAST", args=(expr,), options=(("type", target),), type=target.plain())

    def temporal_literal(self, text: str, target: DataType, node: exp.Expr | None) -> Expr:
        kind = TypeKind.TIMESTAMP if target.kind is TypeKind.TIMESTAMP_LTZ else target.kind
        try:
            value, type = time_literal(text, kind)
        except LiteralError as error:
            if node is None:
                raise ValidationError(str(error), sql=self.script) from None
            raise self.invalid_literal(error, node) from None
        literal = Literal(value=value, type=type)
        if target.kind is TypeKind.TIMESTAMP_LTZ:
            return Call(
                function="CAST", args=(literal,), options=(("type", target),), type=target.plain()
            )
        return literal

    def unify(self, args: list[Expr], arg_nodes: Sequence[exp.Expr]) -> list[Expr]:
        """Bring compared values to one representation: text literals to times, TIMESTAMP to LTZ."""
        temporal = [arg.type for arg in args if arg.type.kind in TEMPORAL]
        if not temporal:
            return args
        target = temporal[0]
        for other in temporal[1:]:
            widened = t.common_type(target, other)
            target = widened if widened is not None else target
        result = []
        for arg, node in zip(args, arg_nodes, strict=True):
            needs = arg.type.kind is TypeKind.TIMESTAMP_LTZ or (
                arg.type.is_string and isinstance(arg, Literal)
            )
            if target.kind is TypeKind.TIMESTAMP_LTZ and arg.type.kind in (
                TypeKind.DATE,
                TypeKind.TIMESTAMP,
            ):
                needs = True
            result.append(
                self.coerce(arg, target, node)
                if needs and arg.type.kind is not target.kind
                else arg
            )
        return result
