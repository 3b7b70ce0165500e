"""hypothesis strategies for event streams.

A stream is a DataFrame in arrival order with an event-time column ``ts``
(TIMESTAMP(3): whole milliseconds), a ``key`` column and a numeric ``value``.
Out-of-order rows are made by holding a row back from the running maximum
event time: ``lateness`` bounds how far back, relative to the watermark delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from workbench.testing.reference import FilterQuery, WindowQuery

MS = 1_000_000
BASE = pd.Timestamp("2024-01-01 00:00:00").value

Disorder = Literal["ordered", "within", "beyond"]
WINDOW_KINDS = ("TUMBLE", "HOP", "CUMULATE", "SESSION")


@dataclass(frozen=True)
class StreamShape:
    """Parameters of generated streams.

    ``disorder`` 'within' keeps every row less than ``delay_ms - 2`` ms behind
    the running maximum, so no window a row belongs to can have fired before
    it arrives; 'beyond' lets rows fall up to ``3 * delay_ms`` behind, so some
    are late. ``null_time`` adds rows without event time (they are rejected).
    ``keys`` are the key values (None is a NULL key; :func:`key_values` makes
    many). ``duplicates`` repeats some rows right after themselves, and
    ``gaps`` lets a step jump ``gap_ms`` ahead, past every window and session
    gap, so that state is released and started anew.
    """

    max_rows: int = 60
    keys: tuple[str | None, ...] = ("a", "b", "c")
    max_step_ms: int = 4_000
    delay_ms: int = 5_000
    disorder: Disorder = "within"
    null_values: bool = True
    null_time: bool = False
    duplicates: bool = False
    gaps: bool = False
    gap_ms: int = 60_000


def key_values(count: int, null: bool = False) -> tuple[str | None, ...]:
    """Return ``count`` key values ('k0', 'k1', ...), and a NULL key with ``null``."""
    keys: tuple[str | None, ...] = tuple(f"k{index}" for index in range(count))
    return (*keys, None) if null else keys


@st.composite
def event_streams(draw: st.DrawFn, shape: StreamShape = StreamShape()) -> pd.DataFrame:
    count = draw(st.integers(min_value=0, max_value=shape.max_rows))
    step = st.integers(0, shape.max_step_ms)
    if shape.gaps:
        step = st.one_of(step, st.just(shape.gap_ms))
    steps = draw(st.lists(step, min_size=count, max_size=count))
    if shape.disorder == "ordered":
        back_limit = 0
    elif shape.disorder == "within":
        back_limit = max(0, shape.delay_ms - 2)
    else:
        back_limit = 3 * shape.delay_ms
    backs = draw(st.lists(st.integers(0, back_limit), min_size=count, max_size=count))
    keys = draw(st.lists(st.sampled_from(shape.keys), min_size=count, max_size=count))
    value_strategy = (
        st.one_of(st.none(), st.integers(-50, 50)) if shape.null_values else st.integers(-50, 50)
    )
    values = draw(st.lists(value_strategy, min_size=count, max_size=count))
    missing_time = (
        draw(st.lists(st.booleans(), min_size=count, max_size=count))
        if shape.null_time
        else [False] * count
    )
    front = np.cumsum(np.asarray(steps, dtype=np.int64)) if count else np.zeros(0, dtype=np.int64)
    times = BASE + (front - np.asarray(backs, dtype=np.int64)) * MS
    ts = pd.Series(times.astype("datetime64[ns]"))
    ts[np.asarray(missing_time, dtype=bool)] = pd.NaT
    frame = pd.DataFrame(
        {
            "ts": ts,
            "key": pd.array(keys, dtype="string[pyarrow]"),
            "value": pd.array(values, dtype="Int64"),
        }
    )
    if shape.duplicates and count:
        repeats = draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
        frame = frame.loc[frame.index.repeat(repeats)].reset_index(drop=True)
    return frame


@st.composite
def arrival_orders(draw: st.DrawFn, frame: pd.DataFrame, delay_ms: int) -> pd.DataFrame:
    """Return the rows of ``frame`` in another arrival order in which no row is late.

    Each row gets a random delay below ``delay_ms`` and rows arrive in order of
    event time plus delay. A row then arrives after another only if its event
    time is less than ``delay_ms`` below that row's, so it is above the
    watermark (the largest event time so far minus ``delay_ms``). Partitions
    interleave differently, and rows of one key may swap. Rows without event
    time keep their place at the front.
    """
    delays = draw(st.lists(st.integers(0, delay_ms - 1), min_size=len(frame), max_size=len(frame)))
    millis = frame["ts"].astype("int64") // MS
    arrival = millis.where(frame["ts"].notna(), np.iinfo(np.int64).min // 2) + np.asarray(
        delays, dtype=np.int64
    )
    order = np.argsort(arrival.to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def batch_sizes() -> st.SearchStrategy[int]:
    """Micro-batch sizes, from one row at a time to everything at once."""
    return st.sampled_from([1, 2, 3, 7, 16, 1_000_000])


def window_queries(kinds: tuple[str, ...] = WINDOW_KINDS) -> st.SearchStrategy[WindowQuery]:
    """Window aggregations of the given TVF kinds with random sizes (whole seconds) and offsets."""
    return st.sampled_from(kinds).flatmap(_window_query)


def _window_query(kind: str) -> st.SearchStrategy[WindowQuery]:
    seconds = st.integers(1, 20).map(lambda count: count * 1_000)
    if kind == "TUMBLE":
        return seconds.flatmap(
            lambda size: st.builds(
                WindowQuery,
                kind=st.just("TUMBLE"),
                size_ms=st.just(size),
                offset_ms=st.sampled_from([0, 0, size // 2]),
            )
        )
    if kind == "HOP":
        return st.builds(
            lambda slide, count: WindowQuery("HOP", slide_ms=slide, size_ms=slide * count),
            seconds,
            st.integers(1, 4),
        )
    if kind == "CUMULATE":
        return st.builds(
            lambda step, count: WindowQuery("CUMULATE", step_ms=step, size_ms=step * count),
            seconds,
            st.integers(1, 4),
        )
    return st.builds(lambda gap: WindowQuery("SESSION", gap_ms=gap), seconds)


def filter_queries() -> st.SearchStrategy[FilterQuery]:
    """Filters on ``value`` (every comparison), maybe with a key test, IS NULL and NOT."""
    return st.builds(
        FilterQuery,
        operator=st.sampled_from([">", ">=", "<", "<=", "=", "<>"]),
        threshold=st.integers(-50, 50),
        key=st.one_of(st.none(), st.sampled_from(["a", "b", "k0"])),
        or_null=st.booleans(),
        negate=st.booleans(),
    )
