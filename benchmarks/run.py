"""Benchmark the engine on a TUMBLE(1 minute) query against pandas, per-event streamz and DuckDB.

Then benchmark MATCH_RECOGNIZE against a hand-written state machine
(``pattern_matching.py``), and the pcap reader against dpkt's bare reader
(``packets.py``). Run it with ``make bench`` (``.venv/bin/python
benchmarks/run.py``). It prints tables and writes ``benchmarks/results.json``.
The Parquet files for the memory measurements are generated into
``benchmarks/data/`` on the first run. ``--quick`` runs the same steps on about a tenth of the events to check
the script, and writes no results file unless ``--output`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from baselines import (
    duckdb_window_aggregate,
    event_tuples,
    loop_window_aggregate,
    pandas_window_aggregate,
    streamz_window_aggregate,
)
from engine_runs import (
    DEFAULT_BATCH_ROWS,
    EngineRun,
    check_counters,
    output_latency,
    profile_engine,
    run_engine,
)
from live_latency import LiveConfig, print_live_report, run_live_benchmark
from machine import describe_machine
from measurement import Measurement, measure, measure_memory_mode
from packets import PacketConfig, print_packet_report, run_packet_benchmark
from pattern_matching import PatternConfig, print_pattern_report, run_pattern_benchmark
from report import format_table, print_memory, print_profile, print_targets, rate, ratio
from verify import check_same_result
from workload import Workload, ensure_parquet, make_frame, out_of_order_share

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
RESULTS_PATH = HERE / "results.json"

#: Targets: the engine's rate at the default batch size over a baseline's rate
#: (medians of the runs), and the growth of peak memory from the small to the
#: large Parquet replay.
TARGET_OVER_PANDAS = 0.5
TARGET_OVER_STREAMZ = 100.0
TARGET_MEMORY_GROWTH_MB = 100.0
#: Batch size of the second profile, which shows the fixed cost per batch.
PROFILE_SMALL_BATCH_ROWS = 64


@dataclass(frozen=True)
class Config:
    workload: Workload
    engine_batch_rows: tuple[int, ...]
    streamz_events: int
    latency_events: int
    latency_batch_rows: tuple[int, ...]
    memory_events: tuple[int, int]
    pattern: PatternConfig
    packets: PacketConfig
    live: LiveConfig
    repeats: int = 3

    @classmethod
    def full(cls) -> Config:
        return cls(
            workload=Workload(),
            engine_batch_rows=tuple(sorted({16_384, DEFAULT_BATCH_ROWS, 262_144})),
            streamz_events=200_000,
            latency_events=20_000,
            latency_batch_rows=(1, 64, 1_024),
            memory_events=(1_000_000, 10_000_000),
            pattern=PatternConfig.full(),
            packets=PacketConfig.full(),
            live=LiveConfig(),
        )

    @classmethod
    def quick(cls) -> Config:
        return cls(
            workload=Workload(events=200_000, span_ms=360_000),
            engine_batch_rows=tuple(sorted({16_384, DEFAULT_BATCH_ROWS})),
            streamz_events=20_000,
            latency_events=2_000,
            latency_batch_rows=(1, 64, 1_024),
            memory_events=(100_000, 1_000_000),
            pattern=PatternConfig.quick(),
            packets=PacketConfig.quick(),
            live=LiveConfig.quick(),
        )


# Throughput ----------------------------------------------------------------------------


def engine_name(batch_rows: int) -> str:
    suffix = " (default)" if batch_rows == DEFAULT_BATCH_ROWS else ""
    return f"engine, {batch_rows:,} rows/batch{suffix}"


def measure_throughput(frame: pd.DataFrame, config: Config) -> dict[str, Measurement]:
    """Measure pandas, the engine at each batch size, DuckDB and per-event streamz."""
    workload = config.workload
    events = len(frame)
    measurements: dict[str, Measurement] = {}

    pandas_run, reference = measure(
        "pandas batch (groupby)",
        events,
        config.repeats,
        lambda: pandas_window_aggregate(frame),
        lambda output: None,
    )
    measurements["pandas"] = pandas_run
    print(f"  {pandas_run.name}: {rate(pandas_run.median_rate)} rows/s", flush=True)

    for batch_rows in config.engine_batch_rows:
        name = engine_name(batch_rows)

        def check_engine(run: EngineRun, name: str = name) -> None:
            check_same_result(reference, run.output, name)
            check_counters(run.metrics, events, name)

        engine_run, _ = measure(
            name,
            events,
            config.repeats,
            partial(run_engine, frame, workload, batch_rows),
            check_engine,
        )
        engine_run.details["batch_rows"] = batch_rows
        measurements[f"engine-{batch_rows}"] = engine_run
        print(f"  {name}: {rate(engine_run.median_rate)} rows/s", flush=True)

    for threads, key, name in (
        (None, "duckdb", f"DuckDB SQL ({os.cpu_count()} threads)"),
        (1, "duckdb-1", "DuckDB SQL (1 thread)"),
    ):
        duckdb_run, _ = measure(
            name,
            events,
            config.repeats,
            partial(duckdb_window_aggregate, frame, threads),
            partial(check_same_result, reference, label=name),
        )
        measurements[key] = duckdb_run
        print(f"  {name}: {rate(duckdb_run.median_rate)} rows/s", flush=True)

    subset = frame.iloc[: config.streamz_events].reset_index(drop=True)
    subset_reference = pandas_window_aggregate(subset)
    tuples = event_tuples(subset)
    delay_ns = workload.watermark_delay_ms * 1_000_000
    streamz_run, _ = measure(
        "per-event streamz (map, flatten, sink)",
        len(subset),
        config.repeats,
        lambda: streamz_window_aggregate(tuples, delay_ns),
        lambda output: check_same_result(subset_reference, output, "per-event streamz"),
    )
    measurements["streamz"] = streamz_run
    print(f"  {streamz_run.name}: {rate(streamz_run.median_rate)} rows/s", flush=True)

    loop_run, _ = measure(
        "per-event Python loop (no streamz)",
        len(subset),
        config.repeats,
        lambda: loop_window_aggregate(tuples, delay_ns),
        lambda output: check_same_result(subset_reference, output, "per-event Python loop"),
    )
    measurements["loop"] = loop_run
    print(f"  {loop_run.name}: {rate(loop_run.median_rate)} rows/s", flush=True)
    return measurements


# Per-batch latency ---------------------------------------------------------------------


def measure_batch_latency(frame: pd.DataFrame, config: Config) -> list[Measurement]:
    """Run the engine on the first ``latency_events`` events at small batch sizes."""
    subset = frame.iloc[: config.latency_events].reset_index(drop=True)
    reference = pandas_window_aggregate(subset)
    results = []
    for batch_rows in config.latency_batch_rows:
        latencies: list[dict[str, Any]] = []

        def check(
            run: EngineRun, batch_rows: int = batch_rows, latencies: list[Any] = latencies
        ) -> None:
            label = f"engine, {batch_rows} rows/batch"
            check_same_result(reference, run.output, label)
            check_counters(run.metrics, len(subset), label)
            latencies.append(output_latency(run.metrics))

        measurement, _ = measure(
            f"{batch_rows:,} rows/batch",
            len(subset),
            config.repeats,
            partial(run_engine, subset, config.workload, batch_rows),
            check,
        )
        batches = latencies[0]["batches"]
        measurement.details = {
            "batch_rows": batch_rows,
            "batches": batches,
            "operator": latencies[0]["operator"],
            "median_us_per_batch": measurement.median / batches * 1e6,
            "latency_runs": latencies,
            **{
                f"median_{percentile}": _median_or_none(run[percentile] for run in latencies)
                for percentile in ("p50_ms", "p95_ms", "p99_ms")
            },
        }
        results.append(measurement)
        print(
            f"  {measurement.name}: {measurement.details['median_us_per_batch']:.0f} µs per batch",
            flush=True,
        )
    return results


def _median_or_none(values: Any) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


# Memory --------------------------------------------------------------------------------


#: Memory probe modes: the query, and pyarrow's batch reader alone as a baseline.
MEMORY_MODES = {
    "engine": "engine, INSERT INTO blackhole",
    "reader": "pyarrow iter_batches alone",
    "reader-no-pre-buffer": "pyarrow iter_batches, pre_buffer=False",
}


def measure_memory(config: Config) -> dict[str, Any]:
    """Replay each Parquet file in fresh processes; return peak memory over the baseline."""
    paths = {}
    for events in config.memory_events:
        started = time.perf_counter()
        paths[events] = ensure_parquet(config.workload, DATA_DIR, events)
        print(f"  {paths[events].name} ready in {time.perf_counter() - started:.1f} s", flush=True)
    small, large = config.memory_events
    modes: dict[str, Any] = {}
    for mode, label in MEMORY_MODES.items():
        modes[mode] = measure_memory_mode(
            mode,
            label,
            paths,
            repeats=config.repeats,
            delay_ms=config.workload.watermark_delay_ms,
        )
    return {"small_events": small, "large_events": large, "modes": modes}


# Targets and output --------------------------------------------------------------------


def evaluate_targets(
    throughput: dict[str, Measurement], memory: dict[str, Any]
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    engine = throughput[f"engine-{DEFAULT_BATCH_ROWS}"].median_rate
    ratios = {
        "engine_over_pandas": engine / throughput["pandas"].median_rate,
        "engine_over_streamz": engine / throughput["streamz"].median_rate,
        "engine_over_duckdb": engine / throughput["duckdb"].median_rate,
        "engine_over_duckdb_1_thread": engine / throughput["duckdb-1"].median_rate,
        "engine_over_python_loop": engine / throughput["loop"].median_rate,
    }
    growth = memory["modes"]["engine"]["median_growth_small_to_large_mb"]
    targets = [
        {
            "target": f"engine ≥ {TARGET_OVER_PANDAS}× pandas batch",
            "measured": ratios["engine_over_pandas"],
            "unit": "×",
            "met": ratios["engine_over_pandas"] >= TARGET_OVER_PANDAS,
        },
        {
            "target": f"engine ≥ {TARGET_OVER_STREAMZ:.0f}× per-event streamz",
            "measured": ratios["engine_over_streamz"],
            "unit": "×",
            "met": ratios["engine_over_streamz"] >= TARGET_OVER_STREAMZ,
        },
        {
            "target": (
                f"peak memory growth {memory['small_events']:,} → {memory['large_events']:,} "
                f"events < {TARGET_MEMORY_GROWTH_MB:.0f} MB"
            ),
            "measured": growth,
            "unit": "MB",
            "met": growth < TARGET_MEMORY_GROWTH_MB,
        },
    ]
    return ratios, targets


def print_report(report: dict[str, Any], throughput: dict[str, Measurement]) -> None:
    machine = report["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    workload = report["workload"]
    print()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']:.1f} GiB")
    print(f"python {machine['python']}; {versions}")
    print(f"command: {report['command']}")
    print(
        f"workload: {workload['events']:,} events, {workload['keys']:,} integer keys, "
        f"{workload['span_ms'] / 60_000:g} minutes of event time, "
        f"{workload['measured_out_of_order_share']:.2%} out of order "
        f"(held back ≤ {workload['max_hold_back_ms']} ms, watermark delay "
        f"{workload['watermark_delay_ms']} ms)"
    )

    print("\nThroughput (rows/s; ratio = engine at the default batch size ÷ this, medians)")
    engine = throughput[f"engine-{DEFAULT_BATCH_ROWS}"].median_rate
    rows = [
        [
            m.name,
            m.events,
            f"{m.best:.3f}",
            f"{m.median:.3f}",
            rate(m.best_rate),
            rate(m.median_rate),
            "-" if m.name.startswith("engine") else ratio(engine / m.median_rate),
        ]
        for m in throughput.values()
    ]
    headers = ["implementation", "events", "best s", "median s", "best", "median", "ratio"]
    print(format_table(headers, rows))

    print("\nPer-batch cost (engine, first events of the workload; latency = ingest to emit)")
    rows = [
        [
            m.name,
            m.details["batches"],
            f"{m.median:.3f}",
            rate(m.median_rate),
            f"{m.details['median_us_per_batch']:.0f}",
            m.details["median_p50_ms"],
            m.details["median_p95_ms"],
            m.details["median_p99_ms"],
        ]
        for m in report["latency_measurements"]
    ]
    headers = [
        "batch size",
        "batches",
        "median s",
        "rows/s",
        "µs/batch",
        "p50 ms",
        "p95 ms",
        "p99 ms",
    ]
    print(format_table(headers, rows))

    print_memory(report["memory"])
    print_targets(report["targets"])

    for profile in report["profiles"]:
        print_profile(profile)


def invoked_command() -> str:
    command = shlex.join([sys.executable, *sys.argv])
    # make exports MAKELEVEL to the commands of its recipes.
    return f"make bench ({command})" if "MAKELEVEL" in os.environ else command


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="run on about a tenth of the events, to check the script",
    )
    parser.add_argument("--output", type=Path, help=f"results file (default: {RESULTS_PATH})")
    args = parser.parse_args(argv)
    config = Config.quick() if args.quick else Config.full()
    output_path = args.output or (None if args.quick else RESULTS_PATH)
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")

    workload = config.workload
    print(f"generating {workload.events:,} events", flush=True)
    frame = make_frame(workload)
    print("throughput", flush=True)
    throughput = measure_throughput(frame, config)
    print("per-batch cost", flush=True)
    latency = measure_batch_latency(frame, config)
    print("memory", flush=True)
    memory = measure_memory(config)
    ratios, targets = evaluate_targets(throughput, memory)
    profiles = []
    if not all(target["met"] for target in targets):
        print("profiling the engine, because a target was missed", flush=True)
        profiles.append(profile_engine(frame, workload, DEFAULT_BATCH_ROWS))
        subset = frame.iloc[: config.latency_events].reset_index(drop=True)
        profiles.append(profile_engine(subset, workload, PROFILE_SMALL_BATCH_ROWS))
    pattern = run_pattern_benchmark(config.pattern)
    packets = run_packet_benchmark(config.packets)
    print("live TCP latency", flush=True)
    live = run_live_benchmark(config.live)

    report = {
        "started_at": started_at,
        "command": invoked_command(),
        "quick": args.quick,
        "machine": describe_machine(),
        "workload": {
            **workload.describe(),
            "key_type": "BIGINT (int64), values 0 to keys - 1",
            "measured_out_of_order_share": out_of_order_share(frame),
        },
        "query": "TUMBLE(ts, 1 minute) GROUP BY window, k: COUNT(*), SUM(v), AVG(v), MAX(v)",
        "throughput": [measurement.to_json() for measurement in throughput.values()],
        "ratios": ratios,
        "latency": [measurement.to_json() for measurement in latency],
        "latency_measurements": latency,
        "memory": memory,
        "targets": targets,
        "profiles": profiles,
        "pattern_matching": pattern,
        "packets": packets,
        "live_latency": live,
    }
    report["duration_seconds"] = time.perf_counter() - started
    print_report(report, throughput)
    print_pattern_report(pattern)
    print_packet_report(packets)
    print_live_report(live)
    print(f"\ntotal {report['duration_seconds']:.0f} s")
    if output_path is not None:
        del report["latency_measurements"]
        output_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {output_path}")


if __name__ == "__main__":
    main()
