"""SQL data types and their pandas representation.

Each SQL type maps to one pandas dtype, chosen so that SQL NULL is a real
missing value (``pd.NA`` or ``NaT``) and not a sentinel:

=====================  =====================================================
SQL type               pandas dtype
=====================  =====================================================
BOOLEAN                ``boolean``
TINYINT ... BIGINT     ``Int8``, ``Int16``, ``Int32``, ``Int64``
FLOAT, DOUBLE          ``Float32``, ``Float64``
DECIMAL(p, s)          ``Float64`` (see the note on :data:`TypeKind.DECIMAL`)
VARCHAR, STRING, CHAR  ``string[pyarrow]``
BINARY, BYTES          ``object`` holding ``bytes``
DATE                   ``datetime64[ns]`` at midnight
TIME                   ``timedelta64[ns]`` since midnight
TIMESTAMP(p)           ``datetime64[ns]`` (wall-clock time, no zone)
TIMESTAMP_LTZ(p)       ``datetime64[ns, UTC]``
INTERVAL               ``timedelta64[ns]``
ROW, ARRAY, MAP        ``object`` holding ``dict``, ``list`` and ``dict``
=====================  =====================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

import pandas as pd


class TypeKind(Enum):
    NULL = "NULL"
    BOOLEAN = "BOOLEAN"
    TINYINT = "TINYINT"
    SMALLINT = "SMALLINT"
    INT = "INT"
    BIGINT = "BIGINT"
    FLOAT = "FLOAT"
    DOUBLE = "DOUBLE"
    # NOTE: DECIMAL values are computed as 64-bit floats, so sums of many
    # decimal fractions can differ from exact decimal arithmetic in the last
    # digits. The declared precision and scale are kept for DESCRIBE and CAST.
    DECIMAL = "DECIMAL"
    VARCHAR = "VARCHAR"
    BINARY = "BINARY"
    DATE = "DATE"
    TIME = "TIME"
    TIMESTAMP = "TIMESTAMP"
    TIMESTAMP_LTZ = "TIMESTAMP_LTZ"
    INTERVAL = "INTERVAL"
    ROW = "ROW"
    ARRAY = "ARRAY"
    MAP = "MAP"


INTEGER_KINDS = frozenset({TypeKind.TINYINT, TypeKind.SMALLINT, TypeKind.INT, TypeKind.BIGINT})
FLOAT_KINDS = frozenset({TypeKind.FLOAT, TypeKind.DOUBLE, TypeKind.DECIMAL})
NUMERIC_KINDS = INTEGER_KINDS | FLOAT_KINDS
TIMESTAMP_KINDS = frozenset({TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ})
TEMPORAL_KINDS = TIMESTAMP_KINDS | {TypeKind.DATE, TypeKind.TIME}
NESTED_KINDS = frozenset({TypeKind.ROW, TypeKind.ARRAY, TypeKind.MAP})

_INTEGER_RANK = {TypeKind.TINYINT: 1, TypeKind.SMALLINT: 2, TypeKind.INT: 3, TypeKind.BIGINT: 4}


class TimeAttribute(Enum):
    """Marks a timestamp column that drives time: event time or processing time."""

    ROWTIME = "ROWTIME"
    PROCTIME = "PROCTIME"


@dataclass(frozen=True)
class Field:
    name: str
    type: DataType


@dataclass(frozen=True)
class DataType:
    """A SQL type. Nested types carry their fields or element types."""

    kind: TypeKind
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None
    fields: tuple[Field, ...] = ()
    element: DataType | None = None
    key: DataType | None = None
    value: DataType | None = None
    time_attribute: TimeAttribute | None = field(default=None, compare=False)

    # Properties -----------------------------------------------------------

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_integer(self) -> bool:
        return self.kind in INTEGER_KINDS

    @property
    def is_timestamp(self) -> bool:
        return self.kind in TIMESTAMP_KINDS

    @property
    def is_string(self) -> bool:
        return self.kind is TypeKind.VARCHAR

    @property
    def is_nested(self) -> bool:
        return self.kind in NESTED_KINDS

    @property
    def is_time_attribute(self) -> bool:
        return self.time_attribute is not None

    # Derived types ----------------------------------------------------------

    def with_nullable(self, nullable: bool) -> DataType:
        return replace(self, nullable=nullable)

    def with_precision(self, precision: int) -> DataType:
        return replace(self, precision=precision)

    def with_time_attribute(self, attribute: TimeAttribute | None) -> DataType:
        return replace(self, time_attribute=attribute)

    def plain(self) -> DataType:
        """Return the same type without a time attribute marker."""
        return replace(self, time_attribute=None) if self.time_attribute else self

    def field_type(self, name: str) -> DataType | None:
        """Return the type of a ROW field, matching case-insensitively if exact fails."""
        for item in self.fields:
            if item.name == name:
                return item.type
        matches = [item for item in self.fields if item.name.lower() == name.lower()]
        return matches[0].type if len(matches) == 1 else None

    # Rendering --------------------------------------------------------------

    def sql(self) -> str:
        """Render the type in Flink SQL syntax, as DESCRIBE shows it."""
        kind = self.kind
        if kind is TypeKind.VARCHAR:
            text = "STRING" if self.precision is None else f"VARCHAR({self.precision})"
        elif kind is TypeKind.DECIMAL:
            text = f"DECIMAL({self.precision or 10}, {self.scale or 0})"
        elif kind is TypeKind.TIMESTAMP:
            text = f"TIMESTAMP({self.precision if self.precision is not None else 3})"
        elif kind is TypeKind.TIMESTAMP_LTZ:
            text = f"TIMESTAMP_LTZ({self.precision if self.precision is not None else 3})"
        elif kind is TypeKind.ROW:
            inner = ", ".join(f"`{f.name}` {f.type.sql()}" for f in self.fields)
            text = f"ROW<{inner}>"
        elif kind is TypeKind.ARRAY:
            assert self.element is not None
            text = f"ARRAY<{self.element.sql()}>"
        elif kind is TypeKind.MAP:
            assert self.key is not None and self.value is not None
            text = f"MAP<{self.key.sql()}, {self.value.sql()}>"
        elif kind is TypeKind.INTERVAL:
            text = "INTERVAL"
        else:
            text = kind.value
        if not self.nullable:
            text += " NOT NULL"
        if self.time_attribute is not None:
            text += f" *{self.time_attribute.value}*"
        return text

    def __str__(self) -> str:
        return self.sql()

    # pandas -----------------------------------------------------------------

    def pandas_dtype(self) -> str | pd.api.extensions.ExtensionDtype:
        """Return the pandas dtype that holds values of this type."""
        return _PANDAS_DTYPES.get(self.kind, "object")

    @property
    def precision_ns(self) -> int:
        """One unit of this timestamp's precision, in nanoseconds (1 ms for TIMESTAMP(3))."""
        digits = 3 if self.precision is None else max(0, min(self.precision, 9))
        return 10 ** (9 - digits)


_PANDAS_DTYPES: dict[TypeKind, str | pd.api.extensions.ExtensionDtype] = {
    TypeKind.NULL: "object",
    TypeKind.BOOLEAN: "boolean",
    TypeKind.TINYINT: "Int8",
    TypeKind.SMALLINT: "Int16",
    TypeKind.INT: "Int32",
    TypeKind.BIGINT: "Int64",
    TypeKind.FLOAT: "Float32",
    TypeKind.DOUBLE: "Float64",
    TypeKind.DECIMAL: "Float64",
    TypeKind.VARCHAR: pd.StringDtype("pyarrow"),
    TypeKind.BINARY: "object",
    TypeKind.DATE: "datetime64[ns]",
    TypeKind.TIME: "timedelta64[ns]",
    TypeKind.TIMESTAMP: "datetime64[ns]",
    TypeKind.TIMESTAMP_LTZ: "datetime64[ns, UTC]",
    TypeKind.INTERVAL: "timedelta64[ns]",
}


# Constructors ------------------------------------------------------------------

NULL = DataType(TypeKind.NULL)
BOOLEAN = DataType(TypeKind.BOOLEAN)
TINYINT = DataType(TypeKind.TINYINT)
SMALLINT = DataType(TypeKind.SMALLINT)
INT = DataType(TypeKind.INT)
BIGINT = DataType(TypeKind.BIGINT)
FLOAT = DataType(TypeKind.FLOAT)
DOUBLE = DataType(TypeKind.DOUBLE)
STRING = DataType(TypeKind.VARCHAR)
BINARY = DataType(TypeKind.BINARY)
DATE = DataType(TypeKind.DATE)
TIME = DataType(TypeKind.TIME)
INTERVAL = DataType(TypeKind.INTERVAL)


def timestamp(precision: int = 3) -> DataType:
    return DataType(TypeKind.TIMESTAMP, precision=precision)


def timestamp_ltz(precision: int = 3) -> DataType:
    return DataType(TypeKind.TIMESTAMP_LTZ, precision=precision)


def decimal(precision: int = 10, scale: int = 0) -> DataType:
    return DataType(TypeKind.DECIMAL, precision=precision, scale=scale)


def varchar(length: int | None = None) -> DataType:
    return DataType(TypeKind.VARCHAR, precision=length)


def row(fields: Iterable[tuple[str, DataType]]) -> DataType:
    return DataType(TypeKind.ROW, fields=tuple(Field(name, kind) for name, kind in fields))


def array(element: DataType) -> DataType:
    return DataType(TypeKind.ARRAY, element=element)


def map_of(key: DataType, value: DataType) -> DataType:
    return DataType(TypeKind.MAP, key=key, value=value)


# Type arithmetic ---------------------------------------------------------------


def common_type(left: DataType, right: DataType) -> DataType | None:
    """Return the type both operands widen to (for comparisons, CASE, UNION), or None."""
    a, b = left.plain(), right.plain()
    nullable = a.nullable or b.nullable
    if a.kind is TypeKind.NULL:
        return b.with_nullable(True)
    if b.kind is TypeKind.NULL:
        return a.with_nullable(True)
    if a.kind == b.kind:
        if a.kind is TypeKind.TIMESTAMP or a.kind is TypeKind.TIMESTAMP_LTZ:
            precision = max(a.precision or 3, b.precision or 3)
            return replace(a, precision=precision, nullable=nullable)
        if a.kind is TypeKind.DECIMAL:
            scale = max(a.scale or 0, b.scale or 0)
            digits = max((a.precision or 10) - (a.scale or 0), (b.precision or 10) - (b.scale or 0))
            return decimal(min(38, digits + scale), scale).with_nullable(nullable)
        if a.kind is TypeKind.VARCHAR:
            if a.precision is None or b.precision is None:
                return STRING.with_nullable(nullable)
            return varchar(max(a.precision, b.precision)).with_nullable(nullable)
        if a.kind is TypeKind.ARRAY and a.element and b.element:
            element = common_type(a.element, b.element)
            return array(element).with_nullable(nullable) if element else None
        if a == b.with_nullable(a.nullable):
            return a.with_nullable(nullable)
        return a.with_nullable(nullable) if a.kind not in NESTED_KINDS else None
    if a.is_numeric and b.is_numeric:
        return numeric_result(a, b).with_nullable(nullable)
    if {a.kind, b.kind} == {TypeKind.TIMESTAMP, TypeKind.DATE}:
        return timestamp(a.precision or b.precision or 3).with_nullable(nullable)
    if {a.kind, b.kind} == {TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ}:
        return timestamp_ltz(max(a.precision or 3, b.precision or 3)).with_nullable(nullable)
    return None


def numeric_result(a: DataType, b: DataType) -> DataType:
    """Return the type of arithmetic between two numeric types."""
    if a.kind is TypeKind.DOUBLE or b.kind is TypeKind.DOUBLE:
        return DOUBLE
    if a.kind is TypeKind.FLOAT or b.kind is TypeKind.FLOAT:
        return DOUBLE if TypeKind.DECIMAL in (a.kind, b.kind) else FLOAT
    if a.kind is TypeKind.DECIMAL or b.kind is TypeKind.DECIMAL:
        scale = max(a.scale or 0, b.scale or 0)
        return decimal(38, scale)
    wider = a.kind if _INTEGER_RANK[a.kind] >= _INTEGER_RANK[b.kind] else b.kind
    return DataType(wider)


def can_cast(source: DataType, target: DataType) -> bool:
    """Return whether CAST(source AS target) is valid (it may still fail per value)."""
    s, t = source.kind, target.kind
    if s is TypeKind.NULL or s == t:
        return True
    if t is TypeKind.VARCHAR or s is TypeKind.VARCHAR:
        return True
    if s in NUMERIC_KINDS | {TypeKind.BOOLEAN} and t in NUMERIC_KINDS | {TypeKind.BOOLEAN}:
        return True
    if s in TEMPORAL_KINDS and t in TEMPORAL_KINDS:
        return True
    if s in NUMERIC_KINDS and t in TIMESTAMP_KINDS:
        return True
    return s in TIMESTAMP_KINDS and t in INTEGER_KINDS


def can_cast_implicitly(source: DataType, target: DataType) -> bool:
    """Return whether a value of ``source`` type may be stored as ``target`` without CAST.

    Allowed: NULL to anything, the same kind (any length or precision), and
    numeric widening (a smaller integer to a larger one, any number to FLOAT,
    DOUBLE or DECIMAL).
    """
    s, t = source.plain(), target.plain()
    if s.kind is TypeKind.NULL or (s.kind == t.kind and not s.is_nested):
        return True
    if s.is_integer and t.is_integer:
        return _INTEGER_RANK[s.kind] <= _INTEGER_RANK[t.kind]
    if s.is_numeric and t.kind in (TypeKind.FLOAT, TypeKind.DOUBLE, TypeKind.DECIMAL):
        return not (s.kind is TypeKind.DOUBLE and t.kind is TypeKind.FLOAT)
    if s.kind is TypeKind.ARRAY and t.kind is TypeKind.ARRAY and s.element and t.element:
        return can_cast_implicitly(s.element, t.element)
    if (
        s.kind is TypeKind.MAP
        and t.kind is TypeKind.MAP
        and s.key
        and t.key
        and s.value
        and t.value
    ):
        return can_cast_implicitly(s.key, t.key) and can_cast_implicitly(s.value, t.value)
    if s.kind is TypeKind.ROW and t.kind is TypeKind.ROW and len(s.fields) == len(t.fields):
        return all(
            can_cast_implicitly(a.type, b.type) for a, b in zip(s.fields, t.fields, strict=True)
        )
    return False


def window_bound_type(time_type: DataType) -> DataType:
    """Return the type of window_start and window_end for a time attribute's type.

    Windows over TIMESTAMP_LTZ align to the session time zone, so their bounds
    are local wall-clock TIMESTAMPs (window_time stays TIMESTAMP_LTZ), as in Flink.
    """
    plain = time_type.plain().with_nullable(False)
    if plain.kind is TypeKind.TIMESTAMP_LTZ:
        return DataType(TypeKind.TIMESTAMP, nullable=False, precision=plain.precision)
    return plain
