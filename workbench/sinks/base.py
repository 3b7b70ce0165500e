"""The sink protocol and the base class that checks state and wraps errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import pandas as pd

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.sinks.changelog import net_changes, split_changelog
from workbench.sinks.formatting import select_columns

logger = logging.getLogger(__name__)


@runtime_checkable
class Sink(Protocol):
    """A destination of result rows.

    ``open(schema)`` prepares the destination (and starts over if already
    open), ``write(frame)`` adds rows with the schema's columns, and
    ``close()`` flushes and releases it. A failing write raises SinkError.
    """

    name: str
    rows_written: int

    def open(self, schema: Schema) -> None: ...

    def write(self, frame: pd.DataFrame) -> None: ...

    def close(self) -> None: ...


class BaseSink:
    """Common behaviour: column selection, row counting and error wrapping.

    Subclasses implement ``_open``, ``_write`` and ``_close`` and list in
    ``errors`` the library exceptions that a write can raise. Those become
    SinkError with the sink's name and the cause. A sink with a
    ``primary_key`` is an upsert sink: it implements ``_upsert`` instead of
    ``_write`` and receives each batch's net changes per key.
    """

    errors: tuple[type[BaseException], ...] = (OSError, ValueError, TypeError)

    def __init__(self, name: str, *, primary_key: Sequence[str] = ()) -> None:
        self.name = name
        self.primary_key = tuple(primary_key)
        self.rows_written = 0
        self._schema: Schema | None = None

    @property
    def schema(self) -> Schema:
        if self._schema is None:
            message = f"sink '{self.name}' is not open: call open(schema) first"
            raise SinkError(message)
        return self._schema

    @property
    def is_open(self) -> bool:
        return self._schema is not None

    def open(self, schema: Schema) -> None:
        if self._schema is not None:
            self.close()
        self.rows_written = 0
        self._guard("open", lambda: self._open(schema))
        self._schema = schema
        logger.debug("sink '%s' opened with %d columns", self.name, len(schema))

    def write(self, frame: pd.DataFrame) -> None:
        schema = self.schema
        if len(frame) == 0:
            return
        if not self.primary_key:
            rows = select_columns(frame, schema, self.name)
            self._guard("write", lambda: self._write(rows))
            self.rows_written += len(rows)
            return
        changes, kinds = split_changelog(frame, schema.names)
        rows = select_columns(changes, schema, self.name)
        self._guard("write", lambda: self._upsert(*net_changes(rows, kinds, self.primary_key)))
        self.rows_written += len(rows)

    def close(self) -> None:
        if self._schema is None:
            return
        try:
            self._guard("close", self._close)
        finally:
            self._schema = None
        logger.debug("sink '%s' closed after %d rows", self.name, self.rows_written)

    def _guard(self, action: str, run: Callable[[], None]) -> None:
        try:
            run()
        except SinkError:
            raise
        except self.errors as exc:
            message = f"sink '{self.name}': {action} failed: {_cause(exc)}"
            raise SinkError(message) from exc

    def _open(self, schema: Schema) -> None:
        del schema

    def _write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _upsert(self, rows: pd.DataFrame, deleted_keys: pd.DataFrame) -> None:
        """Replace the rows of the keys in ``rows`` and delete the ``deleted_keys``."""
        del rows, deleted_keys
        message = f"sink '{self.name}' cannot upsert by primary key"
        raise SinkError(message)

    def _close(self) -> None:
        return None


def _cause(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
