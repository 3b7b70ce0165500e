"""AND, OR and NOT with three-valued (Kleene) logic."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import compile_text, context, frame, run, value
from workbench.sql.evaluate import evaluate

_TRUTH = ["TRUE", "FALSE", "NULL"]
_VALUES = {"TRUE": True, "FALSE": False, "NULL": None}


def _kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


@pytest.mark.parametrize("left", _TRUTH)
@pytest.mark.parametrize("right", _TRUTH)
def test_and_truth_table(left: str, right: str) -> None:
    assert value(f"{left} AND {right}") == _kleene_and(_VALUES[left], _VALUES[right])


@pytest.mark.parametrize("left", _TRUTH)
@pytest.mark.parametrize("right", _TRUTH)
def test_or_truth_table(left: str, right: str) -> None:
    assert value(f"{left} OR {right}") == _kleene_or(_VALUES[left], _VALUES[right])


@pytest.mark.parametrize(
    ("text", "expected"), [("NOT TRUE", False), ("NOT FALSE", True), ("NOT NULL", None)]
)
def test_not(text: str, expected: bool | None) -> None:
    assert value(text) == expected


def test_and_or_over_columns() -> None:
    data = frame(flag=[True, True, True, False, False, False, None, None, None], n=[1, 0, None] * 3)
    assert run("flag AND n = 1", data) == [
        True,
        False,
        None,
        False,
        False,
        False,
        None,
        False,
        None,
    ]
    assert run("flag OR n = 1", data) == [True, True, True, True, False, None, True, None, None]


def test_not_column_keeps_null() -> None:
    data = frame(flag=[True, False, None])
    assert run("NOT flag", data) == [False, True, None]


def test_and_skips_cast_after_false() -> None:
    data = frame(s=["12", "abc", "7"])
    ctx = context()
    result = evaluate(compile_text("s <> 'abc' AND CAST(s AS INT) > 8"), data, ctx)
    assert result.tolist() == [True, False, False]
    assert ctx.cast_failures == 0


def test_or_skips_cast_after_true() -> None:
    data = frame(s=["12", "abc"])
    ctx = context()
    result = evaluate(compile_text("s = 'abc' OR CAST(s AS INT) > 8"), data, ctx)
    assert result.tolist() == [True, True]
    assert ctx.cast_failures == 0


def test_and_counts_open_row_failures() -> None:
    data = frame(s=["x", "abc"])
    ctx = context()
    evaluate(compile_text("s <> 'abc' AND CAST(s AS INT) > 8"), data, ctx)
    assert ctx.cast_failures == 1
