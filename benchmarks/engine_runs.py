"""Run the benchmark queries on the workbench engine, and profile one run."""

from __future__ import annotations

import cProfile
import pstats
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pattern_workload import PatternWorkload
from workload import Workload

from workbench import Session
from workbench.results import QueryResult
from workbench.settings import SETTINGS

BATCH_ROWS_KEY = "workbench.replay.batch-rows"
DEFAULT_BATCH_ROWS = int(SETTINGS[BATCH_ROWS_KEY].default)

#: Packages whose functions the inclusive profile view charges separately.
#: streamz is there because operators call each other through its nodes.
ENGINE_PACKAGES = ("workbench/", "streamz/")
#: Built-ins that only resume engine code: ``next`` runs a reader's generator.
PASS_THROUGH = frozenset({"<built-in method builtins.next>"})

QUERY = """
SELECT window_start, window_end, k,
       COUNT(*) AS c, SUM(v) AS s, AVG(v) AS a, MAX(v) AS m
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, k
"""

#: The pattern-matching query, and its WITHIN interval in milliseconds.
PATTERN_WITHIN_MS = 60_000
PATTERN_QUERY = """
SELECT * FROM events MATCH_RECOGNIZE (
    PARTITION BY k
    ORDER BY ts
    MEASURES A.ts AS start_ts, C.ts AS end_ts, COUNT(B.*) AS b_rows
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (A B+ C) WITHIN INTERVAL '1' MINUTE
    DEFINE A AS kind = 'a', B AS kind = 'b', C AS kind = 'c'
)
"""


@dataclass
class EngineRun:
    output: pd.DataFrame
    metrics: pd.DataFrame


def run_engine(
    frame: pd.DataFrame,
    workload: Workload | PatternWorkload,
    batch_rows: int,
    query: str = QUERY,
) -> EngineRun:
    """Register ``frame``, run ``query`` to the end of the input and collect every result row."""
    session = Session(
        settings={BATCH_ROWS_KEY: str(batch_rows), "workbench.replay.progress": "false"}
    )
    session.from_pandas(
        "events",
        frame,
        rowtime="ts",
        watermark_delay=pd.Timedelta(milliseconds=workload.watermark_delay_ms),
    )
    result = session.sql(query)
    assert isinstance(result, QueryResult)
    output = result.to_pandas()
    return EngineRun(output, result.metrics())


def check_counters(metrics: pd.DataFrame, events: int, label: str) -> None:
    """Raise AssertionError unless the source read every event and no operator saw a late row."""
    source = metrics[metrics["operator"].str.startswith("source:")]
    read = int(source["rows_out"].sum())
    if read != events:
        message = f"{label}: the source read {read} rows of {events}"
        raise AssertionError(message)
    late = int(metrics["late"].sum())
    if late:
        message = f"{label}: {late} late rows; the workload must have none"
        raise AssertionError(message)


def output_latency(metrics: pd.DataFrame) -> dict[str, Any]:
    """Return the batch count and the latency percentiles (ms) of the query's last operator."""
    operators = metrics[~metrics["operator"].str.startswith("source:")]
    last = operators.iloc[-1]
    source = metrics[metrics["operator"].str.startswith("source:")]
    return {
        "operator": str(last["operator"]),
        "batches": int(source["batches"].sum()),
        "p50_ms": _float_or_none(last["latency_p50_ms"]),
        "p95_ms": _float_or_none(last["latency_p95_ms"]),
        "p99_ms": _float_or_none(last["latency_p99_ms"]),
    }


def _float_or_none(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


# Profile -------------------------------------------------------------------------------


def profile_engine(
    frame: pd.DataFrame,
    workload: Workload | PatternWorkload,
    batch_rows: int,
    top: int = 15,
    query: str = QUERY,
) -> dict[str, Any]:
    """Profile one engine run with cProfile and return its hot spots.

    ``by_self_time`` ranks every function by the time spent in its own code.
    ``engine_by_inclusive_time`` ranks engine functions (workbench,
    streamz, and ``next`` resuming a generator) by their cumulative time minus the cumulative time of the engine
    functions they call, so a function is charged for the pandas, numpy and
    pyarrow code it calls directly. Shares are of the total profiled time. cProfile adds a cost to
    every Python call, so it inflates pure-Python steps against vectorized ones.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    run_engine(frame, workload, batch_rows, query)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = float(stats.total_tt)  # type: ignore[attr-defined]
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    labels = {function: _function_label(function) for function in raw}
    engine = {
        function
        for function, label in labels.items()
        if label.startswith(ENGINE_PACKAGES) or label in PASS_THROUGH
    }
    # Charge each engine function with its cumulative time, less the time of
    # the engine functions it calls (taken from the callee's callers table).
    inclusive = {function: float(raw[function][3]) for function in engine}
    for callee in engine:
        for caller, (_, _, _, cumulative) in raw[callee][4].items():
            if caller in engine and caller != callee:
                inclusive[caller] -= float(cumulative)
    entries = [
        (labels[function], float(self_time), float(cumulative), inclusive.get(function))
        for function, (_, _, self_time, cumulative, _) in raw.items()
    ]
    by_self = sorted(entries, key=lambda entry: entry[1], reverse=True)[:top]
    engine_entries = [
        entry for entry in entries if entry[3] is not None and entry[0] not in PASS_THROUGH
    ]
    by_inclusive = sorted(engine_entries, key=lambda entry: entry[3] or 0.0, reverse=True)[:top]
    return {
        "batch_rows": batch_rows,
        "events": len(frame),
        "total_seconds": total,
        "by_self_time": [_profile_row(entry, total) for entry in by_self],
        "engine_by_inclusive_time": [_profile_row(entry, total) for entry in by_inclusive],
    }


def _profile_row(entry: tuple[str, float, float, float | None], total: float) -> dict[str, Any]:
    label, self_time, cumulative, inclusive = entry
    return {
        "function": label,
        "self_seconds": self_time,
        "self_share": self_time / total,
        "cumulative_seconds": cumulative,
        "cumulative_share": cumulative / total,
        "inclusive_seconds": inclusive,
        "inclusive_share": None if inclusive is None else inclusive / total,
    }


def _function_label(function: tuple[str, int, str]) -> str:
    """Return ``package/module.py:line(name)``, with the path from the package root."""
    filename, line, name = function
    if filename == "~":
        return name
    parts = Path(filename).parts
    for root in ("workbench", "pandas", "numpy", "streamz", "pyarrow", "tornado"):
        if root in parts:
            index = len(parts) - 1 - parts[::-1].index(root)
            filename = "/".join(parts[index:])
            break
    else:
        filename = Path(filename).name
    return f"{filename}:{line}({name})"
