"""The clock, CURRENT_WATERMARK, TIMESTAMPADD, TIMESTAMPDIFF and TO_TIMESTAMP_LTZ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.sql.expression_helpers import compile_text, context, frame, run, value
from workbench.events.time import MIN_WATERMARK
from workbench.events.types import TimeAttribute
from workbench.sql.evaluate import evaluate

NOW = pd.Timestamp("2024-03-10 12:34:56.789", tz="UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("CURRENT_TIMESTAMP", NOW, id="current-timestamp"),
        pytest.param("NOW()", NOW, id="now"),
        pytest.param("CURRENT_ROW_TIMESTAMP()", NOW, id="current-row-timestamp"),
        pytest.param(
            "LOCALTIMESTAMP", pd.Timestamp("2024-03-10 13:34:56.789"), id="localtimestamp"
        ),
        pytest.param("CURRENT_DATE", pd.Timestamp("2024-03-10"), id="current-date"),
        pytest.param("CURRENT_TIME", pd.Timedelta("13:34:56"), id="current-time"),
        pytest.param("UNIX_TIMESTAMP()", int(NOW.value // 1_000_000_000), id="unix-timestamp-now"),
    ],
)
def test_clock_reads_context(text: str, expected: object) -> None:
    assert value(text, time_zone="Europe/Berlin") == expected


def test_clock_is_one_value_per_batch() -> None:
    values = run("CURRENT_TIMESTAMP", frame(n=[1, 2, 3]))
    assert values == [NOW, NOW, NOW]


def test_proctime_type_is_processing_time_attribute() -> None:
    type = compile_text("PROCTIME()").type
    assert type.kind.value == "TIMESTAMP_LTZ"
    assert type.time_attribute is TimeAttribute.PROCTIME


def test_current_watermark_per_row() -> None:
    data = frame(rowtime=["2024-01-01 00:00:05", "2024-01-01 00:00:09", "2024-01-01 00:00:12"])
    marks = np.array(
        [
            MIN_WATERMARK,
            pd.Timestamp("2024-01-01 00:00:00").value,
            pd.Timestamp("2024-01-01 00:00:04").value,
        ]
    )
    ctx = context(row_watermarks=marks)
    result = evaluate(compile_text("CURRENT_WATERMARK(rowtime)"), data, ctx)
    assert result.isna().tolist() == [True, False, False]
    assert result.iloc[2] == pd.Timestamp("2024-01-01 00:00:04")


def test_current_watermark_filters_late_rows() -> None:
    data = frame(rowtime=["2024-01-01 00:00:05", "2024-01-01 00:00:01"])
    marks = np.array([MIN_WATERMARK, pd.Timestamp("2024-01-01 00:00:03").value])
    ctx = context(row_watermarks=marks)
    text = "CURRENT_WATERMARK(rowtime) IS NULL OR rowtime > CURRENT_WATERMARK(rowtime)"
    assert evaluate(compile_text(text), data, ctx).tolist() == [True, False]


def test_current_watermark_without_watermarks_is_null() -> None:
    data = frame(rowtime=["2024-01-01 00:00:05"])
    assert run("CURRENT_WATERMARK(rowtime)", data) == [None]


_START = "TIMESTAMP '2017-11-29 22:58:58.998'"


@pytest.mark.parametrize(
    ("unit", "count", "expected"),
    [
        pytest.param("YEAR", 1, "2018-11-29 22:58:58.998", id="year"),
        pytest.param("QUARTER", 1, "2018-02-28 22:58:58.998", id="quarter-clips-day"),
        pytest.param("MONTH", 3, "2018-02-28 22:58:58.998", id="month-clips-day"),
        pytest.param("MONTH", -1, "2017-10-29 22:58:58.998", id="month-back"),
        pytest.param("WEEK", 1, "2017-12-06 22:58:58.998", id="week"),
        pytest.param("DAY", -61, "2017-09-29 22:58:58.998", id="days-back"),
        pytest.param("HOUR", 3, "2017-11-30 01:58:58.998", id="hours"),
        pytest.param("MINUTE", -1000, "2017-11-29 06:18:58.998", id="minutes-back"),
        pytest.param("SECOND", 3, "2017-11-29 22:59:01.998", id="seconds"),
        pytest.param("SQL_TSI_DAY", 1, "2017-11-30 22:58:58.998", id="sql-tsi-unit"),
    ],
)
def test_timestampadd(unit: str, count: int, expected: str) -> None:
    assert value(f"TIMESTAMPADD({unit}, {count}, {_START})") == pd.Timestamp(expected)


def test_timestampadd_date_by_days_is_date() -> None:
    assert value("TIMESTAMPADD(DAY, 1, DATE '2016-06-15')") == pd.Timestamp("2016-06-16")
    assert compile_text("TIMESTAMPADD(DAY, 1, day)").type.sql() == "DATE"
    assert compile_text("TIMESTAMPADD(HOUR, 1, day)").type.sql() == "TIMESTAMP(3)"


def test_timestampadd_null_count() -> None:
    assert value(f"TIMESTAMPADD(HOUR, CAST(NULL AS INT), {_START})") is None


def test_timestampadd_column_counts() -> None:
    data = frame(ts=["2024-01-31 00:00:00", "2024-01-31 00:00:00", None], i=[1, None, 1])
    assert run("TIMESTAMPADD(MONTH, i, ts)", data) == [pd.Timestamp("2024-02-29"), None, None]


@pytest.mark.parametrize(
    ("unit", "start", "end", "expected"),
    [
        pytest.param(
            "DAY",
            "TIMESTAMP '2018-07-03 11:11:11'",
            "TIMESTAMP '2018-07-05 11:11:11'",
            2,
            id="days",
        ),
        pytest.param(
            "DAY", "DATE '2016-06-15'", "TIMESTAMP '2016-06-16 11:11:11'", 1, id="date-timestamp"
        ),
        pytest.param(
            "DAY", "TIMESTAMP '2016-06-15 11:00:00'", "DATE '2016-06-19'", 3, id="truncates"
        ),
        pytest.param(
            "HOUR",
            "TIMESTAMP '2018-07-03 11:11:11'",
            "TIMESTAMP '2018-07-04 12:12:11'",
            25,
            id="hours",
        ),
        pytest.param("HOUR", "DATE '2016-06-15'", "DATE '2016-06-12'", -72, id="negative-hours"),
        pytest.param(
            "MINUTE", "DATE '2016-06-15'", "TIMESTAMP '2016-06-16 11:11:11'", 2111, id="minutes"
        ),
        pytest.param(
            "SECOND",
            "TIMESTAMP '2018-07-03 11:11:11'",
            "TIMESTAMP '2018-07-03 11:12:12'",
            61,
            id="seconds",
        ),
        pytest.param("WEEK", "DATE '2016-08-15'", "DATE '2016-06-18'", -8, id="weeks-back"),
        pytest.param(
            "MONTH", "TIMESTAMP '2016-06-15 11:00:00'", "DATE '2018-05-19'", 23, id="months"
        ),
        pytest.param("MONTH", "DATE '2016-06-15'", "DATE '2018-03-18'", 21, id="months-whole-days"),
        pytest.param(
            "MONTH", "DATE '2018-03-20'", "DATE '2018-01-21'", -1, id="months-back-truncate"
        ),
        pytest.param(
            "QUARTER",
            "TIMESTAMP '2018-01-03 11:11:11'",
            "TIMESTAMP '2018-09-05 11:11:11'",
            2,
            id="quarters",
        ),
        pytest.param(
            "QUARTER", "DATE '2016-06-15'", "DATE '2018-03-18'", 7, id="quarters-truncate"
        ),
        pytest.param("YEAR", "DATE '2015-12-31'", "DATE '2017-01-01'", 1, id="years"),
    ],
)
def test_timestampdiff_follows_flink(unit: str, start: str, end: str, expected: int) -> None:
    assert value(f"TIMESTAMPDIFF({unit}, {start}, {end})") == expected


def test_timestampdiff_null() -> None:
    assert (
        value("TIMESTAMPDIFF(DAY, CAST(NULL AS TIMESTAMP), TIMESTAMP '2016-02-24 12:42:25')")
        is None
    )


def test_timestampdiff_columns() -> None:
    data = frame(
        ts=["2024-01-01 00:00:00", None],
        ltz=["2024-01-01 00:01:30+00:00", "2024-01-01 00:00:00+00:00"],
    )
    assert run("TIMESTAMPDIFF(SECOND, ts, ltz)", data) == [90, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("TO_TIMESTAMP_LTZ(1593718838, 0)", "2020-07-02 19:40:38", id="seconds"),
        pytest.param(
            "TO_TIMESTAMP_LTZ(1593718838150, 3)", "2020-07-02 19:40:38.150", id="milliseconds"
        ),
        pytest.param(
            "TO_TIMESTAMP_LTZ(1.5, 0)", "1970-01-01 00:00:01.500", id="fractional-seconds"
        ),
    ],
)
def test_to_timestamp_ltz(text: str, expected: str) -> None:
    assert value(text) == pd.Timestamp(expected, tz="UTC")


def test_to_timestamp_ltz_column() -> None:
    data = frame(n=[0, None, 1000])
    assert run("TO_TIMESTAMP_LTZ(n, 3)", data) == [
        pd.Timestamp("1970-01-01", tz="UTC"),
        None,
        pd.Timestamp("1970-01-01 00:00:01", tz="UTC"),
    ]
