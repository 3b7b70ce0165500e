"""Test helpers shipped with the workbench: hypothesis strategies and batch references."""

from workbench.testing.reference import WindowQuery, normalize, window_reference
from workbench.testing.strategies import StreamShape, batch_sizes, event_streams

__all__ = [
    "StreamShape",
    "WindowQuery",
    "batch_sizes",
    "event_streams",
    "normalize",
    "window_reference",
]
