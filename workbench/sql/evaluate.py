"""Vectorized evaluation of compiled expressions over pandas DataFrames.

:func:`evaluate` computes an :class:`~workbench.sql.expr.Expr` for every row
of a frame at once: column references read frame columns, literals stay
scalars until a function needs a column, and each call runs its function's
implementation over whole columns. The result is a Series in the pandas dtype
of the expression's SQL type (see :mod:`workbench.events.types`).

Conditional functions (CASE, IF, COALESCE, AND, OR) evaluate a branch that
contains a CAST or a user function only on the rows that reach the branch, so
a CAST failure is counted only for values the query really converts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from workbench.errors import QueryRuntimeError, WorkbenchError
from workbench.events.types import DataType
from workbench.sql.expr import Call, ColumnRef, Expr, Literal
from workbench.sql.functions import FunctionRegistry, default_registry, user_function
from workbench.sql.functions.base import (
    Invocation,
    MonthInterval,
    ScalarFunction,
    Value,
    broadcast,
    dtype_of,
    is_null_scalar,
    is_series,
    null_series,
    scalar_of,
    to_dtype,
)


@dataclass
class EvalContext:
    """Per-batch settings and counters of an evaluation.

    ``now_ns`` is the wall clock (UTC nanoseconds) that CURRENT_TIMESTAMP,
    NOW(), PROCTIME() and LOCALTIMESTAMP read, so that all rows of a batch
    get one value. ``time_zone`` is the session time zone (Flink's
    ``table.local-time-zone``). ``row_watermarks`` holds the watermark in
    force before each row (int64 ns) for CURRENT_WATERMARK.

    ``cast_failures`` counts the values that CAST could not convert and
    replaced with NULL; every evaluation with this context adds to it, so a
    caller makes one context per batch and reads the count afterwards.
    """

    now_ns: int
    time_zone: str = "UTC"
    row_watermarks: np.ndarray | None = None
    #: Where function names resolve; None means the built-ins plus user functions.
    registry: FunctionRegistry | None = None
    cast_failures: int = 0
    #: A few of the values that failed, as ``'abc' AS INT``, for messages.
    cast_failure_examples: list[str] = field(default_factory=list)

    MAX_EXAMPLES: ClassVar[int] = 5

    def record_cast_failures(self, count: int, examples: Iterable[str]) -> None:
        """Add ``count`` failed conversions and keep the first few examples."""
        if count <= 0:
            return
        self.cast_failures += count
        for example in examples:
            if len(self.cast_failure_examples) >= self.MAX_EXAMPLES:
                break
            self.cast_failure_examples.append(example)


def evaluate(expr: Expr, frame: pd.DataFrame, context: EvalContext | None = None) -> pd.Series:
    """Compute ``expr`` for every row of ``frame``.

    Returns a Series with ``len(frame)`` rows, the index of ``frame`` and the
    dtype ``expr.type.pandas_dtype()``. Raises QueryRuntimeError when a
    function fails on the data (an unknown user function, an error that
    ``... ERROR ON ERROR`` asked for).
    """
    context = context if context is not None else EvalContext(now_ns=time.time_ns())
    evaluator = _Evaluator(frame, context, context.row_watermarks)
    value = evaluator.value(expr)
    if is_series(value):
        return value
    if isinstance(value, MonthInterval):
        raise QueryRuntimeError(
            f"the year-month interval {value} cannot be a column value: "
            "add it to a DATE or TIMESTAMP"
        )
    return broadcast(value, expr.type, len(frame), frame.index)


def evaluate_predicate(
    expr: Expr, frame: pd.DataFrame, context: EvalContext | None = None
) -> np.ndarray:
    """Compute a condition for every row: a numpy bool array where NULL counts as false."""
    context = context if context is not None else EvalContext(now_ns=time.time_ns())
    evaluator = _Evaluator(frame, context, context.row_watermarks)
    return evaluator.predicate(expr)


class _Evaluator:
    """Evaluates expressions over one frame; lazy functions call back into it."""

    def __init__(
        self, frame: pd.DataFrame, context: EvalContext, row_watermarks: np.ndarray | None
    ) -> None:
        self.frame = frame
        self.context = context
        self.length = len(frame)
        self.index = frame.index
        self.row_watermarks = row_watermarks
        self.registry = context.registry
        self._guarded: dict[int, bool] = {}

    # Evaluation -----------------------------------------------------------------------

    def value(self, expr: Expr) -> Value:
        """Return the value of ``expr``: a Series with one entry per row, or a scalar."""
        if isinstance(expr, ColumnRef):
            return self._column(expr)
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Call):
            return self._call(expr)
        raise QueryRuntimeError(f"cannot evaluate expression node {type(expr).__name__}")

    def predicate(self, expr: Expr) -> np.ndarray:
        value = self.value(expr)
        if not is_series(value):
            return np.full(self.length, value is True or value is np.True_, dtype=bool)
        if value.dtype == "boolean":
            return np.asarray(value.to_numpy(dtype=bool, na_value=False), dtype=bool)
        return np.asarray(value.astype("boolean").to_numpy(dtype=bool, na_value=False), dtype=bool)

    def value_where(self, expr: Expr, rows: np.ndarray) -> Value:
        """Return the value of ``expr`` for the selected rows; other rows are NULL.

        An expression without CAST or user functions is computed on every row
        (the caller ignores the rest), which is cheaper than selecting rows.
        """
        rows = np.asarray(rows, dtype=bool)
        if rows.all():
            return self.value(expr)
        if not rows.any():
            return None
        if not self.is_guarded(expr):
            return self.value(expr)
        columns = sorted(expr.columns())
        sub_frame = self.frame.loc[rows, columns]
        watermarks = self.row_watermarks[rows] if self.row_watermarks is not None else None
        result = _Evaluator(sub_frame, self.context, watermarks).value(expr)
        if not is_series(result):
            return result
        return _expand(result, rows, expr.type, self.length, self.index)

    def is_guarded(self, expr: Expr) -> bool:
        """Return whether ``expr`` calls a function that must only see the rows it applies to."""
        key = id(expr)
        cached = self._guarded.get(key)
        if cached is None:
            cached = any(
                isinstance(node, Call) and self._is_guarded_function(node.function)
                for node in expr.walk()
            )
            self._guarded[key] = cached
        return cached

    # Internals ------------------------------------------------------------------------

    def _is_guarded_function(self, name: str) -> bool:
        function = self._lookup(name, required=False)
        return function is None or function.guarded

    def _column(self, expr: ColumnRef) -> pd.Series:
        try:
            column = self.frame[expr.name]
        except KeyError:
            raise QueryRuntimeError(
                f"column {expr.name!r} is missing from the input; "
                f"columns: {', '.join(map(str, self.frame.columns))}"
            ) from None
        if not isinstance(column, pd.Series):
            raise QueryRuntimeError(f"column name {expr.name!r} is not unique in the input")
        return self._normalize(column, expr.type)

    def _lookup(self, name: str, *, required: bool = True) -> ScalarFunction | None:
        registry = self.registry if self.registry is not None else default_registry()
        function = registry.get(name)
        if function is None and self.registry is None:
            function = user_function(name)
        if function is None and required:
            raise QueryRuntimeError(
                f"unknown function {name}: register it before running the query"
            )
        return function

    def _call(self, call: Call) -> Value:
        function = self._lookup(call.function)
        assert function is not None
        invocation = Invocation(
            call, self.length, self.index, self.context, self, self.row_watermarks
        )
        try:
            if function.lazy:
                result = function.implementation(invocation, None)
            else:
                args = [self.value(arg) for arg in call.args]
                if args and function.deterministic and not any(is_series(arg) for arg in args):
                    return self._constant_call(function, call, args)
                result = function.implementation(invocation, args)
        except WorkbenchError:
            raise
        except Exception as error:
            raise QueryRuntimeError(f"{call.function} failed: {error}") from error
        return self._normalize(result, call.type)

    def _constant_call(self, function: ScalarFunction, call: Call, args: list[Value]) -> Value:
        """Compute a call whose arguments are all scalars, as a single row."""
        single = Invocation(call, 1, pd.RangeIndex(1), self.context, self, None)
        try:
            result = function.implementation(single, args)
        except WorkbenchError:
            raise
        except Exception as error:
            raise QueryRuntimeError(f"{call.function} failed: {error}") from error
        if is_series(result):
            return scalar_of(result.iloc[0])
        return None if is_null_scalar(result) else result

    def _normalize(self, result: Value, type: DataType) -> Value:
        if not is_series(result):
            return None if is_null_scalar(result) else result
        dtype = type.pandas_dtype()
        if result.dtype != dtype:
            result = to_dtype(result, type)
        if result.index is not self.index:
            if len(result) != self.length:
                raise QueryRuntimeError(
                    f"a function returned {len(result)} values for {self.length} rows"
                )
            result = result.set_axis(self.index)
        return result


def _expand(
    values: pd.Series, rows: np.ndarray, type: DataType, length: int, index: pd.Index
) -> pd.Series:
    """Spread the values of the selected rows over all rows, NULL elsewhere."""
    positions = np.flatnonzero(rows)
    dtype = dtype_of(type)
    if dtype == "object":
        items = np.empty(length, dtype=object)
        items[:] = None
        items[positions] = values.to_numpy(dtype=object)
        return pd.Series(items, index=index, dtype=object, copy=False)
    result = null_series(type, length, index)
    taker = np.full(length, -1, dtype=np.int64)
    taker[positions] = np.arange(len(positions))
    spread: Any = values.array.take(taker, allow_fill=True)
    return pd.Series(spread, index=result.index, copy=False).astype(dtype)
