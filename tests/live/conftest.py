"""Fixtures that start real servers (Debian's redis-server and mosquitto) on free loopback ports.

Each server runs as a child process of the test on 127.0.0.1, with its
files in the test's temporary folder, and is stopped after the test. When
the binary is missing, the test is skipped, except in CI (CI=true), where
.ci/run installs both, so a missing binary fails the test there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def find_binary(name: str, package: str) -> str:
    path = shutil.which(name) or next(
        (
            str(candidate)
            for candidate in (Path("/usr/sbin") / name, Path("/usr/bin") / name)
            if candidate.exists()
        ),
        None,
    )
    if path is None:
        message = f"{name} is not installed: apt-get install -y {package}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (.ci/run installs it in CI)")
        pytest.skip(message)
    return path


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on 127.0.0.1:{port} within {timeout} s")


@dataclass
class Server:
    """A server process on 127.0.0.1:``port`` that a test can stop and start again."""

    command: list[str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Server]:
    binary = find_binary("redis-server", "redis-server")
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--dir",
        str(folder),
        "--daemonize",
        "no",
    ]
    server = Server(command, port, folder / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Server]:
    binary = find_binary("mosquitto", "mosquitto")
    port = free_port()
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence true\n"
        f"persistence_location {folder}/\n"
        "log_dest stdout\n"
    )
    server = Server([binary, "-c", str(config)], port, folder / "server.log")
    server.start()
    yield server
    server.stop()
