"""Early (provisional) window results: emitted before the final ones, which they leave unchanged."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import Session
from workbench.errors import ValidationError
from workbench.results import QueryResult
from workbench.testing import StreamShape, WindowQuery, batch_sizes, event_streams

DELAY_MS = 5_000

QUERIES = st.sampled_from(
    [
        WindowQuery("TUMBLE", size_ms=10_000),
        WindowQuery("HOP", slide_ms=5_000, size_ms=15_000),
        WindowQuery("CUMULATE", step_ms=4_000, size_ms=12_000),
        WindowQuery("SESSION", gap_ms=3_000),
    ]
)
TRIGGERS = st.sampled_from(
    [
        {"table.exec.emit.early-fire.delay": "2 s"},
        {"table.exec.emit.early-fire.delay": "3500"},
        {"workbench.emit.early-fire.rows": "3"},
        {"table.exec.emit.early-fire.delay": "1 s", "workbench.emit.early-fire.rows": "5"},
    ]
)


def run(
    stream: pd.DataFrame, sql: str, batch_rows: int, trigger: dict[str, str] | None
) -> QueryResult:
    settings = {"workbench.replay.batch-rows": str(batch_rows)}
    if trigger is not None:
        settings["table.exec.emit.early-fire.enabled"] = "true"
        settings.update(trigger)
    session = Session(progress=False, settings=settings)
    session.from_pandas("events", stream, rowtime="ts", watermark_delay=f"{DELAY_MS} ms")
    result = session.sql(sql)
    assert isinstance(result, QueryResult)
    result.run()
    return result


@given(
    stream=event_streams(StreamShape(disorder="beyond")),
    query=QUERIES,
    trigger=TRIGGERS,
    batch_rows=batch_sizes(),
)
def test_finals_equal_run_without_early_fire(
    stream: pd.DataFrame, query: WindowQuery, trigger: dict[str, str], batch_rows: int
) -> None:
    plain = run(stream, query.sql("events"), batch_rows, None)
    early = run(stream, query.sql("events"), batch_rows, trigger)

    pd.testing.assert_frame_equal(early.to_pandas(), plain.to_pandas())
    assert len(early.late_rows()) == len(plain.late_rows())
    metrics = early.metrics()[["operator", "rows_in", "rows_out", "late"]]
    pd.testing.assert_frame_equal(
        metrics, plain.metrics()[["operator", "rows_in", "rows_out", "late"]]
    )


@given(
    stream=event_streams(StreamShape(disorder="beyond")),
    query=QUERIES,
    trigger=TRIGGERS,
    sizes=st.tuples(batch_sizes(), batch_sizes()),
)
def test_early_results_independent_of_batch_size(
    stream: pd.DataFrame,
    query: WindowQuery,
    trigger: dict[str, str],
    sizes: tuple[int, int],
) -> None:
    first = run(stream, query.sql("events"), sizes[0], trigger).to_pandas(provisional=True)
    second = run(stream, query.sql("events"), sizes[1], trigger).to_pandas(provisional=True)

    pd.testing.assert_frame_equal(first, second)


@given(stream=event_streams(StreamShape(disorder="within")), query=QUERIES)
def test_provisional_rows_precede_final(stream: pd.DataFrame, query: WindowQuery) -> None:
    result = run(stream, query.sql("events"), 7, {"workbench.emit.early-fire.rows": "2"})
    rows = result.to_pandas(provisional=True)

    finals: set[tuple[object, ...]] = set()
    for record in rows[["key", "window_start", "window_end", "provisional"]].itertuples(
        index=False
    ):
        window = (record.key, record.window_start, record.window_end)
        if record.provisional:
            assert window not in finals, "a provisional row after its window's final row"
        else:
            finals.add(window)


def bids() -> pd.DataFrame:
    times = pd.Timestamp("2024-03-01 09:00:00") + pd.to_timedelta(
        [0, 1, 2, 3, 4, 11, 12, 13, 21], unit="s"
    )
    return pd.DataFrame({"ts": times, "price": [1.0, 2, 3, 4, 5, 6, 7, 8, 9]})


WINDOW_SQL = (
    "SELECT window_start, COUNT(*) AS n, SUM(price) AS total "
    "FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
    "GROUP BY window_start, window_end"
)


def bids_session(**settings: str) -> Session:
    session = Session(progress=False, settings=settings)
    session.from_pandas("bids", bids(), rowtime="ts")
    return session


def test_interval_counts_event_time() -> None:
    session = bids_session(
        **{
            "table.exec.emit.early-fire.enabled": "true",
            "table.exec.emit.early-fire.delay": "2 s",
        }
    )
    result = session.sql(WINDOW_SQL)
    assert isinstance(result, QueryResult)

    rows = result.to_pandas(provisional=True)

    early = rows[rows["provisional"]]
    # With no delay the watermark is the latest time: it passes 09:00:02 at the
    # third row and 09:00:04 at the fifth. The rows at 11 s (the first window
    # fires), 12 s and 21 s (the second fires) each pass a multiple of 2 s too.
    assert early["n"].tolist() == [3, 5, 1, 2, 1]
    assert early["total"].tolist() == [6.0, 15.0, 6.0, 13.0, 9.0]
    assert rows[~rows["provisional"]]["n"].tolist() == [5, 3, 1]


def test_rows_trigger() -> None:
    session = bids_session(
        **{
            "table.exec.emit.early-fire.enabled": "true",
            "workbench.emit.early-fire.rows": "4",
        }
    )
    result = session.sql(WINDOW_SQL)
    assert isinstance(result, QueryResult)

    rows = result.to_pandas(provisional=True)

    assert rows[rows["provisional"]]["n"].tolist() == [4, 3]
    assert result.to_pandas()["n"].tolist() == [5, 3, 1]


def test_disabled_by_default() -> None:
    session = bids_session(**{"table.exec.emit.early-fire.delay": "1 s"})
    result = session.sql(WINDOW_SQL)
    assert isinstance(result, QueryResult)

    rows = result.to_pandas(provisional=True)

    assert not rows["provisional"].any()


def test_projection_applies_to_provisional_rows() -> None:
    session = bids_session(
        **{
            "table.exec.emit.early-fire.enabled": "true",
            "workbench.emit.early-fire.rows": "4",
        }
    )
    result = session.sql(
        "SELECT window_start, n * 10 AS tens FROM (" + WINDOW_SQL + ") WHERE n > 1"
    )
    assert isinstance(result, QueryResult)

    rows = result.to_pandas(provisional=True)

    assert rows[rows["provisional"]]["tens"].tolist() == [40, 30]
    assert list(rows.columns) == ["window_start", "tens", "provisional"]


SESSION_SQL = (
    "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(price) AS total "
    "FROM TABLE(SESSION(TABLE bids PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND)) "
    "GROUP BY k, window_start, window_end"
)


def session_bids(seconds: list[float], keys: list[str], **settings: str) -> QueryResult:
    times = pd.Timestamp("2024-03-01 09:00:00") + pd.to_timedelta(seconds, unit="s")
    prices = [float(index + 1) for index in range(len(seconds))]
    session = Session(progress=False, settings=settings)
    session.from_pandas(
        "bids",
        pd.DataFrame({"ts": times, "k": keys, "price": prices}),
        rowtime="ts",
        watermark_delay="1 min",
    )
    result = session.sql(SESSION_SQL)
    assert isinstance(result, QueryResult)
    return result


def test_session_merge_after_provisional_rows() -> None:
    # Sessions [0 s, 5 s) and [9 s, 14 s) of key a each emit a provisional row. The
    # row at 4.5 s touches both, so they merge into one session [0 s, 14 s).
    result = session_bids(
        [0, 9, 4.5, 1],
        ["a", "a", "a", "b"],
        **{"table.exec.emit.early-fire.enabled": "true", "workbench.emit.early-fire.rows": "1"},
    )

    rows = result.to_pandas(provisional=True)

    early = rows[rows["provisional"]]
    seconds = (early["window_end"] - pd.Timestamp("2024-03-01 09:00:00")).dt.total_seconds()
    assert early["k"].tolist() == ["a", "a", "a", "b"]
    assert seconds.tolist() == [5.0, 14.0, 14.0, 6.0]
    assert early["n"].tolist() == [1, 1, 3, 1]
    assert early["total"].tolist() == [1.0, 2.0, 6.0, 4.0]
    # Final rows come in order of session end.
    final = rows[~rows["provisional"]]
    assert final["k"].tolist() == ["b", "a"]
    assert final["n"].tolist() == [1, 3]
    assert final["total"].tolist() == [4.0, 6.0]


def test_session_early_rows_only_changed_sessions() -> None:
    # Every 2 rows: after rows 1-2 both keys changed, after rows 3-4 only key a.
    result = session_bids(
        [0, 1, 2, 3],
        ["a", "b", "a", "a"],
        **{"table.exec.emit.early-fire.enabled": "true", "workbench.emit.early-fire.rows": "2"},
    )

    rows = result.to_pandas(provisional=True)

    early = rows[rows["provisional"]]
    assert early["k"].tolist() == ["a", "b", "a"]
    assert early["n"].tolist() == [1, 1, 3]


def test_session_window_rows_have_no_early_results() -> None:
    session = bids_session(
        **{"table.exec.emit.early-fire.enabled": "true", "workbench.emit.early-fire.rows": "1"}
    )
    result = session.sql(
        "SELECT ts, window_start FROM TABLE(SESSION(TABLE bids, DESCRIPTOR(ts), "
        "INTERVAL '5' SECOND))"
    )
    assert isinstance(result, QueryResult)

    rows = result.to_pandas(provisional=True)

    assert len(rows) == 9
    assert not rows["provisional"].any()


def test_invalid_settings_rejected() -> None:
    session = Session(progress=False)

    with pytest.raises(ValidationError, match="use 'true' or 'false'"):
        session.sql("SET 'table.exec.emit.early-fire.enabled' = 'yes'")
    with pytest.raises(ValidationError, match="0 or more"):
        session.sql("SET 'workbench.emit.early-fire.rows' = '-2'")
    with pytest.raises(ValidationError, match="invalid value"):
        session.sql("SET 'table.exec.emit.early-fire.delay' = 'soon'")
