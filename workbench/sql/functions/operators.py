"""Arithmetic operators and string concatenation: ``+ - * / %``, unary ``-`` and ``||``.

Integer ``+ - * / %`` stay integers and wrap around on overflow, as Java's do.
``/`` follows Flink. Two integers divide to the wider integer type, truncated
toward zero (``7 / 2`` is 3, ``-7 / 2`` is -3). A DECIMAL operand gives a
DECIMAL, and a floating-point one a DOUBLE or FLOAT. Points in time move by
intervals: a day-time interval is a fixed length, a year-month interval moves
the calendar month.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.arrow import (
    arrow_strings,
    join_strings,
    masked_numeric,
    numeric_parts,
    string_series,
)
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    MonthInterval,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    dtype_of,
    expect_count,
    is_null_type,
    is_numeric,
    is_series,
    is_string,
)
from workbench.sql.functions.calendar import (
    add_months,
    datetimes,
    from_wall_clock,
    nanoseconds,
    wall_clock,
)

_POINT_KINDS = (TypeKind.DATE, TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ, TypeKind.TIME)


# Types -----------------------------------------------------------------------------------


def numeric_type(a: DataType, b: DataType) -> DataType:
    """Return the type of arithmetic between two numeric (or NULL) types."""
    if is_null_type(a):
        return b.plain()
    if is_null_type(b):
        return a.plain()
    return t.numeric_result(a, b)


def _both_null(name: str, types: Sequence[DataType]) -> None:
    if all(is_null_type(item) for item in types):
        raise ArgumentTypeError(
            f"cannot apply {name} to untyped NULL values",
            0,
            hint="give one operand a type with CAST(NULL AS ...)",
        )


def _describe(name: str, a: DataType, b: DataType) -> str:
    return f"cannot apply {name} to {a.plain().sql()} and {b.plain().sql()}"


def _infer_add(types: Sequence[DataType], options: Options, name: str = "+") -> DataType:
    expect_count(name, types, 2)
    _both_null(name, types)
    a, b = types
    if is_numeric(a) and is_numeric(b):
        return numeric_type(a, b)
    for point, interval in ((a, b), (b, a)):
        if point.kind in _POINT_KINDS and interval.kind in (TypeKind.INTERVAL, TypeKind.NULL):
            return point.plain()
    if a.kind is TypeKind.INTERVAL and b.kind in (TypeKind.INTERVAL, TypeKind.NULL):
        return t.INTERVAL
    raise _arithmetic_error(name, a, b)


def _infer_subtract(types: Sequence[DataType], options: Options) -> DataType:
    if len(types) == 1:
        return _infer_negate(types)
    expect_count("-", types, 2)
    _both_null("-", types)
    a, b = types
    if is_numeric(a) and is_numeric(b):
        return numeric_type(a, b)
    if a.kind in _POINT_KINDS and b.kind in (TypeKind.INTERVAL, TypeKind.NULL):
        return a.plain()
    if a.kind is TypeKind.INTERVAL and b.kind in (TypeKind.INTERVAL, TypeKind.NULL):
        return t.INTERVAL
    if a.kind in _POINT_KINDS and b.kind in _POINT_KINDS:
        raise ArgumentTypeError(
            f"cannot subtract {b.plain().sql()} from {a.plain().sql()}",
            hint="use TIMESTAMPDIFF(SECOND, start, end) for the time between two points",
        )
    raise _arithmetic_error("-", a, b)


def _infer_negate(types: Sequence[DataType]) -> DataType:
    (a,) = types
    if is_numeric(a) or a.kind is TypeKind.INTERVAL:
        return a.plain()
    raise ArgumentTypeError(f"cannot negate {a.plain().sql()}", 0)


def _infer_multiply(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("*", types, 2)
    _both_null("*", types)
    a, b = types
    if is_numeric(a) and is_numeric(b):
        return numeric_type(a, b)
    if (a.kind is TypeKind.INTERVAL and is_numeric(b)) or (
        b.kind is TypeKind.INTERVAL and is_numeric(a)
    ):
        return t.INTERVAL
    raise _arithmetic_error("*", a, b)


def _infer_divide(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("/", types, 2)
    _both_null("/", types)
    a, b = types
    if a.kind is TypeKind.INTERVAL and is_numeric(b):
        return t.INTERVAL
    if not (is_numeric(a) and is_numeric(b)):
        raise _arithmetic_error("/", a, b)
    kinds = {a.kind, b.kind}
    if TypeKind.DOUBLE in kinds:
        return t.DOUBLE
    if TypeKind.FLOAT in kinds:
        return t.DOUBLE if TypeKind.DECIMAL in kinds else t.FLOAT
    if TypeKind.DECIMAL in kinds:
        scale = max(6, a.scale or 0, b.scale or 0)
        return t.decimal(38, scale)
    return numeric_type(a, b)


def _infer_modulo(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("MOD", types, 2)
    _both_null("MOD", types)
    a, b = types
    if is_numeric(a) and is_numeric(b):
        return numeric_type(a, b)
    raise _arithmetic_error("MOD", a, b)


def _infer_concat(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("||", types, 2)
    for position, item in enumerate(types):
        if not is_string(item):
            raise ArgumentTypeError(
                f"|| concatenates strings, got {item.plain().sql()}", position, expected=t.STRING
            )
    return t.STRING


def _arithmetic_error(name: str, a: DataType, b: DataType) -> ArgumentTypeError:
    wrong = 0 if not (is_numeric(a) or a.kind in _POINT_KINDS or a.kind is TypeKind.INTERVAL) else 1
    other = b if wrong == 0 else a
    expected = other.plain() if is_numeric(other) and not is_null_type(other) else None
    return ArgumentTypeError(_describe(name, a, b), wrong, expected=expected)


# Numbers ---------------------------------------------------------------------------------


def _numeric_operand(value: Value, target: DataType) -> Value:
    """Convert an operand to the result's dtype first, so a narrow input type does not bound it."""
    if is_series(value):
        dtype = dtype_of(target)
        return value if value.dtype == dtype else value.astype(dtype)
    if target.is_integer and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _numeric(invocation: Invocation, args: Sequence[Value], op: Callable[[Any, Any], Any]) -> Value:
    target = invocation.result_type
    left, right = (_numeric_operand(arg, target) for arg in args)
    return op(left, right)


def _parts(value: Value, length: int) -> tuple[np.ndarray, np.ndarray]:
    if is_series(value):
        return numeric_parts(value, "float64")
    return np.full(length, float(value)), np.zeros(length, dtype=bool)


def _int_parts(value: Value, length: int) -> tuple[np.ndarray, np.ndarray]:
    if is_series(value):
        return numeric_parts(value, "int64")
    return np.full(length, int(value), dtype=np.int64), np.zeros(length, dtype=bool)


# Implementations -------------------------------------------------------------------------


def _add(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    a_type, b_type = invocation.arg_types
    if invocation.result_type.is_numeric:
        return _numeric(invocation, args, operator.add)
    if invocation.result_type.kind is TypeKind.INTERVAL:
        return _interval_sum(args[0], args[1], 1)
    if a_type.kind in _POINT_KINDS and not is_null_type(a_type):
        return _shift(invocation, args[0], a_type, args[1], 1)
    return _shift(invocation, args[1], b_type, args[0], 1)


def _subtract(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if len(args) == 1:
        return -args[0]
    if invocation.result_type.is_numeric:
        return _numeric(invocation, args, operator.sub)
    if invocation.result_type.kind is TypeKind.INTERVAL:
        return _interval_sum(args[0], args[1], -1)
    return _shift(invocation, args[0], invocation.arg_types[0], args[1], -1)


def _interval_sum(a: Value, b: Value, sign: int) -> Value:
    if isinstance(a, MonthInterval) and isinstance(b, MonthInterval):
        return MonthInterval(a.months + sign * b.months)
    if isinstance(a, MonthInterval) or isinstance(b, MonthInterval):
        raise ValueError("cannot combine a year-month interval with a day-time interval")
    return a + b if sign > 0 else a - b


def _shift(
    invocation: Invocation, point: Value, point_type: DataType, interval: Value, sign: int
) -> Value:
    """Move points in time by an interval (``sign`` is -1 to subtract)."""
    length, index = invocation.length, invocation.index
    points = invocation.broadcast(point, point_type)
    if point_type.kind is TypeKind.TIME:
        if isinstance(interval, MonthInterval):
            raise ValueError("cannot add a year-month interval to a TIME")
        moved = points + interval if sign > 0 else points - interval
        return moved % pd.Timedelta(days=1)
    time_zone = invocation.context.time_zone
    local = wall_clock(points, point_type, time_zone)
    if isinstance(interval, MonthInterval):
        ns, mask = nanoseconds(local)
        moved_ns = add_months(np.where(mask, 0, ns), sign * interval.months)
        moved = datetimes(moved_ns, mask, index)
    elif point_type.kind is TypeKind.TIMESTAMP_LTZ:
        # A day-time interval is a fixed duration, so it applies to the instant.
        shifted = points + interval if sign > 0 else points - interval
        return shifted
    else:
        moved = local + interval if sign > 0 else local - interval
    if len(moved) != length:
        moved = moved.set_axis(index)
    return from_wall_clock(moved, invocation.result_type, time_zone)


def _multiply(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    a, b = args
    if invocation.result_type.kind is TypeKind.INTERVAL:
        if isinstance(a, MonthInterval) or isinstance(b, MonthInterval):
            interval, factor = (a, b) if isinstance(a, MonthInterval) else (b, a)
            if is_series(factor):
                raise ValueError("a year-month interval can only be multiplied by a constant")
            return MonthInterval(int(interval.months * factor))
        return a * b
    return _numeric(invocation, args, operator.mul)


def _divide(invocation: Invocation, args: Sequence[Value]) -> Value:
    """Divide; NOTE: division by zero gives NULL, not an error or infinity.

    A streaming query must not stop on one row, and Flink's own results for
    a zero divisor depend on the type (an exception for integers, infinity
    for DOUBLE), so every numeric type returns NULL here.
    """
    if any_null_scalar(args):
        return None
    a, b = args
    length = invocation.length
    if not is_series(b) and b == 0:
        return None
    if invocation.result_type.kind is TypeKind.INTERVAL:
        quotient = a / b
        if is_series(b):
            quotient = quotient.mask(b == 0)
        return quotient
    if invocation.result_type.is_integer:
        a_values, a_mask = _int_parts(a, length)
        b_values, b_mask = _int_parts(b, length)
        zero = b_values == 0
        quotient_values = _truncated_quotient(a_values, np.where(zero, 1, b_values))
    else:
        a_values, a_mask = _parts(a, length)
        b_values, b_mask = _parts(b, length)
        zero = b_values == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient_values = a_values / b_values
    mask = a_mask | b_mask | zero
    return masked_numeric(
        quotient_values, mask, invocation.result_type.pandas_dtype(), invocation.index
    )


def _truncated_quotient(dividend: np.ndarray, divisor: np.ndarray) -> np.ndarray:
    """Return the integer quotient rounded toward zero, as Java's ``/`` (divisors are not 0).

    numpy's ``//`` rounds toward negative infinity, so a quotient with a
    remainder and operands of opposite signs moves up by one.
    """
    with np.errstate(over="ignore"):
        floor = dividend // divisor
        inexact = floor * divisor != dividend
    return floor + (inexact & ((dividend < 0) != (divisor < 0)))


def _modulo(invocation: Invocation, args: Sequence[Value]) -> Value:
    """Return the remainder with the sign of the dividend, as Java's ``%``.

    NOTE: a zero divisor gives NULL, like division by zero.
    """
    if any_null_scalar(args):
        return None
    a, b = args
    length = invocation.length
    if not is_series(b) and b == 0:
        return None
    target = invocation.result_type
    if target.is_integer:
        a_values, a_mask = _int_parts(a, length)
        b_values, b_mask = _int_parts(b, length)
    else:
        a_values, a_mask = _parts(a, length)
        b_values, b_mask = _parts(b, length)
    zero = b_values == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        remainder = np.fmod(a_values, np.where(zero, 1, b_values))
    return masked_numeric(
        remainder, a_mask | b_mask | zero, target.pandas_dtype(), invocation.index
    )


def _concat(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if not any(is_series(arg) for arg in args):
        return "".join(str(arg) for arg in args)
    arrays = [arrow_strings(arg) if is_series(arg) else str(arg) for arg in args]
    joined = join_strings(arrays)
    return string_series(joined, invocation.index)


FUNCTIONS = [
    ScalarFunction(
        "+",
        _infer_add,
        _add,
        "numeric1 + numeric2, timepoint + interval",
        "Adds numbers or moves a time.",
    ),
    ScalarFunction(
        "-",
        _infer_subtract,
        _subtract,
        "numeric1 - numeric2, timepoint - interval, - numeric",
        "Subtracts or negates numbers and intervals.",
    ),
    ScalarFunction(
        "*",
        _infer_multiply,
        _multiply,
        "numeric1 * numeric2",
        "Multiplies numbers or scales an interval.",
    ),
    ScalarFunction(
        "/", _infer_divide, _divide, "numeric1 / numeric2", "Divides; a zero divisor gives NULL."
    ),
    ScalarFunction(
        "%", _infer_modulo, _modulo, "numeric1 % numeric2", "Remainder with the sign of numeric1."
    ),
    ScalarFunction(
        "MOD",
        _infer_modulo,
        _modulo,
        "MOD(numeric1, numeric2)",
        "Remainder with the sign of numeric1.",
    ),
    ScalarFunction("||", _infer_concat, _concat, "string1 || string2", "Concatenates two strings."),
]
