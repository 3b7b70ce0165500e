"""`workbench run` on a live table: it runs until --duration passes or Ctrl-C, then prints."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.live.conftest import free_port
from tests.live.support import COLUMNS, WINDOW_SQL, json_lines, known_events


def write_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules.sql"
    rules.write_text(
        f"CREATE TABLE ev ({COLUMNS}) WITH ('connector' = 'tcp', 'port' = '0');\n"
        + WINDOW_SQL.format(table="ev")
        + ";\n"
    )
    return rules


def start(rules: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "run",
            str(rules),
            "--with",
            f"ev.port={port}",
            "--no-progress",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def send_when_listening(port: int, lines: list[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    with sock:
        sock.sendall(b"".join(line + b"\n" for line in lines))


def test_cli_live_duration(tmp_path: Path) -> None:
    port = free_port()
    process = start(write_rules(tmp_path), port, "--duration", "3 s")

    send_when_listening(port, json_lines(known_events(120)))
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 0, stderr
    assert f"-- ev: listening on 127.0.0.1:{port}" in stderr
    assert "reading live tables for 3 s; press Ctrl-C to stop" in stderr
    # 120 events over 30 s of event time: three windows of three hosts, all fired at the end.
    assert "-- query-1: 9 rows, 0 late, 0 rejected" in stdout


def test_cli_live_interrupt(tmp_path: Path) -> None:
    port = free_port()
    process = start(write_rules(tmp_path), port)

    send_when_listening(port, json_lines(known_events(120)))
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 0, stderr
    assert "-- stopping" in stderr
    assert "-- query-1: 9 rows, 0 late, 0 rejected" in stdout


def test_cli_invalid_duration(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "run",
            str(write_rules(tmp_path)),
            "--duration",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 2
    assert "invalid --duration '0': use a duration above 0" in completed.stderr
