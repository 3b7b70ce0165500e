"""Views keep up with a replay of 50,000 events per second and send a bounded number of messages.

A realtime replay at 50 times real time of events 1 ms apart delivers
50,000 events per wall-clock second. The windows timeline, the latency view
and the operator graph refresh at most twice a second (the notebook's
default pace) through the notebook's RefreshPacer. The test checks that the
replay finishes on time, that every refresh sends a bounded number of
document patches whatever the event rate, and that the events drawn stay
within the per-refresh sample.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pandas as pd

from tests.viz.spy import Sent, spy
from workbench import Session
from workbench.notebook.views import RefreshPacer
from workbench.results import QueryResult
from workbench.viz import LatencyView, OperatorGraph, WindowsTimeline

EVENTS = 100_000
SPEED = 50.0
RATE = 1_000 * SPEED  # events 1 ms apart in event time


def test_views_keep_up_at_50k_events_per_second() -> None:
    session = Session(progress=False)
    start = pd.Timestamp("2024-03-01 09:00:00")
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "ts": start + pd.to_timedelta(np.arange(EVENTS), unit="ms"),
            "k": rng.integers(0, 8, EVENTS).astype(str),
            "v": rng.random(EVENTS),
        }
    )
    session.from_pandas("events", frame, rowtime="ts", watermark_delay="100 ms")
    result = session.sql(
        "SELECT k, window_start, window_end, COUNT(*) AS c, SUM(v) AS s "
        "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '100' MILLISECOND)) "
        "GROUP BY k, window_start, window_end",
        name="fast",
    )
    assert isinstance(result, QueryResult)
    replay = session.replay([result], mode="realtime", speed=SPEED)
    charts = [WindowsTimeline(result), LatencyView(result), OperatorGraph(result)]
    records: list[Sent] = [spy(chart) for chart in charts]
    pacer = RefreshPacer(lambda: 2.0)
    for chart in charts:
        pacer.add(chart)  # type: ignore[arg-type]
    replay.add_listener(pacer.touch)

    async def run() -> float:
        began = time.perf_counter()
        await replay.run_async()
        elapsed = time.perf_counter() - began
        await asyncio.sleep(0.6)  # the pacer's last scheduled refresh
        return elapsed

    elapsed = asyncio.run(run())

    expected = EVENTS / RATE
    achieved = EVENTS / elapsed
    print(
        f"\n{EVENTS:,} events in {elapsed:.2f} s ({achieved:,.0f} events/s), {pacer.refreshes} refreshes"
    )
    for chart, sent in zip(charts, records, strict=True):
        print(f"{type(chart).__name__}: {sent.messages} messages, {len(sent.patches)} patches")
    assert elapsed < expected * 1.5 + 0.5, f"replay fell behind: {achieved:,.0f} events/s"
    assert result.collector is not None
    assert result.collector.rows == len(result.to_pandas())
    assert 2 <= pacer.refreshes <= expected * 2 + 4
    windows = charts[0]
    assert isinstance(windows, WindowsTimeline)
    for chart, sent in zip(charts, records, strict=True):
        per_refresh = len(sent.patches) / pacer.refreshes
        assert per_refresh <= 8, (
            f"{type(chart).__name__} sent {per_refresh:.1f} patches per refresh"
        )
    assert len(windows.events.data["x"]) <= windows.points_per_refresh * pacer.refreshes
    assert len(windows.windows.data["left"]) == min(result.collector.rows, windows.rollover)
