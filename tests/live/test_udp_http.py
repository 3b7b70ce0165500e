"""The UDP and HTTP ingest sources against files replayed with the same events."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

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

# UDP ------------------------------------------------------------------------------------


def send_datagrams(
    address: tuple[str, int], payloads: list[bytes], *, pause_every: int = 50
) -> str:
    """Send each payload as one datagram; return the sender's address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        for index, payload in enumerate(payloads):
            sock.sendto(payload, address)
            if pause_every and index % pause_every == pause_every - 1:
                time.sleep(0.002)
        return "{}:{}".format(*sock.getsockname())


def test_udp_matches_file_replay(tmp_path: Path) -> None:
    session = Session()
    events = known_events()
    windows, matches = live_queries(session, "ev", "'connector' = 'udp', 'port' = '0'")
    run = session.start()

    send_datagrams(run.address("ev"), json_lines(events))
    wait_until(lambda: rows_received(run, "ev") == len(events), what="every datagram")
    run.stop(drain=True)

    assert run.address("ev")[0] == "127.0.0.1"
    assert_same_results(tmp_path, events, windows, matches)


def test_udp_garbage_and_oversized_rejected() -> None:
    session = Session()
    options = "'connector' = 'udp', 'port' = '0', 'scan.message.max-bytes' = '300'"
    windows, _ = live_queries(session, "ev", options)
    run = session.start()
    good = json_lines(known_events(20))

    sender = send_datagrams(run.address("ev"), [*good[:10], b"{oops", b"x" * 1_000, *good[10:]])
    wait_until(lambda: rows_received(run, "ev") == 22, what="every datagram")
    run.stop(drain=True)
    rejected = windows.rejected_rows()

    assert len(rejected) == 2
    assert set(rejected["line"]) == {11, 12}
    assert all(reason.startswith(f"from {sender}: ") for reason in rejected["reason"])
    assert any("invalid JSON" in reason for reason in rejected["reason"])
    assert any("1000 bytes is longer" in reason for reason in rejected["reason"])
    assert windows.to_pandas()["c"].sum() == 20


def test_udp_flood_counts_drops() -> None:
    session = Session()
    options = (
        "'connector' = 'udp', 'port' = '0', 'scan.batch.max-rows' = '50', "
        "'scan.backlog.max-rows' = '100', 'udp.receive-buffer-bytes' = '65536'"
    )
    session.register_function("slow", _slow_identity, "BIGINT")
    session.sql(
        "CREATE TABLE ev (ts TIMESTAMP(3), host STRING, outcome STRING, bytes BIGINT) "
        f"WITH ({options})"
    )
    query = session.sql("SELECT host, slow(bytes) AS b FROM ev")
    run = session.start()
    payloads = json_lines(known_events(5_000))

    send_datagrams(run.address("ev"), payloads, pause_every=0)
    wait_until(lambda: _accounted(run) == len(payloads), what="every datagram delivered or dropped")
    run.stop()
    metrics = run.source_metrics().iloc[0]
    connection = run.connections().iloc[0]

    assert metrics["dropped"] + metrics["dropped_by_kernel"] > 0
    assert metrics["backlog_peak"] <= 100
    assert connection["dropped"] == metrics["dropped"]
    assert len(query.to_pandas()) == metrics["rows"]


def _accounted(run: LiveRun) -> int:
    metrics = run.source_metrics().iloc[0]
    return int(metrics["rows"] + metrics["dropped"] + metrics["dropped_by_kernel"])


def _slow_identity(values: object) -> object:
    time.sleep(0.01)
    return values


def test_udp_raw_syslog_lines() -> None:
    session = Session()
    session.sql(
        "CREATE TABLE logs (line STRING) WITH ('connector' = 'udp', 'port' = '0', 'format' = 'raw')"
    )
    query = session.sql("SELECT line FROM logs WHERE line LIKE '%sshd%'")
    run = session.start()
    lines = [
        b"<38>Dec  4 10:00:01 host sshd[42]: Failed password for root from 10.0.0.1 port 22 ssh2",
        b"<30>Dec  4 10:00:02 host cron[7]: job done",
        b"<38>Dec  4 10:00:03 host sshd[42]: Accepted password for bob from 10.0.0.2 port 22 ssh2\n",
    ]

    send_datagrams(run.address("logs"), lines)
    wait_until(lambda: rows_received(run, "logs") == 3, what="three datagrams")
    run.stop()
    frame = query.to_pandas()

    assert len(frame) == 2
    assert frame["line"][1].endswith("ssh2")


# HTTP -----------------------------------------------------------------------------------


def post(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/x-ndjson")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_http_matches_file_replay(tmp_path: Path) -> None:
    session = Session()
    events = known_events()
    windows, matches = live_queries(
        session, "ev", "'connector' = 'http', 'port' = '0', 'path' = '/ingest'"
    )
    run = session.start()
    host, port = run.address("ev")
    lines = json_lines(events)
    replies = []

    for start in range(0, len(lines), 100):
        replies.append(post(f"http://{host}:{port}/ingest", b"\n".join(lines[start : start + 100])))
    wait_until(lambda: rows_received(run, "ev") == len(events), what="every line")
    run.stop(drain=True)

    assert host == "127.0.0.1"
    assert [status for status, _ in replies] == [202] * 6
    assert replies[0][1] == {"received": 100, "rejected": 0}
    assert_same_results(tmp_path, events, windows, matches)


def test_http_garbage_array_and_limits() -> None:
    session = Session()
    options = (
        "'connector' = 'http', 'port' = '0', 'scan.message.max-bytes' = '500', "
        "'http.max-request-bytes' = '10000'"
    )
    windows, _ = live_queries(session, "ev", options)
    run = session.start()
    url = "http://{}:{}/".format(*run.address("ev"))
    good = json_lines(known_events(20))

    garbage = post(url, b"\n".join([*good[:10], b"{broken", b"y" * 600]))
    array = post(url, b"[" + b",".join(good[10:]) + b", 7]")
    too_big = post(url, b"z" * 20_000)
    wrong_path = post(url + "other", good[0])
    wait_until(lambda: rows_received(run, "ev") == 24, what="every line")
    run.stop(drain=True)
    rejected = windows.rejected_rows()

    assert garbage == (202, {"received": 11, "rejected": 1})
    assert array == (202, {"received": 11, "rejected": 0})
    assert too_big[0] == 413
    assert wrong_path[0] == 404
    assert windows.to_pandas()["c"].sum() == 20
    assert len(rejected) == 4
    assert all(reason.startswith("from 127.0.0.1:") for reason in rejected["reason"])
    reasons = " ".join(rejected["reason"])
    assert "invalid JSON" in reasons
    assert "600 bytes is longer" in reasons
    assert "expected a JSON object, found int" in reasons
    assert "'http.max-request-bytes' (10000)" in reasons


def test_http_backpressure_delays_replies() -> None:
    session = Session()
    options = (
        "'connector' = 'http', 'port' = '0', 'scan.batch.max-rows' = '100', "
        "'scan.backlog.max-rows' = '200'"
    )
    session.register_function("slow", _slow_identity, "BIGINT")
    session.sql(
        "CREATE TABLE ev (ts TIMESTAMP(3), host STRING, outcome STRING, bytes BIGINT) "
        f"WITH ({options})"
    )
    query = session.sql("SELECT host, slow(bytes) AS b FROM ev")
    run = session.start()
    url = "http://{}:{}/".format(*run.address("ev"))
    body = b"\n".join(json_lines(known_events(3_000)))
    replies: list[tuple[int, dict[str, object]]] = []

    started = time.monotonic()
    thread = threading.Thread(target=lambda: replies.append(post(url, body)))
    thread.start()
    thread.join(60)
    waited = time.monotonic() - started
    wait_until(lambda: rows_received(run, "ev") == 3_000, what="every line")
    run.stop()
    metrics = run.source_metrics().iloc[0]

    assert replies == [(202, {"received": 3_000, "rejected": 0})]
    assert metrics["backlog_peak"] <= 200
    assert len(query.to_pandas()) == 3_000
    # 28 batches wait for the slow query before the reply can be sent.
    assert waited > 0.2


def test_udp_syslog_matches_file_connector(tmp_path: Path) -> None:
    lines = [
        b"<38>Dec  4 10:00:01 gate sshd[42]: Failed password for root from 10.0.0.1 port 22 ssh2",
        b"<30>Dec  4 10:00:02 gate cron[7]: job done",
        b"not syslog at all",
        b"<34>1 2026-12-04T10:00:03.250Z gate su - ID47 - 'su root' failed on /dev/pts/8",
        b"<38>Dec  4 10:00:04 gate sshd[42]: Accepted password for bob from 10.0.0.2 port 22 ssh2",
    ]
    path = tmp_path / "syslog.log"
    path.write_bytes(b"\n".join(lines) + b"\n")
    options = "'syslog.year' = '2026', 'format' = 'auth'"
    recorded = Session()
    recorded.sql(f"CREATE TABLE logs WITH ('connector' = 'syslog', 'path' = '{path}', {options})")
    expected = recorded.sql("SELECT * FROM logs").to_pandas()
    session = Session()
    session.sql(f"CREATE TABLE logs WITH ('connector' = 'udp', 'port' = '0', {options})")
    query = session.sql("SELECT * FROM logs")
    run = session.start()

    sender = send_datagrams(run.address("logs"), lines)
    wait_until(lambda: rows_received(run, "logs") == 5, what="every datagram")
    run.stop(drain=True)
    rejected = query.rejected_rows()

    pd.testing.assert_frame_equal(query.to_pandas(), expected)
    assert list(expected["outcome"][[0, 3]]) == ["failed", "accepted"]
    assert len(rejected) == 1
    assert rejected["line"][0] == 3
    assert rejected["reason"][0].startswith(f"from {sender}: ")
    assert rejected["raw"][0] == "not syslog at all"
