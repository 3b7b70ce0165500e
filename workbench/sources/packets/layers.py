"""Decode link, network and transport headers of a whole batch of packets with numpy.

Every field is read for all packets at once, because the position of each
layer is an array. A packet whose layer is absent or cut short gets
position 0 and a False validity flag, so no read leaves the batch's buffer. Packets
that need more (application payloads) are picked out for Python parsers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.sources.packets.capture import PacketBatch

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_IPV6 = 0x86DD
#: 802.1Q, 802.1ad (QinQ) and the older 0x9100 tag protocol identifiers.
VLAN_ETHERTYPES = (0x8100, 0x88A8, 0x9100)
#: Tags read before giving up; QinQ needs two.
MAX_VLAN_TAGS = 4
#: IPv6 extension headers followed to reach the upper-layer header.
IPV6_EXTENSIONS = (0, 43, 44, 51, 60, 135, 139, 140)
IPV6_FRAGMENT = 44
IPV6_AUTHENTICATION = 51
MAX_IPV6_EXTENSIONS = 8

PROTOCOL_ICMP = 1
PROTOCOL_TCP = 6
PROTOCOL_UDP = 17
PROTOCOL_ICMPV6 = 58

LINK_NULL = 0
LINK_ETHERNET = 1
LINK_LOOP = 108
LINK_LINUX_SLL = 113
LINK_LINUX_SLL2 = 276
#: Raw IP link types: the packet starts with the IP header.
LINK_RAW = (12, 14, 101)
LINK_IPV4 = 228
LINK_IPV6 = 229
#: Address families of IPv6 in the NULL and LOOP headers (Linux, BSDs, macOS).
AF_INET6_VALUES = (10, 24, 28, 30)

#: Decode errors found by this module; index 0 means none.
ERRORS = [
    "",
    "truncated Ethernet header",
    "truncated VLAN tag",
    "truncated Linux cooked capture header",
    "truncated link-layer header",
    "unsupported link type",
    "unknown IP version in a raw IP packet",
    "truncated IPv4 header",
    "invalid IPv4 header: version or header length is wrong",
    "truncated IPv6 header",
    "invalid IPv6 header: version is not 6",
    "truncated IPv6 extension header",
    "too many IPv6 extension headers",
    "truncated TCP header",
    "invalid TCP header length",
    "truncated UDP header",
    "truncated ICMP header",
    "truncated ARP message",
    "invalid IPv4 total length",
]
(
    _,
    E_ETHERNET,
    E_VLAN,
    E_SLL,
    E_LINK,
    E_LINK_TYPE,
    E_RAW_VERSION,
    E_IPV4_CUT,
    E_IPV4_BAD,
    E_IPV6_CUT,
    E_IPV6_BAD,
    E_EXTENSION_CUT,
    E_EXTENSION_COUNT,
    E_TCP_CUT,
    E_TCP_BAD,
    E_UDP_CUT,
    E_ICMP_CUT,
    E_ARP_CUT,
    E_IPV4_LENGTH,
) = range(len(ERRORS))


class _Reader:
    """Big-endian reads of the batch's bytes at arrays of positions."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def u8(self, positions: np.ndarray) -> np.ndarray:
        return self.data[positions].astype(np.int64)

    def u16(self, positions: np.ndarray) -> np.ndarray:
        data = self.data
        return (data[positions].astype(np.int64) << 8) | data[positions + 1]

    def u32(self, positions: np.ndarray) -> np.ndarray:
        return self.unsigned(positions, 4)

    def unsigned(self, positions: np.ndarray, size: int) -> np.ndarray:
        """Return big-endian unsigned integers of 1 to 8 bytes as int64 (uint64 for 8)."""
        index = positions[:, None] + np.arange(size, dtype=np.int64)
        block = self.data[index]
        if size in (1, 2, 4, 8):
            values = np.ascontiguousarray(block).view(f">u{size}").ravel()
        else:
            padded = np.zeros((len(positions), 8), dtype=np.uint8)
            padded[:, 8 - size :] = block
            values = padded.view(">u8").ravel()
        return values.astype(np.uint64 if size == 8 else np.int64)

    def octets(self, positions: np.ndarray, size: int) -> np.ndarray:
        """Return ``size`` bytes at each position as a (count, size) uint8 array."""
        index = positions[:, None] + np.arange(size, dtype=np.int64)
        return self.data[index]


@dataclass
class Headers:
    """Decoded header fields of a batch; -1 (or a False flag) marks a NULL value.

    Offsets (``l3``, ``l4``, ``payload_start``, ``payload_end``) index the
    batch's buffer. ``src6``/``dst6`` hold the addresses of the packets in
    ``ipv6_rows`` only.
    """

    count: int
    error: np.ndarray
    dst_mac_valid: np.ndarray
    src_mac_valid: np.ndarray
    dst_mac: np.ndarray
    src_mac: np.ndarray
    vlan: np.ndarray
    inner_vlan: np.ndarray
    ethertype: np.ndarray
    llc: np.ndarray
    ip_version: np.ndarray
    ttl: np.ndarray
    ip_proto: np.ndarray
    src4: np.ndarray
    dst4: np.ndarray
    ipv6_rows: np.ndarray
    src6: np.ndarray
    dst6: np.ndarray
    fragment: np.ndarray
    fragment_id: np.ndarray
    fragment_offset: np.ndarray
    fragment_more: np.ndarray
    transport: np.ndarray
    src_port: np.ndarray
    dst_port: np.ndarray
    tcp_flags: np.ndarray
    seq: np.ndarray
    ack_number: np.ndarray
    window: np.ndarray
    icmp_type: np.ndarray
    icmp_code: np.ndarray
    payload_length: np.ndarray
    payload_start: np.ndarray
    payload_end: np.ndarray
    arp_rows: np.ndarray
    arp_operation: np.ndarray
    arp_addresses: np.ndarray
    arp_sender_mac: np.ndarray
    arp_sender_ip: np.ndarray
    arp_target_mac: np.ndarray
    arp_target_ip: np.ndarray


def _fail(error: np.ndarray, rows: np.ndarray, code: int) -> None:
    """Record ``code`` for the rows that have no error yet."""
    error[rows & (error == 0)] = code


def _fits(
    error: np.ndarray, rows: np.ndarray, header_end: np.ndarray, end: np.ndarray, code: int
) -> np.ndarray:
    """Record ``code`` for the ``rows`` whose header ends after ``end`` and return the others."""
    whole = rows & (header_end <= end)
    _fail(error, rows & ~whole, code)
    return whole


def _reject(error: np.ndarray, valid: np.ndarray, bad: np.ndarray, code: int) -> np.ndarray:
    """Record ``code`` for the ``bad`` rows and return ``valid`` without them."""
    _fail(error, bad, code)
    return valid & ~bad


def decode_headers(batch: PacketBatch) -> Headers:
    """Decode the link, network and transport headers of every packet in ``batch``."""
    count = len(batch)
    read = _Reader(batch.data)
    start = batch.starts
    end = start + batch.captured
    links = batch.links()
    error = np.zeros(count, dtype=np.int64)
    none = np.full(count, -1, dtype=np.int64)

    link = _decode_link(read, start, end, links, error)
    l3, ethertype = link.l3, link.ethertype

    ip4 = _decode_ipv4(read, l3, ethertype, end, error)
    ip6 = _decode_ipv6(read, l3, ethertype, end, error)

    ip_version = np.where(ip4.valid, 4, np.where(ip6.valid, 6, 0))
    ip_proto = np.where(ip4.valid, ip4.proto, np.where(ip6.valid, ip6.proto, -1))
    ttl = np.where(ip4.valid, ip4.ttl, np.where(ip6.valid, ip6.ttl, -1))
    l4 = np.where(ip4.valid, ip4.l4, ip6.l4)
    transport = (ip4.valid & ip4.has_transport) | (ip6.valid & ip6.has_transport)
    ip_payload = np.where(ip4.valid, ip4.payload, ip6.payload)
    ip_end = np.minimum(np.where(ip4.valid, ip4.end, ip6.end), end)
    fragment = (ip4.valid & ip4.fragment) | (ip6.valid & ip6.fragment)
    fragment_id = np.where(ip4.valid, ip4.fragment_id, ip6.fragment_id)
    fragment_offset = np.where(ip4.valid, ip4.fragment_offset, ip6.fragment_offset)
    fragment_more = np.where(ip4.valid, ip4.fragment_more, ip6.fragment_more)

    ports = _decode_transport(
        read,
        l4=l4,
        ip_end=ip_end,
        ip_proto=ip_proto,
        ip_payload=ip_payload,
        transport=transport,
        error=error,
    )
    arp = _decode_arp(read, l3, ethertype, end, error)

    return Headers(
        count=count,
        error=error,
        dst_mac_valid=link.dst_mac_valid,
        src_mac_valid=link.src_mac_valid,
        dst_mac=link.dst_mac,
        src_mac=link.src_mac,
        vlan=link.vlan,
        inner_vlan=link.inner_vlan,
        ethertype=np.where(link.ethertype_known, ethertype, none),
        llc=link.llc,
        ip_version=ip_version,
        ttl=ttl,
        ip_proto=ip_proto,
        src4=ip4.src,
        dst4=ip4.dst,
        ipv6_rows=ip6.rows,
        src6=ip6.src,
        dst6=ip6.dst,
        fragment=fragment,
        fragment_id=fragment_id,
        fragment_offset=fragment_offset,
        fragment_more=fragment_more,
        transport=transport,
        src_port=ports.src_port,
        dst_port=ports.dst_port,
        tcp_flags=ports.flags,
        seq=ports.seq,
        ack_number=ports.ack_number,
        window=ports.window,
        icmp_type=ports.icmp_type,
        icmp_code=ports.icmp_code,
        payload_length=ports.payload_length,
        payload_start=ports.payload_start,
        payload_end=ports.payload_end,
        arp_rows=arp.rows,
        arp_operation=arp.operation,
        arp_addresses=arp.addresses,
        arp_sender_mac=arp.sender_mac,
        arp_sender_ip=arp.sender_ip,
        arp_target_mac=arp.target_mac,
        arp_target_ip=arp.target_ip,
    )


# Link layer ------------------------------------------------------------------------


@dataclass
class _Link:
    l3: np.ndarray
    ethertype: np.ndarray
    ethertype_known: np.ndarray
    llc: np.ndarray
    dst_mac_valid: np.ndarray
    src_mac_valid: np.ndarray
    dst_mac: np.ndarray
    src_mac: np.ndarray
    vlan: np.ndarray
    inner_vlan: np.ndarray


def _decode_link(
    read: _Reader, start: np.ndarray, end: np.ndarray, links: np.ndarray, error: np.ndarray
) -> _Link:
    """Find each packet's network-layer offset and ethertype, with MAC addresses and VLAN tags."""
    count = len(start)
    l3 = np.full(count, -1, dtype=np.int64)
    ethertype = np.full(count, -1, dtype=np.int64)
    llc = np.zeros(count, dtype=bool)
    dst_mac = np.zeros(count, dtype=np.int64)
    src_mac = np.zeros(count, dtype=np.int64)
    dst_mac_valid = np.zeros(count, dtype=bool)
    src_mac_valid = np.zeros(count, dtype=bool)

    ethernet = links == LINK_ETHERNET
    if ethernet.any():
        whole = _fits(error, ethernet, start + 14, end, E_ETHERNET)
        at = np.where(whole, start, 0)
        dst_mac = np.where(whole, read.unsigned(at, 6), 0)
        src_mac = np.where(whole, read.unsigned(at + 6, 6), 0)
        dst_mac_valid = whole.copy()
        src_mac_valid = whole.copy()
        ethertype = np.where(whole, read.u16(at + 12), ethertype)
        l3 = np.where(whole, start + 14, l3)

    for kind, header, protocol_at, length_at, address_at in (
        (LINK_LINUX_SLL, 16, 14, 4, 6),
        (LINK_LINUX_SLL2, 20, 0, 10, 12),
    ):
        cooked = links == kind
        if not cooked.any():
            continue
        whole = _fits(error, cooked, start + header, end, E_SLL)
        at = np.where(whole, start, 0)
        ethertype = np.where(whole, read.u16(at + protocol_at), ethertype)
        l3 = np.where(whole, start + header, l3)
        if kind == LINK_LINUX_SLL:
            address_length = read.u16(at + length_at)
        else:
            address_length = read.u8(at + length_at + 1)
        has_mac = whole & (address_length == 6)
        src_mac = np.where(has_mac, read.unsigned(at + address_at, 6), src_mac)
        src_mac_valid = src_mac_valid | has_mac

    raw = np.isin(links, (*LINK_RAW, LINK_IPV4, LINK_IPV6))
    if raw.any():
        whole = _fits(error, raw, start + 1, end, E_LINK)
        version = read.u8(np.where(whole, start, 0)) >> 4
        found = np.where(version == 4, ETHERTYPE_IPV4, np.where(version == 6, ETHERTYPE_IPV6, -1))
        found = np.where(links == LINK_IPV4, ETHERTYPE_IPV4, found)
        found = np.where(links == LINK_IPV6, ETHERTYPE_IPV6, found)
        _fail(error, whole & (found < 0), E_RAW_VERSION)
        ethertype = np.where(whole, found, ethertype)
        l3 = np.where(whole & (found >= 0), start, l3)

    loopback = (links == LINK_NULL) | (links == LINK_LOOP)
    if loopback.any():
        whole = _fits(error, loopback, start + 4, end, E_LINK)
        at = np.where(whole, start, 0)
        big = read.u32(at)
        octets = read.octets(at, 4).astype(np.int64)
        little = octets[:, 0] | (octets[:, 1] << 8) | (octets[:, 2] << 16) | (octets[:, 3] << 24)
        # NULL stores the family in the writer's byte order, LOOP in network order.
        family = np.where(little < 256, little, big)
        found = np.where(
            family == 2,
            ETHERTYPE_IPV4,
            np.where(np.isin(family, AF_INET6_VALUES), ETHERTYPE_IPV6, -1),
        )
        _fail(error, whole & (found < 0), E_RAW_VERSION)
        ethertype = np.where(whole, found, ethertype)
        l3 = np.where(whole & (found >= 0), start + 4, l3)

    known = ethernet | np.isin(links, (LINK_LINUX_SLL, LINK_LINUX_SLL2)) | raw | loopback
    _fail(error, ~known, E_LINK_TYPE)

    vlan = np.full(count, -1, dtype=np.int64)
    inner_vlan = np.full(count, -1, dtype=np.int64)
    for depth in range(MAX_VLAN_TAGS):
        tagged = (l3 >= 0) & np.isin(ethertype, VLAN_ETHERTYPES)
        if not tagged.any():
            break
        whole = tagged & (l3 + 4 <= end)
        cut = tagged & ~whole
        _fail(error, cut, E_VLAN)
        l3 = np.where(cut, -1, l3)
        at = np.where(whole, l3, 0)
        tag = read.u16(at) & 0x0FFF
        if depth == 0:
            vlan = np.where(whole, tag, vlan)
        elif depth == 1:
            inner_vlan = np.where(whole, tag, inner_vlan)
        ethertype = np.where(whole, read.u16(at + 2), ethertype)
        l3 = np.where(whole, l3 + 4, l3)

    # An Ethernet type field below 0x0600 is an 802.3 length: LLC follows, maybe with SNAP.
    length_field = (l3 >= 0) & (ethertype >= 0) & (ethertype < 0x0600)
    ethertype_known = (ethertype >= 0) & ~length_field
    if length_field.any():
        at = np.where(length_field & (l3 + 8 <= end), l3, 0)
        snap = (
            length_field
            & (l3 + 8 <= end)
            & (read.u8(at) == 0xAA)
            & (read.u8(at + 1) == 0xAA)
            & (read.u8(at + 2) == 0x03)
        )
        ethertype = np.where(snap, read.u16(at + 6), ethertype)
        l3 = np.where(snap, l3 + 8, l3)
        ethertype_known = ethertype_known | snap
        llc = length_field & ~snap
    return _Link(
        l3=l3,
        ethertype=np.where(ethertype_known, ethertype, -1),
        ethertype_known=ethertype_known,
        llc=llc,
        dst_mac_valid=dst_mac_valid,
        src_mac_valid=src_mac_valid,
        dst_mac=dst_mac,
        src_mac=src_mac,
        vlan=vlan,
        inner_vlan=inner_vlan,
    )


# Network layer ---------------------------------------------------------------------


@dataclass
class _Network:
    valid: np.ndarray
    proto: np.ndarray
    ttl: np.ndarray
    l4: np.ndarray
    end: np.ndarray
    payload: np.ndarray
    has_transport: np.ndarray
    fragment: np.ndarray
    fragment_id: np.ndarray
    fragment_offset: np.ndarray
    fragment_more: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    rows: np.ndarray


def _decode_ipv4(
    read: _Reader, l3: np.ndarray, ethertype: np.ndarray, end: np.ndarray, error: np.ndarray
) -> _Network:
    candidate = (l3 >= 0) & (ethertype == ETHERTYPE_IPV4)
    valid = _fits(error, candidate, l3 + 20, end, E_IPV4_CUT)
    at = np.where(valid, l3, 0)
    first = read.u8(at)
    header = (first & 0x0F) * 4
    valid = _reject(error, valid, valid & (((first >> 4) != 4) | (header < 20)), E_IPV4_BAD)
    valid = _fits(error, valid, l3 + header, end, E_IPV4_CUT)

    at = np.where(valid, l3, 0)
    total = read.u16(at + 2)
    # Captures on a host with segmentation offload record 0 here: use the captured size then.
    total = np.where(total == 0, end - l3, total)
    valid = _reject(error, valid, valid & (total < header), E_IPV4_LENGTH)

    flags = read.u16(at + 6)
    more = (flags & 0x2000) != 0
    offset = (flags & 0x1FFF) * 8
    fragment = valid & (more | (offset > 0))
    return _Network(
        valid=valid,
        proto=read.u8(at + 9),
        ttl=read.u8(at + 8),
        l4=np.where(valid, l3 + header, 0),
        end=np.where(valid, l3 + total, 0),
        payload=total - header,
        has_transport=valid & (offset == 0),
        fragment=fragment,
        fragment_id=read.u16(at + 4),
        fragment_offset=offset,
        fragment_more=more,
        src=np.where(valid, read.u32(at + 12), 0),
        dst=np.where(valid, read.u32(at + 16), 0),
        rows=np.flatnonzero(valid),
    )


def _decode_ipv6(
    read: _Reader, l3: np.ndarray, ethertype: np.ndarray, end: np.ndarray, error: np.ndarray
) -> _Network:
    count = len(l3)
    candidate = (l3 >= 0) & (ethertype == ETHERTYPE_IPV6)
    valid = _fits(error, candidate, l3 + 40, end, E_IPV6_CUT)
    at = np.where(valid, l3, 0)
    valid = _reject(error, valid, valid & ((read.u8(at) >> 4) != 6), E_IPV6_BAD)

    at = np.where(valid, l3, 0)
    hop_limit = read.u8(at + 7)
    payload_length = read.u16(at + 4)
    # A jumbogram has payload length 0 and a hop-by-hop option with the real size.
    payload_length = np.where(payload_length == 0, end - l3 - 40, payload_length)
    next_header = np.where(valid, read.u8(at + 6), -1)
    position = np.where(valid, l3 + 40, 0)
    has_transport = valid.copy()
    fragment = np.zeros(count, dtype=bool)
    fragment_id = np.zeros(count, dtype=np.int64)
    fragment_offset = np.zeros(count, dtype=np.int64)
    fragment_more = np.zeros(count, dtype=bool)

    for _ in range(MAX_IPV6_EXTENSIONS):
        extension = has_transport & np.isin(next_header, IPV6_EXTENSIONS)
        if not extension.any():
            break
        whole = _fits(error, extension, position + 8, end, E_EXTENSION_CUT)
        has_transport &= ~(extension & ~whole)
        at = np.where(whole, position, 0)
        following = read.u8(at)
        size = np.where(
            next_header == IPV6_FRAGMENT,
            8,
            np.where(
                next_header == IPV6_AUTHENTICATION,
                (read.u8(at + 1) + 2) * 4,
                (read.u8(at + 1) + 1) * 8,
            ),
        )
        is_fragment = whole & (next_header == IPV6_FRAGMENT)
        if is_fragment.any():
            field = read.u16(at + 2)
            offset = field & 0xFFF8
            more = (field & 1) != 0
            fragment |= is_fragment
            fragment_offset = np.where(is_fragment, offset, fragment_offset)
            fragment_more = np.where(is_fragment, more, fragment_more)
            fragment_id = np.where(is_fragment, read.u32(at + 4), fragment_id)
            has_transport &= ~(is_fragment & (offset > 0))
        next_header = np.where(whole, following, next_header)
        position = np.where(whole, position + size, position)

    left = has_transport & np.isin(next_header, IPV6_EXTENSIONS)
    has_transport = _reject(error, has_transport, left, E_EXTENSION_COUNT)

    rows = np.flatnonzero(valid)
    src = read.octets(l3[rows] + 8, 16)
    dst = read.octets(l3[rows] + 24, 16)
    extension_bytes = position - (l3 + 40)
    return _Network(
        valid=valid,
        proto=next_header,
        ttl=hop_limit,
        l4=np.where(has_transport, position, 0),
        end=np.where(valid, l3 + 40 + payload_length, 0),
        payload=payload_length - extension_bytes,
        has_transport=has_transport,
        fragment=fragment,
        fragment_id=fragment_id,
        fragment_offset=fragment_offset,
        fragment_more=fragment_more,
        src=src,
        dst=dst,
        rows=rows,
    )


# Transport layer -------------------------------------------------------------------


@dataclass
class _Transport:
    src_port: np.ndarray
    dst_port: np.ndarray
    flags: np.ndarray
    seq: np.ndarray
    ack_number: np.ndarray
    window: np.ndarray
    icmp_type: np.ndarray
    icmp_code: np.ndarray
    payload_length: np.ndarray
    payload_start: np.ndarray
    payload_end: np.ndarray


def _decode_transport(
    read: _Reader,
    *,
    l4: np.ndarray,
    ip_end: np.ndarray,
    ip_proto: np.ndarray,
    ip_payload: np.ndarray,
    transport: np.ndarray,
    error: np.ndarray,
) -> _Transport:
    count = len(l4)
    none = np.full(count, -1, dtype=np.int64)
    tcp = transport & (ip_proto == PROTOCOL_TCP)
    udp = transport & (ip_proto == PROTOCOL_UDP)
    icmp = transport & ((ip_proto == PROTOCOL_ICMP) | (ip_proto == PROTOCOL_ICMPV6))

    tcp_whole = _fits(error, tcp, l4 + 20, ip_end, E_TCP_CUT)
    udp_whole = _fits(error, udp, l4 + 8, ip_end, E_UDP_CUT)
    icmp_whole = _fits(error, icmp, l4 + 2, ip_end, E_ICMP_CUT)

    ported = tcp_whole | udp_whole
    at = np.where(ported | icmp_whole, l4, 0)
    src_port = np.where(ported, read.u16(at), none)
    dst_port = np.where(ported, read.u16(at + 2), none)

    at_tcp = np.where(tcp_whole, l4, 0)
    offset_byte = read.u8(at_tcp + 12)
    tcp_header = (offset_byte >> 4) * 4
    tcp_payload = ip_payload - tcp_header
    tcp_bad = tcp_whole & ((tcp_header < 20) | (tcp_payload < 0))
    _fail(error, tcp_bad, E_TCP_BAD)
    flags = np.where(tcp_whole, read.u8(at_tcp + 13), none)
    seq = np.where(tcp_whole, read.u32(at_tcp + 4), none)
    ack_number = np.where(tcp_whole, read.u32(at_tcp + 8), none)
    window = np.where(tcp_whole, read.u16(at_tcp + 14), none)

    icmp_type = np.where(icmp_whole, read.u8(at), none)
    icmp_code = np.where(icmp_whole, read.u8(at + 1), none)

    header = np.where(tcp_whole, tcp_header, np.where(udp_whole | icmp_whole, 8, 0))
    payload_length = np.where(
        tcp_whole & ~tcp_bad,
        tcp_payload,
        np.where(
            udp_whole | icmp_whole,
            np.maximum(ip_payload - 8, 0),
            np.where(transport & ~tcp & ~udp & ~icmp, ip_payload, -1),
        ),
    )
    payload_start = np.where(tcp_whole | udp_whole, np.minimum(l4 + header, ip_end), 0)
    payload_end = np.where(tcp_whole | udp_whole, ip_end, 0)
    payload_end = np.where(tcp_bad, payload_start, payload_end)
    return _Transport(
        src_port=src_port,
        dst_port=dst_port,
        flags=flags,
        seq=seq,
        ack_number=ack_number,
        window=window,
        icmp_type=icmp_type,
        icmp_code=icmp_code,
        payload_length=payload_length,
        payload_start=payload_start,
        payload_end=np.maximum(payload_end, payload_start),
    )


# ARP -------------------------------------------------------------------------------


@dataclass
class _Arp:
    rows: np.ndarray
    operation: np.ndarray
    addresses: np.ndarray
    sender_mac: np.ndarray
    sender_ip: np.ndarray
    target_mac: np.ndarray
    target_ip: np.ndarray


def _decode_arp(
    read: _Reader, l3: np.ndarray, ethertype: np.ndarray, end: np.ndarray, error: np.ndarray
) -> _Arp:
    candidate = (l3 >= 0) & (ethertype == ETHERTYPE_ARP)
    whole = _fits(error, candidate, l3 + 8, end, E_ARP_CUT)
    rows = np.flatnonzero(whole)
    at = l3[rows]
    hardware_length = read.u8(at + 4)
    protocol_length = read.u8(at + 5)
    ethernet_ipv4 = (hardware_length == 6) & (protocol_length == 4)
    fits = ethernet_ipv4 & (at + 28 <= end[rows])
    cut = ethernet_ipv4 & ~fits
    cut_rows = np.zeros(len(l3), dtype=bool)
    cut_rows[rows[cut]] = True
    _fail(error, cut_rows, E_ARP_CUT)
    keep = ~cut
    rows = rows[keep]
    at = at[keep]
    fits = fits[keep]
    safe = np.where(fits, at, 0)
    return _Arp(
        rows=rows,
        operation=read.u16(at + 6),
        addresses=fits,
        sender_mac=read.unsigned(safe + 8, 6),
        sender_ip=read.u32(safe + 14),
        target_mac=read.unsigned(safe + 18, 6),
        target_ip=read.u32(safe + 24),
    )
