"""EXTRACT, YEAR ... SECOND, and FLOOR/CEIL(t TO unit)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.sql.expression_helpers import compile_text, frame, run, value

_STAMP = "TIMESTAMP '1996-11-10 06:55:44.123'"


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        pytest.param("YEAR", 1996, id="year"),
        pytest.param("QUARTER", 4, id="quarter"),
        pytest.param("MONTH", 11, id="month"),
        pytest.param("WEEK", 45, id="iso-week"),
        pytest.param("DAY", 10, id="day"),
        pytest.param("HOUR", 6, id="hour"),
        pytest.param("MINUTE", 55, id="minute"),
        pytest.param("SECOND", 44, id="second"),
        pytest.param("MILLISECOND", 44123, id="millisecond-includes-seconds"),
        pytest.param("DOY", 315, id="day-of-year"),
        pytest.param("DOW", 1, id="day-of-week-sunday-is-1"),
        pytest.param("ISODOW", 7, id="iso-day-of-week"),
        pytest.param("DECADE", 199, id="decade"),
        pytest.param("CENTURY", 20, id="century"),
        pytest.param("MILLENNIUM", 2, id="millennium"),
        pytest.param("EPOCH", 847608944, id="epoch"),
    ],
)
def test_extract_from_timestamp(unit: str, expected: int) -> None:
    assert value(f"EXTRACT({unit} FROM {_STAMP})") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("YEAR(DATE '1994-09-27')", 1994, id="year"),
        pytest.param("QUARTER(DATE '1994-09-27')", 3, id="quarter"),
        pytest.param("MONTH(DATE '1994-09-27')", 9, id="month"),
        pytest.param("WEEK(DATE '1994-09-27')", 39, id="week"),
        pytest.param("DAYOFYEAR(DATE '1994-09-27')", 270, id="day-of-year"),
        pytest.param("DAYOFMONTH(DATE '1994-09-27')", 27, id="day-of-month"),
        pytest.param("DAYOFWEEK(DATE '1994-09-27')", 3, id="day-of-week"),
        pytest.param("HOUR(TIMESTAMP '1994-09-27 13:14:15')", 13, id="hour"),
        pytest.param("MINUTE(TIMESTAMP '1994-09-27 13:14:15')", 14, id="minute"),
        pytest.param("SECOND(TIMESTAMP '1994-09-27 13:14:15')", 15, id="second"),
        pytest.param("EXTRACT(DAY FROM DATE '2006-06-05')", 5, id="extract-day-from-date"),
        pytest.param("EXTRACT(HOUR FROM TIME '06:55:44')", 6, id="extract-hour-from-time"),
        pytest.param(
            "EXTRACT(DAY FROM INTERVAL '3 04:00' DAY TO MINUTE)", 3, id="extract-day-from-interval"
        ),
        pytest.param("EXTRACT(YEAR FROM CAST(NULL AS DATE))", None, id="extract-null"),
    ],
)
def test_extract_shorthands(text: str, expected: object) -> None:
    assert value(text) == expected


def test_extract_from_ltz_uses_session_zone() -> None:
    data = frame(ltz=["2024-01-01 23:30:00+00:00"])
    assert run("HOUR(ltz)", data, time_zone="Asia/Tokyo") == [8]
    assert run("DAYOFMONTH(ltz)", data, time_zone="Asia/Tokyo") == [2]
    assert run("EXTRACT(EPOCH FROM ltz)", data, time_zone="Asia/Tokyo") == [1704151800]


def test_extract_type_is_bigint() -> None:
    assert compile_text("EXTRACT(YEAR FROM ts)").type.sql() == "BIGINT"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("FLOOR(x TO YEAR)", "1996-01-01 00:00:00", id="floor-year"),
        pytest.param("FLOOR(x TO QUARTER)", "1996-10-01 00:00:00", id="floor-quarter"),
        pytest.param("FLOOR(x TO MONTH)", "1996-11-01 00:00:00", id="floor-month"),
        pytest.param("FLOOR(x TO WEEK)", "1996-11-10 00:00:00", id="floor-week-sunday"),
        pytest.param("FLOOR(x TO DAY)", "1996-11-10 00:00:00", id="floor-day"),
        pytest.param("FLOOR(x TO MINUTE)", "1996-11-10 06:55:00", id="floor-minute"),
        pytest.param("FLOOR(x TO SECOND)", "1996-11-10 06:55:44", id="floor-second"),
        pytest.param("FLOOR(x TO MILLISECOND)", "1996-11-10 06:55:44.123", id="floor-millisecond"),
        pytest.param("CEIL(x TO YEAR)", "1997-01-01 00:00:00", id="ceil-year"),
        pytest.param("CEIL(x TO MONTH)", "1996-12-01 00:00:00", id="ceil-month"),
        pytest.param("CEIL(x TO DAY)", "1996-11-11 00:00:00", id="ceil-day"),
        pytest.param("CEIL(x TO MINUTE)", "1996-11-10 06:56:00", id="ceil-minute"),
        pytest.param("CEIL(x TO SECOND)", "1996-11-10 06:55:45", id="ceil-second"),
    ],
)
def test_floor_and_ceil_timestamps(text: str, expected: str) -> None:
    data = frame(ts=["1996-11-10 06:55:44.123456"])
    assert run(text.replace("x", "ts"), data) == [pd.Timestamp(expected)]


def test_ceil_on_boundary_stays() -> None:
    assert value("CEIL(TIMESTAMP '2024-01-01 10:00:00' TO HOUR)") == pd.Timestamp(
        "2024-01-01 10:00:00"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("FLOOR(TIME '12:44:31' TO MINUTE)", pd.Timedelta("12:44:00"), id="floor-time"),
        pytest.param("CEIL(TIME '12:44:31' TO MINUTE)", pd.Timedelta("12:45:00"), id="ceil-time"),
        pytest.param(
            "FLOOR(DATE '1996-11-10' TO MONTH)", pd.Timestamp("1996-11-01"), id="floor-date"
        ),
        pytest.param("CEIL(DATE '1996-11-10' TO YEAR)", pd.Timestamp("1997-01-01"), id="ceil-date"),
    ],
)
def test_floor_and_ceil_times_and_dates(text: str, expected: object) -> None:
    assert value(text) == expected


def test_floor_ltz_in_session_zone() -> None:
    data = frame(ltz=["2024-01-01 23:30:00+00:00"])
    result = run("FLOOR(ltz TO DAY)", data, time_zone="Asia/Tokyo")
    assert result == [pd.Timestamp("2024-01-01 15:00:00", tz="UTC")]


def test_floor_keeps_nulls() -> None:
    data = frame(ts=[None, "2024-05-05 05:05:05"])
    assert run("FLOOR(ts TO HOUR)", data) == [None, pd.Timestamp("2024-05-05 05:00:00")]
