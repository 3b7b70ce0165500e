"""Window Top-N: rank the rows of each window once it fires, keep the top ranks."""

from __future__ import annotations

import heapq
from typing import Any, cast

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK, to_ns
from workbench.events.types import DataType
from workbench.runtime.operator import Operator
from workbench.runtime.slots import factorize_rows
from workbench.runtime.windows import (
    WindowClock,
    assign,
    emission_watermarks,
    processing_time_batch,
    window_bound,
)
from workbench.sql.plan import SortKey, WindowRank


class WindowRankOperator(Operator):
    """Buffer rows per window; when the window fires, rank and filter them.

    Ties in ROW_NUMBER keep arrival order, so results are deterministic.
    """

    def __init__(
        self, name: str, node: WindowRank, input_schema: Schema, zone: str | None = None
    ) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.input_schema = input_schema
        self.clock = WindowClock(zone)
        self.precision = node.window.precision_ns if node.window else node.precision_ns
        self.buffers: dict[tuple[int, int], list[pd.DataFrame]] = {}
        # Heap of (end instant, start, end): windows fire in order of their end instant.
        self.ends: list[tuple[int, int, int]] = []
        self.watermark = MIN_WATERMARK
        self.sequence = 0
        if node.window is not None:
            self.bound_type = _plain_type(node.schema, "window_start")
            self.time_type = _plain_type(node.schema, "window_time")

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        if self.node.window is not None:
            batch = processing_time_batch(batch, self.node.window)
        if len(batch):
            self._buffer(batch)
        output = self._fire(MAX_WATERMARK if batch.final else batch.watermark, batch)
        self.watermark = max(self.watermark, batch.watermark)
        return [output]

    def _buffer(self, batch: Batch) -> None:
        data = batch.data
        if self.node.window is not None:
            local = self.clock.local(to_ns(data[self.node.window.time_column]))
            rows, start, end = assign(self.node.window, local)
            data = data.take(rows).reset_index(drop=True)
            data["window_start"] = window_bound(start, self.bound_type)
            data["window_end"] = window_bound(end, self.bound_type)
            closes = self.clock.instants(end) - self.precision
            data["window_time"] = window_bound(closes, self.time_type)
        else:
            rows = np.arange(len(data), dtype=np.int64)
            start = to_ns(data[self.node.window_start_column])
            end = to_ns(data[self.node.window_end_column])
        counted = self.clock.instants(end) - self.precision > batch.row_watermarks[rows]
        seen = np.zeros(len(batch), dtype=bool)
        seen[rows[counted]] = True
        late = np.flatnonzero(~seen)
        if len(late):
            self.emit_late(
                batch.data.iloc[late],
                batch.row_watermarks[late],
                "the row's window had already fired",
            )
        data = data[counted].reset_index(drop=True)
        data["__sequence"] = self.sequence + rows[counted]
        self.sequence += len(batch)
        start, end = start[counted], end[counted]
        windows = pd.DataFrame({"start": start, "end": end})
        for window_key, positions in windows.groupby(["start", "end"], sort=False).indices.items():
            bounds = cast(tuple[int, int], window_key)
            window = (int(bounds[0]), int(bounds[1]))
            if window not in self.buffers:
                self.buffers[window] = []
                heapq.heappush(self.ends, (self.clock.instant(window[1]), window[0], window[1]))
            self.buffers[window].append(data.iloc[positions])

    def _fire(self, watermark: int, batch: Batch) -> Batch:
        parts: list[pd.DataFrame] = []
        thresholds: list[int] = []
        while self.ends and self.ends[0][0] - self.precision <= watermark:
            instant, start, end = heapq.heappop(self.ends)
            frame = pd.concat(self.buffers.pop((start, end)), ignore_index=True)
            parts.append(frame.assign(__window=len(thresholds)))
            thresholds.append(instant - self.precision)
        if not parts:
            return Batch.empty(
                self.output_schema.empty_frame(), batch.watermark, batch.ingest_ns, batch.final
            )
        # Rank every fired window in one pass: the window is part of the partition.
        ranked = self._rank(pd.concat(parts, ignore_index=True))
        threshold = np.asarray(thresholds, dtype=np.int64)[ranked["__window"].to_numpy()]
        data = ranked[self.output_schema.names]
        row_watermarks = emission_watermarks(threshold, batch.row_watermarks, self.watermark)
        return Batch(data, row_watermarks, batch.watermark, batch.ingest_ns, batch.final)

    def _rank(self, frame: pd.DataFrame) -> pd.DataFrame:
        node = self.node
        partition = ("__window", *node.partition_keys)
        ordered = _sort(frame, partition, node.order)
        ranks = _ranks(ordered, partition, [key.column for key in node.order], node.function)
        keep = ranks >= node.min_rank
        if node.max_rank is not None:
            keep &= ranks <= node.max_rank
        result = ordered[keep].reset_index(drop=True)
        if node.rank_column is not None:
            result[node.rank_column] = pd.Series(ranks[keep], dtype="Int64")
        return result.drop(columns="__sequence")

    def snapshot(self) -> dict[str, Any]:
        return {
            "buffers": {k: [f.copy() for f in v] for k, v in self.buffers.items()},
            "watermark": self.watermark,
            "sequence": self.sequence,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.buffers = {tuple(k): list(v) for k, v in state["buffers"].items()}
        self.ends = [(self.clock.instant(end), start, end) for start, end in self.buffers]
        heapq.heapify(self.ends)
        self.watermark = state["watermark"]
        self.sequence = state["sequence"]


def _sort(
    frame: pd.DataFrame, partition: tuple[str, ...], order: tuple[SortKey, ...]
) -> pd.DataFrame:
    """Sort by partition, then the order keys (with their NULL placement), then arrival."""
    working = frame.copy()
    by: list[str] = []
    ascending: list[bool] = []
    if partition:
        # Partitions only need to be contiguous: number them by first appearance.
        working["__p"], _ = factorize_rows([working[key] for key in partition])
        by.append("__p")
        ascending.append(True)
    for index, key in enumerate(order):
        null_name, value_name = f"__n{index}", f"__o{index}"
        nulls = working[key.column].isna()
        # Sorting on a NULL flag first places NULLs before or after the values.
        working[null_name] = ~nulls if key.nulls_first else nulls
        working[value_name] = working[key.column]
        by.extend([null_name, value_name])
        ascending.extend([True, key.ascending])
    by.append("__sequence")
    ascending.append(True)
    ordered = working.sort_values(by=by, ascending=ascending, kind="stable", na_position="last")
    helper = [name for name in ordered.columns if name.startswith(("__p", "__n", "__o"))]
    return ordered.drop(columns=helper).reset_index(drop=True)


def _ranks(
    frame: pd.DataFrame, partition: tuple[str, ...], order: list[str], function: str
) -> np.ndarray:
    count = len(frame)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    new_partition = np.zeros(count, dtype=bool)
    new_partition[0] = True
    for key in partition:
        new_partition[1:] |= _differs(frame[key])
    changed = new_partition.copy()
    for key in order:
        changed[1:] |= _differs(frame[key])
    group_start = np.maximum.accumulate(np.where(new_partition, np.arange(count), 0))
    position = np.arange(count) - group_start + 1
    if function == "ROW_NUMBER":
        return position
    if function == "RANK":
        first_of_tie = np.maximum.accumulate(np.where(changed, np.arange(count), 0))
        return first_of_tie - group_start + 1
    # DENSE_RANK: count the changes of order value since the partition started.
    steps = np.cumsum(changed)
    return steps - steps[group_start] + 1


def _differs(column: pd.Series) -> np.ndarray:
    """Return, for rows 1..n-1, whether the value differs from the row before (NULL equals NULL)."""
    values = column.to_numpy(dtype=object)
    nulls = column.isna().to_numpy(dtype=bool)
    previous_nulls, current_nulls = nulls[:-1], nulls[1:]
    both_values = ~previous_nulls & ~current_nulls
    different = np.zeros(len(values) - 1, dtype=bool)
    different[both_values] = values[:-1][both_values] != values[1:][both_values]
    different |= previous_nulls != current_nulls
    return different


def _plain_type(schema: Schema, name: str) -> DataType:
    column = schema.find(name)
    assert column is not None
    return column.type.plain()
