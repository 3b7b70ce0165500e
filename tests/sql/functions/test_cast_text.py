"""Text forms of values for CAST, and parsing of number and time text."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.events import types as t
from workbench.sql.functions.cast_text import (
    decimal_text,
    interval_text,
    nested_text,
    number_text,
    parse_numbers,
    parse_times_of_day,
)


@pytest.mark.parametrize(
    ("number", "single", "expected"),
    [
        pytest.param(123.456, False, "123.456", id="plain"),
        pytest.param(-0.0, False, "-0.0", id="negative-zero"),
        pytest.param(1e7, False, "1.0E7", id="large"),
        pytest.param(1.5e-5, False, "1.5E-5", id="small"),
        pytest.param(float("inf"), False, "Infinity", id="infinity"),
        pytest.param(123.456, True, "123.456", id="float-shortest"),
    ],
)
def test_number_text_matches_java(number: float, single: bool, expected: str) -> None:
    assert number_text(number, single) == expected


def test_interval_text() -> None:
    assert interval_text(pd.Timedelta(milliseconds=10)) == "+0 00:00:00.010"
    assert interval_text(-pd.Timedelta(days=1, hours=2)) == "-1 02:00:00.000"


def test_decimal_text_large_values_fall_back() -> None:
    series = pd.Series([1e20, None, -2.5], dtype="Float64")
    assert decimal_text(series, 1).tolist() == ["100000000000000000000.0", pd.NA, "-2.5"]


def test_nested_text() -> None:
    assert nested_text({"a": [1, None], "b": {"c": True}}) == "{a=[1, NULL], b={c=TRUE}}"


@pytest.mark.parametrize(
    ("text", "target", "value", "valid"),
    [
        pytest.param("42", t.INT, 42, True, id="int"),
        pytest.param("+7", t.INT, 7, True, id="plus-sign"),
        pytest.param("2147483648", t.INT, 0, False, id="int-overflow"),
        pytest.param("9.99", t.SMALLINT, 9, True, id="truncates"),
        pytest.param("1e2", t.BIGINT, 100, True, id="exponent"),
        pytest.param("NaN", t.DOUBLE, None, True, id="nan-double"),
        pytest.param("x1", t.DOUBLE, None, False, id="invalid"),
    ],
)
def test_parse_numbers(text: str, target: t.DataType, value: object, valid: bool) -> None:
    values, mask = parse_numbers(pd.Series([text], dtype=t.STRING.pandas_dtype()), target)
    assert bool(mask[0]) is not valid
    if valid and value is not None:
        assert values[0] == value


def test_parse_times_of_day() -> None:
    ns, mask = parse_times_of_day(
        pd.Series(["01:02", "23:59:59.5", "24:00", None], dtype=t.STRING.pandas_dtype())
    )
    assert mask.tolist() == [False, False, True, True]
    assert ns[0] == pd.Timedelta("01:02:00").value
    assert ns[1] == pd.Timedelta("23:59:59.5").value
