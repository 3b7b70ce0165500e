"""Kafka source: a consumer group that commits offsets only after the queries processed them.

The consumer (confluent-kafka, on librdkafka) connects to
'properties.bootstrap.servers' and subscribes to 'topic' (comma-separated)
in group 'properties.group.id' with automatic commits off. After each
micro-batch has been processed the source commits, per partition, the
offset after the batch's last message, so after a restart the group
resumes after the last processed message: delivery is at least once.
'scan.startup.mode' is 'group-offsets' (the default: committed offsets,
or the start of a partition without any), 'earliest-offset' or
'latest-offset', as in Flink's Kafka connector. Other 'properties.*'
options are passed to the consumer without the prefix.

librdkafka reconnects by itself; 'reconnect.initial-delay' and
'reconnect.max-delay' set its backoff. Each transport error is logged as
an attempt and the time until messages flow again is recorded as a gap.
While the backlog is full the source polls nothing, so messages wait in
Kafka. The consumer's calls run on one worker thread, because they block.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from workbench.errors import SourceError
from workbench.events.schema import Schema
from workbench.sources.live.base import MAX_RAW_TEXT, Connection, LiveSource
from workbench.sources.live.options import LiveOptions, LiveSpec

logger = logging.getLogger(__name__)

#: Seconds one poll waits for messages.
POLL_SECONDS = 0.1
_OWN_OPTIONS = ("properties.bootstrap.servers", "properties.group.id")
#: librdkafka errors that mean the brokers cannot be reached (for now).
_TRANSPORT_ERRORS = {KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._RESOLVE}


class KafkaSource(LiveSource):
    """Messages of Kafka topics, read in a consumer group."""

    role = "client"

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        values = options.values
        self.bootstrap = options.text("properties.bootstrap.servers")
        self.topics = [topic.strip() for topic in options.text("topic").split(",") if topic.strip()]
        self.group = values["properties.group.id"]
        self.startup = values["scan.startup.mode"]
        self.properties = {
            key.removeprefix("properties."): value
            for key, value in values.items()
            if key.startswith("properties.") and key not in _OWN_OPTIONS
        }
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kafka {name}")
        self._consumer: Consumer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Partitions already moved to the start or end, so a rebalance does not move them again.
        self._positioned: set[tuple[str, int]] = set()
        self._errors: dict[int, int] = {}
        self._closed = asyncio.Event()

    @property
    def target(self) -> str:
        return f"kafka://{self.bootstrap} topic {','.join(self.topics)}"

    def _config(self) -> dict[str, Any]:
        reset = "latest" if self.startup == "latest-offset" else "earliest"
        return {
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group,
            "enable.auto.commit": False,
            "auto.offset.reset": reset,
            "reconnect.backoff.ms": max(1, self.options.reconnect_initial_ns // 1_000_000),
            "reconnect.backoff.max.ms": max(1, self.options.reconnect_max_ns // 1_000_000),
            # Keep librdkafka's own prefetch queue near the backlog's size.
            "queued.max.messages.kbytes": max(1_024, self.options.backlog_max_rows // 8),
            "error_cb": self._on_error,
            **self.properties,
        }

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            consumer = await self._call(Consumer, self._config())
        except KafkaException as error:
            message = f"cannot create the Kafka consumer of '{self.name}': {error}"
            raise SourceError(message) from error
        self._consumer = consumer
        await self._call(consumer.subscribe, self.topics, on_assign=self._on_assign)
        connection = self.open_connection(self.target)
        logger.info("%s: reading %s in group '%s'", self.name, self.target, self.group)
        try:
            while not self._closed.is_set():
                await self.wait_for_space()
                count = max(1, min(self.options.batch_max_rows, self.space()))
                messages = await self._call(consumer.consume, count, POLL_SECONDS)
                for message in messages:
                    await self._receive(connection, message)
        finally:
            self.close_connection(connection, "closed by the workbench")

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Start each partition where 'scan.startup.mode' says, the first time it is assigned."""
        if self.startup == "group-offsets":
            return
        offset = OFFSET_BEGINNING if self.startup == "earliest-offset" else OFFSET_END
        for partition in partitions:
            key = (partition.topic, partition.partition)
            if key not in self._positioned:
                partition.offset = offset
                self._positioned.add(key)
        consumer.assign(partitions)

    def _on_error(self, error: KafkaError) -> None:
        """Record a transport error (called on the consumer's thread, inside consume)."""
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._record_error, error)

    def _record_error(self, error: KafkaError) -> None:
        seen = self._errors.get(error.code(), 0) + 1
        self._errors[error.code()] = seen
        if error.code() in _TRANSPORT_ERRORS:
            self.stats.reconnect_attempts += 1
            self.gap_started(error.str())
            logger.warning(
                "%s: cannot reach %s (%s); librdkafka retries, attempt %d",
                self.name,
                self.bootstrap,
                error.str(),
                self.stats.reconnect_attempts,
            )
        elif seen in (1, 10) or seen % 100 == 0:
            logger.warning("%s: Kafka error (%d so far): %s", self.name, seen, error.str())

    async def _receive(self, connection: Connection, message: Any) -> None:
        error = message.error()
        if error is not None:
            if error.fatal():
                text = f"Kafka consumer of '{self.name}' failed: {error.str()}"
                raise SourceError(text)
            self._record_error(error)
            return
        self.gap_ended()
        value = message.value() or b""
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        label = f"{topic}[{partition}] offset {offset}"
        token = (topic, partition, offset)
        if len(value) > self.options.message_max_bytes:
            self.reject_oversized(connection, value[:MAX_RAW_TEXT], len(value), label=label)
            await self.acknowledge([token])
            return
        await self.put(value, connection, size=len(value), token=token, label=label)

    async def acknowledge(self, tokens: Sequence[Any]) -> None:
        consumer = self._consumer
        if consumer is None or not tokens:
            return
        latest: dict[tuple[str, int], int] = {}
        for topic, partition, offset in tokens:
            key = (topic, partition)
            latest[key] = max(latest.get(key, -1), offset)
        offsets = [
            TopicPartition(topic, partition, offset + 1)
            for (topic, partition), offset in latest.items()
        ]
        try:
            await self._call(consumer.commit, offsets=offsets, asynchronous=False)
        except KafkaException as error:
            logger.warning(
                "%s: committing offsets failed (%s); the messages will be read again after a restart",
                self.name,
                error,
            )
            return
        self.stats.acknowledged += len(tokens)

    async def close(self) -> None:
        self._closed.set()

    async def finalize(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await self._call(consumer.close)
        self._executor.shutdown(wait=False)
