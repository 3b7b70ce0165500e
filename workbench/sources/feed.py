"""A feed for the replay clock: a reader, its event-time column and a read cursor."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import SourceError, WorkbenchError
from workbench.events import kernels
from workbench.events.time import MIN_WATERMARK, to_ns
from workbench.sources.reader import Reader

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Feed:
    """A named reader replayed by the clock; ``time_column`` holds its event time."""

    name: str
    reader: Reader
    time_column: str | None = None


class FeedCursor:
    """The rows of one feed that are read but not yet delivered.

    ``running[i]`` is the largest event time, in nanoseconds, of the pending
    rows up to ``i`` and of every row before them. Rows with a null event
    time take the maximum before them, so they never move time backwards.
    """

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.time_column = _resolve_time_column(feed)
        self.rows = 0
        self.latest = MIN_WATERMARK
        self.ended = False
        self.error: WorkbenchError | None = None
        self._chunks: Iterator[pd.DataFrame] | None = None
        self._pending: pd.DataFrame | None = None
        self._running = np.empty(0, dtype=np.int64)
        self._offset = 0
        self._carry = MIN_WATERMARK

    @property
    def name(self) -> str:
        return self.feed.name

    @property
    def timed(self) -> bool:
        return self.time_column is not None

    @property
    def available(self) -> int:
        """Return how many loaded rows are waiting."""
        return 0 if self._pending is None else len(self._pending) - self._offset

    def restart(self) -> None:
        self.rows = 0
        self.latest = MIN_WATERMARK
        self.ended = False
        self.error = None
        self._chunks = None
        self._pending = None
        self._running = np.empty(0, dtype=np.int64)
        self._offset = 0
        self._carry = MIN_WATERMARK

    def load(self) -> bool:
        """Make rows available, reading the next chunks; return False at the end.

        A reader that fails ends the feed early, and ``error`` is then the
        failure, so the clock can fail the queries that read this feed alone.
        """
        while self.available == 0:
            if self.error is not None:
                return False
            if self._chunks is None:
                self._chunks = iter(self.feed.reader.chunks())
            try:
                chunk = next(self._chunks, None)
            except WorkbenchError as error:
                self.error = error
                chunk = None
            except Exception as error:  # a defect in a reader must not stop the other feeds
                logger.debug("reading feed '%s' failed", self.name, exc_info=True)
                self.error = SourceError(
                    f"reading '{self.name}' failed: {type(error).__name__}: {error}"
                )
                chunk = None
            if chunk is None:
                self._pending = None
                return False
            self._set_pending(chunk)
        return True

    def _set_pending(self, chunk: pd.DataFrame) -> None:
        self._pending = chunk
        self._offset = 0
        if self.time_column is None or len(chunk) == 0:
            self._running = np.full(len(chunk), self._carry, dtype=np.int64)
            return
        times = np.ascontiguousarray(to_ns(chunk[self.time_column]), dtype=np.int64)
        running = np.empty(len(times), dtype=np.int64)
        self._carry = int(kernels.running_max(times, self._carry, running))
        self._running = running

    def next_time(self) -> int:
        """Return the running event time of the next available row."""
        return int(self._running[self._offset])

    def first_time(self) -> int | None:
        """Return the first non-null event time among the available rows, if any."""
        known = self._running[self._offset :]
        known = known[known != MIN_WATERMARK]
        return int(known[0]) if len(known) else None

    def count_until(self, bound: int) -> int:
        """Return how many available rows have a running event time at most ``bound``."""
        window = self._running[self._offset :]
        return int(np.searchsorted(window, bound, side="right"))

    def take(self, count: int) -> pd.DataFrame:
        """Remove and return the next ``count`` available rows."""
        assert self._pending is not None
        stop = self._offset + count
        rows = self._pending.iloc[self._offset : stop].reset_index(drop=True)
        if count:
            self.latest = max(self.latest, int(self._running[stop - 1]))
        self._offset = stop
        self.rows += count
        return rows


def _resolve_time_column(feed: Feed) -> str | None:
    if feed.time_column is None:
        return None
    schema = feed.reader.schema
    column = schema.find(feed.time_column)
    if column is None:
        message = (
            f"feed '{feed.name}': time column '{feed.time_column}' is not among its "
            f"columns: {', '.join(schema.names)}"
        )
        raise SourceError(message)
    if not column.type.is_timestamp:
        message = (
            f"feed '{feed.name}': time column '{column.name}' has type "
            f"{column.type.sql()}, expected TIMESTAMP or TIMESTAMP_LTZ"
        )
        raise SourceError(message)
    return column.name
