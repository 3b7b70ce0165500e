"""Peer cases: inputs, queries and expected results transcribed from other engines.

Each case file holds the input tables, their column types and event-time
column, a query, and the rows the peer engine returned. ``load_runs`` turns
every case and each of its variants into one run; ``execute`` replays a run
through a Session and ``assert_rows`` compares the result with the peer's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tests.support.shared import shared_dir
from workbench import Session

PANDAS_TYPES = {
    "BIGINT": "Int64",
    "DOUBLE": "Float64",
    "VARCHAR": "string[pyarrow]",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "datetime64[ns]",
}


@dataclass
class CaseRun:
    """One query of a case (the main one or a variant) with what it should return."""

    id: str
    kind: str
    query: str
    tables: dict[str, list[dict[str, Any]]]
    schema: dict[str, Any]
    expected: list[dict[str, Any]] | None
    expected_error: str | None
    ordered: bool
    watermark_delay: str
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_runs(kinds: set[str] | None = None) -> list[CaseRun]:
    folder = shared_dir() / "cases"
    if not folder.is_dir():
        return []
    runs: list[CaseRun] = []
    for path in sorted(folder.glob("*.json")):
        case = json.loads(path.read_text())
        if kinds is not None and case["kind"] not in kinds:
            continue
        runs.append(_run(path, case, case, path.stem))
        for index, variant in enumerate(case.get("variants", []), start=1):
            runs.append(_run(path, case, variant, f"{path.stem}-variant{index}"))
    return runs


def _run(path: Path, case: dict[str, Any], part: dict[str, Any], run_id: str) -> CaseRun:
    del path
    return CaseRun(
        id=run_id,
        kind=case["kind"],
        query=part["query"],
        tables=part.get("input", case["input"]),
        schema=case["schema"],
        expected=part.get("expected"),
        expected_error=part.get("expected_error"),
        ordered=bool(part.get("ordered", case.get("ordered", False))),
        watermark_delay=case.get("watermark_delay", "0s"),
        notes=" ".join(str(n) for n in (case.get("notes"), part.get("notes")) if n),
        extra={
            key: value
            for key, value in case.items()
            if key not in ("input", "query", "expected", "variants")
        },
    )


class ConcatDistinct:
    """Flink's test-only concat_distinct_agg: distinct non-null strings joined with '|'."""

    def __init__(self) -> None:
        self.values: dict[str, None] = {}

    def accumulate(self, values: list[Any]) -> None:
        for value in values:
            self.values.setdefault(str(value), None)

    def merge(self, other: ConcatDistinct) -> None:
        self.values.update(other.values)

    def result(self) -> str | None:
        return "|".join(self.values) if self.values else None


def execute(run: CaseRun) -> pd.DataFrame:
    session = Session(progress=False)
    session.register_aggregate("concat_distinct_agg", ConcatDistinct, "STRING")
    rowtimes = run.schema.get("rowtime", {})
    for table, rows in run.tables.items():
        columns = run.schema[table]
        frame = pd.DataFrame(rows, columns=list(columns))
        for column, kind in columns.items():
            if kind == "TIMESTAMP":
                frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
            else:
                frame[column] = frame[column].astype(PANDAS_TYPES[kind])
        rowtime = rowtimes.get(table)
        delay = run.watermark_delay if rowtime else None
        session.from_pandas(table, frame, rowtime=rowtime, watermark_delay=delay)
    result = session.sql(run.query)
    assert result is not None
    return result.to_pandas()  # type: ignore[union-attr]


def assert_rows(run: CaseRun, frame: pd.DataFrame) -> None:
    """Assert that the result has the expected rows, matching columns by name, then position."""
    assert run.expected is not None
    expected_keys = list(run.expected[0]) if run.expected else []
    mapping = _map_columns(expected_keys, list(frame.columns))
    actual = [
        tuple(_normal(frame.iloc[row][mapping[key]], key) for key in expected_keys)
        for row in range(len(frame))
    ]
    wanted = [tuple(_normal(row[key], key) for key in expected_keys) for row in run.expected]
    if not run.ordered:
        actual = sorted(actual, key=repr)
        wanted = sorted(wanted, key=repr)
    assert len(actual) == len(wanted), (
        f"{len(actual)} rows, expected {len(wanted)}:\n{frame.to_string()}"
    )
    for index, (got, want) in enumerate(zip(actual, wanted, strict=True)):
        assert _same(got, want), f"row {index}: got {got}, expected {want}\n{frame.to_string()}"


def _map_columns(expected: list[str], actual: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for key in expected:
        if key in actual:
            mapping[key] = key
            used.add(key)
    for position, key in enumerate(expected):
        if key in mapping:
            continue
        candidate = (
            actual[position] if position < len(actual) and actual[position] not in used else None
        )
        if candidate is None:
            candidate = next(name for name in actual if name not in used)
        mapping[key] = candidate
        used.add(candidate)
    return mapping


def _normal(value: Any, key: str) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None) if value.tzinfo else value
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " ":
        return pd.Timestamp(value)
    if "concat_distinct_agg" in key and isinstance(value, str):
        return frozenset(value.split("|"))
    if hasattr(value, "item"):
        return value.item()
    return value


def _same(got: tuple[Any, ...], want: tuple[Any, ...]) -> bool:
    for a, b in zip(got, want, strict=True):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            if not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif a != b:
            return False
    return True
