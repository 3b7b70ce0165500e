"""A window table-valued function on its own: each row once per window, emitted on arrival."""

from __future__ import annotations

import pandas as pd

from tests.support.streams import at, batch, ns, query, records, session_with, stamp
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK, NS_PER_SECOND
from workbench.runtime.window_table import WindowTableOperator
from workbench.sql.plan import Values, WindowSpec, WindowTableFunction

TS = t.timestamp(3)
INPUT = Schema.of([("ts", TS), ("v", t.BIGINT)])
EVENTS = pd.DataFrame({"ts": at(1, 7, 12), "v": [1, 2, 3]})


def tumble_operator() -> WindowTableOperator:
    node = WindowTableFunction(
        schema=Schema.of(
            [
                ("ts", TS),
                ("v", t.BIGINT),
                ("window_start", TS),
                ("window_end", TS),
                ("window_time", TS),
            ]
        ),
        input=Values(schema=INPUT, rows=()),
        window=WindowSpec("TUMBLE", "ts", size_ns=10 * NS_PER_SECOND),
    )
    return WindowTableOperator("window-1", node, INPUT)


def test_tumble_adds_window_columns() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session, "SELECT * FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))"
    ).to_pandas()

    assert list(frame.columns) == ["ts", "v", "window_start", "window_end", "window_time"]
    assert records(frame, ["v", "window_start", "window_end", "window_time"]) == [
        (1, stamp(0), stamp(10), stamp(9.999)),
        (2, stamp(0), stamp(10), stamp(9.999)),
        (3, stamp(10), stamp(20), stamp(19.999)),
    ]


def test_hop_row_per_window() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT v, window_start, window_end FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), "
        "INTERVAL '5' SECOND, INTERVAL '10' SECOND))",
    ).to_pandas()

    assert records(frame) == [
        (1, stamp(-5), stamp(5)),
        (1, stamp(0), stamp(10)),
        (2, stamp(0), stamp(10)),
        (2, stamp(5), stamp(15)),
        (3, stamp(5), stamp(15)),
        (3, stamp(10), stamp(20)),
    ]


def test_cumulate_rows() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT v, window_start, window_end FROM TABLE(CUMULATE(TABLE events, DESCRIPTOR(ts), "
        "INTERVAL '5' SECOND, INTERVAL '10' SECOND))",
    ).to_pandas()

    assert records(frame) == [
        (1, stamp(0), stamp(5)),
        (1, stamp(0), stamp(10)),
        (2, stamp(0), stamp(10)),
        (3, stamp(10), stamp(15)),
        (3, stamp(10), stamp(20)),
    ]


def test_window_time_is_rowtime() -> None:
    session = session_with({"events": EVENTS})

    described = session.sql(
        "CREATE VIEW windows AS SELECT * FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), "
        "INTERVAL '10' SECOND))"
    )
    types = session.describe("windows").to_pandas().set_index("name")

    assert described is not None
    assert types.loc["window_time", "time_attribute"] == "ROWTIME"
    assert pd.isna(types.loc["ts", "time_attribute"])


def test_late_row_side_output() -> None:
    frame = pd.DataFrame({"ts": at(1, 25, 4, 22), "v": [1, 2, 3, 4]})
    session = session_with({"events": frame}, delay="2 s")
    result = query(
        session, "SELECT v FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))"
    )

    assert result.to_pandas()["v"].tolist() == [1, 2, 4]
    late = result.late_rows()
    assert late["v"].tolist() == [3]
    assert late["late_watermark"].tolist() == [stamp(23)]
    assert late["late_operator"].iloc[0].startswith("window-")
    assert late["late_reason"].iloc[0] == "every window of the row had already fired"


def test_rows_emitted_on_arrival() -> None:
    operator = tumble_operator()

    outputs = operator.on_batch(batch(EVENTS, [MIN_WATERMARK, ns(1), ns(7)]))

    assert outputs[0].data["v"].tolist() == [1, 2, 3]
    assert outputs[0].row_watermarks.tolist() == [MIN_WATERMARK, ns(1), ns(7)]


def test_empty_batch_passes_end() -> None:
    operator = tumble_operator()

    outputs = operator.on_batch(batch(EVENTS.iloc[0:0], final=True))

    assert len(outputs[0]) == 0
    assert outputs[0].final


def test_named_arguments_after_data() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT v, window_start FROM TABLE(HOP(DATA => TABLE events, SIZE => INTERVAL '10' SECOND, "
        "TIMECOL => DESCRIPTOR(ts), SLIDE => INTERVAL '10' SECOND))",
    ).to_pandas()

    assert records(frame) == [(1, stamp(0)), (2, stamp(0)), (3, stamp(10))]


def test_named_arguments_any_order() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT v, window_start FROM TABLE(TUMBLE(TIMECOL => DESCRIPTOR(ts), "
        "DATA => TABLE events, SIZE => INTERVAL '10' SECOND))",
    ).to_pandas()

    assert records(frame) == [(1, stamp(0)), (2, stamp(0)), (3, stamp(10))]
