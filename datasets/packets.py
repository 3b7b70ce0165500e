"""Build Ethernet frames and write them as pcap or pcapng files, with dpkt and the standard library.

The writers pack every header little-endian with ``struct``, so a file's bytes
do not depend on the machine that writes it.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dpkt

#: Link type of Ethernet frames in pcap and pcapng headers (LINKTYPE_ETHERNET).
LINKTYPE_ETHERNET = 1
SNAPLEN = 65_535

TCP_FIN = dpkt.tcp.TH_FIN
TCP_SYN = dpkt.tcp.TH_SYN
TCP_RST = dpkt.tcp.TH_RST
TCP_PSH = dpkt.tcp.TH_PUSH
TCP_ACK = dpkt.tcp.TH_ACK


def epoch_us(when: datetime) -> int:
    """Return a UTC wall-clock time as integer microseconds since the Unix epoch."""
    delta = when.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Host:
    """A network interface: its MAC address (six bytes) and IPv4 address."""

    mac: bytes
    ip: str


def host(ip: str, vendor: int = 0x02) -> Host:
    """Return a host whose locally administered MAC address is derived from its IPv4 address."""
    return Host(bytes([vendor, 0x00]) + socket.inet_aton(ip), ip)


BROADCAST = Host(b"\xff" * 6, "255.255.255.255")

#: A host and a TCP or UDP port.
Endpoint = tuple[Host, int]


@dataclass(order=True)
class Frame:
    """One captured frame: capture time in microseconds, the interface index and the bytes."""

    ts_us: int
    order: int
    interface: int = field(compare=False)
    data: bytes = field(compare=False)


@dataclass
class Capture:
    """Frames collected in any order; the writers emit them sorted by time (ties in insertion order)."""

    frames: list[Frame] = field(default_factory=list)
    ip_id: int = 0x1000

    def add(self, ts_us: int, data: bytes, interface: int = 0) -> None:
        self.frames.append(Frame(ts_us, len(self.frames), interface, data))

    def next_ip_id(self) -> int:
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        return self.ip_id

    def ipv4(
        self,
        ts_us: int,
        source: Host,
        destination: Host,
        transport: dpkt.Packet,
        *,
        interface: int = 0,
        ttl: int = 64,
    ) -> None:
        """Add an Ethernet/IPv4 frame carrying a TCP or UDP segment."""
        protocol = (
            dpkt.ip.IP_PROTO_TCP if isinstance(transport, dpkt.tcp.TCP) else dpkt.ip.IP_PROTO_UDP
        )
        packet = dpkt.ip.IP(
            src=socket.inet_aton(source.ip),
            dst=socket.inet_aton(destination.ip),
            p=protocol,
            ttl=ttl,
            id=self.next_ip_id(),
            data=transport,
        )
        packet.len = len(bytes(packet))
        frame = dpkt.ethernet.Ethernet(
            src=source.mac, dst=destination.mac, type=dpkt.ethernet.ETH_TYPE_IP, data=packet
        )
        self.add(ts_us, bytes(frame), interface)

    def udp(
        self,
        ts_us: int,
        source: Endpoint,
        destination: Endpoint,
        payload: bytes,
        *,
        interface: int = 0,
    ) -> None:
        datagram = dpkt.udp.UDP(
            sport=source[1], dport=destination[1], ulen=8 + len(payload), data=payload
        )
        self.ipv4(ts_us, source[0], destination[0], datagram, interface=interface)

    def tcp(
        self,
        ts_us: int,
        source: Endpoint,
        destination: Endpoint,
        flags: int,
        *,
        seq: int = 0,
        ack: int = 0,
        payload: bytes = b"",
        interface: int = 0,
    ) -> None:
        segment = dpkt.tcp.TCP(
            sport=source[1],
            dport=destination[1],
            seq=seq,
            ack=ack,
            flags=flags,
            win=64_240,
            data=payload,
        )
        self.ipv4(ts_us, source[0], destination[0], segment, interface=interface)

    def write_pcap(self, path: Path) -> None:
        """Write a classic pcap file: microsecond timestamps, Ethernet link type."""
        parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET)]
        for frame in sorted(self.frames):
            seconds, micros = divmod(frame.ts_us, 1_000_000)
            size = len(frame.data)
            parts.append(struct.pack("<IIII", seconds, micros, size, size))
            parts.append(frame.data)
        path.write_bytes(b"".join(parts))

    def write_pcapng(self, path: Path, interface_names: list[str]) -> None:
        """Write a pcapng file with one Ethernet interface per name, in microseconds."""
        parts = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
        for name in interface_names:
            options = _option(2, name.encode()) + _option(9, bytes([6])) + _option(0, b"")
            parts.append(_block(1, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, SNAPLEN) + options))
        for frame in sorted(self.frames):
            size = len(frame.data)
            body = struct.pack(
                "<IIIII",
                frame.interface,
                frame.ts_us >> 32,
                frame.ts_us & 0xFFFFFFFF,
                size,
                size,
            )
            parts.append(_block(6, body + _pad(frame.data)))
        path.write_bytes(b"".join(parts))


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


@dataclass
class TcpConnection:
    """A TCP connection whose sequence numbers advance with the data each side sends."""

    capture: Capture
    client: Host
    client_port: int
    server: Host
    server_port: int
    client_seq: int
    server_seq: int
    interface: int = 0

    def _segment(self, ts_us: int, from_client: bool, flags: int, payload: bytes = b"") -> None:
        client = (self.client, self.client_port)
        server = (self.server, self.server_port)
        if from_client:
            source, destination = client, server
            seq, ack = self.client_seq, self.server_seq
        else:
            source, destination = server, client
            seq, ack = self.server_seq, self.client_seq
        self.capture.tcp(
            ts_us,
            source,
            destination,
            flags,
            seq=seq,
            ack=ack if flags & TCP_ACK else 0,
            payload=payload,
            interface=self.interface,
        )
        advance = len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
        if from_client:
            self.client_seq = (self.client_seq + advance) & 0xFFFFFFFF
        else:
            self.server_seq = (self.server_seq + advance) & 0xFFFFFFFF

    def open(self, ts_us: int, rtt_us: int = 400) -> int:
        """Add the three-way handshake; return the time of its last segment."""
        self._segment(ts_us, True, TCP_SYN)
        self._segment(ts_us + rtt_us // 2, False, TCP_SYN | TCP_ACK)
        self._segment(ts_us + rtt_us, True, TCP_ACK)
        return ts_us + rtt_us

    def send(self, ts_us: int, from_client: bool, payload: bytes, ack_after_us: int = 200) -> int:
        """Add a data segment and the peer's acknowledgement; return the acknowledgement's time."""
        self._segment(ts_us, from_client, TCP_PSH | TCP_ACK, payload)
        self._segment(ts_us + ack_after_us, not from_client, TCP_ACK)
        return ts_us + ack_after_us

    def send_segments(self, ts_us: int, from_client: bool, payloads: list[bytes]) -> int:
        """Add several data segments 100 microseconds apart, then one acknowledgement."""
        for index, payload in enumerate(payloads):
            flags = TCP_ACK | (TCP_PSH if index == len(payloads) - 1 else 0)
            self._segment(ts_us + 100 * index, from_client, flags, payload)
        end = ts_us + 100 * len(payloads) + 100
        self._segment(end, not from_client, TCP_ACK)
        return end

    def close(self, ts_us: int, by_client: bool = True, rtt_us: int = 400) -> int:
        """Add a FIN from each side and the last acknowledgement; return the last segment's time."""
        self._segment(ts_us, by_client, TCP_FIN | TCP_ACK)
        self._segment(ts_us + rtt_us // 2, not by_client, TCP_FIN | TCP_ACK)
        self._segment(ts_us + rtt_us, by_client, TCP_ACK)
        return ts_us + rtt_us


def dns_name(name: str) -> bytes:
    """Encode a domain name as DNS labels (ASCII, no compression)."""
    encoded = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"invalid DNS label {label!r} in {name!r}: use 1 to 63 characters")
        encoded += bytes([len(raw)]) + raw
    return encoded + b"\x00"


def dns_query(ident: int, name: str, qtype: int) -> bytes:
    """Return a standard recursive query for one name (class IN)."""
    return (
        struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)
        + dns_name(name)
        + struct.pack(">HH", qtype, 1)
    )


def dns_response(ident: int, name: str, qtype: int, answers: list[bytes], ttl: int = 300) -> bytes:
    """Return a response with ``answers`` as the record data of the queried name and type.

    The answer records point at the question's name with a compression pointer.
    """
    header = struct.pack(">HHHHHH", ident, 0x8180, 1, len(answers), 0, 0)
    question = dns_name(name) + struct.pack(">HH", qtype, 1)
    records = b"".join(
        struct.pack(">HHHIH", 0xC00C, qtype, 1, ttl, len(data)) + data for data in answers
    )
    return header + question + records
