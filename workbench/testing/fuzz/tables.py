"""hypothesis strategies for the rows of a catalog table, from its schema and a rule's literals.

A stream is a DataFrame of the table's physical columns in arrival order.
Event times start at :data:`BASE` and move on by one second per row unless
the search needs other gaps. A gap may be any length up to the time span, or
the length of one of the rule's INTERVAL literals, or 1 ms under or over it. Each row may
carry an event time up to ``out_of_order`` behind the rows before it. Every value
strategy lists its plainest choice first, so that shrinking ends on streams
a person can read: one-second steps, the first made-up key, small numbers,
no NULLs unless a NULL is what matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from workbench.events.schema import Column
from workbench.events.types import INTEGER_KINDS, DataType, TypeKind
from workbench.sql.catalog import TableDef
from workbench.testing.fuzz.literals import RuleLiterals
from workbench.testing.fuzz.options import FuzzOptions, duration_ms

#: The event time of a stream's first row.
BASE = pd.Timestamp("2024-01-01 00:00:00")
#: The event-time step that shrinking prefers, in milliseconds.
STEP_MS = 1_000
#: The numeric range of a column without a ``ranges`` option or literals.
DEFAULT_RANGE = (0.0, 100.0)
_INTEGER_LIMITS = {
    TypeKind.TINYINT: (-(2**7), 2**7 - 1),
    TypeKind.SMALLINT: (-(2**15), 2**15 - 1),
    TypeKind.INT: (-(2**31), 2**31 - 1),
    TypeKind.BIGINT: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class TimeModel:
    """The event-time model of one table: the span, the gaps to try and the disorder."""

    span_ms: int
    special_steps_ms: tuple[int, ...]
    out_of_order_ms: int


def time_model(table: TableDef, options: FuzzOptions, literals: RuleLiterals) -> TimeModel:
    """Return the time model of ``table`` under ``options`` and the rule's INTERVAL literals."""
    longest = max(literals.durations_ms, default=0)
    span = duration_ms(options.time_span, "time_span")
    if span is None:
        span = max(60_000, 2 * longest)
    steps = sorted(
        {
            step
            for duration in literals.durations_ms
            for step in (duration - 1, duration, duration + 1)
            if 0 <= step <= span
        }
    )
    disorder = duration_ms(options.out_of_order, "out_of_order")
    if disorder is None:
        delay_ms = table.watermark.delay_ns // 1_000_000 if table.watermark else 0
        # A row at most delay - 1 ms behind the largest event time so far is
        # above the watermark, so no window or pattern has passed it yet.
        disorder = max(0, delay_ms - 1)
    return TimeModel(span, tuple(steps), disorder)


def table_streams(
    table: TableDef, options: FuzzOptions, literals: RuleLiterals
) -> st.SearchStrategy[pd.DataFrame]:
    """Streams of ``table``'s physical columns: at most ``options.max_rows`` rows, in arrival order."""
    rowtime = _rowtime_column(table)
    model = time_model(table, options, literals)
    columns = [column for column in table.physical.columns if column.name != rowtime]
    row = st.tuples(
        _steps(model),
        st.integers(0, model.out_of_order_ms),
        _time_present(options) if rowtime else st.just(True),
        st.tuples(*(column_values(column, options, literals, model) for column in columns)),
    )
    return st.lists(row, max_size=options.max_rows).map(
        lambda rows: _frame(table, rowtime, columns, model, rows)
    )


def _rowtime_column(table: TableDef) -> str | None:
    """Return the physical event-time column, or None when there is none."""
    if table.watermark is None:
        return None
    column = table.physical.find(table.watermark.column)
    # NOTE: a watermark on a computed column (ts AS TO_TIMESTAMP(epoch)) gets no
    # time model: its source column is drawn as a plain value.
    return column.name if column is not None and column.type.is_timestamp else None


def _steps(model: TimeModel) -> st.SearchStrategy[int]:
    """Gaps between consecutive event times: one second first, then the rule's intervals, then any."""
    choices: list[st.SearchStrategy[int]] = [st.just(STEP_MS)]
    if model.special_steps_ms:
        choices.append(st.sampled_from(model.special_steps_ms))
    choices.append(st.integers(0, model.span_ms))
    return st.one_of(*choices)


def _time_present(options: FuzzOptions) -> st.SearchStrategy[bool]:
    if not options.missing_time:
        return st.just(True)
    return st.sampled_from([True, False])


def _frame(
    table: TableDef,
    rowtime: str | None,
    columns: Sequence[Column],
    model: TimeModel,
    rows: list[tuple[int, int, bool, tuple[Any, ...]]],
) -> pd.DataFrame:
    """Build the stream of ``rows`` in list order, which is the arrival order.

    A row's event time is the running sum of the steps (the first row's step
    is not used, so streams start at BASE) less its own delay, so it is at most
    ``out_of_order`` behind every event time before it. Keeping the arrival
    order equal to the list order lets shrinking delete a row without
    reordering the others.
    """
    steps = np.array([step for step, _, _, _ in rows], dtype=np.int64)
    front = np.cumsum(steps) - steps[0] if len(rows) else np.zeros(0, dtype=np.int64)
    front = np.minimum(front, model.span_ms)
    behind = np.array([late for _, late, _, _ in rows], dtype=np.int64)
    offsets = front - behind
    data: dict[str, Any] = {}
    for column in table.physical.columns:
        if column.name == rowtime:
            times = [
                _timestamp(column.type, int(offset)) if row[2] else None
                for offset, row in zip(offsets, rows, strict=True)
            ]
            data[column.name] = pd.Series(times, dtype=column.type.pandas_dtype())
            continue
        index = columns.index(column)
        data[column.name] = _series([row[3][index] for row in rows], column.type)
    return pd.DataFrame(data, columns=table.physical.names)


def _timestamp(kind: DataType, offset_ms: int) -> pd.Timestamp:
    moment = BASE + pd.Timedelta(milliseconds=offset_ms)
    return moment.tz_localize("UTC") if kind.kind == TypeKind.TIMESTAMP_LTZ else moment


def _series(values: list[Any], kind: DataType) -> pd.Series:
    dtype = kind.pandas_dtype()
    if dtype == "object":
        # Build the column from the list in one step. Assigning a dict cell by
        # cell (series.iloc[i] = value) stores a pandas Series in pandas 3.1.
        return pd.Series(values, dtype=object)
    return pd.Series(values, dtype=dtype)


# Values -----------------------------------------------------------------------------


def column_values(
    column: Column, options: FuzzOptions, literals: RuleLiterals, model: TimeModel
) -> st.SearchStrategy[Any]:
    """Values of one column: the ``values`` option, else by type; NULL last when allowed."""
    chosen = options.values_for(column.name)
    if chosen is not None:
        values: st.SearchStrategy[Any] = st.sampled_from(list(chosen))
    else:
        values = typed_values(column.name, column.type, options, literals, model)
    if options.nulls and column.type.nullable and chosen is None:
        return _rarely_null(values)
    return values


def typed_values(
    name: str, kind: DataType, options: FuzzOptions, literals: RuleLiterals, model: TimeModel
) -> st.SearchStrategy[Any]:
    """Values of SQL type ``kind`` for a column called ``name``."""
    if kind.kind in INTEGER_KINDS:
        return _integers(name, kind, options, literals)
    if kind.is_numeric:
        return _decimals(name, kind, options, literals)
    if kind.is_string:
        return _strings(name, options, literals)
    if kind.kind == TypeKind.BOOLEAN:
        return st.booleans()
    if kind.is_timestamp:
        return st.integers(0, model.span_ms).map(lambda offset: _timestamp(kind, offset))
    if kind.kind == TypeKind.DATE:
        return st.integers(0, 30).map(lambda days: BASE + pd.Timedelta(days=days))
    if kind.kind == TypeKind.TIME:
        return st.integers(0, 86_399).map(lambda seconds: pd.Timedelta(seconds=seconds))
    if kind.kind == TypeKind.INTERVAL:
        return st.integers(0, model.span_ms).map(lambda ms: pd.Timedelta(milliseconds=ms))
    if kind.kind == TypeKind.BINARY:
        return st.binary(max_size=4)
    if kind.kind == TypeKind.ROW:
        return st.fixed_dictionaries(
            {
                item.name: _nested(item.name, item.type, options, literals, model)
                for item in kind.fields
            }
        )
    if kind.kind == TypeKind.ARRAY and kind.element is not None:
        return st.lists(_nested(name, kind.element, options, literals, model), max_size=3)
    if kind.kind == TypeKind.MAP and kind.key is not None and kind.value is not None:
        return st.dictionaries(
            typed_values(name, kind.key, options, literals, model),
            _nested(name, kind.value, options, literals, model),
            max_size=2,
        )
    return st.none()


def _nested(
    name: str, kind: DataType, options: FuzzOptions, literals: RuleLiterals, model: TimeModel
) -> st.SearchStrategy[Any]:
    values = typed_values(name, kind, options, literals, model)
    if options.nulls and kind.nullable:
        return _rarely_null(values)
    return values


def _rarely_null(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Values that are NULL about one time in ten; shrinking goes to the value."""
    return st.tuples(st.integers(0, 9), values).map(lambda pair: None if pair[0] == 9 else pair[1])


def _mostly(
    plain: st.SearchStrategy[Any], special: st.SearchStrategy[Any], weight: int
) -> st.SearchStrategy[Any]:
    """``special`` about ``weight`` times in ``weight + 1``; shrinking goes to ``plain``.

    Rule literals are drawn this way: a rule that compares three columns with
    literals fires only when all three hold one, so literals must come often.
    """
    return st.tuples(st.integers(0, weight), plain, special).map(
        lambda drawn: drawn[1] if drawn[0] == 0 else drawn[2]
    )


def _bounds(name: str, options: FuzzOptions, numbers: Sequence[float]) -> tuple[float, float]:
    """Return the range of a numeric column: the option, else the default widened to the literals."""
    chosen = options.range_for(name)
    if chosen is not None:
        return float(chosen[0]), float(chosen[1])
    low, high = DEFAULT_RANGE
    if numbers:
        low = min(low, min(numbers) - 1)
        high = max(high, 2 * max(numbers) + 1)
    return low, high


def _integers(
    name: str, kind: DataType, options: FuzzOptions, literals: RuleLiterals
) -> st.SearchStrategy[int]:
    numbers = literals.numbers_for(name)
    low, high = _bounds(name, options, numbers)
    limit_low, limit_high = _INTEGER_LIMITS.get(kind.kind, _INTEGER_LIMITS[TypeKind.BIGINT])
    low_int = max(limit_low, int(np.ceil(low)))
    high_int = min(limit_high, int(np.floor(high)))
    if low_int > high_int:
        low_int, high_int = limit_low, limit_high
    near = sorted(
        {
            candidate
            for number in numbers
            for candidate in (int(np.floor(number)) - 1, round(number), int(np.ceil(number)) + 1)
            if low_int <= candidate <= high_int
        }
    )
    # Shrinking goes to the plain range first, so a literal stays only when the rule needs it.
    plain = st.integers(low_int, high_int)
    return _mostly(plain, st.sampled_from(near), 1) if near else plain


def _decimals(
    name: str, kind: DataType, options: FuzzOptions, literals: RuleLiterals
) -> st.SearchStrategy[float]:
    """Numbers with at most ``scale`` decimals (two for FLOAT and DOUBLE)."""
    scale = kind.scale if kind.kind == TypeKind.DECIMAL and kind.scale is not None else 2
    unit = 10.0**-scale
    numbers = literals.numbers_for(name)
    low, high = _bounds(name, options, numbers)
    steps_low = int(np.ceil(low / unit))
    steps_high = int(np.floor(high / unit))
    near = sorted(
        {
            round(candidate, scale)
            for number in numbers
            for candidate in (number - 1, number - unit, number, number + unit, number + 1)
            if low <= candidate <= high
        }
    )
    plain = st.integers(steps_low, steps_high).map(lambda steps: round(steps * unit, scale))
    return _mostly(plain, st.sampled_from(near), 1) if near else plain


def _strings(name: str, options: FuzzOptions, literals: RuleLiterals) -> st.SearchStrategy[str]:
    """Made-up values ``name-1`` ... ``name-N`` (N = the key cardinality), or the rule's literals.

    The first made-up value comes about half the time, so that rows often share
    a key. The rule's literals come four times in five when there are any.
    """
    made_up = [f"{name.lower()}-{number}" for number in range(1, options.keys_for(name) + 1)]
    own = [value for value in literals.strings_for(name) if value not in made_up]
    plain: st.SearchStrategy[str] = st.sampled_from(made_up)
    if len(made_up) > 1:
        plain = _mostly(st.just(made_up[0]), plain, 1)
    return _mostly(plain, st.sampled_from(own), 4) if own else plain
