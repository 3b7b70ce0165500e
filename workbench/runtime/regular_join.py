"""Regular joins: equi-joins without time bounds, with state kept for a time-to-live.

Every row stays in state until 'table.exec.state.ttl' of processing time
has passed since it arrived, and joins with every row of the other input
that arrives meanwhile. Rows leave state silently, as with Flink's state
TTL, so a row that arrives after its partner expired finds no partner.

An outer join emits an unmatched row at once, padded with NULLs, and
retracts that row (``-D``) before the row's first joined result, so the
output of an outer join is an updating stream, as in Flink.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.runtime.joins import (
    LEFT,
    BufferedJoinOperator,
    Piece,
    SideState,
    key_codes,
    range_pairs,
)
from workbench.sql.plan import RegularJoin


class RegularJoinOperator(BufferedJoinOperator):
    def __init__(
        self,
        name: str,
        node: RegularJoin,
        time_zone: str = "UTC",
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(name, node, time_zone)
        self.ttl = node.ttl_ns
        self.clock = clock
        # A state row's time is the wall-clock instant (ns) it arrived at.
        self.states = (
            SideState(node.left.schema, len(node.left_keys)),
            SideState(node.right.schema, len(node.right_keys)),
        )

    def process(self, batch: Batch, port: int) -> list[Batch]:
        previous = self.watermark
        marks, watermark, ended = self.combined_watermarks(batch, port)
        now = self.clock()
        # NOTE: the TTL counts wall-clock time, as Flink's does, so a fast replay of
        # hours of events rarely outlasts it and rows stay for the whole replay.
        for state in self.states:
            state.keep(state.times > now - self.ttl)
        pieces = self._arrive(batch, port, now) if len(batch) else []
        for state in self.states:
            state.settle()
        self.watermark = max(self.watermark, watermark)
        return [self.assemble(pieces, marks, previous, batch, watermark=watermark, ended=ended)]

    def _arrive(self, batch: Batch, port: int, now: int) -> list[Piece]:
        rows = batch.data.reset_index(drop=True)
        count = len(rows)
        keys = self.key_frame(port, rows)
        other = self.states[1 - port]
        probe_codes, build_codes = key_codes(keys, other.keys)
        zeros = np.zeros(count, dtype=np.int64)
        probe, build = range_pairs(
            probe_codes, zeros, zeros, build_codes, np.zeros(len(other), dtype=np.int64)
        )
        matched = np.zeros(count, dtype=bool)
        pieces: list[Piece] = []
        if len(probe):
            frame = self._oriented(port, rows.take(probe), other.frame.take(build), len(probe))
            keep = self.matching(frame)
            probe, build = probe[keep], build[keep]
            frame = frame[keep].reset_index(drop=True)
            pieces.extend(self._retractions(port, probe, build))
            matched[probe] = True
            other.matched[build] = True
            pieces.append(Piece(frame, probe, 1))
        own_outer = self.keeps_left_unmatched if port == LEFT else self.keeps_right_unmatched
        if own_outer:
            lonely = np.flatnonzero(~matched)
            padded = self._oriented(port, rows.take(lonely), None, len(lonely))
            pieces.append(Piece(padded, lonely, 2))
        self.states[port].append(
            rows, keys, np.full(count, now, dtype=np.int64), matched, np.arange(count)
        )
        return pieces

    def _retractions(self, port: int, probe: np.ndarray, build: np.ndarray) -> list[Piece]:
        """Return the -D rows of padded rows of the other input that pair for the first time."""
        other = self.states[1 - port]
        other_outer = self.keeps_right_unmatched if port == LEFT else self.keeps_left_unmatched
        if not other_outer:
            return []
        fresh = np.flatnonzero(~other.matched[build])
        if len(fresh) == 0:
            return []
        first_rows, first_pairs = np.unique(build[fresh], return_index=True)
        rows = other.frame.take(first_rows)
        padded = (
            self.pairs_frame(None, rows, len(rows))
            if port == LEFT
            else self.pairs_frame(rows, None, len(rows))
        )
        return [Piece(padded, probe[fresh[first_pairs]], 0, "-D")]

    def _oriented(
        self, port: int, new: pd.DataFrame, old: pd.DataFrame | None, rows: int
    ) -> pd.DataFrame:
        """Return output rows with the arriving rows on their own side."""
        if port == LEFT:
            return self.pairs_frame(new, old, rows)
        return self.pairs_frame(old, new, rows)
