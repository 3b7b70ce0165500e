"""Casting ARRAY, MAP and ROW values element by element."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import frame, run
from workbench.sql.functions.cast_nested import field_value


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param({"a": 1, "b": 2}, 2, id="dict-by-name"),
        pytest.param((1, 2), 2, id="tuple-by-position"),
        pytest.param([1], None, id="short-list"),
        pytest.param("not a row", None, id="other"),
    ],
)
def test_field_value(row: object, expected: object) -> None:
    assert field_value(row, "b", 1) == expected


def test_nested_arrays_of_rows() -> None:
    data = frame(person=[{"name": "a", "age": 1, "home": None}])
    result = run("CAST(ARRAY[person] AS ARRAY<ROW<n STRING, a STRING, h ROW<c STRING>>>)", data)
    assert result == [[{"n": "a", "a": "1", "h": None}]]


def test_empty_and_null_collections() -> None:
    data = frame(nums=[[], None], attrs=[{}, None])
    assert run("CAST(nums AS ARRAY<STRING>)", data) == [[], None]
    assert run("CAST(attrs AS MAP<STRING, BIGINT>)", data) == [{}, None]
