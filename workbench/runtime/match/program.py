"""A row pattern compiled to a program for the matcher, and its automaton for display.

The program is a Thompson-style instruction list. ``test`` consumes one row
if the row satisfies a variable's condition; ``split`` continues at its
preferred branch first, then at the other; ``jump``, ``start`` (``^``),
``end`` (``$``) and ``match`` consume nothing. Alternatives and quantifiers
order their branches so that exploring ``split`` preferred-first yields the
matches of a start row in the standard's preferment order.

The *closure* of an instruction is the ordered list of places a thread can
reach from it without consuming a row: ``test`` instructions waiting for a
row, ``end`` anchors waiting for the end of the partition, and ``match``.
Closures do not depend on the rows, so they are computed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from workbench.sql.pattern import (
    Alternation,
    Anchor,
    Concatenation,
    Empty,
    Exclusion,
    PatternNode,
    Permute,
    Quantified,
    Variable,
)

Operation = Literal["test", "split", "jump", "start", "end", "match"]

#: Largest program the matcher accepts; nested counted quantifiers multiply.
MAX_INSTRUCTIONS = 100_000


class PatternTooLargeError(Exception):
    """The pattern unrolls into more instructions than the matcher accepts."""


@dataclass
class Instruction:
    operation: Operation
    #: For ``test``: the index of the variable in ``Program.variables``.
    variable: int = -1
    #: For ``split``: the preferred branch; for ``jump``: the target.
    target: int = -1
    #: For ``split``: the other branch.
    other: int = -1
    #: For ``test``: the row is inside ``{- -}`` and left out of ALL ROWS output.
    excluded: bool = False
    #: For the ``split`` that starts an unbounded loop: the instruction after the loop.
    exit: int = -1


@dataclass(frozen=True)
class Reach:
    """One place a closure reaches: an instruction index and what waits there."""

    kind: Literal["test", "end", "match"]
    pc: int


class Program:
    """The instructions of a pattern and the closures the matcher follows."""

    def __init__(self, instructions: list[Instruction], variables: tuple[str, ...]) -> None:
        self.instructions = instructions
        self.variables = variables
        self._closures: dict[tuple[int, bool, bool], tuple[Reach, ...]] = {}

    def __len__(self) -> int:
        return len(self.instructions)

    def closure(self, pc: int, *, first_row: bool, at_end: bool) -> tuple[Reach, ...]:
        """Return what a thread at ``pc`` reaches without consuming a row, in preferment order.

        ``first_row`` is whether no row of the partition has been consumed yet
        (so ``^`` holds); ``at_end`` whether the partition has no more rows
        (so ``$`` holds). Each instruction is reached at most once, and an
        iteration of an unbounded loop that matched no row ends the loop, as
        in the standard.
        """
        key = (pc, first_row, at_end)
        cached = self._closures.get(key)
        if cached is not None:
            return cached
        found: list[Reach] = []
        visited: set[int] = set()
        stack = [pc]
        while stack:
            current = stack.pop()
            if current in visited:
                continue
            visited.add(current)
            instruction = self.instructions[current]
            operation = instruction.operation
            if operation == "test":
                found.append(Reach("test", current))
            elif operation == "match":
                found.append(Reach("match", current))
            elif operation == "jump":
                target = instruction.target
                loop_exit = self.instructions[target].exit
                if target in visited and loop_exit >= 0:
                    # The loop's body matched no row: this iteration ends the loop.
                    stack.append(loop_exit)
                else:
                    stack.append(target)
            elif operation == "split":
                stack.append(instruction.other)
                stack.append(instruction.target)
            elif operation == "start":
                if first_row:
                    stack.append(current + 1)
            elif at_end:
                stack.append(current + 1)
            else:
                found.append(Reach("end", current))
        result = tuple(found)
        self._closures[key] = result
        return result

    def describe(self) -> list[str]:
        """Return one line per instruction, for debugging and tests."""
        lines = []
        for index, instruction in enumerate(self.instructions):
            if instruction.operation == "test":
                name = self.variables[instruction.variable]
                text = f"test {name}" + (" (excluded)" if instruction.excluded else "")
            elif instruction.operation == "split":
                text = f"split {instruction.target}, {instruction.other}"
            elif instruction.operation == "jump":
                text = f"jump {instruction.target}"
            else:
                text = instruction.operation
            lines.append(f"{index}: {text}")
        return lines


def compile_pattern(pattern: PatternNode, variables: tuple[str, ...]) -> Program:
    """Compile a pattern whose variables are all in ``variables``."""
    builder = _Builder({name: index for index, name in enumerate(variables)})
    builder.emit(pattern, excluded=False)
    builder.add(Instruction("match"))
    return Program(builder.code, variables)


class _Builder:
    def __init__(self, variables: dict[str, int]) -> None:
        self.variables = variables
        self.code: list[Instruction] = []

    def add(self, instruction: Instruction) -> int:
        if len(self.code) >= MAX_INSTRUCTIONS:
            raise PatternTooLargeError(
                f"the pattern needs more than {MAX_INSTRUCTIONS:,} matcher steps"
            )
        self.code.append(instruction)
        return len(self.code) - 1

    @property
    def here(self) -> int:
        return len(self.code)

    def emit(self, node: PatternNode, *, excluded: bool) -> None:
        if isinstance(node, Variable):
            self.add(Instruction("test", variable=self.variables[node.name], excluded=excluded))
        elif isinstance(node, Empty):
            return
        elif isinstance(node, Anchor):
            self.add(Instruction("start" if node.kind == "^" else "end"))
        elif isinstance(node, Concatenation):
            for item in node.items:
                self.emit(item, excluded=excluded)
        elif isinstance(node, Alternation):
            self._alternation(node.options, excluded=excluded)
        elif isinstance(node, Permute):
            self.emit(node.expanded(), excluded=excluded)
        elif isinstance(node, Exclusion):
            self.emit(node.inner, excluded=True)
        elif isinstance(node, Quantified):
            self._quantified(node, excluded=excluded)
        else:
            raise TypeError(f"unknown pattern node {type(node).__name__}")

    def _alternation(self, options: tuple[PatternNode, ...], *, excluded: bool) -> None:
        exits: list[int] = []
        for option in options[:-1]:
            split = self.add(Instruction("split"))
            self.code[split].target = self.here
            self.emit(option, excluded=excluded)
            exits.append(self.add(Instruction("jump")))
            self.code[split].other = self.here
        self.emit(options[-1], excluded=excluded)
        for exit_pc in exits:
            self.code[exit_pc].target = self.here

    def _quantified(self, node: Quantified, *, excluded: bool) -> None:
        for _ in range(node.low):
            self.emit(node.inner, excluded=excluded)
        if node.high is None:
            loop = self.add(Instruction("split"))
            body = self.here
            self.emit(node.inner, excluded=excluded)
            self.add(Instruction("jump", target=loop))
            self._branch(loop, body, self.here, node.greedy)
            self.code[loop].exit = self.here
            return
        splits: list[tuple[int, int]] = []
        for _ in range(node.high - node.low):
            split = self.add(Instruction("split"))
            splits.append((split, self.here))
            self.emit(node.inner, excluded=excluded)
        for split, body in splits:
            self._branch(split, body, self.here, node.greedy)

    def _branch(self, split: int, body: int, after: int, greedy: bool) -> None:
        """Greedy repetition prefers another iteration; reluctant prefers to stop."""
        instruction = self.code[split]
        instruction.target, instruction.other = (body, after) if greedy else (after, body)


# The automaton, for display -------------------------------------------------------------


@dataclass(frozen=True)
class AutomatonState:
    """A state of the pattern's automaton: before any row, or after a row mapped at ``pc``."""

    id: int
    name: str
    variable: str | None
    pc: int
    accepting: bool
    #: Accepting only at the end of the partition (the pattern ends with $).
    accepting_at_end: bool
    excluded: bool


@dataclass(frozen=True)
class AutomatonTransition:
    source: int
    target: int
    variable: str
    #: 1 for the preferred transition out of ``source``, 2 for the next, ...
    preference: int


def automaton(program: Program) -> tuple[list[AutomatonState], list[AutomatonTransition]]:
    """Return the states and transitions of the pattern's automaton.

    State 0 is the start. Each other state stands for having just mapped a
    row at one ``test`` instruction; its transitions are the ``test``
    instructions its closure reaches, in preferment order.
    """
    tests = [
        pc for pc, instruction in enumerate(program.instructions) if instruction.operation == "test"
    ]
    counts: dict[str, int] = {}
    names: dict[int, str] = {}
    for pc in tests:
        variable = program.variables[program.instructions[pc].variable]
        counts[variable] = counts.get(variable, 0) + 1
        names[pc] = variable if counts[variable] == 1 else f"{variable}#{counts[variable]}"
    ids = {pc: index + 1 for index, pc in enumerate(tests)}

    def accepting(pc: int) -> tuple[bool, bool]:
        now = any(
            reach.kind == "match" for reach in program.closure(pc, first_row=False, at_end=False)
        )
        later = any(
            reach.kind == "match" for reach in program.closure(pc, first_row=False, at_end=True)
        )
        return now, later and not now

    start_now, start_end = accepting(0)
    start_now = start_now or any(
        reach.kind == "match" for reach in program.closure(0, first_row=True, at_end=False)
    )
    states = [AutomatonState(0, "start", None, -1, start_now, start_end, False)]
    for pc in tests:
        instruction = program.instructions[pc]
        now, later = accepting(pc + 1)
        states.append(
            AutomatonState(
                ids[pc],
                names[pc],
                program.variables[instruction.variable],
                pc,
                now,
                later,
                instruction.excluded,
            )
        )
    transitions: list[AutomatonTransition] = []
    for state in states:
        source_pc = 0 if state.id == 0 else state.pc + 1
        reached: list[int] = []
        for first_row in (True, False) if state.id == 0 else (False,):
            for reach in program.closure(source_pc, first_row=first_row, at_end=False):
                if reach.kind == "test" and reach.pc not in reached:
                    reached.append(reach.pc)
        for preference, pc in enumerate(reached, start=1):
            variable = program.variables[program.instructions[pc].variable]
            transitions.append(AutomatonTransition(state.id, ids[pc], variable, preference))
    return states, transitions
