"""Packets from a capture that is still being written: standard input or a named pipe.

``'connector' = 'pcap-stream'`` with ``'path' = '-'`` reads standard input,
so ``tcpdump -U -w - | workbench run rules.sql`` runs rules on packets as
they are captured. Any other 'path' is a named pipe (or a file), read to its
end. The rows have the columns of the 'pcap' connector's packets, and the
capture may be pcap or pcapng. A thread of its own reads the stream, so
blocking reads never stop the event loop, and decodes the packets as soon
as whole records have arrived. The feed ends at the end of the stream.
Damage in the stream ends it with one rejected entry at the byte offset.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.live.options import LiveOptions, LiveSpec, parse_integer
from workbench.sources.live.python_source import PythonSource
from workbench.sources.packets.capture import DEFAULT_MAX_CAPTURED_LENGTH, open_capture
from workbench.sources.packets.frame import packet_frame

logger = logging.getLogger(__name__)

#: Bytes asked of the pipe per read; a read returns what has arrived, up to this.
READ_BYTES = 1 << 16
_APPLICATION_COLUMNS = {"dns", "http", "tls", "dhcp", "ftp", "decode_error"}


class PcapStreamSource(PythonSource):
    """Packets of a pcap or pcapng stream on standard input or a named pipe."""

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        self.path = options.text("path")
        text = options.values.get("pcap.max-captured-length")
        self.max_captured_length = (
            DEFAULT_MAX_CAPTURED_LENGTH
            if text is None
            else parse_integer("pcap.max-captured-length", text, minimum=1)
        )
        self.applications = any(column.name.lower() in _APPLICATION_COLUMNS for column in schema)
        self._descriptor: int | None = None
        self._offset = 0

    @property
    def stream_name(self) -> str:
        return "standard input" if self.path == "-" else self.path

    def peer_name(self) -> str:
        return f"pcap {self.stream_name}"

    async def start(self) -> None:
        if self.path == "-":
            self._descriptor = sys.stdin.fileno()
        else:
            try:
                self._descriptor = os.open(Path(self.path).expanduser(), os.O_RDONLY)
            except OSError as error:
                message = f"cannot open '{self.path}' for '{self.name}': {error.strerror or error}"
                raise SourceError(message) from error
        self.items = self._packets()
        await super().start()
        logger.info("%s: reading a capture from %s", self.name, self.stream_name)

    def _read(self, size: int) -> bytes:
        """Return the bytes that have arrived (at least one, unless the stream ended)."""
        assert self._descriptor is not None
        data = os.read(self._descriptor, max(size, READ_BYTES))
        self._offset += len(data)
        return data

    def _reject_damage(self, offset: int, reason: str, raw: bytes) -> None:
        """Keep damage found by the capture walker (on the reading thread)."""
        self.rejected.add(f"{self.stream_name}: {reason}", raw.hex(" "), offset=offset)
        self.stats.rows_rejected += 1

    # TODO: read flows too ('pcap.records' = 'flows'), with the flow tracker of
    # the pcap reader ending idle flows on the stream's time.
    def _packets(self) -> Iterator[pd.DataFrame]:
        walker = open_capture(
            self._read,
            self.stream_name,
            self._reject_damage,
            max_records=self.options.batch_max_rows,
            max_captured_length=self.max_captured_length,
            block_bytes=1,
        )
        if walker is None:
            return
        for batch in walker.batches():
            self.stats.bytes_read = self._offset
            yield packet_frame(batch, applications=self.applications)

    async def close(self) -> None:
        await super().close()
        if self._descriptor is not None and self.path != "-":
            os.close(self._descriptor)
            self._descriptor = None
