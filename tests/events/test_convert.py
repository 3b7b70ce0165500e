import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.events import types as t
from workbench.events.convert import (
    ConformOptions,
    Conversion,
    categorize,
    default_failure,
    null_series,
    object_category,
    partition,
    prepare,
    scatter,
    type_name,
    value_text,
)


def test_options_reject_bad_epoch_unit() -> None:
    with pytest.raises(ValueError, match="invalid epoch unit 'minutes'"):
        ConformOptions(epoch_unit="minutes")


def test_options_reject_unknown_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        ConformOptions(time_zone="Mars/Olympus")


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pd.Series([1, 2]), "int"),
        (pd.Series([1.5]), "float"),
        (pd.Series([True]), "bool"),
        (pd.Series(["a"], dtype="str"), "text"),
        (pd.Series(["a"], dtype=pd.StringDtype("pyarrow")), "text"),
        (pd.Series(pd.to_datetime(["2020-01-01"])), "datetime"),
        (pd.Series(pd.to_datetime(["2020-01-01"]).tz_localize("UTC")), "datetime_tz"),
        (pd.Series(pd.to_timedelta(["1s"])), "timedelta"),
        (pd.Series(["a", 1], dtype=object), None),
    ],
)
def test_categorize_by_dtype(series: pd.Series, expected: str | None) -> None:
    assert categorize(series) == expected


def test_prepare_homogeneous_objects() -> None:
    category, values = prepare(pd.Series(["a", None], dtype=object))
    assert category == "text"
    assert values.dtype == pd.StringDtype("pyarrow")


def test_prepare_object_ints() -> None:
    category, values = prepare(pd.Series([1, None, 3], dtype=object))
    assert category == "int"
    assert str(values.dtype) == "Int64"


def test_prepare_mixed_objects() -> None:
    category, _ = prepare(pd.Series([1, "a"], dtype=object))
    assert category is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (float("nan"), "null"),
        ("x", "text"),
        (True, "bool"),
        (np.int64(3), "int"),
        (2**70, "invalid"),
        (1.5, "float"),
        (dt.datetime(2020, 1, 1), "datetime"),
        (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "datetime_tz"),
        (dt.date(2020, 1, 1), "date"),
        (dt.time(10, 0), "time"),
        (dt.timedelta(seconds=1), "timedelta"),
        ({"a": 1}, "nested"),
        ([1], "nested"),
        (b"x", "bytes"),
        (object(), "invalid"),
    ],
)
def test_object_category(value: object, expected: str) -> None:
    assert object_category(value) == expected


def test_partition_positions() -> None:
    groups = partition(pd.Series([1, "a", None, 2], dtype=object))
    assert groups["int"].tolist() == [0, 3]
    assert groups["text"].tolist() == [1]
    assert groups["null"].tolist() == [2]


def test_scatter_assembles_groups() -> None:
    first = Conversion(pd.Series([1, 2], dtype="Int64"), np.array([False, True]))
    second = Conversion(pd.Series([3], dtype="Int64"), np.array([False]))
    result = scatter(t.BIGINT, 4, [(np.array([0, 2]), first), (np.array([3]), second)])
    assert result.values.tolist() == [1, pd.NA, 2, 3]
    assert result.failed.tolist() == [False, False, True, False]


def test_null_series_dtype() -> None:
    assert str(null_series(t.timestamp_ltz(3), 2).dtype) == "datetime64[ns, UTC]"
    assert null_series(t.array(t.INT), 2).tolist() == [None, None]


def test_type_name_drops_markers() -> None:
    assert type_name(t.BIGINT.with_nullable(False)) == "BIGINT"
    assert type_name(t.timestamp(3)) == "TIMESTAMP(3)"


def test_value_text_is_short() -> None:
    assert value_text(np.int64(5)) == "5"
    assert value_text("x" * 200).endswith("...")
    assert len(value_text("x" * 200)) == 80


def test_default_failure_message() -> None:
    assert default_failure(t.DOUBLE, "abc").message == "invalid DOUBLE value 'abc'"
