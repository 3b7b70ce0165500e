"""The base of live sources: a bounded backlog of messages, counters, and decoding into frames.

A live source runs on an asyncio event loop. Its connector code receives
messages (lines, datagrams, request bodies, stream entries) and adds them
to the source's backlog. :meth:`LiveSource.put` waits while the backlog is
full, so TCP, Redis and Kafka readers stop reading and their peers slow
down. :meth:`LiveSource.offer` drops and counts the message instead (UDP,
MQTT). The live clock takes the backlog in
micro-batches, and :meth:`LiveSource.decode` turns a batch into a frame
conformed to the table's schema. A malformed message becomes a rejected row
whose reason names the peer that sent it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson
import pandas as pd

from workbench.errors import SourceError
from workbench.events.conform import conform
from workbench.events.convert import paused_gc
from workbench.events.convert_nested import field_values
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema
from workbench.events.types import TypeKind
from workbench.sources.live.columns import typed_column
from workbench.sources.live.syslog_lines import LIVE_SYSLOG_FORMATS, SyslogLines
from workbench.sources.reader import ReaderCounters

if TYPE_CHECKING:
    from workbench.sources.live.options import LiveOptions, LiveSpec

logger = logging.getLogger(__name__)

#: Characters of a rejected message kept as its raw text.
MAX_RAW_TEXT = 1_000
#: Closed connections whose counters are kept, newest first out.
MAX_CLOSED_CONNECTIONS = 1_000
#: Disconnection gaps kept with their times.
MAX_GAPS = 1_000


@dataclass
class LiveCounters(ReaderCounters):
    """Counts of a live source since it started.

    ``rows_read`` counts rows delivered, ``rows_rejected`` malformed or
    oversized messages, ``bytes_read`` the bytes received. ``dropped``
    counts messages thrown away because the backlog was full; ``backlog``
    is the number of messages waiting now and ``backlog_peak`` its maximum.
    A gap is a time without a connection to the server of a client source.
    """

    messages: int = 0
    dropped: int = 0
    dropped_by_kernel: int = 0
    acknowledged: int = 0
    backlog: int = 0
    backlog_peak: int = 0
    connections: int = 0
    connections_open: int = 0
    connections_refused: int = 0
    reconnect_attempts: int = 0
    gaps: int = 0
    gap_seconds: float = 0.0


@dataclass
class Connection:
    """Counters of one peer: a TCP or WebSocket connection, a UDP sender, an HTTP client.

    ``messages`` numbers the peer's messages, so a rejected message has its
    number in the rejected rows' line column.
    """

    peer: str
    opened: float = field(default_factory=time.time)
    closed: float | None = None
    messages: int = 0
    bytes: int = 0
    rejected: int = 0
    dropped: int = 0

    def row(self, now: float) -> dict[str, Any]:
        end = self.closed if self.closed is not None else now
        seconds = max(end - self.opened, 1e-9)
        return {
            "peer": self.peer,
            "opened": pd.Timestamp(self.opened, unit="s"),
            "closed": pd.Timestamp(self.closed, unit="s") if self.closed is not None else pd.NaT,
            "messages": self.messages,
            "bytes": self.bytes,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "messages_per_second": self.messages / seconds,
            "bytes_per_second": self.bytes / seconds,
        }


class BoundedRejected(RejectedRows):
    """Rejected rows that keep the newest ``max_rows`` rows of an unbounded feed."""

    def __init__(self, source: str, max_rows: int) -> None:
        super().__init__(source)
        self.max_rows = max_rows
        self.discarded = 0

    def trim(self) -> None:
        excess = len(self.rows) - self.max_rows
        if excess > 0:
            del self.rows[:excess]
            self.discarded += excess


@dataclass
class Message:
    """One message in the backlog: its payload, who sent it, and where it was in their stream.

    ``label`` names the message at its server (a stream entry id, a Kafka
    offset) in rejected rows. ``extra`` contains column values that come with
    the message rather than in it (the MQTT topic).
    """

    payload: Any
    connection: Connection
    number: int
    offset: int | None = None
    token: Any = None
    label: str | None = None
    extra: dict[str, Any] | None = None

    @property
    def sender(self) -> str:
        """Return the peer, with the message's label when it has one."""
        peer = self.connection.peer
        return f"{peer} ({self.label})" if self.label else peer


@dataclass
class Taken:
    """A micro-batch taken from the backlog: the messages and the acknowledgement tokens."""

    messages: list[Message]
    tokens: list[Any]


class LiveSource:
    """A live feed of one table; subclasses implement :meth:`run` (and :meth:`start` for servers).

    ``start()`` binds or connects before the clock reports the feed as
    started, so a server's port is known (``address``). ``run()`` receives
    messages until the source is closed or, for a finite input, ends. The
    clock takes the backlog with :meth:`take` and acknowledges the tokens of
    processed messages with :meth:`acknowledge`.
    """

    role: Literal["server", "client", "local"] = "server"

    def __init__(self, name: str, schema: Schema, options: LiveOptions, spec: LiveSpec) -> None:
        self.name = name
        self.schema = schema
        self.options = options
        self.spec = spec
        self.chunk_rows = options.batch_max_rows
        self.stats = LiveCounters()
        # The reader protocol's names for the same objects.
        self.counters: ReaderCounters = self.stats
        self.kept_rejected = BoundedRejected(name, options.rejected_max_rows)
        self.rejected: RejectedRows = self.kept_rejected
        self.address: tuple[str, int] | None = None
        self.connections: dict[int, Connection] = {}
        self.closed_connections: deque[Connection] = deque(maxlen=MAX_CLOSED_CONNECTIONS)
        self.gap_log: deque[dict[str, Any]] = deque(maxlen=MAX_GAPS)
        self.ended = False
        self._backlog: deque[Message] = deque()
        self._arrived: asyncio.Event | None = None
        self._full: asyncio.Event | None = None
        self._space: asyncio.Event | None = None
        self._first_arrival = 0.0
        self._gap_started: float | None = None
        self._gap_reason = ""
        self._connection_ids = 0
        self._syslog: SyslogLines | None = None

    # Reader protocol, for the views and the progress of a query -------------------------

    @property
    def size_unit(self) -> Literal["bytes", "rows"]:
        return "rows"

    def size_hint(self) -> int | None:
        return None

    def position(self) -> int:
        return self.stats.rows_read

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Raise TypeError: a live source is driven by the live clock, not pulled."""
        message = f"live source '{self.name}' has no chunks to pull: the live clock drives it"
        raise TypeError(message)

    # Life cycle --------------------------------------------------------------------------

    def attach(self, value: object) -> None:
        """Receive the Python object a connector reads (the iterable of a 'python' table)."""
        message = f"connector '{self.spec.name}' takes no Python object"
        raise SourceError(message)

    def bind_events(self) -> None:
        """Create the asyncio events on the running loop."""
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()

    async def start(self) -> None:
        """Bind a server socket or make the first connection attempt."""

    async def run(self) -> None:
        """Receive messages until closed (or, for a finite input, until the input ends)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop receiving: close servers and connections."""

    async def finalize(self) -> None:
        """Release clients after the last batch has been acknowledged."""

    def refresh(self) -> None:
        """Update counters that are read from outside the source (the kernel's drops)."""

    # Connections and gaps -----------------------------------------------------------------

    def open_connection(self, peer: str) -> Connection:
        self._connection_ids += 1
        connection = Connection(peer)
        self.connections[self._connection_ids] = connection
        self.stats.connections += 1
        self.stats.connections_open = len(self.connections)
        logger.info("%s: connection from %s opened", self.name, peer)
        return connection

    def close_connection(self, connection: Connection, reason: str = "closed") -> None:
        for key, value in list(self.connections.items()):
            if value is connection:
                del self.connections[key]
        connection.closed = time.time()
        self.closed_connections.append(connection)
        self.stats.connections_open = len(self.connections)
        logger.info(
            "%s: connection from %s %s after %d messages",
            self.name,
            connection.peer,
            reason,
            connection.messages,
        )

    def connection_table(self) -> pd.DataFrame:
        """Return one row per connection, open ones first, with message and byte rates."""
        now = time.time()
        rows = [connection.row(now) for connection in self.connections.values()]
        rows += [connection.row(now) for connection in reversed(self.closed_connections)]
        frame = pd.DataFrame(
            rows,
            columns=[
                "peer",
                "opened",
                "closed",
                "messages",
                "bytes",
                "rejected",
                "dropped",
                "messages_per_second",
                "bytes_per_second",
            ],
        )
        frame.insert(0, "source", self.name)
        return frame

    def gap_started(self, reason: str) -> None:
        """Record that a client source lost its server; the gap lasts until :meth:`gap_ended`."""
        if self._gap_started is None:
            self._gap_started = time.time()
            self._gap_reason = reason

    def gap_ended(self) -> None:
        if self._gap_started is None:
            return
        ended = time.time()
        seconds = ended - self._gap_started
        self.stats.gaps += 1
        self.stats.gap_seconds += seconds
        self.gap_log.append(
            {
                "source": self.name,
                "start": pd.Timestamp(self._gap_started, unit="s"),
                "end": pd.Timestamp(ended, unit="s"),
                "seconds": seconds,
                "reason": self._gap_reason,
            }
        )
        logger.info("%s: reconnected after a gap of %.3f s", self.name, seconds)
        self._gap_started = None

    def gap_seconds_now(self) -> float:
        """Return the seconds of gaps so far, the open gap included."""
        open_gap = time.time() - self._gap_started if self._gap_started is not None else 0.0
        return self.stats.gap_seconds + open_gap

    # The backlog ---------------------------------------------------------------------------

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    def _accept(self, message: Message, size: int) -> None:
        self._accept_many([message], size)

    def _accept_many(self, messages: list[Message], size: int) -> None:
        """Append messages of one connection, ``size`` bytes in all, to the backlog."""
        connection = messages[0].connection
        self.stats.messages += len(messages)
        self.stats.bytes_read += size
        connection.bytes += size
        if not self._backlog:
            self._first_arrival = time.monotonic()
            if self._arrived is not None:
                self._arrived.set()
        self._backlog.extend(messages)
        length = len(self._backlog)
        self.stats.backlog = length
        self.stats.backlog_peak = max(self.stats.backlog_peak, length)
        if length >= self.options.batch_max_rows and self._full is not None:
            self._full.set()
        if length >= self.options.backlog_max_rows and self._space is not None:
            self._space.clear()

    def next_number(self, connection: Connection) -> int:
        connection.messages += 1
        return connection.messages

    async def put(
        self,
        payload: Any,
        connection: Connection,
        *,
        size: int,
        offset: int | None = None,
        token: Any = None,
        label: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Add a message to the backlog, waiting while the backlog is full."""
        number = self.next_number(connection)
        await self.wait_for_space()
        self._accept(Message(payload, connection, number, offset, token, label, extra), size)

    async def put_lines(
        self, lines: list[bytes], connection: Connection, sizes: list[int], offsets: list[int]
    ) -> None:
        """Add the lines of one connection to the backlog, waiting whenever it is full."""
        start = 0
        while start < len(lines):
            await self.wait_for_space()
            stop = min(len(lines), start + max(1, self.space()))
            first = connection.messages + 1
            connection.messages += stop - start
            messages = [
                Message(lines[index], connection, first + index - start, offsets[index])
                for index in range(start, stop)
            ]
            self._accept_many(messages, sum(sizes[start:stop]))
            start = stop

    async def wait_for_space(self) -> None:
        """Wait while the backlog is full."""
        if len(self._backlog) >= self.options.backlog_max_rows:
            assert self._space is not None
            await self._space.wait()

    def space(self) -> int:
        """Return how many messages the backlog can take before it is full."""
        return max(0, self.options.backlog_max_rows - len(self._backlog))

    def offer(
        self,
        payload: Any,
        connection: Connection,
        *,
        size: int,
        label: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Add a message unless the backlog is full; count a drop and return False then."""
        number = self.next_number(connection)
        if len(self._backlog) >= self.options.backlog_max_rows:
            self.stats.messages += 1
            self.stats.bytes_read += size
            self.stats.dropped += 1
            connection.dropped += 1
            if self.stats.dropped in (1, 1_000) or self.stats.dropped % 100_000 == 0:
                logger.warning(
                    "%s: backlog full (%d messages): dropped %d messages so far",
                    self.name,
                    self.options.backlog_max_rows,
                    self.stats.dropped,
                )
            return False
        self._accept(Message(payload, connection, number, label=label, extra=extra), size)
        return True

    def reject(
        self,
        connection: Connection,
        reason: str,
        raw: bytes | str,
        *,
        number: int | None = None,
        offset: int | None = None,
        size: int | None = None,
        label: str | None = None,
    ) -> None:
        """Keep a message that cannot be read in the rejected rows, with the peer that sent it."""
        if number is None:
            number = self.next_number(connection)
        if size is not None:
            self.stats.messages += 1
            self.stats.bytes_read += size
            connection.bytes += size
        text = raw if isinstance(raw, str) else raw[: MAX_RAW_TEXT * 4].decode("utf-8", "replace")
        sender = f"{connection.peer} ({label})" if label else connection.peer
        self.rejected.add(
            f"from {sender}: {reason}", text[:MAX_RAW_TEXT], line=number, offset=offset
        )
        self.kept_rejected.trim()
        self.stats.rows_rejected += 1
        connection.rejected += 1

    def reject_oversized(
        self,
        connection: Connection,
        head: bytes,
        length: int,
        *,
        offset: int | None = None,
        size: int | None = None,
        label: str | None = None,
    ) -> None:
        """Reject a message of ``length`` bytes (``size`` received, line end included)."""
        limit = self.options.message_max_bytes
        self.reject(
            connection,
            f"message of {length} bytes is longer than 'scan.message.max-bytes' ({limit})",
            head,
            offset=offset,
            size=length if size is None else size,
            label=label,
        )

    async def wait_for_batch(self, stop: asyncio.Event) -> None:
        """Wait until a batch is due: full, or the batch interval after its first message."""
        assert self._arrived is not None and self._full is not None
        while not self._backlog and not self.ended and not stop.is_set():
            self._arrived.clear()
            await _first(self._arrived.wait(), stop.wait())
        if not self._backlog:
            return
        interval = self.options.batch_interval_ns / 1e9
        while len(self._backlog) < self.options.batch_max_rows and not self.ended:
            remaining = self._first_arrival + interval - time.monotonic()
            if remaining <= 0 or stop.is_set():
                return
            self._full.clear()
            try:
                await asyncio.wait_for(self._full.wait(), remaining)
            except TimeoutError:
                return

    def waiting_since(self, moment: float) -> None:
        """Date the backlog's first message back to ``moment`` (``time.monotonic``) if it is later."""
        if self._backlog and self._first_arrival > moment:
            self._first_arrival = moment

    def take(self) -> Taken:
        """Remove the next micro-batch (at most 'scan.batch.max-rows' messages) from the backlog."""
        count = min(len(self._backlog), self.options.batch_max_rows)
        messages = [self._backlog.popleft() for _ in range(count)]
        if self._backlog:
            self._first_arrival = time.monotonic()
        self.stats.backlog = len(self._backlog)
        if len(self._backlog) < self.options.backlog_max_rows and self._space is not None:
            self._space.set()
        tokens = [message.token for message in messages if message.token is not None]
        return Taken(messages, tokens)

    async def acknowledge(self, tokens: Sequence[Any]) -> None:
        """Confirm to the server that these messages were processed (Redis, Kafka)."""
        self.stats.acknowledged += len(tokens)

    # Decoding -----------------------------------------------------------------------------

    def decode(self, messages: list[Message]) -> pd.DataFrame:
        """Return the rows of a micro-batch, conformed to the schema; bad messages are rejected."""
        with paused_gc():
            if self.options.format in LIVE_SYSLOG_FORMATS:
                result = self._syslog_frame(messages)
            elif self.options.format == "raw":
                frame, kept = self._raw_frame(messages)
                result = self._conform(frame, kept)
            else:
                frame, kept = self._json_frame(messages)
                result = self._conform(frame, kept)
        self.stats.rows_read += len(result)
        self.stats.chunks += 1
        return result

    def _json_frame(self, messages: list[Message]) -> tuple[pd.DataFrame, list[Message]]:
        objects = _parse_all(messages)
        if objects is not None:
            return self._columns(objects), messages
        objects = []
        kept: list[Message] = []
        for message in messages:
            payload = message.payload
            if isinstance(payload, dict):
                objects.append(payload if message.extra is None else {**payload, **message.extra})
                kept.append(message)
                continue
            try:
                value = orjson.loads(payload)
            except orjson.JSONDecodeError as error:
                if isinstance(payload, bytes | str) and not payload.strip():
                    self.stats.lines_skipped += 1
                    continue
                self._reject_message(message, f"invalid JSON: {error}")
                continue
            if not isinstance(value, dict):
                self._reject_message(
                    message, f"expected a JSON object, found {type(value).__name__}"
                )
                continue
            if message.extra is not None:
                value.update(message.extra)
            objects.append(value)
            kept.append(message)
        return self._columns(objects), kept

    def _columns(self, objects: list[dict[str, Any]]) -> pd.DataFrame:
        """Return one column per schema column, typed directly where the values allow."""
        keys: set[str] = set().union(*objects) if objects else set()
        columns: dict[str, Any] = {}
        for column in self.schema:
            values = field_values(objects, column.name, keys)
            typed = typed_column(values, column.type, self.options.conform)
            columns[column.name] = typed if typed is not None else pd.Series(values, dtype=object)
        return pd.DataFrame(columns, index=pd.RangeIndex(len(objects)))

    def _syslog_frame(self, messages: list[Message]) -> pd.DataFrame:
        """Parse syslog lines with the syslog file reader; reject the lines it rejects."""
        if self._syslog is None:
            self._syslog = SyslogLines(self.name, self.schema, self.options.values)
        lines = [
            message.payload
            if isinstance(message.payload, bytes)
            else _text(message.payload).encode()
            for message in messages
        ]
        frame, failures = self._syslog.parse(lines)
        for index, reason in failures:
            self._reject_message(messages[index], reason)
        return frame

    def _raw_frame(self, messages: list[Message]) -> tuple[pd.DataFrame, list[Message]]:
        column = self.schema.columns[0]
        binary = column.type.kind is TypeKind.BINARY
        values: list[object] = []
        kept: list[Message] = []
        for message in messages:
            payload = message.payload
            if isinstance(payload, bytes) and not binary:
                try:
                    payload = payload.decode("utf-8")
                except UnicodeDecodeError as error:
                    self._reject_message(
                        message, f"invalid UTF-8: {error.reason} at byte {error.start}"
                    )
                    continue
            elif isinstance(payload, str) and binary:
                payload = payload.encode("utf-8")
            values.append(payload)
            kept.append(message)
        frame = pd.DataFrame({column.name: pd.Series(values, dtype=object)})
        return frame, kept

    def _conform(self, frame: pd.DataFrame, kept: list[Message]) -> pd.DataFrame:
        """Conform a frame; a row that fails is rejected with its peer and message number."""
        before = len(self.rejected)
        sequence = np.arange(len(kept), dtype=np.int64)
        raw = _RawTexts(kept)
        result = conform(
            frame,
            self.schema,
            self.rejected,
            lines=sequence,
            raw=raw,
            options=self.options.conform,
        )
        rows = self.rejected.rows
        for index in range(before, len(rows)):
            source, position, _, reason, text = rows[index]
            message = kept[position or 0]
            message.connection.rejected += 1
            rows[index] = (
                source,
                message.number,
                message.offset,
                f"from {message.sender}: {reason}",
                text,
            )
        self.stats.rows_rejected += len(rows) - before
        self.kept_rejected.trim()
        return result

    def _reject_message(self, message: Message, reason: str) -> None:
        payload = message.payload
        text = payload if isinstance(payload, str) else _text(payload)
        self.reject(
            message.connection,
            reason,
            text,
            number=message.number,
            offset=message.offset,
            label=message.label,
        )


def _parse_all(messages: list[Message]) -> list[dict[str, Any]] | None:
    """Parse a batch of JSON objects in one pass; None when any message needs a closer look.

    A batch with a message that is not one valid JSON object, or that carries
    extra values or an already parsed object, goes message by message.
    """
    if any(type(message.payload) is not bytes or message.extra is not None for message in messages):
        return None
    loads = orjson.loads
    try:
        values = [loads(message.payload) for message in messages]
    except orjson.JSONDecodeError:
        return None
    if any(type(value) is not dict for value in values):
        return None
    return values


class _RawTexts(Sequence[str]):
    """The text of each kept message, built only for the rows that are rejected."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages

    def __len__(self) -> int:
        return len(self.messages)

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return _text(self.messages[index].payload)


def _text(payload: object) -> str:
    if isinstance(payload, bytes):
        return payload[: MAX_RAW_TEXT * 4].decode("utf-8", "replace")
    if isinstance(payload, str):
        return payload
    return repr(payload)


async def _first(*waits: Any) -> None:
    """Wait until the first of several awaitables completes; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class Backoff:
    """Exponential backoff between reconnection attempts of a client source.

    The delay starts at 'reconnect.initial-delay', doubles after each failed
    attempt up to 'reconnect.max-delay', and starts over after a connection
    that delivered data. Each attempt is logged. With 'reconnect.max-attempts'
    set, the source fails after that many attempts in a row.
    """

    def __init__(self, source: LiveSource, target: str) -> None:
        self.source = source
        self.target = target
        self.attempts = 0
        self.delay_ns = source.options.reconnect_initial_ns

    def reset(self) -> None:
        self.attempts = 0
        self.delay_ns = self.source.options.reconnect_initial_ns

    async def wait(self, error: BaseException | str) -> None:
        """Log a failed connection and sleep before the next attempt; raise when out of attempts."""
        options = self.source.options
        self.attempts += 1
        self.source.stats.reconnect_attempts += 1
        self.source.gap_started(str(error))
        limit = options.reconnect_max_attempts
        if limit is not None and self.attempts > limit:
            message = f"{self.source.name}: cannot connect to {self.target} after {limit} attempts: {error}"
            raise SourceError(message)
        delay = self.delay_ns / 1e9
        logger.warning(
            "%s: connection to %s failed (%s); attempt %d in %.3f s",
            self.source.name,
            self.target,
            error,
            self.attempts,
            delay,
        )
        await asyncio.sleep(delay)
        self.delay_ns = min(self.delay_ns * 2, options.reconnect_max_ns)
