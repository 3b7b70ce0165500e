"""Three-valued (Kleene) logic: AND, OR and NOT.

``FALSE AND NULL`` is FALSE, ``TRUE OR NULL`` is TRUE, and otherwise a NULL
operand makes the result NULL. A right operand that contains a CAST or a user
function is evaluated only on the rows that the left operand leaves open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from workbench.events import types as t
from workbench.events.types import DataType
from workbench.sql.functions.base import (
    Invocation,
    Options,
    ScalarFunction,
    Value,
    expect,
    expect_count,
    is_boolean,
    is_null_scalar,
    is_series,
)


def _infer_logic(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1 if name == "NOT" else 2, 1 if name == "NOT" else 1_000_000)
        for position in range(len(types)):
            expect(name, types, position, is_boolean, "a BOOLEAN condition", expected=t.BOOLEAN)
        return t.BOOLEAN

    return infer


def _as_kleene(value: Value) -> Any:
    return pd.NA if is_null_scalar(value) else value


def kleene_and(a: Value, b: Value) -> Value:
    if not is_series(a) and not is_series(b):
        if a is False or b is False:
            return False
        if is_null_scalar(a) or is_null_scalar(b):
            return None
        return True
    return _as_kleene(a) & _as_kleene(b)


def kleene_or(a: Value, b: Value) -> Value:
    if not is_series(a) and not is_series(b):
        if a is True or b is True:
            return True
        if is_null_scalar(a) or is_null_scalar(b):
            return None
        return False
    return _as_kleene(a) | _as_kleene(b)


def _logic(name: str) -> Callable[[Invocation, Any], Value]:
    """AND and OR: a guarded right side is evaluated only where the left side leaves it open."""
    stop = name == "OR"
    combine = kleene_or if stop else kleene_and

    def implementation(invocation: Invocation, _: Any) -> Value:
        evaluator = invocation.evaluator
        args = invocation.call.args
        result = evaluator.value(args[0])
        for arg in args[1:]:
            if not is_series(result) and result is stop:
                return stop
            if is_series(result) and evaluator.is_guarded(arg):
                decided = result.to_numpy(dtype=bool, na_value=not stop)
                open_rows = ~decided if stop else decided
                right = evaluator.value_where(arg, open_rows)
            else:
                right = evaluator.value(arg)
            result = combine(result, right)
        return result

    return implementation


def _not(invocation: Invocation, args: Sequence[Value]) -> Value:
    (value,) = args
    if is_series(value):
        return ~value
    return None if is_null_scalar(value) else not value


FUNCTIONS = [
    ScalarFunction("AND", _infer_logic("AND"), _logic("AND"), "boolean1 AND boolean2", lazy=True),
    ScalarFunction("OR", _infer_logic("OR"), _logic("OR"), "boolean1 OR boolean2", lazy=True),
    ScalarFunction("NOT", _infer_logic("NOT"), _not, "NOT boolean"),
]
