"""Values as text or JSON-ready Python objects, for the text and database sinks.

Timestamps are written as 'YYYY-MM-DD HH:MM:SS' with as many fractional
digits as the type's precision (3 for TIMESTAMP(3)), and TIMESTAMP_LTZ
values in UTC with a 'Z' suffix. This is the 'SQL' timestamp format of
Flink's JSON format. Formatting runs over whole columns with pyarrow's
``strftime``.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.events.types import DataType, TypeKind

_UNIT_FOR_DIGITS = {0: "s", 3: "ms", 6: "us", 9: "ns"}


def _digits(dtype: DataType) -> int:
    return 3 if dtype.precision is None else max(0, min(dtype.precision, 9))


def timestamp_text(
    values: pd.Series, dtype: DataType, *, pattern: str = "%Y-%m-%d %H:%M:%S"
) -> pa.Array:
    """Return timestamps as SQL text with the type's fractional digits.

    ``pattern`` must end in '%S', which pyarrow writes with the fraction.
    """
    digits = _digits(dtype)
    unit_digits = min(d for d in _UNIT_FOR_DIGITS if d >= digits)
    naive = values
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        naive = values.dt.tz_convert("UTC").dt.tz_localize(None)
    array = pa.array(naive.astype("datetime64[ns]"), type=pa.timestamp("ns"))
    array = array.cast(pa.timestamp(_UNIT_FOR_DIGITS[unit_digits]), safe=False)
    text = pc.strftime(array, format=pattern)
    if unit_digits != digits:
        # Drop the digits below the precision.
        text = pc.utf8_slice_codeunits(text, start=0, stop=digits - unit_digits)
    if dtype.kind is TypeKind.TIMESTAMP_LTZ:
        text = pc.binary_join_element_wise(text, "Z", "")
    return text


def date_text(values: pd.Series) -> pa.Array:
    array = pa.array(values.astype("datetime64[ns]"), type=pa.timestamp("ns"))
    return pc.strftime(array.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%d")


def time_text(values: pd.Series, dtype: DataType) -> pa.Array:
    """Return times of day as 'HH:MM:SS' with the type's fractional digits (0 by default)."""
    digits = 0 if dtype.precision is None else max(0, min(dtype.precision, 9))
    as_timestamps = pd.Series(pd.Timestamp(0) + values.astype("timedelta64[ns]"))
    as_type = DataType(TypeKind.TIMESTAMP, precision=digits)
    return timestamp_text(as_timestamps, as_type, pattern="%H:%M:%S")


def interval_text(values: pd.Series) -> pa.Array:
    text = values.astype("timedelta64[ns]").astype(object).map(str, na_action="ignore")
    return pa.array(text, type=pa.string(), from_pandas=True)


def nested_default(value: object) -> object:
    """Return a JSON-ready form of values that orjson does not serialize itself."""
    if isinstance(value, pd.Timestamp):
        whole_ms = value.microsecond % 1000 == 0 and value.nanosecond == 0
        return value.isoformat(sep=" ", timespec="milliseconds" if whole_ms else "auto")
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is pd.NA or value is pd.NaT:
        return None
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_text(value: object) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=nested_default, option=orjson.OPT_NON_STR_KEYS).decode()


def text_column(values: pd.Series, dtype: DataType) -> pa.Array:
    """Return a column as text, or as booleans and numbers where text formats write those."""
    kind = dtype.kind
    if kind in (TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ):
        return timestamp_text(values, dtype)
    if kind is TypeKind.DATE:
        return date_text(values)
    if kind is TypeKind.TIME:
        return time_text(values, dtype)
    if kind is TypeKind.INTERVAL:
        return interval_text(values)
    if dtype.is_nested:
        objects = values.astype(object).where(values.notna(), None).tolist()
        return pa.array([json_text(value) for value in objects], type=pa.string())
    if kind is TypeKind.BINARY:
        objects = values.astype(object).where(values.notna(), None).tolist()
        encoded = [None if v is None else base64.b64encode(v).decode("ascii") for v in objects]
        return pa.array(encoded, type=pa.string())
    return pa.array(values, from_pandas=True)


def python_column(values: pd.Series, dtype: DataType, *, nested_as_text: bool) -> list[Any]:
    """Return a column as Python values with None for null.

    Timestamps, dates and times become text as :func:`text_column` writes them.
    Nested values stay as dicts and lists unless ``nested_as_text``.
    """
    kind = dtype.kind
    if kind in (TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ, TypeKind.DATE, TypeKind.TIME):
        return text_column(values, dtype).to_pylist()
    if kind is TypeKind.INTERVAL or (dtype.is_nested and nested_as_text):
        return text_column(values, dtype).to_pylist()
    objects = values.astype(object).where(values.notna(), None)
    if kind in (TypeKind.FLOAT, TypeKind.DOUBLE, TypeKind.DECIMAL):
        return [None if v is None or np.isnan(v) else float(v) for v in objects.tolist()]
    return objects.tolist()


def select_columns(frame: pd.DataFrame, schema: Schema, sink: str) -> pd.DataFrame:
    """Return the schema's columns of ``frame`` in schema order, matched like conform does."""
    names = list(frame.columns)
    if names == schema.names:
        return frame
    lowered: dict[str, list[object]] = {}
    for name in names:
        lowered.setdefault(str(name).lower(), []).append(name)
    picked: dict[str, object] = {}
    missing: list[str] = []
    for column in schema:
        if column.name in names:
            picked[column.name] = column.name
        elif len(lowered.get(column.name.lower(), [])) == 1:
            picked[column.name] = lowered[column.name.lower()][0]
        else:
            missing.append(column.name)
    if missing:
        message = (
            f"sink '{sink}': the rows lack the columns {', '.join(missing)}; "
            f"they have {', '.join(map(str, names))}"
        )
        raise SinkError(message)
    selected = frame[[picked[column.name] for column in schema]]
    selected.columns = pd.Index(schema.names)
    return selected
