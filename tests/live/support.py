"""A known event stream, the queries run on it, and the results of replaying it from a file.

Each live source test sends the stream through its connector and compares
the results with those of the same queries on a JSON lines file of the same
events, so a live feed must give exactly what a recording gives.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from workbench import Session
from workbench.live import LiveRun

#: Milliseconds since the epoch of the first event.
START_MS = 1_700_000_000_000

COLUMNS = """ts TIMESTAMP(3), host STRING, outcome STRING, bytes BIGINT,
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND"""

WINDOW_SQL = """
SELECT window_start, window_end, host, COUNT(*) AS c, SUM(bytes) AS total
FROM TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '10' SECOND))
WHERE bytes >= 0
GROUP BY window_start, window_end, host
"""

PATTERN_SQL = """
SELECT * FROM {table} MATCH_RECOGNIZE (
  PARTITION BY host ORDER BY ts
  MEASURES FIRST(F.ts) AS first_failure, S.ts AS success, COUNT(F.*) AS failures
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (F{{2,}} S)
  DEFINE F AS outcome = 'failed', S AS outcome = 'accepted')
"""


def known_events(count: int = 600) -> list[dict[str, object]]:
    """Return events a few hundred ms apart over three hosts, some out of order within 1 s."""
    events = []
    for index in range(count):
        jitter = -700 if index % 7 == 3 else 0
        host = ("alpha", "beta", "gamma")[index % 3]
        outcome = "accepted" if index % 5 == 4 else "failed"
        events.append(
            {
                "ts": START_MS + index * 250 + jitter,
                "host": host,
                "outcome": outcome,
                "bytes": (index * 37) % 1_000,
            }
        )
    return events


def json_lines(events: list[dict[str, object]]) -> list[bytes]:
    return [json.dumps(event).encode() for event in events]


def expected_results(
    tmp_path: Path, events: list[dict[str, object]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the window and pattern results of replaying ``events`` from a JSON lines file."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(json_lines(events)) + b"\n")
    session = Session()
    session.sql(f"CREATE TABLE recorded ({COLUMNS}) WITH ('connector' = 'json', 'path' = '{path}')")
    windows = session.sql(WINDOW_SQL.format(table="recorded")).to_pandas()
    matches = session.sql(PATTERN_SQL.format(table="recorded")).to_pandas()
    return windows, matches


def live_queries(session: Session, table: str, options: str) -> tuple[object, object]:
    """Create the live table and plan the window and pattern queries on it."""
    session.sql(f"CREATE TABLE {table} ({COLUMNS}) WITH ({options})")
    windows = session.sql(WINDOW_SQL.format(table=table))
    matches = session.sql(PATTERN_SQL.format(table=table))
    return windows, matches


def wait_until(
    condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition"
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def rows_received(run: LiveRun, table: str) -> int:
    metrics = run.source_metrics().set_index("source")
    return int(metrics.loc[table, "rows"] + metrics.loc[table, "rejected"])


def sort_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def assert_same_results(
    tmp_path: Path, events: list[dict[str, object]], windows: object, matches: object
) -> None:
    """Check the live results against the results of a file replay of the same events."""
    expected_windows, expected_matches = expected_results(tmp_path, events)
    actual_windows = windows.to_pandas()  # type: ignore[attr-defined]
    actual_matches = matches.to_pandas()  # type: ignore[attr-defined]
    assert len(expected_windows) > 0
    assert len(expected_matches) > 0
    pd.testing.assert_frame_equal(sort_frame(actual_windows), sort_frame(expected_windows))
    pd.testing.assert_frame_equal(sort_frame(actual_matches), sort_frame(expected_matches))
