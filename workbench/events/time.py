"""Time units: timestamps and watermarks as int64 nanoseconds since the epoch.

Event times are stored in DataFrames as ``datetime64[ns]``; the engine moves
watermarks and window bounds as plain int64 nanoseconds of the same wall
clock, so arithmetic on them is exact and vectorized.
"""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd

from workbench.events import kernels

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR

#: Watermark before any row has arrived.
MIN_WATERMARK = int(np.iinfo(np.int64).min)
#: Watermark at the end of a bounded input: every window fires.
MAX_WATERMARK = int(np.iinfo(np.int64).max)

_UNIT_NS = {
    "ns": 1,
    "nanosecond": 1,
    "us": NS_PER_US,
    "microsecond": NS_PER_US,
    "ms": NS_PER_MS,
    "milli": NS_PER_MS,
    "millisecond": NS_PER_MS,
    "s": NS_PER_SECOND,
    "sec": NS_PER_SECOND,
    "second": NS_PER_SECOND,
    "m": NS_PER_MINUTE,
    "min": NS_PER_MINUTE,
    "minute": NS_PER_MINUTE,
    "h": NS_PER_HOUR,
    "hour": NS_PER_HOUR,
    "d": NS_PER_DAY,
    "day": NS_PER_DAY,
}

_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_duration(text: str | float | timedelta | pd.Timedelta) -> int:
    """Parse a duration such as ``'5 s'``, ``'10 minutes'`` or ``'250ms'`` to nanoseconds.

    A bare number means seconds. Raises ValueError with the accepted units.
    """
    if isinstance(text, (timedelta, pd.Timedelta)):
        return int(pd.Timedelta(text).value)
    if isinstance(text, (int, float)):
        return round(float(text) * NS_PER_SECOND)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(
            f"invalid duration {text!r}: expected a number and a unit, such as '5 s' or '10 minutes'"
        )
    amount, unit = float(match.group(1)), match.group(2).lower()
    if not unit:
        return round(amount * NS_PER_SECOND)
    singular = unit if unit in _UNIT_NS else unit[:-1] if unit.endswith("s") else unit
    if singular not in _UNIT_NS:
        units = "ns, us, ms, s, min, h, d (or their full names)"
        raise ValueError(
            f"invalid duration unit {match.group(2)!r} in {text!r}: use one of {units}"
        )
    return round(amount * _UNIT_NS[singular])


def format_duration(ns: int) -> str:
    """Render nanoseconds with the largest unit that divides them exactly."""
    for unit, size in (
        ("d", NS_PER_DAY),
        ("h", NS_PER_HOUR),
        ("min", NS_PER_MINUTE),
        ("s", NS_PER_SECOND),
        ("ms", NS_PER_MS),
        ("us", NS_PER_US),
    ):
        if ns % size == 0:
            return f"{ns // size} {unit}"
    return f"{ns} ns"


def interval_literal(ns: int) -> str:
    """Render nanoseconds as a SQL interval literal, such as ``INTERVAL '5' MINUTE``.

    The unit is the largest of DAY, HOUR, MINUTE and SECOND that divides the
    duration exactly; other durations are fractional seconds.
    """
    for unit, size in (
        ("DAY", NS_PER_DAY),
        ("HOUR", NS_PER_HOUR),
        ("MINUTE", NS_PER_MINUTE),
        ("SECOND", NS_PER_SECOND),
    ):
        if ns % size == 0:
            return f"INTERVAL '{ns // size}' {unit}"
    seconds = f"{ns / NS_PER_SECOND:.9f}".rstrip("0")
    return f"INTERVAL '{seconds}' SECOND"


def floor_ns(ns: np.ndarray, step: int, offset: int = 0) -> np.ndarray:
    """Round each time down to ``offset`` plus a multiple of ``step``.

    numpy divides int64 by a scalar several times faster than it takes
    ``np.mod``, so the floor is computed by division. A null (int64 min)
    does not survive the rounding; callers remove or mask nulls.
    """
    return (ns - offset) // step * step + offset


def has_unaligned(ns: np.ndarray, step: int) -> bool:
    """Return whether a non-null time is not a multiple of ``step`` (a positive step)."""
    return kernels.has_unaligned(ns, step)


def to_ns(values: pd.Series) -> np.ndarray:
    """Return int64 nanoseconds of a timestamp Series; nulls become MIN_WATERMARK."""
    series = values
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    if series.dtype != "datetime64[ns]":
        series = series.astype("datetime64[ns]")
    raw = series.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return raw  # NaT is int64 min, which equals MIN_WATERMARK


def format_timestamp(ns: int) -> str:
    """Render a watermark or window bound for messages and EXPLAIN."""
    if ns == MIN_WATERMARK:
        return "-inf"
    if ns == MAX_WATERMARK:
        return "+inf"
    return str(pd.Timestamp(ns, unit="ns"))
