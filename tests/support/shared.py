"""Locating the shared peer cases and real datasets that tests read in place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """Return the folder with peer cases and datasets: $WORKBENCH_SHARED_DIR or ../shared."""
    configured = os.environ.get("WORKBENCH_SHARED_DIR")
    return Path(configured) if configured else ROOT.parent / "shared"


def require(relative: str) -> Path:
    """Return a path under the shared folder, skipping the test when it is absent."""
    path = shared_dir() / relative
    if not path.exists():
        pytest.skip(
            f"{path} is missing: set WORKBENCH_SHARED_DIR to the folder with cases/ and datasets/"
        )
    return path
