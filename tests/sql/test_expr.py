"""Typed expression nodes: their text, which names unaliased columns and appears in plans."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, query, session_with
from workbench.events import types as t
from workbench.sql.expr import Call, ColumnRef, Expr, Literal


def chain(terms: int) -> Expr:
    """Return ``a + a + ... + a`` with ``terms`` terms, nested to the left as the parser does."""
    expression: Expr = ColumnRef(name="a", type=t.DOUBLE)
    for _ in range(terms - 1):
        expression = Call(
            function="+", args=(expression, ColumnRef(name="a", type=t.DOUBLE)), type=t.DOUBLE
        )
    return expression


def test_call_text_of_operators_and_functions() -> None:
    column = ColumnRef(name="a", type=t.DOUBLE)
    upper = Call(function="UPPER", args=(ColumnRef(name="s", type=t.STRING),), type=t.STRING)
    cast = Call(function="CAST", args=(column,), options=(("type", t.BIGINT),), type=t.BIGINT)

    assert str(chain(3)) == "((a + a) + a)"
    assert str(upper) == "UPPER(s)"
    assert str(cast) == "CAST(a AS BIGINT)"
    assert str(Call(function="-", args=(column,), type=t.DOUBLE)) == "-(a)"
    assert str(Literal(value="it's", type=t.STRING)) == "'it''s'"


def test_call_text_renders_each_node_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = Call.__str__

    def counting(self: Call) -> str:
        nonlocal calls
        calls += 1
        return original(self)

    monkeypatch.setattr(Call, "__str__", counting)
    # Twelve terms, so that rendering each argument twice per level (2 ** 12
    # calls) fails here quickly rather than hanging.
    text = str(chain(12))

    assert calls == 11
    assert text.count("a") == 12


def test_long_operator_chain_plans() -> None:
    session = session_with({"events": pd.DataFrame({"ts": at(1, 2), "amount": [1.0, 2.0]})})
    terms = " + ".join(["amount"] * 200)

    result = query(session, f"SELECT {terms} AS total FROM events")

    assert result.to_pandas()["total"].tolist() == [200.0, 400.0]
