"""Dense slot numbers for group keys, so aggregate state lives in numpy arrays."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.nulls import is_null


def key_value(value: Any) -> Hashable:
    """Return a hashable, comparable form of one key value: every NULL becomes None."""
    if is_null(value):
        return None
    if isinstance(value, list):
        return tuple(key_value(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((k, key_value(v)) for k, v in value.items()))
    if isinstance(value, np.generic):
        return value.item()
    return value


def factorize_rows(columns: Sequence[np.ndarray | pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by the values of several columns.

    Returns (codes, first_rows): ``codes[i]`` numbers row i's distinct key in
    order of first appearance, and ``first_rows[c]`` is the first row with code c.
    NULLs form a group of their own.
    """
    length = len(columns[0]) if columns else 0
    if not columns:
        return np.zeros(length, dtype=np.int64), np.zeros(min(length, 1), dtype=np.int64)
    combined: np.ndarray | None = None
    radix = 1
    for column in columns:
        codes, size = _factorize_column(column)
        if combined is None:
            combined, radix = codes, size
        elif radix * size < 2**62:
            combined = combined * size + codes
            radix *= size
        else:
            # Too many distinct combinations for one integer: renumber the pairs.
            combined = _pair_codes(combined, codes)
            radix = int(combined.max()) + 1 if len(combined) else 1
    assert combined is not None
    group_codes, group_uniques = pd.factorize(combined, use_na_sentinel=False)
    first_rows = np.full(len(group_uniques), -1, dtype=np.int64)
    positions = np.arange(length, dtype=np.int64)
    # Assign in reverse so the first occurrence wins.
    first_rows[group_codes[::-1]] = positions[::-1]
    return group_codes.astype(np.int64), first_rows


def _factorize_column(column: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
    except TypeError:
        # Nested values (dicts, lists) are not hashable: group by their tuple form.
        hashable = pd.Series([key_value(value) for value in column], dtype=object)
        codes, uniques = pd.factorize(hashable, use_na_sentinel=False)
    return codes.astype(np.int64), max(len(uniques), 1)


def _pair_codes(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    codes, _ = pd.factorize(pd.MultiIndex.from_arrays([left, right]), use_na_sentinel=False)
    return codes.astype(np.int64)


class SlotTable:
    """Maps group keys to dense, reusable slot numbers.

    ``on_grow`` is called with the new capacity whenever the arrays of the
    accumulators must grow. ``sequence[slot]`` records when the slot's key was
    first seen, which orders output rows by first appearance.
    """

    def __init__(self, on_grow: Callable[[int], None], initial: int = 1024) -> None:
        self.index: dict[Hashable, int] = {}
        self.keys: list[Hashable | None] = []
        self.free: list[int] = []
        self.capacity = 0
        self.sequence = np.zeros(0, dtype=np.int64)
        self._next_sequence = 0
        self._on_grow = on_grow
        self._grow(initial)

    def __len__(self) -> int:
        return len(self.index)

    def _grow(self, needed: int) -> None:
        capacity = max(needed, self.capacity * 2, 16)
        self.sequence = np.concatenate(
            [self.sequence, np.zeros(capacity - self.capacity, dtype=np.int64)]
        )
        self.keys.extend([None] * (capacity - self.capacity))
        self.free.extend(range(capacity - 1, self.capacity - 1, -1))
        self.capacity = capacity
        self._on_grow(capacity)

    def lookup(self, keys: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray]:
        """Return (slots, created): the slot of each key, inserting the missing ones."""
        slots = np.empty(len(keys), dtype=np.int64)
        created = np.zeros(len(keys), dtype=bool)
        index = self.index
        for position, key in enumerate(keys):
            slot = index.get(key)
            if slot is None:
                if not self.free:
                    self._grow(self.capacity * 2)
                slot = self.free.pop()
                index[key] = slot
                self.keys[slot] = key
                self.sequence[slot] = self._next_sequence
                self._next_sequence += 1
                created[position] = True
            slots[position] = slot
        return slots, created

    def release(self, slots: Sequence[int]) -> None:
        for slot in slots:
            key = self.keys[slot]
            self.index.pop(key, None)
            self.keys[slot] = None
            self.free.append(int(slot))

    def snapshot(self) -> dict[str, Any]:
        return {
            "index": dict(self.index),
            "free": list(self.free),
            "capacity": self.capacity,
            "sequence": self.sequence.copy(),
            "next": self._next_sequence,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Restore the table exactly; the accumulators restore their own arrays after this."""
        self.capacity = state["capacity"]
        self.index = dict(state["index"])
        self.keys = [None] * self.capacity
        for key, slot in self.index.items():
            self.keys[slot] = key
        self.free = list(state["free"])
        self.sequence = state["sequence"].copy()
        self._next_sequence = state["next"]
