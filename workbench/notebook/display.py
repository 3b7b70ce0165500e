"""Rich display of errors and messages, and the IPython handler for workbench errors."""

from __future__ import annotations

from html import escape
from types import TracebackType
from typing import Any

from IPython.display import display

from workbench.errors import QueryError, WorkbenchError

__all__ = ["ErrorDisplay", "Message", "show_workbench_error"]


class ErrorDisplay:
    """A workbench error shown as one message: position, offending text with a caret, hint.

    A notebook shows the HTML form, a terminal the plain text.
    """

    def __init__(self, error: WorkbenchError) -> None:
        self.error = error

    def __repr__(self) -> str:
        return self.error.render()

    def _repr_html_(self) -> str:
        if isinstance(self.error, QueryError):
            return self.error.render(html=True)
        return (
            "<div class='workbench-error'><b>"
            + escape(type(self.error).__name__)
            + ":</b> <pre style='display:inline'>"
            + escape(self.error.render())
            + "</pre></div>"
        )


class Message:
    """A short text: plain in a terminal, HTML in a notebook (``html`` replaces the default form)."""

    def __init__(self, text: str, html: str | None = None) -> None:
        self.text = text
        self.html = html

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        if self.html is not None:
            return self.html
        first, _, rest = self.text.partition("\n")
        html = f"<div class='workbench-message'>{escape(first)}</div>"
        if rest:
            html += f"<pre>{escape(rest)}</pre>"
        return html


def is_user_error(error: BaseException) -> bool:
    """Return whether ``error`` is a workbench error caused by input, not by a defect.

    A workbench error raised from an unexpected exception (an operator that
    failed with a TypeError) wraps a defect, so its traceback stays useful.
    """
    if not isinstance(error, WorkbenchError):
        return False
    cause = error.__cause__
    return cause is None or isinstance(cause, WorkbenchError)


def show_workbench_error(
    shell: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    """Show a workbench error as one message without a traceback (an IPython custom handler).

    The cell still counts as failed, so "run all" stops there. Errors that
    wrap a defect show the full traceback instead.
    """
    if not is_user_error(value):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return []
    assert isinstance(value, WorkbenchError)
    display(ErrorDisplay(value))  # type: ignore[no-untyped-call]
    return []
