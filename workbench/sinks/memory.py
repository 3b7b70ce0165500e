"""Sinks that keep, pass on, print or discard rows in the process."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

import pandas as pd

from workbench.events.schema import Schema
from workbench.sinks.base import BaseSink
from workbench.sinks.formatting import python_column


class MemorySink(BaseSink):
    """Keeps the rows written; :meth:`to_pandas` returns them as one DataFrame."""

    def __init__(self, name: str = "memory") -> None:
        super().__init__(name)
        self.frames: list[pd.DataFrame] = []
        self._result_schema: Schema | None = None

    def _open(self, schema: Schema) -> None:
        self.frames = []
        self._result_schema = schema

    def _write(self, frame: pd.DataFrame) -> None:
        self.frames.append(frame.copy())

    def to_pandas(self) -> pd.DataFrame:
        """Return all rows in the schema's dtypes; without rows, typed empty columns."""
        schema = self._result_schema
        if schema is None:
            return pd.DataFrame()
        if not self.frames:
            return schema.empty_frame()
        frame = pd.concat(self.frames, ignore_index=True)
        dtypes: dict[str, Any] = {c.name: c.type.pandas_dtype() for c in schema}
        return frame.astype(dtypes)


class CallbackSink(BaseSink):
    """Calls ``func(frame)`` for every non-empty write."""

    errors = (Exception,)

    def __init__(self, func: Callable[[pd.DataFrame], object], name: str = "callback") -> None:
        super().__init__(name)
        self.func = func

    def _write(self, frame: pd.DataFrame) -> None:
        self.func(frame)


class PrintSink(BaseSink):
    """Prints rows in the style of Flink's 'print' connector: ``identifier> +I[1, abc]``.

    Each line has the identifier prefix (left out when None), the row kind
    (always +I, an insert) and the values, with NULL as 'null'. Rows go to
    stdout, or to stderr with ``standard_error``.
    """

    def __init__(
        self,
        name: str = "print",
        *,
        identifier: str | None = None,
        standard_error: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(name)
        self.identifier = identifier
        self.standard_error = standard_error
        self._stream = stream

    def _write(self, frame: pd.DataFrame) -> None:
        columns = [python_column(frame[c.name], c.type, nested_as_text=True) for c in self.schema]
        prefix = f"{self.identifier}> " if self.identifier else ""
        lines = [
            prefix + "+I[" + ", ".join(_text(value) for value in row) + "]"
            for row in zip(*columns, strict=True)
        ]
        stream = self._stream or (sys.stderr if self.standard_error else sys.stdout)
        stream.write("\n".join(lines) + "\n")
        stream.flush()


def _text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class BlackholeSink(BaseSink):
    """Discards rows and only counts them, to measure a query without output costs."""

    def __init__(self, name: str = "blackhole") -> None:
        super().__init__(name)

    def _write(self, frame: pd.DataFrame) -> None:
        del frame
