"""Rejected rows: malformed records kept with where they came from and why."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

REJECTED_COLUMNS = ["source", "line", "offset", "reason", "raw"]


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
