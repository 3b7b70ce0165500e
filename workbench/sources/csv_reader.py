"""CSV reader: pyarrow's parser on blocks of whole records, exact line numbers.

The file is read in blocks cut after the last complete record (see
:mod:`workbench.sources.records`). pyarrow parses each block on one thread,
which makes its invalid-row handler report the row number within the block.
The block's record index turns that number into the physical line. All
columns are parsed as text and converted by :func:`~workbench.events.conform.conform`,
so a bad value rejects one row, not the whole block.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from workbench.events.conform import ConformOptions
from workbench.events.convert import from_arrow
from workbench.events.schema import Schema
from workbench.sources.reader import (
    DEFAULT_CHUNK_ROWS,
    CountingFile,
    FileReader,
    warn_missing_columns,
)
from workbench.sources.records import (
    DEFAULT_BLOCK_BYTES,
    Block,
    RecordTexts,
    iter_blocks,
    record_text,
)

logger = logging.getLogger(__name__)

_COMMENT = ord("#")
_STRING = pd.StringDtype("pyarrow")


@dataclass(frozen=True)
class CsvOptions:
    """The CSV dialect, with Flink's option names in the comments.

    ``header`` ('csv.header'): the first record names the columns; without it
    columns map to the schema by position. ``delimiter``
    ('csv.field-delimiter') and ``quote`` ('csv.quote-character') are single
    characters. A field equal to ``null_literal`` ('csv.null-literal') is NULL.
    ``allow_comments`` ('csv.allow-comments') skips lines starting with '#'.
    """

    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    null_literal: str | None = None
    allow_comments: bool = False


_ARROW_FIELD = re.compile(r"In CSV column #(\d+): Row #\d+: ")


def _arrow_message(error: Exception) -> str:
    """Return pyarrow's message with the field numbered from 1 and no row number."""
    return _ARROW_FIELD.sub(lambda match: f"field {int(match.group(1)) + 1}: ", str(error))


#: Characters of a skipped file's first line kept in its rejected row.
_MAX_RAW_CHARS = 200


def _text_problem(data: bytes, delimiter: str = ",", quote: str = '"') -> str | None:
    """Return why ``data`` is not CSV text (a NUL byte, invalid UTF-8), or None when it is.

    The reason names the field (counted from 1) of a record where the
    invalid UTF-8 starts.
    """
    if b"\x00" in data:
        return "binary data or text not in UTF-8 (a NUL byte)"
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            field = _field_number(data[: error.start], ord(delimiter), ord(quote))
            return f"field {field}: invalid UTF-8 data"
    return None


def _field_number(before: bytes, delimiter: int, quote: int) -> int:
    """Return the field (from 1) that the record text ``before`` ends in."""
    field, quoted = 1, False
    for byte in before:
        if byte == quote:
            quoted = not quoted
        elif byte == delimiter and not quoted:
            field += 1
    return field


@dataclass
class _Parsed:
    table: pa.Table
    records: np.ndarray  # the record of each table row, in the block's index


class CsvReader(FileReader):
    """Reads CSV files (gzip-compressed when named '*.gz') in bounded memory."""

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        csv_options: CsvOptions | None = None,
        conform_options: ConformOptions | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        super().__init__(
            name, paths, schema, chunk_rows=chunk_rows, conform_options=conform_options
        )
        self.csv = csv_options or CsvOptions()
        self.block_bytes = block_bytes

    def _read_file(self, file: CountingFile) -> Iterator[pd.DataFrame]:
        names: list[str] | None = None if self.csv.header else self.schema.names
        quote = ord(self.csv.quote)
        for block in iter_blocks(file, block_bytes=self.block_bytes, quote=quote):
            skip = self._skipped_records(block)
            if names is None:
                header = np.flatnonzero(~skip)
                if len(header) == 0:
                    continue
                names = self._header_names(block, int(header[0]), file)
                if names is None:
                    return
                skip[header[0]] = True
                warn_missing_columns(self.name, file.path, names, self.schema)
            records = np.flatnonzero(~skip)
            if len(records) == 0:
                continue
            before = len(self.rejected)
            parsed = self._parse(block, records, names, file)
            frame = self._conform_block(block, parsed, file)
            self._sort_rejected(before)
            yield frame

    def _skipped_records(self, block: Block) -> np.ndarray:
        """Return the mask of blank and comment records, and count them."""
        index = block.index
        skip = index.blank.copy()
        if self.csv.allow_comments and len(index):
            buffer = np.frombuffer(block.data, dtype=np.uint8)
            first = buffer[np.minimum(index.starts, max(len(buffer) - 1, 0))]
            skip |= ~index.blank & (first == _COMMENT)
        self.counters.lines_skipped += int(skip.sum())
        return skip

    def _header_names(self, block: Block, record: int, file: CountingFile) -> list[str] | None:
        """Return the column names of the header record, or None when the file is not CSV text.

        A file whose first record is binary (contains a NUL byte) or not valid
        CSV, such as a Parquet file in a directory of CSV files, is skipped: its
        first line is rejected with the reason, and the rest of the file is not
        read. Invalid UTF-8 in a header only makes the names it spoils unknown.
        """
        data = block.data[int(block.index.starts[record]) : int(block.index.stops[record])]
        text = record_text(block.data, block.index, record)
        reason = "binary data or text not in UTF-8 (a NUL byte)" if b"\x00" in data else None
        fields: list[str] = []
        if reason is None:
            try:
                fields = next(
                    csv.reader([text], delimiter=self.csv.delimiter, quotechar=self.csv.quote)
                )
            except csv.Error as error:
                reason = f"invalid CSV header: {error}"
        if reason is not None:
            before = len(self.rejected)
            self.rejected.add(
                f"not a CSV file, skipped: {reason}",
                text[:_MAX_RAW_CHARS],
                line=int(block.index.lines[record]),
            )
            self._after_reject(before, file)
            return None
        names: list[str] = []
        for field in fields:
            name = field.strip().lstrip("\ufeff")
            while name in names:
                name += "_"
            names.append(name)
        return names

    def _parse(
        self, block: Block, records: np.ndarray, names: list[str], file: CountingFile
    ) -> _Parsed:
        index = block.index
        first = int(records[0])
        between = np.zeros(len(index), dtype=bool)
        between[records] = True
        between[: first + 1] = True
        if (between | index.blank).all():
            data = block.data[int(index.starts[first]) :]
        else:
            # Comment lines sit among the records: pass the data records alone.
            parts = [block.data[int(index.starts[r]) : int(index.stops[r])] for r in records]
            data = b"\n".join(parts) + b"\n"

        if _text_problem(data) is not None:
            return self._parse_each(block, records, names, file)
        try:
            table, invalid = self._parse_bytes(data, names)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return self._parse_each(block, records, names, file)
        if table.num_rows + len(invalid) != len(records):
            # pyarrow split the records differently from the quote parity (a quote
            # inside an unquoted field), so its row numbers do not name records.
            return self._parse_each(block, records, names, file)

        before = len(self.rejected)
        for number, expected, actual in invalid:
            record = int(records[number - 1])
            reason = f"wrong number of fields: expected {expected}, found {actual}"
            self.rejected.add(
                reason, record_text(block.data, index, record), line=int(index.lines[record])
            )
        self._after_reject(before, file)
        remaining = np.delete(records, [number - 1 for number, _, _ in invalid])
        return _Parsed(table, remaining)

    def _parse_bytes(
        self, data: bytes, names: list[str]
    ) -> tuple[pa.Table, list[tuple[int, int, int]]]:
        """Parse CSV bytes; return the table and (row number, expected, actual) of bad rows."""
        invalid: list[tuple[int, int, int]] = []

        def skip_row(row: pa_csv.InvalidRow) -> str:
            invalid.append((row.number, row.expected_columns, row.actual_columns))
            return "skip"

        included = [name for name in names if name in self.schema]
        null_values = [] if self.csv.null_literal is None else [self.csv.null_literal]
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(
                column_names=names, use_threads=False, block_size=len(data) + 1
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=self.csv.delimiter,
                quote_char=self.csv.quote,
                newlines_in_values=True,
                invalid_row_handler=skip_row,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                include_columns=included,
                null_values=null_values,
                strings_can_be_null=self.csv.null_literal is not None,
            ),
        )
        return table, invalid

    def _parse_each(
        self, block: Block, records: np.ndarray, names: list[str], file: CountingFile
    ) -> _Parsed:
        """Parse record by record after the block failed as a whole (bad quoting, UTF-8)."""
        index = block.index
        tables: list[pa.Table] = []
        remaining: list[int] = []
        before = len(self.rejected)
        quote = self.csv.quote.encode()
        for record in records.tolist():
            data = block.data[int(index.starts[record]) : int(index.stops[record])] + b"\n"
            problem = _text_problem(data, self.csv.delimiter, self.csv.quote)
            if problem is not None:
                reason = f"invalid CSV record: {problem}"
            else:
                try:
                    table, invalid = self._parse_bytes(data, names)
                except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                    reason = f"invalid CSV record: {_arrow_message(exc)}"
                else:
                    if not invalid and table.num_rows == 1:
                        tables.append(table)
                        remaining.append(record)
                        continue
                    _, expected, actual = invalid[0] if invalid else (0, len(names), 0)
                    reason = f"wrong number of fields: expected {expected}, found {actual}"
                if data.count(quote) % 2:
                    reason = f"invalid CSV record: unbalanced quote character {self.csv.quote}"
            line = int(index.lines[record])
            self.rejected.add(reason, record_text(block.data, index, record), line=line)
        self._after_reject(before, file)
        logger.debug("%s: parsed a block of %d records one by one", self.name, len(records))
        if not tables:
            empty = pa.table({name: pa.array([], pa.large_string()) for name in names})
            return _Parsed(empty, np.array(remaining, dtype=np.int64))
        return _Parsed(pa.concat_tables(tables), np.array(remaining, dtype=np.int64))

    def _conform_block(self, block: Block, parsed: _Parsed, file: CountingFile) -> pd.DataFrame:
        table = parsed.table
        frame = pd.DataFrame(
            {
                name: from_arrow(table.column(name).combine_chunks(), _STRING)
                for name in table.column_names
            },
            index=pd.RangeIndex(table.num_rows),
        )
        if len(parsed.records) != table.num_rows:
            # The quote parity missed a record boundary, so lines are unknown.
            logger.debug("%s: %s: record count differs from row count", self.name, file.path)
            return self._conform(frame, file)
        lines = block.index.lines[parsed.records]
        raw = RecordTexts(block.data, block.index, parsed.records)
        return self._conform(frame, file, lines=lines, raw=raw)
