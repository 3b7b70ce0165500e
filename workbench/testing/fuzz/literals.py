"""The constants a rule compares its columns with, so generated rows can hit them.

A rule ``WHERE kind = 'login' AND amount > 100`` fires only on rows whose
``kind`` is exactly 'login' and whose ``amount`` is just above 100: random
strings and numbers almost never get there. The fuzzer draws such values
from the literals found here, and event-time gaps from the rule's INTERVAL
literals (window sizes, WITHIN, interval-join bounds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp

from workbench.events.time import parse_duration

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ)
_NS_PER_MS = 1_000_000


@dataclass
class RuleLiterals:
    """String and number literals by the column they are compared with, and interval lengths.

    Column names are lower case. ``loose_strings`` and ``loose_numbers`` are
    literals compared with something other than a plain column (``LOWER(kind)
    = 'x'``, ``COUNT(*) > 3``); the fuzzer offers them to every column of
    their type. ``durations_ms`` are the INTERVAL literals in milliseconds.
    """

    strings: dict[str, set[str]] = field(default_factory=dict)
    numbers: dict[str, set[float]] = field(default_factory=dict)
    loose_strings: set[str] = field(default_factory=set)
    loose_numbers: set[float] = field(default_factory=set)
    durations_ms: set[int] = field(default_factory=set)

    def strings_for(self, column: str) -> list[str]:
        """Return the string literals to try in ``column``, the column's own first."""
        own = sorted(self.strings.get(column.lower(), set()))
        return own + sorted(self.loose_strings - set(own))

    def numbers_for(self, column: str) -> list[float]:
        """Return the number literals to try in ``column``, the column's own first."""
        own = sorted(self.numbers.get(column.lower(), set()))
        return own + sorted(self.loose_numbers - set(own))


def rule_literals(trees: Iterable[exp.Expr]) -> RuleLiterals:
    """Collect the literals of parsed queries (a rule and the views it reads)."""
    found = RuleLiterals()
    for tree in trees:
        for node in tree.walk():
            if isinstance(node, _COMPARISONS):
                _add_pair(found, node.this, node.expression)
                _add_pair(found, node.expression, node.this)
            elif isinstance(node, (exp.Like, exp.ILike)):
                _add_like(found, node.this, node.expression)
            elif isinstance(node, exp.In):
                for item in node.expressions:
                    _add_pair(found, node.this, item)
            elif isinstance(node, exp.Between):
                _add_pair(found, node.this, node.args.get("low"))
                _add_pair(found, node.this, node.args.get("high"))
            elif isinstance(node, exp.Interval):
                duration = _interval_ms(node)
                if duration is not None and duration > 0:
                    found.durations_ms.add(duration)
    return found


def _literal_value(node: exp.Expr | None) -> str | float | None:
    """Return a string or number literal's value (a negated number included), else None."""
    if isinstance(node, exp.Neg):
        inner = _literal_value(node.this)
        return -inner if isinstance(inner, float) else None
    if isinstance(node, exp.Paren):
        return _literal_value(node.this)
    if not isinstance(node, exp.Literal):
        return None
    if node.is_string:
        return str(node.this)
    try:
        return float(node.this)
    except ValueError:
        return None


def _add_pair(found: RuleLiterals, side: exp.Expr | None, other: exp.Expr | None) -> None:
    """Record ``other`` as a literal compared with ``side`` when ``other`` is a literal."""
    value = _literal_value(other)
    if value is None:
        return
    column = side.name.lower() if isinstance(side, exp.Column) else None
    if isinstance(value, str):
        if column is None:
            found.loose_strings.add(value)
        else:
            found.strings.setdefault(column, set()).add(value)
    elif column is None:
        found.loose_numbers.add(value)
    else:
        found.numbers.setdefault(column, set()).add(value)


def _add_like(found: RuleLiterals, side: exp.Expr | None, pattern: exp.Expr | None) -> None:
    """Record a string that matches a LIKE pattern: '%' matches nothing, '_' one 'x'."""
    value = _literal_value(pattern)
    if not isinstance(value, str):
        return
    example = value.replace("%", "").replace("_", "x")
    _add_pair(found, side, exp.Literal.string(example))


def _interval_ms(node: exp.Interval) -> int | None:
    """Return an INTERVAL literal's length in milliseconds, or None for forms it cannot read."""
    amount = node.this
    unit = node.args.get("unit")
    if not isinstance(amount, exp.Literal):
        return None
    text = str(amount.this).strip()
    if unit is not None:
        text = f"{text} {unit.name}"
    try:
        return parse_duration(text) // _NS_PER_MS
    except ValueError:
        return None
