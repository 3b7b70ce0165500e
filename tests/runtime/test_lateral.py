"""Lateral joins: user table functions and LATERAL subqueries over UNNEST and VALUES."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with, stamp
from workbench.errors import UnsupportedError, ValidationError
from workbench.events.types import TimeAttribute, TypeKind
from workbench.session import Session

EVENTS = pd.DataFrame(
    {
        "ts": at(1, 2, 3, 4, 12),
        "id": [1, 2, 3, 4, 5],
        "text": ["a bb", "", None, "boom", "ccc d"],
        "tags": [[1, 2, 3], [], None, [5], [7]],
    }
)


def split_words(text: str | None) -> Iterator[tuple[str, int]]:
    if text is None:
        return
    if text == "boom":
        raise RuntimeError("cannot split 'boom'")
    for word in text.split():
        yield word, len(word)


def _session(batch_rows: int | None = None) -> Session:
    session = session_with({"events": EVENTS}, batch_rows=batch_rows)
    session.register_table_function("split", split_words, returns="ROW<word STRING, length INT>")
    return session


def test_table_function_comma_join() -> None:
    for batch_rows in (1, None):
        result = query(
            _session(batch_rows),
            "SELECT id, word, length FROM events, LATERAL TABLE(split(text)) AS s (word, length)",
        )

        assert records(result.to_pandas()) == [
            (1, "a", 1),
            (1, "bb", 2),
            (5, "ccc", 3),
            (5, "d", 1),
        ]


def test_table_function_cross_join() -> None:
    result = query(
        _session(),
        "SELECT e.id, s.w FROM events AS e CROSS JOIN LATERAL TABLE(split(e.text)) AS s (w, n) "
        "WHERE s.n > 1",
    )

    assert records(result.to_pandas()) == [(1, "bb"), (5, "ccc")]


def test_table_function_left_join_pads() -> None:
    result = query(
        _session(),
        "SELECT id, word, length FROM events LEFT JOIN LATERAL TABLE(split(text)) AS s ON TRUE",
    )

    assert records(result.to_pandas()) == [
        (1, "a", 1),
        (1, "bb", 2),
        (2, None, None),
        (3, None, None),
        (5, "ccc", 3),
        (5, "d", 1),
    ]


def test_table_function_null_argument() -> None:
    seen: list[object] = []

    def record(value: object) -> list[int]:
        seen.append(value)
        return [] if value is None else [1]

    session = _session()
    session.register_table_function("probe", record, returns="INT")
    result = query(session, "SELECT id, f0 FROM events, LATERAL TABLE(probe(text))")

    assert records(result.to_pandas()) == [(1, 1), (2, 1), (4, 1), (5, 1)]
    assert seen.count(None) == 1


def test_table_function_error_rejects_row() -> None:
    result = query(
        _session(), "SELECT id, word FROM events LEFT JOIN LATERAL TABLE(split(text)) AS s ON TRUE"
    )

    rows = records(result.to_pandas())
    rejected = result.rejected_rows()

    assert 4 not in [row[0] for row in rows]
    assert (5, "d") in rows
    assert len(rejected) == 1
    assert "table function SPLIT failed: RuntimeError: cannot split 'boom'" in rejected["reason"][0]
    assert "'id': 4" in rejected["raw"][0]


def test_table_function_argument_count_checked() -> None:
    session = _session()

    with pytest.raises(ValidationError, match="cannot take 2 argument") as caught:
        session.sql("SELECT id, word FROM events, LATERAL TABLE(split(text, 1)) AS s")

    assert caught.value.position is not None


def test_table_function_output_types() -> None:
    def pairs(n: int) -> list[object]:
        if n == 2:
            return [("x", "not a number")]
        if n == 3:
            return [("too", "many", "values")]
        return [{"label": f"n{n}", "score": n / 2}]

    session = _session()
    session.register_table_function("pairs", pairs, returns={"label": "STRING", "score": "DOUBLE"})
    result = query(session, "SELECT id, label, score FROM events, LATERAL TABLE(pairs(id))")

    assert result.schema is not None
    score = result.schema.find("score")
    assert score is not None
    assert score.type.kind is TypeKind.DOUBLE
    assert records(result.to_pandas()) == [(1, "n1", 0.5), (4, "n4", 2.0), (5, "n5", 2.5)]
    reasons = list(result.rejected_rows()["reason"])
    assert len(reasons) == 2
    assert "'not a number' for column 'score' of type DOUBLE" in reasons[0]
    assert "3 values for 2 columns" in reasons[1]


def test_lateral_keeps_event_time() -> None:
    sql = (
        "SELECT window_start, COUNT(word) AS words, SUM(length) AS letters FROM TABLE(TUMBLE("
        "TABLE (SELECT ts, word, length FROM events, LATERAL TABLE(split(text)) AS s), "
        "DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end"
    )
    for batch_rows in (1, None):
        result = query(_session(batch_rows), sql)

        assert records(result.to_pandas()) == [(stamp(0), 2, 3), (stamp(10), 2, 4)]
    plan = query(_session(), "SELECT * FROM events, LATERAL TABLE(split(text)) AS s")
    assert plan.schema is not None
    ts = plan.schema.find("ts")
    assert ts is not None
    assert ts.type.time_attribute is TimeAttribute.ROWTIME


def test_lateral_subquery_unnest() -> None:
    for batch_rows in (1, None):
        result = query(
            _session(batch_rows),
            "SELECT id, v.x FROM events CROSS JOIN LATERAL ("
            "SELECT x * 10 AS x FROM UNNEST(events.tags) AS u (x) WHERE x > 1) AS v",
        )

        assert records(result.to_pandas()) == [(1, 20), (1, 30), (4, 50), (5, 70)]


def test_lateral_subquery_left_join() -> None:
    result = query(
        _session(),
        "SELECT id, v.x FROM events LEFT JOIN LATERAL ("
        "SELECT x FROM UNNEST(tags) AS u (x) WHERE x > 4) AS v ON TRUE",
    )

    assert records(result.to_pandas()) == [(1, None), (2, None), (3, None), (4, 5), (5, 7)]


def test_lateral_subquery_values() -> None:
    result = query(
        _session(),
        "SELECT id, v.k, v.n FROM events CROSS JOIN LATERAL ("
        "SELECT k, n FROM (VALUES ('id', id), ('double', id * 2)) AS p (k, n) WHERE n > 6) AS v",
    )

    assert records(result.to_pandas()) == [(4, "double", 8), (5, "double", 10)]


def test_table_function_inner_join_on_true() -> None:
    result = query(
        _session(), "SELECT id, word FROM events JOIN LATERAL TABLE(split(text)) AS s ON TRUE"
    )

    assert records(result.to_pandas()) == [(1, "a"), (1, "bb"), (5, "ccc"), (5, "d")]


def test_lateral_subquery_without_from() -> None:
    result = query(
        _session(), "SELECT id, v.y FROM events CROSS JOIN LATERAL (SELECT id * 2 AS y) AS v"
    )

    assert records(result.to_pandas()) == [(1, 2), (2, 4), (3, 6), (4, 8), (5, 10)]


def test_lateral_bare_values() -> None:
    result = query(
        _session(),
        "SELECT id, v.* FROM events CROSS JOIN LATERAL (VALUES (id, 'a'), (id + 10, text)) AS v (x, y) "
        "WHERE id < 3",
    )

    assert records(result.to_pandas()) == [(1, 1, "a"), (1, 11, "a bb"), (2, 2, "a"), (2, 12, "")]


def test_lateral_explain() -> None:
    result = query(
        _session(), "SELECT id, word FROM events LEFT JOIN LATERAL TABLE(split(text)) AS s ON TRUE"
    )
    subquery = query(
        _session(),
        "SELECT id, x FROM events CROSS JOIN LATERAL ("
        "SELECT x FROM UNNEST(tags) AS u (x) WHERE x > 1) AS v",
    )

    assert (
        "Correlate(invocation=[SPLIT(text)], columns=[word, length], select=[word, length], "
        "joinType=[LeftOuterJoin])" in result.explain()
    )
    assert (
        "Correlate(invocation=[UNNEST(tags)], columns=[x], where=[(x > 1)], select=[x], "
        "joinType=[InnerJoin])" in subquery.explain()
    )


def test_lateral_rejects_shapes() -> None:
    session = _session()
    cases = [
        (
            "SELECT id FROM events LEFT JOIN LATERAL TABLE(split(text)) AS s ON word = 'a'",
            UnsupportedError,
            "ON TRUE only",
        ),
        (
            "SELECT id FROM events LEFT JOIN LATERAL TABLE(split(text)) AS s",
            ValidationError,
            "needs an ON condition|needs ON TRUE",
        ),
        (
            "SELECT id FROM events, LATERAL TABLE(nothing(text)) AS s",
            ValidationError,
            "table function 'nothing' not found",
        ),
        (
            "SELECT id FROM events, LATERAL TABLE(split(text)) AS s (a, b, c)",
            ValidationError,
            "3 column names given for 2 LATERAL columns",
        ),
        (
            "SELECT id FROM events CROSS JOIN LATERAL (SELECT * FROM events AS o WHERE o.id = 1) AS v",
            UnsupportedError,
            "a LATERAL subquery cannot read",
        ),
        (
            "SELECT id FROM events CROSS JOIN LATERAL (SELECT x FROM UNNEST(tags) AS u (x) "
            "ORDER BY x) AS v",
            UnsupportedError,
            "with ORDER BY is not supported",
        ),
        (
            "SELECT id FROM events CROSS JOIN LATERAL (SELECT SUM(x) AS t FROM UNNEST(tags) AS u (x)) AS v",
            UnsupportedError,
            "a LATERAL subquery cannot aggregate",
        ),
        (
            "SELECT * FROM LATERAL TABLE(split(text)) AS s",
            UnsupportedError,
            "LATERAL needs a table before it in FROM",
        ),
        (
            "SELECT id FROM events RIGHT JOIN LATERAL TABLE(split(text)) AS s ON TRUE",
            UnsupportedError,
            "RIGHT JOIN LATERAL is not supported",
        ),
    ]
    for sql, error, message in cases:
        with pytest.raises(error, match=message) as raised:
            query(session, sql)

        assert raised.value.position is not None, sql
        assert raised.value.hint or error is ValidationError, sql


def test_register_table_function_checks() -> None:
    session = Session(progress=False)

    with pytest.raises(ValueError, match="invalid function name"):
        session.register_table_function("no-dash", split_words, returns="STRING")
    with pytest.raises(ValueError, match="declares no output columns"):
        session.register_table_function("empty", split_words, returns={})
