import gzip
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from workbench.events import types as t
from workbench.events.rejected import FILE_COLUMN, LINE_COLUMN
from workbench.events.schema import Schema
from workbench.sources.csv_reader import CsvOptions, CsvReader

SCHEMA = Schema.of([("id", t.BIGINT), ("name", t.STRING), ("amount", t.DOUBLE)])


def read(
    paths: list[Path], *, schema: Schema = SCHEMA, chunk_rows: int = 65_536, **options: object
) -> tuple[pd.DataFrame, CsvReader]:
    block_bytes = options.pop("block_bytes", 1 << 20)
    reader = CsvReader(
        "csv",
        paths,
        schema,
        chunk_rows=chunk_rows,
        csv_options=CsvOptions(**options),  # type: ignore[arg-type]
        block_bytes=block_bytes,  # type: ignore[arg-type]
    )
    chunks = list(reader.chunks())
    frame = pd.concat(chunks, ignore_index=True) if chunks else SCHEMA.empty_frame()
    return frame, reader


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_header_maps_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "amount,id,name\n1.5,1,a\n2.5,2,b\n")
    frame, reader = read([path])
    assert frame["id"].tolist() == [1, 2]
    assert frame["amount"].tolist() == [1.5, 2.5]
    assert frame["name"].tolist() == ["a", "b"]
    assert reader.counters.rows_read == 2


def test_csv_without_header_maps_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, "1,a,1.5\n2,b,2.5\n")
    frame, _ = read([path], header=False)
    assert frame["name"].tolist() == ["a", "b"]


def test_csv_delimiter_quote_and_null_literal(tmp_path: Path) -> None:
    path = write(tmp_path, "id;name;amount\n1;'a;b';NULL\n2;NULL;3\n")
    frame, _ = read([path], delimiter=";", quote="'", null_literal="NULL")
    assert frame["name"].tolist() == ["a;b", pd.NA]
    assert frame["amount"].isna().tolist() == [True, False]


def test_csv_blank_field_is_null_except_text(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,amount\n1,,\n")
    frame, reader = read([path])
    assert frame["name"].tolist() == [""]
    assert frame["amount"].isna().all()
    assert len(reader.rejected) == 0


def test_csv_comments_skipped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "# produced by a probe\nid,name,amount\n1,a,1\n# note\n\n2,b,x\n")
    frame, reader = read([path], allow_comments=True)
    assert frame["id"].tolist() == [1]
    assert reader.counters.lines_skipped == 3
    assert reader.rejected.rows[0][1] == 6


def test_csv_quoted_newlines_keep_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, 'id,name,amount\n1,"two\nlines",1\n2,b,x\n3,c\n')
    frame, reader = read([path])
    assert frame["name"].tolist() == ["two\nlines"]
    assert [(row[1], row[3]) for row in reader.rejected.rows] == [
        (4, "column 'amount': invalid DOUBLE value 'x'"),
        (5, "wrong number of fields: expected 3, found 2"),
    ]


def test_csv_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "windows.csv"
    path.write_bytes(b"\xef\xbb\xbfid,name,amount\r\n1,a,2\r\n")
    frame, _ = read([path])
    assert frame["id"].tolist() == [1]
    assert frame["amount"].tolist() == [2.0]


def test_csv_bad_rows_across_blocks_exact_lines(tmp_path: Path) -> None:
    lines = ["id,name,amount"]
    expected: dict[int, str] = {}
    for number in range(2, 3002):
        if number % 97 == 0:
            lines.append(f"{number},n{number}")
            expected[number] = "wrong number of fields: expected 3, found 2"
        elif number % 89 == 0:
            lines.append(f"{number},n{number},oops")
            expected[number] = "column 'amount': invalid DOUBLE value 'oops'"
        elif number % 83 == 0:
            lines.append(f"{number},n{number},1,extra")
            expected[number] = "wrong number of fields: expected 3, found 4"
        else:
            lines.append(f"{number},n{number},{number / 2}")
    path = write(tmp_path, "\n".join(lines) + "\n")
    frame, reader = read([path], block_bytes=2048, chunk_rows=500)
    found = {row[1]: row[3] for row in reader.rejected.rows}
    assert found == expected
    assert [row[1] for row in reader.rejected.rows] == sorted(expected)
    assert len(frame) == 3000 - len(expected)
    assert reader.counters.chunks > 6
    assert reader.counters.rows_rejected == len(expected)
    raw = {row[1]: row[4] for row in reader.rejected.rows}
    assert raw[97] == "97,n97"


def test_csv_chunks_at_most_chunk_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,amount\n" + "".join(f"{i},x,1\n" for i in range(25)))
    reader = CsvReader("csv", [path], SCHEMA, chunk_rows=10)
    sizes = [len(chunk) for chunk in reader.chunks()]
    assert sizes == [10, 10, 5]
    assert all(isinstance(chunk.index, pd.RangeIndex) for chunk in reader.chunks())


def test_csv_gzip(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("id,name,amount\n1,a,1\n2,b,x\n")
    frame, reader = read([path])
    assert frame["id"].tolist() == [1]
    assert reader.rejected.rows[0][1] == 3
    assert reader.position() == path.stat().st_size


def test_csv_restart_gives_same_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,amount\n1,a,1\n2,b,x\n")
    reader = CsvReader("csv", [path], SCHEMA)
    first = pd.concat(list(reader.chunks()))
    second = pd.concat(list(reader.chunks()))
    pd.testing.assert_frame_equal(first, second)
    assert len(reader.rejected) == 1
    assert reader.counters.rows_read == 1


def test_csv_several_files_name_the_file(tmp_path: Path) -> None:
    first = write(tmp_path, "id,name,amount\n1,a,1\n", "a.csv")
    second = write(tmp_path, "id,name,amount\nx,b,2\n", "b.csv")
    frame, reader = read([first, second])
    assert frame["id"].tolist() == [1]
    assert reader.rejected.rows[0][3] == "b.csv: column 'id': invalid BIGINT value 'x'"
    assert reader.rejected.rows[0][1] == 2
    assert reader.size_hint() == first.stat().st_size + second.stat().st_size


def test_csv_unterminated_quote_rejects_record(tmp_path: Path) -> None:
    path = write(tmp_path, 'id,name,amount\n1,a,1\n2,"open,3\n')
    frame, reader = read([path])
    assert frame["id"].tolist() == [1]
    assert reader.rejected.rows[0][1] == 3
    assert reader.rejected.rows[0][3] == "wrong number of fields: expected 3, found 2"


def test_csv_invalid_utf8_rejects_record(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"id,name,amount\n1,caf\xe9,1\n2,ok,2\n")
    frame, reader = read([path])
    assert frame["id"].tolist() == [2]
    assert reader.rejected.rows[0][1] == 2
    assert reader.rejected.rows[0][3] == ("invalid CSV record: field 2: invalid UTF-8 data")


def test_csv_quote_inside_field_rejects_record(tmp_path: Path) -> None:
    # pyarrow reads '""d"' as one row and '6' as another, where the quote
    # parity finds one record, so the block is parsed record by record.
    path = write(tmp_path, 'id,name,amount\n1,a,1\n""d"\n6\n')
    frame, reader = read([path])
    assert frame["id"].tolist() == [1]
    assert len(reader.rejected.rows) == 1
    assert reader.rejected.rows[0][1] == 3
    assert reader.rejected.rows[0][3] == 'invalid CSV record: unbalanced quote character "'
    assert reader.counters.rows_rejected == 1


def test_csv_invalid_utf8_and_short_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a short row that is not UTF-8, pyarrow fails to decode it for the
    # invalid-row handler and prints the failure as an unraisable exception.
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    path = tmp_path / "latin.csv"
    path.write_bytes(b"id,name,amount\n1,caf\xe9\n2,ok,2\n")
    frame, reader = read([path])
    assert frame["id"].tolist() == [2]
    assert reader.rejected.rows[0][1] == 2
    assert reader.rejected.rows[0][3] == "invalid CSV record: field 2: invalid UTF-8 data"
    assert unraisable == []


def test_csv_binary_file_in_directory_skipped(tmp_path: Path) -> None:
    text = write(tmp_path, "id,name,amount\n1,a,1\n", "a.csv")
    binary = tmp_path / "b.parquet"
    binary.write_bytes(b"PAR1\x15\x04\x00\x00,\n\x00\xff\x8c,\n1,2,3\n")
    frame, reader = read([text, binary])
    assert frame["id"].tolist() == [1]
    assert len(reader.rejected.rows) == 1
    assert reader.rejected.rows[0][1] == 1
    assert reader.rejected.rows[0][3].startswith("b.parquet: not a CSV file, skipped: ")
    assert reader.counters.rows_rejected == 1


def test_csv_header_only(tmp_path: Path) -> None:
    frame, reader = read([write(tmp_path, "id,name,amount\n")])
    assert len(frame) == 0
    assert reader.counters.chunks == 0


def test_csv_missing_file_column_is_null(tmp_path: Path) -> None:
    frame, _ = read([write(tmp_path, "id\n5\n")])
    assert frame["id"].tolist() == [5]
    assert frame["name"].isna().all()


def test_csv_larger_than_block_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    row = "12345,some-host-name,3.25\n"
    with path.open("w") as handle:
        handle.write("id,name,amount\n")
        for _ in range(250):
            handle.write(row * 2_000)
    size = path.stat().st_size
    reader = CsvReader("big", [path], SCHEMA, block_bytes=256 << 10, chunk_rows=8_192)
    baseline = pa.total_allocated_bytes()
    peak = 0
    rows = 0
    for chunk in reader.chunks():
        rows += len(chunk)
        peak = max(peak, pa.total_allocated_bytes() - baseline)
    assert rows == 500_000
    assert size > 10 << 20
    assert peak < size / 4


@pytest.mark.parametrize("text", ["id,name,amount\n1,a,1", "id,name,amount\n1,a,1\n"])
def test_csv_last_line_with_or_without_newline(tmp_path: Path, text: str) -> None:
    frame, _ = read([write(tmp_path, text)])
    assert frame["id"].tolist() == [1]


def test_csv_missing_column_logs_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, "id,nmae\n1,a\n")
    with caplog.at_level("WARNING", logger="workbench.sources.reader"):
        read([path])
    assert f"csv: {path} lacks the columns name, amount, which read as NULL" in caplog.text


def test_csv_positions_in_hidden_columns(tmp_path: Path) -> None:
    first = write(tmp_path, "id,name,amount\n1,a,1\n\nx,b,2\n3,c,3\n", "a.csv")
    second = write(tmp_path, "id,name,amount\n4,d,4\n", "b.csv")
    reader = CsvReader("csv", [first, second], SCHEMA)
    reader.positions = True
    frame = pd.concat(list(reader.chunks()), ignore_index=True)
    assert frame["id"].tolist() == [1, 3, 4]
    assert frame[LINE_COLUMN].tolist() == [2, 5, 2]
    assert frame[FILE_COLUMN].astype(str).tolist() == ["a.csv", "a.csv", "b.csv"]
