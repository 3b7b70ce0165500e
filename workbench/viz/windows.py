"""The windows timeline: events over event time, windows with their aggregate, the watermark.

The upper plot shows the events the query reads as points over event time,
one lane per key of the window (the first GROUP BY key, or the session's
PARTITION BY key). Rows that arrived late are red crosses, the gaps between
the sessions of a key are dotted bars, and the watermark is a moving
vertical line.
The lower plot shows each fired window as a box from its start to its end
whose height is its aggregate, and early (provisional) results as dashed
outlines until the final result replaces them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, HoverTool, LayoutDOM, Range1d
from bokeh.plotting import figure

from workbench.events.types import NUMERIC_KINDS
from workbench.results import QueryResult
from workbench.runtime.operator import Operator
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
from workbench.viz.taps import InputTap

__all__ = ["WindowsTimeline"]

#: Provisional windows drawn at most at once: the newest result of each open window.
_MAX_PROVISIONAL = 2_000


def window_step(plan: p.PlanNode | None) -> p.WindowAggregate | p.WindowTableFunction | None:
    """Return the window step of a plan nearest to its output, or None."""
    if plan is None:
        return None
    for node in p.walk(plan):
        if isinstance(node, (p.WindowAggregate, p.WindowTableFunction)):
            return node
    return None


def scan_time_column(plan: p.PlanNode | None) -> str | None:
    """Return the event-time column of the first table scan with a watermark."""
    if plan is None:
        return None
    for node in p.walk(plan):
        if isinstance(node, p.Scan) and node.watermark is not None:
            return node.watermark.column
    return None


class WindowsTimeline(LiveChart):
    """Events, late rows, session gaps, the watermark and the windows of a windowed query."""

    kind = "windows"
    title = "Windows timeline"

    def __init__(
        self,
        result: QueryResult,
        context: Any = None,
        *,
        rollover: int = DEFAULT_ROLLOVER,
        points_per_refresh: int = 5_000,
    ) -> None:
        self.points_per_refresh = points_per_refresh
        self.step = window_step(result.plan)
        self.time_column = scan_time_column(result.plan)
        self.tap: InputTap | None = None
        self.lanes = LaneIndex()
        self._consumed = 0
        self._late_consumed: dict[int, int] = {}
        self._session_ends: dict[str, float] = {}
        self._provisional: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._provisional_consumed = 0
        self._provisional_changed = False
        super().__init__(result, context, rollover=rollover)

    # Layout ---------------------------------------------------------------------------

    def build(self) -> LayoutDOM:
        if self.step is None or self.time_column is None:
            return note(
                f"{self.result.name}: no event-time window to draw: the windows timeline "
                "needs a TUMBLE, HOP, CUMULATE or SESSION window over an event-time column."
            )
        window = self.step.window
        self.session = window is not None and window.kind == "SESSION"
        self.events = ColumnDataSource({"x": [], "lane": []})
        self.late = ColumnDataSource({"x": [], "lane": [], "watermark": []})
        self.gaps = ColumnDataSource({"left": [], "right": [], "lane": []})
        window_columns: dict[str, list[Any]] = {
            "left": [],
            "right": [],
            "top": [],
            "color": [],
            "start": [],
            "end": [],
            "label": [],
        }
        self.windows = ColumnDataSource(dict(window_columns))
        self.provisional = ColumnDataSource(dict(window_columns))
        self.lane_range = Range1d(start=-0.7, end=0.7)
        self.events_plot = lane_figure(
            f"{self.title}: {self.result.name} (events, late rows, watermark)",
            self.lane_range,
            height=240,
        )
        if self.session:
            self.events_plot.hbar(
                y="lane",
                left="left",
                right="right",
                height=0.5,
                source=self.gaps,
                fill_color="#eeeeee",
                line_color="#9e9e9e",
                line_dash="dotted",
                legend_label="session gap",
            )
        self.events_plot.scatter(
            "x", "lane", source=self.events, size=4, alpha=0.6, legend_label="event"
        )
        late_points = self.events_plot.scatter(
            "x",
            "lane",
            source=self.late,
            marker="x",
            size=10,
            line_width=2,
            color="#d62728",
            legend_label="late row",
        )
        self.events_plot.add_tools(
            HoverTool(
                renderers=[late_points],
                tooltips=[("late row at", "@x{%F %T.%3N}"), ("watermark then", "@watermark")],
                formatters={"@x": "datetime"},
            )
        )
        self.watermark_line = watermark_span()
        self.events_plot.add_layout(self.watermark_line)
        self.events_plot.legend.location = "top_left"
        self.events_plot.legend.orientation = "horizontal"
        self.windows_plot = figure(
            title="windows and their aggregate (dashed: provisional)",
            x_axis_type="datetime",
            x_range=self.events_plot.x_range,
            height=200,
            sizing_mode="stretch_width",
            tools="xpan,xwheel_zoom,reset,save",
        )
        final = self.windows_plot.quad(
            left="left",
            right="right",
            bottom=0,
            top="top",
            source=self.windows,
            fill_color="color",
            fill_alpha=0.35,
            line_color="color",
        )
        early = self.windows_plot.quad(
            left="left",
            right="right",
            bottom=0,
            top="top",
            source=self.provisional,
            fill_alpha=0.0,
            line_color="color",
            line_dash="dashed",
        )
        self.windows_plot.add_tools(
            HoverTool(
                renderers=[final, early],
                tooltips=[("window", "@start – @end"), ("result", "@label")],
            )
        )
        self.windows_watermark = watermark_span()
        self.windows_plot.add_layout(self.windows_watermark)
        return column(self.events_plot, self.windows_plot, sizing_mode="stretch_width")

    # Refreshing -----------------------------------------------------------------------

    def reset(self) -> None:
        # NOTE: the input tap attaches when the chart first refreshes after the
        # query's operators changed (a restart), so rows delivered before that
        # refresh are not drawn. The notebook refreshes right after a restart.
        if self.step is None or self.time_column is None:
            return
        for source in (self.events, self.late, self.gaps, self.windows, self.provisional):
            empty(source)
        self.lanes.clear()
        self._consumed = 0
        self._late_consumed = {}
        self._session_ends = {}
        self._provisional = {}
        self._provisional_consumed = 0
        pipeline = self.result.pipeline
        if pipeline is not None:
            columns = {self.time_column: "x"}
            key = self._input_key()
            if key is not None and key != self.time_column:
                columns[key] = "key"
            self.tap = InputTap(pipeline, columns, limit=self.points_per_refresh)
            if not self.tap.sinks and len(columns) > 1:
                # The key is computed after the scan: draw the events in one lane.
                self.tap.close()
                self.tap = InputTap(
                    pipeline, {self.time_column: "x"}, limit=self.points_per_refresh
                )

    def detach(self) -> None:
        if self.tap is not None:
            self.tap.close()
            self.tap = None

    def _input_key(self) -> str | None:
        step = self.step
        if step is None:
            return None
        if step.window is not None and step.window.partition_keys:
            return step.window.partition_keys[0]
        if isinstance(step, p.WindowAggregate) and step.keys:
            return step.keys[0]
        return None

    def _key_values(self, frame: pd.DataFrame, column: str | None) -> pd.Series:
        if column is not None and column in frame.columns:
            return frame[column].astype(str)
        return pd.Series(["events"] * len(frame), dtype=object)

    def refresh(self) -> None:
        if self.step is None or self.time_column is None:
            return
        watermark = None
        if self.tap is not None:
            sample = self.tap.take()
            watermark = watermark_ms(sample.watermark)
            if len(sample.frame):
                keys = self._key_values(sample.frame, "key")
                stream(
                    self.events,
                    {"x": time_ms(sample.frame["x"]), "lane": self.lanes.lanes_of(keys)},
                    self.rollover,
                )
        self._refresh_late()
        # Provisional rows first: the final rows that came after them replace them.
        self._refresh_provisional()
        self._refresh_windows()
        if self._provisional_changed:
            self._provisional_changed = False
            self._publish_provisional()
        if watermark is None and self.result.collector is not None:
            watermark = watermark_ms(self.result.collector.watermark)
        if watermark is not None and watermark != self.watermark_line.location:
            self.watermark_line.location = watermark
            self.windows_watermark.location = watermark
        label_lanes(self.events_plot, self.lane_range, self.lanes, margin=0.7)

    def _refresh_late(self) -> None:
        pipeline = self.result.pipeline
        if pipeline is None:
            return
        frames = []
        for operator in pipeline.operators:
            frames.extend(self._new_late_rows(operator))
        if not frames:
            return
        late = pd.concat(frames, ignore_index=True).iloc[-self.points_per_refresh :]
        time_column = self.step.window.time_column if self.step and self.step.window else None
        if time_column is None or time_column not in late.columns:
            time_column = self.time_column
        if time_column not in late.columns:
            return
        keys = self._key_values(late, self._input_key())
        stream(
            self.late,
            {
                "x": time_ms(late[time_column]),
                "lane": self.lanes.lanes_of(keys),
                "watermark": late["late_watermark"].astype(str).tolist(),
            },
            self.rollover,
        )

    def _new_late_rows(self, operator: Operator) -> list[pd.DataFrame]:
        consumed = self._late_consumed.get(id(operator), 0)
        frames = operator.late_rows[consumed:]
        self._late_consumed[id(operator)] = len(operator.late_rows)
        return frames

    def _window_frame(self, rows: pd.DataFrame) -> dict[str, Any] | None:
        """Return the columns of the window boxes for result ``rows``."""
        names = list(rows.columns)
        if "window_start" not in names or "window_end" not in names:
            return None
        value_column = self._value_column()
        key_column = self._output_key()
        keys = self._key_values(rows, key_column)
        lanes = self.lanes.lanes_of(keys)
        values = (
            pd.to_numeric(rows[value_column], errors="coerce").fillna(0).to_numpy(dtype=float)
            if value_column is not None
            else np.ones(len(rows))
        )
        other = [name for name in names if name not in ("window_start", "window_end")]
        labels = row_labels(rows, other)
        return {
            "left": time_ms(rows["window_start"]),
            "right": time_ms(rows["window_end"]),
            "top": values,
            "color": [PALETTE[int(lane) % len(PALETTE)] for lane in lanes],
            "start": rows["window_start"].astype(str).tolist(),
            "end": rows["window_end"].astype(str).tolist(),
            "label": labels,
        }

    def _value_column(self) -> str | None:
        key = self._output_key()
        for item in self.result.schema.columns:
            if item.name in ("window_start", "window_end", "window_time") or item.name == key:
                continue
            if item.type.kind in NUMERIC_KINDS:
                return item.name
        return None

    def _output_key(self) -> str | None:
        key = self._input_key()
        if key is not None and self.result.schema.find(key) is not None:
            return key
        return None

    def _refresh_windows(self) -> None:
        collector = self.result.collector
        if collector is None:
            return
        rows = new_rows(collector, self._consumed, self.rollover)
        self._consumed = collector.rows
        if len(rows) == 0:
            return
        if isinstance(self.step, p.WindowTableFunction):
            # Each input row comes once per window: draw each window once.
            rows = rows.drop_duplicates(subset=["window_start", "window_end"])
            rows = rows[["window_start", "window_end"]]
        columns = self._window_frame(rows)
        if columns is None:
            return
        if self.session:
            self._stream_gaps(rows, columns)
        stream(self.windows, columns, self.rollover)
        self._drop_finished_provisional(columns)

    def _stream_gaps(self, rows: pd.DataFrame, columns: dict[str, Any]) -> None:
        # NOTE: gaps follow the order sessions fire in. A session of a key that
        # fires after a later one of that key does not split the gap drawn before.
        keys = self._key_values(rows, self._output_key()).tolist()
        left: list[float] = []
        right: list[float] = []
        lanes: list[float] = []
        for key, start, end in zip(keys, columns["left"], columns["right"], strict=True):
            previous = self._session_ends.get(key)
            if previous is not None and start > previous:
                left.append(previous)
                right.append(float(start))
                lanes.append(float(self.lanes.lane(key)))
            self._session_ends[key] = max(float(end), previous or float(end))
        stream(self.gaps, {"left": left, "right": right, "lane": lanes}, self.rollover)

    def _refresh_provisional(self) -> None:
        collector = self.result.collector
        frames = getattr(collector, "provisional", None) if collector is not None else None
        if not frames:
            if self._provisional_consumed and collector is not None:
                self._provisional_consumed = 0
            return
        total = sum(len(frame) for frame in frames)
        if total <= self._provisional_consumed:
            return
        rows = pd.concat(frames, ignore_index=True).iloc[self._provisional_consumed :]
        self._provisional_consumed = total
        rows = rows[[name for name in self.result.schema.names if name in rows.columns]]
        columns = self._window_frame(rows.reset_index(drop=True))
        if columns is None:
            return
        key_column = self._output_key()
        keys = self._key_values(rows, key_column).tolist()
        for index, key in enumerate(keys):
            entry = {name: values[index] for name, values in columns.items()}
            self._provisional[(columns["start"][index], columns["end"][index], key)] = entry
        self._provisional_changed = True

    def _drop_finished_provisional(self, columns: dict[str, Any]) -> None:
        if not self._provisional:
            return
        finished = set(zip(columns["start"], columns["end"], strict=True))
        kept = {
            identity: entry
            for identity, entry in self._provisional.items()
            if (identity[0], identity[1]) not in finished
        }
        if len(kept) != len(self._provisional):
            self._provisional = kept
            self._provisional_changed = True

    def _publish_provisional(self) -> None:
        entries = list(self._provisional.values())[-_MAX_PROVISIONAL:]
        self.provisional.data = {
            str(name): [entry[str(name)] for entry in entries] for name in self.provisional.data
        }
