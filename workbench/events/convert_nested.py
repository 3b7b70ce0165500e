"""Converters to ROW, ARRAY and MAP, stored as Python dict, list and dict objects.

A nested value arrives as a Python object (from JSON or Parquet) or as JSON
text (from CSV). The values of one field, of all array elements or of all map
keys are gathered into one column. That column goes through the same
converters as top-level columns, so a nested TIMESTAMP follows the same rules
as a top-level one. A field that fails rejects its whole row.

Null values inside nested values are ``None``. Other values are the Python
scalars of their column dtype (``int``, ``float``, ``str``, ``pd.Timestamp``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import orjson
import pandas as pd

from workbench.events.convert import (
    Category,
    ConformOptions,
    Conversion,
    Failure,
    default_failure,
    null_series,
    paused_gc,
    value_text,
)
from workbench.events.types import DataType, TypeKind

ConvertColumn = Callable[[pd.Series, DataType, ConformOptions], Conversion]


def to_python(values: pd.Series) -> list[object]:
    """Return a column as a list of Python values with None for null."""
    objects = values.astype(object)
    return objects.where(values.notna(), None).tolist()


def _decode(values: pd.Series, expected: tuple[type, ...]) -> tuple[list[Any], np.ndarray]:
    """Return the nested objects of a column, parsing JSON text, and the failed rows."""
    items = values.to_numpy(dtype=object).tolist()
    failed = np.zeros(len(items), dtype=bool)
    if set(map(type, items)) <= {*expected, type(None)}:
        return items, failed
    objects: list[Any] = []
    for position, value in enumerate(items):
        item = value
        if isinstance(item, str):
            if not item.strip():
                objects.append(None)
                continue
            try:
                item = orjson.loads(item)
            except orjson.JSONDecodeError:
                item = _INVALID
        elif isinstance(item, np.ndarray):
            item = item.tolist()
        if item is None or item is pd.NA or (isinstance(item, float) and np.isnan(item)):
            objects.append(None)
        elif isinstance(item, expected):
            objects.append(item)
        else:
            objects.append(None)
            failed[position] = True
    return objects, failed


_INVALID = object()


def _field_failures(
    conversion: Conversion,
    inputs: pd.Series,
    dtype: DataType,
    paths: Callable[[int], str],
) -> dict[int, Failure]:
    """Return a failure per failed inner value, keyed by the inner position."""
    failures: dict[int, Failure] = {}
    for index in np.flatnonzero(conversion.failed).tolist():
        inner = conversion.failures.get(index) or default_failure(dtype, inputs.iloc[index])
        failures[index] = Failure(inner.message, paths(index) + inner.path)
    if not dtype.nullable:
        nulls = conversion.values.isna().to_numpy() & ~conversion.failed
        for index in np.flatnonzero(nulls).tolist():
            failures[index] = Failure(
                f"NULL in a NOT NULL field of type {dtype.sql()}", paths(index)
            )
    return failures


def _rows_failed(
    failures: dict[int, Failure],
    owners: np.ndarray,
    failed: np.ndarray,
    found: dict[int, Failure],
) -> None:
    """Mark the rows that own failed inner values and keep the first failure per row."""
    for index in sorted(failures):
        row = int(owners[index])
        failed[row] = True
        found.setdefault(row, failures[index])


@paused_gc()
def convert_row(
    values: pd.Series,
    category: Category | None,
    dtype: DataType,
    options: ConformOptions,
    convert: ConvertColumn,
) -> Conversion:
    del category
    objects, failed = _decode(values, (dict,))
    rows = np.array([i for i, item in enumerate(objects) if item is not None], dtype=np.int64)
    dicts: list[dict[str, Any]] = [objects[i] for i in rows.tolist()]
    keys: set[str] = set().union(*dicts)
    failures: dict[int, Failure] = {}
    columns: list[list[object]] = []
    for item in dtype.fields:
        inputs = pd.Series(field_values(dicts, item.name, keys), dtype=object)
        conversion = convert(inputs, item.type, options)
        found = _field_failures(conversion, inputs, item.type, _fixed_path(item.name))
        _rows_failed(found, rows, failed, failures)
        columns.append(to_python(conversion.values))
    result = null_series(dtype, len(values))
    names = [item.name for item in dtype.fields]
    built = [dict(zip(names, fields, strict=True)) for fields in zip(*columns, strict=True)]
    if not dtype.fields:
        built = [{} for _ in dicts]
    _place(result, rows, built, failed)
    return Conversion(result, failed, failures)


def _fixed_path(name: str) -> Callable[[int], str]:
    def path(index: int) -> str:
        del index
        return f".{name}"

    return path


def field_values(entries: list[dict[str, Any]], name: str, keys: set[str]) -> list[object]:
    """Return each dict's value for ``name``, None where it is missing.

    The exact key wins. A dict without it gives the value of the first key
    that equals ``name`` in another case. ``keys`` is the union of all keys.
    """
    lowered = name.lower()
    variants = [key for key in keys if key != name and str(key).lower() == lowered]
    if not variants:
        return [entry.get(name) for entry in entries]
    return [_pick(entry, name, variants) for entry in entries]


def _pick(entry: dict[str, Any], name: str, variants: list[str]) -> object:
    if name in entry:
        return entry[name]
    for key in variants:
        if key in entry:
            return entry[key]
    return None


def _place(
    result: pd.Series, rows: np.ndarray, built: Sequence[object], failed: np.ndarray
) -> None:
    keep = ~failed[rows]
    holder = pd.Series(list(built), dtype=object).to_numpy()
    result.iloc[rows[keep]] = holder[keep]


@paused_gc()
def convert_array(
    values: pd.Series,
    category: Category | None,
    dtype: DataType,
    options: ConformOptions,
    convert: ConvertColumn,
) -> Conversion:
    del category
    assert dtype.element is not None
    objects, failed = _decode(values, (list, tuple))
    rows = np.array([i for i, item in enumerate(objects) if item is not None], dtype=np.int64)
    lists: list[Any] = [objects[i] for i in rows.tolist()]
    lengths = np.array([len(items) for items in lists], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    owners = np.repeat(rows, lengths)
    inputs = pd.Series([element for items in lists for element in items], dtype=object)
    conversion = convert(inputs, dtype.element, options)
    element_rows = np.repeat(np.arange(len(rows)), lengths)

    def path(index: int) -> str:
        return f"[{index - starts[element_rows[index]] + 1}]"

    failures: dict[int, Failure] = {}
    found = _field_failures(conversion, inputs, dtype.element, path)
    _rows_failed(found, owners, failed, failures)
    flat = to_python(conversion.values)
    built = [flat[starts[k] : starts[k + 1]] for k in range(len(rows))]
    result = null_series(dtype, len(values))
    _place(result, rows, built, failed)
    return Conversion(result, failed, failures)


@paused_gc()
def convert_map(
    values: pd.Series,
    category: Category | None,
    dtype: DataType,
    options: ConformOptions,
    convert: ConvertColumn,
) -> Conversion:
    """Convert to MAP from dicts, JSON objects or lists of key-value pairs (Parquet)."""
    del category
    assert dtype.key is not None
    assert dtype.value is not None
    key_type = dtype.key.with_nullable(False)
    objects, failed = _decode(values, (dict, list, tuple))

    pairs_per_row: list[list[tuple[object, object]]] = []
    rows_list: list[int] = []
    for position, item in enumerate(objects):
        pairs = None if item is None else _pairs(item)
        if pairs is not None:
            rows_list.append(position)
            pairs_per_row.append(pairs)
        elif item is not None:
            failed[position] = True
    rows = np.array(rows_list, dtype=np.int64)
    lengths = np.array([len(pairs) for pairs in pairs_per_row], dtype=np.int64)
    keys = pd.Series([key for pairs in pairs_per_row for key, _ in pairs], dtype=object)
    items = pd.Series([value for pairs in pairs_per_row for _, value in pairs], dtype=object)

    def path(index: int) -> str:
        return f"[{value_text(keys.iloc[index])}]"

    failures: dict[int, Failure] = {}
    key_conversion = convert(keys, key_type, options)
    value_conversion = convert(items, dtype.value, options)
    owners = np.repeat(rows, lengths)
    for conversion, inputs, inner_type in (
        (key_conversion, keys, key_type),
        (value_conversion, items, dtype.value),
    ):
        found = _field_failures(conversion, inputs, inner_type, path)
        _rows_failed(found, owners, failed, failures)

    flat_keys = to_python(key_conversion.values)
    flat_values = to_python(value_conversion.values)
    starts = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    built = [
        dict(zip(flat_keys[start:stop], flat_values[start:stop], strict=True))
        for start, stop in pairwise(starts)
    ]
    result = null_series(dtype, len(values))
    _place(result, rows, built, failed)
    return Conversion(result, failed, failures)


def _pairs(item: Any) -> list[tuple[object, object]] | None:
    if isinstance(item, dict):
        return list(item.items())
    pairs: list[tuple[object, object]] = []
    for entry in item:
        if isinstance(entry, (list, tuple)) and len(entry) == 2:
            pairs.append((entry[0], entry[1]))
        elif isinstance(entry, dict) and set(entry) == {"key", "value"}:
            pairs.append((entry["key"], entry["value"]))
        else:
            return None
    return pairs


NESTED_CONVERTERS = {
    TypeKind.ROW: convert_row,
    TypeKind.ARRAY: convert_array,
    TypeKind.MAP: convert_map,
}
