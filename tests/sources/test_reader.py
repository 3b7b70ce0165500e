import gzip
from pathlib import Path

import pytest

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources.csv_reader import CsvReader
from workbench.sources.reader import CountingFile, Reader, ReaderCounters


def test_counting_file_plain(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello world")
    file = CountingFile(path)
    assert file.read(5) == b"hello"
    assert file.position == 5
    file.close()


def test_counting_file_gzip_counts_compressed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.txt.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"x" * 10_000)
    file = CountingFile(path)
    assert file.read(20_000) == b"x" * 10_000
    assert file.read(10) == b""
    assert file.position == path.stat().st_size
    file.close()


def test_counting_file_missing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        CountingFile(tmp_path / "missing")


def test_counting_file_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(b"not gzip at all")
    file = CountingFile(path)
    with pytest.raises(SourceError, match="cannot read"):
        file.read(100)
    file.close()


def test_file_reader_is_a_reader(tmp_path: Path) -> None:
    reader = CsvReader("t", [tmp_path / "a.csv"], Schema.of([("a", t.INT)]))
    assert isinstance(reader, Reader)
    assert reader.size_unit == "bytes"
    assert reader.counters == ReaderCounters()


def test_file_reader_rejects_zero_chunk_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk_rows must be at least 1"):
        CsvReader("t", [tmp_path / "a.csv"], Schema.of([("a", t.INT)]), chunk_rows=0)


def test_file_reader_counts_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n2\n")
    reader = CsvReader("t", [path], Schema.of([("a", t.INT)]))
    list(reader.chunks())
    assert reader.counters.bytes_read == path.stat().st_size
    assert reader.position() == path.stat().st_size
