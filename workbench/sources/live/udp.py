"""UDP source: one message per datagram (a JSON object, or a line of text such as syslog).

The source listens on 'hostname' (127.0.0.1 unless set) and 'port' ('0'
picks a free port). UDP has no flow control, so when the backlog is full a
datagram is dropped and counted (``dropped`` in the source's counters and
in the sender's connection row). A datagram longer than
'scan.message.max-bytes' is rejected. Each sender address counts as one
connection; the newest 'scan.max-connections' senders keep their own row,
older ones are moved to the closed connections.

The socket requests a receive buffer of 'udp.receive-buffer-bytes' (the
kernel caps it at net.core.rmem_max). Datagrams the kernel drops because
that buffer was full never reach the source; on Linux the source reads
their count from /proc/net/udp into ``dropped_by_kernel``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import OrderedDict
from pathlib import Path

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.live.base import MAX_RAW_TEXT, Connection, LiveSource
from workbench.sources.live.options import LiveOptions, LiveSpec, check_bind_address, check_port

logger = logging.getLogger(__name__)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, source: UdpSource) -> None:
        self.source = source

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.source.received(data, addr)

    def error_received(self, exc: Exception) -> None:
        logger.warning("%s: receive error: %s", self.source.name, exc)


class UdpSource(LiveSource):
    """Datagrams on a UDP port."""

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        self.hostname = check_bind_address(options.values.get("hostname", "127.0.0.1"))
        self.port = check_port("port", options.text("port"), allow_zero=True)
        self.max_senders = options.integer("scan.max-connections", minimum=1)
        self.receive_buffer = options.integer("udp.receive-buffer-bytes", minimum=1)
        self._senders: OrderedDict[str, Connection] = OrderedDict()
        self._transport: asyncio.DatagramTransport | None = None
        self._closed = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(self.hostname, self.port)
            )
        except OSError as error:
            message = f"cannot listen on {self.hostname}:{self.port} (UDP) for '{self.name}': {error.strerror or error}"
            raise SourceError(message) from error
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
            granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            logger.info("%s: UDP receive buffer of %d bytes", self.name, granted)
        bound = transport.get_extra_info("sockname")
        self.address = (bound[0], bound[1])
        logger.info("%s: listening on %s:%d (UDP)", self.name, bound[0], bound[1])

    async def run(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        self._closed.set()
        self.stats.dropped_by_kernel = self.kernel_drops() or self.stats.dropped_by_kernel
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            logger.info("%s: stopped listening", self.name)
        for connection in list(self._senders.values()):
            self.close_connection(connection, "closed by the workbench")
        self._senders.clear()

    def _sender(self, addr: tuple[str | object, ...]) -> Connection:
        peer = f"{addr[0]}:{addr[1]}" if len(addr) >= 2 else str(addr)
        connection = self._senders.get(peer)
        if connection is not None:
            self._senders.move_to_end(peer)
            return connection
        if len(self._senders) >= self.max_senders:
            _, oldest = self._senders.popitem(last=False)
            self.close_connection(oldest, "moved out by newer senders")
        connection = self.open_connection(peer)
        self._senders[peer] = connection
        return connection

    def received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        connection = self._sender(addr)
        size = len(data)
        if size > self.options.message_max_bytes:
            self.reject_oversized(connection, data[:MAX_RAW_TEXT], size)
            return
        payload = data[:-1] if data.endswith(b"\n") else data
        self.offer(payload, connection, size=size)

    def kernel_drops(self) -> int | None:
        """Return the datagrams the kernel dropped for this socket (Linux), or None if unknown."""
        if self.address is None or self._transport is None:
            return None
        port = f"{self.address[1]:04X}"
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) > 12 and fields[1].endswith(f":{port}"):
                    return int(fields[12])
        return None

    def refresh(self) -> None:
        drops = self.kernel_drops()
        if drops is not None:
            self.stats.dropped_by_kernel = drops
