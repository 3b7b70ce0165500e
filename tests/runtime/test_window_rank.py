"""Window Top-N: ROW_NUMBER, RANK and DENSE_RANK per window, rank filters, ties, lateness."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, batch, ns, query, records, session_with, stamp
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.events.time import MIN_WATERMARK, NS_PER_SECOND
from workbench.runtime.window_rank import WindowRankOperator
from workbench.sql.plan import SortKey, Values, WindowRank, WindowSpec

# Window [0, 10): prices 5, 9, 9, 7, 3, 9 (items a..f); window [10, 20): 1, 2 (g, h).
BIDS = pd.DataFrame(
    {
        "ts": at(1, 2, 3, 4, 5, 6, 11, 12),
        "item": list("abcdefgh"),
        "shop": list("xyxyxyxy"),
        "price": [5, 9, 9, 7, 3, 9, 1, 2],
    }
)
TUMBLE = "TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))"


def top(function: str, condition: str, partition: str = "") -> list[tuple[object, ...]]:
    session = session_with({"bids": BIDS})
    frame = query(
        session,
        f"SELECT * FROM (SELECT item, price, window_start, {function}() OVER ("
        f"PARTITION BY window_start, window_end{partition} ORDER BY price DESC) AS rn "
        f"FROM {TUMBLE}) WHERE {condition}",
    ).to_pandas()
    return records(frame, ["window_start", "item", "price", "rn"])


def test_row_number_ties_by_arrival() -> None:
    assert top("ROW_NUMBER", "rn <= 3") == [
        (stamp(0), "b", 9, 1),
        (stamp(0), "c", 9, 2),
        (stamp(0), "f", 9, 3),
        (stamp(10), "h", 2, 1),
        (stamp(10), "g", 1, 2),
    ]


def test_rank_ties_share_rank() -> None:
    assert top("RANK", "rn <= 4") == [
        (stamp(0), "b", 9, 1),
        (stamp(0), "c", 9, 1),
        (stamp(0), "f", 9, 1),
        (stamp(0), "d", 7, 4),
        (stamp(10), "h", 2, 1),
        (stamp(10), "g", 1, 2),
    ]


def test_rank_skips_after_ties() -> None:
    assert top("RANK", "rn <= 3") == [
        (stamp(0), "b", 9, 1),
        (stamp(0), "c", 9, 1),
        (stamp(0), "f", 9, 1),
        (stamp(10), "h", 2, 1),
        (stamp(10), "g", 1, 2),
    ]


def test_dense_rank_no_gaps() -> None:
    assert top("DENSE_RANK", "rn <= 3") == [
        (stamp(0), "b", 9, 1),
        (stamp(0), "c", 9, 1),
        (stamp(0), "f", 9, 1),
        (stamp(0), "d", 7, 2),
        (stamp(0), "a", 5, 3),
        (stamp(10), "h", 2, 1),
        (stamp(10), "g", 1, 2),
    ]


def test_limit_on_left_side() -> None:
    assert top("ROW_NUMBER", "3 >= rn") == top("ROW_NUMBER", "rn <= 3")


def test_rank_between() -> None:
    assert top("ROW_NUMBER", "rn BETWEEN 2 AND 3") == [
        (stamp(0), "c", 9, 2),
        (stamp(0), "f", 9, 3),
        (stamp(10), "g", 1, 2),
    ]


def test_rank_strict_bounds() -> None:
    assert top("ROW_NUMBER", "rn > 1 AND rn < 3") == [
        (stamp(0), "c", 9, 2),
        (stamp(10), "g", 1, 2),
    ]


def test_rank_equals_one() -> None:
    assert top("ROW_NUMBER", "rn = 1") == [(stamp(0), "b", 9, 1), (stamp(10), "h", 2, 1)]


def test_rank_filter_with_other_condition() -> None:
    # The price condition applies after ranking: rank 2 in [10, 20) has price 1.
    assert top("ROW_NUMBER", "rn <= 2 AND price > 1") == [
        (stamp(0), "b", 9, 1),
        (stamp(0), "c", 9, 2),
        (stamp(10), "h", 2, 1),
    ]


def test_rank_per_partition() -> None:
    assert top("ROW_NUMBER", "rn = 1", partition=", shop") == [
        (stamp(0), "c", 9, 1),
        (stamp(0), "b", 9, 1),
        (stamp(10), "g", 1, 1),
        (stamp(10), "h", 2, 1),
    ]


def test_explain_top_n_on_tvf() -> None:
    session = session_with({"bids": BIDS})

    text = query(
        session,
        "SELECT * FROM (SELECT item, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
        f"ORDER BY price DESC) AS rn FROM {TUMBLE}) WHERE rn <= 2",
    ).explain()

    assert "WindowRank(window=[TUMBLE(time_col=[ts], size=[10 s])], ROW_NUMBER" in text
    assert "rankRange=[1, 2]" in text
    assert "WindowTableFunction" not in text


def test_top_n_after_window_aggregate() -> None:
    session = session_with({"bids": BIDS})

    frame = query(
        session,
        "SELECT * FROM (SELECT shop, window_start, total, ROW_NUMBER() OVER ("
        "PARTITION BY window_start, window_end ORDER BY total DESC) AS rn FROM ("
        f"SELECT shop, window_start, window_end, SUM(price) AS total FROM {TUMBLE} "
        "GROUP BY shop, window_start, window_end)) WHERE rn = 1",
    ).to_pandas()

    assert records(frame) == [("y", stamp(0), 25, 1), ("y", stamp(10), 2, 1)]


def test_order_nulls_first() -> None:
    frame = pd.DataFrame({"ts": at(1, 2, 3), "v": pd.array([4, None, 2], dtype="Int64")})
    session = session_with({"bids": frame})

    result = query(
        session,
        "SELECT * FROM (SELECT v, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
        f"ORDER BY v ASC NULLS FIRST) AS rn FROM {TUMBLE}) WHERE rn <= 3",
    ).to_pandas()

    assert records(result) == [(None, 1), (2, 2), (4, 3)]


def test_order_nulls_last() -> None:
    frame = pd.DataFrame({"ts": at(1, 2, 3), "v": pd.array([4, None, 2], dtype="Int64")})
    session = session_with({"bids": frame})

    result = query(
        session,
        "SELECT * FROM (SELECT v, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
        f"ORDER BY v DESC NULLS LAST) AS rn FROM {TUMBLE}) WHERE rn <= 3",
    ).to_pandas()

    assert records(result) == [(4, 1), (2, 2), (None, 3)]


def test_late_row_not_ranked() -> None:
    frame = pd.DataFrame({"ts": at(1, 15, 2), "item": ["a", "b", "late"], "price": [1, 2, 99]})
    session = session_with({"bids": frame})
    result = query(
        session,
        "SELECT * FROM (SELECT item, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
        f"ORDER BY price DESC) AS rn FROM {TUMBLE}) WHERE rn = 1",
    )

    assert result.to_pandas()["item"].tolist() == ["a", "b"]
    late = result.late_rows()
    assert late["item"].tolist() == ["late"]
    assert late["late_operator"].iloc[0].startswith("window-rank-")


def test_same_result_any_batch_size() -> None:
    sql = (
        "SELECT * FROM (SELECT item, price, window_start, RANK() OVER (PARTITION BY window_start, "
        f"window_end ORDER BY price DESC) AS rn FROM {TUMBLE}) WHERE rn <= 2"
    )
    row_by_row = query(session_with({"bids": BIDS}, batch_rows=1), sql).to_pandas()
    whole_input = query(session_with({"bids": BIDS}), sql).to_pandas()

    assert records(row_by_row) == records(whole_input)


# The operator on its own -------------------------------------------------------------------


def rank_operator(function: str, low: int, high: int | None) -> WindowRankOperator:
    ts = t.timestamp(3)
    input_schema = Schema.of([("ts", ts), ("v", t.BIGINT)])
    node = WindowRank(
        schema=Schema.of(
            [
                ("ts", ts),
                ("v", t.BIGINT),
                ("window_start", ts),
                ("window_end", ts),
                ("window_time", ts),
                ("rank", t.BIGINT),
            ]
        ),
        input=Values(schema=input_schema, rows=()),
        window=WindowSpec("TUMBLE", "ts", size_ns=10 * NS_PER_SECOND),
        partition_keys=(),
        order=(SortKey("v", ascending=False),),
        function=function,
        rank_column="rank",
        max_rank=high,
        min_rank=low,
    )
    return WindowRankOperator("window-rank-1", node, input_schema)


@pytest.mark.parametrize(
    ("function", "ranks"),
    [("ROW_NUMBER", [1, 2, 3, 4]), ("RANK", [1, 2, 2, 4]), ("DENSE_RANK", [1, 2, 2, 3])],
)
def test_rank_functions(function: str, ranks: list[int]) -> None:
    operator = rank_operator(function, 1, None)
    frame = pd.DataFrame({"ts": at(1, 2, 3, 4), "v": [9, 5, 5, 1]})
    operator.on_batch(batch(frame, [MIN_WATERMARK] * 4))

    final = operator.on_batch(batch(frame.iloc[0:0], final=True))[0]

    assert final.data["rank"].tolist() == ranks
    assert final.data["v"].tolist() == [9, 5, 5, 1]


def test_rank_range_bounds() -> None:
    operator = rank_operator("ROW_NUMBER", 2, 3)
    frame = pd.DataFrame({"ts": at(1, 2, 3, 4), "v": [9, 5, 7, 1]})
    operator.on_batch(batch(frame, [MIN_WATERMARK] * 4))

    final = operator.on_batch(batch(frame.iloc[0:0], final=True))[0]

    assert final.data["v"].tolist() == [7, 5]


def test_rank_waits_for_window() -> None:
    operator = rank_operator("ROW_NUMBER", 1, 1)
    frame = pd.DataFrame({"ts": at(1, 2), "v": [3, 4]})

    early = operator.on_batch(batch(frame, [MIN_WATERMARK, ns(1)]))[0]
    fired = operator.on_batch(batch(frame.iloc[0:0], watermark=ns(9.999)))[0]

    assert len(early) == 0
    assert fired.data["v"].tolist() == [4]
