"""Syslog messages of a live feed ('format' = 'syslog', 'rfc3164', 'rfc5424' or 'auth').

A UDP or TCP table with a syslog format has the columns of the 'syslog'
file connector (and of 'syslog-auth' for 'auth'), so it may omit its
column list. Each micro-batch of messages is parsed as the lines of one
small in-memory file by the syslog file reader, so both read the same
lines into the same rows. RFC 3164 times have no year: the current UTC
year is used unless 'syslog.year' is set.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from workbench.events.schema import Schema
from workbench.sources.reader import CountingFile
from workbench.sources.syslog_reader import (
    SYSLOG_FORMATS,
    SyslogReader,
    syslog_options,
    syslog_schema,
)

#: The values of 'format' that read syslog lines.
LIVE_SYSLOG_FORMATS = SYSLOG_FORMATS


def live_syslog_schema(options: Mapping[str, str]) -> Schema | None:
    """Return the syslog columns when 'format' is a syslog format, else None."""
    if options.get("format") not in LIVE_SYSLOG_FORMATS:
        return None
    return syslog_schema(options)


class _MemoryFile(CountingFile):
    """The lines of one micro-batch, read by the file reader as if they were a file."""

    # CountingFile.__init__ opens ``path``, so this sets the attributes it sets instead.
    def __init__(self, name: str, data: bytes) -> None:
        self.path = Path(name)
        self._raw = io.BytesIO(data)
        self._gzip = None
        self.on_end = None


class SyslogLines:
    """Parses the lines of micro-batches with the syslog file reader."""

    def __init__(self, name: str, schema: Schema, options: Mapping[str, str]) -> None:
        self.name = name
        self.reader = SyslogReader(name, [], schema, syslog_options=syslog_options(options))

    def parse(self, lines: list[bytes]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
        """Return the rows of ``lines`` and, per rejected line, its index and the reason."""
        data = b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n"
        rejected = self.reader.rejected
        before = len(rejected)
        frames = list(self.reader._read_file(_MemoryFile(self.name, data)))
        failures = [((line or 1) - 1, reason) for _, line, _, reason, _ in rejected.rows[before:]]
        del rejected.rows[before:]
        if not frames:
            return self.reader.schema.empty_frame(), failures
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return frame, failures
