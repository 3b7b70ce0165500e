"""Batch references for window aggregation, written independently of the engine.

The reference walks the rows in arrival order in plain Python, keeps the
watermark (the largest event time so far minus the delay), and decides per
(row, window) pair whether the window had fired when the row arrived. pandas
then aggregates the counted pairs. It shares no code with the runtime, so the
two can be compared on any stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from workbench.events.nulls import is_null

MS = 1_000_000


@dataclass(frozen=True)
class WindowQuery:
    """A window aggregation: kind and sizes in milliseconds, aggregated column."""

    kind: str
    size_ms: int = 0
    slide_ms: int = 0
    step_ms: int = 0
    gap_ms: int = 0
    offset_ms: int = 0

    def sql(self, table: str, value: str = "value") -> str:
        """Return the Flink SQL text of COUNT/SUM/MIN/MAX of ``value`` per key and window."""
        if self.kind == "TUMBLE":
            tvf = f"TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '{self.size_ms}' MILLISECOND"
            if self.offset_ms:
                tvf += f", INTERVAL '{self.offset_ms}' MILLISECOND"
            tvf += ")"
        elif self.kind == "HOP":
            tvf = (
                f"HOP(TABLE {table}, DESCRIPTOR(ts), INTERVAL '{self.slide_ms}' MILLISECOND, "
                f"INTERVAL '{self.size_ms}' MILLISECOND)"
            )
        elif self.kind == "CUMULATE":
            tvf = (
                f"CUMULATE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '{self.step_ms}' MILLISECOND, "
                f"INTERVAL '{self.size_ms}' MILLISECOND)"
            )
        else:
            tvf = f"SESSION(TABLE {table} PARTITION BY key, DESCRIPTOR(ts), INTERVAL '{self.gap_ms}' MILLISECOND)"
        return (
            f"SELECT key, window_start, window_end, COUNT(*) AS n, COUNT({value}) AS n_value, "
            f"SUM({value}) AS total, MIN({value}) AS low, MAX({value}) AS high "
            f"FROM TABLE({tvf}) GROUP BY key, window_start, window_end"
        )


def _windows(query: WindowQuery, ts: int) -> list[tuple[int, int]]:
    """Return the [start, end) windows (ms) that contain ``ts`` (ms), by plain arithmetic."""
    if query.kind == "TUMBLE":
        start = ts - (ts - query.offset_ms) % query.size_ms
        return [(start, start + query.size_ms)]
    if query.kind == "HOP":
        result = []
        start = ts - (ts - query.offset_ms) % query.slide_ms
        while start > ts - query.size_ms:
            result.append((start, start + query.size_ms))
            start -= query.slide_ms
        return result
    start = ts - (ts - query.offset_ms) % query.size_ms
    ends = range(start + query.step_ms, start + query.size_ms + 1, query.step_ms)
    return [(start, end) for end in ends if end > ts]


def window_reference(
    frame: pd.DataFrame, query: WindowQuery, delay_ms: int
) -> tuple[pd.DataFrame, int]:
    """Return (result, late): the window results and the number of late rows.

    ``frame`` has columns ts (datetime64), key and value in arrival order;
    rows without ts are rejected and left out, as the engine does.
    """
    if query.kind == "SESSION":
        return _session_reference(frame, query, delay_ms)
    watermark: float = float("-inf")
    pairs: list[tuple[object, int, int, object]] = []
    late = 0
    for ts_value, key, value in zip(frame["ts"], frame["key"], frame["value"], strict=True):
        if pd.isna(ts_value):
            continue
        ts = int(pd.Timestamp(ts_value).value // MS)
        counted = [(start, end) for start, end in _windows(query, ts) if end - 1 > watermark]
        if not counted:
            late += 1
        for start, end in counted:
            pairs.append(
                (None if pd.isna(key) else key, start, end, None if pd.isna(value) else int(value))
            )
        watermark = max(watermark, ts - delay_ms)
    return _aggregate(pairs), late


def _session_reference(
    frame: pd.DataFrame, query: WindowQuery, delay_ms: int
) -> tuple[pd.DataFrame, int]:
    """Sessions from sorted event times per key; valid for streams without late rows."""
    rows = frame.dropna(subset=["ts"])
    pairs: list[tuple[object, int, int, object]] = []
    for key, group in rows.groupby(
        rows["key"].astype(object).where(rows["key"].notna(), None), dropna=False
    ):
        times = sorted(
            (
                (int(pd.Timestamp(ts).value // MS), None if pd.isna(v) else int(v))
                for ts, v in zip(group["ts"], group["value"], strict=True)
            ),
            key=lambda pair: pair[0],
        )
        session: list[tuple[int, object]] = []
        for ts, value in times:
            if session and ts > session[-1][0] + query.gap_ms:
                pairs.extend(_session_pairs(key, session, query.gap_ms))
                session = []
            session.append((ts, value))
        if session:
            pairs.extend(_session_pairs(key, session, query.gap_ms))
    del delay_ms
    return _aggregate(pairs), 0


def _session_pairs(
    key: object, session: Sequence[tuple[int, object]], gap: int
) -> list[tuple[object, int, int, object]]:
    start = session[0][0]
    end = max(ts for ts, _ in session) + gap
    clean_key = None if key is None or (isinstance(key, float) and pd.isna(key)) else key
    return [(clean_key, start, end, value) for _, value in session]


def _aggregate(pairs: list[tuple[object, int, int, object]]) -> pd.DataFrame:
    columns = ["key", "window_start", "window_end", "n", "n_value", "total", "low", "high"]
    if not pairs:
        return pd.DataFrame(columns=columns)
    data = pd.DataFrame(pairs, columns=["key", "start", "end", "value"])
    data["value"] = data["value"].astype("Float64")
    grouped = data.groupby(
        [data["key"].fillna("\x00null"), "start", "end"], sort=True, dropna=False
    )
    result = grouped["value"].agg(["size", "count", "sum", "min", "max"]).reset_index()
    result.columns = ["key", "window_start", "window_end", "n", "n_value", "total", "low", "high"]
    result.loc[result["n_value"] == 0, "total"] = pd.NA
    result["key"] = result["key"].where(result["key"] != "\x00null", None)
    result["window_start"] = pd.to_datetime(result["window_start"], unit="ms")
    result["window_end"] = pd.to_datetime(result["window_end"], unit="ms")
    return result[columns]


def normalize(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """Return rows as sorted tuples with NULLs as None and numbers as floats, for comparison."""
    rows = []
    for row in frame.itertuples(index=False, name=None):
        rows.append(tuple(_plain(value) for value in row))
    return sorted(rows, key=repr)


def _plain(value: object) -> object:
    if is_null(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "item"):
        return _plain(value.item())
    return value


# Filters and projections -------------------------------------------------------------

_OPERATORS = {
    ">": lambda left, right: left > right,
    ">=": lambda left, right: left >= right,
    "<": lambda left, right: left < right,
    "<=": lambda left, right: left <= right,
    "=": lambda left, right: left == right,
    "<>": lambda left, right: left != right,
}


@dataclass(frozen=True)
class FilterQuery:
    """A filter and projection over (ts, key, value): ``value OP threshold``, maybe combined.

    With ``key`` the comparison is ANDed with ``key = key``; with ``or_null``
    it is ORed with ``value IS NULL``; with ``negate`` the whole condition is
    wrapped in NOT. The projection keeps ts and key and computes
    ``value * 2 + 1`` as ``scaled``.
    """

    operator: str
    threshold: int
    key: str | None = None
    or_null: bool = False
    negate: bool = False

    def condition_sql(self) -> str:
        text = f"value {self.operator} {self.threshold}"
        if self.key is not None:
            text = f"({text} AND key = '{self.key}')"
        if self.or_null:
            text = f"({text} OR value IS NULL)"
        return f"NOT {text}" if self.negate else text

    def sql(self, table: str) -> str:
        return f"SELECT ts, key, value * 2 + 1 AS scaled FROM {table} WHERE {self.condition_sql()}"

    def keeps(self, key: object, value: object) -> bool:
        """Return whether WHERE keeps a row, with SQL's three-valued logic."""
        result: bool | None = (
            None if value is None else bool(_OPERATORS[self.operator](value, self.threshold))
        )
        if self.key is not None:
            matches = None if key is None else key == self.key
            result = _and(result, matches)
        if self.or_null:
            result = _or(result, value is None)
        if self.negate:
            result = None if result is None else not result
        return result is True


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def filter_reference(frame: pd.DataFrame, query: FilterQuery) -> pd.DataFrame:
    """Return the rows a filter query outputs: rows with event time that WHERE keeps, projected."""
    rows = []
    for ts, key, value in zip(frame["ts"], frame["key"], frame["value"], strict=True):
        if pd.isna(ts):
            continue
        plain_key = None if pd.isna(key) else str(key)
        plain_value = None if pd.isna(value) else int(value)
        if query.keeps(plain_key, plain_value):
            scaled = None if plain_value is None else plain_value * 2 + 1
            rows.append((pd.Timestamp(ts), plain_key, scaled))
    return pd.DataFrame(rows, columns=["ts", "key", "scaled"])
