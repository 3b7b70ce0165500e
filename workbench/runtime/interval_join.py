"""Event-time interval joins: pairs whose times satisfy lower <= left - right <= upper.

Each input keeps its rows while a row of the other input could still pair
with them. Rows of the other input that are still to come are not late, so
their event time is at least the join watermark W (the smaller of the two
inputs' watermarks). A left row therefore expires once W > left - lower, and
a right row once W > right + upper, as in Flink's RowTimeIntervalJoin. An
outer join emits an expired row that never paired, padded with NULLs.

A row whose event time is below the join watermark when it arrives may have
lost partners that already expired: it is late and goes to the late-rows
output. (Flink joins such a row with whatever its state still holds.)

The output watermark is held back by max(-lower, upper), Flink's
``getMaxOutputDelay``, so a joined row is never behind the watermark that
follows it in either input's event time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK, to_ns
from workbench.runtime.joins import (
    LEFT,
    RIGHT,
    BufferedJoinOperator,
    Piece,
    SideState,
    key_codes,
    range_pairs,
)
from workbench.sql.plan import IntervalJoin


class IntervalJoinOperator(BufferedJoinOperator):
    def __init__(self, name: str, node: IntervalJoin, time_zone: str = "UTC") -> None:
        super().__init__(name, node, time_zone)
        bounds = node.bounds
        self.lower = bounds.lower_ns
        self.upper = bounds.upper_ns
        self.time_columns = (bounds.left_time, bounds.right_time)
        self.delay = max(-self.lower, self.upper, 0)
        self.states = (
            SideState(node.left.schema, len(node.left_keys)),
            SideState(node.right.schema, len(node.right_keys)),
        )

    def process(self, batch: Batch, port: int) -> list[Batch]:
        previous = self.watermark
        marks, watermark, ended = self.combined_watermarks(batch, port)
        pieces: list[Piece] = []
        if len(batch):
            pieces.extend(self._arrive(batch, port, marks))
        pieces.extend(self._expire(MAX_WATERMARK if ended else watermark, marks))
        for state in self.states:
            state.settle()
        self.watermark = max(self.watermark, watermark)
        return [
            self.assemble(
                pieces, marks, previous, batch, watermark=watermark, ended=ended, delay=self.delay
            )
        ]

    def _arrive(self, batch: Batch, port: int, marks: np.ndarray) -> list[Piece]:
        data = batch.data.reset_index(drop=True)
        column = self.time_columns[port]
        times = to_ns(data[column])
        missing = times == MIN_WATERMARK
        late = (times < marks) & ~missing
        if missing.any():
            self._reject_missing(data, np.flatnonzero(missing), column)
        if late.any():
            self.emit_late(
                data[late],
                marks[late],
                "the join's watermark had passed the row's event time",
            )
        positions = np.flatnonzero(~(missing | late))
        if len(positions) == 0:
            return []
        rows = data.take(positions).reset_index(drop=True)
        times = times[positions]
        keys = self.key_frame(port, rows)
        other = self.states[1 - port]
        probe_codes, build_codes = key_codes(keys, other.keys)
        if port == LEFT:
            # Right rows with left - upper <= right <= left - lower.
            low, high = times - self.upper, times - self.lower
        else:
            low, high = times + self.lower, times + self.upper
        probe, build = range_pairs(probe_codes, low, high, build_codes, other.times)
        matched = np.zeros(len(rows), dtype=bool)
        pieces: list[Piece] = []
        if len(probe):
            new_part = rows.take(probe)
            old_part = other.frame.take(build)
            frame = (
                self.pairs_frame(new_part, old_part, len(probe))
                if port == LEFT
                else self.pairs_frame(old_part, new_part, len(probe))
            )
            keep = self.matching(frame)
            probe, build = probe[keep], build[keep]
            frame = frame[keep].reset_index(drop=True)
            matched[probe] = True
            other.matched[build] = True
            pieces.append(Piece(frame, positions[probe], 0))
        self.states[port].append(rows, keys, times, matched, positions)
        return pieces

    def _expire(self, watermark: int, marks: np.ndarray) -> list[Piece]:
        pieces: list[Piece] = []
        for port in (LEFT, RIGHT):
            state = self.states[port]
            if len(state) == 0:
                continue
            # The smallest watermark at which no row still to come can pair with the row.
            if port == LEFT:
                thresholds = state.times - self.lower + 1
            else:
                thresholds = state.times + self.upper + 1
            expired = (
                np.ones(len(state), dtype=bool)
                if watermark == MAX_WATERMARK
                else thresholds <= watermark
            )
            if not expired.any():
                continue
            padded = self.keeps_left_unmatched if port == LEFT else self.keeps_right_unmatched
            if padded:
                lonely = np.flatnonzero(expired & ~state.matched)
                if len(lonely):
                    rows = state.frame.take(lonely)
                    frame = (
                        self.pairs_frame(rows, None, len(lonely))
                        if port == LEFT
                        else self.pairs_frame(None, rows, len(lonely))
                    )
                    after = np.searchsorted(marks, thresholds[lonely], side="left") - 1
                    after = np.maximum(after, state.arrival[lonely])
                    pieces.append(Piece(frame, after.astype(np.int64), 1))
            state.keep(~expired)
        return pieces

    def _reject_missing(self, data: pd.DataFrame, rows: np.ndarray, column: str) -> None:
        for position in rows.tolist():
            self.rejected.add(
                f"NULL event time in column {column!r}: the row cannot be placed in a join interval",
                repr(data.iloc[position].to_dict()),
            )
        self.metrics.rejected += len(rows)
