"""Comparisons: = <> < <= > >=, BETWEEN, IN, IS [NOT] NULL/TRUE/FALSE/UNKNOWN, IS DISTINCT FROM."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import frame, run, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1 = 1", True, id="equal"),
        pytest.param("1 <> 2", True, id="not-equal"),
        pytest.param("1 != 1", False, id="bang-equal"),
        pytest.param("2 > 1", True, id="greater"),
        pytest.param("2 >= 2", True, id="greater-equal"),
        pytest.param("1 < 1.5", True, id="int-less-decimal"),
        pytest.param("'a' < 'b'", True, id="string-order"),
        pytest.param("1 = NULL", None, id="equal-null"),
        pytest.param("NULL <> NULL", None, id="null-not-equal-null"),
        pytest.param("TRUE = TRUE", True, id="booleans"),
        pytest.param(
            "DATE '2024-01-01' < TIMESTAMP '2024-01-01 00:00:01'", True, id="date-vs-timestamp"
        ),
    ],
)
def test_constant_comparisons(text: str, expected: object) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("n > 5", [False, True, None], id="greater"),
        pytest.param("n = 6", [False, True, None], id="equal"),
        pytest.param("s = 'a'", [True, False, None], id="string-equal"),
        pytest.param("s <> 'a'", [False, True, None], id="string-not-equal"),
        pytest.param("s >= 'b'", [False, True, None], id="string-order"),
        pytest.param("ts > '2024-01-01 12:00:00'", [False, True, None], id="timestamp-vs-text"),
        pytest.param("day = '2024-01-01'", [True, False, None], id="date-vs-text"),
        pytest.param("d < n", [True, False, None], id="double-vs-bigint"),
    ],
)
def test_column_comparisons(text: str, expected: list[object]) -> None:
    data = frame(
        n=[1, 6, None],
        s=["a", "b", None],
        ts=["2024-01-01 10:00:00", "2024-01-01 13:00:00", None],
        day=["2024-01-01", "2024-01-02", None],
        d=[0.5, 7.0, 1.0],
    )
    assert run(text, data) == expected


def test_timestamp_compared_with_ltz() -> None:
    data = frame(ts=["2024-01-01 10:00:00"], ltz=["2024-01-01 09:30:00+00:00"])
    assert run("ts > ltz", data, time_zone="UTC") == [True]
    assert run("ts > ltz", data, time_zone="Europe/Berlin") == [False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("12 BETWEEN 10 AND 15", True, id="inside"),
        pytest.param("12 BETWEEN 15 AND 12", False, id="reversed-bounds"),
        pytest.param("12 BETWEEN SYMMETRIC 15 AND 12", True, id="symmetric"),
        pytest.param("12 BETWEEN 10 AND NULL", None, id="null-high"),
        pytest.param("12 BETWEEN NULL AND 10", False, id="null-low-false"),
        pytest.param("12 BETWEEN SYMMETRIC NULL AND 12", None, id="symmetric-null"),
        pytest.param("12 NOT BETWEEN 15 AND 12", True, id="not-between"),
        pytest.param("12 NOT BETWEEN NULL AND 15", None, id="not-between-null-low"),
        pytest.param("12 NOT BETWEEN 15 AND NULL", True, id="not-between-null-high"),
        pytest.param("12 NOT BETWEEN SYMMETRIC 12 AND NULL", None, id="not-symmetric-null"),
    ],
)
def test_between_follows_flink(text: str, expected: object) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("4 IN (1, 2, 3)", False, id="absent"),
        pytest.param("1 IN (1, 2, NULL)", True, id="found-with-null"),
        pytest.param("4 IN (1, 2, NULL)", None, id="absent-with-null"),
        pytest.param("NULL IN (1, 2)", None, id="null-value"),
        pytest.param("4 NOT IN (1, 2, 3)", True, id="not-in"),
        pytest.param("1 NOT IN (1, 2, NULL)", False, id="not-in-found"),
        pytest.param("4 NOT IN (1, 2, NULL)", None, id="not-in-absent-with-null"),
        pytest.param("'b' IN ('a', 'b')", True, id="strings"),
    ],
)
def test_in_follows_flink(text: str, expected: object) -> None:
    assert value(text) == expected


def test_in_over_columns() -> None:
    data = frame(s=["a", "z", None], n=[1, 5, 2])
    assert run("s IN ('a', 'b')", data) == [True, False, None]
    assert run("n IN (1, 2, NULL)", data) == [True, None, True]
    assert run("n IN (n, 0)", data) == [True, True, True]


def test_in_timestamps_with_text() -> None:
    data = frame(ts=["2024-01-01 00:00:00", "2024-01-02 00:00:00"])
    assert run("ts IN ('2024-01-01 00:00:00')", data) == [True, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("flag IS NULL", [False, False, True], id="is-null"),
        pytest.param("flag IS NOT NULL", [True, True, False], id="is-not-null"),
        pytest.param("flag IS TRUE", [True, False, False], id="is-true"),
        pytest.param("flag IS NOT TRUE", [False, True, True], id="is-not-true"),
        pytest.param("flag IS FALSE", [False, True, False], id="is-false"),
        pytest.param("flag IS NOT FALSE", [True, False, True], id="is-not-false"),
        pytest.param("flag IS UNKNOWN", [False, False, True], id="is-unknown"),
        pytest.param("flag IS NOT UNKNOWN", [True, True, False], id="is-not-unknown"),
        pytest.param("NOT (flag IS NULL)", [True, True, False], id="not-parenthesized"),
    ],
)
def test_is_tests_never_return_null(text: str, expected: list[bool]) -> None:
    data = frame(flag=[True, False, None])
    assert run(text, data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1 IS DISTINCT FROM NULL", True, id="value-vs-null"),
        pytest.param("NULL IS DISTINCT FROM NULL", False, id="null-vs-null"),
        pytest.param("1 IS NOT DISTINCT FROM NULL", False, id="not-distinct-value-null"),
        pytest.param("NULL IS NOT DISTINCT FROM NULL", True, id="not-distinct-nulls"),
        pytest.param("2 IS DISTINCT FROM 2", False, id="equal-values"),
    ],
)
def test_is_distinct_from(text: str, expected: bool) -> None:
    assert value(text) == expected


def test_is_distinct_from_columns() -> None:
    data = frame(n=[1, None, None, 3], i=[1, None, 2, 4])
    assert run("n IS DISTINCT FROM i", data) == [False, False, True, True]
    assert run("n IS NOT DISTINCT FROM i", data) == [True, True, False, False]


def test_nested_equality() -> None:
    data = frame(nums=[[1, 2], [3], None])
    assert run("nums = ARRAY[1, 2]", data) == [True, False, None]
