"""The compiled loops agree with the numpy expressions they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workbench.events import kernels as time_kernels
from workbench.events.time import MIN_WATERMARK, floor_ns, has_unaligned
from workbench.runtime import kernels
from workbench.runtime.groups import SlotPool, WindowGroups, find_window_slots

# Event times within about 158 years of the epoch, either side.
TIMES = st.integers(min_value=-(10**19) // 2, max_value=10**19 // 2)
STEPS = st.sampled_from(
    [1, 2, 3, 7, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 86_400 * 10**9]
)


@given(value=TIMES, step=STEPS)
def test_floor_divide_matches_python(value: int, step: int) -> None:
    assert time_kernels.floor_divide(value, step) == value // step


@given(times=st.lists(TIMES, max_size=30), step=STEPS, nulls=st.lists(st.booleans(), max_size=30))
def test_has_unaligned_matches_remainder(times: list[int], step: int, nulls: list[bool]) -> None:
    array = np.array(times, dtype=np.int64)
    for position, null in enumerate(nulls[: len(times)]):
        if null:
            array[position] = MIN_WATERMARK
    present = array[array != MIN_WATERMARK]
    expected = bool((present % step).any())
    assert has_unaligned(array, step) is expected


@given(times=st.lists(TIMES, min_size=1, max_size=30), step=STEPS)
def test_aligned_times_are_aligned(times: list[int], step: int) -> None:
    array = floor_ns(np.array(times, dtype=np.int64), step)
    assert not has_unaligned(array, step)


@given(
    times=st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=40),
    size=st.sampled_from([1_000, 60_000_000_000, 7_000_003]),
    offset=st.integers(-(10**9), 10**9),
    delay=st.integers(0, 10**12),
    precision=st.sampled_from([1, 1_000_000]),
)
def test_tumble_ordinals_match_numpy(
    times: list[int], size: int, offset: int, delay: int, precision: int
) -> None:
    array = np.array(times, dtype=np.int64)
    watermarks = np.maximum.accumulate(array) - delay
    ordinals = np.empty(len(array), dtype=np.int64)
    counted = np.empty(len(array), dtype=bool)
    counted_rows, low, high = kernels.tumble_ordinals(
        array, watermarks, size, offset, precision, ordinals, counted
    )
    expected = (array - offset) // size
    expected_counted = expected * size + offset + size - precision > watermarks
    np.testing.assert_array_equal(ordinals, expected)
    np.testing.assert_array_equal(counted, expected_counted)
    assert counted_rows == int(expected_counted.sum())
    if counted_rows:
        assert (low, high) == (expected[expected_counted].min(), expected[expected_counted].max())


@given(
    times=hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(-(10**12), 10**12)),
    delay=st.integers(0, 10**9),
    previous=st.integers(-(10**13), 10**13),
)
def test_row_watermarks_match_running_maximum(times: np.ndarray, delay: int, previous: int) -> None:
    before = np.empty(len(times), dtype=np.int64)
    last = kernels.row_watermarks(times, delay, previous, before)
    after = np.maximum.accumulate(np.maximum(times - delay, previous))
    expected = np.concatenate([[previous], after])[: len(times)]
    np.testing.assert_array_equal(before, expected)
    assert last == (int(after[-1]) if len(times) else previous)


@given(
    slots=hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(0, 9)),
    data=st.data(),
)
def test_scatter_loops_match_ufunc_at(slots: np.ndarray, data: st.DataObject) -> None:
    values = data.draw(
        hnp.arrays(
            np.float64,
            len(slots),
            elements=st.floats(-1e6, 1e6) | st.just(np.nan),
        )
    )
    valid = data.draw(hnp.arrays(np.bool_, len(slots)))
    counts = np.zeros(10, dtype=np.int64)
    kernels.add_counts(counts, slots)
    np.testing.assert_array_equal(counts, np.bincount(slots, minlength=10))

    sums, sum_counts = np.zeros(10), np.zeros(10, dtype=np.int64)
    kernels.add_sums(sums, sum_counts, slots, values, valid)
    expected_sums = np.zeros(10)
    np.add.at(expected_sums, slots[valid], values[valid])
    np.testing.assert_allclose(sums, expected_sums, equal_nan=True)
    np.testing.assert_array_equal(sum_counts, np.bincount(slots[valid], minlength=10))

    for maximum in (True, False):
        state = np.full(10, -np.inf if maximum else np.inf)
        present = np.zeros(10, dtype=bool)
        kernels.fold_extremes(state, present, slots, values, valid, maximum)
        keep = valid & ~np.isnan(values)
        expected = np.full(10, -np.inf if maximum else np.inf)
        (np.maximum if maximum else np.minimum).at(expected, slots[keep], values[keep])
        np.testing.assert_array_equal(present, np.bincount(slots[keep], minlength=10) > 0)
        np.testing.assert_array_equal(state[present], expected[present])


@settings(max_examples=50)
@given(
    rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 300)), max_size=80),
    initial=st.integers(1, 8),
)
def test_window_slots_give_one_slot_per_group(rows: list[tuple[int, int]], initial: int) -> None:
    """Each (window, key) gets one slot of its own, also when the pool must grow mid-batch."""
    cleared: list[np.ndarray] = []
    pool = SlotPool(lambda capacity: None, initial=initial)
    windows = [WindowGroups() for _ in range(4)]
    codes = np.array([row[0] for row in rows], dtype=np.int64)
    key_ids = np.array([row[1] for row in rows], dtype=np.int64)
    slots = find_window_slots(codes, key_ids, windows, pool, cleared.append)
    assert slots is not None
    groups = {row: slot for row, slot in zip(rows, slots.tolist(), strict=True)}
    assert len(set(groups.values())) == len(groups)
    for (code, key), slot in groups.items():
        ids, members = windows[code].members()
        assert slot == int(members[np.flatnonzero(ids == key)[0]])
    new = np.concatenate(cleared) if cleared else np.zeros(0, dtype=np.int64)
    assert sorted(new.tolist()) == sorted(groups.values())
    assert pool.used == len(groups)
    # A second batch with the same groups finds the same slots and takes none.
    again = find_window_slots(codes, key_ids, windows, pool, cleared.append)
    assert again is not None
    np.testing.assert_array_equal(again, slots)
    assert pool.used == len(groups)


def test_window_slots_skip_large_key_ids() -> None:
    pool = SlotPool(lambda capacity: None)
    windows = [WindowGroups()]
    key_ids = np.array([1, 1 << 17], dtype=np.int64)
    assert find_window_slots(np.zeros(2, dtype=np.int64), key_ids, windows, pool, print) is None
    assert pool.used == 0


def test_window_slots_skip_large_joined_tables() -> None:
    """A few rows over many windows with large key ids are left to the window-by-window lookup."""
    pool = SlotPool(lambda capacity: None)
    windows = [WindowGroups() for _ in range(64)]
    codes = np.arange(64, dtype=np.int64)
    key_ids = np.full(64, 60_000, dtype=np.int64)
    assert find_window_slots(codes, key_ids, windows, pool, print) is None
    assert pool.used == 0
    assert all(window.table is not None and len(window.table) == 64 for window in windows)
