"""The replay clock: delivers recorded feeds in event-time order at a chosen pace.

The clock pulls chunks from each feed's reader and hands rows to ``deliver``
in file order. With several feeds it always delivers next from the feed whose
latest delivered event time is smallest, and feeds without a time column go
first, so the feeds advance together in event time.

Modes:

``'max'``
    as fast as possible, ``batch_rows`` rows at a time.
``'realtime'``
    paced by event time. A row is due when the elapsed wall-clock time
    multiplied by ``speed`` reaches its running maximum event time minus the
    first event time. Due rows are delivered every tick of 50 ms.
``'step'``
    rows move only when :meth:`ReplayClock.step` is called.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.events.time import MIN_WATERMARK, NS_PER_SECOND
from workbench.sources.feed import Feed, FeedCursor
from workbench.sources.progress import ReplayProgress

__all__ = ["Feed", "ReplayClock", "ReplayStatus"]

logger = logging.getLogger(__name__)

Mode = Literal["max", "realtime", "step"]
State = Literal["ready", "running", "paused", "ended"]

#: Interval between deliveries in realtime mode, in seconds.
TICK_SECONDS = 0.05


@dataclass(frozen=True)
class ReplayStatus:
    """A snapshot of the clock: state, rows delivered and latest event time per feed.

    ``elapsed`` counts wall-clock seconds spent running, pauses excluded.
    """

    state: State
    mode: Mode
    speed: float
    rows: dict[str, int]
    event_time: dict[str, pd.Timestamp | None]
    ended: tuple[str, ...]
    elapsed: float


class ReplayClock:
    """Replays feeds into ``deliver(feed_name, frame)`` and calls ``end(feed_name)`` once.

    A feed whose reader fails ends there: ``fail(feed_name, error)`` is called
    in place of ``end``, or, without ``fail``, the error is raised.
    """

    def __init__(
        self,
        feeds: Sequence[Feed],
        deliver: Callable[[str, pd.DataFrame], None],
        end: Callable[[str], None],
        *,
        mode: Mode = "max",
        speed: float = 1.0,
        batch_rows: int = 65_536,
        progress: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        fail: Callable[[str, WorkbenchError], None] | None = None,
    ) -> None:
        if mode not in ("max", "realtime", "step"):
            message = f"invalid replay mode {mode!r}: use 'max', 'realtime' or 'step'"
            raise ValueError(message)
        if batch_rows < 1:
            message = f"batch_rows must be at least 1, got {batch_rows}"
            raise ValueError(message)
        names = [feed.name for feed in feeds]
        if len(set(names)) != len(names):
            message = f"feed names must be unique, got {names}"
            raise ValueError(message)
        self._cursors = [FeedCursor(feed) for feed in feeds]
        self._deliver = deliver
        self._end = end
        self._fail = fail
        self.mode: Mode = mode
        self.speed = _checked_speed(speed)
        self.batch_rows = batch_rows
        self._progress_enabled = mode != "step" if progress is None else progress
        self._clock = clock
        self._sleep = sleep
        self._state: State = "ready"
        self._elapsed = 0.0
        self._run_started: float | None = None
        self._base_ns: int | None = None
        self._virtual_ns = 0.0
        self._last_tick: float | None = None
        self._bar: ReplayProgress | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    # Control ------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    def run(self) -> None:
        """Deliver until every feed has ended or :meth:`pause` is called."""
        if not self._begin():
            return
        try:
            while self._state == "running":
                if self.mode == "realtime":
                    self._tick()
                    if self._state == "running":
                        self._sleep(TICK_SECONDS)
                else:
                    self._deliver_next(self.batch_rows)
        finally:
            self._stop_running()

    async def run_async(self) -> None:
        """Deliver on the running event loop until every feed has ended.

        The clock yields to the loop after each delivery. While paused it waits
        for :meth:`resume` from another task, and :meth:`restart` makes it return.
        """
        if not self._begin():
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            while self._state in ("running", "paused"):
                if self._state == "paused":
                    self._stop_running()
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if self.mode == "realtime":
                    self._tick()
                    await self._pause_for(TICK_SECONDS)
                else:
                    self._deliver_next(self.batch_rows)
                    await asyncio.sleep(0)
        finally:
            self._stop_running()
            self._loop = None
            self._wake = None

    def step(self, rows: int = 1) -> int:
        """Deliver the next ``rows`` rows in event-time order; return how many were delivered.

        Works in any mode while the clock is not running. Rows of several feeds
        interleave row by row by event time.
        """
        if self._state in ("running", "ended") or rows < 1:
            return 0
        delivered = 0
        while delivered < rows:
            count = self._deliver_next(rows - delivered, exact=True)
            if count == 0:
                break
            delivered += count
        if self._state != "ended":
            self._state = "paused"
        return delivered

    def pause(self) -> None:
        """Stop delivering after the current delivery; :meth:`run` then returns."""
        if self._state == "running":
            self._state = "paused"

    def resume(self) -> None:
        """Continue after :meth:`pause`.

        Wakes a waiting :meth:`run_async`. Without one, runs synchronously as
        :meth:`run` does, returning when paused again or ended.
        """
        if self._state not in ("paused", "ready"):
            return
        if self._wake is not None and self._loop is not None:
            self._state = "running"
            self._run_started = self._clock()
            self._last_tick = None
            self._catch_up()
            self._loop.call_soon_threadsafe(self._wake.set)
            return
        if self.mode != "step":
            self.run()

    def restart(self) -> None:
        """Reopen every reader from the start. A running loop returns."""
        for cursor in self._cursors:
            cursor.restart()
        self._state = "ready"
        self._elapsed = 0.0
        self._run_started = None
        self._base_ns = None
        self._virtual_ns = 0.0
        self._last_tick = None
        self._close_bar()
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)
        logger.debug("replay restarted with %d feeds", len(self._cursors))

    def add_feed(self, feed: Feed) -> None:
        """Add a feed while the clock runs or is paused; it is read from its first row.

        The clock delivers next from the feed whose latest event time is
        smallest, so the new feed catches up with the others in event time
        before they move on. Raises ValueError once the clock has ended or
        when a feed of that name is already replayed.
        """
        if self._state == "ended":
            message = f"cannot add feed '{feed.name}': the replay has ended"
            raise ValueError(message)
        if any(cursor.name == feed.name for cursor in self._cursors):
            message = f"feed '{feed.name}' is already replayed"
            raise ValueError(message)
        # NOTE: an open progress bar keeps the total of the feeds it started with.
        self._cursors.append(FeedCursor(feed))

    def set_speed(self, speed: float) -> None:
        """Set the realtime pace: event-time seconds per wall-clock second."""
        self._advance_virtual_time()
        self.speed = _checked_speed(speed)

    def status(self) -> ReplayStatus:
        elapsed = self._elapsed
        if self._run_started is not None:
            elapsed += self._clock() - self._run_started
        return ReplayStatus(
            state=self._state,
            mode=self.mode,
            speed=self.speed,
            rows={cursor.name: cursor.rows for cursor in self._cursors},
            event_time={cursor.name: _timestamp(cursor.latest) for cursor in self._cursors},
            ended=tuple(cursor.name for cursor in self._cursors if cursor.ended),
            elapsed=elapsed,
        )

    # Delivery -----------------------------------------------------------------

    def _begin(self) -> bool:
        """Enter the running state; return False when there is nothing to run."""
        if self._state in ("running", "ended") or self.mode == "step":
            return False
        self._state = "running"
        self._run_started = self._clock()
        self._last_tick = None
        self._catch_up()
        self._open_bar()
        return True

    def _stop_running(self) -> None:
        if self._run_started is not None:
            self._elapsed += self._clock() - self._run_started
            self._run_started = None
        if self._state == "ended":
            self._close_bar()

    def _next_cursor(self) -> FeedCursor | None:
        """Return the feed to deliver from next, ending the feeds that are exhausted."""
        while True:
            open_cursors = [cursor for cursor in self._cursors if not cursor.ended]
            if not open_cursors:
                self._state = "ended"
                return None
            cursor = min(open_cursors, key=lambda c: (c.timed, c.latest))
            if cursor.load():
                return cursor
            self._finish(cursor)

    def _deliver_next(self, limit: int, *, exact: bool = False) -> int:
        """Deliver up to ``limit`` rows of the next feed; return how many were delivered.

        With ``exact``, a timed feed delivers only while its event time stays at
        or below the latest event time of every other open timed feed (at least
        one row), so rows of several feeds interleave row by row.
        """
        cursor = self._next_cursor()
        if cursor is None:
            return 0
        count = min(limit, cursor.available)
        if exact and cursor.timed:
            others = [
                c.latest for c in self._cursors if c.timed and not c.ended and c is not cursor
            ]
            if others:
                count = min(count, max(1, cursor.count_until(min(others))))
        self._send(cursor, count)
        return count

    def _send(self, cursor: FeedCursor, count: int) -> None:
        frame = cursor.take(count)
        self._deliver(cursor.name, frame)
        if cursor.available == 0 and not cursor.load():
            self._finish(cursor)
        self._update_bar()

    def _finish(self, cursor: FeedCursor) -> None:
        if cursor.ended:
            return
        cursor.ended = True
        logger.debug("feed '%s' ended after %d rows", cursor.name, cursor.rows)
        if cursor.error is not None:
            if self._fail is None:
                raise cursor.error
            self._fail(cursor.name, cursor.error)
        else:
            self._end(cursor.name)
        if all(c.ended for c in self._cursors):
            self._state = "ended"

    # Realtime pacing ------------------------------------------------------------

    def _advance_virtual_time(self) -> None:
        """Add the wall-clock time since the last tick, scaled by speed, to event time."""
        now = self._clock()
        if self._last_tick is not None and self._state == "running":
            self._virtual_ns += (now - self._last_tick) * self.speed * NS_PER_SECOND
        self._last_tick = now

    def _catch_up(self) -> None:
        """Move realtime pacing past rows that :meth:`step` delivered ahead of it."""
        if self._base_ns is None:
            return
        latest = max((cursor.latest for cursor in self._cursors if cursor.timed), default=0)
        self._virtual_ns = max(self._virtual_ns, float(latest - self._base_ns))

    def _tick(self) -> None:
        """Deliver every row that is due, in event-time order across feeds."""
        self._advance_virtual_time()
        if self._base_ns is None:
            self._base_ns = self._first_event_time()
        threshold = self._base_ns + int(self._virtual_ns)
        while self._state == "running":
            due = [
                cursor
                for cursor in self._cursors
                if not cursor.ended
                and cursor.load()
                and (not cursor.timed or cursor.next_time() <= threshold)
            ]
            self._end_exhausted()
            if not due:
                return
            cursor = min(due, key=lambda c: (c.timed, c.latest))
            count = cursor.available if not cursor.timed else cursor.count_until(threshold)
            self._send(cursor, min(count, self.batch_rows))

    def _end_exhausted(self) -> None:
        for cursor in self._cursors:
            if not cursor.ended and cursor.available == 0 and not cursor.load():
                self._finish(cursor)

    def _first_event_time(self) -> int:
        """Return the smallest first event time over the timed feeds (0 if none has one)."""
        firsts = [
            first
            for cursor in self._cursors
            if cursor.timed and not cursor.ended and cursor.load()
            for first in [cursor.first_time()]
            if first is not None
        ]
        return min(firsts) if firsts else 0

    async def _pause_for(self, seconds: float) -> None:
        if self._sleep is time.sleep:
            await asyncio.sleep(seconds)
        else:
            self._sleep(seconds)
            await asyncio.sleep(0)

    def _open_bar(self) -> None:
        if self._progress_enabled and self._bar is None:
            self._bar = ReplayProgress([cursor.feed.reader for cursor in self._cursors])

    def _update_bar(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _checked_speed(speed: float) -> float:
    if not (speed > 0 and math.isfinite(speed)):
        message = f"invalid replay speed {speed!r}: use a finite number above 0, such as 1 or 10"
        raise ValueError(message)
    return float(speed)


def _timestamp(ns: int) -> pd.Timestamp | None:
    return None if ns == MIN_WATERMARK else pd.Timestamp(ns, unit="ns")
