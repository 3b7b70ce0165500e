"""CAST and TRY_CAST between SQL types, vectorized per pair of type families.

NOTE: Flink fails the whole job when CAST meets a value it cannot convert
(``CAST('abc' AS INT)``) and only TRY_CAST returns NULL. Here CAST also
returns NULL and counts the value in ``EvalContext.cast_failures``, because
one bad row must not stop a streaming query. The runtime reports the count.

Numbers cast to a TIMESTAMP are epoch seconds and a TIMESTAMP cast to an
integer gives epoch seconds, as Flink did before 1.15. NOTE: Flink 1.15 and
later reject these two casts and ask for TO_TIMESTAMP_LTZ and UNIX_TIMESTAMP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events import types as t
from workbench.events.time import NS_PER_SECOND
from workbench.events.types import NESTED_KINDS, DataType, TypeKind
from workbench.sql.functions.arrow import (
    arrow_strings,
    bool_series,
    masked_bool,
    masked_numeric,
    numeric_parts,
    string_series,
)
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    expect_count,
    is_null_scalar,
    is_series,
    null_series,
    to_dtype,
)
from workbench.sql.functions.calendar import (
    datetimes,
    from_wall_clock,
    nanoseconds,
    timedeltas,
    wall_clock,
)
from workbench.sql.functions.cast_nested import cast_nested
from workbench.sql.functions.cast_text import (
    parse_numbers,
    parse_times_of_day,
    to_text,
)
from workbench.sql.functions.formatting import parse_column


def castable(source: DataType, target: DataType) -> bool:
    """Return whether CAST(source AS target) is valid, following ``can_cast`` for scalars."""
    if source.kind is TypeKind.NULL:
        return True
    if target.kind in NESTED_KINDS or source.kind in NESTED_KINDS:
        if target.kind is TypeKind.VARCHAR:
            return True
        if source.kind is not target.kind:
            return False
        if source.kind is TypeKind.ARRAY:
            assert source.element is not None and target.element is not None
            return castable(source.element, target.element)
        if source.kind is TypeKind.MAP:
            assert source.key is not None and source.value is not None
            assert target.key is not None and target.value is not None
            return castable(source.key, target.key) and castable(source.value, target.value)
        return len(source.fields) == len(target.fields) and all(
            castable(a.type, b.type) for a, b in zip(source.fields, target.fields, strict=True)
        )
    if TypeKind.BINARY in (source.kind, target.kind):
        return source.kind in (TypeKind.BINARY, TypeKind.VARCHAR) and target.kind in (
            TypeKind.BINARY,
            TypeKind.VARCHAR,
        )
    return t.can_cast(source, target)


def _infer_cast(name: str) -> Any:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1)
        target: DataType = options["type"]
        if not castable(types[0], target):
            raise ArgumentTypeError(
                f"cannot cast {types[0].plain().sql()} to {target.plain().sql()}",
                0,
                hint="TO_TIMESTAMP_LTZ, UNIX_TIMESTAMP, DATE_FORMAT and TO_TIMESTAMP convert "
                "between times, "
                "numbers and text",
            )
        return target.plain().with_nullable(True) if name == "TRY_CAST" else target.plain()

    return infer


# Conversion ------------------------------------------------------------------------------


def cast_column(
    invocation: Invocation, series: pd.Series, source: DataType, target: DataType
) -> pd.Series:
    """Convert a column; values that do not convert become NULL (the caller counts them)."""
    s, k = source.kind, target.kind
    time_zone = invocation.context.time_zone
    if s is TypeKind.NULL:
        return null_series(target, len(series), series.index)
    if k is TypeKind.VARCHAR:
        return _truncate(to_text(series, source, time_zone), target)
    if s is TypeKind.VARCHAR:
        return _from_text(invocation, series, target)
    if k in NESTED_KINDS:
        return _nested(invocation, series, source, target)
    if k is TypeKind.BOOLEAN:
        values, mask = numeric_parts(series, "float64")
        return masked_bool(values != 0, mask, series.index)
    if target.is_numeric:
        return _to_number(series, source, target)
    if s is TypeKind.BINARY:
        return series
    if source.is_numeric:
        return _epoch_seconds_to_time(series, target, time_zone)
    return _between_times(series, source, target, time_zone)


def _truncate(text: pd.Series, target: DataType) -> pd.Series:
    # NOTE: CHAR(n) keeps shorter values as they are; Flink pads them with spaces.
    if target.precision is None:
        return text
    return string_series(
        pc.utf8_slice_codeunits(arrow_strings(text), 0, target.precision), text.index
    )


def _to_number(series: pd.Series, source: DataType, target: DataType) -> pd.Series:
    index = series.index
    if source.kind is TypeKind.BOOLEAN:
        values, mask = numeric_parts(series, "int64")
        return masked_numeric(values, mask, target.pandas_dtype(), index)
    if source.is_timestamp:
        ns, mask = nanoseconds(
            series.dt.tz_convert("UTC").dt.tz_localize(None)
            if source.kind is TypeKind.TIMESTAMP_LTZ
            else series
        )
        seconds = np.floor_divide(np.where(mask, 0, ns), NS_PER_SECOND)
        return masked_numeric(seconds, mask, target.pandas_dtype(), index)
    if target.is_integer:
        if source.is_integer:
            values, mask = numeric_parts(series, "int64")
        else:
            floats, mask = numeric_parts(series, "float64")
            mask = mask | ~np.isfinite(floats)
            with np.errstate(invalid="ignore"):
                values = np.trunc(np.where(mask, 0, floats)).astype(np.int64)
        # Narrowing wraps around, as Java's casts between integer types do.
        return masked_numeric(values, mask, target.pandas_dtype(), index)
    values, mask = numeric_parts(series, "float64")
    if target.kind is TypeKind.DECIMAL:
        return _to_decimal(values, mask, target, index)
    return masked_numeric(values, mask, target.pandas_dtype(), index)


def _to_decimal(
    values: np.ndarray, mask: np.ndarray, target: DataType, index: pd.Index
) -> pd.Series:
    """Round to the scale (half away from zero); a value too large for the precision is NULL."""
    scale = target.scale or 0
    precision = target.precision or 10
    factor = 10.0**scale
    with np.errstate(all="ignore"):
        scaled = np.abs(values) * factor
        rounded = np.sign(values) * np.floor(scaled + 0.5 + scaled * 1e-13) / factor
    overflow = np.abs(rounded) >= 10.0 ** (precision - scale)
    return masked_numeric(rounded, mask | overflow | ~np.isfinite(values), "Float64", index)


def _epoch_seconds_to_time(series: pd.Series, target: DataType, time_zone: str) -> pd.Series:
    seconds, mask = numeric_parts(series, "float64")
    ns = np.round(np.where(mask, 0, seconds) * NS_PER_SECOND).astype(np.int64)
    stamps = datetimes(ns, mask, series.index)
    if target.kind is TypeKind.TIMESTAMP_LTZ:
        return stamps.dt.tz_localize("UTC")
    if target.kind is TypeKind.DATE:
        return stamps.dt.floor("D")
    return stamps


def _between_times(
    series: pd.Series, source: DataType, target: DataType, time_zone: str
) -> pd.Series:
    if target.kind is TypeKind.INTERVAL or source.kind is TypeKind.INTERVAL:
        return to_dtype(series, target)
    if source.kind is TypeKind.TIME:
        ns, mask = nanoseconds(series)
        local = datetimes(ns, mask, series.index)
    else:
        local = wall_clock(series, source, time_zone)
    if target.kind is TypeKind.TIME:
        ns, mask = nanoseconds(local)
        step = 10 ** (9 - min(target.precision or 0, 9))
        time_of_day = np.mod(ns, 86_400 * NS_PER_SECOND)
        return timedeltas(time_of_day - time_of_day % step, mask, series.index)
    if target.is_timestamp:
        ns, mask = nanoseconds(local)
        step = target.precision_ns
        local = datetimes(ns - np.mod(ns, step), mask, series.index)
    return from_wall_clock(local, target, time_zone)


def _from_text(invocation: Invocation, series: pd.Series, target: DataType) -> pd.Series:
    kind, index = target.kind, series.index
    if kind is TypeKind.BOOLEAN:
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(arrow_strings(series)))
        truthy = pc.is_in(
            lowered, value_set=pa.array(["true", "t", "yes", "y", "1"], pa.large_string())
        )
        falsy = pc.is_in(
            lowered, value_set=pa.array(["false", "f", "no", "n", "0"], pa.large_string())
        )
        valid = pc.or_(truthy, falsy)
        return bool_series(pc.if_else(valid, truthy, pa.scalar(None, pa.bool_())), index)
    if target.is_numeric:
        values, mask = parse_numbers(series, target)
        if target.kind is TypeKind.DECIMAL:
            return _to_decimal(values.astype(np.float64), mask, target, index)
        return masked_numeric(values, mask, target.pandas_dtype(), index)
    if kind is TypeKind.BINARY:
        encoded = [
            None if text is None else text.encode("utf-8")
            for text in arrow_strings(series).to_pylist()
        ]
        items = np.empty(len(encoded), dtype=object)
        items[:] = encoded
        return pd.Series(items, index=index, dtype=object)
    if kind is TypeKind.TIME:
        ns, mask = parse_times_of_day(series)
        step = 10 ** (9 - min(target.precision or 0, 9))
        return timedeltas(ns - ns % step, mask, index)
    if kind is TypeKind.INTERVAL:
        return pd.Series(pd.to_timedelta(series.astype(object), errors="coerce"), index=index)
    ns, mask, offsets = parse_column(series, None)
    if kind is TypeKind.TIMESTAMP_LTZ:
        local = datetimes(ns, mask, index)
        localized = from_wall_clock(local, target, invocation.context.time_zone)
        zoned = ~np.isnan(offsets)
        if zoned.any():
            exact = datetimes(
                ns - np.nan_to_num(offsets * NS_PER_SECOND).astype(np.int64), mask, index
            )
            localized = localized.mask(zoned, exact.dt.tz_localize("UTC"))
        return localized
    step = target.precision_ns if kind is TypeKind.TIMESTAMP else 86_400 * NS_PER_SECOND
    return datetimes(ns - np.mod(ns, step), mask, index)


def _nested(
    invocation: Invocation, series: pd.Series, source: DataType, target: DataType
) -> pd.Series:
    """Cast ARRAY, MAP and ROW values by casting all their elements at once per element type."""
    return cast_nested(invocation, series, source, target, cast_column)


# CAST and TRY_CAST -----------------------------------------------------------------------


def _cast(record: bool) -> Any:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        (value,) = args
        if not is_series(value) and is_null_scalar(value):
            return None
        source, target = invocation.arg_types[0], invocation.result_type
        series = invocation.broadcast(value, source)
        result = to_dtype(cast_column(invocation, series, source, target), target)
        if record:
            _record_failures(invocation, series, result, target)
        return result

    return implementation


def _record_failures(
    invocation: Invocation, source: pd.Series, result: pd.Series, target: DataType
) -> None:
    failed = ~np.asarray(source.isna().to_numpy(), dtype=bool) & np.asarray(
        result.isna().to_numpy(), dtype=bool
    )
    count = int(failed.sum())
    if not count:
        return
    samples = source[failed].head(invocation.context.MAX_EXAMPLES).tolist()
    examples = [f"{_quote(sample)} AS {target.plain().sql()}" for sample in samples]
    invocation.context.record_cast_failures(count, examples)


def _quote(value: Any) -> str:
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value)


FUNCTIONS = [
    ScalarFunction(
        "CAST",
        _infer_cast("CAST"),
        _cast(True),
        "CAST(value AS type)",
        "Converts a value; a value that does not convert is NULL and counted.",
        guarded=True,
    ),
    ScalarFunction(
        "TRY_CAST",
        _infer_cast("TRY_CAST"),
        _cast(False),
        "TRY_CAST(value AS type)",
        "Converts a value, or NULL.",
    ),
]
