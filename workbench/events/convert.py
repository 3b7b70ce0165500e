"""Column conversion: values of any pandas dtype to the pandas dtype of a SQL type.

:func:`workbench.events.conform.convert_column` converts a whole column at once. It first sorts
the input into a *category* (text, integers, floats, datetimes, nested Python
objects ...), then calls the converter of the target type. A column of Python
objects with mixed types (JSON with ``5`` and ``"abc"`` in one field) is split
into one group per category and each group is converted on its own.

A converter reports the rows whose non-null input could not be converted in
``Conversion.failed``. Nested types add a :class:`Failure` that names the field
path and the inner value. Every other failed row gets its message from
:func:`default_failure`.
"""

from __future__ import annotations

import datetime as dt
import gc
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.events.types import DataType

Category = Literal[
    "null",
    "text",
    "bool",
    "int",
    "float",
    "datetime",
    "datetime_tz",
    "timedelta",
    "date",
    "time",
    "bytes",
    "nested",
    "invalid",
]

EPOCH_UNITS = ("s", "ms", "us", "ns")

_MAX_VALUE_TEXT = 80


@dataclass(frozen=True)
class ConformOptions:
    """Assumptions for values whose format does not say everything.

    ``time_zone`` is the IANA zone of TIMESTAMP_LTZ text without a zone offset.
    ``epoch_unit`` is the unit of numbers given for a timestamp column; the
    default 'ms' is the unit of Flink's TO_TIMESTAMP_LTZ. ``timestamp_format``
    is a strftime pattern for timestamp text that is not ISO 8601.
    """

    time_zone: str = "UTC"
    epoch_unit: str = "ms"
    timestamp_format: str | None = None

    def __post_init__(self) -> None:
        if self.epoch_unit not in EPOCH_UNITS:
            units = ", ".join(EPOCH_UNITS)
            message = f"invalid epoch unit {self.epoch_unit!r}: use one of {units}"
            raise ValueError(message)
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            message = (
                f"unknown time zone {self.time_zone!r}: use an IANA name such as "
                "'UTC' or 'Europe/Berlin'"
            )
            raise ValueError(message) from exc


@dataclass(frozen=True)
class Failure:
    """Why one value failed: a message and, inside nested values, the field path.

    ``path`` is appended to the column name: ``.user.age``, ``[2]`` (1-based
    array index, as in SQL) or ``['key']`` for a map entry.
    """

    message: str
    path: str = ""


@dataclass
class Conversion:
    """The converted column, the rows that failed and explicit failure messages."""

    values: pd.Series
    failed: np.ndarray
    failures: dict[int, Failure] = field(default_factory=dict)


Converter = Callable[[pd.Series, Category, DataType, ConformOptions], Conversion]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building many small objects.

    Building a million dicts (parsed JSON, nested values) triggers a collection
    that scans every live container again and again. On the machine this was
    measured on, orjson took 3.7 us per line with the collector on and 0.9 us
    with it paused. The objects built here hold no reference cycles, and the
    collector runs again at the next allocation threshold after the block.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def type_name(dtype: DataType) -> str:
    """Return the SQL name of a type as messages show it, such as 'TIMESTAMP(3)'."""
    return dtype.plain().with_nullable(True).sql()


def value_text(value: object) -> str:
    """Return a short repr of an input value for a message."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    if len(text) > _MAX_VALUE_TEXT:
        text = text[: _MAX_VALUE_TEXT - 3] + "..."
    return text


def default_failure(dtype: DataType, value: object) -> Failure:
    return Failure(f"invalid {type_name(dtype)} value {value_text(value)}")


def null_series(dtype: DataType, length: int) -> pd.Series:
    """Return a column of ``length`` nulls in the pandas dtype of ``dtype``."""
    target: Any = dtype.pandas_dtype()
    if target == "object":
        return pd.Series(np.full(length, None, dtype=object), dtype=object)
    return pd.Series(pd.array([None] * length, dtype=target))


def astype(values: pd.Series, dtype: DataType) -> pd.Series:
    """Return ``values`` in the pandas dtype of ``dtype``."""
    target: Any = dtype.pandas_dtype()
    return values.astype(target)


def from_arrow(array: pa.Array, dtype: Any) -> pd.Series:
    """Return a pyarrow array as a Series of a pandas extension dtype."""
    return pd.Series(dtype.__from_arrow__(array))


def fail_all(values: pd.Series, dtype: DataType) -> Conversion:
    """Return a conversion in which every non-null input value failed."""
    return Conversion(null_series(dtype, len(values)), values.notna().to_numpy())


# Categories -------------------------------------------------------------------

_ARROW_CATEGORIES: list[tuple[Callable[[pa.DataType], bool], Category]] = [
    (pa.types.is_null, "null"),
    (pa.types.is_boolean, "bool"),
    (pa.types.is_integer, "int"),
    (pa.types.is_floating, "float"),
    (lambda kind: pa.types.is_string(kind) or pa.types.is_large_string(kind), "text"),
    (lambda kind: pa.types.is_binary(kind) or pa.types.is_large_binary(kind), "bytes"),
]


def categorize(values: pd.Series) -> Category | None:
    """Return the category of a column by its dtype, or None for mixed objects."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return None
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime_tz"
    if isinstance(dtype, pd.StringDtype):
        return "text"
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_category(dtype.pyarrow_dtype)
    kind = getattr(dtype, "kind", "O")
    by_kind: dict[str, Category] = {
        "b": "bool",
        "i": "int",
        "u": "int",
        "f": "float",
        "M": "datetime",
        "m": "timedelta",
    }
    return by_kind.get(kind)


def _arrow_category(kind: pa.DataType) -> Category | None:
    if pa.types.is_timestamp(kind):
        return "datetime" if kind.tz is None else "datetime_tz"
    if pa.types.is_duration(kind):
        return "timedelta"
    for test, category in _ARROW_CATEGORIES:
        if test(kind):
            return category
    return None


def prepare(values: pd.Series) -> tuple[Category | None, pd.Series]:
    """Return the category of ``values`` and the values in a dtype of that category.

    Object columns of one Python type (the usual JSON case) are recognized by
    pyarrow's type inference, which runs in C. A category of None means the
    objects are mixed and must be split with :func:`partition`.
    """
    values = values.reset_index(drop=True)
    category = categorize(values)
    if category is not None:
        if isinstance(values.dtype, pd.ArrowDtype) and category in ("text", "int"):
            return category, _from_arrow(_to_arrow(values), category)
        return category, values
    if isinstance(values.dtype, pd.CategoricalDtype):
        return prepare(values.astype(object))
    try:
        array = pa.array(values.to_numpy(dtype=object), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None, values
    category = _arrow_category(array.type)
    if category in ("null", "bool", "int", "float", "text"):
        return category, _from_arrow(array, category)
    return None, values


def _to_arrow(values: pd.Series) -> pa.Array:
    array = pa.array(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _from_arrow(array: pa.Array, category: Category) -> pd.Series:
    if category == "text":
        if not pa.types.is_large_string(array.type):
            array = array.cast(pa.large_string())
        return from_arrow(array, pd.StringDtype("pyarrow"))
    if category == "int":
        return from_arrow(array.cast(pa.int64()), pd.Int64Dtype())
    if category == "float":
        return from_arrow(array.cast(pa.float64()), pd.Float64Dtype())
    if category == "bool":
        return from_arrow(array, pd.BooleanDtype())
    return pd.Series(np.full(len(array), None, dtype=object), dtype=object)


def object_category(value: object) -> Category:
    """Return the category of one Python value (used for mixed object columns)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "null"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int" if -(2**63) <= int(value) < 2**63 else "invalid"
    if isinstance(value, (float, np.floating)):
        return "null" if np.isnan(value) else "float"
    if isinstance(value, (dt.datetime, np.datetime64)):
        aware = isinstance(value, dt.datetime) and value.tzinfo is not None
        return "datetime_tz" if aware else "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, (dt.timedelta, np.timedelta64)):
        return "timedelta"
    if isinstance(value, (dict, list, tuple, np.ndarray)):
        return "nested"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    return "invalid"


def partition(values: pd.Series) -> dict[Category, np.ndarray]:
    """Return the positions of each category in a column of mixed Python objects."""
    categories = np.array([object_category(value) for value in values.to_numpy()])
    return {
        category: np.flatnonzero(categories == category)
        for category in dict.fromkeys(categories.tolist())
    }


def group_series(values: pd.Series, category: Category) -> pd.Series:
    """Return one category's values, taken from a mixed column, in a typed dtype."""
    objects = values.to_numpy(dtype=object)
    if category in ("text", "int", "float", "bool"):
        array = pa.array(objects, from_pandas=True)
        return _from_arrow(array, category)
    if category == "datetime":
        return pd.Series(pd.to_datetime(objects)).reset_index(drop=True)
    if category == "datetime_tz":
        return pd.Series(pd.to_datetime(objects, utc=True)).reset_index(drop=True)
    if category == "timedelta":
        return pd.Series(pd.to_timedelta(objects)).reset_index(drop=True)
    return pd.Series(objects, dtype=object)


def scatter(dtype: DataType, length: int, parts: list[tuple[np.ndarray, Conversion]]) -> Conversion:
    """Return one conversion assembled from conversions of groups of positions."""
    values = null_series(dtype, length)
    failed = np.zeros(length, dtype=bool)
    failures: dict[int, Failure] = {}
    for positions, part in parts:
        if len(positions) == 0:
            continue
        values.iloc[positions] = part.values.to_numpy(dtype=object)
        failed[positions] = part.failed
        for index, failure in part.failures.items():
            failures[int(positions[index])] = failure
    return Conversion(astype(values, dtype), failed, failures)
