"""IPython magics, live views and replay control for running queries in Jupyter.

``%load_ext workbench`` registers ``%%cep`` and ``%cep``. The kernel has
one :class:`~workbench.Session`, returned by :func:`session`; Python cells
and ``%%cep`` cells share its tables and queries.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import WorkbenchError
from workbench.notebook.controller import NotebookSession
from workbench.notebook.display import show_workbench_error
from workbench.notebook.magics import CepMagic
from workbench.notebook.views import (
    ViewContext,
    ViewPart,
    load_viz_views,
    register_view,
    view_kinds,
)
from workbench.session import Session

__all__ = [
    "ViewContext",
    "ViewPart",
    "controller",
    "load_ipython_extension",
    "register_view",
    "session",
    "unload_ipython_extension",
    "use_session",
    "view_kinds",
]

_controller: NotebookSession | None = None


def controller() -> NotebookSession:
    """Return the notebook session of this kernel: Session, current replay and live views."""
    global _controller  # noqa: PLW0603 - one notebook session per kernel
    if _controller is None:
        _controller = NotebookSession()
    return _controller


def session() -> Session:
    """Return the Session that the ``%%cep`` cells of this kernel run in."""
    return controller().session


def use_session(new: Session) -> None:
    """Run the ``%%cep`` cells in ``new`` from now on; the current replay stops."""
    controller().use(new)


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, the display of workbench errors and the views of workbench.viz."""
    load_viz_views()
    magic = CepMagic(ipython, controller())
    ipython.register_magics(magic)
    if magic not in ipython.configurables:
        ipython.configurables.append(magic)
    # NOTE: IPython keeps one custom exception handler, so this replaces any
    # handler that another extension set.
    ipython.set_custom_exc((WorkbenchError,), show_workbench_error)


def unload_ipython_extension(ipython: Any) -> None:
    """Stop the replay task, close the views and restore IPython's error display."""
    if _controller is not None:
        _controller.close()
    ipython.set_custom_exc((), None)
