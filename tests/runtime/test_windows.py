"""Window assignment for TUMBLE, HOP and CUMULATE, and the watermarks of fired results."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.streams import ns
from workbench.events import types as t
from workbench.events.time import NS_PER_SECOND
from workbench.runtime.windows import assign, emission_watermarks, window_bound
from workbench.sql.plan import WindowSpec

SECOND = NS_PER_SECOND


def pairs(spec: WindowSpec, *seconds: float) -> list[tuple[int, float, float]]:
    """Return (row, start, end) per assigned window, bounds in seconds after the test base."""
    rows, start, end = assign(spec, np.array([ns(value) for value in seconds], dtype=np.int64))
    base = ns(0)
    return [
        (int(row), (int(low) - base) / SECOND, (int(high) - base) / SECOND)
        for row, low, high in zip(rows, start, end, strict=True)
    ]


def test_tumble_aligns_to_size() -> None:
    spec = WindowSpec("TUMBLE", "ts", size_ns=10 * SECOND)

    assert pairs(spec, 0, 9.999, 10, 25) == [
        (0, 0, 10),
        (1, 0, 10),
        (2, 10, 20),
        (3, 20, 30),
    ]


def test_tumble_offset_shifts_windows() -> None:
    spec = WindowSpec("TUMBLE", "ts", size_ns=10 * SECOND, offset_ns=3 * SECOND)

    assert pairs(spec, 1, 3, 12.5) == [(0, -7, 3), (1, 3, 13), (2, 3, 13)]


def test_hop_assigns_every_overlapping_window() -> None:
    spec = WindowSpec("HOP", "ts", size_ns=10 * SECOND, slide_ns=5 * SECOND)

    assert pairs(spec, 7) == [(0, 0, 10), (0, 5, 15)]


def test_hop_window_order_is_by_end() -> None:
    spec = WindowSpec("HOP", "ts", size_ns=15 * SECOND, slide_ns=5 * SECOND)

    ends = [end for _, _, end in pairs(spec, 12)]

    assert ends == [15, 20, 25]


def test_hop_on_slide_boundary() -> None:
    spec = WindowSpec("HOP", "ts", size_ns=10 * SECOND, slide_ns=5 * SECOND)

    assert pairs(spec, 5) == [(0, 0, 10), (0, 5, 15)]


def test_cumulate_windows_share_start() -> None:
    spec = WindowSpec("CUMULATE", "ts", size_ns=20 * SECOND, step_ns=5 * SECOND)

    assert pairs(spec, 7) == [(0, 0, 10), (0, 0, 15), (0, 0, 20)]


def test_cumulate_first_step_contains_row() -> None:
    spec = WindowSpec("CUMULATE", "ts", size_ns=20 * SECOND, step_ns=5 * SECOND)

    assert pairs(spec, 0, 19.5) == [(0, 0, 5), (0, 0, 10), (0, 0, 15), (0, 0, 20), (1, 0, 20)]


def test_cumulate_next_period() -> None:
    spec = WindowSpec("CUMULATE", "ts", size_ns=20 * SECOND, step_ns=10 * SECOND)

    assert pairs(spec, 21) == [(0, 20, 30), (0, 20, 40)]


def test_session_windows_not_assigned_here() -> None:
    spec = WindowSpec("SESSION", "ts", gap_ns=SECOND)

    with pytest.raises(ValueError, match="session operator"):
        assign(spec, np.array([0], dtype=np.int64))


def test_emission_below_threshold() -> None:
    marks = np.array([0, 5, 10], dtype=np.int64)

    result = emission_watermarks(np.array([7, 10, 11], dtype=np.int64), marks, previous=-1)

    assert result.tolist() == [5, 5, 10]


def test_emission_keeps_previous_watermark() -> None:
    marks = np.array([0, 5], dtype=np.int64)

    result = emission_watermarks(np.array([0], dtype=np.int64), marks, previous=3)

    assert result.tolist() == [3]


def test_emission_without_rows() -> None:
    result = emission_watermarks(
        np.array([4, 9], dtype=np.int64), np.empty(0, dtype=np.int64), previous=2
    )

    assert result.tolist() == [2, 2]


def test_window_bound_timestamp() -> None:
    series = window_bound(np.array([ns(10)], dtype=np.int64), t.timestamp(3))

    assert str(series.dtype) == "datetime64[ns]"
    assert series.iloc[0].value == ns(10)


def test_window_bound_ltz_is_utc() -> None:
    series = window_bound(np.array([ns(10)], dtype=np.int64), t.timestamp_ltz(3))

    assert str(series.dt.tz) == "UTC"
