"""Numeric functions: ABS, CEIL, FLOOR, ROUND, TRUNCATE, POWER, logarithms, trigonometry, RAND ...

Functions of real numbers (SQRT, LN, SIN ...) return DOUBLE and follow Java's
``Math``: a value outside the domain, such as ``SQRT(-1)``, gives NaN. ROUND
rounds half away from zero, as Java's ``RoundingMode.HALF_UP``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.arrow import masked_numeric, numeric_parts, string_series
from workbench.sql.functions.base import (
    Invocation,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    expect,
    expect_count,
    is_integer,
    is_null_type,
    is_numeric,
)
from workbench.sql.functions.fields import floor_time, infer_floor_time


def _parts(invocation: Invocation, value: Value, position: int) -> tuple[np.ndarray, np.ndarray]:
    series = invocation.broadcast(value, invocation.arg_types[position])
    return numeric_parts(series, "float64")


def _numbers(
    name: str, count: int, result: DataType | None = None
) -> Callable[[Sequence[DataType], Options], DataType]:
    """Type ``count`` numeric arguments; the result is ``result`` or the first argument's type."""

    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, count)
        for position in range(count):
            expect(name, types, position, is_numeric, "a number", expected=t.DOUBLE)
        if result is not None:
            return result
        return t.INT if is_null_type(types[0]) else types[0].plain()

    return infer


def _real(function: Callable[..., np.ndarray]) -> Callable[[Invocation, Sequence[Value]], Value]:
    """A DOUBLE function of one or more numbers, computed with numpy."""

    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        if any_null_scalar(args):
            return None
        columns = [_parts(invocation, arg, position) for position, arg in enumerate(args)]
        mask = np.zeros(invocation.length, dtype=bool)
        for _, column_mask in columns:
            mask |= column_mask
        with np.errstate(all="ignore"):
            values = function(*(values for values, _ in columns))
        return masked_numeric(values, mask, invocation.result_type.pandas_dtype(), invocation.index)

    return implementation


def _constant(value: float) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        return value

    return implementation


def _log(*values: np.ndarray) -> np.ndarray:
    """LOG(x) is the natural logarithm; LOG(base, x) the logarithm of x to ``base``."""
    if len(values) == 1:
        return np.log(values[0])
    base, x = values
    return np.log(x) / np.log(base)


def _infer_log(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("LOG", types, 1, 2)
    for position in range(len(types)):
        expect("LOG", types, position, is_numeric, "a number", expected=t.DOUBLE)
    return t.DOUBLE


# Sign and magnitude ----------------------------------------------------------------------


def _abs(invocation: Invocation, args: Sequence[Value]) -> Value:
    (value,) = args
    if any_null_scalar(args):
        return None
    return invocation.broadcast(value, invocation.arg_types[0]).abs()


def _sign(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    values, mask = _parts(invocation, args[0], 0)
    return masked_numeric(
        np.sign(values), mask, invocation.result_type.pandas_dtype(), invocation.index
    )


# Rounding --------------------------------------------------------------------------------


def _infer_rounding(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1, 2)
        expect(name, types, 0, is_numeric, "a number", expected=t.DOUBLE)
        expect(name, types, 1, is_integer, "an integer number of decimal places", expected=t.INT)
        first = t.INT if is_null_type(types[0]) else types[0].plain()
        if first.kind is TypeKind.DECIMAL:
            places = options.get("places")
            scale = (
                first.scale or 0 if places is None else max(0, min(int(places), first.scale or 0))
            )
            return t.decimal(first.precision or 38, scale)
        return first

    return infer


def _round_values(
    values: np.ndarray, places: np.ndarray, toward_zero: bool, decimal: bool
) -> np.ndarray:
    factor = np.power(10.0, places)
    with np.errstate(all="ignore"):
        scaled = np.abs(values) * factor
        # DECIMAL values are binary floats here, so 125.315 * 100 is 12531.4999...;
        # a relative nudge far below the decimal digits restores the exact
        # decimal's rounding. DOUBLE rounds its binary value, as Java does.
        nudge = scaled * 1e-13 if decimal else 0.0
        whole = np.floor(scaled + nudge) if toward_zero else np.floor(scaled + 0.5 + nudge)
        return np.sign(values) * whole / factor


def _rounding(toward_zero: bool) -> Callable[[Invocation, Sequence[Value]], Value]:
    """ROUND (half away from zero) and TRUNCATE (toward zero) to ``places`` decimals."""

    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        if any_null_scalar(args):
            return None
        type = invocation.result_type
        places = np.zeros(invocation.length, dtype=np.int64)
        mask = np.zeros(invocation.length, dtype=bool)
        if len(args) > 1:
            place_values, mask = _parts(invocation, args[1], 1)
            places = place_values.astype(np.int64)
        if type.is_integer:
            values, value_mask = numeric_parts(
                invocation.broadcast(args[0], invocation.arg_types[0]), "int64"
            )
            step = np.power(10, np.clip(-places, 0, 18)).astype(np.int64)
            magnitude = np.abs(values)
            steps = magnitude // step if toward_zero else (magnitude + step // 2) // step
            result = np.where(places < 0, np.sign(values) * steps * step, values)
            return masked_numeric(result, mask | value_mask, type.pandas_dtype(), invocation.index)
        values, value_mask = _parts(invocation, args[0], 0)
        result = _round_values(values, places, toward_zero, type.kind is TypeKind.DECIMAL)
        return masked_numeric(result, mask | value_mask, type.pandas_dtype(), invocation.index)

    return implementation


def _infer_floor_ceil(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        unit = options.get("unit")
        if unit is not None:
            return infer_floor_time(name, types, str(unit).upper())
        expect_count(name, types, 1)
        expect(name, types, 0, is_numeric, "a number", expected=t.DOUBLE)
        first = t.INT if is_null_type(types[0]) else types[0].plain()
        return t.decimal(first.precision or 38, 0) if first.kind is TypeKind.DECIMAL else first

    return infer


def _floor_ceil(ceil: bool) -> Callable[[Invocation, Sequence[Value]], Value]:
    numpy_function = np.ceil if ceil else np.floor

    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        unit = invocation.option("unit")
        if unit is not None:
            return floor_time(invocation, args[0], str(unit).upper(), ceil=ceil)
        if any_null_scalar(args):
            return None
        if invocation.result_type.is_integer:
            return args[0]
        values, mask = _parts(invocation, args[0], 0)
        return masked_numeric(
            numpy_function(values), mask, invocation.result_type.pandas_dtype(), invocation.index
        )

    return implementation


# Random numbers and bit strings ----------------------------------------------------------


def _rand(invocation: Invocation, args: Sequence[Value]) -> Value:
    """RAND([seed]): uniform in [0, 1).

    NOTE: a seeded RAND starts its sequence again in every batch, and its
    numbers differ from Flink's, which come from java.util.Random.
    """
    if any_null_scalar(args):
        return None
    generator = np.random.default_rng(int(args[0]) if args else None)
    return masked_numeric(generator.random(invocation.length), None, "Float64", invocation.index)


def _infer_rand_integer(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("RAND_INTEGER", types, 1, 2)
    for position in range(len(types)):
        expect("RAND_INTEGER", types, position, is_integer, "an integer", expected=t.INT)
    return t.INT


def _rand_integer(invocation: Invocation, args: Sequence[Value]) -> Value:
    """RAND_INTEGER([seed,] bound): uniform integers in [0, bound)."""
    if any_null_scalar(args):
        return None
    seed = int(args[0]) if len(args) == 2 else None
    bound = int(args[-1])
    if bound <= 0:
        raise ValueError(f"RAND_INTEGER needs a positive bound, got {bound}")
    values = np.random.default_rng(seed).integers(0, bound, invocation.length)
    return masked_numeric(values, None, "Int32", invocation.index)


def _infer_bin(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("BIN", types, 1)
    expect("BIN", types, 0, is_integer, "an integer", expected=t.BIGINT)
    return t.STRING


def _bin(invocation: Invocation, args: Sequence[Value]) -> Value:
    """BIN(integer): binary digits of the 64-bit two's complement (BIN(-1) is 64 ones)."""
    if any_null_scalar(args):
        return None
    values, mask = numeric_parts(invocation.broadcast(args[0], invocation.arg_types[0]), "int64")
    texts = [format(int(value), "b") for value in values.astype(np.uint64)]
    return string_series(pa.array(texts, pa.large_string(), mask=mask), invocation.index)


def _no_args(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 0)
        return t.DOUBLE

    return infer


def _infer_rand(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("RAND", types, 0, 1)
    expect("RAND", types, 0, is_integer, "an integer seed", expected=t.INT)
    return t.DOUBLE


_DOUBLE_FUNCTIONS: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
    "SQRT": (1, np.sqrt),
    "EXP": (1, np.exp),
    "LN": (1, np.log),
    "LOG10": (1, np.log10),
    "LOG2": (1, np.log2),
    "SIN": (1, np.sin),
    "COS": (1, np.cos),
    "TAN": (1, np.tan),
    "COT": (1, lambda x: 1.0 / np.tan(x)),
    "ASIN": (1, np.arcsin),
    "ACOS": (1, np.arccos),
    "ATAN": (1, np.arctan),
    "SINH": (1, np.sinh),
    "COSH": (1, np.cosh),
    "TANH": (1, np.tanh),
    "DEGREES": (1, np.degrees),
    "RADIANS": (1, np.radians),
    "ATAN2": (2, np.arctan2),
    "POWER": (2, np.power),
}

FUNCTIONS = [
    *(
        ScalarFunction(name, _numbers(name, count, t.DOUBLE), _real(function), f"{name}(numeric)")
        for name, (count, function) in _DOUBLE_FUNCTIONS.items()
    ),
    ScalarFunction("POW", _numbers("POW", 2, t.DOUBLE), _real(np.power), "POW(base, exponent)"),
    ScalarFunction("LOG", _infer_log, _real(_log), "LOG([base,] numeric)"),
    ScalarFunction("ABS", _numbers("ABS", 1), _abs, "ABS(numeric)"),
    ScalarFunction("SIGN", _numbers("SIGN", 1), _sign, "SIGN(numeric)"),
    ScalarFunction("ROUND", _infer_rounding("ROUND"), _rounding(False), "ROUND(numeric[, places])"),
    ScalarFunction(
        "TRUNCATE", _infer_rounding("TRUNCATE"), _rounding(True), "TRUNCATE(numeric[, places])"
    ),
    ScalarFunction(
        "FLOOR",
        _infer_floor_ceil("FLOOR"),
        _floor_ceil(False),
        "FLOOR(numeric | timepoint TO unit)",
    ),
    ScalarFunction(
        "CEIL", _infer_floor_ceil("CEIL"), _floor_ceil(True), "CEIL(numeric | timepoint TO unit)"
    ),
    ScalarFunction("CEILING", _infer_floor_ceil("CEILING"), _floor_ceil(True), "CEILING(numeric)"),
    ScalarFunction("PI", _no_args("PI"), _constant(math.pi), "PI()"),
    ScalarFunction("E", _no_args("E"), _constant(math.e), "E()"),
    ScalarFunction("RAND", _infer_rand, _rand, "RAND([seed])", deterministic=False),
    ScalarFunction(
        "RAND_INTEGER",
        _infer_rand_integer,
        _rand_integer,
        "RAND_INTEGER([seed,] bound)",
        deterministic=False,
    ),
    ScalarFunction("BIN", _infer_bin, _bin, "BIN(integer)"),
]
