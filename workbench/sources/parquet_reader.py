"""Parquet reader: record batches in bounded memory, nested values as Python objects."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.errors import SourceError
from workbench.events.conform import ConformOptions
from workbench.events.convert import from_arrow
from workbench.events.schema import Schema
from workbench.sources.reader import (
    DEFAULT_CHUNK_ROWS,
    CountingFile,
    FileReader,
    warn_missing_columns,
)

logger = logging.getLogger(__name__)

_TIME_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def arrow_to_series(array: pa.Array) -> pd.Series:
    """Return a pyarrow array as a Series that :func:`conform` converts without loss.

    Structs become dicts, lists become lists and maps become lists of
    key-value pairs. TIME values become timedeltas since midnight.
    """
    kind = array.type
    if pa.types.is_dictionary(kind):
        return arrow_to_series(array.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return from_arrow(array.cast(pa.large_string()), pd.StringDtype("pyarrow"))
    if pa.types.is_boolean(kind):
        return from_arrow(array, pd.BooleanDtype())
    if pa.types.is_integer(kind):
        try:
            return from_arrow(array.cast(pa.int64()), pd.Int64Dtype())
        except pa.ArrowInvalid:
            return pd.Series(array.to_pylist(), dtype=object)
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return from_arrow(array.cast(pa.float64()), pd.Float64Dtype())
    if pa.types.is_timestamp(kind) or pa.types.is_duration(kind):
        return pd.Series(array.to_pandas())
    if pa.types.is_date(kind):
        return pd.Series(array.to_pandas(date_as_object=False))
    if pa.types.is_time(kind):
        ticks = array.cast(pa.int32() if pa.types.is_time32(kind) else pa.int64())
        nanoseconds = ticks.cast(pa.int64()).to_numpy(zero_copy_only=False)
        nanoseconds = np.where(array.is_null().to_numpy(zero_copy_only=False), 0, nanoseconds)
        values = pd.Series((nanoseconds * _TIME_UNIT_NS[kind.unit]).view("m8[ns]"))
        return values.mask(array.is_null().to_numpy(zero_copy_only=False))
    return pd.Series(array.to_pylist(), dtype=object)


class ParquetReader(FileReader):
    """Reads Parquet files batch by batch with ``ParquetFile.iter_batches``.

    Only the schema's columns are read; a column missing from a file is all
    null. Rejected rows carry their 0-based row offset within the file.
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
        super().__init__(
            name, paths, schema, chunk_rows=chunk_rows, conform_options=conform_options
        )
        self.text_records = False
        self._rows_done = 0
        self._rows_total = 0
        self._file_bytes = 0

    def _file_position(self) -> int:
        if self._current is None or self._rows_total == 0:
            return 0
        return self._file_bytes * self._rows_done // self._rows_total

    def _read_file(self, file: CountingFile) -> Iterator[pd.DataFrame]:
        try:
            # Without pre-buffering, pyarrow reads one column chunk at a time, so
            # memory stays bounded by the row group, not the file.
            parquet = pq.ParquetFile(file.raw, pre_buffer=False)
            available = parquet.schema_arrow.names
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            # A damaged footer can hold column names that are not UTF-8.
            message = f"cannot read '{file.path}' as Parquet: {exc}"
            raise SourceError(message) from exc
        columns = _matching_columns(available, self.schema)
        warn_missing_columns(self.name, file.path, available, self.schema)
        self._rows_done = 0
        self._rows_total = parquet.metadata.num_rows
        self._file_bytes = file.path.stat().st_size
        offset = 0
        batches = parquet.iter_batches(batch_size=self.chunk_rows, columns=columns or available[:1])
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
                # A damaged page or column chunk surfaces only when its batch is decoded.
                message = f"cannot read '{file.path}' as Parquet after row {offset}: {exc}"
                raise SourceError(message) from exc
            if batch is None:
                break
            length = batch.num_rows
            frame = pd.DataFrame(
                {name: arrow_to_series(batch.column(name)) for name in columns},
                index=pd.RangeIndex(length),
            )
            offsets = np.arange(offset, offset + length, dtype=np.int64)
            result = self._conform(frame, file, offsets=offsets)
            offset += length
            self._rows_done = offset
            yield result


def _matching_columns(available: list[str], schema: Schema) -> list[str]:
    """Return the file's columns that schema columns read from, exact names first."""
    exact = set(available)
    matched: list[str] = []
    for column in schema:
        if column.name in exact:
            matched.append(column.name)
            continue
        similar = [name for name in available if name.lower() == column.name.lower()]
        if len(similar) == 1:
            matched.append(similar[0])
    return list(dict.fromkeys(matched))
