"""The ``workbench`` command: run or explain the statements of a .sql file."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from workbench.errors import QueryError, SqlSyntaxError, WorkbenchError
from workbench.events.time import parse_duration
from workbench.results import FailedStatement, QueryResult, TableResult
from workbench.session import Session
from workbench.sql.parser import parse_statements
from workbench.testing.fuzz.command import add_fuzz_command, run_fuzz_command

EXIT_USER_ERROR = 1
EXIT_USAGE = 2
#: The exit status of a process ended by SIGINT, as shells report it.
EXIT_INTERRUPTED = 130
#: File name endings that --output can write.
OUTPUT_SUFFIXES = (".csv", ".parquet", ".jsonl", ".json", ".ndjson")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Run streaming SQL (Flink SQL dialect) over recorded event files.",
    )
    parser.add_argument("--version", action="version", version="workbench 0.1.0")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run the statements of a .sql file and print each query's result"
    )
    run.add_argument("file", type=Path, help="the .sql file")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting, as SET 'KEY' = 'VALUE' would set it (repeatable)",
    )
    run.add_argument(
        "--with",
        dest="table_options",
        action="append",
        default=[],
        metavar="TABLE.KEY=VALUE",
        help="replace or add the WITH option KEY of the table TABLE that the file creates, such as "
        "packets.path=/data/x.pcap (repeatable); a relative 'path' starts from the current directory",
    )
    run.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="write each query's result to PATH (.csv, .parquet or .jsonl); with several queries, "
        "the query name is added before the extension",
    )
    run.add_argument(
        "--speed",
        metavar="X",
        help="replay pace: 'max' (default, as fast as possible) or a factor of real time (1 = real time)",
    )
    run.add_argument(
        "--base-dir",
        type=Path,
        metavar="DIR",
        help="directory that relative paths in table options start from (default: the file's directory)",
    )
    run.add_argument(
        "--max-rows",
        type=int,
        default=40,
        metavar="N",
        help="rows printed per query (default 40; 0 prints only the row counts)",
    )
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    run.add_argument(
        "--show-rejected",
        action="store_true",
        help="also print each query's rejected rows: source, line or offset, reason and text",
    )
    run.add_argument(
        "--duration",
        metavar="TIME",
        help="how long queries on live tables (tcp, udp, http, kafka, ...) run before their "
        "results are printed, such as '30 s' or '5 min' (default: until their inputs end or Ctrl-C)",
    )

    add_fuzz_command(commands)

    explain = commands.add_parser("explain", help="print the plan of each query of a .sql file")
    explain.add_argument("file", type=Path, help="the .sql file")
    explain.add_argument(
        "--base-dir", type=Path, metavar="DIR", help="directory relative paths start from"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_skip_errors_stored_on_results)
    problem = _check_arguments(arguments)
    if problem is not None:
        print(f"workbench: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        text = arguments.file.read_text(encoding="utf-8")
    except OSError as error:
        print(
            f"workbench: error: cannot read {arguments.file}: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    except UnicodeDecodeError as error:
        print(
            f"workbench: error: cannot read {arguments.file}: it is not UTF-8 text "
            f"(invalid byte at offset {error.start}); save it as UTF-8",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    try:
        if arguments.command == "run":
            return _run(arguments, text)
        if arguments.command == "fuzz":
            return run_fuzz_command(arguments, text, arguments.file.resolve().parent)
        return _explain(arguments, text)
    except WorkbenchError as error:
        _report(arguments.file, error)
        return EXIT_USER_ERROR


def _check_arguments(arguments: argparse.Namespace) -> str | None:
    """Return what is wrong with the options of ``run``, before anything runs, or None."""
    if arguments.command != "run":
        return None
    if arguments.max_rows < 0:
        return f"invalid --max-rows {arguments.max_rows}: use 0 or more"
    if arguments.duration is not None:
        try:
            seconds = parse_duration(arguments.duration) / 1e9
        except ValueError as error:
            return f"invalid --duration {arguments.duration!r}: {error}"
        if seconds <= 0:
            return (
                f"invalid --duration {arguments.duration!r}: use a duration above 0, such as '30 s'"
            )
    for item in arguments.table_options:
        target, separator, _ = item.partition("=")
        table, dot, key = target.partition(".")
        if not separator or not dot or not table.strip() or not key.strip():
            return (
                f"invalid --with {item!r}: use TABLE.KEY=VALUE, such as packets.path=/data/x.pcap"
            )
    output: Path | None = arguments.output
    if output is None:
        return None
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        return f"cannot write {output}: use a .csv, .parquet or .jsonl file name"
    if output.is_dir():
        return f"cannot write {output}: it is a directory; give a file name such as {output / 'result.csv'}"
    return None


def _skip_errors_stored_on_results(record: logging.LogRecord) -> bool:
    """Drop the log records of query errors, which the command prints itself, once."""
    return not getattr(record, "stored_on_result", False)


def _session(arguments: argparse.Namespace) -> Session:
    base_dir = arguments.base_dir or arguments.file.resolve().parent
    settings: dict[str, str] = {}
    for item in getattr(arguments, "set", []):
        key, separator, value = item.partition("=")
        if not separator:
            raise WorkbenchError(f"--set {item!r} needs the form KEY=VALUE")
        settings[key.strip()] = value.strip()
    if getattr(arguments, "speed", None):
        settings["workbench.replay.speed"] = arguments.speed
    progress = False if getattr(arguments, "no_progress", False) else None
    return Session(base_dir=base_dir, settings=settings, progress=progress)


def table_options(items: Sequence[str]) -> dict[str, dict[str, str]]:
    """Return the --with items (TABLE.KEY=VALUE) as options per table.

    A relative 'path' becomes absolute from the current directory, because a
    path typed on the command line means a file there, not one beside the .sql file.
    """
    options: dict[str, dict[str, str]] = {}
    for item in items:
        target, _, value = item.partition("=")
        table, _, key = target.partition(".")
        key = key.strip()
        value = value.strip()
        if key == "path" and value and not Path(value).is_absolute():
            value = str(Path.cwd() / value)
        options.setdefault(table.strip(), {})[key] = value
    return options


def _run(arguments: argparse.Namespace, text: str) -> int:
    session = _session(arguments)
    try:
        outcomes = session.execute_script(
            text, run_queries=True, table_options=table_options(arguments.table_options)
        )
    except KeyboardInterrupt:
        # Ctrl-C before the queries were all planned and started: stop what runs.
        print("-- stopping before every query started", file=sys.stderr, flush=True)
        session.stop(drain=False)
        return EXIT_INTERRUPTED
    _wait_for_live_queries(session, arguments.duration)
    several = sum(isinstance(outcome, QueryResult) for outcome in outcomes) > 1
    status = 0
    for outcome in outcomes:
        if isinstance(outcome, FailedStatement):
            _report(arguments.file, outcome.error, outcome.line)
            status = EXIT_USER_ERROR
        elif isinstance(outcome, TableResult):
            print(f"-- {outcome.title}" if outcome.title else "--")
            print(outcome.text if outcome.text is not None else _table(outcome.frame, None))
        elif isinstance(outcome, QueryResult) and not _print_query(arguments, outcome, several):
            status = EXIT_USER_ERROR
    return status


def _wait_for_live_queries(session: Session, duration: str | None) -> None:
    """Let queries on live tables run until ``duration`` passes, their inputs end, or Ctrl-C.

    The run then stops with its open windows fired (drained), so the printed
    results account for every row received.
    """
    runs = [run for run in session.live_runs if run.running]
    if not runs:
        return
    for run in runs:
        for source in run.sources():
            if source.address is not None:
                host, port = source.address
                print(f"-- {source.name}: listening on {host}:{port}", file=sys.stderr)
    until = f"for {duration}" if duration is not None else "until the inputs end"
    print(f"-- reading live tables {until}; press Ctrl-C to stop", file=sys.stderr, flush=True)
    deadline = None if duration is None else time.monotonic() + parse_duration(duration) / 1e9
    try:
        for run in runs:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            run.wait(remaining)
    except KeyboardInterrupt:
        print("-- stopping", file=sys.stderr, flush=True)
    session.stop(drain=True)


def _print_query(arguments: argparse.Namespace, query: QueryResult, several: bool) -> bool:
    """Print a query's result (and write it with --output); return False if the query failed."""
    if query.error is not None:
        print(f"-- {query.name} failed", file=sys.stderr)
        _report(arguments.file, query.error)
        return False
    if query.sink is not None:
        rows = query.collector.rows if query.collector is not None else 0
        print(f"-- {query.name}: wrote {rows} rows to {query.sink}")
        return True
    frame = query.to_pandas()
    late = len(query.late_rows())
    rejected = len(query.rejected_rows())
    print(f"-- {query.name}: {len(frame)} rows, {late} late, {rejected} rejected")
    if arguments.max_rows > 0:
        print(_table(frame, arguments.max_rows))
    if rejected and getattr(arguments, "show_rejected", False):
        print(f"-- {query.name}: rejected rows")
        print(_table(query.rejected_rows(), max(arguments.max_rows, 1)))
    if arguments.output is not None:
        path = arguments.output
        if several:
            path = path.with_name(f"{path.stem}-{query.name}{path.suffix}")
        try:
            write_result(frame, path)
        except OSError as error:
            print(
                f"workbench: error: cannot write {path}: {error.strerror or error}",
                file=sys.stderr,
            )
            return False
        print(f"-- wrote {path}")
    return True


def _table(frame: pd.DataFrame, max_rows: int | None) -> str:
    """Return a frame as text, at most ``max_rows`` rows (all rows for None)."""
    if len(frame) == 0:
        return "(no rows)"
    if max_rows is None:
        return frame.to_string(index=False)
    with pd.option_context(
        "display.max_rows", max_rows, "display.min_rows", min(max_rows, 20), "display.width", 200
    ):
        return frame.to_string(max_rows=max_rows, index=False)


def _explain(arguments: argparse.Namespace, text: str) -> int:
    session = _session(arguments)
    status = 0
    for item in parse_statements(text):
        if isinstance(item, SqlSyntaxError):
            _report(arguments.file, item)
            status = EXIT_USER_ERROR
            continue
        target = item.inner if item.kind == "explain" else item
        try:
            if target is not None and target.kind in ("query", "insert"):
                plan = session.explain_statement(target)
                print(f"-- line {target.line}")
                print(plan)
            else:
                session.execute_statement(item)
        except WorkbenchError as error:
            _report(arguments.file, error, item.line)
            status = EXIT_USER_ERROR
    return status


def _report(path: Path, error: WorkbenchError, line: int | None = None) -> None:
    """Print an error to stderr as compilers do: file:line:column: error: message."""
    if isinstance(error, QueryError) and error.position is not None:
        head = f"{path}:{error.position.line}:{error.position.column}: error: {error.message}"
        lines = [head, *("  " + text for text in error.snippet_lines())]
        if error.hint:
            lines.append(f"  hint: {error.hint}")
        print("\n".join(lines), file=sys.stderr)
        return
    where = f"{path}:{line}" if line is not None else str(path)
    print(f"{where}: error: {error}", file=sys.stderr)


def write_result(frame: pd.DataFrame, path: Path) -> None:
    """Write a result to a .csv, .parquet or .jsonl file."""
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise WorkbenchError(f"cannot write {path}: use a .csv, .parquet or .jsonl file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, date_format="iso")


if __name__ == "__main__":
    sys.exit(main())
