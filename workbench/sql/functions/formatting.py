"""Date-time text functions: DATE_FORMAT, TO_TIMESTAMP, TO_DATE, UNIX_TIMESTAMP, FROM_UNIXTIME
and CONVERT_TZ.

Patterns are Java ``DateTimeFormatter`` patterns (see
:mod:`workbench.sql.functions.datetime_text`). Text without a zone is read in
UTC by TO_TIMESTAMP (as Flink) and in the session time zone by UNIX_TIMESTAMP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from workbench.events import types as t
from workbench.events.time import NS_PER_SECOND
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.arrow import arrow_strings, masked_numeric, string_series
from workbench.sql.functions.base import (
    Invocation,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    dtype_of,
    expect,
    expect_count,
    is_datetime,
    is_numeric,
    is_series,
    is_string,
    map_rows,
)
from workbench.sql.functions.calendar import datetimes, nanoseconds, wall_clock
from workbench.sql.functions.datetime_parse import parse_times
from workbench.sql.functions.datetime_text import (
    DEFAULT_TIMESTAMP_PATTERN,
    format_times,
    zone_offsets,
)

#: Long.MIN_VALUE, which Flink's UNIX_TIMESTAMP returns for text it cannot parse.
UNPARSEABLE_EPOCH = -(2**63)


def _string_args(
    name: str, low: int, high: int, result: DataType
) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, low, high)
        for position in range(len(types)):
            expect(name, types, position, is_string, "a string", expected=t.STRING)
        return result

    return infer


def _pattern(args: Sequence[Value], position: int) -> str | None:
    return str(args[position]) if len(args) > position else None


def format_column(series: pd.Series, type: DataType, time_zone: str, pattern: str) -> pd.Series:
    """Format a DATE, TIMESTAMP or TIMESTAMP_LTZ column as text with a Java pattern."""
    local = wall_clock(series, type, time_zone)
    ns, mask = nanoseconds(local)
    offsets = None
    if type.kind is TypeKind.TIMESTAMP_LTZ:
        instants, _ = nanoseconds(series.dt.tz_convert("UTC").dt.tz_localize(None))
        offsets = zone_offsets(instants, mask, time_zone)
    return string_series(format_times(ns, mask, pattern, offsets), series.index)


def parse_column(
    strings: pd.Series, pattern: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse text into ``(wall-clock ns, NULL mask, zone offsets or NaN)``."""
    parsed = parse_times(arrow_strings(strings), pattern)
    return parsed.ns, parsed.mask, parsed.offsets


# DATE_FORMAT -----------------------------------------------------------------------------


def _infer_date_format(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("DATE_FORMAT", types, 2)
    expect(
        "DATE_FORMAT",
        types,
        0,
        lambda item: is_datetime(item) or item.is_string,
        "a timestamp or a string",
    )
    expect(
        "DATE_FORMAT",
        types,
        1,
        is_string,
        "a pattern string such as 'yyyy-MM-dd HH:mm:ss'",
        expected=t.STRING,
    )
    return t.STRING


def _date_format(invocation: Invocation, args: Sequence[Value]) -> Value:
    """DATE_FORMAT(timestamp | string, pattern): text is read as 'yyyy-MM-dd HH:mm:ss' first."""
    if any_null_scalar(args):
        return None
    if is_series(args[1]):
        return map_rows(invocation, lambda *row: _format_one(invocation, *row), args)
    type = invocation.arg_types[0]
    series = invocation.broadcast(args[0], type)
    if type.is_string:
        ns, mask, _ = parse_column(series, None)
        series, type = datetimes(ns, mask, invocation.index), t.timestamp(9)
    return format_column(series, type, invocation.context.time_zone, str(args[1]))


def _format_one(invocation: Invocation, value: object, pattern: str) -> str | None:
    type = invocation.arg_types[0]
    series = pd.Series([value], dtype=object if type.is_string else type.pandas_dtype())
    if type.is_string:
        ns, mask, _ = parse_column(series.astype(dtype_of(t.STRING)), None)
        series, type = datetimes(ns, mask, series.index), t.timestamp(9)
    return format_column(series, type, invocation.context.time_zone, pattern).iloc[0]


# Parsing functions -----------------------------------------------------------------------


def _parsed(
    invocation: Invocation, args: Sequence[Value], default: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    strings = invocation.broadcast(args[0], t.STRING)
    pattern = _pattern(args, 1) or default
    return parse_column(strings, pattern)


def _to_timestamp(invocation: Invocation, args: Sequence[Value]) -> Value:
    """TO_TIMESTAMP(string[, pattern]): wall-clock time in UTC+0; NULL for unparseable text."""
    if any_null_scalar(args):
        return None
    if len(args) > 1 and is_series(args[1]):
        return map_rows(invocation, lambda text, pattern: _one(invocation, text, pattern), args)
    ns, mask, offsets = _parsed(invocation, args, None)
    utc = ns - np.nan_to_num(offsets * NS_PER_SECOND, nan=0).astype(np.int64)
    return datetimes(utc, mask, invocation.index)


def _one(invocation: Invocation, text: str, pattern: str) -> pd.Timestamp | None:
    ns, mask, offsets = parse_column(pd.Series([text], dtype=t.STRING.pandas_dtype()), pattern)
    if mask[0]:
        return None
    offset = 0 if np.isnan(offsets[0]) else int(offsets[0]) * NS_PER_SECOND
    return pd.Timestamp(int(ns[0]) - offset, unit="ns")


def _to_date(invocation: Invocation, args: Sequence[Value]) -> Value:
    """TO_DATE(string[, pattern]): NULL for unparseable text."""
    stamps = _to_timestamp(invocation, args)
    if stamps is None or not is_series(stamps):
        return None if stamps is None else pd.Timestamp(stamps).normalize()
    return stamps.dt.floor("D")


def _unix_timestamp(invocation: Invocation, args: Sequence[Value]) -> Value:
    """UNIX_TIMESTAMP([string[, pattern]]): epoch seconds.

    Text without a zone is read in the session time zone.

    Text that cannot be parsed gives Long.MIN_VALUE (-9223372036854775808), as in Flink.
    """
    if not args:
        return invocation.context.now_ns // NS_PER_SECOND
    if any_null_scalar(args):
        return None
    if len(args) > 1 and is_series(args[1]):
        return map_rows(
            invocation, lambda text, pattern: _unix_one(invocation, text, pattern), args
        )
    ns, mask, offsets = _parsed(invocation, args, DEFAULT_TIMESTAMP_PATTERN)
    strings_missing = np.asarray(
        invocation.broadcast(args[0], t.STRING).isna().to_numpy(), dtype=bool
    )
    local = _local_offsets(ns, mask, invocation.context.time_zone)
    seconds_east = np.where(np.isnan(offsets), local, offsets)
    utc = ns - (seconds_east * NS_PER_SECOND).astype(np.int64)
    seconds = np.where(mask, UNPARSEABLE_EPOCH, np.floor_divide(utc, NS_PER_SECOND))
    return masked_numeric(seconds, strings_missing, "Int64", invocation.index)


def _unix_one(invocation: Invocation, text: str, pattern: str) -> int:
    ns, mask, offsets = parse_column(pd.Series([text], dtype=t.STRING.pandas_dtype()), pattern)
    if mask[0]:
        return UNPARSEABLE_EPOCH
    local = _local_offsets(ns, mask, invocation.context.time_zone)
    offset = local[0] if np.isnan(offsets[0]) else offsets[0]
    return int((int(ns[0]) - int(offset) * NS_PER_SECOND) // NS_PER_SECOND)


def _local_offsets(wall_ns: np.ndarray, mask: np.ndarray, time_zone: str) -> np.ndarray:
    """Return the UTC offset (seconds) that ``time_zone`` has at these wall-clock times."""
    if time_zone.upper() in ("UTC", "Z", "GMT", "UTC+0", "GMT+0"):
        return np.zeros(len(wall_ns))
    naive = pd.DatetimeIndex(np.where(mask, 0, wall_ns).view("datetime64[ns]"))
    ambiguous = np.ones(len(naive), dtype=bool)
    localized = naive.tz_localize(time_zone, ambiguous=ambiguous, nonexistent="shift_forward")
    return np.asarray(
        (naive.asi8 - localized.tz_convert("UTC").tz_localize(None).asi8) // NS_PER_SECOND,
        dtype=float,
    )


# FROM_UNIXTIME and CONVERT_TZ ------------------------------------------------------------


def _infer_from_unixtime(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("FROM_UNIXTIME", types, 1, 2)
    expect("FROM_UNIXTIME", types, 0, is_numeric, "epoch seconds", expected=t.BIGINT)
    expect("FROM_UNIXTIME", types, 1, is_string, "a pattern string", expected=t.STRING)
    return t.STRING


def _from_unixtime(invocation: Invocation, args: Sequence[Value]) -> Value:
    """FROM_UNIXTIME(seconds[, pattern]): the time in the session time zone as text."""
    if any_null_scalar(args):
        return None
    seconds = invocation.broadcast(args[0], invocation.arg_types[0])
    mask = np.asarray(seconds.isna().to_numpy(), dtype=bool)
    ns = np.round(seconds.to_numpy(dtype="float64", na_value=0.0) * NS_PER_SECOND).astype(np.int64)
    if invocation.arg_types[0].is_integer:
        ns = seconds.to_numpy(dtype="int64", na_value=0) * NS_PER_SECOND
    instants = datetimes(ns, mask, invocation.index).dt.tz_localize("UTC")
    pattern = _pattern(args, 1) or DEFAULT_TIMESTAMP_PATTERN
    if len(args) > 1 and is_series(args[1]):
        raise ValueError("FROM_UNIXTIME needs a constant pattern")
    return format_column(instants, t.timestamp_ltz(9), invocation.context.time_zone, pattern)


def _convert_tz(invocation: Invocation, args: Sequence[Value]) -> Value:
    """CONVERT_TZ(text, from_zone, to_zone): express 'yyyy-MM-dd HH:mm:ss' text in another zone."""
    if any_null_scalar(args):
        return None
    if is_series(args[1]) or is_series(args[2]):
        raise ValueError("CONVERT_TZ needs constant time zone names")
    ns, mask, _ = parse_column(invocation.broadcast(args[0], t.STRING), None)
    local = datetimes(ns, mask, invocation.index)
    ambiguous = np.ones(len(local), dtype=bool)
    instants = local.dt.tz_localize(str(args[1]), ambiguous=ambiguous, nonexistent="shift_forward")
    return format_column(
        instants.dt.tz_convert("UTC"), t.timestamp_ltz(9), str(args[2]), DEFAULT_TIMESTAMP_PATTERN
    )


FUNCTIONS = [
    ScalarFunction(
        "DATE_FORMAT", _infer_date_format, _date_format, "DATE_FORMAT(timestamp, pattern)"
    ),
    ScalarFunction(
        "TO_TIMESTAMP",
        _string_args("TO_TIMESTAMP", 1, 2, t.timestamp(3)),
        _to_timestamp,
        "TO_TIMESTAMP(string[, pattern])",
    ),
    ScalarFunction(
        "TO_DATE", _string_args("TO_DATE", 1, 2, t.DATE), _to_date, "TO_DATE(string[, pattern])"
    ),
    ScalarFunction(
        "UNIX_TIMESTAMP",
        _string_args("UNIX_TIMESTAMP", 0, 2, t.BIGINT),
        _unix_timestamp,
        "UNIX_TIMESTAMP([string[, pattern]])",
        deterministic=False,
    ),
    ScalarFunction(
        "FROM_UNIXTIME", _infer_from_unixtime, _from_unixtime, "FROM_UNIXTIME(seconds[, pattern])"
    ),
    ScalarFunction(
        "CONVERT_TZ",
        _string_args("CONVERT_TZ", 3, 3, t.STRING),
        _convert_tz,
        "CONVERT_TZ(string, from_tz, to_tz)",
    ),
]
