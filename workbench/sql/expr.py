"""Typed scalar expressions: the compiled form of SQL expressions.

The planner compiles sqlglot trees into these nodes after resolving names and
checking types. Operators evaluate them over whole DataFrames
(:func:`workbench.sql.evaluate.evaluate`). Nodes are frozen dataclasses that
hold names, not callables, so plans and operator configurations pickle.

Every operator, predicate and function is a :class:`Call` whose ``function``
is a canonical upper-case name in the function library, for example ``'+'``,
``'='``, ``'AND'``, ``'IS NULL'``, ``'CASE'``, ``'CAST'``, ``'UPPER'`` or
``'DATE_FORMAT'``. Options carry non-expression parts of a call (the target
type of CAST, the unit of FLOOR(ts TO MINUTE), the field name of a ROW access).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from workbench.events.types import DataType


@dataclass(frozen=True, kw_only=True)
class Expr:
    type: DataType

    def children(self) -> tuple[Expr, ...]:
        return ()

    def walk(self) -> Iterator[Expr]:
        """Yield this node and every node below it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def columns(self) -> set[str]:
        """Return the names of the input columns this expression reads."""
        return {node.name for node in self.walk() if isinstance(node, ColumnRef)}


@dataclass(frozen=True, kw_only=True)
class ColumnRef(Expr):
    """A column of the operator's input frame, by its (unique) name there."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, kw_only=True)
class Literal(Expr):
    """A constant. ``value`` is None for NULL.

    Timestamps are ``pd.Timestamp``, day-time intervals ``pd.Timedelta`` and
    year-month intervals :class:`~workbench.sql.functions.base.MonthInterval`.
    """

    value: Any

    def __str__(self) -> str:
        if self.value is None:
            return "NULL"
        if isinstance(self.value, str):
            return "'" + self.value.replace("'", "''") + "'"
        return str(self.value)


@dataclass(frozen=True, kw_only=True)
class Call(Expr):
    """A function, operator or predicate applied to arguments."""

    function: str
    args: tuple[Expr, ...] = ()
    options: tuple[tuple[str, Any], ...] = field(default=())

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def option(self, key: str, default: Any = None) -> Any:
        for name, value in self.options:
            if name == key:
                return value
        return default

    def __str__(self) -> str:
        # Each argument is rendered once, so rendering is linear in the size of
        # the tree (a chain of binary operators is as deep as it is long).
        parts = [str(arg) for arg in self.args]
        if self.function == "FIELD" and len(parts) == 1:
            return f"{parts[0]}.{self.option('field')}"
        if self.function in ("CAST", "TRY_CAST") and len(parts) == 1:
            target = self.option("type") or self.option("target") or self.type
            return f"{self.function}({parts[0]} AS {getattr(target, 'sql', lambda: target)()})"
        if self.function == "ITEM" and len(parts) == 2:
            return f"{parts[0]}[{parts[1]}]"
        if self.function.isalpha() or "_" in self.function or len(parts) != 2:
            return f"{self.function}({', '.join(parts)})"
        return f"({parts[0]} {self.function} {parts[1]})"


def is_constant(expr: Expr) -> bool:
    """Return whether an expression reads no column and no clock."""
    for node in expr.walk():
        if isinstance(node, ColumnRef):
            return False
        if isinstance(node, Call) and node.function in NONDETERMINISTIC:
            return False
    return True


#: Functions whose value changes between evaluations of the same arguments.
NONDETERMINISTIC = frozenset(
    {
        "CURRENT_TIMESTAMP",
        "LOCALTIMESTAMP",
        "NOW",
        "PROCTIME",
        "RAND",
        "RAND_INTEGER",
        "UUID",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "LOCALTIME",
        "CURRENT_ROW_TIMESTAMP",
        "UNIX_TIMESTAMP",
        "CURRENT_WATERMARK",
    }
)
