"""The micro-batch that flows between operators."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK


@dataclass
class Batch:
    """Rows in arrival order with the watermark in force when each row arrived.

    The watermark is defined per row: ``row_watermarks[i]`` is the watermark
    just before row ``i`` arrived (the largest event time of the rows before it,
    minus the declared delay). ``watermark`` is the watermark after the last
    row. Operators judge lateness per row from ``row_watermarks``, so results
    do not depend on how rows are split into batches.

    ``ingest_ns`` is the ``time.perf_counter_ns()`` reading when the source
    handed the rows to the engine, used for ingest-to-emit latency. ``final``
    marks the end of a bounded input; its watermark is MAX_WATERMARK.
    """

    data: pd.DataFrame
    row_watermarks: np.ndarray
    watermark: int
    ingest_ns: int
    final: bool = False
    #: Changelog kind per row ('+I', '-U', '+U', '-D') for updating streams, else None.
    row_kinds: np.ndarray | None = field(default=None)
    #: Early results of windows still open ('table.exec.emit.early-fire.*'): the rows
    #: show the aggregates so far and are replaced by the final rows when the windows fire.
    provisional: bool = False

    def __post_init__(self) -> None:
        if len(self.row_watermarks) != len(self.data):
            raise ValueError(
                f"batch has {len(self.data)} rows but {len(self.row_watermarks)} row watermarks"
            )

    def __len__(self) -> int:
        return len(self.data)

    @property
    def is_empty(self) -> bool:
        return len(self.data) == 0

    @property
    def is_updating(self) -> bool:
        return self.row_kinds is not None

    def take(self, mask_or_index: np.ndarray) -> Batch:
        """Return a batch with the selected rows (boolean mask or positions), same watermark."""
        data = (
            self.data[mask_or_index]
            if mask_or_index.dtype == bool
            else self.data.iloc[mask_or_index]
        )
        return Batch(
            data=data.reset_index(drop=True),
            row_watermarks=self.row_watermarks[mask_or_index],
            watermark=self.watermark,
            ingest_ns=self.ingest_ns,
            final=self.final,
            row_kinds=None if self.row_kinds is None else self.row_kinds[mask_or_index],
            provisional=self.provisional,
        )

    def with_data(self, data: pd.DataFrame) -> Batch:
        """Return a batch with new columns for the same rows."""
        return Batch(
            data,
            self.row_watermarks,
            self.watermark,
            self.ingest_ns,
            self.final,
            self.row_kinds,
            self.provisional,
        )

    @classmethod
    def empty(
        cls,
        data: pd.DataFrame,
        watermark: int = MIN_WATERMARK,
        ingest_ns: int = 0,
        final: bool = False,
    ) -> Batch:
        """Return a batch without rows that only carries a watermark (or the end of input)."""
        return cls(
            data=data.iloc[0:0],
            row_watermarks=np.empty(0, dtype=np.int64),
            watermark=MAX_WATERMARK if final else watermark,
            ingest_ns=ingest_ns,
            final=final,
        )
