"""Grouped aggregate state: a slot table plus one accumulator per aggregate call."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.schema import Schema
from workbench.runtime.accumulators import Accumulator, make_accumulator
from workbench.runtime.columns import series_from_values
from workbench.runtime.slots import SlotTable, factorize_rows, key_value
from workbench.sql.aggregates import UserAggregateDef
from workbench.sql.plan import AggCall


class AggregateState:
    """Aggregates of every group seen so far, addressed by slot.

    With ``keyed`` (the default) a :class:`SlotTable` maps key tuples to
    slots (:meth:`slots_for`). Without it the caller manages slots itself,
    calling :meth:`grow` as its slot space grows and :meth:`clear` on new slots.
    """

    def __init__(
        self,
        calls: Sequence[AggCall],
        input_schema: Schema,
        user_aggregates: dict[str, UserAggregateDef] | None = None,
        *,
        keyed: bool = True,
    ) -> None:
        self.calls = tuple(calls)
        self.accumulators: list[Accumulator] = []
        # The (call, accumulator) pairs that keep state; the others read another's state.
        self.stateful: list[tuple[AggCall, Accumulator]] = []
        for call in self.calls:
            arg_types = [_column_type(input_schema, name) for name in call.args]
            accumulator = make_accumulator(call, arg_types, user_aggregates)
            owner = next(
                (kept for _, kept in self.stateful if accumulator.shares_state_with(kept)), None
            )
            if owner is None:
                self.stateful.append((call, accumulator))
            else:
                accumulator.read_from(owner)
            self.accumulators.append(accumulator)
        self.table = SlotTable(self.grow) if keyed else None
        self.needed_columns = sorted(
            {name for call in self.calls for name in call.args}
            | {call.filter for call in self.calls if call.filter}
        )

    def grow(self, capacity: int) -> None:
        for _, accumulator in self.stateful:
            accumulator.grow(capacity)

    def clear(self, slots: np.ndarray) -> None:
        """Reset slots to the empty state (before they hold a new group)."""
        if len(slots):
            for _, accumulator in self.stateful:
                accumulator.clear(slots)

    def __len__(self) -> int:
        return len(self.table) if self.table is not None else 0

    def slots_for(self, keys: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray]:
        """Return the slot of each key (new slots start empty) and which were created."""
        assert self.table is not None
        slots, created = self.table.lookup(keys)
        self.clear(slots[created])
        return slots, created

    def update(
        self, row_slots: np.ndarray, frame: Mapping[str, pd.Series], sequence: np.ndarray
    ) -> None:
        """Fold rows into their slots: ``row_slots[i]`` for row i of the columns in ``frame``."""
        for call, accumulator in self.stateful:
            slots, args, numbers = row_slots, [frame[name] for name in call.args], sequence
            if call.filter is not None:
                keep = frame[call.filter].fillna(False).to_numpy(dtype=bool)
                if not keep.all():
                    slots, numbers = slots[keep], numbers[keep]
                    args = [arg[keep] for arg in args]
            if len(slots):
                accumulator.update(slots, args, numbers)

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for _, accumulator in self.stateful:
            accumulator.merge(target, source)

    def results(self, slots: np.ndarray) -> dict[str, pd.Series]:
        return {
            call.output: accumulator.result(slots).reset_index(drop=True)
            for call, accumulator in zip(self.calls, self.accumulators, strict=True)
        }

    def release(self, slots: Sequence[int]) -> None:
        assert self.table is not None
        self.table.release(slots)

    def snapshot(self) -> dict[str, Any]:
        return {
            "table": self.table.snapshot() if self.table is not None else None,
            "accumulators": [accumulator.snapshot() for accumulator in self.accumulators],
        }

    def restore(self, state: dict[str, Any]) -> None:
        if self.table is not None:
            self.table.restore(state["table"])
        for accumulator, saved in zip(self.accumulators, state["accumulators"], strict=True):
            accumulator.restore(saved)


def _column_type(schema: Schema, name: str) -> Any:
    column = schema.find(name)
    if column is None:
        raise KeyError(f"aggregate argument {name!r} is not a column of {schema.names}")
    return column.type


def group_keys(
    columns: Sequence[np.ndarray | pd.Series], rows: int | None = None
) -> tuple[np.ndarray, list[tuple[Hashable, ...]]]:
    """Return (codes, keys): each row's group number and each group's key tuple.

    Without columns every row is in one group; ``rows`` then gives the row count.
    """
    if not columns:
        count = rows or 0
        return np.zeros(count, dtype=np.int64), [()] if count else []
    codes, first_rows = factorize_rows(columns)
    materialized: list[list[Any]] = []
    for column in columns:
        if isinstance(column, np.ndarray):
            materialized.append(column[first_rows].tolist())
            continue
        values = column.iloc[first_rows]
        if values.isna().any() or values.dtype == object:
            materialized.append([key_value(value) for value in values.tolist()])
        else:
            materialized.append(values.tolist())
    return codes, list(zip(*materialized, strict=True))


def key_columns(
    keys: Sequence[tuple[Hashable, ...]], offset: int, names: Sequence[str], schema: Schema
) -> dict[str, pd.Series]:
    """Rebuild typed key columns from key tuples (skipping ``offset`` leading parts)."""
    columns: dict[str, pd.Series] = {}
    for position, name in enumerate(names):
        column = schema.find(name)
        assert column is not None
        values = [key[offset + position] for key in keys]
        columns[name] = series_from_values(values, column.type)
    return columns
