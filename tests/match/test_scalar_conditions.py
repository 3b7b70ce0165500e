"""Conditions compiled to Python functions agree with the vectorized evaluator."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import workbench.runtime.match_recognize as operator_module
from tests.support.streams import query, records, session_with

CONDITIONS = [
    "SUM(A.v) < 12",
    "COUNT(A.*) <= 2 AND v IS NOT NULL",
    "v > LAST(A.v, 1) OR LAST(A.v, 1) IS NULL",
    "v BETWEEN FIRST(A.v) AND FIRST(A.v) + 3",
    "MAX(A.v) - MIN(A.v) <= 4",
    "AVG(A.v) > 2.5",
    "NOT (v = PREV(LAST(A.v, 1)))",
    "label IN ('x', 'y') AND FIRST(A.label) <> label",
    "-v < -1 AND v * 2 >= COUNT(*)",
    "LAST(A.v, 1) IS NULL OR v <> LAST(A.v, 1)",
]


def run(frame: pd.DataFrame, condition: str) -> list[tuple[object, ...]]:
    session = session_with({"t": frame}, rowtime=None)
    result = query(
        session,
        "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY seq MEASURES MATCH_NUMBER() AS m, "
        "CLASSIFIER() AS c ALL ROWS PER MATCH AFTER MATCH SKIP TO NEXT ROW "
        f"PATTERN (A+ B?) DEFINE A AS {condition}, B AS v > 0)",
    )
    return records(result.to_pandas(), ["seq", "m", "c"])


@given(
    condition=st.sampled_from(CONDITIONS),
    values=st.lists(st.one_of(st.none(), st.integers(-3, 8)), min_size=1, max_size=10),
    labels=st.lists(st.sampled_from(["x", "y", "z"]), min_size=10, max_size=10),
)
def test_same_matches_either_way(condition: str, values: list[Any], labels: list[str]) -> None:
    frame = pd.DataFrame(
        {
            "seq": range(len(values)),
            "v": pd.array(values, dtype="Int64"),
            "label": pd.array(labels[: len(values)], dtype="string[pyarrow]"),
        }
    )

    compiled = run(frame, condition)
    with mock.patch.object(operator_module, "compile_condition", lambda *args: None):
        vectorized = run(frame, condition)

    assert compiled == vectorized


@pytest.mark.parametrize("condition", CONDITIONS)
def test_condition_compiles(condition: str) -> None:
    frame = pd.DataFrame({"seq": [1], "v": pd.array([1], dtype="Int64"), "label": ["x"]})
    session = session_with({"t": frame}, rowtime=None)
    result = query(
        session,
        f"SELECT * FROM t MATCH_RECOGNIZE (ORDER BY seq MEASURES COUNT(*) AS n "
        f"PATTERN (A+ B?) DEFINE A AS {condition}, B AS v > 0)",
    )
    result.to_pandas()
    assert result.pipeline is not None
    matcher = next(
        op.matcher
        for op in result.pipeline.operators
        if isinstance(op, operator_module.MatchRecognizeOperator)
    )

    assert matcher.inline is True
