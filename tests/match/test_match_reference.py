"""The MATCH_RECOGNIZE reference on small cases checked by hand."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.testing.match_reference import (
    CANNOT_SKIP_TO_FIRST_ROW,
    SKIP_VARIABLE_NOT_PRESENT,
    Alternation,
    Anchor,
    Concatenation,
    Empty,
    Exclusion,
    OutputRow,
    PatternSyntaxError,
    Permute,
    Quantified,
    Recognition,
    RowsPerMatch,
    SearchLimitError,
    SkipError,
    SkipTo,
    Variable,
    output_rows,
    parse_pattern,
    pattern_text,
    recognize,
)
from workbench.testing.pattern_strategies import match_queries, partitioned_rows, patterns

ALL: RowsPerMatch = "ALL ROWS PER MATCH SHOW EMPTY MATCHES"
OMIT: RowsPerMatch = "ALL ROWS PER MATCH OMIT EMPTY MATCHES"
UNMATCHED: RowsPerMatch = "ALL ROWS PER MATCH WITH UNMATCHED ROWS"
ONE: RowsPerMatch = "ONE ROW PER MATCH"


def rows(*values: int) -> list[dict[str, Any]]:
    return [{"seq": index + 1, "v": value} for index, value in enumerate(values)]


def above_five(view: Any) -> bool:
    return bool(view.value("v") > 5)


def mappings(recognition: Recognition) -> list[tuple[int, str]]:
    """Return (start, variables of the match's rows joined) for each match."""
    return [
        (match.start, "".join(label.variable for label in match.labels))
        for match in recognition.matches
    ]


# Parsing ------------------------------------------------------------------------------


def test_parse_precedence_and_quantifiers() -> None:
    pattern = parse_pattern("A B* | (C{2,3}? D)+ E")
    assert pattern == Alternation(
        (
            Concatenation((Variable("A"), Quantified(Variable("B"), 0, None))),
            Concatenation(
                (
                    Quantified(
                        Concatenation(
                            (Quantified(Variable("C"), 2, 3, greedy=False), Variable("D"))
                        ),
                        1,
                        None,
                    ),
                    Variable("E"),
                )
            ),
        )
    )


def test_parse_special_forms() -> None:
    assert parse_pattern("()") == Empty()
    assert parse_pattern("") == Empty()
    assert parse_pattern("^ A $") == Concatenation((Anchor("^"), Variable("A"), Anchor("$")))
    assert parse_pattern("{- A -}") == Exclusion(Variable("A"))
    assert parse_pattern("PERMUTE(A, B C)") == Permute(
        (Variable("A"), Concatenation((Variable("B"), Variable("C"))))
    )
    assert parse_pattern("A{,2}") == Quantified(Variable("A"), 0, 2)
    assert parse_pattern("A{ 2 , }") == Quantified(Variable("A"), 2, None)
    assert parse_pattern("A{3}") == Quantified(Variable("A"), 3, 3)
    assert parse_pattern("A??") == Quantified(Variable("A"), 0, 1, greedy=False)


@pytest.mark.parametrize("text", ["A**", "(A", "A)", "A{3,1}", "A{x}", "{- A", "A & B", "*"])
def test_parse_rejects_invalid_text(text: str) -> None:
    with pytest.raises(PatternSyntaxError):
        parse_pattern(text)


@given(pattern=patterns())
def test_pattern_text_round_trip(pattern: Any) -> None:
    text = pattern_text(pattern)
    assert pattern_text(parse_pattern(text)) == text


# Preferment order ---------------------------------------------------------------------


def test_greedy_takes_longest_run() -> None:
    found = recognize("A+", rows(6, 7, 8, 1), {"A": above_five})
    assert mappings(found) == [(0, "AAA")]


def test_reluctant_takes_shortest_run() -> None:
    found = recognize("A+?", rows(6, 7, 8, 1), {"A": above_five})
    assert mappings(found) == [(0, "A"), (1, "A"), (2, "A")]


def test_reluctant_star_matches_empty() -> None:
    found = recognize("A*? B", rows(6, 7, 1), {"A": above_five})
    # B accepts every row, so the shortest A run (none) wins at each start.
    assert mappings(found) == [(0, "B"), (1, "B"), (2, "B")]


def test_reluctant_grows_until_rest_matches() -> None:
    found = recognize("A+? B", rows(6, 7, 1), {"A": above_five, "B": lambda m: m.value("v") < 5})
    assert mappings(found) == [(0, "AAB")]


def test_alternation_prefers_left_option() -> None:
    assert mappings(recognize("A | B", rows(1, 2))) == [(0, "A"), (1, "A")]
    assert mappings(recognize("B | A", rows(1, 2))) == [(0, "B"), (1, "B")]


def test_alternation_prefers_left_option_over_longer_match() -> None:
    found = recognize("(A | A B) C?", rows(1, 2, 3, 4), {"C": lambda m: False})
    assert mappings(found) == [(0, "A"), (1, "A"), (2, "A"), (3, "A")]


def test_alternation_falls_through_failed_option() -> None:
    found = recognize("A | B", rows(1, 6), {"A": above_five})
    assert mappings(found) == [(0, "B"), (1, "A")]


def test_permute_tries_orders_lexicographically() -> None:
    assert mappings(recognize("PERMUTE(A, B, C)", rows(1, 2, 3))) == [(0, "ABC")]
    found = recognize("PERMUTE(A, B, C)", rows(1, 6, 2), {"A": above_five})
    # A B C and A C B fail at row 0; B A C is the next order.
    assert mappings(found) == [(0, "BAC")]


def test_permute_orders_follow_item_order_not_names() -> None:
    found = recognize("PERMUTE(B, A)", rows(1, 2))
    assert mappings(found) == [(0, "BA")]


def test_backtracking_into_greedy_quantifier() -> None:
    found = recognize("A* A B", rows(6, 7, 8, 1), {"A": above_five})
    # A* first takes 6, 7, 8; the last A and B force it to give back one row.
    assert mappings(found) == [(0, "AAAB")]


# Empty matches and empty iterations ---------------------------------------------------


def test_empty_matches_advance_one_row() -> None:
    found = recognize("A*", rows(1, 6, 7, 2), {"A": above_five})
    assert mappings(found) == [(0, ""), (1, "AA"), (3, "")]
    assert [match.number for match in found.matches] == [1, 2, 3]


def test_empty_match_output_by_mode() -> None:
    found = recognize("A*", rows(1, 6), {"A": above_five})
    assert output_rows(found, ALL) == [OutputRow(0, 1, None, 0), OutputRow(1, 2, "A", 1)]
    assert output_rows(found, OMIT) == [OutputRow(1, 2, "A", 1)]
    assert output_rows(found, UNMATCHED) == [OutputRow(0, 1, None, 0), OutputRow(1, 2, "A", 1)]
    assert output_rows(found, ONE) == [OutputRow(0, 1, None, 0), OutputRow(1, 2, "A", 1)]


def test_match_numbers_count_omitted_empty_matches() -> None:
    found = recognize("A?", rows(1, 6), {"A": above_five})
    assert output_rows(found, OMIT) == [OutputRow(1, 2, "A", 1)]


def test_empty_pattern_matches_every_row() -> None:
    found = recognize("()", rows(1, 2, 3))
    assert mappings(found) == [(0, ""), (1, ""), (2, "")]


def test_empty_iteration_ends_unbounded_loop() -> None:
    # The empty option comes first: one empty iteration, then the loop must end.
    assert mappings(recognize("(() | A)*", rows(1, 2))) == [(0, ""), (1, "")]
    # The empty option comes last: A is preferred while it matches.
    assert mappings(recognize("(A | ())*", rows(1, 2))) == [(0, "AA")]
    assert mappings(recognize("(A?)* B", rows(1, 2), {"B": lambda m: False})) == []
    assert mappings(recognize("((A*)*)+", rows(6, 1), {"A": above_five})) == [(0, "A"), (1, "")]


def test_empty_iteration_counts_toward_minimum() -> None:
    found = recognize("(A?){2,} B", rows(1, 2), {"A": above_five})
    assert mappings(found) == [(0, "B"), (1, "B")]


def test_bounded_loop_repeats_empty_iterations() -> None:
    # {0,2} unrolls into two optional copies: the first may match nothing and
    # the second B. An unbounded loop would have to end after the empty
    # iteration and try A B C first.
    found = recognize(
        "(() | A | B){0,2} C",
        rows(1, 2, 3),
        {"C": lambda m: m.count("B") > 0},
    )
    assert mappings(found) == [(0, "BC")]


# Anchors and exclusion ----------------------------------------------------------------


def test_start_anchor_matches_only_at_partition_start() -> None:
    assert mappings(recognize("^ A", rows(1, 2, 3))) == [(0, "A")]
    assert mappings(recognize("^ A", rows(1, 6, 3), {"A": above_five})) == []


def test_end_anchor_matches_only_at_partition_end() -> None:
    assert mappings(recognize("A $", rows(1, 2, 3))) == [(2, "A")]
    assert mappings(recognize("A+ $", rows(1, 2, 3))) == [(0, "AAA")]
    assert mappings(recognize("^ A $", rows(1, 2))) == []
    assert mappings(recognize("^ A $", rows(1))) == [(0, "A")]


def test_exclusion_omits_rows_from_output() -> None:
    found = recognize("A {- B -} C", rows(1, 2, 3))
    assert mappings(found) == [(0, "ABC")]
    assert [label.excluded for label in found.matches[0].labels] == [False, True, False]
    # The running count still counts the excluded row.
    assert output_rows(found, ALL) == [OutputRow(0, 1, "A", 1), OutputRow(2, 1, "C", 3)]
    assert output_rows(found, ONE) == [OutputRow(0, 1, "C", 3)]


def test_quantified_exclusion_excludes_every_iteration() -> None:
    found = recognize("A {- B+ -}", rows(1, 2, 3))
    assert output_rows(found, ALL) == [OutputRow(0, 1, "A", 1)]


# Conditions ---------------------------------------------------------------------------


def test_condition_sees_candidate_as_its_variable() -> None:
    found = recognize("A", rows(1), {"A": lambda m: m.last("v", "A") == m.value("v")})
    assert mappings(found) == [(0, "A")]


def test_condition_counts_earlier_rows() -> None:
    found = recognize("A+ B", rows(1, 2, 3, 4), {"A": lambda m: m.count("A") <= 2})
    assert mappings(found) == [(0, "AAB")]


def test_condition_reads_last_of_other_variable() -> None:
    found = recognize(
        "A B+",
        rows(5, 6, 7, 3, 8),
        {"B": lambda m: m.value("v") > m.last("v", "A")},
    )
    assert mappings(found) == [(0, "ABB"), (3, "AB")]


def test_null_condition_rejects_row() -> None:
    def increasing(view: Any) -> bool | None:
        previous = view.prev("v")
        return None if previous is None else bool(view.value("v") > previous)

    found = recognize("A+", rows(1, 2, 3, 1), {"A": increasing})
    # Row 0 has no previous row: PREV(v) is NULL, so the condition rejects it.
    assert mappings(found) == [(1, "AA")]


def test_subset_in_condition() -> None:
    found = recognize(
        "(A | B)+",
        rows(1, 2, 3, 4),
        {"A": lambda m: m.value("v") % 2 == 1, "B": lambda m: m.count("U") <= 3},
        subsets={"U": ("A", "B")},
    )
    assert mappings(found) == [(0, "ABA"), (3, "B")]


# AFTER MATCH SKIP ---------------------------------------------------------------------


def test_skip_past_last_row() -> None:
    assert mappings(recognize("A B", rows(1, 2, 3, 4, 5))) == [(0, "AB"), (2, "AB")]


def test_skip_to_next_row_overlaps() -> None:
    found = recognize("A B", rows(1, 2, 3), skip=SkipTo("TO NEXT ROW"))
    assert mappings(found) == [(0, "AB"), (1, "AB")]


def test_skip_to_first_and_last_variable() -> None:
    first = recognize("A B+ C", rows(1, 2, 3, 4, 5, 6), skip=SkipTo("TO FIRST", "B"))
    assert mappings(first) == [(0, "ABBBBC"), (1, "ABBBC"), (2, "ABBC"), (3, "ABC")]
    defined = {"B": lambda m: m.value("v") < 4}
    first = recognize("A B+ C", rows(1, 2, 3, 4, 5, 6), defined, skip=SkipTo("TO FIRST", "B"))
    assert mappings(first) == [(0, "ABBC"), (1, "ABC")]
    last = recognize("A B+ C", rows(1, 2, 3, 4, 5, 6), defined, skip=SkipTo("TO LAST", "B"))
    assert mappings(last) == [(0, "ABBC")]


def test_skip_to_subset_uses_any_member() -> None:
    found = recognize(
        "A B C D",
        rows(1, 2, 3, 4, 5, 6, 7, 8),
        subsets={"U": ("C", "B")},
        skip=SkipTo("TO LAST", "U"),
    )
    assert mappings(found) == [(0, "ABCD"), (2, "ABCD"), (4, "ABCD")]


def test_skip_to_first_row_of_match_fails() -> None:
    with pytest.raises(SkipError) as raised:
        recognize("A B", rows(1, 2), skip=SkipTo("TO FIRST", "A"))
    assert str(raised.value) == CANNOT_SKIP_TO_FIRST_ROW


def test_skip_to_absent_variable_fails() -> None:
    with pytest.raises(SkipError) as raised:
        recognize("A | B", rows(1, 2), skip=SkipTo("TO LAST", "B"))
    assert str(raised.value) == SKIP_VARIABLE_NOT_PRESENT


def test_skip_errors_need_a_match() -> None:
    found = recognize("A B", rows(1, 2), {"B": lambda m: False}, skip=SkipTo("TO FIRST", "A"))
    assert found.matches == ()


def test_skip_after_empty_match_goes_to_next_row() -> None:
    found = recognize("B?", rows(1, 2), {"B": lambda m: False}, skip=SkipTo("TO FIRST", "B"))
    assert mappings(found) == [(0, ""), (1, "")]


def test_unmatched_rows_exclude_rows_of_earlier_matches() -> None:
    found = recognize(
        "A A A",
        rows(0, 1, 1, 1, 1, 0),
        {"A": lambda m: m.value("v") > 0},
        skip=SkipTo("TO NEXT ROW"),
    )
    assert mappings(found) == [(1, "AAA"), (2, "AAA")]
    # Rows 3 and 4 start no match but belong to earlier matches; 0 and 5 are unmatched.
    assert found.unmatched == (0, 5)
    assert [(out.row, out.match_number) for out in output_rows(found, UNMATCHED)] == [
        (0, None),
        (1, 1),
        (2, 1),
        (3, 1),
        (2, 2),
        (3, 2),
        (4, 2),
        (5, None),
    ]


# Search -------------------------------------------------------------------------------


def test_search_limit() -> None:
    with pytest.raises(SearchLimitError):
        recognize("(A | B)* C", rows(*range(12)), {"C": lambda m: False}, max_steps=100)


@given(query=match_queries(), partition=partitioned_rows(max_partitions=1))
def test_history_key_does_not_change_matches(query: Any, partition: list[dict[str, Any]]) -> None:
    def run(use_key: bool) -> Recognition | str:
        try:
            return recognize(
                query.pattern,
                partition,
                query.conditions,
                subsets=query.subset_map,
                skip=query.skip,
                history_key=query.history_key() if use_key else None,
                max_steps=200_000,
            )
        except SkipError as error:
            return str(error)
        except SearchLimitError:
            return "limit"

    plain = run(use_key=False)
    if plain != "limit":
        assert run(use_key=True) == plain


@given(rows_per_match=st.sampled_from([ALL, OMIT, UNMATCHED, ONE]))
def test_output_of_no_rows_is_empty(rows_per_match: Any) -> None:
    assert output_rows(recognize("A*", []), rows_per_match) == []
