"""Vectorized calendar arithmetic on int64 nanoseconds since the epoch.

Timestamps are converted to their wall-clock nanoseconds (TIMESTAMP_LTZ in the
session time zone) and computed with numpy. Month arithmetic goes through
``datetime64[M]``, so it follows the calendar instead of a fixed length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.events.time import NS_PER_DAY
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.base import dtype_of

NAT = np.iinfo(np.int64).min


def wall_clock(series: pd.Series, type: DataType, time_zone: str) -> pd.Series:
    """Return a point-in-time column as naive ``datetime64[ns]`` wall-clock times.

    TIMESTAMP_LTZ values are shown in ``time_zone``; DATE and TIMESTAMP values
    are wall-clock times already.
    """
    if type.kind is TypeKind.TIMESTAMP_LTZ or isinstance(series.dtype, pd.DatetimeTZDtype):
        if not isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_localize("UTC")
        return series.dt.tz_convert(time_zone).dt.tz_localize(None).astype("datetime64[ns]")
    if series.dtype != "datetime64[ns]":
        return series.astype("datetime64[ns]")
    return series


def from_wall_clock(series: pd.Series, type: DataType, time_zone: str) -> pd.Series:
    """Return naive wall-clock times as values of ``type`` (TIMESTAMP_LTZ is localized)."""
    series = series.astype("datetime64[ns]")
    if type.kind is not TypeKind.TIMESTAMP_LTZ:
        if type.kind is TypeKind.DATE:
            return series.dt.floor("D")
        return series
    # A wall-clock time that occurs twice (the end of summer time) takes the
    # earlier instant, and one that does not exist moves forward, as Java's
    # ZonedDateTime does.
    ambiguous = np.ones(len(series), dtype=bool)
    localized = series.dt.tz_localize(time_zone, ambiguous=ambiguous, nonexistent="shift_forward")
    return localized.dt.tz_convert("UTC").astype(dtype_of(type))


def nanoseconds(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(int64 ns, null mask)`` of a naive datetime64 or timedelta64 column."""
    values = series.to_numpy()
    if values.dtype.kind == "M":
        values = values.astype("datetime64[ns]")
    elif values.dtype.kind == "m":
        values = values.astype("timedelta64[ns]")
    raw = values.view(np.int64)
    return raw, raw == NAT


def datetimes(values: np.ndarray, mask: np.ndarray, index: pd.Index) -> pd.Series:
    """Build a naive ``datetime64[ns]`` column from int64 ns and a NULL mask."""
    raw = np.where(mask, NAT, values).astype(np.int64)
    return pd.Series(raw.view("datetime64[ns]"), index=index, copy=False)


def timedeltas(values: np.ndarray, mask: np.ndarray, index: pd.Index) -> pd.Series:
    raw = np.where(mask, NAT, values).astype(np.int64)
    return pd.Series(raw.view("timedelta64[ns]"), index=index, copy=False)


def split_days(ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(days since epoch, ns within the day)``, both floored."""
    days = np.floor_divide(ns, NS_PER_DAY)
    return days, ns - days * NS_PER_DAY


def civil(ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the calendar ``(year, month 1-12, day 1-31)`` of wall-clock ns."""
    days, _ = split_days(ns)
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    year = years.astype(np.int64) + 1970
    month = months.astype(np.int64) - years.astype("datetime64[M]").astype(np.int64) + 1
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def month_number(ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(months since 1970-01, ns since the start of that month)``."""
    days, _ = split_days(ns)
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    start = months.astype("datetime64[D]").astype(np.int64) * NS_PER_DAY
    return months.astype(np.int64), ns - start


def add_months(ns: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Add calendar months, clipping the day to the end of a shorter month."""
    days, time_of_day = split_days(ns)
    dates = days.astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    day = (dates - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    result_days = first.astype(np.int64) + np.minimum(day, length - 1)
    return result_days * NS_PER_DAY + time_of_day


def months_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Return whole calendar months from ``start`` to ``end``, truncated toward zero.

    A month counts once ``end`` reaches the same day and time of a later month,
    so 2016-06-15 11:00 to 2018-05-19 is 23 months.
    """
    start_month, start_rest = month_number(start)
    end_month, end_rest = month_number(end)
    months = end_month - start_month
    months = np.where((months > 0) & (end_rest < start_rest), months - 1, months)
    return np.where((months < 0) & (end_rest > start_rest), months + 1, months)


def truncate_division(values: np.ndarray, divisor: int) -> np.ndarray:
    """Divide int64 values, rounding toward zero (Java's integer division)."""
    quotient = np.abs(values) // divisor
    return np.where(values < 0, -quotient, quotient)
