"""``workbench fuzz FILE.sql``: fuzz a rule of a .sql file from the command line.

The file's statements run first (CREATE TABLE, CREATE VIEW, SET); its
SELECT statements are the rules. The command prints the stream found, the
rule and its output. It exits with 0 when the check passed: the rule fired
('fire'), the property held ('property') or the two rules agreed
('compare'). It exits with 1 when the check failed or the file has an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.results import FailedStatement, QueryResult
from workbench.session import Session
from workbench.testing.fuzz.options import FuzzOptions
from workbench.testing.fuzz.search import MODES, fuzz

EXIT_FAILED = 1


def add_fuzz_command(commands: Any) -> None:
    """Add the ``fuzz`` subcommand to an argparse subparsers object."""
    parser = commands.add_parser(
        "fuzz",
        help="find the smallest input stream that fires a rule, breaks a property, or tells two "
        "rules apart",
        description="Fuzz a rule of a .sql file with hypothesis. The file's CREATE TABLE "
        "statements give the input columns and watermarks (their files are not read); its "
        "SELECT statements are the rules. Exit status: 0 when the rule fired (fire), the "
        "property held (property) or the rules agreed (compare), 1 otherwise.",
    )
    parser.add_argument("file", type=Path, help="the .sql file")
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="fire (default), property (default with --holds) or compare (default with "
        "--against, or with two rules in the file)",
    )
    parser.add_argument(
        "--query",
        type=int,
        metavar="N",
        help="the rule to fuzz: the Nth SELECT of the file, from 1 (default: the last; in "
        "compare mode without --against, the last two)",
    )
    parser.add_argument(
        "--holds",
        metavar="CONDITION",
        help="a SQL condition that every output row must satisfy; 'FALSE' means the rule "
        "never fires",
    )
    parser.add_argument(
        "--given", metavar="CONDITION", help="a SQL condition every generated input row satisfies"
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="FILE",
        help="a .sql file whose last SELECT is the other rule",
    )
    parser.add_argument("--max-rows", type=int, default=8, metavar="N", help="rows per table (8)")
    parser.add_argument(
        "--max-examples", type=int, default=300, metavar="N", help="streams to try (300)"
    )
    parser.add_argument(
        "--keys", type=int, default=3, metavar="N", help="made-up values per string column (3)"
    )
    parser.add_argument(
        "--range",
        action="append",
        default=[],
        metavar="COLUMN=LOW:HIGH",
        help="bounds of a numeric column (repeatable)",
    )
    parser.add_argument(
        "--values",
        action="append",
        default=[],
        metavar="COLUMN=A,B,...",
        help="the values a column takes (repeatable)",
    )
    parser.add_argument(
        "--time-span",
        metavar="DURATION",
        help="maximum distance between the first and last event time, such as '10 min'",
    )
    parser.add_argument(
        "--out-of-order",
        metavar="DURATION",
        help="how far behind a row's event time may be (default: under the watermark delay)",
    )
    parser.add_argument("--no-nulls", action="store_true", help="never generate NULL values")
    parser.add_argument("--seed", type=int, help="search at random from this seed")
    parser.add_argument("--csv", type=Path, metavar="PATH", help="write the stream found as CSV")
    parser.add_argument(
        "--values-sql", action="store_true", help="also print the stream found as a VALUES query"
    )


def run_fuzz_command(arguments: argparse.Namespace, text: str, base_dir: Path) -> int:
    """Run ``workbench fuzz``; return the exit status. WorkbenchError propagates to the caller."""
    session = Session(base_dir=base_dir, progress=False)
    rules = _rules(session, text, arguments.file)
    if rules is None:
        return EXIT_FAILED
    options = _options(arguments)
    against: str | QueryResult | None = None
    if arguments.against is not None:
        # The other file usually declares the same tables, so it is read in a
        # session of its own. Its rule then runs over the first file's tables.
        other_session = Session(base_dir=base_dir, progress=False)
        other = _rules(
            other_session, arguments.against.read_text(encoding="utf-8"), arguments.against
        )
        if not other:
            return EXIT_FAILED
        against = other[-1]
    mode = arguments.mode
    if against is None and _compares_last_two(arguments, len(rules)):
        if len(rules) < 2:
            raise WorkbenchError("compare mode needs two SELECT statements or --against FILE")
        rules, against = rules[:-1], rules[-1]
    rule = _pick(rules, arguments.query)
    result = fuzz(
        session,
        rule,
        mode=mode,
        holds=arguments.holds,
        given=arguments.given,
        against=against,
        options=options,
    )
    print(result)
    if result.found and arguments.values_sql:
        for table in result.stream:
            print(f"\n-- {table} as a VALUES query:")
            print(result.values_sql(table))
    if result.found and arguments.csv is not None:
        for index, table in enumerate(result.stream):
            path = arguments.csv
            if index:
                path = path.with_name(f"{path.stem}-{table}{path.suffix}")
            path.write_text(result.to_csv(table), encoding="utf-8")
            print(f"-- wrote {path}")
    return 0 if result.passed else EXIT_FAILED


def _compares_last_two(arguments: argparse.Namespace, count: int) -> bool:
    """Return whether the file's last two rules are compared: asked for, or two and no other mode."""
    if arguments.mode == "compare":
        return True
    implied = arguments.mode is None and arguments.holds is None and arguments.query is None
    return implied and count == 2


def _rules(session: Session, text: str, path: Path) -> list[QueryResult] | None:
    """Run the file's statements; return its SELECTs, or None after printing a failed statement."""
    outcomes = session.execute_script(text)
    failed = [outcome for outcome in outcomes if isinstance(outcome, FailedStatement)]
    for outcome in failed:
        where = f"{path}:{outcome.line}" if outcome.line is not None else str(path)
        print(f"{where}: error: {outcome.error}", file=sys.stderr)
    if failed:
        return None
    rules = [outcome for outcome in outcomes if isinstance(outcome, QueryResult)]
    if not rules:
        raise WorkbenchError(f"{path} has no SELECT statement to fuzz")
    return rules


def _pick(rules: list[QueryResult], number: int | None) -> QueryResult:
    if number is None:
        return rules[-1]
    if not 1 <= number <= len(rules):
        raise WorkbenchError(
            f"invalid --query {number}: the file has {len(rules)} SELECT statements"
        )
    return rules[number - 1]


def _options(arguments: argparse.Namespace) -> FuzzOptions:
    ranges: dict[str, tuple[float, float]] = {}
    for item in arguments.range:
        column, separator, bounds = item.partition("=")
        low, colon, high = bounds.partition(":")
        try:
            if not separator or not colon:
                raise ValueError(item)
            ranges[column.strip()] = (float(low), float(high))
        except ValueError:
            raise WorkbenchError(f"invalid --range {item!r}: use COLUMN=LOW:HIGH") from None
    values: dict[str, list[str]] = {}
    for item in arguments.values:
        column, separator, listed = item.partition("=")
        if not separator or not listed:
            raise WorkbenchError(f"invalid --values {item!r}: use COLUMN=A,B,...")
        values[column.strip()] = [value.strip() for value in listed.split(",")]
    return FuzzOptions(
        max_rows=arguments.max_rows,
        max_examples=arguments.max_examples,
        keys=arguments.keys,
        values=values,
        ranges=ranges,
        time_span=arguments.time_span,
        out_of_order=arguments.out_of_order,
        nulls=not arguments.no_nulls,
        seed=arguments.seed,
    )
