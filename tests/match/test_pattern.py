"""Row pattern syntax: what the parser builds, and where its errors point."""

from __future__ import annotations

import pytest

from workbench.sql.pattern import (
    Alternation,
    Anchor,
    Concatenation,
    Empty,
    Exclusion,
    PatternSyntaxError,
    Permute,
    Quantified,
    Variable,
    parse_pattern,
    variables,
)


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("A B C", "A B C"),
        ("A | B C", "A | B C"),
        ("(A | B) C", "(A | B) C"),
        ("A*", "A*"),
        ("A+?", "A+?"),
        ("A??", "A??"),
        ("A{3}", "A{3}"),
        ("A{2,}", "A{2,}"),
        ("A{,4}?", "A{0,4}?"),
        ("A{1, 3}", "A{1,3}"),
        ("(A B)+", "(A B)+"),
        ("^A $", "^ A $"),
        ("A {- B+ -} C", "A {- B+ -} C"),
        ("PERMUTE(A, B C)", "PERMUTE(A, B C)"),
        ("()", "()"),
        ("", "()"),
        ('"my var" B', "my var B"),
    ],
)
def test_round_trip(text: str, printed: str) -> None:
    assert str(parse_pattern(text)) == printed


def test_quantifier_bounds() -> None:
    node = parse_pattern("A{2,5}?")

    assert isinstance(node, Quantified)
    assert (node.low, node.high, node.greedy) == (2, 5, False)
    assert node.inner == Variable(0, 1, "A")


def test_star_has_no_maximum() -> None:
    node = parse_pattern("B*")

    assert isinstance(node, Quantified)
    assert (node.low, node.high, node.greedy) == (0, None, True)


def test_concatenation_keeps_order() -> None:
    node = parse_pattern("A (B | C) D")

    assert isinstance(node, Concatenation)
    assert [type(item) for item in node.items] == [Variable, Alternation, Variable]


def test_node_kinds() -> None:
    node = parse_pattern("^ {- A -} PERMUTE(B, C) () $")

    assert isinstance(node, Concatenation)
    kinds = [type(item) for item in node.items]
    assert kinds == [Anchor, Exclusion, Permute, Empty, Anchor]


def test_permute_expands_in_preferment_order() -> None:
    node = parse_pattern("PERMUTE(A, B, C)")

    assert isinstance(node, Permute)
    assert str(node.expanded()) == "A B C | A C B | B A C | B C A | C A B | C B A"


def test_permute_is_a_variable_without_parenthesis() -> None:
    assert variables(parse_pattern("PERMUTE B")) == ["PERMUTE", "B"]


def test_variables_in_first_appearance_order() -> None:
    assert variables(parse_pattern("B (A | B)* C A")) == ["B", "A", "C"]


def test_spans_point_into_text() -> None:
    text = "A (B | C)+"
    node = parse_pattern(text)

    assert isinstance(node, Concatenation)
    repeated = node.items[1]
    assert text[repeated.start : repeated.end] == "(B | C)+"


@pytest.mark.parametrize(
    ("text", "message", "offending"),
    [
        ("A++", "'+' cannot follow a quantified term", "+"),
        ("A{3,1}", "maximum below its minimum", "{3,1}"),
        ("(A B", "expected ')' to close '('", "("),
        ("A B)", "unexpected ')'", ")"),
        ("* A", "has nothing to repeat", "*"),
        ("A # B", "unexpected character '#'", "#"),
        ("^*", "cannot follow an anchor", "*"),
        ("{- A", "expected '-}' to close '{-'", "{-"),
        ("A{2000}", "repeats more than 1000 times", "{2000}"),
        ("A{}", "needs a number", "{}"),
    ],
)
def test_errors_point_at_offending_text(text: str, message: str, offending: str) -> None:
    with pytest.raises(PatternSyntaxError) as caught:
        parse_pattern(text)

    assert message in caught.value.message
    assert text[caught.value.start : caught.value.end] == offending
