"""Converters to BOOLEAN, the integer types, FLOAT, DOUBLE, DECIMAL, VARCHAR and BINARY.

Text is converted with pyarrow compute kernels. The first attempt casts the
whole column at once. Only when that cast raises does a second pass find the
invalid values (blank text is NULL, anything else that does not parse fails)
and cast the rest.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events.convert import (
    Category,
    ConformOptions,
    Conversion,
    astype,
    fail_all,
    from_arrow,
)
from workbench.events.types import DataType, TypeKind

_TRUE_TEXT = pa.array(["true", "1", "yes"])
_FALSE_TEXT = pa.array(["false", "0", "no"])
# The common spellings, matched before trimming and lowering the whole column.
_TRUE_SPELLINGS = pa.array(["true", "True", "TRUE", "1", "yes", "Yes", "YES"])
_FALSE_SPELLINGS = pa.array(["false", "False", "FALSE", "0", "no", "No", "NO"])
_INTEGER_TEXT = r"^[+-]?[0-9]+$"
_FLOAT_TEXT = (
    r"^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|nan|NaN|NAN|inf|Inf|INF"
    r"|infinity|Infinity|INFINITY)$"
)

_ARROW_INTEGERS = {
    TypeKind.TINYINT: pa.int8(),
    TypeKind.SMALLINT: pa.int16(),
    TypeKind.INT: pa.int32(),
    TypeKind.BIGINT: pa.int64(),
}
_PANDAS_INTEGERS = {
    TypeKind.TINYINT: pd.Int8Dtype(),
    TypeKind.SMALLINT: pd.Int16Dtype(),
    TypeKind.INT: pd.Int32Dtype(),
    TypeKind.BIGINT: pd.Int64Dtype(),
}


def text_array(values: pd.Series) -> pa.Array:
    """Return a text column as one pyarrow string array."""
    array = pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def clean_text(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Return the trimmed text, with blank values as null, and the mask of blanks."""
    trimmed = pc.utf8_trim_whitespace(array)
    blank = pc.fill_null(pc.equal(trimmed, ""), False)
    cleaned = pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed)
    return cleaned, blank.to_numpy(zero_copy_only=False)


def valid_mask(array: pa.Array) -> np.ndarray:
    return array.is_valid().to_numpy(zero_copy_only=False)


def _cast_matching(array: pa.Array, pattern: str, target: pa.DataType) -> pa.Array:
    """Cast the values that match ``pattern`` and return null for the others."""
    matches = pc.fill_null(pc.match_substring_regex(array, pattern), False)
    candidates = pc.if_else(matches, array, pa.scalar(None, array.type))
    return pc.cast(candidates, target)


# BOOLEAN ----------------------------------------------------------------------


def convert_boolean(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    del options
    if category == "bool":
        return Conversion(values.astype("boolean"), np.zeros(len(values), dtype=bool))
    if category in ("int", "float"):
        numbers = values.astype("Float64")
        known = numbers.isin([0, 1]).to_numpy(dtype=bool, na_value=False)
        result = (numbers == 1).astype("boolean").mask(~known)
        return Conversion(result, values.notna().to_numpy() & ~known)
    if category != "text":
        return fail_all(values, dtype)
    array = text_array(values)
    is_true = pc.is_in(array, value_set=_TRUE_SPELLINGS)
    known = pc.or_(is_true, pc.is_in(array, value_set=_FALSE_SPELLINGS))
    if pc.sum(known).as_py() != len(array) - array.null_count:
        cleaned, _ = clean_text(array)
        lowered = pc.utf8_lower(cleaned)
        is_true = pc.is_in(lowered, value_set=_TRUE_TEXT)
        known = pc.or_(is_true, pc.is_in(lowered, value_set=_FALSE_TEXT))
        array = cleaned
    result = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    failed = valid_mask(array) & ~known.to_numpy(zero_copy_only=False)
    return Conversion(from_arrow(result, pd.BooleanDtype()), failed)


# Integers ---------------------------------------------------------------------


def convert_integer(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    del options
    target = _ARROW_INTEGERS[dtype.kind]
    if category == "text":
        numbers, failed = _text_to_int64(text_array(values))
    elif category in ("int", "bool"):
        numbers, failed = _ints_to_int64(values)
    elif category == "float":
        numbers, failed = _floats_to_int64(values)
    else:
        return fail_all(values, dtype)
    if target != pa.int64():
        info = np.iinfo(target.to_pandas_dtype())
        in_range = pc.and_(
            pc.greater_equal(numbers, int(info.min)),
            pc.less_equal(numbers, int(info.max)),
        )
        out_of_range = pc.fill_null(pc.invert(in_range), False)
        failed |= out_of_range.to_numpy(zero_copy_only=False)
        numbers = pc.if_else(out_of_range, pa.scalar(None, pa.int64()), numbers)
    result = from_arrow(numbers.cast(target), _PANDAS_INTEGERS[dtype.kind])
    return Conversion(result, failed)


def _text_to_int64(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    try:
        return pc.cast(array, pa.int64()), np.zeros(len(array), dtype=bool)
    except pa.ArrowInvalid:
        pass
    cleaned, _ = clean_text(array)
    unsigned = pc.replace_substring_regex(cleaned, r"^\+", "")
    try:
        numbers = _cast_matching(unsigned, _INTEGER_TEXT, pa.int64())
    except pa.ArrowInvalid:
        # Only digit strings beyond the int64 range get here: drop those first.
        fits = [text is None or -(2**63) <= int(text) < 2**63 for text in unsigned.to_pylist()]
        unsigned = pc.if_else(pa.array(fits), unsigned, pa.scalar(None, unsigned.type))
        numbers = _cast_matching(unsigned, _INTEGER_TEXT, pa.int64())
    failed = valid_mask(cleaned) & ~valid_mask(numbers)
    return numbers, failed


def _ints_to_int64(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    array = pa.array(values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_uint64(array.type):
        fits = pc.less_equal(array, pa.scalar(2**63 - 1, pa.uint64()))
        array = pc.if_else(fits, array, pa.scalar(None, array.type))
    numbers = pc.cast(array, pa.int64())
    failed = values.notna().to_numpy() & ~valid_mask(numbers)
    return numbers, failed


def _floats_to_int64(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
    present = values.notna().to_numpy()
    with np.errstate(invalid="ignore"):
        integral = present & np.isfinite(floats) & (np.floor(floats) == floats)
        integral &= (floats >= -(2.0**63)) & (floats < 2.0**63)
    numbers = pa.array(np.where(integral, floats, 0).astype(np.int64), mask=~integral)
    return numbers, present & ~integral


# FLOAT, DOUBLE, DECIMAL -------------------------------------------------------


def convert_float(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    del options
    if category in ("int", "float", "bool"):
        floats = values.astype("Float64")
        failed = np.zeros(len(values), dtype=bool)
        return Conversion(astype(floats, dtype), failed)
    if category != "text":
        return fail_all(values, dtype)
    array = text_array(values)
    try:
        numbers = pc.cast(array, pa.float64())
        failed = np.zeros(len(array), dtype=bool)
    except pa.ArrowInvalid:
        cleaned, _ = clean_text(array)
        numbers = _cast_matching(cleaned, _FLOAT_TEXT, pa.float64())
        failed = valid_mask(cleaned) & ~valid_mask(numbers)
    result = from_arrow(numbers, pd.Float64Dtype())
    return Conversion(astype(result, dtype), failed)


# VARCHAR ----------------------------------------------------------------------


def convert_string(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    del options
    no_failures = np.zeros(len(values), dtype=bool)
    string_dtype = pd.StringDtype("pyarrow")
    if category in ("text", "null"):
        return Conversion(values.astype(string_dtype), no_failures)
    if category in ("int", "float", "bool"):
        array = pa.array(values, from_pandas=True)
        text = pc.cast(array, pa.large_string())
        return Conversion(from_arrow(text, string_dtype), no_failures)
    if category in ("datetime", "datetime_tz", "timedelta"):
        return Conversion(values.astype(string_dtype).where(values.notna()), no_failures)
    formatter = _STRING_FORMATTERS.get(category)
    if formatter is None:
        return fail_all(values, dtype)
    texts: list[str | None] = []
    failed = np.zeros(len(values), dtype=bool)
    for position, value in enumerate(values.to_numpy(dtype=object)):
        try:
            texts.append(None if value is None else formatter(value))
        except (UnicodeDecodeError, TypeError):
            texts.append(None)
            failed[position] = True
    return Conversion(pd.Series(texts, dtype=string_dtype), failed)


def _nested_text(value: object) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return orjson.dumps(value, default=str).decode()


def _bytes_text(value: object) -> str:
    assert isinstance(value, (bytes, bytearray, memoryview))
    return bytes(value).decode("utf-8")


_STRING_FORMATTERS: dict[str, Callable[[object], str]] = {
    "nested": _nested_text,
    "bytes": _bytes_text,
    "date": lambda value: value.isoformat(),  # type: ignore[attr-defined]
    "time": lambda value: value.isoformat(),  # type: ignore[attr-defined]
}


# BINARY -----------------------------------------------------------------------


def convert_binary(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    """Convert to bytes: bytes stay as they are and text is decoded as base64.

    Base64 is how Flink's JSON format writes BINARY and BYTES. The decoding runs
    per value in Python because pyarrow has no base64 kernel.
    """
    del options
    if category not in ("bytes", "text"):
        return fail_all(values, dtype)
    decoded: list[bytes | None] = []
    failed = np.zeros(len(values), dtype=bool)
    for position, value in enumerate(values.to_numpy(dtype=object)):
        if value is None or value is pd.NA:
            decoded.append(None)
        elif isinstance(value, str):
            try:
                decoded.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                decoded.append(None)
                failed[position] = True
        else:
            decoded.append(bytes(value))
    return Conversion(pd.Series(decoded, dtype=object), failed)
