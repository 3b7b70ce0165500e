"""UNION ALL: merge the rows of several inputs; the watermark is the smallest input's."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.events.batch import Batch
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK
from workbench.runtime.operator import Operator
from workbench.sql.plan import Union


class UnionOperator(Operator):
    def __init__(self, name: str, node: Union) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.arity = len(node.branches)
        self.port_watermarks = [MIN_WATERMARK] * self.arity

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        others = min(
            (wm for index, wm in enumerate(self.port_watermarks) if index != port),
            default=MAX_WATERMARK,
        )
        row_watermarks = np.minimum(batch.row_watermarks, others)
        self.port_watermarks[port] = (
            MAX_WATERMARK if batch.final else max(self.port_watermarks[port], batch.watermark)
        )
        ended = self.all_inputs_ended(batch, port)
        watermark = min(self.port_watermarks)
        data = (
            batch.data.set_axis(self.output_schema.names, axis=1)
            if len(batch.data.columns)
            else batch.data
        )
        output = Batch(data, row_watermarks, watermark, batch.ingest_ns, ended, batch.row_kinds)
        return [output]

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        state["port_watermarks"] = list(self.port_watermarks)
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self.port_watermarks = list(state["port_watermarks"])
