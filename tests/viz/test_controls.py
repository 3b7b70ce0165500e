"""Replay controls: commands on a Replay and on the notebook controller, and the watermark-delay slider."""

from __future__ import annotations

import asyncio

import pytest

from tests.viz.test_views import CREATE_BIDS, TUMBLE, planned
from workbench import Session
from workbench.notebook.controller import NotebookSession
from workbench.results import QueryResult
from workbench.viz import ReplayControls, WindowsTimeline, with_watermark_delay
from workbench.viz.controls import watermark_delay


def test_step_and_restart_on_replay() -> None:
    session, result = planned(TUMBLE)
    replay = session.replay([result])
    chart = WindowsTimeline(result)
    controls = ReplayControls(replay, [chart], step_rows=250)

    controls.step()
    controls.step_button.click()

    status = replay.status()
    assert status is not None
    assert sum(status.rows.values()) == 500
    assert len(chart.events.data["x"]) == 500
    assert "500 rows" in controls.status.value

    controls.restart_button.click()

    status = replay.status()
    assert status is not None
    assert sum(status.rows.values()) == 0
    assert len(chart.events.data["x"]) == 0


def test_play_needs_running_loop() -> None:
    session, result = planned(TUMBLE)
    controls = ReplayControls(session.replay([result]))

    controls.play()

    assert "no running event loop" in controls.status.value


def test_play_and_pause_on_loop() -> None:
    session, result = planned(TUMBLE)
    replay = session.replay([result])
    controls = ReplayControls(replay, speed=2_000.0)

    async def play_then_pause() -> int:
        controls.play()
        await asyncio.sleep(0.3)
        controls.pause()
        await asyncio.sleep(0.1)
        status = replay.status()
        assert status is not None
        return sum(status.rows.values())

    delivered = asyncio.run(play_then_pause())

    assert delivered > 0
    status = replay.status()
    assert status is not None
    assert status.state in ("paused", "ended")


def test_watermark_delay_rewrites_scans() -> None:
    session, result = planned(TUMBLE)
    replay = session.replay([result])
    assert watermark_delay(replay) == 30_000_000_000

    with_watermark_delay(replay, "5 s")

    assert watermark_delay(replay) == 5_000_000_000
    assert result.plan is not None
    assert "INTERVAL '5' SECOND" in result.plan.explain()


def test_shorter_delay_makes_rows_late() -> None:
    session, result = planned(TUMBLE)
    replay = session.replay([result])
    replay.run()
    late_before = len(result.late_rows())
    total = int(result.to_pandas()["bids"].sum())

    with_watermark_delay(replay, 0)
    replay.run()

    late_after = len(result.late_rows())
    assert late_after > late_before
    assert int(result.to_pandas()["bids"].sum()) + late_after == total + late_before


def test_negative_delay_rejected() -> None:
    session, result = planned(TUMBLE)
    replay = session.replay([result])

    with pytest.raises(ValueError, match="cannot be negative"):
        with_watermark_delay(replay, -1)


def test_slider_reruns_to_same_position() -> None:
    controller = NotebookSession(Session(progress=False))
    controller.session.sql(CREATE_BIDS)
    result = controller.session.sql(TUMBLE, name="per_channel")
    assert isinstance(result, QueryResult)
    controller.step(2_000)
    controls = ReplayControls(controller)
    assert controls.delay.value == 30.0
    late_before = len(result.late_rows())

    controls.delay.value = 0.0

    replay = controller.replay
    assert replay is not None
    status = replay.status()
    assert status is not None
    assert sum(status.rows.values()) == 2_000
    assert len(result.late_rows()) > late_before
    assert "watermark delay 0 s" in controls.status.value


def test_slider_after_end_runs_to_end() -> None:
    controller = NotebookSession(Session(progress=False))
    controller.session.sql(CREATE_BIDS)
    result = controller.session.sql(TUMBLE, name="per_channel")
    assert isinstance(result, QueryResult)
    controller.start_replay("max", None)
    controls = ReplayControls(controller)

    controls.set_watermark_delay(2.0)

    assert result.status == "finished"
    replay = controller.replay
    assert replay is not None
    assert replay.ended
