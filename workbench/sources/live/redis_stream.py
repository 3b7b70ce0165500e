"""Redis Streams source: a consumer group reads a stream and acknowledges processed entries.

The source connects to 'url' (default redis://127.0.0.1:6379) and reads
'stream' as consumer 'consumer' of group 'group' with XREADGROUP. It
acknowledges entries (XACK) only after the queries have processed the
micro-batch they are in, so entries delivered but not processed stay
pending: after a reconnection (or a restart with the same consumer name)
the source first reads its pending entries again, then new ones. Delivery
is therefore at least once. 'scan.startup.mode' decides where a new group
starts: 'group-offsets' (the default) keeps an existing group's position
and creates a missing group at the start of the stream, 'earliest' and
'latest' move the group to the start or to the end.

'format' = 'fields' (the default) maps an entry's fields to columns by
name; 'json' and 'raw' read the one field 'redis.field' (default 'data').
While the backlog is full the source reads nothing, so entries wait in
Redis. The client reconnects with exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from workbench.events.schema import Schema
from workbench.sources.live.base import Backoff, Connection, LiveSource
from workbench.sources.live.options import LiveOptions, LiveSpec

logger = logging.getLogger(__name__)


class RedisStreamSource(LiveSource):
    """Entries of a Redis stream, read in a consumer group."""

    role = "client"

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        values = options.values
        self.url = values["url"]
        self.stream = options.text("stream")
        self.group = values["group"]
        self.consumer = values.get("consumer") or f"workbench-{name}-{os.getpid()}"
        self.startup = values["scan.startup.mode"]
        self.field = values["redis.field"].encode()
        self.block_ms = options.integer("redis.block-ms", minimum=1)
        self._client: aioredis.Redis | None = None
        self._closed = asyncio.Event()

    @property
    def target(self) -> str:
        return f"{self.url} stream '{self.stream}'"

    async def run(self) -> None:
        backoff = Backoff(self, self.target)
        first = True
        while not self._closed.is_set():
            client = aioredis.Redis.from_url(self.url, decode_responses=False)
            connection: Connection | None = None
            try:
                await client.ping()
                await self._prepare_group(client, first)
                first = False
                self._client = client
                self.gap_ended()
                connection = self.open_connection(self.target)
                logger.info(
                    "%s: reading %s as consumer '%s' of group '%s'",
                    self.name,
                    self.target,
                    self.consumer,
                    self.group,
                )
                await self._read(client, connection, backoff)
            except (RedisError, OSError) as error:
                if connection is not None:
                    self.close_connection(connection, f"failed: {error}")
                    connection = None
                self._client = None
                await client.aclose()
                await backoff.wait(error)
                continue
            finally:
                if connection is not None:
                    self.close_connection(connection, "closed by the workbench")
            await client.aclose()

    async def _prepare_group(self, client: aioredis.Redis, first: bool) -> None:
        start = "$" if self.startup == "latest" else "0"
        try:
            await client.xgroup_create(self.stream, self.group, id=start, mkstream=True)
            logger.info("%s: created group '%s' at %s", self.name, self.group, start)
            return
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        if first and self.startup in ("earliest", "latest"):
            await client.xgroup_setid(self.stream, self.group, start)
            logger.info("%s: moved group '%s' to %s", self.name, self.group, start)

    async def _read(self, client: aioredis.Redis, connection: Connection, backoff: Backoff) -> None:
        # Entries delivered to this consumer before and never acknowledged come first.
        pending_after: bytes | None = b"0"
        while not self._closed.is_set():
            await self.wait_for_space()
            count = max(1, min(self.options.batch_max_rows, self.space()))
            position = pending_after if pending_after is not None else b">"
            block = None if pending_after is not None else self.block_ms
            # RESP2 replies: [[stream, [(id, fields), ...]]], and fields is None for a
            # pending entry that was deleted from the stream.
            reply: Any = await client.xreadgroup(
                self.group, self.consumer, {self.stream: position}, count=count, block=block
            )
            entries = reply[0][1] if reply else []
            if pending_after is not None and not entries:
                pending_after = None
                continue
            for entry_id, fields in entries:
                if fields is None:
                    self._acknowledge_rejected(entry_id)
                else:
                    await self._put_entry(connection, entry_id, fields)
                if pending_after is not None:
                    pending_after = entry_id
            if entries:
                backoff.reset()

    async def _put_entry(
        self, connection: Connection, entry_id: bytes, fields: dict[bytes, bytes]
    ) -> None:
        label = f"entry {entry_id.decode()}"
        size = sum(len(key) + len(value) for key, value in fields.items())
        if size > self.options.message_max_bytes:
            self.reject_oversized(connection, b"", size, label=label)
            self._acknowledge_rejected(entry_id)
            return
        payload: Any
        if self.options.format == "fields":
            payload = {
                key.decode("utf-8", "replace"): value.decode("utf-8", "replace")
                for key, value in fields.items()
            }
        else:
            value = fields.get(self.field)
            if value is None:
                names = ", ".join(key.decode("utf-8", "replace") for key in fields)
                self.reject(
                    connection,
                    f"the entry has no field '{self.field.decode()}' (its fields: {names})",
                    repr(fields),
                    size=size,
                    label=label,
                )
                self._acknowledge_rejected(entry_id)
                return
            payload = value
        await self.put(payload, connection, size=size, token=entry_id, label=label)

    def _acknowledge_rejected(self, entry_id: bytes) -> None:
        """Acknowledge a rejected entry at once, so it is not delivered again."""
        client = self._client
        if client is not None:
            task = asyncio.get_running_loop().create_task(self.acknowledge([entry_id]))
            task.add_done_callback(_log_failure)

    async def acknowledge(self, tokens: Sequence[Any]) -> None:
        client = self._client
        if client is None:
            logger.warning(
                "%s: not connected, so %d entries stay pending and will be read again",
                self.name,
                len(tokens),
            )
            return
        try:
            await client.xack(self.stream, self.group, *tokens)
        except (RedisError, OSError) as error:
            logger.warning(
                "%s: acknowledging %d entries failed (%s); they stay pending and will be read again",
                self.name,
                len(tokens),
                error,
            )
            return
        self.stats.acknowledged += len(tokens)

    async def close(self) -> None:
        self._closed.set()

    async def finalize(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("acknowledging a rejected entry failed: %s", task.exception())
