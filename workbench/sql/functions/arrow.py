"""Conversions between pandas columns and pyarrow arrays for vectorized kernels.

String columns are ``string[pyarrow]``, so ``pyarrow.compute`` kernels work on
them without copying. Kernels return arrow arrays; these helpers wrap results
back into Series of the dtypes that the SQL types map to.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING_DTYPE = pd.StringDtype("pyarrow")


def arrow_strings(series: pd.Series) -> pa.Array:
    """Return the values of a string column as one arrow (large) string array."""
    values: Any = series.array
    if not isinstance(values, pd.arrays.ArrowStringArray):
        values = series.astype(STRING_DTYPE).array
    array = pa.array(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def string_series(array: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Wrap an arrow string array in a ``string[pyarrow]`` Series."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(array), index=index, copy=False)


def _unpack_bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    raw = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[offset : offset + length].view(bool)


def bool_series(array: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Wrap an arrow boolean array in a ``boolean`` Series.

    The bit-packed buffers are unpacked with numpy, which is several times
    faster than ``astype("boolean")`` on a ``bool[pyarrow]`` column.
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], pa.bool_())
    length = len(array)
    if length == 0:
        return pd.Series(pd.array([], dtype="boolean"), index=index)
    if pa.types.is_null(array.type):
        return pd.Series(pd.array([None] * length, dtype="boolean"), index=index)
    validity, data = array.buffers()[:2]
    values = _unpack_bits(data, array.offset, length).copy()
    if validity is None:
        mask = np.zeros(length, dtype=bool)
    else:
        mask = ~_unpack_bits(validity, array.offset, length)
    values[mask] = False
    return pd.Series(pd.arrays.BooleanArray(values, mask), index=index, copy=False)


def masked_bool(values: np.ndarray, mask: np.ndarray | None, index: pd.Index) -> pd.Series:
    """Build a ``boolean`` Series from a numpy bool array and a NULL mask."""
    if mask is None:
        mask = np.zeros(len(values), dtype=bool)
    return pd.Series(
        pd.arrays.BooleanArray(np.asarray(values, dtype=bool), np.asarray(mask, dtype=bool)),
        index=index,
        copy=False,
    )


def numeric_parts(series: pd.Series, dtype: Any = "float64") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(values, null_mask)`` of a numeric column as numpy arrays."""
    mask = np.asarray(series.isna().to_numpy(), dtype=bool)
    fill = 0 if np.dtype(dtype).kind in "iub" else np.nan
    values = series.to_numpy(dtype=dtype, na_value=fill)
    return values, mask


def masked_numeric(
    values: np.ndarray, mask: np.ndarray | None, dtype: Any, index: pd.Index
) -> pd.Series:
    """Build a nullable numeric Series (``Int64``, ``Float64`` ...) from numpy parts."""
    target = pd.api.types.pandas_dtype(dtype)
    numpy_dtype: Any = getattr(target, "numpy_dtype", target)
    data = np.asarray(values).astype(numpy_dtype, copy=False)
    if mask is None:
        mask = np.zeros(len(data), dtype=bool)
    if numpy_dtype.kind == "f":
        array: Any = pd.arrays.FloatingArray(data, np.asarray(mask, dtype=bool))
    else:
        array = pd.arrays.IntegerArray(data, np.asarray(mask, dtype=bool))
    return pd.Series(array, index=index, copy=False)


def arrow_null_mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def arrow_ints(array: pa.Array, index: pd.Index, dtype: str = "Int64") -> pd.Series:
    """Wrap an arrow integer array in a nullable integer Series."""
    mask = arrow_null_mask(array)
    values = pc.fill_null(array, 0).to_numpy(zero_copy_only=False)
    return masked_numeric(values, mask, dtype, index)


def join_strings(parts: list[Any], separator: Any = "", null_handling: str = "emit_null") -> Any:
    """Concatenate arrow string arrays and Python strings row by row (NULL if any part is NULL)."""

    def scalar(part: Any) -> Any:
        if isinstance(part, str):
            return pa.scalar(part, pa.large_string())
        if isinstance(part, (pa.Array, pa.ChunkedArray)) and not pa.types.is_large_string(
            part.type
        ):
            return part.cast(pa.large_string())
        return part

    return pc.binary_join_element_wise(
        *(scalar(part) for part in parts), scalar(separator), null_handling=null_handling
    )
