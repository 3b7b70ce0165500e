"""Interval and window joins against batch references, for any streams and batch sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.streams import compile_pipeline, session_with
from workbench import Session
from workbench.runtime.interval_join import IntervalJoinOperator
from workbench.runtime.window_join import WindowJoinOperator
from workbench.testing import StreamShape, batch_sizes, event_streams, normalize
from workbench.testing.join_reference import (
    JOIN_COLUMNS,
    IntervalJoinQuery,
    WindowJoinQuery,
    interval_join_reference,
    window_join_reference,
)

DELAY_MS = 5_000

INTERVAL_QUERIES = st.builds(
    IntervalJoinQuery,
    kind=st.sampled_from(["INNER", "LEFT", "RIGHT", "FULL"]),
    lower_ms=st.sampled_from([-6_000, -3_000, 0, 2_000]),
    upper_ms=st.sampled_from([0, 1_000, 4_000, 9_000]),
    lower_strict=st.booleans(),
    upper_strict=st.booleans(),
)

WINDOW_QUERIES = st.builds(
    WindowJoinQuery,
    kind=st.sampled_from(["INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI"]),
    window=st.sampled_from(["TUMBLE", "HOP", "CUMULATE"]),
    size_ms=st.just(12_000),
    slide_ms=st.just(4_000),
    step_ms=st.just(6_000),
)

STREAMS = event_streams(StreamShape(disorder="within", max_rows=30))


def run_engine(
    left: pd.DataFrame, right: pd.DataFrame, sql: str, batch_rows: int
) -> tuple[pd.DataFrame, int]:
    """Return (result, late rows) of the engine over two streams."""
    session = Session(progress=False, settings={"workbench.replay.batch-rows": str(batch_rows)})
    session.from_pandas("lhs", left, rowtime="ts", watermark_delay=f"{DELAY_MS} ms")
    session.from_pandas("rhs", right, rowtime="ts", watermark_delay=f"{DELAY_MS} ms")
    result = session.sql(sql)
    assert result is not None
    return result.to_pandas(), len(result.late_rows())  # type: ignore[union-attr]


@given(left=STREAMS, right=STREAMS, query=INTERVAL_QUERIES, batch_rows=batch_sizes())
def test_interval_join_equals_reference(
    left: pd.DataFrame, right: pd.DataFrame, query: IntervalJoinQuery, batch_rows: int
) -> None:
    frame, late = run_engine(left, right, query.sql("lhs", "rhs"), batch_rows)
    assert late == 0
    expected = interval_join_reference(left, right, query)
    assert normalize(frame[JOIN_COLUMNS]) == normalize(expected)


@given(left=STREAMS, right=STREAMS, query=WINDOW_QUERIES, batch_rows=batch_sizes())
def test_window_join_equals_reference(
    left: pd.DataFrame, right: pd.DataFrame, query: WindowJoinQuery, batch_rows: int
) -> None:
    frame, late = run_engine(left, right, query.sql("lhs", "rhs"), batch_rows)
    assert late == 0
    expected = window_join_reference(left, right, query)
    columns = list(expected.columns)
    assert normalize(frame[columns]) == normalize(expected)


def _interleave(
    left: pd.DataFrame, right: pd.DataFrame, sides: list[int]
) -> list[tuple[str, pd.DataFrame]]:
    """Return single-row chunks of both streams in the order ``sides`` picks."""
    chunks: list[tuple[str, pd.DataFrame]] = []
    positions = [0, 0]
    frames = [left, right]
    for side in sides:
        frame = frames[side]
        if positions[side] < len(frame):
            chunks.append((("lhs", "rhs")[side], frame.iloc[positions[side] : positions[side] + 1]))
            positions[side] += 1
    for side, frame in enumerate(frames):
        if positions[side] < len(frame):
            chunks.append((("lhs", "rhs")[side], frame.iloc[positions[side] :]))
    return chunks


def _regroup(chunks: list[tuple[str, pd.DataFrame]], size: int) -> list[tuple[str, pd.DataFrame]]:
    """Merge consecutive chunks of the same table into batches of at most ``size`` rows."""
    grouped: list[tuple[str, pd.DataFrame]] = []
    for table, frame in chunks:
        for start in range(0, len(frame), 1):
            row = frame.iloc[start : start + 1]
            if grouped and grouped[-1][0] == table and len(grouped[-1][1]) < size:
                grouped[-1] = (table, pd.concat([grouped[-1][1], row]))
            else:
                grouped.append((table, row))
    return grouped


def _drive(sql: str, left: pd.DataFrame, right: pd.DataFrame, chunks: list) -> tuple:
    session = session_with({"lhs": left, "rhs": right}, delay=f"{DELAY_MS} ms")
    pipeline = compile_pipeline(session, sql)
    for table, frame in chunks:
        assert pipeline.deliver(table, frame.reset_index(drop=True)) is None
    pipeline.end("lhs")
    pipeline.end("rhs")
    late = sum(len(frame) for op in pipeline.operators for frame in op.late_rows)
    return pipeline.collector.output(), late


@settings(max_examples=60)
@given(
    left=event_streams(StreamShape(disorder="beyond", max_rows=25)),
    right=event_streams(StreamShape(disorder="beyond", max_rows=25)),
    sides=st.lists(st.integers(0, 1), max_size=50),
    query=st.one_of(INTERVAL_QUERIES, WINDOW_QUERIES),
    sizes=st.tuples(batch_sizes(), batch_sizes()),
)
def test_join_independent_of_batch_size(
    left: pd.DataFrame,
    right: pd.DataFrame,
    sides: list[int],
    query: IntervalJoinQuery | WindowJoinQuery,
    sizes: tuple[int, int],
) -> None:
    chunks = _interleave(left, right, sides)
    sql = query.sql("lhs", "rhs")
    first, first_late = _drive(sql, left, right, _regroup(chunks, sizes[0]))
    second, second_late = _drive(sql, left, right, _regroup(chunks, sizes[1]))
    assert first_late == second_late
    pd.testing.assert_frame_equal(first, second)


def _steady(count: int, offset_ms: int) -> pd.DataFrame:
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        np.arange(count) * 1_000 + offset_ms, unit="ms"
    )
    return pd.DataFrame(
        {
            "ts": pd.Series(times, dtype="datetime64[ns]"),
            "key": pd.array(np.where(np.arange(count) % 2 == 0, "a", "b"), dtype="string[pyarrow]"),
            "value": pd.array(np.arange(count), dtype="Int64"),
        }
    )


def test_join_state_bounded() -> None:
    left, right = _steady(2_000, 0), _steady(2_000, 300)
    queries = [
        IntervalJoinQuery("FULL", -3_000, 4_000).sql("lhs", "rhs"),
        WindowJoinQuery("FULL", "HOP", size_ms=12_000, slide_ms=4_000).sql("lhs", "rhs"),
    ]
    for sql in queries:
        session = session_with({"lhs": left, "rhs": right}, delay=f"{DELAY_MS} ms")
        pipeline = compile_pipeline(session, sql)
        join = next(
            op
            for op in pipeline.operators
            if isinstance(op, (IntervalJoinOperator, WindowJoinOperator))
        )
        largest = 0
        for start in range(0, 2_000, 50):
            pipeline.deliver("lhs", left.iloc[start : start + 50].reset_index(drop=True))
            pipeline.deliver("rhs", right.iloc[start : start + 50].reset_index(drop=True))
            largest = max(largest, join.state_rows)
        # Rows stay for the interval (or three 12 s windows) plus the 5 s delay and one batch.
        assert largest < 160, sql
