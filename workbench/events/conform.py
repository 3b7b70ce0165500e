"""Conform raw rows to a schema: exact columns, exact pandas dtypes, bad rows rejected.

Readers call :func:`conform` on each chunk they parse. Values are converted
one whole column at a time. A row fails when a converter turns its non-null
value into null ("non-null in, null out"), when a nested field fails, or when
a NOT NULL column is null. Failed rows leave the frame and go to
:class:`~workbench.events.rejected.RejectedRows` with a reason such as
``column 'amount': invalid DOUBLE value 'abc'``. Only the failed rows are
visited one by one.

Accepted input, by target type:

- BOOLEAN: true/false/1/0/yes/no in any case, booleans, the numbers 0 and 1.
- integers, FLOAT, DOUBLE, DECIMAL: numbers and number text. An integer
  column rejects fractions and values outside its range.
- TIMESTAMP, TIMESTAMP_LTZ: 'YYYY-MM-DD HH:MM:SS[.fffffffff]' or ISO 8601 with
  'T', with an optional zone offset or 'Z'; numbers (and digit-only text)
  count ``ConformOptions.epoch_unit`` since 1970-01-01 UTC. Values are
  truncated to the declared precision (TIMESTAMP(3) keeps milliseconds).
- DATE: 'YYYY-MM-DD'; TIME: 'HH:MM[:SS[.f]]'; both also from timestamps.
- ROW, ARRAY, MAP: dicts and lists, or JSON text.

Blank text is NULL for every type except VARCHAR, where it stays ''.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.convert import (
    Category,
    ConformOptions,
    Conversion,
    Converter,
    Failure,
    default_failure,
    group_series,
    null_series,
    partition,
    prepare,
    scatter,
    type_name,
)
from workbench.events.convert_nested import NESTED_CONVERTERS
from workbench.events.convert_scalar import (
    convert_binary,
    convert_boolean,
    convert_float,
    convert_integer,
    convert_string,
)
from workbench.events.convert_time import (
    convert_date,
    convert_interval,
    convert_time,
    convert_timestamp,
)
from workbench.events.rejected import RejectedRows, with_positions
from workbench.events.schema import Schema
from workbench.events.time import has_unaligned
from workbench.events.types import DataType, TypeKind

__all__ = ["ConformOptions", "conform", "convert_column"]

logger = logging.getLogger(__name__)

_CONVERTERS: dict[TypeKind, Converter] = {
    TypeKind.BOOLEAN: convert_boolean,
    TypeKind.TINYINT: convert_integer,
    TypeKind.SMALLINT: convert_integer,
    TypeKind.INT: convert_integer,
    TypeKind.BIGINT: convert_integer,
    TypeKind.FLOAT: convert_float,
    TypeKind.DOUBLE: convert_float,
    TypeKind.DECIMAL: convert_float,
    TypeKind.VARCHAR: convert_string,
    TypeKind.BINARY: convert_binary,
    TypeKind.TIMESTAMP: convert_timestamp,
    TypeKind.TIMESTAMP_LTZ: convert_timestamp,
    TypeKind.DATE: convert_date,
    TypeKind.TIME: convert_time,
    TypeKind.INTERVAL: convert_interval,
}

_MAX_RAW_TEXT = 1_000

# Types whose values need no work when the column already has their pandas dtype.
# Temporal types are checked anyway: timestamps are truncated to their
# precision, dates to midnight, and times must lie within one day.
_SAME_DTYPE_KINDS = frozenset(
    {
        TypeKind.BOOLEAN,
        TypeKind.TINYINT,
        TypeKind.SMALLINT,
        TypeKind.INT,
        TypeKind.BIGINT,
        TypeKind.FLOAT,
        TypeKind.DOUBLE,
        TypeKind.DECIMAL,
        TypeKind.VARCHAR,
        TypeKind.INTERVAL,
    }
)


def convert_column(values: pd.Series, dtype: DataType, options: ConformOptions) -> Conversion:
    """Convert one column of any pandas dtype to the pandas dtype of ``dtype``."""
    nested = NESTED_CONVERTERS.get(dtype.kind)
    if nested is not None:
        values = values.reset_index(drop=True)
        category: Category | None = None
        if isinstance(values.dtype, pd.StringDtype):
            category = "text"
        return nested(values, category, dtype, options, convert_column)
    if dtype.kind in _SAME_DTYPE_KINDS and values.dtype == dtype.pandas_dtype():
        values = values.reset_index(drop=True)
        return Conversion(values, np.zeros(len(values), dtype=bool))
    if dtype.kind is TypeKind.NULL:
        return Conversion(null_series(dtype, len(values)), values.notna().to_numpy())
    category, prepared = prepare(values)
    if category is not None:
        return _convert_group(prepared, category, dtype, options)
    parts = [
        (
            positions,
            _convert_group(group_series(prepared.iloc[positions], group), group, dtype, options),
        )
        for group, positions in partition(prepared).items()
    ]
    return scatter(dtype, len(prepared), parts)


def _convert_group(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    if category == "null":
        return Conversion(null_series(dtype, len(values)), np.zeros(len(values), dtype=bool))
    return _CONVERTERS[dtype.kind](values.reset_index(drop=True), category, dtype, options)


def conform(
    frame: pd.DataFrame,
    schema: Schema,
    rejected: RejectedRows,
    *,
    lines: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
    raw: Sequence[str] | None = None,
    options: ConformOptions | None = None,
    positions: bool = False,
    file: str | None = None,
) -> pd.DataFrame:
    """Return ``frame`` with exactly the schema's columns and dtypes, bad rows removed.

    Columns match the schema by exact name, then by a unique case-insensitive
    name. Missing columns are all null and extra columns are dropped. Each
    failed row is added to ``rejected`` with ``lines[i]`` or ``offsets[i]`` as
    its position and ``raw[i]`` as its text (a repr of the row without
    ``raw``). The result has a fresh RangeIndex. With ``positions``, the kept
    rows also carry ``lines``, ``offsets`` and ``file`` in the hidden columns
    of :func:`~workbench.events.rejected.with_positions`.
    """
    options = options or ConformOptions()
    fast = _plain_numpy_columns(frame, schema)
    if fast is not None:
        if positions:
            return with_positions(fast, lines=lines, offsets=offsets, file=file)
        return fast
    length = len(frame)
    sources = _match_columns(list(frame.columns), schema)
    failed = np.zeros(length, dtype=bool)
    reasons: dict[int, list[str]] = {}
    columns: dict[str, pd.Series] = {}
    for column in schema:
        source = sources.get(column.name)
        if source is None:
            conversion = Conversion(null_series(column.type, length), np.zeros(length, dtype=bool))
            inputs = None
        else:
            inputs = frame[source]
            conversion = convert_column(inputs, column.type, options)
        _collect_reasons(column.name, column.type, conversion, inputs, reasons)
        failed |= conversion.failed
        if not column.type.nullable:
            nulls = conversion.values.isna().to_numpy() & ~conversion.failed
            for position in np.flatnonzero(nulls).tolist():
                reasons.setdefault(position, []).append(_null_message(column.name, column.type))
            failed |= nulls
        columns[column.name] = conversion.values.reset_index(drop=True)
    result = pd.DataFrame(columns, index=pd.RangeIndex(length))
    if positions:
        result = with_positions(result, lines=lines, offsets=offsets, file=file)
    if not failed.any():
        return result
    _reject(frame, failed, reasons, rejected, lines=lines, offsets=offsets, raw=raw)
    return result.loc[~failed].reset_index(drop=True)


_NUMPY_KINDS = {
    TypeKind.TINYINT: "int8",
    TypeKind.SMALLINT: "int16",
    TypeKind.INT: "int32",
    TypeKind.BIGINT: "int64",
    TypeKind.FLOAT: "float32",
    TypeKind.DOUBLE: "float64",
    TypeKind.BOOLEAN: "bool",
}


def _plain_numpy_columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame | None:
    """Take columns that already have the schema's dtypes, or plain numpy numbers, without copying.

    Typed in-memory data (a user's DataFrame replayed in chunks) then skips
    the general conversion: numpy ``int64``/``float64`` columns become the
    schema's nullable dtypes by adding a mask (NaN is NULL for floats).
    Returns None when any column needs the general conversion.
    """
    if list(frame.columns) != schema.names:
        return None
    columns: dict[str, Any] = {}
    for column in schema:
        kind = column.type
        if kind.kind not in _SAME_DTYPE_KINDS and not kind.is_timestamp:
            return None
        series = frame[column.name]
        if series.dtype == kind.pandas_dtype():
            if not kind.nullable and series.isna().any():
                return None
            if kind.is_timestamp and kind.precision_ns > 1:
                raw = series.to_numpy(dtype="datetime64[ns]").view(np.int64)
                if has_unaligned(raw, kind.precision_ns):
                    return None
            columns[column.name] = series.array
            continue
        expected = _NUMPY_KINDS.get(kind.kind)
        if expected is None or str(series.dtype) != expected:
            return None
        values = series.to_numpy()
        if kind.kind in (TypeKind.FLOAT, TypeKind.DOUBLE):
            mask = np.isnan(values)
            array: Any = pd.arrays.FloatingArray(values, mask)
        elif kind.kind is TypeKind.BOOLEAN:
            mask = np.zeros(len(values), dtype=bool)
            array = pd.arrays.BooleanArray(values, mask)
        else:
            mask = np.zeros(len(values), dtype=bool)
            array = pd.arrays.IntegerArray(values, mask)
        if not kind.nullable and mask.any():
            return None
        columns[column.name] = array
    # The arrays are new wrappers or the frame's own: no copy is needed.
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), copy=False)


def _match_columns(names: list[object], schema: Schema) -> dict[str, object]:
    """Return, per schema column, the frame column it reads from."""
    exact = {name for name in names if isinstance(name, str)}
    lowered: dict[str, list[str]] = {}
    for name in exact:
        lowered.setdefault(name.lower(), []).append(name)
    matched: dict[str, object] = {}
    for column in schema:
        if column.name in exact:
            matched[column.name] = column.name
        elif len(lowered.get(column.name.lower(), [])) == 1:
            matched[column.name] = lowered[column.name.lower()][0]
    return matched


def _collect_reasons(
    name: str,
    dtype: DataType,
    conversion: Conversion,
    inputs: pd.Series | None,
    reasons: dict[int, list[str]],
) -> None:
    for position in np.flatnonzero(conversion.failed).tolist():
        failure = conversion.failures.get(position)
        if failure is None:
            value = None if inputs is None else inputs.iloc[position]
            failure = default_failure(dtype, value)
        reasons.setdefault(position, []).append(_message(name, failure))


def _null_message(name: str, dtype: DataType) -> str:
    return f"column '{name}': NULL in a NOT NULL column of type {type_name(dtype)}"


def _message(name: str, failure: Failure) -> str:
    return f"column '{name}{failure.path}': {failure.message}"


def _reject(
    frame: pd.DataFrame,
    failed: np.ndarray,
    reasons: dict[int, list[str]],
    rejected: RejectedRows,
    *,
    lines: np.ndarray | None,
    offsets: np.ndarray | None,
    raw: Sequence[str] | None,
) -> None:
    positions = np.flatnonzero(failed).tolist()
    for position in positions:
        text = raw[position] if raw is not None else _row_text(frame, position)
        rejected.add(
            "; ".join(reasons.get(position, ["invalid row"])),
            text[:_MAX_RAW_TEXT],
            line=None if lines is None else int(lines[position]),
            offset=None if offsets is None else int(offsets[position]),
        )
    logger.debug("%s: rejected %d of %d rows", rejected.source, len(positions), len(frame))


def _row_text(frame: pd.DataFrame, position: int) -> str:
    """Return a compact repr of one input row: its non-null values by column."""
    row = frame.iloc[position]
    values = {
        str(name): value.item() if isinstance(value, np.generic) else value
        for name, value in row.items()
        if not _is_missing(value)
    }
    return repr(values)


def _is_missing(value: object) -> bool:
    """Return whether one cell is null. Containers (dict, list, Series, ndarray) are never null.

    A rejected row can hold any object. ``pd.isna`` of a Series or an array
    returns an array, which has no single truth value, so it is not called on one.
    """
    if not pd.api.types.is_scalar(value):
        return False
    missing = pd.isna(value)  # type: ignore[call-overload]
    return isinstance(missing, (bool, np.bool_)) and bool(missing)
