"""Bokeh views of running queries (windows, matches, latency, operator graph, automaton).

Each view is a :class:`~workbench.viz.base.LiveChart`: a Bokeh layout inside
an ipywidgets widget (``view.widget``) that :meth:`update` refreshes from
the query's current state with one batched message per data source, and
that :meth:`save` writes to a standalone HTML file. They work on any
:class:`~workbench.QueryResult`, in a notebook or not::

    result = session.sql("SELECT ... FROM TABLE(TUMBLE(...)) GROUP BY ...")
    replay = session.replay([result])
    chart = WindowsTimeline(result)
    replay.step(1_000)
    chart.update()
    chart.save("windows.html")

``NOTEBOOK_VIEWS`` lists them by view kind for ``%%cep --view KIND`` and
``%cep dashboard``. :class:`ReplayControls` are the play, pause, step,
speed, restart and watermark-delay widgets.
"""

from __future__ import annotations

from typing import Any

from workbench.viz.automaton import AutomatonView
from workbench.viz.base import LiveChart
from workbench.viz.controls import ReplayControls, with_watermark_delay
from workbench.viz.graph import OperatorGraph
from workbench.viz.latency import LatencyView
from workbench.viz.matches import MatchTimeline
from workbench.viz.windows import WindowsTimeline

__all__ = [
    "NOTEBOOK_VIEWS",
    "AutomatonView",
    "LatencyView",
    "LiveChart",
    "MatchTimeline",
    "OperatorGraph",
    "ReplayControls",
    "WindowsTimeline",
    "with_watermark_delay",
]

#: View kinds the notebook registers, each called as ``factory(result, context)``.
NOTEBOOK_VIEWS: dict[str, Any] = {
    view.kind: view
    for view in (WindowsTimeline, MatchTimeline, LatencyView, OperatorGraph, AutomatonView)
}
