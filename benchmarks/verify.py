"""Compare window aggregates from different implementations, group by group.

Every implementation returns one row per (window, key) in the columns of
``COLUMNS``: ``window_start`` in nanoseconds since the epoch, the key ``k``,
and COUNT, SUM, AVG and MAX of ``v`` as ``c``, ``s``, ``a`` and ``m``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["window_start", "k", "c", "s", "a", "m"]
#: Maximum relative difference of SUM, AVG and MAX. Sums of the same values
#: in another order differ in the last bits only.
RELATIVE_TOLERANCE = 1e-9


class ResultMismatchError(AssertionError):
    """Two implementations of the benchmark query returned different results."""


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with plain numpy dtypes, sorted by window and key."""
    column = frame["window_start"]
    if pd.api.types.is_datetime64_any_dtype(column):
        window_start = column.astype("datetime64[ns]").to_numpy().view(np.int64)
    else:
        window_start = column.to_numpy(dtype=np.int64)
    result = pd.DataFrame(
        {
            "window_start": window_start,
            "k": frame["k"].to_numpy(dtype=np.int64),
            "c": frame["c"].to_numpy(dtype=np.int64),
            "s": frame["s"].to_numpy(dtype=np.float64),
            "a": frame["a"].to_numpy(dtype=np.float64),
            "m": frame["m"].to_numpy(dtype=np.float64),
        }
    )
    return result.sort_values(["window_start", "k"], kind="stable").reset_index(drop=True)


def check_same_result(expected: pd.DataFrame, actual: pd.DataFrame, label: str) -> None:
    """Raise ResultMismatchError unless ``actual`` has the groups and values of ``expected``."""
    expected = normalize(expected)
    actual = normalize(actual)
    if len(expected) != len(actual):
        message = f"{label}: {len(actual)} groups, the pandas reference has {len(expected)}"
        raise ResultMismatchError(message)
    for column in ("window_start", "k", "c"):
        differs = expected[column].to_numpy() != actual[column].to_numpy()
        if differs.any():
            raise ResultMismatchError(_first_difference(label, column, expected, actual, differs))
    for column in ("s", "a", "m"):
        reference = expected[column].to_numpy()
        measured = actual[column].to_numpy()
        differs = ~np.isclose(measured, reference, rtol=RELATIVE_TOLERANCE, atol=0.0)
        if differs.any():
            raise ResultMismatchError(_first_difference(label, column, expected, actual, differs))


def _first_difference(
    label: str, column: str, expected: pd.DataFrame, actual: pd.DataFrame, differs: np.ndarray
) -> str:
    row = int(np.flatnonzero(differs)[0])
    return (
        f"{label}: column {column!r} differs in {int(differs.sum())} of {len(expected)} rows; "
        f"first at sorted row {row}: expected {_row_values(expected, row)}, "
        f"got {_row_values(actual, row)}"
    )


def _row_values(frame: pd.DataFrame, row: int) -> dict[str, object]:
    # Column by column, so integers are not shown as floats.
    return {column: frame[column].iloc[row].item() for column in frame.columns}
