"""Windows, filters and joins against batch references on harder streams.

Streams here have duplicates, gaps past every window, many keys or a NULL
key, rows late beyond the watermark delay and rows without event time. The
queries have random window sizes of each TVF kind. A failing case prints
the query and the shrunk streams as tables. A longer search runs with
``.venv/bin/pytest tests/runtime/test_stream_properties.py --hypothesis-profile=thorough``.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from workbench import Session
from workbench.testing import (
    FilterQuery,
    StreamShape,
    WindowQuery,
    arrival_orders,
    batch_sizes,
    event_streams,
    filter_queries,
    filter_reference,
    key_values,
    normalize,
    window_queries,
    window_reference,
)
from workbench.testing.cases import note_case
from workbench.testing.join_reference import (
    JOIN_COLUMNS,
    IntervalJoinQuery,
    WindowJoinQuery,
    interval_join_reference,
    window_join_reference,
)

DELAY_MS = 5_000
COLUMNS = ["key", "window_start", "window_end", "n", "n_value", "total", "low", "high"]

HARD_SHAPES = st.sampled_from(
    [
        StreamShape(duplicates=True, gaps=True),
        StreamShape(keys=key_values(40), max_rows=80),
        StreamShape(keys=key_values(1, null=True), duplicates=True),
        StreamShape(keys=("a",), gaps=True, max_step_ms=500),
    ]
)


def run(sql: str, stream: pd.DataFrame, batch_rows: int) -> tuple[pd.DataFrame, int, int]:
    """Return (output, late rows, rejected rows) of ``sql`` over ``stream`` as table ``events``."""
    note_case(sql, events=stream)
    session = Session(progress=False, settings={"workbench.replay.batch-rows": str(batch_rows)})
    session.from_pandas("events", stream, rowtime="ts", watermark_delay=f"{DELAY_MS} ms")
    result = session.sql(sql)
    assert result is not None
    frame = result.to_pandas()  # type: ignore[union-attr]
    return frame, len(result.late_rows()), len(result.rejected_rows())  # type: ignore[union-attr]


@st.composite
def hard_streams(
    draw: st.DrawFn, disorder: str = "within", null_time: bool = False, max_rows: int = 80
) -> pd.DataFrame:
    shape = draw(HARD_SHAPES)
    return draw(
        event_streams(
            StreamShape(
                max_rows=min(shape.max_rows, max_rows),
                keys=shape.keys,
                max_step_ms=shape.max_step_ms,
                disorder=disorder,  # type: ignore[arg-type]
                null_time=null_time,
                duplicates=shape.duplicates,
                gaps=shape.gaps,
            )
        )
    )


@given(stream=hard_streams(), query=window_queries(), batch_rows=batch_sizes())
def test_random_windows_equal_reference(
    stream: pd.DataFrame, query: WindowQuery, batch_rows: int
) -> None:
    frame, late, _ = run(query.sql("events"), stream, batch_rows)
    expected, expected_late = window_reference(stream, query, DELAY_MS)

    assert late == expected_late
    assert normalize(frame[COLUMNS]) == normalize(expected)


@given(
    stream=hard_streams(disorder="beyond", null_time=True),
    query=window_queries(("TUMBLE", "HOP", "CUMULATE")),
    batch_rows=batch_sizes(),
)
def test_random_windows_late_rows_equal_reference(
    stream: pd.DataFrame, query: WindowQuery, batch_rows: int
) -> None:
    frame, late, rejected = run(query.sql("events"), stream, batch_rows)
    expected, expected_late = window_reference(stream, query, DELAY_MS)

    assert late == expected_late
    assert rejected == int(stream["ts"].isna().sum())
    assert normalize(frame[COLUMNS]) == normalize(expected)


@given(
    stream=event_streams(StreamShape(disorder="ordered", keys=key_values(5), duplicates=True)),
    query=window_queries(),
    data=st.data(),
)
def test_windows_independent_of_interleaving(
    stream: pd.DataFrame, query: WindowQuery, data: st.DataObject
) -> None:
    first_order = data.draw(arrival_orders(stream, DELAY_MS), label="first arrival order")
    second_order = data.draw(arrival_orders(stream, DELAY_MS), label="second arrival order")
    batch_rows = data.draw(batch_sizes(), label="batch rows")

    first, first_late, _ = run(query.sql("events"), first_order, batch_rows)
    second, second_late, _ = run(query.sql("events"), second_order, batch_rows)
    expected, _ = window_reference(stream, query, DELAY_MS)

    assert first_late == 0
    assert second_late == 0
    assert normalize(first[COLUMNS]) == normalize(second[COLUMNS])
    assert normalize(first[COLUMNS]) == normalize(expected)


@given(
    stream=hard_streams(disorder="beyond", null_time=True),
    query=filter_queries(),
    batch_rows=batch_sizes(),
)
def test_filters_equal_reference(stream: pd.DataFrame, query: FilterQuery, batch_rows: int) -> None:
    frame, late, rejected = run(query.sql("events"), stream, batch_rows)
    expected = filter_reference(stream, query)

    assert late == 0
    assert rejected == int(stream["ts"].isna().sum())
    assert normalize(frame[["ts", "key", "scaled"]]) == normalize(expected)


@given(
    stream=hard_streams(disorder="beyond", null_time=True),
    query=window_queries(("TUMBLE",)),
    batch_rows=batch_sizes(),
)
def test_every_row_emitted_late_or_rejected(
    stream: pd.DataFrame, query: WindowQuery, batch_rows: int
) -> None:
    frame, late, rejected = run(query.sql("events"), stream, batch_rows)

    counted = int(frame["n"].sum()) if len(frame) else 0
    assert counted + late + rejected == len(stream)


JOIN_INTERVALS = st.builds(
    IntervalJoinQuery,
    kind=st.sampled_from(["INNER", "LEFT", "RIGHT", "FULL"]),
    lower_ms=st.integers(-8, 2).map(lambda seconds: seconds * 1_000),
    upper_ms=st.integers(0, 8).map(lambda seconds: seconds * 1_000),
    lower_strict=st.booleans(),
    upper_strict=st.booleans(),
)
JOIN_WINDOWS = st.builds(
    WindowJoinQuery,
    kind=st.sampled_from(["INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI"]),
    window=st.sampled_from(["TUMBLE", "HOP", "CUMULATE"]),
    size_ms=st.just(12_000),
    slide_ms=st.just(4_000),
    step_ms=st.just(6_000),
)


def run_join(
    left: pd.DataFrame, right: pd.DataFrame, sql: str, batch_rows: int
) -> tuple[pd.DataFrame, int]:
    """Return (output, late rows) of ``sql`` over ``left`` as ``lhs`` and ``right`` as ``rhs``."""
    note_case(sql, lhs=left, rhs=right)
    session = Session(progress=False, settings={"workbench.replay.batch-rows": str(batch_rows)})
    session.from_pandas("lhs", left, rowtime="ts", watermark_delay=f"{DELAY_MS} ms")
    session.from_pandas("rhs", right, rowtime="ts", watermark_delay=f"{DELAY_MS} ms")
    result = session.sql(sql)
    assert result is not None
    return result.to_pandas(), len(result.late_rows())  # type: ignore[union-attr]


@given(
    left=hard_streams(max_rows=25),
    right=hard_streams(max_rows=25),
    query=JOIN_INTERVALS,
    batch_rows=batch_sizes(),
)
def test_interval_join_hard_streams(
    left: pd.DataFrame, right: pd.DataFrame, query: IntervalJoinQuery, batch_rows: int
) -> None:
    frame, late = run_join(left, right, query.sql("lhs", "rhs"), batch_rows)
    expected = interval_join_reference(left, right, query)

    assert late == 0
    assert normalize(frame[JOIN_COLUMNS]) == normalize(expected)


@given(
    left=hard_streams(max_rows=25),
    right=hard_streams(max_rows=25),
    query=JOIN_WINDOWS,
    batch_rows=batch_sizes(),
)
def test_window_join_hard_streams(
    left: pd.DataFrame, right: pd.DataFrame, query: WindowJoinQuery, batch_rows: int
) -> None:
    frame, late = run_join(left, right, query.sql("lhs", "rhs"), batch_rows)
    expected = window_join_reference(left, right, query)

    assert late == 0
    assert normalize(frame[list(expected.columns)]) == normalize(expected)
