"""HTTP ingest source: an endpoint that accepts POSTed JSON lines (or text lines).

The server (aiohttp) listens on 'hostname' (127.0.0.1 unless set) and
'port' ('0' picks a free port) and accepts POST requests on 'path'
(default '/'). Each non-blank line of a body is one message; with 'format'
= 'json' a body that starts with '[' may also be one JSON array of objects.
The reply is 202 with ``{"received": n, "rejected": k}``, where ``rejected``
counts the lines over 'scan.message.max-bytes'; lines that are not valid
JSON are found later and land in the rejected rows with the client's
address. While the backlog is full the reply waits, so clients slow down.
A body over 'http.max-request-bytes' gets 413, and a request beyond
'scan.max-connections' concurrent requests gets 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import orjson
from aiohttp import web

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.live.base import MAX_RAW_TEXT, Connection, LiveSource
from workbench.sources.live.options import LiveOptions, LiveSpec, check_bind_address, check_port

logger = logging.getLogger(__name__)


class HttpSource(LiveSource):
    """POSTed lines on an HTTP endpoint."""

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        self.hostname = check_bind_address(options.values.get("hostname", "127.0.0.1"))
        self.port = check_port("port", options.text("port"), allow_zero=True)
        self.path = options.values.get("path", "/")
        self.max_request_bytes = options.integer("http.max-request-bytes", minimum=1)
        self.max_clients = options.integer("scan.max-connections", minimum=1)
        self._clients: OrderedDict[str, Connection] = OrderedDict()
        self._active = 0
        self._runner: web.AppRunner | None = None
        self._closed = asyncio.Event()

    async def start(self) -> None:
        app = web.Application(client_max_size=self.max_request_bytes)
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.hostname, self.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            message = f"cannot listen on {self.hostname}:{self.port} (HTTP) for '{self.name}': {error.strerror or error}"
            raise SourceError(message) from error
        server = site._server
        assert isinstance(server, asyncio.Server)
        bound = server.sockets[0].getsockname()
        self.address = (bound[0], bound[1])
        logger.info("%s: listening on http://%s:%d%s", self.name, bound[0], bound[1], self.path)

    async def run(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        self._closed.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            logger.info("%s: stopped listening", self.name)
        for connection in list(self._clients.values()):
            self.close_connection(connection, "closed by the workbench")
        self._clients.clear()

    def _client(self, request: web.Request) -> Connection:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        name = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(request.remote)
        connection = self._clients.get(name)
        if connection is not None:
            self._clients.move_to_end(name)
            return connection
        if len(self._clients) >= self.max_clients:
            _, oldest = self._clients.popitem(last=False)
            self.close_connection(oldest, "moved out by newer clients")
        connection = self.open_connection(name)
        self._clients[name] = connection
        return connection

    async def _handle(self, request: web.Request) -> web.Response:
        if self._active >= self.max_clients:
            self.stats.connections_refused += 1
            return web.json_response(
                {"error": "too many concurrent requests; retry later"}, status=503
            )
        self._active += 1
        try:
            return await self._ingest(request)
        finally:
            self._active -= 1

    async def _ingest(self, request: web.Request) -> web.Response:
        connection = self._client(request)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self.reject(
                connection,
                f"request body is longer than 'http.max-request-bytes' ({self.max_request_bytes})",
                "",
                size=request.content_length or 0,
            )
            raise
        received = 0
        rejected = 0
        stripped = body.lstrip()
        if self.options.format == "json" and stripped.startswith(b"["):
            received, rejected = await self._array(body, connection)
        else:
            offset = 0
            for line in body.split(b"\n"):
                size = len(line) + 1
                text = line.rstrip(b"\r")
                if not text.strip():
                    offset += size
                    continue
                if len(text) > self.options.message_max_bytes:
                    self.reject_oversized(connection, text[:MAX_RAW_TEXT], len(text), offset=offset)
                    rejected += 1
                else:
                    await self.put(text, connection, size=size, offset=offset)
                    received += 1
                offset += size
        return web.json_response({"received": received, "rejected": rejected}, status=202)

    async def _array(self, body: bytes, connection: Connection) -> tuple[int, int]:
        try:
            values = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            self.reject(connection, f"invalid JSON array: {error}", body, size=len(body))
            return 0, 1
        received = 0
        for value in values:
            await self.put(
                value if isinstance(value, dict) else orjson.dumps(value), connection, size=0
            )
            received += 1
        self.stats.bytes_read += len(body)
        connection.bytes += len(body)
        return received, 0
