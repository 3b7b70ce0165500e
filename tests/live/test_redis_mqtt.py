"""The Redis Streams and MQTT sources against real servers started by the fixtures."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import redis

from tests.live.conftest import Server
from tests.live.support import (
    assert_same_results,
    json_lines,
    known_events,
    live_queries,
    rows_received,
    wait_until,
)
from workbench import Session
from workbench.live import LiveRun

# Redis Streams ----------------------------------------------------------------------------


def add_entries(
    server: Server, stream: str, events: list[dict[str, object]], *, as_json: bool = False
) -> None:
    client = redis.Redis(port=server.port)
    with client.pipeline() as pipe:
        for event in events:
            fields = (
                {"data": json.dumps(event)} if as_json else {k: str(v) for k, v in event.items()}
            )
            pipe.xadd(stream, fields)  # type: ignore[arg-type]
        pipe.execute()
    client.close()


def redis_options(server: Server, *extra: str) -> str:
    return ", ".join(
        [
            "'connector' = 'redis-stream'",
            f"'url' = '{server.url}'",
            "'stream' = 'events'",
            "'reconnect.initial-delay' = '50 ms'",
            "'reconnect.max-delay' = '500 ms'",
            *extra,
        ]
    )


def test_redis_fields_match_file_replay(tmp_path: Path, redis_server: Server) -> None:
    events = known_events()
    add_entries(redis_server, "events", events)
    session = Session()
    windows, matches = live_queries(session, "ev", redis_options(redis_server))

    run = session.start()
    wait_until(lambda: rows_received(run, "ev") == len(events), what="every entry")
    run.stop(drain=True)
    pending = redis.Redis(port=redis_server.port).xpending("events", "workbench")

    assert pending["pending"] == 0
    assert run.source_metrics()["acknowledged"].iloc[0] == len(events)
    assert_same_results(tmp_path, events, windows, matches)


def test_redis_json_garbage_rejected_and_acknowledged(redis_server: Server) -> None:
    client = redis.Redis(port=redis_server.port)
    good = known_events(10)
    for event in good[:5]:
        client.xadd("events", {"data": json.dumps(event)})
    bad_id = client.xadd("events", {"data": "{nope"}).decode()
    missing_id = client.xadd("events", {"other": "1"}).decode()
    for event in good[5:]:
        client.xadd("events", {"data": json.dumps(event)})
    session = Session()
    windows, _ = live_queries(session, "ev", redis_options(redis_server, "'format' = 'json'"))

    run = session.start()
    wait_until(lambda: rows_received(run, "ev") == 12, what="every entry")
    wait_until(
        lambda: client.xpending("events", "workbench")["pending"] == 0, what="acknowledgements"
    )
    run.stop(drain=True)
    rejected = windows.rejected_rows()

    assert windows.to_pandas()["c"].sum() == 10
    assert len(rejected) == 2
    reasons = " ".join(rejected["reason"])
    assert f"from {redis_server.url} stream 'events' (entry {bad_id}): invalid JSON" in reasons
    assert f"(entry {missing_id}): the entry has no field 'data'" in reasons


def test_redis_pending_entries_read_again(redis_server: Server) -> None:
    client = redis.Redis(port=redis_server.port)
    events = known_events(20)
    client.xgroup_create("events", "workbench", id="0", mkstream=True)
    for event in events:
        client.xadd("events", {k: str(v) for k, v in event.items()})
    # Another run of the same consumer read ten entries and stopped before acknowledging.
    client.xreadgroup("workbench", "worker", {"events": ">"}, count=10)
    session = Session()
    query = session.sql(
        "CREATE TABLE ev (ts TIMESTAMP(3), host STRING, bytes BIGINT) WITH ("
        + redis_options(redis_server, "'consumer' = 'worker'")
        + ")"
    )
    query = session.sql("SELECT host, bytes FROM ev")

    run = session.start()
    wait_until(lambda: rows_received(run, "ev") == 20, what="every entry")
    run.stop()

    assert len(query.to_pandas()) == 20
    assert client.xpending("events", "workbench")["pending"] == 0


def test_redis_restart_reconnects(
    tmp_path: Path, redis_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    events = known_events()
    session = Session()
    windows, matches = live_queries(session, "ev", redis_options(redis_server))
    with caplog.at_level(logging.WARNING, logger="workbench.sources.live"):
        run = session.start()
        add_entries(redis_server, "events", events[:300])
        wait_until(lambda: rows_received(run, "ev") == 300, what="the first half")
        wait_until(lambda: run.source_metrics()["acknowledged"].iloc[0] == 300, what="acks")
        redis_server.stop()
        wait_until(
            lambda: run.source_metrics()["reconnect_attempts"].iloc[0] >= 2,
            what="reconnection attempts",
        )
        redis_server.start()
        add_entries(redis_server, "events", events[300:])
        wait_until(lambda: rows_received(run, "ev") == len(events), what="the second half")
        run.stop(drain=True)
    metrics = run.source_metrics().iloc[0]
    attempts = [
        record.getMessage() for record in caplog.records if "attempt" in record.getMessage()
    ]

    assert metrics["gaps"] == 1
    assert metrics["gap_seconds"] > 0
    assert len(attempts) == metrics["reconnect_attempts"]
    assert "attempt 1 in 0.050 s" in attempts[0]
    assert "attempt 2 in 0.100 s" in attempts[1]
    assert_same_results(tmp_path, events, windows, matches)


def test_redis_backlog_bounds_reading(redis_server: Server) -> None:
    add_entries(redis_server, "events", known_events(3_000))
    session = Session()
    options = redis_options(
        redis_server, "'scan.batch.max-rows' = '100'", "'scan.backlog.max-rows' = '200'"
    )
    windows, _ = live_queries(session, "ev", options)

    run = session.start()
    wait_until(lambda: rows_received(run, "ev") == 3_000, what="every entry")
    run.stop(drain=True)

    assert run.source_metrics()["backlog_peak"].iloc[0] <= 200
    assert windows.to_pandas()["c"].sum() == 3_000


# MQTT ---------------------------------------------------------------------------------------


def publish(server: Server, topic: str, payloads: list[bytes], qos: int = 1) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="")
    client.connect("127.0.0.1", server.port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=qos) for payload in payloads]
    for info in infos:
        info.wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def mqtt_options(server: Server, topic: str, *extra: str) -> str:
    return ", ".join(
        [
            "'connector' = 'mqtt'",
            f"'port' = '{server.port}'",
            f"'topic' = '{topic}'",
            "'reconnect.initial-delay' = '50 ms'",
            "'reconnect.max-delay' = '500 ms'",
            *extra,
        ]
    )


def test_mqtt_wildcard_matches_file_replay(tmp_path: Path, mosquitto: Server) -> None:
    events = known_events()
    session = Session()
    windows, matches = live_queries(session, "ev", mqtt_options(mosquitto, "sensors/+/auth"))

    run = session.start()
    wait_until(
        lambda: run.source_metrics()["connections_open"].iloc[0] == 1, what="the subscription"
    )
    publish(mosquitto, "sensors/gate/auth", json_lines(events))
    publish(mosquitto, "sensors/gate/other", [b"not for us"])
    wait_until(lambda: rows_received(run, "ev") == len(events), what="every message")
    run.stop(drain=True)

    assert run.source_metrics()["messages"].iloc[0] == len(events)
    assert_same_results(tmp_path, events, windows, matches)


def test_mqtt_topic_column_and_garbage(mosquitto: Server) -> None:
    session = Session()
    session.sql(
        "CREATE TABLE ev (topic STRING, host STRING, bytes BIGINT) WITH ("
        + mqtt_options(mosquitto, "site/#", "'mqtt.topic-column' = 'topic'")
        + ")"
    )
    query = session.sql("SELECT topic, host, bytes FROM ev")

    run = session.start()
    wait_until(
        lambda: run.source_metrics()["connections_open"].iloc[0] == 1, what="the subscription"
    )
    publish(mosquitto, "site/a", [b'{"host": "alpha", "bytes": 1}', b"garbage"])
    publish(mosquitto, "site/b/c", [b'{"host": "beta", "bytes": 2}'])
    wait_until(lambda: rows_received(run, "ev") == 3, what="three messages")
    run.stop()
    frame = query.to_pandas()
    rejected = query.rejected_rows()

    assert sorted(frame["topic"]) == ["site/a", "site/b/c"]
    assert len(rejected) == 1
    assert rejected["reason"][0].startswith(
        f"from mqtt://127.0.0.1:{mosquitto.port} (topic site/a): invalid JSON"
    )


def test_mqtt_broker_restart_reconnects(
    tmp_path: Path, mosquitto: Server, caplog: pytest.LogCaptureFixture
) -> None:
    events = known_events()
    lines = json_lines(events)
    session = Session()
    windows, matches = live_queries(session, "ev", mqtt_options(mosquitto, "auth"))
    with caplog.at_level(logging.WARNING, logger="workbench.sources.live"):
        run = session.start()
        wait_until(
            lambda: run.source_metrics()["connections_open"].iloc[0] == 1, what="the subscription"
        )
        publish(mosquitto, "auth", lines[:300])
        wait_until(lambda: rows_received(run, "ev") == 300, what="the first half")
        mosquitto.stop()
        wait_until(
            lambda: run.source_metrics()["reconnect_attempts"].iloc[0] >= 1,
            what="reconnection attempts",
        )
        mosquitto.start()
        wait_until(
            lambda: run.source_metrics()["connections_open"].iloc[0] == 1,
            what="the new subscription",
        )
        publish(mosquitto, "auth", lines[300:])
        wait_until(lambda: rows_received(run, "ev") == len(events), what="the second half")
        run.stop(drain=True)
    metrics = run.source_metrics().iloc[0]

    assert metrics["gaps"] == 1
    assert metrics["connections"] == 2
    assert any("attempt 1" in record.getMessage() for record in caplog.records)
    assert_same_results(tmp_path, events, windows, matches)


def test_mqtt_flood_stays_bounded(mosquitto: Server) -> None:
    session = Session()
    session.register_function("slow", _slow_identity, "BIGINT")
    options = mqtt_options(
        mosquitto, "flood", "'scan.batch.max-rows' = '20'", "'scan.backlog.max-rows' = '50'"
    )
    session.sql(f"CREATE TABLE ev (host STRING, bytes BIGINT) WITH ({options})")
    query = session.sql("SELECT host, slow(bytes) AS b FROM ev")
    run = session.start()
    wait_until(
        lambda: run.source_metrics()["connections_open"].iloc[0] == 1, what="the subscription"
    )
    payloads = json_lines(known_events(2_000))

    publish(mosquitto, "flood", payloads, qos=0)
    # The broker may drop QoS 0 messages for a slow client too; those never arrive.
    wait_until(lambda: _settled(run), what="the messages to stop arriving")
    run.stop()
    metrics = run.source_metrics().iloc[0]

    assert metrics["backlog_peak"] <= 50
    assert metrics["rows"] + metrics["dropped"] == metrics["messages"]
    assert metrics["messages"] <= len(payloads)
    assert len(query.to_pandas()) == metrics["rows"]


def _settled(run: LiveRun) -> bool:
    """Return whether the backlog is empty and no message arrived for half a second."""
    before = run.source_metrics()["messages"].iloc[0]
    time.sleep(0.5)
    metrics = run.source_metrics().iloc[0]
    return bool(metrics["messages"] == before and metrics["backlog"] == 0)


def _slow_identity(values: object) -> object:
    time.sleep(0.02)
    return values
