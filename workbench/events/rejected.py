"""Rejected rows: malformed records kept with where they came from and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

REJECTED_COLUMNS = ["source", "line", "offset", "reason", "raw"]

#: Hidden columns in which a reader passes each row's position in its source
#: (the line, the offset, and the file when it reads several) to the scan,
#: which uses them to place the rows it rejects and then drops them.
LINE_COLUMN = "$source_line"
OFFSET_COLUMN = "$source_offset"
FILE_COLUMN = "$source_file"
POSITION_COLUMNS = (LINE_COLUMN, OFFSET_COLUMN, FILE_COLUMN)


def with_positions(
    frame: pd.DataFrame,
    *,
    lines: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
    file: str | None = None,
) -> pd.DataFrame:
    """Return ``frame`` with the hidden position columns of its rows added."""
    extra: dict[str, Any] = {}
    if lines is not None:
        extra[LINE_COLUMN] = np.asarray(lines, dtype=np.int64)
    if offsets is not None:
        extra[OFFSET_COLUMN] = np.asarray(offsets, dtype=np.int64)
    if file is not None:
        codes = np.zeros(len(frame), dtype=np.int8)
        extra[FILE_COLUMN] = pd.Categorical.from_codes(codes, categories=pd.Index([file]))
    return frame.assign(**extra) if extra else frame


@dataclass
class RejectedRows:
    """Collects rejected records of one source or operator.

    ``line`` is the 1-based line number in a text file, ``offset`` the byte
    offset in a binary file or the row position in a DataFrame; either may
    be None when the format has no such notion. ``raw`` keeps the record's
    original text (or a repr of the row) so nothing is lost.
    """

    source: str
    rows: list[tuple[str, int | None, int | None, str, str]] = field(default_factory=list)

    def add(
        self, reason: str, raw: str, *, line: int | None = None, offset: int | None = None
    ) -> None:
        self.rows.append((self.source, line, offset, reason, raw))

    def extend(self, other: RejectedRows) -> None:
        self.rows.extend(other.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()

    def to_pandas(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=REJECTED_COLUMNS)
        return frame.astype(
            {
                "line": "Int64",
                "offset": "Int64",
                "source": "string",
                "reason": "string",
                "raw": "string",
            }
        )


def concat_rejected(parts: list[RejectedRows]) -> pd.DataFrame:
    """Return all rejected rows of several collectors as one DataFrame."""
    rows = [row for part in parts for row in part.rows]
    return RejectedRows("", rows).to_pandas()
