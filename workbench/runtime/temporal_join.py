"""Event-time temporal joins: each left row joins the version of the right row valid at its time.

The right input is a versioned table: a row is the version of its key from
its event time until the next row of that key. A left row waits until the
join watermark W passes its event time, so every version up to that time
has arrived. It then joins the latest version of its key at or before its
time (a LEFT join pads it when there is none). Per key, the right input
keeps the versions at or after W and the latest one before W, as Flink's
TemporalRowTimeJoinOperator does.

A left row below W when it arrives may need a version that was dropped,
and a right row below W may change rows already emitted: both are late and
go to the late-rows output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.events.batch import Batch
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK, to_ns
from workbench.runtime.joins import LEFT, RIGHT, JoinOperator, Piece, SideState, key_codes
from workbench.runtime.slots import factorize_rows
from workbench.sql.plan import TemporalJoin


class TemporalJoinOperator(JoinOperator):
    def __init__(self, name: str, node: TemporalJoin, time_zone: str = "UTC") -> None:
        super().__init__(name, node, time_zone)
        self.time_columns = (node.left_time, node.right_time)
        self.states = (
            SideState(node.left.schema, len(node.left_keys)),
            SideState(node.right.schema, len(node.right_keys)),
        )
        #: Arrival number of each right row, so that of two versions at the same time the later wins.
        self.arrivals = np.empty(0, dtype=np.int64)
        self.arrived = 0

    def process(self, batch: Batch, port: int) -> list[Batch]:
        previous = self.watermark
        marks, watermark, ended = self.combined_watermarks(batch, port)
        if len(batch):
            self._arrive(batch, port, marks)
        pieces = self._emit(MAX_WATERMARK if ended else watermark, marks)
        if ended:
            self.states[RIGHT].keep(np.zeros(len(self.states[RIGHT]), dtype=bool))
            self.arrivals = self.arrivals[:0]
        else:
            self._drop_old_versions(watermark)
        for state in self.states:
            state.settle()
        self.watermark = max(self.watermark, watermark)
        # A joined row can have the time the watermark just reached: holding the output
        # watermark back by 1 ns keeps it on time for a window downstream.
        return [
            self.assemble(pieces, marks, previous, batch, watermark=watermark, ended=ended, delay=1)
        ]

    def _arrive(self, batch: Batch, port: int, marks: np.ndarray) -> None:
        data = batch.data.reset_index(drop=True)
        times = to_ns(data[self.time_columns[port]])
        missing = times == MIN_WATERMARK
        late = (times < marks) & ~missing
        if late.any():
            reason = (
                "the join's watermark had passed the row's event time"
                if port == LEFT
                else "the join had emitted rows at the version's time"
            )
            self.emit_late(data[late], marks[late], reason)
        if missing.any():
            self.metrics.rejected += int(missing.sum())
            for position in np.flatnonzero(missing).tolist():
                self.rejected.add(
                    f"NULL event time in column {self.time_columns[port]!r}",
                    repr(data.iloc[position].to_dict()),
                )
        positions = np.flatnonzero(~(late | missing))
        if len(positions) == 0:
            return
        rows = data.take(positions).reset_index(drop=True)
        keys = self.key_frame(port, rows)
        matched = np.zeros(len(rows), dtype=bool)
        self.states[port].append(rows, keys, times[positions], matched, positions)
        if port == RIGHT:
            numbers = self.arrived + np.arange(len(rows), dtype=np.int64)
            self.arrivals = np.concatenate([self.arrivals, numbers])
            self.arrived += len(rows)

    def _emit(self, watermark: int, marks: np.ndarray) -> list[Piece]:
        left, right = self.states
        due = np.flatnonzero(left.times < watermark)
        if len(due) == 0:
            return []
        times = left.times[due]
        left_codes, right_codes = key_codes(left.keys.take(due), right.keys)
        version = _latest_version(left_codes, times, right_codes, right.times, self.arrivals)
        found = version >= 0
        pieces: list[Piece] = []
        # A left row is due once the watermark passes its time.
        after = np.maximum(np.searchsorted(marks, times + 1, side="left") - 1, left.arrival[due])
        joined = np.zeros(len(due), dtype=bool)
        if found.any():
            rows = np.flatnonzero(found)
            frame = self.pairs_frame(
                left.frame.take(due[rows]), right.frame.take(version[rows]), len(rows)
            )
            keep = self.matching(frame)
            rows = rows[keep]
            joined[rows] = True
            pieces.append(Piece(frame[keep].reset_index(drop=True), after[rows], 0))
        if self.keeps_left_unmatched:
            lonely = np.flatnonzero(~joined)
            frame = self.pairs_frame(left.frame.take(due[lonely]), None, len(lonely))
            pieces.append(Piece(frame, after[lonely], 0))
        keep_rows = np.ones(len(left), dtype=bool)
        keep_rows[due] = False
        left.keep(keep_rows)
        return pieces

    def _drop_old_versions(self, watermark: int) -> None:
        """Keep, per key, the versions at or after ``watermark`` and the latest one before it."""
        right = self.states[RIGHT]
        if len(right) < 2 or watermark == MIN_WATERMARK:
            return
        codes, _ = factorize_rows([right.keys[name] for name in right.keys.columns])
        order = np.lexsort((self.arrivals, right.times, codes))
        sorted_codes = codes[order]
        settled = right.times[order] < watermark
        next_settled = np.append((sorted_codes[1:] == sorted_codes[:-1]) & settled[1:], False)
        keep_sorted = ~settled | ~next_settled
        keep = np.empty(len(right), dtype=bool)
        keep[order] = keep_sorted
        right.keep(keep)
        self.arrivals = self.arrivals[keep]

    @property
    def state_rows(self) -> int:
        """Rows held in state on both inputs."""
        return len(self.states[LEFT]) + len(self.states[RIGHT])

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        state["sides"] = [side.snapshot() for side in self.states]
        state["arrivals"] = self.arrivals.copy()
        state["arrived"] = self.arrived
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        for side, saved in zip(self.states, state["sides"], strict=True):
            side.restore(saved)
        self.arrivals = state["arrivals"].copy()
        self.arrived = state["arrived"]


def _latest_version(
    probe_codes: np.ndarray,
    probe_times: np.ndarray,
    build_codes: np.ndarray,
    build_times: np.ndarray,
    arrivals: np.ndarray,
) -> np.ndarray:
    """Return, per probe row, the build row of its code with the latest time at or before its own.

    Of two build rows with the same code and time the later arrival wins;
    -1 marks a probe row without one.
    """
    result = np.full(len(probe_codes), -1, dtype=np.int64)
    if len(build_codes) == 0 or len(probe_codes) == 0:
        return result
    order = np.lexsort((arrivals, build_times, build_codes))
    sorted_codes = build_codes[order]
    sorted_times = build_times[order]
    values = np.unique(np.concatenate([sorted_times, probe_times]))
    width = len(values) + 1
    packed = sorted_codes * width + np.searchsorted(values, sorted_times)
    wanted = probe_codes * width + np.searchsorted(values, probe_times)
    candidate = np.searchsorted(packed, wanted, side="right") - 1
    valid = (candidate >= 0) & (probe_codes >= 0)
    valid[valid] &= sorted_codes[candidate[valid]] == probe_codes[valid]
    result[valid] = order[candidate[valid]]
    return result
