"""Sinks for live use: Redis Streams, MQTT, Kafka, HTTP POST and a WebSocket server.

Every sink writes each row as one JSON object (timestamps as text, as the
JSON lines file sink writes them). A write returns once the server took
the rows (Redis and HTTP replied, Kafka and MQTT at QoS 1 or 2
acknowledged them), so a query on a live feed acknowledges its input only
after its output is out. The client libraries are imported when a sink
opens, so they load only when used.

``redis-stream``
    'url' (default redis://127.0.0.1:6379), 'stream', 'format' = 'json'
    (the row in field 'redis.field', default 'data') or 'fields' (one field
    per column, as text), 'sink.max-length' (approximate MAXLEN trimming).
``mqtt``
    'hostname' (127.0.0.1), 'port' (1883), 'topic', 'qos' (1), 'client-id'.
``kafka``
    'properties.bootstrap.servers', 'topic', other 'properties.*' for the producer.
``http``
    'url' (http:// or https://): each write is POSTed as JSON lines, at most
    'sink.batch.max-rows' rows per request, retried 'sink.max-retries' times
    with exponential backoff.
``websocket``
    a server on 'hostname' (127.0.0.1 unless set) and 'port' ('0': a free
    port, in ``address``); every write goes to every connected client as one
    text message of JSON lines. A client whose queue of
    'sink.client-queue' messages is full misses messages, which are counted.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import orjson
import pandas as pd

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.sinks.base import BaseSink
from workbench.sinks.formatting import nested_default, python_column, text_column

logger = logging.getLogger(__name__)

_OPTION = orjson.OPT_NON_STR_KEYS


def json_rows(frame: pd.DataFrame, schema: Schema) -> list[bytes]:
    """Return each row of ``frame`` as a JSON object, without a line break."""
    names = schema.names
    columns = [python_column(frame[c.name], c.type, nested_as_text=False) for c in schema]
    return [
        orjson.dumps(dict(zip(names, row, strict=True)), default=nested_default, option=_OPTION)
        for row in zip(*columns, strict=True)
    ]


def _import(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        message = (
            f"this sink needs the Python package {package!r}, which is not installed: "
            f"pip install 'workbench[live]' ({error})"
        )
        raise SinkError(message) from error


class RedisStreamSink(BaseSink):
    """Appends each row to a Redis stream with XADD."""

    def __init__(
        self,
        name: str,
        url: str,
        stream: str,
        *,
        row_format: str = "json",
        field: str = "data",
        max_length: int | None = None,
    ) -> None:
        super().__init__(name)
        self.url = url
        self.stream = stream
        self.row_format = row_format
        self.field = field
        self.max_length = max_length
        self._client: Any = None
        self.errors = (OSError, ValueError, TypeError)

    def _open(self, schema: Schema) -> None:
        redis = _import("redis", "redis")
        self.errors = (OSError, ValueError, TypeError, redis.RedisError)
        self._client = redis.Redis.from_url(self.url)
        self._client.ping()
        logger.info("sink '%s': writing to %s stream '%s'", self.name, self.url, self.stream)

    def _write(self, frame: pd.DataFrame) -> None:
        pipe = self._client.pipeline(transaction=False)
        for fields in self._entries(frame):
            pipe.xadd(self.stream, fields, maxlen=self.max_length, approximate=True)
        pipe.execute()

    def _entries(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        if self.row_format == "json":
            return [{self.field: row} for row in json_rows(frame, self.schema)]
        columns = {
            column.name: text_column(frame[column.name], column.type).to_pylist()
            for column in self.schema
        }
        entries = []
        for index in range(len(frame)):
            entries.append(
                {
                    name: "" if values[index] is None else str(values[index])
                    for name, values in columns.items()
                }
            )
        return entries

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class MqttSink(BaseSink):
    """Publishes each row to an MQTT topic (paho-mqtt)."""

    def __init__(
        self, name: str, hostname: str, port: int, topic: str, *, qos: int = 1, client_id: str = ""
    ) -> None:
        super().__init__(name)
        self.hostname = hostname
        self.port = port
        self.topic = topic
        self.qos = qos
        self.client_id = client_id
        self._client: Any = None
        self._timeout = 30.0

    def _open(self, schema: Schema) -> None:
        paho = _import("paho.mqtt.client", "paho-mqtt")
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id)
        client.connect(self.hostname, self.port)
        client.loop_start()
        self._client = client
        logger.info(
            "sink '%s': publishing to mqtt://%s:%d topic '%s'",
            self.name,
            self.hostname,
            self.port,
            self.topic,
        )

    def _write(self, frame: pd.DataFrame) -> None:
        infos = [
            self._client.publish(self.topic, row, qos=self.qos)
            for row in json_rows(frame, self.schema)
        ]
        if self.qos == 0:
            return
        deadline = time.monotonic() + self._timeout
        for info in infos:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                message = (
                    f"sink '{self.name}': the broker at {self.hostname}:{self.port} did not "
                    f"acknowledge a message within {self._timeout:g} s (return code {info.rc})"
                )
                raise SinkError(message)

    def _close(self) -> None:
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()
            self._client = None


class KafkaSink(BaseSink):
    """Produces each row to a Kafka topic and waits for the acknowledgements of each write."""

    def __init__(self, name: str, topic: str, config: Mapping[str, str]) -> None:
        super().__init__(name)
        self.topic = topic
        self.config = dict(config)
        self._producer: Any = None
        self._failures: list[str] = []
        self._timeout = 30.0

    def _open(self, schema: Schema) -> None:
        kafka = _import("confluent_kafka", "confluent-kafka")
        self.errors = (OSError, ValueError, TypeError, BufferError, kafka.KafkaException)
        self._producer = kafka.Producer(self.config)
        logger.info(
            "sink '%s': producing to %s topic '%s'",
            self.name,
            self.config.get("bootstrap.servers"),
            self.topic,
        )

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self._failures.append(str(error))

    def _write(self, frame: pd.DataFrame) -> None:
        producer = self._producer
        for row in json_rows(frame, self.schema):
            producer.produce(self.topic, row, on_delivery=self._delivered)
            producer.poll(0)
        left = producer.flush(self._timeout)
        if left:
            message = (
                f"sink '{self.name}': {left} messages were not delivered within {self._timeout:g} s"
            )
            raise SinkError(message)
        if self._failures:
            failures, self._failures = self._failures, []
            message = f"sink '{self.name}': {len(failures)} messages failed: {failures[0]}"
            raise SinkError(message)

    def _close(self) -> None:
        if self._producer is not None:
            self._producer.flush(self._timeout)
            self._producer = None


class HttpSink(BaseSink):
    """POSTs rows as JSON lines to a URL, retrying failed requests with exponential backoff."""

    def __init__(
        self, name: str, url: str, *, batch_rows: int = 10_000, max_retries: int = 3
    ) -> None:
        super().__init__(name)
        self.url = url
        self.batch_rows = batch_rows
        self.max_retries = max_retries
        self.timeout = 30.0
        self.retry_delay = 0.1
        self.requests = 0

    def _write(self, frame: pd.DataFrame) -> None:
        rows = json_rows(frame, self.schema)
        for start in range(0, len(rows), self.batch_rows):
            body = b"\n".join(rows[start : start + self.batch_rows]) + b"\n"
            self._post(body)

    def _post(self, body: bytes) -> None:
        delay = self.retry_delay
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.url, data=body, method="POST")
            request.add_header("Content-Type", "application/x-ndjson")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                self.requests += 1
                return
            except urllib.error.HTTPError as error:
                problem = f"HTTP {error.code} {error.reason}"
                if error.code < 500 and error.code != 429:
                    message = f"sink '{self.name}': POST to {self.url} failed: {problem}"
                    raise SinkError(message) from error
            except (urllib.error.URLError, OSError) as error:
                problem = str(getattr(error, "reason", error))
            if attempt == self.max_retries:
                message = (
                    f"sink '{self.name}': POST to {self.url} failed after "
                    f"{self.max_retries + 1} attempts: {problem}"
                )
                raise SinkError(message)
            logger.warning(
                "sink '%s': POST to %s failed (%s); attempt %d in %.3f s",
                self.name,
                self.url,
                problem,
                attempt + 1,
                delay,
            )
            time.sleep(delay)
            delay *= 2


class WebSocketSink(BaseSink):
    """A WebSocket server that sends every write to each connected client."""

    def __init__(self, name: str, hostname: str, port: int, *, client_queue: int = 1_000) -> None:
        super().__init__(name)
        self.hostname = hostname
        self.port = port
        self.client_queue = client_queue
        self.address: tuple[str, int] | None = None
        self.messages_dropped = 0
        self._clients: dict[int, queue.Queue[bytes | None]] = {}
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    def _open(self, schema: Schema) -> None:
        self._closing.clear()
        sync_server = _import("websockets.sync.server", "websockets")
        self._server = sync_server.serve(self._serve, self.hostname, self.port)
        bound = self._server.socket.getsockname()
        self.address = (bound[0], bound[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"websocket sink {self.name}", daemon=True
        )
        self._thread.start()
        logger.info("sink '%s': serving ws://%s:%d", self.name, *self.address)

    def _serve(self, connection: Any) -> None:
        """Send queued messages to one client until it or the sink closes (a server thread)."""
        outbox: queue.Queue[bytes | None] = queue.Queue(self.client_queue)
        key = id(connection)
        with self._lock:
            self._clients[key] = outbox
        logger.info("sink '%s': client %s connected", self.name, connection.remote_address)
        try:
            while not self._closing.is_set():
                try:
                    message = outbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                if message is None:
                    break
                connection.send(message.decode())
        except Exception as error:  # a client that goes away ends only its own thread
            logger.info(
                "sink '%s': client %s left: %s", self.name, connection.remote_address, error
            )
        finally:
            with self._lock:
                self._clients.pop(key, None)

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def _write(self, frame: pd.DataFrame) -> None:
        message = b"\n".join(json_rows(frame, self.schema))
        with self._lock:
            outboxes = list(self._clients.values())
        for outbox in outboxes:
            try:
                outbox.put_nowait(message)
            except queue.Full:
                self.messages_dropped += 1
                if self.messages_dropped in (1, 1_000) or self.messages_dropped % 100_000 == 0:
                    logger.warning(
                        "sink '%s': a client is too slow; %d messages dropped so far",
                        self.name,
                        self.messages_dropped,
                    )

    def _close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


def default_client_id(name: str) -> str:
    return f"workbench-sink-{name}-{os.getpid()}"


# Options -----------------------------------------------------------------------------------

#: The options of each network sink connector ('connector' excluded).
NETWORK_SINK_OPTIONS: dict[str, frozenset[str]] = {
    "redis-stream": frozenset({"url", "stream", "format", "redis.field", "sink.max-length"}),
    "mqtt": frozenset({"hostname", "port", "topic", "qos", "client-id"}),
    "kafka": frozenset({"properties.bootstrap.servers", "topic"}),
    "http": frozenset({"url", "sink.batch.max-rows", "sink.max-retries"}),
    "websocket": frozenset({"hostname", "port", "sink.client-queue"}),
}
NETWORK_SINK_REQUIRED: dict[str, tuple[str, ...]] = {
    "redis-stream": ("stream",),
    "mqtt": ("topic",),
    "kafka": ("properties.bootstrap.servers", "topic"),
    "http": ("url",),
    "websocket": ("port",),
}
#: Option prefixes passed on to a client library.
NETWORK_SINK_PREFIXES: dict[str, tuple[str, ...]] = {"kafka": ("properties.",)}


def _whole_number(options: Mapping[str, str], key: str, default: int, minimum: int) -> int:
    text = options.get(key)
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        message = (
            f"invalid value {text!r} for option '{key}': use a whole number of at least {minimum}"
        )
        raise SinkError(message)
    return value


def _port(options: Mapping[str, str], default: int | None, *, allow_zero: bool) -> int:
    text = options.get("port")
    if text is None:
        if default is None:
            raise SinkError("missing option 'port'")
        return default
    port = _whole_number(options, "port", 0, 0 if allow_zero else 1)
    if port > 65_535:
        message = f"invalid value {text!r} for option 'port': use a port from 0 to 65535"
        raise SinkError(message)
    return port


def validate_network_sink(connector: str, options: Mapping[str, str]) -> None:
    """Raise SinkError unless the options of a network sink can be used."""
    if connector == "redis-stream":
        url = options.get("url", "redis://127.0.0.1:6379")
        if not url.startswith(("redis://", "rediss://", "unix://")):
            message = f"invalid value {url!r} for option 'url': use a URL starting with 'redis://'"
            raise SinkError(message)
        if options.get("format", "json") not in ("json", "fields"):
            message = (
                f"invalid value {options['format']!r} for option 'format': use 'json' or 'fields'"
            )
            raise SinkError(message)
        _whole_number(options, "sink.max-length", 0, 1)
    elif connector == "mqtt":
        _port(options, 1883, allow_zero=False)
        if options.get("qos", "1") not in ("0", "1", "2"):
            message = f"invalid value {options['qos']!r} for option 'qos': use 0, 1 or 2"
            raise SinkError(message)
    elif connector == "http":
        url = options["url"]
        if not url.startswith(("http://", "https://")):
            message = f"invalid value {url!r} for option 'url': use a URL starting with 'http://' or 'https://'"
            raise SinkError(message)
        _whole_number(options, "sink.batch.max-rows", 10_000, 1)
        _whole_number(options, "sink.max-retries", 3, 0)
    elif connector == "websocket":
        _port(options, None, allow_zero=True)
        _whole_number(options, "sink.client-queue", 1_000, 1)


def open_network_sink(name: str, options: Mapping[str, str]) -> BaseSink:
    """Return the network sink that ``options`` describe, not yet open."""
    connector = options["connector"]
    validate_network_sink(connector, options)
    if connector == "redis-stream":
        length = options.get("sink.max-length")
        return RedisStreamSink(
            name,
            options.get("url", "redis://127.0.0.1:6379"),
            options["stream"],
            row_format=options.get("format", "json"),
            field=options.get("redis.field", "data"),
            max_length=None if length is None else int(length),
        )
    if connector == "mqtt":
        return MqttSink(
            name,
            options.get("hostname", "127.0.0.1"),
            _port(options, 1883, allow_zero=False),
            options["topic"],
            qos=int(options.get("qos", "1")),
            client_id=options.get("client-id", default_client_id(name)),
        )
    if connector == "kafka":
        config = {
            key.removeprefix("properties."): value
            for key, value in options.items()
            if key.startswith("properties.")
        }
        return KafkaSink(name, options["topic"], config)
    if connector == "http":
        return HttpSink(
            name,
            options["url"],
            batch_rows=_whole_number(options, "sink.batch.max-rows", 10_000, 1),
            max_retries=_whole_number(options, "sink.max-retries", 3, 0),
        )
    hostname = options.get("hostname", "127.0.0.1")
    return WebSocketSink(
        name,
        hostname,
        _port(options, None, allow_zero=True),
        client_queue=_whole_number(options, "sink.client-queue", 1_000, 1),
    )
