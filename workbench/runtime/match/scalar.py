"""Conditions that read the match so far, evaluated for one partial match at a time.

A DEFINE condition such as ``SUM(A.amount) < 30`` or ``price > LAST(B.price)``
depends on the rows mapped so far, so it is evaluated per partial match. The
vectorized evaluator costs a fixed overhead per call, so conditions built
only from comparisons, arithmetic (+ - *), AND/OR/NOT, IS [NOT] NULL,
BETWEEN and IN over numbers, strings and booleans are compiled here into
plain Python functions with SQL's NULL rules. Any other condition returns
None from :func:`compile_condition` and keeps the vectorized path.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from workbench.events.types import TypeKind
from workbench.runtime.match.rows import RowStore
from workbench.sql.expr import Call, ColumnRef, Expr, Literal
from workbench.sql.match import MatchAggregate, MatchExpression, Navigation

#: (partition, labels with the candidate row first, row) -> value.
Getter = Callable[[Any, Any, int], Any]

_PLAIN_KINDS = frozenset(
    {
        TypeKind.BOOLEAN,
        TypeKind.TINYINT,
        TypeKind.SMALLINT,
        TypeKind.INT,
        TypeKind.BIGINT,
        TypeKind.FLOAT,
        TypeKind.DOUBLE,
        TypeKind.DECIMAL,
        TypeKind.VARCHAR,
        TypeKind.NULL,
    }
)

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


class ColumnValues:
    """Plain Python values of store columns, converted once per chunk."""

    def __init__(self, store: RowStore) -> None:
        self.store = store
        # Per chunk (by first row id): its end and its columns as lists. Row ids are
        # never reused, so a chunk the store has since dropped still answers correctly.
        self.chunks: dict[int, tuple[int, Any, dict[str, list[Any]]]] = {}
        self.last: tuple[int, int, Any, dict[str, list[Any]]] = (0, 0, None, {})

    def value(self, row_id: int, column: str) -> Any:
        base, end, frame, lists = self.last
        if not base <= row_id < end:
            chunks = self.store.chunks
            chunk = chunks[bisect.bisect_right([c.base for c in chunks], row_id) - 1]
            entry = self.chunks.get(chunk.base)
            if entry is None:
                if len(self.chunks) >= 16:
                    live = {c.base for c in chunks}
                    self.chunks = {key: item for key, item in self.chunks.items() if key in live}
                entry = (chunk.end, chunk.frame, {})
                self.chunks[chunk.base] = entry
            end, frame, lists = entry
            base = chunk.base
            self.last = (base, end, frame, lists)
        values = lists.get(column)
        if values is None:
            values = [_plain(value) for value in frame[column].tolist()]
            lists[column] = values
        return values[row_id - base]


def _plain(value: Any) -> Any:
    """Return a column value with every kind of missing value (NA, NaN, NaT) as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def compile_condition(
    condition: MatchExpression, variables: tuple[str, ...], values: ColumnValues
) -> Callable[[Any, Any, int], bool] | None:
    """Return f(partition, labels, row) -> whether the condition holds, or None if unsupported.

    ``labels`` is the partial match with the candidate row first, as the
    matcher keeps it: (row, code, rest).
    """
    index = {name: position for position, name in enumerate(variables)}
    getters: dict[str, Getter] = {}
    for name, slot in condition.slots:
        getter = _slot_getter(slot, index, values)
        if getter is None:
            return None
        getters[name] = getter
    body = _compile(condition.expr, getters)
    if body is None:
        return None

    def holds(partition: Any, labels: Any, row: int) -> bool:
        return body(partition, labels, row) is True

    return holds


def _slot_getter(slot: Any, index: dict[str, int], values: ColumnValues) -> Getter | None:
    if isinstance(slot, Navigation):
        if not isinstance(slot.expr, ColumnRef) or slot.expr.name.startswith("$"):
            return None
        if slot.expr.type.kind not in _PLAIN_KINDS or not slot.running:
            return None
        return _navigation(slot, index, values)
    if isinstance(slot, MatchAggregate):
        if slot.function not in ("COUNT", "SUM", "MIN", "MAX", "AVG") or slot.distinct:
            return None
        if not slot.running or len(slot.args) > 1:
            return None
        if slot.args and (
            not isinstance(slot.args[0], ColumnRef)
            or slot.args[0].name.startswith("$")
            or slot.args[0].type.kind not in _PLAIN_KINDS
        ):
            return None
        return _aggregate(slot, index, values)
    return None


def _navigation(slot: Navigation, index: dict[str, int], values: ColumnValues) -> Getter:
    wanted = None if slot.variables is None else {index[name] for name in slot.variables}
    column = slot.expr.name  # type: ignore[attr-defined]
    offset = slot.logical_offset
    physical = slot.physical_offset
    first = slot.logical == "FIRST"
    mask = (1 << 16) - 1

    def get(partition: Any, labels: Any, row: int) -> Any:
        del row
        target = -1
        if first:
            rows = []
            node = labels
            while node is not None:
                if wanted is None or (node[1] & mask) in wanted:
                    rows.append(node[0])
                node = node[2]
            if offset < len(rows):
                target = rows[len(rows) - 1 - offset]
        else:
            remaining = offset
            node = labels
            while node is not None:
                if wanted is None or (node[1] & mask) in wanted:
                    if remaining == 0:
                        target = node[0]
                        break
                    remaining -= 1
                node = node[2]
        if target < 0:
            return None
        target += physical
        if target < partition.base or target >= partition.available:
            return None
        return values.value(partition.gids[target - partition.base], column)

    return get


def _aggregate(slot: MatchAggregate, index: dict[str, int], values: ColumnValues) -> Getter:
    wanted = None if slot.variables is None else {index[name] for name in slot.variables}
    column = slot.args[0].name if slot.args else None  # type: ignore[attr-defined]
    function = slot.function
    integer = slot.type.is_integer
    mask = (1 << 16) - 1

    def get(partition: Any, labels: Any, row: int) -> Any:
        del row
        found: list[Any] = []
        node = labels
        while node is not None:
            if wanted is None or (node[1] & mask) in wanted:
                if column is None:
                    found.append(1)
                else:
                    value = values.value(partition.gids[node[0] - partition.base], column)
                    if value is not None:
                        found.append(value)
            node = node[2]
        if function == "COUNT":
            return len(found)
        if not found:
            return None
        if function == "SUM":
            total = sum(found)
            return int(total) if integer else float(total)
        if function == "AVG":
            return float(sum(found)) / len(found)
        return min(found) if function == "MIN" else max(found)

    return get


def _compile(expr: Expr, getters: dict[str, Getter]) -> Getter | None:
    if isinstance(expr, Literal):
        if expr.type.kind not in _PLAIN_KINDS:
            return None
        constant = expr.value
        return lambda partition, labels, row: constant
    if isinstance(expr, ColumnRef):
        return getters.get(expr.name)
    if not isinstance(expr, Call):
        return None
    args = [_compile(arg, getters) for arg in expr.args]
    if any(arg is None for arg in args):
        return None
    parts: list[Getter] = [arg for arg in args if arg is not None]
    name = expr.function
    if name in _COMPARISONS and len(parts) == 2:
        if not _comparable(expr.args[0], expr.args[1]):
            return None
        return _binary(_COMPARISONS[name], parts[0], parts[1])
    if name in _ARITHMETIC and len(parts) == 2:
        if not (expr.args[0].type.is_numeric and expr.args[1].type.is_numeric):
            return None
        return _binary(_ARITHMETIC[name], parts[0], parts[1])
    if name == "-" and len(parts) == 1 and expr.args[0].type.is_numeric:
        operand = parts[0]

        def negate(partition: Any, labels: Any, row: int) -> Any:
            value = operand(partition, labels, row)
            return None if value is None else -value

        return negate
    if name == "AND":
        return _and(parts)
    if name == "OR":
        return _or(parts)
    if name == "NOT" and len(parts) == 1:
        operand = parts[0]

        def negation(partition: Any, labels: Any, row: int) -> Any:
            value = operand(partition, labels, row)
            return None if value is None else not value

        return negation
    if name in ("IS NULL", "IS NOT NULL") and len(parts) == 1:
        operand = parts[0]
        wanted = name == "IS NULL"
        return lambda partition, labels, row: (operand(partition, labels, row) is None) == wanted
    if (
        name == "BETWEEN"
        and len(parts) == 3
        and all(_comparable(expr.args[0], other) for other in expr.args[1:])
    ):
        low = _binary(_COMPARISONS[">="], parts[0], parts[1])
        high = _binary(_COMPARISONS["<="], parts[0], parts[2])
        return _and([low, high])
    if (
        name == "IN"
        and len(parts) >= 2
        and all(_comparable(expr.args[0], other) for other in expr.args[1:])
    ):
        equal = [_binary(_COMPARISONS["="], parts[0], other) for other in parts[1:]]
        return _or(equal)
    return None


def _comparable(left: Expr, right: Expr) -> bool:
    kinds = {left.type.kind, right.type.kind} - {TypeKind.NULL}
    if not kinds <= _PLAIN_KINDS:
        return False
    numeric = left.type.is_numeric or left.type.kind is TypeKind.NULL
    other_numeric = right.type.is_numeric or right.type.kind is TypeKind.NULL
    return (numeric and other_numeric) or len(kinds) <= 1


def _binary(function: Callable[[Any, Any], Any], left: Getter, right: Getter) -> Getter:
    def apply(partition: Any, labels: Any, row: int) -> Any:
        a = left(partition, labels, row)
        if a is None:
            return None
        b = right(partition, labels, row)
        if b is None:
            return None
        return function(a, b)

    return apply


def _and(parts: list[Getter]) -> Getter:
    def conjunction(partition: Any, labels: Any, row: int) -> Any:
        unknown = False
        for part in parts:
            value = part(partition, labels, row)
            if value is None:
                unknown = True
            elif not value:
                return False
        return None if unknown else True

    return conjunction


def _or(parts: list[Getter]) -> Getter:
    def disjunction(partition: Any, labels: Any, row: int) -> Any:
        unknown = False
        for part in parts:
            value = part(partition, labels, row)
            if value is None:
                unknown = True
            elif value:
                return True
        return None if unknown else False

    return disjunction
