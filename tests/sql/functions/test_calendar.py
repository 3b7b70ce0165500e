"""Vectorized calendar arithmetic on int64 nanoseconds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.sql.functions.calendar import add_months, civil, months_between, truncate_division


def _ns(*stamps: str) -> np.ndarray:
    return np.array([pd.Timestamp(stamp).value for stamp in stamps], dtype=np.int64)


def test_civil_fields() -> None:
    year, month, day = civil(_ns("1969-12-31 23:00", "2024-02-29", "1900-03-01"))
    assert year.tolist() == [1969, 2024, 1900]
    assert month.tolist() == [12, 2, 3]
    assert day.tolist() == [31, 29, 1]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        pytest.param("2024-01-31 10:00", 1, "2024-02-29 10:00", id="leap-clip"),
        pytest.param("2023-01-31", 1, "2023-02-28", id="clip"),
        pytest.param("2024-03-31", -1, "2024-02-29", id="backwards-clip"),
        pytest.param("2024-05-15 01:02:03", 12, "2025-05-15 01:02:03", id="year"),
        pytest.param("1969-12-15", 1, "1970-01-15", id="across-epoch"),
    ],
)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(_ns(start), months).tolist() == _ns(expected).tolist()


def test_add_months_per_row() -> None:
    result = add_months(_ns("2024-01-31", "2024-01-31"), np.array([1, 2]))
    assert result.tolist() == _ns("2024-02-29", "2024-03-31").tolist()


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("2016-06-15 11:00", "2018-05-19", 23, id="forward"),
        pytest.param("2018-07-03 11:11:11", "2018-09-05 11:11:11", 2, id="exact-time"),
        pytest.param("2018-07-03 11:11:12", "2018-09-03 11:11:11", 1, id="one-second-short"),
        pytest.param("2018-09-03", "2018-07-04", -1, id="backward-truncates"),
    ],
)
def test_months_between(start: str, end: str, expected: int) -> None:
    assert months_between(_ns(start), _ns(end)).tolist() == [expected]


def test_truncate_division_rounds_toward_zero() -> None:
    assert truncate_division(np.array([7, -7, 0]), 2).tolist() == [3, -3, 0]
