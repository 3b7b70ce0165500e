"""Connector registry: Flink-style WITH options to a reader.

``'connector' = 'filesystem'`` with ``'format' = 'csv' | 'json' | 'parquet'``
reads files; ``'csv'``, ``'json'`` and ``'parquet'`` are accepted as connector
names for short. Every file connector takes:

``path``
    a file, a directory (all its files, sorted by name) or a glob pattern;
    relative to the reader's base directory.

CSV, JSON and Parquet also take these conversion options, and the syslog
connectors take 'timezone' only (see ``FormatSpec.conversion_options``):

``timestamp.epoch-unit``
    unit of numbers in timestamp columns: 's', 'ms' (default), 'us' or 'ns'.
``timestamp.format``
    strftime pattern of timestamp text that is not ISO 8601.
``timezone``
    IANA time zone of TIMESTAMP_LTZ text without an offset (default 'UTC').

CSV adds 'csv.header', 'csv.field-delimiter', 'csv.quote-character',
'csv.null-literal' and 'csv.allow-comments'.
"""

from __future__ import annotations

import difflib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import SourceError
from workbench.events.conform import ConformOptions
from workbench.events.convert import EPOCH_UNITS
from workbench.events.schema import Schema
from workbench.events.time import parse_duration
from workbench.sources.access_log_reader import (
    ACCESS_LOG_OPTIONS,
    ACCESS_LOG_WATERMARK_DELAY,
    NAMED_FORMATS,
    access_log_schema,
    open_access_log,
    validate_access_log,
)
from workbench.sources.csv_reader import CsvOptions, CsvReader
from workbench.sources.json_reader import JsonLinesReader
from workbench.sources.live import (
    is_live_connector,
    live_connectors,
    live_reader_schema,
    validate_live_options,
)
from workbench.sources.parquet_reader import ParquetReader
from workbench.sources.paths import resolve_paths
from workbench.sources.pcap_reader import (
    PCAP_OPTIONS,
    PCAP_WATERMARK_DELAY,
    open_pcap,
    pcap_schema,
    validate_pcap_options,
)
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, FileReader, Reader
from workbench.sources.syslog_reader import (
    SYSLOG_FORMATS,
    SYSLOG_OPTIONS,
    SYSLOG_WATERMARK_DELAY,
    auth_schema,
    open_syslog,
    open_syslog_auth,
    syslog_schema,
    validate_syslog,
    validate_syslog_auth,
)
from workbench.sources.zeek_reader import (
    ZEEK_OPTIONS,
    ZEEK_WATERMARK_DELAY,
    open_zeek,
    validate_zeek,
    zeek_schema,
)

FileOpener = Callable[[str, list[Path], Schema, Mapping[str, str], int], Reader]

#: The options of every file connector besides 'path'; a FormatSpec names the ones it takes.
CONVERSION_OPTIONS = frozenset({"timestamp.epoch-unit", "timestamp.format", "timezone"})
TIME_COLUMN = "ts"
_BOOLEAN_TEXT = {"true": True, "false": False}


@dataclass(frozen=True)
class FormatSpec:
    """A file format: its own options and how to open a reader for it.

    A self-describing format (captures, logs) has ``schema``: the columns its
    reader produces for given options, with event time in ``ts``. A table
    of that connector may then omit its column list; its watermark trails
    ``ts`` by ``watermark_delay`` unless the 'watermark.delay' option or a
    WATERMARK clause sets another delay. ``formats`` are the values, besides the
    format's own name, that its connector accepts as 'format'.
    ``conversion_options`` are the ones of :data:`CONVERSION_OPTIONS` that its
    reader applies; a table of this format rejects the others.
    """

    name: str
    options: frozenset[str]
    open: FileOpener
    validate: Callable[[Mapping[str, str]], None] | None = None
    schema: Callable[[Mapping[str, str]], Schema] | None = None
    watermark_delay: str = "0 s"
    formats: frozenset[str] = frozenset()
    conversion_options: frozenset[str] = CONVERSION_OPTIONS


def _conform_options(options: Mapping[str, str]) -> ConformOptions:
    return ConformOptions(
        time_zone=options.get("timezone", "UTC"),
        epoch_unit=options.get("timestamp.epoch-unit", "ms"),
        timestamp_format=options.get("timestamp.format"),
    )


def _boolean(options: Mapping[str, str], key: str, default: bool) -> bool:
    text = options.get(key)
    if text is None:
        return default
    value = _BOOLEAN_TEXT.get(text.strip().lower())
    if value is None:
        message = f"invalid value {text!r} for option '{key}': use 'true' or 'false'"
        raise SourceError(message)
    return value


def _character(options: Mapping[str, str], key: str, default: str) -> str:
    text = options.get(key, default)
    if text == "\\t":
        text = "\t"
    if len(text) != 1 or text in "\n\r":
        message = f"invalid value {text!r} for option '{key}': use one character, such as ','"
        raise SourceError(message)
    return text


def _csv_options(options: Mapping[str, str]) -> CsvOptions:
    delimiter = _character(options, "csv.field-delimiter", ",")
    quote = _character(options, "csv.quote-character", '"')
    if quote == delimiter:
        message = (
            f"'csv.quote-character' and 'csv.field-delimiter' are both {quote!r}: "
            "set them to different characters"
        )
        raise SourceError(message)
    return CsvOptions(
        header=_boolean(options, "csv.header", True),
        delimiter=delimiter,
        quote=quote,
        null_literal=options.get("csv.null-literal"),
        allow_comments=_boolean(options, "csv.allow-comments", False),
    )


def _validate_csv(options: Mapping[str, str]) -> None:
    _csv_options(options)


def _open_csv(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    return CsvReader(
        name,
        paths,
        schema,
        chunk_rows=chunk_rows,
        csv_options=_csv_options(options),
        conform_options=_conform_options(options),
    )


def _open_json(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    return JsonLinesReader(
        name, paths, schema, chunk_rows=chunk_rows, conform_options=_conform_options(options)
    )


def _open_parquet(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    return ParquetReader(
        name, paths, schema, chunk_rows=chunk_rows, conform_options=_conform_options(options)
    )


_FORMATS: dict[str, FormatSpec] = {}


def register_format(spec: FormatSpec) -> None:
    """Add a file format, usable as 'format' and as a connector name."""
    _FORMATS[spec.name] = spec


register_format(
    FormatSpec(
        "csv",
        frozenset(
            {
                "csv.header",
                "csv.field-delimiter",
                "csv.quote-character",
                "csv.null-literal",
                "csv.allow-comments",
            }
        ),
        _open_csv,
        _validate_csv,
    )
)
register_format(FormatSpec("json", frozenset(), _open_json))
register_format(FormatSpec("parquet", frozenset(), _open_parquet))
register_format(
    FormatSpec(
        "pcap",
        PCAP_OPTIONS,
        open_pcap,
        validate_pcap_options,
        schema=pcap_schema,
        watermark_delay=PCAP_WATERMARK_DELAY,
        formats=frozenset({"pcapng"}),
        conversion_options=frozenset(),
    )
)
# Zeek logs store times as epoch seconds and access logs with a UTC offset,
# so neither reader reads 'timezone', 'timestamp.format' or 'timestamp.epoch-unit'.
register_format(
    FormatSpec(
        "zeek",
        ZEEK_OPTIONS,
        open_zeek,
        validate_zeek,
        zeek_schema,
        ZEEK_WATERMARK_DELAY,
        conversion_options=frozenset(),
    )
)
register_format(
    FormatSpec(
        "syslog",
        SYSLOG_OPTIONS,
        open_syslog,
        validate_syslog,
        syslog_schema,
        SYSLOG_WATERMARK_DELAY,
        frozenset(SYSLOG_FORMATS) - {"syslog"},
        conversion_options=frozenset({"timezone"}),
    )
)
register_format(
    FormatSpec(
        "syslog-auth",
        SYSLOG_OPTIONS,
        open_syslog_auth,
        validate_syslog_auth,
        auth_schema,
        SYSLOG_WATERMARK_DELAY,
        conversion_options=frozenset({"timezone"}),
    )
)
register_format(
    FormatSpec(
        "access-log",
        ACCESS_LOG_OPTIONS,
        open_access_log,
        validate_access_log,
        access_log_schema,
        ACCESS_LOG_WATERMARK_DELAY,
        frozenset(NAMED_FORMATS),
        conversion_options=frozenset(),
    )
)


def known_connectors() -> list[str]:
    return sorted({"filesystem", *_FORMATS, *live_connectors()})


def suggest(word: str, choices: list[str]) -> str:
    """Return " (did you mean 'x'?)" for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _format_of(options: Mapping[str, str]) -> FormatSpec:
    connector = options.get("connector")
    if connector is None:
        message = "missing option 'connector': set it to one of " + ", ".join(known_connectors())
        raise SourceError(message)
    if connector == "filesystem":
        name = options.get("format")
        formats = sorted(_FORMATS)
        if name is None:
            message = (
                "missing option 'format' for connector 'filesystem': set it to one of "
                + ", ".join(formats)
            )
            raise SourceError(message)
        if name not in _FORMATS:
            message = (
                f"unknown format {name!r}{suggest(name, formats)}; "
                f"known formats: {', '.join(formats)}"
            )
            raise SourceError(message)
        return _FORMATS[name]
    if connector in _FORMATS:
        spec = _FORMATS[connector]
        name = options.get("format", connector)
        if name != connector and name not in spec.formats:
            if spec.formats:
                choices = sorted({connector, *spec.formats})
                message = (
                    f"unknown format {name!r}{suggest(name, choices)} "
                    f"for connector {connector!r}; use one of {', '.join(choices)}"
                )
            else:
                message = f"option 'format' = {name!r} contradicts 'connector' = {connector!r}"
            raise SourceError(message)
        return spec
    connectors = known_connectors()
    message = (
        f"unknown connector {connector!r}{suggest(connector, connectors)}; "
        f"known connectors: {', '.join(connectors)}"
    )
    raise SourceError(message)


def validate_source_options(options: Mapping[str, str], schema: Schema) -> None:
    """Raise SourceError unless ``options`` describe a readable source for ``schema``.

    Files are looked up by :func:`open_reader`, not here.
    """
    if is_live_connector(options.get("connector", "")):
        validate_live_options(options, schema)
        return
    spec = _format_of(options)
    connector = options["connector"]
    valid = sorted(
        {"connector", "format", "retain", "path", *spec.conversion_options, *spec.options}
    )
    if spec.schema is not None:
        valid = sorted({*valid, "watermark.delay"})
    for key in options:
        if key not in valid:
            where = f"connector '{connector}'"
            if connector == "filesystem":
                where += f" with format '{spec.name}'"
            message = (
                f"unknown option {key!r} for {where}{suggest(key, valid)}; "
                f"valid options: {', '.join(valid)}"
            )
            raise SourceError(message)
    if not options.get("path", "").strip():
        message = (
            f"missing option 'path' for connector '{connector}': set it to a file, "
            "a directory or a glob pattern such as 'logs/*.csv'"
        )
        raise SourceError(message)
    _validate_conform_options(options)
    if "watermark.delay" in options:
        _delay_option(options)
    if spec.validate is not None:
        spec.validate(options)
    if len(schema) == 0:
        message = "the table has no physical columns to read: declare at least one column"
        raise SourceError(message)


@dataclass(frozen=True)
class ReaderSchema:
    """The columns a self-describing reader produces, and its default watermark."""

    schema: Schema
    time_column: str
    watermark_delay_ns: int


def reader_schema(options: Mapping[str, str], base_dir: Path | None = None) -> ReaderSchema | None:
    """Return the reader's own columns for a table's WITH options.

    None when the connector needs a declared column list (CSV, JSON,
    Parquet). A relative 'path' resolves from ``base_dir`` (default: the
    current directory), as when the table is read. Raises SourceError for an
    unknown connector or a bad option.
    """
    if is_live_connector(options.get("connector", "")):
        live = live_reader_schema(options)
        return (
            None
            if live is None
            else ReaderSchema(live.schema, live.time_column, live.watermark_delay_ns)
        )
    spec = _format_of(options)
    if spec.schema is None:
        return None
    delay = (
        _delay_option(options)
        if "watermark.delay" in options
        else parse_duration(spec.watermark_delay)
    )
    path = options.get("path")
    if base_dir is not None and path and not Path(path).expanduser().is_absolute():
        options = {**options, "path": str(base_dir / Path(path).expanduser())}
    return ReaderSchema(spec.schema(options), TIME_COLUMN, delay)


def self_describing_connectors() -> list[str]:
    """Return the connectors whose tables may omit their column list."""
    files = [name for name, spec in _FORMATS.items() if spec.schema is not None]
    return sorted(
        [*files, *(name for name in live_connectors() if live_reader_schema({"connector": name}))]
    )


def _delay_option(options: Mapping[str, str]) -> int:
    text = options["watermark.delay"]
    try:
        delay = parse_duration(text)
    except ValueError as error:
        message = f"invalid value {text!r} for option 'watermark.delay': {error}"
        raise SourceError(message) from None
    if delay < 0:
        message = f"invalid value {text!r} for option 'watermark.delay': it cannot be negative"
        raise SourceError(message)
    return delay


def _validate_conform_options(options: Mapping[str, str]) -> None:
    unit = options.get("timestamp.epoch-unit", "ms")
    if unit not in EPOCH_UNITS:
        message = (
            f"invalid value {unit!r} for option 'timestamp.epoch-unit': "
            f"use one of {', '.join(EPOCH_UNITS)}"
        )
        raise SourceError(message)
    zone = options.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        message = (
            f"invalid value {zone!r} for option 'timezone': use an IANA time zone "
            "such as 'UTC' or 'Europe/Berlin'"
        )
        raise SourceError(message) from exc
    pattern = options.get("timestamp.format")
    if pattern is not None and "%" not in pattern:
        message = (
            f"invalid value {pattern!r} for option 'timestamp.format': use a strftime "
            "pattern such as '%d/%m/%Y %H:%M:%S'"
        )
        raise SourceError(message)


def open_reader(
    name: str,
    options: Mapping[str, str],
    schema: Schema,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    base_dir: Path | None = None,
    positions: bool = False,
) -> Reader:
    """Return a reader for a table's WITH options, with relative paths from ``base_dir``.

    ``positions`` makes a file reader pass each row's line or offset on in
    hidden columns (see :class:`~workbench.sources.reader.FileReader`).
    """
    validate_source_options(options, schema)
    if is_live_connector(options["connector"]):
        message = (
            f"table '{name}' reads the live connector '{options['connector']}', which has no "
            "end to read to: start its queries with QueryResult.start() or Session.start()"
        )
        raise SourceError(message)
    spec = _format_of(options)
    paths = resolve_paths(options["path"], base_dir)
    reader = spec.open(name, paths, schema, options, chunk_rows)
    if isinstance(reader, FileReader):
        reader.positions = positions
    return reader
