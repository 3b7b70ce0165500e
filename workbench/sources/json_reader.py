"""JSON lines reader: one JSON object per line, nested values kept as dict and list."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from workbench.events.conform import ConformOptions
from workbench.events.convert import paused_gc
from workbench.events.convert_nested import field_values
from workbench.events.schema import Schema
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, CountingFile, FileReader
from workbench.sources.records import (
    DEFAULT_BLOCK_BYTES,
    Block,
    RecordTexts,
    iter_blocks,
    record_text,
)

logger = logging.getLogger(__name__)

_JSON_TYPES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


#: A run of 20 digits: a number that may not fit in 64 bits.
_LONG_NUMBER = re.compile(rb"\d{20}")


def _loads_exact(line: bytes) -> Any:
    """Parse one JSON value, keeping integers beyond 64 bits exact.

    orjson turns such an integer into a float (99999999999999999999999 becomes
    1e+23), so a line with a long run of digits is parsed again with the
    standard library, whose integers have no size limit. A rejected value then
    shows as written.
    """
    value = orjson.loads(line)
    if _LONG_NUMBER.search(line):
        return json.loads(line)
    return value


class JsonLinesReader(FileReader):
    """Reads JSON lines files (gzip-compressed when named '*.gz') with orjson.

    A line that is not valid JSON or not an object is rejected with its line
    number and the parser's message. Blank lines are skipped and counted in
    ``counters.lines_skipped``. Schema columns match keys exactly, then
    case-insensitively.
    """

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        conform_options: ConformOptions | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        super().__init__(
            name, paths, schema, chunk_rows=chunk_rows, conform_options=conform_options
        )
        self.block_bytes = block_bytes

    def _read_file(self, file: CountingFile) -> Iterator[pd.DataFrame]:
        for block in iter_blocks(file, block_bytes=self.block_bytes):
            before = len(self.rejected)
            with paused_gc():
                objects, records = self._parse(block)
                self._after_reject(before, file)
                if not objects:
                    continue
                frame = self._frame(objects)
                lines = block.index.lines[records]
                raw = RecordTexts(block.data, block.index, records)
                result = self._conform(frame, file, lines=lines, raw=raw)
            self._sort_rejected(before)
            yield result

    def _parse(self, block: Block) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Return the objects of a block and the record of each object."""
        lines = block.data.split(b"\n")[: len(block.index)]
        loads = _loads_exact if _LONG_NUMBER.search(block.data) else orjson.loads
        try:
            objects = [loads(line) for line in lines]
        except orjson.JSONDecodeError:
            return self._parse_each(block, lines)
        if set(map(type, objects)) != {dict}:
            return self._parse_each(block, lines)
        return objects, np.arange(len(objects), dtype=np.int64)

    def _parse_each(
        self, block: Block, lines: list[bytes]
    ) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Parse line by line to find the blank, invalid and non-object lines."""
        objects: list[dict[str, Any]] = []
        records: list[int] = []
        skipped = 0
        for record, line in enumerate(lines):
            try:
                value = _loads_exact(line)
            except orjson.JSONDecodeError as exc:
                if not line.strip():
                    skipped += 1
                    continue
                self._reject(block, record, f"invalid JSON: {_json_message(exc)}")
                continue
            if not isinstance(value, dict):
                kind = _JSON_TYPES.get(type(value), type(value).__name__)
                self._reject(block, record, f"expected a JSON object, found {kind}")
                continue
            objects.append(value)
            records.append(record)
        if skipped:
            self.counters.lines_skipped += skipped
            logger.debug("%s: skipped %d blank lines", self.name, skipped)
        return objects, np.array(records, dtype=np.int64)

    def _reject(self, block: Block, record: int, reason: str) -> None:
        text = record_text(block.data, block.index, record)
        self.rejected.add(reason, text, line=int(block.index.lines[record]))

    def _frame(self, objects: list[dict[str, Any]]) -> pd.DataFrame:
        """Return one object column per schema column, matched by key."""
        keys: set[str] = set().union(*objects)
        columns = {
            column.name: pd.Series(field_values(objects, column.name, keys), dtype=object)
            for column in self.schema
        }
        return pd.DataFrame(columns, index=pd.RangeIndex(len(objects)))


def _json_message(error: orjson.JSONDecodeError) -> str:
    """Return the parser's message without its 'line 1', since each record is one line."""
    return _LINE_ONE.sub(r"column \1", str(error))


_LINE_ONE = re.compile(r"line 1 column (\d+) \(char \d+\)")
