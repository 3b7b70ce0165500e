"""A window table-valued function on its own: each row once per window it belongs to."""

from __future__ import annotations

import numpy as np

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import to_ns
from workbench.events.types import DataType
from workbench.runtime.operator import Operator
from workbench.runtime.windows import WindowClock, assign, processing_time_batch, window_bound
from workbench.sql.plan import WindowTableFunction


class WindowTableOperator(Operator):
    """TUMBLE, HOP and CUMULATE without aggregation.

    Rows are emitted as they arrive, once for each of their windows that has
    not fired yet; a row whose windows have all fired is late.
    """

    def __init__(
        self, name: str, node: WindowTableFunction, input_schema: Schema, zone: str | None = None
    ) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.input_schema = input_schema
        self.clock = WindowClock(zone)
        self.bound_type = _plain_type(node.schema, "window_start")
        self.time_type = _plain_type(node.schema, "window_time")

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        batch = processing_time_batch(batch, self.node.window)
        if len(batch) == 0:
            return [
                Batch.empty(
                    self.output_schema.empty_frame(), batch.watermark, batch.ingest_ns, batch.final
                )
            ]
        spec = self.node.window
        rows, start, end = assign(spec, self.clock.local(to_ns(batch.data[spec.time_column])))
        closes = self.clock.instants(end) - spec.precision_ns
        counted = closes > batch.row_watermarks[rows]
        seen = np.zeros(len(batch), dtype=bool)
        seen[rows[counted]] = True
        late = np.flatnonzero(~seen)
        if len(late):
            self.emit_late(
                batch.data.iloc[late],
                batch.row_watermarks[late],
                "every window of the row had already fired",
            )
        rows, start, end, closes = rows[counted], start[counted], end[counted], closes[counted]
        data = batch.data.take(rows).reset_index(drop=True)
        data["window_start"] = window_bound(start, self.bound_type)
        data["window_end"] = window_bound(end, self.bound_type)
        data["window_time"] = window_bound(closes, self.time_type)
        return [
            Batch(
                data[self.output_schema.names],
                batch.row_watermarks[rows],
                batch.watermark,
                batch.ingest_ns,
                batch.final,
            )
        ]


def _plain_type(schema: Schema, name: str) -> DataType:
    column = schema.find(name)
    assert column is not None
    return column.type.plain()
