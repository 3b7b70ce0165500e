"""The example detection rules on public captures and logs, against values computed here.

Each test runs an example of examples/ through the WITH-option override, on
a file from the shared datasets folder, and compares what it finds with the
same figures computed from the file by other means: dpkt and hand-written
parsers for captures, regular expressions for logs. None of the expected
values comes from the workbench's readers.
"""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dpkt
import pandas as pd

from tests.support.shared import require
from workbench import Session
from workbench.results import FailedStatement, QueryResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
INSTALLED = Path(sys.executable).with_name("workbench")
COMMAND = [str(INSTALLED)] if INSTALLED.exists() else [sys.executable, "-m", "workbench.cli"]
SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US


def run_example(name: str, table_options: Mapping[str, Mapping[str, str]]) -> list[QueryResult]:
    """Run examples/NAME with overridden table options; return its queries, checked for errors."""
    session = Session(base_dir=EXAMPLES, progress=False)
    outcomes = session.execute_script(
        (EXAMPLES / name).read_text(encoding="utf-8"),
        run_queries=True,
        table_options=table_options,
    )
    assert [outcome for outcome in outcomes if isinstance(outcome, FailedStatement)] == []
    results = [outcome for outcome in outcomes if isinstance(outcome, QueryResult)]
    for result in results:
        assert result.error is None
        assert len(result.late_rows()) == 0
    return results


def frame(result: QueryResult, *columns: str) -> pd.DataFrame:
    return result.to_pandas()[list(columns)].sort_values(list(columns)).reset_index(drop=True)


def microseconds(when: pd.Timestamp | datetime) -> int:
    """Return a naive UTC time as integer microseconds since the Unix epoch."""
    stamp = pd.Timestamp(when)
    return int(stamp.value // 1_000)


# Captures, read with dpkt ------------------------------------------------------------------


@dataclass(frozen=True)
class Packet:
    """An IPv4 packet of a capture: capture time (microseconds), addresses and transport."""

    ts_us: int
    src: str
    dst: str
    transport: dpkt.Packet


def ipv4_packets(path: Path) -> Iterator[Packet]:
    """Yield the IPv4 packets of a pcap or pcapng file, detected by its magic bytes."""
    with path.open("rb") as file:
        magic = file.read(4)
        file.seek(0)
        reader = (
            dpkt.pcapng.Reader(file) if magic == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(file)
        )
        for ts, data in reader:
            ethernet = dpkt.ethernet.Ethernet(data)
            if not isinstance(ethernet.data, dpkt.ip.IP):
                continue
            packet = ethernet.data
            yield Packet(
                round(ts * SECOND_US),
                socket.inet_ntoa(packet.src),
                socket.inet_ntoa(packet.dst),
                packet.data,
            )


def tcp_packets(path: Path) -> Iterator[tuple[Packet, dpkt.tcp.TCP]]:
    for packet in ipv4_packets(path):
        if isinstance(packet.transport, dpkt.tcp.TCP):
            yield packet, packet.transport


def is_syn(segment: dpkt.tcp.TCP) -> bool:
    return bool(segment.flags & dpkt.tcp.TH_SYN) and not segment.flags & dpkt.tcp.TH_ACK


def hop_starts(ts_us: int, slide_us: int, size_us: int) -> range:
    """Return the starts of the sliding windows [start, start + size) that contain ts_us."""
    last = ts_us // slide_us * slide_us
    return range(last - size_us + slide_us, last + slide_us, slide_us)


# Port scan: synscan.pcap -------------------------------------------------------------------


def test_port_scan_on_synscan() -> None:
    path = require("datasets/pcap/synscan.pcap")
    probes: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    open_ports: dict[tuple[str, str], set[int]] = defaultdict(set)
    closed_ports: dict[tuple[str, str], set[int]] = defaultdict(set)
    syn_acks = 0
    for packet, segment in tcp_packets(path):
        if is_syn(segment):
            probes[(packet.src, packet.dst)].append((packet.ts_us, segment.dport))
        elif segment.flags & dpkt.tcp.TH_SYN:
            syn_acks += 1
            open_ports[(packet.dst, packet.src)].add(segment.sport)
        elif segment.flags & dpkt.tcp.TH_RST and segment.flags & dpkt.tcp.TH_ACK:
            closed_ports[(packet.dst, packet.src)].add(segment.sport)
    scans = {pair: rows for pair, rows in probes.items() if len({port for _, port in rows}) >= 100}
    ((scanner, target),) = scans
    # The capture's description: 1,994 SYNs from 172.16.0.8 to 1,000 ports, 12 SYN-ACKs back.
    assert scanner == "172.16.0.8"
    assert len(scans[(scanner, target)]) == 1_994
    assert len({port for _, port in scans[(scanner, target)]}) == 1_000
    assert syn_acks == 12

    expected_windows: dict[int, set[int]] = defaultdict(set)
    syn_counts: Counter[int] = Counter()
    for ts_us, port in scans[(scanner, target)]:
        for start in hop_starts(ts_us, 10 * SECOND_US, MINUTE_US):
            expected_windows[start].add(port)
            syn_counts[start] += 1
    windows, sessions = run_example("port_scan.sql", {"packets": {"path": str(path)}})
    got = frame(windows, "scanner", "target", "window_start", "ports", "syns")

    expected = sorted(
        (start, len(ports), syn_counts[start])
        for start, ports in expected_windows.items()
        if len(ports) >= 100
    )
    assert set(got["scanner"]) == {scanner}
    assert set(got["target"]) == {target}
    assert [microseconds(when) for when in got["window_start"]] == [row[0] for row in expected]
    assert got["ports"].tolist() == [row[1] for row in expected]
    assert got["syns"].tolist() == [row[2] for row in expected]
    assert got["ports"].max() == 1_000

    session = sessions.to_pandas()
    assert len(session) == 1
    assert session["scanner"][0] == scanner
    assert session["ports"][0] == 1_000
    assert session["open_ports"][0] == len(open_ports[(scanner, target)])
    assert session["closed_ports"][0] == len(closed_ports[(scanner, target)])


def test_command_with_on_synscan() -> None:
    path = require("datasets/pcap/synscan.pcap")
    done = subprocess.run(
        [
            *COMMAND,
            "run",
            "examples/port_scan.sql",
            "--with",
            f"packets.path={path}",
            "--no-progress",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = done.stdout.splitlines()

    assert done.returncode == 0, done.stderr
    assert "-- query-2: 1 rows, 0 late, 0 rejected" in lines
    session_row = lines[lines.index("-- query-2: 1 rows, 0 late, 0 rejected") + 2].split()
    assert session_row[:2] == ["172.16.0.8", "64.13.134.52"]
    assert "1000" in session_row


# FTP brute force: bruteforce.pcap ----------------------------------------------------------


def test_ftp_bruteforce_on_real_capture() -> None:
    path = require("datasets/pcap/bruteforce.pcap")
    failures: Counter[tuple[str, str, int]] = Counter()
    replies: Counter[bytes] = Counter()
    for packet, segment in tcp_packets(path):
        if segment.sport != 21 or not segment.data[:3].isdigit():
            continue
        replies[segment.data[:3]] += 1
        if segment.data.startswith(b"530"):
            minute = packet.ts_us // MINUTE_US * MINUTE_US
            failures[(packet.dst, packet.src, minute)] += 1
    # 30 sessions, each refused with "530 Login incorrect.", and no login.
    assert replies[b"530"] == 30
    assert replies[b"230"] == 0

    per_minute, logins = run_example("ftp_bruteforce.sql", {"packets": {"path": str(path)}})
    got = frame(per_minute, "client", "server", "window_start", "failures")
    expected = sorted((key, count) for key, count in failures.items() if count >= 5)

    assert [
        (client, server, microseconds(start))
        for client, server, start in got[["client", "server", "window_start"]].itertuples(
            index=False
        )
    ] == [key for key, _ in expected]
    assert got["failures"].tolist() == [count for _, count in expected]
    assert int(got["failures"].sum()) == 30
    # The failures-then-success rule finds nothing, since no login succeeds.
    assert len(logins.to_pandas()) == 0


# DNS tunnel: dns-tunnel-iodine.pcap --------------------------------------------------------


def dns_question(message: bytes) -> tuple[bool, bytes, int]:
    """Return (is a response, the first question's name as raw bytes, its type) of a DNS message."""
    flags = struct.unpack_from(">H", message, 2)[0]
    position = 12
    labels = []
    while message[position]:
        length = message[position]
        labels.append(message[position + 1 : position + 1 + length])
        position += 1 + length
    qtype = struct.unpack_from(">H", message, position + 1)[0]
    return bool(flags & 0x8000), b".".join(labels), qtype


def test_dns_tunnel_on_iodine_capture() -> None:
    path = require("datasets/pcap/dns-tunnel-iodine.pcap")
    queries: list[tuple[int, str, bytes, int]] = []
    for packet in ipv4_packets(path):
        if not isinstance(packet.transport, dpkt.udp.UDP) or packet.transport.dport != 53:
            continue
        response, name, qtype = dns_question(packet.transport.data)
        if not response:
            queries.append((packet.ts_us, packet.src, name, qtype))
    names = [name for _, _, name, _ in queries]
    plain = [name for name in names if re.fullmatch(rb"[A-Za-z0-9.-]+", name)]
    # iodine puts raw bytes in 41 names; 181 names are plain host names. All
    # 222 queries ask for distinct names of type NULL under pirate.sea.
    assert len(queries) == 222
    assert len(set(names)) == 222
    assert len(plain) == 181
    assert {qtype for *_, qtype in queries} == {10}
    assert all(name.endswith(b".pirate.sea") for name in names)

    # The reader writes bytes that are not UTF-8 as \xNN escapes, as Python's
    # "backslashreplace" does; the name lengths below follow that convention.
    per_window: dict[tuple[str, int], list[str]] = defaultdict(list)
    for ts_us, client, name, _ in queries:
        text = name.decode("utf-8", "backslashreplace")
        per_window[(client, ts_us // MINUTE_US * MINUTE_US)].append(text)
    expected = sorted(
        (client, start, len(texts), len(set(texts)), round(sum(map(len, texts)) / len(texts), 1))
        for (client, start), texts in per_window.items()
        if len(set(texts)) >= 30 and sum(map(len, texts)) / len(texts) >= 25
    )

    (alerts,) = run_example("dns_tunnel.sql", {"packets": {"path": str(path)}})
    got = frame(alerts, "client", "parent", "window_start", "queries", "names", "mean_length")

    assert set(got["parent"]) == {"pirate.sea"}
    assert [
        (client, microseconds(start), queries_, names_, mean)
        for client, _, start, queries_, names_, mean in got.itertuples(index=False)
    ] == expected
    assert sum(len(set(texts)) for texts in per_window.values()) == 222


# DHCP flood: dhcp_flood.pcap ---------------------------------------------------------------


def test_dhcp_flood_on_real_capture() -> None:
    path = require("datasets/pcap/dhcp_flood.pcap")
    names = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 5: "ACK", 8: "INFORM"}
    types: Counter[str] = Counter()
    windows: dict[int, list[tuple[str, bytes, str]]] = defaultdict(list)
    for packet in ipv4_packets(path):
        datagram = packet.transport
        if not isinstance(datagram, dpkt.udp.UDP) or {datagram.sport, datagram.dport} != {67, 68}:
            continue
        message = dpkt.dhcp.DHCP(datagram.data)
        kind = names[dict(message.opts)[dpkt.dhcp.DHCP_OPT_MSGTYPE][0]]
        types[kind] += 1
        if kind in ("DISCOVER", "INFORM"):
            start = packet.ts_us // (10 * SECOND_US) * (10 * SECOND_US)
            windows[start].append((kind, message.chaddr[:6], packet.src))
    # 250 DHCPINFORM from 250 client IPs with one MAC, each answered by an ACK.
    assert types == Counter({"INFORM": 250, "ACK": 250})

    alerts, by_type = run_example("dhcp_flood.sql", {"packets": {"path": str(path)}})
    got = frame(alerts, "window_start", "requests", "informs", "client_macs", "source_ips")
    expected = sorted(
        (
            start,
            len(rows),
            sum(kind == "INFORM" for kind, _, _ in rows),
            len({mac for _, mac, _ in rows}),
            len({source for _, _, source in rows}),
        )
        for start, rows in windows.items()
        if len(rows) >= 50
    )

    assert [
        (microseconds(start), *counts) for start, *counts in got.itertuples(index=False)
    ] == expected
    assert dict(
        zip(by_type.to_pandas()["message_type"], by_type.to_pandas()["messages"], strict=True)
    ) == dict(types)


# SQL injection: cooper-grill-dvwa.pcapng ---------------------------------------------------


def test_sql_injection_on_dvwa_capture() -> None:
    path = require("datasets/pcap/cooper-grill-dvwa.pcapng")
    pending: dict[tuple[str, int], str] = {}
    exchanges: list[tuple[int, str, int]] = []
    for packet, segment in tcp_packets(path):
        if segment.dport == 80 and segment.data.startswith(b"GET "):
            uri = segment.data.split(b" ", 2)[1].decode()
            pending[(packet.src, segment.sport)] = uri
        elif segment.sport == 80 and segment.data.startswith(b"HTTP/1."):
            uri = pending.pop((packet.dst, segment.dport), "")
            status = int(segment.data.split(b" ", 2)[1])
            exchanges.append((segment.dport, uri, status))
    # An injected quote (%27) marks the three SQL injection GETs; each is answered 200.
    injected = sorted(exchange for exchange in exchanges if "%27" in exchange[1])
    assert len(injected) == 3
    assert all(status == 200 for _, _, status in injected)

    answered, attempts = run_example("sql_injection.sql", {"packets": {"path": str(path)}})
    got = frame(answered, "client_port", "uri", "status")

    assert list(got.itertuples(index=False, name=None)) == injected
    assert len(attempts.to_pandas()) == 3


# SSH connections: sshguess.pcap ------------------------------------------------------------


def test_ssh_connections_on_real_capture() -> None:
    path = require("datasets/pcap/sshguess.pcap")
    first_syn: dict[tuple[str, str, int], int] = {}
    for packet, segment in tcp_packets(path):
        if is_syn(segment) and segment.dport == 22:
            first_syn.setdefault((packet.src, packet.dst, segment.sport), packet.ts_us)
    sources = {(source, server) for source, server, _ in first_syn}
    # 11 SSH connections from one source.
    assert len(first_syn) == 11
    assert len(sources) == 1
    ((client, server),) = sources

    per_window: dict[int, set[int]] = defaultdict(set)
    for (_, _, port), ts_us in first_syn.items():
        for start in hop_starts(ts_us, MINUTE_US, 5 * MINUTE_US):
            per_window[start].add(port)
    expected = sorted(
        (start, len(ports)) for start, ports in per_window.items() if len(ports) >= 10
    )

    windows, bursts = run_example("ssh_connections.sql", {"packets": {"path": str(path)}})
    got = frame(windows, "client", "server", "window_start", "connections")
    burst = bursts.to_pandas()

    assert set(got["client"]) == {client}
    assert set(got["server"]) == {server}
    assert [
        (microseconds(start), connections)
        for start, connections in got[["window_start", "connections"]].itertuples(index=False)
    ] == expected
    assert burst["connections"].tolist() == [11]
    assert abs(microseconds(burst["first_connection"][0]) - min(first_syn.values())) < 1_000


# Auth log: failures then success -----------------------------------------------------------

#: The real log's lines carry no year and its publishers do not state it, so
#: 2017 is assumed. The year changes no match, because the log (Mar 27 to
#: Apr 20) does not cross New Year or a leap day.
AUTH_YEAR = "2017"

LOGIN_LINE = re.compile(
    r"^(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) \S+ (?P<app>sshd|su|login)\[\d+\]: "
    r"(?:message repeated (?P<repeats>\d+) times: \[ )?"
    r"(?:(?P<outcome>Failed|Accepted) \S+ for (?:invalid user )?(?P<user>.*?) from (?P<ip>\S+) port \d+"
    r"|(?P<su>Successful|FAILED) su for (?P<su_user>\S+) by )"
)


@dataclass(frozen=True)
class Decision:
    ts: datetime
    app: str
    ip: str | None
    user: str
    outcome: str
    repeats: int


def login_decisions(path: Path) -> list[Decision]:
    decisions = []
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = LOGIN_LINE.match(text)
        if match is None:
            continue
        ts = datetime.strptime(f"{AUTH_YEAR} {match['time']}", "%Y %b %d %H:%M:%S")
        if match["su"]:
            outcome = "accepted" if match["su"] == "Successful" else "failed"
            user, ip = match["su_user"], None
        else:
            outcome = match["outcome"].lower()
            user, ip = match["user"], match["ip"]
        decisions.append(Decision(ts, match["app"], ip, user, outcome, int(match["repeats"] or 1)))
    return decisions


def guessing_matches(
    decisions: list[Decision], key: str, within: timedelta = timedelta(minutes=10)
) -> list[tuple[str, datetime, datetime, int]]:
    """Find ``F+ S`` per key where S follows failures standing for 3+ attempts, all within ``within``.

    Within one key, rows keep file order for equal times. The match starts
    at the earliest failure of the run that is less than ``within`` before
    the success and leaves three or more attempts. Any success ends the run.
    """
    by_key: dict[str, list[Decision]] = defaultdict(list)
    for decision in decisions:
        by_key[str(getattr(decision, key))].append(decision)
    matches = []
    for value, rows in by_key.items():
        rows.sort(key=lambda row: row.ts)
        run: list[Decision] = []
        for row in rows:
            if row.outcome == "failed":
                run.append(row)
                continue
            for index, first in enumerate(run):
                attempts = sum(failure.repeats for failure in run[index:])
                if row.ts - first.ts < within and attempts >= 3:
                    matches.append((value, first.ts, row.ts, attempts))
                    break
            run = []
    return sorted(matches)


def test_ssh_guessing_on_real_auth_log() -> None:
    path = require("datasets/logs/auth.log")
    decisions = login_decisions(path)
    sshd = [decision for decision in decisions if decision.app == "sshd"]
    expected = guessing_matches(sshd, "ip")
    failed_windows: Counter[tuple[str, datetime]] = Counter()
    for decision in sshd:
        if decision.outcome == "failed":
            start = decision.ts.replace(minute=decision.ts.minute // 10 * 10, second=0)
            failed_windows[(str(decision.ip), start)] += decision.repeats
    # One IP with three or more failures followed by a success within 10 minutes.
    assert len(expected) == 1

    matches, windows = run_example(
        "ssh_guessing.sql", {"auth": {"path": str(path), "syslog.year": AUTH_YEAR}}
    )
    got = frame(matches, "ip", "first_failure", "accepted_at", "failed_attempts")
    got_windows = frame(windows, "ip", "window_start", "failed_attempts")

    assert [
        (ip, first.to_pydatetime(), accepted.to_pydatetime(), int(attempts))
        for ip, first, accepted, attempts in got.itertuples(index=False)
    ] == expected
    assert sorted(
        (ip, start.to_pydatetime(), int(attempts))
        for ip, start, attempts in got_windows.itertuples(index=False)
    ) == sorted((ip, start, count) for (ip, start), count in failed_windows.items() if count >= 5)


def test_failed_logins_on_real_auth_log() -> None:
    path = require("datasets/logs/auth.log")
    expected = guessing_matches(login_decisions(path), "user")

    (matches,) = run_example(
        "failed_logins.sql", {"auth": {"path": str(path), "syslog.year": AUTH_YEAR}}
    )
    got = frame(matches, "user", "first_failure", "accepted_at", "failed_attempts")

    assert expected
    assert [
        (user, first.to_pydatetime(), accepted.to_pydatetime(), int(attempts))
        for user, first, accepted, attempts in got.itertuples(index=False)
    ] == expected


# Access log: 404 bursts --------------------------------------------------------------------

#: A whole combined-format line; the user agent may contain escaped quotes.
ACCESS_LINE = re.compile(
    r'^(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?:[^"\\]|\\.)*" (?P<status>\d{3}) \S+ '
    r'"(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*"$'
)


def test_not_found_bursts_on_apache_log() -> None:
    path = require("datasets/logs/apache_logs")
    not_found: dict[str, list[datetime]] = defaultdict(list)
    malformed = 0
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = ACCESS_LINE.match(text)
        if match is None:
            malformed += 1
            continue
        if match["status"] == "404":
            when = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z")
            not_found[match["ip"]].append(when.astimezone(UTC).replace(tzinfo=None))
    assert malformed == 1

    windows: Counter[tuple[str, datetime]] = Counter()
    for ip, times in not_found.items():
        for when in times:
            windows[(ip, when.replace(minute=when.minute // 5 * 5, second=0))] += 1
    expected_windows = sorted(
        (ip, start, count) for (ip, start), count in windows.items() if count >= 10
    )
    # Bursts: 404s of one client with at most 30 s between consecutive ones.
    expected_bursts = []
    for ip, times in not_found.items():
        ordered = sorted(times)
        first = previous = ordered[0]
        count = 0
        for when in ordered:
            if when - previous > timedelta(seconds=30):
                if count >= 10:
                    expected_bursts.append((ip, first, count))
                first, count = when, 0
            count += 1
            previous = when
        if count >= 10:
            expected_bursts.append((ip, first, count))

    per_window, bursts = run_example("not_found_bursts.sql", {"access": {"path": str(path)}})
    got_windows = frame(per_window, "client_ip", "window_start", "not_found")
    got_bursts = frame(bursts, "client_ip", "first_404", "not_found")

    assert expected_windows
    assert [
        (ip, start.to_pydatetime(), int(count))
        for ip, start, count in got_windows.itertuples(index=False)
    ] == expected_windows
    assert [
        (ip, first.to_pydatetime(), int(count))
        for ip, first, count in got_bursts.itertuples(index=False)
    ] == sorted(expected_bursts)
    assert len(per_window.rejected_rows()) == 1
