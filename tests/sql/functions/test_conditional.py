"""CASE, IF, COALESCE, IFNULL, NVL, NULLIF, GREATEST, LEAST, IS_ALPHA, IS_DIGIT, IS_DECIMAL."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.sql.expression_helpers import compile_text, context, frame, run, value
from workbench.sql.evaluate import evaluate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("CASE WHEN 1 > 2 THEN 'a' ELSE 'b' END", "b", id="searched-else"),
        pytest.param("CASE WHEN 1 > 2 THEN 'a' END", None, id="no-else-null"),
        pytest.param("CASE WHEN NULL THEN 'a' ELSE 'b' END", "b", id="null-condition-not-true"),
        pytest.param("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", "two", id="simple-case"),
        pytest.param(
            "CASE NULL WHEN NULL THEN 'same' ELSE 'other' END", "other", id="simple-case-null"
        ),
        pytest.param("CASE WHEN TRUE THEN 1 WHEN TRUE THEN 2 END", 1, id="first-true-wins"),
        pytest.param("CASE WHEN FALSE THEN 1 ELSE 2.5 END", 2.5, id="widens-to-decimal"),
        pytest.param("IF(5 > 3, 5, 3)", 5, id="if"),
        pytest.param("IF(NULL, 'y', 'n')", "n", id="if-null-condition"),
        pytest.param("COALESCE(NULL, 'default')", "default", id="coalesce"),
        pytest.param("COALESCE(NULL, NULL)", None, id="coalesce-all-null"),
        pytest.param("IFNULL(NULL, 5)", 5, id="ifnull"),
        pytest.param("NVL(3, 5)", 3, id="nvl"),
        pytest.param("NULLIF(5, 5)", None, id="nullif-equal"),
        pytest.param("NULLIF(5, 0)", 5, id="nullif-different"),
        pytest.param("GREATEST(1, 5, 3)", 5, id="greatest"),
        pytest.param("LEAST(4, 2, 8)", 2, id="least"),
        pytest.param("GREATEST(1, NULL)", None, id="greatest-null"),
        pytest.param("LEAST('b', 'a')", "a", id="least-strings"),
        pytest.param("IS_ALPHA('abc')", True, id="is-alpha"),
        pytest.param("IS_ALPHA('ab1')", False, id="is-alpha-digit"),
        pytest.param("IS_ALPHA('')", False, id="is-alpha-empty"),
        pytest.param("IS_DIGIT('123')", True, id="is-digit"),
        pytest.param("IS_DIGIT('-1')", False, id="is-digit-sign"),
        pytest.param("IS_DECIMAL('-1.5e3')", True, id="is-decimal"),
        pytest.param("IS_DECIMAL('1.2.3')", False, id="is-decimal-invalid"),
        pytest.param("IS_DECIMAL(NULL)", False, id="is-decimal-null-false"),
    ],
)
def test_constant_conditionals(text: str, expected: object) -> None:
    assert value(text) == expected


def test_case_over_columns() -> None:
    data = frame(n=[1, 7, None, 3])
    text = "CASE WHEN n > 5 THEN 'big' WHEN n IS NULL THEN 'none' ELSE 'small' END"
    assert run(text, data) == ["small", "big", "none", "small"]


def test_simple_case_over_strings() -> None:
    data = frame(s=["GET", "POST", None])
    assert run("CASE s WHEN 'GET' THEN 1 WHEN 'POST' THEN 2 ELSE 0 END", data) == [1, 2, 0]


def test_case_mixes_columns_and_literals() -> None:
    data = frame(n=[1, 10], i=[5, 6])
    assert run("CASE WHEN n > 5 THEN n ELSE i END", data) == [5, 10]


def test_case_result_type_widens() -> None:
    assert compile_text("CASE WHEN flag THEN i ELSE n END").type.sql() == "BIGINT"
    assert compile_text("CASE WHEN flag THEN ts ELSE ltz END").type.kind.value == "TIMESTAMP_LTZ"


def test_case_casts_only_chosen_rows() -> None:
    data = frame(s=["12", "abc", "7"])
    ctx = context()
    text = "CASE WHEN s SIMILAR TO '[0-9]+' THEN CAST(s AS INT) ELSE -1 END"
    assert evaluate(compile_text(text), data, ctx).tolist() == [12, -1, 7]
    assert ctx.cast_failures == 0


def test_coalesce_columns() -> None:
    data = frame(n=[1, None, None], i=[10, 20, None])
    assert run("COALESCE(n, i, 0)", data) == [1, 20, 0]


def test_nullif_column() -> None:
    data = frame(s=["", "x", None])
    assert run("NULLIF(s, '')", data) == [None, "x", None]


def test_greatest_least_columns() -> None:
    data = frame(n=[1, 9, None], i=[5, 2, 3])
    assert run("GREATEST(n, i)", data) == [5, 9, None]
    assert run("LEAST(n, i, 4)", data) == [1, 2, None]


def test_greatest_timestamps() -> None:
    data = frame(ts=["2024-01-01 00:00:00", "2024-06-01 00:00:00"])
    expected = [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-06-01")]
    assert run("GREATEST(ts, TIMESTAMP '2024-03-01 00:00:00')", data) == expected


def test_is_alpha_column_null_is_false() -> None:
    data = frame(s=["abc", "a1", None])
    assert run("IS_ALPHA(s)", data) == [True, False, False]
