"""CAST between ARRAY, MAP and ROW types.

All elements of a batch are gathered into one column per element type, cast
with the scalar rules at once, and put back into lists and dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.base import Invocation, objects_to_series, to_objects

CastColumn = Callable[[Invocation, pd.Series, DataType, DataType], pd.Series]


def _cast_items(
    invocation: Invocation,
    items: list[Any],
    source: DataType,
    target: DataType,
    cast_column: CastColumn,
) -> list[Any]:
    if not items:
        return []
    index = pd.RangeIndex(len(items))
    column = objects_to_series(items, source, index)
    converted = cast_column(invocation, column, source, target)
    return to_objects(converted, len(items))


def field_value(value: Any, name: str, position: int) -> Any:
    """Return a ROW field from a dict (by name) or a tuple/list (by position)."""
    if isinstance(value, dict):
        return value.get(name)
    if isinstance(value, (tuple, list)):
        return value[position] if position < len(value) else None
    return None


def cast_nested(
    invocation: Invocation,
    series: pd.Series,
    source: DataType,
    target: DataType,
    cast_column: CastColumn,
) -> pd.Series:
    rows = to_objects(series, len(series))
    if target.kind is TypeKind.ARRAY:
        assert source.element is not None and target.element is not None
        lengths = [len(row) if row is not None else 0 for row in rows]
        flat = [item for row in rows if row is not None for item in list(row)]
        cast = _cast_items(invocation, flat, source.element, target.element, cast_column)
        result: list[Any] = []
        offset = 0
        for row, length in zip(rows, lengths, strict=True):
            result.append(None if row is None else cast[offset : offset + length])
            offset += length
    elif target.kind is TypeKind.MAP:
        assert source.key is not None and source.value is not None
        assert target.key is not None and target.value is not None
        keys = [key for row in rows if row is not None for key in row]
        values = [row[key] for row in rows if row is not None for key in row]
        cast_keys = _cast_items(invocation, keys, source.key, target.key, cast_column)
        cast_values = _cast_items(invocation, values, source.value, target.value, cast_column)
        result = []
        offset = 0
        for row in rows:
            if row is None:
                result.append(None)
                continue
            size = len(row)
            result.append(
                dict(
                    zip(
                        cast_keys[offset : offset + size],
                        cast_values[offset : offset + size],
                        strict=True,
                    )
                )
            )
            offset += size
    else:
        columns = []
        for position, (old, new) in enumerate(zip(source.fields, target.fields, strict=True)):
            values = [None if row is None else field_value(row, old.name, position) for row in rows]
            columns.append(
                (new.name, _cast_items(invocation, values, old.type, new.type, cast_column))
            )
        result = [
            None if row is None else {name: values[number] for name, values in columns}
            for number, row in enumerate(rows)
        ]
    items = np.empty(len(result), dtype=object)
    items[:] = result
    return pd.Series(items, index=series.index, dtype=object)
