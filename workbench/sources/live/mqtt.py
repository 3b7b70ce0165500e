"""MQTT source: messages of one or more topic filters (wildcards '+' and '#' allowed).

The client (aiomqtt, on paho-mqtt) connects to 'hostname' (127.0.0.1
unless set) and 'port' (1883) and subscribes to each filter of 'topic'
(comma-separated) with QoS 'qos' (default 1). Its session is persistent
(clean_session off, client id 'client-id', default 'workbench-TABLE-PID'),
so the broker keeps QoS 1 and 2 messages for it while it reconnects with
exponential backoff. 'mqtt.topic-column' names a column that receives each
message's topic. MQTT gives the client no way to pause the broker, so a
message that arrives while the backlog is full is dropped and counted.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import aiomqtt

from workbench.events.schema import Schema
from workbench.sources.live.base import MAX_RAW_TEXT, Backoff, Connection, LiveSource
from workbench.sources.live.options import LiveOptions, LiveSpec, check_port

logger = logging.getLogger(__name__)


class MqttSource(LiveSource):
    """Messages of MQTT topics."""

    role = "client"

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        super().__init__(name, schema, options, spec)
        values = options.values
        self.hostname = values["hostname"]
        self.port = check_port("port", values["port"], allow_zero=False)
        self.topics = [topic.strip() for topic in values["topic"].split(",") if topic.strip()]
        self.qos = int(values["qos"])
        self.client_id = values.get("client-id") or f"workbench-{name}-{os.getpid()}"
        self.topic_column = values.get("mqtt.topic-column")
        self._closed = asyncio.Event()

    @property
    def target(self) -> str:
        return f"mqtt://{self.hostname}:{self.port}"

    async def run(self) -> None:
        backoff = Backoff(self, self.target)
        while not self._closed.is_set():
            connection: Connection | None = None
            try:
                async with aiomqtt.Client(
                    self.hostname,
                    self.port,
                    identifier=self.client_id,
                    clean_session=False,
                    max_queued_incoming_messages=self.options.backlog_max_rows,
                ) as client:
                    for topic in self.topics:
                        await client.subscribe(topic, qos=self.qos)
                    self.gap_ended()
                    connection = self.open_connection(self.target)
                    logger.info(
                        "%s: subscribed to %s at %s", self.name, ", ".join(self.topics), self.target
                    )
                    async for message in client.messages:
                        self._receive(connection, message)
                        backoff.reset()
            except aiomqtt.MqttError as error:
                if connection is not None:
                    self.close_connection(connection, f"failed: {error}")
                    connection = None
                await backoff.wait(error)
            finally:
                if connection is not None:
                    self.close_connection(connection, "closed by the workbench")

    def _receive(self, connection: Connection, message: aiomqtt.Message) -> None:
        payload = message.payload
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        topic = str(message.topic)
        label = f"topic {topic}"
        if len(data) > self.options.message_max_bytes:
            self.reject_oversized(connection, data[:MAX_RAW_TEXT], len(data), label=label)
            return
        extra: dict[str, Any] | None = None
        if self.topic_column is not None:
            extra = {self.topic_column: topic}
        self.offer(data, connection, size=len(data), label=label, extra=extra)

    async def close(self) -> None:
        self._closed.set()
