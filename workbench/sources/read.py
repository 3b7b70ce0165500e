"""Read a whole file through any connector, for Python users and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.reader import ReaderCounters
from workbench.sources.registry import open_reader, reader_schema


@dataclass
class FileContents:
    """Every row of a file, the rows its reader rejected, and the reader's counters.

    ``rejected`` has the columns source, line, offset, reason and raw.
    """

    rows: pd.DataFrame
    rejected: pd.DataFrame
    counters: ReaderCounters
    schema: Schema


def read_file(
    path: str | Path,
    connector: str,
    options: Mapping[str, str] | None = None,
    *,
    schema: Schema | None = None,
) -> FileContents:
    """Read ``path`` with a connector's reader, as ``CREATE TABLE ... WITH`` would.

    ``options`` are the table's other WITH options, such as
    ``{'syslog.year': '2017'}``. A self-describing connector (pcap, zeek,
    syslog, access-log) supplies its own columns; the others need ``schema``.
    Raises SourceError for bad options or a file that cannot be opened; bad
    records do not raise but land in ``rejected``.

    >>> contents = read_file("capture.pcap", "pcap")  # doctest: +SKIP
    >>> contents.rows[["ts", "src_ip", "dst_port"]].head()  # doctest: +SKIP
    """
    settings = {**(options or {}), "connector": connector, "path": str(path)}
    if schema is None:
        own = reader_schema(settings)
        if own is None:
            message = (
                f"connector {connector!r} does not know its own columns: "
                "pass schema=Schema.of([...])"
            )
            raise SourceError(message)
        schema = own.schema
    reader = open_reader(Path(path).name, settings, schema, chunk_rows=1 << 20)
    chunks = list(reader.chunks())
    if chunks:
        rows = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    else:
        rows = schema.empty_frame()
    return FileContents(
        rows=rows, rejected=reader.rejected.to_pandas(), counters=reader.counters, schema=schema
    )
