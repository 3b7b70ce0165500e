"""Write the generated packet captures that the example detection rules read.

Every capture is synthetic, small and deterministic (fixed seeds and fixed
times, all on 2024-03-01, UTC), so ``python datasets/generate.py`` rewrites
the same bytes. The known answers below are what the examples find; the
tests in tests/test_examples.py check them.

portscan.pcap (examples/port_scan.sql)
    One minute of ordinary traffic from 10:00:00: four workstations
    (10.0.0.11-14) look up names at 10.0.0.53 and open HTTPS connections,
    10.0.0.11 opens SSH and 10.0.0.12 HTTP on 10.0.0.20. From 10:00:30.000
    to 10:00:32.985, 10.0.0.66 sends one SYN every 15 ms to 200 distinct
    ports of 10.0.0.20. Eight of them are open and answer SYN-ACK (22, 25,
    53, 80, 110, 143, 443, 993), and the scanner resets each; the other 192
    answer RST-ACK. No other source sends SYNs to more than two ports. In
    one-minute windows that slide by 10 s, the six windows that start from
    09:59:40 to 10:00:30 each contain all 200 ports.
ssh-guess.pcap (examples/ssh_connections.sql)
    From 11:00:00: 203.0.113.23 opens 12 SSH connections to 10.0.0.22:22,
    one every 5 s from 11:00:10 to 11:01:05, each closed by the server about
    2 s later. 10.0.0.5 holds one SSH session from 11:00:02 and 10.0.0.6
    opens one at 11:00:40. In five-minute windows that slide by one minute,
    the windows that start at 10:57, 10:58, 10:59 and 11:00 each contain the
    12 connections of 203.0.113.23, the window from 10:56 contains 10 (up to
    11:00:55) and the window from 11:01 contains 1.
ftp-login.pcap (examples/ftp_bruteforce.sql)
    From 12:00:00: 203.0.113.7 connects to the FTP server 10.0.0.21 12 times,
    one connection every 3 s from 12:00:05, and each time sends USER admin,
    a wrong password and gets ``530 Login incorrect.`` 1.2 s later (the
    first 530 at 12:00:06.2182, the last at 12:00:39.2182). Its 13th
    connection logs in: ``230 Login successful.`` at 12:00:41.0582.
    10.0.0.8 mistypes its password once (530 at 12:00:21.2182) and logs in on
    the same connection (230 at 12:00:21.2360). So there are 13 replies 530
    and 2 replies 230, 12 of the 530s go to 203.0.113.7 in the minute from
    12:00:00, and "five or more 530, then 230" matches once (203.0.113.7,
    12 failures) and never for 10.0.0.8.
dns-tunnel.pcapng (examples/dns_tunnel.sql)
    Two interfaces: eth0 and wlan0. On eth0, 10.0.0.11-13 each send six
    ordinary A queries to 10.0.0.53 between 13:00:00 and 13:01:00, at most
    six distinct names of at most 19 characters each. On wlan0,
    192.168.50.23 sends two ordinary queries to 192.168.50.1 and, from
    13:00:10 to 13:00:54.5, 90 queries (NULL, every fifth TXT) for 90
    distinct names under tunnel.example, 47 to 113 characters long (mean
    70.8). All answered. In the minute from 13:00:00, 192.168.50.23 asks
    for 90 distinct names under tunnel.example.
dhcp-flood.pcap (examples/dhcp_flood.sql)
    From 14:00:00: two ordinary clients get addresses (DISCOVER, OFFER,
    REQUEST, ACK) at 14:00:05 and 14:00:50, and 10.0.0.40 sends a DHCPINFORM
    at 14:00:55. From 14:00:20.000 to 14:00:22.990, 300 DISCOVERs with 300
    distinct client MAC addresses, one every 10 ms; the server offers the
    first 20. Totals: 302 DISCOVER, 22 OFFER, 2 REQUEST, 3 ACK, 1 INFORM.
    The ten-second window from 14:00:20 holds the 300 flood DISCOVERs; no
    other window holds more than two DISCOVERs and INFORMs.
web-attack.pcap (examples/sql_injection.sql)
    From 15:00:00: 10.0.0.31 browses the web server 10.0.0.80 (four requests
    on one connection, one answered 404). 198.51.100.66 then opens three
    connections. From port 40001 at 15:00:10 it requests ``/products?id=7``
    (200), then ``/products?id=7%27`` (500). From port 40002 it requests
    ``/products?id=1%27+OR+%271%27%3D%271`` at 15:00:20.0005, answered 200
    at 15:00:20.0037. From port 40003 at 15:00:30 it requests
    ``/search?q=x%27+UNION+SELECT+username%2Cpassword+FROM+users--+``,
    answered 403, then ``/search?q=shoes``, answered 200. So there are two
    injection requests, and one of them is answered 200.
"""

from __future__ import annotations

import random
import struct
from datetime import datetime
from pathlib import Path

import dpkt
from packets import (
    BROADCAST,
    TCP_ACK,
    TCP_RST,
    TCP_SYN,
    Capture,
    Endpoint,
    Host,
    TcpConnection,
    dns_query,
    dns_response,
    epoch_us,
    host,
)

SECOND = 1_000_000
MILLISECOND = 1_000

#: The scanner, its target and the target's open ports (shared with conn.log).
SCANNER = host("10.0.0.66")
SCAN_TARGET = host("10.0.0.20")
SCAN_START = datetime(2024, 3, 1, 10, 0, 0)
SCAN_OFFSET_US = 30 * SECOND
SCAN_STEP_US = 15 * MILLISECOND
SCAN_SOURCE_PORT = 54_321
OPEN_PORTS = (22, 25, 53, 80, 110, 143, 443, 993)
SCANNED_PORTS = 200

QTYPE_A = 1
QTYPE_NULL = 10
QTYPE_TXT = 16
ORDINARY_NAMES = (
    "www.example.com",
    "mail.example.com",
    "updates.example.org",
    "cdn.example.net",
    "api.example.com",
    "time.example.org",
)
TUNNEL_DOMAIN = "tunnel.example"
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def scan_ports(seed: int = 101) -> list[int]:
    """Return the ports the scanner probes, in probe order: the open ports and closed ones below 1025."""
    rng = random.Random(seed)
    candidates = [port for port in range(1, 1025) if port not in OPEN_PORTS]
    closed = rng.sample(candidates, SCANNED_PORTS - len(OPEN_PORTS))
    ports = [*OPEN_PORTS, *closed]
    rng.shuffle(ports)
    return ports


def _dns_lookup(
    capture: Capture,
    ts_us: int,
    client: Endpoint,
    resolver: Host,
    *,
    ident: int,
    name: str,
    answer: bytes,
    interface: int = 0,
) -> None:
    """Add an A query and its answer 0.9 ms later."""
    query = dns_query(ident, name, QTYPE_A)
    capture.udp(ts_us, client, (resolver, 53), query, interface=interface)
    response = dns_response(ident, name, QTYPE_A, [answer])
    capture.udp(ts_us + 900, (resolver, 53), client, response, interface=interface)


def _https_session(
    capture: Capture, rng: random.Random, ts_us: int, client: Endpoint, server: Host
) -> None:
    connection = TcpConnection(
        capture, client[0], client[1], server, 443, rng.getrandbits(32), rng.getrandbits(32)
    )
    at = connection.open(ts_us, rtt_us=12 * MILLISECOND)
    at = connection.send(at + 200, True, rng.randbytes(220), ack_after_us=12 * MILLISECOND)
    at = connection.send_segments(at + 300, False, [rng.randbytes(1_200), rng.randbytes(600)])
    connection.close(at + 80 * MILLISECOND, rtt_us=12 * MILLISECOND)


def portscan() -> Capture:
    rng = random.Random(102)
    capture = Capture()
    start = epoch_us(SCAN_START)
    resolver = host("10.0.0.53")
    web = host("198.51.100.10")
    workstations = [host(f"10.0.0.{index}") for index in range(11, 15)]
    for number, workstation in enumerate(workstations):
        for visit in range(3):
            at = start + rng.randrange(0, 55 * SECOND)
            port = 49_152 + number * 100 + visit
            ident = rng.getrandbits(16)
            _dns_lookup(
                capture,
                at,
                (workstation, port),
                resolver,
                ident=ident,
                name="www.example.com",
                answer=bytes([198, 51, 100, 10]),
            )
            _https_session(capture, rng, at + 2 * MILLISECOND, (workstation, port), web)

    ssh = TcpConnection(capture, workstations[0], 50_022, SCAN_TARGET, 22, 1_000, 2_000)
    at = ssh.open(start + 5 * SECOND)
    at = ssh.send(at + 2 * MILLISECOND, False, b"SSH-2.0-OpenSSH_9.6\r\n")
    at = ssh.send(at + 1 * MILLISECOND, True, b"SSH-2.0-OpenSSH_9.6\r\n")
    for step in range(5):
        at = ssh.send(at + 8 * SECOND, step % 2 == 0, rng.randbytes(96))
    ssh.close(at + SECOND)

    http = TcpConnection(capture, workstations[1], 50_080, SCAN_TARGET, 80, 3_000, 4_000)
    at = http.open(start + 40 * SECOND)
    at = http.send(at + 100, True, b"GET / HTTP/1.1\r\nHost: 10.0.0.20\r\n\r\n")
    at = http.send(at + 500, False, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    http.close(at + SECOND)

    scanner = (SCANNER, SCAN_SOURCE_PORT)
    for index, port in enumerate(scan_ports()):
        at = start + SCAN_OFFSET_US + index * SCAN_STEP_US
        seq = rng.getrandbits(32)
        target = (SCAN_TARGET, port)
        capture.tcp(at, scanner, target, TCP_SYN, seq=seq)
        if port in OPEN_PORTS:
            answer_seq = rng.getrandbits(32)
            capture.tcp(at + 300, target, scanner, TCP_SYN | TCP_ACK, seq=answer_seq, ack=seq + 1)
            capture.tcp(at + 400, scanner, target, TCP_RST, seq=seq + 1)
        else:
            capture.tcp(at + 300, target, scanner, TCP_RST | TCP_ACK, ack=seq + 1)
    return capture


def ssh_guessing() -> Capture:
    rng = random.Random(103)
    capture = Capture()
    start = epoch_us(datetime(2024, 3, 1, 11, 0, 0))
    server = host("10.0.0.22")
    attacker = host("203.0.113.23")
    banner = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"

    admin = TcpConnection(capture, host("10.0.0.5"), 51_515, server, 22, 10_000, 20_000)
    at = admin.open(start + 2 * SECOND)
    at = admin.send(at + 2 * MILLISECOND, False, banner)
    at = admin.send(at + MILLISECOND, True, b"SSH-2.0-OpenSSH_9.6\r\n")
    for step in range(9):
        at = admin.send(at + 10 * SECOND, step % 3 != 2, rng.randbytes(64 + 16 * step))
    admin.close(at + 3 * SECOND)

    other = TcpConnection(capture, host("10.0.0.6"), 52_000, server, 22, 30_000, 40_000)
    at = other.open(start + 40 * SECOND)
    at = other.send(at + 2 * MILLISECOND, False, banner)
    at = other.send(at + MILLISECOND, True, b"SSH-2.0-PuTTY_Release_0.80\r\n")
    at = other.send(at + 20 * MILLISECOND, True, rng.randbytes(600))
    other.close(at + 5 * SECOND)

    for attempt in range(12):
        connection = TcpConnection(
            capture,
            attacker,
            41_000 + 7 * attempt,
            server,
            22,
            rng.getrandbits(32),
            rng.getrandbits(32),
        )
        at = connection.open(start + (10 + 5 * attempt) * SECOND, rtt_us=30 * MILLISECOND)
        at = connection.send(at + 2 * MILLISECOND, False, banner, ack_after_us=15 * MILLISECOND)
        at = connection.send(
            at + MILLISECOND, True, b"SSH-2.0-libssh_0.10.6\r\n", ack_after_us=15 * MILLISECOND
        )
        at = connection.send(
            at + MILLISECOND, True, rng.randbytes(400), ack_after_us=15 * MILLISECOND
        )
        at = connection.send(
            at + MILLISECOND, False, rng.randbytes(300), ack_after_us=15 * MILLISECOND
        )
        for _ in range(3):
            at = connection.send(
                at + 600 * MILLISECOND, True, rng.randbytes(96), ack_after_us=15 * MILLISECOND
            )
            at = connection.send(
                at + MILLISECOND, False, rng.randbytes(48), ack_after_us=15 * MILLISECOND
            )
        connection.close(at + 100 * MILLISECOND, by_client=False, rtt_us=30 * MILLISECOND)
    return capture


def _ftp_session(
    capture: Capture,
    rng: random.Random,
    ts_us: int,
    client: Endpoint,
    server: Host,
    *,
    dialogue: list[tuple[bytes, bytes, int]],
) -> None:
    """Add one FTP control connection: the banner, then each command, its reply after a delay."""
    connection = TcpConnection(
        capture, client[0], client[1], server, 21, rng.getrandbits(32), rng.getrandbits(32)
    )
    at = connection.open(ts_us)
    at = connection.send(at + 2 * MILLISECOND, False, b"220 (vsFTPd 3.0.5)\r\n")
    for command, reply, delay_us in dialogue:
        at = connection.send(at + 5 * MILLISECOND, True, command)
        at = connection.send(at + delay_us, False, reply)
    connection.close(at + MILLISECOND, by_client=False)


def ftp_login() -> Capture:
    rng = random.Random(104)
    capture = Capture()
    start = epoch_us(datetime(2024, 3, 1, 12, 0, 0))
    server = host("10.0.0.21")
    attacker = host("203.0.113.7")
    guesses = [
        "123456",
        "password",
        "admin",
        "12345678",
        "qwerty",
        "letmein",
        "welcome",
        "admin123",
        "root",
        "changeme",
        "passw0rd",
        "111111",
    ]
    user = (b"USER admin\r\n", b"331 Please specify the password.\r\n", 5 * MILLISECOND)
    goodbye = (b"QUIT\r\n", b"221 Goodbye.\r\n", 2 * MILLISECOND)
    for attempt, guess in enumerate(guesses):
        failed = (
            f"PASS {guess}\r\n".encode(),
            b"530 Login incorrect.\r\n",
            1_200 * MILLISECOND,
        )
        _ftp_session(
            capture,
            rng,
            start + (5 + 3 * attempt) * SECOND,
            (attacker, 40_100 + attempt),
            server,
            dialogue=[user, failed, goodbye],
        )
    _ftp_session(
        capture,
        rng,
        start + 41 * SECOND,
        (attacker, 40_200),
        server,
        dialogue=[
            user,
            (b"PASS Summer2024!\r\n", b"230 Login successful.\r\n", 40 * MILLISECOND),
            (b"SYST\r\n", b"215 UNIX Type: L8\r\n", MILLISECOND),
            (b"PWD\r\n", b'257 "/home/admin" is the current directory\r\n', MILLISECOND),
            goodbye,
        ],
    )
    alice = (b"USER alice\r\n", b"331 Please specify the password.\r\n", 5 * MILLISECOND)
    _ftp_session(
        capture,
        rng,
        start + 20 * SECOND,
        (host("10.0.0.8"), 50_321),
        server,
        dialogue=[
            alice,
            (b"PASS hunter3\r\n", b"530 Login incorrect.\r\n", 1_200 * MILLISECOND),
            alice,
            (b"PASS hunter2\r\n", b"230 Login successful.\r\n", 2 * MILLISECOND),
            goodbye,
        ],
    )
    return capture


def tunnel_names(count: int, seed: int = 105) -> list[str]:
    """Return ``count`` distinct names under TUNNEL_DOMAIN that carry base32 data, as iodine's do."""
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < count:
        labels = ["".join(rng.choices(BASE32, k=rng.randrange(32, 61)))]
        if len(names) % 3 == 2:
            labels.append("".join(rng.choices(BASE32, k=rng.randrange(20, 41))))
        name = ".".join([*labels, TUNNEL_DOMAIN])
        if name not in names:
            names.append(name)
    return names


def dns_tunnel() -> Capture:
    rng = random.Random(106)
    capture = Capture()
    start = epoch_us(datetime(2024, 3, 1, 13, 0, 0))
    resolver = host("10.0.0.53")
    for number in range(3):
        client = host(f"10.0.0.{11 + number}")
        for lookup in range(6):
            _dns_lookup(
                capture,
                start + rng.randrange(0, 59 * SECOND),
                (client, 50_000 + 10 * number + lookup),
                resolver,
                ident=rng.getrandbits(16),
                name=rng.choice(ORDINARY_NAMES),
                answer=bytes([93, 184, 216, rng.randrange(1, 255)]),
            )

    wireless = 1
    laptop = host("192.168.50.23")
    gateway = host("192.168.50.1")
    for at_second, name in ((3, "www.example.com"), (58, "mail.example.com")):
        _dns_lookup(
            capture,
            start + at_second * SECOND,
            (laptop, 51_000 + at_second),
            gateway,
            ident=rng.getrandbits(16),
            name=name,
            answer=bytes([93, 184, 216, 34]),
            interface=wireless,
        )
    for index, name in enumerate(tunnel_names(90)):
        at = start + 10 * SECOND + index * 500 * MILLISECOND
        qtype = QTYPE_TXT if index % 5 == 4 else QTYPE_NULL
        ident = rng.getrandbits(16)
        query = dns_query(ident, name, qtype)
        capture.udp(at, (laptop, 53_001), (gateway, 53), query, interface=wireless)
        if qtype == QTYPE_TXT:
            text = "".join(rng.choices(BASE32, k=60)).encode()
            answer = bytes([len(text)]) + text
        else:
            answer = rng.randbytes(100)
        response = dns_response(ident, name, qtype, [answer], ttl=0)
        capture.udp(
            at + 30 * MILLISECOND, (gateway, 53), (laptop, 53_001), response, interface=wireless
        )
    return capture


def _dhcp(
    capture: Capture,
    ts_us: int,
    kind: int,
    client_mac: bytes,
    xid: int,
    *,
    source: Host,
    destination: Host,
    client_ip: str = "0.0.0.0",
    your_ip: str = "0.0.0.0",
    requested_ip: str | None = None,
    hostname: str | None = None,
) -> None:
    from_client = kind in (dpkt.dhcp.DHCPDISCOVER, dpkt.dhcp.DHCPREQUEST, dpkt.dhcp.DHCPINFORM)
    options: list[tuple[int, bytes]] = [(dpkt.dhcp.DHCP_OPT_MSGTYPE, bytes([kind]))]
    if requested_ip is not None:
        options.append((dpkt.dhcp.DHCP_OPT_REQ_IP, _ipv4(requested_ip)))
    if hostname is not None:
        options.append((dpkt.dhcp.DHCP_OPT_HOSTNAME, hostname.encode()))
    if from_client:
        options.append((dpkt.dhcp.DHCP_OPT_PARAM_REQ, bytes([1, 3, 6, 15])))
    else:
        options.append((dpkt.dhcp.DHCP_OPT_SERVER_ID, _ipv4("10.0.0.1")))
        options.append((dpkt.dhcp.DHCP_OPT_LEASE_SEC, struct.pack(">I", 3_600)))
    message = dpkt.dhcp.DHCP(
        op=dpkt.dhcp.DHCP_OP_REQUEST if from_client else dpkt.dhcp.DHCP_OP_REPLY,
        xid=xid,
        flags=0x8000 if destination is BROADCAST else 0,
        ciaddr=struct.unpack(">I", _ipv4(client_ip))[0],
        yiaddr=struct.unpack(">I", _ipv4(your_ip))[0],
        chaddr=client_mac + b"\x00" * 10,
        opts=options,
    )
    source_port, destination_port = (68, 67) if from_client else (67, 68)
    capture.udp(ts_us, (source, source_port), (destination, destination_port), bytes(message))


def _ipv4(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


def dhcp_flood() -> Capture:
    rng = random.Random(107)
    capture = Capture()
    start = epoch_us(datetime(2024, 3, 1, 14, 0, 0))
    server = host("10.0.0.1")
    for at_second, mac_tail, address, name in (
        (5, 0x31, "10.0.0.150", "printer-2"),
        (50, 0x32, "10.0.0.151", "laptop-17"),
    ):
        mac = bytes([0x02, 0x00, 0x5E, 0x00, 0x00, mac_tail])
        unknown = Host(mac, "0.0.0.0")
        xid = rng.getrandbits(32)
        at = start + at_second * SECOND
        _dhcp(
            capture,
            at,
            dpkt.dhcp.DHCPDISCOVER,
            mac,
            xid,
            source=unknown,
            destination=BROADCAST,
            hostname=name,
        )
        _dhcp(
            capture,
            at + 2 * MILLISECOND,
            dpkt.dhcp.DHCPOFFER,
            mac,
            xid,
            source=server,
            destination=BROADCAST,
            your_ip=address,
        )
        _dhcp(
            capture,
            at + 4 * MILLISECOND,
            dpkt.dhcp.DHCPREQUEST,
            mac,
            xid,
            source=unknown,
            destination=BROADCAST,
            requested_ip=address,
            hostname=name,
        )
        _dhcp(
            capture,
            at + 6 * MILLISECOND,
            dpkt.dhcp.DHCPACK,
            mac,
            xid,
            source=server,
            destination=BROADCAST,
            your_ip=address,
        )

    static = host("10.0.0.40")
    xid = rng.getrandbits(32)
    at = start + 55 * SECOND
    _dhcp(
        capture,
        at,
        dpkt.dhcp.DHCPINFORM,
        static.mac,
        xid,
        source=static,
        destination=server,
        client_ip=static.ip,
    )
    _dhcp(
        capture,
        at + 2 * MILLISECOND,
        dpkt.dhcp.DHCPACK,
        static.mac,
        xid,
        source=server,
        destination=static,
        client_ip=static.ip,
    )

    macs: list[bytes] = []
    while len(macs) < 300:
        mac = bytes([rng.randrange(256) & 0xFE | 0x02, *rng.randbytes(5)])
        if mac not in macs:
            macs.append(mac)
    for index, mac in enumerate(macs):
        at = start + 20 * SECOND + index * 10 * MILLISECOND
        xid = rng.getrandbits(32)
        _dhcp(
            capture,
            at,
            dpkt.dhcp.DHCPDISCOVER,
            mac,
            xid,
            source=Host(mac, "0.0.0.0"),
            destination=BROADCAST,
        )
        if index < 20:
            _dhcp(
                capture,
                at + 2 * MILLISECOND,
                dpkt.dhcp.DHCPOFFER,
                mac,
                xid,
                source=server,
                destination=BROADCAST,
                your_ip=f"10.0.0.{100 + index}",
            )
    return capture


def _http_request(path: str, agent: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: {agent}\r\n"
        "Accept: */*\r\nConnection: keep-alive\r\n\r\n"
    ).encode()


def _http_response(status: int, reason: str, body: bytes) -> list[bytes]:
    """Return a response as TCP segments: the head with the first part of the body, then the rest."""
    head = (
        f"HTTP/1.1 {status} {reason}\r\nServer: nginx/1.24.0\r\n"
        f"Content-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    whole = head + body
    return [whole[:600], whole[600:]] if len(whole) > 600 else [whole]


def _page(rng: random.Random, title: str, size: int) -> bytes:
    filler = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz ", k=size))
    return f"<html><head><title>{title}</title></head><body><p>{filler}</p></body></html>".encode()


def web_attack() -> Capture:
    rng = random.Random(108)
    capture = Capture()
    start = epoch_us(datetime(2024, 3, 1, 15, 0, 0))
    server = host("10.0.0.80")
    browser = "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"
    scanner = "sqlmap/1.8.2#stable (https://sqlmap.org)"
    visits = [
        (
            host("10.0.0.31"),
            51_000,
            2,
            browser,
            [
                ("/", 200, "OK"),
                ("/css/site.css", 200, "OK"),
                ("/products?id=42", 200, "OK"),
                ("/favicon.ico", 404, "Not Found"),
            ],
        ),
        (
            host("198.51.100.66"),
            40_001,
            10,
            scanner,
            [("/products?id=7", 200, "OK"), ("/products?id=7%27", 500, "Internal Server Error")],
        ),
        (
            host("198.51.100.66"),
            40_002,
            20,
            scanner,
            [("/products?id=1%27+OR+%271%27%3D%271", 200, "OK")],
        ),
        (
            host("198.51.100.66"),
            40_003,
            30,
            scanner,
            [
                ("/search?q=x%27+UNION+SELECT+username%2Cpassword+FROM+users--+", 403, "Forbidden"),
                ("/search?q=shoes", 200, "OK"),
            ],
        ),
    ]
    for client, port, at_second, agent, requests in visits:
        connection = TcpConnection(
            capture, client, port, server, 80, rng.getrandbits(32), rng.getrandbits(32)
        )
        at = connection.open(start + at_second * SECOND)
        for path, status, reason in requests:
            at = connection.send(at + 100, True, _http_request(path, agent))
            body = _page(rng, reason, 900 if status == 200 else 80)
            at = connection.send_segments(
                at + 3 * MILLISECOND, False, _http_response(status, reason, body)
            )
            at += 500 * MILLISECOND
        connection.close(at)
    return capture


def main(directory: Path) -> list[Path]:
    """Write every capture into ``directory``; return their paths."""
    written = []
    for name, capture in (
        ("portscan.pcap", portscan()),
        ("ssh-guess.pcap", ssh_guessing()),
        ("ftp-login.pcap", ftp_login()),
        ("dhcp-flood.pcap", dhcp_flood()),
        ("web-attack.pcap", web_attack()),
    ):
        capture.write_pcap(directory / name)
        written.append(directory / name)
    dns_tunnel().write_pcapng(directory / "dns-tunnel.pcapng", ["eth0", "wlan0"])
    written.append(directory / "dns-tunnel.pcapng")
    return written
