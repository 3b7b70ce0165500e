"""The matcher's program: closures in preferment order, and the automaton drawn from it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from workbench.runtime.match.automaton import Automaton
from workbench.runtime.match.program import (
    PatternTooLargeError,
    Program,
    compile_pattern,
)
from workbench.sql.pattern import parse_pattern, variables


def program(text: str) -> Program:
    pattern = parse_pattern(text)
    return compile_pattern(pattern, tuple(variables(pattern)))


def reached(
    prog: Program, pc: int = 0, *, first_row: bool = False, at_end: bool = False
) -> list[str]:
    """Return what the closure reaches, as variable names, 'match' and '$'."""
    names = []
    for reach in prog.closure(pc, first_row=first_row, at_end=at_end):
        if reach.kind == "test":
            names.append(prog.variables[prog.instructions[reach.pc].variable])
        else:
            names.append("match" if reach.kind == "match" else "$")
    return names


def test_greedy_star_prefers_another_row() -> None:
    assert reached(program("A*")) == ["A", "match"]


def test_reluctant_star_prefers_to_stop() -> None:
    assert reached(program("A*?")) == ["match", "A"]


def test_alternation_in_written_order() -> None:
    assert reached(program("B | C | A")) == ["B", "C", "A"]


def test_optional_group_then_rest() -> None:
    assert reached(program("(A B)? C")) == ["A", "C"]


def test_start_anchor_only_on_first_row() -> None:
    prog = program("^A | B")

    assert reached(prog, first_row=True) == ["A", "B"]
    assert reached(prog, first_row=False) == ["B"]


def test_end_anchor_waits_for_the_end() -> None:
    prog = program("A $")
    after_a = prog.closure(0, first_row=False, at_end=False)[0].pc + 1

    assert reached(prog, after_a) == ["$"]
    assert reached(prog, after_a, at_end=True) == ["match"]


def test_empty_iteration_does_not_repeat() -> None:
    assert reached(program("(A?)*")) == ["A", "match"]


def test_counted_quantifier_unrolls() -> None:
    prog = program("A{2,3}")
    tests = [i for i in prog.instructions if i.operation == "test"]

    assert len(tests) == 3


def test_excluded_rows_marked() -> None:
    prog = program("A {- B -} C")
    flags = {
        prog.variables[i.variable]: i.excluded for i in prog.instructions if i.operation == "test"
    }

    assert flags == {"A": False, "B": True, "C": False}


def test_nested_counts_too_large() -> None:
    with pytest.raises(PatternTooLargeError, match="more than 100,000 matcher steps"):
        program("(A{1000}){1000}")


def test_automaton_states_and_preferences() -> None:
    drawing = Automaton.of(program("A B+ C"), "A B+ C")
    states = drawing.states.set_index("state")
    transitions = drawing.transitions

    assert list(states.index) == ["start", "A", "B", "B#2", "C"]
    assert bool(states.loc["C", "accepting"]) is True
    assert bool(states.loc["B", "accepting"]) is False
    from_b = transitions[transitions["source"] == "B"].sort_values("preference")
    assert list(from_b["target"]) == ["B#2", "C"]


def test_automaton_accepting_at_end() -> None:
    drawing = Automaton.of(program("A+ $"), "A+ $")
    states = drawing.states.set_index("state")

    assert bool(states.loc["A", "accepting_at_end"]) is True
    assert bool(states.loc["A", "accepting"]) is False


def test_automaton_drawings() -> None:
    drawing = Automaton.of(program("A (B | C)* D"), "A (B | C)* D").with_active({"B"})
    dot = drawing.to_dot()
    svg = drawing.svg()

    assert '"start" -> "A" [label="A (1)"];' in dot
    assert 'fillcolor="#ffd54f"' in dot
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert len(root.findall("{http://www.w3.org/2000/svg}g")) == len(drawing.state_list)
    assert drawing._repr_svg_() == svg
