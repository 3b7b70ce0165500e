"""MATCH_RECOGNIZE in the engine on small cases checked by hand, and the engine's known bugs.

Each case runs one query over one partition ``p0`` whose rows have ``seq``
1, 2, ... and the given values of ``v``. ALL ROWS PER MATCH rows are
(seq, MATCH_NUMBER(), CLASSIFIER(), running COUNT(*)).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.match.harness import Failed, engine_outcome, input_frame
from workbench.testing.match_reference import (
    CANNOT_SKIP_TO_FIRST_ROW,
    SKIP_VARIABLE_NOT_PRESENT,
    MatchView,
    RowsPerMatch,
    output_rows,
    recognize,
)

ALL: RowsPerMatch = "ALL ROWS PER MATCH SHOW EMPTY MATCHES"
UNMATCHED: RowsPerMatch = "ALL ROWS PER MATCH WITH UNMATCHED ROWS"


def partition(*values: int, key: str = "p0", first_seq: int = 1) -> list[dict[str, Any]]:
    return [
        {"seq": first_seq + index, "key": key, "v": value} for index, value in enumerate(values)
    ]


def run_all_rows(
    pattern: str,
    values: tuple[int, ...],
    define: str = "",
    skip: str = "AFTER MATCH SKIP PAST LAST ROW",
    rows_per_match: RowsPerMatch = ALL,
) -> list[tuple[Any, ...]] | Failed:
    sql = f"""
        SELECT key, seq, mn, cls, n FROM t MATCH_RECOGNIZE (
            PARTITION BY key ORDER BY seq
            MEASURES MATCH_NUMBER() AS mn, CLASSIFIER() AS cls, COUNT(*) AS n
            {rows_per_match} {skip}
            PATTERN ({pattern}) {define})
    """
    outcome = engine_outcome(sql, input_frame(partition(*values)))
    if isinstance(outcome, Failed):
        return outcome
    return outcome.get("p0", [])


CASES = [
    pytest.param(
        "A+", "DEFINE A AS v > 5", (6, 7, 1), [(1, 1, "A", 1), (2, 1, "A", 2)], id="greedy"
    ),
    pytest.param(
        "A+?", "DEFINE A AS v > 5", (6, 7, 1), [(1, 1, "A", 1), (2, 2, "A", 1)], id="reluctant"
    ),
    pytest.param("A | B", "", (1,), [(1, 1, "A", 1)], id="alternation-left-first"),
    pytest.param(
        "A | B",
        "DEFINE A AS v > 5",
        (1, 6),
        [(1, 1, "B", 1), (2, 2, "A", 1)],
        id="alternation-fallback",
    ),
    pytest.param(
        "PERMUTE(A, B, C)",
        "DEFINE A AS v > 5",
        (1, 6, 2),
        [(1, 1, "B", 1), (2, 1, "A", 2), (3, 1, "C", 3)],
        id="permute-order",
    ),
    pytest.param("A {- B -} C", "", (1, 2, 3), [(1, 1, "A", 1), (3, 1, "C", 3)], id="exclusion"),
    pytest.param(
        "A*",
        "DEFINE A AS v > 5",
        (1, 6),
        [(1, 1, None, 0), (2, 2, "A", 1)],
        id="empty-match",
    ),
    pytest.param("^ A", "", (1, 2), [(1, 1, "A", 1)], id="start-anchor"),
    pytest.param("A $", "", (1, 2), [(2, 1, "A", 1)], id="end-anchor"),
    pytest.param(
        "(() | A | B){0,2} C",
        "DEFINE C AS COUNT(B.*) > 0",
        (1, 2, 3),
        [(1, 1, "B", 1), (2, 1, "C", 2)],
        id="bounded-empty-iteration",
    ),
    pytest.param(
        "A B+",
        "DEFINE B AS v > LAST(A.v)",
        (5, 6, 7, 3, 8),
        [(1, 1, "A", 1), (2, 1, "B", 2), (3, 1, "B", 3), (4, 2, "A", 1), (5, 2, "B", 2)],
        id="history-condition",
    ),
]


@pytest.mark.parametrize(("pattern", "define", "values", "expected"), CASES)
def test_all_rows_examples(
    pattern: str, define: str, values: tuple[int, ...], expected: list[tuple[Any, ...]]
) -> None:
    assert run_all_rows(pattern, values, define) == expected


def test_unmatched_rows_example() -> None:
    got = run_all_rows(
        "A A A",
        (0, 1, 1, 1, 1, 0),
        "DEFINE A AS v > 0",
        skip="AFTER MATCH SKIP TO NEXT ROW",
        rows_per_match=UNMATCHED,
    )
    assert got == [
        (1, None, None, None),
        (2, 1, "A", 1),
        (3, 1, "A", 2),
        (4, 1, "A", 3),
        (3, 2, "A", 1),
        (4, 2, "A", 2),
        (5, 2, "A", 3),
        (6, None, None, None),
    ]


def test_skip_to_first_row_of_match_fails() -> None:
    got = run_all_rows("A B", (1, 2), skip="AFTER MATCH SKIP TO FIRST A")
    assert got == Failed(frozenset([CANNOT_SKIP_TO_FIRST_ROW]))


def test_skip_to_absent_variable_fails() -> None:
    got = run_all_rows("A | B", (1, 2), skip="AFTER MATCH SKIP TO LAST B")
    assert got == Failed(frozenset([SKIP_VARIABLE_NOT_PRESENT]))


# Known engine bugs --------------------------------------------------------------------


EMPTY_ITERATION_CASES = [
    # Engine: [(1, 1, "A", 1), (2, 1, "A", 2)].
    pytest.param("(A??)*", [(1, 1, None, 0), (2, 2, None, 0)], id="reluctant-body"),
    # Engine: [(1, 1, "A", 1), (2, 1, "A", 2)].
    pytest.param("(() | A)*", [(1, 1, None, 0), (2, 2, None, 0)], id="empty-option-first"),
    # Engine: [(1, 1, "A", 1), (2, 1, "B", 2)].
    pytest.param("(A*?)* B", [(1, 1, "B", 1), (2, 2, "B", 1)], id="followed-by-variable"),
]


@pytest.mark.parametrize(("pattern", "expected"), EMPTY_ITERATION_CASES)
def test_reference_ends_loop_at_empty_iteration(
    pattern: str, expected: list[tuple[Any, ...]]
) -> None:
    found = recognize(pattern, partition(0, 0))
    got = [
        (out.row + 1, out.match_number, out.classifier, out.running_count)
        for out in output_rows(found, ALL)
    ]
    assert got == expected


@pytest.mark.parametrize(("pattern", "expected"), EMPTY_ITERATION_CASES)
def test_empty_iteration_ends_loop_at_its_preference(
    pattern: str, expected: list[tuple[Any, ...]]
) -> None:
    # Trino's matcher ends a thread that comes back to the loop start without
    # reading a row, but lets it leave the loop there. That exit comes before
    # the paths that read a row, so it is the preferred match.
    assert run_all_rows(pattern, (0, 0)) == expected


def run_event_time(condition: str, rows: list[dict[str, Any]]) -> Any:
    sql = f"""
        SELECT key, mn, n, first_seq, last_seq FROM t MATCH_RECOGNIZE (
            PARTITION BY key ORDER BY ts
            MEASURES MATCH_NUMBER() AS mn, COUNT(*) AS n,
                     FIRST(seq) AS first_seq, LAST(seq) AS last_seq
            ONE ROW PER MATCH
            PATTERN (A) DEFINE A AS {condition})
    """
    return engine_outcome(
        sql, input_frame(rows, event_time=True), rowtime="ts", watermark_delay="2500 ms"
    )


def test_event_time_next_single_row_partition() -> None:
    rows = partition(0) + partition(0, 0, 0, key="p1", first_seq=2)
    # Rows p1 2 and 3 have a next row with the same value; row 4 has none (NULL).
    assert run_event_time("v <= NEXT(v)", rows) == {"p1": [(1, 1, 2, 2), (2, 1, 3, 3)]}


def test_event_time_next_keeps_last_row() -> None:
    rows = partition(0, 0) + partition(0, 0, 0, key="p1", first_seq=3)
    assert run_event_time("v < NEXT(v) OR v < 9", rows) == {
        "p0": [(1, 1, 1, 1), (2, 1, 2, 2)],
        "p1": [(1, 1, 3, 3), (2, 1, 4, 4), (3, 1, 5, 5)],
    }


def test_sorted_next_keeps_last_row() -> None:
    rows = partition(0, 0) + partition(0, 0, 0, key="p1", first_seq=3)
    sql = """
        SELECT key, mn, n, first_seq, last_seq FROM t MATCH_RECOGNIZE (
            PARTITION BY key ORDER BY seq
            MEASURES MATCH_NUMBER() AS mn, COUNT(*) AS n,
                     FIRST(seq) AS first_seq, LAST(seq) AS last_seq
            ONE ROW PER MATCH
            PATTERN (A) DEFINE A AS v < NEXT(v) OR v < 9)
    """
    assert engine_outcome(sql, input_frame(rows)) == {
        "p0": [(1, 1, 1, 1), (2, 1, 2, 2)],
        "p1": [(1, 1, 3, 3), (2, 1, 4, 4), (3, 1, 5, 5)],
    }


def test_reference_next_at_partition_end_is_null() -> None:
    def next_not_smaller(view: MatchView) -> bool | None:
        following = view.next("v")
        return None if following is None else bool(view.value("v") <= following)

    def next_larger_or_small(view: MatchView) -> bool | None:
        following = view.next("v")
        larger = None if following is None else bool(view.value("v") < following)
        return True if view.value("v") < 9 else larger

    found = recognize("A", partition(0, 0, 0), {"A": next_not_smaller})
    assert [match.start for match in found.matches] == [0, 1]
    found = recognize("A", partition(0, 0), {"A": next_larger_or_small})
    assert [match.start for match in found.matches] == [0, 1]
