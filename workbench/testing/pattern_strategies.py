"""hypothesis strategies for MATCH_RECOGNIZE: patterns, DEFINE conditions, queries and rows.

Patterns are trees of the reference's node classes, drawn from the whole row
pattern syntax: concatenation, alternation, grouping, every quantifier form
(greedy and reluctant), PERMUTE, the anchors ``^`` and ``$``, exclusion
``{- -}`` and the empty pattern ``()``. A DEFINE condition is drawn from a
small family that has both a SQL text and a Python predicate with SQL's
three-valued logic, for :mod:`workbench.testing.match_reference`. Rows have a
``seq`` column (the order), an integer ``v`` and a partition ``key``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from workbench.testing.match_reference import (
    Alternation,
    Anchor,
    Concatenation,
    Condition,
    Empty,
    Exclusion,
    HistoryKey,
    MatchView,
    Pattern,
    Permute,
    Quantified,
    RowsPerMatch,
    SkipTo,
    Variable,
    pattern_text,
    pattern_variables,
)

__all__ = [
    "ROWS_PER_MATCH",
    "Atom",
    "DefineCondition",
    "MatchQuery",
    "define_conditions",
    "match_queries",
    "partition_values",
    "partitioned_rows",
    "partitions_of",
    "patterns",
    "rows_per_match_modes",
]

VARIABLES = ("A", "B", "C")
ROWS_PER_MATCH: tuple[RowsPerMatch, ...] = (
    "ONE ROW PER MATCH",
    "ALL ROWS PER MATCH SHOW EMPTY MATCHES",
    "ALL ROWS PER MATCH OMIT EMPTY MATCHES",
    "ALL ROWS PER MATCH WITH UNMATCHED ROWS",
)
#: Largest value of ``v``; thresholds in conditions are drawn from the same range.
MAX_VALUE = 9

#: A function of the match so far that a history-reading condition depends on.
Feature = Callable[[MatchView], Hashable]


# Patterns -----------------------------------------------------------------------------

#: (low, high) quantifier bounds; None is no maximum. Covers * + ? {n} {n,} {,m} {n,m}.
_BOUNDS: tuple[tuple[int, int | None], ...] = (
    (0, None),
    (1, None),
    (0, 1),
    (0, 0),
    (1, 1),
    (2, 2),
    (3, 3),
    (2, None),
    (3, None),
    (0, 2),
    (0, 3),
    (1, 2),
    (1, 3),
    (2, 3),
)


def patterns(
    variables: Sequence[str] = VARIABLES, max_depth: int = 3, exclusion: bool = True
) -> st.SearchStrategy[Pattern]:
    """Row patterns over ``variables`` with at most ``max_depth`` levels of nesting.

    Exclusions are never nested (the standard forbids it), anchors are never
    quantified, and with ``exclusion`` False no ``{- -}`` is drawn at all.
    """
    return _patterns(tuple(variables), max_depth, exclusion, quantifiable=False)


@st.composite
def _patterns(
    draw: st.DrawFn,
    variables: tuple[str, ...],
    depth: int,
    exclusion: bool,
    quantifiable: bool,
) -> Pattern:
    kinds = ["variable"] * 6 + ["empty"]
    if not quantifiable:
        kinds.append("anchor")
    if depth > 0:
        compound = ["concatenation", "concatenation", "alternation", "quantified", "quantified"]
        compound.append("permute")
        if exclusion:
            compound.append("exclusion")
        kinds += 2 * compound
    kind = draw(st.sampled_from(kinds))
    if kind == "variable":
        return Variable(draw(st.sampled_from(variables)))
    if kind == "empty":
        return Empty()
    if kind == "anchor":
        return Anchor(draw(st.sampled_from(["^", "$"])))
    below = depth - 1
    if kind == "quantified":
        inner = draw(_patterns(variables, below, exclusion, quantifiable=True))
        low, high = draw(st.sampled_from(_BOUNDS))
        return Quantified(inner, low, high, greedy=draw(st.booleans()))
    if kind == "exclusion":
        return Exclusion(draw(_patterns(variables, below, False, quantifiable=False)))
    parts = draw(
        st.lists(_patterns(variables, below, exclusion, quantifiable=False), min_size=2, max_size=3)
    )
    if kind == "concatenation":
        return Concatenation(tuple(parts))
    if kind == "alternation":
        return Alternation(tuple(parts))
    return Permute(tuple(parts))


# DEFINE conditions --------------------------------------------------------------------

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda left, right: bool(left > right),
    ">=": lambda left, right: bool(left >= right),
    "<": lambda left, right: bool(left < right),
    "<=": lambda left, right: bool(left <= right),
    "=": lambda left, right: bool(left == right),
}


def _compare(left: Any, operator: str, right: Any) -> bool | None:
    """Compare with SQL semantics: NULL on either side gives NULL."""
    if left is None or right is None:
        return None
    return _COMPARISONS[operator](left, right)


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


@dataclass(frozen=True)
class Atom:
    """One comparison of a DEFINE condition, as SQL text and as a predicate.

    ``features`` are the functions of the match so far that the comparison
    reads; it reads only the partition when there are none.
    """

    sql: str
    evaluate: Condition = field(repr=False, compare=False)
    features: tuple[Feature, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class DefineCondition:
    """A DEFINE condition: one atom, or two joined by AND or OR."""

    atoms: tuple[Atom, ...]
    connective: str = ""

    @property
    def sql(self) -> str:
        return f" {self.connective} ".join(atom.sql for atom in self.atoms)

    def __call__(self, view: MatchView) -> bool | None:
        result = self.atoms[0].evaluate(view)
        for atom in self.atoms[1:]:
            other = atom.evaluate(view)
            result = _and(result, other) if self.connective == "AND" else _or(result, other)
        return result

    @property
    def features(self) -> tuple[Feature, ...]:
        return tuple(feature for atom in self.atoms for feature in atom.features)


@st.composite
def _atoms(
    draw: st.DrawFn, variable: str, targets: tuple[str, ...], primaries: tuple[str, ...]
) -> Atom:
    """Draw a comparison for ``variable``'s condition.

    ``targets`` are the variables and subsets it may read, and ``primaries``
    the variables that CLASSIFIER() may return.
    """
    operator = draw(st.sampled_from(sorted(_COMPARISONS)))
    kind = draw(
        st.sampled_from(
            [
                "constant",
                "constant",
                "constant",
                "prev",
                "next",
                "last",
                "first",
                "count",
                "count_all",
                "sum",
                "previous_in_match",
                "prev_classifier",
            ]
        )
    )
    target = draw(st.sampled_from(targets))
    constant = draw(st.integers(0, MAX_VALUE))

    if kind == "constant":
        return Atom(
            f"v {operator} {constant}", lambda m: _compare(m.value("v"), operator, constant)
        )

    if kind == "prev":
        return Atom(
            f"v {operator} PREV(v)", lambda m: _compare(m.value("v"), operator, m.prev("v"))
        )

    if kind == "next":
        return Atom(
            f"v {operator} NEXT(v)", lambda m: _compare(m.value("v"), operator, m.next("v"))
        )

    if kind == "last":
        # LAST(X.v) in X's own condition is the candidate row; offset 1 reads the X before it.
        offset = 1 if target == variable else 0
        text = f"LAST({target}.v, 1)" if offset else f"LAST({target}.v)"
        return Atom(
            f"v {operator} {text}",
            lambda m: _compare(m.value("v"), operator, m.last("v", target, offset)),
            (lambda m: m.last("v", target),),
        )

    if kind == "first":
        return Atom(
            f"v {operator} FIRST({target}.v)",
            lambda m: _compare(m.value("v"), operator, m.first("v", target)),
            (lambda m: m.first("v", target),),
        )

    if kind == "count":
        limit = constant % 4
        return Atom(
            f"COUNT({target}.*) {operator} {limit}",
            lambda m: _compare(m.count(target), operator, limit),
            (lambda m: m.count(target),),
        )

    if kind == "count_all":
        limit = 1 + constant % 4
        return Atom(
            f"COUNT(*) {operator} {limit}",
            lambda m: _compare(m.count(), operator, limit),
            (lambda m: m.count(),),
        )

    if kind == "sum":
        limit = 2 * constant
        return Atom(
            f"SUM({target}.v) {operator} {limit}",
            lambda m: _compare(m.sum("v", target), operator, limit),
            (lambda m: m.sum("v", target),),
        )

    if kind == "previous_in_match":
        return Atom(
            f"v {operator} LAST(v, 1)",
            lambda m: _compare(m.value("v"), operator, m.last("v", None, 1)),
            (lambda m: m.last("v"),),
        )

    # PREV(CLASSIFIER()) is the variable of the previous row when that row is in
    # the match, and NULL at the first row of the match.
    primary = draw(st.sampled_from(primaries))
    return Atom(
        f"PREV(CLASSIFIER()) = '{primary}'",
        lambda m: _compare(m.classifier(1), "=", primary),
        (lambda m: m.classifier(),),
    )


@st.composite
def define_conditions(
    draw: st.DrawFn,
    variable: str,
    variables: Sequence[str] = VARIABLES,
    subsets: Sequence[str] = (),
) -> DefineCondition:
    """A condition for ``variable`` that may read the pattern ``variables`` and ``subsets``."""
    primaries = tuple(variables) or (variable,)
    targets = primaries + tuple(subsets)
    atoms = tuple(draw(st.lists(_atoms(variable, targets, primaries), min_size=1, max_size=2)))
    connective = draw(st.sampled_from(["AND", "OR"])) if len(atoms) == 2 else ""
    return DefineCondition(atoms, connective)


# Queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchQuery:
    """The matching clauses of a MATCH_RECOGNIZE query: PATTERN, SUBSET, DEFINE and SKIP.

    ``skip_sql`` is the AFTER MATCH SKIP clause as written, which may use the
    short form ``TO v`` of ``TO LAST v``.
    """

    pattern: Pattern
    define: tuple[tuple[str, DefineCondition], ...]
    subsets: tuple[tuple[str, tuple[str, ...]], ...]
    skip: SkipTo
    skip_sql: str

    @property
    def pattern_sql(self) -> str:
        return pattern_text(self.pattern)

    @property
    def conditions(self) -> dict[str, Condition]:
        return dict(self.define)

    @property
    def subset_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.subsets)

    def history_key(self) -> HistoryKey:
        """Return the summary of a match that decides every later condition of this query."""
        features = [feature for _, condition in self.define for feature in condition.features]

        def key(view: MatchView) -> Hashable:
            return tuple(feature(view) for feature in features)

        return key

    def sql(
        self,
        table: str,
        rows_per_match: RowsPerMatch,
        measures: Sequence[str],
        select: Sequence[str],
        order_by: str = "seq",
    ) -> str:
        """Return the whole query over ``table`` partitioned by ``key``, as one SQL string."""
        lines = [
            f"SELECT {', '.join(select)}",
            f"FROM {table} MATCH_RECOGNIZE (",
            "    PARTITION BY key",
            f"    ORDER BY {order_by}",
        ]
        if measures:
            lines.append(f"    MEASURES {', '.join(measures)}")
        lines += [
            f"    {rows_per_match}",
            f"    {self.skip_sql}",
            f"    PATTERN ({self.pattern_sql})",
        ]
        if self.subsets:
            subsets = ", ".join(
                f"{name} = ({', '.join(members)})" for name, members in self.subsets
            )
            lines.append(f"    SUBSET {subsets}")
        if self.define:
            define = ", ".join(f"{name} AS {condition.sql}" for name, condition in self.define)
            lines.append(f"    DEFINE {define}")
        lines.append(")")
        return "\n".join(lines)


@st.composite
def match_queries(
    draw: st.DrawFn, max_depth: int = 3, exclusion: bool = True, error_skips: bool = True
) -> MatchQuery:
    """A pattern over 1 to 3 variables with conditions, maybe a SUBSET, and a skip mode.

    Variables without a condition accept every row. With ``error_skips``
    False, only PAST LAST ROW and TO NEXT ROW are drawn, which never fail.
    """
    count = draw(st.integers(1, len(VARIABLES)))
    pattern = draw(patterns(VARIABLES[:count], max_depth, exclusion))
    names = pattern_variables(pattern)
    subsets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if len(names) >= 2 and draw(st.booleans()):
        members = draw(st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True))
        subsets = (("U", tuple(members)),)
    targets = tuple(names) + tuple(name for name, _ in subsets)
    define: list[tuple[str, DefineCondition]] = []
    for name in names:
        if draw(st.integers(0, 3)) > 0:
            subset_names = [subset for subset, _ in subsets]
            define.append((name, draw(define_conditions(name, names, subset_names))))
    modes = ["PAST LAST ROW", "PAST LAST ROW", "TO NEXT ROW", "TO NEXT ROW"]
    if error_skips and targets:
        modes += ["TO FIRST", "TO LAST", "TO"]
    mode = draw(st.sampled_from(modes))
    if mode == "PAST LAST ROW":
        skip = SkipTo("PAST LAST ROW")
        skip_sql = skip.sql()
    elif mode == "TO NEXT ROW":
        skip = SkipTo("TO NEXT ROW")
        skip_sql = skip.sql()
    else:
        target = draw(st.sampled_from(targets))
        skip = SkipTo("TO FIRST" if mode == "TO FIRST" else "TO LAST", target)
        skip_sql = f"AFTER MATCH SKIP {mode} {target}"
    return MatchQuery(pattern, tuple(define), subsets, skip, skip_sql)


def rows_per_match_modes(
    one_row: bool = True, unmatched: bool = True
) -> st.SearchStrategy[RowsPerMatch]:
    """The rows-per-match modes, without ONE ROW PER MATCH or WITH UNMATCHED ROWS if unset."""
    modes = [mode for mode in ROWS_PER_MATCH if one_row or mode != "ONE ROW PER MATCH"]
    return st.sampled_from([mode for mode in modes if unmatched or "UNMATCHED" not in mode])


# Rows ---------------------------------------------------------------------------------


@st.composite
def partitioned_rows(
    draw: st.DrawFn,
    min_rows: int = 1,
    max_rows: int = 12,
    max_partitions: int = 3,
    null_values: bool = False,
) -> list[dict[str, Any]]:
    """Rows with ``seq`` (1, 2, ... in order), ``key`` ('p0' to 'p2') and ``v`` (0 to 9).

    With ``null_values``, about one ``v`` in eleven is None (SQL NULL).
    """
    partitions = draw(st.integers(1, max_partitions))
    count = draw(st.integers(min_rows, max_rows))
    keys = draw(st.lists(st.integers(0, partitions - 1), min_size=count, max_size=count))
    choices: list[int | None] = list(range(MAX_VALUE + 1))
    if null_values:
        choices.append(None)
    values = draw(st.lists(st.sampled_from(choices), min_size=count, max_size=count))
    return [
        {"seq": index + 1, "key": f"p{key}", "v": value}
        for index, (key, value) in enumerate(zip(keys, values, strict=True))
    ]


def partition_values(
    max_rows: int = 12, max_partitions: int = 3
) -> st.SearchStrategy[dict[str, list[int]]]:
    """The ``v`` values of each partition in order, by key ('p0' to 'p2'); at most ``max_rows`` in all."""
    return st.integers(1, max_partitions).flatmap(
        lambda partitions: st.lists(
            st.lists(st.integers(0, MAX_VALUE), max_size=max_rows),
            min_size=partitions,
            max_size=partitions,
        ).map(lambda lists: _trimmed(lists, max_rows))
    )


def _trimmed(lists: list[list[int]], max_rows: int) -> dict[str, list[int]]:
    result: dict[str, list[int]] = {}
    left = max_rows
    for index, values in enumerate(lists):
        result[f"p{index}"] = values[:left]
        left -= len(result[f"p{index}"])
    return result


def partitions_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Group rows by ``key``, keeping their order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row["key"]), []).append(row)
    return groups
