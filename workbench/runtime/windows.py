"""Window assignment for TUMBLE, HOP and CUMULATE, vectorized over a batch.

Windows are half-open intervals [start, end) of event time in int64
nanoseconds. Alignment follows Flink: a window starts at a multiple of its
size (or slide, or maximum size) shifted by the offset, counted from the epoch.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.time import MAX_WATERMARK, floor_ns, to_ns
from workbench.events.types import DataType, TypeKind
from workbench.sql.plan import WindowSpec


def assign(spec: WindowSpec, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (row, start, end) arrays: one entry per (row, window) pair.

    ``row`` indexes into ``timestamps``; pairs of one row are consecutive and
    ordered by window end.
    """
    if spec.kind == "TUMBLE":
        return _tumble(spec, timestamps)
    if spec.kind == "HOP":
        return _hop(spec, timestamps)
    if spec.kind == "CUMULATE":
        return _cumulate(spec, timestamps)
    raise ValueError(f"{spec.kind} windows are assigned per key by the session operator")


def _aligned_start(timestamps: np.ndarray, size: int, offset: int) -> np.ndarray:
    return floor_ns(timestamps, size, offset)


def _tumble(spec: WindowSpec, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    start = _aligned_start(timestamps, spec.size_ns, spec.offset_ns)
    rows = np.arange(len(timestamps), dtype=np.int64)
    return rows, start, start + spec.size_ns


def _hop(spec: WindowSpec, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = spec.size_ns // spec.slide_ns
    last_start = _aligned_start(timestamps, spec.slide_ns, spec.offset_ns)
    rows = np.repeat(np.arange(len(timestamps), dtype=np.int64), count)
    # For each row, windows from the earliest start (count - 1 slides back) to the latest.
    back = np.tile(np.arange(count - 1, -1, -1, dtype=np.int64), len(timestamps))
    start = last_start[rows] - back * spec.slide_ns
    return rows, start, start + spec.size_ns


def _cumulate(
    spec: WindowSpec, timestamps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps = spec.size_ns // spec.step_ns
    start = _aligned_start(timestamps, spec.size_ns, spec.offset_ns)
    # The first cumulative window that contains a row ends after it.
    first_step = (timestamps - start) // spec.step_ns + 1
    counts = steps - first_step + 1
    rows = np.repeat(np.arange(len(timestamps), dtype=np.int64), counts)
    # Position of each pair within its row's run of windows.
    run_starts = np.repeat(np.cumsum(counts) - counts, counts)
    within = np.arange(len(rows), dtype=np.int64) - run_starts
    end = start[rows] + (first_step[rows] + within) * spec.step_ns
    return rows, start[rows], end


def emission_watermarks(
    thresholds: np.ndarray, row_watermarks: np.ndarray, previous: int
) -> np.ndarray:
    """Return, per output row, the watermark in force just before its window fired.

    In per-row terms, a window's result is emitted right after the row whose
    watermark reached the window's threshold, so downstream sees it under the
    largest watermark below that threshold. ``row_watermarks`` are the batch's
    (non-decreasing) per-row watermarks and ``previous`` the watermark before it.
    """
    if len(row_watermarks) == 0:
        return np.full(len(thresholds), previous, dtype=np.int64)
    positions = np.searchsorted(row_watermarks, thresholds, side="left")
    below = np.where(positions > 0, row_watermarks[np.maximum(positions - 1, 0)], previous)
    return np.maximum(below, previous).astype(np.int64)


def window_bound(values: np.ndarray, kind: DataType) -> pd.Series:
    """Return window bounds (int64 ns) as a timestamp column of the time column's type."""
    series = pd.Series(values.astype(np.int64).view("datetime64[ns]"))
    if kind.kind is TypeKind.TIMESTAMP_LTZ:
        return series.dt.tz_localize("UTC")
    return series


def processing_time_batch(batch: Batch, spec: WindowSpec, now_ns: int | None = None) -> Batch:
    """Give a batch the watermarks of processing time when ``spec`` windows a PROCTIME column.

    A row's processing time is when it arrived, so no row is late (each row's
    watermark is just below its own time), and windows fire by the wall clock.
    ``now_ns`` is the current processing time (ns since the epoch), by default
    ``time.time_ns()``.
    """
    if not spec.processing_time:
        return batch
    times = to_ns(batch.data[spec.time_column]) if len(batch) else np.empty(0, dtype=np.int64)
    now = time.time_ns() if now_ns is None else now_ns
    watermark = MAX_WATERMARK if batch.final else max(now, int(times.max()) if len(times) else now)
    return Batch(batch.data, times - 1, watermark, batch.ingest_ns, batch.final, batch.row_kinds)


class WindowClock:
    """The wall clock windows align to.

    Windows over a TIMESTAMP_LTZ attribute align to the session time zone
    (a one-day window starts at local midnight, as in Flink): event times are
    instants, and window bounds are local wall-clock times. ``zone`` None
    means windows align to the timestamps as stored.
    """

    def __init__(self, zone: str | None) -> None:
        self.zone = None if zone in (None, "UTC", "Etc/UTC") else zone

    def local(self, instants: np.ndarray) -> np.ndarray:
        """Return the local wall-clock time (ns) of each instant (ns since the epoch, UTC)."""
        if self.zone is None:
            return instants
        index = pd.DatetimeIndex(instants.view("datetime64[ns]"), tz="UTC").tz_convert(self.zone)
        return np.asarray(index.tz_localize(None).asi8, dtype=np.int64)

    def instants(self, local: np.ndarray) -> np.ndarray:
        """Return the instant of each local wall-clock time.

        A time skipped by a daylight-saving change moves forward to the first
        valid instant; a time that occurs twice takes the later occurrence, so
        a window never closes early.
        """
        if self.zone is None:
            return local
        index = pd.DatetimeIndex(local.view("datetime64[ns]"))
        located = index.tz_localize(
            self.zone, ambiguous=np.zeros(len(index), dtype=bool), nonexistent="shift_forward"
        )
        return np.asarray(located.tz_convert("UTC").asi8, dtype=np.int64)

    def instant(self, local: int) -> int:
        return int(self.instants(np.array([local], dtype=np.int64))[0])
