"""Text conversions for CAST: values to Flink's text forms, and text to numbers and times."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events.time import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.arrow import arrow_strings, join_strings, numeric_parts, string_series
from workbench.sql.functions.base import objects_to_series, scalar_of
from workbench.sql.functions.calendar import nanoseconds
from workbench.sql.functions.datetime_text import format_times
from workbench.sql.functions.formatting import format_column

INTEGER_BOUNDS = {
    TypeKind.TINYINT: (-(2**7), 2**7 - 1),
    TypeKind.SMALLINT: (-(2**15), 2**15 - 1),
    TypeKind.INT: (-(2**31), 2**31 - 1),
    TypeKind.BIGINT: (-(2**63), 2**63 - 1),
}
_INTEGER_TEXT = r"^[+-]?\d{1,18}$"
_NUMBER_TEXT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(NaN|Infinity)$"


# Values to text --------------------------------------------------------------------------


def number_text(value: float, single: bool = False) -> str:
    """Render a float as Java's ``Double.toString`` (or ``Float.toString``) does."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    digits = np.format_float_scientific(
        np.float32(value) if single else value, unique=True, trim="-"
    )
    mantissa, exponent_text = digits.split("e")
    exponent = int(exponent_text)
    if 1e-3 <= abs(value) < 1e7:
        text = np.format_float_positional(
            np.float32(value) if single else value, unique=True, trim="0"
        )
        return text if "." in text and not text.endswith(".") else text.rstrip(".") + ".0"
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{exponent}"


def _texts_by_value(series: pd.Series, render: Any) -> pd.Series:
    """Render each distinct value once; for conversions without a vectorized form."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    rendered = pa.array([render(scalar_of(value)) for value in uniques] + [None], pa.large_string())
    return string_series(
        rendered.take(pa.array(np.where(codes < 0, len(uniques), codes))), series.index
    )


def decimal_text(series: pd.Series, scale: int) -> pd.Series:
    """Render DECIMAL values with exactly ``scale`` digits after the point."""
    values, mask = numeric_parts(series, "float64")
    factor = 10**scale
    with np.errstate(all="ignore"):
        magnitude = np.abs(values) * factor
        scaled = np.floor(magnitude + 0.5 + magnitude * 1e-13)
    if np.nanmax(np.where(mask, 0, scaled), initial=0) >= 2**62:
        return _texts_by_value(series, lambda value: f"{value:.{scale}f}")
    whole = np.where(mask, 0, scaled).astype(np.int64)
    integer_part = pc.cast(pa.array(whole // factor), pa.large_string())
    negative = pa.array((values < 0) & (whole > 0))
    parts: list[Any] = [pc.if_else(negative, "-", ""), integer_part]
    if scale > 0:
        fraction = pc.utf8_lpad(pc.cast(pa.array(whole % factor), pa.large_string()), scale, "0")
        parts += [".", fraction]
    joined = join_strings(parts)
    return string_series(
        pc.if_else(pa.array(mask), pa.scalar(None, pa.large_string()), joined), series.index
    )


def _fraction_pattern(precision: int | None, default: int) -> str:
    digits = default if precision is None else precision
    return "." + "S" * digits if digits > 0 else ""


def interval_text(value: pd.Timedelta) -> str:
    """Render a day-time interval as Flink does: ``+1 12:00:00.000``."""
    total = int(value.value)
    sign = "-" if total < 0 else "+"
    total = abs(total)
    days, rest = divmod(total, 86_400 * NS_PER_SECOND)
    hours, rest = divmod(rest, NS_PER_HOUR)
    minutes, rest = divmod(rest, NS_PER_MINUTE)
    seconds, nanos = divmod(rest, NS_PER_SECOND)
    return f"{sign}{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{nanos // 1_000_000:03d}"


def nested_text(value: Any) -> str:
    """Render ARRAY, MAP and ROW values: ``[1, 2]``, ``{a=1}``, ``(1, abc)``."""
    if value is None:
        return "NULL"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{nested_text(k)}={nested_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, np.ndarray)):
        return "[" + ", ".join(nested_text(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(nested_text(item) for item in value) + ")"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def _row_text(value: Any) -> str:
    if isinstance(value, dict):
        return "(" + ", ".join(nested_text(item) for item in value.values()) + ")"
    return nested_text(value)


def to_text(series: pd.Series, source: DataType, time_zone: str) -> pd.Series:
    """Render values of ``source`` as Flink's CAST(... AS STRING) does."""
    kind, index = source.kind, series.index
    if kind is TypeKind.VARCHAR:
        return series
    if kind is TypeKind.BOOLEAN:
        values = series.map({True: "TRUE", False: "FALSE"}, na_action="ignore")
        return values.astype(pd.StringDtype("pyarrow"))
    if source.is_integer:
        return string_series(pc.cast(pa.array(series, from_pandas=True), pa.large_string()), index)
    if kind is TypeKind.DECIMAL:
        return decimal_text(series, source.scale or 0)
    if source.is_numeric:
        return _texts_by_value(series, lambda value: number_text(value, kind is TypeKind.FLOAT))
    if kind is TypeKind.DATE:
        return format_column(series, source, time_zone, "yyyy-MM-dd")
    if kind is TypeKind.TIMESTAMP or kind is TypeKind.TIMESTAMP_LTZ:
        pattern = "yyyy-MM-dd HH:mm:ss" + _fraction_pattern(source.precision, 3)
        return format_column(series, source, time_zone, pattern)
    if kind is TypeKind.TIME:
        ns, mask = nanoseconds(series)
        pattern = "HH:mm:ss" + _fraction_pattern(source.precision, 0)
        return string_series(format_times(ns, mask, pattern), index)
    if kind is TypeKind.INTERVAL:
        return _texts_by_value(series, interval_text)
    if kind is TypeKind.BINARY:
        return objects_to_series(
            [_utf8(value) for value in series.tolist()], DataType(TypeKind.VARCHAR), index
        )
    if kind is TypeKind.ROW:
        return objects_to_series(
            [None if v is None else _row_text(v) for v in series.tolist()],
            DataType(TypeKind.VARCHAR),
            index,
        )
    return objects_to_series(
        [None if v is None else nested_text(v) for v in series.tolist()],
        DataType(TypeKind.VARCHAR),
        index,
    )


def _utf8(value: Any) -> str | None:
    if value is None or value is pd.NA:
        return None
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return None


# Text to values --------------------------------------------------------------------------


def parse_numbers(series: pd.Series, target: DataType) -> tuple[np.ndarray, np.ndarray]:
    """Parse number text for a numeric ``target``; invalid or out-of-range text is masked."""
    # pyarrow's number parsing takes no leading "+", which Java's does.
    strings = pc.replace_substring_regex(pc.utf8_trim_whitespace(arrow_strings(series)), r"^\+", "")
    missing = np.asarray(strings.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    whole = np.asarray(
        pc.fill_null(pc.match_substring_regex(strings, _INTEGER_TEXT), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    number = np.asarray(
        pc.fill_null(pc.match_substring_regex(strings, _NUMBER_TEXT), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    floats_text = pc.if_else(pa.array(number), strings, pa.scalar("0", pa.large_string()))
    floats = np.asarray(
        pc.cast(floats_text, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    if not target.is_integer:
        return floats, missing | ~number
    integers_text = pc.if_else(pa.array(whole), strings, pa.scalar("0", pa.large_string()))
    integers = np.asarray(
        pc.cast(integers_text, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    low, high = INTEGER_BOUNDS[target.kind]
    with np.errstate(invalid="ignore"):
        truncated = np.trunc(floats)
        in_range = np.isfinite(truncated) & (truncated >= low) & (truncated <= high)
        values = np.where(whole, integers, np.where(in_range, truncated, 0).astype(np.int64))
    valid = np.where(whole, (integers >= low) & (integers <= high), number & in_range)
    return values, missing | ~valid


_TIME_TEXT = r"^\s*(?P<h>\d{1,2}):(?P<m>\d{1,2})(?::(?P<s>\d{1,2})(?:\.(?P<f>\d{1,9}))?)?\s*$"


def parse_times_of_day(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``HH:mm[:ss[.fff]]`` into ns since midnight; invalid text is masked."""
    fields = pc.extract_regex(arrow_strings(series), _TIME_TEXT)
    mask = np.asarray(fields.is_null().to_numpy(zero_copy_only=False), dtype=bool)

    def number(name: str) -> np.ndarray:
        text = pc.struct_field(fields, name)
        text = pc.if_else(
            pc.equal(pc.fill_null(text, ""), ""), pa.scalar("0", pa.large_string()), text
        )
        return np.asarray(pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)

    hours, minutes, seconds = number("h"), number("m"), number("s")
    fraction = pc.utf8_rpad(pc.fill_null(pc.struct_field(fields, "f"), ""), 9, "0")
    nanos = np.asarray(pc.cast(fraction, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    valid = (hours < 24) & (minutes < 60) & (seconds < 60)
    ns = hours * NS_PER_HOUR + minutes * NS_PER_MINUTE + seconds * NS_PER_SECOND + nanos
    return np.where(mask | ~valid, 0, ns), mask | ~valid
