"""The reader protocol, its counters and the base class of file readers."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from workbench.errors import SourceError
from workbench.events.conform import ConformOptions, conform
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 65_536


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
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._raw: BinaryIO = path.open("rb")
        except OSError as exc:
            message = f"cannot open '{path}': {exc.strerror or exc}"
            raise SourceError(message) from exc
        self._stream: BinaryIO = self._raw
        if path.suffix == ".gz":
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]

    def read(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except (OSError, EOFError) as exc:
            message = f"cannot read '{self.path}': {exc}"
            raise SourceError(message) from exc

    @property
    def raw(self) -> BinaryIO:
        """The file on disk, not decompressed."""
        return self._raw

    @property
    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._stream.close()
        self._raw.close()


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
        self._done_bytes = 0
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
            self._current = CountingFile(path)
            try:
                for frame in self._read_file(self._current):
                    yield from self._split(frame)
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
