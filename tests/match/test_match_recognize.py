"""MATCH_RECOGNIZE on streams: ordering, lateness, time limits, output shapes and state."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench.runtime.match_recognize as operator_module
from tests.support.streams import at, compile_pipeline, query, records, session_with, stamp
from workbench import Session
from workbench.errors import QueryRuntimeError, UnsupportedError, ValidationError
from workbench.runtime.match_recognize import KEEP_CHUNKS, MatchRecognizeOperator

LOGINS = pd.DataFrame(
    {
        "ts": at(0, 300, 600, 1200, 3000, 5400, 5460),
        "user": ["u1", "u2", "u1", "u2", "u1", "u3", "u3"],
        "event": ["login", "login", "logout", "click", "login", "login", "logout"],
    }
)

ABSENCE = """
SELECT * FROM logins MATCH_RECOGNIZE (
  PARTITION BY user ORDER BY ts
  MEASURES L.ts AS login_at, O.ts AS logout_at,
           MATCH_TIMED_OUT() AS timed_out, MATCH_ROWTIME() AS at_time
  PATTERN (L X*? O) WITHIN INTERVAL '30' MINUTE EMIT TIMEOUTS
  DEFINE L AS event = 'login', X AS event <> 'logout', O AS event = 'logout'
)"""


def readings(*values: int, start: int = 0) -> pd.DataFrame:
    """Return one reading per second from ``start``: columns ts and v."""
    return pd.DataFrame({"ts": at(*range(start, start + len(values))), "v": list(values)})


# Ordering and lateness ---------------------------------------------------------------------


def test_rows_sorted_by_event_time_before_matching() -> None:
    shuffled = pd.DataFrame({"ts": at(2, 0, 1, 3), "v": [3, 1, 2, 4]})
    session = session_with({"t": shuffled}, delay="5 s")

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES FIRST(v) AS first_v, "
        "LAST(v) AS last_v PATTERN (A B+) DEFINE B AS v > PREV(v))",
    ).to_pandas()

    assert records(frame) == [(1, 4)]


def test_late_row_goes_to_side_output() -> None:
    stream = pd.DataFrame({"ts": at(0, 10, 3, 11), "v": [1, 2, 3, 4]})
    session = session_with({"t": stream}, delay="2 s")

    result = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES COUNT(*) AS n "
        "PATTERN (A+) DEFINE A AS v > 0)",
    )
    frame = result.to_pandas()
    late = result.late_rows()

    assert records(frame) == [(3,)]
    assert list(late["v"]) == [3]
    assert "watermark had passed" in late["late_reason"].iloc[0]
    operators = result.metrics().set_index("operator")
    assert int(operators.loc["match-recognize-2", "late"]) == 1


def test_row_at_watermark_is_late() -> None:
    stream = pd.DataFrame({"ts": at(0, 5, 5), "v": [1, 2, 3]})
    session = session_with({"t": stream}, delay="0 s")

    result = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES COUNT(*) AS n "
        "PATTERN (A+) DEFINE A AS v > 0)",
    )

    assert records(result.to_pandas()) == [(2,)]
    assert list(result.late_rows()["v"]) == [3]


def test_equal_times_ordered_by_second_key() -> None:
    stream = pd.DataFrame({"ts": at(1, 1, 1, 2), "seq": [3, 1, 2, 4], "v": [30, 10, 20, 40]})
    session = session_with({"t": stream}, delay="5 s")

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts, seq DESC MEASURES "
        "LISTAGG(CAST(v AS STRING), ',') AS seen PATTERN (A+) DEFINE A AS v > 0)",
    ).to_pandas()

    assert list(frame["seen"]) == ["30,20,10,40"]


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 7, 1000])
def test_result_does_not_depend_on_batch_size(batch_rows: int) -> None:
    rng = np.random.default_rng(7)
    times = np.sort(rng.integers(0, 200, 120)).astype(float)
    disorder = rng.integers(0, 3, 120)
    stream = pd.DataFrame(
        {
            "ts": at(*(times - disorder)),
            "k": rng.choice(["a", "b", "c"], 120),
            "v": rng.integers(0, 10, 120),
        }
    )
    sql = (
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES "
        "FIRST(A.ts) AS began, COUNT(B.*) AS rises, MATCH_NUMBER() AS n "
        "AFTER MATCH SKIP TO NEXT ROW PATTERN (A B+ C) WITHIN INTERVAL '20' SECOND "
        "DEFINE B AS v > PREV(v), C AS v < LAST(B.v))"
    )
    whole = query(session_with({"t": stream}, delay="3 s"), sql).to_pandas()
    split = query(session_with({"t": stream}, delay="3 s", batch_rows=batch_rows), sql)

    assert sorted(records(split.to_pandas())) == sorted(records(whole))
    assert len(whole) > 0


# Time limits -------------------------------------------------------------------------------


def test_timeouts_as_rows() -> None:
    session = session_with({"logins": LOGINS}, delay="1 s")

    frame = query(session, ABSENCE).to_pandas()

    assert records(frame, ["user", "login_at", "logout_at", "timed_out", "at_time"]) == [
        ("u1", stamp(0), stamp(600), False, stamp(600)),
        ("u1", stamp(3000), None, True, stamp(3000 + 1800 - 0.001)),
        ("u2", stamp(300), None, True, stamp(300 + 1800 - 0.001)),
        ("u3", stamp(5400), stamp(5460), False, stamp(5460)),
    ]


def test_quiet_partition_times_out_by_watermark() -> None:
    session = session_with({"logins": LOGINS}, delay="1 s")
    pipeline = compile_pipeline(session, ABSENCE)
    operator = next(op for op in pipeline.operators if isinstance(op, MatchRecognizeOperator))

    pipeline.deliver("logins", LOGINS.iloc[:2])
    assert len(pipeline.collector.output()) == 0
    # u1 and u3 keep the watermark moving; u2 sends nothing after its login.
    pipeline.deliver("logins", LOGINS.iloc[2:5])
    rows = pipeline.collector.output()

    assert sorted(records(rows, ["user", "timed_out"])) == [("u1", False), ("u2", True)]
    # The login at 3000 s waits for the watermark (2999 s) before it is matched.
    assert operator.partial_matches().empty


def test_within_is_strictly_shorter() -> None:
    stream = pd.DataFrame({"ts": at(0, 59.999, 100, 160), "kind": ["a", "b", "a", "b"]})
    session = session_with({"t": stream}, delay="0 s")

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES A.ts AS began "
        "PATTERN (A B) WITHIN INTERVAL '1' MINUTE DEFINE A AS kind = 'a', B AS kind = 'b')",
    ).to_pandas()

    assert records(frame) == [(stamp(0),)]


def test_timeouts_need_within() -> None:
    session = session_with({"logins": LOGINS})

    with pytest.raises(ValidationError, match="EMIT TIMEOUTS needs a WITHIN interval"):
        session.sql(ABSENCE.replace("WITHIN INTERVAL '30' MINUTE ", ""))


# Downstream of a match ---------------------------------------------------------------------


def test_windows_over_matches_see_no_late_rows() -> None:
    rng = np.random.default_rng(3)
    stream = pd.DataFrame(
        {"ts": at(*range(0, 600)), "k": rng.choice(["a", "b"], 600), "v": rng.integers(0, 5, 600)}
    )
    session = session_with({"t": stream}, delay="0 s", batch_rows=16)
    session.sql(
        "CREATE VIEW runs AS SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts "
        "MEASURES MATCH_ROWTIME() AS mt, COUNT(*) AS n PATTERN (A B*) "
        "DEFINE A AS v = 0, B AS v > 0)"
    )

    result = query(
        session,
        "SELECT window_start, SUM(n) AS rows_in_runs FROM TABLE(TUMBLE(TABLE runs, "
        "DESCRIPTOR(mt), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
    )
    frame = result.to_pandas()
    every = query(
        session_with({"t": stream}),
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES COUNT(*) AS n "
        "PATTERN (A B*) DEFINE A AS v = 0, B AS v > 0)",
    ).to_pandas()

    assert len(result.late_rows()) == 0
    assert int(frame["rows_in_runs"].sum()) == int(every["n"].sum())


def test_match_rowtime_is_the_time_attribute() -> None:
    session = session_with({"logins": LOGINS}, delay="1 s")
    session.sql("CREATE VIEW sessions AS " + ABSENCE)

    described = session.sql("DESCRIBE sessions").to_pandas().set_index("name")

    assert described.loc["at_time", "time_attribute"] == "ROWTIME"
    assert described.loc["login_at", "time_attribute"] is None


# Output shapes -----------------------------------------------------------------------------


def test_all_rows_column_order() -> None:
    stream = pd.DataFrame({"other": [1, 2], "k": ["a", "a"], "seq": [1, 2], "v": [5, 6]})
    session = session_with({"t": stream}, rowtime=None)

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY seq MEASURES "
        "CLASSIFIER() AS c ALL ROWS PER MATCH PATTERN (A+))",
    ).to_pandas()

    assert list(frame.columns) == ["k", "seq", "c", "other", "v"]


def test_one_row_column_order() -> None:
    stream = pd.DataFrame({"other": [1, 2], "k": ["a", "a"], "seq": [1, 2], "v": [5, 6]})
    session = session_with({"t": stream}, rowtime=None)

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY seq MEASURES "
        "COUNT(*) AS n, LAST(v) AS v_last PATTERN (A+))",
    ).to_pandas()

    assert list(frame.columns) == ["k", "n", "v_last"]
    assert records(frame) == [("a", 2, 6)]


def test_measure_repeating_input_column_rejected() -> None:
    session = session_with({"t": readings(1, 2)})

    with pytest.raises(ValidationError, match="two columns named 'v'"):
        session.sql(
            "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES A.v AS v "
            "ALL ROWS PER MATCH PATTERN (A))"
        )


def test_empty_matches_shown_or_omitted() -> None:
    session = session_with({"t": readings(5, 3, 4)}, delay="0 s")
    sql = (
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES MATCH_NUMBER() AS m, "
        "CLASSIFIER() AS c ALL ROWS PER MATCH {mode} PATTERN (A*) DEFINE A AS v < PREV(v))"
    )

    shown = query(session, sql.format(mode="SHOW EMPTY MATCHES")).to_pandas()
    omitted = query(session, sql.format(mode="OMIT EMPTY MATCHES")).to_pandas()

    assert records(shown, ["v", "m", "c"]) == [(5, 1, None), (3, 2, "A"), (4, 3, None)]
    assert records(omitted, ["v", "m", "c"]) == [(3, 2, "A")]


def test_unmatched_rows_with_skip_to_next_row() -> None:
    session = session_with({"t": readings(1, 2, 3, 9, 1)}, delay="0 s")

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES MATCH_NUMBER() AS m "
        "ALL ROWS PER MATCH WITH UNMATCHED ROWS AFTER MATCH SKIP TO NEXT ROW "
        "PATTERN (A B) DEFINE B AS v > PREV(v))",
    ).to_pandas()

    assert records(frame, ["v", "m"]) == [
        (1, 1),
        (2, 1),
        (2, 2),
        (3, 2),
        (3, 3),
        (9, 3),
        (1, None),
    ]


def test_exclusion_with_unmatched_rows_rejected() -> None:
    session = session_with({"t": readings(1, 2)})

    with pytest.raises(ValidationError, match="cannot be combined with WITH UNMATCHED ROWS"):
        session.sql(
            "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES A.v AS a "
            "ALL ROWS PER MATCH WITH UNMATCHED ROWS PATTERN (A {- B -}))"
        )


def test_skip_to_subset_variable() -> None:
    session = session_with({"t": readings(1, 5, 2, 6, 3, 7)}, delay="0 s")

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES FIRST(v) AS f, LAST(v) AS l "
        "AFTER MATCH SKIP TO LAST U PATTERN (L H L) SUBSET U = (L, H) "
        "DEFINE L AS v < 4, H AS v >= 4)",
    ).to_pandas()

    assert records(frame) == [(1, 2), (2, 3)]


def test_next_in_measures_waits_for_following_row() -> None:
    session = session_with({"t": readings(1, 2, 3, 4)}, delay="0 s", batch_rows=1)

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES LAST(v) AS last_v, "
        "NEXT(LAST(v), 1) AS after PATTERN (A B) DEFINE B AS v > PREV(v))",
    ).to_pandas()

    assert records(frame) == [(2, 3), (4, None)]


def test_history_conditions_per_partition() -> None:
    stream = pd.DataFrame(
        {
            "seq": list(range(1, 7)) * 2,
            "g": ["a"] * 6 + ["b"] * 6,
            "v": [1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1],
        }
    )
    session = session_with({"t": stream}, rowtime=None)

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY g ORDER BY seq MEASURES "
        "FIRST(seq) AS f, LAST(seq) AS l, SUM(v) AS total PATTERN (A+ B) "
        "DEFINE A AS SUM(A.v) < 7, B AS v > LAST(A.v))",
    ).to_pandas()

    assert records(frame) == [("a", 1, 4, 10), ("a", 5, 6, 11)]


# Errors ------------------------------------------------------------------------------------


def test_too_many_partial_matches() -> None:
    session = Session(progress=False, settings={"workbench.match.max-partial-matches": "50"})
    session.from_pandas("t", readings(*range(40)))

    result = session.sql(
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES COUNT(*) AS n "
        "PATTERN ((A | B)* C) DEFINE A AS COUNT(*) > 0, B AS COUNT(*) > 0, C AS v < 0)"
    )

    with pytest.raises(QueryRuntimeError) as caught:
        result.to_pandas()  # type: ignore[union-attr]
    assert "more than 50 partial matches" in str(caught.value)
    assert caught.value.hint is not None
    assert "WITHIN" in caught.value.hint


def test_skip_error_names_the_query() -> None:
    session = session_with({"t": readings(1, 2, 3)}, delay="0 s")

    result = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES COUNT(*) AS n "
        "AFTER MATCH SKIP TO FIRST A PATTERN (A B))",
    )

    with pytest.raises(QueryRuntimeError, match="cannot skip to first row of match") as caught:
        result.to_pandas()
    assert caught.value.query == result.name


# Inspection and state ----------------------------------------------------------------------


def test_partial_matches_during_replay() -> None:
    stream = pd.DataFrame({"ts": at(0, 1, 2, 3), "k": ["x", "x", "y", "x"], "v": [1, 2, 3, 4]})
    session = session_with({"t": stream}, delay="0 s")
    result = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES COUNT(*) AS n "
        "PATTERN (A B* C) DEFINE C AS v > 100)",
    )
    replay = session.replay([result])

    replay.step(3)
    partial = result.partial_matches()

    assert records(partial, ["k", "start_row", "rows", "variables", "state", "waiting_for"]) == [
        ("x", 1, 2, "A B", "B", "B or C"),
        ("y", 1, 1, "A", "A", "B or C"),
    ]
    assert result.automaton().active == frozenset({"A", "B"})
    replay.run()
    assert result.partial_matches().empty


def test_automaton_from_text() -> None:
    session = session_with({"t": readings(1)})

    drawing = session.automaton(
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES COUNT(*) AS n PATTERN (A B?))"
    )

    assert list(drawing.states["state"]) == ["start", "A", "B"]
    assert list(drawing.states["accepting"]) == [False, True, True]


def test_automaton_needs_a_pattern() -> None:
    session = session_with({"t": readings(1)})

    with pytest.raises(ValidationError, match="no MATCH_RECOGNIZE"):
        session.automaton("SELECT * FROM t")


def test_snapshot_and_restore_continue_matching() -> None:
    stream = pd.DataFrame(
        {"ts": at(*range(12)), "k": ["a", "b"] * 6, "v": [1, 5, 2, 4, 3, 3, 4, 2, 5, 1, 6, 0]}
    )
    sql = (
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES "
        "FIRST(v) AS f, LAST(v) AS l, MATCH_NUMBER() AS m PATTERN (A B+) "
        "DEFINE B AS v > PREV(v))"
    )
    whole = compile_pipeline(session_with({"t": stream}, delay="0 s"), sql)
    whole.deliver("t", stream)
    whole.end("t")

    first = compile_pipeline(session_with({"t": stream}, delay="0 s"), sql)
    first.deliver("t", stream.iloc[:7])
    saved = pickle.loads(pickle.dumps(first.snapshot()))
    second = compile_pipeline(session_with({"t": stream}, delay="0 s"), sql)
    second.restore(saved)
    second.deliver("t", stream.iloc[7:])
    second.end("t")

    resumed = pd.concat([first.collector.output(), second.collector.output()], ignore_index=True)
    assert sorted(records(resumed)) == sorted(records(whole.collector.output()))


def test_quiet_partitions_release_their_rows() -> None:
    keys = [f"k{i}" for i in range(200)]
    stream = pd.DataFrame({"ts": at(*range(2000)), "k": keys * 10, "v": list(range(2000))})
    session = session_with({"t": stream}, delay="0 s", batch_rows=100)
    pipeline = compile_pipeline(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES COUNT(*) AS n "
        "PATTERN (A B) DEFINE A AS v % 7 = 0, B AS v > PREV(v))",
    )
    operator = next(op for op in pipeline.operators if isinstance(op, MatchRecognizeOperator))

    for start in range(0, 2000, 100):
        pipeline.deliver("t", stream.iloc[start : start + 100])

    kept = sum(len(partition.gids) for partition in operator.partitions.values())
    assert kept <= 2 * len(keys)
    assert len(operator.store.chunks) <= KEEP_CHUNKS
    assert len(operator.store) <= KEEP_CHUNKS * 100


def test_match_numbers_continue_after_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operator_module, "RESTING_AFTER", 0)
    stream = pd.DataFrame({"ts": at(0, 1, 100, 101), "k": ["a"] * 4, "v": [1, 2, 1, 2]})
    session = session_with({"t": stream}, delay="0 s", batch_rows=1)

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES "
        "MATCH_NUMBER() AS m PATTERN (A B) DEFINE A AS v = 1, B AS v = 2)",
    ).to_pandas()

    assert records(frame) == [("a", 1), ("a", 2)]


def test_match_timeline_lists_rows() -> None:
    session = session_with({"t": readings(1, 2, 3, 0)}, delay="0 s")

    frame = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES MATCH_TIMELINE() AS rows_seen, "
        "MATCH_TIMELINE()[2].variable AS second PATTERN (A B+) DEFINE B AS v > PREV(v))",
    ).to_pandas()

    assert frame["second"].tolist() == ["B"]
    assert frame["rows_seen"].iloc[0] == [
        {"variable": "A", "position": 1, "rowtime": stamp(0)},
        {"variable": "B", "position": 2, "rowtime": stamp(1)},
        {"variable": "B", "position": 3, "rowtime": stamp(2)},
    ]


def test_processing_time_keeps_arrival_order(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("seq,v\n3,1\n1,2\n2,3\n")
    session = Session(progress=False)
    session.sql(
        f"CREATE TABLE events (seq INT, v INT, pt AS PROCTIME()) WITH ("
        f"'connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')"
    )

    frame = query(
        session,
        "SELECT * FROM events MATCH_RECOGNIZE (ORDER BY pt MEASURES "
        "LISTAGG(CAST(seq AS STRING), ',') AS arrival PATTERN (A+))",
    ).to_pandas()

    assert frame["arrival"].tolist() == ["3,1,2"]


def test_updating_input_rejected() -> None:
    session = session_with({"t": readings(1, 2)})

    with pytest.raises(UnsupportedError, match="needs an input of inserted rows"):
        session.sql(
            "SELECT * FROM (SELECT v, COUNT(*) AS n FROM t GROUP BY v) "
            "MATCH_RECOGNIZE (MEASURES COUNT(*) AS c PATTERN (A))"
        )
