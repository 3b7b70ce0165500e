"""A hand-written per-event state machine for ``A B+ C`` WITHIN an interval, and match checks.

Every implementation returns its matches as ``(k, start_ns, end_ns, b_rows)``
tuples: the key, the event times of the A and C rows in nanoseconds since
the epoch, and the number of B rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pandas as pd

#: A match: (k, start_ns, end_ns, b_rows).
Match = tuple[int, int, int, int]
#: An event as the state machine reads it: (ts_ns, k, kind).
Event = tuple[int, int, str]


@dataclass
class StateMachineResult:
    matches: list[Match]
    #: Partial matches ended by a row at or after their deadline, plus those
    #: still open at the end of the input, which time out when the watermark jumps to the end.
    timed_out: int


def pattern_event_tuples(frame: pd.DataFrame) -> list[Event]:
    """Return the events of ``frame`` as ``(ts_ns, k, kind)`` tuples of Python scalars."""
    event_ns = frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64).tolist()
    keys = frame["k"].to_numpy(dtype=np.int64).tolist()
    kinds = frame["kind"].tolist()
    return list(zip(event_ns, keys, kinds, strict=True))


def event_time_order(events: list[Event]) -> list[Event]:
    """Return ``events`` sorted by event time, equal times in arrival order.

    Per key, this is the order the engine matches rows in: it releases a
    row once the watermark passes its time and sorts released rows by time,
    then by arrival. The sort is stable, and Timsort runs in close to linear
    time on input that is almost in order.
    """
    return sorted(events, key=itemgetter(0))


def state_machine_matches(events: list[Event], within_ns: int) -> StateMachineResult:
    """Find the matches of ``A B+ C`` per key in one loop over ``events`` in event-time order.

    A, B and C are the rows of kind ``a``, ``b`` and ``c``. The conditions
    exclude each other, so a key has at most one partial match. An ``a`` row
    starts a new one, and any row that is not ``b`` ends it. A partial match
    ends without a match when a row comes ``within_ns`` or more after its A
    row, as the engine's WITHIN does. AFTER MATCH SKIP PAST LAST ROW needs no
    step of its own, because the C row ends the partial match anyway.
    """
    # key -> [start_ns, b_rows] of the key's partial match.
    partial: dict[int, list[int]] = {}
    matches: list[Match] = []
    timed_out = 0
    for event_ns, key, kind in events:
        if kind == "b":
            state = partial.get(key)
            if state is not None:
                if event_ns - state[0] < within_ns:
                    state[1] += 1
                else:
                    del partial[key]
                    timed_out += 1
        elif kind == "a":
            state = partial.get(key)
            if state is not None and event_ns - state[0] >= within_ns:
                timed_out += 1
            partial[key] = [event_ns, 0]
        else:
            state = partial.pop(key, None)
            if state is None:
                continue
            if event_ns - state[0] >= within_ns:
                timed_out += 1
            elif kind == "c" and state[1]:
                matches.append((key, state[0], event_ns, state[1]))
    return StateMachineResult(matches, timed_out + len(partial))


def sort_then_match(events: list[Event], within_ns: int) -> StateMachineResult:
    """Sort arrival-order ``events`` by event time, then run the state machine."""
    return state_machine_matches(event_time_order(events), within_ns)


def engine_matches(output: pd.DataFrame) -> list[Match]:
    """Return the engine's output rows (``k, start_ts, end_ts, b_rows``) as sorted matches."""
    start_ns = output["start_ts"].to_numpy(dtype="datetime64[ns]").view(np.int64).tolist()
    end_ns = output["end_ts"].to_numpy(dtype="datetime64[ns]").view(np.int64).tolist()
    keys = output["k"].to_numpy(dtype=np.int64).tolist()
    b_rows = output["b_rows"].to_numpy(dtype=np.int64).tolist()
    return sorted(zip(keys, start_ns, end_ns, b_rows, strict=True))


class MatchMismatchError(AssertionError):
    """Two implementations of the pattern query found different matches."""


def check_same_matches(expected: list[Match], actual: list[Match], label: str) -> None:
    """Raise MatchMismatchError unless both lists contain the same matches in any order."""
    expected = sorted(expected)
    actual = sorted(actual)
    if expected == actual:
        return
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    message = (
        f"{label}: {len(actual)} matches, expected {len(expected)}. "
        f"{len(missing)} missing (first {missing[:3]}), {len(extra)} extra (first {extra[:3]})"
    )
    raise MatchMismatchError(message)
