"""Window aggregation over TUMBLE, HOP and CUMULATE: firing, lateness, grouping sets, cascades."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.support.streams import at, batch, ns, query, records, session_with, stamp
from workbench import Session
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK, NS_PER_SECOND
from workbench.runtime.window_aggregate import WindowAggregateOperator
from workbench.sql.plan import AggCall, Values, WindowAggregate, WindowSpec

TS = t.timestamp(3)
INPUT = Schema.of([("ts", TS), ("k", t.STRING)])


def count_operator(size_seconds: int = 10) -> WindowAggregateOperator:
    """Return the operator of COUNT(*) per k and TUMBLE window."""
    node = WindowAggregate(
        schema=Schema.of(
            [
                ("k", t.STRING),
                ("window_start", TS),
                ("window_end", TS),
                ("window_time", TS),
                ("n", t.BIGINT),
            ]
        ),
        input=Values(schema=INPUT, rows=()),
        window=WindowSpec("TUMBLE", "ts", size_ns=size_seconds * NS_PER_SECOND),
        keys=("k",),
        aggregates=(AggCall("COUNT", (), "n", t.BIGINT),),
    )
    return WindowAggregateOperator("window-aggregate-1", node, INPUT)


def rows(*pairs: tuple[float, str]) -> pd.DataFrame:
    return pd.DataFrame({"ts": at(*(p[0] for p in pairs)), "k": [p[1] for p in pairs]})


TUMBLE_10S = "TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))"


# The operator on its own -------------------------------------------------------------------


def test_window_waits_for_watermark() -> None:
    operator = count_operator()

    outputs = operator.on_batch(batch(rows((1, "a"), (2, "a")), [MIN_WATERMARK, ns(1)]))

    assert len(outputs[0]) == 0


def test_window_fires_at_window_time() -> None:
    operator = count_operator()
    operator.on_batch(batch(rows((1, "a"), (2, "b")), [MIN_WATERMARK, ns(1)]))

    before = operator.on_batch(batch(rows(), watermark=ns(9.998)))
    fired = operator.on_batch(batch(rows(), watermark=ns(9.999)))

    assert len(before[0]) == 0
    assert records(fired[0].data, ["k", "n"]) == [("a", 1), ("b", 1)]


def test_fired_rows_carry_bounds() -> None:
    operator = count_operator()
    operator.on_batch(batch(rows((12, "a")), [MIN_WATERMARK]))

    fired = operator.on_batch(batch(rows(), watermark=ns(30)))[0].data

    assert fired["window_start"].iloc[0] == stamp(10)
    assert fired["window_end"].iloc[0] == stamp(20)
    assert fired["window_time"].iloc[0] == stamp(19.999)


def test_end_of_input_fires_everything() -> None:
    operator = count_operator()
    operator.on_batch(batch(rows((1, "a"), (25, "a")), [MIN_WATERMARK, ns(1)]))

    final = operator.on_batch(batch(rows(), final=True))[0]

    assert records(final.data, ["window_start", "n"]) == [(stamp(0), 1), (stamp(20), 1)]
    assert final.final


def test_windows_fire_in_end_order() -> None:
    operator = count_operator()
    operator.on_batch(batch(rows((25, "a"), (5, "a"), (15, "a")), [MIN_WATERMARK] * 3))

    final = operator.on_batch(batch(rows(), final=True))[0]

    assert final.data["window_start"].tolist() == [stamp(0), stamp(10), stamp(20)]


def test_fired_rows_leave_below_threshold() -> None:
    operator = count_operator()
    operator.on_batch(batch(rows((1, "a")), [MIN_WATERMARK]))

    fired = operator.on_batch(batch(rows((30, "a"), (31, "a")), [ns(1), ns(30)]))[0]

    assert fired.row_watermarks.tolist() == [ns(1)]


def test_late_row_goes_to_side_output() -> None:
    operator = count_operator()
    operator.on_batch(batch(rows((15, "a")), [MIN_WATERMARK], watermark=ns(15)))

    operator.on_batch(batch(rows((3, "b")), [ns(15)]))
    late = operator.late_rows[0]

    assert records(late, ["k", "late_operator"]) == [("b", "window-aggregate-1")]
    assert late["late_watermark"].iloc[0] == stamp(15)
    assert operator.metrics.late == 1


def test_snapshot_restore_continues() -> None:
    first = count_operator()
    first.on_batch(batch(rows((1, "a"), (2, "a")), [MIN_WATERMARK, ns(1)]))

    second = count_operator()
    second.restore(first.snapshot())
    second.on_batch(batch(rows((3, "a")), [ns(2)]))
    final = second.on_batch(batch(rows(), final=True))[0]

    assert records(final.data, ["k", "n"]) == [("a", 3)]


# Through SQL ----------------------------------------------------------------------------


BIDS = pd.DataFrame(
    {
        "ts": at(1, 4, 12, 6, 15, 27, 3),
        "item": ["x", "y", "x", "x", "y", "x", "y"],
        "price": [10, 20, 30, 40, 50, 60, 70],
    }
)


def test_tumble_counts_per_key() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")

    frame = query(
        session,
        f"SELECT item, window_start, COUNT(*) AS n, SUM(price) AS total FROM {TUMBLE_10S} "
        "GROUP BY item, window_start, window_end",
    ).to_pandas()

    # 3 s arrives after 27 s (watermark 22 s): its window [0, 10) has fired.
    assert sorted(records(frame)) == [
        ("x", stamp(0), 2, 50),
        ("x", stamp(10), 1, 30),
        ("x", stamp(20), 1, 60),
        ("y", stamp(0), 1, 20),
        ("y", stamp(10), 1, 50),
    ]


def test_renamed_columns_in_select_order() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")

    result = query(
        session,
        f"SELECT COUNT(*) AS n, item AS first_item, window_end AS ends, item AS second_item "
        f"FROM {TUMBLE_10S} GROUP BY item, window_start, window_end",
    )
    frame = result.to_pandas()

    assert list(frame.columns) == ["n", "first_item", "ends", "second_item"]
    assert sorted(records(frame)) == [
        (1, "x", stamp(20), "x"),
        (1, "x", stamp(30), "x"),
        (1, "y", stamp(10), "y"),
        (1, "y", stamp(20), "y"),
        (2, "x", stamp(10), "x"),
    ]
    assert [row.name for row in result.schema] == ["n", "first_item", "ends", "second_item"]


def test_late_rows_columns() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")
    result = query(
        session,
        f"SELECT window_start, COUNT(*) AS n FROM {TUMBLE_10S} GROUP BY window_start, window_end",
    )

    late = result.late_rows()

    assert len(late) == 1
    assert late["ts"].iloc[0] == stamp(3)
    assert late["price"].iloc[0] == 70
    assert late["late_watermark"].iloc[0] == stamp(22)
    assert late["late_operator"].iloc[0].startswith("window-aggregate-")
    assert late["late_reason"].iloc[0] == "every window of the row had already fired"


def test_late_rows_keep_input_columns_only() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")
    result = query(
        session,
        f"SELECT window_start, COUNT(*) FILTER (WHERE price > 10) AS n, SUM(price * 2) AS d "
        f"FROM {TUMBLE_10S} GROUP BY window_start, window_end",
    )

    late = result.late_rows()

    assert list(late.columns) == [
        "ts",
        "item",
        "price",
        "late_watermark",
        "late_operator",
        "late_reason",
    ]


def test_late_count_in_metrics() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")
    result = query(
        session,
        f"SELECT window_start, COUNT(*) AS n FROM {TUMBLE_10S} GROUP BY window_start, window_end",
    )

    result.run()
    metrics = result.metrics().set_index("operator")
    aggregate = [name for name in metrics.index if name.startswith("window-aggregate-")]

    assert len(aggregate) == 1
    assert metrics.loc[aggregate[0], "late"] == 1
    assert metrics.loc[aggregate[0], "rows_in"] == 7
    assert metrics.loc[aggregate[0], "rows_out"] == 3


def test_watermark_equal_window_time_is_late() -> None:
    frame = pd.DataFrame({"ts": at(1, 9.999, 5), "v": [1, 2, 3]})
    session = session_with({"bids": frame})
    result = query(
        session,
        f"SELECT window_start, COUNT(*) AS n FROM {TUMBLE_10S} GROUP BY window_start, window_end",
    )

    assert records(result.to_pandas()) == [(stamp(0), 2)]
    assert result.late_rows()["v"].tolist() == [3]


def test_tumble_offset() -> None:
    session = session_with({"bids": BIDS}, delay="30 s")

    frame = query(
        session,
        "SELECT window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE bids, "
        "DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '5' SECOND)) "
        "GROUP BY window_start, window_end",
    ).to_pandas()

    assert records(frame) == [
        (stamp(-5), stamp(5), 3),
        (stamp(5), stamp(15), 2),
        (stamp(15), stamp(25), 1),
        (stamp(25), stamp(35), 1),
    ]


def test_hop_late_row_counts_in_open_window() -> None:
    frame = pd.DataFrame({"ts": at(1, 12, 8), "v": [1, 2, 3]})
    session = session_with({"bids": frame})
    result = query(
        session,
        "SELECT window_start, window_end, COUNT(*) AS n, SUM(v) AS total FROM TABLE(HOP("
        "TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) "
        "GROUP BY window_start, window_end",
    )

    # 8 s arrives under watermark 12 s: [0, 10) has fired, [5, 15) is still open.
    assert records(result.to_pandas()) == [
        (stamp(-5), stamp(5), 1, 1),
        (stamp(0), stamp(10), 1, 1),
        (stamp(5), stamp(15), 2, 5),
        (stamp(10), stamp(20), 1, 2),
    ]
    assert len(result.late_rows()) == 0


def test_cumulate_late_row_counts_in_open_windows() -> None:
    frame = pd.DataFrame({"ts": at(1, 12, 3), "v": [1, 2, 3]})
    session = session_with({"bids": frame})
    result = query(
        session,
        "SELECT window_end, COUNT(*) AS n, SUM(v) AS total FROM TABLE(CUMULATE(TABLE bids, "
        "DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '20' SECOND)) "
        "GROUP BY window_start, window_end",
    )

    assert records(result.to_pandas()) == [
        (stamp(5), 1, 1),
        (stamp(10), 1, 1),
        (stamp(15), 3, 6),
        (stamp(20), 3, 6),
    ]
    assert len(result.late_rows()) == 0


def test_same_result_any_batch_size() -> None:
    sql = (
        f"SELECT item, window_start, COUNT(*) AS n, MAX(price) AS top FROM {TUMBLE_10S} "
        "GROUP BY item, window_start, window_end"
    )
    row_by_row = query(session_with({"bids": BIDS}, delay="5 s", batch_rows=1), sql)
    whole_input = query(session_with({"bids": BIDS}, delay="5 s"), sql)

    assert sorted(records(row_by_row.to_pandas())) == sorted(records(whole_input.to_pandas()))
    assert len(row_by_row.late_rows()) == len(whole_input.late_rows())


def test_where_between_tvf_and_aggregate() -> None:
    session = session_with({"bids": BIDS}, delay="30 s")

    frame = query(
        session,
        f"SELECT window_start, COUNT(*) AS n FROM {TUMBLE_10S} WHERE price >= 40 "
        "GROUP BY window_start, window_end",
    ).to_pandas()

    assert records(frame) == [(stamp(0), 2), (stamp(10), 1), (stamp(20), 1)]


def test_having_filters_windows() -> None:
    session = session_with({"bids": BIDS}, delay="30 s")

    frame = query(
        session,
        f"SELECT item, window_start, COUNT(*) AS n FROM {TUMBLE_10S} "
        "GROUP BY item, window_start, window_end HAVING COUNT(*) > 1",
    ).to_pandas()

    assert sorted(records(frame)) == [("x", stamp(0), 2), ("y", stamp(0), 2)]


def test_empty_input_no_windows() -> None:
    session = session_with({"bids": BIDS})

    frame = query(
        session,
        f"SELECT window_start, COUNT(*) AS n FROM {TUMBLE_10S} WHERE price < 0 "
        "GROUP BY window_start, window_end",
    ).to_pandas()

    assert len(frame) == 0
    assert list(frame.columns) == ["window_start", "n"]


# Grouping sets per window ----------------------------------------------------------------

SALES = pd.DataFrame(
    {
        "ts": at(1, 2, 3, 4, 11),
        "shop": ["n", "n", "s", "s", "n"],
        "item": ["x", "y", "x", "x", "x"],
        "qty": [1, 2, 3, 4, 5],
    }
)
TUMBLE_SALES = "TABLE(TUMBLE(TABLE sales, DESCRIPTOR(ts), INTERVAL '10' SECOND))"


def grouped(sets: str) -> list[tuple[object, ...]]:
    session = session_with({"sales": SALES}, delay="30 s")
    frame = query(
        session,
        f"SELECT window_start, shop, item, SUM(qty) AS total FROM {TUMBLE_SALES} "
        f"GROUP BY window_start, window_end, {sets}",
    ).to_pandas()
    return sorted(records(frame), key=repr)


def test_window_rollup() -> None:
    assert grouped("ROLLUP (shop, item)") == sorted(
        [
            (stamp(0), "n", "x", 1),
            (stamp(0), "n", "y", 2),
            (stamp(0), "s", "x", 7),
            (stamp(0), "n", None, 3),
            (stamp(0), "s", None, 7),
            (stamp(0), None, None, 10),
            (stamp(10), "n", "x", 5),
            (stamp(10), "n", None, 5),
            (stamp(10), None, None, 5),
        ],
        key=repr,
    )


def test_window_cube() -> None:
    assert grouped("CUBE (shop, item)") == sorted(
        [
            (stamp(0), "n", "x", 1),
            (stamp(0), "n", "y", 2),
            (stamp(0), "s", "x", 7),
            (stamp(0), "n", None, 3),
            (stamp(0), "s", None, 7),
            (stamp(0), None, "x", 8),
            (stamp(0), None, "y", 2),
            (stamp(0), None, None, 10),
            (stamp(10), "n", "x", 5),
            (stamp(10), "n", None, 5),
            (stamp(10), None, "x", 5),
            (stamp(10), None, None, 5),
        ],
        key=repr,
    )


def test_window_grouping_sets() -> None:
    assert grouped("GROUPING SETS ((shop), (item))") == sorted(
        [
            (stamp(0), "n", None, 3),
            (stamp(0), "s", None, 7),
            (stamp(0), None, "x", 8),
            (stamp(0), None, "y", 2),
            (stamp(10), "n", None, 5),
            (stamp(10), None, "x", 5),
        ],
        key=repr,
    )


# Windows over windows ----------------------------------------------------------------------


def test_cascaded_tumble_over_window_time() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")
    session.sql(
        "CREATE VIEW per_five AS SELECT item, window_time AS rowtime, COUNT(*) AS n "
        "FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND)) "
        "GROUP BY item, window_start, window_end, window_time"
    )

    frame = query(
        session,
        "SELECT window_start, window_end, SUM(n) AS total, COUNT(*) AS windows "
        "FROM TABLE(TUMBLE(TABLE per_five, DESCRIPTOR(rowtime), INTERVAL '20' SECOND)) "
        "GROUP BY window_start, window_end",
    ).to_pandas()

    # Five-second windows: x [0,5) [5,10) [10,15) [25,30), y [0,5) [15,20); 3 s is late.
    assert records(frame) == [(stamp(0), stamp(20), 5, 5), (stamp(20), stamp(40), 1, 1)]


def test_cascade_keeps_rowtime_attribute() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")
    session.sql(
        "CREATE VIEW per_five AS SELECT window_time AS rowtime, COUNT(*) AS n "
        "FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND)) "
        "GROUP BY window_start, window_end, window_time"
    )

    described = session.describe("per_five").to_pandas().set_index("name")

    assert described.loc["rowtime", "time_attribute"] == "ROWTIME"


def test_regroup_by_window_bounds() -> None:
    session = session_with({"bids": BIDS}, delay="5 s")

    frame = query(
        session,
        "SELECT window_start, SUM(n) AS total, COUNT(*) AS items FROM ("
        f"SELECT item, window_start, window_end, COUNT(*) AS n FROM {TUMBLE_10S} "
        "GROUP BY item, window_start, window_end) GROUP BY window_start, window_end",
    ).to_pandas()

    assert records(frame) == [(stamp(0), 3, 2), (stamp(10), 2, 2), (stamp(20), 1, 1)]


@pytest.mark.parametrize("kind", ["HOP", "CUMULATE"])
def test_explain_names_window(kind: str) -> None:
    session = session_with({"bids": BIDS})

    text = query(
        session,
        f"SELECT window_start, COUNT(*) AS n FROM TABLE({kind}(TABLE bids, DESCRIPTOR(ts), "
        "INTERVAL '5' SECOND, INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
    ).explain()

    assert f"WindowAggregate(window=[{kind}(time_col=[ts]" in text
    assert "WindowTableFunction" not in text


def test_ltz_day_window_local_midnight(tmp_path: Path) -> None:
    # 12:00 UTC is 20:00 on Jan 1 in Shanghai; 17:00 UTC is 01:00 on Jan 2 there.
    (tmp_path / "events.csv").write_text(
        "epoch,v\n1704110400000,1\n1704128400000,2\n", encoding="utf-8"
    )
    session = Session(progress=False, base_dir=tmp_path)
    session.sql(
        "SET 'table.local-time-zone' = 'Asia/Shanghai';"
        "CREATE TABLE events (epoch BIGINT, v INT, ts AS TO_TIMESTAMP_LTZ(epoch, 3), "
        "WATERMARK FOR ts AS ts) "
        "WITH ('connector' = 'filesystem', 'path' = 'events.csv', 'format' = 'csv')"
    )

    frame = query(
        session,
        "SELECT window_start, SUM(v) AS total FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), "
        "INTERVAL '1' DAY)) GROUP BY window_start, window_end",
    ).to_pandas()

    assert frame["total"].tolist() == [1, 2]
