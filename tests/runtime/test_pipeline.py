"""Compiling a plan onto a streamz graph: operator names, delivery, errors and metrics."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, compile_pipeline, query, records, session_with, stamp
from workbench.errors import QueryRuntimeError, WorkbenchError
from workbench.runtime.pipeline import OperatorNode

EVENTS = pd.DataFrame({"ts": at(1, 2, 12), "k": ["a", "b", "a"], "v": [1, 2, 3]})
WINDOWED = (
    "SELECT k, window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), "
    "INTERVAL '10' SECOND)) WHERE v > 1 GROUP BY k, window_start, window_end"
)
METRIC_COLUMNS = [
    "operator",
    "rows_in",
    "rows_out",
    "late",
    "rejected",
    "cast_failures",
    "batches",
    "busy_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "cache_hits",
    "cache_misses",
    "lookups",
]


def fail_on_three(values: pd.Series) -> pd.Series:
    if (values == 3).any():
        raise ZeroDivisionError("three")
    return values


def test_operator_names_by_kind_and_position() -> None:
    pipeline = compile_pipeline(session_with({"events": EVENTS}), WINDOWED)

    names = [operator.name for operator in pipeline.operators]

    assert names == ["scan-1", "calc-2", "calc-3", "window-aggregate-4", "calc-5"]


def test_one_streamz_node_per_operator() -> None:
    pipeline = compile_pipeline(session_with({"events": EVENTS}), WINDOWED)

    graph_nodes = [node for node in pipeline.nodes if isinstance(node, OperatorNode)]

    assert len(graph_nodes) == len(pipeline.operators) - len(pipeline.entries)
    assert pipeline.feeds == {"events"}


def test_deliver_then_end() -> None:
    pipeline = compile_pipeline(session_with({"events": EVENTS}), WINDOWED)

    pipeline.deliver("events", EVENTS.iloc[:2])
    before_end = len(pipeline.collector.output())
    pipeline.deliver("events", EVENTS.iloc[2:])
    pipeline.end("events")

    assert before_end == 0
    assert pipeline.finished
    assert records(pipeline.collector.to_pandas()) == [("b", stamp(0), 1), ("a", stamp(10), 1)]


def test_end_twice_is_harmless() -> None:
    pipeline = compile_pipeline(session_with({"events": EVENTS}), "SELECT v FROM events")
    pipeline.deliver("events", EVENTS)

    pipeline.end("events")
    pipeline.end("events")

    assert pipeline.collector.to_pandas()["v"].tolist() == [1, 2, 3]


class Fragile:
    """A user aggregate that fails on the value 3."""

    def __init__(self) -> None:
        self.total = 0

    def accumulate(self, values: list[int]) -> None:
        if 3 in values:
            raise ZeroDivisionError("three")
        self.total += sum(values)

    def merge(self, other: Fragile) -> None:
        self.total += other.total

    def result(self) -> int:
        return self.total


def test_operator_error_names_query_and_operator() -> None:
    session = session_with({"events": EVENTS})
    session.register_aggregate("fragile", Fragile, "BIGINT")
    pipeline = compile_pipeline(
        session, "SELECT k, fragile(v) AS x FROM events GROUP BY k", "report"
    )

    pipeline.deliver("events", EVENTS)

    assert isinstance(pipeline.error, QueryRuntimeError)
    assert pipeline.error.query == "report"
    assert pipeline.error.operator == "group-aggregate-3"
    assert "ZeroDivisionError: three" in str(pipeline.error)


def test_function_error_names_query_and_operator() -> None:
    session = session_with({"events": EVENTS})
    session.register_function("fragile", fail_on_three, "BIGINT")
    pipeline = compile_pipeline(session, "SELECT fragile(v) AS x FROM events", name="report")

    pipeline.deliver("events", EVENTS)

    assert isinstance(pipeline.error, QueryRuntimeError)
    assert pipeline.error.query == "report"
    assert pipeline.error.operator == "calc-2"


def test_failed_pipeline_ignores_more_rows() -> None:
    session = session_with({"events": EVENTS})
    session.register_function("fragile", fail_on_three, "BIGINT")
    pipeline = compile_pipeline(session, "SELECT fragile(v) AS x FROM events")
    pipeline.deliver("events", EVENTS)
    error = pipeline.error

    pipeline.deliver("events", EVENTS.iloc[:1])
    pipeline.end("events")

    assert pipeline.error is error
    assert pipeline.finished
    assert len(pipeline.collector.output()) == 0


def test_operator_error_is_user_error() -> None:
    session = session_with({"events": EVENTS})
    session.register_aggregate("fragile", Fragile, "BIGINT")
    result = query(session, "SELECT k, fragile(v) AS x FROM events GROUP BY k")

    with pytest.raises(WorkbenchError, match="operator 'group-aggregate-3'"):
        result.to_pandas()
    assert result.status == "failed"


# Metrics ----------------------------------------------------------------------------------


def metrics_of(sql: str):
    result = query(session_with({"events": EVENTS}), sql)
    result.to_pandas()
    return result.metrics()


def test_metrics_columns() -> None:
    assert list(metrics_of(WINDOWED).columns) == METRIC_COLUMNS


def test_metrics_one_row_per_operator() -> None:
    metrics = metrics_of(WINDOWED)

    assert metrics["operator"].tolist() == [
        "source:events",
        "scan-1",
        "calc-2",
        "calc-3",
        "window-aggregate-4",
        "calc-5",
    ]


def test_metrics_counts() -> None:
    metrics = metrics_of(WINDOWED).set_index("operator")

    assert metrics.loc["source:events", "rows_out"] == 3
    assert metrics.loc["scan-1", "rows_in"] == 3
    assert metrics.loc["calc-2", "rows_in"] == 3
    assert metrics.loc["calc-2", "rows_out"] == 2
    assert metrics.loc["window-aggregate-4", "rows_in"] == 2
    assert metrics.loc["window-aggregate-4", "rows_out"] == 2
    assert metrics.loc["calc-5", "rows_out"] == 2


def test_metrics_latency_of_emitting_operator() -> None:
    metrics = metrics_of(WINDOWED).set_index("operator")

    assert metrics.loc["calc-5", "latency_p50_ms"] >= 0
    assert metrics.loc["calc-5", "latency_p99_ms"] >= metrics.loc["calc-5", "latency_p50_ms"]
    assert metrics.loc["calc-5", "busy_ms"] >= 0


def test_metrics_runs_query() -> None:
    result = query(session_with({"events": EVENTS}), "SELECT v FROM events")

    metrics = result.metrics()

    assert list(metrics.columns) == METRIC_COLUMNS
    assert metrics.set_index("operator").loc["scan-1", "rows_out"] == 3
