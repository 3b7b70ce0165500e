"""Converters to TIMESTAMP, TIMESTAMP_LTZ, DATE, TIME and INTERVAL.

Every converter computes int64 nanoseconds and a validity mask first, so the
range of ``datetime64[ns]`` (years 1677 to 2262) is checked in one place.
Timestamp text is parsed by pyarrow's ISO 8601 cast. When that cast raises,
pandas' ISO 8601 parser runs with ``errors='coerce'`` to find the invalid
values.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events.convert import (
    Category,
    ConformOptions,
    Conversion,
    fail_all,
    from_arrow,
    group_series,
)
from workbench.events.convert_scalar import clean_text, text_array, valid_mask
from workbench.events.time import NS_PER_DAY
from workbench.events.types import DataType, TypeKind

_NAT = np.iinfo(np.int64).min
_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_EPOCH_TEXT = r"^[+-]?[0-9]+(\.[0-9]+)?$"
# A zone offset or 'Z' after a time of day; a date alone ('2020-01-01') has none.
_ZONE_TEXT = r"[0-9]:[0-9][0-9](:[0-9][0-9](\.[0-9]*)?)?\s*(Z|z|[+-][0-9][0-9](:?[0-9][0-9])?)$"
_TIME_TEXT = (
    r"^(?P<hour>[01]?[0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
    r"(?::(?P<second>[0-5][0-9])(?:\.(?P<fraction>[0-9]{1,9}))?)?$"
)


def _datetime_ns(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return int64 nanoseconds of a datetime64 column of any unit, and a validity mask.

    Values outside the ``datetime64[ns]`` range are invalid. A tz-aware column
    gives UTC nanoseconds.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    unit = np.datetime_data(values.to_numpy().dtype)[0]
    raw = values.to_numpy().view(np.int64)
    factor = _UNIT_NS.get(unit, 1)
    limit = np.iinfo(np.int64).max // factor
    valid = (raw != _NAT) & (raw >= -limit) & (raw <= limit)
    return np.where(valid, raw * factor, 0), valid


def _epoch_ns(values: pd.Series, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Return nanoseconds of numbers that count ``unit`` since 1970-01-01 UTC."""
    factor = _UNIT_NS[unit]
    present = values.notna().to_numpy()
    if values.dtype.kind in "iu" or isinstance(values.dtype, pd.Int64Dtype):
        ints = values.to_numpy(dtype=np.int64, na_value=0)
        limit = np.iinfo(np.int64).max // factor
        valid = present & (ints >= -limit) & (ints <= limit)
        return np.where(valid, ints * factor, 0), valid
    floats = values.to_numpy(dtype=np.float64, na_value=np.nan) * factor
    with np.errstate(invalid="ignore"):
        valid = present & np.isfinite(floats) & (np.abs(floats) < 2.0**63)
    return np.where(valid, np.round(np.where(valid, floats, 0)), 0).astype(np.int64), valid


def _localize_ns(ns: np.ndarray, valid: np.ndarray, time_zone: str) -> np.ndarray:
    """Return UTC nanoseconds of wall times in ``time_zone``.

    A wall time that occurs twice when clocks go back takes the earlier
    instant. A wall time in the gap when clocks go forward moves to the first
    instant after the gap.
    """
    if time_zone == "UTC" or not valid.any():
        return ns
    wall = pd.Series(np.where(valid, ns, _NAT).view("M8[ns]"))
    local = wall.dt.tz_localize(
        time_zone, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    return _datetime_ns(local)[0]


def _to_timestamp(
    ns: np.ndarray, valid: np.ndarray, dtype: DataType, failed: np.ndarray
) -> Conversion:
    """Return the timestamp column, truncated to the type's precision (3 keeps ms)."""
    unit = dtype.precision_ns
    if unit > 1:
        ns = ns - ns % unit
    values = pd.Series(np.where(valid, ns, _NAT).view("M8[ns]"))
    if dtype.kind is TypeKind.TIMESTAMP_LTZ:
        values = values.dt.tz_localize("UTC")
    return Conversion(values, failed)


# TIMESTAMP, TIMESTAMP_LTZ ---------------------------------------------------------


def convert_timestamp(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    """Convert to TIMESTAMP (wall time) or TIMESTAMP_LTZ (a UTC instant).

    A value with a zone offset becomes UTC. A value without one is wall time
    for TIMESTAMP and is read in ``options.time_zone`` for TIMESTAMP_LTZ.
    Numbers count ``options.epoch_unit`` since 1970-01-01 UTC.
    """
    local_zone = options.time_zone if dtype.kind is TypeKind.TIMESTAMP_LTZ else "UTC"
    present = values.notna().to_numpy()
    if category == "text":
        return _text_to_timestamp(values, dtype, options)
    if category in ("int", "float"):
        ns, valid = _epoch_ns(values, options.epoch_unit)
    elif category == "datetime":
        ns, valid = _datetime_ns(values)
        ns = _localize_ns(ns, valid, local_zone)
    elif category == "datetime_tz":
        ns, valid = _datetime_ns(values)
    elif category == "date":
        ns, valid = _datetime_ns(group_series(values, "datetime"))
        ns = _localize_ns(ns, valid, local_zone)
    else:
        return fail_all(values, dtype)
    return _to_timestamp(ns, valid, dtype, present & ~valid)


def _text_to_timestamp(values: pd.Series, dtype: DataType, options: ConformOptions) -> Conversion:
    array = text_array(values)
    local_zone = options.time_zone if dtype.kind is TypeKind.TIMESTAMP_LTZ else "UTC"
    if options.timestamp_format is None:
        fast = _cast_all(array, local_zone)
        if fast is not None:
            ns, valid = fast
            return _to_timestamp(ns, valid, dtype, np.zeros(len(array), dtype=bool))
    cleaned, _ = clean_text(array)
    if options.timestamp_format is not None:
        ns, valid, zoned = _parse_with_format(cleaned, options.timestamp_format)
        epoch = np.zeros(len(array), dtype=bool)
    else:
        epoch = pc.fill_null(pc.match_substring_regex(cleaned, _EPOCH_TEXT), False)
        zoned_text = pc.fill_null(pc.match_substring_regex(cleaned, _ZONE_TEXT), False)
        ns, valid = _parse_iso(_only(cleaned, pc.or_(epoch, zoned_text), keep=False), None)
        zoned_ns, zoned_valid = _parse_iso(_only(cleaned, zoned_text), "UTC")
        zoned = zoned_text.to_numpy(zero_copy_only=False)
        ns = np.where(zoned, zoned_ns, ns)
        valid = np.where(zoned, zoned_valid, valid)
        epoch = epoch.to_numpy(zero_copy_only=False)
    ns = np.where(zoned, ns, _localize_ns(ns, valid & ~zoned, local_zone))
    if epoch.any():
        epoch_ns, epoch_valid = _epoch_ns(
            _epoch_numbers(_only(cleaned, pa.array(epoch))), options.epoch_unit
        )
        ns = np.where(epoch, epoch_ns, ns)
        valid = np.where(epoch, epoch_valid, valid)
    failed = valid_mask(cleaned) & ~valid
    return _to_timestamp(ns, valid, dtype, failed)


def _cast_all(array: pa.Array, local_zone: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Return nanoseconds when every value is ISO text, all with or all without zone.

    This is the common case, tried before classifying the values one by one.
    """
    for zone in (None, "UTC"):
        try:
            parsed = pc.cast(array, pa.timestamp("ns", zone))
        except pa.ArrowInvalid:
            continue
        ns = pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        valid = valid_mask(parsed)
        if zone is None:
            ns = _localize_ns(ns, valid, local_zone)
        return ns, valid
    return None


def _epoch_numbers(array: pa.Array) -> pd.Series:
    """Return epoch text as integers, or as floats if any has a fraction or is huge."""
    try:
        return from_arrow(pc.cast(array, pa.int64()), pd.Int64Dtype())
    except pa.ArrowInvalid:
        return from_arrow(pc.cast(array, pa.float64()), pd.Float64Dtype())


def _only(array: pa.Array, mask: pa.Array, *, keep: bool = True) -> pa.Array:
    """Return ``array`` with null where ``mask`` is false (or true, with keep=False)."""
    selected = mask if keep else pc.invert(mask)
    return pc.if_else(selected, array, pa.scalar(None, array.type))


def _parse_iso(array: pa.Array, zone: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Parse ISO 8601 text, with zone offsets when ``zone`` is 'UTC', to nanoseconds."""
    try:
        parsed = pc.cast(array, pa.timestamp("ns", zone))
        ns = pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        return ns, valid_mask(parsed)
    except pa.ArrowInvalid:
        pass
    text = pd.Series(array.to_pandas(types_mapper=pd.ArrowDtype), dtype=object)
    parsed_frame = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=zone is not None)
    return _datetime_ns(pd.Series(parsed_frame))


def _parse_with_format(array: pa.Array, pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse text with a strftime pattern; a pattern with %z gives UTC instants."""
    zoned = "%z" in pattern or "%Z" in pattern
    text = pd.Series(array.to_pandas(types_mapper=pd.ArrowDtype), dtype=object)
    parsed = pd.to_datetime(text, format=pattern, errors="coerce", utc=zoned)
    ns, valid = _datetime_ns(pd.Series(parsed))
    return ns, valid, np.full(len(array), zoned)


# DATE -------------------------------------------------------------------------


def convert_date(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    """Convert to DATE, stored as midnight in ``datetime64[ns]``.

    Text is 'YYYY-MM-DD', numbers count days since 1970-01-01, and a timestamp
    keeps its date (wall time for a value with a zone).
    """
    del options
    present = values.notna().to_numpy()
    if category == "text":
        cleaned, _ = clean_text(text_array(values))
        ns, valid = _parse_date_text(cleaned)
        present = valid_mask(cleaned)
    elif category == "int":
        days = values.to_numpy(dtype=np.int64, na_value=0)
        limit = np.iinfo(np.int64).max // NS_PER_DAY
        valid = present & (np.abs(days) <= limit)
        ns = days * NS_PER_DAY
    elif category in ("datetime", "datetime_tz", "date"):
        if category == "datetime_tz":
            values = values.dt.tz_localize(None)
        elif category == "date":
            values = group_series(values, "datetime")
        ns, valid = _datetime_ns(values)
        ns = ns - ns % NS_PER_DAY
    else:
        return fail_all(values, dtype)
    result = pd.Series(np.where(valid, ns, _NAT).view("M8[ns]"))
    return Conversion(result, present & ~valid)


def _parse_date_text(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    try:
        days = pc.cast(array, pa.date32()).cast(pa.int32()).cast(pa.int64())
        ns = pc.fill_null(days, 0).to_numpy(zero_copy_only=False) * NS_PER_DAY
        return ns, valid_mask(days)
    except pa.ArrowInvalid:
        pass
    text = pd.Series(array.to_pandas(types_mapper=pd.ArrowDtype), dtype=object)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    return _datetime_ns(pd.Series(parsed))


# TIME, INTERVAL -----------------------------------------------------------------


def convert_time(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    """Convert to TIME, stored as ``timedelta64[ns]`` since midnight.

    Text is 'HH:MM[:SS[.fffffffff]]' and numbers count milliseconds since
    midnight.
    """
    del options
    present = values.notna().to_numpy()
    if category == "text":
        cleaned, _ = clean_text(text_array(values))
        ns, valid = _parse_time_text(cleaned)
        present = valid_mask(cleaned)
    elif category in ("int", "float"):
        ns, valid = _epoch_ns(values, "ms")
    elif category == "timedelta":
        ns, valid = _timedelta_ns(values)
    elif category == "time":
        objects = values.to_numpy(dtype=object)
        ns = np.array([_time_of_day_ns(value) for value in objects], dtype=np.int64)
        valid = present.copy()
    elif category in ("datetime", "datetime_tz"):
        if category == "datetime_tz":
            values = values.dt.tz_localize(None)
        ns, valid = _datetime_ns(values)
        ns = ns % NS_PER_DAY
    else:
        return fail_all(values, dtype)
    valid &= (ns >= 0) & (ns < NS_PER_DAY)
    result = pd.Series(np.where(valid, ns, _NAT).view("m8[ns]"))
    return Conversion(result, present & ~valid)


def _parse_time_text(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    parts = pc.extract_regex(array, _TIME_TEXT)
    valid = valid_mask(parts)
    total = np.zeros(len(array), dtype=np.int64)
    scales = {
        "hour": 3_600_000_000_000,
        "minute": 60_000_000_000,
        "second": 1_000_000_000,
    }
    for name, scale in scales.items():
        digits = pc.if_else(pc.equal(parts.field(name), ""), "0", parts.field(name))
        number = pc.fill_null(pc.cast(digits, pa.int64()), 0)
        total += number.to_numpy(zero_copy_only=False) * scale
    fraction = pc.utf8_rpad(parts.field("fraction"), width=9, padding="0")
    total += pc.fill_null(pc.cast(fraction, pa.int64()), 0).to_numpy(zero_copy_only=False)
    return total, valid


def _time_of_day_ns(value: dt.time) -> int:
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    return seconds * 1_000_000_000 + value.microsecond * 1_000


def _timedelta_ns(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    unit = np.datetime_data(values.to_numpy().dtype)[0]
    raw = values.to_numpy().view(np.int64)
    factor = _UNIT_NS.get(unit, 1)
    limit = np.iinfo(np.int64).max // factor
    valid = (raw != _NAT) & (raw >= -limit) & (raw <= limit)
    return np.where(valid, raw * factor, 0), valid


def convert_interval(
    values: pd.Series, category: Category, dtype: DataType, options: ConformOptions
) -> Conversion:
    """Convert to INTERVAL (timedelta64[ns]); numbers count milliseconds."""
    del options
    present = values.notna().to_numpy()
    if category == "timedelta":
        ns, valid = _timedelta_ns(values)
    elif category in ("int", "float"):
        ns, valid = _epoch_ns(values, "ms")
    elif category == "text":
        cleaned, _ = clean_text(text_array(values))
        text = pd.Series(cleaned.to_pandas(types_mapper=pd.ArrowDtype), dtype=object)
        ns, valid = _timedelta_ns(pd.Series(pd.to_timedelta(text, errors="coerce")))
        present = valid_mask(cleaned)
    else:
        return fail_all(values, dtype)
    result = pd.Series(np.where(valid, ns, _NAT).view("m8[ns]"))
    return Conversion(result, present & ~valid)
