"""Write the generated logs that the example detection rules read.

Every log is synthetic, small and deterministic (fixed seeds and fixed
times), so ``python datasets/generate.py`` rewrites the same bytes. The known
answers below are what the examples find; the tests in
tests/test_examples.py check them.

auth.log (examples/ssh_guessing.sql, examples/failed_logins.sql)
    An RFC 3164 syslog of the host ``bastion``, Mar 4 08:00 to 10:00 of a
    year the lines do not carry (2024 when the examples read it), with
    sshd, CRON, sudo and systemd-logind messages. sshd password events, all
    ending in ``ssh2``:

    - 192.0.2.10 (alice): one failure at 08:05:10, accepted at 08:05:18.
    - 203.0.113.45 (root): five failures from 08:20:00 to 08:21:00, one
      every 15 s, then rsyslog's ``message repeated 2 times: [ Failed
      password ...]`` at 08:21:30, then accepted at 08:22:40. That is six
      failure lines standing for seven attempts.
    - 198.51.100.9: ten ``Invalid user`` lines, each followed by a failure
      for that invalid user, from 08:30:00 to 08:34:30, one pair every 30 s.
      No success.
    - 203.0.113.99 (deploy): four failures from 09:00:00 to 09:00:45, accepted
      only at 09:15:00, more than 10 minutes after the first failure.
    - backup: two failures from each of 198.51.100.31, .32 and .33 from
      09:30:00 to 09:32:30, then accepted from 198.51.100.34 at 09:35:00.

    So 27 failure lines (28 attempts) and 4 accepted lines. Three or more
    failures from one IP followed by a success from it within 10 minutes:
    one match, 203.0.113.45 (first failure 08:20:00, accepted 08:22:40, six
    failure lines, seven attempts). Per user instead of per IP: two
    matches, root (the same rows) and backup (six failures from three IPs,
    accepted from 198.51.100.34 at 09:35:00). IPs with five or more failed
    attempts in a ten-minute window: 203.0.113.45 from 08:20 (7) and
    198.51.100.9 from 08:30 (10).
access.log (examples/not_found_bursts.sql)
    An Apache combined log of 2024-03-31 from 00:40 to 01:20 UTC, across the
    switch of Central European time to summer time: lines before 01:00 UTC
    carry +0100, lines after it +0200. Lines are written when a request ends
    but stamped when it starts, so some are older than the line before (by
    up to 7 s). 198.51.100.77 requests 30 paths that do not exist from 01:02:10
    to 01:03:37 UTC (stamped 03:02:10 +0200 onwards), one every 3 s, all
    404. 192.0.2.44 requests a removed page once a minute from 00:55 to
    01:04 UTC (404, at most five in a five-minute window). 427 lines, 80 of them
    404s; one line is truncated. Clients with ten or more 404s in a five-minute window: one,
    198.51.100.77 in the window from 01:00 UTC, with 30.
conn.log (examples/port_scan_zeek.sql)
    A Zeek conn.log (TSV with #fields and #types headers, ``-`` for unset
    fields, ``(empty)`` for an empty set) of the scan in portscan.pcap:
    10.0.0.66 probes 200 ports of 10.0.0.20 from 2024-03-01 10:00:30, 192
    rejected (REJ) and 8 answered then reset by the scanner (RSTO). Around
    it, 24 ordinary connections (SF, DNS and HTTPS) and three unanswered
    attempts from 10.0.0.13 to 10.0.0.99:445 (S0, with unset duration and
    byte counts). Rows are written when a connection ends but stamped when it
    starts, so a row's time is up to 24.5 s before the row above it.
    227 rows in all. In one-minute windows
    that slide by 10 s, the six windows that start from 09:59:40 to 10:00:30
    each see 10.0.0.66 reach 200 distinct ports of 10.0.0.20.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from captures import (
    OPEN_PORTS,
    SCAN_OFFSET_US,
    SCAN_SOURCE_PORT,
    SCAN_START,
    SCAN_STEP_US,
    SCAN_TARGET,
    SCANNER,
    scan_ports,
)

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# auth.log --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyslogLine:
    when: datetime
    app: str
    pid: int | None
    message: str

    def text(self, hostname: str) -> str:
        # RFC 3164 pads a one-digit day with a space: "Mar  4".
        stamp = f"{MONTHS[self.when.month - 1]} {self.when.day:>2} {self.when:%H:%M:%S}"
        tag = self.app if self.pid is None else f"{self.app}[{self.pid}]"
        return f"{stamp} {hostname} {tag}: {self.message}"


def auth_log() -> list[str]:
    day = datetime(2024, 3, 4)
    lines: list[SyslogLine] = []
    next_pid = iter(range(2_100, 9_999, 7))

    def at(hour: int, minute: int, second: int) -> datetime:
        return day.replace(hour=hour, minute=minute, second=second)

    def sshd(when: datetime, message: str, pid: int) -> None:
        lines.append(SyslogLine(when, "sshd", pid, message))

    lines.append(SyslogLine(at(8, 0, 1), "sshd", 801, "Server listening on 0.0.0.0 port 22."))
    lines.append(SyslogLine(at(8, 0, 1), "sshd", 801, "Server listening on :: port 22."))
    for minute in range(0, 120, 10):
        pid = next(next_pid)
        when = at(8, 0, 1) + timedelta(minutes=minute)
        lines.append(
            SyslogLine(
                when,
                "CRON",
                pid,
                "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
            )
        )
        lines.append(
            SyslogLine(
                when + timedelta(seconds=1),
                "CRON",
                pid,
                "pam_unix(cron:session): session closed for user root",
            )
        )

    # alice mistypes once, then works and uses sudo.
    pid = next(next_pid)
    sshd(at(8, 5, 10), "Failed password for alice from 192.0.2.10 port 50122 ssh2", pid)
    sshd(at(8, 5, 18), "Accepted password for alice from 192.0.2.10 port 50122 ssh2", pid)
    sshd(
        at(8, 5, 18),
        "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
        pid,
    )
    lines.append(SyslogLine(at(8, 5, 18), "systemd-logind", 640, "New session 41 of user alice."))
    lines.append(
        SyslogLine(
            at(8, 6, 2),
            "sudo",
            None,
            "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
            "COMMAND=/usr/bin/systemctl restart nginx",
        )
    )
    lines.append(
        SyslogLine(
            at(8, 6, 2),
            "sudo",
            None,
            "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
        )
    )
    sshd(at(8, 41, 7), "pam_unix(sshd:session): session closed for user alice", pid)

    # 203.0.113.45 guesses root's password and gets in.
    pid = next(next_pid)
    for attempt in range(5):
        sshd(
            at(8, 20, 0) + timedelta(seconds=15 * attempt),
            f"Failed password for root from 203.0.113.45 port {40_410 + attempt} ssh2",
            pid,
        )
    sshd(
        at(8, 21, 30),
        "message repeated 2 times: [ Failed password for root from 203.0.113.45 port 40414 ssh2]",
        pid,
    )
    sshd(
        at(8, 21, 31),
        "Disconnecting authenticating user root 203.0.113.45 port 40414: "
        "Too many authentication failures [preauth]",
        pid,
    )
    pid = next(next_pid)
    sshd(at(8, 22, 40), "Accepted password for root from 203.0.113.45 port 40510 ssh2", pid)
    sshd(
        at(8, 22, 40),
        "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)",
        pid,
    )

    # 198.51.100.9 tries names that do not exist.
    for attempt, user in enumerate(
        ("admin", "test", "oracle", "ubuntu", "pi", "guest", "ftp", "git", "postgres", "user")
    ):
        pid = next(next_pid)
        when = at(8, 30, 0) + timedelta(seconds=30 * attempt)
        port = 51_000 + attempt
        sshd(when, f"Invalid user {user} from 198.51.100.9 port {port}", pid)
        sshd(
            when + timedelta(seconds=2),
            f"Failed password for invalid user {user} from 198.51.100.9 port {port} ssh2",
            pid,
        )
        sshd(
            when + timedelta(seconds=3),
            f"Connection closed by invalid user {user} 198.51.100.9 port {port} [preauth]",
            pid,
        )

    # 203.0.113.99 fails four times and succeeds only 15 minutes later.
    pid = next(next_pid)
    for attempt in range(4):
        sshd(
            at(9, 0, 0) + timedelta(seconds=15 * attempt),
            f"Failed password for deploy from 203.0.113.99 port {52_000 + attempt} ssh2",
            pid,
        )
    sshd(
        at(9, 15, 0),
        "Accepted password for deploy from 203.0.113.99 port 52100 ssh2",
        next(next_pid),
    )

    # Three IPs guess backup's password; a fourth logs in.
    for number, ip in enumerate(("198.51.100.31", "198.51.100.32", "198.51.100.33")):
        pid = next(next_pid)
        for attempt in range(2):
            sshd(
                at(9, 30, 0) + timedelta(seconds=60 * number + 30 * attempt),
                f"Failed password for backup from {ip} port {53_000 + 10 * number + attempt} ssh2",
                pid,
            )
    sshd(
        at(9, 35, 0),
        "Accepted password for backup from 198.51.100.34 port 53100 ssh2",
        next(next_pid),
    )

    lines.sort(key=lambda line: line.when)
    return [line.text("bastion") for line in lines]


# access.log ------------------------------------------------------------------------------

PAGES = ("/", "/products", "/products/17", "/products/42", "/cart", "/about", "/css/site.css")
PROBES = (
    "/wp-login.php",
    "/.env",
    "/.git/config",
    "/phpmyadmin/",
    "/admin/",
    "/backup.zip",
    "/config.php.bak",
    "/server-status",
    "/cgi-bin/test.cgi",
    "/actuator/health",
)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
)
#: Central European time switches to summer time on 2024-03-31 at 01:00 UTC.
SUMMER_TIME_FROM = datetime(2024, 3, 31, 1, 0, 0)


@dataclass(frozen=True)
class Request:
    start: datetime  # UTC
    duration: timedelta
    client: str
    path: str
    status: int
    size: int
    agent: str
    user: str = "-"

    def text(self) -> str:
        offset = timedelta(hours=2 if self.start >= SUMMER_TIME_FROM else 1)
        local = self.start.replace(tzinfo=UTC).astimezone(timezone(offset))
        stamp = local.strftime("%d/%b/%Y:%H:%M:%S %z")
        size = "-" if self.size == 0 else str(self.size)
        referrer = "-" if self.status == 404 else "https://shop.example/"
        return (
            f'{self.client} - {self.user} [{stamp}] "GET {self.path} HTTP/1.1" '
            f'{self.status} {size} "{referrer}" "{self.agent}"'
        )


def access_log() -> list[str]:
    rng = random.Random(201)
    begin = datetime(2024, 3, 31, 0, 40, 0)
    requests: list[Request] = []
    clients = [f"192.0.2.{number}" for number in (11, 23, 35, 47, 59, 61, 73, 85)]
    for client in clients:
        agent = rng.choice(AGENTS)
        user = "maria" if client == "192.0.2.35" else "-"
        moment = begin + timedelta(seconds=rng.randrange(0, 120))
        while moment < begin + timedelta(minutes=40):
            path = rng.choice(PAGES)
            status = 304 if path == "/css/site.css" and rng.random() < 0.5 else 200
            size = 0 if status == 304 else rng.randrange(800, 40_000)
            duration = timedelta(milliseconds=rng.randrange(5, 3_000))
            if size > 35_000:
                duration = timedelta(milliseconds=rng.randrange(5_000, 8_000))
            requests.append(Request(moment, duration, client, path, status, size, agent, user))
            if rng.random() < 0.1:
                requests.append(
                    Request(
                        moment, timedelta(milliseconds=3), client, "/favicon.ico", 404, 196, agent
                    )
                )
            moment += timedelta(seconds=rng.randrange(20, 90))

    for minute in range(10):
        requests.append(
            Request(
                datetime(2024, 3, 31, 0, 55, 20) + timedelta(minutes=minute),
                timedelta(milliseconds=4),
                "192.0.2.44",
                "/old-catalogue.html",
                404,
                196,
                AGENTS[0],
            )
        )
    for attempt in range(30):
        requests.append(
            Request(
                datetime(2024, 3, 31, 1, 2, 10) + timedelta(seconds=3 * attempt),
                timedelta(milliseconds=2),
                "198.51.100.77",
                PROBES[attempt % len(PROBES)] + ("" if attempt < 10 else f"?v={attempt}"),
                404,
                196,
                "Mozilla/5.0 zgrab/0.x",
            )
        )
    requests.sort(key=lambda request: (request.start + request.duration, request.client))
    lines = [request.text() for request in requests]
    # A line cut short, as when a disk fills while the server writes it.
    lines.insert(
        len(lines) // 3, '192.0.2.99 - - [31/Mar/2024:01:51:02 +0100] "GET /index.html HTT'
    )
    return lines


# conn.log --------------------------------------------------------------------------------

#: The columns of a Zeek conn.log (as Zeek 2.x wrote them) and their Zeek types.
ZEEK_COLUMNS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
)
UNSET = "-"


@dataclass(frozen=True)
class Connection:
    start: datetime  # UTC
    orig: tuple[str, int]
    resp: tuple[str, int]
    proto: str
    service: str
    duration: float | None  # seconds; None when Zeek saw no reply
    orig_bytes: int | None
    resp_bytes: int | None
    state: str
    history: str
    orig_pkts: int
    resp_pkts: int

    def logged_at(self) -> datetime:
        """Return when Zeek writes the row: when the connection ends, or 5 s after an unanswered SYN."""
        return self.start + timedelta(seconds=5 if self.duration is None else self.duration + 1)

    def fields(self, uid: str) -> list[str]:
        def value(number: float | int | None, pattern: str = "{}") -> str:
            return UNSET if number is None else pattern.format(number)

        header = 20 if self.proto == "tcp" else 8
        orig_ip = self.orig_pkts * (20 + header) + (self.orig_bytes or 0)
        resp_ip = self.resp_pkts * (20 + header) + (self.resp_bytes or 0)
        seconds = (
            self.start.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
        ).total_seconds()
        return [
            f"{seconds:.6f}",
            uid,
            self.orig[0],
            str(self.orig[1]),
            self.resp[0],
            str(self.resp[1]),
            self.proto,
            self.service,
            value(self.duration, "{:.6f}"),
            value(self.orig_bytes),
            value(self.resp_bytes),
            self.state,
            UNSET,
            "0",
            self.history,
            str(self.orig_pkts),
            str(orig_ip),
            str(self.resp_pkts),
            str(resp_ip),
            "(empty)",
        ]


def conn_log() -> list[str]:
    rng = random.Random(301)
    connections: list[Connection] = []
    for number in range(4):
        client = f"10.0.0.{11 + number}"
        for visit in range(3):
            start = SCAN_START + timedelta(milliseconds=rng.randrange(0, 55_000))
            port = 49_152 + number * 100 + visit
            connections.append(
                Connection(
                    start,
                    (client, port),
                    ("10.0.0.53", 53),
                    "udp",
                    "dns",
                    0.0009,
                    33,
                    49,
                    "SF",
                    "Dd",
                    1,
                    1,
                )
            )
            duration = round(rng.uniform(0.2, 30.0), 6)
            connections.append(
                Connection(
                    start + timedelta(milliseconds=2),
                    (client, port),
                    ("198.51.100.10", 443),
                    "tcp",
                    "ssl",
                    duration,
                    rng.randrange(500, 2_000),
                    rng.randrange(2_000, 90_000),
                    "SF",
                    "ShADadFf",
                    rng.randrange(6, 20),
                    rng.randrange(6, 80),
                )
            )
    for attempt in range(3):
        connections.append(
            Connection(
                SCAN_START + timedelta(seconds=12 + 3 * attempt),
                ("10.0.0.13", 50_445 + attempt),
                ("10.0.0.99", 445),
                "tcp",
                UNSET,
                None,
                None,
                None,
                "S0",
                "S",
                1,
                0,
            )
        )
    start_of_scan = SCAN_START + timedelta(microseconds=SCAN_OFFSET_US)
    for index, port in enumerate(scan_ports()):
        start = start_of_scan + timedelta(microseconds=index * SCAN_STEP_US)
        scanner = (SCANNER.ip, SCAN_SOURCE_PORT)
        target = (SCAN_TARGET.ip, port)
        if port in OPEN_PORTS:
            connections.append(
                Connection(start, scanner, target, "tcp", UNSET, 0.0004, 0, 0, "RSTO", "ShR", 2, 1)
            )
        else:
            connections.append(
                Connection(start, scanner, target, "tcp", UNSET, 0.0003, 0, 0, "REJ", "Sr", 1, 1)
            )
    connections.sort(key=Connection.logged_at)

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    opened = "2024-03-01-10-00-00"
    closed = "2024-03-01-10-05-00"
    lines = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        f"#open\t{opened}",
        "#fields\t" + "\t".join(name for name, _ in ZEEK_COLUMNS),
        "#types\t" + "\t".join(kind for _, kind in ZEEK_COLUMNS),
    ]
    for connection in connections:
        uid = "C" + "".join(rng.choices(alphabet, k=17))
        lines.append("\t".join(connection.fields(uid)))
    lines.append(f"#close\t{closed}")
    return lines


def main(directory: Path) -> list[Path]:
    """Write every log into ``directory``; return their paths."""
    written = []
    for name, lines in (
        ("auth.log", auth_log()),
        ("access.log", access_log()),
        ("conn.log", conn_log()),
    ):
        path = directory / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written
