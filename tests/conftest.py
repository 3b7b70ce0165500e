"""Suite-wide settings: hypothesis profiles, and the engine's compiled loops.

The default profile keeps `make test` quick; run the long search with
``pytest --hypothesis-profile=thorough``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from workbench.runtime.kernels import compile_all

settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the engine's loops once, before tests that time a replay or start processes.

    numba caches them on disk, so command and kernel processes started by
    the tests load them instead of compiling them again.
    """
    compile_all()
