"""Values, broadcasting and type checks shared by the function implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.events import types as t
from workbench.sql.functions.base import (
    ArgumentTypeError,
    broadcast,
    combined_null_mask,
    expect_count,
    is_null_scalar,
    null_series,
    objects_to_series,
    scalar_of,
    to_dtype,
    to_objects,
    with_nulls,
)

_INDEX = pd.RangeIndex(3)


@pytest.mark.parametrize(
    ("type", "value", "dtype"),
    [
        pytest.param(t.INT, 5, "Int32", id="int"),
        pytest.param(t.STRING, "x", "string", id="string"),
        pytest.param(t.BOOLEAN, True, "boolean", id="boolean"),
        pytest.param(t.timestamp(3), pd.Timestamp("2024-01-01"), "datetime64[ns]", id="timestamp"),
        pytest.param(
            t.timestamp_ltz(3), pd.Timestamp("2024-01-01"), "datetime64[ns, UTC]", id="ltz"
        ),
        pytest.param(t.array(t.INT), [1, 2], "object", id="array"),
    ],
)
def test_broadcast_uses_mapped_dtype(type: t.DataType, value: object, dtype: str) -> None:
    column = broadcast(value, type, 3, _INDEX)
    assert str(column.dtype) == dtype
    assert len(column) == 3


@pytest.mark.parametrize("type", [t.INT, t.STRING, t.timestamp(3), t.array(t.INT)])
def test_null_series_is_all_null(type: t.DataType) -> None:
    column = null_series(type, 3, _INDEX)
    assert column.isna().all()
    assert to_objects(column, 3) == [None, None, None]


@pytest.mark.parametrize("value", [None, pd.NA, pd.NaT, float("nan")])
def test_null_scalars(value: object) -> None:
    assert is_null_scalar(value)
    assert scalar_of(value) is None


def test_scalar_of_unwraps_numpy() -> None:
    result = scalar_of(np.int64(3))
    assert result == 3
    assert type(result) is int


def test_combined_null_mask() -> None:
    a = pd.Series([1, None, 3], dtype="Int64")
    assert combined_null_mask([a, 5], 3).tolist() == [False, True, False]
    assert combined_null_mask([a, None], 3).tolist() == [True, True, True]


def test_with_nulls_on_objects() -> None:
    column = pd.Series([[1], [2]], dtype=object)
    assert with_nulls(column, np.array([False, True])).tolist() == [[1], None]


def test_objects_to_series_ltz() -> None:
    column = objects_to_series(
        [pd.Timestamp("2024-01-01", tz="UTC"), None], t.timestamp_ltz(3), pd.RangeIndex(2)
    )
    assert str(column.dtype) == "datetime64[ns, UTC]"


def test_to_dtype_converts_arrow_booleans() -> None:
    column = pd.Series([True, None], dtype="bool[pyarrow]")
    assert str(to_dtype(column, t.BOOLEAN).dtype) == "boolean"


def test_to_dtype_localizes_naive_times() -> None:
    column = pd.Series(pd.to_datetime(["2024-01-01"]))
    assert str(to_dtype(column, t.timestamp_ltz(3)).dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(
    ("count", "low", "high", "message"),
    [
        pytest.param(3, 1, 1, "takes 1 argument, got 3", id="exact"),
        pytest.param(0, 1, 2, "takes 1 to 2 arguments, got 0", id="range"),
        pytest.param(0, 2, 10_000, "takes at least 2 arguments, got 0", id="at-least"),
    ],
)
def test_expect_count_messages(count: int, low: int, high: int, message: str) -> None:
    with pytest.raises(ArgumentTypeError, match=message):
        expect_count("F", [t.INT] * count, low, high)
