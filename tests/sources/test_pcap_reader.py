"""The pcap reader on generated captures: file formats, damage, link types and every decoded layer.

Packets are built with dpkt; pcap files are written with dpkt's writer or,
for the other byte order, with struct; pcapng files with dpkt's blocks.
"""

from __future__ import annotations

import re
import socket
import struct
from pathlib import Path
from typing import Any

import dpkt
import pandas as pd
import pytest

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources.packets.schema import PACKET_SCHEMA
from workbench.sources.read import FileContents, read_file

BASE_US = 1_700_000_000_000_000
CLIENT_MAC = b"\x02\x00\x00\x00\x00\x01"
SERVER_MAC = b"\x02\x00\x00\x00\x00\x02"
ETH_IP = dpkt.ethernet.ETH_TYPE_IP
ETH_IP6 = dpkt.ethernet.ETH_TYPE_IP6


# Packet builders --------------------------------------------------------------------


def ethernet(
    payload: Any, kind: int = ETH_IP, src: bytes = CLIENT_MAC, dst: bytes = SERVER_MAC
) -> bytes:
    return bytes(dpkt.ethernet.Ethernet(src=src, dst=dst, type=kind, data=payload))


def ipv4(payload: Any, src: str = "10.0.0.1", dst: str = "10.0.0.2", **fields: Any) -> dpkt.ip.IP:
    protocol = {dpkt.tcp.TCP: 6, dpkt.udp.UDP: 17, dpkt.icmp.ICMP: 1}.get(type(payload), 0)
    packet = dpkt.ip.IP(
        src=socket.inet_aton(src),
        dst=socket.inet_aton(dst),
        p=fields.pop("p", protocol),
        ttl=64,
        **fields,
    )
    packet.data = payload
    packet.len = 20 + len(bytes(payload))
    return packet


def tcp(
    sport: int = 40000,
    dport: int = 80,
    flags: int = dpkt.tcp.TH_ACK,
    data: bytes = b"",
    **fields: Any,
) -> dpkt.tcp.TCP:
    return dpkt.tcp.TCP(sport=sport, dport=dport, flags=flags, data=data, **fields)


def udp(sport: int, dport: int, data: bytes) -> dpkt.udp.UDP:
    segment = dpkt.udp.UDP(sport=sport, dport=dport, data=data)
    segment.ulen = 8 + len(data)
    return segment


def tcp_frame(data: bytes = b"", **fields: Any) -> bytes:
    return ethernet(ipv4(tcp(data=data, **fields)))


# File writers -----------------------------------------------------------------------


def write_pcap(
    path: Path, frames: list[bytes], *, nano: bool = False, linktype: int = 1, step_us: int = 1_000
) -> Path:
    """Write ``frames`` with dpkt's pcap writer, one every ``step_us`` microseconds from BASE_US."""
    with path.open("wb") as file:
        writer = dpkt.pcap.Writer(file, linktype=linktype, nano=nano)
        for index, frame in enumerate(frames):
            writer.writepkt(frame, ts=(BASE_US + index * step_us) / 1e6)
    return path


def write_pcap_raw(
    path: Path,
    records: list[tuple[int, int, bytes]],
    *,
    order: str = "<",
    nano: bool = False,
    linktype: int = 1,
    wire: int | None = None,
) -> Path:
    """Write a pcap with struct: (seconds, fraction, frame) records in byte order ``order``."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    parts = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    for seconds, fraction, frame in records:
        length = len(frame) if wire is None else wire
        parts.append(struct.pack(order + "IIII", seconds, fraction, len(frame), length))
        parts.append(frame)
    path.write_bytes(b"".join(parts))
    return path


def option(code: int, value: bytes) -> dpkt.pcapng.PcapngOptionLE:
    return dpkt.pcapng.PcapngOptionLE(code=code, data=value)


def interface(
    linktype: int = 1, name: str | None = None, tsresol: int | None = None
) -> dpkt.pcapng.InterfaceDescriptionBlockLE:
    options = []
    if name is not None:
        options.append(option(dpkt.pcapng.PCAPNG_OPT_IF_NAME, name.encode()))
    if tsresol is not None:
        options.append(option(dpkt.pcapng.PCAPNG_OPT_IF_TSRESOL, bytes([tsresol])))
    if options:
        options.append(option(dpkt.pcapng.PCAPNG_OPT_ENDOFOPT, b""))
    return dpkt.pcapng.InterfaceDescriptionBlockLE(snaplen=65535, linktype=linktype, opts=options)


def write_pcapng(
    path: Path,
    interfaces: list[dpkt.pcapng.InterfaceDescriptionBlockLE],
    packets: list[tuple[int, int, bytes]],
) -> Path:
    """Write a pcapng file: packets are (interface number, timestamp ticks, frame)."""
    with path.open("wb") as file:
        writer = dpkt.pcapng.Writer(file, idb=interfaces)
        for number, ticks, frame in packets:
            block = dpkt.pcapng.EnhancedPacketBlockLE(
                iface_id=number, ts_high=ticks >> 32, ts_low=ticks & 0xFFFFFFFF, pkt_data=frame
            )
            writer.writepkt(block)
    return path


def read(path: Path, **options: str) -> FileContents:
    return read_file(path, "pcap", options)


def only(contents: FileContents) -> pd.Series:
    assert len(contents.rows) == 1
    return contents.rows.iloc[0]


def micros(rows: pd.DataFrame) -> list[int]:
    return (rows["ts"].astype("int64") // 1000).tolist()


# File formats -----------------------------------------------------------------------


def test_little_endian_microseconds(tmp_path: Path) -> None:
    frames = [tcp_frame(dport=port) for port in (80, 81, 82)]
    contents = read(write_pcap(tmp_path / "a.pcap", frames))
    rows = contents.rows
    assert list(rows.columns) == PACKET_SCHEMA.names
    assert micros(rows) == [BASE_US, BASE_US + 1_000, BASE_US + 2_000]
    assert rows["frame"].tolist() == [1, 2, 3]
    assert rows["dst_port"].tolist() == [80, 81, 82]
    assert rows["length"].tolist() == [len(frame) for frame in frames]
    assert rows["captured_length"].tolist() == [len(frame) for frame in frames]
    assert rows["link"].tolist() == ["ethernet"] * 3
    assert rows["interface"].tolist() == [0, 0, 0]
    assert rows["interface_name"].isna().all()
    assert len(contents.rejected) == 0
    for column in PACKET_SCHEMA:
        assert str(rows[column.name].dtype) == str(column.type.pandas_dtype()), column.name


def test_big_endian_pcap(tmp_path: Path) -> None:
    frame = tcp_frame(dport=443)
    path = write_pcap_raw(tmp_path / "big.pcap", [(1_700_000_000, 250_000, frame)], order=">")
    row = only(read(path))
    assert row["ts"] == pd.Timestamp("2023-11-14 22:13:20.250000")
    assert row["dst_port"] == 443
    assert row["length"] == len(frame)


def test_nanosecond_pcap_truncates_to_microseconds(tmp_path: Path) -> None:
    frame = tcp_frame()
    for order in ("<", ">"):
        path = write_pcap_raw(
            tmp_path / f"nano{order == '<'}.pcap",
            [(1_700_000_000, 123_456_789, frame)],
            order=order,
            nano=True,
        )
        row = only(read(path))
        assert row["ts"] == pd.Timestamp("2023-11-14 22:13:20.123456")


def test_dpkt_nanosecond_writer(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "nano.pcap", [tcp_frame()] * 2, nano=True, step_us=7)
    data = path.read_bytes()
    second = 24 + 16 + len(tcp_frame())
    stamps = [struct.unpack_from("<II", data, offset) for offset in (24, second)]
    expected = [(seconds * 10**9 + nanoseconds) // 1000 for seconds, nanoseconds in stamps]
    assert micros(read(path).rows) == expected


def test_format_by_magic_not_name(tmp_path: Path) -> None:
    frame = tcp_frame(dport=8080)
    pcap_named_pcapng = write_pcap(tmp_path / "capture.pcapng", [frame])
    pcapng_named_pcap = write_pcapng(
        tmp_path / "capture.pcap", [interface(name="eth0")], [(0, BASE_US, frame)]
    )
    for path in (pcap_named_pcapng, pcapng_named_pcap):
        row = only(read(path))
        assert row["dst_port"] == 8080
        assert micros(read(path).rows) == [BASE_US]
    assert only(read(pcapng_named_pcap))["interface_name"] == "eth0"
    assert len(read_file(pcapng_named_pcap, "pcap", {"format": "pcapng"}).rows) == 1


def test_pcapng_interfaces_and_resolutions(tmp_path: Path) -> None:
    raw_ip = bytes(ipv4(udp(5000, 6000, b"x"), src="192.0.2.9"))
    interfaces = [
        interface(name="eth0"),
        interface(name="wlan0", tsresol=9),
        interface(linktype=dpkt.pcapng.DLT_RAW, name="tun0", tsresol=0x80 | 20),
    ]
    seconds = 1_700_000_000
    packets = [
        (0, seconds * 10**6 + 5, tcp_frame(dport=1)),
        (1, seconds * 10**9 + 7_000, tcp_frame(dport=2)),
        (2, (seconds << 20) + (1 << 19), raw_ip),
        (0, seconds * 10**6 + 9, tcp_frame(dport=3)),
    ]
    contents = read(write_pcapng(tmp_path / "multi.pcapng", interfaces, packets))
    rows = contents.rows
    assert rows["interface"].tolist() == [0, 1, 2, 0]
    assert rows["interface_name"].tolist() == ["eth0", "wlan0", "tun0", "eth0"]
    assert rows["link"].tolist() == ["ethernet", "ethernet", "raw", "ethernet"]
    base = seconds * 10**6
    assert micros(rows) == [base + 5, base + 7, base + 500_000, base + 9]
    assert rows["src_ip"][2] == "192.0.2.9"
    assert rows["dst_port"].tolist() == [1, 2, 6000, 3]
    assert rows["frame"].tolist() == [1, 2, 3, 4]


def test_pcapng_sections_byte_orders_and_blocks(tmp_path: Path) -> None:
    """A little-endian section, then a big-endian one; an obsolete packet block; if_tsoffset."""
    pcapng = dpkt.pcapng
    offset = option(pcapng.PCAPNG_OPT_IF_TSOFFSET, struct.pack("<q", 3600))
    first = [
        bytes(pcapng.SectionHeaderBlockLE()),
        bytes(
            pcapng.InterfaceDescriptionBlockLE(
                snaplen=65535, opts=[offset, option(pcapng.PCAPNG_OPT_ENDOFOPT, b"")]
            )
        ),
        bytes(pcapng.EnhancedPacketBlockLE(ts_high=0, ts_low=5, pkt_data=tcp_frame(dport=1))),
        bytes(pcapng.PacketBlockLE(ts_high=0, ts_low=6, pkt_data=tcp_frame(dport=2))),
    ]
    second = [
        bytes(pcapng.SectionHeaderBlock()),
        bytes(pcapng.InterfaceDescriptionBlock(snaplen=65535)),
        bytes(pcapng.InterfaceDescriptionBlock(snaplen=65535, linktype=dpkt.pcapng.DLT_RAW)),
        bytes(
            pcapng.EnhancedPacketBlock(
                iface_id=1, ts_high=0, ts_low=7, pkt_data=bytes(ipv4(tcp(dport=3)))
            )
        ),
        bytes(
            pcapng.EnhancedPacketBlock(iface_id=0, ts_high=0, ts_low=8, pkt_data=tcp_frame(dport=4))
        ),
    ]
    path = tmp_path / "sections.pcapng"
    path.write_bytes(b"".join(first + second))
    contents = read(path)
    rows = contents.rows
    assert rows["dst_port"].tolist() == [1, 2, 3, 4]
    assert micros(rows) == [3_600_000_005, 3_600_000_006, 7, 8]
    assert rows["interface"].tolist() == [0, 0, 1, 0]
    assert rows["link"].tolist() == ["ethernet", "ethernet", "raw", "ethernet"]
    assert rows["frame"].tolist() == [1, 2, 3, 4]
    assert len(contents.rejected) == 0


def test_pcapng_packet_with_unknown_interface_rejected(tmp_path: Path) -> None:
    path = write_pcapng(
        tmp_path / "bad.pcapng",
        [interface()],
        [(0, BASE_US, tcp_frame()), (3, BASE_US, tcp_frame()), (0, BASE_US, tcp_frame())],
    )
    contents = read(path)
    assert contents.rows["frame"].tolist() == [1, 3]
    assert len(contents.rejected) == 1
    assert "names interface 3" in contents.rejected["reason"][0]
    assert contents.counters.rows_rejected == 1


# Damage -----------------------------------------------------------------------------


def test_cut_in_record_header(tmp_path: Path) -> None:
    frames = [tcp_frame(dport=port) for port in (1, 2, 3)]
    path = write_pcap(tmp_path / "cut.pcap", frames)
    data = path.read_bytes()
    second_end = 24 + 2 * 16 + len(frames[0]) + len(frames[1])
    path.write_bytes(data[: second_end + 10])
    contents = read(path)
    assert contents.rows["dst_port"].tolist() == [1, 2]
    rejected = contents.rejected
    assert len(rejected) == 1
    assert rejected["offset"][0] == second_end
    assert rejected["reason"][0] == "truncated pcap record header: 10 of 16 bytes"


def test_cut_in_packet_data(tmp_path: Path) -> None:
    frames = [tcp_frame(dport=port) for port in (1, 2)]
    path = write_pcap(tmp_path / "cut.pcap", frames)
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    contents = read(path)
    assert contents.rows["dst_port"].tolist() == [1]
    rejected = contents.rejected
    assert rejected["offset"].tolist() == [24 + 16 + len(frames[0])]
    size = len(frames[1])
    assert rejected["reason"][0] == f"truncated packet data: {size - 5} of {size} bytes"


def test_impossible_captured_length(tmp_path: Path) -> None:
    frame = tcp_frame()
    path = write_pcap(tmp_path / "bad.pcap", [frame, frame])
    data = bytearray(path.read_bytes())
    second = 24 + 16 + len(frame)
    data[second + 8 : second + 12] = struct.pack("<I", 10_000_000)
    path.write_bytes(bytes(data))
    contents = read(path)
    assert len(contents.rows) == 1
    assert contents.rejected["offset"].tolist() == [second]
    assert "captured length 10000000 exceeds the maximum 262144" in contents.rejected["reason"][0]
    bigger = read(path, **{"pcap.max-captured-length": "20000000"})
    assert len(bigger.rows) == 1
    assert "truncated packet data" in bigger.rejected["reason"][0]


def test_cut_pcapng_block(tmp_path: Path) -> None:
    frames = [tcp_frame(dport=port) for port in (1, 2)]
    path = write_pcapng(
        tmp_path / "cut.pcapng", [interface()], [(0, BASE_US, frame) for frame in frames]
    )
    data = path.read_bytes()
    path.write_bytes(data[:-6])
    contents = read(path)
    assert contents.rows["dst_port"].tolist() == [1]
    assert len(contents.rejected) == 1
    assert contents.rejected["reason"][0].startswith("truncated pcapng block:")
    assert contents.rejected["offset"][0] == len(data) - len(
        bytes(dpkt.pcapng.EnhancedPacketBlockLE(pkt_data=frames[1]))
    )


def test_corrupt_pcapng_trailer(tmp_path: Path) -> None:
    path = write_pcapng(tmp_path / "bad.pcapng", [interface()], [(0, BASE_US, tcp_frame())] * 3)
    data = bytearray(path.read_bytes())
    data[-4:] = struct.pack("<I", 999)
    path.write_bytes(bytes(data))
    contents = read(path)
    assert len(contents.rows) == 2
    assert "leading length" in contents.rejected["reason"][0]


def test_not_a_capture_raises(tmp_path: Path) -> None:
    path = tmp_path / "notes.pcap"
    path.write_text("hello, these are notes\n")
    with pytest.raises(SourceError, match=r"'.*notes\.pcap' is not a pcap or pcapng capture"):
        read(path)


def test_header_cut_short_is_rejected(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "short.pcap", [tcp_frame()])
    path.write_bytes(path.read_bytes()[:10])
    contents = read(path)
    assert len(contents.rows) == 0
    assert contents.rejected["offset"].tolist() == [0]
    assert contents.rejected["reason"][0] == "truncated pcap file header: 10 of 24 bytes"


def test_unsupported_pcapng_version_rejected(tmp_path: Path) -> None:
    path = write_pcapng(tmp_path / "v2.pcapng", [interface()], [(0, BASE_US, tcp_frame())])
    data = bytearray(path.read_bytes())
    data[12:14] = struct.pack("<H", 2)
    path.write_bytes(bytes(data))
    contents = read(path)
    assert len(contents.rows) == 0
    assert contents.rejected["reason"].tolist() == ["unsupported pcapng version 2.0: expected 1.0"]


def test_empty_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    contents = read(path)
    assert len(contents.rows) == 0
    assert len(contents.rejected) == 0


def test_several_files_and_gzip(tmp_path: Path) -> None:
    import gzip

    folder = tmp_path / "captures"
    folder.mkdir()
    write_pcap(folder / "a.pcap", [tcp_frame(dport=1), tcp_frame(dport=2)])
    plain = write_pcap(tmp_path / "b.pcap", [tcp_frame(dport=3)])
    (folder / "b.pcap.gz").write_bytes(gzip.compress(plain.read_bytes()))
    rows = read(folder).rows
    assert rows["dst_port"].tolist() == [1, 2, 3]
    assert rows["frame"].tolist() == [1, 2, 1]


# Link and network layers ------------------------------------------------------------


def test_tcp_fields_and_flags(tmp_path: Path) -> None:
    frame = tcp_frame(
        sport=1234, dport=80, flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, seq=7, ack=9, win=512
    )
    row = only(read(write_pcap(tmp_path / "a.pcap", [frame])))
    assert row["src_mac"] == "02:00:00:00:00:01"
    assert row["dst_mac"] == "02:00:00:00:00:02"
    assert row["ethertype"] == 0x0800
    assert row["ip_version"] == 4
    assert (row["src_ip"], row["dst_ip"]) == ("10.0.0.1", "10.0.0.2")
    assert row["ttl"] == 64
    assert (row["ip_proto"], row["proto"]) == (6, "tcp")
    assert (row["src_port"], row["dst_port"]) == (1234, 80)
    assert row["tcp_flags"] == "SA"
    assert [row[name] for name in ("syn", "ack", "fin", "rst", "psh", "urg")] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert (row["seq"], row["ack_number"], row["window"]) == (7, 9, 512)
    assert row["payload_length"] == 0
    assert pd.isna(row["vlan"])
    assert row["fragment"] is None
    assert pd.isna(row["decode_error"])


def test_every_flag_letter_in_order(tmp_path: Path) -> None:
    row = only(read(write_pcap(tmp_path / "a.pcap", [tcp_frame(flags=0xFF)])))
    assert row["tcp_flags"] == "FSRPAUEC"


def test_vlan_and_qinq(tmp_path: Path) -> None:
    packet = bytes(ipv4(udp(1000, 2000, b"data")))
    single = (
        CLIENT_MAC
        + SERVER_MAC
        + struct.pack("!HH", 0x8100, 100)
        + struct.pack("!H", 0x0800)
        + packet
    )
    double = (
        SERVER_MAC
        + CLIENT_MAC
        + struct.pack("!HH", 0x88A8, 0x2000 | 300)
        + struct.pack("!HH", 0x8100, 42)
        + struct.pack("!H", 0x0800)
        + packet
    )
    rows = read(write_pcap(tmp_path / "vlan.pcap", [single, double])).rows
    assert rows["vlan"].tolist() == [100, 300]
    assert rows["inner_vlan"].isna().tolist() == [True, False]
    assert rows["inner_vlan"][1] == 42
    assert rows["ethertype"].tolist() == [0x0800, 0x0800]
    assert rows["dst_port"].tolist() == [2000, 2000]
    assert rows["payload_length"].tolist() == [4, 4]


def test_ipv6_with_hop_by_hop_header(tmp_path: Path) -> None:
    segment = tcp(sport=5555, dport=443, flags=dpkt.tcp.TH_SYN)
    hop_by_hop = struct.pack("!BB", 6, 0) + b"\x01\x04\x00\x00\x00\x00"
    body = hop_by_hop + bytes(segment)
    header = struct.pack("!IHBB", 6 << 28, len(body), 0, 33)
    source = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
    destination = socket.inet_pton(socket.AF_INET6, "2001:db8::abcd")
    frame = ethernet(header + source + destination + body, ETH_IP6)
    row = only(read(write_pcap(tmp_path / "v6.pcap", [frame])))
    assert row["ip_version"] == 6
    assert (row["src_ip"], row["dst_ip"]) == ("2001:db8::1", "2001:db8::abcd")
    assert row["ttl"] == 33
    assert (row["ip_proto"], row["proto"]) == (6, "tcp")
    assert (row["src_port"], row["dst_port"]) == (5555, 443)
    assert row["tcp_flags"] == "S"
    assert row["payload_length"] == 0
    assert pd.isna(row["decode_error"])


def test_ipv6_icmp_with_dpkt(tmp_path: Path) -> None:
    message = dpkt.icmp6.ICMP6(type=128, code=0, data=b"\0\0\0\0ping")
    packet = dpkt.ip6.IP6(
        src=socket.inet_pton(socket.AF_INET6, "fe80::1"),
        dst=socket.inet_pton(socket.AF_INET6, "ff02::1"),
        nxt=58,
        hlim=255,
        data=message,
        plen=len(bytes(message)),
    )
    row = only(read(write_pcap(tmp_path / "icmp6.pcap", [ethernet(packet, ETH_IP6)])))
    assert row["proto"] == "icmpv6"
    assert (row["icmp_type"], row["icmp_code"]) == (128, 0)
    assert pd.isna(row["src_port"])


def test_ipv4_fragments(tmp_path: Path) -> None:
    data = b"A" * 40
    datagram = bytes(udp(7000, 53, data))
    # dpkt's offset is the header field, in units of 8 bytes.
    first = ipv4(datagram[:24], id=77, mf=1, p=17)
    second = ipv4(datagram[24:], id=77, offset=3, p=17)
    rows = read(write_pcap(tmp_path / "frag.pcap", [ethernet(first), ethernet(second)])).rows
    assert rows["fragment"].tolist() == [
        {"id": 77, "offset": 0, "more": True},
        {"id": 77, "offset": 24, "more": False},
    ]
    assert rows["src_port"][0] == 7000
    assert pd.isna(rows["src_port"][1])
    assert pd.isna(rows["dst_port"][1])
    assert rows["proto"].tolist() == ["udp", "udp"]
    assert rows["dns"].isna().all()
    assert rows["decode_error"].isna().all()


def test_arp_and_other_non_ip_frames(tmp_path: Path) -> None:
    request = dpkt.arp.ARP(
        sha=CLIENT_MAC,
        spa=socket.inet_aton("10.0.0.1"),
        tha=b"\0" * 6,
        tpa=socket.inet_aton("10.0.0.2"),
        op=dpkt.arp.ARP_OP_REQUEST,
    )
    reply = dpkt.arp.ARP(
        sha=SERVER_MAC,
        spa=socket.inet_aton("10.0.0.2"),
        tha=CLIENT_MAC,
        tpa=socket.inet_aton("10.0.0.1"),
        op=dpkt.arp.ARP_OP_REPLY,
    )
    lldp = ethernet(
        b"\x02\x07\x04" + CLIENT_MAC + b"\x00\x00", 0x88CC, dst=b"\x01\x80\xc2\x00\x00\x0e"
    )
    llc = (
        b"\x01\x80\xc2\x00\x00\x00"
        + CLIENT_MAC
        + struct.pack("!H", 38)
        + b"\x42\x42\x03"
        + b"\0" * 35
    )
    frames = [
        ethernet(request, dpkt.ethernet.ETH_TYPE_ARP),
        ethernet(reply, dpkt.ethernet.ETH_TYPE_ARP),
        lldp,
        llc,
    ]
    contents = read(write_pcap(tmp_path / "l2.pcap", frames))
    rows = contents.rows
    assert rows["proto"].tolist() == ["arp", "arp", "35020", "llc"]
    assert rows["arp"][0] == {
        "operation": "request",
        "sender_mac": "02:00:00:00:00:01",
        "sender_ip": "10.0.0.1",
        "target_mac": "00:00:00:00:00:00",
        "target_ip": "10.0.0.2",
    }
    assert rows["arp"][1]["operation"] == "reply"
    assert rows["arp"][1]["target_mac"] == "02:00:00:00:00:01"
    assert rows["ethertype"][2] == 0x88CC
    assert pd.isna(rows["ethertype"][3])
    assert rows["ip_version"].isna().all()
    assert rows["decode_error"].isna().all()
    assert len(contents.rejected) == 0


def test_linux_cooked_and_raw_links(tmp_path: Path) -> None:
    packet = bytes(ipv4(tcp(dport=22)))
    cooked = (
        struct.pack("!HHH", 0, 1, 6) + CLIENT_MAC + b"\0\0" + struct.pack("!H", 0x0800) + packet
    )
    sll = read(write_pcap(tmp_path / "sll.pcap", [cooked], linktype=113)).rows.iloc[0]
    assert sll["link"] == "linux_sll"
    assert sll["src_mac"] == "02:00:00:00:00:01"
    assert pd.isna(sll["dst_mac"])
    assert sll["dst_port"] == 22
    cooked2 = struct.pack("!HHIHBB", 0x0800, 0, 2, 1, 0, 6) + SERVER_MAC + b"\0\0" + packet
    sll2 = read(write_pcap(tmp_path / "sll2.pcap", [cooked2], linktype=276)).rows.iloc[0]
    assert (sll2["link"], sll2["src_mac"], sll2["dst_port"]) == (
        "linux_sll2",
        "02:00:00:00:00:02",
        22,
    )
    raw = read(write_pcap(tmp_path / "raw.pcap", [packet], linktype=101)).rows.iloc[0]
    assert (raw["link"], raw["ip_version"], raw["dst_port"]) == ("raw", 4, 22)
    assert pd.isna(raw["src_mac"])
    loopback = read(
        write_pcap(tmp_path / "null.pcap", [struct.pack("<I", 2) + packet], linktype=0)
    ).rows.iloc[0]
    assert (loopback["link"], loopback["dst_port"]) == ("null", 22)


def test_unknown_link_type_still_a_row(tmp_path: Path) -> None:
    row = only(read(write_pcap(tmp_path / "wifi.pcap", [b"\x08\x00" + b"\0" * 30], linktype=105)))
    assert row["link"] == "ieee802_11"
    assert row["decode_error"] == "unsupported link type"
    assert pd.isna(row["proto"])


def test_truncated_headers_give_decode_errors(tmp_path: Path) -> None:
    frame = tcp_frame()
    records = [
        (1_700_000_000, 0, frame[: 14 + 20 + 10]),
        (1_700_000_000, 1, frame[:20]),
        (1_700_000_000, 2, frame[:10]),
    ]
    path = write_pcap_raw(tmp_path / "snap.pcap", records, wire=len(frame))
    contents = read(path)
    rows = contents.rows
    assert rows["decode_error"].tolist() == [
        "truncated TCP header",
        "truncated IPv4 header",
        "truncated Ethernet header",
    ]
    assert rows["proto"].tolist()[:2] == ["tcp", "ipv4"]
    assert rows["src_ip"][0] == "10.0.0.1"
    assert pd.isna(rows["src_port"][0])
    assert rows["length"].tolist() == [len(frame)] * 3
    assert rows["captured_length"].tolist() == [44, 20, 10]
    assert len(contents.rejected) == 0


# Application layer ------------------------------------------------------------------


def dns_message(**fields: Any) -> bytes:
    return bytes(dpkt.dns.DNS(**fields))


def test_dns_query_and_answer(tmp_path: Path) -> None:
    question = dpkt.dns.DNS.Q(name="www.example.com", type=dpkt.dns.DNS_A)
    query = dns_message(id=4242, qd=[question])
    answer = dns_message(
        id=4242,
        op=dpkt.dns.DNS_QR | dpkt.dns.DNS_RA,
        rcode=dpkt.dns.DNS_RCODE_NOERR,
        qd=[question],
        an=[
            dpkt.dns.DNS.RR(
                name="www.example.com", type=dpkt.dns.DNS_CNAME, ttl=300, cname="web.example.com"
            ),
            dpkt.dns.DNS.RR(
                name="web.example.com",
                type=dpkt.dns.DNS_A,
                ttl=60,
                ip=socket.inet_aton("192.0.2.7"),
            ),
            dpkt.dns.DNS.RR(
                name="web.example.com",
                type=dpkt.dns.DNS_AAAA,
                ttl=60,
                ip6=socket.inet_pton(socket.AF_INET6, "2001:db8::7"),
            ),
        ],
    )
    frames = [
        ethernet(ipv4(udp(33000, 53, query))),
        ethernet(ipv4(udp(53, 33000, answer), src="10.0.0.2", dst="10.0.0.1")),
    ]
    rows = read(write_pcap(tmp_path / "dns.pcap", frames)).rows
    query_row, answer_row = rows["dns"]
    assert query_row == {
        "id": 4242,
        "response": False,
        "opcode": 0,
        "rcode": 0,
        "rcode_name": "NOERROR",
        "qname": "www.example.com",
        "qtype": "A",
        "answers": [],
    }
    assert answer_row["response"] is True
    assert answer_row["answers"] == [
        {"name": "www.example.com", "type": "CNAME", "ttl": 300, "data": "web.example.com"},
        {"name": "web.example.com", "type": "A", "ttl": 60, "data": "192.0.2.7"},
        {"name": "web.example.com", "type": "AAAA", "ttl": 60, "data": "2001:db8::7"},
    ]


def test_dns_types_tcp_and_errors(tmp_path: Path) -> None:
    tunnel = dns_message(id=1, qd=[dpkt.dns.DNS.Q(name="a1b2.t.example", type=dpkt.dns.DNS_NULL)])
    unknown = dns_message(
        id=2, rcode=3, qr=dpkt.dns.DNS_R, qd=[dpkt.dns.DNS.Q(name="x.example", type=65280)]
    )
    over_tcp = dns_message(id=3, qd=[dpkt.dns.DNS.Q(name="zone.example", type=dpkt.dns.DNS_TXT)])
    mdns = dns_message(id=0, qd=[dpkt.dns.DNS.Q(name="printer.local", type=dpkt.dns.DNS_PTR)])
    frames = [
        ethernet(ipv4(udp(1000, 53, tunnel))),
        ethernet(ipv4(udp(53, 1000, unknown))),
        ethernet(
            ipv4(
                tcp(
                    sport=1001,
                    dport=53,
                    flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH,
                    data=struct.pack("!H", len(over_tcp)) + over_tcp,
                )
            )
        ),
        ethernet(ipv4(udp(5353, 5353, mdns))),
        ethernet(ipv4(udp(1002, 53, b"\x00\x01\x02"))),
        ethernet(ipv4(udp(1003, 53, tunnel[:12] + b"\x05abc"))),
    ]
    rows = read(write_pcap(tmp_path / "dns.pcap", frames)).rows
    dns = rows["dns"]
    assert dns[0]["qtype"] == "NULL"
    assert dns[0]["qname"] == "a1b2.t.example"
    assert (dns[1]["qtype"], dns[1]["rcode"], dns[1]["rcode_name"]) == ("TYPE65280", 3, "NXDOMAIN")
    assert (dns[2]["id"], dns[2]["qtype"], dns[2]["qname"]) == (3, "TXT", "zone.example")
    assert (dns[3]["qname"], dns[3]["qtype"]) == ("printer.local", "PTR")
    assert dns[4] is None
    assert rows["decode_error"][4] == "truncated DNS header: 3 of 12 bytes"
    assert dns[5] is None
    assert rows["decode_error"][5] == "DNS name runs past the end of the message"
    assert rows["decode_error"][:4].isna().all()


def test_http_request_and_response(tmp_path: Path) -> None:
    request = b"GET /search?q=1%27 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8.5\r\nAccept: */*\r\n\r\n"
    response = b"HTTP/1.1 404 Not Found\r\nServer: test\r\nContent-Length: 0\r\n\r\n"
    frames = [
        tcp_frame(sport=40000, dport=8080, flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, data=request),
        ethernet(
            ipv4(
                tcp(sport=8080, dport=40000, flags=dpkt.tcp.TH_ACK, data=response),
                src="10.0.0.2",
                dst="10.0.0.1",
            )
        ),
        tcp_frame(dport=8080, data=b"GETTING binary"),
    ]
    rows = read(write_pcap(tmp_path / "http.pcap", frames)).rows
    assert rows["http"][0] == {
        "method": "GET",
        "uri": "/search?q=1%27",
        "version": "1.1",
        "host": "shop.example",
        "user_agent": "curl/8.5",
        "status": None,
        "reason": None,
    }
    assert rows["http"][1] == {
        "method": None,
        "uri": None,
        "version": "1.1",
        "host": None,
        "user_agent": None,
        "status": 404,
        "reason": "Not Found",
    }
    assert rows["http"][2] is None
    assert rows["payload_length"].tolist() == [len(request), len(response), 14]
    assert rows["decode_error"].isna().all()


def client_hello(server_name: str, versions: list[int]) -> bytes:
    """Build a TLS record with a ClientHello carrying server_name and supported_versions."""
    name = server_name.encode()
    sni_list = struct.pack("!BH", 0, len(name)) + name
    sni = struct.pack("!HH", 0, len(sni_list) + 2) + struct.pack("!H", len(sni_list)) + sni_list
    listed = b"".join(struct.pack("!H", version) for version in versions)
    supported = struct.pack("!HHB", 43, len(listed) + 1, len(listed)) + listed
    grease = struct.pack("!HH", 0x1A1A, 0)
    extensions = grease + sni + supported
    body = (
        struct.pack("!H", 0x0303)
        + b"\x11" * 32
        + b"\x00"
        + struct.pack("!H", 4)
        + b"\x13\x01\x13\x02"
        + b"\x01\x00"
        + struct.pack("!H", len(extensions))
        + extensions
    )
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def test_tls_client_hello_server_name(tmp_path: Path) -> None:
    modern = client_hello("secure.example", [0x0A0A, 0x0304, 0x0303])
    legacy = client_hello("old.example", [])
    frames = [
        tcp_frame(dport=443, flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, data=modern),
        tcp_frame(dport=8443, flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, data=legacy),
        tcp_frame(dport=443, data=b"\x17\x03\x03\x00\x10" + b"\0" * 16),
    ]
    rows = read(write_pcap(tmp_path / "tls.pcap", frames)).rows
    assert rows["tls"][0] == {"version": "TLS 1.3", "sni": "secure.example"}
    assert rows["tls"][1] == {"version": "TLS 1.2", "sni": "old.example"}
    assert rows["tls"][2] is None
    cut = read(write_pcap(tmp_path / "cut.pcap", [tcp_frame(dport=443, data=modern[:60])])).rows
    assert cut["tls"][0] == {"version": "TLS 1.2", "sni": None}


def test_dhcp_message(tmp_path: Path) -> None:
    message = dpkt.dhcp.DHCP(
        op=dpkt.dhcp.DHCP_OP_REQUEST,
        chaddr=CLIENT_MAC,
        xid=0xDEADBEEF,
        opts=[
            (dpkt.dhcp.DHCP_OPT_MSGTYPE, bytes([dpkt.dhcp.DHCPREQUEST])),
            (dpkt.dhcp.DHCP_OPT_REQ_IP, socket.inet_aton("10.0.0.50")),
            (dpkt.dhcp.DHCP_OPT_HOSTNAME, b"laptop"),
        ],
    )
    offer = dpkt.dhcp.DHCP(
        op=dpkt.dhcp.DHCP_OP_REPLY,
        chaddr=CLIENT_MAC,
        xid=1,
        yiaddr=0x0A000032,
        opts=[(dpkt.dhcp.DHCP_OPT_MSGTYPE, bytes([dpkt.dhcp.DHCPOFFER]))],
    )
    frames = [
        ethernet(ipv4(udp(68, 67, bytes(message)), src="0.0.0.0", dst="255.255.255.255")),
        ethernet(ipv4(udp(67, 68, bytes(offer)), src="10.0.0.254", dst="10.0.0.50")),
    ]
    rows = read(write_pcap(tmp_path / "dhcp.pcap", frames)).rows
    assert rows["dhcp"][0] == {
        "message_type": "REQUEST",
        "xid": 0xDEADBEEF,
        "client_mac": "02:00:00:00:00:01",
        "client_ip": None,
        "requested_ip": "10.0.0.50",
        "hostname": "laptop",
    }
    assert rows["dhcp"][1]["message_type"] == "OFFER"
    assert rows["dhcp"][1]["client_ip"] == "10.0.0.50"


def test_ftp_command_and_reply(tmp_path: Path) -> None:
    frames = [
        tcp_frame(
            sport=40000,
            dport=21,
            flags=dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH,
            data=b"user anonymous\r\n",
        ),
        ethernet(
            ipv4(
                tcp(sport=21, dport=40000, data=b"530 Login incorrect.\r\n"),
                src="10.0.0.2",
                dst="10.0.0.1",
            )
        ),
        tcp_frame(sport=40000, dport=21, data=b"QUIT\r\n"),
        tcp_frame(sport=40000, dport=21),
    ]
    rows = read(write_pcap(tmp_path / "ftp.pcap", frames)).rows
    assert rows["ftp"][0] == {
        "command": "USER",
        "argument": "anonymous",
        "reply_code": None,
        "reply_text": None,
    }
    assert rows["ftp"][1] == {
        "command": None,
        "argument": None,
        "reply_code": 530,
        "reply_text": "Login incorrect.",
    }
    assert rows["ftp"][2]["command"] == "QUIT"
    assert rows["ftp"][2]["argument"] is None
    assert rows["ftp"][3] is None


# Declared columns -------------------------------------------------------------------


def test_declared_subset_with_other_types(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "a.pcap", [tcp_frame(dport=80), tcp_frame(dport=443)])
    schema = Schema.of([("dst_port", t.BIGINT), ("TS", t.timestamp(3)), ("proto", t.STRING)])
    contents = read_file(path, "pcap", schema=schema)
    rows = contents.rows
    assert list(rows.columns) == ["dst_port", "TS", "proto"]
    assert str(rows["dst_port"].dtype) == "Int64"
    assert rows["dst_port"].tolist() == [80, 443]
    assert micros(rows.rename(columns={"TS": "ts"})) == [BASE_US, BASE_US + 1_000]


def test_declared_subset_read_directly(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "a.pcap", [tcp_frame(dport=80)])
    schema = PACKET_SCHEMA.select(["dst_port", "dns", "ts"])
    rows = read_file(path, "pcap", schema=schema).rows
    assert list(rows.columns) == ["dst_port", "dns", "ts"]
    assert rows["dst_port"].tolist() == [80]


def test_invalid_options(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "a.pcap", [tcp_frame()])
    with pytest.raises(SourceError, match=re.escape("'pcap.records': use 'packets' or 'flows'")):
        read(path, **{"pcap.records": "frames"})
    with pytest.raises(SourceError, match=re.escape("'pcap.flow-timeout'")):
        read(path, **{"pcap.flow-timeout": "soon"})
    with pytest.raises(SourceError, match=re.escape("'pcap.max-captured-length'")):
        read(path, **{"pcap.max-captured-length": "-1"})
    with pytest.raises(SourceError, match=re.escape("unknown option 'pcap.record'")):
        read(path, **{"pcap.record": "flows"})
