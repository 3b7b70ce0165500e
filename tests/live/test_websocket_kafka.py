"""The WebSocket client source against a local server, and the Kafka source on librdkafka's mock cluster."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from websockets.asyncio.server import ServerConnection, serve

from tests.live.support import (
    assert_same_results,
    json_lines,
    known_events,
    live_queries,
    rows_received,
    wait_until,
)
from workbench import Session

# WebSocket ----------------------------------------------------------------------------------


class SendingServer:
    """A WebSocket server on 127.0.0.1 that sends one list of messages per connection, then closes."""

    def __init__(self, parts: list[list[bytes | str]]) -> None:
        self.parts = parts
        self.connections = 0
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> SendingServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _handle(self, socket: ServerConnection) -> None:
        index = self.connections
        self.connections += 1
        if index >= len(self.parts):
            await socket.wait_closed()
            return
        for message in self.parts[index]:
            await socket.send(message)
        await asyncio.sleep(0.1)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", 0, max_size=None) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()


def websocket_options(port: int, *extra: str) -> str:
    return ", ".join(
        [
            "'connector' = 'websocket'",
            f"'url' = 'ws://127.0.0.1:{port}/feed'",
            "'reconnect.initial-delay' = '50 ms'",
            "'reconnect.max-delay' = '200 ms'",
            *extra,
        ]
    )


def test_websocket_reconnects_and_matches_file_replay(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = known_events()
    lines = json_lines(events)
    # The first connection sends single records, the second JSON lines in text messages.
    first: list[bytes | str] = list(lines[:300])
    second: list[bytes | str] = [
        b"\n".join(lines[start : start + 50]).decode() for start in range(300, len(lines), 50)
    ]
    with SendingServer([first, second]) as server:
        session = Session()
        windows, matches = live_queries(session, "ev", websocket_options(server.port))
        with caplog.at_level(logging.WARNING, logger="workbench.sources.live"):
            run = session.start()
            wait_until(lambda: rows_received(run, "ev") == len(events), what="every record")
            run.stop(drain=True)
    metrics = run.source_metrics().iloc[0]

    assert metrics["connections"] >= 2
    assert metrics["reconnect_attempts"] >= 1
    assert metrics["gaps"] >= 1
    assert any("attempt 1 in 0.050 s" in record.getMessage() for record in caplog.records)
    assert_same_results(tmp_path, events, windows, matches)


def test_websocket_garbage_and_oversized(caplog: pytest.LogCaptureFixture) -> None:
    good = json_lines(known_events(10))
    first: list[bytes | str] = [*good[:5], b"{bad", "x" * 5_000]
    second: list[bytes | str] = list(good[5:])
    with SendingServer([first, second]) as server:
        session = Session()
        options = websocket_options(server.port, "'scan.message.max-bytes' = '1000'")
        windows, _ = live_queries(session, "ev", options)
        run = session.start()
        wait_until(lambda: rows_received(run, "ev") == 12, what="every message")
        run.stop(drain=True)
    rejected = windows.rejected_rows()
    url = f"ws://127.0.0.1:{server.port}/feed"

    assert windows.to_pandas()["c"].sum() == 10
    assert len(rejected) == 2
    reasons = sorted(rejected["reason"])
    assert reasons[0].startswith(f"from {url}: invalid JSON")
    assert reasons[1].startswith(f"from {url}: message longer than 'scan.message.max-bytes'")
    assert "code 1009" in reasons[1]


def test_websocket_invalid_url() -> None:
    session = Session()

    with pytest.raises(Exception, match="use a URL starting with 'ws://' or 'wss://'"):
        session.sql("CREATE TABLE ev (a INT) WITH ('connector' = 'websocket', 'url' = 'http://x')")


# Kafka (librdkafka's mock cluster) ---------------------------------------------------------


@pytest.fixture
def kafka_cluster() -> Iterator[str]:
    """Return the bootstrap address of a mock Kafka cluster on 127.0.0.1."""
    owner = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    brokers = owner.list_topics(timeout=10).brokers
    broker = next(iter(brokers.values()))
    yield f"{broker.host}:{broker.port}"
    owner.flush(5)


def produce(bootstrap: str, topic: str, payloads: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "log_level": 3})
    for payload in payloads:
        producer.produce(topic, payload, partition=0)
    assert producer.flush(30) == 0


def kafka_options(bootstrap: str, *extra: str) -> str:
    return ", ".join(
        [
            "'connector' = 'kafka'",
            f"'properties.bootstrap.servers' = '{bootstrap}'",
            "'topic' = 'auth'",
            "'scan.startup.mode' = 'earliest-offset'",
            "'properties.log_level' = '3'",
            *extra,
        ]
    )


def test_kafka_matches_file_replay_and_commits(tmp_path: Path, kafka_cluster: str) -> None:
    events = known_events()
    produce(kafka_cluster, "auth", json_lines(events))
    session = Session()
    windows, matches = live_queries(session, "ev", kafka_options(kafka_cluster))

    run = session.start()
    wait_until(lambda: rows_received(run, "ev") == len(events), what="every message")
    wait_until(lambda: run.source_metrics()["acknowledged"].iloc[0] == len(events), what="commits")
    run.stop(drain=True)
    probe = Consumer({"bootstrap.servers": kafka_cluster, "group.id": "workbench", "log_level": 3})
    committed = probe.committed([TopicPartition("auth", 0)], timeout=10)
    probe.close()

    assert committed[0].offset == len(events)
    assert_same_results(tmp_path, events, windows, matches)


def test_kafka_resumes_after_committed_offset(kafka_cluster: str) -> None:
    payloads = json_lines(known_events(100))
    produce(kafka_cluster, "auth", payloads[:60])
    session = Session()
    # The mock cluster moves partitions to a new member only after the old member's
    # session times out, even when the old member left, so the timeout is short.
    options = kafka_options(
        kafka_cluster,
        "'properties.session.timeout.ms' = '6000'",
        "'properties.heartbeat.interval.ms' = '500'",
    ).replace("earliest-offset", "group-offsets")
    first = session.sql(
        f"CREATE TABLE ev (ts TIMESTAMP(3), host STRING, bytes BIGINT) WITH ({options})"
    )
    first = session.sql("SELECT host, bytes FROM ev")
    run = session.start()
    wait_until(lambda: run.source_metrics()["acknowledged"].iloc[0] == 60, what="the first commits")
    run.stop()
    produce(kafka_cluster, "auth", payloads[60:])
    second = session.sql("SELECT host, bytes FROM ev")
    run = session.start([second])
    wait_until(lambda: rows_received(run, "ev") == 40, what="the new messages")
    run.stop()

    assert len(first.to_pandas()) == 60
    assert len(second.to_pandas()) == 40


def test_kafka_garbage_rejected_with_offset(kafka_cluster: str) -> None:
    good = json_lines(known_events(10))
    produce(kafka_cluster, "auth", [*good[:5], b"{oops", *good[5:]])
    session = Session()
    windows, _ = live_queries(session, "ev", kafka_options(kafka_cluster))

    run = session.start()
    wait_until(lambda: rows_received(run, "ev") == 11, what="every message")
    run.stop(drain=True)
    rejected = windows.rejected_rows()

    assert windows.to_pandas()["c"].sum() == 10
    assert len(rejected) == 1
    assert (
        f"from kafka://{kafka_cluster} topic auth (auth[0] offset 5): invalid JSON"
        in rejected["reason"][0]
    )


def test_kafka_unknown_property_prefix_passes() -> None:
    session = Session()

    session.sql(
        "CREATE TABLE ev (a INT) WITH ('connector' = 'kafka', 'topic' = 't', "
        "'properties.bootstrap.servers' = '127.0.0.1:1', 'properties.fetch.min.bytes' = '1')"
    )

    assert session.catalog.lookup("ev") is not None


def test_websocket_flood_slows_server() -> None:
    lines = json_lines(known_events(5_000))
    with SendingServer([list(lines)]) as server:
        session = Session()
        session.register_function("slow", _slow_identity, "BIGINT")
        options = websocket_options(
            server.port, "'scan.batch.max-rows' = '100'", "'scan.backlog.max-rows' = '200'"
        )
        session.sql(
            f"CREATE TABLE ev (ts TIMESTAMP(3), host STRING, bytes BIGINT) WITH ({options})"
        )
        query = session.sql("SELECT host, slow(bytes) AS b FROM ev")
        run = session.start()
        wait_until(lambda: rows_received(run, "ev") == len(lines), what="every message")
        run.stop()
    metrics = run.source_metrics().iloc[0]

    assert metrics["backlog_peak"] <= 200
    assert metrics["dropped"] == 0
    assert len(query.to_pandas()) == len(lines)


def _slow_identity(values: object) -> object:
    time.sleep(0.005)
    return values
