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

MS = 1_000_000
BASE = pd.Timestamp("2024-01-01 00:00:00").value

Disorder = Literal["ordered", "within", "beyond"]


@dataclass(frozen=True)
class StreamShape:
    """Parameters of generated streams.

    ``disorder`` 'within' keeps every row less than ``delay_ms - 2`` ms behind
    the running maximum, so no window a row belongs to can have fired before
    it arrives; 'beyond' lets rows fall up to ``3 * delay_ms`` behind, so some
    are late. ``null_time`` adds rows without event time (they are rejected).
    """

    max_rows: int = 60
    keys: tuple[str | None, ...] = ("a", "b", "c")
    max_step_ms: int = 4_000
    delay_ms: int = 5_000
    disorder: Disorder = "within"
    null_values: bool = True
    null_time: bool = False


@st.composite
def event_streams(draw: st.DrawFn, shape: StreamShape = StreamShape()) -> pd.DataFrame:
    count = draw(st.integers(min_value=0, max_value=shape.max_rows))
    steps = draw(st.lists(st.integers(0, shape.max_step_ms), min_size=count, max_size=count))
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
    return pd.DataFrame(
        {
            "ts": ts,
            "key": pd.array(keys, dtype="string[pyarrow]"),
            "value": pd.array(values, dtype="Int64"),
        }
    )


def batch_sizes() -> st.SearchStrategy[int]:
    """Micro-batch sizes, from one row at a time to everything at once."""
    return st.sampled_from([1, 2, 3, 7, 16, 1_000_000])
