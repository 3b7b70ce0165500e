"""Dense slot numbers for group keys: factorizing rows, reusing slots, snapshots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.runtime.slots import SlotTable, factorize_rows, key_value


class Growth:
    """Records the capacities that a slot table requests from its accumulators."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, capacity: int) -> None:
        self.sizes.append(capacity)


def test_key_value_nulls_become_none() -> None:
    assert key_value(None) is None
    assert key_value(pd.NA) is None
    assert key_value(pd.NaT) is None
    assert key_value(float("nan")) is None


def test_key_value_numpy_scalar() -> None:
    value = key_value(np.int64(7))

    assert value == 7
    assert type(value) is int


def test_key_value_nested_hashable() -> None:
    value = key_value({"b": [1, None], "a": 2})

    assert value == (("a", 2), ("b", (1, None)))
    assert hash(value) == hash((("a", 2), ("b", (1, None))))


def test_factorize_first_appearance_order() -> None:
    codes, first = factorize_rows([pd.Series(["b", "a", "b", "c"])])

    assert codes.tolist() == [0, 1, 0, 2]
    assert first.tolist() == [0, 1, 3]


def test_factorize_null_is_own_group() -> None:
    codes, first = factorize_rows([pd.Series(["a", None, "a", None], dtype="string")])

    assert codes.tolist() == [0, 1, 0, 1]
    assert first.tolist() == [0, 1]


def test_factorize_several_columns() -> None:
    left = pd.Series([1, 1, 2, 1])
    right = pd.Series(["x", "y", "x", "x"])

    codes, first = factorize_rows([left, right])

    assert codes.tolist() == [0, 1, 2, 0]
    assert first.tolist() == [0, 1, 2]


def test_factorize_nested_values() -> None:
    column = pd.Series([{"a": 1}, {"a": 2}, {"a": 1}], dtype=object)

    codes, _ = factorize_rows([column])

    assert codes.tolist() == [0, 1, 0]


def test_factorize_no_columns_one_group() -> None:
    codes, first = factorize_rows([])

    assert codes.tolist() == []
    assert first.tolist() == []


def test_lookup_creates_missing_keys() -> None:
    table = SlotTable(Growth(), initial=4)

    slots, created = table.lookup([("a",), ("b",), ("a",)])

    assert slots[0] == slots[2]
    assert slots[0] != slots[1]
    assert created.tolist() == [True, True, False]
    assert len(table) == 2


def test_lookup_existing_keys_not_created() -> None:
    table = SlotTable(Growth(), initial=4)
    first, _ = table.lookup([("a",)])

    again, created = table.lookup([("a",)])

    assert again.tolist() == first.tolist()
    assert created.tolist() == [False]


def test_released_slot_reused() -> None:
    table = SlotTable(Growth(), initial=4)
    slots, _ = table.lookup([("a",)])
    table.release([int(slots[0])])

    reused, created = table.lookup([("b",)])

    assert reused.tolist() == slots.tolist()
    assert created.tolist() == [True]
    assert len(table) == 1


def test_grow_reports_capacity() -> None:
    growth = Growth()
    table = SlotTable(growth, initial=16)

    table.lookup([(index,) for index in range(40)])

    assert growth.sizes[0] == 16
    assert table.capacity >= 40
    assert growth.sizes[-1] == table.capacity


def test_sequence_orders_first_appearance() -> None:
    table = SlotTable(Growth(), initial=4)
    slots, _ = table.lookup([("x",), ("y",)])

    assert table.sequence[slots[0]] < table.sequence[slots[1]]


def test_snapshot_restore_keeps_slots() -> None:
    table = SlotTable(Growth(), initial=4)
    slots, _ = table.lookup([("a",), ("b",)])
    saved = table.snapshot()

    restored = SlotTable(Growth(), initial=4)
    restored.restore(saved)
    again, created = restored.lookup([("b",), ("a",)])

    assert again.tolist() == [slots[1], slots[0]]
    assert created.tolist() == [False, False]


def test_restore_does_not_reuse_taken_slots() -> None:
    table = SlotTable(Growth(), initial=4)
    used, _ = table.lookup([("a",), ("b",)])
    restored = SlotTable(Growth(), initial=4)
    restored.restore(table.snapshot())

    fresh, _ = restored.lookup([("c",)])

    assert int(fresh[0]) not in used.tolist()
