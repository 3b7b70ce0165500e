"""The pcap reader on the real captures: counts and facts checked against dpkt, and damaged copies.

Every expected value is computed here with dpkt, independently of the
reader, and compared with the facts known about each capture.
"""

from __future__ import annotations

import collections
import socket
import struct
import tempfile
from pathlib import Path
from typing import Any

import dpkt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.shared import require
from workbench.errors import SourceError
from workbench.sources.read import FileContents, read_file

CAPTURES = [
    "synscan.pcap",
    "dns-tunnel-iodine.pcap",
    "sshguess.pcap",
    "bruteforce.pcap",
    "dhcp_flood.pcap",
    "cooper-grill-dvwa.pcapng",
]


def capture(name: str) -> Path:
    return require(f"datasets/pcap/{name}")


def dpkt_records(path: Path) -> list[tuple[float, bytes]]:
    """Return (timestamp, frame) of every record, read by dpkt's own readers."""
    with path.open("rb") as file:
        magic = file.read(4)
        file.seek(0)
        reader = (
            dpkt.pcapng.Reader(file) if magic == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(file)
        )
        return list(reader)


def pcapng_micros(path: Path) -> list[int]:
    """Return each packet's time in whole microseconds from a little-endian pcapng, exactly.

    dpkt's reader gives float seconds, which cannot hold nanosecond ticks, so
    this walks the blocks with dpkt's block classes and keeps the integer ticks.
    """
    data = path.read_bytes()
    position = 0
    resolutions: list[int] = []
    stamps: list[int] = []
    while position < len(data):
        block_type, length = struct.unpack_from("<II", data, position)
        block = data[position : position + length]
        if block_type == dpkt.pcapng.PCAPNG_BT_IDB:
            options = dpkt.pcapng.InterfaceDescriptionBlockLE(block).opts
            found = [
                item.data[0] for item in options if item.code == dpkt.pcapng.PCAPNG_OPT_IF_TSRESOL
            ]
            resolutions.append(found[0] if found else 6)
        elif block_type == dpkt.pcapng.PCAPNG_BT_EPB:
            packet = dpkt.pcapng.EnhancedPacketBlockLE(block)
            ticks = (packet.ts_high << 32) | packet.ts_low
            stamps.append(ticks * 10**6 // 10 ** resolutions[packet.iface_id])
        position += length
    return stamps


def reference_layers(frame: bytes) -> dict[str, Any]:
    """Decode one Ethernet frame with dpkt into the reader's address and port fields."""
    ethernet = dpkt.ethernet.Ethernet(frame)
    packet = ethernet.data
    fields: dict[str, Any] = {
        "ip": None,
        "src_ip": None,
        "dst_ip": None,
        "src_port": None,
        "dst_port": None,
    }
    if isinstance(packet, dpkt.ip.IP):
        fields.update(
            ip=4, src_ip=socket.inet_ntoa(packet.src), dst_ip=socket.inet_ntoa(packet.dst)
        )
        segment = packet.data
        if isinstance(segment, (dpkt.tcp.TCP, dpkt.udp.UDP)):
            fields.update(src_port=segment.sport, dst_port=segment.dport)
    fields["payload"] = getattr(getattr(packet, "data", None), "data", b"")
    fields["segment"] = getattr(packet, "data", None)
    return fields


def read(path: Path) -> FileContents:
    return read_file(path, "pcap")


# Counts, times and addresses --------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_rows_match_dpkt(name: str) -> None:
    path = capture(name)
    records = dpkt_records(path)
    contents = read(path)
    rows = contents.rows
    assert len(rows) == len(records)
    assert len(contents.rejected) == 0
    assert rows["frame"].tolist() == list(range(1, len(records) + 1))
    if name.endswith(".pcapng"):
        expected_us = pcapng_micros(path)
    else:
        expected_us = [round(ts * 1e6) for ts, _ in records]
    assert (rows["ts"].astype("int64") // 1000).tolist() == expected_us
    assert rows["captured_length"].tolist() == [len(frame) for _, frame in records]
    expected = [reference_layers(frame) for _, frame in records]
    for column in ("src_ip", "dst_ip", "src_port", "dst_port"):
        got = [None if pd.isna(value) else value for value in rows[column]]
        assert got == [fields[column] for fields in expected], column
    assert rows["decode_error"].isna().all()


def test_synscan_facts() -> None:
    path = capture("synscan.pcap")
    syns = collections.Counter()
    ports = set()
    for _, frame in dpkt_records(path):
        fields = reference_layers(frame)
        segment = fields["segment"]
        if (
            isinstance(segment, dpkt.tcp.TCP)
            and segment.flags & dpkt.tcp.TH_SYN
            and not segment.flags & dpkt.tcp.TH_ACK
        ):
            syns[fields["src_ip"]] += 1
            ports.add(segment.dport)
    rows = read(path).rows
    scan = rows[rows["syn"] & ~rows["ack"]]
    assert dict(collections.Counter(scan["src_ip"])) == dict(syns)
    assert syns["172.16.0.8"] == 1994
    assert set(scan["dst_port"]) == ports
    assert len(ports) == 1000
    assert (rows["tcp_flags"] == "SA").sum() == 12


def question_name(message: bytes) -> tuple[str, int]:
    """Return the first question's name (as the reader prints it) and type; queries use no compression."""
    labels = []
    position = 12
    while message[position]:
        length = message[position]
        labels.append(message[position + 1 : position + 1 + length])
        position += 1 + length
    qtype = struct.unpack_from("!H", message, position + 1)[0]
    return b".".join(labels).decode("utf-8", "backslashreplace"), qtype


def test_dns_tunnel_facts() -> None:
    path = capture("dns-tunnel-iodine.pcap")
    names: list[str] = []
    types: set[int] = set()
    non_ip = 0
    for _, frame in dpkt_records(path):
        ethernet = dpkt.ethernet.Ethernet(frame)
        if not isinstance(ethernet.data, dpkt.ip.IP):
            non_ip += 1
            continue
        # dpkt's DNS parser rejects names that are not UTF-8 (iodine sends Latin-1 bytes).
        message = bytes(ethernet.data.data.data)
        if not message[2] & 0x80:
            name, qtype = question_name(message)
            names.append(name)
            types.add(qtype)
    rows = read(path).rows
    dns = rows["dns"].dropna()
    queries = [item for item in dns if not item["response"]]
    assert [item["qname"] for item in queries] == names
    # Every query name is distinct. 181 of the 222 are valid UTF-8, which is the
    # count a strict UTF-8 decoder (dpkt's) reports; the others carry 8-bit bytes.
    assert len(set(names)) == len(names) == 222
    assert sum("\\x" not in name for name in names) == 181
    assert {item["qtype"] for item in queries} == {"NULL"}
    assert types == {dpkt.dns.DNS_NULL}
    assert non_ip == 4
    assert rows["ip_version"].isna().sum() == 4
    assert rows["proto"].value_counts()["arp"] == 4


def test_bruteforce_ftp_replies() -> None:
    path = capture("bruteforce.pcap")
    replies = collections.Counter()
    users = 0
    for _, frame in dpkt_records(path):
        fields = reference_layers(frame)
        payload = fields["payload"]
        if fields["src_port"] == 21 and payload[:3].isdigit():
            replies[int(payload[:3])] += 1
        if fields["dst_port"] == 21 and payload.upper().startswith(b"USER "):
            users += 1
    rows = read(path).rows
    ftp = rows["ftp"].dropna()
    codes = collections.Counter(
        item["reply_code"] for item in ftp if item["reply_code"] is not None
    )
    assert codes == replies
    assert codes[530] == 30
    assert sum(item["command"] == "USER" for item in ftp) == users == 30
    texts = {item["reply_text"] for item in ftp if item["reply_code"] == 530}
    assert texts == {"Login incorrect."}


def test_dhcp_flood_informs() -> None:
    path = capture("dhcp_flood.pcap")
    kinds = collections.Counter()
    sources = set()
    client_addresses = set()
    for _, frame in dpkt_records(path):
        fields = reference_layers(frame)
        message = dpkt.dhcp.DHCP(fields["payload"])
        kind = dict(message.opts)[dpkt.dhcp.DHCP_OPT_MSGTYPE][0]
        kinds[kind] += 1
        if kind == dpkt.dhcp.DHCPINFORM:
            sources.add(fields["src_ip"])
            client_addresses.add(socket.inet_ntoa(struct.pack("!I", message.ciaddr)))
    rows = read(path).rows
    present = rows["dhcp"].notna()
    kinds_read = rows.loc[present, "dhcp"].map(lambda item: item["message_type"])
    assert collections.Counter(kinds_read) == {
        "INFORM": kinds[dpkt.dhcp.DHCPINFORM],
        "ACK": kinds[dpkt.dhcp.DHCPACK],
    }
    assert kinds[dpkt.dhcp.DHCPINFORM] == 250
    informs = rows[present][kinds_read == "INFORM"]
    assert set(informs["src_ip"]) == sources
    assert len(sources) == 250
    assert {item["client_ip"] for item in informs["dhcp"]} == client_addresses
    assert len({item["client_mac"] for item in informs["dhcp"]}) == 1


def test_pcapng_sql_injection_requests() -> None:
    path = capture("cooper-grill-dvwa.pcapng")
    requests: list[str] = []
    statuses: list[int] = []
    for _, frame in dpkt_records(path):
        payload = reference_layers(frame)["payload"]
        if payload.startswith(b"GET "):
            requests.append(dpkt.http.Request(payload).uri)
        elif payload.startswith(b"HTTP/"):
            statuses.append(int(payload.split(b" ")[1]))
    injections = [uri for uri in requests if "%27" in uri]
    rows = read(path).rows
    http = rows["http"].dropna()
    got = [item["uri"] for item in http if item["method"] == "GET"]
    assert got == requests
    assert len([uri for uri in got if "%27" in uri]) == len(injections) == 3
    assert [item["status"] for item in http if item["status"] is not None] == statuses
    assert statuses.count(200) == 3
    assert rows["ip_version"].isna().sum() == 16


# Damaged copies ---------------------------------------------------------------------

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}
_LIMIT = 262_144


def walk_pcap(data: bytes) -> tuple[int, int]:
    """Return (whole records, rejected entries) of a pcap under the reader's documented rules."""
    order = _PCAP_MAGICS[data[:4]]
    if len(data) < 24 or struct.unpack_from(order + "H", data, 4)[0] != 2:
        return 0, 1
    position, records = 24, 0
    while position < len(data):
        if position + 16 > len(data):
            return records, 1
        captured = struct.unpack_from(order + "I", data, position + 8)[0]
        if captured > _LIMIT or position + 16 + captured > len(data):
            return records, 1
        records += 1
        position += 16 + captured
    return records, 0


def walk_pcapng(data: bytes) -> tuple[int, int]:
    """Return (packets read, rejected entries) of a pcapng under the reader's documented rules."""
    position, packets, rejected = 0, 0, 0
    order, interfaces = "<", 0
    while position < len(data):
        if position + 12 > len(data):
            return packets, rejected + 1
        block_type = struct.unpack_from(order + "I", data, position)[0]
        if block_type == 0x0A0D0D0A:
            magic = data[position + 8 : position + 12]
            if magic not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                return packets, rejected + 1
            order = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
        length = struct.unpack_from(order + "I", data, position + 4)[0]
        largest = _LIMIT + 4096 if block_type in (2, 6) else 16 << 20
        if length < 12 or length % 4 or length > largest or position + length > len(data):
            return packets, rejected + 1
        if struct.unpack_from(order + "I", data, position + length - 4)[0] != length:
            return packets, rejected + 1
        if block_type == 0x0A0D0D0A:
            if length < 28 or struct.unpack_from(order + "H", data, position + 12)[0] != 1:
                return packets, rejected + 1
            interfaces = 0
        elif block_type == 1:
            if length < 20:
                rejected += 1
            else:
                interfaces += 1
        elif block_type in (2, 6):
            number = struct.unpack_from(
                order + ("H" if block_type == 2 else "I"), data, position + 8
            )[0]
            captured = (
                struct.unpack_from(order + "I", data, position + 20)[0] if length >= 24 else 0
            )
            if number < interfaces and length >= 32 and captured <= length - 32:
                packets += 1
            else:
                rejected += 1
        elif block_type == 3:
            rejected += 1
        position += length
    return packets, rejected


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(CAPTURES),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=170_000), st.binary(min_size=0, max_size=4)),
        max_size=10,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=170_000)),
)
def test_damaged_captures_never_crash(
    name: str, edits: list[tuple[int, bytes]], cut: int | None
) -> None:
    data = bytearray(capture(name).read_bytes())
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data[at : at + 1] = replacement
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    damaged = bytes(data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(damaged)
        if not damaged:
            assert len(read(path).rows) == 0
            return
        if damaged[:4] not in _PCAP_MAGICS and damaged[:4] != b"\x0a\x0d\x0d\x0a":
            with pytest.raises(SourceError, match="is not a pcap or pcapng capture"):
                read(path)
            return
        contents = read(path)
    walk = walk_pcapng if damaged[:4] == b"\x0a\x0d\x0d\x0a" else walk_pcap
    packets, rejected = walk(damaged)
    assert contents.counters.rows_read == len(contents.rows) == packets
    assert contents.counters.rows_rejected == len(contents.rejected) == rejected
