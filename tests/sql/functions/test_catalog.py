"""The catalog of built-in functions."""

from __future__ import annotations

from workbench.sql.functions.catalog import builtin_functions


def test_builtin_names_are_upper_case() -> None:
    for function in builtin_functions():
        assert function.name == function.name.upper()


def test_every_builtin_has_a_signature() -> None:
    missing = [function.name for function in builtin_functions() if not function.signature]
    assert missing == []


def test_builtin_names_are_unique() -> None:
    names = [function.name for function in builtin_functions()]
    assert len(names) == len(set(names))


def test_clock_functions_are_not_deterministic() -> None:
    flags = {function.name: function.deterministic for function in builtin_functions()}
    assert not flags["NOW"]
    assert not flags["RAND"]
    assert flags["UPPER"]
