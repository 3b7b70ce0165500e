"""The operator graph of a running query with live counters.

Each operator is a box laid out left to right from the scans to the result,
labelled with its name, its step (the line EXPLAIN shows, shortened) and its
counters: rows in, rows out, late and rejected rows. Each refresh patches the
counter labels in one message.
"""

from __future__ import annotations

from typing import Any

from bokeh.models import ColumnDataSource, LayoutDOM, Range1d
from bokeh.models.annotations.labels import LabelSet
from bokeh.plotting import figure

from workbench.results import QueryResult
from workbench.runtime.operator import Operator
from workbench.runtime.pipeline import OperatorNode, Pipeline
from workbench.viz.base import LiveChart

__all__ = ["OperatorGraph", "operator_edges"]

#: Characters of an operator's description shown in its box.
_DESCRIPTION = 48


def operator_edges(pipeline: Pipeline) -> list[tuple[Operator, Operator | None]]:
    """Return (upstream, downstream) operator pairs; downstream None is the query's result."""
    owner: dict[int, Operator] = {}
    for entry in pipeline.entries:
        owner[id(entry.stream)] = entry.operator
    for node in pipeline.nodes:
        if isinstance(node, OperatorNode):
            owner[id(node)] = node.operator
    edges: list[tuple[Operator, Operator | None]] = []
    for node in pipeline.nodes:
        if isinstance(node, OperatorNode):
            for upstream in node.upstreams:
                source = owner.get(id(upstream))
                if source is not None:
                    edges.append((source, node.operator))
    for node in pipeline.nodes:
        if not isinstance(node, OperatorNode) and id(node) not in owner:
            # The collector's sink: its upstream is the last operator.
            for upstream in getattr(node, "upstreams", []):
                source = owner.get(id(upstream))
                if source is not None:
                    edges.append((source, None))
    return edges


def _depths(
    operators: list[Operator], edges: list[tuple[Operator, Operator | None]]
) -> dict[int, int]:
    """Return each operator's column: the longest path to it from a scan."""
    depth = {id(operator): 0 for operator in operators}
    for _ in operators:
        changed = False
        for source, target in edges:
            if target is not None and depth[id(target)] < depth[id(source)] + 1:
                depth[id(target)] = depth[id(source)] + 1
                changed = True
        if not changed:
            break
    return depth


def counters_text(operator: Operator) -> str:
    metrics = operator.metrics
    text = f"in {metrics.rows_in:,} · out {metrics.rows_out:,}"
    if metrics.late:
        text += f" · late {metrics.late:,}"
    if metrics.rejected:
        text += f" · rejected {metrics.rejected:,}"
    return text


class OperatorGraph(LiveChart):
    """Boxes for the operators of a query, arrows for the batches between them, live counters."""

    kind = "graph"
    title = "Operator graph"

    def __init__(self, result: QueryResult, context: Any = None) -> None:
        self._operators: list[Operator] = []
        super().__init__(result, context)

    def build(self) -> LayoutDOM:
        self.nodes = ColumnDataSource(
            {"x": [], "y": [], "name": [], "description": [], "counters": [], "color": []}
        )
        self.edges = ColumnDataSource({"x0": [], "y0": [], "x1": [], "y1": []})
        self.x_range = Range1d(start=-0.6, end=1.6)
        self.y_range = Range1d(start=-0.6, end=0.6)
        self.plot = figure(
            title=f"{self.title}: {self.result.name}",
            height=260,
            x_range=self.x_range,
            y_range=self.y_range,
            sizing_mode="stretch_width",
            tools="pan,wheel_zoom,reset,save",
            x_axis_type=None,
            y_axis_type=None,
        )
        self.plot.grid.visible = False
        self.plot.segment("x0", "y0", "x1", "y1", source=self.edges, line_color="#78909c")
        self.plot.scatter(
            "x1", "y1", source=self.edges, marker="triangle", angle=-1.5708, size=9, color="#78909c"
        )
        self.plot.rect(
            "x",
            "y",
            width=0.8,
            height=0.7,
            source=self.nodes,
            fill_color="color",
            line_color="#455a64",
        )
        self.plot.add_layout(_labels(self.nodes, "name", 14, "9pt", "#263238"))
        self.plot.add_layout(_labels(self.nodes, "description", 0, "7pt", "#546e7a"))
        self.plot.add_layout(_labels(self.nodes, "counters", -16, "9pt", "#263238"))
        return self.plot

    def reset(self) -> None:
        pipeline = self.result.pipeline
        if pipeline is None:
            self._operators = []
            self.nodes.data = {str(name): [] for name in self.nodes.data}
            self.edges.data = {str(name): [] for name in self.edges.data}
            return
        self._operators = list(pipeline.operators)
        edges = operator_edges(pipeline)
        depth = _depths(self._operators, edges)
        rows: dict[int, int] = {}
        position: dict[int, tuple[float, float]] = {}
        for operator in self._operators:
            column = depth[id(operator)]
            row = rows.get(column, 0)
            rows[column] = row + 1
            position[id(operator)] = (float(column), -float(row))
        result_x = float(max(depth.values(), default=0) + 1)
        self.x_range.update(start=-0.6, end=result_x + 0.6)
        self.y_range.update(start=-max(rows.values(), default=1) + 0.4, end=0.6)
        names = [operator.name for operator in self._operators] + ["result"]
        descriptions = [_short(operator.describe()) for operator in self._operators]
        descriptions.append(_short(", ".join(self.result.schema.names)))
        xs = [position[id(operator)][0] for operator in self._operators] + [result_x]
        ys = [position[id(operator)][1] for operator in self._operators] + [0.0]
        self.nodes.data = {
            "x": xs,
            "y": ys,
            "name": names,
            "description": descriptions,
            "counters": [counters_text(operator) for operator in self._operators]
            + [self._result_text()],
            "color": ["#e3f2fd"] * len(self._operators) + ["#e8f5e9"],
        }
        segments: dict[str, Any] = {"x0": [], "y0": [], "x1": [], "y1": []}
        for source, target in edges:
            x0, y0 = position[id(source)]
            x1, y1 = position[id(target)] if target is not None else (result_x, 0.0)
            segments["x0"].append(x0 + 0.4)
            segments["y0"].append(y0)
            segments["x1"].append(x1 - 0.4)
            segments["y1"].append(y1)
        self.edges.data = segments

    def _result_text(self) -> str:
        collector = self.result.collector
        rows = collector.rows if collector is not None else 0
        return f"{rows:,} rows · {self.result.status}"

    def refresh(self) -> None:
        if not self._operators:
            return
        counters = [counters_text(operator) for operator in self._operators]
        counters.append(self._result_text())
        if counters != list(self.nodes.data["counters"]):
            self.nodes.patch({"counters": [(slice(0, len(counters)), counters)]})


def _labels(source: ColumnDataSource, text: str, offset: int, size: str, colour: str) -> LabelSet:
    return LabelSet(
        x="x",
        y="y",
        y_offset=offset,
        text=text,
        source=source,
        text_align="center",
        text_font_size=size,
        text_color=colour,
    )


def _short(text: str) -> str:
    return text if len(text) <= _DESCRIPTION else text[: _DESCRIPTION - 1] + "…"
