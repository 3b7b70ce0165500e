"""Event-time interval joins: bounds, outer padding, lateness, state, watermarks and EXPLAIN."""

from __future__ import annotations

import pickle

import pandas as pd

from tests.support.streams import at, compile_pipeline, ns, query, records, session_with, stamp
from workbench.events.time import MAX_WATERMARK
from workbench.events.types import TimeAttribute
from workbench.runtime.interval_join import IntervalJoinOperator

ORDERS = pd.DataFrame({"ts": at(0, 10, 20, 30), "id": [1, 2, 3, 4], "item": ["a", "b", "c", "d"]})
SHIPMENTS = pd.DataFrame({"ts": at(2, 15, 31, 40), "id": [1, 2, 4, 3], "carrier": list("wxzy")})

WITHIN_5 = (
    "SELECT o.id, o.item, s.carrier FROM orders AS o {kind} JOIN shipments AS s "
    "ON o.id = s.id AND s.ts BETWEEN o.ts AND o.ts + INTERVAL '5' SECOND"
)


def _session(batch_rows: int | None = None, delay: str = "1 s") -> object:
    return session_with(
        {"orders": ORDERS, "shipments": SHIPMENTS}, delay=delay, batch_rows=batch_rows
    )


def test_inner_join_pairs_within_bounds() -> None:
    for batch_rows in (1, 3, None):
        result = query(_session(batch_rows), WITHIN_5.format(kind="INNER"))  # type: ignore[arg-type]

        assert sorted(records(result.to_pandas())) == [(1, "a", "w"), (2, "b", "x"), (4, "d", "z")]


def test_left_join_pads_unmatched() -> None:
    result = query(_session(), WITHIN_5.format(kind="LEFT"))  # type: ignore[arg-type]

    assert sorted(records(result.to_pandas()), key=repr) == sorted(
        [(1, "a", "w"), (2, "b", "x"), (3, "c", None), (4, "d", "z")], key=repr
    )


def test_right_and_full_join_pad() -> None:
    right = query(_session(), WITHIN_5.format(kind="RIGHT"))  # type: ignore[arg-type]
    full = query(_session(), WITHIN_5.format(kind="FULL"))  # type: ignore[arg-type]

    assert (None, None, "y") in records(right.to_pandas())
    assert len(right.to_pandas()) == 4
    full_rows = records(full.to_pandas())
    assert (3, "c", None) in full_rows
    assert (None, None, "y") in full_rows
    assert len(full_rows) == 5


def test_strict_bounds_exclude_edges() -> None:
    left = pd.DataFrame({"ts": at(10), "k": [1]})
    right = pd.DataFrame({"ts": at(5, 6, 14, 15), "k": [1, 1, 1, 1]})
    session = session_with({"l": left, "r": right})
    inclusive = query(
        session,
        "SELECT r.ts FROM l JOIN r ON l.k = r.k "
        "AND l.ts >= r.ts - INTERVAL '5' SECOND AND l.ts <= r.ts + INTERVAL '5' SECOND",
    )
    strict = query(
        session,
        "SELECT r.ts FROM l JOIN r ON l.k = r.k "
        "AND l.ts > r.ts - INTERVAL '5' SECOND AND l.ts < r.ts + INTERVAL '5' SECOND",
    )

    assert sorted(records(inclusive.to_pandas())) == [
        (stamp(5),),
        (stamp(6),),
        (stamp(14),),
        (stamp(15),),
    ]
    assert sorted(records(strict.to_pandas())) == [(stamp(6),), (stamp(14),)]


def test_comma_join_with_where() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        "SELECT o.id, s.carrier FROM orders o, shipments s WHERE o.id = s.id "
        "AND o.ts BETWEEN s.ts - INTERVAL '5' SECOND AND s.ts AND s.carrier <> 'w'",
    )

    assert sorted(records(result.to_pandas())) == [(2, "x"), (4, "z")]
    assert "IntervalJoin(joinType=[InnerJoin]" in result.explain()


def test_null_keys_never_match() -> None:
    left = pd.DataFrame({"ts": at(1, 2), "k": pd.array([None, 1], dtype="Int64")})
    right = pd.DataFrame({"ts": at(1, 2), "k": pd.array([None, 1], dtype="Int64")})
    result = query(
        session_with({"l": left, "r": right}),
        "SELECT l.k, r.k AS rk FROM l LEFT JOIN r ON l.k = r.k AND l.ts = r.ts",
    )

    assert sorted(records(result.to_pandas()), key=repr) == sorted([(None, None), (1, 1)], key=repr)


def test_explain_shows_bounds() -> None:
    result = query(_session(), WITHIN_5.format(kind="LEFT"))  # type: ignore[arg-type]

    text = result.explain()
    assert (
        "IntervalJoin(joinType=[LeftOuterJoin], windowBounds=[leftTime=[ts], rightTime=[ts], "
        "leftLowerBound=[-5 s], leftUpperBound=[0 s]], equiKeys=[id = id]" in text
    )


def test_inner_join_keeps_both_time_attributes() -> None:
    result = query(
        _session(), "SELECT * FROM orders o JOIN shipments s ON o.id = s.id AND o.ts = s.ts"
    )
    outer = query(
        _session(),  # type: ignore[arg-type]
        "SELECT * FROM orders o LEFT JOIN shipments s ON o.id = s.id AND o.ts = s.ts",
    )

    assert result.schema.find("ts").type.time_attribute is TimeAttribute.ROWTIME  # type: ignore[union-attr]
    assert result.schema.find("ts0").type.time_attribute is TimeAttribute.ROWTIME  # type: ignore[union-attr]
    assert outer.schema.find("ts").type.time_attribute is TimeAttribute.ROWTIME  # type: ignore[union-attr]
    assert outer.schema.find("ts0").type.time_attribute is None  # type: ignore[union-attr]


def test_window_over_join_output_not_late() -> None:
    result = query(
        _session(1),  # type: ignore[arg-type]
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE ("
        "SELECT o.ts, o.id FROM orders o JOIN shipments s ON o.id = s.id "
        "AND s.ts BETWEEN o.ts AND o.ts + INTERVAL '5' SECOND), DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
        "GROUP BY window_start, window_end",
    )

    assert sorted(records(result.to_pandas())) == [(stamp(0), 1), (stamp(10), 1), (stamp(30), 1)]
    assert len(result.late_rows()) == 0


def _pipeline() -> object:
    session = session_with({"orders": ORDERS, "shipments": SHIPMENTS}, delay="0 s")
    return compile_pipeline(session, WITHIN_5.format(kind="FULL"))


def _join(pipeline: object) -> IntervalJoinOperator:
    return next(op for op in pipeline.operators if isinstance(op, IntervalJoinOperator))  # type: ignore[attr-defined]


def test_late_row_goes_to_side_output() -> None:
    pipeline = _pipeline()
    pipeline.deliver("shipments", SHIPMENTS.iloc[:3])  # type: ignore[attr-defined]
    pipeline.deliver("orders", ORDERS.iloc[2:4])  # type: ignore[attr-defined]
    # The join watermark is now 30 s (orders) capped by 40 s (shipments): an order at 0 s is late.
    pipeline.deliver("orders", ORDERS.iloc[0:1])  # type: ignore[attr-defined]
    join = _join(pipeline)

    assert join.metrics.late == 1
    late = pd.concat(join.late_rows)
    assert late["id"].tolist() == [1]
    assert late["late_reason"].iloc[0] == "the join's watermark had passed the row's event time"


def test_padding_waits_for_watermark() -> None:
    pipeline = _pipeline()
    pipeline.deliver("orders", ORDERS.iloc[2:3])  # type: ignore[attr-defined]
    pipeline.deliver("shipments", pd.DataFrame({"ts": at(21), "id": [9], "carrier": ["q"]}))  # type: ignore[attr-defined]
    output = pipeline.collector.output()  # type: ignore[attr-defined]
    assert len(output) == 0
    # Once both watermarks pass 25 s no shipment can pair with the order at 20 s.
    pipeline.deliver("orders", pd.DataFrame({"ts": at(26), "id": [8], "item": ["z"]}))  # type: ignore[attr-defined]
    pipeline.deliver("shipments", pd.DataFrame({"ts": at(27), "id": [7], "carrier": ["p"]}))  # type: ignore[attr-defined]
    output = pipeline.collector.output()  # type: ignore[attr-defined]
    assert (3, "c", None) in records(output)


def test_snapshot_restore_continues() -> None:
    whole = _pipeline()
    whole.deliver("orders", ORDERS.iloc[:2])  # type: ignore[attr-defined]
    whole.deliver("shipments", SHIPMENTS.iloc[:2])  # type: ignore[attr-defined]
    emitted = len(whole.collector.output())  # type: ignore[attr-defined]
    resumed = _pipeline()
    resumed.restore(pickle.loads(pickle.dumps(whole.snapshot())))  # type: ignore[attr-defined]
    for pipeline in (whole, resumed):
        pipeline.deliver("orders", ORDERS.iloc[2:])  # type: ignore[attr-defined]
        pipeline.deliver("shipments", SHIPMENTS.iloc[2:])  # type: ignore[attr-defined]
        pipeline.end("orders")  # type: ignore[attr-defined]
        pipeline.end("shipments")  # type: ignore[attr-defined]

    rest = records(whole.collector.output())[emitted:]  # type: ignore[attr-defined]
    assert records(resumed.collector.output()) == rest  # type: ignore[attr-defined]
    assert _join(resumed).state_rows == 0


def test_output_watermark_held_back() -> None:
    pipeline = _pipeline()
    pipeline.deliver("orders", ORDERS.iloc[:2])  # type: ignore[attr-defined]
    pipeline.deliver("shipments", SHIPMENTS.iloc[:2])  # type: ignore[attr-defined]
    join = _join(pipeline)

    # Both inputs are at 10 s (delay 0); the join holds its output back by the 5 s interval.
    assert join.watermark == ns(10)
    assert pipeline.collector.watermark == ns(5)  # type: ignore[attr-defined]
    pipeline.end("orders")  # type: ignore[attr-defined]
    pipeline.end("shipments")  # type: ignore[attr-defined]
    assert pipeline.collector.watermark == MAX_WATERMARK  # type: ignore[attr-defined]
