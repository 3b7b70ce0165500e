"""Mutated bytes of real files, and reading them through a connector without crashing.

A reader meets truncated downloads, editors that saved half a line, and
binary junk. :func:`mutated_bytes` draws such damage from a real file's
bytes; :func:`read_mutated` reads the result the way a table would. A reader
passes when it returns rows and rejected records, or raises
:class:`~workbench.errors.SourceError` for a file it cannot open at all; any
other exception is a crash. Readers of every format can share these two.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from hypothesis import strategies as st

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.read import FileContents, read_file

#: Bytes that damage text formats most: separators, quotes, line ends, NUL, invalid UTF-8.
SPECIAL_BYTES = b",;\"'\\{}[]:\n\r\t\x00\xff\xc3"


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes, max_edits: int = 4) -> bytes:
    """Return ``data`` after 1 to ``max_edits`` edits: byte changes, deletions, insertions,
    repeated slices, or a cut end."""
    result = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "repeat", "truncate"]))
        size = len(result)
        position = draw(st.integers(0, max(0, size - 1)))
        if kind == "replace" and size:
            byte = draw(st.one_of(st.sampled_from(list(SPECIAL_BYTES)), st.integers(0, 255)))
            result[position] = byte
        elif kind == "delete" and size:
            length = draw(st.integers(1, 32))
            del result[position : position + length]
        elif kind == "insert":
            extra = draw(st.one_of(st.binary(min_size=1, max_size=8), st.just(b"\n")))
            result[position:position] = extra
        elif kind == "repeat" and size:
            length = draw(st.integers(1, 64))
            result[position:position] = result[position : position + length]
        elif kind == "truncate":
            del result[position:]
    return bytes(result)


def read_mutated(
    data: bytes,
    connector: str,
    suffix: str,
    options: Mapping[str, str] | None = None,
    *,
    schema: Schema | None = None,
) -> FileContents | SourceError:
    """Write ``data`` to a temporary file and read it whole; return the rows or the SourceError.

    Any other exception propagates: that is the crash the property looks for.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"mutated{suffix}"
        path.write_bytes(data)
        try:
            return read_file(path, connector, options, schema=schema)
        except SourceError as error:
            return error
