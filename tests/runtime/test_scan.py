"""The scan: per-row watermarks, rows without event time, precision, computed columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.support.streams import at, ns, query, records, session_with, stamp
from workbench.events import types as t
from workbench.events.rejected import with_positions
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK, NS_PER_SECOND
from workbench.events.types import TimeAttribute
from workbench.runtime.scan import ScanOperator
from workbench.sql.expr import Call, ColumnRef, Literal
from workbench.sql.plan import Scan, WatermarkSpec

TS = t.timestamp(3).with_time_attribute(TimeAttribute.ROWTIME)
PHYSICAL = Schema.of([("ts", t.timestamp(3)), ("v", t.BIGINT)])


def scan(delay_seconds: float = 0, computed: tuple = ()) -> ScanOperator:
    schema = Schema.of(
        [("ts", TS), ("v", t.BIGINT), *((name, expr.type) for name, expr in computed)]
    )
    node = Scan(
        schema=schema,
        table="events",
        physical=PHYSICAL,
        computed=computed,
        watermark=WatermarkSpec("ts", int(delay_seconds * NS_PER_SECOND), "ts"),
    )
    return ScanOperator("scan-1", node)


def frame(*seconds: float | None) -> pd.DataFrame:
    times = pd.Series([None if s is None else stamp(s) for s in seconds], dtype="datetime64[ns]")
    return pd.DataFrame({"ts": times, "v": pd.array(range(len(seconds)), dtype="Int64")})


def test_row_watermark_is_before_row() -> None:
    operator = scan()

    out = operator.ingest(frame(1, 5, 3, 8))

    assert out.row_watermarks.tolist() == [MIN_WATERMARK, ns(1), ns(5), ns(5)]
    assert out.watermark == ns(8)


def test_delay_lowers_watermark() -> None:
    operator = scan(delay_seconds=2)

    out = operator.ingest(frame(1, 5, 3))

    assert out.row_watermarks.tolist() == [MIN_WATERMARK, ns(-1), ns(3)]
    assert out.watermark == ns(3)


def test_watermark_carries_across_chunks() -> None:
    operator = scan()
    operator.ingest(frame(1, 9))

    out = operator.ingest(frame(4, 12))

    assert out.row_watermarks.tolist() == [ns(9), ns(9)]
    assert out.watermark == ns(12)


def test_null_event_time_rejected() -> None:
    operator = scan()

    out = operator.ingest(frame(1, None, 3))
    rejected = operator.rejected.to_pandas()

    assert out.data["v"].tolist() == [0, 2]
    assert len(out.row_watermarks) == 2
    assert rejected["reason"].tolist() == ["NULL event time in column 'ts'"]
    assert rejected["offset"].tolist() == [1]
    assert operator.metrics.rejected == 1


def test_rejected_offset_counts_earlier_chunks() -> None:
    operator = scan()
    operator.ingest(frame(1, 2))

    operator.ingest(frame(3, None))

    assert operator.rejected.to_pandas()["offset"].tolist() == [3]


def test_rejected_row_placed_by_position_columns() -> None:
    operator = scan()
    chunk = with_positions(frame(1, None, 3), lines=np.array([2, 4, 5]), file="b.csv")

    out = operator.ingest(chunk)

    assert list(out.data.columns) == ["ts", "v"]
    assert operator.rejected.rows[0][1:4] == (4, None, "b.csv: NULL event time in column 'ts'")


def test_event_time_truncated_to_millis() -> None:
    operator = scan()
    data = pd.DataFrame(
        {
            "ts": pd.Series([stamp(1) + pd.Timedelta(microseconds=1500)]),
            "v": pd.array([1], dtype="Int64"),
        }
    )

    out = operator.ingest(data)

    assert out.data["ts"].iloc[0] == stamp(1.001)
    assert out.watermark == ns(1.001)


def test_computed_column() -> None:
    doubled = Call(
        function="*",
        args=(ColumnRef(name="v", type=t.BIGINT), Literal(value=2, type=t.INT)),
        type=t.BIGINT,
    )
    operator = scan(computed=(("twice", doubled),))

    out = operator.ingest(frame(1, 2))

    assert list(out.data.columns) == ["ts", "v", "twice"]
    assert out.data["twice"].tolist() == [0, 2]


def test_finish_is_final_batch() -> None:
    operator = scan()

    out = operator.finish()

    assert out.final
    assert len(out) == 0
    assert out.watermark == np.iinfo(np.int64).max


def test_counts_rows() -> None:
    operator = scan()

    operator.ingest(frame(1, None, 3))

    assert operator.metrics.rows_in == 3
    assert operator.metrics.rows_out == 2


def test_snapshot_restore_watermark() -> None:
    first = scan()
    first.ingest(frame(7))
    second = scan()

    second.restore(first.snapshot())
    out = second.ingest(frame(2))

    assert out.row_watermarks.tolist() == [ns(7)]


# Through SQL ----------------------------------------------------------------------------


def test_rejected_rows_of_query() -> None:
    events = pd.DataFrame({"ts": at(1, 2, 3), "v": [1, 2, 3]})
    events.loc[1, "ts"] = pd.NaT
    session = session_with({"events": events})
    result = query(session, "SELECT v FROM events")

    rejected = result.rejected_rows()

    assert result.to_pandas()["v"].tolist() == [1, 3]
    assert list(rejected.columns) == ["source", "line", "offset", "reason", "raw"]
    assert rejected["reason"].tolist() == ["NULL event time in column 'ts'"]
    assert rejected["offset"].tolist() == [1]
    assert "'v': 2" in rejected["raw"].iloc[0]


def test_rejected_rows_in_metrics() -> None:
    events = pd.DataFrame({"ts": at(1, 2, 3), "v": [1, 2, 3]})
    events.loc[0, "ts"] = pd.NaT
    session = session_with({"events": events})
    result = query(session, "SELECT v FROM events")
    result.run()

    metrics = result.metrics().set_index("operator")
    scans = [name for name in metrics.index if name.startswith("scan-")]

    assert len(scans) == 1
    assert metrics.loc[scans[0], "rejected"] == 1
    assert metrics.loc[scans[0], "rows_out"] == 2


def test_table_without_event_time_keeps_nulls() -> None:
    events = pd.DataFrame({"ts": at(1, 2), "v": [1, 2]})
    events.loc[0, "ts"] = pd.NaT
    session = session_with({"events": events}, rowtime=None)

    result = query(session, "SELECT v FROM events")

    assert records(result.to_pandas()) == [(1,), (2,)]
    assert len(result.rejected_rows()) == 0
