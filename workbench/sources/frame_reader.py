"""Reader of an in-memory pandas DataFrame."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import pandas as pd

from workbench.events.conform import ConformOptions, conform
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, ReaderCounters


class DataFrameReader:
    """Yields a DataFrame in conformed chunks; rejected rows carry their row offset."""

    def __init__(
        self,
        name: str,
        frame: pd.DataFrame,
        schema: Schema,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        *,
        conform_options: ConformOptions | None = None,
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
            self.counters.rows_rejected += len(self.rejected) - before
            self.counters.rows_read += len(chunk)
            self.counters.chunks += 1
            yield chunk
