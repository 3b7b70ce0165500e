"""MATCH_RECOGNIZE against the brute-force reference, for random patterns, conditions and rows.

The default hypothesis profile keeps these quick; a longer search runs with
``.venv/bin/pytest tests/match/test_match_properties.py --hypothesis-profile=thorough``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, reject
from hypothesis import strategies as st

from tests.match.harness import (
    SEQ_COLUMNS,
    Failed,
    Outcome,
    assert_same_outcome,
    engine_outcome,
    input_frame,
    map_seq,
    query_sql,
    reference_outcome,
)
from workbench.testing.match_reference import (
    RowsPerMatch,
    SearchLimitError,
)
from workbench.testing.pattern_strategies import (
    MatchQuery,
    match_queries,
    partition_values,
    partitioned_rows,
    rows_per_match_modes,
)
from workbench.testing.strategies import batch_sizes

#: Watermark delay of the event-time table; rows are 1 s apart, so up to 2 rows may swap.
DELAY_MS = 2_500


def expected_outcome(
    query: MatchQuery, rows: list[dict[str, Any]], rows_per_match: RowsPerMatch
) -> Outcome:
    try:
        return reference_outcome(query, rows, rows_per_match)
    except SearchLimitError:
        reject()


@st.composite
def cases(
    draw: st.DrawFn, modes: st.SearchStrategy[RowsPerMatch]
) -> tuple[MatchQuery, RowsPerMatch]:
    """A query and a rows-per-match mode; exclusion is left out WITH UNMATCHED ROWS."""
    mode = draw(modes)
    query = draw(match_queries(exclusion=mode != "ALL ROWS PER MATCH WITH UNMATCHED ROWS"))
    return query, mode


ALL_ROWS = rows_per_match_modes(one_row=False)
ONE_ROW: st.SearchStrategy[RowsPerMatch] = st.just("ONE ROW PER MATCH")


@given(case=cases(ALL_ROWS), rows=partitioned_rows(null_values=True))
def test_all_rows_per_match_equals_reference(
    case: tuple[MatchQuery, RowsPerMatch], rows: list[dict[str, Any]]
) -> None:
    query, mode = case
    expected = expected_outcome(query, rows, mode)
    got = engine_outcome(query_sql(query, mode), input_frame(rows))
    assert_same_outcome(got, expected)


@given(case=cases(ONE_ROW), rows=partitioned_rows())
def test_one_row_per_match_equals_reference(
    case: tuple[MatchQuery, RowsPerMatch], rows: list[dict[str, Any]]
) -> None:
    query, mode = case
    expected = expected_outcome(query, rows, mode)
    got = engine_outcome(query_sql(query, mode), input_frame(rows))
    assert_same_outcome(got, expected)


@st.composite
def arrivals(draw: st.DrawFn, values: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Rows of ``values`` in a random interleaving of the partitions, in arrival order.

    A row's ``seq`` is its place in the interleaving (so ``ts`` keeps each
    partition's order) and it arrives up to DELAY_MS - 1 ms of event time late,
    which is never late for the watermark.
    """
    keys = [key for key, items in values.items() for _ in items]
    order = draw(st.permutations(keys))
    taken = dict.fromkeys(values, 0)
    rows: list[dict[str, Any]] = []
    for index, key in enumerate(order):
        rows.append({"seq": index + 1, "key": key, "v": values[key][taken[key]]})
        taken[key] += 1
    jitter = draw(st.lists(st.integers(0, DELAY_MS - 1), min_size=len(rows), max_size=len(rows)))
    arrival = sorted(range(len(rows)), key=lambda i: rows[i]["seq"] * 1_000 + jitter[i])
    return [rows[i] for i in arrival]


def positions(outcome: Outcome, rows: list[dict[str, Any]], mode: RowsPerMatch) -> Outcome:
    """Return ``outcome`` with each ``seq`` replaced by the row's 1-based place in its partition."""
    place: dict[int, int] = {}
    counts: dict[str, int] = {}
    for row in sorted(rows, key=lambda row: int(row["seq"])):
        counts[row["key"]] = counts.get(row["key"], 0) + 1
        place[row["seq"]] = counts[row["key"]]
    columns = SEQ_COLUMNS["ONE" if mode == "ONE ROW PER MATCH" else "ALL"]
    return map_seq(outcome, columns, lambda seq: place[seq])


@given(case=cases(rows_per_match_modes()), values=partition_values(), data=st.data())
def test_event_time_independent_of_batches_and_interleaving(
    case: tuple[MatchQuery, RowsPerMatch], values: dict[str, list[int]], data: st.DataObject
) -> None:
    query, mode = case
    canonical = [
        {"seq": index + 1, "key": key, "v": value}
        for key, items in values.items()
        for index, value in enumerate(items)
    ]
    expected = expected_outcome(query, canonical, mode)
    sql = query_sql(query, mode, order_by="ts")
    outcomes = []
    for _ in range(2):
        rows = data.draw(arrivals(values), label="arrival order")
        batch_rows = data.draw(batch_sizes(), label="batch rows")
        got = engine_outcome(
            sql,
            input_frame(rows, event_time=True),
            rowtime="ts",
            watermark_delay=f"{DELAY_MS} ms",
            batch_rows=batch_rows,
        )
        outcomes.append(positions(got, rows, mode))
    if not isinstance(outcomes[0], Failed):
        assert outcomes[1] == outcomes[0]
    assert_same_outcome(outcomes[0], expected)
    assert_same_outcome(outcomes[1], expected)
