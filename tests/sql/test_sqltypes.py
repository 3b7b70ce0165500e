"""SQL type syntax converted to DataTypes."""

from __future__ import annotations

import pytest
import sqlglot

from workbench.errors import SqlSyntaxError, UnsupportedError
from workbench.events import types as t
from workbench.sql.dialect import Flink
from workbench.sql.sqltypes import column_type, parse_type, to_data_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("INT", t.INT, id="int"),
        pytest.param("INTEGER", t.INT, id="integer"),
        pytest.param("BIGINT", t.BIGINT, id="bigint"),
        pytest.param("TINYINT", t.TINYINT, id="tinyint"),
        pytest.param("SMALLINT", t.SMALLINT, id="smallint"),
        pytest.param("BOOLEAN", t.BOOLEAN, id="boolean"),
        pytest.param("FLOAT", t.FLOAT, id="float"),
        pytest.param("DOUBLE", t.DOUBLE, id="double"),
        pytest.param("DOUBLE PRECISION", t.DOUBLE, id="double-precision"),
        pytest.param("DECIMAL(10, 2)", t.decimal(10, 2), id="decimal"),
        pytest.param("DECIMAL", t.decimal(10, 0), id="decimal-default"),
        pytest.param("NUMERIC(5, 1)", t.decimal(5, 1), id="numeric"),
        pytest.param("STRING", t.STRING, id="string"),
        pytest.param("VARCHAR", t.STRING, id="varchar-unbounded"),
        pytest.param("VARCHAR(5)", t.varchar(5), id="varchar"),
        pytest.param("CHAR(3)", t.varchar(3), id="char"),
        pytest.param("BYTES", t.DataType(t.TypeKind.BINARY), id="bytes"),
        pytest.param("VARBINARY(4)", t.DataType(t.TypeKind.BINARY, precision=4), id="varbinary"),
        pytest.param("DATE", t.DATE, id="date"),
        pytest.param("TIME", t.DataType(t.TypeKind.TIME, precision=0), id="time"),
        pytest.param("TIMESTAMP", t.timestamp(6), id="timestamp-default-6"),
        pytest.param("TIMESTAMP(3)", t.timestamp(3), id="timestamp-3"),
        pytest.param("TIMESTAMP(9) WITHOUT TIME ZONE", t.timestamp(9), id="timestamp-without-zone"),
        pytest.param("TIMESTAMP_LTZ(3)", t.timestamp_ltz(3), id="timestamp-ltz"),
        pytest.param(
            "TIMESTAMP(3) WITH LOCAL TIME ZONE", t.timestamp_ltz(3), id="with-local-time-zone"
        ),
        pytest.param("ARRAY<INT>", t.array(t.INT), id="array"),
        pytest.param("MAP<STRING, BIGINT>", t.map_of(t.STRING, t.BIGINT), id="map"),
        pytest.param(
            "ROW<a INT, b STRING>", t.row([("a", t.INT), ("b", t.STRING)]), id="row-angle"
        ),
        pytest.param("ROW(a INT)", t.row([("a", t.INT)]), id="row-parentheses"),
        pytest.param("ROW<`a b` INT>", t.row([("a b", t.INT)]), id="row-quoted-field"),
        pytest.param(
            "ROW<a INT NOT NULL>",
            t.row([("a", t.INT.with_nullable(False))]),
            id="row-not-null-field",
        ),
        pytest.param("ARRAY<ROW<x DOUBLE>>", t.array(t.row([("x", t.DOUBLE)])), id="array-of-rows"),
        pytest.param("INT NOT NULL", t.INT.with_nullable(False), id="not-null"),
    ],
)
def test_parse_type(text: str, expected: t.DataType) -> None:
    assert parse_type(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("TIMESTAMP WITH TIME ZONE", id="zoned-timestamp"),
        pytest.param("GEOGRAPHY", id="geography"),
        pytest.param("INTERVAL DAY", id="interval"),
        pytest.param("RAW", id="raw"),
    ],
)
def test_unsupported_types_list_the_supported_ones(text: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        parse_type(text)
    assert "TIMESTAMP_LTZ(p)" in (caught.value.hint or "")


def test_malformed_type_is_a_syntax_error() -> None:
    with pytest.raises(SqlSyntaxError):
        parse_type("DECIMAL(")


def test_to_data_type_error_position() -> None:
    script = "SELECT CAST(x AS GEOGRAPHY)"
    node = sqlglot.parse_one(script, read=Flink).expressions[0].args["to"]
    with pytest.raises(UnsupportedError) as caught:
        to_data_type(node, script)
    assert caught.value.message == "unsupported type GEOGRAPHY"


def test_column_type_reads_not_null() -> None:
    script = "CREATE TABLE t (a INT NOT NULL, b STRING)"
    columns = sqlglot.parse_one(script, read=Flink).this.expressions
    assert column_type(columns[0], script) == t.INT.with_nullable(False)
    assert column_type(columns[1], script) == t.STRING
