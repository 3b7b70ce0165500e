"""Zeek connections enriched from a DuckDB table of known hosts, with per-minute stats written back.

The engine reads conn.log with the zeek connector and labels each
connection's responder with a lookup join against a DuckDB table that the
test creates. It counts connections and bytes per minute and responder in
TUMBLE windows and upserts the results into another DuckDB file with INSERT
INTO. The test
parses the log itself (tab-separated fields named by its ``#fields`` line)
and computes the same statistics with plain Python, then reads the written
table back and compares the two.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from tests.support.shared import require
from workbench import Session

#: Labels of some responders in the capture. Every other responder gets no label.
KNOWN_HOSTS = {
    "54.245.228.191": "web",
    "54.230.86.87": "cdn",
    "108.59.9.32": "media",
    "192.168.33.1": "gateway",
}

QUERY = """
INSERT INTO host_minutes
SELECT window_start, host, MAX(label), COUNT(*), SUM(bytes), SUM(established)
FROM TABLE(TUMBLE(TABLE (
    SELECT c.ts, c.id.resp_h AS host, h.label,
           COALESCE(c.orig_bytes, 0) + COALESCE(c.resp_bytes, 0) AS bytes,
           CASE WHEN c.conn_state = 'SF' THEN 1 ELSE 0 END AS established
    FROM conn AS c
    LEFT JOIN hosts FOR SYSTEM_TIME AS OF c.proc_time AS h ON c.id.resp_h = h.ip
), DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, host
"""

Row = tuple[datetime, str, str | None, int, int, int]


def parse_conn_log(path: Path) -> list[dict[str, str]]:
    """Return the log's records as dicts of field text, read without the zeek reader."""
    fields: list[str] = []
    records: list[dict[str, str]] = []
    for line in path.read_text().splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            records.append(dict(zip(fields, line.split("\t"), strict=True)))
    return records


def count(text: str) -> int:
    return 0 if text == "-" else int(text)


def minute_of(epoch_text: str) -> datetime:
    """Return the UTC minute (naive) of an epoch-seconds text, floored exactly."""
    seconds = int(Decimal(epoch_text) // 60 * 60)
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def expected_rows(records: list[dict[str, str]]) -> list[Row]:
    totals: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for record in records:
        key = (minute_of(record["ts"]), record["id.resp_h"])
        total = totals[key]
        total[0] += 1
        total[1] += count(record["orig_bytes"]) + count(record["resp_bytes"])
        total[2] += 1 if record["conn_state"] == "SF" else 0
    return sorted(
        (minute, host, KNOWN_HOSTS.get(host), n, size, established)
        for (minute, host), (n, size, established) in totals.items()
    )


def create_hosts(path: Path) -> None:
    connection = duckdb.connect(str(path))
    try:
        connection.execute("CREATE TABLE known_hosts (ip VARCHAR PRIMARY KEY, label VARCHAR)")
        connection.executemany("INSERT INTO known_hosts VALUES (?, ?)", list(KNOWN_HOSTS.items()))
    finally:
        connection.close()


def read_written(path: Path) -> list[Row]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        rows = connection.execute(
            "SELECT minute, host, label, connections, bytes, established "
            "FROM host_minutes ORDER BY minute, host"
        ).fetchall()
    finally:
        connection.close()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_conn_enrichment_written_to_duckdb(tmp_path: Path) -> None:
    log = require("datasets/logs/conn.log")
    hosts_path = tmp_path / "hosts.duckdb"
    stats_path = tmp_path / "stats.duckdb"
    create_hosts(hosts_path)
    session = Session(progress=False)
    session.sql(
        f"""
        SET 'workbench.replay.batch-rows' = '50';
        CREATE TABLE conn (proc_time AS PROCTIME())
          WITH ('connector' = 'zeek', 'path' = '{log}');
        CREATE TABLE hosts (ip STRING, label STRING) WITH (
          'connector' = 'duckdb', 'path' = '{hosts_path}', 'table-name' = 'known_hosts',
          'lookup.cache' = 'PARTIAL');
        CREATE TABLE host_minutes (
          minute TIMESTAMP(3), host STRING, label STRING,
          connections BIGINT, bytes BIGINT, established BIGINT,
          PRIMARY KEY (minute, host) NOT ENFORCED
        ) WITH ('connector' = 'duckdb', 'path' = '{stats_path}', 'table-name' = 'host_minutes');
        """
    )

    result = session.sql(QUERY, name="host-minutes")

    assert result.error is None
    assert result.status == "finished"
    records = parse_conn_log(log)
    assert len(records) == 360
    expected = expected_rows(records)
    written = read_written(stats_path)
    assert written == expected
    assert sum(row[3] for row in written) == 360
    labelled = {row[1] for row in written if row[2] is not None}
    assert labelled == set(KNOWN_HOSTS) & {record["id.resp_h"] for record in records}
