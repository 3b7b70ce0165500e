"""Describe the machine, the package versions and the source a benchmark ran with."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("workbench", "pandas", "numpy", "pyarrow", "duckdb", "streamz")
REPOSITORY = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """Return the first ``model name`` of /proc/cpuinfo, or the platform's processor name."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def describe_machine() -> dict[str, Any]:
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(usable) if usable is not None else os.cpu_count(),
        "memory_gib": memory_total_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in PACKAGES},
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_source() -> dict[str, Any]:
    """Return the git commit of the repository and the engine files changed since that commit.

    The values are None when git or the repository is not available.
    """
    commit = _git("rev-parse", "HEAD")
    # Each line is two status letters, a space and the path.
    changed = _git("status", "--porcelain", "--", "workbench")
    return {
        "commit": None if commit is None else commit.strip(),
        "uncommitted_engine_files": None
        if changed is None
        else [line[3:] for line in changed.splitlines() if line.strip()],
    }


def _git(*arguments: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *arguments],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout


def load_average() -> list[float] | None:
    """Return the 1, 5 and 15-minute load averages, or None where the system has none."""
    try:
        return list(os.getloadavg())
    except OSError:
        return None
