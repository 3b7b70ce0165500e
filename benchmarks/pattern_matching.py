"""The pattern-matching section of the benchmark: MATCH_RECOGNIZE ``A B+ C`` WITHIN 1 minute.

``run.py`` runs it after the window benchmark and writes its figures under
``pattern_matching`` in ``results.json``. Run alone (``.venv/bin/python
benchmarks/pattern_matching.py [--quick]``), it prints the same tables and
writes no file.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from engine_runs import (
    DEFAULT_BATCH_ROWS,
    PATTERN_QUERY,
    PATTERN_WITHIN_MS,
    EngineRun,
    check_counters,
    profile_engine,
    run_engine,
)
from machine import describe_source, load_average
from measurement import Measurement, measure, measure_memory_mode
from pattern_baselines import (
    Match,
    check_same_matches,
    engine_matches,
    event_time_order,
    pattern_event_tuples,
    sort_then_match,
    state_machine_matches,
)
from pattern_workload import PatternWorkload, ensure_pattern_parquet, make_pattern_frame
from report import (
    format_table,
    load_averages,
    print_memory,
    print_profile,
    print_targets,
    rate,
    ratio,
)
from workload import out_of_order_share

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"

#: Target: the engine's rate at the default batch size over the state
#: machine's rate from the same DataFrame the engine reads (medians of the
#: runs). Both then read the columns, order the events by event time and match.
TARGET_OVER_STATE_MACHINE = 0.5
#: Target: the growth of peak memory from the smallest to the largest Parquet
#: replay. Both replays span several full batches, so the growth shows what the
#: engine keeps as the input lengthens, not the size of one batch. The
#: 3,000,000 events that the full run's largest file adds would take at least
#: 51 MB as ts, k and a one-byte kind code, so an engine that kept its input
#: could not meet it.
TARGET_MEMORY_GROWTH_MB = 25.0
WITHIN_NS = PATTERN_WITHIN_MS * 1_000_000
#: A time limit longer than any workload's span, to count the matches without WITHIN.
UNLIMITED_NS = 2**62

#: Memory probe modes: the query, and pyarrow's batch reader alone as a baseline.
MEMORY_MODES = {
    "engine": "engine, INSERT INTO blackhole",
    "reader-no-pre-buffer": "pyarrow iter_batches, pre_buffer=False",
}


@dataclass(frozen=True)
class PatternConfig:
    workload: PatternWorkload
    engine_batch_rows: tuple[int, ...]
    memory_events: tuple[int, ...]
    repeats: int = 3

    @classmethod
    def full(cls) -> PatternConfig:
        return cls(
            workload=PatternWorkload(),
            engine_batch_rows=(65_536, DEFAULT_BATCH_ROWS),
            memory_events=(1_000_000, 2_000_000, 4_000_000),
        )

    @classmethod
    def quick(cls) -> PatternConfig:
        return cls(
            workload=PatternWorkload(events=100_000, span_ms=360_000),
            engine_batch_rows=(65_536, DEFAULT_BATCH_ROWS),
            memory_events=(100_000, 200_000, 400_000),
        )


def engine_name(batch_rows: int) -> str:
    suffix = " (default)" if batch_rows == DEFAULT_BATCH_ROWS else ""
    return f"engine, {batch_rows:,} rows/batch{suffix}"


# Throughput ----------------------------------------------------------------------------


def measure_pattern_throughput(
    frame: pd.DataFrame, config: PatternConfig
) -> tuple[dict[str, Measurement], dict[str, Any]]:
    """Measure the engine at each batch size and the state machine, checking every run's matches.

    Return the measurements and the match counts of the workload.
    """
    events = len(frame)
    arrival = pattern_event_tuples(frame)
    ordered = event_time_order(arrival)
    reference = state_machine_matches(ordered, WITHIN_NS)
    counts = {
        "matches": len(reference.matches),
        "timed_out_partial_matches": reference.timed_out,
        "matches_without_within": len(state_machine_matches(ordered, UNLIMITED_NS).matches),
        "a_rows": sum(1 for _, _, kind in ordered if kind == "a"),
        "b_rows_in_matches": sum(match[3] for match in reference.matches),
    }
    print(
        f"  {counts['matches']:,} matches, {counts['timed_out_partial_matches']:,} "
        f"partial matches timed out, {counts['matches_without_within']:,} matches "
        "without WITHIN",
        flush=True,
    )
    # A million live tuples make every full garbage collection during the
    # engine runs slower, so they are rebuilt after the engine has been timed.
    del arrival, ordered
    measurements: dict[str, Measurement] = {}

    for batch_rows in config.engine_batch_rows:
        name = engine_name(batch_rows)

        def check_engine(run: EngineRun, name: str = name) -> None:
            check_same_matches(reference.matches, engine_matches(run.output), name)
            check_counters(run.metrics, events, name)

        engine_run, _ = measure(
            name,
            events,
            config.repeats,
            partial(run_engine, frame, config.workload, batch_rows, PATTERN_QUERY),
            check_engine,
        )
        engine_run.details["batch_rows"] = batch_rows
        measurements[f"engine-{batch_rows}"] = engine_run
        print(f"  {name}: {rate(engine_run.median_rate)} rows/s", flush=True)

    arrival = pattern_event_tuples(frame)
    ordered = event_time_order(arrival)

    def check_state_machine(matches: list[Match], label: str) -> None:
        check_same_matches(reference.matches, matches, label)

    machine_run, _ = measure(
        "state machine, events in event-time order",
        events,
        config.repeats,
        lambda: state_machine_matches(ordered, WITHIN_NS).matches,
        partial(check_state_machine, label="state machine"),
    )
    measurements["state-machine"] = machine_run
    print(f"  {machine_run.name}: {rate(machine_run.median_rate)} rows/s", flush=True)

    sorting_run, _ = measure(
        "state machine, sorting arrival order first",
        events,
        config.repeats,
        lambda: sort_then_match(arrival, WITHIN_NS).matches,
        partial(check_state_machine, label="state machine with sort"),
    )
    measurements["state-machine-sort"] = sorting_run
    print(f"  {sorting_run.name}: {rate(sorting_run.median_rate)} rows/s", flush=True)

    frame_run, _ = measure(
        "state machine, from the DataFrame",
        events,
        config.repeats,
        lambda: sort_then_match(pattern_event_tuples(frame), WITHIN_NS).matches,
        partial(check_state_machine, label="state machine from the DataFrame"),
    )
    measurements["state-machine-frame"] = frame_run
    print(f"  {frame_run.name}: {rate(frame_run.median_rate)} rows/s", flush=True)
    return measurements, counts


# Memory --------------------------------------------------------------------------------


def measure_pattern_memory(config: PatternConfig) -> dict[str, Any]:
    """Replay each Parquet file in fresh processes and return peak memory over the baseline."""
    workload = config.workload
    paths = {}
    for events in config.memory_events:
        started = time.perf_counter()
        paths[events] = ensure_pattern_parquet(workload, DATA_DIR, events)
        print(f"  {paths[events].name} ready in {time.perf_counter() - started:.1f} s", flush=True)
    small, large = config.memory_events[0], config.memory_events[-1]
    modes: dict[str, Any] = {}
    for mode, label in MEMORY_MODES.items():
        modes[mode] = measure_memory_mode(
            mode,
            label,
            paths,
            repeats=config.repeats,
            delay_ms=workload.watermark_delay_ms,
            query="pattern",
        )
    return {"small_events": small, "large_events": large, "modes": modes}


# Targets and output --------------------------------------------------------------------


def evaluate_pattern_targets(
    throughput: dict[str, Measurement], memory: dict[str, Any]
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    engine = throughput[f"engine-{DEFAULT_BATCH_ROWS}"].median_rate
    ratios = {
        "engine_over_state_machine": engine / throughput["state-machine-frame"].median_rate,
        "engine_over_state_machine_loop_only": engine / throughput["state-machine"].median_rate,
        "engine_over_state_machine_with_sort": engine
        / throughput["state-machine-sort"].median_rate,
    }
    growth = memory["modes"]["engine"]["median_growth_small_to_large_mb"]
    targets = [
        {
            "target": f"engine ≥ {TARGET_OVER_STATE_MACHINE}× state machine from the DataFrame",
            "measured": ratios["engine_over_state_machine"],
            "unit": "×",
            "met": ratios["engine_over_state_machine"] >= TARGET_OVER_STATE_MACHINE,
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


def run_pattern_benchmark(config: PatternConfig) -> dict[str, Any]:
    """Run every pattern-matching measurement and return the figures, ready for JSON."""
    workload = config.workload
    started = time.perf_counter()
    load_before = load_average()
    print(f"pattern matching: generating {workload.events:,} events", flush=True)
    frame = make_pattern_frame(workload)

    print("pattern matching: throughput", flush=True)
    throughput, match_counts = measure_pattern_throughput(frame, config)

    print("pattern matching: memory", flush=True)
    memory = measure_pattern_memory(config)

    ratios, targets = evaluate_pattern_targets(throughput, memory)
    profiles = []
    if not all(target["met"] for target in targets):
        print("pattern matching: profiling the engine, because a target was missed", flush=True)
        profiles.append(profile_engine(frame, workload, DEFAULT_BATCH_ROWS, query=PATTERN_QUERY))

    return {
        # Other processes on the machine slow the timings, and engine files
        # may have changed since the commit, so both are recorded.
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "source": describe_source(),
        "workload": {
            **workload.describe(),
            "key_type": "BIGINT (int64), values 0 to keys - 1",
            "measured_out_of_order_share": out_of_order_share(frame),
        },
        "query": PATTERN_QUERY.strip(),
        "within_ms": PATTERN_WITHIN_MS,
        "match_counts": match_counts,
        "throughput": [measurement.to_json() for measurement in throughput.values()],
        "ratios": ratios,
        "memory": memory,
        "targets": targets,
        "profiles": profiles,
        "duration_seconds": time.perf_counter() - started,
    }


def print_pattern_report(section: dict[str, Any]) -> None:
    workload = section["workload"]
    counts = section["match_counts"]
    print("\nPattern matching: MATCH_RECOGNIZE PATTERN (A B+ C) WITHIN INTERVAL '1' MINUTE")
    source = section["source"]
    changed = source["uncommitted_engine_files"]
    print(
        f"engine: commit {source['commit']}, "
        f"{'unknown' if changed is None else len(changed)} engine files changed since; "
        f"load average before {load_averages(section['load_average_before'])}, "
        f"after {load_averages(section['load_average_after'])}"
    )
    print(
        f"workload: {workload['events']:,} events, {workload['keys']:,} integer keys, "
        f"{workload['span_ms'] / 60_000:g} minutes of event time, "
        f"{workload['measured_out_of_order_share']:.2%} out of order "
        f"(held back ≤ {workload['max_hold_back_ms']} ms, watermark delay "
        f"{workload['watermark_delay_ms']} ms), kinds {workload['kinds']} with weights "
        f"{list(workload['kind_weights'])}"
    )
    print(
        f"matches: {counts['matches']:,} ({counts['matches_without_within']:,} without WITHIN); "
        f"partial matches timed out: {counts['timed_out_partial_matches']:,}; "
        f"A rows: {counts['a_rows']:,}"
    )

    print("\nThroughput (rows/s; ratio = engine at the default batch size ÷ this, medians)")
    engine = next(
        entry["median_rows_per_second"]
        for entry in section["throughput"]
        if entry.get("batch_rows") == DEFAULT_BATCH_ROWS
    )
    rows = [
        [
            entry["name"],
            entry["events"],
            f"{entry['best_seconds']:.3f}",
            f"{entry['median_seconds']:.3f}",
            rate(entry["best_rows_per_second"]),
            rate(entry["median_rows_per_second"]),
            "-"
            if entry["name"].startswith("engine")
            else ratio(engine / entry["median_rows_per_second"]),
        ]
        for entry in section["throughput"]
    ]
    headers = ["implementation", "events", "best s", "median s", "best", "median", "ratio"]
    print(format_table(headers, rows))

    print_memory(section["memory"], rows_written_header="matches")
    print_targets(section["targets"])

    for profile in section["profiles"]:
        print_profile(profile)
    print(f"\npattern matching took {section['duration_seconds']:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="run on a tenth of the events, to check the script",
    )
    args = parser.parse_args(argv)
    config = PatternConfig.quick() if args.quick else PatternConfig.full()
    section = run_pattern_benchmark(config)
    print_pattern_report(section)


if __name__ == "__main__":
    main()
