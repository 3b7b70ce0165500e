"""The compiled form of MATCH_RECOGNIZE expressions and clauses.

An expression in MEASURES or DEFINE is an ordinary :class:`Expr` that reads
*slots*: values that depend on the match (``A.price``, ``PREV(price)``,
``SUM(B.qty)``, ``CLASSIFIER()``, ``MATCH_NUMBER()``). Each slot appears in
the expression as a column reference named ``$slotN``. The runtime fills the
slot columns for a set of evaluation points (a candidate row of a partial
match, or an output row of a match) and then evaluates the expression over
them with the vectorized evaluator.

Inside a navigation or an aggregate, the argument is an expression over the
input's columns plus two special columns: ``CLASSIFIER_COLUMN`` (the variable
a row was matched to) and ``MATCH_NUMBER_COLUMN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from workbench.events.types import DataType
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.pattern import PatternNode

#: Column holding the variable a row was matched to, inside navigation arguments.
CLASSIFIER_COLUMN = "$classifier"
#: Column holding the match number, inside navigation arguments.
MATCH_NUMBER_COLUMN = "$match_number"

RowsPerMatch = Literal["ONE", "ALL_SHOW_EMPTY", "ALL_OMIT_EMPTY", "ALL_WITH_UNMATCHED"]
SkipMode = Literal["PAST_LAST_ROW", "TO_NEXT_ROW", "TO_FIRST", "TO_LAST"]
#: How rows reach the matcher: sorted by event time as the watermark passes, in
#: arrival order (processing time), or all at the end of a bounded input.
Ordering = Literal["event_time", "arrival", "buffered"]


@dataclass(frozen=True)
class Navigation:
    """The value of ``expr`` at one row: the ``logical_offset``-th row from the
    FIRST or LAST row mapped to ``variables``, then ``physical_offset`` rows
    further in the partition (negative for PREV, positive for NEXT).

    ``variables`` is None for the universal row pattern variable (every row of
    the match). ``running`` reads the match up to the current row; otherwise
    (FINAL) the whole match.
    """

    variables: tuple[str, ...] | None
    logical: Literal["FIRST", "LAST"]
    logical_offset: int
    physical_offset: int
    running: bool
    expr: Expr
    type: DataType

    def describe(self) -> str:
        """Return the navigation as SQL text, as it would be written in the query."""
        scope = "|".join(self.variables) if self.variables else None
        if isinstance(self.expr, ColumnRef) and self.expr.name == CLASSIFIER_COLUMN:
            text = f"CLASSIFIER({scope or ''})"
        elif isinstance(self.expr, ColumnRef):
            text = f"{scope}.{self.expr.name}" if scope else self.expr.name
        else:
            text = f"{scope}.({self.expr})" if scope else str(self.expr)
        if self.logical == "FIRST" or self.logical_offset:
            offset = f", {self.logical_offset}" if self.logical_offset else ""
            text = f"{self.logical}({text}{offset})"
        if not self.running:
            text = "FINAL " + text
        if self.physical_offset:
            function = "PREV" if self.physical_offset < 0 else "NEXT"
            steps = abs(self.physical_offset)
            text = f"{function}({text}{f', {steps}' if steps != 1 else ''})"
        return text


@dataclass(frozen=True)
class MatchAggregate:
    """An aggregate over the rows mapped to ``variables`` (None: every row of the match)."""

    function: str
    variables: tuple[str, ...] | None
    args: tuple[Expr, ...]
    running: bool
    type: DataType
    distinct: bool = False
    #: Literal arguments after the column arguments (a separator, a percentile).
    constants: tuple[object, ...] = ()

    def describe(self) -> str:
        scope = "|".join(self.variables) if self.variables else None
        if self.args:
            inner = ", ".join(
                f"{scope}.{arg}" if scope and isinstance(arg, ColumnRef) else str(arg)
                for arg in self.args
            )
        else:
            inner = f"{scope}.*" if scope else "*"
        if self.distinct:
            inner = "DISTINCT " + inner
        return ("" if self.running else "FINAL ") + f"{self.function}({inner})"


@dataclass(frozen=True)
class MatchFunction:
    """A function of the match as a whole: MATCH_NUMBER(), MATCH_ROWTIME(), ..."""

    name: Literal[
        "MATCH_NUMBER", "MATCH_ROWTIME", "MATCH_PROCTIME", "MATCH_TIMED_OUT", "MATCH_TIMELINE"
    ]
    type: DataType

    def describe(self) -> str:
        return f"{self.name}()"


Slot = Navigation | MatchAggregate | MatchFunction


@dataclass(frozen=True)
class MatchExpression:
    """An expression whose ``$slotN`` columns are filled per evaluation point."""

    expr: Expr
    slots: tuple[tuple[str, Slot], ...] = ()

    @property
    def type(self) -> DataType:
        return self.expr.type

    def describe(self) -> str:
        text = str(self.expr)
        # Longer names first, so that $slot1 does not replace the start of $slot10.
        for name, slot in sorted(self.slots, key=lambda item: -len(item[0])):
            text = text.replace(name, slot.describe())
        return text

    def navigations(self) -> list[Navigation]:
        return [slot for _, slot in self.slots if isinstance(slot, Navigation)]


def slot_ref(name: str, slot: Slot) -> ColumnRef:
    return ColumnRef(name=name, type=slot.type)


@dataclass(frozen=True)
class SkipTo:
    """AFTER MATCH SKIP: where the next match may start."""

    mode: SkipMode = "PAST_LAST_ROW"
    #: The primary variables of the target (a subset variable names several).
    variables: tuple[str, ...] = ()
    #: The target as written, for messages.
    target: str = ""

    def describe(self) -> str:
        if self.mode == "PAST_LAST_ROW":
            return "PAST LAST ROW"
        if self.mode == "TO_NEXT_ROW":
            return "TO NEXT ROW"
        return f"TO {'FIRST' if self.mode == 'TO_FIRST' else 'LAST'} {self.target}"


@dataclass(frozen=True)
class MatchSpec:
    """Everything the matcher needs besides the input rows."""

    pattern: PatternNode
    pattern_text: str
    #: Primary variables in order of first appearance in the pattern.
    variables: tuple[str, ...]
    subsets: tuple[tuple[str, tuple[str, ...]], ...]
    #: Condition per primary variable; a variable without one accepts every row.
    define: tuple[tuple[str, MatchExpression], ...]
    skip: SkipTo
    rows_per_match: RowsPerMatch
    within_ns: int | None = None
    #: Emit a row for each partial match that the WITHIN limit ends (an extension).
    emit_timeouts: bool = False
    #: One unit of the event-time column's precision, for timed-out MATCH_ROWTIME().
    precision_ns: int = 1_000_000

    def condition(self, variable: str) -> MatchExpression | None:
        for name, condition in self.define:
            if name == variable:
                return condition
        return None
