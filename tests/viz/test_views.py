"""Each view kind sends batched updates while a replay runs, stops once closed, and exports HTML.

The updates are captured without a browser: jupyter_bokeh gives a widget
without a kernel a dummy comm, and the spy records the document patches the
widget would send.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.viz.spy import spy
from workbench import Session
from workbench.results import QueryResult
from workbench.runner import Replay
from workbench.viz import (
    NOTEBOOK_VIEWS,
    AutomatonView,
    LatencyView,
    MatchTimeline,
    OperatorGraph,
    WindowsTimeline,
)

ROOT = Path(__file__).resolve().parents[2]
BIDS = ROOT / "datasets" / "bids.csv"

CREATE_BIDS = f"""
CREATE TABLE bids (
    bid_id BIGINT, placed_at TIMESTAMP(3), item STRING, bidder STRING, price DOUBLE,
    channel STRING,
    WATERMARK FOR placed_at AS placed_at - INTERVAL '30' SECOND
) WITH ('connector' = 'filesystem', 'path' = '{BIDS}', 'format' = 'csv')
"""
TUMBLE = """
SELECT channel, window_start, window_end, COUNT(*) AS bids
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '10' MINUTES))
GROUP BY channel, window_start, window_end
"""
SESSIONS = """
SELECT channel, window_start, window_end, COUNT(*) AS bids
FROM TABLE(SESSION(TABLE bids PARTITION BY channel, DESCRIPTOR(placed_at), INTERVAL '20' SECONDS))
GROUP BY channel, window_start, window_end
"""
RISING = """
SELECT * FROM bids MATCH_RECOGNIZE (
    PARTITION BY item ORDER BY placed_at
    MEASURES FIRST(R.placed_at) AS first_bid, LAST(R.price) AS top_price,
             COUNT(R.*) AS bids, MATCH_TIMELINE() AS timeline
    PATTERN (R{3,})
    DEFINE R AS PREV(R.price) IS NULL OR R.price > PREV(R.price)
)
"""


def planned(sql: str, name: str = "q") -> tuple[Session, QueryResult]:
    session = Session(progress=False)
    session.sql(CREATE_BIDS)
    result = session.sql(sql, name=name)
    assert isinstance(result, QueryResult)
    return session, result


def stepped(sql: str) -> tuple[QueryResult, Replay]:
    session, result = planned(sql)
    return result, session.replay([result])


def test_notebook_views_registered() -> None:
    assert set(NOTEBOOK_VIEWS) == {"windows", "matches", "latency", "graph", "automaton"}


def test_windows_timeline_streams_per_refresh() -> None:
    result, replay = stepped(TUMBLE)
    chart = WindowsTimeline(result)
    sent = spy(chart)

    replay.step(1_000)
    chart.update()

    streamed = sent.events("ColumnsStreamed")
    sources = [event["model"]["id"] for event in streamed]
    assert len(sources) == len(set(sources)), "at most one stream per source and refresh"
    assert chart.events.id in sources
    assert len(chart.events.data["x"]) == 1_000
    assert len(chart.windows.data["left"]) > 0
    assert all(event["rollover"] == chart.rollover for event in streamed)
    assert chart.watermark_line.location is not None
    assert set(chart.lanes.lanes) == {"web", "app", "phone"}


def test_windows_timeline_marks_late_rows() -> None:
    result, replay = stepped(TUMBLE)
    chart = WindowsTimeline(result)

    replay.run()
    chart.update()

    assert len(result.late_rows()) > 0
    assert len(chart.late.data["x"]) == len(result.late_rows())
    assert len(chart.windows.data["left"]) == len(result.to_pandas())


def test_windows_timeline_draws_session_gaps() -> None:
    result, replay = stepped(SESSIONS)
    chart = WindowsTimeline(result)

    replay.run()
    chart.update()

    # A gap is drawn from the end of the sessions of a key fired so far to the
    # start of the next session of that key that fires.
    expected = 0
    ends: dict[str, pd.Timestamp] = {}
    for channel, start, end in result.to_pandas()[
        ["channel", "window_start", "window_end"]
    ].itertuples(index=False):
        if channel in ends and start > ends[channel]:
            expected += 1
        ends[channel] = max(end, ends.get(channel, end))
    assert expected > 100
    assert len(chart.gaps.data["left"]) == expected
    assert all(
        left < right
        for left, right in zip(chart.gaps.data["left"], chart.gaps.data["right"], strict=True)
    )


def test_windows_timeline_not_applicable() -> None:
    result, _ = stepped(RISING)
    chart = WindowsTimeline(result)

    assert "no event-time window" in chart.layout.text
    chart.update()


def test_match_timeline_bands_and_rows() -> None:
    result, replay = stepped(RISING)
    chart = MatchTimeline(result)
    sent = spy(chart)

    replay.step(1_500)
    chart.update()

    matches = len(result.collector.output()) if result.collector is not None else 0
    assert matches > 0
    assert len(chart.bands.data["left"]) == matches
    timeline_rows = sum(len(t) for t in result.collector.output()["timeline"])
    assert len(chart.rows.data["x"]) == timeline_rows
    assert set(chart.rows.data["variable"]) == {"R"}
    assert "top_price=" in chart.bands.data["measures"][0]
    assert len(chart.partial.data["left"]) == len(result.partial_matches())
    assert len(sent.events("ColumnsStreamed")) == 2


def test_match_timeline_without_timeline_measure() -> None:
    sql = RISING.replace(", MATCH_TIMELINE() AS timeline", "")
    result, replay = stepped(sql)
    chart = MatchTimeline(result)

    replay.run()
    chart.update()

    assert len(chart.bands.data["left"]) == len(result.to_pandas())
    assert len(chart.rows.data["x"]) == 0
    assert "MATCH_TIMELINE()" in chart.plot.title.text


def test_latency_view_samples() -> None:
    ticks = iter(float(t) for t in range(100))
    session, result = planned(TUMBLE)
    replay = session.replay([result])
    chart = LatencyView(result, clock=lambda: next(ticks))
    sent = spy(chart)

    for _ in range(3):
        replay.step(1_000)
        chart.update()

    assert len(chart.percentiles.data["t"]) >= 1
    assert all(
        p50 <= p99
        for p50, p99 in zip(
            chart.percentiles.data["p50"], chart.percentiles.data["p99"], strict=True
        )
    )
    assert len(chart.rates.data["t"]) == 4, "one sample when the view opens, one per refresh"
    operator_names = [operator.name for operator in result.pipeline.operators]
    assert set(chart.rates.data) == {"t", *operator_names}
    assert sum(chart.rates.data[operator_names[0]]) == 3_000
    assert len(chart.histogram.data["left"]) == 30
    assert len(sent.patches) <= 3 * 4


def test_operator_graph_patches_counters() -> None:
    result, replay = stepped(TUMBLE)
    chart = OperatorGraph(result)
    sent = spy(chart)

    replay.step(500)
    chart.update()

    names = chart.nodes.data["name"]
    assert names[-1] == "result"
    assert names[:-1] == [operator.name for operator in result.pipeline.operators]
    assert chart.nodes.data["counters"][0].startswith("in 500 · out 500")
    assert len(chart.edges.data["x0"]) == len(names) - 1
    assert [event["kind"] for event in sent.events()] == ["ColumnsPatched"]

    sent.clear()
    chart.update()
    assert sent.patches == [], "unchanged counters send nothing"


def test_automaton_view_highlights_open_states() -> None:
    result, replay = stepped(RISING)
    chart = AutomatonView(result)
    sent = spy(chart)

    replay.step(200)
    chart.update()

    open_states = set(result.partial_matches()["state"])
    highlighted = {
        name
        for name, fill in zip(chart.states.data["name"], chart.states.data["fill"], strict=True)
        if fill != "#ffffff"
    }
    assert open_states
    assert highlighted == open_states
    assert [event["kind"] for event in sent.events()] == ["ColumnsPatched"]


@pytest.mark.parametrize("view", list(NOTEBOOK_VIEWS.values()), ids=list(NOTEBOOK_VIEWS))
def test_closed_view_sends_nothing(view: type) -> None:
    result, replay = stepped(RISING if view in (MatchTimeline, AutomatonView) else TUMBLE)
    chart = view(result, None)
    sent = spy(chart)

    chart.close()
    replay.step(1_000)
    chart.update()

    assert chart.closed
    assert sent.messages == 0


def test_closed_view_detaches_from_pipeline() -> None:
    result, _ = stepped(TUMBLE)
    chart = WindowsTimeline(result)
    entry = result.pipeline.entries[0]
    before = len(entry.stream.downstreams)

    chart.close()

    assert len(entry.stream.downstreams) == before - 1
    assert chart.tap is None


def test_restart_resets_chart() -> None:
    result, replay = stepped(TUMBLE)
    chart = WindowsTimeline(result)
    replay.step(1_000)
    chart.update()

    replay.restart()
    chart.update()
    replay.step(100)
    chart.update()

    assert len(chart.events.data["x"]) == 100


@pytest.mark.parametrize("view", list(NOTEBOOK_VIEWS.values()), ids=list(NOTEBOOK_VIEWS))
def test_save_standalone_html(view: type, tmp_path: Path) -> None:
    result, replay = stepped(RISING if view in (MatchTimeline, AutomatonView) else TUMBLE)
    chart = view(result, None)
    replay.step(2_000)
    chart.update()

    path = chart.save(tmp_path / "chart.html")

    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Bokeh.embed.embed_items" in html
    assert "cdn.bokeh.org" not in html, "BokehJS is inlined"
    assert result.name in html


def test_dashboard_uses_viz_views() -> None:
    from workbench.notebook.controller import NotebookSession
    from workbench.notebook.views import load_viz_views

    load_viz_views()
    controller = NotebookSession(Session(progress=False))
    controller.session.sql(CREATE_BIDS)
    result = controller.session.sql(TUMBLE, name="bids_per_channel")
    assert isinstance(result, QueryResult)
    view = controller.dashboard("bids_per_channel")

    kinds = [type(part).__name__ for part in view.parts]
    assert kinds == [
        "TablePart",
        "AutomatonView",
        "OperatorGraph",
        "LatencyView",
        "MatchTimeline",
        "WindowsTimeline",
    ]
    controller.step(500)
    windows = view.parts[-1]
    assert isinstance(windows, WindowsTimeline)
    assert len(windows.events.data["x"]) == 500
    view.close()
    assert windows.closed


def test_windows_timeline_draws_provisional_windows() -> None:
    session = Session(
        progress=False,
        settings={
            "table.exec.emit.early-fire.enabled": "true",
            "table.exec.emit.early-fire.delay": "1 min",
        },
    )
    session.sql(CREATE_BIDS)
    result = session.sql(TUMBLE, name="q")
    assert isinstance(result, QueryResult)
    replay = session.replay([result])
    chart = WindowsTimeline(result)

    replay.step(150)
    chart.update()

    open_windows = {
        (start, end)
        for start, end in zip(
            chart.provisional.data["start"], chart.provisional.data["end"], strict=True
        )
    }
    finished = set(zip(chart.windows.data["start"], chart.windows.data["end"], strict=True))
    assert open_windows
    assert not open_windows & finished

    replay.run()
    chart.update()

    assert chart.provisional.data["left"] == []
    assert len(chart.windows.data["left"]) == len(result.to_pandas())
