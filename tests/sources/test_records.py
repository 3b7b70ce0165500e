from pathlib import Path

import numpy as np

from workbench.sources.reader import CountingFile
from workbench.sources.records import (
    Block,
    RecordTexts,
    index_records,
    iter_blocks,
    record_ends,
    record_text,
)


def blocks_of(
    tmp_path: Path, data: bytes, block_bytes: int, quote: int | None = None
) -> list[Block]:
    path = tmp_path / "data.txt"
    path.write_bytes(data)
    file = CountingFile(path)
    try:
        return list(iter_blocks(file, block_bytes=block_bytes, quote=quote))
    finally:
        file.close()


def all_records(blocks: list[Block]) -> list[tuple[int, str]]:
    return [
        (int(block.index.lines[i]), record_text(block.data, block.index, i))
        for block in blocks
        for i in range(len(block.index))
    ]


def test_record_ends_skip_quoted_newlines() -> None:
    buffer = np.frombuffer(b'a,"x\ny"\nb\n', dtype=np.uint8)
    newlines, ends = record_ends(buffer, ord('"'))
    assert newlines.tolist() == [4, 7, 9]
    assert ends.tolist() == [7, 9]


def test_index_records_strips_carriage_return() -> None:
    data = b"ab\r\n\r\ncd"
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines, ends = record_ends(buffer, None)
    index = index_records(data, ends, newlines, 1)
    texts = [record_text(data, index, i) for i in range(len(index))]
    assert texts == ["ab", "", "cd"]
    assert index.lines.tolist() == [1, 2, 3]
    assert index.blank.tolist() == [False, True, False]


def test_blocks_cover_every_line(tmp_path: Path) -> None:
    lines = [f"line {i}" for i in range(1, 501)]
    blocks = blocks_of(tmp_path, ("\n".join(lines) + "\n").encode(), block_bytes=100)
    assert len(blocks) > 10
    assert all_records(blocks) == list(enumerate(lines, start=1))


def test_blocks_without_final_newline(tmp_path: Path) -> None:
    blocks = blocks_of(tmp_path, b"a\nb", block_bytes=1)
    assert all_records(blocks) == [(1, "a"), (2, "b")]


def test_blocks_keep_quoted_records_whole(tmp_path: Path) -> None:
    data = b'1,"multi\nline\nvalue"\n2,"x"\n3,y\n'
    blocks = blocks_of(tmp_path, data, block_bytes=4, quote=ord('"'))
    assert all_records(blocks) == [(1, '1,"multi\nline\nvalue"'), (4, '2,"x"'), (5, "3,y")]


def test_long_record_grows_block(tmp_path: Path) -> None:
    data = b"x" * 1000 + b"\nshort\n"
    blocks = blocks_of(tmp_path, data, block_bytes=64)
    assert all_records(blocks) == [(1, "x" * 1000), (2, "short")]


def test_unpaired_quote_does_not_hold_file(tmp_path: Path) -> None:
    data = b'a"\n' + b"".join(b"row %d\n" % i for i in range(200))
    blocks = blocks_of(tmp_path, data, block_bytes=16, quote=ord('"'))
    assert len(blocks) > 1
    assert max(len(block.data) for block in blocks) < 16 * 17 + 16


def test_empty_file_has_no_blocks(tmp_path: Path) -> None:
    assert blocks_of(tmp_path, b"", block_bytes=16) == []


def test_record_texts_sequence() -> None:
    data = b"a\nb\nc\n"
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines, ends = record_ends(buffer, None)
    texts = RecordTexts(data, index_records(data, ends, newlines, 1), np.array([2, 0]))
    assert len(texts) == 2
    assert texts[0] == "c"
    assert texts[:] == ["c", "a"]
