"""Reader of an in-memory pandas DataFrame."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import pandas as pd

from workbench.events.conform import ConformOptions, conform
from workbench.events.rejected import RejectedRows, with_positions
from workbench.events.schema import Schema
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, ReaderCounters


class DataFrameReader:
    """Yields a DataFrame in conformed chunks; rejected rows carry their row offset.

    With ``positions``, chunks carry each row's offset in a hidden column, for
    the scan's rejected rows, once a row has been rejected here. Before that,
    the scan's count of rows received is the offset, and the hot path of a
    clean DataFrame carries no extra column.
    """

    def __init__(
        self,
        name: str,
        frame: pd.DataFrame,
        schema: Schema,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        *,
        conform_options: ConformOptions | None = None,
        positions: bool = False,
    ) -> None:
        if chunk_rows < 1:
            message = f"chunk_rows must be at least 1, got {chunk_rows}"
            raise ValueError(message)
        self.name = name
        self.frame = frame
        self.schema = schema
        self.chunk_rows = chunk_rows
        self.conform_options = conform_options or ConformOptions()
        self.rejected = RejectedRows(name)
        self.counters = ReaderCounters()
        self.positions = positions
        self._position = 0

    @property
    def size_unit(self) -> Literal["bytes", "rows"]:
        return "rows"

    def size_hint(self) -> int | None:
        return len(self.frame)

    def position(self) -> int:
        return self._position

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield conformed chunks from the first row."""
        self.counters = ReaderCounters()
        self.rejected.clear()
        self._position = 0
        for start in range(0, len(self.frame), self.chunk_rows):
            part = self.frame.iloc[start : start + self.chunk_rows]
            offsets = np.arange(start, start + len(part), dtype=np.int64)
            before = len(self.rejected)
            chunk = conform(
                part,
                self.schema,
                self.rejected,
                offsets=offsets,
                options=self.conform_options,
            )
            self._position = start + len(part)
            added = len(self.rejected) - before
            self.counters.rows_rejected += added
            if self.positions and self.counters.rows_rejected:
                chunk = with_positions(chunk, offsets=self._kept(offsets, before, added))
            self.counters.rows_read += len(chunk)
            self.counters.chunks += 1
            yield chunk

    def _kept(self, offsets: np.ndarray, before: int, added: int) -> np.ndarray:
        """Return the offsets of a chunk's rows that were not rejected since ``before``."""
        if not added:
            return offsets
        dropped = [row[2] for row in self.rejected.rows[before:] if row[2] is not None]
        return offsets[~np.isin(offsets, dropped)]
