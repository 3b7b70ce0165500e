"""Latency and throughput of a running query, sampled at each refresh.

- ingest-to-emit latency of the query's last operator (the time from the
  moment a source handed rows to the engine until the operator emitted
  results derived from them): p50, p95 and p99 of the batches emitted since
  the previous refresh, weighted by rows, over wall-clock time;
- a histogram of the latency samples the operator keeps (its last 4,096
  output batches at most);
- rows per second out of each operator between two refreshes;
- event-time lag: how far the query's output watermark trails the latest
  event time its scans have seen, in seconds of event time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from bokeh.layouts import gridplot
from bokeh.models import ColumnDataSource, LayoutDOM
from bokeh.plotting import figure

from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK
from workbench.results import QueryResult
from workbench.runtime.operator import LATENCY_SAMPLES, Operator
from workbench.runtime.scan import ScanOperator
from workbench.viz.base import DEFAULT_ROLLOVER, PALETTE, LiveChart, empty, stream

__all__ = ["LatencyView", "weighted_percentiles"]

#: Samples kept on the time axis (one per refresh).
_HISTORY = 3_600


def weighted_percentiles(
    values: np.ndarray, weights: np.ndarray, quantiles: tuple[float, ...]
) -> list[float]:
    """Return the ``quantiles`` of ``values`` weighted by ``weights`` (NaN when empty)."""
    if len(values) == 0:
        return [float("nan")] * len(quantiles)
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    total = cumulative[-1]
    found = []
    for quantile in quantiles:
        index = int(np.searchsorted(cumulative, quantile * total, side="left"))
        found.append(float(values[order][min(index, len(values) - 1)]))
    return found


class LatencyView(LiveChart):
    """Latency percentiles and histogram, rows per second per operator, event-time lag."""

    kind = "latency"
    title = "Latency and throughput"

    def __init__(
        self,
        result: QueryResult,
        context: Any = None,
        *,
        rollover: int = _HISTORY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.started = clock()
        self._operators: list[Operator] = []
        self._last_rows: dict[int, int] = {}
        self._last_samples: dict[int, int] = {}
        self._last_time = self.started
        super().__init__(result, context, rollover=min(rollover, DEFAULT_ROLLOVER))

    def build(self) -> LayoutDOM:
        self.percentiles = ColumnDataSource({"t": [], "p50": [], "p95": [], "p99": []})
        self.histogram = ColumnDataSource({"left": [], "right": [], "count": []})
        self.lag = ColumnDataSource({"t": [], "lag": []})
        self.rates = ColumnDataSource({"t": []})
        latency = figure(
            title=f"ingest-to-emit latency of {self.result.name} (ms)",
            x_axis_label="seconds",
            sizing_mode="stretch_width",
            height=220,
        )
        for name, colour in (("p50", PALETTE[2]), ("p95", PALETTE[1]), ("p99", PALETTE[3])):
            latency.line("t", name, source=self.percentiles, color=colour, legend_label=name)
        latency.legend.location = "top_left"
        histogram = figure(
            title="latency histogram (ms, rows)", sizing_mode="stretch_width", height=220
        )
        histogram.quad(
            left="left", right="right", bottom=0, top="count", source=self.histogram, alpha=0.6
        )
        self.rates_plot = figure(
            title="rows per second out of each operator",
            x_axis_label="seconds",
            sizing_mode="stretch_width",
            height=220,
        )
        lag = figure(
            title="event-time lag: latest input event time minus output watermark (s)",
            x_axis_label="seconds",
            sizing_mode="stretch_width",
            height=220,
        )
        lag.line("t", "lag", source=self.lag, color=PALETTE[4])
        lag.scatter("t", "lag", source=self.lag, color=PALETTE[4], size=4)
        self.rates_plot.x_range = latency.x_range
        lag.x_range = latency.x_range
        return gridplot([[latency, histogram], [self.rates_plot, lag]], sizing_mode="stretch_width")

    def reset(self) -> None:
        for source in (self.percentiles, self.histogram, self.lag):
            empty(source)
        pipeline = self.result.pipeline
        self._operators = list(pipeline.operators) if pipeline is not None else []
        self._last_rows = {id(op): op.metrics.rows_out for op in self._operators}
        self._last_samples = {id(op): len(op.metrics.latency_ns) for op in self._operators}
        self._last_time = self.clock()
        columns: dict[str, Any] = {"t": []} | {operator.name: [] for operator in self._operators}
        known = set(self.rates.data)
        self.rates.data = columns
        for index, operator in enumerate(self._operators):
            if operator.name in known:
                continue
            self.rates_plot.line(
                "t",
                operator.name,
                source=self.rates,
                color=PALETTE[index % len(PALETTE)],
                legend_label=operator.name,
            )
        if self.rates_plot.legend:
            self.rates_plot.legend.location = "top_left"

    def refresh(self) -> None:
        if not self._operators:
            return
        now = self.clock()
        elapsed = now - self._last_time
        t = now - self.started
        last = self._operators[-1]
        values, weights = self._new_samples(last)
        p50, p95, p99 = weighted_percentiles(values / 1e6, weights, (0.5, 0.95, 0.99))
        if len(values):
            stream(
                self.percentiles,
                {"t": [t], "p50": [p50], "p95": [p95], "p99": [p99]},
                self.rollover,
            )
            self._histogram(last)
        if elapsed > 0:
            rates: dict[str, list[float]] = {"t": [t]}
            for operator in self._operators:
                rows = operator.metrics.rows_out
                rates[operator.name] = [(rows - self._last_rows[id(operator)]) / elapsed]
                self._last_rows[id(operator)] = rows
            stream(self.rates, rates, self.rollover)
            self._last_time = now
        lag = self._lag()
        if lag is not None:
            stream(self.lag, {"t": [t], "lag": [lag]}, self.rollover)

    def _new_samples(self, operator: Operator) -> tuple[np.ndarray, np.ndarray]:
        """Return the latency samples (ns) and their rows recorded since the last refresh."""
        metrics = operator.metrics
        count = len(metrics.latency_ns)
        before = self._last_samples.get(id(operator), 0)
        # The operator drops the older half of its samples when it holds LATENCY_SAMPLES.
        # NOTE: when that happened more than once between two refreshes, only the
        # samples still held are counted.
        fresh = count - before if count >= before else count - (before - LATENCY_SAMPLES // 2)
        fresh = max(0, min(fresh, count))
        self._last_samples[id(operator)] = count
        values = np.asarray(metrics.latency_ns[count - fresh :], dtype=np.float64)
        weights = np.asarray(metrics.latency_rows[count - fresh :], dtype=np.float64)
        return values, weights

    def _histogram(self, operator: Operator) -> None:
        values = np.asarray(operator.metrics.latency_ns, dtype=np.float64) / 1e6
        weights = np.asarray(operator.metrics.latency_rows, dtype=np.float64)
        counts, edges = np.histogram(values, bins=30, weights=weights)
        self.histogram.data = {"left": edges[:-1], "right": edges[1:], "count": counts}

    def _lag(self) -> float | None:
        collector = self.result.collector
        if collector is None or collector.watermark is None:
            return None
        output = collector.watermark
        latest = max(
            (
                operator.watermark
                for operator in self._operators
                if isinstance(operator, ScanOperator)
            ),
            default=MIN_WATERMARK,
        )
        if output <= MIN_WATERMARK or output >= MAX_WATERMARK or latest <= MIN_WATERMARK:
            return None
        # Scans hold max(event time) - delay: add the delay back for the latest event time.
        delays = [
            operator.node.watermark.delay_ns
            for operator in self._operators
            if isinstance(operator, ScanOperator) and operator.node.watermark is not None
        ]
        return max(0.0, (latest + max(delays, default=0) - output) / 1e9)
