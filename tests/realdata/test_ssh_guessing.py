"""SSH password guessing over a real syslog auth log, checked against a matcher written here.

The rule: three or more failed SSH passwords from one IP, followed by an
accepted password from that IP, the accepted one less than 10 minutes after
the first failure. The engine reads the log with the syslog-auth connector
and runs the rule as MATCH_RECOGNIZE over its sshd password events; the test
parses the log with its own regular expression and finds the same matches
with a plain Python loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.shared import require
from workbench import Session
from workbench.results import QueryResult

#: Syslog timestamps carry no year. The log spans Mar 27 to Apr 20 of a year
#: that its publishers do not state, so 2017 is assumed. The year changes no
#: match, because the span does not cross New Year or a leap day.
SYSLOG_YEAR = 2017

#: sshd password outcomes. rsyslog folds identical consecutive messages into
#: "message repeated N times: [ ... ]", which stands for N more attempts: in
#: this log, one failure line and "repeated 5 times" precede sshd's "maximum
#: authentication attempts exceeded", which its default MaxAuthTries of 6 triggers.
SSHD_PASSWORD = re.compile(
    r"^(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: "
    r"(?:message repeated (?P<repeats>\d+) times: \[ )?"
    r"(?P<outcome>Failed|Accepted) password for (?:invalid user )?(?P<user>.*?) "
    r"from (?P<ip>\S+) port \d+"
)

TABLE = """
CREATE TABLE auth WITH (
    'connector' = 'syslog-auth', 'path' = '{path}', 'syslog.year' = '{year}'
)
"""
VIEW = """
CREATE VIEW passwords AS
SELECT ts, ip, outcome, `user`, repeats
FROM auth
WHERE event IN ('failed_password', 'accepted_password')
"""

#: A row with repeats = N stands for N failures, so the pattern takes a run of
#: failure rows and counts the attempts they stand for in S's condition.
QUERY = """
SELECT * FROM passwords MATCH_RECOGNIZE (
    PARTITION BY ip
    ORDER BY ts
    MEASURES FIRST(F.ts) AS first_fail, S.ts AS accepted_at, SUM(F.repeats) AS failures
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (F+ S) WITHIN INTERVAL '{minutes}' MINUTE
    DEFINE
        F AS F.outcome = 'failed',
        S AS S.outcome = 'accepted' AND SUM(F.repeats) >= {min_failures}
)
"""


@dataclass(frozen=True)
class AuthLog:
    """The sshd password events of the log, in file order, and the lines behind them.

    ``events`` has one event per attempt, N for a "message repeated N times"
    line; ``lines`` has one entry per line, with N as its last field.
    """

    path: Path
    events: list[tuple[datetime, str, str, str]]  # (ts, ip, outcome, user)
    lines: list[tuple[datetime, str, str, str, int]]  # (ts, ip, outcome, user, repeats)
    failed_lines: int
    accepted_lines: int


#: (ip, first_fail, accepted_at, failures)
Match = tuple[str, datetime, datetime, int]


@pytest.fixture(scope="module")
def auth_log() -> AuthLog:
    path = require("datasets/logs/auth.log")
    events: list[tuple[datetime, str, str, str]] = []
    lines: list[tuple[datetime, str, str, str, int]] = []
    failed_lines = accepted_lines = 0
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = SSHD_PASSWORD.match(text)
        if match is None:
            continue
        ts = datetime.strptime(f"{SYSLOG_YEAR} {match['time']}", "%Y %b %d %H:%M:%S")
        outcome = match["outcome"].lower()
        if outcome == "failed":
            failed_lines += 1
        else:
            accepted_lines += 1
        repeats = int(match["repeats"] or 1)
        lines.append((ts, match["ip"], outcome, match["user"], repeats))
        for _ in range(repeats):
            events.append((ts, match["ip"], outcome, match["user"]))
    return AuthLog(path, events, lines, failed_lines, accepted_lines)


def engine_session(log: AuthLog) -> Session:
    session = Session(progress=False)
    session.sql(TABLE.format(path=log.path, year=SYSLOG_YEAR))
    session.sql(VIEW)
    return session


def engine_matches(log: AuthLog, min_failures: int, minutes: int) -> list[Match]:
    session = engine_session(log)
    result = session.sql(QUERY.format(min_failures=min_failures, minutes=minutes))
    assert isinstance(result, QueryResult)
    output = result.to_pandas()
    assert len(result.late_rows()) == 0
    assert list(output.columns) == ["ip", "first_fail", "accepted_at", "failures"]
    return sorted(
        (str(ip), first.to_pydatetime(), accepted.to_pydatetime(), int(failures))
        for ip, first, accepted, failures in output.itertuples(index=False)
    )


def reference_matches(
    events: Iterable[tuple[datetime, str, str, str]], min_failures: int, within: timedelta
) -> list[Match]:
    """Find the matches of ``F{min_failures,} S`` per IP with a loop over runs of failures.

    Rows of one IP are consecutive when no row of that IP lies between them,
    whatever rows of other IPs lie between them in the log. A match is a run of failures of one IP
    ended by an accepted row of that IP. The match starts at the earliest
    failure of the run that leaves at least ``min_failures`` failures and is
    less than ``within`` before the accepted row, which is where the earliest
    successful attempt of the pattern begins. Any other outcome ends the run.
    AFTER MATCH SKIP PAST LAST ROW resumes after the accepted row, which
    starts a new run anyway.
    """
    by_ip: dict[str, list[tuple[datetime, str]]] = {}
    for ts, ip, outcome, _ in events:
        by_ip.setdefault(ip, []).append((ts, outcome))
    matches: list[Match] = []
    for ip, rows in by_ip.items():
        # Events at the same second keep their file order, as the engine keeps arrival order.
        rows.sort(key=lambda row: row[0])
        run: list[datetime] = []
        for ts, outcome in rows:
            if outcome == "failed":
                run.append(ts)
                continue
            if outcome == "accepted":
                for index in range(len(run) - min_failures + 1):
                    if ts - run[index] < within:
                        matches.append((ip, run[index], ts, len(run) - index))
                        break
            run = []
    return sorted(matches)


def test_parser_reads_every_password_line(auth_log: AuthLog) -> None:
    # The log has 713 "Failed password" lines (85 of them "message repeated")
    # from 105 IPs, and 190 "Accepted password" lines from 4 IPs.
    failed_ips = {ip for _, ip, outcome, _ in auth_log.events if outcome == "failed"}
    accepted_ips = {ip for _, ip, outcome, _ in auth_log.events if outcome == "accepted"}
    assert auth_log.failed_lines == 713
    assert auth_log.accepted_lines == 190
    assert len(failed_ips) == 105
    assert len(accepted_ips) == 4
    failed_events = sum(1 for _, _, outcome, _ in auth_log.events if outcome == "failed")
    assert failed_events > auth_log.failed_lines  # repeated messages count as attempts


def test_connector_reads_the_same_lines(auth_log: AuthLog) -> None:
    session = engine_session(auth_log)
    result = session.sql("SELECT ts, ip, outcome, `user`, repeats FROM passwords")
    assert isinstance(result, QueryResult)
    rows = [
        (ts.to_pydatetime(), ip, outcome, user, int(repeats))
        for ts, ip, outcome, user, repeats in result.to_pandas().itertuples(index=False)
    ]
    assert rows == auth_log.lines
    assert len(result.rejected_rows()) == 0


@pytest.mark.parametrize(
    ("min_failures", "minutes", "expected_count"),
    [
        # The log has one IP with three or more failures followed by a success
        # within 10 minutes.
        (3, 10, 1),
        (2, 10, 2),
        (1, 10, 3),
        # Its run of failures spans more than 1 and 3 minutes, so the match
        # starts at a later failure of the run, not at the first one.
        (3, 3, 1),
        (3, 1, 1),
    ],
)
def test_guessing_matches_reference(
    auth_log: AuthLog, min_failures: int, minutes: int, expected_count: int
) -> None:
    expected = reference_matches(auth_log.events, min_failures, timedelta(minutes=minutes))
    assert len(expected) == expected_count
    assert engine_matches(auth_log, min_failures, minutes) == expected


def test_shorter_within_moves_match_start(auth_log: AuthLog) -> None:
    # Guards the WITHIN cases above against a reference that only tries the first failure.
    ten = reference_matches(auth_log.events, 3, timedelta(minutes=10))
    one = reference_matches(auth_log.events, 3, timedelta(minutes=1))
    assert len(ten) == 1
    assert len(one) == 1
    ip, first_fail, accepted_at, failures = one[0]
    assert ip == ten[0][0]
    assert accepted_at == ten[0][2]
    assert first_fail > ten[0][1]
    assert failures < ten[0][3]
    assert accepted_at - first_fail < timedelta(minutes=1)
    assert accepted_at - ten[0][1] >= timedelta(minutes=1)


def test_other_ips_interleave_matched_run(auth_log: AuthLog) -> None:
    # Rows of another IP lie between the matched rows in file order. With
    # PARTITION BY ip they do not break the run, so the match keeps its first failure.
    ((ip, first_fail, accepted_at, _),) = engine_matches(auth_log, 3, 10)
    between = {
        other
        for ts, other, _, _ in auth_log.events
        if first_fail <= ts <= accepted_at and other != ip
    }
    assert between
