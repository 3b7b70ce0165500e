"""The TCP source, as a server and as a client, against files replayed with the same events."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.live.support import (
    assert_same_results,
    json_lines,
    known_events,
    live_queries,
    rows_received,
    wait_until,
)
from workbench import Session
from workbench.errors import ValidationError


def send_lines(address: tuple[str, int], lines: list[bytes], *, chunk: int = 50) -> None:
    with socket.create_connection(address) as sock:
        for start in range(0, len(lines), chunk):
            sock.sendall(b"".join(line + b"\n" for line in lines[start : start + chunk]))


def test_tcp_server_matches_file_replay(tmp_path: Path) -> None:
    session = Session()
    events = known_events()
    windows, matches = live_queries(session, "ev", "'connector' = 'tcp', 'port' = '0'")
    run = session.start()
    address = run.address("ev")

    send_lines(address, json_lines(events))
    wait_until(lambda: rows_received(run, "ev") == len(events), what="all events")
    run.stop(drain=True)

    assert address[0] == "127.0.0.1"
    assert windows.status == "finished"
    assert_same_results(tmp_path, events, windows, matches)


def test_tcp_rows_so_far_while_running() -> None:
    session = Session()
    events = known_events(200)
    windows, _ = live_queries(session, "ev", "'connector' = 'tcp', 'port' = '0'")
    windows.start()
    run = windows.live_run
    assert run is not None

    send_lines(run.address("ev"), json_lines(events))
    wait_until(lambda: len(windows.to_pandas()) > 0, what="the first windows")
    so_far = len(windows.to_pandas())
    windows.stop()

    assert windows.status == "stopped"
    assert so_far > 0
    # Without drain, the last open windows are discarded.
    assert len(windows.to_pandas()) < 3 * 6


def test_unstarted_live_query_raises() -> None:
    session = Session()
    windows, _ = live_queries(session, "ev", "'connector' = 'tcp', 'port' = '0'")

    with pytest.raises(ValidationError, match=r"reads the live table 'ev'") as raised:
        windows.to_pandas()

    assert "result.start()" in (raised.value.hint or "")
    assert windows.status == "planned"


def test_tcp_garbage_rejected_with_peer() -> None:
    session = Session()
    windows, _ = live_queries(session, "ev", "'connector' = 'tcp', 'port' = '0'")
    run = session.start()
    good = json_lines(known_events(30))
    lines = [
        *good[:10],
        b"not json at all",
        b"[1, 2, 3]",
        b'{"ts": 1700000002600, "host": "alpha", "outcome": "failed", "bytes": "many"}',
        *good[10:],
    ]

    with socket.create_connection(run.address("ev")) as sock:
        sock.sendall(b"".join(line + b"\n" for line in lines))
        peer = "{}:{}".format(*sock.getsockname())
    wait_until(lambda: rows_received(run, "ev") == len(lines), what="every line")
    run.stop(drain=True)
    rejected = windows.rejected_rows()

    assert len(rejected) == 3
    assert list(rejected["line"]) == [11, 12, 13]
    assert all(reason.startswith(f"from {peer}: ") for reason in rejected["reason"])
    assert "invalid JSON" in rejected["reason"][0]
    assert "expected a JSON object" in rejected["reason"][1]
    assert "column 'bytes'" in rejected["reason"][2]
    assert rejected["raw"][0] == "not json at all"
    assert windows.to_pandas()["c"].sum() == 30


def test_tcp_peer_disconnects_mid_line(tmp_path: Path) -> None:
    session = Session()
    events = known_events(100)
    windows, matches = live_queries(session, "ev", "'connector' = 'tcp', 'port' = '0'")
    run = session.start()
    lines = json_lines(events)

    with socket.create_connection(run.address("ev")) as sock:
        sock.sendall(b"".join(line + b"\n" for line in lines[:60]) + lines[60][:20])
    wait_until(lambda: rows_received(run, "ev") == 61, what="the first 60 lines and the cut one")
    send_lines(run.address("ev"), lines[60:])
    wait_until(lambda: rows_received(run, "ev") == 101, what="the rest")
    run.stop(drain=True)
    rejected = windows.rejected_rows()
    connections = windows.connections()

    assert len(rejected) == 1
    assert rejected["line"][0] == 61
    assert "invalid JSON" in rejected["reason"][0]
    assert len(connections) == 2
    assert sorted(connections["messages"]) == [40, 61]
    assert connections["closed"].notna().all()
    assert_same_results(tmp_path, events, windows, matches)


def test_tcp_oversized_line_skipped() -> None:
    session = Session()
    options = "'connector' = 'tcp', 'port' = '0', 'scan.message.max-bytes' = '200'"
    windows, _ = live_queries(session, "ev", options)
    run = session.start()
    good = json_lines(known_events(20))
    huge = b'{"pad": "' + b"x" * 100_000 + b'"}'

    send_lines(run.address("ev"), [*good[:5], huge, *good[5:]], chunk=1)
    wait_until(lambda: rows_received(run, "ev") == 21, what="every line")
    run.stop(drain=True)
    rejected = windows.rejected_rows()

    assert len(rejected) == 1
    assert rejected["line"][0] == 6
    assert "100011 bytes is longer than 'scan.message.max-bytes' (200)" in rejected["reason"][0]
    assert windows.to_pandas()["c"].sum() == 20


def test_tcp_flood_slows_sender() -> None:
    session = Session()
    options = (
        "'connector' = 'tcp', 'port' = '0', 'scan.batch.max-rows' = '100', "
        "'scan.backlog.max-rows' = '500'"
    )
    session.register_function("slow", _slow_identity, "BIGINT")
    session.sql(
        "CREATE TABLE ev (ts TIMESTAMP(3), host STRING, outcome STRING, bytes BIGINT, "
        f"WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ({options})"
    )
    query = session.sql("SELECT host, slow(bytes) AS b FROM ev")
    run = session.start()
    events = known_events(20_000)
    # 20 MB of lines, more than the kernel's socket buffers hold.
    padding = b', "pad": "' + b"x" * 1_000 + b'"}'
    lines = [line[:-1] + padding for line in json_lines(events)]
    sender = threading.Thread(
        target=send_lines, args=(run.address("ev"), lines), kwargs={"chunk": 1000}
    )

    started = time.monotonic()
    sender.start()
    sender.join(60)
    sending = time.monotonic() - started
    wait_until(lambda: rows_received(run, "ev") == len(events), what="every event")
    run.stop()
    metrics = run.source_metrics().iloc[0]

    assert not sender.is_alive()
    assert metrics["backlog_peak"] <= 500
    assert metrics["dropped"] == 0
    assert len(query.to_pandas()) == len(events)
    # 200 slow batches of 100 rows take about 1 s, so the sender was held back.
    assert sending > 0.5


def _slow_identity(values: object) -> object:
    time.sleep(0.005)
    return values


def test_tcp_connection_limit() -> None:
    session = Session()
    options = "'connector' = 'tcp', 'port' = '0', 'scan.max-connections' = '1'"
    live_queries(session, "ev", options)
    run = session.start()

    with socket.create_connection(run.address("ev")) as first:
        first.sendall(json_lines(known_events(1))[0] + b"\n")
        wait_until(lambda: rows_received(run, "ev") == 1, what="the first line")
        with socket.create_connection(run.address("ev")) as second:
            second.settimeout(5)
            closed = second.recv(1) == b""
    run.stop()
    metrics = run.source_metrics().iloc[0]

    assert closed
    assert metrics["connections_refused"] == 1
    assert metrics["connections"] == 1


def test_tcp_client_reconnects_with_backoff(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = known_events()
    lines = json_lines(events)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    halves = [lines[:250], lines[250:]]

    def serve() -> None:
        for part in halves:
            connection, _ = server.accept()
            with connection:
                connection.sendall(b"".join(line + b"\n" for line in part))
            time.sleep(0.3)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    session = Session()
    options = (
        f"'connector' = 'tcp', 'mode' = 'client', 'port' = '{port}', "
        "'reconnect.initial-delay' = '50 ms', 'reconnect.max-delay' = '200 ms'"
    )
    windows, matches = live_queries(session, "ev", options)
    with caplog.at_level(logging.WARNING, logger="workbench.sources.live"):
        run = session.start()
        wait_until(lambda: rows_received(run, "ev") == len(events), what="both halves")
        run.stop(drain=True)
    server.close()
    metrics = run.source_metrics().iloc[0]
    attempts = [record for record in caplog.records if "attempt" in record.getMessage()]

    assert metrics["reconnect_attempts"] >= 1
    assert metrics["gaps"] >= 1
    assert metrics["gap_seconds"] > 0
    assert len(attempts) == metrics["reconnect_attempts"]
    assert f"127.0.0.1:{port}" in attempts[0].getMessage()
    assert len(run.gaps()) == metrics["gaps"]
    assert_same_results(tmp_path, events, windows, matches)


def test_tcp_client_gives_up_after_max_attempts() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    session = Session()
    options = (
        f"'connector' = 'tcp', 'mode' = 'client', 'port' = '{port}', "
        "'reconnect.initial-delay' = '10 ms', 'reconnect.max-attempts' = '2'"
    )
    windows, _ = live_queries(session, "ev", options)
    run = session.start()

    assert run.wait(10)
    assert windows.status == "failed"
    assert "after 2 attempts" in str(windows.error)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("'connector' = 'tcp'", "missing option 'port'"),
        ("'connector' = 'tcp', 'port' = '70000'", "use a port from 0 to 65535"),
        ("'connector' = 'tcp', 'port' = '1', 'mode' = 'both'", "use 'server' or 'client'"),
        ("'connector' = 'tcp', 'port' = '0', 'hostname' = 'example'", "use an IP address"),
        ("'connector' = 'tcp', 'port' = '0', 'scan.batch.interval' = 'soon'", "invalid duration"),
        ("'connector' = 'tcp', 'port' = '0', 'format' = 'xml'", "unknown format 'xml'"),
        ("'connector' = 'tcp', 'port' = '0', 'prot' = '1'", "unknown option 'prot'"),
        (
            "'connector' = 'tcp', 'port' = '0', 'scan.backlog.max-rows' = '10'",
            "make the backlog at least one batch",
        ),
    ],
)
def test_tcp_invalid_options(options: str, message: str) -> None:
    session = Session()

    with pytest.raises(ValidationError, match=message):
        session.sql(f"CREATE TABLE ev (line STRING) WITH ({options})")


def test_tcp_raw_format_needs_one_column() -> None:
    session = Session()

    with pytest.raises(ValidationError, match="format 'raw' reads each message into one"):
        session.sql(
            "CREATE TABLE ev (a STRING, b STRING) WITH ('connector' = 'tcp', 'port' = '0', 'format' = 'raw')"
        )


def test_tcp_raw_lines_with_proctime() -> None:
    session = Session()
    session.sql(
        "CREATE TABLE lines (line STRING, pt AS PROCTIME()) "
        "WITH ('connector' = 'tcp', 'port' = '0', 'format' = 'raw')"
    )
    query = session.sql("SELECT line, pt FROM lines WHERE line LIKE 'keep%'")
    run = session.start()
    before = time.time()

    send_lines(
        run.address("lines"), [b"keep one", b"drop two", "keep \u00e9".encode(), b"\xff\xfe"]
    )
    wait_until(lambda: rows_received(run, "lines") == 4, what="four lines")
    run.stop()
    frame = query.to_pandas()
    rejected = query.rejected_rows()

    assert list(frame["line"]) == ["keep one", "keep \u00e9"]
    assert frame["pt"].notna().all()
    assert abs(frame["pt"].iloc[0].timestamp() - before) < 30
    assert len(rejected) == 1
    assert "invalid UTF-8" in rejected["reason"][0]
