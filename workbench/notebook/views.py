"""Live views of running queries: the table view, the registry of view kinds, refresh pacing.

A ``%%cep`` cell displays a :class:`LiveView`: a status line (query status,
rows out, late rows, watermark), a message line, and one part per view
kind. The ``table`` kind, built in, shows the latest result rows. Other
kinds (the Bokeh charts of ``workbench.viz``) plug in through
:func:`register_view`. ``workbench.viz`` cannot import this package, which
comes after it in the layers, so it lists its factories in a mapping
``NOTEBOOK_VIEWS = {kind: factory}`` that :func:`load_viz_views` reads.

A factory is called as ``factory(result, context)`` with the
:class:`~workbench.results.QueryResult` and a :class:`ViewContext`, and
returns a :class:`ViewPart`. Parts are refreshed at most
``CepMagic.refresh_rate`` times a second while the replay runs, never once
per row, and no more once closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from importlib import import_module
from typing import Any, Protocol

import ipywidgets as widgets
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK
from workbench.results import QueryResult
from workbench.runtime.results import OP_COLUMN

__all__ = [
    "LiveView",
    "RefreshPacer",
    "ViewContext",
    "ViewFactory",
    "ViewPart",
    "backlog_text",
    "latest_rows",
    "load_viz_views",
    "register_view",
    "unregister_view",
    "view_kinds",
    "watermark_text",
]

logger = logging.getLogger(__name__)


class ViewPart(Protocol):
    """One part of a live view: a widget that :meth:`update` redraws from the query's state."""

    widget: widgets.Widget

    def update(self) -> None:
        """Redraw from the query's current rows and counters (called at most refresh_rate/s)."""

    def close(self) -> None:
        """Release the widget; the part receives no more updates."""


@dataclass
class ViewContext:
    """Display settings and replay status that a view part may read besides the query result."""

    display_rows: Callable[[], int]
    replay_status: Callable[[], Any]


ViewFactory = Callable[[QueryResult, ViewContext], ViewPart]

_FACTORIES: dict[str, ViewFactory] = {}


def register_view(kind: str, factory: ViewFactory) -> None:
    """Register a view kind; ``%%cep --view KIND`` and ``%cep dashboard`` then show it."""
    if not kind or not kind.replace("-", "_").isidentifier():
        raise ValueError(f"invalid view kind {kind!r}: use letters, digits, '_' and '-'")
    _FACTORIES[kind] = factory


def unregister_view(kind: str) -> None:
    """Remove a view kind registered with :func:`register_view`."""
    _FACTORIES.pop(kind, None)


def view_kinds() -> list[str]:
    """Return the registered view kinds, ``table`` first."""
    return sorted(_FACTORIES, key=lambda kind: (kind != "table", kind))


def view_factory(kind: str) -> ViewFactory:
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise KeyError(kind)
    return factory


def load_viz_views() -> list[str]:
    """Register the views that ``workbench.viz`` lists in ``NOTEBOOK_VIEWS``; return their kinds."""
    try:
        viz = import_module("workbench.viz")
    except ImportError as error:
        logger.warning("workbench.viz cannot be imported, so no charts are available: %s", error)
        return []
    found = getattr(viz, "NOTEBOOK_VIEWS", {})
    for kind, factory in found.items():
        register_view(kind, factory)
    return list(found)


# The table --------------------------------------------------------------------------


def latest_rows(result: QueryResult, count: int) -> pd.DataFrame:
    """Return the last ``count`` rows the query emitted (changes with their 'op' for updating ones).

    Reads only the last batches, so a refresh costs the same however long the query ran.
    """
    collector = result.collector
    if collector is None or count <= 0:
        frame = result.schema.empty_frame()
        if result.updating:
            frame[OP_COLUMN] = pd.Series([], dtype=object)
        return frame
    frames: list[pd.DataFrame] = []
    rows = 0
    for frame in reversed(collector.frames):
        frames.append(frame)
        rows += len(frame)
        if rows >= count:
            break
    if not frames:
        return collector.output()
    tail = pd.concat(list(reversed(frames)), ignore_index=True)
    return tail.iloc[-count:].reset_index(drop=True)


def watermark_text(result: QueryResult) -> str:
    """Return the watermark of a query's output: a timestamp, 'none' yet, or 'end of input'."""
    watermark = result.collector.watermark if result.collector is not None else None
    if watermark is None or watermark <= MIN_WATERMARK:
        return "none"
    if watermark >= MAX_WATERMARK:
        return "end of input"
    return str(pd.Timestamp(watermark, unit="ns"))


def backlog_text(result: QueryResult) -> str:
    """Return the backlog of each live source the query reads: ' · backlog ev 3 waiting, 0 dropped'.

    Empty for a query that is not part of a live run.
    """
    if result.live_run is None:
        return ""
    metrics = result.source_metrics()
    if len(metrics) == 0:
        return ""
    parts = [
        f"{source} {int(backlog):,} waiting, {int(dropped):,} dropped"
        for source, backlog, dropped in zip(
            metrics["source"], metrics["backlog"], metrics["dropped"], strict=True
        )
    ]
    return " · backlog " + "; ".join(parts) if parts else ""


class TablePart:
    """The latest result rows as an HTML table."""

    def __init__(self, result: QueryResult, context: ViewContext) -> None:
        self.result = result
        self.context = context
        self.widget = widgets.HTML()
        self.update()

    def update(self) -> None:
        count = self.context.display_rows()
        frame = latest_rows(self.result, count)
        rows = self.result.collector.rows if self.result.collector is not None else 0
        caption = "latest changes" if self.result.updating else "latest rows"
        if rows > len(frame):
            caption += f" ({len(frame):,} of {rows:,})"
        self.widget.value = (
            f"<div style='font-size:smaller;color:#666'>{escape(caption)}</div>"
            + frame.to_html(index=False, max_rows=count, border=0)
        )

    def text(self) -> str:
        frame = latest_rows(self.result, self.context.display_rows())
        if len(frame) == 0:
            return "(no rows yet: " + ", ".join(map(str, frame.columns)) + ")"
        return frame.to_string(index=False)

    def close(self) -> None:
        self.widget.close()


register_view("table", TablePart)


# The live view ----------------------------------------------------------------------


class LiveView:
    """The display of a ``%%cep`` cell: status, message and view parts of one query."""

    def __init__(
        self,
        result: QueryResult,
        context: ViewContext,
        kinds: tuple[str, ...] = ("table",),
        message: str = "",
    ) -> None:
        self.result = result
        self.context = context
        self.message = message
        self.closed = False
        self.status = widgets.HTML()
        self.note = widgets.HTML()
        self.parts: list[ViewPart] = [view_factory(kind)(result, context) for kind in kinds]
        self.widget = widgets.VBox([self.status, self.note, *(part.widget for part in self.parts)])
        self.update()

    @property
    def name(self) -> str:
        return self.result.name

    def status_text(self) -> str:
        """Return one line: query name, status, rows out, late rows, watermark, live backlog."""
        result = self.result
        with result._reading():
            collector = result.collector
            rows = collector.rows if collector is not None else 0
            late = 0
            if result.pipeline is not None:
                late = sum(operator.metrics.late for operator in result.pipeline.operators)
            line = (
                f"{result.name}: {result.status} · {rows:,} rows out · {late:,} late · "
                f"watermark {watermark_text(result)}"
            )
        return line + backlog_text(result)

    def update(self) -> None:
        """Redraw the status, the message and every part; a closed view is left as it is."""
        if self.closed or self.widget.comm is None:
            self.closed = True
            return
        self.status.value = f"<b>{escape(self.status_text())}</b>"
        # The parts read the query's state, which a live run's thread changes.
        with self.result._reading():
            self._redraw()

    def _redraw(self) -> None:
        note = escape(self.message)
        if self.result.error is not None:
            error = self.result.error
            note = (
                error.render(html=True) if isinstance(error, WorkbenchError) else escape(str(error))
            )
        elif self.result.status == "planned":
            note = note or escape("waiting for the replay: start it with %cep replay")
        self.note.value = note
        for part in self.parts:
            try:
                part.update()
            except Exception:
                # A failing chart must not stop the replay that refreshes it.
                logger.exception("view of query %s failed to refresh", self.result.name)

    def close(self) -> None:
        """Close the widgets; the view receives no more updates."""
        self.closed = True
        for part in self.parts:
            part.close()
        self.widget.close()

    def text(self) -> str:
        lines = [self.status_text()]
        if self.message:
            lines.append(self.message)
        if self.result.error is not None:
            lines.append(self.result.error.render())
        with self.result._reading():
            lines.extend(part.text() for part in self.parts if isinstance(part, TablePart))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self.text()}
        if not self.closed and self.widget.comm is not None:
            bundle.update(self.widget._repr_mimebundle_(**kwargs) or {})
            bundle["text/plain"] = self.text()
        return bundle


class RefreshPacer:
    """Refreshes the open live views at most ``rate()`` times a second.

    :meth:`touch` runs after every delivery: it refreshes when the last
    refresh is old enough, and otherwise schedules one on the running
    asyncio loop, so the last rows of a burst are shown without waiting for
    the next delivery. :meth:`flush` refreshes at once (after a command).
    """

    def __init__(
        self, rate: Callable[[], float], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.views: list[LiveView] = []
        self.refreshes = 0
        self._last = -float("inf")
        self._scheduled: asyncio.TimerHandle | None = None

    def add(self, view: LiveView) -> None:
        self.views.append(view)

    def remove(self, view: LiveView) -> None:
        if view in self.views:
            self.views.remove(view)

    def touch(self) -> None:
        interval = 1.0 / max(self.rate(), 1e-3)
        now = self.clock()
        if now - self._last >= interval:
            self.flush()
            return
        if self._scheduled is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._scheduled = loop.call_later(interval - (now - self._last), self._on_timer)

    def _on_timer(self) -> None:
        self._scheduled = None
        self.flush()

    def flush(self) -> None:
        """Refresh every open view now and forget the closed ones."""
        self._last = self.clock()
        self.refreshes += 1
        for view in list(self.views):
            view.update()
            if view.closed:
                self.views.remove(view)
