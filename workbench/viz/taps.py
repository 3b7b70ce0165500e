"""Taps on a query's input: the rows its scans emit, sampled and bounded for a chart.

A chart that draws the events a query reads attaches an :class:`InputTap`
to the streamz nodes of the query's scans. The tap keeps references to the
columns it needs and thins them out once more than ``limit`` rows wait for
the next refresh. So a fast replay costs the chart a bounded amount of
memory and of data sent to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from streamz import Stream
from streamz.sinks import _global_sinks

from workbench.events.batch import Batch
from workbench.runtime.pipeline import Pipeline
from workbench.viz.base import guarded

__all__ = ["InputTap", "Sample"]


@dataclass
class Sample:
    """Rows taken from the input since the last refresh, with the watermark before each row."""

    frame: pd.DataFrame
    row_watermarks: np.ndarray
    #: Rows the scans emitted in that time, the sampled ones included.
    seen: int
    #: The watermark after the last row seen, or None before the first batch.
    watermark: int | None
    feeds: list[str] = field(default_factory=list)


class InputTap:
    """Collects a sample of the rows every scan of a pipeline emits.

    ``columns`` maps a scan's output column to the name the sample uses; a
    scan that lacks one of them is not tapped. At most ``limit`` rows wait
    between two calls of :meth:`take`: past that, every other row is
    dropped and later batches are thinned by the same factor.
    """

    def __init__(self, pipeline: Pipeline, columns: dict[str, str], limit: int = 5_000) -> None:
        self.columns = columns
        self.limit = limit
        self.sinks: list[Any] = []
        self._frames: list[pd.DataFrame] = []
        self._watermarks: list[np.ndarray] = []
        self._waiting = 0
        self._stride = 1
        self._seen = 0
        self._watermark: int | None = None
        self.feeds: list[str] = []
        for entry in pipeline.entries:
            names = set(entry.operator.output_schema.names)
            if not set(columns) <= names:
                continue
            self.feeds.append(entry.feed)
            stream: Stream = entry.stream
            self.sinks.append(stream.sink(guarded(self._receive, "collecting input rows")))

    def _receive(self, batch: Batch) -> None:
        self._watermark = batch.watermark if not batch.final else self._watermark
        if len(batch) == 0:
            return
        self._seen += len(batch)
        positions = np.arange(0, len(batch), self._stride)
        frame = batch.data[list(self.columns)]
        if self._stride > 1:
            frame = frame.iloc[positions]
        self._frames.append(frame.rename(columns=self.columns))
        self._watermarks.append(batch.row_watermarks[positions])
        self._waiting += len(positions)
        if self._waiting > self.limit:
            self._thin()

    def _thin(self) -> None:
        frame = pd.concat(self._frames, ignore_index=True).iloc[::2]
        watermarks = np.concatenate(self._watermarks)[::2]
        self._frames = [frame.reset_index(drop=True)]
        self._watermarks = [watermarks]
        self._waiting = len(frame)
        self._stride *= 2

    def take(self) -> Sample:
        """Return the rows sampled since the last call and start a new sample."""
        if self._frames:
            frame = pd.concat(self._frames, ignore_index=True)
            watermarks = np.concatenate(self._watermarks)
        else:
            frame = pd.DataFrame({name: [] for name in self.columns.values()})
            watermarks = np.empty(0, dtype=np.int64)
        sample = Sample(frame, watermarks, self._seen, self._watermark, list(self.feeds))
        self._frames = []
        self._watermarks = []
        self._waiting = 0
        self._stride = 1
        self._seen = 0
        return sample

    def close(self) -> None:
        """Detach from the scans: the pipeline no longer calls the tap."""
        for sink in self.sinks:
            sink.destroy()
            # streamz's sink.destroy disconnects the node but leaves it in the
            # module's set of live sinks, which would keep the chart alive.
            _global_sinks.discard(sink)
        self.sinks.clear()
        self._frames = []
        self._watermarks = []
