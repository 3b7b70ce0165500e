"""Baselines for the TUMBLE(1 minute) query: pandas, DuckDB SQL, per-event streamz, a Python loop.

Each returns one row per (window, key) in the columns of ``verify.COLUMNS``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from streamz import Stream

NS_PER_MS = 1_000_000
WINDOW_NS = 60_000_000_000


def pandas_window_aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """Group ``frame`` by the minute of ``ts`` and by ``k`` in one vectorized pass."""
    window_start = frame["ts"].dt.floor("1min").rename("window_start")
    grouped = frame.groupby([window_start, frame["k"]], sort=False)["v"]
    result = grouped.agg(["count", "sum", "mean", "max"]).reset_index()
    return result.rename(columns={"count": "c", "sum": "s", "mean": "a", "max": "m"})


DUCKDB_QUERY = """
SELECT time_bucket(INTERVAL '1 minute', ts) AS window_start, k,
       count(*) AS c, sum(v) AS s, avg(v) AS a, max(v) AS m
FROM events
GROUP BY ALL
"""


def duckdb_window_aggregate(frame: pd.DataFrame, threads: int | None = None) -> pd.DataFrame:
    """Register ``frame`` in a new in-memory DuckDB and run the query there.

    ``threads`` limits DuckDB's worker threads; by default it uses every core.
    """
    config: dict[str, str | bool | int | float | list[str]] = (
        {} if threads is None else {"threads": threads}
    )
    with duckdb.connect(":memory:", config=config) as connection:
        connection.register("events", frame)
        return connection.execute(DUCKDB_QUERY).df()


# Per-event streamz ------------------------------------------------------------------

#: Sent after the last event: the watermark jumps to +infinity and every window fires.
END_OF_INPUT = None
_NOTHING: tuple[Any, ...] = ()


class PerEventWindowAggregate:
    """TUMBLE window COUNT, SUM, AVG and MAX per key, updated one event at a time.

    The watermark after an event is the largest event time so far minus
    ``delay_ns``. A window ``[start, end)`` fires when the watermark reaches
    ``end - precision_ns``, as in the engine. Open windows sit in a dict of
    per-key accumulators ``[count, sum, max]``, and their ends in a heap, so
    each event costs O(1) plus O(rows fired).
    """

    def __init__(self, delay_ns: int, size_ns: int = WINDOW_NS, precision_ns: int = NS_PER_MS):
        self.delay_ns = delay_ns
        self.size_ns = size_ns
        self.precision_ns = precision_ns
        self.windows: dict[int, dict[int, list[float]]] = {}
        self.ends: list[int] = []
        self.max_event_ns: int | None = None
        self.late = 0

    def on_event(self, event: tuple[int, int, float] | None) -> Iterable[tuple[Any, ...]]:
        """Add one event ``(ts_ns, key, value)`` and return the rows of the windows it fires."""
        if event is END_OF_INPUT:
            return self._fire(None)
        event_ns, key, value = event
        if self.max_event_ns is None or event_ns > self.max_event_ns:
            self.max_event_ns = event_ns
        watermark = self.max_event_ns - self.delay_ns
        start = event_ns - event_ns % self.size_ns
        if start + self.size_ns - self.precision_ns <= watermark:
            self.late += 1
        else:
            window = self.windows.get(start)
            if window is None:
                window = self.windows[start] = {}
                heapq.heappush(self.ends, start + self.size_ns)
            accumulator = window.get(key)
            if accumulator is None:
                window[key] = [1, value, value]
            else:
                accumulator[0] += 1
                accumulator[1] += value
                # A comparison costs less than a call to max() per event.
                if value > accumulator[2]:  # noqa: PLR1730
                    accumulator[2] = value
        if self.ends and self.ends[0] - self.precision_ns <= watermark:
            return self._fire(watermark)
        return _NOTHING

    def _fire(self, watermark: int | None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        ends = self.ends
        while ends and (watermark is None or ends[0] - self.precision_ns <= watermark):
            start = heapq.heappop(ends) - self.size_ns
            for key, (count, total, maximum) in self.windows.pop(start).items():
                rows.append((start, key, count, total, total / count, maximum))
        return rows


def event_tuples(frame: pd.DataFrame) -> list[tuple[int, int, float]]:
    """Return the events of ``frame`` as ``(ts_ns, key, value)`` tuples of Python scalars."""
    event_ns = frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64).tolist()
    keys = frame["k"].to_numpy(dtype=np.int64).tolist()
    values = frame["v"].to_numpy(dtype=np.float64).tolist()
    return list(zip(event_ns, keys, values, strict=True))


def loop_window_aggregate(events: list[tuple[int, int, float]], delay_ns: int) -> pd.DataFrame:
    """Run the per-event aggregate in a plain Python loop, to show what streamz adds."""
    aggregate = PerEventWindowAggregate(delay_ns)
    rows: list[tuple[Any, ...]] = []
    on_event = aggregate.on_event
    for event in events:
        fired = on_event(event)
        if fired:
            rows.extend(fired)
    rows.extend(on_event(END_OF_INPUT))
    return pd.DataFrame(rows, columns=["window_start", "k", "c", "s", "a", "m"])


def streamz_window_aggregate(events: list[tuple[int, int, float]], delay_ns: int) -> pd.DataFrame:
    """Run the events through ``map -> flatten -> sink``, one ``Stream.emit`` per event."""
    aggregate = PerEventWindowAggregate(delay_ns)
    rows: list[tuple[Any, ...]] = []
    source = Stream()
    source.map(aggregate.on_event).flatten().sink(rows.append)
    emit = source.emit
    for event in events:
        emit(event)
    emit(END_OF_INPUT)
    if aggregate.late:
        message = f"per-event streamz: {aggregate.late} late events; the workload must have none"
        raise AssertionError(message)
    return pd.DataFrame(rows, columns=["window_start", "k", "c", "s", "a", "m"])
