"""The syslog reader: RFC 3164 and 5424 edge cases, auth fields, the real auth.log and SQL."""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.shared import require
from workbench import Session
from workbench.errors import SourceError
from workbench.results import QueryResult, TableResult
from workbench.sources.live.syslog_lines import SyslogLines, live_syslog_schema
from workbench.sources.read import FileContents, read_file
from workbench.sources.registry import open_reader, reader_schema
from workbench.sources.syslog_reader import AUTH_COLUMNS, SYSLOG_COLUMNS, SyslogReader


def write(tmp_path: Path, text: str, name: str = "syslog") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def read(path: Path, connector: str = "syslog", **options: str) -> FileContents:
    return read_file(path, connector, options)


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# Schema and options ----------------------------------------------------------------


def test_schema_of_each_format() -> None:
    plain = reader_schema({"connector": "syslog", "path": "x"})
    auth = reader_schema({"connector": "syslog-auth", "path": "x"})
    by_format = reader_schema({"connector": "syslog", "format": "auth", "path": "x"})
    assert plain is not None
    assert auth is not None
    assert by_format is not None
    syslog_names = [column.name for column in SYSLOG_COLUMNS]
    auth_names = [column.name for column in AUTH_COLUMNS]
    assert plain.schema.names == syslog_names
    assert auth.schema.names == syslog_names + auth_names
    assert by_format.schema.names == auth.schema.names
    assert plain.watermark_delay_ns == 5 * 10**9
    assert all(column.comment for column in auth.schema)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"syslog.year": "17x"}, "invalid value '17x' for option 'syslog.year'"),
        ({"syslog.year": "99999"}, "invalid value '99999' for option 'syslog.year'"),
        ({"format": "rfc9999"}, "unknown format 'rfc9999'"),
    ],
)
def test_invalid_options(tmp_path: Path, options: dict[str, str], message: str) -> None:
    path = write(tmp_path, "Mar  1 00:00:00 h a: b\n")
    with pytest.raises(SourceError, match=re.escape(message)):
        read(path, **options)


# RFC 3164 ---------------------------------------------------------------------------


def test_classic_line_fields(tmp_path: Path) -> None:
    text = (
        "Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.\n"
        "Mar  7 01:02:03 web1 sudo:   ubuntu : TTY=pts/0 ; COMMAND=/bin/ls\n"
        "Mar 7 01:02:04 web1 kernel: [ 1.5] booted\n"
        "Mar  7 01:02:05 web1 -- MARK --\n"
        "Mar  7 01:02:06.250 web1 app[x1]:no space\n"
    )
    contents = read(write(tmp_path, text), **{"syslog.year": "2017"})
    rows = contents.rows
    assert len(contents.rejected) == 0
    assert rows["ts"].tolist() == [
        pd.Timestamp("2017-03-27 13:06:56"),
        pd.Timestamp("2017-03-07 01:02:03"),
        pd.Timestamp("2017-03-07 01:02:04"),
        pd.Timestamp("2017-03-07 01:02:05"),
        pd.Timestamp("2017-03-07 01:02:06.250"),
    ]
    assert rows["host"].tolist() == ["ip-10-77-20-248", "web1", "web1", "web1", "web1"]
    assert rows["app"].tolist()[:3] == ["sshd", "sudo", "kernel"]
    assert pd.isna(rows["app"][3])
    assert rows["app"][4] == "app"
    assert rows["pid"][0] == 1291
    assert pd.isna(rows["pid"][1])
    # A pid that is not a number reads as NULL.
    assert pd.isna(rows["pid"][4])
    assert rows["message"].tolist() == [
        "Server listening on 0.0.0.0 port 22.",
        "  ubuntu : TTY=pts/0 ; COMMAND=/bin/ls",
        "[ 1.5] booted",
        "-- MARK --",
        "no space",
    ]
    assert rows["priority"].isna().all()
    assert rows["facility"].isna().all()
    assert rows["msgid"].isna().all()
    assert rows["structured_data"].isna().all()


def test_missing_year_defaults_to_current_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "Mar  1 00:00:00 h a: one\nMar  1 00:00:01 h a: two\n")
    with caplog.at_level(logging.WARNING, logger="workbench.sources.syslog_reader"):
        contents = read(path)
    year = dt.datetime.now(dt.UTC).year
    assert contents.rows["ts"][0] == pd.Timestamp(year, 3, 1)
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert f"assuming {year}" in warnings[0]
    assert "'syslog.year'" in warnings[0]
    assert str(path) in warnings[0]


def test_year_option_silences_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, "Mar  1 00:00:00 h a: one\n")
    with caplog.at_level(logging.WARNING, logger="workbench.sources.syslog_reader"):
        read(path, **{"syslog.year": "2016"})
    assert caplog.records == []


def test_year_rollover(tmp_path: Path) -> None:
    text = (
        "Dec 31 23:59:58 h a: a\n"
        "Dec 31 23:59:59 h a: b\n"
        "Jan  1 00:00:00 h a: c\n"
        "Jan  1 00:00:01 h a: d\n"
        "Dec 30 10:00:00 h a: a late line of the year before\n"
        "Feb 28 10:00:00 h a: e\n"
        "Jul  1 10:00:00 h a: f\n"
        "Dec  1 10:00:00 h a: g\n"
        "Feb  1 10:00:00 h a: h, after a gap\n"
    )
    contents = read(write(tmp_path, text), **{"syslog.year": "2016"})
    years = [stamp.year for stamp in contents.rows["ts"]]
    assert years == [2016, 2016, 2017, 2017, 2016, 2017, 2017, 2017, 2018]


def test_rollover_across_blocks(tmp_path: Path) -> None:
    lines = [f"Dec 31 23:{i // 60:02d}:{i % 60:02d} h a: {i}" for i in range(100)]
    lines += [f"Jan  1 00:{i // 60:02d}:{i % 60:02d} h a: {i}" for i in range(100)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    options = {"connector": "syslog", "path": str(path), "syslog.year": "2020"}
    own = reader_schema(options)
    assert own is not None
    reader = open_reader("s", options, own.schema)
    assert isinstance(reader, SyslogReader)
    reader.block_bytes = 512
    frame = pd.concat(list(reader.chunks()), ignore_index=True)
    assert [stamp.year for stamp in frame["ts"]] == [2020] * 100 + [2021] * 100


def test_leap_day_and_invalid_date(tmp_path: Path) -> None:
    text = "Feb 29 12:00:00 h a: leap\nFeb 30 12:00:00 h a: never\nFoo  1 12:00:00 h a: x\n"
    leap = read(write(tmp_path, text), **{"syslog.year": "2016"})
    assert leap.rows["ts"].tolist() == [pd.Timestamp("2016-02-29 12:00:00")]
    assert leap.rejected["line"].tolist() == [2, 3]
    assert leap.rejected["reason"][0] == "invalid timestamp 'Feb 30 12:00:00 2016'"
    assert leap.rejected["reason"][1] == "invalid timestamp 'Foo  1 12:00:00 2016'"
    common = read(write(tmp_path, text), **{"syslog.year": "2017"})
    assert common.rows["message"].tolist() == []
    assert common.rejected["reason"][0] == "invalid timestamp 'Feb 29 12:00:00 2017'"


def test_time_zone_option(tmp_path: Path) -> None:
    text = "Jan  1 12:00:00 h a: winter\nJul  1 12:00:00 h a: summer\n"
    path = write(tmp_path, text)
    contents = read(path, **{"syslog.year": "2020", "timezone": "Europe/Berlin"})
    assert contents.rows["ts"].tolist() == [
        pd.Timestamp("2020-01-01 11:00:00"),
        pd.Timestamp("2020-07-01 10:00:00"),
    ]


def test_iso_timestamp_variant(tmp_path: Path) -> None:
    text = (
        "2017-03-27T13:06:56.123456+02:00 host sshd[7]: with offset\n"
        "2017-03-27T13:06:56Z host sshd[7]: utc\n"
        "2017-03-27 13:06:56 host cron: no offset\n"
        "<13>2017-03-27T13:06:56-0500 host app: pri and compact offset\n"
    )
    contents = read(write(tmp_path, text), timezone="Asia/Tokyo")
    assert contents.rows["ts"].tolist() == [
        pd.Timestamp("2017-03-27 11:06:56.123456"),
        pd.Timestamp("2017-03-27 13:06:56"),
        pd.Timestamp("2017-03-27 04:06:56"),
        pd.Timestamp("2017-03-27 18:06:56"),
    ]
    assert contents.rows["app"].tolist() == ["sshd", "sshd", "cron", "app"]
    assert contents.rows["priority"][3] == 13


@pytest.mark.parametrize(
    ("priority", "facility", "severity"),
    [
        (0, "kern", "emerg"),
        (13, "user", "notice"),
        (34, "auth", "crit"),
        (38, "auth", "info"),
        (86, "authpriv", "info"),
        (165, "local4", "notice"),
        (191, "local7", "debug"),
    ],
)
def test_priority_decoding(tmp_path: Path, priority: int, facility: str, severity: str) -> None:
    path = write(tmp_path, f"<{priority}>Oct 11 22:14:15 mymachine su: 'su root' failed\n")
    rows = read(path, **{"syslog.year": "2003"}).rows
    assert rows["priority"].tolist() == [priority]
    assert rows["facility"].tolist() == [facility]
    assert rows["severity"].tolist() == [severity]


def test_priority_above_191_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "<192>Oct 11 22:14:15 h su: x\n<999>1 - - - - - -\n")
    contents = read(path)
    assert contents.rejected["reason"].tolist() == [
        "invalid priority <192>: PRI must be 0 to 191",
        "invalid priority <999>: PRI must be 0 to 191",
    ]


# RFC 5424 -------------------------------------------------------------------------------

BOM = "\ufeff"
RFC5424_LINES = (
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
    f"{BOM}'su root' failed for lonvick on /dev/pts/8\n"
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
    "%% It's time to make the do-nuts.\n"
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" '
    'eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]\n'
    '<165>1 2003-10-11T22:14:15+00:00 host app proc-9 - [a@1 q="say \\"hi\\" \\]x\\\\"] '
    f"{BOM}An application event\n"
    "<14>1 - - - - - -\n"
)


def test_rfc5424_fields(tmp_path: Path) -> None:
    contents = read(write(tmp_path, RFC5424_LINES))
    rows = contents.rows
    assert len(contents.rejected) == 0
    assert rows["ts"][:4].tolist() == [
        pd.Timestamp("2003-10-11 22:14:15.003"),
        pd.Timestamp("2003-08-24 12:14:15.000003"),
        pd.Timestamp("2003-10-11 22:14:15.003"),
        pd.Timestamp("2003-10-11 22:14:15"),
    ]
    assert pd.isna(rows["ts"][4])
    assert rows["host"][:4].tolist() == [
        "mymachine.example.com",
        "192.0.2.1",
        "mymachine.example.com",
        "host",
    ]
    assert rows["app"][:4].tolist() == ["su", "myproc", "evntslog", "app"]
    assert pd.isna(rows["pid"][0])
    assert rows["pid"][1] == 8710
    assert pd.isna(rows["pid"][3])
    assert rows["msgid"][0] == "ID47"
    assert pd.isna(rows["msgid"][1])
    assert rows["message"][0] == "'su root' failed for lonvick on /dev/pts/8"
    assert rows["message"][1] == "%% It's time to make the do-nuts."
    assert pd.isna(rows["message"][2])
    assert rows["message"][3] == "An application event"
    assert rows["structured_data"][2] == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
        "examplePriority@32473": {"class": "high"},
    }
    assert rows["structured_data"][3] == {"a@1": {"q": 'say "hi" ]x\\'}}
    assert rows["structured_data"][0] is None
    assert rows["facility"].tolist() == ["auth", "local4", "local4", "local4", "user"]
    assert all(pd.isna(rows[name][4]) for name in ["host", "app", "pid", "msgid", "message"])


def test_format_option_restricts_kind(tmp_path: Path) -> None:
    text = RFC5424_LINES + "Mar  1 00:00:00 h a: classic\n"
    only_5424 = read(write(tmp_path, text), format="rfc5424")
    assert len(only_5424.rows) == 5
    assert only_5424.rejected["line"].tolist() == [6]
    assert only_5424.rejected["reason"][0].startswith("invalid RFC 5424 syslog line")
    only_3164 = read(write(tmp_path, text), format="rfc3164", **{"syslog.year": "2020"})
    assert only_3164.rows["message"].tolist() == ["classic"]
    assert only_3164.rejected["line"].tolist() == [1, 2, 3, 4, 5]


def test_unparsable_lines_rejected(tmp_path: Path) -> None:
    text = "Mar  1 00:00:00 h a: ok\nnot syslog at all\n\n   \n<34>1 2003-10-11 bad\nMar  1\n"
    path = write(tmp_path, text)
    contents = read(path, **{"syslog.year": "2020"})
    assert contents.rows["message"].tolist() == ["ok"]
    assert contents.rejected["line"].tolist() == [2, 5, 6]
    reasons = contents.rejected["reason"].tolist()
    assert reasons[0].startswith("not a syslog line: 'not syslog at all'")
    assert reasons[1].startswith("invalid RFC 5424 syslog line")
    assert reasons[2].startswith("invalid RFC 3164 syslog line")
    assert contents.counters.lines_skipped == 2
    counters = contents.counters
    total = counters.rows_read + counters.rows_rejected + counters.lines_skipped
    assert total == line_count(path.read_bytes())


# Auth fields ---------------------------------------------------------------------------

AUTH_CASES = [
    (
        "sshd[1]: Failed password for root from 1.2.3.4 port 5555 ssh2",
        ("failed_password", "failed", "root", "1.2.3.4", 5555, "password", None, 1),
    ),
    (
        "sshd[1]: Failed password for invalid user admin from 1.2.3.4 port 5 ssh2",
        ("failed_password", "failed", "admin", "1.2.3.4", 5, "password", None, 1),
    ),
    (
        "sshd[1]: message repeated 5 times: [ Failed password for root from 1.2.3.4 port 6 ssh2]",
        ("failed_password", "failed", "root", "1.2.3.4", 6, "password", None, 5),
    ),
    (
        "sshd[1]: Accepted password for ubuntu from 2001:db8::1 port 22 ssh2",
        ("accepted_password", "accepted", "ubuntu", "2001:db8::1", 22, "password", None, 1),
    ),
    (
        "sshd[1]: Accepted publickey for ubuntu from 85.245.107.41 port 54259 ssh2: RSA SHA256:x",
        ("accepted_publickey", "accepted", "ubuntu", "85.245.107.41", 54259, "publickey", None, 1),
    ),
    (
        "sshd[1]: Accepted keyboard-interactive/pam for bob from 1.2.3.4 port 1 ssh2",
        (
            "accepted_keyboard_interactive",
            "accepted",
            "bob",
            "1.2.3.4",
            1,
            "keyboard-interactive/pam",
            None,
            1,
        ),
    ),
    (
        "sshd[1]: Invalid user oracle from 1.2.3.4",
        ("invalid_user", None, "oracle", "1.2.3.4", None, None, None, 1),
    ),
    (
        "sshd[1]: Invalid user  from 1.2.3.4 port 7",
        ("invalid_user", None, "", "1.2.3.4", 7, None, None, 1),
    ),
    (
        "sshd[1]: error: maximum authentication attempts exceeded for root from 1.2.3.4 port 8 ssh2 [preauth]",
        ("max_auth_attempts", None, "root", "1.2.3.4", 8, None, None, 1),
    ),
    (
        "sshd[1]: Received disconnect from 1.2.3.4 port 9:11: Bye Bye [preauth]",
        ("disconnect", None, None, "1.2.3.4", 9, None, None, 1),
    ),
    (
        "sshd[1]: Disconnected from invalid user pi 1.2.3.4 port 10 [preauth]",
        ("disconnect", None, "pi", "1.2.3.4", 10, None, None, 1),
    ),
    (
        "sshd[1]: Connection closed by 1.2.3.4 port 11 [preauth]",
        ("connection_closed", None, None, "1.2.3.4", 11, None, None, 1),
    ),
    (
        "sshd[1]: Did not receive identification string from 1.2.3.4",
        ("no_identification", None, None, "1.2.3.4", None, None, None, 1),
    ),
    (
        "sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
        "ruser= rhost=1.2.3.4  user=root",
        ("auth_failure", None, "root", "1.2.3.4", None, None, None, 1),
    ),
    (
        "sshd[1]: pam_unix(sshd:session): session opened for user ubuntu by (uid=0)",
        ("session_opened", None, "ubuntu", None, None, None, None, 1),
    ),
    (
        "CRON[2]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        ("session_opened", None, "root", None, None, None, None, 1),
    ),
    (
        "sudo: pam_unix(sudo:session): session closed for user root",
        ("session_closed", None, "root", None, None, None, None, 1),
    ),
    (
        "sudo:   ubuntu : TTY=pts/0 ; PWD=/home/ubuntu ; USER=root ; COMMAND=/usr/bin/apt-key add -",
        ("sudo", "accepted", "ubuntu", None, None, None, "/usr/bin/apt-key add -", 1),
    ),
    (
        "sudo:     eve : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; "
        "COMMAND=/bin/sh",
        ("sudo_denied", "failed", "eve", None, None, None, "/bin/sh", 1),
    ),
    (
        "sudo:     eve : user NOT in sudoers ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/id",
        ("sudo_denied", "failed", "eve", None, None, None, "/bin/id", 1),
    ),
    (
        "su[3]: Successful su for root by ubuntu",
        ("su", "accepted", "root", None, None, None, None, 1),
    ),
    (
        "su[3]: FAILED su for root by eve",
        ("su_failed", "failed", "root", None, None, None, None, 1),
    ),
    (
        "login[4]: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure",
        ("login_failed", "failed", "root", None, None, None, None, 1),
    ),
    (
        "login[4]: ROOT LOGIN  on '/dev/tty1'",
        ("login", "accepted", "root", None, None, None, None, 1),
    ),
    (
        "useradd[5]: new user: name=elastic_user_0, UID=1001, GID=1001, home=/home/x",
        ("user_added", None, "elastic_user_0", None, None, None, None, 1),
    ),
    (
        "systemd-logind[6]: New seat seat0.",
        (None, None, None, None, None, None, None, 1),
    ),
]
AUTH_FIELDS = ["event", "outcome", "user", "ip", "port", "method", "command", "repeats"]


def test_auth_fields(tmp_path: Path) -> None:
    text = "".join(f"Mar 27 13:06:56 host {line}\n" for line, _ in AUTH_CASES)
    contents = read(write(tmp_path, text), "syslog-auth", **{"syslog.year": "2017"})
    assert len(contents.rejected) == 0
    rows = contents.rows
    for index, (line, expected) in enumerate(AUTH_CASES):
        got = tuple(
            None if pd.isna(rows[name][index]) else rows[name][index] for name in AUTH_FIELDS
        )
        assert got == expected, line


def test_repeated_message_decoded(tmp_path: Path) -> None:
    text = (
        "Mar 27 13:06:56 host sshd[1]: message repeated 3 times: "
        "[ Failed password for root from 1.2.3.4 port 6 ssh2]\n"
        "Mar 27 13:06:57 host sshd[1]: message repeated 2 times: [ Server listening]\n"
    )
    path = write(tmp_path, text)
    auth = read(path, "syslog-auth", **{"syslog.year": "2017"}).rows
    assert auth["message"].tolist() == [
        "Failed password for root from 1.2.3.4 port 6 ssh2",
        "Server listening",
    ]
    assert auth["repeats"].tolist() == [3, 2]
    plain = read(path, **{"syslog.year": "2017"}).rows
    assert plain["message"][1] == "message repeated 2 times: [ Server listening]"


def test_invalid_utf8_kept_escaped(tmp_path: Path) -> None:
    data = (
        b"Mar 27 13:06:56 host sshd[1]: Failed password for J\xf6rg from 1.2.3.4 port 6 ssh2\n"
        b"Mar 27 13:06:57 h\xe9st sshd[1]: Failed password for J\xc3\xb6rg from 1.2.3.4 port 7 ssh2\n"
        b"not \xff syslog\n"
    )
    path = tmp_path / "auth.log"
    path.write_bytes(data)
    contents = read(path, "syslog-auth", **{"syslog.year": "2017"})
    rows = contents.rows
    assert rows["user"].tolist() == ["J\\xf6rg", "J\u00f6rg"]
    assert rows["message"][0] == "Failed password for J\\xf6rg from 1.2.3.4 port 6 ssh2"
    assert rows["host"].tolist() == ["host", "h\\xe9st"]
    assert contents.rejected["line"].tolist() == [3]
    assert contents.rejected["raw"][0] == "not \\xff syslog"
    assert contents.rejected["reason"][0].startswith("not a syslog line: 'not \\\\xff syslog'")


def test_live_invalid_utf8_kept_escaped() -> None:
    options = {"format": "auth", "syslog.year": "2017"}
    schema = live_syslog_schema(options)
    assert schema is not None
    lines = SyslogLines("auth", schema, options)
    frame, failures = lines.parse(
        [b"Mar 27 13:06:56 host sshd[1]: Failed password for J\xf6rg from 1.2.3.4 port 6 ssh2"]
    )
    assert failures == []
    assert frame["user"].tolist() == ["J\\xf6rg"]


# Real data -----------------------------------------------------------------------------

FAILED = re.compile(
    r"sshd\[\d+\]: (?:message repeated \d+ times: \[ )?Failed password .* from (\S+) port"
)
ACCEPTED = re.compile(r"sshd\[\d+\]: Accepted password for .* from (\S+) port")
INVALID = re.compile(r"sshd\[\d+\]: Invalid user ")


def test_real_auth_log_facts() -> None:
    path = require("datasets/logs/auth.log")
    contents = read(path, "syslog-auth", **{"syslog.year": "2017"})
    rows = contents.rows
    text = path.read_text(encoding="utf-8").splitlines()
    failed_ips = [found[1] for line in text if (found := FAILED.search(line))]
    accepted_ips = [found[1] for line in text if (found := ACCEPTED.search(line))]
    invalid = sum(1 for line in text if INVALID.search(line))
    assert len(rows) == 7121
    assert len(contents.rejected) == 0
    failed = rows[rows["event"] == "failed_password"]
    accepted = rows[rows["event"] == "accepted_password"]
    assert len(failed) == 713 == len(failed_ips)
    assert failed["ip"].nunique() == 105 == len(set(failed_ips))
    assert len(accepted) == 190 == len(accepted_ips)
    assert accepted["ip"].nunique() == 4 == len(set(accepted_ips))
    assert sorted(accepted["ip"]) == sorted(accepted_ips)
    assert int((rows["event"] == "invalid_user").sum()) == 178 == invalid
    assert rows["ts"].min() == pd.Timestamp("2017-03-27 13:06:56")
    assert rows["ts"].max() == pd.Timestamp("2017-04-20 14:14:29")
    assert rows["repeats"].sum() > len(rows)


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=800_000), st.binary(min_size=0, max_size=3)),
        min_size=1,
        max_size=12,
    )
)
def test_mutated_auth_log_never_crashes(edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(require("datasets/logs/auth.log").read_bytes()[:60_000])
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data[at : at + 1] = replacement
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "auth.log"
        path.write_bytes(bytes(data))
        contents = read(path, "syslog-auth", **{"syslog.year": "2017"})
        counters = contents.counters
        total = counters.rows_read + counters.rows_rejected + counters.lines_skipped
        assert total == line_count(bytes(data))
        assert len(contents.rejected) == counters.rows_rejected


# SQL ---------------------------------------------------------------------------------


def test_sql_describe_and_windowed_query() -> None:
    path = require("datasets/logs/auth.log")
    session = Session(progress=False)
    session.sql(
        f"CREATE TABLE auth WITH ('connector' = 'syslog-auth', 'path' = '{path}', "
        "'syslog.year' = '2017')"
    )
    described = session.sql("DESCRIBE auth")
    assert isinstance(described, TableResult)
    frame = described.to_pandas()
    assert frame["name"].tolist() == [column.name for column in SYSLOG_COLUMNS + AUTH_COLUMNS]
    assert frame["watermark"][0] == "ts - INTERVAL '5' SECOND"
    result = session.sql(
        "SELECT ip, window_start, COUNT(*) AS lines, SUM(repeats) AS attempts "
        "FROM TABLE(TUMBLE(TABLE auth, DESCRIPTOR(ts), INTERVAL '1' HOUR)) "
        "WHERE event = 'failed_password' "
        "GROUP BY ip, window_start, window_end"
    )
    assert isinstance(result, QueryResult)
    got = result.to_pandas().sort_values(["ip", "window_start"]).reset_index(drop=True)
    assert len(result.late_rows()) == 0
    failed: list[tuple[str, pd.Timestamp, int]] = []
    pattern = re.compile(
        r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: "
        r"(?:message repeated (\d+) times: \[ )?Failed password .* from (\S+) port"
    )
    for line in path.read_text(encoding="utf-8").splitlines():
        found = pattern.match(line)
        if found:
            when = pd.Timestamp(dt.datetime.strptime(f"2017 {found[1]}", "%Y %b %d %H:%M:%S"))
            failed.append((found[3], when.floor("1h"), int(found[2] or 1)))
    expected = (
        pd.DataFrame(failed, columns=["ip", "window_start", "attempts"])
        .groupby(["ip", "window_start"])
        .agg(lines=("attempts", "size"), attempts=("attempts", "sum"))
        .reset_index()
    )
    assert got["ip"].tolist() == expected["ip"].tolist()
    assert got["window_start"].tolist() == expected["window_start"].tolist()
    assert got["lines"].tolist() == expected["lines"].tolist()
    assert got["attempts"].tolist() == expected["attempts"].tolist()
