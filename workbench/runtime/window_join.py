"""Window joins: rows of two window TVF results that share a window and a key.

Each input's rows wait in state until the join watermark (the smaller of
the two inputs' watermarks) reaches their window's ``window_end -
precision``. Then the window's rows are joined once and leave state, so only
final results are emitted, as Flink's window join does. A row whose window
has already fired under the join watermark is late.

Outer joins pad the unmatched rows of a fired window with NULLs; SEMI and
ANTI joins emit the left rows that have, or lack, a partner in the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.time import MAX_WATERMARK, to_ns
from workbench.runtime.joins import (
    BufferedJoinOperator,
    Piece,
    SideState,
    key_codes,
    range_pairs,
)
from workbench.runtime.windows import WindowClock
from workbench.sql.plan import WindowJoin


class WindowJoinOperator(BufferedJoinOperator):
    def __init__(
        self, name: str, node: WindowJoin, time_zone: str = "UTC", zone: str | None = None
    ) -> None:
        super().__init__(name, node, time_zone)
        self.windows = (node.left_window, node.right_window)
        self.clock = WindowClock(zone)
        self.precision = node.precision_ns
        self.null_aware = node.null_aware
        # The window bounds join like keys, after the ON clause's own keys.
        self.states = (
            SideState(node.left.schema, len(node.left_keys) + 2),
            SideState(node.right.schema, len(node.right_keys) + 2),
        )

    def process(self, batch: Batch, port: int) -> list[Batch]:
        previous = self.watermark
        marks, watermark, ended = self.combined_watermarks(batch, port)
        if len(batch):
            self._arrive(batch, port, marks)
        pieces = self._fire(MAX_WATERMARK if ended else watermark, marks)
        for state in self.states:
            state.settle()
        self.watermark = max(self.watermark, watermark)
        return [self.assemble(pieces, marks, previous, batch, watermark=watermark, ended=ended)]

    def _arrive(self, batch: Batch, port: int, marks: np.ndarray) -> None:
        data = batch.data.reset_index(drop=True)
        start_column, end_column = self.windows[port]
        starts = to_ns(data[start_column])
        ends = to_ns(data[end_column])
        closes = self.clock.instants(ends) - self.precision
        late = closes <= marks
        if late.any():
            self.emit_late(
                data[late], marks[late], "the row's window had already fired in the join"
            )
        positions = np.flatnonzero(~late)
        if len(positions) == 0:
            return
        rows = data.take(positions).reset_index(drop=True)
        keys = self.key_frame(port, rows)
        count = len(keys.columns)
        keys[f"k{count}"] = starts[positions]
        keys[f"k{count + 1}"] = ends[positions]
        matched = np.zeros(len(rows), dtype=bool)
        self.states[port].append(rows, keys, closes[positions], matched, positions)

    def _fire(self, watermark: int, marks: np.ndarray) -> list[Piece]:
        left, right = self.states
        left_due = left.times <= watermark
        right_due = right.times <= watermark
        if not left_due.any() and not right_due.any():
            return []
        left_rows = np.flatnonzero(left_due)
        right_rows = np.flatnonzero(right_due)
        left_codes, right_codes = key_codes(left.keys.take(left_rows), right.keys.take(right_rows))
        zeros = np.zeros(len(left_rows), dtype=np.int64)
        probe, build = range_pairs(
            left_codes, zeros, zeros, right_codes, np.zeros(len(right_rows), dtype=np.int64)
        )
        left_frame = left.frame.take(left_rows).reset_index(drop=True)
        right_frame = right.frame.take(right_rows).reset_index(drop=True)
        pieces: list[Piece] = []
        left_matched = np.zeros(len(left_rows), dtype=bool)
        right_matched = np.zeros(len(right_rows), dtype=bool)
        if len(probe):
            frame = self._pairs(left_frame.take(probe), right_frame.take(build), len(probe))
            keep = self.matching(frame)
            probe, build = probe[keep], build[keep]
            left_matched[probe] = True
            right_matched[build] = True
            if self.node.kind not in ("SEMI", "ANTI"):
                frame = frame[keep].reset_index(drop=True)
                pieces.append(Piece(frame, self._after(left.times[left_rows[probe]], marks), 0))
        kind = self.node.kind
        if kind == "ANTI" and self.null_aware:
            left_matched = self._blocked(left_rows, right_rows, left_frame, right_frame)
        if kind in ("SEMI", "ANTI"):
            chosen = left_matched if kind == "SEMI" else ~left_matched
            rows = np.flatnonzero(chosen)
            frame = left_frame.take(rows).reset_index(drop=True)
            pieces.append(Piece(frame, self._after(left.times[left_rows[rows]], marks), 0))
        if self.keeps_left_unmatched:
            rows = np.flatnonzero(~left_matched)
            frame = self.pairs_frame(left_frame.take(rows), None, len(rows))
            pieces.append(Piece(frame, self._after(left.times[left_rows[rows]], marks), 1))
        if self.keeps_right_unmatched:
            rows = np.flatnonzero(~right_matched)
            frame = self.pairs_frame(None, right_frame.take(rows), len(rows))
            pieces.append(Piece(frame, self._after(right.times[right_rows[rows]], marks), 2))
        left.keep(~left_due)
        right.keep(~right_due)
        return pieces

    def _blocked(
        self,
        left_rows: np.ndarray,
        right_rows: np.ndarray,
        left_frame: pd.DataFrame,
        right_frame: pd.DataFrame,
    ) -> np.ndarray:
        """Return the left rows that NOT IN rejects: a partner is equal, or either key is NULL.

        Partners share the window and the other keys and satisfy the rest of
        the condition; the NOT IN key is the first key column, ``k0``.
        """
        left, right = self.states
        left_keys = left.keys.take(left_rows).reset_index(drop=True)
        right_keys = right.keys.take(right_rows).reset_index(drop=True)
        others = [name for name in left_keys.columns if name != "k0"]
        left_codes, right_codes = key_codes(left_keys[others], right_keys[others])
        probe, build = range_pairs(
            left_codes,
            np.zeros(len(left_rows), dtype=np.int64),
            np.zeros(len(left_rows), dtype=np.int64),
            right_codes,
            np.zeros(len(right_rows), dtype=np.int64),
        )
        blocked = np.zeros(len(left_rows), dtype=bool)
        if len(probe) == 0:
            return blocked
        frame = self._pairs(left_frame.take(probe), right_frame.take(build), len(probe))
        keep = self.matching(frame)
        probe, build = probe[keep], build[keep]
        outer = left_keys["k0"].take(probe).reset_index(drop=True)
        inner = right_keys["k0"].take(build).reset_index(drop=True)
        unknown = outer.isna().to_numpy(dtype=bool) | inner.isna().to_numpy(dtype=bool)
        equal = outer.eq(inner).fillna(False).to_numpy(dtype=bool)
        blocked[probe[unknown | equal]] = True
        return blocked

    def _pairs(self, left: pd.DataFrame, right: pd.DataFrame, rows: int) -> pd.DataFrame:
        """Return candidate pairs with both sides' columns, for the ON condition."""
        if self.node.kind in ("SEMI", "ANTI"):
            right = right.set_axis(list(self.node.right_names), axis=1)
            return pd.concat([left.reset_index(drop=True), right.reset_index(drop=True)], axis=1)
        return self.pairs_frame(left, right, rows)

    @staticmethod
    def _after(closes: np.ndarray, marks: np.ndarray) -> np.ndarray:
        """Return, per fired row, the input row after which its window fires (-1: before the batch)."""
        return (np.searchsorted(marks, closes, side="left") - 1).astype(np.int64)
