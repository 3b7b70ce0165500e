"""Format benchmark results as plain-text tables, and print cProfile summaries."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return an aligned table: the first column left-aligned, the others right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = [_line(headers, widths), "  ".join("-" * width for width in widths)]
    lines.extend(_line(row, widths) for row in cells)
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: list[int]) -> str:
    parts = [cells[0].ljust(widths[0])]
    parts.extend(cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
    return "  ".join(parts).rstrip()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def rate(value: float) -> str:
    """Return a rate in rows per second, such as ``4.1 M`` or ``98.2 k``."""
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k"
    return f"{value:.0f}"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}×"


def megabytes(kib: float) -> str:
    """Return kibibytes as megabytes (10**6 bytes)."""
    return f"{kib * 1024 / 1e6:,.1f}"


def load_averages(values: list[float] | None) -> str:
    """Format the load averages of ``machine.load_average``, or "unknown" where it returned None."""
    return "unknown" if values is None else " ".join(f"{value:.2f}" for value in values)


def print_memory(memory: dict[str, Any], *, rows_written_header: str | None = None) -> None:
    """Print the memory probes of each replay mode and event count, then the growth between counts.

    With ``rows_written_header``, a last column under that header shows the
    rows that the first probe of each event count wrote.
    """
    print(
        "\nMemory (Parquet replay, fresh process each run; MB = 10^6 bytes; growth = peak - baseline)"
    )
    rows = []
    for mode in memory["modes"].values():
        for events, probes in mode["runs"].items():
            growths = [probe["growth_kib"] for probe in probes]
            row = [
                f"{mode['label']}, {int(events):,} events",
                megabytes(statistics.median(probe["baseline_kib"] for probe in probes)),
                megabytes(statistics.median(probe["peak_kib"] for probe in probes)),
                megabytes(min(growths)),
                megabytes(statistics.median(growths)),
                f"{statistics.median(probe['seconds'] for probe in probes):.1f}",
            ]
            if rows_written_header is not None:
                row.append(probes[0]["rows_written"])
            rows.append(row)
    headers = ["replay", "baseline", "peak", "best growth", "median growth", "s"]
    if rows_written_header is not None:
        headers.append(rows_written_header)
    print(format_table(headers, rows))
    for mode in memory["modes"].values():
        print(
            f"{mode['label']}: growth {memory['small_events']:,} → {memory['large_events']:,} "
            f"events {mode['median_growth_small_to_large_mb']:.1f} MB (medians), "
            f"{mode['best_growth_small_to_large_mb']:.1f} MB (best runs)"
        )


def print_targets(targets: list[dict[str, Any]]) -> None:
    """Print each target with its measured value and whether it was met."""
    print("\nTargets")
    rows = [
        [
            target["target"],
            f"{target['measured']:,.2f} {target['unit']}",
            "met" if target["met"] else "MISSED",
        ]
        for target in targets
    ]
    print(format_table(["target", "measured", "result"], rows))


def print_profile(profile: dict[str, Any], top: int = 12) -> None:
    """Print the top functions of a profile from ``engine_runs.profile_engine``."""
    print(
        f"\nProfile: engine on {profile['events']:,} events at {profile['batch_rows']:,} "
        f"rows/batch (cProfile, {profile['total_seconds']:.2f} s profiled)"
    )
    rows = [
        [entry["function"], f"{entry['self_share']:.1%}", f"{entry['cumulative_share']:.1%}"]
        for entry in profile["by_self_time"][:top]
    ]
    print(format_table(["by self time", "self", "cumulative"], rows))
    print()
    rows = [
        [entry["function"], f"{entry['inclusive_share']:.1%}", f"{entry['cumulative_share']:.1%}"]
        for entry in profile["engine_by_inclusive_time"][:top]
    ]
    headers = ["engine functions, with their library calls", "inclusive", "cumulative"]
    print(format_table(headers, rows))
