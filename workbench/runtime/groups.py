"""Vectorized grouping for window aggregation: key ids, window groups and a slot pool.

Grouping rows by (window, key) is the hot path of every windowed query. A
Python dict lookup per group and batch is too slow, so keys become dense
integer ids (:class:`KeyDictionary`), and each open window maps key ids to
state slots (:class:`WindowGroups`): a table indexed by key id while ids are
small, sorted ids beyond. :func:`find_window_slots` finds the slots of a
whole batch in one compiled pass over the windows' tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.types import DataType
from workbench.runtime import kernels
from workbench.runtime.columns import masked_parts, series_from_values
from workbench.runtime.slots import key_value

_PAIR_SHIFT = 32
#: Widest range of integer key values mapped through a table (8 MiB of ids).
DENSE_VALUE_LIMIT = 1 << 20


class KeyDictionary:
    """Dense ids for the distinct values of one key column, in order of first appearance.

    Id 0 stands for NULL; the first distinct value gets id 1. ROW, ARRAY and
    MAP values are compared by content; the first occurrence of each is kept
    to rebuild the column.
    """

    def __init__(self, kind: DataType | None = None) -> None:
        self.kind = kind
        self.nested = kind is not None and kind.is_nested
        self.index: pd.Index | None = None
        self.originals: list[Any] = []
        # Integer keys in a narrow range map to ids through a table indexed by value.
        self.dense: np.ndarray | None = None
        self.dense_base = 0
        self.dense_allowed = kind is None or kind.is_integer

    def __len__(self) -> int:
        return 0 if self.index is None else len(self.index)

    def ids(self, column: pd.Series | np.ndarray) -> np.ndarray:
        """Return the id of each value, adding ids for values not seen before."""
        if self.dense_allowed and not self.nested:
            dense = self._dense_ids(column)
            if dense is not None:
                return dense
        return self._hashed_ids(column)

    def _dense_ids(self, column: pd.Series | np.ndarray) -> np.ndarray | None:
        """Return ids through the value-indexed table, or None when it does not apply."""
        array = column.array if isinstance(column, pd.Series) else column
        parts = masked_parts(array)
        if parts is not None:
            values, mask = parts
            if mask.any():
                return None
        elif isinstance(array, np.ndarray) and array.dtype.kind in "iu":
            values = array
        else:
            return None
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        values = np.ascontiguousarray(values, dtype=np.int64)
        low, high = kernels.value_range(values)
        if not self._cover(int(low), int(high)):
            return None
        assert self.dense is not None
        ids = np.empty(len(values), dtype=np.int64)
        if kernels.table_ids(values, self.dense, self.dense_base, ids):
            # New values get ids in order of first appearance, as the hashed path gives them.
            self._hashed_ids(pd.Series(values[ids < 0]))
            assert self.index is not None
            known = np.asarray(self.index, dtype=np.int64)
            # Batches with NULL keys take the hashed path, so the index can
            # hold values outside the table's range: only those inside go in.
            inside = np.flatnonzero(
                (known >= self.dense_base) & (known < self.dense_base + len(self.dense))
            )
            self.dense[known[inside] - self.dense_base] = inside + 1
            ids = self.dense[values - self.dense_base]
        return ids

    def _cover(self, low: int, high: int) -> bool:
        """Grow the value table to cover [low, high]; return False (for good) if it would be too big."""
        if self.dense is None:
            if self.index is not None or high - low >= DENSE_VALUE_LIMIT:
                self.dense_allowed = False
                return False
            self.dense = np.full(high - low + 1, -1, dtype=np.int64)
            self.dense_base = low
            return True
        base, top = self.dense_base, self.dense_base + len(self.dense) - 1
        if low >= base and high <= top:
            return True
        new_low, new_high = min(low, base), max(high, top)
        if new_high - new_low >= DENSE_VALUE_LIMIT:
            self.dense_allowed = False
            self.dense = None
            return False
        grown = np.full(new_high - new_low + 1, -1, dtype=np.int64)
        grown[base - new_low : base - new_low + len(self.dense)] = self.dense
        self.dense, self.dense_base = grown, new_low
        return True

    def _hashed_ids(self, column: pd.Series | np.ndarray) -> np.ndarray:
        values: Any = column
        if self.nested:
            values = pd.Series([key_value(value) for value in column], dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if len(uniques) == 0:
            return np.zeros(len(codes), dtype=np.int64)
        unique_index = pd.Index(uniques)
        if self.index is None:
            positions = np.arange(len(unique_index), dtype=np.int64)
            self.index = unique_index
            new_positions = positions
        else:
            positions = self.index.get_indexer(unique_index).astype(np.int64)
            new = positions < 0
            new_positions = np.flatnonzero(new)
            if len(new_positions):
                start = len(self.index)
                self.index = self.index.append(unique_index[new])
                positions[new] = np.arange(start, start + len(new_positions), dtype=np.int64)
        if self.nested and len(new_positions):
            first = _first_positions(codes, len(uniques))
            self.originals.extend(column[int(first[code])] for code in new_positions)
        ids_of_uniques = positions + 1
        return np.where(codes < 0, 0, ids_of_uniques[np.maximum(codes, 0)])

    def values(self, ids: np.ndarray, kind: DataType) -> pd.Series:
        """Return the typed column of the values with these ids (NULL for id 0)."""
        if self.index is None or len(ids) == 0:
            return series_from_values([None] * len(ids), kind)
        if self.nested:
            return pd.Series(
                [None if i == 0 else self.originals[i - 1] for i in ids.tolist()], dtype=object
            )
        taken = self.index.take(np.maximum(ids - 1, 0))
        series = pd.Series(taken, dtype=kind.pandas_dtype() if not kind.is_timestamp else None)
        if kind.is_timestamp:
            series = series_from_values(taken.tolist(), kind)
        nulls = ids == 0
        if nulls.any():
            series = series.mask(nulls)
        return series.reset_index(drop=True)


def _first_positions(codes: np.ndarray, count: int) -> np.ndarray:
    first = np.full(count, -1, dtype=np.int64)
    valid = codes >= 0
    positions = np.flatnonzero(valid)
    first[codes[valid][::-1]] = positions[::-1]
    return first


class GroupDictionary:
    """One dense id for each distinct combination of several key columns.

    A pair of ids is packed into one integer and numbered by a further
    dictionary, so any number of columns reduces to one id per row.
    """

    def __init__(self, kinds: Sequence[DataType]) -> None:
        self.kinds = list(kinds)
        self.columns = [KeyDictionary(kind) for kind in kinds]
        self.pairs = [KeyDictionary() for _ in kinds[1:]]

    def ids(self, columns: Sequence[pd.Series]) -> np.ndarray:
        if not columns:
            raise ValueError("a group dictionary needs at least one column")
        combined = self.columns[0].ids(columns[0])
        for index, column in enumerate(columns[1:], start=1):
            packed = (combined << _PAIR_SHIFT) | self.columns[index].ids(column)
            combined = self.pairs[index - 1].ids(packed)
        return combined

    def key_columns(self, ids: np.ndarray) -> list[pd.Series]:
        """Return one typed column per key column for these combined ids."""
        parts: list[np.ndarray] = []
        current = ids
        for index in range(len(self.columns) - 1, 0, -1):
            pair_index = self.pairs[index - 1].index
            packed = (
                np.asarray(pair_index.take(np.maximum(current - 1, 0)), dtype=np.int64)
                if pair_index is not None and len(current)
                else np.zeros(len(current), dtype=np.int64)
            )
            parts.append(packed & ((1 << _PAIR_SHIFT) - 1))
            current = packed >> _PAIR_SHIFT
        parts.append(current)
        parts.reverse()
        return [
            dictionary.values(part, kind)
            for dictionary, part, kind in zip(self.columns, parts, self.kinds, strict=True)
        ]


class SlotPool:
    """Reusable state slots; ``on_grow(capacity)`` extends the accumulators' arrays."""

    def __init__(self, on_grow: Callable[[int], None], initial: int = 1024) -> None:
        self.capacity = 0
        self.free = np.zeros(0, dtype=np.int64)
        self._on_grow = on_grow
        self._grow(initial)

    def _grow(self, needed: int) -> None:
        capacity = max(needed, self.capacity * 2, 16)
        added = np.arange(capacity - 1, self.capacity - 1, -1, dtype=np.int64)
        self.free = np.concatenate([added, self.free])
        self.capacity = capacity
        self._on_grow(capacity)

    def grow(self) -> None:
        """Add free slots: double the capacity."""
        self._grow(self.capacity + 1)

    def allocate(self, count: int) -> np.ndarray:
        if count > len(self.free):
            self._grow(self.capacity + count - len(self.free))
        taken = self.free[len(self.free) - count :][::-1].copy()
        self.free = self.free[: len(self.free) - count]
        return taken

    def release(self, slots: np.ndarray) -> None:
        self.free = np.concatenate([self.free, slots[::-1]])

    @property
    def used(self) -> int:
        return self.capacity - len(self.free)

    def snapshot(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "free": self.free.copy()}

    def restore(self, state: dict[str, Any]) -> None:
        self.capacity = state["capacity"]
        self.free = state["free"].copy()


#: Largest key id for which a window keeps a dense id-to-slot table (64 Ki ids,
#: 512 KiB per open window); above it a window keeps sorted ids instead.
DENSE_KEY_LIMIT = 1 << 16
#: The joined tables of a batch's windows may have this many entries per row.
JOINED_TABLES_PER_ROW = 4


@dataclass
class WindowGroups:
    """The groups of one open window: which key ids it holds and their state slots.

    While key ids stay small, ``table[key_id]`` is the slot (-1 when absent),
    so finding the slots of a batch is one gather. Beyond DENSE_KEY_LIMIT the
    window switches to sorted ids and ``searchsorted``.
    """

    table: np.ndarray | None = field(default_factory=lambda: np.full(64, -1, dtype=np.int64))
    sorted_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sorted_slots: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def slots(
        self, key_ids: np.ndarray, pool: SlotPool, clear: Callable[[np.ndarray], None]
    ) -> np.ndarray:
        """Return the slot of each row's key id, creating (and clearing) slots for new keys."""
        if self.table is not None and len(key_ids) and int(key_ids.max()) >= len(self.table):
            if int(key_ids.max()) >= DENSE_KEY_LIMIT:
                self._to_sorted()
            else:
                self.cover(int(key_ids.max()))
        if self.table is None:
            return self._sorted_slots(key_ids, pool, clear)
        found = self.table[key_ids]
        missing = found < 0
        if missing.any():
            absent = key_ids[missing]
            # Key ids are small dense integers: counting finds the distinct ones.
            new_ids = np.flatnonzero(np.bincount(absent)).astype(np.int64)
            new_slots = pool.allocate(len(new_ids))
            clear(new_slots)
            self.table[new_ids] = new_slots
            found[missing] = self.table[absent]
        return found

    def covered_size(self, key_id: int) -> int:
        """Return the length of the table once it has an entry for ``key_id``."""
        assert self.table is not None
        if key_id < len(self.table):
            return len(self.table)
        return max(key_id + 1, 2 * len(self.table))

    def cover(self, key_id: int) -> None:
        """Grow the table so that it has an entry for ``key_id``."""
        assert self.table is not None
        if key_id < len(self.table):
            return
        size = self.covered_size(key_id)
        grown = np.full(size, -1, dtype=np.int64)
        grown[: len(self.table)] = self.table
        self.table = grown

    def _to_sorted(self) -> None:
        assert self.table is not None
        self.sorted_ids = np.flatnonzero(self.table >= 0).astype(np.int64)
        self.sorted_slots = self.table[self.sorted_ids]
        self.table = None

    def _sorted_slots(
        self, key_ids: np.ndarray, pool: SlotPool, clear: Callable[[np.ndarray], None]
    ) -> np.ndarray:
        codes, uniques = pd.factorize(key_ids)
        unique_ids = np.asarray(uniques, dtype=np.int64)
        positions = np.searchsorted(self.sorted_ids, unique_ids)
        clipped = np.minimum(positions, max(len(self.sorted_ids) - 1, 0))
        found = np.zeros(len(unique_ids), dtype=bool)
        if len(self.sorted_ids):
            found = (positions < len(self.sorted_ids)) & (self.sorted_ids[clipped] == unique_ids)
        unique_slots = np.empty(len(unique_ids), dtype=np.int64)
        unique_slots[found] = self.sorted_slots[clipped[found]]
        missing = ~found
        new_slots = pool.allocate(int(missing.sum()))
        if len(new_slots):
            clear(new_slots)
            unique_slots[missing] = new_slots
            merged_ids = np.concatenate([self.sorted_ids, unique_ids[missing]])
            merged_slots = np.concatenate([self.sorted_slots, new_slots])
            order = np.argsort(merged_ids, kind="stable")
            self.sorted_ids = merged_ids[order]
            self.sorted_slots = merged_slots[order]
        return unique_slots[codes]

    def members(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (key_ids, slots) of every group, in ascending key id (first-seen) order."""
        if self.table is None:
            return self.sorted_ids, self.sorted_slots
        ids = np.flatnonzero(self.table >= 0).astype(np.int64)
        return ids, self.table[ids]

    def __len__(self) -> int:
        if self.table is None:
            return len(self.sorted_ids)
        return int((self.table >= 0).sum())


def find_window_slots(
    codes: np.ndarray,
    key_ids: np.ndarray,
    windows: Sequence[WindowGroups],
    pool: SlotPool,
    clear: Callable[[np.ndarray], None],
) -> np.ndarray | None:
    """Return the slot of each row's (window, key id) in one compiled pass.

    Row i belongs to ``windows[codes[i]]``. New groups take slots from
    ``pool``, and ``clear`` resets their state. It returns None without
    changing anything when a window keeps sorted ids, when a key id is too
    large for a table, or when the joined tables would be much larger than
    the batch. The caller then asks each window in turn.
    """
    if not len(key_ids):
        return np.zeros(0, dtype=np.int64)
    top = int(key_ids.max())
    if top >= DENSE_KEY_LIMIT or any(window.table is None for window in windows):
        return None
    # The joined tables are copied for each batch: when they would be much
    # larger than the batch (many windows, many keys), looking up window by
    # window costs less.
    joined = sum(window.covered_size(top) for window in windows)
    if joined > max(JOINED_TABLES_PER_ROW * len(key_ids), DENSE_KEY_LIMIT):
        return None
    for window in windows:
        window.cover(top)
    tables_of = [window.table for window in windows if window.table is not None]
    starts = np.zeros(len(tables_of) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(table) for table in tables_of])
    tables = np.concatenate(tables_of)
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    key_ids = np.ascontiguousarray(key_ids, dtype=np.int64)
    slots = np.empty(len(key_ids), dtype=np.int64)
    created = np.empty(len(key_ids), dtype=np.int64)
    row, free_count, created_count = 0, len(pool.free), 0
    while True:
        row, free_count, created_count = kernels.find_slots(
            codes,
            key_ids,
            tables,
            starts,
            pool.free,
            free_count,
            row,
            slots,
            created,
            created_count,
        )
        pool.free = pool.free[:free_count]
        if row == len(key_ids):
            break
        pool.grow()
        free_count = len(pool.free)
    # Each window's table is now a view of the joined tables, so the next batch finds the new groups.
    for index, window in enumerate(windows):
        window.table = tables[starts[index] : starts[index + 1]]
    if created_count:
        clear(created[:created_count].copy())
    return slots
