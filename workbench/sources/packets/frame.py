"""Build the packet reader's DataFrame from a batch: typed columns, nested rows, decode errors.

Columns are built directly in the pandas dtypes of the packet schema
(nullable integers with masks, pyarrow strings through a dictionary of the
distinct values), so a table that reads them as declared needs no further
conversion.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.events.convert import from_arrow
from workbench.sources.packets import application as app
from workbench.sources.packets.capture import PacketBatch, link_type_name
from workbench.sources.packets.layers import (
    ERRORS,
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    PROTOCOL_ICMP,
    PROTOCOL_ICMPV6,
    PROTOCOL_TCP,
    PROTOCOL_UDP,
    Headers,
    decode_headers,
)

_STRING_DTYPE = pd.StringDtype("pyarrow")
_TCP_LETTERS = "FSRPAUEC"
#: The flag letters of every value of the TCP flags byte.
TCP_FLAG_TEXT = pa.array(
    [
        "".join(letter for bit, letter in enumerate(_TCP_LETTERS) if value & (1 << bit))
        for value in range(256)
    ],
    type=pa.large_string(),
)
_TCP_FLAG_BITS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20}
_PROTOCOL_NAMES = {
    PROTOCOL_TCP: "tcp",
    PROTOCOL_UDP: "udp",
    PROTOCOL_ICMP: "icmp",
    PROTOCOL_ICMPV6: "icmpv6",
}
_ARP_OPERATIONS = {1: "request", 2: "reply", 3: "reverse request", 4: "reverse reply"}


def strings(
    codes: np.ndarray, dictionary: list[str] | pa.Array
) -> pd.api.extensions.ExtensionArray:
    """Return a pyarrow string array: ``dictionary[code]``, NULL where the code is negative."""
    missing = codes < 0
    if len(dictionary) == 0 or missing.all():
        values = pa.nulls(len(codes), type=pa.large_string())
    else:
        if not isinstance(dictionary, pa.Array):
            dictionary = pa.array(dictionary, type=pa.large_string())
        values = dictionary.take(pa.array(codes, type=pa.int64(), mask=missing))
    return from_arrow(values, _STRING_DTYPE).array


def integers(
    values: np.ndarray, dtype: str, valid: np.ndarray | None = None
) -> pd.api.extensions.ExtensionArray:
    """Return a nullable integer array; NULL where ``valid`` is False, or where values are -1."""
    if valid is None:
        valid = values >= 0
    numpy_type = {"Int32": np.int32, "Int64": np.int64}[dtype]
    return pd.arrays.IntegerArray(np.where(valid, values, 0).astype(numpy_type), ~valid)


def booleans(values: np.ndarray, valid: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.arrays.BooleanArray(values & valid, ~valid)


def objects(count: int, rows: Iterable[int], values: Iterable[object]) -> np.ndarray:
    """Return an object array of ``count`` Nones with ``values`` placed at ``rows``."""
    result = np.full(count, None, dtype=object)
    for index, value in zip(rows, values, strict=True):
        result[index] = value
    return result


def factorized_text(
    values: np.ndarray, valid: np.ndarray, render: Callable[[int], str]
) -> tuple[np.ndarray, list[str]]:
    """Return codes and a dictionary for the text of the valid integer values, rendering each distinct value once."""
    codes = np.full(len(values), -1, dtype=np.int64)
    rows = np.flatnonzero(valid)
    if len(rows) == 0:
        return codes, []
    found, uniques = pd.factorize(values[rows])
    codes[rows] = found
    return codes, [render(value) for value in uniques.tolist()]


@lru_cache(maxsize=1 << 16)
def mac_text(value: int) -> str:
    return value.to_bytes(6, "big").hex(":")


@lru_cache(maxsize=1 << 16)
def ipv4_text(value: int) -> str:
    return socket.inet_ntoa(value.to_bytes(4, "big"))


def ip_text(headers: Headers, ipv4: np.ndarray, ipv6: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Return codes and a dictionary of IPv4 and IPv6 address text for a source or destination column."""
    codes, dictionary = factorized_text(ipv4, headers.ip_version == 4, ipv4_text)
    if len(headers.ipv6_rows):
        packed = np.ascontiguousarray(ipv6).view("V16").ravel()
        uniques, inverse = np.unique(packed, return_inverse=True)
        codes[headers.ipv6_rows] = inverse.ravel() + len(dictionary)
        dictionary = dictionary + [
            socket.inet_ntop(socket.AF_INET6, value.tobytes()) for value in uniques
        ]
    return codes, dictionary


@dataclass
class Applications:
    """Nested rows and error text of the application layer, by packet index."""

    columns: dict[str, dict[int, app.Row]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)


_HTTP_PREFIX_CODES = np.array(
    sorted(int.from_bytes(prefix, "big") for prefix in app.HTTP_PREFIXES), dtype=np.int64
)


def decode_applications(batch: PacketBatch, headers: Headers) -> Applications:
    """Decode the application payloads of the packets whose ports or first bytes call for it."""
    found = Applications({name: {} for name in ("dns", "http", "tls", "dhcp", "ftp")})
    start = headers.payload_start
    captured = headers.payload_end - start
    tcp = (headers.ip_proto == PROTOCOL_TCP) & (headers.tcp_flags >= 0)
    udp = (headers.ip_proto == PROTOCOL_UDP) & (headers.src_port >= 0)
    # NOTE: fragments are not reassembled, so their payloads are not decoded.
    present = (captured > 0) & ~headers.fragment & (headers.error == 0)
    source, destination = headers.src_port, headers.dst_port

    dns = (
        present
        & (tcp | udp)
        & (np.isin(source, app.DNS_PORTS) | np.isin(destination, app.DNS_PORTS))
    )
    dhcp = (
        present
        & udp
        & ~dns
        & np.isin(source, app.DHCP_PORTS)
        & np.isin(destination, app.DHCP_PORTS)
    )
    ftp = present & tcp & ~dns & ((source == app.FTP_PORT) | (destination == app.FTP_PORT))
    content = present & tcp & ~dns & ~ftp & (captured >= 4)
    first = np.where(content, start, 0)
    data = batch.data
    prefix = (
        (data[first].astype(np.int64) << 24)
        | (data[first + 1].astype(np.int64) << 16)
        | (data[first + 2].astype(np.int64) << 8)
        | data[first + 3]
    )
    http = content & np.isin(prefix, _HTTP_PREFIX_CODES)
    tls = (
        content
        & ~http
        & (captured >= 6)
        & ((prefix >> 24) == 0x16)
        & (((prefix >> 16) & 0xFF) == 3)
    )
    tls &= data[np.where(tls, start + 5, 0)] == 1

    buffer = batch.buffer
    starts = start.tolist()
    ends = headers.payload_end.tolist()

    def run(name: str, mask: np.ndarray, parse: Callable[[int, bytes], app.Row | None]) -> None:
        rows = found.columns[name]
        for index in np.flatnonzero(mask).tolist():
            try:
                value = parse(index, buffer[starts[index] : ends[index]])
            except app.MalformedError as exc:
                found.errors[index] = str(exc)
                continue
            except (ValueError, IndexError, struct.error) as exc:
                # A parser that trips over bytes it does not expect rejects the payload, not the file.
                found.errors[index] = f"invalid {name.upper()} payload: {exc}"
                continue
            if value is not None:
                rows[index] = value

    run("dns", dns, lambda index, payload: app.parse_dns(payload, tcp=bool(tcp[index])))
    run("dhcp", dhcp, lambda _, payload: app.parse_dhcp(payload))
    from_server = source == app.FTP_PORT
    run(
        "ftp",
        ftp,
        lambda index, payload: app.parse_ftp(payload, from_server=bool(from_server[index])),
    )
    run("http", http, lambda _, payload: app.parse_http(payload))
    run("tls", tls, lambda _, payload: app.parse_tls_client_hello(payload))
    return found


def _proto_codes(headers: Headers) -> tuple[np.ndarray, list[str]]:
    """Return codes and a dictionary for the ``proto`` column."""
    dictionary = ["tcp", "udp", "icmp", "icmpv6", "arp", "ipv4", "ipv6", "llc"]
    codes = np.full(headers.count, -1, dtype=np.int64)
    ip = headers.ip_version > 0
    proto = headers.ip_proto
    named = {PROTOCOL_TCP: 0, PROTOCOL_UDP: 1, PROTOCOL_ICMP: 2, PROTOCOL_ICMPV6: 3}
    for number, code in named.items():
        codes[ip & (proto == number)] = code
    ethertype = headers.ethertype
    codes[~ip & (ethertype == ETHERTYPE_IPV4)] = 5
    codes[~ip & (ethertype == ETHERTYPE_IPV6)] = 6
    codes[ethertype == ETHERTYPE_ARP] = 4
    codes[headers.llc] = 7
    other_ip = ip & (codes < 0)
    other_link = ~ip & (codes < 0) & (ethertype >= 0)
    numbers = np.where(other_ip, proto, np.where(other_link, ethertype, -1))
    other = other_ip | other_link
    if other.any():
        found, uniques = pd.factorize(numbers[other])
        codes[other] = found + len(dictionary)
        dictionary = dictionary + [str(value) for value in uniques.tolist()]
    return codes, dictionary


def _error_codes(headers: Headers, errors: dict[int, str]) -> tuple[np.ndarray, list[str]]:
    codes = headers.error - 1
    dictionary = ERRORS[1:]
    if errors:
        extra = sorted(set(errors.values()))
        position = {text: len(dictionary) + index for index, text in enumerate(extra)}
        dictionary = dictionary + extra
        for index, text in errors.items():
            codes[index] = position[text]
    return codes, dictionary


def _arp_rows(headers: Headers) -> list[app.Row]:
    rows = []
    operations = headers.arp_operation.tolist()
    full = headers.arp_addresses.tolist()
    sender_mac = headers.arp_sender_mac.tolist()
    sender_ip = headers.arp_sender_ip.tolist()
    target_mac = headers.arp_target_mac.tolist()
    target_ip = headers.arp_target_ip.tolist()
    for index, operation in enumerate(operations):
        addresses = full[index]
        rows.append(
            {
                "operation": _ARP_OPERATIONS.get(operation) or str(operation),
                "sender_mac": mac_text(sender_mac[index]) if addresses else None,
                "sender_ip": ipv4_text(sender_ip[index]) if addresses else None,
                "target_mac": mac_text(target_mac[index]) if addresses else None,
                "target_ip": ipv4_text(target_ip[index]) if addresses else None,
            }
        )
    return rows


def _fragment_rows(headers: Headers) -> tuple[np.ndarray, list[app.Row]]:
    rows = np.flatnonzero(headers.fragment)
    values = [
        {"id": ident, "offset": offset, "more": more}
        for ident, offset, more in zip(
            headers.fragment_id[rows].tolist(),
            headers.fragment_offset[rows].tolist(),
            headers.fragment_more[rows].tolist(),
            strict=True,
        )
    ]
    return rows, values


def packet_columns(batch: PacketBatch, headers: Headers) -> dict[str, object]:
    """Return the columns of the packet schema that come from the headers alone."""
    count = len(batch)
    table = batch.interface_table
    interface_numbers = np.array([item.number for item in table], dtype=np.int64)
    names = [item.name for item in table]
    name_dictionary = sorted({name for name in names if name is not None})
    name_codes = np.array(
        [name_dictionary.index(name) if name is not None else -1 for name in names], dtype=np.int64
    )
    link_dictionary = sorted({link_type_name(item.link) for item in table})
    link_codes = np.array(
        [link_dictionary.index(link_type_name(item.link)) for item in table], dtype=np.int64
    )
    interfaces = batch.interfaces
    ts = (batch.ts_ns // 1000 * 1000).view("datetime64[ns]")

    src_mac = factorized_text(headers.src_mac, headers.src_mac_valid, mac_text)
    dst_mac = factorized_text(headers.dst_mac, headers.dst_mac_valid, mac_text)
    src_ip = ip_text(headers, headers.src4, headers.src6)
    dst_ip = ip_text(headers, headers.dst4, headers.dst6)
    tcp = headers.tcp_flags >= 0
    flags = np.where(tcp, headers.tcp_flags, 0)

    columns: dict[str, object] = {
        "ts": ts,
        "frame": integers(batch.frames, "Int64"),
        "interface": integers(interface_numbers[interfaces], "Int32"),
        "interface_name": strings(name_codes[interfaces], name_dictionary),
        "length": integers(batch.wire, "Int32"),
        "captured_length": integers(batch.captured, "Int32"),
        "link": strings(link_codes[interfaces], link_dictionary),
        "src_mac": strings(*src_mac),
        "dst_mac": strings(*dst_mac),
        "vlan": integers(headers.vlan, "Int32"),
        "inner_vlan": integers(headers.inner_vlan, "Int32"),
        "ethertype": integers(headers.ethertype, "Int32"),
        "ip_version": integers(headers.ip_version, "Int32", headers.ip_version > 0),
        "src_ip": strings(*src_ip),
        "dst_ip": strings(*dst_ip),
        "ttl": integers(headers.ttl, "Int32", headers.ip_version > 0),
        "ip_proto": integers(headers.ip_proto, "Int32", headers.ip_version > 0),
        "proto": strings(*_proto_codes(headers)),
        "src_port": integers(headers.src_port, "Int32"),
        "dst_port": integers(headers.dst_port, "Int32"),
        "tcp_flags": strings(np.where(tcp, flags, -1), TCP_FLAG_TEXT),
    }
    for name, bit in _TCP_FLAG_BITS.items():
        columns[name] = booleans((flags & bit) != 0, tcp)
    columns.update(
        {
            "seq": integers(headers.seq, "Int64"),
            "ack_number": integers(headers.ack_number, "Int64"),
            "window": integers(headers.window, "Int32"),
            "icmp_type": integers(headers.icmp_type, "Int32"),
            "icmp_code": integers(headers.icmp_code, "Int32"),
            "payload_length": integers(headers.payload_length, "Int32"),
        }
    )
    fragment_rows, fragment_values = _fragment_rows(headers)
    columns["fragment"] = objects(count, fragment_rows.tolist(), fragment_values)
    columns["arp"] = objects(count, headers.arp_rows.tolist(), _arp_rows(headers))
    return columns


def packet_frame(batch: PacketBatch, *, applications: bool = True) -> pd.DataFrame:
    """Decode a batch into a DataFrame with the packet schema's columns and dtypes.

    Without ``applications``, the DNS, HTTP, TLS, DHCP and FTP columns are
    NULL and their payloads are not parsed (the flow reader needs none).
    """
    headers = decode_headers(batch)
    columns = packet_columns(batch, headers)
    count = len(batch)
    found = decode_applications(batch, headers) if applications else Applications()
    for name in ("dns", "http", "tls", "dhcp", "ftp"):
        rows = found.columns.get(name, {})
        columns[name] = objects(count, rows.keys(), rows.values())
    columns["decode_error"] = strings(*_error_codes(headers, found.errors))
    return pd.DataFrame(columns, index=pd.RangeIndex(count), copy=False)
