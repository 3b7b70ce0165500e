"""A brute-force reference for MATCH_RECOGNIZE, written independently of the engine.

It parses row pattern text itself and searches for matches by backtracking
over the pattern tree, so that the streaming matcher can be compared with a
plain reading of the SQL standard's rules, as Trino implements them:

- From each start row, the match is the first mapping of rows to pattern
  variables in preferment order. Alternatives are tried from left to right
  and PERMUTE orders in lexicographic order of their items. Greedy
  quantifiers prefer more iterations, reluctant ones fewer.
- A DEFINE condition sees the candidate row already mapped to the variable
  it defines, and the rows mapped so far. A variable without a condition
  accepts every row. A condition that returns None (SQL NULL) rejects the row.
- ``^`` matches only before the first row of the partition and ``$`` only
  after its last row.
- An iteration of an unbounded quantifier (``*``, ``+``, ``{n,}``) that
  matched no row ends the loop once the minimum count is reached, because
  repeating it could never progress. The loop ends at that iteration's place
  in preferment order: the empty iteration is kept, not discarded in favour
  of alternatives that consume rows. Bounded quantifiers may repeat empty
  iterations up to their maximum, as in Trino, which unrolls them.
- Rows matched inside ``{- -}`` belong to the match but are left out of
  ALL ROWS PER MATCH output.
- After an empty match the next attempt starts at the next row. After any
  other match, AFTER MATCH SKIP sets the next start row, and skipping to a
  variable fails when no row is mapped to it or when its row is the first
  row of the match.

The search remembers the states from which it found no match, so patterns
with nested quantifiers stay fast on short partitions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Any, Literal, NamedTuple

__all__ = [
    "CANNOT_SKIP_TO_FIRST_ROW",
    "SKIP_VARIABLE_NOT_PRESENT",
    "Alternation",
    "Anchor",
    "Concatenation",
    "Condition",
    "Empty",
    "Exclusion",
    "HistoryKey",
    "Label",
    "Match",
    "MatchView",
    "OutputRow",
    "Pattern",
    "PatternSyntaxError",
    "Permute",
    "Quantified",
    "Recognition",
    "RowsPerMatch",
    "SearchLimitError",
    "SkipError",
    "SkipTo",
    "Variable",
    "can_match_empty",
    "children",
    "output_rows",
    "parse_pattern",
    "pattern_text",
    "pattern_variables",
    "recognize",
]

SKIP_VARIABLE_NOT_PRESENT = "AFTER MATCH SKIP failed: pattern variable is not present in match"
CANNOT_SKIP_TO_FIRST_ROW = "AFTER MATCH SKIP failed: cannot skip to first row of match"

RowsPerMatch = Literal[
    "ONE ROW PER MATCH",
    "ALL ROWS PER MATCH SHOW EMPTY MATCHES",
    "ALL ROWS PER MATCH OMIT EMPTY MATCHES",
    "ALL ROWS PER MATCH WITH UNMATCHED ROWS",
]


# Pattern syntax tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """A primary pattern variable: one row that satisfies the variable's condition."""

    name: str


@dataclass(frozen=True)
class Empty:
    """The empty pattern ``()``: matches zero rows."""


@dataclass(frozen=True)
class Anchor:
    """``^`` (start of the partition) or ``$`` (end of the partition)."""

    kind: Literal["^", "$"]


@dataclass(frozen=True)
class Concatenation:
    items: tuple[Pattern, ...]


@dataclass(frozen=True)
class Alternation:
    """Alternatives in preferment order, left to right."""

    options: tuple[Pattern, ...]


@dataclass(frozen=True)
class Permute:
    """``PERMUTE(a, b, ...)``: every order of the items, in lexicographic preferment order."""

    items: tuple[Pattern, ...]


@dataclass(frozen=True)
class Exclusion:
    """``{- ... -}``: the rows matched inside are not output by ALL ROWS PER MATCH."""

    inner: Pattern


@dataclass(frozen=True)
class Quantified:
    """``inner`` repeated from ``low`` to ``high`` times (``high`` None: no maximum)."""

    inner: Pattern
    low: int
    high: int | None
    greedy: bool = True


Pattern = Variable | Empty | Anchor | Concatenation | Alternation | Permute | Exclusion | Quantified


def pattern_variables(pattern: Pattern) -> list[str]:
    """Return the variable names of ``pattern`` in order of first appearance."""
    names: list[str] = []

    def visit(node: Pattern) -> None:
        if isinstance(node, Variable):
            if node.name not in names:
                names.append(node.name)
        else:
            for child in children(node):
                visit(child)

    visit(pattern)
    return names


def can_match_empty(pattern: Pattern) -> bool:
    """Return whether ``pattern`` can match zero rows (anchors match zero rows)."""
    if isinstance(pattern, Variable):
        return False
    if isinstance(pattern, Empty | Anchor):
        return True
    if isinstance(pattern, Concatenation | Permute):
        return all(can_match_empty(item) for item in pattern.items)
    if isinstance(pattern, Alternation):
        return any(can_match_empty(option) for option in pattern.options)
    if isinstance(pattern, Exclusion):
        return can_match_empty(pattern.inner)
    return pattern.low == 0 or can_match_empty(pattern.inner)


def children(node: Pattern) -> tuple[Pattern, ...]:
    """Return the direct parts of ``node``, in pattern order."""
    if isinstance(node, Concatenation | Permute):
        return node.items
    if isinstance(node, Alternation):
        return node.options
    if isinstance(node, Exclusion | Quantified):
        return (node.inner,)
    return ()


# Rendering ----------------------------------------------------------------------------


def pattern_text(pattern: Pattern) -> str:
    """Render ``pattern`` as PATTERN text that :func:`parse_pattern` reads back."""
    if isinstance(pattern, Variable):
        return pattern.name
    if isinstance(pattern, Empty):
        return "()"
    if isinstance(pattern, Anchor):
        return pattern.kind
    if isinstance(pattern, Concatenation):
        return " ".join(_parenthesized(item, Alternation) for item in pattern.items)
    if isinstance(pattern, Alternation):
        return " | ".join(_parenthesized(option, Alternation) for option in pattern.options)
    if isinstance(pattern, Permute):
        return "PERMUTE(" + ", ".join(pattern_text(item) for item in pattern.items) + ")"
    if isinstance(pattern, Exclusion):
        return "{- " + pattern_text(pattern.inner) + " -}"
    inner = _parenthesized(pattern.inner, Concatenation | Alternation | Quantified)
    return inner + _quantifier_text(pattern.low, pattern.high) + ("" if pattern.greedy else "?")


def _parenthesized(node: Pattern, kinds: type | UnionType) -> str:
    text = pattern_text(node)
    return f"({text})" if isinstance(node, kinds) else text


def _quantifier_text(low: int, high: int | None) -> str:
    if (low, high) == (0, None):
        return "*"
    if (low, high) == (1, None):
        return "+"
    if (low, high) == (0, 1):
        return "?"
    if low == high:
        return f"{{{low}}}"
    if high is None:
        return f"{{{low},}}"
    if low == 0:
        return f"{{,{high}}}"
    return f"{{{low},{high}}}"


# Parsing ------------------------------------------------------------------------------


class PatternSyntaxError(ValueError):
    """PATTERN text that the reference cannot read; the message names the offset."""


class _Token(NamedTuple):
    text: str
    offset: int


_SYMBOLS = "()|,*+?^$"


def _tokenize(text: str) -> list[_Token]:
    """Split PATTERN text into names, symbols, ``{-``, ``-}`` and whole ``{n,m}`` quantifiers."""
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif text.startswith("{-", position) or text.startswith("-}", position):
            tokens.append(_Token(text[position : position + 2], position))
            position += 2
        elif char == "{":
            close = text.find("}", position)
            if close < 0:
                raise PatternSyntaxError(f"unclosed '{{' at offset {position} in {text!r}")
            tokens.append(_Token("".join(text[position : close + 1].split()), position))
            position = close + 1
        elif char.isalpha() or char == "_":
            end = position
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            tokens.append(_Token(text[position:end], position))
            position = end
        elif char in _SYMBOLS:
            tokens.append(_Token(char, position))
            position += 1
        else:
            raise PatternSyntaxError(f"unexpected {char!r} at offset {position} in {text!r}")
    return tokens


def parse_pattern(text: str) -> Pattern:
    """Parse PATTERN text (the part between the parentheses of ``PATTERN ( )``).

    Grammar::

        alternation   := concatenation ('|' concatenation)*
        concatenation := term*            (no term: the empty pattern)
        term          := primary quantifier?
        primary       := NAME | '(' alternation ')' | '{-' alternation '-}'
                       | PERMUTE '(' alternation (',' alternation)* ')' | '^' | '$'
        quantifier    := ('*' | '+' | '?' | '{n}' | '{n,}' | '{,m}' | '{n,m}') '?'?

    Raises PatternSyntaxError on text outside this grammar.
    """
    parser = _Parser(text, _tokenize(text))
    pattern = parser.alternation()
    if parser.peek() is not None:
        token = parser.tokens[parser.index]
        raise PatternSyntaxError(f"unexpected {token.text!r} at offset {token.offset} in {text!r}")
    return pattern


def _is_quantifier(token: str | None) -> bool:
    if token is None:
        return False
    return token in ("*", "+", "?") or (token.startswith("{") and token != "{-")


@dataclass
class _Parser:
    text: str
    tokens: list[_Token]
    index: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.index].text if self.index < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.index]
        self.index += 1
        return token.text

    def expect(self, text: str) -> None:
        found = self.peek()
        if found != text:
            where = self.tokens[self.index].offset if found is not None else len(self.text)
            raise PatternSyntaxError(
                f"expected {text!r} at offset {where}, found {found!r} in {self.text!r}"
            )
        self.index += 1

    def alternation(self) -> Pattern:
        options = [self.concatenation()]
        while self.peek() == "|":
            self.take()
            options.append(self.concatenation())
        return options[0] if len(options) == 1 else Alternation(tuple(options))

    def concatenation(self) -> Pattern:
        items: list[Pattern] = []
        while self.peek() not in (None, "|", ")", ",", "-}"):
            items.append(self.term())
        if not items:
            return Empty()
        return items[0] if len(items) == 1 else Concatenation(tuple(items))

    def term(self) -> Pattern:
        primary = self.primary()
        token = self.peek()
        if not _is_quantifier(token):
            return primary
        low, high = self.bounds(self.take())
        greedy = True
        if self.peek() == "?":
            self.take()
            greedy = False
        following = self.peek()
        if _is_quantifier(following):
            raise PatternSyntaxError(
                f"a quantified term cannot be quantified again ({following!r}) in {self.text!r}"
            )
        return Quantified(primary, low, high, greedy)

    def bounds(self, token: str) -> tuple[int, int | None]:
        if token == "*":
            return 0, None
        if token == "+":
            return 1, None
        if token == "?":
            return 0, 1
        body = token[1:-1]
        try:
            if "," not in body:
                return int(body), int(body)
            first, second = body.split(",", 1)
            low = int(first) if first else 0
            high = int(second) if second else None
        except ValueError:
            raise PatternSyntaxError(f"invalid quantifier {token!r} in {self.text!r}") from None
        if high is not None and high < low:
            raise PatternSyntaxError(f"quantifier {token!r} has its maximum below its minimum")
        return low, high

    def primary(self) -> Pattern:
        token = self.take()
        if token == "(":
            inner = self.alternation()
            self.expect(")")
            return inner
        if token == "{-":
            inner = self.alternation()
            self.expect("-}")
            return Exclusion(inner)
        if token in ("^", "$"):
            return Anchor("^" if token == "^" else "$")
        if token.upper() == "PERMUTE" and self.peek() == "(":
            self.take()
            items = [self.alternation()]
            while self.peek() == ",":
                self.take()
                items.append(self.alternation())
            self.expect(")")
            return Permute(tuple(items))
        if token[0].isalpha() or token[0] == "_":
            return Variable(token)
        raise PatternSyntaxError(f"unexpected {token!r} in {self.text!r}")


# Matching -----------------------------------------------------------------------------


class Label(NamedTuple):
    """One row of a match: its index in the partition, its variable and whether it is excluded."""

    row: int
    variable: str
    excluded: bool = False


@dataclass(frozen=True)
class MatchView:
    """The input of a DEFINE condition: the partition, the candidate row and the match so far.

    ``labels`` lists the rows of the match in order and ends with the candidate
    row, already mapped to the variable under test, as the standard's RUNNING
    semantics in DEFINE require. Variables passed to the navigation and
    aggregate helpers may be primary variables or SUBSET names; None stands
    for every row of the match.
    """

    rows: Sequence[Mapping[str, Any]]
    start: int
    labels: tuple[Label, ...]
    subsets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def index(self) -> int:
        """The candidate row's index in the partition."""
        return self.labels[-1].row

    @property
    def variable(self) -> str:
        """The variable whose condition is under test."""
        return self.labels[-1].variable

    def value(self, column: str) -> Any:
        """Return ``column`` of the candidate row."""
        return self.rows[self.index][column]

    def prev(self, column: str, offset: int = 1) -> Any:
        """``PREV(column, offset)``: the row ``offset`` rows back in the partition, or None."""
        return self._physical(self.index - offset, column)

    def next(self, column: str, offset: int = 1) -> Any:
        """``NEXT(column, offset)``: the row ``offset`` rows ahead in the partition, or None."""
        return self._physical(self.index + offset, column)

    def _physical(self, row: int, column: str) -> Any:
        return self.rows[row][column] if 0 <= row < len(self.rows) else None

    def rows_of(self, variable: str | None = None) -> list[int]:
        """Return the rows mapped to ``variable`` so far, the candidate row included."""
        if variable is None:
            return [label.row for label in self.labels]
        members = self.subsets.get(variable, (variable,))
        return [label.row for label in self.labels if label.variable in members]

    def first(self, column: str, variable: str | None = None, offset: int = 0) -> Any:
        """``FIRST(variable.column, offset)``, or None when there is no such row."""
        rows = self.rows_of(variable)
        return self.rows[rows[offset]][column] if offset < len(rows) else None

    def last(self, column: str, variable: str | None = None, offset: int = 0) -> Any:
        """``LAST(variable.column, offset)``, or None when there is no such row."""
        rows = self.rows_of(variable)
        return self.rows[rows[-1 - offset]][column] if offset < len(rows) else None

    def count(self, variable: str | None = None) -> int:
        """``COUNT(variable.*)``; ``COUNT(*)`` when ``variable`` is None."""
        return len(self.rows_of(variable))

    def sum(self, column: str, variable: str | None = None) -> Any:
        """``SUM(variable.column)``: None when no mapped row has a value."""
        values = [self.rows[row][column] for row in self.rows_of(variable)]
        present = [value for value in values if value is not None]
        return sum(present) if present else None

    def classifier(self, offset: int = 0) -> str | None:
        """Return the variable of the row ``offset`` rows back in the match, or None."""
        return self.labels[-1 - offset].variable if offset < len(self.labels) else None


#: A DEFINE condition: a true result accepts the candidate row; False or None rejects it.
Condition = Callable[[MatchView], bool | None]
#: A summary of the match so far that determines every later condition result.
HistoryKey = Callable[[MatchView], Hashable]


@dataclass(frozen=True)
class SkipTo:
    """AFTER MATCH SKIP: ``mode`` and, for TO FIRST and TO LAST, the target variable."""

    mode: Literal["PAST LAST ROW", "TO NEXT ROW", "TO FIRST", "TO LAST"] = "PAST LAST ROW"
    variable: str | None = None

    def sql(self) -> str:
        """Return the clause as SQL text, such as ``AFTER MATCH SKIP TO FIRST A``."""
        if self.mode in ("PAST LAST ROW", "TO NEXT ROW"):
            return f"AFTER MATCH SKIP {self.mode}"
        return f"AFTER MATCH SKIP {self.mode} {self.variable}"


class SkipError(RuntimeError):
    """AFTER MATCH SKIP named a row that matching cannot continue from; the message is the standard's."""


class SearchLimitError(RuntimeError):
    """The search took more steps than allowed; the case is too large for the reference."""


@dataclass(frozen=True)
class Match:
    """A match: its MATCH_NUMBER(), its start row and its rows with their variables.

    An empty match has no labels; ``start`` is the row at which it was found.
    """

    number: int
    start: int
    labels: tuple[Label, ...]

    @property
    def is_empty(self) -> bool:
        return not self.labels

    @property
    def end(self) -> int:
        """The last row of the match; ``start - 1`` for an empty match."""
        return self.labels[-1].row if self.labels else self.start - 1

    def rows_of(self, *variables: str) -> list[int]:
        """Return the rows mapped to any of ``variables``; every row of the match when none is given."""
        return [label.row for label in self.labels if not variables or label.variable in variables]


@dataclass(frozen=True)
class Recognition:
    """The outcome of matching one partition.

    ``unmatched`` lists the rows at which an attempt found no match and that
    no earlier match contains: the extra rows of WITH UNMATCHED ROWS.
    """

    matches: tuple[Match, ...]
    unmatched: tuple[int, ...]
    row_count: int


@dataclass(frozen=True)
class OutputRow:
    """One output row: the partition row it copies and its match measures.

    ``running_count`` is ``COUNT(*)`` with RUNNING semantics (for ONE ROW PER
    MATCH, the whole match's count). Unmatched rows have None measures, and
    the row of an empty match has a count of 0 and no classifier.
    """

    row: int
    match_number: int | None
    classifier: str | None
    running_count: int | None


class _Visit(NamedTuple):
    """A pending part of the pattern: match node ``node``."""

    node: int
    excluded: bool


class _Loop(NamedTuple):
    """A pending quantifier decision after ``iterations`` iterations; the last one began at ``entry``."""

    node: int
    excluded: bool
    iterations: int
    entry: int


_Frame = _Visit | _Loop
_Stack = tuple[_Frame, ...]


class _Found(NamedTuple):
    end: int
    labels: tuple[Label, ...]


class _Search:
    """Backtracking search for the preferred match from one start row.

    The state is a stack of pending frames, the next row and the labels so far.
    Choice points (alternation, PERMUTE, quantifier decisions) try their options
    in preferment order and record the states that led to no match. A
    recorded state contains ``history_key`` of the labels in place of the
    labels themselves, so states whose labels lead to the same condition
    results are merged.
    """

    def __init__(
        self,
        pattern: Pattern,
        rows: Sequence[Mapping[str, Any]],
        *,
        define: Mapping[str, Condition],
        subsets: Mapping[str, tuple[str, ...]],
        history_key: HistoryKey | None,
        max_steps: int,
    ) -> None:
        self.nodes: list[Pattern] = []
        self.children: list[tuple[int, ...]] = []
        self.root = self._number(pattern)
        self.rows = rows
        self.define = define
        self.subsets = subsets
        self.history_key = history_key
        self.max_steps = max_steps
        self.steps = 0
        self.start = 0
        self.failed: set[tuple[_Stack, int, Hashable]] = set()

    def _number(self, node: Pattern) -> int:
        index = len(self.nodes)
        self.nodes.append(node)
        self.children.append(())
        self.children[index] = tuple(self._number(child) for child in children(node))
        return index

    def first_match(self, start: int) -> _Found | None:
        """Return the preferred match starting at row ``start``, or None."""
        self.start = start
        self.failed.clear()
        return self._solve((_Visit(self.root, False),), start, ())

    def _accepts(self, variable: str, row: int, labels: tuple[Label, ...]) -> bool:
        condition = self.define.get(variable)
        if condition is None:
            return True
        view = MatchView(self.rows, self.start, (*labels, Label(row, variable)), self.subsets)
        return bool(condition(view))

    def _solve(self, stack: _Stack, position: int, labels: tuple[Label, ...]) -> _Found | None:
        while True:
            self.steps += 1
            if self.steps > self.max_steps:
                raise SearchLimitError(f"more than {self.max_steps} search steps")
            if not stack:
                return _Found(position, labels)
            frame, rest = stack[0], stack[1:]
            options: list[_Stack]
            if isinstance(frame, _Loop):
                options = self._loop_options(frame, rest, position)
            else:
                node = self.nodes[frame.node]
                children = self.children[frame.node]
                if isinstance(node, Variable):
                    if position >= len(self.rows) or not self._accepts(node.name, position, labels):
                        return None
                    labels = (*labels, Label(position, node.name, frame.excluded))
                    position += 1
                    stack = rest
                    continue
                if isinstance(node, Anchor):
                    at_edge = position == 0 if node.kind == "^" else position == len(self.rows)
                    if not at_edge:
                        return None
                    stack = rest
                    continue
                if isinstance(node, Empty):
                    stack = rest
                    continue
                if isinstance(node, Concatenation):
                    stack = tuple(_Visit(child, frame.excluded) for child in children) + rest
                    continue
                if isinstance(node, Exclusion):
                    stack = (_Visit(children[0], True), *rest)
                    continue
                if isinstance(node, Quantified):
                    stack = (_Loop(frame.node, frame.excluded, 0, -1), *rest)
                    continue
                if isinstance(node, Alternation):
                    options = [(_Visit(child, frame.excluded), *rest) for child in children]
                else:
                    options = [
                        tuple(_Visit(children[i], frame.excluded) for i in order) + rest
                        for order in itertools.permutations(range(len(children)))
                    ]
            if not options:
                return None
            if len(options) == 1:
                stack = options[0]
                continue
            return self._choose(stack, options, position, labels)

    def _choose(
        self,
        stack: _Stack,
        options: list[_Stack],
        position: int,
        labels: tuple[Label, ...],
    ) -> _Found | None:
        history: Hashable = labels
        if self.history_key is not None:
            history = self.history_key(MatchView(self.rows, self.start, labels, self.subsets))
        key = (stack, position, history)
        if key in self.failed:
            return None
        for option in options:
            found = self._solve(option, position, labels)
            if found is not None:
                return found
        self.failed.add(key)
        return None

    def _loop_options(self, frame: _Loop, rest: _Stack, position: int) -> list[_Stack]:
        """Return the continuations of a quantifier decision in preferment order."""
        node = self.nodes[frame.node]
        assert isinstance(node, Quantified)
        floor = max(node.low, 1)
        if node.high is None and frame.entry == position and frame.iterations >= floor:
            # The iteration that just ended matched no row. Another one would
            # start from the same state again, so the loop can only end here.
            return [rest]
        may_end = frame.iterations >= node.low
        may_repeat = node.high is None or frame.iterations < node.high
        # Past its minimum, an unbounded loop's count no longer matters, so it is
        # capped there. The recorded failed states then cover later iterations.
        iterations = frame.iterations + 1
        if node.high is None:
            iterations = min(iterations, floor)
        repeat = (
            _Visit(self.children[frame.node][0], frame.excluded),
            _Loop(frame.node, frame.excluded, iterations, position),
            *rest,
        )
        options: list[_Stack] = []
        if may_repeat and node.greedy:
            options.append(repeat)
        if may_end:
            options.append(rest)
        if may_repeat and not node.greedy:
            options.append(repeat)
        return options


def recognize(
    pattern: str | Pattern,
    rows: Sequence[Mapping[str, Any]],
    define: Mapping[str, Condition] | None = None,
    *,
    subsets: Mapping[str, Sequence[str]] | None = None,
    skip: SkipTo = SkipTo(),
    history_key: HistoryKey | None = None,
    max_steps: int = 1_000_000,
) -> Recognition:
    """Find the matches of ``pattern`` in the rows of one partition, in order.

    ``define`` maps variables to conditions (a missing variable accepts every
    row) and ``subsets`` maps SUBSET names to their primary variables.
    Matching does not depend on the rows-per-match mode, so
    :func:`output_rows` applies it afterwards.

    ``history_key`` only speeds the search up. It receives a view whose
    labels are the match so far, without a candidate row. It must return a
    value that determines every later condition result, such as the counts
    and sums that the conditions read. When no condition reads the match, a
    constant will do (PREV and NEXT read the partition, not the match).
    Without it, the search compares the labels themselves.

    Raises SkipError with the standard's message when AFTER MATCH SKIP fails,
    and SearchLimitError when the search needs more than ``max_steps`` steps.
    """
    tree = parse_pattern(pattern) if isinstance(pattern, str) else pattern
    union = {name: tuple(members) for name, members in (subsets or {}).items()}
    search = _Search(
        tree,
        rows,
        define=define or {},
        subsets=union,
        history_key=history_key,
        max_steps=max_steps,
    )
    if skip.mode in ("TO FIRST", "TO LAST"):
        if skip.variable is None:
            raise ValueError(f"AFTER MATCH SKIP {skip.mode} needs a variable")
        targets = union.get(skip.variable, (skip.variable,))
    else:
        targets = ()

    matches: list[Match] = []
    unmatched: list[int] = []
    position = 0
    last_matched = -1
    number = 1
    while position < len(rows):
        found = search.first_match(position)
        if found is None:
            if position > last_matched:
                unmatched.append(position)
            position += 1
            continue
        match = Match(number, position, found.labels)
        matches.append(match)
        number += 1
        if match.is_empty:
            position += 1
            continue
        last_matched = max(last_matched, match.end)
        position = _skip_target(match, skip, targets)
    return Recognition(tuple(matches), tuple(unmatched), len(rows))


def _skip_target(match: Match, skip: SkipTo, targets: tuple[str, ...]) -> int:
    """Return the row where matching resumes after the non-empty ``match``."""
    if skip.mode == "PAST LAST ROW":
        return match.end + 1
    if skip.mode == "TO NEXT ROW":
        return match.start + 1
    rows = match.rows_of(*targets)
    if not rows:
        raise SkipError(SKIP_VARIABLE_NOT_PRESENT)
    target = rows[0] if skip.mode == "TO FIRST" else rows[-1]
    if target == match.start:
        raise SkipError(CANNOT_SKIP_TO_FIRST_ROW)
    return target


def output_rows(recognition: Recognition, rows_per_match: RowsPerMatch) -> list[OutputRow]:
    """Return the output rows of one partition in output order.

    ONE ROW PER MATCH gives one row per match (empty matches included) at the
    match's start row, with the last row's classifier and the match's count.
    The ALL ROWS PER MATCH modes give every row of each match except the
    excluded ones, one row for each empty match unless OMIT EMPTY MATCHES, and
    WITH UNMATCHED ROWS also gives each row of ``recognition.unmatched``.
    """
    if rows_per_match == "ONE ROW PER MATCH":
        return [
            OutputRow(
                match.start,
                match.number,
                match.labels[-1].variable if match.labels else None,
                len(match.labels),
            )
            for match in recognition.matches
        ]
    show_empty = rows_per_match != "ALL ROWS PER MATCH OMIT EMPTY MATCHES"
    events: list[tuple[int, Match | None]] = [(match.start, match) for match in recognition.matches]
    if rows_per_match == "ALL ROWS PER MATCH WITH UNMATCHED ROWS":
        events.extend((row, None) for row in recognition.unmatched)
    events.sort(key=lambda event: event[0])
    output: list[OutputRow] = []
    for start, match in events:
        if match is None:
            output.append(OutputRow(start, None, None, None))
        elif match.is_empty:
            if show_empty:
                output.append(OutputRow(start, match.number, None, 0))
        else:
            for count, label in enumerate(match.labels, start=1):
                if not label.excluded:
                    output.append(OutputRow(label.row, match.number, label.variable, count))
    return output
