"""Shared parts of the two-input join operators: the join watermark, keys, pairs and output rows.

A join's watermark is the smaller of its inputs' watermarks. A batch that
arrives on one input is judged under that combined watermark row by row:
``row_watermarks[i]`` of the batch, capped by the other input's watermark
when the batch arrived. Output rows are emitted in the order of the input
row (or watermark advance) that produced them, so the output does not
depend on how each input is split into batches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK
from workbench.runtime.operator import Operator
from workbench.runtime.slots import factorize_rows
from workbench.sql.evaluate import EvalContext, evaluate, evaluate_predicate
from workbench.sql.plan import Join

LEFT, RIGHT = 0, 1


@dataclass
class Piece:
    """Output rows and, per row, the input position after which they are emitted.

    ``after`` is -1 for rows due before the batch's first row. ``rank`` orders
    pieces due after the same row: a row's matches (0) before the rows that
    the watermark after it expires (1).
    """

    data: pd.DataFrame
    after: np.ndarray
    rank: int
    #: The changelog kind of the rows, for a join whose output is updating.
    kind: str = "+I"


class SideState:
    """The rows one input keeps for joining: columns, key values, event times, matched flags."""

    def __init__(self, schema: Schema, key_count: int) -> None:
        self.frame = schema.empty_frame()
        self.keys = pd.DataFrame({f"k{i}": pd.Series([], dtype=object) for i in range(key_count)})
        self.times = np.empty(0, dtype=np.int64)
        self.matched = np.empty(0, dtype=bool)
        #: Position in the current batch of rows added by it; -1 for older rows.
        self.arrival = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.times)

    def append(
        self,
        frame: pd.DataFrame,
        keys: pd.DataFrame,
        times: np.ndarray,
        matched: np.ndarray,
        arrival: np.ndarray,
    ) -> None:
        if len(frame) == 0:
            return
        if len(self.frame):
            self.frame = pd.concat([self.frame, frame], ignore_index=True)
            self.keys = pd.concat([self.keys, keys], ignore_index=True)
        else:
            self.frame = frame.reset_index(drop=True)
            self.keys = keys.reset_index(drop=True)
        self.times = np.concatenate([self.times, times])
        self.matched = np.concatenate([self.matched, matched])
        self.arrival = np.concatenate([self.arrival, arrival])

    def keep(self, mask: np.ndarray) -> None:
        if mask.all():
            return
        self.frame = self.frame[mask].reset_index(drop=True)
        self.keys = self.keys[mask].reset_index(drop=True)
        self.times = self.times[mask]
        self.matched = self.matched[mask]
        self.arrival = self.arrival[mask]

    def settle(self) -> None:
        """Mark every row as older than the next batch."""
        self.arrival = np.full(len(self.times), -1, dtype=np.int64)

    def snapshot(self) -> dict[str, Any]:
        return {
            "frame": self.frame.copy(),
            "keys": self.keys.copy(),
            "times": self.times.copy(),
            "matched": self.matched.copy(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.frame = state["frame"].copy()
        self.keys = state["keys"].copy()
        self.times = state["times"].copy()
        self.matched = state["matched"].copy()
        self.arrival = np.full(len(self.times), -1, dtype=np.int64)


def key_codes(probe: pd.DataFrame, build: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Number the key values of two inputs jointly; a row with a NULL key gets -1.

    Without key columns every row gets code 0, so every pair is a candidate.
    """
    if len(probe.columns) == 0:
        return np.zeros(len(probe), dtype=np.int64), np.zeros(len(build), dtype=np.int64)
    columns = []
    null = np.zeros(len(probe) + len(build), dtype=bool)
    for name in probe.columns:
        column = pd.concat(
            [probe[name].reset_index(drop=True), build[name].reset_index(drop=True)],
            ignore_index=True,
        )
        null |= column.isna().to_numpy(dtype=bool)
        columns.append(column)
    codes, _ = factorize_rows(columns)
    codes[null] = -1
    return codes[: len(probe)], codes[len(probe) :]


def range_pairs(
    probe_codes: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    build_codes: np.ndarray,
    build_times: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (probe, build) positions of the pairs with equal codes and low <= time <= high.

    Pairs come ordered by probe position, then build position. The build
    rows are sorted by (code, time) once, and each probe row finds its range
    with two binary searches, so the work grows with the rows and the pairs
    found, never with all probe-build combinations.
    """
    empty = np.empty(0, dtype=np.int64)
    if len(probe_codes) == 0 or len(build_codes) == 0:
        return empty, empty
    order = np.lexsort((build_times, build_codes))
    sorted_codes = build_codes[order]
    sorted_times = build_times[order]
    # Dense ranks of every time involved let (code, rank) pack into one sortable int64.
    values = np.unique(np.concatenate([sorted_times, low, high]))
    width = len(values) + 1
    packed = sorted_codes * width + np.searchsorted(values, sorted_times)
    low_keys = probe_codes * width + np.searchsorted(values, low)
    high_keys = probe_codes * width + np.searchsorted(values, high)
    start = np.searchsorted(packed, low_keys, side="left")
    end = np.searchsorted(packed, high_keys, side="right")
    counts = np.where((probe_codes >= 0) & (low <= high), np.maximum(end - start, 0), 0)
    total = int(counts.sum())
    if total == 0:
        return empty, empty
    probe = np.repeat(np.arange(len(probe_codes), dtype=np.int64), counts)
    firsts = np.cumsum(counts) - counts
    offsets = (
        np.arange(total, dtype=np.int64) - np.repeat(firsts, counts) + np.repeat(start, counts)
    )
    build = order[offsets]
    pair_order = np.lexsort((build, probe))
    return probe[pair_order], build[pair_order]


def null_frame(schema: Schema, rows: int) -> pd.DataFrame:
    """Return ``rows`` rows of NULLs in the columns of ``schema``."""
    return schema.empty_frame().reindex(range(rows))


def pair_frame(
    left: pd.DataFrame, right: pd.DataFrame, right_names: tuple[str, ...]
) -> pd.DataFrame:
    """Put the left rows and right rows of the same positions side by side."""
    right = right.set_axis(list(right_names), axis=1)
    return pd.concat([left.reset_index(drop=True), right.reset_index(drop=True)], axis=1)


def held_back(watermark: int, delay: int) -> int:
    """Return ``watermark - delay``, leaving the no-watermark and end-of-input marks as they are."""
    if watermark in (MIN_WATERMARK, MAX_WATERMARK):
        return watermark
    return max(watermark - delay, MIN_WATERMARK + 1)


def held_back_all(watermarks: np.ndarray, delay: int) -> np.ndarray:
    """Apply :func:`held_back` to every watermark of an array."""
    if delay == 0:
        return watermarks
    sentinel = (watermarks == MIN_WATERMARK) | (watermarks == MAX_WATERMARK)
    held = np.maximum(watermarks - delay, MIN_WATERMARK + 1)
    return np.where(sentinel, watermarks, held).astype(np.int64)


class JoinOperator(Operator):
    """A two-input join: port 0 is the left input, port 1 the right input."""

    arity = 2

    def __init__(self, name: str, node: Join, time_zone: str = "UTC") -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.time_zone = time_zone
        self.schemas = (node.left.schema, node.right.schema)
        self.key_exprs = (node.left_keys, node.right_keys)
        self.port_watermarks = [MIN_WATERMARK, MIN_WATERMARK]
        #: The combined watermark after the last batch.
        self.watermark = MIN_WATERMARK

    def describe(self) -> str:
        return self.node.label()

    @property
    def keeps_left_unmatched(self) -> bool:
        return self.node.kind in ("LEFT", "FULL")

    @property
    def keeps_right_unmatched(self) -> bool:
        return self.node.kind in ("RIGHT", "FULL")

    def combined_watermarks(self, batch: Batch, port: int) -> tuple[np.ndarray, int, bool]:
        """Return the combined watermark per row of ``batch``, the one after it, and whether every input ended."""
        other = self.port_watermarks[1 - port]
        marks = np.minimum(batch.row_watermarks, other).astype(np.int64, copy=False)
        current = self.port_watermarks[port]
        self.port_watermarks[port] = MAX_WATERMARK if batch.final else max(current, batch.watermark)
        ended = self.all_inputs_ended(batch, port)
        return marks, min(self.port_watermarks), ended

    def key_frame(self, port: int, frame: pd.DataFrame) -> pd.DataFrame:
        """Evaluate the join keys of one input over ``frame``."""
        context = EvalContext(now_ns=time.time_ns(), time_zone=self.time_zone)
        columns = {
            f"k{index}": evaluate(expression, frame, context).reset_index(drop=True)
            for index, expression in enumerate(self.key_exprs[port])
        }
        return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))

    def matching(self, frame: pd.DataFrame) -> np.ndarray:
        """Return which candidate pairs satisfy the rest of the ON condition."""
        if self.node.condition is None or len(frame) == 0:
            return np.ones(len(frame), dtype=bool)
        context = EvalContext(now_ns=time.time_ns(), time_zone=self.time_zone)
        return evaluate_predicate(self.node.condition, frame, context)

    def pairs_frame(
        self,
        left: pd.DataFrame | None,
        right: pd.DataFrame | None,
        rows: int,
    ) -> pd.DataFrame:
        """Return output rows from aligned left and right rows; a missing side is NULL."""
        left = left if left is not None else null_frame(self.schemas[LEFT], rows)
        if self.node.kind in ("SEMI", "ANTI"):
            return left.reset_index(drop=True)
        right = right if right is not None else null_frame(self.schemas[RIGHT], rows)
        return pair_frame(left, right, self.node.right_names)

    def assemble(
        self,
        pieces: list[Piece],
        marks: np.ndarray,
        previous: int,
        batch: Batch,
        *,
        watermark: int,
        ended: bool,
        delay: int = 0,
    ) -> Batch:
        """Order the output pieces by when they are due and give each row its watermark."""
        pieces = [piece for piece in pieces if len(piece.data)]
        if not pieces:
            empty = Batch.empty(
                self.output_schema.empty_frame(),
                held_back(watermark, delay),
                batch.ingest_ns,
                final=ended,
            )
            if self.node.updating:
                empty.row_kinds = np.empty(0, dtype=object)
            return empty
        data = (
            pieces[0].data
            if len(pieces) == 1
            else pd.concat([piece.data for piece in pieces], ignore_index=True)
        )
        after = np.concatenate([piece.after for piece in pieces])
        ranks = np.concatenate([np.full(len(piece.data), piece.rank) for piece in pieces])
        order = np.lexsort((ranks, after))
        data = data.iloc[order].reset_index(drop=True)
        after = after[order]
        due = np.full(len(after), previous, dtype=np.int64)
        emitted_in_batch = after >= 0
        due[emitted_in_batch] = marks[after[emitted_in_batch]]
        kinds = None
        if self.node.updating:
            kinds = np.concatenate(
                [np.full(len(piece.data), piece.kind, dtype=object) for piece in pieces]
            )[order]
        return Batch(
            data[self.output_schema.names],
            held_back_all(due, delay),
            held_back(watermark, delay),
            batch.ingest_ns,
            ended,
            kinds,
        )

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        state["port_watermarks"] = list(self.port_watermarks)
        state["watermark"] = self.watermark
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self.port_watermarks = list(state["port_watermarks"])
        self.watermark = state["watermark"]


class BufferedJoinOperator(JoinOperator):
    """A join that buffers the rows of both inputs in ``states``, one per side."""

    states: tuple[SideState, SideState]

    @property
    def state_rows(self) -> int:
        """Rows held in state on both inputs."""
        return len(self.states[LEFT]) + len(self.states[RIGHT])

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        state["sides"] = [side.snapshot() for side in self.states]
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        for side, saved in zip(self.states, state["sides"], strict=True):
            side.restore(saved)
