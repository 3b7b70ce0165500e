"""sqlglot node tables for the scalar compiler: operators, function nodes and time units."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlglot import exp

from workbench.events.types import TypeKind

TEMPORAL = (TypeKind.DATE, TypeKind.TIMESTAMP, TypeKind.TIMESTAMP_LTZ, TypeKind.TIME)
BINARY_OPERATORS: dict[type[exp.Expr], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
    exp.DPipe: "||",
}
COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.NullSafeEQ: "IS NOT DISTINCT FROM",
    exp.NullSafeNEQ: "IS DISTINCT FROM",
}
#: Niladic functions that Flink writes without parentheses; sqlglot reads them as columns.
BARE_FUNCTIONS = {"LOCALTIMESTAMP", "LOCALTIME", "CURRENT_ROW_TIMESTAMP", "PI"}
TYPED_LITERAL = re.compile(r"(DATE|TIME|TIMESTAMP|TIMESTAMP_LTZ)\s*$", re.IGNORECASE)


def arguments(node: exp.Expr, keys: Sequence[str]) -> list[exp.Expr]:
    """Return a function node's arguments in ``keys`` order; lists expand, absent keys skip."""
    values: list[exp.Expr] = []
    for key in keys:
        value = node.args.get(key)
        if isinstance(value, list):
            values.extend(item for item in value if isinstance(item, exp.Expr))
        elif isinstance(value, exp.Expr):
            values.append(value)
    return values


def normalize_unit(text: str) -> str:
    """Return the canonical name of a time unit: MINUTES and SQL_TSI_MINUTE are MINUTE."""
    unit = text.upper()
    if unit.startswith("SQL_TSI_"):
        unit = unit[len("SQL_TSI_") :]
    if unit.endswith("S") and unit[:-1] in TIME_UNITS:
        unit = unit[:-1]
    return TIME_UNIT_ALIASES.get(unit, unit)


TIME_UNITS = frozenset(
    {
        "NANOSECOND",
        "MICROSECOND",
        "MILLISECOND",
        "SECOND",
        "MINUTE",
        "HOUR",
        "DAY",
        "WEEK",
        "MONTH",
        "QUARTER",
        "YEAR",
    }
)
TIME_UNIT_ALIASES = {
    "DAYOFYEAR": "DOY",
    "DAYOFWEEK": "DOW",
    "DAYOFMONTH": "DAY",
    "FRAC_SECOND": "MICROSECOND",
    "SQL_TSI_FRAC_SECOND": "MICROSECOND",
}


def _node_table() -> dict[type[exp.Expr], tuple[str, tuple[str, ...]]]:
    """sqlglot function nodes that map directly to a library function, with their argument keys."""
    table = {
        "Upper": ("UPPER", ("this",)),
        "Lower": ("LOWER", ("this",)),
        "Length": ("CHAR_LENGTH", ("this",)),
        "StrPosition": ("LOCATE", ("substr", "this", "position")),
        "Substring": ("SUBSTRING", ("this", "start", "length")),
        "Replace": ("REPLACE", ("this", "expression", "replacement")),
        "Concat": ("CONCAT", ("expressions",)),
        "ConcatWs": ("CONCAT_WS", ("expressions",)),
        "Initcap": ("INITCAP", ("this",)),
        "Repeat": ("REPEAT", ("this", "times")),
        "Reverse": ("REVERSE", ("this",)),
        "Left": ("LEFT", ("this", "expression")),
        "Right": ("RIGHT", ("this", "expression")),
        "Ascii": ("ASCII", ("this",)),
        "Chr": ("CHR", ("expressions",)),
        "MD5": ("MD5", ("this",)),
        "SHA": ("SHA1", ("this",)),
        "SHA2": ("SHA2", ("this", "length")),
        "ToBase64": ("TO_BASE64", ("this",)),
        "FromBase64": ("FROM_BASE64", ("this",)),
        "Encode": ("ENCODE", ("this", "charset")),
        "Decode": ("DECODE", ("this", "charset")),
        "ParseUrl": ("PARSE_URL", ("this", "part_to_extract", "key")),
        "StrToMap": ("STR_TO_MAP", ("this", "pair_delim", "key_value_delim")),
        "Abs": ("ABS", ("this",)),
        "Pow": ("POWER", ("this", "expression")),
        "Sqrt": ("SQRT", ("this",)),
        "Exp": ("EXP", ("this",)),
        "Ln": ("LN", ("this",)),
        "Sign": ("SIGN", ("this",)),
        "Pi": ("PI", ()),
        "Sin": ("SIN", ("this",)),
        "Cos": ("COS", ("this",)),
        "Tan": ("TAN", ("this",)),
        "Cot": ("COT", ("this",)),
        "Asin": ("ASIN", ("this",)),
        "Acos": ("ACOS", ("this",)),
        "Atan2": ("ATAN2", ("this", "expression")),
        "Sinh": ("SINH", ("this",)),
        "Cosh": ("COSH", ("this",)),
        "Tanh": ("TANH", ("this",)),
        "Degrees": ("DEGREES", ("this",)),
        "Radians": ("RADIANS", ("this",)),
        "Rand": ("RAND", ("this",)),
        "Hex": ("HEX", ("this",)),
        "ArrayContains": ("ARRAY_CONTAINS", ("this", "expression")),
        "MapKeys": ("MAP_KEYS", ("this",)),
        "ArrayToString": ("ARRAY_JOIN", ("this", "expression", "null")),
        "Uuid": ("UUID", ()),
        "Year": ("YEAR", ("this",)),
        "Month": ("MONTH", ("this",)),
        "Quarter": ("QUARTER", ("this",)),
        "Week": ("WEEK", ("this",)),
        "DayOfYear": ("DAYOFYEAR", ("this",)),
        "DayOfMonth": ("DAYOFMONTH", ("this",)),
        "DayOfWeek": ("DAYOFWEEK", ("this",)),
        "Hour": ("HOUR", ("this",)),
        "Minute": ("MINUTE", ("this",)),
        "Second": ("SECOND", ("this",)),
        "CurrentTimestamp": ("CURRENT_TIMESTAMP", ()),
        "CurrentDate": ("CURRENT_DATE", ()),
        "CurrentTime": ("CURRENT_TIME", ()),
        "Localtimestamp": ("LOCALTIMESTAMP", ()),
        "Localtime": ("LOCALTIME", ()),
    }
    return {getattr(exp, name): value for name, value in table.items() if hasattr(exp, name)}


FUNCTION_NODES = _node_table()
