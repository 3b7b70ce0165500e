"""Filter and projection over a batch: row watermarks stay with their rows."""

from __future__ import annotations

import pandas as pd

from tests.support.streams import at, batch, ns, query, records, session_with
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK
from workbench.runtime.calc import CalcOperator
from workbench.sql.expr import Call, ColumnRef, Literal
from workbench.sql.plan import Calc, Values

INPUT = Schema.of([("ts", t.timestamp(3)), ("v", t.BIGINT)])
V = ColumnRef(name="v", type=t.BIGINT)
EVENTS = pd.DataFrame({"ts": at(1, 2, 3, 4), "v": pd.array([5, 1, 7, None], dtype="Int64")})


def calc(projections, predicate=None) -> CalcOperator:
    schema = Schema.of([(name, expr.type) for name, expr in projections])
    node = Calc(
        schema=schema,
        input=Values(schema=INPUT, rows=()),
        projections=tuple(projections),
        predicate=predicate,
    )
    return CalcOperator("calc-1", node)


def greater(value: int) -> Call:
    return Call(function=">", args=(V, Literal(value=value, type=t.INT)), type=t.BOOLEAN)


def test_filter_keeps_row_watermarks() -> None:
    operator = calc([("v", V)], predicate=greater(4))
    marks = [MIN_WATERMARK, ns(1), ns(2), ns(3)]

    out = operator.on_batch(batch(EVENTS, marks))[0]

    assert out.data["v"].tolist() == [5, 7]
    assert out.row_watermarks.tolist() == [MIN_WATERMARK, ns(2)]
    assert out.watermark == ns(3)


def test_null_condition_drops_row() -> None:
    operator = calc([("v", V)], predicate=greater(0))

    out = operator.on_batch(batch(EVENTS))[0]

    assert out.data["v"].tolist() == [5, 1, 7]


def test_rename_only_projection() -> None:
    operator = calc([("value", V), ("time", ColumnRef(name="ts", type=t.timestamp(3)))])

    out = operator.on_batch(batch(EVENTS))[0]

    assert list(out.data.columns) == ["value", "time"]
    assert operator.renames == {"value": "v", "time": "ts"}


def test_computed_projection() -> None:
    plus = Call(function="+", args=(V, Literal(value=1, type=t.INT)), type=t.BIGINT)
    operator = calc([("next", plus)])

    out = operator.on_batch(batch(EVENTS))[0]

    assert records(out.data) == [(6,), (2,), (8,), (None,)]


def test_empty_batch_keeps_end_flag() -> None:
    operator = calc([("v", V)], predicate=greater(4))

    out = operator.on_batch(batch(EVENTS.iloc[0:0], final=True))[0]

    assert len(out) == 0
    assert out.final
    assert list(out.data.columns) == ["v"]


def test_counts_rows_in_and_out() -> None:
    operator = calc([("v", V)], predicate=greater(4))

    operator.on_batch(batch(EVENTS))

    assert operator.metrics.rows_in == 4
    assert operator.metrics.rows_out == 2


# Through SQL ----------------------------------------------------------------------------


def test_where_and_case() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT v, CASE WHEN v > 4 THEN 'high' WHEN v IS NULL THEN 'none' ELSE 'low' END AS level "
        "FROM events WHERE v IS NULL OR v <> 1",
    ).to_pandas()

    assert records(frame) == [(5, "high"), (7, "high"), (None, "none")]


def test_select_star_then_expression() -> None:
    session = session_with({"events": EVENTS})

    frame = query(session, "SELECT *, v * 10 AS ten FROM events WHERE v = 7").to_pandas()

    assert list(frame.columns) == ["ts", "v", "ten"]
    assert records(frame, ["v", "ten"]) == [(7, 70)]


def test_duplicate_output_names_made_unique() -> None:
    session = session_with({"events": EVENTS})

    frame = query(session, "SELECT v, v + 1 AS v FROM events WHERE v = 1").to_pandas()

    assert list(frame.columns) == ["v", "v0"]


def test_filter_on_time_keeps_time_attribute() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE (SELECT ts, v FROM events "
        "WHERE v > 1), DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
    ).to_pandas()

    assert frame["n"].tolist() == [2]
