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


def measure_memory_mode(
    mode: str,
    label: str,
    paths: dict[int, Path],
    *,
    repeats: int,
    delay_ms: int,
    query: str = "window",
) -> dict[str, Any]:
    """Probe each file ``repeats`` times in fresh processes; return the growth figures of one mode.

    Growth is the peak minus the baseline, in KiB per run, with the median and
    best per file and in MB from the smallest file to the largest. Raises
    AssertionError when a probe did not read every row or saw late rows.
    """
    small, large = min(paths), max(paths)
    runs: dict[int, list[dict[str, Any]]] = {}
    for events, path in paths.items():
        runs[events] = []
        for _ in range(repeats):
            probe = probe_memory(path, delay_ms, mode, query=query)
            if probe["rows_read"] != events or probe["late"]:
                message = (
                    f"memory probe {mode} on {path.name} read {probe['rows_read']:,} of "
                    f"{events:,} rows and saw {probe['late']} late rows; expected all rows "
                    "and none late"
                )
                raise AssertionError(message)
            probe["growth_kib"] = probe["peak_kib"] - probe["baseline_kib"]
            runs[events].append(probe)
    median_growth = {
        events: statistics.median(probe["growth_kib"] for probe in probes)
        for events, probes in runs.items()
    }
    best_growth = {
        events: min(probe["growth_kib"] for probe in probes) for events, probes in runs.items()
    }
    result = {
        "label": label,
        "runs": {str(events): probes for events, probes in runs.items()},
        "median_growth_kib": {str(events): value for events, value in median_growth.items()},
        "best_growth_kib": {str(events): value for events, value in best_growth.items()},
        "median_growth_small_to_large_mb": kib_to_mb(median_growth[large] - median_growth[small]),
        "best_growth_small_to_large_mb": kib_to_mb(best_growth[large] - best_growth[small]),
    }
    print(
        f"  {label}: growth {small:,} → {large:,} events "
        f"{result['median_growth_small_to_large_mb']:.1f} MB",
        flush=True,
    )
    return result
