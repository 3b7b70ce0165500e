"""Aggregation without windows: an updating result, emitted as a changelog.

For every group whose aggregates changed in a batch the operator emits
``-U`` (the row it emitted before) and ``+U`` (the new row), or ``+I`` for a
group seen for the first time. Changes within one batch are folded into one
update, as Flink's mini-batch aggregation does, so the changelog (but never
the final result) depends on batch boundaries.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.nulls import is_null
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK
from workbench.runtime.aggregate_state import AggregateState, group_keys, key_columns
from workbench.runtime.columns import series_from_values
from workbench.runtime.operator import Operator
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.plan import GroupAggregate

INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = "+I", "-U", "+U", "-D"


class GroupAggregateOperator(Operator):
    def __init__(
        self,
        name: str,
        node: GroupAggregate,
        input_schema: Schema,
        user_aggregates: dict[str, UserAggregateDef] | None = None,
    ) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.input_schema = input_schema
        self.key_sets = list(node.grouping_sets) if node.grouping_sets is not None else [node.keys]
        self.states = [
            AggregateState(node.aggregates, input_schema, user_aggregates) for _ in self.key_sets
        ]
        # The row last emitted for each (grouping set, slot).
        self.emitted: list[dict[int, tuple[Any, ...]]] = [{} for _ in self.key_sets]
        self.sequence = 0
        self.watermark = MIN_WATERMARK

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        rows: list[tuple[Any, ...]] = []
        kinds: list[str] = []
        if len(batch):
            if batch.row_kinds is not None:
                raise ValueError("aggregating an updating input is not supported")
            for set_index in range(len(self.key_sets)):
                self._accumulate(batch, set_index, rows, kinds)
            self.sequence += len(batch)
        if batch.final:
            self._empty_global_result(rows, kinds)
        self.watermark = max(self.watermark, batch.watermark)
        data = self._frame(rows)
        row_watermarks = np.full(len(rows), self.watermark, dtype=np.int64)
        output = Batch(data, row_watermarks, batch.watermark, batch.ingest_ns, batch.final)
        output.row_kinds = np.array(kinds, dtype=object)
        return [output]

    def _accumulate(
        self, batch: Batch, set_index: int, rows: list[tuple[Any, ...]], kinds: list[str]
    ) -> None:
        keys = self.key_sets[set_index]
        state = self.states[set_index]
        codes, key_tuples = group_keys([batch.data[key] for key in keys], len(batch))
        slots, _ = state.slots_for(key_tuples)
        needed = state.needed_columns
        frame = {name: batch.data[name].reset_index(drop=True) for name in needed}
        sequence = self.sequence + np.arange(len(batch), dtype=np.int64)
        state.update(slots[codes], frame, sequence)
        self._changes(set_index, slots, key_tuples, rows, kinds)

    def _changes(
        self,
        set_index: int,
        slots: np.ndarray,
        key_tuples: list[tuple[Hashable, ...]],
        rows: list[tuple[Any, ...]],
        kinds: list[str],
    ) -> None:
        state = self.states[set_index]
        results = state.results(slots)
        columns = key_columns(key_tuples, 0, self.key_sets[set_index], self.input_schema)
        emitted = self.emitted[set_index]
        for position, slot in enumerate(slots.tolist()):
            values = {name: series.iloc[position] for name, series in columns.items()}
            values.update({name: series.iloc[position] for name, series in results.items()})
            row = tuple(values.get(name) for name in self.output_schema.names)
            previous = emitted.get(slot)
            if previous is not None and _same(previous, row):
                continue
            if previous is not None:
                rows.append(previous)
                kinds.append(UPDATE_BEFORE)
                kinds.append(UPDATE_AFTER)
            else:
                kinds.append(INSERT)
            rows.append(row)
            emitted[slot] = row

    def _empty_global_result(self, rows: list[tuple[Any, ...]], kinds: list[str]) -> None:
        """A global aggregate over no rows still has one result row (COUNT 0, SUM NULL)."""
        for set_index, keys in enumerate(self.key_sets):
            if keys or self.emitted[set_index]:
                continue
            state = self.states[set_index]
            slots, _ = state.slots_for([()])
            self._changes(set_index, slots, [()], rows, kinds)

    def _frame(self, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
        if not rows:
            return self.output_schema.empty_frame()
        columns = {}
        for index, column in enumerate(self.output_schema.columns):
            columns[column.name] = series_from_values([row[index] for row in rows], column.type)
        return pd.DataFrame(columns)

    def snapshot(self) -> dict[str, Any]:
        return {
            "states": [state.snapshot() for state in self.states],
            "emitted": [dict(emitted) for emitted in self.emitted],
            "sequence": self.sequence,
            "watermark": self.watermark,
        }

    def restore(self, state: dict[str, Any]) -> None:
        for aggregate, saved in zip(self.states, state["states"], strict=True):
            aggregate.restore(saved)
        self.emitted = [dict(emitted) for emitted in state["emitted"]]
        self.sequence = state["sequence"]
        self.watermark = state["watermark"]


def _same(left: tuple[Any, ...], right: tuple[Any, ...]) -> bool:
    """Return whether two result rows are equal, NULL matching NULL."""
    for a, b in zip(left, right, strict=True):
        if is_null(a) or is_null(b):
            if is_null(a) != is_null(b):
                return False
            continue
        if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
            if a != b:
                return False
            continue
        if bool(a != b):
            return False
    return True
