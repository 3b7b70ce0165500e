"""Window aggregation against a batch reference, for any stream and any batch size."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from workbench import Session
from workbench.testing import (
    StreamShape,
    WindowQuery,
    batch_sizes,
    event_streams,
    normalize,
    window_reference,
)
from workbench.testing.cases import note_case

DELAY_MS = 5_000

QUERIES = st.sampled_from(
    [
        WindowQuery("TUMBLE", size_ms=10_000),
        WindowQuery("TUMBLE", size_ms=7_000, offset_ms=2_000),
        WindowQuery("HOP", slide_ms=5_000, size_ms=15_000),
        WindowQuery("CUMULATE", step_ms=4_000, size_ms=12_000),
        WindowQuery("SESSION", gap_ms=3_000),
    ]
)


def run_engine(
    stream: pd.DataFrame, query: WindowQuery, batch_rows: int
) -> tuple[pd.DataFrame, int, int]:
    """Return (result, late rows, rejected rows) of the engine for one stream."""
    note_case(query.sql("events"), events=stream)
    session = Session(progress=False, settings={"workbench.replay.batch-rows": str(batch_rows)})
    session.from_pandas("events", stream, rowtime="ts", watermark_delay=f"{DELAY_MS} ms")
    result = session.sql(query.sql("events"))
    assert result is not None
    frame = result.to_pandas()  # type: ignore[union-attr]
    return frame, len(result.late_rows()), len(result.rejected_rows())  # type: ignore[union-attr]


@given(
    stream=event_streams(StreamShape(disorder="within")), query=QUERIES, batch_rows=batch_sizes()
)
def test_windows_equal_reference(stream: pd.DataFrame, query: WindowQuery, batch_rows: int) -> None:
    frame, late, _ = run_engine(stream, query, batch_rows)
    expected, expected_late = window_reference(stream, query, DELAY_MS)
    assert late == expected_late
    got = normalize(
        frame[["key", "window_start", "window_end", "n", "n_value", "total", "low", "high"]]
    )
    assert got == normalize(expected)


@given(
    stream=event_streams(StreamShape(disorder="beyond", null_time=True)),
    query=QUERIES.filter(lambda q: q.kind != "SESSION"),
    batch_rows=batch_sizes(),
)
def test_late_rows_match_reference(
    stream: pd.DataFrame, query: WindowQuery, batch_rows: int
) -> None:
    frame, late, rejected = run_engine(stream, query, batch_rows)
    expected, expected_late = window_reference(stream, query, DELAY_MS)
    assert late == expected_late
    assert rejected == int(stream["ts"].isna().sum())
    got = normalize(
        frame[["key", "window_start", "window_end", "n", "n_value", "total", "low", "high"]]
    )
    assert got == normalize(expected)


@given(
    stream=event_streams(StreamShape(disorder="beyond")),
    query=QUERIES,
    sizes=st.tuples(batch_sizes(), batch_sizes()),
)
def test_result_independent_of_batch_size(
    stream: pd.DataFrame, query: WindowQuery, sizes: tuple[int, int]
) -> None:
    first, first_late, _ = run_engine(stream, query, sizes[0])
    second, second_late, _ = run_engine(stream, query, sizes[1])
    assert first_late == second_late
    pd.testing.assert_frame_equal(first, second)


@given(
    stream=event_streams(StreamShape(disorder="beyond", null_time=True)), batch_rows=batch_sizes()
)
def test_every_row_counted_late_or_rejected(stream: pd.DataFrame, batch_rows: int) -> None:
    query = WindowQuery("TUMBLE", size_ms=10_000)
    frame, late, rejected = run_engine(stream, query, batch_rows)
    counted = int(frame["n"].sum()) if len(frame) else 0
    assert counted + late + rejected == len(stream)
