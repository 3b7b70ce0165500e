"""The reader protocol, its counters and the base class of file readers."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from workbench.errors import SourceError
from workbench.events.conform import ConformOptions, conform
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 65_536
# zlib window bits for gzip framing: the header and CRC trailer are checked.
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_GZIP_READ_BYTES = 1 << 16
_GZIP_RETRY_BYTES = 256


@dataclass
class ReaderCounters:
    """Counts of a reader's work since its last restart.

    ``rows_read`` counts rows yielded in chunks (rejected rows excluded),
    ``lines_skipped`` blank and comment lines, and ``bytes_read`` the bytes
    read from disk (compressed bytes for a gzip file).
    """

    rows_read: int = 0
    rows_rejected: int = 0
    bytes_read: int = 0
    chunks: int = 0
    lines_skipped: int = 0


@runtime_checkable
class Reader(Protocol):
    """A source of conformed chunks that can restart from the beginning.

    ``schema`` lists the physical columns the reader produces. Each call of
    ``chunks()`` starts from the beginning and clears ``counters`` and
    ``rejected``. ``size_hint()`` is the total size in ``size_unit`` ('bytes'
    for files, 'rows' for in-memory data), or None when unknown, and
    ``position()`` how much of it has been consumed.
    """

    name: str
    schema: Schema
    rejected: RejectedRows
    counters: ReaderCounters
    chunk_rows: int

    @property
    def size_unit(self) -> Literal["bytes", "rows"]: ...

    def chunks(self) -> Iterator[pd.DataFrame]: ...

    def size_hint(self) -> int | None: ...

    def position(self) -> int: ...


class CountingFile:
    """A binary file, gzip-decompressed when its name ends in '.gz', that counts bytes.

    ``position`` is the offset in the file on disk, so for gzip input it
    counts compressed bytes, matching the file size used as the size hint.
    A gzip file that is cut short or damaged is read up to the damage: the
    data decompressed before it is returned, then end of file, and
    ``damage`` describes what went wrong. With ``text`` set, the data
    returned stops after the last whole line, and the cut line goes to
    ``damage.tail`` instead.
    """

    def __init__(self, path: Path, *, text: bool = False) -> None:
        self.path = path
        try:
            self._raw: BinaryIO = path.open("rb")
        except OSError as exc:
            message = f"cannot open '{path}': {exc.strerror or exc}"
            raise SourceError(message) from exc
        self._gzip = _GzipStream(self._raw, path, text) if path.suffix == ".gz" else None
        #: Called once, at the first read that returns no data.
        self.on_end: Callable[[], None] | None = None

    def read(self, size: int) -> bytes:
        try:
            data = self._gzip.read(size) if self._gzip is not None else self._raw.read(size)
        except OSError as exc:
            message = f"cannot read '{self.path}': {exc.strerror or exc}"
            raise SourceError(message) from exc
        if not data and size > 0 and self.on_end is not None:
            on_end, self.on_end = self.on_end, None
            on_end()
        return data

    @property
    def raw(self) -> BinaryIO:
        """The file on disk, not decompressed."""
        return self._raw

    @property
    def position(self) -> int:
        return self._raw.tell()

    @property
    def damage(self) -> GzipDamage | None:
        """What cut a gzip file short, or None for an intact or uncompressed file."""
        return self._gzip.damage if self._gzip is not None else None

    def close(self) -> None:
        self._raw.close()


@dataclass(frozen=True)
class GzipDamage:
    """Where and why the decompressed data of a gzip file ends early.

    ``offset`` is the decompressed offset where the returned data ends.
    ``partial_line`` is the 1-based number of the line that the damage cuts
    short, or None when the data stops at a line end. ``tail`` holds the bytes
    of that line when the file is read as text, which are not returned.
    """

    reason: str
    offset: int
    partial_line: int | None
    tail: bytes = b""


class _GzipStream:
    """Decompress gzip members with zlib, keeping the data before any damage.

    ``gzip.GzipFile`` raises EOFError on a cut-off file and drops the data
    it decompressed in that read call, so this class reads the members
    itself. Like ``gzip``, it accepts several concatenated members and
    zero bytes of padding after the last one.
    """

    def __init__(self, raw: BinaryIO, path: Path, text: bool) -> None:
        self._raw = raw
        self._path = path
        self._text = text
        self._decompressor = zlib.decompressobj(wbits=_GZIP_WBITS)
        self._pending = b""
        self._input = b""
        self._member_started = False
        self._members_done = 0
        self._finished = False
        self._delivered = 0
        self._newlines = 0
        self._ends_in_newline = True
        self.damage: GzipDamage | None = None

    def read(self, size: int) -> bytes:
        while len(self._pending) < size and not self._finished:
            self._decompress_more(max(size, _GZIP_READ_BYTES))
        data = self._pending[:size]
        self._pending = self._pending[size:]
        if data:
            self._delivered += len(data)
            self._newlines += data.count(b"\n")
            self._ends_in_newline = data.endswith(b"\n")
        return data

    def _decompress_more(self, max_length: int) -> None:
        decompressor = self._decompressor
        if decompressor.eof:
            self._input = decompressor.unused_data
            self._decompressor = decompressor = zlib.decompressobj(wbits=_GZIP_WBITS)
            self._member_started = False
            self._members_done += 1
        if not self._input:
            self._input = self._raw.read(_GZIP_READ_BYTES)
            if not self._input:
                self._finished = True
                if self._member_started:
                    self._pending += decompressor.flush()
                if self._member_started and not decompressor.eof:
                    self._set_damage("the compressed file ends early, before its gzip trailer")
                return
        if not self._member_started and self._members_done:
            # Zero bytes after a member are padding, as in the gzip module.
            self._input = self._input.lstrip(b"\0")
            if not self._input:
                return
        self._member_started = True
        data, self._input = self._input, b""
        before = decompressor.copy()
        try:
            self._pending += decompressor.decompress(data, max_length)
        except zlib.error as exc:
            self._finished = True
            self._pending += _decompress_before_error(before, data)
            if self._delivered == 0 and not self._pending and not self._members_done:
                message = f"cannot read '{self._path}': not a valid gzip file ({exc})"
                raise SourceError(message) from exc
            self._set_damage(f"the compressed file is damaged: invalid gzip data ({exc})")
            return
        self._input = decompressor.unconsumed_tail

    def _set_damage(self, reason: str) -> None:
        # The damage lies after the data still pending, so count it in.
        offset = self._delivered + len(self._pending)
        newlines = self._newlines + self._pending.count(b"\n")
        last = self._pending[-1:] if self._pending else (b"" if self._ends_in_newline else b"x")
        partial = newlines + 1 if offset and last not in (b"", b"\n") else None
        tail = b""
        if self._text and partial is not None:
            # NOTE: when the cut line began in data already returned, only its rest is held back.
            cut = self._pending.rfind(b"\n") + 1
            tail = self._pending[cut:]
            self._pending = self._pending[:cut]
            offset -= len(tail)
        reason = (
            f"{reason}, after {self._delivered + len(self._pending) + len(tail)} decompressed bytes"
        )
        self.damage = GzipDamage(reason, offset, partial, tail)


def _decompress_before_error(decompressor: Any, data: bytes) -> bytes:
    """Return what ``decompressor`` yields from ``data`` before the piece that fails.

    zlib raises without returning the output of the failing call, so the
    input is fed again in small pieces to recover the output before the error.
    """
    output = []
    for start in range(0, len(data), _GZIP_RETRY_BYTES):
        try:
            output.append(decompressor.decompress(data[start : start + _GZIP_RETRY_BYTES]))
        except zlib.error:
            break
        if decompressor.eof:
            break
    return b"".join(output)


class FileReader:
    """Base of the readers of one or more files in a fixed order.

    Subclasses implement ``_read_file``, which yields raw chunks already
    conformed with :meth:`_conform`. This class splits them to at most
    ``chunk_rows`` rows, updates the counters, and tracks the position.
    With ``positions`` set, chunks carry each row's line or offset (and file,
    when there are several) in hidden columns, for the scan's rejected rows.
    """

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        conform_options: ConformOptions | None = None,
    ) -> None:
        if chunk_rows < 1:
            message = f"chunk_rows must be at least 1, got {chunk_rows}"
            raise ValueError(message)
        self.name = name
        self.paths = list(paths)
        self.schema = schema
        self.chunk_rows = chunk_rows
        self.conform_options = conform_options or ConformOptions()
        self.rejected = RejectedRows(name)
        self.counters = ReaderCounters()
        self.positions = False
        #: Whether records end with a newline, so that a damaged gzip file
        #: can drop the line it cuts short.
        self.text_records = True
        self._done_bytes = 0
        self._rejected_at_end = 0
        self._current: CountingFile | None = None

    @property
    def size_unit(self) -> Literal["bytes", "rows"]:
        return "bytes"

    def size_hint(self) -> int | None:
        return sum(_file_size(path) for path in self.paths)

    def position(self) -> int:
        return self._done_bytes + self._file_position()

    def _file_position(self) -> int:
        """Return how many bytes of the current file have been consumed."""
        return self._current.position if self._current is not None else 0

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield conformed chunks of all files from the beginning."""
        self.counters = ReaderCounters()
        self.rejected.clear()
        self._done_bytes = 0
        logger.debug("%s: reading %d file(s)", self.name, len(self.paths))
        for path in self.paths:
            self._current = file = CountingFile(path, text=self.text_records)
            self._rejected_at_end = len(self.rejected)
            file.on_end = self._mark_end
            try:
                for frame in self._read_file(file):
                    yield from self._split(frame)
                if file.damage is not None:
                    self._reject_damage(file, file.damage, self._rejected_at_end)
            finally:
                self._done_bytes += _file_size(path)
                self._current.close()
                self._current = None
        self.counters.bytes_read = self._done_bytes
        logger.debug(
            "%s: read %d rows, rejected %d, skipped %d lines",
            self.name,
            self.counters.rows_read,
            self.counters.rows_rejected,
            self.counters.lines_skipped,
        )

    def _split(self, frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
        for start in range(0, len(frame), self.chunk_rows):
            chunk = frame.iloc[start : start + self.chunk_rows]
            if start > 0 or len(chunk) < len(frame):
                chunk = chunk.reset_index(drop=True)
            self.counters.rows_read += len(chunk)
            self.counters.chunks += 1
            self.counters.bytes_read = self.position()
            yield chunk

    def _read_file(self, file: CountingFile) -> Iterator[pd.DataFrame]:
        raise NotImplementedError

    def _conform(
        self,
        frame: pd.DataFrame,
        file: CountingFile,
        *,
        lines: np.ndarray | None = None,
        offsets: np.ndarray | None = None,
        raw: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Conform a parsed frame; rejected rows name the file when there are several."""
        before = len(self.rejected)
        result = conform(
            frame,
            self.schema,
            self.rejected,
            lines=lines,
            offsets=offsets,
            raw=raw,
            options=self.conform_options,
            positions=self.positions,
            file=file.path.name if len(self.paths) > 1 else None,
        )
        self._after_reject(before, file)
        return result

    def _mark_end(self) -> None:
        self._rejected_at_end = len(self.rejected)

    def _reject_damage(self, file: CountingFile, damage: GzipDamage, at_end: int) -> None:
        """Reject the end of a damaged gzip file as one entry.

        When the reader already rejected the record that the damage cuts
        short, that entry gets the damage reason in front of its own, so the
        damage is reported once. ``at_end`` is the count of rejected rows when
        the file returned its last data.
        """
        rows = self.rejected.rows
        prefix = f"{file.path.name}: " if len(self.paths) > 1 else ""
        for index in range(len(rows) - 1, at_end - 1, -1):
            source, line, offset, reason, raw = rows[index]
            # Text readers place a row by line, binary readers by offset.
            cut = line == damage.partial_line if line is not None else offset is not None
            if cut:
                own = reason.removeprefix(prefix)
                rows[index] = (source, line, offset, f"{prefix}{damage.reason}; {own}", raw)
                return
        before = len(self.rejected)
        raw = damage.tail.decode("utf-8", errors="backslashreplace")
        self.rejected.add(damage.reason, raw, line=damage.partial_line, offset=damage.offset)
        self._after_reject(before, file)

    def _sort_rejected(self, before: int) -> None:
        """Sort the rejected rows added since ``before`` by line, then offset."""
        rows = self.rejected.rows
        rows[before:] = sorted(rows[before:], key=lambda row: (row[1] or 0, row[2] or 0))

    def _after_reject(self, before: int, file: CountingFile) -> None:
        """Count rejected rows added since ``before`` and name the file in them."""
        added = len(self.rejected) - before
        if added == 0:
            return
        self.counters.rows_rejected += added
        if len(self.paths) > 1:
            rows = self.rejected.rows
            for index in range(before, len(rows)):
                source, line, offset, reason, raw = rows[index]
                rows[index] = (source, line, offset, f"{file.path.name}: {reason}", raw)


def warn_missing_columns(source: str, path: Path, names: list[str], schema: Schema) -> None:
    """Log a warning for schema columns that a file lacks; they read as NULL."""
    exact = set(names)
    lowered = {name.lower() for name in names}
    missing = [
        column.name
        for column in schema
        if column.name not in exact and column.name.lower() not in lowered
    ]
    if missing:
        logger.warning(
            "%s: %s lacks the columns %s, which read as NULL (its columns: %s)",
            source,
            path,
            ", ".join(missing),
            ", ".join(names),
        )


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
