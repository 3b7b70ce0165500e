"""Calendar fields and rounding: EXTRACT, YEAR ... SECOND, and FLOOR/CEIL(t TO unit).

Fields are read from wall-clock time; a TIMESTAMP_LTZ value is read in the
session time zone (``EvalContext.time_zone``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

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
from workbench.sql.functions.arrow import masked_numeric
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    expect_count,
    is_datetime,
)
from workbench.sql.functions.calendar import (
    add_months,
    civil,
    datetimes,
    from_wall_clock,
    nanoseconds,
    split_days,
    timedeltas,
    truncate_division,
    wall_clock,
)
from workbench.sql.functions.temporal import FIXED_UNITS, MONTH_UNITS

EXTRACT_UNITS = (
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "MICROSECOND",
    "NANOSECOND",
    "DOY",
    "DOW",
    "ISODOW",
    "ISOYEAR",
    "EPOCH",
    "DECADE",
    "CENTURY",
    "MILLENNIUM",
)
SHORTHANDS = {
    "YEAR": "YEAR",
    "QUARTER": "QUARTER",
    "MONTH": "MONTH",
    "WEEK": "WEEK",
    "DAYOFYEAR": "DOY",
    "DAYOFMONTH": "DAY",
    "DAYOFWEEK": "DOW",
    "HOUR": "HOUR",
    "MINUTE": "MINUTE",
    "SECOND": "SECOND",
}


# EXTRACT ---------------------------------------------------------------------------------


def _infer_extract(types: Sequence[DataType], options: Options) -> DataType:
    unit = str(options.get("unit", "")).upper()
    expect_count("EXTRACT", types, 1)
    if unit not in EXTRACT_UNITS:
        raise ArgumentTypeError(
            f"EXTRACT does not know the unit {unit}", hint="units: " + ", ".join(EXTRACT_UNITS)
        )
    kind = types[0].kind
    if kind is TypeKind.TIME and unit not in (
        "HOUR",
        "MINUTE",
        "SECOND",
        "MILLISECOND",
        "MICROSECOND",
        "EPOCH",
    ):
        raise ArgumentTypeError(f"cannot extract {unit} from a TIME", 0)
    if not (is_datetime(types[0]) or kind in (TypeKind.TIME, TypeKind.INTERVAL)):
        raise ArgumentTypeError(
            f"EXTRACT needs a date, time, timestamp or interval, got {types[0].sql()}", 0
        )
    return t.BIGINT


def _infer_shorthand(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    unit = SHORTHANDS[name]

    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1)
        return _infer_extract(types, {"unit": unit})

    return infer


def extract_fields(ns: np.ndarray, unit: str, *, epoch_ns: np.ndarray | None = None) -> np.ndarray:
    """Return one calendar field of wall-clock ns (Flink's EXTRACT units)."""
    days, time_of_day = split_days(ns)
    if unit in ("YEAR", "MONTH", "DAY", "QUARTER", "DECADE", "CENTURY", "MILLENNIUM", "DOY"):
        year, month, day = civil(ns)
        if unit == "YEAR":
            return year
        if unit == "MONTH":
            return month
        if unit == "DAY":
            return day
        if unit == "QUARTER":
            return (month - 1) // 3 + 1
        if unit == "DECADE":
            return year // 10
        if unit == "CENTURY":
            return (year + 99) // 100
        if unit == "MILLENNIUM":
            return (year + 999) // 1000
        year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
        return days - year_start + 1
    if unit == "DOW":
        return (days + 4) % 7 + 1
    if unit == "ISODOW":
        return (days + 3) % 7 + 1
    if unit in ("WEEK", "ISOYEAR"):
        calendar = pd.DatetimeIndex(ns.view("datetime64[ns]")).isocalendar()
        column = "week" if unit == "WEEK" else "year"
        return calendar[column].to_numpy(dtype=np.int64)
    if unit == "EPOCH":
        return np.floor_divide(ns if epoch_ns is None else epoch_ns, NS_PER_SECOND)
    return _clock_field(time_of_day, unit)


def _clock_field(time_of_day: np.ndarray, unit: str) -> np.ndarray:
    # NOTE: MILLISECOND and MICROSECOND include the whole seconds of the
    # minute (44.123 s gives 44123), as Calcite defines them for Flink.
    if unit == "HOUR":
        return time_of_day // NS_PER_HOUR
    if unit == "MINUTE":
        return time_of_day // NS_PER_MINUTE % 60
    if unit == "SECOND":
        return time_of_day // NS_PER_SECOND % 60
    if unit == "MILLISECOND":
        return time_of_day % NS_PER_MINUTE // NS_PER_MS
    if unit == "MICROSECOND":
        return time_of_day % NS_PER_MINUTE // NS_PER_US
    return time_of_day % NS_PER_SECOND


def _extract_value(invocation: Invocation, value: Value, unit: str) -> Value:
    if any_null_scalar([value]):
        return None
    type = invocation.arg_types[0]
    series = invocation.broadcast(value, type)
    if type.kind in (TypeKind.TIME, TypeKind.INTERVAL):
        ns, mask = nanoseconds(series)
        if type.kind is TypeKind.INTERVAL and unit == "DAY":
            result = truncate_division(ns, NS_PER_DAY)
        elif type.kind is TypeKind.INTERVAL and unit != "EPOCH":
            result = _clock_field(np.abs(ns) % NS_PER_DAY, unit) * np.sign(ns)
        else:
            result = _clock_field(ns, unit) if unit != "EPOCH" else ns // NS_PER_SECOND
        return masked_numeric(result, mask, "Int64", invocation.index)
    local = wall_clock(series, type, invocation.context.time_zone)
    ns, mask = nanoseconds(local)
    safe = np.where(mask, 0, ns)
    epoch = None
    if type.kind is TypeKind.TIMESTAMP_LTZ:
        instants, _ = nanoseconds(
            series.dt.tz_localize(None) if series.dt.tz is not None else series
        )
        epoch = np.where(mask, 0, instants)
    return masked_numeric(
        extract_fields(safe, unit, epoch_ns=epoch), mask, "Int64", invocation.index
    )


def _extract(invocation: Invocation, args: Sequence[Value]) -> Value:
    return _extract_value(invocation, args[0], str(invocation.option("unit")).upper())


def _shorthand(name: str) -> Callable[[Invocation, Sequence[Value]], Value]:
    unit = SHORTHANDS[name]

    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        return _extract_value(invocation, args[0], unit)

    return implementation


# FLOOR and CEIL to a unit ----------------------------------------------------------------

FLOOR_UNITS = ("MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR")


def infer_floor_time(name: str, types: Sequence[DataType], unit: str) -> DataType:
    expect_count(name, types, 1)
    if unit not in FLOOR_UNITS:
        raise ArgumentTypeError(
            f"{name} TO {unit} is not a supported unit", hint="units: " + ", ".join(FLOOR_UNITS)
        )
    type = types[0]
    if type.kind is TypeKind.TIME and unit in ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"):
        raise ArgumentTypeError(f"cannot round a TIME to {unit}", 0)
    if not (is_datetime(type) or type.kind is TypeKind.TIME):
        raise ArgumentTypeError(
            f"{name} ... TO {unit} needs a date, time or timestamp, got {type.sql()}", 0
        )
    return type.plain()


def _floor_ns(ns: np.ndarray, unit: str) -> np.ndarray:
    if unit in MONTH_UNITS:
        days, _ = split_days(ns)
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        months = months - months % MONTH_UNITS[unit]
        return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) * NS_PER_DAY
    if unit == "WEEK":
        # NOTE: weeks start on Sunday, as Calcite's FLOOR(... TO WEEK) for Flink.
        days, _ = split_days(ns)
        return (days - (days + 4) % 7) * NS_PER_DAY
    size = FIXED_UNITS[unit]
    return ns - np.mod(ns, size)


def floor_time(invocation: Invocation, value: Value, unit: str, *, ceil: bool) -> Value:
    """FLOOR(t TO unit) and CEIL(t TO unit) on wall-clock time; a value on the boundary stays."""
    if any_null_scalar([value]):
        return None
    type = invocation.arg_types[0]
    series = invocation.broadcast(value, type)
    time_zone = invocation.context.time_zone
    local = series if type.kind is TypeKind.TIME else wall_clock(series, type, time_zone)
    ns, mask = nanoseconds(local)
    safe = np.where(mask, 0, ns)
    floored = _floor_ns(safe, unit)
    if ceil:
        step = np.where(floored != safe, 1, 0)
        if unit in MONTH_UNITS:
            floored = np.where(step == 1, add_months(floored, MONTH_UNITS[unit]), floored)
        else:
            floored = floored + step * FIXED_UNITS[unit]
    if type.kind is TypeKind.TIME:
        return timedeltas(floored % NS_PER_DAY, mask, invocation.index)
    return from_wall_clock(datetimes(floored, mask, invocation.index), type, time_zone)


FUNCTIONS = [
    ScalarFunction("EXTRACT", _infer_extract, _extract, "EXTRACT(unit FROM temporal)"),
    *(
        ScalarFunction(name, _infer_shorthand(name), _shorthand(name), f"{name}(date)")
        for name in SHORTHANDS
    ),
]
