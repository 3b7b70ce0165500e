"""Ingest-to-result latency of queries on a live TCP feed, against a bare asyncio TCP echo.

A sender process paces JSON lines over TCP loopback at a fixed rate, in
bursts every millisecond, and logs when it sent each event. Each event's
event time ``ts`` is its send time in milliseconds (the precision of a
Flink time attribute) and the watermark delay is 0, so a result is due as soon as the event that completes it has been
sent:

- filter and tumbling window (100 ms): a window's row is due when the first
  event with ``ts`` at or after the window end was sent. Its latency is the
  time the engine emitted the row minus that event's send time.
- pattern (``A B`` per key): a match is due when its ``B`` event was sent.
  Its latency is the emit time minus that event's send time, which
  includes the wait for the watermark to pass the event's time.

The baseline is a bare asyncio TCP echo server: the sender sends the same
lines at the same rate and measures each line's round trip. Times are
``time.time_ns()`` in both processes (one machine, one clock). Run
``python benchmarks/live_latency.py`` alone or through ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
#: Keys of the events; the pattern runs per key.
KEYS = 1_000
#: Watermark of each query's table. MATCH_RECOGNIZE follows Flink's rule that a
#: row at or before the watermark is late, so with `ts` itself as the watermark
#: every row that shares the newest millisecond would be late. One millisecond
#: of delay (Flink's "ascending timestamps" strategy) keeps those rows.
WATERMARKS = {"window": "ts", "pattern": "ts - INTERVAL '0.001' SECOND"}
WINDOW_MS = 100
#: Target from the requirement: p99 below 10 ms at 10,000 events/s (filter and window).
TARGET_P99_MS = 10.0

WINDOW_SQL = f"""
SELECT window_end, k, COUNT(*) AS c, SUM(v) AS s
FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '{WINDOW_MS}' MILLISECOND))
WHERE v >= 10
GROUP BY window_start, window_end, k
"""

PATTERN_SQL = """
SELECT * FROM ev MATCH_RECOGNIZE (
  PARTITION BY k ORDER BY ts
  MEASURES LAST(B.sent) AS b_sent
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (A B)
  DEFINE A AS kind = 'a', B AS kind = 'b')
"""


@dataclass(frozen=True)
class LiveConfig:
    rates: tuple[int, ...] = (10_000, 50_000)
    seconds: float = 5.0
    warmup_seconds: float = 1.0

    @classmethod
    def quick(cls) -> LiveConfig:
        return cls(rates=(10_000,), seconds=2.0, warmup_seconds=0.5)


# The sender (a process of its own) ------------------------------------------------------


def send(port: int, rate: int, seconds: float, log: Path, echo: bool) -> None:
    """Send ``rate`` events per second for ``seconds``; log (ts ms, sent ns) per event.

    With ``echo``, read the echoed lines back and log the round trip of each.
    """
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    total = int(rate * seconds)
    sent_ns = np.zeros(total, dtype=np.int64)
    ts_ms = np.zeros(total, dtype=np.int64)
    received_ns = np.zeros(total, dtype=np.int64)
    reader = None
    if echo:
        reader = threading.Thread(target=_read_echoes, args=(sock, received_ns), daemon=True)
        reader.start()
    random = np.random.default_rng(7)
    keys = random.integers(0, KEYS, total)
    values = random.uniform(0, 100, total)
    kinds = np.where(random.random(total) < 0.5, "a", "b")
    started = time.perf_counter()
    index = 0
    while index < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        if due <= index:
            time.sleep(0.0002)
            continue
        lines = []
        for position in range(index, due):
            now = time.time_ns()
            sent_ns[position] = now
            ts_ms[position] = now // 1_000_000
            lines.append(
                f'{{"ts": {ts_ms[position]}, "sent": {now}, "k": {keys[position]}, '
                f'"v": {values[position]:.3f}, "kind": "{kinds[position]}", "seq": {position}}}\n'
            )
        sock.sendall("".join(lines).encode())
        index = due
    if reader is not None:
        reader.join(30)
    sock.close()
    np.savez(log, sent_ns=sent_ns, ts_ms=ts_ms, received_ns=received_ns)


def _read_echoes(sock: socket.socket, received_ns: np.ndarray) -> None:
    pending = b""
    count = 0
    while count < len(received_ns):
        chunk = sock.recv(1 << 16)
        if not chunk:
            return
        now = time.time_ns()
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        for line in lines:
            position = json.loads(line)["seq"]
            received_ns[position] = now
            count += 1


def start_sender(
    port: int, rate: int, seconds: float, log: Path, *, echo: bool
) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(HERE), "send", str(port), str(rate), str(seconds), str(log)]
    if echo:
        command.append("--echo")
    return subprocess.Popen(command)


# The engine ------------------------------------------------------------------------------


def percentiles(latencies_ms: np.ndarray) -> dict[str, Any]:
    if len(latencies_ms) == 0:
        return {"results": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "results": len(latencies_ms),
        "p50_ms": float(np.percentile(latencies_ms, 50)),
        "p99_ms": float(np.percentile(latencies_ms, 99)),
        "max_ms": float(np.max(latencies_ms)),
    }


def run_engine(kind: str, rate: int, config: LiveConfig, folder: Path) -> dict[str, Any]:
    """Run one query on a live TCP table while the sender sends; return latency percentiles."""
    from workbench import Session

    session = Session()
    session.sql(
        "CREATE TABLE ev (ts TIMESTAMP(3), sent BIGINT, k INT, v DOUBLE, kind STRING, seq BIGINT, "
        f"WATERMARK FOR ts AS {WATERMARKS[kind]}) WITH ('connector' = 'tcp', 'port' = '0')"
    )
    query = session.sql(WINDOW_SQL if kind == "window" else PATTERN_SQL)
    emitted: list[tuple[int, np.ndarray]] = []
    column = "window_end" if kind == "window" else "b_sent"

    def record(batch: Any) -> None:
        values = batch.data[column]
        if kind == "window":
            values = values.astype("datetime64[ns]").astype(np.int64)
        emitted.append((time.time_ns(), values.to_numpy(dtype=np.int64, copy=True)))

    run = session.start([query])
    assert query.collector is not None
    query.collector.on_rows = record
    log = folder / f"{kind}-{rate}.npz"
    sender = start_sender(run.address("ev")[1], rate, config.seconds, log, echo=False)
    sender.wait(config.seconds + 60)
    time.sleep(0.5)
    run.stop()
    metrics = run.source_metrics().iloc[0]
    sent = np.load(log)
    warm_ns = int(sent["sent_ns"][0] + config.warmup_seconds * 1e9)
    latencies = _latencies(kind, emitted, sent["sent_ns"], sent["ts_ms"], warm_ns)
    return {
        "query": kind,
        "rate": rate,
        "events": len(sent["sent_ns"]),
        "rows_received": int(metrics["rows"]),
        "backlog_peak": int(metrics["backlog_peak"]),
        "batches": int(metrics["batches"]),
        **percentiles(latencies),
    }


def _latencies(
    kind: str,
    emitted: list[tuple[int, np.ndarray]],
    sent_ns: np.ndarray,
    ts_ms: np.ndarray,
    warm_ns: int,
) -> np.ndarray:
    """Return the latency in ms of every result emitted after the warm-up."""
    result: list[float] = []
    for emit_ns, values in emitted:
        if kind == "window":
            # The first event at or after the window end completes the window.
            ends_ms = values // 1_000_000
            positions = np.searchsorted(ts_ms, ends_ms, side="left")
            valid = positions < len(ts_ms)
            due = sent_ns[positions[valid]]
        else:
            due = values
        due = due[due >= warm_ns]
        result.extend(((emit_ns - due) / 1e6).tolist())
    return np.asarray(result, dtype=np.float64)


# The baseline -----------------------------------------------------------------------------


def run_echo(rate: int, config: LiveConfig, folder: Path) -> dict[str, Any]:
    """Measure the round trip of the same lines through a bare asyncio TCP echo server."""
    ready = threading.Event()
    port_box: list[int] = []
    stop_box: list[Any] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(1 << 16):
            writer.write(chunk)
            await writer.drain()
        writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port_box.append(server.sockets[0].getsockname()[1])
        stopped = asyncio.Event()
        stop_box.append((asyncio.get_running_loop(), stopped))
        ready.set()
        async with server:
            await stopped.wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    ready.wait(10)
    log = folder / f"echo-{rate}.npz"
    sender = start_sender(port_box[0], rate, config.seconds, log, echo=True)
    sender.wait(config.seconds + 60)
    loop, stopped = stop_box[0]
    loop.call_soon_threadsafe(stopped.set)
    thread.join(10)
    data = np.load(log)
    warm = data["sent_ns"] >= data["sent_ns"][0] + config.warmup_seconds * 1e9
    answered = warm & (data["received_ns"] > 0)
    latencies = (data["received_ns"][answered] - data["sent_ns"][answered]) / 1e6
    return {"query": "echo", "rate": rate, "events": len(data["sent_ns"]), **percentiles(latencies)}


# Running and reporting --------------------------------------------------------------------


def run_live_benchmark(config: LiveConfig) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for rate in config.rates:
            echo = run_echo(rate, config, folder)
            runs.append(echo)
            print(
                f"  echo at {rate:,}/s: p50 {echo['p50_ms']:.3f} ms, p99 {echo['p99_ms']:.3f} ms",
                flush=True,
            )
            for kind in ("window", "pattern"):
                measured = run_engine(kind, rate, config, folder)
                measured["p99_over_echo"] = _ratio(measured["p99_ms"], echo["p99_ms"])
                measured["p50_over_echo"] = _ratio(measured["p50_ms"], echo["p50_ms"])
                runs.append(measured)
                print(
                    f"  {kind} at {rate:,}/s: p50 {measured['p50_ms']:.3f} ms, "
                    f"p99 {measured['p99_ms']:.3f} ms ({measured['results']:,} results)",
                    flush=True,
                )
    window_10k = next(
        (run for run in runs if run["query"] == "window" and run["rate"] == 10_000), None
    )
    target = {
        "target": f"filter + tumbling window p99 < {TARGET_P99_MS:g} ms at 10,000 events/s",
        "measured": None if window_10k is None else window_10k["p99_ms"],
        "unit": "ms",
        "met": window_10k is not None and window_10k["p99_ms"] < TARGET_P99_MS,
    }
    return {"config": asdict(config), "runs": runs, "target": target}


def _ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return value / baseline


def print_live_report(report: dict[str, Any]) -> None:
    config = report["config"]
    print(
        f"\nLive TCP latency (ingest to result, {config['seconds']:g} s per run, first "
        f"{config['warmup_seconds']:g} s not counted; ratio = engine ÷ bare asyncio echo)"
    )
    headers = [
        "query",
        "events/s",
        "results",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p50 ratio",
        "p99 ratio",
    ]
    rows = []
    for run in report["runs"]:
        rows.append(
            [
                run["query"],
                f"{run['rate']:,}",
                f"{run['results']:,}",
                _number(run["p50_ms"]),
                _number(run["p99_ms"]),
                _number(run["max_ms"]),
                _number(run.get("p50_over_echo"), "×"),
                _number(run.get("p99_over_echo"), "×"),
            ]
        )
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
    target = report["target"]
    print(
        f"target: {target['target']}: {_number(target['measured'])} ms, {'met' if target['met'] else 'MISSED'}"
    )


def _number(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{unit}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    sender = commands.add_parser("send", help="send events (used by the benchmark itself)")
    sender.add_argument("port", type=int)
    sender.add_argument("rate", type=int)
    sender.add_argument("seconds", type=float)
    sender.add_argument("log", type=Path)
    sender.add_argument("--echo", action="store_true")
    parser.add_argument("--quick", action="store_true", help="one rate, two seconds per run")
    parser.add_argument("--output", type=Path, help="write the results as JSON to this file")
    arguments = parser.parse_args(argv)
    if arguments.command == "send":
        send(arguments.port, arguments.rate, arguments.seconds, arguments.log, arguments.echo)
        return
    config = LiveConfig.quick() if arguments.quick else LiveConfig()
    report = run_live_benchmark(config)
    print_live_report(report)
    if arguments.output is not None:
        arguments.output.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
