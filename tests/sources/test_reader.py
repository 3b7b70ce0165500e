import gzip
import struct
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources.csv_reader import CsvReader
from workbench.sources.read import read_file
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


def cut_gzip(path: Path, data: bytes, keep: float = 0.5) -> Path:
    """Write ``data`` gzip-compressed to ``path``, keeping only the first part of the bytes."""
    compressed = gzip.compress(data)
    path.write_bytes(compressed[: int(len(compressed) * keep)])
    return path


def test_counting_file_cut_gzip_keeps_data(tmp_path: Path) -> None:
    data = b"".join(b"line %d of the log\n" % index for index in range(20_000))
    file = CountingFile(cut_gzip(tmp_path / "a.txt.gz", data))
    out = b""
    while chunk := file.read(1000):
        out += chunk
    file.close()
    assert len(out) > len(data) // 4
    assert data.startswith(out)
    assert file.damage is not None
    assert file.damage.offset == len(out)
    assert "ends early" in file.damage.reason


def test_counting_file_concatenated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(b"one\n") + gzip.compress(b"two\n") + b"\0" * 8)
    file = CountingFile(path)
    assert file.read(100) == b"one\ntwo\n"
    assert file.read(100) == b""
    assert file.damage is None
    file.close()


def test_counting_file_damaged_gzip_data(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4000
    compressed = bytearray(gzip.compress(data, compresslevel=1))
    middle = len(compressed) // 2
    compressed[middle : middle + 64] = b"\xff" * 64
    path = tmp_path / "a.bin.gz"
    path.write_bytes(bytes(compressed))
    file = CountingFile(path)
    out = file.read(len(data))
    file.close()
    # Deflate may decode wrong bytes for a while before zlib detects the damage.
    assert out[:1000] == data[:1000]
    assert file.damage is not None
    assert "damaged" in file.damage.reason


def test_cut_gzip_csv_keeps_rows(tmp_path: Path) -> None:
    text = b"a\n" + b"".join(b"%d\n" % index for index in range(50_000))
    path = cut_gzip(tmp_path / "a.csv.gz", text)
    reader = CsvReader("t", [path], Schema.of([("a", t.INT)]))
    rows = pd.concat(list(reader.chunks()))
    assert len(rows) > 1000
    assert rows["a"].tolist() == list(range(len(rows)))
    assert len(reader.rejected) == 1
    _source, line, offset, reason, raw = reader.rejected.rows[0]
    assert "compressed file ends early" in reason
    assert offset is not None
    assert line == len(rows) + 2
    assert raw == str(len(rows))[: len(raw)]


def test_cut_gzip_json_lines_keeps_rows(tmp_path: Path) -> None:
    text = b"".join(b'{"a": %d}\n' % index for index in range(50_000))
    path = cut_gzip(tmp_path / "a.jsonl.gz", text)
    contents = read_file(path, "json", {}, schema=Schema.of([("a", t.INT)]))
    assert len(contents.rows) > 1000
    assert contents.rows["a"].tolist() == list(range(len(contents.rows)))
    assert len(contents.rejected) == 1
    assert "compressed file ends early" in contents.rejected["reason"][0]


def test_cut_gzip_syslog_keeps_rows(tmp_path: Path) -> None:
    text = b"".join(
        b"Jan  1 00:00:%02d host sshd[1]: Failed password for user%d from 10.0.0.1 port 22 ssh2\n"
        % (index % 60, index)
        for index in range(5_000)
    )
    path = cut_gzip(tmp_path / "auth.log.gz", text)
    contents = read_file(path, "syslog", {"format": "auth", "syslog.year": "2024"})
    assert len(contents.rows) > 100
    assert len(contents.rejected) == 1
    assert "compressed file ends early" in contents.rejected["reason"][0]
    assert contents.rejected["offset"][0] > 0


def test_cut_gzip_zeek_keeps_rows(tmp_path: Path) -> None:
    header = b"#path\tconn\n#fields\tts\tuid\n#types\ttime\tstring\n"
    text = header + b"".join(b"%d.0\tC%d\n" % (index, index) for index in range(50_000))
    path = cut_gzip(tmp_path / "conn.log.gz", text)
    contents = read_file(path, "zeek", {})
    assert len(contents.rows) > 1000
    assert len(contents.rejected) == 1
    assert "compressed file ends early" in contents.rejected["reason"][0]


def test_cut_gzip_pcap_one_rejected_entry(tmp_path: Path) -> None:
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    frame = bytes(14) + bytes(range(200))
    records = b"".join(
        struct.pack("<IIII", 1_700_000_000 + index, 0, len(frame), len(frame)) + frame
        for index in range(2_000)
    )
    path = cut_gzip(tmp_path / "trunc.pcap.gz", header + records, keep=0.6)
    contents = read_file(path, "pcap", {})
    assert len(contents.rows) > 100
    assert len(contents.rejected) == 1
    reason = contents.rejected["reason"][0]
    assert "compressed file ends early" in reason
    assert "truncated" in reason
    assert contents.rejected["offset"][0] > 0
