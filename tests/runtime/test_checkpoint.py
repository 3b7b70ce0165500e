"""Snapshot then restore gives the same output as an uninterrupted run."""

from __future__ import annotations

import pickle

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from workbench import Session
from workbench.runtime.pipeline import Compiler, Pipeline
from workbench.runtime.results import ResultCollector
from workbench.sql import plan as p
from workbench.testing import StreamShape, event_streams

QUERIES = {
    "tumble": "SELECT key, window_start, COUNT(*) AS n, SUM(value) AS total, LISTAGG(CAST(value AS STRING)) AS seen "
    "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY key, window_start, window_end",
    "hop": "SELECT window_start, MAX(value) AS high, APPROX_PERCENTILE(value, 0.5) AS median "
    "FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)) GROUP BY window_start, window_end",
    "session": "SELECT key, window_start, window_end, COUNT(*) AS n, FIRST_VALUE(value) AS first_value "
    "FROM TABLE(SESSION(TABLE events PARTITION BY key, DESCRIPTOR(ts), INTERVAL '3' SECOND)) GROUP BY key, window_start, window_end",
    "top_n": "SELECT * FROM (SELECT key, window_start, value, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
    "ORDER BY value DESC) AS rn FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn <= 2",
    "over": "SELECT key, ts, SUM(value) OVER (PARTITION BY key ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s "
    "FROM events",
    "group": "SELECT key, COUNT(*) AS n, COUNT(DISTINCT value) AS distinct_values FROM events GROUP BY key",
    "match": "SELECT * FROM events MATCH_RECOGNIZE (PARTITION BY key ORDER BY ts MEASURES FIRST(ts) AS began, "
    "COUNT(*) AS n, MATCH_NUMBER() AS m AFTER MATCH SKIP TO NEXT ROW PATTERN (A B+) "
    "WITHIN INTERVAL '10' SECOND EMIT TIMEOUTS DEFINE B AS value > PREV(value))",
}


def build(stream: pd.DataFrame, sql: str) -> tuple[Pipeline, ResultCollector]:
    session = Session(progress=False)
    session.from_pandas("events", stream, rowtime="ts", watermark_delay="5 s")
    result = session.sql(sql)
    plan = session._plans[result.name]  # type: ignore[union-attr]
    collector = ResultCollector(plan.schema, updating=plan.updating)
    compiler = Compiler(
        "checkpoint", feed_of=lambda node: node.table if isinstance(node, p.Scan) else "values"
    )
    return compiler.compile(plan, collector), collector


def feed(pipeline: Pipeline, chunks: list[pd.DataFrame]) -> None:
    for chunk in chunks:
        pipeline.deliver("events", chunk.reset_index(drop=True))


@given(
    stream=event_streams(StreamShape(disorder="beyond", max_rows=40)),
    name=st.sampled_from(sorted(QUERIES)),
    cut=st.integers(0, 40),
)
def test_restore_continues_like_one_run(stream: pd.DataFrame, name: str, cut: int) -> None:
    stream = stream.dropna(subset=["ts"]).reset_index(drop=True)
    chunks = [stream.iloc[i : i + 3] for i in range(0, len(stream), 3)]
    cut = min(cut, len(chunks))

    whole, whole_rows = build(stream, QUERIES[name])
    feed(whole, chunks)
    whole.end("events")

    first, first_rows = build(stream, QUERIES[name])
    feed(first, chunks[:cut])
    saved = pickle.loads(pickle.dumps(first.snapshot()))
    second, second_rows = build(stream, QUERIES[name])
    second.restore(saved)
    feed(second, chunks[cut:])
    second.end("events")

    resumed = pd.concat([first_rows.output(), second_rows.output()], ignore_index=True)
    pd.testing.assert_frame_equal(resumed, whole_rows.output(), check_dtype=False)
