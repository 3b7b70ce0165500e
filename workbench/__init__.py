"""workbench: streaming SQL over recorded and live event feeds, built for Jupyter.

The public names load on first use, so importing a lower layer such as
``workbench.events`` does not import the whole engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.errors import QueryError, WorkbenchError
    from workbench.results import FailedStatement, QueryResult, StatementResult, TableResult
    from workbench.session import Session
    from workbench.sources.read import FileContents, read_file

__all__ = [
    "FailedStatement",
    "FileContents",
    "QueryError",
    "QueryResult",
    "Session",
    "StatementResult",
    "TableResult",
    "WorkbenchError",
    "read_file",
]
__version__ = "0.1.0"

_EXPORTS = {
    "QueryError": "workbench.errors",
    "WorkbenchError": "workbench.errors",
    "FailedStatement": "workbench.results",
    "QueryResult": "workbench.results",
    "StatementResult": "workbench.results",
    "TableResult": "workbench.results",
    "Session": "workbench.session",
    "FileContents": "workbench.sources.read",
    "read_file": "workbench.sources.read",
}


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%%cep`` and ``%cep`` magics (``%load_ext workbench``)."""
    import_module("workbench.notebook").load_ipython_extension(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    import_module("workbench.notebook").unload_ipython_extension(ipython)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    return getattr(import_module(module), name)
