"""SESSION windows: per-key sessions that merge, with lateness judged after merging.

A row opens the window [ts, ts + gap) and merges with every open session of
its key that it touches (Flink's rule: windows that overlap or meet merge,
so two rows exactly one gap apart share a session). A session is open until
the watermark reaches ``end - precision``; a row that merges into no open
session and whose own window has already passed the watermark is late.

Rows are placed one at a time in arrival order (sessions depend on order);
the aggregation itself is then vectorized over the batch.

With early firing (:class:`EarlyFire`), a session aggregate also emits
provisional rows of its open sessions that received rows since the previous
early result, with the bounds and aggregates each session has at that
point. A session can still grow or merge with another, so its final row
may have other bounds than its provisional rows. Sessions over PROCTIME()
count the early-fire delay in processing time.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK, to_ns
from workbench.events.types import DataType
from workbench.runtime.aggregate_state import AggregateState, group_keys, key_columns
from workbench.runtime.early_fire import (
    EarlyFire,
    EarlyFiring,
    ProcessingTimeDelay,
)
from workbench.runtime.operator import Operator
from workbench.runtime.windows import (
    WindowClock,
    emission_watermarks,
    processing_time_batch,
    window_bound,
)
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.plan import WindowAggregate, WindowSpec, WindowTableFunction


@dataclass
class Session:
    key: tuple[Hashable, ...]
    start: int
    end: int
    number: int
    slot: int = -1
    closed: bool = False
    rows: list[pd.DataFrame] = field(default_factory=list)
    row_watermarks: list[np.ndarray] = field(default_factory=list)


class SessionWindowOperator(EarlyFiring, Operator):
    """Session windows, either aggregated (WindowAggregate) or as rows (window TVF)."""

    def __init__(
        self,
        name: str,
        node: WindowAggregate | WindowTableFunction,
        input_schema: Schema,
        user_aggregates: dict[str, UserAggregateDef] | None = None,
        zone: str | None = None,
    ) -> None:
        super().__init__(name, node.schema)
        assert node.window is not None
        # Sessions are measured in instants; their bounds are shown on the local clock.
        self.clock = WindowClock(zone)
        self.node = node
        self.spec: WindowSpec = node.window
        self.input_schema = input_schema
        self.aggregating = isinstance(node, WindowAggregate)
        self.state = (
            AggregateState(node.aggregates, input_schema, user_aggregates)
            if isinstance(node, WindowAggregate)
            else None
        )
        self.sessions: dict[tuple[Hashable, ...], list[Session]] = {}
        self.by_number: dict[int, Session] = {}
        self.ends: list[tuple[int, int, int]] = []
        self.next_number = 0
        self.watermark = MIN_WATERMARK
        self.sequence = 0
        self.bound_type = _plain_type(node.schema, "window_start")
        self.time_type = _plain_type(node.schema, "window_time")
        self.early: EarlyFire | None = None
        # Numbers of the open sessions that received rows since the last early result.
        self._dirty: set[int] = set()
        # The processing-time clock (ns since the epoch) of sessions over PROCTIME().
        self.now_ns: Callable[[], int] = time.time_ns
        self._delay: ProcessingTimeDelay | None = None

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        now = self.now_ns() if self.spec.processing_time else 0
        batch = processing_time_batch(batch, self.spec, now)
        early = self.early
        if early is None or not early.enabled or batch.final or self.state is None:
            return [self._advance(batch)]
        return self._with_early_results(
            batch, early, processing_time=self.spec.processing_time, now_ns=now
        )

    def _advance(self, batch: Batch) -> Batch:
        """Place the rows of ``batch``, then fire the sessions its end watermark closes."""
        if len(batch):
            self._place(batch)
        watermark = MAX_WATERMARK if batch.final else batch.watermark
        output = self._fire(watermark, batch)
        self.watermark = max(self.watermark, batch.watermark)
        return output

    # Placing rows --------------------------------------------------------------------

    def _place(self, batch: Batch) -> None:
        data = batch.data
        timestamps = to_ns(data[self.spec.time_column]).tolist()
        watermarks = batch.row_watermarks.tolist()
        codes, keys = group_keys([data[key] for key in self.spec.partition_keys], len(data))
        gap, precision = self.spec.gap_ns, self.spec.precision_ns
        numbers = np.full(len(data), -1, dtype=np.int64)
        merged_into: dict[int, int] = {}
        for position, (timestamp, watermark, code) in enumerate(
            zip(timestamps, watermarks, codes.tolist(), strict=True)
        ):
            key = keys[code]
            sessions = self.sessions.setdefault(key, [])
            start, end = timestamp, timestamp + gap
            touching = []
            for session in sessions:
                if not session.closed and session.end - precision <= watermark:
                    session.closed = True
                if not session.closed and session.start <= end and session.end >= start:
                    touching.append(session)
            if not touching:
                if end - precision <= watermark:
                    continue  # late: numbers[position] stays -1
                session = self._open(key, start, end)
                sessions.append(session)
                numbers[position] = session.number
                continue
            target = min(touching, key=lambda s: s.number)
            target.start = min([start, *(s.start for s in touching)])
            target.end = max([end, *(s.end for s in touching)])
            for other in touching:
                if other is not target:
                    merged_into[other.number] = target.number
                    self._absorb(target, other)
                    sessions.remove(other)
            heapq.heappush(self.ends, (target.end, target.start, target.number))
            numbers[position] = target.number
        self._resolve(numbers, merged_into)
        late = np.flatnonzero(numbers < 0)
        if len(late):
            self.emit_late(
                data.iloc[late], batch.row_watermarks[late], "the row's session had already fired"
            )
        placed = np.flatnonzero(numbers >= 0)
        self._collect(batch, placed, numbers[placed])
        if self.early is not None and self.early.enabled:
            self._dirty.update(np.unique(numbers[placed]).tolist())
        self.sequence += len(batch)

    def _open(self, key: tuple[Hashable, ...], start: int, end: int) -> Session:
        session = Session(key=key, start=start, end=end, number=self.next_number)
        self.next_number += 1
        if self.state is not None:
            slots, _ = self.state.slots_for([(session.number,)])
            session.slot = int(slots[0])
        self.by_number[session.number] = session
        heapq.heappush(self.ends, (end, start, session.number))
        return session

    def _absorb(self, target: Session, other: Session) -> None:
        if self.state is not None:
            self.state.merge(np.array([target.slot]), np.array([other.slot]))
            self.state.release([other.slot])
        target.rows.extend(other.rows)
        target.row_watermarks.extend(other.row_watermarks)
        del self.by_number[other.number]
        # The target receives the merging row, so it is emitted in the next early result.
        self._dirty.discard(other.number)

    @staticmethod
    def _resolve(numbers: np.ndarray, merged_into: dict[int, int]) -> None:
        """Point rows of sessions merged later in the batch at the surviving session."""
        if not merged_into:
            return
        for index, number in enumerate(numbers.tolist()):
            survivor = number
            while survivor in merged_into:
                survivor = merged_into[survivor]
            numbers[index] = survivor

    def _collect(self, batch: Batch, positions: np.ndarray, numbers: np.ndarray) -> None:
        if len(positions) == 0:
            return
        if self.state is not None:
            slots = np.array(
                [self.by_number[number].slot for number in numbers.tolist()], dtype=np.int64
            )
            needed = self.state.needed_columns
            frame = {
                name: batch.data[name].take(positions).reset_index(drop=True) for name in needed
            }
            self.state.update(slots, frame, self.sequence + positions)
            return
        rows = batch.data.take(positions).reset_index(drop=True)
        row_watermarks = batch.row_watermarks[positions]
        for number in np.unique(numbers).tolist():
            mask = numbers == number
            session = self.by_number[number]
            session.rows.append(rows[mask])
            session.row_watermarks.append(row_watermarks[mask])

    # Firing --------------------------------------------------------------------------

    def _fire(self, watermark: int, batch: Batch) -> Batch:
        fired: list[Session] = []
        while self.ends and self.ends[0][0] - self.spec.precision_ns <= watermark:
            end, start, number = heapq.heappop(self.ends)
            session = self.by_number.get(number)
            if session is None or session.end != end or session.start != start or session in fired:
                continue  # a stale entry: the session merged, grew or fired since
            fired.append(session)
        if not fired:
            return Batch.empty(
                self.output_schema.empty_frame(), batch.watermark, batch.ingest_ns, batch.final
            )
        for session in fired:
            del self.by_number[session.number]
            self._dirty.discard(session.number)
            self.sessions[session.key].remove(session)
            if not self.sessions[session.key]:
                del self.sessions[session.key]
        if self.state is not None:
            frame = self._aggregated(fired)
            self.state.release([session.slot for session in fired])
        else:
            frame = self._rows(fired)
        thresholds = np.repeat(
            np.array([s.end - self.spec.precision_ns for s in fired], dtype=np.int64),
            [1 if self.state is not None else sum(len(part) for part in s.rows) for s in fired],
        )
        row_watermarks = emission_watermarks(thresholds, batch.row_watermarks, self.watermark)
        return Batch(
            frame[self.output_schema.names],
            row_watermarks,
            batch.watermark,
            batch.ingest_ns,
            batch.final,
        )

    def _aggregated(self, fired: list[Session]) -> pd.DataFrame:
        assert self.state is not None and isinstance(self.node, WindowAggregate)
        slots = np.array([session.slot for session in fired], dtype=np.int64)
        columns = key_columns(
            [s.key for s in fired], 0, self.spec.partition_keys, self.input_schema
        )
        for key in self.node.keys:
            if key not in columns:
                column = self.input_schema.find(key)
                assert column is not None
                columns[key] = pd.Series([None] * len(fired), dtype=column.type.pandas_dtype())
        starts = np.array([s.start for s in fired], dtype=np.int64)
        ends = np.array([s.end for s in fired], dtype=np.int64)
        columns["window_start"] = window_bound(self.clock.local(starts), self.bound_type)
        columns["window_end"] = window_bound(self.clock.local(ends), self.bound_type)
        columns["window_time"] = window_bound(ends - self.spec.precision_ns, self.time_type)
        columns.update(self.state.results(slots))
        return pd.DataFrame(columns)

    # Early results -------------------------------------------------------------------

    def _provisional(self, batch: Batch) -> Batch | None:
        """Return the current aggregates of the open sessions that changed since the last early result."""
        changed = [self.by_number[number] for number in self._dirty if number in self.by_number]
        self._dirty.clear()
        if not changed:
            return None
        # The order in which the sessions would fire if no row arrived.
        changed.sort(key=lambda session: (session.end, session.start, session.number))
        frame = self._aggregated(changed)
        return Batch(
            frame[self.output_schema.names],
            np.full(len(frame), batch.watermark, dtype=np.int64),
            batch.watermark,
            batch.ingest_ns,
            provisional=True,
        )

    def _rows(self, fired: list[Session]) -> pd.DataFrame:
        parts = []
        for session in fired:
            rows = pd.concat(session.rows, ignore_index=True)
            count = len(rows)
            rows["window_start"] = window_bound(
                self.clock.local(np.full(count, session.start, dtype=np.int64)), self.bound_type
            )
            rows["window_end"] = window_bound(
                self.clock.local(np.full(count, session.end, dtype=np.int64)), self.bound_type
            )
            rows["window_time"] = window_bound(
                np.full(count, session.end - self.spec.precision_ns, dtype=np.int64), self.time_type
            )
            parts.append(rows)
        return pd.concat(parts, ignore_index=True)

    def snapshot(self) -> dict[str, Any]:
        return {
            "sessions": copy.deepcopy(self.sessions),
            "next_number": self.next_number,
            "watermark": self.watermark,
            "sequence": self.sequence,
            "state": self.state.snapshot() if self.state is not None else None,
            "dirty": sorted(self._dirty),
            "delay": None if self._delay is None else dataclasses.asdict(self._delay),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.sessions = copy.deepcopy(state["sessions"])
        self.by_number = {s.number: s for sessions in self.sessions.values() for s in sessions}
        self.ends = [(s.end, s.start, s.number) for s in self.by_number.values()]
        heapq.heapify(self.ends)
        self.next_number = state["next_number"]
        self.watermark = state["watermark"]
        self.sequence = state["sequence"]
        self._dirty = set(state.get("dirty", []))
        delay = state.get("delay")
        self._delay = None if delay is None else ProcessingTimeDelay(**delay)
        if self.state is not None and state["state"] is not None:
            self.state.restore(state["state"])


def _plain_type(schema: Schema, name: str) -> DataType:
    column = schema.find(name)
    assert column is not None
    return column.type.plain()
