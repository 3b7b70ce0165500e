"""Regular joins: rejected without a state TTL; inserts, outer-join retractions and expiry."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.support.streams import at, batch, query, records, session_with
from workbench.errors import UnsupportedError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.runtime.regular_join import RegularJoinOperator
from workbench.sql.expr import ColumnRef
from workbench.sql.plan import RegularJoin, Values

ORDERS = pd.DataFrame({"ts": at(1, 2, 3), "id": [1, 2, 3], "item": ["a", "b", "c"]})
PAYMENTS = pd.DataFrame({"ts": at(4, 5), "oid": [1, 1], "paid": [10, 20]})
LEFT_JOIN = "SELECT o.id, o.item, p.paid FROM orders o LEFT JOIN payments p ON o.id = p.oid"
TTL = "SET 'table.exec.state.ttl' = '1 h';\n"


def _session() -> object:
    return session_with({"orders": ORDERS, "payments": PAYMENTS})


def test_rejected_without_state_ttl() -> None:
    with pytest.raises(UnsupportedError) as info:
        query(_session(), LEFT_JOIN)  # type: ignore[arg-type]

    assert "keeps every row of both inputs in state forever" in info.value.message
    assert info.value.hint is not None
    assert "SET 'table.exec.state.ttl' = '1 h';" in info.value.hint
    assert info.value.line == 1


def test_rejects_cross_join() -> None:
    with pytest.raises(UnsupportedError, match="needs an equality"):
        query(_session(), TTL + "SELECT * FROM orders CROSS JOIN payments")  # type: ignore[arg-type]


def test_inner_join_appends() -> None:
    result = query(
        _session(), TTL + "SELECT o.id, p.paid FROM orders o JOIN payments p ON o.id = p.oid"
    )  # type: ignore[arg-type]

    assert records(result.to_pandas()) == [(1, 10), (1, 20)]
    assert "Join(joinType=[InnerJoin], equiKeys=[id = oid], stateTtl=[1 h])" in result.explain()


def test_left_join_retracts_padding() -> None:
    result = query(_session(), TTL + LEFT_JOIN)  # type: ignore[arg-type]

    changelog = result.changelog()
    assert records(changelog) == [
        (1, "a", None, "+I"),
        (2, "b", None, "+I"),
        (3, "c", None, "+I"),
        (1, "a", None, "-D"),
        (1, "a", 10, "+I"),
        (1, "a", 20, "+I"),
    ]
    assert sorted(records(result.to_pandas()), key=repr) == sorted(
        [(2, "b", None), (3, "c", None), (1, "a", 10), (1, "a", 20)], key=repr
    )


def test_half_bounded_time_is_a_condition() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        TTL + "SELECT o.id, p.paid FROM orders o JOIN payments p ON o.id = p.oid AND p.ts >= o.ts",
    )

    assert records(result.to_pandas()) == [(1, 10), (1, 20)]
    assert "where=[(ts0 >= ts)]" in result.explain()


LEFT_SCHEMA = Schema.of([("k", t.BIGINT), ("v", t.STRING)])
RIGHT_SCHEMA = Schema.of([("k", t.BIGINT), ("w", t.STRING)])


def _operator(clock: list[int], kind: str = "FULL") -> RegularJoinOperator:
    node = RegularJoin(
        schema=Schema.of([("k", t.BIGINT), ("v", t.STRING), ("k0", t.BIGINT), ("w", t.STRING)]),
        left=Values(schema=LEFT_SCHEMA, rows=()),
        right=Values(schema=RIGHT_SCHEMA, rows=()),
        kind=kind,  # type: ignore[arg-type]
        left_keys=(ColumnRef(name="k", type=t.BIGINT),),
        right_keys=(ColumnRef(name="k", type=t.BIGINT),),
        condition=None,
        right_names=("k0", "w"),
        ttl_ns=1_000,
    )
    return RegularJoinOperator("join-1", node, clock=lambda: clock[0])


def _rows(output: list) -> list[tuple[object, ...]]:
    """Return output rows with their changelog kind; an append-only batch has only +I rows."""
    found = []
    for item in output:
        kinds = item.row_kinds if item.row_kinds is not None else ["+I"] * len(item)
        for row, kind in zip(records(item.data), kinds, strict=True):
            found.append((*row, kind))
    return found


def test_state_expires_after_ttl() -> None:
    clock = [0]
    join = _operator(clock, "INNER")
    join.on_batch(batch(pd.DataFrame({"k": [1], "v": ["a"]})), 0)
    clock[0] = 999
    assert _rows(join.on_batch(batch(pd.DataFrame({"k": [1], "w": ["x"]})), 1)) == [
        (1, "a", 1, "x", "+I")
    ]
    clock[0] = 1_500
    # The left row arrived at 0 and expired at 1000; the right row (999) is still kept.
    assert _rows(join.on_batch(batch(pd.DataFrame({"k": [1], "w": ["y"]})), 1)) == []
    assert _rows(join.on_batch(batch(pd.DataFrame({"k": [1], "v": ["b"]})), 0)) == [
        (1, "b", 1, "x", "+I"),
        (1, "b", 1, "y", "+I"),
    ]
    assert join.state_rows == 3


def test_full_join_changelog() -> None:
    join = _operator([0])
    first = join.on_batch(batch(pd.DataFrame({"k": [1, 2], "v": ["a", "b"]})), 0)
    second = join.on_batch(batch(pd.DataFrame({"k": [1, 3], "w": ["x", "z"]})), 1)

    assert _rows(first) == [(1, "a", None, None, "+I"), (2, "b", None, None, "+I")]
    assert _rows(second) == [
        (1, "a", None, None, "-D"),
        (1, "a", 1, "x", "+I"),
        (None, None, 3, "z", "+I"),
    ]


def test_snapshot_restore_keeps_matches() -> None:
    join = _operator([0])
    join.on_batch(batch(pd.DataFrame({"k": [1], "v": ["a"]})), 0)
    restored = _operator([0])
    restored.restore(pickle.loads(pickle.dumps(join.snapshot())))

    output = restored.on_batch(batch(pd.DataFrame({"k": [1], "w": ["x"]})), 1)
    assert _rows(output) == [(1, "a", None, None, "-D"), (1, "a", 1, "x", "+I")]
    assert np.array_equal(restored.states[0].matched, [True])
