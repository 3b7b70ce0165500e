"""Syslog reader: RFC 3164 and RFC 5424 lines, and the fields of authentication lines.

Connector ``syslog`` (option 'format': 'syslog' detects the kind per line,
'rfc3164', 'rfc5424' or 'auth') and connector ``syslog-auth`` (the same as
'format' = 'auth'). Each line is one row; lines that match neither RFC are
rejected with their line number and the reason.

RFC 3164 lines are ``[<PRI>]Mmm dd hh:mm:ss host tag[pid]: message``, or the
same with an ISO 8601 time in place of ``Mmm dd hh:mm:ss`` (rsyslog's
RSYSLOG_FileFormat). Their times have no year and, in the classic form, no
zone. The option 'syslog.year' sets the year of the first such line
(default: the current UTC year, logged once per file as a warning). A line
whose month is more than six months before the current month (December,
then January) starts the next year, and a line more than six months after
it (January, then a late December line) belongs to the previous year. The option 'timezone'
(default 'UTC') sets the zone of times without an offset. ``ts`` is in UTC.

RFC 5424 lines are ``<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
STRUCTURED-DATA [MSG]``, '-' standing for a missing value and a UTF-8 byte
order mark before the message dropped. A missing TIMESTAMP gives a NULL
``ts``, which the engine rejects when ``ts`` is the event time.

The 'auth' format adds the fields of sshd, sudo, su, login and PAM lines
(see :data:`AUTH_RULES`). rsyslog writes identical consecutive messages once
as ``message repeated N times: [ message]``, which stands for N occurrences:
the row keeps the inner message and ``repeats`` = N (1 for other lines).

A byte that is not valid UTF-8 reads as the text ``\\xNN`` (``J\\xf6rg`` for
Latin-1 ``Jörg``), the text that the Zeek and access-log readers keep for
escaped bytes that are not valid UTF-8.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.conform import ConformOptions
from workbench.events.schema import Column, Schema
from workbench.sources.log_text import (
    NS_PER_SECOND,
    Lines,
    LogReader,
    civil_ns,
    digits,
    extract_passes,
    fraction_ns,
    localize_ns,
    matched,
    month_numbers,
    null_if,
    string_series,
    struct_fields,
    timestamp_series,
    zone_offset_seconds,
)
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, CountingFile, Reader
from workbench.sources.records import DEFAULT_BLOCK_BYTES

logger = logging.getLogger(__name__)

SYSLOG_FORMATS = ("syslog", "rfc3164", "rfc5424", "auth")
YEAR_OPTION = "syslog.year"
SYSLOG_OPTIONS = frozenset({YEAR_OPTION})
#: Default bounded out-of-orderness of ``ts``. A syslog daemon writes lines in
#: the order it receives them, stamped by the sender when sent, so lines of
#: different processes or hosts can be out of order by the transport delay.
SYSLOG_WATERMARK_DELAY = "5 s"

#: Facility keywords by code (RFC 5424, table 1), as rsyslog and logger name them.
FACILITIES = (
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    *(f"local{number}" for number in range(8)),
)
#: Severity keywords by code (RFC 5424, table 2).
SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_FACILITY_NAMES = pa.array(FACILITIES, pa.large_string())
_SEVERITY_NAMES = pa.array(SEVERITIES, pa.large_string())
_MAX_PRIORITY = 191

SYSLOG_COLUMNS = (
    Column("ts", t.timestamp(6), "event time in UTC: the line's timestamp"),
    Column("priority", t.INT, "PRI: facility * 8 + severity; NULL when the line has no <PRI>"),
    Column("facility", t.STRING, "facility keyword of PRI, such as 'auth' or 'local0'"),
    Column("severity", t.STRING, "severity keyword of PRI, such as 'err' or 'info'"),
    Column("host", t.STRING, "HOSTNAME field"),
    Column("app", t.STRING, "program: the RFC 3164 tag before '[pid]:' or the RFC 5424 APP-NAME"),
    Column("pid", t.INT, "process id: the RFC 3164 [pid] or a numeric RFC 5424 PROCID"),
    Column("msgid", t.STRING, "RFC 5424 MSGID; NULL for RFC 3164 lines"),
    Column(
        "structured_data",
        t.map_of(t.STRING, t.map_of(t.STRING, t.STRING)),
        "RFC 5424 STRUCTURED-DATA: SD-ID to its parameters",
    ),
    Column("message", t.STRING, "the message text after the header"),
)

AUTH_COLUMNS = (
    Column(
        "event",
        t.STRING,
        "kind of authentication line, such as 'failed_password' or 'session_opened'",
    ),
    Column("outcome", t.STRING, "'failed', 'accepted' or NULL for lines that decide nothing"),
    Column("user", t.STRING, "user name the line is about"),
    Column("ip", t.STRING, "remote address"),
    Column("port", t.INT, "remote port"),
    Column("method", t.STRING, "sshd authentication method, such as 'password' or 'publickey'"),
    Column("command", t.STRING, "the command run through sudo"),
    Column(
        "repeats",
        t.INT,
        "occurrences the row stands for: N for 'message repeated N times: [ ... ]', else 1",
    ),
)


@dataclass(frozen=True)
class SyslogOptions:
    """How to read syslog lines.

    ``line_format`` is one of :data:`SYSLOG_FORMATS`. ``year`` is the year of
    the first RFC 3164 line without one, None for the current UTC year.
    ``time_zone`` is the zone of times without an offset.
    """

    line_format: str = "syslog"
    year: int | None = None
    time_zone: str = "UTC"

    @property
    def auth(self) -> bool:
        return self.line_format == "auth"


def syslog_options(options: Mapping[str, str], *, auth: bool = False) -> SyslogOptions:
    """Return the reader options of a table's WITH options; raise SourceError for a bad one."""
    line_format = "auth" if auth else options.get("format", "syslog")
    if line_format not in SYSLOG_FORMATS:
        message = f"invalid value {line_format!r} for option 'format': use one of " + ", ".join(
            SYSLOG_FORMATS
        )
        raise SourceError(message)
    return SyslogOptions(
        line_format=line_format,
        year=_year_option(options),
        time_zone=options.get("timezone", "UTC"),
    )


def _year_option(options: Mapping[str, str]) -> int | None:
    text = options.get(YEAR_OPTION)
    if text is None:
        return None
    try:
        year = int(text.strip())
    except ValueError:
        year = 0
    if not 1678 <= year <= 2261:
        message = (
            f"invalid value {text!r} for option '{YEAR_OPTION}': use a year from 1678 "
            "to 2261, such as '2017'"
        )
        raise SourceError(message)
    return year


def syslog_schema(options: Mapping[str, str], *, auth: bool = False) -> Schema:
    """Return the columns of the syslog reader for a table's WITH options."""
    if syslog_options(options, auth=auth).auth:
        return Schema(SYSLOG_COLUMNS + AUTH_COLUMNS)
    return Schema(SYSLOG_COLUMNS)


def validate_syslog(options: Mapping[str, str]) -> None:
    syslog_options(options)


def validate_syslog_auth(options: Mapping[str, str]) -> None:
    syslog_options(options, auth=True)


def auth_schema(options: Mapping[str, str]) -> Schema:
    return syslog_schema(options, auth=True)


def open_syslog(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    return SyslogReader(
        name, paths, schema, chunk_rows=chunk_rows, syslog_options=syslog_options(options)
    )


def open_syslog_auth(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    return SyslogReader(
        name,
        paths,
        schema,
        chunk_rows=chunk_rows,
        syslog_options=syslog_options(options, auth=True),
    )


# Line patterns (RE2 syntax, run by pyarrow) -----------------------------------------

_PRI = r"<(?P<pri>\d{1,3})>"
_RFC5424_TIME = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
_ISO_TIME = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:[Zz]|[+-]\d{2}:?\d{2})?"
_CLASSIC_TIME = r"[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
_STRUCTURED_DATA = r'-|(?:\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\])+'
#: Line patterns as chained passes of at most four groups (see extract_passes).
_RFC5424 = [
    rf"^{_PRI}(?P<version>[1-9]\d{{0,2}}) (?P<timestamp>-|{_RFC5424_TIME}) (?P<rest>.*)$",
    r"^(?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<rest>.*)$",
    rf"^(?P<msgid>\S+) (?P<sd>{_STRUCTURED_DATA})(?P<tail> (?P<message>.*))?$",
]
_ISO3164 = [rf"^(?:{_PRI})?(?P<timestamp>{_ISO_TIME}) (?P<host>\S+)(?: (?P<body>.*))?$"]
_CLASSIC3164 = [rf"^(?:{_PRI})?(?P<timestamp>{_CLASSIC_TIME}) (?P<host>\S+)(?: (?P<body>.*))?$"]
#: Line starts that mark an RFC 5424 line and an RFC 3164 line with an ISO 8601 time.
_STARTS_5424 = r"^<\d{1,3}>[1-9]\d{0,2} "
_STARTS_ISO = r"^(?:<\d{1,3}>)?\d{4}-"
#: Passes that split a timestamp into its parts.
_CLOCK = r"^(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?P<rest>.*)$"
_ISO_PARTS = [
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ](?P<rest>.*)$",
    _CLOCK,
    r"^(?:[.,](?P<fraction>\d{1,9}))?(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?$",
]
_CLASSIC_PARTS = [
    r"^(?P<month>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<rest>.*)$",
    _CLOCK,
    r"^(?:\.(?P<fraction>\d{1,9}))?$",
]
#: The RFC 3164 TAG (program name, optional [pid]) and the message after ':'.
_TAG = r"^(?P<app>[^\s\[\]:]{1,64})(?:\[(?P<pid>[^\]\s]{0,32})\])?:(?P<message>.*)$"
_PID = r"^\d{1,9}$"
_REPEATED = r"^message repeated (?P<count>\d{1,9}) times: \[ ?(?P<inner>.*)\]$"
# NOTE: sysklogd's "last message repeated N times" stands for N more copies of
# the line before it. It reads as a row of its own, with no event and repeats 1.
_BYTE_ORDER_MARK = "^\ufeff"


@dataclass(frozen=True)
class AuthRule:
    """One kind of authentication line: the pattern of its message and the fields it sets.

    ``event`` ending in '_' is a prefix to which the method is appended
    ('accepted_' gives 'accepted_password'). The pattern's named groups fill
    the columns of the same name, an empty or missing group gives NULL.
    ``app`` limits the rule to one program, and ``user`` gives the user when
    the message names none. With ``empty_user``, an empty user name (sshd
    writes "Invalid user  from" for an empty one) stays ''. ``keyword`` is
    text that every matching message contains (by default the literal start
    of the pattern), so the pattern runs only on messages that contain it.
    """

    event: str
    outcome: str | None
    pattern: str
    app: str | None = None
    user: str | None = None
    empty_user: bool = False
    keyword: str | None = None

    @property
    def required_text(self) -> str:
        return self.keyword if self.keyword is not None else _leading_literal(self.pattern)


_REGEX_SYNTAX = frozenset(".^$*+?{}[]()|\\")


def _leading_literal(pattern: str) -> str:
    """Return the literal text at the start of a pattern: 'Failed ' for '^Failed (?P<m>...'."""
    text = pattern.removeprefix("^")
    literal: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and not text[index + 1].isalnum():
            literal.append(text[index + 1])
            index += 2
            continue
        if char in _REGEX_SYNTAX:
            break
        literal.append(char)
        index += 1
    if index < len(text) and text[index] in "*?{" and literal:
        # A quantifier makes the last character optional.
        literal.pop()
    return "".join(literal)


_SSH_FROM = r"(?P<ip>\S+) port (?P<port>\d{1,5})"
_SSH_USER = r"(?:(?:invalid |authenticating )?user (?P<user>\S+) )?"

#: Authentication lines, first match wins. ``outcome`` is 'failed' or
#: 'accepted' for lines that record a decision on a login or a privilege and
#: NULL for the rest, so each sshd attempt counts once: 'Invalid user' and
#: PAM's 'authentication failure' accompany a 'Failed ...' line.
AUTH_RULES = (
    AuthRule(
        "accepted_",
        "accepted",
        rf"^Accepted (?P<method>\S+) for (?P<user>.*?) from {_SSH_FROM}",
        empty_user=True,
    ),
    AuthRule(
        "failed_",
        "failed",
        rf"^Failed (?P<method>\S+) for (?:invalid user )?(?P<user>.*?) from {_SSH_FROM}",
        empty_user=True,
    ),
    AuthRule(
        "invalid_user",
        None,
        r"^[Ii]nvalid user (?P<user>.*?) from (?P<ip>\S+)(?: port (?P<port>\d{1,5}))?\s*$",
        empty_user=True,
        keyword="nvalid user ",
    ),
    AuthRule(
        "max_auth_attempts",
        None,
        r"^error: maximum authentication attempts exceeded for (?:invalid user )?"
        rf"(?P<user>.*?) from {_SSH_FROM}",
        empty_user=True,
    ),
    AuthRule("disconnect", None, rf"^Received disconnect from {_SSH_FROM}:"),
    AuthRule("disconnect", None, r"^Received disconnect from (?P<ip>[0-9.]+): "),
    AuthRule("disconnect", None, rf"^Disconnected from {_SSH_USER}{_SSH_FROM}"),
    AuthRule("connection_closed", None, rf"^Connection (?:closed|reset) by {_SSH_USER}{_SSH_FROM}"),
    AuthRule(
        "no_identification",
        None,
        r"^Did not receive identification string from (?P<ip>\S+)(?: port (?P<port>\d{1,5}))?",
    ),
    AuthRule(
        "bad_protocol", None, rf"^Bad protocol version identification .* from {_SSH_FROM}\s*$"
    ),
    AuthRule(
        "auth_failure",
        None,
        r"^pam_unix\([^)]*:auth\): authentication failure;.*?\brhost=(?P<ip>\S*)"
        r"(?:\s+user=(?P<user>\S+))?",
    ),
    AuthRule(
        "session_opened",
        None,
        r"^pam_unix\([^)]*:session\): session opened for user (?P<user>[^\s(]+)",
    ),
    AuthRule(
        "session_closed",
        None,
        r"^pam_unix\([^)]*:session\): session closed for user (?P<user>[^\s(]+)",
    ),
    AuthRule(
        "sudo_denied",
        "failed",
        r"^\s*(?P<user>\S+) : [^;]*(?:incorrect password attempts?|NOT in sudoers|"
        r"command not allowed|a password is required)[^;]* ; TTY=.* ; COMMAND=(?P<command>.*)$",
        app="sudo",
        keyword=" ; COMMAND=",
    ),
    AuthRule(
        "sudo",
        "accepted",
        r"^\s*(?P<user>\S+) : TTY=.* ; COMMAND=(?P<command>.*)$",
        app="sudo",
        keyword=" ; COMMAND=",
    ),
    AuthRule("su", "accepted", r"^Successful su for (?P<user>\S+) by \S+"),
    AuthRule("su", "accepted", r"^\(to (?P<user>\S+)\) \S+ on "),
    AuthRule("su_failed", "failed", r"^FAILED su for (?P<user>\S+) by \S+"),
    AuthRule(
        "login_failed",
        "failed",
        r"^FAILED LOGIN \(\d+\) on '[^']*'(?: FROM '(?P<ip>[^']*)')? FOR '(?P<user>[^']*)'",
    ),
    AuthRule(
        "login", "accepted", r"^ROOT LOGIN +on '[^']*'(?: FROM '(?P<ip>[^']*)')?", user="root"
    ),
    AuthRule("login", "accepted", r"^LOGIN ON \S+ BY (?P<user>\S+)(?: FROM (?P<ip>\S+))?"),
    AuthRule("user_added", None, r"^new user: name=(?P<user>[^,\s]+)"),
    AuthRule("user_deleted", None, r"^delete user '(?P<user>[^']+)'"),
)
_AUTH_FIELDS = ("user", "ip", "port", "method", "command")


class SyslogReader(LogReader):
    """Reads syslog files (gzip-compressed when named '*.gz') line by line, see the module text."""

    # Syslog daemons pass on the bytes each program sends, such as Latin-1 user
    # names, so a byte that is not valid UTF-8 stays visible as '\xNN'.
    decode_errors = "backslashreplace"

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        syslog_options: SyslogOptions | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        self.options = syslog_options or SyslogOptions()
        super().__init__(
            name,
            paths,
            schema,
            chunk_rows=chunk_rows,
            conform_options=ConformOptions(time_zone=self.options.time_zone),
            block_bytes=block_bytes,
        )
        self._year = 0
        self._last_month = 0
        self._year_logged = False

    def _start_file(self, file: CountingFile) -> None:
        self._year = self.options.year or dt.datetime.now(dt.UTC).year
        self._last_month = 0
        self._year_logged = False
        self._path = file.path

    def _parse(self, lines: Lines, file: CountingFile) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        del file
        text = lines.text
        line_format = self.options.line_format
        recognized = np.zeros(len(lines), dtype=bool)
        # Sort the lines by kind first, so that each pattern runs on its own lines only.
        kinds = np.zeros(len(lines), dtype=np.int8)
        if line_format != "rfc3164":
            kinds[_matches(text, _STARTS_5424)] = _KIND_5424
        if line_format != "rfc5424":
            iso = _matches(text, _STARTS_ISO) & (kinds == 0)
            kinds[iso] = _KIND_ISO
            kinds[kinds == 0] = _KIND_CLASSIC

        parts: list[_Parsed] = []
        for kind, patterns, parse in (
            (_KIND_5424, _RFC5424, self._rfc5424),
            (_KIND_ISO, _ISO3164, self._iso3164),
            (_KIND_CLASSIC, _CLASSIC3164, self._classic3164),
        ):
            rows = np.flatnonzero(kinds == kind)
            fields, ok = extract_passes(text.take(pa.array(rows, type=pa.int64())), patterns)
            keep = pa.array(ok)
            parts.append(parse({name: values.filter(keep) for name, values in fields.items()}))
            parts[-1].positions = rows[ok]
            recognized[rows[ok]] = True

        missing = np.flatnonzero(~recognized)
        if len(missing):
            reasons = [_why_not_syslog(lines.raw(int(p)), line_format) for p in missing]
            self._reject(lines, missing, reasons)

        parsed = _Parsed.combine(parts)
        keep = self._check(lines, parsed)
        frame = self._frame(parsed, keep)
        yield frame, parsed.positions[keep]

    # One kind of line each ------------------------------------------------------

    def _rfc5424(self, fields: dict[str, pa.Array]) -> _Parsed:
        ns, valid = _iso_ns(fields["timestamp"], self.options.time_zone)
        has_time = np.asarray(
            pc.not_equal(fields["timestamp"], "-").to_numpy(zero_copy_only=False), dtype=bool
        )
        message = pc.if_else(
            pc.equal(fields["tail"], ""), pa.scalar(None, pa.large_string()), fields["message"]
        )
        message = pc.replace_substring_regex(message, _BYTE_ORDER_MARK, "", max_replacements=1)
        procid = null_if(fields["procid"], "-")
        return _Parsed(
            positions=np.zeros(0, dtype=np.int64),
            priority=_priority(fields["pri"]),
            ns=ns,
            valid=valid | ~has_time,
            has_time=has_time,
            timestamp=fields["timestamp"],
            host=null_if(fields["host"], "-"),
            app=null_if(fields["app"], "-"),
            pid=_pid(procid),
            msgid=null_if(fields["msgid"], "-"),
            structured=null_if(fields["sd"], "-"),
            message=message,
        )

    def _iso3164(self, fields: dict[str, pa.Array]) -> _Parsed:
        ns, valid = _iso_ns(fields["timestamp"], self.options.time_zone)
        return self._with_tag(fields, ns, valid)

    def _classic3164(self, fields: dict[str, pa.Array]) -> _Parsed:
        parts, valid = extract_passes(fields["timestamp"], _CLASSIC_PARTS)
        months = month_numbers(parts["month"])
        years = self._years(months)
        ns, civil_valid = civil_ns(
            years,
            months,
            digits(parts["day"]),
            hour=digits(parts["hour"]),
            minute=digits(parts["minute"]),
            second=digits(parts["second"]),
        )
        valid &= civil_valid
        ns = localize_ns(ns + fraction_ns(parts["fraction"]), valid, self.options.time_zone)
        year_text = pa.array(years.astype(str), pa.large_string())
        separator = pa.scalar(" ", pa.large_string())
        fields["timestamp"] = pc.binary_join_element_wise(fields["timestamp"], year_text, separator)
        return self._with_tag(fields, ns, valid)

    def _with_tag(self, fields: dict[str, pa.Array], ns: np.ndarray, valid: np.ndarray) -> _Parsed:
        rest = fields["body"]
        tag = pc.extract_regex(rest, _TAG)
        tagged = matched(tag)
        tag_fields = struct_fields(tag)
        null_text = pa.scalar(None, pa.large_string())
        tagged_array = pa.array(tagged)
        message = pc.if_else(
            tagged_array,
            pc.replace_substring_regex(tag_fields["message"], "^ ", "", max_replacements=1),
            rest,
        )
        pid_text = pc.if_else(tagged_array, tag_fields["pid"], null_text)
        return _Parsed(
            positions=np.zeros(0, dtype=np.int64),
            priority=_priority(fields["pri"]),
            ns=ns,
            valid=valid,
            has_time=np.ones(len(valid), dtype=bool),
            timestamp=fields["timestamp"],
            host=fields["host"],
            app=pc.if_else(tagged_array, tag_fields["app"], null_text),
            pid=_pid(pid_text),
            msgid=pa.nulls(len(valid), pa.large_string()),
            structured=pa.nulls(len(valid), pa.large_string()),
            message=message,
        )

    def _years(self, months: np.ndarray) -> np.ndarray:
        """Return the year of each RFC 3164 line without one, in file order."""
        if not len(months):
            return np.zeros(0, dtype=np.int64)
        if not self._year_logged:
            self._year_logged = True
            if self.options.year is None:
                logger.warning(
                    "%s: %s has times without a year; assuming %d for its first line "
                    "(set the option '%s' to change it)",
                    self.name,
                    self._path,
                    self._year,
                    YEAR_OPTION,
                )
        known = months[months > 0]
        if not len(known):
            return np.full(len(months), self._year, dtype=np.int64)
        start = self._last_month or int(known[0])
        steps = np.diff(np.concatenate([[start], known]))
        if not (np.abs(steps) > 6).any():
            self._last_month = int(known[-1])
            return np.full(len(months), self._year, dtype=np.int64)
        return self._years_across_new_year(months)

    def _years_across_new_year(self, months: np.ndarray) -> np.ndarray:
        """Return the years of lines whose months jump by more than six months somewhere.

        A month more than six months before the current one starts the next
        year (December, then January). A month more than six months after it
        is a late line of the previous year and leaves the current month as it
        is. Unknown months (0) get the current year.
        """
        years = np.empty(len(months), dtype=np.int64)
        year = self._year
        current = self._last_month
        for index, month in enumerate(months.tolist()):
            if month == 0:
                years[index] = year
                continue
            if current and current - month > 6:
                year += 1
            elif current and month - current > 6:
                years[index] = year - 1
                continue
            current = month
            years[index] = year
        self._year = year
        self._last_month = current
        return years

    # Checks and output ------------------------------------------------------------

    def _check(self, lines: Lines, parsed: _Parsed) -> np.ndarray:
        """Reject lines with a priority above 191 or an impossible time; return the kept ones."""
        priority = parsed.priority
        bad_priority = ~np.isnan(priority) & (priority > _MAX_PRIORITY)
        bad_time = ~parsed.valid
        bad = bad_priority | bad_time
        if not bad.any():
            return np.ones(len(priority), dtype=bool)
        reasons: list[str] = []
        timestamps = parsed.timestamp
        for index in np.flatnonzero(bad).tolist():
            if bad_priority[index]:
                reasons.append(
                    f"invalid priority <{int(priority[index])}>: PRI must be 0 to {_MAX_PRIORITY}"
                )
            else:
                reasons.append(f"invalid timestamp {timestamps[index].as_py()!r}")
        self._reject(lines, parsed.positions[bad], reasons)
        return ~bad

    def _frame(self, parsed: _Parsed, keep: np.ndarray) -> pd.DataFrame:
        """Return the columns of the kept lines; auth columns decode repeated messages first."""
        selection = pa.array(keep)
        priority = parsed.priority[keep]
        present = ~np.isnan(priority)
        codes = np.where(present, priority, 0).astype(np.int64)
        absent = pa.array(~present)
        null_text = pa.scalar(None, pa.large_string())
        facility_codes = pa.array(np.clip(codes // 8, 0, len(FACILITIES) - 1))
        facility = pc.if_else(absent, null_text, _FACILITY_NAMES.take(facility_codes))
        severity = pc.if_else(absent, null_text, _SEVERITY_NAMES.take(pa.array(codes % 8)))

        columns: dict[str, pd.Series] = {
            "ts": timestamp_series(parsed.ns[keep], parsed.has_time[keep]),
            "priority": pd.Series(pd.arrays.IntegerArray(codes.astype(np.int32), ~present)),
            "facility": string_series(facility),
            "severity": string_series(severity),
            "host": string_series(parsed.host.filter(selection)),
            "app": string_series(parsed.app.filter(selection)),
            "pid": pd.Series(parsed.pid[keep], dtype="Int32"),
            "msgid": string_series(parsed.msgid.filter(selection)),
            "structured_data": pd.Series(
                _structured_data(parsed.structured.filter(selection)), dtype=object
            ),
        }
        message = parsed.message.filter(selection)
        if not self.options.auth:
            columns["message"] = string_series(message)
            return pd.DataFrame(columns)

        repeated = pc.extract_regex(message, _REPEATED)
        is_repeated = matched(repeated)
        message = pc.if_else(pa.array(is_repeated), pc.struct_field(repeated, "inner"), message)
        counts = digits(pc.struct_field(repeated, "count"))
        columns["message"] = string_series(message)
        columns.update(_auth_columns(message, parsed.app.filter(selection)))
        columns["repeats"] = pd.Series(np.where(is_repeated, counts, 1), dtype="Int32")
        return pd.DataFrame(columns)


@dataclass
class _Parsed:
    """The header fields of the lines of one kind, or of all kinds combined.

    ``positions`` are the lines' positions in the block. ``priority`` is NaN
    without a PRI. ``ns`` are UTC nanoseconds, meaningful where ``valid`` and
    ``has_time``.
    """

    positions: np.ndarray
    priority: np.ndarray
    ns: np.ndarray
    valid: np.ndarray
    has_time: np.ndarray
    timestamp: pa.Array
    host: pa.Array
    app: pa.Array
    pid: np.ndarray
    msgid: pa.Array
    structured: pa.Array
    message: pa.Array

    @staticmethod
    def combine(parts: list[_Parsed]) -> _Parsed:
        """Return the parts as one, in line order."""
        positions = np.concatenate([part.positions for part in parts])
        order = np.argsort(positions, kind="stable")
        take = pa.array(order, type=pa.int64())

        def arrays(name: str) -> pa.Array:
            chunks = [getattr(part, name).cast(pa.large_string()) for part in parts]
            return pa.concat_arrays(chunks).take(take)

        def numbers(name: str) -> np.ndarray:
            return np.concatenate([getattr(part, name) for part in parts])[order]

        return _Parsed(
            positions=positions[order],
            priority=numbers("priority"),
            ns=numbers("ns"),
            valid=numbers("valid"),
            has_time=numbers("has_time"),
            timestamp=arrays("timestamp"),
            host=arrays("host"),
            app=arrays("app"),
            pid=np.concatenate([part.pid for part in parts])[order],
            msgid=arrays("msgid"),
            structured=arrays("structured"),
            message=arrays("message"),
        )


_KIND_5424 = 1
_KIND_ISO = 2
_KIND_CLASSIC = 3


def _matches(text: pa.Array, pattern: str) -> np.ndarray:
    found = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _priority(text: pa.Array) -> np.ndarray:
    """Return PRI values as floats, NaN where the line has none."""
    values = pc.cast(null_if(text, ""), pa.int64())
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _pid(text: pa.Array) -> np.ndarray:
    """Return process ids as an object array of int or None; non-numeric ids are None."""
    numeric = pc.fill_null(pc.match_substring_regex(text, _PID), False)
    values = pc.cast(pc.if_else(numeric, text, pa.scalar(None, text.type)), pa.int64())
    return np.array(values.to_pylist(), dtype=object)


def _iso_ns(timestamps: pa.Array, time_zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Return UTC nanoseconds of ISO 8601 times, wall times without an offset read in ``time_zone``."""
    parts, valid = extract_passes(timestamps, _ISO_PARTS)
    ns, civil_valid = civil_ns(
        digits(parts["year"]),
        digits(parts["month"]),
        digits(parts["day"]),
        hour=digits(parts["hour"]),
        minute=digits(parts["minute"]),
        second=digits(parts["second"]),
    )
    offsets, offset_valid = zone_offset_seconds(parts["zone"])
    valid &= civil_valid & offset_valid
    zone_text = pc.fill_null(parts["zone"], "")
    local = np.asarray(pc.equal(zone_text, "").to_numpy(zero_copy_only=False), dtype=bool)
    ns = ns + fraction_ns(parts["fraction"])
    ns = localize_ns(ns, local & valid, time_zone)
    ns = ns - offsets * NS_PER_SECOND
    return ns, valid


# Structured data --------------------------------------------------------------

_SD_ELEMENT = re.compile(r'\[([^\s\]="]+)((?:\s+[^\s=\]"]+="(?:[^"\\]|\\.)*")*)\s*\]')
_SD_PARAMETER = re.compile(r'([^\s=\]"]+)="((?:[^"\\]|\\.)*)"')
_SD_ESCAPE = re.compile(r'\\(["\\\]])')


def _structured_data(values: pa.Array) -> list[dict[str, dict[str, str]] | None]:
    """Return each STRUCTURED-DATA text as {SD-ID: {name: value}}, None for NULL.

    Escaped '"', '\\' and ']' in values are unescaped. An SD-ID given twice
    keeps its last element.
    """
    result: list[dict[str, dict[str, str]] | None] = []
    for text in values.to_pylist():
        if text is None:
            result.append(None)
            continue
        elements: dict[str, dict[str, str]] = {}
        for element in _SD_ELEMENT.finditer(text):
            elements[element[1]] = {
                name: _SD_ESCAPE.sub(r"\1", value)
                for name, value in _SD_PARAMETER.findall(element[2])
            }
        result.append(elements)
    return result


# Authentication fields --------------------------------------------------------


def _auth_columns(message: pa.Array, app: pa.Array) -> dict[str, pd.Series]:
    """Return event, outcome, user, ip, port, method and command of authentication messages."""
    count = len(message)
    event = np.full(count, None, dtype=object)
    outcome = np.full(count, None, dtype=object)
    values = {name: np.full(count, None, dtype=object) for name in _AUTH_FIELDS}
    open_rows = np.ones(count, dtype=bool)
    containing: dict[str, np.ndarray] = {}
    for rule in AUTH_RULES:
        candidates = open_rows
        keyword = rule.required_text
        if keyword:
            if keyword not in containing:
                found = pc.fill_null(pc.match_substring(message, keyword), False)
                containing[keyword] = np.asarray(found.to_numpy(zero_copy_only=False), bool)
            candidates = candidates & containing[keyword]
        if rule.app is not None:
            same_app = pc.fill_null(pc.equal(app, rule.app), False)
            candidates = candidates & np.asarray(
                same_app.to_numpy(zero_copy_only=False), dtype=bool
            )
        if not candidates.any():
            continue
        positions = np.flatnonzero(candidates)
        found = pc.extract_regex(message.take(pa.array(positions)), rule.pattern)
        hits = matched(found)
        if not hits.any():
            continue
        rows = positions[hits]
        fields = struct_fields(found.filter(pa.array(hits)))
        for name, column in fields.items():
            if name in values:
                keep_empty = name == "user" and rule.empty_user
                texts = column if keep_empty else null_if(column, "")
                values[name][rows] = texts.to_numpy(zero_copy_only=False)
        if rule.user is not None:
            values["user"][rows] = rule.user
        if rule.event.endswith("_"):
            methods = fields["method"].to_pylist()
            event[rows] = [rule.event + _method_word(method) for method in methods]
        else:
            event[rows] = rule.event
        outcome[rows] = rule.outcome
        open_rows[rows] = False
    columns = {"event": _texts(event), "outcome": _texts(outcome)}
    for name in _AUTH_FIELDS:
        columns[name] = _texts(values[name])
    return columns


def _texts(values: np.ndarray) -> pd.Series:
    """Return an object array of str and None as a STRING column."""
    return string_series(pa.array(values.tolist(), pa.large_string()))


def _method_word(method: str) -> str:
    """Return an sshd method as a word: 'keyboard-interactive/pam' gives 'keyboard_interactive'."""
    return method.split("/", 1)[0].replace("-", "_")


# Reasons for rejected lines -----------------------------------------------------

_LOOKS_5424 = re.compile(r"^<\d{1,3}>[1-9]\d{0,2} ")
_LOOKS_CLASSIC = re.compile(r"^(?:<\d{1,3}>)?[A-Z][a-z]{2} ")
_LOOKS_ISO = re.compile(r"^(?:<\d{1,3}>)?\d{4}-")


def _why_not_syslog(line: str, line_format: str) -> str:
    """Return why a line is not a syslog line of ``line_format``."""
    excerpt = line if len(line) <= 60 else line[:57] + "..."
    if line_format == "rfc5424" or _LOOKS_5424.match(line):
        return (
            f"invalid RFC 5424 syslog line {excerpt!r}: expected '<PRI>1 TIMESTAMP HOSTNAME "
            "APP-NAME PROCID MSGID STRUCTURED-DATA MSG' with an ISO 8601 TIMESTAMP and "
            "STRUCTURED-DATA '-' or '[id name=\"value\"]'"
        )
    if _LOOKS_CLASSIC.match(line):
        return (
            f"invalid RFC 3164 syslog line {excerpt!r}: expected 'Mmm dd hh:mm:ss host "
            "tag[pid]: message', such as 'Mar  7 13:06:56 web1 sshd[1291]: ...'"
        )
    if _LOOKS_ISO.match(line):
        return (
            f"invalid syslog line {excerpt!r}: expected 'YYYY-MM-DDThh:mm:ss[.f][+hh:mm] "
            "host tag[pid]: message'"
        )
    return (
        f"not a syslog line: {excerpt!r} starts with neither a time ('Mmm dd hh:mm:ss' or "
        "ISO 8601) nor '<PRI>'"
    )
