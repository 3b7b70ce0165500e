"""Sink registry: Flink-style WITH options to an open sink.

Connectors and their options:

``filesystem``
    'path' (a file) and 'format' = 'csv' | 'json' | 'parquet';
    'csv', 'json' and 'parquet' are accepted as connector names for short.
    'sink.mode' = 'overwrite' (default) or 'append'. With
    'sink.rolling-policy.file-size' or '...rollover-interval' set, 'path' is
    a directory of rolling part files (see :mod:`workbench.sinks.rolling`).
    CSV also takes
    'csv.field-delimiter', 'csv.header' and 'csv.null-literal'.
``duckdb``, ``sqlite``
    'path' (the database file) and 'table-name'; a lookup join of the
    table also reads the 'lookup.cache' and 'lookup.partial-cache.*' options.
    The sink appends rows, or upserts them when the table has a primary key.
``print``
    'print-identifier' (a prefix for each row) and 'standard-error'.
``blackhole``, ``memory``
    no options.
``redis-stream``, ``mqtt``, ``kafka``, ``http``, ``websocket``
    sinks for live use, see :mod:`workbench.sinks.network`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.sinks.base import Sink
from workbench.sinks.duckdb_sink import DuckDBSink
from workbench.sinks.files import (
    SINK_MODES,
    CsvSink,
    JsonLinesSink,
    ParquetSink,
    SinkMode,
)
from workbench.sinks.memory import BlackholeSink, MemorySink, PrintSink
from workbench.sinks.network import (
    NETWORK_SINK_OPTIONS,
    NETWORK_SINK_PREFIXES,
    NETWORK_SINK_REQUIRED,
    open_network_sink,
    validate_network_sink,
)
from workbench.sinks.rolling import (
    DEFAULT_FILE_SIZE,
    DEFAULT_ROLLOVER_NS,
    ROLLING_OPTIONS,
    RollingFileSink,
    parse_file_size,
    parse_rollover_interval,
)
from workbench.sinks.sqlite_sink import SQLiteSink

_FORMATS = ("csv", "json", "parquet")
_FILE_OPTIONS = frozenset({"path", "sink.mode", *ROLLING_OPTIONS})
_FORMAT_OPTIONS = {
    "csv": frozenset({"csv.field-delimiter", "csv.header", "csv.null-literal"}),
    "json": frozenset(),
    "parquet": frozenset(),
}
#: Flink's lookup cache options, for a DuckDB or SQLite table that a lookup join reads.
_LOOKUP_OPTIONS = frozenset(
    {
        "lookup.cache",
        "lookup.partial-cache.max-rows",
        "lookup.partial-cache.expire-after-write",
        "lookup.partial-cache.expire-after-access",
        "lookup.partial-cache.cache-missing-key",
    }
)
_CONNECTOR_OPTIONS = {
    "duckdb": frozenset({"path", "table-name"}) | _LOOKUP_OPTIONS,
    "sqlite": frozenset({"path", "table-name"}) | _LOOKUP_OPTIONS,
    "print": frozenset({"print-identifier", "standard-error"}),
    "blackhole": frozenset(),
    "memory": frozenset(),
}
_CONNECTOR_OPTIONS.update(NETWORK_SINK_OPTIONS)
_REQUIRED = {
    "duckdb": ("path", "table-name"),
    "sqlite": ("path", "table-name"),
    **NETWORK_SINK_REQUIRED,
}
_REQUIRED_HELP = {
    "path": "set it to the file to write",
    "table-name": "set it to the table to append rows to",
    "stream": "set it to the Redis stream to append rows to",
    "topic": "set it to the topic to publish rows to",
    "properties.bootstrap.servers": "set it to the Kafka brokers, such as '127.0.0.1:9092'",
    "url": "set it to the URL to POST rows to",
    "port": "set it to the port the WebSocket server listens on ('0' picks a free one)",
}
_BOOLEAN_TEXT = {"true": True, "false": False}


def known_sink_connectors() -> list[str]:
    return sorted({"filesystem", *_FORMATS, *_CONNECTOR_OPTIONS})


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _format_of(options: Mapping[str, str]) -> str | None:
    """Return the file format of the options, or None for a non-file connector."""
    connector = options.get("connector")
    connectors = known_sink_connectors()
    if connector is None:
        message = "missing option 'connector': set it to one of " + ", ".join(connectors)
        raise SinkError(message)
    if connector == "filesystem":
        name = options.get("format")
        if name is None:
            message = (
                "missing option 'format' for connector 'filesystem': set it to one of "
                + ", ".join(_FORMATS)
            )
            raise SinkError(message)
        if name not in _FORMATS:
            message = (
                f"unknown format {name!r}{_hint(name, list(_FORMATS))}; "
                f"known formats: {', '.join(_FORMATS)}"
            )
            raise SinkError(message)
        return name
    if connector in _FORMATS:
        if options.get("format", connector) != connector:
            message = (
                f"option 'format' = {options['format']!r} contradicts 'connector' = {connector!r}"
            )
            raise SinkError(message)
        return connector
    if connector not in _CONNECTOR_OPTIONS:
        message = (
            f"unknown sink connector {connector!r}{_hint(connector, connectors)}; "
            f"known connectors: {', '.join(connectors)}"
        )
        raise SinkError(message)
    return None


def _boolean(options: Mapping[str, str], key: str, default: bool) -> bool:
    text = options.get(key)
    if text is None:
        return default
    value = _BOOLEAN_TEXT.get(text.strip().lower())
    if value is None:
        message = f"invalid value {text!r} for option '{key}': use 'true' or 'false'"
        raise SinkError(message)
    return value


def _delimiter(options: Mapping[str, str]) -> str:
    text = options.get("csv.field-delimiter", ",")
    text = "\t" if text == "\\t" else text
    if len(text) != 1 or text in '\n\r"':
        message = (
            f"invalid value {text!r} for option 'csv.field-delimiter': "
            "use one character, such as ','"
        )
        raise SinkError(message)
    return text


def validate_sink_options(options: Mapping[str, str]) -> None:
    """Raise SinkError unless ``options`` describe a sink that can be opened."""
    file_format = _format_of(options)
    connector = options["connector"]
    if file_format is None:
        allowed = _CONNECTOR_OPTIONS[connector]
        required: tuple[str, ...] = _REQUIRED.get(connector, ())
    else:
        allowed = _FILE_OPTIONS | _FORMAT_OPTIONS[file_format] | {"format"}
        required = ("path",)

    valid = sorted({"connector", *allowed})
    prefixes = NETWORK_SINK_PREFIXES.get(connector, ())
    for key in options:
        if key not in valid and not (prefixes and key.startswith(prefixes)):
            message = (
                f"unknown option {key!r} for sink connector '{connector}'{_hint(key, valid)}; "
                f"valid options: {', '.join(valid)}"
            )
            raise SinkError(message)

    for key in required:
        if not options.get(key, "").strip():
            message = (
                f"missing option {key!r} for sink connector '{connector}': {_REQUIRED_HELP[key]}"
            )
            raise SinkError(message)

    mode = options.get("sink.mode", "overwrite")
    if mode not in SINK_MODES:
        message = f"invalid value {mode!r} for option 'sink.mode': use 'overwrite' or 'append'"
        raise SinkError(message)
    if "sink.rolling-policy.file-size" in options:
        parse_file_size(options["sink.rolling-policy.file-size"])
    if "sink.rolling-policy.rollover-interval" in options:
        parse_rollover_interval(options["sink.rolling-policy.rollover-interval"])
    if file_format == "csv":
        _delimiter(options)
        _boolean(options, "csv.header", True)
    if connector == "print":
        _boolean(options, "standard-error", False)
    if connector in NETWORK_SINK_OPTIONS:
        validate_network_sink(connector, options)


def _path(options: Mapping[str, str], base_dir: Path | None) -> Path:
    path = Path(options["path"]).expanduser()
    if path.is_absolute():
        return path
    return (Path.cwd() if base_dir is None else base_dir) / path


def _file_sink(name: str, options: Mapping[str, str], file_format: str, path: Path) -> Sink:
    mode: SinkMode = "append" if options.get("sink.mode") == "append" else "overwrite"
    if any(key in options for key in ROLLING_OPTIONS):
        size = options.get("sink.rolling-policy.file-size")
        interval = options.get("sink.rolling-policy.rollover-interval")
        return RollingFileSink(
            name,
            path,
            "jsonl" if file_format == "json" else file_format,
            lambda part: _single_file_sink(name, options, file_format, part, "overwrite"),
            mode=mode,
            file_size=DEFAULT_FILE_SIZE if size is None else parse_file_size(size),
            rollover_ns=DEFAULT_ROLLOVER_NS
            if interval is None
            else parse_rollover_interval(interval),
        )
    return _single_file_sink(name, options, file_format, path, mode)


def _single_file_sink(
    name: str, options: Mapping[str, str], file_format: str, path: Path, mode: SinkMode
) -> CsvSink | JsonLinesSink | ParquetSink:
    if file_format == "csv":
        return CsvSink(
            name,
            path,
            mode=mode,
            delimiter=_delimiter(options),
            header=_boolean(options, "csv.header", True),
            null_literal=options.get("csv.null-literal", ""),
        )
    if file_format == "json":
        return JsonLinesSink(name, path, mode=mode)
    return ParquetSink(name, path, mode=mode)


_OTHER_SINKS: dict[str, Callable[[str, Mapping[str, str], Path | None], Sink]] = {
    "print": lambda name, o, base: PrintSink(
        name,
        identifier=o.get("print-identifier"),
        standard_error=_boolean(o, "standard-error", False),
    ),
    "blackhole": lambda name, o, base: BlackholeSink(name),
    "memory": lambda name, o, base: MemorySink(name),
    **{
        connector: lambda name, o, base: open_network_sink(name, o)
        for connector in NETWORK_SINK_OPTIONS
    },
}


def open_sink(
    name: str,
    options: Mapping[str, str],
    schema: Schema,
    *,
    base_dir: Path | None = None,
    primary_key: Sequence[str] = (),
) -> Sink:
    """Return the sink that ``options`` describe, opened for ``schema``.

    Relative paths start at ``base_dir`` (default: the current directory).
    A DuckDB or SQLite sink with a ``primary_key`` upserts by that key;
    other connectors ignore the key.
    """
    validate_sink_options(options)
    file_format = _format_of(options)
    connector = options["connector"]
    if file_format is not None:
        sink = _file_sink(name, options, file_format, _path(options, base_dir))
    elif connector == "duckdb":
        path = _path(options, base_dir)
        sink = DuckDBSink(name, path, options["table-name"], primary_key=primary_key)
    elif connector == "sqlite":
        path = _path(options, base_dir)
        sink = SQLiteSink(name, path, options["table-name"], primary_key=primary_key)
    else:
        sink = _OTHER_SINKS[options["connector"]](name, options, base_dir)
    sink.open(schema)
    return sink
