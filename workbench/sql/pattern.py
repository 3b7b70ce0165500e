"""Row patterns of MATCH_RECOGNIZE: the syntax tree and its parser.

The grammar is SQL:2016's row pattern syntax::

    pattern      := alternation
    alternation  := concatenation ('|' concatenation)*
    concatenation:= term*                      (no term: the empty pattern)
    term         := primary quantifier?
    primary      := variable | '(' alternation ')' | '{-' alternation '-}'
                  | PERMUTE '(' alternation (',' alternation)* ')' | '^' | '$'
    quantifier   := ('*' | '+' | '?' | '{' n '}' | '{' n? ',' m? '}') '?'?

A trailing ``?`` after a quantifier makes it reluctant. Every node keeps the
offsets of its text within the pattern, so that errors can point at it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Largest repetition count a quantifier may name; the automaton unrolls counts.
MAX_REPETITIONS = 1000


class PatternSyntaxError(Exception):
    """A mistake in pattern text, with the offsets of the offending part."""

    def __init__(self, message: str, start: int, end: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint


@dataclass(frozen=True)
class PatternNode:
    """A part of a row pattern, with its text span ``[start, end)`` in the pattern."""

    start: int
    end: int

    def children(self) -> tuple[PatternNode, ...]:
        return ()

    def walk(self) -> Iterator[PatternNode]:
        """Yield this node and every node below it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True)
class Empty(PatternNode):
    """The empty pattern ``()``: matches zero rows."""

    def __str__(self) -> str:
        return "()"


@dataclass(frozen=True)
class Variable(PatternNode):
    """A pattern variable: one row that satisfies the variable's condition."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Anchor(PatternNode):
    """``^`` (start of the partition) or ``$`` (end of the partition)."""

    kind: str

    def __str__(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Concatenation(PatternNode):
    items: tuple[PatternNode, ...]

    def children(self) -> tuple[PatternNode, ...]:
        return self.items

    def __str__(self) -> str:
        return " ".join(_grouped(item, Alternation) for item in self.items)


@dataclass(frozen=True)
class Alternation(PatternNode):
    """Alternatives in preferment order: the first one that leads to a match wins."""

    options: tuple[PatternNode, ...]

    def children(self) -> tuple[PatternNode, ...]:
        return self.options

    def __str__(self) -> str:
        return " | ".join(str(option) for option in self.options)


@dataclass(frozen=True)
class Permute(PatternNode):
    """``PERMUTE(a, b, ...)``: every order of the items, in lexicographic preferment order."""

    items: tuple[PatternNode, ...]

    def children(self) -> tuple[PatternNode, ...]:
        return self.items

    def __str__(self) -> str:
        return "PERMUTE(" + ", ".join(str(item) for item in self.items) + ")"

    def expanded(self) -> Alternation:
        """Return the alternation of every ordering of the items."""
        orders = [
            Concatenation(self.start, self.end, tuple(order))
            for order in itertools.permutations(self.items)
        ]
        return Alternation(self.start, self.end, tuple(orders))


@dataclass(frozen=True)
class Exclusion(PatternNode):
    """``{- ... -}``: rows matched inside are left out of ALL ROWS PER MATCH output."""

    inner: PatternNode

    def children(self) -> tuple[PatternNode, ...]:
        return (self.inner,)

    def __str__(self) -> str:
        return "{- " + str(self.inner) + " -}"


@dataclass(frozen=True)
class Quantified(PatternNode):
    """``inner`` repeated between ``low`` and ``high`` times (``high`` None: no limit)."""

    inner: PatternNode
    low: int
    high: int | None
    greedy: bool = True

    def children(self) -> tuple[PatternNode, ...]:
        return (self.inner,)

    def __str__(self) -> str:
        if (self.low, self.high) == (0, None):
            text = "*"
        elif (self.low, self.high) == (1, None):
            text = "+"
        elif (self.low, self.high) == (0, 1):
            text = "?"
        elif self.low == self.high:
            text = f"{{{self.low}}}"
        else:
            high = "" if self.high is None else str(self.high)
            text = f"{{{self.low},{high}}}"
        inner = _grouped(self.inner, (Alternation, Concatenation, Quantified))
        return inner + text + ("" if self.greedy else "?")


def _grouped(node: PatternNode, kinds: type | tuple[type, ...]) -> str:
    text = str(node)
    return f"({text})" if isinstance(node, kinds) else text


def variables(pattern: PatternNode) -> list[str]:
    """Return the pattern's variable names in order of first appearance."""
    names: dict[str, None] = {}
    for node in pattern.walk():
        if isinstance(node, Variable):
            names.setdefault(node.name, None)
    return list(names)


# Parsing ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<exclude_open>\{-)
  | (?P<exclude_close>-\})
  | (?P<quantity>\{\s*\d*\s*(?:,\s*\d*\s*)?\})
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<symbol>[()|,*+?^$])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise PatternSyntaxError(
                f"unexpected character {text[position]!r} in PATTERN",
                position,
                position + 1,
                hint="a pattern is made of variables, ( ), |, quantifiers (* + ? {n,m}), "
                "PERMUTE( ), {- -}, ^ and $",
            )
        kind = found.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, found.group(), found.start(), found.end()))
        position = found.end()
    return tokens


def parse_pattern(text: str) -> PatternNode:
    """Parse PATTERN text into a tree; raises PatternSyntaxError with offsets into ``text``."""
    parser = _Parser(text, _tokens(text))
    node = parser.alternation()
    if parser.current is not None:
        token = parser.current
        raise PatternSyntaxError(
            f"unexpected {token.text!r} in PATTERN", token.start, token.end, hint=_BALANCE_HINT
        )
    return node


_BALANCE_HINT = "check that every ( has its ) and every {- its -}"


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _at(self, text: str) -> bool:
        token = self.current
        return token is not None and token.text == text

    def _expect(self, text: str, opened: _Token) -> _Token:
        if self._at(text):
            return self._advance()
        token = self.current
        where = (token.start, token.end) if token is not None else (opened.start, opened.end)
        found = f"{token.text!r}" if token is not None else "the end of the pattern"
        raise PatternSyntaxError(
            f"expected {text!r} to close {opened.text!r}, found {found}",
            *where,
            hint=_BALANCE_HINT,
        )

    def _here(self) -> int:
        token = self.current
        return token.start if token is not None else len(self.text)

    def alternation(self) -> PatternNode:
        start = self._here()
        options = [self.concatenation()]
        while self._at("|"):
            self._advance()
            options.append(self.concatenation())
        if len(options) == 1:
            return options[0]
        return Alternation(start, options[-1].end, tuple(options))

    def concatenation(self) -> PatternNode:
        start = self._here()
        items: list[PatternNode] = []
        while self.current is not None and self.current.text not in ("|", ")", ",", "-}"):
            items.append(self.term())
        if not items:
            return Empty(start, start)
        if len(items) == 1:
            return items[0]
        return Concatenation(start, items[-1].end, tuple(items))

    def term(self) -> PatternNode:
        node = self.primary()
        if not self._at_quantifier():
            return node
        if isinstance(node, Anchor):
            token = self.current
            assert token is not None
            raise PatternSyntaxError(
                f"{token.text!r} cannot follow an anchor",
                token.start,
                token.end,
                hint="anchors match a position, not rows, and cannot repeat",
            )
        node = self.quantifier(node)
        if self._at_quantifier():
            token = self.current
            assert token is not None
            raise PatternSyntaxError(
                f"{token.text!r} cannot follow a quantified term",
                token.start,
                token.end,
                hint="put the quantified part in parentheses, as in (A+)*",
            )
        return node

    def _at_quantifier(self) -> bool:
        token = self.current
        return token is not None and (token.text in ("*", "+", "?") or token.kind == "quantity")

    def quantifier(self, inner: PatternNode) -> Quantified:
        token = self._advance()
        if token.text == "*":
            low, high = 0, None
        elif token.text == "+":
            low, high = 1, None
        elif token.text == "?":
            low, high = 0, 1
        else:
            low, high = self._bounds(token)
        end = token.end
        greedy = True
        if self._at("?"):
            greedy = False
            end = self._advance().end
        return Quantified(inner.start, end, inner, low, high, greedy)

    def _bounds(self, token: _Token) -> tuple[int, int | None]:
        body = token.text[1:-1].replace(" ", "")
        high: int | None
        if "," not in body:
            if not body:
                raise PatternSyntaxError("a quantifier {n} needs a number", token.start, token.end)
            low = high = int(body)
        else:
            first, second = body.split(",", 1)
            low = int(first) if first else 0
            high = int(second) if second else None
        if high is not None and high < low:
            raise PatternSyntaxError(
                f"quantifier {token.text} has a maximum below its minimum",
                token.start,
                token.end,
            )
        if low > MAX_REPETITIONS or (high is not None and high > MAX_REPETITIONS):
            raise PatternSyntaxError(
                f"quantifier {token.text} repeats more than {MAX_REPETITIONS} times",
                token.start,
                token.end,
                hint="match a longer run with + and check its length with COUNT in DEFINE",
            )
        return low, high

    def primary(self) -> PatternNode:
        token = self.current
        assert token is not None
        if token.kind == "exclude_open":
            self._advance()
            inner = self.alternation()
            close = self._expect("-}", token)
            return Exclusion(token.start, close.end, inner)
        if token.text == "(":
            self._advance()
            inner = self.alternation()
            close = self._expect(")", token)
            if isinstance(inner, Empty):
                return Empty(token.start, close.end)
            return _respan(inner, token.start, close.end)
        if token.text in ("^", "$"):
            self._advance()
            return Anchor(token.start, token.end, token.text)
        if token.kind == "name" and token.text.upper() == "PERMUTE" and self._next_is("("):
            self._advance()
            opened = self._advance()
            items = [self.alternation()]
            while self._at(","):
                self._advance()
                items.append(self.alternation())
            close = self._expect(")", opened)
            return Permute(token.start, close.end, tuple(items))
        if token.kind == "name":
            self._advance()
            return Variable(token.start, token.end, token.text)
        if token.kind == "quoted":
            self._advance()
            return Variable(token.start, token.end, token.text[1:-1].replace('""', '"'))
        if token.text in ("*", "+", "?") or token.kind == "quantity":
            raise PatternSyntaxError(
                f"quantifier {token.text!r} has nothing to repeat",
                token.start,
                token.end,
                hint="put a variable or a group in parentheses before it",
            )
        raise PatternSyntaxError(f"unexpected {token.text!r} in PATTERN", token.start, token.end)

    def _next_is(self, text: str) -> bool:
        following = self.index + 1
        return following < len(self.tokens) and self.tokens[following].text == text


def _respan(node: PatternNode, start: int, end: int) -> PatternNode:
    """Return ``node`` with the span of the parentheses around it."""
    fields = dict(node.__dict__)
    fields["start"], fields["end"] = start, end
    return type(node)(**fields)
