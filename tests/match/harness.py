"""Running a MATCH_RECOGNIZE query through the engine and through the reference.

Both sides give an :data:`Outcome`: the output rows of each partition in
output order, or the AFTER MATCH SKIP failure. Output rows are tuples of the
selected columns after ``key``, with SQL NULL as None.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench import Session
from workbench.errors import QueryRuntimeError
from workbench.testing.match_reference import (
    CANNOT_SKIP_TO_FIRST_ROW,
    SKIP_VARIABLE_NOT_PRESENT,
    Match,
    RowsPerMatch,
    SkipError,
    output_rows,
    pattern_variables,
    recognize,
)
from workbench.testing.pattern_strategies import MatchQuery, partitions_of

#: The instant that ``ts`` counts from; row ``seq`` has ``ts`` = BASE + ``seq`` seconds.
BASE = pd.Timestamp("2024-01-01 00:00:00")
SKIP_MESSAGES = (SKIP_VARIABLE_NOT_PRESENT, CANNOT_SKIP_TO_FIRST_ROW)

ALL_ROWS_MEASURES = ("MATCH_NUMBER() AS mn", "CLASSIFIER() AS cls", "COUNT(*) AS n")
ALL_ROWS_SELECT = ("key", "seq", "mn", "cls", "n")
#: Columns of the output rows that hold a ``seq`` value, by rows-per-match kind.
SEQ_COLUMNS = {"ALL": (0,), "ONE": (2, 3, 5)}


@dataclass(frozen=True)
class Failed:
    """The query failed with one of ``messages`` (several when partitions fail differently)."""

    messages: frozenset[str]


Outcome = dict[str, list[tuple[Any, ...]]] | Failed


def one_row_columns(query: MatchQuery) -> tuple[list[str], list[str]]:
    """Return the MEASURES and the SELECT list of the ONE ROW PER MATCH query."""
    measures = [
        "MATCH_NUMBER() AS mn",
        "COUNT(*) AS n",
        "FIRST(seq) AS first_seq",
        "LAST(seq) AS last_seq",
        "CLASSIFIER() AS cls",
    ]
    select = ["key", "mn", "n", "first_seq", "last_seq", "cls"]
    names = pattern_variables(query.pattern)
    if names:
        measures.append(f"LAST({names[0]}.seq) AS last_var")
        select.append("last_var")
    return measures, select


def query_sql(query: MatchQuery, rows_per_match: RowsPerMatch, order_by: str = "seq") -> str:
    """Return the SQL text that the engine runs for ``query`` in ``rows_per_match`` mode."""
    if rows_per_match == "ONE ROW PER MATCH":
        measures, select = one_row_columns(query)
        return query.sql("t", rows_per_match, measures, select, order_by)
    return query.sql("t", rows_per_match, ALL_ROWS_MEASURES, ALL_ROWS_SELECT, order_by)


def _one_row(
    match: Match, rows: Sequence[Mapping[str, Any]], variable: str | None
) -> tuple[Any, ...]:
    seqs = [rows[row]["seq"] for row in match.rows_of()]
    values: list[Any] = [
        match.number,
        len(seqs),
        seqs[0] if seqs else None,
        seqs[-1] if seqs else None,
        match.labels[-1].variable if match.labels else None,
    ]
    if variable is not None:
        mapped = match.rows_of(variable)
        values.append(rows[mapped[-1]]["seq"] if mapped else None)
    return tuple(values)


def reference_outcome(
    query: MatchQuery, rows: Sequence[Mapping[str, Any]], rows_per_match: RowsPerMatch
) -> Outcome:
    """Return what the reference outputs for ``rows`` (in ``seq`` order within each partition).

    Raises SearchLimitError when a partition is too hard for the reference.
    """
    outcome: dict[str, list[tuple[Any, ...]]] = {}
    failures: set[str] = set()
    names = pattern_variables(query.pattern)
    for key, partition in partitions_of(rows).items():
        ordered = sorted(partition, key=lambda row: int(row["seq"]))
        try:
            recognition = recognize(
                query.pattern,
                ordered,
                query.conditions,
                subsets=query.subset_map,
                skip=query.skip,
                history_key=query.history_key(),
            )
        except SkipError as error:
            failures.add(str(error))
            continue
        if rows_per_match == "ONE ROW PER MATCH":
            produced = [
                _one_row(match, ordered, names[0] if names else None)
                for match in recognition.matches
            ]
        else:
            produced = [
                (ordered[out.row]["seq"], out.match_number, out.classifier, out.running_count)
                for out in output_rows(recognition, rows_per_match)
            ]
        if produced:
            outcome[key] = produced
    if failures:
        return Failed(frozenset(failures))
    return outcome


def input_frame(rows: Sequence[Mapping[str, Any]], event_time: bool = False) -> pd.DataFrame:
    """Return the rows as a DataFrame in list order; with ``event_time``, add ``ts`` from ``seq``."""
    frame = pd.DataFrame(
        {
            "key": pd.Series([row["key"] for row in rows], dtype="string"),
            "seq": pd.Series([row["seq"] for row in rows], dtype="int64"),
            "v": pd.Series([row["v"] for row in rows], dtype="Int64"),
        }
    )
    if event_time:
        seconds = pd.to_timedelta(frame["seq"], unit="s")
        frame["ts"] = (BASE + seconds).astype("datetime64[ns]")
    return frame


def engine_outcome(
    sql: str,
    frame: pd.DataFrame,
    *,
    rowtime: str | None = None,
    watermark_delay: str | None = None,
    batch_rows: int | None = None,
) -> Outcome:
    """Run ``sql`` over ``frame`` registered as table ``t``; group the output rows by key."""
    settings = {} if batch_rows is None else {"workbench.replay.batch-rows": str(batch_rows)}
    session = Session(progress=False, settings=settings)
    session.from_pandas("t", frame, rowtime=rowtime, watermark_delay=watermark_delay)
    try:
        result = session.sql(sql)
        assert result is not None
        output = result.to_pandas()  # type: ignore[union-attr]
    except QueryRuntimeError as error:
        text = str(error)
        known = frozenset(message for message in SKIP_MESSAGES if message in text)
        return Failed(known or frozenset([text]))
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for record in output.itertuples(index=False):
        values = [_plain(value) for value in record]
        grouped.setdefault(str(values[0]), []).append(tuple(values[1:]))
    return grouped


def _plain(value: Any) -> Any:
    """Return ``value`` as a plain Python value, with every kind of missing value as None."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def assert_same_outcome(got: Outcome, expected: Outcome) -> None:
    """Assert equal output rows, or that the engine failed with one of the expected messages."""
    if isinstance(expected, Failed):
        assert isinstance(got, Failed), f"expected the query to fail, got {got}"
        assert got.messages & expected.messages, f"{got.messages} not in {expected.messages}"
        return
    assert not isinstance(got, Failed), f"the query failed: {got.messages}"
    assert got == expected


def map_seq(outcome: Outcome, columns: Sequence[int], mapping: Callable[[Any], Any]) -> Outcome:
    """Return ``outcome`` with ``mapping`` applied to the non-null values of ``columns``."""
    if isinstance(outcome, Failed):
        return outcome
    mapped: dict[str, list[tuple[Any, ...]]] = {}
    for key, produced in outcome.items():
        mapped[key] = [
            tuple(
                mapping(value) if index in columns and value is not None else value
                for index, value in enumerate(values)
            )
            for values in produced
        ]
    return mapped
