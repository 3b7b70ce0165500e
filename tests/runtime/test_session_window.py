"""SESSION windows: merging, partitions, lateness after merging, and session rows without aggregation."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, batch, ns, query, records, session_with, stamp
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK, NS_PER_SECOND
from workbench.runtime.session_window import SessionWindowOperator
from workbench.sql.plan import AggCall, Values, WindowAggregate, WindowSpec

TS = t.timestamp(3)
INPUT = Schema.of([("ts", TS), ("k", t.STRING), ("v", t.BIGINT)])


def session_sql(gap_seconds: int, partition: bool = True) -> str:
    keys = "k, " if partition else ""
    by = " PARTITION BY k" if partition else ""
    return (
        f"SELECT {keys}window_start, window_end, COUNT(*) AS n, SUM(v) AS total "
        f"FROM TABLE(SESSION(TABLE events{by}, DESCRIPTOR(ts), INTERVAL '{gap_seconds}' SECOND)) "
        f"GROUP BY {keys}window_start, window_end"
    )


def events(times: list[float], keys: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": at(*times),
            "k": list(keys) if keys else ["a"] * len(times),
            "v": list(range(1, len(times) + 1)),
        }
    )


def test_separate_sessions_per_gap() -> None:
    session = session_with({"events": events([0, 2, 20, 21])})

    frame = query(session, session_sql(5)).to_pandas()

    assert records(frame) == [
        ("a", stamp(0), stamp(7), 2, 3),
        ("a", stamp(20), stamp(26), 2, 7),
    ]


def test_bridging_row_merges_sessions() -> None:
    session = session_with({"events": events([0, 10, 5, 30])}, delay="10 s")

    frame = query(session, session_sql(6)).to_pandas()

    # [0, 6) and [10, 16) are both open when 5 s arrives; its [5, 11) touches both.
    assert records(frame) == [
        ("a", stamp(0), stamp(16), 3, 6),
        ("a", stamp(30), stamp(36), 1, 4),
    ]


def test_rows_one_gap_apart_merge() -> None:
    session = session_with({"events": events([0, 5, 11])})

    frame = query(session, session_sql(5)).to_pandas()

    assert records(frame, ["window_start", "window_end", "n"]) == [
        (stamp(0), stamp(10), 2),
        (stamp(11), stamp(16), 1),
    ]


def test_partitions_have_own_sessions() -> None:
    session = session_with({"events": events([0, 1, 3, 5], keys="abba")})

    frame = query(session, session_sql(2)).to_pandas()

    assert sorted(records(frame, ["k", "window_start", "window_end", "n"])) == [
        ("a", stamp(0), stamp(2), 1),
        ("a", stamp(5), stamp(7), 1),
        ("b", stamp(1), stamp(5), 2),
    ]


def test_late_row_after_session_fired() -> None:
    session = session_with({"events": events([0, 30, 2, 26])}, delay="5 s")
    result = query(session, session_sql(5))

    frame = result.to_pandas()
    late = result.late_rows()

    # 2 s arrives under watermark 25 s: [0, 5) has fired and [2, 7) has passed.
    assert records(frame) == [
        ("a", stamp(0), stamp(5), 1, 1),
        ("a", stamp(26), stamp(35), 2, 6),
    ]
    assert late["v"].tolist() == [3]
    assert late["late_reason"].tolist() == ["the row's session had already fired"]
    assert late["late_watermark"].tolist() == [stamp(25)]


def test_late_row_joins_open_session() -> None:
    session = session_with({"events": events([10, 14, 7])}, delay="1 s")
    result = query(session, session_sql(5))

    # 7 s arrives under watermark 13 s: its own window [7, 12) has passed, but it
    # touches the open session [10, 19), which absorbs it.
    assert records(result.to_pandas()) == [("a", stamp(7), stamp(19), 3, 6)]
    assert len(result.late_rows()) == 0


def test_same_result_any_batch_size() -> None:
    frame = events([0, 10, 5, 30, 33, 12, 50], keys="ababbab")
    sql = session_sql(6)

    row_by_row = query(session_with({"events": frame}, delay="4 s", batch_rows=1), sql)
    whole_input = query(session_with({"events": frame}, delay="4 s"), sql)

    assert sorted(records(row_by_row.to_pandas())) == sorted(records(whole_input.to_pandas()))
    assert len(row_by_row.late_rows()) == len(whole_input.late_rows())


def test_session_without_partition() -> None:
    session = session_with({"events": events([0, 2, 20], keys="abc")})

    frame = query(session, session_sql(5, partition=False)).to_pandas()

    assert records(frame) == [(stamp(0), stamp(7), 2, 3), (stamp(20), stamp(25), 1, 3)]


def test_session_rows_without_aggregate() -> None:
    session = session_with({"events": events([0, 10, 5])}, delay="10 s")

    frame = query(
        session,
        "SELECT v, window_start, window_end, window_time FROM TABLE(SESSION(TABLE events "
        "PARTITION BY k, DESCRIPTOR(ts), INTERVAL '6' SECOND))",
    ).to_pandas()

    assert records(frame) == [
        (1, stamp(0), stamp(16), stamp(15.999)),
        (2, stamp(0), stamp(16), stamp(15.999)),
        (3, stamp(0), stamp(16), stamp(15.999)),
    ]


def test_session_key_must_match_partition() -> None:
    from workbench.errors import UnsupportedError

    session = session_with({"events": events([0])})

    with pytest.raises(UnsupportedError, match="PARTITION BY"):
        session.sql(
            "SELECT v, window_start, COUNT(*) FROM TABLE(SESSION(TABLE events PARTITION BY k, "
            "DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY v, window_start, window_end"
        )


# The operator on its own -------------------------------------------------------------------


def session_operator(gap_seconds: int) -> SessionWindowOperator:
    spec = WindowSpec("SESSION", "ts", gap_ns=gap_seconds * NS_PER_SECOND, partition_keys=("k",))
    node = WindowAggregate(
        schema=Schema.of(
            [
                ("k", t.STRING),
                ("window_start", TS),
                ("window_end", TS),
                ("window_time", TS),
                ("total", t.BIGINT),
            ]
        ),
        input=Values(schema=INPUT, rows=()),
        window=spec,
        keys=("k",),
        aggregates=(AggCall("SUM", ("v",), "total", t.BIGINT),),
    )
    return SessionWindowOperator("session-aggregate-1", node, INPUT)


def test_merge_sums_partial_states() -> None:
    operator = session_operator(5)
    operator.on_batch(batch(events([0, 10]), [MIN_WATERMARK, ns(0)]))
    operator.on_batch(batch(events([5]).assign(v=[100]), [ns(1)]))

    final = operator.on_batch(batch(events([]), final=True))[0]

    assert records(final.data, ["window_start", "window_end", "total"]) == [
        (stamp(0), stamp(15), 103)
    ]


def test_session_fires_at_end_minus_precision() -> None:
    operator = session_operator(4)
    operator.on_batch(batch(events([0]), [MIN_WATERMARK]))

    before = operator.on_batch(batch(events([]), watermark=ns(3.998)))[0]
    fired = operator.on_batch(batch(events([]), watermark=ns(3.999)))[0]

    assert len(before) == 0
    assert records(fired.data, ["window_end", "total"]) == [(stamp(4), 1)]
