"""Aggregate functions: names, argument rules and result types.

The runtime implements each one as an incremental accumulator
(:mod:`workbench.runtime.accumulators`); this module only types them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workbench.events import types as t
from workbench.events.types import DataType, TypeKind

#: Spellings that mean the same aggregate.
ALIASES = {
    "STDDEV": "STDDEV_SAMP",
    "VARIANCE": "VAR_SAMP",
    "VAR": "VAR_SAMP",
    "PERCENTILE_APPROX": "APPROX_PERCENTILE",
    "STRING_AGG": "LISTAGG",
    "GROUP_CONCAT": "LISTAGG",
    "COLLECT_LIST": "ARRAY_AGG",
    "EVERY": "BOOL_AND",
    "SOME": "BOOL_OR",
}

MOMENT_FUNCTIONS = frozenset({"STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP"})

BUILTIN_AGGREGATES = frozenset(
    {
        "COUNT",
        "SUM",
        "AVG",
        "MIN",
        "MAX",
        "FIRST_VALUE",
        "LAST_VALUE",
        "LISTAGG",
        "PERCENTILE",
        "APPROX_PERCENTILE",
        "ARRAY_AGG",
        "BOOL_AND",
        "BOOL_OR",
        *MOMENT_FUNCTIONS,
    }
)


class AggregateTypeError(Exception):
    """An aggregate got arguments of the wrong type or number."""


class UserAggregate(Protocol):
    """A user-defined aggregate: one instance accumulates one group.

    ``accumulate`` receives the non-null argument values of a batch for the
    group, as lists in arrival order; ``merge`` folds another instance in
    (session windows merge groups); ``result`` returns the final value.
    """

    def accumulate(self, *values: list[Any]) -> None: ...

    def merge(self, other: Any) -> None: ...

    def result(self) -> Any: ...


@dataclass(frozen=True)
class UserAggregateDef:
    name: str
    factory: Callable[[], UserAggregate]
    result_type: DataType
    arity: int = 1


def canonical_name(name: str) -> str:
    upper = name.upper()
    return ALIASES.get(upper, upper)


def infer_aggregate_type(
    name: str, args: Sequence[DataType], constants: Sequence[Any] = ()
) -> DataType:
    """Return the result type of an aggregate over arguments of the given types."""
    function = canonical_name(name)
    if function == "COUNT":
        return t.BIGINT.with_nullable(False)
    if not args:
        raise AggregateTypeError(f"{function} needs an argument")
    arg = args[0].plain()
    if function == "SUM":
        _require_numeric(function, arg)
        if arg.is_integer:
            return t.BIGINT
        return arg if arg.kind is TypeKind.DECIMAL else t.DOUBLE
    if function == "AVG":
        _require_numeric(function, arg)
        # NOTE: Flink returns the argument's integer type for AVG over integers
        # (truncating); the workbench returns DOUBLE, the arithmetic mean.
        return t.DOUBLE
    if function in ("MIN", "MAX", "FIRST_VALUE", "LAST_VALUE"):
        if arg.is_nested:
            raise AggregateTypeError(f"{function} cannot compare {arg.kind.value} values")
        return arg.with_nullable(True)
    if function in MOMENT_FUNCTIONS:
        _require_numeric(function, arg)
        return t.DOUBLE
    if function == "LISTAGG":
        if arg.kind not in (TypeKind.VARCHAR, TypeKind.NULL):
            raise AggregateTypeError(
                f"LISTAGG needs a string argument, got {arg.sql()}; use CAST(... AS STRING)"
            )
        return t.STRING
    if function in ("PERCENTILE", "APPROX_PERCENTILE"):
        _require_numeric(function, arg)
        if not constants or not all(_is_fraction(value) for value in constants):
            raise AggregateTypeError(
                f"{function} needs a percentage between 0 and 1 as its second argument"
            )
        return t.DOUBLE
    if function == "ARRAY_AGG":
        return t.array(arg)
    if function in ("BOOL_AND", "BOOL_OR"):
        if arg.kind is not TypeKind.BOOLEAN:
            raise AggregateTypeError(f"{function} needs a BOOLEAN argument, got {arg.sql()}")
        return t.BOOLEAN
    raise AggregateTypeError(f"unknown aggregate function {name}")


def _require_numeric(function: str, arg: DataType) -> None:
    if not (arg.is_numeric or arg.kind is TypeKind.NULL):
        raise AggregateTypeError(f"{function} needs a numeric argument, got {arg.sql()}")


def _is_fraction(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0.0 <= float(value) <= 1.0
    )
