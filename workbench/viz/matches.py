"""The match timeline: one band per match of a MATCH_RECOGNIZE query, and the matches in progress.

Each match is a band on the lane of its partition, from its first row to
its last. When the query measures ``MATCH_TIMELINE()`` (an array of
``ROW(variable, position, rowtime)``), each row of the match is a point on
the band, coloured by its pattern variable. Without that measure the band
spans the first and last timestamp measures. Hovering over a band shows the
measures. Partial matches in progress are drawn apart, as dashed bands
just above the lane, from their first row to the current watermark.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from bokeh.models import ColumnDataSource, HoverTool, LayoutDOM, Range1d

from workbench.events.types import TIMESTAMP_KINDS, TypeKind
from workbench.results import QueryResult
from workbench.sql import plan as p
from workbench.viz.base import (
    DEFAULT_ROLLOVER,
    PALETTE,
    LaneIndex,
    LiveChart,
    empty,
    label_lanes,
    lane_figure,
    new_rows,
    note,
    row_labels,
    stream,
    time_ms,
    watermark_ms,
    watermark_span,
)

__all__ = ["MatchTimeline", "timeline_column"]

#: Partial matches drawn at most at once.
_MAX_PARTIAL = 500


def match_step(plan: p.PlanNode | None) -> p.MatchRecognize | None:
    if plan is None:
        return None
    for node in p.walk(plan):
        if isinstance(node, p.MatchRecognize):
            return node
    return None


def timeline_column(result: QueryResult) -> str | None:
    """Return the output column that contains ``MATCH_TIMELINE()``, or None."""
    for item in result.schema.columns:
        element = item.type.element
        if item.type.kind is TypeKind.ARRAY and element is not None:
            fields = {field.name for field in element.fields}
            if {"variable", "rowtime"} <= fields:
                return item.name
    return None


class MatchTimeline(LiveChart):
    """Bands of matches, their rows by pattern variable, and the partial matches in progress."""

    kind = "matches"
    title = "Match timeline"

    def __init__(
        self, result: QueryResult, context: Any = None, *, rollover: int = DEFAULT_ROLLOVER
    ) -> None:
        self.step = match_step(result.plan)
        self.timeline = timeline_column(result)
        self.lanes = LaneIndex()
        self.variables: dict[str, str] = {}
        self._consumed = 0
        self._partial_shown = False
        super().__init__(result, context, rollover=rollover)

    def build(self) -> LayoutDOM:
        if self.step is None:
            return note(f"{self.result.name}: no MATCH_RECOGNIZE in this query, so no matches.")
        self.bands = ColumnDataSource(
            {"left": [], "right": [], "lane": [], "measures": [], "first": [], "last": []}
        )
        self.rows = ColumnDataSource({"x": [], "lane": [], "variable": [], "color": []})
        self.partial = ColumnDataSource(
            {"left": [], "right": [], "lane": [], "state": [], "variables": [], "waiting": []}
        )
        title = f"{self.title}: {self.result.name}"
        if self.timeline is None:
            title += " (measure MATCH_TIMELINE() to see the rows of each match)"
        self.lane_range = Range1d(start=-0.7, end=0.9)
        self.plot = lane_figure(title, self.lane_range, height=300)
        bands = self.plot.hbar(
            y="lane",
            left="left",
            right="right",
            height=0.4,
            source=self.bands,
            fill_color="#90caf9",
            fill_alpha=0.5,
            line_color="#1565c0",
            legend_label="match",
        )
        self.plot.scatter(
            "x", "lane", source=self.rows, color="color", size=7, legend_field="variable"
        )
        partial = self.plot.hbar(
            y="lane",
            left="left",
            right="right",
            height=0.15,
            source=self.partial,
            fill_color="#ffe082",
            line_color="#ff8f00",
            line_dash="dashed",
            legend_label="partial match in progress",
        )
        self.plot.add_tools(
            HoverTool(
                renderers=[bands],
                tooltips=[
                    ("first row", "@first"),
                    ("last row", "@last"),
                    ("measures", "@measures"),
                ],
            ),
            HoverTool(
                renderers=[partial],
                tooltips=[
                    ("state", "@state"),
                    ("rows so far", "@variables"),
                    ("waiting for", "@waiting"),
                ],
            ),
        )
        self.watermark_line = watermark_span()
        self.plot.add_layout(self.watermark_line)
        self.plot.legend.location = "top_left"
        self.plot.legend.orientation = "horizontal"
        return self.plot

    def reset(self) -> None:
        if self.step is None:
            return
        for source in (self.bands, self.rows, self.partial):
            empty(source)
        self.lanes.clear()
        self._consumed = 0
        self._partial_shown = False

    def _keys(self, frame: pd.DataFrame) -> pd.Series:
        assert self.step is not None
        present = [key for key in self.step.partition_keys if key in frame.columns]
        if not present:
            return pd.Series(["matches"] * len(frame), dtype=object)
        if len(present) == 1:
            return frame[present[0]].astype(str)
        return frame[present].astype(str).agg(" / ".join, axis=1)

    def refresh(self) -> None:
        if self.step is None:
            return
        collector = self.result.collector
        if collector is not None:
            rows = new_rows(collector, self._consumed, self.rollover)
            self._consumed = collector.rows
            if len(rows):
                self._stream_matches(rows)
            watermark = watermark_ms(collector.watermark)
            if watermark is not None and watermark != self.watermark_line.location:
                self.watermark_line.location = watermark
        self._show_partial()
        label_lanes(self.plot, self.lane_range, self.lanes, margin=0.9)

    def _stream_matches(self, rows: pd.DataFrame) -> None:
        lanes = self.lanes.lanes_of(self._keys(rows))
        first, last = self._bounds(rows)
        measures = row_labels(rows, [name for name in rows.columns if name != self.timeline])
        stream(
            self.bands,
            {
                "left": first,
                "right": last,
                "lane": lanes,
                "measures": measures,
                "first": pd.to_datetime(pd.Series(first), unit="ms").astype(str).tolist(),
                "last": pd.to_datetime(pd.Series(last), unit="ms").astype(str).tolist(),
            },
            self.rollover,
        )
        if self.timeline is None:
            return
        xs: list[float] = []
        row_lanes: list[float] = []
        variables: list[str] = []
        for lane, entries in zip(lanes, rows[self.timeline], strict=True):
            for entry in _entries(entries):
                xs.append(float(time_ms([entry["rowtime"]])[0]))
                row_lanes.append(float(lane))
                variables.append(str(entry["variable"]))
        stream(
            self.rows,
            {
                "x": xs,
                "lane": row_lanes,
                "variable": variables,
                "color": [self._colour(variable) for variable in variables],
            },
            self.rollover,
        )

    def _bounds(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return the first and last row time of each match, in milliseconds."""
        if self.timeline is not None:
            firsts: list[float] = []
            lasts: list[float] = []
            for entries in rows[self.timeline]:
                times = time_ms([entry["rowtime"] for entry in _entries(entries)])
                firsts.append(float(np.nanmin(times)) if len(times) else np.nan)
                lasts.append(float(np.nanmax(times)) if len(times) else np.nan)
            return np.array(firsts), np.array(lasts)
        stamps = [
            item.name
            for item in self.result.schema.columns
            if item.type.kind in TIMESTAMP_KINDS and item.name in rows.columns
        ]
        if not stamps:
            nothing = np.full(len(rows), np.nan)
            return nothing, nothing
        times = np.vstack([time_ms(rows[name]) for name in stamps])
        return np.nanmin(times, axis=0), np.nanmax(times, axis=0)

    def _colour(self, variable: str) -> str:
        colour = self.variables.get(variable)
        if colour is None:
            colour = self.variables[variable] = PALETTE[len(self.variables) % len(PALETTE)]
        return colour

    def _show_partial(self) -> None:
        """Replace the partial matches drawn with those open now (one message)."""
        frame = self.result.partial_matches() if self.result.pipeline is not None else None
        if frame is None or len(frame) == 0 or "start_time" not in frame.columns:
            if self._partial_shown:
                empty(self.partial)
                self._partial_shown = False
            return
        frame = frame.iloc[:_MAX_PARTIAL]
        left = time_ms(frame["start_time"])
        right = self.watermark_line.location
        right_values = np.full(len(frame), right if right is not None else np.nan)
        right_values = np.where(np.isnan(right_values), left, right_values)
        self.partial.data = {
            "left": left,
            "right": np.maximum(right_values, left),
            "lane": self.lanes.lanes_of(self._keys(frame)) + 0.32,
            "state": frame["state"].astype(str).tolist(),
            "variables": frame["variables"].astype(str).tolist(),
            "waiting": frame["waiting_for"].astype(str).tolist(),
        }
        self._partial_shown = True


def _entries(value: Any) -> list[dict[str, Any]]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [entry for entry in value if entry is not None]
