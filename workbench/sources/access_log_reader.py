"""Web access log reader: Apache and Nginx lines in the combined, common or a custom format.

Connector ``access-log``. The option 'format' is 'combined' (the default,
Apache's and Nginx's default) or 'common'; 'access-log.pattern' sets a
custom Apache ``LogFormat`` string (``%h %l %u %t "%r" %>s %b``) or, when it
contains '$', an Nginx ``log_format`` string (``$remote_addr - $remote_user
[$time_local] "$request" ...``). :func:`compile_pattern` lists the
directives and variables and the column each one gives.

The pattern becomes one regular expression that pyarrow runs over a block of
lines at once. A line that does not match is rejected with its line number
and where it stops matching. '-' (a missing value in both servers' logs)
reads as NULL, except in ``bytes`` from ``%b``, where it means 0. Quoted
values lose the backslash escapes the servers add (``\\"``, ``\\\\``,
``\\xNN``). Times with an offset (``[10/Oct/2000:13:55:36 -0700]``) become
UTC in ``ts``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType
from workbench.sources.log_text import (
    MAX_GROUPS_PER_PASS,
    NS_PER_SECOND,
    REST,
    Lines,
    LogReader,
    civil_ns,
    digits,
    extract_passes,
    fraction_ns,
    list_items,
    map_texts,
    month_numbers,
    null_if,
    string_series,
    timestamp_series,
    zone_offset_seconds,
)
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, CountingFile, Reader
from workbench.sources.records import DEFAULT_BLOCK_BYTES

PATTERN_OPTION = "access-log.pattern"
ACCESS_LOG_OPTIONS = frozenset({PATTERN_OPTION})
#: Apache's predefined formats, also Nginx's 'combined'.
NAMED_FORMATS = {
    "common": '%h %l %u %t "%r" %>s %b',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
}
#: Default bounded out-of-orderness of ``ts``. Apache and Nginx stamp a line
#: with the time the request arrived but write it when the response is done,
#: so slow requests come after faster later ones.
ACCESS_LOG_WATERMARK_DELAY = "1 min"


@dataclass(frozen=True)
class Directive:
    """The column, kind and description that one pattern directive or variable gives.

    ``kind`` is 'text', 'int', 'bigint', 'double', 'bytes' (BIGINT, '-' is
    0), 'query' (text without the leading '?'), 'request' (the request line
    and the columns derived from it), 'clf_time' (``[10/Oct/2000:13:55:36
    -0700]``), 'local_time' (the same without brackets), 'iso_time' or
    'epoch_time'.
    """

    column: str
    kind: str
    comment: str
    regex: str | None = None


_KIND_TYPES: dict[str, DataType] = {
    "text": t.STRING,
    "query": t.STRING,
    "request": t.STRING,
    "int": t.INT,
    "bigint": t.BIGINT,
    "bytes": t.BIGINT,
    "double": t.DOUBLE,
    "clf_time": t.timestamp(3),
    "local_time": t.timestamp(3),
    "iso_time": t.timestamp(3),
    "epoch_time": t.timestamp(3),
}
_TIME_KINDS = frozenset({"clf_time", "local_time", "iso_time", "epoch_time"})
_NUMBER_KINDS = frozenset({"int", "bigint", "bytes", "double"})
_TIME_COMMENT = "event time in UTC: when the request arrived"

APACHE_DIRECTIVES: dict[str, Directive] = {
    "h": Directive("client_ip", "text", "client address (%h)"),
    "a": Directive("client_ip", "text", "client IP address (%a)"),
    "A": Directive("server_ip", "text", "server IP address (%A)"),
    "l": Directive("ident", "text", "identd user name (%l)"),
    "u": Directive("user", "text", "authenticated user name (%u)"),
    "t": Directive("ts", "clf_time", _TIME_COMMENT + " (%t)"),
    "r": Directive("request", "request", "the request line as written (%r)"),
    "s": Directive("status", "int", "HTTP status (%s)"),
    "b": Directive("bytes", "bytes", "response body bytes (%b); '-' is 0"),
    "B": Directive("bytes", "bigint", "response body bytes (%B)"),
    "D": Directive("request_time_us", "bigint", "time to serve the request, microseconds (%D)"),
    "T": Directive("request_time", "double", "time to serve the request, seconds (%T)"),
    "v": Directive("server_name", "text", "canonical server name (%v)"),
    "V": Directive("host", "text", "server name from UseCanonicalName (%V)"),
    "p": Directive("server_port", "int", "server port (%p)"),
    "U": Directive("path", "text", "URL path without the query string (%U)", r"[^?\s]*"),
    "q": Directive("query", "query", "query string without '?' (%q)", r"(?:\?\S*)?"),
    "m": Directive("method", "text", "request method (%m)"),
    "H": Directive("protocol", "text", "request protocol (%H)"),
    "I": Directive("bytes_received", "bigint", "bytes received, headers included (%I)"),
    "O": Directive("bytes_sent", "bigint", "bytes sent, headers included (%O)"),
    "P": Directive("server_pid", "int", "process id of the server child (%P)"),
    "X": Directive("connection_status", "text", "connection status when done (%X)"),
    "k": Directive("keepalive_requests", "bigint", "keep-alive requests on the connection (%k)"),
    "L": Directive("log_id", "text", "request log id (%L)"),
    "f": Directive("filename", "text", "file name (%f)"),
    "R": Directive("handler", "text", "handler (%R)"),
}
#: Directives with a {name}: request header, response header, environment
#: variable, cookie and note, each giving a column named from ``name``.
_NAMED_DIRECTIVES = {
    "i": ("", "request header {name}"),
    "o": ("response_", "response header {name}"),
    "e": ("env_", "environment variable {name}"),
    "C": ("cookie_", "cookie {name}"),
    "n": ("note_", "note {name}"),
}

NGINX_VARIABLES: dict[str, Directive] = {
    "remote_addr": Directive("client_ip", "text", "client address ($remote_addr)"),
    "remote_port": Directive("client_port", "int", "client port ($remote_port)"),
    "remote_user": Directive("user", "text", "user name of basic authentication ($remote_user)"),
    "time_local": Directive("ts", "local_time", _TIME_COMMENT + " ($time_local)"),
    "time_iso8601": Directive("ts", "iso_time", _TIME_COMMENT + " ($time_iso8601)"),
    "msec": Directive("ts", "epoch_time", _TIME_COMMENT + " ($msec)"),
    "request": Directive("request", "request", "the request line as written ($request)"),
    "status": Directive("status", "int", "HTTP status ($status)"),
    "body_bytes_sent": Directive("bytes", "bigint", "response body bytes ($body_bytes_sent)"),
    "bytes_sent": Directive("bytes_sent", "bigint", "bytes sent, headers included ($bytes_sent)"),
    "request_length": Directive(
        "bytes_received", "bigint", "request bytes, headers included ($request_length)"
    ),
    "request_time": Directive(
        "request_time", "double", "time to serve the request, seconds ($request_time)"
    ),
    "http_referer": Directive("referrer", "text", "Referer request header ($http_referer)"),
    "http_user_agent": Directive(
        "user_agent", "text", "User-Agent request header ($http_user_agent)"
    ),
    "host": Directive("host", "text", "host from the request ($host)"),
    "server_name": Directive("server_name", "text", "server name ($server_name)"),
    "server_port": Directive("server_port", "int", "server port ($server_port)"),
    "request_method": Directive("method", "text", "request method ($request_method)"),
    "uri": Directive("path", "text", "normalized URL path ($uri)"),
    "args": Directive("query", "text", "query string ($args)"),
    "query_string": Directive("query", "text", "query string ($query_string)"),
    "server_protocol": Directive("protocol", "text", "request protocol ($server_protocol)"),
}
#: Columns that the request line gives besides ``request``, unless the pattern
#: has a directive of its own for them (%m, %U, %q, %H).
_REQUEST_PARTS = (
    ("method", "request method, from the request line"),
    ("path", "URL path without the query string, from the request line"),
    ("query", "query string after '?', from the request line"),
    ("protocol", "protocol such as 'HTTP/1.1', from the request line"),
)
_HEADER_NAMES = {"referer": "referrer"}

_APACHE_TOKEN = re.compile(
    r"%(?P<condition>!?\d{3}(?:,\d{3})*)?(?P<modifier>[<>])?(?:\{(?P<name>[^}]*)\})?"
    r"(?P<letter>[a-zA-Z%])?"
)
_NGINX_TOKEN = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_]\w*)\}|(?P<name>[A-Za-z_]\w*))")
#: Text between quotes with backslash escapes, written as an unrolled loop so
#: that a backtracking engine (Python's re, used for messages) stays linear.
_QUOTED = r'[^"\\]*(?:\\.[^"\\]*)*'


@dataclass(frozen=True)
class Token:
    """A piece of a pattern: literal text, or a directive with its regex group."""

    text: str
    directive: Directive | None = None
    group: str = ""


@dataclass
class AccessPattern:
    """A compiled log format: the line regex, its tokens and the columns it gives."""

    source: str
    label: str
    tokens: list[Token]
    regex: str = ""
    pieces: list[str] = field(default_factory=list)
    passes: list[str] = field(default_factory=list)
    schema: Schema = field(default_factory=lambda: Schema(()))


def _snake(name: str) -> str:
    words = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    return _HEADER_NAMES.get(words, words) or "value"


def _apache_tokens(pattern: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    for found in _APACHE_TOKEN.finditer(pattern):
        if found.start() > position:
            tokens.append(Token(pattern[position : found.start()]))
        position = found.end()
        letter = found["letter"]
        name = found["name"]
        if letter is None:
            message = (
                f"invalid value {pattern!r} for option '{PATTERN_OPTION}': '%' at "
                f"character {found.start() + 1} has no directive letter"
            )
            raise SourceError(message)
        if letter == "%":
            tokens.append(Token("%"))
            continue
        if letter in _NAMED_DIRECTIVES and name is not None:
            prefix, description = _NAMED_DIRECTIVES[letter]
            column = prefix + _snake(name)
            comment = description.format(name=name) + f" (%{{{name}}}{letter})"
            tokens.append(Token(found[0], Directive(column, "text", comment)))
            continue
        directive = APACHE_DIRECTIVES.get(letter)
        if directive is None or (name is not None and letter != "t"):
            known = " ".join(f"%{key}" for key in APACHE_DIRECTIVES)
            message = (
                f"unsupported directive {found[0]!r} in option '{PATTERN_OPTION}'; "
                f"supported: {known}, %{{Header}}i, %{{Header}}o, %{{name}}e, "
                "%{name}C, %{name}n and %%"
            )
            raise SourceError(message)
        if name is not None:
            # NOTE: %{format}t (a strftime time format) is not supported.
            message = (
                f"unsupported directive {found[0]!r} in option '{PATTERN_OPTION}': "
                "only %t, Apache's default time format, is supported"
            )
            raise SourceError(message)
        tokens.append(Token(found[0], directive))
    if position < len(pattern):
        tokens.append(Token(pattern[position:]))
    return tokens


def _nginx_tokens(pattern: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    for found in _NGINX_TOKEN.finditer(pattern):
        if found.start() > position:
            tokens.append(Token(pattern[position : found.start()]))
        position = found.end()
        name = found["braced"] or found["name"]
        directive = NGINX_VARIABLES.get(name)
        if directive is None:
            column = _snake(name.removeprefix("http_")) if name.startswith("http_") else name
            directive = Directive(column, "text", f"${name}")
        tokens.append(Token(found[0], directive))
    if position < len(pattern):
        tokens.append(Token(pattern[position:]))
    return tokens


def _merge_literals(tokens: list[Token]) -> list[Token]:
    merged: list[Token] = []
    for token in tokens:
        if token.directive is None and merged and merged[-1].directive is None:
            merged[-1] = Token(merged[-1].text + token.text)
        else:
            merged.append(token)
    return merged


def compile_pattern(pattern: str, label: str | None = None) -> AccessPattern:
    """Compile an Apache LogFormat or (with '$') Nginx log_format string.

    Raises SourceError for an unknown Apache directive or a column given by
    two directives.
    """
    raw = _apache_tokens(pattern) if "$" not in pattern else _nginx_tokens(pattern)
    tokens = _merge_literals(raw)
    named = [
        Token(token.text, token.directive, f"f{index}") if token.directive else token
        for index, token in enumerate(tokens)
    ]
    compiled = AccessPattern(pattern, label or "custom", named)
    compiled.pieces = [_piece(named, index) for index in range(len(named))]
    compiled.regex = "^" + "".join(compiled.pieces) + r"\s*$"
    compiled.passes = _passes(named, compiled.pieces)
    compiled.schema = _schema(named, pattern)
    return compiled


def _piece(tokens: list[Token], index: int) -> str:
    """Return the regex of one token; quoted values allow backslash escapes."""
    token = tokens[index]
    if token.directive is None:
        return re.escape(token.text)

    group = token.group
    before = tokens[index - 1].text if index > 0 and tokens[index - 1].directive is None else ""
    after = (
        tokens[index + 1].text
        if index + 1 < len(tokens) and tokens[index + 1].directive is None
        else ""
    )

    kind = token.directive.kind
    if token.directive.regex is not None:
        return rf"(?P<{group}>{token.directive.regex})"
    if kind == "clf_time":
        return rf"\[(?P<{group}>{_CLF_TIME})\]"
    if kind == "local_time":
        return rf"(?P<{group}>{_CLF_TIME})"
    if kind == "iso_time":
        return rf"(?P<{group}>{_ISO_TIME})"
    if kind == "epoch_time":
        return rf"(?P<{group}>{_EPOCH_TIME})"
    if kind in _NUMBER_KINDS:
        # Any number of digits matches, so that a value out of the column's range
        # is rejected by the type conversion with the column and the value.
        number = r"\d+(?:\.\d+)?" if kind == "double" else r"\d+"
        return rf"(?P<{group}>-|{number})"
    if before.endswith('"') and after.startswith('"'):
        return rf"(?P<{group}>{_QUOTED})"
    if after:
        return rf"(?P<{group}>[^{re.escape(after[0])}]*)"
    if index + 1 < len(tokens):
        return rf"(?P<{group}>\S*)"
    return rf"(?P<{group}>.*?)"


_CLF_TIME = r"\d{1,2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d{1,9})? [+-]\d{4}"
_ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})"
_EPOCH_TIME = r"\d{1,11}(?:\.\d{1,9})?"
_CLOCK_PASS = r"^(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?P<rest>.*)$"
#: The passes that split each kind of time into its parts, see ``extract_passes``.
_TIME_PASSES = {
    "clf_time": [
        r"^(?P<day>\d{1,2})/(?P<month>[A-Za-z]{3})/(?P<year>\d{4}):(?P<rest>.*)$",
        _CLOCK_PASS,
        r"^(?:\.(?P<fraction>\d{1,9}))? (?P<zone>[+-]\d{4})$",
    ],
    "iso_time": [
        r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})T(?P<rest>.*)$",
        _CLOCK_PASS,
        r"^(?:\.(?P<fraction>\d{1,9}))?(?P<zone>Z|[+-]\d{2}:?\d{2})$",
    ],
    "epoch_time": [r"^(?P<seconds>\d{1,11})(?:\.(?P<fraction>\d{1,9}))?$"],
}
_TIME_PASSES["local_time"] = _TIME_PASSES["clf_time"]


def _passes(tokens: list[Token], pieces: list[str]) -> list[str]:
    """Return the line pattern as chained passes of at most 4 capture groups each."""
    per_pass = MAX_GROUPS_PER_PASS - 1
    passes: list[str] = []
    current: list[str] = []
    captured = 0
    for token, piece in zip(tokens, pieces, strict=True):
        if token.directive is not None and captured == per_pass:
            passes.append("^" + "".join(current) + f"(?P<{REST}>.*)$")
            current, captured = [], 0
        current.append(piece)
        captured += token.directive is not None
    passes.append("^" + "".join(current) + r"\s*$")
    return passes


def _schema(tokens: list[Token], pattern: str) -> Schema:
    """Return the columns of a pattern: ``ts`` first, the rest in pattern order."""
    explicit: dict[str, str] = {}
    for token in tokens:
        directive = token.directive
        if directive is None:
            continue
        if directive.column in explicit:
            message = (
                f"invalid value {pattern!r} for option '{PATTERN_OPTION}': "
                f"{explicit[directive.column]} and {token.text} both give column "
                f"'{directive.column}'; keep one of them"
            )
            raise SourceError(message)
        explicit[directive.column] = token.text
    columns: list[Column] = []
    for token in tokens:
        directive = token.directive
        if directive is None:
            continue
        if directive.kind == "request":
            columns.extend(
                Column(name, t.STRING, comment)
                for name, comment in _REQUEST_PARTS
                if name not in explicit
            )
        columns.append(Column(directive.column, _KIND_TYPES[directive.kind], directive.comment))
    times = [column for column in columns if column.name == "ts"]
    others = [column for column in columns if column.name != "ts"]
    return Schema(tuple(times + others))


def access_log_pattern(options: Mapping[str, str]) -> AccessPattern:
    """Return the compiled format of a table's WITH options; raise SourceError for a bad one."""
    custom = options.get(PATTERN_OPTION)
    name = options.get("format")
    if name == "access-log":
        name = None
    if custom is not None:
        if name is not None:
            message = (
                f"options 'format' = {name!r} and '{PATTERN_OPTION}' contradict each other: "
                "set one of them"
            )
            raise SourceError(message)
        if not custom.strip():
            message = f"invalid value {custom!r} for option '{PATTERN_OPTION}': it is empty"
            raise SourceError(message)
        return compile_pattern(custom)
    name = name or "combined"
    if name not in NAMED_FORMATS:
        message = (
            f"invalid value {name!r} for option 'format': use 'combined' or 'common', "
            f"or set '{PATTERN_OPTION}'"
        )
        raise SourceError(message)
    return compile_pattern(NAMED_FORMATS[name], name)


def access_log_schema(options: Mapping[str, str]) -> Schema:
    return access_log_pattern(options).schema


def validate_access_log(options: Mapping[str, str]) -> None:
    access_log_pattern(options)


def open_access_log(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    return AccessLogReader(
        name, paths, schema, chunk_rows=chunk_rows, pattern=access_log_pattern(options)
    )


class AccessLogReader(LogReader):
    """Reads access logs (gzip-compressed when named '*.gz') with one compiled pattern."""

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        pattern: AccessPattern | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        super().__init__(name, paths, schema, chunk_rows=chunk_rows, block_bytes=block_bytes)
        self.pattern = pattern or compile_pattern(NAMED_FORMATS["combined"], "combined")
        pieces = self.pattern.pieces
        self._diagnosis = [
            re.compile("^" + "".join(pieces[: index + 1])) for index in range(len(pieces))
        ]
        self._explicit = {
            token.directive.column for token in self.pattern.tokens if token.directive
        }

    def _parse(self, lines: Lines, file: CountingFile) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        del file
        found, hits = extract_passes(lines.text, self.pattern.passes)
        if not hits.all():
            missing = np.flatnonzero(~hits)
            self._reject(lines, missing, [self._why(lines.raw(int(p))) for p in missing])
        positions = np.flatnonzero(hits)
        if not len(positions):
            return

        selection = pa.array(hits)
        fields = {name: values.filter(selection) for name, values in found.items()}
        columns: dict[str, pd.Series] = {}
        failures: dict[int, str] = {}
        for token in self.pattern.tokens:
            directive = token.directive
            if directive is None:
                continue
            if directive.kind in _TIME_KINDS:
                columns[directive.column] = _time_column(token, fields, failures)
            elif directive.kind == "request":
                derived = _request_columns(fields[token.group])
                columns.update(
                    (name, values)
                    for name, values in derived.items()
                    if name == directive.column or name not in self._explicit
                )
            else:
                columns[directive.column] = _value_column(directive.kind, fields[token.group])

        frame = pd.DataFrame(columns, index=pd.RangeIndex(len(positions)))
        if failures:
            bad = np.array(sorted(failures), dtype=np.int64)
            self._reject(lines, positions[bad], [failures[i] for i in bad.tolist()])
            keep = np.ones(len(positions), dtype=bool)
            keep[bad] = False
            frame = frame.loc[keep].reset_index(drop=True)
            positions = positions[keep]
        yield frame, positions

    def _why(self, line: str) -> str:
        """Return where a line stops matching the pattern."""
        label = self.pattern.label
        tokens = self.pattern.tokens
        end = 0
        for index, prefix in enumerate(self._diagnosis):
            found = prefix.match(line)
            if found is None:
                return _mismatch(label, tokens, index, line, end)
            end = found.end()
        return f"line does not match the '{label}' log format: unexpected text at column {end + 1}: {_excerpt(line[end:])}"


def _mismatch(label: str, tokens: list[Token], index: int, line: str, end: int) -> str:
    token = tokens[index]
    where = f"line does not match the '{label}' log format at column {end + 1}"
    rest = line[end:]
    if token.directive is None:
        expected = repr(token.text)
        previous = tokens[index - 1] if index > 0 else None
        if token.text.startswith('"') and previous is not None and previous.directive:
            if not rest:
                return (
                    f"{where}: the quoted value of {previous.text} "
                    f"({previous.directive.column}) is not closed"
                )
            return f"{where}: expected {expected} after {previous.text}, found {_excerpt(rest)}"
        return f"{where}: expected {expected}, found {_excerpt(rest)}"
    directive = token.directive
    return f"{where}: expected {token.text} ({directive.column}), found {_excerpt(rest)}"


def _excerpt(text: str) -> str:
    if not text:
        return "the end of the line"
    return repr(text if len(text) <= 40 else text[:37] + "...")


# Values ---------------------------------------------------------------------------

_LOG_ESCAPE = re.compile(r'\\(x[0-9A-Fa-f]{2}|["\\nrtbv])')
_CONTROL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "v": "\v", '"': '"', "\\": "\\"}


def unescape_log(text: str) -> str:
    r"""Return text with Apache's and Nginx's escapes decoded: ``\"``, ``\\``, ``\n``, ``\xNN``.

    ``\xNN`` bytes are decoded as UTF-8; when they are not valid UTF-8, they
    stay escaped, so nothing is lost.
    """
    if "\\" not in text:
        return text
    parts: list[bytes] = []
    position = 0
    for found in _LOG_ESCAPE.finditer(text):
        parts.append(text[position : found.start()].encode("utf-8"))
        code = found[1]
        if code.startswith("x"):
            parts.append(bytes([int(code[1:], 16)]))
        else:
            parts.append(_CONTROL_ESCAPES[code].encode("utf-8"))
        position = found.end()
    parts.append(text[position:].encode("utf-8"))
    try:
        return b"".join(parts).decode("utf-8")
    except UnicodeDecodeError:
        return _LOG_ESCAPE.sub(
            lambda found: found[0] if found[1].startswith("x") else _CONTROL_ESCAPES[found[1]],
            text,
        )


def _text(values: pa.Array) -> pa.Array:
    return map_texts(null_if(values, "-"), "\\", unescape_log)


def _value_column(kind: str, values: pa.Array) -> pd.Series:
    if kind == "bytes":
        return string_series(pc.if_else(pc.equal(values, "-"), "0", values))
    if kind in _NUMBER_KINDS:
        return string_series(null_if(values, "-"))
    if kind == "query":
        return string_series(null_if(pc.utf8_ltrim(values, "?"), "", "-"))
    return string_series(_text(values))


def _request_columns(values: pa.Array) -> dict[str, pd.Series]:
    """Return method, path, query, protocol and the request line itself.

    A request line of two or three words (``GET /a?b HTTP/1.1``) gives
    them all; any other request line gives NULL for all but ``request``.
    """
    request = _text(values)
    words = pc.split_pattern(request, " ")
    count = pc.fill_null(pc.list_value_length(words), 0)
    parsed = pc.and_(pc.greater_equal(count, 2), pc.less_equal(count, 3))
    null_text = pa.scalar(None, pa.large_string())
    target = pc.if_else(parsed, list_items(words, 1), null_text)
    pieces = pc.split_pattern(target, "?", max_splits=1)
    return {
        "method": string_series(pc.if_else(parsed, list_items(words, 0), null_text)),
        "path": string_series(list_items(pieces, 0)),
        "query": string_series(list_items(pieces, 1)),
        "protocol": string_series(pc.if_else(parsed, list_items(words, 2), null_text)),
        "request": string_series(request),
    }


def _time_column(token: Token, fields: dict[str, pa.Array], failures: dict[int, str]) -> pd.Series:
    """Return UTC times of a time directive; impossible dates are failures."""
    assert token.directive is not None
    kind = token.directive.kind
    text = fields[token.group]
    parts, valid = extract_passes(text, _TIME_PASSES[kind])
    if kind == "epoch_time":
        seconds = digits(parts["seconds"])
        ns = seconds * NS_PER_SECOND + fraction_ns(parts["fraction"])
    else:
        month_text = parts["month"]
        months = digits(month_text) if kind == "iso_time" else month_numbers(month_text)
        ns, civil_valid = civil_ns(
            digits(parts["year"]),
            months,
            digits(parts["day"]),
            hour=digits(parts["hour"]),
            minute=digits(parts["minute"]),
            second=digits(parts["second"]),
        )
        offsets, offset_valid = zone_offset_seconds(parts["zone"])
        ns = ns + fraction_ns(parts["fraction"]) - offsets * NS_PER_SECOND
        valid &= civil_valid & offset_valid
    for position in np.flatnonzero(~valid).tolist():
        failures.setdefault(
            position,
            f"invalid time in {token.text} ({token.directive.column}): {text[position].as_py()!r}",
        )
    return timestamp_series(ns, valid)
