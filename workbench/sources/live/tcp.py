"""TCP sources: newline-delimited JSON or text, as a server peers connect to, or as a client.

As a server ('mode' = 'server', the default) the source listens on
'hostname' (127.0.0.1 unless set) and 'port' ('0' picks a free port) and
reads every connection. As a client ('mode' = 'client') it connects to
'hostname':'port' and reconnects with exponential backoff when the
connection fails or closes. Lines end at '\\n' (a '\\r' before it is
removed). A line longer than 'scan.message.max-bytes' is rejected and
skipped to its end. While the backlog is full the source stops reading, so
the kernel's buffers fill and the peer's writes block.
"""

from __future__ import annotations

import asyncio
import logging

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.live.base import MAX_RAW_TEXT, Backoff, Connection, LiveSource
from workbench.sources.live.options import LiveOptions, LiveSpec, check_bind_address, check_port

logger = logging.getLogger(__name__)

#: Bytes read from a socket at a time.
READ_BYTES = 1 << 16


class LineReader:
    """Splits a byte stream into lines, rejecting lines longer than the size limit."""

    def __init__(self, source: LiveSource, connection: Connection) -> None:
        self.source = source
        self.connection = connection
        self.limit = source.options.message_max_bytes
        self.pending = b""
        self.offset = 0
        self.discarding = 0
        self.head = b""

    async def feed(self, chunk: bytes) -> None:
        """Add received bytes; put each complete line into the source's backlog."""
        source = self.source
        data = self.pending + chunk if self.pending else chunk
        start = 0
        if self.discarding:
            end = data.find(b"\n")
            if end < 0:
                self.discarding += len(data)
                self.pending = b""
                return
            self._end_discard(end + 1)
            start = end + 1
        lines: list[bytes] = []
        sizes: list[int] = []
        offsets: list[int] = []
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            size = end + 1 - start
            if size - 1 > self.limit:
                # Lines before the long one go first, so the rejected row keeps its place.
                await self._flush(lines, sizes, offsets)
                source.reject_oversized(
                    self.connection,
                    data[start : start + MAX_RAW_TEXT],
                    size - 1,
                    offset=self.offset,
                    size=size,
                )
            else:
                stop = end - 1 if end > start and data[end - 1] == 13 else end
                lines.append(data[start:stop])
                sizes.append(size)
                offsets.append(self.offset)
            self.offset += size
            start = end + 1
        await self._flush(lines, sizes, offsets)
        rest = data[start:]
        if len(rest) > self.limit:
            self.discarding = len(rest)
            self.head = rest[:MAX_RAW_TEXT]
            self.pending = b""
        else:
            self.pending = rest

    async def _flush(self, lines: list[bytes], sizes: list[int], offsets: list[int]) -> None:
        if lines:
            await self.source.put_lines(list(lines), self.connection, list(sizes), list(offsets))
            lines.clear()
            sizes.clear()
            offsets.clear()

    def _end_discard(self, size: int) -> None:
        """Reject the line being skipped; ``size`` bytes of it, its line end included, remained."""
        total = self.discarding + size
        length = total - 1 if size else total
        self.source.reject_oversized(
            self.connection, self.head, length, offset=self.offset, size=total
        )
        self.offset += total
        self.discarding = 0
        self.head = b""

    async def finish(self) -> None:
        """Handle the bytes after the last newline when the peer closes."""
        if self.discarding:
            self._end_discard(0)
        elif self.pending.strip():
            size = len(self.pending)
            await self.source.put(
                self.pending.rstrip(b"\r"), self.connection, size=size, offset=self.offset
            )
            self.offset += size
        self.pending = b""


def _peer(writer: asyncio.StreamWriter) -> str:
    address = writer.get_extra_info("peername")
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


class TcpSource(LiveSource):
    """Newline-delimited messages over TCP, as a server or as a client."""

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        self.mode = self.options.values.get("mode", "server")
        self.role = "client" if self.mode == "client" else "server"
        self.hostname = self.options.values.get("hostname", "127.0.0.1")
        self.port = check_port("port", self.options.text("port"), allow_zero=self.mode == "server")
        self.max_connections = self.options.integer("scan.max-connections", minimum=1)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closed = asyncio.Event()

    async def start(self) -> None:
        if self.mode == "client":
            return
        host = check_bind_address(self.hostname)
        try:
            self._server = await asyncio.start_server(
                self._serve, host, self.port, limit=READ_BYTES
            )
        except OSError as error:
            message = (
                f"cannot listen on {host}:{self.port} for '{self.name}': {error.strerror or error}"
            )
            raise SourceError(message) from error
        bound = self._server.sockets[0].getsockname()
        self.address = (bound[0], bound[1])
        logger.info("%s: listening on %s:%d (TCP)", self.name, bound[0], bound[1])

    async def run(self) -> None:
        if self.mode == "client":
            await self._run_client()
            return
        await self._closed.wait()

    async def close(self) -> None:
        self._closed.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            logger.info("%s: stopped listening", self.name)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer(writer)
        if len(self.connections) >= self.max_connections:
            self.stats.connections_refused += 1
            logger.warning(
                "%s: refused a connection from %s: %d connections are open ('scan.max-connections')",
                self.name,
                peer,
                len(self.connections),
            )
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        connection = self.open_connection(peer)
        reason = "closed by the peer"
        try:
            await self._read(reader, connection)
        except (ConnectionError, OSError) as error:
            reason = f"failed: {error}"
        except asyncio.CancelledError:
            reason = "closed by the workbench"
            raise
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            self.close_connection(connection, reason)
            writer.close()

    async def _read(self, reader: asyncio.StreamReader, connection: Connection) -> None:
        lines = LineReader(self, connection)
        while True:
            chunk = await reader.read(READ_BYTES)
            if not chunk:
                break
            await lines.feed(chunk)
        await lines.finish()

    async def _run_client(self) -> None:
        target = f"{self.hostname}:{self.port}"
        backoff = Backoff(self, target)
        while not self._closed.is_set():
            try:
                reader, writer = await asyncio.open_connection(
                    self.hostname, self.port, limit=READ_BYTES
                )
            except OSError as error:
                await backoff.wait(error.strerror or str(error))
                continue
            self.gap_ended()
            self._writers.add(writer)
            connection = self.open_connection(target)
            reason = "closed by the server"
            received = connection.messages
            try:
                await self._read(reader, connection)
            except (ConnectionError, OSError) as error:
                reason = f"failed: {error}"
            finally:
                self._writers.discard(writer)
                writer.close()
                self.close_connection(connection, reason)
            if self._closed.is_set():
                return
            if connection.messages > received:
                backoff.reset()
            await backoff.wait(reason)
