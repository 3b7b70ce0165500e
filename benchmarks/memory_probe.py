"""Replay a Parquet file through the benchmark query into a blackhole sink; print peak memory.

Run by ``run.py`` in a fresh process per measurement. It prints one JSON
object on stdout. Memory is the process's resident set high-water mark,
``VmHWM`` in ``/proc/self/status``, read once after the imports (the
baseline) and once at the end. ``ru_maxrss`` is not used because Linux
carries the parent's high-water mark over ``fork`` and ``exec`` into it.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

from workbench import Session
from workbench.results import QueryResult

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


def status_kib(field: str) -> int:
    """Return a ``kB`` field of ``/proc/self/status``, such as ``VmHWM`` or ``VmRSS``."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    message = f"{field} not found in /proc/self/status"
    raise RuntimeError(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path, help="Parquet file with columns ts, k, v")
    parser.add_argument("--delay-ms", type=int, required=True, help="watermark delay in ms")
    parser.add_argument("--batch-rows", type=int, help="rows per micro-batch (engine default)")
    args = parser.parse_args()

    gc.collect()
    baseline_kib = status_kib("VmHWM")
    settings = {"workbench.replay.progress": "false"}
    if args.batch_rows is not None:
        settings["workbench.replay.batch-rows"] = str(args.batch_rows)
    session = Session(settings=settings)
    # Single quotes in the path would end the SQL string literal early.
    path = str(args.path.resolve()).replace("'", "''")
    started = time.perf_counter()
    result = session.sql(SCRIPT.format(path=path, delay_ms=args.delay_ms))
    seconds = time.perf_counter() - started
    assert isinstance(result, QueryResult)
    metrics = result.metrics()
    source = metrics[metrics["operator"].str.startswith("source:")]
    print(
        json.dumps(
            {
                "baseline_kib": baseline_kib,
                "peak_kib": status_kib("VmHWM"),
                "final_rss_kib": status_kib("VmRSS"),
                "seconds": seconds,
                "rows_read": int(source["rows_out"].sum()),
                "batches": int(source["batches"].sum()),
                "late": int(metrics["late"].sum()),
                "rows_written": int(metrics["rows_out"].iloc[-1]),
            }
        )
    )


if __name__ == "__main__":
    main()
