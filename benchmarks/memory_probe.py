"""Replay a Parquet file through a benchmark query into a blackhole sink; print peak memory.

Run by ``run.py`` in a fresh process per measurement. ``--query`` selects
the window aggregation (columns ``ts, k, v``) or the MATCH_RECOGNIZE query
(columns ``ts, k, kind``). It prints one JSON object on stdout. The
``reader`` modes only iterate over the file's record batches with pyarrow,
with and without pre-buffering, as a baseline for the share of the reader.
Memory is the process's resident set high-water mark, ``VmHWM`` in
``/proc/self/status``, read once after the imports (the baseline) and once
at the end. ``ru_maxrss`` is not used because Linux
carries the parent's high-water mark over ``fork`` and ``exec`` into it.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

import pyarrow.parquet as pq
from engine_runs import PATTERN_QUERY

from workbench import Session
from workbench.results import QueryResult
from workbench.settings import SETTINGS

SCRIPT = """
CREATE TABLE events (
  ts TIMESTAMP(3),
  k BIGINT,
  v DOUBLE,
  WATERMARK FOR ts AS ts - INTERVAL '{delay_ms}' MILLISECOND
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'parquet');

CREATE TABLE results (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  k BIGINT,
  c BIGINT,
  s DOUBLE,
  a DOUBLE,
  m DOUBLE
) WITH ('connector' = 'blackhole');

INSERT INTO results
SELECT window_start, window_end, k,
       COUNT(*) AS c, SUM(v) AS s, AVG(v) AS a, MAX(v) AS m
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, k;
"""

PATTERN_TABLES = """
CREATE TABLE events (
  ts TIMESTAMP(3),
  k BIGINT,
  kind STRING,
  WATERMARK FOR ts AS ts - INTERVAL '{delay_ms}' MILLISECOND
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'parquet');

CREATE TABLE matches (
  k BIGINT,
  start_ts TIMESTAMP(3),
  end_ts TIMESTAMP(3),
  b_rows BIGINT
) WITH ('connector' = 'blackhole');
"""

QUERIES = ("window", "pattern")


def build_script(query: str, path: str, delay_ms: int) -> str:
    """Return the statements that replay ``path`` through the ``window`` or ``pattern`` query."""
    if query == "window":
        return SCRIPT.format(path=path, delay_ms=delay_ms)
    tables = PATTERN_TABLES.format(path=path, delay_ms=delay_ms)
    return f"{tables}\nINSERT INTO matches\n{PATTERN_QUERY.strip()};\n"


def status_kib(field: str) -> int:
    """Return a ``kB`` field of ``/proc/self/status``, such as ``VmHWM`` or ``VmRSS``."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    message = f"{field} not found in /proc/self/status"
    raise RuntimeError(message)


def replay_query(
    path: Path, delay_ms: int, batch_rows: int | None, query: str = "window"
) -> dict[str, int]:
    """Run the ``query`` INSERT INTO script over ``path`` and return the source and sink counters."""
    settings = {"workbench.replay.progress": "false"}
    if batch_rows is not None:
        settings["workbench.replay.batch-rows"] = str(batch_rows)
    session = Session(settings=settings)
    # Single quotes in the path would end the SQL string literal early.
    quoted = str(path.resolve()).replace("'", "''")
    result = session.sql(build_script(query, quoted, delay_ms))
    assert isinstance(result, QueryResult)
    metrics = result.metrics()
    source = metrics[metrics["operator"].str.startswith("source:")]
    return {
        "rows_read": int(source["rows_out"].sum()),
        "batches": int(source["batches"].sum()),
        "late": int(metrics["late"].sum()),
        "rows_written": int(metrics["rows_out"].iloc[-1]),
    }


def read_batches(path: Path, batch_rows: int | None, pre_buffer: bool) -> dict[str, int]:
    """Iterate over the record batches of ``path`` with pyarrow alone and drop them."""
    size = batch_rows or int(SETTINGS["workbench.replay.batch-rows"].default)
    parquet = pq.ParquetFile(path, pre_buffer=pre_buffer)
    rows = batches = 0
    for batch in parquet.iter_batches(batch_size=size):
        rows += batch.num_rows
        batches += 1
    return {"rows_read": rows, "batches": batches, "late": 0, "rows_written": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path", type=Path, help="Parquet file with columns ts, k, v (window) or ts, k, kind"
    )
    parser.add_argument("--delay-ms", type=int, required=True, help="watermark delay in ms")
    parser.add_argument("--batch-rows", type=int, help="rows per micro-batch (engine default)")
    parser.add_argument(
        "--mode",
        choices=("engine", "reader", "reader-no-pre-buffer"),
        default="engine",
        help="run the query (engine), or only read the file with pyarrow",
    )
    parser.add_argument(
        "--query",
        choices=QUERIES,
        default="window",
        help="the TUMBLE aggregation (window) or the MATCH_RECOGNIZE query (pattern)",
    )
    args = parser.parse_args()

    gc.collect()
    baseline_kib = status_kib("VmHWM")
    started = time.perf_counter()
    if args.mode == "engine":
        counters = replay_query(args.path, args.delay_ms, args.batch_rows, args.query)
    else:
        counters = read_batches(args.path, args.batch_rows, args.mode == "reader")
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "mode": args.mode,
                "query": args.query,
                "baseline_kib": baseline_kib,
                "peak_kib": status_kib("VmHWM"),
                "final_rss_kib": status_kib("VmRSS"),
                "seconds": seconds,
                **counters,
            }
        )
    )


if __name__ == "__main__":
    main()
