"""Window aggregation for TUMBLE, HOP and CUMULATE windows (and pre-windowed input).

A row counts in each of its windows that has not fired when the row
arrives (judged by the row's own watermark); a row that counts in none of
its windows is late and goes to the late-rows output. Windows fire, in order
of their end, once the watermark reaches ``window_end - precision``. Within
a window, result rows come in the order their keys first appeared in the
stream.

With early firing (:class:`EarlyFire`), the operator also emits provisional
results of its open windows: each time the watermark passes a multiple of
an event-time interval (a processing-time interval for windows over
PROCTIME()), or after every N input rows (see
:mod:`workbench.runtime.early_fire`).
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import (
    MAX_WATERMARK,
    MIN_WATERMARK,
    NS_PER_DAY,
    format_timestamp,
    to_ns,
)
from workbench.events.types import DataType
from workbench.runtime import kernels
from workbench.runtime.aggregate_state import AggregateState
from workbench.runtime.early_fire import (
    EarlyFire,
    EarlyFiring,
    ProcessingTimeDelay,
)
from workbench.runtime.groups import GroupDictionary, SlotPool, WindowGroups, find_window_slots
from workbench.runtime.operator import Operator
from workbench.runtime.slots import factorize_rows
from workbench.runtime.windows import (
    WindowClock,
    assign,
    emission_watermarks,
    processing_time_batch,
    window_bound,
)
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.plan import WindowAggregate


class _KeySet:
    """The state of one grouping set: key ids, aggregate slots, open windows' groups."""

    def __init__(self, keys: tuple[str, ...], state: AggregateState, input_schema: Schema) -> None:
        self.keys = keys
        self.state = state
        self.pool = SlotPool(state.grow)
        kinds = []
        for key in keys:
            column = input_schema.find(key)
            assert column is not None
            kinds.append(column.type)
        self.kinds = kinds
        self.dictionary = GroupDictionary(kinds) if keys else None

    def key_ids(self, data: pd.DataFrame, rows: np.ndarray, identity: bool) -> np.ndarray:
        if self.dictionary is None:
            return np.zeros(len(rows), dtype=np.int64)
        columns = [data[key] if identity else data[key].take(rows) for key in self.keys]
        return self.dictionary.ids([column.reset_index(drop=True) for column in columns])


class WindowAggregateOperator(EarlyFiring, Operator):
    def __init__(
        self,
        name: str,
        node: WindowAggregate,
        input_schema: Schema,
        user_aggregates: dict[str, UserAggregateDef] | None = None,
        zone: str | None = None,
    ) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.input_schema = input_schema
        self.clock = WindowClock(zone)
        self.precision = node.window.precision_ns if node.window else node.precision_ns
        key_sets = list(node.grouping_sets) if node.grouping_sets is not None else [node.keys]
        self.sets = [
            _KeySet(
                keys,
                AggregateState(node.aggregates, input_schema, user_aggregates, keyed=False),
                input_schema,
            )
            for keys in key_sets
        ]
        # Open windows: (start, end) -> the groups of each grouping set in that window.
        self.open: dict[tuple[int, int], list[WindowGroups]] = {}
        # Heap of (end instant, start, end): windows fire in order of their end instant.
        self.ends: list[tuple[int, int, int]] = []
        self.watermark = MIN_WATERMARK
        self.sequence = 0
        self.bound_type = _column_type(node.schema, "window_start")
        self.time_type = _column_type(node.schema, "window_time")
        self.needed = self.sets[0].state.needed_columns
        # The aggregate column each output column reads, by position.
        self.output_sources = list(node.schema.names)
        self.early: EarlyFire | None = None
        # Slots per grouping set that received rows since the last early result.
        self._dirty: list[set[int]] = [set() for _ in self.sets]
        # The processing-time clock (ns since the epoch) of windows over PROCTIME().
        self.now_ns: Callable[[], int] = time.time_ns
        self._delay: ProcessingTimeDelay | None = None

    def describe(self) -> str:
        return self.node.label()

    def project_output(self, schema: Schema, sources: list[str]) -> None:
        """Emit ``schema``'s columns, each read from the aggregate column named in ``sources``."""
        self.output_schema = schema
        self.output_sources = sources

    # Processing ----------------------------------------------------------------------

    def process(self, batch: Batch, port: int) -> list[Batch]:
        processing_time = self.node.window is not None and self.node.window.processing_time
        now = self.now_ns() if processing_time else 0
        if self.node.window is not None:
            batch = processing_time_batch(batch, self.node.window, now)
            batch = self._without_unplaceable(batch)
        early = self.early
        if early is None or not early.enabled or batch.final:
            return [self._advance(batch)]
        return self._with_early_results(batch, early, processing_time=processing_time, now_ns=now)

    def _without_unplaceable(self, batch: Batch) -> Batch:
        """Reject the rows that have a window with bounds outside the timestamp range.

        Timestamps are int64 nanoseconds, from 1677-09-21 to 2262-04-11. Only
        rows within two window sizes of either end are checked one by one.
        """
        spec = self.node.window
        if spec is None or not len(batch):
            return batch
        margin = 2 * spec.size_ns + abs(spec.offset_ns) + (NS_PER_DAY if self.clock.zone else 0)
        low = min(MIN_WATERMARK + margin, MAX_WATERMARK)
        high = max(MAX_WATERMARK - margin, MIN_WATERMARK)
        times = to_ns(batch.data[spec.time_column])
        if int(times.min()) >= low and int(times.max()) <= high:
            return batch
        near = np.flatnonzero((times < low) | (times > high))
        outside = np.zeros(len(times), dtype=bool)
        for position in near.tolist():
            time_ns = int(times[position])
            if self._placeable(time_ns):
                continue
            outside[position] = True
            reason = (
                f"event time {format_timestamp(time_ns)} has a window that starts or ends "
                "outside the timestamp range (1677-09-21 to 2262-04-11)"
            )
            self.rejected.add(reason, repr(batch.data.iloc[position].to_dict()))
        if not outside.any():
            return batch
        self.metrics.rejected += int(outside.sum())
        return batch.take(~outside)

    def _placeable(self, time_ns: int) -> bool:
        """Return whether every window of a row at ``time_ns`` has representable bounds."""
        spec = self.node.window
        assert spec is not None
        # In a session time zone, local time is within a day of the instant.
        # NOTE: so a row within a day of either range end is rejected even if its windows fit.
        shifts = (-NS_PER_DAY, NS_PER_DAY) if self.clock.zone else (0,)
        step = spec.slide_ns if spec.kind == "HOP" else spec.size_ns
        for shift in shifts:
            last_start = (time_ns + shift - spec.offset_ns) // step * step + spec.offset_ns
            first_start = last_start
            if spec.kind == "HOP":
                first_start -= (spec.size_ns // spec.slide_ns - 1) * spec.slide_ns
            if first_start <= MIN_WATERMARK or last_start + spec.size_ns > MAX_WATERMARK:
                return False
        return True

    def _advance(self, batch: Batch) -> Batch:
        """Count the rows of ``batch``, then fire the windows its end watermark closes."""
        if len(batch):
            self._accumulate(batch)
        watermark = MAX_WATERMARK if batch.final else batch.watermark
        output = self._fire(watermark, batch)
        self.watermark = max(self.watermark, batch.watermark)
        return output

    # Early results -------------------------------------------------------------------

    def _provisional(self, batch: Batch) -> Batch | None:
        """Return the current aggregates of the open groups that changed since the last early result."""
        if not any(self._dirty) or not self.open:
            for dirty in self._dirty:
                dirty.clear()
            return None
        windows = sorted(self.open, key=lambda window: (self.clock.instant(window[1]), window[0]))
        frames: list[pd.DataFrame] = []
        for set_index, key_set in enumerate(self.sets):
            dirty = self._dirty[set_index]
            if not dirty:
                continue
            changed = np.fromiter(dirty, dtype=np.int64, count=len(dirty))
            dirty.clear()
            parts: list[tuple[tuple[int, int], np.ndarray, np.ndarray]] = []
            for window in windows:
                key_ids, slots = self.open[window][set_index].members()
                mask = np.isin(slots, changed)
                if mask.any():
                    parts.append((window, key_ids[mask], slots[mask]))
            if not parts:
                continue
            sizes = np.array([len(part[2]) for part in parts], dtype=np.int64)
            ends = np.repeat(np.array([part[0][1] for part in parts], dtype=np.int64), sizes)
            instants = np.array([self.clock.instant(part[0][1]) for part in parts], dtype=np.int64)
            frames.append(
                self._rows(
                    key_set,
                    np.concatenate([part[2] for part in parts]),
                    np.concatenate([part[1] for part in parts]),
                    starts=np.repeat(
                        np.array([part[0][0] for part in parts], dtype=np.int64), sizes
                    ),
                    ends=ends,
                    times=np.repeat(instants, sizes) - self.precision,
                )
            )
        if not frames:
            return None
        data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return Batch(
            data,
            np.full(len(data), batch.watermark, dtype=np.int64),
            batch.watermark,
            batch.ingest_ns,
            provisional=True,
        )

    def _windows_of(self, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = batch.data
        if self.node.window is not None:
            timestamps = self.clock.local(to_ns(data[self.node.window.time_column]))
            return assign(self.node.window, timestamps)
        start = to_ns(data[self.node.window_start_column])
        end = to_ns(data[self.node.window_end_column])
        return np.arange(len(data), dtype=np.int64), start, end

    def _accumulate(self, batch: Batch) -> None:
        tumbling = self._tumbling_ordinals(batch)
        if tumbling is None:
            rows, start, end = self._windows_of(batch)
            counted = self.clock.instants(end) - self.precision > batch.row_watermarks[rows]
        else:
            ordinals, counted = tumbling
            rows = np.arange(len(batch), dtype=np.int64)
        self._report_late(batch, rows, counted)
        if not counted.any():
            self.sequence += len(batch)
            return
        identity = bool(counted.all()) and len(rows) == len(batch)
        if not identity:
            rows = rows[counted]
            if tumbling is None:
                start, end = start[counted], end[counted]
            else:
                ordinals = ordinals[counted]
        sequence = self.sequence + rows
        self.sequence += len(batch)
        data = batch.data
        frame = {
            name: data[name] if identity else data[name].take(rows).reset_index(drop=True)
            for name in self.needed
        }
        if tumbling is None:
            window_codes, windows = self._window_codes(start, end)
        else:
            assert self.node.window is not None
            size = self.node.window.size_ns
            aligned = self._aligned_codes(ordinals, size, size)
            if aligned is None:
                start = ordinals * size + self.node.window.offset_ns
                aligned = self._window_codes(start, start + size)
            window_codes, windows = aligned
        split: tuple[np.ndarray, np.ndarray] | None = None
        for index, key_set in enumerate(self.sets):
            key_ids = key_set.key_ids(data, rows, identity)
            window_groups = [self._open_window(window)[index] for window in windows]
            slots = find_window_slots(
                window_codes, key_ids, window_groups, key_set.pool, key_set.state.clear
            )
            if slots is None:
                # A window keeps sorted ids, or the joined tables would outgrow the batch: look up window by window.
                if split is None:
                    split = _split(window_codes, len(windows))
                order, bounds = split
                slots = np.empty(len(rows), dtype=np.int64)
                for window_index, groups in enumerate(window_groups):
                    members = order[bounds[window_index] : bounds[window_index + 1]]
                    slots[members] = groups.slots(
                        key_ids[members], key_set.pool, key_set.state.clear
                    )
            key_set.state.update(slots, frame, sequence)
            if self.early is not None and self.early.enabled:
                self._dirty[index].update(np.unique(slots).tolist())

    def _tumbling_ordinals(self, batch: Batch) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (window ordinal, counted) per row for tumbling windows in UTC, else None.

        One compiled pass places each row in its window and judges lateness,
        which the general path does with several numpy passes.
        """
        spec = self.node.window
        if spec is None or spec.kind != "TUMBLE" or self.clock.zone is not None:
            return None
        times = np.ascontiguousarray(to_ns(batch.data[spec.time_column]), dtype=np.int64)
        ordinals = np.empty(len(times), dtype=np.int64)
        counted = np.empty(len(times), dtype=bool)
        kernels.tumble_ordinals(
            times,
            np.ascontiguousarray(batch.row_watermarks, dtype=np.int64),
            spec.size_ns,
            spec.offset_ns,
            self.precision,
            ordinals,
            counted,
        )
        return ordinals, counted

    def _window_codes(
        self, start: np.ndarray, end: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Number the distinct windows of a batch: (code per pair, (start, end) per code)."""
        spec = self.node.window
        if spec is not None and spec.kind in ("TUMBLE", "HOP"):
            step = spec.slide_ns if spec.kind == "HOP" else spec.size_ns
            aligned = self._aligned_codes((start - spec.offset_ns) // step, step, spec.size_ns)
            if aligned is not None:
                return aligned
        codes, first = factorize_rows([start, end])
        return codes, [(int(start[i]), int(end[i])) for i in first.tolist()]

    def _aligned_codes(
        self, ordinals: np.ndarray, step: int, size: int
    ) -> tuple[np.ndarray, list[tuple[int, int]]] | None:
        """Number windows from their start ordinals (start = ordinal * step + offset).

        Aligned windows need no hashing: when a batch spans few steps, code c
        is the c-th window present. Returns None when it spans too many.
        """
        assert self.node.window is not None
        offset = self.node.window.offset_ns
        low, high = int(ordinals.min()), int(ordinals.max())
        span = high - low + 1
        if span > 256:
            return None
        codes = np.empty(len(ordinals), dtype=np.int64)
        marks = np.zeros(span, dtype=bool)
        kernels.offset_codes(np.ascontiguousarray(ordinals, dtype=np.int64), low, codes, marks)
        present = np.flatnonzero(marks)
        if len(present) < span:
            remap = np.full(span, -1, dtype=np.int64)
            remap[present] = np.arange(len(present), dtype=np.int64)
            codes = remap[codes]
        first_start = low * step + offset
        windows = [
            (first_start + int(code) * step, first_start + int(code) * step + size)
            for code in present.tolist()
        ]
        return codes, windows

    def _open_window(self, window: tuple[int, int]) -> list[WindowGroups]:
        groups = self.open.get(window)
        if groups is None:
            groups = self.open[window] = [WindowGroups() for _ in self.sets]
            heapq.heappush(self.ends, (self.clock.instant(window[1]), window[0], window[1]))
        return groups

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
        instants: list[int] = []
        while self.ends and self.ends[0][0] - self.precision <= watermark:
            instant, start, end = heapq.heappop(self.ends)
            fired.append((start, end))
            instants.append(instant)
        if not fired:
            return Batch.empty(
                self.output_schema.empty_frame(),
                watermark=batch.watermark,
                ingest_ns=batch.ingest_ns,
                final=batch.final,
            )
        groups = [self.open.pop(window) for window in fired]
        frames: list[pd.DataFrame] = []
        thresholds: list[np.ndarray] = []
        orders: list[np.ndarray] = []
        for set_index, key_set in enumerate(self.sets):
            parts = [window_groups[set_index].members() for window_groups in groups]
            sizes = np.array([len(part[1]) for part in parts], dtype=np.int64)
            if not sizes.sum():
                continue
            slots = np.concatenate([part[1] for part in parts])
            key_ids = np.concatenate([part[0] for part in parts])
            starts = np.repeat(np.array([w[0] for w in fired], dtype=np.int64), sizes)
            ends = np.repeat(np.array([w[1] for w in fired], dtype=np.int64), sizes)
            times = np.repeat(np.array(instants, dtype=np.int64), sizes) - self.precision
            frames.append(
                self._rows(key_set, slots, key_ids, starts=starts, ends=ends, times=times)
            )
            thresholds.append(times)
            orders.append(np.repeat(np.arange(len(fired), dtype=np.int64), sizes))
            key_set.pool.release(slots)
        if not frames:
            return Batch.empty(
                self.output_schema.empty_frame(),
                watermark=batch.watermark,
                ingest_ns=batch.ingest_ns,
                final=batch.final,
            )
        data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        threshold = thresholds[0] if len(thresholds) == 1 else np.concatenate(thresholds)
        if len(frames) > 1:
            # Rows of several grouping sets: order by window, then by set.
            order = np.argsort(np.concatenate(orders), kind="stable")
            data = data.iloc[order].reset_index(drop=True)
            threshold = threshold[order]
        row_watermarks = emission_watermarks(threshold, batch.row_watermarks, self.watermark)
        return Batch(
            data,
            row_watermarks,
            batch.watermark,
            batch.ingest_ns,
            batch.final,
        )

    def _rows(
        self,
        key_set: _KeySet,
        slots: np.ndarray,
        key_ids: np.ndarray,
        *,
        starts: np.ndarray,
        ends: np.ndarray,
        times: np.ndarray,
    ) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        present: dict[str, pd.Series] = {}
        if key_set.dictionary is not None:
            present = dict(zip(key_set.keys, key_set.dictionary.key_columns(key_ids), strict=True))
        for key in self.node.keys:
            if key in present:
                columns[key] = present[key]
            else:
                column = self.input_schema.find(key)
                assert column is not None
                columns[key] = pd.Series([None] * len(slots), dtype=column.type.pandas_dtype())
        columns["window_start"] = window_bound(starts, self.bound_type)
        columns["window_end"] = window_bound(ends, self.bound_type)
        columns["window_time"] = window_bound(times, self.time_type)
        columns.update(key_set.state.results(slots))
        # Every column is positional, so the frame takes their arrays and skips aligning indexes.
        return pd.DataFrame(
            {
                name: columns[source].array
                for name, source in zip(self.output_schema.names, self.output_sources, strict=True)
            },
            index=pd.RangeIndex(len(slots)),
            copy=False,
        )

    # State ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        state.update(
            {
                "sets": [
                    {
                        "state": key_set.state.snapshot(),
                        "pool": key_set.pool.snapshot(),
                        "dictionary": key_set.dictionary,
                    }
                    for key_set in self.sets
                ],
                "open": {window: copy.deepcopy(groups) for window, groups in self.open.items()},
                "watermark": self.watermark,
                "sequence": self.sequence,
                "dirty": [sorted(dirty) for dirty in self._dirty],
                "delay": None if self._delay is None else dataclasses.asdict(self._delay),
            }
        )
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        for key_set, saved in zip(self.sets, state["sets"], strict=True):
            key_set.pool.restore(saved["pool"])
            key_set.state.restore(saved["state"])
            key_set.dictionary = copy.deepcopy(saved["dictionary"])
        self.open = {window: copy.deepcopy(groups) for window, groups in state["open"].items()}
        self.ends = [(self.clock.instant(end), start, end) for start, end in self.open]
        heapq.heapify(self.ends)
        self.watermark = state["watermark"]
        self.sequence = state["sequence"]
        self._dirty = [set(dirty) for dirty in state.get("dirty", [[] for _ in self.sets])]
        delay = state.get("delay")
        self._delay = None if delay is None else ProcessingTimeDelay(**delay)


def _split(codes: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (order, bounds): positions grouped by code; code c is order[bounds[c] : bounds[c + 1]]."""
    if count == 1:
        return np.arange(len(codes), dtype=np.int64), np.array([0, len(codes)], dtype=np.int64)
    if count <= 8:
        # A few windows per batch: one comparison pass per window beats sorting.
        groups = [np.flatnonzero(codes == code) for code in range(count)]
        bounds = np.zeros(count + 1, dtype=np.int64)
        bounds[1:] = np.cumsum([len(group) for group in groups])
        return np.concatenate(groups), bounds
    order = np.argsort(codes, kind="stable")
    bounds = np.zeros(count + 1, dtype=np.int64)
    bounds[1:] = np.cumsum(np.bincount(codes, minlength=count))
    return order, bounds


def _column_type(schema: Schema, name: str) -> DataType:
    column = schema.find(name)
    assert column is not None
    return column.type.plain()
