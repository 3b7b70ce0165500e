"""The contract between the expression evaluator and the function library.

A scalar function is a :class:`ScalarFunction`: a name, an ``infer`` that
computes the result type from the argument types (raising
:class:`ArgumentTypeError` for arguments it cannot take), and an
implementation that computes whole columns at once.

Implementations receive *values*: a ``pd.Series`` with one entry per row, or a
plain Python scalar when the argument is the same for every row (a literal).
``None`` is the scalar NULL. Scalars stay scalars until a function needs a
column, so ``x > 5`` compares a column with the number 5 directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeGuard

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.events.types import DataType, TypeKind
from workbench.sql.expr import Call, Expr
from workbench.sql.functions.arrow import STRING_DTYPE, bool_series, string_series

if TYPE_CHECKING:
    from workbench.sql.evaluate import EvalContext

#: A column (``pd.Series``) or a scalar that holds for every row (``None`` is NULL).
Value: TypeAlias = Any
#: Non-expression parts of a call: the unit of TIMESTAMPDIFF, the side of TRIM ...
Options: TypeAlias = Mapping[str, Any]
InferFunction: TypeAlias = Callable[[Sequence[DataType], Options], DataType]
#: ``implementation(invocation, arguments)``; a lazy function gets ``None`` and
#: evaluates its arguments itself through ``invocation.evaluator``.
Implementation: TypeAlias = Callable[["Invocation", Any], Value]


class ArgumentTypeError(Exception):
    """A function cannot take an argument of this type (or this many arguments).

    ``argument_index`` is the 0-based position of the offending argument, or
    None when the arguments as a whole are wrong. ``expected`` is the type a
    CAST of that argument would fix; the compiler turns it into a hint.
    """

    def __init__(
        self,
        message: str,
        argument_index: int | None = None,
        *,
        expected: DataType | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.argument_index = argument_index
        self.expected = expected
        self.hint = hint


@dataclass(frozen=True)
class MonthInterval:
    """A year-month interval (``INTERVAL '1' MONTH``): a count of calendar months.

    Adding it to a timestamp moves the calendar month and keeps the day,
    clipped to the last day of a shorter month, as Java's ``plusMonths`` does.
    """

    months: int

    def __neg__(self) -> MonthInterval:
        return MonthInterval(-self.months)

    def __str__(self) -> str:
        sign = "-" if self.months < 0 else "+"
        years, months = divmod(abs(self.months), 12)
        return f"{sign}{years}-{months:02d}"


@dataclass(frozen=True)
class ScalarFunction:
    """A scalar function of the library: typing, implementation and description."""

    name: str
    infer: InferFunction
    implementation: Implementation
    signature: str = ""
    description: str = ""
    #: The implementation evaluates its own arguments (CASE, AND, COALESCE).
    lazy: bool = False
    #: The value may change between two calls with the same arguments (RAND, NOW).
    deterministic: bool = True
    #: The function records failures or runs user code, so conditional
    #: functions evaluate it only on the rows that reach it.
    guarded: bool = False
    builtin: bool = True


class Evaluator(Protocol):
    """The evaluator interface that lazy functions use to evaluate their arguments."""

    length: int
    index: pd.Index

    def value(self, expr: Expr) -> Value: ...

    def value_where(self, expr: Expr, rows: np.ndarray) -> Value: ...

    def is_guarded(self, expr: Expr) -> bool: ...


@dataclass
class Invocation:
    """One call of a function over one frame: the call node, the rows and the context."""

    call: Call
    length: int
    index: pd.Index
    context: EvalContext
    evaluator: Evaluator
    #: Watermark in force before each row (int64 ns), when the caller has them.
    row_watermarks: np.ndarray | None = None

    @property
    def result_type(self) -> DataType:
        return self.call.type

    @property
    def arg_types(self) -> list[DataType]:
        return [arg.type for arg in self.call.args]

    def option(self, key: str, default: Any = None) -> Any:
        return self.call.option(key, default)

    def series(self, values: Any, type: DataType | None = None) -> pd.Series:
        """Wrap an array of row values in a Series with the frame's index."""
        dtype = (type or self.result_type).pandas_dtype()
        if isinstance(values, pd.Series):
            values = values.array
        return pd.Series(values, index=self.index, dtype=dtype, copy=False)

    def broadcast(self, value: Value, type: DataType) -> pd.Series:
        """Return ``value`` as a column: a Series as is, a scalar repeated on every row."""
        if is_series(value):
            return value
        return broadcast(value, type, self.length, self.index)

    def nulls(self, type: DataType | None = None) -> pd.Series:
        return null_series(type or self.result_type, self.length, self.index)


# Values ------------------------------------------------------------------------------


def dtype_of(type: DataType) -> Any:
    """Return the pandas dtype of ``type``, typed loosely for pandas' ``astype``."""
    return type.pandas_dtype()


def is_series(value: Value) -> TypeGuard[pd.Series]:
    return isinstance(value, pd.Series)


def is_null_scalar(value: Value) -> bool:
    """Return whether a scalar value is SQL NULL (None, pd.NA, NaT or NaN)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def scalar_of(value: Any) -> Any:
    """Return a Python scalar for one element read from a Series (NULL becomes None)."""
    if is_null_scalar(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def null_series(type: DataType, length: int, index: pd.Index) -> pd.Series:
    dtype = type.pandas_dtype()
    if dtype == "object":
        return pd.Series([None] * length, index=index, dtype=object)
    return pd.Series(index=index, dtype=dtype)


def broadcast(value: Value, type: DataType, length: int, index: pd.Index) -> pd.Series:
    """Repeat a scalar on ``length`` rows, in the pandas dtype of ``type``."""
    if is_null_scalar(value):
        return null_series(type, length, index)
    kind = type.kind
    if kind is TypeKind.VARCHAR:
        repeated = pa.repeat(pa.scalar(str(value), pa.large_string()), length)
        return pd.Series(pd.arrays.ArrowStringArray(repeated), index=index, copy=False)
    if kind in (TypeKind.ROW, TypeKind.ARRAY, TypeKind.MAP, TypeKind.BINARY, TypeKind.NULL):
        items = np.empty(length, dtype=object)
        items[:] = [value] * length
        return pd.Series(items, index=index, dtype=object, copy=False)
    if kind is TypeKind.TIMESTAMP_LTZ:
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return pd.Series(stamp, index=index, dtype=type.pandas_dtype())
    return pd.Series(value, index=index, dtype=type.pandas_dtype())


def to_dtype(series: pd.Series, type: DataType) -> pd.Series:
    """Convert a column to the pandas dtype of ``type`` (bool[pyarrow] to boolean ...)."""
    kind = type.kind
    dtype = dtype_of(type)
    if series.dtype == dtype:
        return series
    if kind is TypeKind.BOOLEAN and isinstance(series.dtype, pd.ArrowDtype):
        return bool_series(pa.array(series.array), series.index)
    if kind is TypeKind.VARCHAR and isinstance(series.dtype, (pd.StringDtype, pd.ArrowDtype)):
        return string_series(pa.array(series.array), series.index)
    if kind is TypeKind.VARCHAR:
        return series.astype(STRING_DTYPE)
    if kind is TypeKind.TIMESTAMP_LTZ:
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            return series.dt.tz_convert("UTC").astype(dtype)
        if series.dtype.kind == "M":
            return series.dt.tz_localize("UTC").astype(dtype)
    if dtype == "object":
        return series.astype(object)
    return series.astype(dtype)


def null_mask(value: Value) -> np.ndarray | None:
    """Return a boolean array marking NULL rows of a column, or None for a scalar."""
    if is_series(value):
        return np.asarray(value.isna().to_numpy(), dtype=bool)
    return None


def any_null_scalar(values: Sequence[Value]) -> bool:
    return any(not is_series(value) and is_null_scalar(value) for value in values)


def combined_null_mask(values: Sequence[Value], length: int) -> np.ndarray:
    """Return the rows where any of the values is NULL."""
    mask = np.zeros(length, dtype=bool)
    for value in values:
        if is_series(value):
            mask |= np.asarray(value.isna().to_numpy(), dtype=bool)
        elif is_null_scalar(value):
            mask[:] = True
    return mask


def with_nulls(series: pd.Series, mask: np.ndarray | None) -> pd.Series:
    """Return ``series`` with NULL on the rows where ``mask`` is true."""
    if mask is None or not mask.any():
        return series
    if series.dtype == object:
        result = series.copy()
        result[mask] = None
        return result
    return series.mask(mask)


def to_objects(value: Value, length: int) -> list[Any]:
    """Return row values as a list of Python objects, NULL as None."""
    if not is_series(value):
        scalar = None if is_null_scalar(value) else value
        return [scalar] * length
    if value.dtype == object:
        return [None if is_null_scalar(item) else item for item in value.tolist()]
    return [scalar_of(item) for item in value.astype(object).tolist()]


def map_rows(
    invocation: Invocation,
    function: Callable[..., Any],
    args: Sequence[Value],
    type: DataType | None = None,
) -> pd.Series:
    """Apply a Python function row by row; a row with a NULL argument gives NULL.

    Only for values that have no vectorized form (nested values, some regexes).
    """
    columns = [to_objects(arg, invocation.length) for arg in args]
    results: list[Any] = []
    if not columns:
        results = [function() for _ in range(invocation.length)]
    for row in zip(*columns, strict=True):
        results.append(None if any(item is None for item in row) else function(*row))
    return objects_to_series(results, type or invocation.result_type, invocation.index)


def objects_to_series(values: Sequence[Any], type: DataType, index: pd.Index) -> pd.Series:
    """Build a Series of ``type``'s dtype from Python objects (None is NULL)."""
    dtype = dtype_of(type)
    if dtype == "object":
        items = np.empty(len(values), dtype=object)
        items[:] = list(values)
        return pd.Series(items, index=index, dtype=object, copy=False)
    if type.kind is TypeKind.TIMESTAMP_LTZ:
        return pd.Series(pd.to_datetime(list(values), utc=True), index=index).astype(dtype)
    return pd.Series(list(values), index=index, dtype=dtype)


# Type checks for infer functions ----------------------------------------------------------


def expect_count(name: str, types: Sequence[DataType], low: int, high: int | None = None) -> None:
    """Raise ArgumentTypeError unless ``low <= len(types) <= high``."""
    high = low if high is None else high
    count = len(types)
    if low <= count <= high:
        return
    if low == high:
        expected = f"{low} argument" + ("" if low == 1 else "s")
    elif high >= 1_000:
        expected = f"at least {low} arguments"
    else:
        expected = f"{low} to {high} arguments"
    raise ArgumentTypeError(f"{name} takes {expected}, got {count}")


def is_null_type(type: DataType) -> bool:
    return type.kind is TypeKind.NULL


def is_numeric(type: DataType) -> bool:
    return type.is_numeric or is_null_type(type)


def is_integer(type: DataType) -> bool:
    return type.is_integer or is_null_type(type)


def is_string(type: DataType) -> bool:
    return type.is_string or is_null_type(type)


def is_boolean(type: DataType) -> bool:
    return type.kind in (TypeKind.BOOLEAN, TypeKind.NULL)


def is_datetime(type: DataType) -> bool:
    """Return whether values are points in time: DATE, TIMESTAMP or TIMESTAMP_LTZ."""
    return type.kind in (TypeKind.DATE, TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ, TypeKind.NULL)


def expect(
    name: str,
    types: Sequence[DataType],
    index: int,
    accepts: Callable[[DataType], bool],
    description: str,
    *,
    expected: DataType | None = None,
) -> None:
    """Raise ArgumentTypeError unless argument ``index`` passes ``accepts``."""
    if index >= len(types) or accepts(types[index]):
        return
    raise ArgumentTypeError(
        f"{name} expects {description} as argument {index + 1}, got {types[index].plain().sql()}",
        index,
        expected=expected,
    )


def nullable(type: DataType) -> DataType:
    return type.plain().with_nullable(True)
