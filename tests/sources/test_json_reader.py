import gzip
from pathlib import Path

import pandas as pd

from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources.json_reader import JsonLinesReader

SCHEMA = Schema.of(
    [
        ("id", t.BIGINT),
        ("user", t.row([("name", t.STRING), ("tags", t.array(t.STRING))])),
        ("ts", t.timestamp(3)),
    ]
)


def read(path: Path, **kwargs: object) -> tuple[pd.DataFrame, JsonLinesReader]:
    reader = JsonLinesReader("events", [path], SCHEMA, **kwargs)  # type: ignore[arg-type]
    chunks = list(reader.chunks())
    frame = pd.concat(chunks, ignore_index=True) if chunks else SCHEMA.empty_frame()
    return frame, reader


def test_json_nested_values(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"id": 1, "user": {"name": "ann", "tags": ["a"]}, "ts": "2020-01-01 10:00:00"}\n'
    )
    frame, _ = read(path)
    assert frame["user"][0] == {"name": "ann", "tags": ["a"]}
    assert frame["ts"][0] == pd.Timestamp("2020-01-01 10:00:00")


def test_json_bad_lines_rejected_with_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1}\n{"id": 2\n[1, 2]\n"text"\n{"id": "x"}\n{"id": 6}\n')
    frame, reader = read(path)
    assert frame["id"].tolist() == [1, 6]
    assert [(row[1], row[3]) for row in reader.rejected.rows] == [
        (2, "invalid JSON: unexpected end of data: column 9"),
        (3, "expected a JSON object, found an array"),
        (4, "expected a JSON object, found a string"),
        (5, "column 'id': invalid BIGINT value 'x'"),
    ]
    assert reader.rejected.rows[0][4] == '{"id": 2'
    assert reader.counters.rows_rejected == 4


def test_json_blank_lines_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('\n{"id": 1}\n   \n\r\n{"id": 2}')
    frame, reader = read(path)
    assert frame["id"].tolist() == [1, 2]
    assert reader.counters.lines_skipped == 3
    assert len(reader.rejected) == 0


def test_json_keys_exact_then_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"ID": 1}\n{"id": 2, "Id": 3}\n{"Id": 4}\n')
    frame, _ = read(path)
    assert frame["id"].tolist() == [1, 2, 4]


def test_json_gzip(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('{"id": 1}\n{"id": 2}\n')
    frame, reader = read(path)
    assert frame["id"].tolist() == [1, 2]
    assert reader.position() == path.stat().st_size


def test_json_chunks_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [f'{{"id": {i}}}' if i % 50 else "{broken" for i in range(1, 1001)]
    path.write_text("\n".join(lines) + "\n")
    frame, reader = read(path, chunk_rows=64, block_bytes=512)
    assert len(frame) == 980
    assert [row[1] for row in reader.rejected.rows] == list(range(50, 1001, 50))
    assert reader.counters.chunks > 15


def test_json_restart(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1}\nnope\n')
    reader = JsonLinesReader("events", [path], SCHEMA)
    assert sum(len(chunk) for chunk in reader.chunks()) == 1
    assert sum(len(chunk) for chunk in reader.chunks()) == 1
    assert len(reader.rejected) == 1


def test_json_huge_integer_rejected_as_written(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"id": 99999999999999999999999}\n{"id": 18446744073709551616}\n{"id": 3}\n'
        '{"id": 4, "note": "12345678901234567890123"}\n'
    )
    frame, reader = read(path)
    assert frame["id"].tolist() == [3, 4]
    assert [(row[1], row[3]) for row in reader.rejected.rows] == [
        (1, "column 'id': invalid BIGINT value 99999999999999999999999"),
        (2, "column 'id': invalid BIGINT value 18446744073709551616"),
    ]
