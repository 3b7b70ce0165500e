import pandas as pd

from workbench.events import types as t
from workbench.events.rejected import OFFSET_COLUMN
from workbench.events.schema import Schema
from workbench.sources.frame_reader import DataFrameReader
from workbench.sources.reader import Reader

SCHEMA = Schema.of([("id", t.BIGINT), ("name", t.STRING)])


def test_frame_reader_chunks_and_offsets() -> None:
    frame = pd.DataFrame({"id": ["1", "2", "x", "4", "5"], "name": list("abcde")})
    reader = DataFrameReader("memory", frame, SCHEMA, chunk_rows=2)
    chunks = list(reader.chunks())
    assert [len(chunk) for chunk in chunks] == [2, 1, 1]
    assert reader.rejected.rows[0][2] == 2
    assert reader.counters.rows_read == 4
    assert reader.counters.rows_rejected == 1


def test_frame_reader_size_and_position() -> None:
    reader = DataFrameReader("memory", pd.DataFrame({"id": range(5)}), SCHEMA, chunk_rows=3)
    assert reader.size_unit == "rows"
    assert reader.size_hint() == 5
    iterator = reader.chunks()
    next(iterator)
    assert reader.position() == 3
    list(iterator)
    assert reader.position() == 5


def test_frame_reader_is_a_reader() -> None:
    reader = DataFrameReader("memory", pd.DataFrame(), SCHEMA)
    assert isinstance(reader, Reader)
    assert list(reader.chunks()) == []


def test_frame_reader_positions_after_first_rejection() -> None:
    frame = pd.DataFrame({"id": ["1", "2", "x", "4", "5"], "name": list("abcde")})
    reader = DataFrameReader("memory", frame, SCHEMA, chunk_rows=2, positions=True)
    chunks = list(reader.chunks())
    # Until a row is rejected, the count of rows delivered is the offset: no column.
    assert OFFSET_COLUMN not in chunks[0].columns
    assert chunks[1][OFFSET_COLUMN].tolist() == [3]
    assert chunks[2][OFFSET_COLUMN].tolist() == [4]
