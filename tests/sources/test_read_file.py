"""read_file: a whole file through a connector, with its rejected rows and counters."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench
from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.events.types import DOUBLE, INT


def test_reads_rows_and_keeps_rejected_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,amount\n1,2.5\n2,oops\n3,4\n")
    schema = Schema.of([("id", INT), ("amount", DOUBLE)])
    contents = workbench.read_file(path, "csv", schema=schema)
    assert contents.rows["id"].tolist() == [1, 3]
    assert contents.rejected["line"].tolist() == [3]
    assert contents.counters.rows_read == 2
    assert contents.counters.rows_rejected == 1


def test_connector_without_own_columns_needs_a_schema(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id\n1\n")
    with pytest.raises(SourceError, match="pass schema="):
        workbench.read_file(path, "csv")


def test_empty_file_gives_typed_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("")
    schema = Schema.of([("id", INT)])
    contents = workbench.read_file(path, "json", schema=schema)
    assert list(contents.rows.columns) == ["id"]
    assert len(contents.rows) == 0
