"""CROSS JOIN UNNEST and LEFT JOIN UNNEST ... ON TRUE over arrays, rows of arrays and maps."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with, stamp
from workbench.errors import UnsupportedError, ValidationError
from workbench.events.types import TimeAttribute

EVENTS = pd.DataFrame(
    {
        "ts": at(1, 2, 3),
        "id": [1, 2, 3],
        "tags": [["a", None, "b"], [], None],
        "items": [[{"name": "p", "qty": 1}, {"name": "q", "qty": None}], None, []],
    }
)


def _session(batch_rows: int | None = None) -> object:
    return session_with({"events": EVENTS}, batch_rows=batch_rows)


def test_cross_join_unnest_array() -> None:
    for batch_rows in (1, None):
        result = query(
            _session(batch_rows), "SELECT id, tag FROM events CROSS JOIN UNNEST(tags) AS t (tag)"
        )  # type: ignore[arg-type]

        assert records(result.to_pandas()) == [(1, "a"), (1, None), (1, "b")]


def test_unnest_with_ordinality() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        "SELECT id, tag, pos FROM events CROSS JOIN UNNEST(events.tags) WITH ORDINALITY AS t (tag, pos)",
    )

    assert records(result.to_pandas()) == [(1, "a", 1), (1, None, 2), (1, "b", 3)]


def test_left_join_unnest_keeps_empty() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        "SELECT id, tag FROM events LEFT JOIN UNNEST(tags) AS t (tag) ON TRUE",
    )

    assert records(result.to_pandas()) == [(1, "a"), (1, None), (1, "b"), (2, None), (3, None)]


def test_unnest_rows_become_columns() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        "SELECT id, i.name, i.qty FROM events CROSS JOIN UNNEST(items) AS i",
    )

    assert records(result.to_pandas()) == [(1, "p", 1), (1, "q", None)]


def test_unnest_map_entries() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        "SELECT id, k, v FROM events CROSS JOIN UNNEST(MAP['a', id, 'b', id * 10]) AS t (k, v) "
        "WHERE id = 2",
    )

    assert records(result.to_pandas()) == [(2, "a", 2), (2, "b", 20)]


def test_unnest_keeps_event_time() -> None:
    result = query(
        _session(1),  # type: ignore[arg-type]
        "SELECT window_start, COUNT(tag) AS n FROM TABLE(TUMBLE(TABLE ("
        "SELECT ts, tag FROM events CROSS JOIN UNNEST(tags) AS t (tag)), DESCRIPTOR(ts), "
        "INTERVAL '10' SECOND)) GROUP BY window_start, window_end",
    )

    assert result.schema is not None
    assert records(result.to_pandas()) == [(stamp(0), 2)]
    plan = query(_session(), "SELECT * FROM events CROSS JOIN UNNEST(tags) AS t (tag)")  # type: ignore[arg-type]
    assert plan.schema.find("ts").type.time_attribute is TimeAttribute.ROWTIME  # type: ignore[union-attr]


def test_unnest_explain() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        "SELECT id, tag FROM events LEFT JOIN UNNEST(tags) WITH ORDINALITY AS t (tag) ON TRUE",
    )

    assert (
        "Unnest(expr=[tags], joinType=[LeftOuterJoin], columns=[tag], ordinality=[ordinality])"
        in result.explain()
    )


def test_unnest_rejects_conditions() -> None:
    with pytest.raises(UnsupportedError, match="ON TRUE only"):
        query(_session(), "SELECT id FROM events LEFT JOIN UNNEST(tags) AS t (tag) ON tag = 'a'")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs an ARRAY or a MAP"):
        query(_session(), "SELECT id FROM events CROSS JOIN UNNEST(id) AS t (x)")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="2 column names given for 1 UNNEST columns"):
        query(_session(), "SELECT id FROM events CROSS JOIN UNNEST(tags) AS t (x, y)")  # type: ignore[arg-type]
