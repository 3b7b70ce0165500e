"""Parse the options of a ``%%cep`` cell and the ``%cep`` line commands.

The option names follow jupysql's where the two overlap (``--save``,
``--no-execute``, ``-o/--output``).
"""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from typing import NoReturn

__all__ = ["ArgumentError", "CellOptions", "Command", "parse_cell_line", "parse_command"]

#: Names of queries and views: a letter or underscore, then letters, digits, '_' or '-'.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
#: Python variable names for -o/--output.
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ArgumentError(ValueError):
    """The options of a cell or a line command are invalid; the message names the option."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises ArgumentError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise ArgumentError(message or f"{self.prog}: invalid arguments")


@dataclass(frozen=True)
class CellOptions:
    """Options of a ``%%cep`` cell.

    ``name`` names the last query of the cell, and ``save`` saves it as a
    view. ``execute`` False plans it without running it. ``output`` is the
    Python variable that receives its result. ``views`` lists the view kinds
    to show besides the table. ``adhoc`` runs the cell as a one-off SELECT
    over retained rows (:meth:`workbench.Session.adhoc`).
    """

    name: str | None = None
    save: str | None = None
    execute: bool = True
    output: str | None = None
    views: tuple[str, ...] = ()
    adhoc: bool = False


def _cell_parser() -> _Parser:
    parser = _Parser(prog="%%cep", add_help=False)
    parser.add_argument("name", nargs="?", help="name of the query that the cell defines")
    parser.add_argument("--save", metavar="NAME", help="save the cell's query as view NAME")
    parser.add_argument(
        "--no-execute", action="store_true", help="plan the query without running it"
    )
    parser.add_argument(
        "-o", "--output", metavar="VAR", help="bind the query result to Python variable VAR"
    )
    parser.add_argument(
        "--view",
        action="append",
        default=[],
        metavar="KIND",
        help="also show the view KIND (see %%cep dashboard)",
    )
    parser.add_argument(
        "--adhoc",
        action="store_true",
        help="run one SELECT over the rows that tables with the 'retain' option keep now",
    )
    return parser


def parse_cell_line(line: str) -> CellOptions:
    """Return the options written after ``%%cep``."""
    parsed = _cell_parser().parse_args(_split(line))
    for label, value in (("query name", parsed.name), ("view name", parsed.save)):
        if value is not None and not NAME.fullmatch(value):
            raise ArgumentError(
                f"%%cep: invalid {label} {value!r}: use letters, digits, '_' and '-', "
                "starting with a letter"
            )
    if parsed.output is not None and not VARIABLE.fullmatch(parsed.output):
        raise ArgumentError(f"%%cep: invalid variable name {parsed.output!r} for -o/--output")
    if parsed.adhoc and (parsed.name or parsed.save or parsed.view or parsed.no_execute):
        raise ArgumentError(
            "%%cep: --adhoc takes only -o/--output, because an ad hoc query is not a named query"
        )
    return CellOptions(
        name=parsed.name,
        save=parsed.save,
        execute=not parsed.no_execute,
        output=parsed.output,
        views=tuple(parsed.view),
        adhoc=parsed.adhoc,
    )


@dataclass(frozen=True)
class Command:
    """A ``%cep`` line command: its name and arguments.

    ``mode`` and ``speed`` belong to ``replay`` (None: the session's
    'workbench.replay.speed' setting), ``rows`` to ``step``, and ``name`` to
    the commands that act on one query.
    """

    action: str
    name: str | None = None
    rows: int = 1
    mode: str | None = None
    speed: float | None = None
    fuzz: FuzzRequest | None = None


@dataclass(frozen=True)
class FuzzRequest:
    """The options of ``%cep fuzz NAME``, as Session.fuzz takes them."""

    mode: str | None = None
    holds: str | None = None
    given: str | None = None
    against: str | None = None
    max_examples: int = 300
    max_rows: int = 8
    seed: int | None = None


#: Line commands with their help text, in the order ``%cep help`` lists them.
COMMANDS = {
    "replay": "start or continue the replay: --speed X (X times real time), --max, or --step",
    "pause": "pause a running replay",
    "resume": "continue a paused replay",
    "step": "deliver the next N input rows (default 1)",
    "restart": "replay from the start with empty state",
    "status": "show the replay's state, rows and event time per table, and live backlogs",
    "queries": "list the queries of the session",
    "stop": "stop query NAME; its rows so far stay readable",
    "drop": "stop query NAME and remove it from the session",
    "explain": "show the plan of query NAME",
    "automaton": "draw the automaton of query NAME's MATCH_RECOGNIZE pattern",
    "dashboard": "show every registered view of query NAME",
    "fuzz": "find the smallest stream that fires query NAME; --holds CONDITION finds one that "
    "breaks it, --against OTHER one where the two differ (also --given CONDITION, "
    "--mode, --max-examples N, --max-rows N, --seed N)",
    "help": "show this help",
}
_NAMED = {"stop", "drop", "explain", "automaton"}


def _command_parser() -> _Parser:
    parser = _Parser(prog="%cep", add_help=False)
    commands = parser.add_subparsers(dest="action", parser_class=_Parser)
    for action, text in COMMANDS.items():
        sub = commands.add_parser(action, help=text, add_help=False)
        if action == "replay":
            group = sub.add_mutually_exclusive_group()
            group.add_argument("--speed", type=_speed, metavar="X")
            group.add_argument("--max", action="store_true")
            group.add_argument("--step", action="store_true")
        elif action == "step":
            sub.add_argument("rows", nargs="?", type=_rows, default=1)
        elif action in _NAMED:
            sub.add_argument("name")
        elif action == "dashboard":
            sub.add_argument("name", nargs="?")
        elif action == "fuzz":
            sub.add_argument("name")
            sub.add_argument("--mode", choices=["fire", "property", "compare"])
            sub.add_argument("--holds", metavar="CONDITION")
            sub.add_argument("--given", metavar="CONDITION")
            sub.add_argument("--against", metavar="OTHER")
            sub.add_argument("--max-examples", type=_rows, default=300, metavar="N")
            sub.add_argument("--max-rows", type=_rows, default=8, metavar="N")
            sub.add_argument("--seed", type=int, metavar="N")
    return parser


def parse_command(line: str) -> Command:
    """Return the ``%cep`` line command written in ``line``; an empty line is ``help``."""
    words = _split(line)
    if not words:
        return Command("help")
    if words[0] not in COMMANDS:
        raise ArgumentError(f"%cep: unknown command {words[0]!r}; commands: {', '.join(COMMANDS)}")
    parsed = _command_parser().parse_args(words)
    action = parsed.action
    if action == "replay":
        mode = None
        if parsed.max:
            mode = "max"
        elif parsed.step:
            mode = "step"
        elif parsed.speed is not None:
            mode = "realtime"
        return Command(action, mode=mode, speed=parsed.speed)
    if action == "step":
        return Command(action, rows=parsed.rows)
    name = getattr(parsed, "name", None)
    if name is not None and not NAME.fullmatch(name):
        raise ArgumentError(f"%cep {action}: invalid query name {name!r}")
    if action == "fuzz":
        request = FuzzRequest(
            mode=parsed.mode,
            holds=parsed.holds,
            given=parsed.given,
            against=parsed.against,
            max_examples=parsed.max_examples,
            max_rows=parsed.max_rows,
            seed=parsed.seed,
        )
        return Command(action, name=name, fuzz=request)
    return Command(action, name=name)


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid speed {text!r}: use a number above 0") from None
    if not (speed > 0 and speed != float("inf")):
        raise argparse.ArgumentTypeError(f"invalid speed {text!r}: use a finite number above 0")
    return speed


def _rows(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid row count {text!r}: use a whole number above 0")
    return int(text)


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as error:
        raise ArgumentError(f"cannot read the options {line!r}: {error}") from None
