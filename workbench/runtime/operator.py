"""The operator contract shared by every physical operator, and its counters."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK

#: Latency samples kept per operator for percentiles (the most recent ones).
LATENCY_SAMPLES = 4096


@dataclass
class OperatorMetrics:
    """Counters of one operator. Latency is ingest-to-emit, per output batch.

    ``cast_failures`` counts the values that CAST could not convert and
    replaced with NULL.
    """

    rows_in: int = 0
    rows_out: int = 0
    late: int = 0
    rejected: int = 0
    cast_failures: int = 0
    batches_in: int = 0
    batches_out: int = 0
    busy_ns: int = 0
    latency_ns: list[int] = field(default_factory=list)
    latency_rows: list[int] = field(default_factory=list)

    def record_latency(self, latency: int, rows: int) -> None:
        if len(self.latency_ns) >= LATENCY_SAMPLES:
            del self.latency_ns[: LATENCY_SAMPLES // 2]
            del self.latency_rows[: LATENCY_SAMPLES // 2]
        self.latency_ns.append(latency)
        self.latency_rows.append(rows)

    def latency_percentiles(
        self, quantiles: tuple[float, ...] = (0.5, 0.95, 0.99)
    ) -> list[float | None]:
        """Return latency percentiles in milliseconds, weighting each batch by its rows."""
        if not self.latency_ns:
            return [None for _ in quantiles]
        values = np.asarray(self.latency_ns, dtype=np.float64)
        weights = np.asarray(self.latency_rows, dtype=np.float64)
        order = np.argsort(values)
        cumulative = np.cumsum(weights[order])
        total = cumulative[-1]
        result: list[float | None] = []
        for quantile in quantiles:
            index = int(np.searchsorted(cumulative, quantile * total, side="left"))
            result.append(float(values[order][min(index, len(values) - 1)]) / 1e6)
        return result


class Operator(ABC):
    """A physical operator: a frozen configuration plus runtime state.

    ``on_batch`` receives a batch on an input port and returns the batches to
    send downstream; a batch with ``final=True`` ends that input. Operators
    keep per-row watermark semantics: every decision about a row uses
    ``batch.row_watermarks`` for that row, never the batch's end watermark, so
    the output does not depend on batch boundaries.
    """

    #: Number of input ports.
    arity = 1
    #: Whether the operator handles provisional batches (early window results). Others
    #: drop them, so a stateful step never counts a result that is replaced later.
    passes_provisional = False

    def __init__(self, name: str, output_schema: Schema) -> None:
        self.name = name
        self.output_schema = output_schema
        self.metrics = OperatorMetrics()
        self.late_rows: list[pd.DataFrame] = []
        self.rejected = RejectedRows(name)
        self._ended_ports: set[int] = set()

    # The contract ----------------------------------------------------------------

    @abstractmethod
    def process(self, batch: Batch, port: int) -> list[Batch]:
        """Handle one batch (rows, a watermark advance, or the end of input)."""

    def describe(self) -> str:
        """Return the one-line description EXPLAIN and the views show."""
        return type(self).__name__

    def snapshot(self) -> dict[str, Any]:
        """Return the operator's runtime state as plain, picklable data."""
        return {"ended_ports": sorted(self._ended_ports)}

    def restore(self, state: dict[str, Any]) -> None:
        self._ended_ports = set(state.get("ended_ports", []))

    # Driving ----------------------------------------------------------------------

    def on_batch(self, batch: Batch, port: int = 0) -> list[Batch]:
        """Process a batch, updating the counters and latency; return the output batches.

        A provisional batch is processed only by operators that pass it on, and
        leaves the counters alone, so they count final rows only.
        """
        if batch.provisional:
            return self.process(batch, port) if self.passes_provisional else []
        started = time.perf_counter_ns()
        self.metrics.batches_in += 1
        self.metrics.rows_in += len(batch)
        outputs = self.process(batch, port)
        now = time.perf_counter_ns()
        self.metrics.busy_ns += now - started
        for output in outputs:
            if output.provisional:
                continue
            self.metrics.batches_out += 1
            self.metrics.rows_out += len(output)
            if len(output) and output.ingest_ns:
                self.metrics.record_latency(now - output.ingest_ns, len(output))
        return outputs

    def on_watermark(self, watermark: int, port: int = 0) -> list[Batch]:
        """Advance the watermark of an input without rows (an idle input, a timer)."""
        return self.on_batch(Batch.empty(self.output_schema.empty_frame(), watermark), port)

    def on_end(self, port: int = 0) -> list[Batch]:
        """End an input: its watermark jumps to the end and every open window fires."""
        return self.on_batch(Batch.empty(self.output_schema.empty_frame(), final=True), port)

    def all_inputs_ended(self, batch: Batch, port: int) -> bool:
        """Record that ``port`` ended if ``batch`` is final; return whether every port has."""
        if batch.final:
            self._ended_ports.add(port)
        return len(self._ended_ports) >= self.arity

    def emit_late(self, frame: pd.DataFrame, watermarks: np.ndarray, reason: str) -> None:
        """Keep late rows in the side output with the watermark they arrived under."""
        if len(frame) == 0:
            return
        visible = [name for name in frame.columns if not str(name).startswith(("$", "__"))]
        late = frame[visible].reset_index(drop=True).copy()
        late["late_watermark"] = pd.to_datetime(
            np.maximum(watermarks, MIN_WATERMARK + 1), unit="ns"
        )
        late.loc[watermarks == MIN_WATERMARK, "late_watermark"] = pd.NaT
        late["late_operator"] = self.name
        late["late_reason"] = reason
        self.late_rows.append(late)
        self.metrics.late += len(frame)


def output_batch(
    data: pd.DataFrame, row_watermarks: np.ndarray, source: Batch, watermark: int | None = None
) -> Batch:
    """Return a batch derived from ``source`` (same ingest time and end-of-input flag)."""
    return Batch(
        data=data,
        row_watermarks=row_watermarks.astype(np.int64, copy=False),
        watermark=source.watermark if watermark is None else watermark,
        ingest_ns=source.ingest_ns,
        final=source.final,
    )
