"""Numeric functions: rounding, logarithms, trigonometry, random numbers, BIN."""

from __future__ import annotations

import math

import pytest

from tests.sql.expression_helpers import compile_text, frame, run, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ABS(-3)", 3, id="abs-int"),
        pytest.param("ABS(-2.5)", 2.5, id="abs-decimal"),
        pytest.param("CEIL(4.2)", 5.0, id="ceil"),
        pytest.param("CEILING(-4.2)", -4.0, id="ceiling-negative"),
        pytest.param("FLOOR(4.8)", 4.0, id="floor"),
        pytest.param("FLOOR(7)", 7, id="floor-int"),
        pytest.param("ROUND(125.315)", 125.0, id="round-no-places"),
        pytest.param("ROUND(-125.315, 2)", -125.32, id="round-half-away-from-zero"),
        pytest.param("ROUND(2.5)", 3.0, id="round-half-up-not-even"),
        pytest.param("ROUND(1.4, 1)", 1.4, id="round-keeps"),
        pytest.param("ROUND(44, -1)", 40, id="round-int-negative-places"),
        pytest.param("ROUND(45, -1)", 50, id="round-int-half"),
        pytest.param("TRUNCATE(42.324, 2)", 42.32, id="truncate"),
        pytest.param("TRUNCATE(-42.329, 2)", -42.32, id="truncate-negative"),
        pytest.param("TRUNCATE(42.324)", 42.0, id="truncate-default"),
        pytest.param("TRUNCATE(123, -1)", 120, id="truncate-int"),
        pytest.param("POWER(2, 10)", 1024.0, id="power"),
        pytest.param("POW(9, 0.5)", 3.0, id="pow"),
        pytest.param("SQRT(25)", 5.0, id="sqrt"),
        pytest.param("EXP(0)", 1.0, id="exp"),
        pytest.param("LN(1)", 0.0, id="ln"),
        pytest.param("LOG10(1000)", 3.0, id="log10"),
        pytest.param("LOG2(8)", 3.0, id="log2"),
        pytest.param("LOG(10, 100)", 2.0, id="log-base"),
        pytest.param("SIGN(-5)", -1, id="sign-int"),
        pytest.param("SIGN(0.5e0)", 1.0, id="sign-double"),
        pytest.param("PI()", math.pi, id="pi"),
        pytest.param("PI", math.pi, id="pi-bare"),
        pytest.param("E()", math.e, id="e"),
        pytest.param("SIN(0)", 0.0, id="sin"),
        pytest.param("COS(0)", 1.0, id="cos"),
        pytest.param("TAN(0)", 0.0, id="tan"),
        pytest.param("ATAN(0)", 0.0, id="atan"),
        pytest.param("ATAN2(1, 1)", math.pi / 4, id="atan2"),
        pytest.param("DEGREES(PI())", 180.0, id="degrees"),
        pytest.param("RADIANS(180)", math.pi, id="radians"),
        pytest.param("BIN(12)", "1100", id="bin"),
        pytest.param("BIN(0)", "0", id="bin-zero"),
        pytest.param("BIN(-1)", "1" * 64, id="bin-negative"),
        pytest.param("ABS(NULL)", None, id="abs-null"),
    ],
)
def test_constant_math(text: str, expected: object) -> None:
    result = value(text)
    if isinstance(expected, float):
        assert result == pytest.approx(expected)
    else:
        assert result == expected


def test_sqrt_of_negative_is_nan() -> None:
    assert math.isnan(run("SQRT(d)", frame(d=[-1.0]))[0] or math.nan)


@pytest.mark.parametrize(
    ("text", "expected_type"),
    [
        pytest.param("ROUND(m, 1)", "DECIMAL(10, 1)", id="round-decimal-scale"),
        pytest.param("ROUND(d)", "DOUBLE", id="round-double"),
        pytest.param("FLOOR(m)", "DECIMAL(10, 0)", id="floor-decimal"),
        pytest.param("ABS(i)", "INT", id="abs-int"),
        pytest.param("SQRT(i)", "DOUBLE", id="sqrt"),
        pytest.param("RAND_INTEGER(10)", "INT", id="rand-integer"),
    ],
)
def test_math_types(text: str, expected_type: str) -> None:
    assert compile_text(text).type.sql() == expected_type


def test_math_columns_keep_nulls() -> None:
    data = frame(d=[2.25, None, -1.5], n=[1, 2, None])
    assert run("ROUND(d, 1)", data) == [2.3, None, -1.5]
    assert run("ABS(d)", data) == [2.25, None, 1.5]
    assert run("POWER(n, 2)", data) == [1.0, 4.0, None]


def test_rand_in_unit_interval_per_row() -> None:
    values = run("RAND()", frame(n=list(range(50))))
    assert all(0.0 <= item < 1.0 for item in values)
    assert len(set(values)) > 40


def test_seeded_rand_repeats_per_batch() -> None:
    first = run("RAND(7)", frame(n=[1, 2, 3]))
    second = run("RAND(7)", frame(n=[1, 2, 3]))
    assert first == second


def test_rand_integer_bounds() -> None:
    values = run("RAND_INTEGER(3, 5)", frame(n=list(range(100))))
    assert set(values) <= {0, 1, 2, 3, 4}
