"""Generate the benchmark events: timestamps, integer keys and a DOUBLE value.

Events arrive at a constant average rate, in event-time order except for a
small share that is held back. A held-back event arrives up to
``max_hold_back_ms`` after its own event time, behind newer events. The hold-back stays
below the watermark delay, so no event is late and every event counts.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

NS_PER_MS = 1_000_000
#: First event time of every generated stream (2024-01-01 00:00:00 UTC).
START_NS = pd.Timestamp("2024-01-01").value


@dataclass(frozen=True)
class Workload:
    """The shape of a generated event stream."""

    events: int = 2_000_000
    keys: int = 1_000
    span_ms: int = 3_600_000
    out_of_order_fraction: float = 0.01
    max_hold_back_ms: int = 3_000
    watermark_delay_ms: int = 5_000
    seed: int = 20240101

    def __post_init__(self) -> None:
        if self.max_hold_back_ms >= self.watermark_delay_ms:
            message = (
                f"max_hold_back_ms ({self.max_hold_back_ms}) must be below "
                f"watermark_delay_ms ({self.watermark_delay_ms}), or held-back events are late"
            )
            raise ValueError(message)

    @property
    def events_per_ms(self) -> float:
        return self.events / self.span_ms

    def describe(self) -> dict[str, object]:
        return asdict(self)


def generate_events(
    workload: Workload, rng: np.random.Generator, count: int, start_ns: int, span_ms: int
) -> pd.DataFrame:
    """Return ``count`` events with event times in ``[start_ns, start_ns + span_ms)``.

    Columns: ``ts`` (datetime64[ns] with millisecond values), ``k`` (int64 in
    ``[0, keys)``) and ``v`` (float64 in ``[0, 100)``), in arrival order.
    """
    offsets_ms = np.sort(rng.integers(0, span_ms, count, dtype=np.int64))
    event_ns = start_ns + offsets_ms * NS_PER_MS
    held_back = rng.random(count) < workload.out_of_order_fraction
    hold_back_ns = np.zeros(count, dtype=np.int64)
    hold_back_ns[held_back] = (
        rng.integers(1, workload.max_hold_back_ms + 1, int(held_back.sum()), dtype=np.int64)
        * NS_PER_MS
    )
    # An event held back by d arrives where an in-order event of time t + d would.
    arrival = np.argsort(event_ns + hold_back_ns, kind="stable")
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(event_ns[arrival], unit="ns"),
            "k": rng.integers(0, workload.keys, count, dtype=np.int64),
            "v": rng.random(count) * 100.0,
        }
    )


def make_frame(workload: Workload) -> pd.DataFrame:
    """Return the whole workload as one DataFrame in arrival order."""
    rng = np.random.default_rng(workload.seed)
    return generate_events(workload, rng, workload.events, START_NS, workload.span_ms)


def out_of_order_share(frame: pd.DataFrame) -> float:
    """Return the share of events older than some event that arrived before them."""
    event_ns = frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    if len(event_ns) < 2:
        return 0.0
    newest_before = np.maximum.accumulate(event_ns)[:-1]
    return float(np.mean(event_ns[1:] < newest_before))


PARQUET_SCHEMA = pa.schema([("ts", pa.timestamp("ms")), ("k", pa.int64()), ("v", pa.float64())])


def parquet_path(data_dir: Path, events: int) -> Path:
    return data_dir / f"events-{events}.parquet"


def ensure_parquet(
    workload: Workload, data_dir: Path, events: int, row_group_rows: int = 1_000_000
) -> Path:
    """Write ``events`` events to a Parquet file unless a complete one exists, and return its path.

    The events have the workload's average rate, so 10 times the events span
    10 times the event time. The file is written one row group at a time, so
    memory stays bounded by ``row_group_rows``. Events are held back only
    within their row group.
    """
    path = parquet_path(data_dir, events)
    if path.exists():
        try:
            if pq.ParquetFile(path).metadata.num_rows == events:
                return path
        except (pa.ArrowInvalid, OSError):
            pass
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".parquet.partial")
    rng = np.random.default_rng(workload.seed + events)
    written = 0
    with pq.ParquetWriter(partial, PARQUET_SCHEMA) as writer:
        while written < events:
            count = min(row_group_rows, events - written)
            start_ns = START_NS + round(written / workload.events_per_ms) * NS_PER_MS
            span_ms = max(1, round(count / workload.events_per_ms))
            frame = generate_events(workload, rng, count, start_ns, span_ms)
            table = pa.Table.from_pandas(frame, schema=PARQUET_SCHEMA, preserve_index=False)
            writer.write_table(table, row_group_size=row_group_rows)
            written += count
    os.replace(partial, path)
    return path
