"""Values of SQL literals: numbers, intervals and typed date-time literals.

The compiler turns literal text into the Python values that evaluation uses:
``pd.Timestamp`` for DATE and TIMESTAMP, ``pd.Timedelta`` for TIME and
day-time intervals, and :class:`MonthInterval` for year-month intervals.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.events import types as t
from workbench.events.time import (
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    NS_PER_MS,
    NS_PER_SECOND,
    NS_PER_US,
)
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.base import MonthInterval
from workbench.sql.functions.cast_text import parse_times_of_day
from workbench.sql.functions.datetime_parse import parse_times

_INT32 = 2**31
_INT64 = 2**63

_SINGLE_UNITS_NS = {
    "WEEK": 7 * NS_PER_DAY,
    "DAY": NS_PER_DAY,
    "HOUR": NS_PER_HOUR,
    "MINUTE": NS_PER_MINUTE,
    "SECOND": NS_PER_SECOND,
    "MILLISECOND": NS_PER_MS,
    "MICROSECOND": NS_PER_US,
}
_MONTHS_PER_UNIT = {"YEAR": 12, "QUARTER": 3, "MONTH": 1}

# Layouts of multi-unit intervals: the fields each one has, from the largest.
_SPANS = {
    ("DAY", "HOUR"): r"(?P<DAY>\d+) (?P<HOUR>\d+)",
    ("DAY", "MINUTE"): r"(?P<DAY>\d+) (?P<HOUR>\d+):(?P<MINUTE>\d+)",
    ("DAY", "SECOND"): r"(?P<DAY>\d+) (?P<HOUR>\d+):(?P<MINUTE>\d+):(?P<SECOND>\d+(?:\.\d+)?)",
    ("HOUR", "MINUTE"): r"(?P<HOUR>\d+):(?P<MINUTE>\d+)",
    ("HOUR", "SECOND"): r"(?P<HOUR>\d+):(?P<MINUTE>\d+):(?P<SECOND>\d+(?:\.\d+)?)",
    ("MINUTE", "SECOND"): r"(?P<MINUTE>\d+):(?P<SECOND>\d+(?:\.\d+)?)",
    ("YEAR", "MONTH"): r"(?P<YEAR>\d+)-(?P<MONTH>\d+)",
}


class LiteralError(ValueError):
    """Literal text that does not form a value of its type; ``hint`` shows a valid form."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def number_literal(text: str) -> tuple[int | float, DataType]:
    """Return the value and type of a numeric literal, typed as Flink types it.

    Whole numbers are INT, or BIGINT when they do not fit; numbers with a
    decimal point are DECIMAL(p, s); numbers with an exponent are DOUBLE.
    """
    if re.fullmatch(r"\d+", text):
        value = int(text)
        if value < _INT32:
            return value, t.INT
        if value < _INT64:
            return value, t.BIGINT
        return float(value), t.decimal(min(len(text), 38), 0)
    if "e" in text.lower():
        return float(text), t.DOUBLE
    whole, _, fraction = text.partition(".")
    digits = len(whole.lstrip("0")) + len(fraction)
    return float(text), t.decimal(max(1, min(digits, 38)), len(fraction))


#: The maximum interval length: int64 nanoseconds, about 106,751 days.
_MAX_INTERVAL_NS = int(np.iinfo(np.int64).max)


def interval_literal(text: str, start: str, end: str | None = None) -> MonthInterval | pd.Timedelta:
    """Parse the text of ``INTERVAL 'text' start [TO end]``; raises LiteralError."""
    body = text.strip()
    negative = body.startswith("-")
    body = body.lstrip("+-").strip()
    start, end = start.upper(), (end.upper() if end else None)
    if end is None:
        if start in _MONTHS_PER_UNIT:
            if not re.fullmatch(r"\d+", body):
                raise LiteralError(f"invalid interval {text!r}: {start} takes a whole number")
            months = int(body) * _MONTHS_PER_UNIT[start]
            return MonthInterval(-months if negative else months)
        if start not in _SINGLE_UNITS_NS or not re.fullmatch(r"\d+(\.\d+)?", body):
            raise LiteralError(
                f"invalid interval {text!r} {start}",
                hint=f"write a number in quotes, such as INTERVAL '5' {start}",
            )
        ns = (
            round(float(body) * _SINGLE_UNITS_NS[start])
            if "." in body
            else int(body) * _SINGLE_UNITS_NS[start]
        )
        return _duration(-ns if negative else ns, text)
    layout = _SPANS.get((start, end))
    match = re.fullmatch(layout, body) if layout else None
    if match is None:
        example = {"YEAR": "'1-6' YEAR TO MONTH", "DAY": "'1 02:03:04' DAY TO SECOND"}.get(
            start, "'10:30' HOUR TO MINUTE"
        )
        raise LiteralError(f"invalid interval {text!r} {start} TO {end}: write it like {example}")
    fields = match.groupdict()
    if start == "YEAR":
        months = int(fields["YEAR"]) * 12 + int(fields["MONTH"])
        return MonthInterval(-months if negative else months)
    ns = 0
    for unit, value in fields.items():
        ns += (
            round(float(value) * _SINGLE_UNITS_NS[unit])
            if "." in value
            else int(value) * _SINGLE_UNITS_NS[unit]
        )
    return _duration(-ns if negative else ns, text)


def _duration(ns: int, text: str) -> pd.Timedelta:
    """Return the interval of ``ns`` nanoseconds; raises LiteralError beyond int64 nanoseconds."""
    if abs(ns) > _MAX_INTERVAL_NS:
        raise LiteralError(
            f"interval {text!r} is too long: intervals are at most {pd.Timedelta.max} "
            "(int64 nanoseconds)"
        )
    return pd.Timedelta(ns, unit="ns")


def _fraction_digits(text: str) -> int:
    match = re.search(r"\.(\d+)\s*$", text)
    return len(match.group(1)) if match else 0


def time_literal(text: str, kind: TypeKind) -> tuple[pd.Timestamp | pd.Timedelta, DataType]:
    """Parse the text of ``DATE '...'``, ``TIME '...'`` or ``TIMESTAMP '...'``.

    Raises LiteralError for text that is not a valid value.
    """
    strings = pa.array([text], pa.large_string())
    if kind is TypeKind.TIME:
        ns, mask = parse_times_of_day(pd.Series([text], dtype=t.STRING.pandas_dtype()))
        if mask[0]:
            raise LiteralError(f"invalid TIME literal {text!r}: write TIME 'HH:mm:ss'")
        return pd.Timedelta(int(ns[0]), unit="ns"), DataType(
            TypeKind.TIME, precision=_fraction_digits(text)
        )
    parsed = parse_times(strings, None)
    if parsed.mask[0] or not np.isnan(parsed.offsets[0]):
        example = (
            "DATE 'yyyy-MM-dd'" if kind is TypeKind.DATE else "TIMESTAMP 'yyyy-MM-dd HH:mm:ss'"
        )
        raise LiteralError(f"invalid {kind.value} literal {text!r}: write {example}")
    stamp = pd.Timestamp(int(parsed.ns[0]), unit="ns")
    if kind is TypeKind.DATE:
        if stamp != stamp.normalize():
            raise LiteralError(f"invalid DATE literal {text!r}: a DATE has no time of day")
        return stamp, t.DATE
    return stamp, t.timestamp(_fraction_digits(text))
