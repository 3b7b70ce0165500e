"""State shared while planning one statement, and scalar compilation within a scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlglot import exp

from workbench.errors import UnknownColumnError, UnsupportedError, ValidationError
from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.catalog import Catalog
from workbench.sql.evaluate import evaluate
from workbench.sql.expr import Call, ColumnRef, Expr, Literal, is_constant
from workbench.sql.functions import FunctionRegistry
from workbench.sql.parser import node_position
from workbench.sql.planner.scope import Scope
from workbench.sql.scalar import ScalarCompiler

Special = Callable[[exp.Expr], Expr | None]


@dataclass
class PlanContext:
    """What planning a statement needs: the catalog, the text, functions and settings."""

    catalog: Catalog
    script: str
    functions: FunctionRegistry
    user_aggregates: dict[str, UserAggregateDef] = field(default_factory=dict)
    time_zone: str = "UTC"
    values_counter: int = 0
    #: Names of the views being expanded, to reject a view that reads itself.
    expanding: tuple[str, ...] = ()
    #: Common table expressions (WITH) registered for the current statement.
    ctes: list[str] = field(default_factory=list)
    #: Rank columns of window Top-N steps still waiting for their rank filter.
    pending_ranks: dict[str, exp.Expr] = field(default_factory=dict)
    #: 'table.exec.state.ttl' in nanoseconds; 0 rejects joins without time bounds.
    state_ttl_ns: int = 0
    #: Where relative file paths in table options resolve; None for the current directory.
    base_dir: Path | None = None

    def with_script(self, script: str) -> PlanContext:
        """Return a context for planning text from another script (a view's definition)."""
        return PlanContext(
            self.catalog,
            script,
            self.functions,
            self.user_aggregates,
            self.time_zone,
            self.values_counter,
            self.expanding,
            self.ctes,
            self.pending_ranks,
            self.state_ttl_ns,
            self.base_dir,
        )

    def next_values_name(self) -> str:
        self.values_counter += 1
        return f"values-{self.values_counter}"

    # Errors --------------------------------------------------------------------------

    def unsupported(
        self, message: str, node: exp.Expr | None, hint: str | None = None
    ) -> UnsupportedError:
        position = node_position(self.script, node) if node is not None else None
        return UnsupportedError(message, sql=self.script, position=position, hint=hint)

    def invalid(
        self, message: str, node: exp.Expr | None, hint: str | None = None
    ) -> ValidationError:
        position = node_position(self.script, node) if node is not None else None
        return ValidationError(message, sql=self.script, position=position, hint=hint)

    # Scalars -------------------------------------------------------------------------

    def compile(self, node: exp.Expr, scope: Scope, special: Special | None = None) -> Expr:
        """Compile a scalar expression whose columns resolve in ``scope``."""

        def resolve_column(column: exp.Column) -> Expr:
            return self.column_reference(column, scope)

        compiler = ScalarCompiler(self.script, self.functions, resolve_column, special)
        return compiler.compile(node)

    def column_reference(self, column: exp.Column, scope: Scope) -> Expr:
        found, path = scope.resolve(column, self.script)
        expression: Expr = ColumnRef(name=found.internal, type=found.type)
        for name in path:
            field_type = (
                expression.type.field_type(name) if expression.type.kind is TypeKind.ROW else None
            )
            if field_type is None:
                hint = None
                if expression.type.kind is TypeKind.ROW:
                    hint = "fields: " + ", ".join(f.name for f in expression.type.fields)
                raise UnknownColumnError(
                    f"field {name!r} not found in {expression.type.plain().sql()}",
                    sql=self.script,
                    position=node_position(self.script, column),
                    hint=hint,
                )
            expression = Call(
                function="FIELD", args=(expression,), options=(("field", name),), type=field_type
            )
        return expression

    def constant(
        self, node: exp.Expr, scope: Scope | None = None, *, rule: str | None = None
    ) -> Any:
        """Evaluate a constant expression (an interval, a number) at planning time.

        ``rule`` is the message raised when the expression reads a column,
        such as "the percentage of PERCENTILE must be a constant between 0 and 1".
        """
        try:
            expression = self.compile(node, scope or Scope())
        except UnknownColumnError as error:
            if scope is not None:
                raise
            raise ValidationError(
                f"{rule or 'expected a constant here'}, not a column",
                sql=self.script,
                position=error.position,
            ) from None
        if isinstance(expression, Literal):
            return expression.value
        if not is_constant(expression):
            raise self.invalid("expected a constant here", node)
        value = evaluate(expression, pd.DataFrame(index=range(1))).iloc[0]
        return None if value is pd.NA else value

    def interval_ns(self, node: exp.Expr, what: str) -> int:
        """Return a constant day-time interval in nanoseconds."""
        for interval in node.find_all(exp.Interval):
            unit = interval.unit.sql().upper() if interval.unit is not None else ""
            if any(word in unit for word in ("YEAR", "QUARTER", "MONTH")):
                compiler = ScalarCompiler(self.script, self.functions, _no_columns)
                raise ValidationError(
                    f"{what} must be a day-time interval (DAY, HOUR, MINUTE, SECOND): "
                    "a year-month interval has no fixed length",
                    sql=self.script,
                    position=compiler.position(interval),
                    hint="write the length in days, such as INTERVAL '30' DAY",
                )
        value = self.constant(node)
        if isinstance(value, pd.Timedelta):
            return int(value.value)
        raise self.invalid(
            f"{what} must be a day-time interval, such as INTERVAL '10' MINUTE", node
        )

    def require_boolean(self, expression: Expr, node: exp.Expr, clause: str) -> None:
        if expression.type.kind not in (TypeKind.BOOLEAN, TypeKind.NULL):
            raise ValidationError(
                f"{clause} needs a boolean condition, got {expression.type.plain().sql()}",
                sql=self.script,
                position=node_position(self.script, node),
            )


def _no_columns(column: exp.Column) -> Expr:
    raise AssertionError(f"column {column.sql()} compiled where none is expected")


def output_name(node: exp.Expr, script: str) -> str:
    """Return the name a SELECT item gets: its alias, its column name, or its text."""
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        return node.name
    if isinstance(node, exp.Dot):
        return node.name
    position = node_position(script, node)
    if position is not None:
        text = " ".join(script[position.start : position.end].split())
        if text:
            return text
    return node.sql()


def literal_type(value: Any) -> DataType:
    if value is None:
        return t.NULL
    if isinstance(value, bool):
        return t.BOOLEAN
    if isinstance(value, int):
        return t.INT if -(2**31) <= value < 2**31 else t.BIGINT
    if isinstance(value, float):
        return t.DOUBLE
    if isinstance(value, pd.Timestamp):
        return t.timestamp(3)
    return t.STRING
