"""Window aggregation for TUMBLE, HOP and CUMULATE windows (and pre-windowed input).

A row counts in each of its windows that has not fired when the row
arrives (judged by the row's own watermark); a row that counts in none of
its windows is late and goes to the late-rows output. Windows fire, in order
of their end, once the watermark reaches ``window_end - precision``.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK, to_ns
from workbench.runtime.aggregate_state import AggregateState, group_keys, key_columns
from workbench.runtime.operator import Operator
from workbench.runtime.windows import (
    assign,
    emission_watermarks,
    processing_time_batch,
    window_bound,
)
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.plan import WindowAggregate


class WindowAggregateOperator(Operator):
    def __init__(
        self,
        name: str,
        node: WindowAggregate,
        input_schema: Schema,
        user_aggregates: dict[str, UserAggregateDef] | None = None,
    ) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.input_schema = input_schema
        self.precision = node.window.precision_ns if node.window else node.precision_ns
        self.key_sets: list[tuple[str, ...]] = (
            list(node.grouping_sets) if node.grouping_sets is not None else [node.keys]
        )
        self.states = [
            AggregateState(node.aggregates, input_schema, user_aggregates) for _ in self.key_sets
        ]
        # Open windows: (start, end) -> slots created in it, per grouping set, in creation order.
        self.open: dict[tuple[int, int], list[list[int]]] = {}
        self.ends: list[tuple[int, int]] = []
        self.watermark = MIN_WATERMARK
        self.sequence = 0
        self.time_type = self._time_type()

    def _time_type(self) -> Any:
        if self.node.window is not None:
            column = self.input_schema.find(self.node.window.time_column)
        else:
            column = self.input_schema.find(self.node.window_end_column)
        assert column is not None
        return column.type.plain()

    def describe(self) -> str:
        return self.node.label()

    # Processing ----------------------------------------------------------------------

    def process(self, batch: Batch, port: int) -> list[Batch]:
        if self.node.window is not None:
            batch = processing_time_batch(batch, self.node.window)
        if len(batch):
            self._accumulate(batch)
        watermark = MAX_WATERMARK if batch.final else batch.watermark
        output = self._fire(watermark, batch)
        self.watermark = max(self.watermark, batch.watermark)
        return [output]

    def _windows_of(self, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = batch.data
        if self.node.window is not None:
            timestamps = to_ns(data[self.node.window.time_column])
            return assign(self.node.window, timestamps)
        start = to_ns(data[self.node.window_start_column])
        end = to_ns(data[self.node.window_end_column])
        return np.arange(len(data), dtype=np.int64), start, end

    def _accumulate(self, batch: Batch) -> None:
        rows, start, end = self._windows_of(batch)
        counted = end - self.precision > batch.row_watermarks[rows]
        self._report_late(batch, rows, counted)
        if not counted.any():
            return
        rows, start, end = rows[counted], start[counted], end[counted]
        sequence = self.sequence + rows
        self.sequence += len(batch)
        needed = self.states[0].needed_columns
        frame = (
            batch.data[needed].take(rows).reset_index(drop=True)
            if needed
            else pd.DataFrame(index=range(len(rows)))
        )
        # TUMBLE and HOP windows are identified by their start; CUMULATE windows
        # share starts, so their end is part of the key too.
        by_start = self.node.window is not None and self.node.window.kind in ("TUMBLE", "HOP")
        bounds = [start] if by_start else [start, end]
        width = self.node.window.size_ns if by_start and self.node.window else 0
        for set_index, keys in enumerate(self.key_sets):
            key_data = [
                *bounds,
                *(batch.data[key].take(rows).reset_index(drop=True) for key in keys),
            ]
            codes, group_tuples = group_keys(key_data)
            if by_start:
                group_tuples = [(key[0], int(key[0]) + width, *key[1:]) for key in group_tuples]  # type: ignore[call-overload]
            state = self.states[set_index]
            slots, created = state.slots_for(group_tuples)
            for position in np.flatnonzero(created).tolist():
                key = group_tuples[position]
                self._open_window((key[0], key[1]))[set_index].append(int(slots[position]))  # type: ignore[arg-type]
            state.update(slots[codes], frame, sequence)

    def _open_window(self, window: tuple[int, int]) -> list[list[int]]:
        lists = self.open.get(window)
        if lists is None:
            lists = self.open[window] = [[] for _ in self.key_sets]
            heapq.heappush(self.ends, (window[1], window[0]))
        return lists

    def _report_late(self, batch: Batch, rows: np.ndarray, counted: np.ndarray) -> None:
        if counted.all():
            return
        counted_rows = np.zeros(len(batch), dtype=bool)
        counted_rows[rows[counted]] = True
        late = np.flatnonzero(~counted_rows)
        if len(late):
            self.emit_late(
                batch.data.iloc[late],
                batch.row_watermarks[late],
                "every window of the row had already fired",
            )

    # Firing --------------------------------------------------------------------------

    def _fire(self, watermark: int, batch: Batch) -> Batch:
        fired: list[tuple[int, int]] = []
        while self.ends and self.ends[0][0] - self.precision <= watermark:
            end, start = heapq.heappop(self.ends)
            fired.append((start, end))
        if not fired:
            return Batch.empty(
                self.output_schema.empty_frame(),
                watermark=batch.watermark,
                ingest_ns=batch.ingest_ns,
                final=batch.final,
            )
        # Gather every fired window's slots per grouping set, in firing order,
        # so each set's rows are built with one vectorized pass.
        per_set: list[list[int]] = [[] for _ in self.key_sets]
        set_thresholds: list[list[int]] = [[] for _ in self.key_sets]
        set_order: list[list[int]] = [[] for _ in self.key_sets]
        for position, (start, end) in enumerate(fired):
            for set_index, slots in enumerate(self.open.pop((start, end))):
                per_set[set_index].extend(slots)
                set_thresholds[set_index].extend([end - self.precision] * len(slots))
                set_order[set_index].extend([position] * len(slots))
        frames = []
        thresholds = []
        orders = []
        for set_index, slots in enumerate(per_set):
            if slots:
                frames.append(self._window_rows(set_index, np.asarray(slots, dtype=np.int64)))
                thresholds.append(np.asarray(set_thresholds[set_index], dtype=np.int64))
                orders.append(np.asarray(set_order[set_index], dtype=np.int64))
        if not frames:
            return Batch.empty(
                self.output_schema.empty_frame(),
                watermark=batch.watermark,
                ingest_ns=batch.ingest_ns,
                final=batch.final,
            )
        if len(frames) > 1:
            # Rows of several grouping sets: order by window, then by set.
            order = np.argsort(np.concatenate(orders), kind="stable")
            frames = [pd.concat(frames, ignore_index=True).iloc[order].reset_index(drop=True)]
            thresholds = [np.concatenate(thresholds)[order]]
        data = pd.concat(frames, ignore_index=True)[self.output_schema.names]
        threshold = np.concatenate(thresholds)
        row_watermarks = emission_watermarks(threshold, batch.row_watermarks, self.watermark)
        return Batch(data, row_watermarks, batch.watermark, batch.ingest_ns, batch.final)

    def _window_rows(self, set_index: int, slots: np.ndarray) -> pd.DataFrame:
        state = self.states[set_index]
        keys = [state.table.keys[slot] for slot in slots]
        assert all(key is not None for key in keys)
        key_tuples: list[Any] = keys
        start = np.fromiter((key[0] for key in key_tuples), dtype=np.int64, count=len(slots))
        end = np.fromiter((key[1] for key in key_tuples), dtype=np.int64, count=len(slots))
        columns: dict[str, pd.Series] = {}
        present = key_columns(key_tuples, 2, self.key_sets[set_index], self.input_schema)
        for key in self.node.keys:
            if key in present:
                columns[key] = present[key]
            else:
                column = self.input_schema.find(key)
                assert column is not None
                columns[key] = pd.Series([None] * len(slots), dtype=column.type.pandas_dtype())
        columns["window_start"] = window_bound(start, self.time_type)
        columns["window_end"] = window_bound(end, self.time_type)
        columns["window_time"] = window_bound(end - self.precision, self.time_type)
        columns.update(state.results(slots))
        state.release(slots.tolist())
        return pd.DataFrame(columns)

    # State ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        state.update(
            {
                "states": [aggregate.snapshot() for aggregate in self.states],
                "open": {
                    window: [list(slots) for slots in lists] for window, lists in self.open.items()
                },
                "watermark": self.watermark,
                "sequence": self.sequence,
            }
        )
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        for aggregate, saved in zip(self.states, state["states"], strict=True):
            aggregate.restore(saved)
        self.open = {
            tuple(window): [list(slots) for slots in lists]
            for window, lists in state["open"].items()
        }
        self.ends = [(end, start) for start, end in self.open]
        heapq.heapify(self.ends)
        self.watermark = state["watermark"]
        self.sequence = state["sequence"]
