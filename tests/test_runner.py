"""Dynamic queries: adding, replacing and dropping queries while a replay runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import Session
from workbench.errors import ValidationError
from workbench.results import QueryResult

WINDOWS = """
SELECT k, window_start, COUNT(*) AS n, SUM(v) AS total
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY k, window_start, window_end
"""
HIGH = "SELECT k, v FROM events WHERE v > 0.9"
ROWS = 2_000


def events(rows: int = ROWS) -> pd.DataFrame:
    """Return rows one second apart, up to three seconds out of order, in five keys."""
    rng = np.random.default_rng(7)
    offsets = np.arange(rows) * 1_000 + rng.integers(0, 3_000, rows)
    return pd.DataFrame(
        {
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(offsets, unit="ms"),
            "k": rng.integers(0, 5, rows),
            "v": rng.random(rows),
        }
    )


def session_over(frame: pd.DataFrame) -> Session:
    session = Session(progress=False)
    session.from_pandas("events", frame, rowtime="ts", watermark_delay="3 s")
    return session


def query(session: Session, text: str, name: str) -> QueryResult:
    result = session.sql(text, name=name)
    assert isinstance(result, QueryResult)
    return result


def test_added_query_sees_rows_from_now_on() -> None:
    frame = events()
    session = session_over(frame)
    windows = query(session, WINDOWS, "windows")
    replay = session.replay([windows])
    replay.step(500)

    high = query(session, HIGH, "high")
    replay.add(high)
    replay.run()

    later = frame.iloc[500:]
    expected = later[later["v"] > 0.9][["k", "v"]].reset_index(drop=True)
    assert high.status == "finished"
    pd.testing.assert_frame_equal(high.to_pandas(), expected, check_dtype=False)


def test_other_queries_undisturbed() -> None:
    frame = events()
    baseline = session_over(frame)
    expected_windows = query(baseline, WINDOWS, "windows").to_pandas()
    session = session_over(frame)
    windows = query(session, WINDOWS, "windows")
    high = query(session, HIGH, "high")
    replay = session.replay([windows, high])

    replay.step(400)
    replay.add(query(session, "SELECT k FROM events WHERE v < 0.1", "low"))
    replay.step(400)
    replay.replace("high", query(session, "SELECT k, v FROM events WHERE v > 0.5", "high"))
    replay.step(400)
    replay.drop("low")
    replay.run()

    pd.testing.assert_frame_equal(windows.to_pandas(), expected_windows)


def test_replace_with_changed_plan_discards_state() -> None:
    frame = events()
    session = session_over(frame)
    old = query(session, HIGH, "high")
    replay = session.replay([old])
    replay.step(600)

    new = query(session, "SELECT k, v FROM events WHERE v > 0.5", "high")
    kept = replay.replace("high", new)
    replay.run()

    later = frame.iloc[600:]
    expected = later[later["v"] > 0.5][["k", "v"]].reset_index(drop=True)
    assert kept is False
    assert old.status == "stopped"
    pd.testing.assert_frame_equal(new.to_pandas(), expected, check_dtype=False)


def test_replace_with_equal_plan_keeps_state() -> None:
    frame = events()
    expected = query(session_over(frame), WINDOWS, "windows").to_pandas()
    session = session_over(frame)
    old = query(session, WINDOWS, "windows")
    replay = session.replay([old])
    replay.step(900)

    new = query(session, WINDOWS + "-- the same plan\nORDER BY k", "windows")
    kept = replay.replace("windows", new)
    replay.run()

    assert kept is True
    assert old.status == "stopped"
    assert new.status == "finished"
    pd.testing.assert_frame_equal(
        new.to_pandas().reset_index(drop=True),
        expected.sort_values("k", kind="stable").reset_index(drop=True),
    )


def test_dropped_query_keeps_rows_so_far() -> None:
    frame = events()
    session = session_over(frame)
    high = query(session, HIGH, "high")
    windows = query(session, WINDOWS, "windows")
    replay = session.replay([high, windows])
    replay.step(1_000)

    dropped = replay.drop("high")
    replay.run()

    first = frame.iloc[:1_000]
    assert dropped is high
    assert high.status == "stopped"
    assert len(high.to_pandas()) == int((first["v"] > 0.9).sum())
    assert [result.name for result in replay.results] == ["windows"]


def test_add_reads_new_table_from_start() -> None:
    frame = events()
    session = session_over(frame)
    session.from_pandas("marks", frame.iloc[:50].copy(), rowtime="ts")
    windows = query(session, WINDOWS, "windows")
    replay = session.replay([windows])
    replay.step(300)

    marks = query(session, "SELECT k FROM marks", "marks")
    replay.add(marks)
    replay.run()

    assert len(marks.to_pandas()) == 50


def test_add_to_ended_replay_rejected() -> None:
    session = session_over(events(100))
    replay = session.replay([query(session, HIGH, "high")])
    replay.run()

    with pytest.raises(ValidationError, match="the replay has ended"):
        replay.add(query(session, WINDOWS, "late"))


def test_add_duplicate_name_rejected() -> None:
    session = session_over(events(100))
    high = query(session, HIGH, "high")
    replay = session.replay([high])

    with pytest.raises(ValidationError, match="already part of the replay"):
        replay.add(high)


def test_drop_unknown_query_names_known() -> None:
    session = session_over(events(100))
    replay = session.replay([query(session, HIGH, "high")])

    with pytest.raises(ValidationError, match="not part of the replay") as raised:
        replay.drop("nope")

    assert "'high'" in str(raised.value.hint)


def test_values_of_two_queries_kept_apart() -> None:
    session = Session(progress=False)
    first = query(session, "SELECT x FROM (VALUES (1), (2)) AS t(x)", "first")
    second = query(session, "SELECT y FROM (VALUES (10), (20), (30)) AS t(y)", "second")

    session.run([first, second])

    assert first.to_pandas()["x"].tolist() == [1, 2]
    assert second.to_pandas()["y"].tolist() == [10, 20, 30]


def test_dropped_insert_closes_sink(tmp_path: Path) -> None:
    session = session_over(events(500))
    session.sql(
        f"CREATE TABLE out_rows (k BIGINT, v DOUBLE) WITH ('connector' = 'filesystem', "
        f"'path' = '{tmp_path / 'out.csv'}', 'format' = 'csv')"
    )
    results = session.execute("INSERT INTO out_rows SELECT k, v FROM events", defer=True)
    insert = results[-1]
    assert isinstance(insert, QueryResult)
    assert insert.status == "planned"
    replay = session.replay([insert])
    replay.step(100)

    replay.drop(insert.name)

    assert insert.status == "stopped"
    assert len(pd.read_csv(tmp_path / "out.csv")) == 100


def test_listener_called_per_delivery() -> None:
    session = session_over(events(100))
    replay = session.replay([query(session, HIGH, "high")])
    calls: list[int] = []
    replay.add_listener(lambda: calls.append(1))

    replay.step(10)
    replay.step(5)

    assert len(calls) == 2


def test_restart_after_add_runs_all() -> None:
    frame = events(300)
    session = session_over(frame)
    high = query(session, HIGH, "high")
    replay = session.replay([high])
    replay.step(100)
    low = query(session, "SELECT k FROM events WHERE v < 0.1", "low")
    replay.add(low)

    replay.restart()
    replay.run()

    assert len(low.to_pandas()) == int((frame["v"] < 0.1).sum())
    assert len(high.to_pandas()) == int((frame["v"] > 0.9).sum())
