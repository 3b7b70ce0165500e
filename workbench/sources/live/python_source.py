"""A live feed from Python: an iterable, an iterator, an async iterable or an async generator.

Items are dicts (one row, matched to columns by key), tuples or lists (one
row, in the order of the columns) or DataFrames (several rows). A plain
iterable is read on a thread of its own, so an iterator that blocks (a
queue, a generator that sleeps) does not stop the event loop. That thread
waits while the backlog is full. An async iterable is read on the loop.
The feed ends when the iterable is exhausted; an exception raised by it
fails the queries that read the feed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import AsyncIterable, Iterable
from typing import Any

import pandas as pd

from workbench.errors import SourceError
from workbench.events.convert import paused_gc
from workbench.events.convert_nested import field_values
from workbench.events.schema import Schema
from workbench.sources.live.base import Connection, LiveSource, Message
from workbench.sources.live.options import LiveOptions, LiveSpec

logger = logging.getLogger(__name__)

_END = object()


class PythonSource(LiveSource):
    """Rows from a Python iterable or async iterable."""

    role = "local"

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        self.items: Iterable[Any] | AsyncIterable[Any] | None = None
        self._handoff: deque[Any] = deque()
        self._scheduled = False
        self._room = threading.Condition()
        self._closing = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None
        self._connection: Connection | None = None

    def attach(self, value: object) -> None:
        if not isinstance(value, Iterable | AsyncIterable) or isinstance(value, str | bytes):
            message = (
                f"table '{self.name}' needs an iterable or an async iterable of rows, "
                f"got {type(value).__name__}"
            )
            raise SourceError(message)
        self.items = value

    async def start(self) -> None:
        if self.items is None:
            message = f"table '{self.name}' has no Python iterable: register it with Session.from_iterable"
            raise SourceError(message)
        self._connection = self.open_connection(self.peer_name())

    def peer_name(self) -> str:
        """Return the name rejected rows give as the sender of the items."""
        return f"python {type(self.items).__name__}"

    async def run(self) -> None:
        assert self.items is not None and self._connection is not None
        try:
            if isinstance(self.items, AsyncIterable):
                await self._run_async(self.items, self._connection)
            else:
                await self._run_thread(self.items)
        finally:
            self.close_connection(self._connection, "ended")

    async def _run_async(self, items: AsyncIterable[Any], connection: Connection) -> None:
        try:
            async for item in items:
                await self.put(item, connection, size=0)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            message = f"the async iterable of '{self.name}' raised {type(error).__name__}: {error}"
            raise SourceError(message) from error

    async def _run_thread(self, items: Iterable[Any]) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        thread = threading.Thread(
            target=self._iterate, args=(items,), name=f"workbench feed {self.name}", daemon=True
        )
        thread.start()
        try:
            await self._done
        finally:
            self._closing.set()
            with self._room:
                self._room.notify_all()

    def _iterate(self, items: Iterable[Any]) -> None:
        """Read the iterable on this thread and hand the items to the loop."""
        error: BaseException | None = None
        try:
            for item in items:
                with self._room:
                    while (
                        len(self._handoff) + self.backlog >= self.options.backlog_max_rows
                        and not self._closing.is_set()
                    ):
                        self._room.wait(0.1)
                if self._closing.is_set():
                    return
                self._handoff.append(item)
                self._schedule()
        except Exception as raised:
            error = raised
        self._handoff.append(_END if error is None else error)
        self._schedule(force=True)

    def _schedule(self, *, force: bool = False) -> None:
        if self._scheduled and not force:
            return
        self._scheduled = True
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop has closed
            self._closing.set()

    def _drain(self) -> None:
        """Move the handed-off items into the backlog (on the loop's thread)."""
        self._scheduled = False
        assert self._connection is not None and self._done is not None
        while self._handoff:
            item = self._handoff.popleft()
            if item is _END:
                if not self._done.done():
                    self._done.set_result(None)
                return
            if isinstance(item, BaseException):
                message = f"the iterable of '{self.name}' raised {type(item).__name__}: {item}"
                if not self._done.done():
                    self._done.set_exception(SourceError(message))
                return
            number = self.next_number(self._connection)
            self._accept(Message(item, self._connection, number), 0)

    def take(self) -> Any:
        taken = super().take()
        with self._room:
            self._room.notify_all()
        return taken

    def decode(self, messages: list[Message]) -> pd.DataFrame:
        frames: list[pd.DataFrame] = []
        rows: list[dict[str, Any]] = []
        kept: list[Message] = []
        names = self.schema.names
        with paused_gc():
            for message in messages:
                item = message.payload
                if isinstance(item, pd.DataFrame):
                    if rows:
                        frames.append(self._rows_frame(rows))
                        rows = []
                    frames.append(item.reset_index(drop=True))
                    kept.extend([message] * len(item))
                elif isinstance(item, dict):
                    rows.append(item)
                    kept.append(message)
                elif isinstance(item, tuple | list) and len(item) == len(names):
                    rows.append(dict(zip(names, item, strict=True)))
                    kept.append(message)
                else:
                    self._reject_message(
                        message,
                        f"expected a dict, a tuple of {len(names)} values or a DataFrame, "
                        f"got {type(item).__name__}",
                    )
            if rows:
                frames.append(self._rows_frame(rows))
            frame = (
                pd.concat(frames, ignore_index=True)
                if len(frames) > 1
                else frames[0]
                if frames
                else self._rows_frame([])
            )
            result = self._conform(frame, kept)
        self.stats.rows_read += len(result)
        self.stats.chunks += 1
        return result

    def _rows_frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        keys: set[str] = set().union(*rows) if rows else set()
        columns = {
            name: pd.Series(field_values(rows, name, keys), dtype=object)
            for name in self.schema.names
        }
        return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))

    async def close(self) -> None:
        self._closing.set()
        with self._room:
            self._room.notify_all()
