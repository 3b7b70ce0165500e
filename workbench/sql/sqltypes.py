"""SQL type syntax: sqlglot's parsed data types converted to workbench DataTypes.

Precision defaults follow Flink: ``TIMESTAMP`` and ``TIMESTAMP_LTZ`` mean
precision 6, ``TIME`` precision 0 and ``DECIMAL`` means ``DECIMAL(10, 0)``.
``VARCHAR`` and ``STRING`` without a length are unbounded.
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from workbench.errors import SqlSyntaxError, UnsupportedError
from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.dialect import Flink
from workbench.sql.parser import node_position

SUPPORTED_TYPES = (
    "BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p, s), STRING, VARCHAR(n), "
    "CHAR(n), BYTES, VARBINARY(n), BINARY(n), DATE, TIME, TIMESTAMP(p), TIMESTAMP_LTZ(p), "
    "ROW<name type, ...>, ARRAY<type>, MAP<key, value>"
)

_T = exp.DataType.Type

_SIMPLE: dict[Any, DataType] = {
    _T.BOOLEAN: t.BOOLEAN,
    _T.TINYINT: t.TINYINT,
    _T.SMALLINT: t.SMALLINT,
    _T.INT: t.INT,
    _T.BIGINT: t.BIGINT,
    _T.FLOAT: t.FLOAT,
    _T.DOUBLE: t.DOUBLE,
    _T.DATE: t.DATE,
    _T.TEXT: t.STRING,
}

_STRING_TYPES = (_T.VARCHAR, _T.NVARCHAR, _T.CHAR, _T.NCHAR)
_BINARY_TYPES = (_T.VARBINARY, _T.BINARY)
_TIMESTAMP_TYPES = (_T.TIMESTAMP, _T.DATETIME)
_TIMESTAMP_LTZ_TYPES = (_T.TIMESTAMPLTZ,)


def to_data_type(node: exp.DataType, script: str) -> DataType:
    """Convert a parsed SQL type to a DataType.

    Raises UnsupportedError, positioned at the type, for a type the
    workbench does not run (TIMESTAMP WITH TIME ZONE, MULTISET, RAW ...).
    """
    kind = node.this
    params = _parameters(node, script)
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind in _STRING_TYPES:
        if params:
            return t.varchar(params[0])
        return t.varchar(1) if kind in (_T.CHAR, _T.NCHAR) else t.STRING
    if kind in _BINARY_TYPES:
        if params:
            return DataType(TypeKind.BINARY, precision=params[0])
        return DataType(TypeKind.BINARY, precision=1 if kind is _T.BINARY else None)
    if kind is _T.DECIMAL:
        precision = params[0] if params else 10
        scale = params[1] if len(params) > 1 else 0
        return t.decimal(precision, scale)
    if kind is _T.TIME:
        return DataType(TypeKind.TIME, precision=params[0] if params else 0)
    if kind in _TIMESTAMP_TYPES:
        return t.timestamp(params[0] if params else 6)
    if kind in _TIMESTAMP_LTZ_TYPES:
        return t.timestamp_ltz(params[0] if params else 6)
    if kind is _T.ARRAY:
        return t.array(_child(node, 0, script))
    if kind is _T.MAP:
        return t.map_of(_child(node, 0, script), _child(node, 1, script))
    if kind is _T.STRUCT:
        return t.row(_row_field(field, script) for field in node.expressions)
    raise _unsupported(node, script)


def column_type(node: exp.ColumnDef, script: str) -> DataType:
    """Return the type of a column or ROW field definition, with its NOT NULL constraint."""
    kind = node.args.get("kind")
    if not isinstance(kind, exp.DataType):
        raise UnsupportedError(
            f"column {node.name!r} has no type",
            sql=script,
            position=node_position(script, node),
            hint=SUPPORTED_TYPES,
        )
    result = to_data_type(kind, script)
    constraints = node.args.get("constraints") or []
    if any(
        isinstance(constraint.args.get("kind"), exp.NotNullColumnConstraint)
        for constraint in constraints
    ):
        result = result.with_nullable(False)
    return result


def parse_type(text: str) -> DataType:
    """Parse a type written in SQL, such as ``'TIMESTAMP(3)'`` or ``'ROW<a INT> NOT NULL'``.

    NOTE: ``NOT NULL`` is read at the end of the text and on ROW fields only; the
    dialect does not parse it inside ``ARRAY<...>``, ``MAP<...>`` or in CAST.
    """
    match = re.match(r"^(.*?)\s+NOT\s+NULL\s*$", text, re.IGNORECASE | re.DOTALL)
    body = match.group(1) if match else text
    try:
        node = exp.DataType.build(body, dialect=Flink)
    except (ParseError, TokenError, ValueError) as error:
        if re.fullmatch(r"\s*[A-Za-z_]\w*\s*", body):
            raise UnsupportedError(
                f"unsupported type {body.strip()}",
                sql=text,
                hint=f"supported types: {SUPPORTED_TYPES}",
            ) from None
        raise SqlSyntaxError(
            f"invalid type {text!r}: {error}", sql=text, hint=SUPPORTED_TYPES
        ) from None
    try:
        result = to_data_type(node, body)
    except UnsupportedError as error:
        raise UnsupportedError(
            f"unsupported type {body.strip()}", sql=text, hint=error.hint
        ) from None
    return result.with_nullable(False) if match else result


def _parameters(node: exp.DataType, script: str) -> list[int]:
    values: list[int] = []
    if node.this in (_T.ARRAY, _T.MAP, _T.STRUCT):
        return values
    for param in node.expressions:
        inner = param.this if isinstance(param, exp.DataTypeParam) else param
        if not isinstance(inner, exp.Literal) or inner.is_string:
            raise _unsupported(node, script, "type parameters must be whole numbers")
        values.append(int(inner.this))
    return values


def _child(node: exp.DataType, position: int, script: str) -> DataType:
    children = node.expressions
    if position >= len(children) or not isinstance(children[position], exp.DataType):
        raise _unsupported(node, script, "ARRAY<type> and MAP<key, value> need their element types")
    return to_data_type(children[position], script)


def _row_field(field: exp.Expr, script: str) -> tuple[str, DataType]:
    if isinstance(field, exp.ColumnDef):
        return field.name, column_type(field, script)
    if isinstance(field, exp.DataType):
        raise _unsupported(
            field, script, "every ROW field needs a name, as in ROW<a INT, b STRING>"
        )
    raise _unsupported(field, script)


def _unsupported(node: exp.Expr, script: str, reason: str | None = None) -> UnsupportedError:
    text = node.sql(dialect=Flink) if isinstance(node, exp.DataType) else str(node)
    message = reason or f"unsupported type {text}"
    return UnsupportedError(
        message,
        sql=script,
        position=node_position(script, node),
        hint=f"supported types: {SUPPORTED_TYPES}",
    )
