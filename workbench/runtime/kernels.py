"""Compiled loops for the hot path of window aggregation.

With numpy, each step of a batch (assign windows, judge lateness, find
slots, count, add, compare) takes several passes, and each pass writes a
temporary array. These loops, compiled by numba, do a step in one pass
without temporaries. numba caches the machine code on disk, so only the
first run on a machine pays for compiling.

Each loop does what a short numpy expression does, and
tests/runtime/test_kernels.py compares the two.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from workbench.events.kernels import NULL_TIME, floor_divide, has_unaligned, running_max

#: The ``low`` and ``high`` of :func:`tumble_ordinals` when no row counts.
NO_ORDINAL = np.iinfo(np.int64).max


@njit(cache=True, nogil=True)
def tumble_ordinals(
    times: np.ndarray,
    row_watermarks: np.ndarray,
    size: int,
    offset: int,
    precision: int,
    ordinals: np.ndarray,
    counted: np.ndarray,
) -> tuple[int, int, int]:
    """Place each row in its tumbling window and judge whether the window is still open.

    ``ordinals[i]`` is the number of the window of row i, whose start is
    ``ordinal * size + offset``. ``counted[i]`` is False when the window had
    fired by row i's watermark. Returns the number of rows counted, and the
    lowest and highest ordinal among them.
    """
    counted_rows = 0
    low = NO_ORDINAL
    high = -NO_ORDINAL
    # Rows come close to time order: most rows fall in the window of the row before.
    ordinal = 0
    start = 1
    end = 0
    for i in range(times.shape[0]):
        time = times[i]
        if time < start or time >= end:
            ordinal = floor_divide(time - offset, size)
            start = ordinal * size + offset
            end = start + size
        ordinals[i] = ordinal
        if end - precision > row_watermarks[i]:
            counted[i] = True
            counted_rows += 1
            low = min(low, ordinal)
            high = max(high, ordinal)
        else:
            counted[i] = False
    return counted_rows, low, high


@njit(cache=True, nogil=True)
def find_slots(
    codes: np.ndarray,
    key_ids: np.ndarray,
    tables: np.ndarray,
    table_starts: np.ndarray,
    free: np.ndarray,
    free_count: int,
    begin: int,
    slots: np.ndarray,
    created: np.ndarray,
    created_count: int,
) -> tuple[int, int, int]:
    """Look up the state slot of each row's (window, key id), taking new slots from ``free``.

    Window ``c``'s table is ``tables[table_starts[c] : table_starts[c + 1]]``,
    indexed by key id, -1 where the window has no group for the key. A new
    group takes the last of the first ``free_count`` entries of ``free`` and
    is appended to ``created``. Starts at row ``begin`` and returns the row
    where it stopped, the free count left and the created count. It stops
    early when no free slot is left, so that the caller can grow the pool
    and resume.
    """
    for i in range(begin, codes.shape[0]):
        position = table_starts[codes[i]] + key_ids[i]
        slot = tables[position]
        if slot < 0:
            if free_count == 0:
                return i, free_count, created_count
            free_count -= 1
            slot = free[free_count]
            tables[position] = slot
            created[created_count] = slot
            created_count += 1
        slots[i] = slot
    return codes.shape[0], free_count, created_count


@njit(cache=True, nogil=True)
def add_counts(counts: np.ndarray, slots: np.ndarray) -> None:
    """Add one to ``counts[slot]`` for each slot."""
    for i in range(slots.shape[0]):
        counts[slots[i]] += 1


@njit(cache=True, nogil=True)
def add_valid_counts(counts: np.ndarray, slots: np.ndarray, valid: np.ndarray) -> None:
    """Add one to ``counts[slots[i]]`` for each row i that is valid."""
    for i in range(slots.shape[0]):
        if valid[i]:
            counts[slots[i]] += 1


@njit(cache=True, nogil=True)
def add_sums(
    sums: np.ndarray, counts: np.ndarray, slots: np.ndarray, values: np.ndarray, valid: np.ndarray
) -> None:
    """Add each valid value to its slot's sum and count it."""
    for i in range(slots.shape[0]):
        if valid[i]:
            slot = slots[i]
            sums[slot] += values[i]
            counts[slot] += 1


@njit(cache=True, nogil=True)
def fold_extremes(
    state: np.ndarray,
    present: np.ndarray,
    slots: np.ndarray,
    values: np.ndarray,
    valid: np.ndarray,
    maximum: bool,
) -> None:
    """Keep the largest (or smallest) valid value per slot; NaN values are skipped."""
    for i in range(slots.shape[0]):
        if not valid[i]:
            continue
        value = values[i]
        if np.isnan(value):
            continue
        slot = slots[i]
        if not present[slot]:
            state[slot] = value
            present[slot] = True
        elif (value > state[slot]) if maximum else (value < state[slot]):
            state[slot] = value


@njit(cache=True, nogil=True)
def row_watermarks(times: np.ndarray, delay: int, previous: int, before: np.ndarray) -> int:
    """Fill ``before[i]`` with the watermark in force just before row i; return the last one.

    After each row the watermark is the largest of ``previous`` and every
    event time so far minus ``delay``. A time less than ``delay`` after the
    earliest int64 value does not move it, because the subtraction would wrap.
    """
    watermark = previous
    # Below this time, subtracting the delay would wrap around: such rows do not move the watermark.
    earliest = NULL_TIME + delay
    for i in range(times.shape[0]):
        before[i] = watermark
        if times[i] >= earliest:
            watermark = max(watermark, times[i] - delay)
    return watermark


@njit(cache=True, nogil=True)
def offset_codes(ordinals: np.ndarray, low: int, codes: np.ndarray, present: np.ndarray) -> None:
    """Set ``codes[i] = ordinals[i] - low`` and mark each code in ``present``."""
    for i in range(ordinals.shape[0]):
        code = ordinals[i] - low
        codes[i] = code
        present[code] = True


@njit(cache=True, nogil=True)
def value_range(values: np.ndarray) -> tuple[int, int]:
    """Return the smallest and largest of a non-empty integer array."""
    low = values[0]
    high = values[0]
    for i in range(1, values.shape[0]):
        # min and max without branches, so the loop vectorizes.
        low = min(low, values[i])
        high = max(high, values[i])
    return low, high


@njit(cache=True, nogil=True)
def table_ids(values: np.ndarray, table: np.ndarray, base: int, ids: np.ndarray) -> int:
    """Set ``ids[i] = table[values[i] - base]``; return how many are -1 (not in the table)."""
    missing = 0
    for i in range(values.shape[0]):
        found = table[values[i] - base]
        ids[i] = found
        if found < 0:
            missing += 1
    return missing


@functools.cache
def compile_all() -> None:
    """Compile every loop for the array types the engine passes, or load them from the cache.

    numba compiles a loop when it first runs. The query compiler calls this
    once per process, so the cost falls before a replay starts rather than in
    its first batch. It is about a second the first time on a machine, and a
    few tenths of a second to load from the cache.
    """
    ints = np.zeros(1, dtype=np.int64)
    floats = np.zeros(1, dtype=np.float64)
    flags = np.ones(1, dtype=bool)
    has_unaligned(ints, 1_000)
    running_max(ints, 0, ints.copy())
    tumble_ordinals(ints, ints.copy(), 10, 0, 1, ints.copy(), flags.copy())
    find_slots(
        ints, ints, ints.copy(), np.array([0, 1]), ints.copy(), 1, 0, ints.copy(), ints.copy(), 0
    )
    add_counts(ints.copy(), ints)
    add_valid_counts(ints.copy(), ints, flags)
    for state in (ints, floats):
        add_sums(state.copy(), ints.copy(), ints, state.copy(), flags)
        fold_extremes(state.copy(), flags.copy(), ints, state.copy(), flags, True)
    row_watermarks(ints, 0, 0, ints.copy())
    offset_codes(ints, 0, ints.copy(), flags.copy())
    value_range(ints)
    table_ids(ints, ints.copy(), 0, ints.copy())
