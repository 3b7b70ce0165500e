"""Conditional functions: CASE, IF, COALESCE, IFNULL, NVL, NULLIF, GREATEST, LEAST, IS_*.

CASE takes the first WHEN whose condition is TRUE (a NULL condition is not
true). A branch is computed for every row, unless it contains a CAST or a user
function. Such a branch is computed only for the rows that take it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.arrow import (
    arrow_strings,
    bool_series,
    masked_bool,
    masked_numeric,
    numeric_parts,
    string_series,
)
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    combined_null_mask,
    dtype_of,
    expect,
    expect_count,
    is_boolean,
    is_null_scalar,
    is_null_type,
    is_series,
    null_series,
    to_dtype,
    with_nulls,
)
from workbench.sql.functions.comparison import check_comparable, compare

# Types -----------------------------------------------------------------------------------


def common_result_type(name: str, types: Sequence[DataType], positions: Sequence[int]) -> DataType:
    """Return the type that all of ``types`` widen to; ``positions`` are their argument indexes."""
    result = t.NULL
    for position, item in zip(positions, types, strict=True):
        widened = t.common_type(result, item)
        if widened is None:
            raise ArgumentTypeError(
                f"{name} cannot mix {result.plain().sql()} and {item.plain().sql()}",
                position,
                expected=result.plain(),
            )
        result = widened
    return result.plain().with_nullable(True)


def case_layout(count: int, has_else: bool) -> tuple[list[int], list[int], int | None]:
    """Return the argument indexes of CASE's conditions, its results and its ELSE."""
    pairs = count - 1 if has_else else count
    conditions = list(range(0, pairs, 2))
    results = list(range(1, pairs, 2))
    return conditions, results, count - 1 if has_else else None


def _infer_case(types: Sequence[DataType], options: Options) -> DataType:
    has_else = bool(options.get("has_else", False))
    if len(types) < (3 if has_else else 2) or (len(types) - int(has_else)) % 2:
        raise ArgumentTypeError("CASE needs WHEN condition THEN result pairs")
    conditions, results, otherwise = case_layout(len(types), has_else)
    for position in conditions:
        expect(
            "CASE",
            types,
            position,
            is_boolean,
            "a BOOLEAN condition after WHEN",
            expected=t.BOOLEAN,
        )
    positions = [*results, *([otherwise] if otherwise is not None else [])]
    return common_result_type("CASE", [types[i] for i in positions], positions)


def _infer_if(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("IF", types, 3)
    expect("IF", types, 0, is_boolean, "a BOOLEAN condition", expected=t.BOOLEAN)
    return common_result_type("IF", types[1:], [1, 2])


def _infer_coalesce(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(
            name,
            types,
            2 if name in ("IFNULL", "NVL") else 1,
            2 if name in ("IFNULL", "NVL") else 10_000,
        )
        result = common_result_type(name, types, range(len(types)))
        return result.with_nullable(types[-1].nullable)

    return infer


def _infer_nullif(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("NULLIF", types, 2)
    check_comparable("NULLIF", types[0], types[1], ordering=False)
    if is_null_type(types[0]):
        return types[1].plain()
    return types[0].plain().with_nullable(True)


def _infer_extreme(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1, 10_000)
        result = common_result_type(name, types, range(len(types)))
        check_comparable(name, result, result, ordering=True)
        return result

    return infer


def _infer_string_test(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1)
        expect(
            name,
            types,
            0,
            lambda item: item.is_string or item.is_numeric or is_null_type(item),
            "a string",
        )
        return t.BOOLEAN.with_nullable(False)

    return infer


# Assembling results ----------------------------------------------------------------------


def assemble(invocation: Invocation, pieces: Sequence[tuple[np.ndarray, Value]]) -> Value:
    """Combine ``(rows, value)`` pieces with disjoint rows into one column; other rows are NULL."""
    type = invocation.result_type
    if not pieces:
        return None
    if len(pieces) == 1 and pieces[0][0].all():
        return pieces[0][1]
    pieces = [
        (rows, value) for rows, value in pieces if is_series(value) or not is_null_scalar(value)
    ]
    dtype = pd.api.types.pandas_dtype(dtype_of(type))
    if type.kind is TypeKind.VARCHAR:
        return _assemble_strings(invocation, pieces)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and hasattr(dtype, "numpy_dtype"):
        return _assemble_masked(invocation, pieces, dtype)
    result = null_series(type, invocation.length, invocation.index)
    for rows, value in pieces:
        result = result.mask(rows, to_dtype(invocation.broadcast(value, type), type))
    return result


def _is_null(value: Value) -> bool:
    return not is_series(value) and is_null_scalar(value)


def _assemble_strings(invocation: Invocation, pieces: Sequence[tuple[np.ndarray, Value]]) -> Value:
    result = pa.nulls(invocation.length, pa.large_string())
    for rows, value in pieces:
        chosen = (
            arrow_strings(value) if is_series(value) else pa.scalar(str(value), pa.large_string())
        )
        result = pc.if_else(pa.array(rows), chosen, result)
    return string_series(result, invocation.index)


def _assemble_masked(
    invocation: Invocation, pieces: Sequence[tuple[np.ndarray, Value]], dtype: Any
) -> Value:
    """Assemble nullable numbers and booleans through their numpy data and NULL mask."""
    data = np.zeros(invocation.length, dtype=dtype.numpy_dtype)
    mask = np.ones(invocation.length, dtype=bool)
    for rows, value in pieces:
        if is_series(value):
            values, missing = numeric_parts(value, dtype.numpy_dtype)
            data[rows] = values[rows]
            mask[rows] = missing[rows]
        else:
            data[rows] = value
            mask[rows] = False
    if dtype.numpy_dtype == np.bool_:
        return masked_bool(data, mask, invocation.index)
    return masked_numeric(data, mask, dtype, invocation.index)


def _case(invocation: Invocation, _: Any) -> Value:
    return _choose(invocation, bool(invocation.option("has_else", False)))


def _if(invocation: Invocation, _: Any) -> Value:
    return _choose(invocation, True)


def _choose(invocation: Invocation, has_else: bool) -> Value:
    evaluator = invocation.evaluator
    args = invocation.call.args
    conditions, results, otherwise = case_layout(len(args), has_else)
    undecided = np.ones(invocation.length, dtype=bool)
    pieces: list[tuple[np.ndarray, Value]] = []
    for condition_index, result_index in zip(conditions, results, strict=True):
        condition = evaluator.value_where(args[condition_index], undecided)
        if is_series(condition):
            chosen_rows = undecided & condition.to_numpy(dtype=bool, na_value=False)
        else:
            chosen_rows = (
                undecided if condition is True else np.zeros(invocation.length, dtype=bool)
            )
        if chosen_rows.any():
            pieces.append((chosen_rows, evaluator.value_where(args[result_index], chosen_rows)))
            undecided = undecided & ~chosen_rows
        if not undecided.any():
            break
    if otherwise is not None and undecided.any():
        pieces.append((undecided, evaluator.value_where(args[otherwise], undecided)))
    return assemble(invocation, pieces)


def _coalesce(invocation: Invocation, _: Any) -> Value:
    evaluator = invocation.evaluator
    type = invocation.result_type
    result: Value = None
    for arg in invocation.call.args:
        if not is_series(result):
            if not is_null_scalar(result):
                return result
            result = evaluator.value(arg)
            if is_series(result):
                result = to_dtype(result, type)
            continue
        missing = np.asarray(result.isna().to_numpy(), dtype=bool)
        if not missing.any():
            break
        following = evaluator.value_where(arg, missing)
        if not is_series(following) and is_null_scalar(following):
            continue
        result = result.mask(missing, to_dtype(invocation.broadcast(following, type), type))
    return result


def _nullif(invocation: Invocation, args: Sequence[Value]) -> Value:
    a, b = args
    a_type, b_type = invocation.arg_types
    if is_null_scalar(a) and not is_series(a):
        return None
    equal = compare(invocation, "=", a, b, (a_type, b_type))
    if not is_series(equal):
        return None if equal is True else a
    rows = equal.to_numpy(dtype=bool, na_value=False)
    values = to_dtype(invocation.broadcast(a, invocation.result_type), invocation.result_type)
    return with_nulls(values, rows)


def _extreme(name: str) -> Callable[[Invocation, Sequence[Value]], Value]:
    """GREATEST and LEAST; NULL if any argument is NULL, as Flink returns."""
    keep_operator = ">=" if name == "GREATEST" else "<="

    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        if any(not is_series(arg) and is_null_scalar(arg) for arg in args):
            return None
        type = invocation.result_type
        if not any(is_series(arg) for arg in args):
            return max(args) if name == "GREATEST" else min(args)
        result = to_dtype(invocation.broadcast(args[0], type), type)
        for arg in args[1:]:
            keep = compare(invocation, keep_operator, result, arg, (type, type))
            if is_series(keep):
                keep_rows = np.asarray(keep.to_numpy(dtype=bool, na_value=True), dtype=bool)
            else:
                keep_rows = np.full(invocation.length, bool(keep))
            result = result.where(keep_rows, to_dtype(invocation.broadcast(arg, type), type))
        return with_nulls(result, combined_null_mask(args, invocation.length))

    return implementation


def _string_test(kernel: Callable[[Any], Any]) -> Callable[[Invocation, Sequence[Value]], Value]:
    """IS_ALPHA, IS_DIGIT, IS_DECIMAL: a NULL argument gives FALSE, not NULL."""

    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        (value,) = args
        if not is_series(value):
            if is_null_scalar(value):
                return False
            value = pd.Series([str(value)], dtype=str)
        if value.dtype.kind in "iuf" or isinstance(value.dtype, (pd.Int64Dtype, pd.Float64Dtype)):
            value = value.astype(str)
        result = bool_series(kernel(arrow_strings(value)), invocation.index)
        values = result.to_numpy(dtype=bool, na_value=False)
        return masked_bool(values, None, invocation.index)

    return implementation


_DECIMAL_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def _is_decimal(strings: Any) -> Any:
    return pc.match_substring_regex(strings, _DECIMAL_PATTERN)


FUNCTIONS = [
    ScalarFunction(
        "CASE",
        _infer_case,
        _case,
        "CASE WHEN condition THEN result ... [ELSE result] END",
        "The result of the first TRUE condition.",
        lazy=True,
    ),
    ScalarFunction("IF", _infer_if, _if, "IF(condition, true_value, false_value)", lazy=True),
    ScalarFunction(
        "COALESCE",
        _infer_coalesce("COALESCE"),
        _coalesce,
        "COALESCE(value1, value2, ...)",
        "First non-NULL value.",
        lazy=True,
    ),
    ScalarFunction(
        "IFNULL", _infer_coalesce("IFNULL"), _coalesce, "IFNULL(value, replacement)", lazy=True
    ),
    ScalarFunction("NVL", _infer_coalesce("NVL"), _coalesce, "NVL(value, replacement)", lazy=True),
    ScalarFunction(
        "NULLIF", _infer_nullif, _nullif, "NULLIF(value1, value2)", "NULL if the values are equal."
    ),
    ScalarFunction(
        "GREATEST",
        _infer_extreme("GREATEST"),
        _extreme("GREATEST"),
        "GREATEST(value1, ...)",
        "NULL if any is NULL.",
    ),
    ScalarFunction(
        "LEAST",
        _infer_extreme("LEAST"),
        _extreme("LEAST"),
        "LEAST(value1, ...)",
        "NULL if any is NULL.",
    ),
    ScalarFunction(
        "IS_ALPHA",
        _infer_string_test("IS_ALPHA"),
        _string_test(pc.utf8_is_alpha),
        "IS_ALPHA(string)",
    ),
    ScalarFunction(
        "IS_DIGIT",
        _infer_string_test("IS_DIGIT"),
        _string_test(pc.utf8_is_digit),
        "IS_DIGIT(string)",
    ),
    ScalarFunction(
        "IS_DECIMAL",
        _infer_string_test("IS_DECIMAL"),
        _string_test(_is_decimal),
        "IS_DECIMAL(string)",
    ),
]
