"""Timing and memory measurements shared by the benchmark's sections."""

from __future__ import annotations

import gc
import json
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass
class Measurement:
    """Wall-clock seconds of repeated runs of one step over ``events`` events."""

    name: str
    events: int
    seconds: list[float] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best_rate(self) -> float:
        return self.events / self.best

    @property
    def median_rate(self) -> float:
        return self.events / self.median

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "events": self.events,
            "seconds": self.seconds,
            "best_seconds": self.best,
            "median_seconds": self.median,
            "best_rows_per_second": self.best_rate,
            "median_rows_per_second": self.median_rate,
            **self.details,
        }


def measure(
    name: str,
    events: int,
    repeats: int,
    step: Callable[[], Any],
    check: Callable[[Any], None],
) -> tuple[Measurement, Any]:
    """Time ``step`` ``repeats`` times and check every output.

    Return the timings and the output of the last run.
    """
    measurement = Measurement(name, events)
    output = None
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        output = step()
        measurement.seconds.append(time.perf_counter() - started)
        check(output)
    return measurement, output


def kib_to_mb(kib: float) -> float:
    return kib * 1024 / 1e6


def probe_memory(path: Path, delay_ms: int, mode: str, query: str = "window") -> dict[str, Any]:
    """Run ``memory_probe.py`` on ``path`` in a fresh process and return the JSON it prints."""
    command = [
        sys.executable,
        str(HERE / "memory_probe.py"),
        str(path),
        "--delay-ms",
        str(delay_ms),
        "--mode",
        mode,
        "--query",
        query,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        message = (
            f"memory probe failed with exit code {completed.returncode}: {shlex.join(command)}\n"
            f"{completed.stderr}"
        )
        raise RuntimeError(message)
    return json.loads(completed.stdout.strip().splitlines()[-1])
