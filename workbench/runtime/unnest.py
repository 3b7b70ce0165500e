"""CROSS JOIN UNNEST: repeat each input row once per element of an array or map entry.

Output rows keep the order of their input rows, and the rows of one input
row keep the order of its elements. Each output row carries its input
row's watermark, so the step keeps no state and does not depend on batch
boundaries.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.types import TypeKind
from workbench.runtime.columns import series_from_values
from workbench.runtime.operator import Operator
from workbench.sql.evaluate import EvalContext, evaluate
from workbench.sql.plan import Unnest


class UnnestOperator(Operator):
    def __init__(self, name: str, node: Unnest, time_zone: str = "UTC") -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.time_zone = time_zone
        kind = node.expression.type
        self.is_map = kind.kind is TypeKind.MAP
        item = kind.element if kind.kind is TypeKind.ARRAY else None
        self.fields = (
            [field.name for field in item.fields]
            if item is not None and item.kind is TypeKind.ROW
            else None
        )
        self.element_types = [node.schema.find(name).type for name in node.columns]  # type: ignore[union-attr]

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
                )
            ]
        context = EvalContext(
            now_ns=time.time_ns(), time_zone=self.time_zone, row_watermarks=batch.row_watermarks
        )
        values = evaluate(self.node.expression, batch.data, context).reset_index(drop=True)
        self.metrics.cast_failures += context.cast_failures
        if self.is_map:
            # A map's entries unnest as (key, value) pairs.
            values = values.map(
                lambda entries: list(entries.items()) if isinstance(entries, dict) else None
            )

        lengths = values.str.len().fillna(0).to_numpy(dtype=np.int64)
        exploded = values.explode()
        present = np.repeat(lengths > 0, np.maximum(lengths, 1))
        elements = exploded.to_numpy(dtype=object)[present]
        counts = np.maximum(lengths, 1) if self.node.outer else lengths
        rows = np.repeat(np.arange(len(batch), dtype=np.int64), counts)
        data = batch.data.reset_index(drop=True).take(rows).reset_index(drop=True)
        positions = np.arange(len(rows), dtype=np.int64) - np.repeat(
            np.cumsum(counts) - counts, counts
        )
        filled = np.repeat(lengths > 0, counts)

        items = np.full(len(rows), None, dtype=object)
        items[filled] = elements
        for name, column in zip(self.node.columns, self._columns(items.tolist()), strict=True):
            data[name] = column
        if self.node.ordinality is not None:
            ordinal = pd.array(positions + 1, dtype="Int32")
            ordinal[~filled] = pd.NA
            data[self.node.ordinality] = ordinal
        return [
            Batch(
                data[self.output_schema.names],
                batch.row_watermarks[rows],
                batch.watermark,
                batch.ingest_ns,
                batch.final,
            )
        ]

    def _columns(self, items: list[object]) -> list[pd.Series]:
        """Return the output columns of the elements: one, one per ROW field, or key and value."""
        if self.fields is not None:
            parts = [
                [item.get(field) if isinstance(item, dict) else None for item in items]
                for field in self.fields
            ]
        elif self.is_map:
            parts = [
                [item[0] if isinstance(item, tuple) else None for item in items],
                [item[1] if isinstance(item, tuple) else None for item in items],
            ]
        else:
            parts = [items]
        return [
            series_from_values(values, kind)
            for values, kind in zip(parts, self.element_types, strict=True)
        ]
