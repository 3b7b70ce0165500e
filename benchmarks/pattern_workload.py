"""Generate the pattern-matching events: timestamps, integer keys and an event kind.

Timestamps, keys, arrival order and held-back events come from
``workload.generate_events``, so the pattern workload has the window
workload's out-of-order share and watermark delay. Each event gets a
``kind`` drawn independently from ``KINDS`` with the workload's weights.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from workload import START_NS, Workload, generate_events

#: Event kinds. The pattern ``A B+ C`` maps A, B and C to the first three;
#: ``x`` matches no variable and ends any partial match of its key.
KINDS = ("a", "b", "c", "x")


@dataclass(frozen=True)
class PatternWorkload:
    """The shape of a generated event stream for ``A B+ C``.

    With the default weights, a partial match starts at each ``a`` row (2 % of
    rows) and grows over the ``b`` rows (90 %) that follow it in its key. The
    first other row ends it, and that row is a ``c`` (a match) with
    probability 0.02 / 0.10 = 20 %. A partial match has 9 B rows on average,
    and a key gets a row every 3.6 s on average (1,000 keys, 1,000,000
    events per hour). So a partial match spans about 36 s, and the longer
    ones exceed the 1-minute WITHIN interval and time out.
    """

    events: int = 1_000_000
    keys: int = 1_000
    span_ms: int = 3_600_000
    #: Probabilities of ``KINDS``, in that order.
    kind_weights: tuple[float, ...] = (0.02, 0.90, 0.02, 0.06)
    out_of_order_fraction: float = 0.01
    max_hold_back_ms: int = 3_000
    watermark_delay_ms: int = 5_000
    seed: int = 20240102

    def __post_init__(self) -> None:
        if len(self.kind_weights) != len(KINDS) or not np.isclose(sum(self.kind_weights), 1.0):
            message = (
                f"kind_weights {self.kind_weights} must be {len(KINDS)} probabilities "
                f"for {KINDS} that sum to 1"
            )
            raise ValueError(message)
        # Raises ValueError when held-back events would be late.
        self.stream()

    @property
    def events_per_ms(self) -> float:
        return self.events / self.span_ms

    def stream(self) -> Workload:
        """Return the settings of the timestamp and key generator."""
        return Workload(
            events=self.events,
            keys=self.keys,
            span_ms=self.span_ms,
            out_of_order_fraction=self.out_of_order_fraction,
            max_hold_back_ms=self.max_hold_back_ms,
            watermark_delay_ms=self.watermark_delay_ms,
            seed=self.seed,
        )

    def describe(self) -> dict[str, object]:
        return {**asdict(self), "kinds": list(KINDS)}


def generate_pattern_events(
    workload: PatternWorkload, rng: np.random.Generator, count: int, start_ns: int, span_ms: int
) -> pd.DataFrame:
    """Return ``count`` events with event times in ``[start_ns, start_ns + span_ms)``.

    Columns: ``ts`` (datetime64[ns] with millisecond values), ``k`` (int64 in
    ``[0, keys)``) and ``kind`` (a string of ``KINDS``), in arrival order.
    """
    frame = generate_events(workload.stream(), rng, count, start_ns, span_ms)
    codes = rng.choice(len(KINDS), size=count, p=list(workload.kind_weights))
    kinds = np.asarray(KINDS, dtype=object)[codes]
    return pd.DataFrame({"ts": frame["ts"], "k": frame["k"], "kind": pd.Series(kinds, dtype=str)})


def make_pattern_frame(workload: PatternWorkload) -> pd.DataFrame:
    """Return the whole workload as one DataFrame in arrival order."""
    rng = np.random.default_rng(workload.seed)
    return generate_pattern_events(workload, rng, workload.events, START_NS, workload.span_ms)


PATTERN_PARQUET_SCHEMA = pa.schema(
    [("ts", pa.timestamp("ms")), ("k", pa.int64()), ("kind", pa.string())]
)


def ensure_pattern_parquet(
    workload: PatternWorkload, data_dir: Path, events: int, row_group_rows: int = 1_000_000
) -> Path:
    """Write ``events`` events to a Parquet file unless a complete one exists, and return its path.

    As in ``workload.ensure_parquet``, the events keep the workload's average
    rate, so 4 times the events span 4 times the event time. The file is
    written one row group at a time and events are held back only within
    their row group.
    """
    path = data_dir / f"pattern-events-{events}.parquet"
    if path.exists():
        try:
            if pq.ParquetFile(path).metadata.num_rows == events:
                return path
        except (pa.ArrowInvalid, OSError):
            pass
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".parquet.partial")
    rng = np.random.default_rng(workload.seed + events)
    written = 0
    with pq.ParquetWriter(partial, PATTERN_PARQUET_SCHEMA) as writer:
        while written < events:
            count = min(row_group_rows, events - written)
            start_ns = START_NS + round(written / workload.events_per_ms) * 1_000_000
            span_ms = max(1, round(count / workload.events_per_ms))
            frame = generate_pattern_events(workload, rng, count, start_ns, span_ms)
            table = pa.Table.from_pandas(frame, schema=PATTERN_PARQUET_SCHEMA, preserve_index=False)
            writer.write_table(table, row_group_size=row_group_rows)
            written += count
    os.replace(partial, path)
    return path
