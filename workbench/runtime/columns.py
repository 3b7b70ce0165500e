"""Conversions between typed pandas columns and plain numpy arrays with a validity mask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.arrays.masked import BaseMaskedArray

from workbench.events.nulls import is_null
from workbench.events.types import DataType, TypeKind

#: Types whose values aggregate as numbers (timestamps as int64 nanoseconds).
NUMERIC_STATE_KINDS = frozenset(
    {
        TypeKind.BOOLEAN,
        TypeKind.TINYINT,
        TypeKind.SMALLINT,
        TypeKind.INT,
        TypeKind.BIGINT,
        TypeKind.FLOAT,
        TypeKind.DOUBLE,
        TypeKind.DECIMAL,
        TypeKind.DATE,
        TypeKind.TIME,
        TypeKind.TIMESTAMP,
        TypeKind.TIMESTAMP_LTZ,
        TypeKind.INTERVAL,
    }
)

INT_STATE_KINDS = frozenset(
    {
        TypeKind.BOOLEAN,
        TypeKind.TINYINT,
        TypeKind.SMALLINT,
        TypeKind.INT,
        TypeKind.BIGINT,
        TypeKind.DATE,
        TypeKind.TIME,
        TypeKind.TIMESTAMP,
        TypeKind.TIMESTAMP_LTZ,
        TypeKind.INTERVAL,
    }
)


def state_dtype(kind: DataType) -> type[np.int64] | type[np.float64]:
    """Return the numpy dtype that holds aggregate state for values of ``kind``."""
    return np.int64 if kind.kind in INT_STATE_KINDS else np.float64


def masked_parts(array: object) -> tuple[np.ndarray, np.ndarray] | None:
    """Return (values, null mask) of a nullable pandas array without copying, else None.

    NOTE: pandas exposes no public zero-copy accessor for these two arrays; the
    private ``_data`` and ``_mask`` attributes have kept their meaning since pandas 1.0.
    """
    if not isinstance(array, BaseMaskedArray):
        return None
    values: np.ndarray = getattr(array, "_data")  # noqa: B009
    mask: np.ndarray = getattr(array, "_mask")  # noqa: B009
    return values, mask


def to_state_array(series: pd.Series, kind: DataType) -> tuple[np.ndarray, np.ndarray]:
    """Return (values, valid) for a numeric-like column; NULL rows are not valid."""
    parts = masked_parts(series.array)
    if parts is not None:
        # Nullable numbers already hold a values array and a NULL mask: use them as they are.
        values, mask = parts
        target = state_dtype(kind)
        if values.dtype != target:
            values = values.astype(target)
        return values, ~mask
    valid = ~series.isna().to_numpy(dtype=bool)
    dtype = series.dtype
    if kind.kind in (TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ, TypeKind.DATE):
        if isinstance(dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        values = series.to_numpy(dtype="datetime64[ns]").view(np.int64)
        return values, valid
    if kind.kind in (TypeKind.TIME, TypeKind.INTERVAL):
        return series.to_numpy(dtype="timedelta64[ns]").view(np.int64), valid
    if state_dtype(kind) is np.int64:
        return series.to_numpy(dtype=np.int64, na_value=0), valid
    return series.to_numpy(dtype=np.float64, na_value=np.nan), valid


def from_state_array(values: np.ndarray, valid: np.ndarray, kind: DataType) -> pd.Series:
    """Return a typed Series from state values, NULL where not valid."""
    dtype = kind.pandas_dtype()
    if kind.kind in (TypeKind.TIMESTAMP, TypeKind.DATE):
        result = pd.Series(values.astype(np.int64).view("datetime64[ns]"))
        return result.where(valid, pd.NaT)
    if kind.kind is TypeKind.TIMESTAMP_LTZ:
        result = pd.Series(values.astype(np.int64).view("datetime64[ns]")).dt.tz_localize("UTC")
        return result.where(valid, pd.NaT)
    if kind.kind in (TypeKind.TIME, TypeKind.INTERVAL):
        return pd.Series(values.astype(np.int64).view("timedelta64[ns]")).where(valid, pd.NaT)
    if kind.kind is TypeKind.BOOLEAN:
        return pd.Series(pd.arrays.BooleanArray(values.astype(bool), ~valid))
    if kind.is_integer:
        array = pd.arrays.IntegerArray(values.astype(np.int64, copy=False), ~valid)
        if kind.kind is TypeKind.BIGINT:
            return pd.Series(array)
        return pd.Series(array).astype(dtype)  # type: ignore[arg-type]
    array_f = pd.arrays.FloatingArray(values.astype(np.float64, copy=False), ~valid)
    if kind.kind is TypeKind.FLOAT:
        return pd.Series(array_f).astype(dtype)  # type: ignore[arg-type]
    return pd.Series(array_f)


def series_from_values(values: Sequence[Any], kind: DataType) -> pd.Series:
    """Return a typed Series from Python values (None for NULL)."""
    dtype = kind.pandas_dtype()
    if dtype == "object":
        return pd.Series(list(values), dtype=object)
    cleaned: list[Any] = [None if is_null(value) else value for value in values]
    if kind.kind in (TypeKind.TIMESTAMP, TypeKind.DATE):
        return (
            pd.Series(pd.to_datetime(cleaned), dtype="datetime64[ns]")
            if cleaned
            else pd.Series([], dtype=dtype)
        )
    if kind.kind is TypeKind.TIMESTAMP_LTZ:
        return (
            pd.Series(pd.to_datetime(cleaned, utc=True)).astype(dtype)  # type: ignore[arg-type]
            if cleaned
            else pd.Series([], dtype=dtype)
        )
    return pd.Series(cleaned, dtype=dtype)


def group_positions(slots: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Return (slot, row positions) for each distinct slot, positions in arrival order."""
    if len(slots) == 0:
        return []
    order = np.argsort(slots, kind="stable")
    sorted_slots = slots[order]
    boundaries = np.flatnonzero(np.diff(sorted_slots)) + 1
    groups = np.split(order, boundaries)
    return [(int(slots[group[0]]), group) for group in groups]
