"""Literal values: numbers, intervals and typed date-time literals."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.events.types import TypeKind
from workbench.sql.functions.base import MonthInterval
from workbench.sql.functions.literals import (
    LiteralError,
    interval_literal,
    number_literal,
    time_literal,
)


@pytest.mark.parametrize(
    ("text", "value", "type"),
    [
        pytest.param("5", 5, "INT", id="int"),
        pytest.param("2147483648", 2147483648, "BIGINT", id="bigint"),
        pytest.param("1.50", 1.5, "DECIMAL(3, 2)", id="decimal"),
        pytest.param("0.5", 0.5, "DECIMAL(1, 1)", id="decimal-fraction"),
        pytest.param("1e3", 1000.0, "DOUBLE", id="double"),
    ],
)
def test_number_literal(text: str, value: float, type: str) -> None:
    result, result_type = number_literal(text)
    assert result == value
    assert result_type.sql() == type


@pytest.mark.parametrize(
    ("text", "start", "end", "expected"),
    [
        pytest.param("5", "MINUTE", None, pd.Timedelta(minutes=5), id="minutes"),
        pytest.param("10.5", "SECOND", None, pd.Timedelta(seconds=10.5), id="fractional-seconds"),
        pytest.param("-2", "HOUR", None, pd.Timedelta(hours=-2), id="negative"),
        pytest.param("1", "WEEK", None, pd.Timedelta(days=7), id="week"),
        pytest.param("250", "MILLISECOND", None, pd.Timedelta(milliseconds=250), id="milliseconds"),
        pytest.param("1", "MONTH", None, MonthInterval(1), id="month"),
        pytest.param("2", "YEAR", None, MonthInterval(24), id="year"),
        pytest.param("1", "QUARTER", None, MonthInterval(3), id="quarter"),
        pytest.param("2-10", "YEAR", "MONTH", MonthInterval(34), id="year-to-month"),
        pytest.param(
            "10 00:00:00.004",
            "DAY",
            "SECOND",
            pd.Timedelta(days=10, milliseconds=4),
            id="day-to-second",
        ),
        pytest.param("1 02", "DAY", "HOUR", pd.Timedelta(days=1, hours=2), id="day-to-hour"),
        pytest.param(
            "1 02:03", "DAY", "MINUTE", pd.Timedelta(days=1, hours=2, minutes=3), id="day-to-minute"
        ),
        pytest.param(
            "02:03", "HOUR", "MINUTE", pd.Timedelta(hours=2, minutes=3), id="hour-to-minute"
        ),
        pytest.param(
            "03:04.5",
            "MINUTE",
            "SECOND",
            pd.Timedelta(minutes=3, seconds=4.5),
            id="minute-to-second",
        ),
    ],
)
def test_interval_literal(text: str, start: str, end: str | None, expected: object) -> None:
    assert interval_literal(text, start, end) == expected


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        pytest.param("abc", "MINUTE", None, id="not-a-number"),
        pytest.param("1.5", "MONTH", None, id="fractional-months"),
        pytest.param("1:2", "DAY", "SECOND", id="wrong-layout"),
        pytest.param("1", "FORTNIGHT", None, id="unknown-unit"),
    ],
)
def test_interval_literal_rejects(text: str, start: str, end: str | None) -> None:
    with pytest.raises(LiteralError):
        interval_literal(text, start, end)


def test_month_interval_text() -> None:
    assert str(MonthInterval(14)) == "+1-02"
    assert str(-MonthInterval(3)) == "-0-03"


@pytest.mark.parametrize(
    ("text", "kind", "value", "type"),
    [
        pytest.param("2024-02-29", TypeKind.DATE, pd.Timestamp("2024-02-29"), "DATE", id="date"),
        pytest.param("10:00:00", TypeKind.TIME, pd.Timedelta(hours=10), "TIME", id="time"),
        pytest.param(
            "2024-01-01 10:00:00.123",
            TypeKind.TIMESTAMP,
            pd.Timestamp("2024-01-01 10:00:00.123"),
            "TIMESTAMP(3)",
            id="timestamp-precision-from-digits",
        ),
        pytest.param(
            "2024-01-01 10:00:00",
            TypeKind.TIMESTAMP,
            pd.Timestamp("2024-01-01 10:00"),
            "TIMESTAMP(0)",
            id="timestamp",
        ),
    ],
)
def test_time_literal(text: str, kind: TypeKind, value: object, type: str) -> None:
    result, result_type = time_literal(text, kind)
    assert result == value
    assert result_type.sql() == type


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("2023-02-29", TypeKind.DATE, id="not-a-leap-year"),
        pytest.param("2024-01-01 10:00:00", TypeKind.DATE, id="date-with-time"),
        pytest.param("24:00:00", TypeKind.TIME, id="hour-24"),
        pytest.param("yesterday", TypeKind.TIMESTAMP, id="words"),
    ],
)
def test_time_literal_rejects(text: str, kind: TypeKind) -> None:
    with pytest.raises(LiteralError):
        time_literal(text, kind)
