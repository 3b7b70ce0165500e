"""DATE_FORMAT, TO_TIMESTAMP, TO_DATE, UNIX_TIMESTAMP, FROM_UNIXTIME and CONVERT_TZ."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.sql.expression_helpers import frame, run, value
from workbench.sql.functions.formatting import UNPARSEABLE_EPOCH

_STAMP = "TIMESTAMP '2024-03-05 07:08:09.123456'"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("yyyy-MM-dd HH:mm:ss", "2024-03-05 07:08:09", id="default-layout"),
        pytest.param("yyyy-MM-dd HH:mm:ss.SSS", "2024-03-05 07:08:09.123", id="milliseconds"),
        pytest.param("yyyyMMddHHmmss", "20240305070809", id="compact"),
        pytest.param("yy/M/d", "24/3/5", id="short-fields"),
        pytest.param("EEE, dd MMM yyyy", "Tue, 05 Mar 2024", id="names"),
        pytest.param("EEEE MMMM", "Tuesday March", id="full-names"),
        pytest.param("hh:mm a", "07:08 AM", id="twelve-hour"),
        pytest.param("yyyy-MM-dd'T'HH:mm:ss", "2024-03-05T07:08:09", id="quoted-literal"),
        pytest.param("'o''clock' H", "o'clock 7", id="escaped-quote"),
        pytest.param("D", "65", id="day-of-year"),
        pytest.param("SSSSSS", "123456", id="microseconds"),
        pytest.param("XXX", "Z", id="zone-utc"),
    ],
)
def test_date_format_patterns(pattern: str, expected: str) -> None:
    literal = pattern.replace("'", "''")
    assert value(f"DATE_FORMAT({_STAMP}, '{literal}')") == expected


def test_date_format_of_text() -> None:
    assert value("DATE_FORMAT('2024-03-05 07:08:09', 'dd.MM.yyyy')") == "05.03.2024"


def test_date_format_ltz_in_session_zone() -> None:
    data = frame(ltz=["2024-01-01 23:30:00+00:00", None])
    result = run("DATE_FORMAT(ltz, 'yyyy-MM-dd HH:mm XXX')", data, time_zone="Asia/Tokyo")
    assert result == ["2024-01-02 08:30 +09:00", None]


def test_date_format_column() -> None:
    data = frame(ts=["2024-01-01 00:00:00", None, "1999-12-31 23:59:59.999"])
    assert run("DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss.SSS')", data) == [
        "2024-01-01 00:00:00.000",
        None,
        "1999-12-31 23:59:59.999",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("TO_TIMESTAMP('2017-09-15 00:00:00')", "2017-09-15 00:00:00", id="default"),
        pytest.param(
            "TO_TIMESTAMP('2017-09-15 01:02:03.456')", "2017-09-15 01:02:03.456", id="fraction"
        ),
        pytest.param("TO_TIMESTAMP('2017-09-15')", "2017-09-15 00:00:00", id="date-only"),
        pytest.param(
            "TO_TIMESTAMP('20170915000000', 'yyyyMMddHHmmss')", "2017-09-15 00:00:00", id="pattern"
        ),
        pytest.param(
            "TO_TIMESTAMP('15/09/2017 3:04 PM', 'dd/MM/yyyy h:mm a')",
            "2017-09-15 15:04:00",
            id="am-pm",
        ),
        pytest.param(
            "TO_TIMESTAMP('Sep 15 2017', 'MMM dd yyyy')", "2017-09-15 00:00:00", id="month-name"
        ),
        pytest.param(
            "TO_TIMESTAMP('2017-09-15T01:00:00+02:00')", "2017-09-14 23:00:00", id="iso-offset"
        ),
    ],
)
def test_to_timestamp(text: str, expected: str) -> None:
    assert value(text) == pd.Timestamp(expected)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("TO_TIMESTAMP('not a time')", id="garbage"),
        pytest.param("TO_TIMESTAMP('2017-02-30 00:00:00')", id="impossible-day"),
        pytest.param("TO_TIMESTAMP('2017-13-01 00:00:00')", id="impossible-month"),
        pytest.param("TO_TIMESTAMP('2017-09-15', 'yyyyMMdd')", id="wrong-pattern"),
        pytest.param("TO_TIMESTAMP(NULL)", id="null"),
    ],
)
def test_to_timestamp_invalid_is_null(text: str) -> None:
    assert value(text) is None


def test_to_timestamp_column_mixed_layouts() -> None:
    data = frame(
        s=["2024-01-02 03:04:05", "2024-1-2 3:04:05", None, "bad", "2024-01-02T03:04:05.5"]
    )
    assert run("TO_TIMESTAMP(s)", data) == [
        pd.Timestamp("2024-01-02 03:04:05"),
        pd.Timestamp("2024-01-02 03:04:05"),
        None,
        None,
        pd.Timestamp("2024-01-02 03:04:05.5"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("TO_DATE('2017-09-15')", "2017-09-15", id="default"),
        pytest.param("TO_DATE('2017-09-15 00:00:00')", "2017-09-15", id="with-time"),
        pytest.param("TO_DATE('15.09.2017', 'dd.MM.yyyy')", "2017-09-15", id="pattern"),
    ],
)
def test_to_date(text: str, expected: str) -> None:
    assert value(text) == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        pytest.param(
            "UNIX_TIMESTAMP('1970-01-01 08:00:01.001', 'yyyy-MM-dd HH:mm:ss.SSS')",
            "Europe/Berlin",
            25201,
            id="session-zone",
        ),
        pytest.param(
            "UNIX_TIMESTAMP('1970-01-01 08:00:01.001 +0800', 'yyyy-MM-dd HH:mm:ss.SSS X')",
            "Europe/Berlin",
            1,
            id="text-zone",
        ),
        pytest.param("UNIX_TIMESTAMP('1970-01-01 08:00:01')", "UTC", 28801, id="default-pattern"),
        pytest.param(
            "UNIX_TIMESTAMP('nonsense')", "UTC", UNPARSEABLE_EPOCH, id="unparseable-min-value"
        ),
        pytest.param("UNIX_TIMESTAMP(NULL)", "UTC", None, id="null"),
    ],
)
def test_unix_timestamp(text: str, zone: str, expected: int | None) -> None:
    assert value(text, time_zone=zone) == expected


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        pytest.param("FROM_UNIXTIME(44)", "UTC", "1970-01-01 00:00:44", id="utc"),
        pytest.param("FROM_UNIXTIME(44)", "Asia/Tokyo", "1970-01-01 09:00:44", id="session-zone"),
        pytest.param("FROM_UNIXTIME(86400, 'yyyy/MM/dd')", "UTC", "1970/01/02", id="pattern"),
        pytest.param("FROM_UNIXTIME(NULL)", "UTC", None, id="null"),
    ],
)
def test_from_unixtime(text: str, zone: str, expected: str | None) -> None:
    assert value(text, time_zone=zone) == expected


def test_convert_tz() -> None:
    assert (
        value("CONVERT_TZ('1970-01-01 00:00:00', 'UTC', 'America/Los_Angeles')")
        == "1969-12-31 16:00:00"
    )
    assert (
        value("CONVERT_TZ('2024-06-01 12:00:00', 'Europe/Berlin', 'UTC')") == "2024-06-01 10:00:00"
    )
