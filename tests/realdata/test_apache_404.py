"""404 bursts per client over a real Apache access log, checked against a count made here.

The engine reads the log with the access-log connector; the test parses it
with its own regular expression and counts with pandas.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.support.shared import require
from workbench import Session
from workbench.results import QueryResult

LINE = re.compile(r'^(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "[^"]*" (?P<status>\d{3}) ')

TABLE = """
CREATE TABLE access (
    WATERMARK FOR ts AS ts - INTERVAL '{delay}' SECOND
) WITH ('connector' = 'access-log', 'path' = '{path}')
"""

QUERY = """
SELECT client_ip AS ip, window_start, window_end, COUNT(*) AS not_found
FROM TABLE(TUMBLE(TABLE access, DESCRIPTOR(ts), INTERVAL '{seconds}' SECOND))
WHERE status = 404
GROUP BY client_ip, window_start, window_end
"""


@pytest.fixture(scope="module")
def access_log() -> pd.DataFrame:
    path = require("datasets/logs/apache_logs")
    rows = []
    skipped = 0
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = LINE.match(text)
        if match is None:
            skipped += 1
            continue
        when = (
            pd.to_datetime(match["time"], format="%d/%b/%Y:%H:%M:%S %z")
            .tz_convert("UTC")
            .tz_localize(None)
        )
        rows.append((match["ip"], when, int(match["status"])))
    assert skipped <= 1  # the file holds one malformed line
    return pd.DataFrame(rows, columns=["ip", "ts", "status"])


def run(delay: int, seconds: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = require("datasets/logs/apache_logs")
    session = Session(progress=False)
    session.sql(TABLE.format(delay=delay, path=path))
    result = session.sql(QUERY.format(seconds=seconds))
    assert isinstance(result, QueryResult)
    # The one malformed line is rejected by the reader, as the fixture skips it.
    assert len(result.rejected_rows()) == 1
    return result.to_pandas(), result.late_rows()


def reference(frame: pd.DataFrame) -> pd.DataFrame:
    not_found = frame[frame["status"] == 404]
    counts = not_found.groupby(["ip", not_found["ts"].dt.floor("5min")]).size().rename("not_found")
    return counts.reset_index().rename(columns={"ts": "window_start"})


def test_404_bursts_match_independent_count(access_log: pd.DataFrame) -> None:
    result, late = run(delay=60)
    assert len(late) == 0
    expected = reference(access_log).sort_values(["ip", "window_start"]).reset_index(drop=True)
    got = (
        result[["ip", "window_start", "not_found"]]
        .sort_values(["ip", "window_start"])
        .reset_index(drop=True)
    )
    assert len(got) == len(expected)
    assert got["ip"].tolist() == expected["ip"].tolist()
    assert got["window_start"].tolist() == expected["window_start"].tolist()
    assert got["not_found"].astype(int).tolist() == expected["not_found"].astype(int).tolist()


def late_404s(frame: pd.DataFrame, seconds: int) -> int:
    """Count 404 rows whose window had fired when they arrived, with no watermark delay."""
    size = pd.Timedelta(seconds=seconds)
    latest = None
    late = 0
    for ts, status in zip(frame["ts"], frame["status"], strict=True):
        window_end = ts.floor(size) + size
        if (
            latest is not None
            and window_end - pd.Timedelta(milliseconds=1) <= latest
            and status == 404
        ):
            late += 1
        latest = ts if latest is None or ts > latest else latest
    return late


def test_404_bursts_without_delay_count_late_rows(access_log: pd.DataFrame) -> None:
    # Lines are shuffled within each minute, so 10-second windows see late rows.
    result, late = run(delay=0, seconds=10)
    total = int((access_log["status"] == 404).sum())
    assert len(late) == late_404s(access_log, 10)
    assert len(late) > 0
    assert int(result["not_found"].sum()) + len(late) == total
