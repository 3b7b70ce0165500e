"""Vectorized evaluation: result shape and dtypes, scalars, predicates, contexts and errors."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from tests.sql.expression_helpers import SCHEMA, compile_text, context, frame, python_values
from workbench.errors import QueryRuntimeError
from workbench.events import types as t
from workbench.events.time import MIN_WATERMARK
from workbench.sql.evaluate import EvalContext, _Evaluator, evaluate, evaluate_predicate
from workbench.sql.expr import Call, ColumnRef, Literal
from workbench.sql.functions.base import MonthInterval


def _sample() -> pd.DataFrame:
    data = frame(
        i=[1, None, 3],
        n=[10, 20, None],
        d=[0.5, None, 2.0],
        s=["a", None, "c"],
        flag=[True, None, False],
        ts=["2024-01-01 00:00:00", None, "2024-01-03 00:00:00"],
        ltz=["2024-01-01 00:00:00+00:00", None, "2024-01-01 12:00:00+00:00"],
        day=["2024-01-01", None, "2024-01-03"],
        tags=[["x"], None, []],
    )
    data.index = pd.Index([10, 20, 30])
    return data


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("i + 1", id="int"),
        pytest.param("n * 2", id="bigint"),
        pytest.param("i / 2", id="double"),
        pytest.param("CAST(d AS FLOAT)", id="float"),
        pytest.param("CAST(i AS TINYINT)", id="tinyint"),
        pytest.param("CAST(i AS SMALLINT)", id="smallint"),
        pytest.param("d * 1.5", id="decimal-or-double"),
        pytest.param("UPPER(s)", id="string"),
        pytest.param("s = 'a'", id="boolean-from-arrow"),
        pytest.param("i > 1", id="boolean"),
        pytest.param("NOT flag", id="boolean-not"),
        pytest.param("ts + INTERVAL '1' DAY", id="timestamp"),
        pytest.param("ltz + INTERVAL '1' HOUR", id="ltz"),
        pytest.param("day", id="date"),
        pytest.param("CAST(ts AS TIME)", id="time"),
        pytest.param("INTERVAL '1' HOUR", id="interval-literal"),
        pytest.param("tags", id="array"),
        pytest.param("CAST(s AS BYTES)", id="bytes"),
        pytest.param("'constant'", id="string-literal"),
        pytest.param("42", id="int-literal"),
        pytest.param("NULL", id="null-literal"),
        pytest.param("CAST(NULL AS DOUBLE)", id="typed-null"),
        pytest.param("CURRENT_TIMESTAMP", id="clock"),
        pytest.param("UPPER('x')", id="constant-call"),
        pytest.param("CASE WHEN i > 1 THEN s END", id="case"),
    ],
)
def test_result_shape_and_dtype(text: str) -> None:
    data = _sample()
    expr = compile_text(text)
    result = evaluate(expr, data, context())
    assert len(result) == len(data)
    assert result.index.equals(data.index)
    assert result.dtype == expr.type.pandas_dtype()


def test_empty_frame_gives_empty_typed_series() -> None:
    expr = compile_text("UPPER(s)")
    result = evaluate(expr, frame(s=[]), context())
    assert len(result) == 0
    assert result.dtype == expr.type.pandas_dtype()


def test_literals_stay_scalars() -> None:
    evaluator = _Evaluator(_sample(), context(), None)
    assert evaluator.value(Literal(value=5, type=t.INT)) == 5
    assert evaluator.value(compile_text("1 + 2")) == 3


def test_constant_calls_return_scalars() -> None:
    evaluator = _Evaluator(_sample(), context(), None)
    assert evaluator.value(compile_text("UPPER('abc') || 'd'")) == "ABCd"


def test_predicate_treats_null_as_false() -> None:
    result = evaluate_predicate(compile_text("i > 0"), _sample(), context())
    assert result.dtype == bool
    assert result.tolist() == [True, False, True]


@pytest.mark.parametrize(
    ("text", "expected"), [("TRUE", True), ("FALSE", False), ("NULL = 1", False)]
)
def test_constant_predicate(text: str, expected: bool) -> None:
    assert evaluate_predicate(compile_text(text), _sample()).tolist() == [expected] * 3


def test_default_context_uses_wall_clock() -> None:
    before = pd.Timestamp.now(tz="UTC").floor("ms")
    result = evaluate(compile_text("CURRENT_TIMESTAMP"), _sample())
    assert result.iloc[0] >= before


def test_cast_failures_add_up_over_evaluations() -> None:
    ctx = context()
    data = frame(s=["x", "1"])
    evaluate(compile_text("CAST(s AS INT)"), data, ctx)
    evaluate(compile_text("CAST(s AS DOUBLE)"), data, ctx)
    assert ctx.cast_failures == 2


def test_record_cast_failures_ignores_zero() -> None:
    ctx = EvalContext(now_ns=0)
    ctx.record_cast_failures(0, ["never"])
    assert ctx.cast_failures == 0
    assert ctx.cast_failure_examples == []


def test_guarded_branch_sees_its_rows_watermarks() -> None:
    data = frame(
        rowtime=["2024-01-01 00:00:05", "2024-01-01 00:00:06", "2024-01-01 00:00:07"],
        s=["a", "b", "a"],
    )
    marks = np.array(
        [
            MIN_WATERMARK,
            pd.Timestamp("2024-01-01 00:00:01").value,
            pd.Timestamp("2024-01-01 00:00:02").value,
        ]
    )
    ctx = context(row_watermarks=marks)
    text = "CASE WHEN s = 'a' THEN CAST(CURRENT_WATERMARK(rowtime) AS STRING) END"
    assert python_values(evaluate(compile_text(text), data, ctx)) == [
        None,
        None,
        "2024-01-01 00:00:02.000",
    ]


def test_guarded_branch_spreads_nested_values() -> None:
    data = frame(s=["1", "x", "3"])
    text = "CASE WHEN s <> 'x' THEN ARRAY[CAST(s AS INT)] END"
    assert python_values(evaluate(compile_text(text), data, context())) == [[1], None, [3]]


def test_guarded_branch_spreads_timestamps() -> None:
    data = frame(s=["2024-01-01", "x"])
    text = "CASE WHEN s <> 'x' THEN CAST(s AS TIMESTAMP(3)) END"
    assert python_values(evaluate(compile_text(text), data, context())) == [
        pd.Timestamp("2024-01-01"),
        None,
    ]


def test_missing_column_is_a_runtime_error() -> None:
    with pytest.raises(QueryRuntimeError, match="column 'nope' is missing"):
        evaluate(ColumnRef(name="nope", type=t.INT), _sample())


def test_unknown_function_is_a_runtime_error() -> None:
    call = Call(function="NO_SUCH_FUNCTION_X", args=(), type=t.INT)
    with pytest.raises(QueryRuntimeError, match="unknown function NO_SUCH_FUNCTION_X"):
        evaluate(call, _sample())


def test_year_month_interval_not_a_column() -> None:
    with pytest.raises(QueryRuntimeError, match="year-month interval"):
        evaluate(Literal(value=MonthInterval(1), type=t.INTERVAL), _sample())


def test_failing_function_names_itself() -> None:
    with pytest.raises(QueryRuntimeError, match="TO_TIMESTAMP_LTZ failed"):
        evaluate(compile_text("TO_TIMESTAMP_LTZ(n, 12)"), _sample())


def test_schema_covers_helper_columns() -> None:
    assert set(SCHEMA) >= {"i", "s", "ts"}


def time_expression(text: str, data: pd.DataFrame, repeat: int = 3) -> float:
    """Return the best of ``repeat`` evaluation times in seconds (for manual benchmarking)."""
    expr = compile_text(text)
    ctx = context()
    evaluate(expr, data, ctx)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        evaluate(expr, data, ctx)
        best = min(best, time.perf_counter() - start)
    return best


def test_hot_path_expression_on_many_rows() -> None:
    rows = 200_000
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "n": pd.array(rng.integers(0, 10, rows), dtype="Int64"),
            "s": pd.array(rng.choice(["a", "b", "c"], rows), dtype=pd.StringDtype("pyarrow")),
        }
    )
    expected = (data["n"].to_numpy() > 5) & (data["s"].to_numpy() == "a")
    result = evaluate_predicate(compile_text("n > 5 AND s = 'a'"), data, context())
    assert np.array_equal(result, expected)
    assert time_expression("n > 5 AND s = 'a'", data, repeat=1) > 0
