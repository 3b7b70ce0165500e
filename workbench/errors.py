"""The exception hierarchy shared by every layer.

Every error that a user can cause derives from :class:`WorkbenchError`, so a
caller (the CLI, the notebook magics) catches one class and shows its message
without a traceback. Query errors carry the position of the offending text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


class WorkbenchError(Exception):
    """Root of every error the workbench raises for a user mistake or bad input."""

    def render(self, *, html: bool = False) -> str:
        """Return the message for display; subclasses add position and hints."""
        del html
        return str(self)


@dataclass(frozen=True)
class Position:
    """A span of query text: 1-based line and column, 0-based character offsets."""

    line: int
    column: int
    start: int
    end: int  # exclusive


class QueryError(WorkbenchError):
    """An error in query text, with the position of the offending part.

    ``position`` is None when the error concerns the statement as a whole.
    """

    kind = "query error"
    #: Whether the headline names the kind ("syntax error: ...") before the message.
    show_kind = False

    def __init__(
        self,
        message: str,
        *,
        sql: str | None = None,
        position: Position | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sql = sql
        self.position = position
        self.hint = hint

    @property
    def line(self) -> int | None:
        return self.position.line if self.position else None

    @property
    def column(self) -> int | None:
        return self.position.column if self.position else None

    @property
    def offending_text(self) -> str | None:
        if self.sql is None or self.position is None:
            return None
        return self.sql[self.position.start : self.position.end]

    def headline(self) -> str:
        """Return one line: position, kind and message."""
        where = ""
        if self.position is not None:
            where = f"line {self.position.line}, column {self.position.column}: "
        kind = f"{self.kind}: " if self.show_kind else ""
        return f"{where}{kind}{self.message}"

    def snippet_lines(self) -> list[str]:
        """Return the source line of the error with a caret mark under the span."""
        if self.sql is None or self.position is None:
            return []
        lines = self.sql.splitlines() or [""]
        index = min(self.position.line, len(lines)) - 1
        text = lines[index]
        start_col = self.position.column - 1
        # The mark covers the span on its first line only.
        line_start = sum(len(line) + 1 for line in lines[:index])
        width = max(1, min(self.position.end, line_start + len(text)) - self.position.start)
        return [text, " " * start_col + "^" * width]

    def render(self, *, html: bool = False) -> str:
        parts = [self.headline(), *("  " + line for line in self.snippet_lines())]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        if not html:
            return "\n".join(parts)
        return _render_html(self)

    def __str__(self) -> str:
        return self.render()


def _render_html(error: QueryError) -> str:
    rows = [f"<div><b>{escape(error.headline())}</b></div>"]
    if error.sql is not None and error.position is not None:
        text, marks = error.snippet_lines()
        start = error.position.column - 1
        width = len(marks.strip())
        before, mark, after = text[:start], text[start : start + width], text[start + width :]
        rows.append(
            "<pre style='margin:4px 0'>"
            f"{escape(before)}<span style='background:#fdd;text-decoration:underline wavy red'>"
            f"{escape(mark)}</span>{escape(after)}\n{escape(marks)}</pre>"
        )
    if error.hint:
        rows.append(f"<div><i>hint:</i> {escape(error.hint)}</div>")
    return "<div class='workbench-error'>" + "".join(rows) + "</div>"


class SqlSyntaxError(QueryError):
    """The text is not valid SQL in the workbench dialect."""

    kind = "syntax error"
    show_kind = True


class ValidationError(QueryError):
    """The SQL parses but refers to something that does not exist or is misused."""

    kind = "invalid query"


class UnknownTableError(ValidationError):
    kind = "unknown table"


class UnknownColumnError(ValidationError):
    kind = "unknown column"


class TypeMismatchError(ValidationError):
    kind = "type mismatch"


class UnsupportedError(QueryError):
    """A valid SQL construct that the workbench does not run (yet, or ever)."""

    kind = "unsupported"
    show_kind = True


class SourceError(WorkbenchError):
    """A source cannot be opened or its options are invalid."""


class SinkError(WorkbenchError):
    """A sink cannot be opened or rejected a write."""


class QueryRuntimeError(WorkbenchError):
    """An operator failed while a query ran; names the query and the operator."""

    def __init__(
        self,
        message: str,
        *,
        query: str | None = None,
        operator: str | None = None,
        hint: str | None = None,
    ):
        where = " ".join(
            part
            for part in (
                f"query {query!r}" if query else "",
                f"operator {operator!r}" if operator else "",
            )
            if part
        )
        text = f"{where}: {message}" if where else message
        super().__init__(text + (f"\nhint: {hint}" if hint else ""))
        self.detail = message
        self.query = query
        self.operator = operator
        self.hint = hint

    def located(self, query: str, operator: str) -> QueryRuntimeError:
        """Return this error naming the query and operator, unless it names them already."""
        if self.query is not None and self.operator is not None:
            return self
        return QueryRuntimeError(
            self.detail,
            query=self.query or query,
            operator=self.operator or operator,
            hint=self.hint,
        )
