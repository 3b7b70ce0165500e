"""The end of a query's graph: collect its output and hand it to sinks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.runtime.slots import key_value

Writer = Callable[[pd.DataFrame], None]

#: Column of a changelog frame holding the kind of change of each row.
OP_COLUMN = "op"
#: Column of a kept provisional frame: how many final rows were emitted before it.
AFTER_COLUMN = "__after"


class ResultCollector:
    """Keeps a query's output rows (or changelog) and forwards them to writers.

    ``keep`` False forwards to the writers only, so an unbounded INSERT does
    not grow memory. ``on_rows`` is called after every non-empty batch (views
    and live displays use it). With ``max_rows`` set (queries on live feeds),
    at most about that many rows are kept: the oldest appended rows are
    discarded, and an updating result's changelog is folded into its current
    state. ``rows_discarded`` counts the rows no longer kept.

    Provisional rows (early window results) go to ``provisional`` only, each
    frame with the number of final rows emitted before it in column
    ``__after``. They are not counted in ``rows`` and not written to sinks.
    """

    def __init__(
        self,
        schema: Schema,
        *,
        updating: bool,
        writers: list[Writer] | None = None,
        keep: bool = True,
        on_rows: Callable[[Batch], None] | None = None,
    ) -> None:
        self.schema = schema
        self.updating = updating
        self.writers = writers or []
        self.keep = keep
        self.on_rows = on_rows
        self.frames: list[pd.DataFrame] = []
        self.rows = 0
        self.watermark: int | None = None
        self.finished = False
        self.max_rows: int | None = None
        self.rows_discarded = 0
        self._kept = 0
        self._compact_at: int | None = None
        self.provisional: list[pd.DataFrame] = []

    def process(self, batch: Batch) -> None:
        if batch.provisional:
            self._keep_provisional(batch)
            return
        self.watermark = batch.watermark
        if batch.final:
            self.finished = True
        if len(batch) == 0:
            return
        data = batch.data.reset_index(drop=True)
        if self.updating:
            kinds = (
                batch.row_kinds
                if batch.row_kinds is not None
                else np.full(len(data), "+I", dtype=object)
            )
            data = data.assign(**{OP_COLUMN: kinds})
        self.rows += len(data)
        if self.keep:
            self.frames.append(data)
            self._kept += len(data)
            if self.max_rows is not None and self._kept > (self._compact_at or self.max_rows):
                self._compact(self.max_rows)
        for write in self.writers:
            write(data)
        if self.on_rows is not None:
            self.on_rows(batch)

    def _keep_provisional(self, batch: Batch) -> None:
        if len(batch) == 0 or not self.keep:
            return
        frame = batch.data.reset_index(drop=True).assign(**{AFTER_COLUMN: self.rows})
        self.provisional.append(frame)
        if self.max_rows is not None and len(self.provisional) > 1:
            kept = sum(len(part) for part in self.provisional)
            while kept > self.max_rows and len(self.provisional) > 1:
                kept -= len(self.provisional.pop(0))

    def with_provisional(self) -> pd.DataFrame:
        """Return every appended row and every provisional row in emission order.

        Column ``provisional`` is True for the early results.
        """
        final = self.output().assign(provisional=False)
        if not self.provisional:
            return final
        early = pd.concat(self.provisional, ignore_index=True)
        positions = early.pop(AFTER_COLUMN).to_numpy()
        early = early.assign(provisional=True)
        # Each provisional row comes after the final rows emitted before it; a stable
        # sort on that position keeps the order of emission within each side.
        order = np.concatenate([np.arange(len(final)), positions - 0.5])
        merged = pd.concat([final, early], ignore_index=True)
        return merged.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)

    def _compact(self, max_rows: int) -> None:
        """Keep about ``max_rows`` rows: the newest appended rows, or an updating result's state."""
        frame = self.output()
        if self.updating:
            state = materialize(frame, self.schema)
            kept = state.assign(**{OP_COLUMN: "+I"})
            # A state larger than the limit is kept whole; fold again once it doubles.
            self._compact_at = max(max_rows, 2 * len(kept))
        else:
            kept = frame.iloc[-max_rows:].reset_index(drop=True)
        self.rows_discarded += len(frame) - len(kept)
        self.frames = [kept]
        self._kept = len(kept)

    def output(self) -> pd.DataFrame:
        """Return every row emitted so far (for updating results: the changelog)."""
        if not self.frames:
            empty = self.schema.empty_frame()
            if self.updating:
                empty[OP_COLUMN] = pd.Series([], dtype=object)
            return empty
        return pd.concat(self.frames, ignore_index=True)

    def to_pandas(self) -> pd.DataFrame:
        """Return the result: appended rows, or an updating result's current state."""
        frame = self.output()
        if not self.updating:
            return frame
        return materialize(frame, self.schema)

    def clear(self) -> None:
        self.frames.clear()
        self.provisional.clear()
        self._kept = 0
        self._compact_at = None
        self.rows_discarded = 0
        self.rows = 0
        self.watermark = None
        self.finished = False


def materialize(changelog: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Apply a changelog: +I/+U add a row, -U/-D remove one equal row.

    The result keeps the order in which surviving rows were last added.
    """
    if len(changelog) == 0:
        return schema.empty_frame()
    data = changelog.drop(columns=OP_COLUMN)
    keys = [
        tuple(key_value(value) for value in row) for row in data.itertuples(index=False, name=None)
    ]
    live: Counter[Any] = Counter()
    last_added: dict[Any, int] = {}
    for position, (key, kind) in enumerate(zip(keys, changelog[OP_COLUMN].tolist(), strict=True)):
        if kind in ("+I", "+U"):
            live[key] += 1
            last_added[key] = position
        else:
            live[key] -= 1
    positions: list[int] = []
    for key, count in live.items():
        if count > 0:
            positions.extend([last_added[key]] * count)
    positions.sort()
    return data.iloc[positions].reset_index(drop=True)
