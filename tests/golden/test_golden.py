"""Golden cases: each ``cases/NAME.sql`` against its expected ``NAME.plan`` and ``NAME.csv``.

The expected files were computed without the engine; README.md in this folder
describes how.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from workbench import QueryResult, Session

CASES = Path(__file__).resolve().parent / "cases"
DATASETS = Path(__file__).resolve().parents[2] / "datasets"
NAMES = sorted(path.stem for path in CASES.glob("*.sql"))


def run(name: str) -> QueryResult:
    """Run the case's script with table paths relative to datasets/; return its last query."""
    session = Session(progress=False, base_dir=DATASETS)
    results = session.execute((CASES / f"{name}.sql").read_text(encoding="utf-8"))
    assert isinstance(results[-1], QueryResult)
    return results[-1]


def canonical(value: object, like: pd.Series) -> object:
    """Return a comparable form of one expected CSV field, typed like the engine's column."""
    if value == "":
        return None
    text = str(value)
    if pd.api.types.is_datetime64_any_dtype(like.dtype):
        return pd.Timestamp(text)
    if pd.api.types.is_bool_dtype(like.dtype):
        return text == "True"
    if pd.api.types.is_integer_dtype(like.dtype):
        return int(text)
    if pd.api.types.is_float_dtype(like.dtype):
        return float(text)
    return text


def engine_value(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        return value.item()  # type: ignore[union-attr]
    return value


def sort_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def sort_key(row: tuple[object, ...]) -> tuple[str, ...]:
    return tuple(sort_text(value) for value in row)


def same(expected: object, actual: object) -> bool:
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return expected == actual


@pytest.mark.parametrize("name", NAMES)
def test_golden(name: str) -> None:
    query = run(name)
    result = query.to_pandas()
    expected = pd.read_csv(CASES / f"{name}.csv", dtype=str, keep_default_na=False)
    plan = (CASES / f"{name}.plan").read_text(encoding="utf-8").strip()

    assert list(result.columns) == list(expected.columns)
    actual_rows = sorted(
        (tuple(engine_value(v) for v in row) for row in result.itertuples(index=False)),
        key=sort_key,
    )
    expected_rows = sorted(
        (
            tuple(
                canonical(v, result[column]) for v, column in zip(row, result.columns, strict=True)
            )
            for row in expected.itertuples(index=False)
        ),
        key=sort_key,
    )
    assert len(actual_rows) == len(expected_rows)
    mismatched = [
        (want, got)
        for want, got in zip(expected_rows, actual_rows, strict=True)
        if not all(same(a, b) for a, b in zip(want, got, strict=True))
    ]
    assert mismatched == []
    assert query.explain().strip() == plan
