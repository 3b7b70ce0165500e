"""Comparisons: ``= <> < <= > >=``, BETWEEN [SYMMETRIC], IN, IS [NOT] NULL/TRUE/FALSE/UNKNOWN.

Comparisons with NULL are NULL (UNKNOWN). ``IS [NOT] DISTINCT FROM`` treats
two NULLs as equal. AND, OR and NOT are in :mod:`workbench.sql.functions.logic`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events import types as t
from workbench.events.types import NESTED_KINDS, DataType, TypeKind
from workbench.sql.functions.arrow import arrow_strings, bool_series, masked_bool
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    combined_null_mask,
    expect,
    expect_count,
    is_boolean,
    is_null_scalar,
    is_null_type,
    is_series,
    to_objects,
)
from workbench.sql.functions.logic import kleene_and, kleene_or

_ORDERED_KINDS = {
    TypeKind.DATE: "time",
    TypeKind.TIMESTAMP: "time",
    TypeKind.TIMESTAMP_LTZ: "time",
}

_ARROW_OPS = {
    "=": "equal",
    "<>": "not_equal",
    "<": "less",
    "<=": "less_equal",
    ">": "greater",
    ">=": "greater_equal",
}

_PYTHON_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# Types -----------------------------------------------------------------------------------


def comparison_family(type: DataType) -> str:
    """Return the group of types that compare with each other."""
    kind = type.kind
    if type.is_numeric:
        return "number"
    if kind in _ORDERED_KINDS:
        return _ORDERED_KINDS[kind]
    return kind.value


def check_comparable(name: str, a: DataType, b: DataType, *, ordering: bool) -> None:
    """Raise ArgumentTypeError unless values of ``a`` and ``b`` can be compared."""
    if is_null_type(a) or is_null_type(b):
        return
    if comparison_family(a) != comparison_family(b):
        wrong, other = (
            (0, b) if a.kind is TypeKind.VARCHAR or b.kind is not TypeKind.VARCHAR else (1, a)
        )
        raise ArgumentTypeError(
            f"cannot compare {a.plain().sql()} with {b.plain().sql()}",
            wrong,
            expected=other.plain(),
        )
    if ordering and a.kind in NESTED_KINDS:
        raise ArgumentTypeError(f"{name} cannot order values of type {a.plain().sql()}", 0)


def _comparison(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    ordering = name not in ("=", "<>")

    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 2)
        check_comparable(name, types[0], types[1], ordering=ordering)
        return t.BOOLEAN

    return infer


def _infer_between(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("BETWEEN", types, 3)
    check_comparable("BETWEEN", types[0], types[1], ordering=True)
    check_comparable("BETWEEN", types[0], types[2], ordering=True)
    return t.BOOLEAN


def _infer_in(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("IN", types, 2, 1_000_000)
    for position, item in enumerate(types[1:], start=1):
        try:
            check_comparable("IN", types[0], item, ordering=False)
        except ArgumentTypeError as error:
            raise ArgumentTypeError(error.message, position, expected=types[0].plain()) from None
    return t.BOOLEAN


def _infer_any(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1)
        return t.BOOLEAN.with_nullable(False)

    return infer


def _infer_truth(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1)
        expect(name, types, 0, is_boolean, "a BOOLEAN")
        return t.BOOLEAN.with_nullable(False)

    return infer


def _infer_distinct(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 2)
        check_comparable(name, types[0], types[1], ordering=False)
        return t.BOOLEAN.with_nullable(False)

    return infer


# Comparison ------------------------------------------------------------------------------


def compare(
    invocation: Invocation, name: str, a: Value, b: Value, types: tuple[DataType, DataType]
) -> Value:
    """Compare two values of ``types`` row by row; NULL on either side gives NULL."""
    a_type, b_type = types
    if is_null_scalar(a) or is_null_scalar(b) or is_null_type(a_type) or is_null_type(b_type):
        return None
    if not is_series(a) and not is_series(b):
        return bool(_PYTHON_OPS[name](a, b))
    if a_type.kind is TypeKind.VARCHAR or b_type.kind is TypeKind.VARCHAR:
        left = arrow_strings(a) if is_series(a) else pa.scalar(str(a), pa.large_string())
        right = arrow_strings(b) if is_series(b) else pa.scalar(str(b), pa.large_string())
        return bool_series(getattr(pc, _ARROW_OPS[name])(left, right), invocation.index)
    if (
        a_type.kind in NESTED_KINDS
        or b_type.kind in (*NESTED_KINDS, TypeKind.BINARY)
        or a_type.kind is TypeKind.BINARY
    ):
        return _compare_objects(invocation, name, a, b)
    result = _PYTHON_OPS[name](a, b)
    if result.dtype == "boolean":
        return result
    mask = combined_null_mask([a, b], invocation.length)
    return masked_bool(result.to_numpy(dtype=bool), mask, invocation.index)


def _compare_objects(invocation: Invocation, name: str, a: Value, b: Value) -> pd.Series:
    function = _PYTHON_OPS[name]
    left = to_objects(a, invocation.length)
    right = to_objects(b, invocation.length)
    values = np.zeros(invocation.length, dtype=bool)
    mask = np.zeros(invocation.length, dtype=bool)
    for position, (x, y) in enumerate(zip(left, right, strict=True)):
        if x is None or y is None:
            mask[position] = True
        else:
            values[position] = bool(function(_comparable(x), _comparable(y)))
    return masked_bool(values, mask, invocation.index)


def _comparable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _comparison_implementation(name: str) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        a_type, b_type = invocation.arg_types
        return compare(invocation, name, args[0], args[1], (a_type, b_type))

    return implementation


# IS ... ----------------------------------------------------------------------------------


def _null_test(negate: bool) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        (value,) = args
        if not is_series(value):
            return is_null_scalar(value) != negate
        missing = np.asarray(value.isna().to_numpy(), dtype=bool)
        return masked_bool(~missing if negate else missing, None, invocation.index)

    return implementation


def _truth_test(
    expected: bool | None, negate: bool
) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        (value,) = args
        if not is_series(value):
            scalar = None if is_null_scalar(value) else bool(value)
            return (scalar is expected) != negate
        missing = np.asarray(value.isna().to_numpy(), dtype=bool)
        if expected is None:
            matches = missing
        else:
            truth = value.to_numpy(dtype=bool, na_value=not expected)
            matches = truth if expected else ~truth
            matches = matches & ~missing
        return masked_bool(~matches if negate else matches, None, invocation.index)

    return implementation


def _distinct(negate: bool) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        a, b = args
        a_type, b_type = invocation.arg_types
        a_null, b_null = is_null_scalar(a), is_null_scalar(b)
        if not is_series(a) and not is_series(b):
            same = (a_null and b_null) or (not a_null and not b_null and a == b)
            return same == negate
        equal = compare(invocation, "=", a, b, (a_type, b_type))
        length = invocation.length
        equal_values = (
            np.zeros(length, dtype=bool)
            if equal is None
            else equal.to_numpy(dtype=bool, na_value=False)
        )
        a_missing = combined_null_mask([a], length)
        b_missing = combined_null_mask([b], length)
        same = (equal_values & ~a_missing & ~b_missing) | (a_missing & b_missing)
        return masked_bool(same if negate else ~same, None, invocation.index)

    return implementation


# BETWEEN and IN --------------------------------------------------------------------------


def _between(invocation: Invocation, args: Sequence[Value]) -> Value:
    x, low, high = args
    x_type, low_type, high_type = invocation.arg_types
    inside = kleene_and(
        compare(invocation, ">=", x, low, (x_type, low_type)),
        compare(invocation, "<=", x, high, (x_type, high_type)),
    )
    if not invocation.option("symmetric", False):
        return inside
    swapped = kleene_and(
        compare(invocation, ">=", x, high, (x_type, high_type)),
        compare(invocation, "<=", x, low, (x_type, low_type)),
    )
    return kleene_or(inside, swapped)


def _in(invocation: Invocation, args: Sequence[Value]) -> Value:
    """x IN (a, b, ...): TRUE if found; else NULL if x or a list item is NULL; else FALSE."""
    x, items = args[0], args[1:]
    types = invocation.arg_types
    if is_null_scalar(x):
        return None
    if any(is_series(item) for item in items):
        result: Value = False
        for item, item_type in zip(items, types[1:], strict=True):
            result = kleene_or(result, compare(invocation, "=", x, item, (types[0], item_type)))
        return result
    has_null = any(is_null_scalar(item) for item in items)
    values = [item for item in items if not is_null_scalar(item)]
    if not is_series(x):
        if x in values:
            return True
        return None if has_null else False
    if types[0].kind is TypeKind.VARCHAR:
        found_array = pc.is_in(
            arrow_strings(x), value_set=pa.array([str(v) for v in values], pa.large_string())
        )
        found = found_array.to_numpy(zero_copy_only=False).astype(bool)
    elif types[0].kind in NESTED_KINDS or types[0].kind is TypeKind.BINARY:
        objects = to_objects(x, invocation.length)
        found = np.array([item is not None and item in values for item in objects], dtype=bool)
    else:
        found = np.asarray(x.isin(values).to_numpy(dtype=bool, na_value=False), dtype=bool)
    missing = np.asarray(x.isna().to_numpy(), dtype=bool)
    mask = missing | (~found & has_null)
    return masked_bool(found & ~missing, mask, invocation.index)


FUNCTIONS = [
    *(
        ScalarFunction(
            name, _comparison(name), _comparison_implementation(name), f"value1 {name} value2"
        )
        for name in ("=", "<>", "<", "<=", ">", ">=")
    ),
    ScalarFunction(
        "BETWEEN",
        _infer_between,
        _between,
        "value BETWEEN [SYMMETRIC] low AND high",
        "Tests low <= value <= high (either order with SYMMETRIC).",
    ),
    ScalarFunction(
        "IN", _infer_in, _in, "value IN (value1, value2, ...)", "Tests membership in a list."
    ),
    ScalarFunction("IS NULL", _infer_any("IS NULL"), _null_test(False), "value IS NULL"),
    ScalarFunction("IS NOT NULL", _infer_any("IS NOT NULL"), _null_test(True), "value IS NOT NULL"),
    ScalarFunction("IS TRUE", _infer_truth("IS TRUE"), _truth_test(True, False), "boolean IS TRUE"),
    ScalarFunction(
        "IS NOT TRUE", _infer_truth("IS NOT TRUE"), _truth_test(True, True), "boolean IS NOT TRUE"
    ),
    ScalarFunction(
        "IS FALSE", _infer_truth("IS FALSE"), _truth_test(False, False), "boolean IS FALSE"
    ),
    ScalarFunction(
        "IS NOT FALSE",
        _infer_truth("IS NOT FALSE"),
        _truth_test(False, True),
        "boolean IS NOT FALSE",
    ),
    ScalarFunction(
        "IS UNKNOWN", _infer_truth("IS UNKNOWN"), _truth_test(None, False), "boolean IS UNKNOWN"
    ),
    ScalarFunction(
        "IS NOT UNKNOWN",
        _infer_truth("IS NOT UNKNOWN"),
        _truth_test(None, True),
        "boolean IS NOT UNKNOWN",
    ),
    ScalarFunction(
        "IS DISTINCT FROM",
        _infer_distinct("IS DISTINCT FROM"),
        _distinct(False),
        "value1 IS DISTINCT FROM value2",
        "Inequality where two NULLs are equal.",
    ),
    ScalarFunction(
        "IS NOT DISTINCT FROM",
        _infer_distinct("IS NOT DISTINCT FROM"),
        _distinct(True),
        "value1 IS NOT DISTINCT FROM value2",
        "Equality where two NULLs are equal.",
    ),
]
