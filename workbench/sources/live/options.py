"""Live connectors: their WITH options, defaults and checks, and the connector registry.

A live connector reads an unbounded feed (a socket, an HTTP endpoint, a
Redis stream, an MQTT topic, a Kafka topic, a pipe) instead of a file.
Every live connector takes the options in :data:`COMMON_OPTIONS`; servers
add :data:`SERVER_OPTIONS` and clients :data:`CLIENT_OPTIONS`. The
connectors themselves live in their own modules, which the registry imports
only when a table is opened, so that the network client libraries load only
when they are used.
"""

from __future__ import annotations

import difflib
import importlib
import ipaddress
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from workbench.errors import SourceError
from workbench.events.conform import ConformOptions
from workbench.events.convert import EPOCH_UNITS
from workbench.events.schema import Schema
from workbench.events.time import parse_duration

if TYPE_CHECKING:
    from workbench.sources.live.base import LiveSource

#: Options every live connector takes, with their defaults (None: unset).
COMMON_OPTIONS: dict[str, str | None] = {
    "format": None,
    "timestamp.epoch-unit": "ms",
    "timestamp.format": None,
    "timezone": "UTC",
    "scan.batch.interval": "2 ms",
    "scan.batch.max-rows": "10000",
    "scan.backlog.max-rows": "100000",
    "scan.message.max-bytes": "1048576",
    "scan.rejected.max-rows": "10000",
    "scan.watermark.idle-timeout": None,
    "watermark.delay": None,
}
#: Options of connectors that listen for peers.
SERVER_OPTIONS: dict[str, str | None] = {
    "hostname": "127.0.0.1",
    "port": None,
    "scan.max-connections": "64",
}
#: Options of connectors that connect to a server and reconnect after a failure.
CLIENT_OPTIONS: dict[str, str | None] = {
    "reconnect.initial-delay": "100 ms",
    "reconnect.max-delay": "30 s",
    "reconnect.max-attempts": None,
}

_BOOLEAN_TEXT = {"true": True, "false": False}
_LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class LiveSpec:
    """A live connector: its options, the formats it accepts, and where its source class is.

    ``source`` is 'module:Class', imported when a table is opened. A
    self-describing connector (pcap-stream, syslog over UDP or TCP) has
    ``schema``: the columns it produces for given options (None when those
    options need a declared column list), event time in ``ts``, trailing by
    ``watermark_delay``.
    """

    name: str
    source: str
    options: Mapping[str, str | None]
    formats: tuple[str, ...] = ("json", "raw")
    role: str = "server"
    required: tuple[str, ...] = ()
    validate: Callable[[Mapping[str, str]], None] | None = None
    schema: Callable[[Mapping[str, str]], Schema | None] | None = None
    watermark_delay: str = "0 s"
    dependency: str | None = None
    from_ddl: bool = True
    #: Prefixes of options passed on to the client library (Kafka's 'properties.').
    prefixes: tuple[str, ...] = ()

    def all_options(self) -> dict[str, str | None]:
        """Return every option of the connector with its default."""
        role_options = SERVER_OPTIONS if self.role == "server" else CLIENT_OPTIONS
        if self.role == "local":
            role_options = {}
        return {**COMMON_OPTIONS, **role_options, **self.options}


_SPECS: dict[str, LiveSpec] = {}


def register_live_connector(spec: LiveSpec) -> None:
    """Add a live connector, usable as 'connector' in CREATE TABLE."""
    _SPECS[spec.name] = spec


def live_connectors() -> list[str]:
    return sorted(_SPECS)


def live_spec(connector: str) -> LiveSpec | None:
    """Return the live connector of that name, or None for a file connector."""
    return _SPECS.get(connector)


def is_live_connector(connector: str) -> bool:
    return connector in _SPECS


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# Typed options ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveOptions:
    """The WITH options of a live table, checked, with defaults filled in.

    ``values`` keeps every option as text, defaults included, for the
    connector's own options.
    """

    connector: str
    format: str
    batch_interval_ns: int
    batch_max_rows: int
    backlog_max_rows: int
    message_max_bytes: int
    rejected_max_rows: int
    idle_timeout_ns: int | None
    conform: ConformOptions
    values: dict[str, str] = field(default_factory=dict)
    reconnect_initial_ns: int = 100_000_000
    reconnect_max_ns: int = 30_000_000_000
    reconnect_max_attempts: int | None = None

    def text(self, key: str) -> str:
        """Return an option's text, or its default; raises SourceError when neither is set."""
        value = self.values.get(key)
        if value is None:
            message = f"missing option {key!r} for connector '{self.connector}'"
            raise SourceError(message)
        return value

    def optional(self, key: str) -> str | None:
        return self.values.get(key)

    def integer(self, key: str, *, minimum: int = 0) -> int:
        return parse_integer(key, self.text(key), minimum=minimum)

    def boolean(self, key: str) -> bool:
        return parse_boolean(key, self.text(key))

    def duration(self, key: str) -> int:
        return parse_positive_duration(key, self.text(key))


def parse_integer(key: str, text: str, *, minimum: int = 0) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        message = (
            f"invalid value {text!r} for option '{key}': use a whole number of at least {minimum}"
        )
        raise SourceError(message)
    return value


def parse_boolean(key: str, text: str) -> bool:
    value = _BOOLEAN_TEXT.get(text.strip().lower())
    if value is None:
        message = f"invalid value {text!r} for option '{key}': use 'true' or 'false'"
        raise SourceError(message)
    return value


def parse_positive_duration(key: str, text: str, *, allow_zero: bool = False) -> int:
    try:
        value = parse_duration(text)
    except ValueError as error:
        message = f"invalid value {text!r} for option '{key}': {error}"
        raise SourceError(message) from None
    if value < 0 or (value == 0 and not allow_zero):
        message = (
            f"invalid value {text!r} for option '{key}': use a duration above 0, such as '100 ms'"
        )
        raise SourceError(message)
    return value


def check_port(key: str, text: str, *, allow_zero: bool) -> int:
    """Return a TCP or UDP port number; 0 (any free port) only where ``allow_zero``."""
    lowest = 0 if allow_zero else 1
    port = parse_integer(key, text, minimum=lowest)
    if port > 65_535:
        message = f"invalid value {text!r} for option '{key}': use a port from {lowest} to 65535"
        raise SourceError(message)
    return port


def check_bind_address(text: str) -> str:
    """Return the address a server binds; loopback unless the user chose another."""
    if text in ("localhost", ""):
        return _LOOPBACK
    try:
        ipaddress.ip_address(text)
    except ValueError:
        message = (
            f"invalid value {text!r} for option 'hostname': use an IP address to listen on, "
            "such as '127.0.0.1' (the default) or '0.0.0.0' for every interface"
        )
        raise SourceError(message) from None
    return text


def live_options(
    options: Mapping[str, str], *, idle_timeout_default: str | None = None
) -> LiveOptions:
    """Check a live table's options and return them typed; raises SourceError.

    ``idle_timeout_default`` is the session's 'table.exec.source.idle-timeout',
    used when the table does not set 'scan.watermark.idle-timeout'.
    """
    connector = options.get("connector", "")
    spec = _SPECS.get(connector)
    if spec is None:
        message = f"unknown live connector {connector!r}{_suggest(connector, live_connectors())}"
        raise SourceError(message)
    known = spec.all_options()
    valid = sorted({"connector", "retain", *known})
    # 'retain' concerns the session's retained rows, not the source.
    options = {key: value for key, value in options.items() if key != "retain"}
    for key in options:
        if key not in valid and not (spec.prefixes and key.startswith(spec.prefixes)):
            message = (
                f"unknown option {key!r} for connector '{connector}'{_suggest(key, valid)}; "
                f"valid options: {', '.join(valid)}"
            )
            raise SourceError(message)
    for key in spec.required:
        if not options.get(key, "").strip():
            message = f"missing option {key!r} for connector '{connector}'"
            raise SourceError(message)
    values = {key: value for key, value in known.items() if value is not None}
    values.update({key: value for key, value in options.items() if key != "connector"})
    default_format = spec.formats[0] if spec.formats else ""
    chosen_format = values.get("format", default_format)
    if spec.formats and chosen_format not in spec.formats:
        message = (
            f"unknown format {chosen_format!r}{_suggest(chosen_format, list(spec.formats))} "
            f"for connector '{connector}'; use one of {', '.join(spec.formats)}"
        )
        raise SourceError(message)
    idle_text = values.get("scan.watermark.idle-timeout", idle_timeout_default)
    idle = None
    if idle_text is not None:
        idle = parse_positive_duration("scan.watermark.idle-timeout", idle_text, allow_zero=True)
        idle = idle or None
    parsed = LiveOptions(
        connector=connector,
        format=chosen_format,
        batch_interval_ns=parse_positive_duration(
            "scan.batch.interval", values["scan.batch.interval"]
        ),
        batch_max_rows=parse_integer(
            "scan.batch.max-rows", values["scan.batch.max-rows"], minimum=1
        ),
        backlog_max_rows=parse_integer(
            "scan.backlog.max-rows", values["scan.backlog.max-rows"], minimum=1
        ),
        message_max_bytes=parse_integer(
            "scan.message.max-bytes", values["scan.message.max-bytes"], minimum=1
        ),
        rejected_max_rows=parse_integer(
            "scan.rejected.max-rows", values["scan.rejected.max-rows"], minimum=0
        ),
        idle_timeout_ns=idle,
        conform=_conform_options(values),
        values=values,
    )
    if parsed.backlog_max_rows < parsed.batch_max_rows:
        message = (
            f"'scan.backlog.max-rows' ({parsed.backlog_max_rows}) is smaller than "
            f"'scan.batch.max-rows' ({parsed.batch_max_rows}): make the backlog at least one batch"
        )
        raise SourceError(message)
    if spec.role == "server" and "port" in values:
        check_port("port", values["port"], allow_zero=True)
        check_bind_address(values["hostname"])
        parse_integer("scan.max-connections", values["scan.max-connections"], minimum=1)
    if "reconnect.initial-delay" in values:
        initial = parse_positive_duration(
            "reconnect.initial-delay", values["reconnect.initial-delay"]
        )
        maximum = parse_positive_duration("reconnect.max-delay", values["reconnect.max-delay"])
        attempts_text = values.get("reconnect.max-attempts")
        attempts = (
            None
            if attempts_text is None
            else parse_integer("reconnect.max-attempts", attempts_text, minimum=0)
        )
        parsed = _replace_reconnect(parsed, initial, max(initial, maximum), attempts)
    if "watermark.delay" in values:
        parse_positive_duration("watermark.delay", values["watermark.delay"], allow_zero=True)
    if spec.validate is not None:
        spec.validate(values)
    return parsed


def _replace_reconnect(
    options: LiveOptions, initial: int, maximum: int, attempts: int | None
) -> LiveOptions:
    return replace(
        options,
        reconnect_initial_ns=initial,
        reconnect_max_ns=maximum,
        reconnect_max_attempts=attempts,
    )


def _conform_options(values: Mapping[str, str]) -> ConformOptions:
    unit = values.get("timestamp.epoch-unit", "ms")
    if unit not in EPOCH_UNITS:
        message = (
            f"invalid value {unit!r} for option 'timestamp.epoch-unit': "
            f"use one of {', '.join(EPOCH_UNITS)}"
        )
        raise SourceError(message)
    zone = values.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        message = (
            f"invalid value {zone!r} for option 'timezone': use an IANA time zone "
            "such as 'UTC' or 'Europe/Berlin'"
        )
        raise SourceError(message) from None
    pattern = values.get("timestamp.format")
    if pattern is not None and "%" not in pattern:
        message = (
            f"invalid value {pattern!r} for option 'timestamp.format': use a strftime "
            "pattern such as '%d/%m/%Y %H:%M:%S'"
        )
        raise SourceError(message)
    return ConformOptions(time_zone=zone, epoch_unit=unit, timestamp_format=pattern)


def validate_live_options(options: Mapping[str, str], schema: Schema) -> None:
    """Raise SourceError unless ``options`` describe a live table readable as ``schema``."""
    spec = _SPECS[options["connector"]]
    if not spec.from_ddl:
        message = (
            f"the '{spec.name}' connector is set up from Python, not from CREATE TABLE: "
            "use Session.from_iterable"
        )
        raise SourceError(message)
    parsed = live_options(options)
    if len(schema) == 0:
        message = "the table has no physical columns to read: declare at least one column"
        raise SourceError(message)
    if parsed.format == "raw":
        text_columns = [
            column for column in schema if column.type.kind.name in ("VARCHAR", "BINARY")
        ]
        if len(schema) != 1 or not text_columns:
            message = (
                f"format 'raw' reads each message into one STRING or BYTES column, but the table "
                f"has the columns {', '.join(schema.names)}: declare one column, or use 'format' = 'json'"
            )
            raise SourceError(message)


def open_live_source(
    name: str,
    options: Mapping[str, str],
    schema: Schema,
    *,
    idle_timeout_default: str | None = None,
    objects: Mapping[str, Any] | None = None,
) -> LiveSource:
    """Return the live source of a table, not yet started.

    ``objects`` contains the Python objects a connector reads (the iterable of a
    'python' table), by table name.
    """
    spec = _SPECS[options["connector"]]
    parsed = live_options(options, idle_timeout_default=idle_timeout_default)
    module_name, _, class_name = spec.source.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        package = spec.dependency or (error.name or "a package")
        message = (
            f"connector '{spec.name}' needs the Python package {package!r}, which is not "
            f"installed: pip install 'workbench[live]' ({error})"
        )
        raise SourceError(message) from error
    source_class = getattr(module, class_name)
    source: LiveSource = source_class(name, schema, parsed, spec)
    if objects is not None and name in objects:
        source.attach(objects[name])
    return source


@dataclass(frozen=True)
class LiveReaderSchema:
    """The columns a self-describing live connector produces, and its default watermark delay."""

    schema: Schema
    time_column: str
    watermark_delay_ns: int


def live_reader_schema(options: Mapping[str, str]) -> LiveReaderSchema | None:
    """Return the columns of a self-describing live connector, or None."""
    spec = _SPECS[options["connector"]]
    own = None if spec.schema is None else spec.schema(options)
    if own is None:
        return None
    text = options.get("watermark.delay", spec.watermark_delay)
    delay = parse_positive_duration("watermark.delay", text, allow_zero=True)
    return LiveReaderSchema(own, "ts", delay)
