"""OVER aggregations ordered by event time: ROWS and RANGE frames, peers, late rows."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, batch, ns, query, records, session_with, stamp
from workbench.errors import UnsupportedError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK
from workbench.runtime.over_aggregate import OverAggregateOperator
from workbench.sql.plan import AggCall, OverAggregate, OverFrame, Values

# Partition a: 1 s (v=1), 2 s (v=2), 2 s (v=3), 4 s (v=4); partition b: 9 s (v=5), 10 s (v=7).
# The row at 3 s (v=6) arrives after 9 s under watermark 7 s: it is late.
EVENTS = pd.DataFrame(
    {
        "ts": at(1, 2, 2, 4, 9, 3, 10),
        "k": list("aaaabab"),
        "v": [1, 2, 3, 4, 5, 6, 7],
    }
)


def over(frame_clause: str, call: str = "SUM(v)", partition: str = "PARTITION BY k ") -> list:
    session = session_with({"events": EVENTS}, delay="2 s")
    result = query(
        session,
        f"SELECT ts, k, v, {call} OVER ({partition}ORDER BY ts {frame_clause}) AS x FROM events",
    )
    return records(result.to_pandas(), ["k", "v", "x"])


def test_rows_preceding() -> None:
    assert over("ROWS BETWEEN 1 PRECEDING AND CURRENT ROW") == [
        ("a", 1, 1),
        ("a", 2, 3),
        ("a", 3, 5),
        ("a", 4, 7),
        ("b", 5, 5),
        ("b", 7, 12),
    ]


def test_range_interval_peers_share_value() -> None:
    assert over("RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW") == [
        ("a", 1, 1),
        ("a", 2, 6),
        ("a", 3, 6),
        ("a", 4, 9),
        ("b", 5, 5),
        ("b", 7, 12),
    ]


def test_range_count_includes_boundary() -> None:
    assert over("RANGE BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW", call="COUNT(*)") == [
        ("a", 1, 1),
        ("a", 2, 3),
        ("a", 3, 3),
        ("a", 4, 1),
        ("b", 5, 1),
        ("b", 7, 2),
    ]


def test_unbounded_preceding_rows() -> None:
    assert over("ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW") == [
        ("a", 1, 1),
        ("a", 2, 3),
        ("a", 3, 6),
        ("a", 4, 10),
        ("b", 5, 5),
        ("b", 7, 12),
    ]


def test_default_frame_is_range() -> None:
    assert over("", partition="") == [
        ("a", 1, 1),
        ("a", 2, 6),
        ("a", 3, 6),
        ("a", 4, 10),
        ("b", 5, 15),
        ("b", 7, 22),
    ]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("COUNT(v)", [1, 2, 3, 4, 1, 2]),
        ("AVG(v)", [1.0, 1.5, 2.0, 2.5, 5.0, 6.0]),
        ("MIN(v)", [1, 1, 1, 1, 5, 5]),
        ("MAX(v)", [1, 2, 3, 4, 5, 7]),
        ("VAR_POP(v)", [0.0, 0.25, 2 / 3, 1.25, 0.0, 1.0]),
        ("STDDEV_SAMP(v)", [None, 0.5**0.5, 1.0, (5 / 3) ** 0.5, None, 2**0.5]),
    ],
    ids=["COUNT", "AVG", "MIN", "MAX", "VAR_POP", "STDDEV_SAMP"],
)
def test_aggregates_over_rows(call: str, expected: list[object]) -> None:
    values = [x for _, _, x in over("ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", call)]

    assert values == [pytest.approx(x) if isinstance(x, float) else x for x in expected]


def test_timestamp_max_keeps_type() -> None:
    session = session_with({"events": EVENTS}, delay="2 s")

    frame = query(
        session, "SELECT MAX(ts) OVER (PARTITION BY k ORDER BY ts) AS latest FROM events"
    ).to_pandas()

    assert frame["latest"].tolist() == [stamp(1), stamp(2), stamp(2), stamp(4), stamp(9), stamp(10)]


def test_late_row_side_output() -> None:
    session = session_with({"events": EVENTS}, delay="2 s")
    result = query(session, "SELECT v, SUM(v) OVER (PARTITION BY k ORDER BY ts) AS x FROM events")

    result.to_pandas()
    late = result.late_rows()

    assert late["v"].tolist() == [6]
    assert late["late_watermark"].tolist() == [stamp(7)]
    assert late["late_reason"].tolist() == ["event time not above the watermark"]
    assert late["late_operator"].iloc[0].startswith("over-aggregate-")


def test_rows_leave_in_time_order() -> None:
    frame = pd.DataFrame({"ts": at(5, 3, 4, 20), "v": [5, 3, 4, 20]})
    session = session_with({"events": frame}, delay="5 s")

    result = query(session, "SELECT v, COUNT(*) OVER (ORDER BY ts) AS n FROM events").to_pandas()

    assert records(result) == [(3, 1), (4, 2), (5, 3), (20, 4)]


def test_same_result_any_batch_size() -> None:
    sql = (
        "SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING "
        "AND CURRENT ROW) AS x FROM events"
    )
    row_by_row = query(session_with({"events": EVENTS}, delay="2 s", batch_rows=1), sql)
    whole_input = query(session_with({"events": EVENTS}, delay="2 s"), sql)

    assert records(row_by_row.to_pandas()) == records(whole_input.to_pandas())


def test_named_window_clause() -> None:
    session = session_with({"events": EVENTS}, delay="2 s")

    frame = query(
        session,
        "SELECT v, SUM(v) OVER w AS s, COUNT(v) OVER w AS c FROM events "
        "WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
    ).to_pandas()

    assert records(frame) == [(1, 1, 1), (2, 3, 2), (3, 5, 2), (4, 7, 2), (5, 5, 1), (7, 12, 2)]


def test_frame_must_end_at_current_row() -> None:
    session = session_with({"events": EVENTS})

    with pytest.raises(UnsupportedError, match="CURRENT ROW"):
        session.sql(
            "SELECT SUM(v) OVER (ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM events"
        )


def test_order_by_time_attribute_only() -> None:
    session = session_with({"events": EVENTS})

    with pytest.raises(UnsupportedError, match="time attribute"):
        session.sql("SELECT SUM(v) OVER (ORDER BY v) FROM events")


def test_filter_clause_applied_or_rejected() -> None:
    session = session_with({"events": EVENTS}, delay="2 s")
    sql = "SELECT v, SUM(v) FILTER (WHERE v > 2) OVER (PARTITION BY k ORDER BY ts) AS x FROM events"
    try:
        result = query(session, sql)
    except UnsupportedError:
        return

    assert records(result.to_pandas()) == [(1, None), (2, 3), (3, 3), (4, 7), (5, 5), (7, 12)]


def test_min_over_strings() -> None:
    frame = pd.DataFrame({"ts": at(1, 2, 3), "s": ["m", "c", "x"]})
    session = session_with({"events": frame})

    result = query(session, "SELECT MIN(s) OVER (ORDER BY ts) AS low FROM events").to_pandas()

    assert result["low"].tolist() == ["m", "c", "c"]


def test_first_value_over() -> None:
    session = session_with({"events": EVENTS}, delay="2 s")

    result = query(
        session, "SELECT v, FIRST_VALUE(v) OVER (PARTITION BY k ORDER BY ts) AS f FROM events"
    ).to_pandas()

    assert records(result) == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 5), (7, 5)]


# The operator on its own -------------------------------------------------------------------


def sum_operator(preceding: int | None) -> OverAggregateOperator:
    input_schema = Schema.of([("ts", t.timestamp(3)), ("v", t.BIGINT)])
    node = OverAggregate(
        schema=Schema.of([("ts", t.timestamp(3)), ("v", t.BIGINT), ("x", t.BIGINT)]),
        input=Values(schema=input_schema, rows=()),
        partition_keys=(),
        time_column="ts",
        frame=OverFrame("ROWS", preceding),
        aggregates=(AggCall("SUM", ("v",), "x", t.BIGINT),),
    )
    return OverAggregateOperator("over-aggregate-1", node, input_schema)


def test_rows_wait_for_watermark() -> None:
    operator = sum_operator(None)
    frame = pd.DataFrame({"ts": at(1, 2), "v": [1, 2]})

    first = operator.on_batch(batch(frame, [MIN_WATERMARK, MIN_WATERMARK]))[0]
    second = operator.on_batch(batch(frame.iloc[0:0], watermark=ns(1)))[0]

    assert len(first) == 0
    assert records(second.data, ["v", "x"]) == [(1, 1)]


def test_history_survives_batches() -> None:
    operator = sum_operator(1)
    operator.on_batch(batch(pd.DataFrame({"ts": at(1, 2), "v": [1, 2]}), [MIN_WATERMARK] * 2))
    operator.on_batch(batch(pd.DataFrame({"ts": at(3), "v": [3]}).iloc[0:0], watermark=ns(2)))

    later = operator.on_batch(batch(pd.DataFrame({"ts": at(3), "v": [10]}), [ns(2)], final=True))[0]

    assert records(later.data, ["v", "x"]) == [(10, 12)]
