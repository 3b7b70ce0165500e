"""CAST and TRY_CAST: every family of type pairs, failure counting, nested values."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.sql.expression_helpers import compile_text, context, frame, run, value
from workbench.errors import TypeMismatchError
from workbench.events import types as t
from workbench.sql.evaluate import evaluate
from workbench.sql.functions.casts import castable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("CAST('42' AS INT)", 42, id="text-to-int"),
        pytest.param("CAST(' 42 ' AS INT)", 42, id="text-with-spaces"),
        pytest.param("CAST('1.234' AS INT)", 1, id="decimal-text-to-int-truncates"),
        pytest.param("CAST('-130' AS TINYINT)", None, id="text-out-of-range-null"),
        pytest.param("CAST('123' AS TINYINT)", 123, id="text-to-tinyint"),
        pytest.param("CAST('-3276913443134' AS BIGINT)", -3276913443134, id="text-to-bigint"),
        pytest.param("CAST('1.5' AS DOUBLE)", 1.5, id="text-to-double"),
        pytest.param("CAST('1e3' AS DOUBLE)", 1000.0, id="text-exponent"),
        pytest.param("CAST('1.2' AS DECIMAL(5, 3))", 1.2, id="text-to-decimal"),
        pytest.param("CAST('abc' AS INT)", None, id="invalid-text-null"),
        pytest.param("CAST('true' AS BOOLEAN)", True, id="text-true"),
        pytest.param("CAST('FalsE' AS BOOLEAN)", False, id="text-false"),
        pytest.param("CAST('yes' AS BOOLEAN)", True, id="text-yes"),
        pytest.param("CAST('foo' AS BOOLEAN)", None, id="text-invalid-boolean"),
        pytest.param("CAST(TRUE AS INT)", 1, id="boolean-to-int"),
        pytest.param("CAST(0 AS BOOLEAN)", False, id="int-to-boolean"),
        pytest.param("CAST(-5 AS BOOLEAN)", True, id="negative-to-boolean"),
        pytest.param("CAST(9.87 AS INT)", 9, id="decimal-to-int"),
        pytest.param("CAST(-9.87 AS INT)", -9, id="negative-decimal-truncates"),
        pytest.param("CAST(12345678901 AS INT)", -539222987, id="bigint-to-int-wraps"),
        pytest.param("CAST(12345 AS TINYINT)", 57, id="int-to-tinyint-wraps"),
        pytest.param("CAST(3 AS DOUBLE)", 3.0, id="int-to-double"),
        pytest.param("CAST(12.345 AS DECIMAL(4, 1))", 12.3, id="decimal-rescale"),
        pytest.param("CAST(12.35 AS DECIMAL(4, 1))", 12.4, id="decimal-rounds-half-up"),
        pytest.param("CAST(12345.6 AS DECIMAL(3, 1))", None, id="decimal-overflow-null"),
        pytest.param("CAST(NULL AS INT)", None, id="null"),
        pytest.param("TRY_CAST('42' AS INT)", 42, id="try-cast"),
        pytest.param("TRY_CAST('non-number' AS INT)", None, id="try-cast-invalid"),
        pytest.param("COALESCE(TRY_CAST('non-number' AS INT), 0)", 0, id="try-cast-coalesce"),
    ],
)
def test_casts_to_numbers_and_booleans(text: str, expected: object) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("CAST(TRUE AS STRING)", "TRUE", id="boolean"),
        pytest.param("CAST(-5 AS STRING)", "-5", id="int"),
        pytest.param("CAST(9.87 AS DECIMAL(4, 3))", 9.87, id="decimal-value"),
        pytest.param("CAST(CAST(9.87 AS DECIMAL(4, 3)) AS STRING)", "9.870", id="decimal-scale"),
        pytest.param("CAST(CAST(1 AS DECIMAL(10, 5)) AS STRING)", "1.00000", id="decimal-padding"),
        pytest.param("CAST(CAST(-0.5 AS DECIMAL(3, 1)) AS STRING)", "-0.5", id="negative-decimal"),
        pytest.param("CAST(123.456e0 AS STRING)", "123.456", id="double"),
        pytest.param("CAST(1e0 AS STRING)", "1.0", id="double-whole"),
        pytest.param("CAST(1e10 AS STRING)", "1.0E10", id="double-scientific"),
        pytest.param("CAST(0.0001e0 AS STRING)", "1.0E-4", id="double-small"),
        pytest.param("CAST(DATE '2021-09-24' AS STRING)", "2021-09-24", id="date"),
        pytest.param("CAST(TIME '12:34:56' AS STRING)", "12:34:56", id="time"),
        pytest.param(
            "CAST(TIMESTAMP '2021-09-24 12:34:56.1' AS STRING)",
            "2021-09-24 12:34:56.1",
            id="timestamp-digits",
        ),
        pytest.param(
            "CAST(CAST('2021-09-24 12:34:56.1' AS TIMESTAMP(3)) AS STRING)",
            "2021-09-24 12:34:56.100",
            id="timestamp-3",
        ),
        pytest.param("CAST(INTERVAL '36' HOUR AS STRING)", "+1 12:00:00.000", id="interval"),
        pytest.param("CAST('abcdef' AS VARCHAR(3))", "abc", id="varchar-truncates"),
        pytest.param("CAST('abcdef' AS CHAR(2))", "ab", id="char-truncates"),
        pytest.param("CAST(ARRAY[1, 2] AS STRING)", "[1, 2]", id="array"),
        pytest.param("CAST(MAP['a', 1] AS STRING)", "{a=1}", id="map"),
        pytest.param("CAST(ROW(1, 'x') AS STRING)", "(1, x)", id="row"),
    ],
)
def test_casts_to_text(text: str, expected: object) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("CAST('2021-09-27' AS DATE)", pd.Timestamp("2021-09-27"), id="text-to-date"),
        pytest.param(
            "CAST('2021-09-27 12:34:56' AS DATE)",
            pd.Timestamp("2021-09-27"),
            id="text-with-time-to-date",
        ),
        pytest.param("CAST('2021/09/27' AS DATE)", None, id="text-to-date-invalid"),
        pytest.param("CAST('12:34:56' AS TIME)", pd.Timedelta("12:34:56"), id="text-to-time"),
        pytest.param("CAST('25:00:00' AS TIME)", None, id="text-to-time-invalid"),
        pytest.param(
            "CAST('2021-09-27 12:34:56.123456789' AS TIMESTAMP(9))",
            pd.Timestamp("2021-09-27 12:34:56.123456789"),
            id="text-to-timestamp-9",
        ),
        pytest.param(
            "CAST('2021-09-27 12:34:56.123456' AS TIMESTAMP(3))",
            pd.Timestamp("2021-09-27 12:34:56.123"),
            id="text-to-timestamp-truncates",
        ),
        pytest.param(
            "CAST(DATE '2021-09-24' AS TIMESTAMP)",
            pd.Timestamp("2021-09-24"),
            id="date-to-timestamp",
        ),
        pytest.param(
            "CAST(TIMESTAMP '2021-09-24 12:34:56' AS DATE)",
            pd.Timestamp("2021-09-24"),
            id="timestamp-to-date",
        ),
        pytest.param(
            "CAST(TIMESTAMP '2021-09-24 12:34:56' AS TIME)",
            pd.Timedelta("12:34:56"),
            id="timestamp-to-time",
        ),
        pytest.param(
            "CAST(TIME '12:34:56' AS TIMESTAMP)",
            pd.Timestamp("1970-01-01 12:34:56"),
            id="time-to-timestamp",
        ),
        pytest.param(
            "CAST(TIMESTAMP '2021-09-24 12:34:56.789' AS TIMESTAMP(0))",
            pd.Timestamp("2021-09-24 12:34:56"),
            id="timestamp-lowers-precision",
        ),
        pytest.param(
            "CAST(TIMESTAMP '1970-01-01 00:01:40' AS BIGINT)", 100, id="timestamp-to-epoch-seconds"
        ),
        pytest.param(
            "CAST(100 AS TIMESTAMP)",
            pd.Timestamp("1970-01-01 00:01:40"),
            id="epoch-seconds-to-timestamp",
        ),
        pytest.param(
            "CAST(1.5 AS TIMESTAMP_LTZ(3))",
            pd.Timestamp("1970-01-01 00:00:01.5", tz="UTC"),
            id="epoch-to-ltz",
        ),
    ],
)
def test_casts_between_times(text: str, expected: object) -> None:
    assert value(text) == expected


def test_timestamp_to_ltz_uses_session_zone() -> None:
    assert value(
        "CAST(TIMESTAMP '2021-09-24 12:00:00' AS TIMESTAMP_LTZ(3))", time_zone="Asia/Shanghai"
    ) == (pd.Timestamp("2021-09-24 04:00:00", tz="UTC"))


def test_ltz_to_text_uses_session_zone() -> None:
    data = frame(ltz=["2021-09-24 22:34:56.1+00:00"])
    assert run("CAST(ltz AS STRING)", data, time_zone="Asia/Shanghai") == [
        "2021-09-25 06:34:56.100"
    ]


def test_text_to_ltz_uses_session_zone() -> None:
    result = value("CAST('2021-09-27 12:34:56' AS TIMESTAMP_LTZ(3))", time_zone="Asia/Shanghai")
    assert result == pd.Timestamp("2021-09-27 04:34:56", tz="UTC")


def test_cast_counts_failures_and_keeps_examples() -> None:
    data = frame(s=["1", "x", None, "2.5", "y"])
    ctx = context()
    result = evaluate(compile_text("CAST(s AS INT)"), data, ctx)
    assert result.tolist()[:2] == [1, pd.NA]
    assert ctx.cast_failures == 2
    assert ctx.cast_failure_examples == ["'x' AS INT", "'y' AS INT"]


def test_try_cast_does_not_count_failures() -> None:
    ctx = context()
    evaluate(compile_text("TRY_CAST(s AS INT)"), frame(s=["x"]), ctx)
    assert ctx.cast_failures == 0


def test_cast_failure_examples_are_capped() -> None:
    ctx = context()
    evaluate(compile_text("CAST(s AS DOUBLE)"), frame(s=[f"bad{i}" for i in range(20)]), ctx)
    assert ctx.cast_failures == 20
    assert len(ctx.cast_failure_examples) == ctx.MAX_EXAMPLES


def test_cast_column_of_bytes_to_text() -> None:
    data = frame(raw=[b"abc", None, b"\xff"])
    ctx = context()
    result = evaluate(compile_text("CAST(raw AS STRING)"), data, ctx)
    assert result.tolist() == ["abc", pd.NA, pd.NA]
    assert ctx.cast_failures == 1


def test_cast_text_to_bytes() -> None:
    assert value("CAST('é' AS BYTES)") == "é".encode()


def test_cast_array_elements() -> None:
    data = frame(tags=[["1", "x"], None, []])
    assert run("CAST(tags AS ARRAY<INT>)", data) == [[1, None], None, []]


def test_cast_map_values() -> None:
    data = frame(attrs=[{"a": 1, "b": None}])
    assert run("CAST(attrs AS MAP<STRING, STRING>)", data) == [{"a": "1", "b": None}]


def test_cast_row_renames_fields() -> None:
    data = frame(person=[{"name": "ann", "age": 30, "home": {"city": "Oslo"}}])
    text = "CAST(person AS ROW<who STRING, years BIGINT, home ROW<town STRING>>)"
    assert run(text, data) == [{"who": "ann", "years": 30, "home": {"town": "Oslo"}}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "CAST(ts AS BOOLEAN)", "cannot cast TIMESTAMP(3) to BOOLEAN", id="timestamp-to-boolean"
        ),
        pytest.param("CAST(raw AS INT)", "cannot cast BINARY to INT", id="bytes-to-int"),
        pytest.param(
            "CAST(s AS ARRAY<INT>)", "cannot cast STRING to ARRAY<INT>", id="text-to-array"
        ),
        pytest.param(
            "CAST(tags AS MAP<STRING, INT>)", "cannot cast ARRAY<STRING>", id="array-to-map"
        ),
    ],
)
def test_invalid_casts_are_rejected(text: str, message: str) -> None:
    with pytest.raises(TypeMismatchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_text(text)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        pytest.param(t.STRING, t.INT, True, id="text-int"),
        pytest.param(t.BINARY, t.STRING, True, id="bytes-text"),
        pytest.param(t.BINARY, t.INT, False, id="bytes-int"),
        pytest.param(t.array(t.INT), t.array(t.STRING), True, id="array-elements"),
        pytest.param(t.array(t.INT), t.map_of(t.INT, t.INT), False, id="array-map"),
        pytest.param(t.row([("a", t.INT)]), t.row([("b", t.STRING)]), True, id="row-by-position"),
        pytest.param(
            t.row([("a", t.INT)]), t.row([("a", t.INT), ("b", t.INT)]), False, id="row-field-count"
        ),
    ],
)
def test_castable(source: t.DataType, target: t.DataType, expected: bool) -> None:
    assert castable(source, target) is expected
