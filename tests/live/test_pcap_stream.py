"""Packets read from a named pipe and from standard input as they arrive."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.support.shared import require
from workbench import Session

WINDOW_SQL = """
SELECT window_start, proto, COUNT(*) AS packets, SUM(length) AS bytes
FROM TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY window_start, window_end, proto
"""

SYN_SQL = """
SELECT * FROM {table} MATCH_RECOGNIZE (
  PARTITION BY src_ip ORDER BY ts
  MEASURES FIRST(S.ts) AS first_syn, COUNT(S.*) AS syns
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (S{{20}})
  DEFINE S AS tcp_flags = 'S')
"""


def file_results(capture: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    session = Session()
    session.sql(f"CREATE TABLE recorded WITH ('connector' = 'pcap', 'path' = '{capture}')")
    windows = session.sql(WINDOW_SQL.format(table="recorded")).to_pandas()
    syns = session.sql(SYN_SQL.format(table="recorded")).to_pandas()
    return windows, syns


def sort_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("name", ["synscan.pcap", "cooper-grill-dvwa.pcapng"])
def test_pcap_stream_from_pipe_matches_file(tmp_path: Path, name: str) -> None:
    capture = require(f"datasets/pcap/{name}")
    pipe = tmp_path / "capture.pipe"
    os.mkfifo(pipe)
    data = capture.read_bytes()

    def write_slowly() -> None:
        with pipe.open("wb") as stream:
            for start in range(0, len(data), 5_000):
                stream.write(data[start : start + 5_000])
                stream.flush()
                time.sleep(0.005)

    writer = threading.Thread(target=write_slowly, daemon=True)
    session = Session()
    session.sql(f"CREATE TABLE packets WITH ('connector' = 'pcap-stream', 'path' = '{pipe}')")
    windows = session.sql(WINDOW_SQL.format(table="packets"))
    syns = session.sql(SYN_SQL.format(table="packets"))
    writer.start()

    run = session.start()

    assert run.wait(60)
    expected_windows, expected_syns = file_results(capture)
    assert windows.status == "finished"
    assert run.source_metrics()["batches"].iloc[0] > 1
    pd.testing.assert_frame_equal(sort_frame(windows.to_pandas()), sort_frame(expected_windows))
    pd.testing.assert_frame_equal(sort_frame(syns.to_pandas()), sort_frame(expected_syns))


def test_pcap_stream_cut_capture_rejected(tmp_path: Path) -> None:
    capture = require("datasets/pcap/synscan.pcap")
    path = tmp_path / "cut.pcap"
    path.write_bytes(capture.read_bytes()[:10_000])
    session = Session()
    session.sql(f"CREATE TABLE packets WITH ('connector' = 'pcap-stream', 'path' = '{path}')")
    query = session.sql("SELECT frame FROM packets")

    query.start()

    assert query.wait(30)
    rejected = query.rejected_rows()
    assert len(query.to_pandas()) > 10
    assert len(rejected) == 1
    assert "truncated packet data" in rejected["reason"][0]


def test_cli_reads_capture_from_stdin(tmp_path: Path) -> None:
    capture = require("datasets/pcap/synscan.pcap")
    rules = tmp_path / "rules.sql"
    rules.write_text(
        "CREATE TABLE packets WITH ('connector' = 'pcap-stream', 'path' = '-');\n"
        + SYN_SQL.format(table="packets")
        + ";\n"
    )
    expected = len(file_results(capture)[1])

    with capture.open("rb") as stdin:
        completed = subprocess.run(
            [sys.executable, "-m", "workbench.cli", "run", str(rules), "--no-progress"],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert completed.returncode == 0, completed.stderr
    assert f"-- query-1: {expected} rows, 0 late, 0 rejected" in completed.stdout
    assert "reading live tables until the inputs end" in completed.stderr
