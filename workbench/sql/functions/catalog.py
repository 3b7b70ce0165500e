"""The list of built-in scalar functions, gathered from the domain modules."""

from __future__ import annotations

import functools

from workbench.sql.functions import (
    casts,
    comparison,
    conditional,
    encoding,
    fields,
    formatting,
    logic,
    math,
    nested,
    operators,
    patterns,
    strings,
    structured,
    temporal,
)
from workbench.sql.functions.base import ScalarFunction

_MODULES = (
    operators,
    comparison,
    logic,
    conditional,
    strings,
    patterns,
    encoding,
    structured,
    math,
    temporal,
    fields,
    formatting,
    casts,
    nested,
)


@functools.cache
def builtin_functions() -> tuple[ScalarFunction, ...]:
    """Return every built-in scalar function, each module's in its own order."""
    return tuple(function for module in _MODULES for function in module.FUNCTIONS)
