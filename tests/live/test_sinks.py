"""Sinks for live use: Redis Streams, MQTT, Kafka, HTTP POST and a WebSocket server."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import paho.mqtt.client as paho
import pandas as pd
import pytest
import redis
from confluent_kafka import Consumer
from websockets.sync.client import connect

from tests.live.conftest import Server, free_port
from tests.live.support import (
    COLUMNS,
    WINDOW_SQL,
    expected_results,
    json_lines,
    known_events,
    wait_until,
)
from tests.live.test_websocket_kafka import kafka_cluster  # noqa: F401
from workbench import Session
from workbench.errors import SinkError, ValidationError

WINDOW_COLUMNS = (
    "window_start TIMESTAMP(3), window_end TIMESTAMP(3), host STRING, c BIGINT, total BIGINT"
)


def recorded_session(tmp_path: Path) -> tuple[Session, list[dict[str, object]]]:
    """Return a session with the known events in a JSON lines table 'recorded'."""
    events = known_events()
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(json_lines(events)) + b"\n")
    session = Session()
    session.sql(f"CREATE TABLE recorded ({COLUMNS}) WITH ('connector' = 'json', 'path' = '{path}')")
    return session, events


def expected_windows(tmp_path: Path, events: list[dict[str, object]]) -> pd.DataFrame:
    frame = expected_results(tmp_path, events)[0]
    for column in ("window_start", "window_end"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M:%S.000")
    return frame.sort_values(["window_start", "host"]).reset_index(drop=True)


def as_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)[["window_start", "window_end", "host", "c", "total"]]
    return frame.sort_values(["window_start", "host"]).reset_index(drop=True)


def test_redis_stream_sink(tmp_path: Path, redis_server: Server) -> None:
    session, events = recorded_session(tmp_path)
    session.sql(
        f"CREATE TABLE out ({WINDOW_COLUMNS}) WITH ('connector' = 'redis-stream', "
        f"'url' = '{redis_server.url}', 'stream' = 'windows')"
    )

    result = session.sql("INSERT INTO out " + WINDOW_SQL.format(table="recorded"))
    entries = redis.Redis(port=redis_server.port).xrange("windows")
    rows = [json.loads(fields[b"data"]) for _, fields in entries]

    assert result.status == "finished"
    pd.testing.assert_frame_equal(
        as_frame(rows), expected_windows(tmp_path, events), check_dtype=False
    )


def test_redis_stream_sink_fields(redis_server: Server) -> None:
    session = Session()
    session.from_pandas("ev", pd.DataFrame({"host": ["a", "b"], "n": [1, None]}))
    session.sql(
        "CREATE TABLE out (host STRING, n DOUBLE) WITH ('connector' = 'redis-stream', "
        f"'url' = '{redis_server.url}', 'stream' = 'rows', 'format' = 'fields', 'sink.max-length' = '1000')"
    )

    session.sql("INSERT INTO out SELECT host, n FROM ev")
    entries = redis.Redis(port=redis_server.port, decode_responses=True).xrange("rows")

    assert [fields for _, fields in entries] == [{"host": "a", "n": "1.0"}, {"host": "b", "n": ""}]


def test_mqtt_sink(tmp_path: Path, mosquitto: Server) -> None:
    received: queue.Queue[bytes] = queue.Queue()
    subscriber = paho.Client(paho.CallbackAPIVersion.VERSION2)
    subscriber.on_message = lambda client, userdata, message: received.put(message.payload)
    subscriber.connect("127.0.0.1", mosquitto.port)
    subscriber.subscribe("alerts/windows", qos=1)
    subscriber.loop_start()
    time.sleep(0.3)
    session, events = recorded_session(tmp_path)
    session.sql(
        f"CREATE TABLE out ({WINDOW_COLUMNS}) WITH ('connector' = 'mqtt', "
        f"'port' = '{mosquitto.port}', 'topic' = 'alerts/windows')"
    )

    session.sql("INSERT INTO out " + WINDOW_SQL.format(table="recorded"))
    expected = expected_windows(tmp_path, events)
    wait_until(lambda: received.qsize() == len(expected), what="every published row")
    subscriber.loop_stop()
    rows = [json.loads(received.get()) for _ in range(len(expected))]

    pd.testing.assert_frame_equal(as_frame(rows), expected, check_dtype=False)


def test_kafka_sink(tmp_path: Path, kafka_cluster: str) -> None:  # noqa: F811
    session, events = recorded_session(tmp_path)
    session.sql(
        f"CREATE TABLE out ({WINDOW_COLUMNS}) WITH ('connector' = 'kafka', "
        f"'properties.bootstrap.servers' = '{kafka_cluster}', 'topic' = 'windows', "
        "'properties.log_level' = '3')"
    )

    session.sql("INSERT INTO out " + WINDOW_SQL.format(table="recorded"))
    expected = expected_windows(tmp_path, events)
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_cluster,
            "group.id": "check",
            "auto.offset.reset": "earliest",
            "log_level": 3,
        }
    )
    consumer.subscribe(["windows"])
    rows: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while len(rows) < len(expected) and time.monotonic() < deadline:
        for message in consumer.consume(100, 0.5):
            if message.error() is None:
                rows.append(json.loads(message.value()))
    consumer.close()

    pd.testing.assert_frame_equal(as_frame(rows), expected, check_dtype=False)


class Collector(BaseHTTPRequestHandler):
    """Keeps POSTed bodies; answers 503 to the first ``failures`` requests."""

    bodies: ClassVar[list[bytes]] = []
    failures = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).failures > 0:
            type(self).failures -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).bodies.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def http_collector() -> Iterator[tuple[str, type[Collector]]]:
    handler = type("Handler", (Collector,), {"bodies": [], "failures": 1})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", handler
    server.shutdown()


def test_http_sink_batches_and_retries(
    tmp_path: Path, http_collector: tuple[str, type[Collector]]
) -> None:
    url, handler = http_collector
    session, events = recorded_session(tmp_path)
    session.sql(
        f"CREATE TABLE out ({WINDOW_COLUMNS}) WITH ('connector' = 'http', 'url' = '{url}', "
        "'sink.batch.max-rows' = '10')"
    )

    session.sql("INSERT INTO out " + WINDOW_SQL.format(table="recorded"))
    expected = expected_windows(tmp_path, events)
    rows = [json.loads(line) for body in handler.bodies for line in body.splitlines()]

    assert handler.failures == 0
    assert len(handler.bodies) >= -(-len(expected) // 10)
    assert max(len(body.splitlines()) for body in handler.bodies) <= 10
    pd.testing.assert_frame_equal(as_frame(rows), expected, check_dtype=False)


def test_http_sink_gives_up(tmp_path: Path) -> None:
    port = free_port()
    session, _ = recorded_session(tmp_path)
    session.sql(
        f"CREATE TABLE out ({WINDOW_COLUMNS}) WITH ('connector' = 'http', "
        f"'url' = 'http://127.0.0.1:{port}/', 'sink.max-retries' = '1')"
    )

    with pytest.raises(SinkError, match=r"failed after 2 attempts"):
        session.sql("INSERT INTO out " + WINDOW_SQL.format(table="recorded"))


def test_websocket_sink_sends_live_results() -> None:
    port = free_port()
    feed: queue.Queue[dict[str, object] | None] = queue.Queue()

    def items() -> Iterator[dict[str, object]]:
        while (item := feed.get()) is not None:
            yield item

    session = Session()
    session.from_iterable(
        "ev",
        items(),
        {"ts": "TIMESTAMP(3)", "host": "STRING", "outcome": "STRING", "bytes": "BIGINT"},
        rowtime="ts",
    )
    session.sql(
        f"CREATE TABLE out (host STRING, bytes BIGINT) WITH ('connector' = 'websocket', 'port' = '{port}')"
    )
    insert = session.sql("INSERT INTO out SELECT host, bytes FROM ev WHERE outcome = 'accepted'")
    assert insert.live_run is not None
    messages: list[str] = []
    with connect(f"ws://127.0.0.1:{port}/") as client:
        sink = insert.live_run.job.query_sinks[insert.name]
        wait_until(lambda: sink.clients == 1, what="the client")
        for event in known_events(50):
            feed.put(event)
        deadline = time.monotonic() + 30
        while (
            sum(len(message.splitlines()) for message in messages) < 10
            and time.monotonic() < deadline
        ):
            messages.append(str(client.recv(timeout=30)))
    feed.put(None)
    insert.wait(30)
    rows = [json.loads(line) for message in messages for line in message.splitlines()]

    assert len(rows) == 10
    assert rows[0] == {"host": "beta", "bytes": 148}
    assert insert.status == "finished"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("'connector' = 'http', 'url' = 'ftp://x'", "use a URL starting with 'http://'"),
        ("'connector' = 'mqtt', 'topic' = 't', 'qos' = '3'", "use 0, 1 or 2"),
        ("'connector' = 'websocket', 'port' = '0', 'sink.client-queue' = '0'", "at least 1"),
        ("'connector' = 'redis-stream', 'stream' = 's', 'format' = 'csv'", "unknown format 'csv'"),
    ],
)
def test_network_sink_invalid_options(options: str, message: str) -> None:
    session = Session()

    with pytest.raises(ValidationError, match=message):
        session.sql(f"CREATE TABLE out (a INT) WITH ({options})")


def test_http_sink_into_http_source(tmp_path: Path) -> None:
    receiving = Session()
    receiving.sql(
        f"CREATE TABLE windows_in ({WINDOW_COLUMNS}) WITH ('connector' = 'http', 'port' = '0')"
    )
    copied = receiving.sql("SELECT * FROM windows_in")
    run = receiving.start()
    host, port = run.address("windows_in")
    session, events = recorded_session(tmp_path)
    session.sql(
        f"CREATE TABLE out ({WINDOW_COLUMNS}) WITH ('connector' = 'http', "
        f"'url' = 'http://{host}:{port}/')"
    )

    session.sql("INSERT INTO out " + WINDOW_SQL.format(table="recorded"))
    expected = expected_results(tmp_path, events)[0]
    wait_until(lambda: len(copied.to_pandas()) == len(expected), what="every row")
    run.stop()

    pd.testing.assert_frame_equal(
        copied.to_pandas().sort_values(["window_start", "host"]).reset_index(drop=True),
        expected.sort_values(["window_start", "host"]).reset_index(drop=True),
        check_dtype=False,
    )


def test_websocket_sink_into_websocket_source() -> None:
    port = free_port()
    feed: queue.Queue[dict[str, object] | None] = queue.Queue()

    def items() -> Iterator[dict[str, object]]:
        while (item := feed.get()) is not None:
            yield item

    sending = Session()
    sending.from_iterable("ev", items(), {"host": "STRING", "bytes": "BIGINT"})
    sending.sql(
        f"CREATE TABLE out (host STRING, bytes BIGINT) WITH ('connector' = 'websocket', 'port' = '{port}')"
    )
    insert = sending.sql("INSERT INTO out SELECT host, bytes FROM ev")
    receiving = Session()
    receiving.sql(
        "CREATE TABLE rows_in (host STRING, bytes BIGINT) WITH ('connector' = 'websocket', "
        f"'url' = 'ws://127.0.0.1:{port}/')"
    )
    copied = receiving.sql("SELECT host, bytes FROM rows_in")
    run = receiving.start()
    assert insert.live_run is not None
    sink = insert.live_run.job.query_sinks[insert.name]
    wait_until(lambda: sink.clients == 1, what="the WebSocket source to connect")

    for index in range(100):
        feed.put({"host": f"h{index % 4}", "bytes": index})
    wait_until(lambda: len(copied.to_pandas()) == 100, what="every row")
    feed.put(None)
    insert.wait(30)
    run.stop()

    assert sorted(copied.to_pandas()["bytes"]) == list(range(100))
