"""Compiling scalar sqlglot expressions into typed :mod:`workbench.sql.expr` trees.

:class:`ScalarCompiler` walks an expression as the Flink dialect parses it.
The planner's callbacks resolve columns and substitute aggregates, window
functions and window columns. The compiler types every call through the
function registry and reports type errors at the offending text.

The package splits the work: :mod:`.compiler` holds the compiler and its
error reporting, :mod:`.rules` compiles each kind of node, and :mod:`.nodes`
maps sqlglot's node classes to the function library.
"""

from __future__ import annotations

from workbench.sql.scalar.compiler import (
    ResolveColumn,
    ResolveSpecial,
    ScalarCompiler,
    field_access,
)
from workbench.sql.scalar.nodes import normalize_unit

__all__ = ["ResolveColumn", "ResolveSpecial", "ScalarCompiler", "field_access", "normalize_unit"]
