"""`workbench run` on a live table: it runs until --duration passes or Ctrl-C, then prints."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

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
    # A child inherits an ignored SIGINT (a kernel or server started by an earlier
    # test may have ignored it in this process), while a handled one resets to the
    # default at exec: so handle SIGINT here while the child starts.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
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
    finally:
        signal.signal(signal.SIGINT, previous)


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


def read_until(stream: IO[str], marker: str, timeout: float = 60.0) -> list[str]:
    """Return the lines of ``stream`` up to and including the first that contains ``marker``."""
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in stream:
            lines.append(line)
            if marker in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout), f"{marker!r} not printed; stderr so far: {''.join(lines)}"
    return lines


def test_cli_live_interrupt(tmp_path: Path) -> None:
    port = free_port()
    process = start(write_rules(tmp_path), port)
    assert process.stderr is not None

    send_when_listening(port, json_lines(known_events(120)))
    # Ctrl-C once the command waits for the live table, as a user at the terminal would.
    before = read_until(process.stderr, "press Ctrl-C to stop")
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    stdout, rest = process.communicate(timeout=60)
    stderr = "".join(before) + rest

    assert process.returncode == 0, stderr
    assert "-- stopping" in stderr
    assert "-- query-1: 9 rows, 0 late, 0 rejected" in stdout


def test_cli_interrupt_before_start_exits(tmp_path: Path) -> None:
    port = free_port()
    process = start(write_rules(tmp_path), port)

    # Ctrl-C at once, usually while the command still imports or plans.
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    # The command must end, not hang, whichever step the signal interrupts.
    _, stderr = process.communicate(timeout=60)

    assert process.returncode in (0, 1, 130, -signal.SIGINT), stderr


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
