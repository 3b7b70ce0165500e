"""The function registry: built-ins, SHOW FUNCTIONS names and user-defined functions."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.sql.expression_helpers import compile_text, context, frame, python_values
from workbench.events import types as t
from workbench.sql.evaluate import EvalContext, evaluate
from workbench.sql.functions import (
    AGGREGATE_NAMES,
    ArgumentTypeError,
    FunctionRegistry,
    default_registry,
    user_function,
)


def test_builtins_cover_the_flink_families() -> None:
    names = set(default_registry().names())
    for name in (
        "UPPER",
        "REGEXP_EXTRACT",
        "ROUND",
        "DATE_FORMAT",
        "TIMESTAMPDIFF",
        "CAST",
        "CASE",
        "ARRAY_JOIN",
    ):
        assert name in names


def test_names_are_sorted_for_show_functions() -> None:
    names = default_registry().names()
    assert names == sorted(names)


def test_aggregates_are_not_scalar_functions() -> None:
    assert not AGGREGATE_NAMES & set(default_registry().names())


def test_empty_registry() -> None:
    assert len(FunctionRegistry(builtins=False)) == 0


def test_lookup_is_case_insensitive() -> None:
    registry = FunctionRegistry()
    assert registry.get("upper") is registry.get("UPPER")
    assert "Lower" in registry


def test_infer_reports_unknown_function() -> None:
    with pytest.raises(KeyError):
        FunctionRegistry().infer("NO_SUCH_FUNCTION", [])


def test_infer_reports_argument_at_fault() -> None:
    with pytest.raises(ArgumentTypeError) as caught:
        FunctionRegistry().infer("UPPER", [t.INT])
    assert caught.value.argument_index == 0
    assert caught.value.expected == t.STRING


def test_infer_reports_argument_count() -> None:
    with pytest.raises(ArgumentTypeError, match="takes 1 argument, got 2"):
        FunctionRegistry().infer("UPPER", [t.STRING, t.STRING])


def test_copy_is_independent() -> None:
    registry = FunctionRegistry()
    copy = registry.copy()
    copy.register_scalar("only_in_copy", lambda x: x, t.INT)
    assert "ONLY_IN_COPY" in copy
    assert "ONLY_IN_COPY" not in registry


def test_vectorized_user_function() -> None:
    registry = FunctionRegistry()
    registry.register_scalar("double_it", lambda column: column * 2, t.BIGINT)
    expr = compile_text("double_it(n)", registry)
    result = evaluate(expr, frame(n=[1, None, 3]), EvalContext(now_ns=0, registry=registry))
    assert python_values(result) == [2, None, 6]
    assert str(result.dtype) == "Int64"


def test_row_user_function_skips_nulls() -> None:
    registry = FunctionRegistry()
    calls: list[tuple[object, ...]] = []

    def greet(name: str, times: int) -> str:
        calls.append((name, times))
        return ("hi " + name) * times

    registry.register_scalar("greet", greet, "STRING", vectorized=False)
    expr = compile_text("greet(s, 1)", registry)
    result = evaluate(expr, frame(s=["ann", None]), EvalContext(now_ns=0, registry=registry))
    assert python_values(result) == ["hi ann", None]
    assert calls == [("ann", 1)]


def test_user_function_without_context_registry() -> None:
    registry = FunctionRegistry()
    registry.register_scalar("plus_one_udf", lambda column: column + 1, t.BIGINT)
    assert user_function("PLUS_ONE_UDF") is not None
    result = evaluate(compile_text("plus_one_udf(n)", registry), frame(n=[1]), context())
    assert python_values(result) == [2]


def test_user_function_literal_becomes_column() -> None:
    registry = FunctionRegistry()
    seen: list[int] = []

    def length_of(column: pd.Series) -> pd.Series:
        seen.append(len(column))
        return column.str.len()

    registry.register_scalar("length_of", length_of, t.BIGINT)
    result = evaluate(
        compile_text("length_of('abc')", registry),
        frame(n=[1, 2]),
        EvalContext(0, registry=registry),
    )
    assert python_values(result) == [3, 3]
    assert seen == [1]


def test_user_function_rejects_bad_name() -> None:
    with pytest.raises(ValueError, match="invalid function name"):
        FunctionRegistry().register_scalar("two words", lambda x: x, t.INT)


def test_user_function_with_wrong_length_fails() -> None:
    registry = FunctionRegistry()
    registry.register_scalar("broken_udf", lambda column: [1], t.INT)
    from workbench.errors import QueryRuntimeError

    with pytest.raises(QueryRuntimeError, match="returned 1 values for 2 rows"):
        evaluate(
            compile_text("broken_udf(n)", registry),
            frame(n=[1, 2]),
            EvalContext(0, registry=registry),
        )
