"""Time functions: the clock, CURRENT_WATERMARK, TIMESTAMPADD, TIMESTAMPDIFF, TO_TIMESTAMP_LTZ.

TIMESTAMP values are wall-clock times; TIMESTAMP_LTZ values are instants that
these functions read in the session time zone (``EvalContext.time_zone``).
Every function works on whole columns of int64 nanoseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from workbench.events import types as t
from workbench.events.time import (
    MIN_WATERMARK,
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    NS_PER_MS,
    NS_PER_SECOND,
    NS_PER_US,
)
from workbench.events.types import DataType, TimeAttribute, TypeKind
from workbench.sql.functions.arrow import masked_numeric
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    expect,
    expect_count,
    is_datetime,
    is_integer,
    is_numeric,
)
from workbench.sql.functions.calendar import (
    add_months,
    datetimes,
    from_wall_clock,
    months_between,
    nanoseconds,
    truncate_division,
    wall_clock,
)

FIXED_UNITS = {
    "NANOSECOND": 1,
    "MICROSECOND": NS_PER_US,
    "MILLISECOND": NS_PER_MS,
    "SECOND": NS_PER_SECOND,
    "MINUTE": NS_PER_MINUTE,
    "HOUR": NS_PER_HOUR,
    "DAY": NS_PER_DAY,
    "WEEK": 7 * NS_PER_DAY,
}
MONTH_UNITS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def _instant(invocation: Invocation, precision: int = 3) -> pd.Timestamp:
    step = 10 ** (9 - precision)
    return pd.Timestamp(invocation.context.now_ns // step * step, unit="ns", tz="UTC")


def _local_now(invocation: Invocation, precision: int = 3) -> pd.Timestamp:
    return (
        _instant(invocation, precision).tz_convert(invocation.context.time_zone).tz_localize(None)
    )


def _no_args(name: str, result: DataType) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 0)
        return result

    return infer


# The clock -------------------------------------------------------------------------------


def _current_timestamp(invocation: Invocation, args: Sequence[Value]) -> Value:
    # NOTE: PROCTIME() and CURRENT_ROW_TIMESTAMP() read one clock value per
    # batch (EvalContext.now_ns), where Flink reads the clock for every row.
    return _instant(invocation)


def _localtimestamp(invocation: Invocation, args: Sequence[Value]) -> Value:
    return _local_now(invocation)


def _current_date(invocation: Invocation, args: Sequence[Value]) -> Value:
    return _local_now(invocation).normalize()


def _current_time(invocation: Invocation, args: Sequence[Value]) -> Value:
    now = _local_now(invocation, 0)
    return now - now.normalize()


def _infer_watermark(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("CURRENT_WATERMARK", types, 1)
    (rowtime,) = types
    if not rowtime.is_timestamp or rowtime.time_attribute is not TimeAttribute.ROWTIME:
        raise ArgumentTypeError(
            f"CURRENT_WATERMARK needs the event-time column of a table, got {rowtime.sql()}",
            0,
            hint="pass the column named in the table's WATERMARK FOR clause",
        )
    return DataType(rowtime.kind, precision=3)


def _current_watermark(invocation: Invocation, args: Sequence[Value]) -> Value:
    """Return the watermark before each row; NULL until the first watermark exists."""
    marks = invocation.row_watermarks
    if marks is None:
        return None
    values = np.asarray(marks, dtype=np.int64)
    if len(values) != invocation.length:
        raise ValueError(f"{len(values)} row watermarks for {invocation.length} rows")
    stamps = datetimes(values, values == MIN_WATERMARK, invocation.index)
    if invocation.result_type.kind is TypeKind.TIMESTAMP_LTZ:
        return stamps.dt.tz_localize("UTC")
    return stamps


# TIMESTAMPADD and TIMESTAMPDIFF ----------------------------------------------------------

ARITHMETIC_UNITS = (
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
)


def _check_unit(name: str, unit: str) -> None:
    if unit not in ARITHMETIC_UNITS:
        raise ArgumentTypeError(
            f"{name} does not know the unit {unit}", hint="units: " + ", ".join(ARITHMETIC_UNITS)
        )


def _infer_timestampadd(types: Sequence[DataType], options: Options) -> DataType:
    unit = str(options.get("unit", "")).upper()
    _check_unit("TIMESTAMPADD", unit)
    expect_count("TIMESTAMPADD", types, 2)
    expect("TIMESTAMPADD", types, 0, is_integer, "an integer count", expected=t.INT)
    expect("TIMESTAMPADD", types, 1, is_datetime, "a date or timestamp", expected=t.timestamp(3))
    target = types[1].plain()
    if target.kind is TypeKind.DATE and unit in FIXED_UNITS and FIXED_UNITS[unit] < NS_PER_DAY:
        return t.timestamp(3)
    return target


def _timestampadd(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    unit = str(invocation.option("unit")).upper()
    count_type, point_type = invocation.arg_types
    counts, count_mask = _int_values(invocation, args[0], count_type)
    points = invocation.broadcast(args[1], point_type)
    time_zone = invocation.context.time_zone
    local = wall_clock(points, point_type, time_zone)
    ns, mask = nanoseconds(local)
    safe = np.where(mask, 0, ns)
    if unit in MONTH_UNITS:
        moved = add_months(safe, counts * MONTH_UNITS[unit])
    else:
        moved = safe + counts * FIXED_UNITS[unit]
    result = datetimes(moved, mask | count_mask, invocation.index)
    return from_wall_clock(result, invocation.result_type, time_zone)


def _int_values(
    invocation: Invocation, value: Value, type: DataType
) -> tuple[np.ndarray, np.ndarray]:
    series = invocation.broadcast(value, type)
    mask = np.asarray(series.isna().to_numpy(), dtype=bool)
    return series.to_numpy(dtype="int64", na_value=0), mask


def _infer_timestampdiff(types: Sequence[DataType], options: Options) -> DataType:
    unit = str(options.get("unit", "")).upper()
    _check_unit("TIMESTAMPDIFF", unit)
    expect_count("TIMESTAMPDIFF", types, 2)
    for position in (0, 1):
        expect(
            "TIMESTAMPDIFF",
            types,
            position,
            is_datetime,
            "a date or timestamp",
            expected=t.timestamp(3),
        )
    return t.INT


def _timestampdiff(invocation: Invocation, args: Sequence[Value]) -> Value:
    """Whole units from the first to the second argument, truncated toward zero (as Flink)."""
    if any_null_scalar(args):
        return None
    unit = str(invocation.option("unit")).upper()
    time_zone = invocation.context.time_zone
    values = []
    for value, type in zip(args, invocation.arg_types, strict=True):
        ns, mask = nanoseconds(wall_clock(invocation.broadcast(value, type), type, time_zone))
        values.append((np.where(mask, 0, ns), mask))
    (start, start_mask), (end, end_mask) = values
    if unit in MONTH_UNITS:
        result = truncate_division(months_between(start, end), MONTH_UNITS[unit])
    else:
        result = truncate_division(end - start, FIXED_UNITS[unit])
    return masked_numeric(result, start_mask | end_mask, "Int32", invocation.index)


# TO_TIMESTAMP_LTZ ------------------------------------------------------------------------


def _infer_to_timestamp_ltz(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("TO_TIMESTAMP_LTZ", types, 1, 2)
    expect(
        "TO_TIMESTAMP_LTZ", types, 0, is_numeric, "epoch seconds or milliseconds", expected=t.BIGINT
    )
    if len(types) > 1:
        expect(
            "TO_TIMESTAMP_LTZ",
            types,
            1,
            is_integer,
            "the precision 0 (seconds) or 3 (milliseconds)",
            expected=t.INT,
        )
    return t.timestamp_ltz(3)


def _to_timestamp_ltz(invocation: Invocation, args: Sequence[Value]) -> Value:
    """TO_TIMESTAMP_LTZ(epoch, precision): precision 0 reads seconds, 3 milliseconds (up to 9).

    NOTE: the newer text form TO_TIMESTAMP_LTZ(string[, format[, zone]]) is not implemented.
    """
    if any_null_scalar(args):
        return None
    precision = int(args[1]) if len(args) > 1 else 3
    if not 0 <= precision <= 9:
        raise ValueError(f"TO_TIMESTAMP_LTZ precision must be 0 to 9, got {precision}")
    series = invocation.broadcast(args[0], invocation.arg_types[0])
    mask = np.asarray(series.isna().to_numpy(), dtype=bool)
    numbers = series.to_numpy(dtype="float64", na_value=0.0)
    scale = 10 ** (9 - precision)
    if invocation.arg_types[0].is_integer:
        ns = series.to_numpy(dtype="int64", na_value=0) * scale
    else:
        ns = np.round(numbers * scale).astype(np.int64)
    return datetimes(ns, mask, invocation.index).dt.tz_localize("UTC")


def _ltz(precision: int) -> DataType:
    return t.timestamp_ltz(precision)


FUNCTIONS = [
    ScalarFunction(
        "CURRENT_TIMESTAMP",
        _no_args("CURRENT_TIMESTAMP", _ltz(3)),
        _current_timestamp,
        "CURRENT_TIMESTAMP",
        deterministic=False,
    ),
    ScalarFunction(
        "NOW", _no_args("NOW", _ltz(3)), _current_timestamp, "NOW()", deterministic=False
    ),
    ScalarFunction(
        "CURRENT_ROW_TIMESTAMP",
        _no_args("CURRENT_ROW_TIMESTAMP", _ltz(3)),
        _current_timestamp,
        "CURRENT_ROW_TIMESTAMP()",
        deterministic=False,
    ),
    ScalarFunction(
        "PROCTIME",
        _no_args("PROCTIME", _ltz(3).with_time_attribute(TimeAttribute.PROCTIME)),
        _current_timestamp,
        "PROCTIME()",
        "The processing-time attribute.",
        deterministic=False,
    ),
    ScalarFunction(
        "LOCALTIMESTAMP",
        _no_args("LOCALTIMESTAMP", t.timestamp(3)),
        _localtimestamp,
        "LOCALTIMESTAMP",
        deterministic=False,
    ),
    ScalarFunction(
        "CURRENT_DATE",
        _no_args("CURRENT_DATE", t.DATE),
        _current_date,
        "CURRENT_DATE",
        deterministic=False,
    ),
    ScalarFunction(
        "CURRENT_TIME",
        _no_args("CURRENT_TIME", t.TIME),
        _current_time,
        "CURRENT_TIME",
        deterministic=False,
    ),
    ScalarFunction(
        "LOCALTIME", _no_args("LOCALTIME", t.TIME), _current_time, "LOCALTIME", deterministic=False
    ),
    ScalarFunction(
        "CURRENT_WATERMARK",
        _infer_watermark,
        _current_watermark,
        "CURRENT_WATERMARK(rowtime)",
        "The watermark in force before each row, or NULL.",
        deterministic=False,
    ),
    ScalarFunction(
        "TIMESTAMPADD", _infer_timestampadd, _timestampadd, "TIMESTAMPADD(unit, count, timepoint)"
    ),
    ScalarFunction(
        "TIMESTAMPDIFF",
        _infer_timestampdiff,
        _timestampdiff,
        "TIMESTAMPDIFF(unit, timepoint1, timepoint2)",
    ),
    ScalarFunction(
        "TO_TIMESTAMP_LTZ",
        _infer_to_timestamp_ltz,
        _to_timestamp_ltz,
        "TO_TIMESTAMP_LTZ(epoch, precision)",
    ),
]
