"""The entry operator of a table: computed columns, event time and per-row watermarks."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.rejected import FILE_COLUMN, LINE_COLUMN, OFFSET_COLUMN
from workbench.events.time import MIN_WATERMARK, floor_ns, has_unaligned, to_ns
from workbench.runtime import kernels
from workbench.runtime.operator import Operator
from workbench.sql.evaluate import EvalContext, evaluate
from workbench.sql.plan import Scan


class ScanOperator(Operator):
    """Turn conformed chunks of a table into batches with per-row watermarks.

    After each row the watermark is the largest event time seen so far minus
    the declared delay; ``row_watermarks[i]`` is the value just before row i.
    A row without event time cannot be placed in time: it is rejected.
    """

    arity = 0

    def __init__(self, name: str, node: Scan, time_zone: str = "UTC") -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.time_zone = time_zone
        self.watermark = MIN_WATERMARK
        self.rows_seen = 0
        self.precision_ns = 1
        if node.watermark is not None:
            column = node.schema.find(node.watermark.column)
            assert column is not None
            self.precision_ns = column.type.precision_ns

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        raise TypeError("a scan receives chunks through ingest(), not batches")

    def ingest(self, frame: pd.DataFrame) -> Batch:
        """Return the batch for one chunk of rows read from the table."""
        ingest_ns = time.perf_counter_ns()
        self.metrics.batches_in += 1
        self.metrics.rows_in += len(frame)
        context = EvalContext(now_ns=time.time_ns(), time_zone=self.time_zone, row_watermarks=None)
        data = self._with_computed_columns(frame, context)
        self.metrics.cast_failures += context.cast_failures
        watermarks = np.full(len(data), self.watermark, dtype=np.int64)
        spec = self.node.watermark
        if spec is not None and len(data):
            data, timestamps = self._event_times(data, spec.column, frame)
            watermarks = np.empty(len(timestamps), dtype=np.int64)
            self.watermark = int(
                kernels.row_watermarks(
                    np.ascontiguousarray(timestamps, dtype=np.int64),
                    spec.delay_ns,
                    self.watermark,
                    watermarks,
                )
            )
        self.rows_seen += len(frame)
        batch = Batch(data, watermarks, self.watermark, ingest_ns)
        self.metrics.batches_out += 1
        self.metrics.rows_out += len(batch)
        return batch

    def advance(self, event_time_ns: int) -> Batch | None:
        """Return a batch without rows that moves the watermark to ``event_time_ns`` minus the delay.

        A live table that has been quiet for its idle timeout calls this, so
        its windows close. Returns None when the watermark would not move.
        """
        spec = self.node.watermark
        if spec is None:
            return None
        watermark = event_time_ns - spec.delay_ns
        if watermark <= self.watermark:
            return None
        self.watermark = watermark
        return Batch.empty(
            self.output_schema.empty_frame(), watermark, ingest_ns=time.perf_counter_ns()
        )

    def finish(self) -> Batch:
        """Return the final batch: the end of a bounded input fires everything."""
        return Batch.empty(
            self.output_schema.empty_frame(), ingest_ns=time.perf_counter_ns(), final=True
        )

    def _with_computed_columns(self, frame: pd.DataFrame, context: EvalContext) -> pd.DataFrame:
        if not self.node.computed:
            return (
                frame[self.output_schema.names]
                if list(frame.columns) != self.output_schema.names
                else frame
            )
        columns = {name: frame[name] for name in self.node.physical.names}
        for name, expression in self.node.computed:
            columns[name] = evaluate(expression, frame, context)
        return pd.DataFrame(columns, index=frame.index)[self.output_schema.names]

    def _event_times(
        self, data: pd.DataFrame, column: str, chunk: pd.DataFrame
    ) -> tuple[pd.DataFrame, np.ndarray]:
        timestamps = to_ns(data[column])
        missing = timestamps == MIN_WATERMARK
        if missing.any():
            rejected = np.flatnonzero(missing)
            for position in rejected.tolist():
                self._reject(f"NULL event time in column {column!r}", data, chunk, position)
            self.metrics.rejected += len(rejected)
            keep = ~missing
            data = data[keep].reset_index(drop=True)
            timestamps = timestamps[keep]
        # The event-time column has its declared precision (TIMESTAMP(3): milliseconds).
        if self.precision_ns > 1 and has_unaligned(timestamps, self.precision_ns):
            timestamps = floor_ns(timestamps, self.precision_ns)
            truncated = pd.Series(timestamps.view("datetime64[ns]"))
            if isinstance(data[column].dtype, pd.DatetimeTZDtype):
                truncated = truncated.dt.tz_localize("UTC")
            data = data.copy()
            truncated.index = data.index
            data[column] = truncated
        return data, timestamps

    def _reject(self, reason: str, data: pd.DataFrame, chunk: pd.DataFrame, position: int) -> None:
        """Reject one row, placed by the position columns its reader added to the chunk.

        Without them, the offset counts the rows this scan has received, which
        is the row's offset in a DataFrame input that has had no rejected rows.
        """
        line = offset = None
        if LINE_COLUMN in chunk.columns:
            line = int(chunk[LINE_COLUMN].to_numpy()[position])
        if OFFSET_COLUMN in chunk.columns:
            offset = int(chunk[OFFSET_COLUMN].to_numpy()[position])
        elif line is None:
            offset = self.rows_seen + position
        if FILE_COLUMN in chunk.columns:
            reason = f"{chunk[FILE_COLUMN].iat[position]}: {reason}"
        row = data.iloc[position]
        self.rejected.add(reason, repr(row.to_dict()), line=line, offset=offset)

    def snapshot(self) -> dict[str, Any]:
        return {"watermark": self.watermark, "rows_seen": self.rows_seen}

    def restore(self, state: dict[str, Any]) -> None:
        self.watermark = state["watermark"]
        self.rows_seen = state["rows_seen"]
