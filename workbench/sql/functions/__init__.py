"""The scalar function library: built-in functions with Flink's semantics, and user functions.

Each function is a :class:`ScalarFunction` in a :class:`FunctionRegistry`.
The modules of this package group the built-ins by domain: operators,
comparison and logic, strings, patterns, encodings, math, time, casts,
conditional and nested values.
"""

from __future__ import annotations

import functools

from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    MonthInterval,
    ScalarFunction,
    Value,
)
from workbench.sql.functions.registry import (
    AGGREGATE_NAMES,
    WINDOW_FUNCTION_NAMES,
    FunctionRegistry,
    user_function,
)


@functools.cache
def default_registry() -> FunctionRegistry:
    """Return the shared registry of built-in functions (do not add user functions to it)."""
    return FunctionRegistry()


__all__ = [
    "AGGREGATE_NAMES",
    "WINDOW_FUNCTION_NAMES",
    "ArgumentTypeError",
    "FunctionRegistry",
    "Invocation",
    "MonthInterval",
    "ScalarFunction",
    "Value",
    "default_registry",
    "user_function",
]
