import asyncio
import io
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources import progress
from workbench.sources.frame_reader import DataFrameReader
from workbench.sources.replay import Feed, ReplayClock

SCHEMA = Schema.of([("ts", t.timestamp(3)), ("v", t.BIGINT)])
PLAIN = Schema.of([("v", t.BIGINT)])


class FakeTime:
    """A clock that only moves when the replay sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    def __init__(self, time: FakeTime | None = None) -> None:
        self.events: list[tuple[str, str, list[int], float]] = []
        self.time = time

    def deliver(self, name: str, frame: pd.DataFrame) -> None:
        now = self.time.now if self.time else 0.0
        self.events.append(("rows", name, frame["v"].tolist(), now))

    def end(self, name: str) -> None:
        now = self.time.now if self.time else 0.0
        self.events.append(("end", name, [], now))

    def order(self) -> list[tuple[str, str, list[int]]]:
        return [(kind, name, values) for kind, name, values, _ in self.events]


def feed(
    name: str, seconds: list[float | None], chunk_rows: int = 1000, values: list[int] | None = None
) -> Feed:
    times = [
        None if s is None else pd.Timestamp("2020-01-01") + pd.Timedelta(seconds=s) for s in seconds
    ]
    frame = pd.DataFrame(
        {"ts": pd.Series(times, dtype="datetime64[ns]"), "v": values or list(range(len(seconds)))}
    )
    return Feed(name, DataFrameReader(name, frame, SCHEMA, chunk_rows), "ts")


def make_clock(
    feeds: list[Feed], recorder: Recorder, time: FakeTime | None = None, **kwargs: object
) -> ReplayClock:
    time = time or FakeTime()
    return ReplayClock(
        feeds,
        recorder.deliver,
        recorder.end,
        progress=False,
        clock=time.clock,
        sleep=time.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


def test_max_mode_delivers_in_batches() -> None:
    recorder = Recorder()
    clock = make_clock([feed("a", [0, 1, 2, 3, 4])], recorder, batch_rows=2)
    clock.run()
    assert recorder.order() == [
        ("rows", "a", [0, 1]),
        ("rows", "a", [2, 3]),
        ("rows", "a", [4]),
        ("end", "a", []),
    ]
    assert clock.status().state == "ended"


def test_max_mode_feeds_advance_together() -> None:
    recorder = Recorder()
    feeds = [
        feed("a", [0, 1, 2, 3], chunk_rows=2, values=[1, 2, 3, 4]),
        feed("b", [0.5, 1.5, 2.5, 3.5], chunk_rows=2, values=[10, 20, 30, 40]),
    ]
    make_clock(feeds, recorder).run()
    assert recorder.order() == [
        ("rows", "a", [1, 2]),
        ("rows", "b", [10, 20]),
        ("rows", "a", [3, 4]),
        ("end", "a", []),
        ("rows", "b", [30, 40]),
        ("end", "b", []),
    ]


def test_untimed_feed_goes_first() -> None:
    recorder = Recorder()
    plain = Feed("plain", DataFrameReader("plain", pd.DataFrame({"v": [7, 8]}), PLAIN), None)
    make_clock([feed("a", [0]), plain], recorder).run()
    assert recorder.order()[0] == ("rows", "plain", [7, 8])


def test_empty_feed_ends_at_once() -> None:
    recorder = Recorder()
    make_clock([feed("a", [])], recorder).run()
    assert recorder.order() == [("end", "a", [])]


def test_step_interleaves_row_by_row() -> None:
    recorder = Recorder()
    feeds = [feed("a", [0, 2, 4], values=[1, 2, 3]), feed("b", [1, 3], values=[10, 20])]
    clock = make_clock(feeds, recorder, mode="step")
    clock.run()
    assert recorder.events == []
    assert clock.step(3) == 3
    assert clock.status().state == "paused"
    assert clock.step(10) == 2
    assert clock.step() == 0
    assert recorder.order() == [
        ("rows", "a", [1]),
        ("rows", "b", [10]),
        ("rows", "a", [2]),
        ("rows", "b", [20]),
        ("end", "b", []),
        ("rows", "a", [3]),
        ("end", "a", []),
    ]
    assert clock.status().state == "ended"


def test_step_takes_rows_of_one_feed_together() -> None:
    recorder = Recorder()
    clock = make_clock([feed("a", [0, 0, 0, 5])], recorder, mode="step")
    assert clock.step(3) == 3
    assert recorder.order() == [("rows", "a", [0, 1, 2])]


def test_realtime_paces_by_event_time() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    clock = make_clock([feed("a", [0, 0.02, 1, 3])], recorder, time, mode="realtime")
    start = time.now
    clock.run()
    rows = [
        (values, round(at - start, 2)) for kind, _, values, at in recorder.events if kind == "rows"
    ]
    assert rows[0] == ([0], 0.0)
    assert rows[1] == ([1], 0.05)
    assert rows[2][0] == [2]
    assert 1.0 <= rows[2][1] <= 1.05 + 1e-9
    assert rows[3][0] == [3]
    assert 3.0 <= rows[3][1] <= 3.05 + 1e-9
    assert all(seconds == pytest.approx(0.05) for seconds in time.sleeps)
    assert clock.status().elapsed == pytest.approx(time.now - start)


def test_realtime_speed_scales() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    clock = make_clock([feed("a", [0, 10])], recorder, time, mode="realtime", speed=10)
    start = time.now
    clock.run()
    last = [at for kind, _, _, at in recorder.events if kind == "rows"][-1]
    assert 1.0 <= last - start <= 1.05 + 1e-9


def test_realtime_set_speed_while_running() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    clock: ReplayClock

    def deliver(name: str, frame: pd.DataFrame) -> None:
        recorder.deliver(name, frame)
        if frame["v"].tolist() == [1]:
            clock.set_speed(100)

    clock = ReplayClock(
        [feed("a", [0, 1, 101])],
        deliver,
        recorder.end,
        mode="realtime",
        progress=False,
        clock=time.clock,
        sleep=time.sleep,
    )
    start = time.now
    clock.run()
    last = [at for kind, _, _, at in recorder.events if kind == "rows"][-1]
    assert 1.9 <= last - start <= 2.2


def test_realtime_null_times_are_due_with_previous_row() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    make_clock([feed("a", [None, 0, None, 2])], recorder, time, mode="realtime").run()
    rows = [values for kind, _, values, _ in recorder.events if kind == "rows"]
    assert rows == [[0, 1, 2], [3]]


def test_pause_from_deliver_and_run_again() -> None:
    recorder = Recorder()
    clock: ReplayClock

    def deliver(name: str, frame: pd.DataFrame) -> None:
        recorder.deliver(name, frame)
        clock.pause()

    clock = ReplayClock([feed("a", [0, 1, 2])], deliver, recorder.end, batch_rows=1, progress=False)
    clock.run()
    assert clock.status().state == "paused"
    assert clock.status().rows == {"a": 1}
    clock.run()
    assert clock.status().rows == {"a": 2}
    clock.resume()
    assert clock.status().rows == {"a": 3}


def test_pause_excluded_from_realtime() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    clock: ReplayClock

    def deliver(name: str, frame: pd.DataFrame) -> None:
        recorder.deliver(name, frame)
        if frame["v"].tolist() == [0]:
            clock.pause()

    clock = ReplayClock(
        [feed("a", [0, 1])],
        deliver,
        recorder.end,
        mode="realtime",
        progress=False,
        clock=time.clock,
        sleep=time.sleep,
    )
    clock.run()
    time.now += 1000
    resumed = time.now
    clock.run()
    last = [at for kind, _, _, at in recorder.events if kind == "rows"][-1]
    assert 1.0 <= last - resumed <= 1.05 + 1e-9


def test_restart_replays_from_start() -> None:
    recorder = Recorder()
    clock = make_clock([feed("a", [0, 1])], recorder)
    clock.run()
    clock.restart()
    assert clock.status().state == "ready"
    assert clock.status().rows == {"a": 0}
    clock.run()
    assert recorder.order().count(("rows", "a", [0, 1])) == 2
    assert recorder.order().count(("end", "a", [])) == 2


def test_status_reports_feeds() -> None:
    recorder = Recorder()
    clock = make_clock([feed("a", [0, 5]), feed("b", [])], recorder, mode="step")
    status = clock.status()
    assert status.state == "ready"
    assert status.event_time == {"a": None, "b": None}
    clock.step(2)
    status = clock.status()
    assert status.rows == {"a": 2, "b": 0}
    assert status.event_time["a"] == pd.Timestamp("2020-01-01 00:00:05")
    assert status.ended == ("a", "b")
    assert status.mode == "step"


def test_run_async_with_pause_and_resume() -> None:
    recorder = Recorder()
    clock: ReplayClock

    def deliver(name: str, frame: pd.DataFrame) -> None:
        recorder.deliver(name, frame)
        if frame["v"].tolist() == [0, 1]:
            clock.pause()

    clock = ReplayClock(
        [feed("a", [0, 1, 2, 3])], deliver, recorder.end, batch_rows=2, progress=False
    )

    async def main() -> None:
        task = asyncio.create_task(clock.run_async())
        for _ in range(20):
            await asyncio.sleep(0)
        assert clock.status().state == "paused"
        assert not task.done()
        clock.resume()
        await asyncio.wait_for(task, timeout=2)

    asyncio.run(main())
    assert recorder.order() == [("rows", "a", [0, 1]), ("rows", "a", [2, 3]), ("end", "a", [])]


def test_run_async_realtime_with_fake_sleep() -> None:
    time = FakeTime()
    recorder = Recorder(time)
    clock = make_clock([feed("a", [0, 0.5])], recorder, time, mode="realtime")
    asyncio.run(clock.run_async())
    assert clock.status().state == "ended"
    assert recorder.order()[-1] == ("end", "a", [])


def test_run_async_returns_on_restart() -> None:
    recorder = Recorder()
    clock: ReplayClock

    def deliver(name: str, frame: pd.DataFrame) -> None:
        recorder.deliver(name, frame)
        clock.pause()

    clock = ReplayClock([feed("a", [0, 1])], deliver, recorder.end, batch_rows=1, progress=False)

    async def main() -> None:
        task = asyncio.create_task(clock.run_async())
        for _ in range(5):
            await asyncio.sleep(0)
        clock.restart()
        await asyncio.wait_for(task, timeout=2)

    asyncio.run(main())
    assert clock.status().state == "ready"


def test_progress_bar_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(progress, "PROGRESS_DELAY_SECONDS", 0)
    monkeypatch.setattr(sys, "stderr", stream)
    recorder = Recorder()
    clock = ReplayClock([feed("a", [0, 1])], recorder.deliver, recorder.end, progress=True)
    clock.run()
    assert "replay" in stream.getvalue()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "fast"}, "invalid replay mode 'fast'"),
        ({"speed": 0}, "invalid replay speed 0"),
        ({"speed": float("inf")}, "invalid replay speed inf"),
        ({"speed": float("nan")}, "invalid replay speed nan"),
        ({"batch_rows": 0}, "batch_rows must be at least 1"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_clock([feed("a", [0])], Recorder(), **kwargs)


def test_duplicate_feed_names() -> None:
    with pytest.raises(ValueError, match="feed names must be unique"):
        make_clock([feed("a", [0]), feed("a", [1])], Recorder())


class BrokenReader(DataFrameReader):
    """Yields its first chunk, then fails as a reader with a defect would."""

    def chunks(self) -> Iterator[pd.DataFrame]:
        yield from list(super().chunks())[:1]
        raise IndexError("index 1 is out of bounds")


def test_failed_reader_ends_only_its_feed() -> None:
    frame = pd.DataFrame({"ts": pd.to_datetime(["2020-01-01"] * 4), "v": [1, 2, 3, 4]})
    broken = Feed("broken", BrokenReader("broken", frame, SCHEMA, chunk_rows=2), "ts")
    recorder = Recorder()
    failures: list[tuple[str, str]] = []
    clock = ReplayClock(
        [broken, feed("good", [0, 1])],
        recorder.deliver,
        recorder.end,
        fail=lambda name, error: failures.append((name, str(error))),
    )

    clock.run()

    assert failures == [("broken", "reading 'broken' failed: IndexError: index 1 is out of bounds")]
    assert ("rows", "broken", [1, 2]) in recorder.order()
    assert ("end", "good", []) in recorder.order()
    assert ("end", "broken", []) not in recorder.order()
    assert clock.state == "ended"


def test_failed_reader_raises_without_fail_callback() -> None:
    frame = pd.DataFrame({"ts": pd.to_datetime(["2020-01-01"] * 4), "v": [1, 2, 3, 4]})
    broken = Feed("broken", BrokenReader("broken", frame, SCHEMA, chunk_rows=2), "ts")

    with pytest.raises(SourceError, match="reading 'broken' failed"):
        make_clock([broken], Recorder()).run()
