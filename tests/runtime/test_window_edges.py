"""Window aggregation at the edges: NULL keys between batches, and the ends of the timestamp range."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench

WINDOWS = {
    "tumble": "TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)",
    "hop": "HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' MINUTE)",
}


def counts_by_key(frame: pd.DataFrame, window: str, batch_rows: int = 5) -> dict[str, int]:
    session = workbench.Session(
        settings={
            "workbench.replay.batch-rows": str(batch_rows),
            "workbench.replay.progress": "false",
        }
    )
    session.from_pandas("t", frame, rowtime="ts")
    result = session.sql(
        f"SELECT k, COUNT(*) AS n FROM TABLE({window}) GROUP BY window_start, window_end, k"
    )
    output = result.to_pandas()
    return {str(key): int(count) for key, count in zip(output["k"], output["n"], strict=True)}


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
@pytest.mark.parametrize(
    "keys",
    [
        [10, 11, 12, 13, 14, None, 8, 8, 8, 8, 14, 15, 14, 14, 14],
        [10, 11, 12, 13, 14, None, 8, 99, 8, 8, 14, 15, 14, 14, 14],
    ],
    ids=["key-below-range", "key-above-range"],
)
def test_null_key_batch_keeps_later_keys_apart(keys: list[int | None], window: str) -> None:
    """A batch with a NULL key gives its new keys ids by hashing; later batches still find them."""
    frame = pd.DataFrame(
        {
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(range(len(keys)), unit="s"),
            "k": pd.array(keys, dtype="Int64"),
        }
    )
    expected = {str(key): int(n) for key, n in frame.groupby("k", dropna=False).size().items()}
    assert counts_by_key(frame, window) == expected


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
def test_delay_near_earliest_timestamp_makes_nothing_late(window: str) -> None:
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(
                ["1677-09-21 00:13:30", "1677-09-21 00:13:35", "1677-09-21 00:20:00"]
            ),
            "k": 1,
        }
    )
    session = workbench.Session(settings={"workbench.replay.progress": "false"})
    session.from_pandas("t", frame, rowtime="ts", watermark_delay=pd.Timedelta("10 min"))
    result = session.sql(
        f"SELECT window_start, COUNT(*) AS n FROM TABLE({window}) GROUP BY window_start, window_end"
    )
    output = result.to_pandas()
    assert output["n"].tolist() == [2, 1]
    assert len(result.late_rows()) == 0


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
@pytest.mark.parametrize(
    ("times", "kept"),
    [
        (["1677-09-21 00:12:44", "1677-09-21 00:20:00"], ["1677-09-21 00:20:00"]),
        (["2262-04-11 10:00:00", "2262-04-11 23:47:16"], ["2262-04-11 10:00:00"]),
    ],
    ids=["first-minute", "last-minute"],
)
def test_rows_with_unrepresentable_windows_are_rejected(
    window: str, times: list[str], kept: list[str]
) -> None:
    frame = pd.DataFrame({"ts": pd.to_datetime(times).as_unit("ns"), "k": 1})
    session = workbench.Session(settings={"workbench.replay.progress": "false"})
    session.from_pandas("t", frame, rowtime="ts")
    result = session.sql(
        f"SELECT window_start, COUNT(*) AS n FROM TABLE({window}) GROUP BY window_start, window_end"
    )
    output = result.to_pandas()
    assert output["window_start"].tolist() == [pd.Timestamp(time).floor("1min") for time in kept]
    rejected = result.rejected_rows()
    assert len(rejected) == 1
    assert "outside the timestamp range" in rejected["reason"].iloc[0]
    assert len(result.late_rows()) == 0


def test_long_window_keeps_distant_rows() -> None:
    frame = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"]).as_unit("ns"), "k": 1})
    session = workbench.Session(settings={"workbench.replay.progress": "false"})
    session.from_pandas("t", frame, rowtime="ts")
    output = session.sql(
        "SELECT window_start, window_end, COUNT(*) AS n "
        "FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '100000' DAY)) "
        "GROUP BY window_start, window_end"
    ).to_pandas()
    assert output["n"].tolist() == [1]
    assert output["window_start"].iloc[0] == pd.Timestamp("1970-01-01")


def test_interval_beyond_int64_nanoseconds_is_a_query_error() -> None:
    session = workbench.Session()
    session.from_pandas(
        "t", pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"]), "k": 1}), rowtime="ts"
    )
    with pytest.raises(workbench.WorkbenchError, match="too long"):
        session.sql(
            "SELECT window_start, COUNT(*) AS n "
            "FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '150000' DAY)) "
            "GROUP BY window_start, window_end"
        )
