"""WebSocket source: a client that reads JSON or text messages from a server's 'url'.

Each text or binary message is split into lines, and each non-blank line
is one message, so a server may send one record per message or several as
JSON lines. A message longer than 'scan.message.max-bytes' makes the
websockets library close the connection with code 1009, which RFC 6455
defines for a message too big to process. The source records a rejected
row for it and reconnects, as it does with exponential backoff after any
failure. While the backlog is full the client reads nothing, so the
server's writes wait.
"""

from __future__ import annotations

import asyncio
import logging

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.live.base import Backoff, Connection, LiveSource
from workbench.sources.live.options import LiveOptions, LiveSpec

logger = logging.getLogger(__name__)

#: Close code of a message too big to process (RFC 6455, section 7.4.1).
MESSAGE_TOO_BIG = 1009


class WebSocketSource(LiveSource):
    """Messages from a WebSocket server."""

    role = "client"

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        self.url = options.text("url")
        self._closed = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff(self, self.url)
        while not self._closed.is_set():
            connection: Connection | None = None
            reason = "closed by the server"
            try:
                async with connect(
                    self.url, max_size=self.options.message_max_bytes, open_timeout=10
                ) as socket:
                    self.gap_ended()
                    connection = self.open_connection(self.url)
                    async for message in socket:
                        data = message.encode() if isinstance(message, str) else bytes(message)
                        await self._put_lines(connection, data)
                        backoff.reset()
            except ConnectionClosed as error:
                reason = f"closed: {error}"
                if (
                    error.rcvd is None
                    and error.sent is not None
                    and error.sent.code == MESSAGE_TOO_BIG
                ):
                    assert connection is not None
                    self.reject(
                        connection,
                        f"message longer than 'scan.message.max-bytes' ({self.options.message_max_bytes}); "
                        "the connection was closed with code 1009",
                        "",
                    )
            except InvalidURI as error:
                message = f"invalid value {self.url!r} for option 'url': {error}"
                raise SourceError(message) from error
            except (OSError, InvalidHandshake, TimeoutError) as error:
                reason = f"failed: {error}"
            finally:
                if connection is not None:
                    self.close_connection(connection, reason)
            if self._closed.is_set():
                return
            await backoff.wait(reason)

    async def _put_lines(self, connection: Connection, data: bytes) -> None:
        if b"\n" not in data:
            if data.strip():
                await self.put(data, connection, size=len(data))
            return
        for line in data.split(b"\n"):
            text = line.rstrip(b"\r")
            if text.strip():
                await self.put(text, connection, size=len(line) + 1)

    async def close(self) -> None:
        self._closed.set()
