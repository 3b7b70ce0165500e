"""Arrow types of workbench schemas, and result frames as Arrow tables.

Used by the Parquet and DuckDB sinks. Timestamps keep the unit their
precision needs (ms for TIMESTAMP(3)). DECIMAL values, held as floats, are
rounded to the declared scale.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events.schema import Schema
from workbench.events.types import DataType, TypeKind

_SCALARS: dict[TypeKind, pa.DataType] = {
    TypeKind.NULL: pa.null(),
    TypeKind.BOOLEAN: pa.bool_(),
    TypeKind.TINYINT: pa.int8(),
    TypeKind.SMALLINT: pa.int16(),
    TypeKind.INT: pa.int32(),
    TypeKind.BIGINT: pa.int64(),
    TypeKind.FLOAT: pa.float32(),
    TypeKind.DOUBLE: pa.float64(),
    TypeKind.VARCHAR: pa.string(),
    TypeKind.BINARY: pa.binary(),
    TypeKind.DATE: pa.date32(),
    TypeKind.INTERVAL: pa.duration("ns"),
}


def _time_unit(dtype: DataType, default: int) -> str:
    digits = default if dtype.precision is None else dtype.precision
    if digits <= 0:
        return "s"
    if digits <= 3:
        return "ms"
    return "us" if digits <= 6 else "ns"


def arrow_type(dtype: DataType) -> pa.DataType:
    """Return the Arrow type that stores values of ``dtype``."""
    kind = dtype.kind
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind is TypeKind.DECIMAL:
        return pa.decimal128(dtype.precision or 10, dtype.scale or 0)
    if kind is TypeKind.TIMESTAMP:
        return pa.timestamp(_time_unit(dtype, 3))
    if kind is TypeKind.TIMESTAMP_LTZ:
        return pa.timestamp(_time_unit(dtype, 3), tz="UTC")
    if kind is TypeKind.TIME:
        unit = _time_unit(dtype, 0)
        return pa.time32(unit) if unit in ("s", "ms") else pa.time64(unit)
    if kind is TypeKind.ROW:
        return pa.struct([pa.field(f.name, arrow_type(f.type)) for f in dtype.fields])
    if kind is TypeKind.ARRAY:
        assert dtype.element is not None
        return pa.list_(arrow_type(dtype.element))
    assert kind is TypeKind.MAP
    assert dtype.key is not None
    assert dtype.value is not None
    return pa.map_(arrow_type(dtype.key), arrow_type(dtype.value))


def arrow_schema(schema: Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, arrow_type(c.type), nullable=c.type.nullable) for c in schema]
    )


def arrow_column(values: pd.Series, dtype: DataType) -> pa.Array:
    """Return a column of a conformed frame as an Arrow array of :func:`arrow_type`."""
    target = arrow_type(dtype)
    kind = dtype.kind
    if dtype.is_nested:
        objects = values.astype(object).where(values.notna(), None).tolist()
        return pa.array([_nested(value, dtype) for value in objects], type=target)
    if kind in (TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ, TypeKind.DATE):
        array = pa.array(values, from_pandas=True)
        if kind is TypeKind.DATE and pa.types.is_timestamp(array.type) and array.type.tz:
            array = array.cast(pa.timestamp(array.type.unit))
        return array.cast(target, safe=False)
    if kind is TypeKind.TIME:
        ticks = values.astype("timedelta64[ns]").to_numpy().view(np.int64)
        mask = values.isna().to_numpy()
        nanoseconds = pa.array(ticks, mask=mask).cast(pa.time64("ns"))
        return nanoseconds.cast(target, safe=False)
    if kind is TypeKind.DECIMAL:
        return _decimal_column(values, dtype)
    if kind is TypeKind.NULL:
        return pa.nulls(len(values))
    return pa.array(values, from_pandas=True).cast(target)


def _decimal_column(values: pd.Series, dtype: DataType) -> pa.Array:
    """Round floats half away from zero to the scale, as decimal text shows them.

    The floats pass through a wider decimal first, because rounding the float
    itself turns 12.345 (stored as 12.3449999...) into 12.34.
    """
    precision, scale = dtype.precision or 10, dtype.scale or 0
    floats = pa.array(values.astype("Float64"), from_pandas=True)
    limit = 10.0 ** (precision - scale)
    too_large = pc.fill_null(pc.greater_equal(pc.abs(floats), limit), False)
    if pc.any(too_large).as_py():
        value = pc.filter(floats, too_large)[0].as_py()
        message = f"value {value!r} does not fit DECIMAL({precision}, {scale})"
        raise ValueError(message)
    wide_scale = max(scale, min(9, 38 - (precision - scale)))
    wide = floats.cast(pa.decimal128(38, wide_scale), safe=False)
    rounded = pc.round(wide, scale, round_mode="half_towards_infinity")
    return rounded.cast(pa.decimal128(precision, scale))


def arrow_table(frame: pd.DataFrame, schema: Schema) -> pa.Table:
    """Return a frame with the schema's columns as an Arrow table of :func:`arrow_schema`."""
    arrays = [arrow_column(frame[c.name], c.type) for c in schema]
    return pa.Table.from_arrays(arrays, schema=arrow_schema(schema))


def _nested(value: Any, dtype: DataType) -> Any:
    """Return a nested value in the Python form pyarrow builds ``arrow_type`` from."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    kind = dtype.kind
    if kind is TypeKind.ROW:
        return {f.name: _nested(value.get(f.name), f.type) for f in dtype.fields}
    if kind is TypeKind.ARRAY:
        assert dtype.element is not None
        return [_nested(item, dtype.element) for item in value]
    if kind is TypeKind.MAP:
        assert dtype.key is not None and dtype.value is not None
        items = value.items() if isinstance(value, dict) else value
        return [(_nested(k, dtype.key), _nested(v, dtype.value)) for k, v in items]
    if kind is TypeKind.TIME and isinstance(value, (pd.Timedelta, dt.timedelta)):
        return (dt.datetime.min + pd.Timedelta(value).to_pytimedelta()).time()
    if kind is TypeKind.DATE and isinstance(value, dt.datetime):
        return value.date()
    if kind is TypeKind.DECIMAL and isinstance(value, float):
        step = decimal.Decimal(1).scaleb(-(dtype.scale or 0))
        return decimal.Decimal(repr(value)).quantize(step, rounding=decimal.ROUND_HALF_UP)
    return value
