"""Window joins: inner, outer, semi and anti joins per window, lateness, state and EXPLAIN."""

from __future__ import annotations

import pickle

import pandas as pd

from tests.support.streams import at, compile_pipeline, query, records, session_with, stamp
from workbench.runtime.window_join import WindowJoinOperator

# The rows of Flink's window join documentation, in seconds after BASE.
LEFT = pd.DataFrame({"ts": at(120, 360, 180), "num": [1, 2, 3], "id": ["L1", "L2", "L3"]})
RIGHT = pd.DataFrame({"ts": at(60, 240, 300), "num": [2, 3, 4], "id": ["R2", "R3", "R4"]})


def tumble(table: str) -> str:
    return f"TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '5' MINUTES))"


def join_sql(kind: str) -> str:
    return (
        f"SELECT L.num AS l_num, L.id AS l_id, R.num AS r_num, R.id AS r_id, L.window_start "
        f"FROM {tumble('lt')} AS L {kind} JOIN {tumble('rt')} AS R "
        f"ON L.num = R.num AND L.window_start = R.window_start AND L.window_end = R.window_end"
    )


def _session(batch_rows: int | None = None) -> object:
    return session_with({"lt": LEFT, "rt": RIGHT}, delay="5 min", batch_rows=batch_rows)


def test_inner_window_join() -> None:
    for batch_rows in (1, None):
        result = query(_session(batch_rows), join_sql("INNER"))  # type: ignore[arg-type]

        assert records(result.to_pandas()) == [(3, "L3", 3, "R3", stamp(0))]


def test_outer_window_joins_pad() -> None:
    left = query(_session(), join_sql("LEFT"))  # type: ignore[arg-type]
    right = query(_session(), join_sql("RIGHT"))  # type: ignore[arg-type]
    full = query(_session(), join_sql("FULL"))  # type: ignore[arg-type]

    assert sorted(records(left.to_pandas()), key=repr) == sorted(
        [
            (1, "L1", None, None, stamp(0)),
            (3, "L3", 3, "R3", stamp(0)),
            (2, "L2", None, None, stamp(300)),
        ],
        key=repr,
    )
    assert sorted(records(right.to_pandas()), key=repr) == sorted(
        [(None, None, 2, "R2", None), (3, "L3", 3, "R3", stamp(0)), (None, None, 4, "R4", None)],
        key=repr,
    )
    assert len(full.to_pandas()) == 5


def test_semi_and_anti_window_joins() -> None:
    base = f"SELECT L.id FROM {tumble('lt')} AS L WHERE "
    correlated = "L.window_start = R.window_start AND L.window_end = R.window_end"
    queries = {
        "in": f"L.num IN (SELECT num FROM {tumble('rt')} AS R WHERE {correlated})",
        "exists": f"EXISTS (SELECT * FROM {tumble('rt')} AS R WHERE L.num = R.num AND {correlated})",
        "not in": f"L.num NOT IN (SELECT num FROM {tumble('rt')} AS R WHERE {correlated})",
        "not exists": f"NOT EXISTS (SELECT * FROM {tumble('rt')} AS R WHERE L.num = R.num AND {correlated})",
    }
    found = {
        name: sorted(records(query(_session(), base + text).to_pandas()))  # type: ignore[arg-type]
        for name, text in queries.items()
    }

    assert found["in"] == [("L3",)]
    assert found["exists"] == [("L3",)]
    assert found["not in"] == [("L1",), ("L2",)]
    assert found["not exists"] == [("L1",), ("L2",)]


def test_not_in_is_null_aware() -> None:
    # Window 0: the right side holds a NULL, so NOT IN passes no left row there.
    # Window 300: L2 has no partner, and the NULL left key of L4 has partners.
    left = pd.DataFrame(
        {"ts": at(120, 360, 180, 400), "num": [1, 2, 3, None], "id": ["L1", "L2", "L3", "L4"]}
    )
    right = pd.DataFrame({"ts": at(60, 240, 320), "num": [None, 3, 4], "id": ["R0", "R3", "R4"]})
    session = session_with({"lt": left, "rt": right}, delay="5 min")
    correlated = "L.window_start = R.window_start AND L.window_end = R.window_end"
    not_in = query(
        session,
        f"SELECT L.id FROM {tumble('lt')} AS L WHERE "
        f"L.num NOT IN (SELECT num FROM {tumble('rt')} AS R WHERE {correlated})",
    )
    not_exists = query(
        session,
        f"SELECT L.id FROM {tumble('lt')} AS L WHERE NOT EXISTS (SELECT * FROM {tumble('rt')} "
        f"AS R WHERE L.num = R.num AND {correlated})",
    )

    assert sorted(records(not_in.to_pandas())) == [("L2",)]
    assert "nullAware=[true]" in not_in.explain()
    assert sorted(records(not_exists.to_pandas())) == [("L1",), ("L2",), ("L4",)]


def test_semi_join_explain() -> None:
    result = query(
        _session(),  # type: ignore[arg-type]
        f"SELECT * FROM {tumble('lt')} AS L WHERE L.num IN (SELECT num FROM {tumble('rt')} AS R "
        "WHERE L.window_start = R.window_start AND L.window_end = R.window_end)",
    )

    assert "WindowJoin(window=[TUMBLE(time_col=[ts], size=[5 min])], joinType=[LeftSemiJoin]" in (
        result.explain()
    )
    assert list(result.to_pandas().columns) == [
        "ts",
        "num",
        "id",
        "window_start",
        "window_end",
        "window_time",
    ]


def test_hop_window_join_counts_each_window() -> None:
    left = pd.DataFrame({"ts": at(7), "k": [1]})
    right = pd.DataFrame({"ts": at(9), "k": [1]})
    session = session_with({"l": left, "r": right})
    hop = "TABLE(HOP(TABLE {0}, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))"
    result = query(
        session,
        f"SELECT a.window_start FROM {hop.format('l')} a JOIN {hop.format('r')} b "
        "ON a.k = b.k AND a.window_start = b.window_start AND a.window_end = b.window_end",
    )

    assert sorted(records(result.to_pandas())) == [(stamp(0),), (stamp(5),)]


def _pipeline(kind: str = "FULL") -> object:
    session = session_with({"lt": LEFT, "rt": RIGHT}, delay="0 s")
    return compile_pipeline(session, join_sql(kind))


def _join(pipeline: object) -> WindowJoinOperator:
    return next(op for op in pipeline.operators if isinstance(op, WindowJoinOperator))  # type: ignore[attr-defined]


def test_row_of_fired_window_is_late() -> None:
    pipeline = _pipeline()
    pipeline.deliver("lt", LEFT.iloc[:2])  # type: ignore[attr-defined]
    pipeline.deliver("rt", RIGHT)  # type: ignore[attr-defined]
    # Window [0, 5 min) has fired (the join watermark is min(6 min, 5 min)): L3 at 3 min is late.
    pipeline.deliver("lt", LEFT.iloc[2:])  # type: ignore[attr-defined]
    pipeline.end("lt")  # type: ignore[attr-defined]
    pipeline.end("rt")  # type: ignore[attr-defined]
    late = pd.concat([frame for op in pipeline.operators for frame in op.late_rows])  # type: ignore[attr-defined]

    assert late["id"].tolist() == ["L3"]
    assert "L3" not in [row[1] for row in records(pipeline.collector.output())]  # type: ignore[attr-defined]
    assert (None, None, 3, "R3", None) in records(pipeline.collector.output())  # type: ignore[attr-defined]


def test_results_wait_for_window_end() -> None:
    pipeline = _pipeline("INNER")
    pipeline.deliver("lt", LEFT.iloc[[0, 2]])  # type: ignore[attr-defined]
    pipeline.deliver("rt", RIGHT.iloc[:2])  # type: ignore[attr-defined]
    assert len(pipeline.collector.output()) == 0  # type: ignore[attr-defined]
    assert _join(pipeline).state_rows == 4

    pipeline.deliver("lt", LEFT.iloc[[1]])  # type: ignore[attr-defined]
    pipeline.deliver("rt", RIGHT.iloc[[2]])  # type: ignore[attr-defined]
    assert records(pipeline.collector.output()) == [(3, "L3", 3, "R3", stamp(0))]  # type: ignore[attr-defined]
    assert _join(pipeline).state_rows == 2


def test_snapshot_restore_continues() -> None:
    whole = _pipeline()
    whole.deliver("lt", LEFT.iloc[[0, 2]])  # type: ignore[attr-defined]
    whole.deliver("rt", RIGHT.iloc[:2])  # type: ignore[attr-defined]
    resumed = _pipeline()
    resumed.restore(pickle.loads(pickle.dumps(whole.snapshot())))  # type: ignore[attr-defined]
    for pipeline in (whole, resumed):
        pipeline.deliver("lt", LEFT.iloc[[1]])  # type: ignore[attr-defined]
        pipeline.deliver("rt", RIGHT.iloc[[2]])  # type: ignore[attr-defined]
        pipeline.end("lt")  # type: ignore[attr-defined]
        pipeline.end("rt")  # type: ignore[attr-defined]

    assert records(resumed.collector.output()) == records(whole.collector.output())  # type: ignore[attr-defined]
    assert len(resumed.collector.output()) == 5  # type: ignore[attr-defined]
