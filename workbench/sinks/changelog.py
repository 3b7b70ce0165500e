"""Net changes of a changelog batch, for sinks that upsert by primary key.

An upsert sink (a DuckDB or SQLite table with a PRIMARY KEY) consumes
inserts (+I), updates (+U) and deletes (-D), as Flink's upsert sinks do.
An update-before row (-U) is dropped, because the +U row that follows it
carries the key's new values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.errors import SinkError
from workbench.runtime.results import OP_COLUMN

_KINDS = frozenset({"+I", "+U", "-U", "-D"})


def split_changelog(
    frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Return the frame without its ``op`` column and the row kinds (None for inserts only).

    The ``op`` column counts as row kinds only when the sink has no column of that name.
    """
    if OP_COLUMN not in frame.columns or OP_COLUMN in columns:
        return frame, None
    kinds = frame[OP_COLUMN].to_numpy(dtype=object)
    unknown = sorted({str(kind) for kind in kinds} - _KINDS)
    if unknown:
        raise SinkError(f"unknown row kinds {', '.join(unknown)} in column '{OP_COLUMN}'")
    return frame.drop(columns=[OP_COLUMN]), kinds


def net_changes(
    rows: pd.DataFrame, kinds: np.ndarray | None, key: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the rows to upsert and the keys to delete, one change per key.

    The last change of each key in the batch wins: a key whose last row is
    -D is deleted, and a key whose last row is +I or +U gets that row.
    """
    key_columns = list(key)
    if kinds is not None:
        kept = kinds != "-U"
        rows = rows[kept]
        kinds = kinds[kept]
    last = ~rows.duplicated(subset=key_columns, keep="last").to_numpy()
    rows = rows[last]
    if kinds is None:
        return rows, rows.iloc[0:0][key_columns]
    deleted = kinds[last] == "-D"
    return rows[~deleted], rows[deleted][key_columns]
