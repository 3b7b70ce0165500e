"""Parsing the options of %%cep cells and the %cep line commands."""

from __future__ import annotations

import pytest

from workbench.notebook.arguments import (
    ArgumentError,
    CellOptions,
    Command,
    parse_cell_line,
    parse_command,
)


def test_cell_without_options() -> None:
    assert parse_cell_line("") == CellOptions()


def test_cell_with_every_option() -> None:
    options = parse_cell_line("windows --save recent --no-execute -o result --view latency")

    assert options == CellOptions(
        name="windows", save="recent", execute=False, output="result", views=("latency",)
    )


def test_cell_long_output_option() -> None:
    assert parse_cell_line("--output rows").output == "rows"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1st", "invalid query name"),
        ("a b", "unrecognized arguments"),
        ("-o 1x", "invalid variable name"),
        ("--save 'my view'", "invalid view name"),
        ("--nope", "unrecognized arguments"),
        ("'unclosed", "cannot read the options"),
    ],
)
def test_cell_invalid_options(line: str, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        parse_cell_line(line)


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("replay", Command("replay")),
        ("replay --max", Command("replay", mode="max")),
        ("replay --step", Command("replay", mode="step")),
        ("replay --speed 60", Command("replay", mode="realtime", speed=60.0)),
        ("replay --speed 0.5", Command("replay", mode="realtime", speed=0.5)),
        ("pause", Command("pause")),
        ("resume", Command("resume")),
        ("step", Command("step", rows=1)),
        ("step 250", Command("step", rows=250)),
        ("restart", Command("restart")),
        ("status", Command("status")),
        ("queries", Command("queries")),
        ("stop windows", Command("stop", name="windows")),
        ("drop query-3", Command("drop", name="query-3")),
        ("explain windows", Command("explain", name="windows")),
        ("automaton episodes", Command("automaton", name="episodes")),
        ("dashboard", Command("dashboard")),
        ("dashboard windows", Command("dashboard", name="windows")),
    ],
)
def test_command_parsed(line: str, command: Command) -> None:
    assert parse_command(line) == command


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("fly", "unknown command 'fly'"),
        ("replay --max --step", "not allowed with argument"),
        ("replay --speed 0", "invalid speed"),
        ("replay --speed fast", "invalid speed"),
        ("replay --speed inf", "invalid speed"),
        ("step 0", "invalid row count"),
        ("step -5", "invalid row count"),
        ("stop", "the following arguments are required: name"),
        ("drop 'a b'", "invalid query name"),
        ("pause now", "unrecognized arguments"),
    ],
)
def test_command_invalid(line: str, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        parse_command(line)
