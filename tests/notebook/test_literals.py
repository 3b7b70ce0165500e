"""Substituting Python variables into cell SQL as SQL literals."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from workbench import Session
from workbench.notebook.literals import SubstitutionError, sql_literal, substitute


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "NULL"),
        (True, "TRUE"),
        (np.bool_(False), "FALSE"),
        (42, "42"),
        (np.int64(-7), "-7"),
        (2.5, "2.5"),
        (np.float32(0.5), "0.5"),
        (decimal.Decimal("10.25"), "10.25"),
        ("plain", "'plain'"),
        ("it's", "'it''s'"),
        ("'; DROP TABLE bids; --", "'''; DROP TABLE bids; --'"),
        ("back\\slash", "'back\\slash'"),
        (dt.datetime(2024, 3, 1, 9, 30), "TIMESTAMP '2024-03-01 09:30:00'"),
        (dt.datetime(2024, 3, 1, 9, 30, 0, 1500), "TIMESTAMP '2024-03-01 09:30:00.001500'"),
        (
            pd.Timestamp("2024-03-01 09:30:00.000000007"),
            "TIMESTAMP '2024-03-01 09:30:00.000000007'",
        ),
        (dt.date(2024, 3, 1), "DATE '2024-03-01'"),
        (dt.time(10, 11, 12), "TIME '10:11:12'"),
        (dt.timedelta(minutes=10), "INTERVAL '600' SECOND"),
        (pd.Timedelta("1.5 s"), "INTERVAL '1.5' SECOND"),
        (["a", "b"], "('a', 'b')"),
        ((1, 2, 3), "(1, 2, 3)"),
        ({"b", "a"}, "('a', 'b')"),
        (pd.NaT, "NULL"),
    ],
)
def test_literal_of_value(value: Any, literal: str) -> None:
    assert sql_literal(value) == literal


def test_aware_timestamp_in_session_zone() -> None:
    value = pd.Timestamp("2024-03-01 12:00", tz="UTC")

    assert sql_literal(value, time_zone="Europe/Berlin") == "TIMESTAMP '2024-03-01 13:00:00'"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "has no SQL literal"),
        (float("inf"), "has no SQL literal"),
        ([], "empty list"),
        ([[1], [2]], "nested list"),
        ({"a": 1}, "dict has no SQL literal"),
        (b"bytes", "bytes has no SQL literal"),
        ("nul\x00", "NUL"),
    ],
)
def test_value_without_literal_rejected(value: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        sql_literal(value)


def test_substitute_outside_strings_and_comments() -> None:
    text = "SELECT '{x}', \"{x}\" FROM t -- {x}\nWHERE a = {x} /* {x} */"

    result = substitute(text, {"x": "v"})

    assert result == "SELECT '{x}', \"{x}\" FROM t -- {x}\nWHERE a = 'v' /* {x} */"


def test_doubled_braces_escape() -> None:
    assert substitute("SELECT '{{', {{x}} FROM t", {"x": 1}) == "SELECT '{{', {x} FROM t"


def test_pattern_quantifiers_untouched() -> None:
    text = "PATTERN (A{3,} B{,2} C{2} {- D -} E{1,4}?)"

    assert substitute(text, {}) == text


def test_list_for_in() -> None:
    result = substitute("WHERE item IN {items}", {"items": ["lamp", "o'clock"]})

    assert result == "WHERE item IN ('lamp', 'o''clock')"


def test_unknown_name_points_at_placeholder() -> None:
    with pytest.raises(SubstitutionError) as raised:
        substitute("SELECT *\nFROM t WHERE a > {limit}", {})

    error = raised.value
    assert error.line == 2
    assert error.column == 18
    assert error.offending_text == "{limit}"
    assert "variable 'limit' is not defined" in error.render()
    assert "^^^^^^^" in error.render()


def test_expression_in_braces_rejected() -> None:
    with pytest.raises(SubstitutionError, match="only a variable name"):
        substitute("SELECT {a.b}", {"a": 1})


def test_unsupported_value_names_variable() -> None:
    with pytest.raises(SubstitutionError, match="variable 'obj' cannot be substituted"):
        substitute("SELECT {obj}", {"obj": object()})


def test_substituted_literals_round_trip() -> None:
    session = Session(progress=False)
    values = {
        "text": "it's {braced}",
        "number": 12.5,
        "flag": True,
        "nothing": None,
        "moment": dt.datetime(2024, 3, 1, 9, 30, 0, 250000),
        "span": dt.timedelta(seconds=90),
        "options": ["x", "y"],
    }
    sql = substitute(
        "SELECT {text} AS text, {number} AS number, {flag} AS flag, {nothing} AS nothing, "
        "{moment} AS moment, {span} AS span, 'x' IN {options} AS found",
        values,
    )

    result = session.sql(sql)
    assert result is not None
    row = result.to_pandas().iloc[0]  # type: ignore[union-attr]

    assert row["text"] == "it's {braced}"
    assert row["number"] == 12.5
    assert bool(row["flag"]) is True
    assert pd.isna(row["nothing"])
    assert row["moment"] == pd.Timestamp("2024-03-01 09:30:00.25")
    assert row["span"] == pd.Timedelta(seconds=90)
    assert bool(row["found"]) is True
