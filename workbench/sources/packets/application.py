"""Parsers of the application protocols the packet reader decodes: DNS, HTTP, TLS, DHCP, FTP.

Each parser takes the captured transport payload of one packet and returns
the packet's nested row as a dict, None when the payload is not that
protocol, or raises :class:`MalformedError` with the reason the payload
could not be decoded. There is no TCP reassembly: a message split over
several segments is decoded from its first segment only.
"""

from __future__ import annotations

import re
import socket
import struct
from typing import Any

import dpkt

Row = dict[str, Any]

DNS_PORTS = (53, 5353)
DHCP_PORTS = (67, 68)
FTP_PORT = 21


class MalformedError(ValueError):
    """A payload that claims to be a protocol's message but cannot be decoded."""


# DNS -----------------------------------------------------------------------------

#: Resource record types by number (IANA DNS parameters); others read 'TYPE<n>' (RFC 3597).
DNS_TYPES = {
    1: "A",
    2: "NS",
    5: "CNAME",
    6: "SOA",
    10: "NULL",
    11: "WKS",
    12: "PTR",
    13: "HINFO",
    15: "MX",
    16: "TXT",
    17: "RP",
    18: "AFSDB",
    24: "SIG",
    25: "KEY",
    28: "AAAA",
    29: "LOC",
    33: "SRV",
    35: "NAPTR",
    36: "KX",
    37: "CERT",
    39: "DNAME",
    41: "OPT",
    42: "APL",
    43: "DS",
    44: "SSHFP",
    45: "IPSECKEY",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    49: "DHCID",
    50: "NSEC3",
    51: "NSEC3PARAM",
    52: "TLSA",
    53: "SMIMEA",
    55: "HIP",
    59: "CDS",
    60: "CDNSKEY",
    61: "OPENPGPKEY",
    62: "CSYNC",
    63: "ZONEMD",
    64: "SVCB",
    65: "HTTPS",
    99: "SPF",
    108: "EUI48",
    109: "EUI64",
    249: "TKEY",
    250: "TSIG",
    251: "IXFR",
    252: "AXFR",
    255: "ANY",
    256: "URI",
    257: "CAA",
}
#: Response codes by number (RFC 1035, RFC 2136); others read 'RCODE<n>'.
DNS_RCODES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
}
_NAME_TYPES = frozenset({2, 3, 4, 5, 7, 8, 9, 12, 39})
_MAX_NAME_BYTES = 255
_DNS_HEADER = struct.Struct("!HHHHHH")
_DNS_QUESTION = struct.Struct("!HH")
_DNS_RECORD = struct.Struct("!HHIH")


def dns_type_name(number: int) -> str:
    return DNS_TYPES.get(number) or f"TYPE{number}"


def read_dns_name(
    message: bytes, position: int, names: dict[int, str] | None = None
) -> tuple[str, int]:
    """Read a possibly compressed domain name; return it and the position after it.

    Like dpkt, a compression pointer must point before the name part that
    contains it, which rules out loops. The root name reads '.'. ``names``
    caches the names already read from this message by their position, so
    the usual answer name (a pointer to the question's name) is looked up.
    """
    size = len(message)
    if position + 1 < size and message[position] >= 0xC0 and names:
        known = names.get(((message[position] & 0x3F) << 8) | message[position + 1])
        if known is not None:
            return known, position + 2
    start = position
    labels: list[bytes] = []
    after = -1
    lowest = position
    total = 0
    while True:
        if position >= size:
            text = "DNS name runs past the end of the message"
            raise MalformedError(text)
        length = message[position]
        if length == 0:
            position += 1
            break
        if length >= 0xC0:
            if position + 1 >= size:
                text = "DNS name runs past the end of the message"
                raise MalformedError(text)
            pointer = ((length & 0x3F) << 8) | message[position + 1]
            if pointer >= lowest:
                text = f"invalid DNS compression pointer {pointer}"
                raise MalformedError(text)
            if after < 0:
                after = position + 2
            lowest = position = pointer
            continue
        if length >= 0x40:
            text = f"invalid DNS label length byte {length:#04x}"
            raise MalformedError(text)
        position += 1
        total += length + 1
        if position + length > size:
            text = "DNS name runs past the end of the message"
            raise MalformedError(text)
        if total > _MAX_NAME_BYTES:
            text = "DNS name is longer than 255 bytes"
            raise MalformedError(text)
        labels.append(message[position : position + length])
        position += length
    name = b".".join(labels).decode("utf-8", "backslashreplace") if labels else "."
    if names is not None:
        names[start] = name
    return name, after if after >= 0 else position


def _dns_data(message: bytes, start: int, length: int, record_type: int) -> str:
    """Return the text of a record's data, as dig prints it for the common types."""
    data = message[start : start + length]
    if record_type == 1 and length == 4:
        return socket.inet_ntoa(data)
    if record_type == 28 and length == 16:
        return socket.inet_ntop(socket.AF_INET6, data)
    if record_type in _NAME_TYPES:
        return read_dns_name(message, start)[0]
    if record_type == 15 and length >= 3:
        preference = struct.unpack_from("!H", message, start)[0]
        return f"{preference} {read_dns_name(message, start + 2)[0]}"
    if record_type in (16, 99):
        pieces = []
        position = 0
        while position < length:
            size = data[position]
            pieces.append(data[position + 1 : position + 1 + size])
            position += 1 + size
        return b"".join(pieces).decode("utf-8", "backslashreplace")
    if record_type == 33 and length >= 7:
        priority, weight, port = struct.unpack_from("!HHH", message, start)
        return f"{priority} {weight} {port} {read_dns_name(message, start + 6)[0]}"
    if record_type == 6:
        primary, position = read_dns_name(message, start)
        mailbox, position = read_dns_name(message, position)
        if position + 20 <= start + length:
            numbers = struct.unpack_from("!IIIII", message, position)
            return " ".join([primary, mailbox, *map(str, numbers)])
        return f"{primary} {mailbox}"
    return data.hex()


def parse_dns(payload: bytes, *, tcp: bool = False) -> Row:
    """Decode a DNS message: header, first question and the answer section.

    Over TCP the message follows a 2-byte length (RFC 1035, 4.2.2).
    """
    message = payload
    if tcp:
        if len(payload) < 2:
            text = "truncated DNS over TCP length prefix"
            raise MalformedError(text)
        size = struct.unpack_from("!H", payload)[0]
        message = payload[2 : 2 + size]
        if len(message) < size:
            text = f"truncated DNS message: {len(message)} of {size} bytes captured"
            raise MalformedError(text)
    if len(message) < 12:
        text = f"truncated DNS header: {len(message)} of 12 bytes"
        raise MalformedError(text)
    ident, flags, questions, answers_count, _, _ = _DNS_HEADER.unpack_from(message)
    names: dict[int, str] = {}

    position = 12
    qname: str | None = None
    qtype: str | None = None
    for _ in range(questions):
        name, position = read_dns_name(message, position, names)
        if position + 4 > len(message):
            text = "truncated DNS question"
            raise MalformedError(text)
        number = _DNS_QUESTION.unpack_from(message, position)[0]
        position += 4
        if qname is None:
            qname, qtype = name, dns_type_name(number)

    answers = []
    for _ in range(answers_count):
        name, position = read_dns_name(message, position, names)
        if position + 10 > len(message):
            text = "truncated DNS answer"
            raise MalformedError(text)
        record_type, _, ttl, length = _DNS_RECORD.unpack_from(message, position)
        position += 10
        if position + length > len(message):
            text = "truncated DNS answer data"
            raise MalformedError(text)
        answers.append(
            {
                "name": name,
                "type": DNS_TYPES.get(record_type) or f"TYPE{record_type}",
                "ttl": ttl,
                "data": _dns_data(message, position, length, record_type),
            }
        )
        position += length

    rcode = flags & 0x0F
    return {
        "id": ident,
        "response": bool(flags & 0x8000),
        "opcode": (flags >> 11) & 0x0F,
        "rcode": rcode,
        "rcode_name": DNS_RCODES.get(rcode) or f"RCODE{rcode}",
        "qname": qname,
        "qtype": qtype,
        "answers": answers,
    }


# HTTP ----------------------------------------------------------------------------

HTTP_METHODS = frozenset(
    {
        b"GET",
        b"POST",
        b"HEAD",
        b"PUT",
        b"DELETE",
        b"OPTIONS",
        b"PATCH",
        b"CONNECT",
        b"TRACE",
        b"PROPFIND",
        b"PROPPATCH",
        b"MKCOL",
        b"COPY",
        b"MOVE",
        b"LOCK",
        b"UNLOCK",
    }
)
#: The first four bytes of every payload that may start an HTTP/1.x message.
HTTP_PREFIXES = frozenset({method[:4].ljust(4, b" ") for method in HTTP_METHODS} | {b"HTTP"})
_STATUS = re.compile(rb"HTTP/(\d\.\d) (\d{3})(?: (.*))?$")
#: A Host or User-Agent header line, found by scanning the header block from the first newline.
_HEADER = re.compile(rb"\n(host|user-agent)[ \t]*:([^\r\n]*)", re.IGNORECASE)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "backslashreplace")


def parse_http(payload: bytes) -> Row | None:
    """Decode the request or status line and the Host and User-Agent headers.

    Returns None when the payload does not start an HTTP/1.x message.
    """
    line_end = payload.find(b"\n")
    line = (payload if line_end < 0 else payload[:line_end]).rstrip(b"\r")
    row: Row = {
        "method": None,
        "uri": None,
        "version": None,
        "host": None,
        "user_agent": None,
        "status": None,
        "reason": None,
    }
    if line.startswith(b"HTTP/"):
        match = _STATUS.match(line)
        if match is None:
            return None
        row["version"] = _text(match.group(1))
        row["status"] = int(match.group(2))
        row["reason"] = _text(match.group(3) or b"")
    else:
        parts = line.split(b" ")
        if len(parts) != 3 or parts[0] not in HTTP_METHODS or not parts[2].startswith(b"HTTP/"):
            return None
        row["method"] = _text(parts[0])
        row["uri"] = _text(parts[1])
        row["version"] = _text(parts[2][5:])
    if line_end >= 0:
        header_end = payload.find(b"\r\n\r\n", line_end)
        if header_end < 0:
            header_end = len(payload)
        for match in _HEADER.finditer(payload, line_end, header_end + 2):
            key = "host" if match.group(1).lower() == b"host" else "user_agent"
            if row[key] is None:
                row[key] = _text(match.group(2).strip())
    return row


# TLS -----------------------------------------------------------------------------

TLS_VERSIONS = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}
_EXTENSION_SERVER_NAME = 0
_EXTENSION_SUPPORTED_VERSIONS = 43


def _tls_version(number: int) -> str:
    return TLS_VERSIONS.get(number) or f"0x{number:04x}"


def _is_grease(number: int) -> bool:
    """GREASE values (RFC 8701) look like 0x0a0a, 0x1a1a, ... and mean nothing."""
    return (number & 0x0F0F) == 0x0A0A and (number >> 8) == (number & 0xFF)


def parse_tls_client_hello(payload: bytes) -> Row:
    """Decode a ClientHello's version and server name (SNI) from the first TLS record.

    The version is the highest in the supported_versions extension (TLS 1.3
    clients send 1.2 in the legacy field), else the legacy client version.
    A ClientHello longer than the captured segment yields what the segment
    holds: the SNI is NULL when it lies past the captured bytes.
    """
    # NOTE: without TCP reassembly, a ClientHello split over segments (large post-quantum
    # key shares) loses the extensions after the first segment, the SNI among them.
    if len(payload) < 11:
        text = "truncated TLS ClientHello"
        raise MalformedError(text)
    legacy = struct.unpack_from("!H", payload, 9)[0]
    version = legacy
    server_name: str | None = None
    position = 11 + 32
    size = len(payload)
    if position < size:
        position += 1 + payload[position]
    if position + 2 <= size:
        position += 2 + struct.unpack_from("!H", payload, position)[0]
    if position < size:
        position += 1 + payload[position]
    if position + 2 <= size:
        end = min(size, position + 2 + struct.unpack_from("!H", payload, position)[0])
        position += 2
        while position + 4 <= end:
            kind, length = struct.unpack_from("!HH", payload, position)
            body = payload[position + 4 : position + 4 + length]
            position += 4 + length
            if kind == _EXTENSION_SERVER_NAME:
                server_name = _server_name(body)
            elif kind == _EXTENSION_SUPPORTED_VERSIONS and body:
                listed = body[1 : 1 + body[0]]
                listed = listed[: len(listed) // 2 * 2]
                offered = [
                    number
                    for (number,) in struct.iter_unpack("!H", listed)
                    if not _is_grease(number)
                ]
                if offered:
                    version = max(offered)
    return {"version": _tls_version(version), "sni": server_name}


def _server_name(body: bytes) -> str | None:
    """Return the host name of a server_name extension (RFC 6066, 3), if complete."""
    position = 2
    while position + 3 <= len(body):
        name_type = body[position]
        length = struct.unpack_from("!H", body, position + 1)[0]
        name = body[position + 3 : position + 3 + length]
        if name_type == 0 and len(name) == length:
            return _text(name)
        position += 3 + length
    return None


# DHCP ----------------------------------------------------------------------------

DHCP_MESSAGE_TYPES = {
    1: "DISCOVER",
    2: "OFFER",
    3: "REQUEST",
    4: "DECLINE",
    5: "ACK",
    6: "NAK",
    7: "RELEASE",
    8: "INFORM",
    9: "FORCERENEW",
    10: "LEASEQUERY",
    11: "LEASEUNASSIGNED",
    12: "LEASEUNKNOWN",
    13: "LEASEACTIVE",
}
_DHCP_MAGIC = 0x63825363
_DHCP_OPTION_MESSAGE_TYPE = 53
_DHCP_OPTION_REQUESTED_IP = 50
_DHCP_OPTION_HOSTNAME = 12


def _ipv4_text(number: int) -> str | None:
    return socket.inet_ntoa(number.to_bytes(4, "big")) if number else None


def parse_dhcp(payload: bytes) -> Row:
    """Decode a DHCP (BOOTP) message with dpkt: type, transaction, client and options.

    ``client_ip`` is ciaddr, the address the client already holds, or else
    yiaddr, the address a server offers or assigns.
    """
    if len(payload) < 240:
        text = f"truncated DHCP message: {len(payload)} of at least 240 bytes"
        raise MalformedError(text)
    try:
        message = dpkt.dhcp.DHCP(payload)
    except (dpkt.UnpackError, IndexError, struct.error) as exc:
        text = f"invalid DHCP options: {exc or type(exc).__name__}"
        raise MalformedError(text) from None
    if message.magic != _DHCP_MAGIC:
        text = f"invalid DHCP magic cookie {message.magic:#010x}"
        raise MalformedError(text)
    options = dict(message.opts)
    kind = options.get(_DHCP_OPTION_MESSAGE_TYPE, b"")
    requested = options.get(_DHCP_OPTION_REQUESTED_IP, b"")
    hostname = options.get(_DHCP_OPTION_HOSTNAME)
    return {
        "message_type": (DHCP_MESSAGE_TYPES.get(kind[0]) or str(kind[0])) if kind else None,
        "xid": message.xid,
        "client_mac": message.chaddr.hex(":") if message.chaddr else None,
        "client_ip": _ipv4_text(message.ciaddr) or _ipv4_text(message.yiaddr),
        "requested_ip": socket.inet_ntoa(requested) if len(requested) == 4 else None,
        "hostname": _text(hostname.rstrip(b"\0")) if hostname is not None else None,
    }


# FTP -----------------------------------------------------------------------------

_REPLY = re.compile(r"(\d{3})([ -]?)(.*)$", re.DOTALL)


def parse_ftp(payload: bytes, *, from_server: bool) -> Row | None:
    """Decode the first line of an FTP control-channel segment.

    From the server it is a reply ('530 Login incorrect.'); from the client
    a command and its argument ('USER anonymous'). Further lines of the
    segment (a multi-line reply, pipelined commands) are not decoded.
    """
    line_end = payload.find(b"\n")
    line = _text((payload if line_end < 0 else payload[:line_end]).rstrip(b"\r"))
    if not line:
        return None
    row: Row = {"command": None, "argument": None, "reply_code": None, "reply_text": None}
    if from_server:
        match = _REPLY.match(line)
        if match is None:
            row["reply_text"] = line
        else:
            row["reply_code"] = int(match.group(1))
            row["reply_text"] = match.group(3)
        return row
    command, _, argument = line.partition(" ")
    row["command"] = command.upper()
    row["argument"] = argument or None
    return row
