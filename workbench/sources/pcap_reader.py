"""pcap and pcapng reader: captured traffic as one typed, nested row per packet or per flow.

The connector is ``'connector' = 'pcap'`` (``'format' = 'pcapng'`` is
accepted too). pcap (either byte order, microsecond or nanosecond
timestamps) and pcapng are detected by their magic bytes, never by the
file name. Options:

``pcap.records``
    'packets' (default): one row per packet with the columns of
    :data:`~workbench.sources.packets.schema.PACKET_SCHEMA`. 'flows': one
    row per bidirectional flow, written when the flow ends, with the columns
    of :data:`~workbench.sources.packets.schema.FLOW_SCHEMA`.
``pcap.flow-timeout``
    idle time after which a flow ends (default '1 min').
``pcap.max-captured-length``
    largest captured packet length taken as genuine, in bytes (default
    262144, libpcap's limit). A longer record means the file is damaged.

A file that does not start with a capture's magic number raises
SourceError. Damage inside a capture (a cut record, an impossible length)
ends the file with one rejected entry at the damaged byte offset, after
every packet before it. Packets whose headers are cut or malformed are
still rows, with the reason in ``decode_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import SourceError
from workbench.events.conform import conform
from workbench.events.rejected import with_positions
from workbench.events.schema import Schema
from workbench.events.time import parse_duration
from workbench.sources.flows import FlowTracker
from workbench.sources.packets.capture import (
    DEFAULT_BLOCK_BYTES,
    DEFAULT_MAX_CAPTURED_LENGTH,
    open_capture,
)
from workbench.sources.packets.frame import packet_frame
from workbench.sources.packets.schema import FLOW_SCHEMA, PACKET_SCHEMA
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, CountingFile, FileReader, Reader

logger = logging.getLogger(__name__)

RECORDS_OPTION = "pcap.records"
FLOW_TIMEOUT_OPTION = "pcap.flow-timeout"
MAX_CAPTURED_LENGTH_OPTION = "pcap.max-captured-length"
PCAP_OPTIONS = frozenset({RECORDS_OPTION, FLOW_TIMEOUT_OPTION, MAX_CAPTURED_LENGTH_OPTION})
RECORD_KINDS = ("packets", "flows")
DEFAULT_FLOW_TIMEOUT = "1 min"
#: Default bounded out-of-orderness of ``ts``. A one-interface capture is in
#: time order. A capture of several interfaces interleaves packets from
#: separate buffers, so a packet can be stamped earlier than the one written
#: before it. NOTE: 1 s is an estimate of that spread, not a measured bound.
PCAP_WATERMARK_DELAY = "1 s"


def _records(options: Mapping[str, str]) -> str:
    value = options.get(RECORDS_OPTION, "packets").strip().lower()
    if value not in RECORD_KINDS:
        message = (
            f"invalid value {options[RECORDS_OPTION]!r} for option '{RECORDS_OPTION}': "
            "use 'packets' or 'flows'"
        )
        raise SourceError(message)
    return value


def _flow_timeout_ns(options: Mapping[str, str]) -> int:
    text = options.get(FLOW_TIMEOUT_OPTION)
    if text is None:
        return parse_duration(DEFAULT_FLOW_TIMEOUT)
    try:
        value = parse_duration(text)
    except ValueError as exc:
        message = f"invalid value {text!r} for option '{FLOW_TIMEOUT_OPTION}': {exc}"
        raise SourceError(message) from None
    if value <= 0:
        message = (
            f"invalid value {text!r} for option '{FLOW_TIMEOUT_OPTION}': "
            "use a positive duration such as '1 min'"
        )
        raise SourceError(message)
    return value


def _max_captured_length(options: Mapping[str, str]) -> int:
    text = options.get(MAX_CAPTURED_LENGTH_OPTION)
    if text is None:
        return DEFAULT_MAX_CAPTURED_LENGTH
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value <= 0:
        message = (
            f"invalid value {text!r} for option '{MAX_CAPTURED_LENGTH_OPTION}': "
            "use a positive number of bytes such as '262144'"
        )
        raise SourceError(message)
    return value


def validate_pcap_options(options: Mapping[str, str]) -> None:
    """Raise SourceError for an invalid pcap option."""
    _records(options)
    _flow_timeout_ns(options)
    _max_captured_length(options)


def pcap_schema(options: Mapping[str, str]) -> Schema:
    """Return the reader's columns: packets or flows, as 'pcap.records' selects."""
    return FLOW_SCHEMA if _records(options) == "flows" else PACKET_SCHEMA


def open_pcap(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    """Open a reader of capture files for a table's WITH options."""
    records = _records(options)
    if records == "flows" and FLOW_TIMEOUT_OPTION not in options:
        logger.info(
            "%s: flows end after %s without packets (default of '%s')",
            name,
            DEFAULT_FLOW_TIMEOUT,
            FLOW_TIMEOUT_OPTION,
        )
    return PcapReader(
        name,
        paths,
        schema,
        chunk_rows=chunk_rows,
        records=records,
        flow_timeout_ns=_flow_timeout_ns(options),
        max_captured_length=_max_captured_length(options),
    )


class PcapReader(FileReader):
    """Reads pcap and pcapng files (gzip-compressed when named '*.gz').

    Rows come out in file order, and ``frame`` restarts at 1 in each file.
    Rejected entries carry the byte offset of the record in its file (in the
    decompressed stream for gzip input). In flow mode, flows continue from
    one file to the next (as in a capture rotated into several files) and
    the flows still open end with the last file.
    """

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        records: str = "packets",
        flow_timeout_ns: int = 60_000_000_000,
        max_captured_length: int = DEFAULT_MAX_CAPTURED_LENGTH,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        super().__init__(name, paths, schema, chunk_rows=chunk_rows)
        self.text_records = False
        self.records = records
        self.flow_timeout_ns = flow_timeout_ns
        self.max_captured_length = max_captured_length
        self.block_bytes = block_bytes
        self._own = FLOW_SCHEMA if records == "flows" else PACKET_SCHEMA
        self._direct = _reads_directly(schema, self._own)
        self._applications = records == "packets" and any(
            column.name.lower() in {"dns", "http", "tls", "dhcp", "ftp", "decode_error"}
            for column in schema
        )
        self._flows: FlowTracker | None = None

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield conformed chunks of all files; in flow mode, then the flows still open."""
        if self.records != "flows":
            yield from super().chunks()
            return
        self._flows = FlowTracker(self.flow_timeout_ns)
        yield from super().chunks()
        remaining = self._flows.finish()
        if len(remaining):
            yield from self._split(self._select(remaining))

    def _read_file(self, file: CountingFile) -> Iterator[pd.DataFrame]:
        before = len(self.rejected)

        def reject(offset: int, reason: str, raw: bytes) -> None:
            self.rejected.add(reason, raw.hex(" "), offset=offset)

        walker = open_capture(
            file.read,
            str(file.path),
            reject,
            max_records=self.chunk_rows,
            max_captured_length=self.max_captured_length,
            block_bytes=self.block_bytes,
        )
        if walker is None:
            return
        for batch in walker.batches():
            self._after_reject(before, file)
            before = len(self.rejected)
            if self._flows is not None:
                frame = packet_frame(batch, applications=False)
                flows = self._flows.add(frame)
                if len(flows):
                    yield self._select(flows)
                continue
            frame = packet_frame(batch, applications=self._applications)
            yield self._packets(frame, file, batch.record_offsets)
        self._after_reject(before, file)

    def _packets(
        self, frame: pd.DataFrame, file: CountingFile, offsets: np.ndarray
    ) -> pd.DataFrame:
        if self._direct is None:
            return self._conform(frame, file, offsets=offsets)
        result = pd.DataFrame(
            {name: frame[source] for name, source in self._direct.items()},
            index=frame.index,
            copy=False,
        )
        if self.positions:
            result = with_positions(
                result,
                offsets=offsets,
                file=file.path.name if len(self.paths) > 1 else None,
            )
        return result

    def _select(self, flows: pd.DataFrame) -> pd.DataFrame:
        if self._direct is not None:
            return pd.DataFrame(
                {name: flows[source] for name, source in self._direct.items()},
                index=flows.index,
                copy=False,
            )
        before = len(self.rejected)
        result = conform(flows, self.schema, self.rejected, options=self.conform_options)
        self.counters.rows_rejected += len(self.rejected) - before
        return result


def _reads_directly(schema: Schema, own: Schema) -> dict[str, str] | None:
    """Map each requested column to the reader's column of the same type, or None when one differs.

    Names match exactly, then case-insensitively, as in :func:`conform`.
    """
    by_name = {column.name: column for column in own}
    by_lower = {column.name.lower(): column for column in own}
    mapping: dict[str, str] = {}
    for column in schema:
        source = by_name.get(column.name) or by_lower.get(column.name.lower())
        if source is None or source.type != column.type:
            return None
        mapping[column.name] = source.name
    return mapping
