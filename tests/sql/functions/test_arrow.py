"""Conversions between pandas columns and pyarrow arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.sql.functions.arrow import (
    arrow_strings,
    bool_series,
    join_strings,
    masked_bool,
    masked_numeric,
    numeric_parts,
    string_series,
)


def test_bool_series_unpacks_bits_and_nulls() -> None:
    array = pa.array([True, None, False, True, None, True, False, False, True])
    result = bool_series(array, pd.RangeIndex(len(array)))
    assert str(result.dtype) == "boolean"
    assert result.tolist() == [True, pd.NA, False, True, pd.NA, True, False, False, True]


def test_bool_series_of_sliced_array() -> None:
    array = pa.array([True, False, True, True]).slice(1, 2)
    assert bool_series(array, pd.RangeIndex(2)).tolist() == [False, True]


def test_bool_series_of_chunked_comparison() -> None:
    strings = pa.chunked_array([["a", "b"], [None, "a"]])
    result = bool_series(pc.equal(strings, "a"), pd.RangeIndex(4))
    assert result.tolist() == [True, False, pd.NA, True]


def test_strings_round_trip() -> None:
    series = pd.Series(["a", None, "é"], dtype=pd.StringDtype("pyarrow"))
    array = arrow_strings(series)
    assert pa.types.is_large_string(array.type)
    back = string_series(array, series.index)
    assert back.dtype == pd.StringDtype("pyarrow")
    assert back.tolist() == ["a", pd.NA, "é"]


def test_arrow_strings_from_object_column() -> None:
    assert arrow_strings(pd.Series(["x", None])).to_pylist() == ["x", None]


def test_masked_numeric_and_parts() -> None:
    series = masked_numeric(
        np.array([1, 2, 3]), np.array([False, True, False]), "Int32", pd.RangeIndex(3)
    )
    assert str(series.dtype) == "Int32"
    values, mask = numeric_parts(series, "int64")
    assert values.tolist() == [1, 0, 3]
    assert mask.tolist() == [False, True, False]


def test_masked_bool() -> None:
    assert masked_bool(np.array([True, False]), None, pd.RangeIndex(2)).tolist() == [True, False]


def test_join_strings_mixes_arrays_and_text() -> None:
    joined = join_strings(
        [pa.array(["a", None], pa.string()), "-", pa.array(["b", "c"], pa.large_string())]
    )
    assert joined.to_pylist() == ["a-b", None]
