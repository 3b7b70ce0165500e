"""UNION ALL: rows of every input, the smallest input watermark, and common column types."""

from __future__ import annotations

import pandas as pd

from tests.support.streams import (
    at,
    batch,
    compile_pipeline,
    ns,
    query,
    records,
    session_with,
    stamp,
)
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK
from workbench.runtime.union import UnionOperator
from workbench.sql.plan import Union, Values

FAST = pd.DataFrame({"ts": at(1, 20, 40), "v": [1, 2, 3]})
SLOW = pd.DataFrame({"ts": at(2, 5), "v": [10, 20]})


def test_union_all_keeps_every_row() -> None:
    session = session_with({"fast": FAST, "slow": SLOW}, batch_rows=1)

    frame = query(session, "SELECT v FROM fast UNION ALL SELECT v FROM slow").to_pandas()

    assert sorted(frame["v"].tolist()) == [1, 2, 3, 10, 20]


def test_slower_input_not_late() -> None:
    session = session_with({"fast": FAST, "slow": SLOW}, batch_rows=1)
    result = query(
        session,
        "SELECT window_start, COUNT(*) AS n, SUM(v) AS total FROM TABLE(TUMBLE(TABLE ("
        "SELECT * FROM fast UNION ALL SELECT * FROM slow), DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
        "GROUP BY window_start, window_end",
    )

    # The fast input reaches 20 s first, but the union's watermark waits for the slow input.
    assert records(result.to_pandas()) == [(stamp(0), 3, 31), (stamp(20), 1, 2), (stamp(40), 1, 3)]
    assert len(result.late_rows()) == 0


def test_union_duplicates_kept() -> None:
    session = session_with({"fast": FAST})

    frame = query(session, "SELECT v FROM fast UNION ALL SELECT v FROM fast").to_pandas()

    assert sorted(frame["v"].tolist()) == [1, 1, 2, 2, 3, 3]


def test_union_of_three() -> None:
    session = session_with({"fast": FAST, "slow": SLOW})

    result = query(
        session, "SELECT v FROM fast UNION ALL SELECT v FROM slow UNION ALL SELECT v FROM fast"
    )

    assert len(result.to_pandas()) == 8
    assert "Union(all=[true], inputs=[3])" in result.explain()


def test_union_widens_types() -> None:
    session = session_with({"fast": FAST, "slow": SLOW})

    result = query(
        session,
        "SELECT CAST(v AS INT) AS x FROM fast UNION ALL SELECT CAST(v AS DOUBLE) AS x FROM slow",
    )

    assert result.schema.find("x").type.plain() == t.DOUBLE  # type: ignore[union-attr]
    assert sorted(result.to_pandas()["x"].tolist()) == [1.0, 2.0, 3.0, 10.0, 20.0]


def test_union_keeps_first_names() -> None:
    session = session_with({"fast": FAST, "slow": SLOW})

    frame = query(session, "SELECT v AS a FROM fast UNION ALL SELECT v AS b FROM slow").to_pandas()

    assert list(frame.columns) == ["a"]


def test_union_keeps_time_attribute() -> None:
    session = session_with({"fast": FAST, "slow": SLOW})
    session.sql("CREATE VIEW both_inputs AS SELECT * FROM fast UNION ALL SELECT * FROM slow")

    described = session.describe("both_inputs").to_pandas().set_index("name")

    assert described.loc["ts", "time_attribute"] == "ROWTIME"


# The operator on its own -------------------------------------------------------------------


def union_operator() -> UnionOperator:
    schema = Schema.of([("ts", t.timestamp(3)), ("v", t.BIGINT)])
    branch = Values(schema=schema, rows=())
    return UnionOperator("union-1", Union(schema=schema, branches=(branch, branch)))


def test_row_watermarks_capped_by_other_input() -> None:
    operator = union_operator()
    operator.on_batch(batch(SLOW.iloc[:1], [MIN_WATERMARK], watermark=ns(2)), port=1)

    output = operator.on_batch(batch(FAST, [MIN_WATERMARK, ns(1), ns(20)]), port=0)[0]

    assert output.row_watermarks.tolist() == [MIN_WATERMARK, ns(1), ns(2)]
    assert output.watermark == ns(2)


def test_ends_when_every_input_ended() -> None:
    operator = union_operator()

    first = operator.on_batch(batch(FAST.iloc[0:0], final=True), port=0)[0]
    second = operator.on_batch(batch(FAST.iloc[0:0], final=True), port=1)[0]

    assert not first.final
    assert second.final
    assert second.watermark == MAX_WATERMARK


def test_ended_input_no_longer_holds_watermark() -> None:
    operator = union_operator()
    operator.on_batch(batch(FAST.iloc[0:0], final=True), port=1)

    output = operator.on_batch(batch(FAST, [MIN_WATERMARK, ns(1), ns(20)]), port=0)[0]

    assert output.row_watermarks.tolist() == [MIN_WATERMARK, ns(1), ns(20)]


def test_slow_input_delivered_last_not_late() -> None:
    session = session_with({"fast": FAST, "slow": SLOW})
    pipeline = compile_pipeline(
        session,
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE ("
        "SELECT * FROM fast UNION ALL SELECT * FROM slow), DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
        "GROUP BY window_start, window_end",
    )

    # Every fast row (up to 40 s) arrives before any slow row (2 s and 5 s).
    pipeline.deliver("fast", FAST)
    pipeline.end("fast")
    pipeline.deliver("slow", SLOW)
    pipeline.end("slow")
    late = sum(len(frame) for op in pipeline.operators for frame in op.late_rows)

    assert pipeline.error is None
    assert records(pipeline.collector.to_pandas()) == [
        (stamp(0), 3),
        (stamp(20), 1),
        (stamp(40), 1),
    ]
    assert late == 0
