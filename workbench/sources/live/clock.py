"""The live clock: drives live sources on an asyncio loop and hands their micro-batches on.

For each feed the clock runs the source's receiving task and a pump. A
micro-batch is due at 'scan.batch.max-rows' messages, or
'scan.batch.interval' after its first message. The pump then decodes it,
calls ``deliver(feed, frame)`` and acknowledges the batch's messages to the
server (Redis Streams, Kafka), so a message is acknowledged only after the
queries have processed it.

Idle feeds: with 'scan.watermark.idle-timeout' set, a feed that received no
message for that long advances its event time with the wall clock from the
last message: ``advance(feed, latest_event_time + seconds_since_last_message)``
is called until the next message arrives, so windows and patterns on a
quiet feed still close. A row that then arrives with an older event time
can be late.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import SourceError, WorkbenchError
from workbench.events.time import MIN_WATERMARK, NS_PER_SECOND, to_ns
from workbench.sources.live.base import LiveSource

logger = logging.getLogger(__name__)

#: Maximum pause between two checks of an idle feed, in seconds.
IDLE_CHECK_SECONDS = 0.2


@dataclass(frozen=True)
class LiveFeed:
    """A named live source and the column that contains its event time."""

    name: str
    source: LiveSource
    time_column: str | None = None


@dataclass
class FeedState:
    """The state of one feed: latest event time and when its last message arrived."""

    feed: LiveFeed
    latest_ns: int = MIN_WATERMARK
    last_arrival: float = 0.0
    ended: bool = False
    failed: bool = False


@dataclass
class FeedTasks:
    """The tasks that run one feed, and the event that stops its pump."""

    stop: asyncio.Event
    receiver: asyncio.Task[None]
    pump: asyncio.Task[None]
    idle: asyncio.Task[None] | None = None


class LiveClock:
    """Runs live feeds and calls ``deliver``, ``advance``, ``end`` and ``fail`` for each.

    The callbacks run on the loop's thread, one at a time. ``started`` is
    set once every source has bound its socket or failed to.
    """

    def __init__(
        self,
        feeds: list[LiveFeed],
        deliver: Callable[[str, pd.DataFrame], None],
        end: Callable[[str], None],
        *,
        advance: Callable[[str, int], None] | None = None,
        fail: Callable[[str, WorkbenchError], None] | None = None,
    ) -> None:
        names = [feed.name for feed in feeds]
        if len(set(names)) != len(names):
            message = f"feed names must be unique, got {names}"
            raise ValueError(message)
        self.states = {feed.name: FeedState(feed) for feed in feeds}
        self._deliver = deliver
        self._end = end
        self._advance = advance
        self._fail = fail
        self.started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._settled: asyncio.Event | None = None
        self._tasks: dict[str, FeedTasks] = {}
        self._drain = False

    @property
    def ended(self) -> bool:
        return all(state.ended for state in self.states.values())

    def stop(self, *, drain: bool = False) -> None:
        """Ask the clock to stop from any thread; with ``drain``, every feed then ends."""
        self._drain = drain
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed after the check: the clock has stopped
                return

    async def run(self) -> None:
        """Start every source, pump until stopped or every feed has ended, then close them."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._settled = asyncio.Event()
        try:
            await self._run(self._stop)
        finally:
            self.started.set()

    async def _run(self, stop: asyncio.Event) -> None:
        for state in list(self.states.values()):
            await self._launch(state)
        self.started.set()
        self._check_settled()
        assert self._settled is not None
        settled = asyncio.ensure_future(self._settled.wait())
        try:
            await _wait_any(stop, settled)
        finally:
            settled.cancel()
            stop.set()
            for name in list(self._tasks):
                await self._shut(name, drain=self._drain)

    # Feeds that join or leave a running clock ---------------------------------------------

    def add_feed(self, feed: LiveFeed, timeout: float) -> None:
        """Start ``feed`` on the running clock from another thread; return once it has started.

        Raises SourceError when the clock has stopped, or when the source does
        not start within ``timeout`` seconds. A source that fails to start
        reports through ``fail`` as at the start of the run.
        """
        if feed.name in self.states:
            message = f"feed {feed.name!r} is already part of the live run"
            raise ValueError(message)
        self._call(self._add(feed), timeout, f"starting '{feed.name}'")

    def remove_feed(self, name: str, timeout: float) -> None:
        """Stop feed ``name`` on the running clock from another thread, closing its source.

        Messages already received are delivered first. Raises SourceError
        when closing takes longer than ``timeout`` seconds.
        """
        if name not in self.states:
            return
        self._call(self._remove(name), timeout, f"stopping '{name}'")

    def _call(self, work: Coroutine[Any, Any, None], timeout: float, what: str) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or (self._stop is not None and self._stop.is_set()):
            work.close()
            raise SourceError(f"{what} failed: the live run has stopped")
        try:
            future = asyncio.run_coroutine_threadsafe(work, loop)
        except RuntimeError:  # the loop closed after the check
            work.close()
            raise SourceError(f"{what} failed: the live run has stopped") from None
        try:
            future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise SourceError(f"{what} timed out after {timeout:g} s") from None

    async def _add(self, feed: LiveFeed) -> None:
        if self._settled is not None and self._settled.is_set():
            raise SourceError(f"starting '{feed.name}' failed: the live run has ended")
        state = FeedState(feed)
        self.states[feed.name] = state
        await self._launch(state)

    async def _remove(self, name: str) -> None:
        if name in self._tasks:
            await self._shut(name, drain=False)
        self.states.pop(name, None)
        self._check_settled()

    async def _launch(self, state: FeedState) -> None:
        """Start the source of a feed and its receiving, pumping and idle tasks."""
        assert self._stop is not None
        source = state.feed.source
        source.bind_events()
        try:
            await source.start()
        except WorkbenchError as error:
            self._feed_failed(state, error)
        except OSError as error:
            self._feed_failed(state, SourceError(f"cannot start '{state.feed.name}': {error}"))
        if state.failed:
            return
        name = state.feed.name
        feed_stop = asyncio.Event()
        tasks = FeedTasks(
            stop=feed_stop,
            receiver=asyncio.create_task(self._receive(state), name=f"receive {name}"),
            pump=asyncio.create_task(self._pump(state, feed_stop), name=f"pump {name}"),
        )
        if source.options.idle_timeout_ns is not None and self._advance is not None:
            tasks.idle = asyncio.create_task(self._watch_idle(state, feed_stop))
        tasks.pump.add_done_callback(lambda _: self._check_settled())
        self._tasks[name] = tasks

    async def _shut(self, name: str, *, drain: bool) -> None:
        """Close a feed's source, deliver its backlog, and end the feed when draining."""
        tasks = self._tasks.pop(name)
        state = self.states[name]
        side = [tasks.receiver] + ([tasks.idle] if tasks.idle is not None else [])
        for task in side:
            task.cancel()
        try:
            await state.feed.source.close()
        except (OSError, WorkbenchError) as error:
            logger.warning("%s: closing failed: %s", name, error)
        await asyncio.gather(*side, return_exceptions=True)
        tasks.stop.set()
        await asyncio.gather(tasks.pump, return_exceptions=True)
        await self._flush(state)
        if drain and not state.ended:
            self._finish(state)
        try:
            await state.feed.source.finalize()
        except (OSError, WorkbenchError) as error:
            logger.warning("%s: closing the client failed: %s", name, error)

    def _check_settled(self) -> None:
        """Let the run end once no feed's pump is running."""
        if self._settled is not None and all(tasks.pump.done() for tasks in self._tasks.values()):
            self._settled.set()

    async def _receive(self, state: FeedState) -> None:
        source = state.feed.source
        try:
            await source.run()
        except asyncio.CancelledError:
            raise
        except WorkbenchError as error:
            source.ended = True
            self._feed_failed(state, error)
        except Exception as error:  # a defect in a connector must not stop the other feeds
            logger.exception("%s: receiving failed", state.feed.name)
            source.ended = True
            self._feed_failed(
                state,
                SourceError(
                    f"receiving '{state.feed.name}' failed: {type(error).__name__}: {error}"
                ),
            )
        else:
            source.ended = True
            logger.info("%s: the input ended", state.feed.name)
        finally:
            if source._arrived is not None:
                source._arrived.set()
            if source._full is not None:
                source._full.set()

    async def _pump(self, state: FeedState, stop: asyncio.Event) -> None:
        source = state.feed.source
        while not stop.is_set():
            await source.wait_for_batch(stop)
            if source.backlog:
                started = time.monotonic()
                await self._send(state)
                # Let the receivers run between two batches. What they read then
                # arrived while the batch was processed, so it has waited since
                # at least the batch's start.
                await asyncio.sleep(0)
                source.waiting_since(started)
            elif source.ended:
                if not state.failed and not state.ended:
                    self._finish(state)
                return

    async def _flush(self, state: FeedState) -> None:
        """Deliver the messages still in the backlog of a stopped feed."""
        while state.feed.source.backlog and not state.failed:
            await self._send(state)

    async def _send(self, state: FeedState) -> None:
        source = state.feed.source
        taken = source.take()
        frame = source.decode(taken.messages)
        state.last_arrival = time.monotonic()
        if len(frame):
            if state.feed.time_column is not None:
                times = to_ns(frame[state.feed.time_column])
                known = times[times != MIN_WATERMARK]
                if len(known):
                    state.latest_ns = max(state.latest_ns, int(np.max(known)))
            if not state.failed:
                self._deliver(state.feed.name, frame)
        if taken.tokens:
            try:
                await source.acknowledge(taken.tokens)
            except (OSError, WorkbenchError) as error:
                logger.warning(
                    "%s: acknowledging %d messages failed: %s",
                    state.feed.name,
                    len(taken.tokens),
                    error,
                )

    async def _watch_idle(self, state: FeedState, stop: asyncio.Event) -> None:
        source = state.feed.source
        timeout_ns = source.options.idle_timeout_ns
        assert timeout_ns is not None and self._advance is not None
        period = min(timeout_ns / NS_PER_SECOND, IDLE_CHECK_SECONDS)
        while not stop.is_set() and not state.ended:
            await asyncio.sleep(period)
            if state.latest_ns == MIN_WATERMARK or source.backlog:
                continue
            quiet_ns = int((time.monotonic() - state.last_arrival) * NS_PER_SECOND)
            if quiet_ns >= timeout_ns and not state.failed:
                self._advance(state.feed.name, state.latest_ns + quiet_ns)

    def _finish(self, state: FeedState) -> None:
        state.ended = True
        self._end(state.feed.name)

    def _feed_failed(self, state: FeedState, error: WorkbenchError) -> None:
        state.failed = True
        state.ended = True
        logger.error("%s: %s", state.feed.name, error)
        if self._fail is None:
            raise error
        self._fail(state.feed.name, error)


async def _wait_any(stop: asyncio.Event, work: asyncio.Future[Any]) -> None:
    """Wait until ``stop`` is set or ``work`` completes."""
    stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([stopper, work], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
