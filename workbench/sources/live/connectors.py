"""The live connectors and their own options (see docs/sources.md, "Live sources and sinks").

Options every live connector takes are in
:mod:`workbench.sources.live.options`. Each connector's source class is
imported only when a table of that connector is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.live.options import (
    CLIENT_OPTIONS,
    LiveSpec,
    check_port,
    parse_integer,
    register_live_connector,
)
from workbench.sources.live.syslog_lines import LIVE_SYSLOG_FORMATS, live_syslog_schema
from workbench.sources.packets.schema import PACKET_SCHEMA
from workbench.sources.pcap_reader import PCAP_WATERMARK_DELAY
from workbench.sources.syslog_reader import SYSLOG_WATERMARK_DELAY

_MODULE = "workbench.sources.live"

Validator = Callable[[Mapping[str, str]], None]


def _validate_tcp(values: Mapping[str, str]) -> None:
    mode = values.get("mode", "server")
    if mode not in ("server", "client"):
        message = f"invalid value {mode!r} for option 'mode': use 'server' or 'client'"
        raise SourceError(message)
    if "port" not in values:
        message = "missing option 'port' for connector 'tcp': set it to a port number ('0' picks a free one for a server)"
        raise SourceError(message)
    check_port("port", values["port"], allow_zero=mode == "server")


def _validate_port(connector: str) -> Validator:
    def validate(values: Mapping[str, str]) -> None:
        if "port" not in values:
            message = f"missing option 'port' for connector '{connector}': set it to a port number ('0' picks a free one)"
            raise SourceError(message)
        check_port("port", values["port"], allow_zero=True)

    return validate


def _validate_http(values: Mapping[str, str]) -> None:
    _validate_port("http")(values)
    path = values.get("path", "/")
    if not path.startswith("/"):
        message = f"invalid value {path!r} for option 'path': use a URL path starting with '/'"
        raise SourceError(message)
    parse_integer("http.max-request-bytes", values["http.max-request-bytes"], minimum=1)


def _validate_url(schemes: tuple[str, ...]) -> Validator:
    def validate(values: Mapping[str, str]) -> None:
        url = values.get("url", "")
        if not url.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            choices = " or ".join(f"'{scheme}://'" for scheme in schemes)
            message = f"invalid value {url!r} for option 'url': use a URL starting with {choices}"
            raise SourceError(message)

    return validate


def _validate_redis(values: Mapping[str, str]) -> None:
    _validate_url(("redis", "rediss", "unix"))(values)
    mode = values["scan.startup.mode"]
    if mode not in ("group-offsets", "earliest", "latest"):
        message = (
            f"invalid value {mode!r} for option 'scan.startup.mode': use 'group-offsets', "
            "'earliest' or 'latest'"
        )
        raise SourceError(message)
    parse_integer("redis.block-ms", values["redis.block-ms"], minimum=1)


def _validate_mqtt(values: Mapping[str, str]) -> None:
    check_port("port", values["port"], allow_zero=False)
    qos = values["qos"]
    if qos not in ("0", "1", "2"):
        message = f"invalid value {qos!r} for option 'qos': use 0, 1 or 2"
        raise SourceError(message)
    topics = [topic.strip() for topic in values.get("topic", "").split(",") if topic.strip()]
    if not topics:
        message = "missing option 'topic' for connector 'mqtt': set it to one or more topic filters separated by commas, such as 'sensors/+/temperature'"
        raise SourceError(message)


def _validate_kafka(values: Mapping[str, str]) -> None:
    mode = values["scan.startup.mode"]
    if mode not in ("group-offsets", "earliest-offset", "latest-offset"):
        message = (
            f"invalid value {mode!r} for option 'scan.startup.mode': use 'group-offsets', "
            "'earliest-offset' or 'latest-offset'"
        )
        raise SourceError(message)


def _validate_pcap(values: Mapping[str, str]) -> None:
    if not values.get("path", "").strip():
        message = "missing option 'path' for connector 'pcap-stream': set it to '-' (standard input) or the path of a named pipe"
        raise SourceError(message)


register_live_connector(
    LiveSpec(
        "tcp",
        f"{_MODULE}.tcp:TcpSource",
        {"mode": "server", "syslog.year": None, **CLIENT_OPTIONS},
        formats=("json", "raw", *LIVE_SYSLOG_FORMATS),
        validate=_validate_tcp,
        schema=live_syslog_schema,
        watermark_delay=SYSLOG_WATERMARK_DELAY,
    )
)
register_live_connector(
    LiveSpec(
        "udp",
        f"{_MODULE}.udp:UdpSource",
        {
            "scan.message.max-bytes": "65507",
            "udp.receive-buffer-bytes": "4194304",
            "syslog.year": None,
        },
        formats=("json", "raw", *LIVE_SYSLOG_FORMATS),
        validate=_validate_port("udp"),
        schema=live_syslog_schema,
        watermark_delay=SYSLOG_WATERMARK_DELAY,
    )
)
register_live_connector(
    LiveSpec(
        "http",
        f"{_MODULE}.http:HttpSource",
        {"path": "/", "http.max-request-bytes": "16777216"},
        validate=_validate_http,
        dependency="aiohttp",
    )
)
register_live_connector(
    LiveSpec(
        "websocket",
        f"{_MODULE}.websocket:WebSocketSource",
        {"url": None},
        role="client",
        required=("url",),
        validate=_validate_url(("ws", "wss")),
        dependency="websockets",
    )
)
register_live_connector(
    LiveSpec(
        "redis-stream",
        f"{_MODULE}.redis_stream:RedisStreamSource",
        {
            "url": "redis://127.0.0.1:6379",
            "stream": None,
            "group": "workbench",
            "consumer": None,
            "scan.startup.mode": "group-offsets",
            "redis.field": "data",
            "redis.block-ms": "100",
        },
        formats=("fields", "json", "raw"),
        role="client",
        required=("stream",),
        validate=_validate_redis,
        dependency="redis",
    )
)
register_live_connector(
    LiveSpec(
        "mqtt",
        f"{_MODULE}.mqtt:MqttSource",
        {
            "hostname": "127.0.0.1",
            "port": "1883",
            "topic": None,
            "qos": "1",
            "client-id": None,
            "mqtt.topic-column": None,
        },
        role="client",
        required=("topic",),
        validate=_validate_mqtt,
        dependency="aiomqtt",
    )
)
register_live_connector(
    LiveSpec(
        "kafka",
        f"{_MODULE}.kafka:KafkaSource",
        {
            "properties.bootstrap.servers": None,
            "topic": None,
            "properties.group.id": "workbench",
            "scan.startup.mode": "group-offsets",
        },
        role="client",
        required=("properties.bootstrap.servers", "topic"),
        validate=_validate_kafka,
        dependency="confluent-kafka",
        prefixes=("properties.",),
    )
)


def _pcap_schema(options: Mapping[str, str]) -> Schema:
    return PACKET_SCHEMA


register_live_connector(
    LiveSpec(
        "pcap-stream",
        f"{_MODULE}.pcap_stream:PcapStreamSource",
        {"path": None, "pcap.max-captured-length": None},
        formats=("pcap", "pcapng"),
        role="local",
        required=("path",),
        validate=_validate_pcap,
        schema=_pcap_schema,
        watermark_delay=PCAP_WATERMARK_DELAY,
    )
)
register_live_connector(
    LiveSpec(
        "python",
        f"{_MODULE}.python_source:PythonSource",
        {},
        formats=(),
        role="local",
        from_ddl=False,
    )
)
