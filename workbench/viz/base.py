"""What every live chart shares: reading new rows, batched updates, closing and HTML export.

A chart reads the state of a running query (its result rows, side outputs
and operator counters) when :meth:`LiveChart.update` is called, which the
notebook does at most a few times a second. Each update sends at most one
``ColumnDataSource.stream`` (or one ``patch``, or one replacement of the
data) per data source, with a bounded ``rollover``, so the browser receives
the same number of messages per refresh however fast the replay runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.models import ColumnDataSource, FixedTicker, LayoutDOM, Range1d
from bokeh.models.annotations.geometry import Span
from bokeh.models.widgets.markups import Div
from bokeh.plotting import figure
from bokeh.resources import INLINE
from jupyter_bokeh import BokehModel

from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK
from workbench.results import QueryResult
from workbench.runtime.pipeline import Pipeline
from workbench.runtime.results import ResultCollector

__all__ = [
    "DEFAULT_ROLLOVER",
    "PALETTE",
    "LaneIndex",
    "LiveChart",
    "new_rows",
    "time_ms",
    "watermark_ms",
]

logger = logging.getLogger(__name__)

#: Points a chart keeps per data source; older points roll out of the browser's copy.
DEFAULT_ROLLOVER = 20_000

#: Colours for keys and pattern variables (Bokeh's Category10).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def time_ms(values: pd.Series | Sequence[Any]) -> np.ndarray:
    """Return timestamps as float milliseconds since the epoch (Bokeh's datetime unit); NaT is NaN."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if len(series) == 0:
        return np.empty(0, dtype=np.float64)
    stamps = pd.to_datetime(series, errors="coerce")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    raw = stamps.astype("datetime64[ns]").to_numpy().view(np.int64).astype(np.float64)
    raw[stamps.isna().to_numpy()] = np.nan
    return raw / 1e6


def watermark_ms(watermark: int | None) -> float | None:
    """Return a watermark in milliseconds, or None before the first one and at the end of input."""
    if watermark is None or watermark <= MIN_WATERMARK or watermark >= MAX_WATERMARK:
        return None
    return watermark / 1e6


def new_rows(collector: ResultCollector, consumed: int, limit: int) -> pd.DataFrame:
    """Return the rows ``collector`` emitted after its first ``consumed`` rows (the last ``limit`` of them).

    Reads the collector's frames from the end, so the cost follows the new
    rows, not every row emitted so far.
    """
    count = min(collector.rows - consumed, limit)
    if count <= 0 or not collector.frames:
        return collector.schema.empty_frame()
    frames: list[pd.DataFrame] = []
    rows = 0
    for frame in reversed(collector.frames):
        frames.append(frame)
        rows += len(frame)
        if rows >= count:
            break
    tail = frames[0] if len(frames) == 1 else pd.concat(list(reversed(frames)), ignore_index=True)
    return tail.iloc[-count:].reset_index(drop=True)


class LaneIndex:
    """Numbers the keys of a chart's horizontal lanes in order of appearance.

    At most ``limit`` keys get a lane of their own; the others share the
    lane 'other', so a query over many keys still draws a readable chart.
    """

    OTHER = "other"

    def __init__(self, limit: int = 20) -> None:
        self.limit = limit
        self.lanes: dict[str, int] = {}
        self.changed = False

    def lane(self, key: str) -> int:
        found = self.lanes.get(key)
        if found is not None:
            return found
        self.changed = True
        if len(self.lanes) < self.limit:
            self.lanes[key] = len(self.lanes)
            return self.lanes[key]
        return self.lanes.setdefault(self.OTHER, self.limit)

    def lanes_of(self, keys: Iterable[Any]) -> np.ndarray:
        return np.array([self.lane(str(key)) for key in keys], dtype=np.float64)

    def labels(self) -> dict[int, str]:
        return {index: key for key, index in self.lanes.items()}

    def clear(self) -> None:
        self.lanes.clear()
        self.changed = True


_bokehjs_loaded = False


def load_bokehjs() -> None:
    """Load BokehJS into the notebook page once per kernel, as jupyter_bokeh's widgets need it.

    Outside a Jupyter kernel (a script, a test) this does nothing.
    """
    global _bokehjs_loaded  # noqa: PLW0603 - one page load per kernel
    if _bokehjs_loaded:
        return
    try:
        from IPython import get_ipython  # noqa: PLC0415 - only inside a notebook
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    from bokeh.io import output_notebook  # noqa: PLC0415

    # Inline resources: the page loads BokehJS from the kernel, not from a CDN.
    output_notebook(resources=INLINE, hide_banner=True)
    _bokehjs_loaded = True


class ChartWidget(BokehModel):  # type: ignore[misc]
    """A BokehModel whose close can run twice.

    jupyter_bokeh 4.1 raises KeyError when a closed BokehModel is closed again,
    which ipywidgets does when it collects the widget.
    """

    def close(self) -> None:
        if getattr(self, "_closed_before", False):
            return
        self._closed_before = True
        super().close()


class LiveChart:
    """A Bokeh chart of one query, inside an ipywidgets widget, that updates on :meth:`update`.

    Subclasses build the layout in :meth:`build`, drop what they drew in
    :meth:`reset` (the query restarted with new operators), and send the
    changes since the last refresh in :meth:`refresh`. ``context`` is the
    notebook's view context (display settings and replay status) or None.
    """

    #: The view kind this chart registers as.
    kind: ClassVar[str] = ""
    #: The chart's title, before the query name.
    title: ClassVar[str] = ""

    def __init__(
        self, result: QueryResult, context: Any = None, *, rollover: int = DEFAULT_ROLLOVER
    ) -> None:
        self.result = result
        self.context = context
        self.rollover = rollover
        self.closed = False
        #: Refreshes done so far.
        self.refreshes = 0
        self._pipeline: Pipeline | None = None
        self._collector: ResultCollector | None = None
        load_bokehjs()
        self.layout: LayoutDOM = self.build()
        self.document = Document()
        self.document.add_root(self.layout)
        self.widget = ChartWidget(self.layout)
        self.update()

    # For subclasses -------------------------------------------------------------------

    def build(self) -> LayoutDOM:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget what was drawn: the query has new operators (a restart) or none yet."""

    def refresh(self) -> None:
        raise NotImplementedError

    def detach(self) -> None:
        """Stop listening to the query's operators (called on close and on reset)."""

    # Updating -------------------------------------------------------------------------

    def update(self) -> None:
        """Send what changed since the last refresh; a closed chart does nothing."""
        if self.closed:
            return
        if self.widget.comm is None:
            # The widget was closed by the front end or by other code.
            self.close()
            return
        pipeline = self.result.pipeline
        if pipeline is not self._pipeline or self.result.collector is not self._collector:
            self.detach()
            self._pipeline = pipeline
            self._collector = self.result.collector
            self.reset()
        self.refresh()
        self.refreshes += 1

    def close(self) -> None:
        """Close the widget and stop listening to the query; the chart receives no more updates."""
        if self.closed:
            return
        self.closed = True
        self.detach()
        self.widget.close()

    # Export ---------------------------------------------------------------------------

    def save(self, path: str | Path, title: str | None = None) -> Path:
        """Write the chart as it is now to a standalone HTML file (BokehJS inline); return the path."""
        target = Path(path)
        html = file_html(self.layout, INLINE, title or self.heading())
        target.write_text(html, encoding="utf-8")
        return target

    def heading(self) -> str:
        return f"{self.title}: {self.result.name}"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": f"<{type(self).__name__} of {self.result.name}>"}
        if not self.closed and self.widget.comm is not None:
            bundle.update(self.widget._repr_mimebundle_(**kwargs) or {})
        return bundle


def stream(source: ColumnDataSource, columns: Mapping[str, Any], rollover: int) -> None:
    """Append ``columns`` to ``source`` in one message, unless there is nothing to append."""
    first = next(iter(columns.values()), None)
    if first is None or len(first) == 0:
        return
    source.stream(dict(columns), rollover=rollover)


def empty(source: ColumnDataSource) -> None:
    """Remove every row of ``source`` (one message), unless it has none."""
    data: dict[str, Any] = dict(source.data)
    if any(len(values) for values in data.values()):
        source.data = {str(name): [] for name in data}


def lane_figure(title: str, lane_range: Range1d, *, height: int) -> figure:
    """Create a plot over event time whose y axis has one lane per key, labelled by ``label_lanes``."""
    plot = figure(
        title=title,
        x_axis_type="datetime",
        height=height,
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,reset,save",
        y_range=lane_range,
    )
    plot.yaxis.ticker = FixedTicker(ticks=[])
    return plot


def label_lanes(plot: figure, lane_range: Range1d, lanes: LaneIndex, margin: float) -> None:
    """Label the y axis of ``plot`` with the keys of ``lanes`` and end ``lane_range`` above them.

    ``lane_range`` ends ``margin`` lanes above the top lane. The call does
    nothing unless a lane was added or cleared since the last call.
    """
    if not lanes.changed:
        return
    lanes.changed = False
    labels = lanes.labels()
    plot.yaxis.ticker = FixedTicker(ticks=sorted(labels))
    plot.yaxis.major_label_overrides = {float(k): v for k, v in labels.items()}
    lane_range.end = max(labels, default=0) + margin


def watermark_span() -> Span:
    """Create the dashed red vertical line that marks the watermark, placed later."""
    return Span(location=None, dimension="height", line_color="#d62728", line_dash="dashed")


def row_labels(rows: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """Return ``name=value, ...`` over the columns ``names`` for each row of ``rows``."""
    return [
        ", ".join(f"{name}={value}" for name, value in zip(names, record, strict=True))
        for record in rows[list(names)].itertuples(index=False, name=None)
    ]


def note(text: str) -> Div:
    """Return a short grey note that a chart shows in place of a plot it cannot draw."""
    return Div(text=f"<span style='color:#666'>{text}</span>")


def guarded(callback: Callable[[Any], None], description: str) -> Callable[[Any], None]:
    """Wrap a callback that runs inside a replay, so that a failing chart does not stop the replay."""

    def run(value: Any) -> None:
        try:
            callback(value)
        except Exception:
            logger.exception("%s failed, so the chart misses these rows", description)

    return run
