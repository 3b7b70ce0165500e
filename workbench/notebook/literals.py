"""Substitute Python variables into the SQL of a cell as SQL literals.

``{name}`` outside string literals, quoted identifiers and comments is
replaced by the value of the variable ``name``, written as an SQL literal.
Strings are quoted with inner quotes doubled, and None becomes NULL. Dates
and times become DATE, TIME and TIMESTAMP literals, durations INTERVAL
literals, and lists, tuples and sets a parenthesized list for ``IN``. ``{{`` and ``}}`` stand for single braces. Text inside braces that is
not an identifier, such as the pattern quantifiers ``{3,}`` and ``{- B -}``,
is left as it is. The value is never pasted as Python text: a type without
an SQL literal raises :class:`SubstitutionError`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import Position, QueryError

__all__ = ["SubstitutionError", "sql_literal", "substitute"]

#: ``{`` followed by what may be a Python expression up to the matching ``}``.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][^{}\n]*)\}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SubstitutionError(QueryError):
    """A ``{name}`` of a cell names an unknown variable or a value without an SQL literal."""

    kind = "substitution error"
    show_kind = True


def substitute(text: str, namespace: Mapping[str, Any], *, time_zone: str = "UTC") -> str:
    """Return ``text`` with every ``{name}`` replaced by the SQL literal of ``namespace[name]``.

    Time-zone-aware datetimes are converted to ``time_zone`` and written as
    TIMESTAMP literals, because event-time columns hold local timestamps.
    """
    parts: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        pair = text[index : index + 2]
        if char in "'\"`":
            end = _quoted_end(text, index, char)
            parts.append(text[index:end])
            index = end
        elif pair == "--":
            end = text.find("\n", index)
            end = length if end < 0 else end
            parts.append(text[index:end])
            index = end
        elif pair == "/*":
            end = text.find("*/", index + 2)
            end = length if end < 0 else end + 2
            parts.append(text[index:end])
            index = end
        elif pair in ("{{", "}}"):
            parts.append(char)
            index += 2
        elif char == "{":
            match = _PLACEHOLDER.match(text, index)
            if match is None:
                parts.append(char)
                index += 1
                continue
            parts.append(_replacement(text, match, namespace, time_zone))
            index = match.end()
        else:
            parts.append(char)
            index += 1
    return "".join(parts)


def _quoted_end(text: str, start: int, quote: str) -> int:
    """Return the index after the quoted text starting at ``start`` (a doubled quote escapes)."""
    index = start + 1
    while index < len(text):
        if text[index] == quote:
            if text[index + 1 : index + 2] == quote:
                index += 2
                continue
            return index + 1
        index += 1
    return len(text)


def _replacement(
    text: str, match: re.Match[str], namespace: Mapping[str, Any], time_zone: str
) -> str:
    name = match.group(1).strip()
    position = _position(text, match.start(), match.end())
    if not _IDENTIFIER.fullmatch(name):
        raise SubstitutionError(
            f"only a variable name can be substituted, not {name!r}",
            sql=text,
            position=position,
            hint="assign the value to a variable first and write {variable}; write {{ for a brace",
        )
    if name not in namespace:
        raise SubstitutionError(
            f"variable {name!r} is not defined",
            sql=text,
            position=position,
            hint="define it in a Python cell first, or write {{ for a literal brace",
        )
    try:
        return sql_literal(namespace[name], time_zone=time_zone)
    except (TypeError, ValueError) as error:
        raise SubstitutionError(
            f"variable {name!r} cannot be substituted: {error}", sql=text, position=position
        ) from None


def _position(text: str, start: int, end: int) -> Position:
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Position(line, column, start, end)


def sql_literal(value: Any, *, time_zone: str = "UTC") -> str:
    """Return ``value`` written as an SQL literal; raise TypeError or ValueError if it has none."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "NULL"
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no SQL literal; use None for NULL")
        return str(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{number} has no SQL literal; use None for NULL")
        return repr(number)
    if isinstance(value, dt.datetime | np.datetime64):
        return _timestamp(pd.Timestamp(value), time_zone)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError("a TIME with a time zone has no SQL literal")
        return f"TIME '{value.isoformat()}'"
    if isinstance(value, dt.timedelta | np.timedelta64):
        return _interval(pd.Timedelta(value))
    if isinstance(value, list | tuple | set | frozenset | pd.Series | np.ndarray | pd.Index):
        return _list(value, time_zone)
    raise TypeError(f"a {type(value).__name__} has no SQL literal")


def _string(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a string with a NUL character has no SQL literal")
    return "'" + value.replace("'", "''") + "'"


def _timestamp(value: pd.Timestamp, time_zone: str) -> str:
    if _missing(value):
        return "NULL"
    if value.tzinfo is not None:
        value = value.tz_convert(zoneinfo.ZoneInfo(time_zone)).tz_localize(None)
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond or value.nanosecond:
        text += f".{value.microsecond:06d}"
        if value.nanosecond:
            text += f"{value.nanosecond:03d}"
    return f"TIMESTAMP '{text}'"


def _missing(value: object) -> bool:
    """Return whether ``value`` is NaT (typed as object, because the stubs type NaT apart)."""
    return value is pd.NaT


def _interval(value: pd.Timedelta) -> str:
    if _missing(value):
        return "NULL"
    seconds = value.value / 1e9
    text = f"{value.value // 1_000_000_000}" if value.value % 1_000_000_000 == 0 else f"{seconds!r}"
    return f"INTERVAL '{text}' SECOND"


def _list(values: Any, time_zone: str) -> str:
    items = list(values)
    if isinstance(values, set | frozenset):
        try:
            items = sorted(items)
        except TypeError:
            items = sorted(items, key=repr)
    if not items:
        raise ValueError("an empty list has no SQL literal: IN () is not valid SQL")
    literals = []
    for item in items:
        if isinstance(item, list | tuple | set | frozenset | pd.Series | np.ndarray):
            raise TypeError("a nested list has no SQL literal")
        literals.append(sql_literal(item, time_zone=time_zone))
    return "(" + ", ".join(literals) + ")"
