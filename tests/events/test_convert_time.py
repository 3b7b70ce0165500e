import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.events import types as t
from workbench.events.conform import convert_column
from workbench.events.convert import ConformOptions, Conversion

UTC = ConformOptions()


def text(values: list[str | None]) -> pd.Series:
    return pd.Series(values, dtype=pd.StringDtype("pyarrow"))


def convert(values: pd.Series, dtype: t.DataType, options: ConformOptions = UTC) -> Conversion:
    return convert_column(values, dtype, options)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-01-01 10:00:00", "2020-01-01 10:00:00"),
        ("2020-01-01T10:00:00.123", "2020-01-01 10:00:00.123"),
        ("2020-01-01 10:00:00.123456789", "2020-01-01 10:00:00.123456789"),
        ("2020-01-01T10:00:00Z", "2020-01-01 10:00:00"),
        ("2020-01-01T10:00:00+02:00", "2020-01-01 08:00:00"),
        ("2020-01-01 10:00:00-0130", "2020-01-01 11:30:00"),
        ("2020-01-01", "2020-01-01 00:00:00"),
    ],
)
def test_timestamp_text_formats(value: str, expected: str) -> None:
    result = convert(text([value]), t.timestamp(9))
    assert result.values[0] == pd.Timestamp(expected)
    assert not result.failed.any()


def test_timestamp_mixed_zones_in_one_column() -> None:
    values = text(["2020-01-01 10:00:00", "2020-01-01T10:00:00+01:00", None, " "])
    result = convert(values, t.timestamp(3))
    assert result.values.tolist()[:2] == [
        pd.Timestamp("2020-01-01 10:00:00"),
        pd.Timestamp("2020-01-01 09:00:00"),
    ]
    assert result.values.isna().tolist() == [False, False, True, True]
    assert not result.failed.any()


def test_timestamp_invalid_text_fails() -> None:
    result = convert(text(["2020-13-45", "2020-01-01 10:00:00", "noon"]), t.timestamp(3))
    assert result.failed.tolist() == [True, False, True]


def test_timestamp_out_of_range_fails() -> None:
    result = convert(text(["9999-01-01 00:00:00", "2000-01-01 00:00:00"]), t.timestamp(3))
    assert result.failed.tolist() == [True, False]


def test_timestamp_truncated_to_precision() -> None:
    result = convert(text(["2020-01-01 10:00:00.123999"]), t.timestamp(3))
    assert result.values[0] == pd.Timestamp("2020-01-01 10:00:00.123")


def test_timestamp_stored_in_ns() -> None:
    result = convert(pd.Series(pd.to_datetime(["2020-01-01"]).as_unit("s")), t.timestamp(3))
    assert str(result.values.dtype) == "datetime64[ns]"


def test_ltz_naive_text_uses_time_zone() -> None:
    options = ConformOptions(time_zone="America/New_York")
    result = convert(text(["2020-01-01 10:00:00"]), t.timestamp_ltz(3), options)
    assert result.values[0] == pd.Timestamp("2020-01-01 15:00:00", tz="UTC")


def test_ltz_offset_text_ignores_time_zone() -> None:
    options = ConformOptions(time_zone="America/New_York")
    result = convert(text(["2020-01-01T10:00:00Z"]), t.timestamp_ltz(3), options)
    assert result.values[0] == pd.Timestamp("2020-01-01 10:00:00", tz="UTC")


def test_ltz_daylight_saving_gap_and_overlap() -> None:
    options = ConformOptions(time_zone="Europe/Berlin")
    values = text(["2020-03-29 02:30:00", "2020-10-25 02:30:00"])
    result = convert(values, t.timestamp_ltz(3), options)
    assert result.values.tolist() == [
        pd.Timestamp("2020-03-29 01:00:00", tz="UTC"),
        pd.Timestamp("2020-10-25 00:30:00", tz="UTC"),
    ]


def test_timestamp_keeps_wall_time_of_ltz_zone_option() -> None:
    options = ConformOptions(time_zone="Europe/Berlin")
    result = convert(text(["2020-01-01 10:00:00"]), t.timestamp(3), options)
    assert result.values[0] == pd.Timestamp("2020-01-01 10:00:00")


@pytest.mark.parametrize(
    ("unit", "value"),
    [("s", 1_600_000_000), ("ms", 1_600_000_000_000), ("us", 1_600_000_000_000_000)],
)
def test_epoch_numbers(unit: str, value: int) -> None:
    result = convert(pd.Series([value]), t.timestamp_ltz(3), ConformOptions(epoch_unit=unit))
    assert result.values[0] == pd.Timestamp("2020-09-13 12:26:40", tz="UTC")


def test_epoch_digit_text() -> None:
    result = convert(text(["1600000000000", "1600000000000.5"]), t.timestamp(3))
    assert result.values[0] == pd.Timestamp("2020-09-13 12:26:40")
    assert not result.failed.any()


def test_epoch_float_seconds() -> None:
    result = convert(pd.Series([1.5]), t.timestamp(3), ConformOptions(epoch_unit="s"))
    assert result.values[0] == pd.Timestamp("1970-01-01 00:00:01.500")


def test_epoch_overflow_fails() -> None:
    result = convert(pd.Series([2**62]), t.timestamp(3))
    assert result.failed.tolist() == [True]


def test_timestamp_format_option() -> None:
    options = ConformOptions(timestamp_format="%d/%m/%Y %H:%M")
    result = convert(text(["02/01/2020 10:30", "bad"]), t.timestamp(3), options)
    assert result.values[0] == pd.Timestamp("2020-01-02 10:30")
    assert result.failed.tolist() == [False, True]


def test_timestamp_format_with_zone() -> None:
    options = ConformOptions(timestamp_format="%d/%m/%Y %H:%M %z")
    result = convert(text(["02/01/2020 10:30 +0100"]), t.timestamp_ltz(3), options)
    assert result.values[0] == pd.Timestamp("2020-01-02 09:30", tz="UTC")


def test_timestamp_from_aware_datetimes() -> None:
    values = pd.Series(pd.to_datetime(["2020-01-01 10:00"]).tz_localize("Europe/Berlin"))
    result = convert(values, t.timestamp(3))
    assert result.values[0] == pd.Timestamp("2020-01-01 09:00")


def test_ltz_from_naive_datetimes() -> None:
    values = pd.Series(pd.to_datetime(["2020-01-01 10:00"]))
    result = convert(values, t.timestamp_ltz(3), ConformOptions(time_zone="Asia/Tokyo"))
    assert result.values[0] == pd.Timestamp("2020-01-01 01:00", tz="UTC")


def test_timestamp_from_python_objects() -> None:
    values = pd.Series([dt.datetime(2020, 1, 1, 10), "2020-01-02 00:00:00", 0], dtype=object)
    result = convert(values, t.timestamp(3))
    assert result.values.tolist() == [
        pd.Timestamp("2020-01-01 10:00"),
        pd.Timestamp("2020-01-02"),
        pd.Timestamp("1970-01-01"),
    ]


def test_timestamp_boolean_fails() -> None:
    assert convert(pd.Series([True]), t.timestamp(3)).failed.tolist() == [True]


def test_date_text() -> None:
    result = convert(text(["2020-02-29", "2021-02-29", "2020-01-01 10:00", ""]), t.DATE)
    assert result.values[0] == pd.Timestamp("2020-02-29")
    assert result.failed.tolist() == [False, True, True, False]
    assert str(result.values.dtype) == "datetime64[ns]"


def test_date_from_timestamp_is_midnight() -> None:
    values = pd.Series(pd.to_datetime(["2020-01-01 23:59", "1969-12-31 12:00"]))
    result = convert(values, t.DATE)
    assert result.values.tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("1969-12-31")]


def test_date_from_days_and_objects() -> None:
    assert convert(pd.Series([1]), t.DATE).values[0] == pd.Timestamp("1970-01-02")
    objects = pd.Series([dt.date(2020, 5, 6)], dtype=object)
    assert convert(objects, t.DATE).values[0] == pd.Timestamp("2020-05-06")


def test_time_text() -> None:
    result = convert(text(["10:30", "23:59:59.5", "24:00", "7:05:01.123456789", "x"]), t.TIME)
    assert result.values[0] == pd.Timedelta("10:30:00")
    assert result.values[1] == pd.Timedelta("23:59:59.5")
    assert result.values[3] == pd.Timedelta(hours=7, minutes=5, seconds=1, nanoseconds=123456789)
    assert result.failed.tolist() == [False, False, True, False, True]


def test_time_from_numbers_and_objects() -> None:
    assert convert(pd.Series([90_000]), t.TIME).values[0] == pd.Timedelta("00:01:30")
    objects = pd.Series([dt.time(1, 2, 3)], dtype=object)
    assert convert(objects, t.TIME).values[0] == pd.Timedelta("01:02:03")
    day = pd.Series(pd.to_timedelta(["25h"]))
    assert convert(day, t.TIME).failed.tolist() == [True]


def test_interval_values() -> None:
    result = convert(text(["5s", "1 days 00:00:01", "x"]), t.INTERVAL)
    assert result.values[0] == pd.Timedelta("5s")
    assert result.values[1] == pd.Timedelta("1 days 00:00:01")
    assert result.failed.tolist() == [False, False, True]
    assert convert(pd.Series([1500]), t.INTERVAL).values[0] == pd.Timedelta("1.5s")


def test_time_nulls_stay_null() -> None:
    result = convert(pd.Series([np.nan, None], dtype=object), t.TIME)
    assert result.values.isna().all()
    assert not result.failed.any()
