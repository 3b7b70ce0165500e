import pandas as pd
import pytest

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK
from workbench.sources.feed import Feed, FeedCursor
from workbench.sources.frame_reader import DataFrameReader

SCHEMA = Schema.of([("ts", t.timestamp(3)), ("v", t.BIGINT)])


def cursor(times: list[str | None], chunk_rows: int = 2) -> FeedCursor:
    frame = pd.DataFrame({"ts": pd.Series(times, dtype="datetime64[ns]"), "v": range(len(times))})
    return FeedCursor(Feed("f", DataFrameReader("f", frame, SCHEMA, chunk_rows), "ts"))


def test_cursor_running_max_across_chunks() -> None:
    feed = cursor(["2020-01-01 00:00:02", None, "2020-01-01 00:00:01", "2020-01-01 00:00:03"])
    assert feed.load()
    assert feed.count_until(pd.Timestamp("2020-01-01 00:00:02").value) == 2
    feed.take(2)
    assert feed.latest == pd.Timestamp("2020-01-01 00:00:02").value
    assert feed.load()
    assert feed.next_time() == pd.Timestamp("2020-01-01 00:00:02").value
    assert feed.take(2)["v"].tolist() == [2, 3]
    assert not feed.load()


def test_cursor_leading_nulls_have_no_time() -> None:
    feed = cursor([None, "2020-01-01"])
    feed.load()
    assert feed.next_time() == MIN_WATERMARK
    assert feed.first_time() == pd.Timestamp("2020-01-01").value


def test_cursor_restart() -> None:
    feed = cursor(["2020-01-01"])
    feed.load()
    feed.take(1)
    feed.restart()
    assert feed.rows == 0
    assert feed.load()


def test_time_column_must_exist() -> None:
    reader = DataFrameReader("f", pd.DataFrame(), SCHEMA)
    with pytest.raises(SourceError, match="time column 'when' is not among its columns: ts, v"):
        FeedCursor(Feed("f", reader, "when"))


def test_time_column_must_be_timestamp() -> None:
    reader = DataFrameReader("f", pd.DataFrame(), SCHEMA)
    with pytest.raises(SourceError, match="has type BIGINT, expected TIMESTAMP"):
        FeedCursor(Feed("f", reader, "v"))


def test_time_column_case_insensitive() -> None:
    reader = DataFrameReader("f", pd.DataFrame(), SCHEMA)
    assert FeedCursor(Feed("f", reader, "TS")).time_column == "ts"
