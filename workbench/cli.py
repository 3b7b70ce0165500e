"""The ``workbench`` command: run or explain the statements of a .sql file."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from workbench.errors import QueryError, WorkbenchError
from workbench.results import QueryResult
from workbench.session import Session
from workbench.sql.parser import parse_script

EXIT_USER_ERROR = 1
EXIT_USAGE = 2


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
        "--max-rows", type=int, default=40, metavar="N", help="rows printed per query (default 40)"
    )
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")

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
    try:
        text = arguments.file.read_text(encoding="utf-8")
    except OSError as error:
        print(
            f"workbench: error: cannot read {arguments.file}: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    try:
        if arguments.command == "run":
            return _run(arguments, text)
        return _explain(arguments, text)
    except WorkbenchError as error:
        _report(arguments.file, error)
        return EXIT_USER_ERROR


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


def _run(arguments: argparse.Namespace, text: str) -> int:
    session = _session(arguments)
    results = session.execute(text, run_queries=True)
    queries = [result for result in results if isinstance(result, QueryResult)]
    status = 0
    for query in queries:
        if query.error is not None:
            print(f"-- {query.name} failed", file=sys.stderr)
            _report(arguments.file, query.error)
            status = EXIT_USER_ERROR
            continue
        if query.sink is not None:
            rows = query.collector.rows if query.collector is not None else 0
            print(f"-- {query.name}: wrote {rows} rows to {query.sink}")
            continue
        frame = query.to_pandas()
        late = len(query.late_rows())
        rejected = len(query.rejected_rows())
        print(f"-- {query.name}: {len(frame)} rows, {late} late, {rejected} rejected")
        print(_table(frame, arguments.max_rows))
        if arguments.output is not None:
            path = arguments.output
            if len(queries) > 1:
                path = path.with_name(f"{path.stem}-{query.name}{path.suffix}")
            write_result(frame, path)
            print(f"-- wrote {path}")
    return status


def _table(frame: pd.DataFrame, max_rows: int) -> str:
    if len(frame) == 0:
        return "(no rows)"
    with pd.option_context(
        "display.max_rows", max_rows, "display.min_rows", min(max_rows, 20), "display.width", 200
    ):
        return frame.to_string(max_rows=max_rows, index=False)


def _explain(arguments: argparse.Namespace, text: str) -> int:
    session = _session(arguments)
    for statement in parse_script(text):
        target = statement.inner if statement.kind == "explain" else statement
        if target is not None and target.kind in ("query", "insert"):
            print(f"-- line {target.line}")
            print(session.explain_statement(target))
        else:
            session.execute_statement(statement)
    return 0


def _report(path: Path, error: WorkbenchError) -> None:
    if isinstance(error, QueryError) and error.position is not None:
        head = f"{path}:{error.position.line}:{error.position.column}: error: {error.message}"
        lines = [head, *("  " + line for line in error.snippet_lines())]
        if error.hint:
            lines.append(f"  hint: {error.hint}")
        print("\n".join(lines), file=sys.stderr)
        return
    print(f"{path}: error: {error}", file=sys.stderr)


def write_result(frame: pd.DataFrame, path: Path) -> None:
    """Write a result to a .csv, .parquet or .jsonl file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        raise WorkbenchError(f"cannot write {path}: use a .csv, .parquet or .jsonl file name")


if __name__ == "__main__":
    sys.exit(main())
