"""The scalar compiler: typing, positioned errors, hints and implicit conversions."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from tests.sql.expression_helpers import REGISTRY, SCHEMA, compile_text, resolve
from workbench.errors import QueryError, TypeMismatchError, UnsupportedError, ValidationError
from workbench.events import types as t
from workbench.sql.dialect import Flink
from workbench.sql.expr import Call, ColumnRef, Expr, Literal
from workbench.sql.functions import ArgumentTypeError
from workbench.sql.scalar import ScalarCompiler, field_access


def _error(text: str) -> QueryError:
    with pytest.raises(QueryError) as caught:
        compile_text(text)
    return caught.value


def _marked(text: str) -> str:
    """Return the part of ``SELECT text`` that an error points at."""
    error = _error(text)
    assert error.position is not None
    return ("SELECT " + text)[error.position.start : error.position.end]


def test_type_mismatch_message_and_hint() -> None:
    error = _error("s > 5")
    assert isinstance(error, TypeMismatchError)
    assert error.message == "cannot compare STRING with INT in 's > 5'"
    assert error.hint == "use CAST(s AS INT)"
    assert _marked("s > 5") == "s"


def test_type_mismatch_marks_argument() -> None:
    error = _error("UPPER(i)")
    assert error.message == "UPPER expects a string as argument 1, got INT in 'UPPER(i)'"
    assert error.hint == "use CAST(i AS STRING)"
    assert _marked("UPPER(i)") == "i"


def test_type_mismatch_in_arithmetic() -> None:
    error = _error("s + 1")
    assert error.message == "cannot apply + to STRING and INT in 's + 1'"
    assert error.hint == "use CAST(s AS INT)"


def test_timestamp_minus_timestamp_suggests_timestampdiff() -> None:
    error = _error("ts - ts")
    assert "TIMESTAMPDIFF" in (error.hint or "")


def test_error_renders_line_and_caret() -> None:
    text = _error("UPPER(i)").render()
    assert text.splitlines()[0].startswith("line 1, column 14: UPPER expects a string")
    assert text.splitlines()[2].strip() == "^"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param("UPER(s)", "did you mean UPPER?", id="typo"),
        pytest.param("SUBSTRNG(s, 1)", "did you mean SUBSTRING or SUBSTR?", id="two-matches"),
        pytest.param("TOTALLY_UNKNOWN(1)", "SHOW FUNCTIONS lists the functions", id="no-match"),
    ],
)
def test_unknown_function_suggests_names(text: str, hint: str) -> None:
    error = _error(text)
    assert isinstance(error, UnsupportedError)
    assert error.message.startswith("unknown function")
    assert error.hint == hint
    assert _marked(text) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("COUNT(*)", "aggregate function COUNT is not allowed here", id="count"),
        pytest.param("SUM(i) + 1", "aggregate function SUM is not allowed here", id="sum-inside"),
        pytest.param(
            "FIRST_VALUE(i)", "aggregate function FIRST_VALUE is not allowed here", id="first-value"
        ),
        pytest.param("LISTAGG(s)", "aggregate function LISTAGG is not allowed here", id="listagg"),
        pytest.param("LAG(i)", "window function LAG is not allowed here", id="lag"),
        pytest.param(
            "ROW_NUMBER() OVER (ORDER BY i)", "an OVER window is not allowed here", id="over"
        ),
    ],
)
def test_unsubstituted_aggregates_rejected(text: str, message: str) -> None:
    error = _error(text)
    assert isinstance(error, UnsupportedError)
    assert error.message == message


def test_resolve_special_substitutes_aggregates() -> None:
    script = "SELECT COUNT(*) + 1"
    node = sqlglot.parse_one(script, read=Flink).expressions[0]
    seen: list[str] = []

    def special(item: exp.Expr) -> Expr | None:
        seen.append(type(item).__name__)
        if isinstance(item, exp.Count):
            return ColumnRef(name="$count", type=t.BIGINT)
        return None

    expr = ScalarCompiler(script, REGISTRY, resolve, special).compile(node)
    assert isinstance(expr, Call)
    assert expr.args[0] == ColumnRef(name="$count", type=t.BIGINT)
    assert seen[:2] == ["Add", "Count"]


def test_resolve_special_sees_every_node() -> None:
    script = "SELECT UPPER(s) || 'x'"
    node = sqlglot.parse_one(script, read=Flink).expressions[0]
    seen: list[str] = []

    def special(item: exp.Expr) -> Expr | None:
        seen.append(type(item).__name__)
        return None

    ScalarCompiler(script, REGISTRY, resolve, special).compile(node)
    assert seen == ["DPipe", "Upper", "Column", "Literal"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("DATE '2024-02-30'", "invalid DATE literal '2024-02-30'", id="date"),
        pytest.param("TIMESTAMP 'soon'", "invalid TIMESTAMP literal 'soon'", id="timestamp"),
        pytest.param("INTERVAL 'x' MINUTE", "invalid interval 'x' MINUTE", id="interval"),
        pytest.param(
            "ts > 'not a time'", "invalid TIMESTAMP literal 'not a time'", id="compared-text"
        ),
    ],
)
def test_invalid_literals(text: str, message: str) -> None:
    error = _error(text)
    assert isinstance(error, ValidationError)
    assert error.message.startswith(message)


def test_typed_literal_error_span() -> None:
    assert _marked("DATE '2024-02-30'") == "DATE '2024-02-30'"


def test_interval_error_marks_whole_interval() -> None:
    assert _marked("INTERVAL 'x' MINUTE") == "INTERVAL 'x' MINUTE"


def test_year_month_interval_alone_is_rejected() -> None:
    error = _error("INTERVAL '1' MONTH")
    assert isinstance(error, UnsupportedError)
    assert "year-month interval" in error.message


def test_in_subquery_is_rejected() -> None:
    assert isinstance(_error("i IN (SELECT 1)"), UnsupportedError)


def test_string_literal_becomes_timestamp_in_comparison() -> None:
    expr = compile_text("ts > '2024-01-01 10:00:00'")
    assert isinstance(expr, Call)
    assert expr.args[1] == Literal(value=pd.Timestamp("2024-01-01 10:00:00"), type=t.timestamp(0))


def test_timestamp_meets_ltz_through_cast() -> None:
    expr = compile_text("ts = ltz")
    assert isinstance(expr, Call)
    cast = expr.args[0]
    assert isinstance(cast, Call)
    assert cast.function == "CAST"
    assert cast.type.kind is t.TypeKind.TIMESTAMP_LTZ


def test_null_literal_and_typed_null() -> None:
    assert compile_text("NULL").type.kind is t.TypeKind.NULL
    assert compile_text("CAST(NULL AS INT)") == Literal(value=None, type=t.INT)


def test_numeric_literals_are_typed_as_flink() -> None:
    assert compile_text("7").type == t.INT
    assert compile_text("-2147483648").type == t.INT
    assert compile_text("12345678901").type == t.BIGINT
    assert compile_text("1.25").type == t.decimal(3, 2)


def test_nothing_is_folded() -> None:
    expr = compile_text("1 + 2")
    assert isinstance(expr, Call)
    assert expr.function == "+"


def test_field_access_helper() -> None:
    person = ColumnRef(name="person", type=SCHEMA["person"])
    call = field_access(person, "age")
    assert call.function == "FIELD"
    assert call.option("field") == "age"
    assert call.type.kind is t.TypeKind.INT
    with pytest.raises(ArgumentTypeError, match="field 'nope' not found"):
        field_access(person, "nope", REGISTRY)


def test_unknown_field_is_positioned() -> None:
    error = _error("(person).nope")
    assert isinstance(error, TypeMismatchError)
    assert "field 'nope' not found" in error.message
