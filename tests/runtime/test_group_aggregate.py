"""Aggregation without windows: the changelog (+I, -U, +U), its final state, DISTINCT, grouping sets."""

from __future__ import annotations

import pandas as pd

from tests.support.streams import at, batch, query, records, session_with
from workbench.errors import UnsupportedError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.runtime.group_aggregate import GroupAggregateOperator
from workbench.sql.plan import AggCall, GroupAggregate, Values

EVENTS = pd.DataFrame({"ts": at(1, 2, 3, 4), "k": list("abaa"), "v": [1, 2, 3, 4]})
SALES = pd.DataFrame(
    {"shop": ["n", "n", "s", "s"], "item": ["x", "y", "x", "x"], "qty": [1, 2, 3, 4]}
)


def test_changelog_updates_per_row() -> None:
    session = session_with({"events": EVENTS}, batch_rows=1)
    result = query(session, "SELECT k, COUNT(*) AS n, SUM(v) AS total FROM events GROUP BY k")

    changelog = result.changelog()

    assert records(changelog, ["op", "k", "n", "total"]) == [
        ("+I", "a", 1, 1),
        ("+I", "b", 1, 2),
        ("-U", "a", 1, 1),
        ("+U", "a", 2, 4),
        ("-U", "a", 2, 4),
        ("+U", "a", 3, 8),
    ]


def test_final_state_from_changelog() -> None:
    session = session_with({"events": EVENTS}, batch_rows=1)
    result = query(session, "SELECT k, COUNT(*) AS n, SUM(v) AS total FROM events GROUP BY k")

    frame = result.to_pandas()

    assert sorted(records(frame)) == [("a", 3, 8), ("b", 1, 2)]
    assert "op" not in frame.columns


def test_one_batch_folds_updates() -> None:
    session = session_with({"events": EVENTS})
    result = query(session, "SELECT k, COUNT(*) AS n FROM events GROUP BY k")

    assert records(result.changelog(), ["op", "k", "n"]) == [("+I", "a", 3), ("+I", "b", 1)]


def test_unchanged_group_emits_nothing() -> None:
    frame = pd.DataFrame({"ts": at(1, 2, 3), "k": list("aaa"), "v": [5, 1, 2]})
    session = session_with({"events": frame}, batch_rows=1)
    result = query(session, "SELECT k, MAX(v) AS top FROM events GROUP BY k")

    assert records(result.changelog(), ["op", "top"]) == [("+I", 5)]


def test_global_aggregate_empty_input() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session, "SELECT COUNT(*) AS n, SUM(v) AS total, MAX(k) AS top FROM events WHERE v > 100"
    ).to_pandas()

    assert records(frame) == [(0, None, None)]


def test_grouped_empty_input_no_rows() -> None:
    session = session_with({"events": EVENTS})

    frame = query(session, "SELECT k, COUNT(*) AS n FROM events WHERE v > 100 GROUP BY k")

    assert len(frame.to_pandas()) == 0


def test_empty_grouping_set_on_empty_input() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session,
        "SELECT k, COUNT(*) AS n FROM events WHERE v > 100 GROUP BY GROUPING SETS ((k), ())",
    ).to_pandas()

    assert records(frame) == [(None, 0)]


def test_changelog_of_updating_result_flagged() -> None:
    session = session_with({"events": EVENTS})

    result = query(session, "SELECT k, COUNT(*) AS n FROM events GROUP BY k")

    assert result.updating
    assert "changelog=[+I, -U, +U]" in result.explain()


def test_having_drops_group() -> None:
    session = session_with({"events": EVENTS}, batch_rows=1)
    result = query(session, "SELECT k, COUNT(*) AS n FROM events GROUP BY k HAVING COUNT(*) < 2")

    assert records(result.to_pandas()) == [("b", 1)]


def test_having_on_aggregate_not_selected() -> None:
    session = session_with({"events": EVENTS})

    frame = query(session, "SELECT k FROM events GROUP BY k HAVING SUM(v) > 5").to_pandas()

    assert records(frame) == [("a",)]


def test_null_key_is_group() -> None:
    frame = pd.DataFrame({"k": pd.array(["a", None, None], dtype="string"), "v": [1, 2, 3]})
    session = session_with({"events": frame})

    result = query(session, "SELECT k, SUM(v) AS total FROM events GROUP BY k").to_pandas()

    assert sorted(records(result), key=repr) == sorted([("a", 1), (None, 5)], key=repr)


def test_group_by_expression() -> None:
    session = session_with({"events": EVENTS})

    frame = query(
        session, "SELECT v % 2 AS parity, COUNT(*) AS n FROM events GROUP BY v % 2"
    ).to_pandas()

    assert sorted(records(frame)) == [(0, 2), (1, 2)]


def test_select_distinct() -> None:
    session = session_with({"events": EVENTS}, batch_rows=1)
    result = query(session, "SELECT DISTINCT k FROM events")

    assert records(result.to_pandas()) == [("a",), ("b",)]
    assert records(result.changelog(), ["op", "k"]) == [("+I", "a"), ("+I", "b")]


def test_union_distinct() -> None:
    session = session_with({"events": EVENTS, "sales": SALES})

    frame = query(
        session, "SELECT k AS name FROM events UNION SELECT shop AS name FROM sales"
    ).to_pandas()

    assert sorted(records(frame)) == [("a",), ("b",), ("n",), ("s",)]


def test_rollup() -> None:
    session = session_with({"sales": SALES})

    frame = query(
        session, "SELECT shop, item, SUM(qty) AS total FROM sales GROUP BY ROLLUP (shop, item)"
    ).to_pandas()

    assert sorted(records(frame), key=repr) == sorted(
        [
            ("n", "x", 1),
            ("n", "y", 2),
            ("s", "x", 7),
            ("n", None, 3),
            ("s", None, 7),
            (None, None, 10),
        ],
        key=repr,
    )


def test_cube() -> None:
    session = session_with({"sales": SALES})

    frame = query(
        session, "SELECT shop, item, SUM(qty) AS total FROM sales GROUP BY CUBE (shop, item)"
    ).to_pandas()

    assert sorted(records(frame), key=repr) == sorted(
        [
            ("n", "x", 1),
            ("n", "y", 2),
            ("s", "x", 7),
            ("n", None, 3),
            ("s", None, 7),
            (None, "x", 8),
            (None, "y", 2),
            (None, None, 10),
        ],
        key=repr,
    )


def test_grouping_sets() -> None:
    session = session_with({"sales": SALES})

    frame = query(
        session,
        "SELECT shop, item, COUNT(*) AS n FROM sales GROUP BY GROUPING SETS ((shop), (item), ())",
    ).to_pandas()

    assert sorted(records(frame), key=repr) == sorted(
        [("n", None, 2), ("s", None, 2), (None, "x", 3), (None, "y", 1), (None, None, 4)],
        key=repr,
    )


def test_order_and_limit_on_final_state() -> None:
    session = session_with({"events": EVENTS}, batch_rows=1)

    frame = query(
        session, "SELECT k, SUM(v) AS total FROM events GROUP BY k ORDER BY total DESC LIMIT 1"
    ).to_pandas()

    assert records(frame) == [("a", 8)]


def test_aggregate_of_aggregate() -> None:
    session = session_with({"events": EVENTS}, batch_rows=1)
    sql = "SELECT n, COUNT(*) AS groups FROM (SELECT k, COUNT(*) AS n FROM events GROUP BY k) GROUP BY n"
    try:
        result = query(session, sql)
    except UnsupportedError:
        return

    assert sorted(records(result.to_pandas())) == [(1, 1), (3, 1)]


# The operator on its own -------------------------------------------------------------------


def count_operator() -> GroupAggregateOperator:
    input_schema = Schema.of([("k", t.STRING)])
    node = GroupAggregate(
        schema=Schema.of([("k", t.STRING), ("n", t.BIGINT)]),
        input=Values(schema=input_schema, rows=()),
        keys=("k",),
        aggregates=(AggCall("COUNT", (), "n", t.BIGINT),),
    )
    return GroupAggregateOperator("group-aggregate-1", node, input_schema)


def test_operator_row_kinds() -> None:
    operator = count_operator()
    operator.on_batch(batch(pd.DataFrame({"k": ["a"]})))

    output = operator.on_batch(batch(pd.DataFrame({"k": ["a", "b"]})))[0]

    assert output.row_kinds is not None
    assert output.row_kinds.tolist() == ["-U", "+U", "+I"]
    assert records(output.data) == [("a", 1), ("a", 2), ("b", 1)]


def test_operator_snapshot_restore() -> None:
    first = count_operator()
    first.on_batch(batch(pd.DataFrame({"k": ["a"]})))
    second = count_operator()
    second.restore(first.snapshot())

    output = second.on_batch(batch(pd.DataFrame({"k": ["a"]})))[0]

    assert output.row_kinds is not None
    assert output.row_kinds.tolist() == ["-U", "+U"]
    assert records(output.data) == [("a", 1), ("a", 2)]
