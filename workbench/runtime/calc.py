"""Filter and projection, vectorized over each batch."""

from __future__ import annotations

import time

import pandas as pd

from workbench.events.batch import Batch
from workbench.runtime.operator import Operator
from workbench.sql.evaluate import EvalContext, evaluate, evaluate_predicate
from workbench.sql.expr import ColumnRef
from workbench.sql.plan import Calc


class CalcOperator(Operator):
    def __init__(self, name: str, node: Calc, time_zone: str = "UTC") -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.time_zone = time_zone
        # A projection that only selects or renames columns needs no evaluation.
        self.renames: dict[str, str] | None = None
        if all(isinstance(expr, ColumnRef) for _, expr in node.projections):
            self.renames = {
                name: expr.name for name, expr in node.projections if isinstance(expr, ColumnRef)
            }
        # Selecting every input column unchanged passes frames through untouched.
        self.passthrough = self.renames is not None and list(self.renames.items()) == [
            (column.name, column.name) for column in node.input.schema.columns
        ]

    #: Projections and filters apply to early (provisional) window results as to final ones.
    passes_provisional = True

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        if len(batch) == 0:
            return [
                Batch(
                    self.output_schema.empty_frame(),
                    batch.row_watermarks,
                    batch.watermark,
                    batch.ingest_ns,
                    batch.final,
                    batch.row_kinds,
                    batch.provisional,
                )
            ]
        context = EvalContext(
            now_ns=time.time_ns(), time_zone=self.time_zone, row_watermarks=batch.row_watermarks
        )
        if self.node.predicate is not None:
            keep = evaluate_predicate(self.node.predicate, batch.data, context)
            if not keep.all():
                batch = batch.take(keep)
                self.metrics.cast_failures += context.cast_failures
                context = EvalContext(
                    now_ns=context.now_ns,
                    time_zone=self.time_zone,
                    row_watermarks=batch.row_watermarks,
                )
        data = self._project(batch.data, context)
        self.metrics.cast_failures += context.cast_failures
        return [
            Batch(
                data,
                batch.row_watermarks,
                batch.watermark,
                batch.ingest_ns,
                batch.final,
                batch.row_kinds,
                batch.provisional,
            )
        ]

    def _project(self, frame: pd.DataFrame, context: EvalContext) -> pd.DataFrame:
        if self.passthrough:
            return frame
        if self.renames is not None:
            sources = list(self.renames.values())
            if sources != list(frame.columns):
                frame = frame[sources]
            # Renaming by position keeps the column arrays; no values are copied.
            return frame.set_axis(list(self.renames), axis=1)
        if len(frame) == 0:
            return self.output_schema.empty_frame()
        columns = {name: evaluate(expr, frame, context) for name, expr in self.node.projections}
        return pd.DataFrame(columns, index=frame.index)
