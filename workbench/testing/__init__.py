"""Test helpers shipped with the workbench: hypothesis strategies and batch references."""

from workbench.testing.cases import case_text, note_case
from workbench.testing.reference import (
    FilterQuery,
    WindowQuery,
    filter_reference,
    normalize,
    window_reference,
)
from workbench.testing.strategies import (
    StreamShape,
    arrival_orders,
    batch_sizes,
    event_streams,
    filter_queries,
    key_values,
    window_queries,
)

__all__ = [
    "FilterQuery",
    "StreamShape",
    "WindowQuery",
    "arrival_orders",
    "batch_sizes",
    "case_text",
    "event_streams",
    "filter_queries",
    "filter_reference",
    "key_values",
    "normalize",
    "note_case",
    "window_queries",
    "window_reference",
]
