"""Arithmetic operators and concatenation: + - * / % MOD, unary -, ||."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.sql.expression_helpers import compile_text, frame, run, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1 + 2", 3, id="int-plus-int"),
        pytest.param("7 - 10", -3, id="int-minus-int"),
        pytest.param("6 * 7", 42, id="int-times-int"),
        pytest.param("7 / 2", 3, id="int-divide-truncates"),
        pytest.param("-7 / 2", -3, id="negative-divide-toward-zero"),
        pytest.param("7 / -2", -3, id="negative-divisor-toward-zero"),
        pytest.param("-8 / 2", -4, id="negative-exact-divide"),
        pytest.param("7.0 / 2", 3.5, id="decimal-divide"),
        pytest.param("7 % 3", 1, id="modulo"),
        pytest.param("-7 % 3", -1, id="modulo-sign-of-dividend"),
        pytest.param("7 % -3", 1, id="modulo-negative-divisor"),
        pytest.param("MOD(10, 4)", 2, id="mod-function"),
        pytest.param("1.5 + 1", 2.5, id="decimal-plus-int"),
        pytest.param("2 * 1.25", 2.5, id="int-times-decimal"),
        pytest.param("1e3 / 4", 250.0, id="double-divide"),
        pytest.param("-(3)", -3, id="unary-minus"),
        pytest.param("1 / 0", None, id="divide-by-zero-null"),
        pytest.param("1.5 / 0", None, id="decimal-divide-by-zero-null"),
        pytest.param("5 % 0", None, id="modulo-by-zero-null"),
        pytest.param("1 + NULL", None, id="null-operand"),
        pytest.param("'ab' || 'cd'", "abcd", id="concat"),
        pytest.param("'ab' || NULL", None, id="concat-null"),
    ],
)
def test_constant_arithmetic(text: str, expected: object) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "expected_type"),
    [
        pytest.param("i + i", "INT", id="int-int"),
        pytest.param("i + n", "BIGINT", id="int-bigint"),
        pytest.param("i * d", "DOUBLE", id="int-double"),
        pytest.param("i / i", "INT", id="int-divide"),
        pytest.param("i / n", "BIGINT", id="int-bigint-divide"),
        pytest.param("i / d", "DOUBLE", id="int-double-divide"),
        pytest.param("m / i", "DECIMAL(38, 6)", id="decimal-divide"),
        pytest.param("i % n", "BIGINT", id="modulo-widens"),
        pytest.param("ts + INTERVAL '1' DAY", "TIMESTAMP(3)", id="timestamp-plus-interval"),
        pytest.param("INTERVAL '1' DAY + day", "DATE", id="interval-plus-date"),
        pytest.param("s || s", "STRING", id="concat"),
    ],
)
def test_result_types(text: str, expected_type: str) -> None:
    assert compile_text(text).type.sql() == expected_type


def test_integer_columns_keep_nulls() -> None:
    data = frame(i=[1, None, 3], n=[10, 20, None])
    assert run("i + n", data) == [11, None, None]


def test_integer_division_by_zero_column() -> None:
    data = frame(i=[6, 6, None], n=[3, 0, 1])
    assert run("i / n", data) == [2, None, None]


def test_integer_division_truncates_toward_zero() -> None:
    data = frame(n=[7, -7, 7, -7, -9223372036854775808], i=[2, 2, -2, -2, -1])
    # BIGINT's smallest value divided by -1 wraps around, as Java's long division does.
    assert run("n / i", data) == [3, -3, -3, 3, -9223372036854775808]


def test_modulo_by_zero_column() -> None:
    data = frame(i=[7, -7, 7], n=[3, 3, 0])
    assert run("i % n", data) == [1, -1, None]


def test_integer_overflow_wraps() -> None:
    data = frame(i=[2**31 - 1])
    assert run("i + CAST(1 AS INT)", data) == [-(2**31)]


def test_decimal_times_column() -> None:
    data = frame(m=[1.25, None])
    assert run("m * 2", data) == [2.5, None]


def test_unary_minus_column() -> None:
    data = frame(d=[1.5, None, -2.0])
    assert run("-d", data) == [-1.5, None, 2.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ts + INTERVAL '90' MINUTE", "2024-01-31 11:30:00", id="plus-minutes"),
        pytest.param("ts - INTERVAL '1' DAY", "2024-01-30 10:00:00", id="minus-day"),
        pytest.param(
            "ts + INTERVAL '1' MONTH", "2024-02-29 10:00:00", id="month-clips-to-leap-day"
        ),
        pytest.param("ts + INTERVAL '13' MONTH", "2025-02-28 10:00:00", id="thirteen-months"),
        pytest.param("ts - INTERVAL '1' YEAR", "2023-01-31 10:00:00", id="minus-year"),
        pytest.param(
            "ts + INTERVAL '1-2' YEAR TO MONTH", "2025-03-31 10:00:00", id="year-to-month"
        ),
        pytest.param(
            "ts + INTERVAL '1 02:03:04' DAY TO SECOND", "2024-02-01 12:03:04", id="day-to-second"
        ),
        pytest.param("INTERVAL '2' HOUR + ts", "2024-01-31 12:00:00", id="interval-first"),
    ],
)
def test_timestamp_interval_arithmetic(text: str, expected: str) -> None:
    data = frame(ts=["2024-01-31 10:00:00"])
    assert run(text, data) == [pd.Timestamp(expected)]


def test_date_plus_interval_stays_date() -> None:
    data = frame(day=["2024-02-28"])
    assert run("day + INTERVAL '1' DAY", data) == [pd.Timestamp("2024-02-29")]


def test_time_plus_interval_wraps_midnight() -> None:
    data = frame(clock=["23:30:00"])
    assert run("clock + INTERVAL '1' HOUR", data) == [pd.Timedelta("00:30:00")]


def test_ltz_plus_month_in_session_zone() -> None:
    # 2024-01-31 23:30 in Berlin is 22:30 UTC; a month later in Berlin is 2024-02-29 23:30.
    data = frame(ltz=["2024-01-31 22:30:00+00:00"])
    result = run("ltz + INTERVAL '1' MONTH", data, time_zone="Europe/Berlin")
    assert result == [pd.Timestamp("2024-02-29 22:30:00", tz="UTC")]


def test_interval_sum() -> None:
    assert value("INTERVAL '1' HOUR + INTERVAL '30' MINUTE") == pd.Timedelta(minutes=90)


def test_interval_times_number() -> None:
    assert value("INTERVAL '1' MINUTE * 5") == pd.Timedelta(minutes=5)


def test_concat_column() -> None:
    data = frame(s=["a", None, "é"])
    assert run("s || '-' || s", data) == ["a-a", None, "é-é"]
