"""Batch references for interval and window joins, written independently of the engine.

Each reference joins two whole streams with pandas: a merge on the key, a
filter on the time condition, and NULL-padded rows for an outer join's
unmatched rows. They hold when no row is late, which streams made with
``StreamShape(disorder="within")`` guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

MS = 1_000_000

#: Output columns of both references' queries.
JOIN_COLUMNS = ["lkey", "lts", "lvalue", "rkey", "rts", "rvalue"]


@dataclass(frozen=True)
class IntervalJoinQuery:
    """``l.ts - r.ts`` between ``lower_ms`` and ``upper_ms``, each bound strict or inclusive."""

    kind: str
    lower_ms: int
    upper_ms: int
    lower_strict: bool = False
    upper_strict: bool = False

    def sql(self, left: str, right: str) -> str:
        lower = _shifted("r.ts", self.lower_ms)
        upper = _shifted("r.ts", self.upper_ms)
        if not self.lower_strict and not self.upper_strict:
            time = f"l.ts BETWEEN {lower} AND {upper}"
        else:
            time = (
                f"l.ts {'>' if self.lower_strict else '>='} {lower} "
                f"AND l.ts {'<' if self.upper_strict else '<='} {upper}"
            )
        return (
            f"SELECT l.key AS lkey, l.ts AS lts, l.`value` AS lvalue, "
            f"r.key AS rkey, r.ts AS rts, r.`value` AS rvalue "
            f"FROM {left} AS l {self.kind} JOIN {right} AS r ON l.key = r.key AND {time}"
        )


@dataclass(frozen=True)
class WindowJoinQuery:
    """A window join of two streams over the same windows; sizes in milliseconds."""

    kind: str
    window: str = "TUMBLE"
    size_ms: int = 10_000
    slide_ms: int = 0
    step_ms: int = 0

    def tvf(self, table: str) -> str:
        if self.window == "TUMBLE":
            arguments = f"INTERVAL '{self.size_ms}' MILLISECOND"
        elif self.window == "HOP":
            arguments = (
                f"INTERVAL '{self.slide_ms}' MILLISECOND, INTERVAL '{self.size_ms}' MILLISECOND"
            )
        else:
            arguments = (
                f"INTERVAL '{self.step_ms}' MILLISECOND, INTERVAL '{self.size_ms}' MILLISECOND"
            )
        return f"TABLE({self.window}(TABLE {table}, DESCRIPTOR(ts), {arguments}))"

    def sql(self, left: str, right: str) -> str:
        if self.kind in ("SEMI", "ANTI"):
            negation = "NOT " if self.kind == "ANTI" else ""
            return (
                f"SELECT l.key AS lkey, l.ts AS lts, l.`value` AS lvalue, l.window_start AS ws "
                f"FROM {self.tvf(left)} AS l WHERE {negation}EXISTS (SELECT * FROM "
                f"{self.tvf(right)} AS r WHERE l.key = r.key "
                f"AND l.window_start = r.window_start AND l.window_end = r.window_end)"
            )
        return (
            f"SELECT l.key AS lkey, l.ts AS lts, l.`value` AS lvalue, "
            f"r.key AS rkey, r.ts AS rts, r.`value` AS rvalue, "
            f"l.window_start AS ws, r.window_start AS rws "
            f"FROM {self.tvf(left)} AS l {self.kind} JOIN {self.tvf(right)} AS r "
            f"ON l.key = r.key AND l.window_start = r.window_start "
            f"AND l.window_end = r.window_end"
        )

    def windows(self, ts: int) -> list[tuple[int, int]]:
        """Return the (start, end) windows, in ms since the epoch, that contain ``ts``."""
        if self.window == "TUMBLE":
            start = ts - ts % self.size_ms
            return [(start, start + self.size_ms)]
        if self.window == "HOP":
            result = []
            start = ts - ts % self.slide_ms
            while start > ts - self.size_ms:
                result.append((start, start + self.size_ms))
                start -= self.slide_ms
            return result
        start = ts - ts % self.size_ms
        return [
            (start, end)
            for end in range(start + self.step_ms, start + self.size_ms + 1, self.step_ms)
            if end > ts
        ]


def _shifted(column: str, ms: int) -> str:
    if ms >= 0:
        return f"{column} + INTERVAL '{ms}' MILLISECOND"
    return f"{column} - INTERVAL '{-ms}' MILLISECOND"


def _sides(left: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    left = left.rename(columns={"key": "lkey", "ts": "lts", "value": "lvalue"})
    right = right.rename(columns={"key": "rkey", "ts": "rts", "value": "rvalue"})
    left = left.assign(lrow=range(len(left)))
    right = right.assign(rrow=range(len(right)))
    return left, right


def _pad(
    pairs: pd.DataFrame, left: pd.DataFrame, right: pd.DataFrame, kind: str, extra: list[str]
) -> pd.DataFrame:
    """Add the unmatched rows of an outer join's preserved sides, padded with NULLs."""
    parts = [pairs]
    if kind in ("LEFT", "FULL"):
        parts.append(left[~left["lrow"].isin(pairs["lrow"])])
    if kind in ("RIGHT", "FULL"):
        parts.append(right[~right["rrow"].isin(pairs["rrow"])])
    frame = pd.concat(parts, ignore_index=True)
    return frame.reindex(columns=JOIN_COLUMNS + extra)


def interval_join_reference(
    left: pd.DataFrame, right: pd.DataFrame, query: IntervalJoinQuery
) -> pd.DataFrame:
    """Return the rows of ``query`` over two whole streams (columns ``JOIN_COLUMNS``)."""
    left, right = _sides(left.dropna(subset=["ts"]), right.dropna(subset=["ts"]))
    pairs = left.dropna(subset=["lkey"]).merge(
        right.dropna(subset=["rkey"]), left_on="lkey", right_on="rkey"
    )
    difference = (pairs["lts"] - pairs["rts"]).to_numpy(dtype="timedelta64[ns]").astype("int64")
    lower, upper = query.lower_ms * MS, query.upper_ms * MS
    inside = (difference > lower) if query.lower_strict else (difference >= lower)
    inside &= (difference < upper) if query.upper_strict else (difference <= upper)
    return _pad(pairs[inside], left, right, query.kind, [])


def window_join_reference(
    left: pd.DataFrame, right: pd.DataFrame, query: WindowJoinQuery
) -> pd.DataFrame:
    """Return the rows of a window join over two whole streams.

    The columns are ``JOIN_COLUMNS`` with ``ws`` and ``rws`` (each side's
    window start) for INNER and outer joins, and ``lkey, lts, lvalue, ws`` for
    SEMI and ANTI joins.
    """
    left = _windowed(left, query, "ws")
    right = _windowed(right, query, "rws")
    left, right = _sides(left, right)
    pairs = left.dropna(subset=["lkey"]).merge(
        right.dropna(subset=["rkey"]),
        left_on=["lkey", "ws", "we"],
        right_on=["rkey", "rws", "rwe"],
    )
    if query.kind in ("SEMI", "ANTI"):
        matched = left["lrow"].isin(pairs["lrow"])
        chosen = left[matched] if query.kind == "SEMI" else left[~matched]
        return chosen[["lkey", "lts", "lvalue", "ws"]].reset_index(drop=True)
    return _pad(pairs, left, right, query.kind, ["ws", "rws"])


def _windowed(frame: pd.DataFrame, query: WindowJoinQuery, start: str) -> pd.DataFrame:
    """Return one row per (row, window), with the window's start and end as timestamps."""
    end = "we" if start == "ws" else "rwe"
    rows = []
    for record in frame.dropna(subset=["ts"]).to_dict("records"):
        ts = record["ts"].value // MS
        for window_start, window_end in query.windows(ts):
            rows.append(
                {
                    **record,
                    start: pd.Timestamp(window_start * MS),
                    end: pd.Timestamp(window_end * MS),
                }
            )
    columns = [*frame.columns, start, end]
    return pd.DataFrame(rows, columns=columns)
