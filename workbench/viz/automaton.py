"""The automaton of a MATCH_RECOGNIZE pattern, with the states of open partial matches highlighted.

States are circles laid out left to right by their distance from the start
(accepting states have a thick outline); transitions are arrows labelled
with the variable they map the next row to and their preference (1 is tried
first). Each refresh recolours the states that partial matches are in and
shows how many partial matches each holds, in one patch.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from bokeh.models import ColumnDataSource, LayoutDOM, Range1d
from bokeh.models.annotations.arrows import Arrow, VeeHead
from bokeh.models.annotations.labels import LabelSet
from bokeh.plotting import figure

from workbench.errors import WorkbenchError
from workbench.results import QueryResult
from workbench.runtime.match.automaton import Automaton
from workbench.viz.base import LiveChart, note

__all__ = ["AutomatonView", "automaton_layout", "transition_lines"]

_IDLE = "#ffffff"
_ACTIVE = "#ffd54f"


def automaton_layout(automaton: Automaton) -> dict[int, tuple[float, float]]:
    """Return a position per state id: column = distance from the start, rows within a column."""
    depth = {0: 0}
    queue = deque([0])
    outgoing: dict[int, list[int]] = {}
    for transition in automaton.transition_list:
        outgoing.setdefault(transition.source, []).append(transition.target)
    while queue:
        current = queue.popleft()
        for target in outgoing.get(current, []):
            if target not in depth:
                depth[target] = depth[current] + 1
                queue.append(target)
    for state in automaton.state_list:
        depth.setdefault(state.id, max(depth.values()) + 1)
    rows: dict[int, int] = {}
    positions: dict[int, tuple[float, float]] = {}
    for state in automaton.state_list:
        column = depth[state.id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        positions[state.id] = (float(column), -float(row))
    return positions


def transition_lines(
    automaton: Automaton, positions: dict[int, tuple[float, float]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the arrows between states and the loops on a state, with their labels.

    An arrow that goes back to an earlier column is drawn a little lower, so it
    does not hide the arrow the other way.
    """
    edges: dict[str, Any] = {
        "x0": [],
        "y0": [],
        "x1": [],
        "y1": [],
        "lx": [],
        "ly": [],
        "label": [],
    }
    loops: dict[str, Any] = {"x": [], "y": [], "label": []}
    for transition in automaton.transition_list:
        label = f"{transition.variable} ({transition.preference})"
        x0, y0 = positions[transition.source]
        x1, y1 = positions[transition.target]
        if transition.source == transition.target:
            loops["x"].append(x0)
            loops["y"].append(y0 + 0.28)
            loops["label"].append(label)
            continue
        backwards = x1 <= x0
        bend = 0.12 if backwards else 0.0
        edges["x0"].append(x0 + (0.15 if x1 > x0 else -0.15))
        edges["y0"].append(y0 - bend)
        edges["x1"].append(x1 + (-0.15 if x1 > x0 else 0.15))
        edges["y1"].append(y1 - bend)
        edges["lx"].append((x0 + x1) / 2)
        edges["ly"].append((y0 + y1) / 2 - bend + 0.05)
        edges["label"].append(label)
    return edges, loops


class AutomatonView(LiveChart):
    """The states and transitions of a pattern; states with open partial matches in yellow."""

    kind = "automaton"
    title = "Pattern automaton"

    def __init__(self, result: QueryResult, context: Any = None) -> None:
        try:
            self.automaton: Automaton | None = result.automaton()
        except WorkbenchError:
            self.automaton = None
        self._names: list[str] = []
        super().__init__(result, context)

    def build(self) -> LayoutDOM:
        automaton = self.automaton
        if automaton is None:
            return note(f"{self.result.name}: no MATCH_RECOGNIZE in this query, so no automaton.")
        positions = automaton_layout(automaton)
        self._names = [state.name for state in automaton.state_list]
        self.states = ColumnDataSource(
            {
                "x": [positions[state.id][0] for state in automaton.state_list],
                "y": [positions[state.id][1] for state in automaton.state_list],
                "name": self._names,
                "fill": [_IDLE] * len(self._names),
                "width": [3.0 if state.accepting else 1.0 for state in automaton.state_list],
                "open": [""] * len(self._names),
            }
        )
        edges, loops = transition_lines(automaton, positions)
        width = max((x for x, _ in positions.values()), default=0.0)
        depth = min((y for _, y in positions.values()), default=0.0)
        plot = figure(
            title=f"{self.title}: PATTERN ({automaton.pattern})",
            height=max(200, int(140 * (1 - depth))),
            sizing_mode="stretch_width",
            x_range=Range1d(start=-0.6, end=width + 0.6),
            y_range=Range1d(start=depth - 0.6, end=0.7),
            tools="pan,wheel_zoom,reset,save",
            x_axis_type=None,
            y_axis_type=None,
        )
        plot.grid.visible = False
        edge_source = ColumnDataSource(edges)
        plot.add_layout(
            Arrow(  # type: ignore[call-arg]  # bokeh's stubs lack Arrow's line properties
                end=VeeHead(size=9, fill_color="#455a64", line_color="#455a64"),
                x_start="x0",
                y_start="y0",
                x_end="x1",
                y_end="y1",
                source=edge_source,
                line_color="#455a64",
            )
        )
        plot.add_layout(
            LabelSet(
                x="lx",
                y="ly",
                text="label",
                source=edge_source,
                text_font_size="8pt",
                text_align="center",
                text_color="#37474f",
            )
        )
        loop_source = ColumnDataSource(loops)
        plot.scatter(
            "x",
            "y",
            source=loop_source,
            marker="circle",
            size=16,
            fill_alpha=0,
            line_color="#455a64",
        )
        plot.add_layout(
            LabelSet(
                x="x",
                y="y",
                y_offset=10,
                text="label",
                source=loop_source,
                text_font_size="8pt",
                text_align="center",
                text_color="#37474f",
            )
        )
        plot.scatter(
            "x",
            "y",
            source=self.states,
            size=36,
            fill_color="fill",
            line_color="#37474f",
            line_width="width",
        )
        plot.add_layout(
            LabelSet(
                x="x",
                y="y",
                text="name",
                source=self.states,
                text_align="center",
                text_baseline="middle",
                text_font_size="9pt",
            )
        )
        plot.add_layout(
            LabelSet(
                x="x",
                y="y",
                y_offset=-30,
                text="open",
                source=self.states,
                text_align="center",
                text_font_size="8pt",
                text_color="#e65100",
            )
        )
        self.plot = plot
        return plot

    def refresh(self) -> None:
        if self.automaton is None or self.result.pipeline is None:
            return
        partial = self.result.partial_matches()
        counts: dict[str, int] = {}
        if len(partial) and "state" in partial.columns:
            counts = {str(k): int(v) for k, v in partial["state"].value_counts().items()}
        fill = [_ACTIVE if counts.get(name) else _IDLE for name in self._names]
        opened = [f"{counts[name]:,} open" if counts.get(name) else "" for name in self._names]
        if fill != list(self.states.data["fill"]) or opened != list(self.states.data["open"]):
            span = slice(0, len(self._names))
            self.states.patch({"fill": [(span, fill)], "open": [(span, opened)]})
