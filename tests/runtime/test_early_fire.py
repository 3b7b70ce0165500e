"""Early (provisional) window results: emitted before the final ones, which they leave unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import Session
from workbench.errors import ValidationError
from workbench.events.batch import Batch
from workbench.results import QueryResult
from workbench.runtime.early_fire import EarlyFire, ProcessingTimeDelay
from workbench.runtime.session_window import SessionWindowOperator
from workbench.runtime.window_aggregate import WindowAggregateOperator
from workbench.sql.plan import WindowAggregate, walk
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


# Windows over PROCTIME() ---------------------------------------------------------------

SECOND = 1_000_000_000
# A multiple of 10 s, so the first 10-second window starts here.
EPOCH = 1_700_000_000 * SECOND
PROCTIME_TABLE = (
    "CREATE TABLE clicks (ts TIMESTAMP(3), uid BIGINT, price DOUBLE, pt AS PROCTIME()) "
    "WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')"
)
PROCTIME_TUMBLE = (
    "SELECT window_start, uid, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks, "
    "DESCRIPTOR(pt), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, uid"
)
PROCTIME_SESSION = (
    "SELECT uid, COUNT(*) AS n FROM clicks GROUP BY uid, SESSION(pt, INTERVAL '3' SECOND)"
)


def clicks_session(folder: Path, **settings: str) -> Session:
    path = folder / "clicks.csv"
    rows = [f"2024-01-01 00:00:0{i},{1 + i % 2},{float(i)}" for i in range(5)]
    path.write_text("ts,uid,price\n" + "\n".join(rows) + "\n")
    session = Session(progress=False, settings={"workbench.replay.batch-rows": "1", **settings})
    session.sql(PROCTIME_TABLE.format(path=path))
    return session


def window_operator(
    folder: Path, sql: str, early: EarlyFire | None
) -> WindowAggregateOperator | SessionWindowOperator:
    result = clicks_session(folder).sql(sql)
    assert isinstance(result, QueryResult)
    assert result.plan is not None
    node = next(node for node in walk(result.plan) if isinstance(node, WindowAggregate))
    operator: WindowAggregateOperator | SessionWindowOperator
    if node.window is not None and node.window.kind == "SESSION":
        operator = SessionWindowOperator("window", node, node.input.schema)
    else:
        operator = WindowAggregateOperator("window", node, node.input.schema)
    operator.early = early
    return operator


def clicks_batch(now_ns: int, uids: list[int], final: bool = False) -> Batch:
    """Return rows that arrived at ``now_ns``, as the scan and projection emit them."""
    count = len(uids)
    data = pd.DataFrame(
        {
            "ts": pd.Series(pd.to_datetime([now_ns] * count), dtype="datetime64[ns]"),
            "uid": pd.Series(uids, dtype="int64"),
            "price": pd.Series([1.0] * count, dtype="float64"),
            "pt": pd.Series(
                pd.to_datetime([now_ns] * count, utc=True), dtype="datetime64[ns, UTC]"
            ),
        }
    )
    return Batch(data, np.full(count, now_ns - 1, dtype=np.int64), now_ns, 0, final)


# (seconds after EPOCH when the batch arrives, uids of its rows)
PROCTIME_ARRIVALS: list[tuple[float, list[int]]] = [
    (0.5, [1, 1]),
    (1.0, [2]),
    (2.5, [1]),  # 2 s after the first row: an early result is due
    (3.0, [2]),
    (7.0, []),  # the due times 4.5 s and 6.5 s passed between batches: one early result
    (8.0, [1]),
    (11.0, [1]),  # the first window fires, and 10.5 s passed: an early result for the second
    (11.5, [2]),
]


def drive(operator: WindowAggregateOperator | SessionWindowOperator) -> list[Batch]:
    """Feed PROCTIME_ARRIVALS, then the end of input, on a clock the test controls."""
    outputs: list[Batch] = []
    for seconds, uids in PROCTIME_ARRIVALS:
        now = EPOCH + int(seconds * SECOND)
        operator.now_ns = lambda now=now: now
        outputs.extend(operator.process(clicks_batch(now, uids), 0))
    operator.now_ns = lambda: EPOCH + 12 * SECOND
    outputs.extend(operator.process(clicks_batch(EPOCH + 12 * SECOND, [], final=True), 0))
    return outputs


def rows_of(batches: list[Batch], provisional: bool) -> list[list[tuple[int, int]]]:
    """Return the (uid, n) rows of each non-empty batch with the given ``provisional`` flag."""
    return [
        list(zip(batch.data["uid"].tolist(), batch.data["$agg0"].tolist(), strict=True))
        for batch in batches
        if batch.provisional == provisional and len(batch)
    ]


def test_proctime_delay_counts_processing_time(tmp_path: Path) -> None:
    operator = window_operator(tmp_path, PROCTIME_TUMBLE, EarlyFire(interval_ns=2 * SECOND))

    outputs = drive(operator)

    early = rows_of(outputs, provisional=True)
    assert early[0] == [(1, 3), (2, 1)]
    assert early[1] == [(2, 2)]
    assert early[2] == [(1, 1)]
    assert len(early) == 3
    assert rows_of(outputs, provisional=False) == [[(1, 4), (2, 2)], [(1, 1), (2, 1)]]


@pytest.mark.parametrize("sql", [PROCTIME_TUMBLE, PROCTIME_SESSION])
@pytest.mark.parametrize(
    "early",
    [EarlyFire(interval_ns=2 * SECOND), EarlyFire(rows=2), EarlyFire(SECOND, 3)],
)
def test_proctime_finals_equal_run_without_early_fire(
    tmp_path: Path, sql: str, early: EarlyFire
) -> None:
    plain = drive(window_operator(tmp_path, sql, None))
    with_early = drive(window_operator(tmp_path, sql, early))

    assert rows_of(with_early, provisional=False) == rows_of(plain, provisional=False)
    assert rows_of(with_early, provisional=True)


def test_proctime_session_delay(tmp_path: Path) -> None:
    operator = window_operator(tmp_path, PROCTIME_SESSION, EarlyFire(interval_ns=2 * SECOND))

    outputs = drive(operator)

    # At 2.5 s uid 2's session [1.0 s, 4.0 s) ends before uid 1's [0.5 s, 5.5 s).
    # Both sessions fire at 7.0 s, so the early result due then finds no open
    # session that changed. The session [8.0 s, 11.0 s) fires when the row at
    # 11.0 s arrives, and that row opens a new session.
    early = rows_of(outputs, provisional=True)
    assert early[0] == [(2, 1), (1, 3)]
    assert early[1] == [(1, 1)]
    assert len(early) == 2
    assert rows_of(outputs, provisional=False) == [[(1, 3), (2, 2)], [(1, 1)], [(1, 1), (2, 1)]]


def test_processing_time_delay_fires_once_per_gap() -> None:
    delay = ProcessingTimeDelay(interval_ns=10)

    assert not delay.due(5, has_rows=False)  # no row yet: the delay has not started
    assert not delay.due(7, has_rows=True)
    assert not delay.due(16, has_rows=False)
    assert delay.due(17, has_rows=False)
    assert not delay.due(18, has_rows=True)
    assert delay.due(60, has_rows=False)  # 27, 37, 47 and 57 passed: one early result
    assert not delay.due(66, has_rows=True)
    assert delay.due(67, has_rows=False)


def test_proctime_rows_trigger_in_sql(tmp_path: Path) -> None:
    session = clicks_session(
        tmp_path,
        **{
            "table.exec.emit.early-fire.enabled": "true",
            "workbench.emit.early-fire.rows": "2",
        },
    )
    result = session.sql(PROCTIME_TUMBLE)
    assert isinstance(result, QueryResult)

    rows = result.to_pandas(provisional=True)

    # Five rows give early results after the second and the fourth. The final
    # counts add up to five even if the replay crosses a window boundary.
    assert rows[rows["provisional"]]["n"].sum() >= 2
    assert result.to_pandas()["n"].sum() == 5
