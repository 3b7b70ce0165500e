"""Failing property cases as a bug report: the query and each input stream as a small table."""

from __future__ import annotations

import pandas as pd
from hypothesis import note


def case_text(sql: str, **streams: pd.DataFrame) -> str:
    """Return the query and each stream (in arrival order) as text to paste into a bug report."""
    parts = [f"query:\n{sql}"]
    for name, frame in streams.items():
        rows = f"{len(frame)} row{'s' if len(frame) != 1 else ''}"
        table = frame.to_string() if len(frame) else "(no rows)"
        parts.append(f"{name} ({rows}, in arrival order):\n{table}")
    return "\n\n".join(parts)


def note_case(sql: str, **streams: pd.DataFrame) -> None:
    """Attach the case to hypothesis's report, which prints it for the shrunk failing example."""
    note(case_text(sql, **streams))
