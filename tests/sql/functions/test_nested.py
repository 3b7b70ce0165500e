"""ROW fields, subscripts, constructors and collection functions."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import compile_text, frame, run, value

_PEOPLE = [
    {"name": "ann", "age": 30, "home": {"city": "Oslo"}},
    None,
    {"name": "bob", "age": None, "home": None},
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("person.name", ["ann", None, "bob"], id="field"),
        pytest.param("person.age + 1", [31, None, None], id="field-arithmetic"),
        pytest.param("person.home.city", ["Oslo", None, None], id="nested-field"),
        pytest.param("(person).NAME", ["ann", None, "bob"], id="field-case-insensitive"),
    ],
)
def test_row_fields(text: str, expected: list[object]) -> None:
    assert run(text, frame(person=_PEOPLE)) == expected


def test_field_of_positional_row() -> None:
    assert run("person.age", frame(person=[("cy", 5, None)])) == [5]


def test_field_types() -> None:
    assert compile_text("person.age").type.sql() == "INT"
    assert compile_text("person.home").type.sql() == "ROW<`city` STRING>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("tags[1]", ["a", None, None], id="first"),
        pytest.param("tags[2]", ["b", None, None], id="second"),
        pytest.param("tags[3]", [None, None, None], id="past-end"),
        pytest.param("tags[0]", [None, None, None], id="zero-index"),
        pytest.param("CARDINALITY(tags)", [2, None, 0], id="cardinality"),
        pytest.param("ARRAY_CONTAINS(tags, 'b')", [True, None, False], id="contains"),
        pytest.param("ARRAY_JOIN(tags, '+')", ["a+b", None, ""], id="join"),
        pytest.param("ELEMENT(nums)", [None, 7, None], id="element"),
    ],
)
def test_arrays(text: str, expected: list[object]) -> None:
    data = frame(tags=[["a", "b"], None, []], nums=[[1, 2], [7], []])
    assert run(text, data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("attrs['a']", [1, None, None], id="present"),
        pytest.param("attrs['zz']", [None, None, None], id="absent"),
        pytest.param("CARDINALITY(attrs)", [2, None, 0], id="cardinality"),
        pytest.param("MAP_KEYS(attrs)", [["a", "b"], None, []], id="keys"),
        pytest.param("MAP_VALUES(attrs)", [[1, 2], None, []], id="values"),
    ],
)
def test_maps(text: str, expected: list[object]) -> None:
    data = frame(attrs=[{"a": 1, "b": 2}, None, {}])
    assert run(text, data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ARRAY[1, 2, 3]", [1, 2, 3], id="array"),
        pytest.param("ARRAY[1, NULL]", [1, None], id="array-null-element"),
        pytest.param("ARRAY[1, 2][2]", 2, id="array-subscript"),
        pytest.param("MAP['a', 1, 'b', 2]", {"a": 1, "b": 2}, id="map"),
        pytest.param("MAP['a', 1]['a']", 1, id="map-subscript"),
        pytest.param("ROW(1, 'x')", {"EXPR$0": 1, "EXPR$1": "x"}, id="row"),
        pytest.param("ARRAY_CONTAINS(ARRAY[1, NULL], NULL)", True, id="contains-null"),
        pytest.param(
            "ARRAY_JOIN(ARRAY['a', NULL, 'b'], ',', '?')", "a,?,b", id="join-null-replacement"
        ),
        pytest.param("ARRAY_JOIN(ARRAY['a', NULL, 'b'], ',')", "a,b", id="join-skips-null"),
        pytest.param("ELEMENT(ARRAY[1, 2])", None, id="element-many-null"),
    ],
)
def test_constructors(text: str, expected: object) -> None:
    assert value(text) == expected


def test_array_constructor_over_columns() -> None:
    data = frame(n=[1, None], i=[2, 3])
    assert run("ARRAY[n, i]", data) == [[1, 2], [None, 3]]


def test_constructor_types() -> None:
    assert compile_text("ARRAY[i, n]").type.sql() == "ARRAY<BIGINT>"
    assert compile_text("MAP['k', d]").type.sql() == "MAP<STRING, DOUBLE>"
    assert compile_text("ROW(i, s)").type.sql() == "ROW<`EXPR$0` INT, `EXPR$1` STRING>"
