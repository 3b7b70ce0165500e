"""Walk the records of pcap and pcapng files into arrays, one batch of packets at a time.

The walk visits each record header once in Python and keeps only where the
record starts. Timestamps, lengths and interface numbers are then read for
the whole batch at once with numpy. The file format is detected from its
first four bytes, never from the file name.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import numpy as np

from workbench.errors import SourceError

logger = logging.getLogger(__name__)

#: Largest captured length that is not taken as damage, as in libpcap (MAXIMUM_SNAPLEN).
DEFAULT_MAX_CAPTURED_LENGTH = 262_144
#: Bytes read from the file at a time: a batch of packets comes from about this much data.
DEFAULT_BLOCK_BYTES = 8 << 20
#: Zero bytes after a batch's data, so fixed-size reads at a guarded position stay in bounds.
PADDING = 64

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
#: pcap magic numbers as stored: byte order of the file and nanoseconds per timestamp fraction unit.
PCAP_MAGICS: dict[bytes, tuple[str, int]] = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
PCAP_HEADER_BYTES = 24
PCAP_RECORD_HEADER_BYTES = 16

#: Link types (LINKTYPE_* numbers of the tcpdump.org list) by the names the reader reports.
LINK_TYPE_NAMES: dict[int, str] = {
    0: "null",
    1: "ethernet",
    6: "ieee802_5",
    9: "ppp",
    10: "fddi",
    12: "raw",
    14: "raw",
    101: "raw",
    105: "ieee802_11",
    108: "loop",
    113: "linux_sll",
    127: "ieee802_11_radiotap",
    228: "ipv4",
    229: "ipv6",
    276: "linux_sll2",
}

_BLOCK_SHB = 0x0A0D0D0A
_BLOCK_IDB = 1
_BLOCK_OPB = 2
_BLOCK_SPB = 3
_BLOCK_EPB = 6
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPTION_END = 0
_OPTION_IF_NAME = 2
_OPTION_IF_TSRESOL = 9
_OPTION_IF_TSOFFSET = 14
_MIN_EPB_BYTES = 32
#: Largest block other than a packet block (name resolution, decryption secrets) taken as genuine.
_MAX_OTHER_BLOCK = 16 << 20


def link_type_name(link: int) -> str:
    """Return the reader's name for a link type, or its number as text when unknown."""
    return LINK_TYPE_NAMES.get(link, str(link))


@dataclass(frozen=True)
class Interface:
    """An interface of a capture: pcap has one, a pcapng section one per IDB.

    ``resolution`` is the timestamp unit as (base, exponent): a tick is
    base**-exponent seconds (if_tsresol; pcapng's default is (10, 6)).
    ``offset_s`` is if_tsoffset, seconds added to every timestamp.
    """

    number: int
    link: int
    name: str | None = None
    snaplen: int = 0
    resolution: tuple[int, int] = (10, 6)
    offset_s: int = 0


@dataclass
class PacketBatch:
    """Packet records of one stretch of a file, as parallel arrays.

    ``data`` contains the stretch's bytes followed by zero padding, ``buffer``
    the same bytes for Python parsers. ``starts`` index the first byte of
    each packet in both. ``interfaces`` index ``interface_table``.
    """

    data: np.ndarray
    buffer: bytes
    record_offsets: np.ndarray
    frames: np.ndarray
    starts: np.ndarray
    captured: np.ndarray
    wire: np.ndarray
    ts_ns: np.ndarray
    interfaces: np.ndarray
    interface_table: list[Interface]

    def __len__(self) -> int:
        return len(self.starts)

    def links(self) -> np.ndarray:
        """Return the link type of each packet."""
        table = np.array([item.link for item in self.interface_table], dtype=np.int64)
        return table[self.interfaces]


class Reject(Protocol):
    def __call__(self, offset: int, reason: str, raw: bytes) -> None: ...


class ReadBytes(Protocol):
    def __call__(self, size: int) -> bytes: ...


def detect_format(head: bytes) -> str | None:
    """Return 'pcap' or 'pcapng' from a file's first four bytes, or None."""
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    return None


def open_capture(
    read: ReadBytes,
    name: str,
    reject: Reject,
    *,
    max_records: int,
    max_captured_length: int = DEFAULT_MAX_CAPTURED_LENGTH,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> CaptureWalker | None:
    """Return the walker for a capture, or None for an empty file.

    Raises SourceError naming ``name`` when the file does not start with a
    pcap or pcapng magic number, because then nothing in it can be read and
    the path or the connector is most likely wrong.
    """
    head = read(4)
    if not head:
        logger.warning("%s is empty: it contains no packets", name)
        return None
    kind = detect_format(head)
    if kind is None:
        message = (
            f"'{name}' is not a pcap or pcapng capture: it starts with bytes {head.hex(' ')}, "
            "not a pcap magic number (a1 b2 c3 d4, a1 b2 3c 4d in either byte order) "
            "or a pcapng section header (0a 0d 0d 0a); check the path, or read the file "
            "with the connector of its format"
        )
        raise SourceError(message)
    walker_type = PcapWalker if kind == "pcap" else PcapngWalker
    return walker_type(
        read,
        head,
        reject,
        max_records=max_records,
        max_captured_length=max_captured_length,
        block_bytes=block_bytes,
    )


class CaptureWalker:
    """Read a capture's records in batches of at most ``max_records`` packets.

    Damage that leaves the rest of the file unreadable (a cut record, a block
    length that cannot be right) ends the walk with one call of ``reject``
    at the damaged byte offset. A bad record that can be stepped over (a
    pcapng packet block naming an unknown interface) is rejected alone.
    """

    kind = ""

    def __init__(
        self,
        read: ReadBytes,
        head: bytes,
        reject: Reject,
        *,
        max_records: int,
        max_captured_length: int,
        block_bytes: int,
    ) -> None:
        self._read = read
        self._pending = head
        self._reject = reject
        self.max_records = max_records
        self.max_captured_length = max_captured_length
        self.block_bytes = max(block_bytes, PCAP_HEADER_BYTES)
        self.records = 0
        self.interfaces: list[Interface] = []
        self._buffer = b""
        self._base = 0
        self._eof = False

    # Buffer handling ----------------------------------------------------------

    def _fill(self, minimum: int) -> bool:
        """Read until the buffer contains ``minimum`` bytes; return False if the file ends first."""
        parts = [self._buffer]
        size = len(self._buffer)
        while size < minimum and not self._eof:
            part = self._read(max(self.block_bytes, minimum - size))
            if not part:
                self._eof = True
                break
            parts.append(part)
            size += len(part)
        if len(parts) > 1:
            self._buffer = b"".join(parts)
        return size >= minimum

    def _consume(self, count: int) -> None:
        self._buffer = self._buffer[count:]
        self._base += count

    def _reject_here(self, position: int, reason: str) -> None:
        raw = self._buffer[position : position + 32]
        self._reject(self._base + position, reason, raw)

    def batches(self) -> Iterator[PacketBatch]:
        raise NotImplementedError

    def _batch(
        self,
        positions: list[int],
        fields: Callable[[np.ndarray, np.ndarray], PacketBatch],
    ) -> PacketBatch:
        data = np.frombuffer(self._buffer + bytes(PADDING), dtype=np.uint8)
        return fields(data, np.array(positions, dtype=np.int64))


def _read_unsigned(data: np.ndarray, positions: np.ndarray, size: int, order: str) -> np.ndarray:
    """Return the unsigned integers of ``size`` bytes at ``positions`` as int64."""
    index = positions[:, None] + np.arange(size, dtype=np.int64)
    block = np.ascontiguousarray(data[index])
    values = block.view(f"{order}u{size}").ravel()
    return values.astype(np.int64)


class PcapWalker(CaptureWalker):
    """Walker of classic pcap files: a 24-byte header, then 16-byte record headers."""

    kind = "pcap"

    def batches(self) -> Iterator[PacketBatch]:
        self._buffer = self._pending
        if not self._read_header():
            return
        caplen_at = struct.Struct(self._order + "I").unpack_from

        while True:
            self._fill(self.block_bytes)
            positions, end, damage = self._walk(caplen_at)
            if positions:
                yield self._batch(positions, self._fields)
            if damage is not None:
                self._reject_here(end, damage)
                return
            if not positions:
                # The next record is longer than the buffer, or the file ends in it.
                needed = self._record_bytes(caplen_at)
                if not self._fill(needed):
                    self._reject_cut(caplen_at)
                    return
                continue
            self._consume(end)

    def _read_header(self) -> bool:
        """Read the file header; reject it and return False when it is cut short or unsupported."""
        if not self._fill(PCAP_HEADER_BYTES):
            self._reject_here(0, f"truncated pcap file header: {len(self._buffer)} of 24 bytes")
            return False
        header = self._buffer[:PCAP_HEADER_BYTES]
        order, tick_ns = PCAP_MAGICS[header[:4]]
        # The time zone field is ignored: pcap time stamps are UTC and libpcap writes 0 there.
        major, minor, _zone, _sigfigs, snaplen, network = struct.unpack(
            order + "HHiIII", header[4:]
        )
        if major != 2:
            self._reject_here(0, f"unsupported pcap version {major}.{minor}: expected 2.4")
            return False

        # The upper bits of the link type field carry FCS details (LINKTYPE_ETHERNET is 1).
        link = network & 0x0FFFFFFF
        self.interfaces = [Interface(0, link, None, snaplen, (10, 9 if tick_ns == 1 else 6))]
        self._consume(PCAP_HEADER_BYTES)
        self._order = order
        self._tick_ns = tick_ns
        return True

    def _walk(
        self, caplen_at: Callable[[bytes, int], tuple[int]]
    ) -> tuple[list[int], int, str | None]:
        """Return the positions of whole records in the buffer, where the walk stopped, and any damage."""
        buffer = self._buffer
        size = len(buffer)
        limit = self.max_captured_length
        positions: list[int] = []
        append = positions.append
        position = 0
        remaining = self.max_records
        while remaining and position + PCAP_RECORD_HEADER_BYTES <= size:
            captured = caplen_at(buffer, position + 8)[0]
            if captured > limit:
                return (
                    positions,
                    position,
                    f"corrupt pcap record header: captured length {captured} exceeds "
                    f"the maximum {limit} ('pcap.max-captured-length')",
                )
            following = position + PCAP_RECORD_HEADER_BYTES + captured
            if following > size:
                break
            append(position)
            position = following
            remaining -= 1
        return positions, position, None

    def _record_bytes(self, caplen_at: Callable[[bytes, int], tuple[int]]) -> int:
        if len(self._buffer) < PCAP_RECORD_HEADER_BYTES:
            return PCAP_RECORD_HEADER_BYTES
        return PCAP_RECORD_HEADER_BYTES + caplen_at(self._buffer, 8)[0]

    def _reject_cut(self, caplen_at: Callable[[bytes, int], tuple[int]]) -> None:
        size = len(self._buffer)
        if size == 0:
            return
        if size < PCAP_RECORD_HEADER_BYTES:
            self._reject_here(0, f"truncated pcap record header: {size} of 16 bytes")
            return
        captured = caplen_at(self._buffer, 8)[0]
        present = size - PCAP_RECORD_HEADER_BYTES
        self._reject_here(0, f"truncated packet data: {present} of {captured} bytes")

    def _fields(self, data: np.ndarray, positions: np.ndarray) -> PacketBatch:
        order = self._order
        count = len(positions)
        seconds = _read_unsigned(data, positions, 4, order)
        fraction = _read_unsigned(data, positions + 4, 4, order)
        captured = _read_unsigned(data, positions + 8, 4, order)
        wire = _read_unsigned(data, positions + 12, 4, order)
        frames = np.arange(self.records + 1, self.records + count + 1, dtype=np.int64)
        self.records += count
        return PacketBatch(
            data=data,
            buffer=self._buffer,
            record_offsets=positions + self._base,
            frames=frames,
            starts=positions + PCAP_RECORD_HEADER_BYTES,
            captured=captured,
            wire=wire,
            ts_ns=seconds * 1_000_000_000 + fraction * self._tick_ns,
            interfaces=np.zeros(count, dtype=np.int64),
            interface_table=self.interfaces,
        )


@dataclass
class _Section:
    """The state of the pcapng section being read."""

    order: str = "<"
    #: Global interface index of each interface number of the section.
    interfaces: list[int] = field(default_factory=list)


class PcapngWalker(CaptureWalker):
    """Walker of pcapng files: blocks of type, length, body and the length again.

    Enhanced and obsolete packet blocks become packets. Interface blocks set
    each interface's link type, name and timestamp resolution. A section
    header starts a new set of interfaces, possibly in the other byte order.
    Simple packet blocks, which carry no timestamp, are rejected. Other
    blocks (statistics, name resolution, custom) are skipped.
    """

    kind = "pcapng"

    def batches(self) -> Iterator[PacketBatch]:
        self._buffer = self._pending
        self._section = _Section()
        self._unpack = struct.Struct("<II").unpack_from
        while True:
            self._fill(self.block_bytes)
            positions, types, end, damage = self._walk()
            if positions:
                batch = self._batch(positions, partial(self._fields, types))
                if len(batch):
                    yield batch
            if damage is not None:
                self._reject_here(end, damage)
                return
            self._consume(end)
            if not positions and end == 0:
                needed = self._block_bytes_needed()
                if needed is None:
                    return
                if not self._fill(needed):
                    self._reject_cut()
                    return

    def _block_bytes_needed(self) -> int | None:
        size = len(self._buffer)
        if size == 0:
            return None
        if size < 12:
            return 12
        block_type, length = self._unpack(self._buffer, 0)
        if block_type == _BLOCK_SHB:
            order = self._byte_order(0)
            if order is not None:
                length = struct.unpack_from(order + "I", self._buffer, 4)[0]
        return max(length, 12)

    def _reject_cut(self) -> None:
        size = len(self._buffer)
        if size < 12:
            self._reject_here(0, f"truncated pcapng block header: {size} of 12 bytes")
            return
        _, length = self._unpack(self._buffer, 0)
        self._reject_here(0, f"truncated pcapng block: {size} of {length} bytes")

    def _byte_order(self, position: int) -> str | None:
        magic = self._buffer[position + 8 : position + 12]
        if magic == b"\x4d\x3c\x2b\x1a":
            return "<"
        if magic == b"\x1a\x2b\x3c\x4d":
            return ">"
        return None

    def _start_section(self, position: int, order: str) -> str | None:
        """Start the section whose header block is at ``position``; return why it is bad, if it is."""
        major, minor = struct.unpack_from(order + "HH", self._buffer, position + 12)
        if major != 1:
            return f"unsupported pcapng version {major}.{minor}: expected 1.0"
        self._section = _Section(order=order)
        self._unpack = struct.Struct(order + "II").unpack_from
        return None

    def _walk(self) -> tuple[list[int], list[int], int, str | None]:
        """Return the positions and types of whole packet blocks, where the walk stopped, and any damage."""
        buffer = self._buffer
        size = len(buffer)
        unpack = self._unpack
        positions: list[int] = []
        types: list[int] = []
        position = 0
        remaining = self.max_records
        largest_packet = self.max_captured_length + 4096
        while remaining and position + 12 <= size:
            block_type, length = unpack(buffer, position)
            order = self._section.order
            if block_type == _BLOCK_SHB:
                if positions:
                    # Interface numbers restart in the new section: end the batch here.
                    break
                found = self._byte_order(position)
                if found is None:
                    magic = buffer[position + 8 : position + 12].hex(" ")
                    return positions, types, position, f"invalid pcapng byte-order magic {magic}"
                order = found
                length = struct.unpack_from(order + "I", buffer, position + 4)[0]
            if length < 12 or length % 4:
                reason = (
                    f"corrupt pcapng block: length {length} is not a multiple of 4 of at least 12"
                )
                return positions, types, position, reason
            largest = largest_packet if block_type in (_BLOCK_EPB, _BLOCK_OPB) else _MAX_OTHER_BLOCK
            if length > largest:
                reason = (
                    f"corrupt pcapng block: length {length} exceeds the maximum of {largest} "
                    "bytes for its block type"
                )
                return positions, types, position, reason
            following = position + length
            if following > size:
                break
            trailer = struct.unpack_from(order + "I", buffer, following - 4)[0]
            if trailer != length:
                reason = (
                    f"corrupt pcapng block: leading length {length} and trailing length "
                    f"{trailer} differ"
                )
                return positions, types, position, reason
            if block_type in (_BLOCK_EPB, _BLOCK_OPB):
                positions.append(position)
                types.append(block_type)
                remaining -= 1
            elif block_type == _BLOCK_IDB:
                self._add_interface(position, length)
            elif block_type == _BLOCK_SHB:
                problem = (
                    self._start_section(position, order)
                    if length >= 28
                    else (f"invalid pcapng section header of {length} bytes")
                )
                if problem is not None:
                    return positions, types, position, problem
                unpack = self._unpack
            elif block_type == _BLOCK_SPB:
                self.records += 1
                self._reject_here(
                    position, "simple packet block skipped: it has no timestamp or interface number"
                )
            position = following
        return positions, types, position, None

    def _add_interface(self, position: int, length: int) -> None:
        order = self._section.order
        buffer = self._buffer
        if length < 20:
            self._reject_here(position, f"invalid interface description block of {length} bytes")
            return
        link, _reserved, snaplen = struct.unpack_from(order + "HHI", buffer, position + 8)
        name: str | None = None
        resolution = (10, 6)
        offset_s = 0
        option = position + 16
        end = position + length - 4
        while option + 4 <= end:
            code, size = struct.unpack_from(order + "HH", buffer, option)
            if code == _OPTION_END or option + 4 + size > end:
                break
            value = buffer[option + 4 : option + 4 + size]
            if code == _OPTION_IF_NAME:
                name = value.rstrip(b"\0").decode("utf-8", "backslashreplace")
            elif code == _OPTION_IF_TSRESOL and size >= 1:
                byte = value[0]
                resolution = (2, byte & 0x7F) if byte & 0x80 else (10, byte)
            elif code == _OPTION_IF_TSOFFSET and size >= 8:
                offset_s = struct.unpack_from(order + "q", value)[0]
            option += 4 + (size + 3) // 4 * 4
        number = len(self._section.interfaces)
        self._section.interfaces.append(len(self.interfaces))
        self.interfaces.append(Interface(number, link, name, snaplen, resolution, offset_s))

    def _reject_block(self, position: int, number: int, captured: int, length: int) -> None:
        known = len(self._section.interfaces)
        if number >= known:
            reason = f"packet block names interface {number}, but the section describes {known}"
        else:
            reason = (
                f"corrupt packet block: captured length {captured} does not fit in a block "
                f"of {length} bytes"
            )
        self._reject_here(position, reason)

    def _fields(self, types: list[int], data: np.ndarray, positions: np.ndarray) -> PacketBatch:
        order = self._section.order
        obsolete = np.array(types, dtype=np.int64) == _BLOCK_OPB
        lengths = _read_unsigned(data, positions + 4, 4, order)
        numbers = _read_unsigned(data, positions + 8, 4, order)
        if obsolete.any():
            numbers = np.where(obsolete, _read_unsigned(data, positions + 8, 2, order), numbers)
        high = _read_unsigned(data, positions + 12, 4, order)
        low = _read_unsigned(data, positions + 16, 4, order)
        captured = _read_unsigned(data, positions + 20, 4, order)
        wire = _read_unsigned(data, positions + 24, 4, order)
        frames = np.arange(self.records + 1, self.records + len(positions) + 1, dtype=np.int64)
        self.records += len(positions)

        known = len(self._section.interfaces)
        valid = (numbers < known) & (lengths >= _MIN_EPB_BYTES) & (captured <= lengths - 32)
        for index in np.flatnonzero(~valid).tolist():
            self._reject_block(
                int(positions[index]),
                int(numbers[index]),
                int(captured[index]),
                int(lengths[index]),
            )

        keep = np.flatnonzero(valid)
        section = np.array(self._section.interfaces or [0], dtype=np.int64)
        interfaces = section[np.where(valid, numbers, 0)][keep]
        ticks = ((high << 32) | low)[keep].astype(np.uint64)
        return PacketBatch(
            data=data,
            buffer=self._buffer,
            record_offsets=positions[keep] + self._base,
            frames=frames[keep],
            starts=positions[keep] + 28,
            captured=captured[keep],
            wire=wire[keep],
            ts_ns=_ticks_to_ns(ticks, interfaces, self.interfaces),
            interfaces=interfaces,
            interface_table=self.interfaces,
        )


def _ticks_to_ns(ticks: np.ndarray, interfaces: np.ndarray, table: list[Interface]) -> np.ndarray:
    """Convert pcapng timestamp ticks (uint64) to nanoseconds with each interface's resolution and offset."""
    result = np.zeros(len(ticks), dtype=np.int64)
    for index in np.unique(interfaces).tolist():
        rows = interfaces == index
        interface = table[index]
        values = ticks[rows]
        base, exponent = interface.resolution
        if base == 10 and exponent <= 9:
            ns = values.astype(np.int64) * 10 ** (9 - exponent)
        elif base == 10 and exponent <= 28:
            ns = (values // np.uint64(10 ** (exponent - 9))).astype(np.int64)
        elif base == 2 and exponent <= 30:
            # Exact: the fraction has at most 30 bits, so times 10**9 it stays below 2**60.
            whole = (values >> np.uint64(exponent)).astype(np.int64) * 1_000_000_000
            fraction = values & np.uint64((1 << exponent) - 1)
            ns = whole + ((fraction * np.uint64(1_000_000_000)) >> np.uint64(exponent)).astype(
                np.int64
            )
        else:
            # NOTE: finer resolutions than 2**-30 s or 10**-28 s are converted through
            # float64, which keeps about 16 significant digits.
            ns = (values.astype(np.float64) * 1e9 / float(base) ** exponent).astype(np.int64)
        result[rows] = ns + interface.offset_s * 1_000_000_000
    return result
