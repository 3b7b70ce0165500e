"""File sinks: CSV, JSON lines and Parquet, each writing one file.

'sink.mode' = 'overwrite' (the default) truncates the file on open, and
'append' adds to it. A CSV header is written only to an empty file, and an
appended Parquet file is rewritten with the new rows after the old ones.
Parent directories are created.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import BinaryIO, Literal

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.sinks.arrow_types import arrow_schema, arrow_table
from workbench.sinks.base import BaseSink
from workbench.sinks.formatting import nested_default, python_column, text_column

SinkMode = Literal["overwrite", "append"]
SINK_MODES: tuple[SinkMode, ...] = ("overwrite", "append")


class _FileSink(BaseSink):
    errors = (OSError, ValueError, TypeError, pa.ArrowException, orjson.JSONEncodeError)

    def __init__(self, name: str, path: Path, *, mode: SinkMode = "overwrite") -> None:
        super().__init__(name)
        if mode not in SINK_MODES:
            message = f"sink '{name}': invalid sink.mode {mode!r}: use 'overwrite' or 'append'"
            raise SinkError(message)
        self.path = path
        self.mode = mode
        self._file: BinaryIO | None = None

    def _open_file(self) -> BinaryIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("ab" if self.mode == "append" else "wb")
        return self._file

    @property
    def file(self) -> BinaryIO:
        assert self._file is not None
        return self._file

    @property
    def bytes_written(self) -> int:
        """Size of the file so far, counting bytes still in the write buffer."""
        return self._file.tell() if self._file is not None else 0

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class CsvSink(_FileSink):
    """Writes CSV with a header row and timestamps as 'YYYY-MM-DD HH:MM:SS.fff'."""

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        mode: SinkMode = "overwrite",
        delimiter: str = ",",
        header: bool = True,
        null_literal: str = "",
    ) -> None:
        super().__init__(name, path, mode=mode)
        self.delimiter = delimiter
        self.header = header
        self.null_literal = null_literal

    def _open(self, schema: Schema) -> None:
        file = self._open_file()
        if self.header and file.tell() == 0:
            text = io.StringIO()
            csv.writer(text, delimiter=self.delimiter, lineterminator="\n").writerow(schema.names)
            file.write(text.getvalue().encode())

    def _write(self, frame: pd.DataFrame) -> None:
        arrays = [text_column(frame[c.name], c.type) for c in self.schema]
        table = pa.Table.from_arrays(arrays, names=self.schema.names)
        options = pa_csv.WriteOptions(
            include_header=False, delimiter=self.delimiter, null_string=self.null_literal
        )
        pa_csv.write_csv(table, self.file, options)


class JsonLinesSink(_FileSink):
    """Writes one JSON object per row, with nested values as JSON and timestamps as text."""

    def _open(self, schema: Schema) -> None:
        del schema
        self._open_file()

    def _write(self, frame: pd.DataFrame) -> None:
        names = self.schema.names
        columns = [python_column(frame[c.name], c.type, nested_as_text=False) for c in self.schema]
        option = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
        lines = [
            orjson.dumps(dict(zip(names, row, strict=True)), default=nested_default, option=option)
            for row in zip(*columns, strict=True)
        ]
        self.file.write(b"".join(lines))


class ParquetSink(_FileSink):
    """Writes one Parquet file with ``pyarrow.parquet.ParquetWriter``.

    A Parquet file cannot grow in place, so 'append' writes a new file beside
    the old one, copying the old row groups first (one at a time, in bounded
    memory), and replaces the old file when the sink closes. Until then the
    old file stays as it was.
    """

    def __init__(self, name: str, path: Path, *, mode: SinkMode = "overwrite") -> None:
        super().__init__(name, path, mode=mode)
        self._writer: pq.ParquetWriter | None = None
        self._staging: Path | None = None

    def _open(self, schema: Schema) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        target = arrow_schema(schema)
        existing = self._existing_file()
        if existing is None:
            self._writer = pq.ParquetWriter(self.path, target)
            return
        if existing.schema_arrow.names != target.names:
            message = (
                f"sink '{self.name}': cannot append to {self.path}: its columns "
                f"({', '.join(existing.schema_arrow.names)}) differ from the table's "
                f"({', '.join(target.names)})"
            )
            raise SinkError(message)
        staging = self.path.with_name(f".{self.path.name}.appending")
        writer = pq.ParquetWriter(staging, target)
        try:
            for group in range(existing.num_row_groups):
                writer.write_table(existing.read_row_group(group).cast(target))
        except BaseException:
            writer.close()
            staging.unlink(missing_ok=True)
            raise
        self._writer, self._staging = writer, staging

    def _existing_file(self) -> pq.ParquetFile | None:
        """Return the file to append to, or None when there is none (or mode is overwrite)."""
        if self.mode != "append" or not self.path.exists() or self.path.stat().st_size == 0:
            return None
        return pq.ParquetFile(self.path)

    @property
    def bytes_written(self) -> int:
        """Size of the file on disk: the row groups written so far, without the footer."""
        target = self._staging or self.path
        return target.stat().st_size if self._writer is not None and target.exists() else 0

    def _write(self, frame: pd.DataFrame) -> None:
        assert self._writer is not None
        self._writer.write_table(arrow_table(frame, self.schema))

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._staging is not None:
            self._staging.replace(self.path)
            self._staging = None
