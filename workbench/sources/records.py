"""Blocks of whole text records with the physical line number of each record.

Text readers read a file in blocks of bytes, cut each block after the last
complete record and parse it as a whole. A record ends at a newline outside
quotes. Quotes are paired by parity: a newline is inside a quoted value when
an odd number of quote characters precede it in the block. Each block starts
at a record boundary, so the parity starts at zero.

NOTE: a quote character inside an unquoted field (``5 inch",x``) breaks the
parity. Line numbers of later records in the same block can then be wrong,
and a later quoted value with a line break can be cut between two blocks,
which rejects both halves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from workbench.sources.reader import CountingFile

DEFAULT_BLOCK_BYTES = 4 << 20
#: A block that grows past this many times ``block_bytes`` without a record end
#: outside quotes is cut at its last newline, so an unpaired quote cannot make
#: the reader hold the rest of the file in memory.
MAX_BLOCK_GROWTH = 16
_NEWLINE = 10
_CARRIAGE_RETURN = 13


@dataclass(frozen=True)
class RecordIndex:
    """Positions and line numbers of the records of a block.

    ``starts[i]:stops[i]`` is the text of record i without its line break,
    and ``lines[i]`` the 1-based physical line on which it starts.
    """

    starts: np.ndarray
    stops: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def blank(self) -> np.ndarray:
        return self.stops == self.starts


@dataclass(frozen=True)
class Block:
    """Whole records read from a file, with their index."""

    data: bytes
    index: RecordIndex


def record_ends(buffer: np.ndarray, quote: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Return the positions of all newlines and of the newlines that end records."""
    newlines = np.flatnonzero(buffer == _NEWLINE)
    if quote is None:
        return newlines, newlines
    quotes = np.flatnonzero(buffer == quote)
    if len(quotes) == 0:
        return newlines, newlines
    outside = np.searchsorted(quotes, newlines) % 2 == 0
    return newlines, newlines[outside]


def index_records(
    data: bytes, ends: np.ndarray, newlines: np.ndarray, first_line: int
) -> RecordIndex:
    """Return the index of the records that end at ``ends`` (and after the last one)."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    starts = np.empty(len(ends), dtype=np.int64)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    stops = ends.astype(np.int64)
    tail_start = int(ends[-1]) + 1 if len(ends) else 0
    if tail_start < len(data):
        starts = np.append(starts, tail_start)
        stops = np.append(stops, len(data))
    if len(stops):
        before = buffer[np.maximum(stops - 1, 0)]
        stops = stops - ((before == _CARRIAGE_RETURN) & (stops > starts))
    lines = first_line + np.searchsorted(newlines, starts)
    return RecordIndex(starts, stops, lines)


def iter_blocks(
    file: CountingFile, *, block_bytes: int = DEFAULT_BLOCK_BYTES, quote: int | None = None
) -> Iterator[Block]:
    """Yield the file as blocks of whole records, each about ``block_bytes`` long.

    A record longer than ``block_bytes`` makes its block grow until the
    record ends, so memory stays bounded by the longest record plus one block.
    """
    leftover = b""
    line = 1
    while True:
        chunk = file.read(block_bytes)
        at_end = not chunk
        data = leftover + chunk if leftover else chunk
        if not data:
            return
        buffer = np.frombuffer(data, dtype=np.uint8)
        newlines, ends = record_ends(buffer, quote)
        if len(ends) == 0 and len(data) > MAX_BLOCK_GROWTH * block_bytes:
            ends = newlines
        if at_end:
            cut = len(data)
        elif len(ends):
            cut = int(ends[-1]) + 1
        else:
            leftover = data
            continue
        block_newlines = newlines[newlines < cut]
        block = data if cut == len(data) else data[:cut]
        yield Block(block, index_records(block, ends[ends < cut], block_newlines, line))
        line += len(block_newlines)
        leftover = data[cut:]
        if at_end:
            return


class RecordTexts(Sequence[str]):
    """The decoded text of selected records of a block, built when accessed.

    ``errors`` is the codec error handler for bytes that are not valid UTF-8,
    as in :meth:`bytes.decode`.
    """

    def __init__(
        self, data: bytes, index: RecordIndex, records: np.ndarray, errors: str = "replace"
    ) -> None:
        self._data = data
        self._index = index
        self._records = records
        self._errors = errors

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, position: int) -> str: ...

    @overload
    def __getitem__(self, position: slice) -> list[str]: ...

    def __getitem__(self, position: int | slice) -> str | list[str]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        record = int(self._records[position])
        return record_text(self._data, self._index, record, self._errors)


def record_text(data: bytes, index: RecordIndex, record: int, errors: str = "replace") -> str:
    """Return one record decoded as UTF-8, invalid bytes handled by the codec handler ``errors``."""
    start, stop = int(index.starts[record]), int(index.stops[record])
    return data[start:stop].decode("utf-8", errors=errors)
