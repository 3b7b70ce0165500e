"""Live sources: unbounded feeds from sockets, HTTP, Redis Streams, MQTT, Kafka, pipes and Python.

:mod:`~workbench.sources.live.options` contains the connector registry and the
options every live connector takes, :mod:`~workbench.sources.live.base` the
source base class with its bounded backlog, and
:mod:`~workbench.sources.live.clock` the clock that drives the sources on an
asyncio loop.
"""

from workbench.sources.live import connectors as _connectors
from workbench.sources.live.base import Connection, LiveCounters, LiveSource
from workbench.sources.live.clock import LiveClock, LiveFeed
from workbench.sources.live.options import (
    LiveOptions,
    LiveSpec,
    is_live_connector,
    live_connectors,
    live_options,
    live_reader_schema,
    live_spec,
    open_live_source,
    register_live_connector,
    validate_live_options,
)

del _connectors

__all__ = [
    "Connection",
    "LiveClock",
    "LiveCounters",
    "LiveFeed",
    "LiveOptions",
    "LiveSource",
    "LiveSpec",
    "is_live_connector",
    "live_connectors",
    "live_options",
    "live_reader_schema",
    "live_spec",
    "open_live_source",
    "register_live_connector",
    "validate_live_options",
]
