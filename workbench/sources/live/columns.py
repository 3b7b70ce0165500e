"""Typed columns straight from parsed JSON values, when the values already have the right types.

Live micro-batches are small, and the general conversion of
:func:`~workbench.events.conform.conform` costs about a millisecond per
object column whatever the batch size. Most feeds send each field with one
JSON type (integers for BIGINT, text for STRING, epoch numbers for event
time), so :func:`typed_column` builds the column's pandas array directly in
that case. Any other mix of types returns None, and the column goes through
the general conversion with its checks and rejected rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.events.conform import ConformOptions
from workbench.events.types import DataType, TypeKind

_EPOCH_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_INTEGER_RANGES = {
    TypeKind.TINYINT: (np.int8, -(2**7), 2**7 - 1),
    TypeKind.SMALLINT: (np.int16, -(2**15), 2**15 - 1),
    TypeKind.INT: (np.int32, -(2**31), 2**31 - 1),
    TypeKind.BIGINT: (np.int64, -(2**63), 2**63 - 1),
}
#: Epoch values beyond this many nanoseconds do not fit datetime64[ns] (year 2262).
_MAX_EPOCH_NS = 9_000_000_000_000_000_000


def typed_column(values: list[Any], dtype: DataType, options: ConformOptions) -> Any | None:
    """Return ``values`` as the pandas array of ``dtype``, or None when they need converting.

    Only values that all have the JSON type the column takes (and no nulls)
    are taken here: integers for integer columns, numbers for FLOAT and
    DOUBLE, text for STRING, booleans for BOOLEAN and whole epoch numbers
    for TIMESTAMP.
    """
    if not values:
        return None
    types = set(map(type, values))
    kind = dtype.kind
    if kind in _INTEGER_RANGES:
        return _integers(values, types, kind)
    if kind in (TypeKind.FLOAT, TypeKind.DOUBLE):
        if not types <= {int, float}:
            return None
        return _pandas_array(np.asarray(values, dtype=np.float64), dtype)
    if kind is TypeKind.VARCHAR:
        return _pandas_array(values, dtype) if types == {str} else None
    if kind is TypeKind.BOOLEAN:
        return _pandas_array(values, dtype) if types == {bool} else None
    if kind is TypeKind.TIMESTAMP and types == {int}:
        return _timestamps(values, dtype, options)
    return None


def _pandas_array(values: Any, dtype: DataType) -> Any:
    return pd.array(values, dtype=dtype.pandas_dtype())


def _integers(values: list[Any], types: set[type], kind: TypeKind) -> Any | None:
    if types != {int}:
        return None
    numpy_type, lowest, highest = _INTEGER_RANGES[kind]
    if min(values) < lowest or max(values) > highest:
        return None
    array = np.asarray(values, dtype=numpy_type)
    return pd.arrays.IntegerArray(array, np.zeros(len(array), dtype=bool))


def _timestamps(values: list[Any], dtype: DataType, options: ConformOptions) -> Any | None:
    unit = _EPOCH_NS[options.epoch_unit]
    limit = _MAX_EPOCH_NS // unit
    if min(values) < -limit or max(values) > limit:
        return None
    ns = np.asarray(values, dtype=np.int64) * unit
    precision = dtype.precision_ns
    if precision > 1:
        ns -= np.mod(ns, precision)
    return ns.view("datetime64[ns]")
