"""CSV, JSON lines and Parquet readers never crash on mutated bytes of real files.

Each case damages a real file of the project's datasets (a few byte edits,
deletions, repeated slices, a cut end) and reads it as a table would. The
reader returns rows and rejected records, whose counts match its counters,
or raises SourceError for a file it cannot open at all.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from hypothesis import given

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.events.types import (
    BIGINT,
    DOUBLE,
    INT,
    STRING,
    array,
    map_of,
    row,
    timestamp,
    timestamp_ltz,
)
from workbench.sources.read import FileContents
from workbench.testing.mutation import mutated_bytes, read_mutated

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
#: The first lines of each file: enough for every kind of record, small enough to mutate.
HEAD_LINES = 30

BIDS = Schema.of(
    [
        ("bid_id", BIGINT),
        ("placed_at", timestamp(3)),
        ("item", STRING),
        ("bidder", STRING),
        ("price", DOUBLE),
        ("channel", STRING),
    ]
)
SENSORS = Schema.of(
    [
        ("ts", timestamp_ltz(3)),
        ("device", row([("id", STRING), ("site", row([("name", STRING), ("floor", INT)]))])),
        ("readings", array(row([("kind", STRING), ("value", DOUBLE)]))),
        ("tags", map_of(STRING, STRING)),
    ]
)


def head(name: str) -> bytes:
    with (DATASETS / name).open("rb") as file:
        return b"".join(file.readline() for _ in range(HEAD_LINES))


CSV_BYTES = head("bids.csv")
JSON_BYTES = head("sensors.jsonl")


def parquet_bytes() -> bytes:
    table = pa_csv.read_csv(io.BytesIO(CSV_BYTES))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


PARQUET_BYTES = parquet_bytes()


def check_read(outcome: FileContents | SourceError) -> None:
    if isinstance(outcome, SourceError):
        assert str(outcome)
        return
    assert outcome.counters.rows_read == len(outcome.rows)
    assert outcome.counters.rows_rejected == len(outcome.rejected)


def test_unmutated_files_read_whole() -> None:
    csv = read_mutated(CSV_BYTES, "filesystem", ".csv", {"format": "csv"}, schema=BIDS)
    json = read_mutated(JSON_BYTES, "filesystem", ".jsonl", {"format": "json"}, schema=SENSORS)
    parquet = read_mutated(
        PARQUET_BYTES, "filesystem", ".parquet", {"format": "parquet"}, schema=BIDS
    )

    assert isinstance(csv, FileContents)
    assert len(csv.rows) == HEAD_LINES - 1
    assert isinstance(json, FileContents)
    assert len(json.rows) + len(json.rejected) == HEAD_LINES
    assert isinstance(parquet, FileContents)
    assert len(parquet.rows) == HEAD_LINES - 1


@given(data=mutated_bytes(CSV_BYTES))
def test_csv_reader_survives_mutation(data: bytes) -> None:
    check_read(read_mutated(data, "filesystem", ".csv", {"format": "csv"}, schema=BIDS))


@given(data=mutated_bytes(JSON_BYTES))
def test_json_reader_survives_mutation(data: bytes) -> None:
    check_read(read_mutated(data, "filesystem", ".jsonl", {"format": "json"}, schema=SENSORS))


@given(data=mutated_bytes(PARQUET_BYTES))
def test_parquet_reader_survives_mutation(data: bytes) -> None:
    check_read(read_mutated(data, "filesystem", ".parquet", {"format": "parquet"}, schema=BIDS))


def test_parquet_column_name_not_utf8() -> None:
    data = bytearray(PARQUET_BYTES)
    # The footer's schema lists the column names after the column chunks' metadata.
    footer = data.find(b"schema")
    data[data.find(b"bid_id", footer)] = 0xFF

    outcome = read_mutated(
        bytes(data), "filesystem", ".parquet", {"format": "parquet"}, schema=BIDS
    )

    assert isinstance(outcome, SourceError)
    assert "utf-8" in str(outcome)
