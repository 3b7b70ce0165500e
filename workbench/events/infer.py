"""Inferring SQL types from the dtypes of a user's pandas DataFrame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.events import types as t
from workbench.events.types import DataType

_SAMPLE = 1000


def schema_from_frame(frame: pd.DataFrame) -> dict[str, DataType]:
    """Return a SQL type per column, in column order."""
    return {str(name): infer_type(frame[name]) for name in frame.columns}


def infer_type(series: pd.Series) -> DataType:
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return t.timestamp_ltz(_precision(dtype.unit))
    if pd.api.types.is_datetime64_dtype(dtype):
        return t.timestamp(_precision(str(dtype).removeprefix("datetime64[").rstrip("]")))
    if pd.api.types.is_timedelta64_dtype(dtype):
        return t.INTERVAL
    if pd.api.types.is_bool_dtype(dtype):
        return t.BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return _integer(dtype)
    if pd.api.types.is_float_dtype(dtype):
        return t.FLOAT if str(dtype).lower() == "float32" else t.DOUBLE
    if isinstance(dtype, pd.StringDtype) or (
        pd.api.types.is_string_dtype(dtype) and not _has_objects(series)
    ):
        return t.STRING
    return _from_values(series)


def _precision(unit: str) -> int:
    return {"s": 0, "ms": 3, "us": 6, "ns": 9}.get(unit, 9)


def _integer(dtype: Any) -> DataType:
    size = (
        np.dtype(str(dtype).lower()).itemsize
        if str(dtype).lower().startswith(("int", "uint"))
        else 8
    )
    return {1: t.TINYINT, 2: t.SMALLINT, 4: t.INT}.get(size, t.BIGINT)


def _has_objects(series: pd.Series) -> bool:
    sample = series.dropna().head(_SAMPLE)
    return any(not isinstance(value, str) for value in sample)


def _from_values(series: pd.Series) -> DataType:
    """Type an object column from its first non-null values."""
    sample = series.dropna().head(_SAMPLE).tolist()
    if not sample:
        return t.STRING
    first = sample[0]
    if all(isinstance(v, bool) for v in sample):
        return t.BOOLEAN
    if all(isinstance(v, int) and not isinstance(v, bool) for v in sample):
        return t.BIGINT
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sample):
        return t.DOUBLE
    if all(isinstance(v, str) for v in sample):
        return t.STRING
    if all(isinstance(v, pd.Timestamp) for v in sample):
        return t.timestamp(9)
    if all(isinstance(v, bytes) for v in sample):
        return t.BINARY
    if isinstance(first, dict):
        return _row_type(sample)
    if isinstance(first, (list, tuple)):
        elements = [item for value in sample if isinstance(value, (list, tuple)) for item in value]
        element = _from_values(pd.Series(elements, dtype=object)) if elements else t.STRING
        return t.array(element)
    return t.STRING


def _row_type(sample: list[Any]) -> DataType:
    keys: dict[str, list[Any]] = {}
    for value in sample:
        if isinstance(value, dict):
            for key, item in value.items():
                keys.setdefault(str(key), []).append(item)
    fields = [(key, _from_values(pd.Series(values, dtype=object))) for key, values in keys.items()]
    return t.row(fields)
